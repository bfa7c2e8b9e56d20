/* cli_common: what every command that opens a model shares.
 *
 *   --config ARCH        the architecture for a weights-only file: a JSON
 *                        file or a model file (ks_arch.h)
 *   --load-order ORDER   by-name or topological: how a weights-only file's
 *                        weights meet that architecture (ks_loadorder.h)
 *
 * A command adds cli_model_options to its getopt_long table and hands every
 * option it does not know itself to cli_model_opt; it opens its model with
 * cli_open_model, which prints the error line, and the one-line load-order
 * note when the two orders would assign different weights.
 */
#ifndef CLI_COMMON_H
#define CLI_COMMON_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "ks_model.h"

enum { CLI_OPT_CONFIG = 0x1000, CLI_OPT_LOAD_ORDER };

/* The two getopt_long rows (name, has_arg, NULL, CLI_OPT_*). */
#define CLI_MODEL_OPTION_ROWS \
	{"config", required_argument, NULL, CLI_OPT_CONFIG}, \
	{"load-order", required_argument, NULL, CLI_OPT_LOAD_ORDER}

/* Help lines for them, aligned like the other commands' (22 columns). */
#define CLI_MODEL_OPTS_HELP \
	"      --config ARCH    architecture for a weights-only file: a JSON file\n" \
	"                       (model.to_json(), a Keras 3 config.json) or a model\n" \
	"                       file (.h5, .keras) whose architecture is used\n" \
	"      --load-order by-name|topological\n" \
	"                       how a weights-only .h5 meets that architecture: by\n" \
	"                       layer name, or the k-th layer with weights in the\n" \
	"                       file to the k-th in the model (the default: what\n" \
	"                       model.load_weights(FILE) does)\n"

/* Handles getopt_long's result c for cmd: 1 when it was one of ours (stored
 * in o), 0 when it is not ours, -1 after printing a one-line error (a bad
 * --load-order value). */
int cli_model_opt(const char *cmd, int c, const char *arg, ks_open_opts *o);

/* Parses "by-name" / "topological"; false for anything else. */
bool cli_parse_load_order(const char *s, ks_load_order *out);

/* Opens path with o. On failure prints "kerascope: MESSAGE" and returns
 * NULL. Otherwise prints, on stderr, the one-line note when the file's
 * weights would be assigned differently by the other load order. */
ks_model *cli_open_model(const char *path, const ks_open_opts *o);

/* ---- the inputs of commands that run a model (predict, diff, evaluate,
 * doctor): --input X (once per model input, in input order) and --random
 * SEED. A command adds CLI_INPUT_OPTION_ROWS (or only the --input row, when
 * random inputs make no sense for it) to its table and offers every option
 * it does not know itself to cli_input_opt. */

#define CLI_MAX_INPUTS 64

typedef struct cli_inputs {
	const char *specs[CLI_MAX_INPUTS];
	int n;
	bool random;
	uint64_t seed;
} cli_inputs;

enum { CLI_OPT_INPUT = 0x1010, CLI_OPT_RANDOM };

#define CLI_INPUT_OPTION_ROW {"input", required_argument, NULL, CLI_OPT_INPUT}
#define CLI_RANDOM_OPTION_ROW {"random", required_argument, NULL, CLI_OPT_RANDOM}
#define CLI_INPUT_OPTION_ROWS CLI_INPUT_OPTION_ROW, CLI_RANDOM_OPTION_ROW

/* 1 when c was --input or --random (stored in in), 0 when it is not ours,
 * -1 after printing a one-line error (too many inputs, a bad seed). */
int cli_input_opt(const char *cmd, int c, const char *arg, cli_inputs *in);

/* Prints "kerascope: CMD: bad option 'X' (try 'kerascope CMD --help')" for
 * the option getopt_long just refused, and returns 2 (the exit status). */
int cli_bad_option(const char *cmd, char **argv);

/* Whole numbers for option values: false unless s is all digits (with an
 * optional sign) and lo <= value <= hi. */
bool cli_parse_int(const char *s, long long lo, long long hi, long long *out);

#endif
