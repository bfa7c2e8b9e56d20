#include "config.h"

#include "ks_varnames.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks_util.h"

const char *ks_class_basename(const char *class_name)
{
	const char *s = class_name ? class_name : "";
	const char *p;

	if ((p = strrchr(s, '>')))
		s = p + 1;
	if ((p = strrchr(s, '.')))
		s = p + 1;
	return s;
}

/* Python's re.sub(r"\W+", ""), then "(.)([A-Z][a-z]+)" -> "\1_\2", then
 * "([a-z])([A-Z])" -> "\1_\2", then lower(); each pass scans left to right
 * without overlapping matches, exactly like re.sub. */
char *ks_snake_case(const char *class_name)
{
	const char *s = ks_class_basename(class_name);
	size_t n = strlen(s), i, k = 0;
	char *a = ks_xmalloc(n + 1), *b = ks_xmalloc(2 * n + 1), *c = ks_xmalloc(4 * n + 1);

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (isalnum(ch) || ch == '_' || ch >= 0x80)
			a[k++] = (char)ch;
	}
	a[k] = 0;
	n = k;
	for (i = 0, k = 0; i < n;) {
		if (i + 2 < n && isupper((unsigned char)a[i + 1]) && islower((unsigned char)a[i + 2])) {
			b[k++] = a[i];
			b[k++] = '_';
			b[k++] = a[i + 1];
			i += 2;
			while (i < n && islower((unsigned char)a[i]))
				b[k++] = a[i++];
		} else {
			b[k++] = a[i++];
		}
	}
	b[k] = 0;
	n = k;
	for (i = 0, k = 0; i < n;) {
		if (i + 1 < n && islower((unsigned char)b[i]) && isupper((unsigned char)b[i + 1])) {
			c[k++] = b[i];
			c[k++] = '_';
			c[k++] = b[i + 1];
			i += 2;
		} else {
			c[k++] = b[i++];
		}
	}
	c[k] = 0;
	for (i = 0; i < k; i++)
		c[i] = (char)tolower((unsigned char)c[i]);
	free(a);
	free(b);
	return c;
}

static bool cfg_flag(const json_t *cfg, const char *key, bool def)
{
	const json_t *v = cfg ? json_object_get(cfg, key) : NULL;

	if (json_is_boolean(v))
		return json_is_true(v);
	return def;
}

