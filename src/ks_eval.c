/* ks_eval: accuracies, losses and the confusion matrix, as Keras computes them (see ks_eval.h). */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks_eval.h"
#include "ks_util.h"

/* Keras' backend.epsilon(), used to clip probabilities before the log. */
#define KERAS_EPSILON 1e-7

const char *ks_acc_key(ks_acc_kind k)
{
	static const char *const keys[] = {"binary", "categorical", "sparse_categorical", "top_k"};
	return k >= 0 && k < KS_ACC_COUNT ? keys[k] : "none";
}

const char *ks_acc_metric_name(ks_acc_kind k)
{
	static const char *const names[] = {"binary_accuracy", "categorical_accuracy",
	                                    "sparse_categorical_accuracy", "top_k_categorical_accuracy"};
	return k >= 0 && k < KS_ACC_COUNT ? names[k] : "none";
}

const char *ks_loss_name(ks_loss_kind k)
{
	switch (k) {
	case KS_LOSS_BCE: return "binary_crossentropy";
	case KS_LOSS_CCE: return "categorical_crossentropy";
	case KS_LOSS_SCCE: return "sparse_categorical_crossentropy";
	case KS_LOSS_MSE: return "mean_squared_error";
	case KS_LOSS_MAE: return "mean_absolute_error";
	case KS_LOSS_AUTO_CE: return "crossentropy";
	case KS_LOSS_OTHER: return "other";
	case KS_LOSS_NONE: break;
	}
	return "none";
}

const char *ks_rule_desc(ks_acc_rule r)
{
	return r == KS_RULE_LOSS_BASED ? "Keras 1 and 2.0-2.3 decide by the loss and the output"
	                               : "tf.keras 2.2+ and Keras 3 decide by the label and output shapes";
}

/* ---- reading the compile config ---- */

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

static bool is_accuracy_word(const char *s)
{
	return strcasecmp(s, "accuracy") == 0 || strcasecmp(s, "acc") == 0;
}

ks_loss_kind ks_eval_loss_kind(const char *s)
{
	static const char *const bce[] = {"binary_crossentropy", "bce", "BCE", "BinaryCrossentropy", NULL};
	static const char *const cce[] = {"categorical_crossentropy", "CategoricalCrossentropy", NULL};
	static const char *const scce[] = {"sparse_categorical_crossentropy", "SparseCategoricalCrossentropy",
	                                   NULL};
	static const char *const mse[] = {"mean_squared_error", "mse", "MSE", "MeanSquaredError", NULL};
	static const char *const mae[] = {"mean_absolute_error", "mae", "MAE", "MeanAbsoluteError", NULL};
	if (in_list(s, bce))
		return KS_LOSS_BCE;
	if (in_list(s, cce))
		return KS_LOSS_CCE;
	if (in_list(s, scce))
		return KS_LOSS_SCCE;
	if (in_list(s, mse))
		return KS_LOSS_MSE;
	if (in_list(s, mae))
		return KS_LOSS_MAE;
	if (strcasecmp(s, "crossentropy") == 0 || strcasecmp(s, "ce") == 0)
		return KS_LOSS_AUTO_CE;
	return KS_LOSS_OTHER;
}

static ks_acc_kind acc_kind_of(const char *s)
{
	static const char *const bin[] = {"binary_accuracy", "BinaryAccuracy", NULL};
	static const char *const cat[] = {"categorical_accuracy", "CategoricalAccuracy", NULL};
	static const char *const sp[] = {"sparse_categorical_accuracy", "SparseCategoricalAccuracy", NULL};
	if (in_list(s, bin))
		return KS_ACC_BINARY;
	if (in_list(s, cat))
		return KS_ACC_CATEGORICAL;
	if (in_list(s, sp))
		return KS_ACC_SPARSE;
	return KS_ACC_NONE;
}

/* The first entry of a per-output list or dict (multi-output models), else v. */
static const json_t *first_output(const json_t *v)
{
	if (json_is_array(v) && json_array_size(v) > 0)
		return json_array_get(v, 0);
	if (json_is_object(v) && !json_object_get(v, "class_name") && json_object_size(v) > 0)
		return json_object_iter_value(json_object_iter((json_t *)v));
	return v;
}

