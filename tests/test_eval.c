/* Tests for ks_eval (accuracies, losses, Keras' resolution of "accuracy") and
 * the evaluate inputs of ks_input (labelled CSV, HDF5 datasets). Every
 * expected value below is worked out by hand in the comment beside it. */
#include "ks_test.h"

#include <math.h>

#include "engine_build.h"
#include "h5_build.h"
#include "ks_eval.h"
#include "ks_input.h"

/* Runs evaluation of n samples in one batch. */
static int eval1(const ks_eval_opts *o, const float *pred, const float *y, int64_t n, ks_eval_result *r,
                 ks_eval **keep, ks_err *err)
{
	*keep = NULL;
	ks_eval *e = ks_eval_new(o, err);
	if (!e)
		return -1;
	int rc = ks_eval_add(e, pred, y, n, 0, err);
	ks_eval_get(e, r);
	*keep = e;
	return rc;
}

/* A model whose output is its input (Dense with an identity kernel, linear):
 * the predictions below go through the real plan. */
static ks_model *identity_model(int c)
{
	char shape[32];
	snprintf(shape, sizeof shape, "[null, %d]", c);
	ks_model *m = eb_new("2.10.0");
	int in = eb_input(m, "x", shape);
	char cfg[96];
	snprintf(cfg, sizeof cfg, "{\"units\": %d, \"activation\": \"linear\"}", c);
	int d = eb_layer(m, "Dense", "d", cfg);
	float k[64] = {0}, b[8] = {0};
	for (int i = 0; i < c; i++)
		k[i * c + i] = 1;
	eb_weight(m, d, "kernel", 2, (int64_t[]){c, c}, k);
	eb_weight(m, d, "bias", 1, (int64_t[]){c}, b);
	eb_call1(m, d, in);
	eb_io(m, 1, (int[]){in}, d);
	return m;
}

static void run_model(ks_model *m, const float *x, int64_t n, int c, float *out)
{
	ks_shape s = {.rank = 2, .d = {n, c}};
	ks_shape os;
	ks_err err;
	const float *in[] = {x};
	assert_int_equal(eb_run(m, 1, &s, in, out, (size_t)(n * c), &os, &err), 0);
	assert_int_equal(os.d[1], c);
}

/* Binary: one sigmoid output. p = .9 .4 .6 .2 .5, y = 1 1 0 0 1.
 * p > 0.5 (strict, as Keras) = 1 0 1 0 0: matches at samples 0 and 3 -> 2/5.
 * Confusion (rows true 0/1): true 0 -> pred 0 (s3), pred 1 (s2); true 1 ->
 * pred 0 (s1, s4), pred 1 (s0): [[1, 1], [2, 1]].
 * BCE = -(ln .9 + ln .4 + ln .4 + ln .8 + ln .5) / 5 = 0.570846676. */
static void test_binary_by_hand(void **state)
{
	(void)state;
	const float x[] = {0.9f, 0.4f, 0.6f, 0.2f, 0.5f}, y[] = {1, 1, 0, 0, 1};
	float p[5];
	ks_model *m = identity_model(1);
	run_model(m, x, 5, 1, p);
	ks_model_free(m);
	ks_eval_opts o = {.classes = 1, .label_width = 1, .loss = {.kind = KS_LOSS_BCE}};
	ks_eval_result r;
	ks_eval *e = NULL;
	ks_err err;
	assert_int_equal(eval1(&o, p, y, 5, &r, &e, &err), 0);
	assert_true(r.applies[KS_ACC_BINARY]);
	assert_false(r.applies[KS_ACC_CATEGORICAL] || r.applies[KS_ACC_SPARSE] || r.applies[KS_ACC_TOP_K]);
	assert_int_equal(r.hits[KS_ACC_BINARY], 2);
	assert_int_equal(r.count[KS_ACC_BINARY], 5);
	assert_float_equal(r.acc[KS_ACC_BINARY], 0.4, 1e-12);
	assert_true(r.has_loss);
	assert_float_equal(r.loss, 0.570846676, 1e-6);
	assert_int_equal(r.cm_classes, 2);
	const int64_t cm[] = {1, 1, 2, 1};
	for (int i = 0; i < 4; i++)
		assert_int_equal(r.confusion[i], cm[i]);
	ks_eval_free(e);
	/* "accuracy" on a one-unit output is binary under every rule */
	for (int rule = 0; rule < 2; rule++)
		assert_int_equal(ks_eval_resolve(rule, KS_LOSS_BCE, 1, 1, 2, 1), KS_ACC_BINARY);
	assert_int_equal(ks_eval_resolve(KS_RULE_SHAPE_BASED, KS_LOSS_MSE, 2, 1, 2, 1), KS_ACC_BINARY);
}

