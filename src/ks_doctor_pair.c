/* ks_doctor_pair: the checks that need a second file (re-initialised
 * weights, permuted classes, identical weights) or an input (the input
 * contract of preprocessing layers, NaN/Inf in activations, determinism). */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks_cmp.h"
#include "ks_doctor_int.h"
#include "ks_plan.h"
#include "ks_util.h"

/* Values read at once when two tensors are compared (floats per side). */
#define CMP_BLOCK (1u << 20)
/* Largest output kernel read whole to look for a column permutation. */
#define PERM_MAX_FLOATS ((int64_t)1 << 24)

static bool same_shape(const ks_weight *a, const ks_weight *b)
{
	return a->rank == b->rank && !memcmp(a->shape, b->shape, sizeof(int64_t) * (size_t)a->rank);
}

/* Compares two same-shaped tensors exactly, a block of rows at a time. */
static int compare(const dr_tensor *x, const dr_tensor *y, ks_cmp *out, ks_err *err)
{
	const ks_weight *a = x->w, *b = y->w;
	ks_tol t = {KS_TOL_EXACT, 0};
	int64_t n, row = 1, rows;

	ks_cmp_init(out, &t);
	if (!ks_numel(a->shape, a->rank, &n) || n == 0)
		return 0;
	if (a->rank == 0) {
		float va, vb;
		if (ks_weight_read(x->m, a, &va, err) < 0 || ks_weight_read(y->m, b, &vb, err) < 0)
			return -1;
		ks_cmp_add(out, &va, &vb, 1);
		return 0;
	}
	rows = a->shape[0];
	row = n / rows;
	int64_t per = row >= (int64_t)CMP_BLOCK ? 1 : (int64_t)CMP_BLOCK / row;
	float *ba = ks_xmalloc((size_t)(per * row) * sizeof *ba), *bb = ks_xmalloc((size_t)(per * row) * sizeof *bb);
	int rc = 0;
	for (int64_t r0 = 0; r0 < rows && rc == 0; r0 += per) {
		int64_t start[KS_MAX_RANK] = {0}, count[KS_MAX_RANK];
		for (int i = 0; i < a->rank; i++)
			count[i] = a->shape[i];
		start[0] = r0;
		count[0] = r0 + per > rows ? rows - r0 : per;
		if (ks_weight_read_slab(x->m, a, start, count, ba, err) < 0 ||
		    ks_weight_read_slab(y->m, b, start, count, bb, err) < 0)
			rc = -1;
		else
			ks_cmp_add(out, ba, bb, (size_t)(count[0] * row));
	}
	free(ba);
	free(bb);
	return rc;
}

/* Pairs a's layer tensors with b's: by name, or by position when the
 * layers were renamed (same count, same shapes in order). */
static int pairs_get(dr_ctx *c)
{
	dr_tensors *ta = &c->ta, *tb = &c->tb;
	int by_name = 0, la = 0, lb = 0;

	if (c->pairs_ready)
		return 0;
	if (dr_tensors_get(c, c->in->a, ta) < 0 || dr_tensors_get(c, c->in->b, tb) < 0)
		return -1;
	c->pairs = ks_xcalloc((size_t)(ta->n ? ta->n : 1), sizeof *c->pairs);
	for (int i = 0; i < ta->n; i++)
		la += ta->t[i].layer != NULL;
	for (int j = 0; j < tb->n; j++)
		lb += tb->t[j].layer != NULL;
	for (int i = 0; i < ta->n; i++) {
		if (!ta->t[i].layer)
			continue;
		for (int j = 0; j < tb->n; j++)
			if (tb->t[j].layer && !strcmp(ta->t[i].name, tb->t[j].name)) {
				c->pairs[c->n_pairs++] = (dr_pair){.a = &ta->t[i], .b = &tb->t[j]};
				by_name++;
				break;
			}
	}
	if (by_name < la && la == lb) {
		bool ok = true;
		int j = 0;
		c->n_pairs = 0;
		for (int i = 0; i < ta->n && ok; i++) {
			if (!ta->t[i].layer)
				continue;
			while (j < tb->n && !tb->t[j].layer)
				j++;
			ok = j < tb->n && same_shape(ta->t[i].w, tb->t[j].w);
			if (ok)
				c->pairs[c->n_pairs++] = (dr_pair){.a = &ta->t[i], .b = &tb->t[j++]};
		}
		if (!ok) {  /* back to the name pairs */
			c->n_pairs = 0;
			for (int i = 0; i < ta->n; i++)
				for (int k = 0; ta->t[i].layer && k < tb->n; k++)
					if (tb->t[k].layer && !strcmp(ta->t[i].name, tb->t[k].name)) {
						c->pairs[c->n_pairs++] = (dr_pair){.a = &ta->t[i], .b = &tb->t[k]};
						break;
					}
		}
	}
	c->a_unpaired = la - c->n_pairs;
	c->b_unpaired = lb - c->n_pairs;
	for (int p = 0; p < c->n_pairs; p++) {
		dr_pair *q = &c->pairs[p];
		ks_cmp r;
		q->same_shape = same_shape(q->a->w, q->b->w);
		if (!q->same_shape)
			continue;
		if (compare(q->a, q->b, &r, c->err) < 0)
			return -1;
		q->n_changed = r.n_changed;
		q->max_abs = r.max_abs;
	}
	c->pairs_ready = true;
	return 0;
}

