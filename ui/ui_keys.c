/* ui_keys: tables and lookups generated from UI_REQ_INFO / UI_CMD_INFO. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ui_keys.h"

const ui_req_info ui_req_table[] = {
#define G_(title) {title, UI_REQ_NONE, NULL, NULL, {0, 0, 0}},
#define R_(id, name, help, k1, k2, k3) {NULL, UI_REQ_##id, name, help, {k1, k2, k3}},
	UI_REQ_INFO(G_, R_)
#undef G_
#undef R_
	{NULL, UI_REQ_NONE, NULL, NULL, {0, 0, 0}},
};

const ui_cmd_info ui_cmd_table[] = {
#define C_(id, name, args, help) {UI_CMD_##id, name, args, help},
	UI_CMD_INFO(C_)
#undef C_
	{UI_CMD_NONE, NULL, NULL, NULL},
};

enum ui_request ui_key_request(int key)
{
	if (key == 0)
		return UI_REQ_NONE;
	for (const ui_req_info *r = ui_req_table; r->name || r->group; r++)
		for (int i = 0; !r->group && i < 3; i++)
			if (r->keys[i] == key)
				return r->req;
	return UI_REQ_NONE;
}

const char *ui_key_label(int key)
{
	static char buf[32];
	static const struct { int key; const char *label; } names[] = {
		{KEY_UP, "Up"}, {KEY_DOWN, "Down"}, {KEY_LEFT, "Left"}, {KEY_RIGHT, "Right"},
		{KEY_PPAGE, "PgUp"}, {KEY_NPAGE, "PgDn"}, {KEY_HOME, "Home"}, {KEY_END, "End"},
		{KEY_ENTER, "Enter"}, {'\r', "Enter"}, {'\n', "Ctrl-J"}, {'\t', "Tab"},
		{UI_KEY_ESC, "Esc"}, {KEY_BACKSPACE, "Backspace"}, {' ', "Space"},
		{UI_KEY_CLICK, "Click"}, {UI_KEY_WHEEL, "Wheel"},
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].key == key)
			return names[i].label;
	if (key >= KEY_F(1) && key <= KEY_F(12))
		snprintf(buf, sizeof buf, "F%d", key - KEY_F(0));
	else if (key > 0 && key < 32)
		snprintf(buf, sizeof buf, "Ctrl-%c", key + 'A' - 1);
	else if (key >= 32 && key < 127)
		snprintf(buf, sizeof buf, "%c", key);
	else
		snprintf(buf, sizeof buf, "key-%d", key);
	return buf;
}

const char *ui_req_keys(const ui_req_info *r)
{
	static char buf[64];
	buf[0] = '\0';
	for (int i = 0; i < 3; i++) {
		if (!r->keys[i])
			continue;
		const char *l = ui_key_label(r->keys[i]);
		/* KEY_ENTER and '\r' both read "Enter": list it once. */
		if (i > 0 && strcmp(l, "Enter") == 0 && strstr(buf, "Enter"))
			continue;
		if (buf[0])
			strncat(buf, ", ", sizeof buf - strlen(buf) - 1);
		strncat(buf, l, sizeof buf - strlen(buf) - 1);
	}
	return buf;
}

const ui_cmd_info *ui_cmd_find(const char *name)
{
	for (const ui_cmd_info *c = ui_cmd_table; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

size_t ui_key_translate(int key, char *out, size_t size)
{
	static const struct { int key; const char *seq; } map[] = {
		{KEY_LEFT, "\033[D"}, {KEY_RIGHT, "\033[C"}, {KEY_UP, "\033[A"}, {KEY_DOWN, "\033[B"},
		{KEY_HOME, "\033[H"}, {KEY_END, "\033[F"}, {KEY_DC, "\033[3~"}, {KEY_BACKSPACE, "\177"},
		{KEY_ENTER, "\r"},
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (map[i].key == key) {
			size_t n = strlen(map[i].seq);
			if (n > size)
				return 0;
			memcpy(out, map[i].seq, n);
			return n;
		}
	if (key >= 0 && key < 256 && size >= 1) {
		out[0] = (char)key;
		return 1;
	}
	return 0; /* other function keys mean nothing to readline */
}
