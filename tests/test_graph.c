/* ks_graph and the legacy loader on hand-built configs and files: Keras 1
 * list-style Sequential, Keras 2 Sequential, functional graphs in the Keras
 * 2 and Keras 3 node forms with a shared layer and a nested model, and a
 * legacy .h5 whose nested model's weights sit one level flatter. */
#include "config.h"

#include "ks_test.h"
#include "h5_build.h"
#include "ks_graph.h"
#include "ks_h5.h"
#include "ks_legacy.h"
#include "ks_model.h"
#include "ks_plan.h"
#include "ks_util.h"

static json_t *J(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	if (!j)
		fprintf(stderr, "bad test JSON: %s at %d:%d\n", je.text, je.line, je.column);
	assert_non_null(j);
	return j;
}

static int idx(const ks_model *m, const char *name)
{
	for (int i = 0; i < m->n_layers; i++)
		if (strcmp(m->layers[i].name, name) == 0)
			return i;
	return -1;
}

static void test_keras1_list_sequential(void **state)
{
	json_t *mc = J("{\"class_name\": \"Sequential\", \"config\": ["
	               "{\"class_name\": \"Dense\", \"config\": {\"name\": \"dense_1\", \"input_dim\": 4, \"output_dim\": 3}},"
	               "{\"class_name\": \"Activation\", \"config\": {\"name\": \"act\", \"activation\": \"relu\"}}]}");
	ks_model *m = ks_model_new("k1.h5");
	ks_err err;
	const json_t *shape;

	(void)state;
	assert_int_equal(ks_graph_build(m, mc, &err), 0);
	assert_string_equal(m->class_name, "Sequential");
	assert_null(m->name);
	assert_int_equal(m->n_layers, 3);
	assert_string_equal(m->layers[0].class_name, "InputLayer");
	assert_string_equal(m->layers[0].name, "dense_1_input");
	shape = json_object_get(m->layers[0].config, "batch_input_shape");
	assert_int_equal(json_array_size(shape), 2);
	assert_true(json_is_null(json_array_get(shape, 0)));
	assert_int_equal(json_integer_value(json_array_get(shape, 1)), 4);
	assert_int_equal(m->layers[0].n_nodes, 0);
	assert_int_equal(m->layers[2].n_nodes, 1);
	assert_int_equal(m->layers[2].nodes[0].n_in, 1);
	assert_int_equal(m->layers[2].nodes[0].in[0].layer, 1);
	assert_int_equal(m->n_inputs, 1);
	assert_int_equal(m->inputs[0].layer, 0);
	assert_int_equal(m->n_outputs, 1);
	assert_int_equal(m->outputs[0].layer, 2);
	/* the layer config is a view into the model config */
	assert_ptr_equal(m->layers[1].config,
	                 json_object_get(json_array_get(json_object_get(mc, "config"), 0), "config"));
	ks_model_free(m);
	json_decref(mc);
}

static void test_keras2_sequential_explicit_and_k1_rnn_input(void **state)
{
	json_t *a = J("{\"class_name\": \"Sequential\", \"config\": {\"name\": \"seq\", \"layers\": ["
	              "{\"class_name\": \"InputLayer\", \"config\": {\"name\": \"x\", \"batch_input_shape\": [null, 5]}},"
	              "{\"class_name\": \"Dense\", \"config\": {\"name\": \"d\", \"units\": 2, \"trainable\": false}}]}}");
	json_t *b = J("{\"class_name\": \"Sequential\", \"config\": ["
	              "{\"class_name\": \"LSTM\", \"config\": {\"name\": \"lstm_1\", \"input_dim\": 3, \"input_length\": 7}}]}");
	ks_model *m = ks_model_new(NULL), *n = ks_model_new(NULL);
	ks_err err;
	const json_t *s;

	(void)state;
	assert_int_equal(ks_graph_build(m, a, &err), 0);
	assert_string_equal(m->name, "seq");
	assert_int_equal(m->n_layers, 2); /* no second InputLayer */
	assert_string_equal(m->layers[0].name, "x");
	assert_false(m->layers[1].trainable);
	assert_int_equal(m->layers[1].nodes[0].in[0].layer, 0);
	assert_int_equal(ks_graph_build(n, b, &err), 0);
	s = json_object_get(n->layers[0].config, "batch_input_shape");
	assert_int_equal(json_array_size(s), 3);
	assert_int_equal(json_integer_value(json_array_get(s, 1)), 7);
	assert_int_equal(json_integer_value(json_array_get(s, 2)), 3);
	ks_model_free(m);
	ks_model_free(n);
	json_decref(a);
	json_decref(b);
}

