/* ks_npy: .npy reading and writing (see ks_npy.h).
 *
 * Format: "\x93NUMPY", major, minor, a little-endian header length (uint16
 * for 1.x, uint32 for 2.x/3.x), then an ASCII (3.x: UTF-8) Python dict
 * literal {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), },
 * then the raw data. The dict is parsed by hand: only these three keys
 * matter and nothing in it is evaluated.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ks_npy.h"
#include "ks_util.h"

/* Largest .npy we read into memory (inputs are small; this stops a bogus
 * file from asking for terabytes). */
#define NPY_MAX_BYTES ((uint64_t)16 << 30)

void ks_array_free(ks_array *a)
{
	if (a) {
		free(a->data);
		memset(a, 0, sizeof *a);
	}
}

int64_t ks_array_numel(const ks_array *a)
{
	int64_t n;
	return ks_numel(a->shape, a->rank, &n) ? n : -1;
}

typedef struct descr {
	ks_dtype t;
	size_t size;
	bool big;
} descr;

static int parse_descr(const char *s, size_t len, descr *d)
{
	char bo, kind;
	int sz;

	if (len < 3)
		return -1;
	bo = s[0];
	kind = s[1];
	char num[8];
	if (len - 2 >= sizeof num)
		return -1;
	memcpy(num, s + 2, len - 2);
	num[len - 2] = '\0';
	char *end;
	sz = (int)strtol(num, &end, 10);
	if (*end || sz <= 0)
		return -1;
	if (bo != '<' && bo != '>' && bo != '|' && bo != '=')
		return -1;
	d->big = bo == '>';
	d->size = (size_t)sz;
	switch (kind) {
	case 'f':
		d->t = sz == 2 ? KS_DT_F16 : sz == 4 ? KS_DT_F32 : sz == 8 ? KS_DT_F64 : KS_DT_UNKNOWN;
		break;
	case 'i':
		d->t = sz == 1 ? KS_DT_I8 : sz == 2 ? KS_DT_I16 : sz == 4 ? KS_DT_I32 : sz == 8 ? KS_DT_I64 : KS_DT_UNKNOWN;
		break;
	case 'u':
		d->t = sz == 1 ? KS_DT_U8 : sz == 2 ? KS_DT_U16 : sz == 4 ? KS_DT_U32 : sz == 8 ? KS_DT_U64 : KS_DT_UNKNOWN;
		break;
	case 'b':
		d->t = sz == 1 ? KS_DT_BOOL : KS_DT_UNKNOWN;
		break;
	default:
		d->t = KS_DT_UNKNOWN;
	}
	return d->t == KS_DT_UNKNOWN ? -1 : 0;
}

/* Finds 'key' followed by ':' in the dict text; returns the value start. */
static const char *dict_value(const char *h, size_t n, const char *key)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i + kl + 2 <= n; i++) {
		if ((h[i] == '\'' || h[i] == '"') && memcmp(h + i + 1, key, kl) == 0 &&
		    h[i + 1 + kl] == h[i]) {
			size_t j = i + kl + 2;
			while (j < n && (h[j] == ' ' || h[j] == '\t'))
				j++;
			if (j < n && h[j] == ':') {
				j++;
				while (j < n && (h[j] == ' ' || h[j] == '\t'))
					j++;
				/* a key at the very end of the header has no value */
				return j < n ? h + j : NULL;
			}
		}
	}
	return NULL;
}

static float half_to_float(uint16_t h)
{
	uint32_t sign = (uint32_t)(h >> 15) & 1, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
	float v;
	if (exp == 0)
		v = ldexpf((float)mant, -24);
	else if (exp == 31)
		v = mant ? NAN : INFINITY;
	else
		v = ldexpf((float)(mant | 0x400), (int)exp - 25);
	return sign ? -v : v;
}

static void load_bytes(const unsigned char *p, size_t size, bool big, unsigned char *dst)
{
	/* host is little-endian on every platform we build for; swap when the
	 * file is big-endian */
	for (size_t i = 0; i < size; i++)
		dst[i] = big ? p[size - 1 - i] : p[i];
}

