#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ks_arch.h"
#include "ks_graph.h"
#include "ks_h5.h"
#include "ks_legacy.h"
#include "ks_loadorder.h"
#include "ks_util.h"

bool ks_legacy_detect(hid_t file)
{
	return ks_h5_has_attr(file, ".", "model_config") || ks_h5_has_attr(file, ".", "layer_names") ||
	       ks_h5_has_attr(file, ".", "layer_names0") ||
	       ks_h5_has_attr(file, "model_weights", "layer_names") ||
	       ks_h5_has_attr(file, "model_weights", "layer_names0");
}

/* ---- JSON ----------------------------------------------------------------- */

/* Python's json.dumps writes bare NaN / Infinity / -Infinity, which jansson
 * rejects: rewrite them (outside strings) as null / +-1e308. */
static char *patch_nonfinite(const char *text, size_t len, size_t *outlen)
{
	char *o = ks_xmalloc(len * 2 + 16);
	size_t k = 0;
	bool in_str = false, esc = false;

	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (in_str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
		} else if (c == '"') {
			in_str = true;
		} else if (c == 'N' && len - i >= 3 && memcmp(text + i, "NaN", 3) == 0) {
			memcpy(o + k, "null", 4);
			k += 4;
			i += 2;
			continue;
		} else if (c == 'I' && len - i >= 8 && memcmp(text + i, "Infinity", 8) == 0) {
			memcpy(o + k, "1e308", 5);
			k += 5;
			i += 7;
			continue;
		}
		o[k++] = c;
	}
	o[k] = '\0';
	*outlen = k;
	return o;
}

json_t *ks_json_parse(const char *text, size_t len, const char *what, ks_err *err)
{
	json_error_t je;
	json_t *j;
	char *clean = NULL;
	size_t clen = len;
	int depth = 0;
	bool in_str = false, esc = false, nonfinite = false;

	/* Nesting is bounded before jansson (which recurses) sees the text. */
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (in_str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == '"') {
			in_str = true;
		} else if (c == '[' || c == '{') {
			if (++depth > KS_JSON_MAX_DEPTH) {
				ks_fail(err, "%s: JSON nested deeper than %d levels", what, KS_JSON_MAX_DEPTH);
				return NULL;
			}
		} else if (c == ']' || c == '}') {
			depth--;
		} else if (c == 'N' || c == 'I') {
			nonfinite = true;
		}
	}
	if (nonfinite)
		clean = patch_nonfinite(text, len, &clen);
	j = json_loadb(clean ? clean : text, clen, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	free(clean);
	if (!j) {
		ks_fail(err, "%s: not valid JSON: %s (line %d, column %d)", what, je.text, je.line,
		        je.column);
		return NULL;
	}
	return j;
}

/* ---- attribute helpers ------------------------------------------------------ */

/* Keras splits long name lists into attr0, attr1, ... (HDF5 object header
 * limit, load_attributes_from_hdf5_group). */
static int read_names(hid_t f, const char *obj, const char *attr, char ***out, int *n, ks_err *err)
{
	char **acc = NULL;
	int nacc = 0;

	*out = NULL;
	*n = 0;
	if (ks_h5_has_attr(f, obj, attr))
		return ks_h5_attr_strv(f, obj, attr, out, n, err);
	for (int chunk = 0; chunk < 100000; chunk++) {
		char *name = ks_xasprintf("%s%d", attr, chunk);
		char **v;
		int k;
		if (!ks_h5_has_attr(f, obj, name)) {
			free(name);
			break;
		}
		if (ks_h5_attr_strv(f, obj, name, &v, &k, err) < 0) {
			free(name);
			ks_h5_strv_free(acc, nacc);
			return -1;
		}
		free(name);
		acc = ks_xrealloc(acc, (size_t)(nacc + k + 1) * sizeof *acc);
		memcpy(acc + nacc, v, (size_t)k * sizeof *v);
		nacc += k;
		free(v);
	}
	*out = acc;
	*n = nacc;
	return 0;
}

static char *join_path(const char *group, const char *name)
{
	if (strcmp(group, "/") == 0)
		return ks_xasprintf("/%s", name);
	return ks_xasprintf("%s/%s", group, name);
}

