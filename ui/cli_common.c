/* Shared model options of the commands: see cli_common.h. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_common.h"
#include "ks_loadorder.h"

bool cli_parse_load_order(const char *s, ks_load_order *out)
{
	if (strcmp(s, "by-name") == 0)
		*out = KS_LOAD_BY_NAME;
	else if (strcmp(s, "topological") == 0)
		*out = KS_LOAD_TOPOLOGICAL;
	else
		return false;
	return true;
}

int cli_model_opt(const char *cmd, int c, const char *arg, ks_open_opts *o)
{
	switch (c) {
	case CLI_OPT_CONFIG:
		o->config_path = arg;
		return 1;
	case CLI_OPT_LOAD_ORDER:
		if (!cli_parse_load_order(arg, &o->load_order)) {
			cli_fail("%s: --load-order takes by-name or topological, not '%s'", cmd, arg);
			return -1;
		}
		return 1;
	default:
		return 0;
	}
}

ks_model *cli_open_model(const char *path, const ks_open_opts *o)
{
	ks_err err;
	ks_model *m = ks_model_open(path, o, &err);
	char *note;

	if (!m) {
		cli_fail("%s", err.msg);
		return NULL;
	}
	note = ks_loadmap_note(m->loadmap, path);
	if (note)
		cli_fail("%s", note); /* a note, not an error: the command goes on */
	free(note);
	return m;
}

bool cli_parse_int(const char *s, long long lo, long long hi, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

int cli_input_opt(const char *cmd, int c, const char *arg, cli_inputs *in)
{
	long long v;

	switch (c) {
	case CLI_OPT_INPUT:
		if (in->n >= CLI_MAX_INPUTS) {
			cli_fail("%s: too many --input options (at most %d)", cmd, CLI_MAX_INPUTS);
			return -1;
		}
		in->specs[in->n++] = arg;
		return 1;
	case CLI_OPT_RANDOM:
		if (!cli_parse_int(arg, 0, INT64_MAX, &v)) {
			cli_fail("%s: --random needs a seed (a non-negative integer), not '%s'", cmd, arg);
			return -1;
		}
		in->random = true;
		in->seed = (uint64_t)v;
		return 1;
	default:
		return 0;
	}
}

int cli_bad_option(const char *cmd, char **argv)
{
	if (optopt && optopt < 256)
		cli_fail("%s: bad option '-%c' (try 'kerascope %s --help')", cmd, optopt, cmd);
	else
		cli_fail("%s: bad option '%s' (try 'kerascope %s --help')", cmd, argv[optind - 1], cmd);
	return 2;
}
