#include "config.h"

#include <string.h>

#include "ks_ops.h"
#include "ks_util.h"

extern const ks_op *const ks_ops_core[], *const ks_ops_conv[], *const ks_ops_pool[],
	*const ks_ops_shape[], *const ks_ops_norm[], *const ks_ops_rnn[], *const ks_ops_merge[],
	*const ks_ops_act[], *const ks_ops_attn[], *const ks_ops_tfop[];

static const ks_op *const *const families[] = {
	ks_ops_core, ks_ops_conv, ks_ops_pool, ks_ops_shape, ks_ops_norm,
	ks_ops_rnn, ks_ops_merge, ks_ops_act, ks_ops_attn, ks_ops_tfop,
};

const ks_op *ks_op_find(const char *class_name)
{
	if (!class_name)
		return NULL;
	for (size_t f = 0; f < sizeof families / sizeof families[0]; f++)
		for (const ks_op *const *op = families[f]; *op; op++)
			if (strcmp((*op)->class_name, class_name) == 0)
				return *op;
	return NULL;
}

int64_t ks_shape_numel(const ks_shape *s)
{
	int64_t n;
	return ks_numel(s->d, s->rank, &n) ? n : -1;
}

const ks_weight *ks_op_weight_meta(const ks_op_call *c, const char *name)
{
	for (int i = 0; i < c->layer->n_weights; i++)
		if (strcmp(c->layer->weights[i].name, name) == 0)
			return &c->layer->weights[i];
	return NULL;
}

int ks_op_check_weight(const ks_op_call *c, const char *name, int rank, const int64_t *shape, ks_err *err)
{
	char got[128], want[128];
	const ks_weight *w = ks_op_weight_meta(c, name);

	if (!w)
		return ks_fail(err, "layer %s (%s): weight '%s' is missing", c->layer->name,
		               c->layer->class_name, name);
	if (w->rank == rank && memcmp(w->shape, shape, sizeof(int64_t) * rank) == 0)
		return 0;
	return ks_fail(err, "layer %s (%s): weight '%s' has shape %s but the config needs %s",
	               c->layer->name, c->layer->class_name, name,
	               ks_shape_str(w->shape, w->rank, got, sizeof got),
	               ks_shape_str(shape, rank, want, sizeof want));
}

int ks_op_read_weight(const ks_op_call *c, const char *name, int rank, const int64_t *shape,
                      float **out, ks_err *err)
{
	int64_t n;
	size_t bytes;
	const ks_weight *w;
	float *buf;

	*out = NULL;
	if (ks_op_check_weight(c, name, rank, shape, err) < 0)
		return -1;
	w = ks_op_weight_meta(c, name);
	if (!ks_numel(w->shape, w->rank, &n) || !ks_size_mul((size_t)n, sizeof(float), &bytes))
		return ks_fail(err, "layer %s: weight '%s' is too large", c->layer->name, name);
	buf = ks_xmalloc(bytes);
	if (ks_weight_read(c->model, w, buf, err) < 0) {
		free(buf);
		return ks_err_prefix(err, "layer %s", c->layer->name);
	}
	*out = buf;
	return 0;
}
