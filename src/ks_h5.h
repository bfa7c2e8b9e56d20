/* ks_h5: small, defensive wrappers over the HDF5 C API (1.10) used by every
 * loader and by the tree views.
 *
 * Keras files store the same kind of value in many physical encodings
 * (scalar vlen or fixed-length strings, ASCII or UTF-8, NULLTERM or NULLPAD,
 * an empty list as an empty float64 array). These helpers hide that: callers
 * get plain NUL-terminated C strings.
 *
 * Files are always opened read-only. Nothing here prints (call
 * ks_quiet_hdf5() once at start-up; ks_h5_open_* also do it).
 *
 * Errors: functions taking a ks_err write a message naming the object and
 * the problem ("attribute layer_names of /model_weights: not a string array")
 * but NOT the file: the caller prefixes the file name (ks_err_prefix).
 *
 * Memory: every char* / char** returned is malloc'd and owned by the caller
 * (free / ks_h5_strv_free). hid_t arguments are borrowed.
 */
#ifndef KS_H5_H
#define KS_H5_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hdf5.h>

#include "ks_model.h"
#include "ks_status.h"

/* ---- opening ---------------------------------------------------------- */

/* Opens path read-only. Returns a file id or H5I_INVALID_HID with
 * "PATH: not an HDF5 file (or damaged)" style messages (the path is named). */
hid_t ks_h5_open_path(const char *path, ks_err *err);

/* Opens an in-memory HDF5 image read-only without copying it: buf must stay
 * alive and unchanged until the returned file id is closed (the caller keeps
 * ownership of buf). label names the image in messages ("m.keras:model.weights.h5"). */
hid_t ks_h5_open_image(const void *buf, size_t size, const char *label, ks_err *err);

/* Offset of the HDF5 superblock signature in the first bytes of a file
 * (0, 512, 1024, 2048, ... as userblocks allow), or -1 if none. Reads at most
 * a few KB of the file. */
int64_t ks_h5_sniff(const char *path);

/* ---- existence -------------------------------------------------------- */

/* True when the attribute exists on the object at loc (loc itself when
 * obj_path is "." or NULL). Never fails: errors read as "absent". */
bool ks_h5_has_attr(hid_t loc, const char *obj_path, const char *attr);

/* True when the relative or absolute path resolves to an object (a missing
 * component, a dangling link or a dataset used as a group read as false,
 * quietly). "a/b/c:0" works. */
bool ks_h5_has_link(hid_t loc, const char *path);

typedef enum ks_h5_kind {
	KS_H5_NONE = 0,     /* absent or dangling */
	KS_H5_GROUP,
	KS_H5_DATASET,
	KS_H5_OTHER,        /* named datatype, ... */
} ks_h5_kind;

/* Kind of the object at path (following hard and soft links). */
ks_h5_kind ks_h5_kind_of(hid_t loc, const char *path);

/* ---- string attributes ------------------------------------------------ */

/* Reads a scalar (or single-element) string attribute of any encoding into
 * *out (malloc'd, NUL-terminated, trailing NUL padding removed; fixed-length
 * SPACEPAD strings lose trailing spaces). Absent attribute: returns 0 with
 * *out = NULL. A non-string attribute or an unreadable one: -1. */
int ks_h5_attr_str(hid_t loc, const char *obj_path, const char *attr, char **out, ks_err *err);

/* Reads a string-array attribute (vlen or fixed-length elements, any rank,
 * flattened) into *out (malloc'd array of *n malloc'd strings). An empty
 * numeric array (h5py's empty list: float64 shape (0,)) and an absent
 * attribute give *n = 0, *out = NULL and return 0. A non-empty non-string
 * attribute is an error. A scalar string reads as a one-element list. */
int ks_h5_attr_strv(hid_t loc, const char *obj_path, const char *attr, char ***out, int *n,
                    ks_err *err);
void ks_h5_strv_free(char **v, int n);

/* ---- attributes of any type (for `attrs` and the TUI) ----------------- */

/* Names of all attributes of the object, in name order. */
int ks_h5_attr_names(hid_t loc, const char *obj_path, char ***out, int *n, ks_err *err);

