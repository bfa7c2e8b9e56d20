/* test_plan: graph resolution, validation messages, memory reuse, tracing,
 * `until`, nested models and shape inference of ks_plan, on small
 * hand-built models with hand-computed outputs. */
#include "config.h"

#include "ks_test.h"

#include <math.h>

#include "engine_build.h"
#include "ks_plan.h"

#define EPS 1e-6f

/* Dense without bias: kernel (in, out) given row-major. */
static int dense(ks_model *m, const char *name, int in, int out, const float *k, const char *act)
{
	char cfg[160];
	snprintf(cfg, sizeof cfg, "{\"units\": %d, \"use_bias\": false, \"activation\": \"%s\"}", out, act);
	int l = eb_layer(m, "Dense", name, cfg);
	eb_weight(m, l, "kernel", 2, (int64_t[]){in, out}, k);
	return l;
}

/* x (2) -> a = x.A, b = relu(x.B) -> add(a, b) */
static ks_model *diamond(void)
{
	static const float A[4] = {1, 0, 0, 1};   /* identity */
	static const float B[4] = {2, 0, 0, -1};  /* (2x0, -x1) */
	ks_model *m = eb_new("2.13.1");
	int x = eb_input(m, "x", "[null, 2]");
	int a = dense(m, "a", 2, 2, A, "linear");
	int b = dense(m, "b", 2, 2, B, "relu");
	int s = eb_layer(m, "Add", "sum", "{}");
	eb_call1(m, a, x);
	eb_call1(m, b, x);
	eb_calln(m, s, 2, (int[]){a, b});
	eb_io(m, 1, &x, s);
	return m;
}

static void test_diamond(void **state)
{
	ks_err err;
	ks_model *m = diamond();
	ks_plan_opts po = {.batch = 2};
	ks_plan *p = ks_plan_build(m, &po, &err);
	if (!p)
		fail_msg("%s", err.msg);
	assert_int_equal(ks_plan_n_steps(p), 4);
	assert_int_equal(ks_plan_n_inputs(p), 1);
	assert_int_equal(ks_plan_input_shape(p, 0)->d[0], 2);
	float x[4] = {1, 2, -3, -4};
	const float *in[1] = {x};
	ks_plan_run(p, in);
	const float *y = ks_plan_output(p, 0);
	/* row 0: (1,2) + relu(2,-2) = (3, 2); row 1: (-3,-4) + relu(-6, 4) = (-3, 0) */
	assert_float_equal(y[0], 3, EPS);
	assert_float_equal(y[1], 2, EPS);
	assert_float_equal(y[2], -3, EPS);
	assert_float_equal(y[3], 0, EPS);
	assert_string_equal(ks_plan_output_name(p, 0), "sum");
	/* intermediate buffers are reused and not exposed without keep_all */
	assert_null(ks_plan_step_output(p, 1, 0));
	/* running twice gives the same answer (no state kept between runs) */
	ks_plan_run(p, in);
	assert_float_equal(ks_plan_output(p, 0)[0], 3, EPS);
	ks_plan_free(p);

	po.keep_all = true;
	p = ks_plan_build(m, &po, &err);
	assert_non_null(p);
	ks_plan_run(p, in);
	for (int i = 0; i < ks_plan_n_steps(p); i++)
		assert_non_null(ks_plan_step_output(p, i, 0));
	/* find step "b" and check relu(x.B) */
	for (int i = 0; i < ks_plan_n_steps(p); i++)
		if (strcmp(ks_plan_step_info(p, i)->name, "b") == 0) {
			const float *v = ks_plan_step_output(p, i, 0);
			assert_float_equal(v[0], 2, EPS);
			assert_float_equal(v[1], 0, EPS);
			assert_float_equal(v[3], 4, EPS);
		}
	ks_plan_free(p);
	ks_model_free(m);
}