/* ---- semantic names ---------------------------------------------------------- */

/* Drops a TensorFlow ":N" suffix. */
static char *strip_suffix(const char *s)
{
	const char *colon = strrchr(s, ':');
	if (colon && colon[1]) {
		const char *p = colon + 1;
		while (*p >= '0' && *p <= '9')
			p++;
		if (!*p)
			return ks_xstrndup(s, (size_t)(colon - s));
	}
	return ks_xstrdup(s);
}

/* "lstm_1_W_i" -> "W_i" for layer lstm_1; "dense/kernel:0" -> "kernel";
 * "global/shared/dense_1/xxx/yyy_W:0" -> "W" for layer "dense_1/xxx/yyy"
 * (Keras 1 names weights "<layer>_<var>", and layer names may hold '/'). */
static char *semantic_name(const char *stored, const char *layer_name)
{
	char *rel = strip_suffix(stored);
	const char *last = strrchr(rel, '/');
	size_t ln = strlen(layer_name);
	char *out = NULL;

	for (size_t p = 0; rel[p] && !out; p++) {
		const char *rest;
		if (p > 0 && rel[p - 1] != '/')
			continue;
		if (strncmp(rel + p, layer_name, ln) != 0 || rel[p + ln] != '_')
			continue;
		rest = rel + p + ln + 1;
		if (rest[0] && !strchr(rest, '/'))
			out = ks_xstrdup(rest);
	}
	if (!out) {
		last = last ? last + 1 : rel;
		out = ks_xstrdup(last[0] ? last : rel);
	}
	free(rel);
	return out;
}

/* The name of the layer a single-layer wrapper wraps (config.layer.config.name),
 * or NULL. */
static const char *wrapped_name(const ks_layer *L)
{
	const json_t *n = json_object_get(json_object_get(json_object_get(L->config, "layer"), "config"),
	                                  "name");
	return json_is_string(n) ? json_string_value(n) : NULL;
}

/* Parent scope of a weight for disambiguation: "forward_lstm_1" -> "forward". */
static char *scope_prefix(const char *stored)
{
	char *rel = strip_suffix(stored), *out;
	char *last = strrchr(rel, '/');
	char *prev;

	if (!last) {
		/* Keras 1 Bidirectional: "forward_lstm_1_W_i" */
		if (strncmp(rel, "forward_", 8) == 0)
			out = ks_xstrdup("forward");
		else if (strncmp(rel, "backward_", 9) == 0)
			out = ks_xstrdup("backward");
		else
			out = NULL;
		free(rel);
		return out;
	}
	*last = '\0';
	/* Bidirectional's direction may sit above a cell scope
	 * ("bidirectional/forward_lstm/lstm_cell/kernel:0"), so look at every
	 * component before falling back to the immediate parent. */
	out = NULL;
	for (char *c = rel; c && !out; c = strchr(c, '/') ? strchr(c, '/') + 1 : NULL) {
		if (strncmp(c, "forward_", 8) == 0)
			out = ks_xstrdup("forward");
		else if (strncmp(c, "backward_", 9) == 0)
			out = ks_xstrdup("backward");
	}
	if (!out) {
		prev = strrchr(rel, '/');
		out = ks_xstrdup(prev ? prev + 1 : rel);
	}
	free(rel);
	return out;
}

/* Makes semantic names unique inside one layer (Bidirectional's two
 * kernels, MultiHeadAttention's query/key/value kernels). */
static void dedupe_names(ks_layer *L)
{
	for (int a = 0; a < L->n_weights; a++) {
		bool dup = false;
		char *orig;
		for (int b = a + 1; b < L->n_weights; b++)
			if (strcmp(L->weights[a].name, L->weights[b].name) == 0)
				dup = true;
		if (!dup)
			continue;
		orig = ks_xstrdup(L->weights[a].name);
		for (int b = a; b < L->n_weights; b++) {
			ks_weight *w = &L->weights[b];
			char *pre;
			if (strcmp(w->name, orig) != 0)
				continue;
			pre = scope_prefix(w->stored_name);
			if (!pre)
				continue;
			free(w->name);
			w->name = ks_xasprintf("%s/%s", pre, orig);
			free(pre);
		}
		free(orig);
	}
	/* Still ambiguous: fall back to the stored names. */
	for (int a = 0; a < L->n_weights; a++)
		for (int b = a + 1; b < L->n_weights; b++)
			if (strcmp(L->weights[a].name, L->weights[b].name) == 0) {
				free(L->weights[b].name);
				L->weights[b].name = strip_suffix(L->weights[b].stored_name);
			}
}

