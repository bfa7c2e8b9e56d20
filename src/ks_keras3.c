#include "config.h"

#include "ks_keras3.h"

int ks_keras3_load_zip(ks_model *m, const ks_open_opts *opts, ks_err *err)
{
	(void)opts;
	return ks_fail(err, "%s: Keras 3 .keras archives are not yet supported", m->path);
}

int ks_keras3_load_weights(ks_model *m, const ks_open_opts *opts, ks_err *err)
{
	(void)opts;
	return ks_fail(err, "%s: Keras 3 .weights.h5 files are not yet supported", m->path);
}
