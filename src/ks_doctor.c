/* ks_doctor: the check runner, the shared weight scans, and the text/JSON
 * renderings of the findings (see ks_doctor.h). */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks_doctor_int.h"
#include "ks_esc.h"
#include "ks_util.h"

const char *ks_severity_name(ks_severity s)
{
	return s == KS_SEV_ERROR ? "error" : s == KS_SEV_WARNING ? "warning" : "info";
}

/* ---- explanations (the man page has the long form of each) ---- */

static const struct {
	const char *id;
	const char *text;
} explanations[] = {
	{"lambda-layer",
	 "A Lambda layer stores its Python function as marshalled bytecode, which only the same "
	 "CPython minor version can turn back into a function; another Python fails with "
	 "'bad marshal data' or a SystemError, or silently builds a different function. Keras 3 "
	 "also refuses to load it unless safe_mode=False, because loading it executes code from "
	 "the file. kerascope decodes the bytecode as data and never runs it."},
	{"custom-object",
	 "The file names classes or functions that are not part of Keras. Loading it in Python "
	 "fails with 'Unknown layer' / 'Unknown loss function' unless the same code is importable "
	 "and passed as custom_objects (or registered with "
	 "keras.saving.register_keras_serializable). A different version of that code loads "
	 "without complaint and computes something else."},
	{"ambiguous-accuracy",
	 "The bare metric name \"accuracy\" (or \"acc\") is not one metric: Keras picks binary, "
	 "categorical or sparse categorical accuracy when the model is compiled, from the shapes "
	 "of the labels and outputs (tf.keras 2 and Keras 3) or from the loss (Keras up to 2.2). "
	 "The same saved model can therefore report a different accuracy after reloading with "
	 "labels in another format, or in another Keras version."},
	{"untrained-weights",
	 "The weights are exactly what Keras' initializers produce: zero biases, BatchNormalization "
	 "at gamma=1, beta=0, mean=0, variance=1, kernels spread exactly as the initializer does for "
	 "the layer's fan-in and fan-out. The file was saved before training, or the weights were "
	 "re-initialised after loading (tf.compat.v1.global_variables_initializer() in TF1-style "
	 "code, or building a fresh model instead of loading one). Predictions are random."},
	{"bn-stats-default",
	 "BatchNormalization normalises with its moving mean and variance at inference. Here they "
	 "are still their initial values (0 and 1) while the rest of the model is trained, so the "
	 "layer never saw the training data's statistics: the model was trained with the layer in "
	 "inference mode (training=False, or a frozen base), or the statistics were saved from the "
	 "wrong copy of the model. At inference the layer then only scales by 1/sqrt(1+epsilon)."},
	{"layer-order",
	 "Keras' default load_weights for an .h5 file is topological: the k-th layer with weights "
	 "in the file goes to the k-th layer with weights in the model, whatever their names. "
	 "When the model's layer order differs from the file's (layers re-ordered or inserted in "
	 "the code), same-shaped layers silently receive each other's weights, or loading fails "
	 "with a shape mismatch."},
	{"name-mismatch",
	 "load_weights(by_name=True) matches layers by name and silently skips every layer whose "
	 "name the other side lacks: those layers keep their random initial weights and no error "
	 "is raised. Auto-generated names (dense_7, dense_8) change whenever a model is rebuilt "
	 "in a new session."},
	{"nan-inf",
	 "A weight holds NaN or Inf values, so every prediction that touches them is NaN or Inf "
	 "(or a saturated class). This usually comes from training that diverged (too high a "
	 "learning rate, a log of zero, exploding gradients) before the model was saved."},
	{"training-flag",
	 "The layer was called with training=True when the model was built, and that call is "
	 "stored in the file. Keras replays it: Dropout keeps dropping units and "
	 "BatchNormalization keeps using batch statistics inside predict(), so predictions vary "
	 "from call to call and with the batch."},
	{"stateful-rnn",
	 "A stateful recurrent layer carries its final state into the next call. Predictions then "
	 "depend on everything predicted before since the last reset_states(), and the batch "
	 "size is fixed by batch_input_shape."},
	{"keras-version-semantics",
	 "A setting saved in the file means something different in the Keras version that loads "
	 "it. hard_sigmoid is clip(0.2x + 0.5, 0, 1) in Keras 1 and 2 but relu6(x + 3)/6 = "
	 "clip(x/6 + 0.5, 0, 1) in Keras 3, so a Keras 2 file loaded into Keras 3 computes "
	 "slightly different outputs with no warning."},
	{"version-compat",
	 "Which Keras versions can load this file, and which cannot and why."},
	{"no-class-names",
	 "The model is a classifier, but the file stores no class names: output column k means "
	 "whatever class k was in the training code (often list(set(labels)), whose order changes "
	 "between Python sessions). Keep the label list with the model."},
	{"layout-note",
	 "Something in the file's layout that the loader noticed; usually harmless, worth "
	 "knowing when results differ."},
	{"weights-reinitialised",
	 "The two files have the same architecture but every weight differs, and one of them "
	 "holds exactly what the initializers produce: its weights were re-initialised (or never "
	 "loaded) before saving, so it predicts at random."},
	{"class-permutation",
	 "The two files compute the same scores, but in a different column order: class index k "
	 "means a different class in each. This happens when the label list is rebuilt in a new "
	 "session, e.g. from list(set(labels)), whose order depends on string hashing."},
	{"identical-weights",
	 "Both files hold exactly the same weights, so the model is not what changed. Different "
	 "results come from outside it: the input data or its preprocessing, the label mapping, "
	 "the metric (\"accuracy\" resolving differently), random seeds (dropout, shuffling), or "
	 "the framework version."},
	{"input-contract",
	 "The model preprocesses its input itself (Rescaling, Normalization), and the data given "
	 "does not fit what that layer expects, e.g. data already scaled to 0..1 going into "
	 "Rescaling(1/255), which squeezes it into 0..0.004."},
	{"nan-inf-output",
	 "On the given input a layer produces NaN or Inf; everything after it inherits them."},
	{"deterministic",
	 "Two runs of the model on the same input gave bit-identical outputs here, so the model "
	 "itself is deterministic at inference: differences between runs in Keras come from "
	 "training-mode layers, unseeded randomness, or nondeterministic GPU kernels."},
};

