/* ks_layers_conv: convolution kernels (see ks_ops.h).
 *
 * Conv1D/2D/3D, DepthwiseConv1D/2D, SeparableConv1D/2D and
 * Conv1D/2D/3DTranspose, plus the Keras 1 names whose configs and weights map
 * onto them. One generic implementation over 1..3 spatial axes: shapes of
 * lower rank use size-1 axes. Images are computed channels_last; a
 * channels_first image is transposed into scratch first and back after.
 *
 * Standard convolution is im2col + sgemm, in blocks of output rows so the
 * column buffer stays a few MB even for VGG-sized layers; 1x1 stride-1
 * convolutions skip im2col, and 3x3 stride-1 2-D convolutions with enough
 * channels use Winograd F(2x2, 3x3) (ks_winograd.h), 2.25x fewer
 * multiplications. Weights are re-laid out once at load into the GEMM's
 * layout: per group, (taps, in/groups, out/groups) row-major (Winograd
 * kernels stay as stored; their transform lives in scratch for one run).
 *
 * KERASCOPE_CONV=im2col in the environment turns Winograd off (to compare
 * speed or rounding; see bench/README).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "ks_cfg.h"
#include "ks_ops.h"
#include "ks_spatial.h"
#include "ks_util.h"
#include "ks_vec.h"
#include "ks_winograd.h"

/* Floats of im2col buffer aimed at per block (4 MB), but never fewer than
 * MIN_ROWS output positions per GEMM so the weight packing is amortised. */
#define COL_BUDGET ((size_t)1 << 20)
#define MIN_ROWS 256
/* BLAS takes 32-bit ints. */
#define BLAS_MAX ((int64_t)0x7fffffff)

enum conv_kind { CK_CONV, CK_DEPTHWISE, CK_SEPARABLE, CK_TRANSPOSE };

typedef struct conv_def {
	const char *cls;
	int n;              /* spatial axes */
	enum conv_kind kind;
	bool keras1;        /* Keras 1 config spelling and weight layouts */
	bool theano_flip;   /* Keras flips these kernels when loading Theano weights */
} conv_def;

static const conv_def defs[] = {
	{"Conv1D", 1, CK_CONV, false, true},
	{"Conv2D", 2, CK_CONV, false, true},
	{"Conv3D", 3, CK_CONV, false, true},
	{"DepthwiseConv1D", 1, CK_DEPTHWISE, false, false},
	{"DepthwiseConv2D", 2, CK_DEPTHWISE, false, false},
	{"SeparableConv1D", 1, CK_SEPARABLE, false, false},
	{"SeparableConv2D", 2, CK_SEPARABLE, false, false},
	{"Conv1DTranspose", 1, CK_TRANSPOSE, false, false},
	{"Conv2DTranspose", 2, CK_TRANSPOSE, false, true},
	{"Conv3DTranspose", 3, CK_TRANSPOSE, false, false},
	{"Convolution1D", 1, CK_CONV, true, true},
	{"Convolution2D", 2, CK_CONV, true, true},
	{"Convolution3D", 3, CK_CONV, true, true},
	{"AtrousConvolution1D", 1, CK_CONV, true, true},
	{"AtrousConvolution2D", 2, CK_CONV, true, true},
	{"SeparableConvolution2D", 2, CK_SEPARABLE, true, false},
	{"Deconvolution2D", 2, CK_TRANSPOSE, true, true},
};

/* A stored kernel layout: the file's shape and how to reach the canonical one. */
typedef struct layout {
	int rank;
	int64_t shape[KS_MAX_RANK];
	int perm[KS_MAX_RANK]; /* canonical axis i = stored axis perm[i]; perm[0] < 0: as is */
} layout;

typedef struct conv_priv {
	const conv_def *def;
	bool cf, use_bias;
	ks_win w[KS_SP_MAX];    /* per axis; unused axes are k = s = 1, in = out */
	int64_t cin, cout, groups, mult;
	int64_t taps;           /* product of kernel sizes */
	int64_t pin, pout;      /* pixels per image in and out */
	int64_t rows;           /* output positions per im2col block */
	bool direct;            /* 1x1, stride 1, one group: no im2col */
	bool wino;              /* 3x3, stride 1, 2-D: Winograd F(2x2, 3x3) */
	int64_t tblk;           /* Winograd tiles per block */
	/* kernel: canonical shape and accepted stored layouts */
	int64_t kshape[KS_MAX_RANK];
	int krank;
	layout klay;
	int64_t pshape[KS_MAX_RANK]; /* separable pointwise */
	int prank;
	layout play;
	/* loaded */
	float *k;       /* GEMM layout; Winograd: as stored, (3, 3, cin, cout) */
	float *pw;      /* separable pointwise (cin*mult, cout) */
	float *bias;
	/* scratch offsets (floats) */
	size_t off_x, off_y, off_t;
} conv_priv;

static const conv_def *find_def(const char *cls)
{
	for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++)
		if (cls && strcmp(defs[i].cls, cls) == 0)
			return &defs[i];
	return NULL;
}

static int read_axes(const ks_op_call *c, const char *const *keys, const char *const *k1keys,
                     int n, int64_t def, int64_t *out, ks_err *err)
{
	int64_t d[KS_SP_MAX] = {def, def, def};

	if (ks_sp_ints(c, keys, n, d, out, err) < 0)
		return -1;
	/* Keras 1 per-axis keys (nb_row, nb_col, kernel_dim1..3). */
	if (k1keys && !ks_cfg_get_any(c->config, keys)) {
		for (int i = 0; i < n && k1keys[i]; i++) {
			if (ks_cfg_int(c->config, k1keys[i], def, &out[i], err) < 0)
				return ks_err_prefix(err, "layer %s (%s)", c->layer->name, c->layer->class_name);
		}
	}
	return 0;
}

