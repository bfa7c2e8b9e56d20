#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks_cfg.h"
#include "ks_spatial.h"
#include "ks_util.h"

/* Spatial sizes above this are rejected: products of a few of them must stay
 * far from int64 and BLAS's 32-bit ints. */
#define KS_SP_DIM_MAX ((int64_t)1 << 30)

static const char *lname(const ks_op_call *c)
{
	return c->layer && c->layer->name ? c->layer->name : "?";
}

static const char *lclass(const ks_op_call *c)
{
	return c->layer && c->layer->class_name ? c->layer->class_name : "?";
}

int ks_sp_data_format(const ks_op_call *c, bool *cf, ks_err *err)
{
	const char *df = NULL, *dim = NULL;

	if (ks_cfg_str(c->config, "data_format", NULL, &df, err) < 0 ||
	    ks_cfg_str(c->config, "dim_ordering", NULL, &dim, err) < 0)
		return ks_err_prefix(err, "layer %s (%s)", lname(c), lclass(c));
	*cf = false;
	if (df) {
		if (strcmp(df, "channels_first") == 0)
			*cf = true;
		else if (strcmp(df, "channels_last") != 0)
			return ks_fail(err, "layer %s (%s): unknown data_format '%s'", lname(c), lclass(c), df);
	} else if (dim) {
		if (strcmp(dim, "th") == 0)
			*cf = true;
		else if (strcmp(dim, "tf") != 0 && strcmp(dim, "default") != 0)
			return ks_fail(err, "layer %s (%s): unknown dim_ordering '%s'", lname(c), lclass(c), dim);
	}
	return 0;
}

int ks_sp_padding(const ks_op_call *c, bool allow_causal, ks_pad *pad, ks_err *err)
{
	static const char *const keys[] = {"padding", "border_mode", NULL};
	const json_t *v = ks_cfg_get_any(c->config, keys);
	const char *s;

	*pad = KS_PAD_VALID;
	if (!v)
		return 0;
	if (!json_is_string(v))
		return ks_fail(err, "layer %s (%s): padding should be a string", lname(c), lclass(c));
	s = json_string_value(v);
	if (strcmp(s, "valid") == 0)
		*pad = KS_PAD_VALID;
	else if (strcmp(s, "same") == 0)
		*pad = KS_PAD_SAME;
	else if (allow_causal && strcmp(s, "causal") == 0)
		*pad = KS_PAD_CAUSAL;
	else
		return ks_fail(err, "layer %s (%s): padding '%s' is not supported", lname(c), lclass(c), s);
	return 0;
}

int ks_sp_from_in(const ks_op_call *c, int i, int n, bool cf, bool need_ch, ks_sp *sp, ks_err *err)
{
	const ks_shape *s = &c->in[i];
	char buf[128];

	if (i >= c->n_in || s->rank != n + 2)
		return ks_fail(err, "layer %s (%s): expects a %d-D input (batch, %s), got shape %s",
		               lname(c), lclass(c), n + 2,
		               n == 1 ? (cf ? "channels, steps" : "steps, channels")
		               : n == 2 ? (cf ? "channels, rows, cols" : "rows, cols, channels")
		                        : (cf ? "channels, d1, d2, d3" : "d1, d2, d3, channels"),
		               i < c->n_in ? ks_shape_str(s->d, s->rank, buf, sizeof buf) : "(none)");
	sp->n = n;
	sp->cf = cf;
	sp->batch = s->d[0];
	sp->ch = cf ? s->d[1] : s->d[n + 1];
	for (int k = 0; k < n; k++) {
		sp->d[k] = s->d[cf ? 2 + k : 1 + k];
		if (sp->d[k] > KS_SP_DIM_MAX)
			return ks_fail(err, "layer %s (%s): input size %lld is too large", lname(c),
			               lclass(c), (long long)sp->d[k]);
	}
	for (int k = n; k < KS_SP_MAX; k++)
		sp->d[k] = 1;
	if (need_ch && sp->ch < 0)
		return ks_fail(err, "layer %s (%s): the channel axis of input %s is unknown", lname(c),
		               lclass(c), ks_shape_str(s->d, s->rank, buf, sizeof buf));
	if (sp->ch > KS_SP_DIM_MAX)
		return ks_fail(err, "layer %s (%s): %lld channels is too many", lname(c), lclass(c),
		               (long long)sp->ch);
	return 0;
}

