/* test_doctor: each doctor check on hand-built models, positive and
 * negative. In-memory models (engine_build.h) carry configs and weights;
 * the load-order checks use weights-only HDF5 files written with
 * h5_build.h. Marshal vectors: CPython 3.11 output of marshal.dumps for the
 * lambdas named beside them; older layouts are assembled byte by byte.
 */
#include "config.h"

#include "ks_test.h"

#include <math.h>

#include "engine_build.h"
#include "h5_build.h"
#include "ks_doctor.h"
#include "ks_graph.h"
#include "ks_init.h"
#include "ks_lambda.h"

/* lambda x: K.relu(x) * 0.5 (CPython 3.11) */
static const char LAMBDA_311[] =
	"4wEAAAAAAAAAAAAAAAMAAAADAAAA8zwAAACXAHQAAAAAAAAAAAAAAKABAAAAAAAAAAAAAAAAAAAAAAAAAAB8AKYBAACr"
	"AQAAAAAAAAAAZAF6BQAAUwApAk5nAAAAAAAA4D8pAtoBS9oEcmVsdSkB2gF4cwEAAAAg+gg8c3RyaW5nPvoIPGxhbWJk"
	"YT5yBgAAAAEAAABzFAAAAIAAjSGPJoomkBGJKYwpkGOJL4AA8wAAAAA=";
/* (lambda k: (lambda x: x + k))(3), the inner lambda (CPython 3.11) */
static const char CLOSURE_311[] =
	"4wEAAAAAAAAAAAAAAAIAAAATAAAA8w4AAACVAZcAfACJAXoAAABTACkBTqkAKQLaAXjaAWtzAgAAACCA+gg8c3RyaW5n"
	"PvoIPGxhbWJkYT76GjxsYW1iZGE+Ljxsb2NhbHM+LjxsYW1iZGE+BQAAAHMLAAAA+IAAmAGYQZkFgADzAAAAAA==";

/* ---- helpers ---- */

static int count_id(const ks_doctor *d, const char *id)
{
	int n = 0;
	for (int i = 0; i < d->n_findings; i++)
		n += !strcmp(d->findings[i].id, id);
	return n;
}

static const ks_finding *get(const ks_doctor *d, const char *id)
{
	for (int i = 0; i < d->n_findings; i++)
		if (!strcmp(d->findings[i].id, id))
			return &d->findings[i];
	return NULL;
}

static void run(const ks_model *a, const ks_model *b, const ks_array *in, ks_doctor *d)
{
	ks_doctor_in din = {.a = a, .b = b, .inputs = in, .n_inputs = in ? 1 : 0, .n_labels = -1};
	ks_err e;
	if (ks_doctor_run(&din, d, &e) < 0)
		fail_msg("doctor: %s", e.msg);
}

static json_t *parse(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	if (!j)
		fail_msg("bad test JSON: %s", je.text);
	return j;
}

/* Deterministic uniform values in [lo, hi) (xorshift). */
static void uniform(float *v, int n, float lo, float hi, uint64_t seed)
{
	uint64_t s = seed * 2654435761u + 1;
	for (int i = 0; i < n; i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		v[i] = lo + (hi - lo) * (float)((s >> 11) * (1.0 / 9007199254740992.0));
	}
}

/* in(6) -> dense(6->12 relu) -> out(12->4 softmax); glorot_uniform kernels
 * filled at init (trained=false) or stretched past the limits with
 * non-zero biases (trained=true). */
static ks_model *mlp(bool trained, uint64_t seed)
{
	ks_model *m = eb_new("2.13.1");
	float k1[72], b1[12], k2[48], b2[4];
	double l1 = sqrt(6.0 / 18), l2 = sqrt(6.0 / 16);
	int in = eb_input(m, "in", "[null, 6]");
	int d1 = eb_layer(m, "Dense", "dense", "{\"units\": 12, \"activation\": \"relu\", "
	                  "\"kernel_initializer\": {\"class_name\": \"GlorotUniform\", \"config\": {\"seed\": null}}, "
	                  "\"bias_initializer\": {\"class_name\": \"Zeros\", \"config\": {}}}");
	int d2 = eb_layer(m, "Dense", "out", "{\"units\": 4, \"activation\": \"softmax\", "
	                  "\"kernel_initializer\": {\"class_name\": \"GlorotUniform\", \"config\": {\"seed\": null}}, "
	                  "\"bias_initializer\": {\"class_name\": \"Zeros\", \"config\": {}}}");
	uniform(k1, 72, (float)-l1, (float)l1, seed);
	uniform(k2, 48, (float)-l2, (float)l2, seed + 1);
	memset(b1, 0, sizeof b1);
	memset(b2, 0, sizeof b2);
	if (trained) {
		for (int i = 0; i < 72; i++)
			k1[i] *= 1.6f;
		uniform(b1, 12, -0.2f, 0.2f, seed + 2);
		uniform(b2, 4, -0.2f, 0.2f, seed + 3);
	}
	eb_weight(m, d1, "kernel", 2, (int64_t[]){6, 12}, k1);
	eb_weight(m, d1, "bias", 1, (int64_t[]){12}, b1);
	eb_weight(m, d2, "kernel", 2, (int64_t[]){12, 4}, k2);
	eb_weight(m, d2, "bias", 1, (int64_t[]){4}, b2);
	eb_call1(m, d1, in);
	eb_call1(m, d2, d1);
	eb_io(m, 1, (int[]){in}, d2);
	return m;
}

/* ---- marshal decoder ---- */