static int parse_geometry(ks_op_call *c, conv_priv *p, int64_t *filters, int64_t *k, int64_t *s,
                          int64_t *dil, int64_t *opad, bool *has_opad, ks_pad *pad, ks_err *err)
{
	const conv_def *d = p->def;
	const int n = d->n;
	static const char *const kk[] = {"kernel_size", "filter_length", NULL};
	static const char *const k1_2d[] = {"nb_row", "nb_col", NULL};
	static const char *const k1_3d[] = {"kernel_dim1", "kernel_dim2", "kernel_dim3", NULL};
	static const char *const sk[] = {"strides", "subsample", "subsample_length", NULL};
	static const char *const dk[] = {"dilation_rate", "atrous_rate", NULL};
	static const char *const fk[] = {"filters", "nb_filter", NULL};
	static const char *const opk[] = {"output_padding", NULL};
	const json_t *fv;
	int64_t one[KS_SP_MAX] = {1, 1, 1};

	if (read_axes(c, kk, n == 2 ? k1_2d : n == 3 ? k1_3d : NULL, n, -1, k, err) < 0 ||
	    ks_sp_ints(c, sk, n, one, s, err) < 0 || ks_sp_ints(c, dk, n, one, dil, err) < 0)
		return -1;
	for (int i = 0; i < n; i++)
		if (k[i] <= 0)
			return ks_fail(err, "layer %s (%s): kernel_size is missing or not positive",
			               c->layer->name, c->layer->class_name);
	if (ks_sp_padding(c, n == 1 && d->kind == CK_CONV, pad, err) < 0)
		return -1;
	*filters = -1;
	if (d->kind != CK_DEPTHWISE) {
		fv = ks_cfg_get_any(c->config, fk);
		if (!fv || !json_is_integer(fv) || json_integer_value(fv) <= 0)
			return ks_fail(err, "layer %s (%s): 'filters' is missing or not a positive integer",
			               c->layer->name, c->layer->class_name);
		*filters = json_integer_value(fv);
	}
	*has_opad = false;
	if (d->kind == CK_TRANSPOSE && ks_cfg_get_any(c->config, opk)) {
		*has_opad = true;
		if (ks_sp_ints(c, opk, n, NULL, opad, err) < 0)
			return -1;
	}
	if (ks_cfg_int(c->config, "groups", 1, &p->groups, err) < 0 ||
	    ks_cfg_int(c->config, "depth_multiplier", 1, &p->mult, err) < 0)
		return ks_err_prefix(err, "layer %s (%s)", c->layer->name, c->layer->class_name);
	{
		bool b1, b2;
		if (ks_cfg_bool(c->config, "use_bias", true, &b1, err) < 0 ||
		    ks_cfg_bool(c->config, "bias", true, &b2, err) < 0)
			return ks_err_prefix(err, "layer %s (%s)", c->layer->name, c->layer->class_name);
		p->use_bias = json_object_get(c->config, "use_bias") ? b1 : b2;
	}
	if (p->groups <= 0 || p->groups > 1 << 20 || p->mult <= 0 || p->mult > 1 << 20)
		return ks_fail(err, "layer %s (%s): groups and depth_multiplier must be positive",
		               c->layer->name, c->layer->class_name);
	return 0;
}

/* Transposed-convolution geometry as TF computes it (conv_utils.deconv_output_length,
 * then the forward conv's padding for that output length). */
static int transpose_win(ks_win *w, int64_t in, int64_t k, int64_t s, int64_t dil, ks_pad pad,
                         bool has_opad, int64_t opad, int64_t forced_out, ks_err *err)
{
	int64_t dk;

	if (ks_win_make(w, -1, k, s, dil, KS_PAD_VALID, err) < 0)
		return -1;
	w->in = in;
	dk = (k - 1) * dil + 1;
	if (in < 0) {
		w->out = -1;
		return 0;
	}
	if (forced_out > 0)
		w->out = forced_out;
	else if (!has_opad)
		w->out = pad == KS_PAD_VALID ? in * s + (dk > s ? dk - s : 0) : in * s;
	else {
		if (opad < 0 || opad >= s)
			return ks_fail(err, "output_padding %lld must be smaller than the stride %lld",
			               (long long)opad, (long long)s);
		w->out = (in - 1) * s + dk - 2 * (pad == KS_PAD_SAME ? dk / 2 : 0) + opad;
	}
	if (pad == KS_PAD_SAME) {
		int64_t total = (in - 1) * s + dk - w->out;
		w->pad = total > 0 ? total / 2 : 0;
	} else {
		w->pad = 0;
	}
	return 0;
}

/* Sets the canonical kernel shape and the stored layouts a file may hold. */
static void kernel_layouts(conv_priv *p, const int64_t *k, int64_t cin_g, int64_t filters)
{
	const conv_def *d = p->def;
	const int n = d->n;
	int r = 0;

	for (int i = 0; i < n; i++)
		p->kshape[r++] = k[i];
	switch (d->kind) {
	case CK_CONV:
		p->kshape[r++] = cin_g;
		p->kshape[r++] = filters;
		break;
	case CK_DEPTHWISE:
	case CK_SEPARABLE:
		p->kshape[r++] = p->cin;
		p->kshape[r++] = p->mult;
		break;
	case CK_TRANSPOSE:
		p->kshape[r++] = filters;
		p->kshape[r++] = p->cin;
		break;
	}
	p->krank = r;
	p->klay.rank = r;
	memcpy(p->klay.shape, p->kshape, sizeof p->kshape);
	p->klay.perm[0] = -1;
	if (d->kind == CK_SEPARABLE) {
		r = 0;
		for (int i = 0; i < n; i++)
			p->pshape[r++] = 1;
		p->pshape[r++] = p->cin * p->mult;
		p->pshape[r++] = filters;
		p->prank = r;
		p->play.rank = r;
		memcpy(p->play.shape, p->pshape, sizeof p->pshape);
		p->play.perm[0] = -1;
	}
	if (!d->keras1)
		return;
	/* Keras 1 Convolution1D kept a 2-D kernel (k, 1, in, out); Keras 1.0 had
	 * (out, in, k, 1). With dim_ordering 'th' the 2-D/3-D kernels are
	 * (out, in, spatial...) (legacy_h5_format preprocess_weights_for_loading). */
	if (n == 1 && d->kind == CK_CONV) {
		layout *l = &p->klay;
		l->rank = 4;
		l->shape[0] = k[0];
		l->shape[1] = 1;
		l->shape[2] = cin_g;
		l->shape[3] = filters;
		l->perm[0] = -1; /* same memory order as (k, in, out) */
		return;
	}
	if (!p->cf) {
		if (d->kind == CK_TRANSPOSE) {
			/* Deconvolution2D kept the Convolution2D layout (spatial, in, out). */
			layout *l = &p->klay;
			l->shape[n] = p->cin;
			l->shape[n + 1] = filters;
			for (int i = 0; i < n; i++)
				l->perm[i] = i;
			l->perm[n] = n + 1;
			l->perm[n + 1] = n;
		}
		return;
	}
	if (d->kind == CK_CONV || d->kind == CK_TRANSPOSE) {
		layout *l = &p->klay;
		/* stored (out, in, spatial...); canonical CONV (spatial, in, out),
		 * TRANSPOSE (spatial, out, in). */
		l->rank = n + 2;
		l->shape[0] = filters;
		l->shape[1] = d->kind == CK_CONV ? cin_g : p->cin;
		for (int i = 0; i < n; i++)
			l->shape[2 + i] = k[i];
		for (int i = 0; i < n; i++)
			l->perm[i] = 2 + i;
		l->perm[n] = d->kind == CK_CONV ? 1 : 0;
		l->perm[n + 1] = d->kind == CK_CONV ? 0 : 1;
	} else if (d->kind == CK_SEPARABLE) {
		layout *l = &p->klay;
		l->rank = n + 2;
		l->shape[0] = p->mult;
		l->shape[1] = p->cin;
		for (int i = 0; i < n; i++)
			l->shape[2 + i] = k[i];
		for (int i = 0; i < n; i++)
			l->perm[i] = 2 + i;
		l->perm[n] = 1;
		l->perm[n + 1] = 0;
		l = &p->play;
		l->rank = n + 2;
		l->shape[0] = filters;
		l->shape[1] = p->cin * p->mult;
		for (int i = 0; i < n; i++)
			l->shape[2 + i] = 1;
		for (int i = 0; i < n; i++)
			l->perm[i] = 2 + i;
		l->perm[n] = 1;
		l->perm[n + 1] = 0;
	}
}

