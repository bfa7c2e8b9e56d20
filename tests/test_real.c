/* Every model file of the real-Keras fixture set opens with the expected
 * format, parameter count (EXPECTED.json, computed with h5py) and number of
 * weight tensors, and every weight reads back as float32. */
#include "config.h"

#include <math.h>

#include <jansson.h>

#include "ks_test.h"
#include "ks_loadorder.h"
#include "ks_model.h"
#include "ks_util.h"

static int count_tensors(const ks_model *m)
{
	int n = 0;
	for (int i = 0; i < m->n_layers; i++) {
		n += m->layers[i].n_weights;
		if (m->layers[i].inner)
			n += count_tensors(m->layers[i].inner);
	}
	return n;
}

/* Reads every weight; returns the number of failures (messages printed). */
static int read_all(const ks_model *m, const char *rel)
{
	int bad = 0;
	for (int i = 0; i < m->n_layers; i++) {
		const ks_layer *L = &m->layers[i];
		for (int k = 0; k < L->n_weights; k++) {
			const ks_weight *w = &L->weights[k];
			int64_t n;
			float *buf;
			ks_err err;
			if (!ks_numel(w->shape, w->rank, &n)) {
				fprintf(stderr, "%s: %s/%s: bad shape\n", rel, L->name, w->name);
				bad++;
				continue;
			}
			buf = malloc((size_t)n * sizeof *buf + 4);
			if (ks_weight_read(m, w, buf, &err) < 0) {
				fprintf(stderr, "%s: %s/%s: %s\n", rel, L->name, w->name, err.msg);
				bad++;
			} else {
				for (int64_t q = 0; q < n; q++)
					if (isnan(buf[q]) && w->dtype != KS_DT_F32 && w->dtype != KS_DT_F64 &&
					    w->dtype != KS_DT_F16) {
						fprintf(stderr, "%s: %s/%s: NaN from integer data\n", rel, L->name,
						        w->name);
						bad++;
						break;
					}
			}
			free(buf);
		}
		if (L->inner)
			bad += read_all(L->inner, rel);
	}
	return bad;
}

static bool format_matches(const char *expected, ks_format got)
{
	if (strcmp(expected, "legacy-full-h5") == 0)
		return got == KS_FMT_LEGACY_H5;
	if (strcmp(expected, "weights-only-h5") == 0)
		return got == KS_FMT_WEIGHTS_H5;
	if (strcmp(expected, "keras-zip") == 0)
		return got == KS_FMT_KERAS3 || got == KS_FMT_KERAS2_ZIP;
	if (strstr(expected, "weights") && strstr(expected, "keras3"))
		return got == KS_FMT_KERAS3_WEIGHTS;
	return false;
}

static void test_every_real_file(void **state)
{
	const char *fx = ks_test_fixtures();
	char *exp_path;
	json_t *exp;
	json_error_t je;
	const char *rel;
	json_t *ent;
	int files = 0, failures = 0;

	(void)state;
	assert_non_null(fx);
	exp_path = ks_xasprintf("%s/real/EXPECTED.json", fx);
	exp = json_load_file(exp_path, 0, &je);
	if (!exp)
		fprintf(stderr, "%s: %s\n", exp_path, je.text);
	assert_non_null(exp);
	assert_true(json_object_size(exp) > 0);

	json_object_foreach(exp, rel, ent) {
		const char *fmt = json_string_value(json_object_get(ent, "format"));
		json_int_t params = json_integer_value(json_object_get(ent, "params"));
		json_int_t tensors = json_integer_value(json_object_get(ent, "tensors"));
		char *path = ks_xasprintf("%s/real/%s", fx, rel);
		ks_err err;
		ks_model *m;
		bool ok = true;

		files++;
		m = ks_model_open(path, NULL, &err);
		if (!m) {
			fprintf(stderr, "FAIL %s: open: %s\n", rel, err.msg);
			failures++;
			free(path);
			continue;
		}
		if (!fmt || !format_matches(fmt, m->format)) {
			fprintf(stderr, "FAIL %s: format %s, expected %s\n", rel, ks_format_name(m->format),
			        fmt ? fmt : "?");
			ok = false;
		}
		if (m->total_params != params) {
			fprintf(stderr, "FAIL %s: %lld params, expected %lld\n", rel,
			        (long long)m->total_params, (long long)params);
			ok = false;
		}
		if (count_tensors(m) != tensors) {
			fprintf(stderr, "FAIL %s: %d tensors, expected %lld\n", rel, count_tensors(m),
			        (long long)tensors);
			ok = false;
		}
		if (m->trainable_params + m->non_trainable_params != m->total_params) {
			fprintf(stderr, "FAIL %s: trainable + non-trainable != total\n", rel);
			ok = false;
		}
		if (read_all(m, rel) > 0)
			ok = false;
		if (!ok)
			failures++;
		ks_model_free(m);
		free(path);
	}
	fprintf(stderr, "real fixtures: %d files, %d failed\n", files, failures);
	json_decref(exp);
	free(exp_path);
	assert_true(files >= 60);
	assert_int_equal(failures, 0);
}

