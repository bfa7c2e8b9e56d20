/* ks_layers_shape: layer kernels of the 'shape' family (see ks_ops.h). */
#include "config.h"

#include "ks_ops.h"

const ks_op *const ks_ops_shape[] = {
	NULL,
};