static void read_loss(const json_t *v, ks_loss_spec *out)
{
	memset(out, 0, sizeof *out);
	v = first_output(v);
	if (json_is_string(v)) {
		snprintf(out->name, sizeof out->name, "%s", json_string_value(v));
		out->kind = ks_eval_loss_kind(out->name);
		return;
	}
	if (!json_is_object(v))
		return;
	const json_t *cls = json_object_get(v, "class_name"), *cfg = json_object_get(v, "config");
	if (!json_is_string(cls))
		return;
	snprintf(out->name, sizeof out->name, "%s", json_string_value(cls));
	out->kind = ks_eval_loss_kind(out->name);
	/* a function wrapped as a loss object names the function in config.fn */
	const json_t *fn = json_object_get(cfg, "fn");
	if (out->kind == KS_LOSS_OTHER && json_is_string(fn)) {
		snprintf(out->name, sizeof out->name, "%s", json_string_value(fn));
		out->kind = ks_eval_loss_kind(out->name);
	}
	out->from_logits = json_is_true(json_object_get(cfg, "from_logits"));
	const json_t *ls = json_object_get(cfg, "label_smoothing");
	if (json_is_number(ls))
		out->label_smoothing = json_number_value(ls);
}

/* Walks a metrics entry (string, serialized object, list or dict of them). */
static void scan_metrics(const json_t *v, ks_eval_compile *out, int depth)
{
	if (depth > 8 || !v)
		return;
	if (json_is_array(v)) {
		size_t i;
		const json_t *e;
		json_array_foreach(v, i, e)
			scan_metrics(e, out, depth + 1);
		return;
	}
	const char *name = NULL;
	if (json_is_string(v)) {
		name = json_string_value(v);
	} else if (json_is_object(v) && json_is_string(json_object_get(v, "class_name"))) {
		const json_t *cfg = json_object_get(v, "config");
		name = json_string_value(json_object_get(v, "class_name"));
		/* MeanMetricWrapper names the function it wraps */
		if (strcmp(name, "MeanMetricWrapper") == 0) {
			const json_t *fn = json_object_get(cfg, "fn"), *nm = json_object_get(cfg, "name");
			name = json_is_string(fn) ? json_string_value(fn) : json_is_string(nm) ? json_string_value(nm) : NULL;
		}
	} else if (json_is_object(v)) {
		const char *key;
		const json_t *e;
		json_object_foreach((json_t *)v, key, e)
			scan_metrics(e, out, depth + 1);
		return;
	}
	if (!name)
		return;
	if (is_accuracy_word(name)) {
		if (!out->names_accuracy && !out->metric_name[0])
			snprintf(out->metric_name, sizeof out->metric_name, "%s", name);
		out->names_accuracy = true;
	} else if (acc_kind_of(name) != KS_ACC_NONE && out->explicit_acc == KS_ACC_NONE) {
		out->explicit_acc = acc_kind_of(name);
		if (!out->names_accuracy)
			snprintf(out->metric_name, sizeof out->metric_name, "%s", name);
	}
}

ks_acc_rule ks_eval_rule_of(const char *v, bool *assumed)
{
	int major = 0, minor = 0;
	*assumed = false;
	if (!v || sscanf(v, "%d.%d", &major, &minor) < 1) {
		*assumed = true;
		return KS_RULE_SHAPE_BASED;
	}
	if (major >= 3)
		return KS_RULE_SHAPE_BASED;
	if (major == 2 && (minor >= 4 || (minor == 3 && strstr(v, "-tf"))))
		return KS_RULE_SHAPE_BASED; /* tf.keras' compile_utils (TF 2.2+) */
	return KS_RULE_LOSS_BASED;
}

void ks_eval_read_compile(const ks_model *m, ks_eval_compile *out)
{
	const json_t *tc = m->training_config ? m->training_config : m->compile_config;

	memset(out, 0, sizeof *out);
	out->explicit_acc = KS_ACC_NONE;
	out->rule = ks_eval_rule_of(m->keras_version, &out->rule_assumed);
	if (!json_is_object(tc))
		return;
	read_loss(json_object_get(tc, "loss"), &out->loss);
	scan_metrics(first_output(json_object_get(tc, "metrics")), out, 0);
	scan_metrics(first_output(json_object_get(tc, "weighted_metrics")), out, 0);
}

ks_acc_kind ks_eval_resolve(ks_acc_rule rule, ks_loss_kind loss, int label_rank, int64_t label_last,
                            int pred_rank, int64_t pred_last)
{
	if (rule == KS_RULE_LOSS_BASED) {
		if (pred_last == 1 || loss == KS_LOSS_BCE)
			return KS_ACC_BINARY;
		if (loss == KS_LOSS_SCCE)
			return KS_ACC_SPARSE;
		return KS_ACC_CATEGORICAL;
	}
	if (pred_last == 1)
		return KS_ACC_BINARY;
	if (label_rank < pred_rank || (label_last == 1 && pred_last > 1))
		return KS_ACC_SPARSE;
	return KS_ACC_CATEGORICAL;
}

/* ---- the evaluator ---- */

