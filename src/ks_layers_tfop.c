/* ks_layers_tfop: TFOpLambda, the layer tf.keras (2.4+) records when a
 * functional model applies a TensorFlow function to a Keras tensor
 * (`x * 2.0`, `tf.nn.relu(x)`, `tf.reduce_mean(x, axis=1)`, ...).
 *
 * Unlike Lambda, the config names a public TensorFlow symbol
 * ({"function": "math.multiply"}) and the call's keyword arguments
 * ({"y": 2.0, "name": null}) are plain data, so a known subset can be run
 * without executing any code. Supported: elementwise binary ops whose
 * operands are tensors or constants (a number or a nested list, either
 * side: tf.keras saves `2.0 - x` with the constant as the first argument,
 * `_CONSTANT_VALUE`, and the tensor in kwargs), numpy broadcasting; unary math and
 * activation functions, reductions over non-batch axes, reshape,
 * expand_dims, squeeze, transpose keeping the batch axis first, concat;
 * and SlicingOpLambda's x[...] with constant indices. Anything else is
 * refused at plan time naming the function.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ks_act.h"
#include "ks_cfg.h"
#include "ks_ops.h"
#include "ks_util.h"

typedef enum kind {
	T_BINARY, T_UNARY, T_ACT, T_REDUCE, T_RESHAPE, T_EXPAND, T_SQUEEZE, T_TRANSPOSE, T_CONCAT,
} kind;

typedef enum bop { B_ADD, B_SUB, B_MUL, B_DIV, B_MAX, B_MIN, B_POW, B_SQDIFF, B_FLOORDIV, B_FLOORMOD,
	B_DIVNONAN } bop;
typedef enum uop { U_EXP, U_LOG, U_SQRT, U_RSQRT, U_SQUARE, U_ABS, U_NEG, U_RECIP, U_FLOOR, U_CEIL, U_ROUND,
	U_SIN, U_COS, U_TAN, U_ATAN, U_SIGN, U_LOG1P, U_EXPM1, U_ERF } uop;
typedef enum rop { R_MEAN, R_SUM, R_MAX, R_MIN, R_PROD } rop;

typedef struct fn {
	const char *name; /* TensorFlow symbol without the "tf." prefix */
	kind k;
	int op;           /* bop / uop / rop */
	const char *act;  /* T_ACT: ks_act name */
} fn;

static const fn fns[] = {
	{"__operators__.add", T_BINARY, B_ADD, NULL}, {"math.add", T_BINARY, B_ADD, NULL},
	{"math.add_n", T_BINARY, B_ADD, NULL},
	{"math.subtract", T_BINARY, B_SUB, NULL}, {"__operators__.sub", T_BINARY, B_SUB, NULL},
	{"math.multiply", T_BINARY, B_MUL, NULL}, {"__operators__.mul", T_BINARY, B_MUL, NULL},
	{"math.truediv", T_BINARY, B_DIV, NULL}, {"math.divide", T_BINARY, B_DIV, NULL},
	{"__operators__.truediv", T_BINARY, B_DIV, NULL},
	{"math.maximum", T_BINARY, B_MAX, NULL}, {"math.minimum", T_BINARY, B_MIN, NULL},
	{"math.pow", T_BINARY, B_POW, NULL}, {"__operators__.pow", T_BINARY, B_POW, NULL},
	{"math.squared_difference", T_BINARY, B_SQDIFF, NULL},
	{"math.floordiv", T_BINARY, B_FLOORDIV, NULL}, {"math.floormod", T_BINARY, B_FLOORMOD, NULL},
	{"math.mod", T_BINARY, B_FLOORMOD, NULL}, {"math.divide_no_nan", T_BINARY, B_DIVNONAN, NULL},
	{"math.exp", T_UNARY, U_EXP, NULL}, {"math.log", T_UNARY, U_LOG, NULL},
	{"math.sqrt", T_UNARY, U_SQRT, NULL}, {"math.rsqrt", T_UNARY, U_RSQRT, NULL},
	{"math.square", T_UNARY, U_SQUARE, NULL}, {"math.abs", T_UNARY, U_ABS, NULL},
	{"math.negative", T_UNARY, U_NEG, NULL}, {"__operators__.neg", T_UNARY, U_NEG, NULL},
	{"math.reciprocal", T_UNARY, U_RECIP, NULL}, {"math.floor", T_UNARY, U_FLOOR, NULL},
	{"math.ceil", T_UNARY, U_CEIL, NULL}, {"math.round", T_UNARY, U_ROUND, NULL},
	{"math.sin", T_UNARY, U_SIN, NULL}, {"math.cos", T_UNARY, U_COS, NULL},
	{"math.tan", T_UNARY, U_TAN, NULL}, {"math.atan", T_UNARY, U_ATAN, NULL},
	{"math.sign", T_UNARY, U_SIGN, NULL}, {"math.log1p", T_UNARY, U_LOG1P, NULL},
	{"math.expm1", T_UNARY, U_EXPM1, NULL}, {"math.erf", T_UNARY, U_ERF, NULL},
	{"nn.relu", T_ACT, 0, "relu"}, {"nn.relu6", T_ACT, 0, "relu6"},
	{"math.sigmoid", T_ACT, 0, "sigmoid"}, {"nn.sigmoid", T_ACT, 0, "sigmoid"},
	{"math.tanh", T_ACT, 0, "tanh"}, {"nn.tanh", T_ACT, 0, "tanh"},
	{"nn.softmax", T_ACT, 0, "softmax"}, {"math.softmax", T_ACT, 0, "softmax"},
	{"nn.log_softmax", T_ACT, 0, "log_softmax"},
	{"nn.elu", T_ACT, 0, "elu"}, {"nn.selu", T_ACT, 0, "selu"},
	{"math.softplus", T_ACT, 0, "softplus"}, {"nn.softplus", T_ACT, 0, "softplus"},
	{"nn.softsign", T_ACT, 0, "softsign"}, {"math.softsign", T_ACT, 0, "softsign"},
	{"nn.silu", T_ACT, 0, "swish"}, {"nn.swish", T_ACT, 0, "swish"},
	{"nn.gelu", T_ACT, 0, "gelu"}, {"nn.leaky_relu", T_ACT, 0, "leaky_relu"},
	{"math.reduce_mean", T_REDUCE, R_MEAN, NULL}, {"math.reduce_sum", T_REDUCE, R_SUM, NULL},
	{"math.reduce_max", T_REDUCE, R_MAX, NULL}, {"math.reduce_min", T_REDUCE, R_MIN, NULL},
	{"math.reduce_prod", T_REDUCE, R_PROD, NULL},
	{"reshape", T_RESHAPE, 0, NULL}, {"expand_dims", T_EXPAND, 0, NULL},
	{"squeeze", T_SQUEEZE, 0, NULL}, {"compat.v1.squeeze", T_SQUEEZE, 0, NULL},
	{"transpose", T_TRANSPOSE, 0, NULL}, {"compat.v1.transpose", T_TRANSPOSE, 0, NULL},
	{"concat", T_CONCAT, 0, NULL},
	{NULL, 0, 0, NULL},
};

