#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "ks_stats.h"
#include "ks_vec.h"
#include "ks_util.h"

#define KS_WALK_DEFAULT ((size_t)1 << 16)
/* A region up to this size is read once into one buffer for its moments and
 * its histogram (ks_weight_stats). */
#define KS_ONE_PASS_MAX ((size_t)1 << 20)

void ks_stats_init(ks_stats *s)
{
	memset(s, 0, sizeof *s);
	s->min = INFINITY;
	s->max = -INFINITY;
}

/* Values are reduced in chunks small enough to stay in L1, first by a loop
 * with no branches and independent accumulators (vectorised; the AVX2 clone
 * with 8 lanes). A NaN or Inf in the chunk makes its double sum non-finite
 * (finite float32 values cannot overflow a double sum), and then the chunk
 * is reduced again by the careful loop, which counts them apart. */
#define STATS_CHUNK 1024

static void merge_moments(ks_stats *s, const ks_stats *b);

typedef struct chunk_sum {
	int64_t k, zeros;
	double sum;
	float lo, hi;
} chunk_sum;

typedef double ks_v4d __attribute__((vector_size(32)));
typedef float ks_v4f __attribute__((vector_size(16)));

/* The two halves of 8 floats as 4 doubles each. */
#define LOW4(x) __builtin_convertvector(__builtin_shufflevector((x), (x), 0, 1, 2, 3), ks_v4d)
#define HIGH4(x) __builtin_convertvector(__builtin_shufflevector((x), (x), 4, 5, 6, 7), ks_v4d)
#define MIN8(a, b) __extension__({ ks_v8 a_ = (a), b_ = (b); ks_v8i m_ = a_ < b_; \
	(ks_v8)(((ks_v8i)a_ & m_) | ((ks_v8i)b_ & ~m_)); })

/* The end of a chunk's first loop, shared by its generic and AVX2 forms:
 * the 8 lanes' min, max and zero counts folded, the tail of fewer than 8
 * values (from i) added one by one, the chunk's sums recorded. */
static void sum_finish(const float *lo8, const float *hi8, const int *z8, double sum,
                       const float *v, size_t i, size_t n, chunk_sum *c)
{
	float lo = lo8[0], hi = hi8[0];
	int64_t z = 0;
	for (int j = 0; j < 8; j++) {
		lo = lo8[j] < lo ? lo8[j] : lo;
		hi = hi8[j] > hi ? hi8[j] : hi;
		z += z8[j];
	}
	for (; i < n; i++) {
		float x = v[i];
		sum += x;
		lo = x < lo ? x : lo;
		hi = x > hi ? x : hi;
		z += x == 0.0f;
	}
	c->sum += sum;
	c->lo = lo;
	c->hi = hi;
	c->zeros += z;
	c->k += (int64_t)n;
}

static inline __attribute__((always_inline)) void sum_finite(const float *v, size_t n, chunk_sum *c)
{
	ks_v4d s0 = {0, 0, 0, 0}, s1 = {0, 0, 0, 0};
	ks_v8 lo8 = {c->lo, c->lo, c->lo, c->lo, c->lo, c->lo, c->lo, c->lo};
	ks_v8 hi8 = {c->hi, c->hi, c->hi, c->hi, c->hi, c->hi, c->hi, c->hi};
	ks_v8i z8 = {0, 0, 0, 0, 0, 0, 0, 0};
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		ks_v8 x = KS_LD8(v + i);
		s0 += LOW4(x);
		s1 += HIGH4(x);
		lo8 = MIN8(lo8, x);
		hi8 = KS_MAX8(hi8, x);
		z8 -= x == 0.0f;  /* true lanes are -1 */
	}
	ks_v4d s = s0 + s1;
	float l[8], h[8];
	int zl[8];
	memcpy(l, &lo8, sizeof l);
	memcpy(h, &hi8, sizeof h);
	memcpy(zl, &z8, sizeof zl);
	sum_finish(l, h, zl, (s[0] + s[1]) + (s[2] + s[3]), v, i, n, c);
}

