#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ks_stats.h"
#include "ks_vec.h"
#include "ks_util.h"

#define KS_WALK_DEFAULT ((size_t)1 << 20)

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

static inline __attribute__((always_inline)) void sum_finite(const float *v, size_t n, chunk_sum *c)
{
	ks_v4d s0 = {0, 0, 0, 0}, s1 = {0, 0, 0, 0};
	ks_v8 lo8 = {c->lo, c->lo, c->lo, c->lo, c->lo, c->lo, c->lo, c->lo};
	ks_v8 hi8 = {c->hi, c->hi, c->hi, c->hi, c->hi, c->hi, c->hi, c->hi};
	ks_v8i z8 = {0, 0, 0, 0, 0, 0, 0, 0};
	float lo, hi;
	int64_t z = 0;
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
	double sum = (s[0] + s[1]) + (s[2] + s[3]);
	lo = lo8[0];
	hi = hi8[0];
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

/* Each chunk is reduced on its own (two passes over it, in L1, for an
 * accurate m2), then merged with Chan et al.'s pairwise formula, so the
 * result does not depend on how a big tensor was cut into blocks beyond
 * rounding. */
KS_CLONES void ks_stats_add(ks_stats *s, const float *v, size_t n)
{
	s->count += (int64_t)n;
	for (size_t i = 0; i < n; i += STATS_CHUNK) {
		size_t m = n - i < STATS_CHUNK ? n - i : STATS_CHUNK;
		const float *p = v + i;
		chunk_sum c = {0, 0, 0, INFINITY, -INFINITY};
		double m2 = 0;

		sum_finite(p, m, &c);
		if (isfinite(c.sum)) {
			/* the chunk is still in L1: its squares cost no memory traffic */
			m2 = squares_finite(p, m, c.sum / (double)c.k);
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
 * time count, for every inner edge, how many in-range values lie at or
 * above it (exact: the edges are float32 too); bin j then holds the values
 * at or above edge j and not at or above edge j + 1. */
#define HIST_VEC_BINS 16

static inline __attribute__((always_inline)) size_t hist_add_vec(ks_hist *h, const float *v,
                                                                 size_t n)
{
	const int nb = h->nbins;
	const float flo = (float)h->lo, fhi = (float)h->hi;
	ks_v8 e8[HIST_VEC_BINS];
	ks_v8i ge8[HIST_VEC_BINS]; /* [0]: in range; [j]: in range and >= edge j */
	size_t i = 0;

	for (int j = 1; j < nb; j++) {
		float e = (float)h->edges[j];
		e8[j] = (ks_v8){e, e, e, e, e, e, e, e};
	}
	const ks_v8 lo8 = {flo, flo, flo, flo, flo, flo, flo, flo};
	const ks_v8 hi8 = {fhi, fhi, fhi, fhi, fhi, fhi, fhi, fhi};
	while (i + 8 <= n) {
		/* int32 lane counters: flushed well before they could overflow */
		size_t stop = n - i > ((size_t)1 << 24) ? i + ((size_t)1 << 24) : n;
		memset(ge8, 0, sizeof ge8);
		for (; i + 8 <= stop; i += 8) {
			ks_v8 x = KS_LD8(v + i);
			ks_v8i in = (x >= lo8) & (x <= hi8);  /* NaN: false */
			ge8[0] -= in;
			for (int j = 1; j < nb; j++)
				ge8[j] -= (x >= e8[j]) & in;
		}
		int64_t ge[HIST_VEC_BINS + 1] = {0};
		for (int j = 0; j < nb; j++)
			for (int k = 0; k < 8; k++)
				ge[j] += ge8[j][k];
		for (int j = 0; j < nb; j++)
			h->counts[j] += ge[j] - ge[j + 1];
	}
	return i;
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

int ks_slab_iter_read(const ks_slab_iter *it, const ks_model *m, const ks_weight *w, float *dst,
                      ks_err *err)
{
	if (it->rank == 0)
		return ks_weight_read(m, w, dst, err);
	return ks_weight_read_slab(m, w, it->start, it->count, dst, err);
}

int ks_weight_walk(const ks_model *m, const ks_weight *w, const int64_t *start,
                   const int64_t *count, size_t max_floats, ks_block_fn fn, void *ctx,
                   ks_err *err)
{
	ks_slab_iter it;
	int rc = 0;

	if (ks_slab_iter_init(&it, w, start, count, max_floats, err) < 0)
		return -1;
	float *buf = ks_xmalloc(ks_slab_iter_cap(&it) * sizeof *buf);
	while (rc == 0 && ks_slab_iter_next(&it)) {
		if ((rc = ks_slab_iter_read(&it, m, w, buf, err)) == 0)
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
	    (uint64_t)total <= KS_WALK_DEFAULT) {
		one_pass p = {st, h, nbins, false};
		if (ks_weight_walk(m, w, start, count, KS_WALK_DEFAULT, one_block, &p, err) < 0) {
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
