/* ui_prompt: readline's callback interface in the last screen line. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "cli.h"
#include "ks_util.h"
#include "ui_curses.h"
#include "ui_display.h"
#include "ui_prompt.h"

#define HISTORY_MAX 1000

static ui *cur;
static int pending;           /* the byte readline reads next */
static int avail;
static bool installed;
static FILE *sink;
static char hist_path[PATH_MAX];
static char prompt_str[4];

static int prompt_getc(FILE *f)
{
	(void)f;
	avail = 0;
	return pending;
}

static int prompt_avail(void)
{
	return avail;
}

static void prompt_redisplay(void)
{
	if (!cur || !cur->prompting)
		return;
	ui_prompt_draw(cur, LINES - 1, COLS);
	refresh();
}

static void on_line(char *line)
{
	ui *u = cur;
	int kind = u->prompt_kind;
	if (!line) {
		/* Ctrl-D on an empty line. */
		ui_prompt_cancel(u);
		return;
	}
	/* Completion leaves a trailing space: history keeps the command only. */
	size_t n = strlen(line);
	while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		line[--n] = '\0';
	if (*line) {
		HIST_ENTRY *last = history_length > 0 ? history_get(history_base + history_length - 1)
		                                      : NULL;
		if (!last || strcmp(last->line, line) != 0)
			add_history(line);
	}
	ui_prompt_cancel(u);
	ui_on_prompt_line(u, kind, line);
	free(line);
}

/* ---- completion ------------------------------------------------------- */

static char **cands;
static int n_cands, cap_cands;

static void cand_clear(void)
{
	for (int i = 0; i < n_cands; i++)
		free(cands[i]);
	n_cands = 0;
}

static void cand_add(const char *s)
{
	if (n_cands == cap_cands) {
		cap_cands = cap_cands ? cap_cands * 2 : 64;
		cands = ks_xrealloc(cands, (size_t)cap_cands * sizeof *cands);
	}
	cands[n_cands++] = ks_xstrdup(s);
}

static char *cand_gen(const char *text, int state)
{
	static int i;
	static size_t len;
	if (!state) {
		i = 0;
		len = strlen(text);
	}
	while (i < n_cands) {
		const char *c = cands[i++];
		if (strncmp(c, text, len) == 0)
			return strdup(c);
	}
	return NULL;
}

static void add_layers(const ks_model *m, const char *prefix, bool weights)
{
	for (int i = 0; i < m->n_layers; i++) {
		const ks_layer *L = &m->layers[i];
		char path[512];
		snprintf(path, sizeof path, "%s%s", prefix, L->name);
		if (!weights)
			cand_add(path);
		for (int k = 0; weights && k < L->n_weights; k++) {
			char w[640];
			snprintf(w, sizeof w, "%s/%s", path, L->weights[k].name);
			cand_add(w);
		}
		if (L->inner) {
			char sub[520];
			snprintf(sub, sizeof sub, "%s/", path);
			add_layers(L->inner, sub, weights);
		}
	}
}

/* Options offered after a dash, per command-line subcommand: these, plus
 * every --option its synopsis line (cli_commands) mentions, so that new
 * subcommands and options complete without a change here. */
static const struct { const char *cmd, *opts; } cmd_opts[] = {
	{"summary", "--json --config --help"},
	{"ls", "--json --h5 --config --help"},
	{"attrs", "--json --config --help"},
	{"dump", "--slice --all --max --bins --stats --json --config --help"},
	{"predict", "--input --random --zeros --batch --output --trace --save-activations "
	            "--until --top --labels --repeat --threads --config --json --help"},
};

static bool cand_has(const char *s)
{
	for (int i = 0; i < n_cands; i++)
		if (strcmp(cands[i], s) == 0)
			return true;
	return false;
}

static void add_synopsis_options(const char *cmd)
{
	for (const cli_command *c = cli_commands; c->name; c++) {
		if (strcmp(c->name, cmd) != 0 || !c->synopsis)
			continue;
		for (const char *p = strstr(c->synopsis, "--"); p; p = strstr(p + 2, "--")) {
			size_t n = 2;
			while (p[n] && (isalnum((unsigned char)p[n]) || p[n] == '-'))
				n++;
			char opt[64];
			if (n > 2 && n < sizeof opt) {
				snprintf(opt, sizeof opt, "%.*s", (int)n, p);
				if (!cand_has(opt))
					cand_add(opt);
			}
		}
	}
}