static bool layout_match(const ks_weight *w, const layout *l)
{
	return w && w->rank == l->rank &&
	       memcmp(w->shape, l->shape, sizeof(int64_t) * (size_t)l->rank) == 0;
}

static int check_kernel(const ks_op_call *c, const ks_weight *w, const char *label,
                        const int64_t *canon, int rank, const layout *l, ks_err *err)
{
	if (layout_match(w, l))
		return 0;
	return ks_sp_check_shape(c, w, w && w->name ? w->name : label, rank, canon, err);
}

static const char *const n_kernel[] = {"kernel", "W", NULL};
static const char *const n_dkernel[] = {"depthwise_kernel", "kernel", "W", NULL};
static const char *const n_pkernel[] = {"pointwise_kernel", NULL};
static const char *const n_bias[] = {"bias", "b", NULL};

static int n_weights_expected(const conv_priv *p)
{
	return (p->def->kind == CK_SEPARABLE ? 2 : 1) + (p->use_bias ? 1 : 0);
}

static const ks_weight *w_kernel(const ks_op_call *c, const conv_priv *p)
{
	return ks_sp_weight(c, p->def->kind == CK_CONV || p->def->kind == CK_TRANSPOSE ? n_kernel : n_dkernel,
	                    0, n_weights_expected(p));
}

static const ks_weight *w_point(const ks_op_call *c, const conv_priv *p)
{
	return ks_sp_weight(c, n_pkernel, 1, n_weights_expected(p));
}

static const ks_weight *w_bias(const ks_op_call *c, const conv_priv *p)
{
	return ks_sp_weight(c, n_bias, p->def->kind == CK_SEPARABLE ? 2 : 1, n_weights_expected(p));
}

static void conv_free(ks_op_call *c)
{
	conv_priv *p = c->priv;
	if (!p)
		return;
	free(p->k);
	free(p->pw);
	free(p->bias);
	free(p);
	c->priv = NULL;
}

static int size_fail(const ks_op_call *c, ks_err *err)
{
	char b[160];
	return ks_fail(err, "layer %s (%s): the tensors are too large for the convolution kernels "
	               "(input %s)", c->layer->name, c->layer->class_name,
	               ks_shape_str(c->in[0].d, c->in[0].rank, b, sizeof b));
}

static bool wino_allowed(void)
{
	const char *e = getenv("KERASCOPE_CONV");
	return !e || strcmp(e, "im2col") != 0;
}

