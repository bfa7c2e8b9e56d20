/* cli_diff: `kerascope diff A B`, two saved models side by side.
 *
 * Parses the options, opens and pairs both files (ks_diff_open), streams
 * their values (ks_diff_compare) with a progress line on a terminal and
 * Ctrl-C stopping between blocks, optionally runs both on one input
 * (ks_diff_run_outputs), and prints the result (ks_diff_report). Exit
 * status as h5diff: 0 nothing differs, 1 differences, 2 error.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cblas.h>
#include <jansson.h>

#include "cli_common.h"
#include "cli.h"
#include "cli_diff.h"
#include "cli_progress.h"
#include "cli_replay.h"
#include "ks_diff.h"
#include "ks_diff_report.h"
#include "ks_input.h"
#include "ks_util.h"

#define MAX_INPUT_SPECS 64
#define DEFAULT_MAX_ELEMS 20

extern void openblas_set_num_threads(int);

typedef struct dopts {
	const char *a, *b;
	ks_tol tol;
	bool tol_set;
	bool quiet, report, json;
	int64_t max_elems;
	const char *config, *config_a, *config_b;
	const char *inputs[MAX_INPUT_SPECS];
	int n_inputs;
	bool random;
	uint64_t seed;
	ks_load_order load_order;
} dopts;

static const char usage_text[] =
	"Usage: kerascope diff A B [OPTIONS]\n"
	"Compares two saved models (any formats kerascope reads, mixed): which layers\n"
	"correspond, which weights changed and by how much, which settings differ and,\n"
	"with an input, where the two start to compute different things.\n"
	"Exit status: 0 no differences, 1 differences, 2 error.\n\n"
	"  -d, --delta D            values differ when |a-b| > D\n"
	"  -p, --relative P         values differ when |a-b| > P*|a|\n"
	"      --use-system-epsilon values differ when |a-b| > FLT_EPSILON\n"
	"                           (default: exact; NaN equals NaN)\n"
	"  -q, --quiet              print nothing; the exit status says it\n"
	"  -r, --report             list the differing elements (position, a, b, |a-b|)\n"
	"      --max N              at most N elements per tensor with -r (default 20,\n"
	"                           0 for all)\n"
	"      --config ARCH        architecture for weights-only files (both sides):\n"
	"                           a JSON file or a model file\n"
	"      --config-a ARCH      architecture for A only\n"
	"      --config-b ARCH      architecture for B only\n"
	"      --load-order by-name|topological\n"
	"                           how a weights-only .h5 meets that architecture\n"
	"                           (default: topological, as model.load_weights)\n"
	"      --input X            run both models on X (one per model input: .npy,\n"
	"                           .csv or a literal) and compare every layer's output\n"
	"      --random SEED        the same, on uniform random inputs in [-1, 1)\n"
	"      --json               one JSON document\n"
	"  -h, --help               show this help\n";

enum { O_EPS = 256, O_MAX, O_CONFIG, O_CONFIG_A, O_CONFIG_B, O_LOAD_ORDER, O_INPUT, O_RANDOM, O_JSON };

static int bad(const char *what, const char *arg)
{
	fprintf(stderr, "kerascope: diff: %s, not '%s'\n", what, arg);
	return 2;
}

static bool parse_double(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0)
		return false;
	*out = v;
	return true;
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

static int set_tol(dopts *o, ks_tol_kind k, double v)
{
	if (o->tol_set) {
		fprintf(stderr, "kerascope: diff: give one of -d, -p and --use-system-epsilon\n");
		return 2;
	}
	o->tol = (ks_tol){k, v};
	o->tol_set = true;
	return -1;
}

/* Returns -1 to continue, else an exit status. */
static int parse_args(int argc, char **argv, dopts *o)
{
	static const struct option opts[] = {
		{"delta", required_argument, NULL, 'd'},
		{"relative", required_argument, NULL, 'p'},
		{"use-system-epsilon", no_argument, NULL, O_EPS},
		{"quiet", no_argument, NULL, 'q'},
		{"report", no_argument, NULL, 'r'},
		{"max", required_argument, NULL, O_MAX},
		{"config", required_argument, NULL, O_CONFIG},
		{"config-a", required_argument, NULL, O_CONFIG_A},
		{"config-b", required_argument, NULL, O_CONFIG_B},
		{"load-order", required_argument, NULL, O_LOAD_ORDER},
		{"input", required_argument, NULL, O_INPUT},
		{"random", required_argument, NULL, O_RANDOM},
		{"json", no_argument, NULL, O_JSON},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	double v;
	long long n;
	int c, rc;

	memset(o, 0, sizeof *o);
	o->max_elems = DEFAULT_MAX_ELEMS;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "hd:p:qr", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'd':
			if (!parse_double(optarg, &v))
				return bad("-d needs a non-negative number", optarg);
			if ((rc = set_tol(o, KS_TOL_ABS, v)) >= 0)
				return rc;
			break;
		case 'p':
			if (!parse_double(optarg, &v))
				return bad("-p needs a non-negative number", optarg);
			if ((rc = set_tol(o, KS_TOL_REL, v)) >= 0)
				return rc;
			break;
		case O_EPS:
			if ((rc = set_tol(o, KS_TOL_EPSILON, 0)) >= 0)
				return rc;
			break;
		case 'q': o->quiet = true; break;
		case 'r': o->report = true; break;
		case O_MAX:
			if (!parse_int(optarg, 0, INT64_MAX, &n))
				return bad("--max needs a non-negative number", optarg);
			o->max_elems = n ? n : INT64_MAX;
			break;
		case O_CONFIG: o->config = optarg; break;
		case O_CONFIG_A: o->config_a = optarg; break;
		case O_CONFIG_B: o->config_b = optarg; break;
		case O_LOAD_ORDER:
			if (!cli_parse_load_order(optarg, &o->load_order))
				return bad("--load-order is by-name or topological", optarg);
			break;
		case O_INPUT:
			if (o->n_inputs >= MAX_INPUT_SPECS)
				return bad("too many --input options", optarg);
			o->inputs[o->n_inputs++] = optarg;
			break;
		case O_RANDOM:
			if (!parse_int(optarg, 0, INT64_MAX, &n))
				return bad("--random needs a seed (a non-negative integer)", optarg);
			o->random = true;
			o->seed = (uint64_t)n;
			break;
		case O_JSON: o->json = true; break;
		default:
			if (optopt && optopt < 256)
				fprintf(stderr, "kerascope: diff: bad option '-%c' (try 'kerascope diff --help')\n", optopt);
			else
				fprintf(stderr, "kerascope: diff: bad option '%s' (try 'kerascope diff --help')\n",
				        argv[optind - 1]);
			return 2;
		}
	}
	if (optind + 2 != argc) {
		fprintf(stderr, "kerascope: diff: expected two files A B (try 'kerascope diff --help')\n");
		return 2;
	}
	o->a = argv[optind];
	o->b = argv[optind + 1];
	if (o->random && o->n_inputs) {
		fprintf(stderr, "kerascope: diff: give either --input or --random\n");
		return 2;
	}
	if (!o->config_a)
		o->config_a = o->config;
	if (!o->config_b)
		o->config_b = o->config;
	return -1;
}

