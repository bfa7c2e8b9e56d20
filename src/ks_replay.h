/* ks_replay: running a recorded session through a model, and comparing two
 * sessions (recorded, replayed, or built from reference outputs).
 *
 *     ks_session *rec = ks_session_open("s.h5", &err);
 *     ks_model *m = ks_model_open(rec->model.path, NULL, &err);
 *     ks_session *now = ks_replay(rec, m, &err);      // same inputs, m's outputs
 *     ks_compare *c = ks_compare_sessions(rec, now, NULL, &err);
 *     ks_compare_print(stdout, c, false);              // or json
 *     exit(c->identical ? 0 : 1);
 *
 * Comparison works sample by sample: every sample (one row of the batch
 * axis of every input of a run) is identified by the digest of its input
 * values, and the outputs of samples present in both sessions are compared
 * (a sample present several times is paired in order of appearance). So a
 * replay compares everything, and two sessions recorded on partly different
 * inputs are compared on the samples they share, saying how many.
 *
 * For each model output: the difference statistics under the tolerance
 * (ks_cmp), the top-1 agreement of class scores ((batch, classes) outputs),
 * and, when the outputs differ, whether they agree up to a permutation of
 * the classes (the mapping). With activations recorded on both sides, the
 * first layer (in the first session's recorded order) whose output differs
 * on a shared sample is the first divergence.
 *
 * Default tolerance: exact when both sessions carry the same weights
 * digest, else relative 1e-5 (|a-b| > 1e-5*|a|).
 */
#ifndef KS_REPLAY_H
#define KS_REPLAY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "ks_cmp.h"
#include "ks_model.h"
#include "ks_npy.h"
#include "ks_plan.h"
#include "ks_session.h"
#include "ks_status.h"

/* Adds to s one run holding what plan p computed in its last run: the
 * inputs (given as fed to ks_plan_run; sources[i] and the arrays' source
 * dtypes are recorded, sources may be NULL), the plan's outputs (until:
 * the layer the plan stops at, or NULL) and, when acts is set and the
 * plan keeps every step, every step's outputs. */
ks_session_run *ks_replay_capture(ks_session *s, const ks_plan *p, const ks_array *inputs,
                                  const char *const *sources, const char *until, bool acts);

/* Runs every run of rec through m (with rec's until, activations kept
 * when rec recorded some) and returns a session holding the same inputs,
 * m's outputs and m's identity (both digests). Inputs that do not fit the
 * model (count, shapes, dtypes) fail with "S: run R: ...". */
ks_session *ks_replay(const ks_session *rec, const ks_model *m, ks_err *err);

typedef struct ks_compare_output {
	int index;               /* output number */
	const char *until;       /* borrowed from a: runs recorded with --until */
	char *name;              /* producing layer (a's name, else b's) */
	int64_t rows, row_size;  /* shared samples compared, values per sample */
	bool shape_differs;      /* per-sample shapes differ: nothing compared */
	int rank_a, rank_b;
	int64_t shape_a[KS_MAX_RANK], shape_b[KS_MAX_RANK]; /* of the first run */
	ks_cmp cmp;
	double top1;             /* -1 when not class scores */
	int *perm;               /* row_size entries when the classes are permuted, else NULL */
} ks_compare_output;

typedef struct ks_compare {
	ks_tol tol;
	bool tol_default;        /* tolerance chosen by the rule above */
	int same_weights;        /* 1 yes, 0 no, -1 unknown (a digest not recorded) */
	int same_architecture;
	int64_t samples_a, samples_b, shared; /* samples in each, samples compared */
	bool same_inputs;        /* same samples in the same order */
	int outputs_a, outputs_b;
	ks_compare_output *out;
	int n_out;
	char *first_divergence;  /* layer name, or NULL */
	int first_divergence_output;
	ks_cmp first_divergence_cmp;
	int acts_compared;       /* activations compared (0: none recorded on both) */
	bool identical;          /* every shared output equal within tol, nothing missing */
	char *label_a, *label_b; /* one-line descriptions */
} ks_compare;

/* Compares b against a (a is the reference: relative tolerances scale with
 * a's values). tol NULL: the default rule. Fails only on read errors. */
ks_compare *ks_compare_sessions(const ks_session *a, const ks_session *b, const ks_tol *tol,
                                ks_err *err);
void ks_compare_free(ks_compare *c);

/* The verdict as text (lines) or one JSON document with same_inputs,
 * same_weights, same_architecture, outputs {max_abs, max_rel,
 * top1_agreement, permutation}, first_divergence, identical and details. */
void ks_compare_print(FILE *out, const ks_compare *c, bool json);
/* The JSON document alone (new reference). */
json_t *ks_compare_json(const ks_compare *c);

#endif
