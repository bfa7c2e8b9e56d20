#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ks_guess.h"
#include "ks_h5.h"
#include "ks_loadorder.h"
#include "ks_plan.h"
#include "ks_esc.h"
#include "ks_keras3.h"
#include "ks_report.h"
#include "ks_slice.h"
#include "ks_varnames.h"
#include "ks_stats.h"
#include "ks_util.h"

#define LINE_WIDTH 75
#define DEFAULT_MAX_VALUES 1000
#define DEFAULT_BINS 10
#define EDGE_ITEMS 3
/* --all reads the region into memory; beyond this it must be narrowed. */
#define MAX_PRINT_VALUES ((int64_t)1 << 28)

/* ---- small helpers ---------------------------------------------------- */

const char *ks_report_bytes(int64_t n, char *buf, size_t size)
{
	static const char *const units[] = {"B", "KB", "MB", "GB", "TB"};
	double v = (double)n;
	int u = 0;
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, "%.2f %s", v, units[u]);
	return buf;
}

const char *ks_report_count(int64_t n, char *buf, size_t size)
{
	char digits[32];
	int len = snprintf(digits, sizeof digits, "%lld", (long long)(n < 0 ? -n : n));
	size_t o = 0;
	if (n < 0 && o + 1 < size)
		buf[o++] = '-';
	for (int i = 0; i < len && o + 1 < size; i++) {
		if (i > 0 && (len - i) % 3 == 0 && o + 1 < size)
			buf[o++] = ',';
		if (o + 1 < size)
			buf[o++] = digits[i];
	}
	buf[o] = '\0';
	return buf;
}

double ks_report_f32(float x)
{
	char buf[32];
	if (!isfinite(x))
		return x;
	for (int p = 1; p <= 9; p++) {
		snprintf(buf, sizeof buf, "%.*g", p, (double)x);
		double d = strtod(buf, NULL);
		if ((float)d == x)
			return d;
	}
	return x;
}

static json_t *shape_json(const int64_t *d, int rank)
{
	json_t *a = json_array();
	for (int i = 0; i < rank; i++)
		json_array_append_new(a, d[i] < 0 ? json_null() : json_integer(d[i]));
	return a;
}

/* Names come from the file and may not be UTF-8, which jansson refuses:
 * such bytes become '?' rather than losing the key. NULL gives null. */
/* Text output shows names, paths and config values from the file escaped
 * (ks_esc.h). E() hands out the escaped form, or the string itself when it is
 * clean; the copies live until the public entry point returns (each frees
 * them through done()). JSON output takes the raw strings: jansson escapes. */
static ks_esc_pool escaped;

static const char *E(const char *s)
{
	return ks_esc_s(&escaped, s);
}

static int done(int rc)
{
	ks_esc_pool_free(&escaped);
	return rc;
}

static json_t *jstr(const char *s)
{
	if (!s)
		return json_null();
	json_t *j = json_string(s);
	if (j)
		return j;
	char *c = ks_xstrdup(s);
	for (char *p = c; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(c);
	free(c);
	return j ? j : json_null();
}

static json_t *str_or_null(const char *s)
{
	return jstr(s);
}

/* precision: significant digits of reals, 0 for jansson's lossless 17. */
static int dump_json_p(FILE *out, json_t *doc, int precision, ks_err *err)
{
	size_t fl = JSON_INDENT(2) | JSON_ENSURE_ASCII;
	if (precision)
		fl |= JSON_REAL_PRECISION(precision);
	int rc = json_dumpf(doc, out, fl);
	json_decref(doc);
	if (rc < 0)
		return ks_fail(err, "cannot write JSON output");
	fputc('\n', out);
	return 0;
}

static int dump_json(FILE *out, json_t *doc, ks_err *err)
{
	return dump_json_p(out, doc, 0, err);
}

static int64_t weight_numel(const ks_weight *w)
{
	int64_t n;
	return ks_numel(w->shape, w->rank, &n) ? n : 0;
}

static int64_t weight_bytes(const ks_weight *w)
{
	return weight_numel(w) * (int64_t)ks_dtype_size(w->dtype);
}

/* Layers that hold their weights in an inner model list them there; count
 * each tensor once, wherever the loader put it. */
static void sum_bytes(const ks_model *m, int64_t *train, int64_t *frozen, int64_t *n_train)
{
	for (int i = 0; i < m->n_layers; i++) {
		const ks_layer *l = &m->layers[i];
		if (l->inner && l->n_weights == 0) {
			sum_bytes(l->inner, train, frozen, n_train);
			continue;
		}
		for (int j = 0; j < l->n_weights; j++) {
			const ks_weight *w = &l->weights[j];
			if (w->trainable) {
				*train += weight_bytes(w);
				(*n_train)++;
			} else {
				*frozen += weight_bytes(w);
			}
		}
	}
}

static bool is_sequential(const ks_model *m)
{
	return m->class_name && strcmp(m->class_name, "Sequential") == 0;
}

static const char *model_title(const ks_model *m)
{
	return m->class_name ? m->class_name : "?";
}

/* "input_1[0][0], dense[0][0]" over every call of the layer. */
static char *connections(const ks_model *m, const ks_layer *l)
{
	size_t cap = 64, len = 0;
	char *s = ks_xmalloc(cap);
	s[0] = '\0';
	for (int n = 0; n < l->n_nodes; n++) {
		for (int k = 0; k < l->nodes[n].n_in; k++) {
			const ks_ref *r = &l->nodes[n].in[k];
			const char *name = r->layer >= 0 && r->layer < m->n_layers ? m->layers[r->layer].name : "?";
			char *part = ks_xasprintf("%s%s[%d][%d]", len ? ", " : "", name, r->node, r->tensor);
			size_t pl = strlen(part);
			if (len + pl + 1 > cap) {
				cap = (len + pl + 1) * 2;
				s = ks_xrealloc(s, cap);
			}
			memcpy(s + len, part, pl + 1);
			len += pl;
			free(part);
		}
	}
	return s;
}

/* ---- summary ---------------------------------------------------------- */

typedef struct srow {
	char *layer;      /* indented "name (Class)" */
	char *shape;
	char *params;
	char *conn;
} srow;

typedef struct srows {
	srow *v;
	int n, cap;
} srows;

/* Cells hold names from the file: stored escaped (the widths follow). */
static char *esc_cell(char *s)
{
	if (!ks_esc_needed(s))
		return s;
	char *e = ks_esc(s);
	free(s);
	return e;
}

static void add_row(srows *rs, char *layer, char *shape, char *params, char *conn)
{
	layer = esc_cell(layer);
	conn = esc_cell(conn);
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 16;
		rs->v = ks_xrealloc(rs->v, (size_t)rs->cap * sizeof *rs->v);
	}
	rs->v[rs->n++] = (srow){layer, shape, params, conn};
}

static char *shape_text(const ks_shape *s)
{
	char buf[160];
	if (s->rank < 0)
		return ks_xstrdup("?");
	return ks_xstrdup(ks_shape_str(s->d, s->rank, buf, sizeof buf));
}

/* A guessed class (no architecture): {"classes": [...], "why": "..."}. */
static void add_guess_json(json_t *o, const ks_layer *l)
{
	ks_guess g;
	json_t *a;
	if (!ks_guess_class(l, &g))
		return;
	a = json_array();
	for (int i = 0; i < g.n; i++)
		json_array_append_new(a, json_string(g.classes[i]));
	json_object_set_new(o, "class_guess", json_pack("{s:o, s:b, s:s}", "classes", a,
	                                                "unambiguous", g.n == 1, "why", g.why));
}

/* How a weights-only file's weights met the architecture, with the layers
 * whose weights depend on it marked '*' in the table. */
