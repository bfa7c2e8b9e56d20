/* ks_layers_merge: Add, Subtract, Multiply, Average, Maximum, Minimum,
 * Concatenate, Dot and Keras 1's Merge (see ks_ops.h).
 *
 * Elementwise merges follow keras/src/layers/merging/base_merge.py: inputs
 * of lower rank get axes of size 1 inserted at axis 1 until all ranks agree,
 * then numpy broadcasting applies (a 1 stretches; otherwise sizes must match).
 * Dot follows Keras' batch_dot: the batch axis is kept, the two dot axes are
 * contracted, the output is x's remaining axes then y's, and a result of
 * rank 1 becomes (batch, 1). normalize=True L2-normalises each input along
 * its dot axis first (x / sqrt(max(sum x^2, 1e-12)), as tf.math.l2_normalize).
 */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <string.h>

#include <cblas.h>

#include "ks_cfg.h"
#include "ks_ops.h"
#include "ks_util.h"

typedef enum mode { M_ADD, M_SUB, M_MUL, M_AVG, M_MAX, M_MIN, M_CONCAT, M_DOT } mode;

/* ---- elementwise with broadcasting ---- */

typedef struct ew {
	mode m;
	int n_in;
	int rank;
	/* strides of each input over the output index space (0 where broadcast) */
	int64_t stride[KS_MAX_IO][KS_MAX_RANK];
	bool same;         /* every input has the output's shape */
} ew;

static int ew_shape(const ks_op_call *c, ks_shape *out, ks_shape *padded, ks_err *err)
{
	int rank = 0;
	char a[160], b[160];

	for (int i = 0; i < c->n_in; i++)
		if (c->in[i].rank > rank)
			rank = c->in[i].rank;
	for (int i = 0; i < c->n_in; i++) {
		const ks_shape *s = &c->in[i];
		int extra = rank - s->rank;
		if (s->rank < 1)
			return ks_fail(err, "input %d has no batch axis", i);
		/* insert (rank - r) axes of 1 at axis 1 */
		padded[i].rank = rank;
		padded[i].d[0] = s->d[0];
		for (int k = 0; k < extra; k++)
			padded[i].d[1 + k] = 1;
		for (int k = 1; k < s->rank; k++)
			padded[i].d[extra + k] = s->d[k];
	}
	out->rank = rank;
	for (int k = 0; k < rank; k++) {
		int64_t d = 1;
		bool unknown = false;
		for (int i = 0; i < c->n_in; i++) {
			int64_t x = padded[i].d[k];
			if (x < 0) {
				unknown = true;
				continue;
			}
			if (x == 1)
				continue;
			if (d != 1 && x != d)
				return ks_fail(err, "inputs of shapes %s and %s cannot be combined",
				               ks_shape_str(c->in[0].d, c->in[0].rank, a, sizeof a),
				               ks_shape_str(c->in[i].d, c->in[i].rank, b, sizeof b));
			d = x;
		}
		out->d[k] = unknown && d == 1 ? -1 : d;
	}
	return 0;
}

static int ew_infer_mode(ks_op_call *c, mode m, ks_err *err)
{
	ks_shape padded[KS_MAX_IO];

	if (c->n_in < (m == M_SUB ? 2 : 1) || (m == M_SUB && c->n_in != 2))
		return ks_fail(err, "%s takes %s inputs, got %d", c->layer->class_name,
		               m == M_SUB ? "exactly 2" : "at least 1", c->n_in);
	c->n_out = 1;
	return ew_shape(c, &c->out[0], padded, err);
}

static int ew_load_mode(ks_op_call *c, mode m, ks_err *err)
{
	ks_shape padded[KS_MAX_IO];
	ks_shape out;
	ew *e = ks_xcalloc(1, sizeof *e);

	c->priv = e;
	if (ew_shape(c, &out, padded, err) < 0)
		return -1;
	e->m = m;
	e->n_in = c->n_in;
	e->rank = out.rank;
	e->same = true;
	for (int i = 0; i < c->n_in; i++) {
		int64_t st = 1;
		for (int k = out.rank - 1; k >= 0; k--) {
			e->stride[i][k] = padded[i].d[k] == 1 && out.d[k] != 1 ? 0 : st;
			st *= padded[i].d[k];
			if (padded[i].d[k] != out.d[k])
				e->same = false;
		}
	}
	return 0;
}

