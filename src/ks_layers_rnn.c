/* ks_layers_rnn: recurrent layers and the wrappers around them.
 *
 * SimpleRNN, LSTM, GRU (and the generic RNN with one such cell, CuDNNLSTM,
 * CuDNNGRU), ConvLSTM1D/2D/3D, Bidirectional, TimeDistributed (and Keras 1
 * TimeDistributedDense).
 *
 * Weights are taken by position, as Keras itself loads legacy files: the
 * layer's weights in file order, checked shape by shape against the config.
 * Layouts accepted:
 *   Keras 2/3 fused:  kernel (in, G*u), recurrent_kernel (u, G*u), bias (G*u)
 *                     (GRU reset_after: bias (2, 3u) = input row, recurrent row)
 *   Keras 1 per gate: W_g (in, u), U_g (u, u), b_g (u) for each gate, listed
 *                     LSTM i, c, f, o and GRU z, r, h (trainable_weights order)
 *   Keras 1 "gpu":    W, U, b fused as in Keras 2.
 * Fused gate order: LSTM i, f, c, o; GRU z, r, h.
 *
 * Masks from a Masking layer or an Embedding(mask_zero=True) feeding the
 * layer (directly or through Dropout-like layers) are honoured: masked steps
 * carry the state over (see ks_op_mask_source). Other masks are not modelled.
 * Not modelled either: stateful (every predict starts from zero states).
 * Initial states given as extra call inputs (h, then c for LSTM) are used
 * (not for ConvLSTM).
 *
 * Speed: x.W for every step is one sgemm up front; each step then does one
 * h.U (sgemv for a batch of one) and inline gate loops.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include <cblas.h>

#include "ks_act.h"
#include "ks_cfg.h"
#include "ks_ops.h"
#include "ks_spatial.h"
#include "ks_util.h"

enum { RNN_SIMPLE, RNN_LSTM, RNN_GRU };
enum { LAYOUT_FUSED, LAYOUT_GATES, LAYOUT_CUDNN };

typedef struct rnn_cell {
	int kind;
	int G;                   /* gates: 1, 4 or 3 */
	int layout;
	int64_t units, in_dim;   /* in_dim: features, or channels for ConvLSTM */
	/* ConvLSTM{1,2,3}D (sn > 0): per-step images; the state is (P, units)
	 * channels-last per sample. Unused axes are 1. pb: input padding before,
	 * rpb: the recurrent convolution's ("same", stride 1). */
	int sn;
	bool cf;
	int64_t sin[3], sout[3], k[3], st[3], dl[3], pb[3], rpb[3];
	int64_t Pin, P, kvol;
	bool use_bias, reset_after;
	bool return_sequences, return_state, go_backwards;
	int mask;                /* KS_MASK_*: where the input's mask comes from */
	int mask_emb;            /* the Embedding layer for KS_MASK_EMB_ROW0 */
	float *mask_row;         /* its row 0 (load) */
	bool zero_masked_out;    /* masked steps output zeros, not the carried state */
	int w0, nw;              /* the layer weights this cell consumes */
	ks_act act, rec_act;
	/* Set by load: W (kvol*in, G*u), U (kvol*u, G*u) (kvol = 1 but for
	 * ConvLSTM, whose kernels read as matrices in im2col patch order),
	 * b (G*u) input bias (zeros without use_bias), rb (G*u) GRU reset_after
	 * recurrent bias or NULL. */
	float *W, *U, *b, *rb;
} rnn_cell;

/* Checks layer weight `idx` has exactly the given shape. */
static int check_w(const ks_op_call *c, int idx, int rank, const int64_t *shape, ks_err *err)
{
	if (idx >= c->layer->n_weights)
		return ks_fail(err, "layer %s (%s): weight %d is missing (the layer has %d)",
		               c->layer->name, c->layer->class_name, idx + 1, c->layer->n_weights);
	return ks_op_check_shape(c, &c->layer->weights[idx], rank, shape, err);
}

/* Reads weight idx (already shape-checked by infer) into dst. */
static int read_w(const ks_op_call *c, int idx, float *dst, ks_err *err)
{
	return ks_op_read_into(c, &c->layer->weights[idx], dst, err);
}

static int cell_kind(const char *cls)
{
	if (ks_str_eq(cls, "SimpleRNN") || ks_str_eq(cls, "SimpleRNNCell"))
		return RNN_SIMPLE;
	if (ks_str_eq(cls, "LSTM") || ks_str_eq(cls, "LSTMCell") || ks_str_eq(cls, "CuDNNLSTM") ||
	    ks_str_eq(cls, "ConvLSTM1D") || ks_str_eq(cls, "ConvLSTM2D") || ks_str_eq(cls, "ConvLSTM3D"))
		return RNN_LSTM;
	if (ks_str_eq(cls, "GRU") || ks_str_eq(cls, "GRUCell") || ks_str_eq(cls, "CuDNNGRU"))
		return RNN_GRU;
	return -1;
}

static const json_t *inner_config(const json_t *wrapped)
{
	const json_t *cfg = json_object_get(wrapped, "config");
	return json_is_object(cfg) ? cfg : NULL;
}

static int conv_rank(const char *cls)
{
	if (ks_str_eq(cls, "ConvLSTM1D"))
		return 1;
	if (ks_str_eq(cls, "ConvLSTM2D"))
		return 2;
	if (ks_str_eq(cls, "ConvLSTM3D"))
		return 3;
	return 0;
}

/* ConvLSTM geometry: the input convolution uses the config's strides,
 * padding and dilation; the recurrent one is "same" with stride 1 (Keras
 * ConvLSTMCell.recurrent_conv). */
static int conv_setup(const ks_op_call *c, const json_t *cfg, const ks_shape *in, rnn_cell *rc, ks_err *err)
{
	static const int64_t one[3] = {1, 1, 1};
	ks_op_call tmp = *c;
	int n = rc->sn, first;
	int64_t ksz[3], st[3], dl[3];
	ks_pad pad;
	char buf[128];

	tmp.config = cfg;
	if (ks_sp_data_format(&tmp, &rc->cf, err) < 0 || ks_sp_padding(&tmp, false, &pad, err) < 0)
		return -1;
	if (ks_cfg_ints(cfg, "kernel_size", n, NULL, ksz, err) < 0 || ks_cfg_ints(cfg, "strides", n, one, st, err) < 0 ||
	    ks_cfg_ints(cfg, "dilation_rate", n, one, dl, err) < 0)
		return ks_err_prefix(err, "layer %s", c->layer->name);
	if (in->rank != n + 3)
		return ks_fail(err, "layer %s (%s): needs a (batch, steps, %d spatial axes, channels) input, got %s",
		               c->layer->name, c->layer->class_name, n, ks_shape_str(in->d, in->rank, buf, sizeof buf));
	first = rc->cf ? 3 : 2;
	rc->in_dim = rc->cf ? in->d[2] : in->d[n + 2];
	rc->Pin = rc->P = rc->kvol = 1;
	for (int i = 0; i < 3; i++) {
		ks_win w;
		rc->sin[i] = rc->sout[i] = rc->k[i] = rc->st[i] = rc->dl[i] = 1;
		rc->pb[i] = rc->rpb[i] = 0;
		if (i >= n)
			continue;
		if (ks_win_make(&w, in->d[first + i], ksz[i], st[i], dl[i], pad, err) < 0)
			return ks_err_prefix(err, "layer %s", c->layer->name);
		if (w.out == 0 || (in->d[first + i] >= 0 && w.out < 0))
			return ks_op_fail(c, err, "the input is smaller than the kernel");
		rc->sin[i] = in->d[first + i];
		rc->sout[i] = w.out;
		rc->pb[i] = w.pad;
		rc->k[i] = ksz[i];
		rc->st[i] = st[i];
		rc->dl[i] = dl[i];
		rc->rpb[i] = (ksz[i] - 1) / 2;
		rc->Pin = (rc->Pin < 0 || rc->sin[i] < 0) ? -1 : rc->Pin * rc->sin[i];
		rc->P = (rc->P < 0 || rc->sout[i] < 0) ? -1 : rc->P * rc->sout[i];
		rc->kvol *= ksz[i];
		if (rc->kvol > (1 << 20) || (rc->Pin > ((int64_t)1 << 40)) || (rc->P > ((int64_t)1 << 40)))
			return ks_op_fail(c, err, "the kernel or input is too large");
	}
	return 0;
}

