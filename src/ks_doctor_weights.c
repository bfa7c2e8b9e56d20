/* ks_doctor_weights: the checks that read weight values or the weights
 * file's layout: untrained weights, BatchNormalization statistics, NaN/Inf,
 * and how load_weights would match a weights file to an architecture. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks_doctor_int.h"
#include "ks_h5.h"
#include "ks_loadorder.h"
#include "ks_util.h"

static bool random_kind(const ks_init_rule *r)
{
	return r->kind == KS_INIT_UNIFORM || r->kind == KS_INIT_NORMAL || r->kind == KS_INIT_ORTHOGONAL;
}

static bool has_any_weights(const ks_model *m)
{
	for (int i = 0; i < m->n_layers; i++)
		if (m->layers[i].n_weights || (m->layers[i].inner && has_any_weights(m->layers[i].inner)))
			return true;
	return false;
}

static json_t *init_detail(const dr_tensor *x)
{
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(x->name));
	json_object_set_new(o, "init", json_string(x->rule.name));
	if (random_kind(&x->rule)) {
		json_object_set_new(o, "fan_in", json_integer(x->rule.fan_in));
		json_object_set_new(o, "fan_out", json_integer(x->rule.fan_out));
	}
	if (x->rule.kind == KS_INIT_UNIFORM)
		json_object_set_new(o, "limit", json_real(x->rule.hi));
	json_object_set_new(o, "evidence", json_string(x->why));
	return o;
}

/* The verdict over a whole model: true when every judged tensor is at its
 * initial value and at least one random initializer was matched. */
static bool model_untrained(const dr_tensors *t)
{
	return t->n_moved == 0 && t->n_random_at_init >= 1 && t->n_at_init >= 2;
}

/* The optimizer's step counter (iterations), or -1 when the file has none. */
static int64_t optimizer_steps(const dr_tensors *t)
{
	for (int i = 0; i < t->n; i++) {
		const dr_tensor *x = &t->t[i];
		const char *n = x->w->name;
		if (x->layer || x->scan.n != 1 || x->scan.finite != 1)
			continue;
		if (strstr(n, "iteration"))
			return (int64_t)x->scan.s1;
	}
	return -1;
}

