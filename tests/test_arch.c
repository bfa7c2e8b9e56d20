/* ks_arch: every source of an architecture, and every way one can be wrong.
 * All files are built here; nothing depends on the shared fixtures. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "ks_test.h"
#include "h5_build.h"
#include "k3_build.h"

#include "ks_arch.h"
#include "ks_model.h"
#include "ks_util.h"

static const char ARCH[] =
	"{\"class_name\": \"Sequential\", \"config\": {\"name\": \"seq\", \"layers\": ["
	"{\"class_name\": \"Dense\", \"config\": {\"name\": \"dense\", \"units\": 2, "
	"\"activation\": \"linear\", \"use_bias\": true, \"batch_input_shape\": [null, 3]}}]}, "
	"\"keras_version\": \"2.13.1\", \"backend\": \"tensorflow\"}";

static char *tmp(const char *name)
{
	return ks_xasprintf("%s/%s", ks_test_tmpdir(), name);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	fclose(f);
}

/* A weights-only file for ARCH: layer_names ["dense"], kernel (3,2), bias (2). */
static char *weights_file(void)
{
	static const char *const ln[] = {"dense"};
	static const char *const wn[] = {"dense/kernel:0", "dense/bias:0"};
	static const hsize_t shapes[2][4] = {{3, 2}, {2}};
	char *p = tmp("w.h5");
	hid_t f = hb_create(p);
	hb_attr_strv(f, "layer_names", ln, 1, true);
	hb_attr_str(f, "keras_version", "2.13.1", false, 0, H5T_STR_NULLTERM);
	hb_layer(f, "dense", wn, 2, shapes);
	H5Fclose(f);
	return p;
}

/* The full model twin: model_config plus /model_weights. */
static char *full_file(void)
{
	static const char *const ln[] = {"dense"};
	static const char *const wn[] = {"dense/kernel:0", "dense/bias:0"};
	static const hsize_t shapes[2][4] = {{3, 2}, {2}};
	char *p = tmp("full.h5");
	hid_t f = hb_create(p), wg;
	hb_attr_str(f, "model_config", ARCH, true, 0, H5T_STR_NULLTERM);
	wg = hb_group(f, "model_weights");
	hb_attr_strv(wg, "layer_names", ln, 1, true);
	hb_layer(wg, "dense", wn, 2, shapes);
	H5Gclose(wg);
	H5Fclose(f);
	return p;
}

/* A JSON string whose content is text (json.dump(model.to_json(), f)). */
static char *wrap(const char *text)
{
	json_t *s = json_string(text);
	char *out = json_dumps(s, JSON_ENCODE_ANY);
	json_decref(s);
	return out;
}

static ks_model *open_with(const char *w, const ks_open_opts *o, ks_err *err)
{
	ks_model *m = ks_model_open(w, o, err);
	if (!m)
		fprintf(stderr, "open failed: %s\n", err->msg);
	return m;
}

static void expect_dense(const ks_model *m)
{
	assert_non_null(m);
	assert_int_equal(m->format, KS_FMT_WEIGHTS_H5);
	assert_non_null(m->model_config);
	const ks_layer *L = ks_model_find_layer(m, "dense", false);
	assert_non_null(L);
	assert_string_equal(L->class_name, "Dense");
	assert_int_equal(L->n_weights, 2);
	assert_int_equal(m->total_params, 8);
}

static void test_json_file(void **state)
{
	char *w = weights_file(), *a = tmp("arch.json");
	ks_open_opts o = {.config_path = a};
	ks_err err;
	ks_model *m;

	(void)state;
	write_text(a, ARCH);
	m = open_with(w, &o, &err);
	expect_dense(m);
	assert_string_equal(m->keras_version, "2.13.1");
	ks_model_free(m);
	free(w);
	free(a);
}

