/* ui_tui: the main loop, layout and generic request handling (see ui.h). */
#include "config.h"

#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ks_loadorder.h"
#include "ks_plan.h"
#include "ks_report.h"
#include "ks_util.h"
#include "cli.h"
#include "ui.h"
#include "ui_curses.h"
#include <term.h>
#include "ui_display.h"
#include "ui_input.h"
#include "ui_prompt.h"
#include "ui_tui.h"

/* ---- messages and progress -------------------------------------------- */

void ui_msg(ui *u, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(u->msg, sizeof u->msg, fmt, ap);
	va_end(ap);
	u->msg_error = false;
}

void ui_error(ui *u, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(u->msg, sizeof u->msg, fmt, ap);
	va_end(ap);
	u->msg_error = true;
}

static char progress_label[128];
static double progress_last;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void ui_progress_begin(ui *u, const char *label)
{
	(void)u;
	snprintf(progress_label, sizeof progress_label, "%s", label);
	progress_last = 0;
}

bool ui_progress(ui *u, double fraction)
{
	(void)u;
	double t = now_s();
	if (ui_display_headless())
		return ui_input_poll_cancel();
	if (t - progress_last < 0.1)
		return false;
	progress_last = t;
	char line[256];
	if (fraction >= 0)
		snprintf(line, sizeof line, "%s %3d%%  (Ctrl-C cancels)", progress_label,
		         (int)(fraction * 100));
	else
		snprintf(line, sizeof line, "%s ...  (Ctrl-C cancels)", progress_label);
	ui_fill(LINES - 1, 0, COLS, UI_R_NORMAL);
	ui_put(LINES - 1, 0, COLS, UI_R_HEADER, line);
	refresh();
	return ui_input_poll_cancel();
}

void ui_progress_end(ui *u)
{
	(void)u;
	progress_label[0] = '\0';
}

/* ---- view stack ------------------------------------------------------- */

ui_view *ui_view_push(ui *u, const struct ui_view_ops *ops, const char *title)
{
	if (u->depth == UI_MAX_STACK) {
		ui_error(u, "too many views open: close one with q");
		return NULL;
	}
	ui_view *v = ks_xcalloc(1, sizeof *v);
	v->ops = ops;
	if (ops->private_size)
		v->priv = ks_xcalloc(1, ops->private_size);
	snprintf(v->title, sizeof v->title, "%s", title ? title : ops->name);
	u->stack[u->depth++] = v;
	return v;
}

bool ui_view_pop(ui *u)
{
	if (u->depth == 0)
		return false;
	ui_view *v = u->stack[--u->depth];
	if (v->ops->done)
		v->ops->done(v);
	ui_list_clear(&v->list);
	free(v->priv);
	free(v);
	return true;
}

ui_view *ui_view_top(ui *u)
{
	return u->depth ? u->stack[u->depth - 1] : NULL;
}

/* ---- drawing ---------------------------------------------------------- */

static void draw_view(ui *u, ui_view *v, int y, int x, int h, int w, bool focused)
{
	v->y = y;
	v->x = x;
	v->h = h;
	v->w = w;
	if (v->ops && v->ops->draw)
		v->ops->draw(u, v, y, x, h, w);
	else
		ui_list_draw(u, &v->list, y, x, h, w, focused);
}

static void draw_browser(ui *u, int y, int h)
{
	const ui_glyphs *g = ui_glyph();
	u->wide = COLS >= 100;
	if (u->wide) {
		/* The layer pane as wide as its rows, at most 55%: the rest is detail. */
		int lw = 24;
		for (int i = 0; i < u->layers.list.n; i++) {
			int rw = ui_strwidth(u->layers.list.v[i].text) + 2;
			if (rw > lw)
				lw = rw;
		}
		/* Whole rows when they fit in 55%; at least up to Params (the
		 * inbound column is the part that may be cut); 30 columns of detail. */
		int core = ui_layers_core_width(u) + 2;
		int cap = COLS * 11 / 20 > core ? COLS * 11 / 20 : core;
		if (lw > cap)
			lw = cap;
		if (lw > COLS - 30)
			lw = COLS - 30;
		draw_view(u, &u->layers, y, 0, h, lw, u->focus == 0);
		for (int r = 0; r < h; r++)
			ui_put(y + r, lw, 1, UI_R_DIM, g->sep);
		draw_view(u, &u->detail, y, lw + 1, h, COLS - lw - 1, u->focus == 1);
	} else {
		int lh = h * 3 / 5;
		if (lh < 3)
			lh = h > 3 ? 3 : h;
		draw_view(u, &u->layers, y, 0, lh, COLS, u->focus == 0);
		if (h - lh >= 2) {
			ui_fill(y + lh, 0, COLS, UI_R_DIM);
			ui_put(y + lh, 0, COLS, UI_R_DIM, "-- detail (Tab switches pane) --");
			draw_view(u, &u->detail, y + lh + 1, 0, h - lh - 1, COLS, u->focus == 1);
		}
	}
}

