/* ui_view_tensor: one weight or activation, seen through a 2-D slice.
 *
 * The view reads only what it shows: the value grid reads the visible window
 * of the slice through ks_weight_read_slab (cached until the window moves);
 * statistics walk the whole tensor in blocks when the view opens, the
 * histogram (a second pass over the range) when it is first shown, the
 * heatmap the whole 2-D slice, each with progress and Ctrl-C cancellation.
 *
 * Slices use ks_slice's numpy syntax ([0,:,:,3]); the selection must keep at
 * most two axes (rows and columns of the grid). Rank-1 tensors show as one
 * column. Modes: values grid, heatmap (colour, or shaded blocks without
 * colour; each cell the mean, the largest |x| or the std of the values it
 * covers, so a huge tensor's outliers and spread show too), histogram. Search accepts a number (=X or X: equal within 1e-6
 * relative), >X, <X, nan and inf, scanning the slice in row-major order.
 *
 * Diff mode: a weight paired with the other file's (ui_tsrc_pair) shows a,
 * b or a - b (d). a - b is read as both hyperslabs and subtracted; the
 * statistics walk both weights in lockstep, one bounded block at a time
 * (ks_slab_iter), and its heatmap shows each cell's largest |a-b|. n/N
 * then jump to the elements that differ under the diff's tolerance.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks_slice.h"
#include "ks_stats.h"
#include "ks_util.h"
#include "ui.h"
#include "ui_display.h"

enum { MODE_GRID, MODE_HEAT, MODE_HIST, MODE_COUNT };
enum { CELL_MEAN, CELL_MAXABS, CELL_STD, CELL_COUNT };
static const char *const cell_names[] = {"mean", "max |x|", "std"};
static const char *const mode_names[] = {"values", "heatmap", "histogram"};

#define HIST_BINS 16
#define CELL_W 12

typedef struct tstate {
	ui_tsrc src;
	ks_slice sl;
	char spec[160];
	int ax_r, ax_c;          /* kept axes shown as rows / columns (-1: none) */
	int64_t nrows, ncols;
	int64_t cr, cc;          /* cursor */
	int64_t top, left;       /* first visible row / column */
	int vis_r, vis_c;        /* visible rows / columns at the last draw */
	int mode;
	bool have_stats;
	ks_stats st;
	ks_hist hist;
	bool have_hist;
	bool hist_tried;         /* computed once, when first shown */
	bool hl;
	double lo, hi;
	float *win;              /* cached window of the slice */
	int64_t wr0, wc0, wnr, wnc;
	double *heat;            /* heatmap cells, hr x hc: the statistic shown */
	double *hsum, *hsq, *hmaxabs; /* per cell: sum, sum of squares, largest |x| */
	int64_t *hcnt;           /* per cell: finite values */
	int hr, hc;
	int cell;                /* CELL_MEAN, CELL_MAXABS or CELL_STD */
	double hmin, hmax;
	char err[256];
} tstate;

/* ---- sources ----------------------------------------------------------- */

void ui_tsrc_weight(ui_tsrc *s, const ks_model *m, const ks_layer *owner, const ks_weight *w)
{
	memset(s, 0, sizeof *s);
	s->m = m;
	s->w = w;
	s->rank = w->rank;
	memcpy(s->shape, w->shape, sizeof s->shape);
	if (owner)
		snprintf(s->name, sizeof s->name, "%s/%s", owner->name, w->name);
	else
		snprintf(s->name, sizeof s->name, "%s", w->name);
	snprintf(s->where, sizeof s->where, "%s", w->h5_path ? w->h5_path : "(in memory)");
	s->dtype = ks_dtype_name(w->dtype);
}

/* Copies a hyperslab out of a dense row-major array. */
static void copy_slab(const float *src, int rank, const int64_t *shape, const int64_t *start,
                      const int64_t *count, float *dst)
{
	if (rank == 0) {
		dst[0] = src[0];
		return;
	}
	int64_t idx[KS_MAX_RANK] = {0};
	int64_t stride[KS_MAX_RANK];
	stride[rank - 1] = 1;
	for (int i = rank - 2; i >= 0; i--)
		stride[i] = stride[i + 1] * shape[i + 1];
	for (int i = 0; i < rank; i++)
		if (count[i] == 0)
			return;
	int64_t inner = count[rank - 1];
	for (;;) {
		int64_t off = 0;
		for (int i = 0; i < rank - 1; i++)
			off += (start[i] + idx[i]) * stride[i];
		off += start[rank - 1];
		memcpy(dst, src + off, (size_t)inner * sizeof *dst);
		dst += inner;
		int i = rank - 2;
		for (; i >= 0; i--) {
			if (++idx[i] < count[i])
				break;
			idx[i] = 0;
		}
		if (i < 0)
			return;
	}
}

int ui_tsrc_read(const ui_tsrc *s, const int64_t *start, const int64_t *count, float *dst,
                 ks_err *err)
{
	if (s->mem) {
		copy_slab(s->mem, s->rank, s->shape, start, count, dst);
		return 0;
	}
	if (s->side == 1)
		return ks_weight_read_slab(s->m2, s->w2, start, count, dst, err);
	if (ks_weight_read_slab(s->m, s->w, start, count, dst, err) < 0)
		return -1;
	if (s->side != 2)
		return 0;
	int64_t n = 1;
	for (int i = 0; i < s->rank; i++)
		n *= count[i];
	float *b = ks_xmalloc((size_t)(n > 0 ? n : 1) * sizeof *b);
	int rc = ks_weight_read_slab(s->m2, s->w2, start, count, b, err);
	for (int64_t i = 0; rc == 0 && i < n; i++)
		dst[i] -= b[i];
	free(b);
	return rc;
}