static void test_lambda_decode_311(void **state)
{
	ks_lambda_info li;
	ks_err e;
	(void)state;
	ks_quiet_hdf5();
	assert_int_equal(ks_lambda_decode(LAMBDA_311, strlen(LAMBDA_311), &li, &e), 0);
	assert_string_equal(li.version_min, "3.11");
	assert_string_equal(li.name, "<lambda>");
	assert_int_equal(li.argcount, 1);
	assert_string_equal(li.args[0], "x");
	assert_int_equal(li.n_names, 2);
	assert_string_equal(li.names[0], "K");
	assert_string_equal(li.names[1], "relu");
	assert_int_equal(li.n_consts, 1);
	assert_string_equal(li.consts[0], "0.5");
	assert_int_equal(li.n_freevars, 0);
	assert_non_null(li.source);
	assert_string_equal(li.source, "lambda x: K.relu(x) * 0.5");
	ks_lambda_info_free(&li);

	assert_int_equal(ks_lambda_decode(CLOSURE_311, strlen(CLOSURE_311), &li, &e), 0);
	assert_int_equal(li.n_freevars, 1);
	assert_string_equal(li.freevars[0], "k");
	assert_string_equal(li.source, "lambda x: x + k");
	ks_lambda_info_free(&li);
}

/* byte-level builders for older code-object layouts */
typedef struct bbuf {
	unsigned char b[512];
	size_t n;
} bbuf;

static void put(bbuf *o, const void *p, size_t n)
{
	memcpy(o->b + o->n, p, n);
	o->n += n;
}
static void put_i32(bbuf *o, int32_t v)
{
	unsigned char x[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
	                      (unsigned char)(v >> 24)};
	put(o, x, 4);
}
static void put_str(bbuf *o, char type, const char *s)
{
	put(o, &type, 1);
	put_i32(o, (int32_t)strlen(s));
	put(o, s, strlen(s));
}
static void put_raw(bbuf *o, char type, const char *s, size_t n)
{
	put(o, &type, 1);
	put_i32(o, (int32_t)n);
	put(o, s, n);
}
static void put_tuple(bbuf *o, int n)
{
	put(o, "(", 1);
	put_i32(o, n);
}

/* A Python 3.8-3.10 layout: 6 header ints, varnames/freevars/cellvars tuples. */
static void test_lambda_decode_38(void **state)
{
	bbuf o = {.n = 0};
	ks_lambda_info li;
	ks_err e;
	(void)state;
	put(&o, "c", 1);
	for (int i = 0; i < 6; i++)
		put_i32(&o, i == 0 ? 1 : 0);
	put_raw(&o, 's', "|\x00" "d\x01" "\x14\x00" "S\x00", 8); /* x * consts[1], return */
	put_tuple(&o, 2);
	put(&o, "N", 1);                    /* consts (None, 3) */
	put(&o, "i\x03\x00\x00\x00", 5);
	put_tuple(&o, 1);
	put_str(&o, 'u', "tf");             /* names */
	put_tuple(&o, 1);
	put_str(&o, 'u', "x");              /* varnames */
	put_tuple(&o, 0);                   /* freevars */
	put_tuple(&o, 0);                   /* cellvars */
	put_str(&o, 'u', "m.py");
	put_str(&o, 'u', "<lambda>");
	put_i32(&o, 1);                     /* firstlineno */
	put_str(&o, 's', "");               /* lnotab */
	assert_int_equal(ks_lambda_parse(o.b, o.n, &li, &e), 0);
	assert_string_equal(li.python, "CPython 3.8-3.10");
	assert_string_equal(li.names[0], "tf");
	assert_string_equal(li.args[0], "x");
	assert_string_equal(li.source, "lambda x: x * 3");
	ks_lambda_info_free(&li);

	/* Python 2: 4 header ints, interned strings */
	o.n = 0;
	put(&o, "c", 1);
	for (int i = 0; i < 4; i++)
		put_i32(&o, i == 0 ? 1 : 0);
	put_raw(&o, 's', "|\x00\x00" "d\x01\x00" "\x13" "S", 8);  /* x ** consts[1] (2.x encoding) */
	put_tuple(&o, 2);                    /* consts (None, 2) */
	put(&o, "N", 1);
	put(&o, "i\x02\x00\x00\x00", 5);
	put_tuple(&o, 0);
	put_tuple(&o, 1);
	put_str(&o, 't', "x");
	put_tuple(&o, 0);
	put_tuple(&o, 0);
	put_str(&o, 't', "m.py");
	put(&o, "R", 1);                     /* reference to interned "x"... */
	put_i32(&o, 0);
	put_i32(&o, 1);
	put_str(&o, 's', "");
	assert_int_equal(ks_lambda_parse(o.b, o.n, &li, &e), 0);
	assert_string_equal(li.python, "CPython 2.x");
	assert_string_equal(li.source, "lambda x: x ** 2");
	ks_lambda_info_free(&li);

	/* Keras <= 2.1 stored the bytes themselves as text (raw_unicode_escape):
	 * one character per byte, NULs included, UTF-8 in the JSON */
	char text[1024];
	size_t k = 0;
	for (size_t i = 0; i < o.n; i++) {
		if (o.b[i] < 0x80) {
			text[k++] = (char)o.b[i];
		} else {
			text[k++] = (char)(0xc0 | (o.b[i] >> 6));
			text[k++] = (char)(0x80 | (o.b[i] & 0x3f));
		}
	}
	assert_int_equal(ks_lambda_decode(text, k, &li, &e), 0);
	assert_string_equal(li.python, "CPython 2.x");
	assert_string_equal(li.args[0], "x");
	ks_lambda_info_free(&li);
}