/* Sparse, three classes:
 *   s0 [.7 .2 .1] y 0  argmax 0 hit;  top-2 in
 *   s1 [.3 .4 .3] y 2  argmax 1 miss; top-2: only .4 > .3, so in (tie inside)
 *   s2 [.1 .1 .8] y 2  argmax 2 hit;  top-2 in
 *   s3 [.5 .3 .2] y 1  argmax 0 miss; top-2: only .5 > .3, so in
 * sparse 2/4, top-2 4/4, top-1 2/4.
 * SCCE = -(ln .7 + ln .3 + ln .8 + ln .3) / 4 = 0.746941266. */
static const float P3[] = {0.7f, 0.2f, 0.1f, 0.3f, 0.4f, 0.3f, 0.1f, 0.1f, 0.8f, 0.5f, 0.3f, 0.2f};

static void test_sparse_by_hand(void **state)
{
	(void)state;
	const float y[] = {0, 2, 2, 1};
	float p[12];
	ks_model *m = identity_model(3);
	run_model(m, P3, 4, 3, p);
	ks_model_free(m);
	ks_eval_opts o = {.classes = 3, .label_width = 1, .top_k = 2, .loss = {.kind = KS_LOSS_SCCE}};
	ks_eval_result r;
	ks_eval *e = NULL;
	ks_err err;
	assert_int_equal(eval1(&o, p, y, 4, &r, &e, &err), 0);
	assert_true(r.applies[KS_ACC_SPARSE] && r.applies[KS_ACC_TOP_K]);
	assert_false(r.applies[KS_ACC_BINARY] || r.applies[KS_ACC_CATEGORICAL]);
	assert_float_equal(r.acc[KS_ACC_SPARSE], 0.5, 1e-12);
	assert_float_equal(r.acc[KS_ACC_TOP_K], 1.0, 1e-12);
	assert_float_equal(r.loss, 0.746941266, 1e-6);
	assert_false(r.loss_converted);
	/* per-class from the confusion: class 0 1/1, class 1 0/1, class 2 1/2 */
	assert_int_equal(r.cm_classes, 3);
	assert_int_equal(r.confusion[0 * 3 + 0], 1);
	assert_int_equal(r.confusion[1 * 3 + 0], 1);
	assert_int_equal(r.confusion[2 * 3 + 1], 1);
	assert_int_equal(r.confusion[2 * 3 + 2], 1);
	ks_eval_free(e);
	/* top-1 is plain argmax accuracy */
	o.top_k = 1;
	assert_int_equal(eval1(&o, p, y, 4, &r, &e, &err), 0);
	assert_float_equal(r.acc[KS_ACC_TOP_K], 0.5, 1e-12);
	ks_eval_free(e);
	/* CCE with class ids: taken as one-hot rows, same value */
	o.loss.kind = KS_LOSS_CCE;
	assert_int_equal(eval1(&o, p, y, 4, &r, &e, &err), 0);
	assert_float_equal(r.loss, 0.746941266, 1e-6);
	assert_true(r.loss_converted);
	ks_eval_free(e);
}

/* The same predictions with one-hot labels: categorical 2/4; binary over
 * every element (p > .5 per element vs the one-hot row):
 *   s0 [1 0 0] vs [1 0 0] 3;  s1 [0 0 0] vs [0 0 1] 2;
 *   s2 [0 0 1] vs [0 0 1] 3;  s3 [0 0 0] vs [0 1 0] 2   -> 10/12.
 * This is the classic "binary_crossentropy on a softmax" inflation. */