const char *ks_doctor_explain(const char *id)
{
	for (size_t i = 0; i < sizeof explanations / sizeof explanations[0]; i++)
		if (strcmp(explanations[i].id, id) == 0)
			return explanations[i].text;
	return NULL;
}

/* ---- building findings ---- */

static char *vformat(const char *fmt, va_list ap)
{
	char *s;
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	return s;
}

void dr_set(char **field, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = vformat(fmt, ap);
	va_end(ap);
	free(*field);
	*field = s;
}

ks_finding *dr_add(dr_ctx *c, const char *id, ks_severity sev, const char *layer,
                   const char *tensor)
{
	ks_doctor *d = c->d;
	ks_finding *f;
	const char *e = ks_doctor_explain(id);

	d->findings = ks_xrealloc(d->findings, (size_t)(d->n_findings + 1) * sizeof *d->findings);
	f = &d->findings[d->n_findings++];
	memset(f, 0, sizeof *f);
	f->id = id;
	f->severity = sev;
	f->layer = layer ? ks_xstrdup(layer) : NULL;
	f->tensor = tensor ? ks_xstrdup(tensor) : NULL;
	f->explanation = ks_xstrdup(e ? e : "");
	f->details = json_object();
	if (c->cur)
		c->cur->n_findings++;
	return f;
}

int dr_skip(dr_ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = vformat(fmt, ap);
	va_end(ap);
	free(c->cur->why_not);
	c->cur->why_not = s;
	c->cur->ran = false;
	return 1;
}

const char *dr_shape(const int64_t *shape, int rank, char *buf, size_t n)
{
	return ks_shape_str(shape, rank, buf, n);
}

const char *dr_index(const ks_weight *w, int64_t flat, char *buf, size_t n)
{
	int64_t idx[KS_MAX_RANK];
	size_t k = 0;
	for (int i = w->rank - 1; i >= 0; i--) {
		int64_t d = w->shape[i] > 0 ? w->shape[i] : 1;
		idx[i] = flat % d;
		flat /= d;
	}
	k += (size_t)snprintf(buf + k, n - k, "[");
	for (int i = 0; i < w->rank && k < n; i++)
		k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? ", " : "", (long long)idx[i]);
	if (k < n)
		snprintf(buf + k, n - k, "]");
	return buf;
}