static float convert(const unsigned char *p, const descr *d)
{
	unsigned char b[8];
	load_bytes(p, d->size, d->big, b);
	switch (d->t) {
	case KS_DT_F16: { uint16_t v; memcpy(&v, b, 2); return half_to_float(v); }
	case KS_DT_F32: { float v; memcpy(&v, b, 4); return v; }
	case KS_DT_F64: { double v; memcpy(&v, b, 8); return (float)v; }
	case KS_DT_I8: { int8_t v; memcpy(&v, b, 1); return (float)v; }
	case KS_DT_I16: { int16_t v; memcpy(&v, b, 2); return (float)v; }
	case KS_DT_I32: { int32_t v; memcpy(&v, b, 4); return (float)v; }
	case KS_DT_I64: { int64_t v; memcpy(&v, b, 8); return (float)v; }
	case KS_DT_U8: return (float)b[0];
	case KS_DT_U16: { uint16_t v; memcpy(&v, b, 2); return (float)v; }
	case KS_DT_U32: { uint32_t v; memcpy(&v, b, 4); return (float)v; }
	case KS_DT_U64: { uint64_t v; memcpy(&v, b, 8); return (float)v; }
	case KS_DT_BOOL: return b[0] ? 1.0f : 0.0f;
	default: return NAN;
	}
}

int ks_npy_parse(const void *buf, size_t size, const char *name, ks_array *out, ks_err *err)
{
	const unsigned char *p = buf;
	size_t hlen, hstart;
	const char *h, *v;
	descr d;
	char tmp[64];

	memset(out, 0, sizeof *out);
	if (size < 10 || memcmp(p, "\x93NUMPY", 6) != 0)
		return ks_fail(err, "%s: not a .npy file", name);
	if (p[6] == 1) {
		hlen = (size_t)p[8] | (size_t)p[9] << 8;
		hstart = 10;
	} else if (p[6] == 2 || p[6] == 3) {
		if (size < 12)
			return ks_fail(err, "%s: truncated .npy header", name);
		hlen = (size_t)p[8] | (size_t)p[9] << 8 | (size_t)p[10] << 16 | (size_t)p[11] << 24;
		hstart = 12;
	} else {
		return ks_fail(err, "%s: unsupported .npy format version %d.%d", name, p[6], p[7]);
	}
	if (hlen > size - hstart)
		return ks_fail(err, "%s: truncated .npy header (%zu bytes promised, %zu present)", name,
		               hlen, size - hstart);
	h = (const char *)p + hstart;

	/* descr */
	v = dict_value(h, hlen, "descr");
	if (!v || (*v != '\'' && *v != '"'))
		return ks_fail(err, "%s: .npy header has no readable 'descr' (structured dtypes are not supported)", name);
	{
		char q = *v++; /* v <= h + hlen: dict_value returns a byte inside */
		const char *e = memchr(v, q, hlen - (size_t)(v - h));
		if (!e)
			return ks_fail(err, "%s: malformed .npy header", name);
		if (parse_descr(v, (size_t)(e - v), &d) < 0) {
			size_t l = (size_t)(e - v) < sizeof tmp - 1 ? (size_t)(e - v) : sizeof tmp - 1;
			memcpy(tmp, v, l);
			tmp[l] = '\0';
			return ks_fail(err, "%s: dtype '%s' is not supported (float16/32/64, int, uint, bool are)",
			               name, tmp);
		}
	}

	/* fortran_order */
	v = dict_value(h, hlen, "fortran_order");
	if (!v)
		return ks_fail(err, "%s: .npy header has no 'fortran_order'", name);
	if ((size_t)(h + hlen - v) >= 4 && memcmp(v, "True", 4) == 0)
		return ks_fail(err, "%s: the array is in Fortran order; save it in C order "
		               "(numpy.ascontiguousarray) and retry", name);
	if (!((size_t)(h + hlen - v) >= 5 && memcmp(v, "False", 5) == 0))
		return ks_fail(err, "%s: malformed 'fortran_order' in .npy header", name);

	/* shape */
	v = dict_value(h, hlen, "shape");
	if (!v || *v != '(')
		return ks_fail(err, "%s: .npy header has no 'shape'", name);
	v++;
	out->rank = 0;
	for (;;) {
		while (v < h + hlen && (*v == ' ' || *v == ','))
			v++;
		if (v >= h + hlen)
			return ks_fail(err, "%s: malformed shape in .npy header", name);
		if (*v == ')')
			break;
		if (*v < '0' || *v > '9')
			return ks_fail(err, "%s: malformed shape in .npy header", name);
		uint64_t dim = 0;
		while (v < h + hlen && *v >= '0' && *v <= '9') {
			if (dim > (UINT64_C(1) << 62) / 10)
				return ks_fail(err, "%s: a dimension in the .npy header is too large", name);
			dim = dim * 10 + (uint64_t)(*v++ - '0');
		}
		if (v < h + hlen && *v == 'L') /* Python 2 longs */
			v++;
		if (out->rank >= KS_MAX_RANK)
			return ks_fail(err, "%s: more than %d dimensions", name, KS_MAX_RANK);
		out->shape[out->rank++] = (int64_t)dim;
	}

	int64_t n;
	size_t bytes;
	if (!ks_numel(out->shape, out->rank, &n) || !ks_size_mul((size_t)n, d.size, &bytes) ||
	    (uint64_t)bytes > NPY_MAX_BYTES) {
		ks_shape_str(out->shape, out->rank, tmp, sizeof tmp);
		out->rank = 0;
		return ks_fail(err, "%s: shape %s is too large", name, tmp);
	}
	size_t dstart = hstart + hlen;
	if (bytes > size - dstart) {
		ks_shape_str(out->shape, out->rank, tmp, sizeof tmp);
		out->rank = 0;
		return ks_fail(err, "%s: truncated: shape %s needs %zu data bytes but the file has %zu",
		               name, tmp, bytes, size - dstart);
	}
	out->data = malloc(sizeof(float) * (size_t)(n ? n : 1));
	if (!out->data) {
		out->rank = 0;
		return ks_fail(err, "%s: out of memory", name);
	}
	out->src_dtype = d.t;
	const unsigned char *src = p + dstart;
	if (d.t == KS_DT_F32 && !d.big) {
		memcpy(out->data, src, (size_t)n * sizeof(float));
	} else {
		for (int64_t i = 0; i < n; i++)
			out->data[i] = convert(src + (size_t)i * d.size, &d);
	}
	return 0;
}

