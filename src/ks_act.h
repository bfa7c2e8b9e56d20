/* ks_act: Keras activation functions, parsed once and applied in place.
 *
 * A layer's `activation` (or an RNN's `recurrent_activation`) is parsed at
 * plan time into a small value type, then applied to float32 buffers with no
 * allocation and no failure:
 *
 *     ks_act a;
 *     if (ks_act_parse(json_object_get(cfg, "activation"), keras_major, &a, err) < 0)
 *         return -1;                        // "unsupported activation 'foo'"
 *     ks_act_apply(&a, y, outer, axis_len, inner);
 *
 * Accepted spellings: a string ("relu", "swish", ...), JSON null / absent
 * (linear), or a serialised object: Keras 3 {"class_name": "function",
 * "config": "relu"} or an activation layer {"class_name": "LeakyReLU",
 * "config": {"negative_slope": 0.1}} (ReLU, LeakyReLU, ELU, Softmax,
 * ThresholdedReLU, and any name above with a config of its parameters).
 *
 * Version-dependent semantics are resolved by keras_major (1, 2 or 3):
 * hard_sigmoid is clip(0.2x+0.5, 0, 1) in Keras 1/2 and clip(x/6+0.5, 0, 1)
 * in Keras 3. "gelu" is the exact erf form unless approximate is set.
 *
 * Softmax and log_softmax normalise over one axis: callers give the buffer
 * as outer x axis_len x inner (row-major) where axis_len is the normalised
 * axis. Every other activation is elementwise and ignores the split.
 */
#ifndef KS_ACT_H
#define KS_ACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ks_status.h"

/* Largest |axis| accepted for softmax (tensors never exceed this rank). */
#define KS_ACT_MAX_AXIS 8

typedef enum ks_act_kind {
	KS_ACT_LINEAR = 0,
	KS_ACT_RELU,          /* general Keras relu: negative_slope, max_value, threshold */
	KS_ACT_SIGMOID,
	KS_ACT_HARD_SIGMOID,  /* slope/offset chosen by keras_major */
	KS_ACT_TANH,
	KS_ACT_SOFTMAX,       /* over `axis` */
	KS_ACT_LOG_SOFTMAX,   /* over `axis` */
	KS_ACT_ELU,           /* alpha */
	KS_ACT_SELU,
	KS_ACT_SOFTPLUS,
	KS_ACT_SOFTSIGN,
	KS_ACT_SWISH,         /* x * sigmoid(x) (= silu) */
	KS_ACT_GELU,          /* approximate selects the tanh form */
	KS_ACT_MISH,
	KS_ACT_EXPONENTIAL,
	KS_ACT_HARD_SILU,     /* x * clip(x/6 + 0.5, 0, 1) (= hard_swish) */
	/* Keras 3.x additions (defaults as keras.activations) */
	KS_ACT_LOG_SIGMOID,   /* -softplus(-x) */
	KS_ACT_HARD_TANH,     /* clip(x, -1, 1) */
	KS_ACT_CELU,          /* max(0, x) + min(0, alpha*(exp(x/alpha) - 1)), alpha 1 */
	KS_ACT_SQUAREPLUS,    /* (x + sqrt(x^2 + 4)) / 2 */
	KS_ACT_SPARSE_PLUS,   /* 0 for x <= -1, x for x >= 1, else (x+1)^2/4 */
	KS_ACT_HARD_SHRINK,   /* x where |x| > 0.5, else 0 */
	KS_ACT_SOFT_SHRINK,   /* sign(x) * max(|x| - 0.5, 0) */
	KS_ACT_TANH_SHRINK,   /* x - tanh(x) */
} ks_act_kind;

typedef struct ks_act {
	ks_act_kind kind;
	float alpha;          /* ELU alpha; RELU negative_slope */
	float max_value;      /* RELU clip; only when has_max */
	bool has_max;
	float threshold;      /* RELU threshold */
	float hs_slope, hs_offset; /* HARD_SIGMOID: clip(slope*x + offset, 0, 1) */
	bool approximate;     /* GELU tanh approximation */
	int axis;             /* SOFTMAX/LOG_SOFTMAX axis as written (negative from the end) */
	const char *name;     /* canonical name for display ("relu", "softmax", ...) */
} ks_act;

/* Parses an activation spec (see above). keras_major is 1, 2 or 3.
 * Fails with "unsupported activation 'NAME'" or a bad-parameter message. */
int ks_act_parse(const json_t *spec, int keras_major, ks_act *out, ks_err *err);

/* An activation layer's semantics (ReLU, LeakyReLU, ELU, ThresholdedReLU,
 * Softmax, Activation) from its class name and config, with the layers'
 * defaults (LeakyReLU 0.3, ELU 1.0, ThresholdedReLU theta 1.0, axis -1). */
int ks_act_from_layer(const char *class_name, const json_t *cfg, int keras_major, ks_act *out,
                      ks_err *err);

/* Initialises *out to one activation by name with default parameters
 * (convenience for kernels: ks_act_by_name("sigmoid", 2, &a, err)). */
int ks_act_by_name(const char *name, int keras_major, ks_act *out, ks_err *err);

/* Elementwise activations only: true when ks_act_scalar / the split do not matter. */
bool ks_act_is_elementwise(const ks_act *a);

/* True when the activation does nothing (linear). */
bool ks_act_is_linear(const ks_act *a);

/* Applies in place to x[outer][axis_len][inner]. */
void ks_act_apply(const ks_act *a, float *x, size_t outer, size_t axis_len, size_t inner);

/* Applies in place to a dense tensor of the given dims, normalising softmax
 * over a->axis (resolved against rank; an out-of-range axis was rejected by
 * ks_act_check_rank). */
void ks_act_apply_nd(const ks_act *a, float *x, const int64_t *dims, int rank);

/* Checks that a->axis fits a tensor of this rank (softmax kinds only). */
int ks_act_check_rank(const ks_act *a, int rank, ks_err *err);

/* One element of an elementwise activation (softmax kinds return x). */
float ks_act_scalar(const ks_act *a, float x);

#endif
