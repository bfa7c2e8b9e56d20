/* ks_loadorder: Keras' two load_weights orders on weights-only .h5 files.
 *
 * Hand-built files (always run): the layer count and weight count
 * mismatches Keras refuses, with its reasons; a topological swap of
 * differently shaped layers refused where the weights are used (the shape
 * check); renamed groups (topological finds them, by name nothing); a
 * nested model whose group has another name. Shared fixtures: the doctor
 * cases doc_layer_order and doc_name_mismatch predicted with each order
 * against their reference outputs (|got - exp| <= 1e-5 + 1e-5 |exp|), and a
 * Keras 3 .weights.h5 refusing by_name as Keras does.
 */
#include "config.h"

#include <math.h>

#include "ks_test.h"
#include "h5_build.h"

#include "ks_loadorder.h"
#include "ks_model.h"
#include "ks_npy.h"
#include "ks_plan.h"
#include "ks_util.h"

/* Sequential d1 Dense(3) on 2 inputs -> d2 Dense(3) -> d3 Dense(1). */
static const char ARCH3[] =
	"{\"class_name\": \"Sequential\", \"config\": {\"name\": \"s\", \"layers\": ["
	"{\"class_name\": \"Dense\", \"config\": {\"name\": \"d1\", \"units\": 3, \"use_bias\": true, "
	"\"activation\": \"linear\", \"batch_input_shape\": [null, 2]}},"
	"{\"class_name\": \"Dense\", \"config\": {\"name\": \"d2\", \"units\": 3, \"use_bias\": true, "
	"\"activation\": \"linear\"}},"
	"{\"class_name\": \"Dropout\", \"config\": {\"name\": \"drop\", \"rate\": 0.5}},"
	"{\"class_name\": \"Dense\", \"config\": {\"name\": \"d3\", \"units\": 1, \"use_bias\": true, "
	"\"activation\": \"linear\"}}]}, \"keras_version\": \"2.13.1\"}";

typedef struct gspec {
	const char *name;        /* group (and layer_names entry) */
	const char *layer;       /* weight names are "<layer>/kernel:0", ... */
	int n;                   /* weights: kernel, bias (1: kernel only, 0: none) */
	hsize_t k0, k1;          /* kernel shape */
} gspec;

static char *tmp(const char *name)
{
	return ks_xasprintf("%s/%s", ks_test_tmpdir(), name);
}

/* A save_weights() file with the groups in layer_names order. */
static char *weights_file(const char *fname, const gspec *g, int n, bool with_version)
{
	char *p = tmp(fname);
	hid_t f = hb_create(p);
	const char *ln[8];

	for (int i = 0; i < n; i++)
		ln[i] = g[i].name;
	hb_attr_strv(f, "layer_names", ln, n, true);
	if (with_version)
		hb_attr_str(f, "keras_version", "2.13.1", false, 0, H5T_STR_NULLTERM);
	for (int i = 0; i < n; i++) {
		char k[64], b[64];
		const char *wn[2] = {k, b};
		hsize_t shapes[2][4] = {{g[i].k0, g[i].k1}, {g[i].k1}};
		snprintf(k, sizeof k, "%s/kernel:0", g[i].layer);
		snprintf(b, sizeof b, "%s/bias:0", g[i].layer);
		hb_layer(f, g[i].name, wn, g[i].n, shapes);
	}
	H5Fclose(f);
	return p;
}