/* Two inputs go through one nested model (called twice: Keras refers to its
 * calls as nodes 1 and 2), then through one shared Dense, then Add. */
static const char *K2_SIAMESE =
	"{\"class_name\": \"Functional\", \"config\": {\"name\": \"siamese\", \"layers\": ["
	"{\"class_name\": \"InputLayer\", \"name\": \"in_a\", \"config\": {\"name\": \"in_a\", \"batch_input_shape\": [null, 3]}, \"inbound_nodes\": []},"
	"{\"class_name\": \"InputLayer\", \"name\": \"in_b\", \"config\": {\"name\": \"in_b\", \"batch_input_shape\": [null, 3]}, \"inbound_nodes\": []},"
	"{\"class_name\": \"Functional\", \"name\": \"inner\", \"config\": {\"name\": \"inner\", \"layers\": ["
	"  {\"class_name\": \"InputLayer\", \"name\": \"inner_in\", \"config\": {\"name\": \"inner_in\", \"batch_input_shape\": [null, 3]}, \"inbound_nodes\": []},"
	"  {\"class_name\": \"Dense\", \"name\": \"inner_dense\", \"config\": {\"name\": \"inner_dense\", \"units\": 4}, \"inbound_nodes\": [[[\"inner_in\", 0, 0, {}]]]},"
	"  {\"class_name\": \"BatchNormalization\", \"name\": \"inner_bn\", \"config\": {\"name\": \"inner_bn\"}, \"inbound_nodes\": [[[\"inner_dense\", 0, 0, {}]]]}],"
	"  \"input_layers\": [[\"inner_in\", 0, 0]], \"output_layers\": [[\"inner_bn\", 0, 0]]},"
	" \"inbound_nodes\": [[[\"in_a\", 0, 0, {}]], [[\"in_b\", 0, 0, {}]]]},"
	"{\"class_name\": \"Dense\", \"name\": \"shared\", \"config\": {\"name\": \"shared\", \"units\": 2},"
	" \"inbound_nodes\": [[[\"inner\", 1, 0, {}]], [[\"inner\", 2, 0, {}]]]},"
	"{\"class_name\": \"Add\", \"name\": \"add\", \"config\": {\"name\": \"add\"},"
	" \"inbound_nodes\": [[[\"shared\", 0, 0, {}], [\"shared\", 1, 0, {}]]]}],"
	"\"input_layers\": [[\"in_a\", 0, 0], [\"in_b\", 0, 0]], \"output_layers\": [[\"add\", 0, 0]]}}";

static void check_siamese_graph(const ks_model *m)
{
	int inner = idx(m, "inner"), shared = idx(m, "shared"), add = idx(m, "add");
	const ks_layer *S = &m->layers[shared], *A = &m->layers[add], *I = &m->layers[inner];

	assert_true(inner >= 0 && shared >= 0 && add >= 0);
	assert_int_equal(m->n_inputs, 2);
	assert_int_equal(m->inputs[0].layer, idx(m, "in_a"));
	assert_int_equal(m->inputs[1].layer, idx(m, "in_b"));
	assert_int_equal(m->n_outputs, 1);
	assert_int_equal(m->outputs[0].layer, add);
	assert_int_equal(m->outputs[0].node, 0);
	/* nested model: two calls, refs translated to its nodes[] 0 and 1 */
	assert_non_null(I->inner);
	assert_ptr_equal(I->inner->parent, m);
	assert_int_equal(I->n_nodes, 2);
	assert_int_equal(I->nodes[1].in[0].layer, idx(m, "in_b"));
	assert_int_equal(S->n_nodes, 2);
	assert_int_equal(S->nodes[0].in[0].layer, inner);
	assert_int_equal(S->nodes[0].in[0].node, 0);
	assert_int_equal(S->nodes[1].in[0].node, 1);
	assert_int_equal(A->nodes[0].n_in, 2);
	assert_int_equal(A->nodes[0].in[0].layer, shared);
	assert_int_equal(A->nodes[0].in[1].node, 1);
	/* the nested model's own graph */
	assert_int_equal(I->inner->n_layers, 3);
	assert_string_equal(I->inner->name, "inner");
	assert_int_equal(I->inner->outputs[0].layer, 2);
	assert_int_equal(I->inner->layers[2].nodes[0].in[0].layer, 1);
}

static void test_functional_k2_shared_and_nested(void **state)
{
	json_t *mc = J(K2_SIAMESE);
	ks_model *m = ks_model_new("s.h5");
	ks_err err;

	(void)state;
	assert_int_equal(ks_graph_build(m, mc, &err), 0);
	check_siamese_graph(m);
	assert_non_null(ks_model_find_layer(m, "inner_bn", true));
	assert_null(ks_model_find_layer(m, "inner_bn", false));
	ks_model_free(m);
	json_decref(mc);
}

