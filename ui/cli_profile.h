/* cli_profile: `predict --profile`, where the time of a forward pass goes.
 *
 * cli_predict runs the plan with ks_plan_run_timed and keeps, for every
 * step, its best time over the --repeat runs (cli_profile_keep_best). The
 * report puts next to each step what it costs by its shapes (ks_cost.h):
 * FLOPs, the GFLOP/s they ran at, and the bytes of weights and activations
 * it touches. Text is an aligned table with a total row; --json an object
 * {"runs", "threads", "steps": [...], "total": {...}}.
 */
#ifndef CLI_PROFILE_H
#define CLI_PROFILE_H

#include <stdio.h>

#include <jansson.h>

#include "ks_plan.h"

/* best[i] = the smaller of best[i] and t[i], per field; first (run 0)
 * copies t. n steps. */
void cli_profile_keep_best(ks_step_time *best, const ks_step_time *t, int n, int run);

/* The table for plan p, best[i] per step, after `runs` runs. */
void cli_profile_text(FILE *f, const ks_plan *p, const ks_step_time *best, int runs, int threads);

/* The same as a new JSON object (the caller owns it). */
json_t *cli_profile_json(const ks_plan *p, const ks_step_time *best, int runs, int threads);

#endif
