/* ks_diff on files built here with the HDF5 C API (legacy full .h5,
 * weights-only .h5, Keras 3 .keras): pairing (renames, content, nested,
 * mixed formats), tolerance rules on stored tensors, the class-order test,
 * per-tensor statistics against hand-computed values, settings, training
 * configuration, optimizer slots, block boundaries, outputs, hostile files. */
#include "config.h"

#include <math.h>

#include "ks_test.h"
#include "h5_build.h"
#include "k3_build.h"
#include "ks_diff.h"
#include "ks_diff_report.h"
#include "ks_util.h"

/* ---- a small legacy .h5 writer ---- */

typedef struct tw {
	const char *name;
	int rank;
	hsize_t dims[4];
	float base;          /* values base + 0.001*i (as k3_put), unless vals */
	const float *vals;
} tw;

typedef struct tlayer {
	const char *cls, *name;
	const char *cfg;     /* extra config members, e.g. "\"units\": 4" */
	tw w[3];
	int nw;
	const struct tlayer *inner;   /* nested Sequential's layers */
	int n_inner;
} tlayer;

typedef struct tmodel {
	const char *input;   /* batch_input_shape JSON, e.g. "[null, 3]" */
	const tlayer *layers;
	int n;
	bool weights_only;
	const char *training;           /* training_config JSON or NULL */
	const char *const *opt_names;   /* optimizer slots ("Adam/iter:0", ...) */
	const tw *opt;
	int n_opt;
} tmodel;

static char *path_in_tmp(const char *name)
{
	return ks_xasprintf("%s/%s", ks_test_tmpdir(), name);
}

static void put(hid_t loc, const char *path, const tw *w)
{
	hsize_t n = 1;
	for (int i = 0; i < w->rank; i++)
		n *= w->dims[i];
	float *v = malloc((size_t)(n ? n : 1) * sizeof *v);
	for (hsize_t i = 0; i < n; i++)
		v[i] = w->vals ? w->vals[i] : w->base + 0.001f * (float)i;
	hb_dset_f32(loc, path, w->rank, w->dims, v);
	free(v);
}

static char *layers_json(const tlayer *L, int n, const char *input)
{
	char *s = ks_xstrdup("");
	if (input) {
		free(s);
		s = ks_xasprintf("{\"class_name\": \"InputLayer\", \"config\": {\"batch_input_shape\": %s, "
		                 "\"dtype\": \"float32\", \"name\": \"input_x\"}}", input);
	}
	for (int i = 0; i < n; i++) {
		char *one;
		if (L[i].inner) {
			char *in = layers_json(L[i].inner, L[i].n_inner, NULL);
			one = ks_xasprintf("{\"class_name\": \"Sequential\", \"config\": {\"name\": \"%s\", \"layers\": [%s]}}",
			                   L[i].name, in);
			free(in);
		} else {
			one = ks_xasprintf("{\"class_name\": \"%s\", \"config\": {\"name\": \"%s\"%s%s}}", L[i].cls,
			                   L[i].name, L[i].cfg ? ", " : "", L[i].cfg ? L[i].cfg : "");
		}
		char *t = ks_xasprintf("%s%s%s", s, *s ? ", " : "", one);
		free(s);
		free(one);
		s = t;
	}
	return s;
}

/* weight_names of a (nested) layer: "inner/kernel:0" relative to its group. */
static int collect_names(const tlayer *L, char **names, const tw **ws, const char **owners)
{
	int n = 0;
	if (L->inner) {
		for (int i = 0; i < L->n_inner; i++) {
			int k = collect_names(&L->inner[i], names + n, ws + n, owners + n);
			n += k;
		}
		return n;
	}
	for (int i = 0; i < L->nw; i++) {
		names[n] = ks_xasprintf("%s/%s:0", L->name, L->w[i].name);
		ws[n] = &L->w[i];
		owners[n] = L->name;
		n++;
	}
	return n;
}

static char *write_legacy(const char *file, const tmodel *m)
{
	char *path = path_in_tmp(file);
	hid_t f = hb_create(path), wg;
	const char *lnames[32];
	for (int i = 0; i < m->n; i++)
		lnames[i] = m->layers[i].name;
	hb_attr_str(f, "keras_version", "2.13.1", false, 0, H5T_STR_NULLTERM);
	hb_attr_str(f, "backend", "tensorflow", false, 0, H5T_STR_NULLTERM);
	if (m->weights_only) {
		wg = f;
		hb_attr_strv(f, "layer_names", lnames, m->n, false);
	} else {
		char *ls = layers_json(m->layers, m->n, m->input);
		char *mc = ks_xasprintf("{\"class_name\": \"Sequential\", \"config\": {\"name\": \"seq\", \"layers\": [%s]}}", ls);
		hb_attr_str(f, "model_config", mc, false, 0, H5T_STR_NULLTERM);
		free(ls);
		free(mc);
		wg = hb_group(f, "model_weights");
		hb_attr_strv(wg, "layer_names", lnames, m->n, false);
	}
	if (m->training)
		hb_attr_str(f, "training_config", m->training, false, 0, H5T_STR_NULLTERM);
	for (int i = 0; i < m->n; i++) {
		char *names[32];
		const tw *ws[32];
		const char *owners[32];
		int n = collect_names(&m->layers[i], names, ws, owners);
		hid_t g = hb_group(wg, m->layers[i].name);
		hb_attr_strv(g, "weight_names", (const char *const *)names, n, true);
		for (int k = 0; k < n; k++) {
			put(g, names[k], ws[k]);
			free(names[k]);
		}
		H5Gclose(g);
	}
	if (wg != f)
		H5Gclose(wg);
	if (m->n_opt) {
		hid_t og = hb_group(f, "optimizer_weights");
		hb_attr_strv(og, "weight_names", m->opt_names, m->n_opt, true);
		for (int k = 0; k < m->n_opt; k++)
			put(og, m->opt_names[k], &m->opt[k]);
		H5Gclose(og);
	}
	H5Fclose(f);
	return path;
}

