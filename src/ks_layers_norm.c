/* ks_layers_norm: layer kernels of the 'norm' family (see ks_ops.h). */
#include "config.h"

#include "ks_ops.h"

const ks_op *const ks_ops_norm[] = {
	NULL,
};
