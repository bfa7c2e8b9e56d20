/* ks_input: .npy / CSV / literal inputs and generated inputs (see ks_input.h). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ks_h5.h"
#include "ks_input.h"
#include "ks_plan.h"
#include "ks_util.h"

/* Text inputs larger than this are refused (use .npy for big data). */
#define TEXT_MAX_BYTES ((size_t)512 << 20)

/* ---- growable float vector ---- */

typedef struct fvec {
	float *v;
	size_t n, cap;
} fvec;

static void fpush(fvec *f, float x)
{
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 64;
		f->v = ks_xrealloc(f->v, f->cap * sizeof(float));
	}
	f->v[f->n++] = x;
}

/* ---- literal ---- */

typedef struct lit {
	const char *s;
	fvec vals;
	int rank;                  /* leaf depth once known, else -1 */
	int64_t shape[KS_MAX_RANK];
	bool seen[KS_MAX_RANK];
} lit;

static void skip_ws(const char **s)
{
	while (isspace((unsigned char)**s))
		(*s)++;
}

static int parse_number(const char **s, float *out)
{
	char *end;
	errno = 0;
	double d = strtod(*s, &end);
	if (end == *s)
		return -1;
	/* strtod accepts "infinity", hex floats etc.; refuse words other than
	 * nan/inf spelled plainly, so "True" or "None" fail clearly. */
	for (const char *p = *s; p < end; p++)
		if (isalpha((unsigned char)*p) && !strchr("eEnNaAiIfF", *p))
			return -1;
	*out = (float)d;
	*s = end;
	return 0;
}

static int lit_value(lit *L, int depth, ks_err *err)
{
	skip_ws(&L->s);
	char open = *L->s;
	if (open == '[' || open == '(') {
		char close = open == '[' ? ']' : ')';
		int64_t count = 0;
		if (depth >= KS_MAX_RANK)
			return ks_fail(err, "input literal is nested more than %d deep", KS_MAX_RANK);
		if (L->rank >= 0 && depth >= L->rank)
			return ks_fail(err, "input literal is ragged (a list where a number was expected)");
		L->s++;
		skip_ws(&L->s);
		while (*L->s != close) {
			if (lit_value(L, depth + 1, err) < 0)
				return -1;
			count++;
			skip_ws(&L->s);
			if (*L->s == ',') {
				L->s++;
				skip_ws(&L->s);
			} else if (*L->s != close) {
				return ks_fail(err, "input literal: expected ',' or '%c' near \"%.12s\"", close, L->s);
			}
		}
		L->s++;
		if (count == 0) {
			if (L->rank < 0)
				L->rank = depth + 1;
			else if (L->rank != depth + 1)
				return ks_fail(err, "input literal is ragged (an empty list among values)");
		}
		if (!L->seen[depth]) {
			L->seen[depth] = true;
			L->shape[depth] = count;
		} else if (L->shape[depth] != count) {
			return ks_fail(err, "input literal is ragged: lists of length %lld and %lld at depth %d",
			               (long long)L->shape[depth], (long long)count, depth + 1);
		}
		return 0;
	}
	float x;
	if (parse_number(&L->s, &x) < 0)
		return ks_fail(err, "input literal: expected a number near \"%.12s\"", L->s);
	if (L->rank < 0)
		L->rank = depth;
	else if (L->rank != depth)
		return ks_fail(err, "input literal is ragged (a number where a list was expected)");
	fpush(&L->vals, x);
	return 0;
}

int ks_input_parse_literal(const char *text, ks_array *out, ks_err *err)
{
	lit L;
	memset(&L, 0, sizeof L);
	memset(out, 0, sizeof *out);
	L.s = text;
	L.rank = -1;
	if (lit_value(&L, 0, err) < 0) {
		free(L.vals.v);
		return -1;
	}
	skip_ws(&L.s);
	if (*L.s) {
		free(L.vals.v);
		return ks_fail(err, "input literal: unexpected text after the value: \"%.12s\"", L.s);
	}
	out->rank = L.rank;
	for (int i = 0; i < L.rank; i++)
		out->shape[i] = L.shape[i];
	out->data = L.vals.v ? L.vals.v : ks_xmalloc(sizeof(float));
	out->src_dtype = KS_DT_F32;
	return 0;
}

