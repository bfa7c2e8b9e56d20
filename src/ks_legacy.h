/* ks_legacy: loaders for the legacy Keras HDF5 layouts (Keras 1.x, 2.x,
 * tf.keras, and Keras 3's legacy writer):
 *
 *  - full models (model.save("m.h5")): root attributes keras_version,
 *    backend, model_config, training_config; weights under /model_weights
 *    (layer_names, per-layer weight_names); optional /optimizer_weights;
 *  - weights-only files (model.save_weights("m.h5")): layer_names and the
 *    layer groups at the root. ks_open_opts may supply the architecture
 *    (ks_arch.h: a JSON file, a model file, or a document in memory);
 *    without it the layers are listed from layer_names with class "?".
 *
 * Weights are attached by following weight_names (never by guessing group
 * names); each gets a semantic name ("kernel", Keras 1 "W_i", "forward/kernel"
 * for Bidirectional). Nothing is
 * read but attributes and dataset metadata.
 */
#ifndef KS_LEGACY_H
#define KS_LEGACY_H

#include <stdbool.h>

#include <hdf5.h>

#include "ks_model.h"
#include "ks_status.h"

/* True when the open file carries a legacy layout: a root model_config or
 * layer_names attribute, or a /model_weights group with layer_names. */
bool ks_legacy_detect(hid_t file);

/* Fills m (m->path set, m->file open and owned) from a legacy file and sets
 * m->format to KS_FMT_LEGACY_H5 or KS_FMT_WEIGHTS_H5. Returns 0, or -1 with
 * "FILE: problem" in err; m stays freeable with ks_model_free. */
int ks_legacy_load(ks_model *m, const ks_open_opts *opts, ks_err *err);

/* Parses a JSON text (a model_config attribute or an architecture file)
 * defensively: nesting deeper than KS_JSON_MAX_DEPTH is refused before
 * parsing, bare NaN/Infinity (Python's json.dumps writes them) become null.
 * what names the source in messages ("m.h5: model_config"). Returns a new
 * reference or NULL with err set. */
#define KS_JSON_MAX_DEPTH 512
json_t *ks_json_parse(const char *text, size_t len, const char *what, ks_err *err);

#endif