/* Keras 1 Bidirectional names carry the wrapped layer's name:
 * "forward_lstm_1_W_i" -> "W_i" for the sub-layer "lstm_1". */
static char *strip_bidir_k1(const char *sem, const ks_layer *L)
{
	const char *p = NULL;
	if (strncmp(sem, "forward_", 8) == 0)
		p = sem + 8;
	else if (strncmp(sem, "backward_", 9) == 0)
		p = sem + 9;
	if (!p || !L->config)
		return NULL;
	{
		const json_t *inner = json_object_get(json_object_get(L->config, "layer"), "config");
		const char *iname = json_string_value(json_object_get(inner, "name"));
		size_t n = iname ? strlen(iname) : 0;
		if (iname && strncmp(p, iname, n) == 0 && p[n] == '_' && p[n + 1])
			return ks_xasprintf("%s/%s", sem[0] == 'f' ? "forward" : "backward", p + n + 1);
	}
	return NULL;
}

static bool nontrainable_name(const char *cls, const char *sem)
{
	const char *last = strrchr(sem, '/');
	last = last ? last + 1 : sem;
	if (strcmp(last, "moving_mean") == 0 || strcmp(last, "moving_variance") == 0 ||
	    strcmp(last, "running_mean") == 0 || strcmp(last, "running_std") == 0 ||
	    strcmp(last, "seed_generator_state") == 0)
		return true;
	if (cls && strcmp(cls, "Normalization") == 0 &&
	    (strcmp(last, "mean") == 0 || strcmp(last, "variance") == 0 || strcmp(last, "count") == 0))
		return true;
	return false;
}

/* ---- weights --------------------------------------------------------------- */

static void layer_add_weight(ks_layer *L, const ks_weight *w)
{
	L->weights = ks_xrealloc(L->weights, (size_t)(L->n_weights + 1) * sizeof *L->weights);
	L->weights[L->n_weights++] = *w;
}

/* Fills w from the dataset at rel (relative to loc; its absolute path is
 * dset). Messages name the file and the absolute path. */
static int fill_weight_at(ks_model *m, hid_t loc, const char *rel, const char *dset,
                          const char *stored, ks_weight *w, ks_err *err)
{
	ks_err sub;

	memset(w, 0, sizeof *w);
	if (ks_h5_dataset_info(loc, rel, &w->rank, w->shape, &w->dtype, &sub) < 0) {
		size_t lr = strlen(rel);
		const char *why = strncmp(sub.msg, rel, lr) == 0 && sub.msg[lr] == ':' ? sub.msg + lr + 2
		                                                                       : sub.msg;
		return ks_fail(err, "%s: %s: %s", m->path, dset, why);
	}
	if (w->dtype == KS_DT_STRING || w->dtype == KS_DT_OTHER || w->dtype == KS_DT_UNKNOWN)
		ks_model_warn(m, "%s holds %s data, not numbers", dset, ks_dtype_name(w->dtype));
	{
		/* A shape far beyond what the file could hold (unwritten fill
		 * values) would make every reader allocate it: refuse it here.
		 * Keras writes weights uncompressed, so 64x is generous. */
		int64_t numel, claimed, esize = (int64_t)ks_dtype_size(w->dtype);
		struct stat st;
		if (ks_numel(w->shape, w->rank, &numel) &&
		    !__builtin_mul_overflow(numel, esize ? esize : 1, &claimed) && m->path &&
		    stat(m->path, &st) == 0 && claimed / 64 > (int64_t)st.st_size + (1 << 20))
			return ks_fail(err, "%s: %s claims %lld values, far more than the %lld-byte file can hold",
			               m->path, dset, (long long)numel, (long long)st.st_size);
	}
	w->h5_path = ks_xstrdup(dset);
	w->stored_name = ks_xstrdup(stored);
	w->trainable = true;
	return 0;
}