#define DENSE(nm, in, out, b0, b1) \
	{"Dense", nm, "\"units\": " #out ", \"activation\": \"linear\"", \
	 {{"kernel", 2, {in, out}, b0, NULL}, {"bias", 1, {out}, b1, NULL}}, 2, NULL, 0}

static ks_diff *diff_ok(const char *a, const char *b, const ks_tol *tol)
{
	ks_err err;
	ks_diff_opts o = {0};
	if (tol)
		o.tol = *tol;
	ks_diff *d = ks_diff_open(a, b, &o, &err);
	if (!d)
		fail_msg("%s", err.msg);
	if (ks_diff_compare(d, &err) < 0)
		fail_msg("%s", err.msg);
	return d;
}

static const ks_diff_tensor *tensor(const ks_diff *d, const char *name)
{
	for (int i = 0; i < d->n_tensors; i++)
		if ((d->tensors[i].name_a && !strcmp(d->tensors[i].name_a, name)) ||
		    (!d->tensors[i].name_a && !strcmp(d->tensors[i].name_b, name)))
			return &d->tensors[i];
	fail_msg("no tensor %s", name);
	return NULL;
}

static const ks_diff_layer *layer(const ks_diff *d, const char *name)
{
	for (int i = 0; i < d->n_layers; i++)
		if ((d->layers[i].name_a && !strcmp(d->layers[i].name_a, name)) ||
		    (!d->layers[i].name_a && !strcmp(d->layers[i].name_b, name)))
			return &d->layers[i];
	fail_msg("no layer %s", name);
	return NULL;
}

/* ---- pairing ---- */

static void test_renamed_rebuild(void **state)
{
	(void)state;
	tlayer la[] = {DENSE("dense", 3, 4, 1, 2), DENSE("dense_1", 4, 2, 3, 4)};
	tlayer lb[] = {DENSE("dense_7", 3, 4, 1, 2), DENSE("dense_8", 4, 2, 3, 4)};
	char *a = write_legacy("ren_a.h5", &(tmodel){.input = "[null, 3]", .layers = la, .n = 2});
	char *b = write_legacy("ren_b.h5", &(tmodel){.input = "[null, 3]", .layers = lb, .n = 2});
	ks_diff *d = diff_ok(a, b, NULL);
	const ks_diff_layer *L = layer(d, "dense");
	assert_string_equal(L->name_b, "dense_7");
	assert_int_equal(L->pairing, KS_PAIR_POSITION);
	assert_string_equal(layer(d, "dense_1")->name_b, "dense_8");
	assert_string_equal(tensor(d, "dense_1/kernel")->name_b, "dense_8/kernel");
	assert_int_equal(d->n_same, 4);
	assert_int_equal(d->n_layers_added + d->n_layers_removed, 0);
	assert_true(ks_diff_identical(d));
	assert_false(ks_diff_any_difference(d));
	ks_diff_free(d);
	free(a);
	free(b);
}

/* Position pairing keeps model order; what it cannot pair, identical
 * values can: a = p(2x2, A), q(3x3, B); b = r(3x3, B), s(2x2, A). p takes s
 * by position (the first 2x2 after the start), q finds nothing after s and
 * is paired with r by content. */
static void test_pair_by_content(void **state)
{
	(void)state;
	tlayer la[] = {{"Dense", "p", "\"units\": 2", {{"kernel", 2, {2, 2}, 5, NULL}}, 1, NULL, 0},
	               {"Dense", "q", "\"units\": 3", {{"kernel", 2, {3, 3}, 7, NULL}}, 1, NULL, 0}};
	tlayer lb[] = {{"Dense", "r", "\"units\": 3", {{"kernel", 2, {3, 3}, 7, NULL}}, 1, NULL, 0},
	               {"Dense", "s", "\"units\": 2", {{"kernel", 2, {2, 2}, 5, NULL}}, 1, NULL, 0}};
	char *a = write_legacy("content_a.h5", &(tmodel){.input = NULL, .layers = la, .n = 2, .weights_only = true});
	char *b = write_legacy("content_b.h5", &(tmodel){.input = NULL, .layers = lb, .n = 2, .weights_only = true});
	ks_diff *d = diff_ok(a, b, NULL);
	assert_string_equal(layer(d, "p")->name_b, "s");
	assert_int_equal(layer(d, "p")->pairing, KS_PAIR_POSITION);
	assert_string_equal(layer(d, "q")->name_b, "r");
	assert_int_equal(layer(d, "q")->pairing, KS_PAIR_CONTENT);
	assert_int_equal(d->n_same, 2);
	ks_diff_free(d);
	free(a);
	free(b);
}

