/* ks_layers_shape: layers that move data without arithmetic (see ks_ops.h).
 *
 * Flatten, Reshape, Permute, RepeatVector, the spatial "gathers"
 * ZeroPadding1D/2D/3D, Cropping1D/2D/3D and UpSampling1D/2D/3D (nearest; 2D
 * also bilinear), and the image preprocessing layers Resizing and CenterCrop. A gather maps every output index of each spatial axis to
 * an input index (or none, for zero padding) through small per-axis tables
 * built at infer time, so one loop serves all nine layers.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ks_cfg.h"
#include "ks_ops.h"
#include "ks_spatial.h"
#include "ks_util.h"

static const char *lname(const ks_op_call *c)
{
	return c->layer->name;
}

static const char *lcls(const ks_op_call *c)
{
	return c->layer->class_name;
}

static int one_input(const ks_op_call *c, ks_err *err)
{
	if (c->n_in != 1)
		return ks_fail(err, "layer %s (%s): expects one input, got %d", lname(c), lcls(c), c->n_in);
	return 0;
}

static void copy_run(const ks_op_call *c, const float *const *in, float *const *out, float *scratch)
{
	int64_t n = ks_shape_numel(&c->in[0]);
	(void)scratch;
	if (out[0] != in[0] && n > 0)
		memmove(out[0], in[0], (size_t)n * sizeof(float));
}

static int no_load(ks_op_call *c, ks_err *err)
{
	(void)c;
	(void)err;
	return 0;
}

static void free_priv(ks_op_call *c)
{
	free(c->priv);
	c->priv = NULL;
}

/* ---- Flatten ------------------------------------------------------------ */

typedef struct flat_priv {
	bool permute;
	int rank;
	int perm[KS_MAX_RANK];
} flat_priv;

static int flatten_infer(ks_op_call *c, ks_err *err)
{
	const char *df = NULL;
	const ks_shape *s = &c->in[0];
	flat_priv *p;
	int64_t n = 1;

	free_priv(c);
	if (one_input(c, err) < 0)
		return -1;
	if (s->rank < 1)
		return ks_fail(err, "layer %s (%s): input has no batch axis", lname(c), lcls(c));
	if (ks_cfg_str(c->config, "data_format", NULL, &df, err) < 0)
		return ks_err_prefix(err, "layer %s (%s)", lname(c), lcls(c));
	p = ks_xcalloc(1, sizeof *p);
	c->priv = p;
	/* Keras 2.1+ and 3: channels_first input is made channels_last first.
	 * Keras 1 (no data_format key) flattened as stored. */
	p->permute = df && strcmp(df, "channels_first") == 0 && s->rank > 2;
	p->rank = s->rank;
	if (p->permute) {
		p->perm[0] = 0;
		for (int i = 2; i < s->rank; i++)
			p->perm[i - 1] = i;
		p->perm[s->rank - 1] = 1;
	}
	for (int i = 1; i < s->rank; i++) {
		if (s->d[i] < 0) {
			n = -1;
			break;
		}
		if (s->d[i] && n > INT64_MAX / s->d[i])
			return ks_fail(err, "layer %s (%s): input is too large", lname(c), lcls(c));
		n *= s->d[i];
	}
	c->n_out = 1;
	c->out[0].rank = 2;
	c->out[0].d[0] = s->d[0];
	c->out[0].d[1] = n;
	c->scratch_floats = 0;
	return 0;
}

static void flatten_run(const ks_op_call *c, const float *const *in, float *const *out, float *scratch)
{
	const flat_priv *p = c->priv;
	if (!p->permute || in[0] == out[0]) {
		copy_run(c, in, out, scratch);
		return;
	}
	ks_sp_permute(in[0], out[0], p->rank, c->in[0].d, p->perm);
}

/* ---- Reshape ------------------------------------------------------------ */

