#include "config.h"

#include <stdbool.h>
#include <string.h>

#include <cblas.h>

#include "ks_vec.h"
#include "ks_winograd.h"

/* Floats of transformed input + GEMM output aimed at per block (1 MB, so that they stay in
 * L2 between the transforms and the GEMMs: 25% faster on 64 channels); a block always has
 * WINO_MIN_TILES tiles so the 16 kernel matrices are not repacked too often. */
#define WINO_BUDGET ((int64_t)1 << 18)
#define WINO_MIN_TILES 200
/* Channels per vector step. */
#define CH 8

/* u = G g G^T per (in, out) pair, G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1],
 * computed in double so every value rounds once (4 pairs at a time, then a
 * scalar tail the same way).
 *
 * The 9 tap planes and 16 transformed planes are cin*cout floats apart, so
 * streams over many of them at once all fall into one cache set. A chunk
 * of the tap planes a row of u needs is first converted into contiguous
 * local rows of doubles; the row's 4 planes are then written from those. */
#define KCHUNK 128
typedef float v4f __attribute__((vector_size(16)));
typedef double v4d __attribute__((vector_size(32)));
#define LD4(p) __extension__({ v4d v_; memcpy(&v_, (p), sizeof v_); v_; })
#define ST4(p, x) do { v4f w_ = __builtin_convertvector((x), v4f); memcpy((p), &w_, sizeof w_); } while (0)
#define LD1(p) (*(p))
#define ST1(p, x) (*(p) = (float)(x))

/* Row i of u (planes 4i..4i+3) for the elements of one chunk: t = row i of
 * G g (TAP(LD, c): its column c), then u = t G^T. */
#define ROW_STEP(T, LD, ST, TAP) do { \
	T t0 = TAP(LD, 0), t1 = TAP(LD, 1), t2 = TAP(LD, 2); \
	ST(u0 + e, t0); \
	ST(u1 + e, 0.5 * (t0 + t1 + t2)); \
	ST(u2 + e, 0.5 * (t0 - t1 + t2)); \
	ST(u3 + e, t2); \
} while (0)
#define ROW_LOOP(TAP) do { \
	int64_t e = 0; \
	for (; e + 4 <= nb; e += 4) \
		ROW_STEP(v4d, LD4, ST4, TAP); \
	for (; e < nb; e++) \
		ROW_STEP(double, LD1, ST1, TAP); \
} while (0)
#define TAP_R0(LD, c) LD(g[c] + e)
#define TAP_R1(LD, c) (0.5 * (LD(g[c] + e) + LD(g[3 + c] + e) + LD(g[6 + c] + e)))
#define TAP_R2(LD, c) (0.5 * (LD(g[c] + e) - LD(g[3 + c] + e) + LD(g[6 + c] + e)))
#define TAP_R3(LD, c) LD(g[6 + c] + e)

/* g[p] = k's plane p (of n floats) from e0, for the nb elements of a chunk. */
KS_CLONES
static void taps_in(const float *k, int64_t n, int p0, int p1, int64_t e0, int64_t nb,
                    double (*g)[KCHUNK])
{
	for (int p = p0; p < p1; p++) {
		const float *src = k + p * n + e0;
		int64_t e = 0;
		for (; e + 4 <= nb; e += 4) {
			v4f f;
			memcpy(&f, src + e, sizeof f);
			v4d d = __builtin_convertvector(f, v4d);
			memcpy(g[p] + e, &d, sizeof d);
		}
		for (; e < nb; e++)
			g[p][e] = src[e];
	}
}

/* Row i of u for one chunk: planes at u + j * n, from the chunk's element e0. */
KS_CLONES
static void row_chunk(int i, const double (*g)[KCHUNK], float *u, int64_t n, int64_t nb)
{
	float *u0 = u, *u1 = u + n, *u2 = u + 2 * n, *u3 = u + 3 * n;

	switch (i) {
	case 0: ROW_LOOP(TAP_R0); break;
	case 1: ROW_LOOP(TAP_R1); break;
	case 2: ROW_LOOP(TAP_R2); break;
	default: ROW_LOOP(TAP_R3); break;
	}
}

