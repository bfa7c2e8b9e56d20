#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks_slice.h"
#include "ks_util.h"

void ks_slice_all(const int64_t *shape, int rank, ks_slice *out)
{
	memset(out, 0, sizeof *out);
	out->rank = rank;
	for (int i = 0; i < rank && i < KS_MAX_RANK; i++) {
		out->start[i] = 0;
		out->count[i] = shape[i];
		out->keep[i] = true;
	}
}

typedef enum { IT_INDEX, IT_RANGE, IT_ELLIPSIS } item_kind;

typedef struct item {
	item_kind kind;
	bool has_a, has_b;
	int64_t a, b;
} item;

static const char *skip_ws(const char *p)
{
	while (*p && isspace((unsigned char)*p))
		p++;
	return p;
}

/* Parses an optional signed integer at *p; *has says whether one was there. */
static int parse_int(const char **p, bool *has, int64_t *v, const char *spec, ks_err *err)
{
	const char *s = skip_ws(*p);
	*has = false;
	if (*s != '-' && *s != '+' && !isdigit((unsigned char)*s)) {
		*p = s;
		return 0;
	}
	char *end;
	errno = 0;
	long long x = strtoll(s, &end, 10);
	if (end == s || (end == s + 1 && !isdigit((unsigned char)*s)))
		return ks_fail(err, "slice '%s': expected a number at '%s'", spec, s);
	if (errno == ERANGE)
		return ks_fail(err, "slice '%s': number out of range at '%s'", spec, s);
	*has = true;
	*v = x;
	*p = skip_ws(end);
	return 0;
}

static int parse_items(const char *spec, item *items, int *n, ks_err *err)
{
	const char *p = skip_ws(spec);
	bool bracket = false;

	*n = 0;
	if (*p == '[') {
		bracket = true;
		p = skip_ws(p + 1);
	}
	if ((bracket && *p == ']') || (!bracket && !*p))
		goto end;
	for (;;) {
		item it = {0};
		p = skip_ws(p);
		if (strncmp(p, "...", 3) == 0) {
			it.kind = IT_ELLIPSIS;
			p = skip_ws(p + 3);
		} else {
			if (parse_int(&p, &it.has_a, &it.a, spec, err) < 0)
				return -1;
			if (*p == ':') {
				it.kind = IT_RANGE;
				p++;
				if (parse_int(&p, &it.has_b, &it.b, spec, err) < 0)
					return -1;
				if (*p == ':')
					return ks_fail(err, "slice '%s': steps (a:b:c) are not supported", spec);
			} else if (it.has_a) {
				it.kind = IT_INDEX;
			} else {
				return ks_fail(err, "slice '%s': expected an index, a:b, ':' or '...' at '%s'",
				               spec, *p ? p : "end");
			}
		}
		if (*n == KS_MAX_RANK + 1)
			return ks_fail(err, "slice '%s': too many items", spec);
		items[(*n)++] = it;
		p = skip_ws(p);
		if (*p == ',') {
			p++;
			continue;
		}
		break;
	}
end:
	if (bracket) {
		if (*p != ']')
			return ks_fail(err, "slice '%s': expected ',' or ']' at '%s'", spec, *p ? p : "end");
		p++;
	}
	p = skip_ws(p);
	if (*p)
		return ks_fail(err, "slice '%s': unexpected '%s'", spec, p);
	return 0;
}

int ks_slice_parse(const char *spec, const int64_t *shape, int rank, ks_slice *out, ks_err *err)
{
	item items[KS_MAX_RANK + 1];
	int n, ell = -1;

	if (rank < 0 || rank > KS_MAX_RANK)
		return ks_fail(err, "slice '%s': unsupported rank %d", spec, rank);
	ks_slice_all(shape, rank, out);
	if (parse_items(spec, items, &n, err) < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		if (items[i].kind != IT_ELLIPSIS)
			continue;
		if (ell >= 0)
			return ks_fail(err, "slice '%s': only one '...' is allowed", spec);
		ell = i;
	}
	int given = n - (ell >= 0);
	if (given > rank)
		return ks_fail(err, "slice '%s': %d ind%s for a tensor of rank %d", spec, given,
		               given == 1 ? "ex" : "ices", rank);

	for (int i = 0, axis = 0; i < n; i++) {
		const item *it = &items[i];
		if (it->kind == IT_ELLIPSIS) {
			axis += rank - given;
			continue;
		}
		int64_t size = shape[axis];
		if (it->kind == IT_INDEX) {
			int64_t x = it->a < 0 ? it->a + size : it->a;
			if (x < 0 || x >= size)
				return ks_fail(err, "slice '%s': index %lld is out of bounds for axis %d with size %lld",
				               spec, (long long)it->a, axis, (long long)size);
			out->start[axis] = x;
			out->count[axis] = 1;
			out->keep[axis] = false;
		} else {
			/* Python slice bounds: negative counts from the end, then clamp. */
			int64_t a = it->has_a ? it->a : 0, b = it->has_b ? it->b : size;
			if (a < 0)
				a = a + size < 0 ? 0 : a + size;
			if (b < 0)
				b = b + size < 0 ? 0 : b + size;
			if (a > size)
				a = size;
			if (b > size)
				b = size;
			out->start[axis] = a;
			out->count[axis] = b > a ? b - a : 0;
			out->keep[axis] = true;
		}
		axis++;
	}
	return 0;
}

int ks_slice_shape(const ks_slice *s, int64_t *shape)
{
	int r = 0;
	for (int i = 0; i < s->rank; i++)
		if (s->keep[i])
			shape[r++] = s->count[i];
	return r;
}

const char *ks_slice_str(const ks_slice *s, const int64_t *shape, char *buf, size_t n)
{
	size_t len = 0;
	if (!n)
		return buf;
	buf[0] = '\0';
#define PUT(...) do { \
		int k_ = snprintf(len < n ? buf + len : NULL, len < n ? n - len : 0, __VA_ARGS__); \
		if (k_ > 0) \
			len += (size_t)k_; \
	} while (0)
	PUT("[");
	for (int i = 0; i < s->rank; i++) {
		if (i)
			PUT(", ");
		if (!s->keep[i])
			PUT("%lld", (long long)s->start[i]);
		else if (s->start[i] == 0 && s->count[i] == shape[i])
			PUT(":");
		else
			PUT("%lld:%lld", (long long)s->start[i], (long long)(s->start[i] + s->count[i]));
	}
	PUT("]");
#undef PUT
	if (len >= n)
		buf[n - 1] = '\0';
	return buf;
}
