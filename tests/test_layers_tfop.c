/* test_layers_tfop: TFOpLambda functions with the call kwargs tf.keras
 * writes, hand-computed; unsupported functions are refused by name. */
#include "config.h"

#include "ks_test.h"

#include <math.h>

#include "engine_build.h"
#include "ks_graph.h"
#include "ks_plan.h"

#define EPS 1e-6f

/* x (shape s) -> TFOpLambda(function, kwargs) [with a second input y]. */
static int run_tf(const char *function, const char *kwargs, const ks_shape *s, const float *x,
                  const ks_shape *s2, const float *x2, float *out, size_t cap, ks_shape *os, ks_err *err)
{
	char bs[2][128], cfg[256];
	const ks_shape *sh[2] = {s, s2};
	for (int i = 0; i < (s2 ? 2 : 1); i++) {
		size_t u = (size_t)snprintf(bs[i], sizeof bs[i], "[null");
		for (int k = 1; k < sh[i]->rank; k++)
			u += (size_t)snprintf(bs[i] + u, sizeof bs[i] - u, ", %lld", (long long)sh[i]->d[k]);
		snprintf(bs[i] + u, sizeof bs[i] - u, "]");
	}
	snprintf(cfg, sizeof cfg, "{\"name\": \"tf.op\", \"function\": \"%s\"}", function);
	ks_model *m = eb_new("2.13.1");
	int a = eb_input(m, "a", bs[0]);
	int b = s2 ? eb_input(m, "b", bs[1]) : -1;
	int l = eb_layer(m, strcmp(function, "__operators__.getitem") == 0 ? "SlicingOpLambda" : "TFOpLambda",
	                 "tf.op", cfg);
	if (s2 && !strstr(kwargs, "\"y\""))
		eb_calln(m, l, 2, (int[]){a, b}); /* a list first argument, e.g. tf.concat */
	else
		eb_call1(m, l, a);
	json_error_t je;
	json_t *kw = json_loads(kwargs, 0, &je);
	assert_non_null(kw);
	json_array_append_new(m->owned_json, kw);
	m->layers[l].nodes[0].kwargs = kw;
	if (s2)
		eb_io(m, 2, (int[]){a, b}, l);
	else
		eb_io(m, 1, &a, l);
	ks_shape shapes[2] = {*s, s2 ? *s2 : *s};
	const float *in[2] = {x, x2};
	int rc = eb_run(m, s2 ? 2 : 1, shapes, in, out, cap, os, err);
	ks_model_free(m);
	return rc;
}

static void test_binary(void **state)
{
	ks_err err;
	ks_shape s = {2, {2, 3}}, os;
	float x[6] = {1, 2, 3, 4, 5, 6}, y[6];

	assert_int_equal(run_tf("math.multiply", "{\"y\": 2.0, \"name\": null}", &s, x, NULL, NULL, y, 6, &os, &err), 0);
	assert_float_equal(y[5], 12, EPS);
	assert_int_equal(run_tf("__operators__.add", "{\"y\": -1, \"name\": null}", &s, x, NULL, NULL, y, 6, &os, &err), 0);
	assert_float_equal(y[0], 0, EPS);
	assert_int_equal(run_tf("math.truediv", "{\"y\": 4.0}", &s, x, NULL, NULL, y, 6, &os, &err), 0);
	assert_float_equal(y[1], 0.5f, EPS);
	assert_int_equal(run_tf("math.pow", "{\"y\": 2}", &s, x, NULL, NULL, y, 6, &os, &err), 0);
	assert_float_equal(y[2], 9, EPS);

	/* tensor operand passed as y=[layer, node, tensor], broadcast over rows */
	ks_shape s2 = {2, {1, 3}};
	float b[3] = {10, 20, 30};
	assert_int_equal(run_tf("math.subtract", "{\"y\": [\"b\", 0, 0], \"name\": null}", &s, x, &s2, b, y, 6, &os, &err), 0);
	assert_int_equal(os.d[0], 2);
	const float want[6] = {-9, -18, -27, -6, -15, -24};
	for (int i = 0; i < 6; i++)
		assert_float_equal(y[i], want[i], EPS);
	ks_shape s3 = {2, {2, 2}};
	assert_int_equal(run_tf("math.add", "{\"y\": [\"b\", 0, 0]}", &s, x, &s3, b, y, 6, &os, &err), -1);
	assert_non_null(strstr(err.msg, "broadcast"));
	assert_int_equal(run_tf("math.add", "{\"y\": \"text\"}", &s, x, NULL, NULL, y, 6, &os, &err), -1);
}

