/* ui_display: curses ownership. See ui_display.h for the rules it keeps. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include "ui.h"
#include "ui_curses.h"
#include "ks_esc.h"
#include "ui_display.h"

static SCREEN *screen;
static FILE *scr_out, *scr_in;
static bool headless, utf8, color, active;
static int saved_stderr = -1;
static FILE *captured;               /* stderr while curses runs */
static volatile sig_atomic_t terminated;

static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
static struct sigaction old_fatal[sizeof fatal_signals / sizeof fatal_signals[0]];
static struct sigaction old_term, old_hup;

static const ui_glyphs glyphs_utf8 = {
	"\u251c\u2500 ", "\u2514\u2500 ", "\u2502  ", "   ", "\u2502",
	{" ", "\u2591", "\u2592", "\u2593", "\u2588"}, "\u2588", "\u25be", "\u25b8", "\u2190",
};
static const ui_glyphs glyphs_ascii = {
	"|- ", "`- ", "|  ", "   ", "|", {" ", ".", ":", "*", "#"}, "#", "-", "+", "<-",
};

const ui_glyphs *ui_glyph(void)
{
	return utf8 ? &glyphs_utf8 : &glyphs_ascii;
}

bool ui_display_headless(void) { return headless; }
bool ui_display_utf8(void) { return utf8; }
bool ui_display_color(void) { return color; }
bool ui_display_terminated(void) { return terminated != 0; }

static void restore_stderr(void)
{
	if (saved_stderr < 0)
		return;
	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	saved_stderr = -1;
}

/* Fatal signal: the terminal first, then the default action (core dump). */
static void on_fatal(int sig)
{
	if (active && !isendwin())
		endwin();
	restore_stderr();
	static const char msg[] = "kerascope: fatal signal; terminal restored\n";
	if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0) {
		/* nothing more can be done */
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void on_term(int sig)
{
	(void)sig;
	terminated = 1;
}

static void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_fatal;
	sa.sa_flags = SA_RESETHAND;
	for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++)
		sigaction(fatal_signals[i], &sa, &old_fatal[i]);
	sa.sa_handler = on_term;
	sa.sa_flags = 0;
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
}

static void restore_signals(void)
{
	for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++)
		sigaction(fatal_signals[i], &old_fatal[i], NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
}

static void capture_stderr(void)
{
	fflush(stderr);
	captured = tmpfile();
	if (!captured)
		return;
	saved_stderr = dup(STDERR_FILENO);
	if (saved_stderr < 0 || dup2(fileno(captured), STDERR_FILENO) < 0) {
		if (saved_stderr >= 0)
			close(saved_stderr);
		saved_stderr = -1;
		fclose(captured);
		captured = NULL;
	}
}

static void replay_stderr(void)
{
	restore_stderr();
	if (!captured)
		return;
	long n = ftell(captured);
	if (n > 0) {
		char buf[4096];
		size_t k;
		rewind(captured);
		fputs(">>>>>>>>>> stderr output >>>>>>>>>>\n", stderr);
		while ((k = fread(buf, 1, sizeof buf, captured)) > 0)
			fwrite(buf, 1, k, stderr);
		fputs("<<<<<<<<<< stderr output <<<<<<<<<<\n", stderr);
	}
	fclose(captured);
	captured = NULL;
}

static void init_colors(void)
{
	/* no-color.org: NO_COLOR present and not empty disables colour. */
	const char *term = getenv("TERM"), *nc = getenv("NO_COLOR");
	color = !(nc && *nc) && has_colors() && !(term && strcmp(term, "dumb") == 0);
	if (!color || start_color() == ERR) {
		color = false;
		return;
	}
	use_default_colors();
	init_pair(1, COLOR_BLACK, COLOR_CYAN);   /* title / status */
	init_pair(2, COLOR_YELLOW, -1);          /* headers */
	init_pair(3, COLOR_RED, -1);             /* errors */
	init_pair(4, COLOR_CYAN, -1);            /* class names */
	init_pair(5, COLOR_BLACK, COLOR_YELLOW); /* matches */
	init_pair(6, COLOR_GREEN, -1);           /* numbers */
	static const short heat[UI_HEAT_LEVELS] = {COLOR_BLUE, COLOR_BLUE, COLOR_CYAN, COLOR_GREEN,
	                                           COLOR_YELLOW, COLOR_YELLOW, COLOR_RED, COLOR_RED};
	for (int i = 0; i < UI_HEAT_LEVELS; i++)
		init_pair((short)(10 + i), COLOR_BLACK, heat[i]);
}

