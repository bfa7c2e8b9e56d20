/* Convolution kernels (ks_layers_conv.c): hand-computed cases, then many
 * random configurations (1-3 spatial axes, strides, dilation, valid/same/
 * causal padding, groups, channels_first, depthwise multipliers) against a
 * naive direct-loop reference written separately here in double precision,
 * at 1e-5. Transposed convolutions are checked as the adjoint of the
 * reference convolution (<T x, y> = <x, C y>), which is how TensorFlow
 * defines them. Plus Keras 1 layouts, Theano flips and the error messages. */
#include "config.h"

#include "ks_optest.h"

#define TOL 1e-5

enum { P_VALID, P_SAME, P_CAUSAL };
static const char *const pad_name[] = {"valid", "same", "causal"};

/* ---- naive reference ----------------------------------------------------- */

typedef struct geo {
	int n;
	int64_t in[3], k[3], s[3], d[3];
	int pad;
} geo;

/* Output length and padding before, from TF's definition of the windows. */
static int64_t ref_out(int64_t in, int64_t k, int64_t s, int64_t d, int pad, int64_t *pb)
{
	int64_t dk = d * (k - 1) + 1;
	if (pad == P_VALID) {
		*pb = 0;
		return in - dk + 1 <= 0 ? 0 : (in - dk + 1 + s - 1) / s; /* ceil((in-dk+1)/s) */
	}
	if (pad == P_CAUSAL) {
		*pb = dk - 1;
		return (in + s - 1) / s;
	}
	int64_t o = (in + s - 1) / s, tot = (o - 1) * s + dk - in;
	*pb = tot > 0 ? tot / 2 : 0;
	return o;
}

static void geo_out(const geo *g, int64_t *out, int64_t *pb)
{
	for (int a = 0; a < 3; a++) {
		if (a < g->n)
			out[a] = ref_out(g->in[a], g->k[a], g->s[a], g->d[a], g->pad, &pb[a]);
		else
			out[a] = 1, pb[a] = 0;
	}
}

/* x (B, in..., cin) channels_last; K (k..., cin/groups, cout); y (B, out..., cout).
 * mode 0: plain conv with groups; mode 1: depthwise, K (k..., cin, mult). */
/* Sum of |terms| of the last ref_conv's outputs: float32 summation of K
 * products may differ from the double reference by ~K * 2^-24 of it. */
static double *ref_mag;

static double *ref_conv(const geo *g0, const float *x, int64_t B, int64_t cin, const float *K, int64_t cout,
                        int64_t groups, int depthwise, const float *bias, int64_t *out)
{
	geo g = *g0;
	int64_t pb[3];
	for (int a = g.n; a < 3; a++)
		g.in[a] = g.k[a] = g.s[a] = g.d[a] = 1;
	geo_out(&g, out, pb);
	int64_t P = out[0] * out[1] * out[2], cg = cin / groups, og = cout / groups;
	int64_t mult = depthwise ? cout / cin : 0;
	double *y = calloc((size_t)(B * P * cout) + 1, sizeof(double));
	free(ref_mag);
	ref_mag = calloc((size_t)(B * P * cout) + 1, sizeof(double));
	for (int64_t b = 0; b < B; b++)
		for (int64_t o0 = 0; o0 < out[0]; o0++)
			for (int64_t o1 = 0; o1 < out[1]; o1++)
				for (int64_t o2 = 0; o2 < out[2]; o2++)
					for (int64_t co = 0; co < cout; co++) {
						double acc = bias ? bias[co] : 0, mag = fabs(acc);
						for (int64_t t0 = 0; t0 < g.k[0]; t0++)
							for (int64_t t1 = 0; t1 < g.k[1]; t1++)
								for (int64_t t2 = 0; t2 < g.k[2]; t2++) {
									int64_t i0 = o0 * g.s[0] + t0 * g.d[0] - pb[0];
									int64_t i1 = o1 * g.s[1] + t1 * g.d[1] - pb[1];
									int64_t i2 = o2 * g.s[2] + t2 * g.d[2] - pb[2];
									if (i0 < 0 || i1 < 0 || i2 < 0 || i0 >= g.in[0] ||
									    i1 >= g.in[1] || i2 >= g.in[2])
										continue;
									int64_t t = (t0 * g.k[1] + t1) * g.k[2] + t2;
									const float *xp = x + (((b * g.in[0] + i0) * g.in[1] + i1) * g.in[2] + i2) * cin;
									if (depthwise) {
										int64_t c = co / mult, m = co % mult;
										acc += (double)xp[c] * K[(t * cin + c) * mult + m];
										mag += fabs((double)xp[c] * K[(t * cin + c) * mult + m]);
									} else {
										int64_t grp = co / og;
										for (int64_t ci = 0; ci < cg; ci++) {
											double v = (double)xp[grp * cg + ci] *
											           K[(t * cg + ci) * cout + co];
											acc += v;
											mag += fabs(v);
										}
									}
								}
						y[(((b * out[0] + o0) * out[1] + o1) * out[2] + o2) * cout + co] = acc;
						ref_mag[(((b * out[0] + o0) * out[1] + o1) * out[2] + o2) * cout + co] = mag;
					}
	return y;
}

/* channels_last <-> channels_first for a (B, P, C) buffer. */
static float *to_cf(const float *x, int64_t B, int64_t P, int64_t C)
{
	float *y = ks_xmalloc(sizeof(float) * (size_t)(B * P * C) + 1);
	for (int64_t b = 0; b < B; b++)
		for (int64_t p = 0; p < P; p++)
			for (int64_t c = 0; c < C; c++)
				y[(b * C + c) * P + p] = x[(b * P + p) * C + c];
	return y;
}

static float *from_cf(const float *x, int64_t B, int64_t P, int64_t C)
{
	float *y = ks_xmalloc(sizeof(float) * (size_t)(B * P * C) + 1);
	for (int64_t b = 0; b < B; b++)
		for (int64_t p = 0; p < P; p++)
			for (int64_t c = 0; c < C; c++)
				y[(b * P + p) * C + c] = x[(b * C + c) * P + p];
	return y;
}