static inline __attribute__((always_inline)) void sum_careful(ks_stats *st, const float *v, size_t n, chunk_sum *c)
{
	for (size_t i = 0; i < n; i++) {
		float x = v[i];
		if (isnan(x)) {
			st->nans++;
			continue;
		}
		if (isinf(x)) {
			if (x > 0)
				st->pos_infs++;
			else
				st->neg_infs++;
			continue;
		}
		c->zeros += x == 0.0f;
		c->k++;
		c->sum += x;
		c->lo = x < c->lo ? x : c->lo;
		c->hi = x > c->hi ? x : c->hi;
	}
}

static inline __attribute__((always_inline)) double squares_finite(const float *v, size_t n,
                                                                     double mean)
{
	ks_v4d s0 = {0, 0, 0, 0}, s1 = {0, 0, 0, 0}, m = {mean, mean, mean, mean};
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		ks_v8 x = KS_LD8(v + i);
		ks_v4d d0 = LOW4(x) - m, d1 = HIGH4(x) - m;
		s0 += d0 * d0;
		s1 += d1 * d1;
	}
	ks_v4d s = s0 + s1;
	double r = (s[0] + s[1]) + (s[2] + s[3]);
	for (; i < n; i++) {
		double d = v[i] - mean;
		r += d * d;
	}
	return r;
}

#if defined(__x86_64__) && defined(__GNUC__)
/* The AVX2 forms of the two loops above, written with intrinsics: GCC builds
 * LOW4/HIGH4 from 128-bit conversions and inserts, and MIN8/KS_MAX8 from
 * blends, which made the chunk loop three times slower than it need be.
 * Same operations in the same order: results are bit-identical to the
 * generic loops. */
#define KS_STATS_AVX2 1
__attribute__((target("avx2"))) static void sum_finite_avx2(const float *v, size_t n,
                                                           chunk_sum *c)
{
	__m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
	__m256 lo8 = _mm256_set1_ps(c->lo), hi8 = _mm256_set1_ps(c->hi), zero = _mm256_setzero_ps();
	__m256i z8 = _mm256_setzero_si256();
	float l[8], h[8];
	int zl[8];
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		__m256 x = _mm256_loadu_ps(v + i);
		s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(x)));
		s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1)));
		lo8 = _mm256_min_ps(lo8, x);
		hi8 = _mm256_max_ps(hi8, x);
		z8 = _mm256_sub_epi32(z8, _mm256_castps_si256(_mm256_cmp_ps(x, zero, _CMP_EQ_OQ)));
	}
	double s[4];
	_mm256_storeu_pd(s, _mm256_add_pd(s0, s1));
	_mm256_storeu_ps(l, lo8);
	_mm256_storeu_ps(h, hi8);
	_mm256_storeu_si256((__m256i *)zl, z8);
	sum_finish(l, h, zl, (s[0] + s[1]) + (s[2] + s[3]), v, i, n, c);
}

__attribute__((target("avx2"))) static double squares_finite_avx2(const float *v, size_t n,
                                                                double mean)
{
	__m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd(), m = _mm256_set1_pd(mean);
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		__m256 x = _mm256_loadu_ps(v + i);
		__m256d d0 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(x)), m);
		__m256d d1 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(x, 1)), m);
		s0 = _mm256_add_pd(s0, _mm256_mul_pd(d0, d0));
		s1 = _mm256_add_pd(s1, _mm256_mul_pd(d1, d1));
	}
	double s[4];
	_mm256_storeu_pd(s, _mm256_add_pd(s0, s1));
	double r = (s[0] + s[1]) + (s[2] + s[3]);
	for (; i < n; i++) {
		double d = v[i] - mean;
		r += d * d;
	}
	return r;
}
#endif

/* Each chunk is reduced on its own (two passes over it, in L1, for an
 * accurate m2), then merged with Chan et al.'s pairwise formula, so the
 * result does not depend on how a big tensor was cut into blocks beyond
 * rounding. */
static void chunk_sum_generic(const float *v, size_t n, chunk_sum *c)
{
	sum_finite(v, n, c);
}

static double chunk_squares_generic(const float *v, size_t n, double mean)
{
	return squares_finite(v, n, mean);
}

