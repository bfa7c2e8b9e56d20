#include "config.h"

#include "ks_test.h"
#include "ks_esc.h"
#include "ks_index.h"
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

/* ks_esc.h's rule, byte by byte. */
static void test_escape(void **state)
{
	char buf[64];
	char *e;
	(void)state;
	assert_false(ks_esc_needed("dense_1/kernel:0"));
	assert_false(ks_esc_needed("layers\\conv1d/vars/0"));   /* backslash stays */
	assert_false(ks_esc_needed("caf\xc3\xa9 \xe4\xb8\xad"));  /* UTF-8 text stays */
	e = ks_esc("a\033]0;T\a\r\n\t\x01\x7f");
	assert_string_equal(e, "a\\e]0;T\\a\\r\\n\\t\\x01\\x7f");
	free(e);
	/* invalid UTF-8, a C1 control (U+009B, CSI) and a bidi override (U+202E) */
	e = ks_esc("\xff\xc2\x9b\xe2\x80\xae.");
	assert_string_equal(e, "\\xff\\xc2\\x9b\\xe2\\x80\\xae.");
	free(e);
	/* overlong encoding of '/' */
	e = ks_esc("\xc0\xaf");
	assert_string_equal(e, "\\xc0\\xaf");
	free(e);
	/* cut at a whole escape, always terminated */
	assert_string_equal(ks_esc_into(buf, 5, "ab\033cd"), "ab\\e");
	assert_string_equal(ks_esc_into(buf, 6, "ab\033cd"), "ab\\ec");
	assert_string_equal(ks_esc_into(buf, 5, "ab\001"), "ab");
	/* idempotent, so messages built from messages are not escaped twice */
	e = ks_esc("\\e and \\x01");
	assert_string_equal(e, "\\e and \\x01");
	free(e);
	/* ks_fail escapes what it formats */
	ks_err err;
	ks_fail(&err, "%s: layer '%s'", "m\n.h5", "\033[2J");
	assert_string_equal(err.msg, "m\\n.h5: layer '\\e[2J'");
	ks_err_prefix(&err, "%s", "\a");
	assert_string_equal(err.msg, "\\a: m\\n.h5: layer '\\e[2J'");
	/* the pool hands back clean strings as they are */
	ks_esc_pool pool = {0};
	const char *clean = "dense";
	assert_ptr_equal(ks_esc_s(&pool, clean), clean);
	assert_string_equal(ks_esc_s(&pool, "x\ny"), "x\\ny");
	ks_esc_pool_free(&pool);
}

static const char *name_at(const void *a, int i)
{
	return ((const char *const *)a)[i];
}

/* ks_index: first position wins for duplicates, growth keeps everything,
 * an array extended later is indexed incrementally. */
static void test_index(void **state)
{
	enum { N = 5000 };
	static char names[N][16];
	static const char *v[N];
	ks_index x = {0};
	(void)state;
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof names[i], "l%d", i % 4000);
		v[i] = names[i];
	}
	assert_int_equal(ks_index_find(&x, v, name_at, "l0"), -1);
	ks_index_extend(&x, v, 3000, name_at);
	assert_int_equal(ks_index_find(&x, v, name_at, "l2999"), 2999);
	assert_int_equal(ks_index_find(&x, v, name_at, "l3000"), -1);
	ks_index_extend(&x, v, N, name_at);
	for (int i = 0; i < 4000; i++)
		assert_int_equal(ks_index_find(&x, v, name_at, names[i]), i);
	/* names 4000.. repeat 0..999: the first stays the answer */
	assert_int_equal(ks_index_find(&x, v, name_at, "l10"), 10);
	assert_int_equal(ks_index_find(&x, v, name_at, "nope"), -1);
	assert_int_equal(ks_index_find(&x, v, name_at, NULL), -1);
	ks_index_clear(&x);
	assert_int_equal(ks_index_find(&x, v, name_at, "l10"), -1);
	ks_index_free(&x);
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* An empty list read from a file is (NULL, 0): nothing to sort, no UB. */
static void test_qsort_empty(void **state)
{
	int v[] = {3, 1, 2};
	(void)state;
	ks_qsort(NULL, 0, sizeof(int), cmp_int);
	ks_qsort(v, 3, sizeof(int), cmp_int);
	assert_int_equal(v[0], 1);
	assert_int_equal(v[2], 3);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_escape),
	cmocka_unit_test(test_index),
	cmocka_unit_test(test_qsort_empty),
	cmocka_unit_test(test_fail_formats_and_returns_minus_one),
	cmocka_unit_test(test_numel_overflow),
	cmocka_unit_test(test_shape_str),
	cmocka_unit_test(test_edit_distance),
	cmocka_unit_test(test_suggest),
};

KS_TEST_MAIN(tests)
