/* ks_diff: two saved models side by side — which layers correspond, which
 * weights changed and by how much, which settings differ, and (given an
 * input) where the two models start to compute different things.
 *
 * The result is a plain structure (ks_diff) that the CLI renders
 * (ks_diff_report.h) and the inspector can walk: paired layers, paired
 * tensors with their statistics, configuration changes, optimizer state and
 * output comparisons. Building it happens in steps, so a UI can show the
 * cheap parts first:
 *
 *     ks_diff_opts o = {.tol = {KS_TOL_ABS, 1e-3}};
 *     ks_diff *d = ks_diff_open("a.h5", "b.keras", &o, &err);  // structure only
 *     ks_diff_compare(d, &err);                  // streams both files' values
 *     ks_diff_run_outputs(d, inputs, n, &err);    // optional: both forward passes
 *     ... d->layers, d->tensors, d->changes, d->outputs ...
 *     ks_diff_free(d);
 *
 * Pairing (each pair records how it was made):
 *   1. layers with the same name (KS_PAIR_NAME);
 *   2. the rest by position among weight-bearing layers whose weight
 *      shapes are equal, in model order (KS_PAIR_POSITION) — this is how a
 *      model rebuilt in a fresh Python session (dense -> dense_7) pairs;
 *      weightless layers left over pair by position among layers of the
 *      same class;
 *   3. the rest by content: bit-identical weights (KS_PAIR_CONTENT).
 * Nested models pair the same way inside each paired nested model. Within
 * a layer pair, weights pair by semantic name, then by position. Optimizer
 * slots pair by name with layer names translated through the layer
 * pairing, then by position among slots of equal shape.
 *
 * Tensor names are "layer/weight" with the semantic weight names `ls`
 * shows ("outer/inner/weight" when nested); optimizer slots keep the names
 * `ls` shows ("Adam/dense/kernel/m").
 *
 * Memory: values are compared block by block (at most KS_DIFF_BLOCK floats
 * per side in memory), never two whole copies of a tensor. The class-order
 * test reads the first row of each weight of a changed layer, and only when
 * those are a permutation of each other the layer's weights whole (skipped
 * for layers above KS_DIFF_PERM_MAX values per side).
 *
 * A weights-only side (no architecture) is compared as stored; its layers
 * pair with the other side's by the rules above. An architecture for it
 * (ks_diff_opts.config_a/config_b: a JSON file or a model file) is used for
 * the configuration comparison and the forward pass; without one, the
 * forward pass borrows the other side's architecture.
 *
 * Ownership: ks_diff owns both models and everything it points to.
 */
#ifndef KS_DIFF_H
#define KS_DIFF_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "ks_cmp.h"
#include "ks_model.h"
#include "ks_npy.h"
#include "ks_ops.h"
#include "ks_status.h"

#define KS_DIFF_BLOCK ((size_t)1 << 18)
#define KS_DIFF_PERM_MAX ((int64_t)1 << 21)

typedef enum ks_pair_how {
	KS_PAIR_NONE = 0,      /* only on one side */
	KS_PAIR_NAME,
	KS_PAIR_POSITION,
	KS_PAIR_CONTENT,
} ks_pair_how;

const char *ks_pair_how_name(ks_pair_how h);   /* "name", "position", "content", NULL */

typedef enum ks_diff_status {
	KS_DS_SAME = 0,
	KS_DS_CHANGED,         /* values differ beyond the tolerance */
	KS_DS_RESHAPED,        /* shapes differ: values not compared */
	KS_DS_ADDED,           /* only in b */
	KS_DS_REMOVED,         /* only in a */
} ks_diff_status;

const char *ks_diff_status_name(ks_diff_status s);   /* "same", "changed", ... */

/* One differing setting: key (a config key, "class_name", "inputs",
 * "keras_version", "metrics", "optimizer.learning_rate", ...) and both
 * values (NULL where absent). Values are owned references. */
typedef struct ks_diff_change {
	char *key;
	json_t *a, *b;
	bool info;                 /* reported but not a difference (format, versions) */
} ks_diff_change;

typedef struct ks_diff_tensor {
	char *name_a, *name_b;     /* "layer/weight" or NULL on the missing side */
	const ks_weight *wa, *wb;  /* borrowed from the models */
	int layer;                 /* index into ks_diff.layers; -1 for optimizer slots */
	ks_pair_how pairing;       /* how the weights were paired inside the layer pair */
	ks_diff_status status;
	int64_t size;              /* element count (a's, or b's when added) */
	ks_cmp cmp;                /* valid after ks_diff_compare for same/changed */
	bool compared;
} ks_diff_tensor;

typedef struct ks_diff_layer {
	char *name_a, *name_b;     /* path "outer/inner", NULL on the missing side */
	const ks_layer *la, *lb;   /* borrowed */
	int depth;                 /* 0 top level; inner layers of nested models deeper */
	int parent;                /* index of the enclosing nested model's entry, or -1 */
	ks_pair_how pairing;
	ks_diff_status status;     /* same / changed (weights) / reshaped / added / removed */
	ks_diff_change *changes;   /* settings that differ (names excluded) */
	int n_changes;
	int first_tensor, n_tensors; /* its own tensors in ks_diff.tensors */
	int64_t params;            /* a's parameter count (b's when added) */
	int64_t changed_params;    /* params of its tensors that are not "same" */
	ks_cmp roll;               /* its tensors' comparisons merged */
	int *mapping;              /* class order: mapping[j] = b's unit for a's unit j */
	int n_mapping;             /* units, 0 when no permutation was found */
} ks_diff_layer;