static void test_lambda_decode_hostile(void **state)
{
	ks_lambda_info li;
	ks_err e;
	unsigned char buf[64];
	(void)state;
	assert_int_equal(ks_lambda_decode("not base64 \xe2\x82\xac", 16, &li, &e), -1);
	assert_int_equal(ks_lambda_decode("AAAA", 4, &li, &e), -1);
	/* every truncation of a valid vector fails cleanly */
	unsigned char *full;
	size_t n;
	assert_int_equal(ks_base64_decode(LAMBDA_311, strlen(LAMBDA_311), &full, &n, &e), 0);
	for (size_t k = 1; k < n; k++)
		assert_int_equal(ks_lambda_parse(full, k, &li, &e), -1);
	/* random byte changes: a clean answer either way (ASan/UBSan watch) */
	uint64_t seed = 12345;
	for (int trial = 0; trial < 3000; trial++) {
		unsigned char *mut = malloc(n);
		memcpy(mut, full, n);
		for (int flips = 0; flips < 1 + trial % 4; flips++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			mut[(seed >> 33) % n] = (unsigned char)(seed >> 17);
		}
		if (ks_lambda_parse(mut, n, &li, &e) == 0)
			ks_lambda_info_free(&li);
		free(mut);
	}
	/* a tuple claiming 2^30 items */
	memcpy(buf, full, 30);
	free(full);
	memset(buf, 0x28, sizeof buf);
	buf[0] = 'c';
	assert_int_equal(ks_lambda_parse(buf, sizeof buf, &li, &e), -1);
}

/* ---- one-file checks ---- */

static void test_lambda_layer(void **state)
{
	ks_model *m = eb_new("2.13.1");
	ks_doctor d;
	char cfg[1024];
	(void)state;
	int in = eb_input(m, "in", "[null, 3]");
	snprintf(cfg, sizeof cfg, "{\"function\": [\"%s\", null, null], \"function_type\": \"lambda\"}", LAMBDA_311);
	int l = eb_layer(m, "Lambda", "my_lambda", cfg);
	eb_call1(m, l, in);
	eb_io(m, 1, (int[]){in}, l);
	run(m, NULL, NULL, &d);
	const ks_finding *f = get(&d, "lambda-layer");
	assert_non_null(f);
	assert_int_equal(f->severity, KS_SEV_ERROR);
	assert_string_equal(f->layer, "my_lambda");
	assert_string_equal(json_string_value(json_object_get(f->details, "lambda_source")),
	                    "lambda x: K.relu(x) * 0.5");
	assert_non_null(strstr(f->fix, "safe_mode=False"));
	ks_doctor_free(&d);
	ks_model_free(m);

	/* Keras 3 __lambda__ form */
	m = eb_new("3.4.1");
	in = eb_input(m, "in", "[null, 3]");
	snprintf(cfg, sizeof cfg, "{\"function\": {\"class_name\": \"__lambda__\", \"config\": "
	         "{\"code\": \"%s\", \"defaults\": null, \"closure\": [3]}}}", CLOSURE_311);
	l = eb_layer(m, "Lambda", "lam", cfg);
	eb_call1(m, l, in);
	eb_io(m, 1, (int[]){in}, l);
	run(m, NULL, NULL, &d);
	f = get(&d, "lambda-layer");
	assert_non_null(f);
	assert_true(json_is_true(json_object_get(f->details, "closure")));
	ks_doctor_free(&d);
	ks_model_free(m);

	/* negative: no Lambda */
	m = mlp(true, 1);
	run(m, NULL, NULL, &d);
	assert_int_equal(count_id(&d, "lambda-layer"), 0);
	ks_doctor_free(&d);
	ks_model_free(m);
}

static void test_custom_object(void **state)
{
	ks_doctor d;
	(void)state;
	ks_model *m = mlp(true, 2);
	m->model_config = parse("{\"class_name\": \"Sequential\", \"config\": {\"layers\": ["
		"{\"class_name\": \"Dense\", \"config\": {\"units\": 2, \"activation\": \"swish_plus\", "
		"\"kernel_initializer\": {\"class_name\": \"MyInit\", \"config\": {}}, "
		"\"kernel_regularizer\": {\"module\": \"keras.regularizers\", \"class_name\": \"L2\", \"config\": {}}}},"
		"{\"module\": \"mypkg.layers\", \"class_name\": \"Fancy\", \"config\": {}, \"registered_name\": \"mypkg>Fancy\"}]}}");
	m->training_config = parse("{\"loss\": \"my_loss\", \"metrics\": [\"mae\", \"accuracy\"], "
		"\"optimizer_config\": {\"class_name\": \"Custom>Adam\", \"config\": {}}}");
	run(m, NULL, NULL, &d);
	const ks_finding *f = get(&d, "custom-object");
	assert_non_null(f);
	const json_t *c = json_object_get(f->details, "custom");
	assert_int_equal(json_array_size(c), 4);
	assert_string_equal(json_string_value(json_array_get(c, 0)), "swish_plus");
	assert_string_equal(json_string_value(json_array_get(c, 1)), "MyInit");
	assert_string_equal(json_string_value(json_array_get(c, 2)), "mypkg>Fancy");
	assert_string_equal(json_string_value(json_array_get(c, 3)), "my_loss");
	assert_true(json_is_false(json_object_get(f->details, "compile_false_suffices")));
	assert_non_null(strstr(f->fix, "\"mypkg>Fancy\": Fancy"));
	ks_doctor_free(&d);

	/* only the training config is custom: compile=False suffices */
	json_decref(m->model_config);
	m->model_config = parse("{\"class_name\": \"Sequential\", \"config\": {\"layers\": ["
		"{\"class_name\": \"Dense\", \"config\": {\"units\": 2, \"activation\": \"relu\"}}]}}");
	run(m, NULL, NULL, &d);
	f = get(&d, "custom-object");
	assert_non_null(f);
	assert_true(json_is_true(json_object_get(f->details, "compile_false_suffices")));
	assert_non_null(strstr(f->fix, "compile=False"));
	ks_doctor_free(&d);

	/* negative: built-ins in every spelling */
	json_decref(m->training_config);
	m->training_config = parse("{\"loss\": {\"class_name\": \"SparseCategoricalCrossentropy\", \"config\": {}}, "
		"\"metrics\": [\"mae\", \"sparse_categorical_accuracy\", \"acc\"], "
		"\"optimizer_config\": {\"class_name\": \"Custom>Adam\", \"config\": {}}}");
	run(m, NULL, NULL, &d);
	assert_int_equal(count_id(&d, "custom-object"), 0);
	ks_doctor_free(&d);
	ks_model_free(m);
}

