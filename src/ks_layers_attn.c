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
 *   EinsumDense         the projection layer itself, for equations with one
 *                       contraction (see struct einsum).
 *
 * Inputs: [query, value] or [query, value, key] (key defaults to value), all
 * (batch, steps, features). tf.keras' Attention also accepts (batch, features)
 * inputs; its matmul then attends across the batch rows, which is reproduced
 * (the result then depends on which rows are predicted together). A causal
 * mask comes from the call kwarg use_causal_mask (Keras >= 2.10, 3) or the
 * Keras 2.x config key `causal`.
 * return_attention_scores (kwarg) adds the score tensor as a second output.
 * MultiHeadAttention also takes (batch, d1..dn, features) inputs when it
 * attends over all of d1..dn (the default): that is attention over the
 * flattened positions.
 * Not modelled: padding masks (mask=, attention_mask=, query/value masks);
 * MultiHeadAttention over a subset of the middle axes.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include <cblas.h>

#include "ks_cfg.h"
#include "ks_ops.h"
#include "ks_spatial.h"
#include "ks_util.h"

static int check_shape(const ks_op_call *c, const ks_weight *w, int rank, const int64_t *shape, ks_err *err)
{
	for (int i = 0; i < rank; i++)
		if (shape[i] < 0)
			return 0; /* unknown at display time */
	return ks_op_check_shape(c, w, rank, shape, err);
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

/* (batch, d1..dn, features) seen as (batch, d1*...*dn, features). */
static ks_shape flat3(const ks_shape *s)
{
	ks_shape f = {.rank = 3, .d = {s->d[0], 1, s->d[s->rank - 1]}};
	for (int i = 1; i < s->rank - 1; i++)
		f.d[1] = (f.d[1] < 0 || s->d[i] < 0) ? -1 : f.d[1] * s->d[i];
	return f;
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
		ks_op_fail(c, err, "query/key features or key/value steps do not match");
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
		ks_op_fail(c, err, "the inputs are too large");
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
			if (ks_op_read_into(c, &c->layer->weights[k++], p->scale_vec, err) < 0)
				return -1;
		} else if (ks_op_read_into(c, &c->layer->weights[k++], &p->scale, err) < 0) {
			return -1;
		}
	}
	if (p->concat && ks_op_read_into(c, &c->layer->weights[k], &p->concat_w, err) < 0)
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
	ks_shape flat[3];
	int rank = c->n_in > 0 ? c->in[0].rank : 0;

	if (c->n_in < 2 || c->n_in > 3)
		return ks_fail(err, "layer %s (%s): needs inputs [query, value] or [query, value, key], got %d",
		               c->layer->name, c->layer->class_name, c->n_in);
	for (int i = 0; i < c->n_in; i++) {
		char buf[128];
		if (c->in[i].rank < 3 || c->in[i].rank != rank)
			return ks_fail(err, "layer %s (%s): input %d must be (batch, steps..., features) like the query, got %s",
			               c->layer->name, c->layer->class_name, i,
			               ks_shape_str(c->in[i].d, c->in[i].rank, buf, sizeof buf));
		flat[i] = flat3(&c->in[i]);
	}
	q = &flat[0];
	v = &flat[1];
	k = c->n_in > 2 ? &flat[2] : v;
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
		ks_op_fail(c, err, "num_heads and key_dim must be positive");
		goto fail;
	}
	/* Attending over every axis between batch and features jointly is
	 * attending over those axes flattened (the default, attention_axes=None). */
	axes = json_object_get(c->config, "attention_axes");
	if (axes && !json_is_null(axes)) {
		bool seen[KS_MAX_RANK] = {false}, all = true;
		size_t n = json_is_array(axes) ? json_array_size(axes) : 1;
		for (size_t i = 0; i < n; i++) {
			const json_t *a0 = json_is_array(axes) ? json_array_get(axes, i) : axes;
			int64_t a = json_is_integer(a0) ? json_integer_value(a0) : 0;
			if (a < 0)
				a += rank;
			if (a >= 1 && a <= rank - 2)
				seen[a] = true;
			else
				all = false;
		}
		for (int i = 1; i <= rank - 2; i++)
			all = all && seen[i];
		if (!all) {
			ks_op_fail(c, err, "attention_axes other than all the axes between batch and features are not supported");
			goto fail;
		}
	}
	os = json_object_get(c->config, "output_shape");
	p->out_dim = q->d[2];
	if (os && !json_is_null(os)) {
		const json_t *o0 = json_is_array(os) ? json_array_get(os, 0) : os;
		if (!json_is_integer(o0) || (json_is_array(os) && json_array_size(os) != 1) || json_integer_value(o0) <= 0) {
			ks_op_fail(c, err, "only an integer output_shape is supported");
			goto fail;
		}
		p->out_dim = json_integer_value(o0);
	}
	if (flag_kw(c, "use_causal_mask", NULL, &p->causal, err) < 0 ||
	    flag_kw(c, "return_attention_scores", NULL, &p->scores_out, err) < 0)
		goto fail;
	if (rank > 3 && (p->causal || p->scores_out)) {
		ks_op_fail(c, err, "causal masks and attention scores need (batch, steps, features) inputs");
		goto fail;
	}
	p->dq = q->d[2];
	p->dv = v->d[2];
	p->dk = k->d[2];
	if (!same_dim(k->d[1], v->d[1]) || !same_dim(q->d[0], v->d[0]) || !same_dim(q->d[0], k->d[0])) {
		ks_op_fail(c, err, "query, key and value disagree in batch or key/value steps");
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
			ks_op_fail(c, err, "cannot tell the query/key/value/output weights apart");
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
	c->out[0] = c->in[0];
	c->out[0].d[rank - 1] = p->out_dim;
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
			ks_op_fail(c, err, "the inputs are too large");
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
			return ks_op_fail(c, err, "bad weight shape");
		p->W[i] = ks_xmalloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
		if (ks_op_read_into(c, w, p->W[i], err) < 0)
			return -1;
		n = i == P_O ? p->out_dim : p->H * (i == P_V ? p->vd : p->kd);
		p->b[i] = ks_xcalloc((size_t)(n > 0 ? n : 1), sizeof(float));
		if (p->use_bias && ks_op_read_into(c, p->w[i][1], p->b[i], err) < 0)
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
	ks_shape q3 = flat3(&c->in[0]), v3 = flat3(&c->in[1]);
	int64_t B = q3.d[0], Tq = q3.d[1], Tv = v3.d[1];
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

/* ------------------------------------------------------------------ */
/* EinsumDense: y = einsum(equation, x, kernel) + bias                  */

/* One contraction: input letters are either kept (free, also in the output)
 * or contracted (also in the kernel); kernel letters are contracted or free.
 * The input is permuted to (free..., contracted...), the kernel (once, at
 * load) to (contracted..., free...), one sgemm gives (free_in, free_k), and
 * that is permuted to the output order. "..." stands for the input's extra
 * axes (digits internally). Letters shared by all three are not supported. */
typedef struct einsum {
	char in[KS_MAX_RANK + 1], ker[KS_MAX_RANK + 1], out[KS_MAX_RANK + 1];
	int rin, rker, rout;
	int in_perm[KS_MAX_RANK], y_perm[KS_MAX_RANK];
	bool in_identity, y_identity;
	int64_t M, K, N;         /* per call: rows (free input), contracted, free kernel */
	const ks_weight *wk, *wb;
	int64_t tail;            /* bias broadcast over the last `tail` output values */
	int first;               /* the first output axis the bias spans */
	char bias_axes[KS_MAX_RANK + 1];
	float *W, *bias_tail;
} einsum;

static void einsum_free(ks_op_call *c)
{
	einsum *p = c->priv;
	if (p) {
		free(p->W);
		free(p->bias_tail);
	}
	free(p);
	c->priv = NULL;
}

/* Copies one side of an equation, expanding "..." to n digits. */
static int eq_side(const char *s, size_t len, int n_ell, char *dst, bool *has_ell)
{
	int k = 0;
	*has_ell = false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.' && i + 2 < len + 0 && s[i + 1] == '.' && s[i + 2] == '.') {
			if (*has_ell)
				return -1;
			*has_ell = true;
			for (int e = 0; e < n_ell; e++) {
				if (k >= KS_MAX_RANK)
					return -1;
				dst[k++] = (char)('0' + e);
			}
			i += 2;
		} else if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')) {
			if (k >= KS_MAX_RANK)
				return -1;
			dst[k++] = s[i];
		} else if (s[i] != ' ') {
			return -1;
		}
	}
	dst[k] = 0;
	return k;
}

