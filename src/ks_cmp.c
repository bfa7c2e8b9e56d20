#include "config.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks_cmp.h"
#include "ks_util.h"

/* The rule for two finite values whose difference is ad = |a-b| (in double). */
static inline bool finite_differs(const ks_tol *t, float a, float b, double ad)
{
	switch (t->kind) {
	case KS_TOL_ABS:
		return ad > t->value;
	case KS_TOL_REL:
		return a == 0.0f ? b != 0.0f : ad > t->value * fabs((double)a);
	case KS_TOL_EPSILON:
		return ad > FLT_EPSILON;
	case KS_TOL_EXACT:
	default:
		return a != b;
	}
}

/* At least one of a, b is NaN or infinite. */
static inline bool nonfinite_differs(float a, float b)
{
	if (isnan(a) || isnan(b))
		return !(isnan(a) && isnan(b));
	return a != b;
}

bool ks_tol_differs(const ks_tol *t, float a, float b)
{
	if (!isfinite(a) || !isfinite(b))
		return nonfinite_differs(a, b);
	return finite_differs(t, a, b, fabs((double)a - (double)b));
}

const char *ks_tol_str(const ks_tol *t, char *buf, size_t size)
{
	switch (t->kind) {
	case KS_TOL_ABS:
		snprintf(buf, size, "|a-b| > %.17g", t->value);
		break;
	case KS_TOL_REL:
		snprintf(buf, size, "|a-b| > %.17g*|a|", t->value);
		break;
	case KS_TOL_EPSILON:
		snprintf(buf, size, "|a-b| > FLT_EPSILON");
		break;
	case KS_TOL_EXACT:
	default:
		snprintf(buf, size, "exact");
		break;
	}
	/* %.17g spells 0.001 as 0.0010000000000000000208; take the shortest form
	 * that reads back the same. */
	if (t->kind == KS_TOL_ABS || t->kind == KS_TOL_REL) {
		for (int p = 1; p <= 17; p++) {
			char num[40];
			snprintf(num, sizeof num, "%.*g", p, t->value);
			if (strtod(num, NULL) == t->value) {
				snprintf(buf, size, t->kind == KS_TOL_ABS ? "|a-b| > %s" : "|a-b| > %s*|a|",
				         num);
				break;
			}
		}
	}
	return buf;
}

void ks_cmp_init(ks_cmp *c, const ks_tol *t)
{
	memset(c, 0, sizeof *c);
	if (t)
		c->tol = *t;
	c->max_abs_at = -1;
}

static void count_nonfinite(ks_cmp *c, float x, float y)
{
	bool fx = isfinite(x), fy = isfinite(y);
	if (isnan(x))
		c->nan_a++;
	else if (!fx)
		c->inf_a++;
	if (isnan(y))
		c->nan_b++;
	else if (!fy)
		c->inf_b++;
	if (fx && !fy)
		c->nonfinite_new++;
	if (!fx && fy)
		c->nonfinite_gone++;
	if (nonfinite_differs(x, y))
		c->n_changed++;
}

/* The careful loop: any values, NaN and infinities included. Positions are
 * base + i. */
static void add_careful(ks_cmp *c, const float *a, const float *b, size_t n, int64_t base)
{
	const ks_tol *t = &c->tol;
	for (size_t i = 0; i < n; i++) {
		float x = a[i], y = b[i];
		if (!isfinite(x) || !isfinite(y)) {
			count_nonfinite(c, x, y);
			continue;
		}
		double dx = x, dy = y, d = dy - dx, ad = fabs(d);
		c->n_finite++;
		c->sum_abs += ad;
		c->sum_sq += d * d;
		c->dot += dx * dy;
		c->norm_a2 += dx * dx;
		c->norm_b2 += dy * dy;
		if (ad == 0)
			continue;
		if (finite_differs(t, x, y, ad))
			c->n_changed++;
		if (ad > c->max_abs) {
			c->max_abs = ad;
			c->max_abs_at = base + (int64_t)i;
			c->max_a = x;
			c->max_b = y;
		}
		if (x != 0.0f && ad > c->max_rel * fabs(dx))
			c->max_rel = ad / fabs(dx);
	}
}

/* Equal chunks (the common case between two saves of a mostly unchanged
 * model): only the norms move. False when a value is not finite. */