typedef struct tfop {
	const fn *f;
	/* Binary ops: each operand is an input tensor or a constant from the
	 * call (a number or a nested list; xc/yc own its values). */
	float *xc, *yc;
	int y_in;                /* input index of y when it is a tensor */
	bool y_scalar;           /* y is one constant: the fast path */
	int rank;
	int64_t ystride[KS_MAX_RANK];   /* y over the output index space (0 = broadcast) */
	int64_t xstride[KS_MAX_RANK];
	bool same;               /* x and y have the output's shape */
	ks_act act;
	bool axes[KS_MAX_RANK];  /* reduce: which input axes */
	int perm[KS_MAX_RANK];   /* transpose */
	int64_t cat_axis;
} tfop;

static const json_t *kw(const ks_op_call *c, const char *key)
{
	const json_t *v = c->kwargs ? json_object_get(c->kwargs, key) : NULL;
	return json_is_null(v) ? NULL : v;
}

static const fn *lookup(const ks_op_call *c, ks_err *err)
{
	const char *name = NULL;
	if (ks_cfg_str(c->config, "function", NULL, &name, err) < 0)
		return NULL;
	if (!name) {
		ks_fail(err, "TFOpLambda has no function name");
		return NULL;
	}
	if (strncmp(name, "tf.", 3) == 0)
		name += 3;
	for (const fn *f = fns; f->name; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	ks_fail(err, "TensorFlow function tf.%s is not supported (it blocks prediction; "
	        "--until LAYER runs up to an earlier layer)", name);
	return NULL;
}

/* Constants in a call are numbers or nested lists of numbers (tf.keras
 * serialises numpy arrays and constant tensors with tolist()). */
#define MAX_CONST_VALUES (1 << 24)

static int const_shape(const json_t *v, int depth, ks_shape *sh)
{
	if (json_is_number(v) || json_is_boolean(v))
		return depth == sh->rank ? 0 : -1;
	if (!json_is_array(v) || depth >= KS_MAX_RANK || json_array_size(v) == 0)
		return -1;
	if (depth == sh->rank) {
		sh->d[sh->rank++] = (int64_t)json_array_size(v);
	} else if (sh->d[depth] != (int64_t)json_array_size(v)) {
		return -1; /* ragged */
	}
	for (size_t i = 0; i < json_array_size(v); i++)
		if (const_shape(json_array_get(v, i), depth + 1, sh) < 0)
			return -1;
	return 0;
}

static void const_fill(const json_t *v, float **p)
{
	if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++)
			const_fill(json_array_get(v, i), p);
		return;
	}
	*(*p)++ = json_is_boolean(v) ? (float)json_is_true(v) : (float)json_number_value(v);
}