void ks_sp_to_shape(const ks_sp *sp, ks_shape *s)
{
	s->rank = sp->n + 2;
	s->d[0] = sp->batch;
	s->d[sp->cf ? 1 : sp->n + 1] = sp->ch;
	for (int k = 0; k < sp->n; k++)
		s->d[sp->cf ? 2 + k : 1 + k] = sp->d[k];
}

int64_t ks_sp_pixels(const ks_sp *sp)
{
	int64_t p = 1;
	for (int k = 0; k < sp->n; k++) {
		if (sp->d[k] < 0)
			return -1;
		if (__builtin_mul_overflow(p, sp->d[k], &p))
			return INT64_MAX;
	}
	return p;
}

int ks_win_make(ks_win *w, int64_t in, int64_t k, int64_t s, int64_t dil, ks_pad pad, ks_err *err)
{
	int64_t dk;

	if (k <= 0 || s <= 0 || dil <= 0 || k > KS_SP_DIM_MAX || s > KS_SP_DIM_MAX || dil > KS_SP_DIM_MAX)
		return ks_fail(err, "kernel size, stride and dilation must be positive and sane "
		               "(got %lld, %lld, %lld)", (long long)k, (long long)s, (long long)dil);
	w->in = in;
	w->k = k;
	w->s = s;
	w->dil = dil;
	w->pad = 0;
	dk = (k - 1) * dil + 1;
	if (in < 0) {
		w->out = -1;
		if (pad == KS_PAD_CAUSAL)
			w->pad = dk - 1;
		return 0;
	}
	switch (pad) {
	case KS_PAD_VALID:
		w->out = in >= dk ? (in - dk) / s + 1 : 0;
		break;
	case KS_PAD_SAME: {
		int64_t total;
		w->out = (in + s - 1) / s;
		total = (w->out - 1) * s + dk - in;
		w->pad = total > 0 ? total / 2 : 0;
		break;
	}
	case KS_PAD_CAUSAL:
		w->pad = dk - 1;
		w->out = (in + s - 1) / s;
		break;
	}
	return 0;
}

static void dims_str(char *buf, size_t n, const int64_t *v, int cnt)
{
	size_t o = 0;
	buf[0] = 0;
	for (int i = 0; i < cnt && o < n; i++)
		o += (size_t)snprintf(buf + o, n - o, "%s%lld", i ? "x" : "", (long long)v[i]);
}

int ks_sp_check_fit(const ks_op_call *c, const ks_win *w, int n, const char *what, ks_err *err)
{
	int64_t in[KS_SP_MAX], k[KS_SP_MAX], dk[KS_SP_MAX];
	char a[64], b[64], d[64];
	bool bad = false, dilated = false;

	for (int i = 0; i < n; i++) {
		in[i] = w[i].in;
		k[i] = w[i].k;
		dk[i] = (w[i].k - 1) * w[i].dil + 1;
		if (w[i].dil > 1)
			dilated = true;
		if (w[i].in >= 0 && w[i].out <= 0)
			bad = true;
	}
	if (!bad)
		return 0;
	dims_str(a, sizeof a, in, n);
	dims_str(b, sizeof b, k, n);
	dims_str(d, sizeof d, dk, n);
	if (dilated)
		return ks_fail(err, "layer %s (%s): input %s is smaller than the %s %s (dilated to %s)",
		               lname(c), lclass(c), a, b, what, d);
	return ks_fail(err, "layer %s (%s): input %s is smaller than the %s %s", lname(c), lclass(c),
	               a, b, what);
}

int ks_sp_ints(const ks_op_call *c, const char *const *keys, int n, const int64_t *def,
               int64_t *out, ks_err *err)
{
	for (const char *const *k = keys; *k; k++) {
		const json_t *v = json_object_get(c->config, *k);
		if (v && !json_is_null(v)) {
			if (ks_cfg_ints(c->config, *k, n, def, out, err) < 0)
				return ks_err_prefix(err, "layer %s (%s)", lname(c), lclass(c));
			return 0;
		}
	}
	for (int i = 0; i < n; i++)
		out[i] = def ? def[i] : 0;
	return 0;
}