static int conv_infer(ks_op_call *c, ks_err *err)
{
	conv_priv *p;
	ks_sp in, out;
	int64_t filters = -1, k[KS_SP_MAX] = {1, 1, 1}, s[KS_SP_MAX] = {1, 1, 1}, dil[KS_SP_MAX] = {1, 1, 1};
	int64_t opad[KS_SP_MAX] = {0, 0, 0}, forced[KS_SP_MAX] = {0, 0, 0};
	bool has_opad = false;
	ks_pad pad;
	const ks_weight *w;
	int n;

	conv_free(c);
	p = ks_xcalloc(1, sizeof *p);
	c->priv = p;
	p->def = find_def(c->layer->class_name);
	if (!p->def)
		return ks_fail(err, "layer %s: %s is not a convolution", c->layer->name, c->layer->class_name);
	n = p->def->n;
	if (ks_sp_data_format(c, &p->cf, err) < 0 ||
	    parse_geometry(c, p, &filters, k, s, dil, opad, &has_opad, &pad, err) < 0)
		return -1;
	if (c->n_in != 1)
		return ks_fail(err, "layer %s (%s): expects one input, got %d", c->layer->name,
		               c->layer->class_name, c->n_in);
	if (ks_sp_from_in(c, 0, n, p->cf, true, &in, err) < 0)
		return -1;
	if (in.ch == 0)
		return ks_fail(err, "layer %s (%s): the input has no channels", c->layer->name, c->layer->class_name);
	p->cin = in.ch;
	if (p->def->kind == CK_TRANSPOSE && p->def->keras1) {
		/* Deconvolution2D carries the output shape (batch included) in its config. */
		int64_t os[KS_MAX_RANK];
		int orank;
		if (ks_cfg_shape(c->config, "output_shape", KS_MAX_RANK, os, &orank, err) < 0)
			return ks_err_prefix(err, "layer %s (%s)", c->layer->name, c->layer->class_name);
		if (orank == n + 2)
			for (int i = 0; i < n; i++)
				forced[i] = os[p->cf ? 2 + i : 1 + i];
	}
	for (int i = 0; i < KS_SP_MAX; i++) {
		int rc;
		if (i >= n)
			rc = ks_win_make(&p->w[i], 1, 1, 1, 1, KS_PAD_VALID, err);
		else if (p->def->kind == CK_TRANSPOSE)
			rc = transpose_win(&p->w[i], in.d[i], k[i], s[i], dil[i], pad, has_opad, opad[i],
			                   forced[i], err);
		else
			rc = ks_win_make(&p->w[i], in.d[i], k[i], s[i], dil[i], pad, err);
		if (rc < 0)
			return ks_err_prefix(err, "layer %s (%s)", c->layer->name, c->layer->class_name);
	}
	if (p->def->kind != CK_TRANSPOSE && ks_sp_check_fit(c, p->w, n, "kernel", err) < 0)
		return -1;
	if (p->cin % p->groups != 0 || (filters > 0 && filters % p->groups != 0))
		return ks_fail(err, "layer %s (%s): %lld input channels and %lld filters are not "
		               "divisible by groups=%lld", c->layer->name, c->layer->class_name,
		               (long long)p->cin, (long long)filters, (long long)p->groups);
	if (p->groups > 1 && p->def->kind != CK_CONV)
		return ks_fail(err, "layer %s (%s): groups is only supported for plain convolutions",
		               c->layer->name, c->layer->class_name);
	p->cout = p->def->kind == CK_DEPTHWISE ? p->cin * p->mult : filters;
	if (__builtin_mul_overflow(k[0], k[1], &p->taps) || __builtin_mul_overflow(p->taps, k[2], &p->taps) ||
	    p->taps > BLAS_MAX)
		return size_fail(c, err);

	/* Weights: shapes only. */
	kernel_layouts(p, k, p->cin / p->groups, filters);
	w = w_kernel(c, p);
	if (check_kernel(c, w, p->def->kind == CK_SEPARABLE ? "depthwise_kernel" : "kernel",
	                 p->kshape, p->krank, &p->klay, err) < 0)
		return -1;
	if (p->def->kind == CK_SEPARABLE &&
	    check_kernel(c, w_point(c, p), "pointwise_kernel", p->pshape, p->prank, &p->play, err) < 0)
		return -1;
	if (p->use_bias) {
		int64_t bs[1] = {p->cout};
		if (ks_sp_check_shape(c, w_bias(c, p), "bias", 1, bs, err) < 0)
			return -1;
	}

	out = in;
	out.ch = p->cout;
	for (int i = 0; i < n; i++)
		out.d[i] = p->w[i].out;
	c->n_out = 1;
	ks_sp_to_shape(&out, &c->out[0]);
	{
		int64_t tot;
		ks_shape t = c->out[0];
		if (t.d[0] < 0)
			t.d[0] = 1;
		for (int i = 0; i < t.rank; i++)
			if (t.d[i] < 0)
				t.d[i] = 1;
		if (!ks_numel(t.d, t.rank, &tot) || tot > ((int64_t)1 << 40))
			return size_fail(c, err);
	}
	p->pin = ks_sp_pixels(&in);
	p->pout = ks_sp_pixels(&out);
	c->scratch_floats = 0;
	if (p->pin < 0 || p->pout < 0)
		return 0; /* display-only inference: no run */

	/* Scratch per image; everything checked against BLAS's int range. */
	{
		int64_t xin, yout, ktot, t = 0;
		if (p->pin > BLAS_MAX / (p->cin ? p->cin : 1) || p->pout > BLAS_MAX / (p->cout ? p->cout : 1) ||
		    p->taps > BLAS_MAX / (p->cin ? p->cin : 1) || p->taps > BLAS_MAX / (p->cout ? p->cout : 1))
			return size_fail(c, err);
		xin = p->pin * p->cin;
		yout = p->pout * p->cout;
		ktot = p->taps * p->cin;
		p->direct = p->def->kind == CK_CONV && p->groups == 1 && p->taps == 1 &&
		            p->w[0].s == 1 && p->w[1].s == 1 && p->w[2].s == 1 &&
		            p->w[0].pad == 0 && p->w[1].pad == 0 && p->w[2].pad == 0 && p->pin == p->pout;
		p->wino = p->def->kind == CK_CONV && p->def->n == 2 && p->groups == 1 &&
		          k[0] == 3 && k[1] == 3 && s[0] == 1 && s[1] == 1 && dil[0] == 1 && dil[1] == 1 &&
		          p->cin >= 16 && p->cout >= 16 && p->pout >= 16 && wino_allowed();
		switch (p->def->kind) {
		case CK_CONV:
			if (p->wino) {
				/* channels_last runs the whole batch as one set of tiles
				 * (run_conv): the kernel is transformed once per run, not
				 * once per image, and small images still fill a block */
				int64_t imgs = !p->cf && c->in[0].d[0] > 1 ? c->in[0].d[0] : 1;
				int64_t ntiles = ((p->w[0].out + 1) / 2) * ((p->w[1].out + 1) / 2);
				if (ntiles > ((int64_t)1 << 40) / imgs)
					return size_fail(c, err);
				ntiles *= imgs;
				p->tblk = ks_wino_block(p->cin, p->cout, ntiles);
				if (p->tblk > BLAS_MAX / (16 * (p->cin + p->cout)) ||
				    p->cout > ((int64_t)1 << 40) / (16 * p->cin))
					return size_fail(c, err);
				t = (int64_t)ks_wino_scratch(p->cin, p->cout, ntiles, p->tblk);
			} else if (!p->direct) {
				int64_t rows = (int64_t)(COL_BUDGET / (size_t)(ktot ? ktot : 1));
				if (rows < MIN_ROWS)
					rows = MIN_ROWS;
				if (rows > p->pout)
					rows = p->pout;
				if (rows < 1)
					rows = 1;
				p->rows = rows;
				if (rows > BLAS_MAX / ktot)
					return size_fail(c, err);
				t = rows * ktot;
			}
			break;
		case CK_DEPTHWISE:
			break;
		case CK_SEPARABLE:
			if (p->pout > BLAS_MAX / (p->cin * p->mult))
				return size_fail(c, err);
			t = p->pout * p->cin * p->mult;
			break;
		case CK_TRANSPOSE:
			if (p->pin > BLAS_MAX / (p->taps * p->cout))
				return size_fail(c, err);
			t = p->pin * p->taps * p->cout;
			break;
		}
		p->off_x = 0;
		p->off_y = p->cf ? (size_t)xin : 0;
		p->off_t = p->off_y + (p->cf ? (size_t)yout : 0);
		c->scratch_floats = p->off_t + (size_t)t;
	}
	return 0;
}