void ui_tsrc_pair(ui_tsrc *s, const ks_model *m2, const ks_weight *w2, const ks_tol *tol)
{
	s->m2 = m2;
	s->w2 = w2;
	s->tol = *tol;
	s->side = 0;
}

static const char *side_name(const ui_tsrc *s)
{
	static const char *const names[] = {"a", "b", "a-b"};
	return s->w2 ? names[s->side] : NULL;
}

/* ---- long work --------------------------------------------------------- */

typedef struct walk {
	ui *u;
	ks_stats *st;
	ks_hist *h;
	int64_t done, total;
} walk;

static int walk_block(const float *v, size_t n, void *ctx, ks_err *err)
{
	walk *w = ctx;
	if (w->st)
		ks_stats_add(w->st, v, n);
	if (w->h)
		ks_hist_add(w->h, v, n);
	w->done += (int64_t)n;
	if (ui_progress(w->u, w->total ? (double)w->done / (double)w->total : 1.0))
		return ks_fail(err, "cancelled");
	return 0;
}

static int walk_all(ui *u, const ui_tsrc *s, ks_stats *st, ks_hist *h, ks_err *err)
{
	int64_t n = 1;
	ks_numel(s->shape, s->rank, &n);
	walk w = {u, st, h, 0, n};
	if (s->mem) {
		const size_t block = 1 << 20;
		for (int64_t off = 0; off < n; off += (int64_t)block) {
			size_t k = (size_t)(n - off) < block ? (size_t)(n - off) : block;
			if (walk_block(s->mem + off, k, &w, err) < 0)
				return -1;
		}
		return 0;
	}
	if (s->side == 1)
		return ks_weight_walk(s->m2, s->w2, NULL, NULL, 0, walk_block, &w, err);
	if (s->side != 2)
		return ks_weight_walk(s->m, s->w, NULL, NULL, 0, walk_block, &w, err);
	/* a - b: both read in lockstep, one bounded block at a time */
	ks_slab_iter it;
	if (ks_slab_iter_init(&it, s->w, NULL, NULL, 0, err) < 0)
		return -1;
	size_t cap = ks_slab_iter_cap(&it);
	float *a = ks_xmalloc((cap ? cap : 1) * sizeof *a), *b = ks_xmalloc((cap ? cap : 1) * sizeof *b);
	ks_weight_reader ra, rb;
	int rc = 0;
	ks_weight_reader_init(&ra, s->m, s->w);
	ks_weight_reader_init(&rb, s->m2, s->w2);
	while (rc == 0 && ks_slab_iter_next(&it)) {
		if (ks_slab_iter_read(&it, &ra, a, err) < 0 ||
		    ks_slab_iter_read(&it, &rb, b, err) < 0) {
			rc = -1;
			break;
		}
		for (size_t i = 0; i < it.n; i++)
			a[i] -= b[i];
		rc = walk_block(a, it.n, &w, err);
	}
	free(a);
	free(b);
	return rc;
}

static void compute_stats(ui *u, tstate *t)
{
	ks_err err;
	ui_progress_begin(u, "statistics");
	ks_stats_init(&t->st);
	if (walk_all(u, &t->src, &t->st, NULL, &err) < 0) {
		ui_progress_end(u);
		snprintf(t->err, sizeof t->err, "statistics: %s (Enter retries)", err.msg);
		return;
	}
	t->have_stats = true;
	ui_progress_end(u);
}

/* The histogram needs the range, so a second pass: only when it is shown. */
static void compute_hist(ui *u, tstate *t)
{
	ks_err err;
	t->hist_tried = true;
	if (!t->have_stats || t->st.finite == 0 ||
	    ks_hist_init(&t->hist, HIST_BINS, t->st.min, t->st.max, &err) < 0)
		return;
	ui_progress_begin(u, "histogram");
	if (walk_all(u, &t->src, NULL, &t->hist, &err) == 0) {
		t->have_hist = true;
	} else {
		ks_hist_free(&t->hist);
		snprintf(t->err, sizeof t->err, "histogram: %s", err.msg);
	}
	ui_progress_end(u);
}

/* ---- slicing ----------------------------------------------------------- */

static void free_heat(tstate *t);

static void drop_cache(tstate *t)
{
	free(t->win);
	t->win = NULL;
	t->wnr = t->wnc = 0;
	free_heat(t);
	t->hr = t->hc = 0;
}