static const char *resolve(const char *loss, const char *metric, int units, const char *act)
{
	static char out[64];
	char cfg[256], tc[256];
	ks_doctor d;
	ks_model *m = eb_new("2.13.1");
	int in = eb_input(m, "in", "[null, 3]");
	snprintf(cfg, sizeof cfg, "{\"units\": %d, \"activation\": \"%s\"}", units, act);
	int l = eb_layer(m, "Dense", "out", cfg);
	float k[64] = {0}, b[16] = {0};
	eb_weight(m, l, "kernel", 2, (int64_t[]){3, units}, k);
	eb_weight(m, l, "bias", 1, (int64_t[]){units}, b);
	eb_call1(m, l, in);
	eb_io(m, 1, (int[]){in}, l);
	snprintf(tc, sizeof tc, "{\"loss\": \"%s\", \"metrics\": [\"%s\"]}", loss, metric);
	m->training_config = parse(tc);
	run(m, NULL, NULL, &d);
	const ks_finding *f = get(&d, "ambiguous-accuracy");
	snprintf(out, sizeof out, "%s", f ? json_string_value(json_object_get(f->details, "resolves_to")) : "-");
	ks_doctor_free(&d);
	ks_model_free(m);
	return out;
}

static void test_ambiguous_accuracy(void **state)
{
	(void)state;
	assert_string_equal(resolve("sparse_categorical_crossentropy", "accuracy", 5, "softmax"),
	                    "sparse_categorical_accuracy");
	assert_string_equal(resolve("categorical_crossentropy", "acc", 5, "softmax"), "categorical_accuracy");
	assert_string_equal(resolve("binary_crossentropy", "accuracy", 1, "sigmoid"), "binary_accuracy");
	assert_string_equal(resolve("mse", "accuracy", 1, "linear"), "binary_accuracy");
	/* multi-label: tf.keras 2 / Keras 3 pick categorical_accuracy */
	assert_string_equal(resolve("binary_crossentropy", "accuracy", 3, "sigmoid"), "categorical_accuracy");
	/* negative: an explicit metric */
	assert_string_equal(resolve("sparse_categorical_crossentropy", "sparse_categorical_accuracy", 5,
	                            "softmax"), "-");
}

static void test_untrained(void **state)
{
	ks_doctor d;
	(void)state;
	ks_model *m = mlp(false, 3);
	run(m, NULL, NULL, &d);
	const ks_finding *f = get(&d, "untrained-weights");
	assert_non_null(f);
	assert_int_equal(json_array_size(json_object_get(f->details, "init")), 4);
	ks_doctor_free(&d);
	ks_model_free(m);

	/* negative: trained values */
	m = mlp(true, 3);
	run(m, NULL, NULL, &d);
	assert_int_equal(count_id(&d, "untrained-weights"), 0);
	ks_doctor_free(&d);
	ks_model_free(m);

	/* negative: zero biases but a kernel value past the glorot limit in each layer */
	m = mlp(false, 4);
	m->layers[1].weights[0].mem[5] = 0.9f;
	m->layers[2].weights[0].mem[5] = -0.9f;
	run(m, NULL, NULL, &d);
	assert_int_equal(count_id(&d, "untrained-weights"), 0);
	ks_doctor_free(&d);
	ks_model_free(m);

	/* a trained model whose last layer never moved: that layer only */
	m = mlp(true, 5);
	memset(m->layers[2].weights[1].mem, 0, 4 * sizeof(float));
	run(m, NULL, NULL, &d);
	f = get(&d, "untrained-weights");
	assert_non_null(f);
	assert_string_equal(f->layer, "out");
	ks_doctor_free(&d);
	ks_model_free(m);
}

static void test_init_rules(void **state)
{
	ks_model *m = eb_new("2.13.1");
	ks_init_rule r;
	(void)state;
	int l = eb_layer(m, "Conv2D", "c", "{\"kernel_initializer\": {\"class_name\": \"HeNormal\", \"config\": {}}}");
	float z[3 * 3 * 4 * 8] = {0};
	eb_weight(m, l, "kernel", 4, (int64_t[]){3, 3, 4, 8}, z);
	assert_true(ks_init_rule_for(&m->layers[l], &m->layers[l].weights[0], &r));
	assert_int_equal(r.fan_in, 36);
	assert_int_equal(r.fan_out, 72);
	assert_int_equal(r.kind, KS_INIT_NORMAL);
	assert_true(r.trunc);
	assert_float_equal(r.std, sqrt(2.0 / 36), 1e-9);
	int k = eb_layer(m, "LSTM", "lstm", "{\"units\": 2}");
	eb_weight(m, k, "bias", 1, (int64_t[]){8}, z);
	assert_true(ks_init_rule_for(&m->layers[k], &m->layers[k].weights[0], &r));
	assert_int_equal(r.forget_units, 2);
	ks_model_free(m);
}