/* The same graph in Keras 3's node form (args with __keras_tensor__, single
 * [l, n, t] input/output lists, a list argument for the merge layer). */
#define KT(l, n) "{\"class_name\": \"__keras_tensor__\", \"config\": {\"shape\": [null, 3], \"dtype\": \"float32\", \"keras_history\": [\"" l "\", " #n ", 0]}}"
static const char *K3_GRAPH =
	"{\"module\": \"keras\", \"class_name\": \"Functional\", \"config\": {\"name\": \"functional\", \"layers\": ["
	"{\"module\": \"keras.layers\", \"class_name\": \"InputLayer\", \"name\": \"input_layer\", \"config\": {\"name\": \"input_layer\", \"batch_shape\": [null, 3]}, \"inbound_nodes\": []},"
	"{\"class_name\": \"Dense\", \"name\": \"d1\", \"config\": {\"name\": \"d1\", \"units\": 3},"
	" \"inbound_nodes\": [{\"args\": [" KT("input_layer", 0) "], \"kwargs\": {}}]},"
	"{\"class_name\": \"Dense\", \"name\": \"sh\", \"config\": {\"name\": \"sh\", \"units\": 3},"
	" \"inbound_nodes\": [{\"args\": [" KT("input_layer", 0) "], \"kwargs\": {}},"
	"                     {\"args\": [" KT("d1", 0) "], \"kwargs\": {\"training\": false}}]},"
	"{\"class_name\": \"Add\", \"name\": \"add\", \"config\": {\"name\": \"add\"},"
	" \"inbound_nodes\": [{\"args\": [[" KT("sh", 0) ", " KT("sh", 1) "]], \"kwargs\": {}}]}],"
	"\"input_layers\": [\"input_layer\", 0, 0], \"output_layers\": [\"add\", 0, 0]}}";

static void test_functional_k3_nodes(void **state)
{
	json_t *mc = J(K3_GRAPH);
	ks_model *m = ks_model_new(NULL);
	ks_err err;
	const ks_layer *sh, *add;

	(void)state;
	assert_int_equal(ks_graph_build(m, mc, &err), 0);
	assert_int_equal(m->n_layers, 4);
	assert_int_equal(m->n_inputs, 1);
	assert_int_equal(m->inputs[0].layer, 0);
	assert_int_equal(m->n_outputs, 1);
	assert_int_equal(m->outputs[0].layer, 3);
	sh = &m->layers[2];
	add = &m->layers[3];
	assert_int_equal(sh->n_nodes, 2);
	assert_int_equal(sh->nodes[1].in[0].layer, 1);
	assert_non_null(sh->nodes[1].kwargs);
	assert_null(sh->nodes[0].kwargs);
	assert_int_equal(add->nodes[0].n_in, 2);
	assert_int_equal(add->nodes[0].in[1].layer, 2);
	assert_int_equal(add->nodes[0].in[1].node, 1);
	ks_model_free(m);
	json_decref(mc);
}

/* Keras 3 dict outputs are flattened in sorted key order; a Keras 2
 * TFOpLambda-style node is a bare [layer, node, tensor, kwargs]. */
static void test_dict_outputs_and_bare_triple(void **state)
{
	json_t *mc = J("{\"class_name\": \"Functional\", \"config\": {\"name\": \"f\", \"layers\": ["
	               "{\"class_name\": \"InputLayer\", \"name\": \"i\", \"config\": {\"name\": \"i\"}, \"inbound_nodes\": []},"
	               "{\"class_name\": \"TFOpLambda\", \"name\": \"op\", \"config\": {\"name\": \"op\"},"
	               " \"inbound_nodes\": [[\"i\", 0, 0, {\"y\": 2.0}]]},"
	               "{\"class_name\": \"Dense\", \"name\": \"zeta\", \"config\": {\"name\": \"zeta\"}, \"inbound_nodes\": [[[\"op\", 0, 0, {}]]]},"
	               "{\"class_name\": \"Dense\", \"name\": \"alpha\", \"config\": {\"name\": \"alpha\"}, \"inbound_nodes\": [[[\"op\", 0, 0, {}]]]}],"
	               "\"input_layers\": {\"x\": [\"i\", 0, 0]},"
	               "\"output_layers\": {\"b_out\": [\"alpha\", 0, 0], \"a_out\": [\"zeta\", 0, 0]}}}");
	ks_model *m = ks_model_new(NULL);
	ks_err err;

	(void)state;
	assert_int_equal(ks_graph_build(m, mc, &err), 0);
	assert_int_equal(m->n_inputs, 1);
	assert_int_equal(m->n_outputs, 2);
	assert_int_equal(m->outputs[0].layer, idx(m, "zeta"));  /* key a_out */
	assert_int_equal(m->outputs[1].layer, idx(m, "alpha")); /* key b_out */
	assert_int_equal(m->layers[1].n_nodes, 1);
	assert_int_equal(m->layers[1].nodes[0].in[0].layer, 0);
	assert_non_null(m->layers[1].nodes[0].kwargs);
	ks_model_free(m);
	json_decref(mc);
}

