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

#include "cli_predict.h"
#include "ks_input.h"
#include "ks_npy.h"
#include "ks_plan.h"
#include "ks_util.h"

#define MAX_INPUT_SPECS 64
/* Text output prints every value of arrays up to this size, else the
 * first and last few along each axis (like numpy). */
#define PRINT_FULL_LIMIT 1000
#define EDGE_ITEMS 3

/* openblas_set_num_threads is OpenBLAS-specific and not in cblas.h everywhere. */
extern void openblas_set_num_threads(int);

typedef struct popts {
	const char *file;
	const char *inputs[MAX_INPUT_SPECS];
	int n_inputs;
	bool random, zeros;
	uint64_t seed;
	int64_t batch;
	const char *out;
	bool trace;
	const char *save_dir;
	const char *until;
	int top;
	const char *labels;
	int repeat;
	int threads;
	const char *config;
	bool json;
} popts;

static const char usage_text[] =
	"Usage: kerascope predict FILE [OPTIONS]\n"
	"Runs the model on the given inputs (float32, deterministic) and prints the outputs.\n\n"
	"  --input X        one per model input, in input order: a .npy file, a .csv file\n"
	"                   (one sample per row) or a literal such as '[[1, 2, 3]]';\n"
	"                   the batch axis may be left out\n"
	"  --random SEED    uniform inputs in [-1, 1) (whole numbers for integer inputs,\n"
	"                   ids below input_dim for Embedding inputs)\n"
	"  --zeros          all-zero inputs\n"
	"  --batch N        batch size for --random/--zeros (default 1)\n"
	"  -o OUT.npy       write the outputs (OUT.npy, or OUT_0.npy, OUT_1.npy, ...)\n"
	"  --trace          every layer's output shape and statistics\n"
	"  --save-activations DIR  write every layer's output as DIR/NNN_layer.npy\n"
	"  --until LAYER    stop at LAYER and show its output ('outer/inner' for nested)\n"
	"  --top K          the K largest classes of each sample\n"
	"  --labels FILE    class names for --top, one per line\n"
	"  --repeat N       run N times and report the median time per inference\n"
	"  --threads N      OpenBLAS threads (default 1)\n"
	"  --config ARCH    architecture for weights-only files: a JSON file, or a\n"
	"                   model file (.h5/.keras) whose architecture is used\n"
	"  --json           machine-readable output\n";

enum {
	O_INPUT = 256, O_RANDOM, O_ZEROS, O_BATCH, O_TRACE, O_SAVE, O_UNTIL, O_TOP, O_LABELS,
	O_REPEAT, O_THREADS, O_CONFIG, O_JSON,
};

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

static int bad(const char *what, const char *arg)
{
	fprintf(stderr, "kerascope: predict: %s, not '%s'\n", what, arg);
	return 2;
}