/* Dense(3) + BatchNormalization: trained except the BN moving statistics */
static ks_model *bn_model(float mean0)
{
	ks_model *m = mlp(true, 6);
	int bn = eb_layer(m, "BatchNormalization", "bn", "{\"axis\": -1}");
	float g[4] = {1.1f, 0.9f, 1.2f, 0.8f}, b[4] = {0.1f, -0.1f, 0.2f, 0}, mu[4] = {mean0, 0, 0, 0},
	      var[4] = {1, 1, 1, 1};
	eb_weight(m, bn, "gamma", 1, (int64_t[]){4}, g);
	eb_weight(m, bn, "beta", 1, (int64_t[]){4}, b);
	eb_weight(m, bn, "moving_mean", 1, (int64_t[]){4}, mu);
	eb_weight(m, bn, "moving_variance", 1, (int64_t[]){4}, var);
	eb_call1(m, bn, 2);
	m->outputs[0].layer = bn;
	return m;
}

static void test_bn_stats(void **state)
{
	ks_doctor d;
	(void)state;
	ks_model *m = bn_model(0);
	run(m, NULL, NULL, &d);
	const ks_finding *f = get(&d, "bn-stats-default");
	assert_non_null(f);
	assert_string_equal(f->layer, "bn");
	assert_int_equal(count_id(&d, "untrained-weights"), 0);
	ks_doctor_free(&d);
	ks_model_free(m);
	m = bn_model(0.25f);
	run(m, NULL, NULL, &d);
	assert_int_equal(count_id(&d, "bn-stats-default"), 0);
	ks_doctor_free(&d);
	ks_model_free(m);
}

static void test_nan_inf(void **state)
{
	ks_doctor d;
	(void)state;
	ks_model *m = mlp(true, 7);
	float *k = m->layers[1].weights[0].mem;
	k[3] = NAN;
	k[13] = -INFINITY;
	run(m, NULL, NULL, &d);
	const ks_finding *f = get(&d, "nan-inf");
	assert_non_null(f);
	assert_string_equal(f->tensor, "dense/kernel");
	assert_int_equal(json_integer_value(json_object_get(f->details, "n_nan")), 1);
	assert_int_equal(json_integer_value(json_object_get(f->details, "n_neginf")), 1);
	const json_t *bad = json_object_get(f->details, "bad_elements");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(bad, 1), "flat_index")), 13);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(json_array_get(bad, 1), "index"), 0)), 1);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(json_array_get(bad, 1), "index"), 1)), 1);
	assert_true(ks_doctor_has_problems(&d));
	ks_doctor_free(&d);
	ks_model_free(m);
	m = mlp(true, 7);
	run(m, NULL, NULL, &d);
	assert_int_equal(count_id(&d, "nan-inf"), 0);
	ks_doctor_free(&d);
	ks_model_free(m);
}

static void test_training_flag_and_stateful(void **state)
{
	ks_doctor d;
	(void)state;
	for (int pos = 0; pos < 2; pos++) {
		ks_model *m = eb_new("2.13.1");
		int in = eb_input(m, "in", "[4, 5, 3]");
		int dr = eb_layer(m, "Dropout", "drop", "{\"rate\": 0.5}");
		int r = eb_layer(m, "LSTM", "rnn", pos ? "{\"units\": 2, \"stateful\": true}" : "{\"units\": 2}");
		eb_call1(m, dr, in);
		eb_call1(m, r, dr);
		eb_io(m, 1, (int[]){in}, r);
		if (pos)
			m->layers[dr].nodes[0].kwargs = ks_model_keep_json(m, parse("{\"training\": true}"));
		run(m, NULL, NULL, &d);
		assert_int_equal(count_id(&d, "training-flag"), pos);
		assert_int_equal(count_id(&d, "stateful-rnn"), pos);
		if (pos) {
			assert_string_equal(get(&d, "training-flag")->layer, "drop");
			assert_string_equal(get(&d, "stateful-rnn")->layer, "rnn");
		}
		ks_doctor_free(&d);
		ks_model_free(m);
	}
}

static void test_version_semantics(void **state)
{
	ks_doctor d;
	(void)state;
	for (int v3 = 0; v3 < 2; v3++) {
		ks_model *m = eb_new(v3 ? "3.4.1" : "2.2.4");
		int in = eb_input(m, "in", "[null, 1]");
		int a = eb_layer(m, "Activation", "hs", "{\"activation\": \"hard_sigmoid\"}");
		eb_call1(m, a, in);
		eb_io(m, 1, (int[]){in}, a);
		/* x = 2: Keras 2 clip(0.4+0.5) = 0.9, Keras 3 (2+3)/6 = 0.8333 */
		float x = 2.0f;
		ks_array arr = {.rank = 2, .shape = {1, 1}, .data = &x};
		run(m, NULL, &arr, &d);
		const ks_finding *f = get(&d, "keras-version-semantics");
		if (v3) {
			assert_null(f);
		} else {
			assert_non_null(f);
			assert_string_equal(f->layer, "hs");
			assert_float_equal(json_number_value(json_object_get(f->details, "max_abs_keras2_vs_keras3")),
			                   0.9 - 5.0 / 6.0, 1e-6);
		}
		ks_doctor_free(&d);
		ks_model_free(m);
	}
}

