/* ks_index: a hash index from names to positions in an array the caller
 * owns (model layers, weights), so that looking a name up is O(1) instead of
 * a scan: work on a model must stay near-linear in its number of layers (a
 * 60,000-layer chain opens in about a second).
 *
 * The index stores positions and hashes only, never the strings: the caller
 * says through a callback what name position i has now, so the array may be
 * reallocated (moved) freely. A name must not change once it is indexed.
 * Duplicate names keep the first position added, as a first-match scan would.
 *
 * Ownership: a zeroed ks_index is empty and ready; ks_index_free releases it.
 */
#ifndef KS_INDEX_H
#define KS_INDEX_H

#include <stddef.h>
#include <stdint.h>

/* The name at position i of the caller's array (never NULL for indexed i). */
typedef const char *(*ks_index_name_fn)(const void *array, int i);

typedef struct ks_index_slot {
	uint32_t hash;
	int pos;         /* -1: empty */
} ks_index_slot;

typedef struct ks_index {
	ks_index_slot *slot;
	size_t cap;      /* power of two, or 0 */
	size_t used;
	int count;       /* positions 0..count-1 of the array are indexed */
} ks_index;

/* Indexes positions count..n-1 (the array grew). Call with the full array. */
void ks_index_extend(ks_index *x, const void *array, int n, ks_index_name_fn name);
/* Position of name, or -1. */
int ks_index_find(const ks_index *x, const void *array, ks_index_name_fn name, const char *key);
/* Forgets everything (the array was replaced). */
void ks_index_clear(ks_index *x);
void ks_index_free(ks_index *x);

#endif