static void test_json_string_wrapped(void **state)
{
	char *w = weights_file(), *a = tmp("wrapped.json"), *a2 = tmp("wrapped2.json");
	char *once = wrap(ARCH), *twice = wrap(once), *text;
	ks_open_opts o = {.config_path = a};
	ks_err err;
	ks_model *m;
	size_t len;

	(void)state;
	write_text(a, once);
	m = open_with(w, &o, &err);
	expect_dense(m);
	ks_model_free(m);
	/* config writes the text as stored: still the string */
	assert_int_equal(ks_arch_read_text(a, &text, &len, &err), 0);
	assert_string_equal(text, once);
	free(text);

	write_text(a2, twice);
	o.config_path = a2;
	m = open_with(w, &o, &err);
	expect_dense(m);
	ks_model_free(m);

	/* a string that is not an architecture inside */
	write_text(a2, "\"{\\\"class_name\\\": \"");
	assert_null(ks_model_open(w, &o, &err));
	assert_non_null(strstr(err.msg, a2));
	assert_non_null(strstr(err.msg, "not valid JSON"));
	write_text(a2, "\"hello\"");
	assert_null(ks_model_open(w, &o, &err));
	assert_non_null(strstr(err.msg, a2));
	free(once);
	free(twice);
	free(w);
	free(a);
	free(a2);
}

static void test_wrapped_too_deep(void **state)
{
	json_t *j = json_loads(ARCH, 0, NULL), *arch;
	ks_err err;

	(void)state;
	assert_non_null(j);
	for (int i = 0; i < KS_ARCH_MAX_WRAP; i++) {
		char *s = json_dumps(j, JSON_ENCODE_ANY);
		json_decref(j);
		j = json_string(s);
		free(s);
	}
	arch = ks_arch_check(j, "mem", &err);
	assert_non_null(arch);
	assert_string_equal(json_string_value(json_object_get(arch, "class_name")), "Sequential");
	json_decref(arch);
	{
		char *s = json_dumps(j, JSON_ENCODE_ANY);
		json_decref(j);
		j = json_string(s);
		free(s);
	}
	assert_null(ks_arch_check(j, "mem", &err));
	assert_non_null(strstr(err.msg, "wrapped more than"));
	json_decref(j);
}

static void test_wrong_shapes(void **state)
{
	static const char *const bad[] = {
		"[1, 2]", "42", "null", "{\"config\": {}}", "{\"class_name\": 3}", "true",
	};
	static const char *const kind[] = {
		"JSON array", "JSON number", "JSON null", "JSON object", "JSON object", "JSON boolean",
	};
	char *w = weights_file(), *a = tmp("shape.json");
	ks_open_opts o = {.config_path = a};
	ks_err err;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		write_text(a, bad[i]);
		assert_null(ks_model_open(w, &o, &err));
		assert_non_null(strstr(err.msg, a));
		assert_non_null(strstr(err.msg, "not a Keras model architecture"));
		assert_non_null(strstr(err.msg, kind[i]));
		assert_null(strchr(err.msg, '\n'));
	}
	free(w);
	free(a);
}

static void test_not_json(void **state)
{
	char *w = weights_file(), *a = tmp("notjson.json");
	ks_open_opts o = {.config_path = a};
	ks_err err;

	(void)state;
	write_text(a, "class_name: Sequential\n");
	assert_null(ks_model_open(w, &o, &err));
	assert_non_null(strstr(err.msg, a));
	assert_non_null(strstr(err.msg, "not valid JSON"));
	write_text(a, "");
	assert_null(ks_model_open(w, &o, &err));
	assert_non_null(strstr(err.msg, "empty file"));
	free(w);
	free(a);
}

static void test_special_files(void **state)
{
	char *w = weights_file(), *fifo = tmp("arch.fifo"), *big = tmp("big.json");
	ks_open_opts o = {.config_path = fifo};
	ks_err err;
	int fd;

	(void)state;
	assert_int_equal(mkfifo(fifo, 0600), 0);
	alarm(10); /* a FIFO without a writer must not be waited on */
	assert_null(ks_model_open(w, &o, &err));
	alarm(0);
	assert_non_null(strstr(err.msg, fifo));
	assert_non_null(strstr(err.msg, "not a regular file"));
	unlink(fifo);

	o.config_path = ks_test_tmpdir();
	assert_null(ks_model_open(w, &o, &err));
	assert_non_null(strstr(err.msg, "is a directory"));

	/* sparse: the size is refused before anything is read */
	fd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)KS_ARCH_MAX_BYTES + 1), 0);
	close(fd);
	o.config_path = big;
	assert_null(ks_model_open(w, &o, &err));
	assert_non_null(strstr(err.msg, big));
	assert_non_null(strstr(err.msg, "too large"));
	unlink(big);

	o.config_path = "/nonexistent/arch.json";
	assert_null(ks_model_open(w, &o, &err));
	assert_non_null(strstr(err.msg, "/nonexistent/arch.json"));
	free(w);
	free(fifo);
	free(big);
}