/* The info findings: version-compat, no-class-names (and --labels), layout-note. */
static void test_info_checks(void **state)
{
	ks_doctor d;
	(void)state;
	ks_model *m = mlp(true, 14);
	ks_model_warn(m, "weights group %s matched twice", "x");
	run(m, NULL, NULL, &d);
	const ks_finding *f = get(&d, "version-compat");
	assert_non_null(f);
	assert_int_equal(f->severity, KS_SEV_INFO);
	assert_non_null(strstr(f->summary, "2.13.1"));
	f = get(&d, "no-class-names");
	assert_non_null(f);
	assert_string_equal(f->layer, "out");
	f = get(&d, "layout-note");
	assert_non_null(f);
	assert_non_null(strstr(f->summary, "matched twice"));
	assert_false(ks_doctor_has_problems(&d));  /* info only: exit status 0 */
	ks_doctor_free(&d);

	/* --labels with as many names as classes: no no-class-names; a wrong count: one */
	ks_doctor_in in = {.a = m, .n_labels = 4};
	ks_err e;
	assert_int_equal(ks_doctor_run(&in, &d, &e), 0);
	assert_int_equal(count_id(&d, "no-class-names"), 0);
	ks_doctor_free(&d);
	in.n_labels = 3;
	assert_int_equal(ks_doctor_run(&in, &d, &e), 0);
	assert_non_null(strstr(get(&d, "no-class-names")->summary, "3 names"));
	ks_doctor_free(&d);
	ks_model_free(m);

	/* a regression output is no classifier; Keras 1 names mean Keras 1 loaders */
	m = eb_new("1.2.2");
	int in0 = eb_input(m, "in", "[null, 3]");
	int l = eb_layer(m, "Dense", "reg", "{\"output_dim\": 1, \"activation\": \"linear\"}");
	float k[3] = {0.1f, 0.2f, 0.3f}, b[1] = {0.5f};
	eb_weight(m, l, "kernel", 2, (int64_t[]){3, 1}, k);
	eb_weight(m, l, "bias", 1, (int64_t[]){1}, b);
	eb_call1(m, l, in0);
	eb_io(m, 1, (int[]){in0}, l);
	run(m, NULL, NULL, &d);
	assert_int_equal(count_id(&d, "no-class-names"), 0);
	assert_int_equal(count_id(&d, "layout-note"), 0);
	assert_non_null(strstr(get(&d, "version-compat")->summary, "Keras 1"));
	ks_doctor_free(&d);
	ks_model_free(m);
}

/* ---- two files ---- */

static void test_pairs(void **state)
{
	ks_doctor d;
	(void)state;
	ks_model *a = mlp(true, 8), *b = mlp(true, 8);
	/* identical */
	run(a, b, NULL, &d);
	assert_non_null(get(&d, "identical-weights"));
	assert_int_equal(count_id(&d, "class-permutation"), 0);
	assert_int_equal(count_id(&d, "weights-reinitialised"), 0);
	ks_doctor_free(&d);
	/* b's output columns permuted: b[:, map[j]] = a[:, j] */
	static const int map[4] = {2, 0, 3, 1};
	float *ka = a->layers[2].weights[0].mem, *kb = b->layers[2].weights[0].mem;
	float *ba = a->layers[2].weights[1].mem, *bb = b->layers[2].weights[1].mem;
	for (int r = 0; r < 12; r++)
		for (int j = 0; j < 4; j++)
			kb[r * 4 + map[j]] = ka[r * 4 + j];
	for (int j = 0; j < 4; j++)
		bb[map[j]] = ba[j];
	run(a, b, NULL, &d);
	const ks_finding *f = get(&d, "class-permutation");
	assert_non_null(f);
	for (int j = 0; j < 4; j++)
		assert_int_equal(json_integer_value(json_array_get(json_object_get(f->details, "mapping"), (size_t)j)), map[j]);
	assert_int_equal(count_id(&d, "identical-weights"), 0);
	ks_doctor_free(&d);
	/* a last-bit change: no exact permutation of the weights; the outputs on
	 * an input still are one (within 1e-5), when an input is given */
	kb[0] = nextafterf(kb[0], INFINITY);
	run(a, b, NULL, &d);
	assert_int_equal(count_id(&d, "class-permutation"), 0);
	ks_doctor_free(&d);
	float x[12];
	uniform(x, 12, -1, 1, 99);
	ks_array arr = {.rank = 2, .shape = {2, 6}, .data = x};
	run(a, b, &arr, &d);
	f = get(&d, "class-permutation");
	assert_non_null(f);
	for (int j = 0; j < 4; j++)
		assert_int_equal(json_integer_value(json_array_get(json_object_get(f->details, "mapping"), (size_t)j)), map[j]);
	assert_non_null(strstr(f->evidence, "given input"));
	ks_doctor_free(&d);
	ks_model_free(b);
	/* b freshly initialised */
	b = mlp(false, 9);
	run(a, b, NULL, &d);
	f = get(&d, "weights-reinitialised");
	assert_non_null(f);
	assert_string_equal(json_string_value(json_object_get(f->details, "reinitialised")), "b");
	ks_doctor_free(&d);
	ks_model_free(b);
	/* negative: two different trained models */
	b = mlp(true, 10);
	run(a, b, NULL, &d);
	assert_int_equal(count_id(&d, "weights-reinitialised"), 0);
	assert_int_equal(count_id(&d, "class-permutation"), 0);
	assert_int_equal(count_id(&d, "identical-weights"), 0);
	ks_doctor_free(&d);
	ks_model_free(b);
	ks_model_free(a);
}

/* The one-file checks run on FILE2 too, and say so; repeats of FILE's
 * findings are left out. */
static void test_second_file(void **state)
{
	ks_doctor d;
	(void)state;
	ks_model *a = mlp(true, 13), *b = mlp(true, 13);
	free(b->path);
	b->path = ks_xstrdup("second.h5");
	b->layers[2].weights[1].mem[1] = NAN;
	a->training_config = parse("{\"loss\": \"categorical_crossentropy\", \"metrics\": [\"accuracy\"]}");
	b->training_config = parse("{\"loss\": \"categorical_crossentropy\", \"metrics\": [\"accuracy\"]}");
	run(a, b, NULL, &d);
	const ks_finding *f = get(&d, "nan-inf");
	assert_non_null(f);
	assert_string_equal(f->file, "second.h5");
	assert_string_equal(f->tensor, "out/bias");
	assert_int_equal(count_id(&d, "ambiguous-accuracy"), 1);  /* the same in both: once */
	assert_string_equal(get(&d, "ambiguous-accuracy")->file, "test-model");
	bool b_checked = false;
	for (int i = 0; i < d.n_checks; i++)
		b_checked |= d.checks[i].file && !strcmp(d.checks[i].file, "second.h5") &&
		             !strcmp(d.checks[i].id, "nan-inf") && d.checks[i].ran;
	assert_true(b_checked);
	ks_doctor_free(&d);
	ks_model_free(a);
	ks_model_free(b);
}

