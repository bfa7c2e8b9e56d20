/* ks_graph: turns a Keras model config of any version into the normalised
 * functional graph of ks_model (layers, inbound nodes, inputs, outputs).
 * Weights are not touched: the loaders attach them afterwards.
 *
 * Accepted configs (the whole {"class_name": ..., "config": ...} object):
 *  - Keras 1 / early Keras 2 Sequential: "config" is a plain list of layers;
 *  - Keras 2/3 Sequential: {"name", "layers": [...]} (with or without an
 *    explicit InputLayer);
 *  - Functional / Model (Keras 1-3) and custom classes with a functional
 *    config: layers carry "inbound_nodes" in the Keras 1/2 form
 *    [[["layer", node, tensor, {kwargs}], ...], ...] or the Keras 3 form
 *    [{"args": [... __keras_tensor__ {keras_history: [l, n, t]} ...],
 *      "kwargs": {...}}]; "input_layers"/"output_layers" as one [l, n, t] or a
 *    list of them;
 *  - a subclassed model with an empty config: no layers, not an error.
 *
 * Normalised form (what consumers can rely on):
 *  - A Sequential becomes a chain starting with an InputLayer. When the
 *    config has none, one is synthesised, named "<first layer>_input" as
 *    Keras does, with config {"batch_input_shape": [null, ...], "dtype",
 *    "name"} built from the first layer's batch_input_shape / batch_shape /
 *    input_shape / input_dim (+ input_length), or the model's
 *    build_input_shape. Without any shape the synthesised InputLayer has no
 *    batch_input_shape key and a warning is recorded.
 *  - ks_ref.node is an index into the producing layer's nodes[] array. The
 *    file's node indices are translated: references to a nested model use
 *    node 1 for its first call in Keras (node 0 is its construction node),
 *    which becomes 0 here. InputLayers have no inbound nodes; references to
 *    them always use node 0.
 *  - A layer whose config holds its own "layers" (Functional, Model,
 *    Sequential, or a custom class built that way) gets layer->inner, a
 *    model of its own (parent set, same format and file, owns_file false),
 *    built recursively.
 *  - layer->config is never NULL (an empty object when the file has none) and
 *    points into m->model_config (or into m->owned_json for synthesised
 *    layers); node kwargs are borrowed the same way.
 *
 * Layer names must be unique within a model; references to unknown layers,
 * out-of-range node indices and malformed node lists are errors naming the
 * layer. m->path is used to prefix messages ("m.h5: layer dense_2: ...").
 */
#ifndef KS_GRAPH_H
#define KS_GRAPH_H

#include <jansson.h>

#include "ks_model.h"
#include "ks_status.h"

/* Fills m->class_name, m->name, m->layers (without weights), m->inputs and
 * m->outputs from model_config; stores a new reference to model_config in
 * m->model_config if that is still NULL. m must have no layers yet.
 * Returns 0, or -1 with "FILE: problem" in err (m stays freeable). */
int ks_graph_build(ks_model *m, const json_t *model_config, ks_err *err);

/* True for class names that denote a model used as a layer. */
bool ks_graph_is_model_class(const char *class_name);

/* Maximum nesting of models inside models that ks_graph_build accepts. */
#define KS_GRAPH_MAX_NESTING 32

/* Appends a json value to m->owned_json (created on demand as an array),
 * stealing the reference: it then lives as long as m. Returns v. */
json_t *ks_model_keep_json(ks_model *m, json_t *v);

/* Appends a warning ("layout oddity") to m->warnings (printf-style). */
void ks_model_warn(ks_model *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Allocates an empty model: file = H5I_INVALID_HID, path copied (may be NULL). */
ks_model *ks_model_new(const char *path);

/* Refuses a weight whose shape is far beyond what its container can hold
 * (a chunked dataset declaring terabytes of unwritten fill values would make
 * every reader allocate or walk it): the container is the zip member
 * (root image_size) or the file. Keras writes weights uncompressed, so a
 * 64x margin (plus 1 MB) is generous. label and dset name it in the
 * message. Returns 0 or -1 with err set. */
int ks_model_check_claim(const ks_model *m, const ks_weight *w, const char *label,
                         const char *dset, ks_err *err);

/* Recomputes layer->params and the model totals (total/trainable/
 * non_trainable/opt_params/weight_bytes) from the weights, recursing into
 * nested models. A weight counts as trainable when its own flag is set and
 * its layer (and every enclosing model layer) is trainable. */
void ks_model_count_params(ks_model *m);

#endif