/* A deferred Keras 3 Sequential: no InputLayer and no shape on the first
 * layer; the input shape comes from build_config beside the config. */
static void test_sequential_shape_from_build_config(void **state)
{
	json_t *mc = J("{\"class_name\": \"Sequential\", \"config\": {\"name\": \"s\", \"layers\": ["
	               "{\"class_name\": \"Dense\", \"config\": {\"name\": \"d\", \"units\": 2}}]},"
	               "\"build_config\": {\"input_shape\": [null, 9]}}");
	ks_model *m = ks_model_new(NULL);
	ks_err err;
	const json_t *sh;

	(void)state;
	assert_int_equal(ks_graph_build(m, mc, &err), 0);
	assert_int_equal(m->n_layers, 2);
	assert_string_equal(m->layers[0].name, "d_input");
	sh = json_object_get(m->layers[0].config, "batch_input_shape");
	assert_int_equal(json_array_size(sh), 2);
	assert_int_equal(json_integer_value(json_array_get(sh, 1)), 9);
	assert_int_equal(m->n_warnings, 0);
	ks_model_free(m);
	json_decref(mc);
}

static void test_synth_input_name_never_collides(void **state)
{
	json_t *mc = J("{\"class_name\": \"Sequential\", \"config\": {\"name\": \"s\", \"layers\": ["
	               "{\"class_name\": \"Dense\", \"config\": {\"name\": \"dense\", \"batch_input_shape\": [null, 2]}},"
	               "{\"class_name\": \"Dense\", \"config\": {\"name\": \"dense_input\"}}]}}");
	ks_model *m = ks_model_new(NULL);
	ks_err err;

	(void)state;
	assert_int_equal(ks_graph_build(m, mc, &err), 0);
	assert_int_equal(m->n_layers, 3);
	assert_string_equal(m->layers[0].name, "dense_input_1");
	assert_string_equal(m->layers[2].name, "dense_input");
	ks_model_free(m);
	json_decref(mc);
}

static void test_bad_graphs_fail_with_file_name(void **state)
{
	json_t *unknown = J("{\"class_name\": \"Functional\", \"config\": {\"name\": \"f\", \"layers\": ["
	                    "{\"class_name\": \"Dense\", \"name\": \"d\", \"config\": {\"name\": \"d\"},"
	                    " \"inbound_nodes\": [[[\"ghost\", 0, 0, {}]]]}],"
	                    "\"input_layers\": [], \"output_layers\": [[\"d\", 0, 0]]}}");
	json_t *range = J("{\"class_name\": \"Functional\", \"config\": {\"name\": \"f\", \"layers\": ["
	                  "{\"class_name\": \"InputLayer\", \"name\": \"i\", \"config\": {\"name\": \"i\"}, \"inbound_nodes\": []},"
	                  "{\"class_name\": \"Dense\", \"name\": \"d\", \"config\": {\"name\": \"d\"},"
	                  " \"inbound_nodes\": [[[\"i\", 0, 0, {}]]]}],"
	                  "\"input_layers\": [[\"i\", 0, 0]], \"output_layers\": [[\"d\", 3, 0]]}}");
	json_t *dup = J("{\"class_name\": \"Sequential\", \"config\": {\"name\": \"s\", \"layers\": ["
	                "{\"class_name\": \"Dense\", \"config\": {\"name\": \"d\", \"input_dim\": 2}},"
	                "{\"class_name\": \"Dense\", \"config\": {\"name\": \"d\"}}]}}");
	ks_model *m;
	ks_err err;

	(void)state;
	m = ks_model_new("bad.h5");
	assert_int_equal(ks_graph_build(m, unknown, &err), -1);
	assert_non_null(strstr(err.msg, "bad.h5: "));
	assert_non_null(strstr(err.msg, "ghost"));
	ks_model_free(m);
	m = ks_model_new("bad.h5");
	assert_int_equal(ks_graph_build(m, range, &err), -1);
	assert_non_null(strstr(err.msg, "call 3"));
	ks_model_free(m);
	m = ks_model_new("bad.h5");
	assert_int_equal(ks_graph_build(m, dup, &err), -1);
	assert_non_null(strstr(err.msg, "twice"));
	ks_model_free(m);
	json_decref(unknown);
	json_decref(range);
	json_decref(dup);
}