/* ---- weights-only file + architecture ---- */

static const char ARCH3[] =
	"{\"class_name\": \"Sequential\", \"config\": {\"name\": \"s\", \"layers\": ["
	"{\"class_name\": \"InputLayer\", \"config\": {\"batch_input_shape\": [null, 4], \"name\": \"in\"}},"
	"{\"class_name\": \"Dense\", \"config\": {\"name\": \"a1\", \"units\": 4}},"
	"{\"class_name\": \"Dropout\", \"config\": {\"name\": \"drop\", \"rate\": 0.1}},"
	"{\"class_name\": \"Dense\", \"config\": {\"name\": \"a2\", \"units\": 4}},"
	"{\"class_name\": \"Dense\", \"config\": {\"name\": \"a3\", \"units\": 2}}]}, "
	"\"keras_version\": \"2.13.1\", \"backend\": \"tensorflow\"}";

static char *write_weights(const char *tag, const char *const names[3])
{
	static char paths[4][512];
	static int k;
	char *p = paths[k++ % 4];
	const hsize_t sq[2][4] = {{4, 4}, {4}}, last[2][4] = {{4, 2}, {2}};
	snprintf(p, 512, "%s/%s.h5", ks_test_tmpdir(), tag);
	hid_t f = hb_create(p);
	hb_attr_strv(f, "layer_names", names, 3, true);
	hb_attr_str(f, "keras_version", "2.13.1", false, 0, H5T_STR_NULLTERM);
	hb_attr_str(f, "backend", "tensorflow", false, 0, H5T_STR_NULLTERM);
	for (int i = 0; i < 3; i++) {
		char k0[64], k1[64];
		snprintf(k0, sizeof k0, "%s/kernel:0", names[i]);
		snprintf(k1, sizeof k1, "%s/bias:0", names[i]);
		const char *wn[2] = {k0, k1};
		/* the file's own layer "a3" (or its stand-in, listed last) is the 2-unit one */
		hb_layer(f, names[i], wn, 2, i == 2 ? last : sq);
	}
	H5Fclose(f);
	return p;
}

static ks_model *open_pair(const char *weights)
{
	char arch[512];
	ks_err e;
	snprintf(arch, sizeof arch, "%s/arch.json", ks_test_tmpdir());
	FILE *f = fopen(arch, "w");
	assert_non_null(f);
	fputs(ARCH3, f);
	fclose(f);
	ks_open_opts o = {.config_path = arch, .load_order = KS_LOAD_BY_NAME};
	ks_model *m = ks_model_open(weights, &o, &e);
	if (!m)
		fail_msg("%s", e.msg);
	return m;
}

static void test_layer_order_and_names(void **state)
{
	ks_doctor d;
	(void)state;
	static const char *const same[3] = {"a1", "a2", "a3"}, *const swapped[3] = {"a2", "a1", "a3"},
	                         *const renamed[3] = {"d7", "d8", "d9"};
	ks_model *m = open_pair(write_weights("same", same));
	run(m, NULL, NULL, &d);
	assert_int_equal(count_id(&d, "layer-order"), 0);
	assert_int_equal(count_id(&d, "name-mismatch"), 0);
	ks_doctor_free(&d);
	ks_model_free(m);

	m = open_pair(write_weights("swapped", swapped));
	run(m, NULL, NULL, &d);
	const ks_finding *f = get(&d, "layer-order");
	assert_non_null(f);
	assert_int_equal(json_array_size(json_object_get(f->details, "swapped")), 2);
	assert_true(json_is_false(json_object_get(f->details, "load_fails")));
	assert_non_null(strstr(f->fix, "by_name=True"));
	assert_int_equal(count_id(&d, "name-mismatch"), 0);
	ks_doctor_free(&d);
	ks_model_free(m);

	/* two groups with weights for three weight-bearing layers: Keras'
	 * topological load fails ("Layer count mismatch"); the doctor says so */
	{
		char p[512];
		static const char *const two[2] = {"a1", "a2"};
		const hsize_t sq[2][4] = {{4, 4}, {4}};
		snprintf(p, sizeof p, "%s/two.h5", ks_test_tmpdir());
		hid_t h = hb_create(p);
		hb_attr_strv(h, "layer_names", two, 2, true);
		hb_attr_str(h, "keras_version", "2.13.1", false, 0, H5T_STR_NULLTERM);
		for (int i = 0; i < 2; i++) {
			char k0[64], k1[64];
			snprintf(k0, sizeof k0, "%s/kernel:0", two[i]);
			snprintf(k1, sizeof k1, "%s/bias:0", two[i]);
			const char *wn[2] = {k0, k1};
			hb_layer(h, two[i], wn, 2, sq);
		}
		H5Fclose(h);
		m = open_pair(p);
		run(m, NULL, NULL, &d);
		f = get(&d, "layer-order");
		assert_non_null(f);
		assert_true(json_is_true(json_object_get(f->details, "load_fails")));
		assert_non_null(strstr(f->summary, "fails"));
		f = get(&d, "name-mismatch");
		assert_non_null(f);
		assert_string_equal(json_string_value(json_array_get(json_object_get(f->details, "model_only"), 0)), "a3");
		ks_doctor_free(&d);
		ks_model_free(m);
	}

	m = open_pair(write_weights("renamed", renamed));
	run(m, NULL, NULL, &d);
	f = get(&d, "name-mismatch");
	assert_non_null(f);
	assert_int_equal(json_integer_value(json_object_get(f->details, "by_name_matches")), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(f->details, "positional_pairing"), "a2")), "d8");
	assert_int_equal(count_id(&d, "layer-order"), 0);
	ks_doctor_free(&d);
	ks_model_free(m);
}

