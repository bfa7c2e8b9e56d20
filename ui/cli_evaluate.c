/* cli_evaluate: `kerascope evaluate MODEL --input X --labels-from COLUMN|FILE`.
 *
 * Runs the model over a labelled set in batches (predictions are scored as
 * they come and never kept) and prints every accuracy Keras could mean, the
 * one the file's own "accuracy" resolves to, the file's loss, the confusion
 * matrix and per-class accuracy. The scoring is ks_eval; this file reads
 * the options, the data and prints.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cli_common.h"
#include "cli_evaluate.h"
#include "ks_eval.h"
#include "ks_input.h"
#include "ks_plan.h"
#include "ks_report.h"
#include "ks_util.h"

#define MAX_INPUT_SPECS 64
/* Samples per forward pass: bounds the activation memory whatever the set's size. */
#define EVAL_BATCH 256
/* Confusion matrices wider than this are left to --json. */
#define TEXT_CONFUSION_MAX 20

extern void openblas_set_num_threads(int);

typedef struct eopts {
	const char *file;
	const char *inputs[MAX_INPUT_SPECS];
	int n_inputs;
	const char *labels_from;
	const char *names;
	int top_k;
	int64_t batch;
	bool json;
	ks_open_opts open; /* --config, --load-order (cli_common.h) */
} eopts;

static const char usage_text[] =
	"Usage: kerascope evaluate FILE --input X --labels-from COLUMN|LABELS\n"
	"                          [--labels NAMES.txt] [--top-k K] [--batch N] [--json]\n"
	"Scores the model on labelled data: every accuracy Keras can mean by \"accuracy\"\n"
	"(binary, categorical, sparse categorical, top-k), which one the file's own\n"
	"metric is, the file's loss, the confusion matrix and per-class accuracy.\n"
	"\n"
	"      --input X        the inputs, one per model input: a .csv, .npy,\n"
	"                       DATA.h5:/dataset or a literal (as for predict)\n"
	"      --labels-from L  a column of the CSV input (its header name, or a 0-based\n"
	"                       index; negative counts from the end), or a file of\n"
	"                       labels (.npy, DATA.h5:/dataset, .csv): class ids of\n"
	"                       shape (n,) or (n, 1), one-hot rows (n, classes), or 0/1\n"
	"                       for a one-unit output\n"
	"      --labels FILE    class names, one per line in output order; string labels\n"
	"                       in the CSV are looked up here\n"
	"      --top-k K        also top-K accuracy (the label among the K largest)\n"
	"      --batch N        samples per forward pass (default 256)\n"
	"      --json           print one JSON document instead of text\n"
	CLI_MODEL_OPTS_HELP
	"  -h, --help           show this help\n"
	"Exit status: 0 scored, 2 error.\n";

enum { O_INPUT = 256, O_LABELS_FROM, O_LABELS, O_TOPK, O_BATCH, O_JSON };

static int bad(const char *what, const char *arg)
{
	fprintf(stderr, "kerascope: evaluate: %s, not '%s'\n", what, arg);
	return 2;
}

static bool parse_int(const char *s, long long lo, long long hi, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static int parse_args(int argc, char **argv, eopts *o)
{
	static const struct option opts[] = {
		{"input", required_argument, NULL, O_INPUT},
		{"labels-from", required_argument, NULL, O_LABELS_FROM},
		{"labels", required_argument, NULL, O_LABELS},
		{"top-k", required_argument, NULL, O_TOPK},
		{"batch", required_argument, NULL, O_BATCH},
		{"json", no_argument, NULL, O_JSON},
		{"help", no_argument, NULL, 'h'},
		CLI_MODEL_OPTION_ROWS,
		{NULL, 0, NULL, 0},
	};
	long long v;
	int c;

	memset(o, 0, sizeof *o);
	o->batch = EVAL_BATCH;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case O_INPUT:
			if (o->n_inputs >= MAX_INPUT_SPECS)
				return bad("too many --input options", optarg);
			o->inputs[o->n_inputs++] = optarg;
			break;
		case O_LABELS_FROM: o->labels_from = optarg; break;
		case O_LABELS: o->names = optarg; break;
		case O_TOPK:
			if (!parse_int(optarg, 1, 1 << 20, &v))
				return bad("--top-k needs a positive number", optarg);
			o->top_k = (int)v;
			break;
		case O_BATCH:
			if (!parse_int(optarg, 1, 1 << 16, &v))
				return bad("--batch needs a number from 1 to 65536", optarg);
			o->batch = v;
			break;
		case O_JSON: o->json = true; break;
		default:
			switch (cli_model_opt("evaluate", c, optarg, &o->open)) {
			case 1: continue;
			case -1: return 2;
			default: break;
			}
			if (optopt && optopt < 256)
				fprintf(stderr, "kerascope: evaluate: bad option '-%c' (try 'kerascope evaluate --help')\n",
				        optopt);
			else
				fprintf(stderr, "kerascope: evaluate: bad option '%s' (try 'kerascope evaluate --help')\n",
				        argv[optind - 1]);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "kerascope: evaluate: expected MODEL (try 'kerascope evaluate --help')\n");
		return 2;
	}
	o->file = argv[optind];
	if (!o->n_inputs || !o->labels_from) {
		fprintf(stderr, "kerascope: %s: evaluate needs --input X and --labels-from COLUMN|LABELS\n", o->file);
		return 2;
	}
	return -1;
}