static void draw_overlay(ui *u, ui_view *v, int y, int h)
{
	/* Framed by two rules; as wide as the screen so that nothing below
	 * shows through at the sides. */
	int w = COLS;
	int oh = h - 2;
	int x = 0;
	int oy = y + 1;
	for (int r = 0; r < oh; r++)
		ui_fill(oy + r, x, w, UI_R_NORMAL);
	const char *bar = ui_display_utf8() ? "\u2500" : "-";
	char line[1024] = "";
	for (int i = 0; i < w && strlen(line) + 4 < sizeof line; i++)
		strcat(line, bar);
	ui_fill(oy - 1, x, w, UI_R_NORMAL);
	ui_fill(oy + oh, x, w, UI_R_NORMAL);
	ui_put(oy - 1, x, w, UI_R_DIM, line);
	ui_put(oy + oh, x, w, UI_R_DIM, line);
	draw_view(u, v, oy, x, oh, w, true);
}

static void draw_status(ui *u, int y)
{
	ui_view *top = ui_view_top(u);
	char left[512], right[64] = "";
	const ui_list *l = NULL;
	if (top) {
		snprintf(left, sizeof left, "[%s] %s", top->ops->name, top->title);
		l = &top->list;
	} else {
		const ks_model *m = NULL;
		const ks_layer *L = ui_layers_selected(u, &m);
		snprintf(left, sizeof left, "[%s] %s", u->focus ? "detail" : (u->plain ? "tree" : "layers"),
		         L ? L->name : "");
		l = u->focus ? &u->detail.list : &u->layers.list;
	}
	/* The layer pane's first row is its column header: not counted. */
	int skip = !top && u->focus == 0 && !u->plain && l && l->n > 1 ? 1 : 0;
	if (l && l->n && (!top || !top->ops->draw))
		snprintf(right, sizeof right, "%d/%d", l->sel + 1 - skip, l->n - skip);
	ui_fill(y, 0, COLS, UI_R_STATUS);
	ui_put(y, 0, COLS, UI_R_STATUS, left);
	int rw = ui_strwidth(right);
	if (rw && COLS - rw - 1 > ui_strwidth(left))
		ui_put(y, COLS - rw - 1, rw, UI_R_STATUS, right);
}

static void format_title(ui *u, const char *name, const char *params, char *title, size_t size)
{
	const ks_model *m = u->model;
	/* a recording is said first, where a narrow screen still shows it */
	char rec[300] = "";
	if (u->record)
		snprintf(rec, sizeof rec, "  [REC %s: %d]", u->record, u->n_recorded);
	if (u->plain)
		snprintf(title, size, " kerascope%s  %s  %s", rec, name,
		         m->what ? m->what : "HDF5 file (not a Keras model)");
	else
		snprintf(title, size, " kerascope%s  %s  %s%s%s%s%s  %s  %d layers  %s params", rec, name,
		         ks_format_name(m->format), m->keras_version ? "  Keras " : "",
		         m->keras_version ? m->keras_version : "", m->backend ? "/" : "",
		         m->backend ? m->backend : "", m->class_name ? m->class_name : "model",
		         m->n_layers, params);
}

/* Greedy word wrap of text into rows of at most width columns (ASCII text;
 * a word longer than a row is cut into pieces). Returns the rows used, or
 * max + 1 when the text needs more than max. */
