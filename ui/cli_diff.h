/* cli_diff: `kerascope diff` (see cli.h for the calling convention). */
#ifndef CLI_DIFF_H
#define CLI_DIFF_H

int cli_diff(int argc, char **argv);

#define CLI_DIFF_SYNOPSIS "diff A B [-d D|-p P|--use-system-epsilon] [-q] [-r [--max N]] [--input X ...|--random SEED]  compare two models"

#endif
