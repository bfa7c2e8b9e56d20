/* ks_act: activation parsing and application (see ks_act.h).
 *
 * Numerics: sigmoid never evaluates exp of a large positive number, softplus
 * uses max(x,0) + log1p(exp(-|x|)), softmax subtracts the row maximum and sums
 * in double, so that extreme logits give 0/1 rather than NaN.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ks_act.h"
#include "ks_cfg.h"
#include "ks_util.h"
#include "ks_vec.h"

/* Keras' selu constants (keras/src/activations/activations.py). */
#define SELU_ALPHA 1.6732632423543772
#define SELU_SCALE 1.0507009873554805

static void set_default(ks_act *a, ks_act_kind k, const char *name)
{
	memset(a, 0, sizeof *a);
	a->kind = k;
	a->name = name;
	a->axis = -1;
	a->alpha = 1.0f;
}

/* Names accepted as strings; aliases map to one canonical kind. */
static int by_name(const char *n, int keras_major, ks_act *a)
{
	if (!n || !*n || strcmp(n, "linear") == 0 || strcmp(n, "None") == 0) {
		set_default(a, KS_ACT_LINEAR, "linear");
	} else if (strcmp(n, "relu") == 0) {
		set_default(a, KS_ACT_RELU, "relu");
		a->alpha = 0.0f;
	} else if (strcmp(n, "relu6") == 0) {
		set_default(a, KS_ACT_RELU, "relu6");
		a->alpha = 0.0f;
		a->has_max = true;
		a->max_value = 6.0f;
	} else if (strcmp(n, "leaky_relu") == 0) {
		/* keras.activations.leaky_relu: negative_slope=0.2 (the LeakyReLU
		 * layer's 0.3 default is handled by the layer). */
		set_default(a, KS_ACT_RELU, "leaky_relu");
		a->alpha = 0.2f;
	} else if (strcmp(n, "sigmoid") == 0) {
		set_default(a, KS_ACT_SIGMOID, "sigmoid");
	} else if (strcmp(n, "hard_sigmoid") == 0) {
		set_default(a, KS_ACT_HARD_SIGMOID, "hard_sigmoid");
		if (keras_major >= 3) {
			a->hs_slope = 1.0f / 6.0f;
			a->hs_offset = 0.5f;
		} else {
			a->hs_slope = 0.2f;
			a->hs_offset = 0.5f;
		}
	} else if (strcmp(n, "tanh") == 0) {
		set_default(a, KS_ACT_TANH, "tanh");
	} else if (strcmp(n, "softmax") == 0) {
		set_default(a, KS_ACT_SOFTMAX, "softmax");
	} else if (strcmp(n, "log_softmax") == 0) {
		set_default(a, KS_ACT_LOG_SOFTMAX, "log_softmax");
	} else if (strcmp(n, "elu") == 0) {
		set_default(a, KS_ACT_ELU, "elu");
	} else if (strcmp(n, "selu") == 0) {
		set_default(a, KS_ACT_SELU, "selu");
	} else if (strcmp(n, "softplus") == 0) {
		set_default(a, KS_ACT_SOFTPLUS, "softplus");
	} else if (strcmp(n, "softsign") == 0) {
		set_default(a, KS_ACT_SOFTSIGN, "softsign");
	} else if (strcmp(n, "swish") == 0 || strcmp(n, "silu") == 0) {
		set_default(a, KS_ACT_SWISH, "swish");
	} else if (strcmp(n, "gelu") == 0) {
		set_default(a, KS_ACT_GELU, "gelu");
	} else if (strcmp(n, "mish") == 0) {
		set_default(a, KS_ACT_MISH, "mish");
	} else if (strcmp(n, "exponential") == 0) {
		set_default(a, KS_ACT_EXPONENTIAL, "exponential");
	} else if (strcmp(n, "hard_silu") == 0 || strcmp(n, "hard_swish") == 0) {
		set_default(a, KS_ACT_HARD_SILU, "hard_silu");
	} else if (strcmp(n, "log_sigmoid") == 0) {
		set_default(a, KS_ACT_LOG_SIGMOID, "log_sigmoid");
	} else if (strcmp(n, "hard_tanh") == 0) {
		set_default(a, KS_ACT_HARD_TANH, "hard_tanh");
	} else if (strcmp(n, "celu") == 0) {
		set_default(a, KS_ACT_CELU, "celu");
	} else if (strcmp(n, "squareplus") == 0) {
		set_default(a, KS_ACT_SQUAREPLUS, "squareplus");
	} else if (strcmp(n, "sparse_plus") == 0) {
		set_default(a, KS_ACT_SPARSE_PLUS, "sparse_plus");
	} else if (strcmp(n, "hard_shrink") == 0) {
		set_default(a, KS_ACT_HARD_SHRINK, "hard_shrink");
	} else if (strcmp(n, "soft_shrink") == 0) {
		set_default(a, KS_ACT_SOFT_SHRINK, "soft_shrink");
	} else if (strcmp(n, "tanh_shrink") == 0) {
		set_default(a, KS_ACT_TANH_SHRINK, "tanh_shrink");
	} else {
		return -1;
	}
	return 0;
}

