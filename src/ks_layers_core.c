/* ks_layers_core: InputLayer, Dense, Embedding, Rescaling and the layers
 * that are the identity at inference (see ks_ops.h). Activation is in
 * ks_layers_act.
 *
 * Keras 1 spellings are accepted where they differ only in names: Dense
 * output_dim/bias and weights W/b, Embedding W, Dropout p. Layers that are
 * the identity at inference (Dropout, SpatialDropout*, GaussianNoise,
 * GaussianDropout, AlphaDropout, ActivityRegularization, Masking, Identity,
 * and the Random* augmentation layers) produce no copy. Masking is the
 * identity because kerascope does not model masks: layers downstream of a
 * mask compute every step as valid (the planner notes where that matters).
 *
 * Embedding ids arrive as float32 and are truncated toward zero like Keras'
 * cast to int32. An id outside [0, input_dim) has no row: Keras raises on CPU
 * and returns zeros on GPU; we write NaN into that row so the problem shows in
 * the output rather than passing as a plausible number (`kerascope predict`
 * refuses such ids before running, as Keras on CPU does).
 */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <string.h>

#include <cblas.h>

#include "ks_cfg.h"
#include "ks_ops.h"
#include "ks_util.h"

/* ---- helpers ---- */

/* A weight by any of its spellings, else by position when the layer has
 * exactly n weights whose names carry no meaning (var_<i>). */
static const ks_weight *weight_any(const ks_op_call *c, const char *const *names, int pos, int n)
{
	for (int k = 0; names[k]; k++) {
		const ks_weight *w = ks_op_weight_meta(c, names[k]);
		if (w)
			return w;
	}
	if (c->layer->n_weights == n && pos < n &&
	    strncmp(c->layer->weights[pos].name, "var_", 4) == 0)
		return &c->layer->weights[pos];
	return NULL;
}

static int check_shape(const ks_op_call *c, const ks_weight *w, int rank, const int64_t *shape,
                       ks_err *err)
{
	return ks_op_check_weight(c, w->name, rank, shape, err);
}

static int read_weight(const ks_op_call *c, const ks_weight *w, int rank, const int64_t *shape,
                       float **out, ks_err *err)
{
	return ks_op_read_weight(c, w->name, rank, shape, out, err);
}

static size_t rows_of(const ks_shape *s)
{
	size_t n = 1;
	for (int i = 0; i < s->rank - 1; i++)
		n *= (size_t)s->d[i];
	return n;
}

/* ---- InputLayer (the planner feeds it; this entry exists for lookups) ---- */

static int input_infer(ks_op_call *c, ks_err *err)
{
	int64_t d[KS_MAX_RANK];
	int rank = -1;
	if (ks_cfg_shape(c->config, "batch_shape", KS_MAX_RANK, d, &rank, err) < 0)
		return -1;
	if (rank < 0 && ks_cfg_shape(c->config, "batch_input_shape", KS_MAX_RANK, d, &rank, err) < 0)
		return -1;
	if (rank < 1)
		return ks_fail(err, "the config gives no input shape");
	c->n_out = 1;
	c->out[0].rank = rank;
	memcpy(c->out[0].d, d, sizeof(int64_t) * rank);
	return 0;
}

static void input_run(const ks_op_call *c, const float *const *in, float *const *out, float *s)
{
}

static const ks_op op_input = {"InputLayer", 0, input_infer, NULL, input_run, NULL};

/* ---- identity layers ---- */

static int identity_infer(ks_op_call *c, ks_err *err)
{
	if (c->n_in != 1)
		return ks_fail(err, "expects 1 input, got %d", c->n_in);
	c->n_out = 1;
	c->out[0] = c->in[0];
	return 0;
}

static void identity_run(const ks_op_call *c, const float *const *in, float *const *out, float *s)
{
	int64_t n = ks_shape_numel(&c->out[0]);
	if (out[0] != in[0])
		memcpy(out[0], in[0], (size_t)n * sizeof(float));
}

#define IDENTITY_OP(var, name) \
	static const ks_op var = {name, KS_OP_IDENTITY | KS_OP_INPLACE_OK, identity_infer, NULL, identity_run, NULL}