static int need_b(dr_ctx *c)
{
	if (!c->in->b)
		return dr_skip(c, "needs a second file (FILE2)");
	return 0;
}

/* ---- weights-reinitialised ---- */

int dr_check_reinitialised(dr_ctx *c)
{
	int rc = need_b(c);
	if (rc)
		return rc;
	if (pairs_get(c) < 0)
		return -1;
	if (c->n_pairs == 0)
		return dr_skip(c, "the two files share no tensors (different architectures)");
	int changed = 0;
	for (int p = 0; p < c->n_pairs; p++)
		changed += c->pairs[p].same_shape && c->pairs[p].n_changed > 0;
	bool ua = c->ta.n_moved == 0 && c->ta.n_random_at_init > 0;
	bool ub = c->tb.n_moved == 0 && c->tb.n_random_at_init > 0;
	if (changed != c->n_pairs || ua == ub)
		return 0;
	const char *side = ub ? "b" : "a";
	const ks_model *fresh = ub ? c->in->b : c->in->a, *other = ub ? c->in->a : c->in->b;
	const dr_tensors *tf = ub ? &c->tb : &c->ta;
	ks_finding *f = dr_add(c, "weights-reinitialised", KS_SEV_ERROR, NULL, NULL);
	json_t *init = json_array(), *ch = json_array();
	char *ev = ks_xstrdup("");
	int shown = 0;
	for (int i = 0; i < tf->n; i++) {
		const dr_tensor *x = &tf->t[i];
		if (x->verdict != KS_INIT_AT_INIT)
			continue;
		json_t *o = json_object();
		json_object_set_new(o, "name", json_string(x->name));
		json_object_set_new(o, "init", json_string(x->rule.name));
		if (x->rule.kind == KS_INIT_UNIFORM) {
			json_object_set_new(o, "fan_in", json_integer(x->rule.fan_in));
			json_object_set_new(o, "fan_out", json_integer(x->rule.fan_out));
			json_object_set_new(o, "limit", json_real(x->rule.hi));
		}
		json_array_append_new(init, o);
		if (shown++ < 3) {
			char *s = ks_xasprintf("%s%s%s: %s", ev, shown > 1 ? "; " : "", x->name, x->why);
			free(ev);
			ev = s;
		}
	}
	for (int p = 0; p < c->n_pairs; p++)
		json_array_append_new(ch, json_string(c->pairs[p].a->name));
	dr_set(&f->summary, "%s has %s's architecture but freshly initialised weights: all %d tensors "
	       "differ and its values are exactly what Keras' initializers produce", fresh->path,
	       other->path, c->n_pairs);
	dr_set(&f->evidence, "%s%s", ev, shown > 3 ? "; ..." : "");
	dr_set(&f->fix, "the code that saved %s re-initialised or never loaded the weights: load them "
	       "with keras.models.load_model(\"%s\") or model.load_weights() and do not run an "
	       "initializer (tf.compat.v1.global_variables_initializer()) or rebuild the model "
	       "afterwards", fresh->path, other->path);
	json_object_set_new(f->details, "reinitialised", json_string(side));
	json_object_set_new(f->details, "init", init);
	json_object_set_new(f->details, "changed", ch);
	free(ev);
	return 0;
}

/* ---- class-permutation ---- */

/* Output-based class order: both models on the given input; the first
 * output's columns compared within 1e-5 (absolute) as a permutation. */
