/* ks_cost: FLOPs and bytes of a plan step from its shapes (see ks_cost.h). */
#include "config.h"

#include <string.h>

#include <jansson.h>

#include "ks_cost.h"

static double numel(const ks_shape *s)
{
	double n = 1;
	if (s->rank < 0)
		return 0;
	for (int k = 0; k < s->rank; k++)
		n *= s->d[k] > 0 ? (double)s->d[k] : 0;
	return n;
}

static double wnumel(const ks_weight *w)
{
	double n = 1;
	for (int k = 0; k < w->rank; k++)
		n *= (double)w->shape[k];
	return n;
}

static bool is_cls(const char *cls, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(cls, *list) == 0)
			return true;
	return false;
}

/* The layer's weight called by one of names (its semantic name, or the last
 * path component for wrapped layers), NULL when absent. */
static const ks_weight *weight(const ks_layer *l, const char *const *names)
{
	for (; *names; names++)
		for (int w = 0; w < l->n_weights; w++)
			if (l->weights[w].name && strcmp(l->weights[w].name, *names) == 0)
				return &l->weights[w];
	return NULL;
}

/* A positive integer config value under one of keys, else 0. */
static double cfg_count(const json_t *cfg, const char *const *keys)
{
	for (; cfg && *keys; keys++) {
		json_t *v = json_object_get(cfg, *keys);
		if (json_is_integer(v) && json_integer_value(v) > 0)
			return (double)json_integer_value(v);
	}
	return 0;
}

static bool channels_first(const json_t *cfg)
{
	const char *df = json_string_value(json_object_get(cfg, "data_format"));
	const char *dord = json_string_value(json_object_get(cfg, "dim_ordering"));
	return (df && strcmp(df, "channels_first") == 0) || (dord && strcmp(dord, "th") == 0);
}

static const char *const conv_cls[] = {"Conv1D", "Conv2D", "Conv3D", "Convolution1D",
	"Convolution2D", "Convolution3D", "AtrousConvolution1D", "AtrousConvolution2D", NULL};
static const char *const depthwise_cls[] = {"DepthwiseConv1D", "DepthwiseConv2D", NULL};
static const char *const separable_cls[] = {"SeparableConv1D", "SeparableConv2D",
	"SeparableConvolution2D", NULL};
static const char *const transpose_cls[] = {"Conv1DTranspose", "Conv2DTranspose",
	"Conv3DTranspose", "Deconvolution2D", NULL};
static const char *const recurrent_cls[] = {"SimpleRNN", "LSTM", "GRU", "CuDNNLSTM", "CuDNNGRU",
	"Bidirectional", NULL};
static const char *const dense_cls[] = {"Dense", "TimeDistributedDense", NULL};

static const char *const n_kernel[] = {"kernel", "W", NULL};
static const char *const n_dkernel[] = {"depthwise_kernel", "kernel", "W", NULL};
static const char *const n_pkernel[] = {"pointwise_kernel", NULL};
static const char *const n_filters[] = {"filters", "nb_filter", NULL};

/* Multiply-adds of a recurrent layer: every 2-D weight except biases (GRU's
 * reset_after bias is 2-D) is applied once per sample and time step. */
static double recurrent_macs(const ks_plan_step *s)
{
	const ks_layer *l = s->layer;
	const ks_shape *in = &s->in[0];
	double per_step = 0;

	if (in->rank != 3 || in->d[2] <= 0)
		return 0;
	for (int w = 0; w < l->n_weights; w++) {
		const ks_weight *wt = &l->weights[w];
		const char *base = wt->name ? strrchr(wt->name, '/') : NULL;
		base = base ? base + 1 : wt->name ? wt->name : "";
		if (wt->rank == 2 && !strstr(base, "bias") && base[0] != 'b')
			per_step += wnumel(wt);
	}
	return per_step * numel(in) / (double)in->d[2]; /* batch * steps, either axis order */
}

static double macs(const ks_plan_step *s)
{
	const ks_layer *l = s->layer;
	const char *cls = s->class_name;
	const ks_weight *k;
	double out = s->n_out > 0 ? numel(&s->out[0]) : 0;

	if (!l || !cls || s->n_in < 1)
		return 0;
	if (is_cls(cls, recurrent_cls))
		return recurrent_macs(s);
	if (is_cls(cls, dense_cls)) {
		const ks_shape *o = &s->out[0];
		k = weight(l, n_kernel);
		return k && o->rank >= 1 && o->d[o->rank - 1] > 0 ? out * wnumel(k) / (double)o->d[o->rank - 1] : 0;
	}
	if (is_cls(cls, conv_cls)) {
		double filters = cfg_count(l->config, n_filters);
		k = weight(l, n_kernel);
		return k && filters > 0 ? out * wnumel(k) / filters : 0;
	}
	if (is_cls(cls, depthwise_cls)) {
		k = weight(l, n_dkernel);
		if (!k || k->rank < 3 || k->shape[k->rank - 1] <= 0 || k->shape[k->rank - 2] <= 0)
			return 0; /* (taps..., cin, multiplier) */
		return out * wnumel(k) / (double)(k->shape[k->rank - 1] * k->shape[k->rank - 2]);
	}
	if (is_cls(cls, separable_cls)) {
		double filters = cfg_count(l->config, n_filters);
		const ks_weight *d = weight(l, n_dkernel), *p = weight(l, n_pkernel);
		return d && p && filters > 0 ? out / filters * (wnumel(d) + wnumel(p)) : 0;
	}
	if (is_cls(cls, transpose_cls)) {
		const ks_shape *in = &s->in[0];
		k = weight(l, n_kernel);
		if (!k || in->rank < 3)
			return 0;
		int64_t cin = channels_first(l->config) ? in->d[1] : in->d[in->rank - 1];
		return cin > 0 ? numel(in) / (double)cin * wnumel(k) : 0;
	}
	return 0;
}

double ks_plan_step_flops(const ks_plan_step *s)
{
	return 2 * macs(s);
}

double ks_plan_step_bytes(const ks_plan_step *s)
{
	double n = 0;

	if (s->layer && s->n_in > 0) /* an InputLayer's "weights" are none; its copy is the input */
		for (int w = 0; w < s->layer->n_weights; w++)
			n += wnumel(&s->layer->weights[w]);
	for (int k = 0; k < s->n_in; k++)
		n += numel(&s->in[k]);
	for (int k = 0; k < s->n_out; k++)
		n += numel(&s->out[k]);
	return n * sizeof(float);
}
