/* test_layers_merge: Add, Subtract, Multiply, Average, Maximum, Minimum,
 * Concatenate, Dot and Keras 1 Merge, on two inputs, hand-computed. */
#include "config.h"

#include "ks_test.h"

#include <math.h>

#include "engine_build.h"

#define EPS 1e-6f

/* Runs cls on inputs a (shape sa) and b (shape sb). */
static int run2(const char *cls, const char *cfg, const ks_shape *sa, const float *a, const ks_shape *sb,
                const float *b, float *y, size_t cap, ks_shape *os, ks_err *err)
{
	char bs[2][128];
	const ks_shape *sh[2] = {sa, sb};
	for (int i = 0; i < 2; i++) {
		size_t u = (size_t)snprintf(bs[i], sizeof bs[i], "[null");
		for (int k = 1; k < sh[i]->rank; k++)
			u += (size_t)snprintf(bs[i] + u, sizeof bs[i] - u, ", %lld", (long long)sh[i]->d[k]);
		snprintf(bs[i] + u, sizeof bs[i] - u, "]");
	}
	ks_model *m = eb_new("2.13.1");
	int x1 = eb_input(m, "a", bs[0]);
	int x2 = eb_input(m, "b", bs[1]);
	int l = eb_layer(m, cls, "merge", cfg);
	eb_calln(m, l, 2, (int[]){x1, x2});
	eb_io(m, 2, (int[]){x1, x2}, l);
	ks_shape shapes[2] = {*sa, *sb};
	const float *in[2] = {a, b};
	int rc = eb_run(m, 2, shapes, in, y, cap, os, err);
	ks_model_free(m);
	return rc;
}

static void test_elementwise(void **state)
{
	ks_err err;
	ks_shape s = {2, {2, 2}}, os;
	float a[4] = {1, -2, 3, 4}, b[4] = {2, 2, -1, 4}, y[4];
	struct { const char *cls; float want[4]; } cases[] = {
		{"Add", {3, 0, 2, 8}},
		{"Subtract", {-1, -4, 4, 0}},
		{"Multiply", {2, -4, -3, 16}},
		{"Average", {1.5f, 0, 1, 4}},
		{"Maximum", {2, 2, 3, 4}},
		{"Minimum", {1, -2, -1, 4}},
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		assert_int_equal(run2(cases[c].cls, "{}", &s, a, &s, b, y, 4, &os, &err), 0);
		for (int i = 0; i < 4; i++)
			assert_float_equal(y[i], cases[c].want[i], EPS);
	}
}

static void test_broadcast(void **state)
{
	ks_err err;
	/* (1, 2, 3) + (1, 3): the rank-2 input gets an axis at 1 -> (1, 1, 3) */
	ks_shape sa = {3, {1, 2, 3}}, sb = {2, {1, 3}}, os;
	float a[6] = {0, 1, 2, 3, 4, 5}, b[3] = {10, 20, 30}, y[6];
	assert_int_equal(run2("Add", "{}", &sa, a, &sb, b, y, 6, &os, &err), 0);
	assert_int_equal(os.rank, 3);
	const float want[6] = {10, 21, 32, 13, 24, 35};
	for (int i = 0; i < 6; i++)
		assert_float_equal(y[i], want[i], EPS);
	/* (1, 2, 1) * (1, 2, 3) broadcasts the last axis */
	ks_shape sc = {3, {1, 2, 1}};
	float c[2] = {2, -1};
	assert_int_equal(run2("Multiply", "{}", &sc, c, &sa, a, y, 6, &os, &err), 0);
	const float want2[6] = {0, 2, 4, -3, -4, -5};
	for (int i = 0; i < 6; i++)
		assert_float_equal(y[i], want2[i], EPS);
	/* incompatible sizes name both shapes */
	ks_shape sd = {2, {1, 4}};
	float d[4] = {0};
	assert_int_equal(run2("Add", "{}", &sa, a, &sd, d, y, 6, &os, &err), -1);
	assert_non_null(strstr(err.msg, "(1, 2, 3)"));
}

