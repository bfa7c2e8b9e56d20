/* ks_layers_act: layer kernels of the 'act' family (see ks_ops.h). */
#include "config.h"

#include "ks_ops.h"

const ks_op *const ks_ops_act[] = {
	NULL,
};