static int wrap(const char *text, int width, char rows[][64], int max)
{
	int n = 0, len = 0;
	if (width > 63)
		width = 63;
	if (width < 1)
		return max + 1;
	rows[0][0] = '\0';
	for (const char *p = text; *p;) {
		while (*p == ' ')
			p++;
		int w = (int)strcspn(p, " ");
		if (!w)
			break;
		if (len && len + 1 + w > width) {
			if (++n >= max)
				return max + 1;
			len = 0;
			rows[n][0] = '\0';
		}
		while (w > width - len - (len ? 1 : 0)) {
			/* a word wider than a row: fill the row with its head */
			int room = width - len - (len ? 1 : 0);
			if (room > 0) {
				snprintf(rows[n] + len, 64 - (size_t)len, "%s%.*s", len ? " " : "", room, p);
				p += room;
				w -= room;
			}
			if (++n >= max)
				return max + 1;
			len = 0;
			rows[n][0] = '\0';
		}
		snprintf(rows[n] + len, 64 - (size_t)len, "%s%.*s", len ? " " : "", w, p);
		len += w + (len ? 1 : 0);
		p += w;
	}
	return n + 1;
}

/* The terminal is below the minimum: say so in whatever space there is,
 * each sentence wrapped to the width; shorter wordings when the long one
 * does not fit. */
static void draw_too_small(void)
{
	char s[3][3][96], rows[64][64];
	snprintf(s[0][0], 96, "terminal too small: %dx%d", COLS, LINES);
	snprintf(s[0][1], 96, "kerascope needs at least %dx%d", UI_MIN_COLS, UI_MIN_ROWS);
	snprintf(s[0][2], 96, "enlarge the window, or q to quit");
	snprintf(s[1][0], 96, "too small: %dx%d", COLS, LINES);
	snprintf(s[1][1], 96, "needs %dx%d", UI_MIN_COLS, UI_MIN_ROWS);
	s[1][2][0] = '\0';
	snprintf(s[2][0], 96, "too small");
	s[2][1][0] = s[2][2][0] = '\0';
	int max = LINES < 64 ? LINES : 64;
	for (int t = 0; t < 3; t++) {
		int used = 0;
		for (int k = 0; k < 3 && used <= max && s[t][k][0]; k++) {
			int n = used < max ? wrap(s[t][k], COLS, rows + used, max - used) : 1;
			used += n;
		}
		if (used > max && t < 2)
			continue;
		for (int r = 0; r < used && r < max; r++)
			ui_put(r, 0, COLS, r == 0 ? UI_R_ERROR : UI_R_NORMAL, rows[r]);
		break;
	}
	refresh();
}

static void draw(ui *u)
{
	erase();
	if (LINES < UI_MIN_ROWS || COLS < UI_MIN_COLS) {
		draw_too_small();
		return;
	}
	/* Title bar. */
	const ks_model *m = u->model;
	char title[1024], params[32];
	ks_report_count(m->total_params, params, sizeof params);
	/* The path as given, or its last component when the bar is too narrow. */
	const char *slash = strrchr(u->path, '/');
	format_title(u, u->path, params, title, sizeof title);
	if (ui_strwidth(title) > COLS && slash)
		format_title(u, slash + 1, params, title, sizeof title);
	ui_fill(0, 0, COLS, UI_R_TITLE);
	ui_put(0, 0, COLS, UI_R_TITLE, title);

	int body_y = 1, body_h = LINES - 3;
	ui_view *top = ui_view_top(u);
	/* The topmost non-overlay view, or the browser. */
	int base = u->depth - 1;
	while (base >= 0 && u->stack[base]->ops->overlay)
		base--;
	if (base >= 0)
		draw_view(u, u->stack[base], body_y, 0, body_h, COLS, true);
	else
		draw_browser(u, body_y, body_h);
	if (top && top->ops->overlay)
		draw_overlay(u, top, body_y, body_h);
	draw_status(u, LINES - 2);
	if (u->prompting && u->matches[0]) {
		ui_fill(LINES - 2, 0, COLS, UI_R_STATUS);
		ui_put(LINES - 2, 0, COLS, UI_R_STATUS, u->matches);
	}
	if (u->prompting) {
		ui_prompt_draw(u, LINES - 1, COLS);
	} else if (u->msg[0]) {
		ui_put(LINES - 1, 0, COLS, u->msg_error ? UI_R_ERROR : UI_R_NORMAL, u->msg);
	} else {
		ui_put(LINES - 1, 0, COLS, UI_R_DIM,
		       top ? "q back  ? help  : command  / search" :
		       "Enter open  Tab pane  i file  t tree  : command  / search  ? help  q quit");
	}
	refresh();
}