static int constant(const json_t *v, float **out, ks_shape *sh, const char *fname, ks_err *err)
{
	int64_t n;
	float *p;

	sh->rank = 0;
	if (const_shape(v, 0, sh) < 0 || !ks_numel(sh->d, sh->rank, &n) || n > MAX_CONST_VALUES)
		return ks_fail(err, "tf.%s: an operand is neither a tensor nor a rectangular list of numbers",
		               fname);
	*out = p = ks_xmalloc((size_t)n * sizeof(float));
	const_fill(v, &p);
	return 0;
}

static int norm_axis(int64_t a, int rank, int64_t *out)
{
	if (a < 0)
		a += rank;
	if (a < 0 || a >= rank)
		return -1;
	*out = a;
	return 0;
}

/* Everything infer and load both need; out shape into c->out[0]. */
static int setup(ks_op_call *c, tfop *t, ks_err *err)
{
	const ks_shape *x = &c->in[0];
	ks_shape *o = &c->out[0];
	char a[96], b[96];

	memset(t, 0, sizeof *t);
	if (!(t->f = lookup(c, err)))
		return -1;
	c->n_out = 1;
	*o = *x;
	t->rank = x->rank;
	if (x->rank < 1)
		return ks_fail(err, "input has no batch axis");
	switch (t->f->k) {
	case T_BINARY: {
		/* f(x, y): x is the first input, or a constant the graph moved to
		 * kwargs "x" (tf.keras' _CONSTANT_VALUE, `2.0 - t`); y is the
		 * second input (a tensor passed as kwargs "y"), or a constant. */
		const json_t *xk = kw(c, "x"), *yk = kw(c, "y");
		ks_shape xs0 = *x, ys0;
		if (xk) {
			if (c->n_in != 1)
				return ks_fail(err, "tf.%s: a constant first operand needs one tensor", t->f->name);
			if (constant(xk, &t->xc, &xs0, t->f->name, err) < 0)
				return -1;
			ys0 = c->in[0];
			t->y_in = 0;
		} else if (c->n_in == 2) {
			ys0 = c->in[1];
			t->y_in = 1;
		} else if (c->n_in == 1 && yk) {
			if (constant(yk, &t->yc, &ys0, t->f->name, err) < 0)
				return -1;
			t->y_scalar = ys0.rank == 0;
			if (t->y_scalar)
				return 0;
		} else {
			return ks_fail(err, "tf.%s: the second operand must be a number, a constant or a tensor",
			               t->f->name);
		}
		/* numpy broadcasting, right-aligned */
		const ks_shape *ys = &ys0;
		int r = xs0.rank > ys->rank ? xs0.rank : ys->rank;
		ks_shape xs = {r, {0}}, yy = {r, {0}};
		for (int k = 0; k < r; k++) {
			int kx = k - (r - xs0.rank), ky = k - (r - ys->rank);
			xs.d[k] = kx >= 0 ? xs0.d[kx] : 1;
			yy.d[k] = ky >= 0 ? ys->d[ky] : 1;
			if (xs.d[k] >= 0 && yy.d[k] >= 0 && xs.d[k] != yy.d[k] && xs.d[k] != 1 && yy.d[k] != 1)
				return ks_fail(err, "tf.%s: shapes %s and %s do not broadcast", t->f->name,
				               ks_shape_str(xs0.d, xs0.rank, a, sizeof a), ks_shape_str(ys->d, ys->rank, b, sizeof b));
			o->d[k] = xs.d[k] == 1 ? yy.d[k] : yy.d[k] == 1 ? xs.d[k] : xs.d[k];
		}
		o->rank = r;
		t->rank = r;
		t->same = true;
		int64_t sx = 1, sy = 1;
		for (int k = r - 1; k >= 0; k--) {
			t->xstride[k] = xs.d[k] == 1 && o->d[k] != 1 ? 0 : sx;
			t->ystride[k] = yy.d[k] == 1 && o->d[k] != 1 ? 0 : sy;
			if (xs.d[k] != o->d[k] || yy.d[k] != o->d[k])
				t->same = false;
			sx *= xs.d[k];
			sy *= yy.d[k];
		}
		return 0;
	}
	case T_UNARY:
		return c->n_in == 1 ? 0 : ks_fail(err, "tf.%s takes one tensor", t->f->name);
	case T_ACT: {
		if (c->n_in != 1)
			return ks_fail(err, "tf.%s takes one tensor", t->f->name);
		if (ks_act_by_name(t->f->act, 2, &t->act, err) < 0)
			return -1;
		const json_t *ax = kw(c, "axis");
		if (ax && json_is_integer(ax))
			t->act.axis = (int)json_integer_value(ax);
		const json_t *al = kw(c, "alpha");
		if (al && json_is_number(al) && t->act.kind == KS_ACT_RELU)
			t->act.alpha = (float)json_number_value(al);
		const json_t *ap = kw(c, "approximate");
		if (ap && json_is_true(ap))
			t->act.approximate = true;
		return ks_act_check_rank(&t->act, x->rank, err);
	}
	case T_REDUCE: {
		const json_t *ax = kw(c, "axis");
		bool keep = false;
		const json_t *kd = kw(c, "keepdims");
		if (!kd)
			kd = kw(c, "keep_dims");
		keep = kd && json_is_true(kd);
		if (c->n_in != 1)
			return ks_fail(err, "tf.%s takes one tensor", t->f->name);
		if (!ax)
			return ks_fail(err, "tf.%s over every axis (the batch too) is not supported", t->f->name);
		size_t n = json_is_array(ax) ? json_array_size(ax) : 1;
		for (size_t i = 0; i < n; i++) {
			const json_t *e = json_is_array(ax) ? json_array_get(ax, i) : ax;
			int64_t a1;
			if (!json_is_integer(e) || norm_axis(json_integer_value(e), x->rank, &a1) < 0 || a1 == 0)
				return ks_fail(err, "tf.%s: axis must name non-batch axes", t->f->name);
			t->axes[a1] = true;
		}
		o->rank = 0;
		for (int k = 0; k < x->rank; k++) {
			if (!t->axes[k])
				o->d[o->rank++] = x->d[k];
			else if (keep)
				o->d[o->rank++] = 1;
		}
		return 0;
	}
	case T_RESHAPE: {
		const json_t *sh = kw(c, "shape");
		int64_t known = 1, n_in = 1;
		int minus = -1;
		if (c->n_in != 1 || !json_is_array(sh) || json_array_size(sh) < 1 ||
		    json_array_size(sh) > KS_MAX_RANK)
			return ks_fail(err, "tf.reshape needs a constant shape list");
		for (int k = 1; k < x->rank; k++)
			n_in = x->d[k] < 0 || n_in < 0 ? -1 : n_in * x->d[k];
		o->rank = (int)json_array_size(sh);
		o->d[0] = x->d[0];
		for (int k = 1; k < o->rank; k++) {
			const json_t *e = json_array_get(sh, (size_t)k);
			if (!json_is_integer(e))
				return ks_fail(err, "tf.reshape: shape entries must be integers");
			int64_t d = json_integer_value(e);
			if (d == -1) {
				if (minus >= 0)
					return ks_fail(err, "tf.reshape: more than one -1 in the shape");
				minus = k;
			} else if (d <= 0) {
				return ks_fail(err, "tf.reshape: bad dimension %lld", (long long)d);
			} else {
				known *= d;
			}
			o->d[k] = d;
		}
		/* the first entry must keep the batch (-1 or None), as Keras models do */
		const json_t *e0 = json_array_get(sh, 0);
		if (!json_is_integer(e0) || json_integer_value(e0) != -1) {
			if (!(json_is_integer(e0) && x->d[0] >= 0 && json_integer_value(e0) == x->d[0]))
				return ks_fail(err, "tf.reshape must keep the batch axis first (-1)");
		} else if (minus >= 0) {
			return ks_fail(err, "tf.reshape: only one dimension may be -1");
		}
		if (minus >= 0)
			o->d[minus] = n_in < 0 ? -1 : (n_in % known ? -2 : n_in / known);
		else if (n_in >= 0 && known != n_in)
			o->d[1] = -2;
		for (int k = 1; k < o->rank; k++)
			if (o->d[k] == -2)
				return ks_fail(err, "tf.reshape: %s cannot become the requested shape",
				               ks_shape_str(x->d, x->rank, a, sizeof a));
		return 0;
	}
	case T_EXPAND: {
		const json_t *ax = kw(c, "axis");
		int64_t a1;
		if (c->n_in != 1 || !json_is_integer(ax) || x->rank + 1 > KS_MAX_RANK ||
		    norm_axis(json_integer_value(ax), x->rank + 1, &a1) < 0 || a1 == 0)
			return ks_fail(err, "tf.expand_dims needs a non-batch axis");
		o->rank = x->rank + 1;
		for (int k = 0, j = 0; k < o->rank; k++)
			o->d[k] = k == a1 ? 1 : x->d[j++];
		return 0;
	}
	case T_SQUEEZE: {
		const json_t *ax = kw(c, "axis");
		if (!ax)
			ax = kw(c, "squeeze_dims");
		if (c->n_in != 1 || !ax)
			return ks_fail(err, "tf.squeeze needs explicit axes");
		size_t n = json_is_array(ax) ? json_array_size(ax) : 1;
		for (size_t i = 0; i < n; i++) {
			const json_t *e = json_is_array(ax) ? json_array_get(ax, i) : ax;
			int64_t a1;
			if (!json_is_integer(e) || norm_axis(json_integer_value(e), x->rank, &a1) < 0 || a1 == 0 ||
			    (x->d[a1] != 1 && x->d[a1] >= 0))
				return ks_fail(err, "tf.squeeze: axis is not a non-batch axis of size 1");
			t->axes[a1] = true;
		}
		o->rank = 0;
		for (int k = 0; k < x->rank; k++)
			if (!t->axes[k])
				o->d[o->rank++] = x->d[k];
		return 0;
	}
	case T_TRANSPOSE: {
		const json_t *pm = kw(c, "perm");
		bool seen[KS_MAX_RANK] = {false};
		if (c->n_in != 1 || !json_is_array(pm) || (int)json_array_size(pm) != x->rank)
			return ks_fail(err, "tf.transpose needs a full perm");
		for (int k = 0; k < x->rank; k++) {
			const json_t *e = json_array_get(pm, (size_t)k);
			int64_t v;
			if (!json_is_integer(e) || norm_axis(json_integer_value(e), x->rank, &v) < 0 || seen[v])
				return ks_fail(err, "tf.transpose: bad perm");
			seen[v] = true;
			t->perm[k] = (int)v;
			o->d[k] = x->d[v];
		}
		if (t->perm[0] != 0)
			return ks_fail(err, "tf.transpose must keep the batch axis first");
		return 0;
	}
	case T_CONCAT: {
		const json_t *ax = kw(c, "axis");
		int64_t a1;
		if (!json_is_integer(ax) || norm_axis(json_integer_value(ax), x->rank, &a1) < 0 || a1 == 0)
			return ks_fail(err, "tf.concat needs a non-batch axis");
		t->cat_axis = a1;
		for (int i = 1; i < c->n_in; i++) {
			const ks_shape *s = &c->in[i];
			if (s->rank != x->rank)
				return ks_fail(err, "tf.concat: inputs of different ranks");
			for (int k = 1; k < x->rank; k++)
				if (k != a1 && s->d[k] >= 0 && o->d[k] >= 0 && s->d[k] != o->d[k])
					return ks_fail(err, "tf.concat: shapes %s and %s differ off the axis",
					               ks_shape_str(x->d, x->rank, a, sizeof a), ks_shape_str(s->d, s->rank, b, sizeof b));
			o->d[a1] = o->d[a1] < 0 || s->d[a1] < 0 ? -1 : o->d[a1] + s->d[a1];
		}
		return 0;
	}
	}
	return ks_fail(err, "internal error");
}

