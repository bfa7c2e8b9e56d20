/* test_cost: FLOPs and bytes of plan steps (ks_cost.h) against counts done
 * by hand for small conv, dense and recurrent models, and the timed run
 * (ks_plan_run_timed) computing exactly what ks_plan_run computes. Times
 * themselves are never tested. */
#include "config.h"

#include "ks_test.h"

#include <string.h>

#include "engine_build.h"
#include "ks_cost.h"
#include "ks_plan.h"

/* Deterministic weight values (the counts do not depend on them). */
static float *vals(int64_t n)
{
	static float buf[8192];
	assert_true(n <= 8192);
	for (int64_t i = 0; i < n; i++)
		buf[i] = (float)((i * 37) % 17) / 17.0f - 0.5f;
	return buf;
}

static void weight(ks_model *m, int l, const char *name, int rank, const int64_t *shape)
{
	int64_t n = 1;
	for (int k = 0; k < rank; k++)
		n *= shape[k];
	eb_weight(m, l, name, rank, shape, vals(n));
}

static ks_plan *plan(ks_model *m, int64_t batch)
{
	ks_err err;
	ks_plan_opts o = {.batch = batch};
	ks_plan *p = ks_plan_build(m, &o, &err);
	if (!p)
		fail_msg("plan: %s", err.msg);
	return p;
}

static const ks_plan_step *step(const ks_plan *p, const char *name)
{
	for (int i = 0; i < ks_plan_n_steps(p); i++)
		if (strcmp(ks_plan_step_info(p, i)->name, name) == 0)
			return ks_plan_step_info(p, i);
	fail_msg("no step %s", name);
	return NULL;
}

/* x (10, 10, 3) -> conv a: 16 filters 3x3 valid -> (8, 8, 16)
 *               -> conv b: 16 filters 3x3 same (the Winograd path) -> (8, 8, 16)
 *               -> flatten (1024) -> dense: 5 units */
static ks_model *conv_dense(void)
{
	ks_model *m = eb_new("2.13.1");
	int x = eb_input(m, "x", "[null, 10, 10, 3]");
	int a = eb_layer(m, "Conv2D", "a", "{\"filters\": 16, \"kernel_size\": [3, 3], \"padding\": \"valid\", "
	                 "\"activation\": \"relu\"}");
	weight(m, a, "kernel", 4, (int64_t[]){3, 3, 3, 16});
	weight(m, a, "bias", 1, (int64_t[]){16});
	int b = eb_layer(m, "Conv2D", "b", "{\"filters\": 16, \"kernel_size\": 3, \"padding\": \"same\"}");
	weight(m, b, "kernel", 4, (int64_t[]){3, 3, 16, 16});
	weight(m, b, "bias", 1, (int64_t[]){16});
	int f = eb_layer(m, "Flatten", "flat", "{}");
	int d = eb_layer(m, "Dense", "dense", "{\"units\": 5}");
	weight(m, d, "kernel", 2, (int64_t[]){1024, 5});
	weight(m, d, "bias", 1, (int64_t[]){5});
	eb_call1(m, a, x);
	eb_call1(m, b, a);
	eb_call1(m, f, b);
	eb_call1(m, d, f);
	eb_io(m, 1, &x, d);
	return m;
}

static void test_conv_dense(void **state)
{
	(void)state;
	ks_model *m = conv_dense();
	ks_plan *p = plan(m, 2);

	/* 2 x batch x output elements x multiply-adds per element */
	assert_float_equal(ks_plan_step_flops(step(p, "a")), 2.0 * 2 * (8 * 8 * 16) * (3 * 3 * 3), 0);
	assert_float_equal(ks_plan_step_flops(step(p, "b")), 2.0 * 2 * (8 * 8 * 16) * (3 * 3 * 16), 0);
	assert_float_equal(ks_plan_step_flops(step(p, "dense")), 2.0 * 2 * 5 * 1024, 0);
	assert_float_equal(ks_plan_step_flops(step(p, "flat")), 0, 0);
	assert_float_equal(ks_plan_step_flops(step(p, "x")), 0, 0);
	/* bytes: weights + input + output, float32 */
	assert_float_equal(ks_plan_step_bytes(step(p, "a")),
	                   4.0 * ((27 * 16 + 16) + 2 * 300 + 2 * 1024), 0);
	assert_float_equal(ks_plan_step_bytes(step(p, "dense")), 4.0 * ((5120 + 5) + 2 * 1024 + 2 * 5), 0);
	assert_float_equal(ks_plan_step_bytes(step(p, "x")), 4.0 * 2 * 300, 0);
	ks_plan_free(p);
	ks_model_free(m);
}

