/* ks_layers_pool: layer kernels of the 'pool' family (see ks_ops.h). */
#include "config.h"

#include "ks_ops.h"

const ks_op *const ks_ops_pool[] = {
	NULL,
};
