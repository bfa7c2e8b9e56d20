/* cli: the non-interactive subcommands. Each takes the arguments after its
 * name (argv[0] is the subcommand) and returns the process exit status:
 * 0 success, 1 differences found (diff only), 2 error (one line on stderr,
 * "kerascope: FILE: problem"). Every command accepts --json. */
#ifndef CLI_H
#define CLI_H

typedef struct cli_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *synopsis; /* one line, shown by --help */
} cli_command;

/* The table, in main.c; NULL-name terminated. */
extern const cli_command cli_commands[];

#endif