static bool add_equal(ks_cmp *c, const float *a, size_t n)
{
	double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
	size_t i = 0;
	for (; i + 4 <= n; i += 4) {
		double x0 = a[i], x1 = a[i + 1], x2 = a[i + 2], x3 = a[i + 3];
		s0 += x0 * x0;
		s1 += x1 * x1;
		s2 += x2 * x2;
		s3 += x3 * x3;
	}
	for (; i < n; i++)
		s0 += (double)a[i] * a[i];
	double s = (s0 + s1) + (s2 + s3);
	/* squares of float32 values cannot overflow a double: only NaN or
	 * infinity makes the sum non-finite */
	if (!isfinite(s))
		return false;
	c->n_finite += (int64_t)n;
	c->dot += s;
	c->norm_a2 += s;
	c->norm_b2 += s;
	return true;
}

/* A chunk of finite values, with four independent sets of sums so that the
 * additions overlap. The tolerance rules reduce to one comparison for
 * finite values: ad > thr + p*|a| (exact: thr = 0; -d: thr = D; epsilon:
 * thr = FLT_EPSILON; -p: p = P, and a == 0 then means b != 0). False when a
 * value is not finite (nothing is committed). */
static bool add_finite(ks_cmp *c, const float *a, const float *b, size_t n, int64_t base)
{
	double thr = 0, p = 0;
	switch (c->tol.kind) {
	case KS_TOL_ABS: thr = c->tol.value; break;
	case KS_TOL_EPSILON: thr = FLT_EPSILON; break;
	case KS_TOL_REL: p = c->tol.value; break;
	default: break;
	}
	double sa[4] = {0}, sq[4] = {0}, dt[4] = {0}, na[4] = {0}, nb[4] = {0};
	double max_abs = c->max_abs, max_rel = c->max_rel;
	int64_t changed = 0, at = -1;
	bool bad = false;
	size_t i = 0;
#define KS_CMP_STEP(k)                                                            \
	do {                                                                      \
		double dx = a[i + k], dy = b[i + k], d = dy - dx, ad = fabs(d);   \
		bad |= !(ad < INFINITY);                                          \
		sa[k] += ad;                                                      \
		sq[k] += d * d;                                                   \
		dt[k] += dx * dy;                                                 \
		na[k] += dx * dx;                                                 \
		nb[k] += dy * dy;                                                 \
		changed += ad > thr + p * fabs(dx);                               \
		if (ad > max_abs) {                                               \
			max_abs = ad;                                             \
			at = (int64_t)(i + k);                                    \
		}                                                                 \
		if (ad > max_rel * fabs(dx) && dx != 0)                           \
			max_rel = ad / fabs(dx);                                  \
	} while (0)
	for (; i + 4 <= n; i += 4) {
		KS_CMP_STEP(0);
		KS_CMP_STEP(1);
		KS_CMP_STEP(2);
		KS_CMP_STEP(3);
	}
	for (; i < n; i++)
		KS_CMP_STEP(0);
#undef KS_CMP_STEP
	if (bad)
		return false;
	c->n_finite += (int64_t)n;
	c->n_changed += changed;
	c->sum_abs += (sa[0] + sa[1]) + (sa[2] + sa[3]);
	c->sum_sq += (sq[0] + sq[1]) + (sq[2] + sq[3]);
	c->dot += (dt[0] + dt[1]) + (dt[2] + dt[3]);
	c->norm_a2 += (na[0] + na[1]) + (na[2] + na[3]);
	c->norm_b2 += (nb[0] + nb[1]) + (nb[2] + nb[3]);
	c->max_rel = max_rel;
	if (at >= 0) {
		c->max_abs = max_abs;
		c->max_abs_at = base + at;
		c->max_a = a[at];
		c->max_b = b[at];
	}
	return true;
}

/* The hot loop of a diff: chunks that are bit-identical cost one memcmp and
 * a sum of squares; chunks of finite values one pass of multiply-adds;
 * only chunks holding NaN or infinities take the careful path. */
#define KS_CMP_CHUNK 1024
void ks_cmp_add(ks_cmp *c, const float *a, const float *b, size_t n)
{
	for (size_t off = 0; off < n; off += KS_CMP_CHUNK) {
		size_t m = n - off < KS_CMP_CHUNK ? n - off : KS_CMP_CHUNK;
		int64_t base = c->count + (int64_t)off;
		const float *x = a + off, *y = b + off;
		if (memcmp(x, y, m * sizeof *x) == 0 ? !add_equal(c, x, m) : !add_finite(c, x, y, m, base))
			add_careful(c, x, y, m, base);
	}
	c->count += (int64_t)n;
}

