/* Attention kernels (ks_layers_attn.c) against hand-computed values and a
 * naive double-precision reference written here, at 1e-5; driven through
 * ks_op_find + infer/load/run with in-memory weights. */
#include "config.h"

#define OPTEST_SEED 0x2545F4914F6CDD1Dull
#include "ks_optest.h"

#define TOL 1e-5

/* Naive attention for one batch row. kind: 0 dot, 1 concat, 2 additive.
 * scores[i][j] then softmax (causal: j <= i), out = w . v. */
static void ref_attention(int kind, const float *q, const float *k, const float *v, int Tq, int Tv, int d, int dv,
                          double scale, double cw, const float *svec, bool causal, double *out, double *w)
{
	for (int i = 0; i < Tq; i++) {
		double mx = -1e300, sum = 0;
		for (int j = 0; j < Tv; j++) {
			double s = 0;
			for (int f = 0; f < d; f++) {
				if (kind == 0)
					s += (double)q[i * d + f] * k[j * d + f];
				else if (kind == 1)
					s += tanh(scale * (q[i * d + f] + k[j * d + f]));
				else
					s += (svec ? svec[f] : 1.0) * tanh((double)q[i * d + f] + k[j * d + f]);
			}
			if (kind == 0)
				s *= scale;
			if (kind == 1)
				s *= cw;
			if (causal && j > i)
				s -= 1e9;
			w[i * Tv + j] = s;
			if (s > mx)
				mx = s;
		}
		for (int j = 0; j < Tv; j++) {
			w[i * Tv + j] = exp(w[i * Tv + j] - mx);
			sum += w[i * Tv + j];
		}
		for (int j = 0; j < Tv; j++)
			w[i * Tv + j] /= sum;
		for (int f = 0; f < dv; f++) {
			double o = 0;
			for (int j = 0; j < Tv; j++)
				o += w[i * Tv + j] * v[j * dv + f];
			out[i * dv + f] = o;
		}
	}
}

/* q = [1]; keys [0], [ln 3]: weights [1/4, 3/4]; values [4], [8] -> 7. */
static void test_attention_by_hand(void **state)
{
	tlayer t;
	float q[1] = {1}, v[2] = {4, 8}, k[2] = {0, (float)log(3.0)};
	ks_shape s[3] = {shape3(1, 1, 1), shape3(1, 2, 1), shape3(1, 2, 1)};
	const float *in[3] = {q, v, k};
	run_io r;
	ks_err err;
	(void)state;

	tl_init(&t, "Attention", "{\"use_scale\": false}");
	t.kwargs = json_pack("{s:b}", "return_attention_scores", 1);
	assert_int_equal(run_op_io(&t, 3, 3, s, in, &r, &err), 0);
	json_decref(t.kwargs);
	t.kwargs = NULL;
	assert_int_equal(r.n_out, 2);
	assert_float_equal(r.out[0][0], 7.0f, 1e-5);
	assert_float_equal(r.out[1][0], 0.25f, 1e-6);
	assert_float_equal(r.out[1][1], 0.75f, 1e-6);
	rr_free(&r);
	tl_free(&t);
}

/* tf.keras Attention on (batch, features) inputs attends across the batch:
 * q = [1], [0]; v = k = [4], [8]. Row 0 scores [4, 8]; row 1 scores [0, 0]. */
static void test_attention_2d_inputs(void **state)
{
	tlayer t;
	float q[2] = {1, 0}, v[2] = {4, 8};
	ks_shape s[2] = {{.rank = 2, .d = {2, 1}}, {.rank = 2, .d = {2, 1}}};
	const float *in[2] = {q, v};
	double e4 = exp(4.0);
	run_io r;
	ks_err err;
	(void)state;

	tl_init(&t, "Attention", "{\"use_scale\": false, \"dropout\": 0.2}");
	assert_int_equal(run_op_io(&t, 2, 2, s, in, &r, &err), 0);
	assert_int_equal(r.shape[0].rank, 2);
	assert_int_equal(r.shape[0].d[0], 2);
	assert_int_equal(r.shape[0].d[1], 1);
	assert_float_equal(r.out[0][0], (float)((4 + 8 * e4) / (1 + e4)), 1e-5);
	assert_float_equal(r.out[0][1], 6.0f, 1e-5);
	rr_free(&r);
	tl_free(&t);
}