/* Constants on either side and as lists; the element-wise math.* forms. */
static void test_binary_constants(void **state)
{
	ks_err err;
	ks_shape s = {2, {2, 3}}, os;
	float x[6] = {1, 2, 3, 4, 5, -6}, y[6];
	(void)state;

	/* `10 - t`: the graph puts the constant first argument in kwargs x */
	assert_int_equal(run_tf("math.subtract", "{\"x\": 10.0, \"name\": null}", &s, x, NULL, NULL, y, 6, &os, &err), 0);
	assert_float_equal(y[0], 9, EPS);
	assert_float_equal(y[5], 16, EPS);
	assert_int_equal(run_tf("math.truediv", "{\"x\": [1.0, 2.0, 4.0]}", &s, x, NULL, NULL, y, 6, &os, &err), 0);
	assert_float_equal(y[2], 4.0f / 3, EPS);
	assert_float_equal(y[3], 0.25f, EPS);
	/* a constant tensor (numpy's tolist()) broadcast over the batch */
	assert_int_equal(run_tf("math.multiply", "{\"y\": [[1, 0, -1]]}", &s, x, NULL, NULL, y, 6, &os, &err), 0);
	const float want_mul[6] = {1, 0, -3, 4, 0, 6};
	for (int i = 0; i < 6; i++)
		assert_float_equal(y[i], want_mul[i], EPS);
	assert_int_equal(os.rank, 2);
	assert_int_equal(run_tf("math.squared_difference", "{\"y\": 2}", &s, x, NULL, NULL, y, 6, &os, &err), 0);
	assert_float_equal(y[5], 64, EPS);
	/* floormod takes the divisor's sign (Python, TensorFlow) */
	assert_int_equal(run_tf("math.floormod", "{\"y\": 4}", &s, x, NULL, NULL, y, 6, &os, &err), 0);
	assert_float_equal(y[5], 2, EPS);
	assert_int_equal(run_tf("math.floormod", "{\"y\": -4}", &s, x, NULL, NULL, y, 6, &os, &err), 0);
	assert_float_equal(y[0], -3, EPS);
	assert_int_equal(run_tf("math.floordiv", "{\"y\": 4}", &s, x, NULL, NULL, y, 6, &os, &err), 0);
	assert_float_equal(y[5], -2, EPS);
	assert_int_equal(run_tf("math.divide_no_nan", "{\"y\": 0}", &s, x, NULL, NULL, y, 6, &os, &err), 0);
	assert_float_equal(y[1], 0, 0);
	assert_int_equal(run_tf("math.sign", "{}", &s, x, NULL, NULL, y, 6, &os, &err), 0);
	assert_float_equal(y[5], -1, 0);
	assert_int_equal(run_tf("math.erf", "{}", &s, x, NULL, NULL, y, 6, &os, &err), 0);
	assert_float_equal(y[0], 0.8427007929f, EPS);
	assert_int_equal(run_tf("math.log1p", "{}", &s, x, NULL, NULL, y, 6, &os, &err), 0);
	assert_float_equal(y[0], logf(2), EPS);
	/* ragged lists and words are refused */
	assert_int_equal(run_tf("math.add", "{\"y\": [[1, 2], [3]]}", &s, x, NULL, NULL, y, 6, &os, &err), -1);
	assert_non_null(strstr(err.msg, "rectangular"));
	assert_int_equal(run_tf("math.add", "{\"y\": [1, 2]}", &s, x, NULL, NULL, y, 6, &os, &err), -1);
	assert_non_null(strstr(err.msg, "broadcast"));
}

