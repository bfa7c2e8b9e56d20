#include "config.h"

#include <string.h>

#include <cblas.h>

#include "ks_vec.h"
#include "ks_winograd.h"

/* Floats of transformed input + GEMM output aimed at per block (4 MB); a block always has
 * WINO_MIN_TILES tiles so the 16 kernel matrices are not repacked too often. */
#define WINO_BUDGET ((int64_t)1 << 20)
#define WINO_MIN_TILES 200
/* Channels per vector step. */
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
			for (int i = 0; i < 4; i++)
				for (int j = 0; j < 4; j++) {
					int64_t r = r0 + i, q = q0 + j;
					d[i * 4 + j] = r >= 0 && r < ih && q >= 0 && q < iw ? x + (r * iw + q) * cin : zeros;
				}
			in_tile(d, v + t * cin, vs, cin);
		}
		for (int e = 0; e < 16; e++)
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nt, (int)cout, (int)cin, 1.0f,
			            v + e * vs, (int)cin, u + (int64_t)e * cin * cout, (int)cout, 0.0f, m + e * ms,
			            (int)cout);
		for (int64_t t = 0; t < nt; t++) {
			const int64_t ty = (t0 + t) / tw, tx = (t0 + t) % tw;
			float *o[4];
			for (int i = 0; i < 2; i++)
				for (int j = 0; j < 2; j++) {
					int64_t r = 2 * ty + i, q = 2 * tx + j;
					o[i * 2 + j] = r < oh && q < ow ? y + (r * ow + q) * cout : sink;
				}
			out_tile(m + t * cout, ms, bias, o, cout);
		}
	}
}