int ks_npy_read(const char *path, ks_array *out, ks_err *err)
{
	FILE *f;
	struct stat st;
	unsigned char *buf;
	int rc;

	memset(out, 0, sizeof *out);
	f = fopen(path, "rb");
	if (!f)
		return ks_fail(err, "%s: %s", path, strerror(errno));
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		fclose(f);
		return ks_fail(err, "%s: not a regular file", path);
	}
	if ((uint64_t)st.st_size > NPY_MAX_BYTES + 65536) {
		fclose(f);
		return ks_fail(err, "%s: too large to load (%lld bytes)", path, (long long)st.st_size);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		fclose(f);
		return ks_fail(err, "%s: out of memory", path);
	}
	if (fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		free(buf);
		fclose(f);
		return ks_fail(err, "%s: read error", path);
	}
	fclose(f);
	rc = ks_npy_parse(buf, (size_t)st.st_size, path, out, err);
	free(buf);
	return rc;
}

int ks_npy_write(const char *path, const float *data, const int64_t *shape, int rank, ks_err *err)
{
	char dict[512];
	size_t used;
	int64_t n;
	FILE *f;

	if (!ks_numel(shape, rank, &n))
		return ks_fail(err, "%s: bad shape", path);
	used = (size_t)snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
	for (int i = 0; i < rank; i++)
		used += (size_t)snprintf(dict + used, sizeof dict - used, "%s%lld", i ? ", " : "",
		                         (long long)shape[i]);
	used += (size_t)snprintf(dict + used, sizeof dict - used, "%s), }", rank == 1 ? "," : "");
	/* pad so that 10 + header is a multiple of 64, ending in '\n' */
	size_t total = 10 + used + 1;
	size_t pad = (64 - total % 64) % 64;
	if (used + pad + 1 >= sizeof dict)
		return ks_fail(err, "%s: shape too long", path);
	memset(dict + used, ' ', pad);
	used += pad;
	dict[used++] = '\n';

	f = fopen(path, "wb");
	if (!f)
		return ks_fail(err, "%s: %s", path, strerror(errno));
	unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
	                         (unsigned char)(used & 0xff), (unsigned char)(used >> 8)};
	bool ok = fwrite(pre, 1, 10, f) == 10 && fwrite(dict, 1, used, f) == used &&
	          fwrite(data, sizeof(float), (size_t)n, f) == (size_t)n;
	if (fclose(f) != 0)
		ok = false;
	if (!ok)
		return ks_fail(err, "%s: write failed", path);
	return 0;
}