static bool output_permutation(dr_ctx *c, int **map, int64_t *cols)
{
	const ks_model *ms[2] = {c->in->a, c->in->b};
	ks_plan *p[2] = {NULL, NULL};
	ks_shape shapes[KS_MAX_IO];
	const float *ins[KS_MAX_IO];
	bool found = false;
	ks_err e;

	if (!c->in->n_inputs || c->in->n_inputs > KS_MAX_IO)
		return false;
	for (int i = 0; i < c->in->n_inputs; i++) {
		shapes[i].rank = c->in->inputs[i].rank;
		memcpy(shapes[i].d, c->in->inputs[i].shape, sizeof(int64_t) * (size_t)shapes[i].rank);
		ins[i] = c->in->inputs[i].data;
	}
	for (int k = 0; k < 2; k++) {
		ks_plan_opts o = {.input_shapes = shapes, .n_input_shapes = c->in->n_inputs};
		if (ms[k]->n_inputs != c->in->n_inputs || !(p[k] = ks_plan_build(ms[k], &o, &e)))
			goto out;
		ks_plan_run(p[k], ins);
	}
	const ks_shape *sa = ks_plan_output_shape(p[0], 0), *sb = ks_plan_output_shape(p[1], 0);
	if (sa->rank != 2 || sb->rank != 2 || sa->d[0] != sb->d[0] || sa->d[1] != sb->d[1])
		goto out;
	ks_tol tol = {KS_TOL_ABS, 1e-5};
	*cols = sa->d[1];
	*map = ks_xcalloc((size_t)*cols, sizeof **map);
	found = ks_cmp_column_permutation(ks_plan_output(p[0], 0), ks_plan_output(p[1], 0), sa->d[0],
	                                  sa->d[1], &tol, *map);
	if (!found) {
		free(*map);
		*map = NULL;
	}
out:
	ks_plan_free(p[0]);
	ks_plan_free(p[1]);
	return found;
}

/* Reads kernel + bias of an output Dense-like layer as (rows+1) x units. */
static float *output_matrix(const dr_tensor *k, const dr_tensor *b, int64_t *rows, int64_t *cols,
                            ks_err *err)
{
	int64_t n;
	if (k->w->rank < 2 || !ks_numel(k->w->shape, k->w->rank, &n) || n > PERM_MAX_FLOATS)
		return NULL;
	*cols = k->w->shape[k->w->rank - 1];
	*rows = n / *cols + (b ? 1 : 0);
	float *v = ks_xmalloc((size_t)(*rows * *cols) * sizeof *v);
	if (ks_weight_read(k->m, k->w, v, err) < 0 || (b && ks_weight_read(b->m, b->w, v + n, err) < 0)) {
		free(v);
		return NULL;
	}
	return v;
}

static const dr_pair *pair_of(dr_ctx *c, const ks_layer *L, const char *wname)
{
	for (int p = 0; p < c->n_pairs; p++)
		if (c->pairs[p].a->layer == L && !strcmp(c->pairs[p].a->w->name, wname))
			return &c->pairs[p];
	return NULL;
}

static void permutation_finding(dr_ctx *c, const char *layer, const int *map, int64_t cols,
                                const char *how)
{
	ks_finding *f = dr_add(c, "class-permutation", KS_SEV_ERROR, layer, NULL);
	json_t *mj = json_array();
	char *ms = ks_xstrdup("");
	for (int64_t j = 0; j < cols; j++) {
		json_array_append_new(mj, json_integer(map[j]));
		if (j < 20) {
			char *s = ks_xasprintf("%s%s%lld->%d", ms, j ? ", " : "", (long long)j, map[j]);
			free(ms);
			ms = s;
		}
	}
	dr_set(&f->summary, "the output classes of %s are those of %s in another order: class j of "
	       "the first is class mapping[j] of the second", c->in->b->path, c->in->a->path);
	dr_set(&f->evidence, "%s (mapping %s%s)", how, ms, cols > 20 ? ", ..." : "");
	dr_set(&f->fix, "the label list was rebuilt in another order (list(set(labels)) changes "
	       "between sessions): save the class names with the model and map predictions with "
	       "them (kerascope --labels FILE), or re-order: b_scores[:, mapping] gives a's order");
	if (layer)
		json_object_set_new(f->details, "layer", json_string(layer));
	json_object_set_new(f->details, "mapping", mj);
	json_object_set_new(f->details, "mapping_rule", json_string("mapping[j] = index in b of a's class j"));
	free(ms);
}