static void test_onehot_two_ways(void **state)
{
	(void)state;
	const float y[] = {1, 0, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0};
	ks_eval_opts o = {.classes = 3, .label_width = 3, .loss = {.kind = KS_LOSS_CCE}};
	ks_eval_result r;
	ks_eval *e = NULL;
	ks_err err;
	assert_int_equal(eval1(&o, P3, y, 4, &r, &e, &err), 0);
	assert_true(r.applies[KS_ACC_BINARY] && r.applies[KS_ACC_CATEGORICAL]);
	assert_false(r.applies[KS_ACC_SPARSE]);
	assert_float_equal(r.acc[KS_ACC_CATEGORICAL], 0.5, 1e-12);
	assert_int_equal(r.hits[KS_ACC_BINARY], 10);
	assert_int_equal(r.count[KS_ACC_BINARY], 12);
	assert_float_equal(r.loss, 0.746941266, 1e-6);
	ks_eval_free(e);
	/* which one "accuracy" is: legacy Keras with binary_crossentropy takes
	 * binary; tf.keras/Keras 3 look at the (n, 3) labels: categorical */
	assert_int_equal(ks_eval_resolve(KS_RULE_LOSS_BASED, KS_LOSS_BCE, 2, 3, 2, 3), KS_ACC_BINARY);
	assert_int_equal(ks_eval_resolve(KS_RULE_SHAPE_BASED, KS_LOSS_BCE, 2, 3, 2, 3), KS_ACC_CATEGORICAL);
	/* legacy: by the loss, whatever the labels */
	assert_int_equal(ks_eval_resolve(KS_RULE_LOSS_BASED, KS_LOSS_SCCE, 1, 1, 2, 3), KS_ACC_SPARSE);
	assert_int_equal(ks_eval_resolve(KS_RULE_LOSS_BASED, KS_LOSS_CCE, 1, 1, 2, 3), KS_ACC_CATEGORICAL);
	/* shape-based: (n,) or (n, 1) ids are sparse */
	assert_int_equal(ks_eval_resolve(KS_RULE_SHAPE_BASED, KS_LOSS_CCE, 1, 4, 2, 3), KS_ACC_SPARSE);
	assert_int_equal(ks_eval_resolve(KS_RULE_SHAPE_BASED, KS_LOSS_CCE, 2, 1, 2, 3), KS_ACC_SPARSE);
}

/* Losses by hand:
 *   CCE from logits [2, 1, 0], y 0: ln(e^2 + e + 1) - 2 = 0.407605964
 *   clipping: p [1, 0], y 1: -ln(1e-7) = 16.118095651
 *   BCE from logits 0 (sigmoid .5), y 1: ln 2 = 0.693147181
 *   MSE / MAE of p .5 against y 1: .25 / .5
 *   label_smoothing .2 on CCE, p [.5 .5], y 0: targets [.9 .1]: ln 2 */