/* Returns -1 to continue, else an exit status. */
static int parse_args(int argc, char **argv, popts *o)
{
	static const struct option opts[] = {
		{"input", required_argument, NULL, O_INPUT},
		{"random", required_argument, NULL, O_RANDOM},
		{"zeros", no_argument, NULL, O_ZEROS},
		{"batch", required_argument, NULL, O_BATCH},
		{"output", required_argument, NULL, 'o'},
		{"trace", no_argument, NULL, O_TRACE},
		{"save-activations", required_argument, NULL, O_SAVE},
		{"until", required_argument, NULL, O_UNTIL},
		{"top", required_argument, NULL, O_TOP},
		{"labels", required_argument, NULL, O_LABELS},
		{"repeat", required_argument, NULL, O_REPEAT},
		{"threads", required_argument, NULL, O_THREADS},
		{"config", required_argument, NULL, O_CONFIG},
		{"json", no_argument, NULL, O_JSON},
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
		case O_INPUT:
			if (o->n_inputs >= MAX_INPUT_SPECS)
				return bad("too many --input options", optarg);
			o->inputs[o->n_inputs++] = optarg;
			break;
		case O_RANDOM:
			if (!parse_int(optarg, 0, INT64_MAX, &v))
				return bad("--random needs a seed (a non-negative integer)", optarg);
			o->random = true;
			o->seed = (uint64_t)v;
			break;
		case O_ZEROS: o->zeros = true; break;
		case O_BATCH:
			if (!parse_int(optarg, 1, 1 << 24, &v))
				return bad("--batch needs a positive number", optarg);
			o->batch = v;
			break;
		case 'o': o->out = optarg; break;
		case O_TRACE: o->trace = true; break;
		case O_SAVE: o->save_dir = optarg; break;
		case O_UNTIL: o->until = optarg; break;
		case O_TOP:
			if (!parse_int(optarg, 1, 1 << 20, &v))
				return bad("--top needs a positive number", optarg);
			o->top = (int)v;
			break;
		case O_LABELS: o->labels = optarg; break;
		case O_REPEAT:
			if (!parse_int(optarg, 1, 1000000, &v))
				return bad("--repeat needs a positive number", optarg);
			o->repeat = (int)v;
			break;
		case O_THREADS:
			if (!parse_int(optarg, 1, 1024, &v))
				return bad("--threads needs a positive number", optarg);
			o->threads = (int)v;
			break;
		case O_CONFIG: o->config = optarg; break;
		case O_JSON: o->json = true; break;
		default:
			if (optopt && optopt < 256)
				fprintf(stderr, "kerascope: predict: bad option '-%c' (try 'kerascope predict --help')\n", optopt);
			else
				fprintf(stderr, "kerascope: predict: bad option '%s' (try 'kerascope predict --help')\n",
				        argv[optind - 1]);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "kerascope: predict: expected FILE (try 'kerascope predict --help')\n");
		return 2;
	}
	o->file = argv[optind];
	if ((o->random || o->zeros) && o->n_inputs) {
		fprintf(stderr, "kerascope: %s: give either --input or --random/--zeros\n", o->file);
		return 2;
	}
	if (o->random && o->zeros) {
		fprintf(stderr, "kerascope: %s: give either --random or --zeros\n", o->file);
		return 2;
	}
	if (!o->random && !o->zeros && !o->n_inputs) {
		fprintf(stderr, "kerascope: %s: no input: give --input X (one per model input), "
		        "--random SEED or --zeros\n", o->file);
		return 2;
	}
	return -1;
}

/* ---- inputs ---- */

/* The Embedding fed directly by top-level input i, if any: its vocabulary. */
static int64_t embedding_vocab(const ks_model *m, int input)
{
	int li = m->inputs[input].layer;
	for (int i = 0; i < m->n_layers; i++) {
		const ks_layer *L = &m->layers[i];
		if (!L->class_name || strcmp(L->class_name, "Embedding") != 0)
			continue;
		for (int n = 0; n < L->n_nodes; n++)
			for (int k = 0; k < L->nodes[n].n_in; k++)
				if (L->nodes[n].in[k].layer == li) {
					json_t *v = json_object_get(L->config, "input_dim");
					return json_is_integer(v) ? json_integer_value(v) : 0;
				}
	}
	return 0;
}

static const char *input_name(const ks_model *m, int i)
{
	int li = m->inputs[i].layer;
	return li >= 0 && li < m->n_layers ? m->layers[li].name : "?";
}

/* The dtype an InputLayer declares ("float32", "int32", ...): a string in
 * Keras 1/2, a DTypePolicy object in Keras 3. NULL when absent. */
static const char *input_dtype(const ks_model *m, int input)
{
	int li = m->inputs[input].layer;
	if (li < 0 || li >= m->n_layers)
		return NULL;
	const json_t *d = json_object_get(m->layers[li].config, "dtype");
	if (json_is_object(d))
		d = json_object_get(json_object_get(d, "config"), "name");
	return json_is_string(d) ? json_string_value(d) : NULL;
}

