/* ks_layers_conv: layer kernels of the 'conv' family (see ks_ops.h). */
#include "config.h"

#include "ks_ops.h"

const ks_op *const ks_ops_conv[] = {
	NULL,
};