int dr_check_untrained(dr_ctx *c)
{
	const ks_model *m = c->in->a;
	dr_tensors *t = &c->ta;

	if (!has_any_weights(m))
		return dr_skip(c, "the file holds no weights");
	if (dr_tensors_get(c, m, t) < 0)
		return -1;
	if (t->n_at_init + t->n_moved == 0)
		return dr_skip(c, "no weight's initializer is known (custom initializers, or no architecture)");
	if (model_untrained(t)) {
		ks_finding *f = dr_add(c, "untrained-weights", KS_SEV_WARNING, NULL, NULL);
		json_t *init = json_array();
		char *ev = ks_xstrdup("");
		int shown = 0;
		c->a_untrained = true;
		for (int i = 0; i < t->n; i++) {
			const dr_tensor *x = &t->t[i];
			if (x->verdict != KS_INIT_AT_INIT)
				continue;
			json_array_append_new(init, init_detail(x));
			if (shown++ < 4) {
				char *s = ks_xasprintf("%s%s%s: %s", ev, shown > 1 ? "; " : "", x->name, x->why);
				free(ev);
				ev = s;
			}
		}
		int64_t steps = optimizer_steps(t);
		dr_set(&f->summary, "every weight is exactly as Keras initialises it (%d tensors judged): "
		       "the model was saved before training, or re-initialised", t->n_at_init);
		dr_set(&f->evidence, "%s%s%s", ev, shown > 4 ? "; ..." : "",
		       steps == 0 ? "; the optimizer's iteration counter is 0: fit() never ran a step"
		       : steps > 0 ? "; yet the optimizer counted training steps: the weights were "
		                     "re-initialised after training" : "");
		json_object_set_new(f->details, "optimizer_iterations", steps >= 0 ? json_integer(steps) : json_null());
		dr_set(&f->fix, "load the trained weights (model.load_weights or keras.models.load_model "
		       "of the file saved after fit()), and save after training; in TF1-style code do not "
		       "run tf.compat.v1.global_variables_initializer() after loading");
		json_object_set_new(f->details, "init", init);
		json_object_set_new(f->details, "scope", json_string("model"));
		free(ev);
		return 0;
	}
	/* a trained model with layers that never moved (a head added and never fitted) */
	for (int i = 0; i < t->n;) {
		int j = i, at = 0, moved = 0, rnd = 0, cst = 0;
		while (j < t->n && t->t[j].layer && t->t[j].layer == t->t[i].layer)
			j++;
		if (j == i) {
			i++;
			continue;
		}
		for (int k = i; k < j; k++) {
			const dr_tensor *x = &t->t[k];
			if (x->verdict == KS_INIT_AT_INIT) {
				at++;
				if (random_kind(&x->rule))
					rnd++;
				else if (x->scan.n > 0)
					cst++;
			} else if (x->verdict == KS_INIT_MOVED) {
				moved++;
			}
		}
		if (!moved && rnd >= 1 && cst >= 1 && t->n_moved > 0) {
			ks_finding *f = dr_add(c, "untrained-weights", KS_SEV_WARNING, t->t[i].layer_name, NULL);
			json_t *init = json_array();
			char *ev = ks_xstrdup("");
			for (int k = i; k < j; k++) {
				if (t->t[k].verdict != KS_INIT_AT_INIT)
					continue;
				json_array_append_new(init, init_detail(&t->t[k]));
				char *s = ks_xasprintf("%s%s%s: %s", ev, ev[0] ? "; " : "", t->t[k].name, t->t[k].why);
				free(ev);
				ev = s;
			}
			dr_set(&f->summary, "layer %s is exactly as initialised while the rest of the model is "
			       "trained: it was never fitted", t->t[i].layer_name);
			dr_set(&f->evidence, "%s", ev);
			dr_set(&f->fix, "train the model after adding %s (or load its trained weights); if it "
			       "was frozen by mistake, set trainable=True before compile()", t->t[i].layer_name);
			json_object_set_new(f->details, "init", init);
			json_object_set_new(f->details, "scope", json_string("layer"));
			free(ev);
		}
		i = j;
	}
	return 0;
}

/* ---- bn-stats-default ---- */

static const dr_tensor *find_t(const dr_tensors *t, const ks_layer *L, const char *wname)
{
	for (int i = 0; i < t->n; i++)
		if (t->t[i].layer == L) {
			const char *n = strrchr(t->t[i].w->name, '/');
			n = n ? n + 1 : t->t[i].w->name;
			if (!strcmp(n, wname))
				return &t->t[i];
		}
	return NULL;
}

static bool exactly(const dr_tensor *x, double v)
{
	/* moments of an all-v tensor: min == max == v */
	return x && x->scan.n > 0 && x->scan.finite == x->scan.n && x->scan.min == v && x->scan.max == v;
}