void ui_redraw(ui *u)
{
	draw(u);
}

/* ---- requests --------------------------------------------------------- */

static void do_search(ui *u, int dir)
{
	if (!u->search[0]) {
		ui_error(u, "no search yet: / starts one");
		return;
	}
	ui_view *top = ui_view_top(u);
	bool found;
	if (top && top->ops->search) {
		found = top->ops->search(u, top, u->search, dir);
		if (found)
			ui_msg(u, "/%s", u->search);
		return;
	}
	ui_list *l = top ? &top->list : u->focus ? &u->detail.list : &u->layers.list;
	found = ui_list_search(l, u->search, dir) >= 0;
	if (!top && u->focus == 0)
		ui_detail_build(u);
	if (found)
		ui_msg(u, "/%s", u->search);
	else
		ui_error(u, "not found: %s", u->search);
}

void ui_on_prompt_line(ui *u, int kind, const char *line)
{
	u->msg[0] = '\0';
	if (kind == '/') {
		if (*line) {
			snprintf(u->search, sizeof u->search, "%s", line);
			do_search(u, +1);
		}
		return;
	}
	ui_cmd_run(u, line);
}

static bool browser_request(ui *u, enum ui_request req)
{
	if (req == UI_REQ_SWITCH_PANE) {
		u->focus = !u->focus;
		return true;
	}
	if (u->focus == 1)
		return ui_detail_request(u, req);
	const ks_layer *before = ui_layers_selected(u, NULL);
	int before_sel = u->layers.list.sel;
	bool done = ui_layers_request(u, req);
	if (ui_layers_selected(u, NULL) != before || u->layers.list.sel != before_sel)
		ui_detail_build(u);
	return done;
}

static void handle_request(ui *u, enum ui_request req)
{
	ui_view *top = ui_view_top(u);
	switch (req) {
	case UI_REQ_QUIT_NOW: u->quit = true; return;
	case UI_REQ_HELP: ui_help_open(u); return;
	case UI_REQ_PROMPT: ui_prompt_begin(u, ':', NULL); return;
	case UI_REQ_SEARCH: ui_prompt_begin(u, '/', NULL); return;
	case UI_REQ_FIND_NEXT: do_search(u, +1); return;
	case UI_REQ_FIND_PREV: do_search(u, -1); return;
	case UI_REQ_REDRAW: clearok(curscr, TRUE); return;
	case UI_REQ_SUSPEND: ui_display_suspend(); return;
	case UI_REQ_CANCEL: u->msg[0] = '\0'; return;
	case UI_REQ_FILE_VIEW: ui_cmd_run(u, "info"); return;
	case UI_REQ_TREE_VIEW: ui_tree_open(u); return;
	case UI_REQ_DOCTOR_VIEW: ui_doctor_open(u); return;
	case UI_REQ_SLICE: ui_prompt_begin(u, ':', "slice "); return;
	case UI_REQ_JUMP: ui_prompt_begin(u, ':', "goto "); return;
	case UI_REQ_RANGE: ui_prompt_begin(u, ':', "highlight "); return;
	case UI_REQ_EXPORT: ui_prompt_begin(u, ':', "export "); return;
	case UI_REQ_PREDICT: ui_prompt_begin(u, ':', "predict "); return;
	default: break;
	}
	bool done;
	if (top)
		done = top->ops->request ? top->ops->request(u, top, req) : ui_list_request(&top->list, req);
	else
		done = browser_request(u, req);
	if (done)
		return;
	if (req == UI_REQ_QUIT || req == UI_REQ_BACK) {
		if (top)
			ui_view_pop(u);
		else if (req == UI_REQ_QUIT)
			u->quit = true;
		else if (u->focus == 1)
			u->focus = 0;
	}
}

static ui_view *view_at(ui *u, int x, int y, ui_list **list, int *pane)
{
	ui_view *top = ui_view_top(u);
	*pane = -1;
	ui_view *cands[2];
	int n = 0;
	if (top) {
		cands[n++] = top;
	} else {
		cands[n++] = &u->layers;
		cands[n++] = &u->detail;
	}
	for (int i = 0; i < n; i++) {
		ui_view *v = cands[i];
		if (x >= v->x && x < v->x + v->w && y >= v->y && y < v->y + v->h) {
			*list = &v->list;
			*pane = top ? -1 : i;
			return v;
		}
	}
	return NULL;
}