/* Renders an attribute value as short text: strings as-is (arrays as
 * ["a", "b"]), numbers as numpy would print small arrays ("[1 2 3]",
 * "0.5"), anything else as "<type>". Result malloc'd. Values longer than
 * max_chars (0: unlimited) are cut and end with "...". */
int ks_h5_attr_text(hid_t loc, const char *obj_path, const char *attr, size_t max_chars,
                    char **out, ks_err *err);

/* ---- datasets --------------------------------------------------------- */

/* Maps an HDF5 datatype to ks_dtype (strings -> KS_DT_STRING, enum of
 * bool-like (h5py bool) -> KS_DT_BOOL, compound/other -> KS_DT_OTHER). */
ks_dtype ks_h5_dtype_of(hid_t type);

/* Rank, dims and dtype of the dataset at path. Rank > KS_MAX_RANK, negative
 * or overflowing sizes (product beyond int64) and non-simple dataspaces are
 * errors. A scalar dataset has rank 0. dims must hold KS_MAX_RANK entries. */
int ks_h5_dataset_info(hid_t loc, const char *path, int *rank, int64_t *dims, ks_dtype *dtype,
                       ks_err *err);

/* Reads the dataset at path converted to float32 into dst, which holds
 * exactly `numel` floats; fails if the stored element count differs or the
 * type is not numeric. */
int ks_h5_read_f32(hid_t loc, const char *path, float *dst, int64_t numel, ks_err *err);

/* Where the dataset at path keeps its values as plain native float32 in one
 * contiguous run: contiguous layout, no external storage, the host's float
 * type, exactly numel values stored, the run inside the file. Then *fd is
 * the descriptor of a file opened by the sec2 driver (or -1) and *image the
 * bytes of an in-memory image (or NULL), *offset the run's first byte.
 * Returns false (outputs untouched) for anything else: compressed or
 * chunked data, other types, drivers, damaged layouts. Nothing is read.
 * Reading the run with pread() or from the image gives exactly the values
 * H5Dread would; a pass over a big weight then costs no HDF5 call per block. */
bool ks_h5_plain_f32(hid_t f, const char *path, int64_t numel, int *fd,
                     const unsigned char **image, int64_t *offset);

/* ---- iteration -------------------------------------------------------- */

typedef enum ks_h5_order {
	KS_H5_ORDER_NAME,      /* byte order of link names (always available) */
	KS_H5_ORDER_NATURAL,   /* names with embedded numbers compared numerically:
	                        * "vars/2" before "vars/10" */
	KS_H5_ORDER_CREATION,  /* creation order when the group tracks it, else NAME */
} ks_h5_order;

/* Names of the links directly inside the group at group_path ("." or "/" for
 * loc itself), sorted as asked. *out malloc'd (ks_h5_strv_free). */
int ks_h5_links(hid_t loc, const char *group_path, ks_h5_order order, char ***out, int *n,
                ks_err *err);

/* One object met by ks_h5_visit. */
typedef struct ks_h5_item {
	const char *path;     /* absolute path ("/model_weights/dense/dense/kernel:0") */
	const char *name;     /* last component */
	int depth;            /* 0 for the start group's children */
	ks_h5_kind kind;
	int rank;             /* datasets only */
	int64_t dims[KS_MAX_RANK];
	ks_dtype dtype;       /* datasets only */
	int n_attrs;
	bool is_link_only;    /* soft/external link not followed (kind = KS_H5_NONE) */
} ks_h5_item;

/* Return 0 to continue, 1 to skip the children of this group, -1 to stop
 * (the visit then returns -1 with whatever err the callback set). */
typedef int (*ks_h5_visit_cb)(const ks_h5_item *item, void *ud, ks_err *err);

/* Depth-first walk of the tree below start ("/" for the whole file), groups
 * before their children, children in NATURAL order. Hard-link cycles are
 * visited once; soft and external links are reported but not followed. Depth
 * is capped at 64 levels. */
int ks_h5_visit(hid_t loc, const char *start, ks_h5_visit_cb cb, void *ud, ks_err *err);

#endif
