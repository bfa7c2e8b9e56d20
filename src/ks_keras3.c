#include "config.h"

#include "ks_keras3.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ks_arch.h"
#include "ks_graph.h"
#include "ks_h5.h"
#include "ks_index.h"
#include "ks_util.h"
#include "ks_varnames.h"
#include "ks_zip.h"

/* Text members (config.json, metadata.json, an architecture file) larger
 * than this are not configs. */
#define KS_K3_MAX_JSON (256u << 20)
#define KS_K3_MAX_META (16u << 20)
/* Nesting of sub-objects inside one layer's group (cell inside a wrapped
 * layer inside a wrapper...) and of models inside models. */
#define KS_K3_MAX_DEPTH 32

static const char K3_WEIGHTS[] = "model.weights.h5";
/* STORED weights members at least this big are used in place (mapped);
 * smaller ones are copied, which also verifies their CRC. */
#define KS_K3_INPLACE_MIN (8u << 20)

/* ---- JSON ------------------------------------------------------------- */

/* Python's json.dumps writes NaN, Infinity and -Infinity for non-finite
 * floats (allow_nan=True); jansson rejects them. Outside strings they become
 * null, which keeps the document readable and every other value intact. */
static char *json_sanitize(const char *s, size_t n, size_t *outn)
{
	/* Each replacement turns 3 bytes into 4 at worst. */
	char *o = ks_xmalloc(2 * n + 16);
	size_t i = 0, k = 0;
	bool in_str = false;

	while (i < n) {
		char c = s[i];
		if (in_str) {
			o[k++] = c;
			if (c == '\\' && i + 1 < n) {
				o[k++] = s[i + 1];
				i += 2;
				continue;
			}
			if (c == '"')
				in_str = false;
			i++;
			continue;
		}
		if (c == '"') {
			in_str = true;
			o[k++] = c;
			i++;
			continue;
		}
		if (n - i >= 3 && memcmp(s + i, "NaN", 3) == 0) {
			memcpy(o + k, "null", 4);
			k += 4;
			i += 3;
			continue;
		}
		if (n - i >= 9 && memcmp(s + i, "-Infinity", 9) == 0) {
			memcpy(o + k, "null", 4);
			k += 4;
			i += 9;
			continue;
		}
		if (n - i >= 8 && memcmp(s + i, "Infinity", 8) == 0) {
			memcpy(o + k, "null", 4);
			k += 4;
			i += 8;
			continue;
		}
		/* Python ints have no size limit (a seed of 2**64 is valid JSON
		 * to it); jansson stops at int64. Such integers read as reals. */
		if ((c == '-' || (c >= '0' && c <= '9')) &&
		    (i == 0 || !(isalnum((unsigned char)s[i - 1]) || s[i - 1] == '.'))) {
			size_t j = i + (c == '-'), digits = 0;
			bool plain = true;
			while (j < n && (isdigit((unsigned char)s[j]) || s[j] == '.' || s[j] == 'e' ||
			                 s[j] == 'E' || s[j] == '+' || s[j] == '-')) {
				if (isdigit((unsigned char)s[j]))
					digits++;
				else
					plain = false;
				j++;
			}
			memcpy(o + k, s + i, j - i);
			k += j - i;
			if (plain && digits > 18) {
				memcpy(o + k, ".0", 2);
				k += 2;
			}
			i = j;
			continue;
		}
		o[k++] = c;
		i++;
	}
	*outn = k;
	return o;
}

/* Parses a JSON text; returns a new reference or NULL with "LABEL: ..." */
static json_t *parse_json(const char *buf, size_t n, const char *label, ks_err *err)
{
	json_error_t je;
	json_t *j;
	size_t sn;
	char *s;

	s = json_sanitize(buf, n, &sn);
	j = json_loadb(s, sn, 0, &je);
	free(s);
	if (!j) {
		ks_fail(err, "%s: not valid JSON (line %d: %s)", label, je.line, je.text);
		return NULL;
	}
	return j;
}

/* ---- small string helpers --------------------------------------------- */

static char *join(const char *a, const char *b)
{
	if (!a || !a[0])
		return ks_xstrdup(b);
	if (!b || !b[0])
		return ks_xstrdup(a);
	return ks_xasprintf("%s/%s", a, b);
}

static bool is_sequential(const ks_model *m)
{
	return m->class_name && strcmp(ks_class_basename(m->class_name), "Sequential") == 0;
}

/* ---- weights of one object group -------------------------------------- */

typedef struct wlist {
	ks_weight *w;
	int n, cap;
} wlist;

static ks_weight *wl_push(wlist *l)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 8;
		l->w = ks_xrealloc(l->w, (size_t)l->cap * sizeof *l->w);
	}
	memset(&l->w[l->n], 0, sizeof l->w[0]);
	return &l->w[l->n++];
}

static void weight_clear(ks_weight *w)
{
	free(w->name);
	free(w->stored_name);
	free(w->h5_path);
	free(w->mem);
}

/* Order in which Keras lists the sub-objects' weights (layer.weights), which
 * differs from the sorted attribute order of the store. */
static int child_rank(const char *name)
{
	static const char *const order[] = {
		"cell", "layer", "forward_layer", "backward_layer",
		"query_dense", "_query_dense", "key_dense", "_key_dense",
		"value_dense", "_value_dense", "output_dense", "_output_dense", NULL };
	int i;

	for (i = 0; order[i]; i++)
		if (strcmp(name, order[i]) == 0)
			return i;
	return 100;
}

static int cmp_child(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	int rx = child_rank(x), ry = child_rank(y);

	if (rx != ry)
		return rx < ry ? -1 : 1;
	return strcmp(x, y);
}

/* A set of object addresses: a hostile file can hard-link a group into its
 * own subtree, and walking such a graph as a tree would never end (depth
 * limits alone still allow exponential fan-out). Every group is walked once. */
typedef struct aset {
	haddr_t *v;
	size_t cap, n;
} aset;

static size_t aset_slot(const aset *s, haddr_t a)
{
	size_t i = (size_t)((a * 0x9E3779B97F4A7C15ull) >> 7) & (s->cap - 1);

	while (s->v[i] != HADDR_UNDEF && s->v[i] != a)
		i = (i + 1) & (s->cap - 1);
	return i;
}

/* Adds a; false when it was already there. */
static bool aset_add(aset *s, haddr_t a)
{
	size_t i;

	if (2 * (s->n + 1) > s->cap) {
		aset big = { NULL, s->cap ? 2 * s->cap : 64, 0 };
		big.v = ks_xmalloc(big.cap * sizeof *big.v);
		for (i = 0; i < big.cap; i++)
			big.v[i] = HADDR_UNDEF;
		for (i = 0; i < s->cap; i++)
			if (s->v[i] != HADDR_UNDEF)
				big.v[aset_slot(&big, s->v[i])] = s->v[i];
		big.n = s->n;
		free(s->v);
		*s = big;
	}
	i = aset_slot(s, a);
	if (s->v[i] == a)
		return false;
	s->v[i] = a;
	s->n++;
	return true;
}

/* Kind of the object a direct child link `name` of loc points to. Only
 * hard links count: Keras writes no others, and following a soft or
 * external link could leave the file. One lookup, relative to an open
 * group: walking absolute paths again and again is what makes big models
 * slow to open. */