/* ---- with an input ---- */

static void test_input_checks(void **state)
{
	ks_doctor d;
	(void)state;
	for (int scaled = 0; scaled < 2; scaled++) {
		ks_model *m = eb_new("2.13.1");
		int in = eb_input(m, "in", "[null, 4]");
		int r = eb_layer(m, "Rescaling", "rescale", "{\"scale\": 0.00392156862745098, \"offset\": 0.0}");
		eb_call1(m, r, in);
		eb_io(m, 1, (int[]){in}, r);
		float x[4] = {0, 0.25f, 0.5f, 1.0f};
		if (!scaled)
			for (int i = 0; i < 4; i++)
				x[i] *= 255;
		ks_array arr = {.rank = 2, .shape = {1, 4}, .data = x};
		run(m, NULL, &arr, &d);
		assert_int_equal(count_id(&d, "input-contract"), scaled);
		const ks_finding *f = get(&d, "deterministic");
		assert_non_null(f);
		assert_true(json_is_true(json_object_get(f->details, "bit_identical")));
		ks_doctor_free(&d);
		ks_model_free(m);
	}
	/* an Inf weight makes the first dense layer's output non-finite */
	ks_model *m = mlp(true, 11);
	m->layers[1].weights[0].mem[0] = INFINITY;
	float x[6] = {1, 1, 1, 1, 1, 1};
	ks_array arr = {.rank = 2, .shape = {1, 6}, .data = x};
	run(m, NULL, &arr, &d);
	const ks_finding *f = get(&d, "nan-inf-output");
	assert_non_null(f);
	assert_string_equal(f->layer, "dense");
	ks_doctor_free(&d);
	ks_model_free(m);
}

static void test_render(void **state)
{
	ks_doctor d;
	char *buf = NULL;
	size_t n = 0;
	(void)state;
	ks_model *m = mlp(false, 12);
	run(m, NULL, NULL, &d);
	/* most serious first */
	for (int i = 1; i < d.n_findings; i++)
		assert_true(d.findings[i - 1].severity >= d.findings[i].severity);
	FILE *f = open_memstream(&buf, &n);
	ks_doctor_print(f, &d, true, false);
	fclose(f);
	json_error_t je;
	json_t *j = json_loads(buf, 0, &je);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "findings")), (size_t)d.n_findings);
	assert_int_equal(json_array_size(json_object_get(j, "checks")), (size_t)d.n_checks);
	json_decref(j);
	free(buf);
	buf = NULL;
	f = open_memstream(&buf, &n);
	ks_doctor_print(f, &d, false, true);
	fclose(f);
	assert_non_null(strstr(buf, "untrained-weights"));
	assert_non_null(strstr(buf, "could not"));
	free(buf);
	ks_doctor_free(&d);
	ks_model_free(m);
	for (const char *const *id = (const char *const[]){"lambda-layer", "custom-object",
	     "ambiguous-accuracy", "untrained-weights", "bn-stats-default", "layer-order", "name-mismatch",
	     "nan-inf", "training-flag", "stateful-rnn", "keras-version-semantics", "version-compat",
	     "no-class-names", "weights-reinitialised", "class-permutation", "identical-weights", NULL};
	     *id; id++)
		assert_non_null(ks_doctor_explain(*id));
}

/* A crafted layer name never reaches the terminal raw. */
static void test_escaped_text(void **state)
{
	ks_doctor d;
	char *buf = NULL;
	size_t n = 0;
	(void)state;
	ks_model *m = eb_new("2.13.1");
	int in = eb_input(m, "in", "[null, 3]");
	int dr = eb_layer(m, "Dropout", "evil\x1b]0;pwned\x07\n", "{\"rate\": 0.5}");
	eb_call1(m, dr, in);
	eb_io(m, 1, (int[]){in}, dr);
	m->layers[dr].nodes[0].kwargs = ks_model_keep_json(m, parse("{\"training\": true}"));
	run(m, NULL, NULL, &d);
	assert_non_null(get(&d, "training-flag"));
	FILE *f = open_memstream(&buf, &n);
	ks_doctor_print(f, &d, false, false);
	fclose(f);
	assert_null(strchr(buf, '\x1b'));
	assert_null(strchr(buf, '\x07'));
	assert_non_null(strstr(buf, "evil\\e]0;pwned"));
	free(buf);
	ks_doctor_free(&d);
	ks_model_free(m);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_escaped_text),
	cmocka_unit_test(test_lambda_decode_311),
	cmocka_unit_test(test_lambda_decode_38),
	cmocka_unit_test(test_lambda_decode_hostile),
	cmocka_unit_test(test_lambda_layer),
	cmocka_unit_test(test_custom_object),
	cmocka_unit_test(test_ambiguous_accuracy),
	cmocka_unit_test(test_untrained),
	cmocka_unit_test(test_init_rules),
	cmocka_unit_test(test_bn_stats),
	cmocka_unit_test(test_nan_inf),
	cmocka_unit_test(test_training_flag_and_stateful),
	cmocka_unit_test(test_version_semantics),
	cmocka_unit_test(test_info_checks),
	cmocka_unit_test(test_pairs),
	cmocka_unit_test(test_second_file),
	cmocka_unit_test(test_layer_order_and_names),
	cmocka_unit_test(test_input_checks),
	cmocka_unit_test(test_render),
};

KS_TEST_MAIN(tests)