/* ---- tensor scans ---- */

static void add_tensor(dr_tensors *t, const ks_model *m, const ks_layer *L, const ks_weight *w,
                       const char *prefix, int top)
{
	dr_tensor *x;
	t->t = ks_xrealloc(t->t, (size_t)(t->n + 1) * sizeof *t->t);
	x = &t->t[t->n++];
	memset(x, 0, sizeof *x);
	x->m = m;
	x->layer = L;
	x->w = w;
	x->top = top;
	if (L) {
		x->layer_name = prefix ? ks_xasprintf("%s/%s", prefix, L->name) : ks_xstrdup(L->name);
		x->name = ks_xasprintf("%s/%s", x->layer_name, w->name);
		x->has_rule = ks_init_rule_for(L, w, &x->rule);
	} else {
		x->name = ks_xstrdup(w->h5_path ? w->h5_path : w->name);
	}
}

static void collect(dr_tensors *t, const ks_model *m, const char *prefix, int top)
{
	for (int i = 0; i < m->n_layers; i++) {
		const ks_layer *L = &m->layers[i];
		int tp = top >= 0 ? top : i;
		for (int k = 0; k < L->n_weights; k++)
			add_tensor(t, m, L, &L->weights[k], prefix, tp);
		if (L->inner) {
			char *p = prefix ? ks_xasprintf("%s/%s", prefix, L->name) : ks_xstrdup(L->name);
			collect(t, L->inner, p, tp);
			free(p);
		}
	}
}

static bool random_rule(const ks_init_rule *r)
{
	return r->kind == KS_INIT_UNIFORM || r->kind == KS_INIT_NORMAL || r->kind == KS_INIT_ORTHOGONAL;
}

int dr_tensors_get(dr_ctx *c, const ks_model *m, dr_tensors *t)
{
	if (t->ready)
		return 0;
	collect(t, m, NULL, -1);
	for (int i = 0; i < m->n_opt_weights; i++)
		add_tensor(t, m, NULL, &m->opt_weights[i], NULL, -1);
	for (int i = 0; i < t->n; i++) {
		dr_tensor *x = &t->t[i];
		if (x->w->dtype == KS_DT_STRING || x->w->dtype == KS_DT_OTHER) {
			x->scan.n = 0;
			continue;
		}
		if (ks_init_scan_weight(x->m, x->w, x->has_rule ? &x->rule : NULL, &x->scan, c->err) < 0)
			return ks_err_prefix(c->err, "%s: %s", m->path, x->name);
		if (x->has_rule)
			x->verdict = ks_init_judge(&x->rule, &x->scan, x->why, sizeof x->why);
		if (x->verdict == KS_INIT_AT_INIT) {
			t->n_at_init++;
			if (random_rule(&x->rule))
				t->n_random_at_init++;
		} else if (x->verdict == KS_INIT_MOVED) {
			t->n_moved++;
		}
	}
	t->ready = true;
	return 0;
}

void dr_tensors_free(dr_tensors *t)
{
	for (int i = 0; i < t->n; i++) {
		free(t->t[i].name);
		free(t->t[i].layer_name);
	}
	free(t->t);
	memset(t, 0, sizeof *t);
}

/* ---- the runner ---- */

