/* The report subcommands: parse options, open the model, render with
 * ks_report to stdout. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_common.h"
#include "cli_report.h"
#include "ks_arch.h"
#include "ks_esc.h"
#include "cli_progress.h"
#include "ks_model.h"
#include "ks_modelstats.h"
#include "ks_report.h"
#include "ks_status.h"

enum {
	OPT_JSON = 256, OPT_PRETTY, OPT_H5, OPT_SLICE, OPT_ALL, OPT_MAX, OPT_BINS, OPT_STATS,
	OPT_OPTIMIZER,
};

typedef struct cli_opts {
	bool json, h5, all, stats, pretty, optimizer;
	const char *slice;
	ks_open_opts open;  /* --config, --load-order */
	long long max_values;
	int bins;
	const char *args[2];
	int n_args;
} cli_opts;

typedef struct cmd_info {
	const char *name;
	int n_args;          /* positional arguments after the command */
	const char *usage;   /* --help text */
	const struct option *extra;
} cmd_info;

static const char common_help[] =
	"      --json           print one JSON document instead of text\n"
	CLI_MODEL_OPTS_HELP
	"  -h, --help           show this help\n";

static const cmd_info info_summary = {
	"summary", 1,
	"Usage: kerascope summary FILE [--json] [--config ARCH]\n"
	"Lists the layers like Keras' model.summary(): name, class, output shape,\n"
	"parameter count and inputs (functional models); nested models indented;\n"
	"totals of trainable, non-trainable and optimizer parameters with sizes.\n\n", NULL};

static const struct option ls_opts[] = {
	{"h5", no_argument, NULL, OPT_H5},
	{NULL, 0, NULL, 0},
};
static const cmd_info info_ls = {
	"ls", 1,
	"Usage: kerascope ls FILE [--json] [--h5] [--config ARCH]\n"
	"Lists every layer with its weights: name, shape, dtype and HDF5 path; then\n"
	"the optimizer state. A plain HDF5 file (or --h5) shows the HDF5 tree.\n\n"
	"      --h5             show the raw HDF5 tree even for Keras files\n", ls_opts};

static const struct option dump_opts[] = {
	{"slice", required_argument, NULL, OPT_SLICE},
	{"all", no_argument, NULL, OPT_ALL},
	{"max", required_argument, NULL, OPT_MAX},
	{"bins", required_argument, NULL, OPT_BINS},
	{"stats", no_argument, NULL, OPT_STATS},
	{NULL, 0, NULL, 0},
};
static const cmd_info info_dump = {
	"dump", 2,
	"Usage: kerascope dump FILE WEIGHT [--slice SPEC] [--all] [--max N] [--bins N]\n"
	"                      [--stats] [--json] [--config ARCH]\n"
	"Prints the values of one weight, then min, max, mean, std, zero/NaN/Inf\n"
	"counts and a histogram. WEIGHT is layer/weight (dense_1/kernel), a nested\n"
	"path (encoder/conv2d_6/kernel) or an HDF5 path; see 'kerascope ls'.\n\n"
	"      --slice SPEC     numpy-style selection: '[0,:,:,3]', '0:10,5', '-1', '...,0'\n"
	"      --all            print every value (default: elide beyond --max)\n"
	"      --max N          print at most N values before eliding (default 1000)\n"
	"      --bins N         histogram bins (default 10, 0 for none)\n"
	"      --stats          statistics and histogram only, no values\n", dump_opts};

static const cmd_info info_attrs = {
	"attrs", 1,
	"Usage: kerascope attrs FILE [--json] [--config ARCH]\n"
	"Shows the format, Keras version, backend, save date, training/compile\n"
	"configuration (loss, metrics, optimizer and its settings), the optimizer\n"
	"state, and every root attribute of the file.\n\n", NULL};

static const struct option stats_opts[] = {
	{"optimizer", no_argument, NULL, OPT_OPTIMIZER},
	{NULL, 0, NULL, 0},
};
static const cmd_info info_stats = {
	"stats", 1,
	"Usage: kerascope stats FILE [--optimizer] [--json] [--config ARCH]\n"
	"Reads every weight once and prints its statistics: values, min, max, mean,\n"
	"std (finite values), zeros, NaN and Inf; each layer's weights together, and\n"
	"the whole model. A progress line shows on a terminal; Ctrl-C stops early and\n"
	"prints what was read. Histograms: 'kerascope dump FILE WEIGHT --stats'.\n\n"
	"      --optimizer      also the optimizer state\n", stats_opts};