IDENTITY_OP(op_dropout, "Dropout");
IDENTITY_OP(op_sdrop1, "SpatialDropout1D");
IDENTITY_OP(op_sdrop2, "SpatialDropout2D");
IDENTITY_OP(op_sdrop3, "SpatialDropout3D");
IDENTITY_OP(op_gnoise, "GaussianNoise");
IDENTITY_OP(op_gdrop, "GaussianDropout");
IDENTITY_OP(op_adrop, "AlphaDropout");
IDENTITY_OP(op_actreg, "ActivityRegularization");
IDENTITY_OP(op_masking, "Masking");
IDENTITY_OP(op_identity, "Identity");
/* Random augmentation layers return their input unchanged at inference
 * (training=False) in Keras 2 and 3. */
IDENTITY_OP(op_rflip, "RandomFlip");
IDENTITY_OP(op_rrot, "RandomRotation");
IDENTITY_OP(op_rzoom, "RandomZoom");
IDENTITY_OP(op_rtrans, "RandomTranslation");
IDENTITY_OP(op_rcontrast, "RandomContrast");
IDENTITY_OP(op_rbright, "RandomBrightness");
IDENTITY_OP(op_rheight, "RandomHeight");
IDENTITY_OP(op_rwidth, "RandomWidth");
IDENTITY_OP(op_rsat, "RandomSaturation");
IDENTITY_OP(op_rhue, "RandomHue");
IDENTITY_OP(op_rsharp, "RandomSharpness");
IDENTITY_OP(op_rgray, "RandomGrayscale");
IDENTITY_OP(op_rshear, "RandomShear");
IDENTITY_OP(op_rerase, "RandomErasing");
IDENTITY_OP(op_rblur, "RandomGaussianBlur");
IDENTITY_OP(op_rpersp, "RandomPerspective");
IDENTITY_OP(op_rinvert, "RandomInvert");

/* ---- Dense ---- */

typedef struct dense {
	int64_t in, units;
	float *kernel;  /* (in, units) */
	float *bias;    /* (units) or NULL */
} dense;

static int dense_config(const ks_op_call *c, int64_t *units, bool *use_bias, ks_err *err)
{
	static const char *const ukeys[] = {"units", "output_dim", NULL};
	const json_t *u = ks_cfg_get_any(c->config, ukeys);
	bool b1 = true;

	if (!u || !json_is_number(u))
		return ks_fail(err, "config has no units");
	if (ks_cfg_int(c->config, json_object_get(c->config, "units") ? "units" : "output_dim", 0,
	               units, err) < 0)
		return -1;
	if (*units <= 0)
		return ks_fail(err, "units must be positive, not %lld", (long long)*units);
	if (ks_cfg_bool(c->config, "bias", true, &b1, err) < 0 ||
	    ks_cfg_bool(c->config, "use_bias", b1, use_bias, err) < 0)
		return -1;
	return 0;
}

static const char *const kernel_names[] = {"kernel", "W", NULL};
static const char *const bias_names[] = {"bias", "b", NULL};

static int dense_infer(ks_op_call *c, ks_err *err)
{
	int64_t units;
	bool use_bias;
	const ks_weight *wk, *wb;

	if (c->n_in != 1)
		return ks_fail(err, "expects 1 input, got %d", c->n_in);
	if (c->in[0].rank < 2)
		return ks_fail(err, "needs an input of rank >= 2 (batch, ..., features)");
	if (dense_config(c, &units, &use_bias, err) < 0)
		return -1;
	int64_t in = c->in[0].d[c->in[0].rank - 1];
	c->n_out = 1;
	c->out[0] = c->in[0];
	c->out[0].d[c->in[0].rank - 1] = units;
	wk = weight_any(c, kernel_names, 0, use_bias ? 2 : 1);
	if (!wk)
		return ks_fail(err, "weight 'kernel' is missing");
	if (in >= 0) {
		int64_t ks[2] = {in, units};
		if (check_shape(c, wk, 2, ks, err) < 0)
			return -1;
	} else if (wk->rank != 2 || wk->shape[1] != units) {
		return ks_fail(err, "weight '%s' does not have %lld columns", wk->name, (long long)units);
	}
	if (use_bias) {
		wb = weight_any(c, bias_names, 1, 2);
		if (!wb)
			return ks_fail(err, "weight 'bias' is missing (use_bias is true)");
		if (check_shape(c, wb, 1, &units, err) < 0)
			return -1;
	}
	return 0;
}