static void check_luong(const char *cls, const char *cfg, int kind, bool with_key, bool causal, bool scale_w,
                        bool concat_w)
{
	enum { B = 2, Tq = 3, Tv = 4, d = 5, dv = 3 };
	tlayer t;
	float *q = rand_buf(B * Tq * d), *v = rand_buf(B * Tv * dv), *k = rand_buf(B * Tv * d);
	float sc = 0.7f, cw = -1.3f, svec[d];
	double want[B * Tq * d], w[Tq * Tv];
	ks_shape s[3] = {shape3(B, Tq, d), shape3(B, Tv, dv), shape3(B, Tv, d)};
	const float *in[3] = {q, v, with_key ? k : v};
	run_io r;
	ks_err err;

	if (!with_key) {
		/* key = value needs equal feature sizes: reuse k as the value */
		in[1] = k;
		s[1] = shape3(B, Tv, d);
	}
	for (int i = 0; i < d; i++)
		svec[i] = frand();
	for (int b = 0; b < B; b++)
		ref_attention(kind, q + b * Tq * d, (with_key ? k : k) + b * Tv * d,
		              (with_key ? v + b * Tv * dv : k + b * Tv * d), Tq, Tv, d, with_key ? dv : d,
		              scale_w ? sc : 1.0, concat_w ? cw : 1.0, kind == 2 && scale_w ? svec : NULL, causal,
		              want + b * Tq * (with_key ? dv : d), w);
	tl_init(&t, cls, cfg);
	if (scale_w) {
		if (kind == 2)
			tl_add2(&t, "scale", svec, 1, d, 0);
		else
			tl_add2(&t, "scale", &sc, 0, 0, 0);
	}
	if (concat_w)
		tl_add2(&t, "concat_score_weight", &cw, 0, 0, 0);
	for (int i = 0; i < t.l.n_weights; i++)
		if (t.w[i].rank == 0)
			t.w[i].shape[0] = 0;
	if (causal)
		t.kwargs = json_pack("{s:b}", "use_causal_mask", 1);
	if (run_op_io(&t, 3, with_key ? 3 : 2, s, in, &r, &err) < 0)
		fail_msg("%s", err.msg);
	json_decref(t.kwargs);
	t.kwargs = NULL;
	assert_close(r.out[0], want, (size_t)B * Tq * (with_key ? dv : d), TOL);
	rr_free(&r);
	tl_free(&t);
	free(q);
	free(v);
	free(k);
}

static void test_attention_modes(void **state)
{
	(void)state;
	check_luong("Attention", "{}", 0, true, false, false, false);
	check_luong("Attention", "{\"use_scale\": true}", 0, true, false, true, false);
	check_luong("Attention", "{\"use_scale\": false}", 0, false, true, false, false);
	check_luong("Attention", "{\"use_scale\": true, \"score_mode\": \"concat\"}", 1, true, false, true, true);
	check_luong("Attention", "{\"score_mode\": \"concat\"}", 1, true, true, false, true);
	check_luong("AdditiveAttention", "{}", 2, true, false, true, false);
	check_luong("AdditiveAttention", "{\"use_scale\": false, \"causal\": true}", 2, false, true, false, false);
}