static int fill_weight(ks_model *m, const char *dset, const char *stored, ks_weight *w,
                       ks_err *err)
{
	return fill_weight_at(m, m->file, dset, dset, stored, w, err);
}

/* The layer of model `in` (searched deeply) that a nested weight name
 * belongs to: the right-most run of path components naming one of its
 * layers ("inner_bn/gamma:0" -> inner_bn). */
static ks_layer *nested_owner(const ks_model *in, const char *stored)
{
	char *rel = strip_suffix(stored);
	char *comp[64];
	int nc = 0;
	ks_layer *found = NULL;

	for (char *p = rel, *s; nc < 64 && (s = strsep(&p, "/")) != NULL;)
		comp[nc++] = s;
	for (int i = nc - 2; i >= 0 && !found; i--) {
		for (int j = i; j >= 0 && !found; j--) {
			size_t len = 0;
			char *cand;
			for (int k = j; k <= i; k++)
				len += strlen(comp[k]) + 1;
			cand = ks_xmalloc(len + 1);
			cand[0] = '\0';
			for (int k = j; k <= i; k++) {
				if (k > j)
					strcat(cand, "/");
				strcat(cand, comp[k]);
			}
			found = ks_model_find_layer(in, cand, true);
			free(cand);
		}
	}
	free(rel);
	return found;
}

static bool layer_frozen(const ks_layer *L)
{
	return !L->trainable;
}

/* Attaches the weights listed in one layer group to layer L (or, for a
 * nested model, to its inner layers). */
static int load_layer_group(ks_model *m, const char *gpath, const char *lname, ks_layer *L,
                            ks_err *err)
{
	char **wn;
	int n, rc = -1;
	/* Lookups relative to the layer group: thousands of layers make
	 * root-relative paths noticeably slower in HDF5 1.10. */
	hid_t g = H5Gopen2(m->file, gpath, H5P_DEFAULT);

	if (g < 0)
		return ks_fail(err, "%s: cannot open group %s", m->path, gpath);
	if (read_names(g, ".", "weight_names", &wn, &n, err) < 0) {
		H5Gclose(g);
		return ks_err_prefix(err, "%s: %s", m->path, gpath);
	}
	for (int k = 0; k < n; k++) {
		char *dset = join_path(gpath, wn[k]);
		ks_weight w;
		ks_layer *owner = L;
		if (fill_weight_at(m, g, wn[k], dset, wn[k], &w, err) < 0) {
			if (ks_h5_kind_of(g, wn[k]) != KS_H5_DATASET)
				ks_fail(err, "%s: weight '%s' of layer '%s' is listed in weight_names but %s does not exist",
				        m->path, wn[k], lname, dset);
			free(dset);
			goto out;
		}
		free(dset);
		if (L->inner) {
			ks_layer *o = nested_owner(L->inner, wn[k]);
			if (o)
				owner = o;
			else
				ks_model_warn(m, "weight %s of nested model %s names none of its layers",
				              wn[k], lname);
		}
		/* Keras 1 names weights after the layer that saved them: the
		 * group's name, which a topological load may give another layer. */
		w.name = semantic_name(wn[k], owner == L ? lname : owner->name);
		if (wrapped_name(owner)) {
			/* Keras 1 wrappers (TimeDistributed) store the wrapped layer's
			 * weights under its own names: timedistributed_1 holds
			 * dense_1_W:0 and dense_1_b:0. Used when the wrapper's own
			 * name explained nothing. */
			char *plain = strip_suffix(wn[k]);
			if (strcmp(plain, w.name) == 0) {
				free(w.name);
				w.name = semantic_name(wn[k], wrapped_name(owner));
			}
			free(plain);
		}
		if (owner == L && L->class_name && strcmp(L->class_name, "Bidirectional") == 0) {
			char *b = strip_bidir_k1(w.name, L);
			if (b) {
				free(w.name);
				w.name = b;
			}
		}
		w.trainable = !nontrainable_name(owner->class_name, w.name) && !layer_frozen(owner);
		layer_add_weight(owner, &w);
	}
	rc = 0;
out:
	ks_h5_strv_free(wn, n);
	H5Gclose(g);
	return rc;
}