static void test_losses_by_hand(void **state)
{
	(void)state;
	ks_eval_result r;
	ks_eval *e = NULL;
	ks_err err;
	ks_eval_opts o = {.classes = 3, .label_width = 1, .loss = {.kind = KS_LOSS_CCE, .from_logits = true}};
	assert_int_equal(eval1(&o, (const float[]){2, 1, 0}, (const float[]){0}, 1, &r, &e, &err), 0);
	assert_float_equal(r.loss, 0.407605964, 1e-7);
	ks_eval_free(e);
	o = (ks_eval_opts){.classes = 2, .label_width = 1, .loss = {.kind = KS_LOSS_SCCE}};
	assert_int_equal(eval1(&o, (const float[]){1, 0}, (const float[]){1}, 1, &r, &e, &err), 0);
	assert_float_equal(r.loss, 16.118095651, 1e-6);
	ks_eval_free(e);
	o = (ks_eval_opts){.classes = 1, .label_width = 1, .loss = {.kind = KS_LOSS_BCE, .from_logits = true}};
	assert_int_equal(eval1(&o, (const float[]){0}, (const float[]){1}, 1, &r, &e, &err), 0);
	assert_float_equal(r.loss, 0.693147181, 1e-7);
	ks_eval_free(e);
	o.loss = (ks_loss_spec){.kind = KS_LOSS_MSE};
	assert_int_equal(eval1(&o, (const float[]){0.5f}, (const float[]){1}, 1, &r, &e, &err), 0);
	assert_float_equal(r.loss, 0.25, 1e-9);
	ks_eval_free(e);
	o.loss = (ks_loss_spec){.kind = KS_LOSS_MAE};
	assert_int_equal(eval1(&o, (const float[]){0.5f}, (const float[]){1}, 1, &r, &e, &err), 0);
	assert_float_equal(r.loss, 0.5, 1e-9);
	ks_eval_free(e);
	o = (ks_eval_opts){.classes = 2, .label_width = 1, .loss = {.kind = KS_LOSS_CCE, .label_smoothing = 0.2}};
	assert_int_equal(eval1(&o, (const float[]){0.5f, 0.5f}, (const float[]){0}, 1, &r, &e, &err), 0);
	assert_float_equal(r.loss, 0.693147181, 1e-7);
	ks_eval_free(e);
	/* regression targets on one output: no accuracy, no confusion, a loss */
	o = (ks_eval_opts){.classes = 1, .label_width = 1, .loss = {.kind = KS_LOSS_MSE}};
	assert_int_equal(eval1(&o, (const float[]){0.5f, 2}, (const float[]){1, 3.5f}, 2, &r, &e, &err), 0);
	assert_false(r.applies[KS_ACC_BINARY]);
	assert_int_equal(r.cm_classes, 0);
	assert_float_equal(r.loss, (0.25 + 2.25) / 2, 1e-9);
	ks_eval_free(e);
}

static void test_bad_labels(void **state)
{
	(void)state;
	ks_eval_opts o = {.classes = 3, .label_width = 1};
	ks_err err;
	ks_eval *e = ks_eval_new(&o, &err);
	assert_non_null(e);
	assert_int_equal(ks_eval_add(e, P3, (const float[]){0, 3}, 2, 10, &err), -1);
	assert_non_null(strstr(err.msg, "sample 11 is 3, not a class id in 0..2"));
	assert_int_equal(ks_eval_add(e, P3, (const float[]){1.5f}, 1, 0, &err), -1);
	assert_int_equal(ks_eval_add(e, P3, (const float[]){NAN}, 1, 0, &err), -1);
	ks_eval_result r;
	ks_eval_get(e, &r);
	assert_int_equal(r.n, 0); /* failures add nothing */
	ks_eval_free(e);
	o.label_width = 2;
	assert_null(ks_eval_new(&o, &err));
}

static void test_rules_and_compile(void **state)
{
	(void)state;
	bool assumed;
	assert_int_equal(ks_eval_rule_of("1.2.2", &assumed), KS_RULE_LOSS_BASED);
	assert_int_equal(ks_eval_rule_of("2.2.4", &assumed), KS_RULE_LOSS_BASED);
	assert_int_equal(ks_eval_rule_of("2.2.4-tf", &assumed), KS_RULE_LOSS_BASED);
	assert_int_equal(ks_eval_rule_of("2.3.1", &assumed), KS_RULE_LOSS_BASED);
	assert_int_equal(ks_eval_rule_of("2.3.0-tf", &assumed), KS_RULE_SHAPE_BASED);
	assert_int_equal(ks_eval_rule_of("2.10.0", &assumed), KS_RULE_SHAPE_BASED);
	assert_false(assumed);
	assert_int_equal(ks_eval_rule_of("3.4.1", &assumed), KS_RULE_SHAPE_BASED);
	assert_int_equal(ks_eval_rule_of(NULL, &assumed), KS_RULE_SHAPE_BASED);
	assert_true(assumed);

	ks_model *m = eb_new("2.2.4");
	json_error_t je;
	m->training_config = json_loads("{\"loss\": {\"class_name\": \"SparseCategoricalCrossentropy\", "
	                                "\"config\": {\"from_logits\": true}}, \"metrics\": [[\"acc\"]]}", 0, &je);
	ks_eval_compile cc;
	ks_eval_read_compile(m, &cc);
	assert_int_equal(cc.rule, KS_RULE_LOSS_BASED);
	assert_int_equal(cc.loss.kind, KS_LOSS_SCCE);
	assert_true(cc.loss.from_logits);
	assert_true(cc.names_accuracy);
	assert_string_equal(cc.metric_name, "acc");
	json_decref(m->training_config);
	/* Keras 3 compile_config: serialized objects, a dict per output */
	m->training_config = NULL;
	m->compile_config = json_loads("{\"loss\": {\"out\": \"mse\"}, \"metrics\": {\"out\": [{\"module\": "
	                               "\"keras.metrics\", \"class_name\": \"SparseCategoricalAccuracy\", "
	                               "\"config\": {\"name\": \"sca\"}}]}}", 0, &je);
	ks_eval_read_compile(m, &cc);
	assert_int_equal(cc.loss.kind, KS_LOSS_MSE);
	assert_false(cc.names_accuracy);
	assert_int_equal(cc.explicit_acc, KS_ACC_SPARSE);
	json_decref(m->compile_config);
	m->compile_config = json_loads("{\"loss\": \"my_loss\", \"metrics\": [\"mae\"]}", 0, &je);
	ks_eval_read_compile(m, &cc);
	assert_int_equal(cc.loss.kind, KS_LOSS_OTHER);
	assert_false(cc.names_accuracy);
	assert_int_equal(cc.explicit_acc, KS_ACC_NONE);
	json_decref(m->compile_config);
	m->compile_config = NULL;
	ks_model_free(m);
}