/* Parses a recurrent layer's configuration. `cell_cfg` holds units and
 * activations, `seq_cfg` return_sequences & co (the same object except for
 * the generic RNN layer). `cls` selects the kind. Consumes weights from
 * c->layer->weights[w0 ..], at most `avail` of them, checking shapes
 * against the input shape `in` (whose feature size may be -1: taken from
 * the kernel). */
static int cell_parse(const ks_op_call *c, const char *cls, const json_t *cell_cfg, const json_t *seq_cfg,
                      const ks_shape *in, int w0, int avail, rnn_cell *rc, ks_err *err)
{
	static const char *const units_keys[] = {"units", "output_dim", "filters", NULL};
	char buf[128];
	int64_t in_dim;
	static const char *const ract_keys[] = {"recurrent_activation", "inner_activation", NULL};
	const json_t *v;
	bool time_major, has_reset_key;
	int64_t u, G;

	memset(rc, 0, sizeof *rc);
	rc->kind = cell_kind(cls);
	if (rc->kind < 0)
		return ks_fail(err, "layer %s: unsupported recurrent layer '%s'", c->layer->name, cls);
	rc->G = rc->kind == RNN_LSTM ? 4 : rc->kind == RNN_GRU ? 3 : 1;
	G = rc->G;
	rc->sn = conv_rank(cls);
	rc->Pin = rc->P = rc->kvol = 1;
	v = ks_cfg_get_any(cell_cfg, units_keys);
	if (!json_is_integer(v) || json_integer_value(v) <= 0 || json_integer_value(v) > (1 << 24))
		return ks_op_fail(c, err, "'units' is missing or not a positive integer");
	u = rc->units = json_integer_value(v);

	if (ks_str_startswith(cls, "CuDNN")) {
		ks_act_by_name("tanh", c->keras_major, &rc->act, NULL);
		ks_act_by_name("sigmoid", c->keras_major, &rc->rec_act, NULL);
		rc->use_bias = true;
		rc->reset_after = true;
		rc->layout = LAYOUT_CUDNN;
	} else {
		v = json_object_get(cell_cfg, "activation");
		if (!v || json_is_null(v)) {
			if (ks_act_by_name("tanh", c->keras_major, &rc->act, err) < 0)
				return -1;
		} else if (ks_act_parse(v, c->keras_major, &rc->act, err) < 0) {
			return ks_err_prefix(err, "layer %s", c->layer->name);
		}
		v = ks_cfg_get_any(cell_cfg, ract_keys);
		if (!v || json_is_null(v)) {
			if (ks_act_by_name(c->keras_major == 1 ? "hard_sigmoid" : "sigmoid", c->keras_major,
			                   &rc->rec_act, err) < 0)
				return -1;
		} else if (ks_act_parse(v, c->keras_major, &rc->rec_act, err) < 0) {
			return ks_err_prefix(err, "layer %s", c->layer->name);
		}
		if (!ks_act_is_elementwise(&rc->act) || !ks_act_is_elementwise(&rc->rec_act))
			return ks_op_fail(c, err, "softmax as a recurrent activation is not supported");
		if (ks_cfg_bool(cell_cfg, "use_bias", true, &rc->use_bias, err) < 0)
			return ks_err_prefix(err, "layer %s", c->layer->name);
		has_reset_key = json_object_get(cell_cfg, "reset_after") != NULL;
		if (ks_cfg_bool(cell_cfg, "reset_after", false, &rc->reset_after, err) < 0)
			return ks_err_prefix(err, "layer %s", c->layer->name);
		/* Keras 2.0/2.1 wrote no reset_after key and meant False; a file
		 * whose GRU bias is (2, 3u) can only be reset_after. */
		if (rc->kind == RNN_GRU && !has_reset_key && rc->use_bias && avail >= 3 &&
		    w0 + 2 < c->layer->n_weights && c->layer->weights[w0 + 2].rank == 2)
			rc->reset_after = true;
		if (rc->kind != RNN_GRU)
			rc->reset_after = false;
		rc->layout = LAYOUT_FUSED;
		/* Keras 1 per-gate arrays: three per gate (W, U, b). */
		if (rc->G > 1 && avail >= 3 * rc->G && w0 + 3 * rc->G <= c->layer->n_weights &&
		    c->layer->weights[w0].rank == 2 && c->layer->weights[w0].shape[1] == u &&
		    c->layer->weights[w0 + 2].rank == 1 && c->layer->weights[w0 + 2].shape[0] == u) {
			rc->layout = LAYOUT_GATES;
			rc->use_bias = true;
			rc->reset_after = false;
		}
	}
	if (ks_cfg_bool(seq_cfg, "return_sequences", false, &rc->return_sequences, err) < 0 ||
	    ks_cfg_bool(seq_cfg, "return_state", false, &rc->return_state, err) < 0 ||
	    ks_cfg_bool(seq_cfg, "go_backwards", false, &rc->go_backwards, err) < 0 ||
	    ks_cfg_bool(seq_cfg, "time_major", false, &time_major, err) < 0 ||
	    ks_cfg_bool(seq_cfg, "zero_output_for_mask", false, &rc->zero_masked_out, err) < 0)
		return ks_err_prefix(err, "layer %s", c->layer->name);
	if (time_major)
		return ks_op_fail(c, err, "time_major=True inputs are not supported");

	rc->w0 = w0;
	if (rc->sn) {
		int n = rc->sn;
		int64_t sw[5], su[5], sb[1] = {G * u};
		if (conv_setup(c, cell_cfg, in, rc, err) < 0)
			return -1;
		if (rc->in_dim < 0) {
			if (w0 >= c->layer->n_weights || c->layer->weights[w0].rank != n + 2)
				return ks_fail(err, "layer %s (%s): the kernel weight is missing", c->layer->name,
				               c->layer->class_name);
			rc->in_dim = c->layer->weights[w0].shape[n];
		}
		for (int i = 0; i < n; i++)
			sw[i] = su[i] = rc->k[i];
		sw[n] = rc->in_dim;
		su[n] = u;
		sw[n + 1] = su[n + 1] = G * u;
		rc->nw = rc->use_bias ? 3 : 2;
		if (rc->nw > avail)
			return ks_fail(err, "layer %s (%s): has %d weights but the config needs %d",
			               c->layer->name, c->layer->class_name, w0 + avail, w0 + rc->nw);
		if (check_w(c, w0, n + 2, sw, err) < 0 || check_w(c, w0 + 1, n + 2, su, err) < 0 ||
		    (rc->use_bias && check_w(c, w0 + 2, 1, sb, err) < 0))
			return -1;
		return 0;
	}
	if (in->rank != 3)
		return ks_fail(err, "layer %s (%s): needs a 3D input (batch, steps, features), got %s",
		               c->layer->name, c->layer->class_name, ks_shape_str(in->d, in->rank, buf, sizeof buf));
	in_dim = in->d[2];
	if (in_dim < 0) {
		if (w0 >= c->layer->n_weights || c->layer->weights[w0].rank != 2)
			return ks_fail(err, "layer %s (%s): the kernel weight is missing", c->layer->name,
			               c->layer->class_name);
		in_dim = c->layer->weights[w0].shape[0];
	}
	rc->in_dim = in_dim;
	if (rc->layout == LAYOUT_GATES) {
		int64_t sw[2] = {in_dim, u}, su[2] = {u, u}, sb[1] = {u};
		rc->nw = 3 * rc->G;
		for (int g = 0; g < rc->G; g++)
			if (check_w(c, w0 + 3 * g, 2, sw, err) < 0 || check_w(c, w0 + 3 * g + 1, 2, su, err) < 0 ||
			    check_w(c, w0 + 3 * g + 2, 1, sb, err) < 0)
				return -1;
	} else {
		int64_t sw[2] = {in_dim, G * u}, su[2] = {u, G * u};
		rc->nw = rc->use_bias ? 3 : 2;
		if (rc->nw > avail)
			return ks_fail(err, "layer %s (%s): has %d weights but the config needs %d",
			               c->layer->name, c->layer->class_name, w0 + avail, w0 + rc->nw);
		if (check_w(c, w0, 2, sw, err) < 0 || check_w(c, w0 + 1, 2, su, err) < 0)
			return -1;
		if (rc->use_bias) {
			int64_t sb[2];
			int rank = 1;
			if (rc->layout == LAYOUT_CUDNN) {
				sb[0] = 2 * G * u;
			} else if (rc->reset_after) {
				sb[0] = 2;
				sb[1] = G * u;
				rank = 2;
			} else {
				sb[0] = G * u;
			}
			if (check_w(c, w0 + 2, rank, sb, err) < 0)
				return -1;
		}
	}
	return 0;
}

