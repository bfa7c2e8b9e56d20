/* cli_doctor: `kerascope doctor FILE [FILE2]`, the findings from the shell.
 *
 * Opens the file(s) (weights-only files take --config ARCH), loads --input
 * arrays fitted to the model's input shapes, runs ks_doctor and prints the
 * findings. Exit status: 0 no warning or error, 1 at least one, 2 failure.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_common.h"
#include "cli_doctor.h"
#include "ks_doctor.h"
#include "ks_input.h"
#include "ks_plan.h"
#include "ks_util.h"

#define MAX_INPUT_SPECS 64

static const char usage_text[] =
	"Usage: kerascope doctor FILE [FILE2] [--input X ...] [--labels FILE] [--explain]\n"
	"                        [--json] [--config ARCH]\n"
	"Explains why a reloaded Keras model behaves differently: Lambda layers, custom\n"
	"objects, the \"accuracy\" metric, untrained or re-initialised weights, layer\n"
	"order, NaN/Inf, training-mode layers, stateful RNNs, version changes, permuted\n"
	"classes. Exit status: 0 no warning or error, 1 at least one, 2 failure.\n"
	"\n"
	"      FILE2            a second file to compare with (re-initialised weights,\n"
	"                       permuted classes, identical weights)\n"
	"      --input X        one per model input (.npy, .csv, DATA.h5:/dataset or a\n"
	"                       literal): input contract, NaN/Inf in activations,\n"
	"                       determinism, version differences measured\n"
	"      --labels FILE    class names, one per line\n"
	"      --explain        print each finding's explanation in full\n"
	"      --json           {\"findings\": [...], \"checks\": [...]}\n"
	CLI_MODEL_OPTS_HELP
	"  -h, --help           show this help\n";

enum { O_INPUT = 256, O_LABELS, O_EXPLAIN, O_JSON };

static int count_labels(const char *path, ks_err *err)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	int n = 0;
	if (!f)
		return ks_fail(err, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof line, f))
		if (line[strspn(line, " \t\r\n")])
			n++;
	fclose(f);
	return n;
}

int cli_doctor(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_MODEL_OPTION_ROWS,
		{"input", required_argument, NULL, O_INPUT},
		{"labels", required_argument, NULL, O_LABELS},
		{"explain", no_argument, NULL, O_EXPLAIN},
		{"json", no_argument, NULL, O_JSON},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *labels = NULL, *specs[MAX_INPUT_SPECS], *src[MAX_INPUT_SPECS];
	int n_specs = 0, c, status = 2;
	ks_open_opts oo = {0};
	bool json = false, explain = false;
	ks_model *a = NULL, *b = NULL;
	ks_array arr[MAX_INPUT_SPECS];
	ks_doctor d;
	ks_err err;

	memset(arr, 0, sizeof arr);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case O_INPUT:
			if (n_specs >= MAX_INPUT_SPECS)
				return cli_fail("doctor: too many --input options");
			specs[n_specs++] = optarg;
			break;
		case O_LABELS: labels = optarg; break;
		case O_EXPLAIN: explain = true; break;
		case O_JSON: json = true; break;
		default: {
			int r = cli_model_opt("doctor", c, optarg, &oo);
			if (r < 0)
				return 2;
			if (r == 0)
				return cli_fail("doctor: bad option '%s' (try 'kerascope doctor --help')",
				                argv[optind - 1]);
		}
		}
	}
	if (optind >= argc || argc - optind > 2)
		return cli_fail("doctor: expected FILE [FILE2] (try 'kerascope doctor --help')");
	ks_doctor_in in = {.n_labels = -1};
	/* The doctor studies a weights file whose default (topological) load
	 * would fail, so it opens by name unless asked otherwise; the load-order
	 * checks read both orders from the file (ks_loadorder.h), and say in
	 * findings what cli_open_model's note would say. */
	if (oo.load_order == KS_LOAD_DEFAULT)
		oo.load_order = KS_LOAD_BY_NAME;
	if (!(a = ks_model_open(argv[optind], &oo, &err)))
		goto fail;
	if (argc - optind == 2 && !(b = ks_model_open(argv[optind + 1], &oo, &err)))
		goto fail;
	if (labels && (in.n_labels = count_labels(labels, &err)) < 0)
		goto fail;
	ks_input_req req = {.specs = specs, .n_specs = n_specs, .batch = 1};
	if (n_specs && a->n_inputs > MAX_INPUT_SPECS) {
		ks_fail(&err, "%s: the model takes %d inputs, more than --input can give (%d)", a->path,
		        a->n_inputs, MAX_INPUT_SPECS);
		goto fail;
	}
	if (n_specs && ks_input_for_model(a, &req, arr, src, &err) < 0) {
		ks_err_prefix(&err, "%s", a->path);
		goto fail;
	}
	in.a = a;
	in.b = b;
	in.inputs = n_specs ? arr : NULL;
	in.n_inputs = n_specs;
	if (ks_doctor_run(&in, &d, &err) < 0)
		goto fail;
	ks_doctor_print(stdout, &d, json, explain);
	status = ks_doctor_has_problems(&d) ? 1 : 0;
	ks_doctor_free(&d);
	goto out;
fail:
	cli_fail("%s", err.msg);
out:
	for (int i = 0; i < n_specs && a && i < a->n_inputs; i++)
		ks_array_free(&arr[i]);
	ks_model_free(a);
	ks_model_free(b);
	return status;
}