int ks_act_by_name(const char *name, int keras_major, ks_act *out, ks_err *err)
{
	if (by_name(name, keras_major, out) < 0)
		return ks_fail(err, "unsupported activation '%s'", name);
	return 0;
}

static int read_float(const json_t *cfg, const char *key, float def, float *out, ks_err *err)
{
	double d;
	if (ks_cfg_double(cfg, key, def, &d, err) < 0)
		return -1;
	if (!isfinite(d))
		return ks_fail(err, "activation parameter '%s' is not finite", key);
	*out = (float)d;
	return 0;
}

/* Activation layers serialised as an activation (Keras 3 allows a layer
 * instance as `activation=`): their config carries the parameters. */
int ks_act_from_layer(const char *cls, const json_t *cfg, int keras_major, ks_act *a, ks_err *err)
{
	static const char *const slope_keys[] = {"negative_slope", "alpha", NULL};
	const json_t *v;
	double d;

	if (strcmp(cls, "ReLU") == 0) {
		set_default(a, KS_ACT_RELU, "relu");
		a->alpha = 0.0f;
		if (read_float(cfg, "negative_slope", 0.0f, &a->alpha, err) < 0 ||
		    read_float(cfg, "threshold", 0.0f, &a->threshold, err) < 0)
			return -1;
		v = json_object_get(cfg, "max_value");
		if (v && !json_is_null(v)) {
			if (!json_is_number(v))
				return ks_fail(err, "activation parameter 'max_value' should be a number");
			a->has_max = true;
			a->max_value = (float)json_number_value(v);
		}
		return 0;
	}
	if (strcmp(cls, "LeakyReLU") == 0) {
		set_default(a, KS_ACT_RELU, "leaky_relu");
		v = ks_cfg_get_any(cfg, slope_keys);
		d = 0.3; /* the layer's default, unlike the function's 0.2 */
		if (v && !json_is_null(v)) {
			if (!json_is_number(v))
				return ks_fail(err, "LeakyReLU slope should be a number");
			d = json_number_value(v);
		}
		a->alpha = (float)d;
		return 0;
	}
	if (strcmp(cls, "ELU") == 0) {
		set_default(a, KS_ACT_ELU, "elu");
		return read_float(cfg, "alpha", 1.0f, &a->alpha, err);
	}
	if (strcmp(cls, "ThresholdedReLU") == 0) {
		set_default(a, KS_ACT_RELU, "thresholded_relu");
		a->alpha = 0.0f;
		return read_float(cfg, "theta", 1.0f, &a->threshold, err);
	}
	if (strcmp(cls, "Softmax") == 0) {
		int64_t ax;
		set_default(a, KS_ACT_SOFTMAX, "softmax");
		v = json_object_get(cfg, "axis");
		if (json_is_array(v)) {
			if (json_array_size(v) != 1)
				return ks_fail(err, "softmax over several axes is not supported");
			v = json_array_get(v, 0);
		}
		if (v && !json_is_null(v)) {
			if (!json_is_integer(v))
				return ks_fail(err, "softmax axis should be an integer");
			ax = json_integer_value(v);
			if (ax < -KS_ACT_MAX_AXIS || ax > KS_ACT_MAX_AXIS)
				return ks_fail(err, "softmax axis %lld is out of range", (long long)ax);
			a->axis = (int)ax;
		}
		return 0;
	}
	if (strcmp(cls, "Activation") == 0)
		return ks_act_parse(json_object_get(cfg, "activation"), keras_major, a, err);
	return ks_fail(err, "unsupported activation '%s'", cls);
}