static void test_concat(void **state)
{
	ks_err err;
	ks_shape sa = {3, {1, 2, 2}}, sb = {3, {1, 2, 1}}, os;
	float a[4] = {1, 2, 3, 4}, b[2] = {9, 8}, y[6];
	assert_int_equal(run2("Concatenate", "{\"axis\": -1}", &sa, a, &sb, b, y, 6, &os, &err), 0);
	assert_int_equal(os.d[2], 3);
	const float want[6] = {1, 2, 9, 3, 4, 8};
	for (int i = 0; i < 6; i++)
		assert_float_equal(y[i], want[i], 0);
	/* axis 1 */
	ks_shape sc = {3, {1, 1, 2}};
	float c[2] = {7, 6};
	assert_int_equal(run2("Concatenate", "{\"axis\": 1}", &sa, a, &sc, c, y, 6, &os, &err), 0);
	assert_int_equal(os.d[1], 3);
	const float want1[6] = {1, 2, 3, 4, 7, 6};
	for (int i = 0; i < 6; i++)
		assert_float_equal(y[i], want1[i], 0);
	/* mismatch off the axis */
	assert_int_equal(run2("Concatenate", "{\"axis\": 1}", &sa, a, &sb, b, y, 6, &os, &err), -1);
	assert_int_equal(run2("Concatenate", "{\"axis\": 3}", &sa, a, &sa, a, y, 6, &os, &err), -1);
	/* Keras 1 Merge */
	assert_int_equal(run2("Merge", "{\"mode\": \"concat\", \"concat_axis\": -1}", &sa, a, &sb, b, y, 6, &os, &err), 0);
	for (int i = 0; i < 6; i++)
		assert_float_equal(y[i], want[i], 0);
	assert_int_equal(run2("Merge", "{\"mode\": \"sum\"}", &sa, a, &sa, a, y, 6, &os, &err), 0);
	assert_float_equal(y[3], 8, 0);
	assert_int_equal(run2("Merge", "{\"mode\": \"cos\"}", &sa, a, &sa, a, y, 6, &os, &err), -1);
}

static void test_dot(void **state)
{
	ks_err err;
	ks_shape s = {2, {2, 2}}, os;
	float a[4] = {1, 2, 3, 4}, b[4] = {5, 6, -1, 1}, y[8];
	/* (b, n).(b, n) axes 1 -> (b, 1) */
	assert_int_equal(run2("Dot", "{\"axes\": 1}", &s, a, &s, b, y, 8, &os, &err), 0);
	assert_int_equal(os.rank, 2);
	assert_int_equal(os.d[1], 1);
	assert_float_equal(y[0], 17, EPS);
	assert_float_equal(y[1], 1, EPS);
	/* normalize: cosine similarity */
	assert_int_equal(run2("Dot", "{\"axes\": 1, \"normalize\": true}", &s, a, &s, b, y, 8, &os, &err), 0);
	assert_float_equal(y[0], 17.0f / (sqrtf(5) * sqrtf(61)), EPS);
	assert_float_equal(y[1], 1.0f / (5.0f * sqrtf(2)), EPS);
	/* (1, 2, 3) . (1, 2, 3) on axes [1, 1] -> (1, 3, 3): out[i][j] = sum_k a[k][i] b[k][j] */
	ks_shape s3 = {3, {1, 2, 3}};
	float p[6] = {1, 2, 3, 4, 5, 6}, q[6] = {1, 0, 0, 0, 1, 0};
	float z[9];
	assert_int_equal(run2("Dot", "{\"axes\": [1, 1]}", &s3, p, &s3, q, z, 9, &os, &err), 0);
	assert_int_equal(os.rank, 3);
	assert_int_equal(os.d[1], 3);
	assert_int_equal(os.d[2], 3);
	const float want[9] = {1, 4, 0, 2, 5, 0, 3, 6, 0};
	for (int i = 0; i < 9; i++)
		assert_float_equal(z[i], want[i], EPS);
	/* (1, 2, 3) . (1, 2, 3) on axes 2 -> (1, 2, 2) = p q^T */
	assert_int_equal(run2("Dot", "{\"axes\": -1}", &s3, p, &s3, q, z, 9, &os, &err), 0);
	const float want2[4] = {1, 2, 4, 5};
	for (int i = 0; i < 4; i++)
		assert_float_equal(z[i], want2[i], EPS);
	/* lengths differ */
	assert_int_equal(run2("Dot", "{\"axes\": [1, 2]}", &s3, p, &s3, q, z, 9, &os, &err), -1);
	assert_int_equal(run2("Dot", "{\"axes\": 0}", &s3, p, &s3, q, z, 9, &os, &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_elementwise),
		cmocka_unit_test(test_broadcast),
		cmocka_unit_test(test_concat),
		cmocka_unit_test(test_dot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
