/* ks_winograd: 3x3, stride-1 2-D convolution by Winograd's F(2x2, 3x3).
 *
 * Each 2x2 block of outputs is computed from a 4x4 input patch with 16
 * multiplications per (input, output) channel pair instead of 36, the
 * products being 16 independent GEMMs (tiles x in) * (in x out). This is
 * what makes VGG-style networks fast; its rounding differs from direct
 * summation at the 1e-7 relative level (transforms only use 1/2 and +-1).
 *
 * Layouts are channels_last: x (ih, iw, cin), y (oh, ow, cout), one image.
 * Nothing allocates; the caller provides scratch. The kernel is kept in its
 * original (3, 3, cin, cout) layout and transformed per run into scratch:
 * O(cin * cout) work against the GEMMs' O(tiles * cin * cout), and it keeps
 * the transformed form (16 floats per 9) from being resident for every
 * layer at once.
 */
#ifndef KS_WINOGRAD_H
#define KS_WINOGRAD_H

#include <stddef.h>
#include <stdint.h>

/* k (3, 3, cin, cout) -> u (16, cin, cout), 16 * cin * cout floats. */
void ks_wino_kernel(const float *k, int64_t cin, int64_t cout, float *u);

/* Tiles per GEMM block for these channel counts and tile count (of all
 * the images one ks_wino_run call computes). */
int64_t ks_wino_block(int64_t cin, int64_t cout, int64_t ntiles);

/* Scratch floats ks_wino_run needs for ntiles tiles ((oh+1)/2 * (ow+1)/2)
 * in blocks of tblk: the blocks' buffers plus 16 * cin * cout floats of
 * transformed kernel, or 4 * cin * cout when all tiles are one block. */
size_t ks_wino_scratch(int64_t cin, int64_t cout, int64_t ntiles, int64_t tblk);

/* y = conv(x, k) + bias (bias may be NULL), k (3, 3, cin, cout) as stored,
 * for `images` images stored one after the other in x and y (their tiles
 * form one sequence cut into blocks, so k is transformed once per call).
 * pad_t/pad_l: padding before the first row/column (TF "same": total // 2;
 * "valid": 0); oh/ow the output size; positions outside the input read as
 * zero. */
void ks_wino_run(const float *x, int64_t images, int64_t ih, int64_t iw, int64_t cin, const float *k,
                 const float *bias, int64_t cout, int64_t oh, int64_t ow, int64_t pad_t,
                 int64_t pad_l, int64_t tblk, float *y, float *scratch);

#endif
