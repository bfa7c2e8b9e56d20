/* ks_layers_norm: normalization layers at inference.
 *
 *   BatchNormalization   (x - moving_mean) / sqrt(moving_variance + eps) * gamma + beta
 *                        over the config `axis` (int or list); eps default 1e-3;
 *                        center/scale False drop beta/gamma from the weights.
 *                        SyncBatchNormalization is the same at inference.
 *                        Keras 1: weights gamma, beta, running_mean, running_std
 *                        (despite the name a variance); mode 0 as above, mode 1
 *                        sample-wise, mode 2 batch statistics even at test time.
 *   LayerNormalization   per-sample mean/variance over `axis`; Keras 3 rms_scaling
 *                        is x * rsqrt(variance + eps) * gamma (what Keras computes).
 *   RMSNormalization     x * rsqrt(mean(x^2) + eps) * scale (Keras >= 3.9).
 *   GroupNormalization   per-sample statistics over groups of channels
 *                        (also tensorflow-addons' and keras-contrib's
 *                        InstanceNormalization: one channel per group).
 *   UnitNormalization    x * rsqrt(max(sum(x^2), 1e-12)) over `axis`.
 *   Normalization        (x - mean) / max(sqrt(variance), 1e-7), or the inverse
 *                        with invert=True; mean/variance from the weights (adapt)
 *                        or from the config.
 *
 * Weights are taken by position in Keras' order (gamma, beta, then the
 * non-trainable statistics), checked by element count against the kept axes.
 * Masks are not modelled.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ks_cfg.h"
#include "ks_ops.h"
#include "ks_util.h"

/* Reads layer weight idx into a new buffer of exactly n floats (a scalar
 * weight may stand for all n when allow_scalar). */
static int read_param(const ks_op_call *c, int idx, int64_t n, bool allow_scalar, float **out, ks_err *err)
{
	const ks_weight *w;
	int64_t wn;
	float *buf;
	char got[128];

	*out = NULL;
	if (idx >= c->layer->n_weights)
		return ks_fail(err, "layer %s (%s): weight %d is missing (the layer has %d)", c->layer->name,
		               c->layer->class_name, idx + 1, c->layer->n_weights);
	w = &c->layer->weights[idx];
	if (!ks_numel(w->shape, w->rank, &wn) || (wn != n && !(allow_scalar && wn == 1)))
		return ks_fail(err, "layer %s (%s): weight '%s' has shape %s but the config needs %lld values",
		               c->layer->name, c->layer->class_name, w->name,
		               ks_shape_str(w->shape, w->rank, got, sizeof got), (long long)n);
	buf = ks_xmalloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
	if (ks_op_read_into(c, w, buf, err) < 0) {
		free(buf);
		return -1;
	}
	for (int64_t i = wn; i < n; i++)
		buf[i] = buf[0];
	*out = buf;
	return 0;
}

/* Checks weight idx holds n values (n < 0: unknown, skip). */
static int check_param(const ks_op_call *c, int idx, int64_t n, ks_err *err)
{
	const ks_weight *w;
	int64_t wn;
	char got[128];

	if (idx >= c->layer->n_weights)
		return ks_fail(err, "layer %s (%s): weight %d is missing (the layer has %d)", c->layer->name,
		               c->layer->class_name, idx + 1, c->layer->n_weights);
	w = &c->layer->weights[idx];
	if (n >= 0 && (!ks_numel(w->shape, w->rank, &wn) || wn != n))
		return ks_fail(err, "layer %s (%s): weight '%s' has shape %s but the config needs %lld values",
		               c->layer->name, c->layer->class_name, w->name,
		               ks_shape_str(w->shape, w->rank, got, sizeof got), (long long)n);
	return 0;
}

/* The axes of config key "axis" (int, list, or null = none) resolved against
 * rank, sorted, without duplicates; the batch axis is refused. */