/* ---- CSV ---- */

static bool is_sep(char c)
{
	return c == ',' || c == ';' || c == '\t' || c == ' ' || c == '\r';
}

int ks_input_parse_csv(const char *text, size_t len, const char *name, ks_array *out, ks_err *err)
{
	fvec vals = {0};
	int64_t rows = 0, cols = -1;
	size_t line_no = 0;
	const char *p = text, *end = text + len;

	memset(out, 0, sizeof *out);
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		line_no++;
		/* a copy of the line, NUL-terminated, for strtod */
		char *line = ks_xstrndup(p, (size_t)(eol - p));
		const char *q = line;
		int64_t n = 0;
		size_t start = vals.n;
		bool header = false;

		while (*q) {
			while (*q && is_sep(*q))
				q++;
			if (!*q)
				break;
			float x;
			const char *tok = q;
			if (parse_number(&q, &x) < 0 || (*q && !is_sep(*q))) {
				if (rows == 0 && n == 0 && line_no == 1) {
					header = true;
					break;
				}
				size_t tl = strcspn(tok, ",; \t\r");
				int show = tl > 24 ? 24 : (int)tl;
				ks_fail(err, "%s: line %zu: '%.*s' is not a number", name, line_no, show, tok);
				free(line);
				free(vals.v);
				return -1;
			}
			fpush(&vals, x);
			n++;
		}
		free(line);
		p = eol < end ? eol + 1 : end;
		if (header || n == 0) {
			vals.n = start;
			continue;
		}
		if (cols >= 0 && n != cols) {
			free(vals.v);
			return ks_fail(err, "%s: line %zu has %lld values but earlier rows have %lld", name,
			               line_no, (long long)n, (long long)cols);
		}
		cols = n;
		rows++;
	}
	if (rows == 0) {
		free(vals.v);
		return ks_fail(err, "%s: no numeric rows", name);
	}
	out->rank = 2;
	out->shape[0] = rows;
	out->shape[1] = cols;
	out->data = vals.v;
	out->src_dtype = KS_DT_F32;
	return 0;
}

/* ---- files ---- */

static int read_text(const char *path, char **buf, size_t *len, ks_err *err)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	if (!f)
		return ks_fail(err, "%s: %s", path, strerror(errno));
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > TEXT_MAX_BYTES) {
		fclose(f);
		return ks_fail(err, "%s: not a regular file of reasonable size", path);
	}
	*buf = ks_xmalloc((size_t)st.st_size + 1);
	*len = fread(*buf, 1, (size_t)st.st_size, f);
	(*buf)[*len] = '\0';
	fclose(f);
	if (memchr(*buf, '\0', *len)) {
		free(*buf);
		*buf = NULL;
		return ks_fail(err, "%s: neither a .npy file nor text", path);
	}
	return 0;
}

/* ---- HDF5 datasets ---- */

/* "FILE:/path" where FILE exists and is HDF5: the split point, else NULL. */
static const char *h5_split(const char *spec)
{
	struct stat st;
	for (const char *c = strrchr(spec, ':'); c; ) {
		char *file = ks_xstrndup(spec, (size_t)(c - spec));
		bool ok = stat(file, &st) == 0 && S_ISREG(st.st_mode) && ks_h5_sniff(file) >= 0;
		free(file);
		if (ok)
			return c;
		/* a dataset path may itself hold ':' ("dense/kernel:0"): try earlier colons */
		const char *prev = NULL;
		for (const char *q = spec; q < c; q++)
			if (*q == ':')
				prev = q;
		c = prev;
	}
	return NULL;
}