static void cell_free(rnn_cell *rc)
{
	free(rc->W);
	free(rc->U);
	free(rc->b);
	free(rc->rb);
	free(rc->mask_row);
	rc->W = rc->U = rc->b = rc->rb = rc->mask_row = NULL;
}

static int cell_load(const ks_op_call *c, rnn_cell *rc, ks_err *err)
{
	int64_t u = rc->units, F = rc->in_dim, G = rc->G, Gu = G * u;
	int64_t kin = rc->kvol * F, krec = rc->kvol * u; /* kernel rows (im2col patch order) */
	size_t nW, nU;

	if (rc->mask == KS_MASK_EMB_ROW0 && ks_op_mask_row(c, rc->mask_emb, F, &rc->mask_row, err) < 0)
		return -1;

	if (!ks_size_mul((size_t)kin, (size_t)Gu, &nW) || !ks_size_mul((size_t)krec, (size_t)Gu, &nU) ||
	    !ks_size_mul(nW, sizeof(float), &nW) || !ks_size_mul(nU, sizeof(float), &nU))
		return ks_op_fail(c, err, "weights are too large");
	rc->W = ks_xmalloc(nW ? nW : 1);
	rc->U = ks_xmalloc(nU ? nU : 1);
	rc->b = ks_xcalloc((size_t)Gu, sizeof(float));
	if (rc->reset_after)
		rc->rb = ks_xcalloc((size_t)Gu, sizeof(float));

	if (rc->layout == LAYOUT_GATES) {
		/* Keras 1 file order of the gates, mapped to fused columns. */
		static const int lstm_dst[4] = {0, 2, 1, 3}; /* i, c, f, o -> i, f, c, o */
		static const int gru_dst[3] = {0, 1, 2};     /* z, r, h */
		float *tw = ks_xmalloc(sizeof(float) * (size_t)(F > u ? F : u) * (size_t)u + 1);
		for (int g = 0; g < rc->G; g++) {
			int64_t col = (rc->kind == RNN_LSTM ? lstm_dst[g] : gru_dst[g]) * u;
			if (read_w(c, rc->w0 + 3 * g, tw, err) < 0)
				goto gates_fail;
			for (int64_t r = 0; r < F; r++)
				memcpy(rc->W + r * Gu + col, tw + r * u, sizeof(float) * (size_t)u);
			if (read_w(c, rc->w0 + 3 * g + 1, tw, err) < 0)
				goto gates_fail;
			for (int64_t r = 0; r < u; r++)
				memcpy(rc->U + r * Gu + col, tw + r * u, sizeof(float) * (size_t)u);
			if (read_w(c, rc->w0 + 3 * g + 2, rc->b + col, err) < 0)
				goto gates_fail;
		}
		free(tw);
		return 0;
gates_fail:
		free(tw);
		cell_free(rc);
		return -1;
	}

	if (read_w(c, rc->w0, rc->W, err) < 0 || read_w(c, rc->w0 + 1, rc->U, err) < 0)
		goto fail;
	if (rc->use_bias) {
		if (rc->layout == LAYOUT_CUDNN || rc->reset_after) {
			float *two = ks_xmalloc(sizeof(float) * 2 * (size_t)Gu);
			if (read_w(c, rc->w0 + 2, two, err) < 0) {
				free(two);
				goto fail;
			}
			if (rc->kind == RNN_LSTM) {
				/* CuDNNLSTM: input and recurrent biases just add up. */
				for (int64_t j = 0; j < Gu; j++)
					rc->b[j] = two[j] + two[Gu + j];
			} else {
				memcpy(rc->b, two, sizeof(float) * (size_t)Gu);
				memcpy(rc->rb, two + Gu, sizeof(float) * (size_t)Gu);
			}
			free(two);
		} else if (read_w(c, rc->w0 + 2, rc->b, err) < 0) {
			goto fail;
		}
	}
	return 0;
fail:
	cell_free(rc);
	return -1;
}

/* Scratch floats cell_run needs for batch B and T steps (excluding the
 * sequence output, which goes to caller memory). */
static size_t col_floats(const rnn_cell *rc, int64_t B)
{
	size_t a, b;
	if (!rc->sn)
		return 0;
	a = (size_t)rc->P * (size_t)rc->kvol * (size_t)rc->in_dim;
	b = (size_t)B * (size_t)rc->P * (size_t)rc->kvol * (size_t)rc->units;
	return a > b ? a : b;
}

/* Scratch floats cell_run needs for batch B and T steps (excluding the
 * sequence output, which goes to caller memory). Sizes were bounded by
 * cell_parse; the products here are checked against overflow. */