/* scope: 1 one file (run on FILE2 too), 2 the pair, 0 FILE with --input */
static const struct {
	const char *id;
	int (*fn)(dr_ctx *c);
	int scope;
} checks[] = {
	{"lambda-layer", dr_check_lambda, 1},
	{"custom-object", dr_check_custom, 1},
	{"layer-order", dr_check_layer_order, 1},
	{"name-mismatch", dr_check_name_mismatch, 1},
	{"nan-inf", dr_check_nan_inf, 1},
	{"untrained-weights", dr_check_untrained, 1},
	{"bn-stats-default", dr_check_bn_stats, 1},
	{"ambiguous-accuracy", dr_check_accuracy, 1},
	{"training-flag", dr_check_training_flag, 1},
	{"stateful-rnn", dr_check_stateful, 1},
	{"keras-version-semantics", dr_check_version_semantics, 1},
	{"weights-reinitialised", dr_check_reinitialised, 2},
	{"class-permutation", dr_check_class_permutation, 2},
	{"identical-weights", dr_check_identical, 2},
	{"input-contract", dr_check_input_contract, 0},
	{"nan-inf-output", dr_check_nan_output, 0},
	{"deterministic", dr_check_deterministic, 0},
	{"version-compat", dr_check_version_compat, 1},
	{"no-class-names", dr_check_class_names, 1},
	{"layout-note", dr_check_layout_notes, 1},
};

static int by_severity(const void *x, const void *y)
{
	const ks_finding *a = x, *b = y;
	if (a->severity != b->severity)
		return a->severity > b->severity ? -1 : 1;
	/* stable: the order the checks ran (kept in details as "_seq") */
	return (int)(json_integer_value(json_object_get(a->details, "_seq")) -
	             json_integer_value(json_object_get(b->details, "_seq")));
}

