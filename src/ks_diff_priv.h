/* ks_diff_priv: what the diff modules share among themselves (not for
 * callers: they use ks_diff.h). ks_diff.c pairs and compares weights,
 * ks_diff_config.c compares settings, ks_diff_outputs.c runs both models. */
#ifndef KS_DIFF_PRIV_H
#define KS_DIFF_PRIV_H

#include "ks_diff.h"

/* Appends {key, a, b} (references taken) to *arr. */
void ks_diff_add_change(ks_diff_change **arr, int *n, const char *key, const json_t *a,
                        const json_t *b, bool info);
void ks_diff_free_changes(ks_diff_change *arr, int n);

/* Settings of every layer pair, model inputs/outputs/versions, training
 * configuration and optimizer presence (ks_diff_config.c). */
void ks_diff_compare_configs(ks_diff *d);

/* True when m holds no architecture (a weights-only file). */
bool ks_diff_no_arch(const ks_model *m);

/* Opens path with the architecture `arch` (a model_config object) for a
 * weights-only file, or with config_path (a JSON file or a model file),
 * under d's load order. */
ks_model *ks_diff_open_with(const ks_diff *d, const char *path, const json_t *arch,
                            const char *config_path, ks_err *err);

void ks_diff_free_outputs(ks_diff_outputs *o);

#endif