static int apply_slice(tstate *t, const char *spec, ks_err *err)
{
	ks_slice sl;
	if (spec) {
		if (ks_slice_parse(spec, t->src.shape, t->src.rank, &sl, err) < 0)
			return -1;
	} else {
		/* Default for weights: the last two axes longer than 1 (then the
		 * last axes), the others at index 0: (3, 3, 16, 32) shows
		 * [0, 0, :, :] and (100, 1, 1) shows [:, 0, :]. */
		bool keep[KS_MAX_RANK] = {false};
		int nk = 0;
		if (t->src.mem && t->src.rank >= 3) {
			/* An activation (batch, ..., channels): one channel of the
			 * first sample, as an image: [0, :, :, 0]. */
			int r = t->src.rank;
			keep[r >= 4 ? r - 3 : 1] = keep[r >= 4 ? r - 2 : 2] = true;
			nk = 2;
		}
		for (int i = t->src.rank - 1; i >= 0 && nk < 2; i--)
			if (t->src.shape[i] > 1) {
				keep[i] = true;
				nk++;
			}
		for (int i = t->src.rank - 1; i >= 0 && nk < 2; i--)
			if (!keep[i]) {
				keep[i] = true;
				nk++;
			}
		char buf[160] = "[";
		for (int i = 0; i < t->src.rank; i++)
			strcat(buf, keep[i] ? ":," : "0,");
		size_t n = strlen(buf);
		if (buf[n - 1] == ',')
			buf[n - 1] = '\0';
		strcat(buf, "]");
		if (t->src.rank == 0)
			ks_slice_all(t->src.shape, 0, &sl);
		else if (ks_slice_parse(buf, t->src.shape, t->src.rank, &sl, err) < 0)
			return -1;
	}
	int kept[KS_MAX_RANK], nk = 0;
	for (int i = 0; i < sl.rank; i++)
		if (sl.keep[i])
			kept[nk++] = i;
	if (nk > 2)
		return ks_fail(err, "slice keeps %d axes; the grid shows 2: give indices for the others "
		                    "(e.g. [0,:,:,3])", nk);
	t->sl = sl;
	t->ax_r = nk >= 1 ? kept[0] : -1;
	t->ax_c = nk >= 2 ? kept[1] : -1;
	t->nrows = t->ax_r >= 0 ? sl.count[t->ax_r] : 1;
	t->ncols = t->ax_c >= 0 ? sl.count[t->ax_c] : 1;
	t->cr = t->cc = t->top = t->left = 0;
	ks_slice_str(&sl, t->src.shape, t->spec, sizeof t->spec);
	drop_cache(t);
	return 0;
}

/* Hyperslab of slice rows r0..r0+nr-1, columns c0..c0+nc-1. */
static void region(const tstate *t, int64_t r0, int64_t nr, int64_t c0, int64_t nc,
                   int64_t *start, int64_t *count)
{
	for (int i = 0; i < t->src.rank; i++) {
		start[i] = t->sl.start[i];
		count[i] = t->sl.keep[i] ? t->sl.count[i] : 1;
	}
	if (t->ax_r >= 0) {
		start[t->ax_r] += r0;
		count[t->ax_r] = nr;
	}
	if (t->ax_c >= 0) {
		start[t->ax_c] += c0;
		count[t->ax_c] = nc;
	}
}

static int read_region(const tstate *t, int64_t r0, int64_t nr, int64_t c0, int64_t nc,
                       float *dst, ks_err *err)
{
	int64_t start[KS_MAX_RANK], count[KS_MAX_RANK];
	region(t, r0, nr, c0, nc, start, count);
	return ui_tsrc_read(&t->src, start, count, dst, err);
}

/* Makes the window cover rows/cols; returns false with t->err on failure. */
static bool ensure_window(tstate *t, int64_t r0, int64_t nr, int64_t c0, int64_t nc)
{
	if (t->win && r0 >= t->wr0 && r0 + nr <= t->wr0 + t->wnr && c0 >= t->wc0 &&
	    c0 + nc <= t->wc0 + t->wnc)
		return true;
	free(t->win);
	t->win = ks_xmalloc((size_t)(nr * nc > 0 ? nr * nc : 1) * sizeof *t->win);
	ks_err err;
	if (read_region(t, r0, nr, c0, nc, t->win, &err) < 0) {
		free(t->win);
		t->win = NULL;
		snprintf(t->err, sizeof t->err, "%s", err.msg);
		return false;
	}
	t->wr0 = r0;
	t->wnr = nr;
	t->wc0 = c0;
	t->wnc = nc;
	return true;
}

static void free_heat(tstate *t)
{
	free(t->heat);
	free(t->hsum);
	free(t->hsq);
	free(t->hmaxabs);
	free(t->hcnt);
	t->heat = t->hsum = t->hsq = t->hmaxabs = NULL;
	t->hcnt = NULL;
}

/* t->heat from the per-cell sums for the chosen statistic, and its range. */
static void heat_select(tstate *t)
{
	t->hmin = INFINITY;
	t->hmax = -INFINITY;
	for (int i = 0; i < t->hr * t->hc; i++) {
		int64_t n = t->hcnt[i];
		double mean = n ? t->hsum[i] / (double)n : NAN, v;
		if (!n)
			v = NAN;
		else if (t->cell == CELL_MAXABS)
			v = t->hmaxabs[i];
		else if (t->cell == CELL_STD)
			v = sqrt(fmax(0.0, t->hsq[i] / (double)n - mean * mean));
		else
			v = mean;
		t->heat[i] = v;
		if (n && v < t->hmin)
			t->hmin = v;
		if (n && v > t->hmax)
			t->hmax = v;
	}
}

