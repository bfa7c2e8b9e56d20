/* ks_layers_rnn: layer kernels of the 'rnn' family (see ks_ops.h). */
#include "config.h"

#include "ks_ops.h"

const ks_op *const ks_ops_rnn[] = {
	NULL,
};