typedef struct ks_diff_side_opt {
	bool present;              /* any optimizer state stored */
	const char *class_name;    /* borrowed, or NULL */
	int n_tensors;
	int64_t params;
	bool has_step;             /* an iteration counter was found and read */
	int64_t step;
} ks_diff_side_opt;

typedef struct ks_diff_out_layer {
	char *name_a, *name_b;     /* step names ("outer/inner" when nested) */
	int64_t size;
	ks_cmp cmp;
	bool diverges;             /* n_changed > 0 under the tolerance */
} ks_diff_out_layer;

typedef struct ks_diff_model_out {
	char *name_a, *name_b;     /* producing layers */
	int64_t rows, cols;        /* batch x features (after flattening); 0 x 0 when
	                            * the two shapes differ */
	float *va, *vb;            /* the values (rows * cols each, owned), or NULL */
	ks_cmp cmp;
	double top1;               /* ks_cmp_top1_agreement */
	int *mapping;              /* equal up to a column permutation, else NULL */
	int n_mapping;
} ks_diff_model_out;

typedef struct ks_diff_outputs {
	bool ran;
	const char *input_source;  /* set by the caller for reports ("random 7", file names) */
	ks_diff_out_layer *layers; /* paired steps in a's graph order */
	int n_layers;
	int first_divergence;      /* index into layers, -1 when none */
	char *stopped;             /* why the comparison ended before the end, or NULL */
	ks_diff_model_out *outs;   /* model outputs compared (empty when stopped early) */
	int n_outs;
} ks_diff_outputs;

typedef int (*ks_diff_progress_fn)(void *ctx, int64_t done, int64_t total);

/* One element that differs under the tolerance (h5diff -r). */
typedef struct ks_diff_elem {
	int tensor;                /* index into ks_diff.tensors (opt slots: -1 - index) */
	int64_t flat;              /* C-order index */
	float a, b;
} ks_diff_elem;

typedef struct ks_diff_opts {
	ks_tol tol;
	const char *config_a, *config_b; /* architecture for a weights-only side, or NULL */
	ks_load_order load_order;  /* how a weights-only .h5 meets an architecture */
	/* Called between blocks with bytes compared so far and the total;
	 * returning non-zero stops ks_diff_compare with "interrupted". */
	ks_diff_progress_fn progress;
	void *progress_ctx;
	/* Keep the first elem_max differing elements of each tensor in
	 * ks_diff.elems (h5diff -r); 0 keeps none. */
	int64_t elem_max;
} ks_diff_opts;

typedef struct ks_diff {
	ks_model *a, *b;           /* owned */
	ks_diff_opts opts;
	const char *config_from_a; /* "b" when a has no architecture and borrows b's, else NULL */
	const char *config_from_b;

	ks_diff_layer *layers;     /* pre-order: a nested model's entry, then its layers */
	int n_layers;
	ks_diff_tensor *tensors;   /* layer weights, grouped by layer */
	int n_tensors;
	ks_diff_tensor *opt_tensors; /* optimizer slots */
	int n_opt_tensors;

	ks_diff_change *model_changes;    /* format, keras_version, backend, inputs, outputs */
	int n_model_changes;
	ks_diff_change *training_changes; /* loss, metrics, optimizer and hyper-parameters */
	int n_training_changes;
	bool training_a, training_b;      /* a training/compile configuration is stored */
	ks_diff_side_opt opt_a, opt_b;

	/* Roll-up after ks_diff_compare. */
	bool compared;
	int n_same, n_changed, n_reshaped, n_added, n_removed;   /* tensors */
	int n_layers_added, n_layers_removed, n_layers_renamed, n_layers_config;
	int n_permuted;             /* layers whose units are permuted */
	int64_t params_a, params_changed; /* parameters of a; those in tensors not "same" */
	ks_cmp total;               /* every compared tensor merged */

	ks_diff_elem *elems;       /* with opts.elem_max: differing elements, by tensor */
	int64_t n_elems;

	ks_diff_outputs outputs;
} ks_diff;

/* Opens both files and pairs them: layers, tensors, settings, optimizer
 * state. Reads no weight values except for content pairing of layers left
 * unpaired. Errors name the file ("b.h5: ..."). */
ks_diff *ks_diff_open(const char *path_a, const char *path_b, const ks_diff_opts *o, ks_err *err);
void ks_diff_free(ks_diff *d);

/* Streams the values of every paired tensor (layers, then optimizer slots)
 * and fills the statistics, the roll-ups and the class-order mappings. */
int ks_diff_compare(ks_diff *d, ks_err *err);

/* True when no tensor differs, none was added, removed or reshaped. */
bool ks_diff_weights_identical(const ks_diff *d);
/* True when the two compute the same: weights identical, no layer added
 * or removed, no layer setting, model input or output changed, and (when
 * run) no output diverged. File format, Keras version and backend are
 * reported but do not count: the same weights in two containers are
 * identical. Training configuration and optimizer state do not count here
 * either (they do not change what the model computes)... */
bool ks_diff_identical(const ks_diff *d);
/* ...but they do here: true when anything at all differs (the exit status
 * of `kerascope diff`). */
bool ks_diff_any_difference(const ks_diff *d);

/* The model inputs a forward pass of a needs (for callers that build
 * inputs with ks_input): the model that will run as a. */
const ks_model *ks_diff_model_a(const ks_diff *d);

/* Runs both models on the same inputs (dense float32, one per input of a,
 * shaped for a) with every step kept, and fills d->outputs. Layers
 * kerascope cannot run end the comparison there (outputs.stopped says
 * why); that is not an error. Errors: inputs that b cannot take, a model
 * that cannot run at all. */
int ks_diff_run_outputs(ks_diff *d, const ks_array *inputs, int n_inputs, ks_err *err);

#endif