/* Reads a kernel into canonical layout (permuting a legacy layout). */
static int load_kernel(const ks_op_call *c, const ks_weight *w, const int64_t *canon, int rank,
                       const layout *l, float **out, ks_err *err)
{
	float *raw;

	if (check_kernel(c, w, "kernel", canon, rank, l, err) < 0)
		return -1;
	if (ks_sp_read_weight(c, w, &raw, err) < 0)
		return -1;
	if (layout_match(w, l) && l->perm[0] >= 0) {
		int64_t n;
		float *t;
		ks_numel(canon, rank, &n);
		t = ks_xmalloc((size_t)(n ? n : 1) * sizeof(float));
		ks_sp_permute(raw, t, l->rank, l->shape, l->perm);
		free(raw);
		raw = t;
	}
	*out = raw;
	return 0;
}

/* Theano convolved (flipped kernels): reversing every spatial axis is
 * reversing the order of the flattened taps. */
static void flip_taps(float *k, int64_t taps, int64_t block)
{
	for (int64_t a = 0, b = taps - 1; a < b; a++, b--)
		for (int64_t i = 0; i < block; i++) {
			float t = k[a * block + i];
			k[a * block + i] = k[b * block + i];
			k[b * block + i] = t;
		}
}

static int conv_load(ks_op_call *c, ks_err *err)
{
	conv_priv *p = c->priv;
	float *k = NULL;

	if (!p || p->pin < 0)
		return ks_fail(err, "layer %s (%s): shapes must be known to load", c->layer->name,
		               c->layer->class_name);
	free(p->k);
	free(p->pw);
	free(p->bias);
	p->k = p->pw = p->bias = NULL;
	if (load_kernel(c, w_kernel(c, p), p->kshape, p->krank, &p->klay, &k, err) < 0)
		return -1;
	if (c->theano && p->def->theano_flip)
		flip_taps(k, p->taps, p->kshape[p->krank - 2] * p->kshape[p->krank - 1]);
	switch (p->def->kind) {
	case CK_CONV:
		if (p->groups == 1) { /* Winograd too: ks_wino_run transforms it per run */
			p->k = k;
		} else {
			/* (taps, cin_g, cout) -> per group (taps, cin_g, cout_g) */
			int64_t cg = p->cin / p->groups, og = p->cout / p->groups;
			p->k = ks_xmalloc((size_t)(p->taps * cg * p->cout) * sizeof(float));
			for (int64_t g = 0; g < p->groups; g++)
				for (int64_t r = 0; r < p->taps * cg; r++)
					memcpy(p->k + (g * p->taps * cg + r) * og, k + r * p->cout + g * og,
					       (size_t)og * sizeof(float));
			free(k);
		}
		break;
	case CK_DEPTHWISE:
	case CK_SEPARABLE:
		p->k = k; /* (taps, cin, mult): output channel c*mult + m */
		break;
	case CK_TRANSPOSE: {
		/* (taps, cout, cin) -> (cin, taps, cout) */
		int64_t tc = p->taps * p->cout;
		p->k = ks_xmalloc((size_t)(tc * p->cin) * sizeof(float));
		for (int64_t t = 0; t < tc; t++)
			for (int64_t i = 0; i < p->cin; i++)
				p->k[i * tc + t] = k[t * p->cin + i];
		free(k);
		break;
	}
	}
	if (p->def->kind == CK_SEPARABLE &&
	    load_kernel(c, w_point(c, p), p->pshape, p->prank, &p->play, &p->pw, err) < 0)
		return -1;
	if (p->use_bias) {
		int64_t bs[1] = {p->cout};
		const ks_weight *w = w_bias(c, p);
		if (ks_sp_check_shape(c, w, "bias", 1, bs, err) < 0 || ks_sp_read_weight(c, w, &p->bias, err) < 0)
			return -1;
	}
	return 0;
}

static void fill_bias(float *y, int64_t rows, int64_t ch, const float *bias)
{
	if (!bias) {
		memset(y, 0, (size_t)(rows * ch) * sizeof(float));
		return;
	}
	if (rows <= 0)
		return;
	/* one row, then doubling copies: log2(rows) calls instead of rows */
	memcpy(y, bias, (size_t)ch * sizeof(float));
	for (int64_t done = 1; done < rows; done *= 2) {
		int64_t n = rows - done < done ? rows - done : done;
		memcpy(y + done * ch, y, (size_t)(n * ch) * sizeof(float));
	}
}

/* Output position index -> its 3 coordinates. */
static void unravel(const conv_priv *p, int64_t pos, int64_t *o)
{
	o[2] = pos % p->w[2].out;
	pos /= p->w[2].out;
	o[1] = pos % p->w[1].out;
	o[0] = pos / p->w[1].out;
}

static void im2col(const conv_priv *p, const float *x, float *col, int64_t p0, int64_t rows)
{
	const int64_t cg = p->cin / p->groups, ktot = p->taps * p->cin, kg = p->taps * cg;
	const ks_win *w = p->w;
	int64_t o[3];

	unravel(p, p0, o);
	for (int64_t r = 0; r < rows; r++) {
		float *row = col + r * ktot;
		int64_t t = 0;
		for (int64_t t0 = 0; t0 < w[0].k; t0++) {
			int64_t i0 = o[0] * w[0].s + t0 * w[0].dil - w[0].pad;
			bool ok0 = i0 >= 0 && i0 < w[0].in;
			for (int64_t t1 = 0; t1 < w[1].k; t1++) {
				int64_t i1 = o[1] * w[1].s + t1 * w[1].dil - w[1].pad;
				bool ok1 = ok0 && i1 >= 0 && i1 < w[1].in;
				const float *xr = x + (i0 * w[1].in + i1) * w[2].in * p->cin;
				for (int64_t t2 = 0; t2 < w[2].k; t2++, t++) {
					int64_t i2 = o[2] * w[2].s + t2 * w[2].dil - w[2].pad;
					bool ok = ok1 && i2 >= 0 && i2 < w[2].in;
					if (p->groups == 1 && cg < 16) {
						/* a few channels (RGB input): a call per tap would cost more than the copy */
						float *dst = row + t * cg;
						const float *src = xr + i2 * p->cin;
						if (ok)
							for (int64_t k = 0; k < cg; k++)
								dst[k] = src[k];
						else
							for (int64_t k = 0; k < cg; k++)
								dst[k] = 0.0f;
					} else if (p->groups == 1) {
						if (ok)
							memcpy(row + t * cg, xr + i2 * p->cin, (size_t)cg * sizeof(float));
						else
							memset(row + t * cg, 0, (size_t)cg * sizeof(float));
					} else {
						for (int64_t g = 0; g < p->groups; g++) {
							if (ok)
								memcpy(row + g * kg + t * cg, xr + i2 * p->cin + g * cg,
								       (size_t)cg * sizeof(float));
							else
								memset(row + g * kg + t * cg, 0, (size_t)cg * sizeof(float));
						}
					}
				}
			}
		}
		if (++o[2] == w[2].out) {
			o[2] = 0;
			if (++o[1] == w[1].out) {
				o[1] = 0;
				o[0]++;
			}
		}
	}
}

