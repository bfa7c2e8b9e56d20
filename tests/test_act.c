/* test_act: activation parsing and values (ks_act), and the activation
 * layers (ReLU, LeakyReLU, ELU, ThresholdedReLU, Softmax, PReLU).
 * Expected values are hand-computed from the Keras formulas (tolerance 1e-6
 * absolute unless stated). */
#include "config.h"

#include "ks_test.h"

#include <math.h>
#include <string.h>

#include "engine_build.h"
#include "ks_act.h"

#define EPS 1e-6f

static ks_act parse(const char *json, int major)
{
	ks_act a;
	ks_err err;
	json_error_t je;
	json_t *j = json_loads(json, JSON_DECODE_ANY, &je);
	assert_non_null(j);
	if (ks_act_parse(j, major, &a, &err) < 0)
		fail_msg("parse %s: %s", json, err.msg);
	json_decref(j);
	return a;
}

static float f1(const char *json, int major, float x)
{
	ks_act a = parse(json, major);
	ks_act_apply(&a, &x, 1, 1, 1);
	return x;
}

static void test_elementwise(void **state)
{
	assert_float_equal(f1("\"linear\"", 2, -3.5f), -3.5f, EPS);
	assert_float_equal(f1("null", 2, -3.5f), -3.5f, EPS);
	assert_float_equal(f1("\"relu\"", 2, -2.0f), 0.0f, EPS);
	assert_float_equal(f1("\"relu\"", 2, 2.5f), 2.5f, EPS);
	assert_float_equal(f1("\"relu6\"", 3, 7.0f), 6.0f, EPS);
	assert_float_equal(f1("\"sigmoid\"", 2, 0.0f), 0.5f, EPS);
	assert_float_equal(f1("\"sigmoid\"", 2, 2.0f), 0.8807971f, EPS);
	/* extreme inputs saturate without NaN */
	assert_float_equal(f1("\"sigmoid\"", 2, 1000.0f), 1.0f, EPS);
	assert_float_equal(f1("\"sigmoid\"", 2, -1000.0f), 0.0f, EPS);
	assert_float_equal(f1("\"tanh\"", 2, 0.5f), 0.46211716f, EPS);
	assert_float_equal(f1("\"elu\"", 2, -1.0f), expf(-1.0f) - 1.0f, EPS);
	assert_float_equal(f1("\"elu\"", 2, 1.5f), 1.5f, EPS);
	/* selu(-1) = 1.0507009873554805 * 1.6732632423543772 * (e^-1 - 1) */
	assert_float_equal(f1("\"selu\"", 2, -1.0f), -1.1113307f, EPS);
	assert_float_equal(f1("\"selu\"", 2, 2.0f), 2.101402f, EPS);
	assert_float_equal(f1("\"softplus\"", 2, 0.0f), 0.6931472f, EPS);
	assert_float_equal(f1("\"softplus\"", 2, 100.0f), 100.0f, 1e-4f);
	float sp = f1("\"softplus\"", 2, -100.0f);
	assert_true(sp >= 0.0f && sp < 1e-40f);
	assert_float_equal(f1("\"softsign\"", 2, 1.0f), 0.5f, EPS);
	assert_float_equal(f1("\"softsign\"", 2, -3.0f), -0.75f, EPS);
	assert_float_equal(f1("\"swish\"", 2, 1.0f), 0.7310586f, EPS);
	assert_float_equal(f1("\"silu\"", 3, 1.0f), 0.7310586f, EPS);
	assert_float_equal(f1("\"gelu\"", 3, 1.0f), 0.8413447f, EPS);
	assert_float_equal(f1("{\"class_name\": \"gelu\", \"config\": {\"approximate\": true}}", 3, 1.0f),
	                   0.8411920f, EPS);
	assert_float_equal(f1("\"mish\"", 3, 1.0f), 0.8650984f, EPS);
	assert_float_equal(f1("\"exponential\"", 2, 1.0f), 2.7182817f, EPS);
	/* hard_silu(1) = 1 * clip(1/6 + 1/2, 0, 1) */
	assert_float_equal(f1("\"hard_silu\"", 3, 1.0f), 0.6666667f, EPS);
	assert_float_equal(f1("\"hard_swish\"", 3, -4.0f), 0.0f, EPS);
	assert_float_equal(f1("\"leaky_relu\"", 3, -1.0f), -0.2f, EPS);
	/* Keras 3.x additions */
	assert_float_equal(f1("\"log_sigmoid\"", 3, 0.0f), -0.6931472f, EPS);
	assert_float_equal(f1("\"hard_tanh\"", 3, -3.0f), -1.0f, EPS);
	assert_float_equal(f1("\"celu\"", 3, -1.0f), expf(-1.0f) - 1.0f, EPS);
	assert_float_equal(f1("\"squareplus\"", 3, 0.0f), 1.0f, EPS);
	assert_float_equal(f1("\"sparse_plus\"", 3, 0.0f), 0.25f, EPS);
	assert_float_equal(f1("\"sparse_plus\"", 3, 2.0f), 2.0f, EPS);
	assert_float_equal(f1("\"hard_shrink\"", 3, 0.4f), 0.0f, EPS);
	assert_float_equal(f1("\"hard_shrink\"", 3, -0.6f), -0.6f, EPS);
	assert_float_equal(f1("\"soft_shrink\"", 3, -0.75f), -0.25f, EPS);
	assert_float_equal(f1("\"tanh_shrink\"", 3, 0.5f), 0.5f - 0.46211716f, EPS);
}

