/* ks_stats: moments, special-value counts and histograms. Expected numbers
 * are hand-computed (stated in comments) or numpy 1.24 results for the same
 * float32 arrays (np.std with ddof=0, np.histogram). */
#include "config.h"

#include <math.h>

#include <fcntl.h>
#include <unistd.h>

#include "h5_build.h"
#include "ks_h5.h"
#include "ks_test.h"
#include "ks_stats.h"

static void test_moments(void **state)
{
	(void)state;
	ks_stats s;
	/* 1,2,3,4: mean 2.5, squared deviations 2.25+0.25+0.25+2.25 = 5, var 1.25 */
	const float v[] = {1, 2, 3, 4};
	ks_stats_init(&s);
	ks_stats_add(&s, v, 4);
	assert_int_equal(s.count, 4);
	assert_int_equal(s.finite, 4);
	assert_int_equal(s.zeros, 0);
	assert_float_equal(s.min, 1, 0);
	assert_float_equal(s.max, 4, 0);
	assert_float_equal(s.mean, 2.5, 1e-12);
	assert_float_equal(ks_stats_std(&s), sqrt(1.25), 1e-12);
}

static void test_specials(void **state)
{
	(void)state;
	ks_stats s;
	/* finite: -3.5, 0, 0, 2, 7.25, -0.0 -> sum 5.75 over 6 = 0.958333...;
	 * numpy: std 3.2481298 */
	const float v[] = {-3.5f, 0, 0, 2, NAN, INFINITY, -INFINITY, 7.25f, -0.0f};
	ks_stats_init(&s);
	ks_stats_add(&s, v, 9);
	assert_int_equal(s.count, 9);
	assert_int_equal(s.finite, 6);
	assert_int_equal(s.zeros, 3);
	assert_int_equal(s.nans, 1);
	assert_int_equal(s.pos_infs, 1);
	assert_int_equal(s.neg_infs, 1);
	assert_float_equal(s.min, -3.5, 0);
	assert_float_equal(s.max, 7.25, 0);
	assert_float_equal(s.mean, 5.75 / 6, 1e-12);
	assert_float_equal(ks_stats_std(&s), 3.2481298, 1e-6);
}

static void test_empty_and_all_nan(void **state)
{
	(void)state;
	ks_stats s;
	const float v[] = {NAN, NAN};
	ks_stats_init(&s);
	assert_float_equal(ks_stats_std(&s), 0, 0);
	ks_stats_add(&s, v, 0);
	ks_stats_add(&s, v, 2);
	assert_int_equal(s.count, 2);
	assert_int_equal(s.finite, 0);
	assert_int_equal(s.nans, 2);
	assert_true(isinf(s.min) && s.min > 0);
	assert_float_equal(s.mean, 0, 0);
	assert_float_equal(ks_stats_std(&s), 0, 0);
}

/* Feeding a buffer in uneven pieces gives the moments of the whole. Values
 * around 1e4 with a small spread catch the naive sum-of-squares formula
 * (catastrophic cancellation), which Welford/Chan merging avoids. */
static void test_chunk_merge(void **state)
{
	(void)state;
	enum { N = 1000 };
	static float v[N];
	double sum = 0, m2 = 0;
	for (int i = 0; i < N; i++) {
		v[i] = 10000.0f + (float)((i * 37) % 101) * 0.01f;
		sum += v[i];
	}
	double mean = sum / N;
	for (int i = 0; i < N; i++)
		m2 += (v[i] - mean) * (v[i] - mean);
	ks_stats a, b;
	ks_stats_init(&a);
	ks_stats_add(&a, v, N);
	ks_stats_init(&b);
	for (size_t off = 0, step = 1; off < N; off += step, step = step * 3 % 97 + 1)
		ks_stats_add(&b, v + off, off + step > N ? N - off : step);
	assert_int_equal(b.count, N);
	assert_float_equal(a.mean, mean, 1e-9);
	assert_float_equal(b.mean, mean, 1e-9);
	assert_float_equal(ks_stats_std(&a), sqrt(m2 / N), 1e-9);
	assert_float_equal(ks_stats_std(&b), sqrt(m2 / N), 1e-9);
	assert_float_equal(a.min, b.min, 0);
	assert_float_equal(a.max, b.max, 0);
}