static void load_order_lines(FILE *out, const ks_loadmap *lm)
{
	fprintf(out, "Weights: loaded %s%s\n", lm->used == KS_LOAD_TOPOLOGICAL ? "topologically" : "by name",
	        lm->used == lm->keras_default ? " (Keras' model.load_weights default for a .h5)"
	                                      : " (Keras' model.load_weights default is topological)");
	if (lm->n_differ == 0)
		return;
	fprintf(out, "* the other load order gives these layers other weights:");
	for (int i = 0, k = 0; i < lm->n_pairs; i++) {
		const ks_lo_pair *p = &lm->pairs[i];
		if (p->differs)
			fprintf(out, "%s %s (topological: %s, by name: %s)", k++ ? "," : "", E(p->layer),
			        p->topological ? E(p->topological) : "none", p->by_name ? E(p->by_name) : "none");
	}
	fputc('\n', out);
	if (lm->topological_error)
		fprintf(out, "  Keras' topological load_weights fails: %s\n", E(lm->topological_error));
}

static bool any_guess(const ks_model *m)
{
	ks_guess g;
	for (int i = 0; i < m->n_layers; i++)
		if (ks_guess_class(&m->layers[i], &g))
			return true;
	return false;
}

static void collect_rows(const ks_model *m, int depth, bool conn_col, srows *rs)
{
	char cls[160];
	ks_shape *shapes = ks_xcalloc((size_t)(m->n_layers ? m->n_layers : 1), sizeof *shapes);
	for (int i = 0; i < m->n_layers; i++)
		shapes[i].rank = -1;
	if (m->n_layers)
		ks_infer_layer_shapes(m, shapes);
	for (int i = 0; i < m->n_layers; i++) {
		const ks_layer *l = &m->layers[i];
		char cnt[40];
		/* Sequential.layers (and so Keras' summary) omits the InputLayer at
		 * the bottom of the stack, in every Keras version */
		if (i == 0 && is_sequential(m) && l->class_name && strcmp(l->class_name, "InputLayer") == 0)
			continue;
		char *conn = conn_col && !is_sequential(m) ? connections(m, l) : ks_xstrdup("");
		const ks_lo_pair *lo = depth == 0 ? ks_loadmap_find(m->loadmap, l->name) : NULL;
		add_row(rs, ks_xasprintf("%*s%s (%s)%s%s", 2 * depth, "", l->name,
		                         ks_layer_class_label(l, cls, sizeof cls),
		                         l->trainable ? "" : " [frozen]", lo && lo->differs ? " *" : ""),
		        shape_text(&shapes[i]), ks_xstrdup(ks_report_count(l->params, cnt, sizeof cnt)), conn);
		if (l->inner)
			collect_rows(l->inner, depth + 1, conn_col, rs);
	}
	free(shapes);
}

static json_t *summary_layers_json(const ks_model *m)
{
	json_t *arr = json_array();
	ks_shape *shapes = ks_xcalloc((size_t)(m->n_layers ? m->n_layers : 1), sizeof *shapes);
	for (int i = 0; i < m->n_layers; i++)
		shapes[i].rank = -1;
	if (m->n_layers)
		ks_infer_layer_shapes(m, shapes);
	for (int i = 0; i < m->n_layers; i++) {
		const ks_layer *l = &m->layers[i];
		json_t *o = json_object();
		json_object_set_new(o, "name", jstr(l->name));
		json_object_set_new(o, "class_name", jstr(l->class_name));
		add_guess_json(o, l);
		if (m->loadmap && ks_loadmap_find(m->loadmap, l->name))
			json_object_set_new(o, "load_order_differs",
			                    json_boolean(ks_loadmap_find(m->loadmap, l->name)->differs));
		json_object_set_new(o, "params", json_integer(l->params));
		json_object_set_new(o, "output_shape",
		                    shapes[i].rank < 0 ? json_null() : shape_json(shapes[i].d, shapes[i].rank));
		json_object_set_new(o, "trainable", json_boolean(l->trainable));
		json_t *in = json_array();
		for (int n = 0; n < l->n_nodes; n++) {
			json_t *node = json_array();
			for (int k = 0; k < l->nodes[n].n_in; k++) {
				const ks_ref *r = &l->nodes[n].in[k];
				json_t *ref = json_array();
				json_array_append_new(ref, jstr(r->layer >= 0 && r->layer < m->n_layers
				                                ? m->layers[r->layer].name : "?"));
				json_array_append_new(ref, json_integer(r->node));
				json_array_append_new(ref, json_integer(r->tensor));
				json_array_append_new(node, ref);
			}
			json_array_append_new(in, node);
		}
		json_object_set_new(o, "inbound_nodes", in);
		if (l->inner) {
			json_object_set_new(o, "model_class", str_or_null(l->inner->class_name));
			json_object_set_new(o, "layers", summary_layers_json(l->inner));
		}
		json_array_append_new(arr, o);
	}
	free(shapes);
	return arr;
}

static json_t *refs_json(const ks_model *m, const ks_ref *refs, int n)
{
	json_t *a = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(a, jstr(refs[i].layer >= 0 && refs[i].layer < m->n_layers
		                                     ? m->layers[refs[i].layer].name : "?"));
	return a;
}

static int64_t opt_bytes(const ks_model *m)
{
	int64_t b = 0;
	for (int i = 0; i < m->n_opt_weights; i++)
		b += weight_bytes(&m->opt_weights[i]);
	return b;
}

typedef struct h5_count {
	int64_t groups, datasets, values;
} h5_count;

static int count_item(const ks_h5_item *it, void *ud, ks_err *err)
{
	h5_count *c = ud;
	int64_t n;
	if (it->kind == KS_H5_GROUP)
		c->groups++;
	if (it->kind == KS_H5_DATASET) {
		c->datasets++;
		if (ks_numel(it->dims, it->rank, &n) && c->values <= INT64_MAX - n)
			c->values += n;
	}
	return 0;
}

/* Not a Keras model: say so, with the size of what is there, rather than
 * fail, so that `kerascope data.h5 | less` still tells something. */
static int plain_summary(FILE *out, const ks_model *m, bool json, ks_err *err)
{
	h5_count c = {0, 0, 0};
	if (m->file != H5I_INVALID_HID && ks_h5_visit(m->file, "/", count_item, &c, err) < 0)
		return -1;
	if (json) {
		json_t *d = json_object();
		json_object_set_new(d, "file", jstr(m->path ? m->path : ""));
		json_object_set_new(d, "format", jstr(ks_format_name(m->format)));
		json_object_set_new(d, "keras_version", json_null());
		json_object_set_new(d, "backend", json_null());
		json_object_set_new(d, "class_name", json_null());
		json_object_set_new(d, "name", json_null());
		json_object_set_new(d, "layers", json_array());
		json_object_set_new(d, "total_params", json_integer(0));
		json_object_set_new(d, "trainable_params", json_integer(0));
		json_object_set_new(d, "non_trainable_params", json_integer(0));
		json_object_set_new(d, "optimizer_params", json_integer(0));
		json_object_set_new(d, "groups", json_integer(c.groups));
		json_object_set_new(d, "datasets", json_integer(c.datasets));
		json_object_set_new(d, "values", json_integer(c.values));
		if (m->what)
			json_object_set_new(d, "what", jstr(m->what));
		return dump_json(out, d, err);
	}
	if (m->what)
		fprintf(out, "%s: %s ('kerascope replay' runs it again)\n", m->path ? m->path : "?", m->what);
	fprintf(out, "%s: not a Keras model but a plain HDF5 file with %lld group%s and %lld dataset%s\n"
	        "(%lld values). 'kerascope ls' shows its tree.\n", m->path ? E(m->path) : "?",
	        (long long)c.groups, c.groups == 1 ? "" : "s", (long long)c.datasets,
	        c.datasets == 1 ? "" : "s", (long long)c.values);
	return 0;
}

