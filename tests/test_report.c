/* ks_report: the summary/ls/dump/attrs renderings, on a legacy .h5 model
 * this test writes itself with the HDF5 C API (tf.keras layout: vlen strings,
 * model_weights/<layer>/<layer>/<var>:0), with values chosen so that every
 * expected number can be worked out by hand. */
#include "config.h"

#include <math.h>

#include <hdf5.h>
#include <jansson.h>

#include "ks_test.h"
#include "h5_build.h"
#include "ks_model.h"
#include "ks_report.h"

static const char model_config[] =
	"{\"class_name\": \"Sequential\", \"config\": {\"name\": \"tiny\", \"layers\": ["
	"{\"class_name\": \"InputLayer\", \"config\": {\"batch_input_shape\": [null, 3], "
	"\"dtype\": \"float32\", \"name\": \"x\"}},"
	"{\"class_name\": \"Dense\", \"config\": {\"name\": \"d1\", \"units\": 4, "
	"\"activation\": \"relu\", \"use_bias\": true, \"batch_input_shape\": [null, 3]}},"
	"{\"class_name\": \"Dense\", \"config\": {\"name\": \"d2\", \"units\": 2, "
	"\"activation\": \"linear\", \"use_bias\": true}}]}}";
static const char training_config[] =
	"{\"loss\": \"mse\", \"metrics\": [\"mae\"], \"optimizer_config\": "
	"{\"class_name\": \"SGD\", \"config\": {\"learning_rate\": 0.25, \"momentum\": 0.0}}}";

