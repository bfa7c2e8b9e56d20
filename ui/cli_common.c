/* Shared model options of the commands: see cli_common.h. */
#include "config.h"

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