/* Weights-only files with their architecture JSON get classes and a graph. */
static void test_weights_with_config(void **state)
{
	const char *fx = ks_test_fixtures();
	char *w, *c;
	ks_open_opts o = {0};
	ks_model *m, *plain;
	ks_err err;

	(void)state;
	assert_non_null(fx);
	w = ks_xasprintf("%s/real/dl4j-test-resources/examples/simple_lstm/simple_lstm_th_keras_1_weights.h5", fx);
	c = ks_xasprintf("%s/real/dl4j-test-resources/examples/simple_lstm/simple_lstm_th_keras_1_config.json", fx);
	plain = ks_model_open(w, NULL, &err);
	assert_non_null(plain);
	assert_int_equal(plain->n_layers, 2);
	assert_string_equal(plain->layers[0].class_name, "?");
	assert_string_equal(plain->layers[0].name, "lstm_1");
	o.config_path = c;
	m = ks_model_open(w, &o, &err);
	if (!m)
		fprintf(stderr, "%s\n", err.msg);
	assert_non_null(m);
	assert_int_equal(m->format, KS_FMT_WEIGHTS_H5);
	/* the file has no version; the architecture JSON says 1.2.2 */
	assert_null(plain->keras_version);
	assert_non_null(m->keras_version);
	assert_string_equal(m->keras_version, "1.2.2");
	/* synthesised InputLayer + LSTM + Dense */
	assert_int_equal(m->n_layers, 3);
	assert_string_equal(m->layers[0].class_name, "InputLayer");
	assert_string_equal(m->layers[1].class_name, "LSTM");
	assert_int_equal(m->layers[1].n_weights, 12);
	assert_string_equal(m->layers[1].weights[0].name, "W_i");
	assert_int_equal(m->total_params, 10451);
	assert_int_equal(m->layers[2].nodes[0].in[0].layer, 1);
	ks_model_free(m);
	ks_model_free(plain);
	free(w);
	free(c);
}

static void test_find_weight_scoped_names(void **state)
{
	const char *fx = ks_test_fixtures();
	char *p;
	ks_model *m;
	ks_err err;
	const ks_layer *owner;
	const ks_weight *w;

	(void)state;
	assert_non_null(fx);
	p = ks_xasprintf("%s/real/dl4j-test-resources/tfscope/model.h5.with.tensorflow.scope", fx);
	m = ks_model_open(p, NULL, &err);
	if (!m)
		fprintf(stderr, "%s\n", err.msg);
	assert_non_null(m);
	/* layer "dense_1/xxx/yyy": the longest layer name wins */
	assert_non_null(ks_model_find_layer(m, "dense_1/xxx/yyy", false));
	w = ks_model_find_weight(m, "dense_1/xxx/yyy/W", &owner);
	assert_non_null(w);
	assert_string_equal(owner->name, "dense_1/xxx/yyy");
	assert_int_equal(w->rank, 2);
	assert_int_equal(w->shape[0], 70);
	assert_int_equal(w->shape[1], 256);
	assert_ptr_equal(ks_model_find_weight(m, w->h5_path, &owner), w);
	ks_model_free(m);
	free(p);
}

/* Optimizer slots are found like layer weights, by the name `ls` shows and by
 * HDF5 path, and belong to no layer. */