static int reshape_infer(ks_op_call *c, ks_err *err)
{
	const ks_shape *s = &c->in[0];
	int64_t t[KS_MAX_RANK], known = 1, total = 1;
	int rank, infer_at = -1;
	char b1[128], b2[128];

	if (one_input(c, err) < 0)
		return -1;
	{
		/* -1 (or null) marks the one axis to infer. */
		const json_t *v = json_object_get(c->config, "target_shape");
		size_t i;
		const json_t *e;
		if (!json_is_array(v) || json_array_size(v) > KS_MAX_RANK - 1)
			return ks_fail(err, "layer %s (%s): target_shape is missing or not a list", lname(c), lcls(c));
		json_array_foreach(v, i, e) {
			if (json_is_null(e))
				t[i] = -1;
			else if (json_is_integer(e) && json_integer_value(e) >= -1)
				t[i] = json_integer_value(e);
			else
				return ks_fail(err, "layer %s (%s): bad target_shape", lname(c), lcls(c));
		}
		rank = (int)json_array_size(v);
	}
	for (int i = 0; i < rank; i++) {
		if (t[i] < 0) {
			if (infer_at >= 0)
				return ks_fail(err, "layer %s (%s): target_shape has more than one -1", lname(c), lcls(c));
			infer_at = i;
		} else {
			if (t[i] && known > INT64_MAX / t[i])
				return ks_fail(err, "layer %s (%s): target_shape is too large", lname(c), lcls(c));
			known *= t[i];
		}
	}
	for (int i = 1; i < s->rank; i++) {
		if (s->d[i] < 0) {
			total = -1;
			break;
		}
		if (s->d[i] && total > INT64_MAX / s->d[i])
			return ks_fail(err, "layer %s (%s): input is too large", lname(c), lcls(c));
		total *= s->d[i];
	}
	if (total >= 0) {
		if (infer_at >= 0) {
			if (known == 0 || total % known)
				return ks_fail(err, "layer %s (%s): cannot reshape input %s into %s", lname(c),
				               lcls(c), ks_shape_str(s->d + 1, s->rank - 1, b1, sizeof b1),
				               ks_shape_str(t, rank, b2, sizeof b2));
			t[infer_at] = total / known;
		} else if (known != total) {
			return ks_fail(err, "layer %s (%s): cannot reshape input %s (%lld values) into %s",
			               lname(c), lcls(c), ks_shape_str(s->d + 1, s->rank - 1, b1, sizeof b1),
			               (long long)total, ks_shape_str(t, rank, b2, sizeof b2));
		}
	}
	c->n_out = 1;
	c->out[0].rank = rank + 1;
	c->out[0].d[0] = s->d[0];
	for (int i = 0; i < rank; i++)
		c->out[0].d[i + 1] = t[i];
	c->scratch_floats = 0;
	return 0;
}

/* ---- Permute ------------------------------------------------------------ */

typedef struct perm_priv {
	int perm[KS_MAX_RANK];
} perm_priv;

static int permute_infer(ks_op_call *c, ks_err *err)
{
	const ks_shape *s = &c->in[0];
	const json_t *v = json_object_get(c->config, "dims");
	perm_priv *p;
	bool seen[KS_MAX_RANK] = {false};
	size_t i;
	const json_t *e;

	free_priv(c);
	if (one_input(c, err) < 0)
		return -1;
	if (!json_is_array(v) || (int)json_array_size(v) != s->rank - 1)
		return ks_fail(err, "layer %s (%s): dims should list the %d non-batch axes", lname(c),
		               lcls(c), s->rank - 1);
	p = ks_xcalloc(1, sizeof *p);
	c->priv = p;
	p->perm[0] = 0;
	json_array_foreach(v, i, e) {
		int64_t a = json_is_integer(e) ? json_integer_value(e) : -1;
		if (a < 1 || a >= s->rank || seen[a])
			return ks_fail(err, "layer %s (%s): dims is not a permutation of 1..%d", lname(c),
			               lcls(c), s->rank - 1);
		seen[a] = true;
		p->perm[i + 1] = (int)a;
	}
	c->n_out = 1;
	c->out[0].rank = s->rank;
	for (int k = 0; k < s->rank; k++)
		c->out[0].d[k] = s->d[p->perm[k]];
	c->scratch_floats = 0;
	return 0;
}

