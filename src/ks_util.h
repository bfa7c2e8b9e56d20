/* ks_util: allocation and arithmetic helpers used by every core module.
 *
 * Allocation failure of small, bounded objects is fatal (ks_xmalloc and
 * friends print one line and exit 2), as in htop: such failures cannot be
 * reported usefully. Allocations whose size comes from a file must instead be
 * checked first with ks_size_mul / ks_numel and a limit, and fail with ks_fail.
 */
#ifndef KS_UTIL_H
#define KS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void *ks_xmalloc(size_t n) __attribute__((malloc, returns_nonnull));
void *ks_xcalloc(size_t n, size_t size) __attribute__((malloc, returns_nonnull));
void *ks_xrealloc(void *p, size_t n) __attribute__((returns_nonnull));
char *ks_xstrdup(const char *s) __attribute__((malloc, returns_nonnull));
char *ks_xstrndup(const char *s, size_t n) __attribute__((malloc, returns_nonnull));
char *ks_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2), malloc, returns_nonnull));

/* *out = a * b; false when it overflows. */
bool ks_size_mul(size_t a, size_t b, size_t *out);

/* Number of elements of a shape; false when a dimension is negative or the
 * product overflows int64. rank 0 gives 1. */
bool ks_numel(const int64_t *shape, int rank, int64_t *out);

/* Formats a shape as "(3, 4)" / "(None, 3)" (dims < 0 print as None) into buf. */
const char *ks_shape_str(const int64_t *shape, int rank, char *buf, size_t n);

/* Bytes that tensors sized from a file may take in all: the machine's
 * physical memory, or the address-space limit (ulimit -v) when lower.
 * Sizes are checked against it before anything is allocated, so that an
 * absurd shape is refused with its size instead of ending in the OOM killer. */
uint64_t ks_mem_budget(void);

/* qsort for arrays that may be empty: an empty list read from a file comes
 * back as (NULL, 0), which qsort itself must not be given. */
void ks_qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));

bool ks_str_eq(const char *a, const char *b);
bool ks_str_startswith(const char *s, const char *prefix);
bool ks_str_endswith(const char *s, const char *suffix);

/* Levenshtein distance (insertions, deletions, substitutions) between a and b. */
size_t ks_edit_distance(const char *a, const char *b);

/* "Did you mean": the candidate closest to word by ks_edit_distance, when at
 * most a third of word differs (one edit up to 3 characters, two up to 8);
 * NULL when none is that close. Ties go to the earliest candidate. Borrowed from cands. */
const char *ks_suggest(const char *word, const char *const *cands, size_t n);

#endif