static int summary(FILE *out, const ks_model *m, bool json, ks_err *err)
{
	int64_t tb = 0, fb = 0, nt = 0;
	char b1[32], b2[32], b3[32], b4[32];

	if (m->format == KS_FMT_PLAIN_H5)
		return plain_summary(out, m, json, err);
	sum_bytes(m, &tb, &fb, &nt);

	if (json) {
		json_t *d = json_object();
		json_object_set_new(d, "file", jstr(m->path ? m->path : ""));
		json_object_set_new(d, "format", jstr(ks_format_name(m->format)));
		json_object_set_new(d, "keras_version", str_or_null(m->keras_version));
		json_object_set_new(d, "backend", str_or_null(m->backend));
		json_object_set_new(d, "class_name", str_or_null(m->class_name));
		json_object_set_new(d, "name", str_or_null(m->name));
		json_object_set_new(d, "layers", summary_layers_json(m));
		json_object_set_new(d, "inputs", refs_json(m, m->inputs, m->n_inputs));
		json_object_set_new(d, "outputs", refs_json(m, m->outputs, m->n_outputs));
		json_object_set_new(d, "total_params", json_integer(m->total_params));
		json_object_set_new(d, "trainable_params", json_integer(m->trainable_params));
		json_object_set_new(d, "non_trainable_params", json_integer(m->non_trainable_params));
		json_object_set_new(d, "optimizer_params", json_integer(m->opt_params));
		json_object_set_new(d, "weight_bytes", json_integer(m->weight_bytes));
		json_object_set_new(d, "trainable_bytes", json_integer(tb));
		json_object_set_new(d, "non_trainable_bytes", json_integer(fb));
		json_object_set_new(d, "optimizer_bytes", json_integer(opt_bytes(m)));
		if (m->loadmap)
			json_object_set_new(d, "load_order", ks_loadmap_json(m->loadmap));
		return dump_json(out, d, err);
	}

	bool conn = !is_sequential(m) && m->model_config;
	srows rs = {0};
	collect_rows(m, 0, conn, &rs);
	int w0 = (int)strlen("Layer (type)"), w1 = (int)strlen("Output Shape"), w2 = (int)strlen("Param #");
	for (int i = 0; i < rs.n; i++) {
		int a = (int)strlen(rs.v[i].layer), b = (int)strlen(rs.v[i].shape), c = (int)strlen(rs.v[i].params);
		if (a > w0)
			w0 = a;
		if (b > w1)
			w1 = b;
		if (c > w2)
			w2 = c;
	}
	int total = w0 + 2 + w1 + 2 + w2;
	if (conn)
		total += 2 + (int)strlen("Connected to") + 8;

	if (m->name || m->class_name)
		fprintf(out, "Model: \"%s\" (%s)\n", m->name ? E(m->name) : "?", E(model_title(m)));
	else
		fputs("Model: weights only\n", out);
	fprintf(out, "File: %s (%s", m->path ? E(m->path) : "?", ks_format_name(m->format));
	if (m->keras_version)
		fprintf(out, ", Keras %s", E(m->keras_version));
	if (m->backend)
		fprintf(out, ", %s", E(m->backend));
	fputs(")\n", out);
	if (m->loadmap)
		load_order_lines(out, m->loadmap);
	if (!m->model_config)
		fputs(any_guess(m) ? "No architecture in the file: shapes are unknown, and a class ending "
		                     "in '?' is guessed\nfrom the weight names (give --config ARCH).\n"
		                   : "No architecture in the file: classes and shapes are unknown "
		                     "(give --config ARCH.json).\n", out);
	for (int i = 0; i < total; i++)
		fputc('_', out);
	fprintf(out, "\n%-*s  %-*s  %*s%s\n", w0, "Layer (type)", w1, "Output Shape", w2, "Param #",
	        conn ? "  Connected to" : "");
	for (int i = 0; i < total; i++)
		fputc('=', out);
	fputc('\n', out);
	for (int i = 0; i < rs.n; i++) {
		const srow *r = &rs.v[i];
		if (conn && r->conn[0])
			fprintf(out, "%-*s  %-*s  %*s  %s\n", w0, r->layer, w1, r->shape, w2, r->params, r->conn);
		else
			fprintf(out, "%-*s  %-*s  %*s\n", w0, r->layer, w1, r->shape, w2, r->params);
		free(r->layer);
		free(r->shape);
		free(r->params);
		free(r->conn);
	}
	free(rs.v);
	for (int i = 0; i < total; i++)
		fputc('=', out);
	char c1[40];
	fprintf(out, "\nTotal params: %s (%s)\n", ks_report_count(m->total_params, c1, sizeof c1),
	        ks_report_bytes(m->weight_bytes, b1, sizeof b1));
	fprintf(out, "Trainable params: %s (%s)\n", ks_report_count(m->trainable_params, c1, sizeof c1),
	        ks_report_bytes(tb, b2, sizeof b2));
	fprintf(out, "Non-trainable params: %s (%s)\n", ks_report_count(m->non_trainable_params, c1, sizeof c1),
	        ks_report_bytes(fb, b3, sizeof b3));
	if (m->n_opt_weights)
		fprintf(out, "Optimizer params: %s (%s)\n", ks_report_count(m->opt_params, c1, sizeof c1),
		        ks_report_bytes(opt_bytes(m), b4, sizeof b4));
	for (int i = 0; i < total; i++)
		fputc('_', out);
	fputc('\n', out);
	return 0;
}

/* ---- ls --------------------------------------------------------------- */

static json_t *weight_json(const ks_weight *w)
{
	json_t *o = json_object();
	json_object_set_new(o, "name", jstr(w->name));
	json_object_set_new(o, "stored_name", str_or_null(w->stored_name));
	json_object_set_new(o, "shape", shape_json(w->shape, w->rank));
	json_object_set_new(o, "dtype", jstr(ks_dtype_name(w->dtype)));
	json_object_set_new(o, "h5_path", str_or_null(w->h5_path));
	json_object_set_new(o, "trainable", json_boolean(w->trainable));
	return o;
}

/* Lookup layers (TextVectorization, StringLookup, IntegerLookup) carry a
 * vocabulary (ks_keras3_vocabulary). */
static bool has_vocabulary(const ks_layer *l)
{
	const char *c = l->class_name ? ks_class_basename(l->class_name) : "";
	return strcmp(c, "TextVectorization") == 0 || strcmp(c, "StringLookup") == 0 ||
	       strcmp(c, "IntegerLookup") == 0;
}

static json_t *vocabulary_json(const ks_model *m, const ks_layer *l)
{
	char **tok, *src;
	int n;
	ks_err e;
	json_t *o = json_object(), *arr = json_array();
	int rc = ks_keras3_vocabulary(m, l, &tok, &n, &src, &e);

	for (int i = 0; i < n; i++) {
		json_array_append_new(arr, jstr(tok[i]));
		free(tok[i]);
	}
	free(tok);
	json_object_set_new(o, "size", rc > 0 ? json_integer(n) : json_null());
	json_object_set_new(o, "source", rc < 0 ? jstr(e.msg) : str_or_null(src));
	json_object_set_new(o, "tokens", arr);
	free(src);
	return o;
}

/* "  vocabulary: 1002 tokens from m.keras:assets/.../vocabulary.txt: '', '[UNK]', 'the', ..." */
static void vocabulary_text(FILE *out, const ks_model *m, const ks_layer *l, int depth)
{
	enum { SHOWN = 12 };
	char **tok, *src;
	int n;
	ks_err e;
	int rc = ks_keras3_vocabulary(m, l, &tok, &n, &src, &e);

	fprintf(out, "%*s  vocabulary: ", 2 * depth, "");
	if (rc < 0)
		fprintf(out, "unreadable: %s\n", e.msg);
	else if (rc == 0)
		fprintf(out, "not in the file%s%s\n", src ? "; it was " : "", src ? E(src) : "");
	else {
		fprintf(out, "%d token%s from %s:", n, n == 1 ? "" : "s", E(src));
		for (int i = 0; i < n && i < SHOWN; i++)
			fprintf(out, "%s '%s'", i ? "," : "", E(tok[i]));
		fputs(n > SHOWN ? ", ...\n" : "\n", out);
	}
	for (int i = 0; i < n; i++)
		free(tok[i]);
	free(tok);
	free(src);
}

