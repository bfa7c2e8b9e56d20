/* ks_stats: summary statistics and histograms of tensor values, computed
 * streaming so that a tensor larger than memory can be described.
 *
 * Two layers:
 *   - accumulators (ks_stats, ks_hist) fed with any float buffers, usable on
 *     their own (the TUI feeds them, tests feed them hand-made arrays);
 *   - ks_weight_stats(), which walks a stored weight (or a hyperslab of it)
 *     in bounded blocks through ks_weight_read_slab and fills both.
 *
 * Conventions follow numpy: std is the population standard deviation (ddof=0);
 * min/max/mean/std and the histogram cover finite values only (NaN and +-Inf
 * are counted apart); histogram bins are [lo, hi) except the last, which is
 * [lo, hi]; when all finite values are equal the range is widened to
 * [v - 0.5, v + 0.5] as numpy.histogram does (by |v| * 2^-20 instead when
 * |v| is so large that 0.5 is lost to rounding, where numpy divides by 0).
 */
#ifndef KS_STATS_H
#define KS_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ks_model.h"
#include "ks_status.h"

typedef struct ks_stats {
	int64_t count;   /* values seen, NaN and Inf included */
	int64_t finite;  /* values the moments and min/max cover */
	int64_t zeros;   /* == 0 (also -0.0) */
	int64_t nans;
	int64_t pos_infs, neg_infs;
	double min, max; /* +Inf / -Inf while finite == 0 */
	double mean;     /* 0 while finite == 0 */
	double m2;       /* sum of squared deviations (Welford/Chan), internal */
} ks_stats;

void ks_stats_init(ks_stats *s);
void ks_stats_add(ks_stats *s, const float *v, size_t n);
/* Adds what b has seen to s, as if s had seen b's values too. */
void ks_stats_merge(ks_stats *s, const ks_stats *b);
/* Population standard deviation of the finite values; 0 when none. */
double ks_stats_std(const ks_stats *s);

typedef struct ks_hist {
	int nbins;
	double lo, hi;    /* range covered; bin i is [lo + i*w, lo + (i+1)*w) */
	int64_t *counts;  /* nbins entries, owned; NULL after ks_hist_free */
	double *edges;    /* nbins + 1 edges as ks_hist_edge gives them, owned */
} ks_hist;

/* Sets up nbins empty bins over [lo, hi] (lo == hi widens as numpy does).
 * Fails when nbins is not in 1..KS_HIST_MAX_BINS or the range is not finite. */
#define KS_HIST_MAX_BINS 4096
int ks_hist_init(ks_hist *h, int nbins, double lo, double hi, ks_err *err);
/* Counts the finite values of v within [lo, hi]; others are ignored. */
void ks_hist_add(ks_hist *h, const float *v, size_t n);
void ks_hist_free(ks_hist *h);
/* Left edge of bin i (i == nbins gives hi), rounded to float32 like the
 * edges numpy.histogram computes for float32 data. */
double ks_hist_edge(const ks_hist *h, int i);

/* Prints the histogram as text bars of at most width '#' characters, one
 * line per bin, each prefixed with indent: "  [-0.53, -0.42)  #####  12". */
void ks_hist_print(FILE *out, const ks_hist *h, int width, const char *indent);

/* Calls fn on consecutive blocks of a hyperslab (start/count per axis of w,
 * count may contain zeros) in C order, each block at most max_floats values
 * (a whole number of rows of the innermost axes whenever possible). The block
 * buffer is owned by the walker. fn returns 0 to continue, -1 to stop with
 * err set. Returns 0 or -1. max_floats 0 chooses a default (64 Ki floats:
 * a block stays in the L2 cache between its read and fn; a plain stored
 * weight is read by ks_weight_reader, one pread per block). */
typedef int (*ks_block_fn)(const float *v, size_t n, void *ctx, ks_err *err);
int ks_weight_walk(const ks_model *m, const ks_weight *w, const int64_t *start,
                   const int64_t *count, size_t max_floats, ks_block_fn fn, void *ctx,
                   ks_err *err);

/* The blocks ks_weight_walk reads, for callers that read two weights of one
 * shape in lockstep (diff): init, then while (next) read through a
 * ks_weight_reader of each weight into a buffer of ks_slab_iter_cap floats;
 * start/count/n describe the current block. */
typedef struct ks_slab_iter {
	int64_t start[KS_MAX_RANK], count[KS_MAX_RANK]; /* current block */
	size_t n;                                       /* its number of values */
	/* internal */
	int rank, k;
	int64_t s0[KS_MAX_RANK], c0[KS_MAX_RANK], pos[KS_MAX_RANK], run;
	size_t inner;
	bool started, done;
} ks_slab_iter;
int ks_slab_iter_init(ks_slab_iter *it, const ks_weight *w, const int64_t *start,
                      const int64_t *count, size_t max_floats, ks_err *err);
size_t ks_slab_iter_cap(const ks_slab_iter *it);
bool ks_slab_iter_next(ks_slab_iter *it);
int ks_slab_iter_read(const ks_slab_iter *it, const ks_weight_reader *r, float *dst, ks_err *err);

/* Statistics of a weight region (start/count NULL: the whole weight). When h
 * is not NULL it is initialised with nbins bins over the region's finite
 * range (a second pass over the data) and must be released with ks_hist_free;
 * on failure it needs no release. */
int ks_weight_stats(const ks_model *m, const ks_weight *w, const int64_t *start,
                    const int64_t *count, ks_stats *st, ks_hist *h, int nbins, ks_err *err);

#endif