static bool cell_scratch(const rnn_cell *rc, int64_t B, int64_t T, size_t *out)
{
	size_t Gu = (size_t)rc->G * (size_t)rc->units, R, xw, rest;
	double est;
	if (rc->P < 0 || rc->Pin < 0)
		return false;
	est = (double)B * (double)rc->P * ((double)T * (double)Gu + (double)Gu + 3.0 * (double)rc->units) +
	      (double)col_floats(rc, B) + (double)rc->Pin * (double)rc->in_dim;
	if (est > 9e15)
		return false;
	R = (size_t)B * (size_t)rc->P;
	if (!ks_size_mul(R * (size_t)T, Gu, &xw) || !ks_size_mul(R, Gu + 3 * (size_t)rc->units, &rest))
		return false;
	*out = xw + rest + col_floats(rc, B) + (rc->sn && rc->cf ? (size_t)rc->Pin * (size_t)rc->in_dim : 0);
	return true;
}

/* The gate activations run B*T*4u times per layer, so the common ones get
 * inline loops here (libm's tanhf is several times slower than expf);
 * everything else goes through ks_act. Both forms agree to ~1 ulp of the
 * result's magnitude, far inside the 1e-5 conformance tolerance. */
static inline float gate_sigmoid(float x)
{
	float e = expf(-fabsf(x));
	float r = 1.0f / (1.0f + e);
	return x >= 0.0f ? r : e * r;
}

static inline float gate_tanh(float x)
{
	float ax = fabsf(x), r;
	if (ax < 0.0625f) {
		float x2 = x * x;
		return x * (1.0f + x2 * (-1.0f / 3.0f + x2 * (2.0f / 15.0f)));
	}
	if (ax > 9.0f)
		return x > 0.0f ? 1.0f : -1.0f;
	r = expf(-2.0f * ax);
	r = (1.0f - r) / (1.0f + r);
	return x > 0.0f ? r : -r;
}

static void act_row(const ks_act *a, float *x, int64_t n)
{
	switch (a->kind) {
	case KS_ACT_SIGMOID:
		for (int64_t i = 0; i < n; i++)
			x[i] = gate_sigmoid(x[i]);
		break;
	case KS_ACT_TANH:
		for (int64_t i = 0; i < n; i++)
			x[i] = gate_tanh(x[i]);
		break;
	case KS_ACT_HARD_SIGMOID:
		for (int64_t i = 0; i < n; i++) {
			float v = a->hs_slope * x[i] + a->hs_offset;
			x[i] = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
		}
		break;
	case KS_ACT_LINEAR:
		break;
	default:
		ks_act_apply(a, x, 1, (size_t)n, 1);
	}
}

/* H (B, u) . U[:, off .. off+n) -> Y (B, ldy) columns off .. off+n. */
static void mat_h_u(const float *H, int64_t B, int64_t u, const float *U, int64_t ldu, int64_t off,
                    int64_t n, float *Y, int64_t ldy)
{
	if (B == 1)
		cblas_sgemv(CblasRowMajor, CblasTrans, (blasint)u, (blasint)n, 1.0f, U + off, (blasint)ldu, H, 1,
		            0.0f, Y + off, 1);
	else
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)B, (blasint)n, (blasint)u, 1.0f, H,
		            (blasint)u, U + off, (blasint)ldu, 0.0f, Y + off, (blasint)ldy);
}

/* Copies one image (in[0] x in[1] x in[2] x C, channels last) into rows of
 * patches: row (o0, o1, o2), columns (k0, k1, k2, c) - the order of a Keras
 * kernel (k..., C, out) read as a (kvol*C, out) matrix. Outside: zeros. */
static void im2col(const float *img, const int64_t *in, int64_t C, const int64_t *out, const int64_t *k,
                   const int64_t *st, const int64_t *dl, const int64_t *pb, float *col)
{
	float *row = col;
	for (int64_t o0 = 0; o0 < out[0]; o0++)
		for (int64_t o1 = 0; o1 < out[1]; o1++)
			for (int64_t o2 = 0; o2 < out[2]; o2++)
				for (int64_t k0 = 0; k0 < k[0]; k0++)
					for (int64_t k1 = 0; k1 < k[1]; k1++)
						for (int64_t k2 = 0; k2 < k[2]; k2++, row += C) {
							int64_t i0 = o0 * st[0] - pb[0] + k0 * dl[0];
							int64_t i1 = o1 * st[1] - pb[1] + k1 * dl[1];
							int64_t i2 = o2 * st[2] - pb[2] + k2 * dl[2];
							if (i0 < 0 || i0 >= in[0] || i1 < 0 || i1 >= in[1] || i2 < 0 || i2 >= in[2])
								memset(row, 0, sizeof(float) * (size_t)C);
							else
								memcpy(row, img + ((i0 * in[1] + i1) * in[2] + i2) * C,
								       sizeof(float) * (size_t)C);
						}
}

/* One sample's state (P, u) to the output layout. */
static void put_state(const rnn_cell *rc, float *dst, const float *src)
{
	if (rc->sn && rc->cf)
		ks_sp_to_first(src, dst, rc->units, rc->P);
	else
		memcpy(dst, src, sizeof(float) * (size_t)(rc->P * rc->units));
}

/* Runs one recurrent layer over x (B, T, in_dim) (ConvLSTM: (B, T, image)).
 *   h0, c0:  initial states (B, u) or NULL for zeros (not for ConvLSTM)
 *   seq:     (B, T, E) per-step outputs or NULL, E = P*u; step s (in
 *            processing order) goes to position s, or T-1-s when reverse_out
 *   h_out, c_out: final states (B, E) (c_out only for LSTM; may be NULL)
 *
 * Math (x.W precomputed for every step with one sgemm; b added there):
 *   SimpleRNN: h = act(xW + b + hU)
 *   LSTM:      i,f,o = ract(.), g = act(.) over xW + b + hU;
 *              c = f*c + i*g; h = o*act(c)
 *   GRU:       z,r = ract(xW_zr + b_zr + hU_zr)
 *              reset_after:  hh = act(xW_h + b_h + r*(hU_h + rb_h))
 *              otherwise:    hh = act(xW_h + b_h + (r*h)U_h)
 *              h = z*h + (1-z)*hh
 * ConvLSTM is the LSTM with both products replaced by convolutions
 * (im2col + sgemm), the state being one row per output pixel.
 */