int dr_check_bn_stats(dr_ctx *c)
{
	const ks_model *m = c->in->a;
	dr_tensors *t = &c->ta;
	bool any_bn = false;

	if (!has_any_weights(m))
		return dr_skip(c, "the file holds no weights");
	if (dr_tensors_get(c, m, t) < 0)
		return -1;
	for (int i = 0; i < t->n; i++) {
		const ks_layer *L = t->t[i].layer;
		if (!L || !L->class_name || !strstr(L->class_name, "BatchNormalization"))
			continue;
		if (i > 0 && t->t[i - 1].layer == L)
			continue;  /* once per layer */
		any_bn = true;
		const dr_tensor *mm = find_t(t, L, "moving_mean"), *mv = find_t(t, L, "moving_variance");
		const dr_tensor *g = find_t(t, L, "gamma"), *b = find_t(t, L, "beta");
		if (!exactly(mm, 0.0) || !exactly(mv, 1.0))
			continue;
		if (c->a_untrained || t->n_moved == 0)
			continue;  /* the whole model is untrained: untrained-weights says it */
		bool gb_trained = (g && !exactly(g, 1.0)) || (b && !exactly(b, 0.0));
		ks_finding *f = dr_add(c, "bn-stats-default", KS_SEV_WARNING, t->t[i].layer_name, NULL);
		dr_set(&f->summary, "BatchNormalization %s still has its initial moving statistics (mean 0, "
		       "variance 1) in a trained model", t->t[i].layer_name);
		dr_set(&f->evidence, "%s: all %lld values exactly 0; %s: all %lld values exactly 1; %s",
		       mm->name, (long long)mm->scan.n, mv->name, (long long)mv->scan.n,
		       gb_trained ? "gamma/beta are trained" : "gamma/beta are at their initial values too");
		dr_set(&f->fix, "train with the layer in training mode so that its statistics update (do "
		       "not call it with training=False during fit, unfreeze it), or recompute them: run "
		       "the training data through the model in training mode without updating other "
		       "weights; then save again");
		json_object_set_new(f->details, "layer", json_string(t->t[i].layer_name));
		json_object_set_new(f->details, "gamma_beta_trained", json_boolean(gb_trained));
	}
	if (!any_bn)
		return 0;
	return 0;
}

/* ---- nan-inf ---- */

int dr_check_nan_inf(dr_ctx *c)
{
	const ks_model *m = c->in->a;
	dr_tensors *t = &c->ta;

	if (!has_any_weights(m) && m->n_opt_weights == 0)
		return dr_skip(c, "the file holds no weights");
	if (dr_tensors_get(c, m, t) < 0)
		return -1;
	for (int i = 0; i < t->n; i++) {
		const dr_tensor *x = &t->t[i];
		const ks_init_scan *s = &x->scan;
		if (!s->nan && !s->posinf && !s->neginf)
			continue;
		ks_finding *f = dr_add(c, "nan-inf", KS_SEV_ERROR, x->layer_name, x->name);
		json_t *bad = json_array();
		char *pos = ks_xstrdup(""), ib[128];
		for (int k = 0; k < s->n_bad_first; k++) {
			json_t *e = json_object(), *idx = json_array();
			int64_t flat = s->bad_first[k], rest = flat;
			const char *kind = s->bad_kind[k] == 'n' ? "nan" : s->bad_kind[k] == '+' ? "inf" : "-inf";
			int64_t ix[KS_MAX_RANK];
			for (int r = x->w->rank - 1; r >= 0; r--) {
				int64_t d = x->w->shape[r] > 0 ? x->w->shape[r] : 1;
				ix[r] = rest % d;
				rest /= d;
			}
			for (int r = 0; r < x->w->rank; r++)
				json_array_append_new(idx, json_integer(ix[r]));
			json_object_set_new(e, "flat_index", json_integer(flat));
			json_object_set_new(e, "index", idx);
			json_object_set_new(e, "value", json_string(kind));
			json_array_append_new(bad, e);
			char *s2 = ks_xasprintf("%s%s%s at %s", pos, k ? ", " : "", kind, dr_index(x->w, flat, ib, sizeof ib));
			free(pos);
			pos = s2;
		}
		dr_set(&f->summary, "%s holds %lld NaN, %lld +Inf and %lld -Inf of %lld values%s", x->name,
		       (long long)s->nan, (long long)s->posinf, (long long)s->neginf, (long long)s->n,
		       x->layer ? "" : " (optimizer state)");
		dr_set(&f->evidence, "first: %s", pos);
		dr_set(&f->fix, x->layer ? "retrain from an earlier checkpoint with a lower learning rate, "
		       "gradient clipping (clipnorm=1.0) or keras.callbacks.TerminateOnNaN(); the stored "
		       "values cannot be repaired"
		       : "the optimizer state diverged: load with compile=False and compile a fresh optimizer");
		json_object_set_new(f->details, "n_nan", json_integer(s->nan));
		json_object_set_new(f->details, "n_posinf", json_integer(s->posinf));
		json_object_set_new(f->details, "n_neginf", json_integer(s->neginf));
		json_object_set_new(f->details, "bad_elements", bad);
		json_object_set_new(f->details, "optimizer_state", json_boolean(x->layer == NULL));
		free(pos);
	}
	return 0;
}