/* --labels-from names labels data (a file, FILE:/dataset of an HDF5 file,
 * a literal list) rather than a column of the CSV input. */
static bool labels_are_data(const char *spec)
{
	struct stat st;
	if (stat(spec, &st) == 0 || spec[0] == '[' || spec[0] == '(')
		return true;
	const char *colon = strrchr(spec, ':');
	if (!colon)
		return false;
	char *file = ks_xstrndup(spec, (size_t)(colon - spec));
	bool exists = stat(file, &st) == 0;
	free(file);
	return exists;
}

typedef struct evaldata {
	ks_array x[MAX_INPUT_SPECS];
	ks_array y;
	char *label_col;       /* the CSV column, or NULL for a labels file */
	char **names;
	int n_names;
} evaldata;

static void evaldata_free(evaldata *d, int n)
{
	for (int i = 0; i < n; i++)
		ks_array_free(&d->x[i]);
	ks_array_free(&d->y);
	free(d->label_col);
	ks_input_free_names(d->names, d->n_names);
}

static int load_data(const ks_model *m, const eopts *o, evaldata *d, ks_err *err)
{
	if (o->n_inputs != m->n_inputs)
		return ks_fail(err, "the model takes %d input%s but %d --input %s given", m->n_inputs,
		               m->n_inputs == 1 ? "" : "s", o->n_inputs, o->n_inputs == 1 ? "was" : "were");
	if (o->names && ks_input_read_names(o->names, &d->names, &d->n_names, err) < 0)
		return -1;
	bool from_csv = false;
	if (labels_are_data(o->labels_from)) {
		if (ks_input_load(o->labels_from, &d->y, NULL, err) < 0)
			return -1;
	} else {
		if (m->n_inputs != 1)
			return ks_fail(err, "--labels-from %s names a CSV column, but the model takes %d inputs: give "
			               "the labels as a file", o->labels_from, m->n_inputs);
		if (ks_input_load_labelled(o->inputs[0], o->labels_from, d->names, d->n_names, &d->x[0], &d->y,
		                           &d->label_col, err) < 0)
			return -1;
		from_csv = true;
	}
	for (int i = 0; i < m->n_inputs; i++) {
		ks_input_kind kind = KS_INPUT_CSV;
		if (!from_csv && ks_input_load(o->inputs[i], &d->x[i], &kind, err) < 0)
			return -1;
		if (ks_input_check_for_model(m, i, &d->x[i], kind == KS_INPUT_CSV, err) < 0)
			return -1;
		if (d->x[i].shape[0] != d->x[0].shape[0])
			return ks_fail(err, "inputs have different numbers of samples (%lld and %lld)",
			               (long long)d->x[0].shape[0], (long long)d->x[i].shape[0]);
	}
	if (d->y.rank < 1 || d->y.rank > 2 || d->y.shape[0] != d->x[0].shape[0]) {
		char b[160];
		return ks_fail(err, "%s: labels of shape %s do not match %lld samples (want (%lld,), (%lld, 1) "
		               "or (%lld, classes))", o->labels_from, ks_shape_str(d->y.shape, d->y.rank, b, sizeof b),
		               (long long)d->x[0].shape[0], (long long)d->x[0].shape[0],
		               (long long)d->x[0].shape[0], (long long)d->x[0].shape[0]);
	}
	return 0;
}

