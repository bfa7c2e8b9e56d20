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

#include "cli_doctor.h"
#include "ks_doctor.h"
#include "ks_input.h"
#include "ks_plan.h"
#include "ks_util.h"

#define MAX_INPUT_SPECS 64

static const char usage_text[] =
	"Usage: kerascope doctor FILE [FILE2] [OPTIONS]\n"
	"Explains why a reloaded Keras model behaves differently: Lambda layers, custom\n"
	"objects, the \"accuracy\" metric, untrained or re-initialised weights, layer order,\n"
	"NaN/Inf, training-mode layers, stateful RNNs, version changes, permuted classes.\n\n"
	"  FILE2            a second file to compare with (re-initialised weights,\n"
	"                   permuted classes, identical weights)\n"
	"  --config ARCH    architecture for weights-only files: a JSON file, or a\n"
	"                   model file whose architecture is used\n"
	"  --input X        one per model input (.npy, .csv or a literal): input\n"
	"                   contract, NaN/Inf in activations, determinism, version deltas\n"
	"  --labels FILE    class names, one per line\n"
	"  --explain        print each finding's explanation in full\n"
	"  --json           {\"findings\": [...], \"checks\": [...]}\n\n"
	"Exit status: 0 no warning or error, 1 at least one, 2 failure.\n";

enum { O_CONFIG = 256, O_INPUT, O_LABELS, O_EXPLAIN, O_JSON };

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

static int load_inputs(const ks_model *m, const char **specs, int n, ks_array *arr, ks_err *err)
{
	if (n != m->n_inputs)
		return ks_fail(err, "the model takes %d input%s but %d --input %s given", m->n_inputs,
		               m->n_inputs == 1 ? "" : "s", n, n == 1 ? "was" : "were");
	for (int i = 0; i < n; i++) {
		ks_shape want;
		ks_input_kind kind;
		int li = m->inputs[i].layer;
		const char *name = li >= 0 && li < m->n_layers ? m->layers[li].name : "?";
		if (ks_input_load(specs[i], &arr[i], &kind, err) < 0)
			return -1;
		if (ks_model_input_shape(m, i, &want, err) == 0 &&
		    ks_input_fit(&arr[i], &want, kind == KS_INPUT_CSV, name, err) < 0)
			return -1;
		if (arr[i].rank < 1)
			return ks_fail(err, "input %s: the data needs a batch axis", name);
	}
	return 0;
}

int cli_doctor(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, O_CONFIG},
		{"input", required_argument, NULL, O_INPUT},
		{"labels", required_argument, NULL, O_LABELS},
		{"explain", no_argument, NULL, O_EXPLAIN},
		{"json", no_argument, NULL, O_JSON},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config = NULL, *labels = NULL, *specs[MAX_INPUT_SPECS];
	int n_specs = 0, c, status = 2;
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
		case O_CONFIG: config = optarg; break;
		case O_INPUT:
			if (n_specs >= MAX_INPUT_SPECS) {
				fprintf(stderr, "kerascope: doctor: too many --input options\n");
				return 2;
			}
			specs[n_specs++] = optarg;
			break;
		case O_LABELS: labels = optarg; break;
		case O_EXPLAIN: explain = true; break;
		case O_JSON: json = true; break;
		default:
			fprintf(stderr, "kerascope: doctor: bad option '%s' (try 'kerascope doctor --help')\n",
			        argv[optind - 1]);
			return 2;
		}
	}
	if (optind >= argc || argc - optind > 2) {
		fprintf(stderr, "kerascope: doctor: expected FILE [FILE2] (try 'kerascope doctor --help')\n");
		return 2;
	}
	ks_open_opts oo = {.config_path = config};
	ks_doctor_in in = {.n_labels = -1};
	if (!(a = ks_model_open(argv[optind], &oo, &err)))
		goto fail;
	if (argc - optind == 2 && !(b = ks_model_open(argv[optind + 1], &oo, &err)))
		goto fail;
	if (labels && (in.n_labels = count_labels(labels, &err)) < 0)
		goto fail;
	if (n_specs && load_inputs(a, specs, n_specs, arr, &err) < 0) {
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
	fprintf(stderr, "kerascope: %s\n", err.msg);
out:
	for (int i = 0; i < n_specs; i++)
		ks_array_free(&arr[i]);
	ks_model_free(a);
	ks_model_free(b);
	return status;
}
