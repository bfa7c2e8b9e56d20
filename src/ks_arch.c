#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ks_arch.h"
#include "ks_h5.h"
#include "ks_legacy.h"
#include "ks_util.h"
#include "ks_zip.h"

static const char *json_kind(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT: return "a JSON object";
	case JSON_ARRAY: return "a JSON array";
	case JSON_STRING: return "a JSON string";
	case JSON_INTEGER: case JSON_REAL: return "a JSON number";
	case JSON_TRUE: case JSON_FALSE: return "a JSON boolean";
	case JSON_NULL: return "JSON null";
	}
	return "JSON";
}

json_t *ks_arch_check(const json_t *doc, const char *what, ks_err *err)
{
	json_t *j = json_incref((json_t *)doc);

	for (int wrap = 0; j && json_is_string(j); wrap++) {
		/* json.dump(model.to_json(), f): the architecture is the string. */
		json_t *inner;
		if (wrap == KS_ARCH_MAX_WRAP) {
			json_decref(j);
			ks_fail(err, "%s: not a Keras model architecture (a JSON string wrapped more than %d times)",
			        what, KS_ARCH_MAX_WRAP);
			return NULL;
		}
		char *label = ks_xasprintf("%s (the JSON string's content)", what);
		inner = ks_json_parse(json_string_value(j), json_string_length(j), label, err);
		free(label);
		json_decref(j);
		if (!inner)
			return NULL;
		j = inner;
	}
	if (!j) {
		ks_fail(err, "%s: no architecture", what);
		return NULL;
	}
	if (!json_is_object(j) || !json_is_string(json_object_get(j, "class_name"))) {
		ks_fail(err, "%s: not a Keras model architecture (%s without a class_name)", what,
		        json_kind(j));
		json_decref(j);
		return NULL;
	}
	return j;
}

/* Reads a whole regular file of at most KS_ARCH_MAX_BYTES opened as fd. */
static int read_small_file(int fd, const char *path, const struct stat *st, char **text,
                           size_t *len, ks_err *err)
{
	size_t size = (size_t)st->st_size, got = 0;
	char *buf;

	if ((uint64_t)st->st_size > KS_ARCH_MAX_BYTES)
		return ks_fail(err, "%s: %lld bytes is too large for a model architecture", path,
		               (long long)st->st_size);
	if (size == 0)
		return ks_fail(err, "%s: empty file", path);
	buf = ks_xmalloc(size + 1);
	while (got < size) {
		ssize_t r = pread(fd, buf + got, size - got, (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(buf);
			return ks_fail(err, "%s: read error%s%s", path, r < 0 ? ": " : " (file shrank)",
			               r < 0 ? strerror(errno) : "");
		}
		got += (size_t)r;
	}
	buf[size] = '\0';
	*text = buf;
	*len = size;
	return 0;
}

static int text_from_zip(const char *path, char **text, size_t *len, ks_err *err)
{
	ks_zip *z = ks_zip_open(path, err);
	void *buf;
	int rc;

	if (!z)
		return -1;
	if (!ks_zip_has(z, "config.json")) {
		ks_zip_close(z);
		return ks_fail(err, "%s: a zip archive without config.json holds no model architecture",
		               path);
	}
	rc = ks_zip_read(z, "config.json", KS_ARCH_MAX_BYTES, &buf, len, err);
	ks_zip_close(z);
	if (rc == 0)
		*text = buf;
	return rc;
}

/* Through ks_model_open, so that a damaged file meets the crash probe
 * before libhdf5 reads its attributes. */
static int text_from_h5(const char *path, char **text, size_t *len, ks_err *err)
{
	ks_model *m = ks_model_open(path, NULL, err);
	char *t = NULL;
	ks_err e;
	int rc = -1;

	if (!m)
		return -1;
	if (m->format != KS_FMT_LEGACY_H5 || m->file < 0) {
		ks_fail(err, "%s: holds no model architecture (%s)", path,
		        m->format == KS_FMT_PLAIN_H5 ? "not a Keras model file" : "a weights-only file");
	} else if (ks_h5_attr_str(m->file, ".", "model_config", &t, &e) < 0) {
		ks_fail(err, "%s: %s", path, e.msg);
	} else if (!t) {
		ks_fail(err, "%s: holds no model architecture (no model_config attribute)", path);
	} else {
		*text = t;
		*len = strlen(t);
		rc = 0;
	}
	ks_model_free(m);
	return rc;
}

int ks_arch_read_text(const char *path, char **text, size_t *len, ks_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK); /* a FIFO must not block */
	unsigned char head[4] = {0};
	struct stat st;
	ssize_t got;
	int rc;

	*text = NULL;
	*len = 0;
	if (fd < 0)
		return ks_fail(err, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		bool dir = S_ISDIR(st.st_mode);
		close(fd);
		return ks_fail(err, "%s: %s", path, dir ? "is a directory" : "not a regular file");
	}
	got = pread(fd, head, sizeof head, 0);
	if (got == 4 && head[0] == 'P' && head[1] == 'K' &&
	    ((head[2] == 3 && head[3] == 4) || (head[2] == 5 && head[3] == 6))) {
		close(fd);
		return text_from_zip(path, text, len, err);
	}
	if (got > 0 && ks_h5_sniff(path) >= 0) {
		close(fd);
		return text_from_h5(path, text, len, err);
	}
	rc = read_small_file(fd, path, &st, text, len, err);
	close(fd);
	return rc;
}