static void test_nested(void **state)
{
	(void)state;
	static const float changed[] = {0, 1, 2, 3, 4, 5.5f};
	tlayer ia[] = {DENSE("inner_d", 3, 2, 1, 2)};
	tlayer ib[] = {{"Dense", "inner_d_3", "\"units\": 2, \"activation\": \"linear\"",
	                {{"kernel", 2, {3, 2}, 0, changed}, {"bias", 1, {2}, 2, NULL}}, 2, NULL, 0}};
	static const float base[] = {0, 1, 2, 3, 4, 5};
	ia[0].w[0].vals = base;
	tlayer la[] = {DENSE("d0", 4, 3, 0, 1), {"Sequential", "block", NULL, {{0}}, 0, ia, 1}};
	tlayer lb[] = {DENSE("d0", 4, 3, 0, 1), {"Sequential", "block", NULL, {{0}}, 0, ib, 1}};
	char *a = write_legacy("nest_a.h5", &(tmodel){.input = "[null, 4]", .layers = la, .n = 2});
	char *b = write_legacy("nest_b.h5", &(tmodel){.input = "[null, 4]", .layers = lb, .n = 2});
	ks_diff *d = diff_ok(a, b, NULL);
	const ks_diff_layer *outer = layer(d, "block"), *inner = layer(d, "block/inner_d");
	assert_int_equal(outer->depth, 0);
	assert_int_equal(inner->depth, 1);
	assert_string_equal(inner->name_b, "block/inner_d_3");
	assert_int_equal(inner->pairing, KS_PAIR_POSITION);
	const ks_diff_tensor *t = tensor(d, "block/inner_d/kernel");
	assert_string_equal(t->name_b, "block/inner_d_3/kernel");
	assert_int_equal(t->status, KS_DS_CHANGED);
	assert_int_equal(t->cmp.n_changed, 1);
	assert_float_equal(t->cmp.max_abs, 0.5, 0);
	/* the roll-up reaches the enclosing model */
	assert_int_equal(outer->status, KS_DS_CHANGED);
	assert_int_equal(outer->changed_params, 6);
	assert_int_equal(d->params_changed, 6);
	assert_int_equal(d->params_a, 4 * 3 + 3 + 6 + 2);
	ks_diff_free(d);
	free(a);
	free(b);
}

/* One model in three containers: legacy full .h5, weights-only .h5 and a
 * Keras 3 .keras zip (values base + 0.001*i in every one). */
static void test_mixed_formats(void **state)
{
	(void)state;
	tlayer la[] = {DENSE("dense", 3, 4, 1, 2), DENSE("dense_1", 4, 2, 3, 4)};
	char *a = write_legacy("mix_a.h5", &(tmodel){.input = "[null, 3]", .layers = la, .n = 2});
	char *wo = write_legacy("mix_w.h5", &(tmodel){.input = "[null, 3]", .layers = la, .n = 2, .weights_only = true});
	char *w = path_in_tmp("mix.weights.h5"), *z = path_in_tmp("mix.keras");
	static const char cfg[] =
		"{\"class_name\": \"Sequential\", \"config\": {\"name\": \"s\", \"layers\": ["
		" {\"class_name\": \"InputLayer\", \"config\": {\"batch_shape\": [null, 3], \"name\": \"in\"}},"
		" {\"class_name\": \"Dense\", \"config\": {\"name\": \"dense\", \"units\": 4, \"activation\": \"linear\"}},"
		" {\"class_name\": \"Dense\", \"config\": {\"name\": \"dense_1\", \"units\": 2, \"activation\": \"linear\"}}]}}";
	hid_t f = k3_h5_create(w);
	k3_group(f, "/vars");
	k3_put(f, "/layers/dense/vars/0", 2, (hsize_t[]){3, 4}, 1);
	k3_put(f, "/layers/dense/vars/1", 1, (hsize_t[]){4}, 2);
	k3_put(f, "/layers/dense_1/vars/0", 2, (hsize_t[]){4, 2}, 3);
	k3_put(f, "/layers/dense_1/vars/1", 1, (hsize_t[]){2}, 4);
	H5Fclose(f);
	k3_zip(z, (k3_member[]){{"config.json", cfg, strlen(cfg), NULL, false},
	                        {"model.weights.h5", NULL, 0, w, false}}, 2);

	ks_diff *d = diff_ok(a, z, NULL);
	assert_int_equal(d->n_same, 4);
	assert_string_equal(tensor(d, "dense/kernel")->name_b, "dense/kernel");
	assert_int_equal(tensor(d, "dense/kernel")->pairing, KS_PAIR_NAME);
	/* format and version are reported, not counted */
	assert_true(d->n_model_changes >= 1);
	assert_true(ks_diff_identical(d));
	ks_diff_free(d);

	d = diff_ok(a, wo, NULL);
	assert_int_equal(d->n_same, 4);
	assert_string_equal(d->config_from_b, "a");
	assert_null(d->config_from_a);
	assert_true(ks_diff_identical(d));
	ks_diff_free(d);

	d = diff_ok(w, z, NULL);   /* .weights.h5 against its own archive */
	assert_int_equal(d->n_same, 4);
	assert_string_equal(d->config_from_a, "b");
	ks_diff_free(d);
	free(a);
	free(wo);
	free(w);
	free(z);
}