void ks_stats_add(ks_stats *s, const float *v, size_t n)
{
	static void (*sum_fn)(const float *, size_t, chunk_sum *);
	static double (*sq_fn)(const float *, size_t, double);
	if (!sum_fn) {
		sum_fn = chunk_sum_generic;
		sq_fn = chunk_squares_generic;
#ifdef KS_STATS_AVX2
		if (__builtin_cpu_supports("avx2")) {
			sum_fn = sum_finite_avx2;
			sq_fn = squares_finite_avx2;
		}
#endif
	}
	s->count += (int64_t)n;
	for (size_t i = 0; i < n; i += STATS_CHUNK) {
		size_t m = n - i < STATS_CHUNK ? n - i : STATS_CHUNK;
		const float *p = v + i;
		chunk_sum c = {0, 0, 0, INFINITY, -INFINITY};
		double m2 = 0;

		sum_fn(p, m, &c);
		if (isfinite(c.sum)) {
			/* the chunk is still in L1: its squares cost no memory traffic */
			m2 = sq_fn(p, m, c.sum / (double)c.k);
		} else {
			c = (chunk_sum){0, 0, 0, INFINITY, -INFINITY};
			sum_careful(s, p, m, &c);
			for (size_t j = 0; c.k && j < m; j++) {
				if (isfinite(p[j])) {
					double d = p[j] - c.sum / (double)c.k;
					m2 += d * d;
				}
			}
		}
		s->zeros += c.zeros;
		if (c.k == 0)
			continue;
		ks_stats b;
		ks_stats_init(&b);
		b.finite = c.k;
		b.mean = c.sum / (double)c.k;
		b.m2 = m2;
		b.min = c.lo;
		b.max = c.hi;
		merge_moments(s, &b);
	}
}

/* Chan et al.'s pairwise update of the finite values' moments and range. */
static void merge_moments(ks_stats *s, const ks_stats *b)
{
	if (b->finite == 0)
		return;
	double na = (double)s->finite, nb = (double)b->finite, nt = na + nb;
	double delta = b->mean - s->mean;
	s->mean += delta * nb / nt;
	s->m2 += b->m2 + delta * delta * na * nb / nt;
	s->finite += b->finite;
	if (b->min < s->min)
		s->min = b->min;
	if (b->max > s->max)
		s->max = b->max;
}

void ks_stats_merge(ks_stats *s, const ks_stats *b)
{
	s->count += b->count;
	s->zeros += b->zeros;
	s->nans += b->nans;
	s->pos_infs += b->pos_infs;
	s->neg_infs += b->neg_infs;
	merge_moments(s, b);
}

double ks_stats_std(const ks_stats *s)
{
	if (s->finite == 0)
		return 0;
	double var = s->m2 / (double)s->finite;
	return var > 0 ? sqrt(var) : 0;
}

int ks_hist_init(ks_hist *h, int nbins, double lo, double hi, ks_err *err)
{
	memset(h, 0, sizeof *h);
	if (nbins < 1 || nbins > KS_HIST_MAX_BINS)
		return ks_fail(err, "histogram needs 1 to %d bins, not %d", KS_HIST_MAX_BINS, nbins);
	if (!isfinite(lo) || !isfinite(hi) || lo > hi)
		return ks_fail(err, "histogram range [%g, %g] is not a finite interval", lo, hi);
	if (lo == hi) {
		/* numpy's +-0.5 vanishes in rounding beyond 2^53 * 0.5: widen by
		 * a relative step there, or every bin would have width 0. */
		double pad = lo - 0.5 < lo && hi + 0.5 > hi ? 0.5 : fabs(lo) * 0x1p-20;
		lo -= pad;
		hi += pad;
	}
	if (!(hi - lo > 0) || !isfinite(hi - lo))
		return ks_fail(err, "histogram range [%g, %g] is too wide or too narrow", lo, hi);
	h->nbins = nbins;
	h->lo = lo;
	h->hi = hi;
	h->counts = ks_xcalloc((size_t)nbins, sizeof *h->counts);
	h->edges = ks_xmalloc(sizeof *h->edges * ((size_t)nbins + 1));
	for (int i = 0; i <= nbins; i++)
		h->edges[i] = ks_hist_edge(h, i);
	return 0;
}

