/* Settings that differ between the two models: per-layer configs (names
 * excluded), model inputs and outputs, versions and format, training or
 * compile configuration, optimizer presence.
 *
 * Configs are compared after a normalisation that removes what only the
 * serialisation differs in, so that one model saved by tf.keras 2 (.h5) and
 * by Keras 3 (.keras) compares equal: "module"/"registered_name" of nested
 * objects, DTypePolicy objects reduced to their name, "batch_input_shape"
 * spelled "batch_shape", the optimizer class "Custom>Adam" read as "Adam",
 * numbers equal when their float32 roundings are (tf.keras writes beta_1 as
 * 0.8999999761581421).
 * Between two Keras generations a key that only one side has is a new or
 * retired argument, not a change; within one generation it is reported. */
#include "config.h"

#include <string.h>

#include "ks_diff_priv.h"
#include "ks_plan.h"
#include "ks_util.h"

static json_t *normalise(const json_t *v)
{
	if (json_is_object(v)) {
		const char *cls = json_string_value(json_object_get(v, "class_name"));
		const json_t *cfg = json_object_get(v, "config");
		if (cls && !strcmp(cls, "DTypePolicy") && json_is_string(json_object_get(cfg, "name")))
			return json_incref(json_object_get(cfg, "name"));
		json_t *o = json_object();
		const char *k;
		json_t *x;
		json_object_foreach((json_t *)v, k, x) {
			if (!strcmp(k, "module") || !strcmp(k, "registered_name"))
				continue;
			json_object_set_new(o, !strcmp(k, "batch_input_shape") ? "batch_shape" : k, normalise(x));
		}
		return o;
	}
	if (json_is_array(v)) {
		json_t *a = json_array();
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x)
			json_array_append_new(a, normalise(x));
		return a;
	}
	return json_incref((json_t *)v);
}

static bool json_same(const json_t *a, const json_t *b)
{
	if (!a || !b)
		return a == b;
	/* 1 and 1.0 are one setting; so are 0.9 and the float32 0.9 that
	 * tf.keras writes for a hyper-parameter read back from a variable */
	if (json_is_number(a) && json_is_number(b)) {
		double x = json_number_value(a), y = json_number_value(b);
		return x == y || (float)x == (float)y;
	}
	if (json_is_array(a) && json_is_array(b)) {
		if (json_array_size(a) != json_array_size(b))
			return false;
		for (size_t i = 0; i < json_array_size(a); i++)
			if (!json_same(json_array_get(a, i), json_array_get(b, i)))
				return false;
		return true;
	}
	if (json_is_object(a) && json_is_object(b)) {
		const char *k;
		json_t *x;
		if (json_object_size(a) != json_object_size(b))
			return false;
		json_object_foreach((json_t *)a, k, x)
			if (!json_same(x, json_object_get(b, k)))
				return false;
		return true;
	}
	return json_equal((json_t *)a, (json_t *)b);
}

/* Appends a change per top-level key that differs (keys in skip ignored). */
static void compare_objects(ks_diff_change **arr, int *n, const char *prefix, const json_t *a,
                            const json_t *b, bool one_sided_keys, const char *const *skip)
{
	const char *k;
	json_t *x;
	json_object_foreach((json_t *)a, k, x) {
		bool skipped = false;
		for (int s = 0; skip && skip[s]; s++)
			skipped |= !strcmp(k, skip[s]);
		const json_t *y = json_object_get(b, k);
		if (skipped || (!y && !one_sided_keys) || json_same(x, y))
			continue;
		char *key = ks_xasprintf("%s%s", prefix, k);
		ks_diff_add_change(arr, n, key, x, y, false);
		free(key);
	}
	json_object_foreach((json_t *)b, k, x) {
		bool skipped = false;
		for (int s = 0; skip && skip[s]; s++)
			skipped |= !strcmp(k, skip[s]);
		if (skipped || json_object_get(a, k) || !one_sided_keys)
			continue;
		char *key = ks_xasprintf("%s%s", prefix, k);
		ks_diff_add_change(arr, n, key, NULL, x, false);
		free(key);
	}
}