static void test_find_optimizer_slot(void **state)
{
	ks_err err;
	const ks_layer *owner = (const ks_layer *)1;
	ks_model *m = ks_model_open(KS_TEST_SRCDIR "/examples/iris_mlp.h5", NULL, &err);
	const ks_weight *w;

	(void)state;
	if (!m)
		fprintf(stderr, "%s\n", err.msg);
	assert_non_null(m);
	w = ks_model_find_weight(m, "Adam/iter", &owner);
	assert_non_null(w);
	assert_null(owner);
	assert_int_equal(w->rank, 0);
	assert_ptr_equal(ks_model_find_weight(m, w->h5_path, NULL), w);
	assert_null(ks_model_find_weight(m, "Adam/nothing", NULL));
	ks_model_free(m);
}

/* Bidirectional weights carry their direction, however deep the cell scope
 * sits (tf.keras 2.3+: "bidirectional/forward_lstm/lstm_cell/kernel:0"), and
 * the legacy and Keras 3 forms of one model name them alike. */
static void test_bidirectional_names(void **state)
{
	const char *fx = ks_test_fixtures();
	const char *forms[] = {"model.h5", "model.keras"};
	const char *names[] = {"forward/kernel", "forward/recurrent_kernel", "forward/bias",
	                       "backward/kernel", "backward/recurrent_kernel", "backward/bias"};

	(void)state;
	assert_non_null(fx);
	for (size_t f = 0; f < 2; f++) {
		char *p = ks_xasprintf("%s/conformance/bidirectional_lstm/%s", fx, forms[f]);
		ks_err err;
		ks_model *m = ks_model_open(p, NULL, &err);
		const ks_layer *L;
		if (!m)
			fprintf(stderr, "%s\n", err.msg);
		assert_non_null(m);
		L = ks_model_find_layer(m, "bidirectional", false);
		assert_non_null(L);
		assert_int_equal(L->n_weights, 6);
		for (int i = 0; i < 6; i++)
			assert_string_equal(L->weights[i].name, names[i]);
		ks_model_free(m);
		free(p);
	}
}


/* Conformance cases: every file of a case opens, all its files agree on the
 * parameter and tensor counts, and the legacy model's inputs and outputs are
 * the layers case.json names, in order. */
static void test_conformance_files_agree(void **state)
{
	const char *fx = ks_test_fixtures();
	char *sp;
	json_t *suite, *cases, *c;
	json_error_t je;
	size_t i;
	int failures = 0, opened = 0;

	(void)state;
	assert_non_null(fx);
	sp = ks_xasprintf("%s/conformance/suite.json", fx);
	suite = json_load_file(sp, 0, &je);
	assert_non_null(suite);
	cases = json_object_get(suite, "cases");
	assert_true(json_array_size(cases) >= 50);
	json_array_foreach(cases, i, c) {
		const char *name = json_string_value(json_object_get(c, "name"));
		json_t *files = json_object_get(c, "files"), *f;
		size_t k;
		int64_t params = -1;
		int tensors = -1;
		char *cp = ks_xasprintf("%s/conformance/%s/case.json", fx, name);
		json_t *cj = json_load_file(cp, 0, &je);
		free(cp);
		json_array_foreach(files, k, f) {
			const char *fn = json_string_value(f);
			char *path = ks_xasprintf("%s/conformance/%s/%s", fx, name, fn);
			ks_err err;
			ks_model *m = ks_model_open(path, NULL, &err);
			free(path);
			if (!m) {
				fprintf(stderr, "FAIL %s/%s: %s\n", name, fn, err.msg);
				failures++;
				continue;
			}
			opened++;
			/* pitfall_layer_order holds two different models */
			if (!strstr(name, "layer_order")) {
				if (params >= 0 && (m->total_params != params || count_tensors(m) != tensors)) {
					fprintf(stderr, "FAIL %s/%s: %lld params / %d tensors, other files %lld / %d\n",
					        name, fn, (long long)m->total_params, count_tensors(m),
					        (long long)params, tensors);
					failures++;
				}
				params = m->total_params;
				tensors = count_tensors(m);
			}
			if (read_all(m, fn) > 0)
				failures++;
			if (strcmp(fn, "model.h5") == 0 && cj) {
				json_t *ins = json_object_get(cj, "inputs"), *outs = json_object_get(cj, "outputs");
				bool ok = m->n_inputs == (int)json_array_size(ins) &&
				          m->n_outputs == (int)json_array_size(outs);
				for (int q = 0; ok && q < m->n_inputs; q++)
					ok = ks_str_eq(m->layers[m->inputs[q].layer].name,
					               json_string_value(json_object_get(json_array_get(ins, (size_t)q), "name")));
				for (int q = 0; ok && q < m->n_outputs; q++)
					ok = ks_str_eq(m->layers[m->outputs[q].layer].name,
					               json_string_value(json_object_get(json_array_get(outs, (size_t)q), "name")));
				if (!ok) {
					fprintf(stderr, "FAIL %s/model.h5: inputs/outputs differ from case.json\n", name);
					failures++;
				}
			}
			ks_model_free(m);
		}
		json_decref(cj);
	}
	fprintf(stderr, "conformance: %d files opened, %d failures\n", opened, failures);
	json_decref(suite);
	free(sp);
	assert_true(opened >= 150);
	assert_int_equal(failures, 0);
}