static const char *json_list(char *buf, size_t n, const int64_t *v, int cnt)
{
	size_t o = (size_t)snprintf(buf, n, "[");
	for (int i = 0; i < cnt; i++)
		o += (size_t)snprintf(buf + o, n - o, "%s%lld", i ? ", " : "", (long long)v[i]);
	snprintf(buf + o, n - o, "]");
	return buf;
}

static ks_shape in_shape(const geo *g, int64_t B, int64_t C, bool cf)
{
	int64_t d[5];
	d[0] = B;
	for (int a = 0; a < g->n; a++)
		d[cf ? 2 + a : 1 + a] = g->in[a];
	d[cf ? 1 : g->n + 1] = C;
	return mkshape(g->n + 2, d);
}

/* ---- random plain/depthwise/separable convs -------------------------------- */

typedef struct ccase {
	int n;
	int64_t in[3], k[3], s[3], d[3];
	int pad;
	int64_t cin, cout, groups;
	bool cf, bias;
	int kind; /* 0 conv, 1 depthwise (cout = mult), 2 separable (cout = filters, mult 2) */
} ccase;

static void check_case(const ccase *cc)
{
	static const char *const conv_cls[] = {"", "Conv1D", "Conv2D", "Conv3D"};
	static const char *const dw_cls[] = {"", "DepthwiseConv1D", "DepthwiseConv2D", ""};
	static const char *const sep_cls[] = {"", "SeparableConv1D", "SeparableConv2D", ""};
	geo g = {.n = cc->n, .pad = cc->pad};
	int64_t B = 2, out[3], kshape[6], pshape[6], P_in = 1, P_out, mult = 2, cout;
	char cfg[1024], l1[64], l2[64], l3[64];
	tlayer t;
	run_result r;
	ks_err err;
	int kr = 0;

	memcpy(g.in, cc->in, sizeof g.in);
	memcpy(g.k, cc->k, sizeof g.k);
	memcpy(g.s, cc->s, sizeof g.s);
	memcpy(g.d, cc->d, sizeof g.d);
	for (int a = 0; a < cc->n; a++) {
		P_in *= g.in[a];
		kshape[kr++] = g.k[a];
	}
	if (cc->kind == 1)
		mult = cc->cout;
	cout = cc->kind == 1 ? cc->cin * mult : cc->cout;
	kshape[kr++] = cc->kind == 0 ? cc->cin / cc->groups : cc->cin;
	kshape[kr++] = cc->kind == 0 ? cc->cout : mult;
	int64_t kn = 1;
	for (int i = 0; i < kr; i++)
		kn *= kshape[i];
	float *K = rand_buf((size_t)kn), *bias = rand_buf((size_t)cout);
	float *x = rand_buf((size_t)(B * P_in * cc->cin));
	float *PW = NULL;

	snprintf(cfg, sizeof cfg,
	         "{\"name\": \"c\", \"filters\": %lld, \"kernel_size\": %s, \"strides\": %s, "
	         "\"dilation_rate\": %s, \"padding\": \"%s\", \"groups\": %lld, \"use_bias\": %s, "
	         "\"depth_multiplier\": %lld, \"data_format\": \"%s\", \"activation\": \"relu\"}",
	         (long long)cc->cout, json_list(l1, sizeof l1, g.k, g.n), json_list(l2, sizeof l2, g.s, g.n),
	         json_list(l3, sizeof l3, g.d, g.n), pad_name[cc->pad], (long long)cc->groups,
	         cc->bias ? "true" : "false", (long long)mult, cc->cf ? "channels_first" : "channels_last");
	tl_init(&t, cc->kind == 0 ? conv_cls[cc->n] : cc->kind == 1 ? dw_cls[cc->n] : sep_cls[cc->n], cfg);
	tl_add(&t, cc->kind == 0 ? "kernel" : "depthwise_kernel", K, kr, kshape);
	if (cc->kind == 2) {
		int pr = 0;
		for (int a = 0; a < cc->n; a++)
			pshape[pr++] = 1;
		pshape[pr++] = cc->cin * mult;
		pshape[pr++] = cc->cout;
		PW = rand_buf((size_t)(cc->cin * mult * cc->cout));
		tl_add(&t, "pointwise_kernel", PW, pr, pshape);
	}
	if (cc->bias)
		tl_add(&t, "bias", bias, 1, &cout);

	double *want;
	if (cc->kind == 2) {
		double *mid = ref_conv(&g, x, B, cc->cin, K, cc->cin * mult, 1, 1, NULL, out);
		P_out = out[0] * out[1] * out[2];
		want = calloc((size_t)(B * P_out * cout) + 1, sizeof(double));
		for (int64_t p = 0; p < B * P_out; p++)
			for (int64_t co = 0; co < cout; co++) {
				double acc = cc->bias ? bias[co] : 0;
				for (int64_t j = 0; j < cc->cin * mult; j++)
					acc += mid[p * cc->cin * mult + j] * PW[j * cout + co];
				want[p * cout + co] = acc;
			}
		free(mid);
	} else {
		want = ref_conv(&g, x, B, cc->cin, K, cout, cc->groups, cc->kind == 1, cc->bias ? bias : NULL, out);
		P_out = out[0] * out[1] * out[2];
	}

	float *xin = cc->cf ? to_cf(x, B, P_in, cc->cin) : x;
	if (run_op(&t, NULL, in_shape(&g, B, cc->cin, cc->cf), xin, &r, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		fail();
	}
	geo go = g;
	memcpy(go.in, out, sizeof go.in);
	ks_shape want_shape = in_shape(&go, B, cout, cc->cf);
	assert_shape(&r.shape, want_shape.rank, want_shape.d);
	float *got = cc->cf ? from_cf(r.out, B, P_out, cout) : r.out;
	if (cc->kind != 2)
		assert_close_mag(got, want, ref_mag, (size_t)(B * P_out * cout));
	else
		assert_close(got, want, (size_t)(B * P_out * cout), TOL);

	if (got != r.out)
		free(got);
	if (xin != x)
		free(xin);
	free(r.out);
	free(want);
	free(K);
	free(PW);
	free(bias);
	free(x);
	tl_free(&t);
}

static void test_random_convs(void **state)
{
	(void)state;
	static const ccase cases[] = {
		/* n  in           k          s          d          pad     cin cout grp cf bias kind */
		{1, {10}, {3}, {1}, {1}, P_VALID, 3, 4, 1, false, true, 0},
		{1, {11}, {3}, {2}, {1}, P_SAME, 3, 5, 1, false, true, 0},
		{1, {11}, {3}, {1}, {2}, P_SAME, 2, 3, 1, false, false, 0},
		{1, {9}, {3}, {1}, {2}, P_CAUSAL, 3, 2, 1, false, true, 0},
		{1, {9}, {2}, {2}, {1}, P_CAUSAL, 3, 2, 1, true, true, 0},
		{1, {16}, {2}, {1}, {2}, P_SAME, 3, 4, 1, true, true, 0},
		{1, {12}, {3}, {1}, {1}, P_VALID, 4, 6, 2, false, true, 0},
		{2, {8, 8}, {3, 3}, {2, 2}, {1, 1}, P_SAME, 2, 2, 1, false, true, 0},
		{2, {7, 9}, {3, 2}, {1, 2}, {1, 1}, P_SAME, 3, 4, 1, false, true, 0},
		{2, {9, 8}, {3, 3}, {1, 1}, {2, 3}, P_VALID, 2, 3, 1, false, true, 0},
		{2, {6, 7}, {3, 3}, {1, 1}, {1, 1}, P_SAME, 3, 4, 1, true, true, 0},
		{2, {6, 6}, {1, 1}, {1, 1}, {1, 1}, P_VALID, 5, 7, 1, false, true, 0},
		{2, {6, 6}, {1, 1}, {2, 2}, {1, 1}, P_SAME, 5, 7, 1, true, false, 0},
		{2, {7, 7}, {3, 3}, {1, 1}, {1, 1}, P_SAME, 6, 9, 3, false, true, 0},
		{2, {5, 6}, {2, 3}, {2, 1}, {1, 1}, P_VALID, 4, 4, 4, true, true, 0},
		{2, {40, 30}, {3, 3}, {1, 1}, {1, 1}, P_SAME, 8, 16, 1, false, true, 0},
		/* 3x3 stride 1 with >= 16 channels: the Winograd path, odd and even sizes */
		{2, {13, 11}, {3, 3}, {1, 1}, {1, 1}, P_SAME, 16, 24, 1, false, true, 0},
		{2, {12, 9}, {3, 3}, {1, 1}, {1, 1}, P_VALID, 20, 17, 1, false, true, 0},
		{2, {5, 4}, {3, 3}, {1, 1}, {1, 1}, P_SAME, 33, 16, 1, true, false, 0},
		{2, {40, 38}, {3, 3}, {1, 1}, {1, 1}, P_SAME, 64, 32, 1, false, true, 0},
		{2, {3, 40}, {3, 3}, {1, 1}, {1, 1}, P_VALID, 16, 16, 1, false, true, 0},
		{2, {1, 20}, {3, 3}, {1, 1}, {1, 1}, P_SAME, 16, 24, 1, false, true, 0},
		/* odd cin*cout (the kernel transform's scalar tail); one tile block, then
		 * 45*43 tiles: more than one block (the kernel transformed all at once) */
		{2, {9, 7}, {3, 3}, {1, 1}, {1, 1}, P_SAME, 17, 19, 1, false, true, 0},
		{2, {90, 86}, {3, 3}, {1, 1}, {1, 1}, P_SAME, 17, 19, 1, false, true, 0},
		{3, {5, 6, 4}, {3, 3, 2}, {1, 2, 1}, {1, 1, 1}, P_SAME, 2, 3, 1, false, true, 0},
		{3, {6, 5, 5}, {2, 2, 2}, {2, 1, 1}, {1, 2, 1}, P_VALID, 3, 2, 1, true, true, 0},
		/* depthwise: cout field is the multiplier */
		{2, {7, 7}, {3, 3}, {2, 2}, {1, 1}, P_VALID, 3, 2, 1, false, true, 1},
		{2, {6, 5}, {3, 3}, {1, 1}, {1, 1}, P_SAME, 4, 1, 1, false, true, 1},
		{2, {6, 5}, {3, 2}, {1, 1}, {2, 1}, P_SAME, 3, 3, 1, true, false, 1},
		{1, {10}, {3}, {2}, {1}, P_SAME, 3, 2, 1, false, true, 1},
		{2, {6, 7}, {3, 3}, {1, 2}, {1, 1}, P_SAME, 19, 1, 1, false, true, 1}, /* 8-lane path + tail */
		/* separable, multiplier 2 */
		{2, {7, 6}, {3, 3}, {1, 1}, {1, 1}, P_SAME, 3, 5, 1, false, true, 2},
		{2, {8, 8}, {3, 3}, {2, 2}, {1, 1}, P_VALID, 2, 4, 1, true, true, 2},
		{1, {10}, {3}, {1}, {2}, P_SAME, 3, 4, 1, false, false, 2},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_case(&cases[i]);
}

/* ---- hand-computed --------------------------------------------------------- */

static void test_conv1d_hand(void **state)
{
	(void)state;
	/* x = 1..5, kernel (1, 0, -1), bias 0.5:
	 *   valid: x[i] - x[i+2] + .5 = -1.5 each
	 *   same:  pad 1 before, 1 after: (0-2, 1-3, 2-4, 3-5, 4-0) + .5 */
	const float x[5] = {1, 2, 3, 4, 5}, k[3] = {1, 0, -1}, b[1] = {0.5f};
	const int64_t ks[3] = {3, 1, 1}, bs[1] = {1}, is[3] = {1, 5, 1};
	const double valid[3] = {-1.5, -1.5, -1.5}, same[5] = {-1.5, -1.5, -1.5, -1.5, 4.5};
	tlayer t;
	run_result r;
	ks_err err;

	tl_init(&t, "Conv1D", "{\"filters\": 1, \"kernel_size\": [3], \"padding\": \"valid\"}");
	tl_add(&t, "kernel", k, 3, ks);
	tl_add(&t, "bias", b, 1, bs);
	assert_int_equal(run_op(&t, NULL, mkshape(3, is), x, &r, &err), 0);
	assert_close(r.out, valid, 3, TOL);
	free(r.out);
	tl_free(&t);

	tl_init(&t, "Conv1D", "{\"filters\": 1, \"kernel_size\": 3, \"padding\": \"same\"}");
	tl_add(&t, "kernel", k, 3, ks);
	tl_add(&t, "bias", b, 1, bs);
	assert_int_equal(run_op(&t, NULL, mkshape(3, is), x, &r, &err), 0);
	assert_close(r.out, same, 5, TOL);
	free(r.out);
	tl_free(&t);

	/* causal, dilation 2: y[i] = x[i-4] - x[i] + .5 with x[<0] = 0 */
	const double causal[5] = {-0.5, -1.5, -2.5, -3.5, -3.5};
	tl_init(&t, "Conv1D", "{\"filters\": 1, \"kernel_size\": 3, \"padding\": \"causal\", \"dilation_rate\": 2}");
	tl_add(&t, "kernel", k, 3, ks);
	tl_add(&t, "bias", b, 1, bs);
	assert_int_equal(run_op(&t, NULL, mkshape(3, is), x, &r, &err), 0);
	assert_close(r.out, causal, 5, TOL);
	free(r.out);
	tl_free(&t);
}

static void test_conv2d_same_even(void **state)
{
	(void)state;
	/* 4x4 input of ones, 3x3 kernel of ones, stride 2, same: out 2x2, TF pads
	 * 0 before and 1 after, so windows cover rows/cols {0,1,2} and {2,3}:
	 * 9, 6 / 6, 4 (symmetric padding would give 4, 6 / 6, 9). */
	float x[16], k[9];
	const int64_t ks[4] = {3, 3, 1, 1}, is[4] = {1, 4, 4, 1};
	const double want[4] = {9, 6, 6, 4};
	tlayer t;
	run_result r;
	ks_err err;

	for (int i = 0; i < 16; i++)
		x[i] = 1;
	for (int i = 0; i < 9; i++)
		k[i] = 1;
	tl_init(&t, "Conv2D", "{\"filters\": 1, \"kernel_size\": [3, 3], \"strides\": [2, 2], "
	        "\"padding\": \"same\", \"use_bias\": false}");
	tl_add(&t, "kernel", k, 4, ks);
	assert_int_equal(run_op(&t, NULL, mkshape(4, is), x, &r, &err), 0);
	assert_shape(&r.shape, 4, (const int64_t[]){1, 2, 2, 1});
	assert_close(r.out, want, 4, TOL);
	free(r.out);
	tl_free(&t);
}

static void test_transpose_hand(void **state)
{
	(void)state;
	/* x = (1, 2), kernel (1, 1, 1), stride 2: full output (1, 1, 1+2, 2, 2).
	 * valid keeps all 5; same keeps 4 starting at pad_before = 1 // 2 = 0. */
	const float x[2] = {1, 2}, k[3] = {1, 1, 1};
	const int64_t ks[3] = {3, 1, 1}, is[3] = {1, 2, 1};
	const double valid[5] = {1, 1, 3, 2, 2}, same[4] = {1, 1, 3, 2};
	tlayer t;
	run_result r;
	ks_err err;

	tl_init(&t, "Conv1DTranspose", "{\"filters\": 1, \"kernel_size\": 3, \"strides\": 2, "
	        "\"padding\": \"valid\", \"use_bias\": false}");
	tl_add(&t, "kernel", k, 3, ks);
	assert_int_equal(run_op(&t, NULL, mkshape(3, is), x, &r, &err), 0);
	assert_shape(&r.shape, 3, (const int64_t[]){1, 5, 1});
	assert_close(r.out, valid, 5, TOL);
	free(r.out);
	tl_free(&t);

	tl_init(&t, "Conv1DTranspose", "{\"filters\": 1, \"kernel_size\": 3, \"strides\": 2, "
	        "\"padding\": \"same\", \"use_bias\": false}");
	tl_add(&t, "kernel", k, 3, ks);
	assert_int_equal(run_op(&t, NULL, mkshape(3, is), x, &r, &err), 0);
	assert_shape(&r.shape, 3, (const int64_t[]){1, 4, 1});
	assert_close(r.out, same, 4, TOL);
	free(r.out);
	tl_free(&t);
}

/* ---- transposed convs as adjoints -------------------------------------- */

typedef struct tcase {
	int n;
	int64_t in[3], k[3], s[3], d[3];
	int pad;
	int64_t cin, cout;
	int64_t opad; /* -1: none */
	bool cf;
} tcase;

static void check_transpose(const tcase *tc)
{
	static const char *const cls[] = {"", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose"};
	geo g = {.n = tc->n, .pad = tc->pad};
	int64_t B = 2, kshape[5], kr = 0, P_in = 1, P_out = 1, out[3], op[3];
	char cfg[1024], l1[64], l2[64], l3[64], l4[64];
	tlayer t;
	run_result r;
	ks_err err;

	memcpy(g.k, tc->k, sizeof g.k);
	memcpy(g.s, tc->s, sizeof g.s);
	memcpy(g.d, tc->d, sizeof g.d);
	for (int a = 0; a < tc->n; a++) {
		kshape[kr++] = tc->k[a];
		P_in *= tc->in[a];
		op[a] = tc->opad;
	}
	kshape[kr++] = tc->cout;
	kshape[kr++] = tc->cin;
	int64_t kn = 1;
	for (int i = 0; i < kr; i++)
		kn *= kshape[i];
	float *K = rand_buf((size_t)kn), *x = rand_buf((size_t)(B * P_in * tc->cin));
	if (tc->opad >= 0)
		json_list(l4, sizeof l4, op, tc->n);
	else
		strcpy(l4, "null");
	snprintf(cfg, sizeof cfg,
	         "{\"filters\": %lld, \"kernel_size\": %s, \"strides\": %s, \"dilation_rate\": %s, "
	         "\"padding\": \"%s\", \"output_padding\": %s, \"use_bias\": false, \"data_format\": \"%s\"}",
	         (long long)tc->cout, json_list(l1, sizeof l1, tc->k, tc->n), json_list(l2, sizeof l2, tc->s, tc->n),
	         json_list(l3, sizeof l3, tc->d, tc->n), pad_name[tc->pad], l4,
	         tc->cf ? "channels_first" : "channels_last");
	tl_init(&t, cls[tc->n], cfg);
	tl_add(&t, "kernel", K, (int)kr, kshape);
	geo gi = g;
	memcpy(gi.in, tc->in, sizeof gi.in);
	float *xin = tc->cf ? to_cf(x, B, P_in, tc->cin) : x;
	if (run_op(&t, NULL, in_shape(&gi, B, tc->cin, tc->cf), xin, &r, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		fail();
	}
	for (int a = 0; a < tc->n; a++) {
		out[a] = r.shape.d[tc->cf ? 2 + a : 1 + a];
		P_out *= out[a];
	}
	float *Tx = tc->cf ? from_cf(r.out, B, P_out, tc->cout) : r.out;
	/* forward reference conv on the output space must land on the input space */
	geo gf = g;
	memcpy(gf.in, out, sizeof gf.in);
	int64_t back[3];
	float *y = rand_buf((size_t)(B * P_out * tc->cout));
	double *Cy = ref_conv(&gf, y, B, tc->cout, K, tc->cin, 1, 0, NULL, back);
	for (int a = 0; a < tc->n; a++)
		assert_int_equal(back[a], tc->in[a]);
	double lhs = 0, rhs = 0, scale = 0;
	for (int64_t i = 0; i < B * P_out * tc->cout; i++) {
		lhs += (double)Tx[i] * y[i];
		scale += fabs((double)Tx[i] * y[i]);
	}
	for (int64_t i = 0; i < B * P_in * tc->cin; i++)
		rhs += (double)x[i] * Cy[i];
	if (fabs(lhs - rhs) > 1e-5 * (1 + scale)) {
		fprintf(stderr, "%s: <Tx,y> = %.9g but <x,Cy> = %.9g\n", cls[tc->n], lhs, rhs);
		fail();
	}
	if (Tx != r.out)
		free(Tx);
	if (xin != x)
		free(xin);
	free(r.out);
	free(Cy);
	free(y);
	free(K);
	free(x);
	tl_free(&t);
}

static void test_random_transposes(void **state)
{
	(void)state;
	static const tcase cases[] = {
		{1, {5}, {3}, {2}, {1}, P_VALID, 2, 3, -1, false},
		{1, {5}, {3}, {2}, {1}, P_SAME, 2, 3, -1, false},
		{1, {6}, {4}, {3}, {1}, P_SAME, 3, 2, -1, true},
		{1, {5}, {3}, {2}, {1}, P_VALID, 2, 2, 1, false},
		{2, {4, 5}, {3, 3}, {2, 2}, {1, 1}, P_SAME, 3, 4, -1, false},
		{2, {4, 3}, {3, 2}, {2, 1}, {1, 1}, P_VALID, 2, 3, -1, true},
		{2, {4, 4}, {3, 3}, {1, 1}, {2, 2}, P_SAME, 2, 2, -1, false},
		{2, {3, 4}, {3, 3}, {2, 2}, {1, 1}, P_SAME, 2, 3, 1, false},
		{2, {3, 3}, {2, 2}, {3, 3}, {1, 1}, P_VALID, 2, 2, -1, false},
		{3, {3, 2, 3}, {2, 3, 2}, {2, 1, 2}, {1, 1, 1}, P_SAME, 2, 3, -1, false},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_transpose(&cases[i]);
}

/* ---- Keras 1 layouts and Theano ------------------------------------------ */

static void test_keras1_th_and_theano_flip(void **state)
{
	(void)state;
	/* Convolution2D, dim_ordering th: kernel stored (out, in, rows, cols) and
	 * input (batch, channels, rows, cols). Checked against the reference with
	 * the kernel moved to (rows, cols, in, out). */
	const int64_t B = 2, H = 5, W = 6, C = 2, F = 3, kh = 3, kw = 2;
	float *Kth = rand_buf((size_t)(F * C * kh * kw)), *b = rand_buf((size_t)F);
	float *Ktf = ks_xmalloc(sizeof(float) * (size_t)(F * C * kh * kw));
	float *Kflip = ks_xmalloc(sizeof(float) * (size_t)(F * C * kh * kw));
	float *x = rand_buf((size_t)(B * H * W * C));
	geo g = {.n = 2, .in = {H, W}, .k = {kh, kw}, .s = {1, 1}, .d = {1, 1}, .pad = P_SAME};
	int64_t out[3];
	tlayer t;
	run_result r;
	ks_err err;

	for (int64_t f = 0; f < F; f++)
		for (int64_t c = 0; c < C; c++)
			for (int64_t i = 0; i < kh; i++)
				for (int64_t j = 0; j < kw; j++) {
					float v = Kth[((f * C + c) * kh + i) * kw + j];
					Ktf[((i * kw + j) * C + c) * F + f] = v;
					Kflip[(((kh - 1 - i) * kw + (kw - 1 - j)) * C + c) * F + f] = v;
				}
	double *want = ref_conv(&g, x, B, C, Ktf, F, 1, 0, b, out);
	double *want_flip = ref_conv(&g, x, B, C, Kflip, F, 1, 0, b, out);
	float *xcf = to_cf(x, B, H * W, C);

	tl_init(&t, "Convolution2D", "{\"nb_filter\": 3, \"nb_row\": 3, \"nb_col\": 2, \"border_mode\": \"same\", "
	        "\"subsample\": [1, 1], \"dim_ordering\": \"th\", \"bias\": true}");
	tl_add(&t, "convolution2d_1_W", Kth, 4, (const int64_t[]){F, C, kh, kw});
	tl_add(&t, "convolution2d_1_b", b, 1, (const int64_t[]){F});
	run_opts o = {.keras_major = 1};
	assert_int_equal(run_op(&t, &o, mkshape(4, (const int64_t[]){B, C, H, W}), xcf, &r, &err), 0);
	assert_shape(&r.shape, 4, (const int64_t[]){B, F, H, W});
	float *got = from_cf(r.out, B, H * W, F);
	assert_close(got, want, (size_t)(B * H * W * F), TOL);
	free(got);
	free(r.out);

	/* Theano convolved: the same file read as Theano weights is the flipped kernel */
	o.theano = true;
	assert_int_equal(run_op(&t, &o, mkshape(4, (const int64_t[]){B, C, H, W}), xcf, &r, &err), 0);
	got = from_cf(r.out, B, H * W, F);
	assert_close(got, want_flip, (size_t)(B * H * W * F), TOL);
	free(got);
	free(r.out);
	tl_free(&t);

	/* Keras 1 Convolution1D: kernel (k, 1, in, out), filter_length, subsample_length */
	float *x1 = rand_buf(2 * 9 * 3), *K1 = rand_buf(3 * 3 * 4), *b1 = rand_buf(4);
	geo g1 = {.n = 1, .in = {9}, .k = {3}, .s = {2}, .d = {1}, .pad = P_VALID};
	double *w1 = ref_conv(&g1, x1, 2, 3, K1, 4, 1, 0, b1, out);
	tl_init(&t, "Convolution1D", "{\"nb_filter\": 4, \"filter_length\": 3, \"subsample_length\": 2, "
	        "\"border_mode\": \"valid\"}");
	tl_add(&t, "W", K1, 4, (const int64_t[]){3, 1, 3, 4});
	tl_add(&t, "b", b1, 1, (const int64_t[]){4});
	o.theano = false;
	assert_int_equal(run_op(&t, &o, mkshape(3, (const int64_t[]){2, 9, 3}), x1, &r, &err), 0);
	assert_shape(&r.shape, 3, (const int64_t[]){2, 4, 4});
	assert_close(r.out, w1, 2 * 4 * 4, TOL);
	free(r.out);
	tl_free(&t);

	free(x1);
	free(K1);
	free(b1);
	free(w1);
	free(xcf);
	free(want);
	free(want_flip);
	free(Kth);
	free(Ktf);
	free(Kflip);
	free(b);
	free(x);
}



/* Keras 1 Deconvolution2D kept the Convolution2D kernel layout (rows, cols,
 * in, out) and gave the output shape in its config; it must compute what
 * Conv2DTranspose computes with the kernel as (rows, cols, out, in). */
static void test_keras1_deconv(void **state)
{
	(void)state;
	const int64_t B = 2, H = 3, W = 4, C = 2, F = 3;
	float *K1 = rand_buf(3 * 3 * C * F), *K2 = ks_xmalloc(sizeof(float) * 3 * 3 * C * F);
	float *b = rand_buf(F), *x = rand_buf((size_t)(B * H * W * C));
	tlayer t;
	run_result r1, r2;
	ks_err err;
	run_opts o = {.keras_major = 1};

	for (int64_t tap = 0; tap < 9; tap++)
		for (int64_t ci = 0; ci < C; ci++)
			for (int64_t f = 0; f < F; f++)
				K2[(tap * F + f) * C + ci] = K1[(tap * C + ci) * F + f];
	tl_init(&t, "Deconvolution2D", "{\"nb_filter\": 3, \"nb_row\": 3, \"nb_col\": 3, \"subsample\": [2, 2], "
	        "\"border_mode\": \"same\", \"output_shape\": [null, 6, 8, 3], \"dim_ordering\": \"tf\"}");
	tl_add(&t, "W", K1, 4, (const int64_t[]){3, 3, C, F});
	tl_add(&t, "b", b, 1, (const int64_t[]){F});
	assert_int_equal(run_op(&t, &o, mkshape(4, (const int64_t[]){B, H, W, C}), x, &r1, &err), 0);
	tl_free(&t);
	tl_init(&t, "Conv2DTranspose", "{\"filters\": 3, \"kernel_size\": 3, \"strides\": 2, \"padding\": \"same\"}");
	tl_add(&t, "kernel", K2, 4, (const int64_t[]){3, 3, F, C});
	tl_add(&t, "bias", b, 1, (const int64_t[]){F});
	assert_int_equal(run_op(&t, NULL, mkshape(4, (const int64_t[]){B, H, W, C}), x, &r2, &err), 0);
	tl_free(&t);
	assert_shape(&r1.shape, 4, (const int64_t[]){B, 6, 8, F});
	assert_shape(&r2.shape, 4, (const int64_t[]){B, 6, 8, F});
	double *want = ks_xmalloc(sizeof(double) * r2.n);
	for (size_t i = 0; i < r2.n; i++)
		want[i] = r2.out[i];
	assert_close(r1.out, want, r1.n, 1e-6);
	free(want);
	free(r1.out);
	free(r2.out);
	free(K1);
	free(K2);
	free(b);
	free(x);
}

/* Keras 1 SeparableConvolution2D with dim_ordering th stored its kernels as
 * (mult, in, rows, cols) and (out, in*mult, 1, 1); it must compute what
 * SeparableConv2D(channels_first) computes with the Keras 2 layouts. */
static void test_keras1_separable_th(void **state)
{
	(void)state;
	const int64_t B = 2, C = 3, M = 2, F = 4, H = 5, W = 6;
	float *dth = rand_buf((size_t)(M * C * 9)), *pth = rand_buf((size_t)(F * C * M));
	float *dtf = ks_xmalloc(sizeof(float) * (size_t)(M * C * 9)), *ptf = ks_xmalloc(sizeof(float) * (size_t)(F * C * M));
	float *b = rand_buf((size_t)F), *x = rand_buf((size_t)(B * C * H * W));
	tlayer t;
	run_result r1, r2;
	ks_err err;
	run_opts o = {.keras_major = 1};

	for (int64_t m = 0; m < M; m++)
		for (int64_t c = 0; c < C; c++)
			for (int64_t tap = 0; tap < 9; tap++)
				dtf[(tap * C + c) * M + m] = dth[(m * C + c) * 9 + tap];
	for (int64_t f = 0; f < F; f++)
		for (int64_t j = 0; j < C * M; j++)
			ptf[j * F + f] = pth[f * C * M + j];
	tl_init(&t, "SeparableConvolution2D", "{\"nb_filter\": 4, \"nb_row\": 3, \"nb_col\": 3, \"depth_multiplier\": 2, "
	        "\"border_mode\": \"same\", \"dim_ordering\": \"th\"}");
	tl_add(&t, "separableconvolution2d_1_depthwise_kernel", dth, 4, (const int64_t[]){M, C, 3, 3});
	tl_add(&t, "separableconvolution2d_1_pointwise_kernel", pth, 4, (const int64_t[]){F, C * M, 1, 1});
	tl_add(&t, "separableconvolution2d_1_b", b, 1, (const int64_t[]){F});
	if (run_op(&t, &o, mkshape(4, (const int64_t[]){B, C, H, W}), x, &r1, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		fail();
	}
	tl_free(&t);
	tl_init(&t, "SeparableConv2D", "{\"filters\": 4, \"kernel_size\": 3, \"depth_multiplier\": 2, "
	        "\"padding\": \"same\", \"data_format\": \"channels_first\"}");
	tl_add(&t, "depthwise_kernel", dtf, 4, (const int64_t[]){3, 3, C, M});
	tl_add(&t, "pointwise_kernel", ptf, 4, (const int64_t[]){1, 1, C * M, F});
	tl_add(&t, "bias", b, 1, (const int64_t[]){F});
	assert_int_equal(run_op(&t, NULL, mkshape(4, (const int64_t[]){B, C, H, W}), x, &r2, &err), 0);
	tl_free(&t);
	assert_shape(&r1.shape, 4, (const int64_t[]){B, F, H, W});
	double *want = ks_xmalloc(sizeof(double) * r2.n);
	for (size_t i = 0; i < r2.n; i++)
		want[i] = r2.out[i];
	assert_close(r1.out, want, r1.n, 1e-6);
	free(want);
	free(r1.out);
	free(r2.out);
	free(dth);
	free(pth);
	free(dtf);
	free(ptf);
	free(b);
	free(x);
}

/* ---- LocallyConnected ------------------------------------------------------ */

static void check_lc(int n, bool cf)
{
	const int64_t B = 2, C = 3, F = 4, H = n == 2 ? 6 : 1, W = 7, kh = n == 2 ? 3 : 1, kw = 2, sh = 2, sw = 1;
	const int64_t oh = (H - kh) / sh + 1, ow = (W - kw) / sw + 1, P = oh * ow, feat = kh * kw * C;
	float *x = rand_buf((size_t)(B * H * W * C)), *K = rand_buf((size_t)(P * feat * F));
	float *bias = rand_buf((size_t)(P * F));
	double *want = calloc((size_t)(B * P * F), sizeof(double));
	char cfg[256];
	tlayer t;
	run_result r;
	ks_err err;

	/* x is channels_last (B, H, W, C) here; the op gets it in its layout */
	for (int64_t b = 0; b < B; b++)
		for (int64_t o0 = 0; o0 < oh; o0++)
			for (int64_t o1 = 0; o1 < ow; o1++)
				for (int64_t f = 0; f < F; f++) {
					int64_t pos = o0 * ow + o1;
					double acc = bias[pos * F + f];
					for (int64_t t0 = 0; t0 < kh; t0++)
						for (int64_t t1 = 0; t1 < kw; t1++)
							for (int64_t ch = 0; ch < C; ch++) {
								/* Keras local_conv flattens the patch slice as stored */
								int64_t fi = cf ? (ch * kh + t0) * kw + t1 : (t0 * kw + t1) * C + ch;
								acc += (double)x[((b * H + o0 * sh + t0) * W + o1 * sw + t1) * C + ch] *
								       K[(pos * feat + fi) * F + f];
							}
					want[(b * P + pos) * F + f] = acc;
				}
	if (n == 2)
		snprintf(cfg, sizeof cfg, "{\"filters\": 4, \"kernel_size\": [3, 2], \"strides\": [2, 1], "
		         "\"data_format\": \"%s\", \"implementation\": 1}", cf ? "channels_first" : "channels_last");
	else
		snprintf(cfg, sizeof cfg, "{\"filters\": 4, \"kernel_size\": 2, \"strides\": 1, \"data_format\": \"%s\"}",
		         cf ? "channels_first" : "channels_last");
	tl_init(&t, n == 2 ? "LocallyConnected2D" : "LocallyConnected1D", cfg);
	tl_add(&t, "kernel", K, 3, (const int64_t[]){P, feat, F});
	if (n == 2)
		tl_add(&t, "bias", bias, 3, (const int64_t[]){oh, ow, F});
	else
		tl_add(&t, "bias", bias, 2, (const int64_t[]){ow, F});
	float *xin = cf ? to_cf(x, B, H * W, C) : x;
	ks_shape is = n == 2 ? (cf ? mkshape(4, (const int64_t[]){B, C, H, W}) : mkshape(4, (const int64_t[]){B, H, W, C}))
	                     : (cf ? mkshape(3, (const int64_t[]){B, C, W}) : mkshape(3, (const int64_t[]){B, W, C}));
	if (run_op(&t, NULL, is, xin, &r, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		fail();
	}
	float *got = cf ? from_cf(r.out, B, P, F) : r.out;
	assert_close(got, want, (size_t)(B * P * F), 1e-5);
	if (got != r.out)
		free(got);
	if (xin != x)
		free(xin);
	free(r.out);
	tl_free(&t);
	free(x);
	free(K);
	free(bias);
	free(want);
}

static void test_locally_connected(void **state)
{
	(void)state;
	check_lc(2, false);
	check_lc(2, true);
	check_lc(1, false);
	check_lc(1, true);

	tlayer t;
	ks_err err;
	ks_shape out;
	float k[8] = {0};
	tl_init(&t, "LocallyConnected2D", "{\"filters\": 1, \"kernel_size\": 2, \"implementation\": 2}");
	tl_add(&t, "kernel", k, 3, (const int64_t[]){1, 8, 1});
	assert_int_equal(infer_op(&t, mkshape(4, (const int64_t[]){1, 2, 2, 2}), &out, &err), -1);
	assert_non_null(strstr(err.msg, "implementation=2 is not supported"));
	tl_free(&t);
}
/* ---- shapes and errors ----------------------------------------------------- */

static void test_errors_and_unknown_batch(void **state)
{
	(void)state;
	float k[3 * 3 * 4 * 8] = {0}, b[8] = {0};
	tlayer t;
	ks_err err;
	ks_shape out;

	tl_init(&t, "Conv2D", "{\"name\": \"conv2d\", \"filters\": 8, \"kernel_size\": [3, 3]}");
	t.l.name = (char *)"conv2d";
	tl_add(&t, "kernel", k, 4, (const int64_t[]){3, 3, 4, 8});
	tl_add(&t, "bias", b, 1, (const int64_t[]){8});
	/* wrong input channels: the stored kernel does not fit */
	assert_int_equal(infer_op(&t, mkshape(4, (const int64_t[]){-1, 10, 10, 3}), &out, &err), -1);
	assert_string_equal(err.msg, "layer conv2d (Conv2D): weight 'kernel' has shape (3, 3, 4, 8) "
	                    "but the config needs (3, 3, 3, 8)");
	/* too small */
	assert_int_equal(infer_op(&t, mkshape(4, (const int64_t[]){-1, 2, 2, 4}), &out, &err), -1);
	assert_string_equal(err.msg, "layer conv2d (Conv2D): input 2x2 is smaller than the 3x3 kernel");
	/* wrong rank */
	assert_int_equal(infer_op(&t, mkshape(3, (const int64_t[]){-1, 10, 4}), &out, &err), -1);
	assert_non_null(strstr(err.msg, "expects a 4-D input"));
	/* batch and spatial -1 propagate */
	assert_int_equal(infer_op(&t, mkshape(4, (const int64_t[]){-1, -1, 10, 4}), &out, &err), 0);
	assert_shape(&out, 4, (const int64_t[]){-1, -1, 8, 8});
	tl_free(&t);

	/* missing bias */
	tl_init(&t, "Conv2D", "{\"filters\": 8, \"kernel_size\": 3}");
	tl_add(&t, "kernel", k, 4, (const int64_t[]){3, 3, 4, 8});
	assert_int_equal(infer_op(&t, mkshape(4, (const int64_t[]){1, 10, 10, 4}), &out, &err), -1);
	assert_non_null(strstr(err.msg, "'bias' is missing"));
	tl_free(&t);

	/* groups that do not divide */
	tl_init(&t, "Conv2D", "{\"filters\": 8, \"kernel_size\": 3, \"groups\": 3, \"use_bias\": false}");
	tl_add(&t, "kernel", k, 4, (const int64_t[]){3, 3, 1, 8});
	assert_int_equal(infer_op(&t, mkshape(4, (const int64_t[]){1, 10, 10, 4}), &out, &err), -1);
	assert_non_null(strstr(err.msg, "divisible by groups"));
	tl_free(&t);

	/* dilated kernel too large */
	tl_init(&t, "Conv1D", "{\"filters\": 8, \"kernel_size\": 3, \"dilation_rate\": 4, \"use_bias\": false}");
	tl_add(&t, "kernel", k, 3, (const int64_t[]){3, 4, 8});
	assert_int_equal(infer_op(&t, mkshape(3, (const int64_t[]){1, 8, 4}), &out, &err), -1);
	assert_string_equal(err.msg, "layer layer (Conv1D): input 8 is smaller than the 3 kernel (dilated to 9)");
	tl_free(&t);

	/* absurd sizes are refused, not allocated */
	tl_init(&t, "Conv2D", "{\"filters\": 8, \"kernel_size\": 1, \"use_bias\": false}");
	tl_add(&t, "kernel", k, 4, (const int64_t[]){1, 1, 4, 8});
	assert_int_equal(infer_op(&t, mkshape(4, (const int64_t[]){1, 1 << 29, 1 << 29, 4}), &out, &err), -1);
	tl_free(&t);

	/* no channels: BLAS would be handed a zero leading dimension */
	tl_init(&t, "Conv2D", "{\"filters\": 8, \"kernel_size\": 1, \"use_bias\": false}");
	tl_add(&t, "kernel", k, 4, (const int64_t[]){1, 1, 0, 8});
	assert_int_equal(infer_op(&t, mkshape(4, (const int64_t[]){1, 4, 4, 0}), &out, &err), -1);
	assert_non_null(strstr(err.msg, "no channels"));
	tl_free(&t);

	/* missing filters */
	tl_init(&t, "Conv2D", "{\"kernel_size\": 3}");
	assert_int_equal(infer_op(&t, mkshape(4, (const int64_t[]){1, 10, 10, 4}), &out, &err), -1);
	assert_non_null(strstr(err.msg, "filters"));
	tl_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conv1d_hand),
		cmocka_unit_test(test_conv2d_same_even),
		cmocka_unit_test(test_transpose_hand),
		cmocka_unit_test(test_random_convs),
		cmocka_unit_test(test_random_transposes),
		cmocka_unit_test(test_keras1_th_and_theano_flip),
		cmocka_unit_test(test_keras1_deconv),
		cmocka_unit_test(test_keras1_separable_th),
		cmocka_unit_test(test_locally_connected),
		cmocka_unit_test(test_errors_and_unknown_batch),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
	free(ref_mag);
	return rc;
}