static void test_models_nested_too_deep(void **state)
{
	/* Sequential inside Sequential, 40 levels. */
	json_t *root = J("{\"class_name\": \"Dense\", \"config\": {\"name\": \"leaf\", \"input_dim\": 2}}");
	ks_model *m = ks_model_new("deep.h5");
	ks_err err;

	(void)state;
	for (int d = 0; d < 40; d++) {
		json_t *seq = json_object(), *cfg = json_object(), *layers = json_array();
		char name[32];
		snprintf(name, sizeof name, "s%d", d);
		json_array_append_new(layers, root);
		json_object_set_new(cfg, "name", json_string(name));
		json_object_set_new(cfg, "layers", layers);
		json_object_set_new(seq, "class_name", json_string("Sequential"));
		json_object_set_new(seq, "config", cfg);
		root = seq;
	}
	assert_int_equal(ks_graph_build(m, root, &err), -1);
	assert_non_null(strstr(err.msg, "deep.h5"));
	assert_non_null(strstr(err.msg, "nested more than"));
	ks_model_free(m);
	json_decref(root);
}

/* ---- legacy files built here --------------------------------------------- */

static char *write_sequential_h5(bool fixed_names, bool keras1)
{
	char *p = ks_xasprintf("%s/seq_%d_%d.h5", ks_test_tmpdir(), fixed_names, keras1);
	hid_t f = hb_create(p), wg, g;
	const char *ln[] = {"dense"};
	const char *k2w[] = {"dense/kernel:0", "dense/bias:0"};
	const char *k1w[] = {"dense_W", "dense_b"};
	float kernel[6] = {1, 2, 3, 4, 5, 6}, bias[2] = {0.5f, -0.5f};
	const char *cfg =
		keras1 ? "{\"class_name\": \"Sequential\", \"config\": [{\"class_name\": \"Dense\", \"config\": "
		         "{\"name\": \"dense\", \"output_dim\": 2, \"batch_input_shape\": [null, 3]}}]}"
		       : "{\"class_name\": \"Sequential\", \"config\": {\"name\": \"sequential\", \"layers\": ["
		         "{\"class_name\": \"Dense\", \"config\": {\"name\": \"dense\", \"units\": 2, "
		         "\"batch_input_shape\": [null, 3]}}]}}";

	hb_attr_str(f, "keras_version", keras1 ? "1.2.2" : "2.13.1", !keras1, 0, H5T_STR_NULLTERM);
	if (!keras1)
		hb_attr_str(f, "backend", "tensorflow", true, 0, H5T_STR_NULLTERM);
	hb_attr_str(f, "model_config", cfg, false, 0, H5T_STR_NULLTERM);
	hb_attr_str(f, "training_config",
	            "{\"optimizer_config\": {\"class_name\": \"Adam\", \"config\": {}}, \"loss\": \"mse\"}",
	            false, 0, H5T_STR_NULLTERM);
	wg = hb_group(f, "model_weights");
	hb_attr_strv(wg, "layer_names", ln, 1, !fixed_names);
	g = hb_group(wg, "dense");
	hb_attr_strv(g, "weight_names", keras1 ? k1w : k2w, 2, !fixed_names);
	hb_dset_f32(g, keras1 ? k1w[0] : k2w[0], 2, (hsize_t[]){3, 2}, kernel);
	hb_dset_f32(g, keras1 ? k1w[1] : k2w[1], 1, (hsize_t[]){2}, bias);
	H5Gclose(g);
	H5Gclose(wg);
	g = hb_group(f, "optimizer_weights");
	if (keras1) {
		const char *ow[] = {"param_0", "param_1"};
		hb_attr_strv(g, "weight_names", ow, 2, false);
		hb_dset_f32(g, "param_0", 2, (hsize_t[]){3, 2}, NULL);
		hb_dset_f32(g, "param_1", 1, (hsize_t[]){2}, NULL);
	} else {
		const char *ow[] = {"Adam/iter:0", "Adam/dense/kernel/m:0"};
		hb_attr_strv(g, "weight_names", ow, 2, true);
		hb_dset_f32(g, "Adam/iter:0", 1, (hsize_t[]){1}, NULL);
		hb_dset_f32(g, "Adam/dense/kernel/m:0", 2, (hsize_t[]){3, 2}, NULL);
	}
	H5Gclose(g);
	H5Fclose(f);
	return p;
}

