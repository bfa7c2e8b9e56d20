#include "config.h"

#include <string.h>

#include "ks_cfg.h"
#include "ks_ops.h"
#include "ks_util.h"

extern const ks_op *const ks_ops_core[], *const ks_ops_conv[], *const ks_ops_pool[],
	*const ks_ops_shape[], *const ks_ops_norm[], *const ks_ops_rnn[], *const ks_ops_merge[],
	*const ks_ops_act[], *const ks_ops_attn[], *const ks_ops_tfop[], *const ks_ops_text[];

static const ks_op *const *const families[] = {
	ks_ops_core, ks_ops_conv, ks_ops_pool, ks_ops_shape, ks_ops_norm,
	ks_ops_rnn, ks_ops_merge, ks_ops_act, ks_ops_attn, ks_ops_tfop, ks_ops_text,
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

int ks_op_fail(const ks_op_call *c, ks_err *err, const char *msg)
{
	return ks_fail(err, "layer %s (%s): %s", c->layer->name, c->layer->class_name, msg);
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

int ks_op_check_shape(const ks_op_call *c, const ks_weight *w, int rank, const int64_t *shape, ks_err *err)
{
	char got[128], want[128];

	if (w->rank == rank && memcmp(w->shape, shape, sizeof(int64_t) * (size_t)rank) == 0)
		return 0;
	return ks_fail(err, "layer %s (%s): weight '%s' has shape %s but the config needs %s",
	               c->layer->name, c->layer->class_name, w->name,
	               ks_shape_str(w->shape, w->rank, got, sizeof got),
	               ks_shape_str(shape, rank, want, sizeof want));
}

int ks_op_check_weight(const ks_op_call *c, const char *name, int rank, const int64_t *shape, ks_err *err)
{
	const ks_weight *w = ks_op_weight_meta(c, name);

	if (!w)
		return ks_fail(err, "layer %s (%s): weight '%s' is missing", c->layer->name,
		               c->layer->class_name, name);
	return ks_op_check_shape(c, w, rank, shape, err);
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
	/* The shape is the file's word (a chunked dataset may claim terabytes
	 * in a few bytes): checked against the machine before allocating. */
	if (!ks_numel(w->shape, w->rank, &n) || !ks_size_mul((size_t)n, sizeof(float), &bytes) ||
	    (uint64_t)bytes > ks_mem_budget() || !(buf = malloc(bytes ? bytes : 1))) {
		char b[160];
		return ks_fail(err, "layer %s (%s): weight '%s' %s is too large to load (this machine "
		               "allows %.1f GB)", c->layer->name, c->layer->class_name, name,
		               ks_shape_str(w->shape, w->rank, b, sizeof b), (double)ks_mem_budget() / 1e9);
	}
	if (ks_weight_read(c->model, w, buf, err) < 0) {
		free(buf);
		return ks_err_prefix(err, "layer %s", c->layer->name);
	}
	*out = buf;
	return 0;
}

int ks_op_read_into(const ks_op_call *c, const ks_weight *w, float *dst, ks_err *err)
{
	if (ks_weight_read(c->model, w, dst, err) < 0)
		return ks_err_prefix(err, "layer %s", c->layer->name);
	return 0;
}

static bool passes_values(const char *cls)
{
	static const char *const ids[] = {"Dropout", "SpatialDropout1D", "GaussianNoise", "GaussianDropout",
	                                  "AlphaDropout", "ActivityRegularization", NULL};
	for (int i = 0; ids[i]; i++)
		if (ks_str_eq(cls, ids[i]))
			return true;
	return false;
}

int ks_op_mask_source(const ks_op_call *c, int *emb)
{
	const ks_model *m = c->model;
	const ks_layer *L = c->layer;
	int kind = KS_MASK_NONE;

	*emb = -1;
	if (!m || !m->layers || L->n_nodes < 1)
		return KS_MASK_NONE;
	for (int k = 0; k < L->n_nodes; k++) {
		const ks_ref *r = L->nodes[k].n_in > 0 ? &L->nodes[k].in[0] : NULL;
		const ks_layer *src = NULL;
		int this_kind = KS_MASK_NONE;
		bool mz = false;
		for (int hops = 0; r && hops < 64; hops++) {
			if (r->layer < 0 || r->layer >= m->n_layers)
				break;
			src = &m->layers[r->layer];
			if (!passes_values(src->class_name))
				break;
			r = r->node >= 0 && r->node < src->n_nodes && src->nodes[r->node].n_in > 0
			        ? &src->nodes[r->node].in[0] : NULL;
			src = NULL;
		}
		if (src && ks_str_eq(src->class_name, "Masking")) {
			this_kind = KS_MASK_ZERO_STEP;
		} else if (src && ks_str_eq(src->class_name, "Embedding") &&
		           ks_cfg_bool(src->config, "mask_zero", false, &mz, NULL) == 0 && mz && src->n_weights >= 1) {
			this_kind = KS_MASK_EMB_ROW0;
			if (k > 0 && *emb != (int)(src - m->layers))
				return KS_MASK_NONE;
			*emb = (int)(src - m->layers);
		}
		if (k > 0 && this_kind != kind)
			return KS_MASK_NONE;
		kind = this_kind;
	}
	return kind;
}

int ks_op_mask_row(const ks_op_call *c, int emb, int64_t F, float **out, ks_err *err)
{
	const ks_layer *E = &c->model->layers[emb];
	const ks_weight *w = &E->weights[0];
	int64_t start[2] = {0, 0}, count[2] = {1, F};

	*out = NULL;
	if (w->rank != 2 || w->shape[1] != F || w->shape[0] < 1)
		return ks_fail(err, "layer %s (%s): the embedding of %s does not match the input width", c->layer->name,
		               c->layer->class_name, E->name);
	*out = ks_xmalloc(sizeof(float) * (size_t)(F > 0 ? F : 1));
	if (w->mem) {
		memcpy(*out, w->mem, sizeof(float) * (size_t)F);
		return 0;
	}
	if (ks_weight_read_slab(c->model, w, start, count, *out, err) < 0) {
		free(*out);
		*out = NULL;
		return ks_err_prefix(err, "layer %s", c->layer->name);
	}
	return 0;
}

bool ks_op_step_masked(const float *x, int64_t F, const float *row0)
{
	for (int64_t i = 0; i < F; i++)
		if (x[i] != (row0 ? row0[i] : 0.0f))
			return false;
	return true;
}