static int dense_load(ks_op_call *c, ks_err *err)
{
	int64_t units;
	bool use_bias;
	dense *d;

	if (dense_config(c, &units, &use_bias, err) < 0)
		return -1;
	d = ks_xcalloc(1, sizeof *d);
	c->priv = d;
	d->units = units;
	d->in = c->in[0].d[c->in[0].rank - 1];
	/* BLAS takes int dimensions */
	if (d->in > INT_MAX || units > INT_MAX || rows_of(&c->in[0]) > INT_MAX)
		return ks_fail(err, "too large for one matrix product");
	int64_t ks[2] = {d->in, units};
	if (read_weight(c, weight_any(c, kernel_names, 0, use_bias ? 2 : 1), 2, ks, &d->kernel, err) < 0)
		return -1;
	if (use_bias && read_weight(c, weight_any(c, bias_names, 1, 2), 1, &units, &d->bias, err) < 0)
		return -1;
	return 0;
}

/* y[r, :] = x[r, :] . kernel + bias, over every leading index r. */
static void dense_run(const ks_op_call *c, const float *const *in, float *const *out, float *s)
{
	const dense *d = c->priv;
	size_t rows = rows_of(&c->in[0]);
	float *y = out[0];

	if (rows == 0)
		return;
	/* One row (batch 1): sgemv streams the kernel once, where sgemm first
	 * copies it into packed panels; for VGG16's 411 MB fc1 that is 3x faster. */
	if (rows == 1)
		cblas_sgemv(CblasRowMajor, CblasTrans, (int)d->in, (int)d->units, 1.0f, d->kernel,
		            (int)d->units, in[0], 1, 0.0f, y, 1);
	else
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)d->units, (int)d->in,
		            1.0f, in[0], (int)d->in, d->kernel, (int)d->units, 0.0f, y, (int)d->units);
	if (d->bias)
		for (size_t r = 0; r < rows; r++)
			for (int64_t j = 0; j < d->units; j++)
				y[r * (size_t)d->units + (size_t)j] += d->bias[j];
}

static void dense_free(ks_op_call *c)
{
	dense *d = c->priv;
	if (d) {
		free(d->kernel);
		free(d->bias);
		free(d);
	}
	c->priv = NULL;
}

static const ks_op op_dense = {"Dense", KS_OP_POST_ACTIVATION, dense_infer, dense_load, dense_run, dense_free};

/* ---- Embedding ---- */

typedef struct embedding {
	int64_t vocab, dim;
	float *table;  /* (vocab, dim) */
} embedding;

static const char *const emb_names[] = {"embeddings", "W", NULL};

static int emb_config(const ks_op_call *c, int64_t *vocab, int64_t *dim, ks_err *err)
{
	if (ks_cfg_int(c->config, "input_dim", 0, vocab, err) < 0 ||
	    ks_cfg_int(c->config, "output_dim", 0, dim, err) < 0)
		return -1;
	if (*vocab <= 0 || *dim <= 0)
		return ks_fail(err, "input_dim and output_dim must be positive");
	return 0;
}

static int emb_infer(ks_op_call *c, ks_err *err)
{
	int64_t vocab, dim;
	const ks_weight *w;

	if (c->n_in != 1)
		return ks_fail(err, "expects 1 input, got %d", c->n_in);
	if (c->in[0].rank + 1 > KS_MAX_RANK)
		return ks_fail(err, "input rank %d is too large", c->in[0].rank);
	if (emb_config(c, &vocab, &dim, err) < 0)
		return -1;
	w = weight_any(c, emb_names, 0, 1);
	if (!w)
		return ks_fail(err, "weight 'embeddings' is missing");
	int64_t ws[2] = {vocab, dim};
	if (check_shape(c, w, 2, ws, err) < 0)
		return -1;
	c->n_out = 1;
	c->out[0] = c->in[0];
	c->out[0].d[c->in[0].rank] = dim;
	c->out[0].rank = c->in[0].rank + 1;
	return 0;
}

static int emb_load(ks_op_call *c, ks_err *err)
{
	embedding *e = ks_xcalloc(1, sizeof *e);
	c->priv = e;
	if (emb_config(c, &e->vocab, &e->dim, err) < 0)
		return -1;
	int64_t ws[2] = {e->vocab, e->dim};
	return read_weight(c, weight_any(c, emb_names, 0, 1), 2, ws, &e->table, err);
}

static void emb_run(const ks_op_call *c, const float *const *in, float *const *out, float *s)
{
	const embedding *e = c->priv;
	int64_t n = ks_shape_numel(&c->in[0]);
	size_t dim = (size_t)e->dim;

	for (int64_t i = 0; i < n; i++) {
		float x = in[0][i];
		float *y = out[0] + (size_t)i * dim;
		/* Keras casts to int32: truncation toward zero. */
		if (x > -1.0f && x < (float)e->vocab) {
			int64_t id = (int64_t)x;
			memcpy(y, e->table + (size_t)id * dim, dim * sizeof(float));
		} else {
			for (size_t k = 0; k < dim; k++)
				y[k] = NAN;
		}
	}
}