static int make_inputs(const ks_model *m, const popts *o, ks_array *arr, const char **src, ks_err *err)
{
	int n = m->n_inputs;

	if (o->n_inputs && o->n_inputs != n)
		return ks_fail(err, "the model takes %d input%s (%s%s) but %d --input %s given", n,
		               n == 1 ? "" : "s", n > 0 ? input_name(m, 0) : "", n > 1 ? ", ..." : "",
		               o->n_inputs, o->n_inputs == 1 ? "was" : "were");
	for (int i = 0; i < n; i++) {
		ks_shape want;
		bool declared = ks_model_input_shape(m, i, &want, err) == 0;
		if (!declared && !o->n_inputs)
			return -1;
		if (o->n_inputs) {
			ks_input_kind kind;
			if (ks_input_load(o->inputs[i], &arr[i], &kind, err) < 0)
				return -1;
			src[i] = kind == KS_INPUT_NPY ? "npy" : kind == KS_INPUT_CSV ? "csv" : "literal";
			/* without a declared shape the data is taken as given, batch first */
			if (declared && ks_input_fit(&arr[i], &want, kind == KS_INPUT_CSV, input_name(m, i), err) < 0)
				return -1;
			if (!declared && arr[i].rank < 1)
				return ks_fail(err, "input %s: the data needs a batch axis", input_name(m, i));
			if (i > 0 && arr[i].shape[0] != arr[0].shape[0])
				return ks_fail(err, "inputs have different batch sizes (%lld and %lld)",
				               (long long)arr[0].shape[0], (long long)arr[i].shape[0]);
			if (ks_input_check_dtype(&arr[i], input_dtype(m, i), input_name(m, i), err) < 0)
				return -1;
			/* Keras rejects ids outside an Embedding's vocabulary (on CPU);
			 * the kernel would write NaN rows, so say it up front */
			int64_t vocab = embedding_vocab(m, i), cnt = ks_array_numel(&arr[i]);
			for (int64_t k = 0; vocab > 0 && k < cnt; k++) {
				float v = arr[i].data[k];
				if (!(v > -1.0f && v < (float)vocab))
					return ks_fail(err, "input %s feeds an Embedding with input_dim %lld, but value %lld "
					               "of the data is %g", input_name(m, i), (long long)vocab, (long long)k,
					               (double)v);
			}
		} else {
			/* random ids below the vocabulary for Embedding inputs, small
			 * whole numbers for other integer inputs, else uniform [-1, 1) */
			int64_t vocab = o->random ? embedding_vocab(m, i) : 0;
			bool ints = vocab > 0 || ks_input_dtype_is_integer(input_dtype(m, i));
			float hi = vocab > 0 ? (float)vocab : ints ? 10.0f : 1.0f;
			src[i] = o->random ? "random" : "zeros";
			if (ks_input_generate(&want, o->batch, o->random, o->seed + (uint64_t)i, ints ? 0.0f : -1.0f,
			                      hi, ints, input_name(m, i), &arr[i], err) < 0)
				return -1;
		}
	}
	return 0;
}

/* ---- printing ---- */

static void print_rec(FILE *f, const float *x, const int64_t *shape, int rank, int depth, bool summarise,
                      int indent)
{
	if (rank == 0) {
		fprintf(f, "%.7g", x[0]);
		return;
	}
	int64_t n = shape[0], stride = 1;
	for (int k = 1; k < rank; k++)
		stride *= shape[k];
	fputc('[', f);
	for (int64_t i = 0; i < n; i++) {
		if (summarise && n > 2 * EDGE_ITEMS && i == EDGE_ITEMS) {
			fputs(rank == 1 ? "..., " : "...,\n", f);
			if (rank > 1)
				fprintf(f, "%*s", indent + 1, "");
			i = n - EDGE_ITEMS;
		}
		print_rec(f, x + i * stride, shape + 1, rank - 1, depth + 1, summarise, indent + 1);
		if (i + 1 < n) {
			if (rank == 1)
				fputs(", ", f);
			else
				fprintf(f, ",\n%*s", indent + 1, "");
		}
	}
	fputc(']', f);
}

static void print_array(FILE *f, const float *x, const int64_t *shape, int rank)
{
	int64_t n;
	ks_numel(shape, rank, &n);
	print_rec(f, x, shape, rank, 0, n > PRINT_FULL_LIMIT, 0);
	fputc('\n', f);
}

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
	FILE *f = fopen(path, "r");
	char line[4096];
	if (!f)
		return ks_fail(err, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof line, f)) {
		size_t len = strcspn(line, "\r\n");
		line[len] = '\0';
		l->v = ks_xrealloc(l->v, sizeof(char *) * (size_t)(l->n + 1));
		l->v[l->n++] = ks_xstrdup(line);
	}
	fclose(f);
	return 0;
}

static void free_labels(labels *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
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
			printf("%-4d %-32s %-20s %-22s %12.6g %12.6g %12.6g %12.6g", i, nm, s->class_name,
			       ks_shape_str(s->out[k].d, s->out[k].rank, sh, sizeof sh), st.min, st.max, st.mean,
			       st.std);
			if (st.nan)
				printf("  (%lld non-finite)", (long long)st.nan);
			putchar('\n');
		}
	}
	putchar('\n');
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