/* ---- layer-order and name-mismatch ---- */

/* One group of the weights file: its name in layer_names, its weights'
 * shapes (read from the file, so that the checks see what Keras would load
 * whatever order the loader attached the weights in). */
typedef struct flayer {
	char *name;
	int n_w;
	int rank[16];
	int64_t shape[16][KS_MAX_RANK];
} flayer;

typedef struct order_info {
	flayer *f;               /* every group in layer_names order */
	int nf;
	const ks_loadmap *lm;    /* Keras' two load orders (ks_loadorder.h) */
	ks_loadmap *owned;       /* built here for a full .h5, which keeps none */
} order_info;

static void order_free(order_info *o)
{
	for (int i = 0; i < o->nf; i++)
		free(o->f[i].name);
	free(o->f);
	ks_loadmap_free(o->owned);
	memset(o, 0, sizeof *o);
}

/* 1: not applicable (why set), 0: filled, -1: read error. */
static int order_read(dr_ctx *c, order_info *o)
{
	const ks_model *m = c->in->a;
	const char *wg;
	char **ln = NULL;
	int n = 0;

	memset(o, 0, sizeof *o);
	if (m->format == KS_FMT_PLAIN_H5)
		return dr_skip(c, "not a Keras file");
	if (m->format != KS_FMT_WEIGHTS_H5 && m->format != KS_FMT_LEGACY_H5)
		return dr_skip(c, "%s files are matched to the model by its structure, not by layer "
		               "order or name", ks_format_name(m->format));
	if (!m->model_config)
		return dr_skip(c, "a weights-only file needs the architecture: give --config ARCH");
	wg = m->format == KS_FMT_WEIGHTS_H5 ? "/" : "/model_weights";
	if (ks_h5_attr_strv(m->file, wg, "layer_names", &ln, &n, c->err) < 0)
		return ks_err_prefix(c->err, "%s", m->path);
	o->f = ks_xcalloc((size_t)(n ? n : 1), sizeof *o->f);
	ks_lo_group *g = ks_xcalloc((size_t)(n ? n : 1), sizeof *g);
	for (int i = 0; i < n; i++) {
		char *gp = ks_xasprintf("%s%s%s", wg, strcmp(wg, "/") ? "/" : "", ln[i]);
		char **wn = NULL;
		int k = 0;
		ks_err e;
		flayer *fl = &o->f[o->nf++];
		fl->name = ks_xstrdup(ln[i]);
		if (ks_h5_attr_strv(m->file, gp, "weight_names", &wn, &k, &e) == 0) {
			fl->n_w = k;
			for (int j = 0; j < k && j < 16; j++) {
				char *d = ks_xasprintf("%s/%s", gp, wn[j]);
				ks_dtype dt;
				if (ks_h5_dataset_info(m->file, d, &fl->rank[j], fl->shape[j], &dt, &e) < 0)
					fl->rank[j] = -1;
				free(d);
			}
		}
		g[i].name = fl->name;
		g[i].n_weights = fl->n_w;
		ks_h5_strv_free(wn, k);
		free(gp);
	}
	ks_h5_strv_free(ln, n);
	o->lm = m->loadmap;
	if (!o->lm) {
		bool keras1 = !m->keras_version || m->keras_version[0] == '1';
		o->owned = ks_loadmap_build(m, g, n, keras1, KS_LOAD_BY_NAME);
		o->lm = o->owned;
	}
	free(g);
	return 0;
}