static void check_tiny_dense(const char *p, bool keras1)
{
	ks_err err;
	ks_model *m = ks_model_open(p, NULL, &err);
	const ks_layer *owner;
	const ks_weight *w;
	float buf[6];
	int64_t start[2] = {1, 1}, count[2] = {2, 1};

	if (!m)
		fprintf(stderr, "%s\n", err.msg);
	assert_non_null(m);
	assert_int_equal(m->format, KS_FMT_LEGACY_H5);
	assert_string_equal(m->keras_version, keras1 ? "1.2.2" : "2.13.1");
	if (keras1)
		assert_null(m->backend);
	else
		assert_string_equal(m->backend, "tensorflow");
	assert_int_equal(m->n_layers, 2);
	assert_string_equal(m->layers[0].name, "dense_input");
	assert_string_equal(m->layers[1].class_name, "Dense");
	assert_int_equal(m->layers[1].n_weights, 2);
	assert_string_equal(m->layers[1].weights[0].name, keras1 ? "W" : "kernel");
	assert_string_equal(m->layers[1].weights[1].name, keras1 ? "b" : "bias");
	assert_string_equal(m->layers[1].weights[0].h5_path,
	                    keras1 ? "/model_weights/dense/dense_W" : "/model_weights/dense/dense/kernel:0");
	assert_int_equal(m->layers[1].params, 8);
	assert_int_equal(m->total_params, 8);
	assert_int_equal(m->trainable_params, 8);
	assert_int_equal(m->non_trainable_params, 0);
	assert_int_equal(m->weight_bytes, 32);
	assert_string_equal(m->opt_class, "Adam");
	assert_int_equal(m->n_opt_weights, 2);
	assert_int_equal(m->opt_params, keras1 ? 8 : 7);
	w = ks_model_find_weight(m, keras1 ? "dense/W" : "dense/kernel", &owner);
	assert_non_null(w);
	assert_ptr_equal(owner, &m->layers[1]);
	assert_ptr_equal(ks_model_find_weight(m, keras1 ? "dense/dense_W" : "dense/dense/kernel:0", NULL), w);
	assert_ptr_equal(ks_model_find_weight(m, w->h5_path, NULL), w);
	assert_null(ks_model_find_weight(m, "dense/nothing", NULL));
	assert_int_equal(ks_weight_read(m, w, buf, &err), 0);
	for (int i = 0; i < 6; i++)
		assert_true(buf[i] == (float)(i + 1));
	/* rows 1..2 of column 1 of [[1,2],[3,4],[5,6]] */
	assert_int_equal(ks_weight_read_slab(m, w, start, count, buf, &err), 0);
	assert_true(buf[0] == 4.0f && buf[1] == 6.0f);
	count[0] = 3;
	assert_int_equal(ks_weight_read_slab(m, w, start, count, buf, &err), -1);
	w = ks_model_find_weight(m, keras1 ? "dense/b" : "dense/bias", NULL);
	assert_int_equal(ks_weight_read(m, w, buf, &err), 0);
	assert_true(buf[0] == 0.5f && buf[1] == -0.5f);
	ks_model_free(m);
}

static void test_legacy_tiny_dense_all_encodings(void **state)
{
	(void)state;
	for (int fixed = 0; fixed < 2; fixed++)
		for (int k1 = 0; k1 < 2; k1++) {
			char *p = write_sequential_h5(fixed, k1);
			check_tiny_dense(p, k1);
			free(p);
		}
}

/* Full save of the siamese model: the nested model's group holds its inner
 * layers' weights one level flatter (model_weights/inner/inner_bn/gamma:0),
 * trainable first then the BN moving stats. */