/* The bin of x (lo <= x <= hi) by arithmetic, then corrected against the
 * float32 edges numpy uses. */
static inline __attribute__((always_inline)) int bin_of(const ks_hist *h, double scale,
                                                        double x)
{
	const double *e = h->edges;
	const int last = h->nbins - 1;
	/* Clamped in double before the conversion: a value far from lo over a
	 * tiny width does not fit an int. */
	double t = (x - h->lo) * scale;
	int b = t < last ? (int)t : last;
	while (b > 0 && x < e[b])
		b--;
	while (b < last && x >= e[b + 1])
		b++;
	return b;
}

/* With few bins and float32-exact ends (the usual case), eight values at a
 * time count, for every threshold t[j], how many values are >= t[j]:
 * t[0] = lo, t[1..nbins-1] the inner edges (exact: the edges are float32
 * too) and t[nbins] the float just above hi. Bin j then holds
 * ge[j] - ge[j+1]: NaN is >= nothing, and +Inf and every value above hi
 * are >= all thresholds, so they cancel. Comparisons and subtractions only,
 * no masks. The values are swept in L1-sized pieces, HIST_GROUP thresholds
 * per sweep, so every counter and threshold stays in a register. */
#define HIST_VEC_BINS 32
#define HIST_GROUP 6 /* as hist_sweep is written */
#define HIST_PIECE 2048  /* int32 lane counters: at most 256 per piece */

/* One sweep: six thresholds (unused ones are NaN, which nothing is >=),
 * written out so that GCC keeps the counters in registers. */
static inline __attribute__((always_inline)) void hist_sweep(const float *v, size_t n,
                                                             const float *t, int64_t *ge)
{
#define T8(j) (ks_v8){t[j], t[j], t[j], t[j], t[j], t[j], t[j], t[j]}
	const ks_v8 t0 = T8(0), t1 = T8(1), t2 = T8(2), t3 = T8(3), t4 = T8(4), t5 = T8(5);
#undef T8
	ks_v8i c0 = {0}, c1 = {0}, c2 = {0}, c3 = {0}, c4 = {0}, c5 = {0};
	for (size_t i = 0; i + 8 <= n; i += 8) {
		ks_v8 x = KS_LD8(v + i);
		c0 -= x >= t0;  /* true lanes are -1 */
		c1 -= x >= t1;
		c2 -= x >= t2;
		c3 -= x >= t3;
		c4 -= x >= t4;
		c5 -= x >= t5;
	}
	for (int k = 0; k < 8; k++) {
		ge[0] += c0[k];
		ge[1] += c1[k];
		ge[2] += c2[k];
		ge[3] += c3[k];
		ge[4] += c4[k];
		ge[5] += c5[k];
	}
}

static inline __attribute__((always_inline)) size_t hist_add_vec(ks_hist *h, const float *v,
                                                                 size_t n)
{
	const int nb = h->nbins;
	float t[HIST_VEC_BINS + HIST_GROUP];
	int64_t ge[HIST_VEC_BINS + HIST_GROUP] = {0};
	size_t done = n & ~(size_t)7;

	t[0] = (float)h->lo;
	for (int j = 1; j < nb; j++)
		t[j] = (float)h->edges[j];
	t[nb] = nextafterf((float)h->hi, INFINITY);
	for (int j = nb + 1; j < HIST_VEC_BINS + HIST_GROUP; j++)
		t[j] = NAN;
	for (size_t i = 0; i < done; i += HIST_PIECE) {
		size_t m = done - i < HIST_PIECE ? done - i : HIST_PIECE;
		for (int j = 0; j <= nb; j += HIST_GROUP)
			hist_sweep(v + i, m, t + j, ge + j);
	}
	for (int j = 0; j < nb; j++)
		h->counts[j] += ge[j] - ge[j + 1];
	return done;
}

KS_CLONES void ks_hist_add(ks_hist *h, const float *v, size_t n)
{
	const double lo = h->lo, hi = h->hi, scale = h->nbins / (h->hi - h->lo);
	size_t i = 0;

	if (h->nbins <= HIST_VEC_BINS && (double)(float)lo == lo && (double)(float)hi == hi)
		i = hist_add_vec(h, v, n);
	for (; i < n; i++) {
		double x = v[i];
		if (x >= lo && x <= hi)  /* also drops NaN */
			h->counts[bin_of(h, scale, x)]++;
	}
}

