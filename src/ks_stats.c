#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ks_stats.h"
#include "ks_util.h"

#define KS_WALK_DEFAULT ((size_t)1 << 20)

void ks_stats_init(ks_stats *s)
{
	memset(s, 0, sizeof *s);
	s->min = INFINITY;
	s->max = -INFINITY;
}

/* Each buffer is reduced on its own (two passes over memory for an accurate
 * m2), then merged with Chan et al.'s pairwise formula, so the result does
 * not depend on how a big tensor was cut into blocks beyond rounding. */
void ks_stats_add(ks_stats *s, const float *v, size_t n)
{
	int64_t k = 0;
	double sum = 0, lo = INFINITY, hi = -INFINITY;

	s->count += (int64_t)n;
	for (size_t i = 0; i < n; i++) {
		float x = v[i];
		if (isnan(x)) {
			s->nans++;
			continue;
		}
		if (isinf(x)) {
			if (x > 0)
				s->pos_infs++;
			else
				s->neg_infs++;
			continue;
		}
		if (x == 0.0f)
			s->zeros++;
		k++;
		sum += x;
		if (x < lo)
			lo = x;
		if (x > hi)
			hi = x;
	}
	if (k == 0)
		return;
	double mean = sum / (double)k, m2 = 0;
	for (size_t i = 0; i < n; i++) {
		if (isfinite(v[i])) {
			double d = v[i] - mean;
			m2 += d * d;
		}
	}
	double na = (double)s->finite, nb = (double)k, nt = na + nb;
	double delta = mean - s->mean;
	s->mean += delta * nb / nt;
	s->m2 += m2 + delta * delta * na * nb / nt;
	s->finite += k;
	if (lo < s->min)
		s->min = lo;
	if (hi > s->max)
		s->max = hi;
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
	return 0;
}

void ks_hist_add(ks_hist *h, const float *v, size_t n)
{
	double w = (h->hi - h->lo) / h->nbins;
	for (size_t i = 0; i < n; i++) {
		double x = v[i];
		if (!(x >= h->lo && x <= h->hi))  /* also drops NaN */
			continue;
		/* Clamped in double before the conversion: a value far from lo
		 * over a tiny width does not fit an int. */
		double t = (x - h->lo) / w;
		int b = t < h->nbins ? (int)t : h->nbins - 1;
		/* Division rounding can put x one bin off its edges: fix by edge. */
		while (b > 0 && x < ks_hist_edge(h, b))
			b--;
		while (b < h->nbins - 1 && x >= ks_hist_edge(h, b + 1))
			b++;
		h->counts[b]++;
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
	h->counts = NULL;
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