static inline float combine(mode m, float acc, float x)
{
	switch (m) {
	case M_ADD:
	case M_AVG:
		return acc + x;
	case M_SUB:
		return acc - x;
	case M_MUL:
		return acc * x;
	case M_MAX:
		return fmaxf(acc, x);
	case M_MIN:
		return fminf(acc, x);
	default:
		return acc;
	}
}

static void ew_run(const ks_op_call *c, const float *const *in, float *const *out, float *s)
{
	const ew *e = c->priv;
	int64_t n = ks_shape_numel(&c->out[0]);
	float *y = out[0];

	if (e->same) {
		if (y != in[0])
			memcpy(y, in[0], (size_t)n * sizeof(float));
		for (int i = 1; i < e->n_in; i++) {
			const float *x = in[i];
			switch (e->m) {
			case M_ADD:
			case M_AVG:
				for (int64_t j = 0; j < n; j++)
					y[j] += x[j];
				break;
			case M_SUB:
				for (int64_t j = 0; j < n; j++)
					y[j] -= x[j];
				break;
			case M_MUL:
				for (int64_t j = 0; j < n; j++)
					y[j] *= x[j];
				break;
			default:
				for (int64_t j = 0; j < n; j++)
					y[j] = combine(e->m, y[j], x[j]);
				break;
			}
		}
	} else {
		int64_t idx[KS_MAX_RANK] = {0};
		int64_t off[KS_MAX_IO] = {0};
		for (int64_t j = 0; j < n; j++) {
			float acc = in[0][off[0]];
			for (int i = 1; i < e->n_in; i++)
				acc = combine(e->m, acc, in[i][off[i]]);
			y[j] = acc;
			/* advance the multi-index and every input's offset */
			for (int k = e->rank - 1; k >= 0; k--) {
				idx[k]++;
				for (int i = 0; i < e->n_in; i++)
					off[i] += e->stride[i][k];
				if (idx[k] < c->out[0].d[k])
					break;
				for (int i = 0; i < e->n_in; i++)
					off[i] -= e->stride[i][k] * idx[k];
				idx[k] = 0;
			}
		}
	}
	if (e->m == M_AVG) {
		float inv = 1.0f / (float)e->n_in;
		for (int64_t j = 0; j < n; j++)
			y[j] *= inv;
	}
}

static void free_priv(ks_op_call *c)
{
	free(c->priv);
	c->priv = NULL;
}