/* ---- output ---- */

static const char *class_name(const evaldata *d, int64_t c, char *buf, size_t n)
{
	if (c >= 0 && c < d->n_names)
		return d->names[c];
	snprintf(buf, n, "%lld", (long long)c);
	return buf;
}

static const char *acc_label(ks_acc_kind k, int top_k, char *buf, size_t n)
{
	if (k == KS_ACC_TOP_K)
		snprintf(buf, n, "top_%d", top_k);
	else
		snprintf(buf, n, "%s", ks_acc_key(k));
	return buf;
}

typedef struct verdict {
	ks_acc_kind resolved;     /* what the file's "accuracy" is, or NONE */
	ks_acc_kind by_rule[2];   /* what "accuracy" would be under each rule */
	const char *form;         /* "class_ids", "one_hot", "binary", "values" */
} verdict;

static void print_text(const ks_model *m, const eopts *o, const evaldata *d, const ks_eval_compile *cc,
                       const ks_loss_spec *loss, const ks_eval_result *r, const verdict *v, bool cc_from_config)
{
	char b[64], b2[64], n1[32], n2[32];

	printf("model     %s (%s%s)\n", o->file, m->keras_version ? "Keras " : "Keras version not recorded",
	       m->keras_version ? m->keras_version : "");
	if (o->open.config_path)
		printf("          architecture%s from %s\n", cc_from_config ? " and training config" : "",
		       o->open.config_path);
	if (d->label_col)
		printf("data      %s: %s samples, labels from column '%s' (%s)\n", o->inputs[0],
		       ks_report_count(r->n, n1, sizeof n1), d->label_col, v->form);
	else
		printf("data      %s: %s samples, labels from %s (%s)\n", o->inputs[0],
		       ks_report_count(r->n, n1, sizeof n1), o->labels_from, v->form);
	printf("accuracy");
	bool any = false;
	for (int k = 0; k < KS_ACC_COUNT; k++) {
		if (!r->applies[k])
			continue;
		printf("%s%-20s %.4f  (%s of %s%s)", any ? "          " : "  ", acc_label(k, r->top_k, b, sizeof b),
		       r->acc[k], ks_report_count(r->hits[k], n1, sizeof n1), ks_report_count(r->count[k], n2, sizeof n2),
		       k == KS_ACC_BINARY && r->classes > 1 ? " values" : "");
		if (k == v->resolved)
			printf("  <- \"%s\"", cc->metric_name);
		putchar('\n');
		any = true;
	}
	if (!any)
		printf("  none applies: the labels are not classes (%s)\n", v->form);
	if (cc->names_accuracy) {
		printf("metric    \"%s\" = %s for this file (%s%s)\n", cc->metric_name,
		       ks_acc_metric_name(v->resolved), cc->rule_assumed ? "no Keras version recorded" : "Keras ",
		       cc->rule_assumed ? "" : m->keras_version);
		printf("          %s%s;\n", ks_rule_desc(cc->rule), cc->rule_assumed ? " (assumed)" : "");
		ks_acc_rule other = cc->rule == KS_RULE_LOSS_BASED ? KS_RULE_SHAPE_BASED : KS_RULE_LOSS_BASED;
		printf("          %s: %s\n", ks_rule_desc(other),
		       v->by_rule[other] == v->resolved ? "the same" : ks_acc_metric_name(v->by_rule[other]));
		if (v->resolved >= 0 && !r->applies[v->resolved])
			printf("          (%s does not apply to these labels)\n", ks_acc_metric_name(v->resolved));
	} else if (cc->explicit_acc != KS_ACC_NONE) {
		printf("metric    the file's metric is %s\n", cc->metric_name);
	} else {
		printf("metric    the file names no accuracy metric\n");
	}
	if (r->has_loss)
		printf("loss      %s%s %.6g%s\n", loss->name, loss->from_logits ? " (from_logits)" : "", r->loss,
		       !r->loss_converted ? ""
		       : r->applies[KS_ACC_SPARSE] ? "  (class ids taken as one-hot rows)"
		                                   : "  (one-hot rows taken as class ids)");
	else if (cc->loss.kind == KS_LOSS_OTHER)
		printf("loss      %s: not a built-in kerascope computes\n", cc->loss.name);
	else if (cc->loss.kind == KS_LOSS_NONE)
		printf("loss      the file names no loss\n");

	if (!r->cm_classes) {
		if (r->classes > TEXT_CONFUSION_MAX)
			printf("confusion %lld classes: see --json\n", (long long)r->classes);
		return;
	}
	int64_t C = r->cm_classes;
	if (C > TEXT_CONFUSION_MAX) {
		printf("confusion %lld classes: see --json\n", (long long)C);
	} else {
		int w = 6;
		for (int64_t c = 0; c < C; c++) {
			int l = (int)strlen(class_name(d, c, b, sizeof b));
			w = l > w ? l : w;
		}
		w = w > 24 ? 24 : w;
		printf("confusion rows: true class, columns: predicted\n");
		printf("          %-*s", w, "");
		for (int64_t c = 0; c < C; c++)
			printf(" %*.*s", w, w, class_name(d, c, b, sizeof b));
		putchar('\n');
		for (int64_t t = 0; t < C; t++) {
			printf("          %-*.*s", w, w, class_name(d, t, b, sizeof b));
			for (int64_t c = 0; c < C; c++)
				printf(" %*s", w, ks_report_count(r->confusion[t * C + c], n1, sizeof n1));
			putchar('\n');
		}
	}
	printf("per class");
	for (int64_t t = 0, shown = 0; t < C; t++) {
		int64_t row = 0;
		for (int64_t c = 0; c < C; c++)
			row += r->confusion[t * C + c];
		if (!row)
			continue;
		if (shown++ >= TEXT_CONFUSION_MAX) {
			printf("          ... (all classes with --json)\n");
			break;
		}
		printf("%s%-20s %.4f  (%s of %s)\n", shown > 1 ? "          " : " ",
		       class_name(d, t, b2, sizeof b2), (double)r->confusion[t * C + t] / (double)row,
		       ks_report_count(r->confusion[t * C + t], n1, sizeof n1), ks_report_count(row, n2, sizeof n2));
	}
}