static void emb_free(ks_op_call *c)
{
	embedding *e = c->priv;
	if (e) {
		free(e->table);
		free(e);
	}
	c->priv = NULL;
}

static const ks_op op_embedding = {"Embedding", 0, emb_infer, emb_load, emb_run, emb_free};

/* ---- Rescaling: y = x * scale + offset (scalars or per-last-axis lists) ---- */

typedef struct rescale {
	size_t n_scale, n_offset; /* 1 or the last axis length */
	float *scale, *offset;
} rescale;

static int read_param(const ks_op_call *c, const char *key, double def, int64_t last, float **vals,
                      size_t *n, ks_err *err)
{
	const json_t *v = json_object_get(c->config, key);
	if (json_is_array(v)) {
		size_t len = json_array_size(v);
		if (len != 1 && (last < 0 || (int64_t)len != last))
			return ks_fail(err, "%s has %zu values but the last axis has %lld", key, len,
			               (long long)last);
		if (vals)
			*vals = ks_xmalloc(sizeof(float) * (len ? len : 1));
		for (size_t i = 0; i < len; i++) {
			const json_t *e = json_array_get(v, i);
			if (!json_is_number(e))
				return ks_fail(err, "%s should hold numbers", key);
			if (vals)
				(*vals)[i] = (float)json_number_value(e);
		}
		*n = len;
		return 0;
	}
	double d;
	if (ks_cfg_double(c->config, key, def, &d, err) < 0)
		return -1;
	if (vals) {
		*vals = ks_xmalloc(sizeof(float));
		(*vals)[0] = (float)d;
	}
	*n = 1;
	return 0;
}

static int rescale_infer(ks_op_call *c, ks_err *err)
{
	size_t n;
	if (c->n_in != 1)
		return ks_fail(err, "expects 1 input, got %d", c->n_in);
	int64_t last = c->in[0].rank > 0 ? c->in[0].d[c->in[0].rank - 1] : 1;
	if (read_param(c, "scale", 1.0, last, NULL, &n, err) < 0 ||
	    read_param(c, "offset", 0.0, last, NULL, &n, err) < 0)
		return -1;
	c->n_out = 1;
	c->out[0] = c->in[0];
	return 0;
}

static int rescale_load(ks_op_call *c, ks_err *err)
{
	rescale *r = ks_xcalloc(1, sizeof *r);
	int64_t last = c->in[0].rank > 0 ? c->in[0].d[c->in[0].rank - 1] : 1;
	c->priv = r;
	if (read_param(c, "scale", 1.0, last, &r->scale, &r->n_scale, err) < 0 ||
	    read_param(c, "offset", 0.0, last, &r->offset, &r->n_offset, err) < 0)
		return -1;
	return 0;
}

static void rescale_run(const ks_op_call *c, const float *const *in, float *const *out, float *s)
{
	const rescale *r = c->priv;
	int64_t n = ks_shape_numel(&c->in[0]);
	size_t last = c->in[0].rank > 0 ? (size_t)c->in[0].d[c->in[0].rank - 1] : 1;

	for (int64_t i = 0; i < n; i++) {
		size_t j = last ? (size_t)i % last : 0;
		float sc = r->scale[r->n_scale == 1 ? 0 : j];
		float of = r->offset[r->n_offset == 1 ? 0 : j];
		out[0][i] = in[0][i] * sc + of;
	}
}

static void rescale_free(ks_op_call *c)
{
	rescale *r = c->priv;
	if (r) {
		free(r->scale);
		free(r->offset);
		free(r);
	}
	c->priv = NULL;
}

static const ks_op op_rescaling = {"Rescaling", KS_OP_INPLACE_OK, rescale_infer, rescale_load,
                                   rescale_run, rescale_free};

const ks_op *const ks_ops_core[] = {
	&op_input, &op_dense, &op_embedding, &op_rescaling,
	&op_dropout, &op_sdrop1, &op_sdrop2, &op_sdrop3, &op_gnoise, &op_gdrop, &op_adrop,
	&op_actreg, &op_masking, &op_identity,
	&op_rflip, &op_rrot, &op_rzoom, &op_rtrans, &op_rcontrast, &op_rbright, &op_rheight,
	&op_rwidth, &op_rsat, &op_rhue, &op_rsharp, &op_rgray, &op_rshear, &op_rerase, &op_rblur,
	&op_rpersp, &op_rinvert,
	NULL,
};