static void permute_run(const ks_op_call *c, const float *const *in, float *const *out, float *scratch)
{
	const perm_priv *p = c->priv;
	(void)scratch;
	ks_sp_permute(in[0], out[0], c->in[0].rank, c->in[0].d, p->perm);
}

/* ---- RepeatVector ------------------------------------------------------- */

static int repeat_infer(ks_op_call *c, ks_err *err)
{
	const ks_shape *s = &c->in[0];
	int64_t n;

	if (one_input(c, err) < 0)
		return -1;
	if (s->rank != 2)
		return ks_fail(err, "layer %s (%s): expects a 2-D input (batch, features)", lname(c), lcls(c));
	if (ks_cfg_int(c->config, "n", -1, &n, err) < 0)
		return ks_err_prefix(err, "layer %s (%s)", lname(c), lcls(c));
	if (n < 0 || n > ((int64_t)1 << 30))
		return ks_fail(err, "layer %s (%s): 'n' is missing or out of range", lname(c), lcls(c));
	c->n_out = 1;
	c->out[0].rank = 3;
	c->out[0].d[0] = s->d[0];
	c->out[0].d[1] = n;
	c->out[0].d[2] = s->d[1];
	c->scratch_floats = 0;
	return 0;
}

static void repeat_run(const ks_op_call *c, const float *const *in, float *const *out, float *scratch)
{
	const int64_t batch = c->in[0].d[0], f = c->in[0].d[1], n = c->out[0].d[1];
	(void)scratch;
	for (int64_t b = 0; b < batch; b++)
		for (int64_t r = 0; r < n; r++)
			memcpy(out[0] + (b * n + r) * f, in[0] + b * f, (size_t)f * sizeof(float));
}

/* ---- spatial gathers: ZeroPadding, Cropping, UpSampling ------------------ */

enum gather_kind { G_PAD, G_CROP, G_UP };

typedef struct gather_priv {
	ks_sp in, out;
	bool bilinear;
	bool half_pixel;        /* TF2 resize: (o + 0.5) / scale - 0.5 */
	int64_t *map[KS_SP_MAX];/* output index -> input index, -1 = zero */
	int64_t before[KS_SP_MAX], after[KS_SP_MAX], size[KS_SP_MAX];
} gather_priv;

static void gather_free(ks_op_call *c)
{
	gather_priv *p = c->priv;
	if (p)
		for (int i = 0; i < KS_SP_MAX; i++)
			free(p->map[i]);
	free_priv(c);
}

/* Reads padding/cropping amounts in any Keras spelling into before/after. */
static int read_pairs(const ks_op_call *c, const char *key, int n, int64_t *before, int64_t *after,
                      ks_err *err)
{
	const json_t *v = json_object_get(c->config, key);
	size_t sz;

	for (int i = 0; i < n; i++)
		before[i] = after[i] = 1;
	if (strcmp(key, "cropping") == 0)
		for (int i = 0; i < n; i++)
			before[i] = after[i] = 0;
	if (!v || json_is_null(v))
		return 0;
	if (json_is_integer(v)) {
		for (int i = 0; i < n; i++)
			before[i] = after[i] = json_integer_value(v);
		goto check;
	}
	if (json_is_object(v)) {
		/* Keras 1: {"top_pad":..,"bottom_pad":..,"left_pad":..,"right_pad":..} */
		static const char *const k1d[] = {"left_pad", "right_pad"};
		static const char *const k2d[] = {"top_pad", "bottom_pad", "left_pad", "right_pad"};
		const char *const *keys = n == 1 ? k1d : k2d;
		if (n > 2)
			goto bad;
		for (int i = 0; i < 2 * n; i++) {
			int64_t x;
			if (ks_cfg_int(v, keys[i], 0, &x, err) < 0)
				return ks_err_prefix(err, "layer %s (%s)", lname(c), lcls(c));
			if (i % 2 == 0)
				before[i / 2] = x;
			else
				after[i / 2] = x;
		}
		goto check;
	}
	if (!json_is_array(v))
		goto bad;
	sz = json_array_size(v);
	if (n == 1 && sz == 2 && json_is_integer(json_array_get(v, 0))) {
		before[0] = json_integer_value(json_array_get(v, 0));
		after[0] = json_integer_value(json_array_get(v, 1));
		if (!json_is_integer(json_array_get(v, 1)))
			goto bad;
		goto check;
	}
	if (n == 2 && sz == 4) { /* Keras 1: (top, bottom, left, right) */
		for (int i = 0; i < 4; i++) {
			const json_t *e = json_array_get(v, (size_t)i);
			if (!json_is_integer(e))
				goto bad;
			if (i % 2 == 0)
				before[i / 2] = json_integer_value(e);
			else
				after[i / 2] = json_integer_value(e);
		}
		goto check;
	}
	if ((int)sz != n)
		goto bad;
	for (int i = 0; i < n; i++) {
		const json_t *e = json_array_get(v, (size_t)i);
		if (json_is_integer(e)) {
			before[i] = after[i] = json_integer_value(e);
		} else if (json_is_array(e) && json_array_size(e) == 2 &&
		           json_is_integer(json_array_get(e, 0)) && json_is_integer(json_array_get(e, 1))) {
			before[i] = json_integer_value(json_array_get(e, 0));
			after[i] = json_integer_value(json_array_get(e, 1));
		} else {
			goto bad;
		}
	}
check:
	for (int i = 0; i < n; i++)
		if (before[i] < 0 || after[i] < 0 || before[i] > (1 << 30) || after[i] > (1 << 30))
			return ks_fail(err, "layer %s (%s): '%s' must be non-negative", lname(c), lcls(c), key);
	return 0;
bad:
	return ks_fail(err, "layer %s (%s): cannot read '%s'", lname(c), lcls(c), key);
}