static json_t *json_num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static void print_json(const ks_model *m, const eopts *o, const evaldata *d, const ks_eval_compile *cc,
                       const ks_loss_spec *loss, const ks_eval_result *r, const verdict *v, bool cc_from_config)
{
	bool has_tc = m->training_config || m->compile_config;
	json_t *root = json_object(), *acc = json_object(), *hits = json_object();
	json_object_set_new(root, "file", json_string(o->file));
	json_object_set_new(root, "data", json_string(o->inputs[0]));
	json_object_set_new(root, "config", o->open.config_path ? json_string(o->open.config_path) : json_null());
	json_object_set_new(root, "training_config_from", cc_from_config ? json_string("config")
	                                                  : has_tc ? json_string("file") : json_null());
	json_object_set_new(root, "labels_from", json_string(d->label_col ? d->label_col : o->labels_from));
	json_object_set_new(root, "label_form", json_string(v->form));
	json_object_set_new(root, "n", json_integer(r->n));
	json_object_set_new(root, "classes", json_integer(r->classes));
	for (int k = 0; k < KS_ACC_COUNT; k++) {
		if (!r->applies[k])
			continue;
		json_object_set_new(acc, ks_acc_key(k), json_num(r->acc[k]));
		json_object_set_new(hits, ks_acc_key(k), json_pack("[I, I]", (json_int_t)r->hits[k],
		                                                     (json_int_t)r->count[k]));
	}
	json_object_set_new(root, "accuracy", acc);
	json_object_set_new(root, "hits", hits);
	if (r->top_k)
		json_object_set_new(root, "top_k", json_integer(r->top_k));
	json_object_set_new(root, "accuracy_metric", cc->metric_name[0] ? json_string(cc->metric_name) : json_null());
	json_object_set_new(root, "accuracy_resolves_to",
	                    v->resolved >= 0 ? json_string(ks_acc_key(v->resolved)) : json_null());
	json_object_set_new(root, "accuracy_rule", json_string(cc->rule == KS_RULE_LOSS_BASED ? "loss_based"
	                                                                                       : "shape_based"));
	json_object_set_new(root, "accuracy_by_rule",
	                    json_pack("{s:s, s:s}", "loss_based", ks_acc_key(v->by_rule[KS_RULE_LOSS_BASED]),
	                              "shape_based", ks_acc_key(v->by_rule[KS_RULE_SHAPE_BASED])));
	if (r->has_loss)
		json_object_set_new(root, "loss", json_pack("{s:s, s:s, s:b, s:o, s:b}", "name", ks_loss_name(loss->kind),
		                                            "as_written", loss->name, "from_logits", loss->from_logits,
		                                            "value", json_num(r->loss), "labels_converted",
		                                            r->loss_converted));
	else
		json_object_set_new(root, "loss", json_null());
	if (r->cm_classes) {
		json_t *cm = json_array(), *pc = json_array();
		int64_t C = r->cm_classes;
		char b[32];
		for (int64_t t = 0; t < C; t++) {
			json_t *row = json_array();
			int64_t tot = 0;
			for (int64_t c = 0; c < C; c++) {
				json_array_append_new(row, json_integer(r->confusion[t * C + c]));
				tot += r->confusion[t * C + c];
			}
			json_array_append_new(cm, row);
			json_array_append_new(pc, json_pack("{s:I, s:s, s:I, s:o}", "class", (json_int_t)t, "name",
			                                    class_name(d, t, b, sizeof b), "n", (json_int_t)tot, "accuracy",
			                                    tot ? json_real((double)r->confusion[t * C + t] / (double)tot)
			                                        : json_null()));
		}
		json_object_set_new(root, "confusion", cm);
		json_object_set_new(root, "per_class", pc);
	} else {
		json_object_set_new(root, "confusion", json_null());
		json_object_set_new(root, "per_class", json_null());
	}
	json_dumpf(root, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
	putchar('\n');
	json_decref(root);
}

/* ---- main ---- */

/* Copies rows [first, first + rows) of a into dst (batch rows), repeating the
 * last row to fill a short final batch (rows are independent at inference). */
static void copy_rows(const ks_array *a, int64_t first, int64_t rows, int64_t batch, float *dst)
{
	int64_t per = ks_array_numel(a) / a->shape[0];
	for (int64_t r = 0; r < batch; r++) {
		int64_t src = first + (r < rows ? r : rows - 1);
		memcpy(dst + r * per, a->data + src * per, sizeof(float) * (size_t)per);
	}
}

int cli_evaluate(int argc, char **argv)
{
	eopts o;
	ks_err err;
	ks_model *m = NULL;
	ks_plan *p = NULL;
	ks_eval *ev = NULL;
	evaldata d;
	float *bufs[MAX_INPUT_SPECS] = {0};
	int rc = parse_args(argc, argv, &o), status = 2;

	if (rc >= 0)
		return rc;
	memset(&d, 0, sizeof d);
	ks_err_clear(&err);
	openblas_set_num_threads(1);
	m = cli_open_model(o.file, &o.open);
	if (!m)
		goto done;
	if (m->n_inputs == 0) {
		ks_fail(&err, "the file holds no runnable model (no inputs)%s",
		        m->format == KS_FMT_WEIGHTS_H5 || m->format == KS_FMT_KERAS3_WEIGHTS
		                ? "; weights only: give --config ARCH.json" : "");
		goto fail_file;
	}
	if (m->n_inputs > MAX_INPUT_SPECS) {
		ks_fail(&err, "the model has too many inputs (%d)", m->n_inputs);
		goto fail_file;
	}
	if (m->n_outputs != 1) {
		ks_fail(&err, "evaluate scores models with one output; this one has %d", m->n_outputs);
		goto fail_file;
	}
	if (load_data(m, &o, &d, &err) < 0)
		goto fail_file;

	int64_t n = d.x[0].shape[0], B = n < o.batch ? n : o.batch;
	ks_shape shapes[MAX_INPUT_SPECS];
	for (int i = 0; i < m->n_inputs; i++) {
		shapes[i].rank = d.x[i].rank;
		memcpy(shapes[i].d, d.x[i].shape, sizeof shapes[i].d);
		shapes[i].d[0] = B;
	}
	ks_plan_opts po = {.batch = B, .input_shapes = shapes, .n_input_shapes = m->n_inputs};
	p = ks_plan_build(m, &po, &err);
	if (!p)
		goto fail_msg;
	const ks_shape *os = ks_plan_output_shape(p, 0);
	if (os->rank != 2) {
		char b[160];
		ks_fail(&err, "evaluate needs an output of shape (batch, classes); %s gives %s",
		        ks_plan_output_name(p, 0), ks_shape_str(os->d, os->rank, b, sizeof b));
		goto fail_file;
	}
	int64_t C = os->d[1];
	int64_t W = d.y.rank == 2 ? d.y.shape[1] : 1;
	if (W != 1 && W != C) {
		char b[160];
		ks_fail(&err, "%s: labels of shape %s do not fit an output of %lld classes",
		        o.labels_from, ks_shape_str(d.y.shape, d.y.rank, b, sizeof b), (long long)C);
		goto fail_file;
	}
	if (o.top_k && C < 2) {
		ks_fail(&err, "--top-k needs an output of several classes; this one has 1");
		goto fail_file;
	}

	ks_eval_compile cc;
	ks_eval_read_compile(m, &cc);
	/* A weights-only file records no compile settings; the model file that
	 * --config names may (the save_weights / load_weights story) */
	bool compile_from_config = false;
	if (!m->training_config && !m->compile_config && o.open.config_path) {
		ks_err ignored;
		ks_model *cm = ks_model_open(o.open.config_path, NULL, &ignored);
		if (cm && (cm->training_config || cm->compile_config)) {
			ks_eval_read_compile(cm, &cc);
			compile_from_config = true;
		}
		ks_model_free(cm);
	}
	verdict v = {.resolved = KS_ACC_NONE};
	for (int rule = 0; rule < 2; rule++)
		v.by_rule[rule] = ks_eval_resolve(rule, cc.loss.kind, d.y.rank, W, 2, C);
	if (cc.names_accuracy)
		v.resolved = v.by_rule[cc.rule];
	else if (cc.explicit_acc != KS_ACC_NONE)
		v.resolved = cc.explicit_acc;
	ks_loss_spec loss = cc.loss;
	if (loss.kind == KS_LOSS_AUTO_CE) {
		ks_acc_kind a = ks_eval_resolve(cc.rule, KS_LOSS_NONE, d.y.rank, W, 2, C);
		loss.kind = a == KS_ACC_BINARY ? KS_LOSS_BCE : a == KS_ACC_SPARSE ? KS_LOSS_SCCE : KS_LOSS_CCE;
	}
	ks_eval_opts eo = {.classes = C, .label_width = W, .top_k = o.top_k, .loss = loss};
	ev = ks_eval_new(&eo, &err);
	if (!ev)
		goto fail_file;

	const float *in[MAX_INPUT_SPECS];
	for (int i = 0; i < m->n_inputs; i++) {
		bufs[i] = ks_xmalloc(sizeof(float) * (size_t)(ks_array_numel(&d.x[i]) / n * B));
		in[i] = bufs[i];
	}
	for (int64_t first = 0; first < n; first += B) {
		int64_t rows = n - first < B ? n - first : B;
		for (int i = 0; i < m->n_inputs; i++)
			copy_rows(&d.x[i], first, rows, B, bufs[i]);
		ks_plan_run(p, in);
		if (ks_eval_add(ev, ks_plan_output(p, 0), d.y.data + first * W, rows, first, &err) < 0) {
			ks_err_prefix(&err, "%s", o.labels_from);
			goto fail_file;
		}
	}
	ks_eval_result r;
	ks_eval_get(ev, &r);
	v.form = W > 1 ? "one_hot" : C > 1 ? "class_ids" : r.labels_binary ? "binary" : "values";
	if (o.json)
		print_json(m, &o, &d, &cc, &loss, &r, &v, compile_from_config);
	else
		print_text(m, &o, &d, &cc, &loss, &r, &v, compile_from_config);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		ks_fail(&err, "cannot write output: %s", strerror(errno));
		goto fail_file;
	}
	status = 0;
	goto done;
fail_file:
	fprintf(stderr, "kerascope: %s: %s\n", o.file, err.msg);
	goto done;
fail_msg:
	fprintf(stderr, "kerascope: %s\n", err.msg);
done:
	for (int i = 0; i < MAX_INPUT_SPECS; i++)
		free(bufs[i]);
	ks_eval_free(ev);
	evaldata_free(&d, MAX_INPUT_SPECS);
	ks_plan_free(p);
	ks_model_free(m);
	return status;
}
