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

/* One layer of the weights file as Keras' loader sees it. */
typedef struct flayer {
	char *name;
	int n_w;
	int rank[16];
	int64_t shape[16][KS_MAX_RANK];
} flayer;

typedef struct order_info {
	flayer *f;           /* file layers with weights, in layer_names order */
	int nf;
	char **listed;       /* every name in layer_names, weightless ones too */
	int n_listed;
	const ks_layer **ml; /* model layers with weights, in model.layers order */
	int nm;
} order_info;

/* Classes that never own weights (so an architecture layer of any other
 * class is expected to take a slot in topological loading). */
static bool weightless_class(const char *c)
{
	static const char *const names[] = {
		"InputLayer", "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
		"GaussianNoise", "GaussianDropout", "AlphaDropout", "Activation", "ReLU", "LeakyReLU",
		"ELU", "Softmax", "ThresholdedReLU", "Flatten", "Reshape", "Permute", "RepeatVector",
		"Lambda", "Masking", "ActivityRegularization", "Add", "Subtract", "Multiply", "Average",
		"Maximum", "Minimum", "Concatenate", "Dot", "Rescaling", "Resizing", "CenterCrop",
		"Identity", "UnitNormalization", "TFOpLambda", "SlicingOpLambda", "Cropping1D",
		"Cropping2D", "Cropping3D", "UpSampling1D", "UpSampling2D", "UpSampling3D",
		"ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Merge", "TensorFlowOpLayer",
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcmp(c, names[i]))
			return true;
	return strstr(c, "Pooling") || strstr(c, "Pool1D") || strstr(c, "Pool2D") || strstr(c, "Pool3D") ||
	       !strncmp(c, "Random", 6);
}

static bool listed(const order_info *o, const char *name)
{
	for (int i = 0; i < o->n_listed; i++)
		if (!strcmp(o->listed[i], name))
			return true;
	return false;
}

static const flayer *file_layer(const order_info *o, const char *name);

/* Whether Keras' loader counts this architecture layer: a layer the file
 * lists tells (its weight_names); otherwise its class does. */
static bool model_layer_has_weights(const order_info *o, const ks_layer *L)
{
	if (!L->class_name || !strcmp(L->class_name, "?"))
		return false;
	if (listed(o, L->name))
		return file_layer(o, L->name) != NULL;
	if (L->n_weights > 0)
		return true;
	if (L->inner)
		return has_any_weights(L->inner);
	return !weightless_class(L->class_name);
}

static void order_free(order_info *o)
{
	for (int i = 0; i < o->nf; i++)
		free(o->f[i].name);
	free(o->f);
	free(o->ml);
	ks_h5_strv_free(o->listed, o->n_listed);
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
	for (int i = 0; i < n; i++) {
		char *g = ks_xasprintf("%s%s%s", wg, strcmp(wg, "/") ? "/" : "", ln[i]);
		char **wn = NULL;
		int k = 0;
		ks_err e;
		if (ks_h5_attr_strv(m->file, g, "weight_names", &wn, &k, &e) == 0 && k > 0) {
			flayer *fl = &o->f[o->nf++];
			fl->name = ks_xstrdup(ln[i]);
			fl->n_w = k;
			for (int j = 0; j < k && j < 16; j++) {
				char *d = ks_xasprintf("%s/%s", g, wn[j]);
				ks_dtype dt;
				if (ks_h5_dataset_info(m->file, d, &fl->rank[j], fl->shape[j], &dt, &e) < 0)
					fl->rank[j] = -1;
				free(d);
			}
		}
		ks_h5_strv_free(wn, k);
		free(g);
	}
	o->listed = ln;
	o->n_listed = n;
	o->ml = ks_xcalloc((size_t)(m->n_layers ? m->n_layers : 1), sizeof *o->ml);
	for (int i = 0; i < m->n_layers; i++)
		if (model_layer_has_weights(o, &m->layers[i]))
			o->ml[o->nm++] = &m->layers[i];
	return 0;
}