static void dedupe_all(ks_model *m)
{
	for (int i = 0; i < m->n_layers; i++) {
		dedupe_names(&m->layers[i]);
		if (m->layers[i].inner)
			dedupe_all(m->layers[i].inner);
	}
}

static ks_layer *append_layer(ks_model *m, const char *name)
{
	ks_layer *L;
	m->layers = ks_xrealloc(m->layers, (size_t)(m->n_layers + 1) * sizeof *m->layers);
	L = &m->layers[m->n_layers++];
	memset(L, 0, sizeof *L);
	L->name = ks_xstrdup(name);
	L->class_name = ks_xstrdup("?");
	L->config = ks_model_keep_json(m, json_object());
	L->trainable = true;
	return L;
}

/* Groups beside the listed layers are ignored by Keras: worth a word. */
static void note_orphan_groups(ks_model *m, const char *wg, char **ln, int n)
{
	char **links;
	int nl;

	if (ks_h5_links(m->file, wg, KS_H5_ORDER_NAME, &links, &nl, NULL) < 0)
		return;
	for (int i = 0; i < nl; i++) {
		bool listed = false;
		size_t len = strlen(links[i]);
		if (strcmp(links[i], "top_level_model_weights") == 0 ||
		    (strcmp(wg, "/") == 0 && (strcmp(links[i], "model_weights") == 0 ||
		                              strcmp(links[i], "optimizer_weights") == 0)))
			continue;
		for (int k = 0; k < n && !listed; k++)
			listed = strncmp(ln[k], links[i], len) == 0 && (ln[k][len] == '\0' || ln[k][len] == '/');
		if (!listed) {
			char *full = join_path(wg, links[i]);
			if (ks_h5_kind_of(m->file, full) == KS_H5_GROUP)
				ks_model_warn(m, "%s is not listed in layer_names (ignored, as Keras does)", full);
			free(full);
		}
	}
	ks_h5_strv_free(links, nl);
}

static bool has_weights(const ks_layer *L)
{
	if (L->n_weights > 0)
		return true;
	if (L->inner)
		for (int i = 0; i < L->inner->n_layers; i++)
			if (has_weights(&L->inner->layers[i]))
				return true;
	return false;
}

/* Keras' default load_weights for .h5 is topological: the k-th layer with
 * weights in the file goes to the k-th layer with weights in the model,
 * whatever the names. Weights are attached here by name; when the two
 * orders disagree, Keras would silently load something else. */
static void note_topological_mismatch(ks_model *m, char **ln, int n)
{
	int k = 0;

	for (int i = 0; i < m->n_layers; i++) {
		const ks_layer *L = &m->layers[i];
		if (!has_weights(L) || strcmp(L->class_name, "?") == 0)
			continue;
		while (k < n) {
			const ks_layer *F = ks_model_find_layer(m, ln[k], false);
			if (F && has_weights(F))
				break;
			k++;
		}
		if (k >= n)
			return;
		if (strcmp(ln[k], L->name) != 0) {
			ks_model_warn(m, "layer_names order differs from the model: Keras' default "
			              "(topological) load_weights would put the weights of '%s' into '%s'; "
			              "they are attached by name here", ln[k], L->name);
			return;
		}
		k++;
	}
}

/* Keras 1 never recorded the backend; say what the names suggest. */
static void note_keras1_backend(ks_model *m)
{
	int n = 0, colon = 0;

	if (m->backend || !m->keras_version || m->keras_version[0] != '1')
		return;
	for (int i = 0; i < m->n_layers; i++)
		for (int k = 0; k < m->layers[i].n_weights; k++) {
			n++;
			colon += strchr(m->layers[i].weights[k].stored_name, ':') != NULL;
		}
	if (n > 0)
		ks_model_warn(m, "Keras 1 file without a backend attribute; weight names %s",
		              colon ? "carry ':0' (TensorFlow)" : "lack ':0' (probably Theano)");
}

