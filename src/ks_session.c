/* ks_session: reading, writing and appending session files (ks_session.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ks_digest.h"
#include "ks_h5.h"
#include "ks_session.h"
#include "ks_util.h"

/* ---- small HDF5 helpers -------------------------------------------------- */

/* Reads a scalar (or one-element) integer attribute. Absent: 0 with *found
 * false. Present but not an integer: -1. */
static int attr_int(hid_t loc, const char *obj, const char *name, int64_t *v, bool *found, ks_err *err)
{
	hid_t a = H5I_INVALID_HID, t = H5I_INVALID_HID, sp = H5I_INVALID_HID;
	int rc = -1;

	*found = false;
	if (!ks_h5_has_attr(loc, obj, name))
		return 0;
	a = H5Aopen_by_name(loc, obj, name, H5P_DEFAULT, H5P_DEFAULT);
	if (a < 0)
		return ks_fail(err, "attribute %s of %s: unreadable", name, obj);
	t = H5Aget_type(a);
	sp = H5Aget_space(a);
	if (t < 0 || sp < 0 || H5Tget_class(t) != H5T_INTEGER || H5Sget_simple_extent_npoints(sp) != 1) {
		ks_fail(err, "attribute %s of %s: not an integer", name, obj);
		goto done;
	}
	long long x;
	if (H5Aread(a, H5T_NATIVE_LLONG, &x) < 0) {
		ks_fail(err, "attribute %s of %s: unreadable", name, obj);
		goto done;
	}
	*v = x;
	*found = true;
	rc = 0;
done:
	if (sp >= 0)
		H5Sclose(sp);
	if (t >= 0)
		H5Tclose(t);
	H5Aclose(a);
	return rc;
}

static int put_attr_str(hid_t obj, const char *name, const char *v)
{
	if (!v)
		return 0;
	hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR);
	H5Tset_size(t, H5T_VARIABLE);
	H5Tset_cset(t, H5T_CSET_UTF8);
	hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
	int rc = a >= 0 && H5Awrite(a, t, &v) >= 0 ? 0 : -1;
	if (a >= 0)
		H5Aclose(a);
	H5Sclose(sp);
	H5Tclose(t);
	return rc;
}

static int put_attr_strv(hid_t obj, const char *name, char *const *v, int n)
{
	hsize_t d = (hsize_t)n;
	hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate_simple(1, &d, NULL);
	H5Tset_size(t, H5T_VARIABLE);
	H5Tset_cset(t, H5T_CSET_UTF8);
	hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
	int rc = a >= 0 && H5Awrite(a, t, v) >= 0 ? 0 : -1;
	if (a >= 0)
		H5Aclose(a);
	H5Sclose(sp);
	H5Tclose(t);
	return rc;
}