static int parse_axes(const ks_op_call *c, const json_t *v, int rank, int *axes, int *n, ks_err *err)
{
	bool used[KS_MAX_RANK] = {false};
	size_t i;
	const json_t *e;

	*n = 0;
	if (!v || json_is_null(v))
		return 0;
	if (json_is_integer(v)) {
		int64_t a = json_integer_value(v);
		if (a < 0)
			a += rank;
		if (a <= 0 || a >= rank)
			return ks_fail(err, "layer %s (%s): axis %lld is out of range for a rank-%d input",
			               c->layer->name, c->layer->class_name, (long long)json_integer_value(v), rank);
		used[a] = true;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			int64_t a;
			if (!json_is_integer(e))
				return ks_op_fail(c, err, "'axis' should be an integer or a list of integers");
			a = json_integer_value(e);
			if (a < 0)
				a += rank;
			if (a <= 0 || a >= rank)
				return ks_fail(err, "layer %s (%s): axis %lld is out of range for a rank-%d input",
				               c->layer->name, c->layer->class_name, (long long)json_integer_value(e), rank);
			used[a] = true;
		}
	} else {
		return ks_op_fail(c, err, "'axis' should be an integer or a list of integers");
	}
	for (int a = 1; a < rank; a++)
		if (used[a])
			axes[(*n)++] = a;
	return 0;
}

/* Splits a shape into outer x C x inner around contiguous axes; false when
 * the axes are not contiguous. C is -1 if any of the axes is unknown. */
static bool split3(const ks_shape *s, const int *axes, int n, int64_t *outer, int64_t *C, int64_t *inner)
{
	int64_t o = 1, m = 1, in = 1;
	if (n == 0) {
		*C = 1;
		*outer = ks_shape_numel(s);
		*inner = 1;
		return true;
	}
	for (int i = 1; i < n; i++)
		if (axes[i] != axes[i - 1] + 1)
			return false;
	for (int d = 0; d < s->rank; d++) {
		int64_t v = s->d[d];
		int64_t *acc = d < axes[0] ? &o : d <= axes[n - 1] ? &m : &in;
		if (v < 0 || *acc < 0)
			*acc = -1;
		else
			*acc *= v;
	}
	*outer = o;
	*C = m;
	*inner = in;
	return true;
}

/* parse_axes of config "axis", which is -1 when absent. */
static int config_axes(const ks_op_call *c, int *axes, int *n, ks_err *err)
{
	const json_t *axis = json_object_get(c->config, "axis");
	json_t *def;
	int rc;

	if (axis)
		return parse_axes(c, axis, c->in[0].rank, axes, n, err);
	def = json_integer(-1);
	rc = parse_axes(c, def, c->in[0].rank, axes, n, err);
	json_decref(def);
	return rc;
}

/* config_axes for a layer that normalises over one block of adjacent axes
 * (at least one); *C is the block's size (-1 if unknown). */
static int block_axes(const ks_op_call *c, int *axes, int *n, int64_t *C, ks_err *err)
{
	int64_t outer, inner;

	if (config_axes(c, axes, n, err) < 0)
		return -1;
	if (*n == 0)
		return ks_op_fail(c, err, "'axis' is empty");
	if (!split3(&c->in[0], axes, *n, &outer, C, &inner))
		return ks_op_fail(c, err, "normalising over non-adjacent axes is not supported");
	return 0;
}

static void copy_shape_out(ks_op_call *c)
{
	c->n_out = 1;
	c->out[0] = c->in[0];
	c->scratch_floats = 0;
}

static int need_one_input(const ks_op_call *c, ks_err *err)
{
	if (c->n_in != 1 || c->in[0].rank < 2)
		return ks_op_fail(c, err, "needs one input with a batch axis");
	return 0;
}

/* ------------------------------------------------------------------ */
/* BatchNormalization and Normalization: y = x * a[c] + b[c]            */

typedef struct affine {
	int axes[KS_MAX_RANK], n_axes;
	int64_t C;               /* values per parameter (product of the kept axes) */
	int mode;                /* Keras 1 BatchNormalization mode */
	bool scale, center;
	int n_stats;             /* index of moving_mean among the weights */
	double eps;
	bool invert;             /* Normalization(invert=True) */
	const json_t *cfg_mean, *cfg_var; /* Normalization with config values */
	float *a, *b;            /* y = x*a + b (BN mode 0, Normalization) */
	float *gamma, *beta;     /* BN modes 1 and 2 */
} affine;

