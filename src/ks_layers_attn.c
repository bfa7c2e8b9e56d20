/* ks_layers_attn: layer kernels of the 'attn' family (see ks_ops.h). */
#include "config.h"

#include "ks_ops.h"

const ks_op *const ks_ops_attn[] = {
	NULL,
};
