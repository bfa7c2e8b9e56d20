/* ks_file: what the file behind a model holds as storage, for views that
 * show it (the inspector's detail and HDF5 tree views, ls --h5): how a
 * weight is laid out on disk, the raw object tree, and attributes as text.
 *
 * The front end asks here instead of calling HDF5 itself, so that every
 * HDF5 call stays in the core (and behind its error handling). All functions
 * take the model (a nested model resolves to its parent's file) and fail
 * with a one-line message, without the file name, when the model has no HDF5
 * file (a model built in memory) or the object is unreadable.
 *
 * Nothing here reads weight values.
 */
#ifndef KS_FILE_H
#define KS_FILE_H

#include <stdbool.h>
#include <stdint.h>

#include "ks_h5.h"
#include "ks_model.h"
#include "ks_status.h"

typedef enum ks_layout {
	KS_LAYOUT_MEMORY = 0,  /* held in memory by the model, not read from a file */
	KS_LAYOUT_CONTIGUOUS,
	KS_LAYOUT_CHUNKED,
	KS_LAYOUT_COMPACT,
	KS_LAYOUT_VIRTUAL,
} ks_layout;

#define KS_FILE_MAX_FILTERS 8

/* Storage facts of one dataset. */
typedef struct ks_storage {
	ks_layout layout;
	int chunk_rank;                  /* chunked only */
	int64_t chunk[KS_MAX_RANK];
	int n_filters;                   /* in pipeline order, at most KS_FILE_MAX_FILTERS */
	char filters[KS_FILE_MAX_FILTERS][32]; /* "gzip", "shuffle", or the filter's own name */
	int64_t stored_bytes;            /* bytes the data occupies in the file (0 unwritten) */
} ks_storage;

/* True when the model (or the model it is nested in) has an HDF5 file open. */
bool ks_file_has_h5(const ks_model *m);

/* Storage facts of a weight. A weight held in memory gives KS_LAYOUT_MEMORY
 * and no error. */
int ks_file_storage(const ks_model *m, const ks_weight *w, ks_storage *out, ks_err *err);

/* "contiguous", "chunked", ... */
const char *ks_layout_name(ks_layout l);

/* The raw tree below start ("/" for the whole file): ks_h5_visit on the
 * model's file (same order, cycle and link rules). */
int ks_file_visit(const ks_model *m, const char *start, ks_h5_visit_cb cb, void *ud, ks_err *err);

/* Attribute names of the object at obj_path (ks_h5_attr_names) and one
 * attribute rendered as text (ks_h5_attr_text). */
int ks_file_attr_names(const ks_model *m, const char *obj_path, char ***out, int *n, ks_err *err);
int ks_file_attr_text(const ks_model *m, const char *obj_path, const char *attr, size_t max_chars,
                      char **out, ks_err *err);

#endif
