#include "config.h"

#include "ks_zip.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