void ks_cmp_merge(ks_cmp *c, const ks_cmp *o)
{
	if (o->max_abs_at >= 0 && o->max_abs > c->max_abs) {
		c->max_abs = o->max_abs;
		c->max_abs_at = c->count + o->max_abs_at;
		c->max_a = o->max_a;
		c->max_b = o->max_b;
	}
	if (o->max_rel > c->max_rel)
		c->max_rel = o->max_rel;
	c->n_changed += o->n_changed;
	c->n_finite += o->n_finite;
	c->sum_abs += o->sum_abs;
	c->sum_sq += o->sum_sq;
	c->dot += o->dot;
	c->norm_a2 += o->norm_a2;
	c->norm_b2 += o->norm_b2;
	c->nan_a += o->nan_a;
	c->nan_b += o->nan_b;
	c->inf_a += o->inf_a;
	c->inf_b += o->inf_b;
	c->nonfinite_new += o->nonfinite_new;
	c->nonfinite_gone += o->nonfinite_gone;
	c->count += o->count;
}

double ks_cmp_mean_abs(const ks_cmp *c)
{
	return c->n_finite ? c->sum_abs / (double)c->n_finite : 0;
}

double ks_cmp_rms(const ks_cmp *c)
{
	return c->n_finite ? sqrt(c->sum_sq / (double)c->n_finite) : 0;
}

double ks_cmp_cosine(const ks_cmp *c)
{
	if (c->norm_a2 == 0 && c->norm_b2 == 0)
		return 1;
	if (c->norm_a2 == 0 || c->norm_b2 == 0)
		return 0;
	if (c->sum_sq == 0)
		return 1;   /* equal vectors: exactly, whatever sqrt rounds to */
	double r = c->dot / (sqrt(c->norm_a2) * sqrt(c->norm_b2));
	/* Rounding can step just outside [-1, 1]. */
	return r > 1 ? 1 : r < -1 ? -1 : r;
}

double ks_cmp_rel_norm(const ks_cmp *c)
{
	if (c->norm_a2 == 0)
		return c->sum_sq == 0 ? 0 : INFINITY;
	return sqrt(c->sum_sq) / sqrt(c->norm_a2);
}

/* --- class permutation ------------------------------------------------- */

typedef struct perm_ctx {
	int64_t cols;
	int **adj;       /* adj[j]: columns of b compatible with column j of a */
	int *n_adj;
	int *owner;      /* owner[k]: the column of a matched to column k of b, or -1 */
	char *seen;
} perm_ctx;

static bool columns_match(const float *a, const float *b, int64_t rows, int64_t cols,
                          int64_t j, int64_t k, const ks_tol *t)
{
	for (int64_t r = 0; r < rows; r++)
		if (ks_tol_differs(t, a[r * cols + j], b[r * cols + k]))
			return false;
	return true;
}

/* Kuhn's augmenting path from column j of a. Recursion depth is at most
 * cols; callers keep cols bounded (class counts, units of one layer). */
static bool augment(perm_ctx *p, int j)
{
	for (int i = 0; i < p->n_adj[j]; i++) {
		int k = p->adj[j][i];
		if (p->seen[k])
			continue;
		p->seen[k] = 1;
		if (p->owner[k] < 0 || augment(p, p->owner[k])) {
			p->owner[k] = j;
			return true;
		}
	}
	return false;
}

typedef struct colkey {
	float key;       /* the column's value in row 0 */
	int col;
} colkey;

static int cmp_colkey(const void *x, const void *y)
{
	const colkey *p = x, *q = y;
	bool np = isnan(p->key), nq = isnan(q->key);
	if (np || nq)
		return np - nq;   /* NaN last */
	return p->key < q->key ? -1 : p->key > q->key;
}

/* The interval of row-0 values of b that can match a's value v. */
static void key_range(const ks_tol *t, float v, double *lo, double *hi)
{
	double w = 0;
	if (isfinite(v)) {
		switch (t->kind) {
		case KS_TOL_ABS: w = t->value; break;
		case KS_TOL_REL: w = t->value * fabs((double)v); break;
		case KS_TOL_EPSILON: w = FLT_EPSILON; break;
		default: break;
		}
	}
	*lo = (double)v - w;
	*hi = (double)v + w;
}

