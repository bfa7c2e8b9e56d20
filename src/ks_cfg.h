/* ks_cfg: typed, defaulted reads of a Keras layer config (jansson objects).
 *
 * Keras writes the same setting in several spellings across versions
 * (kernel_size 3 vs [3, 3]; "alpha" vs "negative_slope"; Keras 1 names like
 * "nb_filter"). These helpers read one key with a default and report a bad
 * type as an error rather than guessing. Missing keys give the default.
 */
#ifndef KS_CFG_H
#define KS_CFG_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "ks_status.h"

/* Each returns 0 on success (default used when the key is absent or null),
 * -1 with a message naming the key when the value has the wrong type. */
int ks_cfg_int(const json_t *cfg, const char *key, int64_t def, int64_t *out, ks_err *err);
int ks_cfg_double(const json_t *cfg, const char *key, double def, double *out, ks_err *err);
int ks_cfg_bool(const json_t *cfg, const char *key, bool def, bool *out, ks_err *err);
/* Borrowed string (valid while cfg lives); def may be NULL. */
int ks_cfg_str(const json_t *cfg, const char *key, const char *def, const char **out, ks_err *err);

/* Reads an int or a list of ints into out[0..n-1]. A scalar is repeated n times
 * (kernel_size: 3 means (3, 3) for Conv2D). Wrong length is an error. */
int ks_cfg_ints(const json_t *cfg, const char *key, int n, const int64_t *def, int64_t *out, ks_err *err);

/* Reads a shape list that may contain null (None): null becomes -1.
 * *rank receives its length (<= max). Absent key: *rank = -1, returns 0. */
int ks_cfg_shape(const json_t *cfg, const char *key, int max, int64_t *out, int *rank, ks_err *err);

/* First key present among a NULL-terminated list of spellings, or NULL. */
const json_t *ks_cfg_get_any(const json_t *cfg, const char *const *keys);

#endif