static void test_model_file_h5(void **state)
{
	char *w = weights_file(), *full = full_file(), *text;
	ks_open_opts o = {.config_path = full};
	ks_err err;
	ks_model *m;
	size_t len;

	(void)state;
	m = open_with(w, &o, &err);
	expect_dense(m);
	ks_model_free(m);
	assert_int_equal(ks_arch_read_text(full, &text, &len, &err), 0);
	assert_string_equal(text, ARCH);
	assert_int_equal(len, strlen(ARCH));
	free(text);

	/* a weights-only file holds no architecture */
	o.config_path = w;
	assert_null(ks_model_open(w, &o, &err));
	assert_non_null(strstr(err.msg, "holds no model architecture"));
	assert_non_null(strstr(err.msg, "weights-only"));
	free(w);
	free(full);
}

static void test_model_file_zip(void **state)
{
	char *w = weights_file(), *z = tmp("m.keras"), *z2 = tmp("noconf.keras"), *text;
	k3_member mem[] = {
		{"config.json", ARCH, strlen(ARCH), NULL, true},
		{"model.weights.h5", NULL, 0, w, false},
	};
	ks_open_opts o = {.config_path = z};
	ks_err err;
	ks_model *m;
	size_t len;

	(void)state;
	k3_zip(z, mem, 2);
	m = open_with(w, &o, &err);
	expect_dense(m);
	ks_model_free(m);
	assert_int_equal(ks_arch_read_text(z, &text, &len, &err), 0);
	assert_string_equal(text, ARCH);
	free(text);

	k3_zip(z2, mem + 1, 1);
	o.config_path = z2;
	assert_null(ks_model_open(w, &o, &err));
	assert_non_null(strstr(err.msg, z2));
	assert_non_null(strstr(err.msg, "config.json"));
	free(w);
	free(z);
	free(z2);
}

/* In memory: precedence over config_path, and checked like a file. */
static void test_in_memory(void **state)
{
	char *w = weights_file();
	json_t *j = json_loads(ARCH, 0, NULL), *s;
	ks_open_opts o = {.config = j, .config_path = "/nonexistent/ignored.json"};
	ks_err err;
	ks_model *m;
	char *text;

	(void)state;
	m = open_with(w, &o, &err);
	expect_dense(m);
	ks_model_free(m);
	assert_int_equal(j->refcount, 1); /* borrowed, not kept */

	text = json_dumps(j, 0);
	s = json_string(text);
	free(text);
	o.config = s;
	m = open_with(w, &o, &err);
	expect_dense(m);
	ks_model_free(m);
	json_decref(s);

	s = json_array();
	o.config = s;
	assert_null(ks_model_open(w, &o, &err));
	assert_non_null(strstr(err.msg, "the given architecture"));
	json_decref(s);
	json_decref(j);
	free(w);
}

/* A full model keeps its own architecture and says the given one was not used. */
static void test_full_model_ignores(void **state)
{
	char *full = full_file(), *a = tmp("other.json");
	ks_open_opts o = {.config_path = a};
	ks_err err;
	ks_model *m;
	bool warned = false;

	(void)state;
	write_text(a, "{\"class_name\": \"Sequential\", \"config\": {\"layers\": []}}");
	m = open_with(full, &o, &err);
	assert_non_null(m);
	for (int i = 0; i < m->n_warnings; i++)
		warned |= strstr(m->warnings[i], a) != NULL;
	assert_true(warned);
	assert_non_null(ks_model_find_layer(m, "dense", false));
	ks_model_free(m);
	free(full);
	free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_file),
		cmocka_unit_test(test_json_string_wrapped),
		cmocka_unit_test(test_wrapped_too_deep),
		cmocka_unit_test(test_wrong_shapes),
		cmocka_unit_test(test_not_json),
		cmocka_unit_test(test_special_files),
		cmocka_unit_test(test_model_file_h5),
		cmocka_unit_test(test_model_file_zip),
		cmocka_unit_test(test_in_memory),
		cmocka_unit_test(test_full_model_ignores),
	};
	ks_quiet_hdf5();
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
