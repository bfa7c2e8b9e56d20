/* ks_layers_attn: attention layers at inference.
 *
 *   Attention           scores = q . k^T (score_mode "dot"; times the scalar
 *                       weight `scale` when use_scale), or for "concat"
 *                       concat_score_weight * sum(tanh(scale * (q + k)));
 *                       softmax over keys; output = weights . v.
 *   AdditiveAttention   scores = sum(scale * tanh(q + k)) (scale: (dim,) when
 *                       use_scale, the default).
 *   MultiHeadAttention  EinsumDense projections of query/key/value (kernels
 *                       (dim, heads, key_dim|value_dim), biases (heads, dim)),
 *                       per-head softmax(q . k^T / sqrt(key_dim)) . v, then the
 *                       attention_output projection (heads, value_dim, out).
 *
 * Inputs: [query, value] or [query, value, key] (key defaults to value), all
 * (batch, steps, features). tf.keras' Attention also accepts (batch, features)
 * inputs; its matmul then attends across the batch rows, which is reproduced
 * (the result then depends on which rows are predicted together). A causal mask comes from the call kwarg
 * use_causal_mask (Keras >= 2.10, 3) or the Keras 2.x config key `causal`.
 * return_attention_scores (kwarg) adds the score tensor as a second output.
 * Not modelled: padding masks (mask=, attention_mask=, query/value masks);
 * MultiHeadAttention over attention_axes other than the time axis.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include <cblas.h>

#include "ks_cfg.h"
#include "ks_ops.h"
#include "ks_util.h"

static int fail_layer(const ks_op_call *c, ks_err *err, const char *msg)
{
	return ks_fail(err, "layer %s (%s): %s", c->layer->name, c->layer->class_name, msg);
}

static int read_weight(const ks_op_call *c, const ks_weight *w, float *dst, ks_err *err)
{
	int64_t n;
	if (w->mem) {
		if (ks_numel(w->shape, w->rank, &n))
			memcpy(dst, w->mem, sizeof(float) * (size_t)n);
		return 0;
	}
	if (ks_weight_read(c->model, w, dst, err) < 0)
		return ks_err_prefix(err, "layer %s", c->layer->name);
	return 0;
}

static int check_shape(const ks_op_call *c, const ks_weight *w, int rank, const int64_t *shape, ks_err *err)
{
	char got[128], want[128];
	for (int i = 0; i < rank; i++)
		if (shape[i] < 0)
			return 0; /* unknown at display time */
	if (w->rank == rank && memcmp(w->shape, shape, sizeof(int64_t) * (size_t)rank) == 0)
		return 0;
	return ks_fail(err, "layer %s (%s): weight '%s' has shape %s but the config needs %s", c->layer->name,
	               c->layer->class_name, w->name, ks_shape_str(w->shape, w->rank, got, sizeof got),
	               ks_shape_str(shape, rank, want, sizeof want));
}

static bool is_scalar(const ks_op_call *c, const ks_weight *w, ks_err *err)
{
	int64_t n;
	char got[128];
	if (ks_numel(w->shape, w->rank, &n) && n == 1)
		return true;
	ks_fail(err, "layer %s (%s): weight '%s' has shape %s but should be a scalar", c->layer->name,
	        c->layer->class_name, w->name, ks_shape_str(w->shape, w->rank, got, sizeof got));
	return false;
}

/* Bool from the call kwargs, else from the config (older spelling). */
static int flag_kw(const ks_op_call *c, const char *kw, const char *cfg_key, bool *out, ks_err *err)
{
	const json_t *v = c->kwargs ? json_object_get(c->kwargs, kw) : NULL;
	*out = false;
	if (v && !json_is_null(v)) {
		if (!json_is_boolean(v))
			return ks_fail(err, "layer %s: call argument '%s' should be true or false", c->layer->name, kw);
		*out = json_is_true(v);
		return 0;
	}
	if (cfg_key && ks_cfg_bool(c->config, cfg_key, false, out, err) < 0)
		return ks_err_prefix(err, "layer %s", c->layer->name);
	return 0;
}

/* allow_2d: tf.keras Attention also takes (batch, features) inputs, and its
 * matmul then attends across the batch, as if it were one sequence. */