static json_t *ls_layers_json(const ks_model *m)
{
	json_t *arr = json_array();
	for (int i = 0; i < m->n_layers; i++) {
		const ks_layer *l = &m->layers[i];
		json_t *o = json_object(), *ws = json_array();
		json_object_set_new(o, "name", jstr(l->name));
		json_object_set_new(o, "class_name", jstr(l->class_name));
		add_guess_json(o, l);
		json_object_set_new(o, "params", json_integer(l->params));
		for (int j = 0; j < l->n_weights; j++)
			json_array_append_new(ws, weight_json(&l->weights[j]));
		json_object_set_new(o, "weights", ws);
		if (has_vocabulary(l))
			json_object_set_new(o, "vocabulary", vocabulary_json(m, l));
		if (l->inner)
			json_object_set_new(o, "layers", ls_layers_json(l->inner));
		json_array_append_new(arr, o);
	}
	return arr;
}

typedef struct ls_col {
	int name, shape, dtype;
} ls_col;

static void ls_widths(const ks_model *m, int depth, ls_col *c)
{
	char buf[160];
	for (int i = 0; i < m->n_layers; i++) {
		const ks_layer *l = &m->layers[i];
		for (int j = 0; j < l->n_weights; j++) {
			const ks_weight *w = &l->weights[j];
			int a = 2 * depth + 2 + (int)strlen(E(w->name));
			int b = (int)strlen(ks_shape_str(w->shape, w->rank, buf, sizeof buf));
			int d = (int)strlen(ks_dtype_name(w->dtype));
			if (a > c->name)
				c->name = a;
			if (b > c->shape)
				c->shape = b;
			if (d > c->dtype)
				c->dtype = d;
		}
		if (l->inner)
			ls_widths(l->inner, depth + 1, c);
	}
}

static void ls_weight_line(FILE *out, const ks_weight *w, int depth, const ls_col *c, bool mark)
{
	char buf[160];
	fprintf(out, "%*s%-*s  %-*s  %-*s  %s%s\n", 2 * depth + 2, "", c->name - 2 * depth - 2, E(w->name),
	        c->shape, ks_shape_str(w->shape, w->rank, buf, sizeof buf), c->dtype,
	        ks_dtype_name(w->dtype), w->h5_path ? E(w->h5_path) : "(in memory)",
	        w->trainable || !mark ? "" : "  [non-trainable]");
}

static void ls_text(FILE *out, const ks_model *m, int depth, const ls_col *c)
{
	char cls[160];
	for (int i = 0; i < m->n_layers; i++) {
		const ks_layer *l = &m->layers[i];
		fprintf(out, "%*s%s (%s)", 2 * depth, "", E(l->name), E(ks_layer_class_label(l, cls, sizeof cls)));
		char cnt[40];
		if (l->params)
			fprintf(out, "  %s params\n", ks_report_count(l->params, cnt, sizeof cnt));
		else
			fputs(l->inner ? "\n" : "  no weights\n", out);
		if (has_vocabulary(l))
			vocabulary_text(out, m, l, depth);
		for (int j = 0; j < l->n_weights; j++)
			ls_weight_line(out, &l->weights[j], depth, c, true);
		if (l->inner)
			ls_text(out, l->inner, depth + 1, c);
	}
}

typedef struct tree_ctx {
	FILE *out;
	json_t *arr;
} tree_ctx;

static int tree_item(const ks_h5_item *it, void *ud, ks_err *err)
{
	tree_ctx *t = ud;
	char buf[160];
	if (t->arr) {
		json_t *o = json_object();
		json_object_set_new(o, "path", jstr(it->path));
		json_object_set_new(o, "kind", jstr(it->kind == KS_H5_GROUP ? "group"
		                    : it->kind == KS_H5_DATASET ? "dataset"
		                    : it->is_link_only ? "link" : "other"));
		if (it->kind == KS_H5_DATASET) {
			json_object_set_new(o, "shape", shape_json(it->dims, it->rank));
			json_object_set_new(o, "dtype", jstr(ks_dtype_name(it->dtype)));
		}
		json_object_set_new(o, "attributes", json_integer(it->n_attrs));
		json_array_append_new(t->arr, o);
		return 0;
	}
	fprintf(t->out, "%*s%s", 2 * it->depth, "", E(it->name));
	if (it->kind == KS_H5_GROUP)
		fputc('/', t->out);
	if (it->kind == KS_H5_DATASET)
		fprintf(t->out, "  %s %s", ks_shape_str(it->dims, it->rank, buf, sizeof buf),
		        ks_dtype_name(it->dtype));
	else if (it->is_link_only)
		fputs("  (link, not followed)", t->out);
	if (it->n_attrs)
		fprintf(t->out, "  [%d attr%s]", it->n_attrs, it->n_attrs == 1 ? "" : "s");
	fputc('\n', t->out);
	return 0;
}

static int ls(FILE *out, const ks_model *m, bool json, bool raw, ks_err *err)
{
	if (raw || m->format == KS_FMT_PLAIN_H5) {
		if (m->file == H5I_INVALID_HID)
			return ks_fail(err, "no HDF5 data in this file");
		tree_ctx t = {out, json ? json_array() : NULL};
		if (!json) {
			char **names = NULL;
			int n = 0;
			fputc('/', out);
			if (ks_h5_attr_names(m->file, "/", &names, &n, NULL) == 0 && n)
				fprintf(out, "  [%d attr%s]", n, n == 1 ? "" : "s");
			ks_h5_strv_free(names, n);
			fputc('\n', out);
		}
		if (ks_h5_visit(m->file, "/", tree_item, &t, err) < 0) {
			json_decref(t.arr);
			return -1;
		}
		if (!json)
			return 0;
		json_t *d = json_object();
		json_object_set_new(d, "file", jstr(m->path ? m->path : ""));
		json_object_set_new(d, "format", jstr(ks_format_name(m->format)));
		json_object_set_new(d, "tree", t.arr);
		return dump_json(out, d, err);
	}
	if (json) {
		json_t *d = json_object(), *opt = json_object(), *ws = json_array();
		json_object_set_new(d, "file", jstr(m->path ? m->path : ""));
		json_object_set_new(d, "format", jstr(ks_format_name(m->format)));
		json_object_set_new(d, "layers", ls_layers_json(m));
		json_object_set_new(opt, "class_name", str_or_null(m->opt_class));
		for (int i = 0; i < m->n_opt_weights; i++)
			json_array_append_new(ws, weight_json(&m->opt_weights[i]));
		json_object_set_new(opt, "weights", ws);
		json_object_set_new(d, "optimizer", opt);
		return dump_json(out, d, err);
	}
	ls_col c = {0, 0, 0};
	ls_widths(m, 0, &c);
	char buf[160];
	for (int i = 0; i < m->n_opt_weights; i++) {
		const ks_weight *w = &m->opt_weights[i];
		int a = 2 + (int)strlen(E(w->name));
		int b = (int)strlen(ks_shape_str(w->shape, w->rank, buf, sizeof buf));
		if (a > c.name)
			c.name = a;
		if (b > c.shape)
			c.shape = b;
		if ((int)strlen(ks_dtype_name(w->dtype)) > c.dtype)
			c.dtype = (int)strlen(ks_dtype_name(w->dtype));
	}
	ls_text(out, m, 0, &c);
	if (m->n_opt_weights) {
		char cnt[40];
		fprintf(out, "optimizer (%s)  %s params\n", m->opt_class ? E(m->opt_class) : "?",
		        ks_report_count(m->opt_params, cnt, sizeof cnt));
		for (int i = 0; i < m->n_opt_weights; i++)
			ls_weight_line(out, &m->opt_weights[i], 0, &c, false);
	}
	return 0;
}

