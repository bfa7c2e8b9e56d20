/* ks_slice: numpy/Python indexing semantics, checked against what numpy
 * gives for the same expressions (worked out by hand in the comments). */
#include "config.h"

#include "ks_test.h"
#include "ks_slice.h"

static const int64_t shp[4] = {2, 3, 4, 5};

static void expect(const char *spec, const int64_t *start, const int64_t *count, const char *keep)
{
	ks_slice s;
	ks_err err;
	if (ks_slice_parse(spec, shp, 4, &s, &err) != 0)
		fail_msg("'%s' failed: %s", spec, err.msg);
	for (int i = 0; i < 4; i++) {
		if (s.start[i] != start[i] || s.count[i] != count[i] || s.keep[i] != (keep[i] == 'k'))
			fail_msg("'%s' axis %d: start %lld count %lld keep %d", spec, i,
			         (long long)s.start[i], (long long)s.count[i], s.keep[i]);
	}
}

static void expect_fail(const char *spec, const char *needle)
{
	ks_slice s;
	ks_err err;
	err.msg[0] = '\0';
	assert_int_equal(ks_slice_parse(spec, shp, 4, &s, &err), -1);
	if (!strstr(err.msg, needle))
		fail_msg("'%s': message '%s' lacks '%s'", spec, err.msg, needle);
}

static void test_indices(void **state)
{
	(void)state;
	/* a[0,:,:,3] */
	expect("[0,:,:,3]", (int64_t[]){0, 0, 0, 3}, (int64_t[]){1, 3, 4, 1}, "dkkd");
	/* a[0:10, 1]: 0:10 clamps to 0:2 */
	expect("0:10,1", (int64_t[]){0, 1, 0, 0}, (int64_t[]){2, 1, 4, 5}, "kdkk");
	/* a[-1] is a[1]; a[:, -1] is a[:, 2] */
	expect("-1", (int64_t[]){1, 0, 0, 0}, (int64_t[]){1, 3, 4, 5}, "dkkk");
	expect("[:, -1]", (int64_t[]){0, 2, 0, 0}, (int64_t[]){2, 1, 4, 5}, "kdkk");
	/* a[..., 1:-1]: last axis 1..3 (3 values) */
	expect("..., 1:-1", (int64_t[]){0, 0, 0, 1}, (int64_t[]){2, 3, 4, 3}, "kkkk");
	/* a[1, ..., 0] */
	expect("[1, ..., 0]", (int64_t[]){1, 0, 0, 0}, (int64_t[]){1, 3, 4, 1}, "dkkd");
	/* empty spec and "[]" select everything */
	expect("", (int64_t[]){0, 0, 0, 0}, (int64_t[]){2, 3, 4, 5}, "kkkk");
	expect(" [ ] ", (int64_t[]){0, 0, 0, 0}, (int64_t[]){2, 3, 4, 5}, "kkkk");
}

static void test_python_bounds(void **state)
{
	(void)state;
	/* a[:, 2:1] is empty; a[:, -10:2] is 0:2; a[:, :-10] is empty; a[:, 5:] empty */
	expect(":,2:1", (int64_t[]){0, 2, 0, 0}, (int64_t[]){2, 0, 4, 5}, "kkkk");
	expect(":,-10:2", (int64_t[]){0, 0, 0, 0}, (int64_t[]){2, 2, 4, 5}, "kkkk");
	expect(":,:-10", (int64_t[]){0, 0, 0, 0}, (int64_t[]){2, 0, 4, 5}, "kkkk");
	expect(":,5:", (int64_t[]){0, 3, 0, 0}, (int64_t[]){2, 0, 4, 5}, "kkkk");
	expect("1:,:,-2:", (int64_t[]){1, 0, 2, 0}, (int64_t[]){1, 3, 2, 5}, "kkkk");
}

static void test_errors(void **state)
{
	(void)state;
	expect_fail("2", "index 2 is out of bounds for axis 0 with size 2");
	expect_fail("0,-4", "index -4 is out of bounds for axis 1 with size 3");
	expect_fail("0,0,0,0,0", "5 indices for a tensor of rank 4");
	expect_fail("0:4:2", "steps");
	expect_fail("[0,", "expected");
	expect_fail("[0", "expected ',' or ']'");
	expect_fail("a", "expected an index");
	expect_fail("...,...", "only one '...'");
	expect_fail("0 1", "unexpected");
	expect_fail("99999999999999999999999", "out of range");
	expect_fail("-", "expected a number");
	expect_fail("0,,1", "expected an index");
}

static void test_shape_and_str(void **state)
{
	(void)state;
	ks_slice s;
	ks_err err;
	int64_t out[KS_MAX_RANK];
	char buf[64];
	assert_int_equal(ks_slice_parse("[0,:,1:3,-1]", shp, 4, &s, &err), 0);
	assert_int_equal(ks_slice_shape(&s, out), 2);
	assert_int_equal(out[0], 3);
	assert_int_equal(out[1], 2);
	assert_string_equal(ks_slice_str(&s, shp, buf, sizeof buf), "[0, :, 1:3, 4]");
	/* truncation never overflows */
	assert_string_equal(ks_slice_str(&s, shp, buf, 6), "[0, :");
	/* rank 0: only the empty selection */
	int64_t none[1] = {0};
	assert_int_equal(ks_slice_parse("[]", none, 0, &s, &err), 0);
	assert_int_equal(ks_slice_shape(&s, out), 0);
	assert_int_equal(ks_slice_parse("0", none, 0, &s, &err), -1);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_indices),
	cmocka_unit_test(test_python_bounds),
	cmocka_unit_test(test_errors),
	cmocka_unit_test(test_shape_and_str),
};
KS_TEST_MAIN(tests)