/* ---- tensors: statistics, tolerances, blocks ---- */

static char *one_tensor(const char *file, int rank, const hsize_t *dims, const float *v)
{
	tlayer L[] = {{"Dense", "d", "\"units\": 2", {{"kernel", rank, {dims[0], rank > 1 ? dims[1] : 0}, 0, v}}, 1,
	               NULL, 0}};
	return write_legacy(file, &(tmodel){.input = NULL, .layers = L, .n = 1, .weights_only = true});
}

static void test_tensor_stats(void **state)
{
	(void)state;
	/* a = (1, 2; 0, -4), b = (1, 2.5; 0, -2): see test_cmp for the sums */
	static const float va[] = {1, 2, 0, -4}, vb[] = {1, 2.5f, 0, -2};
	char *a = one_tensor("st_a.h5", 2, (hsize_t[]){2, 2}, va);
	char *b = one_tensor("st_b.h5", 2, (hsize_t[]){2, 2}, vb);
	ks_diff *d = diff_ok(a, b, NULL);
	const ks_diff_tensor *t = tensor(d, "d/kernel");
	assert_int_equal(t->status, KS_DS_CHANGED);
	assert_int_equal(t->size, 4);
	assert_int_equal(t->cmp.n_changed, 2);
	assert_float_equal(t->cmp.max_abs, 2, 0);
	assert_int_equal(t->cmp.max_abs_at, 3);
	char buf[64];
	assert_string_equal(ks_diff_index_str(t->wa, t->cmp.max_abs_at, buf, sizeof buf), "[1, 1]");
	assert_float_equal(ks_cmp_mean_abs(&t->cmp), 0.625, 1e-15);
	assert_float_equal(ks_cmp_rms(&t->cmp), sqrt(4.25 / 4), 1e-15);
	assert_float_equal(t->cmp.max_rel, 0.5, 0);
	assert_float_equal(ks_cmp_cosine(&t->cmp), 14 / sqrt(21 * 11.25), 1e-15);
	assert_float_equal(ks_cmp_rel_norm(&t->cmp), sqrt(4.25 / 21), 1e-15);
	/* 2 of 4 parameters in changed tensors count as changed: all 4 of the tensor */
	assert_int_equal(d->params_changed, 4);
	ks_diff_free(d);

	/* -d 0.5: only |d| = 2 (0.5 is not > 0.5); -p 0.3: 0.5 > 0.6 no, 2 > 1.2 yes;
	 * -d 2: nothing, so the tensor is "same" under that tolerance */
	ks_tol t1 = {KS_TOL_ABS, 0.5}, t2 = {KS_TOL_REL, 0.3}, t3 = {KS_TOL_ABS, 2};
	d = diff_ok(a, b, &t1);
	assert_int_equal(tensor(d, "d/kernel")->cmp.n_changed, 1);
	ks_diff_free(d);
	d = diff_ok(a, b, &t2);
	assert_int_equal(tensor(d, "d/kernel")->cmp.n_changed, 1);
	ks_diff_free(d);
	d = diff_ok(a, b, &t3);
	assert_int_equal(tensor(d, "d/kernel")->status, KS_DS_SAME);
	assert_float_equal(tensor(d, "d/kernel")->cmp.max_abs, 2, 0);   /* still measured */
	assert_false(ks_diff_any_difference(d));
	ks_diff_free(d);
	free(a);
	free(b);
}

static void test_tensor_nonfinite(void **state)
{
	(void)state;
	static const float va[] = {NAN, 1, 2, 3}, vb[] = {NAN, NAN, 2, INFINITY};
	char *a = one_tensor("nan_a.h5", 1, (hsize_t[]){4}, va);
	char *b = one_tensor("nan_b.h5", 1, (hsize_t[]){4}, vb);
	char *c = one_tensor("nan_c.h5", 1, (hsize_t[]){4}, va);
	ks_diff *d = diff_ok(a, b, NULL);
	const ks_diff_tensor *t = tensor(d, "d/kernel");
	assert_int_equal(t->cmp.n_changed, 2);
	assert_int_equal(t->cmp.nonfinite_new, 2);
	assert_int_equal(t->cmp.nan_a, 1);
	assert_int_equal(t->cmp.nan_b, 2);
	assert_int_equal(t->cmp.inf_b, 1);
	ks_diff_free(d);
	/* NaN equals NaN: a file against a copy of itself is identical */
	d = diff_ok(a, c, NULL);
	assert_int_equal(tensor(d, "d/kernel")->status, KS_DS_SAME);
	assert_true(ks_diff_identical(d));
	ks_diff_free(d);
	free(a);
	free(b);
	free(c);
}