static const struct option config_opts[] = {
	{"pretty", no_argument, NULL, OPT_PRETTY},
	{NULL, 0, NULL, 0},
};
static const cmd_info info_config = {
	"config", 1,
	"Usage: kerascope config FILE [--pretty] [--json]\n"
	"Writes the model's architecture JSON exactly as the file stores it (a legacy\n"
	"model's model_config attribute, a .keras archive's config.json, or an\n"
	"architecture JSON file), followed by a newline, so that it can be saved and\n"
	"given back with --config. A weights-only file holds none (exit status 2).\n\n"
	"      --pretty         indented two spaces per level; every value kept as written\n"
	"      --json           {\"file\", \"architecture\"} with the architecture parsed\n", config_opts};

static bool parse_num(const char *s, long long lo, long long hi, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/* Returns -1 to continue, or an exit status (0 after --help, 2 on error). */
static int parse(const cmd_info *ci, int argc, char **argv, cli_opts *o)
{
	struct option opts[16];
	int n = 0;
	opts[n++] = (struct option){"json", no_argument, NULL, OPT_JSON};
	opts[n++] = (struct option){"help", no_argument, NULL, 'h'};
	static const struct option model_rows[] = {CLI_MODEL_OPTION_ROWS, {NULL, 0, NULL, 0}};
	for (const struct option *e = model_rows; e->name; e++)
		opts[n++] = *e;
	for (const struct option *e = ci->extra; e && e->name; e++)
		opts[n++] = *e;
	opts[n] = (struct option){NULL, 0, NULL, 0};

	memset(o, 0, sizeof *o);
	o->bins = -1;
	opterr = 0;
	optind = 1;
	int c;
	long long v;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(ci->usage, stdout);
			fputs(common_help, stdout);
			return 0;
		case OPT_JSON: o->json = true; break;
		case OPT_H5: o->h5 = true; break;
		case OPT_PRETTY: o->pretty = true; break;
		case OPT_OPTIMIZER: o->optimizer = true; break;
		case OPT_SLICE: o->slice = optarg; break;
		case OPT_ALL: o->all = true; break;
		case OPT_STATS: o->stats = true; break;
		case OPT_MAX:
			if (!parse_num(optarg, 1, INT64_MAX, &v)) {
				cli_fail("%s: --max needs a positive number, not '%s'", ci->name, optarg);
				return 2;
			}
			o->max_values = v;
			break;
		case OPT_BINS:
			if (!parse_num(optarg, 0, 4096, &v)) {
				cli_fail("%s: --bins needs a number from 0 to 4096, not '%s'",
				        ci->name, optarg);
				return 2;
			}
			o->bins = (int)v;
			break;
		default:
			switch (cli_model_opt(ci->name, c, optarg, &o->open)) {
			case 1: continue;
			case -1: return 2;
			}
			if (optopt && optopt < 256)
				cli_fail("%s: bad option '-%c' (try 'kerascope %s --help')",
				        ci->name, optopt, ci->name);
			else
				cli_fail("%s: bad option '%s' (try 'kerascope %s --help')",
				        ci->name, argv[optind - 1], ci->name);
			return 2;
		}
	}
	/* glibc's getopt_long moves operands after the options, so options may
	 * follow the file name. */
	while (optind < argc && o->n_args < 2)
		o->args[o->n_args++] = argv[optind++];
	if (optind < argc || o->n_args != ci->n_args) {
		cli_fail("%s: expected %s (try 'kerascope %s --help')", ci->name,
		        ci->n_args == 1 ? "FILE" : "FILE WEIGHT", ci->name);
		return 2;
	}
	return -1;
}

static int finish(const char *path)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_fail("%s: cannot write output: %s", path, strerror(errno));
		return 2;
	}
	return 0;
}

typedef int (*render_fn)(FILE *out, const ks_model *m, const cli_opts *o, ks_err *err);

/* Names and configs come from the file: the reports print them escaped
 * (ks_esc.h). As a second line of defence every byte written goes through
 * this filter on its way to stdout: a control byte that is not the
 * reports' own newline or tab is escaped the same way. */
static ssize_t clean_write(void *cookie, const char *buf, size_t n)
{
	FILE *dst = cookie;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)buf[i];
		char e[5];
		if ((ch < 0x20 && ch != '\n' && ch != '\t') || ch == 0x7f) {
			if (fputs(ks_esc_byte(ch, e), dst) == EOF)
				return -1;
		} else if (putc(ch, dst) == EOF) {
			return -1;
		}
	}
	return (ssize_t)n;
}

