/* test_input: literal and CSV parsing, file sniffing, fitting to the model
 * input shape (batch axis added, CSV rows reshaped, mismatch messages), and
 * seeded generation. */
#include "config.h"

#include "ks_test.h"

#include <math.h>

#include "ks_input.h"
#include "ks_npy.h"

static void test_literal(void **state)
{
	ks_array a;
	ks_err err;

	assert_int_equal(ks_input_parse_literal("[[1, 2, 3]]", &a, &err), 0);
	assert_int_equal(a.rank, 2);
	assert_int_equal(a.shape[0], 1);
	assert_int_equal(a.shape[1], 3);
	assert_float_equal(a.data[2], 3, 0);
	ks_array_free(&a);

	assert_int_equal(ks_input_parse_literal(" [ [0.5, -1e-3], (2, 3,) ] ", &a, &err), 0);
	assert_int_equal(a.shape[0], 2);
	assert_int_equal(a.shape[1], 2);
	assert_float_equal(a.data[1], -1e-3f, 1e-9f);
	assert_float_equal(a.data[3], 3, 0);
	ks_array_free(&a);

	assert_int_equal(ks_input_parse_literal("7", &a, &err), 0);
	assert_int_equal(a.rank, 0);
	assert_float_equal(a.data[0], 7, 0);
	ks_array_free(&a);

	assert_int_equal(ks_input_parse_literal("[[[1], [2]], [[3], [4]]]", &a, &err), 0);
	assert_int_equal(a.rank, 3);
	assert_int_equal(a.shape[2], 1);
	ks_array_free(&a);

	/* ragged, wrong tokens, trailing junk, unbalanced */
	assert_int_equal(ks_input_parse_literal("[[1, 2], [3]]", &a, &err), -1);
	assert_non_null(strstr(err.msg, "ragged"));
	assert_int_equal(ks_input_parse_literal("[[1, 2], 3]", &a, &err), -1);
	assert_non_null(strstr(err.msg, "ragged"));
	assert_int_equal(ks_input_parse_literal("[1, [2]]", &a, &err), -1);
	assert_int_equal(ks_input_parse_literal("[True, 1]", &a, &err), -1);
	assert_int_equal(ks_input_parse_literal("[None]", &a, &err), -1);
	assert_int_equal(ks_input_parse_literal("[1, 2] x", &a, &err), -1);
	assert_int_equal(ks_input_parse_literal("[1, 2", &a, &err), -1);
	assert_int_equal(ks_input_parse_literal("[[[[[[[[[1]]]]]]]]]", &a, &err), -1);
	assert_int_equal(ks_input_parse_literal("", &a, &err), -1);
}

static void test_csv(void **state)
{
	ks_array a;
	ks_err err;
	const char *t = "a,b,c\n1,2,3\n4, 5 ,6\r\n\n7;8;9\n";

	assert_int_equal(ks_input_parse_csv(t, strlen(t), "x.csv", &a, &err), 0);
	assert_int_equal(a.rank, 2);
	assert_int_equal(a.shape[0], 3);
	assert_int_equal(a.shape[1], 3);
	assert_float_equal(a.data[4], 5, 0);
	assert_float_equal(a.data[8], 9, 0);
	ks_array_free(&a);

	const char *r = "1,2,3\n4,5\n";
	assert_int_equal(ks_input_parse_csv(r, strlen(r), "x.csv", &a, &err), -1);
	assert_non_null(strstr(err.msg, "line 2"));
	assert_non_null(strstr(err.msg, "x.csv"));
	const char *b = "1,2\n3,oops\n";
	assert_int_equal(ks_input_parse_csv(b, strlen(b), "x.csv", &a, &err), -1);
	if (!strstr(err.msg, "oops"))
		fail_msg("%s", err.msg);
	const char *h = "only,a,header\n";
	assert_int_equal(ks_input_parse_csv(h, strlen(h), "x.csv", &a, &err), -1);
}

static void test_fit(void **state)
{
	ks_array a;
	ks_err err;
	ks_shape want = {2, {-1, 3}};

	assert_int_equal(ks_input_parse_literal("[1, 2, 3]", &a, &err), 0);
	assert_int_equal(ks_input_fit(&a, &want, false, "x", &err), 0); /* batch axis added */
	assert_int_equal(a.rank, 2);
	assert_int_equal(a.shape[0], 1);
	ks_array_free(&a);

	assert_int_equal(ks_input_parse_literal("[[1, 2, 3, 4], [5, 6, 7, 8]]", &a, &err), 0);
	assert_int_equal(ks_input_fit(&a, &want, false, "x", &err), -1);
	assert_non_null(strstr(err.msg, "(None, 3)"));
	assert_non_null(strstr(err.msg, "(2, 4)"));
	/* CSV rows may be reshaped to the sample shape */
	ks_shape img = {3, {-1, 2, 2}};
	assert_int_equal(ks_input_fit(&a, &img, false, "x", &err), -1);
	assert_int_equal(ks_input_fit(&a, &img, true, "x", &err), 0);
	assert_int_equal(a.rank, 3);
	assert_int_equal(a.shape[0], 2);
	assert_int_equal(a.shape[2], 2);
	ks_array_free(&a);

	/* unknown dims accept anything */
	ks_shape seq = {3, {-1, -1, 2}};
	assert_int_equal(ks_input_parse_literal("[[1, 2], [3, 4], [5, 6]]", &a, &err), 0);
	assert_int_equal(ks_input_fit(&a, &seq, false, "x", &err), 0);
	assert_int_equal(a.shape[1], 3);
	ks_array_free(&a);
}

