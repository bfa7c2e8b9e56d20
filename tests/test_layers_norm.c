/* Normalization kernels (ks_layers_norm.c): hand-computed values and a
 * naive double-precision reference, driven through ks_op_find +
 * infer/load/run with in-memory weights. Tolerance 1e-5 unless stated. */
#include "config.h"

#define OPTEST_SEED 0x9E3779B97F4A7C15ull
#include "ks_optest.h"

#define TOL 1e-5

/* Runs a one-input op and compares its single output with want. */
static void check1(tlayer *t, int keras_major, ks_shape s, const float *x, const double *want)
{
	const float *in[1] = {x};
	run_io r;
	ks_err err;
	if (run_op_io(t, keras_major, 1, &s, in, &r, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(r.n_out, 1);
	assert_int_equal(r.shape[0].rank, s.rank);
	for (int i = 0; i < s.rank; i++)
		assert_int_equal(r.shape[0].d[i], s.d[i]);
	assert_close(r.out[0], want, (size_t)ks_shape_numel(&s), TOL);
	rr_free(&r);
}

/* gamma [2, 1], beta [0.5, 0], mean [1, -1], var [3.999, 0.999], eps 1e-3:
 * ch0 = (x - 1) / 2 * 2 + 0.5, ch1 = x + 1. */
static void test_batchnorm_by_hand(void **state)
{
	tlayer t;
	float g[2] = {2, 1}, b[2] = {0.5f, 0}, m[2] = {1, -1}, v[2] = {3.999f, 0.999f};
	float x[4] = {3, 0, 1, -1};
	double want[4] = {2.5, 1, 0.5, 0};
	ks_shape s = {.rank = 2, .d = {2, 2}};
	(void)state;

	tl_init(&t, "BatchNormalization", "{\"axis\": -1, \"epsilon\": 0.001}");
	tl_add2(&t, "gamma", g, 1, 2, 0);
	tl_add2(&t, "beta", b, 1, 2, 0);
	tl_add2(&t, "moving_mean", m, 1, 2, 0);
	tl_add2(&t, "moving_variance", v, 1, 2, 0);
	check1(&t, 2, s, x, want);
	tl_free(&t);
}

/* center/scale False drop beta/gamma; axis as a list; channels-first axis 1. */
static void test_batchnorm_axes_and_flags(void **state)
{
	enum { B = 2, C = 3, H = 2, W = 2 };
	tlayer t;
	float x[B * C * H * W], m[C], v[C], g[C];
	double want[B * C * H * W];
	ks_shape s = {.rank = 4, .d = {B, C, H, W}};
	(void)state;

	for (int i = 0; i < B * C * H * W; i++)
		x[i] = frand();
	for (int i = 0; i < C; i++) {
		m[i] = frand();
		v[i] = 0.5f + (frand() + 1) / 2;
		g[i] = frand();
	}
	/* channels first, scale only */
	for (int i = 0; i < B * C * H * W; i++) {
		int ch = (i / (H * W)) % C;
		want[i] = (x[i] - m[ch]) / sqrt(v[ch] + 0.01) * g[ch];
	}
	tl_init(&t, "BatchNormalization", "{\"axis\": [1], \"epsilon\": 0.01, \"center\": false}");
	tl_add2(&t, "gamma", g, 1, C, 0);
	tl_add2(&t, "moving_mean", m, 1, C, 0);
	tl_add2(&t, "moving_variance", v, 1, C, 0);
	check1(&t, 2, s, x, want);
	tl_free(&t);

	/* channels last over the same buffer seen as (B, H, W, C): no gamma/beta, default eps */
	s.d[1] = H;
	s.d[2] = W;
	s.d[3] = C;
	for (int i = 0; i < B * C * H * W; i++) {
		int ch = i % C;
		want[i] = (x[i] - m[ch]) / sqrt(v[ch] + 1e-3);
	}
	tl_init(&t, "BatchNormalization", "{\"axis\": 3, \"center\": false, \"scale\": false}");
	tl_add2(&t, "moving_mean", m, 1, C, 0);
	tl_add2(&t, "moving_variance", v, 1, C, 0);
	check1(&t, 2, s, x, want);
	tl_free(&t);
}

/* Keras 1: running_std holds a variance (mode 0); mode 2 uses the batch's
 * own statistics; mode 1 is sample-wise with (std + eps) in the divisor. */
static void test_batchnorm_keras1_modes(void **state)
{
	tlayer t;
	float g[1] = {2}, b[1] = {1}, m[1] = {0.5f}, v[1] = {0.25f};
	float x[2] = {1, 3};
	double want0[2] = {(1 - 0.5) / sqrt(0.25 + 1e-3) * 2 + 1, (3 - 0.5) / sqrt(0.25 + 1e-3) * 2 + 1};
	/* batch mean 2, variance 1 */
	double want2[2] = {-1 / sqrt(1 + 1e-3) * 2 + 1, 1 / sqrt(1 + 1e-3) * 2 + 1};
	ks_shape s = {.rank = 2, .d = {2, 1}};
	float g2[2] = {1, 1}, b2[2] = {0, 0}, m2[2] = {0, 0}, v2[2] = {1, 1}, x2[2] = {1, 3};
	/* sample-wise over [1, 3]: mean 2, std = sqrt(1 + eps), divisor std + eps */
	double sd = sqrt(1 + 1e-3) + 1e-3;
	double want1[2] = {-1 / sd, 1 / sd};
	ks_shape s1 = {.rank = 2, .d = {1, 2}};
	(void)state;

	tl_init(&t, "BatchNormalization", "{\"mode\": 0, \"axis\": -1, \"epsilon\": 0.001, \"momentum\": 0.99}");
	tl_add2(&t, "gamma", g, 1, 1, 0);
	tl_add2(&t, "beta", b, 1, 1, 0);
	tl_add2(&t, "running_mean", m, 1, 1, 0);
	tl_add2(&t, "running_std", v, 1, 1, 0);
	check1(&t, 1, s, x, want0);
	tl_free(&t);

	tl_init(&t, "BatchNormalization", "{\"mode\": 2, \"axis\": -1, \"epsilon\": 0.001}");
	tl_add2(&t, "gamma", g, 1, 1, 0);
	tl_add2(&t, "beta", b, 1, 1, 0);
	tl_add2(&t, "running_mean", m, 1, 1, 0);
	tl_add2(&t, "running_std", v, 1, 1, 0);
	check1(&t, 1, s, x, want2);
	tl_free(&t);

	tl_init(&t, "BatchNormalization", "{\"mode\": 1, \"axis\": -1, \"epsilon\": 0.001}");
	tl_add2(&t, "gamma", g2, 1, 2, 0);
	tl_add2(&t, "beta", b2, 1, 2, 0);
	tl_add2(&t, "running_mean", m2, 1, 2, 0);
	tl_add2(&t, "running_std", v2, 1, 2, 0);
	check1(&t, 1, s1, x2, want1);
	tl_free(&t);
}

/* [1, 2, 3, 4]: mean 2.5, variance 1.25. */
static void test_layernorm_by_hand(void **state)
{
	tlayer t;
	float g[4] = {1, 2, 1, 1}, b[4] = {0, 0, 1, 0}, x[4] = {1, 2, 3, 4};
	double sd = sqrt(1.25 + 1e-3);
	double want[4] = {-1.5 / sd, 2 * -0.5 / sd, 0.5 / sd + 1, 1.5 / sd};
	double want_rms[4] = {1 / sd, 2 * 2 / sd, 3 / sd, 4 / sd};
	double want_rmsn[4];
	ks_shape s = {.rank = 2, .d = {1, 4}};
	(void)state;

	tl_init(&t, "LayerNormalization", "{\"axis\": -1, \"epsilon\": 0.001}");
	tl_add2(&t, "gamma", g, 1, 4, 0);
	tl_add2(&t, "beta", b, 1, 4, 0);
	check1(&t, 2, s, x, want);
	tl_free(&t);

	/* Keras 3 rms_scaling: x * rsqrt(variance + eps) * gamma, no beta */
	tl_init(&t, "LayerNormalization", "{\"axis\": [1], \"epsilon\": 0.001, \"rms_scaling\": true}");
	tl_add2(&t, "gamma", g, 1, 4, 0);
	check1(&t, 3, s, x, want_rms);
	tl_free(&t);

	/* RMSNormalization: mean square 7.5, eps 1e-6 */
	for (int i = 0; i < 4; i++)
		want_rmsn[i] = x[i] / sqrt(7.5 + 1e-6) * g[i];
	tl_init(&t, "RMSNormalization", "{\"axis\": -1}");
	tl_add2(&t, "scale", g, 1, 4, 0);
	check1(&t, 3, s, x, want_rmsn);
	tl_free(&t);
}

/* LayerNormalization over two trailing axes and over a middle axis. */
static void test_layernorm_axes(void **state)
{
	enum { B = 2, T = 3, F = 4 };
	tlayer t;
	float x[B * T * F], g[T * F], b[T * F];
	double want[B * T * F];
	ks_shape s = {.rank = 3, .d = {B, T, F}};
	(void)state;

	for (int i = 0; i < B * T * F; i++)
		x[i] = frand() * 3;
	for (int i = 0; i < T * F; i++) {
		g[i] = frand();
		b[i] = frand();
	}
	for (int bb = 0; bb < B; bb++) {
		double m = 0, v = 0;
		for (int i = 0; i < T * F; i++)
			m += x[bb * T * F + i];
		m /= T * F;
		for (int i = 0; i < T * F; i++)
			v += (x[bb * T * F + i] - m) * (x[bb * T * F + i] - m);
		v /= T * F;
		for (int i = 0; i < T * F; i++)
			want[bb * T * F + i] = (x[bb * T * F + i] - m) / sqrt(v + 1e-3) * g[i] + b[i];
	}
	tl_init(&t, "LayerNormalization", "{\"axis\": [1, 2]}");
	tl_add2(&t, "gamma", g, 2, T, F);
	tl_add2(&t, "beta", b, 2, T, F);
	check1(&t, 2, s, x, want);
	tl_free(&t);

	/* axis 1: statistics over T for every (batch, feature) */
	for (int bb = 0; bb < B; bb++)
		for (int f = 0; f < F; f++) {
			double m = 0, v = 0;
			for (int k = 0; k < T; k++)
				m += x[(bb * T + k) * F + f];
			m /= T;
			for (int k = 0; k < T; k++)
				v += (x[(bb * T + k) * F + f] - m) * (x[(bb * T + k) * F + f] - m);
			v /= T;
			for (int k = 0; k < T; k++)
				want[(bb * T + k) * F + f] = (x[(bb * T + k) * F + f] - m) / sqrt(v + 1e-2) * g[k];
		}
	tl_init(&t, "LayerNormalization", "{\"axis\": 1, \"epsilon\": 0.01, \"center\": false}");
	tl_add2(&t, "gamma", g, 1, T, 0);
	check1(&t, 2, s, x, want);
	tl_free(&t);
}

/* [3, 4] -> [0.6, 0.8]; an all-zero row stays zero. */
static void test_unit_normalization(void **state)
{
	tlayer t;
	float x[4] = {3, 4, 0, 0};
	double want[4] = {0.6, 0.8, 0, 0};
	ks_shape s = {.rank = 2, .d = {2, 2}};
	(void)state;
	tl_init(&t, "UnitNormalization", "{\"axis\": -1}");
	check1(&t, 3, s, x, want);
	tl_free(&t);
}

/* 4 channels in 2 groups over (1, 2 steps, 4): group 0 = channels 0,1. */
static void test_group_normalization(void **state)
{
	tlayer t;
	float x[8] = {1, 2, 10, 20, 3, 4, 30, 40};
	float g[4] = {1, 2, 1, 1}, b[4] = {0, 0, 0, 5};
	double want[8];
	ks_shape s = {.rank = 3, .d = {1, 2, 4}};
	double m0 = 2.5, v0 = 1.25, m1 = 25, v1 = 125;
	(void)state;
	for (int k = 0; k < 2; k++) {
		want[k * 4 + 0] = (x[k * 4 + 0] - m0) / sqrt(v0 + 1e-3) * 1;
		want[k * 4 + 1] = (x[k * 4 + 1] - m0) / sqrt(v0 + 1e-3) * 2;
		want[k * 4 + 2] = (x[k * 4 + 2] - m1) / sqrt(v1 + 1e-3);
		want[k * 4 + 3] = (x[k * 4 + 3] - m1) / sqrt(v1 + 1e-3) + 5;
	}
	tl_init(&t, "GroupNormalization", "{\"groups\": 2, \"axis\": -1, \"epsilon\": 0.001}");
	tl_add2(&t, "gamma", g, 1, 4, 0);
	tl_add2(&t, "beta", b, 1, 4, 0);
	check1(&t, 3, s, x, want);
	tl_free(&t);
}

/* InstanceNormalization: each channel over its own spatial values.
 * ch0 [1, 3]: mean 2, variance 1; ch1 [10, 30]: mean 20, variance 100. */
static void test_instance_normalization(void **state)
{
	tlayer t;
	float x[4] = {1, 10, 3, 30}, g[2] = {1, 2}, b[2] = {0, 1};
	double want[4] = {-1 / sqrt(1.001), -10 / sqrt(100.001) * 2 + 1, 1 / sqrt(1.001), 10 / sqrt(100.001) * 2 + 1};
	ks_shape s = {.rank = 3, .d = {1, 2, 2}};
	(void)state;
	tl_init(&t, "Addons>InstanceNormalization", "{\"groups\": -1, \"axis\": -1, \"epsilon\": 0.001}");
	tl_add2(&t, "gamma", g, 1, 2, 0);
	tl_add2(&t, "beta", b, 1, 2, 0);
	check1(&t, 2, s, x, want);
	tl_free(&t);
	tl_init(&t, "InstanceNormalization", "{\"axis\": -1, \"epsilon\": 0.001}");
	tl_add2(&t, "gamma", g, 1, 2, 0);
	tl_add2(&t, "beta", b, 1, 2, 0);
	check1(&t, 2, s, x, want);
	tl_free(&t);

	/* keras-contrib axis=None: one statistic over all four values (mean 11,
	 * variance (100 + 1 + 64 + 361) / 4 = 131.5), scalar gamma 2 and beta 1 */
	for (int i = 0; i < 4; i++)
		want[i] = (x[i] - 11) / sqrt(131.5 + 1e-3) * 2 + 1;
	tl_init(&t, "InstanceNormalization", "{\"axis\": null, \"epsilon\": 0.001}");
	tl_add2(&t, "gamma", &g[1], 1, 1, 0);
	tl_add2(&t, "beta", &b[1], 1, 1, 0);
	check1(&t, 2, s, x, want);
	tl_free(&t);
}

/* Normalization from adapt() weights and from config values; invert. */
static void test_normalization_layer(void **state)
{
	tlayer t;
	float m[2] = {1, 2}, v[2] = {4, 9}, cnt[1] = {10};
	float x[4] = {3, 2, -1, 5};
	double want[4] = {1, 0, -1, 1};
	double want_inv[4] = {3 * 2 + 1, 2 * 3 + 2, -1 * 2 + 1, 5 * 3 + 2};
	ks_shape s = {.rank = 2, .d = {2, 2}};
	(void)state;

	tl_init(&t, "Normalization", "{\"axis\": [-1]}");
	tl_add2(&t, "mean", m, 1, 2, 0);
	tl_add2(&t, "variance", v, 1, 2, 0);
	tl_add2(&t, "count", cnt, 0, 0, 0);
	t.w[2].rank = 0;
	check1(&t, 2, s, x, want);
	tl_free(&t);

	tl_init(&t, "Normalization", "{\"axis\": -1, \"mean\": [1, 2], \"variance\": [4, 9], \"invert\": true}");
	check1(&t, 3, s, x, want_inv);
	tl_free(&t);
}

static void test_norm_errors(void **state)
{
	tlayer t;
	float g[3] = {1, 1, 1};
	ks_err err;
	ks_shape s = {.rank = 2, .d = {2, 2}};
	(void)state;

	/* gamma for 3 channels on a 2-channel input */
	tl_init(&t, "BatchNormalization", "{\"axis\": -1, \"center\": false, \"scale\": true}");
	tl_add2(&t, "gamma", g, 1, 3, 0);
	tl_add2(&t, "moving_mean", g, 1, 3, 0);
	tl_add2(&t, "moving_variance", g, 1, 3, 0);
	assert_int_equal(infer_op(&t, s, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "gamma"));
	assert_non_null(strstr(err.msg, "(3,)"));
	tl_free(&t);

	/* missing moving statistics */
	tl_init(&t, "BatchNormalization", "{\"axis\": -1}");
	tl_add2(&t, "gamma", g, 1, 2, 0);
	tl_add2(&t, "beta", g, 1, 2, 0);
	assert_int_equal(infer_op(&t, s, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "has 2 weights but the config needs 4"));
	tl_free(&t);

	/* axis out of range and on the batch axis */
	tl_init(&t, "LayerNormalization", "{\"axis\": 5, \"center\": false, \"scale\": false}");
	assert_int_equal(infer_op(&t, s, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "out of range"));
	tl_free(&t);
	tl_init(&t, "LayerNormalization", "{\"axis\": 0, \"center\": false, \"scale\": false}");
	assert_int_equal(infer_op(&t, s, NULL, &err), -1);
	tl_free(&t);

	/* groups must divide channels */
	tl_init(&t, "GroupNormalization", "{\"groups\": 3, \"center\": false, \"scale\": false}");
	assert_int_equal(infer_op(&t, s, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "groups"));
	tl_free(&t);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_batchnorm_by_hand),
	cmocka_unit_test(test_batchnorm_axes_and_flags),
	cmocka_unit_test(test_batchnorm_keras1_modes),
	cmocka_unit_test(test_layernorm_by_hand),
	cmocka_unit_test(test_layernorm_axes),
	cmocka_unit_test(test_unit_normalization),
	cmocka_unit_test(test_group_normalization),
	cmocka_unit_test(test_instance_normalization),
	cmocka_unit_test(test_normalization_layer),
	cmocka_unit_test(test_norm_errors),
};

KS_TEST_MAIN(tests)