static void affine_free(ks_op_call *c)
{
	affine *p = c->priv;
	if (p) {
		free(p->a);
		free(p->b);
		free(p->gamma);
		free(p->beta);
	}
	free(p);
	c->priv = NULL;
}

static int bn_infer(ks_op_call *c, ks_err *err)
{
	affine *p;
	int64_t mode = 0;
	int need;
	bool renorm;

	if (need_one_input(c, err) < 0)
		return -1;
	p = ks_xcalloc(1, sizeof *p);
	c->priv = p;
	if (block_axes(c, p->axes, &p->n_axes, &p->C, err) < 0)
		goto fail;
	if (ks_cfg_double(c->config, "epsilon", 1e-3, &p->eps, err) < 0 ||
	    ks_cfg_bool(c->config, "scale", true, &p->scale, err) < 0 ||
	    ks_cfg_bool(c->config, "center", true, &p->center, err) < 0 ||
	    ks_cfg_int(c->config, "mode", 0, &mode, err) < 0 ||
	    ks_cfg_bool(c->config, "renorm", false, &renorm, err) < 0) {
		ks_err_prefix(err, "layer %s", c->layer->name);
		goto fail;
	}
	if (mode < 0 || mode > 2) {
		ks_op_fail(c, err, "unknown Keras 1 BatchNormalization mode");
		goto fail;
	}
	p->mode = (int)mode;
	if (p->mode == 1 && !(c->in[0].rank == 2 && p->axes[0] == 1)) {
		ks_op_fail(c, err, "mode 1 (sample-wise) needs a 2D input");
		goto fail;
	}
	p->n_stats = (p->scale ? 1 : 0) + (p->center ? 1 : 0);
	need = p->n_stats + 2;
	if (c->layer->n_weights != need && !(renorm && c->layer->n_weights > need)) {
		ks_fail(err, "layer %s (%s): has %d weights but the config needs %d", c->layer->name,
		        c->layer->class_name, c->layer->n_weights, need);
		goto fail;
	}
	for (int i = 0; i < need; i++)
		if (check_param(c, i, p->C, err) < 0)
			goto fail;
	copy_shape_out(c);
	return 0;
fail:
	affine_free(c);
	return -1;
}

static int bn_load(ks_op_call *c, ks_err *err)
{
	affine *p = c->priv;
	float *mean = NULL, *var = NULL;
	int64_t C = p->C;
	int k = 0;

	if (C < 0)
		return ks_op_fail(c, err, "the normalised axes must have known sizes");
	if (p->scale && read_param(c, k++, C, false, &p->gamma, err) < 0)
		return -1;
	if (p->center && read_param(c, k++, C, false, &p->beta, err) < 0)
		return -1;
	if (p->mode != 0)
		return 0;
	if (read_param(c, k, C, false, &mean, err) < 0 || read_param(c, k + 1, C, false, &var, err) < 0) {
		free(mean);
		return -1;
	}
	p->a = ks_xmalloc(sizeof(float) * (size_t)(C ? C : 1));
	p->b = ks_xmalloc(sizeof(float) * (size_t)(C ? C : 1));
	/* tf.nn.batch_normalization: inv = rsqrt(var + eps) * gamma;
	 * y = x * inv + (beta - mean * inv). */
	for (int64_t i = 0; i < C; i++) {
		double inv = 1.0 / sqrt((double)var[i] + p->eps);
		if (p->gamma)
			inv *= p->gamma[i];
		p->a[i] = (float)inv;
		p->b[i] = (float)((p->beta ? p->beta[i] : 0.0) - mean[i] * inv);
	}
	free(mean);
	free(var);
	return 0;
}