static char **complete(const char *text, int start, int end)
{
	(void)end;
	rl_attempted_completion_over = 1;
	if (!cur || cur->prompt_kind != ':')
		return NULL;
	/* Which word is being completed, and the command word. */
	char cmd[64] = "";
	int word = 0;
	const char *p = rl_line_buffer;
	while (*p == ' ')
		p++;
	const char *cmd_start = p;
	while (*p && *p != ' ')
		p++;
	snprintf(cmd, sizeof cmd, "%.*s", (int)(p - cmd_start), cmd_start);
	for (int i = 0; i < start; i++)
		if (rl_line_buffer[i] != ' ' && (i == 0 || rl_line_buffer[i - 1] == ' '))
			word++;
	cand_clear();
	if (word == 0) {
		for (const ui_cmd_info *c = ui_cmd_table; c->name; c++)
			cand_add(c->name);
		return rl_completion_matches(text, cand_gen);
	}
	if (text[0] == '-') {
		for (size_t i = 0; i < sizeof cmd_opts / sizeof cmd_opts[0]; i++)
			if (strcmp(cmd_opts[i].cmd, cmd) == 0) {
				char buf[512];
				snprintf(buf, sizeof buf, "%s", cmd_opts[i].opts);
				for (char *t = strtok(buf, " "); t; t = strtok(NULL, " "))
					cand_add(t);
			}
		add_synopsis_options(cmd);
		return rl_completion_matches(text, cand_gen);
	}
	const ks_model *m = cur->model;
	if (m && !cur->plain && strcmp(cmd, "open") == 0) {
		add_layers(m, "", false);
		return rl_completion_matches(text, cand_gen);
	}
	if (m && !cur->plain && (strcmp(cmd, "show") == 0 || strcmp(cmd, "dump") == 0)) {
		add_layers(m, "", true);
		if (strcmp(cmd, "show") == 0 && ui_acts_have(cur))
			add_layers(m, "", false);
		return rl_completion_matches(text, cand_gen);
	}
	if (strcmp(cmd, "diff") == 0 && word == 1) {
		/* off, or the other file */
		cand_add("off");
		char *f;
		for (int st = 0; (f = rl_filename_completion_function(text, st)); st++) {
			cand_add(f);
			free(f);
		}
		rl_filename_completion_desired = 1;
		return rl_completion_matches(text, cand_gen);
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "quit") == 0 || strcmp(cmd, "info") == 0 ||
	    strcmp(cmd, "tree") == 0)
		return NULL;
	/* Everything else takes files. */
	rl_attempted_completion_over = 0;
	rl_filename_completion_desired = 1;
	return rl_completion_matches(text, rl_filename_completion_function);
}

static void show_matches(char **matches, int num, int max_len)
{
	(void)max_len;
	char buf[1024] = "";
	size_t len = 0;
	for (int i = 1; i <= num && len + 4 < sizeof buf; i++) {
		int k = snprintf(buf + len, sizeof buf - len, "%s%s", i > 1 ? "  " : "", matches[i]);
		if (k < 0)
			break;
		len += (size_t)k;
		if (len >= sizeof buf)
			len = sizeof buf - 1;
	}
	snprintf(cur->matches, sizeof cur->matches, "%s", buf);
	ui_redraw(cur);
}

/* ---- set-up ----------------------------------------------------------- */

static void history_file(void)
{
	const char *x = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	char dir[PATH_MAX];
	if (x && *x)
		snprintf(dir, sizeof dir, "%s/kerascope", x);
	else if (home && *home)
		snprintf(dir, sizeof dir, "%s/.local/share/kerascope", home);
	else
		return;
	/* mkdir -p, quietly: no history is not an error. */
	for (char *s = dir + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			mkdir(dir, 0700);
			*s = '/';
		}
	mkdir(dir, 0700);
	snprintf(hist_path, sizeof hist_path, "%s/history", dir);
}