/* ---- attrs ------------------------------------------------------------ */

/* The shortest decimal that reads back as the same double (as Python's
 * repr, which wrote these configs): 0.009999999776482582, not 17 digits. */
static char *shortest_double(double x)
{
	char buf[40];
	for (int p = 1; p <= 17; p++) {
		snprintf(buf, sizeof buf, "%.*g", p, x);
		if (strtod(buf, NULL) == x)
			break;
	}
	if (!strpbrk(buf, ".eEn"))
		strcat(buf, ".0");
	return ks_xstrdup(buf);
}

static char *json_text(const json_t *v)
{
	if (json_is_string(v))
		return ks_xstrdup(json_string_value(v));
	if (json_is_real(v))
		return shortest_double(json_real_value(v));
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	return s ? s : ks_xstrdup("?");
}

/* Optimizer configs come as {"class_name", "config"} (Keras 1/2), with a
 * "module" too (Keras 3), or as a bare string ("adam"). */
static void print_optimizer(FILE *out, const json_t *o, const char *indent)
{
	const json_t *cls = json_object_get(o, "class_name"), *cfg = json_object_get(o, "config");
	if (!json_is_object(o) || !json_is_string(cls)) {
		char *s = json_text(o);
		fprintf(out, "%s\n", E(s));
		free(s);
		return;
	}
	fprintf(out, "%s\n", E(json_string_value(cls)));
	const char *k;
	const json_t *v;
	int w = 0;
	json_object_foreach((json_t *)cfg, k, v)
		if ((int)strlen(E(k)) > w)
			w = (int)strlen(E(k));
	json_object_foreach((json_t *)cfg, k, v) {
		char *s = json_text(v);
		fprintf(out, "%s%-*s  %s\n", indent, w + 1, E(k), E(s));
		free(s);
	}
}

static void print_config_block(FILE *out, const char *title, const json_t *cfg)
{
	const char *k;
	const json_t *v;
	int w = 0;
	fprintf(out, "%s:\n", title);
	if (!json_is_object(cfg)) {
		char *s = json_text(cfg);
		fprintf(out, "  %s\n", E(s));
		free(s);
		return;
	}
	json_object_foreach((json_t *)cfg, k, v)
		if ((int)strlen(E(k)) > w)
			w = (int)strlen(E(k));
	json_object_foreach((json_t *)cfg, k, v) {
		fprintf(out, "  %-*s  ", w + 1, E(k));
		if (strcmp(k, "optimizer_config") == 0 || strcmp(k, "optimizer") == 0) {
			print_optimizer(out, v, "      ");
		} else {
			char *s = json_text(v);
			fprintf(out, "%s\n", E(s));
			free(s);
		}
	}
}

/* Scalar tensors (the iteration counter) apart, each trainable weight
 * usually has the same number of slots (Adam: m and v). */
static void opt_shape(const ks_model *m, int *scalars, int *per_weight)
{
	int64_t tb = 0, fb = 0, nt = 0;
	*scalars = 0;
	for (int i = 0; i < m->n_opt_weights; i++)
		if (m->opt_weights[i].rank == 0)
			(*scalars)++;
	sum_bytes(m, &tb, &fb, &nt);
	int rest = m->n_opt_weights - *scalars;
	*per_weight = nt > 0 && rest % nt == 0 ? (int)(rest / nt) : -1;
}

/* Root attributes apart from model_config, shown as the summary instead. */
static int root_attrs(const ks_model *m, json_t *obj, FILE *out, ks_err *err)
{
	char **names = NULL;
	int n = 0, w = 0;
	if (m->file == H5I_INVALID_HID || m->format == KS_FMT_KERAS3 || m->format == KS_FMT_KERAS2_ZIP)
		return 0;
	if (ks_h5_attr_names(m->file, "/", &names, &n, err) < 0)
		return -1;
	for (int i = 0; i < n; i++)
		if ((int)strlen(E(names[i])) > w)
			w = (int)strlen(E(names[i]));
	if (out && n)
		fputs("Root attributes:\n", out);
	for (int i = 0; i < n; i++) {
		char *text = NULL;
		ks_err e2;
		bool big = strcmp(names[i], "model_config") == 0;
		if (ks_h5_attr_text(m->file, "/", names[i], obj || big ? 0 : 120, &text, &e2) < 0)
			text = ks_xasprintf("<unreadable: %s>", e2.msg);
		if (obj) {
			if (!big)
				json_object_set_new(obj, names[i], jstr(text));
		} else if (big) {
			fprintf(out, "  %-*s  (%zu bytes of JSON; see 'kerascope summary')\n", w, E(names[i]),
			         strlen(text));
		} else {
			fprintf(out, "  %-*s  %s\n", w, E(names[i]), E(text));
		}
		free(text);
	}
	ks_h5_strv_free(names, n);
	return 0;
}

static int attrs(FILE *out, const ks_model *m, bool json, ks_err *err)
{
	int scalars, per;
	char b1[32];
	opt_shape(m, &scalars, &per);

	if (json) {
		json_t *d = json_object(), *opt = json_object(), *ra = json_object();
		json_object_set_new(d, "file", jstr(m->path ? m->path : ""));
		json_object_set_new(d, "format", jstr(ks_format_name(m->format)));
		json_object_set_new(d, "keras_version", str_or_null(m->keras_version));
		json_object_set_new(d, "backend", str_or_null(m->backend));
		json_object_set_new(d, "date_saved", str_or_null(m->date_saved));
		json_object_set_new(d, "class_name", str_or_null(m->class_name));
		json_object_set_new(d, "name", str_or_null(m->name));
		json_object_set_new(d, "training_config",
		                    m->training_config ? json_incref(m->training_config) : json_null());
		json_object_set_new(d, "compile_config",
		                    m->compile_config ? json_incref(m->compile_config) : json_null());
		json_object_set_new(d, "metadata", m->metadata ? json_incref(m->metadata) : json_null());
		json_object_set_new(opt, "class_name", str_or_null(m->opt_class));
		json_object_set_new(opt, "tensors", json_integer(m->n_opt_weights));
		json_object_set_new(opt, "params", json_integer(m->opt_params));
		json_object_set_new(opt, "bytes", json_integer(opt_bytes(m)));
		json_object_set_new(opt, "slots_per_weight", per >= 0 && m->n_opt_weights ? json_integer(per) : json_null());
		json_object_set_new(d, "optimizer_state", opt);
		if (root_attrs(m, ra, NULL, err) < 0) {
			json_decref(ra);
			json_decref(d);
			return -1;
		}
		json_object_set_new(d, "root_attributes", ra);
		return dump_json(out, d, err);
	}

	fprintf(out, "File:           %s\n", m->path ? E(m->path) : "?");
	fprintf(out, "Format:         %s\n", ks_format_name(m->format));
	fprintf(out, "Keras version:  %s\n", m->keras_version ? E(m->keras_version) : "(not recorded)");
	fprintf(out, "Backend:        %s\n", m->backend ? E(m->backend) : "(not recorded)");
	fprintf(out, "Date saved:     %s\n", m->date_saved ? E(m->date_saved) : "(not recorded)");
	if (m->class_name || m->name) {
		fprintf(out, "Model:          %s", m->class_name ? E(m->class_name) : "?");
		if (m->name)
			fprintf(out, " \"%s\"", E(m->name));
		fputc('\n', out);
	}
	if (m->training_config)
		print_config_block(out, "Training config", m->training_config);
	else if (m->format == KS_FMT_LEGACY_H5)
		fputs("Training config: none (saved without compiling)\n", out);
	if (m->compile_config && !json_is_null(m->compile_config))
		print_config_block(out, "Compile config", m->compile_config);
	if (m->n_opt_weights) {
		fprintf(out, "Optimizer state: %s, %d tensors", m->opt_class ? E(m->opt_class) : "?",
		        m->n_opt_weights);
		if (per >= 0)
			fprintf(out, " (%d scalar%s, %d slot%s per trainable weight)", scalars,
			        scalars == 1 ? "" : "s", per, per == 1 ? "" : "s");
		char cnt[40];
		fprintf(out, ", %s params (%s)\n", ks_report_count(m->opt_params, cnt, sizeof cnt),
		        ks_report_bytes(opt_bytes(m), b1, sizeof b1));
	} else {
		fputs("Optimizer state: none\n", out);
	}
	if (m->metadata && json_is_object(m->metadata))
		print_config_block(out, "Metadata (metadata.json)", m->metadata);
	return root_attrs(m, NULL, out, err);
}