static void check_hist(const float *v, size_t n, int bins, double lo, double hi, const int64_t *want)
{
	ks_hist h;
	ks_err err;
	assert_int_equal(ks_hist_init(&h, bins, lo, hi, &err), 0);
	ks_hist_add(&h, v, n);
	for (int i = 0; i < bins; i++)
		if (h.counts[i] != want[i])
			fail_msg("bins=%d: bin %d has %lld, want %lld", bins, i, (long long)h.counts[i],
			         (long long)want[i]);
	ks_hist_free(&h);
}

static void test_histogram(void **state)
{
	(void)state;
	const float a[] = {1, 2, 3, 4};
	/* numpy: bins=3 -> [1 1 2] (last bin closed); bins=4 -> [1 1 1 1] */
	check_hist(a, 4, 3, 1, 4, (int64_t[]){1, 1, 2});
	check_hist(a, 4, 4, 1, 4, (int64_t[]){1, 1, 1, 1});
	/* constant data: numpy widens to [4.5, 5.5] -> [0 2] */
	check_hist((const float[]){5, 5}, 2, 2, 5, 5, (int64_t[]){0, 2});
	/* numpy on float32 0.0, 0.1, ..., 1.0 with 10 bins: [1 1 1 1 1 1 1 1 1 2]
	 * (0.7f lies below the double 0.7 but equals the float32 edge) */
	float t[11];
	for (int i = 0; i < 11; i++)
		t[i] = (float)i * 0.1f;
	check_hist(t, 11, 10, 0, 1, (int64_t[]){1, 1, 1, 1, 1, 1, 1, 1, 1, 2});
	/* numpy on the finite values of test_specials, 5 bins: [1 3 1 0 1] */
	const float s[] = {-3.5f, 0, 0, 2, NAN, INFINITY, -INFINITY, 7.25f, -0.0f};
	check_hist(s, 9, 5, -3.5, 7.25, (int64_t[]){1, 3, 1, 0, 1});
	/* Equal and huge (issue 13, 02_dump_hist_nan_loop_min): 0.5 is lost in
	 * rounding, so the range widens relatively; the value lands in the
	 * middle bin, as it does for small constants. */
	check_hist((const float[]){1e30f, 1e30f, 1e30f}, 3, 10, 1e30f, 1e30f,
	           (int64_t[]){0, 0, 0, 0, 0, 3, 0, 0, 0, 0});
	check_hist((const float[]){-3e38f, -3e38f}, 2, 4, -3e38f, -3e38f, (int64_t[]){0, 0, 2, 0});
	/* The widest float range: a finite bin width, no int overflow. */
	check_hist((const float[]){-3.4e38f, 0, 3.4e38f}, 3, 4, -3.4e38f, 3.4e38f,
	           (int64_t[]){1, 0, 1, 1});
	/* Values far out of range over a tiny width are dropped, not cast. */
	check_hist((const float[]){0, 1e-30f, 1e30f}, 3, 2, 0, 1e-30f, (int64_t[]){1, 1});
}

static void test_hist_errors_and_print(void **state)
{
	(void)state;
	ks_hist h;
	ks_err err;
	assert_int_equal(ks_hist_init(&h, 0, 0, 1, &err), -1);
	assert_non_null(strstr(err.msg, "bins"));
	assert_int_equal(ks_hist_init(&h, KS_HIST_MAX_BINS + 1, 0, 1, &err), -1);
	assert_int_equal(ks_hist_init(&h, 3, 0, INFINITY, &err), -1);
	assert_int_equal(ks_hist_init(&h, 3, 2, 1, &err), -1);

	/* 1,1,1,2 over [1,2] in 2 bins: 3 and 1; bars 4 and ceil(4/3)=2 */
	assert_int_equal(ks_hist_init(&h, 2, 1, 2, &err), 0);
	ks_hist_add(&h, (const float[]){1, 1, 1, 2}, 4);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ks_hist_print(f, &h, 4, "  ");
	fclose(f);
	assert_string_equal(buf, "  [  1, 1.5)  ####  3\n"
	                         "  [1.5,   2]  ##    1\n");
	free(buf);
	ks_hist_free(&h);
	assert_null(h.counts);
}