/* The timed run computes bit for bit what the plain run does, and gives
 * every step a time. */
static void test_timed_run(void **state)
{
	(void)state;
	ks_model *m = conv_dense();
	ks_plan *p = plan(m, 2);
	float x[600], y[10];
	const float *in[1] = {x};
	int n = ks_plan_n_steps(p);
	ks_step_time t[8];

	assert_true(n <= 8);
	for (int i = 0; i < 600; i++)
		x[i] = (float)((i * 7919) % 2001) / 1000.0f - 1.0f;
	ks_plan_run(p, in);
	memcpy(y, ks_plan_output(p, 0), sizeof y);
	for (int i = 0; i < n; i++)
		t[i] = (ks_step_time){-1, -1};
	ks_plan_run_timed(p, in, t);
	assert_memory_equal(y, ks_plan_output(p, 0), sizeof y);
	for (int i = 0; i < n; i++) {
		assert_true(t[i].wall_ms >= 0);
		assert_true(t[i].cpu_ms >= 0);
	}
	ks_plan_free(p);
	ks_model_free(m);
}

/* LSTM (5 steps of 3 features, 2 units): kernel (3, 8) and recurrent
 * kernel (2, 8) once per sample and step; the bias is not a product. */
static void test_lstm(void **state)
{
	(void)state;
	ks_model *m = eb_new("2.13.1");
	int x = eb_input(m, "x", "[null, 5, 3]");
	int l = eb_layer(m, "LSTM", "lstm", "{\"units\": 2}");
	weight(m, l, "kernel", 2, (int64_t[]){3, 8});
	weight(m, l, "recurrent_kernel", 2, (int64_t[]){2, 8});
	weight(m, l, "bias", 1, (int64_t[]){8});
	eb_call1(m, l, x);
	eb_io(m, 1, &x, l);
	ks_plan *p = plan(m, 3);
	assert_float_equal(ks_plan_step_flops(step(p, "lstm")), 2.0 * 3 * 5 * (3 * 8 + 2 * 8), 0);
	ks_plan_free(p);
	ks_model_free(m);
}

/* Depthwise (taps per output), separable (depthwise + pointwise) and
 * transposed (kernel per input position) convolutions. */
static void test_other_convs(void **state)
{
	(void)state;
	ks_model *m = eb_new("2.13.1");
	int x = eb_input(m, "x", "[null, 6, 6, 3]");
	int dw = eb_layer(m, "DepthwiseConv2D", "dw", "{\"kernel_size\": [3, 3], \"depth_multiplier\": 2, "
	                  "\"use_bias\": false}");
	weight(m, dw, "depthwise_kernel", 4, (int64_t[]){3, 3, 3, 2});
	int sp = eb_layer(m, "SeparableConv2D", "sep", "{\"filters\": 4, \"kernel_size\": [3, 3], "
	                  "\"use_bias\": false}");
	weight(m, sp, "depthwise_kernel", 4, (int64_t[]){3, 3, 3, 1});
	weight(m, sp, "pointwise_kernel", 4, (int64_t[]){1, 1, 3, 4});
	int tr = eb_layer(m, "Conv2DTranspose", "tr", "{\"filters\": 3, \"kernel_size\": 3, \"strides\": 2, "
	                  "\"padding\": \"same\", \"use_bias\": false}");
	weight(m, tr, "kernel", 4, (int64_t[]){3, 3, 3, 4});
	int cat = eb_layer(m, "Flatten", "f", "{}");
	eb_call1(m, dw, x);
	eb_call1(m, sp, x);
	eb_call1(m, tr, sp);
	eb_call1(m, cat, tr);
	eb_io(m, 1, &x, cat);
	/* dw is not on the output's path: plan until it separately */
	ks_plan *p = plan(m, 1);
	assert_float_equal(ks_plan_step_flops(step(p, "sep")), 2.0 * (4 * 4) * (3 * 3 * 3 + 3 * 4), 0);
	assert_float_equal(ks_plan_step_flops(step(p, "tr")), 2.0 * (4 * 4) * (3 * 3 * 3 * 4), 0);
	ks_plan_free(p);
	ks_err err;
	ks_plan_opts o = {.batch = 1, .until = "dw"};
	p = ks_plan_build(m, &o, &err);
	assert_non_null(p);
	assert_float_equal(ks_plan_step_flops(step(p, "dw")), 2.0 * (4 * 4 * 6) * 9, 0);
	ks_plan_free(p);
	ks_model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conv_dense),
		cmocka_unit_test(test_timed_run),
		cmocka_unit_test(test_lstm),
		cmocka_unit_test(test_other_convs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