/* Naive MultiHeadAttention (einsum definitions written out). */
static void ref_mha(int B, int Tq, int Tv, int dq, int dv, int H, int kd, int vd, int od, const float *q,
                    const float *v, const float *const W[4], const float *const bias[4], bool causal, double *out)
{
	double *Q = calloc((size_t)Tq * H * kd, sizeof(double)), *K = calloc((size_t)Tv * H * kd, sizeof(double));
	double *V = calloc((size_t)Tv * H * vd, sizeof(double)), *O = calloc((size_t)Tq * H * vd, sizeof(double));
	double *w = calloc((size_t)Tv, sizeof(double));

	for (int b = 0; b < B; b++) {
		/* Q[t,h,e] = sum_f q[t,f] Wq[f,h,e] + bq[h,e] (key = value here) */
		for (int t = 0; t < Tq; t++)
			for (int he = 0; he < H * kd; he++) {
				double s = bias[0] ? bias[0][he] : 0;
				for (int f = 0; f < dq; f++)
					s += (double)q[(b * Tq + t) * dq + f] * W[0][f * H * kd + he];
				Q[t * H * kd + he] = s;
			}
		for (int t = 0; t < Tv; t++) {
			for (int he = 0; he < H * kd; he++) {
				double s = bias[1] ? bias[1][he] : 0;
				for (int f = 0; f < dv; f++)
					s += (double)v[(b * Tv + t) * dv + f] * W[1][f * H * kd + he];
				K[t * H * kd + he] = s;
			}
			for (int he = 0; he < H * vd; he++) {
				double s = bias[2] ? bias[2][he] : 0;
				for (int f = 0; f < dv; f++)
					s += (double)v[(b * Tv + t) * dv + f] * W[2][f * H * vd + he];
				V[t * H * vd + he] = s;
			}
		}
		for (int h = 0; h < H; h++)
			for (int i = 0; i < Tq; i++) {
				double mx = -1e300, sum = 0;
				for (int j = 0; j < Tv; j++) {
					double s = 0;
					for (int e = 0; e < kd; e++)
						s += Q[i * H * kd + h * kd + e] * K[j * H * kd + h * kd + e];
					s /= sqrt((double)kd);
					if (causal && j > i)
						s = -1e300;
					w[j] = s;
					if (s > mx)
						mx = s;
				}
				for (int j = 0; j < Tv; j++) {
					w[j] = exp(w[j] - mx);
					sum += w[j];
				}
				for (int e = 0; e < vd; e++) {
					double o = 0;
					for (int j = 0; j < Tv; j++)
						o += w[j] / sum * V[j * H * vd + h * vd + e];
					O[i * H * vd + h * vd + e] = o;
				}
			}
		/* out[t,o] = sum_{h,e} O[t,h,e] Wo[h,e,o] + bo[o] */
		for (int t = 0; t < Tq; t++)
			for (int o = 0; o < od; o++) {
				double s = bias[3] ? bias[3][o] : 0;
				for (int he = 0; he < H * vd; he++)
					s += O[t * H * vd + he] * W[3][he * od + o];
				out[(b * Tq + t) * od + o] = s;
			}
	}
	free(Q);
	free(K);
	free(V);
	free(O);
	free(w);
}

/* order: 0 = Keras order (q, k, v, output), 1 = shuffled (names decide) */
static void check_mha(bool bias, bool causal, int order, int od_cfg, bool rank4)
{
	enum { B = 2, Tq = 3, Tv = 4, dq = 5, dv = 6, H = 2, kd = 3, vd = 2 };
	static const char *const pn[4] = {"query", "key", "value", "attention_output"};
	static const int shuffled[4] = {1, 3, 0, 2};
	int od = od_cfg > 0 ? od_cfg : dq;
	tlayer t;
	char cfg[256], names[8][40];
	float *q = rand_buf(B * Tq * dq), *v = rand_buf(B * Tv * dv);
	float *W[4] = {rand_buf(dq * H * kd), rand_buf(dv * H * kd), rand_buf(dv * H * vd), rand_buf(H * vd * od)};
	float *bb[4] = {rand_buf(H * kd), rand_buf(H * kd), rand_buf(H * vd), rand_buf(od)};
	double *want = calloc((size_t)B * Tq * od, sizeof(double));
	ks_shape s[2] = {shape3(B, Tq, dq), shape3(B, Tv, dv)};
	const float *in[2] = {q, v};
	const float *Wc[4] = {W[0], W[1], W[2], W[3]};
	const float *bc[4] = {bias ? bb[0] : NULL, bias ? bb[1] : NULL, bias ? bb[2] : NULL, bias ? bb[3] : NULL};
	run_io r;
	ks_err err;

	ref_mha(B, Tq, Tv, dq, dv, H, kd, vd, od, q, v, Wc, bc, causal, want);
	snprintf(cfg, sizeof cfg, "{\"num_heads\": %d, \"key_dim\": %d, \"value_dim\": %d, \"use_bias\": %s%s%d%s}", H,
	         kd, vd, bias ? "true" : "false", od_cfg > 0 ? ", \"output_shape\": " : "", od_cfg > 0 ? od_cfg : 0,
	         "");
	if (od_cfg <= 0)
		snprintf(cfg, sizeof cfg, "{\"num_heads\": %d, \"key_dim\": %d, \"value_dim\": %d, \"use_bias\": %s}", H,
		         kd, vd, bias ? "true" : "false");
	tl_init(&t, "MultiHeadAttention", cfg);
	for (int k = 0; k < 4; k++) {
		int p = order ? shuffled[k] : k;
		int64_t kin = p == 0 ? dq : p == 3 ? H : dv;
		int64_t k1 = p == 3 ? vd : H, k2 = p == 0 || p == 1 ? kd : p == 2 ? vd : od;
		ks_weight *w;
		snprintf(names[2 * k], 40, "%s/kernel", pn[p]);
		snprintf(names[2 * k + 1], 40, "%s/bias", pn[p]);
		tl_add2(&t, names[2 * k], W[p], 2, kin, k1 * k2);
		w = &t.w[t.l.n_weights - 1];
		w->rank = 3;
		w->shape[1] = k1;
		w->shape[2] = k2;
		if (bias) {
			if (p == 3) {
				tl_add2(&t, names[2 * k + 1], bb[p], 1, od, 0);
			} else {
				tl_add2(&t, names[2 * k + 1], bb[p], 2, H, p == 2 ? vd : kd);
			}
		}
	}
	if (rank4) {
		/* (B, 3, 1, dq) and (B, 2, 2, dv): the same memory as (B, 3, dq), (B, 4, dv) */
		s[0] = (ks_shape){.rank = 4, .d = {B, Tq, 1, dq}};
		s[1] = (ks_shape){.rank = 4, .d = {B, 2, 2, dv}};
	}
	if (causal)
		t.kwargs = json_pack("{s:b}", "use_causal_mask", 1);
	if (run_op_io(&t, 3, 2, s, in, &r, &err) < 0)
		fail_msg("%s", err.msg);
	json_decref(t.kwargs);
	t.kwargs = NULL;
	assert_int_equal(r.shape[0].rank, rank4 ? 4 : 3);
	assert_int_equal(r.shape[0].d[r.shape[0].rank - 1], od);
	assert_close(r.out[0], want, (size_t)B * Tq * od, TOL);
	rr_free(&r);
	tl_free(&t);
	for (int i = 0; i < 4; i++) {
		free(W[i]);
		free(bb[i]);
	}
	free(q);
	free(v);
	free(want);
}