static void cell_run(const rnn_cell *rc, const float *x, int64_t B, int64_t T, const float *h0,
                     const float *c0, float *seq, bool reverse_out, float *h_out, float *c_out,
                     float *scratch)
{
	static const int64_t ones[3] = {1, 1, 1};
	int64_t u = rc->units, Gu = rc->G * u, F = rc->in_dim;
	int64_t P = rc->P, R = B * P, E = P * u, Fx = rc->Pin * F;
	int64_t kin = rc->kvol * F, krec = rc->kvol * u;
	float *xw = scratch;
	float *hu = xw + R * T * Gu;
	float *h = hu + R * Gu;
	float *cs = h + R * u;
	float *tmp = cs + R * u;
	float *col = tmp + R * u;
	float *img = col + col_floats(rc, B);

	if (B * T > 0) {
		for (int64_t r = 0; r < R * T; r++)
			memcpy(xw + r * Gu, rc->b, sizeof(float) * (size_t)Gu);
		if (!rc->sn && F > 0) {
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)(B * T), (blasint)Gu,
			            (blasint)F, 1.0f, x, (blasint)F, rc->W, (blasint)Gu, 1.0f, xw, (blasint)Gu);
		} else if (rc->sn && kin > 0 && P > 0) {
			for (int64_t i = 0; i < B * T; i++) {
				const float *src = x + i * Fx;
				if (rc->cf) {
					ks_sp_to_last(src, img, F, rc->Pin);
					src = img;
				}
				im2col(src, rc->sin, F, rc->sout, rc->k, rc->st, rc->dl, rc->pb, col);
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)P, (blasint)Gu, (blasint)kin,
				            1.0f, col, (blasint)kin, rc->W, (blasint)Gu, 1.0f, xw + i * P * Gu, (blasint)Gu);
			}
		}
	}
	if (h0)
		memcpy(h, h0, sizeof(float) * (size_t)(R * u));
	else
		memset(h, 0, sizeof(float) * (size_t)(R * u));
	if (c0)
		memcpy(cs, c0, sizeof(float) * (size_t)(R * u));
	else
		memset(cs, 0, sizeof(float) * (size_t)(R * u));

	for (int64_t s = 0; s < T; s++) {
		int64_t tt = rc->go_backwards ? T - 1 - s : s;
		int64_t pos = reverse_out ? T - 1 - s : s;

		if (rc->sn) {
			if (R > 0 && krec > 0) {
				for (int64_t b = 0; b < B; b++)
					im2col(h + b * E, rc->sout, u, rc->sout, rc->k, ones, ones, rc->rpb, col + b * P * krec);
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)R, (blasint)Gu, (blasint)krec,
				            1.0f, col, (blasint)krec, rc->U, (blasint)Gu, 0.0f, hu, (blasint)Gu);
			}
		} else if (rc->kind == RNN_GRU && !rc->reset_after) {
			mat_h_u(h, B, u, rc->U, Gu, 0, 2 * u, hu, Gu);
		} else {
			mat_h_u(h, B, u, rc->U, Gu, 0, Gu, hu, Gu);
		}

		for (int64_t r = 0; r < R; r++) {
			int64_t b = r / P, p = r % P;
			const float *xr = xw + ((b * T + tt) * P + p) * Gu;
			float *g = hu + r * Gu, *hb = h + r * u, *cb = cs + r * u;

			if (rc->mask && ks_op_step_masked(x + (b * T + tt) * F, F, rc->mask_row))
				continue; /* the state is carried over */
			switch (rc->kind) {
			case RNN_SIMPLE:
				for (int64_t j = 0; j < u; j++)
					hb[j] = g[j] + xr[j];
				act_row(&rc->act, hb, u);
				break;
			case RNN_LSTM:
				for (int64_t j = 0; j < Gu; j++)
					g[j] += xr[j];
				act_row(&rc->rec_act, g, 2 * u);
				act_row(&rc->act, g + 2 * u, u);
				act_row(&rc->rec_act, g + 3 * u, u);
				for (int64_t j = 0; j < u; j++) {
					cb[j] = g[u + j] * cb[j] + g[j] * g[2 * u + j];
					g[2 * u + j] = cb[j];
				}
				act_row(&rc->act, g + 2 * u, u);
				for (int64_t j = 0; j < u; j++)
					hb[j] = g[3 * u + j] * g[2 * u + j];
				break;
			case RNN_GRU:
				if (rc->reset_after) {
					for (int64_t j = 0; j < 2 * u; j++)
						g[j] += rc->rb[j] + xr[j];
					act_row(&rc->rec_act, g, 2 * u);
					for (int64_t j = 0; j < u; j++)
						g[2 * u + j] = xr[2 * u + j] + g[u + j] * (g[2 * u + j] + rc->rb[2 * u + j]);
					act_row(&rc->act, g + 2 * u, u);
					for (int64_t j = 0; j < u; j++)
						hb[j] = g[j] * hb[j] + (1.0f - g[j]) * g[2 * u + j];
				} else {
					for (int64_t j = 0; j < 2 * u; j++)
						g[j] += xr[j];
					act_row(&rc->rec_act, g, 2 * u);
					for (int64_t j = 0; j < u; j++)
						tmp[r * u + j] = g[u + j] * hb[j];
				}
				break;
			}
		}
		if (rc->kind == RNN_GRU && !rc->reset_after) { /* never a ConvLSTM: P == 1 */
			mat_h_u(tmp, B, u, rc->U, Gu, 2 * u, u, hu, Gu);
			for (int64_t b = 0; b < B; b++) {
				const float *xr = xw + (b * T + tt) * Gu;
				float *g = hu + b * Gu, *hb = h + b * u;
				if (rc->mask && ks_op_step_masked(x + (b * T + tt) * F, F, rc->mask_row))
					continue;
				for (int64_t j = 0; j < u; j++)
					g[2 * u + j] += xr[2 * u + j];
				act_row(&rc->act, g + 2 * u, u);
				for (int64_t j = 0; j < u; j++)
					hb[j] = g[j] * hb[j] + (1.0f - g[j]) * g[2 * u + j];
			}
		}
		if (seq)
			for (int64_t b = 0; b < B; b++) {
				if (rc->mask && rc->zero_masked_out &&
				    ks_op_step_masked(x + (b * T + tt) * F, F, rc->mask_row))
					memset(seq + (b * T + pos) * E, 0, sizeof(float) * (size_t)E);
				else
					put_state(rc, seq + (b * T + pos) * E, h + b * E);
			}
	}
	for (int64_t b = 0; b < B; b++) {
		if (h_out)
			put_state(rc, h_out + b * E, h + b * E);
		if (c_out)
			put_state(rc, c_out + b * E, cs + b * E);
	}
}

static int n_states(const rnn_cell *rc)
{
	return rc->kind == RNN_LSTM ? 2 : 1;
}

/* Output shape of a sequence (seq) or of the last step / a state. */
static void out_shape(const rnn_cell *rc, ks_shape *s, int64_t B, int64_t T, bool seq)
{
	int k = 0;
	s->d[k++] = B;
	if (seq)
		s->d[k++] = T;
	if (rc->sn && rc->cf)
		s->d[k++] = rc->units;
	for (int i = 0; i < rc->sn; i++)
		s->d[k++] = rc->sout[i];
	if (!(rc->sn && rc->cf))
		s->d[k++] = rc->units;
	s->rank = k;
}

/* Values per sample and step of the cell's output. */
static int64_t step_elems(const rnn_cell *rc)
{
	return rc->P * rc->units;
}

/* Size of the output's last axis (where Bidirectional concatenates). */
static int64_t last_dim(const rnn_cell *rc)
{
	return rc->sn && rc->cf ? rc->sout[rc->sn - 1] : rc->units;
}

/* ------------------------------------------------------------------ */
/* SimpleRNN, LSTM, GRU, RNN(cell), CuDNNLSTM, CuDNNGRU                */

/* The generic RNN layer keeps units and activations in its `cell`: replaces
 * *cls / *cfg (the layer's class and config) by the cell's. */