/* The tf.keras 2.x node forms end to end (ks_graph, ks_plan): `2.0 - a`
 * saved with ["_CONSTANT_VALUE", -1, 2.0, {"y": ["a", 0, 0]}], then `d + e`
 * between two layer outputs with y in the call kwargs. */
static void test_constant_first_argument_graph(void **state)
{
	json_error_t je;
	json_t *cfg = json_loads(
		"{\"class_name\": \"Functional\", \"config\": {\"name\": \"m\", \"layers\": ["
		" {\"class_name\": \"InputLayer\", \"name\": \"a\", \"config\": {\"name\": \"a\","
		"  \"batch_input_shape\": [null, 3], \"dtype\": \"float32\"}, \"inbound_nodes\": []},"
		" {\"class_name\": \"TFOpLambda\", \"name\": \"tf.math.subtract\", \"config\": {\"name\":"
		"  \"tf.math.subtract\", \"function\": \"math.subtract\"}, \"inbound_nodes\":"
		"  [[\"_CONSTANT_VALUE\", -1, 2.0, {\"y\": [\"a\", 0, 0], \"name\": null}]]},"
		" {\"class_name\": \"TFOpLambda\", \"name\": \"tf.math.multiply\", \"config\": {\"name\":"
		"  \"tf.math.multiply\", \"function\": \"math.multiply\"}, \"inbound_nodes\":"
		"  [[[\"a\", 0, 0, {\"y\": [0.5, 1.0, 2.0], \"name\": null}]]]},"
		" {\"class_name\": \"TFOpLambda\", \"name\": \"tf.__operators__.add\", \"config\": {\"name\":"
		"  \"tf.__operators__.add\", \"function\": \"__operators__.add\"}, \"inbound_nodes\":"
		"  [[[\"tf.math.subtract\", 0, 0, {\"y\": [\"tf.math.multiply\", 0, 0], \"name\": null}]]]}],"
		" \"input_layers\": [[\"a\", 0, 0]], \"output_layers\": [[\"tf.__operators__.add\", 0, 0]]}}",
		0, &je);
	ks_model *m = ks_model_new("tfop.h5");
	ks_err err;
	float x[6] = {1, 2, 3, -1, 0, 4};
	(void)state;

	assert_non_null(cfg);
	m->keras_version = ks_xstrdup("2.13.1");
	if (ks_graph_build(m, cfg, &err) < 0)
		fail_msg("graph: %s", err.msg);
	assert_int_equal(m->layers[1].nodes[0].n_in, 0);
	ks_plan_opts po = {.batch = 2};
	ks_plan *p = ks_plan_build(m, &po, &err);
	if (!p)
		fail_msg("plan: %s", err.msg);
	const float *in[1] = {x};
	ks_plan_run(p, in);
	const float *y = ks_plan_output(p, 0);
	const float k[3] = {0.5f, 1, 2};
	for (int i = 0; i < 6; i++)
		assert_float_equal(y[i], 2 - x[i] + x[i] * k[i % 3], EPS);
	ks_plan_free(p);
	ks_model_free(m);
	json_decref(cfg);
}

static void test_unary_and_act(void **state)
{
	ks_err err;
	ks_shape s = {2, {1, 3}}, os;
	float x[3] = {-1, 0, 4}, y[3];

	assert_int_equal(run_tf("nn.relu", "{\"name\": null}", &s, x, NULL, NULL, y, 3, &os, &err), 0);
	assert_float_equal(y[0], 0, 0);
	assert_float_equal(y[2], 4, 0);
	assert_int_equal(run_tf("math.sqrt", "{}", &s, x, NULL, NULL, y, 3, &os, &err), 0);
	assert_float_equal(y[2], 2, EPS);
	assert_int_equal(run_tf("math.negative", "{}", &s, x, NULL, NULL, y, 3, &os, &err), 0);
	assert_float_equal(y[0], 1, 0);
	assert_int_equal(run_tf("nn.softmax", "{\"axis\": -1}", &s, x, NULL, NULL, y, 3, &os, &err), 0);
	assert_float_equal(y[0] + y[1] + y[2], 1, EPS);
	assert_float_equal(y[1], 1.0f / (expf(-1) + 1 + expf(4)), EPS);
	assert_int_equal(run_tf("nn.leaky_relu", "{\"alpha\": 0.1}", &s, x, NULL, NULL, y, 3, &os, &err), 0);
	assert_float_equal(y[0], -0.1f, EPS);
	assert_int_equal(run_tf("math.sigmoid", "{}", &s, x, NULL, NULL, y, 3, &os, &err), 0);
	assert_float_equal(y[1], 0.5f, EPS);
}