static void tfop_clear(tfop *t)
{
	free(t->xc);
	free(t->yc);
	t->xc = t->yc = NULL;
}

static int tf_infer(ks_op_call *c, ks_err *err)
{
	tfop t;
	int rc = setup(c, &t, err);
	tfop_clear(&t);
	return rc;
}

static int tf_load(ks_op_call *c, ks_err *err)
{
	tfop *t = ks_xmalloc(sizeof *t);
	c->priv = t;
	return setup(c, t, err);
}

static inline float binop(bop o, float a, float b)
{
	switch (o) {
	case B_ADD: return a + b;
	case B_SUB: return a - b;
	case B_MUL: return a * b;
	case B_DIV: return a / b;
	case B_MAX: return fmaxf(a, b);
	case B_MIN: return fminf(a, b);
	case B_POW: return powf(a, b);
	case B_SQDIFF: return (a - b) * (a - b);
	case B_FLOORDIV: return floorf(a / b);
	case B_FLOORMOD: {
		/* Python's sign convention (the divisor's), as tf.math.floormod */
		float r = fmodf(a, b);
		return r != 0 && (r < 0) != (b < 0) ? r + b : r;
	}
	case B_DIVNONAN: return b == 0 ? 0.0f : a / b;
	}
	return a;
}

static inline float unop(uop o, float a)
{
	switch (o) {
	case U_EXP: return expf(a);
	case U_LOG: return logf(a);
	case U_SQRT: return sqrtf(a);
	case U_RSQRT: return 1.0f / sqrtf(a);
	case U_SQUARE: return a * a;
	case U_ABS: return fabsf(a);
	case U_NEG: return -a;
	case U_RECIP: return 1.0f / a;
	case U_FLOOR: return floorf(a);
	case U_CEIL: return ceilf(a);
	case U_ROUND: return rintf(a); /* banker's rounding, as tf.round */
	case U_SIN: return sinf(a);
	case U_COS: return cosf(a);
	case U_TAN: return tanf(a);
	case U_ATAN: return atanf(a);
	case U_SIGN: return a > 0 ? 1.0f : a < 0 ? -1.0f : a; /* NaN and -0 kept */
	case U_LOG1P: return log1pf(a);
	case U_EXPM1: return expm1f(a);
	case U_ERF: return erff(a);
	}
	return a;
}