/* A long chain reuses buffers: the arena holds far fewer than all activations. */
static void test_memory_reuse(void **state)
{
	static float I[64 * 64];
	ks_err err;
	ks_model *m = eb_new("2.13.1");
	int prev = eb_input(m, "x", "[null, 64]");
	int x = prev;
	for (int i = 0; i < 64; i++)
		I[i * 64 + i] = 1.0f;
	for (int k = 0; k < 20; k++) {
		char name[16];
		snprintf(name, sizeof name, "d%d", k);
		int d = dense(m, name, 64, 64, I, "linear");
		eb_call1(m, d, prev);
		prev = d;
	}
	eb_io(m, 1, &x, prev);
	ks_plan_opts po = {.batch = 8};
	ks_plan *p = ks_plan_build(m, &po, &err);
	assert_non_null(p);
	/* 21 values of 8*64 floats each; live at once: at most 3 */
	assert_true(ks_plan_arena_bytes(p) <= 3 * 8 * 64 * sizeof(float));
	float in0[8 * 64];
	for (int i = 0; i < 8 * 64; i++)
		in0[i] = (float)i;
	const float *in[1] = {in0};
	ks_plan_run(p, in);
	for (int i = 0; i < 8 * 64; i++)
		assert_float_equal(ks_plan_output(p, 0)[i], (float)i, EPS);
	ks_plan_free(p);
	po.keep_all = true;
	p = ks_plan_build(m, &po, &err);
	assert_true(ks_plan_arena_bytes(p) >= 21 * 8 * 64 * sizeof(float));
	ks_plan_free(p);
	ks_model_free(m);
}