/* Standalone Keras 2.2-2.3 resized with TF1's resize_bilinear (corner
 * aligned to 0, no half-pixel offset); tf.keras and Keras 3 use TF2's. */
static bool legacy_resize(const ks_op_call *c)
{
	const char *v = c->model ? c->model->keras_version : NULL;
	if (!v || strncmp(v, "2.", 2) != 0 || strstr(v, "-tf"))
		return false;
	return atoi(v + 2) < 4;
}

static int gather_infer_kind(ks_op_call *c, int n, enum gather_kind kind, ks_err *err)
{
	gather_priv *p;

	gather_free(c);
	if (one_input(c, err) < 0)
		return -1;
	p = ks_xcalloc(1, sizeof *p);
	c->priv = p;
	if (ks_sp_data_format(c, &p->in.cf, err) < 0 ||
	    ks_sp_from_in(c, 0, n, p->in.cf, false, &p->in, err) < 0)
		return -1;
	for (int i = 0; i < KS_SP_MAX; i++) {
		p->before[i] = p->after[i] = 0;
		p->size[i] = 1;
	}
	if (kind == G_PAD || kind == G_CROP) {
		if (read_pairs(c, kind == G_PAD ? "padding" : "cropping", n, p->before, p->after, err) < 0)
			return -1;
	} else {
		static const char *const szk[] = {"size", "length", NULL};
		int64_t two[KS_SP_MAX] = {2, 2, 2};
		const char *interp = NULL;
		if (ks_sp_ints(c, szk, n, two, p->size, err) < 0)
			return -1;
		for (int i = 0; i < n; i++)
			if (p->size[i] <= 0 || p->size[i] > (1 << 20))
				return ks_fail(err, "layer %s (%s): size must be positive", lname(c), lcls(c));
		if (ks_cfg_str(c->config, "interpolation", "nearest", &interp, err) < 0)
			return ks_err_prefix(err, "layer %s (%s)", lname(c), lcls(c));
		if (strcmp(interp, "bilinear") == 0 && n == 2) {
			p->bilinear = true;
			p->half_pixel = !legacy_resize(c);
		} else if (strcmp(interp, "nearest") != 0) {
			return ks_fail(err, "layer %s (%s): interpolation '%s' is not supported", lname(c),
			               lcls(c), interp);
		}
	}
	p->out = p->in;
	for (int i = 0; i < n; i++) {
		int64_t d = p->in.d[i];
		if (d < 0)
			continue;
		if (kind == G_PAD)
			d += p->before[i] + p->after[i];
		else if (kind == G_CROP)
			d -= p->before[i] + p->after[i];
		else
			d *= p->size[i];
		if (d <= 0)
			return ks_fail(err, "layer %s (%s): cropping %lld+%lld from an axis of %lld leaves nothing",
			               lname(c), lcls(c), (long long)p->before[i], (long long)p->after[i],
			               (long long)p->in.d[i]);
		if (d > ((int64_t)1 << 28))
			return ks_fail(err, "layer %s (%s): output is too large", lname(c), lcls(c));
		p->out.d[i] = d;
	}
	c->n_out = 1;
	ks_sp_to_shape(&p->out, &c->out[0]);
	c->scratch_floats = 0;
	if (ks_sp_pixels(&p->in) < 0)
		return 0;
	{
		int64_t tot;
		ks_shape t = c->out[0];
		for (int i = 0; i < t.rank; i++)
			if (t.d[i] < 0)
				t.d[i] = 1;
		if (!ks_numel(t.d, t.rank, &tot) || tot > ((int64_t)1 << 40))
			return ks_fail(err, "layer %s (%s): output is too large", lname(c), lcls(c));
	}
	for (int i = 0; i < KS_SP_MAX; i++) {
		int64_t od = p->out.d[i];
		p->map[i] = ks_xmalloc((size_t)od * sizeof(int64_t));
		for (int64_t o = 0; o < od; o++) {
			int64_t src;
			if (kind == G_PAD)
				src = o - p->before[i];
			else if (kind == G_CROP)
				src = o + p->before[i];
			else
				src = o / p->size[i];
			p->map[i][o] = src >= 0 && src < p->in.d[i] ? src : -1;
		}
	}
	return 0;
}

