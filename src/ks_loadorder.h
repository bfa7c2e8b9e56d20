/* ks_loadorder: which layer of an architecture gets which weight group of a
 * weights-only file, as Keras' model.load_weights() decides it, under both
 * of its orders, and where they disagree.
 *
 * A legacy weights file (model.save_weights("w.h5")) lists its groups in the
 * attribute layer_names. Keras reads it in one of two ways
 * (keras/src/legacy/saving/legacy_h5_format.py, the same in tf.keras 2 and
 * Keras 2's topology.py):
 *
 *  - topological, what model.load_weights("w.h5") does: the groups whose
 *    weight_names is not empty, in layer_names order, go to the layers of
 *    model.layers that own weights, in order; names are ignored. A nested
 *    model is one layer (its group holds all its weights). It fails when the
 *    two counts differ ("Layer count mismatch ...") or a group holds another
 *    number of weights than its layer ("Weight count mismatch ...");
 *  - by name, load_weights("w.h5", by_name=True): each group goes to the
 *    top-level layer of the same name; layers without a group keep their
 *    initial (random) values, groups without a layer are ignored. It fails
 *    on a weight count mismatch.
 *
 * Inside a layer both orders assign positionally: the i-th saved weight to
 * the i-th variable. Weight shapes are checked where the weights are used
 * (ks_op_check_shape: the plan of predict, evaluate, diff ...), as Keras
 * checks them when it assigns.
 *
 * A Keras 3 .weights.h5 has no such choice: saving_lib assigns by object
 * path, `layers/<class in snake_case>[_k]` for the k-th layer of a class in
 * model.layers, names ignored (topological per class); Keras refuses
 * by_name for it. ks_keras3 implements that path; no ks_loadmap is made.
 *
 * Which layers own weights: the count of variables Keras builds for the
 * class and its config (ks_varnames_count); for a class not known there,
 * whether the file holds weights under the layer's name. Keras 1 files
 * (no keras_version, or 1.x) hold Keras 1 weight lists (an LSTM's twelve
 * W_i, U_i, ...), which Keras 2 converted while loading: their weight counts
 * are not compared.
 *
 * Use: open the weights file with an architecture (ks_open_opts.config or
 * config_path, and load_order); the model's loadmap then holds the mapping
 * under both orders, whichever was used. Opening fails where Keras' load
 * fails in the order asked for; to study a file whose topological load
 * fails, open it with KS_LOAD_BY_NAME: topological_error says why.
 *
 * Ownership: a ks_loadmap owns all its strings; the model holds it
 * (ks_model.loadmap) and frees it with itself.
 */
#ifndef KS_LOADORDER_H
#define KS_LOADORDER_H

#include <stdbool.h>

#include "ks_model.h"
#include "ks_status.h"

/* One weight-bearing layer of the model and where its weights come from. */
typedef struct ks_lo_pair {
	char *layer;        /* top-level layer of the model */
	char *by_name;      /* the group it gets by name, or NULL (keeps its initial values) */
	char *topological;  /* the group it gets topologically, or NULL (count mismatch) */
	int n_expected;     /* its number of variables, -1 when not known */
	bool differs;       /* the two orders give it different weights */
} ks_lo_pair;

typedef struct ks_loadmap {
	ks_load_order used;          /* the order the weights were attached in */
	ks_load_order keras_default; /* what a plain model.load_weights(FILE) does */
	ks_lo_pair *pairs;           /* the weight-bearing model layers, model.layers order */
	int n_pairs;
	char **file_groups;          /* the file's layer_names that hold weights, in order */
	int n_file;
	int n_model;                 /* weight-bearing layers of the model */
	int n_differ;                /* layers whose weights depend on the order */
	char *topological_error;     /* Keras' reason topological loading fails, or NULL */
	char *by_name_error;         /* Keras' reason loading by name fails, or NULL */
} ks_loadmap;

/* One group of the file as the loader read it. */
typedef struct ks_lo_group {
	const char *name;   /* its entry in layer_names */
	int n_weights;      /* entries of its weight_names */
} ks_lo_group;

/* Builds the mapping for model m (its graph built, no weights attached yet)
 * and the file's groups in layer_names order. keras1: the file was written
 * by Keras 1 (see above). used says which order the caller attaches with
 * (KS_LOAD_DEFAULT resolves to keras_default). Never fails. */
ks_loadmap *ks_loadmap_build(const ks_model *m, const ks_lo_group *groups, int n_groups,
                             bool keras1, ks_load_order used);
void ks_loadmap_free(ks_loadmap *lm);

/* The pair of a top-level layer by name, or NULL when the layer owns no
 * weights (or lm is NULL). */
const ks_lo_pair *ks_loadmap_find(const ks_loadmap *lm, const char *layer);

/* The group the layer gets under lm->used, or NULL. */
const char *ks_loadmap_source(const ks_loadmap *lm, const char *layer);

/* Stable names: "by-name", "topological" (KS_LOAD_DEFAULT: "default"). */
const char *ks_load_order_name(ks_load_order o);

/* The mapping as JSON (new reference; json null for NULL): {"used",
 * "keras_default", "n_differ", "topological_error", "by_name_error",
 * "file_groups": [...], "pairs": [{"layer", "by_name", "topological",
 * "differs"}]}. */
json_t *ks_loadmap_json(const ks_loadmap *lm);

/* One line (malloc'd, no newline) saying that the two orders assign
 * different weights, to which layers, which order was used and which one
 * Keras' load_weights uses; NULL when they agree or lm is NULL. path names
 * the weights file. */
char *ks_loadmap_note(const ks_loadmap *lm, const char *path);

#endif