static int rnn_cell_of(const ks_op_call *c, const char **cls, const json_t **cfg, ks_err *err)
{
	const json_t *cell, *cname;
	if (!ks_str_eq(*cls, "RNN"))
		return 0;
	cell = json_object_get(*cfg, "cell");
	cname = json_object_get(cell, "class_name");
	if (!json_is_string(cname) || !inner_config(cell))
		return ks_op_fail(c, err, "the 'cell' config is missing or is a list of cells (not supported)");
	*cls = json_string_value(cname);
	*cfg = inner_config(cell);
	return 0;
}

static int rnn_infer(ks_op_call *c, ks_err *err)
{
	rnn_cell *rc;
	const json_t *cell_cfg = c->config;
	const char *cls = c->layer->class_name;
	int64_t B, T, u;
	size_t scratch;

	if (c->n_in < 1)
		return ks_op_fail(c, err, "has no input");
	if (rnn_cell_of(c, &cls, &cell_cfg, err) < 0)
		return -1;
	B = c->in[0].d[0];
	T = c->in[0].d[1];
	rc = ks_xcalloc(1, sizeof *rc);
	if (cell_parse(c, cls, cell_cfg, c->config, &c->in[0], 0, c->layer->n_weights, rc, err) < 0)
		goto fail;
	if (rc->nw != c->layer->n_weights) {
		ks_fail(err, "layer %s (%s): has %d weights but the config needs %d", c->layer->name,
		        c->layer->class_name, c->layer->n_weights, rc->nw);
		goto fail;
	}
	rc->mask = rc->sn ? KS_MASK_NONE : ks_op_mask_source(c, &rc->mask_emb);
	u = rc->units;
	if (rc->sn && c->n_in != 1) {
		ks_op_fail(c, err, "initial states for ConvLSTM are not supported");
		goto fail;
	}
	if (c->n_in != 1 && c->n_in != 1 + n_states(rc)) {
		ks_fail(err, "layer %s (%s): called with %d inputs; expected 1 or %d (with initial states)",
		        c->layer->name, c->layer->class_name, c->n_in, 1 + n_states(rc));
		goto fail;
	}
	for (int i = 1; i < c->n_in; i++) {
		if (c->in[i].rank != 2 || (c->in[i].d[1] != u && c->in[i].d[1] >= 0) ||
		    (c->in[i].d[0] != B && c->in[i].d[0] >= 0 && B >= 0)) {
			ks_fail(err, "layer %s (%s): initial state %d must have shape (batch, %lld)",
			        c->layer->name, c->layer->class_name, i, (long long)u);
			goto fail;
		}
	}
	c->n_out = 1;
	out_shape(rc, &c->out[0], B, T, rc->return_sequences);
	if (rc->return_state)
		for (int i = 0; i < n_states(rc); i++)
			out_shape(rc, &c->out[c->n_out++], B, T, false);
	c->scratch_floats = 0;
	if (B >= 0 && T >= 0 && rc->P >= 0 && rc->Pin >= 0) {
		if (!cell_scratch(rc, B, T, &scratch)) {
			ks_op_fail(c, err, "the input is too large");
			goto fail;
		}
		c->scratch_floats = scratch;
	}
	c->priv = rc;
	return 0;
fail:
	free(rc);
	return -1;
}

static int rnn_load(ks_op_call *c, ks_err *err)
{
	return cell_load(c, c->priv, err);
}

static void rnn_run(const ks_op_call *c, const float *const *in, float *const *out, float *scratch)
{
	const rnn_cell *rc = c->priv;
	int64_t B = c->in[0].d[0], T = c->in[0].d[1], E = step_elems(rc);
	float *h_out = NULL, *c_out = NULL;

	if (rc->return_state) {
		h_out = out[1];
		c_out = rc->kind == RNN_LSTM ? out[2] : NULL;
	} else if (!rc->return_sequences) {
		h_out = out[0];
	}
	cell_run(rc, in[0], B, T, c->n_in > 1 ? in[1] : NULL, c->n_in > 2 ? in[2] : NULL,
	         rc->return_sequences ? out[0] : NULL, false, h_out, c_out, scratch);
	if (!rc->return_sequences && rc->return_state)
		memcpy(out[0], out[1], sizeof(float) * (size_t)(B * E));
}

static void rnn_free(ks_op_call *c)
{
	if (c->priv)
		cell_free(c->priv);
	free(c->priv);
	c->priv = NULL;
}

/* ------------------------------------------------------------------ */
/* Bidirectional                                                       */

enum { MERGE_CONCAT, MERGE_SUM, MERGE_AVE, MERGE_MUL, MERGE_NONE };

typedef struct bidi {
	rnn_cell fw, bw;
	int merge;
} bidi;

/* The configuration of a wrapped recurrent layer: class name and config. */
static int wrapped_layer(const ks_op_call *c, const char *key, const char **cls, const json_t **cfg, ks_err *err)
{
	const json_t *w = json_object_get(c->config, key);
	const json_t *cn = json_object_get(w, "class_name");
	*cls = NULL;
	*cfg = NULL;
	if (!w || json_is_null(w))
		return 0;
	if (!json_is_string(cn) || !inner_config(w))
		return ks_fail(err, "layer %s (%s): config '%s' has no class_name/config", c->layer->name,
		               c->layer->class_name, key);
	*cls = json_string_value(cn);
	*cfg = inner_config(w);
	return 0;
}