/* Rows i0..i1-1 of u: plane p at u + (p - 4*i0) * n. */
static void kernel_rows(const float *k, int64_t n, int i0, int i1, float *u)
{
	double g[9][KCHUNK];
	/* tap rows r0..r1 are read: u's row 0 reads only g's row 0, row 3 only row 2 */
	const int r0 = i0 == 3 ? 2 : 0, r1 = i0 == 0 && i1 == 1 ? 0 : 2;

	for (int64_t e0 = 0; e0 < n; e0 += KCHUNK) {
		const int64_t nb = n - e0 < KCHUNK ? n - e0 : KCHUNK;
		taps_in(k, n, 3 * r0, 3 * r1 + 3, e0, nb, g);
		for (int i = i0; i < i1; i++)
			row_chunk(i, (const double (*)[KCHUNK])g, u + (i - i0) * 4 * n + e0, n, nb);
	}
}

void ks_wino_kernel(const float *k, int64_t cin, int64_t cout, float *u)
{
	kernel_rows(k, cin * cout, 0, 4, u);
}

int64_t ks_wino_block(int64_t cin, int64_t cout, int64_t ntiles)
{
	int64_t t = WINO_BUDGET / (16 * (cin + cout));
	if (t < WINO_MIN_TILES)
		t = WINO_MIN_TILES;
	if (t > ntiles)
		t = ntiles;
	return t < 1 ? 1 : t;
}

size_t ks_wino_scratch(int64_t cin, int64_t cout, int64_t ntiles, int64_t tblk)
{
	const int64_t urows = ntiles <= tblk ? 1 : 4;
	return (size_t)(16 * tblk * (cin + cout) + cin + cout + 4 * urows * cin * cout);
}

/* 8 channels at a time (ks_vec.h). */
typedef ks_v8 v8;
#define ld KS_LD8
#define st KS_ST8

/* V = B^T d B for every channel of one tile: d[16] point at the 4x4 patch's
 * channel vectors, v at the tile's row of the 16 transformed matrices
 * (matrix stride vs). */
KS_CLONES
static void in_tile(const float *const *d, float *v, int64_t vs, int64_t cin)
{
	int64_t c = 0;
	for (; c + CH <= cin; c += CH) {
		v8 x[16], t[16];
		for (int i = 0; i < 16; i++)
			x[i] = ld(d[i] + c);
		for (int j = 0; j < 4; j++) {
			t[j] = x[j] - x[8 + j];
			t[4 + j] = x[4 + j] + x[8 + j];
			t[8 + j] = x[8 + j] - x[4 + j];
			t[12 + j] = x[4 + j] - x[12 + j];
		}
		for (int i = 0; i < 4; i++) {
			st(v + (i * 4 + 0) * vs + c, t[i * 4 + 0] - t[i * 4 + 2]);
			st(v + (i * 4 + 1) * vs + c, t[i * 4 + 1] + t[i * 4 + 2]);
			st(v + (i * 4 + 2) * vs + c, t[i * 4 + 2] - t[i * 4 + 1]);
			st(v + (i * 4 + 3) * vs + c, t[i * 4 + 1] - t[i * 4 + 3]);
		}
	}
	for (; c < cin; c++) {
		float x[16], t[16];
		for (int i = 0; i < 16; i++)
			x[i] = d[i][c];
		for (int j = 0; j < 4; j++) {
			t[j] = x[j] - x[8 + j];
			t[4 + j] = x[4 + j] + x[8 + j];
			t[8 + j] = x[8 + j] - x[4 + j];
			t[12 + j] = x[4 + j] - x[12 + j];
		}
		for (int i = 0; i < 4; i++) {
			v[(i * 4 + 0) * vs + c] = t[i * 4 + 0] - t[i * 4 + 2];
			v[(i * 4 + 1) * vs + c] = t[i * 4 + 1] + t[i * 4 + 2];
			v[(i * 4 + 2) * vs + c] = t[i * 4 + 2] - t[i * 4 + 1];
			v[(i * 4 + 3) * vs + c] = t[i * 4 + 1] - t[i * 4 + 3];
		}
	}
}

/* Y = A^T M A (+ bias) for every channel of one tile; out[4] point at the
 * 2x2 outputs (a sink buffer for those outside the image). */