static void test_multi_head_attention(void **state)
{
	(void)state;
	check_mha(true, false, 0, 0, false);
	check_mha(false, false, 0, 0, false);
	check_mha(true, true, 0, 7, false);
	check_mha(true, false, 1, 0, false); /* weights listed out of order: names decide */
	check_mha(true, false, 0, 0, true);  /* attention over two axes = over them flattened */
}

/* Naive einsum over every assignment of the letters (explicit letters only;
 * the test spells out the ellipsis case separately). */
static void ref_einsum(const char *in, const char *ker, const char *out, const int64_t *dims /* by letter */,
                       const float *x, const float *w, double *y, int64_t ny)
{
	char letters[16] = {0};
	int nl = 0;
	int64_t idx[16];
	for (const char *s2 = in; *s2; s2++)
		if (!memchr(letters, *s2, (size_t)nl))
			letters[nl++] = *s2;
	for (const char *s2 = ker; *s2; s2++)
		if (!memchr(letters, *s2, (size_t)nl))
			letters[nl++] = *s2;
	letters[nl] = 0;
	memset(y, 0, sizeof(double) * (size_t)ny);
	memset(idx, 0, sizeof idx);
	for (;;) {
		int64_t xi = 0, wi = 0, yi = 0;
		for (const char *s2 = in; *s2; s2++)
			xi = xi * dims[(int)*s2] + idx[strchr(letters, *s2) - letters];
		for (const char *s2 = ker; *s2; s2++)
			wi = wi * dims[(int)*s2] + idx[strchr(letters, *s2) - letters];
		for (const char *s2 = out; *s2; s2++)
			yi = yi * dims[(int)*s2] + idx[strchr(letters, *s2) - letters];
		y[yi] += (double)x[xi] * w[wi];
		int l = nl - 1;
		while (l >= 0 && ++idx[l] == dims[(int)letters[l]])
			idx[l--] = 0;
		if (l < 0)
			break;
	}
}

