/* cli_predict: `kerascope predict FILE ...`, the forward pass from the shell.
 *
 * Opens the model, turns --input specs (or --random/--zeros) into arrays
 * fitted to the model's input shapes, builds one plan (all validation and
 * weight loading happen there, once), runs it --repeat times and prints the
 * outputs (text or --json), optionally writes them as .npy (-o), traces every
 * layer (--trace) and saves every activation (--save-activations DIR).
 * OpenBLAS runs single-threaded unless --threads says otherwise, so results
 * are deterministic.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cblas.h>
#include <jansson.h>

#include "cli.h"
#include "cli_common.h"
#include "cli_predict.h"
#include "cli_profile.h"
#include "cli_replay.h"
#include "ks_input.h"
#include "ks_loadorder.h"
#include "ks_npy.h"
#include "ks_plan.h"
#include "ks_esc.h"
#include "ks_report.h"
#include "ks_util.h"


/* openblas_set_num_threads is OpenBLAS-specific and not in cblas.h everywhere. */
extern void openblas_set_num_threads(int);

typedef struct popts {
	const char *file;
	cli_inputs in;     /* --input, --random */
	bool zeros;
	int64_t batch;
	const char *out;
	bool trace;
	const char *save_dir;
	const char *until;
	int top;
	int64_t max_values;
	const char *labels;
	int repeat;
	int threads;
	bool profile;
	ks_open_opts open; /* --config, --load-order (cli_common.h) */
	bool json;
	const char *record;     /* --record S (cli_replay.c does the work) */
	bool record_acts;
	const char *expect[KS_MAX_IO];
	int n_expect;
} popts;

static const char usage_text[] =
	"Usage: kerascope predict FILE [--input X ...|--random SEED|--zeros] [--batch N]\n"
	"                         [-o OUT.npy] [--trace] [--save-activations DIR]\n"
	"                         [--until LAYER] [--max N] [--top K [--labels FILE]]\n"
	"                         [--repeat N] [--threads N] [--profile] [--record S\n"
	"                         [--record-activations]] [--expect OUT.npy ...]\n"
	"                         [--json] [--config ARCH]\n"
	"Runs the model on the given inputs (float32, deterministic) and prints the\n"
	"outputs, numpy style, long ones elided as dump elides them.\n"
	"\n"
	"      --input X        one per model input, in input order: a .npy file, a .csv\n"
	"                       file (one sample per row), DATA.h5:/dataset or a literal\n"
	"                       such as '[[1, 2, 3]]'; the batch axis may be left out\n"
	"      --random SEED    uniform inputs in [-1, 1) (whole numbers for integer\n"
	"                       inputs, ids below input_dim for Embedding inputs)\n"
	"      --zeros          all-zero inputs\n"
	"      --batch N        batch size for --random/--zeros (default 1)\n"
	"  -o, --output OUT.npy write the outputs (OUT.npy, or OUT_0.npy, OUT_1.npy, ...)\n"
	"      --trace          every layer's output shape and statistics\n"
	"      --save-activations DIR  write every layer's output as DIR/NNN_layer.npy\n"
	"      --until LAYER    stop at LAYER and show its output (outer/inner: nested)\n"
	"      --max N          print at most N values of an output before eliding\n"
	"                       (default 1000)\n"
	"      --top K          the K largest classes of each sample, not the values\n"
	"      --labels FILE    class names for --top, one per line\n"
	"      --repeat N       run N times and report the median time per inference\n"
	"      --threads N      OpenBLAS threads (default 1)\n"
	"      --profile        time every layer (best of the --repeat runs) with its\n"
	"                       GFLOP/s and the bytes it touches\n"
	"      --record S       record inputs, outputs and the model's identity in a\n"
	"                       new session file S (see 'kerascope replay')\n"
	"      --record-activations  also record every layer's output in S\n"
	"      --expect OUT.npy reference outputs (one per model output, e.g. from\n"
	"                       Keras): compare as 'kerascope replay' does; exit 1\n"
	"                       when they differ\n"
	"      --json           print one JSON document instead of text\n"
	CLI_MODEL_OPTS_HELP
	"  -h, --help           show this help\n";