#define EW_OP(var, name, m) \
	static int var##_infer(ks_op_call *c, ks_err *err) { return ew_infer_mode(c, m, err); } \
	static int var##_load(ks_op_call *c, ks_err *err) { return ew_load_mode(c, m, err); } \
	static const ks_op var = {name, KS_OP_INPLACE_OK, var##_infer, var##_load, ew_run, free_priv}

EW_OP(op_add, "Add", M_ADD);
EW_OP(op_sub, "Subtract", M_SUB);
EW_OP(op_mul, "Multiply", M_MUL);
EW_OP(op_avg, "Average", M_AVG);
EW_OP(op_max, "Maximum", M_MAX);
EW_OP(op_min, "Minimum", M_MIN);

/* ---- Concatenate ---- */

typedef struct concat {
	int axis;
	size_t outer;                /* product of dims before axis */
	size_t chunk[KS_MAX_IO];     /* floats per outer index of each input */
} concat;

static int concat_shape(const ks_op_call *c, int64_t ax_cfg, ks_shape *out, int *axis, ks_err *err)
{
	char a[160], b[160];
	int rank = c->in[0].rank;
	int ax = (int)(ax_cfg < 0 ? ax_cfg + rank : ax_cfg);

	if (c->n_in < 1)
		return ks_fail(err, "Concatenate needs inputs");
	if (ax_cfg < -rank || ax_cfg >= rank || ax < 1)
		return ks_fail(err, "axis %lld does not fit inputs of rank %d", (long long)ax_cfg, rank);
	*out = c->in[0];
	for (int i = 1; i < c->n_in; i++) {
		const ks_shape *s = &c->in[i];
		bool ok = s->rank == rank;
		for (int k = 0; ok && k < rank; k++)
			if (k != ax && s->d[k] >= 0 && out->d[k] >= 0 && s->d[k] != out->d[k])
				ok = false;
		if (!ok)
			return ks_fail(err, "inputs of shapes %s and %s cannot be concatenated on axis %lld",
			               ks_shape_str(c->in[0].d, rank, a, sizeof a),
			               ks_shape_str(s->d, s->rank, b, sizeof b), (long long)ax_cfg);
		for (int k = 0; k < rank; k++)
			if (k != ax && out->d[k] < 0)
				out->d[k] = s->d[k];
		out->d[ax] = out->d[ax] < 0 || s->d[ax] < 0 ? -1 : out->d[ax] + s->d[ax];
	}
	*axis = ax;
	return 0;
}

static int concat_axis_cfg(const ks_op_call *c, const char *key, int64_t *ax, ks_err *err)
{
	return ks_cfg_int(c->config, key, -1, ax, err);
}

static int concat_setup(ks_op_call *c, int64_t ax_cfg, ks_err *err)
{
	int ax;
	if (concat_shape(c, ax_cfg, &c->out[0], &ax, err) < 0)
		return -1;
	c->n_out = 1;
	return 0;
}

static int concat_prepare(ks_op_call *c, int64_t ax_cfg, ks_err *err)
{
	ks_shape out;
	int ax;
	concat *k = ks_xcalloc(1, sizeof *k);

	c->priv = k;
	if (concat_shape(c, ax_cfg, &out, &ax, err) < 0)
		return -1;
	k->axis = ax;
	k->outer = 1;
	for (int d = 0; d < ax; d++)
		k->outer *= (size_t)out.d[d];
	for (int i = 0; i < c->n_in; i++) {
		size_t ch = 1;
		for (int d = ax; d < out.rank; d++)
			ch *= (size_t)c->in[i].d[d];
		k->chunk[i] = ch;
	}
	return 0;
}

static int concat_infer(ks_op_call *c, ks_err *err)
{
	int64_t ax;
	if (concat_axis_cfg(c, "axis", &ax, err) < 0)
		return -1;
	return concat_setup(c, ax, err);
}

static int concat_load(ks_op_call *c, ks_err *err)
{
	int64_t ax;
	if (concat_axis_cfg(c, "axis", &ax, err) < 0)
		return -1;
	return concat_prepare(c, ax, err);
}

static void concat_run(const ks_op_call *c, const float *const *in, float *const *out, float *s)
{
	const concat *k = c->priv;
	float *y = out[0];

	for (size_t o = 0; o < k->outer; o++)
		for (int i = 0; i < c->n_in; i++) {
			memcpy(y, in[i] + o * k->chunk[i], k->chunk[i] * sizeof(float));
			y += k->chunk[i];
		}
}

static const ks_op op_concat = {"Concatenate", 0, concat_infer, concat_load, concat_run, free_priv};

/* ---- Dot ---- */

typedef struct dot {
	int ax[2];              /* contracted axis of each input (>= 1) */
	bool normalize;
	int64_t batch;
	int64_t xr, yr, k;      /* x rest, y rest, contracted length */
	/* permutation of each input to (batch, rest, k) / (batch, k, rest) */
	int64_t x_outer, x_inner, y_outer, y_inner; /* dims before/after the axis (batch excluded) */
} dot;

static int dot_axes(const ks_op_call *c, int *ax, bool *normalize, ks_err *err)
{
	const json_t *v = json_object_get(c->config, "axes");
	int64_t a[2];

	if (!v)
		v = json_object_get(c->config, "dot_axes"); /* Keras 1 Merge */
	if (json_is_integer(v)) {
		a[0] = a[1] = json_integer_value(v);
	} else if (json_is_array(v) && json_array_size(v) == 2 &&
	           json_is_integer(json_array_get(v, 0)) && json_is_integer(json_array_get(v, 1))) {
		a[0] = json_integer_value(json_array_get(v, 0));
		a[1] = json_integer_value(json_array_get(v, 1));
	} else {
		return ks_fail(err, "axes should be an integer or a pair of integers");
	}
	for (int i = 0; i < 2; i++) {
		int r = c->in[i].rank;
		int64_t x = a[i] < 0 ? a[i] + r : a[i];
		if (a[i] < -r || a[i] >= r || x < 1)
			return ks_fail(err, "axis %lld does not fit input %d of rank %d", (long long)a[i], i, r);
		ax[i] = (int)x;
	}
	if (normalize && ks_cfg_bool(c->config, "normalize", false, normalize, err) < 0)
		return -1;
	return 0;
}

static int dot_infer(ks_op_call *c, ks_err *err)
{
	int ax[2];
	bool norm;
	char a[160], b[160];
	ks_shape *o = &c->out[0];

	if (c->n_in != 2)
		return ks_fail(err, "Dot takes exactly 2 inputs, got %d", c->n_in);
	if (c->in[0].rank < 2 || c->in[1].rank < 2)
		return ks_fail(err, "Dot needs inputs of rank >= 2");
	if (dot_axes(c, ax, &norm, err) < 0)
		return -1;
	int64_t k0 = c->in[0].d[ax[0]], k1 = c->in[1].d[ax[1]];
	if (k0 >= 0 && k1 >= 0 && k0 != k1)
		return ks_fail(err, "dot axes of shapes %s and %s differ in length",
		               ks_shape_str(c->in[0].d, c->in[0].rank, a, sizeof a),
		               ks_shape_str(c->in[1].d, c->in[1].rank, b, sizeof b));
	if (c->in[0].rank + c->in[1].rank - 3 > KS_MAX_RANK)
		return ks_fail(err, "the result would have too many axes");
	o->rank = 0;
	o->d[o->rank++] = c->in[0].d[0];
	for (int k = 1; k < c->in[0].rank; k++)
		if (k != ax[0])
			o->d[o->rank++] = c->in[0].d[k];
	for (int k = 1; k < c->in[1].rank; k++)
		if (k != ax[1])
			o->d[o->rank++] = c->in[1].d[k];
	if (o->rank == 1)
		o->d[o->rank++] = 1;
	c->n_out = 1;
	/* scratch: both inputs permuted (and normalised) */
	int64_t n0 = ks_shape_numel(&c->in[0]), n1 = ks_shape_numel(&c->in[1]);
	c->scratch_floats = n0 >= 0 && n1 >= 0 ? (size_t)(n0 + n1) : 0;
	return 0;
}

static int dot_load(ks_op_call *c, ks_err *err)
{
	dot *d = ks_xcalloc(1, sizeof *d);
	c->priv = d;
	if (dot_axes(c, d->ax, &d->normalize, err) < 0)
		return -1;
	d->batch = c->in[0].d[0];
	d->k = c->in[0].d[d->ax[0]];
	d->x_outer = d->x_inner = d->y_outer = d->y_inner = 1;
	for (int k = 1; k < c->in[0].rank; k++) {
		if (k < d->ax[0])
			d->x_outer *= c->in[0].d[k];
		else if (k > d->ax[0])
			d->x_inner *= c->in[0].d[k];
	}
	for (int k = 1; k < c->in[1].rank; k++) {
		if (k < d->ax[1])
			d->y_outer *= c->in[1].d[k];
		else if (k > d->ax[1])
			d->y_inner *= c->in[1].d[k];
	}
	d->xr = d->x_outer * d->x_inner;
	d->yr = d->y_outer * d->y_inner;
	if (d->xr > INT_MAX || d->yr > INT_MAX || d->k > INT_MAX)
		return ks_fail(err, "too large for one matrix product");
	return 0;
}

/* Copies one batch item of an input viewed as (outer, K, inner) into dst
 * as (outer*inner, K) (x side) or (K, outer*inner) (y side). */
static void gather(const float *src, float *dst, int64_t outer, int64_t K, int64_t inner, bool k_last)
{
	for (int64_t o = 0; o < outer; o++)
		for (int64_t k = 0; k < K; k++)
			for (int64_t i = 0; i < inner; i++) {
				float v = src[(o * K + k) * inner + i];
				if (k_last)
					dst[(o * inner + i) * K + k] = v;
				else
					dst[k * outer * inner + o * inner + i] = v;
			}
}

static void l2norm_rows(float *x, int64_t rows, int64_t K, bool k_last)
{
	/* k_last: rows of K contiguous; else columns of a (K, rows) matrix */
	for (int64_t r = 0; r < rows; r++) {
		double ss = 0.0;
		for (int64_t k = 0; k < K; k++) {
			float v = k_last ? x[r * K + k] : x[k * rows + r];
			ss += (double)v * v;
		}
		float inv = (float)(1.0 / sqrt(ss > 1e-12 ? ss : 1e-12));
		for (int64_t k = 0; k < K; k++) {
			if (k_last)
				x[r * K + k] *= inv;
			else
				x[k * rows + r] *= inv;
		}
	}
}

static void dot_run(const ks_op_call *c, const float *const *in, float *const *out, float *s)
{
	const dot *d = c->priv;
	int64_t xn = d->xr * d->k, yn = d->yr * d->k;
	float *xs = s, *ys = s + xn;

	for (int64_t b = 0; b < d->batch; b++) {
		gather(in[0] + b * xn, xs, d->x_outer, d->k, d->x_inner, true);
		gather(in[1] + b * yn, ys, d->y_outer, d->k, d->y_inner, false);
		if (d->normalize) {
			l2norm_rows(xs, d->xr, d->k, true);
			l2norm_rows(ys, d->yr, d->k, false);
		}
		/* out[b] (xr, yr) = xs (xr, k) . ys (k, yr) */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)d->xr, (int)d->yr, (int)d->k,
		            1.0f, xs, (int)d->k, ys, (int)d->yr, 0.0f, out[0] + b * d->xr * d->yr,
		            (int)d->yr);
	}
}

