/* ks_layers_pool: pooling kernels (see ks_ops.h).
 *
 * Max/AveragePooling1D/2D/3D and their Global* forms, in channels_last or
 * channels_first, with Keras 1's pool_length/stride/border_mode spellings.
 * Padding "same" follows TensorFlow: max pooling ignores the padding (pads
 * with -inf) and average pooling divides by the number of real elements.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ks_cfg.h"
#include "ks_ops.h"
#include "ks_spatial.h"
#include "ks_util.h"
#include "ks_vec.h"

typedef struct pool_def {
	const char *cls;
	int n;
	bool max;
	bool global;
} pool_def;

static const pool_def defs[] = {
	{"MaxPooling1D", 1, true, false},
	{"MaxPooling2D", 2, true, false},
	{"MaxPooling3D", 3, true, false},
	{"AveragePooling1D", 1, false, false},
	{"AveragePooling2D", 2, false, false},
	{"AveragePooling3D", 3, false, false},
	{"GlobalMaxPooling1D", 1, true, true},
	{"GlobalMaxPooling2D", 2, true, true},
	{"GlobalMaxPooling3D", 3, true, true},
	{"GlobalAveragePooling1D", 1, false, true},
	{"GlobalAveragePooling2D", 2, false, true},
	{"GlobalAveragePooling3D", 3, false, true},
	/* Keras 2/3 aliases, should a file carry them */
	{"MaxPool1D", 1, true, false},
	{"MaxPool2D", 2, true, false},
	{"MaxPool3D", 3, true, false},
	{"AvgPool1D", 1, false, false},
	{"AvgPool2D", 2, false, false},
	{"AvgPool3D", 3, false, false},
	{"GlobalMaxPool1D", 1, true, true},
	{"GlobalMaxPool2D", 2, true, true},
	{"GlobalMaxPool3D", 3, true, true},
	{"GlobalAvgPool1D", 1, false, true},
	{"GlobalAvgPool2D", 2, false, true},
	{"GlobalAvgPool3D", 3, false, true},
};

typedef struct pool_priv {
	const pool_def *def;
	ks_sp in;
	ks_win w[KS_SP_MAX];
	int64_t pin, pout;
	int mask;               /* KS_MASK_*: GlobalAveragePooling1D's input mask (Keras
	                         * averages over the unmasked steps only) */
	int mask_emb;           /* the Embedding layer for KS_MASK_EMB_ROW0 */
	float *mask_row;        /* its row 0 (load) */
} pool_priv;

static const pool_def *find_def(const char *cls)
{
	for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++)
		if (cls && strcmp(defs[i].cls, cls) == 0)
			return &defs[i];
	return NULL;
}

static void pool_free(ks_op_call *c)
{
	pool_priv *p = c->priv;
	if (p)
		free(p->mask_row);
	free(p);
	c->priv = NULL;
}