enum {
	O_ZEROS = 256, O_BATCH, O_TRACE, O_SAVE, O_UNTIL, O_TOP, O_LABELS,
	O_REPEAT, O_THREADS, O_PROFILE, O_JSON, O_MAX, O_RECORD, O_RECORD_ACTS, O_EXPECT,
};

static int bad(const char *what, const char *arg)
{
	cli_fail("predict: %s, not '%s'", what, arg);
	return 2;
}

/* Returns -1 to continue, else an exit status. */
static int parse_args(int argc, char **argv, popts *o)
{
	static const struct option opts[] = {
		CLI_INPUT_OPTION_ROWS,
		{"zeros", no_argument, NULL, O_ZEROS},
		{"batch", required_argument, NULL, O_BATCH},
		{"output", required_argument, NULL, 'o'},
		{"trace", no_argument, NULL, O_TRACE},
		{"save-activations", required_argument, NULL, O_SAVE},
		{"until", required_argument, NULL, O_UNTIL},
		{"top", required_argument, NULL, O_TOP},
		{"max", required_argument, NULL, O_MAX},
		{"labels", required_argument, NULL, O_LABELS},
		{"repeat", required_argument, NULL, O_REPEAT},
		{"threads", required_argument, NULL, O_THREADS},
		{"profile", no_argument, NULL, O_PROFILE},
		CLI_MODEL_OPTION_ROWS,
		{"json", no_argument, NULL, O_JSON},
		{"record", required_argument, NULL, O_RECORD},
		{"record-activations", no_argument, NULL, O_RECORD_ACTS},
		{"expect", required_argument, NULL, O_EXPECT},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	long long v;
	int c;

	memset(o, 0, sizeof *o);
	o->batch = 1;
	o->repeat = 1;
	o->threads = 1;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case O_ZEROS: o->zeros = true; break;
		case O_BATCH:
			if (!cli_parse_int(optarg, 1, 1 << 24, &v))
				return bad("--batch needs a positive number", optarg);
			o->batch = v;
			break;
		case 'o': o->out = optarg; break;
		case O_TRACE: o->trace = true; break;
		case O_SAVE: o->save_dir = optarg; break;
		case O_UNTIL: o->until = optarg; break;
		case O_TOP:
			if (!cli_parse_int(optarg, 1, 1 << 20, &v))
				return bad("--top needs a positive number", optarg);
			o->top = (int)v;
			break;
		case O_MAX:
			if (!cli_parse_int(optarg, 1, INT64_MAX, &v))
				return bad("--max needs a positive number", optarg);
			o->max_values = v;
			break;
		case O_LABELS: o->labels = optarg; break;
		case O_REPEAT:
			if (!cli_parse_int(optarg, 1, 1000000, &v))
				return bad("--repeat needs a positive number", optarg);
			o->repeat = (int)v;
			break;
		case O_THREADS:
			if (!cli_parse_int(optarg, 1, 1024, &v))
				return bad("--threads needs a positive number", optarg);
			o->threads = (int)v;
			break;
		case O_PROFILE: o->profile = true; break;
		case O_JSON: o->json = true; break;
		case O_RECORD: o->record = optarg; break;
		case O_RECORD_ACTS: o->record_acts = true; break;
		case O_EXPECT:
			if (o->n_expect >= KS_MAX_IO)
				return bad("too many --expect options", optarg);
			o->expect[o->n_expect++] = optarg;
			break;
		default:
			switch (cli_model_opt("predict", c, optarg, &o->open)) {
			case 1: continue;
			case -1: return 2;
			}
			switch (cli_input_opt("predict", c, optarg, &o->in)) {
			case 1: continue;
			case -1: return 2;
			}
			return cli_bad_option("predict", argv);
		}
	}
	if (optind + 1 != argc) {
		cli_fail("predict: expected FILE (try 'kerascope predict --help')");
		return 2;
	}
	o->file = argv[optind];
	if ((o->in.random || o->zeros) && o->in.n) {
		cli_fail("%s: give either --input or --random/--zeros", o->file);
		return 2;
	}
	if (o->in.random && o->zeros) {
		cli_fail("%s: give either --random or --zeros", o->file);
		return 2;
	}
	if (o->record_acts && !o->record)
		return bad("--record-activations needs --record S", "--record-activations");
	if (o->record && access(o->record, F_OK) == 0) {
		fprintf(stderr, "kerascope: %s: already exists: a session is only ever written to a new file\n",
		        o->record);
		return 2;
	}
	if (!o->in.random && !o->zeros && !o->in.n) {
		cli_fail("%s: no input: give --input X (one per model input), "
		        "--random SEED or --zeros", o->file);
		return 2;
	}
	return -1;
}