json_t *ks_arch_parse(const char *text, size_t len, const char *what, ks_err *err)
{
	json_t *doc = ks_json_parse(text, len, what, err), *arch;

	if (!doc)
		return NULL;
	arch = ks_arch_check(doc, what, err);
	json_decref(doc);
	return arch;
}

json_t *ks_arch_read(const char *path, ks_err *err)
{
	char *text;
	size_t len;
	json_t *arch;

	if (ks_arch_read_text(path, &text, &len, err) < 0)
		return NULL;
	arch = ks_arch_parse(text, len, path, err);
	free(text);
	return arch;
}

/* ---- pretty ------------------------------------------------------------ */

typedef struct obuf {
	char *p;
	size_t n, cap;
} obuf;

static void put(obuf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->p = ks_xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void newline(obuf *b, int depth)
{
	put(b, "\n", 1);
	for (int i = 0; i < depth; i++)
		put(b, "  ", 2);
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* text is valid JSON (checked by the caller): only its layout changes. */
static char *reindent(const char *t, size_t len)
{
	obuf b = {0};
	int depth = 0;

	put(&b, "", 0);
	for (size_t i = 0; i < len; i++) {
		char c = t[i];
		if (is_ws(c))
			continue;
		if (c == '"') {
			size_t j = i + 1;
			while (j < len && t[j] != '"')
				j += t[j] == '\\' ? 2 : 1;
			j = j < len ? j : len - 1;
			put(&b, t + i, j - i + 1);
			i = j;
		} else if (c == '{' || c == '[') {
			size_t j = i + 1;
			while (j < len && is_ws(t[j]))
				j++;
			put(&b, &c, 1);
			if (j < len && (t[j] == '}' || t[j] == ']')) {
				put(&b, t + j, 1); /* {} and [] stay on one line */
				i = j;
			} else {
				newline(&b, ++depth);
			}
		} else if (c == '}' || c == ']') {
			newline(&b, --depth);
			put(&b, &c, 1);
		} else if (c == ',') {
			put(&b, ",", 1);
			newline(&b, depth);
		} else if (c == ':') {
			put(&b, ": ", 2);
		} else {
			put(&b, &c, 1);
		}
	}
	return b.p;
}

char *ks_arch_pretty(const char *text, size_t len, const char *what, ks_err *err)
{
	json_t *doc = ks_json_parse(text, len, what, err), *arch;
	char *out;

	if (!doc)
		return NULL;
	arch = ks_arch_check(doc, what, err);
	if (!arch) {
		json_decref(doc);
		return NULL;
	}
	json_decref(arch);
	/* Unwrap: the innermost string's content is the architecture's text. */
	while (json_is_string(doc)) {
		json_t *inner = ks_json_parse(json_string_value(doc), json_string_length(doc), what, err);
		if (!json_is_string(inner)) {
			out = reindent(json_string_value(doc), json_string_length(doc));
			json_decref(inner);
			json_decref(doc);
			return out;
		}
		json_decref(doc);
		doc = inner;
	}
	json_decref(doc);
	return reindent(text, len);
}

const char *ks_arch_source_name(const ks_open_opts *opts)
{
	if (opts && !opts->config && opts->config_path)
		return opts->config_path;
	return "the given architecture";
}

int ks_arch_from_opts(const ks_open_opts *opts, json_t **out, ks_err *err)
{
	*out = NULL;
	if (!opts)
		return 0;
	if (opts->config)
		*out = ks_arch_check(opts->config, ks_arch_source_name(opts), err);
	else if (opts->config_path)
		*out = ks_arch_read(opts->config_path, err);
	else
		return 0;
	return *out ? 0 : -1;
}