static const flayer *file_layer(const order_info *o, const char *name)
{
	for (int i = 0; name && i < o->nf; i++)
		if (!strcmp(o->f[i].name, name))
			return &o->f[i];
	return NULL;
}

static bool same_shapes(const flayer *a, const flayer *b)
{
	if (!a || !b || a->n_w != b->n_w)
		return false;
	for (int j = 0; j < a->n_w && j < 16; j++) {
		if (a->rank[j] != b->rank[j] || a->rank[j] < 0)
			return false;
		for (int r = 0; r < a->rank[j]; r++)
			if (a->shape[j][r] != b->shape[j][r])
				return false;
	}
	return true;
}

static json_t *names_json(char **v, int n)
{
	json_t *a = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *model_names_json(const ks_loadmap *lm)
{
	json_t *a = json_array();
	for (int i = 0; i < lm->n_pairs; i++)
		json_array_append_new(a, json_string(lm->pairs[i].layer));
	return a;
}

int dr_check_layer_order(dr_ctx *c)
{
	order_info o;
	int rc = order_read(c, &o);
	if (rc)
		return rc;
	const ks_loadmap *lm = o.lm;
	if (lm->topological_error) {
		ks_finding *f = dr_add(c, "layer-order", KS_SEV_ERROR, NULL, NULL);
		dr_set(&f->summary, "Keras' default (topological) load_weights fails on this file: %s",
		       lm->topological_error);
		dr_set(&f->evidence, "%d layer_names entries hold weights, the architecture has %d "
		       "weight-bearing layers", lm->n_file, lm->n_model);
		dr_set(&f->fix, "load with model.load_weights(path, by_name=True) (add "
		       "skip_mismatch=True for layers whose shapes changed) after checking which names "
		       "match (name-mismatch), or rebuild the architecture that wrote the file");
		json_object_set_new(f->details, "file_layer_names", names_json(lm->file_groups, lm->n_file));
		json_object_set_new(f->details, "model_layer_names", model_names_json(lm));
		json_object_set_new(f->details, "load_fails", json_true());
		order_free(&o);
		return 0;
	}
	json_t *wrong = json_array(), *swapped = json_array();
	char *ev = ks_xstrdup("");
	bool fails = false, all_named = true;
	for (int k = 0; k < lm->n_pairs; k++) {
		const ks_lo_pair *p = &lm->pairs[k];
		all_named &= p->by_name != NULL;
		/* a layer that topologically receives another group of the file */
		if (!p->topological || !p->by_name || !strcmp(p->topological, p->by_name))
			continue;
		bool fit = same_shapes(file_layer(&o, p->topological), file_layer(&o, p->by_name));
		fails |= !fit;
		json_t *e = json_object();
		json_object_set_new(e, "model_layer", json_string(p->layer));
		json_object_set_new(e, "receives", json_string(p->topological));
		json_object_set_new(e, "same_shapes", json_boolean(fit));
		json_array_append_new(wrong, e);
		json_array_append_new(swapped, json_string(p->layer));
		char *s2 = ks_xasprintf("%s%s%s <- weights of %s%s", ev, ev[0] ? ", " : "", p->layer,
		                        p->topological, fit ? "" : " (shapes differ)");
		free(ev);
		ev = s2;
	}
	if (json_array_size(wrong) > 0) {
		ks_finding *f = dr_add(c, "layer-order", KS_SEV_ERROR,
		                       json_string_value(json_array_get(swapped, 0)), NULL);
		dr_set(&f->summary, "%s", fails
		       ? "the default load_weights fails with a shape mismatch: the file's layer order "
		         "differs from the architecture's"
		       : "the default load_weights silently puts weights into the wrong layers: the file's "
		         "layer order differs from the architecture's, and the layers have the same shapes");
		dr_set(&f->evidence, "topological (positional) loading gives %s; file layer_names order "
		       "vs model layer order differ", ev);
		if (all_named)
			dr_set(&f->fix, "model.load_weights(path, by_name=True) assigns by layer name and gives "
			       "the right result here (every layer's name is in the file); or keep the layer "
			       "order of the code that saved the file");
		else
			dr_set(&f->fix, "model.load_weights(path, by_name=True) assigns the layers whose names "
			       "match (see name-mismatch for the others, which it would skip); or keep the "
			       "layer order of the code that saved the file");
		json_object_set_new(f->details, "misassigned", wrong);
		json_object_set_new(f->details, "swapped", swapped);
		json_object_set_new(f->details, "file_layer_names", names_json(lm->file_groups, lm->n_file));
		json_object_set_new(f->details, "model_layer_names", model_names_json(lm));
		json_object_set_new(f->details, "load_fails", json_boolean(fails));
	} else {
		json_decref(wrong);
		json_decref(swapped);
	}
	free(ev);
	order_free(&o);
	return 0;
}

int dr_check_name_mismatch(dr_ctx *c)
{
	order_info o;
	int rc = order_read(c, &o);
	if (rc)
		return rc;
	const ks_loadmap *lm = o.lm;
	json_t *only_file = json_array(), *only_model = json_array(), *pairing = json_object();
	int matches = 0;
	for (int k = 0; k < lm->n_pairs; k++) {
		const ks_lo_pair *p = &lm->pairs[k];
		if (p->by_name)
			matches++;
		else
			json_array_append_new(only_model, json_string(p->layer));
		if (p->topological)
			json_object_set_new(pairing, p->layer, json_string(p->topological));
	}
	for (int i = 0; i < lm->n_file; i++) {
		bool named = false;
		for (int k = 0; k < lm->n_pairs && !named; k++)
			named = lm->pairs[k].by_name && !strcmp(lm->pairs[k].by_name, lm->file_groups[i]);
		if (!named)
			json_array_append_new(only_file, json_string(lm->file_groups[i]));
	}
	if (json_array_size(only_file) + json_array_size(only_model) > 0) {
		ks_finding *f = dr_add(c, "name-mismatch", KS_SEV_WARNING, NULL, NULL);
		char *a = json_dumps(only_model, JSON_COMPACT), *b = json_dumps(only_file, JSON_COMPACT);
		dr_set(&f->summary, "%s", matches == 0
		       ? "no layer name of the architecture occurs in the weights file: "
		         "load_weights(by_name=True) loads nothing and raises no error"
		       : "some layer names differ between the weights file and the architecture: "
		         "load_weights(by_name=True) silently skips them");
		dr_set(&f->evidence, "architecture layers missing from the file: %s; file layers missing "
		       "from the architecture: %s; %d name%s in common", a, b, matches, matches == 1 ? "" : "s");
		if (!lm->topological_error)
			dr_set(&f->fix, "use the default (topological) model.load_weights(path) without "
			       "by_name, which pairs layers by position (%d weight-bearing layers on each side), "
			       "or rename the layers in the code to the file's names", lm->n_model);
		else
			dr_set(&f->fix, "rename the layers in the code to the file's names (name=... "
			       "arguments) before model.load_weights(path, by_name=True)");
		json_object_set_new(f->details, "file_only", only_file);
		json_object_set_new(f->details, "model_only", only_model);
		json_object_set_new(f->details, "by_name_matches", json_integer(matches));
		json_object_set_new(f->details, "positional_pairing", pairing);
		json_object_set_new(f->details, "file_layer_names", names_json(lm->file_groups, lm->n_file));
		json_object_set_new(f->details, "model_layer_names", model_names_json(lm));
		free(a);
		free(b);
	} else {
		json_decref(only_file);
		json_decref(only_model);
		json_decref(pairing);
	}
	order_free(&o);
	return 0;
}