static const ks_op op_dot = {"Dot", 0, dot_infer, dot_load, dot_run, free_priv};

/* ---- Keras 1 Merge(mode=...) ---- */

static int merge_mode(const ks_op_call *c, mode *m, ks_err *err)
{
	const char *s;
	if (ks_cfg_str(c->config, "mode", "sum", &s, err) < 0)
		return -1;
	if (strcmp(s, "sum") == 0)
		*m = M_ADD;
	else if (strcmp(s, "mul") == 0)
		*m = M_MUL;
	else if (strcmp(s, "ave") == 0)
		*m = M_AVG;
	else if (strcmp(s, "max") == 0)
		*m = M_MAX;
	else if (strcmp(s, "concat") == 0)
		*m = M_CONCAT;
	else if (strcmp(s, "dot") == 0)
		*m = M_DOT;
	else
		return ks_fail(err, "Merge mode '%s' is not supported (a Python function or 'cos')", s);
	return 0;
}

static int merge_infer(ks_op_call *c, ks_err *err)
{
	mode m;
	if (merge_mode(c, &m, err) < 0)
		return -1;
	if (m == M_CONCAT) {
		int64_t ax;
		if (concat_axis_cfg(c, "concat_axis", &ax, err) < 0)
			return -1;
		return concat_setup(c, ax, err);
	}
	if (m == M_DOT)
		return dot_infer(c, err);
	/* Keras 1 required equal shapes for elementwise modes. */
	for (int i = 1; i < c->n_in; i++)
		if (c->in[i].rank != c->in[0].rank ||
		    memcmp(c->in[i].d + 1, c->in[0].d + 1, sizeof(int64_t) * (size_t)(c->in[0].rank - 1)))
			return ks_fail(err, "Merge inputs must have the same shape");
	return ew_infer_mode(c, m, err);
}

static int merge_load(ks_op_call *c, ks_err *err)
{
	mode m;
	if (merge_mode(c, &m, err) < 0)
		return -1;
	if (m == M_CONCAT) {
		int64_t ax;
		if (concat_axis_cfg(c, "concat_axis", &ax, err) < 0)
			return -1;
		return concat_prepare(c, ax, err);
	}
	if (m == M_DOT)
		return dot_load(c, err);
	return ew_load_mode(c, m, err);
}

static void merge_run(const ks_op_call *c, const float *const *in, float *const *out, float *s)
{
	mode m = M_ADD;
	merge_mode(c, &m, NULL);
	if (m == M_CONCAT)
		concat_run(c, in, out, s);
	else if (m == M_DOT)
		dot_run(c, in, out, s);
	else
		ew_run(c, in, out, s);
}

static const ks_op op_merge = {"Merge", 0, merge_infer, merge_load, merge_run, free_priv};

const ks_op *const ks_ops_merge[] = {
	&op_add, &op_sub, &op_mul, &op_avg, &op_max, &op_min, &op_concat, &op_dot, &op_merge,
	NULL,
};