static int check_qkv(const ks_op_call *c, bool allow_2d, ks_err *err)
{
	char buf[128];
	if (c->n_in < 2 || c->n_in > 3)
		return ks_fail(err, "layer %s (%s): needs inputs [query, value] or [query, value, key], got %d",
		               c->layer->name, c->layer->class_name, c->n_in);
	for (int i = 0; i < c->n_in; i++)
		if ((c->in[i].rank != 3 && !(allow_2d && c->in[i].rank == 2)) || c->in[i].rank != c->in[0].rank)
			return ks_fail(err, "layer %s (%s): input %d must be (batch, steps, features), got %s",
			               c->layer->name, c->layer->class_name, i,
			               ks_shape_str(c->in[i].d, c->in[i].rank, buf, sizeof buf));
	return 0;
}

/* Equal, or unknown (-1) on either side. */
static bool same_dim(int64_t a, int64_t b)
{
	return a < 0 || b < 0 || a == b;
}

/* A (batch, features) tensor seen as one sequence: (1, batch, features). */
static ks_shape seq_view(const ks_shape *s)
{
	ks_shape v = {.rank = 3, .d = {1, s->d[0], s->d[1]}};
	return v;
}

/* Row-wise softmax of S (Tq, Tk) with an optional causal mask (key j > query i
 * is excluded, as Keras' -1e9 penalty does). */
static void softmax_rows(float *S, int64_t Tq, int64_t Tk, bool causal)
{
	for (int64_t i = 0; i < Tq; i++) {
		float *r = S + i * Tk;
		int64_t n = causal ? (i + 1 < Tk ? i + 1 : Tk) : Tk;
		float mx = -INFINITY;
		double sum = 0;
		for (int64_t j = 0; j < n; j++)
			if (r[j] > mx)
				mx = r[j];
		for (int64_t j = 0; j < n; j++) {
			r[j] = expf(r[j] - mx);
			sum += r[j];
		}
		for (int64_t j = 0; j < n; j++)
			r[j] = (float)(r[j] / sum);
		for (int64_t j = n; j < Tk; j++)
			r[j] = 0.0f;
	}
}

/* ------------------------------------------------------------------ */
/* Attention, AdditiveAttention                                         */

typedef struct luong {
	bool additive, concat, use_scale, causal, scores_out;
	int64_t dim;
	float scale;             /* dot/concat scalar */
	float concat_w;
	float *scale_vec;        /* additive: (dim,) */
} luong;

static void luong_free(ks_op_call *c)
{
	luong *p = c->priv;
	if (p)
		free(p->scale_vec);
	free(p);
	c->priv = NULL;
}