/* A tensor of more than one block: the maximum's index and the counts
 * cross block boundaries correctly; -r lists elements in order. */
static void test_blocks(void **state)
{
	(void)state;
	const int64_t rows = 3, cols = (int64_t)(KS_DIFF_BLOCK / 2) + 7;   /* 1.5 blocks */
	int64_t n = rows * cols;
	float *va = malloc((size_t)n * sizeof *va), *vb = malloc((size_t)n * sizeof *vb);
	for (int64_t i = 0; i < n; i++)
		va[i] = vb[i] = (float)(i % 97) * 0.25f;
	int64_t p1 = 5, p2 = n - 3, p3 = (int64_t)KS_DIFF_BLOCK + 1;
	vb[p1] += 1.0f;
	vb[p2] -= 3.0f;
	vb[p3] += 2.0f;
	char *a = one_tensor("big_a.h5", 2, (hsize_t[]){(hsize_t)rows, (hsize_t)cols}, va);
	char *b = one_tensor("big_b.h5", 2, (hsize_t[]){(hsize_t)rows, (hsize_t)cols}, vb);
	ks_err err;
	ks_diff_opts o = {.elem_max = 10};
	ks_diff *d = ks_diff_open(a, b, &o, &err);
	assert_non_null(d);
	assert_int_equal(ks_diff_compare(d, &err), 0);
	const ks_diff_tensor *t = tensor(d, "d/kernel");
	assert_int_equal(t->cmp.count, n);
	assert_int_equal(t->cmp.n_changed, 3);
	assert_float_equal(t->cmp.max_abs, 3, 0);
	assert_int_equal(t->cmp.max_abs_at, p2);
	assert_int_equal(d->n_elems, 3);
	assert_int_equal(d->elems[0].flat, p1);
	assert_int_equal(d->elems[1].flat, p3);
	assert_int_equal(d->elems[2].flat, p2);
	assert_true(d->elems[2].b == va[p2] - 3.0f);
	ks_diff_free(d);
	free(va);
	free(vb);
	free(a);
	free(b);
}

static int stop_at_once(void *ctx, int64_t done, int64_t total)
{
	(void)done;
	(void)total;
	return ++*(int *)ctx >= 1;
}

static void test_interrupt(void **state)
{
	(void)state;
	tlayer la[] = {DENSE("dense", 3, 4, 1, 2)};
	tlayer lb[] = {DENSE("dense", 3, 4, 1, 2.5f)};
	char *a = write_legacy("int_a.h5", &(tmodel){.input = "[null, 3]", .layers = la, .n = 1});
	char *b = write_legacy("int_b.h5", &(tmodel){.input = "[null, 3]", .layers = lb, .n = 1});
	int calls = 0;
	ks_err err;
	ks_diff_opts o = {.progress = stop_at_once, .progress_ctx = &calls};
	ks_diff *d = ks_diff_open(a, b, &o, &err);
	assert_non_null(d);
	assert_int_equal(ks_diff_compare(d, &err), -1);
	assert_string_equal(err.msg, "interrupted");
	ks_diff_free(d);
	free(a);
	free(b);
}

/* ---- class order ---- */