struct ks_eval {
	ks_eval_opts o;
	int64_t n;
	int64_t hits[KS_ACC_COUNT], count[KS_ACC_COUNT];
	bool labels_binary;
	double loss_sum;
	int64_t cm_classes;
	int64_t *cm;
	double *tgt;       /* one target row for the loss (classes doubles) */
};

ks_eval *ks_eval_new(const ks_eval_opts *o, ks_err *err)
{
	if (o->classes < 1 || (o->label_width != 1 && o->label_width != o->classes)) {
		ks_fail(err, "labels of width %lld do not fit predictions of %lld classes",
		        (long long)o->label_width, (long long)o->classes);
		return NULL;
	}
	ks_eval *e = ks_xcalloc(1, sizeof *e);
	e->o = *o;
	e->labels_binary = true;
	e->cm_classes = o->classes == 1 ? 2 : o->classes <= KS_EVAL_MAX_CONFUSION ? o->classes : 0;
	if (e->cm_classes)
		e->cm = ks_xcalloc((size_t)(e->cm_classes * e->cm_classes), sizeof(int64_t));
	e->tgt = ks_xcalloc((size_t)o->classes, sizeof(double));
	return e;
}

void ks_eval_free(ks_eval *e)
{
	if (!e)
		return;
	free(e->cm);
	free(e->tgt);
	free(e);
}

/* First index of the largest value; NaN counts as largest, as numpy's argmax. */
static int64_t argmax(const float *x, int64_t n)
{
	int64_t best = 0;
	for (int64_t i = 0; i < n; i++) {
		if (isnan(x[i]))
			return i;
		if (x[i] > x[best])
			best = i;
	}
	return best;
}

/* tf.math.in_top_k: fewer than k classes score strictly higher; a
 * non-finite target score is never in. */
static bool in_top_k(const float *p, int64_t n, int64_t cls, int k)
{
	if (!isfinite(p[cls]))
		return false;
	int64_t above = 0;
	for (int64_t i = 0; i < n; i++)
		if (p[i] > p[cls])
			above++;
	return above < k;
}

static double clip(double p)
{
	return p < KERAS_EPSILON ? KERAS_EPSILON : p > 1.0 - KERAS_EPSILON ? 1.0 - KERAS_EPSILON : p;
}

/* Loss of one sample: p (C predictions), t (C targets, already one-hot /
 * smoothed as the loss wants). */
static double sample_loss(const ks_loss_spec *L, const float *p, const double *t, int64_t C)
{
	double s = 0;
	switch (L->kind) {
	case KS_LOSS_CCE:
	case KS_LOSS_SCCE:
		if (L->from_logits) {
			double mx = -INFINITY, se = 0;
			for (int64_t i = 0; i < C; i++)
				mx = p[i] > mx ? p[i] : mx;
			for (int64_t i = 0; i < C; i++)
				se += exp((double)p[i] - mx);
			for (int64_t i = 0; i < C; i++)
				s -= t[i] * ((double)p[i] - mx - log(se));
		} else {
			double sum = 0;
			for (int64_t i = 0; i < C; i++)
				sum += p[i];
			for (int64_t i = 0; i < C; i++)
				s -= t[i] * log(clip((double)p[i] / sum));
		}
		return s;
	case KS_LOSS_BCE:
		for (int64_t i = 0; i < C; i++) {
			double q = L->from_logits ? 1.0 / (1.0 + exp(-(double)p[i])) : p[i];
			q = clip(q);
			s -= t[i] * log(q) + (1.0 - t[i]) * log(1.0 - q);
		}
		return s / (double)C;
	case KS_LOSS_MSE:
		for (int64_t i = 0; i < C; i++)
			s += (t[i] - p[i]) * (t[i] - p[i]);
		return s / (double)C;
	case KS_LOSS_MAE:
		for (int64_t i = 0; i < C; i++)
			s += fabs(t[i] - p[i]);
		return s / (double)C;
	default:
		return 0;
	}
}

static bool loss_computed(ks_loss_kind k)
{
	return k == KS_LOSS_BCE || k == KS_LOSS_CCE || k == KS_LOSS_SCCE || k == KS_LOSS_MSE || k == KS_LOSS_MAE;
}