/* The number of weights each group lists, for ks_loadmap. */
static ks_lo_group *group_counts(ks_model *m, const char *wg, char **ln, int n, ks_err *err)
{
	ks_lo_group *g = ks_xcalloc((size_t)(n ? n : 1), sizeof *g);

	for (int i = 0; i < n; i++) {
		char *gpath = join_path(wg, ln[i]), **wn;
		int k;
		if (read_names(m->file, gpath, "weight_names", &wn, &k, err) < 0) {
			ks_err_prefix(err, "%s: %s", m->path, gpath);
			free(gpath);
			free(g);
			return NULL;
		}
		ks_h5_strv_free(wn, k);
		free(gpath);
		g[i].name = ln[i];
		g[i].n_weights = k;
	}
	return g;
}

/* The layer group ln[i] goes to, or NULL: by name, or topologically as the
 * loadmap says (groups without weights take no part in that order). */
static ks_layer *target_layer(ks_model *m, const char *group, int n_weights)
{
	const ks_loadmap *lm = m->loadmap;

	if (!lm || lm->used == KS_LOAD_BY_NAME || n_weights == 0)
		return ks_model_find_layer(m, group, false);
	for (int i = 0; i < lm->n_pairs; i++)
		if (lm->pairs[i].topological && strcmp(lm->pairs[i].topological, group) == 0)
			return ks_model_find_layer(m, lm->pairs[i].layer, false);
	return NULL;
}

/* A weights-only file meets an architecture: decide the order (Keras'
 * load_weights semantics, ks_loadorder.h) and refuse what Keras refuses. */
static int plan_load_order(ks_model *m, const char *wg, char **ln, int n, bool keras1,
                           ks_load_order order, ks_err *err)
{
	ks_lo_group *g = group_counts(m, wg, ln, n, err);
	const ks_loadmap *lm;

	if (!g)
		return -1;
	m->loadmap = ks_loadmap_build(m, g, n, keras1, order);
	free(g);
	lm = m->loadmap;
	if (lm->used == KS_LOAD_TOPOLOGICAL && lm->topological_error)
		return ks_fail(err, "%s: Keras' %stopological load_weights fails: %s (--load-order by-name "
		               "loads by layer name)", m->path,
		               order == KS_LOAD_DEFAULT ? "default (" : "", lm->topological_error);
	if (lm->used == KS_LOAD_BY_NAME && lm->by_name_error)
		return ks_fail(err, "%s: Keras' load_weights(by_name=True) fails: %s", m->path,
		               lm->by_name_error);
	for (int i = 0; i < lm->n_pairs; i++)
		if (!ks_loadmap_source(lm, lm->pairs[i].layer))
			ks_model_warn(m, "layer '%s' gets no weights from the file loaded %s (Keras keeps its "
			              "initial values)", lm->pairs[i].layer, ks_load_order_name(lm->used));
	return 0;
}