double ks_hist_edge(const ks_hist *h, int i)
{
	if (i >= h->nbins)
		return h->hi;
	/* Rounded to float32 as numpy's edges are for float32 data, so a value
	 * equal to an edge lands in the bin numpy puts it in. */
	return (float)(h->lo + (h->hi - h->lo) * i / h->nbins);
}

void ks_hist_free(ks_hist *h)
{
	free(h->counts);
	free(h->edges);
	h->counts = NULL;
	h->edges = NULL;
	h->nbins = 0;
}

void ks_hist_print(FILE *out, const ks_hist *h, int width, const char *indent)
{
	int64_t most = 0;
	char a[32], b[32];
	int wa = 0, wb = 0;

	for (int i = 0; i < h->nbins; i++) {
		if (h->counts[i] > most)
			most = h->counts[i];
		int la = snprintf(a, sizeof a, "%.4g", ks_hist_edge(h, i));
		int lb = snprintf(b, sizeof b, "%.4g", ks_hist_edge(h, i + 1));
		if (la > wa)
			wa = la;
		if (lb > wb)
			wb = lb;
	}
	if (width < 1)
		width = 1;
	int wc = snprintf(a, sizeof a, "%lld", (long long)most);
	for (int i = 0; i < h->nbins; i++) {
		int64_t c = h->counts[i];
		/* Any non-empty bin gets at least one mark, so rare values show. */
		int bar = most ? (int)((c * width + most - 1) / most) : 0;
		snprintf(a, sizeof a, "%.4g", ks_hist_edge(h, i));
		snprintf(b, sizeof b, "%.4g", ks_hist_edge(h, i + 1));
		fprintf(out, "%s[%*s, %*s%c  ", indent ? indent : "", wa, a, wb, b,
		        i == h->nbins - 1 ? ']' : ')');
		for (int j = 0; j < width; j++)
			fputc(j < bar ? '#' : ' ', out);
		fprintf(out, "  %*lld\n", wc, (long long)c);
	}
}

int ks_slab_iter_init(ks_slab_iter *it, const ks_weight *w, const int64_t *start,
                      const int64_t *count, size_t max_floats, ks_err *err)
{
	int r = w->rank;
	int64_t total;

	memset(it, 0, sizeof *it);
	if (r < 0 || r > KS_MAX_RANK)
		return ks_fail(err, "weight %s has an unsupported rank %d", w->name, r);
	if (!max_floats)
		max_floats = KS_WALK_DEFAULT;
	it->rank = r;
	for (int i = 0; i < r; i++) {
		it->s0[i] = start ? start[i] : 0;
		it->c0[i] = count ? count[i] : w->shape[i];
		if (it->s0[i] < 0 || it->c0[i] < 0 || it->s0[i] > w->shape[i] ||
		    it->c0[i] > w->shape[i] - it->s0[i])
			return ks_fail(err, "weight %s: region outside its shape on axis %d", w->name, i);
	}
	if (!ks_numel(it->c0, r, &total))
		return ks_fail(err, "weight %s: region size overflows", w->name);
	it->done = total == 0;
	/* Axes k+1.. fit whole in a block; axis k is cut into runs of `run`. */
	it->inner = 1;
	it->k = r - 1;
	while (it->k >= 0 && it->inner * (size_t)it->c0[it->k] <= max_floats) {
		it->inner *= (size_t)it->c0[it->k];
		it->k--;
	}
	it->run = it->k < 0 ? 1 : (int64_t)(max_floats / it->inner);
	return 0;
}

size_t ks_slab_iter_cap(const ks_slab_iter *it)
{
	return it->k < 0 ? (it->inner ? it->inner : 1) : (size_t)it->run * it->inner;
}