/* Runs the checks of the given scopes with c; findings and checks name file. */
static int run_checks(dr_ctx *c, bool one_file_only, const char *file)
{
	ks_doctor *d = c->d;
	size_t n = sizeof checks / sizeof checks[0];
	d->checks = ks_xrealloc(d->checks, (size_t)(d->n_checks + (int)n) * sizeof *d->checks);
	for (size_t i = 0; i < n; i++) {
		if (one_file_only && checks[i].scope != 1)
			continue;
		ks_check *k = &d->checks[d->n_checks++];
		int first = d->n_findings;
		memset(k, 0, sizeof *k);
		k->id = checks[i].id;
		k->ran = true;
		k->file = checks[i].scope == 2 ? NULL : ks_xstrdup(file);
		c->cur = k;
		if (checks[i].fn(c) < 0)
			return -1;
		for (int f = first; f < d->n_findings; f++) {
			json_object_set_new(d->findings[f].details, "_seq", json_integer(f));
			if (k->file)
				d->findings[f].file = ks_xstrdup(file);
		}
	}
	return 0;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void finding_free(ks_finding *f)
{
	free(f->layer);
	free(f->tensor);
	free(f->summary);
	free(f->evidence);
	free(f->explanation);
	free(f->fix);
	free(f->file);
	json_decref(f->details);
}

/* FILE2's findings that say exactly what FILE's say (same id, place and
 * evidence) add nothing: dropped, so that the pair's differences stand out. */
static void drop_repeats(ks_doctor *d, int from)
{
	int k = from;
	for (int i = from; i < d->n_findings; i++) {
		ks_finding *f = &d->findings[i];
		bool repeat = false;
		for (int j = 0; j < from && !repeat; j++) {
			const ks_finding *g = &d->findings[j];
			repeat = g->file && !strcmp(g->id, f->id) && same_str(g->layer, f->layer) &&
			         same_str(g->tensor, f->tensor) && same_str(g->evidence, f->evidence);
		}
		if (repeat) {
			for (int q = 0; q < d->n_checks; q++)
				if (d->checks[q].file && f->file && !strcmp(d->checks[q].file, f->file) &&
				    !strcmp(d->checks[q].id, f->id) && d->checks[q].n_findings > 0)
					d->checks[q].n_findings--;
			finding_free(f);
		} else {
			d->findings[k++] = *f;
		}
	}
	d->n_findings = k;
}

/* weights-reinitialised already says that one file is at its initial
 * values: that file's whole-model untrained-weights finding is dropped. */
static void drop_subsumed(ks_doctor *d, const ks_doctor_in *in)
{
	const char *fresh = NULL;
	for (int i = 0; i < d->n_findings && !fresh; i++)
		if (!strcmp(d->findings[i].id, "weights-reinitialised")) {
			const char *side = json_string_value(json_object_get(d->findings[i].details, "reinitialised"));
			fresh = side && !strcmp(side, "a") ? in->a->path : in->b->path;
		}
	if (!fresh)
		return;
	int k = 0;
	for (int i = 0; i < d->n_findings; i++) {
		ks_finding *f = &d->findings[i];
		const char *scope = json_string_value(json_object_get(f->details, "scope"));
		if (!strcmp(f->id, "untrained-weights") && f->file && !strcmp(f->file, fresh) && scope &&
		    !strcmp(scope, "model")) {
			for (int q = 0; q < d->n_checks; q++)
				if (d->checks[q].file && !strcmp(d->checks[q].file, fresh) &&
				    !strcmp(d->checks[q].id, f->id) && d->checks[q].n_findings > 0)
					d->checks[q].n_findings--;
			finding_free(f);
		} else {
			d->findings[k++] = *f;
		}
	}
	d->n_findings = k;
}

static void ctx_free(dr_ctx *c)
{
	dr_tensors_free(&c->ta);
	dr_tensors_free(&c->tb);
	free(c->pairs);
}

int ks_doctor_run(const ks_doctor_in *in, ks_doctor *d, ks_err *err)
{
	dr_ctx c = {.in = in, .d = d, .err = err};
	int rc;

	memset(d, 0, sizeof *d);
	rc = run_checks(&c, false, in->a->path ? in->a->path : "FILE");
	if (rc == 0 && in->b) {
		/* FILE2 on its own; its weight scans carry over from the pair checks */
		ks_doctor_in in2 = {.a = in->b, .n_labels = in->n_labels};
		dr_ctx c2 = {.in = &in2, .d = d, .err = err, .ta = c.tb};
		int from = d->n_findings;
		memset(&c.tb, 0, sizeof c.tb);
		rc = run_checks(&c2, true, in->b->path ? in->b->path : "FILE2");
		ctx_free(&c2);
		if (rc == 0) {
			drop_repeats(d, from);
			drop_subsumed(d, in);
		}
	}
	ctx_free(&c);
	if (rc < 0) {
		ks_doctor_free(d);
		return -1;
	}
	qsort(d->findings, (size_t)d->n_findings, sizeof *d->findings, by_severity);
	for (int f = 0; f < d->n_findings; f++)
		json_object_del(d->findings[f].details, "_seq");
	return 0;
}

void ks_doctor_free(ks_doctor *d)
{
	for (int i = 0; i < d->n_findings; i++)
		finding_free(&d->findings[i]);
	free(d->findings);
	for (int i = 0; i < d->n_checks; i++) {
		free(d->checks[i].why_not);
		free(d->checks[i].file);
	}
	free(d->checks);
	memset(d, 0, sizeof *d);
}

bool ks_doctor_has_problems(const ks_doctor *d)
{
	for (int i = 0; i < d->n_findings; i++)
		if (d->findings[i].severity >= KS_SEV_WARNING)
			return true;
	return false;
}

/* ---- rendering ---- */

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *ks_doctor_json(const ks_doctor *d)
{
	json_t *root = json_object(), *fs = json_array(), *cs = json_array();
	for (int i = 0; i < d->n_findings; i++) {
		const ks_finding *f = &d->findings[i];
		json_t *o = json_object();
		json_object_set_new(o, "id", json_string(f->id));
		json_object_set_new(o, "severity", json_string(ks_severity_name(f->severity)));
		json_object_set_new(o, "layer", jstr(f->layer));
		json_object_set_new(o, "tensor", jstr(f->tensor));
		json_object_set_new(o, "summary", jstr(f->summary));
		json_object_set_new(o, "evidence", jstr(f->evidence));
		json_object_set_new(o, "explanation", jstr(f->explanation));
		json_object_set_new(o, "fix", jstr(f->fix));
		json_object_set(o, "details", f->details);
		json_object_set_new(o, "file", jstr(f->file));
		json_array_append_new(fs, o);
	}
	for (int i = 0; i < d->n_checks; i++) {
		const ks_check *k = &d->checks[i];
		json_t *o = json_object();
		json_object_set_new(o, "id", json_string(k->id));
		json_object_set_new(o, "file", jstr(k->file));
		json_object_set_new(o, "ran", json_boolean(k->ran));
		if (!k->ran)
			json_object_set_new(o, "why_not", jstr(k->why_not));
		json_object_set_new(o, "findings", json_integer(k->n_findings));
		json_array_append_new(cs, o);
	}
	json_object_set_new(root, "findings", fs);
	json_object_set_new(root, "checks", cs);
	return root;
}

/* Prints "  label text" wrapped at 78 columns, continuation lines indented
 * by four spaces; at most max_chars of text (0: all). */
static void wrapped(FILE *out, const char *label, const char *text, size_t max_chars)
{
	const size_t indent = 4;
	size_t col, len = strlen(text), i = 0;
	bool first = true;
	if (max_chars && len > max_chars)
		len = max_chars;
	fprintf(out, "  %s", label);
	col = 2 + strlen(label);
	while (i < len) {
		size_t w = 0;
		while (i < len && text[i] == ' ')
			i++;
		while (i + w < len && text[i + w] != ' ')
			w++;
		if (!w)
			break;
		if (!first && col + 1 + w > 78) {
			fprintf(out, "\n%*s", (int)indent, "");
			col = indent;
		} else if (!first) {
			fputc(' ', out);
			col++;
		}
		fwrite(text + i, 1, w, out);
		col += w;
		i += w;
		first = false;
	}
	fputc('\n', out);
}

/* Length of the first sentence ("... it.  Next" / end). */
static size_t first_sentence(const char *s)
{
	for (size_t i = 0; s[i]; i++)
		if (s[i] == '.' && (s[i + 1] == ' ' || !s[i + 1]) && i > 20)
			return i + 1;
	return strlen(s);
}

void ks_doctor_print(FILE *out, const ks_doctor *d, bool json, bool explain)
{
	int n_skip = 0, n_ran = 0;

	if (json) {
		json_t *j = ks_doctor_json(d);
		json_dumpf(j, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
		fputc('\n', out);
		json_decref(j);
		return;
	}
	/* names and values from the file are escaped (ks_esc.h) before reaching a terminal */
	ks_esc_pool pool = {0};
	/* FILE's checks run first; findings about FILE2 say so */
	const char *first = d->n_checks ? d->checks[0].file : NULL;
	for (int i = 0; i < d->n_findings; i++) {
		const ks_finding *f = &d->findings[i];
		fprintf(out, "%s%-7s %s", i ? "\n" : "", ks_severity_name(f->severity), f->id);
		if (f->tensor)
			fprintf(out, "  %s", ks_esc_s(&pool, f->tensor));
		else if (f->layer)
			fprintf(out, "  %s", ks_esc_s(&pool, f->layer));
		if (f->file && first && strcmp(f->file, first) != 0)
			fprintf(out, "  (in %s)", ks_esc_s(&pool, f->file));
		fputc('\n', out);
		if (f->summary)
			wrapped(out, "", ks_esc_s(&pool, f->summary), 0);
		if (f->evidence)
			wrapped(out, "evidence: ", ks_esc_s(&pool, f->evidence), 0);
		if (f->explanation && f->explanation[0])
			wrapped(out, "why: ", f->explanation, explain ? 0 : first_sentence(f->explanation));
		if (f->fix)
			wrapped(out, "fix: ", ks_esc_s(&pool, f->fix), 0);
	}
	for (int i = 0; i < d->n_checks; i++) {
		if (d->checks[i].ran)
			n_ran++;
		else
			n_skip++;
	}
	if (d->n_findings)
		fputc('\n', out);
	fprintf(out, "%d finding%s; %d check%s ran", d->n_findings, d->n_findings == 1 ? "" : "s", n_ran,
	        n_ran == 1 ? "" : "s");
	if (n_skip) {
		fprintf(out, ", %d could not:\n", n_skip);
		for (int i = 0; i < d->n_checks; i++) {
			const ks_check *k = &d->checks[i];
			if (k->ran)
				continue;
			fprintf(out, "  %-24s %s", k->id, k->why_not ? ks_esc_s(&pool, k->why_not) : "");
			if (k->file && first && strcmp(k->file, first) != 0)
				fprintf(out, " (in %s)", ks_esc_s(&pool, k->file));
			fputc('\n', out);
		}
	} else {
		fputs("\n", out);
	}
	ks_esc_pool_free(&pool);
}