/* ---- dump ------------------------------------------------------------- */

typedef struct afmt {
	enum { F_INT, F_FIXED, F_SCI, F_WHOLE } mode; /* F_WHOLE: integer dtypes, "600" */
	int dec;
	int width;
} afmt;

static int round_trip_digits(float x, bool sci)
{
	char buf[64];
	for (int d = 0; d < 8; d++) {
		snprintf(buf, sizeof buf, sci ? "%.*e" : "%.*f", d, (double)x);
		if ((float)strtod(buf, NULL) == x)
			return d;
	}
	return 8;
}

static void format_value(char *buf, size_t n, float x, const afmt *f)
{
	if (isnan(x))
		snprintf(buf, n, "nan");
	else if (isinf(x))
		snprintf(buf, n, x > 0 ? "inf" : "-inf");
	else if (f->mode == F_INT)
		snprintf(buf, n, "%.0f.", (double)x);
	else if (f->mode == F_WHOLE)
		snprintf(buf, n, "%.0f", (double)x);
	else if (f->mode == F_SCI)
		snprintf(buf, n, "%.*e", f->dec, (double)x);
	else
		snprintf(buf, n, "%.*f%s", f->dec, (double)x, f->dec ? "" : ".");
}

/* numpy's choice: scientific when the nonzero magnitudes reach 1e8, go below
 * 1e-4 or spread over more than 3 decades; else integers print as "1." and
 * the rest fixed; digits are the fewest (<= 8) that give every value back. */
static void choose_format(const float *v, size_t n, afmt *f)
{
	double hi = 0, lo = INFINITY;
	bool ints = true;
	f->dec = 0;
	f->width = 1;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(v[i]))
			continue;
		double a = fabs(v[i]);
		if (a > hi)
			hi = a;
		if (a > 0 && a < lo)
			lo = a;
		if (v[i] != floorf(v[i]))
			ints = false;
	}
	if (hi >= 1e8 || (isfinite(lo) && (lo < 1e-4 || hi / lo > 1e3)))
		f->mode = F_SCI;
	else if (ints)
		f->mode = F_INT;
	else
		f->mode = F_FIXED;
	if (f->mode != F_INT) {
		for (size_t i = 0; i < n; i++) {
			if (!isfinite(v[i]))
				continue;
			int d = round_trip_digits(v[i], f->mode == F_SCI);
			if (d > f->dec)
				f->dec = d;
		}
		if (f->mode == F_SCI && f->dec == 0)
			f->dec = 1;
	}
	char buf[64];
	for (size_t i = 0; i < n; i++) {
		format_value(buf, sizeof buf, v[i], f);
		if ((int)strlen(buf) > f->width)
			f->width = (int)strlen(buf);
	}
}

typedef struct pctx {
	FILE *out;
	const float *v;
	size_t pos;
	const int64_t *shape;
	int rank;
	const bool *elided;
	int edge;
	afmt fmt;
	int col;
} pctx;

static void put(pctx *c, const char *s)
{
	fputs(s, c->out);
	c->col += (int)strlen(s);
}

static void newline(pctx *c, int blank, int indent)
{
	for (int i = 0; i <= blank; i++)
		fputc('\n', c->out);
	fprintf(c->out, "%*s", indent, "");
	c->col = indent;
}

static void print_rec(pctx *c, int axis)
{
	int64_t n = c->shape[axis];
	bool el = c->elided && c->elided[axis];
	bool last = axis == c->rank - 1;
	char buf[80];

	put(c, "[");
	for (int64_t i = 0; i < n && !ferror(c->out); i++) {
		bool gap = el && i == c->edge;
		for (int g = 0; g < 1 + gap; g++) {
			bool dots = gap && g == 0;
			if (i > 0 || g > 0) {
				put(c, ",");
				if (last) {
					const char *s = dots ? "..." : NULL;
					int len = s ? 3 : c->fmt.width;
					/* +2 leaves room for the closing brackets and comma */
					if (c->col + 1 + len + 2 > LINE_WIDTH)
						newline(c, 0, axis + 1);
					else
						put(c, " ");
				} else {
					newline(c, c->rank - axis - 2, axis + 1);
				}
			}
			if (dots) {
				put(c, "...");
			} else if (last) {
				format_value(buf, sizeof buf, c->v[c->pos++], &c->fmt);
				fprintf(c->out, "%*s", c->fmt.width, buf);
				c->col += c->fmt.width > (int)strlen(buf) ? c->fmt.width : (int)strlen(buf);
			} else {
				print_rec(c, axis + 1);
			}
		}
	}
	put(c, "]");
}

/* As ks_report_print_array; whole: the values come from an integer or bool
 * dtype and print as numpy prints those ("600", "[1, 2]"), without the dot. */
static void print_array_as(FILE *out, const float *v, const int64_t *shape, int rank, const bool *elided,
                           int edge, bool whole)
{
	int64_t n = 1;
	pctx c = {out, v, 0, shape, rank, elided, edge, {F_FIXED, 0, 1}, 0};
	if (!ks_numel(shape, rank, &n))
		n = 0;
	choose_format(v, (size_t)n, &c.fmt);
	if (whole) {
		char buf[64];
		c.fmt.mode = F_WHOLE;
		c.fmt.dec = 0;
		c.fmt.width = 1;
		for (int64_t i = 0; i < n; i++) {
			format_value(buf, sizeof buf, v[i], &c.fmt);
			if ((int)strlen(buf) > c.fmt.width)
				c.fmt.width = (int)strlen(buf);
		}
	}
	if (rank == 0) {
		char buf[80];
		format_value(buf, sizeof buf, v[0], &c.fmt);
		fprintf(out, "%s\n", buf);
		return;
	}
	print_rec(&c, 0);
	fputc('\n', out);
}

void ks_report_print_array(FILE *out, const float *v, const int64_t *shape, int rank,
                           const bool *elided, int edge)
{
	print_array_as(out, v, shape, rank, elided, edge, false);
}

static bool dtype_is_whole(ks_dtype t)
{
	return t == KS_DT_BOOL || (t >= KS_DT_I8 && t <= KS_DT_U64);
}

