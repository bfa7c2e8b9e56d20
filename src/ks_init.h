/* ks_init: does a stored weight still look the way its initializer left it?
 *
 * A model saved before training (or re-initialised after loading) holds
 * exactly what Keras' initializers produce. Those are known in closed form
 * once the layer's config and the weight's shape are known:
 *
 *   Zeros / Ones / Constant(v)     every value exactly 0 / 1 / v
 *   VarianceScaling(scale, mode, distribution), and its named forms
 *     GlorotUniform  = (1, fan_avg, uniform)   limit sqrt(3*scale/n) = sqrt(6/(fan_in+fan_out))
 *     GlorotNormal   = (1, fan_avg, truncated normal)
 *     HeUniform/HeNormal     = (2, fan_in, ...)
 *     LecunUniform/LecunNormal = (1, fan_in, ...)
 *     truncated normal: stddev sqrt(scale/n)/0.87962566 cut at 2 stddev (Keras
 *     >= 2.2; Keras 2.0-2.1 left out the 0.8796 correction: both are accepted)
 *   RandomUniform(minval, maxval), RandomNormal(mean, stddev),
 *   TruncatedNormal(mean, stddev)   (defaults 0.05 as in Keras 2/3)
 *   Orthogonal(gain)               sum of squares == gain^2 * min(rows, cols)
 *                                  of the (prod(shape[:-1]), shape[-1]) matrix
 *   Identity(gain)                 gain on the diagonal, 0 elsewhere
 *
 * fan_in/fan_out follow Keras' compute_fans on the weight's own shape:
 * rank 1: both shape[0]; rank 2: shape[0], shape[1]; higher (convolutions):
 * receptive field = prod(shape[:-2]), fan_in = shape[-2]*rf, fan_out = shape[-1]*rf.
 * LSTM biases with unit_forget_bias start as ones on the forget gate.
 *
 * The rule comes from the layer config key `<weight>_initializer` (kernel,
 * bias, recurrent -> recurrent_initializer, gamma, beta, moving_mean,
 * moving_variance, embeddings, depthwise/pointwise, PReLU alpha; Keras 1
 * init/inner_init), looked up in the layer's own config, then its cell's,
 * then a wrapped layer's (Bidirectional, TimeDistributed).
 *
 * Judging is statistical for random initializers, with bands wide enough
 * (6 standard errors) that a real sample from the initializer passes, yet a
 * single value past the initializer's bound, a spread off by a few percent
 * on large tensors, or a distribution of the wrong shape (kurtosis) fails:
 * trained weights drift past those quickly. Tensors too small to judge
 * (fewer than 8 values from a random initializer) are "unknown".
 */
#ifndef KS_INIT_H
#define KS_INIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ks_model.h"
#include "ks_status.h"

typedef enum ks_init_kind {
	KS_INIT_UNKNOWN = 0,  /* custom or unrecognised initializer */
	KS_INIT_CONST,        /* value (per position, see forget_ones) */
	KS_INIT_UNIFORM,      /* [lo, hi] */
	KS_INIT_NORMAL,       /* mean, std; truncated when trunc */
	KS_INIT_ORTHOGONAL,   /* gain */
	KS_INIT_IDENTITY,     /* gain */
} ks_init_kind;

typedef struct ks_init_rule {
	ks_init_kind kind;
	char name[48];        /* as Keras names it: "glorot_uniform", "zeros", ... */
	double value;         /* CONST value; ORTHOGONAL / IDENTITY gain */
	double lo, hi;        /* UNIFORM bounds */
	double mean, std;     /* NORMAL: expected mean and stddev of the stored values */
	bool trunc;           /* NORMAL cut at +-2 stddev of the underlying normal */
	double std_alt;       /* 0, or a second accepted stddev (Keras 2.0 truncation) */
	int64_t fan_in, fan_out;
	int64_t forget_units; /* > 0: positions [u, 2u) start at 1 (LSTM unit_forget_bias) */
	int64_t rows, cols;   /* ORTHOGONAL / IDENTITY matrix view */
} ks_init_rule;

/* Keras' compute_fans for a weight shape. */
void ks_init_fans(const int64_t *shape, int rank, int64_t *fan_in, int64_t *fan_out);

/* The rule that filled weight w of layer L, from L's config. Returns false
 * (rule->kind UNKNOWN) when the config names none this module knows. */
bool ks_init_rule_for(const ks_layer *L, const ks_weight *w, ks_init_rule *rule);

/* Everything the judgement needs, gathered in one streaming pass. */
typedef struct ks_init_scan {
	int64_t n, nan, posinf, neginf, finite;
	double min, max, s1, s2, s3, s4;    /* raw moments of the finite values */
	int64_t off_const;                  /* CONST/IDENTITY: values not equal to the rule */
	int64_t bad_first[3];               /* flat indices of the first non-finite values */
	char bad_kind[3];                   /* 'n' NaN, '+' +Inf, '-' -Inf for each */
	int n_bad_first;
} ks_init_scan;

/* Walks w once in bounded blocks (ks_weight_walk). rule may be NULL (then
 * off_const stays 0). */
int ks_init_scan_weight(const ks_model *m, const ks_weight *w, const ks_init_rule *rule,
                        ks_init_scan *s, ks_err *err);

typedef enum ks_init_verdict {
	KS_INIT_CANNOT_TELL = 0, /* rule unknown, or too few values */
	KS_INIT_AT_INIT,         /* the values are what the initializer produces */
	KS_INIT_MOVED,           /* they are not */
} ks_init_verdict;

/* Judges a scan against its rule; why (may be NULL) receives one clause of
 * evidence such as "all 72 values within +-0.5774 (glorot_uniform limit for
 * fan_in 6, fan_out 12), std 0.331 (expected 0.333)". */
ks_init_verdict ks_init_judge(const ks_init_rule *rule, const ks_init_scan *s, char *why, size_t n);

#endif