static void affine_apply(const affine *p, const ks_shape *s, const float *x, float *y)
{
	int64_t outer, C, inner;
	split3(s, p->axes, p->n_axes, &outer, &C, &inner);
	if (inner == 1) { /* channels last: a vectorisable row per position */
		for (int64_t o = 0; o < outer; o++) {
			const float *xr = x + o * C;
			float *yr = y + o * C;
			for (int64_t ch = 0; ch < C; ch++)
				yr[ch] = xr[ch] * p->a[ch] + p->b[ch];
		}
		return;
	}
	for (int64_t o = 0; o < outer; o++)
		for (int64_t ch = 0; ch < C; ch++) {
			const float *xr = x + (o * C + ch) * inner;
			float *yr = y + (o * C + ch) * inner;
			float a = p->a[ch], b = p->b[ch];
			for (int64_t i = 0; i < inner; i++)
				yr[i] = xr[i] * a + b;
		}
}

static void bn_run(const ks_op_call *c, const float *const *in, float *const *out, float *scratch)
{
	const affine *p = c->priv;
	const float *x = in[0];
	float *y = out[0];
	int64_t outer, C, inner;

	if (p->mode == 0) {
		affine_apply(p, &c->in[0], x, y);
		return;
	}
	split3(&c->in[0], p->axes, p->n_axes, &outer, &C, &inner);
	if (p->mode == 1) {
		/* Keras 1 sample-wise: std = sqrt(var + eps); (x - m) / (std + eps) */
		for (int64_t o = 0; o < outer; o++) {
			const float *xr = x + o * C;
			float *yr = y + o * C;
			double m = 0, v = 0, sd;
			for (int64_t i = 0; i < C; i++)
				m += xr[i];
			m /= (double)(C ? C : 1);
			for (int64_t i = 0; i < C; i++)
				v += (xr[i] - m) * (xr[i] - m);
			v /= (double)(C ? C : 1);
			sd = sqrt(v + p->eps) + p->eps;
			for (int64_t i = 0; i < C; i++)
				yr[i] = (float)((p->gamma ? p->gamma[i] : 1.0) * ((xr[i] - m) / sd) + (p->beta ? p->beta[i] : 0.0));
		}
		return;
	}
	/* Keras 1 mode 2: statistics of this batch over every axis but `axis`. */
	for (int64_t ch = 0; ch < C; ch++) {
		double m = 0, v = 0, n = (double)outer * (double)inner, inv;
		for (int64_t o = 0; o < outer; o++)
			for (int64_t i = 0; i < inner; i++)
				m += x[(o * C + ch) * inner + i];
		m /= n > 0 ? n : 1;
		for (int64_t o = 0; o < outer; o++)
			for (int64_t i = 0; i < inner; i++) {
				double d = x[(o * C + ch) * inner + i] - m;
				v += d * d;
			}
		v /= n > 0 ? n : 1;
		inv = 1.0 / sqrt(v + p->eps) * (p->gamma ? p->gamma[ch] : 1.0);
		for (int64_t o = 0; o < outer; o++)
			for (int64_t i = 0; i < inner; i++) {
				int64_t k = (o * C + ch) * inner + i;
				y[k] = (float)((x[k] - m) * inv + (p->beta ? p->beta[ch] : 0.0));
			}
	}
}

/* Normalization: axis may be null (one mean for everything). */
static int norm_infer(ks_op_call *c, ks_err *err)
{
	affine *p;
	int64_t outer, inner;
	const json_t *mv, *vv;

	if (need_one_input(c, err) < 0)
		return -1;
	p = ks_xcalloc(1, sizeof *p);
	c->priv = p;
	if (config_axes(c, p->axes, &p->n_axes, err) < 0)
		goto fail;
	if (!split3(&c->in[0], p->axes, p->n_axes, &outer, &p->C, &inner)) {
		ks_op_fail(c, err, "non-adjacent axes are not supported");
		goto fail;
	}
	if (ks_cfg_bool(c->config, "invert", false, &p->invert, err) < 0) {
		ks_err_prefix(err, "layer %s", c->layer->name);
		goto fail;
	}
	mv = json_object_get(c->config, "mean");
	vv = json_object_get(c->config, "variance");
	if (mv && !json_is_null(mv)) {
		p->cfg_mean = mv;
		p->cfg_var = vv;
	} else {
		if (c->layer->n_weights < 2 || c->layer->n_weights > 3) {
			ks_fail(err, "layer %s (%s): has %d weights but needs mean, variance (and count)", c->layer->name,
			        c->layer->class_name, c->layer->n_weights);
			goto fail;
		}
		if (check_param(c, 0, p->C, err) < 0 || check_param(c, 1, p->C, err) < 0)
			goto fail;
	}
	copy_shape_out(c);
	return 0;
fail:
	affine_free(c);
	return -1;
}

