#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ks_index.h"
#include "ks_util.h"

/* FNV-1a. Names crafted to collide make a lookup cost what a scan would:
 * never worse than having no index. */
static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

static void put(ks_index *x, uint32_t h, int pos)
{
	size_t mask = x->cap - 1, i = h & mask;
	while (x->slot[i].pos >= 0)
		i = (i + 1) & mask;
	x->slot[i].hash = h;
	x->slot[i].pos = pos;
	x->used++;
}

static void grow(ks_index *x)
{
	ks_index_slot *old = x->slot;
	size_t oc = x->cap;

	x->cap = oc ? oc * 2 : 64;
	x->slot = ks_xmalloc(x->cap * sizeof *x->slot);
	for (size_t i = 0; i < x->cap; i++)
		x->slot[i].pos = -1;
	x->used = 0;
	for (size_t i = 0; i < oc; i++)
		if (old[i].pos >= 0)
			put(x, old[i].hash, old[i].pos);
	free(old);
}

static int lookup(const ks_index *x, const void *array, ks_index_name_fn name, const char *key,
                  uint32_t h)
{
	if (!x->cap)
		return -1;
	size_t mask = x->cap - 1, i = h & mask;
	for (; x->slot[i].pos >= 0; i = (i + 1) & mask)
		if (x->slot[i].hash == h && strcmp(name(array, x->slot[i].pos), key) == 0)
			return x->slot[i].pos;
	return -1;
}

void ks_index_extend(ks_index *x, const void *array, int n, ks_index_name_fn name)
{
	for (int i = x->count; i < n; i++) {
		const char *k = name(array, i);
		uint32_t h;
		if (!k)
			continue;
		h = hash_str(k);
		if (lookup(x, array, name, k, h) >= 0)
			continue; /* a duplicate: the first one stays the answer */
		if ((x->used + 1) * 2 > x->cap)
			grow(x);
		put(x, h, i);
	}
	if (n > x->count)
		x->count = n;
}

int ks_index_find(const ks_index *x, const void *array, ks_index_name_fn name, const char *key)
{
	return key ? lookup(x, array, name, key, hash_str(key)) : -1;
}

void ks_index_clear(ks_index *x)
{
	for (size_t i = 0; i < x->cap; i++)
		x->slot[i].pos = -1;
	x->used = 0;
	x->count = 0;
}

void ks_index_free(ks_index *x)
{
	free(x->slot);
	memset(x, 0, sizeof *x);
}