/* pitfall_layer_order: weights are attached by name; a file whose
 * layer_names order differs from the model's gets a warning that Keras'
 * default topological load would put them elsewhere. */
static bool has_warning(const ks_model *m, const char *needle)
{
	for (int i = 0; i < m->n_warnings; i++)
		if (strstr(m->warnings[i], needle))
			return true;
	return false;
}

static void test_layer_order_pitfall(void **state)
{
	const char *fx = ks_test_fixtures();
	char *dir, *ma, *arch, *wa, *wr;
	ks_model *a, *ok, *re;
	ks_open_opts o = {0};
	ks_err err;
	FILE *fp;
	char *text;

	(void)state;
	assert_non_null(fx);
	dir = ks_xasprintf("%s/conformance/pitfall_layer_order", fx);
	ma = ks_xasprintf("%s/model_a.h5", dir);
	wa = ks_xasprintf("%s/weights_a.h5", dir);
	wr = ks_xasprintf("%s/weights_a_reordered.h5", dir);
	arch = ks_xasprintf("%s/arch_a.json", ks_test_tmpdir());
	a = ks_model_open(ma, NULL, &err);
	assert_non_null(a);
	assert_false(has_warning(a, "topological"));
	text = json_dumps(a->model_config, 0);
	fp = fopen(arch, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	free(text);
	o.config_path = arch;
	o.load_order = KS_LOAD_BY_NAME;
	ok = ks_model_open(wa, &o, &err);
	re = ks_model_open(wr, &o, &err);
	assert_non_null(ok);
	assert_non_null(re);
	/* the two orders disagree on the reordered file only */
	assert_non_null(ok->loadmap);
	assert_non_null(re->loadmap);
	assert_int_equal(ok->loadmap->n_differ, 0);
	assert_int_equal(re->loadmap->n_differ, 2);
	/* by name, both give every layer the same weights as the full model */
	assert_int_equal(ok->n_layers, a->n_layers);
	assert_int_equal(re->n_layers, a->n_layers);
	for (int i = 0; i < a->n_layers; i++) {
		assert_string_equal(re->layers[i].name, a->layers[i].name);
		assert_int_equal(re->layers[i].n_weights, a->layers[i].n_weights);
		for (int k = 0; k < a->layers[i].n_weights; k++) {
			const ks_weight *x = &a->layers[i].weights[k], *y = &re->layers[i].weights[k];
			int64_t n;
			float *bx, *by;
			assert_true(ks_numel(x->shape, x->rank, &n));
			bx = malloc((size_t)n * sizeof *bx + 4);
			by = malloc((size_t)n * sizeof *by + 4);
			assert_int_equal(ks_weight_read(a, x, bx, &err), 0);
			assert_int_equal(ks_weight_read(re, y, by, &err), 0);
			assert_memory_equal(bx, by, (size_t)n * sizeof *bx);
			free(bx);
			free(by);
		}
	}
	ks_model_free(a);
	ks_model_free(ok);
	ks_model_free(re);
	free(dir);
	free(ma);
	free(wa);
	free(wr);
	free(arch);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_every_real_file),
	cmocka_unit_test(test_weights_with_config),
	cmocka_unit_test(test_find_weight_scoped_names),
	cmocka_unit_test(test_bidirectional_names),
	cmocka_unit_test(test_find_optimizer_slot),
	cmocka_unit_test(test_conformance_files_agree),
	cmocka_unit_test(test_layer_order_pitfall),
};

KS_TEST_MAIN(tests)