static void test_shape_ops(void **state)
{
	ks_err err;
	ks_shape s = {3, {1, 2, 3}}, os;
	float x[6] = {1, 2, 3, 4, 5, 6}, y[6];

	assert_int_equal(run_tf("math.reduce_mean", "{\"axis\": 1, \"keepdims\": false}", &s, x, NULL, NULL, y, 6, &os, &err), 0);
	assert_int_equal(os.rank, 2);
	assert_int_equal(os.d[1], 3);
	assert_float_equal(y[0], 2.5f, EPS);
	assert_float_equal(y[2], 4.5f, EPS);
	assert_int_equal(run_tf("math.reduce_sum", "{\"axis\": [-1], \"keepdims\": true}", &s, x, NULL, NULL, y, 6, &os, &err), 0);
	assert_int_equal(os.rank, 3);
	assert_int_equal(os.d[2], 1);
	assert_float_equal(y[1], 15, EPS);
	assert_int_equal(run_tf("math.reduce_max", "{\"axis\": [1, 2]}", &s, x, NULL, NULL, y, 6, &os, &err), 0);
	assert_int_equal(os.rank, 1);
	assert_float_equal(y[0], 6, EPS);
	assert_int_equal(run_tf("math.reduce_max", "{\"axis\": null}", &s, x, NULL, NULL, y, 6, &os, &err), -1);

	assert_int_equal(run_tf("transpose", "{\"perm\": [0, 2, 1]}", &s, x, NULL, NULL, y, 6, &os, &err), 0);
	assert_int_equal(os.d[1], 3);
	const float tw[6] = {1, 4, 2, 5, 3, 6};
	for (int i = 0; i < 6; i++)
		assert_float_equal(y[i], tw[i], 0);
	assert_int_equal(run_tf("transpose", "{\"perm\": [1, 0, 2]}", &s, x, NULL, NULL, y, 6, &os, &err), -1);

	assert_int_equal(run_tf("reshape", "{\"shape\": [-1, 3, 2]}", &s, x, NULL, NULL, y, 6, &os, &err), 0);
	assert_int_equal(os.d[1], 3);
	assert_int_equal(run_tf("reshape", "{\"shape\": [-1, -1]}", &s, x, NULL, NULL, y, 6, &os, &err), -1);
	assert_int_equal(run_tf("reshape", "{\"shape\": [-1, 4]}", &s, x, NULL, NULL, y, 6, &os, &err), -1);
	assert_int_equal(run_tf("reshape", "{\"shape\": [-1, 6]}", &s, x, NULL, NULL, y, 6, &os, &err), 0);
	assert_int_equal(os.rank, 2);
	assert_int_equal(run_tf("expand_dims", "{\"axis\": -1}", &s, x, NULL, NULL, y, 6, &os, &err), 0);
	assert_int_equal(os.rank, 4);
	assert_int_equal(os.d[3], 1);
	ks_shape s1 = {3, {1, 1, 3}};
	assert_int_equal(run_tf("compat.v1.squeeze", "{\"axis\": [1]}", &s1, x, NULL, NULL, y, 6, &os, &err), 0);
	assert_int_equal(os.rank, 2);
	assert_int_equal(run_tf("compat.v1.squeeze", "{\"axis\": [2]}", &s1, x, NULL, NULL, y, 6, &os, &err), -1);

	/* concat of two tensors (the first argument is a list) */
	ks_shape sb = {3, {1, 2, 1}};
	float b[2] = {7, 8}, z[8];
	assert_int_equal(run_tf("concat", "{\"axis\": -1, \"name\": null}", &s, x, &sb, b, z, 8, &os, &err), 0);
	assert_int_equal(os.d[2], 4);
	const float cw[8] = {1, 2, 3, 7, 4, 5, 6, 8};
	for (int i = 0; i < 8; i++)
		assert_float_equal(z[i], cw[i], 0);
	assert_int_equal(run_tf("concat", "{\"axis\": 1}", &s, x, &sb, b, z, 8, &os, &err), -1);
}