static void test_load_files(void **state)
{
	char npy[512], csv[512];
	ks_array a;
	ks_err err;
	ks_input_kind kind;
	float d[4] = {1, 2, 3, 4};
	int64_t s[2] = {2, 2};

	snprintf(npy, sizeof npy, "%s/in.npy", ks_test_tmpdir());
	snprintf(csv, sizeof csv, "%s/in.txt", ks_test_tmpdir());
	assert_int_equal(ks_npy_write(npy, d, s, 2, &err), 0);
	FILE *f = fopen(csv, "w");
	fputs("x y\n1 2\n3 4\n", f);
	fclose(f);
	assert_int_equal(ks_input_load(npy, &a, &kind, &err), 0);
	assert_int_equal(kind, KS_INPUT_NPY);
	assert_float_equal(a.data[3], 4, 0);
	ks_array_free(&a);
	assert_int_equal(ks_input_load(csv, &a, &kind, &err), 0); /* sniffed by content */
	assert_int_equal(kind, KS_INPUT_CSV);
	assert_int_equal(a.shape[0], 2);
	ks_array_free(&a);
	assert_int_equal(ks_input_load("[[1,2]]", &a, &kind, &err), 0);
	assert_int_equal(kind, KS_INPUT_LITERAL);
	ks_array_free(&a);
	assert_int_equal(ks_input_load("missing.npy", &a, &kind, &err), -1);
	assert_non_null(strstr(err.msg, "missing.npy"));
}

static void test_dtype(void **state)
{
	ks_array a;
	ks_err err;
	assert_int_equal(ks_input_parse_literal("[[1, 2.5, 3]]", &a, &err), 0);
	assert_int_equal(ks_input_check_dtype(&a, "float32", "x", &err), 0);
	assert_int_equal(ks_input_check_dtype(&a, NULL, "x", &err), 0);
	assert_int_equal(ks_input_check_dtype(&a, "int32", "x", &err), -1);
	assert_non_null(strstr(err.msg, "int32"));
	assert_non_null(strstr(err.msg, "2.5"));
	ks_array_free(&a);
	assert_int_equal(ks_input_parse_literal("[[0, 1, 7]]", &a, &err), 0);
	assert_int_equal(ks_input_check_dtype(&a, "int64", "x", &err), 0);
	assert_int_equal(ks_input_check_dtype(&a, "bool", "x", &err), -1);
	ks_array_free(&a);
	assert_true(ks_input_dtype_is_integer("uint8"));
	assert_false(ks_input_dtype_is_integer("float16"));
}

static void test_generate(void **state)
{
	ks_array a, b;
	ks_err err;
	ks_shape s = {3, {-1, 4, 5}};

	assert_int_equal(ks_input_generate(&s, 2, true, 42, -1, 1, false, "x", &a, &err), 0);
	assert_int_equal(a.shape[0], 2);
	assert_int_equal(ks_array_numel(&a), 40);
	double sum = 0;
	for (int i = 0; i < 40; i++) {
		assert_true(a.data[i] >= -1.0f && a.data[i] < 1.0f);
		sum += a.data[i];
	}
	assert_true(fabs(sum / 40) < 0.5);
	assert_int_equal(ks_input_generate(&s, 2, true, 42, -1, 1, false, "x", &b, &err), 0);
	assert_memory_equal(a.data, b.data, 40 * sizeof(float)); /* same seed, same numbers */
	ks_array_free(&b);
	assert_int_equal(ks_input_generate(&s, 2, true, 43, -1, 1, false, "x", &b, &err), 0);
	assert_memory_not_equal(a.data, b.data, 40 * sizeof(float));
	ks_array_free(&a);
	ks_array_free(&b);

	assert_int_equal(ks_input_generate(&s, 1, true, 1, 0, 7, true, "ids", &a, &err), 0);
	for (int i = 0; i < 20; i++)
		assert_true(a.data[i] == floorf(a.data[i]) && a.data[i] >= 0 && a.data[i] < 7);
	ks_array_free(&a);
	assert_int_equal(ks_input_generate(&s, 1, false, 0, 0, 0, false, "x", &a, &err), 0);
	for (int i = 0; i < 20; i++)
		assert_float_equal(a.data[i], 0, 0);
	ks_array_free(&a);

	ks_shape unk = {3, {-1, -1, 5}};
	assert_int_equal(ks_input_generate(&unk, 1, false, 0, 0, 0, false, "x", &a, &err), -1);
	assert_non_null(strstr(err.msg, "unknown"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literal),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_fit),
		cmocka_unit_test(test_load_files),
		cmocka_unit_test(test_dtype),
		cmocka_unit_test(test_generate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
