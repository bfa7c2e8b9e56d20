/* test_ui_keys: the inspector's pure pieces, without curses or readline:
 * the one key table (every request reachable, no key bound twice, labels),
 * the curses-key -> readline byte translations (each pinned, STYLE 10.8),
 * the command table, and shell-style splitting of command lines. */
#include "config.h"

#include "ks_test.h"
#include "ui_argv.h"
#include "ui_keys.h"

static void test_every_request_has_a_key_and_keys_are_unique(void **state)
{
	(void)state;
	int seen[UI_REQ_COUNT] = {0};
	for (const ui_req_info *r = ui_req_table; r->name || r->group; r++) {
		if (r->group)
			continue;
		assert_true(r->keys[0] != 0);
		assert_non_null(r->help);
		seen[r->req]++;
		for (int i = 0; i < 3; i++) {
			if (!r->keys[i])
				continue;
			/* The key maps back to this very request: bound once only. */
			assert_int_equal(ui_key_request(r->keys[i]), r->req);
			for (const ui_req_info *o = ui_req_table; o->name || o->group; o++)
				for (int k = 0; !o->group && o != r && k < 3; k++)
					assert_false(o->keys[k] && o->keys[k] == r->keys[i]);
		}
	}
	for (int q = 1; q < UI_REQ_COUNT; q++)
		assert_int_equal(seen[q], 1);
	assert_int_equal(ui_key_request('@'), UI_REQ_NONE);
	assert_int_equal(ui_key_request(0), UI_REQ_NONE);
}

static void test_issue_defaults(void **state)
{
	(void)state;
	/* The defaults the issue asks for. */
	assert_int_equal(ui_key_request('j'), UI_REQ_MOVE_DOWN);
	assert_int_equal(ui_key_request('k'), UI_REQ_MOVE_UP);
	assert_int_equal(ui_key_request('h'), UI_REQ_MOVE_LEFT);
	assert_int_equal(ui_key_request('l'), UI_REQ_MOVE_RIGHT);
	assert_int_equal(ui_key_request(KEY_DOWN), UI_REQ_MOVE_DOWN);
	assert_int_equal(ui_key_request('\r'), UI_REQ_ENTER);
	assert_int_equal(ui_key_request('\t'), UI_REQ_SWITCH_PANE);
	assert_int_equal(ui_key_request(':'), UI_REQ_PROMPT);
	assert_int_equal(ui_key_request(27), UI_REQ_BACK);
	assert_int_equal(ui_key_request('/'), UI_REQ_SEARCH);
	assert_int_equal(ui_key_request('n'), UI_REQ_FIND_NEXT);
	assert_int_equal(ui_key_request('N'), UI_REQ_FIND_PREV);
	assert_int_equal(ui_key_request('?'), UI_REQ_HELP);
	assert_int_equal(ui_key_request('q'), UI_REQ_QUIT);
}

static void test_labels(void **state)
{
	(void)state;
	assert_string_equal(ui_key_label(KEY_UP), "Up");
	assert_string_equal(ui_key_label('\t'), "Tab");
	assert_string_equal(ui_key_label(UI_CTRL('l')), "Ctrl-L");
	assert_string_equal(ui_key_label(KEY_F(1)), "F1");
	assert_string_equal(ui_key_label('x'), "x");
	assert_string_equal(ui_key_label(' '), "Space");
	/* KEY_ENTER and '\r' both read Enter and are listed once. */
	for (const ui_req_info *r = ui_req_table; r->name || r->group; r++)
		if (!r->group && r->req == UI_REQ_ENTER)
			assert_string_equal(ui_req_keys(r), "Enter, Ctrl-J");
}

static void check_tr(int key, const char *want)
{
	char out[8];
	size_t n = ui_key_translate(key, out, sizeof out);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(out, want, n);
}

static void test_readline_translations(void **state)
{
	(void)state;
	check_tr(KEY_LEFT, "\033[D");
	check_tr(KEY_RIGHT, "\033[C");
	check_tr(KEY_UP, "\033[A");
	check_tr(KEY_DOWN, "\033[B");
	check_tr(KEY_HOME, "\033[H");
	check_tr(KEY_END, "\033[F");
	check_tr(KEY_DC, "\033[3~");
	check_tr(KEY_BACKSPACE, "\177");
	check_tr(KEY_ENTER, "\r");
	check_tr('a', "a");
	check_tr(0xc3, "\xc3"); /* UTF-8 bytes pass through one by one */
	check_tr(KEY_F(5), "");
	check_tr(KEY_RESIZE, "");
	char one[1];
	assert_int_equal(ui_key_translate(KEY_LEFT, one, 1), 0); /* never overflows */
}

static void test_command_table(void **state)
{
	(void)state;
	int n = 0;
	for (const ui_cmd_info *c = ui_cmd_table; c->name; c++, n++) {
		assert_ptr_equal(ui_cmd_find(c->name), c);
		assert_non_null(c->help);
	}
	assert_int_equal(n, UI_CMD_COUNT - 1);
	/* The issue's commands. */
	const char *want[] = {"summary", "ls", "dump", "attrs", "predict", "diff", "doctor",
	                      "open", "show", "help", "quit", "save-display"};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		assert_non_null(ui_cmd_find(want[i]));
	assert_null(ui_cmd_find("sum"));
}

static void test_argv_split(void **state)
{
	(void)state;
	char **v;
	int n;
	ks_err err;
	assert_int_equal(ui_argv_split("  dump  dense/kernel --slice '[0, :]' \"a b\" x\\ y ", &v, &n,
	                               &err), 0);
	assert_int_equal(n, 6);
	assert_string_equal(v[0], "dump");
	assert_string_equal(v[1], "dense/kernel");
	assert_string_equal(v[2], "--slice");
	assert_string_equal(v[3], "[0, :]");
	assert_string_equal(v[4], "a b");
	assert_string_equal(v[5], "x y");
	assert_null(v[6]);
	ui_argv_free(v, n);
	assert_int_equal(ui_argv_split("", &v, &n, &err), 0);
	assert_int_equal(n, 0);
	ui_argv_free(v, n);
	assert_int_equal(ui_argv_split("a '' b", &v, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[1], "");
	ui_argv_free(v, n);
	assert_int_equal(ui_argv_split("show 'open", &v, &n, &err), -1);
	assert_non_null(strstr(err.msg, "unterminated quote"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_request_has_a_key_and_keys_are_unique),
		cmocka_unit_test(test_issue_defaults),
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_readline_translations),
		cmocka_unit_test(test_command_table),
		cmocka_unit_test(test_argv_split),
	};
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