/* eq uses explicit letters; bias (over bias_axes) added by hand below. */
static void check_einsum(const char *eq_in, const char *eq_ker, const char *eq_out, const char *bias_axes,
                         const char *cfg_eq)
{
	int64_t dims[128] = {0};
	int64_t nx = 1, nw = 1, ny = 1, nb = 1, kshape[KS_MAX_RANK];
	tlayer t;
	char cfg[256];
	ks_shape s = {.rank = (int)strlen(eq_in)};
	const int64_t sizes[] = {2, 3, 4, 2, 3, 2};
	float *x, *w, *b;
	double *want;
	const float *in[1];
	run_io r;
	ks_err err;
	int k = 0;

	for (const char *q = "abcdef"; *q; q++)
		dims[(int)*q] = sizes[k++];
	for (const char *q = eq_in; *q; q++)
		nx *= dims[(int)*q];
	for (const char *q = eq_ker; *q; q++)
		nw *= dims[(int)*q];
	for (const char *q = eq_out; *q; q++)
		ny *= dims[(int)*q];
	for (const char *q = bias_axes; *q; q++)
		nb *= dims[(int)*q];
	x = rand_buf((size_t)nx);
	w = rand_buf((size_t)nw);
	b = rand_buf((size_t)nb);
	want = calloc((size_t)ny, sizeof(double));
	ref_einsum(eq_in, eq_ker, eq_out, dims, x, w, want, ny);
	/* bias: index over the bias axes in output order */
	for (int64_t yi = 0; yi < ny; yi++) {
		int64_t rem = yi, bi = 0, stride = 1;
		for (int i = (int)strlen(eq_out) - 1; i >= 0; i--) {
			int64_t cidx = rem % dims[(int)eq_out[i]];
			rem /= dims[(int)eq_out[i]];
			if (strchr(bias_axes, eq_out[i])) {
				bi += cidx * stride;
				stride *= dims[(int)eq_out[i]];
			}
		}
		if (*bias_axes)
			want[yi] += b[bi];
	}
	for (int i = 0; i < s.rank; i++)
		s.d[i] = dims[(int)eq_in[i]];
	snprintf(cfg, sizeof cfg, "{\"equation\": \"%s\", \"bias_axes\": %s%s%s, \"activation\": \"linear\"}", cfg_eq,
	         *bias_axes ? "\"" : "", *bias_axes ? bias_axes : "null", *bias_axes ? "\"" : "");
	tl_init(&t, "EinsumDense", cfg);
	for (int i = 0; eq_ker[i]; i++)
		kshape[i] = dims[(int)eq_ker[i]];
	tl_add(&t, "kernel", w, (int)strlen(eq_ker), kshape);
	if (*bias_axes)
		tl_add2(&t, "bias", b, 1, nb, 0);
	in[0] = x;
	if (run_op_io(&t, 3, 1, &s, in, &r, &err) < 0)
		fail_msg("%s: %s", cfg_eq, err.msg);
	assert_int_equal(r.shape[0].rank, (int)strlen(eq_out));
	for (int i = 0; i < r.shape[0].rank; i++)
		assert_int_equal(r.shape[0].d[i], dims[(int)eq_out[i]]);
	assert_close(r.out[0], want, (size_t)ny, TOL);
	rr_free(&r);
	tl_free(&t);
	free(x);
	free(w);
	free(b);
	free(want);
}

static void test_einsum_dense(void **state)
{
	(void)state;
	check_einsum("ab", "bc", "ac", "c", "ab,bc->ac");
	check_einsum("abc", "cde", "abde", "de", "abc,cde->abde");
	check_einsum("abcd", "cde", "abe", "e", "abcd,cde->abe");
	check_einsum("abc", "cd", "adb", "b", "abc,cd->adb");  /* output permuted */
	check_einsum("abc", "bd", "acd", "", "abc,bd->acd");    /* contraction in the middle */
	check_einsum("abc", "cd", "abd", "d", "...c,cd->...d"); /* ellipsis = a, b */
}

