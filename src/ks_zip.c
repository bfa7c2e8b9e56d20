#include "config.h"

#include "ks_zip.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zip.h>

#include "ks_util.h"

/* Deflate cannot expand beyond about 1032:1 (RFC 1951: a 258-byte match in
 * at least 2 bits, plus block overhead): a bigger declared size is a lie. */
#define KS_DEFLATE_MAX_RATIO 1032u

struct ks_zip {
	zip_t *za;
	char *path;
	uint64_t file_size;
};

static const char *zip_code_str(int code)
{
	static _Thread_local char buf[128];
	zip_error_t ze;

	zip_error_init_with_code(&ze, code);
	snprintf(buf, sizeof buf, "%s", zip_error_strerror(&ze));
	zip_error_fini(&ze);
	return buf;
}

static bool starts_like_zip(const char *path)
{
	unsigned char h[4] = {0};
	FILE *f = fopen(path, "rb");
	bool r;

	if (!f)
		return false;
	r = fread(h, 1, 4, f) == 4 && h[0] == 'P' && h[1] == 'K' && h[2] == 3 && h[3] == 4;
	fclose(f);
	return r;
}

ks_zip *ks_zip_open(const char *path, ks_err *err)
{
	struct stat st;
	int code = 0;
	zip_t *za;
	ks_zip *z;

	if (stat(path, &st) != 0) {
		ks_fail(err, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		ks_fail(err, "%s: not a regular file", path);
		return NULL;
	}
	/* No ZIP_CHECKCONS: it rejects archives over details that do not
	 * matter for reading (and zips written in streaming mode with data
	 * descriptors are legitimately "inconsistent" in their local headers).
	 * What matters is checked per member in ks_zip_read: declared sizes
	 * against the archive, exact byte count and CRC on reading. */
	za = zip_open(path, ZIP_RDONLY, &code);
	if (!za) {
		/* libzip finds no end-of-central-directory record in a zip cut
		 * short: say so rather than "not a zip archive". */
		if (code == ZIP_ER_NOZIP && starts_like_zip(path))
			ks_fail(err, "%s: truncated or damaged zip archive (no central directory found)",
			        path);
		else
			ks_fail(err, "%s: not a readable zip archive (%s)", path, zip_code_str(code));
		return NULL;
	}
	z = ks_xcalloc(1, sizeof *z);
	z->za = za;
	z->path = ks_xstrdup(path);
	z->file_size = (uint64_t)st.st_size;
	return z;
}

void ks_zip_close(ks_zip *z)
{
	if (!z)
		return;
	zip_discard(z->za); /* read-only: nothing to write back */
	free(z->path);
	free(z);
}

bool ks_zip_has(const ks_zip *z, const char *name)
{
	return zip_name_locate(z->za, name, 0) >= 0;
}

int ks_zip_count(const ks_zip *z)
{
	zip_int64_t n = zip_get_num_entries(z->za, 0);

	if (n < 0)
		return 0;
	return n > INT32_MAX ? INT32_MAX : (int)n;
}

const char *ks_zip_name(const ks_zip *z, int i)
{
	const char *s = zip_get_name(z->za, (zip_uint64_t)i, 0);

	return s ? s : "";
}

int ks_zip_read(ks_zip *z, const char *name, uint64_t max_size, void **out, size_t *size,
                ks_err *err)
{
	zip_int64_t idx;
	zip_stat_t st;
	zip_file_t *f;
	unsigned char *buf, extra;
	uint64_t got = 0;
	zip_int64_t n;

	*out = NULL;
	*size = 0;
	idx = zip_name_locate(z->za, name, 0);
	if (idx < 0)
		return ks_fail(err, "%s: the archive has no member %s", z->path, name);
	zip_stat_init(&st);
	if (zip_stat_index(z->za, (zip_uint64_t)idx, 0, &st) != 0)
		return ks_fail(err, "%s: member %s: %s", z->path, name, zip_strerror(z->za));
	if ((st.valid & (ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD)) !=
	    (ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD))
		return ks_fail(err, "%s: member %s: sizes not recorded in the archive", z->path, name);
	if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE)
		return ks_fail(err, "%s: member %s is encrypted", z->path, name);
	if (st.comp_size > z->file_size)
		return ks_fail(err, "%s: member %s claims %llu stored bytes but the archive has %llu "
		               "(damaged or truncated)", z->path, name,
		               (unsigned long long)st.comp_size, (unsigned long long)z->file_size);
	switch (st.comp_method) {
	case ZIP_CM_STORE:
		if (st.size != st.comp_size)
			return ks_fail(err, "%s: member %s is stored uncompressed but declares %llu bytes "
			               "and %llu stored bytes (damaged archive)", z->path, name,
			               (unsigned long long)st.size, (unsigned long long)st.comp_size);
		break;
	case ZIP_CM_DEFLATE:
		if (st.size / KS_DEFLATE_MAX_RATIO > st.comp_size + 1)
			return ks_fail(err, "%s: member %s declares %llu bytes from %llu compressed bytes, "
			               "more than deflate can produce (damaged archive)", z->path, name,
			               (unsigned long long)st.size, (unsigned long long)st.comp_size);
		break;
	default:
		return ks_fail(err, "%s: member %s uses compression method %u (only stored and "
		               "deflated members are supported)", z->path, name, (unsigned)st.comp_method);
	}
	if (st.size > max_size)
		return ks_fail(err, "%s: member %s is %llu bytes, over the limit of %llu", z->path, name,
		               (unsigned long long)st.size, (unsigned long long)max_size);
	if (st.size >= SIZE_MAX)
		return ks_fail(err, "%s: member %s is too large for this machine", z->path, name);

	buf = malloc((size_t)st.size + 1);
	if (!buf)
		return ks_fail(err, "%s: member %s: cannot allocate %llu bytes", z->path, name,
		               (unsigned long long)st.size);
	f = zip_fopen_index(z->za, (zip_uint64_t)idx, 0);
	if (!f) {
		free(buf);
		return ks_fail(err, "%s: member %s cannot be read: %s (damaged archive)", z->path, name,
		               zip_strerror(z->za));
	}
	while (got < st.size) {
		n = zip_fread(f, buf + got, st.size - got);
		if (n < 0) {
			ks_fail(err, "%s: member %s cannot be read: %s (damaged archive)", z->path, name,
			        zip_file_strerror(f));
			goto fail;
		}
		if (n == 0) {
			ks_fail(err, "%s: member %s ends after %llu of its %llu bytes (truncated archive)",
			        z->path, name, (unsigned long long)got, (unsigned long long)st.size);
			goto fail;
		}
		got += (uint64_t)n;
	}
	/* One more read reaches the end of the member, which is where libzip
	 * verifies the CRC; it must produce no further bytes. */
	n = zip_fread(f, &extra, 1);
	if (n < 0) {
		ks_fail(err, "%s: member %s cannot be read: %s (damaged archive)", z->path, name,
		        zip_file_strerror(f));
		goto fail;
	}
	if (n > 0) {
		ks_fail(err, "%s: member %s is longer than the %llu bytes it declares (damaged archive)",
		        z->path, name, (unsigned long long)st.size);
		goto fail;
	}
	zip_fclose(f);
	buf[st.size] = 0;
	*out = buf;
	*size = (size_t)st.size;
	return 0;
fail:
	zip_fclose(f);
	free(buf);
	return -1;
}