static void compute_heat(ui *u, tstate *t, int hr, int hc)
{
	size_t cells = (size_t)hr * (size_t)hc;
	free_heat(t);
	t->heat = ks_xcalloc(cells, sizeof *t->heat);
	t->hsum = ks_xcalloc(cells, sizeof *t->hsum);
	t->hsq = ks_xcalloc(cells, sizeof *t->hsq);
	t->hmaxabs = ks_xcalloc(cells, sizeof *t->hmaxabs);
	t->hcnt = ks_xcalloc(cells, sizeof *t->hcnt);
	/* Blocks of whole rows, about 1 Mi values each. */
	int64_t per = t->ncols > 0 && t->ncols < (1 << 20) ? (1 << 20) / t->ncols : 1;
	float *row = ks_xmalloc((size_t)(per * t->ncols) * sizeof *row);
	ui_progress_begin(u, "heatmap");
	bool ok = true;
	for (int64_t r0 = 0; r0 < t->nrows && ok; r0 += per) {
		int64_t nr = t->nrows - r0 < per ? t->nrows - r0 : per;
		ks_err err;
		if (read_region(t, r0, nr, 0, t->ncols, row, &err) < 0) {
			snprintf(t->err, sizeof t->err, "%s", err.msg);
			ok = false;
			break;
		}
		for (int64_t k = 0; k < nr; k++) {
			int64_t r = r0 + k;
			int br = (int)(r * hr / t->nrows);
			const float *v = row + k * t->ncols;
			for (int64_t c = 0; c < t->ncols; c++) {
				if (!isfinite(v[c]))
					continue;
				int i = br * hc + (int)(c * hc / t->ncols);
				t->hsum[i] += v[c];
				t->hsq[i] += (double)v[c] * v[c];
				t->hmaxabs[i] = fmax(t->hmaxabs[i], fabs(v[c]));
				t->hcnt[i]++;
			}
		}
		if (ui_progress(u, (double)(r0 + nr) / (double)t->nrows)) {
			snprintf(t->err, sizeof t->err, "heatmap cancelled (v shows it again)");
			ok = false;
		}
	}
	ui_progress_end(u);
	free(row);
	if (!ok) {
		free_heat(t);
		t->mode = MODE_GRID;
		return;
	}
	t->hr = hr;
	t->hc = hc;
	heat_select(t);
}

/* ---- drawing ----------------------------------------------------------- */

static void fmt_val(float v, char *buf, size_t n)
{
	if (isnan(v))
		snprintf(buf, n, "nan");
	else if (isinf(v))
		snprintf(buf, n, v > 0 ? "inf" : "-inf");
	else
		snprintf(buf, n, "%.4g", v);
}

static void draw_grid(ui *u, tstate *t, int y, int x, int h, int w)
{
	int lw = snprintf(NULL, 0, "%lld", (long long)(t->nrows - 1)) + 1;
	if (lw < 4)
		lw = 4;
	int vis_c = (w - lw) / CELL_W;
	if (vis_c < 1)
		vis_c = 1;
	int vis_r = h - 1;
	if (vis_r < 1)
		return;
	if (vis_c > t->ncols)
		vis_c = (int)t->ncols;
	if (vis_r > t->nrows)
		vis_r = (int)t->nrows;
	t->vis_r = vis_r;
	t->vis_c = vis_c;
	if (t->cr < t->top)
		t->top = t->cr;
	if (t->cr >= t->top + vis_r)
		t->top = t->cr - vis_r + 1;
	if (t->cc < t->left)
		t->left = t->cc;
	if (t->cc >= t->left + vis_c)
		t->left = t->cc - vis_c + 1;
	char buf[64];
	/* Column header. */
	for (int c = 0; c < vis_c; c++) {
		snprintf(buf, sizeof buf, "%*lld ", CELL_W - 1, (long long)(t->left + c));
		ui_put(y, x + lw + c * CELL_W, CELL_W, UI_R_HEADER, buf);
	}
	if (!ensure_window(t, t->top, vis_r, t->left, vis_c)) {
		ui_put(y + 1, x, w, UI_R_ERROR, t->err);
		return;
	}
	for (int r = 0; r < vis_r; r++) {
		snprintf(buf, sizeof buf, "%*lld", lw - 1, (long long)(t->top + r));
		ui_put(y + 1 + r, x, lw, UI_R_HEADER, buf);
		for (int c = 0; c < vis_c; c++) {
			int64_t rr = t->top + r - t->wr0, cc = t->left + c - t->wc0;
			float v = t->win[rr * t->wnc + cc];
			char val[32];
			fmt_val(v, val, sizeof val);
			bool cur = t->top + r == t->cr && t->left + c == t->cc;
			bool hit = t->hl && v >= t->lo && v <= t->hi;
			/* Marks that show without attributes too (TERM=dumb, saved
			 * screens): [cursor], *highlighted. */
			snprintf(buf, sizeof buf, cur ? "[%*s]" : hit ? "*%*s " : " %*s ", CELL_W - 2, val);
			ui_put(y + 1 + r, x + lw + c * CELL_W, CELL_W,
			       cur ? UI_R_CURSOR : hit ? UI_R_MATCH : UI_R_NUMBER, buf);
		}
	}
}

static void draw_heat(ui *u, tstate *t, int y, int x, int h, int w)
{
	int hr = (int)(t->nrows < h - 1 ? t->nrows : h - 1); /* a row for the legend */
	int hc = (int)(t->ncols < w / 2 ? t->ncols : w / 2);
	if (hr < 1 || hc < 1)
		return;
	if (!t->heat || t->hr != hr || t->hc != hc)
		compute_heat(u, t, hr, hc);
	if (!t->heat) {
		ui_put(y, x, w, UI_R_ERROR, t->err);
		return;
	}
	const ui_glyphs *g = ui_glyph();
	bool color = ui_display_color();
	double span = t->hmax - t->hmin;
	for (int r = 0; r < hr; r++)
		for (int c = 0; c < hc; c++) {
			double v = t->heat[r * hc + c];
			double f = isnan(v) ? 0 : span > 0 ? (v - t->hmin) / span : 0.5;
			if (color) {
				int lvl = (int)(f * (UI_HEAT_LEVELS - 1) + 0.5);
				ui_put(y + r, x + 2 * c, 2, UI_R_HEAT0 + lvl, "  ");
			} else {
				int lvl = (int)(f * 4 + 0.5);
				char cell[16];
				snprintf(cell, sizeof cell, "%s%s", g->shade[lvl], g->shade[lvl]);
				ui_put(y + r, x + 2 * c, 2, UI_R_NORMAL, cell);
			}
		}
	char legend[160];
	snprintf(legend, sizeof legend, "%d x %d cells over %lld x %lld values; %s per cell (c), "
	         "low %.4g .. high %.4g", hr, hc, (long long)t->nrows, (long long)t->ncols,
	         cell_names[t->cell], t->hmin, t->hmax);
	if (hr < h)
		ui_put(y + hr, x, w, UI_R_DIM, legend);
}