static int run(const cmd_info *ci, int argc, char **argv, render_fn fn)
{
	cli_opts o;
	ks_err err;
	int rc = parse(ci, argc, argv, &o);
	if (rc >= 0)
		return rc;
	ks_model *m = cli_open_model(o.args[0], &o.open);
	if (!m)
		return 2;
	FILE *out = fopencookie(stdout, "w", (cookie_io_functions_t){.write = clean_write});
	rc = fn(out ? out : stdout, m, &o, &err);
	if (out)
		fclose(out);
	ks_model_free(m);
	if (rc < 0) {
		fflush(stdout);
		cli_fail("%s: %s", o.args[0], err.msg);
		return 2;
	}
	return finish(o.args[0]);
}

static int r_summary(FILE *out, const ks_model *m, const cli_opts *o, ks_err *err)
{
	return ks_report_summary(out, m, o->json, err);
}

static int r_ls(FILE *out, const ks_model *m, const cli_opts *o, ks_err *err)
{
	return ks_report_ls(out, m, o->json, o->h5, err);
}

static int r_attrs(FILE *out, const ks_model *m, const cli_opts *o, ks_err *err)
{
	return ks_report_attrs(out, m, o->json, err);
}

static int r_dump(FILE *out, const ks_model *m, const cli_opts *o, ks_err *err)
{
	ks_dump_opts d = {
		.slice = o->slice, .all = o->all, .max_values = o->max_values,
		.bins = o->bins, .stats_only = o->stats, .json = o->json,
	};
	return ks_report_dump(out, m, o->args[1], &d, err);
}

static int on_stats_progress(void *ctx, int64_t done, int64_t total)
{
	return cli_progress_update(ctx, done, total);
}

static int r_stats(FILE *out, const ks_model *m, const cli_opts *o, ks_err *err)
{
	cli_progress pg;
	ks_model_stats s;
	ks_model_stats_opts so = {o->optimizer, on_stats_progress, &pg};

	cli_progress_start(&pg, "reading weights", true);
	int rc = ks_model_stats_compute(m, &so, &s, err);
	cli_progress_end(&pg);
	if (rc == 0)
		ks_model_stats_print(out, m, &s, o->json);
	if (rc == 0 && s.stopped)
		rc = ks_fail(err, "interrupted: the statistics above cover the weights read before it");
	ks_model_stats_free(&s);
	return rc;
}

int cli_summary(int argc, char **argv) { return run(&info_summary, argc, argv, r_summary); }
int cli_stats(int argc, char **argv) { return run(&info_stats, argc, argv, r_stats); }
int cli_ls(int argc, char **argv) { return run(&info_ls, argc, argv, r_ls); }
int cli_attrs(int argc, char **argv) { return run(&info_attrs, argc, argv, r_attrs); }
int cli_dump(int argc, char **argv) { return run(&info_dump, argc, argv, r_dump); }

/* config writes the stored text itself, so that it reads back exactly; only
 * a terminal gets it through the control-character filter. */
int cli_config(int argc, char **argv)
{
	cli_opts o;
	ks_err err;
	char *text, *pretty = NULL;
	size_t len;
	json_t *arch;
	int rc = parse(&info_config, argc, argv, &o);

	if (rc >= 0)
		return rc;
	if (o.open.config_path || o.open.load_order != KS_LOAD_DEFAULT) {
		return cli_fail("config: --config and --load-order do not apply: it writes FILE's own "
		                "architecture");
	}
	if (ks_arch_read_text(o.args[0], &text, &len, &err) < 0)
		return cli_fail("%s", err.msg);
	arch = ks_arch_parse(text, len, o.args[0], &err);
	if (arch && o.pretty && !o.json)
		pretty = ks_arch_pretty(text, len, o.args[0], &err);
	if (!arch || (o.pretty && !o.json && !pretty)) {
		json_decref(arch);
		free(text);
		return cli_fail("%s", err.msg);
	}
	FILE *out = isatty(STDOUT_FILENO)
	                    ? fopencookie(stdout, "w", (cookie_io_functions_t){.write = clean_write})
	                    : NULL;
	FILE *dst = out ? out : stdout;
	if (o.json) {
		json_t *d = json_pack("{s:s, s:O}", "file", o.args[0], "architecture", arch);
		json_dumpf(d, dst, JSON_INDENT(2));
		fputc('\n', dst);
		json_decref(d);
	} else {
		const char *t = pretty ? pretty : text;
		size_t n = pretty ? strlen(pretty) : len;
		fwrite(t, 1, n, dst);
		if (n == 0 || t[n - 1] != '\n')
			fputc('\n', dst);
	}
	if (out)
		fclose(out);
	json_decref(arch);
	free(pretty);
	free(text);
	return finish(o.args[0]);
}