static char *arch_file(const char *fname, const char *text)
{
	char *p = tmp(fname);
	FILE *fp = fopen(p, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	return p;
}

static ks_model *open_order(const char *w, const char *arch, ks_load_order order, ks_err *err)
{
	ks_open_opts o = {.config_path = arch, .load_order = order};
	return ks_model_open(w, &o, err);
}

static ks_plan *plan_of(const ks_model *m, int64_t batch, int rank, const int64_t *shape, ks_err *err)
{
	ks_shape s = {.rank = rank};
	memcpy(s.d, shape, sizeof(int64_t) * (size_t)rank);
	ks_plan_opts po = {.batch = batch, .input_shapes = &s, .n_input_shapes = 1};
	return ks_plan_build(m, &po, err);
}

static bool has_warning(const ks_model *m, const char *text)
{
	for (int i = 0; i < m->n_warnings; i++)
		if (strstr(m->warnings[i], text))
			return true;
	return false;
}

static const gspec GOOD[] = {
	{"d1", "d1", 2, 2, 3}, {"d2", "d2", 2, 3, 3}, {"drop", "drop", 0, 0, 0}, {"d3", "d3", 2, 3, 1},
};

static void test_layer_count_mismatch(void **state)
{
	char *a = arch_file("a3.json", ARCH3);
	char *w = weights_file("two.h5", GOOD, 2, true);
	ks_err err;
	ks_model *m;

	(void)state;
	/* the default is Keras' topological load_weights, which refuses */
	assert_null(open_order(w, a, KS_LOAD_DEFAULT, &err));
	assert_non_null(strstr(err.msg, w));
	assert_non_null(strstr(err.msg, "Layer count mismatch when loading weights from file. "
	                                 "Model expected 3 layers, found 2 saved layers."));
	assert_null(open_order(w, a, KS_LOAD_TOPOLOGICAL, &err));
	assert_non_null(strstr(err.msg, "Layer count mismatch"));
	/* by name loads what is there; d3 keeps Keras' initial values */
	m = open_order(w, a, KS_LOAD_BY_NAME, &err);
	assert_non_null(m);
	assert_non_null(m->loadmap);
	assert_int_equal(m->loadmap->n_model, 3);
	assert_int_equal(m->loadmap->n_file, 2);
	assert_non_null(m->loadmap->topological_error);
	assert_true(has_warning(m, "layer 'd3' gets no weights"));
	assert_int_equal(ks_model_find_layer(m, "d3", false)->n_weights, 0);
	{
		char *note = ks_loadmap_note(m->loadmap, w);
		assert_non_null(note);
		assert_non_null(strstr(note, "Layer count mismatch"));
		assert_null(strchr(note, '\n'));
		free(note);
	}
	ks_model_free(m);
	free(a);
	free(w);
}

static void test_weight_count_mismatch(void **state)
{
	gspec g[4];
	char *a = arch_file("a3b.json", ARCH3), *w;
	ks_err err;

	(void)state;
	memcpy(g, GOOD, sizeof g);
	g[0].n = 1; /* d1 saved without its bias */
	w = weights_file("nobias.h5", g, 4, true);
	assert_null(open_order(w, a, KS_LOAD_TOPOLOGICAL, &err));
	assert_non_null(strstr(err.msg, "Weight count mismatch for layer #0 (named d1 in the current "
	                                 "model, d1 in the save file). Layer expects 2 weight(s). "
	                                 "Received 1 saved weight(s)"));
	assert_null(open_order(w, a, KS_LOAD_BY_NAME, &err));
	assert_non_null(strstr(err.msg, "Weight count mismatch for layer #0 (named d1). Layer expects "
	                                 "2 weight(s). Received 1 saved weight(s)"));
	free(w);
	/* Keras 1 files (no keras_version) hold Keras 1 weight lists: not compared */
	w = weights_file("nobias_k1.h5", g, 4, false);
	{
		ks_model *m = open_order(w, a, KS_LOAD_TOPOLOGICAL, &err);
		assert_non_null(m);
		ks_model_free(m);
	}
	free(w);
	free(a);
}

/* d2 listed before d1: topologically d1 gets d2's (3, 3) kernel. */
static void test_shape_mismatch(void **state)
{
	const gspec g[] = {GOOD[1], GOOD[0], GOOD[2], GOOD[3]};
	char *a = arch_file("a3c.json", ARCH3), *w = weights_file("swapped.h5", g, 4, true);
	int64_t in[2] = {1, 2};
	ks_err err;
	ks_model *m;
	ks_plan *p;

	(void)state;
	m = open_order(w, a, KS_LOAD_DEFAULT, &err);
	assert_non_null(m);
	assert_int_equal(m->loadmap->used, KS_LOAD_TOPOLOGICAL);
	assert_int_equal(m->loadmap->n_differ, 2);
	assert_string_equal(ks_loadmap_source(m->loadmap, "d1"), "d2");
	p = plan_of(m, 1, 2, in, &err);
	assert_null(p);
	assert_non_null(strstr(err.msg, "d1"));
	assert_non_null(strstr(err.msg, "kernel' has shape (3, 3) but the config needs (2, 3)"));
	ks_model_free(m);
	m = open_order(w, a, KS_LOAD_BY_NAME, &err);
	assert_non_null(m);
	p = plan_of(m, 1, 2, in, &err);
	assert_non_null(p);
	ks_plan_free(p);
	ks_model_free(m);
	free(a);
	free(w);
}

/* A rebuilt model: every group renamed, same shapes. */
static void test_renamed_groups(void **state)
{
	const gspec g[] = {
		{"dense_7", "dense_7", 2, 2, 3}, {"dense_8", "dense_8", 2, 3, 3},
		{"dropout_2", "dropout_2", 0, 0, 0}, {"dense_9", "dense_9", 2, 3, 1},
	};
	char *a = arch_file("a3d.json", ARCH3), *w = weights_file("renamed.h5", g, 4, true);
	int64_t in[2] = {1, 2};
	ks_err err;
	ks_model *m;
	ks_plan *p;
	const ks_weight *k;
	float v[9];

	(void)state;
	m = open_order(w, a, KS_LOAD_DEFAULT, &err);
	assert_non_null(m);
	assert_int_equal(m->loadmap->n_differ, 3);
	assert_null(ks_loadmap_find(m->loadmap, "d2")->by_name);
	assert_string_equal(ks_loadmap_find(m->loadmap, "d2")->topological, "dense_8");
	assert_null(ks_loadmap_find(m->loadmap, "drop"));
	/* d2's kernel is dense_8's: values 0..8 as hb_layer writes them */
	k = ks_model_find_weight(m, "d2/kernel", NULL);
	assert_non_null(k);
	assert_non_null(strstr(k->h5_path, "dense_8"));
	assert_int_equal(ks_weight_read(m, k, v, &err), 0);
	assert_true(v[8] == 8.0f);
	p = plan_of(m, 1, 2, in, &err);
	assert_non_null(p);
	ks_plan_free(p);
	ks_model_free(m);
	/* by name: nothing matches; the plan says what is missing */
	m = open_order(w, a, KS_LOAD_BY_NAME, &err);
	assert_non_null(m);
	assert_true(has_warning(m, "layer 'd1' gets no weights"));
	assert_null(plan_of(m, 1, 2, in, &err));
	assert_non_null(strstr(err.msg, "missing"));
	ks_model_free(m);
	free(a);
	free(w);
}

/* outer: Dense a, then the nested Sequential "inner" (Dense b, BN bn). The
 * file calls the nested model's group "sequential_9": topologically it is
 * the second group with weights, so it goes to "inner". */
static void test_nested_model(void **state)
{
	static const char arch[] =
		"{\"class_name\": \"Sequential\", \"config\": {\"name\": \"outer\", \"layers\": ["
		"{\"class_name\": \"Dense\", \"config\": {\"name\": \"a\", \"units\": 2, "
		"\"batch_input_shape\": [null, 3]}},"
		"{\"class_name\": \"Sequential\", \"config\": {\"name\": \"inner\", \"layers\": ["
		"{\"class_name\": \"Dense\", \"config\": {\"name\": \"b\", \"units\": 2, "
		"\"batch_input_shape\": [null, 2]}},"
		"{\"class_name\": \"BatchNormalization\", \"config\": {\"name\": \"bn\", \"axis\": -1}}"
		"]}}]}, \"keras_version\": \"2.13.1\"}";
	static const char *const ln[] = {"a", "sequential_9"};
	static const char *const wa[] = {"a/kernel:0", "a/bias:0"};
	static const char *const wi[] = {"b/kernel:0", "b/bias:0", "bn/gamma:0", "bn/beta:0",
	                                 "bn/moving_mean:0", "bn/moving_variance:0"};
	static const hsize_t sa[2][4] = {{3, 2}, {2}};
	static const hsize_t si[6][4] = {{2, 2}, {2}, {2}, {2}, {2}, {2}};
	char *a = arch_file("nested.json", arch), *w = tmp("nested.h5");
	hid_t f = hb_create(w);
	int64_t in[2] = {1, 3};
	ks_err err;
	ks_model *m;
	ks_plan *p;

	(void)state;
	hb_attr_strv(f, "layer_names", ln, 2, true);
	hb_attr_str(f, "keras_version", "2.13.1", false, 0, H5T_STR_NULLTERM);
	hb_layer(f, "a", wa, 2, sa);
	hb_layer(f, "sequential_9", wi, 6, si);
	H5Fclose(f);

	m = open_order(w, a, KS_LOAD_DEFAULT, &err);
	assert_non_null(m);
	assert_int_equal(m->loadmap->n_model, 2);
	assert_int_equal(ks_loadmap_find(m->loadmap, "inner")->n_expected, 6);
	assert_string_equal(ks_loadmap_source(m->loadmap, "inner"), "sequential_9");
	assert_non_null(ks_model_find_weight(m, "inner/bn/moving_variance", NULL));
	p = plan_of(m, 1, 2, in, &err);
	if (!p)
		fprintf(stderr, "plan: %s\n", err.msg);
	assert_non_null(p);
	ks_plan_free(p);
	ks_model_free(m);
	m = open_order(w, a, KS_LOAD_BY_NAME, &err);
	assert_non_null(m);
	assert_true(ks_loadmap_find(m->loadmap, "inner")->differs);
	assert_null(ks_model_find_weight(m, "inner/bn/moving_variance", NULL));
	ks_model_free(m);
	free(a);
	free(w);
}

/* ---- shared fixtures ---------------------------------------------------- */

static bool close_enough(const ks_plan *p, const char *expected, char *why, size_t n)
{
	ks_array e;
	ks_err err;
	const float *x = ks_plan_output(p, 0);
	int64_t cnt;

	if (ks_npy_read(expected, &e, &err) < 0) {
		snprintf(why, n, "%s", err.msg);
		return false;
	}
	ks_numel(e.shape, e.rank, &cnt);
	for (int64_t i = 0; i < cnt; i++)
		if (!(fabsf(x[i] - e.data[i]) <= 1e-5f + 1e-5f * fabsf(e.data[i]))) {
			snprintf(why, n, "%s: at %lld got %g, expected %g", expected, (long long)i, x[i],
			         e.data[i]);
			ks_array_free(&e);
			return false;
		}
	ks_array_free(&e);
	return true;
}

/* Predicts dir/weights.h5 with dir/arch.json in the given order on
 * input_0.npy; compares with dir/expected (NULL: the plan must fail). */
static void predict_case(const char *dir, ks_load_order order, const char *expected,
                         ks_model **keep)
{
	char *w = ks_xasprintf("%s/weights.h5", dir), *a = ks_xasprintf("%s/arch.json", dir);
	char *ip = ks_xasprintf("%s/input_0.npy", dir), why[512];
	ks_array in;
	ks_err err;
	ks_model *m = open_order(w, a, order, &err);
	ks_plan *p;

	if (!m)
		fprintf(stderr, "open: %s\n", err.msg);
	assert_non_null(m);
	assert_int_equal(ks_npy_read(ip, &in, &err), 0);
	p = plan_of(m, in.shape[0], in.rank, in.shape, &err);
	if (!expected) {
		assert_null(p);
	} else {
		const float *x[1] = {in.data};
		char *ep = ks_xasprintf("%s/%s", dir, expected);
		if (!p)
			fprintf(stderr, "plan: %s\n", err.msg);
		assert_non_null(p);
		ks_plan_run(p, x);
		if (!close_enough(p, ep, why, sizeof why))
			fail_msg("%s (%s)", why, ks_load_order_name(order));
		free(ep);
	}
	ks_plan_free(p);
	ks_array_free(&in);
	*keep = m;
	free(w);
	free(a);
	free(ip);
}

static void test_doc_layer_order(void **state)
{
	const char *fx = ks_test_fixtures();
	char *dir;
	ks_model *m;

	(void)state;
	assert_non_null(fx);
	dir = ks_xasprintf("%s/diagnosis/doc_layer_order", fx);
	predict_case(dir, KS_LOAD_BY_NAME, "expected_by_name_0.npy", &m);
	ks_model_free(m);
	predict_case(dir, KS_LOAD_TOPOLOGICAL, "expected_topological_0.npy", &m);
	ks_model_free(m);
	predict_case(dir, KS_LOAD_DEFAULT, "expected_topological_0.npy", &m);
	/* exactly the swapped pair differs */
	assert_int_equal(m->loadmap->n_differ, 2);
	for (int i = 0; i < m->loadmap->n_pairs; i++) {
		const ks_lo_pair *p = &m->loadmap->pairs[i];
		bool swapped = strcmp(p->layer, "dense_1") == 0 || strcmp(p->layer, "dense_2") == 0;
		assert_int_equal(p->differs, swapped);
	}
	ks_model_free(m);
	free(dir);
}

static void test_doc_name_mismatch(void **state)
{
	const char *fx = ks_test_fixtures();
	char *dir;
	ks_model *m;

	(void)state;
	assert_non_null(fx);
	dir = ks_xasprintf("%s/diagnosis/doc_name_mismatch", fx);
	predict_case(dir, KS_LOAD_TOPOLOGICAL, "expected_topological_0.npy", &m);
	/* the positional pairing of case.json, and no name in common */
	assert_string_equal(ks_loadmap_find(m->loadmap, "dense")->topological, "dense_7");
	assert_string_equal(ks_loadmap_find(m->loadmap, "dense_1")->topological, "dense_8");
	assert_string_equal(ks_loadmap_find(m->loadmap, "dense_2")->topological, "dense_9");
	for (int i = 0; i < m->loadmap->n_pairs; i++)
		assert_null(m->loadmap->pairs[i].by_name);
	ks_model_free(m);
	/* by name, Keras loads nothing and keeps random weights: we cannot run it */
	predict_case(dir, KS_LOAD_BY_NAME, NULL, &m);
	assert_true(has_warning(m, "gets no weights"));
	ks_model_free(m);
	free(dir);
}

static void test_keras3_refuses_by_name(void **state)
{
	const char *fx = ks_test_fixtures();
	char *w, *a;
	ks_err err;
	ks_model *m;

	(void)state;
	assert_non_null(fx);
	w = ks_xasprintf("%s/conformance/mlp_relu_softmax/model.weights.h5", fx);
	a = ks_xasprintf("%s/conformance/mlp_relu_softmax/model.keras", fx);
	assert_null(open_order(w, a, KS_LOAD_BY_NAME, &err));
	assert_non_null(strstr(err.msg, "`by_name` only supports loading legacy '.h5' or '.hdf5' files"));
	m = open_order(w, a, KS_LOAD_TOPOLOGICAL, &err);
	assert_non_null(m);
	assert_null(m->loadmap); /* path-based: nothing to choose */
	ks_model_free(m);
	free(w);
	free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layer_count_mismatch),
		cmocka_unit_test(test_weight_count_mismatch),
		cmocka_unit_test(test_shape_mismatch),
		cmocka_unit_test(test_renamed_groups),
		cmocka_unit_test(test_nested_model),
		cmocka_unit_test(test_doc_layer_order),
		cmocka_unit_test(test_doc_name_mismatch),
		cmocka_unit_test(test_keras3_refuses_by_name),
	};
	ks_quiet_hdf5();
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
