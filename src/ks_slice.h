/* ks_slice: numpy-style selections of a tensor, as `dump --slice` takes them.
 *
 * A spec is a comma-separated list of per-axis items, optionally inside
 * brackets: "[0,:,:,3]", "0:10,5", "-1", "2:", ":-1", "..., 0". Each item is
 * an index (negative counts from the end; the axis is dropped from the
 * result, as in numpy), a slice start:stop with Python semantics (either side
 * may be empty or negative; out-of-range bounds clamp; stop <= start gives an
 * empty axis), or one "..." standing for as many ":" as needed. Axes not
 * mentioned are taken whole. Steps (a:b:c) are refused with a clear message.
 */
#ifndef KS_SLICE_H
#define KS_SLICE_H

#include <stdbool.h>
#include <stdint.h>

#include "ks_model.h"
#include "ks_status.h"

typedef struct ks_slice {
	int rank;                  /* rank of the tensor sliced */
	int64_t start[KS_MAX_RANK];/* hyperslab to read: start and count per axis */
	int64_t count[KS_MAX_RANK];
	bool keep[KS_MAX_RANK];    /* false: axis fixed by an index, dropped from the result */
} ks_slice;

/* The whole tensor. */
void ks_slice_all(const int64_t *shape, int rank, ks_slice *out);

/* Parses spec against shape. Fails with a message quoting the spec and the
 * axis ("slice '[9]': index 9 is out of bounds for axis 0 with size 4"). */
int ks_slice_parse(const char *spec, const int64_t *shape, int rank, ks_slice *out, ks_err *err);

/* Shape of the selection after dropping indexed axes; returns its rank. */
int ks_slice_shape(const ks_slice *s, int64_t *shape);

/* Writes a canonical form of the selection ("[0, :, 2:5]") into buf. */
const char *ks_slice_str(const ks_slice *s, const int64_t *shape, char *buf, size_t n);

#endif