static char *write_tmp(const char *name, const char *text)
{
	char *path = ks_xasprintf("%s/%s", ks_test_tmpdir(), name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_labelled_csv(void **state)
{
	(void)state;
	char *csv = write_tmp("l.csv", "a,b,\"kind\"\n1,2,cat\n3, 4 ,\"dog\"\n\n5,6,cat\n");
	char dog[] = "dog", cat[] = "cat";
	char *names[] = {dog, cat};
	ks_array x, y;
	char *col;
	ks_err err;
	assert_int_equal(ks_input_load_labelled(csv, "kind", names, 2, &x, &y, &col, &err), 0);
	assert_string_equal(col, "kind");
	assert_int_equal(x.shape[0], 3);
	assert_int_equal(x.shape[1], 2);
	assert_int_equal(y.rank, 1);
	assert_float_equal(x.data[2], 3, 0);
	assert_float_equal(x.data[3], 4, 0);
	assert_float_equal(y.data[0], 1, 0);
	assert_float_equal(y.data[1], 0, 0);
	ks_array_free(&x);
	ks_array_free(&y);
	free(col);
	/* by index, negative from the end, and the first column */
	assert_int_equal(ks_input_load_labelled(csv, "-1", names, 2, &x, &y, &col, &err), 0);
	assert_float_equal(y.data[2], 1, 0);
	ks_array_free(&x);
	ks_array_free(&y);
	free(col);
	assert_int_equal(ks_input_load_labelled(csv, "0", NULL, 0, &x, &y, &col, &err), -1);
	assert_non_null(strstr(err.msg, "'cat' is not a number"));
	/* errors */
	assert_int_equal(ks_input_load_labelled(csv, "nope", names, 2, &x, &y, &col, &err), -1);
	assert_non_null(strstr(err.msg, "no column 'nope'"));
	assert_int_equal(ks_input_load_labelled(csv, "7", names, 2, &x, &y, &col, &err), -1);
	assert_non_null(strstr(err.msg, "column 7 does not exist"));
	assert_int_equal(ks_input_load_labelled(csv, "kind", names, 1, &x, &y, &col, &err), -1);
	assert_non_null(strstr(err.msg, "line 2: label 'cat' is not among the class names"));
	assert_int_equal(ks_input_load_labelled(csv, "kind", NULL, 0, &x, &y, &col, &err), -1);
	assert_non_null(strstr(err.msg, "give --labels"));
	free(csv);
	csv = write_tmp("ragged.csv", "1 2 0\n3 4\n");
	assert_int_equal(ks_input_load_labelled(csv, "2", NULL, 0, &x, &y, &col, &err), -1);
	if (!strstr(err.msg, "line 2 has 2 values"))
		fprintf(stderr, "got: %s\n", err.msg);
	assert_non_null(strstr(err.msg, "line 2 has 2 values"));
	free(csv);
	/* whitespace-separated, no header, numeric labels */
	csv = write_tmp("ws.csv", "1 2 0\n3 4 2\n");
	assert_int_equal(ks_input_load_labelled(csv, "2", NULL, 0, &x, &y, &col, &err), 0);
	assert_float_equal(y.data[1], 2, 0);
	assert_string_equal(col, "2");
	ks_array_free(&x);
	ks_array_free(&y);
	free(col);
	free(csv);
	/* names file: a final newline adds no class */
	char *nf = write_tmp("names.txt", "a\nb c\n");
	char **nv;
	int nn;
	assert_int_equal(ks_input_read_names(nf, &nv, &nn, &err), 0);
	assert_int_equal(nn, 2);
	assert_string_equal(nv[1], "b c");
	ks_input_free_names(nv, nn);
	free(nf);
}

static void test_h5_input(void **state)
{
	(void)state;
	char *path = ks_xasprintf("%s/data.h5", ks_test_tmpdir());
	hid_t f = hb_create(path);
	hid_t g = hb_group(f, "inputs");
	hb_dset_f32(g, "x", 2, (hsize_t[]){2, 3}, NULL);
	H5Gclose(g);
	hb_attr_str(f, "note", "not a dataset", true, 0, H5T_STR_NULLTERM);
	H5Fclose(f);

	ks_array a;
	ks_input_kind kind;
	ks_err err;
	char *spec = ks_xasprintf("%s:/inputs/x", path);
	assert_int_equal(ks_input_load(spec, &a, &kind, &err), 0);
	assert_int_equal(kind, KS_INPUT_H5);
	assert_int_equal(a.rank, 2);
	assert_int_equal(a.shape[1], 3);
	assert_float_equal(a.data[5], 5, 0);
	ks_array_free(&a);
	free(spec);
	spec = ks_xasprintf("%s:inputs/x", path); /* relative to the root too */
	assert_int_equal(ks_input_load(spec, &a, &kind, &err), 0);
	ks_array_free(&a);
	free(spec);
	spec = ks_xasprintf("%s:/inputs/y", path);
	assert_int_equal(ks_input_load(spec, &a, &kind, &err), -1);
	assert_non_null(strstr(err.msg, "no dataset '/inputs/y'"));
	free(spec);
	spec = ks_xasprintf("%s:/inputs", path);
	assert_int_equal(ks_input_load(spec, &a, &kind, &err), -1);
	assert_non_null(strstr(err.msg, "no dataset"));
	free(spec);
	spec = ks_xasprintf("%s:", path);
	assert_int_equal(ks_input_load(spec, &a, &kind, &err), -1);
	assert_non_null(strstr(err.msg, "name a dataset"));
	free(spec);
	/* the file alone: asks for the dataset */
	assert_int_equal(ks_input_load(path, &a, &kind, &err), -1);
	assert_non_null(strstr(err.msg, "name the dataset"));
	/* not HDF5 before the colon: a missing file */
	assert_int_equal(ks_input_load("/nonexistent.h5:/x", &a, &kind, &err), -1);
	assert_non_null(strstr(err.msg, "no such file"));
	/* a damaged HDF5 file: one clean error */
	char *bad = ks_xasprintf("%s/bad.h5", ks_test_tmpdir());
	FILE *b = fopen(bad, "wb");
	fwrite("\x89HDF\r\n\x1a\n\0\0\0\0garbage", 1, 20, b);
	fclose(b);
	spec = ks_xasprintf("%s:/x", bad);
	assert_int_equal(ks_input_load(spec, &a, &kind, &err), -1);
	free(spec);
	free(bad);
	free(path);
}

int main(void)
{
	ks_quiet_hdf5();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_binary_by_hand),
		cmocka_unit_test(test_sparse_by_hand),
		cmocka_unit_test(test_onehot_two_ways),
		cmocka_unit_test(test_losses_by_hand),
		cmocka_unit_test(test_bad_labels),
		cmocka_unit_test(test_rules_and_compile),
		cmocka_unit_test(test_labelled_csv),
		cmocka_unit_test(test_h5_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
