/* cli: the non-interactive subcommands. Each takes the arguments after its
 * name (argv[0] is the subcommand) and returns the process exit status:
 * 0 success, 1 differences found (diff only), 2 error (one line on stderr,
 * "kerascope: FILE: problem"). Every command accepts --json. */
#ifndef CLI_H
#define CLI_H

#include <stdio.h>

typedef struct cli_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *synopsis; /* one line, shown by --help */
} cli_command;

/* The table, in main.c; NULL-name terminated. */
extern const cli_command cli_commands[];

/* The one way a command reports an error: "kerascope: MESSAGE" on stderr,
 * formatted and escaped as ks_fail does, so that no control character from
 * a file name, an argument or a file's content reaches the terminal raw.
 * Returns 2, the error exit status. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Where cli_fail writes: stderr unless set; returns the previous sink. The
 * inspector points it at a buffer while it parses a command in-process. */
FILE *cli_fail_sink(FILE *f);

#endif