static int bidi_infer(ks_op_call *c, ks_err *err)
{
	bidi *bd;
	const char *fcls, *bcls, *mode;
	const json_t *fcfg, *bcfg, *mv;
	int64_t B, T, Ef, Eb;
	size_t scratch, extra, outs;
	int nst;

	if (c->n_in != 1)
		return ks_op_fail(c, err, "initial states for Bidirectional are not supported");
	if (wrapped_layer(c, "layer", &fcls, &fcfg, err) < 0 || wrapped_layer(c, "backward_layer", &bcls, &bcfg, err) < 0)
		return -1;
	if (!fcls)
		return ks_op_fail(c, err, "the wrapped 'layer' config is missing");
	mv = json_object_get(c->config, "merge_mode");
	if (json_is_null(mv)) {
		mode = NULL;
	} else if (ks_cfg_str(c->config, "merge_mode", "concat", &mode, err) < 0) {
		return ks_err_prefix(err, "layer %s", c->layer->name);
	}
	bd = ks_xcalloc(1, sizeof *bd);
	if (mv && json_is_null(mv))
		bd->merge = MERGE_NONE;
	else if (ks_str_eq(mode, "concat"))
		bd->merge = MERGE_CONCAT;
	else if (ks_str_eq(mode, "sum"))
		bd->merge = MERGE_SUM;
	else if (ks_str_eq(mode, "ave"))
		bd->merge = MERGE_AVE;
	else if (ks_str_eq(mode, "mul"))
		bd->merge = MERGE_MUL;
	else {
		ks_fail(err, "layer %s (Bidirectional): unknown merge_mode '%s'", c->layer->name, mode);
		goto fail;
	}
	B = c->in[0].d[0];
	T = c->in[0].d[1];
	{
		/* RNN(cell) keeps return_sequences & co in the layer, the rest in the cell */
		const char *fcell = fcls, *bcell = bcls ? bcls : fcls;
		const json_t *fccfg = fcfg, *bccfg = bcfg ? bcfg : fcfg;
		if (rnn_cell_of(c, &fcell, &fccfg, err) < 0 || rnn_cell_of(c, &bcell, &bccfg, err) < 0)
			goto fail;
		if (cell_parse(c, fcell, fccfg, fcfg, &c->in[0], 0, c->layer->n_weights, &bd->fw, err) < 0)
			goto fail;
		if (cell_parse(c, bcell, bccfg, bcfg ? bcfg : fcfg, &c->in[0], bd->fw.nw,
		               c->layer->n_weights - bd->fw.nw, &bd->bw, err) < 0)
			goto fail;
	}
	/* Keras builds the backward copy with go_backwards flipped; an explicit
	 * backward_layer config already says go_backwards=True. */
	if (!bcfg)
		bd->bw.go_backwards = !bd->fw.go_backwards;
	/* Bidirectional zeroes the masked steps of returned sequences. */
	bd->fw.mask = bd->bw.mask = bd->fw.sn ? KS_MASK_NONE : ks_op_mask_source(c, &bd->fw.mask_emb);
	bd->bw.mask_emb = bd->fw.mask_emb;
	bd->fw.zero_masked_out = bd->bw.zero_masked_out = bd->fw.return_sequences;
	if (bd->fw.nw + bd->bw.nw != c->layer->n_weights) {
		ks_fail(err, "layer %s (Bidirectional): has %d weights but the config needs %d", c->layer->name,
		        c->layer->n_weights, bd->fw.nw + bd->bw.nw);
		goto fail;
	}
	if (bd->fw.sn != bd->bw.sn || bd->fw.cf != bd->bw.cf || bd->fw.P != bd->bw.P ||
	    memcmp(bd->fw.sout, bd->bw.sout, sizeof bd->fw.sout) != 0) {
		ks_op_fail(c, err, "forward and backward layers differ in their output geometry");
		goto fail;
	}
	if (bd->fw.units != bd->bw.units && bd->merge != MERGE_CONCAT && bd->merge != MERGE_NONE) {
		ks_op_fail(c, err, "forward and backward layers differ in units");
		goto fail;
	}
	if (bd->fw.units != bd->bw.units && bd->merge == MERGE_CONCAT && bd->fw.sn && bd->fw.cf) {
		ks_op_fail(c, err, "channels_first ConvLSTM with different filters cannot be concatenated");
		goto fail;
	}
	if (bd->fw.return_sequences != bd->bw.return_sequences || bd->fw.return_state != bd->bw.return_state) {
		ks_op_fail(c, err, "forward and backward layers differ in return_sequences/return_state");
		goto fail;
	}
	c->n_out = 0;
	if (bd->merge == MERGE_NONE) {
		out_shape(&bd->fw, &c->out[c->n_out++], B, T, bd->fw.return_sequences);
		out_shape(&bd->bw, &c->out[c->n_out++], B, T, bd->fw.return_sequences);
	} else {
		ks_shape *o = &c->out[c->n_out++];
		out_shape(&bd->fw, o, B, T, bd->fw.return_sequences);
		if (bd->merge == MERGE_CONCAT) /* Keras concatenates on the last axis */
			o->d[o->rank - 1] = last_dim(&bd->fw) + last_dim(&bd->bw);
	}
	nst = n_states(&bd->fw);
	if (bd->fw.return_state) {
		for (int i = 0; i < nst; i++)
			out_shape(&bd->fw, &c->out[c->n_out++], B, T, false);
		for (int i = 0; i < nst; i++)
			out_shape(&bd->bw, &c->out[c->n_out++], B, T, false);
	}
	c->scratch_floats = 0;
	Ef = step_elems(&bd->fw);
	Eb = step_elems(&bd->bw);
	if (B >= 0 && T >= 0 && Ef >= 0 && Eb >= 0) {
		size_t s2;
		if (!cell_scratch(&bd->fw, B, T, &scratch) || !cell_scratch(&bd->bw, B, T, &s2) ||
		    !ks_size_mul((size_t)B, (size_t)((bd->fw.return_sequences ? T : 1) + 2) * (size_t)(Ef + Eb),
		                 &outs)) {
			ks_op_fail(c, err, "the input is too large");
			goto fail;
		}
		extra = scratch > s2 ? scratch : s2;
		c->scratch_floats = extra + outs;
		if (c->scratch_floats < extra) {
			ks_op_fail(c, err, "the input is too large");
			goto fail;
		}
	}
	c->priv = bd;
	return 0;
fail:
	free(bd);
	return -1;
}

static int bidi_load(ks_op_call *c, ks_err *err)
{
	bidi *bd = c->priv;
	if (cell_load(c, &bd->fw, err) < 0)
		return -1;
	if (cell_load(c, &bd->bw, err) < 0) {
		cell_free(&bd->fw);
		return -1;
	}
	return 0;
}

static void bidi_run(const ks_op_call *c, const float *const *in, float *const *out, float *scratch)
{
	const bidi *bd = c->priv;
	int64_t B = c->in[0].d[0], T = c->in[0].d[1];
	int64_t Ef = step_elems(&bd->fw), Eb = step_elems(&bd->bw);
	bool seq = bd->fw.return_sequences;
	int64_t steps = seq ? T : 1, nf = B * steps * Ef, nb = B * steps * Eb;
	size_t s1, s2;
	float *fy, *by, *fh, *fc, *bh, *bc, *cell_scratch_p;
	int k;

	cell_scratch(&bd->fw, B, T, &s1);
	cell_scratch(&bd->bw, B, T, &s2);
	cell_scratch_p = scratch;
	fy = scratch + (s1 > s2 ? s1 : s2);
	by = fy + nf;
	fh = by + nb;
	fc = fh + B * Ef;
	bh = fc + B * Ef;
	bc = bh + B * Eb;

	cell_run(&bd->fw, in[0], B, T, NULL, NULL, seq ? fy : NULL, false, fh, fc, cell_scratch_p);
	cell_run(&bd->bw, in[0], B, T, NULL, NULL, seq ? by : NULL, true, bh, bc, cell_scratch_p);
	if (!seq) {
		memcpy(fy, fh, sizeof(float) * (size_t)(B * Ef));
		memcpy(by, bh, sizeof(float) * (size_t)(B * Eb));
	}
	k = 0;
	if (bd->merge == MERGE_NONE) {
		memcpy(out[k++], fy, sizeof(float) * (size_t)nf);
		memcpy(out[k++], by, sizeof(float) * (size_t)nb);
	} else if (bd->merge == MERGE_CONCAT) {
		float *y = out[k++];
		int64_t wf = last_dim(&bd->fw), wb = last_dim(&bd->bw), rows = wf > 0 ? nf / wf : 0;
		for (int64_t r = 0; r < rows; r++) {
			memcpy(y + r * (wf + wb), fy + r * wf, sizeof(float) * (size_t)wf);
			memcpy(y + r * (wf + wb) + wf, by + r * wb, sizeof(float) * (size_t)wb);
		}
	} else {
		float *y = out[k++];
		for (int64_t j = 0; j < nf; j++)
			y[j] = bd->merge == MERGE_SUM ? fy[j] + by[j]
			     : bd->merge == MERGE_AVE ? (fy[j] + by[j]) * 0.5f
			                              : fy[j] * by[j];
	}
	if (bd->fw.return_state) {
		memcpy(out[k++], fh, sizeof(float) * (size_t)(B * Ef));
		if (bd->fw.kind == RNN_LSTM)
			memcpy(out[k++], fc, sizeof(float) * (size_t)(B * Ef));
		memcpy(out[k++], bh, sizeof(float) * (size_t)(B * Eb));
		if (bd->bw.kind == RNN_LSTM)
			memcpy(out[k++], bc, sizeof(float) * (size_t)(B * Eb));
	}
}