static void test_getitem(void **state)
{
	ks_err err;
	ks_shape s = {3, {1, 3, 4}}, os;
	float x[12], y[12];
	for (int i = 0; i < 12; i++)
		x[i] = (float)i; /* x[0][r][c] = 4r + c */
	const char *f = "__operators__.getitem";

	/* x[:, -1] -> row 2 */
	assert_int_equal(run_tf(f, "{\"slice_spec\": [{\"start\": null, \"stop\": null, \"step\": null}, -1]}",
	                        &s, x, NULL, NULL, y, 12, &os, &err), 0);
	assert_int_equal(os.rank, 2);
	assert_int_equal(os.d[1], 4);
	for (int i = 0; i < 4; i++)
		assert_float_equal(y[i], 8 + i, 0);
	/* x[:, 1:, ::2] -> rows 1,2 cols 0,2 */
	assert_int_equal(run_tf(f, "{\"slice_spec\": [{\"start\": null, \"stop\": null, \"step\": null}, "
	                           "{\"start\": 1, \"stop\": null, \"step\": null}, {\"start\": null, \"stop\": null, \"step\": 2}]}",
	                        &s, x, NULL, NULL, y, 12, &os, &err), 0);
	assert_int_equal(os.d[1], 2);
	assert_int_equal(os.d[2], 2);
	const float w[4] = {4, 6, 8, 10};
	for (int i = 0; i < 4; i++)
		assert_float_equal(y[i], w[i], 0);
	/* x[..., 0, None] -> column 0 with a new last axis */
	assert_int_equal(run_tf(f, "{\"slice_spec\": [{\"class_name\": \"__ellipsis__\"}, 0, null]}",
	                        &s, x, NULL, NULL, y, 12, &os, &err), 0);
	assert_int_equal(os.rank, 3);
	assert_int_equal(os.d[1], 3);
	assert_int_equal(os.d[2], 1);
	assert_float_equal(y[2], 8, 0);
	/* the batch axis must stay whole; out-of-range and negative steps refused */
	assert_int_equal(run_tf(f, "{\"slice_spec\": [0]}", &s, x, NULL, NULL, y, 12, &os, &err), -1);
	assert_non_null(strstr(err.msg, "batch"));
	assert_int_equal(run_tf(f, "{\"slice_spec\": [{\"start\": null, \"stop\": null, \"step\": null}, 5]}",
	                        &s, x, NULL, NULL, y, 12, &os, &err), -1);
	assert_int_equal(run_tf(f, "{\"slice_spec\": [{\"start\": null, \"stop\": null, \"step\": null}, "
	                           "{\"start\": null, \"stop\": null, \"step\": -1}]}",
	                        &s, x, NULL, NULL, y, 12, &os, &err), -1);
}

static void test_unknown_function(void **state)
{
	ks_err err;
	ks_shape s = {2, {1, 3}}, os;
	float x[3] = {0}, y[3];
	assert_int_equal(run_tf("signal.fft", "{}", &s, x, NULL, NULL, y, 3, &os, &err), -1);
	assert_non_null(strstr(err.msg, "tf.signal.fft"));
	assert_non_null(strstr(err.msg, "tf.op"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_binary),
		cmocka_unit_test(test_binary_constants),
		cmocka_unit_test(test_constant_first_argument_graph),
		cmocka_unit_test(test_unary_and_act),
		cmocka_unit_test(test_shape_ops),
		cmocka_unit_test(test_getitem),
		cmocka_unit_test(test_unknown_function),
	};
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
