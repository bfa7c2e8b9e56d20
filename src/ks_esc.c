#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ks_esc.h"
#include "ks_util.h"

/* Length of the UTF-8 sequence at s (1..4), or 0 when s does not start a
 * valid one (overlong forms and surrogates included). */
static int utf8_len(const unsigned char *s, uint32_t *cp)
{
	int n;
	uint32_t c = s[0], min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xE0) == 0xC0) {
		n = 2, c &= 0x1F, min = 0x80;
	} else if ((c & 0xF0) == 0xE0) {
		n = 3, c &= 0x0F, min = 0x800;
	} else if ((c & 0xF8) == 0xF0) {
		n = 4, c &= 0x07, min = 0x10000;
	} else {
		return 0;
	}
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return n;
}

static bool hidden_cp(uint32_t c)
{
	return (c >= 0x80 && c <= 0x9F) || (c >= 0x202A && c <= 0x202E) ||
	       (c >= 0x2066 && c <= 0x2069);
}

/* Bytes at s kept as they are (0: the first byte must be escaped). */
int ks_esc_keep(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t cp;
	int n;

	if (u[0] < 0x20 || u[0] == 0x7F)
		return 0;
	n = utf8_len(u, &cp);
	return n > 0 && !hidden_cp(cp) ? n : 0;
}

const char *ks_esc_byte(unsigned char c, char out[5])
{
	static const char named[] = "\a" "a" "\b" "b" "\t" "t" "\n" "n" "\v" "v" "\f" "f" "\r" "r"
	                            "\033" "e";
	for (size_t i = 0; i + 1 < sizeof named; i += 2)
		if ((unsigned char)named[i] == c) {
			out[0] = '\\';
			out[1] = named[i + 1];
			out[2] = '\0';
			return out;
		}
	snprintf(out, 5, "\\x%02x", c);
	return out;
}

bool ks_esc_needed(const char *s)
{
	while (s && *s) {
		int k = ks_esc_keep(s);
		if (!k)
			return true;
		s += k;
	}
	return false;
}

char *ks_esc_into(char *dst, size_t size, const char *s)
{
	size_t n = 0;

	if (!size)
		return dst;
	while (s && *s) {
		char e[5];
		const char *piece = s;
		int k = ks_esc_keep(s);
		size_t len = (size_t)k;
		if (!k) {
			piece = ks_esc_byte((unsigned char)*s, e);
			len = strlen(piece);
			k = 1;
		}
		if (n + len >= size)
			break;
		memcpy(dst + n, piece, len);
		n += len;
		s += k;
	}
	dst[n] = '\0';
	return dst;
}

char *ks_esc(const char *s)
{
	size_t size = 4 * strlen(s) + 1; /* every byte as \xNN at worst */
	return ks_esc_into(ks_xmalloc(size), size, s);
}

const char *ks_esc_s(ks_esc_pool *p, const char *s)
{
	if (!s || !ks_esc_needed(s))
		return s;
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 8;
		p->v = ks_xrealloc(p->v, (size_t)p->cap * sizeof *p->v);
	}
	return p->v[p->n++] = ks_esc(s);
}

void ks_esc_pool_free(ks_esc_pool *p)
{
	for (int i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
	memset(p, 0, sizeof *p);
}
