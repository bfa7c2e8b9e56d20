/* Recurrent kernels (ks_layers_rnn.c) against a naive per-gate reference
 * written separately here in double precision, at 1e-5, over random inputs;
 * plus a hand-computed SimpleRNN and the error paths. The ops are driven
 * directly through ks_op_find + infer/load/run (no planner, no file). */
#include "config.h"

#define OPTEST_SEED 88172645463325252ull
#define OPTEST_RAND_LO (-0.6)
#define OPTEST_RAND_SPAN 1.2
#include "ks_optest.h"

#define TOL 1e-5

enum { K_SIMPLE, K_LSTM, K_GRU };

/* ---- naive reference ------------------------------------------------ */

/* One recurrent layer with separate per-gate matrices. Gates: LSTM i,f,c,o;
 * GRU z,r,h; SimpleRNN one. W[g] (F,u), U[g] (u,u), b[g] (u), rb[g] (u) for
 * GRU reset_after (else NULL). hard selects Keras 1/2 hard_sigmoid. */
typedef struct ref_layer {
	int kind, G;
	int F, u;
	float *W[4], *U[4], *b[4], *rb[4];
	bool reset_after, go_backwards, hard;
} ref_layer;

static double ref_ract(const ref_layer *L, double x)
{
	if (L->hard) {
		double y = 0.2 * x + 0.5;
		return y < 0 ? 0 : y > 1 ? 1 : y;
	}
	return 1.0 / (1.0 + exp(-x));
}

/* x (B,T,F) -> seq (B,T,u) in processing order (position s = step s), h, c (B,u). */
static void ref_run(const ref_layer *L, const float *x, int B, int T, double *seq, double *hout, double *cout)
{
	int u = L->u, F = L->F;
	double *h = calloc((size_t)u, sizeof(double)), *c = calloc((size_t)u, sizeof(double));
	double *a = calloc((size_t)(4 * u), sizeof(double)), *rec = calloc((size_t)(4 * u), sizeof(double));
	double *rh = calloc((size_t)u, sizeof(double));

	for (int bb = 0; bb < B; bb++) {
		memset(h, 0, sizeof(double) * (size_t)u);
		memset(c, 0, sizeof(double) * (size_t)u);
		for (int s = 0; s < T; s++) {
			int t = L->go_backwards ? T - 1 - s : s;
			const float *xt = x + ((size_t)bb * T + t) * F;
			/* a[g] = x.W[g] + b[g]; rec[g] = h.U[g] + rb[g] */
			for (int g = 0; g < L->G; g++)
				for (int j = 0; j < u; j++) {
					a[g * u + j] = L->b[g][j];
					rec[g * u + j] = L->rb[g] ? L->rb[g][j] : 0.0;
					for (int k = 0; k < F; k++)
						a[g * u + j] += (double)xt[k] * L->W[g][k * u + j];
					for (int k = 0; k < u; k++)
						rec[g * u + j] += h[k] * L->U[g][k * u + j];
				}
			if (L->kind == K_GRU && !L->reset_after) {
				/* (r*h).U_h replaces h.U_h */
				for (int k = 0; k < u; k++)
					rh[k] = ref_ract(L, a[u + k] + rec[u + k]) * h[k];
				for (int j = 0; j < u; j++) {
					rec[2 * u + j] = 0;
					for (int k = 0; k < u; k++)
						rec[2 * u + j] += rh[k] * L->U[2][k * u + j];
				}
			}
			for (int j = 0; j < u; j++) {
				if (L->kind == K_SIMPLE) {
					h[j] = tanh(a[j] + rec[j]);
				} else if (L->kind == K_LSTM) {
					double i = ref_ract(L, a[j] + rec[j]), f = ref_ract(L, a[u + j] + rec[u + j]);
					double g = tanh(a[2 * u + j] + rec[2 * u + j]);
					double o = ref_ract(L, a[3 * u + j] + rec[3 * u + j]);
					c[j] = f * c[j] + i * g;
					h[j] = o * tanh(c[j]);
				} else {
					double z = ref_ract(L, a[j] + rec[j]), r = ref_ract(L, a[u + j] + rec[u + j]), hh;
					if (L->reset_after)
						hh = tanh(a[2 * u + j] + r * rec[2 * u + j]);
					else
						hh = tanh(a[2 * u + j] + rec[2 * u + j]);
					h[j] = z * h[j] + (1 - z) * hh;
				}
			}
			for (int j = 0; j < u; j++)
				seq[((size_t)bb * T + s) * u + j] = h[j];
		}
		memcpy(hout + (size_t)bb * u, h, sizeof(double) * (size_t)u);
		memcpy(cout + (size_t)bb * u, c, sizeof(double) * (size_t)u);
	}
	free(h);
	free(c);
	free(a);
	free(rec);
	free(rh);
}

static void ref_init(ref_layer *L, int kind, int F, int u, bool reset_after)
{
	memset(L, 0, sizeof *L);
	L->kind = kind;
	L->G = kind == K_LSTM ? 4 : kind == K_GRU ? 3 : 1;
	L->F = F;
	L->u = u;
	L->reset_after = reset_after;
	for (int g = 0; g < L->G; g++) {
		L->W[g] = rand_buf((size_t)F * u);
		L->U[g] = rand_buf((size_t)u * u);
		L->b[g] = rand_buf((size_t)u);
		L->rb[g] = reset_after ? rand_buf((size_t)u) : NULL;
	}
}