bool ks_slab_iter_next(ks_slab_iter *it)
{
	int r = it->rank, k = it->k;

	if (it->done)
		return false;
	if (it->started) {
		/* Odometer over axes 0..k, axis k stepping by run. */
		int i = k;
		if (i < 0) {
			it->done = true;
			return false;
		}
		it->pos[k] += it->count[k];
		while (i >= 0 && it->pos[i] >= it->c0[i]) {
			it->pos[i] = 0;
			if (--i >= 0)
				it->pos[i]++;
		}
		if (i < 0) {
			it->done = true;
			return false;
		}
	}
	it->started = true;
	for (int i = 0; i < r; i++) {
		it->start[i] = it->s0[i] + (i <= k ? it->pos[i] : 0);
		it->count[i] = i < k ? 1
		             : i == k ? (it->c0[k] - it->pos[k] < it->run ? it->c0[k] - it->pos[k] : it->run)
		             : it->c0[i];
	}
	it->n = k < 0 ? it->inner : (size_t)it->count[k] * it->inner;
	return true;
}

int ks_slab_iter_read(const ks_slab_iter *it, const ks_weight_reader *r, float *dst, ks_err *err)
{
	if (it->rank == 0)
		return ks_weight_read(r->m, r->w, dst, err);
	return ks_weight_reader_slab(r, it->start, it->count, dst, err);
}

/* Read-ahead: while fn works on one block, a second thread reads the next
 * into the other buffer, so that copying from the page cache and computing
 * overlap (a pass then costs about the larger of the two, not their sum).
 * Only for plain stored runs: the thread then makes no HDF5 call (the
 * library is not thread-safe), only pread() or memcpy. */
#define READAHEAD_MIN_BLOCKS 4

typedef struct readahead {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	ks_slab_iter it;
	const ks_weight_reader *r;
	float *buf[2];
	size_t n[2];
	int state[2];      /* 0 free, 1 full, 2 end of region, -1 read failed */
	ks_err err[2];
	bool stop;         /* the consumer gave up: the reader exits */
} readahead;

static void *readahead_main(void *arg)
{
	readahead *ra = arg;
	for (int slot = 0;; slot ^= 1) {
		pthread_mutex_lock(&ra->mu);
		while (ra->state[slot] != 0 && !ra->stop)
			pthread_cond_wait(&ra->cv, &ra->mu);
		bool stop = ra->stop;
		pthread_mutex_unlock(&ra->mu);
		if (stop)
			return NULL;
		int st = 2;
		if (ks_slab_iter_next(&ra->it)) {
			st = ks_slab_iter_read(&ra->it, ra->r, ra->buf[slot], &ra->err[slot]) < 0 ? -1 : 1;
			ra->n[slot] = ra->it.n;
		}
		pthread_mutex_lock(&ra->mu);
		ra->state[slot] = st;
		pthread_cond_broadcast(&ra->cv);
		pthread_mutex_unlock(&ra->mu);
		if (st != 1)
			return NULL;
	}
}

static int walk_ahead(readahead *ra, ks_block_fn fn, void *ctx, ks_err *err)
{
	pthread_t th;
	int rc = 0;

	if (pthread_create(&th, NULL, readahead_main, ra) != 0)
		return 1; /* no thread: the caller reads in line */
	for (int slot = 0;; slot ^= 1) {
		pthread_mutex_lock(&ra->mu);
		while (ra->state[slot] == 0)
			pthread_cond_wait(&ra->cv, &ra->mu);
		int st = ra->state[slot];
		pthread_mutex_unlock(&ra->mu);
		if (st == 2)
			break;
		if (st < 0) {
			if (err)
				*err = ra->err[slot];
			rc = -1;
			break;
		}
		rc = fn(ra->buf[slot], ra->n[slot], ctx, err);
		pthread_mutex_lock(&ra->mu);
		ra->state[slot] = 0;
		ra->stop = rc != 0;
		pthread_cond_broadcast(&ra->cv);
		pthread_mutex_unlock(&ra->mu);
		if (rc != 0)
			break;
	}
	pthread_mutex_lock(&ra->mu);
	ra->stop = true;
	pthread_cond_broadcast(&ra->cv);
	pthread_mutex_unlock(&ra->mu);
	pthread_join(th, NULL);
	return rc;
}