static int on_progress(void *ctx, int64_t done, int64_t total)
{
	return cli_progress_update(ctx, done, total);
}

/* ---- main ---- */

static int make_inputs(const ks_diff *d, const dopts *o, ks_array *arr, int *n, char *src, size_t srclen,
                       ks_err *err)
{
	const ks_model *m = ks_diff_model_a(d);
	const char *kinds[KS_MAX_IO];
	if (m->n_inputs < 1 || m->n_inputs > KS_MAX_IO)
		return ks_fail(err, "%s: the model has %d inputs: nothing to run", m->path, m->n_inputs);
	ks_input_req r = {.specs = o->inputs, .n_specs = o->n_inputs, .random = o->random,
	                  .seed = o->seed, .batch = 1};
	*n = m->n_inputs;   /* what was read before a failure is freed too */
	if (ks_input_for_model(m, &r, arr, kinds, err) < 0)
		return ks_err_prefix(err, "%s", m->path);
	if (o->random)
		snprintf(src, srclen, "random inputs (seed %llu)", (unsigned long long)o->seed);
	else
		snprintf(src, srclen, "%s%s", o->inputs[0], o->n_inputs > 1 ? ", ..." : "");
	return 0;
}

int cli_diff(int argc, char **argv)
{
	dopts o;
	ks_err err;
	ks_diff *d = NULL;
	ks_array arr[KS_MAX_IO];
	int n_arr = 0, status = 2;
	char src[1024];
	/* a session on either side: compared as sessions (cli_replay.c) */
	for (int i = 1; i < argc; i++)
		if (argv[i][0] != '-' && ks_session_is(argv[i]))
			return cli_session_diff(argc, argv);
	int rc = parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;
	memset(arr, 0, sizeof arr);
	ks_err_clear(&err);
	openblas_set_num_threads(1);

	ks_diff_opts dop = {
		.tol = o.tol,
		.config_a = o.config_a,
		.config_b = o.config_b,
		.load_order = o.load_order,
		.elem_max = o.report ? o.max_elems : 0,
	};
	cli_progress pg;
	cli_progress_start(&pg, "comparing", !o.quiet);
	dop.progress = on_progress;
	dop.progress_ctx = &pg;

	d = ks_diff_open(o.a, o.b, &dop, &err);
	if (!d)
		goto fail;
	rc = ks_diff_compare(d, &err);
	cli_progress_clear(&pg);
	if (rc < 0)
		goto fail;
	if (o.random || o.n_inputs) {
		if (make_inputs(d, &o, arr, &n_arr, src, sizeof src, &err) < 0)
			goto fail;
		if (ks_diff_run_outputs(d, arr, n_arr, &err) < 0)
			goto fail;
		d->outputs.input_source = src;
	}
	status = ks_diff_any_difference(d) ? 1 : 0;
	if (o.quiet)
		goto done;
	if (o.json) {
		json_t *root = ks_diff_json(d);
		json_dumpf(root, stdout, JSON_INDENT(1) | JSON_REAL_PRECISION(17));
		putchar('\n');
		json_decref(root);
	} else {
		ks_diff_print_text(stdout, d);
	}
	goto done;
fail:
	status = 2;
	if (cli_progress_interrupted())
		cli_fail("diff: interrupted");
	else
		cli_fail("%s", err.msg);
done:
	cli_progress_end(&pg);
	if (d)
		d->outputs.input_source = NULL;
	ks_diff_free(d);
	for (int i = 0; i < n_arr; i++)
		ks_array_free(&arr[i]);
	return status;
}