static int pool_infer(ks_op_call *c, ks_err *err)
{
	static const char *const pk[] = {"pool_size", "pool_length", NULL};
	static const char *const sk[] = {"strides", "stride", NULL};
	pool_priv *p;
	ks_sp out;
	ks_pad pad = KS_PAD_VALID;
	int64_t k[KS_SP_MAX] = {1, 1, 1}, s[KS_SP_MAX] = {1, 1, 1};
	int64_t two[KS_SP_MAX] = {2, 2, 2};
	bool keepdims = false;
	int n;

	pool_free(c);
	p = ks_xcalloc(1, sizeof *p);
	c->priv = p;
	p->def = find_def(c->layer->class_name);
	if (!p->def)
		return ks_fail(err, "layer %s: %s is not a pooling layer", c->layer->name, c->layer->class_name);
	n = p->def->n;
	if (c->n_in != 1)
		return ks_fail(err, "layer %s (%s): expects one input, got %d", c->layer->name,
		               c->layer->class_name, c->n_in);
	if (ks_sp_data_format(c, &p->in.cf, err) < 0 ||
	    ks_sp_from_in(c, 0, n, p->in.cf, false, &p->in, err) < 0)
		return -1;
	out = p->in;
	if (p->def->global) {
		if (ks_cfg_bool(c->config, "keepdims", false, &keepdims, err) < 0)
			return ks_err_prefix(err, "layer %s (%s)", c->layer->name, c->layer->class_name);
		for (int i = 0; i < KS_SP_MAX; i++) {
			if (ks_win_make(&p->w[i], p->in.d[i], p->in.d[i] > 0 ? p->in.d[i] : 1, 1, 1,
			                KS_PAD_VALID, err) < 0)
				return ks_err_prefix(err, "layer %s (%s)", c->layer->name, c->layer->class_name);
			p->w[i].out = 1;
		}
		if (keepdims) {
			for (int i = 0; i < n; i++)
				out.d[i] = 1;
			ks_sp_to_shape(&out, &c->out[0]);
		} else {
			c->out[0].rank = 2;
			c->out[0].d[0] = p->in.batch;
			c->out[0].d[1] = p->in.ch;
		}
		for (int i = 0; i < n; i++)
			if (p->in.d[i] == 0)
				return ks_fail(err, "layer %s (%s): cannot pool an empty input", c->layer->name,
				               c->layer->class_name);
	} else {
		const json_t *sv = ks_cfg_get_any(c->config, sk);
		if (ks_sp_ints(c, pk, n, two, k, err) < 0)
			return -1;
		if (sv) {
			if (ks_sp_ints(c, sk, n, NULL, s, err) < 0)
				return -1;
		} else {
			memcpy(s, k, sizeof s);
		}
		if (ks_sp_padding(c, false, &pad, err) < 0)
			return -1;
		for (int i = 0; i < KS_SP_MAX; i++) {
			int rc = i < n ? ks_win_make(&p->w[i], p->in.d[i], k[i], s[i], 1, pad, err)
			               : ks_win_make(&p->w[i], 1, 1, 1, 1, KS_PAD_VALID, err);
			if (rc < 0)
				return ks_err_prefix(err, "layer %s (%s)", c->layer->name, c->layer->class_name);
		}
		if (ks_sp_check_fit(c, p->w, n, "pool window", err) < 0)
			return -1;
		for (int i = 0; i < n; i++)
			out.d[i] = p->w[i].out;
		ks_sp_to_shape(&out, &c->out[0]);
	}
	c->n_out = 1;
	c->scratch_floats = 0;
	p->mask = KS_MASK_NONE;
	if (p->def->global && !p->def->max && n == 1 && !p->in.cf)
		p->mask = ks_op_mask_source(c, &p->mask_emb);
	p->pin = ks_sp_pixels(&p->in);
	p->pout = -1;
	if (p->pin >= 0) {
		int64_t tot;
		ks_shape t = c->in[0];
		t.d[0] = t.d[0] < 0 ? 1 : t.d[0];
		if (!ks_numel(t.d, t.rank, &tot) || tot > ((int64_t)1 << 40))
			return ks_fail(err, "layer %s (%s): input is too large", c->layer->name,
			               c->layer->class_name);
		p->pout = p->w[0].out * p->w[1].out * p->w[2].out;
	}
	return 0;
}

static int pool_load(ks_op_call *c, ks_err *err)
{
	pool_priv *p = c->priv;
	if (!p || p->pin < 0 || p->pout < 0 || p->in.ch < 0)
		return ks_fail(err, "layer %s (%s): shapes must be known to run", c->layer->name,
		               c->layer->class_name);
	free(p->mask_row);
	p->mask_row = NULL;
	if (p->mask == KS_MASK_EMB_ROW0)
		return ks_op_mask_row(c, p->mask_emb, p->in.ch, &p->mask_row, err);
	return 0;
}

/* Keras: sum(x * mask) / sum(mask) over the steps (0/0 = NaN when every
 * step is masked, as in Keras). */
static void masked_mean(const pool_priv *p, const float *x, float *y)
{
	const int64_t T = p->in.d[0], F = p->in.ch;
	int64_t n = 0;

	memset(y, 0, (size_t)F * sizeof(float));
	for (int64_t t = 0; t < T; t++) {
		const float *xt = x + t * F;
		if (ks_op_step_masked(xt, p->in.ch, p->mask_row))
			continue;
		n++;
		for (int64_t k = 0; k < F; k++)
			y[k] += xt[k];
	}
	for (int64_t k = 0; k < F; k++)
		y[k] = n ? y[k] / (float)n : NAN;
}

/* One output pixel of a channels_last pool: the window's pixels are
 * contiguous channel vectors, processed 8 channels at a time. */
KS_CLONES
static void pool_pixel_cl(const pool_priv *p, const float *x, float *yp, const int64_t *lo,
                          const int64_t *hi, int64_t cnt)
{
	const ks_win *w = p->w;
	const int64_t ch = p->in.ch;

	if (p->def->max) {
		for (int64_t k = 0; k < ch; k++)
			yp[k] = -INFINITY;
	} else {
		memset(yp, 0, (size_t)ch * sizeof(float));
	}
	for (int64_t i0 = lo[0]; i0 < hi[0]; i0++)
		for (int64_t i1 = lo[1]; i1 < hi[1]; i1++)
			for (int64_t i2 = lo[2]; i2 < hi[2]; i2++) {
				const float *xp = x + ((i0 * w[1].in + i1) * w[2].in + i2) * ch;
				int64_t k = 0;
				if (p->def->max) {
					for (; k + 8 <= ch; k += 8) {
						KS_ST8(yp + k, KS_MAX8(KS_LD8(xp + k), KS_LD8(yp + k)));
					}
					for (; k < ch; k++)
						yp[k] = xp[k] > yp[k] ? xp[k] : yp[k];
				} else {
					for (; k + 8 <= ch; k += 8)
						KS_ST8(yp + k, KS_LD8(yp + k) + KS_LD8(xp + k));
					for (; k < ch; k++)
						yp[k] += xp[k];
				}
			}
	if (!p->def->max && cnt > 0) {
		float inv = 1.0f / (float)cnt;
		for (int64_t k = 0; k < ch; k++)
			yp[k] *= inv;
	}
}

