#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks_diff.h"
#include "ks_diff_priv.h"
#include "ks_file.h"
#include "ks_stats.h"
#include "ks_util.h"

const char *ks_pair_how_name(ks_pair_how h)
{
	switch (h) {
	case KS_PAIR_NAME: return "name";
	case KS_PAIR_POSITION: return "position";
	case KS_PAIR_CONTENT: return "content";
	default: return NULL;
	}
}

const char *ks_diff_status_name(ks_diff_status s)
{
	static const char *const names[] = {"same", "changed", "reshaped", "added", "removed"};
	return (unsigned)s < sizeof names / sizeof *names ? names[s] : "?";
}

/* ---- changes ------------------------------------------------------------- */

void ks_diff_add_change(ks_diff_change **arr, int *n, const char *key, const json_t *a,
                        const json_t *b, bool info)
{
	*arr = ks_xrealloc(*arr, (size_t)(*n + 1) * sizeof **arr);
	ks_diff_change *c = &(*arr)[(*n)++];
	c->key = ks_xstrdup(key);
	c->a = a ? json_incref((json_t *)a) : NULL;
	c->b = b ? json_incref((json_t *)b) : NULL;
	c->info = info;
}

void ks_diff_free_changes(ks_diff_change *arr, int n)
{
	for (int i = 0; i < n; i++) {
		free(arr[i].key);
		json_decref(arr[i].a);
		json_decref(arr[i].b);
	}
	free(arr);
}

/* ---- opening ------------------------------------------------------------- */

bool ks_diff_no_arch(const ks_model *m)
{
	return !m->model_config;
}

ks_model *ks_diff_open_with(const ks_diff *d, const char *path, const json_t *arch,
                            const char *config_path, ks_err *err)
{
	ks_open_opts oo = {.config_path = config_path, .config = arch, .load_order = d->opts.load_order};
	return ks_model_open(path, &oo, err);
}

/* ---- shapes and content of layers -------------------------------------- */

/* Calls fn on every weight of L, nested layers included, in order. */
typedef void (*weight_fn)(const ks_layer *L, const ks_weight *w, void *ctx);

static void each_weight(const ks_layer *L, weight_fn fn, void *ctx)
{
	for (int i = 0; i < L->n_weights; i++)
		fn(L, &L->weights[i], ctx);
	if (L->inner)
		for (int i = 0; i < L->inner->n_layers; i++)
			each_weight(&L->inner->layers[i], fn, ctx);
}

typedef struct shape_list {
	const ks_weight *w[256];
	int n;
	bool overflow;
} shape_list;

static void collect(const ks_layer *L, const ks_weight *w, void *ctx)
{
	shape_list *s = ctx;
	(void)L;
	if (s->n < (int)(sizeof s->w / sizeof *s->w))
		s->w[s->n++] = w;
	else
		s->overflow = true;
}

static bool same_shape(const ks_weight *a, const ks_weight *b)
{
	if (a->rank != b->rank)
		return false;
	for (int i = 0; i < a->rank; i++)
		if (a->shape[i] != b->shape[i])
			return false;
	return true;
}

static bool weight_shapes_equal(const ks_layer *a, const ks_layer *b)
{
	shape_list sa = {0}, sb = {0};
	each_weight(a, collect, &sa);
	each_weight(b, collect, &sb);
	if (sa.overflow || sb.overflow || sa.n != sb.n || sa.n == 0)
		return false;
	for (int i = 0; i < sa.n; i++)
		if (!same_shape(sa.w[i], sb.w[i]))
			return false;
	return true;
}

/* "?" (weights-only side) is compatible with any class. */
static bool class_compatible(const ks_layer *a, const ks_layer *b)
{
	if (!a->class_name || !b->class_name || !strcmp(a->class_name, "?") ||
	    !strcmp(b->class_name, "?"))
		return true;
	return strcmp(a->class_name, b->class_name) == 0;
}

typedef struct hash_ctx {
	uint64_t h;
} hash_ctx;