/* `images` images of channels_last x into y. */
static void run_conv(const conv_priv *p, int64_t images, const float *x, float *y, float *col)
{
	if (p->wino) {
		ks_wino_run(x, images, p->w[0].in, p->w[1].in, p->cin, p->k, p->bias, p->cout, p->w[0].out,
		            p->w[1].out, p->w[0].pad, p->w[1].pad, p->tblk, y, col);
		return;
	}
	if (p->direct) {
		fill_bias(y, p->pout, p->cout, p->bias);
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)p->pout, (int)p->cout, (int)p->cin,
		            1.0f, x, (int)p->cin, p->k, (int)p->cout, 1.0f, y, (int)p->cout);
		return;
	}
	const int64_t cg = p->cin / p->groups, og = p->cout / p->groups;
	const int64_t ktot = p->taps * p->cin, kg = p->taps * cg;
	for (int64_t p0 = 0; p0 < p->pout; p0 += p->rows) {
		int64_t rows = p->pout - p0 < p->rows ? p->pout - p0 : p->rows;
		float *yb = y + p0 * p->cout;
		im2col(p, x, col, p0, rows);
		fill_bias(yb, rows, p->cout, p->bias);
		for (int64_t g = 0; g < p->groups; g++)
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)og, (int)kg,
			            1.0f, col + g * kg, (int)ktot, p->k + g * kg * og, (int)og, 1.0f,
			            yb + g * og, (int)p->cout);
	}
}

/* Depthwise: y[pos, c*mult + m] = sum_taps x[pos', c] * k[tap, c, m]. */
KS_CLONES
static void run_depthwise(const conv_priv *p, const float *x, float *y, const float *bias)
{
	const ks_win *w = p->w;
	const int64_t cin = p->cin, mult = p->mult, cout = cin * mult;
	int64_t pos = 0;

	for (int64_t o0 = 0; o0 < w[0].out; o0++)
		for (int64_t o1 = 0; o1 < w[1].out; o1++)
			for (int64_t o2 = 0; o2 < w[2].out; o2++, pos++) {
				float *yp = y + pos * cout;
				int64_t t = 0;
				if (bias)
					memcpy(yp, bias, (size_t)cout * sizeof(float));
				else
					memset(yp, 0, (size_t)cout * sizeof(float));
				for (int64_t t0 = 0; t0 < w[0].k; t0++) {
					int64_t i0 = o0 * w[0].s + t0 * w[0].dil - w[0].pad;
					for (int64_t t1 = 0; t1 < w[1].k; t1++) {
						int64_t i1 = o1 * w[1].s + t1 * w[1].dil - w[1].pad;
						for (int64_t t2 = 0; t2 < w[2].k; t2++, t++) {
							int64_t i2 = o2 * w[2].s + t2 * w[2].dil - w[2].pad;
							if (i0 < 0 || i0 >= w[0].in || i1 < 0 || i1 >= w[1].in ||
							    i2 < 0 || i2 >= w[2].in)
								continue;
							const float *xp = x + ((i0 * w[1].in + i1) * w[2].in + i2) * cin;
							const float *kp = p->k + t * cout;
							if (mult == 1) {
								int64_t ch = 0;
								for (; ch + 8 <= cin; ch += 8)
									KS_ST8(yp + ch, KS_LD8(yp + ch) +
									       KS_LD8(xp + ch) * KS_LD8(kp + ch));
								for (; ch < cin; ch++)
									yp[ch] += xp[ch] * kp[ch];
							} else {
								for (int64_t ch = 0; ch < cin; ch++)
									for (int64_t m = 0; m < mult; m++)
										yp[ch * mult + m] += xp[ch] * kp[ch * mult + m];
							}
						}
					}
				}
			}
}

static void run_transpose(const conv_priv *p, const float *x, float *y, float *g)
{
	const ks_win *w = p->w;
	const int64_t tc = p->taps * p->cout, cout = p->cout;
	int64_t pos = 0;

	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)p->pin, (int)tc, (int)p->cin, 1.0f,
	            x, (int)p->cin, p->k, (int)tc, 0.0f, g, (int)tc);
	fill_bias(y, p->pout, cout, p->bias);
	for (int64_t i0 = 0; i0 < w[0].in; i0++)
		for (int64_t i1 = 0; i1 < w[1].in; i1++)
			for (int64_t i2 = 0; i2 < w[2].in; i2++, pos++) {
				const float *gp = g + pos * tc;
				int64_t t = 0;
				for (int64_t t0 = 0; t0 < w[0].k; t0++) {
					int64_t o0 = i0 * w[0].s + t0 * w[0].dil - w[0].pad;
					for (int64_t t1 = 0; t1 < w[1].k; t1++) {
						int64_t o1 = i1 * w[1].s + t1 * w[1].dil - w[1].pad;
						for (int64_t t2 = 0; t2 < w[2].k; t2++, t++) {
							int64_t o2 = i2 * w[2].s + t2 * w[2].dil - w[2].pad;
							if (o0 < 0 || o0 >= w[0].out || o1 < 0 || o1 >= w[1].out ||
							    o2 < 0 || o2 >= w[2].out)
								continue;
							float *yp = y + ((o0 * w[1].out + o1) * w[2].out + o2) * cout;
							const float *src = gp + t * cout;
							for (int64_t ch = 0; ch < cout; ch++)
								yp[ch] += src[ch];
						}
					}
				}
			}
}