static int gather_load(ks_op_call *c, ks_err *err)
{
	gather_priv *p = c->priv;
	if (!p || !p->map[0] || p->in.ch < 0)
		return ks_fail(err, "layer %s (%s): shapes must be known to run", lname(c), lcls(c));
	return 0;
}

static void bilinear_run(const gather_priv *p, const float *x, float *y)
{
	const int64_t ch = p->in.ch, ih = p->in.d[0], iw = p->in.d[1], oh = p->out.d[0], ow = p->out.d[1];
	const int64_t pin = ih * iw, pout = oh * ow;
	const int64_t pi = p->in.cf ? 1 : ch, ci = p->in.cf ? pin : 1;
	const int64_t po = p->in.cf ? 1 : ch, co = p->in.cf ? pout : 1;

	for (int64_t r = 0; r < oh; r++) {
		double sy = p->half_pixel ? ((double)r + 0.5) * (double)ih / (double)oh - 0.5
		                          : (double)r * (double)ih / (double)oh;
		int64_t y0, y1;
		float fy;
		if (sy < 0)
			sy = 0;
		y0 = (int64_t)floor(sy);
		if (y0 > ih - 1)
			y0 = ih - 1;
		y1 = y0 + 1 < ih ? y0 + 1 : ih - 1;
		fy = (float)(sy - (double)y0);
		for (int64_t q = 0; q < ow; q++) {
			double sx = p->half_pixel ? ((double)q + 0.5) * (double)iw / (double)ow - 0.5
			                          : (double)q * (double)iw / (double)ow;
			int64_t x0, x1;
			float fx;
			if (sx < 0)
				sx = 0;
			x0 = (int64_t)floor(sx);
			if (x0 > iw - 1)
				x0 = iw - 1;
			x1 = x0 + 1 < iw ? x0 + 1 : iw - 1;
			fx = (float)(sx - (double)x0);
			const float *a = x + (y0 * iw + x0) * pi, *b = x + (y0 * iw + x1) * pi;
			const float *cc = x + (y1 * iw + x0) * pi, *d = x + (y1 * iw + x1) * pi;
			float *o = y + (r * ow + q) * po;
			for (int64_t k = 0; k < ch; k++) {
				float top = a[k * ci] + (b[k * ci] - a[k * ci]) * fx;
				float bot = cc[k * ci] + (d[k * ci] - cc[k * ci]) * fx;
				o[k * co] = top + (bot - top) * fy;
			}
		}
	}
}