/* channels_first: one channel plane at a time. */
static float pool_pixel_cf(const pool_priv *p, const float *xc, const int64_t *lo, const int64_t *hi,
                           int64_t cnt)
{
	const ks_win *w = p->w;
	float acc = p->def->max ? -INFINITY : 0.0f;

	for (int64_t i0 = lo[0]; i0 < hi[0]; i0++)
		for (int64_t i1 = lo[1]; i1 < hi[1]; i1++)
			for (int64_t i2 = lo[2]; i2 < hi[2]; i2++) {
				float v = xc[(i0 * w[1].in + i1) * w[2].in + i2];
				if (p->def->max)
					acc = v > acc ? v : acc;
				else
					acc += v;
			}
	return p->def->max || cnt == 0 ? acc : acc / (float)cnt;
}

static void pool_run(const ks_op_call *c, const float *const *in, float *const *out, float *scratch)
{
	const pool_priv *p = c->priv;
	const ks_win *w = p->w;
	const int64_t ch = p->in.ch, batch = c->in[0].d[0];

	(void)scratch;
	for (int64_t b = 0; b < batch; b++) {
		const float *x = in[0] + b * p->pin * ch;
		float *y = out[0] + b * p->pout * ch;
		int64_t opix = 0;
		if (p->mask != KS_MASK_NONE) {
			masked_mean(p, x, y);
			continue;
		}
		for (int64_t o0 = 0; o0 < w[0].out; o0++)
			for (int64_t o1 = 0; o1 < w[1].out; o1++)
				for (int64_t o2 = 0; o2 < w[2].out; o2++, opix++) {
					int64_t lo[3], hi[3], cnt = 1;
					const int64_t o[3] = {o0, o1, o2};
					for (int a = 0; a < 3; a++) {
						lo[a] = o[a] * w[a].s - w[a].pad;
						hi[a] = lo[a] + w[a].k;
						if (lo[a] < 0)
							lo[a] = 0;
						if (hi[a] > w[a].in)
							hi[a] = w[a].in;
						cnt *= hi[a] - lo[a];
					}
					if (!p->in.cf) {
						pool_pixel_cl(p, x, y + opix * ch, lo, hi, cnt);
						continue;
					}
					for (int64_t k = 0; k < ch; k++)
						y[k * p->pout + opix] = pool_pixel_cf(p, x + k * p->pin, lo, hi, cnt);
				}
	}
}

#define POOL_OP(name, cls) static const ks_op name = {cls, 0, pool_infer, pool_load, pool_run, pool_free};

POOL_OP(op_max1, "MaxPooling1D")
POOL_OP(op_max2, "MaxPooling2D")
POOL_OP(op_max3, "MaxPooling3D")
POOL_OP(op_avg1, "AveragePooling1D")
POOL_OP(op_avg2, "AveragePooling2D")
POOL_OP(op_avg3, "AveragePooling3D")
POOL_OP(op_gmax1, "GlobalMaxPooling1D")
POOL_OP(op_gmax2, "GlobalMaxPooling2D")
POOL_OP(op_gmax3, "GlobalMaxPooling3D")
POOL_OP(op_gavg1, "GlobalAveragePooling1D")
POOL_OP(op_gavg2, "GlobalAveragePooling2D")
POOL_OP(op_gavg3, "GlobalAveragePooling3D")
POOL_OP(op_amax1, "MaxPool1D")
POOL_OP(op_amax2, "MaxPool2D")
POOL_OP(op_amax3, "MaxPool3D")
POOL_OP(op_aavg1, "AvgPool1D")
POOL_OP(op_aavg2, "AvgPool2D")
POOL_OP(op_aavg3, "AvgPool3D")
POOL_OP(op_agmax1, "GlobalMaxPool1D")
POOL_OP(op_agmax2, "GlobalMaxPool2D")
POOL_OP(op_agmax3, "GlobalMaxPool3D")
POOL_OP(op_agavg1, "GlobalAvgPool1D")
POOL_OP(op_agavg2, "GlobalAvgPool2D")
POOL_OP(op_agavg3, "GlobalAvgPool3D")

const ks_op *const ks_ops_pool[] = {
	&op_max1, &op_max2, &op_max3, &op_avg1, &op_avg2, &op_avg3,
	&op_gmax1, &op_gmax2, &op_gmax3, &op_gavg1, &op_gavg2, &op_gavg3,
	&op_amax1, &op_amax2, &op_amax3, &op_aavg1, &op_aavg2, &op_aavg3,
	&op_agmax1, &op_agmax2, &op_agmax3, &op_agavg1, &op_agavg2, &op_agavg3,
	NULL,
};
