#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <hdf5.h>

#include "ks_h5.h"
#include "ks_util.h"

/* Bounds on what a file may make us allocate for metadata. */
#define MAX_STR_ELEMS  (1 << 22)
#define MAX_STR_BYTES  ((size_t)256 << 20)
#define MAX_LINKS      (1 << 22)
#define MAX_VISIT_DEPTH 64

/* ---- HDF5 error stack -> short text ----------------------------------- */

static herr_t inner_err_cb(unsigned n, const H5E_error2_t *e, void *ud)
{
	char *buf = ud;
	if (n == 0 && e->desc && !buf[0])
		snprintf(buf, 200, "%s", e->desc);
	return 0;
}

/* The innermost HDF5 error description ("truncated file: eof = ..."), or "". */
static const char *h5_reason(char buf[200])
{
	buf[0] = '\0';
	H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, inner_err_cb, buf);
	return buf;
}

/* ---- opening ---------------------------------------------------------- */

int64_t ks_h5_sniff(const char *path)
{
	static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
	unsigned char b[8];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	int64_t found = -1;

	if (fd < 0)
		return -1;
	for (int64_t off = 0; off <= ((int64_t)1 << 30); off = off ? off * 2 : 512) {
		ssize_t r = pread(fd, b, sizeof b, (off_t)off);
		if (r != (ssize_t)sizeof b)
			break;
		if (memcmp(b, sig, sizeof sig) == 0) {
			found = off;
			break;
		}
	}
	close(fd);
	return found;
}

/* External links would make HDF5 open other files named by the file being
 * inspected (a FIFO blocks forever, a device is read): never follow them.
 * Unregistering the class is process-wide and makes traversal fail quietly. */
static void no_external_links(void)
{
	static bool done;
	if (!done) {
		done = true;
		if (H5Lis_registered(H5L_TYPE_EXTERNAL) > 0)
			H5Lunregister(H5L_TYPE_EXTERNAL);
	}
}

hid_t ks_h5_open_path(const char *path, ks_err *err)
{
	hid_t fapl, f;
	char why[200];
	int fd;

	ks_quiet_hdf5();
	no_external_links();
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		ks_fail(err, "%s: %s", path, strerror(errno));
		return H5I_INVALID_HID;
	}
	close(fd);
	if (ks_h5_sniff(path) < 0) {
		ks_fail(err, "%s: not an HDF5 file", path);
		return H5I_INVALID_HID;
	}
	fapl = H5Pcreate(H5P_FILE_ACCESS);
	/* STRONG: closing the file closes any id an error path forgot. */
	H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
	/* Read-only inspection must work on read-only media and shared files. */
	H5Pset_file_locking(fapl, 0, 1);
	f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
	H5Pclose(fapl);
	if (f < 0) {
		h5_reason(why);
		ks_fail(err, "%s: cannot open as HDF5 (truncated or damaged)%s%s", path,
		        why[0] ? ": " : "", why);
		return H5I_INVALID_HID;
	}
	return f;
}

/* File-image callbacks that never copy: the udata IS the caller's buffer,
 * every "allocation" returns it and every "free" is a no-op, so HDF5 reads
 * the bytes in place and nothing is allocated per open. (H5LTopen_file_image
 * with DONT_COPY|DONT_RELEASE does the same but leaks its bookkeeping in
 * HDF5 1.10.) */
static void *img_malloc(size_t size, H5FD_file_image_op_t op, void *udata)
{
	(void)size;
	(void)op;
	return udata;
}

static void *img_memcpy(void *dest, const void *src, size_t size, H5FD_file_image_op_t op,
                        void *udata)
{
	(void)op;
	(void)udata;
	if (dest != src)
		memcpy(dest, src, size);
	return dest;
}

static void *img_realloc(void *ptr, size_t size, H5FD_file_image_op_t op, void *udata)
{
	(void)ptr;
	(void)size;
	(void)op;
	(void)udata;
	return NULL; /* read-only: the image never grows */
}

static herr_t img_free(void *ptr, H5FD_file_image_op_t op, void *udata)
{
	(void)ptr;
	(void)op;
	(void)udata;
	return 0;
}

static void *img_udata_copy(void *udata)
{
	return udata;
}

static herr_t img_udata_free(void *udata)
{
	(void)udata;
	return 0;
}