static int hash_block(const float *v, size_t n, void *ctx, ks_err *err)
{
	hash_ctx *c = ctx;
	(void)err;
	const unsigned char *p = (const unsigned char *)v;
	for (size_t i = 0; i < n * sizeof *v; i++) {
		c->h ^= p[i];
		c->h *= 1099511628211ULL;
	}
	return 0;
}

/* FNV-1a of the float32 values of every weight of L; 0 on a read error
 * (the layer is then simply not paired by content). */
static uint64_t layer_hash(const ks_model *m, const ks_layer *L)
{
	shape_list s = {0};
	hash_ctx c = {14695981039346656037ULL};
	each_weight(L, collect, &s);
	for (int i = 0; i < s.n; i++)
		if (ks_weight_walk(m, s.w[i], NULL, NULL, 0, hash_block, &c, NULL) < 0)
			return 0;
	return c.h;
}

/* ---- pairing ------------------------------------------------------------- */

typedef struct level {
	const ks_model *ma, *mb;   /* either may be NULL (one-sided subtree) */
	int *pa, *pb;              /* partner index or -1 */
	ks_pair_how *how;          /* per a layer */
} level;

static void pair_by_name(level *lv)
{
	for (int i = 0; i < lv->ma->n_layers; i++)
		for (int j = 0; j < lv->mb->n_layers; j++)
			if (lv->pb[j] < 0 && !strcmp(lv->ma->layers[i].name, lv->mb->layers[j].name)) {
				lv->pa[i] = j;
				lv->pb[j] = i;
				lv->how[i] = KS_PAIR_NAME;
				break;
			}
}

/* In model order: each unpaired a layer takes the next unpaired b layer
 * (after the last one taken) that fits. */
static void pair_by_position(level *lv, bool weighted)
{
	int next = 0;
	for (int i = 0; i < lv->ma->n_layers; i++) {
		const ks_layer *a = &lv->ma->layers[i];
		if (lv->pa[i] >= 0 || (a->params > 0) != weighted)
			continue;
		for (int j = next; j < lv->mb->n_layers; j++) {
			const ks_layer *b = &lv->mb->layers[j];
			if (lv->pb[j] >= 0 || (b->params > 0) != weighted)
				continue;
			bool fits = weighted ? weight_shapes_equal(a, b) && class_compatible(a, b)
			                     : a->class_name && b->class_name &&
			                       !strcmp(a->class_name, b->class_name);
			if (!fits)
				continue;
			lv->pa[i] = j;
			lv->pb[j] = i;
			lv->how[i] = KS_PAIR_POSITION;
			next = j + 1;
			break;
		}
	}
}

static void pair_by_content(level *lv)
{
	int na = lv->ma->n_layers, nb = lv->mb->n_layers;
	uint64_t *hb = ks_xcalloc((size_t)nb + 1, sizeof *hb);
	bool any = false;
	for (int i = 0; i < na; i++)
		any |= lv->pa[i] < 0 && lv->ma->layers[i].params > 0;
	if (any)
		for (int j = 0; j < nb; j++)
			if (lv->pb[j] < 0 && lv->mb->layers[j].params > 0)
				hb[j] = layer_hash(lv->mb, &lv->mb->layers[j]);
	for (int i = 0; any && i < na; i++) {
		const ks_layer *a = &lv->ma->layers[i];
		if (lv->pa[i] >= 0 || a->params == 0)
			continue;
		uint64_t h = 0;
		for (int j = 0; j < nb; j++) {
			const ks_layer *b = &lv->mb->layers[j];
			if (lv->pb[j] >= 0 || !hb[j] || !weight_shapes_equal(a, b))
				continue;
			if (!h && !(h = layer_hash(lv->ma, a)))
				break;
			if (h == hb[j]) {
				lv->pa[i] = j;
				lv->pb[j] = i;
				lv->how[i] = KS_PAIR_CONTENT;
				break;
			}
		}
	}
	free(hb);
}

static char *join(const char *prefix, const char *name)
{
	return prefix ? ks_xasprintf("%s/%s", prefix, name) : ks_xstrdup(name);
}

static int add_layer(ks_diff *d)
{
	d->layers = ks_xrealloc(d->layers, (size_t)(d->n_layers + 1) * sizeof *d->layers);
	ks_diff_layer *L = &d->layers[d->n_layers];
	memset(L, 0, sizeof *L);
	L->parent = -1;
	return d->n_layers++;
}