int ks_eval_add(ks_eval *e, const float *pred, const float *labels, int64_t rows, int64_t first_row,
                ks_err *err)
{
	const int64_t C = e->o.classes, W = e->o.label_width;

	/* check every label first, so a failure adds nothing */
	for (int64_t r = 0; r < rows; r++)
		for (int64_t j = 0; j < W; j++) {
			float y = labels[r * W + j];
			if (!isfinite(y))
				return ks_fail(err, "label of sample %lld is %g", (long long)(first_row + r), (double)y);
			if (W == 1 && C > 1 && (floorf(y) != y || y < 0 || y >= (float)C))
				return ks_fail(err, "label of sample %lld is %g, not a class id in 0..%lld",
				               (long long)(first_row + r), (double)y, (long long)(C - 1));
		}
	for (int64_t r = 0; r < rows; r++) {
		const float *p = pred + r * C, *y = labels + r * W;
		bool row_binary = true;
		for (int64_t j = 0; j < W; j++)
			row_binary = row_binary && (y[j] == 0.0f || y[j] == 1.0f);
		e->labels_binary = e->labels_binary && row_binary;
		/* binary: every element, where labels and predictions align */
		if (W == C)
			for (int64_t j = 0; j < C; j++) {
				e->hits[KS_ACC_BINARY] += (p[j] > 0.5f ? 1.0f : 0.0f) == y[j];
				e->count[KS_ACC_BINARY]++;
			}
		int64_t truth = -1, guess = -1;
		if (C > 1) {
			guess = argmax(p, C);
			truth = W == 1 ? (int64_t)y[0] : argmax(y, W);
			int acc = W == 1 ? KS_ACC_SPARSE : KS_ACC_CATEGORICAL;
			e->hits[acc] += truth == guess;
			e->count[acc]++;
			if (e->o.top_k > 0) {
				e->hits[KS_ACC_TOP_K] += in_top_k(p, C, truth, e->o.top_k);
				e->count[KS_ACC_TOP_K]++;
			}
		} else if (row_binary) {
			truth = (int64_t)y[0];
			guess = p[0] > 0.5f;
		}
		if (e->cm && truth >= 0)
			e->cm[truth * e->cm_classes + guess]++;
		if (loss_computed(e->o.loss.kind)) {
			double ls = e->o.loss.label_smoothing;
			for (int64_t j = 0; j < C; j++)
				e->tgt[j] = W == 1 && C > 1 ? (j == truth) : y[j];
			if (ls > 0 && e->o.loss.kind == KS_LOSS_CCE)
				for (int64_t j = 0; j < C; j++)
					e->tgt[j] = e->tgt[j] * (1.0 - ls) + ls / (double)C;
			if (ls > 0 && e->o.loss.kind == KS_LOSS_BCE)
				for (int64_t j = 0; j < C; j++)
					e->tgt[j] = e->tgt[j] * (1.0 - ls) + 0.5 * ls;
			if (e->o.loss.kind == KS_LOSS_SCCE && W > 1) {
				/* sparse loss from one-hot rows: the row's class */
				for (int64_t j = 0; j < C; j++)
					e->tgt[j] = j == truth;
			}
			e->loss_sum += sample_loss(&e->o.loss, p, e->tgt, C);
		}
	}
	e->n += rows;
	return 0;
}

void ks_eval_get(const ks_eval *e, ks_eval_result *r)
{
	const int64_t C = e->o.classes, W = e->o.label_width;

	memset(r, 0, sizeof *r);
	r->n = e->n;
	r->classes = C;
	r->top_k = e->o.top_k;
	r->labels_binary = e->labels_binary;
	r->applies[KS_ACC_BINARY] = W == C && e->labels_binary;
	r->applies[KS_ACC_CATEGORICAL] = C > 1 && W == C;
	r->applies[KS_ACC_SPARSE] = C > 1 && W == 1;
	r->applies[KS_ACC_TOP_K] = C > 1 && e->o.top_k > 0;
	for (int k = 0; k < KS_ACC_COUNT; k++) {
		r->hits[k] = e->hits[k];
		r->count[k] = e->count[k];
		r->acc[k] = r->applies[k] && e->count[k] ? (double)e->hits[k] / (double)e->count[k] : NAN;
		if (!r->applies[k])
			r->hits[k] = r->count[k] = 0;
	}
	r->has_loss = loss_computed(e->o.loss.kind) && e->n > 0;
	r->loss = r->has_loss ? e->loss_sum / (double)e->n : NAN;
	r->loss_converted = r->has_loss &&
	                    (((e->o.loss.kind == KS_LOSS_CCE || e->o.loss.kind == KS_LOSS_BCE ||
	                       e->o.loss.kind == KS_LOSS_MSE || e->o.loss.kind == KS_LOSS_MAE) && W == 1 && C > 1) ||
	                     (e->o.loss.kind == KS_LOSS_SCCE && W > 1));
	/* a single sigmoid output has classes only when its labels are 0/1 */
	r->cm_classes = C == 1 && !e->labels_binary ? 0 : e->cm_classes;
	r->confusion = r->cm_classes ? e->cm : NULL;
}
