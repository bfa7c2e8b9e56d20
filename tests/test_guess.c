/* ks_guess: the class a layer's weights imply when the file has no
 * architecture, built from weight names and shapes alone. Each case is a
 * layer as the loaders make it (semantic names, shapes, class "?"). */
#include "config.h"

#include "ks_test.h"

#include "ks_guess.h"
#include "ks_util.h"

typedef struct wdef {
	const char *name;
	int rank;
	int64_t d[4];
} wdef;

/* A layer of class "?" with the given weights (names borrowed). */
static ks_layer layer(const wdef *w, int n)
{
	ks_layer L;
	memset(&L, 0, sizeof L);
	L.name = (char *)"x";
	L.class_name = (char *)"?";
	L.n_weights = n;
	L.weights = ks_xcalloc((size_t)(n ? n : 1), sizeof *L.weights);
	for (int i = 0; i < n; i++) {
		L.weights[i].name = (char *)w[i].name;
		L.weights[i].rank = w[i].rank;
		memcpy(L.weights[i].shape, w[i].d, sizeof w[i].d);
	}
	return L;
}

/* The label ks_layer_class_label shows for the weights. */
static void expect(const wdef *w, int n, const char *label)
{
	ks_layer L = layer(w, n);
	char buf[160];
	assert_string_equal(ks_layer_class_label(&L, buf, sizeof buf), label);
	free(L.weights);
}

static void test_dense_and_conv(void **state)
{
	const wdef dense[] = {{"kernel", 2, {4, 8}}, {"bias", 1, {8}}};
	const wdef dense_nb[] = {{"kernel", 2, {4, 8}}};
	const wdef dense_bad[] = {{"kernel", 2, {4, 8}}, {"bias", 1, {4}}};
	const wdef conv[] = {{"kernel", 4, {3, 3, 2, 16}}, {"bias", 1, {16}}};
	const wdef tconv[] = {{"kernel", 4, {3, 3, 16, 2}}, {"bias", 1, {16}}};
	const wdef square[] = {{"kernel", 4, {3, 3, 8, 8}}, {"bias", 1, {8}}};
	const wdef conv_nb[] = {{"kernel", 4, {3, 3, 2, 16}}};
	const wdef k3_nb[] = {{"kernel", 3, {5, 2, 4}}};
	const wdef lc[] = {{"kernel", 3, {6, 10, 4}}, {"bias", 2, {6, 4}}};
	const wdef k1[] = {{"W", 2, {4, 8}}, {"b", 1, {8}}};
	const wdef k1_w[] = {{"W", 2, {100, 8}}};

	(void)state;
	expect(dense, 2, "Dense?");
	expect(dense_nb, 1, "Dense?");
	expect(dense_bad, 2, "?"); /* a bias that fits no Dense */
	expect(conv, 2, "Conv2D?");
	expect(tconv, 2, "Conv2DTranspose?");
	expect(square, 2, "Conv2D|Conv2DTranspose?");
	expect(conv_nb, 1, "Conv2D|Conv2DTranspose?");
	expect(k3_nb, 1, "Conv1D|Conv1DTranspose|LocallyConnected1D|LocallyConnected2D?");
	expect(lc, 2, "LocallyConnected1D|LocallyConnected2D?");
	expect(k1, 2, "Dense?");
	expect(k1_w, 1, "Dense|Embedding?");
}

static void test_normalization(void **state)
{
	const wdef bn[] = {{"gamma", 1, {4}}, {"beta", 1, {4}}, {"moving_mean", 1, {4}},
	                   {"moving_variance", 1, {4}}};
	const wdef bn_noscale[] = {{"beta", 1, {4}}, {"moving_mean", 1, {4}}, {"moving_variance", 1, {4}}};
	const wdef bn1[] = {{"gamma", 1, {4}}, {"beta", 1, {4}}, {"running_mean", 1, {4}},
	                    {"running_std", 1, {4}}};
	const wdef ln[] = {{"gamma", 1, {4}}, {"beta", 1, {4}}};

	(void)state;
	expect(bn, 4, "BatchNormalization?");
	expect(bn_noscale, 3, "BatchNormalization?");
	expect(bn1, 4, "BatchNormalization?");
	expect(ln, 2, "LayerNormalization|GroupNormalization?");
}