static void add_tensor(ks_diff *d, bool opt, const ks_weight *wa, const ks_weight *wb,
                       char *name_a, char *name_b, int layer, ks_pair_how how)
{
	ks_diff_tensor **arr = opt ? &d->opt_tensors : &d->tensors;
	int *n = opt ? &d->n_opt_tensors : &d->n_tensors;
	*arr = ks_xrealloc(*arr, (size_t)(*n + 1) * sizeof **arr);
	ks_diff_tensor *t = &(*arr)[(*n)++];
	memset(t, 0, sizeof *t);
	t->wa = wa;
	t->wb = wb;
	t->name_a = name_a;
	t->name_b = name_b;
	t->layer = layer;
	t->pairing = wa && wb ? how : KS_PAIR_NONE;
	const ks_weight *w = wa ? wa : wb;
	if (!ks_numel(w->shape, w->rank, &t->size))
		t->size = 0;
	if (!wa)
		t->status = KS_DS_ADDED;
	else if (!wb)
		t->status = KS_DS_REMOVED;
	else if (!same_shape(wa, wb))
		t->status = KS_DS_RESHAPED;
	else
		t->status = KS_DS_SAME;   /* until compared */
	ks_cmp_init(&t->cmp, &d->opts.tol);
}

/* The own weights of a layer pair: by semantic name, then by position. */
static void pair_weights(ks_diff *d, int li)
{
	ks_diff_layer *L = &d->layers[li];
	const ks_layer *la = L->la, *lb = L->lb;
	int na = la ? la->n_weights : 0, nb = lb ? lb->n_weights : 0;
	int *pb = ks_xmalloc(((size_t)nb + 1) * sizeof *pb), *pa = ks_xmalloc(((size_t)na + 1) * sizeof *pa);
	ks_pair_how *how = ks_xcalloc((size_t)na + 1, sizeof *how);
	for (int j = 0; j < nb; j++)
		pb[j] = -1;
	for (int i = 0; i < na; i++) {
		pa[i] = -1;
		for (int j = 0; j < nb; j++)
			if (pb[j] < 0 && !strcmp(la->weights[i].name, lb->weights[j].name)) {
				pa[i] = j;
				pb[j] = i;
				how[i] = KS_PAIR_NAME;
				break;
			}
	}
	for (int i = 0, j = 0; i < na; i++) {
		if (pa[i] >= 0)
			continue;
		while (j < nb && pb[j] >= 0)
			j++;
		if (j < nb) {
			pa[i] = j;
			pb[j] = i;
			how[i] = KS_PAIR_POSITION;
		}
	}
	L->first_tensor = d->n_tensors;
	for (int i = 0; i < na; i++) {
		const ks_weight *wb = pa[i] >= 0 ? &lb->weights[pa[i]] : NULL;
		add_tensor(d, false, &la->weights[i], wb, join(L->name_a, la->weights[i].name),
		           wb ? join(L->name_b, wb->name) : NULL, li, how[i]);
	}
	for (int j = 0; j < nb; j++)
		if (pb[j] < 0)
			add_tensor(d, false, NULL, &lb->weights[j], NULL, join(L->name_b, lb->weights[j].name),
			           li, KS_PAIR_NONE);
	L->n_tensors = d->n_tensors - L->first_tensor;
	free(pa);
	free(pb);
	free(how);
}

static void pair_models(ks_diff *d, const ks_model *ma, const ks_model *mb, const char *pre_a,
                        const char *pre_b, int depth, int parent);