static void tf_run(const ks_op_call *c, const float *const *in, float *const *out, float *s)
{
	const tfop *t = c->priv;
	const ks_shape *x = &c->in[0], *o = &c->out[0];
	int64_t n = ks_shape_numel(o), nx = ks_shape_numel(x);
	float *y = out[0];

	switch (t->f->k) {
	case T_BINARY: {
		const float *xa = t->xc ? t->xc : in[0], *ya = t->yc ? t->yc : in[t->y_in];
		if (t->y_scalar) {
			for (int64_t i = 0; i < n; i++)
				y[i] = binop((bop)t->f->op, xa[i], ya[0]);
		} else if (t->same) {
			for (int64_t i = 0; i < n; i++)
				y[i] = binop((bop)t->f->op, xa[i], ya[i]);
		} else {
			int64_t idx[KS_MAX_RANK] = {0}, ox = 0, oy = 0;
			for (int64_t i = 0; i < n; i++) {
				y[i] = binop((bop)t->f->op, xa[ox], ya[oy]);
				for (int k = t->rank - 1; k >= 0; k--) {
					idx[k]++;
					ox += t->xstride[k];
					oy += t->ystride[k];
					if (idx[k] < o->d[k])
						break;
					ox -= t->xstride[k] * idx[k];
					oy -= t->ystride[k] * idx[k];
					idx[k] = 0;
				}
			}
		}
		return;
	}
	case T_UNARY:
		for (int64_t i = 0; i < n; i++)
			y[i] = unop((uop)t->f->op, in[0][i]);
		return;
	case T_ACT:
		if (y != in[0])
			memcpy(y, in[0], (size_t)n * sizeof(float));
		ks_act_apply_nd(&t->act, y, o->d, o->rank);
		return;
	case T_REDUCE: {
		/* walk the input; each element lands in its output cell */
		int64_t idx[KS_MAX_RANK] = {0}, cnt = 1;
		int64_t ostr[KS_MAX_RANK], st = 1;
		for (int k = x->rank - 1; k >= 0; k--) {
			ostr[k] = t->axes[k] ? 0 : st;
			if (!t->axes[k])
				st *= x->d[k];
			else
				cnt *= x->d[k];
		}
		rop r = (rop)t->f->op;
		float init = r == R_MAX ? -INFINITY : r == R_MIN ? INFINITY : r == R_PROD ? 1.0f : 0.0f;
		for (int64_t i = 0; i < n; i++)
			y[i] = init;
		int64_t off = 0;
		for (int64_t i = 0; i < nx; i++) {
			float v = in[0][i];
			switch (r) {
			case R_MEAN:
			case R_SUM: y[off] += v; break;
			case R_MAX: y[off] = fmaxf(y[off], v); break;
			case R_MIN: y[off] = fminf(y[off], v); break;
			case R_PROD: y[off] *= v; break;
			}
			for (int k = x->rank - 1; k >= 0; k--) {
				idx[k]++;
				off += ostr[k];
				if (idx[k] < x->d[k])
					break;
				off -= ostr[k] * idx[k];
				idx[k] = 0;
			}
		}
		if (r == R_MEAN && cnt > 0)
			for (int64_t i = 0; i < n; i++)
				y[i] /= (float)cnt;
		return;
	}
	case T_RESHAPE:
	case T_EXPAND:
	case T_SQUEEZE:
		if (y != in[0])
			memcpy(y, in[0], (size_t)n * sizeof(float));
		return;
	case T_TRANSPOSE: {
		/* output index -> input offset through perm */
		int64_t istr[KS_MAX_RANK], st = 1, idx[KS_MAX_RANK] = {0}, off = 0;
		int64_t pstr[KS_MAX_RANK];
		for (int k = x->rank - 1; k >= 0; k--) {
			istr[k] = st;
			st *= x->d[k];
		}
		for (int k = 0; k < o->rank; k++)
			pstr[k] = istr[t->perm[k]];
		for (int64_t i = 0; i < n; i++) {
			y[i] = in[0][off];
			for (int k = o->rank - 1; k >= 0; k--) {
				idx[k]++;
				off += pstr[k];
				if (idx[k] < o->d[k])
					break;
				off -= pstr[k] * idx[k];
				idx[k] = 0;
			}
		}
		return;
	}
	case T_CONCAT: {
		size_t outer = 1;
		for (int k = 0; k < t->cat_axis; k++)
			outer *= (size_t)o->d[k];
		for (size_t q = 0; q < outer; q++)
			for (int i = 0; i < c->n_in; i++) {
				size_t chunk = 1;
				for (int k = (int)t->cat_axis; k < c->in[i].rank; k++)
					chunk *= (size_t)c->in[i].d[k];
				memcpy(y, in[i] + q * chunk, chunk * sizeof(float));
				y += chunk;
			}
		return;
	}
	}
}