/* Flattens a number or nested list of numbers into n values (a single value
 * is broadcast). */
static int json_floats(const ks_op_call *c, const json_t *v, int64_t n, float *dst, ks_err *err)
{
	int64_t k = 0;
	const json_t *stack[KS_MAX_RANK + 1];
	size_t pos[KS_MAX_RANK + 1];
	int top = 0;

	if (json_is_number(v)) {
		for (int64_t i = 0; i < n; i++)
			dst[i] = (float)json_number_value(v);
		return 0;
	}
	if (!json_is_array(v))
		return ks_op_fail(c, err, "config 'mean'/'variance' should be numbers");
	stack[0] = v;
	pos[0] = 0;
	while (top >= 0) {
		const json_t *e;
		if (pos[top] >= json_array_size(stack[top])) {
			top--;
			continue;
		}
		e = json_array_get(stack[top], pos[top]++);
		if (json_is_number(e)) {
			if (k >= n)
				return ks_op_fail(c, err, "config 'mean'/'variance' has more values than the kept axes");
			dst[k++] = (float)json_number_value(e);
		} else if (json_is_array(e) && top < KS_MAX_RANK) {
			stack[++top] = e;
			pos[top] = 0;
		} else {
			return ks_op_fail(c, err, "config 'mean'/'variance' should be numbers");
		}
	}
	if (k == 1) {
		for (int64_t i = 1; i < n; i++)
			dst[i] = dst[0];
		return 0;
	}
	if (k != n)
		return ks_op_fail(c, err, "config 'mean'/'variance' does not match the kept axes");
	return 0;
}

static int norm_load(ks_op_call *c, ks_err *err)
{
	affine *p = c->priv;
	int64_t C = p->C;
	float *mean = NULL, *var = NULL;

	if (C < 0)
		return ks_op_fail(c, err, "the kept axes must have known sizes");
	if (p->cfg_mean) {
		mean = ks_xmalloc(sizeof(float) * (size_t)(C ? C : 1));
		var = ks_xmalloc(sizeof(float) * (size_t)(C ? C : 1));
		if (json_floats(c, p->cfg_mean, C, mean, err) < 0 || json_floats(c, p->cfg_var, C, var, err) < 0)
			goto fail;
	} else if (read_param(c, 0, C, true, &mean, err) < 0 || read_param(c, 1, C, true, &var, err) < 0) {
		goto fail;
	}
	p->a = ks_xmalloc(sizeof(float) * (size_t)(C ? C : 1));
	p->b = ks_xmalloc(sizeof(float) * (size_t)(C ? C : 1));
	for (int64_t i = 0; i < C; i++) {
		/* Keras: max(sqrt(variance), backend.epsilon() = 1e-7) */
		double sd = sqrt(var[i] > 0 ? (double)var[i] : 0.0);
		if (sd < 1e-7)
			sd = 1e-7;
		if (p->invert) {
			p->a[i] = (float)sd;
			p->b[i] = mean[i];
		} else {
			p->a[i] = (float)(1.0 / sd);
			p->b[i] = (float)(-mean[i] / sd);
		}
	}
	free(mean);
	free(var);
	return 0;
fail:
	free(mean);
	free(var);
	return -1;
}

static void norm_run(const ks_op_call *c, const float *const *in, float *const *out, float *scratch)
{
	affine_apply(c->priv, &c->in[0], in[0], out[0]);
}

/* ------------------------------------------------------------------ */
/* LayerNormalization, RMSNormalization, UnitNormalization              */

enum { LN_LAYER, LN_RMS_VAR, LN_RMS, LN_UNIT };