int ui_attr(int role)
{
	if (role >= UI_R_HEAT0 && role < UI_R_HEAT0 + UI_HEAT_LEVELS) {
		int lvl = role - UI_R_HEAT0;
		return color ? (int)COLOR_PAIR(10 + lvl) | ((lvl % 2) ? A_BOLD : 0) : 0;
	}
	switch (role) {
	case UI_R_TITLE:
	case UI_R_STATUS: return color ? (int)COLOR_PAIR(1) : A_REVERSE;
	case UI_R_HEADER: return A_BOLD | (color ? (int)COLOR_PAIR(2) : 0);
	case UI_R_DIM: return A_DIM;
	case UI_R_CURSOR: return A_REVERSE;
	case UI_R_CURSOR_UNFOCUSED: return A_UNDERLINE;
	case UI_R_ERROR: return A_BOLD | (color ? (int)COLOR_PAIR(3) : 0);
	case UI_R_MATCH: return color ? (int)COLOR_PAIR(5) : A_BOLD | A_UNDERLINE;
	case UI_R_CLASS: return color ? (int)COLOR_PAIR(4) : 0;
	case UI_R_NUMBER: return color ? (int)COLOR_PAIR(6) : 0;
	default: return A_NORMAL;
	}
}

int ui_display_init(bool want_headless, ks_err *err)
{
	const char *lang = nl_langinfo(CODESET);
	utf8 = lang && strcmp(lang, "UTF-8") == 0;
	headless = want_headless;
	if (headless) {
		scr_out = fopen("/dev/null", "w");
		scr_in = fopen("/dev/null", "r");
	} else {
		int fd = dup(STDOUT_FILENO);
		scr_out = fd >= 0 ? fdopen(fd, "w") : NULL;
		scr_in = stdin;
	}
	if (!scr_out || !scr_in)
		return ks_fail(err, "cannot set up the terminal: %s", strerror(errno));
	const char *term = getenv("TERM");
	if (!term || !*term)
		term = headless ? "dumb" : "vt100";
	screen = newterm(term, scr_out, scr_in);
	if (!screen && headless)
		screen = newterm("dumb", scr_out, scr_in);
	if (!screen) {
		fclose(scr_out);
		if (headless)
			fclose(scr_in);
		scr_out = scr_in = NULL;
		return ks_fail(err, "cannot use terminal type '%s'", term);
	}
	set_term(screen);
	active = true;
	capture_stderr();
	install_signals();
	raw();
	noecho();
	nonl();
	intrflush(stdscr, FALSE);
	keypad(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	init_colors();
	if (!headless) {
		mousemask(BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
		mouseinterval(0);
	}
	return 0;
}

void ui_display_done(void)
{
	if (!active)
		return;
	if (!isendwin()) {
		curs_set(1);
		endwin();
	}
	delscreen(screen);
	screen = NULL;
	if (scr_out)
		fclose(scr_out);
	if (headless && scr_in)
		fclose(scr_in);
	scr_out = scr_in = NULL;
	active = false;
	restore_signals();
	replay_stderr();
}

/* Decodes one character: its byte length, display width and whether it can
 * be drawn as is. */
/* One character of s as drawn: its byte length, its width, and whether it is
 * drawn as it is (*ok) or replaced by *shown: the escape of ks_esc.h for a
 * control or hidden byte, '?' for what the locale cannot show. */
static size_t next_char(const char *s, mbstate_t *st, int *width, bool *ok, const char **shown,
                        char esc[5])
{
	unsigned char c = (unsigned char)*s;
	int keep = ks_esc_keep(s);

	*ok = false;
	*shown = "?";
	*width = 1;
	if (!keep) {
		*shown = ks_esc_byte(c, esc);
		*width = (int)strlen(*shown);
		memset(st, 0, sizeof *st);
		return 1;
	}
	if (c < 0x80) {
		*ok = true;
		return 1;
	}
	if (!utf8)
		return 1;
	wchar_t wc;
	size_t k = mbrtowc(&wc, s, MB_CUR_MAX, st);
	if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
		memset(st, 0, sizeof *st);
		return 1;
	}
	int wd = wcwidth(wc);
	*ok = wd >= 0;
	*width = wd >= 0 ? wd : 1;
	return k;
}

int ui_strwidth(const char *s)
{
	mbstate_t st;
	memset(&st, 0, sizeof st);
	int w = 0, cw;
	bool ok;
	const char *shown;
	char esc[5];
	while (*s) {
		s += next_char(s, &st, &cw, &ok, &shown, esc);
		w += cw;
	}
	return w;
}

size_t ui_strfit(const char *s, int w)
{
	mbstate_t st;
	memset(&st, 0, sizeof st);
	const char *p = s;
	int used = 0, cw;
	bool ok;
	const char *shown;
	char esc[5];
	while (*p) {
		size_t k = next_char(p, &st, &cw, &ok, &shown, esc);
		if (used + cw > w)
			break;
		used += cw;
		p += k;
	}
	return (size_t)(p - s);
}

int ui_put(int y, int x, int w, int role, const char *s)
{
	if (w <= 0 || y < 0 || y >= LINES || x >= COLS)
		return 0;
	if (x + w > COLS)
		w = COLS - x;
	mbstate_t st;
	memset(&st, 0, sizeof st);
	char buf[1024];
	size_t n = 0;
	int used = 0, cw;
	bool ok;
	const char *shown;
	char esc[5];
	attr_t a = (attr_t)ui_attr(role);
	move(y, x);
	attrset(a);
	while (*s && used < w) {
		size_t k = next_char(s, &st, &cw, &ok, &shown, esc);
		if (used + cw > w)
			break;
		if (n + k + 5 >= sizeof buf) {
			addnstr(buf, (int)n);
			n = 0;
		}
		if (ok) {
			memcpy(buf + n, s, k);
			n += k;
		} else {
			memcpy(buf + n, shown, strlen(shown));
			n += strlen(shown);
		}
		used += cw;
		s += k;
	}
	if (n)
		addnstr(buf, (int)n);
	attrset(A_NORMAL);
	return used;
}

void ui_fill(int y, int x, int w, int role)
{
	if (y < 0 || y >= LINES || x >= COLS || w <= 0)
		return;
	if (x + w > COLS)
		w = COLS - x;
	attrset((attr_t)ui_attr(role));
	mvhline(y, x, ' ', w);
	attrset(A_NORMAL);
}

int ui_display_save(const char *path, ks_err *err)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return ks_fail(err, "%s: %s", path, strerror(errno));
	wchar_t *wbuf = calloc((size_t)COLS + 1, sizeof *wbuf);
	char *line = malloc(((size_t)COLS + 1) * MB_LEN_MAX + 1);
	if (!wbuf || !line) {
		free(wbuf);
		free(line);
		fclose(f);
		return ks_fail(err, "out of memory");
	}
	for (int y = 0; y < LINES; y++) {
		int n = mvinnwstr(y, 0, wbuf, COLS);
		size_t len = 0;
		mbstate_t st;
		memset(&st, 0, sizeof st);
		for (int i = 0; i < n && wbuf[i]; i++) {
			size_t k = wcrtomb(line + len, wbuf[i], &st);
			if (k == (size_t)-1) {
				line[len++] = '?';
				memset(&st, 0, sizeof st);
			} else {
				len += k;
			}
		}
		while (len > 0 && line[len - 1] == ' ')
			len--;
		line[len] = '\0';
		fprintf(f, "%s\n", line);
	}
	free(wbuf);
	free(line);
	if (fclose(f) != 0)
		return ks_fail(err, "%s: %s", path, strerror(errno));
	return 0;
}

void ui_display_suspend(void)
{
	if (headless)
		return;
	endwin();
	restore_stderr();
	signal(SIGTSTP, SIG_DFL);
	raise(SIGTSTP);
	/* Resumed (SIGCONT): take the terminal back. */
	if (captured) {
		fflush(stderr);
		saved_stderr = dup(STDERR_FILENO);
		if (saved_stderr >= 0)
			dup2(fileno(captured), STDERR_FILENO);
	}
	reset_prog_mode();
	refresh();
	clear();
}

void ui_display_resize(int rows, int cols)
{
	if (rows > 0 && cols > 0)
		resizeterm(rows, cols);
}
