/* test_layers_core: Dense, Activation, Embedding, Rescaling, identity
 * layers and Keras 1 spellings, through a one-layer model, with
 * hand-computed expected values. */
#include "config.h"

#include "ks_test.h"

#include <math.h>

#include "engine_build.h"

#define EPS 1e-6f

static void w_dense(ks_model *m, int l)
{
	/* kernel (3, 2), bias (2) */
	static const float k[6] = {1, 2, 3, 4, 5, 6};
	static const float b[2] = {0.5f, -1};
	eb_weight(m, l, "kernel", 2, (int64_t[]){3, 2}, k);
	eb_weight(m, l, "bias", 1, (int64_t[]){2}, b);
}

static void w_dense_k1(ks_model *m, int l)
{
	static const float k[6] = {1, 2, 3, 4, 5, 6};
	static const float b[2] = {0.5f, -1};
	eb_weight(m, l, "W", 2, (int64_t[]){3, 2}, k);
	eb_weight(m, l, "b", 1, (int64_t[]){2}, b);
}

static void w_kernel_only(ks_model *m, int l)
{
	static const float k[6] = {1, 2, 3, 4, 5, 6};
	eb_weight(m, l, "kernel", 2, (int64_t[]){3, 2}, k);
}

static void test_dense(void **state)
{
	ks_err err;
	ks_shape s = {2, {2, 3}}, os;
	float x[6] = {1, 0, 0, 1, 1, 1}, y[4];

	/* row 0: (1,2)+(0.5,-1); row 1: (9,12)+(0.5,-1) */
	assert_int_equal(eb_run1("Dense", "{\"units\": 2}", &s, x, y, 4, &os, &err, w_dense), 0);
	assert_int_equal(os.rank, 2);
	assert_int_equal(os.d[1], 2);
	assert_float_equal(y[0], 1.5f, EPS);
	assert_float_equal(y[1], 1.0f, EPS);
	assert_float_equal(y[2], 9.5f, EPS);
	assert_float_equal(y[3], 11.0f, EPS);

	/* activation applied centrally */
	float xn[6] = {-1, 0, 0, 0, 0, 0};
	assert_int_equal(eb_run1("Dense", "{\"units\": 2, \"activation\": \"relu\"}", &s, xn, y, 4, &os, &err, w_dense), 0);
	assert_float_equal(y[0], 0.0f, EPS);  /* -1 + 0.5 */
	assert_float_equal(y[2], 0.5f, EPS);

	/* no bias */
	assert_int_equal(eb_run1("Dense", "{\"units\": 2, \"use_bias\": false}", &s, x, y, 4, &os, &err, w_kernel_only), 0);
	assert_float_equal(y[0], 1.0f, EPS);
	assert_float_equal(y[3], 12.0f, EPS);
	/* use_bias true without a bias weight */
	assert_int_equal(eb_run1("Dense", "{\"units\": 2}", &s, x, y, 4, &os, &err, w_kernel_only), -1);
	assert_non_null(strstr(err.msg, "bias"));

	/* Keras 1 spelling */
	assert_int_equal(eb_run1("Dense", "{\"output_dim\": 2, \"bias\": true}", &s, x, y, 4, &os, &err, w_dense_k1), 0);
	assert_float_equal(y[3], 11.0f, EPS);

	/* rank 3 input: applied to the last axis */
	ks_shape s3 = {3, {1, 2, 3}};
	assert_int_equal(eb_run1("Dense", "{\"units\": 2}", &s3, x, y, 4, &os, &err, w_dense), 0);
	assert_int_equal(os.rank, 3);
	assert_int_equal(os.d[2], 2);
	assert_float_equal(y[2], 9.5f, EPS);

	/* one row (batch 1: the sgemv path) gives each batch row's values */
	ks_shape s1 = {2, {1, 3}};
	assert_int_equal(eb_run1("Dense", "{\"units\": 2}", &s1, x + 3, y, 4, &os, &err, w_dense), 0);
	assert_int_equal(os.d[0], 1);
	assert_float_equal(y[0], 9.5f, EPS);
	assert_float_equal(y[1], 11.0f, EPS);
	assert_int_equal(eb_run1("Dense", "{\"units\": 2, \"use_bias\": false}", &s1, x, y, 4, &os, &err,
	                         w_kernel_only), 0);
	assert_float_equal(y[0], 1.0f, EPS);
	assert_float_equal(y[1], 2.0f, EPS);

	/* units disagreeing with the kernel */
	assert_int_equal(eb_run1("Dense", "{\"units\": 4}", &s, x, y, 4, &os, &err, w_dense), -1);
	assert_non_null(strstr(err.msg, "kernel"));
	assert_int_equal(eb_run1("Dense", "{}", &s, x, y, 4, &os, &err, w_dense), -1);
	assert_int_equal(eb_run1("Dense", "{\"units\": -2}", &s, x, y, 4, &os, &err, w_dense), -1);
}