/* ---- walking a stored weight in blocks ---------------------------------- */

/* A (3, 4, 5) weight held in memory with value i at flat index i. */
static float wvals[60];
static ks_weight wt = {.name = (char *)"w", .rank = 3, .shape = {3, 4, 5},
                       .dtype = KS_DT_F32, .trainable = true, .mem = wvals};
static ks_model model = {.file = H5I_INVALID_HID};

typedef struct collect {
	float got[60];
	size_t n, max_block, blocks;
} collect;

static int collect_block(const float *v, size_t n, void *ctx, ks_err *err)
{
	collect *c = ctx;
	assert_true(c->n + n <= 60);
	memcpy(c->got + c->n, v, n * sizeof *v);
	c->n += n;
	c->blocks++;
	if (n > c->max_block)
		c->max_block = n;
	return 0;
}

/* The region in C order, by the definition of a hyperslab (naive loops). */
static size_t region(const int64_t *s, const int64_t *c, float *out)
{
	size_t n = 0;
	for (int64_t i = s[0]; i < s[0] + c[0]; i++)
		for (int64_t j = s[1]; j < s[1] + c[1]; j++)
			for (int64_t k = s[2]; k < s[2] + c[2]; k++)
				out[n++] = (float)(i * 20 + j * 5 + k);
	return n;
}

static void test_walk_blocks(void **state)
{
	(void)state;
	ks_err err;
	static const int64_t starts[][3] = {{0, 0, 0}, {1, 1, 2}, {0, 3, 0}, {2, 0, 4}};
	static const int64_t counts[][3] = {{3, 4, 5}, {2, 3, 3}, {3, 1, 5}, {1, 4, 1}};
	static const size_t limits[] = {1, 2, 3, 5, 7, 15, 16, 60, 1000};
	for (int i = 0; i < 60; i++)
		wvals[i] = (float)i;
	for (size_t r = 0; r < sizeof starts / sizeof *starts; r++) {
		float want[60];
		size_t n = region(starts[r], counts[r], want);
		for (size_t l = 0; l < sizeof limits / sizeof *limits; l++) {
			collect c = {{0}, 0, 0, 0};
			assert_int_equal(ks_weight_walk(&model, &wt, starts[r], counts[r], limits[l],
			                                collect_block, &c, &err), 0);
			assert_int_equal(c.n, n);
			assert_true(c.max_block <= limits[l]);
			assert_memory_equal(c.got, want, n * sizeof *want);
		}
	}
	/* whole weight with NULL start/count, in one block */
	collect c = {{0}, 0, 0, 0};
	assert_int_equal(ks_weight_walk(&model, &wt, NULL, NULL, 0, collect_block, &c, &err), 0);
	assert_int_equal(c.n, 60);
	assert_int_equal(c.blocks, 1);
	/* empty region: no call */
	c = (collect){{0}, 0, 0, 0};
	assert_int_equal(ks_weight_walk(&model, &wt, (int64_t[]){0, 0, 0}, (int64_t[]){3, 0, 5}, 4,
	                                collect_block, &c, &err), 0);
	assert_int_equal(c.blocks, 0);
	/* outside the shape */
	assert_int_equal(ks_weight_walk(&model, &wt, (int64_t[]){0, 0, 3}, (int64_t[]){1, 1, 3}, 4,
	                                collect_block, &c, &err), -1);
	assert_non_null(strstr(err.msg, "axis 2"));
}