int ks_act_parse(const json_t *spec, int keras_major, ks_act *out, ks_err *err)
{
	if (!spec || json_is_null(spec)) {
		set_default(out, KS_ACT_LINEAR, "linear");
		return 0;
	}
	if (json_is_string(spec))
		return ks_act_by_name(json_string_value(spec), keras_major, out, err);
	if (json_is_object(spec)) {
		const json_t *cls = json_object_get(spec, "class_name");
		const json_t *cfg = json_object_get(spec, "config");
		const char *c;

		if (!json_is_string(cls))
			return ks_fail(err, "activation object has no class_name");
		c = json_string_value(cls);
		/* Keras 3 serialised function: {"class_name": "function", "config": "relu"}. */
		if (strcmp(c, "function") == 0) {
			if (json_is_string(cfg))
				return ks_act_by_name(json_string_value(cfg), keras_major, out, err);
			return ks_fail(err, "activation function object has no name");
		}
		if (by_name(c, keras_major, out) == 0) {
			/* A named function with parameters, e.g. {"class_name": "gelu",
			 * "config": {"approximate": true}}. */
			if (json_is_object(cfg)) {
				bool approx = false;
				if (ks_cfg_bool(cfg, "approximate", false, &approx, err) < 0)
					return -1;
				out->approximate = approx;
				if ((out->kind == KS_ACT_ELU || out->kind == KS_ACT_CELU) &&
				    read_float(cfg, "alpha", 1.0f, &out->alpha, err) < 0)
					return -1;
				if (out->kind == KS_ACT_CELU && out->alpha == 0.0f)
					return ks_fail(err, "celu alpha must not be 0");
			}
			return 0;
		}
		return ks_act_from_layer(c, json_is_object(cfg) ? cfg : NULL, keras_major, out, err);
	}
	return ks_fail(err, "activation should be a name or an object");
}

bool ks_act_is_elementwise(const ks_act *a)
{
	return a->kind != KS_ACT_SOFTMAX && a->kind != KS_ACT_LOG_SOFTMAX;
}

bool ks_act_is_linear(const ks_act *a)
{
	return a->kind == KS_ACT_LINEAR;
}

static inline float sigmoidf(float x)
{
	if (x >= 0.0f)
		return 1.0f / (1.0f + expf(-x));
	float e = expf(x);
	return e / (1.0f + e);
}

static inline float softplusf(float x)
{
	return fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x)));
}

/* keras/src/activations/activations.py ReLU.static_call, in one element:
 * values above threshold pass (x * (x > threshold) when threshold != 0, else
 * relu), then the clip, then minus negative_slope * relu(threshold - x). */
static inline float relu_general(const ks_act *a, float x)
{
	float y;
	if (a->threshold != 0.0f)
		y = x > a->threshold ? x : 0.0f;
	else
		y = x > 0.0f ? x : 0.0f;
	if (a->has_max)
		y = fminf(fmaxf(y, 0.0f), a->max_value);
	if (a->alpha != 0.0f) {
		float neg = a->threshold - x;
		if (neg > 0.0f)
			y -= a->alpha * neg;
	}
	return y;
}

/* max(x, 0) as relu_general computes it (NaN and -0 give +0), 8 lanes at a
 * time: the ReLU after every convolution of a CNN is one pass over its
 * output, which the per-element switch made cost a tenth of VGG16's time. */