static void attr_str(hid_t loc, const char *name, const char *value)
{
	hid_t t = H5Tcopy(H5T_C_S1), s = H5Screate(H5S_SCALAR);
	H5Tset_size(t, H5T_VARIABLE);
	H5Tset_cset(t, H5T_CSET_UTF8);
	hid_t a = H5Acreate2(loc, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
	assert_true(a >= 0);
	assert_true(H5Awrite(a, t, &value) >= 0);
	H5Aclose(a);
	H5Sclose(s);
	H5Tclose(t);
}

static void attr_strv(hid_t loc, const char *name, const char **v, hsize_t n)
{
	hid_t t = H5Tcopy(H5T_C_S1), s = H5Screate_simple(1, &n, NULL);
	H5Tset_size(t, H5T_VARIABLE);
	hid_t a = H5Acreate2(loc, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
	assert_true(a >= 0);
	assert_true(H5Awrite(a, t, v) >= 0);
	H5Aclose(a);
	H5Sclose(s);
	H5Tclose(t);
}

static void dataset(hid_t loc, const char *path, int rank, const hsize_t *dims, const float *v)
{
	hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
	H5Pset_create_intermediate_group(lcpl, 1);
	hid_t s = H5Screate_simple(rank, dims, NULL);
	hid_t d = H5Dcreate2(loc, path, H5T_IEEE_F32LE, s, lcpl, H5P_DEFAULT, H5P_DEFAULT);
	assert_true(d >= 0);
	assert_true(H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
	H5Dclose(d);
	H5Sclose(s);
	H5Pclose(lcpl);
}

/* d1/kernel (3, 4) holds 0.5*i - 2 at flat index i; d1/bias is
 * [NaN, Inf, 0, 1]; d2/kernel (4, 2) and d2/bias (2,) are ones. */
static const char *write_model(void)
{
	static char path[512];
	snprintf(path, sizeof path, "%s/tiny.h5", ks_test_tmpdir());
	hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
	assert_true(f >= 0);
	attr_str(f, "keras_version", "2.13.1");
	attr_str(f, "backend", "tensorflow");
	attr_str(f, "model_config", model_config);
	attr_str(f, "training_config", training_config);
	hid_t mw = H5Gcreate2(f, "model_weights", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	const char *layers[] = {"d1", "d2"};
	attr_strv(mw, "layer_names", layers, 2);
	attr_str(mw, "keras_version", "2.13.1");
	attr_str(mw, "backend", "tensorflow");
	float k1[12], b1[4] = {NAN, INFINITY, 0, 1}, k2[8], b2[2] = {1, 1};
	for (int i = 0; i < 12; i++)
		k1[i] = 0.5f * (float)i - 2;
	for (int i = 0; i < 8; i++)
		k2[i] = 1;
	const char *w1[] = {"d1/kernel:0", "d1/bias:0"}, *w2[] = {"d2/kernel:0", "d2/bias:0"};
	hid_t g = H5Gcreate2(mw, "d1", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	attr_strv(g, "weight_names", w1, 2);
	dataset(g, "d1/kernel:0", 2, (hsize_t[]){3, 4}, k1);
	dataset(g, "d1/bias:0", 1, (hsize_t[]){4}, b1);
	H5Gclose(g);
	g = H5Gcreate2(mw, "d2", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	attr_strv(g, "weight_names", w2, 2);
	dataset(g, "d2/kernel:0", 2, (hsize_t[]){4, 2}, k2);
	dataset(g, "d2/bias:0", 1, (hsize_t[]){2}, b2);
	H5Gclose(g);
	H5Gclose(mw);
	H5Fclose(f);
	return path;
}

static ks_model *open_model(void)
{
	ks_err err;
	ks_model *m = ks_model_open(write_model(), NULL, &err);
	if (!m)
		fail_msg("open: %s", err.msg);
	return m;
}

static void capture_begin(FILE **f, char **buf, size_t *len)
{
	*buf = NULL;
	*f = open_memstream(buf, len);
	assert_non_null(*f);
}

static json_t *parse(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	if (!j)
		fail_msg("bad JSON (%s): %s", je.text, text);
	return j;
}

static void test_summary(void **state)
{
	(void)state;
	ks_model *m = open_model();
	ks_err err;
	FILE *f;
	char *buf;
	size_t len;

	capture_begin(&f, &buf, &len);
	assert_int_equal(ks_report_summary(f, m, true, &err), 0);
	fclose(f);
	json_t *j = parse(buf);
	/* 3*4 + 4 + 4*2 + 2 = 26 parameters, all trainable, 104 bytes as float32 */
	assert_int_equal(json_integer_value(json_object_get(j, "total_params")), 26);
	assert_int_equal(json_integer_value(json_object_get(j, "trainable_params")), 26);
	assert_int_equal(json_integer_value(json_object_get(j, "non_trainable_params")), 0);
	assert_string_equal(json_string_value(json_object_get(j, "format")), "legacy-h5");
	assert_string_equal(json_string_value(json_object_get(j, "keras_version")), "2.13.1");
	assert_string_equal(json_string_value(json_object_get(j, "backend")), "tensorflow");
	json_t *layers = json_object_get(j, "layers");
	json_t *d1 = NULL, *d2 = NULL;
	size_t i;
	json_t *l;
	json_array_foreach(layers, i, l) {
		const char *n = json_string_value(json_object_get(l, "name"));
		if (strcmp(n, "d1") == 0)
			d1 = l;
		if (strcmp(n, "d2") == 0)
			d2 = l;
	}
	assert_non_null(d1);
	assert_non_null(d2);
	assert_int_equal(json_integer_value(json_object_get(d1, "params")), 16);
	assert_int_equal(json_integer_value(json_object_get(d2, "params")), 10);
	assert_string_equal(json_string_value(json_object_get(d1, "class_name")), "Dense");
	assert_true(json_is_true(json_object_get(d1, "trainable")));
	json_t *os = json_object_get(d2, "output_shape");
	if (!json_is_null(os)) { /* shape inference may be unavailable; when present it is (None, 2) */
		assert_int_equal(json_array_size(os), 2);
		assert_true(json_is_null(json_array_get(os, 0)));
		assert_int_equal(json_integer_value(json_array_get(os, 1)), 2);
	}
	json_decref(j);
	free(buf);

	capture_begin(&f, &buf, &len);
	assert_int_equal(ks_report_summary(f, m, false, &err), 0);
	fclose(f);
	assert_non_null(strstr(buf, "Model: \"tiny\" (Sequential)"));
	assert_non_null(strstr(buf, "d1 (Dense)"));
	assert_non_null(strstr(buf, "Total params: 26 (104.00 B)"));
	assert_non_null(strstr(buf, "Non-trainable params: 0 (0.00 B)"));
	free(buf);
	ks_model_free(m);
}

static void test_ls_attrs(void **state)
{
	(void)state;
	ks_model *m = open_model();
	ks_err err;
	FILE *f;
	char *buf;
	size_t len;

	capture_begin(&f, &buf, &len);
	assert_int_equal(ks_report_ls(f, m, false, false, &err), 0);
	fclose(f);
	assert_non_null(strstr(buf, "/model_weights/d1/d1/kernel:0"));
	assert_non_null(strstr(buf, "(3, 4)"));
	assert_non_null(strstr(buf, "float32"));
	free(buf);

	capture_begin(&f, &buf, &len);
	assert_int_equal(ks_report_ls(f, m, true, true, &err), 0);
	fclose(f);
	json_t *j = parse(buf);
	json_t *tree = json_object_get(j, "tree"), *it;
	size_t i;
	bool found = false;
	json_array_foreach(tree, i, it)
		if (strcmp(json_string_value(json_object_get(it, "path")), "/model_weights/d2/d2/bias:0") == 0)
			found = json_integer_value(json_array_get(json_object_get(it, "shape"), 0)) == 2;
	assert_true(found);
	json_decref(j);
	free(buf);

	capture_begin(&f, &buf, &len);
	assert_int_equal(ks_report_attrs(f, m, false, &err), 0);
	fclose(f);
	assert_non_null(strstr(buf, "Keras version:  2.13.1"));
	assert_non_null(strstr(buf, "loss"));
	assert_non_null(strstr(buf, "mse"));
	assert_non_null(strstr(buf, "SGD"));
	assert_non_null(strstr(buf, "learning_rate"));
	assert_non_null(strstr(buf, "0.25"));
	assert_non_null(strstr(buf, "Optimizer state: none"));
	free(buf);

	capture_begin(&f, &buf, &len);
	assert_int_equal(ks_report_attrs(f, m, true, &err), 0);
	fclose(f);
	j = parse(buf);
	json_t *tc = json_object_get(j, "training_config");
	assert_string_equal(json_string_value(json_object_get(tc, "loss")), "mse");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "root_attributes"),
	                                                      "backend")), "tensorflow");
	json_decref(j);
	free(buf);
	ks_model_free(m);
}

static void test_dump(void **state)
{
	(void)state;
	ks_model *m = open_model();
	ks_err err;
	FILE *f;
	char *buf;
	size_t len;
	ks_dump_opts o = {.bins = 4, .json = true};

	/* kernel: 0.5*i - 2, i = 0..11: min -2, max 3.5, mean 0.75, one zero (i = 4),
	 * std = 0.5 * sqrt((12^2 - 1) / 12) */
	capture_begin(&f, &buf, &len);
	assert_int_equal(ks_report_dump(f, m, "d1/kernel", &o, &err), 0);
	fclose(f);
	json_t *j = parse(buf), *st = json_object_get(j, "stats");
	assert_int_equal(json_integer_value(json_object_get(st, "count")), 12);
	assert_float_equal(json_real_value(json_object_get(st, "min")), -2, 0);
	assert_float_equal(json_real_value(json_object_get(st, "max")), 3.5, 0);
	assert_float_equal(json_real_value(json_object_get(st, "mean")), 0.75, 1e-9);
	assert_float_equal(json_real_value(json_object_get(st, "std")), 0.5 * sqrt(143.0 / 12), 1e-8);
	assert_int_equal(json_integer_value(json_object_get(st, "zeros")), 1);
	/* 4 bins of width 1.375 from -2: values -2..-0.5 (4), 0..1 (3: 0,0.5,1... ) */
	json_t *counts = json_object_get(json_object_get(j, "histogram"), "counts");
	assert_int_equal(json_array_size(counts), 4);
	/* [-2,-0.625): -2,-1.5,-1 -> 3; [-0.625,0.75): -0.5,0,0.5 -> 3;
	 * [0.75,2.125): 1,1.5,2 -> 3; [2.125,3.5]: 2.5,3,3.5 -> 3 */
	for (int i = 0; i < 4; i++)
		assert_int_equal(json_integer_value(json_array_get(counts, i)), 3);
	json_t *vals = json_object_get(j, "values");
	assert_int_equal(json_array_size(vals), 3);
	assert_float_equal(json_real_value(json_array_get(json_array_get(vals, 2), 3)), 3.5, 0);
	assert_float_equal(json_real_value(json_array_get(json_array_get(vals, 0), 1)), -1.5, 0);
	json_decref(j);
	free(buf);

	/* kernel[1:3, -1] is flat indices 7 and 11: 1.5 and 3.5 */
	o.slice = "[1:3, -1]";
	capture_begin(&f, &buf, &len);
	assert_int_equal(ks_report_dump(f, m, "d1/kernel", &o, &err), 0);
	fclose(f);
	j = parse(buf);
	vals = json_object_get(j, "values");
	assert_int_equal(json_array_size(vals), 2);
	assert_float_equal(json_real_value(json_array_get(vals, 0)), 1.5, 0);
	assert_float_equal(json_real_value(json_array_get(vals, 1)), 3.5, 0);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(j, "slice_shape"), 0)), 2);
	json_decref(j);
	free(buf);

	/* bias [NaN, Inf, 0, 1]: the moments cover 0 and 1 only */
	o.slice = NULL;
	capture_begin(&f, &buf, &len);
	assert_int_equal(ks_report_dump(f, m, "/model_weights/d1/d1/bias:0", &o, &err), 0);
	fclose(f);
	j = parse(buf);
	st = json_object_get(j, "stats");
	assert_int_equal(json_integer_value(json_object_get(st, "nan")), 1);
	assert_int_equal(json_integer_value(json_object_get(st, "inf")), 1);
	assert_int_equal(json_integer_value(json_object_get(st, "zeros")), 1);
	assert_float_equal(json_real_value(json_object_get(st, "mean")), 0.5, 0);
	vals = json_object_get(j, "values");
	assert_string_equal(json_string_value(json_array_get(vals, 0)), "NaN");
	assert_string_equal(json_string_value(json_array_get(vals, 1)), "Infinity");
	json_decref(j);
	free(buf);

	/* text form, elided: 12 values with --max 4 keep everything on axes of size <= 6 */
	o = (ks_dump_opts){.bins = 0, .max_values = 4};
	capture_begin(&f, &buf, &len);
	assert_int_equal(ks_report_dump(f, m, "d1/kernel", &o, &err), 0);
	fclose(f);
	assert_non_null(strstr(buf, "[[-2. , -1.5, -1. , -0.5],") || strstr(buf, "[[-2.0, -1.5, -1.0, -0.5],"));
	assert_null(strstr(buf, "Histogram"));
	free(buf);

	/* errors */
	o = (ks_dump_opts){.bins = -1};
	f = fopen("/dev/null", "w");
	assert_int_equal(ks_report_dump(f, m, "d1/nothing", &o, &err), -1);
	assert_non_null(strstr(err.msg, "d1/nothing"));
	o.slice = "[5]";
	assert_int_equal(ks_report_dump(f, m, "d1/kernel", &o, &err), -1);
	assert_non_null(strstr(err.msg, "out of bounds"));
	fclose(f);
	ks_model_free(m);
}