static int show_top_text(const ks_plan *p, int i, int K, const labels *lab)
{
	const ks_shape *s = ks_plan_output_shape(p, i);
	const float *x = ks_plan_output(p, i);
	int64_t idx[64];
	if (s->rank != 2) {
		printf("  (top-%d needs an output of shape (batch, classes))\n", K);
		return 0;
	}
	int k = K > 64 ? 64 : K;
	for (int64_t b = 0; b < s->d[0]; b++) {
		int got = top_k(x + b * s->d[1], s->d[1], k, idx);
		printf("  sample %lld:", (long long)b);
		for (int j = 0; j < got; j++) {
			if (lab->n)
				printf("  %s (%lld) %.6g", idx[j] < lab->n ? lab->v[idx[j]] : "?", (long long)idx[j],
				       x[b * s->d[1] + idx[j]]);
			else
				printf("  %lld: %.6g", (long long)idx[j], x[b * s->d[1] + idx[j]]);
		}
		putchar('\n');
	}
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
	int rc = parse_args(argc, argv, &o), status = 2;

	if (rc >= 0)
		return rc;
	memset(arr, 0, sizeof arr);
	ks_err_clear(&err);
	openblas_set_num_threads(o.threads);

	ks_open_opts oo = {.config_path = o.config};
	m = ks_model_open(o.file, &oo, &err);
	if (!m)
		goto fail_msg;
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
	if (make_inputs(m, &o, arr, src, &err) < 0)
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
		.keep_all = o.trace || o.save_dir,
	};
	p = ks_plan_build(m, &po, &err);
	if (!p)
		goto fail_msg;

	const float *in[KS_MAX_IO * 8];
	for (int i = 0; i < m->n_inputs; i++)
		in[i] = arr[i].data;
	times = ks_xmalloc(sizeof(double) * (size_t)o.repeat);
	for (int r = 0; r < o.repeat; r++) {
		double t0 = now_ms();
		ks_plan_run(p, in);
		times[r] = now_ms() - t0;
	}
	qsort(times, (size_t)o.repeat, sizeof(double), cmp_double);
	double median = o.repeat % 2 ? times[o.repeat / 2]
	                             : 0.5 * (times[o.repeat / 2 - 1] + times[o.repeat / 2]);

	if (o.out && write_outputs(p, o.out, &err) < 0)
		goto fail_msg;
	if (o.save_dir && save_activations(p, o.save_dir, &err) < 0)
		goto fail_msg;

	if (o.json) {
		json_t *root = json_object();
		json_t *ins = json_array(), *outs = json_array();
		json_object_set_new(root, "file", json_string(o.file));
		for (int i = 0; i < m->n_inputs; i++)
			json_array_append_new(ins, json_pack("{s:s, s:o, s:s, s:s}", "name", input_name(m, i), "shape",
			                                     json_shape(arr[i].shape, arr[i].rank), "source", src[i],
			                                     "dtype", ks_dtype_name(arr[i].src_dtype)));
		json_object_set_new(root, "inputs", ins);
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
		json_dumpf(root, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
		putchar('\n');
		json_decref(root);
	} else {
		char sh[160];
		for (int i = 0; i < ks_plan_n_notes(p); i++)
			fprintf(stderr, "kerascope: %s: note: %s\n", o.file, ks_plan_note(p, i));
		if (o.trace)
			show_trace_text(p);
		for (int i = 0; i < ks_plan_n_outputs(p); i++) {
			const ks_shape *s = ks_plan_output_shape(p, i);
			printf("output %d: %s %s", i, ks_plan_output_name(p, i),
			       ks_shape_str(s->d, s->rank, sh, sizeof sh));
			if (o.out) {
				/* the values went to the file */
				char *path = output_path(o.out, i, ks_plan_n_outputs(p));
				printf(" -> %s\n", path);
				free(path);
			} else {
				putchar('\n');
				print_array(stdout, ks_plan_output(p, i), s->d, s->rank);
			}
			if (o.top)
				show_top_text(p, i, o.top, &lab);
		}
		if (o.repeat > 1)
			printf("%.3f ms per inference (median of %d runs, %d thread%s)\n", median, o.repeat,
			       o.threads, o.threads == 1 ? "" : "s");
	}
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
	/* messages from the loader and planner already name the file */
	fprintf(stderr, "kerascope: %s\n", err.msg);
done:
	free(times);
	for (int i = 0; i < KS_MAX_IO * 8; i++)
		ks_array_free(&arr[i]);
	free_labels(&lab);
	ks_plan_free(p);
	ks_model_free(m);
	return status;
}