int64_t ks_report_print_values(FILE *out, const float *v, const int64_t *shape, int rank, int64_t max_values)
{
	int64_t total, nshown = 1, shown[KS_MAX_RANK], stride[KS_MAX_RANK];
	bool el[KS_MAX_RANK] = {false};
	if (!ks_numel(shape, rank, &total))
		total = 0;
	bool elided = total > (max_values > 0 ? max_values : DEFAULT_MAX_VALUES);
	for (int a = 0; a < rank; a++) {
		el[a] = elided && shape[a] > 2 * EDGE_ITEMS;
		shown[a] = el[a] ? 2 * EDGE_ITEMS : shape[a];
		nshown *= shown[a];
	}
	if (!elided || rank == 0) {
		ks_report_print_array(out, v, shape, rank, el, EDGE_ITEMS);
		return total;
	}
	int64_t st = 1;
	for (int a = rank - 1; a >= 0; a--) {
		stride[a] = st;
		st *= shape[a];
	}
	/* gather the first and last EDGE_ITEMS of every elided axis */
	float *buf = ks_xmalloc(sizeof(float) * (size_t)(nshown ? nshown : 1));
	int64_t idx[KS_MAX_RANK] = {0};
	for (int64_t k = 0; k < nshown; k++) {
		int64_t off = 0;
		for (int a = 0; a < rank; a++) {
			int64_t i = el[a] && idx[a] >= EDGE_ITEMS ? shape[a] - 2 * EDGE_ITEMS + idx[a] : idx[a];
			off += i * stride[a];
		}
		buf[k] = v[off];
		for (int a = rank - 1; a >= 0; a--) {
			if (++idx[a] < shown[a])
				break;
			idx[a] = 0;
		}
	}
	ks_report_print_array(out, buf, shown, rank, el, EDGE_ITEMS);
	free(buf);
	return nshown;
}

const char *ks_report_duration(double ms, char *buf, size_t size)
{
	if (ms < 1.0)
		snprintf(buf, size, "%.3g \xc2\xb5s", ms * 1e3);
	else if (ms < 1000.0)
		snprintf(buf, size, "%.3g ms", ms);
	else
		snprintf(buf, size, "%.3g s", ms / 1e3);
	return buf;
}

/* Reads the shown part of a region: each elided axis contributes its first
 * and last `edge` entries, so at most 2^rank hyperslabs are read. */
static int read_shown(const ks_model *m, const ks_weight *w, const ks_slice *s, const bool *el,
                      int edge, float *dst, ks_err *err)
{
	int r = w->rank;
	int64_t cd[KS_MAX_RANK], stride[KS_MAX_RANK];
	if (r == 0)
		return ks_weight_read(m, w, dst, err);
	for (int a = 0; a < r; a++)
		cd[a] = el[a] ? 2 * edge : s->count[a];
	int64_t st = 1;
	for (int a = r - 1; a >= 0; a--) {
		stride[a] = st;
		st *= cd[a];
	}
	for (unsigned mask = 0; mask < (1u << r); mask++) {
		int64_t bs[KS_MAX_RANK], bc[KS_MAX_RANK], off[KS_MAX_RANK], n = 1;
		bool skip = false;
		for (int a = 0; a < r; a++) {
			bool second = mask >> a & 1;
			if (second && !el[a]) {
				skip = true;
				break;
			}
			bs[a] = s->start[a] + (second ? s->count[a] - edge : 0);
			bc[a] = el[a] ? edge : s->count[a];
			off[a] = second ? edge : 0;
			n *= bc[a];
		}
		if (skip || n == 0)
			continue;
		float *tmp = ks_xmalloc((size_t)n * sizeof *tmp);
		if (ks_weight_read_slab(m, w, bs, bc, tmp, err) < 0) {
			free(tmp);
			return -1;
		}
		int64_t idx[KS_MAX_RANK] = {0};
		for (int64_t k = 0; k < n; k++) {
			int64_t o = 0;
			for (int a = 0; a < r; a++)
				o += (off[a] + idx[a]) * stride[a];
			dst[o] = tmp[k];
			for (int a = r - 1; a >= 0; a--) {
				if (++idx[a] < bc[a])
					break;
				idx[a] = 0;
			}
		}
		free(tmp);
	}
	return 0;
}

static json_t *value_json(float x)
{
	if (isnan(x))
		return jstr("NaN");
	if (isinf(x))
		return jstr(x > 0 ? "Infinity" : "-Infinity");
	return json_real(ks_report_f32(x));
}

/* whole: integer dtypes give JSON integers */
static json_t *values_json(const float *v, const int64_t *shape, int rank, size_t *pos, bool whole)
{
	if (rank == 0) {
		float x = v[(*pos)++];
		return whole && isfinite(x) ? json_integer((json_int_t)x) : value_json(x);
	}
	json_t *a = json_array();
	for (int64_t i = 0; i < shape[0]; i++)
		json_array_append_new(a, values_json(v, shape + 1, rank - 1, pos, whole));
	return a;
}

static json_t *stats_json(const ks_stats *st)
{
	json_t *o = json_object();
	bool any = st->finite > 0;
	json_object_set_new(o, "count", json_integer(st->count));
	json_object_set_new(o, "min", any ? json_real(ks_report_f32((float)st->min)) : json_null());
	json_object_set_new(o, "max", any ? json_real(ks_report_f32((float)st->max)) : json_null());
	json_object_set_new(o, "mean", any ? json_real(st->mean) : json_null());
	json_object_set_new(o, "std", any ? json_real(ks_stats_std(st)) : json_null());
	json_object_set_new(o, "zeros", json_integer(st->zeros));
	json_object_set_new(o, "nan", json_integer(st->nans));
	json_object_set_new(o, "inf", json_integer(st->pos_infs + st->neg_infs));
	return o;
}

/* dump LAYER: the layer's weights (nested models: their layers' weights),
 * each as the spec dump takes. */
static void layer_weights(const ks_layer *L, const char *prefix, json_t *arr, FILE *out, int depth)
{
	char sb[160];
	for (int k = 0; k < L->n_weights; k++) {
		const ks_weight *w = &L->weights[k];
		char *spec = ks_xasprintf("%s/%s", prefix, w->name);
		if (arr)
			json_array_append_new(arr, json_pack("{s:s, s:o, s:s, s:b}", "weight", spec, "shape",
			                                     shape_json(w->shape, w->rank), "dtype",
			                                     ks_dtype_name(w->dtype), "trainable", w->trainable));
		else
			fprintf(out, "  %-40s %-16s %s%s\n", E(spec), ks_shape_str(w->shape, w->rank, sb, sizeof sb),
			        ks_dtype_name(w->dtype), w->trainable ? "" : "  non-trainable");
		free(spec);
	}
	for (int i = 0; L->inner && depth < 16 && i < L->inner->n_layers; i++) {
		char *p = ks_xasprintf("%s/%s", prefix, L->inner->layers[i].name);
		layer_weights(&L->inner->layers[i], p, arr, out, depth + 1);
		free(p);
	}
}

static int dump_layer(FILE *out, const ks_model *m, const ks_layer *L, const char *spec, bool json,
                      ks_err *err)
{
	if (json) {
		json_t *d = json_object(), *arr = json_array();
		json_object_set_new(d, "file", jstr(m->path ? m->path : ""));
		json_object_set_new(d, "layer", jstr(spec));
		json_object_set_new(d, "class_name", jstr(L->class_name ? L->class_name : "?"));
		layer_weights(L, spec, arr, NULL, 0);
		json_object_set_new(d, "weights", arr);
		return dump_json_p(out, d, 10, err);
	}
	fprintf(out, "%s (%s) is a layer; its weights:\n", E(spec), L->class_name ? E(L->class_name) : "?");
	if (!L->n_weights && !L->inner)
		fputs("  none\n", out);
	layer_weights(L, spec, NULL, out, 0);
	return 0;
}