static void test_legacy_nested_weights(void **state)
{
	char *p = ks_xasprintf("%s/siamese.h5", ks_test_tmpdir());
	hid_t f = hb_create(p), wg;
	const char *ln[] = {"in_a", "in_b", "inner", "shared", "add"};
	const char *iw[] = {"inner_dense/kernel:0", "inner_dense/bias:0", "inner_bn/gamma:0",
	                    "inner_bn/beta:0", "inner_bn/moving_mean:0", "inner_bn/moving_variance:0"};
	const hsize_t ishape[6][4] = {{3, 4}, {4}, {4}, {4}, {4}, {4}};
	const char *sw[] = {"shared/kernel:0", "shared/bias:0"};
	const hsize_t sshape[2][4] = {{4, 2}, {2}};
	ks_model *m;
	ks_err err;
	const ks_layer *owner, *bn;
	const ks_weight *w;

	(void)state;
	hb_attr_str(f, "keras_version", "2.8.0", true, 0, H5T_STR_NULLTERM);
	hb_attr_str(f, "backend", "tensorflow", true, 0, H5T_STR_NULLTERM);
	hb_attr_str(f, "model_config", K2_SIAMESE, false, 0, H5T_STR_NULLTERM);
	wg = hb_group(f, "model_weights");
	hb_attr_strv(wg, "layer_names", ln, 5, true);
	hb_layer(wg, "in_a", NULL, 0, NULL);
	hb_layer(wg, "in_b", NULL, 0, NULL);
	hb_layer(wg, "inner", iw, 6, ishape);
	hb_layer(wg, "shared", sw, 2, sshape);
	hb_layer(wg, "add", NULL, 0, NULL);
	hb_layer(wg, "top_level_model_weights", NULL, 0, NULL);
	H5Gclose(wg);
	H5Fclose(f);

	m = ks_model_open(p, NULL, &err);
	if (!m)
		fprintf(stderr, "%s\n", err.msg);
	assert_non_null(m);
	check_siamese_graph(m);
	assert_int_equal(m->n_layers, 5); /* top_level_model_weights is empty: no layer */
	bn = ks_model_find_layer(m, "inner_bn", true);
	assert_non_null(bn);
	assert_int_equal(bn->n_weights, 4);
	assert_string_equal(bn->weights[2].name, "moving_mean");
	assert_false(bn->weights[2].trainable);
	assert_true(bn->weights[0].trainable);
	assert_int_equal(ks_model_find_layer(m, "inner_dense", true)->n_weights, 2);
	assert_int_equal(ks_model_find_layer(m, "inner", false)->n_weights, 0);
	/* 12 + 4 + 16 (BN) + 8 + 2 */
	assert_int_equal(ks_model_find_layer(m, "inner", false)->params, 32);
	assert_int_equal(m->total_params, 42);
	assert_int_equal(m->non_trainable_params, 8);
	assert_int_equal(m->trainable_params, 34);
	w = ks_model_find_weight(m, "inner/inner_bn/gamma", &owner);
	assert_non_null(w);
	assert_ptr_equal(owner, bn);
	assert_string_equal(w->h5_path, "/model_weights/inner/inner_bn/gamma:0");
	assert_ptr_equal(ks_model_find_weight(m, "inner_bn/gamma", NULL), w);
	{
		float v[4];
		const ks_model *inner = ks_model_find_layer(m, "inner", false)->inner;
		assert_int_equal(ks_weight_read(inner, w, v, &err), 0);
		assert_true(v[0] == 0.0f && v[3] == 3.0f);
	}
	ks_model_free(m);
	free(p);
}

/* Weights-only, no architecture: layers from layer_names, class "?";
 * nested groups keep their inner path as the disambiguated name. */
static void test_weights_only_without_config(void **state)
{
	char *p = ks_xasprintf("%s/wonly.h5", ks_test_tmpdir());
	hid_t f = hb_create(p);
	const char *ln[] = {"encoder_input", "encoder"};
	const char *ew[] = {"conv2d_6/kernel:0", "conv2d_6/bias:0", "dense_1/kernel:0", "dense_1/bias:0"};
	const hsize_t es[4][4] = {{3, 3, 1, 2}, {2}, {2, 5}, {5}};
	ks_model *m;
	ks_err err;

	(void)state;
	hb_attr_strv(f, "layer_names", ln, 2, false);
	hb_attr_str(f, "keras_version", "2.1.6-tf", false, 0, H5T_STR_NULLTERM);
	hb_layer(f, "encoder_input", NULL, 0, NULL);
	hb_layer(f, "encoder", ew, 4, es);
	H5Fclose(f);
	m = ks_model_open(p, NULL, &err);
	assert_non_null(m);
	assert_int_equal(m->format, KS_FMT_WEIGHTS_H5);
	assert_int_equal(m->n_layers, 2);
	assert_string_equal(m->layers[1].class_name, "?");
	assert_int_equal(m->layers[1].n_weights, 4);
	assert_string_equal(m->layers[1].weights[0].name, "conv2d_6/kernel");
	assert_string_equal(m->layers[1].weights[3].name, "dense_1/bias");
	assert_int_equal(m->total_params, 18 + 2 + 10 + 5);
	assert_int_equal(m->n_inputs, 0);
	assert_non_null(ks_model_find_weight(m, "encoder/dense_1/kernel", NULL));
	ks_model_free(m);
	free(p);
}

static void test_json_parse_python_nonfinite(void **state)
{
	ks_err err;
	const char *text = "{\"a\": NaN, \"b\": -Infinity, \"s\": \"NaN\"}";
	json_t *j = ks_json_parse(text, strlen(text), "t", &err);

	(void)state;
	assert_non_null(j);
	assert_true(json_is_null(json_object_get(j, "a")));
	assert_true(json_real_value(json_object_get(j, "b")) < -1e300);
	assert_string_equal(json_string_value(json_object_get(j, "s")), "NaN");
	json_decref(j);
}