static void test_hard_sigmoid_versions(void **state)
{
	/* Keras 1/2: clip(0.2x + 0.5); Keras 3: clip(x/6 + 0.5) */
	assert_float_equal(f1("\"hard_sigmoid\"", 2, 1.0f), 0.7f, EPS);
	assert_float_equal(f1("\"hard_sigmoid\"", 1, 1.0f), 0.7f, EPS);
	assert_float_equal(f1("\"hard_sigmoid\"", 3, 1.0f), 0.6666667f, EPS);
	assert_float_equal(f1("\"hard_sigmoid\"", 2, 3.0f), 1.0f, EPS);
	assert_float_equal(f1("\"hard_sigmoid\"", 3, 2.9f), 0.98333335f, EPS);
	assert_float_equal(f1("\"hard_sigmoid\"", 2, -3.0f), 0.0f, EPS);
}

static void test_softmax(void **state)
{
	ks_act a = parse("\"softmax\"", 2);
	float x[6] = {1, 2, 3, 1000, 1000, -1000};
	ks_act_apply(&a, x, 2, 3, 1);
	/* e^(k-3) / sum */
	assert_float_equal(x[0], 0.09003057f, EPS);
	assert_float_equal(x[1], 0.24472847f, EPS);
	assert_float_equal(x[2], 0.66524096f, EPS);
	assert_float_equal(x[3], 0.5f, EPS);
	assert_float_equal(x[4], 0.5f, EPS);
	assert_float_equal(x[5], 0.0f, EPS);

	/* over axis 1 of a (1, 2, 2) tensor: pairs are strided by 2 */
	ks_act b = parse("{\"class_name\": \"Softmax\", \"config\": {\"axis\": 1}}", 3);
	float y[4] = {0, 10, 0, 10};
	int64_t dims[3] = {1, 2, 2};
	ks_act_apply_nd(&b, y, dims, 3);
	for (int i = 0; i < 4; i++)
		assert_float_equal(y[i], 0.5f, EPS);

	ks_act c = parse("\"log_softmax\"", 2);
	float z[2] = {0, 0};
	ks_act_apply(&c, z, 1, 2, 1);
	assert_float_equal(z[0], -0.6931472f, EPS);
	ks_err err;
	assert_int_equal(ks_act_check_rank(&b, 1, &err), -1);
	assert_non_null(strstr(err.msg, "axis"));
	assert_int_equal(ks_act_check_rank(&b, 3, &err), 0);
}

static void test_parse_forms(void **state)
{
	ks_act a;
	ks_err err;
	json_t *j;

	/* Keras 3 serialised function */
	assert_float_equal(f1("{\"module\": \"keras.activations\", \"class_name\": \"function\", \"config\": \"relu\"}", 3, -1.0f),
	                   0.0f, EPS);
	/* a layer given as activation: LeakyReLU keeps its 0.3 default */
	assert_float_equal(f1("{\"class_name\": \"LeakyReLU\", \"config\": {}}", 2, -1.0f), -0.3f, EPS);
	assert_float_equal(f1("{\"class_name\": \"LeakyReLU\", \"config\": {\"negative_slope\": 0.1}}", 3, -1.0f), -0.1f, EPS);
	/* unknown names fail and say which */
	j = json_string("my_custom_act");
	assert_int_equal(ks_act_parse(j, 2, &a, &err), -1);
	assert_non_null(strstr(err.msg, "my_custom_act"));
	json_decref(j);
	j = json_integer(3);
	assert_int_equal(ks_act_parse(j, 2, &a, &err), -1);
	json_decref(j);
	assert_int_equal(ks_act_by_name("tanh", 2, &a, &err), 0);
	assert_true(ks_act_is_elementwise(&a));
	assert_float_equal(ks_act_scalar(&a, 0.5f), 0.46211716f, EPS);
}