static int put_attr_int(hid_t obj, const char *name, int64_t v)
{
	long long x = v;
	hid_t sp = H5Screate(H5S_SCALAR);
	hid_t a = H5Acreate2(obj, name, H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
	int rc = a >= 0 && H5Awrite(a, H5T_NATIVE_LLONG, &x) >= 0 ? 0 : -1;
	if (a >= 0)
		H5Aclose(a);
	H5Sclose(sp);
	return rc;
}

/* ---- lifetime --------------------------------------------------------------- */

ks_session *ks_session_new(const char *label)
{
	ks_session *s = ks_xcalloc(1, sizeof *s);
	s->path = ks_xstrdup(label ? label : "(session)");
	s->version = KS_SESSION_VERSION;
	s->model.size = -1;
	s->file = H5I_INVALID_HID;
	return s;
}

static void free_tensors(ks_session_tensor *t, int n)
{
	for (int i = 0; i < n; i++) {
		free(t[i].name);
		free(t[i].source);
		free(t[i].dtype);
		free(t[i].h5_path);
		free(t[i].mem);
	}
	free(t);
}

void ks_session_free(ks_session *s)
{
	if (!s)
		return;
	for (int r = 0; r < s->n_runs; r++) {
		ks_session_run *run = &s->runs[r];
		free(run->until);
		free_tensors(run->inputs, run->n_inputs);
		free_tensors(run->outputs, run->n_outputs);
		free_tensors(run->acts, run->n_acts);
	}
	free(s->runs);
	ks_h5_strv_free(s->labels, s->n_labels);
	ks_session_model *m = &s->model;
	free(m->path);
	free(m->format);
	free(m->keras_version);
	free(m->name);
	free(m->weights_digest);
	free(m->architecture_digest);
	free(s->path);
	free(s->created);
	free(s->kerascope_version);
	free(s->writer);
	if (s->file >= 0)
		H5Fclose(s->file);
	free(s);
}

int64_t ks_session_numel(const ks_session_tensor *t)
{
	int64_t n = 1;
	for (int k = 0; k < t->rank; k++)
		n *= t->shape[k];
	return n;
}

ks_session_run *ks_session_add_run(ks_session *s)
{
	s->runs = ks_xrealloc(s->runs, sizeof *s->runs * (size_t)(s->n_runs + 1));
	ks_session_run *r = &s->runs[s->n_runs++];
	memset(r, 0, sizeof *r);
	return r;
}

ks_session_tensor *ks_session_add_tensor(ks_session_tensor **list, int *n, const char *name,
                                         const float *v, const int64_t *shape, int rank)
{
	*list = ks_xrealloc(*list, sizeof **list * (size_t)(*n + 1));
	ks_session_tensor *t = &(*list)[(*n)++];
	memset(t, 0, sizeof *t);
	t->name = name ? ks_xstrdup(name) : NULL;
	t->rank = rank;
	memcpy(t->shape, shape, sizeof(int64_t) * (size_t)rank);
	int64_t cnt = ks_session_numel(t);
	t->mem = ks_xmalloc(sizeof(float) * (size_t)(cnt > 0 ? cnt : 1));
	if (cnt > 0)
		memcpy(t->mem, v, sizeof(float) * (size_t)cnt);
	return t;
}

/* ---- reading ------------------------------------------------------------------ */

bool ks_session_is_file(hid_t f)
{
	return f >= 0 && ks_h5_has_attr(f, ".", "kerascope_session");
}

bool ks_session_is(const char *path)
{
	if (ks_h5_sniff(path) < 0)
		return false;
	/* through the loader, whose crash probe guards every HDF5 open */
	ks_model *m = ks_model_open(path, NULL, NULL);
	bool yes = m && m->what && ks_str_startswith(m->what, "kerascope session");
	ks_model_free(m);
	return yes;
}

int ks_session_read(const ks_session *s, const ks_session_tensor *t, float *dst, ks_err *err)
{
	int64_t n = ks_session_numel(t);
	if (t->mem) {
		memcpy(dst, t->mem, sizeof(float) * (size_t)n);
		return 0;
	}
	if (s->file < 0 || !t->h5_path)
		return ks_fail(err, "%s: no values for %s", s->path, t->name ? t->name : "tensor");
	if (ks_h5_read_f32(s->file, t->h5_path, dst, n, err) < 0)
		return ks_err_prefix(err, "%s", s->path);
	return 0;
}

int ks_session_read_array(const ks_session *s, const ks_session_tensor *t, ks_array *out, ks_err *err)
{
	memset(out, 0, sizeof *out);
	int64_t n = ks_session_numel(t);
	out->rank = t->rank;
	memcpy(out->shape, t->shape, sizeof out->shape);
	out->src_dtype = KS_DT_F32;
	out->data = ks_xmalloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
	if (ks_session_read(s, t, out->data, err) < 0) {
		ks_array_free(out);
		return -1;
	}
	return 0;
}

static char *opt_str(hid_t f, const char *obj, const char *name, int *rc, ks_err *err)
{
	char *v = NULL;
	if (*rc == 0 && ks_h5_attr_str(f, obj, name, &v, err) < 0)
		*rc = -1;
	return v;
}

static bool is_index(const char *s)
{
	if (!*s)
		return false;
	for (const char *p = s; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

/* Reads the datasets 0..n-1 of group gpath into a tensor list. kind names
 * them in messages ("input"). Absent group: 0 with *n = 0. */
static int read_group(ks_session *s, const char *gpath, const char *kind, ks_session_tensor **list, int *n,
                      ks_err *err)
{
	char **names = NULL;
	int nn = 0, rc = -1;

	*list = NULL;
	*n = 0;
	if (ks_h5_kind_of(s->file, gpath) == KS_H5_NONE)
		return 0;
	if (ks_h5_kind_of(s->file, gpath) != KS_H5_GROUP)
		return ks_fail(err, "%s is not a group", gpath);
	if (ks_h5_links(s->file, gpath, KS_H5_ORDER_NATURAL, &names, &nn, err) < 0)
		return ks_err_prefix(err, "%s", gpath);
	for (int i = 0; i < nn; i++)
		if (!is_index(names[i]) || strtol(names[i], NULL, 10) != i) {
			ks_fail(err, "%s: members must be named 0, 1, 2, ... in order, not '%s'", gpath, names[i]);
			goto done;
		}
	*list = ks_xcalloc((size_t)(nn ? nn : 1), sizeof **list);
	for (int i = 0; i < nn; i++) {
		ks_session_tensor *t = &(*list)[i];
		char *p = ks_xasprintf("%s/%s", gpath, names[i]);
		ks_dtype dt;
		int64_t cnt, v;
		bool found;
		int arc = 0;
		t->h5_path = p;
		*n = i + 1;
		if (ks_h5_kind_of(s->file, p) != KS_H5_DATASET) {
			ks_fail(err, "%s is not a dataset", p);
			goto done;
		}
		if (ks_h5_dataset_info(s->file, p, &t->rank, t->shape, &dt, err) < 0) {
			ks_err_prefix(err, "%s", p);
			goto done;
		}
		if (dt == KS_DT_STRING || dt == KS_DT_OTHER || dt == KS_DT_UNKNOWN) {
			ks_fail(err, "%s: %s %d holds %s, not numbers", p, kind, i,
			        dt == KS_DT_STRING ? "strings" : "an unsupported type");
			goto done;
		}
		if (!ks_numel(t->shape, t->rank, &cnt) || cnt > KS_SESSION_MAX_VALUES) {
			char sh[160];
			ks_fail(err, "%s: %s %d has shape %s, more than the %lld values a session tensor may hold",
			        p, kind, i, ks_shape_str(t->shape, t->rank, sh, sizeof sh),
			        (long long)KS_SESSION_MAX_VALUES);
			goto done;
		}
		t->name = opt_str(s->file, p, strcmp(kind, "activation") == 0 ? "layer" : "name", &arc, err);
		t->source = opt_str(s->file, p, "source", &arc, err);
		t->dtype = opt_str(s->file, p, "dtype", &arc, err);
		if (arc < 0) {
			ks_err_prefix(err, "%s", p);
			goto done;
		}
		if (attr_int(s->file, p, "output", &v, &found, err) < 0)
			goto done;
		t->output = found && v >= 0 && v < 1024 ? (int)v : 0;
		if (!t->dtype && strcmp(kind, "input") == 0)
			t->dtype = ks_xstrdup(ks_dtype_name(dt));
	}
	rc = 0;
done:
	ks_h5_strv_free(names, nn);
	return rc;
}

/* Reads the run whose groups are below prefix ("" or "/runs/3"). */
static int read_run(ks_session *s, const char *prefix, ks_err *err)
{
	ks_session_run *r = ks_session_add_run(s);
	char *g;
	int rc = 0;

	g = ks_xasprintf("%s/inputs", prefix);
	rc = read_group(s, g, "input", &r->inputs, &r->n_inputs, err);
	free(g);
	if (rc == 0) {
		g = ks_xasprintf("%s/outputs", prefix);
		rc = read_group(s, g, "output", &r->outputs, &r->n_outputs, err);
		free(g);
	}
	if (rc == 0) {
		g = ks_xasprintf("%s/activations", prefix);
		rc = read_group(s, g, "activation", &r->acts, &r->n_acts, err);
		free(g);
	}
	if (rc == 0 && ks_h5_attr_str(s->file, *prefix ? prefix : "/", "until", &r->until, err) < 0)
		rc = -1;
	if (rc < 0)
		return -1;
	const char *where = *prefix ? prefix : "the session";
	if (r->n_inputs == 0)
		return ks_fail(err, "%s records no inputs (/inputs/0, ...)", where);
	if (r->n_outputs == 0)
		return ks_fail(err, "%s records no outputs (/outputs/0, ...)", where);
	for (int i = 0; i < r->n_inputs; i++) {
		if (r->inputs[i].rank < 1)
			return ks_fail(err, "%s: input %d is a scalar: inputs need a batch axis", where, i);
		if (r->inputs[i].shape[0] != r->inputs[0].shape[0])
			return ks_fail(err, "%s: inputs 0 and %d have different batch sizes (%lld and %lld)", where,
			               i, (long long)r->inputs[0].shape[0], (long long)r->inputs[i].shape[0]);
	}
	int64_t batch = r->inputs[0].shape[0];
	for (int i = 0; i < r->n_outputs + r->n_acts; i++) {
		const ks_session_tensor *t = i < r->n_outputs ? &r->outputs[i] : &r->acts[i - r->n_outputs];
		if (t->rank < 1 || t->shape[0] != batch)
			return ks_fail(err, "%s: %s has %s but the inputs hold %lld sample%s (batch axis first)",
			               where, t->h5_path, t->rank < 1 ? "no batch axis" : "another batch size",
			               (long long)batch, batch == 1 ? "" : "s");
	}
	return 0;
}

static int read_session(ks_session *s, ks_err *err)
{
	int64_t v;
	bool found;
	int rc = 0;

	if (attr_int(s->file, "/", "kerascope_session", &v, &found, err) < 0)
		return -1;
	if (!found)
		return ks_fail(err, "not a kerascope session (no root attribute kerascope_session)");
	if (v < 1 || v > KS_SESSION_VERSION)
		return ks_fail(err, "session format version %lld is not one this kerascope reads (1..%d)",
		               (long long)v, KS_SESSION_VERSION);
	s->version = (int)v;
	s->created = opt_str(s->file, "/", "created", &rc, err);
	s->kerascope_version = opt_str(s->file, "/", "kerascope_version", &rc, err);
	s->writer = opt_str(s->file, "/", "writer", &rc, err);
	if (rc == 0 && ks_h5_attr_strv(s->file, "/", "labels", &s->labels, &s->n_labels, err) < 0)
		rc = -1;
	if (rc < 0)
		return -1;
	if (ks_h5_kind_of(s->file, "model") == KS_H5_GROUP) {
		ks_session_model *m = &s->model;
		m->path = opt_str(s->file, "model", "path", &rc, err);
		m->format = opt_str(s->file, "model", "format", &rc, err);
		m->keras_version = opt_str(s->file, "model", "keras_version", &rc, err);
		m->name = opt_str(s->file, "model", "name", &rc, err);
		m->weights_digest = opt_str(s->file, "model", "weights_digest", &rc, err);
		m->architecture_digest = opt_str(s->file, "model", "architecture_digest", &rc, err);
		if (rc < 0)
			return ks_err_prefix(err, "/model");
		if (attr_int(s->file, "model", "size", &v, &found, err) < 0)
			return -1;
		m->size = found ? v : -1;
		if (attr_int(s->file, "model", "threads", &v, &found, err) < 0)
			return -1;
		m->threads = found && v > 0 && v < 100000 ? (int)v : 0;
	}
	if (ks_h5_kind_of(s->file, "runs") == KS_H5_GROUP) {
		char **names = NULL;
		int nn = 0;
		if (ks_h5_kind_of(s->file, "inputs") != KS_H5_NONE)
			return ks_fail(err, "holds both /runs and /inputs: one layout or the other");
		if (ks_h5_links(s->file, "runs", KS_H5_ORDER_NATURAL, &names, &nn, err) < 0)
			return ks_err_prefix(err, "/runs");
		for (int i = 0; i < nn && rc == 0; i++) {
			if (!is_index(names[i]) || strtol(names[i], NULL, 10) != i) {
				rc = ks_fail(err, "/runs: members must be named 0, 1, 2, ... in order, not '%s'", names[i]);
				break;
			}
			char *p = ks_xasprintf("/runs/%s", names[i]);
			if (ks_h5_kind_of(s->file, p) != KS_H5_GROUP)
				rc = ks_fail(err, "%s is not a group", p);
			else
				rc = read_run(s, p, err);
			free(p);
		}
		ks_h5_strv_free(names, nn);
		if (rc == 0 && nn == 0)
			rc = ks_fail(err, "/runs is empty: the session records no prediction");
		return rc;
	}
	return read_run(s, "", err);
}

char *ks_session_note(hid_t f, const char *path)
{
	ks_err err;
	char *note;

	if (!ks_session_is_file(f))
		return NULL;
	ks_session *s = ks_session_new(path);
	s->file = H5Freopen(f);
	if (s->file >= 0 && read_session(s, &err) == 0)
		note = ks_session_describe(s);
	else
		note = ks_xasprintf("kerascope session, unreadable: %s", s->file >= 0 ? err.msg : "cannot reopen");
	ks_session_free(s);
	return note;
}

int ks_session_load_model(ks_model *m, const ks_open_opts *opts, ks_err *err)
{
	(void)opts;
	(void)err;
	m->format = KS_FMT_PLAIN_H5;
	m->what = ks_session_note(m->file, m->path);
	return 0;
}

ks_session *ks_session_open(const char *path, ks_err *err)
{
	ks_session *s;

	/* A damaged file can crash libhdf5: the model loader's open runs its
	 * crash probe first, and refuses what is not HDF5 at all. */
	ks_model *probe = ks_model_open(path, NULL, err);
	if (!probe)
		return NULL;
	ks_model_free(probe);
	s = ks_session_new(path);
	s->file = ks_h5_open_path(path, err);
	if (s->file < 0 || read_session(s, err) < 0) {
		if (s->file >= 0)
			ks_err_prefix(err, "%s", path);
		ks_session_free(s);
		return NULL;
	}
	return s;
}

/* ---- identity ------------------------------------------------------------------ */

int ks_session_identify(ks_session *s, const ks_model *m, ks_err *err)
{
	ks_session_model *sm = &s->model;
	char w[KS_DIGEST_HEX], a[KS_DIGEST_HEX];
	struct stat st;

	if (ks_digest_weights(m, w, err) < 0)
		return ks_err_prefix(err, "%s: weights digest", m->path ? m->path : "model");
	ks_digest_architecture(m, a);
	free(sm->path);
	free(sm->format);
	free(sm->keras_version);
	free(sm->name);
	free(sm->weights_digest);
	free(sm->architecture_digest);
	/* absolute, so that replay finds the model from any working directory */
	char *abs = m->path ? realpath(m->path, NULL) : NULL;
	sm->path = abs ? abs : m->path ? ks_xstrdup(m->path) : NULL;
	sm->format = ks_xstrdup(ks_format_name(m->format));
	sm->keras_version = m->keras_version ? ks_xstrdup(m->keras_version) : NULL;
	sm->name = m->name ? ks_xstrdup(m->name) : NULL;
	sm->weights_digest = ks_xstrdup(w);
	sm->architecture_digest = ks_xstrdup(a);
	sm->size = m->path && stat(m->path, &st) == 0 ? (int64_t)st.st_size : -1;
	return 0;
}

/* ---- writing -------------------------------------------------------------------- */

static int write_tensor(hid_t g, int idx, const ks_session *s, const ks_session_tensor *t, bool act,
                        ks_err *err)
{
	char name[24];
	hsize_t d[KS_MAX_RANK];
	int64_t n = ks_session_numel(t);
	int rc = -1;

	snprintf(name, sizeof name, "%d", idx);
	for (int k = 0; k < t->rank; k++)
		d[k] = (hsize_t)t->shape[k];
	hid_t sp = t->rank ? H5Screate_simple(t->rank, d, NULL) : H5Screate(H5S_SCALAR);
	hid_t ds = H5Dcreate2(g, name, H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	float *buf = t->mem;
	if (ds < 0)
		goto done;
	if (!buf) {
		buf = ks_xmalloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
		if (ks_session_read(s, t, buf, err) < 0)
			goto done;
	}
	if (n > 0 && H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
		goto done;
	if (put_attr_str(ds, act ? "layer" : "name", t->name) < 0 || put_attr_str(ds, "source", t->source) < 0 ||
	    put_attr_str(ds, "dtype", t->dtype) < 0 || (act && put_attr_int(ds, "output", t->output) < 0))
		goto done;
	rc = 0;
done:
	if (buf != t->mem)
		free(buf);
	if (ds >= 0)
		H5Dclose(ds);
	H5Sclose(sp);
	return rc;
}

static int write_list(hid_t parent, const char *gname, const ks_session *s, const ks_session_tensor *t,
                      int n, bool act, ks_err *err)
{
	if (n == 0)
		return 0;
	hid_t g = H5Gcreate2(parent, gname, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	int rc = g >= 0 ? 0 : -1;
	for (int i = 0; i < n && rc == 0; i++)
		rc = write_tensor(g, i, s, &t[i], act, err);
	if (g >= 0)
		H5Gclose(g);
	return rc;
}

static int write_run(hid_t where, const ks_session *s, const ks_session_run *r, ks_err *err)
{
	if (write_list(where, "inputs", s, r->inputs, r->n_inputs, false, err) < 0 ||
	    write_list(where, "outputs", s, r->outputs, r->n_outputs, false, err) < 0 ||
	    write_list(where, "activations", s, r->acts, r->n_acts, true, err) < 0 ||
	    put_attr_str(where, "until", r->until) < 0)
		return -1;
	return 0;
}

/* Root attributes and /model. */
static int write_header(hid_t f, const ks_session *s)
{
	const ks_session_model *m = &s->model;

	if (put_attr_int(f, "kerascope_session", KS_SESSION_VERSION) < 0 ||
	    put_attr_str(f, "created", s->created) < 0 ||
	    put_attr_str(f, "kerascope_version", s->kerascope_version) < 0 ||
	    put_attr_str(f, "writer", s->writer) < 0 ||
	    (s->n_labels && put_attr_strv(f, "labels", s->labels, s->n_labels) < 0))
		return -1;
	hid_t g = H5Gcreate2(f, "model", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	if (g < 0)
		return -1;
	int rc = put_attr_str(g, "path", m->path) | put_attr_str(g, "format", m->format) |
	         put_attr_str(g, "keras_version", m->keras_version) | put_attr_str(g, "name", m->name) |
	         put_attr_str(g, "weights_digest", m->weights_digest) |
	         put_attr_str(g, "architecture_digest", m->architecture_digest);
	if (m->size >= 0)
		rc |= put_attr_int(g, "size", m->size);
	if (m->threads > 0)
		rc |= put_attr_int(g, "threads", m->threads);
	H5Gclose(g);
	return rc < 0 ? -1 : 0;
}

static int write_all(hid_t f, const ks_session *s, ks_err *err)
{
	int rc = 0;
	if (write_header(f, s) < 0)
		return -1;
	if (s->n_runs == 1)
		return write_run(f, s, &s->runs[0], err);
	hid_t runs = H5Gcreate2(f, "runs", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	if (runs < 0)
		return -1;
	for (int i = 0; i < s->n_runs && rc == 0; i++) {
		char name[24];
		snprintf(name, sizeof name, "%d", i);
		hid_t rg = H5Gcreate2(runs, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
		rc = rg >= 0 ? write_run(rg, s, &s->runs[i], err) : -1;
		if (rg >= 0)
			H5Gclose(rg);
	}
	H5Gclose(runs);
	return rc;
}

/* Creates path, failing when anything exists there. */
static hid_t create_new(const char *path, ks_err *err)
{
	struct stat st;
	if (lstat(path, &st) == 0) {
		ks_fail(err, "%s: already exists: a session is only ever written to a new file", path);
		return H5I_INVALID_HID;
	}
	errno = 0;
	hid_t f = H5Fcreate(path, H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT);
	if (f < 0)
		ks_fail(err, "%s: cannot create: %s", path, errno ? strerror(errno) : "HDF5 refused");
	return f;
}

int ks_session_write(const ks_session *s, const char *path, ks_err *err)
{
	ks_err_clear(err);
	if (s->n_runs < 1)
		return ks_fail(err, "%s: nothing to record", path);
	hid_t f = create_new(path, err);
	if (f < 0)
		return -1;
	int rc = write_all(f, s, err);
	if (H5Fclose(f) < 0)
		rc = -1;
	if (rc < 0) {
		unlink(path);
		if (!err || !err->msg[0])
			ks_fail(err, "%s: cannot write the session (disk full?)", path);
		else
			ks_err_prefix(err, "%s", path);
	}
	return rc;
}

/* ---- appending (the inspector's :record) ---------------------------------------- */

static int copy_obj(hid_t from, const char *src, hid_t to, const char *dst)
{
	return H5Ocopy(from, src, to, dst, H5P_DEFAULT, H5P_DEFAULT) < 0 ? -1 : 0;
}

/* Copies the runs of src (single-run or /runs layout) to dst's /runs/N... */
static int copy_runs(hid_t src, const ks_session *ss, hid_t dst, ks_err *err)
{
	hsize_t have = 0;
	hid_t runs = ks_h5_kind_of(dst, "runs") == KS_H5_GROUP ? H5Gopen2(dst, "runs", H5P_DEFAULT)
	                                                       : H5Gcreate2(dst, "runs", H5P_DEFAULT,
	                                                                    H5P_DEFAULT, H5P_DEFAULT);
	H5G_info_t info;
	int rc = 0;

	if (runs < 0 || H5Gget_info(runs, &info) < 0) {
		if (runs >= 0)
			H5Gclose(runs);
		return ks_fail(err, "cannot open /runs");
	}
	have = info.nlinks;
	bool multi = ks_h5_kind_of(src, "runs") == KS_H5_GROUP;
	for (int i = 0; i < ss->n_runs && rc == 0; i++) {
		char name[24];
		snprintf(name, sizeof name, "%llu", (unsigned long long)have + (unsigned long long)i);
		if (multi) {
			char *p = ks_xasprintf("/runs/%d", i);
			rc = copy_obj(src, p, runs, name);
			free(p);
			continue;
		}
		hid_t rg = H5Gcreate2(runs, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
		if (rg < 0) {
			rc = -1;
			break;
		}
		static const char *const parts[] = {"inputs", "outputs", "activations"};
		for (int k = 0; k < 3 && rc == 0; k++)
			if (ks_h5_kind_of(src, parts[k]) == KS_H5_GROUP)
				rc = copy_obj(src, parts[k], rg, parts[k]);
		if (rc == 0)
			rc = put_attr_str(rg, "until", ss->runs[i].until);
		H5Gclose(rg);
	}
	H5Gclose(runs);
	return rc < 0 ? ks_fail(err, "cannot copy the runs") : 0;
}

int ks_session_append(const char *to, const char *from, ks_err *err)
{
	ks_session *ss = ks_session_open(from, err);
	hid_t dst = H5I_INVALID_HID;
	bool created = false;
	int rc = -1;

	if (!ss)
		return -1;
	if (access(to, F_OK) != 0) {
		/* the first run: root attributes, model identity, labels */
		dst = create_new(to, err);
		if (dst < 0)
			goto done;
		created = true;
		if (write_header(dst, ss) < 0) {
			ks_fail(err, "%s: cannot write", to);
			goto done;
		}
	} else {
		if (ks_h5_sniff(to) < 0) {
			ks_fail(err, "%s: not a session file", to);
			goto done;
		}
		dst = H5Fopen(to, H5F_ACC_RDWR, H5P_DEFAULT);
		if (dst < 0 || !ks_session_is_file(dst)) {
			ks_fail(err, "%s: not a session file: kerascope only appends to its own sessions", to);
			goto done;
		}
	}
	rc = copy_runs(ss->file, ss, dst, err);
	if (rc < 0)
		ks_err_prefix(err, "%s", to);
done:
	if (dst >= 0 && H5Fclose(dst) < 0 && rc == 0)
		rc = ks_fail(err, "%s: cannot write the session", to);
	if (rc < 0 && created)
		unlink(to);
	ks_session_free(ss);
	return rc;
}

/* ---- description ------------------------------------------------------------------ */

char *ks_session_describe(const ks_session *s)
{
	const ks_session_run *r = &s->runs[0];
	int64_t samples = 0;
	char runs[32] = "";
	for (int i = 0; i < s->n_runs; i++)
		samples += s->runs[i].inputs[0].shape[0];
	if (s->n_runs > 1)
		snprintf(runs, sizeof runs, ", %d runs", s->n_runs);
	const char *from = s->model.path;
	const char *base = from && strrchr(from, '/') ? strrchr(from, '/') + 1 : from;
	return ks_xasprintf("kerascope session: %d input%s, %d output%s, %lld sample%s%s%s%s%s%s%s%s%s",
	                    r->n_inputs, r->n_inputs == 1 ? "" : "s", r->n_outputs,
	                    r->n_outputs == 1 ? "" : "s", (long long)samples, samples == 1 ? "" : "s", runs,
	                    r->n_acts ? ", with activations" : "", base ? ", recorded from " : "",
	                    base ? base : "", s->created ? " on " : "", s->created ? s->created : "",
	                    s->writer ? " by " : "", s->writer ? s->writer : "");
}