static int luong_infer(ks_op_call *c, ks_err *err)
{
	luong *p;
	const char *mode;
	int need, k = 0;
	const ks_shape *q, *v, *kk;
	ks_shape seq2d[3];

	if (check_qkv(c, true, err) < 0)
		return -1;
	if (c->in[0].rank == 2) {
		for (int i = 0; i < c->n_in; i++)
			seq2d[i] = seq_view(&c->in[i]);
		q = &seq2d[0];
		v = &seq2d[1];
		kk = c->n_in > 2 ? &seq2d[2] : v;
	} else {
		q = &c->in[0];
		v = &c->in[1];
		kk = c->n_in > 2 ? &c->in[2] : v;
	}
	p = ks_xcalloc(1, sizeof *p);
	c->priv = p;
	p->additive = ks_str_eq(c->layer->class_name, "AdditiveAttention");
	if (ks_cfg_bool(c->config, "use_scale", p->additive, &p->use_scale, err) < 0 ||
	    ks_cfg_str(c->config, "score_mode", "dot", &mode, err) < 0) {
		ks_err_prefix(err, "layer %s", c->layer->name);
		goto fail;
	}
	if (!p->additive) {
		if (ks_str_eq(mode, "concat")) {
			p->concat = true;
		} else if (!ks_str_eq(mode, "dot")) {
			ks_fail(err, "layer %s (Attention): unknown score_mode '%s'", c->layer->name, mode);
			goto fail;
		}
	}
	if (flag_kw(c, "use_causal_mask", "causal", &p->causal, err) < 0 ||
	    flag_kw(c, "return_attention_scores", NULL, &p->scores_out, err) < 0)
		goto fail;
	p->dim = q->d[2];
	if (!same_dim(q->d[2], kk->d[2]) || !same_dim(q->d[0], v->d[0]) || !same_dim(q->d[0], kk->d[0]) ||
	    !same_dim(kk->d[1], v->d[1])) {
		fail_layer(c, err, "query/key features or key/value steps do not match");
		goto fail;
	}
	need = (p->use_scale ? 1 : 0) + (p->concat ? 1 : 0);
	if (c->layer->n_weights != need) {
		ks_fail(err, "layer %s (%s): has %d weights but the config needs %d", c->layer->name,
		        c->layer->class_name, c->layer->n_weights, need);
		goto fail;
	}
	if (p->use_scale) {
		const ks_weight *w = &c->layer->weights[k++];
		if (p->additive ? check_shape(c, w, 1, &p->dim, err) < 0 : !is_scalar(c, w, err))
			goto fail;
	}
	if (p->concat && !is_scalar(c, &c->layer->weights[k], err))
		goto fail;
	c->n_out = 1;
	c->out[0].rank = 3;
	c->out[0].d[0] = q->d[0];
	c->out[0].d[1] = q->d[1];
	c->out[0].d[2] = v->d[2];
	if (p->scores_out) {
		c->n_out = 2;
		c->out[1].rank = 3;
		c->out[1].d[0] = q->d[0];
		c->out[1].d[1] = q->d[1];
		c->out[1].d[2] = v->d[1];
	}
	if (c->in[0].rank == 2) /* drop the pseudo batch of one */
		for (int i = 0; i < c->n_out; i++) {
			c->out[i].rank = 2;
			c->out[i].d[0] = c->out[i].d[1];
			c->out[i].d[1] = c->out[i].d[2];
		}
	c->scratch_floats = 0;
	if (q->d[1] >= 0 && v->d[1] >= 0 && !ks_size_mul((size_t)q->d[1], (size_t)v->d[1], &c->scratch_floats)) {
		fail_layer(c, err, "the inputs are too large");
		goto fail;
	}
	return 0;
fail:
	luong_free(c);
	return -1;
}

static int luong_load(ks_op_call *c, ks_err *err)
{
	luong *p = c->priv;
	int k = 0;
	p->scale = 1.0f;
	p->concat_w = 1.0f;
	if (p->use_scale) {
		if (p->additive) {
			p->scale_vec = ks_xmalloc(sizeof(float) * (size_t)(p->dim > 0 ? p->dim : 1));
			if (read_weight(c, &c->layer->weights[k++], p->scale_vec, err) < 0)
				return -1;
		} else if (read_weight(c, &c->layer->weights[k++], &p->scale, err) < 0) {
			return -1;
		}
	}
	if (p->concat && read_weight(c, &c->layer->weights[k], &p->concat_w, err) < 0)
		return -1;
	return 0;
}

static void luong_run(const ks_op_call *c, const float *const *in, float *const *out, float *scratch)
{
	const luong *p = c->priv;
	ks_shape qs = c->in[0].rank == 2 ? seq_view(&c->in[0]) : c->in[0];
	ks_shape vs = c->in[1].rank == 2 ? seq_view(&c->in[1]) : c->in[1];
	int64_t B = qs.d[0], Tq = qs.d[1], d = qs.d[2];
	int64_t Tv = vs.d[1], dv = vs.d[2];
	const float *key = c->n_in > 2 ? in[2] : in[1];

	for (int64_t b = 0; b < B; b++) {
		const float *Q = in[0] + b * Tq * d, *K = key + b * Tv * d, *V = in[1] + b * Tv * dv;
		float *S = p->scores_out ? out[1] + b * Tq * Tv : scratch;
		if (p->additive || p->concat) {
			for (int64_t i = 0; i < Tq; i++)
				for (int64_t j = 0; j < Tv; j++) {
					double s = 0;
					for (int64_t f = 0; f < d; f++) {
						float t = Q[i * d + f] + K[j * d + f];
						if (p->additive)
							s += (p->scale_vec ? p->scale_vec[f] : 1.0f) * tanhf(t);
						else
							s += tanhf(p->scale * t);
					}
					S[i * Tv + j] = p->additive ? (float)s : (float)(p->concat_w * s);
				}
		} else if (Tq > 0 && Tv > 0) {
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)Tq, (blasint)Tv, (blasint)d,
			            p->scale, Q, (blasint)d, K, (blasint)d, 0.0f, S, (blasint)Tv);
		}
		softmax_rows(S, Tq, Tv, p->causal);
		if (Tq > 0 && dv > 0) {
			if (Tv > 0)
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)Tq, (blasint)dv, (blasint)Tv,
				            1.0f, S, (blasint)Tv, V, (blasint)dv, 0.0f, out[0] + b * Tq * dv, (blasint)dv);
			else
				memset(out[0] + b * Tq * dv, 0, sizeof(float) * (size_t)(Tq * dv));
		}
	}
}