static void test_weight_stats(void **state)
{
	(void)state;
	ks_err err;
	ks_stats st;
	ks_hist h;
	for (int i = 0; i < 60; i++)
		wvals[i] = (float)i;
	/* [1:3, :, 2:5]: i*20 + j*5 + k for i in 1..2, j in 0..3, k in 2..4 -> 24 values,
	 * min 22, max 59, mean 20*1.5 + 5*1.5 + 3 = 40.5; zero never occurs */
	int64_t s[3] = {1, 0, 2}, c[3] = {2, 4, 3};
	assert_int_equal(ks_weight_stats(&model, &wt, s, c, &st, &h, 4, &err), 0);
	assert_int_equal(st.count, 24);
	assert_int_equal(st.zeros, 0);
	assert_float_equal(st.min, 22, 0);
	assert_float_equal(st.max, 59, 0);
	assert_float_equal(st.mean, 40.5, 1e-12);
	/* variance: independent parts add: 20^2*0.25 + 5^2*1.25 + 2/3 */
	assert_float_equal(ks_stats_std(&st), sqrt(100 + 31.25 + 2.0 / 3), 1e-9);
	/* bins of width 9.25 from 22: [22,31.25) holds 22,23,24,27,28,29 (j=0,1) -> 6 ... */
	int64_t total = 0;
	for (int i = 0; i < 4; i++)
		total += h.counts[i];
	assert_int_equal(total, 24);
	assert_int_equal(h.counts[0], 6);
	ks_hist_free(&h);
}

/* Beyond one block (1 Mi floats) the statistics take two passes; they must
 * agree with a naive loop. 1100 x 1000 values (i % 7) - 3: -3..3, each value
 * 1100000/7 times give or take one. */
static void test_weight_stats_two_pass(void **state)
{
	(void)state;
	enum { R = 1100, C = 1000 };
	float *big = malloc(sizeof(float) * R * C);
	assert_non_null(big);
	int64_t cnt[7] = {0};
	for (int i = 0; i < R * C; i++) {
		big[i] = (float)(i % 7) - 3;
		cnt[i % 7]++;
	}
	ks_weight bw = {.name = (char *)"big", .rank = 2, .shape = {R, C}, .dtype = KS_DT_F32,
	                .trainable = true, .mem = big};
	ks_stats st;
	ks_hist h;
	ks_err err;
	assert_int_equal(ks_weight_stats(&model, &bw, NULL, NULL, &st, &h, 7, &err), 0);
	double mean = 0, m2 = 0;
	for (int k = 0; k < 7; k++)
		mean += (double)cnt[k] * (k - 3);
	mean /= (double)R * C;
	for (int k = 0; k < 7; k++)
		m2 += (double)cnt[k] * (k - 3 - mean) * (k - 3 - mean);
	assert_int_equal(st.count, R * C);
	assert_int_equal(st.zeros, cnt[3]);
	assert_float_equal(st.min, -3, 0);
	assert_float_equal(st.max, 3, 0);
	assert_float_equal(st.mean, mean, 1e-12);
	assert_float_equal(ks_stats_std(&st), sqrt(m2 / ((double)R * C)), 1e-9);
	/* 7 bins of width 6/7 over [-3, 3]: one integer value per bin */
	for (int k = 0; k < 7; k++)
		assert_int_equal(h.counts[k], cnt[k]);
	ks_hist_free(&h);
	free(big);
}

/* The fast paths (eight lanes, NaN/Inf found through the sum, the edge
 * counting histogram) against plain loops written the obvious way, on data
 * with edge values, NaN and Inf at every offset within a vector, for every
 * bin count around the vector path's limit. */