/* ---- inputs ---- */

/* Loads the --input data, or, with shapes_only, gives generated inputs
 * (--random/--zeros) their shapes without data: the plan checks what those
 * shapes need before anything that large is allocated. */
static int make_inputs(const ks_model *m, const popts *o, ks_array *arr, const char **src,
                       bool shapes_only, ks_err *err)
{
	ks_input_req r = {o->in.specs, o->in.n, o->in.random, o->zeros, o->in.seed, o->batch,
	                  shapes_only};
	return ks_input_for_model(m, &r, arr, src, err);
}

/* ---- printing ---- */

static json_t *json_num(float v)
{
	return isfinite(v) ? json_real((double)v) : json_null();
}

static json_t *json_values(const float *x, const int64_t *shape, int rank)
{
	if (rank == 0)
		return json_num(x[0]);
	json_t *a = json_array();
	int64_t stride = 1;
	for (int k = 1; k < rank; k++)
		stride *= shape[k];
	for (int64_t i = 0; i < shape[0]; i++)
		json_array_append_new(a, json_values(x + i * stride, shape + 1, rank - 1));
	return a;
}

static json_t *json_shape(const int64_t *d, int rank)
{
	json_t *a = json_array();
	for (int k = 0; k < rank; k++)
		json_array_append_new(a, d[k] < 0 ? json_null() : json_integer(d[k]));
	return a;
}

/* ---- labels and top-k ---- */

typedef struct labels {
	char **v;
	int n;
} labels;

static int read_labels(const char *path, labels *l, ks_err *err)
{
	return ks_input_read_names(path, &l->v, &l->n, err);
}

static void free_labels(labels *l)
{
	ks_input_free_names(l->v, l->n);
}

/* Indices of the k largest values of x[0..n-1] (NaN last), in order. */
static int top_k(const float *x, int64_t n, int k, int64_t *idx)
{
	if (k > n)
		k = (int)n;
	for (int j = 0; j < k; j++) {
		int64_t best = -1;
		for (int64_t i = 0; i < n; i++) {
			bool used = false;
			for (int q = 0; q < j && !used; q++)
				used = idx[q] == i;
			if (used)
				continue;
			if (best < 0 || (isnan(x[best]) && !isnan(x[i])) || x[i] > x[best])
				best = i;
		}
		idx[j] = best;
	}
	return k;
}

/* ---- trace statistics ---- */

typedef struct stats {
	double min, max, mean, std;
	int64_t nan;
} stats;

static stats compute_stats(const float *x, int64_t n)
{
	stats s = {INFINITY, -INFINITY, 0, 0, 0};
	double sum = 0, sq = 0;
	int64_t m = 0;
	for (int64_t i = 0; i < n; i++) {
		float v = x[i];
		if (!isfinite(v)) {
			s.nan++;
			continue;
		}
		if (v < s.min)
			s.min = v;
		if (v > s.max)
			s.max = v;
		sum += v;
		sq += (double)v * v;
		m++;
	}
	if (m) {
		s.mean = sum / (double)m;
		double var = sq / (double)m - s.mean * s.mean;
		s.std = var > 0 ? sqrt(var) : 0;
	} else {
		s.min = s.max = NAN;
	}
	return s;
}

static char *safe_name(const char *name)
{
	char *s = ks_xstrdup(name);
	for (char *p = s; *p; p++)
		if (*p == '/' || *p == '\\' || *p == ' ')
			*p = '_';
	return s;
}