static void handle_mouse(ui *u, const ui_event *ev)
{
	ui_list *l = NULL;
	int pane;
	ui_view *v = view_at(u, ev->mx, ev->my, &l, &pane);
	if (!v)
		return;
	if (pane >= 0)
		u->focus = pane;
	if (ev->button == 4 || ev->button == 5) {
		enum ui_request r = ev->button == 4 ? UI_REQ_MOVE_UP : UI_REQ_MOVE_DOWN;
		for (int i = 0; i < 3; i++)
			handle_request(u, r);
		return;
	}
	if (v->ops && v->ops->draw)
		return; /* the tensor view has no rows to click */
	int i = ui_list_line_at(l, ev->my - v->y);
	if (i < 0)
		return;
	if (pane == 0 && !u->plain && i == 0)
		return; /* header row */
	ui_list_select(l, i);
	if (pane == 0)
		ui_detail_build(u);
}

static void handle_key(ui *u, const ui_event *ev)
{
	int key = ev->key;
	if (key == KEY_RESIZE) {
		ui_prompt_resize(LINES, COLS);
		return;
	}
	if (LINES < UI_MIN_ROWS || COLS < UI_MIN_COLS) {
		/* Only quitting makes sense until the terminal grows again. */
		if (key == 'q' || key == 'Q')
			u->quit = true;
		return;
	}
	if (u->prompting) {
		if (key == UI_KEY_ESC) {
			/* A lone Esc leaves; Esc + key is readline's Meta prefix. */
			int next = ERR;
			if (!ui_display_headless()) {
				nodelay(stdscr, TRUE);
				next = getch();
				nodelay(stdscr, FALSE);
			}
			if (next == ERR) {
				ui_prompt_cancel(u);
				return;
			}
			ui_prompt_key(u, key);
			ui_prompt_key(u, next);
			return;
		}
		if (key == UI_CTRL('c')) {
			ui_prompt_cancel(u);
			return;
		}
		if (key == UI_CTRL('z')) {
			ui_display_suspend();
			return;
		}
		if (key == KEY_MOUSE)
			return;
		ui_prompt_key(u, key);
		return;
	}
	if (key == KEY_MOUSE) {
		handle_mouse(u, ev);
		return;
	}
	enum ui_request req = ui_key_request(key);
	if (req == UI_REQ_NONE) {
		ui_error(u, "key %s does nothing here (? shows the keys)", ui_key_label(key));
		return;
	}
	if (req != UI_REQ_FIND_NEXT && req != UI_REQ_FIND_PREV)
		u->msg[0] = '\0';
	handle_request(u, req);
}

static void run_directive(ui *u, const char *d, int *status)
{
	ks_err err;
	int cols, rows;
	if (ks_str_startswith(d, "save-display ")) {
		draw(u);
		if (ui_display_save(d + 13, &err) < 0) {
			cli_fail("script: %s", err.msg);
			*status = 2;
		}
	} else if (sscanf(d, "resize %dx%d", &cols, &rows) == 2) {
		ui_display_resize(rows, cols);
		ui_prompt_resize(rows, cols);
	} else {
		cli_fail("script: unknown directive '@%s'", d);
		*status = 2;
	}
}

/* ---- entry ------------------------------------------------------------ */

bool ui_tui_wanted(void)
{
	const char *s = getenv("KERASCOPE_SCRIPT");
	if (s && *s)
		return true;
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return false;
	/* A terminal that cannot move the cursor (TERM=dumb, unknown) cannot
	 * show the inspector: the summary is printed instead, with a note. */
	int err = 0;
	const char *term = getenv("TERM");
	bool ok = term && *term && setupterm(NULL, STDOUT_FILENO, &err) == OK;
	if (ok) {
		const char *cup = tigetstr("cup");
		ok = cup && cup != (char *)-1;
		del_curterm(cur_term);
	}
	if (!ok)
		fprintf(stderr, "kerascope: the terminal (TERM=%s) cannot show the inspector; "
		        "printing the summary\n", term && *term ? term : "unset");
	return ok;
}