static void test_fast_paths_match_naive(void **state)
{
	enum { N = 5003 };
	static float v[N];
	uint64_t r = 12345;
	(void)state;
	for (int i = 0; i < N; i++) {
		r = r * 6364136223846793005ull + 1442695040888963407ull;
		v[i] = (float)((double)(r >> 40) / (double)(1ull << 24) * 8.0 - 3.0);
	}
	for (int round = 0; round < 3; round++) {
		if (round == 1) {
			v[17] = NAN;
			v[2048] = INFINITY;
			v[4001] = -INFINITY;
			v[5002] = 0.0f;
		}
		ks_stats st;
		ks_stats_init(&st);
		ks_stats_add(&st, v, N);
		double sum = 0, lo = INFINITY, hi = -INFINITY;
		int64_t k = 0, zeros = 0, nans = 0, infs = 0;
		for (int i = 0; i < N; i++) {
			if (isnan(v[i])) { nans++; continue; }
			if (isinf(v[i])) { infs++; continue; }
			zeros += v[i] == 0.0f;
			sum += v[i];
			k++;
			lo = v[i] < lo ? v[i] : lo;
			hi = v[i] > hi ? v[i] : hi;
		}
		double mean = sum / (double)k, m2 = 0;
		for (int i = 0; i < N; i++)
			if (isfinite(v[i]))
				m2 += (v[i] - mean) * (v[i] - mean);
		assert_int_equal(st.finite, k);
		assert_int_equal(st.nans, nans);
		assert_int_equal(st.pos_infs + st.neg_infs, infs);
		assert_int_equal(st.zeros, zeros);
		assert_true(st.min == lo && st.max == hi);
		assert_true(fabs(st.mean - mean) <= 1e-12 * fabs(mean) + 1e-15);
		assert_true(fabs(ks_stats_std(&st) - sqrt(m2 / (double)k)) <= 1e-12);
		for (int nb = 1; nb <= 20; nb++) {
			ks_hist h;
			ks_err err;
			assert_int_equal(ks_hist_init(&h, nb, lo, hi, &err), 0);
			/* values exactly on inner edges */
			if (round == 2 && nb > 2)
				for (int j = 1; j < nb; j++)
					v[100 + j] = (float)ks_hist_edge(&h, j);
			ks_hist_add(&h, v, N);
			int64_t want[32] = {0}, total = 0;
			for (int i = 0; i < N; i++) {
				if (!(v[i] >= lo && v[i] <= hi))
					continue;
				int b = nb - 1;
				while (b > 0 && v[i] < ks_hist_edge(&h, b))
					b--;
				want[b]++;
			}
			for (int b = 0; b < nb; b++) {
				assert_int_equal(h.counts[b], want[b]);
				total += h.counts[b];
			}
			assert_int_equal(total, k);
			ks_hist_free(&h);
		}
	}
}


/* ks_weight_reader and the read-ahead walk: a weight stored as plain float32
 * (contiguous) is read with pread()/memcpy, one block ahead on a second
 * thread; the same values stored chunked or as float64 go through HDF5.
 * Every route must give the same values, the same statistics bit for bit,
 * and clean errors. 600 x 512 values: 307,200, more than four 64 Ki blocks. */
enum { PR = 600, PC = 512 };

typedef struct gather {
	float *got;
	size_t n, blocks, stop_after;
} gather;

static int gather_block(const float *v, size_t n, void *ctx, ks_err *err)
{
	gather *g = ctx;
	if (g->stop_after && g->blocks == g->stop_after)
		return ks_fail(err, "stopped by the callback");
	memcpy(g->got + g->n, v, n * sizeof *v);
	g->n += n;
	g->blocks++;
	return 0;
}

