#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>
#include <string.h>

#include "ks_util.h"

static void oom(void)
{
	fputs("kerascope: out of memory\n", stderr);
	exit(2);
}

void *ks_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *ks_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

void *ks_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *ks_xstrdup(const char *s)
{
	return ks_xstrndup(s, strlen(s));
}

char *ks_xstrndup(const char *s, size_t n)
{
	char *d = ks_xmalloc(n + 1);
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *ks_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		oom();
	va_end(ap);
	return s;
}

bool ks_size_mul(size_t a, size_t b, size_t *out)
{
	return !__builtin_mul_overflow(a, b, out);
}

bool ks_numel(const int64_t *shape, int rank, int64_t *out)
{
	int64_t n = 1;
	for (int i = 0; i < rank; i++) {
		if (shape[i] < 0 || __builtin_mul_overflow(n, shape[i], &n))
			return false;
	}
	*out = n;
	return true;
}

const char *ks_shape_str(const int64_t *shape, int rank, char *buf, size_t n)
{
	size_t used = 0;
	if (n == 0)
		return buf;
	buf[0] = '\0';
	used += snprintf(buf + used, n - used, "(");
	for (int i = 0; i < rank && used < n; i++) {
		if (shape[i] < 0)
			used += snprintf(buf + used, n - used, "%sNone", i ? ", " : "");
		else
			used += snprintf(buf + used, n - used, "%s%lld", i ? ", " : "", (long long)shape[i]);
	}
	if (used < n)
		snprintf(buf + used, n - used, rank == 1 ? ",)" : ")");
	return buf;
}

bool ks_str_eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

bool ks_str_startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool ks_str_endswith(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);
	return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

size_t ks_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *row = ks_xmalloc(sizeof(size_t) * (lb + 1));
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	size_t d = row[lb];
	free(row);
	return d;
}

const char *ks_suggest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1, len = strlen(word);
	/* a third of the word may differ (one edit for words up to 3 characters,
	 * two up to 8): close enough to be a typo, far enough not to suggest
	 * unrelated names */
	size_t limit = len <= 3 ? 1 : len / 3 > 2 ? len / 3 : 2;
	for (size_t i = 0; i < n; i++) {
		if (!cands[i] || strcmp(cands[i], word) == 0)
			continue;
		size_t lc = strlen(cands[i]);
		if ((lc > len ? lc - len : len - lc) > limit)
			continue;
		size_t d = ks_edit_distance(word, cands[i]);
		if (d <= limit && d < best_d) {
			best = cands[i];
			best_d = d;
		}
	}
	return best;
}

void ks_qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

uint64_t ks_mem_budget(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
	uint64_t b = pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : (uint64_t)1 << 34;
	struct rlimit rl;

	if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && (uint64_t)rl.rlim_cur < b)
		b = (uint64_t)rl.rlim_cur;
	return b;
}
