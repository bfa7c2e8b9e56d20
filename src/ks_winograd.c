#include "config.h"

#include <string.h>

#include <cblas.h>

#include "ks_winograd.h"

/* Floats of transformed input + GEMM output aimed at per block (4 MB); a block always has
 * WINO_MIN_TILES tiles so the 16 kernel matrices are not repacked too often. */
#define WINO_BUDGET ((int64_t)1 << 20)
#define WINO_MIN_TILES 200
/* Channels per inner step: fixed so that the compiler vectorises at -O2. */
#define CH 8

void ks_wino_kernel(const float *k, int64_t cin, int64_t cout, float *u)
{
	const int64_t n = cin * cout;

	for (int64_t e = 0; e < n; e++) {
		double g[3][3], t[4][3];
		for (int i = 0; i < 3; i++)
			for (int j = 0; j < 3; j++)
				g[i][j] = k[(i * 3 + j) * n + e];
		/* t = G g, G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1] */
		for (int j = 0; j < 3; j++) {
			t[0][j] = g[0][j];
			t[1][j] = 0.5 * (g[0][j] + g[1][j] + g[2][j]);
			t[2][j] = 0.5 * (g[0][j] - g[1][j] + g[2][j]);
			t[3][j] = g[2][j];
		}
		/* u = t G^T */
		for (int i = 0; i < 4; i++) {
			u[(i * 4 + 0) * n + e] = (float)t[i][0];
			u[(i * 4 + 1) * n + e] = (float)(0.5 * (t[i][0] + t[i][1] + t[i][2]));
			u[(i * 4 + 2) * n + e] = (float)(0.5 * (t[i][0] - t[i][1] + t[i][2]));
			u[(i * 4 + 3) * n + e] = (float)t[i][2];
		}
	}
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

size_t ks_wino_scratch(int64_t cin, int64_t cout, int64_t tblk)
{
	return (size_t)(16 * tblk * (cin + cout) + cin + cout);
}

/* V = B^T d B for n channels of one tile: d[16] point at the 4x4 patch's
 * channel vectors, v at the tile's row of the 16 transformed matrices. */
static inline void in_tile(const float *const *d, float *v, int64_t vs, int64_t c0, int n)
{
	for (int l = 0; l < n; l++) {
		const int64_t c = c0 + l;
		float t[4][4];
		for (int j = 0; j < 4; j++) {
			float d0 = d[j][c], d1 = d[4 + j][c], d2 = d[8 + j][c], d3 = d[12 + j][c];
			t[0][j] = d0 - d2;
			t[1][j] = d1 + d2;
			t[2][j] = d2 - d1;
			t[3][j] = d1 - d3;
		}
		for (int i = 0; i < 4; i++) {
			v[(i * 4 + 0) * vs + c] = t[i][0] - t[i][2];
			v[(i * 4 + 1) * vs + c] = t[i][1] + t[i][2];
			v[(i * 4 + 2) * vs + c] = t[i][2] - t[i][1];
			v[(i * 4 + 3) * vs + c] = t[i][1] - t[i][3];
		}
	}
}

/* Y = A^T M A (+ bias) for n channels of one tile; out[4] point at the 2x2
 * outputs (a sink buffer for those outside the image). */
static inline void out_tile(const float *m, int64_t ms, const float *bias, float *const *out,
                            int64_t c0, int n)
{
	for (int l = 0; l < n; l++) {
		const int64_t c = c0 + l;
		float s[2][4], b = bias ? bias[c] : 0.0f;
		for (int j = 0; j < 4; j++) {
			float m0 = m[(0 + j) * ms + c], m1 = m[(4 + j) * ms + c];
			float m2 = m[(8 + j) * ms + c], m3 = m[(12 + j) * ms + c];
			s[0][j] = m0 + m1 + m2;
			s[1][j] = m1 - m2 - m3;
		}
		for (int i = 0; i < 2; i++) {
			float y0 = s[i][0] + s[i][1] + s[i][2] + b;
			float y1 = s[i][1] - s[i][2] - s[i][3] + b;
			out[i * 2][c] = y0;
			out[i * 2 + 1][c] = y1;
		}
	}
}

void ks_wino_run(const float *x, int64_t ih, int64_t iw, int64_t cin, const float *u,
                 const float *bias, int64_t cout, int64_t oh, int64_t ow, int64_t pad_t,
                 int64_t pad_l, int64_t tblk, float *y, float *scratch)
{
	const int64_t th = (oh + 1) / 2, tw = (ow + 1) / 2, ntiles = th * tw;
	float *zeros = scratch, *sink = scratch + cin;
	float *v = sink + cout;

	memset(zeros, 0, (size_t)cin * sizeof(float));
	for (int64_t t0 = 0; t0 < ntiles; t0 += tblk) {
		const int64_t nt = ntiles - t0 < tblk ? ntiles - t0 : tblk;
		const int64_t vs = nt * cin, ms = nt * cout;
		float *m = v + 16 * vs;

		for (int64_t t = 0; t < nt; t++) {
			const int64_t ty = (t0 + t) / tw, tx = (t0 + t) % tw;
			const int64_t r0 = 2 * ty - pad_t, q0 = 2 * tx - pad_l;
			const float *d[16];
			int64_t c = 0;
			for (int i = 0; i < 4; i++)
				for (int j = 0; j < 4; j++) {
					int64_t r = r0 + i, q = q0 + j;
					d[i * 4 + j] = r >= 0 && r < ih && q >= 0 && q < iw ? x + (r * iw + q) * cin : zeros;
				}
			for (; c + CH <= cin; c += CH)
				in_tile(d, v + t * cin, vs, c, CH);
			if (c < cin)
				in_tile(d, v + t * cin, vs, c, (int)(cin - c));
		}
		for (int e = 0; e < 16; e++)
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nt, (int)cout, (int)cin, 1.0f,
			            v + e * vs, (int)cin, u + (int64_t)e * cin * cout, (int)cout, 0.0f, m + e * ms,
			            (int)cout);
		for (int64_t t = 0; t < nt; t++) {
			const int64_t ty = (t0 + t) / tw, tx = (t0 + t) % tw;
			float *o[4];
			int64_t c = 0;
			for (int i = 0; i < 2; i++)
				for (int j = 0; j < 2; j++) {
					int64_t r = 2 * ty + i, q = 2 * tx + j;
					o[i * 2 + j] = r < oh && q < ow ? y + (r * ow + q) * cout : sink;
				}
			for (; c + CH <= cout; c += CH)
				out_tile(m + t * cout, ms, bias, o, c, CH);
			if (c < cout)
				out_tile(m + t * cout, ms, bias, o, c, (int)(cout - c));
		}
	}
}
