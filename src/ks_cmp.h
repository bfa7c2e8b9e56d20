/* ks_cmp: element-wise comparison of two float32 arrays of the same length,
 * streaming, plus two helpers for class scores (column permutation, top-1).
 *
 * Used by diff (stored weights, layer outputs), session and doctor. Nothing
 * here reads files: callers feed blocks in order, e.g. hyperslabs of two
 * stored weights read in lockstep, and positions continue across blocks.
 *
 * Tolerance follows h5diff (ks_tol_differs):
 *   EXACT    (default)              differs when a != b;
 *   ABS      (-d D)                 differs when |a-b| > D;
 *   REL      (-p P)                 differs when |a-b| > P*|a|, and when a == 0
 *                                   and b != 0;
 *   EPSILON  (--use-system-epsilon) differs when |a-b| > FLT_EPSILON.
 * Under every rule two NaNs are equal, NaN against a number differs, equal
 * infinities are equal and an infinity against anything else differs.
 *
 * Statistics of the difference (max_abs, sums, max_rel, dot and norms) are
 * taken over the positions where both values are finite (n_finite of them),
 * computed in double from the float32 values; non-finite values are counted
 * per side, and where they appear or disappear. All fields may be read
 * directly; the functions below derive the usual summaries.
 */
#ifndef KS_CMP_H
#define KS_CMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { KS_TOL_EXACT = 0, KS_TOL_ABS, KS_TOL_REL, KS_TOL_EPSILON } ks_tol_kind;

typedef struct ks_tol {
	ks_tol_kind kind;
	double value;        /* D for ABS, P for REL; ignored otherwise */
} ks_tol;

/* True when a and b count as different under t (rules above). */
bool ks_tol_differs(const ks_tol *t, float a, float b);

/* "exact", "|a-b| > 0.001", "|a-b| > 0.01*|a|", "|a-b| > FLT_EPSILON" into buf. */
const char *ks_tol_str(const ks_tol *t, char *buf, size_t size);

typedef struct ks_cmp {
	ks_tol tol;
	int64_t count;        /* positions seen */
	int64_t n_changed;    /* positions that differ under tol */
	double max_abs;       /* max |a-b| over finite pairs; 0 when none */
	int64_t max_abs_at;   /* flat C-order index of the first maximum; -1 when
	                       * no finite pair differs at all */
	float max_a, max_b;   /* the values at max_abs_at */
	double max_rel;       /* max |a-b|/|a| over finite pairs with a != 0 */
	double sum_abs, sum_sq, dot, norm_a2, norm_b2;   /* in double, finite pairs */
	int64_t n_finite;     /* pairs where both values are finite */
	int64_t nan_a, nan_b, inf_a, inf_b;   /* non-finite counts per side */
	int64_t nonfinite_new;  /* b non-finite where a is finite */
	int64_t nonfinite_gone; /* a non-finite where b is finite */
} ks_cmp;

void ks_cmp_init(ks_cmp *c, const ks_tol *t);
/* Compares n more positions; a and b each hold n values. */
void ks_cmp_add(ks_cmp *c, const float *a, const float *b, size_t n);
/* Adds the totals of another comparison (positions of o follow those of c;
 * tolerances must match). Used for per-layer and whole-model roll-ups. */
void ks_cmp_merge(ks_cmp *c, const ks_cmp *o);

double ks_cmp_mean_abs(const ks_cmp *c);   /* sum_abs / n_finite; 0 when none */
double ks_cmp_rms(const ks_cmp *c);        /* sqrt(sum_sq / n_finite); 0 when none */
double ks_cmp_cosine(const ks_cmp *c);     /* 1 when both all-zero, 0 when only one is */
double ks_cmp_rel_norm(const ks_cmp *c);   /* ||a-b|| / ||a||: 0 when both are zero,
                                            * +Inf when only a is */

/* Class scores: a and b are rows x cols (C order). mapping[j] (cols entries)
 * receives the column of b that equals column j of a within t, as a
 * bijection; returns true when one exists and it is not the identity. When
 * the result is false the content of mapping is unspecified. cols < 2,
 * cols > KS_CMP_PERM_MAX_COLS or rows < 1 give false. Candidates are found
 * through b's columns sorted by their first row (O(cols log cols) for
 * distinct columns) and matched by augmenting paths, so repeated columns
 * never defeat the search; when columns are so interchangeable that there
 * are more than 16 candidates per column on average, the answer is false
 * (no mapping would say anything). */
#define KS_CMP_PERM_MAX_COLS 65536
bool ks_cmp_column_permutation(const float *a, const float *b, int64_t rows, int64_t cols,
                               const ks_tol *t, int *mapping);

/* Fraction of rows whose argmax agree (cols >= 2; a NaN counts as the
 * maximum, first index wins, as numpy.argmax), or whose (x > 0.5) agree
 * (cols == 1). 1 when rows < 1. */
double ks_cmp_top1_agreement(const float *a, const float *b, int64_t rows, int64_t cols);

#endif
