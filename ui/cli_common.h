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

#endif
