/* cli_diff: `kerascope diff` (see cli.h for the calling convention). */
#ifndef CLI_DIFF_H
#define CLI_DIFF_H

#include <stddef.h>

#include "ks_diff.h"

int cli_diff(int argc, char **argv);

/* For the inspector: what `kerascope diff A B [OPTIONS]` computes (argv as
 * for cli_diff), handed over instead of printed; the caller frees it with
 * ks_diff_free. progress (may be NULL) replaces the terminal's progress
 * line; returning non-zero from it stops with "interrupted". With inputs,
 * d->outputs.input_source points into src, which must outlive the report.
 * -q and --json are refused (they only shape the printed output). Returns
 * NULL with err set on failure. */
ks_diff *cli_diff_build(int argc, char **argv, ks_diff_progress_fn progress, void *ctx, char *src,
                        size_t srclen, ks_err *err);

#define CLI_DIFF_SYNOPSIS "diff A B [-d D|-p P|--use-system-epsilon] [-q] [-r [--max N]] [--input X ...|--random SEED]  compare two models"

#endif