/* ---- --config from a model file ---- */

/* ---- main ---- */

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The file output i goes to: OUT.npy for one output, OUT_<i>.npy for several. */
static char *output_path(const char *out, int i, int n)
{
	size_t len = strlen(out);
	if (n == 1)
		return ks_xstrdup(out);
	if (len > 4 && strcmp(out + len - 4, ".npy") == 0)
		return ks_xasprintf("%.*s_%d.npy", (int)(len - 4), out, i);
	return ks_xasprintf("%s_%d.npy", out, i);
}

static int write_outputs(const ks_plan *p, const char *out, ks_err *err)
{
	int n = ks_plan_n_outputs(p);
	for (int i = 0; i < n; i++) {
		const ks_shape *s = ks_plan_output_shape(p, i);
		char *path = output_path(out, i, n);
		int rc = ks_npy_write(path, ks_plan_output(p, i), s->d, s->rank, err);
		free(path);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int save_activations(const ks_plan *p, const char *dir, ks_err *err)
{
	struct stat st;
	if (stat(dir, &st) != 0) {
		if (mkdir(dir, 0777) != 0)
			return ks_fail(err, "%s: cannot create: %s", dir, strerror(errno));
	} else if (!S_ISDIR(st.st_mode)) {
		return ks_fail(err, "%s: not a directory", dir);
	}
	for (int i = 0; i < ks_plan_n_steps(p); i++) {
		const ks_plan_step *s = ks_plan_step_info(p, i);
		char *base = safe_name(s->name);
		for (int k = 0; k < s->n_out; k++) {
			const float *x = ks_plan_step_output(p, i, k);
			char *path = s->n_out == 1 ? ks_xasprintf("%s/%03d_%s.npy", dir, i, base)
			                           : ks_xasprintf("%s/%03d_%s_%d.npy", dir, i, base, k);
			int rc = x ? ks_npy_write(path, x, s->out[k].d, s->out[k].rank, err) : 0;
			free(path);
			if (rc < 0) {
				free(base);
				return -1;
			}
		}
		free(base);
	}
	return 0;
}

static void show_trace_text(const ks_plan *p)
{
	char sh[160];
	ks_esc_pool pool = {0};
	printf("%-4s %-32s %-20s %-22s %12s %12s %12s %12s\n", "#", "layer", "class", "output shape",
	       "min", "max", "mean", "std");
	for (int i = 0; i < ks_plan_n_steps(p); i++) {
		const ks_plan_step *s = ks_plan_step_info(p, i);
		for (int k = 0; k < s->n_out; k++) {
			const float *x = ks_plan_step_output(p, i, k);
			stats st = compute_stats(x, ks_shape_numel(&s->out[k]));
			char nm[300];
			if (s->n_out > 1)
				snprintf(nm, sizeof nm, "%s[%d]", s->name, k);
			else
				snprintf(nm, sizeof nm, "%s", s->name);
			printf("%-4d %-32s %-20s %-22s %12.6g %12.6g %12.6g %12.6g", i, ks_esc_s(&pool, nm),
			       ks_esc_s(&pool, s->class_name),
			       ks_shape_str(s->out[k].d, s->out[k].rank, sh, sizeof sh), st.min, st.max, st.mean,
			       st.std);
			if (st.nan)
				printf("  (%lld non-finite)", (long long)st.nan);
			putchar('\n');
		}
	}
	putchar('\n');
	ks_esc_pool_free(&pool);
}

static json_t *trace_json(const ks_plan *p)
{
	json_t *a = json_array();
	for (int i = 0; i < ks_plan_n_steps(p); i++) {
		const ks_plan_step *s = ks_plan_step_info(p, i);
		for (int k = 0; k < s->n_out; k++) {
			const float *x = ks_plan_step_output(p, i, k);
			stats st = compute_stats(x, ks_shape_numel(&s->out[k]));
			json_t *o = json_pack("{s:s, s:s, s:i, s:i, s:o, s:o, s:o, s:o, s:o, s:I}", "layer",
			                      s->name, "class", s->class_name, "node", s->node, "output", k,
			                      "shape", json_shape(s->out[k].d, s->out[k].rank), "min",
			                      json_num((float)st.min), "max", json_num((float)st.max), "mean",
			                      json_num((float)st.mean), "std", json_num((float)st.std),
			                      "non_finite", (json_int_t)st.nan);
			json_array_append_new(a, o);
		}
	}
	return a;
}

/* One row per sample, the K classes in aligned columns:
 *   sample 0  Iris-setosa (0)      0.999682  Iris-versicolor (1)  0.000317648 */
static int show_top_text(const ks_plan *p, int i, int K, const labels *lab)
{
	const ks_shape *s = ks_plan_output_shape(p, i);
	const float *x = ks_plan_output(p, i);
	int64_t idx[64];
	char cell[300], num[32];
	ks_esc_pool pool = {0};
	if (s->rank != 2) {
		printf("  (top-%d needs an output of shape (batch, classes))\n", K);
		return 0;
	}
	int k = K > 64 ? 64 : K, wname = 1, wval = 1, wsample = 1;
	snprintf(num, sizeof num, "%lld", (long long)(s->d[0] - 1));
	wsample = (int)strlen(num);
	/* first pass: column widths */
	for (int pass = 0; pass < 2; pass++)
		for (int64_t b = 0; b < s->d[0]; b++) {
			int got = top_k(x + b * s->d[1], s->d[1], k, idx);
			if (pass)
				printf("  sample %-*lld", wsample, (long long)b);
			for (int j = 0; j < got; j++) {
				if (lab->n)
					snprintf(cell, sizeof cell, "%s (%lld)", idx[j] < lab->n ? ks_esc_s(&pool, lab->v[idx[j]]) : "?",
					         (long long)idx[j]);
				else
					snprintf(cell, sizeof cell, "%lld:", (long long)idx[j]);
				snprintf(num, sizeof num, "%.6g", x[b * s->d[1] + idx[j]]);
				if (!pass) {
					wname = (int)strlen(cell) > wname ? (int)strlen(cell) : wname;
					wval = (int)strlen(num) > wval ? (int)strlen(num) : wval;
				} else {
					printf("  %-*s %-*s", wname, cell, j + 1 < got ? wval : 0, num);
				}
			}
			if (pass)
				putchar('\n');
		}
	ks_esc_pool_free(&pool);
	return 0;
}

static json_t *top_json(const ks_plan *p, int i, int K, const labels *lab)
{
	const ks_shape *s = ks_plan_output_shape(p, i);
	const float *x = ks_plan_output(p, i);
	int64_t idx[64];
	if (s->rank != 2)
		return json_null();
	json_t *all = json_array();
	int k = K > 64 ? 64 : K;
	for (int64_t b = 0; b < s->d[0]; b++) {
		json_t *row = json_array();
		int got = top_k(x + b * s->d[1], s->d[1], k, idx);
		for (int j = 0; j < got; j++) {
			json_t *e = json_pack("{s:I, s:o}", "index", (json_int_t)idx[j], "value",
			                      json_num(x[b * s->d[1] + idx[j]]));
			if (lab->n && idx[j] < lab->n)
				json_object_set_new(e, "label", json_string(lab->v[idx[j]]));
			json_array_append_new(row, e);
		}
		json_array_append_new(all, row);
	}
	return all;
}

int cli_predict(int argc, char **argv)
{
	popts o;
	ks_err err;
	ks_model *m = NULL;
	ks_plan *p = NULL;
	ks_array arr[KS_MAX_IO * 8];
	const char *src[KS_MAX_IO * 8];
	ks_shape shapes[KS_MAX_IO * 8];
	labels lab = {0};
	double *times = NULL;
	ks_step_time *step_t = NULL, *step_best = NULL;
	ks_esc_pool pool = {0};
	int rc = parse_args(argc, argv, &o), status = 2;

	if (rc >= 0)
		return rc;
	memset(arr, 0, sizeof arr);
	ks_err_clear(&err);
	openblas_set_num_threads(o.threads);

	m = cli_open_model(o.file, &o.open);
	if (!m)
		goto done;
	if (m->n_inputs > KS_MAX_IO * 8) {
		ks_fail(&err, "the model has too many inputs (%d)", m->n_inputs);
		goto fail_file;
	}
	if (m->n_inputs == 0) {
		ks_fail(&err, "the file holds no runnable model (no inputs)%s",
		        m->format == KS_FMT_WEIGHTS_H5 || m->format == KS_FMT_KERAS3_WEIGHTS
		                ? "; weights only: give --config ARCH.json" : "");
		goto fail_file;
	}
	if (o.labels && read_labels(o.labels, &lab, &err) < 0)
		goto fail_msg;
	if (make_inputs(m, &o, arr, src, !o.in.n, &err) < 0)
		goto fail_file;
	for (int i = 0; i < m->n_inputs; i++) {
		shapes[i].rank = arr[i].rank;
		memcpy(shapes[i].d, arr[i].shape, sizeof(int64_t) * KS_MAX_RANK);
	}
	ks_plan_opts po = {
		.batch = arr[0].shape[0],
		.input_shapes = shapes,
		.n_input_shapes = m->n_inputs,
		.until = o.until,
		.keep_all = o.trace || o.save_dir || o.record_acts,
	};
	p = ks_plan_build(m, &po, &err);
	if (!p)
		goto fail_msg;
	if (!o.in.n && make_inputs(m, &o, arr, src, false, &err) < 0)
		goto fail_file;

	const float *in[KS_MAX_IO * 8];
	for (int i = 0; i < m->n_inputs; i++)
		in[i] = arr[i].data;
	times = ks_xmalloc(sizeof(double) * (size_t)o.repeat);
	if (o.profile) {
		step_t = ks_xcalloc((size_t)ks_plan_n_steps(p) + 1, sizeof *step_t);
		step_best = ks_xcalloc((size_t)ks_plan_n_steps(p) + 1, sizeof *step_best);
	}
	for (int r = 0; r < o.repeat; r++) {
		double t0 = now_ms();
		if (o.profile)
			ks_plan_run_timed(p, in, step_t);
		else
			ks_plan_run(p, in);
		times[r] = now_ms() - t0;
		if (o.profile)
			cli_profile_keep_best(step_best, step_t, ks_plan_n_steps(p), r);
	}
	ks_qsort(times, (size_t)o.repeat, sizeof(double), cmp_double);
	double median = o.repeat % 2 ? times[o.repeat / 2]
	                             : 0.5 * (times[o.repeat / 2 - 1] + times[o.repeat / 2]);

	if (o.out && write_outputs(p, o.out, &err) < 0)
		goto fail_msg;
	if (o.save_dir && save_activations(p, o.save_dir, &err) < 0)
		goto fail_msg;
	char *sources[KS_MAX_IO * 8] = {0};
	for (int i = 0; i < m->n_inputs; i++)
		sources[i] = o.in.n ? ks_xasprintf("%s:%s", src[i], o.in.specs[i])
		                        : o.in.random ? ks_xasprintf("random:%llu", (unsigned long long)(o.in.seed + (uint64_t)i))
		                                   : ks_xstrdup("zeros");
	cli_predict_run pr = {
		.file = o.file, .model = m, .plan = p, .inputs = arr, .sources = (const char *const *)sources,
		.until = o.until, .labels = lab.v, .n_labels = lab.n, .threads = o.threads, .record = o.record,
		.record_acts = o.record_acts, .expect = o.expect, .n_expect = o.n_expect,
	};
	int session_st = 0;

	if (o.json) {
		json_t *root = json_object();
		json_t *ins = json_array(), *outs = json_array();
		json_object_set_new(root, "file", json_string(o.file));
		for (int i = 0; i < m->n_inputs; i++)
			json_array_append_new(ins, json_pack("{s:s, s:o, s:s, s:s}", "name", ks_input_name(m, i), "shape",
			                                     json_shape(arr[i].shape, arr[i].rank), "source", src[i],
			                                     "dtype", ks_dtype_name(arr[i].src_dtype)));
		json_object_set_new(root, "inputs", ins);
		if (m->loadmap) /* how a weights-only file met --config */
			json_object_set_new(root, "load_order", ks_loadmap_json(m->loadmap));
		if (o.until)
			json_object_set_new(root, "until", json_string(o.until));
		for (int i = 0; i < ks_plan_n_outputs(p); i++) {
			const ks_shape *s = ks_plan_output_shape(p, i);
			json_t *e = json_pack("{s:s, s:o, s:o}", "name", ks_plan_output_name(p, i), "shape",
			                      json_shape(s->d, s->rank), "values",
			                      json_values(ks_plan_output(p, i), s->d, s->rank));
			if (o.top)
				json_object_set_new(e, "top", top_json(p, i, o.top, &lab));
			json_array_append_new(outs, e);
		}
		json_object_set_new(root, "outputs", outs);
		if (o.trace)
			json_object_set_new(root, "trace", trace_json(p));
		json_t *notes = json_array();
		for (int i = 0; i < ks_plan_n_notes(p); i++)
			json_array_append_new(notes, json_string(ks_plan_note(p, i)));
		json_object_set_new(root, "notes", notes);
		json_object_set_new(root, "repeat", json_integer(o.repeat));
		json_object_set_new(root, "threads", json_integer(o.threads));
		json_object_set_new(root, "ms_per_inference", json_real(median));
		if (o.profile)
			json_object_set_new(root, "profile", cli_profile_json(p, step_best, o.repeat, o.threads));
		if (o.record || o.n_expect)
			session_st = cli_predict_session(&pr, root);
		json_dumpf(root, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
		putchar('\n');
		json_decref(root);
	} else {
		char sh[160];
		for (int i = 0; i < ks_plan_n_notes(p); i++)
			cli_fail("%s: note: %s", o.file, ks_plan_note(p, i));
		if (o.trace)
			show_trace_text(p);
		for (int i = 0; i < ks_plan_n_outputs(p); i++) {
			const ks_shape *s = ks_plan_output_shape(p, i);
			printf("output %d: %s %s", i, ks_esc_s(&pool, ks_plan_output_name(p, i)),
			       ks_shape_str(s->d, s->rank, sh, sizeof sh));
			if (o.out) {
				/* the values went to the file */
				char *path = output_path(o.out, i, ks_plan_n_outputs(p));
				printf(" -> %s\n", ks_esc_s(&pool, path));
				free(path);
			} else if (o.top && s->rank == 2) {
				putchar('\n'); /* the top classes stand for the values */
			} else {
				putchar('\n');
				ks_report_print_values(stdout, ks_plan_output(p, i), s->d, s->rank, o.max_values);
			}
			if (o.top)
				show_top_text(p, i, o.top, &lab);
		}
		char dur[32];
		if (o.profile) {
			putchar('\n');
			cli_profile_text(stdout, p, step_best, o.repeat, o.threads);
		}
		if (o.repeat > 1)
			printf("%s per inference (median of %d runs, %d thread%s)\n",
			       ks_report_duration(median, dur, sizeof dur), o.repeat, o.threads, o.threads == 1 ? "" : "s");
		if (o.record || o.n_expect)
			session_st = cli_predict_session(&pr, NULL);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		ks_fail(&err, "cannot write output: %s", strerror(errno));
		goto fail_file;
	}
	status = session_st;
	for (int i = 0; i < m->n_inputs; i++)
		free(sources[i]);
	goto done;
fail_file:
	cli_fail("%s: %s", o.file, err.msg);
	goto done;
fail_msg:
	/* messages from the loader and planner already name the file */
	cli_fail("%s", err.msg);
done:
	ks_esc_pool_free(&pool);
	free(times);
	free(step_t);
	free(step_best);
	for (int i = 0; i < KS_MAX_IO * 8; i++)
		ks_array_free(&arr[i]);
	free_labels(&lab);
	ks_plan_free(p);
	ks_model_free(m);
	return status;
}