static void gather_run(const ks_op_call *c, const float *const *in, float *const *out, float *scratch)
{
	const gather_priv *p = c->priv;
	const int64_t batch = c->in[0].d[0], ch = p->in.ch;
	const int64_t pin = ks_sp_pixels(&p->in), pout = ks_sp_pixels(&p->out);
	const int64_t *m0 = p->map[0], *m1 = p->map[1], *m2 = p->map[2];
	const int64_t ih1 = p->in.d[1], ih2 = p->in.d[2];

	(void)scratch;
	for (int64_t b = 0; b < batch; b++) {
		const float *x = in[0] + b * pin * ch;
		float *y = out[0] + b * pout * ch;
		int64_t opix = 0;
		if (p->bilinear) {
			bilinear_run(p, x, y);
			continue;
		}
		if (p->in.cf) {
			for (int64_t k = 0; k < ch; k++) {
				const float *xc = x + k * pin;
				for (int64_t o0 = 0; o0 < p->out.d[0]; o0++)
					for (int64_t o1 = 0; o1 < p->out.d[1]; o1++)
						for (int64_t o2 = 0; o2 < p->out.d[2]; o2++) {
							bool ok = m0[o0] >= 0 && m1[o1] >= 0 && m2[o2] >= 0;
							*y++ = ok ? xc[(m0[o0] * ih1 + m1[o1]) * ih2 + m2[o2]] : 0.0f;
						}
			}
			continue;
		}
		for (int64_t o0 = 0; o0 < p->out.d[0]; o0++)
			for (int64_t o1 = 0; o1 < p->out.d[1]; o1++)
				for (int64_t o2 = 0; o2 < p->out.d[2]; o2++, opix++) {
					float *yp = y + opix * ch;
					if (m0[o0] >= 0 && m1[o1] >= 0 && m2[o2] >= 0)
						memcpy(yp, x + ((m0[o0] * ih1 + m1[o1]) * ih2 + m2[o2]) * ch,
						       (size_t)ch * sizeof(float));
					else
						memset(yp, 0, (size_t)ch * sizeof(float));
				}
	}
}


/* ---- Resizing, CenterCrop (image preprocessing layers) -----------------
 * Both resample a box of the input (the whole image, or its centred window
 * of the target aspect ratio) to height x width as tf.image.resize does in
 * TF2/Keras 3: half-pixel centres, bilinear or nearest, no antialiasing. */

typedef struct resize_priv {
	bool cf, bilinear;
	int64_t ch, ih, iw, oh, ow;
	int64_t h0, w0, hb, wb; /* source box */
} resize_priv;

/* smart_resize's window: the largest centred box with the target's aspect. */
static void aspect_box(resize_priv *p)
{
	int64_t ch = (int64_t)((double)(p->iw * p->oh) / (double)p->ow);
	int64_t cw = (int64_t)((double)(p->ih * p->ow) / (double)p->oh);
	ch = ch < p->ih ? ch : p->ih;
	cw = cw < p->iw ? cw : p->iw;
	p->hb = ch < 1 ? 1 : ch;
	p->wb = cw < 1 ? 1 : cw;
	p->h0 = (p->ih - p->hb) / 2;
	p->w0 = (p->iw - p->wb) / 2;
}