static void draw_hist(ui *u, tstate *t, int y, int x, int h, int w)
{
	if (!t->have_hist && !t->hist_tried)
		compute_hist(u, t);
	if (!t->have_hist) {
		ui_put(y, x, w, UI_R_DIM, "no histogram (no finite values, or cancelled: Enter retries)");
		return;
	}
	int64_t maxc = 1;
	for (int i = 0; i < t->hist.nbins; i++)
		if (t->hist.counts[i] > maxc)
			maxc = t->hist.counts[i];
	const ui_glyphs *g = ui_glyph();
	int barw = w - 36;
	for (int i = 0; i < t->hist.nbins && i < h; i++) {
		char lab[80], bar[1024] = "";
		snprintf(lab, sizeof lab, "[%10.4g, %10.4g%s %9lld ", ks_hist_edge(&t->hist, i),
		         ks_hist_edge(&t->hist, i + 1), i == t->hist.nbins - 1 ? "]" : ")",
		         (long long)t->hist.counts[i]);
		ui_put(y + i, x, w, UI_R_NORMAL, lab);
		int n = barw > 0 ? (int)(t->hist.counts[i] * barw / maxc) : 0;
		for (int k = 0; k < n && strlen(bar) + 4 < sizeof bar; k++)
			strcat(bar, g->bar);
		ui_put(y + i, x + 36, w - 36, UI_R_NUMBER, bar);
	}
}

static void tensor_draw(ui *u, ui_view *v, int y, int x, int h, int w)
{
	tstate *t = v->priv;
	char sh[128], line[512];
	ks_shape_str(t->src.shape, t->src.rank, sh, sizeof sh);
	const char *side = side_name(&t->src);
	snprintf(line, sizeof line, "%s  %s %s  slice %s  [%s]%s%s%s", t->src.name, sh,
	         t->src.dtype ? t->src.dtype : "float32", t->spec, mode_names[t->mode],
	         side ? "  showing " : "", side ? side : "", side ? " (d switches)" : "");
	ui_put(y, x, w, UI_R_HEADER, line);
	if (t->have_stats) {
		const ks_stats *s = &t->st;
		snprintf(line, sizeof line, "min %.6g  max %.6g  mean %.6g  std %.6g  zeros %lld  nan %lld  "
		         "inf %lld", s->finite ? s->min : NAN, s->finite ? s->max : NAN, s->mean,
		         ks_stats_std(s), (long long)s->zeros, (long long)s->nans,
		         (long long)(s->pos_infs + s->neg_infs));
		ui_put(y + 1, x, w, UI_R_NORMAL, line);
	} else {
		ui_put(y + 1, x, w, UI_R_DIM, t->err[0] ? t->err : "statistics not computed");
	}
	if (t->src.side == 1)
		snprintf(line, sizeof line, "in %s of %s", t->src.w2->h5_path ? t->src.w2->h5_path : "(in memory)",
		         t->src.m2->path ? t->src.m2->path : "b");
	else if (t->src.side == 2)
		snprintf(line, sizeof line, "a - b, a: %s, b: %s", t->src.where,
		         t->src.m2->path ? t->src.m2->path : "b");
	else
		snprintf(line, sizeof line, "in %s", t->src.where);
	ui_put(y + 2, x, w, UI_R_DIM, line);
	/* Cursor position as a full index of the tensor. */
	int64_t start[KS_MAX_RANK], count[KS_MAX_RANK];
	region(t, t->cr, 1, t->cc, 1, start, count);
	int k = snprintf(line, sizeof line, "[");
	for (int i = 0; i < t->src.rank && k < (int)sizeof line - 24; i++)
		k += snprintf(line + k, sizeof line - (size_t)k, "%s%lld", i ? ", " : "",
		              (long long)start[i]);
	k += snprintf(line + k, sizeof line - (size_t)k, "] = ");
	float val = NAN;
	ks_err err;
	if (ui_tsrc_read(&t->src, start, count, &val, &err) == 0)
		snprintf(line + k, sizeof line - (size_t)k, "%.9g%s", val,
		         t->hl ? "" : "");
	if (t->hl) {
		char hl[80];
		snprintf(hl, sizeof hl, "   highlight [%g, %g]", t->lo, t->hi);
		strncat(line, hl, sizeof line - strlen(line) - 1);
	}
	ui_put(y + 3, x, w, UI_R_NORMAL, line);
	if (h <= 5)
		return;
	if (t->mode == MODE_HEAT)
		draw_heat(u, t, y + 4, x, h - 4, w);
	else if (t->mode == MODE_HIST)
		draw_hist(u, t, y + 4, x, h - 4, w);
	else
		draw_grid(u, t, y + 4, x, h - 4, w);
}

static void move_cursor(tstate *t, int64_t dr, int64_t dc)
{
	t->cr += dr;
	t->cc += dc;
	if (t->cr >= t->nrows)
		t->cr = t->nrows - 1;
	if (t->cc >= t->ncols)
		t->cc = t->ncols - 1;
	if (t->cr < 0)
		t->cr = 0;
	if (t->cc < 0)
		t->cc = 0;
}