/* ReLU layer semantics (Keras backend.relu): threshold, max_value, negative_slope */
static void test_relu_layer(void **state)
{
	ks_act a;
	ks_err err;
	json_t *cfg = json_pack("{s:f, s:f, s:f}", "max_value", 2.0, "negative_slope", 0.5, "threshold", 1.0);
	assert_int_equal(ks_act_from_layer("ReLU", cfg, 2, &a, &err), 0);
	/* x <= thr: -slope*(thr - x); thr < x < max: x; x >= max: max */
	assert_float_equal(ks_act_scalar(&a, -1.0f), -1.0f, EPS);  /* 0 - 0.5*(1-(-1)) */
	assert_float_equal(ks_act_scalar(&a, 0.5f), -0.25f, EPS);
	assert_float_equal(ks_act_scalar(&a, 1.5f), 1.5f, EPS);
	assert_float_equal(ks_act_scalar(&a, 3.0f), 2.0f, EPS);
	json_decref(cfg);

	cfg = json_pack("{s:f}", "theta", 0.5);
	assert_int_equal(ks_act_from_layer("ThresholdedReLU", cfg, 2, &a, &err), 0);
	assert_float_equal(ks_act_scalar(&a, 0.4f), 0.0f, EPS);
	assert_float_equal(ks_act_scalar(&a, 0.6f), 0.6f, EPS);
	json_decref(cfg);

	cfg = json_pack("{s:f}", "alpha", 2.0);
	assert_int_equal(ks_act_from_layer("ELU", cfg, 2, &a, &err), 0);
	assert_float_equal(ks_act_scalar(&a, -1.0f), 2.0f * (expf(-1.0f) - 1.0f), EPS);
	json_decref(cfg);
}

static void prelu_weights(ks_model *m, int l)
{
	/* input (None, 2, 3), shared_axes [1]: alpha shape (1, 3) */
	static const float alpha[3] = {0.1f, 0.2f, 0.3f};
	eb_weight(m, l, "alpha", 2, (int64_t[]){1, 3}, alpha);
}

/* The vectorised plain ReLU gives, bit for bit, what the one-element rule
 * gives, NaN, infinities and -0 included, in the 8-lane body and the tail. */
static void test_relu_vector(void **state)
{
	(void)state;
	ks_act a = parse("\"relu\"", 2);
	float x[19], y[19];
	for (int i = 0; i < 19; i++)
		x[i] = (float)(i - 9) / 3.0f;
	x[2] = NAN;
	x[5] = -0.0f;
	x[11] = INFINITY;
	x[12] = -INFINITY;
	x[17] = -NAN;
	memcpy(y, x, sizeof y);
	ks_act_apply(&a, y, 19, 1, 1);
	for (int i = 0; i < 19; i++) {
		float want = ks_act_scalar(&a, x[i]);
		assert_memory_equal(&y[i], &want, sizeof want);
	}
	assert_true(y[0] == 0.0f && y[18] == 3.0f && !signbit(y[5]) && y[2] == 0.0f && isinf(y[11]));
}

static void test_layers_through_plan(void **state)
{
	ks_err err;
	ks_shape s = {3, {1, 2, 3}}, os;
	float x[6] = {-1, -1, -1, 2, -2, 3}, y[6];

	assert_int_equal(eb_run1("PReLU", "{\"shared_axes\": [1]}", &s, x, y, 6, &os, &err, prelu_weights), 0);
	const float want[6] = {-0.1f, -0.2f, -0.3f, 2.0f, -0.4f, 3.0f};
	for (int i = 0; i < 6; i++)
		assert_float_equal(y[i], want[i], EPS);

	/* wrong alpha shape for the input is a plan-time error naming the layer */
	ks_shape s2 = {3, {1, 2, 4}};
	float x2[8] = {0};
	assert_int_equal(eb_run1("PReLU", "{\"shared_axes\": [1]}", &s2, x2, y, 6, &os, &err, prelu_weights), -1);
	assert_non_null(strstr(err.msg, "layer"));
	assert_non_null(strstr(err.msg, "alpha"));

	assert_int_equal(eb_run1("LeakyReLU", "{}", &s, x, y, 6, &os, &err, NULL), 0);
	assert_float_equal(y[0], -0.3f, EPS);
	assert_float_equal(y[3], 2.0f, EPS);
	assert_int_equal(eb_run1("LeakyReLU", "{\"alpha\": 0.5}", &s, x, y, 6, &os, &err, NULL), 0);
	assert_float_equal(y[4], -1.0f, EPS);

	assert_int_equal(eb_run1("Softmax", "{\"axis\": 1}", &s, x, y, 6, &os, &err, NULL), 0);
	/* column 0: (-1, 2) -> 1/(1+e^3), e^3/(1+e^3) */
	assert_float_equal(y[0], 0.04742587f, EPS);
	assert_float_equal(y[3], 0.95257413f, EPS);
	assert_int_equal(eb_run1("Softmax", "{\"axis\": 5}", &s, x, y, 6, &os, &err, NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_elementwise),
		cmocka_unit_test(test_hard_sigmoid_versions),
		cmocka_unit_test(test_softmax),
		cmocka_unit_test(test_parse_forms),
		cmocka_unit_test(test_relu_layer),
		cmocka_unit_test(test_relu_vector),
		cmocka_unit_test(test_layers_through_plan),
	};
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