/* Keras 1.2 TimeDistributed(Dense(3)) over (4 steps, 2 features): the
 * wrapper's group holds the Dense's weights under the Dense's Keras 1 names
 * (timedistributed_1 -> dense_1_W:0, dense_1_b:0). They must attach as W
 * and b and the layer must compute y[t] = x[t] W + b at every step. */
static void test_keras1_timedistributed_weights(void **state)
{
	char path[512];
	const char *ln[] = {"timedistributed_1"};
	const char *wn[] = {"dense_1_W:0", "dense_1_b:0"};
	const float W[6] = {1, 2, 3, -1, 0.5f, 0.25f}, b[3] = {0.1f, -0.2f, 0.3f};
	float x[8], want[12];
	ks_err err;
	(void)state;

	snprintf(path, sizeof path, "%s/k1_td.h5", ks_test_tmpdir());
	hid_t f = hb_create(path);
	hb_attr_str(f, "keras_version", "1.2.2", false, 0, H5T_STR_NULLTERM);
	hb_attr_str(f, "backend", "tensorflow", false, 0, H5T_STR_NULLTERM);
	hb_attr_str(f, "model_config",
	            "{\"class_name\": \"Sequential\", \"config\": [{\"class_name\": \"TimeDistributed\","
	            " \"config\": {\"name\": \"timedistributed_1\", \"trainable\": true,"
	            " \"batch_input_shape\": [null, 4, 2], \"input_dtype\": \"float32\","
	            " \"layer\": {\"class_name\": \"Dense\", \"config\": {\"name\": \"dense_1\","
	            " \"output_dim\": 3, \"input_dim\": null, \"activation\": \"linear\", \"bias\": true,"
	            " \"trainable\": true}}}}]}", false, 0, H5T_STR_NULLTERM);
	hid_t wg = hb_group(f, "model_weights");
	hb_attr_strv(wg, "layer_names", ln, 1, true);
	hid_t g = hb_group(wg, "timedistributed_1");
	hb_attr_strv(g, "weight_names", wn, 2, true);
	hb_dset_f32(g, "dense_1_W:0", 2, (hsize_t[]){2, 3}, W);
	hb_dset_f32(g, "dense_1_b:0", 1, (hsize_t[]){3}, b);
	H5Gclose(g);
	H5Gclose(wg);
	H5Fclose(f);

	ks_model *m = ks_model_open(path, NULL, &err);
	if (!m)
		fail_msg("open: %s", err.msg);
	ks_layer *L = ks_model_find_layer(m, "timedistributed_1", false);
	assert_non_null(L);
	assert_int_equal(L->n_weights, 2);
	assert_string_equal(L->weights[0].name, "W");
	assert_string_equal(L->weights[1].name, "b");
	assert_int_equal(m->total_params, 9);

	ks_plan_opts po = {.batch = 1};
	ks_plan *p = ks_plan_build(m, &po, &err);
	if (!p)
		fail_msg("plan: %s", err.msg);
	for (int i = 0; i < 8; i++)
		x[i] = 0.25f * (float)i - 1.0f;
	for (int t = 0; t < 4; t++)
		for (int j = 0; j < 3; j++)
			want[t * 3 + j] = x[t * 2] * W[j] + x[t * 2 + 1] * W[3 + j] + b[j];
	const float *in[1] = {x};
	ks_plan_run(p, in);
	const float *y = ks_plan_output(p, 0);
	for (int i = 0; i < 12; i++)
		assert_float_equal(y[i], want[i], 1e-6);
	ks_plan_free(p);
	ks_model_free(m);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_keras1_list_sequential),
	cmocka_unit_test(test_keras2_sequential_explicit_and_k1_rnn_input),
	cmocka_unit_test(test_functional_k2_shared_and_nested),
	cmocka_unit_test(test_functional_k3_nodes),
	cmocka_unit_test(test_synth_input_name_never_collides),
	cmocka_unit_test(test_sequential_shape_from_build_config),
	cmocka_unit_test(test_dict_outputs_and_bare_triple),
	cmocka_unit_test(test_bad_graphs_fail_with_file_name),
	cmocka_unit_test(test_models_nested_too_deep),
	cmocka_unit_test(test_legacy_tiny_dense_all_encodings),
	cmocka_unit_test(test_legacy_nested_weights),
	cmocka_unit_test(test_keras1_timedistributed_weights),
	cmocka_unit_test(test_weights_only_without_config),
	cmocka_unit_test(test_json_parse_python_nonfinite),
};

KS_TEST_MAIN(tests)