static bool is_one_of(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

#define KS_MAXV 12

/* Keras 3 quantization mode from the layer's dtype policy
 * ({"class_name": "QuantizedDTypePolicy", "config": {"name":
 * "int8_from_float32"}}, or the plain string): "int8", "int4", "float8" or
 * NULL. */
static const char *quant_mode(const json_t *cfg)
{
	static const char *const modes[] = { "int8", "int4", "float8", NULL };
	const json_t *d = cfg ? json_object_get(cfg, "dtype") : NULL;
	const char *name = NULL;

	if (json_is_string(d)) {
		name = json_string_value(d);
	} else if (json_is_object(d)) {
		const json_t *c = json_object_get(d, "config");
		const json_t *n = json_is_object(c) ? json_object_get(c, "name") : NULL;
		name = json_is_string(n) ? json_string_value(n) : NULL;
	}
	if (!name)
		return NULL;
	for (int i = 0; modes[i]; i++)
		if (ks_str_startswith(name, modes[i]) && strstr(name, "_from_"))
			return modes[i];
	return NULL;
}

struct vlist {
	const char *name[KS_MAXV];
	bool trainable[KS_MAXV];
	int n;
};

static void add(struct vlist *v, const char *name, bool trainable)
{
	if (v->n < KS_MAXV) {
		v->name[v->n] = name;
		v->trainable[v->n] = trainable;
		v->n++;
	}
}

/* Quantized Dense/EinsumDense/Embedding save their scales after the
 * float variables (save_own_variables in Keras 3's dense.py et al.). */
static void add_quant(struct vlist *v, const char *cls, const json_t *cfg)
{
	const char *q = quant_mode(cfg);
	bool emb = strcmp(cls, "Embedding") == 0;

	if (!q)
		return;
	if (strcmp(q, "float8") == 0 && !emb) {
		add(v, "inputs_scale", false);
		add(v, "inputs_amax_history", false);
		add(v, "kernel_scale", false);
		add(v, "kernel_amax_history", false);
		add(v, "outputs_grad_scale", false);
		add(v, "outputs_grad_amax_history", false);
	} else if (strcmp(q, "float8") != 0) {
		add(v, emb ? "embeddings_scale" : "kernel_scale", false);
	}
}

/* The variables build() creates, in order, for the classes we know. */
static bool expected_vars(const char *cls, const json_t *cfg, struct vlist *v)
{
	static const char *const kernel_bias[] = {
		"Dense", "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose",
		"Conv3DTranspose", "Convolution1D", "Convolution2D", "Convolution3D",
		"Convolution2DTranspose", "Deconvolution2D", "LocallyConnected1D", "LocallyConnected2D",
		"QDense", "QConv1D", "QConv2D", "QConv2DTranspose", "QDenseBatchnorm", NULL };
	static const char *const depthwise[] = {
		"DepthwiseConv1D", "DepthwiseConv2D", "QDepthwiseConv2D", NULL };
	static const char *const separable[] = {
		"SeparableConv1D", "SeparableConv2D", "SeparableConvolution1D",
		"SeparableConvolution2D", "QSeparableConv1D", "QSeparableConv2D", NULL };
	static const char *const batchnorm[] = {
		"BatchNormalization", "SyncBatchNormalization", "QBatchNormalization", NULL };
	static const char *const recurrent[] = {
		"LSTMCell", "GRUCell", "SimpleRNNCell", "ConvLSTMCell", "LSTM", "GRU", "SimpleRNN",
		"PeepholeLSTMCell", NULL };

	v->n = 0;
	if (is_one_of(cls, kernel_bias)) {
		add(v, "kernel", true);
		if (cfg_flag(cfg, "use_bias", true))
			add(v, "bias", true);
		if (strcmp(cls, "Dense") == 0)
			add_quant(v, cls, cfg);
	} else if (strcmp(cls, "EinsumDense") == 0) {
		const json_t *ba = cfg ? json_object_get(cfg, "bias_axes") : NULL;
		add(v, "kernel", true);
		if (!cfg || (json_is_string(ba) && json_string_length(ba) > 0))
			add(v, "bias", true);
		add_quant(v, cls, cfg);
	} else if (is_one_of(cls, depthwise)) {
		add(v, "depthwise_kernel", true);
		if (cfg_flag(cfg, "use_bias", true))
			add(v, "bias", true);
	} else if (is_one_of(cls, separable)) {
		add(v, "depthwise_kernel", true);
		add(v, "pointwise_kernel", true);
		if (cfg_flag(cfg, "use_bias", true))
			add(v, "bias", true);
	} else if (is_one_of(cls, batchnorm)) {
		if (cfg_flag(cfg, "scale", true))
			add(v, "gamma", true);
		if (cfg_flag(cfg, "center", true))
			add(v, "beta", true);
		add(v, "moving_mean", false);
		add(v, "moving_variance", false);
	} else if (strcmp(cls, "LayerNormalization") == 0 || strcmp(cls, "GroupNormalization") == 0) {
		if (cfg_flag(cfg, "scale", true))
			add(v, "gamma", true);
		if (cfg_flag(cfg, "center", true) && !cfg_flag(cfg, "rms_scaling", false))
			add(v, "beta", true);
	} else if (strcmp(cls, "RMSNormalization") == 0) {
		add(v, "scale", true);
	} else if (strcmp(cls, "Embedding") == 0) {
		add(v, "embeddings", true);
		add_quant(v, cls, cfg);
	} else if (strcmp(cls, "PReLU") == 0) {
		add(v, "alpha", true);
	} else if (is_one_of(cls, recurrent)) {
		add(v, "kernel", true);
		add(v, "recurrent_kernel", true);
		if (cfg_flag(cfg, "use_bias", true))
			add(v, "bias", true);
	} else if (strcmp(cls, "Normalization") == 0) {
		add(v, "mean", false);
		add(v, "variance", false);
		add(v, "count", false);
	} else if (strcmp(cls, "Attention") == 0 || strcmp(cls, "AdditiveAttention") == 0) {
		const json_t *mode = cfg ? json_object_get(cfg, "score_mode") : NULL;
		if (cfg_flag(cfg, "use_scale", strcmp(cls, "AdditiveAttention") == 0))
			add(v, "scale", true);
		if (json_is_string(mode) && strcmp(json_string_value(mode), "concat") == 0)
			add(v, "concat_score_weight", true);
	} else {
		return false;
	}
	return true;
}

/* Built-in classes that never own variables. */
static bool weightless(const char *cls)
{
	static const char *const exact[] = {
		"InputLayer", "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
		"GaussianNoise", "GaussianDropout", "AlphaDropout", "ActivityRegularization",
		"Activation", "ReLU", "LeakyReLU", "ELU", "Softmax", "ThresholdedReLU", "Flatten",
		"Reshape", "Permute", "RepeatVector", "Lambda", "Masking", "Add", "Subtract",
		"Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot", "Merge",
		"TFOpLambda", "SlicingOpLambda", "Identity", "UnitNormalization", NULL };
	static const char *const prefix[] = {
		"MaxPooling", "AveragePooling", "GlobalMaxPooling", "GlobalAveragePooling",
		"MaxPool", "AvgPool", "GlobalMaxPool", "GlobalAvgPool", "UpSampling", "ZeroPadding",
		"Cropping", NULL };
	if (is_one_of(cls, exact))
		return true;
	for (int i = 0; prefix[i]; i++)
		if (ks_str_startswith(cls, prefix[i]))
			return true;
	return false;
}

int ks_varnames_count(const char *class_name, const json_t *cfg)
{
	static const char *const convlstm[] = { "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", NULL };
	const char *cls = ks_class_basename(class_name);
	struct vlist v;

	if (weightless(cls))
		return 0;

	if (strcmp(cls, "Bidirectional") == 0 || strcmp(cls, "TimeDistributed") == 0) {
		const json_t *in = cfg ? json_object_get(cfg, "layer") : NULL;
		const json_t *ic = json_is_object(in) ? json_object_get(in, "class_name") : NULL;
		int k;
		if (!json_is_string(ic))
			return -1;
		k = ks_varnames_count(json_string_value(ic), json_object_get(in, "config"));
		return k < 0 ? -1 : cls[0] == 'B' ? 2 * k : k;
	}
	if (is_one_of(cls, convlstm))
		cls = "ConvLSTMCell";
	return expected_vars(cls, cfg, &v) ? v.n : -1;
}

bool ks_varnames(const char *class_name, const json_t *cfg, int n, char **names, bool *trainable)
{
	const char *cls = ks_class_basename(class_name);
	struct vlist v;
	bool known = expected_vars(cls, cfg, &v);
	int i;

	/* Normalization has a count variable in some versions only. */
	if (known && n == 2 && strcmp(cls, "Normalization") == 0)
		v.n = n;
	/* Without a config, the bias is in doubt. */
	if (known && n == v.n - 1 && strcmp(v.name[v.n - 1], "bias") == 0 && !cfg)
		v.n--;
	if (!known || n != v.n) {
		for (i = 0; i < n; i++) {
			names[i] = ks_xasprintf("var_%d", i);
			trainable[i] = true;
		}
		return false;
	}
	for (i = 0; i < n; i++) {
		names[i] = ks_xstrdup(v.name[i]);
		trainable[i] = v.trainable[i];
	}
	return true;
}

/* {"class_name": ..., "config": {...}} member `key` of cfg. */
static void sub_object(const json_t *cfg, const char *key, const char **cls, const json_t **sub)
{
	const json_t *o = cfg ? json_object_get(cfg, key) : NULL;
	const json_t *c = json_is_object(o) ? json_object_get(o, "class_name") : NULL;

	*cls = json_is_string(c) ? json_string_value(c) : "?";
	*sub = json_is_object(o) ? json_object_get(o, "config") : NULL;
	if (*sub && !json_is_object(*sub))
		*sub = NULL;
}

void ks_varnames_child(const char *owner_class, const json_t *owner_cfg, const char *attr,
                       const char **child_class, const json_t **child_cfg, const char **prefix)
{
	static const char *const rnn[] = { "LSTM", "GRU", "SimpleRNN", NULL };
	static const char *const convlstm[] = { "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", NULL };
	static const char *const attention[] = {
		"MultiHeadAttention", "GroupedQueryAttention", "GroupQueryAttention", NULL };
	const char *cls = ks_class_basename(owner_class);
	const char *a = attr;

	while (*a == '_')
		a++;
	*child_class = "?";
	*child_cfg = NULL;
	*prefix = a;

	if (strcmp(a, "cell") == 0) {
		*prefix = "";
		*child_cfg = owner_cfg;
		if (is_one_of(cls, rnn)) {
			*child_class = strcmp(cls, "LSTM") == 0 ? "LSTMCell"
			             : strcmp(cls, "GRU") == 0 ? "GRUCell" : "SimpleRNNCell";
		} else if (is_one_of(cls, convlstm)) {
			*child_class = "ConvLSTMCell";
		} else {
			sub_object(owner_cfg, "cell", child_class, child_cfg);
			/* Every Keras recurrent cell names its variables kernel,
			 * recurrent_kernel, bias: use that when the class is not
			 * known (no config); a count that does not fit still
			 * falls back to var_<i>. */
			if (strcmp(*child_class, "?") == 0)
				*child_class = "SimpleRNNCell";
		}
	} else if (strcmp(cls, "Bidirectional") == 0 &&
	           (strcmp(a, "forward_layer") == 0 || strcmp(a, "backward_layer") == 0)) {
		bool fwd = a[0] == 'f';
		*prefix = fwd ? "forward" : "backward";
		sub_object(owner_cfg, "layer", child_class, child_cfg);
		if (!fwd && owner_cfg && json_is_object(json_object_get(owner_cfg, "backward_layer")))
			sub_object(owner_cfg, "backward_layer", child_class, child_cfg);
	} else if (strcmp(a, "layer") == 0) {
		/* TimeDistributed and other single-layer wrappers: the wrapped
		 * layer's weights are the wrapper's own in Keras' naming. */
		*prefix = "";
		sub_object(owner_cfg, "layer", child_class, child_cfg);
	} else if (is_one_of(cls, attention) && ks_str_endswith(a, "_dense")) {
		*child_class = "EinsumDense";
		if (strcmp(a, "query_dense") == 0)
			*prefix = "query";
		else if (strcmp(a, "key_dense") == 0)
			*prefix = "key";
		else if (strcmp(a, "value_dense") == 0)
			*prefix = "value";
		else if (strcmp(a, "output_dense") == 0)
			*prefix = "attention_output";
	}
}