hid_t ks_h5_open_image(const void *buf, size_t size, const char *label, ks_err *err)
{
	static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
	H5FD_file_image_callbacks_t cb = {
		img_malloc, img_memcpy, img_realloc, img_free, img_udata_copy, img_udata_free, NULL,
	};
	char why[200];
	hid_t fapl, f = H5I_INVALID_HID;

	ks_quiet_hdf5();
	no_external_links();
	if (!buf || size < 8 || memcmp(buf, sig, 8) != 0) {
		ks_fail(err, "%s: not an HDF5 file", label);
		return H5I_INVALID_HID;
	}
	cb.udata = (void *)(uintptr_t)buf;
	fapl = H5Pcreate(H5P_FILE_ACCESS);
	if (fapl >= 0 && H5Pset_fapl_core(fapl, 64 * 1024, 0) >= 0 &&
	    H5Pset_file_image_callbacks(fapl, &cb) >= 0 &&
	    H5Pset_file_image(fapl, (void *)(uintptr_t)buf, size) >= 0 &&
	    H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) >= 0) {
		/* The core driver treats equal names as the same file, so each
		 * image gets a unique one; nothing touches disk. */
		static unsigned long serial;
		char *name = ks_xasprintf("%s#mem%lu@%p", label, ++serial, buf);
		f = H5Fopen(name, H5F_ACC_RDONLY, fapl);
		free(name);
	}
	if (fapl >= 0)
		H5Pclose(fapl);
	if (f < 0) {
		h5_reason(why);
		ks_fail(err, "%s: cannot open as HDF5 (truncated or damaged)%s%s", label,
		        why[0] ? ": " : "", why);
		return H5I_INVALID_HID;
	}
	return f;
}

/* ---- existence -------------------------------------------------------- */

static const char *objpath(const char *p)
{
	return (p && p[0]) ? p : ".";
}

bool ks_h5_has_link(hid_t loc, const char *path)
{
	return ks_h5_kind_of(loc, path) != KS_H5_NONE;
}

