#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ks_diff_report.h"
#include "ks_report.h"
#include "ks_util.h"

/* ---- helpers --------------------------------------------------------------- */

static json_t *jnum(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* Statistics made of sums (mean, RMS, norms, cosine) depend in their last
 * bits on the order of the additions: 12 significant digits say all they
 * know and keep the output stable. Maxima are exact and printed in full. */
static json_t *jsum(double v)
{
	char buf[32];
	if (!isfinite(v))
		return json_null();
	snprintf(buf, sizeof buf, "%.12g", v);
	return json_real(strtod(buf, NULL));
}

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *jshape(const ks_weight *w)
{
	json_t *a = json_array();
	for (int i = 0; i < w->rank; i++)
		json_array_append_new(a, json_integer(w->shape[i]));
	return a;
}

const char *ks_diff_index_str(const ks_weight *w, int64_t flat, char *buf, size_t size)
{
	int64_t idx[KS_MAX_RANK];
	for (int i = w->rank - 1; i >= 0; i--) {
		int64_t n = w->shape[i] > 0 ? w->shape[i] : 1;
		idx[i] = flat % n;
		flat /= n;
	}
	size_t used = 0;
	used += (size_t)snprintf(buf + used, size - used, "[");
	for (int i = 0; i < w->rank && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%" PRId64, i ? ", " : "", idx[i]);
	if (used < size)
		snprintf(buf + used, size - used, "]");
	return buf;
}

static json_t *jindex(const ks_weight *w, int64_t flat)
{
	json_t *a = json_array();
	int64_t idx[KS_MAX_RANK];
	for (int i = w->rank - 1; i >= 0; i--) {
		int64_t n = w->shape[i] > 0 ? w->shape[i] : 1;
		idx[i] = flat % n;
		flat /= n;
	}
	for (int i = 0; i < w->rank; i++)
		json_array_append_new(a, json_integer(idx[i]));
	return a;
}

static json_t *changes_json(const ks_diff_change *c, int n, bool with_info)
{
	json_t *arr = json_array();
	for (int i = 0; i < n; i++) {
		json_t *o = json_pack("{s:s, s:O, s:O}", "key", c[i].key, "a", c[i].a ? c[i].a : json_null(),
		                      "b", c[i].b ? c[i].b : json_null());
		if (with_info)
			json_object_set_new(o, "info", json_boolean(c[i].info));
		json_array_append_new(arr, o);
	}
	return arr;
}

static void cmp_fields(json_t *o, const ks_cmp *c)
{
	json_object_set_new(o, "changed", json_integer(c->n_changed));
	json_object_set_new(o, "max_abs", jnum(c->max_abs));
	json_object_set_new(o, "mean_abs", jsum(ks_cmp_mean_abs(c)));
	json_object_set_new(o, "rms", jsum(ks_cmp_rms(c)));
	json_object_set_new(o, "max_rel", jnum(c->max_rel));
	json_object_set_new(o, "rel_norm", jsum(ks_cmp_rel_norm(c)));
	json_object_set_new(o, "cosine", jsum(ks_cmp_cosine(c)));
}

static json_t *tensor_json(const ks_diff_tensor *t)
{
	json_t *o = json_pack("{s:o, s:o, s:o, s:s, s:I}", "a", jstr(t->name_a), "b", jstr(t->name_b),
	                      "pairing", jstr(ks_pair_how_name(t->pairing)), "status",
	                      ks_diff_status_name(t->status), "size", (json_int_t)t->size);
	if (t->wa && t->wb && t->status == KS_DS_RESHAPED) {
		json_object_set_new(o, "shape_a", jshape(t->wa));
		json_object_set_new(o, "shape_b", jshape(t->wb));
	} else {
		json_object_set_new(o, "shape", jshape(t->wa ? t->wa : t->wb));
	}
	if (!t->compared)
		return o;
	const ks_cmp *c = &t->cmp;
	cmp_fields(o, c);
	json_object_set_new(o, "max_abs_at", c->max_abs_at >= 0 ? jindex(t->wa, c->max_abs_at) : json_null());
	if (c->max_abs_at >= 0) {
		json_object_set_new(o, "max_abs_a", json_real(ks_report_f32(c->max_a)));
		json_object_set_new(o, "max_abs_b", json_real(ks_report_f32(c->max_b)));
	}
	json_object_set_new(o, "nan", json_pack("{s:I, s:I}", "a", (json_int_t)c->nan_a, "b",
	                                         (json_int_t)c->nan_b));
	json_object_set_new(o, "inf", json_pack("{s:I, s:I}", "a", (json_int_t)c->inf_a, "b",
	                                         (json_int_t)c->inf_b));
	json_object_set_new(o, "nonfinite_new", json_integer(c->nonfinite_new));
	json_object_set_new(o, "nonfinite_gone", json_integer(c->nonfinite_gone));
	return o;
}

static json_t *side_json(const ks_model *m, const char *config_from)
{
	return json_pack("{s:s, s:s, s:o, s:o, s:b, s:o}", "path", m->path, "format",
	                 ks_format_name(m->format), "keras_version", jstr(m->keras_version), "backend",
	                 jstr(m->backend), "has_config", m->model_config != NULL, "config_from",
	                 jstr(config_from));
}

static json_t *opt_json(const ks_diff_side_opt *o)
{
	return json_pack("{s:b, s:o, s:i, s:I, s:o}", "present", o->present, "class", jstr(o->class_name),
	                 "tensors", o->n_tensors, "params", (json_int_t)o->params, "step",
	                 o->has_step ? json_integer(o->step) : json_null());
}

static json_t *mapping_json(const int *map, int n)
{
	json_t *a = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(a, json_integer(map[i]));
	return a;
}

static json_t *outputs_json(const ks_diff *d)
{
	const ks_diff_outputs *o = &d->outputs;
	json_t *layers = json_array(), *outs = json_array();
	for (int i = 0; i < o->n_layers; i++) {
		const ks_diff_out_layer *L = &o->layers[i];
		json_t *e = json_pack("{s:s, s:s, s:b}", "a", L->name_a, "b", L->name_b, "diverges", L->diverges);
		if (L->size < 0) {
			json_object_set_new(e, "shapes_differ", json_true());
		} else {
			json_object_set_new(e, "size", json_integer(L->size));
			cmp_fields(e, &L->cmp);
		}
		json_array_append_new(layers, e);
	}
	double max_abs = 0;
	for (int i = 0; i < o->n_outs; i++) {
		const ks_diff_model_out *m = &o->outs[i];
		json_t *e = json_pack("{s:s, s:s, s:I, s:I}", "a", m->name_a, "b", m->name_b, "rows",
		                      (json_int_t)m->rows, "cols", (json_int_t)m->cols);
		cmp_fields(e, &m->cmp);
		json_object_set_new(e, "top1_agreement", jnum(m->top1));
		json_object_set_new(e, "permutation", m->mapping ? mapping_json(m->mapping, m->n_mapping) : json_null());
		json_array_append_new(outs, e);
		if (m->cmp.max_abs > max_abs)
			max_abs = m->cmp.max_abs;
	}
	const ks_diff_model_out *first = o->n_outs ? &o->outs[0] : NULL;
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
	                 "input", jstr(o->input_source),
	                 "first_divergence",
	                 o->first_divergence >= 0 ? json_string(o->layers[o->first_divergence].name_a) : json_null(),
	                 "stopped", jstr(o->stopped),
	                 "layers", layers,
	                 "max_abs", first ? jnum(max_abs) : json_null(),
	                 "top1_agreement", first ? jnum(first->top1) : json_null(),
	                 "permutation", first && first->mapping ? mapping_json(first->mapping, first->n_mapping)
	                                                        : json_null(),
	                 "outputs", outs);
}

json_t *ks_diff_json(const ks_diff *d)
{
	char tol[64];
	json_t *root = json_object(), *layers = json_array(), *tensors = json_array(), *perms = json_array();
	json_object_set_new(root, "identical", json_boolean(ks_diff_identical(d)));
	json_object_set_new(root, "weights_identical", json_boolean(ks_diff_weights_identical(d)));
	json_object_set_new(root, "differences", json_boolean(ks_diff_any_difference(d)));
	json_object_set_new(root, "tolerance", json_string(ks_tol_str(&d->opts.tol, tol, sizeof tol)));
	json_object_set_new(root, "a", side_json(d->a, d->config_from_a));
	json_object_set_new(root, "b", side_json(d->b, d->config_from_b));
	json_object_set_new(root, "summary",
	                    json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:I, s:I, s:i, s:i, s:i, s:i, s:i}",
	                              "tensors", d->n_tensors, "same", d->n_same, "changed", d->n_changed,
	                              "reshaped", d->n_reshaped, "added", d->n_added, "removed", d->n_removed,
	                              "params", (json_int_t)d->params_a, "params_changed",
	                              (json_int_t)d->params_changed, "layers_added", d->n_layers_added,
	                              "layers_removed", d->n_layers_removed, "layers_renamed",
	                              d->n_layers_renamed, "layers_config_changed", d->n_layers_config,
	                              "permuted_layers", d->n_permuted));
	json_t *total = json_object();
	cmp_fields(total, &d->total);
	json_object_set_new(root, "total", total);
	for (int i = 0; i < d->n_layers; i++) {
		const ks_diff_layer *L = &d->layers[i];
		json_t *e = json_pack("{s:o, s:o, s:o, s:s, s:i, s:I, s:I, s:o}", "a", jstr(L->name_a), "b",
		                      jstr(L->name_b), "pairing", jstr(ks_pair_how_name(L->pairing)), "status",
		                      ks_diff_status_name(L->status), "depth", L->depth, "params",
		                      (json_int_t)L->params, "changed_params", (json_int_t)L->changed_params,
		                      "config_changes", changes_json(L->changes, L->n_changes, false));
		json_object_set_new(e, "class", jstr(L->la ? L->la->class_name : L->lb->class_name));
		if (L->roll.count) {
			json_object_set_new(e, "max_abs", jnum(L->roll.max_abs));
			json_object_set_new(e, "rel_norm", jsum(ks_cmp_rel_norm(&L->roll)));
		}
		json_array_append_new(layers, e);
		if (L->mapping)
			json_array_append_new(perms, json_pack("{s:s, s:o, s:o}", "layer", L->name_a, "b",
			                                       jstr(L->name_b), "mapping",
			                                       mapping_json(L->mapping, L->n_mapping)));
	}
	for (int i = 0; i < d->n_tensors; i++)
		json_array_append_new(tensors, tensor_json(&d->tensors[i]));
	json_object_set_new(root, "layers", layers);
	json_object_set_new(root, "tensors", tensors);
	json_object_set_new(root, "permutations", perms);
	json_object_set_new(root, "model_changes", changes_json(d->model_changes, d->n_model_changes, true));
	json_object_set_new(root, "training_config", json_pack("{s:b, s:b}", "a", d->training_a, "b", d->training_b));
	json_object_set_new(root, "training", changes_json(d->training_changes, d->n_training_changes, false));
	json_t *ot = json_array();
	for (int i = 0; i < d->n_opt_tensors; i++)
		json_array_append_new(ot, tensor_json(&d->opt_tensors[i]));
	json_object_set_new(root, "optimizer", json_pack("{s:o, s:o, s:o}", "a", opt_json(&d->opt_a), "b",
	                                                 opt_json(&d->opt_b), "tensors", ot));
	if (d->opts.elem_max > 0) {
		json_t *el = json_array();
		for (int64_t i = 0; i < d->n_elems; i++) {
			const ks_diff_elem *e = &d->elems[i];
			const ks_diff_tensor *t = e->tensor >= 0 ? &d->tensors[e->tensor] : &d->opt_tensors[-1 - e->tensor];
			json_array_append_new(el, json_pack("{s:s, s:o, s:o, s:o, s:o}", "tensor", t->name_a, "index",
			                                    jindex(t->wa, e->flat), "a", jnum(ks_report_f32(e->a)),
			                                    "b", jnum(ks_report_f32(e->b)), "diff",
			                                    jnum(fabs((double)e->a - (double)e->b))));
		}
		json_object_set_new(root, "elements", el);
	}
	if (d->outputs.ran)
		json_object_set_new(root, "outputs", outputs_json(d));
	return root;
}

