#include "config.h"

#include "ks_test.h"
#include "ks_status.h"
#include "ks_util.h"

static void test_fail_formats_and_returns_minus_one(void **state)
{
	ks_err err;
	(void)state;
	assert_int_equal(ks_fail(&err, "%s: bad %d", "m.h5", 3), -1);
	assert_string_equal(err.msg, "m.h5: bad 3");
	ks_err_prefix(&err, "layer %s", "dense");
	assert_string_equal(err.msg, "layer dense: m.h5: bad 3");
	assert_int_equal(ks_fail(NULL, "ignored"), -1);
}

static void test_numel_overflow(void **state)
{
	int64_t n;
	int64_t ok[] = {3, 4, 5};
	int64_t big[] = {INT64_MAX / 2, 3};
	int64_t neg[] = {3, -1};
	(void)state;
	assert_true(ks_numel(ok, 3, &n));
	assert_int_equal(n, 60);
	assert_true(ks_numel(ok, 0, &n));
	assert_int_equal(n, 1);
	assert_false(ks_numel(big, 2, &n));
	assert_false(ks_numel(neg, 2, &n));
}

static void test_shape_str(void **state)
{
	char buf[64];
	int64_t s[] = {-1, 28, 28, 3};
	(void)state;
	assert_string_equal(ks_shape_str(s, 4, buf, sizeof buf), "(None, 28, 28, 3)");
	assert_string_equal(ks_shape_str(s + 1, 1, buf, sizeof buf), "(28,)");
	assert_string_equal(ks_shape_str(s, 0, buf, sizeof buf), "()");
}

static void test_edit_distance(void **state)
{
	(void)state;
	assert_int_equal(ks_edit_distance("", ""), 0);
	assert_int_equal(ks_edit_distance("kitten", "sitting"), 3);
	assert_int_equal(ks_edit_distance("summary", "sumary"), 1);
	assert_int_equal(ks_edit_distance("abc", ""), 3);
	assert_int_equal(ks_edit_distance("ab", "ba"), 2);
}

static void test_suggest(void **state)
{
	(void)state;
	const char *cmds[] = {"summary", "ls", "dump", "attrs", "predict", "evaluate"};
	assert_string_equal(ks_suggest("sumary", cmds, 6), "summary");
	assert_string_equal(ks_suggest("predcit", cmds, 6), "predict");
	assert_string_equal(ks_suggest("lss", cmds, 6), "ls");
	assert_null(ks_suggest("xyz", cmds, 6));       /* nothing close */
	assert_null(ks_suggest("summary", cmds, 6));   /* exact: nothing to suggest */
	assert_null(ks_suggest("tree", cmds, 6));
	const char *w[] = {"hidden/kernel", "hidden/bias", "output/kernel"};
	assert_string_equal(ks_suggest("hiden/kernel", w, 3), "hidden/kernel");
	assert_string_equal(ks_suggest("output/kernal", w, 3), "output/kernel");
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_fail_formats_and_returns_minus_one),
	cmocka_unit_test(test_numel_overflow),
	cmocka_unit_test(test_shape_str),
	cmocka_unit_test(test_edit_distance),
	cmocka_unit_test(test_suggest),
};

KS_TEST_MAIN(tests)