/* What a model's views are built from: the layer shapes. */
static void model_views(ui *u)
{
	ks_model *m = u->model;
	u->plain = m->format == KS_FMT_PLAIN_H5;
	free(u->shapes);
	u->shapes = NULL;
	if (!u->plain && m->n_layers > 0) {
		u->shapes = ks_xcalloc((size_t)m->n_layers, sizeof *u->shapes);
		ks_infer_layer_shapes(m, u->shapes);
	}
}

static void clear_panes(ui *u)
{
	if (u->plain)
		ui_tree_clear(&u->layers.list); /* its rows own their HDF5 paths */
	else
		ui_list_clear(&u->layers.list);
	ui_list_clear(&u->detail.list);
	ui_layers_free(u);
}

int ui_reopen(ui *u, const char *config_path, ks_err *err)
{
	ks_open_opts oo = {.config_path = config_path, .load_order = u->load_order};
	ks_model *m = ks_model_open(u->path, &oo, err);
	if (!m)
		return -1;
	while (ui_view_pop(u))
		;
	clear_panes(u);
	ui_acts_free(u->acts);
	u->acts = NULL;
	ks_model_free(u->model);
	u->model = m;
	free(u->config_path);
	u->config_path = config_path ? ks_xstrdup(config_path) : NULL;
	model_views(u);
	u->focus = 0;
	ui_layers_build(u);
	ui_detail_build(u);
	return 0;
}

int ui_tui_run(const char *path, const ks_open_opts *opts)
{
	return ui_tui_run_with(path, opts, NULL);
}

int ui_tui_run_with(const char *path, const ks_open_opts *opts, const char *first)
{
	static const ks_open_opts none = {0};
	setlocale(LC_ALL, "");
	ks_quiet_hdf5();
	const char *script = getenv("KERASCOPE_SCRIPT");
	const char *nd = getenv("KERASCOPE_NO_DISPLAY");
	bool headless = (nd && *nd) ||
	                (script && *script && !(isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)));
	ks_err err;
	ks_err_clear(&err);
	if (!opts)
		opts = &none;
	ks_model *m = ks_model_open(path, opts, &err);
	if (!m) {
		cli_fail("%s", err.msg);
		return 2;
	}
	if (script && *script && ui_input_open_script(script, &err) < 0) {
		cli_fail("%s", err.msg);
		ks_model_free(m);
		return 2;
	}
	ui *u = ks_xcalloc(1, sizeof *u);
	u->model = m;
	u->path = path;
	u->config_path = opts->config_path ? ks_xstrdup(opts->config_path) : NULL;
	u->load_order = opts->load_order;
	model_views(u);
	if (ui_display_init(headless, &err) < 0) {
		cli_fail("%s", err.msg);
		ui_input_close();
		ks_model_free(m);
		free(u->shapes);
		free(u->config_path);
		free(u);
		return 2;
	}
	{
		/* What the command line says on stderr goes to the message line. */
		char *note = ks_loadmap_note(m->loadmap, path);
		if (note)
			ui_msg(u, "%s", note);
		free(note);
	}
	ui_prompt_init(u);
	ui_layers_build(u);
	ui_detail_build(u);
	if (first)
		ui_cmd_run(u, first);
	int status = 0;
	bool dirty = true;
	while (!u->quit) {
		/* Idle timeouts only poll for SIGTERM/SIGHUP: nothing to redraw. */
		if (dirty)
			draw(u);
		if (ui_display_terminated())
			break;
		ui_event ev;
		int r = ui_input_next(&ev, 250, headless);
		if (r < 0)
			break;
		dirty = r > 0;
		if (r == 0)
			continue;
		if (ev.directive)
			run_directive(u, ev.directive, &status);
		else
			handle_key(u, &ev);
	}
	if (u->prompting)
		ui_prompt_cancel(u);
	while (ui_view_pop(u))
		;
	ui_prompt_done();
	ui_display_done();
	ui_input_close();
	clear_panes(u);
	ui_marks_free(u);
	ui_acts_free(u->acts);
	free(u->record);
	free(u->shapes);
	free(u->config_path);
	ks_model_free(u->model); /* :config may have replaced m */
	free(u);
	return status;
}