static void test_recurrent(void **state)
{
	/* units 5: the gate multiple of recurrent_kernel (5, g*5) decides */
	const wdef lstm[] = {{"kernel", 2, {3, 20}}, {"recurrent_kernel", 2, {5, 20}}, {"bias", 1, {20}}};
	const wdef gru[] = {{"kernel", 2, {3, 15}}, {"recurrent_kernel", 2, {5, 15}}, {"bias", 2, {2, 15}}};
	const wdef rnn[] = {{"kernel", 2, {3, 5}}, {"recurrent_kernel", 2, {5, 5}}, {"bias", 1, {5}}};
	const wdef two[] = {{"kernel", 2, {3, 10}}, {"recurrent_kernel", 2, {5, 10}}};
	const wdef convlstm[] = {{"kernel", 4, {3, 3, 2, 32}}, {"recurrent_kernel", 4, {3, 3, 8, 32}},
	                         {"bias", 1, {32}}};
	const wdef bi[] = {{"forward/kernel", 2, {3, 20}}, {"forward/recurrent_kernel", 2, {5, 20}},
	                   {"forward/bias", 1, {20}}, {"backward/kernel", 2, {3, 20}},
	                   {"backward/recurrent_kernel", 2, {5, 20}}, {"backward/bias", 1, {20}}};
	const wdef k1_gru[] = {{"W_z", 2, {3, 5}}, {"U_z", 2, {5, 5}}, {"b_z", 1, {5}},
	                       {"W_r", 2, {3, 5}}, {"U_r", 2, {5, 5}}, {"b_r", 1, {5}},
	                       {"W_h", 2, {3, 5}}, {"U_h", 2, {5, 5}}, {"b_h", 1, {5}}};

	(void)state;
	expect(lstm, 3, "LSTM?");
	expect(gru, 3, "GRU?");
	expect(rnn, 3, "SimpleRNN?");
	expect(two, 2, "?"); /* two gates: no Keras recurrent layer */
	expect(convlstm, 3, "ConvLSTM2D?");
	expect(bi, 6, "Bidirectional(LSTM)?");
	expect(k1_gru, 9, "GRU?");
}

static void test_others(void **state)
{
	const wdef emb[] = {{"embeddings", 2, {100, 8}}};
	const wdef prelu[] = {{"alpha", 1, {8}}};
	const wdef dw[] = {{"depthwise_kernel", 4, {3, 3, 4, 1}}, {"bias", 1, {4}}};
	const wdef sep[] = {{"depthwise_kernel", 3, {3, 4, 1}}, {"pointwise_kernel", 3, {1, 4, 8}},
	                    {"bias", 1, {8}}};
	const wdef mha[] = {{"query/kernel", 3, {8, 2, 4}}, {"key/kernel", 3, {8, 2, 4}},
	                    {"value/kernel", 3, {8, 2, 4}}, {"attention_output/kernel", 3, {2, 4, 8}}};
	const wdef generic[] = {{"var_0", 2, {3, 4}}, {"var_1", 1, {4}}};
	const wdef custom[] = {{"kernel", 2, {3, 4}}, {"alpha", 1, {1}}};
	ks_layer known;
	char buf[64];

	(void)state;
	expect(emb, 1, "Embedding?");
	expect(prelu, 1, "PReLU?");
	expect(dw, 2, "DepthwiseConv2D?");
	expect(sep, 3, "SeparableConv1D?");
	expect(mha, 4, "MultiHeadAttention?");
	expect(generic, 2, "?");
	expect(custom, 2, "?");
	expect(NULL, 0, "?");
	/* a known class is shown as it is, never guessed */
	known = layer(emb, 1);
	known.class_name = (char *)"Dense";
	assert_string_equal(ks_layer_class_label(&known, buf, sizeof buf), "Dense");
	free(known.weights);
	/* a short buffer is cut, never overrun */
	{
		const wdef k3[] = {{"kernel", 3, {5, 2, 4}}};
		char small[12];
		memset(small, 'x', sizeof small);
		known = layer(k3, 1);
		ks_layer_class_label(&known, small, 8);
		assert_int_equal(strlen(small), 7);
		assert_int_equal(small[8], 'x');
		free(known.weights);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dense_and_conv),
		cmocka_unit_test(test_normalization),
		cmocka_unit_test(test_recurrent),
		cmocka_unit_test(test_others),
	};
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
