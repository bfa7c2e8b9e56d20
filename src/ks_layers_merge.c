/* ks_layers_merge: layer kernels of the 'merge' family (see ks_ops.h). */
#include "config.h"

#include "ks_ops.h"

const ks_op *const ks_ops_merge[] = {
	NULL,
};
