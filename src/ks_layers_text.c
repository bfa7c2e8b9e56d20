/* ks_layers_text: the standard Keras layers that take strings,
 * TextVectorization and StringLookup (keras/src/layers/preprocessing/).
 *
 * They are recognised, not run: their output shapes are inferred (so that
 * summary and the inspector show the model through them) and prediction
 * refuses them with the reason (kerascope's tensors are numbers; a string
 * input cannot be given). Their vocabulary is shown by `ls`
 * (ks_keras3_vocabulary).
 *
 * Output shapes (compute_output_shape): TextVectorization "int" gives
 * (batch, output_sequence_length) or (batch, None); "multi_hot", "count"
 * and "tf_idf" give (batch, vocabulary size). StringLookup "int" keeps the
 * input's shape; the other modes replace a last axis of 1 (or append one)
 * by the vocabulary size. The size is the config's vocabulary_size (Keras 3
 * records it), else max_tokens, else unknown.
 */
#include "config.h"

#include <string.h>

#include "ks_cfg.h"
#include "ks_ops.h"
#include "ks_util.h"

static int64_t vocab_size(const ks_op_call *c)
{
	const json_t *v = json_object_get(c->config, "vocabulary_size");
	if (json_is_integer(v) && json_integer_value(v) > 0)
		return json_integer_value(v);
	v = json_object_get(c->config, "vocabulary");
	if (json_is_array(v) && json_array_size(v) > 0)
		return -1; /* plus the special tokens Keras adds: not worth guessing */
	v = json_object_get(c->config, "max_tokens");
	return json_is_integer(v) && json_integer_value(v) > 0 ? json_integer_value(v) : -1;
}

static int text_infer(ks_op_call *c, ks_err *err)
{
	const ks_shape *x = &c->in[0];
	ks_shape *o = &c->out[0];
	const char *mode;
	bool tv = ks_str_eq(c->layer->class_name, "TextVectorization");

	if (c->n_in != 1 || x->rank < 1 || x->rank + 1 > KS_MAX_RANK)
		return ks_op_fail(c, err, "expects one input");
	if (ks_cfg_str(c->config, "output_mode", "int", &mode, err) < 0)
		return -1;
	c->n_out = 1;
	*o = *x;
	if (tv) {
		int64_t len;
		if (ks_cfg_int(c->config, "output_sequence_length", -1, &len, err) < 0)
			return -1;
		o->rank = 2;
		o->d[1] = strcmp(mode, "int") == 0 ? (len > 0 ? len : -1) : vocab_size(c);
		return 0;
	}
	if (strcmp(mode, "int") == 0)
		return 0;
	if (x->d[x->rank - 1] != 1)
		o->rank++;
	o->d[o->rank - 1] = vocab_size(c);
	return 0;
}

static int text_load(ks_op_call *c, ks_err *err)
{
	return ks_fail(err, "layer %s (%s) blocks prediction: a standard Keras layer that turns "
	               "strings into token ids, and string inputs are not supported (kerascope's "
	               "tensors are numbers; --until LAYER runs up to an earlier layer)",
	               c->layer->name, c->layer->class_name);
}

static void text_run(const ks_op_call *c, const float *const *in, float *const *out, float *s)
{
	(void)c;
	(void)in;
	(void)out;
	(void)s;
}

static const ks_op op_TextVectorization = {"TextVectorization", 0, text_infer, text_load, text_run,
                                           NULL};
static const ks_op op_StringLookup = {"StringLookup", 0, text_infer, text_load, text_run, NULL};

const ks_op *const ks_ops_text[] = {&op_TextVectorization, &op_StringLookup, NULL};
