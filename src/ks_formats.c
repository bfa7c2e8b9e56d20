#include "config.h"

#include "ks_formats.h"
#include "ks_h5.h"
#include "ks_keras3.h"
#include "ks_legacy.h"
#include "ks_session.h"

/* A Keras 3 style weights tree at the root of an HDF5 file. */
static bool looks_keras3_weights(hid_t f)
{
	return ks_h5_kind_of(f, "layers") == KS_H5_GROUP ||
	       ks_h5_kind_of(f, "_layer_checkpoint_dependencies") == KS_H5_GROUP ||
	       ks_h5_kind_of(f, "vars") == KS_H5_GROUP || ks_keras3_windows_store(f);
}

const ks_format_loader ks_format_loaders[] = {
	{".keras archive", KS_CONTAINER_ZIP, NULL, ks_keras3_load_zip},
	/* Legacy first: a legacy file may also hold a "layers" group. */
	{"legacy .h5", KS_CONTAINER_H5, ks_legacy_detect, ks_legacy_load},
	{"Keras 3 .weights.h5", KS_CONTAINER_H5, looks_keras3_weights, ks_keras3_load_weights},
	/* not a model: a plain HDF5 tree that says what it is */
	{"kerascope session", KS_CONTAINER_H5, ks_session_is_file, ks_session_load_model},
	{NULL, KS_CONTAINER_H5, NULL, NULL},
};