void ui_prompt_init(ui *u)
{
	cur = u;
	sink = fopen("/dev/null", "w+");
	rl_readline_name = "kerascope";
	rl_catch_signals = 0;
	rl_catch_sigwinch = 0;
	rl_change_environment = 0;
	rl_prep_term_function = NULL;
	rl_deprep_term_function = NULL;
	rl_getc_function = prompt_getc;
	rl_input_available_hook = prompt_avail;
	rl_redisplay_function = prompt_redisplay;
	rl_attempted_completion_function = complete;
	rl_completion_display_matches_hook = show_matches;
	rl_instream = sink;
	rl_outstream = sink;
	rl_variable_bind("bell-style", "none");
	rl_variable_bind("show-all-if-ambiguous", "on");
	rl_variable_bind("enable-bracketed-paste", "off");
	rl_initialize();
	rl_set_screen_size(LINES, COLS);
	using_history();
	stifle_history(HISTORY_MAX);
	history_file();
	if (hist_path[0])
		read_history(hist_path);
}

/* Keeps the last occurrence of each line, in order. */
static void dedupe_history(void)
{
	for (int i = history_length - 1; i >= 0; i--) {
		HIST_ENTRY *e = history_get(history_base + i);
		if (!e)
			continue;
		for (int j = i - 1; j >= 0; j--) {
			HIST_ENTRY *o = history_get(history_base + j);
			if (o && strcmp(o->line, e->line) == 0) {
				HIST_ENTRY *r = remove_history(j);
				if (r)
					free_history_entry(r);
				i--;
			}
		}
	}
}

void ui_prompt_done(void)
{
	if (installed)
		rl_callback_handler_remove();
	installed = false;
	if (hist_path[0]) {
		dedupe_history();
		write_history(hist_path);
	}
	cand_clear();
	free(cands);
	cands = NULL;
	cap_cands = 0;
	if (sink)
		fclose(sink);
	sink = NULL;
	rl_instream = rl_outstream = NULL;
	cur = NULL;
}

void ui_prompt_begin(ui *u, int kind, const char *prefill)
{
	cur = u;
	u->prompting = true;
	u->matches[0] = '\0';
	u->prompt_kind = kind;
	prompt_str[0] = (char)kind;
	prompt_str[1] = '\0';
	curs_set(1);
	rl_callback_handler_install(prompt_str, on_line);
	installed = true;
	if (prefill && *prefill) {
		rl_insert_text(prefill);
		rl_point = rl_end;
	}
	prompt_redisplay();
}

void ui_prompt_cancel(ui *u)
{
	if (installed) {
		rl_callback_sigcleanup();
		rl_replace_line("", 0);
		rl_point = rl_end = 0;
		rl_callback_handler_remove();
		installed = false;
	}
	u->prompting = false;
	u->matches[0] = '\0';
	curs_set(0);
}

void ui_prompt_key(ui *u, int key)
{
	char seq[8];
	size_t n = ui_key_translate(key, seq, sizeof seq);
	for (size_t i = 0; i < n && u->prompting && installed; i++) {
		pending = (unsigned char)seq[i];
		avail = 1;
		rl_callback_read_char();
	}
}

void ui_prompt_draw(ui *u, int y, int w)
{
	const char *pr = rl_display_prompt ? rl_display_prompt : prompt_str;
	const char *line = rl_line_buffer ? rl_line_buffer : "";
	int pw = ui_strwidth(pr);
	/* Width of the text before the cursor (rl_point is a byte offset). */
	char *before = ks_xstrndup(line, (size_t)(rl_point >= 0 ? rl_point : 0));
	int cw = ui_strwidth(before);
	free(before);
	ui_fill(y, 0, w, UI_R_NORMAL);
	int x = ui_put(y, 0, w, UI_R_NORMAL, pr);
	/* Scroll horizontally so that the cursor stays visible. */
	const char *shown = line;
	int room = w - pw - 1;
	if (room < 1)
		room = 1;
	while (cw >= room && *shown) {
		int before_w = ui_strwidth(shown);
		shown++;
		while ((*shown & 0xc0) == 0x80)
			shown++;
		cw -= before_w - ui_strwidth(shown);
	}
	ui_put(y, x, w - x, UI_R_NORMAL, shown);
	(void)u;
	move(y, pw + cw < w ? pw + cw : w - 1);
}

void ui_prompt_resize(int rows, int cols)
{
	rl_set_screen_size(rows, cols);
	if (cur && cur->prompting)
		rl_forced_update_display();
}
