/* ks_npy: NumPy .npy files in and out, as float32.
 *
 * Reading accepts format versions 1.0, 2.0 and 3.0, the dtypes float16/32/64,
 * int8..int64, uint8..uint64 and bool in either byte order, C order only
 * (fortran_order True is refused with a clear message), and converts to
 * float32. The header is parsed defensively: unknown or malformed fields,
 * too many dimensions, dimensions that overflow, and a data section shorter
 * than the header promises are all errors naming the file.
 *
 *     ks_array a;
 *     if (ks_npy_read("x.npy", &a, &err) < 0) ...;
 *     ... a.data[i], a.shape[0..a.rank-1] ...
 *     ks_array_free(&a);
 *
 * Writing produces a version 1.0 little-endian float32 file ('<f4'), with the
 * header padded to 64 bytes as NumPy does.
 */
#ifndef KS_NPY_H
#define KS_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "ks_model.h"
#include "ks_status.h"

/* A dense row-major float32 array owning its data. */
typedef struct ks_array {
	int rank;
	int64_t shape[KS_MAX_RANK];
	float *data;          /* numel floats (malloc'd; at least 1 allocated) */
	ks_dtype src_dtype;   /* what the source held (npy dtype; F32 for text) */
} ks_array;

void ks_array_free(ks_array *a);
int64_t ks_array_numel(const ks_array *a);

/* Reads a .npy file. On failure *out is empty and err says why. */
int ks_npy_read(const char *path, ks_array *out, ks_err *err);

/* Parses a .npy image held in memory; name is used in messages. */
int ks_npy_parse(const void *buf, size_t size, const char *name, ks_array *out, ks_err *err);

/* Writes data (numel of shape floats) as a float32 .npy file. */
int ks_npy_write(const char *path, const float *data, const int64_t *shape, int rank, ks_err *err);

#endif
