/* kerascope: entry point. Dispatches subcommands; the work is in the core. */
#include "config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_common.h"
#include "cli_report.h"
#include "cli_predict.h"
#include "cli_diff.h"
#include "cli_evaluate.h"
#include "cli_replay.h"
#include "ks_blas.h"
#include "ks_loadorder.h"
#include "cli_doctor.h"
#include "ks_status.h"
#include "ks_util.h"
#include "ui_tui.h"

/* One line per subcommand; each lives in ui/cli_<name>.c. */
const cli_command cli_commands[] = {
	{"summary", cli_summary, CLI_SUMMARY_SYNOPSIS},
	{"ls", cli_ls, CLI_LS_SYNOPSIS},
	{"dump", cli_dump, CLI_DUMP_SYNOPSIS},
	{"attrs", cli_attrs, CLI_ATTRS_SYNOPSIS},
	{"stats", cli_stats, CLI_STATS_SYNOPSIS},
	{"config", cli_config, CLI_CONFIG_SYNOPSIS},
	{"predict", cli_predict, CLI_PREDICT_SYNOPSIS},
	{"diff", cli_diff, CLI_DIFF_SYNOPSIS},
	{"evaluate", cli_evaluate, CLI_EVALUATE_SYNOPSIS},
	{"replay", cli_replay, CLI_REPLAY_SYNOPSIS},
	{"doctor", cli_doctor, CLI_DOCTOR_SYNOPSIS},
	{NULL, NULL, NULL},
};

int cli_fail(const char *fmt, ...)
{
	ks_err e;
	va_list ap;

	va_start(ap, fmt);
	ks_vfail(&e, fmt, ap);
	va_end(ap);
	fprintf(stderr, "kerascope: %s\n", e.msg);
	return 2;
}

static void usage(FILE *out)
{
	fputs("Usage: kerascope [--config ARCH] [--load-order ORDER] FILE   the inspector\n"
	      "       kerascope A B                        the inspector on A with its diff from B\n"
	      "       kerascope COMMAND FILE [OPTIONS]\n\nCommands:\n", out);
	for (const cli_command *c = cli_commands; c->name; c++)
		fprintf(out, "  %s\n", c->synopsis);
	fputs("\nEvery command takes --json. Exit status: 0 success, 1 differences found, 2 error.\n"
	      "See kerascope(1).\n", out);
}

/* `kerascope A B`: the inspector on A showing `:diff B` on a terminal,
 * else `kerascope diff A B` (pipes). */
static int open_pair(const char *a, const char *b, const ks_open_opts *oo)
{
	if (ui_tui_wanted()) {
		/* quoted for the command line splitter: '...' with ' as '\'' */
		size_t n = strlen(b);
		char *cmd = ks_xmalloc(4 * n + 16), *q = cmd;
		q += sprintf(q, "diff '");
		for (size_t i = 0; i < n; i++)
			q += b[i] == '\'' ? sprintf(q, "'\\''") : sprintf(q, "%c", b[i]);
		sprintf(q, "'");
		int rc = ui_tui_run_with(a, oo, cmd);
		free(cmd);
		return rc;
	}
	char *dargv[] = {(char *)"diff", (char *)a, (char *)b, NULL};
	return cli_diff(3, dargv);
}

/* `kerascope [--config ARCH] [--load-order ORDER] FILE [OTHER]`, options on
 * either side of FILE: the inspector on a terminal, else the summary
 * (pipes); with OTHER, the two compared (open_pair). */
static int open_file(int argc, char **argv)
{
	static const struct option opts[] = {CLI_MODEL_OPTION_ROWS, {NULL, 0, NULL, 0}};
	ks_open_opts oo = {0};
	const char *file = NULL;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		int r = cli_model_opt("kerascope", c, optarg, &oo);
		if (r < 0)
			return 2;
		if (r == 0)
			return cli_fail("unknown option '%s' (try --help)", argv[optind - 1]);
	}
	if (optind < argc)
		file = argv[optind++];
	if (file && optind + 1 == argc && !oo.config_path && oo.load_order == KS_LOAD_DEFAULT)
		return open_pair(file, argv[optind], &oo);
	if (!file || optind < argc)
		return cli_fail("%s (try --help)",
		                file ? "give one FILE to open, or two to compare" : "no FILE to open");
	if (ui_tui_wanted())
		return ui_tui_run(file, &oo);
	const cli_command *sum = NULL;
	for (const cli_command *k = cli_commands; k->name; k++)
		if (strcmp(k->name, "summary") == 0)
			sum = k;
	char *sargv[7] = {(char *)"summary", (char *)file};
	int n = 2;
	if (oo.config_path) {
		sargv[n++] = (char *)"--config";
		sargv[n++] = (char *)oo.config_path;
	}
	if (oo.load_order != KS_LOAD_DEFAULT) {
		sargv[n++] = (char *)"--load-order";
		sargv[n++] = (char *)ks_load_order_name(oo.load_order);
	}
	sargv[n] = NULL;
	return sum->run(n, sargv);
}

/* Commands that only read and print a file never multiply matrices: they
 * keep whatever kernels OpenBLAS chose instead of paying for a restart. */
static bool reads_only(const char *cmd)
{
	static const char *const readers[] = {"summary", "ls", "dump", "attrs", "config", "stats",
	                                      "--help", "-h", "--version", NULL};
	for (int i = 0; readers[i]; i++)
		if (strcmp(cmd, readers[i]) == 0)
			return true;
	return false;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !reads_only(argv[1]))
		ks_blas_restart_if_slower(argv);
	ks_quiet_hdf5();
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("kerascope %s\n", PACKAGE_VERSION);
		return 0;
	}
	for (const cli_command *c = cli_commands; c->name; c++)
		if (strcmp(argv[1], c->name) == 0)
			return c->run(argc - 1, argv + 1);
	/* `kerascope [OPTIONS] FILE`: the inspector, or the summary on a pipe. */
	if (argv[1][0] == '-' || access(argv[1], F_OK) == 0 || strchr(argv[1], '.') ||
	    strchr(argv[1], '/'))
		return open_file(argc, argv);
	const char *names[32];
	size_t n = 0;
	for (const cli_command *c = cli_commands; c->name && n < 32; c++)
		names[n++] = c->name;
	const char *near = ks_suggest(argv[1], names, n);
	if (near)
		cli_fail("unknown command '%s' (did you mean '%s'? try --help)", argv[1], near);
	else
		cli_fail("unknown command '%s' (try --help)", argv[1]);
	return 2;
}