static void test_class_permutation(void **state)
{
	(void)state;
	/* kernel 2x3, bias 3; b's unit mapping[j] = a's unit j for mapping {1, 2, 0} */
	static const float ka[] = {1, 2, 3, 4, 5, 6}, ba[] = {7, 8, 9};
	static const float kb[] = {3, 1, 2, 6, 4, 5}, bb[] = {9, 7, 8};
	static const float kc[] = {3, 1, 2, 6, 4, 5.001f};
	tlayer la[] = {{"Dense", "out", "\"units\": 3", {{"kernel", 2, {2, 3}, 0, ka}, {"bias", 1, {3}, 0, ba}}, 2, NULL, 0}};
	tlayer lb[] = {{"Dense", "out", "\"units\": 3", {{"kernel", 2, {2, 3}, 0, kb}, {"bias", 1, {3}, 0, bb}}, 2, NULL, 0}};
	tlayer lc[] = {{"Dense", "out", "\"units\": 3", {{"kernel", 2, {2, 3}, 0, kc}, {"bias", 1, {3}, 0, bb}}, 2, NULL, 0}};
	char *a = write_legacy("perm_a.h5", &(tmodel){.input = "[null, 2]", .layers = la, .n = 1});
	char *b = write_legacy("perm_b.h5", &(tmodel){.input = "[null, 2]", .layers = lb, .n = 1});
	char *c = write_legacy("perm_c.h5", &(tmodel){.input = "[null, 2]", .layers = lc, .n = 1});
	ks_diff *d = diff_ok(a, b, NULL);
	const ks_diff_layer *L = layer(d, "out");
	assert_non_null(L->mapping);
	assert_int_equal(L->n_mapping, 3);
	assert_int_equal(L->mapping[0], 1);
	assert_int_equal(L->mapping[1], 2);
	assert_int_equal(L->mapping[2], 0);
	assert_int_equal(d->n_permuted, 1);
	char head[512];
	ks_diff_headline(d, head, sizeof head);
	assert_non_null(strstr(head, "class order changed in out"));
	ks_diff_free(d);
	/* one kernel value off by 0.001: no exact permutation, one within -d 0.01 */
	d = diff_ok(a, c, NULL);
	assert_null(layer(d, "out")->mapping);
	ks_diff_free(d);
	ks_tol tol = {KS_TOL_ABS, 0.01};
	d = diff_ok(a, c, &tol);
	assert_non_null(layer(d, "out")->mapping);
	ks_diff_free(d);
	/* the outputs: equal up to the same permutation */
	d = diff_ok(a, b, NULL);
	ks_array x = {.rank = 2, .shape = {2, 2}};
	float xv[] = {0.5f, -1, 2, 0.25f};
	x.data = xv;
	ks_err err;
	assert_int_equal(ks_diff_run_outputs(d, &x, 1, &err), 0);
	assert_int_equal(d->outputs.n_outs, 1);
	assert_non_null(d->outputs.outs[0].mapping);
	assert_int_equal(d->outputs.outs[0].mapping[0], 1);
	assert_int_equal(d->outputs.first_divergence, d->outputs.n_layers - 1);
	ks_diff_free(d);
	free(a);
	free(b);
	free(c);
}

/* ---- architecture and settings ---- */

static void test_architecture(void **state)
{
	(void)state;
	tlayer la[] = {DENSE("dense", 3, 4, 1, 2), DENSE("dense_1", 4, 2, 3, 4), DENSE("gone", 2, 2, 0, 0)};
	tlayer lb[] = {{"Dense", "dense", "\"units\": 4, \"activation\": \"relu\"",
	                {{"kernel", 2, {3, 4}, 1, NULL}, {"bias", 1, {4}, 2, NULL}}, 2, NULL, 0},
	               {"Dropout", "dropout", "\"rate\": 0.5", {{0}}, 0, NULL, 0},
	               DENSE("dense_1", 4, 5, 3, 4)};
	char *a = write_legacy("arch_a.h5", &(tmodel){.input = "[null, 3]", .layers = la, .n = 3});
	char *b = write_legacy("arch_b.h5", &(tmodel){.input = "[null, 3]", .layers = lb, .n = 3});
	ks_diff *d = diff_ok(a, b, NULL);
	const ks_diff_layer *L = layer(d, "dense");
	assert_int_equal(L->n_changes, 1);
	assert_string_equal(L->changes[0].key, "activation");
	assert_string_equal(json_string_value(L->changes[0].a), "linear");
	assert_string_equal(json_string_value(L->changes[0].b), "relu");
	assert_int_equal(L->status, KS_DS_SAME);   /* weights unchanged */
	assert_int_equal(layer(d, "dropout")->status, KS_DS_ADDED);
	assert_int_equal(layer(d, "gone")->status, KS_DS_REMOVED);
	assert_int_equal(tensor(d, "gone/kernel")->status, KS_DS_REMOVED);
	assert_int_equal(tensor(d, "dense_1/kernel")->status, KS_DS_RESHAPED);
	assert_int_equal(layer(d, "dense_1")->n_changes, 1);   /* units */
	/* b-only layers come where b has them: after dense, before dense_1 */
	int i_dense = (int)(L - d->layers), i_drop = (int)(layer(d, "dropout") - d->layers);
	assert_int_equal(i_drop, i_dense + 1);
	assert_false(ks_diff_identical(d));
	/* JSON carries the same */
	json_t *j = ks_diff_json(d);
	assert_false(json_is_true(json_object_get(j, "identical")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "summary"), "layers_added")), 1);
	json_decref(j);
	ks_diff_free(d);
	free(a);
	free(b);
}