static void conv_run(const ks_op_call *c, const float *const *in, float *const *out, float *scratch)
{
	const conv_priv *p = c->priv;
	const int64_t batch = c->in[0].d[0];
	const size_t xin = (size_t)(p->pin * p->cin), yout = (size_t)(p->pout * p->cout);

	if (p->direct && !p->cf && batch * p->pout <= BLAS_MAX) {
		/* 1x1 channels_last: the whole batch is one (batch*pixels, cin) matrix */
		fill_bias(out[0], batch * p->pout, p->cout, p->bias);
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(batch * p->pout), (int)p->cout,
		            (int)p->cin, 1.0f, in[0], (int)p->cin, p->k, (int)p->cout, 1.0f, out[0], (int)p->cout);
		return;
	}
	if (p->wino && !p->cf && p->def->kind == CK_CONV) {
		run_conv(p, batch, in[0], out[0], scratch + p->off_t);
		return;
	}
	for (int64_t b = 0; b < batch; b++) {
		const float *x = in[0] + (size_t)b * xin;
		float *y = out[0] + (size_t)b * yout;
		float *tmp = scratch + p->off_t;
		if (p->cf) {
			ks_sp_to_last(x, scratch + p->off_x, p->cin, p->pin);
			x = scratch + p->off_x;
			y = scratch + p->off_y;
		}
		switch (p->def->kind) {
		case CK_CONV:
			run_conv(p, 1, x, y, tmp);
			break;
		case CK_DEPTHWISE:
			run_depthwise(p, x, y, p->bias);
			break;
		case CK_SEPARABLE:
			run_depthwise(p, x, tmp, NULL);
			fill_bias(y, p->pout, p->cout, p->bias);
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)p->pout, (int)p->cout,
			            (int)(p->cin * p->mult), 1.0f, tmp, (int)(p->cin * p->mult), p->pw,
			            (int)p->cout, 1.0f, y, (int)p->cout);
			break;
		case CK_TRANSPOSE:
			run_transpose(p, x, y, tmp);
			break;
		}
		if (p->cf)
			ks_sp_to_first(y, out[0] + (size_t)b * yout, p->cout, p->pout);
	}
}


/* ---- LocallyConnected1D/2D (Keras 2, implementation=1) -------------------
 * Unshared weights: kernel (out positions, patch, filters), bias (out..., filters).
 * The patch is flattened as Keras' local_conv slices it: (k..., in) for
 * channels_last, (in, k...) for channels_first. */

typedef struct lc_priv {
	bool cf, use_bias;
	int n;
	ks_win w[KS_SP_MAX];
	int64_t cin, filters, feat, pin, pout;
	float *k, *bias;
} lc_priv;

static void lc_free(ks_op_call *c)
{
	lc_priv *p = c->priv;
	if (p) {
		free(p->k);
		free(p->bias);
	}
	free(p);
	c->priv = NULL;
}

static const ks_weight *lc_weight(const ks_op_call *c, const lc_priv *p, bool bias)
{
	return ks_sp_weight(c, bias ? n_bias : n_kernel, bias ? 1 : 0, p->use_bias ? 2 : 1);
}

static void lc_shapes(const lc_priv *p, int64_t *ks, int64_t *bs)
{
	ks[0] = p->pout;
	ks[1] = p->feat;
	ks[2] = p->filters;
	for (int i = 0; i < p->n; i++)
		bs[i] = p->w[i].out;
	bs[p->n] = p->filters;
}

static int lc_infer(ks_op_call *c, ks_err *err)
{
	static const char *const kk[] = {"kernel_size", "filter_length", NULL};
	static const char *const sk[] = {"strides", "subsample_length", "subsample", NULL};
	static const char *const fk[] = {"filters", "nb_filter", NULL};
	const int n = strcmp(c->layer->class_name, "LocallyConnected1D") == 0 ? 1 : 2;
	int64_t k[KS_SP_MAX] = {1, 1, 1}, s[KS_SP_MAX] = {1, 1, 1}, one[KS_SP_MAX] = {1, 1, 1}, impl, ks[3], bs[3];
	const json_t *fv;
	ks_pad pad;
	ks_sp in, out;
	lc_priv *p;

	lc_free(c);
	p = ks_xcalloc(1, sizeof *p);
	c->priv = p;
	p->n = n;
	if (c->n_in != 1)
		return ks_fail(err, "layer %s (%s): expects one input, got %d", c->layer->name,
		               c->layer->class_name, c->n_in);
	if (ks_sp_data_format(c, &p->cf, err) < 0 || ks_sp_padding(c, false, &pad, err) < 0 ||
	    ks_sp_ints(c, kk, n, NULL, k, err) < 0 || ks_sp_ints(c, sk, n, one, s, err) < 0)
		return -1;
	if (ks_cfg_int(c->config, "implementation", 1, &impl, err) < 0 ||
	    ks_cfg_bool(c->config, "use_bias", true, &p->use_bias, err) < 0)
		return ks_err_prefix(err, "layer %s (%s)", c->layer->name, c->layer->class_name);
	if (impl != 1)
		return ks_fail(err, "layer %s (%s): implementation=%lld is not supported (only 1)",
		               c->layer->name, c->layer->class_name, (long long)impl);
	if (pad != KS_PAD_VALID)
		return ks_fail(err, "layer %s (%s): only padding 'valid' exists for this layer",
		               c->layer->name, c->layer->class_name);
	fv = ks_cfg_get_any(c->config, fk);
	if (!fv || !json_is_integer(fv) || json_integer_value(fv) <= 0 || json_integer_value(fv) > (1 << 24))
		return ks_fail(err, "layer %s (%s): 'filters' is missing or not a positive integer",
		               c->layer->name, c->layer->class_name);
	p->filters = json_integer_value(fv);
	if (ks_sp_from_in(c, 0, n, p->cf, true, &in, err) < 0)
		return -1;
	if (in.ch == 0)
		return ks_fail(err, "layer %s (%s): the input has no channels", c->layer->name, c->layer->class_name);
	for (int i = 0; i < KS_SP_MAX; i++) {
		if (ks_win_make(&p->w[i], i < n ? in.d[i] : 1, i < n ? k[i] : 1, i < n ? s[i] : 1, 1,
		                KS_PAD_VALID, err) < 0)
			return ks_err_prefix(err, "layer %s (%s)", c->layer->name, c->layer->class_name);
		if (p->w[i].in < 0)
			return ks_fail(err, "layer %s (%s): needs known input sizes (its weights depend on them)",
			               c->layer->name, c->layer->class_name);
	}
	if (ks_sp_check_fit(c, p->w, n, "kernel", err) < 0)
		return -1;
	p->cin = in.ch;
	p->pin = ks_sp_pixels(&in);
	p->pout = p->w[0].out * p->w[1].out;
	if (p->pin > BLAS_MAX / p->cin || k[0] * k[1] > BLAS_MAX / p->cin)
		return size_fail(c, err);
	p->feat = k[0] * k[1] * p->cin;
	if (p->pout > BLAS_MAX / p->filters || p->feat > BLAS_MAX / p->filters)
		return size_fail(c, err);
	lc_shapes(p, ks, bs);
	if (ks_sp_check_shape(c, lc_weight(c, p, false), "kernel", 3, ks, err) < 0)
		return -1;
	if (p->use_bias && ks_sp_check_shape(c, lc_weight(c, p, true), "bias", n + 1, bs, err) < 0)
		return -1;
	out = in;
	out.ch = p->filters;
	for (int i = 0; i < n; i++)
		out.d[i] = p->w[i].out;
	c->n_out = 1;
	ks_sp_to_shape(&out, &c->out[0]);
	/* per output position: the batch's patches and results */
	c->scratch_floats = c->in[0].d[0] > 0 ? (size_t)(c->in[0].d[0] * (p->feat + p->filters)) : 0;
	return 0;
}