static int resize_infer(ks_op_call *c, ks_err *err)
{
	const bool center = strcmp(lcls(c), "CenterCrop") == 0;
	int64_t h, w;
	bool crop = false, padr = false, anti = false;
	const char *interp = "bilinear";
	ks_sp in, out;
	resize_priv *p;

	free_priv(c);
	if (one_input(c, err) < 0)
		return -1;
	p = ks_xcalloc(1, sizeof *p);
	c->priv = p;
	if (ks_cfg_int(c->config, "height", -1, &h, err) < 0 || ks_cfg_int(c->config, "width", -1, &w, err) < 0 ||
	    ks_cfg_bool(c->config, "crop_to_aspect_ratio", false, &crop, err) < 0 ||
	    ks_cfg_bool(c->config, "pad_to_aspect_ratio", false, &padr, err) < 0 ||
	    ks_cfg_bool(c->config, "antialias", false, &anti, err) < 0 ||
	    (!center && ks_cfg_str(c->config, "interpolation", "bilinear", &interp, err) < 0))
		return ks_err_prefix(err, "layer %s (%s)", lname(c), lcls(c));
	if (h <= 0 || w <= 0 || h > (1 << 20) || w > (1 << 20))
		return ks_fail(err, "layer %s (%s): height and width must be positive", lname(c), lcls(c));
	if (strcmp(interp, "bilinear") == 0)
		p->bilinear = true;
	else if (strcmp(interp, "nearest") != 0)
		return ks_fail(err, "layer %s (%s): interpolation '%s' is not supported", lname(c), lcls(c), interp);
	if (padr)
		return ks_fail(err, "layer %s (%s): pad_to_aspect_ratio is not supported", lname(c), lcls(c));
	if (ks_sp_data_format(c, &p->cf, err) < 0 || ks_sp_from_in(c, 0, 2, p->cf, false, &in, err) < 0)
		return -1;
	p->ch = in.ch;
	p->ih = in.d[0];
	p->iw = in.d[1];
	p->oh = h;
	p->ow = w;
	out = in;
	out.d[0] = h;
	out.d[1] = w;
	c->n_out = 1;
	ks_sp_to_shape(&out, &c->out[0]);
	c->scratch_floats = 0;
	if (p->ih < 0 || p->iw < 0)
		return center ? ks_fail(err, "layer %s (%s): needs a known image size", lname(c), lcls(c)) : 0;
	if (p->ih == 0 || p->iw == 0)
		return ks_fail(err, "layer %s (%s): empty image", lname(c), lcls(c));
	p->h0 = p->w0 = 0;
	p->hb = p->ih;
	p->wb = p->iw;
	if (center) {
		if (p->ih >= h && p->iw >= w) {
			/* plain crop: int(diff / 2) from the top-left, no resampling */
			p->h0 = (p->ih - h) / 2;
			p->w0 = (p->iw - w) / 2;
			p->hb = h;
			p->wb = w;
		} else {
			aspect_box(p);
		}
	} else if (crop) {
		aspect_box(p);
	}
	if (anti && p->bilinear && (p->hb > h || p->wb > w))
		return ks_fail(err, "layer %s (%s): antialiased downsampling is not supported", lname(c), lcls(c));
	return 0;
}

static void resize_run(const ks_op_call *c, const float *const *in, float *const *out, float *scratch)
{
	const resize_priv *p = c->priv;
	const int64_t B = c->in[0].d[0], ch = p->ch, pin = p->ih * p->iw, pout = p->oh * p->ow;
	const int64_t pi = p->cf ? 1 : ch, ci = p->cf ? pin : 1, po = p->cf ? 1 : ch, co = p->cf ? pout : 1;
	const double sy = (double)p->hb / (double)p->oh, sx = (double)p->wb / (double)p->ow;

	(void)scratch;
	for (int64_t b = 0; b < B; b++) {
		const float *x = in[0] + b * pin * ch;
		float *y = out[0] + b * pout * ch;
		for (int64_t r = 0; r < p->oh; r++)
			for (int64_t q = 0; q < p->ow; q++) {
				float *o = y + (r * p->ow + q) * po;
				if (!p->bilinear) {
					int64_t yy = (int64_t)floor(((double)r + 0.5) * sy);
					int64_t xx = (int64_t)floor(((double)q + 0.5) * sx);
					yy = (yy < p->hb ? yy : p->hb - 1) + p->h0;
					xx = (xx < p->wb ? xx : p->wb - 1) + p->w0;
					const float *src = x + (yy * p->iw + xx) * pi;
					for (int64_t k = 0; k < ch; k++)
						o[k * co] = src[k * ci];
					continue;
				}
				double fy = ((double)r + 0.5) * sy - 0.5, fx = ((double)q + 0.5) * sx - 0.5;
				fy = fy < 0 ? 0 : fy;
				fx = fx < 0 ? 0 : fx;
				int64_t y0 = (int64_t)floor(fy), x0 = (int64_t)floor(fx);
				y0 = y0 < p->hb - 1 ? y0 : p->hb - 1;
				x0 = x0 < p->wb - 1 ? x0 : p->wb - 1;
				int64_t y1 = y0 + 1 < p->hb ? y0 + 1 : p->hb - 1, x1 = x0 + 1 < p->wb ? x0 + 1 : p->wb - 1;
				float ly = (float)(fy - (double)y0), lx = (float)(fx - (double)x0);
				y0 += p->h0;
				y1 += p->h0;
				x0 += p->w0;
				x1 += p->w0;
				const float *a = x + (y0 * p->iw + x0) * pi, *bb = x + (y0 * p->iw + x1) * pi;
				const float *cc = x + (y1 * p->iw + x0) * pi, *d = x + (y1 * p->iw + x1) * pi;
				for (int64_t k = 0; k < ch; k++) {
					float top = a[k * ci] + (bb[k * ci] - a[k * ci]) * lx;
					float bot = cc[k * ci] + (d[k * ci] - cc[k * ci]) * lx;
					o[k * co] = top + (bot - top) * ly;
				}
			}
	}
}