/* Shows side 0 (a), 1 (b) or 2 (a - b): the cursor and slice stay, the
 * statistics and heatmap are taken again; a - b's heatmap shows each
 * cell's largest |a-b| on one scale. */
static void switch_side(ui *u, tstate *t, int side)
{
	t->src.side = side;
	drop_cache(t);
	if (t->have_hist)
		ks_hist_free(&t->hist);
	t->have_hist = t->hist_tried = false;
	t->have_stats = false;
	t->err[0] = '\0';
	if (side == 2)
		t->cell = CELL_MAXABS;
	compute_stats(u, t);
	ui_msg(u, "showing %s%s", side_name(&t->src), side == 2 ? " (n/N: next/previous changed element)" : "");
}

/* Decides one element of the slice: a is the row as shown, b the row of
 * the other file (only for scans of a pair). */
typedef bool (*elem_match)(const void *ctx, const float *a, const float *b, int64_t c);

/* Moves the cursor to the next element in row-major order from the cursor
 * in direction dir (wrapping) that match accepts, reading one row at a
 * time (a's and b's rows when pair). Returns true when found; reports
 * errors, Ctrl-C and "none" (what) in the message line. */
static bool scan_slice(ui *u, tstate *t, int dir, bool pair, elem_match match, const void *ctx,
                       const char *what)
{
	float *a = ks_xmalloc((size_t)t->ncols * sizeof *a);
	float *b = pair ? ks_xmalloc((size_t)t->ncols * sizeof *b) : NULL;
	int64_t total = t->nrows * t->ncols, pos = t->cr * t->ncols + t->cc, cur_row = -1;
	bool found = false, cancelled = false;
	ui_tsrc sa = t->src, sb = t->src;
	if (pair) {
		sa.side = 0;
		sb.side = 1;
	}
	ui_progress_begin(u, "searching");
	for (int64_t k = 1; k <= total; k++) {
		int64_t i = ((pos + dir * k) % total + total) % total;
		int64_t r = i / t->ncols, c = i % t->ncols;
		if (r != cur_row) {
			int64_t start[KS_MAX_RANK], count[KS_MAX_RANK];
			ks_err err;
			region(t, r, 1, 0, t->ncols, start, count);
			if (ui_tsrc_read(&sa, start, count, a, &err) < 0 ||
			    (pair && ui_tsrc_read(&sb, start, count, b, &err) < 0)) {
				ui_error(u, "%s", err.msg);
				break;
			}
			cur_row = r;
			if ((k & 0xff) < (int64_t)t->ncols && ui_progress(u, (double)k / (double)total)) {
				cancelled = true;
				break;
			}
		}
		if (match(ctx, a, b, c)) {
			t->cr = r;
			t->cc = c;
			found = true;
			break;
		}
	}
	ui_progress_end(u);
	free(a);
	free(b);
	if (cancelled)
		ui_msg(u, "search cancelled");
	else if (!found)
		ui_error(u, "%s", what);
	return found;
}

static bool changed_match(const void *ctx, const float *a, const float *b, int64_t c)
{
	return ks_tol_differs(ctx, a[c], b[c]);
}

/* n/N on a - b: the next element of the slice that differs under the
 * diff's tolerance. */
static bool next_changed(ui *u, tstate *t, int dir)
{
	return scan_slice(u, t, dir, true, changed_match, &t->src.tol, "no changed element in this slice");
}

static bool tensor_request(ui *u, ui_view *v, enum ui_request req)
{
	tstate *t = v->priv;
	int page = t->vis_r > 1 ? t->vis_r : 1;
	switch (req) {
	case UI_REQ_MOVE_UP: move_cursor(t, -1, 0); return true;
	case UI_REQ_MOVE_DOWN: move_cursor(t, 1, 0); return true;
	case UI_REQ_MOVE_LEFT: move_cursor(t, 0, -1); return true;
	case UI_REQ_MOVE_RIGHT: move_cursor(t, 0, 1); return true;
	case UI_REQ_PAGE_UP: move_cursor(t, -page, 0); return true;
	case UI_REQ_PAGE_DOWN: move_cursor(t, page, 0); return true;
	case UI_REQ_FIRST: t->cr = t->cc = 0; return true;
	case UI_REQ_LAST: t->cr = t->nrows - 1; t->cc = t->ncols - 1; return true;
	case UI_REQ_CYCLE_MODE: t->mode = (t->mode + 1) % MODE_COUNT; return true;
	case UI_REQ_CELL_STAT:
		/* the sums are kept: switching needs no second pass over the tensor */
		t->cell = (t->cell + 1) % CELL_COUNT;
		if (t->heat)
			heat_select(t);
		if (t->mode != MODE_HEAT)
			ui_msg(u, "heatmap cells: %s (v shows the heatmap)", cell_names[t->cell]);
		return true;
	case UI_REQ_DIFF_SIDE:
		if (!t->src.w2) {
			ui_error(u, "d: not a paired weight (open a weight from the detail pane in diff mode)");
			return true;
		}
		switch_side(u, t, (t->src.side + 1) % 3);
		return true;
	case UI_REQ_FIND_NEXT:
	case UI_REQ_FIND_PREV:
		if (t->src.w2 && t->src.side == 2) {
			next_changed(u, t, req == UI_REQ_FIND_NEXT ? 1 : -1);
			return true;
		}
		return false;
	case UI_REQ_ENTER:
		/* Retry what Ctrl-C cancelled. */
		if (!t->have_stats) {
			t->err[0] = '\0';
			compute_stats(u, t);
		} else if (t->mode == MODE_HIST && !t->have_hist) {
			t->hist_tried = false;
		} else if (t->mode == MODE_GRID && !t->heat && t->err[0]) {
			t->err[0] = '\0';
		}
		return true;
	default: return false;
	}
}