static void w_emb(ks_model *m, int l)
{
	/* 3 ids, dim 2: row i = (10i, 10i+1) */
	static const float t[6] = {0, 1, 10, 11, 20, 21};
	eb_weight(m, l, "embeddings", 2, (int64_t[]){3, 2}, t);
}

static void test_embedding(void **state)
{
	ks_err err;
	ks_shape s = {2, {1, 4}}, os;
	float ids[4] = {2, 0, 1.7f, 5}, y[8];

	assert_int_equal(eb_run1("Embedding", "{\"input_dim\": 3, \"output_dim\": 2}", &s, ids, y, 8, &os, &err, w_emb), 0);
	assert_int_equal(os.rank, 3);
	assert_int_equal(os.d[2], 2);
	assert_float_equal(y[0], 20, 0);
	assert_float_equal(y[1], 21, 0);
	assert_float_equal(y[2], 0, 0);
	assert_float_equal(y[4], 10, 0); /* 1.7 truncates to 1 */
	assert_true(isnan(y[6]) && isnan(y[7])); /* id 5 has no row */

	assert_int_equal(eb_run1("Embedding", "{\"input_dim\": 4, \"output_dim\": 2}", &s, ids, y, 8, &os, &err, w_emb), -1);
	assert_non_null(strstr(err.msg, "embeddings"));
}

static void test_identity_and_misc(void **state)
{
	ks_err err;
	ks_shape s = {2, {1, 3}}, os;
	float x[3] = {-1, 0, 2}, y[3];
	static const char *const ids[] = {"Dropout", "SpatialDropout1D", "GaussianNoise", "GaussianDropout",
	                                  "AlphaDropout", "ActivityRegularization", "Masking", "RandomFlip",
	                                  "RandomRotation", "RandomZoom", "RandomContrast", NULL};
	for (int i = 0; ids[i]; i++) {
		memset(y, 0, sizeof y);
		assert_int_equal(eb_run1(ids[i], "{\"rate\": 0.5}", &s, x, y, 3, &os, &err, NULL), 0);
		for (int k = 0; k < 3; k++)
			assert_float_equal(y[k], x[k], 0);
	}
	assert_int_equal(eb_run1("Activation", "{\"activation\": \"softsign\"}", &s, x, y, 3, &os, &err, NULL), 0);
	assert_float_equal(y[0], -0.5f, EPS);
	assert_float_equal(y[2], 2.0f / 3.0f, EPS);
	assert_int_equal(eb_run1("Activation", "{\"activation\": \"softmax\"}", &s, x, y, 3, &os, &err, NULL), 0);
	assert_float_equal(y[0] + y[1] + y[2], 1.0f, EPS);
	assert_float_equal(y[2], expf(2) / (expf(-1) + 1 + expf(2)), EPS);

	assert_int_equal(eb_run1("Rescaling", "{\"scale\": 0.5, \"offset\": 1}", &s, x, y, 3, &os, &err, NULL), 0);
	assert_float_equal(y[0], 0.5f, EPS);
	assert_float_equal(y[2], 2.0f, EPS);
	assert_int_equal(eb_run1("Rescaling", "{\"scale\": [1, 2, 3], \"offset\": 0}", &s, x, y, 3, &os, &err, NULL), 0);
	assert_float_equal(y[2], 6.0f, EPS);
	assert_int_equal(eb_run1("Rescaling", "{\"scale\": [1, 2]}", &s, x, y, 3, &os, &err, NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dense),
		cmocka_unit_test(test_embedding),
		cmocka_unit_test(test_identity_and_misc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