static void test_training_and_optimizer(void **state)
{
	(void)state;
	static const char ta[] = "{\"loss\": \"mse\", \"metrics\": [\"accuracy\"], \"optimizer_config\": "
	                         "{\"class_name\": \"Adam\", \"config\": {\"name\": \"Adam\", \"learning_rate\": 0.001}}}";
	static const char tb[] = "{\"loss\": \"mae\", \"metrics\": [\"accuracy\"], \"optimizer_config\": "
	                         "{\"class_name\": \"Custom>Adam\", \"config\": {\"name\": \"Adam\", \"learning_rate\": 0.01}}}";
	static const char *const oa[] = {"Adam/iter:0", "Adam/dense/kernel/m:0"};
	static const char *const ob[] = {"Adam/iter:0", "Adam/dense_4/kernel/m:0"};
	static const float it_a[] = {12}, it_b[] = {40};
	tw wa[] = {{"", 0, {0}, 0, it_a}, {"", 2, {3, 4}, 0.5f, NULL}};
	tw wb[] = {{"", 0, {0}, 0, it_b}, {"", 2, {3, 4}, 0.5f, NULL}};
	tlayer la[] = {DENSE("dense", 3, 4, 1, 2)};
	tlayer lb[] = {DENSE("dense_4", 3, 4, 1, 2)};
	char *a = write_legacy("tr_a.h5", &(tmodel){.input = "[null, 3]", .layers = la, .n = 1, .weights_only = false, .training = ta, .opt_names = oa, .opt = wa, .n_opt = 2});
	char *b = write_legacy("tr_b.h5", &(tmodel){.input = "[null, 3]", .layers = lb, .n = 1, .weights_only = false, .training = tb, .opt_names = ob, .opt = wb, .n_opt = 2});
	ks_diff *d = diff_ok(a, b, NULL);
	assert_true(d->training_a && d->training_b);
	bool loss = false, lr = false, opt = false;
	for (int i = 0; i < d->n_training_changes; i++) {
		const ks_diff_change *c = &d->training_changes[i];
		loss |= !strcmp(c->key, "loss");
		lr |= !strcmp(c->key, "optimizer.learning_rate");
		opt |= !strcmp(c->key, "optimizer");   /* Custom>Adam is Adam */
	}
	assert_true(loss && lr && !opt);
	assert_int_equal(d->n_training_changes, 2);
	/* slots pair through the layer pairing: dense -> dense_4 */
	assert_int_equal(d->n_opt_tensors, 2);
	assert_string_equal(d->opt_tensors[1].name_b, "Adam/dense_4/kernel/m");
	assert_int_equal(d->opt_tensors[1].pairing, KS_PAIR_NAME);
	assert_int_equal(d->opt_tensors[1].status, KS_DS_SAME);
	assert_int_equal(d->opt_tensors[0].status, KS_DS_CHANGED);   /* the step */
	assert_true(d->opt_a.has_step && d->opt_b.has_step);
	assert_int_equal(d->opt_a.step, 12);
	assert_int_equal(d->opt_b.step, 40);
	/* the model computes the same; the files still differ */
	assert_true(ks_diff_identical(d));
	assert_true(ks_diff_any_difference(d));
	ks_diff_free(d);
	free(a);
	free(b);
}

/* ---- outputs ---- */

static void test_first_divergence(void **state)
{
	(void)state;
	tlayer la[] = {DENSE("d1", 3, 4, 0.1f, 0), DENSE("d2", 4, 4, 0.2f, 0), DENSE("d3", 4, 2, 0.3f, 0)};
	tlayer lb[] = {DENSE("d1", 3, 4, 0.1f, 0), DENSE("d2", 4, 4, 0.2f, 0.5f), DENSE("d3", 4, 2, 0.3f, 0)};
	char *a = write_legacy("fd_a.h5", &(tmodel){.input = "[null, 3]", .layers = la, .n = 3});
	char *b = write_legacy("fd_b.h5", &(tmodel){.input = "[null, 3]", .layers = lb, .n = 3});
	ks_diff *d = diff_ok(a, b, NULL);
	float xv[] = {1, 2, 3};
	ks_array x = {.rank = 2, .shape = {1, 3}, .data = xv};
	ks_err err;
	assert_int_equal(ks_diff_run_outputs(d, &x, 1, &err), 0);
	int f = d->outputs.first_divergence;
	assert_true(f >= 0);
	assert_string_equal(d->outputs.layers[f].name_a, "d2");
	/* d2's output moves by the bias shift exactly: (0.5 everywhere) */
	assert_float_equal(d->outputs.layers[f].cmp.max_abs, 0.5, 1e-6);
	assert_false(d->outputs.layers[f - 1].diverges);
	assert_int_equal(d->outputs.n_outs, 1);
	assert_null(d->outputs.stopped);
	assert_false(ks_diff_identical(d));
	ks_diff_free(d);
	free(a);
	free(b);
}

/* A layer kerascope cannot run ends the comparison there, with the reason. */
static void test_outputs_stop_at_lambda(void **state)
{
	(void)state;
	tlayer la[] = {DENSE("d1", 3, 4, 0.1f, 0), {"Lambda", "lam", "\"function\": \"x\"", {{0}}, 0, NULL, 0},
	               DENSE("d3", 4, 2, 0.3f, 0)};
	char *a = write_legacy("lam_a.h5", &(tmodel){.input = "[null, 3]", .layers = la, .n = 3});
	char *b = write_legacy("lam_b.h5", &(tmodel){.input = "[null, 3]", .layers = la, .n = 3});
	ks_diff *d = diff_ok(a, b, NULL);
	float xv[] = {1, 2, 3};
	ks_array x = {.rank = 2, .shape = {1, 3}, .data = xv};
	ks_err err;
	assert_int_equal(ks_diff_run_outputs(d, &x, 1, &err), 0);
	assert_non_null(d->outputs.stopped);
	assert_non_null(strstr(d->outputs.stopped, "lam"));
	assert_string_equal(d->outputs.layers[d->outputs.n_layers - 1].name_a, "d1");
	assert_int_equal(d->outputs.n_outs, 0);
	ks_diff_free(d);
	free(a);
	free(b);
}

