/* ks_modelstats: the statistics of every tensor of a model in one pass over
 * its weights, per tensor, per layer and for the whole model (what
 * `kerascope stats` prints).
 *
 * Each tensor is read once, in bounded blocks (ks_weight_walk), so memory
 * stays at one block however large the model; a progress callback sees the
 * bytes done and may stop the walk. Statistics are those of ks_stats (finite
 * values for the moments, NaN and Inf counted apart); layer and model totals
 * merge them exactly as if all their values had been seen at once. No
 * histograms: they need a second read (`dump --stats` has them).
 *
 * Names are as `ls` shows them: "layer/weight", "outer/inner/weight" for
 * nested models, and the optimizer's slots by their stored names.
 *
 *     ks_model_stats s;
 *     if (ks_model_stats_compute(m, &o, &s, &err) == 0) {
 *         ks_model_stats_print(stdout, m, &s, false);
 *         ks_model_stats_free(&s);
 *     }
 */
#ifndef KS_MODELSTATS_H
#define KS_MODELSTATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ks_model.h"
#include "ks_stats.h"

typedef struct ks_tensor_stats {
	char *name;            /* "layer/weight", owned */
	const ks_weight *w;    /* borrowed from the model */
	int group;             /* index into groups[] */
	ks_stats st;
} ks_tensor_stats;

/* A layer (top-level, nested ones inside their outer layer), or the
 * optimizer state. */
typedef struct ks_stats_group {
	char *name;            /* layer name, or "(optimizer)"; owned */
	const char *class_name;/* borrowed; NULL for the optimizer */
	ks_stats st;           /* all its tensors merged */
	int64_t bytes;         /* as stored */
} ks_stats_group;

typedef struct ks_model_stats {
	ks_tensor_stats *t;
	int n;
	ks_stats_group *groups;
	int n_groups;
	ks_stats total;        /* every layer weight (optimizer state apart) */
	ks_stats optimizer;    /* the optimizer state, when present */
	int64_t bytes;         /* bytes of all tensors read */
	bool stopped;          /* the progress callback asked to stop */
} ks_model_stats;

/* Progress: bytes read so far of the total to read. Return nonzero to stop
 * (the result then holds what was done, with stopped set). */
typedef int (*ks_stats_progress_fn)(void *ctx, int64_t done, int64_t total);

typedef struct ks_model_stats_opts {
	bool optimizer;                /* also the optimizer state */
	ks_stats_progress_fn progress; /* may be NULL */
	void *progress_ctx;
} ks_model_stats_opts;

/* Fills out (freed with ks_model_stats_free, also after a failure). Returns
 * 0, or -1 with a message naming the tensor that could not be read (without
 * the file name: the caller prefixes it). */
int ks_model_stats_compute(const ks_model *m, const ks_model_stats_opts *o, ks_model_stats *out,
                           ks_err *err);
void ks_model_stats_free(ks_model_stats *s);

/* Text (a table per tensor with layer subtotals, then the totals) or one
 * JSON document: {"file", "tensors": [{name, layer, shape, dtype, count,
 * finite, zeros, nan, posinf, neginf, min, max, mean, std}], "layers": [...],
 * "total": {...}, "optimizer": {...} or null}. Names are escaped on text. */
void ks_model_stats_print(FILE *out, const ks_model *m, const ks_model_stats *s, bool json);

#endif
