/* cli_replay: `kerascope replay`, and the session form of `kerascope diff`
 * (see cli.h for the calling convention). */
#ifndef CLI_REPLAY_H
#define CLI_REPLAY_H

#include <stdbool.h>

#include <jansson.h>

#include "ks_replay.h"

int cli_replay(int argc, char **argv);

/* `kerascope diff S1 S2|MODEL ...` when the first file is a session
 * (ks_session_is): takes the same argv as the diff command. */
int cli_session_diff(int argc, char **argv);

/* What predict computed, for --record and --expect. */
typedef struct cli_predict_run {
	const char *file;               /* the model file */
	const ks_model *model;
	const ks_plan *plan;     /* after its run */
	const ks_array *inputs;  /* as fed to the plan */
	const char *const *sources;     /* per input: "npy:x.npy", "random:7", ... */
	const char *until;
	char **labels;                  /* --labels, or NULL */
	int n_labels;
	int threads;
	const char *record;             /* --record S, or NULL */
	bool record_acts;
	const char *const *expect;      /* --expect OUT.npy, one per output */
	int n_expect;
} cli_predict_run;

/* Records the session and/or compares with the expected outputs. In JSON
 * mode (root not NULL) the verdict is added to predict's document as
 * "expect"; else it is printed. Returns 0, 1 (--expect: the outputs differ)
 * or 2 (error, one line printed). */
int cli_predict_session(const cli_predict_run *r, json_t *root);

#define CLI_REPLAY_SYNOPSIS "replay SESSION [MODEL] [-d D|-p P] [--json]  run a recorded session again and compare"

#endif