static int load_weights(ks_model *m, const char *wg, bool have_graph, bool keras1,
                        ks_load_order order, ks_err *err)
{
	char **ln;
	int n;

	if (read_names(m->file, wg, "layer_names", &ln, &n, err) < 0)
		return ks_err_prefix(err, "%s", m->path);
	for (int i = 0; i < n; i++) {
		char *gpath = join_path(wg, ln[i]);
		bool ok = ks_h5_kind_of(m->file, gpath) == KS_H5_GROUP;
		if (!ok)
			ks_fail(err, "%s: layer_names lists '%s' but there is no group %s", m->path, ln[i],
			        gpath);
		free(gpath);
		if (!ok) {
			ks_h5_strv_free(ln, n);
			return -1;
		}
	}
	if (have_graph && m->format == KS_FMT_WEIGHTS_H5 &&
	    plan_load_order(m, wg, ln, n, keras1, order, err) < 0) {
		ks_h5_strv_free(ln, n);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char *gpath = join_path(wg, ln[i]);
		ks_layer *L;
		int nw = 1;
		if (m->loadmap) {
			char **wn;
			if (read_names(m->file, gpath, "weight_names", &wn, &nw, NULL) == 0)
				ks_h5_strv_free(wn, nw);
		}
		/* Config names are searched at the top level only: inner layers of
		 * nested models are stored inside their model's group. */
		L = target_layer(m, ln[i], nw);
		if (!L) {
			if (have_graph)
				ks_model_warn(m, "layer_names lists '%s', which the model config does not have",
				              ln[i]);
			L = append_layer(m, ln[i]);
		}
		if (L->n_weights > 0)
			ks_model_warn(m, "layer '%s' is listed twice in layer_names", ln[i]);
		if (load_layer_group(m, gpath, ln[i], L, err) < 0) {
			free(gpath);
			ks_h5_strv_free(ln, n);
			return -1;
		}
		free(gpath);
	}
	note_orphan_groups(m, wg, ln, n);
	if (have_graph && !m->loadmap)
		note_topological_mismatch(m, ln, n);
	ks_h5_strv_free(ln, n);

	/* tf.keras >= 2.6 / Keras 3: variables of the model object itself. */
	{
		char *tl = join_path(wg, "top_level_model_weights");
		char **wn;
		int k;
		if (ks_h5_kind_of(m->file, tl) == KS_H5_GROUP &&
		    read_names(m->file, tl, "weight_names", &wn, &k, NULL) == 0) {
			if (k > 0) {
				ks_layer *L = append_layer(m, "top_level_model_weights");
				ks_h5_strv_free(wn, k);
				if (load_layer_group(m, tl, L->name, L, err) < 0) {
					free(tl);
					return -1;
				}
				ks_model_warn(m, "the model object has %d weights of its own", L->n_weights);
			}
		}
		free(tl);
	}
	dedupe_all(m);
	return 0;
}

/* ---- optimizer ----------------------------------------------------------- */

typedef struct optacc {
	ks_model *m;
} optacc;

static int opt_visit(const ks_h5_item *it, void *ud, ks_err *err)
{
	optacc *oa = ud;
	ks_weight w;
	const char *rel = it->path;

	if (it->kind != KS_H5_DATASET)
		return 0;
	if (fill_weight(oa->m, it->path, it->path, &w, NULL) < 0)
		return 0;
	if (strncmp(rel, "/optimizer_weights/", 19) == 0)
		rel += 19;
	free(w.stored_name);
	w.stored_name = ks_xstrdup(rel);
	w.name = strip_suffix(rel);
	w.trainable = false;
	oa->m->opt_weights = ks_xrealloc(oa->m->opt_weights,
	                                 (size_t)(oa->m->n_opt_weights + 1) * sizeof w);
	oa->m->opt_weights[oa->m->n_opt_weights++] = w;
	return 0;
}

static void load_optimizer(ks_model *m)
{
	char **wn;
	int n;
	ks_err e;

	if (ks_h5_kind_of(m->file, "/optimizer_weights") != KS_H5_GROUP)
		return;
	if (read_names(m->file, "/optimizer_weights", "weight_names", &wn, &n, &e) == 0 && n > 0) {
		for (int k = 0; k < n; k++) {
			char *dset = join_path("/optimizer_weights", wn[k]);
			ks_weight w;
			if (ks_h5_kind_of(m->file, dset) != KS_H5_DATASET ||
			    fill_weight(m, dset, wn[k], &w, NULL) < 0) {
				ks_model_warn(m, "optimizer weight %s is listed but missing", wn[k]);
				free(dset);
				continue;
			}
			free(dset);
			w.name = strip_suffix(wn[k]);
			w.trainable = false;
			m->opt_weights = ks_xrealloc(m->opt_weights,
			                             (size_t)(m->n_opt_weights + 1) * sizeof w);
			m->opt_weights[m->n_opt_weights++] = w;
		}
		ks_h5_strv_free(wn, n);
		return;
	}
	{
		optacc oa = {m};
		ks_h5_visit(m->file, "/optimizer_weights", opt_visit, &oa, NULL);
	}
}

/* ---- config ----------------------------------------------------------------- */