/* A functional model applying one nested Functional model to two inputs
 * (tf.keras 2.8 siamese layout: the nested model's weights sit at
 * model_weights/inner/<inner layer>/<var>:0, trainable ones first). */
static const char nested_config[] =
	"{\"class_name\": \"Functional\", \"config\": {\"name\": \"siamese\", \"layers\": ["
	"{\"class_name\": \"InputLayer\", \"name\": \"a\", \"config\": {\"batch_input_shape\": [null, 4], \"name\": \"a\"}, \"inbound_nodes\": []},"
	"{\"class_name\": \"InputLayer\", \"name\": \"b\", \"config\": {\"batch_input_shape\": [null, 4], \"name\": \"b\"}, \"inbound_nodes\": []},"
	"{\"class_name\": \"Functional\", \"name\": \"inner\", \"config\": {\"name\": \"inner\", \"layers\": ["
	" {\"class_name\": \"InputLayer\", \"name\": \"in_i\", \"config\": {\"batch_input_shape\": [null, 4], \"name\": \"in_i\"}, \"inbound_nodes\": []},"
	" {\"class_name\": \"Dense\", \"name\": \"dense_i\", \"config\": {\"name\": \"dense_i\", \"units\": 3}, \"inbound_nodes\": [[[\"in_i\", 0, 0, {}]]]},"
	" {\"class_name\": \"BatchNormalization\", \"name\": \"bn_i\", \"config\": {\"name\": \"bn_i\", \"axis\": [1]}, \"inbound_nodes\": [[[\"dense_i\", 0, 0, {}]]]}],"
	" \"input_layers\": [[\"in_i\", 0, 0]], \"output_layers\": [[\"bn_i\", 0, 0]]},"
	" \"inbound_nodes\": [[[\"a\", 0, 0, {}]], [[\"b\", 0, 0, {}]]]},"
	"{\"class_name\": \"Subtract\", \"name\": \"sub\", \"config\": {\"name\": \"sub\"}, \"inbound_nodes\": [[[\"inner\", 1, 0, {}], [\"inner\", 2, 0, {}]]]}],"
	" \"input_layers\": [[\"a\", 0, 0], [\"b\", 0, 0]], \"output_layers\": [[\"sub\", 0, 0]]}}";