/* ------------------------------------------------------------------ */
/* MultiHeadAttention                                                   */

enum { P_Q, P_K, P_V, P_O };

typedef struct mha {
	int64_t H, kd, vd, out_dim;
	int64_t dq, dk, dv;      /* input feature sizes */
	bool use_bias, causal, scores_out;
	const ks_weight *w[4][2]; /* [projection][kernel, bias] */
	float *W[4], *b[4];
} mha;

static void mha_free(ks_op_call *c)
{
	mha *p = c->priv;
	if (p)
		for (int i = 0; i < 4; i++) {
			free(p->W[i]);
			free(p->b[i]);
		}
	free(p);
	c->priv = NULL;
}

/* Which projection a weight belongs to, from the components of its names
 * ("query/kernel", "mha/key/bias:0", "layers/mha/value_dense/vars/0"). */
static int proj_of(const ks_weight *w)
{
	static const char *const names[4][2] = {
		{"query", "query_dense"}, {"key", "key_dense"}, {"value", "value_dense"},
		{"attention_output", "output_dense"},
	};
	const char *srcs[3] = {w->name, w->stored_name, w->h5_path};
	for (int s = 0; s < 3; s++) {
		const char *t = srcs[s];
		while (t && *t) {
			size_t n = strcspn(t, "/");
			for (int p = 0; p < 4; p++)
				for (int a = 0; a < 2; a++)
					if (strlen(names[p][a]) == n && strncmp(t, names[p][a], n) == 0)
						return p;
			t += n;
			if (*t == '/')
				t++;
		}
	}
	return -1;
}