static const flayer *file_layer(const order_info *o, const char *name)
{
	for (int i = 0; i < o->nf; i++)
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

int dr_check_layer_order(dr_ctx *c)
{
	order_info o;
	int rc = order_read(c, &o);
	if (rc)
		return rc;
	if (o.nf != o.nm) {
		ks_finding *f = dr_add(c, "layer-order", KS_SEV_ERROR, NULL, NULL);
		dr_set(&f->summary, "load_weights fails: the file has %d layers with weights, the "
		       "architecture %d", o.nf, o.nm);
		dr_set(&f->evidence, "layer_names with non-empty weight_names: %d; weight-bearing layers of "
		       "the architecture: %d", o.nf, o.nm);
		dr_set(&f->fix, "load with model.load_weights(path, by_name=True, skip_mismatch=True) "
		       "after checking which layers match (see name-mismatch), or rebuild the architecture "
		       "that wrote the file");
		json_object_set_new(f->details, "file_layers", json_integer(o.nf));
		json_object_set_new(f->details, "model_layers", json_integer(o.nm));
		order_free(&o);
		return 0;
	}
	json_t *wrong = json_array(), *swapped = json_array(), *fnames = json_array(), *mnames = json_array();
	char *ev = ks_xstrdup("");
	bool fails = false;
	for (int k = 0; k < o.nf; k++) {
		json_array_append_new(fnames, json_string(o.f[k].name));
		json_array_append_new(mnames, json_string(o.ml[k]->name));
		if (!strcmp(o.f[k].name, o.ml[k]->name))
			continue;
		const flayer *own = file_layer(&o, o.ml[k]->name);
		if (!own)
			continue;  /* the name is not in the file at all: name-mismatch */
		bool fit = same_shapes(&o.f[k], own);
		fails |= !fit;
		json_t *e = json_object();
		json_object_set_new(e, "model_layer", json_string(o.ml[k]->name));
		json_object_set_new(e, "receives", json_string(o.f[k].name));
		json_object_set_new(e, "same_shapes", json_boolean(fit));
		json_array_append_new(wrong, e);
		json_array_append_new(swapped, json_string(o.ml[k]->name));
		char *s = ks_xasprintf("%s%s%s <- weights of %s%s", ev, ev[0] ? ", " : "", o.ml[k]->name,
		                       o.f[k].name, fit ? "" : " (shapes differ)");
		free(ev);
		ev = s;
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
		bool all_named = true;
		for (int k = 0; k < o.nm; k++)
			all_named &= file_layer(&o, o.ml[k]->name) != NULL;
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
		json_object_set_new(f->details, "file_layer_names", fnames);
		json_object_set_new(f->details, "model_layer_names", mnames);
		json_object_set_new(f->details, "load_fails", json_boolean(fails));
	} else {
		json_decref(wrong);
		json_decref(swapped);
		json_decref(fnames);
		json_decref(mnames);
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
	json_t *only_file = json_array(), *only_model = json_array(), *pairing = json_object();
	int matches = 0;
	for (int k = 0; k < o.nf; k++)
		if (file_layer(&o, o.f[k].name)) {
			bool in_model = false;
			for (int j = 0; j < o.nm && !in_model; j++)
				in_model = !strcmp(o.ml[j]->name, o.f[k].name);
			if (in_model)
				matches++;
			else
				json_array_append_new(only_file, json_string(o.f[k].name));
		}
	for (int j = 0; j < o.nm; j++) {
		if (!file_layer(&o, o.ml[j]->name))
			json_array_append_new(only_model, json_string(o.ml[j]->name));
		if (j < o.nf)
			json_object_set_new(pairing, o.ml[j]->name, json_string(o.f[j].name));
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
		if (o.nf == o.nm)
			dr_set(&f->fix, "use the default (topological) model.load_weights(path) without "
			       "by_name, which pairs layers by position (%d weight-bearing layers on each side), "
			       "or rename the layers in the code to the file's names", o.nf);
		else
			dr_set(&f->fix, "rename the layers in the code to the file's names (name=... "
			       "arguments) before model.load_weights(path, by_name=True)");
		json_object_set_new(f->details, "file_only", only_file);
		json_object_set_new(f->details, "model_only", only_model);
		json_object_set_new(f->details, "by_name_matches", json_integer(matches));
		json_object_set_new(f->details, "positional_pairing", pairing);
		json_t *fn = json_array(), *mn = json_array();
		for (int k = 0; k < o.nf; k++)
			json_array_append_new(fn, json_string(o.f[k].name));
		for (int k = 0; k < o.nm; k++)
			json_array_append_new(mn, json_string(o.ml[k]->name));
		json_object_set_new(f->details, "file_layer_names", fn);
		json_object_set_new(f->details, "model_layer_names", mn);
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
