/* ks_cost: what one plan step costs, counted from shapes alone.
 *
 * The work and the memory traffic of a step follow from its layer's class,
 * config, weight shapes and the step's concrete input and output shapes
 * (ks_plan_step), so both `predict --profile` and bench/ks_bench count them
 * the same way, before or after a run, without touching any value:
 *
 *     const ks_plan_step *s = ks_plan_step_info(plan, i);
 *     double gflop = ks_plan_step_flops(s) / 1e9;      // whole batch
 *     double mb = ks_plan_step_bytes(s) / 1e6;
 *
 * FLOPs are 2 x multiply-adds of the layer's products, for the classes whose
 * time is dominated by them (the rest count 0: their cost is memory):
 *   Dense                      out_numel * kernel_numel / units
 *   Conv1D/2D/3D (groups too)  out_numel * kernel_numel / filters
 *   DepthwiseConv1D/2D         out_numel * kernel taps
 *   SeparableConv1D/2D         out_numel / filters * (depthwise + pointwise numel)
 *   Conv1D/2D/3DTranspose      in_numel / in_channels * kernel_numel
 *   SimpleRNN, LSTM, GRU (CuDNN and Bidirectional wrappers included)
 *                              batch * steps * every 2-D non-bias weight's numel
 * Keras 1 names of the same layers (Convolution2D, W, nb_filter, ...) count
 * alike. Bias additions and activations are not counted, as usual.
 *
 * Bytes touched are the float32 bytes of the layer's weights, its inputs and
 * its outputs: what the step must at least read and write once. Steps the
 * plan skips at inference (Dropout and other identities) count the same,
 * though they touch nothing; their time shows ~0.
 */
#ifndef KS_COST_H
#define KS_COST_H

#include "ks_plan.h"

/* 2 x multiply-adds of the step for its whole batch; 0 for classes not
 * counted (see above) and for InputLayer steps. */
double ks_plan_step_flops(const ks_plan_step *s);

/* Float32 bytes of the step's weights + inputs + outputs. */
double ks_plan_step_bytes(const ks_plan_step *s);

#endif