static void tf_free(ks_op_call *c)
{
	free(c->priv);
	c->priv = NULL;
}

static void tfop_free(ks_op_call *c)
{
	if (c->priv)
		tfop_clear(c->priv);
	tf_free(c);
}

static const ks_op op_tfop = {"TFOpLambda", 0, tf_infer, tf_load, tf_run, tfop_free};


/* ---- SlicingOpLambda: x[...] ----
 *
 * tf.keras records `x[:, -1]` as SlicingOpLambda("__operators__.getitem")
 * with kwargs {"slice_spec": [{"start": null, "stop": null, "step": null}, -1]}:
 * slices as {start, stop, step} dicts, ints, null for tf.newaxis and
 * {"class_name": "__ellipsis__"} for `...`; a single item may stand alone.
 * Supported: the batch axis kept whole, positive steps. */

typedef struct gdim {
	int64_t len;     /* output length */
	int64_t stride;  /* input stride per output step (0 for a new axis) */
} gdim;

typedef struct getitem {
	int rank;                 /* output rank */
	gdim d[KS_MAX_RANK];
	int64_t base;             /* input offset of element 0, per sample */
	int64_t in_per, out_per;  /* elements per sample */
} getitem;

enum { IT_INT, IT_SLICE, IT_ELLIPSIS, IT_NEWAXIS };