/* ---- locating a stored member in the file ------------------------------ */

static uint16_t le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint64_t le64(const unsigned char *p)
{
	return (uint64_t)le32(p) | ((uint64_t)le32(p + 4) << 32);
}

static bool pread_all(int fd, void *buf, size_t n, uint64_t off)
{
	unsigned char *b = buf;

	while (n > 0) {
		ssize_t r = pread(fd, b, n, (off_t)off);
		if (r <= 0)
			return false;
		b += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return true;
}

/* Offset of the local header of member `name`, from the central directory
 * (the EOCD record, zip64 records when present, then the entries). */
static bool find_local_header(int fd, uint64_t fsize, const char *name, uint64_t *lh)
{
	enum { EOCD = 22, MAXCOMMENT = 65535, CD_MAX = 64 << 20 };
	size_t tail = (size_t)(fsize < EOCD + MAXCOMMENT ? fsize : EOCD + MAXCOMMENT);
	unsigned char *t, *cd = NULL, z[56];
	uint64_t cd_off, cd_size, entries, i, pos = 0;
	size_t nlen = strlen(name);
	ssize_t e;
	bool ok = false;

	if (tail < EOCD)
		return false;
	t = malloc(tail);
	if (!t || !pread_all(fd, t, tail, fsize - tail))
		goto out;
	for (e = (ssize_t)tail - EOCD; e >= 0; e--)
		if (le32(t + e) == 0x06054b50u)
			break;
	if (e < 0)
		goto out;
	entries = le16(t + e + 10);
	cd_size = le32(t + e + 12);
	cd_off = le32(t + e + 16);
	if (entries == 0xFFFF || cd_size == 0xFFFFFFFFu || cd_off == 0xFFFFFFFFu) {
		uint64_t eocd_abs = fsize - tail + (uint64_t)e, z64;
		if (eocd_abs < 20 || !pread_all(fd, z, 20, eocd_abs - 20) || le32(z) != 0x07064b50u)
			goto out;
		z64 = le64(z + 8);
		if (z64 > fsize - 56 || !pread_all(fd, z, 56, z64) || le32(z) != 0x06064b50u)
			goto out;
		entries = le64(z + 32);
		cd_size = le64(z + 40);
		cd_off = le64(z + 48);
	}
	if (cd_size > CD_MAX || cd_off > fsize || cd_size > fsize - cd_off)
		goto out;
	cd = malloc((size_t)cd_size + 1);
	if (!cd || !pread_all(fd, cd, (size_t)cd_size, cd_off))
		goto out;
	for (i = 0; i < entries; i++) {
		uint16_t n, x, c;
		uint64_t off;
		if (pos + 46 > cd_size || le32(cd + pos) != 0x02014b50u)
			goto out;
		n = le16(cd + pos + 28);
		x = le16(cd + pos + 30);
		c = le16(cd + pos + 32);
		if (pos + 46 + n + x + c > cd_size)
			goto out;
		off = le32(cd + pos + 42);
		if (n == nlen && memcmp(cd + pos + 46, name, nlen) == 0) {
			if (off == 0xFFFFFFFFu) {
				/* zip64 extra: the 64-bit fields present are those
				 * whose 32-bit field is saturated, in this order. */
				const unsigned char *xp = cd + pos + 46 + n, *xe = xp + x;
				bool found = false;
				while (xp + 4 <= xe) {
					uint16_t id = le16(xp), len = le16(xp + 2);
					if (xp + 4 + len > xe)
						break;
					if (id == 1) {
						int k = 0;
						if (le32(cd + pos + 24) == 0xFFFFFFFFu)
							k++;
						if (le32(cd + pos + 20) == 0xFFFFFFFFu)
							k++;
						if (len >= 8 * (k + 1)) {
							off = le64(xp + 4 + 8 * k);
							found = true;
						}
						break;
					}
					xp += 4 + len;
				}
				if (!found)
					goto out;
			}
			*lh = off;
			ok = true;
			goto out;
		}
		pos += 46 + (uint64_t)n + x + c;
	}
out:
	free(t);
	free(cd);
	return ok;
}

int ks_zip_member_span(ks_zip *z, const char *name, uint64_t *offset, uint64_t *size)
{
	unsigned char lh[30], a[64], b[64];
	uint64_t lho, data;
	zip_int64_t idx;
	zip_stat_t st;
	zip_file_t *f;
	size_t nchk;
	int fd, rc = -1;

	idx = zip_name_locate(z->za, name, 0);
	if (idx < 0)
		return -1;
	zip_stat_init(&st);
	if (zip_stat_index(z->za, (zip_uint64_t)idx, 0, &st) != 0 ||
	    !(st.valid & ZIP_STAT_SIZE) || !(st.valid & ZIP_STAT_COMP_METHOD) ||
	    st.comp_method != ZIP_CM_STORE || ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) &&
	                                       st.encryption_method != ZIP_EM_NONE) ||
	    ((st.valid & ZIP_STAT_COMP_SIZE) && st.comp_size != st.size))
		return -1;
	fd = open(z->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (!find_local_header(fd, z->file_size, name, &lho) || lho > z->file_size - 30 ||
	    !pread_all(fd, lh, 30, lho) || le32(lh) != 0x04034b50u)
		goto out;
	data = lho + 30 + le16(lh + 26) + le16(lh + 28);
	if (data > z->file_size || st.size > z->file_size - data)
		goto out;
	/* Cross-check: the first bytes there are the member's first bytes. */
	nchk = st.size < sizeof a ? (size_t)st.size : sizeof a;
	if (!pread_all(fd, a, nchk, data))
		goto out;
	f = zip_fopen_index(z->za, (zip_uint64_t)idx, 0);
	if (!f)
		goto out;
	if (zip_fread(f, b, nchk) == (zip_int64_t)nchk && memcmp(a, b, nchk) == 0) {
		*offset = data;
		*size = st.size;
		rc = 0;
	}
	zip_fclose(f);
out:
	close(fd);
	return rc;
}