static json_t *read_json_attr(ks_model *m, const char *attr, bool required_valid, ks_err *err,
                              bool *failed)
{
	char *text = NULL, *what;
	json_t *j;
	ks_err e;

	*failed = false;
	if (ks_h5_attr_str(m->file, ".", attr, &text, &e) < 0) {
		if (required_valid) {
			*failed = true;
			ks_fail(err, "%s: %s", m->path, e.msg);
		} else {
			ks_model_warn(m, "%s", e.msg);
		}
		return NULL;
	}
	if (!text)
		return NULL;
	what = ks_xasprintf("%s: %s", m->path, attr);
	j = ks_json_parse(text, strlen(text), what, &e);
	free(what);
	free(text);
	if (!j) {
		if (required_valid) {
			*failed = true;
			ks_fail(err, "%s", e.msg);
		} else {
			ks_model_warn(m, "%s", e.msg);
		}
	}
	return j;
}

/* ---- entry ------------------------------------------------------------------ */

static char *version_attr(ks_model *m, const char *wg, const char *attr)
{
	char *v = NULL;
	ks_err e;
	if (ks_h5_attr_str(m->file, ".", attr, &v, &e) < 0)
		ks_model_warn(m, "root attribute %s: %s", attr, e.msg);
	if (!v && strcmp(wg, "/") != 0 && ks_h5_attr_str(m->file, wg, attr, &v, &e) < 0)
		ks_model_warn(m, "%s attribute %s: %s", wg, attr, e.msg);
	return v;
}

int ks_legacy_load(ks_model *m, const ks_open_opts *opts, ks_err *err)
{
	bool full = ks_h5_has_attr(m->file, ".", "model_config");
	bool root_names = ks_h5_has_attr(m->file, ".", "layer_names") ||
	                  ks_h5_has_attr(m->file, ".", "layer_names0");
	const char *wg;
	json_t *mc = NULL, *tc;
	bool failed, keras1;

	if (full || !root_names) {
		m->format = KS_FMT_LEGACY_H5;
		wg = "/model_weights";
	} else {
		m->format = KS_FMT_WEIGHTS_H5;
		wg = "/";
	}
	m->keras_version = version_attr(m, wg, "keras_version");
	m->backend = version_attr(m, wg, "backend");
	/* Keras reads a file without keras_version as Keras 1's. */
	keras1 = !m->keras_version || m->keras_version[0] == '1';

	if (full) {
		mc = read_json_attr(m, "model_config", true, err, &failed);
		if (failed)
			return -1;
		if (mc && !json_is_object(mc)) {
			json_decref(mc);
			return ks_fail(err, "%s: model_config is not a JSON object", m->path);
		}
	}
	tc = read_json_attr(m, "training_config", false, err, &failed);
	if (tc) {
		const json_t *oc = json_object_get(tc, "optimizer_config");
		const char *cls = json_string_value(json_object_get(oc, "class_name"));
		m->training_config = tc;
		if (cls)
			m->opt_class = ks_xstrdup(cls);
	}
	if (!mc && opts && (opts->config || opts->config_path)) {
		const char *kv;
		if (ks_arch_from_opts(opts, &mc, err) < 0)
			return -1;
		/* model.to_json() records the writer's version; Keras 1
		 * weights-only files record none. */
		kv = json_string_value(json_object_get(mc, "keras_version"));
		if (!m->keras_version && kv)
			m->keras_version = ks_xstrdup(kv);
		kv = json_string_value(json_object_get(mc, "backend"));
		if (!m->backend && kv)
			m->backend = ks_xstrdup(kv);
	} else if (mc && opts && (opts->config || opts->config_path)) {
		ks_model_warn(m, "the file has its own model_config; %s was not used",
		              ks_arch_source_name(opts));
	}
	if (mc) {
		m->model_config = mc;
		if (ks_graph_build(m, mc, err) < 0)
			return -1;
	}
	if (ks_h5_kind_of(m->file, wg) != KS_H5_GROUP) {
		if (mc)
			ks_model_warn(m, "the file has no %s group: no weights", wg);
		else
			return ks_fail(err, "%s: no model_config and no weights", m->path);
	} else if (load_weights(m, wg, mc != NULL, keras1, opts ? opts->load_order : KS_LOAD_DEFAULT,
	                        err) < 0) {
		return -1;
	}
	load_optimizer(m);
	note_keras1_backend(m);
	return 0;
}
