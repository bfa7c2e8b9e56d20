/* ks_spatial: geometry shared by the convolution, pooling and shape kernels.
 *
 * A spatial tensor is (batch, d1..dn, channels) in channels_last or
 * (batch, channels, d1..dn) in channels_first, n = 1..3. The helpers here
 * read the layout settings every Keras version spells differently
 * (data_format / dim_ordering, padding / border_mode), compute sliding-window
 * geometry the way TensorFlow does ("same": pad_before = total // 2, the odd
 * element after), move images between the two layouts, and find a layer's
 * weights by semantic name with a positional fallback.
 *
 * Nothing here allocates except ks_sp_read_weight (caller frees).
 */
#ifndef KS_SPATIAL_H
#define KS_SPATIAL_H

#include <stdbool.h>
#include <stdint.h>

#include "ks_ops.h"

#define KS_SP_MAX 3

typedef enum ks_pad {
	KS_PAD_VALID,
	KS_PAD_SAME,
	KS_PAD_CAUSAL, /* Conv1D only: all padding before */
} ks_pad;

/* A spatial tensor's dims; entries may be -1 (unknown) during display inference. */
typedef struct ks_sp {
	int n;                  /* spatial rank 1..3 */
	bool cf;                /* channels_first */
	int64_t batch;
	int64_t ch;
	int64_t d[KS_SP_MAX];
} ks_sp;

/* One axis of a sliding window (convolution or pooling). */
typedef struct ks_win {
	int64_t in, k, s, dil;  /* input length, kernel, stride, dilation */
	int64_t out;            /* output length; -1 when in is unknown */
	int64_t pad;            /* elements of padding before the first input */
} ks_win;

/* Reads data_format ("channels_first"/"channels_last") or Keras 1's
 * dim_ordering ("th"/"tf"); absent means channels_last. */
int ks_sp_data_format(const ks_op_call *c, bool *cf, ks_err *err);

/* Reads padding (Keras 2/3) or border_mode (Keras 1): valid, same, and causal
 * where allowed. */
int ks_sp_padding(const ks_op_call *c, bool allow_causal, ks_pad *pad, ks_err *err);

/* Splits c->in[i] into a ks_sp with n spatial axes; fails naming the layer
 * when the rank is wrong or (need_ch) the channel axis is unknown. */
int ks_sp_from_in(const ks_op_call *c, int i, int n, bool cf, bool need_ch, ks_sp *sp, ks_err *err);
void ks_sp_to_shape(const ks_sp *sp, ks_shape *s);

/* Spatial element count (product of d[]), -1 if any is unknown, INT64_MAX
 * when the product overflows (callers compare it with their limits). */
int64_t ks_sp_pixels(const ks_sp *sp);

/* Fills w for an input length (may be -1). Fails when k/s/dil are not
 * positive or when a valid window does not fit; "too small" is reported by
 * the caller, which knows all axes (ks_sp_check_fit). */
int ks_win_make(ks_win *w, int64_t in, int64_t k, int64_t s, int64_t dil, ks_pad pad, ks_err *err);

/* Fails with "layer L (C): input 2x2 is smaller than the 3x3 kernel" when any
 * axis has out <= 0. what is "kernel" or "pool window". */
int ks_sp_check_fit(const ks_op_call *c, const ks_win *w, int n, const char *what, ks_err *err);

/* Reads n ints for key (or the first present of keys), with Keras 1's
 * separate per-axis keys as an alternative (e.g. nb_row/nb_col). */
int ks_sp_ints(const ks_op_call *c, const char *const *keys, int n, const int64_t *def,
               int64_t *out, ks_err *err);

/* [C][S] -> [S][C] and back, one image. */
void ks_sp_to_last(const float *src, float *dst, int64_t ch, int64_t pixels);
void ks_sp_to_first(const float *src, float *dst, int64_t ch, int64_t pixels);

/* Finds a weight by any of the semantic names, else the layer's pos-th
 * weight when the layer has exactly n_expected weights and none of them is
 * named like any known name (files whose names carry no meaning). */
const ks_weight *ks_sp_weight(const ks_op_call *c, const char *const *names, int pos, int n_expected);

/* Number of weights the layer has. */
int ks_sp_n_weights(const ks_op_call *c);

/* Checks w's shape against shape (rank dims) with the standard message. */
int ks_sp_check_shape(const ks_op_call *c, const ks_weight *w, const char *label, int rank,
                      const int64_t *shape, ks_err *err);

/* Reads w as float32 into a new buffer (caller frees). */
int ks_sp_read_weight(const ks_op_call *c, const ks_weight *w, float **out, ks_err *err);

/* out = the axes of src permuted: dst dim i is src dim perm[i] (row-major). */
void ks_sp_permute(const float *src, float *dst, int rank, const int64_t *dims, const int *perm);

#endif