typedef struct lnorm {
	int kind;
	int axes[KS_MAX_RANK], n_axes;
	int64_t C;
	double eps;
	bool scale, center;
	float *gamma, *beta;
} lnorm;

static void lnorm_free(ks_op_call *c)
{
	lnorm *p = c->priv;
	if (p) {
		free(p->gamma);
		free(p->beta);
	}
	free(p);
	c->priv = NULL;
}

static int lnorm_infer(ks_op_call *c, ks_err *err)
{
	lnorm *p;
	bool rms = false;
	int need;
	const char *cls = c->layer->class_name;

	if (need_one_input(c, err) < 0)
		return -1;
	p = ks_xcalloc(1, sizeof *p);
	c->priv = p;
	if (block_axes(c, p->axes, &p->n_axes, &p->C, err) < 0)
		goto fail;
	if (ks_str_eq(cls, "UnitNormalization")) {
		p->kind = LN_UNIT;
		need = 0;
	} else if (ks_str_eq(cls, "RMSNormalization")) {
		p->kind = LN_RMS;
		if (ks_cfg_double(c->config, "epsilon", 1e-6, &p->eps, err) < 0) {
			ks_err_prefix(err, "layer %s", c->layer->name);
			goto fail;
		}
		p->scale = true;
		need = 1;
	} else {
		if (ks_cfg_double(c->config, "epsilon", 1e-3, &p->eps, err) < 0 ||
		    ks_cfg_bool(c->config, "scale", true, &p->scale, err) < 0 ||
		    ks_cfg_bool(c->config, "center", true, &p->center, err) < 0 ||
		    ks_cfg_bool(c->config, "rms_scaling", false, &rms, err) < 0) {
			ks_err_prefix(err, "layer %s", c->layer->name);
			goto fail;
		}
		p->kind = LN_LAYER;
		if (rms) {
			/* Keras 3: gamma always, no beta; scales by the variance. */
			p->kind = LN_RMS_VAR;
			p->scale = true;
			p->center = false;
		}
		need = (p->scale ? 1 : 0) + (p->center ? 1 : 0);
	}
	if (c->layer->n_weights != need) {
		ks_fail(err, "layer %s (%s): has %d weights but the config needs %d", c->layer->name,
		        c->layer->class_name, c->layer->n_weights, need);
		goto fail;
	}
	for (int i = 0; i < need; i++)
		if (check_param(c, i, p->C, err) < 0)
			goto fail;
	copy_shape_out(c);
	return 0;
fail:
	lnorm_free(c);
	return -1;
}

static int lnorm_load(ks_op_call *c, ks_err *err)
{
	lnorm *p = c->priv;
	int k = 0;
	if (p->C < 0)
		return ks_op_fail(c, err, "the normalised axes must have known sizes");
	if (p->scale && read_param(c, k++, p->C, false, &p->gamma, err) < 0)
		return -1;
	if (p->center && read_param(c, k++, p->C, false, &p->beta, err) < 0)
		return -1;
	return 0;
}

static void lnorm_run(const ks_op_call *c, const float *const *in, float *const *out, float *scratch)
{
	const lnorm *p = c->priv;
	int64_t outer, C, inner;
	const float *x = in[0];
	float *y = out[0];

	split3(&c->in[0], p->axes, p->n_axes, &outer, &C, &inner);
	for (int64_t o = 0; o < outer; o++)
		for (int64_t i = 0; i < inner; i++) {
			const float *xs = x + o * C * inner + i;
			float *ys = y + o * C * inner + i;
			double m = 0, v = 0, inv;
			for (int64_t k = 0; k < C; k++)
				m += xs[k * inner];
			m /= (double)(C ? C : 1);
			if (p->kind == LN_UNIT || p->kind == LN_RMS) {
				for (int64_t k = 0; k < C; k++)
					v += (double)xs[k * inner] * xs[k * inner];
				if (p->kind == LN_UNIT)
					inv = 1.0 / sqrt(v > 1e-12 ? v : 1e-12);
				else
					inv = 1.0 / sqrt(v / (double)(C ? C : 1) + p->eps);
				m = 0;
			} else {
				for (int64_t k = 0; k < C; k++) {
					double d = xs[k * inner] - m;
					v += d * d;
				}
				v /= (double)(C ? C : 1);
				inv = 1.0 / sqrt(v + p->eps);
				if (p->kind == LN_RMS_VAR)
					m = 0; /* x * rsqrt(var + eps) * gamma: not centred */
			}
			for (int64_t k = 0; k < C; k++) {
				double t = (xs[k * inner] - m) * inv;
				if (p->gamma)
					t *= p->gamma[k];
				if (p->beta)
					t += p->beta[k];
				ys[k * inner] = (float)t;
			}
		}
}