static int load_h5(const char *spec, const char *colon, ks_array *out, ks_err *err)
{
	char *file = ks_xstrndup(spec, (size_t)(colon - spec));
	const char *path = colon + 1;
	int rank, rc = -1;
	int64_t dims[KS_MAX_RANK], n;
	ks_dtype dt;
	char b[160];
	hid_t f = ks_h5_open_path(file, err);

	if (f == H5I_INVALID_HID)
		goto done;
	if (!*path) {
		ks_fail(err, "%s: name a dataset after the colon, e.g. %s:/x", file, file);
		goto done;
	}
	if (ks_h5_kind_of(f, path) != KS_H5_DATASET) {
		ks_fail(err, "%s: no dataset '%s'", file, path);
		goto done;
	}
	if (ks_h5_dataset_info(f, path, &rank, dims, &dt, err) < 0) {
		ks_err_prefix(err, "%s", file);
		goto done;
	}
	if (dt == KS_DT_STRING || dt == KS_DT_OTHER || dt == KS_DT_UNKNOWN) {
		ks_fail(err, "%s: dataset '%s' is not numeric (%s)", file, path, ks_dtype_name(dt));
		goto done;
	}
	if (!ks_numel(dims, rank, &n) || (uint64_t)n > ((uint64_t)1 << 30)) {
		ks_fail(err, "%s: dataset '%s' of shape %s is too large", file, path,
		        ks_shape_str(dims, rank, b, sizeof b));
		goto done;
	}
	out->data = ks_xmalloc(sizeof(float) * (size_t)(n ? n : 1));
	if (ks_h5_read_f32(f, path, out->data, n, err) < 0) {
		ks_err_prefix(err, "%s", file);
		ks_array_free(out);
		goto done;
	}
	out->rank = rank;
	memcpy(out->shape, dims, sizeof(int64_t) * (size_t)rank);
	out->src_dtype = dt;
	rc = 0;
done:
	if (f != H5I_INVALID_HID)
		H5Fclose(f);
	free(file);
	return rc;
}

int ks_input_load(const char *spec, ks_array *out, ks_input_kind *kind, ks_err *err)
{
	struct stat st;
	ks_input_kind k;
	int rc;
	const char *colon;

	memset(out, 0, sizeof *out);
	if (stat(spec, &st) != 0 && (colon = h5_split(spec)) != NULL) {
		k = KS_INPUT_H5;
		rc = load_h5(spec, colon, out, err);
	} else if (stat(spec, &st) == 0) {
		FILE *f = fopen(spec, "rb");
		unsigned char magic[6] = {0};
		size_t got = 0;
		if (f) {
			got = fread(magic, 1, sizeof magic, f);
			fclose(f);
		}
		if (got == 6 && memcmp(magic, "\x93NUMPY", 6) == 0) {
			k = KS_INPUT_NPY;
			rc = ks_npy_read(spec, out, err);
		} else if (S_ISREG(st.st_mode) && ks_h5_sniff(spec) >= 0) {
			return ks_fail(err, "%s: an HDF5 file: name the dataset to read, as %s:/x", spec, spec);
		} else {
			char *buf = NULL;
			size_t len = 0;
			k = KS_INPUT_CSV;
			if (read_text(spec, &buf, &len, err) < 0)
				return -1;
			rc = ks_input_parse_csv(buf, len, spec, out, err);
			free(buf);
		}
	} else {
		const char *s = spec;
		skip_ws(&s);
		if (!(*s == '[' || *s == '(' || *s == '-' || *s == '+' || *s == '.' ||
		      isdigit((unsigned char)*s)))
			return ks_fail(err, "%s: no such file (and not a literal like [[1, 2, 3]])", spec);
		k = KS_INPUT_LITERAL;
		rc = ks_input_parse_literal(spec, out, err);
	}
	if (kind)
		*kind = k;
	return rc;
}

/* ---- fitting ---- */