typedef struct item {
	int kind;
	int64_t i;                       /* IT_INT */
	bool has_start, has_stop;
	int64_t start, stop, step;       /* IT_SLICE */
} item;

static int parse_item(const json_t *v, item *it, ks_err *err)
{
	memset(it, 0, sizeof *it);
	it->step = 1;
	if (json_is_null(v)) {
		it->kind = IT_NEWAXIS;
	} else if (json_is_integer(v)) {
		it->kind = IT_INT;
		it->i = json_integer_value(v);
	} else if (json_is_object(v) && json_is_string(json_object_get(v, "class_name")) &&
	           strcmp(json_string_value(json_object_get(v, "class_name")), "__ellipsis__") == 0) {
		it->kind = IT_ELLIPSIS;
	} else if (json_is_object(v) && json_object_get(v, "start") && json_object_get(v, "stop")) {
		const json_t *a = json_object_get(v, "start"), *b = json_object_get(v, "stop"),
		             *c = json_object_get(v, "step");
		it->kind = IT_SLICE;
		if ((!json_is_null(a) && !json_is_integer(a)) || (!json_is_null(b) && !json_is_integer(b)) ||
		    (c && !json_is_null(c) && !json_is_integer(c)))
			return ks_fail(err, "x[...]: slice bounds must be constant integers");
		it->has_start = json_is_integer(a);
		it->start = it->has_start ? json_integer_value(a) : 0;
		it->has_stop = json_is_integer(b);
		it->stop = it->has_stop ? json_integer_value(b) : 0;
		if (c && json_is_integer(c))
			it->step = json_integer_value(c);
		if (it->step <= 0)
			return ks_fail(err, "x[...]: only positive slice steps are supported");
	} else {
		return ks_fail(err, "x[...]: unsupported index (tensors or masks as indices)");
	}
	return 0;
}