void ks_sp_to_last(const float *src, float *dst, int64_t ch, int64_t pixels)
{
	for (int64_t c = 0; c < ch; c++)
		for (int64_t p = 0; p < pixels; p++)
			dst[p * ch + c] = src[c * pixels + p];
}

void ks_sp_to_first(const float *src, float *dst, int64_t ch, int64_t pixels)
{
	for (int64_t p = 0; p < pixels; p++)
		for (int64_t c = 0; c < ch; c++)
			dst[c * pixels + p] = src[p * ch + c];
}

int ks_sp_n_weights(const ks_op_call *c)
{
	return c->layer ? c->layer->n_weights : 0;
}

const ks_weight *ks_sp_weight(const ks_op_call *c, const char *const *names, int pos, int n_expected)
{
	if (!c->layer)
		return NULL;
	for (const char *const *n = names; *n; n++) {
		const ks_weight *w = ks_op_weight_meta(c, *n);
		if (w)
			return w;
	}
	/* Keras 1 names carry the layer prefix ("convolution2d_1_W"). */
	for (int i = 0; i < c->layer->n_weights; i++) {
		const char *wn = c->layer->weights[i].name;
		size_t wl = wn ? strlen(wn) : 0;
		for (const char *const *n = names; *n; n++) {
			size_t nl = strlen(*n);
			if (wl > nl && wn[wl - nl - 1] == '_' && strcmp(wn + wl - nl, *n) == 0)
				return &c->layer->weights[i];
		}
	}
	if (pos >= 0 && c->layer->n_weights == n_expected && pos < n_expected)
		return &c->layer->weights[pos];
	return NULL;
}

int ks_sp_check_shape(const ks_op_call *c, const ks_weight *w, const char *label, int rank,
                      const int64_t *shape, ks_err *err)
{
	char got[128], want[128];

	if (!w)
		return ks_fail(err, "layer %s (%s): weight '%s' is missing", lname(c), lclass(c), label);
	if (w->rank == rank && memcmp(w->shape, shape, sizeof(int64_t) * (size_t)rank) == 0)
		return 0;
	return ks_fail(err, "layer %s (%s): weight '%s' has shape %s but the config needs %s",
	               lname(c), lclass(c), label, ks_shape_str(w->shape, w->rank, got, sizeof got),
	               ks_shape_str(shape, rank, want, sizeof want));
}

int ks_sp_read_weight(const ks_op_call *c, const ks_weight *w, float **out, ks_err *err)
{
	int64_t n;
	size_t bytes;
	float *buf;

	*out = NULL;
	if (!ks_numel(w->shape, w->rank, &n) || !ks_size_mul((size_t)n, sizeof(float), &bytes))
		return ks_fail(err, "layer %s: weight '%s' is too large", lname(c), w->name);
	buf = ks_xmalloc(bytes ? bytes : 1);
	if (w->mem) {
		memcpy(buf, w->mem, bytes);
	} else if (ks_weight_read(c->model, w, buf, err) < 0) {
		free(buf);
		return ks_err_prefix(err, "layer %s", lname(c));
	}
	*out = buf;
	return 0;
}

void ks_sp_permute(const float *src, float *dst, int rank, const int64_t *dims, const int *perm)
{
	int64_t sstride[KS_MAX_RANK], odims[KS_MAX_RANK], ostride_src[KS_MAX_RANK], idx[KS_MAX_RANK];
	int64_t total = 1, inner, inner_stride;

	if (rank <= 0) {
		dst[0] = src[0];
		return;
	}
	sstride[rank - 1] = 1;
	for (int i = rank - 2; i >= 0; i--)
		sstride[i] = sstride[i + 1] * dims[i + 1];
	for (int i = 0; i < rank; i++) {
		odims[i] = dims[perm[i]];
		ostride_src[i] = sstride[perm[i]];
		total *= odims[i];
		idx[i] = 0;
	}
	if (total == 0)
		return;
	inner = odims[rank - 1];
	inner_stride = ostride_src[rank - 1];
	for (int64_t o = 0; o < total; o += inner) {
		int64_t base = 0;
		for (int i = 0; i < rank - 1; i++)
			base += idx[i] * ostride_src[i];
		for (int64_t j = 0; j < inner; j++)
			dst[o + j] = src[base + j * inner_stride];
		for (int i = rank - 2; i >= 0; i--) {
			if (++idx[i] < odims[i])
				break;
			idx[i] = 0;
		}
	}
}
