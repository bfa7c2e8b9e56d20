#include "config.h"

#include "ks_h5.h"
#include "ks_legacy.h"

bool ks_legacy_detect(hid_t file)
{
	return ks_h5_has_attr(file, ".", "model_config") || ks_h5_has_attr(file, ".", "layer_names") ||
	       ks_h5_has_attr(file, "model_weights", "layer_names");
}

int ks_legacy_load(ks_model *m, const ks_open_opts *opts, ks_err *err)
{
	(void)opts;
	return ks_fail(err, "%s: legacy loader not yet written", m->path);
}

json_t *ks_json_parse(const char *text, size_t len, const char *what, ks_err *err)
{
	json_error_t je;
	json_t *j = json_loadb(text, len, 0, &je);
	if (!j)
		ks_fail(err, "%s: not valid JSON: %s", what, je.text);
	return j;
}