/* ---- hostile ---- */

static void test_hostile(void **state)
{
	(void)state;
	tlayer la[] = {DENSE("dense", 3, 4, 1, 2)};
	char *a = write_legacy("h_a.h5", &(tmodel){.input = "[null, 3]", .layers = la, .n = 1});
	char *t = path_in_tmp("h_trunc.h5");
	/* truncated copy */
	FILE *in = fopen(a, "rb"), *out = fopen(t, "wb");
	char buf[1024];
	size_t got = fread(buf, 1, 700, in);
	fwrite(buf, 1, got, out);
	fclose(in);
	fclose(out);
	ks_err err;
	ks_diff *d = ks_diff_open(a, t, NULL, &err);
	assert_null(d);
	assert_non_null(strstr(err.msg, "h_trunc.h5"));
	assert_null(strchr(err.msg, '\n'));
	d = ks_diff_open("/nonexistent/x.h5", a, NULL, &err);
	assert_null(d);
	assert_non_null(strstr(err.msg, "/nonexistent/x.h5"));
	/* a stored shape that contradicts the config (units 4, kernel 3x5) */
	tlayer lc[] = {{"Dense", "dense", "\"units\": 4", {{"kernel", 2, {3, 5}, 1, NULL}, {"bias", 1, {4}, 2, NULL}}, 2, NULL, 0}};
	char *c = write_legacy("h_shape.h5", &(tmodel){.input = "[null, 3]", .layers = lc, .n = 1});
	d = diff_ok(a, c, NULL);   /* weights still compare: reshaped */
	assert_int_equal(tensor(d, "dense/kernel")->status, KS_DS_RESHAPED);
	float xv[] = {1, 2, 3};
	ks_array x = {.rank = 2, .shape = {1, 3}, .data = xv};
	int rc = ks_diff_run_outputs(d, &x, 1, &err);
	/* b cannot run: the comparison says why (never a crash) */
	assert_true(rc < 0 || d->outputs.stopped);
	ks_diff_free(d);

	/* a huge declared shape over unwritten chunks: refused before reading */
	char *h = write_legacy("h_huge.h5", &(tmodel){.input = "[null, 3]", .layers = la, .n = 1});
	char *h2 = write_legacy("h_huge2.h5", &(tmodel){.input = "[null, 3]", .layers = la, .n = 1});
	const char *huge[] = {h, h2};
	for (int k = 0; k < 2; k++) {
		hid_t f = H5Fopen(huge[k], H5F_ACC_RDWR, H5P_DEFAULT);
		assert_true(f >= 0);
		assert_true(H5Ldelete(f, "/model_weights/dense/dense/kernel:0", H5P_DEFAULT) >= 0);
		hsize_t dims[2] = {(hsize_t)1 << 20, (hsize_t)1 << 20}, chunk[2] = {1, 1024};
		hid_t sp = H5Screate_simple(2, dims, NULL), pl = H5Pcreate(H5P_DATASET_CREATE);
		H5Pset_chunk(pl, 2, chunk);
		hid_t ds = H5Dcreate2(f, "/model_weights/dense/dense/kernel:0", H5T_IEEE_F32LE, sp, H5P_DEFAULT, pl,
		                      H5P_DEFAULT);
		assert_true(ds >= 0);
		H5Dclose(ds);
		H5Pclose(pl);
		H5Sclose(sp);
		H5Fclose(f);
	}
	d = ks_diff_open(h, h2, NULL, &err);
	if (d) {
		assert_int_equal(ks_diff_compare(d, &err), -1);
		ks_diff_free(d);
	}
	assert_non_null(strstr(err.msg, "h_huge"));
	assert_null(strchr(err.msg, '\n'));
	free(h);
	free(h2);
	free(a);
	free(t);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_renamed_rebuild),
		cmocka_unit_test(test_pair_by_content),
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_mixed_formats),
		cmocka_unit_test(test_tensor_stats),
		cmocka_unit_test(test_tensor_nonfinite),
		cmocka_unit_test(test_blocks),
		cmocka_unit_test(test_interrupt),
		cmocka_unit_test(test_class_permutation),
		cmocka_unit_test(test_architecture),
		cmocka_unit_test(test_training_and_optimizer),
		cmocka_unit_test(test_first_divergence),
		cmocka_unit_test(test_outputs_stop_at_lambda),
		cmocka_unit_test(test_hostile),
	};
	ks_quiet_hdf5();
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