static void ref_free(ref_layer *L)
{
	for (int g = 0; g < L->G; g++) {
		free(L->W[g]);
		free(L->U[g]);
		free(L->b[g]);
		free(L->rb[g]);
	}
}

/* Fused Keras 2/3 weights of a reference layer: kernel (F, G*u) with gate g
 * in columns g*u.., recurrent_kernel (u, G*u), bias (G*u) or (2, G*u). */
static void tl_add_fused(tlayer *t, const ref_layer *L, bool bias)
{
	int u = L->u, G = L->G, Gu = G * u;
	float *K = ks_xmalloc(sizeof(float) * (size_t)(L->F > u ? L->F : u) * Gu + 1);
	float *bb = ks_xmalloc(sizeof(float) * 2 * (size_t)Gu);

	for (int g = 0; g < G; g++)
		for (int r = 0; r < L->F; r++)
			for (int j = 0; j < u; j++)
				K[r * Gu + g * u + j] = L->W[g][r * u + j];
	tl_add2(t, "kernel", K, 2, L->F, Gu);
	for (int g = 0; g < G; g++)
		for (int r = 0; r < u; r++)
			for (int j = 0; j < u; j++)
				K[r * Gu + g * u + j] = L->U[g][r * u + j];
	tl_add2(t, "recurrent_kernel", K, 2, u, Gu);
	if (bias) {
		for (int g = 0; g < G; g++)
			for (int j = 0; j < u; j++) {
				bb[g * u + j] = L->b[g][j];
				bb[Gu + g * u + j] = L->rb[g] ? L->rb[g][j] : 0;
			}
		if (L->reset_after)
			tl_add2(t, "bias", bb, 2, 2, Gu);
		else
			tl_add2(t, "bias", bb, 1, Gu, 0);
	}
	free(K);
	free(bb);
}

static const char *kind_class(int kind)
{
	return kind == K_LSTM ? "LSTM" : kind == K_GRU ? "GRU" : "SimpleRNN";
}