static void add_candidate(perm_ctx *p, int j, int k, int *cap)
{
	if (p->n_adj[j] == *cap) {
		*cap = *cap ? 2 * *cap : 4;
		p->adj[j] = ks_xrealloc(p->adj[j], (size_t)*cap * sizeof **p->adj);
	}
	p->adj[j][p->n_adj[j]++] = k;
}

bool ks_cmp_column_permutation(const float *a, const float *b, int64_t rows, int64_t cols,
                               const ks_tol *t, int *mapping)
{
	if (rows < 1 || cols < 2 || cols > KS_CMP_PERM_MAX_COLS)
		return false;
	perm_ctx p = {.cols = cols};
	bool ok = true;
	int64_t edges = 0;
	p.adj = ks_xcalloc((size_t)cols, sizeof *p.adj);
	p.n_adj = ks_xcalloc((size_t)cols, sizeof *p.n_adj);
	p.owner = ks_xmalloc((size_t)cols * sizeof *p.owner);
	p.seen = ks_xmalloc((size_t)cols);
	colkey *keys = ks_xmalloc((size_t)cols * sizeof *keys);
	int64_t n_num = 0;
	for (int64_t k = 0; k < cols; k++) {
		p.owner[k] = -1;
		keys[k] = (colkey){b[k], (int)k};
		n_num += !isnan(b[k]);
	}
	/* Candidates come from b's columns sorted by their first value, so
	 * each column of a looks only at those within tolerance of its own. */
	qsort(keys, (size_t)cols, sizeof *keys, cmp_colkey);
	for (int64_t j = 0; j < cols && ok; j++) {
		int cap = 0;
		/* j itself first, so that an identity matching is found whenever
		 * one exists */
		if (columns_match(a, b, rows, cols, j, j, t))
			add_candidate(&p, (int)j, (int)j, &cap);
		int64_t from, to;
		if (isnan(a[j])) {
			from = n_num;
			to = cols;
		} else {
			double lo, hi;
			key_range(t, a[j], &lo, &hi);
			int64_t l = 0, h = n_num;
			while (l < h) {
				int64_t mid = (l + h) / 2;
				if ((double)keys[mid].key < lo)
					l = mid + 1;
				else
					h = mid;
			}
			from = l;
			for (to = from; to < n_num && (double)keys[to].key <= hi; to++)
				;
		}
		for (int64_t s = from; s < to && ok; s++) {
			int k = keys[s].col;
			if (k != j && columns_match(a, b, rows, cols, j, k, t)) {
				add_candidate(&p, (int)j, k, &cap);
				/* many interchangeable columns: no informative mapping */
				ok = ++edges <= 16 * cols;
			}
		}
		if (!p.n_adj[j])
			ok = false;
	}
	free(keys);
	for (int64_t j = 0; j < cols && ok; j++) {
		memset(p.seen, 0, (size_t)cols);
		ok = augment(&p, (int)j);
	}
	bool identity = true;
	if (ok) {
		for (int64_t k = 0; k < cols; k++) {
			mapping[p.owner[k]] = (int)k;
			if (p.owner[k] != k)
				identity = false;
		}
	}
	for (int64_t j = 0; j < cols; j++)
		free(p.adj[j]);
	free(p.adj);
	free(p.n_adj);
	free(p.owner);
	free(p.seen);
	return ok && !identity;
}

/* --- top-1 agreement --------------------------------------------------- */

static int64_t argmax(const float *v, int64_t n)
{
	int64_t best = 0;
	for (int64_t i = 0; i < n; i++) {
		if (isnan(v[i]))
			return i;
		if (v[i] > v[best])
			best = i;
	}
	return best;
}

double ks_cmp_top1_agreement(const float *a, const float *b, int64_t rows, int64_t cols)
{
	if (rows < 1 || cols < 1)
		return 1;
	int64_t agree = 0;
	for (int64_t r = 0; r < rows; r++) {
		const float *x = a + r * cols, *y = b + r * cols;
		if (cols == 1)
			agree += (x[0] > 0.5f) == (y[0] > 0.5f);
		else
			agree += argmax(x, cols) == argmax(y, cols);
	}
	return (double)agree / (double)rows;
}