int dr_check_class_permutation(dr_ctx *c)
{
	const ks_model *a = c->in->a;
	int64_t cols;
	int *map = NULL;
	int rc = need_b(c);
	if (rc)
		return rc;
	if (a->n_outputs < 1 || a->outputs[0].layer < 0)
		return dr_skip(c, "the first file has no architecture");
	if (pairs_get(c) < 0)
		return -1;
	const ks_layer *L = &a->layers[a->outputs[0].layer];
	const dr_pair *pk = pair_of(c, L, "kernel"), *pb = pair_of(c, L, "bias");
	if (pk && pk->same_shape && pk->n_changed == 0)
		return 0;  /* the output layer is the same in both */
	if (pk && pk->same_shape) {
		int64_t ra, rb, cb;
		ks_err e;
		float *ma = output_matrix(pk->a, pb && pb->same_shape ? pb->a : NULL, &ra, &cols, &e);
		float *mb = ma ? output_matrix(pk->b, pb && pb->same_shape ? pb->b : NULL, &rb, &cb, &e) : NULL;
		if (ma && mb) {
			ks_tol tol = {KS_TOL_EXACT, 0};
			map = ks_xcalloc((size_t)cols, sizeof *map);
			if (ks_cmp_column_permutation(ma, mb, ra, cols, &tol, map)) {
				int others = 0;
				for (int p = 0; p < c->n_pairs; p++)
					if (c->pairs[p].a->layer != L && c->pairs[p].n_changed > 0)
						others++;
				char how[256];
				snprintf(how, sizeof how, "the columns of %s/kernel%s are permuted exactly; %s",
				         L->name, pb ? " and bias" : "",
				         others ? "other layers differ too" : "every other tensor is identical");
				permutation_finding(c, L->name, map, cols, how);
				free(map);
				free(ma);
				free(mb);
				return 0;
			}
			free(map);
			map = NULL;
		}
		free(ma);
		free(mb);
	}
	/* the weights do not show it (retrained, other architecture): the outputs may */
	if (output_permutation(c, &map, &cols)) {
		permutation_finding(c, L->name, map, cols, "on the given input, the second model's output "
		                    "columns equal the first's in another order (within 1e-5)");
		free(map);
		return 0;
	}
	if (!c->in->n_inputs && (!pk || !pk->same_shape))
		return dr_skip(c, "the output layer %s differs in shape or name between the files; "
		               "give --input to compare the outputs", L->name);
	return 0;
}

/* ---- identical-weights ---- */

int dr_check_identical(dr_ctx *c)
{
	int rc = need_b(c);
	if (rc)
		return rc;
	if (pairs_get(c) < 0)
		return -1;
	if (c->n_pairs == 0 || c->a_unpaired || c->b_unpaired)
		return 0;
	for (int p = 0; p < c->n_pairs; p++)
		if (!c->pairs[p].same_shape || c->pairs[p].n_changed)
			return 0;
	const ks_model *a = c->in->a, *b = c->in->b;
	ks_finding *f = dr_add(c, "identical-weights", KS_SEV_INFO, NULL, NULL);
	const json_t *ta = a->training_config ? a->training_config : a->compile_config;
	const json_t *tb = b->training_config ? b->training_config : b->compile_config;
	char *ma = json_dumps(json_object_get(ta, "metrics"), JSON_COMPACT | JSON_ENCODE_ANY);
	char *mb = json_dumps(json_object_get(tb, "metrics"), JSON_COMPACT | JSON_ENCODE_ANY);
	bool metrics_differ = (ma || mb) && (!ma || !mb || strcmp(ma, mb) != 0);
	bool arch_differ = !json_equal(a->model_config, b->model_config);
	dr_set(&f->summary, "both files hold exactly the same weights (%d tensors): the difference is "
	       "outside the model", c->n_pairs);
	dr_set(&f->evidence, "every tensor bit-identical%s%s%s%s%s", arch_differ ? "; the model configs differ" : "",
	       metrics_differ ? "; the compiled metrics differ: " : "", metrics_differ ? (ma ? ma : "none") : "",
	       metrics_differ ? " vs " : "", metrics_differ ? (mb ? mb : "none") : "");
	dr_set(&f->fix, "check, in order: the input data and its preprocessing (scaling, channel order, "
	       "tokenizer); the label mapping (class order); the metric (a bare \"accuracy\" resolves "
	       "from the labels' format); randomness (dropout with training=True, unseeded shuffling); "
	       "the Keras/TensorFlow version");
	json_object_set_new(f->details, "tensors", json_integer(c->n_pairs));
	json_object_set_new(f->details, "metrics_differ", json_boolean(metrics_differ));
	json_object_set_new(f->details, "config_differs", json_boolean(arch_differ));
	free(ma);
	free(mb);
	return 0;
}

