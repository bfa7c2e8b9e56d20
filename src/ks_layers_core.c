/* ks_layers_core: layer kernels of the 'core' family (see ks_ops.h). */
#include "config.h"

#include "ks_ops.h"

const ks_op *const ks_ops_core[] = {
	NULL,
};