static void layer_changes(ks_diff_layer *L, bool same_gen)
{
	static const char *const skip[] = {"name", NULL};
	const ks_layer *a = L->la, *b = L->lb;
	if (!a || !b || !a->class_name || !b->class_name || !strcmp(a->class_name, "?") ||
	    !strcmp(b->class_name, "?"))
		return;
	if (strcmp(a->class_name, b->class_name) != 0) {
		json_t *ja = json_string(a->class_name), *jb = json_string(b->class_name);
		ks_diff_add_change(&L->changes, &L->n_changes, "class_name", ja, jb, false);
		json_decref(ja);
		json_decref(jb);
	}
	/* a nested model's settings are its layers, compared one by one */
	if (a->inner || b->inner || !json_is_object(a->config) || !json_is_object(b->config))
		return;
	json_t *na = normalise(a->config), *nb = normalise(b->config);
	compare_objects(&L->changes, &L->n_changes, "", na, nb, same_gen, skip);
	json_decref(na);
	json_decref(nb);
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static void info_change(ks_diff *d, const char *key, const char *a, const char *b)
{
	if ((a && b && !strcmp(a, b)) || (!a && !b))
		return;
	json_t *ja = str_or_null(a), *jb = str_or_null(b);
	ks_diff_add_change(&d->model_changes, &d->n_model_changes, key, ja, jb, true);
	json_decref(ja);
	json_decref(jb);
}

static json_t *input_shapes(const ks_model *m)
{
	json_t *arr = json_array();
	for (int i = 0; i < m->n_inputs; i++) {
		ks_shape s;
		json_t *sh = json_array();
		if (ks_model_input_shape(m, i, &s, NULL) == 0)
			for (int k = 0; k < s.rank; k++)
				json_array_append_new(sh, s.d[k] < 0 ? json_null() : json_integer(s.d[k]));
		json_array_append_new(arr, sh);
	}
	return arr;
}

/* The b-side name of a's top-level layer li, through the pairing. */
static const char *paired_b_name(const ks_diff *d, const ks_layer *la)
{
	for (int i = 0; i < d->n_layers; i++)
		if (d->layers[i].la == la)
			return d->layers[i].lb ? d->layers[i].lb->name : NULL;
	return NULL;
}

static void model_changes(ks_diff *d)
{
	const ks_model *a = d->a, *b = d->b;
	info_change(d, "format", ks_format_name(a->format), ks_format_name(b->format));
	info_change(d, "keras_version", a->keras_version, b->keras_version);
	info_change(d, "backend", a->backend, b->backend);
	if (ks_diff_no_arch(a) || ks_diff_no_arch(b))
		return;
	info_change(d, "model_class", a->class_name, b->class_name);
	json_t *ia = input_shapes(a), *ib = input_shapes(b);
	if (!json_same(ia, ib))
		ks_diff_add_change(&d->model_changes, &d->n_model_changes, "inputs", ia, ib, false);
	json_decref(ia);
	json_decref(ib);
	/* outputs: a's output layers, translated through the pairing, must be b's */
	bool same = a->n_outputs == b->n_outputs;
	json_t *oa = json_array(), *ob = json_array();
	for (int i = 0; i < a->n_outputs; i++) {
		int li = a->outputs[i].layer;
		const ks_layer *L = li >= 0 && li < a->n_layers ? &a->layers[li] : NULL;
		json_array_append_new(oa, str_or_null(L ? L->name : NULL));
		if (same) {
			int lj = b->outputs[i].layer;
			const char *want = L ? paired_b_name(d, L) : NULL;
			const char *got = lj >= 0 && lj < b->n_layers ? b->layers[lj].name : NULL;
			same = want && got && !strcmp(want, got) &&
			       a->outputs[i].tensor == b->outputs[i].tensor;
		}
	}
	for (int i = 0; i < b->n_outputs; i++) {
		int lj = b->outputs[i].layer;
		json_array_append_new(ob, str_or_null(lj >= 0 && lj < b->n_layers ? b->layers[lj].name : NULL));
	}
	if (!same)
		ks_diff_add_change(&d->model_changes, &d->n_model_changes, "outputs", oa, ob, false);
	json_decref(oa);
	json_decref(ob);
}

/* One flat object for either generation: loss, metrics, weighted_metrics,
 * loss_weights, optimizer (class) and optimizer.<hyper-parameter>. NULL
 * when the file stores no training configuration. */
static json_t *training_of(const ks_model *m)
{
	static const char *const keys[] = {"loss", "metrics", "weighted_metrics", "loss_weights", NULL};
	const json_t *src = m->training_config ? m->training_config : m->compile_config;
	if (!json_is_object(src) || json_object_size(src) == 0)
		return NULL;
	json_t *o = json_object();
	for (int i = 0; keys[i]; i++) {
		const json_t *v = json_object_get(src, keys[i]);
		json_object_set_new(o, keys[i], v ? normalise(v) : json_null());
	}
	const json_t *opt = json_object_get(src, m->training_config ? "optimizer_config" : "optimizer");
	if (json_is_string(opt)) {
		json_object_set(o, "optimizer", (json_t *)opt);
	} else if (json_is_object(opt)) {
		const char *cls = json_string_value(json_object_get(opt, "class_name"));
		if (cls && ks_str_startswith(cls, "Custom>"))
			cls += strlen("Custom>");
		json_object_set_new(o, "optimizer", str_or_null(cls));
		const json_t *cfg = json_object_get(opt, "config");
		const char *k;
		json_t *x;
		json_object_foreach((json_t *)cfg, k, x) {
			if (!strcmp(k, "name"))
				continue;
			char *key = ks_xasprintf("optimizer.%s", k);
			/* Keras 3 may store a learning rate schedule or plain number alike */
			json_object_set_new(o, key, normalise(x));
			free(key);
		}
	}
	return o;
}

static void training_changes(ks_diff *d, bool same_gen)
{
	json_t *ta = training_of(d->a), *tb = training_of(d->b);
	d->training_a = ta != NULL;
	d->training_b = tb != NULL;
	/* save_weights never stores one: its absence on a weights-only side says
	 * nothing about how the model was compiled */
	if ((!ta && ks_diff_no_arch(d->a)) || (!tb && ks_diff_no_arch(d->b))) {
		json_decref(ta);
		json_decref(tb);
		return;
	}
	if (ta && tb) {
		compare_objects(&d->training_changes, &d->n_training_changes, "", ta, tb, same_gen, NULL);
	} else if (ta || tb) {
		json_t *e = json_object();
		compare_objects(&d->training_changes, &d->n_training_changes, "", ta ? ta : e, tb ? tb : e,
		                true, NULL);
		json_decref(e);
	}
	json_decref(ta);
	json_decref(tb);
}

void ks_diff_compare_configs(ks_diff *d)
{
	bool same_gen = ks_model_keras_major(d->a) == ks_model_keras_major(d->b);
	for (int i = 0; i < d->n_layers; i++)
		layer_changes(&d->layers[i], same_gen);
	model_changes(d);
	training_changes(d, same_gen);
	for (int s = 0; s < 2; s++) {
		const ks_model *m = s ? d->b : d->a;
		ks_diff_side_opt *o = s ? &d->opt_b : &d->opt_a;
		o->present = m->n_opt_weights > 0;
		o->class_name = m->opt_class;
		o->n_tensors = m->n_opt_weights;
		o->params = m->opt_params;
	}
}