static void emit(ks_diff *d, const ks_layer *la, const ks_layer *lb, ks_pair_how how,
                 const char *pre_a, const char *pre_b, int depth, int parent)
{
	int li = add_layer(d);
	ks_diff_layer *L = &d->layers[li];
	L->la = la;
	L->lb = lb;
	L->name_a = la ? join(pre_a, la->name) : NULL;
	L->name_b = lb ? join(pre_b, lb->name) : NULL;
	L->depth = depth;
	L->parent = parent;
	L->pairing = la && lb ? how : KS_PAIR_NONE;
	L->status = !la ? KS_DS_ADDED : !lb ? KS_DS_REMOVED : KS_DS_SAME;
	/* A weights-only file lists weight-bearing layers only (a Sequential's
	 * InputLayer is never there): a weightless layer it lacks is no change. */
	if ((!la && lb->params == 0 && ks_diff_no_arch(d->a)) ||
	    (!lb && la->params == 0 && ks_diff_no_arch(d->b)))
		L->status = KS_DS_SAME;
	L->params = la ? la->params : lb->params;
	ks_cmp_init(&L->roll, &d->opts.tol);
	pair_weights(d, li);
	const ks_model *ia = la ? la->inner : NULL, *ib = lb ? lb->inner : NULL;
	if (ia || ib) {
		/* names are copied: d->layers may move while recursing */
		char *na = d->layers[li].name_a ? ks_xstrdup(d->layers[li].name_a) : NULL;
		char *nb = d->layers[li].name_b ? ks_xstrdup(d->layers[li].name_b) : NULL;
		pair_models(d, ia, ib, na, nb, depth + 1, li);
		free(na);
		free(nb);
	}
}

/* Pairs the layers of one level and emits them: a's order, each b-only
 * layer placed just before the first pair that follows it in b. */
static void pair_models(ks_diff *d, const ks_model *ma, const ks_model *mb, const char *pre_a,
                        const char *pre_b, int depth, int parent)
{
	int na = ma ? ma->n_layers : 0, nb = mb ? mb->n_layers : 0;
	level lv = {ma, mb, ks_xmalloc(((size_t)na + 1) * sizeof(int)),
	            ks_xmalloc(((size_t)nb + 1) * sizeof(int)), ks_xcalloc((size_t)na + 1, sizeof(ks_pair_how))};
	for (int i = 0; i < na; i++)
		lv.pa[i] = -1;
	for (int j = 0; j < nb; j++)
		lv.pb[j] = -1;
	if (ma && mb) {
		pair_by_name(&lv);
		pair_by_position(&lv, true);
		pair_by_position(&lv, false);
		pair_by_content(&lv);
	}
	int jb = 0;
	for (int i = 0; i < na; i++) {
		int j = lv.pa[i];
		for (; j >= 0 && jb < j; jb++)
			if (lv.pb[jb] < 0)
				emit(d, NULL, &mb->layers[jb], KS_PAIR_NONE, pre_a, pre_b, depth, parent);
		if (j >= 0 && jb == j)
			jb++;
		emit(d, &ma->layers[i], j >= 0 ? &mb->layers[j] : NULL, lv.how[i], pre_a, pre_b, depth, parent);
	}
	for (; jb < nb; jb++)
		if (lv.pb[jb] < 0)
			emit(d, NULL, &mb->layers[jb], KS_PAIR_NONE, pre_a, pre_b, depth, parent);
	free(lv.pa);
	free(lv.pb);
	free(lv.how);
}

/* ---- optimizer slots ----------------------------------------------------- */

/* The b-side name of an a-side slot: each path component naming a paired
 * a layer becomes the b layer's name ("Adam/dense/kernel/m" ->
 * "Adam/dense_7/kernel/m"). Returns a new string. */
