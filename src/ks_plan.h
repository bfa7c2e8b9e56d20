/* ks_plan: validate-then-execute forward pass over a ks_model.
 *
 * ks_plan_build() walks the model graph once from its outputs (or from the
 * `until` layer), flattening nested models into one list of steps in
 * topological order, one step per call site of a layer (shared layers give
 * several steps). For every step it asks the layer's op (ks_ops.h) to check
 * its config and weights against the concrete input shapes, then loads the
 * weights once and sizes one activation arena and one scratch buffer. Any
 * problem (unsupported or custom layer, Lambda, bad config, weight of the
 * wrong shape, input shape that does not fit) is reported here, naming the
 * layer. ks_plan_run() then only computes: no allocation, no checks.
 *
 *     ks_plan_opts o = {.batch = 3};
 *     ks_plan *p = ks_plan_build(model, &o, &err);
 *     const float *in[] = {x};           // one buffer per model input,
 *     ks_plan_run(p, in);                // shaped ks_plan_input_shape(p, i)
 *     const float *y = ks_plan_output(p, 0);
 *     ks_plan_free(p);
 *
 * Semantics follow Keras at inference (training=False): dropout, noise and
 * augmentation layers are the identity. Masks are not modelled: a Masking
 * layer passes its input through, and layers that would consume a mask
 * compute as if every step were valid; ks_plan_note() says where a model
 * is affected.
 *
 * Graph details: nested models are flattened into the plan (their steps are
 * named "outer/inner"); a nested model's own node 0 counted by tf.keras 2
 * references is recognised; tensors tf.keras 2 passed as keyword arguments
 * (value=, key=, y=) become call inputs after the first argument; repeated
 * calls of a layer with equal input shapes share one copy of its weights.
 * Graphs deeper than 65,536 layers along one path are refused.
 * keras_major (hard_sigmoid and other version-dependent semantics) comes from
 * the top model's keras_version (Keras 3 formats: 3; unknown: 2); Theano
 * weights are recognised from backend "theano".
 *
 * The plan borrows the model: the model must outlive the plan. Errors from
 * ks_plan_build start with the model path and name the layer and its class:
 *   "m.h5: layer lambda_1 (Lambda) blocks prediction: it holds Python code..."
 *   "m.h5: layer dense_1 (Dense): weight 'kernel' has shape (2, 3) but ..."
 */
#ifndef KS_PLAN_H
#define KS_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ks_model.h"
#include "ks_ops.h"
#include "ks_status.h"

/* Output shape of every top-level layer, for display: shapes[i] belongs to
 * m->layers[i] (first call, first output) with batch -1 (None). rank is -1
 * when unknown (unsupported layer, layer never called, unknown input). Reads
 * configs and weight metadata only, never weight values. shapes must hold
 * m->n_layers entries. */
void ks_infer_layer_shapes(const ks_model *m, ks_shape *shapes);

/* Same, but every output of every call: out[i] receives the shapes of layer
 * i's call `node` (n_out[i] of them, 0 when unknown). Returns the shapes of
 * m->layers[layer] call `node` into out (up to KS_MAX_IO); returns the count
 * or -1 when unknown. Convenience for tools that show shared layers. */
int ks_infer_call_shapes(const ks_model *m, int layer, int node, ks_shape *out);

/* Shape of a model input as declared by its InputLayer config (batch_shape,
 * batch_input_shape or input_shape), batch axis included (usually -1). */
int ks_model_input_shape(const ks_model *m, int input, ks_shape *out, ks_err *err);

/* 1, 2 or 3: the Keras generation whose semantics apply (keras_version, or 3
 * for Keras 3 formats, else 2). */
int ks_model_keras_major(const ks_model *m);

typedef struct ks_plan_opts {
	int64_t batch;             /* batch size when input_shapes is NULL (>= 1; 0 means 1) */
	const ks_shape *input_shapes; /* concrete shapes of the model inputs, batch included
	                            * (needed when the config leaves a dimension None), or NULL */
	int n_input_shapes;
	const char *until;         /* stop at this layer: its outputs become the plan's
	                            * outputs (a nested layer may be named "outer/inner"
	                            * or just "inner"), or NULL for the model outputs */
	bool keep_all;             /* keep every step's output alive after run (trace, TUI) */
	int keras_major;           /* 0: the file's (ks_model_keras_major); 1-3: compute with that
	                            * Keras generation's semantics instead (doctor's what-if) */
} ks_plan_opts;

typedef struct ks_plan ks_plan;

/* Everything known about one step, valid while the plan lives. */
typedef struct ks_plan_step {
	const char *name;          /* layer name; nested layers "outer/inner" */
	const char *class_name;    /* Keras class ("Dense", "InputLayer", ...) */
	const ks_layer *layer;     /* the layer in its (possibly nested) model */
	int node;                  /* which call of the layer */
	int top_layer;             /* index into the top model's layers[] of the layer or of
	                            * the nested model that contains it */
	int n_in;                  /* 0 for InputLayer steps */
	ks_shape in[KS_MAX_IO];    /* input shapes (batch concrete) */
	int n_out;
	ks_shape out[KS_MAX_IO];   /* output shapes (batch concrete) */
} ks_plan_step;

/* Returns NULL with a one-line message naming the layer on any problem. */
ks_plan *ks_plan_build(const ks_model *m, const ks_plan_opts *opts, ks_err *err);
void ks_plan_free(ks_plan *p);

int ks_plan_n_inputs(const ks_plan *p);
const ks_shape *ks_plan_input_shape(const ks_plan *p, int i);
const char *ks_plan_input_name(const ks_plan *p, int i);
int ks_plan_n_outputs(const ks_plan *p);
const ks_shape *ks_plan_output_shape(const ks_plan *p, int i);
const char *ks_plan_output_name(const ks_plan *p, int i); /* producing layer */

/* Copies the inputs (dense float32, ks_plan_input_shape(p, i)) into the
 * arena and computes every step. Deterministic; never fails. */
void ks_plan_run(ks_plan *p, const float *const *inputs);

/* Time one step took in a timed run: wall clock and CPU time of the whole
 * process (all OpenBLAS threads), in milliseconds. */
typedef struct ks_step_time {
	double wall_ms;
	double cpu_ms;
} ks_step_time;

/* ks_plan_run that also times every step into t[0..ks_plan_n_steps(p)-1]
 * (overwritten; an InputLayer step times its copy, an identity step ~0).
 * ks_plan_run itself reads no clock. Costs of steps: ks_cost.h. */
void ks_plan_run_timed(ks_plan *p, const float *const *inputs, ks_step_time *t);

/* Output i of the last run (borrowed, valid until the next run or free). */
const float *ks_plan_output(const ks_plan *p, int i);

/* Steps in execution order (InputLayers included), for --trace and the TUI. */
int ks_plan_n_steps(const ks_plan *p);
const ks_plan_step *ks_plan_step_info(const ks_plan *p, int i);
/* Output k of step i after the last run; NULL unless the plan was built with
 * keep_all (buffers are otherwise reused) or the value is a plan output. */
const float *ks_plan_step_output(const ks_plan *p, int i, int k);

/* Caveats found while planning, one line each (borrowed, valid while the
 * plan lives): where this model's Keras result depends on something the
 * engine does not model, e.g. a mask from Masking or Embedding(mask_zero)
 * reaching a layer that would use it. Empty for most models. */
int ks_plan_n_notes(const ks_plan *p);
const char *ks_plan_note(const ks_plan *p, int i);

/* Bytes of the activation arena + scratch, and of loaded weights/state. */
size_t ks_plan_arena_bytes(const ks_plan *p);

#endif