static int resize_load(ks_op_call *c, ks_err *err)
{
	const resize_priv *p = c->priv;
	if (!p || p->ih <= 0 || p->iw <= 0 || p->ch < 0)
		return ks_fail(err, "layer %s (%s): shapes must be known to run", lname(c), lcls(c));
	return 0;
}

#define GATHER(fn, n, kind) \
	static int fn(ks_op_call *c, ks_err *err) { return gather_infer_kind(c, n, kind, err); }
GATHER(zp1_infer, 1, G_PAD)
GATHER(zp2_infer, 2, G_PAD)
GATHER(zp3_infer, 3, G_PAD)
GATHER(cr1_infer, 1, G_CROP)
GATHER(cr2_infer, 2, G_CROP)
GATHER(cr3_infer, 3, G_CROP)
GATHER(up1_infer, 1, G_UP)
GATHER(up2_infer, 2, G_UP)
GATHER(up3_infer, 3, G_UP)

static const ks_op op_flatten = {"Flatten", 0, flatten_infer, no_load, flatten_run, free_priv};
static const ks_op op_reshape = {"Reshape", 0, reshape_infer, no_load, copy_run, NULL};
static const ks_op op_permute = {"Permute", 0, permute_infer, no_load, permute_run, free_priv};
static const ks_op op_repeat = {"RepeatVector", 0, repeat_infer, no_load, repeat_run, NULL};
static const ks_op op_zp1 = {"ZeroPadding1D", 0, zp1_infer, gather_load, gather_run, gather_free};
static const ks_op op_zp2 = {"ZeroPadding2D", 0, zp2_infer, gather_load, gather_run, gather_free};
static const ks_op op_zp3 = {"ZeroPadding3D", 0, zp3_infer, gather_load, gather_run, gather_free};
static const ks_op op_cr1 = {"Cropping1D", 0, cr1_infer, gather_load, gather_run, gather_free};
static const ks_op op_cr2 = {"Cropping2D", 0, cr2_infer, gather_load, gather_run, gather_free};
static const ks_op op_cr3 = {"Cropping3D", 0, cr3_infer, gather_load, gather_run, gather_free};
static const ks_op op_up1 = {"UpSampling1D", 0, up1_infer, gather_load, gather_run, gather_free};
static const ks_op op_up2 = {"UpSampling2D", 0, up2_infer, gather_load, gather_run, gather_free};
static const ks_op op_up3 = {"UpSampling3D", 0, up3_infer, gather_load, gather_run, gather_free};
static const ks_op op_resizing = {"Resizing", 0, resize_infer, resize_load, resize_run, free_priv};
static const ks_op op_centercrop = {"CenterCrop", 0, resize_infer, resize_load, resize_run, free_priv};

const ks_op *const ks_ops_shape[] = {
	&op_flatten, &op_reshape, &op_permute, &op_repeat,
	&op_zp1, &op_zp2, &op_zp3, &op_cr1, &op_cr2, &op_cr3, &op_up1, &op_up2, &op_up3,
	&op_resizing, &op_centercrop,
	NULL,
};