/* Parses the search needle into a predicate. */
typedef struct pred { int kind; double x; } pred; /* 0 eq, 1 gt, 2 lt, 3 nan, 4 inf */

static bool parse_pred(const char *s, pred *p)
{
	while (*s == ' ')
		s++;
	if (strcasecmp(s, "nan") == 0) {
		p->kind = 3;
		return true;
	}
	if (strcasecmp(s, "inf") == 0) {
		p->kind = 4;
		return true;
	}
	p->kind = 0;
	if (*s == '>' || *s == '<' || *s == '=') {
		p->kind = *s == '>' ? 1 : *s == '<' ? 2 : 0;
		s++;
	}
	char *end;
	errno = 0;
	p->x = strtod(s, &end);
	while (*end == ' ')
		end++;
	return end != s && *end == '\0' && errno == 0;
}

static bool pred_match(const pred *p, float v)
{
	switch (p->kind) {
	case 1: return v > p->x;
	case 2: return v < p->x;
	case 3: return isnan(v);
	case 4: return isinf(v);
	default: return fabs(v - p->x) <= 1e-6 * fmax(1.0, fabs(p->x));
	}
}

static bool pred_elem(const void *ctx, const float *a, const float *b, int64_t c)
{
	(void)b;
	return pred_match(ctx, a[c]);
}

static bool tensor_search(ui *u, ui_view *v, const char *needle, int dir)
{
	tstate *t = v->priv;
	pred p = {0, 0};
	if (!parse_pred(needle, &p)) {
		ui_error(u, "search in a tensor: give a number, =X, >X, <X, nan or inf");
		return false;
	}
	char what[300];
	snprintf(what, sizeof what, "no value matches '%s' in this slice", needle);
	return scan_slice(u, t, dir, false, pred_elem, &p, what);
}

static void tensor_done(ui_view *v)
{
	tstate *t = v->priv;
	drop_cache(t);
	if (t->have_hist)
		ks_hist_free(&t->hist);
}

static const struct ui_view_ops tensor_ops = {
	.name = "tensor",
	.private_size = sizeof(tstate),
	.draw = tensor_draw,
	.request = tensor_request,
	.search = tensor_search,
	.done = tensor_done,
};

bool ui_tensor_open(ui *u, const ui_tsrc *src)
{
	if (src->w && (src->w->dtype == KS_DT_STRING || src->w->dtype == KS_DT_OTHER)) {
		ui_error(u, "%s: %s values cannot be shown as numbers", src->name,
		         ks_dtype_name(src->w->dtype));
		return false;
	}
	int64_t n;
	if (!ks_numel(src->shape, src->rank, &n)) {
		ui_error(u, "%s: bad shape", src->name);
		return false;
	}
	ui_view *v = ui_view_push(u, &tensor_ops, src->name);
	if (!v)
		return false;
	tstate *t = v->priv;
	t->src = *src;
	ks_err err;
	if (apply_slice(t, NULL, &err) < 0) {
		ui_error(u, "%s", err.msg);
		ui_view_pop(u);
		return false;
	}
	if (n == 0) {
		snprintf(t->err, sizeof t->err, "empty tensor");
		return true;
	}
	compute_stats(u, t);
	return true;
}

/* ---- commands ---------------------------------------------------------- */

static int write_npy(tstate *t, const char *path, ks_err *err)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return ks_fail(err, "%s: %s", path, strerror(errno));
	char shape[256] = "(";
	for (int i = 0; i < t->src.rank; i++) {
		char d[32];
		snprintf(d, sizeof d, "%lld,%s", (long long)t->src.shape[i],
		         i < t->src.rank - 1 ? " " : "");
		strncat(shape, d, sizeof shape - strlen(shape) - 1);
	}
	if (t->src.rank > 1)
		shape[strlen(shape) - 1] = '\0'; /* numpy writes (3, 4) but (3,) */
	strcat(shape, ")");
	char hdr[512];
	int n = snprintf(hdr, sizeof hdr, "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }",
	                 shape);
	int total = 10 + n + 1;
	int padn = (64 - total % 64) % 64;
	memset(hdr + n, ' ', (size_t)padn);
	hdr[n + padn] = '\n';
	uint16_t hl = (uint16_t)(n + padn + 1);
	unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hl & 0xff),
	                         (unsigned char)(hl >> 8)};
	fwrite(pre, 1, 10, f);
	fwrite(hdr, 1, hl, f);
	/* Whole tensor, one slab of the first axis at a time (bounded memory). */
	int rc = 0;
	int64_t start[KS_MAX_RANK] = {0}, count[KS_MAX_RANK];
	memcpy(count, t->src.shape, sizeof count);
	int64_t rows = t->src.rank ? t->src.shape[0] : 1, per = 1;
	for (int i = 1; i < t->src.rank; i++)
		per *= t->src.shape[i];
	float *buf = ks_xmalloc((size_t)(per > 0 ? per : 1) * sizeof *buf);
	for (int64_t r = 0; r < rows && rc == 0; r++) {
		if (t->src.rank) {
			start[0] = r;
			count[0] = 1;
		}
		if (ui_tsrc_read(&t->src, start, count, buf, err) < 0)
			rc = -1;
		else if (fwrite(buf, sizeof *buf, (size_t)per, f) != (size_t)per)
			rc = ks_fail(err, "%s: %s", path, strerror(errno));
	}
	free(buf);
	if (fclose(f) != 0 && rc == 0)
		rc = ks_fail(err, "%s: %s", path, strerror(errno));
	return rc;
}