/* ---- with --input ---- */

static int need_input(dr_ctx *c, ks_plan **p, bool keep_all)
{
	const ks_model *m = c->in->a;
	ks_shape shapes[KS_MAX_IO];
	ks_err e;
	if (!c->in->n_inputs)
		return dr_skip(c, "needs --input");
	if (c->in->n_inputs != m->n_inputs || m->n_inputs > KS_MAX_IO)
		return dr_skip(c, "the model takes %d inputs, %d given", m->n_inputs, c->in->n_inputs);
	for (int i = 0; i < m->n_inputs; i++) {
		shapes[i].rank = c->in->inputs[i].rank;
		memcpy(shapes[i].d, c->in->inputs[i].shape, sizeof(int64_t) * (size_t)shapes[i].rank);
	}
	ks_plan_opts o = {.input_shapes = shapes, .n_input_shapes = m->n_inputs, .keep_all = keep_all};
	if (!(*p = ks_plan_build(m, &o, &e)))
		return dr_skip(c, "the model cannot run here: %s", e.msg);
	return 0;
}

static void run(dr_ctx *c, ks_plan *p)
{
	const float *ins[KS_MAX_IO];
	for (int i = 0; i < c->in->n_inputs; i++)
		ins[i] = c->in->inputs[i].data;
	ks_plan_run(p, ins);
}

int dr_check_nan_output(dr_ctx *c)
{
	ks_plan *p = NULL;
	int rc = need_input(c, &p, true);
	if (rc)
		return rc;
	run(c, p);
	for (int s = 0; s < ks_plan_n_steps(p); s++) {
		const ks_plan_step *st = ks_plan_step_info(p, s);
		for (int k = 0; k < st->n_out; k++) {
			const float *v = ks_plan_step_output(p, s, k);
			int64_t n = ks_shape_numel(&st->out[k]), bad = 0, first = -1;
			for (int64_t i = 0; v && i < n; i++)
				if (!isfinite(v[i])) {
					if (first < 0)
						first = i;
					bad++;
				}
			if (!bad)
				continue;
			ks_finding *f = dr_add(c, "nan-inf-output", KS_SEV_ERROR, st->name, NULL);
			dr_set(&f->summary, "on the given input, layer %s (%s) is the first to output NaN or "
			       "Inf (%lld of %lld values)", st->name, st->class_name, (long long)bad, (long long)n);
			dr_set(&f->evidence, "output %d of %s, first non-finite value at flat index %lld; every "
			       "earlier layer's output is finite", k, st->name, (long long)first);
			dr_set(&f->fix, "check the weights of %s (see nan-inf) and the input's range; a log/"
			       "sqrt/division in it may need an epsilon", st->name);
			json_object_set_new(f->details, "layer", json_string(st->name));
			json_object_set_new(f->details, "count", json_integer(bad));
			ks_plan_free(p);
			return 0;
		}
	}
	ks_plan_free(p);
	return 0;
}

int dr_check_deterministic(dr_ctx *c)
{
	ks_plan *p = NULL;
	int rc = need_input(c, &p, false);
	if (rc)
		return rc;
	int no = ks_plan_n_outputs(p);
	float **first = ks_xcalloc((size_t)no, sizeof *first);
	int64_t total = 0, differ = 0;
	run(c, p);
	for (int o = 0; o < no; o++) {
		int64_t n = ks_shape_numel(ks_plan_output_shape(p, o));
		first[o] = ks_xmalloc((size_t)(n ? n : 1) * sizeof(float));
		memcpy(first[o], ks_plan_output(p, o), (size_t)n * sizeof(float));
	}
	run(c, p);
	for (int o = 0; o < no; o++) {
		int64_t n = ks_shape_numel(ks_plan_output_shape(p, o));
		total += n;
		differ += memcmp(first[o], ks_plan_output(p, o), (size_t)n * sizeof(float)) != 0;
		free(first[o]);
	}
	free(first);
	ks_plan_free(p);
	ks_finding *f = dr_add(c, "deterministic", differ ? KS_SEV_WARNING : KS_SEV_INFO, NULL, NULL);
	dr_set(&f->summary, differ ? "two runs on the same input gave different outputs"
	       : "two runs on the same input gave bit-identical outputs (%lld values): the saved "
	         "model is deterministic at inference", (long long)total);
	dr_set(&f->evidence, "inference semantics (training=False): dropout and noise layers are the "
	       "identity; outputs compared byte for byte");
	dr_set(&f->fix, "if Keras gives varying results, look for training=True calls (training-flag), "
	       "stateful layers (stateful-rnn), unseeded random layers used in training mode, and "
	       "GPU kernels (TF_DETERMINISTIC_OPS=1)");
	json_object_set_new(f->details, "bit_identical", json_boolean(!differ));
	return 0;
}