int ks_input_fit(ks_array *a, const ks_shape *want, bool allow_reshape, const char *name, ks_err *err)
{
	char w[160], g[160];
	ks_shape orig;

	orig.rank = a->rank;
	memcpy(orig.d, a->shape, sizeof a->shape);
	/* CSV rows first: each row one flattened sample */
	if (allow_reshape && a->rank == 2 && want->rank > 2) {
		int64_t per = 1;
		bool known = true;
		for (int k = 1; k < want->rank; k++) {
			if (want->d[k] < 0)
				known = false;
			else
				per *= want->d[k];
		}
		if (known && per == a->shape[1]) {
			a->rank = want->rank;
			for (int k = 1; k < want->rank; k++)
				a->shape[k] = want->d[k];
		}
	}
	if (a->rank == want->rank - 1 && a->rank < KS_MAX_RANK) {
		memmove(a->shape + 1, a->shape, sizeof(int64_t) * (size_t)a->rank);
		a->shape[0] = 1;
		a->rank++;
	}
	bool ok = a->rank == want->rank && a->rank >= 1;
	for (int k = 1; ok && k < want->rank; k++)
		if (want->d[k] >= 0 && a->shape[k] != want->d[k])
			ok = false;
	if (!ok) {
		a->rank = orig.rank;
		memcpy(a->shape, orig.d, sizeof a->shape);
		return ks_fail(err, "input %s: expected shape %s but got %s", name,
		               ks_shape_str(want->d, want->rank, w, sizeof w),
		               ks_shape_str(orig.d, orig.rank, g, sizeof g));
	}
	if (a->shape[0] < 1)
		return ks_fail(err, "input %s: the batch is empty", name);
	return 0;
}

/* ---- dtypes ---- */

bool ks_input_dtype_is_integer(const char *dt)
{
	return dt && (strncmp(dt, "int", 3) == 0 || strncmp(dt, "uint", 4) == 0 || strcmp(dt, "bool") == 0);
}

int ks_input_check_dtype(const ks_array *a, const char *dtype, const char *name, ks_err *err)
{
	int64_t n = ks_array_numel(a);
	bool is_bool = dtype && strcmp(dtype, "bool") == 0;

	if (!ks_input_dtype_is_integer(dtype))
		return 0;
	for (int64_t k = 0; k < n; k++) {
		float v = a->data[k];
		if (!isfinite(v) || floorf(v) != v || (is_bool && v != 0.0f && v != 1.0f))
			return ks_fail(err, "input %s is %s in the model but value %lld of the data is %g", name,
			               dtype, (long long)k, (double)v);
	}
	return 0;
}

/* ---- generated ---- */

/* splitmix64: tiny, seedable, identical on every platform. */
static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

int ks_input_generate(const ks_shape *shape, int64_t batch, bool random, uint64_t seed, float lo,
                      float hi, bool integers, const char *name, ks_array *out, ks_err *err)
{
	char b[160];
	int64_t n;

	memset(out, 0, sizeof *out);
	if (shape->rank < 1)
		return ks_fail(err, "input %s has no known shape", name);
	out->rank = shape->rank;
	memcpy(out->shape, shape->d, sizeof(int64_t) * (size_t)shape->rank);
	out->shape[0] = batch;
	for (int k = 1; k < shape->rank; k++)
		if (shape->d[k] < 0)
			return ks_fail(err, "input %s has shape %s with an unknown dimension: give the data "
			               "with --input instead", name, ks_shape_str(shape->d, shape->rank, b, sizeof b));
	if (!ks_numel(out->shape, out->rank, &n) || (uint64_t)n > ((uint64_t)1 << 32) ||
	    (uint64_t)n > ks_mem_budget() / sizeof(float))
		return ks_fail(err, "input %s: shape %s is too large (%.3g GB; this machine allows %.1f GB)",
		               name, ks_shape_str(out->shape, out->rank, b, sizeof b),
		               n >= 0 ? (double)n * sizeof(float) / 1e9 : INFINITY,
		               (double)ks_mem_budget() / 1e9);
	out->data = ks_xcalloc((size_t)(n ? n : 1), sizeof(float));
	out->src_dtype = KS_DT_F32;
	if (random) {
		uint64_t s = seed;
		for (int64_t i = 0; i < n; i++) {
			double u = (double)(splitmix(&s) >> 11) * 0x1.0p-53;
			double v = lo + (hi - lo) * u;
			out->data[i] = integers ? (float)floor(v) : (float)v;
		}
	}
	return 0;
}

/* ---- class names ---- */