int ks_weight_walk(const ks_model *m, const ks_weight *w, const int64_t *start,
                   const int64_t *count, size_t max_floats, ks_block_fn fn, void *ctx,
                   ks_err *err)
{
	ks_slab_iter it;
	ks_weight_reader r;
	int64_t total;
	int rc = 0;

	if (ks_slab_iter_init(&it, w, start, count, max_floats, err) < 0)
		return -1;
	ks_weight_reader_init(&r, m, w);
	size_t cap = ks_slab_iter_cap(&it);
	/* every block contiguous in the file: whole inner axes (else some
	 * blocks would go through HDF5, which must stay on this thread) */
	bool contiguous = it.rank > 0;
	for (int i = it.k + 1; i < it.rank; i++)
		contiguous &= it.s0[i] == 0 && it.c0[i] == w->shape[i];
	if ((r.fd >= 0 || r.image) && contiguous && ks_numel(it.c0, it.rank, &total) &&
	    (uint64_t)total >= (uint64_t)cap * READAHEAD_MIN_BLOCKS) {
		readahead ra = {.it = it, .r = &r};
		ra.buf[0] = ks_xmalloc(cap * sizeof(float));
		ra.buf[1] = ks_xmalloc(cap * sizeof(float));
		pthread_mutex_init(&ra.mu, NULL);
		pthread_cond_init(&ra.cv, NULL);
		rc = walk_ahead(&ra, fn, ctx, err);
		pthread_cond_destroy(&ra.cv);
		pthread_mutex_destroy(&ra.mu);
		free(ra.buf[0]);
		free(ra.buf[1]);
		if (rc <= 0)
			return rc;
		rc = 0; /* no thread could be started: read in line */
	}
	float *buf = ks_xmalloc(cap * sizeof *buf);
	while (rc == 0 && ks_slab_iter_next(&it)) {
		if ((rc = ks_slab_iter_read(&it, &r, buf, err)) == 0)
			rc = fn(buf, it.n, ctx, err);
	}
	free(buf);
	return rc;
}

static int stats_block(const float *v, size_t n, void *ctx, ks_err *err)
{
	ks_stats_add(ctx, v, n);
	return 0;
}

static int hist_block(const float *v, size_t n, void *ctx, ks_err *err)
{
	ks_hist_add(ctx, v, n);
	return 0;
}

typedef struct one_pass {
	ks_stats *st;
	ks_hist *h;
	int nbins;
	bool ready;
} one_pass;

/* A region that fits in one block is read once: moments, then the histogram
 * over the range just found, from the same buffer. */
static int one_block(const float *v, size_t n, void *ctx, ks_err *err)
{
	one_pass *p = ctx;
	ks_stats_add(p->st, v, n);
	if (!p->h)
		return 0;
	double lo = p->st->finite ? p->st->min : 0, hi = p->st->finite ? p->st->max : 0;
	if (ks_hist_init(p->h, p->nbins, lo, hi, err) < 0)
		return -1;
	p->ready = true;
	ks_hist_add(p->h, v, n);
	return 0;
}

int ks_weight_stats(const ks_model *m, const ks_weight *w, const int64_t *start,
                    const int64_t *count, ks_stats *st, ks_hist *h, int nbins, ks_err *err)
{
	int64_t total;

	ks_stats_init(st);
	if (h)
		memset(h, 0, sizeof *h);
	if (w->rank >= 0 && w->rank <= KS_MAX_RANK &&
	    ks_numel(count ? count : w->shape, w->rank, &total) && total > 0 &&
	    (uint64_t)total <= KS_ONE_PASS_MAX) {
		one_pass p = {st, h, nbins, false};
		if (ks_weight_walk(m, w, start, count, KS_ONE_PASS_MAX, one_block, &p, err) < 0) {
			if (p.ready)
				ks_hist_free(h);
			return -1;
		}
		return 0;
	}
	if (ks_weight_walk(m, w, start, count, 0, stats_block, st, err) < 0)
		return -1;
	if (!h)
		return 0;
	double lo = st->finite ? st->min : 0, hi = st->finite ? st->max : 0;
	if (ks_hist_init(h, nbins, lo, hi, err) < 0)
		return -1;
	if (st->finite && ks_weight_walk(m, w, start, count, 0, hist_block, h, err) < 0) {
		ks_hist_free(h);
		return -1;
	}
	return 0;
}
