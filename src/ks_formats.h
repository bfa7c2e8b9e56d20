/* ks_formats: the table of file formats ks_model_open knows, in the order it
 * tries them. It is the only place that names the loaders, so the model core
 * (ks_model.c) depends on this table and not on each loader, while the
 * loaders depend on the model core: one direction, no cycle. A new format is
 * one row here and a loader module of its own.
 *
 * Each row says which container it lives in and how to recognise it:
 *  - KS_CONTAINER_ZIP rows are offered a file whose first bytes are a zip
 *    signature; the first row whose detect accepts it (NULL: any) loads it;
 *  - KS_CONTAINER_H5 rows are offered an HDF5 file already opened read-only
 *    in m->file; detect looks at its structure (never its name).
 * A file no row accepts is a plain HDF5 file (shown as a tree) or, outside
 * both containers, not a Keras file at all.
 *
 * load fills the model (format, configs, graph, weights) and returns 0, or
 * -1 with "FILE: problem" in err; m is freed by the caller either way.
 */
#ifndef KS_FORMATS_H
#define KS_FORMATS_H

#include <stdbool.h>

#include <hdf5.h>

#include "ks_model.h"
#include "ks_status.h"

typedef enum ks_container {
	KS_CONTAINER_ZIP,
	KS_CONTAINER_H5,
} ks_container;

typedef struct ks_format_loader {
	const char *what;               /* for messages and tests: "legacy .h5", ... */
	ks_container container;
	bool (*detect)(hid_t file);     /* H5 rows: does the file's structure match? */
	int (*load)(ks_model *m, const ks_open_opts *opts, ks_err *err);
} ks_format_loader;

/* Rows in trial order, ended by a row whose load is NULL. */
extern const ks_format_loader ks_format_loaders[];

#endif