int dr_check_input_contract(dr_ctx *c)
{
	const ks_model *m = c->in->a;
	if (!c->in->n_inputs)
		return dr_skip(c, "needs --input");
	if (c->in->n_inputs != m->n_inputs)
		return dr_skip(c, "the model takes %d inputs, %d given", m->n_inputs, c->in->n_inputs);
	for (int i = 0; i < m->n_inputs; i++) {
		const ks_array *x = &c->in->inputs[i];
		int64_t n = ks_array_numel(x);
		double lo = INFINITY, hi = -INFINITY, sum = 0, sq = 0;
		for (int64_t k = 0; k < n; k++) {
			double v = x->data[k];
			if (!isfinite(v))
				continue;
			lo = v < lo ? v : lo;
			hi = v > hi ? v : hi;
			sum += v;
			sq += v * v;
		}
		double mean = n ? sum / (double)n : 0, sd = n ? sqrt(fmax(0, sq / (double)n - mean * mean)) : 0;
		int src = m->inputs[i].layer;
		for (int li = 0; li < m->n_layers; li++) {
			const ks_layer *L = &m->layers[li];
			bool fed = false;
			for (int nd = 0; nd < L->n_nodes && !fed; nd++)
				for (int r = 0; r < L->nodes[nd].n_in; r++)
					fed |= L->nodes[nd].in[r].layer == src;
			if (!fed || !L->class_name)
				continue;
			if (!strcmp(L->class_name, "Rescaling")) {
				const json_t *sc = json_object_get(L->config, "scale");
				double scale = json_is_number(sc) ? json_number_value(sc) : 1.0;
				if (scale > 0 && scale <= 1.0 / 100 && hi <= 1.0 + 1e-6 && lo >= -1.0 - 1e-6) {
					ks_finding *f = dr_add(c, "input-contract", KS_SEV_WARNING, L->name, NULL);
					dr_set(&f->summary, "the input is already scaled (values in [%.4g, %.4g]) but "
					       "the model divides it again: %s multiplies by %g", lo, hi, L->name, scale);
					dr_set(&f->evidence, "%s config scale %g; --input %d ranges over [%.4g, %.4g]",
					       L->name, scale, i, lo, hi);
					dr_set(&f->fix, "give the model raw values (e.g. 0..255 pixels), as in "
					       "training; do not scale the data before a model that contains Rescaling");
					json_object_set_new(f->details, "scale", json_real(scale));
				}
			} else if (!strcmp(L->class_name, "Normalization")) {
				const json_t *mu = json_object_get(L->config, "mean"), *var = json_object_get(L->config, "variance");
				double lm = json_is_number(mu) ? json_number_value(mu) : json_is_number(json_array_get(mu, 0)) ? json_number_value(json_array_get(mu, 0)) : NAN;
				double lv = json_is_number(var) ? json_number_value(var) : json_is_number(json_array_get(var, 0)) ? json_number_value(json_array_get(var, 0)) : NAN;
				if (isnan(lm) || isnan(lv) || lv <= 0)
					continue;  /* adapted statistics live in the weights */
				double z = fabs(mean - lm) / sqrt(lv), ratio = sd / sqrt(lv);
				if (z > 10 || (sd > 0 && (ratio < 0.01 || ratio > 100))) {
					ks_finding *f = dr_add(c, "input-contract", KS_SEV_WARNING, L->name, NULL);
					dr_set(&f->summary, "the input's scale does not match what %s was adapted to", L->name);
					dr_set(&f->evidence, "%s mean %g, variance %g; --input %d has mean %.4g, std %.4g",
					       L->name, lm, lv, i, mean, sd);
					dr_set(&f->fix, "give the model data preprocessed as during adapt()/training");
				}
			}
		}
	}
	return 0;
}
