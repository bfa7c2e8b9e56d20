/* ks_keras3: loaders for the Keras "native" formats.
 *
 *  - Keras 3 .keras zip: metadata.json + config.json + model.weights.h5, the
 *    weights tree being layers/<snake_class>[_k]/vars/<i> (saving_lib.py).
 *  - Keras 2.14 .keras zip: same members, the weights tree being
 *    _layer_checkpoint_dependencies/<layer name>/vars/<i>.
 *  - standalone Keras 3 .weights.h5: the same tree as the zip member, in a
 *    plain HDF5 file with no root attributes; an architecture may be given
 *    through ks_open_opts (ks_arch.h).
 *
 * Both functions fill an already allocated ks_model (m->path set; everything
 * else zeroed with file = H5I_INVALID_HID) and return 0, or -1 with one line
 * in err naming the file. On failure the caller frees m with ks_model_free().
 *
 * Mapping layers to weight groups follows saving_lib.py: each container
 * (model, nested model) names its layers <snake_case(class)>[_<k>] with a
 * per-class counter in model.layers order (a Sequential does not list its
 * InputLayer). The `name` attribute of a vars group (Keras >= 3.10) is
 * preferred when present. Sub-objects (RNN cell, Bidirectional halves,
 * wrapped layers, attention projections) become the layer's own weights,
 * named as ks_varnames.h describes; stored_name is the path below the
 * layer's group ("cell/vars/0"). Groups no layer claims are reported as
 * warnings. Without usable layers in the config (a subclassed model) or
 * without any config, one layer of class "?" is listed per weights group,
 * in the order the writer created them.
 *
 * Optimizer state (optimizer/vars/N) goes to m->opt_weights, named
 * "iteration", "learning_rate", "<layer>/<weight>/<slot>" when the shapes
 * confirm the layout (Adam: momentum, velocity), else by stored name.
 */
#ifndef KS_KERAS3_H
#define KS_KERAS3_H

#include <stdbool.h>

#include <hdf5.h>

#include "ks_model.h"
#include "ks_status.h"

/* m->path is set and the file starts with a zip signature. Reads the archive
 * (read-only) and opens the weights member as an HDF5 image, no temporary
 * file: a STORED member of 8 MiB or more is mapped and used in place, a
 * smaller or DEFLATED one is read into memory (CRC checked). Either way the
 * bytes belong to the HDF5 file id m->file (released when it is closed, by
 * HDF5 file image callbacks), m->image stays NULL and m->image_size is the
 * member's size. Sets m->format to KS_FMT_KERAS3 or
 * KS_FMT_KERAS2_ZIP (weights under _layer_checkpoint_dependencies), and
 * keras_version, date_saved and metadata from metadata.json (backend only
 * if it says), compile_config from config.json, opt_weights/opt_class. */
int ks_keras3_load_zip(ks_model *m, const ks_open_opts *opts, ks_err *err);

/* m->file is already open: a Keras 3 .weights.h5 (or any weights tree with
 * layers/.../vars groups and no legacy attributes). Sets m->format to
 * KS_FMT_KERAS3_WEIGHTS. With an architecture in opts (ks_arch_from_opts:
 * opts->config, or opts->config_path naming a JSON file, a legacy full .h5 or
 * a .keras archive) the graph is built from it and weights are mapped onto
 * it; without one the layers are listed from the file alone. */
int ks_keras3_load_weights(ks_model *m, const ks_open_opts *opts, ks_err *err);

/* True when the open file's root holds weights groups named with Windows
 * separators ("layers\\conv1d"): tf.keras 2.15 and early Keras 3 on
 * Windows (keras-team/keras#18528). Both loaders read such stores as if the
 * names used '/' (the file is relinked in a private in-memory copy). */
bool ks_keras3_windows_store(hid_t f);

/* The vocabulary of a lookup layer (TextVectorization, StringLookup,
 * IntegerLookup): from its config ("vocabulary": [...]) or, in a .keras
 * archive, from assets/<L->store_path>/vocabulary.txt, as Keras' load_assets
 * reads it. m is the model that owns L. Returns 1 with *tokens (n strings,
 * caller frees each and the array) and *source (where it came from, caller
 * frees), 0 when the file holds none (*source may still say where it was),
 * -1 with err set when the archive cannot be read. */
int ks_keras3_vocabulary(const ks_model *m, const ks_layer *L, char ***tokens, int *n,
                         char **source, ks_err *err);

#endif