static int lc_load(ks_op_call *c, ks_err *err)
{
	lc_priv *p = c->priv;
	if (!p)
		return ks_fail(err, "layer %s: not inferred", c->layer->name);
	free(p->k);
	free(p->bias);
	p->k = p->bias = NULL;
	if (ks_sp_read_weight(c, lc_weight(c, p, false), &p->k, err) < 0)
		return -1;
	if (p->use_bias && ks_sp_read_weight(c, lc_weight(c, p, true), &p->bias, err) < 0)
		return -1;
	return 0;
}

static void lc_run(const ks_op_call *c, const float *const *in, float *const *out, float *scratch)
{
	const lc_priv *p = c->priv;
	const int64_t B = c->in[0].d[0], F = p->feat, fo = p->filters;
	const int64_t k0 = p->w[0].k, k1 = p->w[1].k, in1 = p->w[1].in, cin = p->cin;
	float *patch = scratch, *res = scratch + B * F;
	int64_t pos = 0;

	for (int64_t o0 = 0; o0 < p->w[0].out; o0++)
		for (int64_t o1 = 0; o1 < p->w[1].out; o1++, pos++) {
			const int64_t r0 = o0 * p->w[0].s, q0 = o1 * p->w[1].s;
			for (int64_t b = 0; b < B; b++) {
				const float *x = in[0] + b * p->pin * cin;
				float *dst = patch + b * F;
				if (!p->cf) {
					for (int64_t t0 = 0; t0 < k0; t0++)
						memcpy(dst + t0 * k1 * cin, x + ((r0 + t0) * in1 + q0) * cin,
						       (size_t)(k1 * cin) * sizeof(float));
				} else {
					for (int64_t ch = 0; ch < cin; ch++)
						for (int64_t t0 = 0; t0 < k0; t0++)
							memcpy(dst + (ch * k0 + t0) * k1,
							       x + ch * p->pin + (r0 + t0) * in1 + q0,
							       (size_t)k1 * sizeof(float));
				}
			}
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, (int)fo, (int)F, 1.0f, patch,
			            (int)F, p->k + pos * F * fo, (int)fo, 0.0f, res, (int)fo);
			for (int64_t b = 0; b < B; b++)
				for (int64_t f = 0; f < fo; f++) {
					float v = res[b * fo + f] + (p->bias ? p->bias[pos * fo + f] : 0.0f);
					if (p->cf)
						out[0][(b * fo + f) * p->pout + pos] = v;
					else
						out[0][(b * p->pout + pos) * fo + f] = v;
				}
		}
}

#define CONV_OP(name, cls) \
	static const ks_op name = {cls, KS_OP_POST_ACTIVATION, conv_infer, conv_load, conv_run, conv_free};

CONV_OP(op_conv1d, "Conv1D")
CONV_OP(op_conv2d, "Conv2D")
CONV_OP(op_conv3d, "Conv3D")
CONV_OP(op_dw1d, "DepthwiseConv1D")
CONV_OP(op_dw2d, "DepthwiseConv2D")
CONV_OP(op_sep1d, "SeparableConv1D")
CONV_OP(op_sep2d, "SeparableConv2D")
CONV_OP(op_tr1d, "Conv1DTranspose")
CONV_OP(op_tr2d, "Conv2DTranspose")
CONV_OP(op_tr3d, "Conv3DTranspose")
CONV_OP(op_k1_conv1d, "Convolution1D")
CONV_OP(op_k1_conv2d, "Convolution2D")
CONV_OP(op_k1_conv3d, "Convolution3D")
CONV_OP(op_k1_atrous1d, "AtrousConvolution1D")
CONV_OP(op_k1_atrous2d, "AtrousConvolution2D")
CONV_OP(op_k1_sep2d, "SeparableConvolution2D")
CONV_OP(op_k1_deconv2d, "Deconvolution2D")

static const ks_op op_lc1d = {"LocallyConnected1D", KS_OP_POST_ACTIVATION, lc_infer, lc_load, lc_run, lc_free};
static const ks_op op_lc2d = {"LocallyConnected2D", KS_OP_POST_ACTIVATION, lc_infer, lc_load, lc_run, lc_free};

const ks_op *const ks_ops_conv[] = {
	&op_lc1d, &op_lc2d,
	&op_conv1d, &op_conv2d, &op_conv3d, &op_dw1d, &op_dw2d, &op_sep1d, &op_sep2d,
	&op_tr1d, &op_tr2d, &op_tr3d,
	&op_k1_conv1d, &op_k1_conv2d, &op_k1_conv3d, &op_k1_atrous1d, &op_k1_atrous2d,
	&op_k1_sep2d, &op_k1_deconv2d,
	NULL,
};