static int getitem_setup(ks_op_call *c, getitem *g, ks_err *err)
{
	const ks_shape *x = &c->in[0];
	const json_t *spec = c->kwargs ? json_object_get(c->kwargs, "slice_spec") : NULL;
	item its[KS_MAX_RANK * 2];
	int n = 0, consuming = 0, ell = -1;
	const char *fname = NULL;

	memset(g, 0, sizeof *g);
	if (ks_cfg_str(c->config, "function", NULL, &fname, err) < 0)
		return -1;
	if (!fname || strcmp(fname, "__operators__.getitem") != 0)
		return ks_fail(err, "SlicingOpLambda function %s is not supported", fname ? fname : "(none)");
	if (c->n_in != 1)
		return ks_fail(err, "x[...] with tensor indices is not supported");
	if (!spec)
		return ks_fail(err, "x[...]: the call has no slice_spec");
	size_t cnt = json_is_array(spec) ? json_array_size(spec) : 1;
	if (cnt > KS_MAX_RANK * 2)
		return ks_fail(err, "x[...]: too many indices");
	for (size_t k = 0; k < cnt; k++) {
		if (parse_item(json_is_array(spec) ? json_array_get(spec, k) : spec, &its[n], err) < 0)
			return -1;
		if (its[n].kind == IT_ELLIPSIS) {
			if (ell >= 0)
				return ks_fail(err, "x[...]: more than one ellipsis");
			ell = n;
		}
		if (its[n].kind == IT_INT || its[n].kind == IT_SLICE)
			consuming++;
		n++;
	}
	if (consuming > x->rank)
		return ks_fail(err, "x[...]: %d indices for a rank-%d tensor", consuming, x->rank);

	/* walk items against input axes */
	int64_t istride[KS_MAX_RANK], st = 1;
	for (int k = x->rank - 1; k >= 0; k--) {
		istride[k] = st;
		st *= x->d[k] < 0 ? 1 : x->d[k];
	}
	int axis = 0;
	ks_shape *o = &c->out[0];
	o->rank = 0;
	g->rank = 0;
	g->base = 0;
	int total = n + (ell < 0 ? x->rank - consuming : 0);
	for (int k = 0; k < total; k++) {
		item full = {IT_SLICE, 0, false, false, 0, 0, 1};
		const item *it;
		int repeat = 1;
		if (k < n) {
			it = &its[k];
			if (it->kind == IT_ELLIPSIS) {
				repeat = x->rank - consuming;
				it = &full;
			}
		} else {
			it = &full;
		}
		for (int r = 0; r < repeat; r++) {
			if (it->kind == IT_NEWAXIS) {
				if (axis == 0)
					return ks_fail(err, "x[...]: a new axis before the batch axis is not supported");
				if (o->rank >= KS_MAX_RANK)
					return ks_fail(err, "x[...]: too many axes");
				o->d[o->rank++] = 1;
				g->d[g->rank++] = (gdim){1, 0};
				continue;
			}
			int64_t len = x->d[axis];
			if (axis == 0) {
				if (it->kind != IT_SLICE || it->has_start || it->has_stop || it->step != 1)
					return ks_fail(err, "x[...] must keep the batch axis whole");
				o->d[o->rank++] = x->d[0];
				axis++;
				continue;
			}
			if (len < 0) {
				/* display inference with an unknown length */
				if (it->kind == IT_SLICE)
					o->d[o->rank++] = -1;
				axis++;
				continue;
			}
			if (it->kind == IT_INT) {
				int64_t i = it->i < 0 ? it->i + len : it->i;
				if (i < 0 || i >= len)
					return ks_fail(err, "x[...]: index %lld is out of range for an axis of %lld",
					               (long long)it->i, (long long)len);
				g->base += i * istride[axis];
			} else {
				/* Python slice clamping, positive step */
				int64_t a = it->has_start ? it->start : 0, b = it->has_stop ? it->stop : len;
				if (a < 0)
					a = a + len < 0 ? 0 : a + len;
				if (a > len)
					a = len;
				if (b < 0)
					b = b + len < 0 ? 0 : b + len;
				if (b > len)
					b = len;
				int64_t out = b > a ? (b - a + it->step - 1) / it->step : 0;
				if (o->rank >= KS_MAX_RANK)
					return ks_fail(err, "x[...]: too many axes");
				o->d[o->rank++] = out;
				g->d[g->rank++] = (gdim){out, istride[axis] * it->step};
				g->base += a * istride[axis];
			}
			axis++;
		}
	}
	c->n_out = 1;
	g->in_per = 1;
	for (int k = 1; k < x->rank; k++)
		g->in_per *= x->d[k] < 0 ? 1 : x->d[k];
	g->out_per = 1;
	for (int k = 0; k < g->rank; k++)
		g->out_per *= g->d[k].len;
	return 0;
}

static int gi_infer(ks_op_call *c, ks_err *err)
{
	getitem g;
	return getitem_setup(c, &g, err);
}

static int gi_load(ks_op_call *c, ks_err *err)
{
	getitem *g = ks_xmalloc(sizeof *g);
	c->priv = g;
	return getitem_setup(c, g, err);
}

static void gi_run(const ks_op_call *c, const float *const *in, float *const *out, float *s)
{
	const getitem *g = c->priv;
	int64_t batch = c->in[0].d[0];
	for (int64_t b = 0; b < batch; b++) {
		const float *src = in[0] + b * g->in_per + g->base;
		float *dst = out[0] + b * g->out_per;
		int64_t idx[KS_MAX_RANK] = {0}, off = 0;
		for (int64_t j = 0; j < g->out_per; j++) {
			dst[j] = src[off];
			for (int k = g->rank - 1; k >= 0; k--) {
				idx[k]++;
				off += g->d[k].stride;
				if (idx[k] < g->d[k].len)
					break;
				off -= g->d[k].stride * idx[k];
				idx[k] = 0;
			}
		}
	}
}

static const ks_op op_getitem = {"SlicingOpLambda", 0, gi_infer, gi_load, gi_run, tf_free};

const ks_op *const ks_ops_tfop[] = {
	&op_tfop,
	&op_getitem,
	NULL,
};