static void plain_file(const char *path, const float *v)
{
	hid_t f = hb_create(path);
	hsize_t dims[2] = {PR, PC}, chunk[2] = {64, PC};
	double *d = malloc(sizeof(double) * PR * PC);
	assert_non_null(d);
	for (int i = 0; i < PR * PC; i++)
		d[i] = v[i];
	hid_t sp = H5Screate_simple(2, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE), ds;
	HB_CHECK(H5Pset_chunk(dcpl, 2, chunk));
	ds = H5Dcreate2(f, "plain", H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	HB_CHECK(H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
	H5Dclose(ds);
	ds = H5Dcreate2(f, "chunked", H5T_IEEE_F32LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
	HB_CHECK(H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
	H5Dclose(ds);
	ds = H5Dcreate2(f, "f64", H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	HB_CHECK(H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, d));
	H5Dclose(ds);
	H5Pclose(dcpl);
	H5Sclose(sp);
	H5Fclose(f);
	free(d);
}

static void same_stats(const ks_stats *a, const ks_stats *b)
{
	assert_int_equal(a->count, b->count);
	assert_int_equal(a->finite, b->finite);
	assert_int_equal(a->zeros, b->zeros);
	assert_int_equal(a->nans, b->nans);
	assert_true(a->min == b->min && a->max == b->max);
	assert_true(a->mean == b->mean && a->m2 == b->m2);
}

static void test_plain_reader(void **state)
{
	(void)state;
	char path[512];
	float *v = malloc(sizeof(float) * PR * PC);
	gather g = {malloc(sizeof(float) * PR * PC), 0, 0, 0};
	ks_err err;
	uint64_t r = 99;
	assert_non_null(v);
	assert_non_null(g.got);
	for (int i = 0; i < PR * PC; i++) {
		r = r * 6364136223846793005ull + 1442695040888963407ull;
		v[i] = (float)((double)(r >> 40) / (double)(1ull << 24) - 0.5);
	}
	v[12345] = NAN;
	v[300000] = 0.0f;
	snprintf(path, sizeof path, "%s/plain.h5", ks_test_tmpdir());
	plain_file(path, v);

	hid_t f = ks_h5_open_path(path, &err);
	assert_true(f >= 0);
	int fd = -1;
	const unsigned char *img = NULL;
	int64_t off = -1;
	assert_true(ks_h5_plain_f32(f, "/plain", PR * PC, &fd, &img, &off));
	assert_true(fd >= 0 && !img && off > 0);
	assert_false(ks_h5_plain_f32(f, "/plain", PR * PC - 1, &fd, &img, &off)); /* size lies */
	assert_false(ks_h5_plain_f32(f, "/chunked", PR * PC, &fd, &img, &off));
	assert_false(ks_h5_plain_f32(f, "/f64", PR * PC, &fd, &img, &off));
	assert_false(ks_h5_plain_f32(f, "/none", PR * PC, &fd, &img, &off));

	ks_model m = {.file = f, .path = path};
	ks_weight w[3] = {
		{.name = (char *)"plain", .h5_path = (char *)"/plain", .rank = 2, .shape = {PR, PC}, .dtype = KS_DT_F32},
		{.name = (char *)"chunked", .h5_path = (char *)"/chunked", .rank = 2, .shape = {PR, PC}, .dtype = KS_DT_F32},
		{.name = (char *)"f64", .h5_path = (char *)"/f64", .rank = 2, .shape = {PR, PC}, .dtype = KS_DT_F64},
	};
	ks_stats st[3];
	ks_hist h[3];
	for (int k = 0; k < 3; k++) {
		ks_weight_reader rd;
		ks_weight_reader_init(&rd, &m, &w[k]);
		assert_int_equal(rd.fd >= 0, k == 0);
		/* whole weight, default blocks (read ahead for the plain one) */
		g.n = g.blocks = 0;
		assert_int_equal(ks_weight_walk(&m, &w[k], NULL, NULL, 0, gather_block, &g, &err), 0);
		assert_int_equal(g.n, PR * PC);
		assert_true(g.blocks >= 4);
		assert_memory_equal(g.got, v, sizeof(float) * PR * PC);
		/* a box whose blocks are not contiguous: rows 10..209, columns 7..106 */
		int64_t s0[2] = {10, 7}, c0[2] = {200, 100};
		g.n = g.blocks = 0;
		assert_int_equal(ks_weight_walk(&m, &w[k], s0, c0, 1000, gather_block, &g, &err), 0);
		assert_int_equal(g.n, 200 * 100);
		for (int i = 0; i < 200; i++)
			assert_memory_equal(g.got + i * 100, v + (10 + i) * PC + 7, 100 * sizeof(float));
		/* whole rows 100..499 in small blocks (contiguous, read ahead) */
		int64_t s1[2] = {100, 0}, c1[2] = {400, PC};
		g.n = g.blocks = 0;
		assert_int_equal(ks_weight_walk(&m, &w[k], s1, c1, 3 * PC, gather_block, &g, &err), 0);
		assert_memory_equal(g.got, v + 100 * PC, sizeof(float) * 400 * PC);
		/* the callback stops the walk at its third block: the error comes
		 * back and the reading thread is gone (ASan/LSan see no leak) */
		g.n = g.blocks = 0;
		g.stop_after = 2;
		assert_int_equal(ks_weight_walk(&m, &w[k], NULL, NULL, 0, gather_block, &g, &err), -1);
		assert_non_null(strstr(err.msg, "stopped by the callback"));
		g.stop_after = 0;
		assert_int_equal(ks_weight_stats(&m, &w[k], NULL, NULL, &st[k], &h[k], 10, &err), 0);
	}
	for (int k = 1; k < 3; k++) {
		same_stats(&st[0], &st[k]);
		assert_memory_equal(h[0].counts, h[k].counts, 10 * sizeof *h[0].counts);
	}
	assert_int_equal(st[0].nans, 1);
	assert_int_equal(st[0].zeros, 1);
	for (int k = 0; k < 3; k++)
		ks_hist_free(&h[k]);

	/* the same file as an in-memory image (a .keras archive's weights) */
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	long size = ftell(fp);
	rewind(fp);
	unsigned char *buf = malloc((size_t)size);
	assert_int_equal(fread(buf, 1, (size_t)size, fp), (size_t)size);
	fclose(fp);
	hid_t fi = ks_h5_open_image(buf, (size_t)size, "image", &err);
	assert_true(fi >= 0);
	ks_model mi = {.file = fi, .path = (char *)"image"};
	ks_weight_reader ri;
	ks_weight_reader_init(&ri, &mi, &w[0]);
	assert_true(ri.fd < 0 && ri.image == buf);
	g.n = g.blocks = 0;
	assert_int_equal(ks_weight_walk(&mi, &w[0], NULL, NULL, 0, gather_block, &g, &err), 0);
	assert_memory_equal(g.got, v, sizeof(float) * PR * PC);
	H5Fclose(fi);
	free(buf);

	/* a file cut short after it was opened (a save overwriting it): a read
	 * past the new end is one error naming the file, not garbage */
	ks_weight_reader rt;
	ks_weight_reader_init(&rt, &m, &w[0]);
	assert_true(rt.fd >= 0);
	assert_int_equal(truncate(path, rt.offset + 4096), 0);
	int64_t s2[2] = {PR - 1, 0}, c2[2] = {1, PC};
	assert_int_equal(ks_weight_reader_slab(&rt, s2, c2, g.got, &err), -1);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "shorter"));
	/* opened again, the weight is no longer a plain run inside the file */
	ks_weight_reader_init(&rt, &m, &w[0]);
	assert_true(rt.fd < 0 && !rt.image);
	H5Fclose(f);
	free(v);
	free(g.got);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_moments),
	cmocka_unit_test(test_fast_paths_match_naive),
	cmocka_unit_test(test_specials),
	cmocka_unit_test(test_empty_and_all_nan),
	cmocka_unit_test(test_chunk_merge),
	cmocka_unit_test(test_histogram),
	cmocka_unit_test(test_hist_errors_and_print),
	cmocka_unit_test(test_walk_blocks),
	cmocka_unit_test(test_weight_stats),
	cmocka_unit_test(test_weight_stats_two_pass),
	cmocka_unit_test(test_plain_reader),
};
KS_TEST_MAIN(tests)