/* ------------------------------------------------------------------ */
/* GroupNormalization                                                   */

typedef struct gnorm {
	int axis;
	bool scalar_params;      /* keras-contrib axis=None: one gamma/beta for all */
	int64_t groups, C;
	double eps;
	bool scale, center;
	float *gamma, *beta;
} gnorm;

static void gnorm_free(ks_op_call *c)
{
	gnorm *p = c->priv;
	if (p) {
		free(p->gamma);
		free(p->beta);
	}
	free(p);
	c->priv = NULL;
}

static int gnorm_infer(ks_op_call *c, ks_err *err)
{
	gnorm *p;
	int64_t axis;
	int need;

	if (need_one_input(c, err) < 0)
		return -1;
	p = ks_xcalloc(1, sizeof *p);
	c->priv = p;
	/* InstanceNormalization (tensorflow-addons, keras-contrib) is the
	 * one-channel-per-group case; tfa writes groups = -1. */
	bool inst = ks_str_endswith(c->layer->class_name, "InstanceNormalization");
	const json_t *ax = json_object_get(c->config, "axis");
	if (ks_cfg_int(c->config, "axis", -1, &axis, err) < 0 ||
	    ks_cfg_int(c->config, "groups", inst ? -1 : 32, &p->groups, err) < 0 ||
	    ks_cfg_double(c->config, "epsilon", 1e-3, &p->eps, err) < 0 ||
	    ks_cfg_bool(c->config, "scale", true, &p->scale, err) < 0 ||
	    ks_cfg_bool(c->config, "center", true, &p->center, err) < 0) {
		ks_err_prefix(err, "layer %s", c->layer->name);
		goto fail;
	}
	if (axis < 0)
		axis += c->in[0].rank;
	if (axis <= 0 || axis >= c->in[0].rank) {
		ks_op_fail(c, err, "'axis' is out of range");
		goto fail;
	}
	p->axis = (int)axis;
	p->C = c->in[0].d[axis];
	if (p->groups == -1)
		p->groups = p->C;
	/* keras-contrib's axis=None: one statistic over every non-batch axis and
	 * scalar gamma/beta, i.e. a single group. */
	if (inst && ax && json_is_null(ax)) {
		p->groups = 1;
		p->scalar_params = true;
	}
	if (p->C >= 0 && (p->groups <= 0 || p->groups > p->C || p->C % p->groups != 0)) {
		ks_fail(err, "layer %s (GroupNormalization): %lld groups do not divide %lld channels", c->layer->name,
		        (long long)p->groups, (long long)p->C);
		goto fail;
	}
	need = (p->scale ? 1 : 0) + (p->center ? 1 : 0);
	if (c->layer->n_weights != need) {
		ks_fail(err, "layer %s (%s): has %d weights but the config needs %d", c->layer->name,
		        c->layer->class_name, c->layer->n_weights, need);
		goto fail;
	}
	for (int i = 0; i < need; i++)
		if (check_param(c, i, p->scalar_params ? 1 : p->C, err) < 0)
			goto fail;
	copy_shape_out(c);
	return 0;
fail:
	gnorm_free(c);
	return -1;
}

