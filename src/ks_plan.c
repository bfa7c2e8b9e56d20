/* ks_plan: placeholder so other areas can link; the planner lands next. */
#include "config.h"

#include <string.h>

#include "ks_plan.h"

void ks_infer_layer_shapes(const ks_model *m, ks_shape *shapes)
{
	for (int i = 0; i < m->n_layers; i++)
		shapes[i].rank = -1;
}

int ks_infer_call_shapes(const ks_model *m, int layer, int node, ks_shape *out)
{
	return -1;
}

int ks_model_input_shape(const ks_model *m, int input, ks_shape *out, ks_err *err)
{
	out->rank = -1;
	return ks_fail(err, "not implemented yet");
}

int ks_model_keras_major(const ks_model *m)
{
	return 2;
}

ks_plan *ks_plan_build(const ks_model *m, const ks_plan_opts *opts, ks_err *err)
{
	ks_fail(err, "%s: prediction is not implemented yet", m->path ? m->path : "model");
	return NULL;
}

void ks_plan_free(ks_plan *p) {}
int ks_plan_n_inputs(const ks_plan *p) { return 0; }
const ks_shape *ks_plan_input_shape(const ks_plan *p, int i) { return NULL; }
const char *ks_plan_input_name(const ks_plan *p, int i) { return NULL; }
int ks_plan_n_outputs(const ks_plan *p) { return 0; }
const ks_shape *ks_plan_output_shape(const ks_plan *p, int i) { return NULL; }
const char *ks_plan_output_name(const ks_plan *p, int i) { return NULL; }
void ks_plan_run(ks_plan *p, const float *const *inputs) {}
const float *ks_plan_output(const ks_plan *p, int i) { return NULL; }
int ks_plan_n_steps(const ks_plan *p) { return 0; }
const ks_plan_step *ks_plan_step_info(const ks_plan *p, int i) { return NULL; }
const float *ks_plan_step_output(const ks_plan *p, int i, int k) { return NULL; }
size_t ks_plan_arena_bytes(const ks_plan *p) { return 0; }
