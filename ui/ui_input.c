/* ui_input: script parsing and the event source (see ui_input.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks_util.h"
#include "ui_curses.h"
#include "ui_input.h"
#include "ui_keys.h"

typedef struct script_ev {
	int key;
	int mx, my, button;
	char *directive;
} script_ev;

static script_ev *evs;
static size_t n_evs, cap_evs, pos;

static void push(int key, int mx, int my, int button, char *directive)
{
	if (n_evs == cap_evs) {
		cap_evs = cap_evs ? cap_evs * 2 : 256;
		evs = ks_xrealloc(evs, cap_evs * sizeof *evs);
	}
	evs[n_evs++] = (script_ev){key, mx, my, button, directive};
}

static const struct { const char *name; int key; } key_names[] = {
	{"Up", KEY_UP}, {"Down", KEY_DOWN}, {"Left", KEY_LEFT}, {"Right", KEY_RIGHT},
	{"PgUp", KEY_PPAGE}, {"PgDn", KEY_NPAGE}, {"Home", KEY_HOME}, {"End", KEY_END},
	{"Enter", '\r'}, {"Tab", '\t'}, {"Esc", UI_KEY_ESC}, {"BS", KEY_BACKSPACE},
	{"Del", KEY_DC}, {"Space", ' '}, {"lt", '<'},
};

/* Parses "<...>" at s (s points after '<', name ends at '>'). */
static int parse_name(const char *name, size_t len, int lineno, ks_err *err)
{
	char buf[64];
	if (len >= sizeof buf)
		return ks_fail(err, "script line %d: key name too long", lineno);
	memcpy(buf, name, len);
	buf[len] = '\0';
	if (strcmp(buf, "NoEnter") == 0)
		return 0; /* only meaningful at the end of a :line; a no-op elsewhere */
	for (size_t i = 0; i < sizeof key_names / sizeof key_names[0]; i++)
		if (strcmp(buf, key_names[i].name) == 0) {
			push(key_names[i].key, 0, 0, 0, NULL);
			return 0;
		}
	if (len == 3 && buf[0] == 'C' && buf[1] == '-') {
		push(buf[2] & 0x1f, 0, 0, 0, NULL);
		return 0;
	}
	if (buf[0] == 'F' && len > 1) {
		int n = atoi(buf + 1);
		if (n >= 1 && n <= 12) {
			push(KEY_F(n), 0, 0, 0, NULL);
			return 0;
		}
	}
	int x, y;
	if (sscanf(buf, "Click:%d,%d", &x, &y) == 2) {
		push(KEY_MOUSE, x, y, 1, NULL);
		return 0;
	}
	if (sscanf(buf, "WheelUp:%d,%d", &x, &y) == 2) {
		push(KEY_MOUSE, x, y, 4, NULL);
		return 0;
	}
	if (sscanf(buf, "WheelDown:%d,%d", &x, &y) == 2) {
		push(KEY_MOUSE, x, y, 5, NULL);
		return 0;
	}
	return ks_fail(err, "script line %d: unknown key <%s>", lineno, buf);
}

static int parse_keys(const char *s, int lineno, ks_err *err)
{
	while (*s) {
		if (*s == '<') {
			const char *end = strchr(s, '>');
			if (!end || end == s + 1)
				return ks_fail(err, "script line %d: unterminated <key>", lineno);
			if (parse_name(s + 1, (size_t)(end - s - 1), lineno, err) < 0)
				return -1;
			s = end + 1;
		} else {
			push((unsigned char)*s++, 0, 0, 0, NULL);
		}
	}
	return 0;
}

int ui_input_open_script(const char *path, ks_err *err)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return ks_fail(err, "%s: %s", path, strerror(errno));
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int lineno = 0, rc = 0;
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		if (line[0] == '@') {
			push(0, 0, 0, 0, ks_xstrdup(line + 1));
		} else if (line[0] == ':') {
			bool enter = true;
			if (ks_str_endswith(line, "<NoEnter>")) {
				line[len - 9] = '\0';
				enter = false;
			}
			if ((rc = parse_keys(line, lineno, err)) < 0)
				break;
			if (enter)
				push('\r', 0, 0, 0, NULL);
		} else if ((rc = parse_keys(line, lineno, err)) < 0) {
			break;
		}
	}
	free(line);
	fclose(f);
	if (rc < 0)
		ks_err_prefix(err, "%s", path);
	return rc;
}

void ui_input_close(void)
{
	for (size_t i = 0; i < n_evs; i++)
		free(evs[i].directive);
	free(evs);
	evs = NULL;
	n_evs = cap_evs = pos = 0;
}

int ui_input_next(ui_event *ev, int timeout_ms, bool headless)
{
	memset(ev, 0, sizeof *ev);
	if (pos < n_evs) {
		script_ev *s = &evs[pos++];
		ev->key = s->key;
		ev->mx = s->mx;
		ev->my = s->my;
		ev->button = s->button;
		ev->directive = s->directive;
		return 1;
	}
	if (headless)
		return -1;
	timeout(timeout_ms);
	int ch = getch();
	if (ch == ERR)
		return 0;
	ev->key = ch;
	if (ch == KEY_MOUSE) {
		MEVENT me;
		if (getmouse(&me) != OK)
			return 0;
		ev->mx = me.x;
		ev->my = me.y;
		if (me.bstate & BUTTON4_PRESSED)
			ev->button = 4;
		else if (me.bstate & BUTTON5_PRESSED)
			ev->button = 5;
		else if (me.bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED))
			ev->button = 1;
		else
			return 0;
	}
	return 1;
}

bool ui_input_poll_cancel(void)
{
	if (pos < n_evs) {
		if (evs[pos].key == UI_CTRL('c')) {
			pos++;
			return true;
		}
		return false;
	}
	/* Keys typed during long work other than Ctrl-C are kept for later. */
	bool cancel = false;
	int keep[64], n = 0, ch;
	nodelay(stdscr, TRUE);
	while ((ch = getch()) != ERR) {
		if (ch == UI_CTRL('c'))
			cancel = true;
		else if (n < 64 && ch != KEY_MOUSE)
			keep[n++] = ch;
	}
	nodelay(stdscr, FALSE);
	while (n > 0)
		ungetch(keep[--n]);
	return cancel;
}