static int mha_infer(ks_op_call *c, ks_err *err)
{
	mha *p;
	int64_t vd;
	const json_t *os, *axes;
	int nw;
	bool by_name = true;
	const ks_shape *q, *v, *k;

	if (check_qkv(c, false, err) < 0) {
		if (c->n_in == 1 && c->kwargs && json_object_get(c->kwargs, "value"))
			return fail_layer(c, err, "the value tensor is passed as a keyword argument the graph did not resolve");
		return -1;
	}
	q = &c->in[0];
	v = &c->in[1];
	k = c->n_in > 2 ? &c->in[2] : v;
	p = ks_xcalloc(1, sizeof *p);
	c->priv = p;
	if (ks_cfg_int(c->config, "num_heads", 0, &p->H, err) < 0 || ks_cfg_int(c->config, "key_dim", 0, &p->kd, err) < 0 ||
	    ks_cfg_int(c->config, "value_dim", 0, &vd, err) < 0 ||
	    ks_cfg_bool(c->config, "use_bias", true, &p->use_bias, err) < 0) {
		ks_err_prefix(err, "layer %s", c->layer->name);
		goto fail;
	}
	p->vd = vd > 0 ? vd : p->kd;
	if (p->H <= 0 || p->kd <= 0 || p->H > (1 << 20) || p->kd > (1 << 20) || p->vd > (1 << 20)) {
		fail_layer(c, err, "num_heads and key_dim must be positive");
		goto fail;
	}
	axes = json_object_get(c->config, "attention_axes");
	if (axes && !json_is_null(axes)) {
		const json_t *a0 = json_is_array(axes) ? json_array_get(axes, 0) : axes;
		int64_t a = json_is_integer(a0) ? json_integer_value(a0) : 0;
		if ((json_is_array(axes) && json_array_size(axes) != 1) || !(a == 1 || a == -2)) {
			fail_layer(c, err, "attention_axes other than the time axis are not supported");
			goto fail;
		}
	}
	os = json_object_get(c->config, "output_shape");
	p->out_dim = q->d[2];
	if (os && !json_is_null(os)) {
		const json_t *o0 = json_is_array(os) ? json_array_get(os, 0) : os;
		if (!json_is_integer(o0) || (json_is_array(os) && json_array_size(os) != 1) || json_integer_value(o0) <= 0) {
			fail_layer(c, err, "only an integer output_shape is supported");
			goto fail;
		}
		p->out_dim = json_integer_value(o0);
	}
	if (flag_kw(c, "use_causal_mask", NULL, &p->causal, err) < 0 ||
	    flag_kw(c, "return_attention_scores", NULL, &p->scores_out, err) < 0)
		goto fail;
	p->dq = q->d[2];
	p->dv = v->d[2];
	p->dk = k->d[2];
	if (!same_dim(k->d[1], v->d[1]) || !same_dim(q->d[0], v->d[0]) || !same_dim(q->d[0], k->d[0])) {
		fail_layer(c, err, "query, key and value disagree in batch or key/value steps");
		goto fail;
	}

	nw = p->use_bias ? 8 : 4;
	if (c->layer->n_weights != nw) {
		ks_fail(err, "layer %s (%s): has %d weights but the config needs %d", c->layer->name,
		        c->layer->class_name, c->layer->n_weights, nw);
		goto fail;
	}
	for (int i = 0; i < nw && by_name; i++) {
		const ks_weight *w = &c->layer->weights[i];
		int pr = proj_of(w);
		int kb = (w->rank == 3) ? 0 : 1;
		if (pr < 0 || p->w[pr][kb])
			by_name = false;
		else
			p->w[pr][kb] = w;
	}
	if (!by_name) {
		/* Keras' own order: query, key, value, attention_output; kernel then bias. */
		memset(p->w, 0, sizeof p->w);
		for (int i = 0; i < nw; i++)
			p->w[p->use_bias ? i / 2 : i][p->use_bias ? i % 2 : 0] = &c->layer->weights[i];
	}
	{
		int64_t sq[3] = {p->dq, p->H, p->kd}, sk[3] = {p->dk, p->H, p->kd}, sv[3] = {p->dv, p->H, p->vd};
		int64_t so[3] = {p->H, p->vd, p->out_dim};
		int64_t bq[2] = {p->H, p->kd}, bv[2] = {p->H, p->vd}, bo[1] = {p->out_dim};
		if (!p->w[P_Q][0] || !p->w[P_K][0] || !p->w[P_V][0] || !p->w[P_O][0] ||
		    (p->use_bias && (!p->w[P_Q][1] || !p->w[P_K][1] || !p->w[P_V][1] || !p->w[P_O][1]))) {
			fail_layer(c, err, "cannot tell the query/key/value/output weights apart");
			goto fail;
		}
		if (check_shape(c, p->w[P_Q][0], 3, sq, err) < 0 || check_shape(c, p->w[P_K][0], 3, sk, err) < 0 ||
		    check_shape(c, p->w[P_V][0], 3, sv, err) < 0 || check_shape(c, p->w[P_O][0], 3, so, err) < 0)
			goto fail;
		if (p->use_bias &&
		    (check_shape(c, p->w[P_Q][1], 2, bq, err) < 0 || check_shape(c, p->w[P_K][1], 2, bq, err) < 0 ||
		     check_shape(c, p->w[P_V][1], 2, bv, err) < 0 || check_shape(c, p->w[P_O][1], 1, bo, err) < 0))
			goto fail;
	}
	c->n_out = 1;
	c->out[0].rank = 3;
	c->out[0].d[0] = q->d[0];
	c->out[0].d[1] = q->d[1];
	c->out[0].d[2] = p->out_dim;
	if (p->scores_out) {
		c->n_out = 2;
		c->out[1].rank = 4;
		c->out[1].d[0] = q->d[0];
		c->out[1].d[1] = p->H;
		c->out[1].d[2] = q->d[1];
		c->out[1].d[3] = v->d[1];
	}
	c->scratch_floats = 0;
	if (q->d[1] >= 0 && v->d[1] >= 0) {
		/* projected q (Tq, H*kd), k (Tv, H*kd), v (Tv, H*vd), scores (Tq, Tv),
		 * per-head output gathered as (Tq, H*vd) */
		double need = (double)q->d[1] * (double)(p->H * p->kd) + (double)v->d[1] * (double)(p->H * p->kd) +
		              (double)v->d[1] * (double)(p->H * p->vd) + (double)q->d[1] * (double)v->d[1] +
		              (double)q->d[1] * (double)(p->H * p->vd) + 4.0 * (double)(p->H * (p->kd + p->vd));
		if (need > 4e12) {
			fail_layer(c, err, "the inputs are too large");
			goto fail;
		}
		c->scratch_floats = (size_t)need;
	}
	return 0;
fail:
	mha_free(c);
	return -1;
}

