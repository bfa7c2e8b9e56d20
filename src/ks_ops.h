/* ks_ops: the contract between the planner and the layer kernels.
 *
 * A layer kind (Keras class) is one `ks_op`: a name table entry with four
 * functions. The planner (ks_plan) creates one `ks_op_call` per call site of a
 * layer, fills in the inputs' shapes and asks the op to:
 *
 *   infer  - parse and validate the config, check the layer's weights'
 *            count and shapes (metadata only: no values are read), set the
 *            output shapes and the scratch size. Must not read weight values,
 *            so `summary` can infer shapes of a multi-GB model instantly.
 *   load   - read weight values (ks_op_weight) and precompute into c->priv.
 *   run    - compute. Never allocates, never fails: everything that could
 *            go wrong was rejected by infer/load. in/out are dense float32
 *            row-major buffers of the shapes in c->in / c->out; scratch has
 *            c->scratch_floats floats.
 *   free   - release c->priv (may be NULL if the op keeps no state).
 *
 * Shapes include the batch axis as d[0]. At plan time the batch size is
 * concrete; during shape inference for display it may be -1 (None) and ops
 * must propagate -1 in any axis they do not need to know.
 *
 * Layer-level `activation` is applied centrally by the planner after run()
 * for ops flagged KS_OP_POST_ACTIVATION (Dense, Conv*, ...): such ops ignore
 * the activation key themselves.
 *
 * Families live in ks_layers_<family>.c, each exporting a NULL-terminated
 * `const ks_op *const ks_ops_<family>[]`; ks_ops.c looks names up across them.
 */
#ifndef KS_OPS_H
#define KS_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ks_model.h"
#include "ks_status.h"

#define KS_MAX_IO 8

typedef struct ks_shape {
	int rank;
	int64_t d[KS_MAX_RANK];
} ks_shape;

typedef struct ks_op_call {
	/* Set by the planner before infer. */
	const ks_model *model;   /* the model that owns the layer (a nested one for inner layers) */
	const ks_layer *layer;
	const json_t *config;    /* layer->config */
	const json_t *kwargs;    /* the call's kwargs, or NULL */
	int keras_major;         /* 1, 2 or 3: semantics that changed between versions */
	bool theano;             /* weights written by the Theano backend */
	int n_in;
	ks_shape in[KS_MAX_IO];
	/* Set by infer. */
	int n_out;
	ks_shape out[KS_MAX_IO];
	size_t scratch_floats;
	void *priv;              /* op-owned state; released by op->free */
} ks_op_call;

enum {
	KS_OP_POST_ACTIVATION = 1 << 0, /* planner applies config["activation"] after run */
	KS_OP_INPLACE_OK      = 1 << 1, /* out[0] may alias in[0] (elementwise, same shape) */
	KS_OP_IDENTITY        = 1 << 2, /* output is input (Dropout at inference): no copy */
};

typedef struct ks_op {
	const char *class_name;
	unsigned flags;
	int (*infer)(ks_op_call *c, ks_err *err);
	int (*load)(ks_op_call *c, ks_err *err);
	void (*run)(const ks_op_call *c, const float *const *in, float *const *out, float *scratch);
	void (*free)(ks_op_call *c);
} ks_op;

/* Looks up a class name ("Dense"; Keras 1 aliases such as "Convolution2D" are
 * listed as their own entries). NULL when unsupported. */
const ks_op *ks_op_find(const char *class_name);

/* Fails with "layer NAME (CLASS): msg"; returns -1. */
int ks_op_fail(const ks_op_call *c, ks_err *err, const char *msg);

/* Number of elements of a shape (batch included); -1 if any dim is unknown. */
int64_t ks_shape_numel(const ks_shape *s);

/* Finds the layer's weight by semantic name; NULL if absent. */
const ks_weight *ks_op_weight_meta(const ks_op_call *c, const char *name);

/* Checks that weight `name` exists with exactly the given shape (rank dims);
 * on mismatch fails with "layer L: weight W has shape (..) but needs (..)". */
int ks_op_check_weight(const ks_op_call *c, const char *name, int rank, const int64_t *shape, ks_err *err);

/* ks_op_check_weight for a weight w of c's layer already found. */
int ks_op_check_shape(const ks_op_call *c, const ks_weight *w, int rank, const int64_t *shape, ks_err *err);

/* Reads weight `name` as float32 into a new buffer (caller frees), checking
 * its shape as ks_op_check_weight does. */
int ks_op_read_weight(const ks_op_call *c, const char *name, int rank, const int64_t *shape,
                      float **out, ks_err *err);

/* Reads weight w of c's layer (shape already checked by infer) into dst,
 * which has room for all its values; errors are prefixed with the layer. */
int ks_op_read_into(const ks_op_call *c, const ks_weight *w, float *dst, ks_err *err);

/* Keras' implicit masks that ops can honour. The layer's input must come
 * (directly or through layers that pass values unchanged at inference:
 * Dropout & co) from
 *   - a Masking layer: it zeroes masked steps, so an all-zero step is a
 *     masked one (KS_MASK_ZERO_STEP);
 *   - an Embedding(mask_zero=True): a step is masked when its vector is the
 *     embedding of id 0, compared exactly (KS_MASK_EMB_ROW0).
 * Other mask sources are not modelled. */
enum { KS_MASK_NONE, KS_MASK_ZERO_STEP, KS_MASK_EMB_ROW0 };

/* The mask kind of the input of c's layer, which must be the same at every
 * call site (else KS_MASK_NONE); *emb receives the Embedding's layer index
 * for KS_MASK_EMB_ROW0, else -1. */
int ks_op_mask_source(const ks_op_call *c, int *emb);

/* Reads the embedding of id 0 (F values) of layer emb for KS_MASK_EMB_ROW0
 * into a new buffer (caller frees); fails if its width is not F. */
int ks_op_mask_row(const ks_op_call *c, int emb, int64_t F, float **out, ks_err *err);

/* Whether a step's F values are a masked one: equal to row0 (the
 * embedding of id 0, KS_MASK_EMB_ROW0) or, row0 NULL, all zeros. */
bool ks_op_step_masked(const float *x, int64_t F, const float *row0);

#endif