static int dump(FILE *out, const ks_model *m, const char *spec, const ks_dump_opts *o,
                ks_err *err)
{
	const ks_layer *owner = NULL;
	const ks_weight *w = ks_model_find_weight(m, spec, &owner);
	ks_slice sl;
	int64_t shown[KS_MAX_RANK], oshape[KS_MAX_RANK], total;
	bool el[KS_MAX_RANK] = {false}, pel[KS_MAX_RANK] = {false};
	int64_t maxv = o->max_values > 0 ? o->max_values : DEFAULT_MAX_VALUES;
	int bins = o->bins < 0 ? DEFAULT_BINS : o->bins;
	char sbuf[160], slbuf[256];

	if (!w) {
		const ks_layer *L = ks_model_find_layer(m, spec, true);
		char near[512];
		if (L)
			return dump_layer(out, m, L, spec, o->json, err);
		if (ks_model_suggest_weight(m, spec, near, sizeof near))
			return ks_fail(err, "no weight '%s' (did you mean '%s'? 'kerascope ls' lists them)", spec, near);
		if (ks_model_suggest_layer(m, spec, near, sizeof near))
			return ks_fail(err, "no weight or layer '%s' (did you mean layer '%s'?)", spec, near);
		return ks_fail(err, "no weight '%s' (see 'kerascope ls' for the names)", spec);
	}
	if (w->dtype == KS_DT_STRING || w->dtype == KS_DT_OTHER || w->dtype == KS_DT_UNKNOWN)
		return ks_fail(err, "weight '%s' has dtype %s, which has no numeric values", spec,
		               ks_dtype_name(w->dtype));
	if (o->slice) {
		if (ks_slice_parse(o->slice, w->shape, w->rank, &sl, err) < 0)
			return -1;
	} else {
		ks_slice_all(w->shape, w->rank, &sl);
	}
	int orank = ks_slice_shape(&sl, oshape);
	if (!ks_numel(sl.count, w->rank, &total))
		return ks_fail(err, "weight '%s' is too large", spec);
	if (total <= 1)
		bins = 0; /* a histogram of one value says nothing */

	ks_stats st;
	ks_hist h = {0};
	if (ks_weight_stats(m, w, sl.start, sl.count, &st, bins ? &h : NULL, bins ? bins : 1, err) < 0)
		return -1;

	float *vals = NULL;
	int64_t nshown = 0;
	bool elided = false;
	if (!o->stats_only) {
		if (o->all && total > MAX_PRINT_VALUES) {
			ks_hist_free(&h);
			return ks_fail(err, "weight '%s': %lld values are too many to print; narrow it with --slice",
			               spec, (long long)total);
		}
		elided = !o->all && total > maxv;
		nshown = 1;
		for (int a = 0, k = 0; a < w->rank; a++) {
			el[a] = elided && sl.count[a] > 2 * EDGE_ITEMS;
			shown[a] = el[a] ? 2 * EDGE_ITEMS : sl.count[a];
			nshown *= shown[a];
			if (sl.keep[a]) {
				pel[k] = el[a];
				oshape[k++] = shown[a];
			}
		}
		vals = ks_xmalloc((size_t)(nshown ? nshown : 1) * sizeof *vals);
		if (nshown && read_shown(m, w, &sl, el, EDGE_ITEMS, vals, err) < 0) {
			free(vals);
			ks_hist_free(&h);
			return -1;
		}
	}
	int64_t rshape[KS_MAX_RANK];
	ks_slice_shape(&sl, rshape);

	if (o->json) {
		json_t *d = json_object();
		json_object_set_new(d, "file", jstr(m->path ? m->path : ""));
		json_object_set_new(d, "weight", jstr(spec));
		json_object_set_new(d, "layer", owner ? jstr(owner->name) : json_null());
		json_object_set_new(d, "name", jstr(w->name));
		json_object_set_new(d, "h5_path", str_or_null(w->h5_path));
		json_object_set_new(d, "shape", shape_json(w->shape, w->rank));
		json_object_set_new(d, "dtype", jstr(ks_dtype_name(w->dtype)));
		json_object_set_new(d, "trainable", json_boolean(w->trainable));
		json_object_set_new(d, "slice", o->slice ? jstr(ks_slice_str(&sl, w->shape, slbuf, sizeof slbuf))
		                                         : json_null());
		json_object_set_new(d, "slice_shape", shape_json(rshape, orank));
		json_object_set_new(d, "stats", stats_json(&st));
		if (!bins || !st.finite) {
			json_object_set_new(d, "histogram", json_null());
		} else {
			json_t *hj = json_object(), *edges = json_array(), *counts = json_array();
			for (int i = 0; i <= h.nbins; i++)
				json_array_append_new(edges, json_real(ks_report_f32((float)ks_hist_edge(&h, i))));
			for (int i = 0; i < h.nbins; i++)
				json_array_append_new(counts, json_integer(h.counts[i]));
			json_object_set_new(hj, "edges", edges);
			json_object_set_new(hj, "counts", counts);
			json_object_set_new(d, "histogram", hj);
		}
		if (!o->stats_only) {
			size_t pos = 0;
			json_object_set_new(d, "truncated", json_boolean(elided));
			json_object_set_new(d, "values", elided ? json_null()
			                                                  : values_json(vals, rshape, orank, &pos,
			                                                                dtype_is_whole(w->dtype)));
		}
		free(vals);
		ks_hist_free(&h);
		return dump_json_p(out, d, 10, err);
	}

	fprintf(out, "%s: %s %s", E(spec), ks_shape_str(w->shape, w->rank, sbuf, sizeof sbuf),
	        ks_dtype_name(w->dtype));
	fputs(w->trainable ? "" : ", non-trainable", out);
	if (owner)
		fprintf(out, ", layer %s (%s)", E(owner->name), E(owner->class_name));
	else
		fputs(", optimizer state", out);
	fputc('\n', out);
	if (w->h5_path)
		fprintf(out, "HDF5 path: %s\n", E(w->h5_path));
	if (o->slice)
		fprintf(out, "Slice: %s -> %s\n", ks_slice_str(&sl, w->shape, slbuf, sizeof slbuf),
		        ks_shape_str(rshape, orank, sbuf, sizeof sbuf));
	if (!o->stats_only) {
		if (elided)
			fprintf(out, "Values (%s of %s shown; --all prints every one):\n",
			        ks_report_count(nshown, sbuf, sizeof sbuf), ks_report_count(total, slbuf, sizeof slbuf));
		else
			fputs("Values:\n", out);
		print_array_as(out, vals, oshape, orank, pel, EDGE_ITEMS, dtype_is_whole(w->dtype));
	}
	free(vals);
	fputs("Statistics", out);
	if (o->slice)
		fputs(" (of the slice)", out);
	fprintf(out, ": %s value%s\n", ks_report_count(st.count, sbuf, sizeof sbuf), st.count == 1 ? "" : "s");
	if (st.finite && dtype_is_whole(w->dtype))
		fprintf(out, "  min %.0f  max %.0f  mean %.6g  std %.6g\n", st.min, st.max, st.mean,
		        ks_stats_std(&st));
	else if (st.finite)
		fprintf(out, "  min %.6g  max %.6g  mean %.6g  std %.6g\n", st.min, st.max, st.mean,
		        ks_stats_std(&st));
	char c1[40], c2[40], c3[40];
	fprintf(out, "  zeros %s  nan %s  inf %s\n", ks_report_count(st.zeros, c1, sizeof c1),
	        ks_report_count(st.nans, c2, sizeof c2), ks_report_count(st.pos_infs + st.neg_infs, c3, sizeof c3));
	if (bins && st.finite) {
		fprintf(out, "Histogram (%d bins, finite values):\n", h.nbins);
		ks_hist_print(out, &h, 40, "  ");
	}
	ks_hist_free(&h);
	return 0;
}

int ks_report_summary(FILE *out, const ks_model *m, bool json, ks_err *err)
{
	return done(summary(out, m, json, err));
}

int ks_report_ls(FILE *out, const ks_model *m, bool json, bool raw, ks_err *err)
{
	return done(ls(out, m, json, raw, err));
}

int ks_report_attrs(FILE *out, const ks_model *m, bool json, ks_err *err)
{
	return done(attrs(out, m, json, err));
}

int ks_report_dump(FILE *out, const ks_model *m, const char *spec, const ks_dump_opts *o,
                   ks_err *err)
{
	return done(dump(out, m, spec, o, err));
}