KS_CLONES
static void relu_plain(float *x, size_t n)
{
	const ks_v8 zero = {0};
	size_t i = 0;
	for (; i + 8 <= n; i += 8)
		KS_ST8(x + i, KS_MAX8(KS_LD8(x + i), zero));
	for (; i < n; i++)
		x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

float ks_act_scalar(const ks_act *a, float x)
{
	switch (a->kind) {
	case KS_ACT_LINEAR:
	case KS_ACT_SOFTMAX:
	case KS_ACT_LOG_SOFTMAX:
		return x;
	case KS_ACT_RELU:
		return relu_general(a, x);
	case KS_ACT_SIGMOID:
		return sigmoidf(x);
	case KS_ACT_HARD_SIGMOID:
		return fminf(fmaxf(a->hs_slope * x + a->hs_offset, 0.0f), 1.0f);
	case KS_ACT_TANH:
		return tanhf(x);
	case KS_ACT_ELU:
		return x > 0.0f ? x : a->alpha * expm1f(x);
	case KS_ACT_SELU:
		return (float)(SELU_SCALE * (x > 0.0f ? (double)x : SELU_ALPHA * expm1((double)x)));
	case KS_ACT_SOFTPLUS:
		return softplusf(x);
	case KS_ACT_SOFTSIGN:
		return x / (1.0f + fabsf(x));
	case KS_ACT_SWISH:
		return x * sigmoidf(x);
	case KS_ACT_GELU:
		if (a->approximate) {
			/* 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3))) */
			double xd = x;
			return (float)(0.5 * xd * (1.0 + tanh(0.7978845608028654 * (xd + 0.044715 * xd * xd * xd))));
		}
		return (float)(0.5 * (double)x * (1.0 + erf((double)x * 0.7071067811865476)));
	case KS_ACT_MISH:
		return x * tanhf(softplusf(x));
	case KS_ACT_EXPONENTIAL:
		return expf(x);
	case KS_ACT_HARD_SILU:
		return x * fminf(fmaxf(x / 6.0f + 0.5f, 0.0f), 1.0f);
	case KS_ACT_LOG_SIGMOID:
		return -softplusf(-x);
	case KS_ACT_HARD_TANH:
		return fminf(fmaxf(x, -1.0f), 1.0f);
	case KS_ACT_CELU:
		return fmaxf(x, 0.0f) + fminf(0.0f, a->alpha * expm1f(x / a->alpha));
	case KS_ACT_SQUAREPLUS:
		return (float)(0.5 * ((double)x + sqrt((double)x * x + 4.0)));
	case KS_ACT_SPARSE_PLUS:
		return x <= -1.0f ? 0.0f : x >= 1.0f ? x : 0.25f * (x + 1.0f) * (x + 1.0f);
	case KS_ACT_HARD_SHRINK:
		return fabsf(x) > 0.5f ? x : 0.0f;
	case KS_ACT_SOFT_SHRINK:
		return x > 0.5f ? x - 0.5f : x < -0.5f ? x + 0.5f : 0.0f;
	case KS_ACT_TANH_SHRINK:
		return x - tanhf(x);
	}
	return x;
}

static void softmax_rows(float *x, size_t outer, size_t n, size_t inner, bool logarithm)
{
	for (size_t o = 0; o < outer; o++) {
		for (size_t i = 0; i < inner; i++) {
			float *p = x + o * n * inner + i;
			float mx = -INFINITY;
			double sum = 0.0;

			for (size_t k = 0; k < n; k++)
				if (p[k * inner] > mx)
					mx = p[k * inner];
			if (isinf(mx) && mx < 0)
				mx = 0.0f; /* all -inf: keep NaN-free arithmetic below */
			for (size_t k = 0; k < n; k++)
				sum += exp((double)p[k * inner] - mx);
			if (logarithm) {
				double lse = log(sum);
				for (size_t k = 0; k < n; k++)
					p[k * inner] = (float)((double)p[k * inner] - mx - lse);
			} else {
				for (size_t k = 0; k < n; k++)
					p[k * inner] = (float)(exp((double)p[k * inner] - mx) / sum);
			}
		}
	}
}

void ks_act_apply(const ks_act *a, float *x, size_t outer, size_t axis_len, size_t inner)
{
	size_t n = outer * axis_len * inner;

	switch (a->kind) {
	case KS_ACT_LINEAR:
		return;
	case KS_ACT_SOFTMAX:
		softmax_rows(x, outer, axis_len, inner, false);
		return;
	case KS_ACT_LOG_SOFTMAX:
		softmax_rows(x, outer, axis_len, inner, true);
		return;
	case KS_ACT_SIGMOID:
		for (size_t i = 0; i < n; i++)
			x[i] = sigmoidf(x[i]);
		return;
	case KS_ACT_TANH:
		for (size_t i = 0; i < n; i++)
			x[i] = tanhf(x[i]);
		return;
	case KS_ACT_RELU:
		if (a->threshold == 0.0f && !a->has_max && a->alpha == 0.0f) {
			relu_plain(x, n);
			return;
		}
		for (size_t i = 0; i < n; i++)
			x[i] = relu_general(a, x[i]);
		return;
	default:
		for (size_t i = 0; i < n; i++)
			x[i] = ks_act_scalar(a, x[i]);
		return;
	}
}

int ks_act_check_rank(const ks_act *a, int rank, ks_err *err)
{
	if (ks_act_is_elementwise(a))
		return 0;
	if (rank < 1 || a->axis >= rank || a->axis < -rank)
		return ks_fail(err, "%s axis %d does not exist in a rank-%d tensor", a->name, a->axis, rank);
	return 0;
}

void ks_act_apply_nd(const ks_act *a, float *x, const int64_t *dims, int rank)
{
	size_t outer = 1, len = 1, inner = 1;
	int ax;

	if (ks_act_is_elementwise(a)) {
		for (int i = 0; i < rank; i++)
			outer *= (size_t)dims[i];
		ks_act_apply(a, x, outer, 1, 1);
		return;
	}
	ax = a->axis < 0 ? a->axis + rank : a->axis;
	if (ax < 0 || ax >= rank)
		return;
	for (int i = 0; i < ax; i++)
		outer *= (size_t)dims[i];
	len = (size_t)dims[ax];
	for (int i = ax + 1; i < rank; i++)
		inner *= (size_t)dims[i];
	ks_act_apply(a, x, outer, len, inner);
}