static int einsum_infer(ks_op_call *c, ks_err *err)
{
	einsum *p;
	const char *eq, *comma, *arrow, *bias_axes;
	const ks_shape *x = &c->in[0];
	int n_letters, n_ell = 0, free_in = 0, contr = 0;
	bool e1, e2, e3;
	char order[KS_MAX_RANK * 2 + 1];
	int64_t yd[KS_MAX_RANK * 2];

	if (c->n_in != 1)
		return ks_op_fail(c, err, "needs one input");
	if (ks_cfg_str(c->config, "equation", NULL, &eq, err) < 0 ||
	    ks_cfg_str(c->config, "bias_axes", NULL, &bias_axes, err) < 0)
		return ks_err_prefix(err, "layer %s", c->layer->name);
	if (json_object_get(c->config, "lora_rank") && !json_is_null(json_object_get(c->config, "lora_rank")))
		return ks_op_fail(c, err, "LoRA-enabled EinsumDense is not supported");
	comma = eq ? strchr(eq, ',') : NULL;
	arrow = comma ? strstr(comma, "->") : NULL;
	if (!eq || !comma || !arrow)
		return ks_op_fail(c, err, "'equation' is missing or not of the form IN,KERNEL->OUT");
	p = ks_xcalloc(1, sizeof *p);
	c->priv = p;
	/* letters explicitly on the input side, to size the ellipsis */
	n_letters = 0;
	for (const char *q = eq; q < comma; q++)
		if ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z'))
			n_letters++;
	if (strstr(eq, "..."))
		n_ell = x->rank - n_letters;
	if (n_ell < 0 || (p->rin = eq_side(eq, (size_t)(comma - eq), n_ell, p->in, &e1)) < 0 ||
	    (p->rker = eq_side(comma + 1, (size_t)(arrow - comma - 1), 0, p->ker, &e2)) < 0 ||
	    (p->rout = eq_side(arrow + 2, strlen(arrow + 2), n_ell, p->out, &e3)) < 0 || e2 || e1 != e3 ||
	    p->rin != x->rank) {
		ks_fail(err, "layer %s (EinsumDense): equation '%s' does not fit a rank-%d input", c->layer->name, eq,
		        x->rank);
		goto fail;
	}
	p->wk = ks_op_weight_meta(c, "kernel");
	p->wb = ks_op_weight_meta(c, "bias");
	if (!p->wk && c->layer->n_weights >= 1)
		p->wk = &c->layer->weights[0];
	if (!p->wb && bias_axes && c->layer->n_weights >= 2)
		p->wb = &c->layer->weights[1];
	if (!p->wk || p->wk->rank != p->rker || c->layer->n_weights != (bias_axes ? 2 : 1) || (bias_axes && !p->wb)) {
		ks_fail(err, "layer %s (EinsumDense): needs a rank-%d kernel%s (the layer has %d weights)", c->layer->name,
		        p->rker, bias_axes ? " and a bias" : "", c->layer->n_weights);
		goto fail;
	}
	/* classify letters; dims from the input and the kernel must agree */
	p->M = p->K = p->N = 1;
	for (int i = 0; i < p->rin; i++) {
		const char *ko = strchr(p->ker, p->in[i]), *oo = strchr(p->out, p->in[i]);
		if (strchr(p->in + i + 1, p->in[i]) || (ko && oo) || (!ko && !oo)) {
			ks_fail(err, "layer %s (EinsumDense): unsupported equation '%s'", c->layer->name, eq);
			goto fail;
		}
		if (ko && x->d[i] >= 0 && p->wk->shape[ko - p->ker] != x->d[i]) {
			ks_fail(err, "layer %s (EinsumDense): kernel axis '%c' has %lld values but the input %lld",
			        c->layer->name, p->in[i], (long long)p->wk->shape[ko - p->ker], (long long)x->d[i]);
			goto fail;
		}
		if (oo)
			free_in++;
		else
			contr++;
	}
	/* input order: free letters then contracted ones, each in input order */
	{
		int a = 0, b = free_in;
		for (int i = 0; i < p->rin; i++) {
			if (strchr(p->out, p->in[i]))
				p->in_perm[a++] = i;
			else
				p->in_perm[b++] = i;
		}
	}
	p->in_identity = true;
	for (int i = 0; i < p->rin; i++)
		if (p->in_perm[i] != i)
			p->in_identity = false;
	/* (free input letters, free kernel letters) must be the output letters */
	int ny = 0;
	for (int i = 0; i < free_in; i++) {
		order[ny] = p->in[p->in_perm[i]];
		yd[ny++] = x->d[p->in_perm[i]];
	}
	for (int i = 0; i < p->rker; i++) {
		if (strchr(p->in, p->ker[i]))
			continue;
		if (!strchr(p->out, p->ker[i]) || strchr(p->ker + i + 1, p->ker[i])) {
			ks_fail(err, "layer %s (EinsumDense): unsupported equation '%s'", c->layer->name, eq);
			goto fail;
		}
		order[ny] = p->ker[i];
		yd[ny++] = p->wk->shape[i];
		p->N *= p->wk->shape[i];
	}
	order[ny] = 0;
	if (ny != p->rout) {
		ks_fail(err, "layer %s (EinsumDense): unsupported equation '%s'", c->layer->name, eq);
		goto fail;
	}
	p->y_identity = true;
	for (int i = 0; i < p->rout; i++) {
		const char *at = strchr(order, p->out[i]);
		if (!at) {
			ks_fail(err, "layer %s (EinsumDense): unsupported equation '%s'", c->layer->name, eq);
			goto fail;
		}
		p->y_perm[i] = (int)(at - order);
		if (p->y_perm[i] != i)
			p->y_identity = false;
	}
	c->n_out = 1;
	c->out[0].rank = p->rout;
	for (int i = 0; i < p->rout; i++)
		c->out[0].d[i] = yd[p->y_perm[i]];
	for (int i = 0; i < contr; i++)
		p->K *= x->d[p->in_perm[free_in + i]] >= 0 ? x->d[p->in_perm[free_in + i]] : 1;
	/* bias: broadcast over the output from its first bias axis on */
	if (bias_axes) {
		int first = p->rout;
		int64_t bn = 1, wbn;
		if (!*bias_axes || strlen(bias_axes) > KS_MAX_RANK) {
			ks_op_fail(c, err, "bad bias_axes");
			goto fail;
		}
		strcpy(p->bias_axes, bias_axes);
		for (const char *q = bias_axes; *q; q++) {
			const char *at = strchr(p->out, *q);
			if (!at || !((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z'))) {
				ks_fail(err, "layer %s (EinsumDense): bias axis '%c' is not an output axis", c->layer->name, *q);
				goto fail;
			}
			if (at - p->out < first)
				first = (int)(at - p->out);
			bn = c->out[0].d[at - p->out] >= 0 ? bn * c->out[0].d[at - p->out] : -1;
		}
		p->first = first;
		p->tail = 1;
		for (int i = first; i < p->rout; i++)
			p->tail = (p->tail < 0 || c->out[0].d[i] < 0) ? -1 : p->tail * c->out[0].d[i];
		if (bn >= 0 && (!ks_numel(p->wb->shape, p->wb->rank, &wbn) || wbn != bn)) {
			ks_fail(err, "layer %s (EinsumDense): the bias has the wrong size for bias_axes '%s'", c->layer->name,
			        bias_axes);
			goto fail;
		}
	}
	c->scratch_floats = 0;
	{
		int64_t nin = ks_shape_numel(x), nout = ks_shape_numel(&c->out[0]);
		if (nin >= 0 && nout >= 0)
			c->scratch_floats = (size_t)(p->in_identity ? 0 : nin) + (size_t)(p->y_identity ? 0 : nout);
	}
	return 0;
fail:
	einsum_free(c);
	return -1;
}

static int einsum_load(ks_op_call *c, ks_err *err)
{
	einsum *p = c->priv;
	int64_t n, dims[KS_MAX_RANK];
	int perm[KS_MAX_RANK], k = 0;
	float *raw;

	if (!ks_numel(p->wk->shape, p->wk->rank, &n) || p->tail < 0)
		return ks_op_fail(c, err, "bad kernel shape");
	raw = ks_xmalloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
	p->W = ks_xmalloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
	if (ks_op_read_into(c, p->wk, raw, err) < 0) {
		free(raw);
		return -1;
	}
	/* kernel to (contracted in input order, free in kernel order) */
	for (int i = 0; i < p->rin; i++) {
		const char *ko = strchr(p->ker, p->in[p->in_perm[i]]);
		if (ko && !strchr(p->out, *ko))
			perm[k++] = (int)(ko - p->ker);
	}
	for (int i = 0; i < p->rker; i++)
		if (!strchr(p->in, p->ker[i]))
			perm[k++] = i;
	for (int i = 0; i < p->rker; i++)
		dims[i] = p->wk->shape[i];
	ks_sp_permute(raw, p->W, p->rker, dims, perm);
	free(raw);
	if (p->wb) {
		int64_t bn, odims[KS_MAX_RANK];
		int first = p->first;
		float *b;
		if (!ks_numel(p->wb->shape, p->wb->rank, &bn))
			return ks_op_fail(c, err, "bad bias shape");
		b = ks_xmalloc(sizeof(float) * (size_t)(bn > 0 ? bn : 1));
		if (ks_op_read_into(c, p->wb, b, err) < 0) {
			free(b);
			return -1;
		}
		for (int i = 0; i < p->rout; i++)
			odims[i] = c->out[0].d[i];
		p->bias_tail = ks_xmalloc(sizeof(float) * (size_t)(p->tail > 0 ? p->tail : 1));
		for (int64_t t = 0; t < p->tail; t++) {
			/* coordinates of t over odims[first..], bias index over the bias axes */
			int64_t rem = t, bi = 0, stride = 1;
			int64_t coord[KS_MAX_RANK];
			for (int i = p->rout - 1; i >= first; i--) {
				coord[i] = rem % odims[i];
				rem /= odims[i];
			}
			for (int i = p->rout - 1; i >= first; i--)
				if (strchr(p->bias_axes, p->out[i])) {
					bi += coord[i] * stride;
					stride *= odims[i];
				}
			p->bias_tail[t] = b[bi];
		}
		free(b);
	}
	return 0;
}

static void einsum_run(const ks_op_call *c, const float *const *in, float *const *out, float *scratch)
{
	const einsum *p = c->priv;
	const ks_shape *x = &c->in[0];
	int64_t nin = ks_shape_numel(x), nout = ks_shape_numel(&c->out[0]), K = 1, N = p->N, M;
	const float *X = in[0];
	float *Y = p->y_identity ? out[0] : scratch + (p->in_identity ? 0 : nin);

	for (int i = 0; i < p->rin; i++)
		if (!strchr(p->out, p->in[i]))
			K *= x->d[i];
	M = (K > 0 && N > 0) ? nout / N : 0;
	if (!p->in_identity) {
		ks_sp_permute(in[0], scratch, p->rin, x->d, p->in_perm);
		X = scratch;
	}
	if (M > 0 && N > 0) {
		if (K > 0)
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)M, (blasint)N, (blasint)K, 1.0f, X,
			            (blasint)K, p->W, (blasint)N, 0.0f, Y, (blasint)N);
		else
			memset(Y, 0, sizeof(float) * (size_t)(M * N));
	}
	if (!p->y_identity) {
		int64_t yd[KS_MAX_RANK];
		int k = 0;
		for (int i = 0; i < p->rin; i++)
			if (strchr(p->out, p->in[p->in_perm[i]]))
				yd[k++] = x->d[p->in_perm[i]];
		for (int i = 0; i < p->rker; i++)
			if (!strchr(p->in, p->ker[i]))
				yd[k++] = p->wk->shape[i];
		ks_sp_permute(Y, out[0], p->rout, yd, p->y_perm);
	}
	if (p->bias_tail && p->tail > 0)
		for (int64_t i = 0; i < nout; i++)
			out[0][i] += p->bias_tail[i % p->tail];
}

static const ks_op op_attention = {"Attention", 0, luong_infer, luong_load, luong_run, luong_free};
static const ks_op op_additive = {"AdditiveAttention", 0, luong_infer, luong_load, luong_run, luong_free};
static const ks_op op_mha = {"MultiHeadAttention", 0, mha_infer, mha_load, mha_run, mha_free};
static const ks_op op_einsum = {"EinsumDense", KS_OP_POST_ACTIVATION, einsum_infer, einsum_load, einsum_run,
	einsum_free};

const ks_op *const ks_ops_attn[] = {
	&op_attention, &op_additive, &op_mha, &op_einsum,
	NULL,
};