static void test_attention_errors(void **state)
{
	tlayer t;
	float w[6] = {0};
	ks_shape s[2] = {shape3(2, 3, 4), shape3(2, 5, 4)};
	const float *in[2] = {w, w};
	run_io r;
	ks_err err;
	(void)state;

	tl_init(&t, "Attention", "{\"use_scale\": true}");
	assert_int_equal(run_op_io(&t, 3, 2, s, in, &r, &err), -1);
	assert_non_null(strstr(err.msg, "has 0 weights but the config needs 1"));
	tl_free(&t);

	tl_init(&t, "Attention", "{}");
	assert_int_equal(run_op_io(&t, 3, 1, s, in, &r, &err), -1);
	assert_non_null(strstr(err.msg, "[query, value]"));
	tl_free(&t);

	tl_init(&t, "MultiHeadAttention", "{\"num_heads\": 2, \"key_dim\": 3, \"use_bias\": false}");
	for (int i = 0; i < 4; i++) {
		static const char *const n[4] = {"query/kernel", "key/kernel", "value/kernel", "attention_output/kernel"};
		tl_add2(&t, n[i], w, 2, 1, 6);
		t.w[i].rank = 3;
		t.w[i].shape[0] = 4;
		t.w[i].shape[1] = 2;
		t.w[i].shape[2] = 3;
	}
	/* the output kernel must be (heads, value_dim, out) = (2, 3, 4) */
	assert_int_equal(run_op_io(&t, 3, 2, s, in, &r, &err), -1);
	assert_non_null(strstr(err.msg, "attention_output/kernel"));
	assert_non_null(strstr(err.msg, "(2, 3, 4)"));
	tl_free(&t);
}

/* Bad EinsumDense/MultiHeadAttention configurations fail in infer with one
 * line naming the layer (never a crash). */
static void test_hostile_configs(void **state)
{
	static const struct {
		const char *cls, *cfg;
		const char *want;
	} cases[] = {
		{"EinsumDense", "{\"equation\": \"abc\"}", "IN,KERNEL->OUT"},
		{"EinsumDense", "{}", "equation"},
		{"EinsumDense", "{\"equation\": \"ab,bc->ac\"}", "rank-3 input"},
		{"EinsumDense", "{\"equation\": \"abc,cd->abz\"}", "unsupported equation"},
		{"EinsumDense", "{\"equation\": \"abc,cd->abd\", \"bias_axes\": \"q\"}", "rank-2 kernel and a bias"},
		{"EinsumDense", "{\"equation\": \"abc,c...->ab\"}", "does not fit"},
		{"EinsumDense", "{\"equation\": \"abc,cd->abd\", \"lora_rank\": 4}", "LoRA"},
		{"MultiHeadAttention", "{\"num_heads\": 0, \"key_dim\": 2}", "num_heads"},
		{"MultiHeadAttention", "{\"num_heads\": 2, \"key_dim\": 2, \"attention_axes\": [2]}", "attention_axes"},
		{"MultiHeadAttention", "{\"num_heads\": 2, \"key_dim\": 2, \"output_shape\": [2, 3]}", "output_shape"},
		{"MultiHeadAttention", "{\"num_heads\": 2, \"key_dim\": 2}", "has 1 weights but the config needs 8"},
		{"Attention", "{\"score_mode\": \"cosine\"}", "score_mode"},
		{"AdditiveAttention", "{}", "needs (4,)"},
	};
	float w[64] = {0};
	(void)state;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		tlayer t;
		ks_op_call c;
		ks_err err;
		const ks_op *op = ks_op_find(cases[i].cls);
		assert_non_null(op);
		tl_init(&t, cases[i].cls, cases[i].cfg);
		tl_add2(&t, "kernel", w, 2, 4, 4);
		memset(&c, 0, sizeof c);
		c.model = &optest_model;
		c.layer = &t.l;
		c.config = t.cfg;
		c.keras_major = 3;
		c.n_in = ks_str_eq(cases[i].cls, "EinsumDense") ? 1 : 2;
		c.in[0] = shape3(2, 3, 4);
		c.in[1] = shape3(2, 3, 4);
		err.msg[0] = 0;
		if (op->infer(&c, &err) == 0) {
			op->free(&c);
			/* the AdditiveAttention case has a (4, 4) scale: that must fail too */
			fail_msg("case %zu (%s %s) was accepted", i, cases[i].cls, cases[i].cfg);
		}
		if (!strstr(err.msg, "layer") || !strstr(err.msg, cases[i].want) || strchr(err.msg, '\n'))
			fail_msg("case %zu: message '%s' lacks '%s'", i, err.msg, cases[i].want);
		tl_free(&t);
	}
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_attention_by_hand),
	cmocka_unit_test(test_attention_2d_inputs),
	cmocka_unit_test(test_attention_modes),
	cmocka_unit_test(test_multi_head_attention),
	cmocka_unit_test(test_einsum_dense),
	cmocka_unit_test(test_attention_errors),
	cmocka_unit_test(test_hostile_configs),
};

KS_TEST_MAIN(tests)