/* One fused-layout case compared with the reference. */
static void check_fused(int kind, int B, int T, int F, int u, bool reset_after, bool seq, bool back,
                        bool state)
{
	ref_layer L;
	tlayer t;
	char cfg[512];
	float *x = rand_buf((size_t)B * T * F);
	double *rseq = calloc((size_t)B * T * u, sizeof(double)), *rh = calloc((size_t)B * u, sizeof(double));
	double *rc = calloc((size_t)B * u, sizeof(double));
	ks_shape s = shape3(B, T, F);
	const float *in[1] = {x};
	run_io r;
	ks_err err;

	ref_init(&L, kind, F, u, reset_after);
	L.go_backwards = back;
	ref_run(&L, x, B, T, rseq, rh, rc);
	snprintf(cfg, sizeof cfg,
	         "{\"name\": \"layer\", \"units\": %d, \"activation\": \"tanh\", \"recurrent_activation\": "
	         "\"sigmoid\", \"use_bias\": true, \"return_sequences\": %s, \"return_state\": %s, "
	         "\"go_backwards\": %s, \"reset_after\": %s}",
	         u, seq ? "true" : "false", state ? "true" : "false", back ? "true" : "false",
	         reset_after ? "true" : "false");
	tl_init(&t, kind_class(kind), cfg);
	tl_add_fused(&t, &L, true);
	if (run_op_io(&t, 2, 1, &s, in, &r, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(r.n_out, 1 + (state ? (kind == K_LSTM ? 2 : 1) : 0));
	if (seq) {
		assert_int_equal(r.shape[0].rank, 3);
		assert_int_equal(r.shape[0].d[1], T);
		assert_close(r.out[0], rseq, (size_t)B * T * u, TOL);
	} else {
		assert_int_equal(r.shape[0].rank, 2);
		assert_close(r.out[0], rh, (size_t)B * u, TOL);
	}
	if (state) {
		assert_close(r.out[1], rh, (size_t)B * u, TOL);
		if (kind == K_LSTM)
			assert_close(r.out[2], rc, (size_t)B * u, TOL);
	}
	rr_free(&r);
	tl_free(&t);
	ref_free(&L);
	free(x);
	free(rseq);
	free(rh);
	free(rc);
}

static void test_lstm_fused(void **state)
{
	(void)state;
	check_fused(K_LSTM, 3, 7, 5, 6, false, true, false, false);
	check_fused(K_LSTM, 1, 9, 4, 8, false, false, false, false); /* batch 1: sgemv path */
	check_fused(K_LSTM, 2, 5, 3, 4, false, true, true, true);    /* go_backwards + states */
	check_fused(K_LSTM, 3, 6, 2, 5, false, false, true, true);
}

static void test_gru_fused(void **state)
{
	(void)state;
	check_fused(K_GRU, 3, 7, 5, 6, true, true, false, false);
	check_fused(K_GRU, 3, 7, 5, 6, false, true, false, false);
	check_fused(K_GRU, 1, 6, 3, 7, false, false, true, true);
	check_fused(K_GRU, 1, 6, 3, 7, true, false, true, true);
	check_fused(K_GRU, 2, 4, 4, 3, true, true, true, true);
}

static void test_simple_rnn_fused(void **state)
{
	(void)state;
	check_fused(K_SIMPLE, 3, 7, 5, 6, false, true, false, false);
	check_fused(K_SIMPLE, 2, 5, 2, 3, false, false, true, true);
}

/* SimpleRNN with one unit and linear activation, by hand:
 * h1 = 2*1 + 0.5 = 2.5; h2 = 2*(-1) + 0.5*2.5 + 0.5 = -0.25; h3 = 2*3 + 0.5*(-0.25) + 0.5 = 6.375 */
static void test_simple_rnn_by_hand(void **state)
{
	tlayer t;
	float W = 2.0f, U = 0.5f, b = 0.5f, x[3] = {1, -1, 3};
	ks_shape s = shape3(1, 3, 1);
	const float *in[1] = {x};
	run_io r;
	ks_err err;
	(void)state;

	tl_init(&t, "SimpleRNN", "{\"units\": 1, \"activation\": \"linear\", \"return_sequences\": true}");
	tl_add2(&t, "kernel", &W, 2, 1, 1);
	tl_add2(&t, "recurrent_kernel", &U, 2, 1, 1);
	tl_add2(&t, "bias", &b, 1, 1, 0);
	assert_int_equal(run_op_io(&t, 2, 1, &s, in, &r, &err), 0);
	assert_float_equal(r.out[0][0], 2.5f, 1e-6);
	assert_float_equal(r.out[0][1], -0.25f, 1e-6);
	assert_float_equal(r.out[0][2], 6.375f, 1e-6);
	rr_free(&r);
	tl_free(&t);
}

/* Initial states as extra inputs (encoder-decoder models): running the
 * last T-k steps from the reference's state after k steps must give the
 * reference's final state for the whole sequence. */
static void check_initial_state(int kind)
{
	enum { B = 2, T = 6, F = 3, u = 4, K = 2 };
	ref_layer L;
	tlayer t;
	float *x = rand_buf(B * T * F), xk[B * K * F], xr[B * (T - K) * F], h0[B * u], c0[B * u];
	double sk[B * K * u], hk[B * u], ck[B * u], s[B * T * u], h[B * u], c[B * u];
	ks_shape sh[3] = {shape3(B, T - K, F), {.rank = 2, .d = {B, u}}, {.rank = 2, .d = {B, u}}};
	const float *in[3] = {xr, h0, c0};
	int n_in = kind == K_LSTM ? 3 : 2;
	run_io r;
	ks_err err;

	ref_init(&L, kind, F, u, kind == K_GRU);
	ref_run(&L, x, B, T, s, h, c);
	for (int b = 0; b < B; b++) {
		memcpy(xk + b * K * F, x + b * T * F, sizeof(float) * K * F);
		memcpy(xr + b * (T - K) * F, x + (b * T + K) * F, sizeof(float) * (T - K) * F);
	}
	ref_run(&L, xk, B, K, sk, hk, ck);
	for (int i = 0; i < B * u; i++) {
		h0[i] = (float)hk[i];
		c0[i] = (float)ck[i];
	}
	tl_init(&t, kind_class(kind), "{\"units\": 4, \"return_state\": true, \"reset_after\": true}");
	tl_add_fused(&t, &L, true);
	if (run_op_io(&t, 2, n_in, sh, in, &r, &err) < 0)
		fail_msg("%s", err.msg);
	assert_close(r.out[0], h, B * u, TOL);
	assert_close(r.out[1], h, B * u, TOL);
	if (kind == K_LSTM)
		assert_close(r.out[2], c, B * u, TOL);
	rr_free(&r);
	tl_free(&t);
	ref_free(&L);
	free(x);
}

static void test_initial_state(void **state)
{
	(void)state;
	check_initial_state(K_LSTM);
	check_initial_state(K_GRU);
}

/* The generic RNN layer with a GRUCell (reset_after) and a
 * Bidirectional(RNN(LSTMCell)): return_sequences lives in the layer, units
 * and activations in the cell. */
static void test_rnn_with_cell(void **state)
{
	enum { B = 2, T = 5, F = 3, u = 4 };
	ref_layer L, Lb;
	tlayer t;
	float *x = rand_buf(B * T * F);
	double rs[B * T * u], rh[B * u], rc[B * u], bs[B * T * u], bh[B * u], bc[B * u], want[B * 2 * u];
	ks_shape s = shape3(B, T, F);
	const float *in[1] = {x};
	run_io r;
	ks_err err;
	(void)state;

	ref_init(&L, K_GRU, F, u, true);
	ref_run(&L, x, B, T, rs, rh, rc);
	tl_init(&t, "RNN", "{\"return_sequences\": true, \"cell\": {\"class_name\": \"GRUCell\", \"config\": "
	                   "{\"units\": 4, \"reset_after\": true, \"recurrent_activation\": \"sigmoid\"}}}");
	tl_add_fused(&t, &L, true);
	if (run_op_io(&t, 3, 1, &s, in, &r, &err) < 0)
		fail_msg("%s", err.msg);
	assert_close(r.out[0], rs, B * T * u, TOL);
	rr_free(&r);
	tl_free(&t);
	ref_free(&L);

	ref_init(&L, K_LSTM, F, u, false);
	ref_init(&Lb, K_LSTM, F, u, false);
	Lb.go_backwards = true;
	ref_run(&L, x, B, T, rs, rh, rc);
	ref_run(&Lb, x, B, T, bs, bh, bc);
	for (int b = 0; b < B; b++)
		for (int j = 0; j < u; j++) {
			want[b * 2 * u + j] = rh[b * u + j];
			want[b * 2 * u + u + j] = bh[b * u + j];
		}
	tl_init(&t, "Bidirectional", "{\"layer\": {\"class_name\": \"RNN\", \"config\": {\"return_sequences\": false, "
	                             "\"cell\": {\"class_name\": \"LSTMCell\", \"config\": {\"units\": 4}}}}}");
	tl_add_fused(&t, &L, true);
	tl_add_fused(&t, &Lb, true);
	if (run_op_io(&t, 3, 1, &s, in, &r, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(r.shape[0].rank, 2);
	assert_close(r.out[0], want, B * 2 * u, TOL);
	rr_free(&r);
	tl_free(&t);
	ref_free(&L);
	ref_free(&Lb);
	free(x);
}

/* Keras 1 per-gate arrays in trainable_weights order (LSTM i, c, f, o;
 * GRU z, r, h), Keras 1 key names, and hard_sigmoid = clip(0.2x+0.5). */
static void check_keras1_gates(int kind, bool back)
{
	static const int lstm_file_order[4] = {0, 2, 1, 3};
	static const char *const lstm_names[4] = {"i", "c", "f", "o"};
	static const char *const gru_names[3] = {"z", "r", "h"};
	ref_layer L;
	tlayer t;
	char cfg[512], names[12][8];
	int B = 2, T = 6, F = 3, u = 4;
	float *x = rand_buf((size_t)B * T * F);
	double *rseq = calloc((size_t)B * T * u, sizeof(double)), *rh = calloc((size_t)B * u, sizeof(double));
	double *rc = calloc((size_t)B * u, sizeof(double));
	ks_shape s = shape3(B, T, F);
	const float *in[1] = {x};
	run_io r;
	ks_err err;

	ref_init(&L, kind, F, u, false);
	L.hard = true;
	L.go_backwards = back;
	for (int j = 0; j < B * T * F; j++)
		x[j] *= 5; /* reach the clipped parts of hard_sigmoid */
	ref_run(&L, x, B, T, rseq, rh, rc);
	snprintf(cfg, sizeof cfg,
	         "{\"name\": \"lstm_1\", \"output_dim\": %d, \"activation\": \"tanh\", "
	         "\"inner_activation\": \"hard_sigmoid\", \"consume_less\": \"cpu\", "
	         "\"return_sequences\": true, \"go_backwards\": %s}",
	         u, back ? "true" : "false");
	tl_init(&t, kind_class(kind), cfg);
	for (int k = 0; k < L.G; k++) {
		int g = kind == K_LSTM ? lstm_file_order[k] : k;
		const char *gn = kind == K_LSTM ? lstm_names[k] : gru_names[k];
		snprintf(names[3 * k], 8, "W_%s", gn);
		snprintf(names[3 * k + 1], 8, "U_%s", gn);
		snprintf(names[3 * k + 2], 8, "b_%s", gn);
		tl_add2(&t, names[3 * k], L.W[g], 2, F, u);
		tl_add2(&t, names[3 * k + 1], L.U[g], 2, u, u);
		tl_add2(&t, names[3 * k + 2], L.b[g], 1, u, 0);
	}
	if (run_op_io(&t, 1, 1, &s, in, &r, &err) < 0)
		fail_msg("%s", err.msg);
	assert_close(r.out[0], rseq, (size_t)B * T * u, TOL);
	rr_free(&r);
	tl_free(&t);
	ref_free(&L);
	free(x);
	free(rseq);
	free(rh);
	free(rc);
}

static void test_keras1_per_gate(void **state)
{
	(void)state;
	check_keras1_gates(K_LSTM, false);
	check_keras1_gates(K_LSTM, true);
	check_keras1_gates(K_GRU, false);
}

/* Bidirectional: forward weights then backward; the backward layer reads
 * the reversed sequence and its sequence output is reversed back. */
static void check_bidi(int kind, const char *merge, bool seq)
{
	ref_layer Lf, Lb;
	tlayer t;
	char cfg[768];
	int B = 3, T = 5, F = 4, u = 3;
	float *x = rand_buf((size_t)B * T * F);
	size_t n = (size_t)B * T * u;
	double *fs = calloc(n, sizeof(double)), *bs = calloc(n, sizeof(double));
	double *fh = calloc((size_t)B * u, sizeof(double)), *bh = calloc((size_t)B * u, sizeof(double));
	double *fc = calloc((size_t)B * u, sizeof(double)), *bc = calloc((size_t)B * u, sizeof(double));
	double *want = calloc(2 * n, sizeof(double)), *want2 = calloc(n, sizeof(double));
	ks_shape s = shape3(B, T, F);
	const float *in[1] = {x};
	int steps = seq ? T : 1, width;
	run_io r;
	ks_err err;

	ref_init(&Lf, kind, F, u, kind == K_GRU);
	ref_init(&Lb, kind, F, u, kind == K_GRU);
	Lb.go_backwards = true;
	ref_run(&Lf, x, B, T, fs, fh, fc);
	ref_run(&Lb, x, B, T, bs, bh, bc);
	snprintf(cfg, sizeof cfg,
	         "{\"name\": \"bidi\", \"merge_mode\": %s%s%s, \"layer\": {\"class_name\": \"%s\", \"config\": "
	         "{\"name\": \"l\", \"units\": %d, \"return_sequences\": %s, \"reset_after\": true, "
	         "\"recurrent_activation\": \"sigmoid\"}}}",
	         merge ? "\"" : "", merge ? merge : "null", merge ? "\"" : "", kind_class(kind), u,
	         seq ? "true" : "false");
	tl_init(&t, "Bidirectional", cfg);
	tl_add_fused(&t, &Lf, true);
	tl_add_fused(&t, &Lb, true);
	if (run_op_io(&t, 2, 1, &s, in, &r, &err) < 0)
		fail_msg("%s", err.msg);
	width = merge && !strcmp(merge, "concat") ? 2 * u : u;
	for (int b = 0; b < B; b++)
		for (int k = 0; k < steps; k++)
			for (int j = 0; j < u; j++) {
				/* backward output at position k was produced at step T-1-k */
				double a = seq ? fs[((size_t)b * T + k) * u + j] : fh[b * u + j];
				double c = seq ? bs[((size_t)b * T + (T - 1 - k)) * u + j] : bh[b * u + j];
				size_t o = ((size_t)b * steps + k) * width;
				if (!merge) {
					want[((size_t)b * steps + k) * u + j] = a;
					want2[((size_t)b * steps + k) * u + j] = c;
				} else if (!strcmp(merge, "concat")) {
					want[o + j] = a;
					want[o + u + j] = c;
				} else if (!strcmp(merge, "sum")) {
					want[o + j] = a + c;
				} else if (!strcmp(merge, "ave")) {
					want[o + j] = (a + c) / 2;
				} else {
					want[o + j] = a * c;
				}
			}
	assert_int_equal(r.n_out, merge ? 1 : 2);
	assert_int_equal(r.shape[0].d[r.shape[0].rank - 1], width);
	assert_close(r.out[0], want, (size_t)B * steps * width, TOL);
	if (!merge)
		assert_close(r.out[1], want2, (size_t)B * steps * u, TOL);
	rr_free(&r);
	tl_free(&t);
	ref_free(&Lf);
	ref_free(&Lb);
	free(x);
	free(fs);
	free(bs);
	free(fh);
	free(bh);
	free(fc);
	free(bc);
	free(want);
	free(want2);
}

static void test_bidirectional(void **state)
{
	static const char *const modes[] = {"concat", "sum", "ave", "mul", NULL};
	(void)state;
	for (int i = 0; i < 5; i++) {
		check_bidi(K_LSTM, modes[i], true);
		check_bidi(K_LSTM, modes[i], false);
	}
	check_bidi(K_GRU, "concat", true);
	check_bidi(K_SIMPLE, "sum", true);
}

/* TimeDistributed(LSTM) folds the outer time axis into the batch. */
static void test_time_distributed_lstm(void **state)
{
	ref_layer L;
	tlayer t;
	int B = 2, T1 = 3, T2 = 4, F = 3, u = 5;
	float *x = rand_buf((size_t)B * T1 * T2 * F);
	double *rs = calloc((size_t)B * T1 * T2 * u, sizeof(double)), *rh = calloc((size_t)B * T1 * u, sizeof(double));
	double *rc = calloc((size_t)B * T1 * u, sizeof(double));
	ks_shape s = {.rank = 4, .d = {B, T1, T2, F}};
	const float *in[1] = {x};
	run_io r;
	ks_err err;
	(void)state;

	ref_init(&L, K_LSTM, F, u, false);
	ref_run(&L, x, B * T1, T2, rs, rh, rc);
	tl_init(&t, "TimeDistributed",
	        "{\"name\": \"td\", \"layer\": {\"class_name\": \"LSTM\", \"config\": {\"units\": 5}}}");
	tl_add_fused(&t, &L, true);
	if (run_op_io(&t, 2, 1, &s, in, &r, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(r.shape[0].rank, 3);
	assert_int_equal(r.shape[0].d[0], B);
	assert_int_equal(r.shape[0].d[1], T1);
	assert_int_equal(r.shape[0].d[2], u);
	assert_close(r.out[0], rh, (size_t)B * T1 * u, TOL);
	rr_free(&r);
	tl_free(&t);
	ref_free(&L);
	free(x);
	free(rs);
	free(rh);
	free(rc);
}

/* TimeDistributed(Dense) with the wrapped layer's activation, and Keras 1's
 * TimeDistributedDense (W, b, output_dim): y[b,t] = act(x[b,t] . W + b). */
static void check_td_dense(const char *cls, const char *cfg, const char *wn, const char *bn, bool relu)
{
	enum { B = 2, T = 3, F = 4, U = 5 };
	tlayer t;
	float *x = rand_buf(B * T * F), *W = rand_buf(F * U), *b = rand_buf(U);
	double want[B * T * U];
	ks_shape s = shape3(B, T, F);
	const float *in[1] = {x};
	run_io r;
	ks_err err;

	for (int i = 0; i < B * T; i++)
		for (int j = 0; j < U; j++) {
			double v = b[j];
			for (int k = 0; k < F; k++)
				v += (double)x[i * F + k] * W[k * U + j];
			want[i * U + j] = relu ? (v > 0 ? v : 0) : tanh(v);
		}
	tl_init(&t, cls, cfg);
	tl_add2(&t, wn, W, 2, F, U);
	tl_add2(&t, bn, b, 1, U, 0);
	if (run_op_io(&t, 2, 1, &s, in, &r, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(r.shape[0].rank, 3);
	assert_int_equal(r.shape[0].d[2], U);
	assert_close(r.out[0], want, B * T * U, TOL);
	rr_free(&r);
	tl_free(&t);
	free(x);
	free(W);
	free(b);
}

static void test_time_distributed_dense(void **state)
{
	(void)state;
	if (!ks_op_find("Dense"))
		fail_msg("Dense op missing");
	check_td_dense("TimeDistributed",
	               "{\"layer\": {\"class_name\": \"Dense\", \"config\": {\"units\": 5, \"activation\": \"relu\"}}}",
	               "kernel", "bias", true);
	check_td_dense("TimeDistributedDense", "{\"output_dim\": 5, \"activation\": \"tanh\", \"bias\": true}", "W",
	               "b", false);
}

/* ConvLSTM1D, channels last, against a naive double reference:
 * z = conv(x_t, K; strides, padding, dilation) + b + conv(h, U; "same", 1),
 * gates i, f, c, o as in the LSTM. */
static void check_convlstm1d(const char *padding, int stride, int dil, bool back, bool state)
{
	enum { B = 2, T = 4, L = 7, C = 3, Fl = 2, K = 3, G = 4 * Fl };
	tlayer t;
	char cfg[512];
	float *x = rand_buf(B * T * L * C), *Kw = rand_buf(K * C * G), *Uw = rand_buf(K * Fl * G), *bw = rand_buf(G);
	bool same = !strcmp(padding, "same");
	int Lo = same ? (L + stride - 1) / stride : (L - dil * (K - 1) - 1) / stride + 1;
	int pad = same ? ((Lo - 1) * stride + dil * (K - 1) + 1 - L) / 2 : 0;
	double h[B][L][Fl] = {{{0}}}, c[B][L][Fl] = {{{0}}}, want[B * T * L * Fl], z[L][G];
	ks_shape s = {.rank = 4, .d = {B, T, L, C}};
	const float *in[1] = {x};
	run_io r;
	ks_err err;

	if (pad < 0)
		pad = 0;
	for (int b = 0; b < B; b++)
		for (int st = 0; st < T; st++) {
			int tt = back ? T - 1 - st : st;
			for (int o = 0; o < Lo; o++)
				for (int g = 0; g < G; g++) {
					double v = bw[g];
					for (int k = 0; k < K; k++) {
						int i = o * stride - pad + k * dil, j = o - (K - 1) / 2 + k;
						if (i >= 0 && i < L)
							for (int ch = 0; ch < C; ch++)
								v += (double)x[((b * T + tt) * L + i) * C + ch] * Kw[(k * C + ch) * G + g];
						if (j >= 0 && j < Lo)
							for (int ch = 0; ch < Fl; ch++)
								v += h[b][j][ch] * Uw[(k * Fl + ch) * G + g];
					}
					z[o][g] = v;
				}
			for (int o = 0; o < Lo; o++)
				for (int j = 0; j < Fl; j++) {
					double ig = 1 / (1 + exp(-z[o][j])), fg = 1 / (1 + exp(-z[o][Fl + j]));
					double gg = tanh(z[o][2 * Fl + j]), og = 1 / (1 + exp(-z[o][3 * Fl + j]));
					c[b][o][j] = fg * c[b][o][j] + ig * gg;
					h[b][o][j] = og * tanh(c[b][o][j]);
					want[((b * T + st) * Lo + o) * Fl + j] = h[b][o][j];
				}
		}
	snprintf(cfg, sizeof cfg,
	         "{\"filters\": %d, \"kernel_size\": [%d], \"strides\": %d, \"padding\": \"%s\", \"dilation_rate\": %d, "
	         "\"return_sequences\": true, \"return_state\": %s, \"go_backwards\": %s, "
	         "\"recurrent_activation\": \"sigmoid\", \"data_format\": \"channels_last\"}",
	         Fl, K, stride, padding, dil, state ? "true" : "false", back ? "true" : "false");
	tl_init(&t, "ConvLSTM1D", cfg);
	tl_add2(&t, "kernel", Kw, 2, K, C * G);
	t.w[0].rank = 3;
	t.w[0].shape[1] = C;
	t.w[0].shape[2] = G;
	tl_add2(&t, "recurrent_kernel", Uw, 2, K, Fl * G);
	t.w[1].rank = 3;
	t.w[1].shape[1] = Fl;
	t.w[1].shape[2] = G;
	tl_add2(&t, "bias", bw, 1, G, 0);
	if (run_op_io(&t, 3, 1, &s, in, &r, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(r.n_out, state ? 3 : 1);
	assert_int_equal(r.shape[0].rank, 4);
	assert_int_equal(r.shape[0].d[2], Lo);
	assert_int_equal(r.shape[0].d[3], Fl);
	assert_close(r.out[0], want, (size_t)B * T * Lo * Fl, TOL);
	if (state) {
		double hl[B * L * Fl];
		for (int b = 0; b < B; b++)
			for (int i = 0; i < Lo * Fl; i++)
				hl[b * Lo * Fl + i] = h[b][i / Fl][i % Fl];
		assert_int_equal(r.shape[1].rank, 3);
		assert_close(r.out[1], hl, (size_t)B * Lo * Fl, TOL);
	}
	rr_free(&r);
	tl_free(&t);
	free(x);
	free(Kw);
	free(Uw);
	free(bw);
}

static void test_convlstm(void **state)
{
	(void)state;
	check_convlstm1d("valid", 2, 1, false, false);
	check_convlstm1d("same", 1, 2, true, true);
	check_convlstm1d("same", 2, 1, false, true);
}

/* Masked steps leave the state alone and repeat the last output. The
 * reference runs each sample on its sequence with the masked steps removed.
 * emb = false: Masking -> LSTM (masked steps arrive as zeros);
 * emb = true: Embedding(mask_zero) -> Dropout -> LSTM (masked steps are the
 * embedding of id 0). */
static void check_masked(bool emb)
{
	enum { B = 2, T = 6, F = 3, u = 4, V = 5 };
	static const bool masked[B][T] = {{0, 0, 0, 0, 1, 1}, {1, 0, 0, 1, 0, 0}};
	ref_layer L;
	tlayer t;
	ks_layer layers[3];
	ks_ref ref0 = {.layer = 0}, ref1 = {.layer = 1};
	ks_node node0 = {.in = &ref0, .n_in = 1}, node1 = {.in = &ref1, .n_in = 1};
	ks_model m = {.file = H5I_INVALID_HID, .layers = layers, .n_layers = 3};
	float *x = rand_buf((size_t)B * T * F), *table = rand_buf(V * F);
	ks_weight ew = {.name = (char *)"embeddings", .rank = 2, .shape = {V, F}, .dtype = KS_DT_F32, .mem = table};
	json_t *ecfg = json_pack("{s:b}", "mask_zero", 1);
	double want[B * T * u];
	ks_shape s = shape3(B, T, F);
	const float *in[1] = {x};
	run_io r;
	ks_err err;

	ref_init(&L, K_LSTM, F, u, false);
	for (int b = 0; b < B; b++) {
		float xs[T * F];
		double rs[T * u], rh[u], rc[u], last[u] = {0};
		int n = 0, k = 0;
		for (int i = 0; i < T; i++) {
			float *xt = x + (b * T + i) * F;
			if (emb) /* ids 1..V-1 for kept steps, 0 for masked ones */
				memcpy(xt, table + F * (masked[b][i] ? 0 : 1 + (b + i) % (V - 1)), sizeof(float) * F);
			else if (masked[b][i])
				memset(xt, 0, sizeof(float) * F);
			if (!masked[b][i])
				memcpy(xs + F * n++, xt, sizeof(float) * F);
		}
		ref_run(&L, xs, 1, n, rs, rh, rc);
		for (int i = 0; i < T; i++) {
			if (!masked[b][i])
				memcpy(last, rs + u * k++, sizeof last);
			memcpy(want + (b * T + i) * u, last, sizeof last);
		}
	}
	tl_init(&t, "LSTM", "{\"units\": 4, \"return_sequences\": true}");
	tl_add_fused(&t, &L, true);
	memset(layers, 0, sizeof layers);
	layers[0].name = (char *)"src";
	layers[0].class_name = (char *)(emb ? "Embedding" : "Masking");
	layers[0].config = ecfg;
	layers[0].weights = emb ? &ew : NULL;
	layers[0].n_weights = emb ? 1 : 0;
	layers[1].name = (char *)"dropout";
	layers[1].class_name = (char *)"Dropout";
	layers[1].nodes = &node0;
	layers[1].n_nodes = 1;
	t.l.nodes = &node1;
	t.l.n_nodes = 1;
	layers[2] = t.l;
	t.model = &m;
	if (run_op_io(&t, 2, 1, &s, in, &r, &err) < 0)
		fail_msg("%s", err.msg);
	assert_close(r.out[0], want, (size_t)B * T * u, TOL);
	rr_free(&r);
	tl_free(&t);
	ref_free(&L);
	json_decref(ecfg);
	free(x);
	free(table);
}

static void test_masking_skips_steps(void **state)
{
	(void)state;
	check_masked(false);
	check_masked(true);
}

/* Shape propagation with unknown batch/steps, and clear errors. */
static void test_infer_and_errors(void **state)
{
	const ks_op *op = ks_op_find("LSTM");
	ref_layer L;
	tlayer t;
	ks_op_call c;
	ks_err err;
	(void)state;

	ref_init(&L, K_LSTM, 3, 4, false);
	tl_init(&t, "LSTM", "{\"units\": 4, \"return_sequences\": true, \"return_state\": true}");
	tl_add_fused(&t, &L, true);
	memset(&c, 0, sizeof c);
	c.model = &optest_model;
	c.layer = &t.l;
	c.config = t.cfg;
	c.keras_major = 3;
	c.n_in = 1;
	c.in[0] = shape3(-1, -1, 3);
	assert_int_equal(op->infer(&c, &err), 0);
	assert_int_equal(c.n_out, 3);
	assert_int_equal(c.out[0].rank, 3);
	assert_int_equal(c.out[0].d[0], -1);
	assert_int_equal(c.out[0].d[1], -1);
	assert_int_equal(c.out[0].d[2], 4);
	assert_int_equal(c.out[2].d[1], 4);
	op->free(&c);

	/* wrong input width vs kernel */
	c.in[0] = shape3(2, 5, 7);
	assert_int_equal(op->infer(&c, &err), -1);
	assert_non_null(strstr(err.msg, "kernel"));
	assert_non_null(strstr(err.msg, "(7, 16)"));

	/* rank 2 input */
	c.in[0].rank = 2;
	assert_int_equal(op->infer(&c, &err), -1);
	assert_non_null(strstr(err.msg, "3D input"));
	tl_free(&t);

	/* missing bias */
	tl_init(&t, "LSTM", "{\"units\": 4}");
	tl_add_fused(&t, &L, false);
	c.layer = &t.l;
	c.config = t.cfg;
	c.in[0] = shape3(2, 5, 3);
	assert_int_equal(op->infer(&c, &err), -1);
	assert_non_null(strstr(err.msg, "has 2 weights but the config needs 3"));
	tl_free(&t);

	/* bad units */
	tl_init(&t, "GRU", "{\"units\": \"many\"}");
	c.layer = &t.l;
	c.config = t.cfg;
	assert_int_equal(ks_op_find("GRU")->infer(&c, &err), -1);
	assert_non_null(strstr(err.msg, "units"));
	tl_free(&t);

	/* unknown merge mode */
	tl_init(&t, "Bidirectional", "{\"merge_mode\": \"max\", \"layer\": {\"class_name\": \"LSTM\", \"config\": {\"units\": 4}}}");
	c.layer = &t.l;
	c.config = t.cfg;
	assert_int_equal(ks_op_find("Bidirectional")->infer(&c, &err), -1);
	assert_non_null(strstr(err.msg, "merge_mode"));
	tl_free(&t);
	ref_free(&L);
}

/* Bad configurations and shapes fail in infer with one line naming the
 * layer and the problem (never a crash). Weights: a fused LSTM(4) on 3
 * features unless the case says otherwise. */
static void test_hostile_configs(void **state)
{
	static const struct {
		const char *cls, *cfg;
		int rank;
		int64_t d[5];
		const char *want;
	} cases[] = {
		{"LSTM", "{\"units\": 4, \"time_major\": true}", 3, {2, 5, 3}, "time_major"},
		{"LSTM", "{\"units\": 4, \"return_sequences\": \"yes\"}", 3, {2, 5, 3}, "return_sequences"},
		{"LSTM", "{\"units\": 4, \"activation\": \"no_such_fn\"}", 3, {2, 5, 3}, "no_such_fn"},
		{"LSTM", "{\"units\": 5}", 3, {2, 5, 3}, "(3, 20)"},
		{"LSTM", "{\"units\": 4}", 3, {2, 5, 9}, "kernel"},
		{"LSTM", "{\"units\": -4}", 3, {2, 5, 3}, "units"},
		{"LSTM", "{\"units\": 4}", 4, {2, 5, 3, 1}, "3D input"},
		{"GRU", "{\"units\": 4}", 3, {2, 5, 3}, "kernel"},
		{"RNN", "{\"cell\": [1, 2]}", 3, {2, 5, 3}, "cell"},
		{"Bidirectional", "{}", 3, {2, 5, 3}, "layer"},
		{"Bidirectional", "{\"layer\": {\"class_name\": \"Dense\", \"config\": {\"units\": 4}}}", 3, {2, 5, 3},
		 "Dense"},
		{"Bidirectional", "{\"layer\": {\"class_name\": \"LSTM\", \"config\": {\"units\": 4}}}", 3, {2, 5, 3},
		 "has 3 weights but the config needs 6"},
		{"TimeDistributed", "{\"layer\": {\"class_name\": \"NoSuchLayer\", \"config\": {}}}", 3, {2, 5, 3},
		 "NoSuchLayer"},
		{"TimeDistributed", "{\"layer\": {\"class_name\": \"LSTM\", \"config\": {\"units\": 4}}}", 2, {2, 5},
		 "rank >= 3"},
		{"ConvLSTM2D", "{\"filters\": 1, \"kernel_size\": [3, 3]}", 3, {2, 5, 3}, "spatial"},
		{"ConvLSTM2D", "{\"filters\": 1, \"kernel_size\": [0, 3]}", 5, {2, 5, 4, 4, 3}, "kernel size"},
	};
	ref_layer L;
	(void)state;

	ref_init(&L, K_LSTM, 3, 4, false);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		tlayer t;
		ks_shape in = {.rank = cases[i].rank};
		ks_err err;
		memcpy(in.d, cases[i].d, sizeof cases[i].d);
		tl_init(&t, cases[i].cls, cases[i].cfg);
		tl_add_fused(&t, &L, true);
		err.msg[0] = 0;
		if (infer_op(&t, in, NULL, &err) == 0)
			fail_msg("case %zu (%s %s) was accepted", i, cases[i].cls, cases[i].cfg);
		if (!strstr(err.msg, "layer") || !strstr(err.msg, cases[i].want) || strchr(err.msg, '\n'))
			fail_msg("case %zu: message '%s' lacks '%s'", i, err.msg, cases[i].want);
		tl_free(&t);
	}
	ref_free(&L);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_simple_rnn_by_hand),
	cmocka_unit_test(test_lstm_fused),
	cmocka_unit_test(test_gru_fused),
	cmocka_unit_test(test_simple_rnn_fused),
	cmocka_unit_test(test_keras1_per_gate),
	cmocka_unit_test(test_rnn_with_cell),
	cmocka_unit_test(test_initial_state),
	cmocka_unit_test(test_bidirectional),
	cmocka_unit_test(test_time_distributed_lstm),
	cmocka_unit_test(test_time_distributed_dense),
	cmocka_unit_test(test_convlstm),
	cmocka_unit_test(test_masking_skips_steps),
	cmocka_unit_test(test_infer_and_errors),
	cmocka_unit_test(test_hostile_configs),
};

KS_TEST_MAIN(tests)