static ks_model *open_nested(void)
{
	char path[512];
	ks_err err;
	snprintf(path, sizeof path, "%s/nested.h5", ks_test_tmpdir());
	hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
	assert_true(f >= 0);
	attr_str(f, "keras_version", "2.8.0");
	attr_str(f, "backend", "tensorflow");
	attr_str(f, "model_config", nested_config);
	hid_t mw = H5Gcreate2(f, "model_weights", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	const char *layers[] = {"a", "b", "inner", "sub"};
	attr_strv(mw, "layer_names", layers, 4);
	const char *wn[] = {"dense_i/kernel:0", "dense_i/bias:0", "bn_i/gamma:0", "bn_i/beta:0",
	                    "bn_i/moving_mean:0", "bn_i/moving_variance:0"};
	hid_t g = H5Gcreate2(mw, "inner", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	attr_strv(g, "weight_names", wn, 6);
	float ones[12] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
	dataset(g, wn[0], 2, (hsize_t[]){4, 3}, ones);
	for (int i = 1; i < 6; i++)
		dataset(g, wn[i], 1, (hsize_t[]){3}, ones);
	H5Gclose(g);
	for (int i = 0; i < 4; i++) {
		if (i == 2)
			continue;
		/* weightless layers: weight_names is an empty float64 array, as h5py writes [] */
		hid_t lg = H5Gcreate2(mw, layers[i], H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
		hsize_t zero = 0;
		hid_t sp = H5Screate_simple(1, &zero, NULL);
		hid_t a = H5Acreate2(lg, "weight_names", H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
		H5Aclose(a);
		H5Sclose(sp);
		H5Gclose(lg);
	}
	H5Gclose(mw);
	H5Fclose(f);
	ks_model *m = ks_model_open(path, NULL, &err);
	if (!m)
		fail_msg("open nested: %s", err.msg);
	return m;
}

static void test_nested(void **state)
{
	(void)state;
	ks_model *m = open_nested();
	ks_err err;
	FILE *f;
	char *buf;
	size_t len;

	capture_begin(&f, &buf, &len);
	assert_int_equal(ks_report_summary(f, m, true, &err), 0);
	fclose(f);
	json_t *j = parse(buf);
	/* Dense 4*3+3 = 15 trainable; BN gamma, beta trainable (6), moving stats not (6) */
	assert_int_equal(json_integer_value(json_object_get(j, "total_params")), 27);
	assert_int_equal(json_integer_value(json_object_get(j, "trainable_params")), 21);
	assert_int_equal(json_integer_value(json_object_get(j, "non_trainable_params")), 6);
	assert_int_equal(json_integer_value(json_object_get(j, "trainable_bytes")), 84);
	assert_int_equal(json_integer_value(json_object_get(j, "non_trainable_bytes")), 24);
	json_t *layers = json_object_get(j, "layers"), *inner = json_array_get(layers, 2);
	assert_string_equal(json_string_value(json_object_get(inner, "name")), "inner");
	assert_int_equal(json_integer_value(json_object_get(inner, "params")), 27);
	assert_int_equal(json_array_size(json_object_get(inner, "layers")), 3);
	/* two calls of the shared nested model */
	assert_int_equal(json_array_size(json_object_get(inner, "inbound_nodes")), 2);
	json_decref(j);
	free(buf);

	capture_begin(&f, &buf, &len);
	assert_int_equal(ks_report_summary(f, m, false, &err), 0);
	fclose(f);
	assert_non_null(strstr(buf, "\ninner (Functional)"));
	assert_non_null(strstr(buf, "\n  dense_i (Dense)"));
	assert_non_null(strstr(buf, "\n  bn_i (BatchNormalization)"));
	assert_non_null(strstr(buf, "Connected to"));
	assert_non_null(strstr(buf, "Non-trainable params: 6 (24.00 B)"));
	free(buf);

	capture_begin(&f, &buf, &len);
	assert_int_equal(ks_report_ls(f, m, false, false, &err), 0);
	fclose(f);
	assert_non_null(strstr(buf, "/model_weights/inner/bn_i/moving_mean:0  [non-trainable]"));
	free(buf);

	ks_dump_opts o = {.bins = -1, .json = true};
	capture_begin(&f, &buf, &len);
	assert_int_equal(ks_report_dump(f, m, "inner/dense_i/kernel", &o, &err), 0);
	fclose(f);
	j = parse(buf);
	assert_float_equal(json_real_value(json_object_get(json_object_get(j, "stats"), "mean")), 1, 0);
	json_decref(j);
	free(buf);
	ks_model_free(m);
}

/* A weights-only file whose layer name is not UTF-8 (0xff) and holds an
 * escape character: JSON keeps the layer, with '?' for the bad byte. */
static void test_bad_names(void **state)
{
	(void)state;
	char path[512];
	ks_err err;
	snprintf(path, sizeof path, "%s/badname.h5", ks_test_tmpdir());
	hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
	hsize_t one = 1;
	hid_t sp = H5Screate_simple(1, &one, NULL), t = H5Tcopy(H5T_C_S1);
	H5Tset_size(t, 4);
	hid_t a = H5Acreate2(f, "layer_names", t, sp, H5P_DEFAULT, H5P_DEFAULT);
	assert_true(H5Awrite(a, t, "d\xff\x1b") >= 0);
	H5Aclose(a);
	hid_t g = H5Gcreate2(f, "d\xff\x1b", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	H5Tset_size(t, 8);
	a = H5Acreate2(g, "weight_names", t, sp, H5P_DEFAULT, H5P_DEFAULT);
	assert_true(H5Awrite(a, t, "d\xff\x1b/k:0") >= 0);
	H5Aclose(a);
	dataset(g, "d\xff\x1b/k:0", 1, (hsize_t[]){2}, (const float[]){1, 2});
	H5Gclose(g);
	H5Tclose(t);
	H5Sclose(sp);
	H5Fclose(f);
	ks_model *m = ks_model_open(path, NULL, &err);
	if (!m)
		fail_msg("open: %s", err.msg);
	char *buf;
	size_t len;
	FILE *out;
	capture_begin(&out, &buf, &len);
	assert_int_equal(ks_report_ls(out, m, true, false, &err), 0);
	fclose(out);
	json_t *j = parse(buf);
	json_t *l = json_array_get(json_object_get(j, "layers"), 0);
	assert_string_equal(json_string_value(json_object_get(l, "name")), "d?\x1b");
	assert_int_equal(json_integer_value(json_object_get(l, "params")), 2);
	json_decref(j);
	free(buf);
	/* Text shows the name escaped (ks_esc.h), in ls, summary and dump:
	 * no raw ESC or stray byte reaches a terminal. */
	capture_begin(&out, &buf, &len);
	assert_int_equal(ks_report_ls(out, m, false, false, &err), 0);
	assert_int_equal(ks_report_summary(out, m, false, &err), 0);
	fclose(out);
	assert_non_null(strstr(buf, "d\\xff\\e (?)"));
	assert_non_null(strstr(buf, "d\\xff\\e/d\\xff\\e/k:0"));
	assert_null(strchr(buf, 0x1b));
	assert_null(strchr(buf, 0xff));
	free(buf);
	ks_model_free(m);
}

/* A name with a newline and a terminal title sequence (issue 13): the text
 * reports keep one line per row; the error line of a failed lookup names
 * the weight escaped. */
static void test_hostile_names(void **state)
{
	(void)state;
	char path[512];
	ks_err err;
	const char *bad = "x\n\033]0;T\a";
	const char *wn[] = {"x\n\033]0;T\a/kernel:0"};
	snprintf(path, sizeof path, "%s/hostile_names.h5", ks_test_tmpdir());
	hid_t f = hb_create(path);
	hb_attr_strv(f, "layer_names", &bad, 1, true);
	hid_t g = hb_group(f, bad);
	hb_attr_strv(g, "weight_names", wn, 1, true);
	hb_dset_f32(g, wn[0], 1, (hsize_t[]){2}, NULL);
	H5Gclose(g);
	H5Fclose(f);
	ks_model *m = ks_model_open(path, NULL, &err);
	if (!m)
		fail_msg("open: %s", err.msg);
	char *buf;
	size_t len;
	FILE *out;
	capture_begin(&out, &buf, &len);
	assert_int_equal(ks_report_ls(out, m, false, false, &err), 0);
	fclose(out);
	assert_null(strchr(buf, 0x1b));
	assert_null(strchr(buf, '\a'));
	assert_non_null(strstr(buf, "x\\n\\e]0;T\\a (?)  2 params\n"));
	free(buf);
	ks_dump_opts o = {.bins = 0};
	capture_begin(&out, &buf, &len);
	assert_int_equal(ks_report_dump(out, m, "x\n\033]0;T\a/nothing", &o, &err), -1);
	fclose(out);
	free(buf);
	assert_null(strchr(err.msg, 0x1b));
	assert_null(strchr(err.msg, '\n'));
	assert_non_null(strstr(err.msg, "x\\n\\e]0;T\\a/nothing"));
	ks_model_free(m);
}

static char *print_array(const float *v, const int64_t *shape, int rank, const bool *el)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ks_report_print_array(f, v, shape, rank, el, 3);
	fclose(f);
	return buf;
}

/* Expected strings are numpy 1.24's repr of the same arrays without the
 * "array(" wrapper, except where noted (numpy pads fractions with spaces,
 * we with zeros). */
static void test_print_array(void **state)
{
	(void)state;
	char *s;
	/* np.array([[1, 2], [3, 4]], np.float32) */
	s = print_array((const float[]){1, 2, 3, 4}, (int64_t[]){2, 2}, 2, NULL);
	assert_string_equal(s, "[[1., 2.],\n [3., 4.]]\n");
	free(s);
	/* np.array([0.5, -1.25], np.float32): numpy "[ 0.5 , -1.25]" */
	s = print_array((const float[]){0.5f, -1.25f}, (int64_t[]){2}, 1, NULL);
	assert_string_equal(s, "[ 0.50, -1.25]\n");
	free(s);
	/* np.arange(10000, dtype=np.float32) summarised: ratio > 1e3 -> scientific,
	 * "[0.000e+00, 1.000e+00, 2.000e+00, ..., 9.997e+03, 9.998e+03, 9.999e+03]"
	 * (numpy wraps it only because of its "array(" prefix) */
	s = print_array((const float[]){0, 1, 2, 9997, 9998, 9999}, (int64_t[]){6}, 1, (bool[]){true});
	assert_string_equal(s, "[0.000e+00, 1.000e+00, 2.000e+00, ..., 9.997e+03, 9.998e+03, 9.999e+03]\n");
	free(s);
	/* rank 3: blank line between blocks, as numpy; NaN and Inf spelled as numpy */
	s = print_array((const float[]){1, NAN, INFINITY, -2}, (int64_t[]){2, 1, 2}, 3, NULL);
	assert_string_equal(s, "[[[ 1., nan]],\n\n [[inf, -2.]]]\n");
	free(s);
	/* scalar */
	s = print_array((const float[]){0.25f}, NULL, 0, NULL);
	assert_string_equal(s, "0.25\n");
	free(s);
}

static void test_helpers(void **state)
{
	(void)state;
	char b[32];
	/* Keras' readable sizes: 1024 base, two decimals */
	assert_string_equal(ks_report_bytes(524, b, sizeof b), "524.00 B");
	assert_string_equal(ks_report_bytes(1052, b, sizeof b), "1.03 KB");
	assert_string_equal(ks_report_bytes(553434112, b, sizeof b), "527.80 MB");
	assert_float_equal(ks_report_f32(0.1f), 0.1, 0);
	assert_float_equal(ks_report_f32(0.7f), 0.7, 0);
	assert_float_equal(ks_report_f32(-3.5f), -3.5, 0);
}

static void test_count_duration(void **state)
{
	(void)state;
	char b[64];
	assert_string_equal(ks_report_count(0, b, sizeof b), "0");
	assert_string_equal(ks_report_count(999, b, sizeof b), "999");
	assert_string_equal(ks_report_count(1000, b, sizeof b), "1,000");
	assert_string_equal(ks_report_count(138357544, b, sizeof b), "138,357,544");
	assert_string_equal(ks_report_count(-1234567, b, sizeof b), "-1,234,567");
	assert_string_equal(ks_report_duration(0.00209, b, sizeof b), "2.09 \xc2\xb5s");
	assert_string_equal(ks_report_duration(0.5, b, sizeof b), "500 \xc2\xb5s");
	assert_string_equal(ks_report_duration(12.345, b, sizeof b), "12.3 ms");
	assert_string_equal(ks_report_duration(1500, b, sizeof b), "1.5 s");
}

/* An in-memory tensor elided as dump elides: (400, 3) over 20 values keeps
 * rows 0-2 and 397-399 (values i % 10: 1191.. -> 1, 2, 3); the short axis
 * stays whole. */
static void test_print_values(void **state)
{
	(void)state;
	float v[1200];
	for (int i = 0; i < 1200; i++)
		v[i] = (float)(i % 10);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	assert_int_equal(ks_report_print_values(f, v, (int64_t[]){400, 3}, 2, 20), 18);
	fclose(f);
	assert_string_equal(text, "[[0., 1., 2.],\n [3., 4., 5.],\n [6., 7., 8.],\n ...,\n"
	                          " [1., 2., 3.],\n [4., 5., 6.],\n [7., 8., 9.]]\n");
	free(text);
	f = open_memstream(&text, &len);
	assert_int_equal(ks_report_print_values(f, v, (int64_t[]){2, 3}, 2, 0), 6);
	fclose(f);
	assert_string_equal(text, "[[0., 1., 2.],\n [3., 4., 5.]]\n");
	free(text);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_summary),
	cmocka_unit_test(test_ls_attrs),
	cmocka_unit_test(test_dump),
	cmocka_unit_test(test_nested),
	cmocka_unit_test(test_bad_names),
	cmocka_unit_test(test_hostile_names),
	cmocka_unit_test(test_print_array),
	cmocka_unit_test(test_helpers),
	cmocka_unit_test(test_count_duration),
	cmocka_unit_test(test_print_values),
};
KS_TEST_MAIN(tests)