/* One Dense applied to two inputs: two steps, same weights. */
static void test_shared_layer(void **state)
{
	static const float K[2] = {2, 3}; /* (2, 1) */
	ks_err err;
	ks_model *m = eb_new("2.13.1");
	int x1 = eb_input(m, "x1", "[null, 2]");
	int x2 = eb_input(m, "x2", "[null, 2]");
	int d = dense(m, "shared", 2, 1, K, "linear");
	int c = eb_layer(m, "Concatenate", "cat", "{\"axis\": -1}");
	eb_call1(m, d, x1);
	eb_call1(m, d, x2);
	eb_call(m, c, 2, (ks_ref[]){{d, 0, 0}, {d, 1, 0}});
	eb_io(m, 2, (int[]){x1, x2}, c);
	ks_shape s[2] = {{2, {1, 2}}, {2, {1, 2}}};
	float a[2] = {1, 1}, b[2] = {1, -1}, y[2];
	const float *in[2] = {a, b};
	ks_shape os;
	if (eb_run(m, 2, s, in, y, 2, &os, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(os.d[1], 2);
	assert_float_equal(y[0], 5, EPS);
	assert_float_equal(y[1], -1, EPS);

	/* a reference to a call that does not exist */
	m->layers[c].nodes[0].in[1].node = 5;
	assert_int_equal(eb_run(m, 2, s, in, y, 2, &os, &err), -1);
	assert_non_null(strstr(err.msg, "shared"));
	ks_model_free(m);
}

/* Outer model calling a nested model; refs to it count its own node 0 (Keras 2). */
static void test_nested(void **state)
{
	static const float K[2] = {1, -1};
	ks_err err;
	ks_model *inner = eb_new(NULL);
	int ii = eb_input(inner, "in_x", "[null, 2]");
	int id = dense(inner, "inner_dense", 2, 1, K, "relu");
	eb_call1(inner, id, ii);
	eb_io(inner, 1, &ii, id);

	ks_model *m = eb_new("2.13.1");
	int x = eb_input(m, "x", "[null, 2]");
	int sub = eb_layer(m, "Functional", "sub", "{}");
	m->layers[sub].inner = inner;
	inner->parent = m;
	eb_call1(m, sub, x);
	int act = eb_layer(m, "Activation", "neg", "{\"activation\": \"linear\"}");
	eb_call(m, act, 1, (ks_ref[]){{sub, 1, 0}}); /* node index 1, as Keras 2 writes it */
	eb_io(m, 1, &x, act);

	ks_shape s = {2, {2, 2}};
	float a[4] = {3, 1, 1, 3}, y[2];
	const float *in[1] = {a};
	if (eb_run(m, 1, &s, in, y, 2, NULL, &err) < 0)
		fail_msg("%s", err.msg);
	assert_float_equal(y[0], 2, EPS);
	assert_float_equal(y[1], 0, EPS);

	/* until a nested layer, by path and by bare name */
	ks_plan_opts po = {.input_shapes = &s, .n_input_shapes = 1, .until = "sub/inner_dense", .keep_all = true};
	ks_plan *p = ks_plan_build(m, &po, &err);
	if (!p)
		fail_msg("%s", err.msg);
	ks_plan_run(p, in);
	assert_float_equal(ks_plan_output(p, 0)[0], 2, EPS);
	bool seen = false;
	for (int i = 0; i < ks_plan_n_steps(p); i++)
		if (strcmp(ks_plan_step_info(p, i)->name, "sub/inner_dense") == 0) {
			seen = true;
			assert_int_equal(ks_plan_step_info(p, i)->top_layer, sub);
		}
	assert_true(seen);
	ks_plan_free(p);
	po.until = "inner_dense";
	p = ks_plan_build(m, &po, &err);
	assert_non_null(p);
	ks_plan_free(p);
	po.until = "nope";
	assert_null(ks_plan_build(m, &po, &err));
	assert_non_null(strstr(err.msg, "nope"));

	/* shapes for display: batch None everywhere */
	ks_shape shapes[3];
	ks_infer_layer_shapes(m, shapes);
	assert_int_equal(shapes[sub].rank, 2);
	assert_int_equal(shapes[sub].d[0], -1);
	assert_int_equal(shapes[sub].d[1], 1);
	ks_model_free(m);
}

/* A nested model applied to two inputs (a siamese network as tf.keras 2
 * writes it: refs to its calls are node 1 and 2). Both branches share one
 * set of weights. */
static void test_siamese(void **state)
{
	static const float K[2] = {1, -1};
	ks_err err;
	ks_model *inner = eb_new(NULL);
	int ii = eb_input(inner, "in_x", "[null, 2]");
	int id = dense(inner, "inner_dense", 2, 1, K, "linear");
	eb_call1(inner, id, ii);
	eb_io(inner, 1, &ii, id);

	ks_model *m = eb_new("2.8.0");
	int a = eb_input(m, "a", "[null, 2]");
	int b = eb_input(m, "b", "[null, 2]");
	int sub = eb_layer(m, "Functional", "model_117", "{}");
	m->layers[sub].inner = inner;
	inner->parent = m;
	eb_call1(m, sub, a);
	eb_call1(m, sub, b);
	int d = eb_layer(m, "Subtract", "diff", "{}");
	eb_call(m, d, 2, (ks_ref[]){{sub, 1, 0}, {sub, 2, 0}});
	eb_io(m, 2, (int[]){a, b}, d);

	ks_shape s[2] = {{2, {1, 2}}, {2, {1, 2}}};
	float x[2] = {5, 1}, y[2] = {2, 3}, out[1];
	const float *in[2] = {x, y};
	if (eb_run(m, 2, s, in, out, 1, NULL, &err) < 0)
		fail_msg("%s", err.msg);
	/* (5 - 1) - (2 - 3) = 5 */
	assert_float_equal(out[0], 5, EPS);

	ks_plan_opts po = {.input_shapes = s, .n_input_shapes = 2};
	ks_plan *p = ks_plan_build(m, &po, &err);
	assert_non_null(p);
	int n = 0;
	for (int i = 0; i < ks_plan_n_steps(p); i++)
		if (strcmp(ks_plan_step_info(p, i)->name, "model_117/inner_dense") == 0)
			n++;
	assert_int_equal(n, 2);
	ks_plan_free(p);
	ks_model_free(m);
}

static void test_refusals(void **state)
{
	static const float K[4] = {1, 0, 0, 1};
	ks_err err;
	ks_model *m = eb_new("2.13.1");
	int x = eb_input(m, "x", "[null, 2]");
	int d = dense(m, "first", 2, 2, K, "linear");
	int lam = eb_layer(m, "Lambda", "my_lambda", "{\"function\": [\"YWJj\", null, null]}");
	int out = dense(m, "last", 2, 2, K, "linear");
	eb_call1(m, d, x);
	eb_call1(m, lam, d);
	eb_call1(m, out, lam);
	eb_io(m, 1, &x, out);

	ks_plan_opts po = {.batch = 1};
	assert_null(ks_plan_build(m, &po, &err));
	assert_non_null(strstr(err.msg, "my_lambda"));
	assert_non_null(strstr(err.msg, "Lambda"));
	assert_non_null(strstr(err.msg, "test-model"));

	/* --until before the Lambda runs */
	po.until = "first";
	ks_plan *p = ks_plan_build(m, &po, &err);
	if (!p)
		fail_msg("%s", err.msg);
	ks_plan_free(p);

	/* display shapes: known before the Lambda, unknown at and after it */
	ks_shape shapes[4];
	ks_infer_layer_shapes(m, shapes);
	assert_int_equal(shapes[x].rank, 2);
	assert_int_equal(shapes[d].d[1], 2);
	assert_int_equal(shapes[lam].rank, -1);
	assert_int_equal(shapes[out].rank, -1);

	/* a custom class names its layer and class */
	free(m->layers[lam].class_name);
	m->layers[lam].class_name = ks_xstrdup("ScaledTanh");
	po.until = NULL;
	assert_null(ks_plan_build(m, &po, &err));
	assert_non_null(strstr(err.msg, "ScaledTanh"));
	ks_model_free(m);
}

static void test_validation(void **state)
{
	static const float K[6] = {1, 2, 3, 4, 5, 6};
	ks_err err;
	ks_model *m = eb_new("2.13.1");
	int x = eb_input(m, "x", "[null, 3]");
	int d = dense(m, "dense_1", 2, 3, K, "linear"); /* kernel (2,3) but input has 3 features */
	eb_call1(m, d, x);
	eb_io(m, 1, &x, d);
	ks_plan_opts po = {.batch = 1};
	assert_null(ks_plan_build(m, &po, &err));
	assert_non_null(strstr(err.msg, "dense_1"));
	assert_non_null(strstr(err.msg, "(2, 3)"));
	assert_non_null(strstr(err.msg, "(3, 3)"));

	ks_model_free(m);

	/* input shapes that do not fit the InputLayer */
	m = eb_new("2.13.1");
	x = eb_input(m, "x", "[null, 3]");
	d = dense(m, "dense_1", 3, 2, K, "linear");
	eb_call1(m, d, x);
	eb_io(m, 1, &x, d);
	ks_shape bad = {2, {1, 4}};
	po.input_shapes = &bad;
	po.n_input_shapes = 1;
	assert_null(ks_plan_build(m, &po, &err));
	assert_non_null(strstr(err.msg, "(None, 3)"));
	assert_non_null(strstr(err.msg, "(1, 4)"));

	/* an unknown activation is refused at plan time */
	json_object_set_new(m->layers[d].config, "activation", json_string("wobble"));
	po.input_shapes = NULL;
	assert_null(ks_plan_build(m, &po, &err));
	if (!strstr(err.msg, "wobble"))
		fail_msg("%s", err.msg);
	ks_model_free(m);
}

static void test_cycle(void **state)
{
	static const float K[1] = {1};
	ks_err err;
	ks_model *m = eb_new("2.13.1");
	int x = eb_input(m, "x", "[null, 1]");
	int a = eb_layer(m, "Add", "a", "{}");
	int b = dense(m, "b", 1, 1, K, "linear");
	eb_call(m, a, 2, (ks_ref[]){{x, 0, 0}, {b, 0, 0}});
	eb_call1(m, b, a);
	eb_io(m, 1, &x, b);
	ks_plan_opts po = {.batch = 1};
	assert_null(ks_plan_build(m, &po, &err));
	assert_non_null(strstr(err.msg, "cycle"));
	ks_shape sh[3];
	ks_infer_layer_shapes(m, sh); /* must terminate */
	assert_int_equal(sh[b].rank, -1);
	ks_model_free(m);
}

static void test_unknown_dims(void **state)
{
	ks_err err;
	ks_model *m = eb_new("2.13.1");
	int x = eb_input(m, "x", "[null, null, 2]");
	int d = eb_layer(m, "Dropout", "drop", "{\"rate\": 0.5}");
	eb_call1(m, d, x);
	eb_io(m, 1, &x, d);
	ks_plan_opts po = {.batch = 1};
	assert_null(ks_plan_build(m, &po, &err));
	assert_non_null(strstr(err.msg, "unknown"));
	ks_shape s = {3, {1, 3, 2}};
	float v[6] = {1, 2, 3, 4, 5, 6}, y[6];
	const float *in[1] = {v};
	ks_shape os;
	assert_int_equal(eb_run(m, 1, &s, in, y, 6, &os, &err), 0);
	assert_int_equal(os.d[1], 3);
	for (int i = 0; i < 6; i++)
		assert_float_equal(y[i], v[i], 0); /* identity at inference */
	ks_model_free(m);
}

/* A mask reaching a layer that would use it is reported, not silently
 * ignored, unless it reaches a kernel that honours it (GlobalAveragePooling1D,
 * the RNNs) straight or through identity layers only. */
static void test_mask_note(void **state)
{
	ks_err err;
	ks_model *m = eb_new("2.13.1");
	int x = eb_input(m, "x", "[null, 4, 2]");
	int mk = eb_layer(m, "Masking", "masking_1", "{\"mask_value\": 0.0}");
	int dr = eb_layer(m, "Activation", "act", "{\"activation\": \"relu\"}");
	int gp = eb_layer(m, "GlobalAveragePooling1D", "pool", "{}");
	eb_call1(m, mk, x);
	eb_call1(m, dr, mk);
	eb_call1(m, gp, dr);
	eb_io(m, 1, &x, gp);
	ks_plan_opts po = {.batch = 1};
	ks_plan *p = ks_plan_build(m, &po, &err);
	if (!p)
		fail_msg("%s", err.msg);
	assert_int_equal(ks_plan_n_notes(p), 1);
	assert_non_null(strstr(ks_plan_note(p, 0), "pool"));
	assert_non_null(strstr(ks_plan_note(p, 0), "masking_1"));
	ks_plan_free(p);
	/* through a Dropout only, the pooling kernel recovers the mask itself */
	free(m->layers[dr].class_name);
	m->layers[dr].class_name = ks_xstrdup("Dropout");
	p = ks_plan_build(m, &po, &err);
	if (!p)
		fail_msg("%s", err.msg);
	assert_int_equal(ks_plan_n_notes(p), 0);
	ks_plan_free(p);
	/* without the Masking layer there is nothing to say */
	m->layers[dr].nodes[0].in[0].layer = x;
	p = ks_plan_build(m, &po, &err);
	assert_non_null(p);
	assert_int_equal(ks_plan_n_notes(p), 0);
	ks_plan_free(p);
	ks_model_free(m);
}

/* tf.keras writes tensors passed by keyword ([layer, node, tensor] in the
 * kwargs dict); they become inputs after the first argument. */
static void test_kwarg_tensors(void **state)
{
	ks_err err;
	ks_model *m = eb_new("2.13.1");
	int a = eb_input(m, "a", "[null, 2]");
	int b = eb_input(m, "b", "[null, 2]");
	int s = eb_layer(m, "Subtract", "sub", "{}");
	eb_call1(m, s, a);
	json_error_t je;
	m->layers[s].nodes[0].kwargs = json_loads("{\"y\": [\"b\", 0, 0], \"name\": null}", 0, &je);
	json_array_append_new(m->owned_json, m->layers[s].nodes[0].kwargs);
	eb_io(m, 2, (int[]){a, b}, s);
	ks_shape sh[2] = {{2, {1, 2}}, {2, {1, 2}}};
	float x[2] = {5, 7}, y[2] = {1, 2}, out[2];
	const float *in[2] = {x, y};
	if (eb_run(m, 2, sh, in, out, 2, NULL, &err) < 0)
		fail_msg("%s", err.msg);
	assert_float_equal(out[0], 4, EPS);
	assert_float_equal(out[1], 5, EPS);
	ks_model_free(m);
}

/* Very deep graphs: a 60,000-layer chain runs (planned in linear time:
 * shared-layer twins are found by a hash, not a scan); deeper than the
 * resolver's 65,536 fails cleanly instead of exhausting the stack. */
static ks_model *chain(int n)
{
	ks_model *m = eb_new("2.13.1");
	int prev = eb_input(m, "x", "[null, 2]");
	int x = prev;
	for (int k = 0; k < n; k++) {
		char name[32];
		snprintf(name, sizeof name, "act_%d", k);
		int l = eb_layer(m, "Activation", name, "{\"activation\": \"relu\"}");
		eb_call1(m, l, prev);
		prev = l;
	}
	eb_io(m, 1, &x, prev);
	return m;
}

static void test_deep(void **state)
{
	ks_err err;
	ks_model *m = chain(60000);
	ks_shape s = {2, {1, 2}};
	float v[2] = {-1, 2}, y[2];
	const float *in[1] = {v};
	if (eb_run(m, 1, &s, in, y, 2, NULL, &err) < 0)
		fail_msg("%s", err.msg);
	assert_float_equal(y[0], 0, 0);
	assert_float_equal(y[1], 2, 0);
	ks_model_free(m);
	m = chain(100000);
	assert_int_equal(eb_run(m, 1, &s, in, y, 2, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "deeper"));
	ks_shape *shapes = malloc(sizeof(ks_shape) * 100001);
	ks_infer_layer_shapes(m, shapes); /* must return, shapes beyond the limit unknown */
	assert_int_equal(shapes[1].rank, 2);
	free(shapes);
	ks_model_free(m);
}

/* An InputLayer whose config declares no shape takes the given data's. */
static void test_undeclared_input(void **state)
{
	ks_err err;
	ks_model *m = eb_new("3.4.1");
	int x = eb_layer(m, "InputLayer", "x", "{\"name\": \"x\"}");
	int a = eb_layer(m, "Activation", "act", "{\"activation\": \"relu\"}");
	eb_call1(m, a, x);
	eb_io(m, 1, &x, a);
	ks_plan_opts po = {.batch = 1};
	assert_null(ks_plan_build(m, &po, &err));
	assert_non_null(strstr(err.msg, "shape"));
	ks_shape s = {3, {1, 2, 2}}, os;
	float v[4] = {-1, 2, -3, 4}, y[4];
	const float *in[1] = {v};
	if (eb_run(m, 1, &s, in, y, 4, &os, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(os.rank, 3);
	assert_float_equal(y[1], 2, 0);
	assert_float_equal(y[2], 0, 0);
	ks_model_free(m);
}

static void test_keras_major(void **state)
{
	ks_model *m = eb_new("1.2.2");
	assert_int_equal(ks_model_keras_major(m), 1);
	free(m->keras_version);
	m->keras_version = ks_xstrdup("2.2.4-tf");
	assert_int_equal(ks_model_keras_major(m), 2);
	free(m->keras_version);
	m->keras_version = ks_xstrdup("3.4.1");
	assert_int_equal(ks_model_keras_major(m), 3);
	free(m->keras_version);
	m->keras_version = NULL;
	assert_int_equal(ks_model_keras_major(m), 2);
	m->format = KS_FMT_KERAS3_WEIGHTS;
	assert_int_equal(ks_model_keras_major(m), 3);
	ks_model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diamond),
		cmocka_unit_test(test_memory_reuse),
		cmocka_unit_test(test_shared_layer),
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_siamese),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_validation),
		cmocka_unit_test(test_cycle),
		cmocka_unit_test(test_unknown_dims),
		cmocka_unit_test(test_mask_note),
		cmocka_unit_test(test_kwarg_tensors),
		cmocka_unit_test(test_deep),
		cmocka_unit_test(test_undeclared_input),
		cmocka_unit_test(test_keras_major),
	};
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
