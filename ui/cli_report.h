/* cli_report: the read-only report subcommands (summary, ls, dump, attrs,
 * config, stats).
 * Each follows cli.h: argv[0] is the subcommand, the result is the exit status. */
#ifndef CLI_REPORT_H
#define CLI_REPORT_H

int cli_summary(int argc, char **argv);
int cli_ls(int argc, char **argv);
int cli_dump(int argc, char **argv);
int cli_attrs(int argc, char **argv);
int cli_config(int argc, char **argv);
int cli_stats(int argc, char **argv);

#define CLI_SUMMARY_SYNOPSIS "summary FILE [--json]            layers, output shapes, parameter counts"
#define CLI_LS_SYNOPSIS      "ls FILE [--json] [--h5]          layers and weights (shape, dtype, HDF5 path)"
#define CLI_DUMP_SYNOPSIS    "dump FILE WEIGHT [--slice SPEC]  values, statistics and histogram of a weight"
#define CLI_ATTRS_SYNOPSIS   "attrs FILE [--json]              versions, training config, optimizer, attributes"
#define CLI_STATS_SYNOPSIS   "stats FILE [--json]              statistics of every weight, per layer and in total"
#define CLI_CONFIG_SYNOPSIS  "config FILE [--pretty]           the architecture JSON, as stored (for --config)"

#endif
