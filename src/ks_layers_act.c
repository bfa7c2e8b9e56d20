/* ks_layers_act: activation layers Activation, ReLU, LeakyReLU, ELU,
 * ThresholdedReLU, Softmax (semantics in ks_act) and PReLU (a learned slope per element).
 *
 * PReLU (keras/src/layers/activations/prelu.py): alpha has the input's shape
 * without the batch axis, with every axis in shared_axes set to 1;
 * y = x for x >= 0, alpha * x otherwise (Keras writes relu(x) - alpha*relu(-x)).
 */
#include "config.h"

#include <string.h>

#include "ks_act.h"
#include "ks_cfg.h"
#include "ks_ops.h"
#include "ks_util.h"

/* Activation names its function in "activation"; the other layers are
 * their function. */
static int layer_act(const ks_op_call *c, ks_act *a, ks_err *err)
{
	if (ks_str_eq(c->layer->class_name, "Activation"))
		return ks_act_parse(json_object_get(c->config, "activation"), c->keras_major, a, err);
	return ks_act_from_layer(c->layer->class_name, c->config, c->keras_major, a, err);
}

static int act_infer(ks_op_call *c, ks_err *err)
{
	ks_act a;
	if (c->n_in != 1)
		return ks_fail(err, "expects 1 input, got %d", c->n_in);
	if (layer_act(c, &a, err) < 0 || ks_act_check_rank(&a, c->in[0].rank, err) < 0)
		return -1;
	c->n_out = 1;
	c->out[0] = c->in[0];
	return 0;
}

static int act_load(ks_op_call *c, ks_err *err)
{
	ks_act *a = ks_xmalloc(sizeof *a);
	c->priv = a;
	return layer_act(c, a, err);
}

static void act_run(const ks_op_call *c, const float *const *in, float *const *out, float *s)
{
	int64_t n = ks_shape_numel(&c->out[0]);
	if (out[0] != in[0])
		memcpy(out[0], in[0], (size_t)n * sizeof(float));
	ks_act_apply_nd(c->priv, out[0], c->out[0].d, c->out[0].rank);
}

static void free_priv(ks_op_call *c)
{
	free(c->priv);
	c->priv = NULL;
}

#define ACT_OP(var, name) \
	static const ks_op var = {name, KS_OP_INPLACE_OK, act_infer, act_load, act_run, free_priv}
ACT_OP(op_activation, "Activation");
ACT_OP(op_relu, "ReLU");
ACT_OP(op_leaky, "LeakyReLU");
ACT_OP(op_elu, "ELU");
ACT_OP(op_thresh, "ThresholdedReLU");
ACT_OP(op_softmax, "Softmax");

/* ---- PReLU ---- */

typedef struct prelu {
	int rank;                 /* of the input, batch included */
	int64_t stride[KS_MAX_RANK]; /* alpha strides over input axes 1..rank-1 (0 = shared) */
	float *alpha;
} prelu;

static const char *const alpha_names[] = {"alpha", "alphas", NULL};

static int prelu_shape(const ks_op_call *c, int64_t *ashape, ks_err *err)
{
	const json_t *sa = json_object_get(c->config, "shared_axes");
	int r = c->in[0].rank - 1;

	for (int k = 0; k < r; k++)
		ashape[k] = c->in[0].d[k + 1];
	if (sa && !json_is_null(sa)) {
		size_t n = json_is_array(sa) ? json_array_size(sa) : 1;
		for (size_t i = 0; i < n; i++) {
			const json_t *v = json_is_array(sa) ? json_array_get(sa, i) : sa;
			if (!json_is_integer(v))
				return ks_fail(err, "shared_axes should hold integers");
			int64_t ax = json_integer_value(v);
			if (ax < 0)
				ax += c->in[0].rank;
			if (ax < 1 || ax > r)
				return ks_fail(err, "shared axis %lld does not exist", (long long)json_integer_value(v));
			ashape[ax - 1] = 1;
		}
	}
	return r;
}

static const ks_weight *alpha_weight(const ks_op_call *c)
{
	for (int k = 0; alpha_names[k]; k++) {
		const ks_weight *w = ks_op_weight_meta(c, alpha_names[k]);
		if (w)
			return w;
	}
	return c->layer->n_weights == 1 ? &c->layer->weights[0] : NULL;
}

static int prelu_infer(ks_op_call *c, ks_err *err)
{
	int64_t as[KS_MAX_RANK];
	int r;
	const ks_weight *w;

	if (c->n_in != 1)
		return ks_fail(err, "expects 1 input, got %d", c->n_in);
	if (c->in[0].rank < 2)
		return ks_fail(err, "needs an input of rank >= 2");
	if ((r = prelu_shape(c, as, err)) < 0)
		return -1;
	if (!(w = alpha_weight(c)))
		return ks_fail(err, "weight 'alpha' is missing");
	bool known = true;
	for (int k = 0; k < r; k++)
		if (as[k] < 0)
			known = false;
	if (known && ks_op_check_weight(c, w->name, r, as, err) < 0)
		return -1;
	c->n_out = 1;
	c->out[0] = c->in[0];
	return 0;
}

static int prelu_load(ks_op_call *c, ks_err *err)
{
	int64_t as[KS_MAX_RANK];
	int r;
	prelu *p = ks_xcalloc(1, sizeof *p);

	c->priv = p;
	if ((r = prelu_shape(c, as, err)) < 0)
		return -1;
	p->rank = c->in[0].rank;
	int64_t st = 1;
	for (int k = r - 1; k >= 0; k--) {
		p->stride[k + 1] = as[k] == 1 && c->in[0].d[k + 1] != 1 ? 0 : st;
		st *= as[k];
	}
	return ks_op_read_weight(c, alpha_weight(c)->name, r, as, &p->alpha, err);
}

static void prelu_run(const ks_op_call *c, const float *const *in, float *const *out, float *s)
{
	const prelu *p = c->priv;
	int64_t batch = c->in[0].d[0];
	int64_t per = 1;
	int64_t idx[KS_MAX_RANK] = {0};

	for (int k = 1; k < p->rank; k++)
		per *= c->in[0].d[k];
	for (int64_t b = 0; b < batch; b++) {
		const float *x = in[0] + b * per;
		float *y = out[0] + b * per;
		int64_t off = 0;
		memset(idx, 0, sizeof idx);
		for (int64_t j = 0; j < per; j++) {
			float v = x[j];
			y[j] = v >= 0.0f ? v : p->alpha[off] * v;
			for (int k = p->rank - 1; k >= 1; k--) {
				idx[k]++;
				off += p->stride[k];
				if (idx[k] < c->in[0].d[k])
					break;
				off -= p->stride[k] * idx[k];
				idx[k] = 0;
			}
		}
	}
}

static void prelu_free(ks_op_call *c)
{
	prelu *p = c->priv;
	if (p) {
		free(p->alpha);
		free(p);
	}
	c->priv = NULL;
}

static const ks_op op_prelu = {"PReLU", KS_OP_INPLACE_OK, prelu_infer, prelu_load, prelu_run, prelu_free};

const ks_op *const ks_ops_act[] = {
	&op_activation, &op_relu, &op_leaky, &op_elu, &op_thresh, &op_softmax, &op_prelu,
	NULL,
};