/* ---- text -------------------------------------------------------------------- */

static double pct(int64_t part, int64_t whole)
{
	return whole > 0 ? 100.0 * (double)part / (double)whole : 0;
}

static void add_part(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add_part(char *buf, size_t size, const char *fmt, ...)
{
	size_t used = strlen(buf);
	if (used && used + 2 < size) {
		strcat(buf, "; ");
		used += 2;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + used, size - used, fmt, ap);
	va_end(ap);
}

void ks_diff_headline(const ks_diff *d, char *buf, size_t size)
{
	buf[0] = 0;
	for (int i = 0; i < d->n_layers; i++)
		if (d->layers[i].mapping)
			add_part(buf, size, "class order changed in %s", d->layers[i].name_a);
	if (d->n_layers_added || d->n_layers_removed || d->n_reshaped) {
		char what[256] = "";
		if (d->n_layers_added)
			add_part(what, sizeof what, "%d layer%s added", d->n_layers_added, d->n_layers_added == 1 ? "" : "s");
		if (d->n_layers_removed)
			add_part(what, sizeof what, "%d layer%s removed", d->n_layers_removed,
			         d->n_layers_removed == 1 ? "" : "s");
		if (d->n_reshaped)
			add_part(what, sizeof what, "%d tensor%s reshaped", d->n_reshaped, d->n_reshaped == 1 ? "" : "s");
		add_part(buf, size, "architecture changed (%s)", what);
	}
	if (d->n_layers_config)
		add_part(buf, size, "settings differ in %d layer%s", d->n_layers_config,
		         d->n_layers_config == 1 ? "" : "s");
	int64_t changed_params = 0;
	for (int i = 0; i < d->n_tensors; i++)
		if (d->tensors[i].status == KS_DS_CHANGED)
			changed_params += d->tensors[i].size;
	if (d->n_changed)
		add_part(buf, size, "%d of %d tensors changed (%.3g%% of the parameters)", d->n_changed,
		         d->n_tensors, pct(changed_params, d->params_a));
	for (int i = 0; i < d->n_model_changes; i++)
		if (!d->model_changes[i].info)
			add_part(buf, size, "model %s changed", d->model_changes[i].key);
	if (d->outputs.ran && d->outputs.first_divergence >= 0)
		add_part(buf, size, "outputs diverge first at %s", d->outputs.layers[d->outputs.first_divergence].name_a);
	if (d->n_training_changes)
		add_part(buf, size, "training configuration differs");
	if (d->opt_a.present != d->opt_b.present)
		add_part(buf, size, "optimizer state only in %s", d->opt_a.present ? "a" : "b");
	else {
		int n = 0;
		for (int i = 0; i < d->n_opt_tensors; i++)
			n += d->opt_tensors[i].status != KS_DS_SAME;
		if (n)
			add_part(buf, size, "optimizer state differs (%d tensor%s)", n, n == 1 ? "" : "s");
	}
	if (!buf[0])
		snprintf(buf, size, "identical: the same %d tensor%s (%" PRId64 " parameters)%s", d->n_tensors,
		         d->n_tensors == 1 ? "" : "s", d->params_a,
		         d->n_layers_renamed ? ", layers renamed" : "");
}

static void print_json_value(FILE *out, const json_t *v)
{
	if (!v) {
		fputs("(absent)", out);
		return;
	}
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	fputs(s ? s : "?", out);
	free(s);
}

static void print_changes(FILE *out, const char *indent, const ks_diff_change *c, int n)
{
	for (int i = 0; i < n; i++) {
		fprintf(out, "%s%s: ", indent, c[i].key);
		print_json_value(out, c[i].a);
		fputs(" -> ", out);
		print_json_value(out, c[i].b);
		fputc('\n', out);
	}
}

static const char *model_desc(const ks_model *m, char *buf, size_t size)
{
	snprintf(buf, size, "%s (%s%s%s)", m->path, ks_format_name(m->format),
	         m->keras_version ? ", Keras " : "", m->keras_version ? m->keras_version : "");
	return buf;
}

static void print_tensor_row(FILE *out, const ks_diff_tensor *t, int wname)
{
	char name[512];
	if (t->name_a && t->name_b && strcmp(t->name_a, t->name_b) != 0)
		snprintf(name, sizeof name, "%s -> %s", t->name_a, t->name_b);
	else
		snprintf(name, sizeof name, "%s", t->name_a ? t->name_a : t->name_b);
	fprintf(out, "  %-*s  %-8s", wname, name, ks_diff_status_name(t->status));
	if (t->status == KS_DS_RESHAPED) {
		char sa[128], sb[128];
		fprintf(out, "  %s -> %s\n", ks_shape_str(t->wa->shape, t->wa->rank, sa, sizeof sa),
		        ks_shape_str(t->wb->shape, t->wb->rank, sb, sizeof sb));
		return;
	}
	if (!t->compared) {
		char s[128];
		const ks_weight *w = t->wa ? t->wa : t->wb;
		fprintf(out, "  %s, %" PRId64 " values\n", ks_shape_str(w->shape, w->rank, s, sizeof s), t->size);
		return;
	}
	const ks_cmp *c = &t->cmp;
	char where[160] = "";
	if (c->max_abs_at >= 0)
		ks_diff_index_str(t->wa, c->max_abs_at, where, sizeof where);
	fprintf(out, "  %" PRId64 " of %" PRId64 "  max|a-b| %.6g at %s  mean %.3g  rms %.3g  max rel %.3g  "
	        "rel norm %.3g  cosine %.6f\n", c->n_changed, t->size, c->max_abs, where[0] ? where : "-",
	        ks_cmp_mean_abs(c), ks_cmp_rms(c), c->max_rel, ks_cmp_rel_norm(c), ks_cmp_cosine(c));
	if (c->nonfinite_new || c->nonfinite_gone)
		fprintf(out, "  %*s  NaN/Inf: %" PRId64 " appear in b, %" PRId64 " disappear (a: %" PRId64
		        " NaN %" PRId64 " Inf; b: %" PRId64 " NaN %" PRId64 " Inf)\n", wname, "", c->nonfinite_new,
		        c->nonfinite_gone, c->nan_a, c->inf_a, c->nan_b, c->inf_b);
}

static void print_outputs(FILE *out, const ks_diff *d)
{
	const ks_diff_outputs *o = &d->outputs;
	fprintf(out, "\nOutputs on %s:\n", o->input_source ? o->input_source : "the given input");
	int w = 5;
	for (int i = 0; i < o->n_layers; i++)
		if ((int)strlen(o->layers[i].name_a) > w)
			w = (int)strlen(o->layers[i].name_a);
	if (o->n_layers)
		fprintf(out, "  %-*s  %12s  %10s  %s\n", w, "layer", "max|a-b|", "rel norm", "");
	for (int i = 0; i < o->n_layers; i++) {
		const ks_diff_out_layer *L = &o->layers[i];
		if (L->size < 0) {
			fprintf(out, "  %-*s  %12s  %10s  %s\n", w, L->name_a, "-", "-", "output shapes differ");
			continue;
		}
		fprintf(out, "  %-*s  %12.6g  %10.3g  %s\n", w, L->name_a, L->cmp.max_abs, ks_cmp_rel_norm(&L->cmp),
		        i == o->first_divergence ? "<- first divergence" : L->diverges ? "differs" : "");
	}
	if (o->stopped)
		fprintf(out, o->n_layers ? "  The comparison stops here: %s\n" : "  Not compared: %s\n", o->stopped);
	if (o->first_divergence >= 0)
		fprintf(out, "  First divergence: %s: the outputs agree before it and differ from here on; "
		        "look at this layer first.\n", o->layers[o->first_divergence].name_a);
	else if (o->n_layers)
		fprintf(out, "  No layer output differs beyond the tolerance.\n");
	for (int i = 0; i < o->n_outs; i++) {
		const ks_diff_model_out *m = &o->outs[i];
		fprintf(out, "  Model output %s: ", m->name_a);
		if (m->cols == 0) {
			fprintf(out, "shapes differ\n");
			continue;
		}
		fprintf(out, "max |a-b| %.6g; top-1 agreement %.4g%% of %" PRId64 " sample%s", m->cmp.max_abs,
		        100 * m->top1, m->rows, m->rows == 1 ? "" : "s");
		if (m->mapping) {
			fprintf(out, "; equal up to a class permutation: b's class ");
			for (int k = 0; k < m->n_mapping && k < 32; k++)
				fprintf(out, "%s%d", k ? ", " : "[", m->mapping[k]);
			fprintf(out, "%s] holds a's class 0, 1, ...", m->n_mapping > 32 ? ", ..." : "");
		}
		fputc('\n', out);
	}
}

void ks_diff_print_text(FILE *out, const ks_diff *d)
{
	char head[1024], buf[1024], tol[64];
	ks_diff_headline(d, head, sizeof head);
	fprintf(out, "%s\n", head);
	fprintf(out, "a: %s\n", model_desc(d->a, buf, sizeof buf));
	fprintf(out, "b: %s\n", model_desc(d->b, buf, sizeof buf));
	if (d->config_from_a || d->config_from_b)
		fprintf(out, "%s is weights only: its layers are paired with %s's; %s's architecture is used to run it.\n",
		        d->config_from_b ? "b" : "a", d->config_from_b ? "a" : "b", d->config_from_b ? "a" : "b");
	fprintf(out, "Tolerance: %s\n", ks_tol_str(&d->opts.tol, tol, sizeof tol));
	fprintf(out, "Tensors: %d (%" PRId64 " parameters in a): %d same, %d changed, %d reshaped, %d added, "
	        "%d removed\n", d->n_tensors, d->params_a, d->n_same, d->n_changed, d->n_reshaped, d->n_added,
	        d->n_removed);
	for (int i = 0; i < d->n_model_changes; i++) {
		fprintf(out, "%s", i == 0 ? "Model:\n" : "");
		print_changes(out, "  ", &d->model_changes[i], 1);
	}

	/* layers worth a line: paired under another name, one-sided, settings */
	bool header = false;
	for (int i = 0; i < d->n_layers; i++) {
		const ks_diff_layer *L = &d->layers[i];
		bool renamed = L->la && L->lb && strcmp(L->la->name, L->lb->name) != 0;
		if (!renamed && L->la && L->lb && !L->n_changes && L->status == KS_DS_SAME && !L->mapping)
			continue;
		if (!header)
			fprintf(out, "\nLayers (a -> b):\n");
		header = true;
		fprintf(out, "  %*s", 2 * L->depth, "");
		if (!L->la)
			fprintf(out, "+ %s  added in b", L->name_b);
		else if (!L->lb)
			fprintf(out, "- %s  %s", L->name_a, L->status == KS_DS_SAME ? "not in b (no weights)" : "removed in b");
		else if (renamed)
			fprintf(out, "%s -> %s  renamed (paired by %s)", L->name_a, L->lb->name, ks_pair_how_name(L->pairing));
		else
			fprintf(out, "%s", L->name_a);
		if (L->la && L->lb && L->status != KS_DS_SAME)
			fprintf(out, "  %s: %" PRId64 " of %" PRId64 " parameters", ks_diff_status_name(L->status),
			        L->changed_params, L->params);
		else if (L->la && L->lb)
			fprintf(out, "  weights same");
		fputc('\n', out);
		if (L->mapping) {
			fprintf(out, "  %*s  class order changed: a's unit j is b's unit mapping[j] = ", 2 * L->depth, "");
			for (int k = 0; k < L->n_mapping && k < 32; k++)
				fprintf(out, "%s%d", k ? ", " : "[", L->mapping[k]);
			fprintf(out, "%s]\n", L->n_mapping > 32 ? ", ..." : "");
		}
		char ind[64];
		snprintf(ind, sizeof ind, "  %*s  ", 2 * L->depth, "");
		print_changes(out, ind, L->changes, L->n_changes);
	}

	int w = 10;
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < (pass ? d->n_opt_tensors : d->n_tensors); i++) {
			const ks_diff_tensor *t = pass ? &d->opt_tensors[i] : &d->tensors[i];
			int l = (int)strlen(t->name_a ? t->name_a : t->name_b);
			if (t->name_a && t->name_b && strcmp(t->name_a, t->name_b))
				l += 4 + (int)strlen(t->name_b);
			if (t->status != KS_DS_SAME && l > w)
				w = l;
		}
	if (d->n_tensors - d->n_same > 0) {
		fprintf(out, "\nTensors that differ (%d of %d; %d same):\n", d->n_tensors - d->n_same, d->n_tensors,
		        d->n_same);
		for (int i = 0; i < d->n_tensors; i++)
			if (d->tensors[i].status != KS_DS_SAME)
				print_tensor_row(out, &d->tensors[i], w);
	}
	if (d->n_elems) {
		fprintf(out, "\nDiffering elements (position, a, b, |a-b|):\n");
		for (int64_t i = 0; i < d->n_elems; i++) {
			const ks_diff_elem *e = &d->elems[i];
			const ks_diff_tensor *t = e->tensor >= 0 ? &d->tensors[e->tensor] : &d->opt_tensors[-1 - e->tensor];
			fprintf(out, "  %s%s  %.9g  %.9g  %.9g\n", t->name_a, ks_diff_index_str(t->wa, e->flat, buf, sizeof buf),
			        (double)e->a, (double)e->b, fabs((double)e->a - (double)e->b));
		}
	}
	if (d->training_a || d->training_b) {
		fprintf(out, "\nTraining configuration: %s%s\n",
		        d->training_a && d->training_b ? (d->n_training_changes ? "differs" : "the same")
		        : d->training_a ? "only in a" : "only in b",
		        (d->training_a && !d->training_b && d->config_from_b) ||
		        (d->training_b && !d->training_a && d->config_from_a) ? " (the other file is weights only)" : "");
		if (d->training_a && d->training_b)
			print_changes(out, "  ", d->training_changes, d->n_training_changes);
	}
	if (d->opt_a.present || d->opt_b.present) {
		fprintf(out, "\nOptimizer state:\n");
		for (int s = 0; s < 2; s++) {
			const ks_diff_side_opt *o = s ? &d->opt_b : &d->opt_a;
			fprintf(out, "  %s: ", s ? "b" : "a");
			if (!o->present)
				fprintf(out, "none\n");
			else if (o->has_step)
				fprintf(out, "%s, %d tensors, step %" PRId64 "\n", o->class_name ? o->class_name : "?",
				        o->n_tensors, o->step);
			else
				fprintf(out, "%s, %d tensors\n", o->class_name ? o->class_name : "?", o->n_tensors);
		}
		if (d->opt_a.present && d->opt_b.present)
			for (int i = 0; i < d->n_opt_tensors; i++)
				if (d->opt_tensors[i].status != KS_DS_SAME)
					print_tensor_row(out, &d->opt_tensors[i], w);
	}
	if (d->outputs.ran)
		print_outputs(out, d);
}