static int mha_load(ks_op_call *c, ks_err *err)
{
	mha *p = c->priv;
	for (int i = 0; i < 4; i++) {
		int64_t n;
		const ks_weight *w = p->w[i][0];
		if (!ks_numel(w->shape, w->rank, &n))
			return fail_layer(c, err, "bad weight shape");
		p->W[i] = ks_xmalloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
		if (read_weight(c, w, p->W[i], err) < 0)
			return -1;
		n = i == P_O ? p->out_dim : p->H * (i == P_V ? p->vd : p->kd);
		p->b[i] = ks_xcalloc((size_t)(n > 0 ? n : 1), sizeof(float));
		if (p->use_bias && read_weight(c, p->w[i][1], p->b[i], err) < 0)
			return -1;
	}
	return 0;
}

/* Y (T, n) = X (T, din) . W (din, n) + b */
static void project(const float *X, int64_t T, int64_t din, const float *W, const float *b, int64_t n, float *Y)
{
	for (int64_t t = 0; t < T; t++)
		memcpy(Y + t * n, b, sizeof(float) * (size_t)n);
	if (T > 0 && n > 0 && din > 0)
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)T, (blasint)n, (blasint)din, 1.0f, X,
		            (blasint)din, W, (blasint)n, 1.0f, Y, (blasint)n);
}

static void mha_run(const ks_op_call *c, const float *const *in, float *const *out, float *scratch)
{
	const mha *p = c->priv;
	int64_t B = c->in[0].d[0], Tq = c->in[0].d[1], Tv = c->in[1].d[1];
	int64_t H = p->H, kd = p->kd, vd = p->vd, Hk = H * kd, Hv = H * vd;
	const float *key = c->n_in > 2 ? in[2] : in[1];
	float *Qp = scratch, *Kp = Qp + Tq * Hk, *Vp = Kp + Tv * Hk, *S = Vp + Tv * Hv, *O = S + Tq * Tv;
	float alpha = (float)(1.0 / sqrt((double)kd));

	for (int64_t b = 0; b < B; b++) {
		project(in[0] + b * Tq * p->dq, Tq, p->dq, p->W[P_Q], p->b[P_Q], Hk, Qp);
		project(key + b * Tv * p->dk, Tv, p->dk, p->W[P_K], p->b[P_K], Hk, Kp);
		project(in[1] + b * Tv * p->dv, Tv, p->dv, p->W[P_V], p->b[P_V], Hv, Vp);
		for (int64_t h = 0; h < H; h++) {
			float *Sh = p->scores_out ? out[1] + ((b * H + h) * Tq) * Tv : S;
			/* scores (Tq, Tv) = (q_h / sqrt(kd)) . k_h^T; heads are column blocks */
			if (Tq > 0 && Tv > 0)
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)Tq, (blasint)Tv, (blasint)kd,
				            alpha, Qp + h * kd, (blasint)Hk, Kp + h * kd, (blasint)Hk, 0.0f, Sh, (blasint)Tv);
			softmax_rows(Sh, Tq, Tv, p->causal);
			if (Tq > 0 && vd > 0) {
				if (Tv > 0)
					cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)Tq, (blasint)vd,
					            (blasint)Tv, 1.0f, Sh, (blasint)Tv, Vp + h * vd, (blasint)Hv, 0.0f,
					            O + h * vd, (blasint)Hv);
				else
					for (int64_t t = 0; t < Tq; t++)
						memset(O + t * Hv + h * vd, 0, sizeof(float) * (size_t)vd);
			}
		}
		/* output kernel (H, vd, out) is a (H*vd, out) matrix */
		project(O, Tq, Hv, p->W[P_O], p->b[P_O], p->out_dim, out[0] + b * Tq * p->out_dim);
	}
}

static const ks_op op_attention = {"Attention", 0, luong_infer, luong_load, luong_run, luong_free};
static const ks_op op_additive = {"AdditiveAttention", 0, luong_infer, luong_load, luong_run, luong_free};
static const ks_op op_mha = {"MultiHeadAttention", 0, mha_infer, mha_load, mha_run, mha_free};

const ks_op *const ks_ops_attn[] = {
	&op_attention, &op_additive, &op_mha,
	NULL,
};
