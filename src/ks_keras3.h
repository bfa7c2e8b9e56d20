/* ks_keras3: loaders for the Keras "native" formats.
 *
 *  - Keras 3 .keras zip: metadata.json + config.json + model.weights.h5, the
 *    weights tree being layers/<snake_class>[_k]/vars/<i> (saving_lib.py).
 *  - Keras 2.14 .keras zip: same members, the weights tree being
 *    _layer_checkpoint_dependencies/<layer name>/vars/<i>.
 *  - standalone Keras 3 .weights.h5: the same tree as the zip member, in a
 *    plain HDF5 file with no root attributes; an architecture may be given
 *    with ks_open_opts.config_path.
 *
 * Both functions fill an already allocated ks_model (m->path set; everything
 * else zeroed with file = H5I_INVALID_HID) and return 0, or -1 with one line
 * in err naming the file. On failure the caller frees m with ks_model_free().
 */
#ifndef KS_KERAS3_H
#define KS_KERAS3_H

#include "ks_model.h"
#include "ks_status.h"

/* m->path is set and the file starts with a zip signature. Reads the archive
 * (read-only), opens the weights member from memory (m->image owns the bytes,
 * m->file the HDF5 id) and sets m->format to KS_FMT_KERAS3 or KS_FMT_KERAS2_ZIP. */
int ks_keras3_load_zip(ks_model *m, const ks_open_opts *opts, ks_err *err);

/* m->file is already open: a Keras 3 .weights.h5 (or any weights tree with
 * layers/.../vars groups and no legacy attributes). Sets m->format to
 * KS_FMT_KERAS3_WEIGHTS. With opts->config_path the graph is built from that
 * JSON (an architecture JSON or a Keras 3 config.json) and weights are mapped
 * onto it; without it the layers are listed from the file alone. */
int ks_keras3_load_weights(ks_model *m, const ks_open_opts *opts, ks_err *err);

#endif
