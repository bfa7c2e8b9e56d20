/* kerascope: entry point. Dispatches subcommands; the work is in the core. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_report.h"
#include "cli_predict.h"
#include "cli_doctor.h"
#include "ks_status.h"
#include "ui_tui.h"

/* One line per subcommand; each lives in ui/cli_<name>.c. */
const cli_command cli_commands[] = {
	{"summary", cli_summary, CLI_SUMMARY_SYNOPSIS},
	{"ls", cli_ls, CLI_LS_SYNOPSIS},
	{"dump", cli_dump, CLI_DUMP_SYNOPSIS},
	{"attrs", cli_attrs, CLI_ATTRS_SYNOPSIS},
	{"predict", cli_predict, CLI_PREDICT_SYNOPSIS},
	{"doctor", cli_doctor, CLI_DOCTOR_SYNOPSIS},
	{NULL, NULL, NULL},
};

static void usage(FILE *out)
{
	fputs("Usage: kerascope FILE               open the interactive inspector\n"
	      "       kerascope COMMAND FILE [OPTIONS]\n\nCommands:\n", out);
	for (const cli_command *c = cli_commands; c->name; c++)
		fprintf(out, "  %s\n", c->synopsis);
	fputs("\nEvery command takes --json. Exit status: 0 success, 1 differences found, 2 error.\n"
	      "See kerascope(1).\n", out);
}

int main(int argc, char **argv)
{
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
	/* `kerascope FILE`: the inspector on a terminal, else the summary (pipes). */
	if (argc == 2 && argv[1][0] != '-' &&
	    (access(argv[1], F_OK) == 0 || strchr(argv[1], '.') || strchr(argv[1], '/'))) {
		if (ui_tui_wanted())
			return ui_tui_run(argv[1], NULL);
		char *sargv[] = {(char *)"summary", argv[1], NULL};
		for (const cli_command *c = cli_commands; c->name; c++)
			if (strcmp(c->name, "summary") == 0)
				return c->run(2, sargv);
	}
	fprintf(stderr, "kerascope: unknown command '%s' (try --help)\n", argv[1]);
	return 2;
}
