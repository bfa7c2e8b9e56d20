/* Tests of the Keras 3 / Keras 2.14 .keras and Keras 3 .weights.h5 loaders:
 * small archives built here (always run), then every such file among the
 * shared fixtures, checked against EXPECTED.json (real files) and against
 * the legacy .h5 twin of each conformance case. */
#include "config.h"

#include "ks_test.h"

#include <dirent.h>
#include <math.h>

#include <jansson.h>

#include "ks_keras3.h"
#include "ks_report.h"
#include "ks_plan.h"
#include "ks_model.h"
#include "ks_util.h"
#include "ks_varnames.h"
#include "ks_zip.h"

#include "k3_build.h"

/* ---- pure functions --------------------------------------------------- */

static void test_snake_case(void **state)
{
	/* Expected values worked out by hand from Keras' naming.to_snake_case
	 * regexes; the first four also appear as group names in real files. */
	static const char *const cases[][2] = {
		{ "Dense", "dense" }, { "LeakyReLU", "leaky_re_lu" }, { "MaxPooling2D", "max_pooling2d" },
		{ "qkeras>QDense", "q_dense" }, { "Conv2DTranspose", "conv2d_transpose" },
		{ "InputLayer", "input_layer" }, { "LSTMCell", "lstm_cell" }, { "GRU", "gru" },
		{ "PReLU", "p_re_lu" }, { "BatchNormalization", "batch_normalization" },
		{ "MultiHeadAttention", "multi_head_attention" }, { "keras.layers.Dense", "dense" },
		{ "ABc", "a_bc" }, { "Functional", "functional" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *s = ks_snake_case(cases[i][0]);
		assert_string_equal(s, cases[i][1]);
		free(s);
	}
}

static void check_names(const char *cls, const char *cfgtxt, int n, const char *const *want,
                        const bool *tr, bool known)
{
	json_t *cfg = cfgtxt ? json_loads(cfgtxt, 0, NULL) : NULL;
	char *names[8];
	bool t[8];

	assert_int_equal(ks_varnames(cls, cfg, n, names, t), known);
	for (int i = 0; i < n; i++) {
		assert_string_equal(names[i], want[i]);
		if (tr)
			assert_int_equal(t[i], tr[i]);
		free(names[i]);
	}
	json_decref(cfg);
}

static void test_varnames(void **state)
{
	(void)state;
	check_names("Dense", "{}", 2, (const char *[]){ "kernel", "bias" }, NULL, true);
	check_names("Dense", "{\"use_bias\": false}", 1, (const char *[]){ "kernel" }, NULL, true);
	check_names("BatchNormalization", "{}", 4,
	            (const char *[]){ "gamma", "beta", "moving_mean", "moving_variance" },
	            (const bool[]){ true, true, false, false }, true);
	check_names("BatchNormalization", "{\"scale\": false}", 3,
	            (const char *[]){ "beta", "moving_mean", "moving_variance" },
	            (const bool[]){ true, false, false }, true);
	check_names("SeparableConv2D", "{}", 3,
	            (const char *[]){ "depthwise_kernel", "pointwise_kernel", "bias" }, NULL, true);
	check_names("DepthwiseConv2D", "{}", 2, (const char *[]){ "depthwise_kernel", "bias" }, NULL, true);
	check_names("LSTMCell", "{}", 3, (const char *[]){ "kernel", "recurrent_kernel", "bias" }, NULL, true);
	check_names("Embedding", "{}", 1, (const char *[]){ "embeddings" }, NULL, true);
	check_names("PReLU", "{}", 1, (const char *[]){ "alpha" }, NULL, true);
	check_names("Normalization", "{}", 3, (const char *[]){ "mean", "variance", "count" },
	            (const bool[]){ false, false, false }, true);
	check_names("LayerNormalization", "{}", 2, (const char *[]){ "gamma", "beta" }, NULL, true);
	/* Keras 3 int8 quantization appends the scale. */
	check_names("Dense", "{\"dtype\": {\"class_name\": \"QuantizedDTypePolicy\","
	            " \"config\": {\"name\": \"int8_from_float32\"}}}", 3,
	            (const char *[]){ "kernel", "bias", "kernel_scale" },
	            (const bool[]){ true, true, false }, true);
	check_names("Embedding", "{\"dtype\": \"int8_from_mixed_bfloat16\"}", 2,
	            (const char *[]){ "embeddings", "embeddings_scale" }, NULL, true);
	/* Unknown class, or a count that does not fit: generic names. */
	check_names("MyLayer", "{}", 2, (const char *[]){ "var_0", "var_1" }, NULL, false);
	check_names("Dense", "{}", 3, (const char *[]){ "var_0", "var_1", "var_2" }, NULL, false);
	check_names("Dense", "{\"use_bias\": false}", 2, (const char *[]){ "var_0", "var_1" }, NULL, false);
}

/* ---- files built here ------------------------------------------------- */

static ks_model *open_ok(const char *path, const char *config_path)
{
	ks_open_opts o = { .config_path = config_path };
	ks_err e = {{0}};
	ks_model *m = ks_model_open(path, &o, &e);

	if (!m)
		fail_msg("%s: %s", path, e.msg);
	return m;
}

static const ks_weight *weight(const ks_model *m, const char *layer, const char *name)
{
	const ks_layer *L = ks_model_find_layer(m, layer, true);

	if (!L)
		fail_msg("no layer %s", layer);
	for (int i = 0; i < L->n_weights; i++)
		if (strcmp(L->weights[i].name, name) == 0)
			return &L->weights[i];
	fail_msg("layer %s has no weight %s", layer, name);
	return NULL;
}

/* Checks a weight's shape and that its values are base + 0.001 * i. */
static void check_weight(const ks_model *m, const char *layer, const char *name, int rank,
                         const int64_t *shape, float base)
{
	const ks_weight *w = weight(m, layer, name);
	int64_t n;
	float *v;
	ks_err e;

	assert_int_equal(w->rank, rank);
	for (int i = 0; i < rank; i++)
		assert_int_equal(w->shape[i], shape[i]);
	assert_true(ks_numel(w->shape, w->rank, &n));
	v = malloc((size_t)(n ? n : 1) * sizeof *v);
	if (ks_weight_read(m, w, v, &e) < 0)
		fail_msg("%s", e.msg);
	for (int64_t i = 0; i < n; i++)
		assert_true(fabsf(v[i] - (base + 0.001f * (float)i)) < 1e-6f);
	free(v);
}

/* Functional: x(3) -> Dense fc_a(4) -> BatchNormalization bn -> Dense fc_b(2). */
static const char FUNC_CFG[] =
	"{\"module\": \"keras\", \"class_name\": \"Functional\", \"config\": {\"name\": \"f\","
	" \"layers\": ["
	"  {\"module\": \"keras.layers\", \"class_name\": \"InputLayer\", \"name\": \"x\","
	"   \"config\": {\"batch_shape\": [null, 3], \"dtype\": \"float32\", \"name\": \"x\"}, \"inbound_nodes\": []},"
	"  {\"module\": \"keras.layers\", \"class_name\": \"Dense\", \"name\": \"fc_a\","
	"   \"config\": {\"name\": \"fc_a\", \"units\": 4, \"activation\": \"relu\", \"use_bias\": true},"
	"   \"inbound_nodes\": [{\"args\": [{\"class_name\": \"__keras_tensor__\", \"config\": {\"shape\": [null, 3],"
	"     \"dtype\": \"float32\", \"keras_history\": [\"x\", 0, 0]}}], \"kwargs\": {}}]},"
	"  {\"module\": \"keras.layers\", \"class_name\": \"BatchNormalization\", \"name\": \"bn\","
	"   \"config\": {\"name\": \"bn\", \"epsilon\": 0.001, \"center\": true, \"scale\": true},"
	"   \"inbound_nodes\": [{\"args\": [{\"class_name\": \"__keras_tensor__\", \"config\": {\"shape\": [null, 4],"
	"     \"dtype\": \"float32\", \"keras_history\": [\"fc_a\", 0, 0]}}], \"kwargs\": {}}]},"
	"  {\"module\": \"keras.layers\", \"class_name\": \"Dense\", \"name\": \"fc_b\","
	"   \"config\": {\"name\": \"fc_b\", \"units\": 2, \"activation\": \"linear\", \"use_bias\": true},"
	"   \"inbound_nodes\": [{\"args\": [{\"class_name\": \"__keras_tensor__\", \"config\": {\"shape\": [null, 4],"
	"     \"dtype\": \"float32\", \"keras_history\": [\"bn\", 0, 0]}}], \"kwargs\": {}}]}],"
	" \"input_layers\": [[\"x\", 0, 0]], \"output_layers\": [[\"fc_b\", 0, 0]]},"
	" \"compile_config\": {\"optimizer\": {\"module\": \"keras.optimizers\", \"class_name\": \"Adam\","
	"   \"config\": {\"name\": \"adam\", \"learning_rate\": 0.001, \"clipnorm\": NaN}}, \"loss\": \"mse\"}}";
static const char META[] = "{\"keras_version\": \"3.4.1\", \"date_saved\": \"2024-07-01@15:08:29\"}";

/* The weights store saving_lib writes for FUNC_CFG (+ Adam state). With
 * names, the vars groups carry the layer names as Keras >= 3.10 does. */
static void write_func_weights(const char *path, bool names, bool optimizer)
{
	hid_t f = k3_h5_create(path);

	k3_group(f, "/vars");
	k3_group(f, "/layers/input_layer/vars");
	k3_put(f, "/layers/dense/vars/0", 2, (hsize_t[]){ 3, 4 }, 1.0f);
	k3_put(f, "/layers/dense/vars/1", 1, (hsize_t[]){ 4 }, 2.0f);
	k3_put(f, "/layers/batch_normalization/vars/0", 1, (hsize_t[]){ 4 }, 3.0f);
	k3_put(f, "/layers/batch_normalization/vars/1", 1, (hsize_t[]){ 4 }, 4.0f);
	k3_put(f, "/layers/batch_normalization/vars/2", 1, (hsize_t[]){ 4 }, 5.0f);
	k3_put(f, "/layers/batch_normalization/vars/3", 1, (hsize_t[]){ 4 }, 6.0f);
	k3_put(f, "/layers/dense_1/vars/0", 2, (hsize_t[]){ 4, 2 }, 7.0f);
	k3_put(f, "/layers/dense_1/vars/1", 1, (hsize_t[]){ 2 }, 8.0f);
	if (names) {
		k3_attr_str(f, "/layers/input_layer/vars", "name", "x");
		k3_attr_str(f, "/layers/dense/vars", "name", "fc_a");
		k3_attr_str(f, "/layers/batch_normalization/vars", "name", "bn");
		k3_attr_str(f, "/layers/dense_1/vars", "name", "fc_b");
	}
	if (optimizer) {
		/* iteration, learning_rate, then momentum/velocity per trainable
		 * variable: fc_a kernel, bias, bn gamma, beta, fc_b kernel, bias. */
		static const hsize_t shp[6][2] = { {3, 4}, {4}, {4}, {4}, {4, 2}, {2} };
		static const int rk[6] = { 2, 1, 1, 1, 2, 1 };
		char p[64];
		k3_put_i64(f, "/optimizer/vars/0", 7);
		k3_put(f, "/optimizer/vars/1", 0, NULL, 0.001f);
		for (int i = 0; i < 12; i++) {
			snprintf(p, sizeof p, "/optimizer/vars/%d", i + 2);
			k3_put(f, p, rk[i / 2], shp[i / 2], 0.0f);
		}
	}
	H5Fclose(f);
}

static void check_func_model(const ks_model *m)
{
	assert_int_equal(m->n_layers, 4);
	assert_string_equal(m->layers[0].class_name, "InputLayer");
	check_weight(m, "fc_a", "kernel", 2, (int64_t[]){ 3, 4 }, 1.0f);
	check_weight(m, "fc_a", "bias", 1, (int64_t[]){ 4 }, 2.0f);
	check_weight(m, "bn", "gamma", 1, (int64_t[]){ 4 }, 3.0f);
	check_weight(m, "bn", "beta", 1, (int64_t[]){ 4 }, 4.0f);
	check_weight(m, "bn", "moving_mean", 1, (int64_t[]){ 4 }, 5.0f);
	check_weight(m, "bn", "moving_variance", 1, (int64_t[]){ 4 }, 6.0f);
	check_weight(m, "fc_b", "kernel", 2, (int64_t[]){ 4, 2 }, 7.0f);
	check_weight(m, "fc_b", "bias", 1, (int64_t[]){ 2 }, 8.0f);
	assert_false(weight(m, "bn", "moving_mean")->trainable);
	assert_true(weight(m, "bn", "gamma")->trainable);
	assert_string_equal(weight(m, "fc_b", "bias")->stored_name, "vars/1");
	assert_string_equal(weight(m, "fc_b", "bias")->h5_path, "/layers/dense_1/vars/1");
	/* 3*4+4 + 4*4 + 4*2+2 = 42, of which the 8 moving stats are non-trainable. */
	assert_int_equal(m->total_params, 42);
	assert_int_equal(m->trainable_params, 34);
	assert_int_equal(m->non_trainable_params, 8);
	assert_int_equal(m->layers[0].n_weights, 0);
}

static void test_zip_by_order(void **state)
{
	const char *w = k3_tmp("f_order.weights.h5"), *z = k3_tmp("f_order.keras");
	ks_model *m;
	(void)state;

	write_func_weights(w, false, true);
	k3_zip(z, (k3_member[]){
		{ "metadata.json", META, strlen(META), NULL, false },
		{ "config.json", FUNC_CFG, strlen(FUNC_CFG), NULL, false },
		{ "model.weights.h5", NULL, 0, w, false } }, 3);
	m = open_ok(z, NULL);
	assert_int_equal(m->format, KS_FMT_KERAS3);
	assert_string_equal(m->keras_version, "3.4.1");
	assert_string_equal(m->date_saved, "2024-07-01@15:08:29");
	assert_null(m->backend);
	assert_non_null(m->compile_config);
	assert_non_null(m->metadata);
	check_func_model(m);
	/* Optimizer: 2 scalars + 2 slots x 34 trainable values. */
	assert_int_equal(m->n_opt_weights, 14);
	assert_string_equal(m->opt_weights[0].name, "iteration");
	assert_string_equal(m->opt_weights[1].name, "learning_rate");
	assert_string_equal(m->opt_weights[2].name, "fc_a/kernel/momentum");
	assert_string_equal(m->opt_weights[3].name, "fc_a/kernel/velocity");
	assert_string_equal(m->opt_weights[13].name, "fc_b/bias/velocity");
	assert_string_equal(m->opt_weights[13].stored_name, "optimizer/vars/13");
	assert_int_equal(m->opt_params, 2 + 2 * 34);
	assert_string_equal(m->opt_class, "Adam");
	ks_model_free(m);
}

/* Saved on Windows by tf.keras 2.15 (keras-team/keras#18528): each layer's
 * group is one root link named with backslashes ("layers\\dense"), vars
 * below it with '/'. A nested model's layers too: "layers\\functional\\
 * layers\\dense". Read as the paths they stand for, file untouched. */
static void test_windows_paths(void **state)
{
	const char *w = k3_tmp("win.weights.h5"), *z = k3_tmp("win.keras");
	static const char meta[] = "{\"keras_version\": \"2.15.0\", \"date_saved\": \"2024-01-02@03:04:05\"}";
	hid_t f = k3_h5_create(w);
	ks_model *m;
	struct stat before, after;
	(void)state;

	k3_group(f, "/vars");
	k3_group(f, "/layers\\input_layer/vars");
	k3_put(f, "/layers\\dense/vars/0", 2, (hsize_t[]){ 3, 4 }, 1.0f);
	k3_put(f, "/layers\\dense/vars/1", 1, (hsize_t[]){ 4 }, 2.0f);
	k3_put(f, "/layers\\batch_normalization/vars/0", 1, (hsize_t[]){ 4 }, 3.0f);
	k3_put(f, "/layers\\batch_normalization/vars/1", 1, (hsize_t[]){ 4 }, 4.0f);
	k3_put(f, "/layers\\batch_normalization/vars/2", 1, (hsize_t[]){ 4 }, 5.0f);
	k3_put(f, "/layers\\batch_normalization/vars/3", 1, (hsize_t[]){ 4 }, 6.0f);
	k3_put(f, "/layers\\dense_1/vars/0", 2, (hsize_t[]){ 4, 2 }, 7.0f);
	k3_put(f, "/layers\\dense_1/vars/1", 1, (hsize_t[]){ 2 }, 8.0f);
	H5Fclose(f);
	k3_zip(z, (k3_member[]){
		{ "metadata.json", meta, strlen(meta), NULL, false },
		{ "config.json", FUNC_CFG, strlen(FUNC_CFG), NULL, false },
		{ "model.weights.h5", NULL, 0, w, false } }, 3);
	assert_int_equal(stat(z, &before), 0);
	m = open_ok(z, NULL);
	assert_int_equal(m->format, KS_FMT_KERAS2_ZIP);
	check_func_model(m);
	bool warned = false;
	for (int i = 0; i < m->n_warnings; i++)
		warned |= strstr(m->warnings[i], "saved on Windows: 4 weights groups") != NULL;
	if (!warned)
		fail_msg("no Windows warning among %d, first: %s", m->n_warnings,
		         m->n_warnings ? m->warnings[0] : "-");
	ks_model_free(m);
	assert_int_equal(stat(z, &after), 0);
	assert_int_equal(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
	assert_int_equal(after.st_size, before.st_size);

	/* The standalone weights file is recognised as a Keras 3 store too. */
	assert_int_equal(stat(w, &before), 0);
	m = open_ok(w, NULL);
	assert_int_equal(m->format, KS_FMT_KERAS3_WEIGHTS);
	assert_int_equal(m->total_params, 42);
	ks_model_free(m);
	assert_int_equal(stat(w, &after), 0);
	assert_int_equal(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
}

/* TextVectorization (string input, adapted vocabulary in the archive's
 * assets/<store path>/vocabulary.txt, as save_assets writes it): a standard
 * layer whose shapes are known, whose vocabulary ls shows, and which
 * prediction refuses with the reason. */
static void test_text_vectorization(void **state)
{
	const char *w = k3_tmp("tv.weights.h5"), *z = k3_tmp("tv.keras");
	static const char cfg[] =
		"{\"module\": \"keras\", \"class_name\": \"Sequential\", \"config\": {\"name\": \"s\", \"layers\": ["
		" {\"module\": \"keras.layers\", \"class_name\": \"InputLayer\", \"config\": {\"batch_shape\": [null, 1],"
		"  \"dtype\": \"string\", \"name\": \"text\"}},"
		" {\"module\": \"keras.layers\", \"class_name\": \"TextVectorization\", \"config\": {\"name\": \"tv\","
		"  \"max_tokens\": 20, \"standardize\": \"lower_and_strip_punctuation\", \"split\": \"whitespace\","
		"  \"ngrams\": null, \"output_mode\": \"int\", \"output_sequence_length\": 8,"
		"  \"pad_to_max_tokens\": false, \"sparse\": false, \"ragged\": false, \"vocabulary\": null,"
		"  \"idf_weights\": null, \"encoding\": \"utf-8\", \"vocabulary_size\": 6}},"
		" {\"module\": \"keras.layers\", \"class_name\": \"Embedding\", \"config\": {\"name\": \"emb\","
		"  \"input_dim\": 6, \"output_dim\": 4}}]}}";
	static const char vocab[] = "\n[UNK]\nthe\ncat\nsat\nmat\n";
	hid_t f = k3_h5_create(w);
	ks_model *m;
	ks_err err;
	char *buf = NULL;
	size_t len = 0;
	(void)state;

	k3_group(f, "/vars");
	k3_group(f, "/layers/text_vectorization/vars");
	k3_put(f, "/layers/embedding/vars/0", 2, (hsize_t[]){ 6, 4 }, 1.0f);
	H5Fclose(f);
	k3_zip(z, (k3_member[]){
		{ "metadata.json", META, strlen(META), NULL, false },
		{ "config.json", cfg, strlen(cfg), NULL, false },
		{ "model.weights.h5", NULL, 0, w, false },
		{ "assets/layers/text_vectorization/vocabulary.txt", vocab, strlen(vocab), NULL, true } }, 4);
	m = open_ok(z, NULL);
	ks_layer *tv = ks_model_find_layer(m, "tv", false);
	assert_non_null(tv);
	assert_string_equal(tv->store_path, "layers/text_vectorization");

	/* its output shape is known: summary shows the model through it */
	ks_shape shapes[3];
	ks_infer_layer_shapes(m, shapes);
	assert_int_equal(shapes[1].rank, 2);
	assert_int_equal(shapes[1].d[1], 8);
	assert_int_equal(shapes[2].rank, 3);
	assert_int_equal(shapes[2].d[2], 4);

	/* the vocabulary, as load_assets reads it (trailing empty lines dropped) */
	char **tok, *src;
	int n;
	assert_int_equal(ks_keras3_vocabulary(m, tv, &tok, &n, &src, &err), 1);
	assert_int_equal(n, 6);
	assert_string_equal(tok[0], "");
	assert_string_equal(tok[1], "[UNK]");
	assert_string_equal(tok[5], "mat");
	assert_non_null(strstr(src, "assets/layers/text_vectorization/vocabulary.txt"));
	for (int i = 0; i < n; i++)
		free(tok[i]);
	free(tok);
	free(src);
	FILE *out = open_memstream(&buf, &len);
	assert_int_equal(ks_report_ls(out, m, false, false, &err), 0);
	fclose(out);
	assert_non_null(strstr(buf, "vocabulary: 6 tokens from "));
	assert_non_null(strstr(buf, "'', '[UNK]', 'the', 'cat', 'sat', 'mat'"));
	free(buf);

	/* prediction says why it cannot run it */
	ks_plan_opts po = {.batch = 1};
	assert_null(ks_plan_build(m, &po, &err));
	assert_non_null(strstr(err.msg, "TextVectorization"));
	assert_non_null(strstr(err.msg, "string inputs are not supported"));
	assert_null(strstr(err.msg, "custom layer"));
	ks_model_free(m);
}

/* Keras >= 3.10 names the layer on the vars group: those names win over
 * the order. Here the names are deliberately the reverse of the order a
 * name-blind reader would use, so only the attribute gives the right map. */
static void test_zip_by_name_attr(void **state)
{
	const char *w = k3_tmp("seq_names.weights.h5"), *z = k3_tmp("seq_names.keras");
	static const char cfg[] =
		"{\"class_name\": \"Sequential\", \"config\": {\"name\": \"s\", \"layers\": ["
		" {\"class_name\": \"InputLayer\", \"config\": {\"batch_shape\": [null, 5], \"name\": \"in\"}},"
		" {\"class_name\": \"Dense\", \"config\": {\"name\": \"first\", \"units\": 3,"
		"   \"kernel_initializer\": {\"class_name\": \"GlorotUniform\","
		"   \"config\": {\"seed\": 18446744073709551615}}, \"bias_constraint\": -Infinity}},"
		" {\"class_name\": \"Dense\", \"config\": {\"name\": \"second\", \"units\": 2}}]}}";
	hid_t f = k3_h5_create(w);
	ks_model *m;
	(void)state;

	k3_group(f, "/vars");
	k3_put(f, "/layers/dense/vars/0", 2, (hsize_t[]){ 3, 2 }, 1.0f);
	k3_put(f, "/layers/dense/vars/1", 1, (hsize_t[]){ 2 }, 2.0f);
	k3_attr_str(f, "/layers/dense/vars", "name", "second");
	k3_put(f, "/layers/dense_1/vars/0", 2, (hsize_t[]){ 5, 3 }, 3.0f);
	k3_put(f, "/layers/dense_1/vars/1", 1, (hsize_t[]){ 3 }, 4.0f);
	k3_attr_str(f, "/layers/dense_1/vars", "name", "first");
	H5Fclose(f);
	k3_zip(z, (k3_member[]){
		{ "metadata.json", META, strlen(META), NULL, false },
		{ "config.json", cfg, strlen(cfg), NULL, false },
		{ "model.weights.h5", NULL, 0, w, true } }, 3); /* deflated weights */
	m = open_ok(z, NULL);
	check_weight(m, "first", "kernel", 2, (int64_t[]){ 5, 3 }, 3.0f);
	check_weight(m, "second", "kernel", 2, (int64_t[]){ 3, 2 }, 1.0f);
	check_weight(m, "second", "bias", 1, (int64_t[]){ 2 }, 2.0f);
	assert_int_equal(m->total_params, 5 * 3 + 3 + 3 * 2 + 2);
	ks_model_free(m);
}

/* Sequential without names (3.4.1 style): config names unrelated to the
 * group names (notebook re-runs), matched by order and class. Also RNN
 * cells, Bidirectional and a nested Functional. */
static void test_zip_nested(void **state)
{
	const char *w = k3_tmp("nested.weights.h5"), *z = k3_tmp("nested.keras");
	static const char cfg[] =
		"{\"class_name\": \"Sequential\", \"config\": {\"name\": \"s\", \"layers\": ["
		" {\"class_name\": \"InputLayer\", \"config\": {\"batch_shape\": [null, 5, 2], \"name\": \"in_7\"}},"
		" {\"class_name\": \"LSTM\", \"config\": {\"name\": \"lstm_9\", \"units\": 3, \"return_sequences\": true}},"
		" {\"class_name\": \"Bidirectional\", \"config\": {\"name\": \"bidirectional_4\","
		"   \"layer\": {\"class_name\": \"GRU\", \"config\": {\"name\": \"forward_gru\", \"units\": 2}},"
		"   \"backward_layer\": {\"class_name\": \"GRU\", \"config\": {\"name\": \"backward_gru\", \"units\": 2, \"go_backwards\": true}}}},"
		" {\"class_name\": \"Sequential\", \"config\": {\"name\": \"head\", \"layers\": ["
		"   {\"class_name\": \"InputLayer\", \"config\": {\"batch_shape\": [null, 4], \"name\": \"head_in\"}},"
		"   {\"class_name\": \"Dense\", \"config\": {\"name\": \"dense_8\", \"units\": 1}}]}}]}}";
	hid_t f = k3_h5_create(w);
	ks_model *m;
	const ks_layer *bi;
	(void)state;

	k3_group(f, "/vars");
	k3_group(f, "/layers/lstm/vars");
	k3_put(f, "/layers/lstm/cell/vars/0", 2, (hsize_t[]){ 2, 12 }, 1.0f);
	k3_put(f, "/layers/lstm/cell/vars/1", 2, (hsize_t[]){ 3, 12 }, 2.0f);
	k3_put(f, "/layers/lstm/cell/vars/2", 1, (hsize_t[]){ 12 }, 3.0f);
	k3_group(f, "/layers/bidirectional/vars");
	/* saving_lib visits attributes sorted: backward_layer first. */
	k3_group(f, "/layers/bidirectional/backward_layer/vars");
	k3_put(f, "/layers/bidirectional/backward_layer/cell/vars/0", 2, (hsize_t[]){ 3, 6 }, 4.0f);
	k3_put(f, "/layers/bidirectional/backward_layer/cell/vars/1", 2, (hsize_t[]){ 2, 6 }, 5.0f);
	k3_put(f, "/layers/bidirectional/backward_layer/cell/vars/2", 2, (hsize_t[]){ 2, 6 }, 6.0f);
	k3_group(f, "/layers/bidirectional/forward_layer/vars");
	k3_put(f, "/layers/bidirectional/forward_layer/cell/vars/0", 2, (hsize_t[]){ 3, 6 }, 7.0f);
	k3_put(f, "/layers/bidirectional/forward_layer/cell/vars/1", 2, (hsize_t[]){ 2, 6 }, 8.0f);
	k3_put(f, "/layers/bidirectional/forward_layer/cell/vars/2", 2, (hsize_t[]){ 2, 6 }, 9.0f);
	k3_group(f, "/layers/sequential/vars");
	k3_put(f, "/layers/sequential/layers/dense/vars/0", 2, (hsize_t[]){ 4, 1 }, 10.0f);
	k3_put(f, "/layers/sequential/layers/dense/vars/1", 1, (hsize_t[]){ 1 }, 11.0f);
	H5Fclose(f);
	k3_zip(z, (k3_member[]){
		{ "config.json", cfg, strlen(cfg), NULL, true },
		{ "model.weights.h5", NULL, 0, w, false } }, 2); /* no metadata.json */
	m = open_ok(z, NULL);
	assert_null(m->keras_version);
	check_weight(m, "lstm_9", "kernel", 2, (int64_t[]){ 2, 12 }, 1.0f);
	check_weight(m, "lstm_9", "recurrent_kernel", 2, (int64_t[]){ 3, 12 }, 2.0f);
	check_weight(m, "lstm_9", "bias", 1, (int64_t[]){ 12 }, 3.0f);
	assert_string_equal(weight(m, "lstm_9", "bias")->stored_name, "cell/vars/2");
	/* Keras lists forward weights before backward ones. */
	bi = ks_model_find_layer(m, "bidirectional_4", false);
	assert_non_null(bi);
	assert_int_equal(bi->n_weights, 6);
	assert_string_equal(bi->weights[0].name, "forward/kernel");
	assert_string_equal(bi->weights[3].name, "backward/kernel");
	assert_string_equal(bi->weights[3].stored_name, "backward_layer/cell/vars/0");
	check_weight(m, "bidirectional_4", "forward/recurrent_kernel", 2, (int64_t[]){ 2, 6 }, 8.0f);
	check_weight(m, "bidirectional_4", "backward/bias", 2, (int64_t[]){ 2, 6 }, 6.0f);
	check_weight(m, "dense_8", "kernel", 2, (int64_t[]){ 4, 1 }, 10.0f);
	check_weight(m, "dense_8", "bias", 1, (int64_t[]){ 1 }, 11.0f);
	assert_int_equal(m->total_params, (24 + 36 + 12) + 2 * (18 + 12 + 12) + 5);
	ks_model_free(m);
}

/* MultiHeadAttention's EinsumDense projections (attributes query_dense,
 * key_dense, ... visited in sorted order) come out in build order with the
 * names Keras gives them; TimeDistributed's wrapped layer is its own. */
static void test_zip_attention_wrappers(void **state)
{
	const char *w = k3_tmp("mha.weights.h5"), *z = k3_tmp("mha.keras");
	static const char cfg[] =
		"{\"class_name\": \"Sequential\", \"config\": {\"name\": \"s\", \"layers\": ["
		" {\"class_name\": \"InputLayer\", \"config\": {\"batch_shape\": [null, 4, 6], \"name\": \"in\"}},"
		" {\"class_name\": \"TimeDistributed\", \"config\": {\"name\": \"td\","
		"   \"layer\": {\"class_name\": \"Dense\", \"config\": {\"name\": \"inner\", \"units\": 6}}}},"
		" {\"class_name\": \"MultiHeadAttention\", \"config\": {\"name\": \"mha\", \"num_heads\": 2,"
		"   \"key_dim\": 3, \"use_bias\": true}}]}}";
	static const char *const want[] = { "query/kernel", "query/bias", "key/kernel", "key/bias",
	                                    "value/kernel", "value/bias", "attention_output/kernel",
	                                    "attention_output/bias" };
	static const char *const grp[] = { "query_dense", "key_dense", "value_dense", "output_dense" };
	hid_t f = k3_h5_create(w);
	const ks_layer *L;
	ks_model *m;
	char p[128];
	(void)state;

	k3_group(f, "/vars");
	k3_group(f, "/layers/time_distributed/vars");
	k3_put(f, "/layers/time_distributed/layer/vars/0", 2, (hsize_t[]){ 6, 6 }, 1.0f);
	k3_put(f, "/layers/time_distributed/layer/vars/1", 1, (hsize_t[]){ 6 }, 2.0f);
	k3_group(f, "/layers/multi_head_attention/vars");
	k3_group(f, "/layers/multi_head_attention/_dropout_layer/vars");
	k3_group(f, "/layers/multi_head_attention/_softmax/vars");
	/* Written in saving_lib's sorted attribute order: key, output, query, value. */
	for (int i = 0; i < 4; i++) {
		static const int order[4] = { 1, 3, 0, 2 };
		int g = order[i];
		snprintf(p, sizeof p, "/layers/multi_head_attention/%s/vars/0", grp[g]);
		if (g == 3)
			k3_put(f, p, 3, (hsize_t[]){ 2, 3, 6 }, 10.0f + (float)g);
		else
			k3_put(f, p, 3, (hsize_t[]){ 6, 2, 3 }, 10.0f + (float)g);
		snprintf(p, sizeof p, "/layers/multi_head_attention/%s/vars/1", grp[g]);
		if (g == 3)
			k3_put(f, p, 1, (hsize_t[]){ 6 }, 20.0f + (float)g);
		else
			k3_put(f, p, 2, (hsize_t[]){ 2, 3 }, 20.0f + (float)g);
	}
	H5Fclose(f);
	k3_zip(z, (k3_member[]){
		{ "config.json", cfg, strlen(cfg), NULL, false },
		{ "model.weights.h5", NULL, 0, w, false } }, 2);
	m = open_ok(z, NULL);
	check_weight(m, "td", "kernel", 2, (int64_t[]){ 6, 6 }, 1.0f);
	check_weight(m, "td", "bias", 1, (int64_t[]){ 6 }, 2.0f);
	L = ks_model_find_layer(m, "mha", false);
	assert_non_null(L);
	assert_int_equal(L->n_weights, 8);
	for (int i = 0; i < 8; i++)
		assert_string_equal(L->weights[i].name, want[i]);
	check_weight(m, "mha", "key/kernel", 3, (int64_t[]){ 6, 2, 3 }, 11.0f);
	check_weight(m, "mha", "attention_output/bias", 1, (int64_t[]){ 6 }, 23.0f);
	assert_string_equal(L->weights[7].stored_name, "output_dense/vars/1");
	ks_model_free(m);
}

/* A Functional inside a Functional, applied to two inputs (shared weights):
 * layers/functional/layers/{input_layer,dense}. */
static void test_zip_nested_functional(void **state)
{
	const char *w = k3_tmp("nf.weights.h5"), *z = k3_tmp("nf.keras");
#define KT(l, n) "{\"class_name\": \"__keras_tensor__\", \"config\": {\"shape\": [null, 3], " \
	"\"dtype\": \"float32\", \"keras_history\": [\"" l "\", " #n ", 0]}}"
	static const char cfg[] =
		"{\"class_name\": \"Functional\", \"config\": {\"name\": \"outer\", \"layers\": ["
		" {\"class_name\": \"InputLayer\", \"name\": \"a\", \"config\": {\"batch_shape\": [null, 3], \"name\": \"a\"}, \"inbound_nodes\": []},"
		" {\"class_name\": \"InputLayer\", \"name\": \"b\", \"config\": {\"batch_shape\": [null, 3], \"name\": \"b\"}, \"inbound_nodes\": []},"
		" {\"class_name\": \"Functional\", \"name\": \"tower\", \"config\": {\"name\": \"tower\", \"layers\": ["
		"   {\"class_name\": \"InputLayer\", \"name\": \"t_in\", \"config\": {\"batch_shape\": [null, 3], \"name\": \"t_in\"}, \"inbound_nodes\": []},"
		"   {\"class_name\": \"Dense\", \"name\": \"t_dense\", \"config\": {\"name\": \"t_dense\", \"units\": 3},"
		"    \"inbound_nodes\": [{\"args\": [" KT("t_in", 0) "], \"kwargs\": {}}]}],"
		"   \"input_layers\": [[\"t_in\", 0, 0]], \"output_layers\": [[\"t_dense\", 0, 0]]},"
		"  \"inbound_nodes\": [{\"args\": [" KT("a", 0) "], \"kwargs\": {}},"
		"                      {\"args\": [" KT("b", 0) "], \"kwargs\": {}}]},"
		" {\"class_name\": \"Add\", \"name\": \"sum\", \"config\": {\"name\": \"sum\"},"
		"  \"inbound_nodes\": [{\"args\": [[" KT("tower", 1) ", " KT("tower", 2) "]], \"kwargs\": {}}]},"
		" {\"class_name\": \"Dense\", \"name\": \"head\", \"config\": {\"name\": \"head\", \"units\": 1},"
		"  \"inbound_nodes\": [{\"args\": [" KT("sum", 0) "], \"kwargs\": {}}]}],"
		" \"input_layers\": [[\"a\", 0, 0], [\"b\", 0, 0]], \"output_layers\": [[\"head\", 0, 0]]}}";
#undef KT
	hid_t f = k3_h5_create(w);
	ks_model *m;
	(void)state;

	k3_group(f, "/vars");
	k3_group(f, "/layers/input_layer/vars");
	k3_group(f, "/layers/input_layer_1/vars");
	k3_group(f, "/layers/functional/vars");
	k3_group(f, "/layers/functional/layers/input_layer/vars");
	k3_put(f, "/layers/functional/layers/dense/vars/0", 2, (hsize_t[]){ 3, 3 }, 1.0f);
	k3_put(f, "/layers/functional/layers/dense/vars/1", 1, (hsize_t[]){ 3 }, 2.0f);
	k3_group(f, "/layers/add/vars");
	k3_put(f, "/layers/dense/vars/0", 2, (hsize_t[]){ 3, 1 }, 3.0f);
	k3_put(f, "/layers/dense/vars/1", 1, (hsize_t[]){ 1 }, 4.0f);
	H5Fclose(f);
	k3_zip(z, (k3_member[]){
		{ "metadata.json", META, strlen(META), NULL, false },
		{ "config.json", cfg, strlen(cfg), NULL, false },
		{ "model.weights.h5", NULL, 0, w, false } }, 3);
	m = open_ok(z, NULL);
	for (int i = 0; i < m->n_warnings; i++)
		fprintf(stderr, "  warning: %s\n", m->warnings[i]);
	assert_int_equal(m->n_warnings, 0);
	check_weight(m, "t_dense", "kernel", 2, (int64_t[]){ 3, 3 }, 1.0f);
	check_weight(m, "head", "kernel", 2, (int64_t[]){ 3, 1 }, 3.0f);
	assert_string_equal(weight(m, "t_dense", "bias")->h5_path, "/layers/functional/layers/dense/vars/1");
	assert_int_equal(m->total_params, 12 + 4);
	assert_int_equal(ks_model_find_layer(m, "tower", false)->params, 12);
	ks_model_free(m);
}

/* Keras 2.14 writes _layer_checkpoint_dependencies/<snake class>[_k]/vars
 * (the same naming as Keras 3, which reads such files by replacing "layers"
 * with "_layer_checkpoint_dependencies" in its own paths). */
static void test_keras214_zip(void **state)
{
	const char *w = k3_tmp("k214.weights.h5"), *z = k3_tmp("k214.keras");
	static const char meta[] = "{\"keras_version\": \"2.14.0\", \"date_saved\": \"2023-10-30@21:34:12\"}";
	static const char cfg[] =
		"{\"module\": \"keras\", \"class_name\": \"Sequential\", \"config\": {\"name\": \"s\", \"layers\": ["
		" {\"module\": \"keras.layers\", \"class_name\": \"InputLayer\", \"config\": {\"batch_input_shape\": [null, 3], \"name\": \"dense_input\"}},"
		" {\"module\": \"keras.layers\", \"class_name\": \"Dense\", \"config\": {\"name\": \"dense\", \"units\": 2}},"
		" {\"module\": \"keras.layers\", \"class_name\": \"Dense\", \"config\": {\"name\": \"out\", \"units\": 1}}]}}";
	hid_t f = k3_h5_create(w);
	ks_model *m;
	(void)state;

	k3_group(f, "/vars");
	k3_put(f, "/_layer_checkpoint_dependencies/dense/vars/0", 2, (hsize_t[]){ 3, 2 }, 1.0f);
	k3_put(f, "/_layer_checkpoint_dependencies/dense/vars/1", 1, (hsize_t[]){ 2 }, 2.0f);
	k3_put(f, "/_layer_checkpoint_dependencies/dense_1/vars/0", 2, (hsize_t[]){ 2, 1 }, 3.0f);
	k3_put(f, "/_layer_checkpoint_dependencies/dense_1/vars/1", 1, (hsize_t[]){ 1 }, 4.0f);
	k3_put(f, "/metrics/mean/vars/0", 0, NULL, 0.5f);
	H5Fclose(f);
	k3_zip(z, (k3_member[]){
		{ "metadata.json", meta, strlen(meta), NULL, false },
		{ "config.json", cfg, strlen(cfg), NULL, false },
		{ "model.weights.h5", NULL, 0, w, false } }, 3);
	m = open_ok(z, NULL);
	assert_int_equal(m->format, KS_FMT_KERAS2_ZIP);
	check_weight(m, "dense", "kernel", 2, (int64_t[]){ 3, 2 }, 1.0f);
	check_weight(m, "out", "bias", 1, (int64_t[]){ 1 }, 4.0f);
	assert_int_equal(m->total_params, 11);
	ks_model_free(m);
}

/* Keras 2.14, a Sequential nested in a Sequential: the inner layers sit in
 * the nested model's own _layer_checkpoint_dependencies, counted once. */
static void test_keras214_nested(void **state)
{
	const char *w = k3_tmp("k214n.weights.h5"), *z = k3_tmp("k214n.keras");
	static const char meta[] = "{\"keras_version\": \"2.14.0\", \"date_saved\": \"2023-10-30@21:34:12\"}";
	static const char cfg[] =
		"{\"class_name\": \"Sequential\", \"config\": {\"name\": \"s\", \"layers\": ["
		" {\"class_name\": \"InputLayer\", \"config\": {\"batch_input_shape\": [null, 3], \"name\": \"in\"}},"
		" {\"class_name\": \"Sequential\", \"config\": {\"name\": \"block\", \"layers\": ["
		"   {\"class_name\": \"InputLayer\", \"config\": {\"batch_input_shape\": [null, 3], \"name\": \"b_in\"}},"
		"   {\"class_name\": \"Dense\", \"config\": {\"name\": \"inner\", \"units\": 2}}]}},"
		" {\"class_name\": \"Dense\", \"config\": {\"name\": \"out\", \"units\": 1}}]}}";
	hid_t f = k3_h5_create(w);
	ks_model *m;
	(void)state;

	k3_group(f, "/vars");
	k3_group(f, "/_layer_checkpoint_dependencies/sequential/vars");
	k3_put(f, "/_layer_checkpoint_dependencies/sequential/_layer_checkpoint_dependencies/dense/vars/0",
	       2, (hsize_t[]){ 3, 2 }, 1.0f);
	k3_put(f, "/_layer_checkpoint_dependencies/sequential/_layer_checkpoint_dependencies/dense/vars/1",
	       1, (hsize_t[]){ 2 }, 2.0f);
	k3_put(f, "/_layer_checkpoint_dependencies/dense/vars/0", 2, (hsize_t[]){ 2, 1 }, 3.0f);
	k3_put(f, "/_layer_checkpoint_dependencies/dense/vars/1", 1, (hsize_t[]){ 1 }, 4.0f);
	H5Fclose(f);
	k3_zip(z, (k3_member[]){
		{ "metadata.json", meta, strlen(meta), NULL, false },
		{ "config.json", cfg, strlen(cfg), NULL, false },
		{ "model.weights.h5", NULL, 0, w, false } }, 3);
	m = open_ok(z, NULL);
	check_weight(m, "inner", "kernel", 2, (int64_t[]){ 3, 2 }, 1.0f);
	check_weight(m, "out", "kernel", 2, (int64_t[]){ 2, 1 }, 3.0f);
	assert_int_equal(m->total_params, 8 + 3);
	assert_int_equal(ks_model_find_layer(m, "block", false)->n_weights, 0);
	ks_model_free(m);
}

/* A subclassed Keras 2.14 model saved on Windows: empty config, weight
 * groups with literal backslashes at the root. */
static void test_keras214_subclassed(void **state)
{
	const char *w = k3_tmp("sub.weights.h5"), *z = k3_tmp("sub.keras");
	static const char cfg[] = "{\"module\": \"__main__\", \"class_name\": \"VAE\", \"config\": {}, \"registered_name\": \"VAE\"}";
	static const char meta[] = "{\"keras_version\": \"2.14.0\", \"date_saved\": \"2023-10-30@21:34:12\"}";
	hid_t f = k3_h5_create(w);
	ks_model *m;
	ks_layer *L;
	(void)state;

	k3_group(f, "/vars");
	k3_put(f, "/dec\\_layer_checkpoint_dependencies\\conv2d_transpose/vars/0", 4,
	       (hsize_t[]){ 3, 3, 1, 2 }, 1.0f);
	k3_put(f, "/dec\\_layer_checkpoint_dependencies\\conv2d_transpose/vars/1", 1,
	       (hsize_t[]){ 1 }, 2.0f);
	H5Fclose(f);
	k3_zip(z, (k3_member[]){
		{ "metadata.json", meta, strlen(meta), NULL, false },
		{ "config.json", cfg, strlen(cfg), NULL, false },
		{ "model.weights.h5", NULL, 0, w, false } }, 3);
	m = open_ok(z, NULL);
	assert_int_equal(m->n_layers, 1);
	L = &m->layers[0];
	assert_string_equal(L->name, "dec/_layer_checkpoint_dependencies/conv2d_transpose");
	assert_string_equal(L->class_name, "?");
	check_weight(m, L->name, "kernel", 4, (int64_t[]){ 3, 3, 1, 2 }, 1.0f);
	assert_int_equal(m->total_params, 19);
	ks_model_free(m);
}

/* A Keras 3 subclassed model: its config has no layers, its weights sit
 * under attribute names at the root (written in creation order here: head
 * before dense1), next to metric/loss trackers that are not layers. */
static void test_keras3_subclassed(void **state)
{
	const char *w = k3_tmp("sub3.weights.h5"), *z = k3_tmp("sub3.keras");
	static const char cfg[] = "{\"module\": null, \"class_name\": \"MyModel\", \"config\": {\"units\": 3},"
	                          " \"registered_name\": \"MyModel\"}";
	hid_t f = k3_h5_create(w);
	ks_model *m;
	(void)state;

	k3_group(f, "/vars");
	k3_put(f, "/head/vars/0", 2, (hsize_t[]){ 3, 1 }, 1.0f);
	k3_put(f, "/head/vars/1", 1, (hsize_t[]){ 1 }, 2.0f);
	k3_put(f, "/dense1/vars/0", 2, (hsize_t[]){ 4, 3 }, 3.0f);
	k3_put(f, "/dense1/vars/1", 1, (hsize_t[]){ 3 }, 4.0f);
	k3_put(f, "/_loss_tracker/vars/0", 0, NULL, 0.0f);
	k3_put(f, "/_loss_tracker/vars/1", 0, NULL, 0.0f);
	H5Fclose(f);
	k3_zip(z, (k3_member[]){
		{ "metadata.json", META, strlen(META), NULL, false },
		{ "config.json", cfg, strlen(cfg), NULL, false },
		{ "model.weights.h5", NULL, 0, w, false } }, 3);
	m = open_ok(z, NULL);
	assert_int_equal(m->n_layers, 2);
	assert_string_equal(m->layers[0].name, "head");
	assert_string_equal(m->layers[1].name, "dense1");
	check_weight(m, "dense1", "var_0", 2, (int64_t[]){ 4, 3 }, 3.0f);
	assert_int_equal(m->total_params, 3 + 1 + 12 + 3);
	assert_true(m->n_warnings >= 1); /* "the config lists no layers" */
	ks_model_free(m);
}

/* A config the graph builder rejects (a reference to a layer that does not
 * exist) still opens: layers from the weights file, the reason as a
 * warning, the config kept for display. */
static void test_zip_bad_graph(void **state)
{
	const char *w = k3_tmp("badgraph.weights.h5"), *z = k3_tmp("badgraph.keras");
	static const char cfg[] =
		"{\"class_name\": \"Functional\", \"config\": {\"name\": \"f\", \"layers\": ["
		" {\"class_name\": \"InputLayer\", \"name\": \"x\", \"config\": {\"batch_shape\": [null, 3], \"name\": \"x\"},"
		"  \"inbound_nodes\": []},"
		" {\"class_name\": \"Dense\", \"name\": \"d\", \"config\": {\"name\": \"d\", \"units\": 2},"
		"  \"inbound_nodes\": [{\"args\": [{\"class_name\": \"__keras_tensor__\", \"config\": {"
		"   \"keras_history\": [\"nowhere\", 0, 0]}}], \"kwargs\": {}}]}],"
		" \"input_layers\": [[\"x\", 0, 0]], \"output_layers\": [[\"d\", 0, 0]]}}";
	hid_t f = k3_h5_create(w);
	ks_model *m;
	(void)state;

	k3_group(f, "/vars");
	k3_group(f, "/layers/input_layer/vars");
	k3_put(f, "/layers/dense/vars/0", 2, (hsize_t[]){ 3, 2 }, 1.0f);
	k3_put(f, "/layers/dense/vars/1", 1, (hsize_t[]){ 2 }, 2.0f);
	H5Fclose(f);
	k3_zip(z, (k3_member[]){
		{ "metadata.json", META, strlen(META), NULL, false },
		{ "config.json", cfg, strlen(cfg), NULL, false },
		{ "model.weights.h5", NULL, 0, w, false } }, 3);
	m = open_ok(z, NULL);
	assert_true(m->n_warnings >= 1);
	assert_non_null(strstr(m->warnings[0], "nowhere"));
	assert_non_null(m->model_config);
	assert_string_equal(m->class_name, "Functional");
	check_weight(m, "dense", "kernel", 2, (int64_t[]){ 3, 2 }, 1.0f);
	assert_int_equal(m->total_params, 8);
	ks_model_free(m);
}

/* A standalone .weights.h5 without config: layers in creation order
 * (dense_2 before dense_10, which name order gets wrong). */
static void test_weights_no_config(void **state)
{
	const char *w = k3_tmp("eleven.weights.h5");
	hid_t f = k3_h5_create(w);
	char p[64];
	ks_model *m;
	(void)state;

	k3_group(f, "/vars");
	for (int i = 0; i <= 10; i++) {
		if (i == 0)
			snprintf(p, sizeof p, "/layers/dense/vars/0");
		else
			snprintf(p, sizeof p, "/layers/dense_%d/vars/0", i);
		k3_put(f, p, 2, (hsize_t[]){ 2, 2 }, (float)i);
		p[strlen(p) - 1] = '1';
		k3_put(f, p, 1, (hsize_t[]){ 2 }, (float)i + 0.5f);
	}
	H5Fclose(f);
	m = open_ok(w, NULL);
	assert_int_equal(m->format, KS_FMT_KERAS3_WEIGHTS);
	assert_int_equal(m->n_layers, 11);
	assert_string_equal(m->layers[0].name, "dense");
	assert_string_equal(m->layers[2].name, "dense_2");
	assert_string_equal(m->layers[10].name, "dense_10");
	assert_string_equal(m->layers[10].class_name, "?");
	check_weight(m, "dense_10", "kernel", 2, (int64_t[]){ 2, 2 }, 10.0f);
	check_weight(m, "dense_2", "bias", 1, (int64_t[]){ 2 }, 2.5f);
	assert_int_equal(m->total_params, 11 * 6);
	ks_model_free(m);
}

/* The same weights file as the zip, with the architecture given apart. */
static void test_weights_with_config(void **state)
{
	const char *w = k3_tmp("func.weights.h5"), *c = k3_tmp("func_config.json");
	ks_model *m;
	(void)state;

	write_func_weights(w, true, false);
	k3_spit(c, FUNC_CFG, strlen(FUNC_CFG));
	m = open_ok(w, c);
	assert_int_equal(m->format, KS_FMT_KERAS3_WEIGHTS);
	check_func_model(m);
	assert_int_equal(m->n_opt_weights, 0);
	ks_model_free(m);
}

/* True when the process has a mapping of path (Linux /proc/self/maps). */
static bool maps_file(const char *path)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4096];
	bool hit = false;

	assert_non_null(f);
	while (fgets(line, sizeof line, f))
		if (strstr(line, path))
			hit = true;
	fclose(f);
	return hit;
}

/* A weights member over the in-place threshold is mapped, not copied, and
 * reads the same values; the same archive deflated goes through the copy. */
static void test_big_member_in_place(void **state)
{
	const char *w = k3_tmp("big.weights.h5"), *z = k3_tmp("big.keras"), *zd = k3_tmp("bigd.keras");
	static const char cfg[] =
		"{\"class_name\": \"Sequential\", \"config\": {\"name\": \"s\", \"layers\": ["
		" {\"class_name\": \"InputLayer\", \"config\": {\"batch_shape\": [null, 1600], \"name\": \"in\"}},"
		" {\"class_name\": \"Dense\", \"config\": {\"name\": \"big\", \"units\": 1500}}]}}";
	hid_t f = k3_h5_create(w);
	ks_model *m;
	(void)state;

	k3_group(f, "/vars");
	k3_put(f, "/layers/dense/vars/0", 2, (hsize_t[]){ 1600, 1500 }, -1.0f);
	k3_put(f, "/layers/dense/vars/1", 1, (hsize_t[]){ 1500 }, 2.0f);
	H5Fclose(f);
	k3_zip(z, (k3_member[]){
		{ "metadata.json", META, strlen(META), NULL, false },
		{ "config.json", cfg, strlen(cfg), NULL, false },
		{ "model.weights.h5", NULL, 0, w, false } }, 3);
	m = open_ok(z, NULL);
	assert_true(maps_file(z));      /* mapped, not copied */
	assert_true(m->image_size > (8u << 20));
	/* base + 0.001 i in float32 loses precision for large i: check a
	 * sample against the same float expression. */
	{
		const ks_weight *k = weight(m, "big", "kernel");
		float *v = malloc(1600 * 1500 * sizeof *v);
		ks_err e;
		assert_int_equal(ks_weight_read(m, k, v, &e), 0);
		for (int i = 0; i < 1600 * 1500; i += 7919)
			assert_true(v[i] == -1.0f + 0.001f * (float)i);
		free(v);
	}
	check_weight(m, "big", "bias", 1, (int64_t[]){ 1500 }, 2.0f);
	assert_int_equal(m->total_params, 1600 * 1500 + 1500);
	ks_model_free(m);

	k3_zip(zd, (k3_member[]){
		{ "metadata.json", META, strlen(META), NULL, false },
		{ "config.json", cfg, strlen(cfg), NULL, false },
		{ "model.weights.h5", NULL, 0, w, true } }, 3);
	m = open_ok(zd, NULL);
	assert_false(maps_file(zd));    /* deflated: copied */
	check_weight(m, "big", "bias", 1, (int64_t[]){ 1500 }, 2.0f);
	ks_model_free(m);
	assert_false(maps_file(z));     /* every mapping released */
	unlink(w);
	unlink(z);
	unlink(zd);
}

/* ---- shared fixtures -------------------------------------------------- */

static int64_t count_tensors(const ks_model *m)
{
	int64_t n = 0;

	for (int i = 0; i < m->n_layers; i++) {
		n += m->layers[i].n_weights;
		if (m->layers[i].inner)
			n += count_tensors(m->layers[i].inner);
	}
	return n;
}

/* Every .keras file of real/ (zips and the legacy ones with a lying
 * extension) opens with the parameter and tensor counts of EXPECTED.json. */
static void test_real_fixtures(void **state)
{
	const char *fx = ks_test_fixtures();
	char path[4096];
	json_t *exp;
	const char *key;
	json_t *val;
	int n = 0;
	(void)state;

	assert_non_null(fx);
	snprintf(path, sizeof path, "%s/real/EXPECTED.json", fx);
	exp = json_load_file(path, 0, NULL);
	assert_non_null(exp);
	json_object_foreach(exp, key, val) {
		const char *fmt = json_string_value(json_object_get(val, "format"));
		ks_model *m;
		if (!ks_str_endswith(key, ".keras") && !ks_str_endswith(key, ".weights.h5") &&
		    !(fmt && strcmp(fmt, "keras-zip") == 0))
			continue;
		snprintf(path, sizeof path, "%s/real/%s", fx, key);
		m = open_ok(path, NULL);
		if (m->total_params != json_integer_value(json_object_get(val, "params")) ||
		    count_tensors(m) != json_integer_value(json_object_get(val, "tensors")))
			fail_msg("%s: %lld params / %lld tensors, expected %lld / %lld", key,
			         (long long)m->total_params, (long long)count_tensors(m),
			         (long long)json_integer_value(json_object_get(val, "params")),
			         (long long)json_integer_value(json_object_get(val, "tensors")));
		if (fmt && strcmp(fmt, "keras-zip") == 0) {
			assert_true(m->format == KS_FMT_KERAS3 || m->format == KS_FMT_KERAS2_ZIP);
			for (int i = 0; i < m->n_warnings; i++)
				fprintf(stderr, "  %s: warning: %s\n", key, m->warnings[i]);
			assert_int_equal(m->n_warnings, 0);
			/* Every weighted layer of the config got its weights. */
			for (int i = 0; i < m->n_layers; i++)
				assert_string_not_equal(m->layers[i].class_name, "?");
		}
		ks_model_free(m);
		n++;
	}
	json_decref(exp);
	assert_true(n >= 8);
}

static void check_real_layer_names(void **state)
{
	/* Layer names from config, weights from groups named otherwise. */
	const char *fx = ks_test_fixtures();
	char path[4096];
	ks_model *m;
	(void)state;

	assert_non_null(fx);
	snprintf(path, sizeof path, "%s/real/Digit-Recognition/model.keras", fx);
	m = open_ok(path, NULL);
	{
		const ks_weight *k = weight(m, "dense_4", "kernel");
		assert_int_equal(k->rank, 2);
		assert_int_equal(k->shape[0], 1600);
		assert_int_equal(k->shape[1], 10);
		assert_string_equal(k->h5_path, "/layers/dense/vars/0");
		assert_string_equal(weight(m, "conv2d_9", "bias")->h5_path, "/layers/conv2d_1/vars/1");
	}
	ks_model_free(m);
	snprintf(path, sizeof path, "%s/real/hls4ml-example-models/keras/qkeras-v3_3layer.keras", fx);
	m = open_ok(path, NULL);
	assert_string_equal(weight(m, "fc2", "kernel")->h5_path, "/layers/q_dense_1/vars/0");
	assert_string_equal(weight(m, "output", "bias")->h5_path, "/layers/q_dense_3/vars/1");
	ks_model_free(m);
}

static bool weights_equal(const ks_model *a, const ks_weight *wa, const ks_model *b,
                          const ks_weight *wb, float *bufa, float *bufb)
{
	int64_t n;
	ks_err e;

	if (wa->rank != wb->rank)
		return false;
	for (int i = 0; i < wa->rank; i++)
		if (wa->shape[i] != wb->shape[i])
			return false;
	ks_numel(wa->shape, wa->rank, &n);
	if (ks_weight_read(a, wa, bufa, &e) < 0 || ks_weight_read(b, wb, bufb, &e) < 0)
		fail_msg("%s", e.msg);
	return memcmp(bufa, bufb, (size_t)n * sizeof(float)) == 0;
}

/* Same layers (by name), same weights in the same order with the same
 * values. Semantic names that differ are counted (reported, not fatal:
 * legacy names come from the file, ours from the class). */
static void compare_models(const char *label, const ks_model *a, const ks_model *b, int *name_diffs)
{
	static float bufa[1 << 20], bufb[1 << 20];

	for (int i = 0; i < b->n_layers; i++) {
		const ks_layer *lb = &b->layers[i];
		const ks_layer *la = ks_model_find_layer(a, lb->name, false);
		/* Input layers may be named differently (synthesised by one
		 * writer, explicit in the other); they hold no weights. */
		if (!la && lb->n_weights == 0 && !lb->inner)
			continue;
		if (!la)
			fail_msg("%s: layer %s missing", label, lb->name);
		if (la->n_weights != lb->n_weights)
			fail_msg("%s: layer %s has %d weights, legacy twin %d", label, lb->name,
			         la->n_weights, lb->n_weights);
		for (int k = 0; k < la->n_weights; k++) {
			int64_t n = 0;
			ks_numel(la->weights[k].shape, la->weights[k].rank, &n);
			assert_true(n <= (1 << 20));
			if (!weights_equal(a, &la->weights[k], b, &lb->weights[k], bufa, bufb))
				fail_msg("%s: layer %s weight %d (%s) differs from the legacy twin", label,
				         lb->name, k, la->weights[k].name);
			if (strcmp(la->weights[k].name, lb->weights[k].name) != 0) {
				fprintf(stderr, "  note %s: %s: %s vs legacy %s\n", label, lb->name,
				        la->weights[k].name, lb->weights[k].name);
				(*name_diffs)++;
			}
		}
		if (la->inner && lb->inner)
			compare_models(label, la->inner, lb->inner, name_diffs);
	}
}

static void test_conformance(void **state)
{
	const char *fx = ks_test_fixtures();
	char dir[4096], p[4200], q[4200];
	struct dirent *de;
	DIR *d;
	int cases = 0, name_diffs = 0;
	(void)state;

	assert_non_null(fx);
	snprintf(dir, sizeof dir, "%s/conformance", fx);
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d))) {
		ks_model *k, *wk, *wc, *leg;
		struct stat st;
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof p, "%s/%s/model.keras", dir, de->d_name);
		if (stat(p, &st) != 0)
			continue;
		k = open_ok(p, NULL);
		/* Clean Keras files map completely: nothing to warn about. */
		for (int i = 0; i < k->n_warnings; i++)
			fprintf(stderr, "  %s: warning: %s\n", de->d_name, k->warnings[i]);
		assert_int_equal(k->n_warnings, 0);
		snprintf(q, sizeof q, "%s/%s/model.h5", dir, de->d_name);
		leg = open_ok(q, NULL);
		if (k->total_params != leg->total_params)
			fail_msg("%s: %lld params, legacy twin %lld", de->d_name,
			         (long long)k->total_params, (long long)leg->total_params);
		compare_models(de->d_name, k, leg, &name_diffs);

		snprintf(q, sizeof q, "%s/%s/model.weights.h5", dir, de->d_name);
		wk = open_ok(q, NULL); /* no config: listed from the file */
		assert_int_equal(wk->format, KS_FMT_KERAS3_WEIGHTS);
		assert_int_equal(wk->total_params, leg->total_params);
		/* The architecture may be given as the .keras itself. */
		wc = open_ok(q, p);
		compare_models(de->d_name, wc, leg, &name_diffs);
		ks_model_free(wc);
		ks_model_free(wk);
		ks_model_free(leg);
		ks_model_free(k);
		cases++;
	}
	closedir(d);
	fprintf(stderr, "  %d conformance cases, %d semantic-name differences with legacy\n", cases,
	        name_diffs);
	assert_true(cases >= 40);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snake_case),
		cmocka_unit_test(test_varnames),
		cmocka_unit_test(test_zip_by_order),
		cmocka_unit_test(test_windows_paths),
		cmocka_unit_test(test_text_vectorization),
		cmocka_unit_test(test_zip_by_name_attr),
		cmocka_unit_test(test_zip_nested),
		cmocka_unit_test(test_zip_attention_wrappers),
		cmocka_unit_test(test_zip_nested_functional),
		cmocka_unit_test(test_keras214_zip),
		cmocka_unit_test(test_keras214_nested),
		cmocka_unit_test(test_keras214_subclassed),
		cmocka_unit_test(test_keras3_subclassed),
		cmocka_unit_test(test_zip_bad_graph),
		cmocka_unit_test(test_weights_no_config),
		cmocka_unit_test(test_weights_with_config),
		cmocka_unit_test(test_big_member_in_place),
		cmocka_unit_test(test_real_fixtures),
		cmocka_unit_test(check_real_layer_names),
		cmocka_unit_test(test_conformance),
	};
	ks_quiet_hdf5();
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