static int write_csv(tstate *t, const char *path, ks_err *err)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return ks_fail(err, "%s: %s", path, strerror(errno));
	float *row = ks_xmalloc((size_t)t->ncols * sizeof *row);
	int rc = 0;
	for (int64_t r = 0; r < t->nrows && rc == 0; r++) {
		if (read_region(t, r, 1, 0, t->ncols, row, err) < 0) {
			rc = -1;
			break;
		}
		for (int64_t c = 0; c < t->ncols; c++)
			fprintf(f, "%s%.9g", c ? "," : "", row[c]);
		fputc('\n', f);
	}
	free(row);
	if (fclose(f) != 0 && rc == 0)
		rc = ks_fail(err, "%s: %s", path, strerror(errno));
	return rc;
}

static int parse_index(const char *s, int64_t *out, int max)
{
	int n = 0;
	while (*s) {
		while (*s == ' ' || *s == '[' || *s == ']' || *s == ',' || *s == '(' || *s == ')')
			s++;
		if (!*s)
			break;
		char *end;
		long long v = strtoll(s, &end, 10);
		if (end == s || n >= max)
			return -1;
		out[n++] = v;
		s = end;
	}
	return n;
}

int ui_tensor_command(ui *u, enum ui_command cmd, int argc, char **argv, ks_err *err)
{
	ui_view *v = ui_view_top(u);
	if (!v || strcmp(v->ops->name, "tensor") != 0)
		return ks_fail(err, "%s: open a weight first (Enter on a weight, or :show LAYER/WEIGHT)",
		               argv[0]);
	tstate *t = v->priv;
	char joined[512] = "";
	for (int i = 1; i < argc; i++) {
		if (i > 1)
			strncat(joined, " ", sizeof joined - strlen(joined) - 1);
		strncat(joined, argv[i], sizeof joined - strlen(joined) - 1);
	}
	switch (cmd) {
	case UI_CMD_SLICE:
		if (argc < 2)
			return ks_fail(err, "slice: give a selection, e.g. [0,:,:,3]");
		if (apply_slice(t, joined, err) < 0)
			return -1;
		ui_msg(u, "slice %s", t->spec);
		return 0;
	case UI_CMD_GOTO: {
		int64_t idx[KS_MAX_RANK];
		int n = parse_index(joined, idx, KS_MAX_RANK);
		int kept = (t->ax_r >= 0) + (t->ax_c >= 0);
		if (n <= 0)
			return ks_fail(err, "goto: give an index such as 3,4");
		if (n == t->src.rank && n != kept) {
			/* A full index: move the slice so that it contains the element. */
			char spec[160] = "[";
			for (int i = 0; i < n; i++) {
				if (idx[i] < 0 || idx[i] >= t->src.shape[i])
					return ks_fail(err, "goto: index %lld is out of bounds for axis %d with size %lld",
					               (long long)idx[i], i, (long long)t->src.shape[i]);
				char d[32];
				snprintf(d, sizeof d, "%s%s", i ? "," : "",
				         (i == t->ax_r || i == t->ax_c) ? ":" : "");
				strcat(spec, d);
				if (i != t->ax_r && i != t->ax_c) {
					snprintf(d, sizeof d, "%lld", (long long)idx[i]);
					strcat(spec, d);
				}
			}
			strcat(spec, "]");
			if (apply_slice(t, spec, err) < 0)
				return -1;
			t->cr = t->ax_r >= 0 ? idx[t->ax_r] : 0;
			t->cc = t->ax_c >= 0 ? idx[t->ax_c] : 0;
			return 0;
		}
		if (n != kept && !(kept == 0 && n == 1))
			return ks_fail(err, "goto: give %d indices (the slice's axes) or %d (the tensor's)",
			               kept, t->src.rank);
		int64_t r = n >= 1 ? idx[0] : 0, c = n >= 2 ? idx[1] : 0;
		if (r < 0 || r >= t->nrows || c < 0 || c >= t->ncols)
			return ks_fail(err, "goto: %s is outside the slice (%lld x %lld)", joined,
			               (long long)t->nrows, (long long)t->ncols);
		t->cr = r;
		t->cc = c;
		return 0;
	}
	case UI_CMD_HIGHLIGHT: {
		if (argc == 2 && strcmp(argv[1], "off") == 0) {
			t->hl = false;
			return 0;
		}
		char *e1, *e2;
		if (argc != 3)
			return ks_fail(err, "highlight: give LO HI, or off");
		double lo = strtod(argv[1], &e1), hi = strtod(argv[2], &e2);
		if (*e1 || *e2 || e1 == argv[1] || e2 == argv[2] || lo > hi)
			return ks_fail(err, "highlight: '%s' is not a range LO HI with LO <= HI", joined);
		t->hl = true;
		t->lo = lo;
		t->hi = hi;
		t->mode = MODE_GRID;
		return 0;
	}
	case UI_CMD_EXPORT: {
		if (argc != 2)
			return ks_fail(err, "export: give one FILE ending in .npy or .csv");
		int rc;
		if (ks_str_endswith(argv[1], ".npy"))
			rc = write_npy(t, argv[1], err);
		else if (ks_str_endswith(argv[1], ".csv"))
			rc = write_csv(t, argv[1], err);
		else
			return ks_fail(err, "export: %s: the name must end in .npy or .csv", argv[1]);
		if (rc == 0)
			ui_msg(u, "wrote %s", argv[1]);
		return rc;
	}
	default:
		return ks_fail(err, "%s: not a tensor command", argv[0]);
	}
}