KS_CLONES
static void out_tile(const float *m, int64_t ms, const float *bias, float *const *out, int64_t cout)
{
	int64_t c = 0;
	for (; c + CH <= cout; c += CH) {
		v8 x[16], s0[4], s1[4], b = {0};
		for (int i = 0; i < 16; i++)
			x[i] = ld(m + i * ms + c);
		if (bias)
			b = ld(bias + c);
		for (int j = 0; j < 4; j++) {
			s0[j] = x[j] + x[4 + j] + x[8 + j];
			s1[j] = x[4 + j] - x[8 + j] - x[12 + j];
		}
		st(out[0] + c, s0[0] + s0[1] + s0[2] + b);
		st(out[1] + c, s0[1] - s0[2] - s0[3] + b);
		st(out[2] + c, s1[0] + s1[1] + s1[2] + b);
		st(out[3] + c, s1[1] - s1[2] - s1[3] + b);
	}
	for (; c < cout; c++) {
		float x[16], s0[4], s1[4], b = bias ? bias[c] : 0.0f;
		for (int i = 0; i < 16; i++)
			x[i] = m[i * ms + c];
		for (int j = 0; j < 4; j++) {
			s0[j] = x[j] + x[4 + j] + x[8 + j];
			s1[j] = x[4 + j] - x[8 + j] - x[12 + j];
		}
		out[0][c] = s0[0] + s0[1] + s0[2] + b;
		out[1][c] = s0[1] - s0[2] - s0[3] + b;
		out[2][c] = s1[0] + s1[1] + s1[2] + b;
		out[3][c] = s1[1] - s1[2] - s1[3] + b;
	}
}

void ks_wino_run(const float *x, int64_t images, int64_t ih, int64_t iw, int64_t cin, const float *k,
                 const float *bias, int64_t cout, int64_t oh, int64_t ow, int64_t pad_t,
                 int64_t pad_l, int64_t tblk, float *y, float *scratch)
{
	const int64_t th = (oh + 1) / 2, tw = (ow + 1) / 2, per = th * tw, ntiles = images * per;
	const int64_t n = cin * cout, xsz = ih * iw * cin, ysz = oh * ow * cout;
	/* One block: each row of u is transformed just before its 4 GEMMs, into a
	 * buffer small enough to stay in cache; several blocks: all of u once. */
	const bool by_row = ntiles <= tblk;
	float *zeros = scratch, *sink = scratch + cin, *u = sink + cout;
	float *v = u + (by_row ? 4 : 16) * n;

	memset(zeros, 0, (size_t)cin * sizeof(float));
	if (!by_row)
		kernel_rows(k, n, 0, 4, u);
	for (int64_t t0 = 0; t0 < ntiles; t0 += tblk) {
		const int64_t nt = ntiles - t0 < tblk ? ntiles - t0 : tblk;
		const int64_t vs = nt * cin, ms = nt * cout;
		float *m = v + 16 * vs;

		for (int64_t t = 0; t < nt; t++) {
			const int64_t img = (t0 + t) / per, ty = (t0 + t) % per / tw, tx = (t0 + t) % tw;
			const int64_t r0 = 2 * ty - pad_t, q0 = 2 * tx - pad_l;
			const float *xi = x + img * xsz;
			const float *d[16];
			for (int i = 0; i < 4; i++)
				for (int j = 0; j < 4; j++) {
					int64_t r = r0 + i, q = q0 + j;
					d[i * 4 + j] = r >= 0 && r < ih && q >= 0 && q < iw ? xi + (r * iw + q) * cin : zeros;
				}
			in_tile(d, v + t * cin, vs, cin);
		}
		for (int e = 0; e < 16; e++) {
			const float *ue = u + (by_row ? e % 4 : e) * n;
			if (by_row && e % 4 == 0)
				kernel_rows(k, n, e / 4, e / 4 + 1, u);
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nt, (int)cout, (int)cin, 1.0f,
			            v + e * vs, (int)cin, ue, (int)cout, 0.0f, m + e * ms, (int)cout);
		}
		for (int64_t t = 0; t < nt; t++) {
			const int64_t img = (t0 + t) / per, ty = (t0 + t) % per / tw, tx = (t0 + t) % tw;
			float *yi = y + img * ysz;
			float *o[4];
			for (int i = 0; i < 2; i++)
				for (int j = 0; j < 2; j++) {
					int64_t r = 2 * ty + i, q = 2 * tx + j;
					o[i * 2 + j] = r < oh && q < ow ? yi + (r * ow + q) * cout : sink;
				}
			out_tile(m + t * cout, ms, bias, o, cout);
		}
	}
}