int ks_input_read_names(const char *path, char ***names, int *n, ks_err *err)
{
	char *buf = NULL;
	size_t len = 0;

	*names = NULL;
	*n = 0;
	if (read_text(path, &buf, &len, err) < 0)
		return -1;
	for (char *p = buf; p < buf + len;) {
		char *eol = memchr(p, '\n', (size_t)(buf + len - p));
		size_t l = eol ? (size_t)(eol - p) : (size_t)(buf + len - p);
		size_t t = l;
		while (t > 0 && (p[t - 1] == '\r'))
			t--;
		/* a trailing empty line is the file's end, not a class */
		if (!(t == 0 && !eol) && !(t == 0 && eol && eol + 1 >= buf + len)) {
			*names = ks_xrealloc(*names, sizeof(char *) * (size_t)(*n + 1));
			(*names)[(*n)++] = ks_xstrndup(p, t);
		}
		p += l + (eol ? 1 : 0);
	}
	free(buf);
	return 0;
}

void ks_input_free_names(char **names, int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* ---- labelled CSV ---- */

/* The separator of a labelled CSV: the first of , ; tab found in the first
 * line, else whitespace (0). */
static char pick_sep(const char *line)
{
	for (const char *c = ",;\t"; *c; c++)
		if (strchr(line, *c))
			return *c;
	return 0;
}

/* Splits line in place into at most max tokens (trimmed, surrounding double
 * quotes removed). Returns the count, or -1 when there are more than max. */
static int split_row(char *line, char sep, char **tok, int max)
{
	int n = 0;
	char *p = line;
	while (*p) {
		if (!sep)
			while (*p == ' ' || *p == '\t' || *p == '\r')
				p++;
		if (!*p && !sep)
			break;
		char *start = p, *end;
		if (sep) {
			end = strchr(p, sep);
			if (!end)
				end = p + strlen(p);
		} else {
			end = start + strcspn(start, " \t\r");
		}
		bool more = sep && *end == sep;
		char at = *end;
		*end = '\0';
		while (*start == ' ' || *start == '\t')
			start++;
		for (char *q = end; q > start && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\r');)
			*--q = '\0';
		size_t tl = strlen(start);
		if (tl >= 2 && start[0] == '"' && start[tl - 1] == '"') {
			start[tl - 1] = '\0';
			start++;
		}
		if (n >= max)
			return -1;
		tok[n++] = start;
		p = at ? end + 1 : end;
		if (!more && sep)
			break;
		if (more && !*p) {
			if (n >= max)
				return -1;
			tok[n++] = p; /* a trailing separator: one empty last field */
		}
	}
	return n;
}

static bool is_number(const char *s, float *out)
{
	const char *q = s;
	return parse_number(&q, out) == 0 && !*q;
}

#define MAX_COLUMNS 65536
/* A longer line is not a CSV row anyone meant. */
#define MAX_LINE_BYTES ((size_t)64 << 20)

struct ks_labelled {
	FILE *f;
	char *path;
	char *const *names;
	int n_names;
	char sep;
	int cols, lc;            /* columns per row; the label column */
	char *label_col;
	size_t line_no;
	char *line;              /* the current line (grown up to MAX_LINE_BYTES) */
	size_t cap;
	char **tok;
	bool pending;            /* the first data row was read while opening */
	int pending_n;
	int64_t rows;            /* rows returned so far */
};

/* Reads the next non-blank line into r->line and splits it; returns the
 * token count, 0 at the end, -1 on error. */
static int next_row(ks_labelled *r, ks_err *err)
{
	for (;;) {
		/* one line, in chunks, never more than MAX_LINE_BYTES (getline
		 * would hold a hostile file's one endless line whole) */
		size_t len = 0;
		bool eol = false;
		errno = 0;
		while (!eol) {
			if (r->cap - len < 2) {
				if (r->cap >= MAX_LINE_BYTES)
					return ks_fail(err, "%s: line %zu is longer than %zu bytes", r->path, r->line_no + 1,
					               MAX_LINE_BYTES);
				r->cap = r->cap ? 2 * r->cap : 4096;
				r->line = ks_xrealloc(r->line, r->cap);
			}
			size_t got = 0;
			int c = 0;
			/* stdio buffers; the reader is the stream's only user */
			while (len + got + 1 < r->cap && (c = getc_unlocked(r->f)) != EOF) {
				r->line[len + got++] = (char)c;
				if (c == '\n')
					break;
			}
			len += got;
			eol = c == EOF || (got > 0 && r->line[len - 1] == '\n');
		}
		r->line[len] = '\0';
		if (ferror(r->f))
			return ks_fail(err, "%s: %s", r->path, strerror(errno ? errno : EIO));
		if (len == 0)
			return 0;
		r->line_no++;
		if (memchr(r->line, '\0', len))
			return ks_fail(err, "%s: neither a .npy file nor text", r->path);
		if (len > 0 && r->line[len - 1] == '\n')
			r->line[--len] = '\0';
		if (r->line_no == 1)
			r->sep = pick_sep(r->line);
		if (r->line[strspn(r->line, " \t\r")] == '\0')
			continue;
		int n = split_row(r->line, r->sep, r->tok, MAX_COLUMNS);
		if (n < 0)
			return ks_fail(err, "%s: line %zu has more than %d columns", r->path, r->line_no, MAX_COLUMNS);
		return n;
	}
}

void ks_labelled_close(ks_labelled *r)
{
	if (!r)
		return;
	if (r->f)
		fclose(r->f);
	free(r->path);
	free(r->label_col);
	free(r->line);
	free(r->tok);
	free(r);
}

ks_labelled *ks_labelled_open(const char *path, const char *column, char *const *names, int n_names,
                              ks_err *err)
{
	struct stat st;
	ks_labelled *r = ks_xcalloc(1, sizeof *r);
	r->path = ks_xstrdup(path);
	r->names = names;
	r->n_names = n_names;
	r->lc = -1;
	r->f = fopen(path, "rb");
	if (!r->f) {
		ks_fail(err, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (fstat(fileno(r->f), &st) != 0 || !S_ISREG(st.st_mode)) {
		ks_fail(err, "%s: not a regular file", path);
		goto fail;
	}
	r->tok = ks_xmalloc(sizeof(char *) * MAX_COLUMNS);
	int n = next_row(r, err);
	if (n < 0)
		goto fail;
	if (n == 0) {
		ks_fail(err, "%s: no data rows", path);
		goto fail;
	}
	/* the first row settles the label column: a header name, else an index */
	float v;
	bool header = false;
	for (int i = 0; i < n && !header; i++)
		header = !is_number(r->tok[i], &v);
	for (int i = 0; header && i < n && r->lc < 0; i++)
		if (strcmp(r->tok[i], column) == 0)
			r->lc = i;
	if (r->lc >= 0) {
		r->label_col = ks_xstrdup(r->tok[r->lc]);
	} else {
		char *end;
		long idx = strtol(column, &end, 10);
		if (end == column || *end) {
			ks_fail(err, "%s: no column '%s'%s", path, column,
			        header ? " in the header" : " (the file has no header: give a column number)");
			goto fail;
		}
		if (idx < 0)
			idx += n;
		if (idx < 0 || idx >= n) {
			ks_fail(err, "%s: column %s does not exist (rows have %d columns)", path, column, n);
			goto fail;
		}
		r->lc = (int)idx;
		r->label_col = header ? ks_xstrdup(r->tok[r->lc]) : ks_xasprintf("%d", r->lc);
	}
	if (n < 2) {
		ks_fail(err, "%s: only the label column; no features", path);
		goto fail;
	}
	r->cols = n;
	/* without a header the row just read is the first sample */
	r->pending = !header;
	r->pending_n = n;
	return r;
fail:
	ks_labelled_close(r);
	return NULL;
}

int64_t ks_labelled_features(const ks_labelled *r)
{
	return r->cols - 1;
}

const char *ks_labelled_column(const ks_labelled *r)
{
	return r->label_col;
}

int64_t ks_labelled_read(ks_labelled *r, int64_t max, float *x, float *y, ks_err *err)
{
	int64_t got = 0;
	while (got < max) {
		int n;
		if (r->pending) {
			n = r->pending_n;
			r->pending = false;
		} else if ((n = next_row(r, err)) <= 0) {
			if (n < 0)
				return -1;
			break;
		}
		if (n != r->cols)
			return ks_fail(err, "%s: line %zu has %d values but earlier rows have %d", r->path, r->line_no,
			               n, r->cols);
		float *xr = x + got * (r->cols - 1);
		for (int i = 0, k = 0; i < n; i++) {
			float v;
			if (i != r->lc) {
				if (!is_number(r->tok[i], &v))
					return ks_fail(err, "%s: line %zu: '%.24s' is not a number", r->path, r->line_no,
					               r->tok[i]);
				xr[k++] = v;
				continue;
			}
			int id = -1;
			for (int j = 0; j < r->n_names && id < 0; j++)
				if (strcmp(r->tok[i], r->names[j]) == 0)
					id = j;
			if (id >= 0)
				y[got] = (float)id;
			else if (is_number(r->tok[i], &v))
				y[got] = v;
			else
				return ks_fail(err, r->n_names ? "%s: line %zu: label '%.40s' is not among the class names"
				                               : "%s: line %zu: label '%.40s' is a name: give --labels NAMES.txt "
				                                 "(class names in output order)", r->path, r->line_no, r->tok[i]);
		}
		got++;
	}
	r->rows += got;
	if (got == 0 && r->rows == 0)
		return ks_fail(err, "%s: no data rows", r->path);
	return got;
}

int ks_input_load_labelled(const char *path, const char *column, char *const *names, int n_names,
                           ks_array *x, ks_array *y, char **label_col, ks_err *err)
{
	memset(x, 0, sizeof *x);
	memset(y, 0, sizeof *y);
	*label_col = NULL;
	ks_labelled *r = ks_labelled_open(path, column, names, n_names, err);
	if (!r)
		return -1;
	int64_t F = ks_labelled_features(r), rows = 0, cap = 0, got;
	/* grows by doubling; each step reads as many rows as there is room for */
	do {
		if (rows == cap) {
			cap = cap ? 2 * cap : 1024;
			x->data = ks_xrealloc(x->data, sizeof(float) * (size_t)(cap * F));
			y->data = ks_xrealloc(y->data, sizeof(float) * (size_t)cap);
		}
		got = ks_labelled_read(r, cap - rows, x->data + rows * F, y->data + rows, err);
		rows += got > 0 ? got : 0;
	} while (got > 0);
	if (got < 0) {
		ks_labelled_close(r);
		ks_array_free(x);
		ks_array_free(y);
		return -1;
	}
	*label_col = ks_xstrdup(ks_labelled_column(r));
	ks_labelled_close(r);
	x->rank = 2;
	x->shape[0] = rows;
	x->shape[1] = F;
	x->src_dtype = KS_DT_F32;
	y->rank = 1;
	y->shape[0] = rows;
	y->src_dtype = KS_DT_F32;
	return 0;
}

/* ---- model inputs ---- */

const char *ks_input_name(const ks_model *m, int i)
{
	int li = i >= 0 && i < m->n_inputs ? m->inputs[i].layer : -1;
	return li >= 0 && li < m->n_layers ? m->layers[li].name : "?";
}

/* A string in Keras 1/2, a DTypePolicy object in Keras 3. */
const char *ks_input_dtype(const ks_model *m, int i)
{
	int li = i >= 0 && i < m->n_inputs ? m->inputs[i].layer : -1;
	if (li < 0 || li >= m->n_layers)
		return NULL;
	const json_t *d = json_object_get(m->layers[li].config, "dtype");
	if (json_is_object(d))
		d = json_object_get(json_object_get(d, "config"), "name");
	return json_is_string(d) ? json_string_value(d) : NULL;
}

int64_t ks_input_vocab(const ks_model *m, int i)
{
	int li = i >= 0 && i < m->n_inputs ? m->inputs[i].layer : -1;
	for (int l = 0; li >= 0 && l < m->n_layers; l++) {
		const ks_layer *L = &m->layers[l];
		if (!L->class_name || strcmp(L->class_name, "Embedding") != 0)
			continue;
		for (int n = 0; n < L->n_nodes; n++)
			for (int k = 0; k < L->nodes[n].n_in; k++)
				if (L->nodes[n].in[k].layer == li) {
					json_t *v = json_object_get(L->config, "input_dim");
					return json_is_integer(v) ? json_integer_value(v) : 0;
				}
	}
	return 0;
}

int ks_input_check_for_model(const ks_model *m, int i, ks_array *a, bool allow_reshape, ks_err *err)
{
	ks_shape want;
	ks_err ignored;
	const char *name = ks_input_name(m, i);

	/* without a declared shape the data is taken as given, batch first */
	if (ks_model_input_shape(m, i, &want, &ignored) == 0) {
		if (ks_input_fit(a, &want, allow_reshape, name, err) < 0)
			return -1;
	} else if (a->rank < 1) {
		return ks_fail(err, "input %s: the data needs a batch axis", name);
	}
	if (ks_input_check_dtype(a, ks_input_dtype(m, i), name, err) < 0)
		return -1;
	/* Keras rejects ids outside an Embedding's vocabulary (on CPU); the
	 * kernel would write NaN rows, so say it up front */
	int64_t vocab = ks_input_vocab(m, i), cnt = ks_array_numel(a);
	for (int64_t k = 0; vocab > 0 && k < cnt; k++) {
		float v = a->data[k];
		if (!(v > -1.0f && v < (float)vocab))
			return ks_fail(err, "input %s feeds an Embedding with input_dim %lld, but value %lld "
			               "of the data is %g", name, (long long)vocab, (long long)k, (double)v);
	}
	return 0;
}

int ks_input_for_model(const ks_model *m, const ks_input_req *o, ks_array *arr, const char **src,
                       ks_err *err)
{
	int n = m->n_inputs;

	if (o->n_specs && o->n_specs != n)
		return ks_fail(err, "the model takes %d input%s (%s%s) but %d --input %s given", n,
		               n == 1 ? "" : "s", n > 0 ? ks_input_name(m, 0) : "", n > 1 ? ", ..." : "",
		               o->n_specs, o->n_specs == 1 ? "was" : "were");
	for (int i = 0; i < n; i++) {
		if (o->n_specs) {
			ks_input_kind kind;
			if (ks_input_load(o->specs[i], &arr[i], &kind, err) < 0)
				return -1;
			src[i] = kind == KS_INPUT_NPY ? "npy" : kind == KS_INPUT_CSV ? "csv"
			         : kind == KS_INPUT_H5 ? "hdf5" : "literal";
			if (ks_input_check_for_model(m, i, &arr[i], kind == KS_INPUT_CSV, err) < 0)
				return -1;
			if (i > 0 && arr[i].shape[0] != arr[0].shape[0])
				return ks_fail(err, "inputs have different batch sizes (%lld and %lld)",
				               (long long)arr[0].shape[0], (long long)arr[i].shape[0]);
		} else {
			ks_shape want;
			if (ks_model_input_shape(m, i, &want, err) < 0)
				return -1;
			/* random ids below the vocabulary for Embedding inputs, small
			 * whole numbers for other integer inputs, else uniform [-1, 1) */
			int64_t vocab = o->random ? ks_input_vocab(m, i) : 0;
			bool ints = vocab > 0 || ks_input_dtype_is_integer(ks_input_dtype(m, i));
			float hi = vocab > 0 ? (float)vocab : ints ? 10.0f : 1.0f;
			src[i] = o->random ? "random" : "zeros";
			if (o->shapes_only) {
				memset(&arr[i], 0, sizeof arr[i]);
				arr[i].rank = want.rank;
				memcpy(arr[i].shape, want.d, sizeof(int64_t) * (size_t)want.rank);
				arr[i].shape[0] = o->batch;
				continue;
			}
			if (ks_input_generate(&want, o->batch, o->random, o->seed + (uint64_t)i,
			                      ints ? 0.0f : -1.0f, hi, ints, ks_input_name(m, i), &arr[i],
			                      err) < 0)
				return -1;
		}
	}
	return 0;
}
