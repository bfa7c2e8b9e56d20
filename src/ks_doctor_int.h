/* ks_doctor_int: what the doctor's check modules share (not a public API).
 *
 * A check is a function `int check(dr_ctx *c)` that adds findings with
 * dr_add and returns 0 when it ran, or dr_skip(c, why) (1) when the
 * material it needs is missing, or -1 with c->err set on a read failure.
 * Weight statistics of each model are gathered once (dr_tensors) and
 * shared by the checks that need them.
 */
#ifndef KS_DOCTOR_INT_H
#define KS_DOCTOR_INT_H

#include <stdarg.h>

#include "ks_doctor.h"
#include "ks_init.h"

/* One stored tensor of a model (nested models flattened). */
typedef struct dr_tensor {
	const ks_model *m;     /* the (possibly nested) model that owns it */
	const ks_layer *layer; /* NULL for optimizer state */
	const ks_weight *w;
	char *name;            /* "layer/weight", "outer/inner/weight", optimizer: its path */
	char *layer_name;      /* "layer" or "outer/inner"; NULL for optimizer state */
	int top;               /* index of the top-level layer it belongs to, -1 optimizer */
	bool has_rule;
	ks_init_rule rule;
	ks_init_scan scan;
	ks_init_verdict verdict;
	char why[256];
} dr_tensor;

typedef struct dr_tensors {
	dr_tensor *t;
	int n;
	bool ready;
	int n_at_init, n_moved, n_random_at_init;
} dr_tensors;

/* A tensor of a paired with its counterpart in b, and how they compare. */
typedef struct dr_pair {
	const dr_tensor *a, *b;
	bool same_shape;
	int64_t n_changed;    /* elements that differ (exact comparison) */
	double max_abs;
} dr_pair;

typedef struct dr_ctx {
	const ks_doctor_in *in;
	ks_doctor *d;
	ks_check *cur;
	ks_err *err;
	dr_tensors ta, tb;     /* scans of in->a and in->b */
	bool a_untrained, b_untrained; /* every judged tensor at init */
	dr_pair *pairs;        /* a's layer tensors paired with b's (two files) */
	int n_pairs, a_unpaired, b_unpaired;
	bool pairs_ready;
} dr_ctx;

/* Adds a finding for the current check (strings copied; NULL allowed). */
ks_finding *dr_add(dr_ctx *c, const char *id, ks_severity sev, const char *layer,
                   const char *tensor);
/* printf into a finding field, replacing what was there. */
void dr_set(char **field, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Records why the current check could not run; returns 1. */
int dr_skip(dr_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Scans every tensor of m (layers, nested models, optimizer state) once. */
int dr_tensors_get(dr_ctx *c, const ks_model *m, dr_tensors *out);
void dr_tensors_free(dr_tensors *t);

/* A shape as "(3, 4)" into buf. */
const char *dr_shape(const int64_t *shape, int rank, char *buf, size_t n);
/* C-order multi-index of a flat position, as "[1, 4]". */
const char *dr_index(const ks_weight *w, int64_t flat, char *buf, size_t n);

/* The checks, by module. */
int dr_check_lambda(dr_ctx *c);
int dr_check_custom(dr_ctx *c);
int dr_check_accuracy(dr_ctx *c);
int dr_check_training_flag(dr_ctx *c);
int dr_check_stateful(dr_ctx *c);
int dr_check_version_semantics(dr_ctx *c);
int dr_check_version_compat(dr_ctx *c);
int dr_check_class_names(dr_ctx *c);
int dr_check_layout_notes(dr_ctx *c);
int dr_check_untrained(dr_ctx *c);
int dr_check_bn_stats(dr_ctx *c);
int dr_check_nan_inf(dr_ctx *c);
int dr_check_layer_order(dr_ctx *c);
int dr_check_name_mismatch(dr_ctx *c);
int dr_check_reinitialised(dr_ctx *c);
int dr_check_class_permutation(dr_ctx *c);
int dr_check_identical(dr_ctx *c);
int dr_check_input_contract(dr_ctx *c);
int dr_check_nan_output(dr_ctx *c);
int dr_check_deterministic(dr_ctx *c);

#endif