static int gnorm_load(ks_op_call *c, ks_err *err)
{
	gnorm *p = c->priv;
	int k = 0;
	if (p->C < 0)
		return ks_op_fail(c, err, "the channel axis must have a known size");
	if (p->scale && read_param(c, k++, p->C, p->scalar_params, &p->gamma, err) < 0)
		return -1;
	if (p->center && read_param(c, k++, p->C, p->scalar_params, &p->beta, err) < 0)
		return -1;
	return 0;
}

static void gnorm_run(const ks_op_call *c, const float *const *in, float *const *out, float *scratch)
{
	const gnorm *p = c->priv;
	const ks_shape *s = &c->in[0];
	int64_t B = s->d[0], pre = 1, post = 1, C = p->C, cg = C / p->groups;

	for (int d = 1; d < p->axis; d++)
		pre *= s->d[d];
	for (int d = p->axis + 1; d < s->rank; d++)
		post *= s->d[d];
	for (int64_t b = 0; b < B; b++)
		for (int64_t g = 0; g < p->groups; g++) {
			double m = 0, v = 0, n = (double)pre * (double)cg * (double)post, inv;
			const float *x = in[0] + b * pre * C * post;
			float *y = out[0] + b * pre * C * post;
			for (int64_t q = 0; q < pre; q++)
				for (int64_t ch = g * cg; ch < (g + 1) * cg; ch++)
					for (int64_t r = 0; r < post; r++)
						m += x[(q * C + ch) * post + r];
			m /= n > 0 ? n : 1;
			for (int64_t q = 0; q < pre; q++)
				for (int64_t ch = g * cg; ch < (g + 1) * cg; ch++)
					for (int64_t r = 0; r < post; r++) {
						double d = x[(q * C + ch) * post + r] - m;
						v += d * d;
					}
			v /= n > 0 ? n : 1;
			inv = 1.0 / sqrt(v + p->eps);
			for (int64_t q = 0; q < pre; q++)
				for (int64_t ch = g * cg; ch < (g + 1) * cg; ch++) {
					double a = inv * (p->gamma ? p->gamma[ch] : 1.0);
					double bb = (p->beta ? p->beta[ch] : 0.0) - m * a;
					for (int64_t r = 0; r < post; r++) {
						int64_t k = (q * C + ch) * post + r;
						y[k] = (float)(x[k] * a + bb);
					}
				}
		}
}

static const ks_op op_bn = {"BatchNormalization", KS_OP_INPLACE_OK, bn_infer, bn_load, bn_run, affine_free};
static const ks_op op_norm = {"Normalization", KS_OP_INPLACE_OK, norm_infer, norm_load, norm_run, affine_free};
static const ks_op op_ln = {"LayerNormalization", KS_OP_INPLACE_OK, lnorm_infer, lnorm_load, lnorm_run, lnorm_free};
static const ks_op op_rms = {"RMSNormalization", KS_OP_INPLACE_OK, lnorm_infer, lnorm_load, lnorm_run, lnorm_free};
static const ks_op op_unit = {"UnitNormalization", KS_OP_INPLACE_OK, lnorm_infer, lnorm_load, lnorm_run, lnorm_free};
static const ks_op op_gn = {"GroupNormalization", KS_OP_INPLACE_OK, gnorm_infer, gnorm_load, gnorm_run, gnorm_free};
static const ks_op op_gn_tfa = {"Addons>GroupNormalization", KS_OP_INPLACE_OK, gnorm_infer, gnorm_load, gnorm_run,
	gnorm_free};
static const ks_op op_in_tfa = {"Addons>InstanceNormalization", KS_OP_INPLACE_OK, gnorm_infer, gnorm_load,
	gnorm_run, gnorm_free};
static const ks_op op_in = {"InstanceNormalization", KS_OP_INPLACE_OK, gnorm_infer, gnorm_load, gnorm_run,
	gnorm_free};
static const ks_op op_sync_bn = {"SyncBatchNormalization", KS_OP_INPLACE_OK, bn_infer, bn_load, bn_run,
	affine_free};

const ks_op *const ks_ops_norm[] = {
	&op_bn, &op_sync_bn, &op_norm, &op_ln, &op_rms, &op_unit, &op_gn, &op_gn_tfa, &op_in_tfa, &op_in,
	NULL,
};