static void bidi_free(ks_op_call *c)
{
	bidi *bd = c->priv;
	if (bd) {
		cell_free(&bd->fw);
		cell_free(&bd->bw);
	}
	free(bd);
	c->priv = NULL;
}

/* ------------------------------------------------------------------ */
/* TimeDistributed: the wrapped op runs once on (batch*steps, ...).    */

typedef struct tdist {
	ks_layer layer;          /* shallow view: the wrapper's weights, the inner class/config */
	ks_op_call call;
	const ks_op *op;
	ks_act act;              /* the inner layer's activation when its op defers it */
	bool apply_act;
} tdist;

/* Sets up the wrapped op `cls` with config `cfg` on (batch*steps, ...). */
static int td_setup(ks_op_call *c, const char *cls, const json_t *cfg, ks_err *err)
{
	tdist *td;
	const ks_shape *s = &c->in[0];
	int64_t BT;
	char buf[128];

	if (c->n_in != 1 || s->rank < 3)
		return ks_fail(err, "layer %s (%s): needs one input of rank >= 3, got %s", c->layer->name,
		               c->layer->class_name,
		               c->n_in != 1 ? "several" : ks_shape_str(s->d, s->rank, buf, sizeof buf));
	td = ks_xcalloc(1, sizeof *td);
	td->op = ks_op_find(cls);
	if (!td->op) {
		ks_fail(err, "layer %s (%s): unsupported wrapped layer '%s'", c->layer->name, c->layer->class_name, cls);
		goto fail;
	}
	td->layer = *c->layer;
	td->layer.class_name = (char *)cls;
	td->layer.config = (json_t *)cfg;
	td->layer.nodes = NULL;
	td->layer.n_nodes = 0;
	td->call.model = c->model;
	td->call.layer = &td->layer;
	td->call.config = cfg;
	td->call.keras_major = c->keras_major;
	td->call.theano = c->theano;
	td->call.n_in = 1;
	BT = (s->d[0] < 0 || s->d[1] < 0) ? -1 : s->d[0] * s->d[1];
	if (s->d[0] > 0 && s->d[1] > 0 && BT / s->d[1] != s->d[0]) {
		ks_op_fail(c, err, "the input is too large");
		goto fail;
	}
	td->call.in[0].rank = s->rank - 1;
	td->call.in[0].d[0] = BT;
	for (int i = 2; i < s->rank; i++)
		td->call.in[0].d[i - 1] = s->d[i];
	if (td->op->infer(&td->call, err) < 0)
		goto fail;
	if (td->call.n_out != 1) {
		ks_op_fail(c, err, "the wrapped layer has several outputs");
		goto fail_inner;
	}
	if (td->call.out[0].rank + 1 > KS_MAX_RANK) {
		ks_op_fail(c, err, "output rank is too large");
		goto fail_inner;
	}
	if (td->op->flags & KS_OP_POST_ACTIVATION) {
		if (ks_act_parse(json_object_get(cfg, "activation"), c->keras_major, &td->act, err) < 0 ||
		    ks_act_check_rank(&td->act, td->call.out[0].rank, err) < 0) {
			ks_err_prefix(err, "layer %s", c->layer->name);
			goto fail_inner;
		}
		td->apply_act = !ks_act_is_linear(&td->act);
	}
	c->n_out = 1;
	c->out[0].rank = td->call.out[0].rank + 1;
	c->out[0].d[0] = s->d[0];
	c->out[0].d[1] = s->d[1];
	for (int i = 1; i < td->call.out[0].rank; i++)
		c->out[0].d[i + 1] = td->call.out[0].d[i];
	c->scratch_floats = td->call.scratch_floats;
	c->priv = td;
	return 0;
fail_inner:
	if (td->op->free)
		td->op->free(&td->call);
fail:
	free(td);
	return -1;
}

static int td_infer(ks_op_call *c, ks_err *err)
{
	const char *cls;
	const json_t *cfg;

	if (wrapped_layer(c, "layer", &cls, &cfg, err) < 0)
		return -1;
	if (!cls)
		return ks_op_fail(c, err, "the wrapped 'layer' config is missing");
	return td_setup(c, cls, cfg, err);
}

/* Keras 1's TimeDistributedDense: a Dense (output_dim, W, b) per time step. */
static int tdd_infer(ks_op_call *c, ks_err *err)
{
	return td_setup(c, "Dense", c->config, err);
}

static int td_load(ks_op_call *c, ks_err *err)
{
	tdist *td = c->priv;
	return td->op->load ? td->op->load(&td->call, err) : 0;
}

static void td_run(const ks_op_call *c, const float *const *in, float *const *out, float *scratch)
{
	const tdist *td = c->priv;
	if ((td->op->flags & KS_OP_IDENTITY) || !td->op->run) {
		int64_t n = ks_shape_numel(&c->in[0]);
		if (out[0] != in[0] && n > 0)
			memcpy(out[0], in[0], sizeof(float) * (size_t)n);
	} else {
		td->op->run(&td->call, in, out, scratch);
	}
	if (td->apply_act)
		ks_act_apply_nd(&td->act, out[0], td->call.out[0].d, td->call.out[0].rank);
}

static void td_free(ks_op_call *c)
{
	tdist *td = c->priv;
	if (td && td->op->free)
		td->op->free(&td->call);
	free(td);
	c->priv = NULL;
}

#define RNN_OP(NAME) \
	static const ks_op op_##NAME = {#NAME, 0, rnn_infer, rnn_load, rnn_run, rnn_free}

RNN_OP(SimpleRNN);
RNN_OP(LSTM);
RNN_OP(GRU);
RNN_OP(RNN);
RNN_OP(CuDNNLSTM);
RNN_OP(CuDNNGRU);
RNN_OP(ConvLSTM1D);
RNN_OP(ConvLSTM2D);
RNN_OP(ConvLSTM3D);
static const ks_op op_Bidirectional = {"Bidirectional", 0, bidi_infer, bidi_load, bidi_run, bidi_free};
static const ks_op op_TimeDistributed = {"TimeDistributed", 0, td_infer, td_load, td_run, td_free};
static const ks_op op_TimeDistributedDense = {"TimeDistributedDense", 0, tdd_infer, td_load, td_run, td_free};

const ks_op *const ks_ops_rnn[] = {
	&op_SimpleRNN, &op_LSTM, &op_GRU, &op_RNN, &op_CuDNNLSTM, &op_CuDNNGRU,
	&op_ConvLSTM1D, &op_ConvLSTM2D, &op_ConvLSTM3D,
	&op_Bidirectional, &op_TimeDistributed, &op_TimeDistributedDense,
	NULL,
};