ks_h5_kind ks_h5_kind_of(hid_t loc, const char *path)
{
	H5O_info_t info;

	if (!path || !path[0])
		return KS_H5_NONE;
	/* One traversal: a missing component, a dangling link or a dataset
	 * used as a group all make this fail (quietly), which reads as absent. */
	if (H5Oget_info_by_name2(loc, path, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0)
		return KS_H5_NONE;
	switch (info.type) {
	case H5O_TYPE_GROUP:
		return KS_H5_GROUP;
	case H5O_TYPE_DATASET:
		return KS_H5_DATASET;
	default:
		return KS_H5_OTHER;
	}
}

bool ks_h5_has_attr(hid_t loc, const char *obj_path, const char *attr)
{
	/* Fails quietly (negative) when the object is missing. */
	return H5Aexists_by_name(loc, objpath(obj_path), attr, H5P_DEFAULT) > 0;
}

/* ---- string attributes ------------------------------------------------ */

/* Copies a fixed-length element, dropping NUL padding and, for SPACEPAD,
 * trailing spaces. */
static char *fixed_dup(const char *s, size_t size, H5T_str_t pad)
{
	size_t n = strnlen(s, size);
	if (pad == H5T_STR_SPACEPAD)
		while (n > 0 && s[n - 1] == ' ')
			n--;
	return ks_xstrndup(s, n);
}

/* Reads every element of a string attribute. */
static int read_str_elems(hid_t a, hid_t type, hssize_t npts, const char *what, char ***out,
                          ks_err *err)
{
	char **v;
	hid_t mt;
	int rc = -1;

	if (npts < 0 || npts > MAX_STR_ELEMS)
		return ks_fail(err, "%s: unreasonable number of strings (%lld)", what, (long long)npts);
	v = ks_xcalloc((size_t)npts + 1, sizeof *v);
	if (npts == 0) {
		*out = v;
		return 0;
	}
	if (H5Tis_variable_str(type) > 0) {
		char **raw = ks_xcalloc((size_t)npts, sizeof *raw);
		hid_t space = H5Aget_space(a);
		mt = H5Tcopy(H5T_C_S1);
		H5Tset_size(mt, H5T_VARIABLE);
		/* Conversion between character sets is refused, so read in the
		 * stored one: ASCII and UTF-8 are both bytes to us. */
		H5Tset_cset(mt, H5Tget_cset(type));
		if (H5Aread(a, mt, raw) >= 0) {
			for (hssize_t i = 0; i < npts; i++)
				v[i] = ks_xstrdup(raw[i] ? raw[i] : "");
			H5Dvlen_reclaim(mt, space, H5P_DEFAULT, raw);
			rc = 0;
		} else {
			ks_fail(err, "%s: unreadable variable-length string", what);
		}
		H5Tclose(mt);
		H5Sclose(space);
		free(raw);
	} else {
		size_t size = H5Tget_size(type), total;
		H5T_str_t pad = H5Tget_strpad(type);
		char *raw;
		if (size == 0 || !ks_size_mul(size, (size_t)npts, &total) || total > MAX_STR_BYTES) {
			free(v);
			return ks_fail(err, "%s: unreasonable string size", what);
		}
		raw = ks_xcalloc(total + 1, 1);
		mt = H5Tcopy(type);
		if (H5Aread(a, mt, raw) >= 0) {
			for (hssize_t i = 0; i < npts; i++)
				v[i] = fixed_dup(raw + (size_t)i * size, size, pad);
			rc = 0;
		} else {
			ks_fail(err, "%s: unreadable fixed-length string", what);
		}
		H5Tclose(mt);
		free(raw);
	}
	if (rc < 0) {
		ks_h5_strv_free(v, (int)npts);
		return -1;
	}
	*out = v;
	return 0;
}

/* Opens attr on loc/obj_path; 0 absent, 1 opened, -1 error. */
static int open_attr(hid_t loc, const char *obj_path, const char *attr, hid_t *a)
{
	const char *p = objpath(obj_path);
	if (H5Aexists_by_name(loc, p, attr, H5P_DEFAULT) <= 0)
		return 0;
	*a = H5Aopen_by_name(loc, p, attr, H5P_DEFAULT, H5P_DEFAULT);
	return *a < 0 ? -1 : 1;
}

static char *attr_what(const char *obj_path, const char *attr)
{
	const char *p = objpath(obj_path);
	return ks_xasprintf("attribute %s of %s", attr, strcmp(p, ".") == 0 ? "/" : p);
}

int ks_h5_attr_strv(hid_t loc, const char *obj_path, const char *attr, char ***out, int *n,
                    ks_err *err)
{
	hid_t a = H5I_INVALID_HID, type = H5I_INVALID_HID, space = H5I_INVALID_HID;
	char *what = attr_what(obj_path, attr);
	hssize_t npts;
	int rc = -1, o;

	*out = NULL;
	*n = 0;
	o = open_attr(loc, obj_path, attr, &a);
	if (o == 0) {
		free(what);
		return 0;
	}
	if (o < 0) {
		ks_fail(err, "%s: cannot open", what);
		goto done;
	}
	type = H5Aget_type(a);
	space = H5Aget_space(a);
	if (type < 0 || space < 0) {
		ks_fail(err, "%s: unreadable", what);
		goto done;
	}
	npts = H5Sget_select_npoints(space);
	if (H5Sget_simple_extent_type(space) == H5S_NULL)
		npts = 0;
	if (H5Tget_class(type) != H5T_STRING) {
		if (npts == 0) { /* h5py's empty list */
			rc = 0;
			goto done;
		}
		ks_fail(err, "%s: not a string array", what);
		goto done;
	}
	if (read_str_elems(a, type, npts, what, out, err) == 0) {
		*n = (int)npts;
		rc = 0;
	}
done:
	if (rc == 0 && *n == 0 && *out) {
		free(*out);
		*out = NULL;
	}
	if (space >= 0)
		H5Sclose(space);
	if (type >= 0)
		H5Tclose(type);
	if (a >= 0)
		H5Aclose(a);
	free(what);
	return rc;
}

int ks_h5_attr_str(hid_t loc, const char *obj_path, const char *attr, char **out, ks_err *err)
{
	hid_t a = H5I_INVALID_HID, type = H5I_INVALID_HID, space = H5I_INVALID_HID;
	char *what = attr_what(obj_path, attr);
	char **v = NULL;
	hssize_t npts;
	int rc = -1, o;

	*out = NULL;
	o = open_attr(loc, obj_path, attr, &a);
	if (o == 0) {
		free(what);
		return 0;
	}
	if (o < 0) {
		ks_fail(err, "%s: cannot open", what);
		goto done;
	}
	type = H5Aget_type(a);
	space = H5Aget_space(a);
	if (type < 0 || space < 0 || H5Tget_class(type) != H5T_STRING) {
		ks_fail(err, "%s: not a string", what);
		goto done;
	}
	npts = H5Sget_select_npoints(space);
	if (npts != 1) {
		ks_fail(err, "%s: expected one string, found %lld", what, (long long)npts);
		goto done;
	}
	if (read_str_elems(a, type, npts, what, &v, err) == 0) {
		*out = v[0];
		free(v);
		rc = 0;
	}
done:
	if (space >= 0)
		H5Sclose(space);
	if (type >= 0)
		H5Tclose(type);
	if (a >= 0)
		H5Aclose(a);
	free(what);
	return rc;
}

void ks_h5_strv_free(char **v, int n)
{
	if (!v)
		return;
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- attributes of any type ------------------------------------------- */

static herr_t attr_name_cb(hid_t loc, const char *name, const H5A_info_t *info, void *ud)
{
	struct { char **v; int n, cap; } *acc = ud;
	(void)loc;
	(void)info;
	if (acc->n >= MAX_LINKS)
		return 1;
	if (acc->n == acc->cap) {
		acc->cap = acc->cap ? acc->cap * 2 : 8;
		acc->v = ks_xrealloc(acc->v, (size_t)acc->cap * sizeof *acc->v);
	}
	acc->v[acc->n++] = ks_xstrdup(name);
	return 0;
}

int ks_h5_attr_names(hid_t loc, const char *obj_path, char ***out, int *n, ks_err *err)
{
	struct { char **v; int n, cap; } acc = {0};
	const char *p = objpath(obj_path);
	hsize_t idx = 0;

	*out = NULL;
	*n = 0;
	if (strcmp(p, ".") != 0 && !ks_h5_has_link(loc, p))
		return ks_fail(err, "%s: no such object", p);
	if (H5Aiterate_by_name(loc, p, H5_INDEX_NAME, H5_ITER_INC, &idx, attr_name_cb, &acc,
	                       H5P_DEFAULT) < 0) {
		ks_h5_strv_free(acc.v, acc.n);
		return ks_fail(err, "%s: cannot list attributes", p);
	}
	*out = acc.v;
	*n = acc.n;
	return 0;
}

typedef struct sbuf {
	char *s;
	size_t len, cap, max;
	bool cut;
} sbuf;

static void sb_add(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(sbuf *b, const char *fmt, ...)
{
	va_list ap;
	char tmp[128];
	char *heap = NULL;
	const char *src = tmp;
	int k;

	if (b->cut)
		return;
	va_start(ap, fmt);
	k = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (k < 0)
		return;
	if ((size_t)k >= sizeof tmp) {
		va_start(ap, fmt);
		if (vasprintf(&heap, fmt, ap) < 0)
			heap = NULL;
		va_end(ap);
		if (!heap)
			return;
		src = heap;
	}
	size_t add = (size_t)k;
	if (b->max && b->len + add > b->max) {
		add = b->max > b->len ? b->max - b->len : 0;
		b->cut = true;
	}
	if (b->len + add + 4 > b->cap) {
		b->cap = (b->len + add + 4) * 2;
		b->s = ks_xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, src, add);
	b->len += add;
	if (b->cut) {
		memcpy(b->s + b->len, "...", 3);
		b->len += 3;
	}
	b->s[b->len] = '\0';
	free(heap);
}

int ks_h5_attr_text(hid_t loc, const char *obj_path, const char *attr, size_t max_chars,
                    char **out, ks_err *err)
{
	hid_t a = H5I_INVALID_HID, type = H5I_INVALID_HID, space = H5I_INVALID_HID;
	char *what = attr_what(obj_path, attr);
	sbuf b = {.max = max_chars};
	hssize_t npts;
	int rank, rc = -1, o;
	ks_dtype dt;

	*out = NULL;
	o = open_attr(loc, obj_path, attr, &a);
	if (o <= 0) {
		ks_fail(err, "%s: %s", what, o == 0 ? "absent" : "cannot open");
		goto done;
	}
	type = H5Aget_type(a);
	space = H5Aget_space(a);
	if (type < 0 || space < 0) {
		ks_fail(err, "%s: unreadable", what);
		goto done;
	}
	npts = H5Sget_simple_extent_type(space) == H5S_NULL ? 0 : H5Sget_select_npoints(space);
	rank = H5Sget_simple_extent_ndims(space);
	dt = ks_h5_dtype_of(type);
	sb_add(&b, "%s", "");
	if (dt == KS_DT_STRING) {
		char **v = NULL;
		if (read_str_elems(a, type, npts, what, &v, err) < 0)
			goto done;
		if (rank == 0 && npts == 1) {
			sb_add(&b, "%s", v[0]);
		} else {
			sb_add(&b, "[");
			for (hssize_t i = 0; i < npts; i++)
				sb_add(&b, "%s\"%s\"", i ? ", " : "", v[i]);
			sb_add(&b, "]");
		}
		ks_h5_strv_free(v, (int)npts);
		rc = 0;
	} else if (dt == KS_DT_UNKNOWN || dt == KS_DT_OTHER) {
		sb_add(&b, "<%s, %lld elements>", "unsupported type", (long long)npts);
		rc = 0;
	} else {
		bool isfloat = dt == KS_DT_F16 || dt == KS_DT_F32 || dt == KS_DT_F64;
		hssize_t show = npts > 4096 ? 4096 : npts;
		void *vals;
		if (npts < 0 || npts > MAX_STR_ELEMS) {
			ks_fail(err, "%s: too many elements", what);
			goto done;
		}
		vals = ks_xcalloc((size_t)npts + 1, 8);
		if (H5Aread(a, isfloat ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT64, vals) < 0) {
			free(vals);
			ks_fail(err, "%s: unreadable", what);
			goto done;
		}
		if (rank > 0)
			sb_add(&b, "[");
		for (hssize_t i = 0; i < show; i++) {
			if (isfloat)
				sb_add(&b, "%s%.8g", i ? " " : "", ((double *)vals)[i]);
			else if (dt == KS_DT_BOOL)
				sb_add(&b, "%s%s", i ? " " : "", ((int64_t *)vals)[i] ? "True" : "False");
			else
				sb_add(&b, "%s%" PRId64, i ? " " : "", ((int64_t *)vals)[i]);
		}
		if (show < npts)
			sb_add(&b, " ...");
		if (rank > 0)
			sb_add(&b, "]");
		free(vals);
		rc = 0;
	}
done:
	if (rc == 0)
		*out = b.s;
	else
		free(b.s);
	if (space >= 0)
		H5Sclose(space);
	if (type >= 0)
		H5Tclose(type);
	if (a >= 0)
		H5Aclose(a);
	free(what);
	return rc;
}

/* ---- datasets --------------------------------------------------------- */

ks_dtype ks_h5_dtype_of(hid_t type)
{
	size_t size = H5Tget_size(type);

	switch (H5Tget_class(type)) {
	case H5T_FLOAT:
		return size == 2 ? KS_DT_F16 : size == 4 ? KS_DT_F32 : size == 8 ? KS_DT_F64 : KS_DT_OTHER;
	case H5T_INTEGER: {
		bool sig = H5Tget_sign(type) == H5T_SGN_2;
		switch (size) {
		case 1: return sig ? KS_DT_I8 : KS_DT_U8;
		case 2: return sig ? KS_DT_I16 : KS_DT_U16;
		case 4: return sig ? KS_DT_I32 : KS_DT_U32;
		case 8: return sig ? KS_DT_I64 : KS_DT_U64;
		default: return KS_DT_OTHER;
		}
	}
	case H5T_ENUM: {
		/* h5py stores numpy bool as an int8 enum {FALSE, TRUE}. */
		if (H5Tget_nmembers(type) == 2) {
			char *n0 = H5Tget_member_name(type, 0), *n1 = H5Tget_member_name(type, 1);
			bool isbool = n0 && n1 && strcmp(n0, "FALSE") == 0 && strcmp(n1, "TRUE") == 0;
			H5free_memory(n0);
			H5free_memory(n1);
			if (isbool)
				return KS_DT_BOOL;
		}
		return KS_DT_OTHER;
	}
	case H5T_STRING:
		return KS_DT_STRING;
	case H5T_NO_CLASS:
		return KS_DT_UNKNOWN;
	default:
		return KS_DT_OTHER;
	}
}

int ks_h5_dataset_info(hid_t loc, const char *path, int *rank, int64_t *dims, ks_dtype *dtype,
                       ks_err *err)
{
	hid_t d, space, type;
	hsize_t hd[H5S_MAX_RANK];
	int r, rc = -1;
	int64_t numel;

	/* H5Dopen2 alone tells "absent or not a dataset": one path traversal. */
	d = H5Dopen2(loc, path, H5P_DEFAULT);
	if (d < 0)
		return ks_fail(err, "%s: no such dataset", path);
	space = H5Dget_space(d);
	type = H5Dget_type(d);
	if (space < 0 || type < 0) {
		ks_fail(err, "%s: unreadable dataset header", path);
		goto done;
	}
	switch (H5Sget_simple_extent_type(space)) {
	case H5S_SCALAR:
		*rank = 0;
		break;
	case H5S_NULL:
		*rank = 1;
		dims[0] = 0;
		break;
	case H5S_SIMPLE:
		r = H5Sget_simple_extent_ndims(space);
		if (r < 0 || r > H5S_MAX_RANK) {
			ks_fail(err, "%s: unreadable dataspace", path);
			goto done;
		}
		if (r > KS_MAX_RANK) {
			ks_fail(err, "%s: rank %d exceeds the supported maximum %d", path, r, KS_MAX_RANK);
			goto done;
		}
		if (H5Sget_simple_extent_dims(space, hd, NULL) < 0) {
			ks_fail(err, "%s: unreadable dataspace", path);
			goto done;
		}
		for (int i = 0; i < r; i++) {
			if (hd[i] > (hsize_t)INT64_MAX) {
				ks_fail(err, "%s: dimension %d is absurd (%llu)", path, i,
				        (unsigned long long)hd[i]);
				goto done;
			}
			dims[i] = (int64_t)hd[i];
		}
		*rank = r;
		break;
	default:
		ks_fail(err, "%s: unsupported dataspace", path);
		goto done;
	}
	if (!ks_numel(dims, *rank, &numel) || numel > INT64_MAX / 16) {
		ks_fail(err, "%s: dimensions overflow", path);
		goto done;
	}
	*dtype = ks_h5_dtype_of(type);
	rc = 0;
done:
	if (type >= 0)
		H5Tclose(type);
	if (space >= 0)
		H5Sclose(space);
	H5Dclose(d);
	return rc;
}

bool ks_h5_plain_f32(hid_t f, const char *path, int64_t numel, int *fd,
                     const unsigned char **image, int64_t *offset)
{
	hid_t d, t = H5I_INVALID_HID, dcpl = H5I_INVALID_HID, fapl = H5I_INVALID_HID, drv;
	haddr_t addr;
	hsize_t fsize = 0;
	void *handle = NULL;
	bool ok = false;

	if (numel <= 0 || numel > INT64_MAX / 4)
		return false;
	ks_quiet_hdf5();
	d = H5Dopen2(f, path, H5P_DEFAULT);
	if (d < 0)
		return false;
	t = H5Dget_type(d);
	dcpl = H5Dget_create_plist(d);
	fapl = H5Fget_access_plist(f);
	if (t < 0 || dcpl < 0 || fapl < 0 || H5Tequal(t, H5T_NATIVE_FLOAT) <= 0 ||
	    H5Pget_layout(dcpl) != H5D_CONTIGUOUS || H5Pget_external_count(dcpl) != 0 ||
	    H5Dget_storage_size(d) != (hsize_t)numel * 4)
		goto out;
	addr = H5Dget_offset(d);
	if (addr == HADDR_UNDEF || H5Fget_filesize(f, &fsize) < 0 || addr > fsize ||
	    (hsize_t)numel * 4 > fsize - addr || addr > (haddr_t)INT64_MAX)
		goto out;
	drv = H5Pget_driver(fapl);
	if (H5Fget_vfd_handle(f, fapl, &handle) < 0 || !handle)
		goto out;
	if (drv == H5FD_SEC2) {
		/* the run must lie inside the file as it is now, not only as
		 * HDF5 believes (a file truncated since it was opened) */
		struct stat sb;
		int h = *(int *)handle;
		if (fstat(h, &sb) < 0 || (uint64_t)sb.st_size < addr + (hsize_t)numel * 4)
			goto out;
		*fd = h;
		*image = NULL;
	} else if (drv == H5FD_CORE) {
		/* the core driver's handle is its buffer pointer; the size was
		 * checked against the file's (the image's) size above */
		*fd = -1;
		*image = *(const unsigned char **)handle;
		if (!*image)
			goto out;
	} else {
		goto out;
	}
	*offset = (int64_t)addr;
	ok = true;
out:
	if (fapl >= 0)
		H5Pclose(fapl);
	if (dcpl >= 0)
		H5Pclose(dcpl);
	if (t >= 0)
		H5Tclose(t);
	H5Dclose(d);
	return ok;
}

int ks_h5_read_f32(hid_t loc, const char *path, float *dst, int64_t numel, ks_err *err)
{
	int rank;
	int64_t dims[KS_MAX_RANK], have;
	ks_dtype dt;
	hid_t d;
	herr_t st;
	char why[200];

	if (ks_h5_dataset_info(loc, path, &rank, dims, &dt, err) < 0)
		return -1;
	if (!ks_numel(dims, rank, &have) || have != numel)
		return ks_fail(err, "%s: holds %lld values, expected %lld", path, (long long)have,
		               (long long)numel);
	if (dt == KS_DT_STRING || dt == KS_DT_OTHER || dt == KS_DT_UNKNOWN)
		return ks_fail(err, "%s: not numeric data", path);
	if (numel == 0)
		return 0;
	d = H5Dopen2(loc, path, H5P_DEFAULT);
	if (d < 0)
		return ks_fail(err, "%s: cannot open dataset", path);
	if (dt == KS_DT_BOOL) {
		/* HDF5 does not convert enums to floats: read the stored bytes. */
		hid_t ft = H5Dget_type(d);
		size_t es = ft >= 0 ? H5Tget_size(ft) : 0, bytes;
		unsigned char *tmp = NULL;
		st = -1;
		if (es > 0 && es <= 8 && ks_size_mul((size_t)numel, es, &bytes))
			tmp = malloc(bytes);
		if (tmp) {
			st = H5Dread(d, ft, H5S_ALL, H5S_ALL, H5P_DEFAULT, tmp);
			for (int64_t i = 0; st >= 0 && i < numel; i++) {
				bool nz = false;
				for (size_t k = 0; k < es; k++)
					nz |= tmp[(size_t)i * es + k] != 0;
				dst[i] = nz ? 1.0f : 0.0f;
			}
		}
		free(tmp);
		if (ft >= 0)
			H5Tclose(ft);
	} else {
		st = H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, dst);
	}
	H5Dclose(d);
	if (st < 0) {
		h5_reason(why);
		return ks_fail(err, "%s: read failed%s%s", path, why[0] ? ": " : "", why);
	}
	return 0;
}

/* ---- iteration -------------------------------------------------------- */

static int natural_cmp(const char *a, const char *b)
{
	while (*a && *b) {
		if (*a >= '0' && *a <= '9' && *b >= '0' && *b <= '9') {
			const char *sa, *sb;
			size_t la, lb;
			while (*a == '0' && a[1] >= '0' && a[1] <= '9')
				a++;
			while (*b == '0' && b[1] >= '0' && b[1] <= '9')
				b++;
			sa = a;
			sb = b;
			while (*a >= '0' && *a <= '9')
				a++;
			while (*b >= '0' && *b <= '9')
				b++;
			la = (size_t)(a - sa);
			lb = (size_t)(b - sb);
			if (la != lb)
				return la < lb ? -1 : 1;
			int c = memcmp(sa, sb, la);
			if (c)
				return c;
		} else {
			if (*a != *b)
				return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
			a++;
			b++;
		}
	}
	return (unsigned char)*a - (unsigned char)*b;
}

static int natural_qcmp(const void *x, const void *y)
{
	int c = natural_cmp(*(char *const *)x, *(char *const *)y);
	return c ? c : strcmp(*(char *const *)x, *(char *const *)y);
}

typedef struct namelist {
	char **v;
	int n, cap;
} namelist;

static herr_t link_cb(hid_t g, const char *name, const H5L_info_t *info, void *ud)
{
	namelist *acc = ud;
	(void)g;
	(void)info;
	if (acc->n >= MAX_LINKS)
		return 1;
	if (acc->n == acc->cap) {
		acc->cap = acc->cap ? acc->cap * 2 : 16;
		acc->v = ks_xrealloc(acc->v, (size_t)acc->cap * sizeof *acc->v);
	}
	acc->v[acc->n++] = ks_xstrdup(name);
	return 0;
}

int ks_h5_links(hid_t loc, const char *group_path, ks_h5_order order, char ***out, int *n,
                ks_err *err)
{
	const char *p = objpath(group_path);
	namelist acc = {0};
	H5_index_t idx_type = H5_INDEX_NAME;
	hsize_t idx = 0;
	hid_t g;

	*out = NULL;
	*n = 0;
	if (ks_h5_kind_of(loc, p) != KS_H5_GROUP)
		return ks_fail(err, "%s: no such group", p);
	g = H5Gopen2(loc, p, H5P_DEFAULT);
	if (g < 0)
		return ks_fail(err, "%s: cannot open group", p);
	if (order == KS_H5_ORDER_CREATION) {
		hid_t gcpl = H5Gget_create_plist(g);
		unsigned flags = 0;
		if (gcpl >= 0 && H5Pget_link_creation_order(gcpl, &flags) >= 0 &&
		    (flags & H5P_CRT_ORDER_INDEXED))
			idx_type = H5_INDEX_CRT_ORDER;
		if (gcpl >= 0)
			H5Pclose(gcpl);
	}
	if (H5Literate(g, idx_type, H5_ITER_INC, &idx, link_cb, &acc) < 0) {
		H5Gclose(g);
		ks_h5_strv_free(acc.v, acc.n);
		return ks_fail(err, "%s: cannot list group (damaged?)", p);
	}
	H5Gclose(g);
	if (order == KS_H5_ORDER_NATURAL && acc.n > 1)
		ks_qsort(acc.v, (size_t)acc.n, sizeof *acc.v, natural_qcmp);
	*out = acc.v;
	*n = acc.n;
	return 0;
}

typedef struct visitor {
	ks_h5_visit_cb cb;
	void *ud;
	ks_err *err;
	haddr_t *seen;
	int n_seen, cap_seen;
} visitor;

static bool seen_before(visitor *vs, haddr_t addr)
{
	for (int i = 0; i < vs->n_seen; i++)
		if (vs->seen[i] == addr)
			return true;
	if (vs->n_seen == vs->cap_seen) {
		vs->cap_seen = vs->cap_seen ? vs->cap_seen * 2 : 64;
		vs->seen = ks_xrealloc(vs->seen, (size_t)vs->cap_seen * sizeof *vs->seen);
	}
	vs->seen[vs->n_seen++] = addr;
	return false;
}

static int visit_group(visitor *vs, hid_t loc, const char *gpath, int depth)
{
	char **names;
	int n, rc = 0;
	hid_t g;

	if (depth >= MAX_VISIT_DEPTH)
		return 0;
	if (ks_h5_links(loc, gpath, KS_H5_ORDER_NATURAL, &names, &n, vs->err) < 0)
		return -1;
	/* Children are looked up relative to the open group: root-relative
	 * lookups get slow in groups of thousands of links. */
	g = H5Gopen2(loc, gpath, H5P_DEFAULT);
	if (g < 0) {
		ks_h5_strv_free(names, n);
		return ks_fail(vs->err, "%s: cannot open group", gpath);
	}
	for (int i = 0; i < n && rc == 0; i++) {
		bool root = strcmp(gpath, "/") == 0;
		char *path = ks_xasprintf("%s/%s", root ? "" : gpath, names[i]);
		const char *rel = names[i];
		ks_h5_item it;
		H5L_info_t li;
		H5O_info_t oi;
		int r;

		memset(&it, 0, sizeof it);
		it.path = path;
		it.name = names[i];
		it.depth = depth;
		if (H5Lget_info(g, rel, &li, H5P_DEFAULT) < 0 || li.type != H5L_TYPE_HARD) {
			it.is_link_only = true;
			r = vs->cb(&it, vs->ud, vs->err);
			free(path);
			if (r < 0)
				rc = -1;
			continue;
		}
		if (H5Oget_info_by_name2(g, rel, &oi, H5O_INFO_BASIC | H5O_INFO_NUM_ATTRS,
		                         H5P_DEFAULT) < 0) {
			it.kind = KS_H5_NONE;
			r = vs->cb(&it, vs->ud, vs->err);
			free(path);
			if (r < 0)
				rc = -1;
			continue;
		}
		it.n_attrs = (int)(oi.num_attrs > INT32_MAX ? INT32_MAX : oi.num_attrs);
		if (oi.type == H5O_TYPE_GROUP) {
			bool again = seen_before(vs, oi.addr);
			it.kind = KS_H5_GROUP;
			r = vs->cb(&it, vs->ud, vs->err);
			if (r < 0)
				rc = -1;
			else if (r == 0 && !again)
				rc = visit_group(vs, loc, path, depth + 1);
		} else if (oi.type == H5O_TYPE_DATASET) {
			it.kind = KS_H5_DATASET;
			if (ks_h5_dataset_info(g, rel, &it.rank, it.dims, &it.dtype, NULL) < 0) {
				it.rank = 0;
				it.dtype = KS_DT_UNKNOWN;
			}
			if (vs->cb(&it, vs->ud, vs->err) < 0)
				rc = -1;
		} else {
			it.kind = KS_H5_OTHER;
			if (vs->cb(&it, vs->ud, vs->err) < 0)
				rc = -1;
		}
		free(path);
	}
	H5Gclose(g);
	ks_h5_strv_free(names, n);
	return rc;
}

int ks_h5_visit(hid_t loc, const char *start, ks_h5_visit_cb cb, void *ud, ks_err *err)
{
	visitor vs = {.cb = cb, .ud = ud, .err = err};
	char *gpath;
	size_t len;
	int rc;

	if (!start || !start[0] || strcmp(start, ".") == 0)
		start = "/";
	gpath = ks_xstrdup(start);
	len = strlen(gpath);
	while (len > 1 && gpath[len - 1] == '/')
		gpath[--len] = '\0';
	rc = visit_group(&vs, loc, gpath, 0);
	free(vs.seen);
	free(gpath);
	return rc;
}