static ks_h5_kind child_kind(hid_t loc, const char *name)
{
	H5L_info_t li;
	H5O_info_t oi;

	if (H5Lget_info(loc, name, &li, H5P_DEFAULT) < 0 || li.type != H5L_TYPE_HARD)
		return KS_H5_NONE;
	if (H5Oget_info_by_name2(loc, name, &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0)
		return KS_H5_NONE;
	return oi.type == H5O_TYPE_GROUP ? KS_H5_GROUP
	     : oi.type == H5O_TYPE_DATASET ? KS_H5_DATASET : KS_H5_OTHER;
}

typedef struct k3ctx {
	ks_model *root;
	hid_t file;
	const char *label;     /* file name used in messages */
	aset seen;             /* groups already walked by collect() */
} k3ctx;

/* The variables of the vars group `vg` (open; absolute path vpath). */
static int collect_vars(k3ctx *c, hid_t vg, const char *vpath, const char *rel, const char *cls,
                        const json_t *cfg, const char *prefix, wlist *l, ks_err *err)
{
	char **vars = NULL, **names;
	bool *tr;
	int nv = 0, nd = 0, i, rc = 0;
	char *srel;

	if (ks_h5_links(vg, ".", KS_H5_ORDER_NATURAL, &vars, &nv, err) < 0)
		return ks_err_prefix(err, "%s: %s", c->label, vpath);
	/* Only datasets are variables (a vars group holds nothing else in
	 * files Keras writes). */
	for (i = 0; i < nv; i++) {
		if (child_kind(vg, vars[i]) == KS_H5_DATASET)
			vars[nd++] = vars[i];
		else
			free(vars[i]);
	}
	names = ks_xcalloc((size_t)(nd ? nd : 1), sizeof *names);
	tr = ks_xcalloc((size_t)(nd ? nd : 1), sizeof *tr);
	ks_varnames(cls, cfg, nd, names, tr);
	srel = join(rel, "vars");
	for (i = 0; i < nd; i++) {
		ks_weight *w = wl_push(l);
		w->h5_path = join(vpath, vars[i]);
		w->stored_name = join(srel, vars[i]);
		w->name = join(prefix, names[i]);
		w->trainable = tr[i];
		if (rc == 0 && ks_h5_dataset_info(vg, vars[i], &w->rank, w->shape, &w->dtype, err) < 0) {
			/* The message names the dataset relative to its group:
			 * name it by its full path instead. */
			char why[KS_ERR_MAX];
			size_t nl = strlen(vars[i]);
			const char *m = err ? err->msg : "";
			if (strncmp(m, vars[i], nl) == 0 && m[nl] == ':' && m[nl + 1] == ' ')
				m += nl + 2;
			snprintf(why, sizeof why, "%s", m);
			rc = ks_fail(err, "%s: %s: %s", c->label, w->h5_path, why);
		}
	}
	for (i = 0; i < nd; i++)
		free(names[i]);
	free(srel);
	ks_h5_strv_free(vars, nd);
	free(names);
	free(tr);
	return rc;
}

/* Appends the variables stored for the object at group gid (open; absolute
 * path gpath) and its sub-objects to l. rel is the group's path relative to
 * the layer (for stored names), prefix the semantic prefix. skip_layers: the
 * group's "layers" (Keras 2.14: "_layer_checkpoint_dependencies") child
 * belongs to a nested model, not to this object. */
static int collect_at(k3ctx *c, hid_t gid, const char *gpath, const char *rel, const char *cls,
                      const json_t *cfg, const char *prefix, bool skip_layers, int depth,
                      wlist *l, ks_err *err)
{
	char **kids = NULL;
	int nk = 0, i, rc = 0;
	H5O_info_t oi;

	if (depth > KS_K3_MAX_DEPTH)
		return ks_fail(err, "%s: group %s is nested too deeply", c->label, gpath);
	if (H5Oget_info2(gid, &oi, H5O_INFO_BASIC) < 0 || !aset_add(&c->seen, oi.addr)) {
		ks_model_warn(c->root, "group %s is linked more than once: its variables are "
		              "listed once", gpath);
		return 0;
	}
	if (child_kind(gid, "vars") == KS_H5_GROUP) {
		hid_t vg = H5Gopen2(gid, "vars", H5P_DEFAULT);
		char *vpath = join(gpath, "vars");
		if (vg < 0)
			rc = ks_fail(err, "%s: cannot open %s", c->label, vpath);
		else
			rc = collect_vars(c, vg, vpath, rel, cls, cfg, prefix, l, err);
		if (vg >= 0)
			H5Gclose(vg);
		free(vpath);
		if (rc < 0)
			return -1;
	}

	if (ks_h5_links(gid, ".", KS_H5_ORDER_NAME, &kids, &nk, err) < 0)
		return ks_err_prefix(err, "%s: %s", c->label, gpath);
	ks_qsort(kids, (size_t)nk, sizeof *kids, cmp_child);
	for (i = 0; i < nk && rc == 0; i++) {
		const char *ccls, *cpfx;
		const json_t *ccfg;
		char *cg, *crel, *cp;
		hid_t sub;

		if (strcmp(kids[i], "vars") == 0 ||
		    (skip_layers && (strcmp(kids[i], "layers") == 0 ||
		                     strcmp(kids[i], "_layer_checkpoint_dependencies") == 0)))
			continue;
		/* A random layer's SeedGenerator state is RNG bookkeeping, not a
		 * weight (Keras' count_params leaves it out too). */
		if (strcmp(kids[i], "seed_generator") == 0 || strcmp(kids[i], "_seed_generator") == 0)
			continue;
		if (child_kind(gid, kids[i]) != KS_H5_GROUP)
			continue;
		sub = H5Gopen2(gid, kids[i], H5P_DEFAULT);
		if (sub < 0)
			continue;
		ks_varnames_child(cls, cfg, kids[i], &ccls, &ccfg, &cpfx);
		cg = join(gpath, kids[i]);
		crel = join(rel, kids[i]);
		cp = join(prefix, cpfx);
		rc = collect_at(c, sub, cg, crel, ccls, ccfg, cp, false, depth + 1, l, err);
		H5Gclose(sub);
		free(cg);
		free(crel);
		free(cp);
	}
	ks_h5_strv_free(kids, nk);
	return rc;
}

/* collect_at for the group at absolute path gpath. */
static int collect(k3ctx *c, const char *gpath, const char *rel, const char *cls,
                   const json_t *cfg, const char *prefix, bool skip_layers, int depth, wlist *l,
                   ks_err *err)
{
	hid_t gid;
	int rc;

	if (ks_h5_kind_of(c->file, gpath) != KS_H5_GROUP)
		return 0;
	gid = H5Gopen2(c->file, gpath, H5P_DEFAULT);
	if (gid < 0)
		return ks_fail(err, "%s: cannot open group %s", c->label, gpath);
	rc = collect_at(c, gid, gpath, rel, cls, cfg, prefix, skip_layers, depth, l, err);
	H5Gclose(gid);
	return rc;
}

static int attach(k3ctx *c, ks_layer *ly, const char *gpath, int depth, ks_err *err)
{
	wlist l = {0};
	int i;

	if (collect(c, gpath, "", ly->class_name, ly->config, "", ly->inner != NULL, depth, &l,
	            err) < 0) {
		for (i = 0; i < l.n; i++)
			weight_clear(&l.w[i]);
		free(l.w);
		return -1;
	}
	/* A layer gets weights once; a second group for it would be a bug. */
	for (i = 0; i < ly->n_weights; i++)
		weight_clear(&ly->weights[i]);
	free(ly->weights);
	ly->weights = l.w;
	ly->n_weights = l.n;
	/* Keras 3 quantized layers store integer kernels whose values only
	 * mean something times their scale: worth saying out loud. */
	for (i = 0; i < l.n; i++)
		if (strcmp(l.w[i].name, "kernel_scale") == 0 ||
		    strcmp(l.w[i].name, "embeddings_scale") == 0) {
			ks_model_warn(c->root, "layer %s is quantized (%s kernel with %s): stored values "
			              "are not the effective weights", ly->name,
			              ks_dtype_name(l.w[0].dtype), l.w[i].name);
			break;
		}
	return 0;
}

/* ---- matching layers to groups ---------------------------------------- */

/* One candidate group of a container: its name and the `name` attribute on
 * its vars group (Keras >= 3.10), if any. */
typedef struct gent {
	char *group;
	char *attr_name;
	bool used;
} gent;

static void gents_free(gent *g, int n)
{
	for (int i = 0; i < n; i++) {
		free(g[i].group);
		free(g[i].attr_name);
	}
	free(g);
}

static int list_groups(k3ctx *c, const char *dir, gent **out, int *n, ks_err *err)
{
	char **names = NULL;
	int nn = 0, i;
	hid_t dg;
	gent *g;

	*out = NULL;
	*n = 0;
	if (ks_h5_kind_of(c->file, dir) != KS_H5_GROUP)
		return 0;
	dg = H5Gopen2(c->file, dir, H5P_DEFAULT);
	if (dg < 0)
		return ks_fail(err, "%s: cannot open group %s", c->label, dir);
	if (ks_h5_links(dg, ".", KS_H5_ORDER_NAME, &names, &nn, err) < 0) {
		H5Gclose(dg);
		return ks_err_prefix(err, "%s: %s", c->label, dir);
	}
	g = ks_xcalloc((size_t)(nn ? nn : 1), sizeof *g);
	for (i = 0; i < nn; i++) {
		char *vp = ks_xasprintf("%s/vars", names[i]);
		ks_err e2;
		g[i].group = names[i];
		if (child_kind(dg, names[i]) != KS_H5_GROUP ||
		    ks_h5_attr_str(dg, vp, "name", &g[i].attr_name, &e2) < 0)
			g[i].attr_name = NULL;
		free(vp);
	}
	H5Gclose(dg);
	free(names);
	*out = g;
	*n = nn;
	return 0;
}

/* The groups of one container, hashed by group name and by the name
 * attribute of their vars (ks_index.h): a container of thousands of layers
 * looks each one up in O(1). */
typedef struct groups {
	gent *g;
	int n;
	ks_index by_group, by_attr;
} groups;

static const char *gent_group(const void *a, int i)
{
	return ((const gent *)a)[i].group;
}

static const char *gent_attr(const void *a, int i)
{
	return ((const gent *)a)[i].attr_name;
}

static void groups_index(groups *gs)
{
	ks_index_extend(&gs->by_group, gs->g, gs->n, gent_group);
	ks_index_extend(&gs->by_attr, gs->g, gs->n, gent_attr);
}

static void groups_free(groups *gs)
{
	gents_free(gs->g, gs->n);
	ks_index_free(&gs->by_group);
	ks_index_free(&gs->by_attr);
}

static gent *find_group(const groups *gs, const char *name, bool by_attr)
{
	int i = by_attr ? ks_index_find(&gs->by_attr, gs->g, gent_attr, name)
	                : ks_index_find(&gs->by_group, gs->g, gent_group, name);
	return i >= 0 ? &gs->g[i] : NULL;
}

typedef struct counter {
	char *name;
	int count;
} counter;

/* saving_lib._save_container_state: the first object of a class is
 * "<snake>", the next ones "<snake>_1", "<snake>_2", ... per container. */
static char *next_name(counter **cs, int *nc, const char *cls)
{
	char *snake = ks_snake_case(cls);
	char *r;
	int i;

	for (i = 0; i < *nc; i++) {
		if (strcmp((*cs)[i].name, snake) == 0) {
			r = ks_xasprintf("%s_%d", snake, ++(*cs)[i].count);
			free(snake);
			return r;
		}
	}
	*cs = ks_xrealloc(*cs, (size_t)(*nc + 1) * sizeof **cs);
	(*cs)[*nc].name = snake;
	(*cs)[*nc].count = 0;
	(*nc)++;
	return ks_xstrdup(snake);
}

static int map_container(k3ctx *c, ks_model *cm, const char *gpath, bool keras2, int depth,
                         ks_err *err);

static void set_file(ks_model *m, hid_t f)
{
	m->file = f;
	for (int i = 0; i < m->n_layers; i++)
		if (m->layers[i].inner) {
			m->layers[i].inner->owns_file = false;
			m->layers[i].inner->format = m->format;
			set_file(m->layers[i].inner, f);
		}
}

/* Maps the layers of model cm onto the groups below gpath ("" for the file
 * root): Keras 3 `layers/<snake>[_k]`, Keras 2.14
 * `_layer_checkpoint_dependencies/<layer name>`. */
static int map_container(k3ctx *c, ks_model *cm, const char *gpath, bool keras2, int depth,
                         ks_err *err)
{
	char *dir = ks_xasprintf("%s/%s", gpath, keras2 ? "_layer_checkpoint_dependencies" : "layers");
	groups gs = {0};
	gent *g;
	int ng, nc = 0, i, rc = 0;
	counter *cs = NULL;
	bool seq = is_sequential(cm), any_attr = false;

	if (depth > KS_GRAPH_MAX_NESTING) {
		free(dir);
		return ks_fail(err, "%s: models nested too deeply", c->label);
	}
	if (list_groups(c, dir, &gs.g, &gs.n, err) < 0) {
		free(dir);
		return -1;
	}
	groups_index(&gs);
	g = gs.g;
	ng = gs.n;
	for (i = 0; i < ng; i++)
		any_attr |= g[i].attr_name != NULL;

	for (i = 0; i < cm->n_layers && rc == 0; i++) {
		ks_layer *ly = &cm->layers[i];
		const char *cls = ly->class_name ? ly->class_name : "?";
		char *expect = NULL;
		gent *hit = NULL;

		/* Sequential.layers leaves out its InputLayer (ours may be
		 * synthesised); Functional.layers lists it. */
		if (seq && strcmp(ks_class_basename(cls), "InputLayer") == 0)
			continue;
		expect = next_name(&cs, &nc, cls);
		/* Keras >= 3.10 names the layer on its vars group: the surest
		 * link. Older files only have the order: saving_lib names each
		 * object by its class and a per-container counter (Keras 2.13
		 * and 2.14 too, under _layer_checkpoint_dependencies). */
		if (any_attr)
			hit = find_group(&gs, ly->name, true);
		if (!hit)
			hit = find_group(&gs, expect, false);
		/* A Keras 2 "Model" class is a Functional in Keras 3. */
		if (!hit && ly->inner && strcmp(expect, "model") == 0) {
			free(expect);
			expect = next_name(&cs, &nc, "Functional");
			hit = find_group(&gs, expect, false);
		}
		/* Last resort for writers that used the layer name. */
		if (!hit && keras2)
			hit = find_group(&gs, ly->name, false);
		if (!hit && strcmp(ks_class_basename(cls), "InputLayer") == 0) {
			/* Input layers hold no weights; whether a container
			 * lists them (Functional) or not (Sequential, and
			 * custom subclasses of it) only decides this group. */
			free(expect);
			continue;
		}
		if (!hit) {
			/* Weightless layers of old writers may have no group:
			 * only worth a note, never an error. */
			ks_model_warn(c->root, "no weights group for layer %s (%s) under %s%s%s",
			              ly->name, cls, dir, expect ? ", expected " : "", expect ? expect : "");
			free(expect);
			continue;
		}
		if (hit->used)
			ks_model_warn(c->root, "weights group %s/%s matched twice (layer %s)", dir,
			              hit->group, ly->name);
		hit->used = true;
		{
			char *gp = ks_xasprintf("%s/%s", dir, hit->group);
			free(ly->store_path);
			ly->store_path = ks_xstrdup(gp + 1); /* without the root's '/' */
			rc = attach(c, ly, gp, depth, err);
			if (rc == 0 && ly->inner)
				rc = map_container(c, ly->inner, gp, keras2, depth + 1, err);
			free(gp);
		}
		free(expect);
	}
	/* Groups holding variables that no layer claimed (a subclassed model's
	 * extra attributes, a config that does not fit the file). */
	for (i = 0; i < ng && rc == 0; i++) {
		if (!g[i].used) {
			char *gp = ks_xasprintf("%s/%s", dir, g[i].group);
			wlist l = {0};
			if (collect(c, gp, "", "?", NULL, "", false, depth, &l, err) == 0 && l.n > 0)
				ks_model_warn(c->root, "weights group %s (%d variables) matches no layer "
				              "of the config", gp, l.n);
			for (int k = 0; k < l.n; k++)
				weight_clear(&l.w[k]);
			free(l.w);
			free(gp);
		}
	}
	for (i = 0; i < nc; i++)
		free(cs[i].name);
	free(cs);
	groups_free(&gs);
	free(dir);
	return rc;
}

/* ---- listing layers without a config ---------------------------------- */

/* "dense_3" -> "dense", *k = 3 ("dense" -> "dense", 0): the snake name
 * without Keras' per-container counter. */
static char *strip_counter(const char *g, long *k)
{
	size_t n = strlen(g), i = n;

	*k = 0;
	while (i > 0 && g[i - 1] >= '0' && g[i - 1] <= '9')
		i--;
	if (i < n && i > 1 && g[i - 1] == '_' && n - i < 9) {
		*k = strtol(g + i, NULL, 10);
		return ks_xstrndup(g, i - 1);
	}
	return ks_xstrdup(g);
}

typedef struct gaddr {
	char *name;
	char *base;
	long k;
	haddr_t addr;
} gaddr;

static int cmp_addr(const void *a, const void *b)
{
	const gaddr *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int cmp_counter(const void *a, const void *b)
{
	const gaddr *x = *(const gaddr *const *)a, *y = *(const gaddr *const *)b;

	return x->k < y->k ? -1 : x->k > y->k;
}

/* Smallest raw-data address of the datasets below group p (HADDR_UNDEF if
 * none). Raw data is allocated in write order and, unlike object headers,
 * never lands in space freed by metadata (HDF5 keeps raw data and metadata
 * free space apart), so it dates an object's weights reliably. */
static haddr_t data_addr(hid_t g, int depth, aset *seen)
{
	char **kids = NULL;
	int nk = 0;
	haddr_t best = HADDR_UNDEF;
	H5O_info_t oi;
	ks_err e;

	if (depth > KS_K3_MAX_DEPTH || H5Oget_info2(g, &oi, H5O_INFO_BASIC) < 0 ||
	    !aset_add(seen, oi.addr) || ks_h5_links(g, ".", KS_H5_ORDER_NAME, &kids, &nk, &e) < 0)
		return HADDR_UNDEF;
	for (int i = 0; i < nk; i++) {
		ks_h5_kind kd = child_kind(g, kids[i]);
		haddr_t a = HADDR_UNDEF;
		if (kd == KS_H5_DATASET) {
			hid_t d = H5Dopen2(g, kids[i], H5P_DEFAULT);
			if (d >= 0) {
				a = H5Dget_offset(d);
				H5Dclose(d);
			}
		} else if (kd == KS_H5_GROUP) {
			hid_t sub = H5Gopen2(g, kids[i], H5P_DEFAULT);
			if (sub >= 0) {
				a = data_addr(sub, depth + 1, seen);
				H5Gclose(sub);
			}
		}
		if (a != HADDR_UNDEF && (best == HADDR_UNDEF || a < best))
			best = a;
	}
	ks_h5_strv_free(kids, nk);
	return best;
}

/* Children of dir in the order the writer created them. h5py does not
 * track link creation order by default and name order is wrong (dense_10 <
 * dense_2). Within one class the Keras counter gives the exact order; across
 * classes the address of the object's first weights does (object header
 * addresses do not: HDF5 reuses freed metadata space for new groups). Groups
 * without data fall back to their header address. */
static int groups_in_creation_order(k3ctx *c, const char *dir, char ***out, int *n, ks_err *err)
{
	char **names = NULL;
	int nn = 0, i, j, k = 0;
	gaddr *ga;
	gaddr **same;
	aset seen = {0};

	hid_t dg;

	*out = NULL;
	*n = 0;
	dg = H5Gopen2(c->file, dir, H5P_DEFAULT);
	if (dg < 0)
		return ks_fail(err, "%s: cannot open group %s", c->label, dir);
	if (ks_h5_links(dg, ".", KS_H5_ORDER_NAME, &names, &nn, err) < 0) {
		H5Gclose(dg);
		return ks_err_prefix(err, "%s: %s", c->label, dir);
	}
	ga = ks_xcalloc((size_t)(nn ? nn : 1), sizeof *ga);
	for (i = 0; i < nn; i++) {
		H5O_info_t oi;
		hid_t sub = child_kind(dg, names[i]) == KS_H5_GROUP
		          ? H5Gopen2(dg, names[i], H5P_DEFAULT) : H5I_INVALID_HID;
		if (sub >= 0 && H5Oget_info2(sub, &oi, H5O_INFO_BASIC) >= 0) {
			haddr_t a = data_addr(sub, 0, &seen);
			ga[k].name = names[i];
			ga[k].base = strip_counter(names[i], &ga[k].k);
			ga[k].addr = a != HADDR_UNDEF ? a : oi.addr;
			k++;
		} else {
			free(names[i]);
		}
		if (sub >= 0)
			H5Gclose(sub);
	}
	H5Gclose(dg);
	free(names);
	free(seen.v);
	ks_qsort(ga, (size_t)k, sizeof *ga, cmp_addr);
	/* Within each class, put the members back in counter order into the
	 * slots that class occupies. */
	same = ks_xcalloc((size_t)(k ? k : 1), sizeof *same);
	for (i = 0; i < k; i++) {
		int m = 0;
		int *slot;
		if (!ga[i].base)
			continue;
		slot = ks_xcalloc((size_t)k, sizeof *slot);
		for (j = i; j < k; j++)
			if (ga[j].base && strcmp(ga[j].base, ga[i].base) == 0) {
				same[m] = ks_xmalloc(sizeof **same);
				*same[m] = ga[j];
				slot[m++] = j;
			}
		ks_qsort(same, (size_t)m, sizeof *same, cmp_counter);
		for (j = 0; j < m; j++) {
			ga[slot[j]] = *same[j];
			free(ga[slot[j]].base);
			ga[slot[j]].base = NULL;  /* placed */
			free(same[j]);
		}
		free(slot);
	}
	free(same);
	*out = ks_xcalloc((size_t)(k ? k : 1), sizeof **out);
	for (i = 0; i < k; i++)
		(*out)[i] = ga[i].name;
	*n = k;
	free(ga);
	return 0;
}

/* Class whose snake name is s, among the classes ks_varnames knows: only to
 * name the variables; the layer's class stays "?" (snake case cannot be
 * inverted in general). */
static const char *guess_class(const char *s)
{
	static const char *const known[] = {
		"Dense", "EinsumDense", "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose",
		"Conv2DTranspose", "Conv3DTranspose", "DepthwiseConv1D", "DepthwiseConv2D",
		"SeparableConv1D", "SeparableConv2D", "BatchNormalization", "LayerNormalization",
		"GroupNormalization", "Embedding", "PReLU", "LSTM", "GRU", "SimpleRNN", "ConvLSTM1D",
		"ConvLSTM2D", "ConvLSTM3D", "Normalization", "MultiHeadAttention", "QDense",
		"QConv1D", "QConv2D", "LSTMCell", "GRUCell", "SimpleRNNCell", "Bidirectional",
		"TimeDistributed", NULL };
	long cnt;
	char *base = strip_counter(s, &cnt);
	const char *r = "?";

	for (int i = 0; known[i]; i++) {
		char *k = ks_snake_case(known[i]);
		bool eq = strcmp(k, base) == 0;
		free(k);
		if (eq) {
			r = known[i];
			break;
		}
	}
	free(base);
	return r;
}

static ks_layer *add_layer(ks_model *m, const char *name)
{
	ks_layer *ly;

	m->layers = ks_xrealloc(m->layers, (size_t)(m->n_layers + 1) * sizeof *m->layers);
	ly = &m->layers[m->n_layers++];
	memset(ly, 0, sizeof *ly);
	ly->name = ks_xstrdup(name);
	ly->class_name = ks_xstrdup("?");
	ly->config = ks_model_keep_json(m, json_object());
	ly->trainable = true;
	return ly;
}

/* Root groups that are not layers: the optimizer, the model's own vars, and
 * the metric and loss trackers a compiled subclassed model carries as
 * attributes (_compile_metrics, _loss_tracker, ...). */
static bool skip_top(const char *name)
{
	static const char *const words[] = { "metric", "loss", "tracker", NULL };

	if (strcmp(name, "optimizer") == 0 || strcmp(name, "vars") == 0)
		return true;
	for (int i = 0; words[i]; i++)
		if (strcasestr(name, words[i]))
			return true;
	return false;
}

/* No usable config: one layer per object group, from the file alone. */
static int list_from_file(k3ctx *c, ks_model *m, ks_err *err)
{
	const char *dirs[] = { "/layers", "/_layer_checkpoint_dependencies" };
	char **g = NULL;
	int ng = 0, i, d;

	for (d = 0; d < 2; d++) {
		if (ks_h5_kind_of(c->file, dirs[d]) != KS_H5_GROUP)
			continue;
		if (groups_in_creation_order(c, dirs[d], &g, &ng, err) < 0)
			return -1;
		for (i = 0; i < ng; i++) {
			char *gp = join(dirs[d], g[i]);
			ks_layer *ly = add_layer(m, g[i]);
			wlist l = {0};
			int rc = collect(c, gp, "", guess_class(g[i]), NULL, "", false, 0, &l, err);
			free(gp);
			ly->weights = l.w;
			ly->n_weights = l.n;
			if (rc < 0) {
				ks_h5_strv_free(g, ng);
				return -1;
			}
		}
		ks_h5_strv_free(g, ng);
	}
	/* Keras 2.14 on Windows joined paths with backslashes: a subclassed
	 * model's attributes become root groups named like
	 * "dec\_layer_checkpoint_dependencies\conv2d_transpose". Any other
	 * root group holding variables is an object of its own too. */
	if (groups_in_creation_order(c, "/", &g, &ng, err) < 0)
		return -1;
	for (i = 0; i < ng; i++) {
		char *gp, *nm, *p;
		wlist l = {0};
		int rc;

		if (skip_top(g[i]) || strcmp(g[i], "layers") == 0 ||
		    strcmp(g[i], "_layer_checkpoint_dependencies") == 0)
			continue;
		gp = join("", g[i]);
		nm = ks_xstrdup(g[i]);
		for (p = nm; *p; p++)
			if (*p == '\\')
				*p = '/';
		gp = ks_xrealloc(gp, strlen(gp) + 2);
		memmove(gp + 1, gp, strlen(gp) + 1);
		gp[0] = '/';
		p = strrchr(nm, '/');
		rc = collect(c, gp, "", guess_class(p ? p + 1 : nm), NULL, "", false, 0, &l, err);
		free(gp);
		if (rc == 0 && l.n > 0) {
			ks_layer *ly = add_layer(m, nm);
			ly->weights = l.w;
			ly->n_weights = l.n;
		} else {
			for (int k = 0; k < l.n; k++)
				weight_clear(&l.w[k]);
			free(l.w);
		}
		free(nm);
		if (rc < 0) {
			ks_h5_strv_free(g, ng);
			return -1;
		}
	}
	ks_h5_strv_free(g, ng);
	return 0;
}

/* ---- optimizer state ---------------------------------------------------- */

static void collect_trainable(const ks_model *m, const ks_layer ***owners, const ks_weight ***ws,
                              int *n)
{
	for (int i = 0; i < m->n_layers; i++) {
		const ks_layer *ly = &m->layers[i];
		if (!ly->trainable)
			continue;
		for (int k = 0; k < ly->n_weights; k++) {
			if (!ly->weights[k].trainable)
				continue;
			*owners = ks_xrealloc(*owners, (size_t)(*n + 1) * sizeof **owners);
			*ws = ks_xrealloc(*ws, (size_t)(*n + 1) * sizeof **ws);
			(*owners)[*n] = ly;
			(*ws)[*n] = &ly->weights[k];
			(*n)++;
		}
		if (ly->inner)
			collect_trainable(ly->inner, owners, ws, n);
	}
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

static const char *slot_name(const char *opt, int k, int s)
{
	static const char *const adam2[] = { "momentum", "velocity" };
	static const char *const adam3[] = { "momentum", "velocity", "velocity_hat" };

	if (opt && (strstr(opt, "Adam") || strstr(opt, "adam") || strstr(opt, "Nadam") ||
	            strstr(opt, "Lamb"))) {
		if (k == 2)
			return adam2[s];
		if (k == 3)
			return adam3[s];
	}
	if (opt && strstr(opt, "SGD") && k == 1)
		return "momentum";
	if (opt && strstr(opt, "RMSprop") && k == 1)
		return "velocity";
	return NULL;
}

/* optimizer/vars/N: the optimizer's own scalars (iteration, learning rate),
 * then the slots of each trainable variable in model.trainable_variables
 * order, interleaved (Adam: momentum, velocity of each variable). Named
 * "<layer>/<weight>/<slot>" when the shapes confirm that reading. */
static int load_optimizer(k3ctx *c, ks_model *m, ks_err *err)
{
	wlist l = {0};
	const ks_layer **owners = NULL;
	const ks_weight **ws = NULL;
	int nt = 0, i, k, h, best_k = 0, best_h = -1;

	if (ks_h5_kind_of(c->file, "/optimizer") != KS_H5_GROUP)
		return 0;
	if (collect(c, "/optimizer", "optimizer", "?", NULL, "", false, 0, &l, err) < 0)
		goto fail;
	collect_trainable(m, &owners, &ws, &nt);
	for (h = 0; h <= 2 && h <= l.n && nt > 0 && best_h < 0; h++) {
		int rest = l.n - h;
		if (rest <= 0 || rest % nt != 0)
			continue;
		k = rest / nt;
		if (k > 3)
			continue;
		for (i = 0; i < h; i++)
			if (l.w[i].rank != 0)
				break;
		if (i < h)
			continue;
		for (i = 0; i < rest; i++)
			if (!same_shape(&l.w[h + i], ws[i / k]))
				break;
		if (i == rest) {
			best_h = h;
			best_k = k;
		}
	}
	if (best_h >= 0) {
		const char *opt = m->opt_class;
		for (i = 0; i < best_h; i++) {
			free(l.w[i].name);
			l.w[i].name = ks_xstrdup(i == 0 ? "iteration" : "learning_rate");
		}
		for (i = 0; i < l.n - best_h; i++) {
			const char *sn = slot_name(opt, best_k, i % best_k);
			ks_weight *w = &l.w[best_h + i];
			free(w->name);
			if (sn)
				w->name = ks_xasprintf("%s/%s/%s", owners[i / best_k]->name, ws[i / best_k]->name, sn);
			else
				w->name = ks_xasprintf("%s/%s/slot_%d", owners[i / best_k]->name,
				                       ws[i / best_k]->name, i % best_k);
		}
	} else {
		for (i = 0; i < l.n; i++) {
			free(l.w[i].name);
			l.w[i].name = ks_xstrdup(l.w[i].stored_name);
		}
	}
	for (i = 0; i < l.n; i++)
		l.w[i].trainable = false;
	m->opt_weights = l.w;
	m->n_opt_weights = l.n;
	free(owners);
	free(ws);
	return 0;
fail:
	for (i = 0; i < l.n; i++)
		weight_clear(&l.w[i]);
	free(l.w);
	return -1;
}

/* ---- common tail -------------------------------------------------------- */

static void set_opt_class(ks_model *m)
{
	const json_t *o = m->compile_config ? json_object_get(m->compile_config, "optimizer") : NULL;
	const json_t *cn = json_is_object(o) ? json_object_get(o, "class_name") : NULL;

	if (json_is_string(cn) && !m->opt_class)
		m->opt_class = ks_xstrdup(json_string_value(cn));
	else if (json_is_string(o) && !m->opt_class)
		m->opt_class = ks_xstrdup(json_string_value(o));
}

/* ks_graph_build into a scratch model, moved into m only when it succeeds,
 * so that a config the graph builder rejects (an exotic custom layer's
 * call arguments, say) leaves m clean: the file still opens, its layers
 * listed from the weights, with the reason as a warning. The fields moved
 * are those ks_graph.h says the builder fills. */
static int build_graph(ks_model *m, const json_t *cfg, ks_err *err)
{
	ks_model *t = ks_model_new(m->path);
	int i;

	t->format = m->format;
	t->file = m->file;
	t->owns_file = false;
	t->keras_version = m->keras_version ? ks_xstrdup(m->keras_version) : NULL;
	t->backend = m->backend ? ks_xstrdup(m->backend) : NULL;
	if (ks_graph_build(t, cfg, err) < 0) {
		ks_model_free(t);
		return -1;
	}
	m->class_name = t->class_name;
	m->name = t->name;
	/* The layers' configs point into this document: it must live on. */
	if (!m->model_config)
		m->model_config = t->model_config;
	else if (t->model_config)
		ks_model_keep_json(m, t->model_config);
	t->model_config = NULL;
	m->layers = t->layers;
	m->n_layers = t->n_layers;
	m->inputs = t->inputs;
	m->n_inputs = t->n_inputs;
	m->outputs = t->outputs;
	m->n_outputs = t->n_outputs;
	if (t->owned_json) {
		if (!m->owned_json)
			m->owned_json = json_incref(t->owned_json);
		else
			json_array_extend(m->owned_json, t->owned_json);
	}
	for (i = 0; i < t->n_warnings; i++)
		ks_model_warn(m, "%s", t->warnings[i]);
	for (i = 0; i < m->n_layers; i++)
		if (m->layers[i].inner)
			m->layers[i].inner->parent = m;
	t->class_name = t->name = NULL;
	t->layers = NULL;
	t->n_layers = 0;
	t->inputs = t->outputs = NULL;
	t->n_inputs = t->n_outputs = 0;
	ks_model_free(t);
	return 0;
}

/* Graph (when cfg has layers) and weights of an open weights store. */
static int load_tree_ctx(k3ctx *cx, ks_model *m, const json_t *cfg, ks_err *err)
{
	bool keras2 = ks_h5_kind_of(m->file, "/_layer_checkpoint_dependencies") == KS_H5_GROUP &&
	              ks_h5_kind_of(m->file, "/layers") != KS_H5_GROUP;
	bool graph_failed = false;

	if (keras2 && m->format == KS_FMT_KERAS3)
		m->format = KS_FMT_KERAS2_ZIP;
	if (cfg) {
		ks_err gerr;
		if (build_graph(m, cfg, &gerr) < 0) {
			graph_failed = true;
			ks_model_warn(m, "the model config cannot be read as a graph (%s): layers are "
			              "listed from the weights file", gerr.msg);
			if (!m->model_config)
				m->model_config = json_incref((json_t *)cfg);
			if (!m->class_name && json_is_string(json_object_get(cfg, "class_name")))
				m->class_name = ks_xstrdup(json_string_value(json_object_get(cfg, "class_name")));
		}
		set_file(m, m->file);
	}
	if (m->n_layers > 0) {
		if (map_container(cx, m, "", keras2, 0, err) < 0)
			return -1;
	} else {
		if (cfg && !graph_failed)
			ks_model_warn(m, "the config lists no layers (a subclassed model?): "
			              "layers are listed from the weights file");
		if (list_from_file(cx, m, err) < 0)
			return -1;
	}
	set_opt_class(m);
	{
		/* Optimizer state is not needed to inspect or run the model. */
		ks_err oerr;
		if (load_optimizer(cx, m, &oerr) < 0)
			ks_model_warn(m, "optimizer state not loaded: %s", oerr.msg);
	}
	ks_model_count_params(m);
	return 0;
}

/* ---- weights stores written on Windows ---------------------------------
 * tf.keras 2.15 and early Keras 3 joined the store's paths with os.path.join,
 * so on Windows a layer's group is one root link named "layers\\conv1d"
 * (vars below it with '/': "layers\\conv1d/vars/0"); later Keras replaces
 * '\\' by '/' when saving (saving_lib.py, keras-team/keras#18528). Such a
 * store is reopened as a private in-memory copy in which every backslash
 * name is relinked at the path it stands for, so the rest of the loader
 * sees the layout Keras meant. The input file is never written. */

bool ks_keras3_windows_store(hid_t f)
{
	char **names = NULL;
	int n = 0;
	bool found = false;

	if (ks_h5_links(f, "/", KS_H5_ORDER_NAME, &names, &n, NULL) < 0)
		return false;
	for (int i = 0; i < n && !found; i++)
		found = ks_str_startswith(names[i], "layers\\") ||
		        ks_str_startswith(names[i], "_layer_checkpoint_dependencies\\") ||
		        ks_str_startswith(names[i], "optimizer\\");
	ks_h5_strv_free(names, n);
	return found;
}

static int cmp_len(const void *a, const void *b)
{
	size_t la = strlen(*(char *const *)a), lb = strlen(*(char *const *)b);
	return la < lb ? -1 : la > lb;
}

/* A writable in-memory copy of the open file f (core driver, no backing
 * store), or H5I_INVALID_HID. */
static hid_t memory_copy(hid_t f, const char *label, ks_err *err)
{
	ssize_t size = H5Fget_file_image(f, NULL, 0);
	hid_t fapl, nf = H5I_INVALID_HID;
	void *buf;

	if (size <= 0 || (uint64_t)size > ks_mem_budget() / 2 || !(buf = malloc((size_t)size))) {
		ks_fail(err, "%s: no memory for a copy of the weights file to read its Windows paths", label);
		return H5I_INVALID_HID;
	}
	if (H5Fget_file_image(f, buf, (size_t)size) == size && (fapl = H5Pcreate(H5P_FILE_ACCESS)) >= 0) {
		if (H5Pset_fapl_core(fapl, 1 << 20, 0) >= 0 && H5Pset_file_image(fapl, buf, (size_t)size) >= 0)
			nf = H5Fopen("kerascope-windows-store", H5F_ACC_RDWR, fapl);
		H5Pclose(fapl);
	}
	free(buf);
	if (nf < 0)
		ks_fail(err, "%s: cannot copy the weights file to read its Windows paths", label);
	return nf;
}

static int relink_windows(ks_model *m, const char *label, ks_err *err)
{
	char **names = NULL;
	int n = 0, moved = 0;
	hid_t nf, lcpl;

	if (!ks_keras3_windows_store(m->file))
		return 0;
	if ((nf = memory_copy(m->file, label, err)) < 0)
		return -1;
	if (ks_h5_links(nf, "/", KS_H5_ORDER_NAME, &names, &n, err) < 0) {
		H5Fclose(nf);
		return -1;
	}
	/* Shorter names first: a model's own group exists before the groups
	 * of its layers are linked below it. */
	ks_qsort(names, (size_t)n, sizeof *names, cmp_len);
	lcpl = H5Pcreate(H5P_LINK_CREATE);
	H5Pset_create_intermediate_group(lcpl, 1);
	for (int i = 0; i < n; i++) {
		char *to;
		if (!strchr(names[i], '\\'))
			continue;
		to = ks_xstrdup(names[i]);
		for (char *q = to; *q; q++)
			if (*q == '\\')
				*q = '/';
		if (ks_h5_kind_of(nf, to) != KS_H5_NONE)
			ks_model_warn(m, "weights group '%s' is also stored as '%s': the latter is ignored",
			              to, names[i]);
		else if (H5Lcreate_hard(nf, names[i], nf, to, lcpl, H5P_DEFAULT) >= 0 &&
		         H5Ldelete(nf, names[i], H5P_DEFAULT) >= 0)
			moved++;
		free(to);
	}
	H5Pclose(lcpl);
	ks_h5_strv_free(names, n);
	if (m->owns_file)
		H5Fclose(m->file);
	m->file = nf;
	m->owns_file = true;
	ks_model_warn(m, "saved on Windows: %d weights group%s named with '\\' as the path "
	              "separator, read as '/' (keras-team/keras#18528)", moved, moved == 1 ? "" : "s");
	return 0;
}

static int load_tree(ks_model *m, const json_t *cfg, const char *label, ks_err *err)
{
	if (relink_windows(m, label, err) < 0)
		return -1;
	k3ctx c = { .root = m, .file = m->file, .label = label };
	int rc = load_tree_ctx(&c, m, cfg, err);

	free(c.seen.v);
	return rc;
}

/* ---- opening the weights member as an HDF5 image ---------------------- */

/* HDF5's core driver normally copies a file image. These file image
 * callbacks hand it our bytes themselves instead (as H5LT's DONT_COPY mode
 * does, without H5LT's leak of its bookkeeping), either a mapping of the
 * archive or a malloc'd copy of the member, and release them when HDF5 is
 * done. Three kinds of holders are counted: property lists holding the
 * image, the open core file (which keeps the callbacks' udata without
 * taking a reference to it: it only calls image_free at close), and udata
 * references. Read-only: nothing ever reallocates or writes the image. */
typedef struct k3img {
	void *base;                 /* the mapping (page aligned) or the malloc'd copy */
	size_t len;
	bool mapped;
	const unsigned char *image; /* the member's first byte inside base */
	size_t size;
	int plist_refs, file_refs, udata_refs;
} k3img;

static void img_destroy(k3img *mp)
{
	if (mp->mapped)
		munmap(mp->base, mp->len);
	else
		free(mp->base);
	free(mp);
}

static void img_release_if_unused(k3img *mp)
{
	if (mp->plist_refs <= 0 && mp->file_refs <= 0 && mp->udata_refs <= 0)
		img_destroy(mp);
}

static void *img_malloc(size_t size, H5FD_file_image_op_t op, void *ud)
{
	k3img *mp = ud;

	if (size != mp->size)
		return NULL;
	switch (op) {
	case H5FD_FILE_IMAGE_OP_PROPERTY_LIST_SET:
	case H5FD_FILE_IMAGE_OP_PROPERTY_LIST_COPY:
		mp->plist_refs++;
		break;
	case H5FD_FILE_IMAGE_OP_FILE_OPEN:
		mp->file_refs++;
		break;
	default:
		/* PROPERTY_LIST_GET would hand the caller a buffer to free:
		 * never done here. */
		return NULL;
	}
	return (void *)(uintptr_t)mp->image;
}

static void *img_memcpy(void *dest, const void *src, size_t size, H5FD_file_image_op_t op,
                        void *ud)
{
	k3img *mp = ud;

	(void)src;
	(void)op;
	/* The destination is the image itself: nothing to copy. */
	return dest == mp->image && size == mp->size ? dest : NULL;
}

static void *img_realloc(void *ptr, size_t size, H5FD_file_image_op_t op, void *ud)
{
	(void)ptr;
	(void)size;
	(void)op;
	(void)ud;
	return NULL;
}

static herr_t img_free(void *ptr, H5FD_file_image_op_t op, void *ud)
{
	k3img *mp = ud;

	(void)ptr;
	if (op == H5FD_FILE_IMAGE_OP_FILE_CLOSE)
		mp->file_refs--;
	else if (op == H5FD_FILE_IMAGE_OP_PROPERTY_LIST_CLOSE)
		mp->plist_refs--;
	img_release_if_unused(mp);
	return 0;
}

static void *img_udata_copy(void *ud)
{
	((k3img *)ud)->udata_refs++;
	return ud;
}

static herr_t img_udata_free(void *ud)
{
	k3img *mp = ud;

	mp->udata_refs--;
	img_release_if_unused(mp);
	return 0;
}

static const unsigned char HDF5_SIG[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

/* Opens the image read-only; takes ownership of mp (released when the file
 * closes, or here on failure). */
static hid_t open_image(k3img *mp)
{
	static unsigned serial;
	H5FD_file_image_callbacks_t cb = { img_malloc, img_memcpy, img_realloc, img_free,
	                                   img_udata_copy, img_udata_free, mp };
	char name[64];
	hid_t fapl, f = H5I_INVALID_HID;

	fapl = H5Pcreate(H5P_FILE_ACCESS);
	if (fapl < 0 || H5Pset_fapl_core(fapl, 1 << 20, 0) < 0 ||
	    H5Pset_file_image_callbacks(fapl, &cb) < 0) {
		/* The callbacks never took a reference: the image is ours. */
		if (fapl >= 0)
			H5Pclose(fapl);
		img_destroy(mp);
		return H5I_INVALID_HID;
	}
	/* From here HDF5 holds the udata; the last close releases the image. */
	if (H5Pset_file_image(fapl, (void *)(uintptr_t)mp->image, mp->size) >= 0) {
		snprintf(name, sizeof name, "kerascope_keras_member_%u", ++serial);
		f = H5Fopen(name, H5F_ACC_RDONLY, fapl);
	}
	H5Pclose(fapl);
	return f < 0 ? H5I_INVALID_HID : f;
}

/* Opens the STORED weights member in place: maps the archive's pages
 * that hold it (MAP_PRIVATE, so even a stray write could never reach the
 * file) and opens them as an HDF5 image. Weights are then read lazily, page
 * by page, like a plain .weights.h5 — a multi-GB .keras opens instantly.
 * Caveat of any mapping: if another process truncates the archive while it
 * is open, later reads fault. Returns H5I_INVALID_HID without a message
 * when this is not possible; the caller then copies the member. */
static hid_t open_in_place(ks_zip *z, const char *path, uint64_t *size_out)
{
	uint64_t off, size, start;
	long pg = sysconf(_SC_PAGESIZE);
	k3img *mp;
	hid_t f;
	int fd;

	if (pg <= 0 || ks_zip_member_span(z, K3_WEIGHTS, &off, &size) < 0 ||
	    size < KS_K3_INPLACE_MIN || size > SIZE_MAX / 2)
		return H5I_INVALID_HID;
	start = off - off % (uint64_t)pg;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return H5I_INVALID_HID;
	mp = ks_xcalloc(1, sizeof *mp);
	mp->len = (size_t)(off - start + size);
	mp->mapped = true;
	mp->base = mmap(NULL, mp->len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, (off_t)start);
	close(fd);
	if (mp->base == MAP_FAILED) {
		free(mp);
		return H5I_INVALID_HID;
	}
	mp->image = (const unsigned char *)mp->base + (off - start);
	mp->size = (size_t)size;
	if (memcmp(mp->image, HDF5_SIG, sizeof HDF5_SIG) != 0) {
		img_destroy(mp);
		return H5I_INVALID_HID;
	}
	f = open_image(mp);
	if (f >= 0)
		*size_out = size;
	return f;
}

/* Opens a malloc'd copy of the member (ownership passes to the file). */
static hid_t open_copy(void *buf, size_t n, const char *label, ks_err *err)
{
	k3img *mp;
	hid_t f;

	if (n < sizeof HDF5_SIG || memcmp(buf, HDF5_SIG, sizeof HDF5_SIG) != 0) {
		free(buf);
		ks_fail(err, "%s: not an HDF5 file", label);
		return H5I_INVALID_HID;
	}
	mp = ks_xcalloc(1, sizeof *mp);
	mp->base = buf;
	mp->len = n;
	mp->image = buf;
	mp->size = n;
	f = open_image(mp);
	if (f < 0)
		ks_fail(err, "%s: cannot open as HDF5 (truncated or damaged)", label);
	return f;
}

static char *dup_json_str(const json_t *o, const char *key)
{
	const json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;

	return json_is_string(v) ? ks_xstrdup(json_string_value(v)) : NULL;
}

static json_t *read_json_member(ks_zip *z, const char *path, const char *name, uint64_t max,
                                ks_err *err)
{
	void *buf;
	size_t n;
	char label[600];
	json_t *j;

	if (ks_zip_read(z, name, max, &buf, &n, err) < 0)
		return NULL;
	snprintf(label, sizeof label, "%s: %s", path, name);
	j = parse_json(buf, n, label, err);
	free(buf);
	return j;
}

/* Available memory bound for the in-memory weights store. */
int ks_keras3_load_zip(ks_model *m, const ks_open_opts *opts, ks_err *err)
{
	ks_zip *z;
	json_t *cfg = NULL, *meta = NULL;
	const json_t *cc;
	char label[600];
	void *img = NULL;
	size_t isz = 0;
	int rc = -1;

	(void)opts;
	m->format = KS_FMT_KERAS3;
	z = ks_zip_open(m->path, err);
	if (!z)
		return -1;
	if (!ks_zip_has(z, "config.json")) {
		ks_fail(err, "%s: not a Keras model archive (no config.json member)", m->path);
		goto out;
	}
	if (!ks_zip_has(z, K3_WEIGHTS)) {
		if (ks_zip_has(z, "model.weights.npz"))
			ks_fail(err, "%s: weights are stored as model.weights.npz, which is not supported",
			        m->path);
		else
			ks_fail(err, "%s: the archive has no %s member (no weights)", m->path, K3_WEIGHTS);
		goto out;
	}
	if (ks_zip_has(z, "metadata.json")) {
		/* Keras never reads metadata.json back: a damaged one costs the
		 * version line, not the model. */
		ks_err merr;
		meta = read_json_member(z, m->path, "metadata.json", KS_K3_MAX_META, &merr);
		if (!meta) {
			ks_model_warn(m, "%s", merr.msg);
		} else if (!json_is_object(meta)) {
			ks_model_warn(m, "metadata.json is not a JSON object");
		} else {
			m->keras_version = dup_json_str(meta, "keras_version");
			m->date_saved = dup_json_str(meta, "date_saved");
			m->backend = dup_json_str(meta, "backend");
			m->metadata = json_incref(meta);
		}
	} else {
		ks_model_warn(m, "the archive has no metadata.json (Keras version unknown)");
	}
	cfg = read_json_member(z, m->path, "config.json", KS_K3_MAX_JSON, err);
	if (!cfg)
		goto out;
	if (!json_is_object(cfg) || !json_is_string(json_object_get(cfg, "class_name"))) {
		ks_fail(err, "%s: config.json is not a Keras model config (no class_name)", m->path);
		goto out;
	}
	cc = json_object_get(cfg, "compile_config");
	if (json_is_object(cc) && json_object_size(cc) > 0)
		m->compile_config = json_incref((json_t *)cc);

	/* HDF5 cannot open a file at an offset inside another (a userblock
	 * would need the superblock at 512, 1024, ... which zip writers never
	 * arrange), and a temporary file is out of the question. So a big
	 * STORED member (what Keras writes) is mapped and opened in place;
	 * a small or DEFLATED one is read into memory (CRC checked) and opened
	 * from there with HDF5's core driver, the file owning the buffer.
	 * Limit of the copy: the member must fit in RAM (checked against
	 * physical memory). */
	snprintf(label, sizeof label, "%s:%s", m->path, K3_WEIGHTS);
	{
		uint64_t sz = 0;
		m->file = open_in_place(z, m->path, &sz);
		if (m->file != H5I_INVALID_HID)
			m->image_size = (size_t)sz;
	}
	if (m->file == H5I_INVALID_HID) {
		if (ks_zip_read(z, K3_WEIGHTS, ks_mem_budget(), &img, &isz, err) < 0)
			goto out;
		/* The buffer now belongs to the HDF5 file (released at close). */
		m->image_size = isz;
		m->file = open_copy(img, isz, label, err);
		if (m->file == H5I_INVALID_HID)
			goto out;
	}
	m->owns_file = true;
	if (m->keras_version && m->keras_version[0] == '2')
		m->format = KS_FMT_KERAS2_ZIP;
	rc = load_tree(m, cfg, label, err);
out:
	json_decref(cfg);
	json_decref(meta);
	ks_zip_close(z);
	return rc;
}

int ks_keras3_load_weights(ks_model *m, const ks_open_opts *opts, ks_err *err)
{
	json_t *doc = NULL;
	const json_t *cfg = NULL;
	int rc;

	m->format = KS_FMT_KERAS3_WEIGHTS;
	if (ks_arch_from_opts(opts, &doc, err) < 0)
		return -1;
	if (doc && opts->load_order == KS_LOAD_BY_NAME) {
		/* saving_api.load_weights refuses it: Keras 3 stores are read by
		 * object path (ks_loadorder.h). */
		json_decref(doc);
		return ks_fail(err, "%s: Keras loads a .weights.h5 by object path only (`by_name` only "
		               "supports loading legacy '.h5' or '.hdf5' files): use --load-order "
		               "topological", m->path);
	}
	if (doc) {
		const json_t *cc;
		cfg = doc;
		cc = json_object_get(doc, "compile_config");
		if (json_is_object(cc) && json_object_size(cc) > 0 && !m->compile_config)
			m->compile_config = json_incref((json_t *)cc);
		if (!m->keras_version)
			m->keras_version = dup_json_str(doc, "keras_version");
		if (!m->backend)
			m->backend = dup_json_str(doc, "backend");
	}
	rc = load_tree(m, cfg, m->path, err);
	json_decref(doc);
	return rc;
}

/* ---- vocabularies (TextVectorization, StringLookup, IntegerLookup) ------
 * index_lookup.py: a vocabulary given to the constructor is in the config
 * ("vocabulary": [...]); an adapted one is written by save_assets as
 * assets/<the layer's store path>/vocabulary.txt, one token a line (the
 * mask and OOV tokens first), trailing empty lines dropped on load. */

#define KS_K3_MAX_VOCAB (64u << 20)

static const ks_model *root_of(const ks_model *m)
{
	while (m->parent)
		m = m->parent;
	return m;
}

static int vocab_from_text(char *buf, size_t n, char ***out, int *count)
{
	int cap = 64, k = 0;
	char **v = ks_xmalloc((size_t)cap * sizeof *v);
	size_t start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && buf[i] != '\n')
			continue;
		if (k == cap) {
			cap *= 2;
			v = ks_xrealloc(v, (size_t)cap * sizeof *v);
		}
		v[k++] = ks_xstrndup(buf + start, i - start);
		start = i + 1;
	}
	while (k > 0 && v[k - 1][0] == '\0')
		free(v[--k]);
	*out = v;
	*count = k;
	return 0;
}

int ks_keras3_vocabulary(const ks_model *m, const ks_layer *L, char ***tokens, int *n,
                         char **source, ks_err *err)
{
	const json_t *v = json_object_get(L->config, "vocabulary");
	const ks_model *root = root_of(m);

	*tokens = NULL;
	*n = 0;
	*source = NULL;
	if (json_is_array(v)) {
		size_t i;
		json_t *e;
		*tokens = ks_xcalloc(json_array_size(v) + 1, sizeof **tokens);
		json_array_foreach(v, i, e) {
			(*tokens)[(*n)++] = json_is_string(e) ? ks_xstrdup(json_string_value(e))
			                                       : json_dumps(e, JSON_ENCODE_ANY);
		}
		*source = ks_xstrdup("the layer config");
		return 1;
	}
	if (json_is_string(v)) {
		*source = ks_xasprintf("the file %s named by the config (not in the model file)",
		                       json_string_value(v));
		return 0;
	}
	if ((root->format == KS_FMT_KERAS3 || root->format == KS_FMT_KERAS2_ZIP) && root->path &&
	    L->store_path) {
		char *member = ks_xasprintf("assets/%s/vocabulary.txt", L->store_path);
		ks_zip *z = ks_zip_open(root->path, err);
		void *buf = NULL;
		size_t size = 0;
		int rc = 0;
		if (!z) {
			free(member);
			return -1;
		}
		if (ks_zip_has(z, member)) {
			if (ks_zip_read(z, member, KS_K3_MAX_VOCAB, &buf, &size, err) < 0) {
				rc = -1;
			} else {
				vocab_from_text(buf, size, tokens, n);
				*source = ks_xasprintf("%s:%s", root->path, member);
				rc = 1;
			}
			free(buf);
		}
		ks_zip_close(z);
		free(member);
		return rc;
	}
	return 0;
}
