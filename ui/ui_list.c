/* ui_list: scrollable lists of text lines with a selection, shared by every
 * list-shaped view. Rows with tag 0 are text; the selection may rest on any
 * row so that long text can be scrolled line by line. */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks_util.h"
#include "ui.h"
#include "ui_display.h"

void ui_list_clear(ui_list *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->v[i].text);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
	l->sel = l->top = l->left = 0;
}

static void add(ui_list *l, int role, int tag, int idx, const void *ptr, char *text)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = ks_xrealloc(l->v, (size_t)l->cap * sizeof *l->v);
	}
	l->v[l->n++] = (ui_line){text, role, tag, idx, ptr, 0};
}

void ui_list_add(ui_list *l, int role, int tag, int idx, const void *ptr, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *text = NULL;
	if (vasprintf(&text, fmt, ap) < 0)
		text = ks_xstrdup("?");
	va_end(ap);
	add(l, role, tag, idx, ptr, text);
}

void ui_list_add_text(ui_list *l, int role, const char *text)
{
	const char *p = text;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char *s = ks_xstrndup(p, n);
		/* Tabs would confuse the width arithmetic: expand them. */
		if (strchr(s, '\t')) {
			size_t cap = n * 8 + 1, k = 0;
			char *t = ks_xmalloc(cap);
			for (char *q = s; *q; q++) {
				if (*q == '\t') {
					do
						t[k++] = ' ';
					while (k % 8);
				} else {
					t[k++] = *q;
				}
			}
			t[k] = '\0';
			free(s);
			s = t;
		}
		add(l, role, 0, 0, NULL, s);
		if (!nl)
			break;
		p = nl + 1;
	}
}

void ui_list_select(ui_list *l, int i)
{
	if (l->n == 0) {
		l->sel = l->top = 0;
		return;
	}
	if (i < 0)
		i = 0;
	if (i >= l->n)
		i = l->n - 1;
	l->sel = i;
	if (l->sel < l->top)
		l->top = l->sel;
	/* Before the first draw the height is unknown: ui_list_draw scrolls. */
	if (l->height > 0 && l->sel >= l->top + l->height)
		l->top = l->sel - l->height + 1;
}

bool ui_list_request(ui_list *l, enum ui_request req)
{
	int h = l->height > 1 ? l->height : 1;
	switch (req) {
	case UI_REQ_MOVE_UP: ui_list_select(l, l->sel - 1); return true;
	case UI_REQ_MOVE_DOWN: ui_list_select(l, l->sel + 1); return true;
	case UI_REQ_PAGE_UP:
		l->top -= h;
		if (l->top < 0)
			l->top = 0;
		ui_list_select(l, l->sel - h);
		return true;
	case UI_REQ_PAGE_DOWN:
		if (l->top + h < l->n)
			l->top += h;
		ui_list_select(l, l->sel + h);
		return true;
	case UI_REQ_FIRST: ui_list_select(l, 0); return true;
	case UI_REQ_LAST: ui_list_select(l, l->n - 1); return true;
	case UI_REQ_MOVE_LEFT:
		l->left = l->left >= 8 ? l->left - 8 : 0;
		return true;
	case UI_REQ_MOVE_RIGHT:
		l->left += 8;
		return true;
	default: return false;
	}
}

void ui_list_draw(ui *u, ui_list *l, int y, int x, int h, int w, bool focused)
{
	(void)u;
	l->height = h;
	if (l->top > l->n - h)
		l->top = l->n - h;
	if (l->top < 0)
		l->top = 0;
	if (l->sel < l->top)
		l->top = l->sel;
	if (l->sel >= l->top + h)
		l->top = l->sel - h + 1;
	for (int r = 0; r < h; r++) {
		int i = l->top + r;
		if (i >= l->n)
			break;
		const ui_line *ln = &l->v[i];
		bool sel = i == l->sel;
		int role = sel ? (focused ? UI_R_CURSOR : UI_R_CURSOR_UNFOCUSED) : ln->role;
		if (sel)
			ui_fill(y + r, x, w, role);
		/* The gutter marks the selection even where attributes do not show
		 * (TERM=dumb, saved displays). */
		ui_put(y + r, x, 1, role, sel && focused ? ">" : " ");
		ui_put(y + r, x + 1, w - 1, role, ln->text + ui_strfit(ln->text, l->left));
		if (ln->heat > 0 && l->left == 0 && w > 3 && ui_display_color())
			ui_put(y + r, x + 1, 2, UI_R_HEAT0 + ln->heat - 1, "  ");
	}
}

static bool contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	if (n == 0)
		return false;
	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	return false;
}

int ui_list_search(ui_list *l, const char *needle, int dir)
{
	if (l->n == 0)
		return -1;
	for (int k = 1; k <= l->n; k++) {
		int i = ((l->sel + dir * k) % l->n + l->n) % l->n;
		/* Headings are structure, not content: never a match. */
		if (l->v[i].role != UI_R_HEADER && contains_ci(l->v[i].text, needle)) {
			ui_list_select(l, i);
			return i;
		}
	}
	return -1;
}

int ui_list_line_at(const ui_list *l, int row)
{
	int i = l->top + row;
	return row >= 0 && i < l->n ? i : -1;
}