static char *translate_slot(const ks_diff *d, const char *name)
{
	char *copy = ks_xstrdup(name), *save = NULL, *out = ks_xstrdup("");
	for (char *tok = strtok_r(copy, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		const char *t = tok;
		for (int i = 0; i < d->n_layers; i++) {
			const ks_diff_layer *L = &d->layers[i];
			if (L->la && L->lb && !strcmp(L->la->name, tok)) {
				t = L->lb->name;
				break;
			}
		}
		char *n = ks_xasprintf("%s%s%s", out, *out ? "/" : "", t);
		free(out);
		out = n;
	}
	free(copy);
	return out;
}

static void pair_optimizer(ks_diff *d)
{
	const ks_model *a = d->a, *b = d->b;
	int na = a->n_opt_weights, nb = b->n_opt_weights;
	int *pa = ks_xmalloc(((size_t)na + 1) * sizeof *pa), *pb = ks_xmalloc(((size_t)nb + 1) * sizeof *pb);
	ks_pair_how *how = ks_xcalloc((size_t)na + 1, sizeof *how);
	for (int j = 0; j < nb; j++)
		pb[j] = -1;
	for (int i = 0; i < na; i++) {
		char *want = translate_slot(d, a->opt_weights[i].name);
		pa[i] = -1;
		for (int j = 0; j < nb; j++)
			if (pb[j] < 0 && (!strcmp(b->opt_weights[j].name, want) ||
			                  !strcmp(b->opt_weights[j].name, a->opt_weights[i].name))) {
				pa[i] = j;
				pb[j] = i;
				how[i] = KS_PAIR_NAME;
				break;
			}
		free(want);
	}
	for (int i = 0, next = 0; i < na; i++) {
		if (pa[i] >= 0)
			continue;
		for (int j = next; j < nb; j++)
			if (pb[j] < 0 && same_shape(&a->opt_weights[i], &b->opt_weights[j])) {
				pa[i] = j;
				pb[j] = i;
				how[i] = KS_PAIR_POSITION;
				next = j + 1;
				break;
			}
	}
	for (int i = 0; i < na; i++) {
		const ks_weight *wb = pa[i] >= 0 ? &b->opt_weights[pa[i]] : NULL;
		add_tensor(d, true, &a->opt_weights[i], wb, ks_xstrdup(a->opt_weights[i].name),
		           wb ? ks_xstrdup(wb->name) : NULL, -1, how[i]);
	}
	for (int j = 0; j < nb; j++)
		if (pb[j] < 0)
			add_tensor(d, true, NULL, &b->opt_weights[j], NULL, ks_xstrdup(b->opt_weights[j].name),
			           -1, KS_PAIR_NONE);
	free(pa);
	free(pb);
	free(how);
}

/* ---- open / free ----------------------------------------------------------- */

ks_diff *ks_diff_open(const char *path_a, const char *path_b, const ks_diff_opts *o, ks_err *err)
{
	ks_diff *d = ks_xcalloc(1, sizeof *d);
	if (o)
		d->opts = *o;
	d->outputs.first_divergence = -1;
	ks_cmp_init(&d->total, &d->opts.tol);
	d->a = ks_diff_open_with(d, path_a, NULL, d->opts.config_a, err);
	if (!d->a)
		goto fail;
	d->b = ks_diff_open_with(d, path_b, NULL, d->opts.config_b, err);
	if (!d->b)
		goto fail;
	if (d->a->format == KS_FMT_PLAIN_H5 || d->b->format == KS_FMT_PLAIN_H5) {
		ks_fail(err, "%s: not a Keras model or weights file (a plain HDF5 file; h5diff compares those)",
		        d->a->format == KS_FMT_PLAIN_H5 ? path_a : path_b);
		goto fail;
	}
	if (ks_diff_no_arch(d->a) && !ks_diff_no_arch(d->b))
		d->config_from_a = "b";
	if (ks_diff_no_arch(d->b) && !ks_diff_no_arch(d->a))
		d->config_from_b = "a";
	pair_models(d, d->a, d->b, NULL, NULL, 0, -1);
	pair_optimizer(d);
	ks_diff_compare_configs(d);
	return d;
fail:
	ks_diff_free(d);
	return NULL;
}

static void free_tensors(ks_diff_tensor *t, int n)
{
	for (int i = 0; i < n; i++) {
		free(t[i].name_a);
		free(t[i].name_b);
	}
	free(t);
}

void ks_diff_free(ks_diff *d)
{
	if (!d)
		return;
	for (int i = 0; i < d->n_layers; i++) {
		ks_diff_layer *L = &d->layers[i];
		free(L->name_a);
		free(L->name_b);
		ks_diff_free_changes(L->changes, L->n_changes);
		free(L->mapping);
	}
	free(d->layers);
	free_tensors(d->tensors, d->n_tensors);
	free_tensors(d->opt_tensors, d->n_opt_tensors);
	ks_diff_free_changes(d->model_changes, d->n_model_changes);
	ks_diff_free_changes(d->training_changes, d->n_training_changes);
	ks_diff_free_outputs(&d->outputs);
	free(d->elems);
	ks_model_free(d->a);
	ks_model_free(d->b);
	free(d);
}

/* ---- comparing values ------------------------------------------------------ */

typedef struct progress {
	int64_t done, total;
} progress;

/* Streams one tensor pair of equal shape in lockstep blocks. */
static int compare_tensor(ks_diff *d, ks_diff_tensor *t, int index, float *ba, float *bb,
                          progress *pg, ks_err *err)
{
	ks_slab_iter it;
	ks_weight_reader ra, rb;
	int64_t reported = 0;
	if (ks_slab_iter_init(&it, t->wa, NULL, NULL, KS_DIFF_BLOCK, err) < 0)
		return ks_err_prefix(err, "%s", d->a->path);
	ks_weight_reader_init(&ra, d->a, t->wa);
	ks_weight_reader_init(&rb, d->b, t->wb);
	while (ks_slab_iter_next(&it)) {
		if (ks_slab_iter_read(&it, &ra, ba, err) < 0)
			return -1;
		if (ks_slab_iter_read(&it, &rb, bb, err) < 0)
			return -1;
		int64_t base = t->cmp.count, before = t->cmp.n_changed;
		ks_cmp_add(&t->cmp, ba, bb, it.n);
		if (reported < d->opts.elem_max && t->cmp.n_changed > before)
			for (size_t i = 0; i < it.n && reported < d->opts.elem_max; i++)
				if (ks_tol_differs(&d->opts.tol, ba[i], bb[i])) {
					d->elems = ks_xrealloc(d->elems, (size_t)(d->n_elems + 1) * sizeof *d->elems);
					d->elems[d->n_elems++] = (ks_diff_elem){index, base + (int64_t)i, ba[i], bb[i]};
					reported++;
				}
		pg->done += (int64_t)it.n;
		if (d->opts.progress && d->opts.progress(d->opts.progress_ctx, pg->done, pg->total))
			return ks_fail(err, "interrupted");
	}
	t->compared = true;
	t->status = t->cmp.n_changed > 0 ? KS_DS_CHANGED : KS_DS_SAME;
	return 0;
}

/* Reads row 0 (index 0 on every axis but the last) of w into dst. */
static int read_first_row(const ks_model *m, const ks_weight *w, float *dst)
{
	int64_t start[KS_MAX_RANK] = {0}, count[KS_MAX_RANK];
	for (int i = 0; i < w->rank; i++)
		count[i] = i == w->rank - 1 ? w->shape[i] : 1;
	return ks_weight_read_slab(m, w, start, count, dst, NULL);
}

/* Class order: when every weight of a changed layer ends in the same axis
 * of units, the weights are one (rows x units) matrix per side; a column
 * permutation between them means b's units are a's in another order.
 * The first row of each weight is tried first, so a retrained layer is
 * ruled out after reading one row instead of the whole layer. */
static void find_permutation(ks_diff *d, ks_diff_layer *L)
{
	if (L->n_tensors < 1 || L->status != KS_DS_CHANGED)
		return;
	ks_diff_tensor *t0 = &d->tensors[L->first_tensor];
	if (!t0->wa || t0->wa->rank < 1)
		return;
	int64_t units = t0->wa->shape[t0->wa->rank - 1], total = 0;
	for (int k = 0; k < L->n_tensors; k++) {
		ks_diff_tensor *t = &d->tensors[L->first_tensor + k];
		if (!t->compared || t->wa->rank < 1 || t->wa->shape[t->wa->rank - 1] != units)
			return;
		total += t->size;
	}
	if (units < 2 || units > KS_CMP_PERM_MAX_COLS || total > KS_DIFF_PERM_MAX)
		return;
	int *map = ks_xmalloc((size_t)units * sizeof *map);
	size_t first = (size_t)L->n_tensors * (size_t)units;
	float *a = ks_xmalloc(first * sizeof *a), *b = ks_xmalloc(first * sizeof *b);
	bool ok = true;
	for (int k = 0; k < L->n_tensors && ok; k++) {
		ks_diff_tensor *t = &d->tensors[L->first_tensor + k];
		ok = read_first_row(d->a, t->wa, a + (size_t)k * (size_t)units) == 0 &&
		     read_first_row(d->b, t->wb, b + (size_t)k * (size_t)units) == 0;
	}
	ok = ok && ks_cmp_column_permutation(a, b, L->n_tensors, units, &d->opts.tol, map);
	free(a);
	free(b);
	if (ok) {
		a = ks_xmalloc((size_t)total * sizeof *a);
		b = ks_xmalloc((size_t)total * sizeof *b);
		int64_t off = 0;
		for (int k = 0; k < L->n_tensors && ok; k++) {
			ks_diff_tensor *t = &d->tensors[L->first_tensor + k];
			ok = ks_weight_read(d->a, t->wa, a + off, NULL) == 0 &&
			     ks_weight_read(d->b, t->wb, b + off, NULL) == 0;
			off += t->size;
		}
		ok = ok && ks_cmp_column_permutation(a, b, total / units, units, &d->opts.tol, map);
		free(a);
		free(b);
	}
	if (ok) {
		L->mapping = map;
		L->n_mapping = (int)units;
		d->n_permuted++;
	} else {
		free(map);
	}
}

static void roll_up(ks_diff *d)
{
	d->n_same = d->n_changed = d->n_reshaped = d->n_added = d->n_removed = 0;
	d->params_a = d->params_changed = 0;
	ks_cmp_init(&d->total, &d->opts.tol);
	for (int i = 0; i < d->n_tensors; i++) {
		ks_diff_tensor *t = &d->tensors[i];
		switch (t->status) {
		case KS_DS_SAME: d->n_same++; break;
		case KS_DS_CHANGED: d->n_changed++; break;
		case KS_DS_RESHAPED: d->n_reshaped++; break;
		case KS_DS_ADDED: d->n_added++; break;
		case KS_DS_REMOVED: d->n_removed++; break;
		}
		if (t->wa)
			d->params_a += t->size;
		if (t->compared)
			ks_cmp_merge(&d->total, &t->cmp);
		/* the tensor's layer and every enclosing nested model */
		for (int li = t->layer; li >= 0; li = d->layers[li].parent) {
			ks_diff_layer *P = &d->layers[li];
			if (t->compared)
				ks_cmp_merge(&P->roll, &t->cmp);
			if (t->status != KS_DS_SAME && t->wa)
				P->changed_params += t->size;
			if (P->status == KS_DS_SAME || P->status == KS_DS_CHANGED) {
				if (t->status == KS_DS_RESHAPED || t->status == KS_DS_ADDED || t->status == KS_DS_REMOVED)
					P->status = KS_DS_RESHAPED;
				else if (t->status == KS_DS_CHANGED)
					P->status = KS_DS_CHANGED;
			}
		}
		if (t->status != KS_DS_SAME && t->wa)
			d->params_changed += t->size;
	}
	d->n_layers_added = d->n_layers_removed = d->n_layers_renamed = d->n_layers_config = 0;
	for (int i = 0; i < d->n_layers; i++) {
		ks_diff_layer *L = &d->layers[i];
		d->n_layers_added += L->status == KS_DS_ADDED;
		d->n_layers_removed += L->status == KS_DS_REMOVED;
		d->n_layers_renamed += L->la && L->lb && strcmp(L->la->name, L->lb->name) != 0;
		d->n_layers_config += L->n_changes > 0;
	}
}

/* A dataset that declares more values than its storage can hold (a
 * truncated file, or a hostile one declaring a huge shape over unwritten
 * chunks) would make the comparison read fill values for as long as the
 * shape says: refuse it before reading anything. Deflate packs at most
 * about 1032:1, so a filtered dataset may be up to 1100 times its storage. */
static int check_storage(const ks_model *m, const ks_weight *w, int64_t numel, ks_err *err)
{
	ks_storage st;
	size_t es = ks_dtype_size(w->dtype);
	if (!ks_file_has_h5(m) || w->mem || !es || numel == 0)
		return 0;
	if (ks_file_storage(m, w, &st, err) < 0)
		return ks_err_prefix(err, "%s", m->path);
	if (st.layout == KS_LAYOUT_MEMORY || st.layout == KS_LAYOUT_COMPACT || st.layout == KS_LAYOUT_VIRTUAL)
		return 0;
	double raw = (double)numel * (double)es, have = (double)st.stored_bytes;
	if (have <= 0 || raw > have * (st.n_filters ? 1100.0 : 1.0))
		return ks_fail(err, "%s: weight %s declares %lld values but the file stores %lld bytes of them "
		               "(truncated or damaged)", m->path, w->h5_path ? w->h5_path : w->name,
		               (long long)numel, (long long)st.stored_bytes);
	return 0;
}

int ks_diff_compare(ks_diff *d, ks_err *err)
{
	progress pg = {0, 0};
	int rc = 0;
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < (pass ? d->n_opt_tensors : d->n_tensors); i++) {
			ks_diff_tensor *t = pass ? &d->opt_tensors[i] : &d->tensors[i];
			if (t->wa && t->wb && t->status == KS_DS_SAME &&
			    (check_storage(d->a, t->wa, t->size, err) < 0 || check_storage(d->b, t->wb, t->size, err) < 0))
				return -1;
		}
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < (pass ? d->n_opt_tensors : d->n_tensors); i++) {
			ks_diff_tensor *t = pass ? &d->opt_tensors[i] : &d->tensors[i];
			if (t->wa && t->wb && t->status == KS_DS_SAME)
				pg.total += t->size;
		}
	float *ba = ks_xmalloc(KS_DIFF_BLOCK * sizeof *ba), *bb = ks_xmalloc(KS_DIFF_BLOCK * sizeof *bb);
	for (int pass = 0; pass < 2 && rc == 0; pass++)
		for (int i = 0; i < (pass ? d->n_opt_tensors : d->n_tensors) && rc == 0; i++) {
			ks_diff_tensor *t = pass ? &d->opt_tensors[i] : &d->tensors[i];
			if (t->wa && t->wb && t->status == KS_DS_SAME && !t->compared)
				rc = compare_tensor(d, t, pass ? -1 - i : i, ba, bb, &pg, err);
		}
	free(ba);
	free(bb);
	if (rc < 0)
		return -1;
	roll_up(d);
	for (int i = 0; i < d->n_layers; i++)
		if (!d->layers[i].la || !d->layers[i].la->inner)
			find_permutation(d, &d->layers[i]);
	/* optimizer step counts */
	for (int s = 0; s < 2; s++) {
		const ks_model *m = s ? d->b : d->a;
		ks_diff_side_opt *so = s ? &d->opt_b : &d->opt_a;
		for (int i = 0; i < m->n_opt_weights && !so->has_step; i++) {
			const ks_weight *w = &m->opt_weights[i];
			const char *base = strrchr(w->name, '/');
			base = base ? base + 1 : w->name;
			bool counter = !strcmp(base, "iter") || !strcmp(base, "iterations") ||
			               !strcmp(base, "iteration");
			float v;
			if (w->rank == 0 && counter && ks_weight_read(m, w, &v, NULL) == 0) {
				so->has_step = true;
				so->step = (int64_t)v;
			}
		}
	}
	d->compared = true;
	return 0;
}

bool ks_diff_weights_identical(const ks_diff *d)
{
	return d->n_changed == 0 && d->n_reshaped == 0 && d->n_added == 0 && d->n_removed == 0;
}

bool ks_diff_identical(const ks_diff *d)
{
	if (!ks_diff_weights_identical(d) || d->n_layers_added || d->n_layers_removed ||
	    d->n_layers_config)
		return false;
	for (int i = 0; i < d->n_model_changes; i++)
		if (!d->model_changes[i].info)
			return false;
	if (d->outputs.ran && d->outputs.first_divergence >= 0)
		return false;
	return true;
}

bool ks_diff_any_difference(const ks_diff *d)
{
	if (!ks_diff_identical(d) || d->n_training_changes || d->opt_a.present != d->opt_b.present)
		return true;
	for (int i = 0; i < d->n_opt_tensors; i++)
		if (d->opt_tensors[i].status != KS_DS_SAME)
			return true;
	return false;
}
