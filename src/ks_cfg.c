#include "config.h"

#include <math.h>

#include "ks_cfg.h"

static const json_t *get(const json_t *cfg, const char *key)
{
	const json_t *v = json_is_object(cfg) ? json_object_get(cfg, key) : NULL;
	return json_is_null(v) ? NULL : v;
}

int ks_cfg_int(const json_t *cfg, const char *key, int64_t def, int64_t *out, ks_err *err)
{
	const json_t *v = get(cfg, key);
	if (!v) {
		*out = def;
		return 0;
	}
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	/* Python floats that hold integers (e.g. 2.0) appear in some configs. */
	if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) &&
	    fabs(json_real_value(v)) < 9e15) {
		*out = (int64_t)json_real_value(v);
		return 0;
	}
	return ks_fail(err, "config key '%s' should be an integer", key);
}

int ks_cfg_double(const json_t *cfg, const char *key, double def, double *out, ks_err *err)
{
	const json_t *v = get(cfg, key);
	if (!v) {
		*out = def;
		return 0;
	}
	if (!json_is_number(v))
		return ks_fail(err, "config key '%s' should be a number", key);
	*out = json_number_value(v);
	return 0;
}

int ks_cfg_bool(const json_t *cfg, const char *key, bool def, bool *out, ks_err *err)
{
	const json_t *v = get(cfg, key);
	if (!v) {
		*out = def;
		return 0;
	}
	if (json_is_boolean(v)) {
		*out = json_is_true(v);
		return 0;
	}
	if (json_is_integer(v)) {
		*out = json_integer_value(v) != 0;
		return 0;
	}
	return ks_fail(err, "config key '%s' should be true or false", key);
}

int ks_cfg_str(const json_t *cfg, const char *key, const char *def, const char **out, ks_err *err)
{
	const json_t *v = get(cfg, key);
	if (!v) {
		*out = def;
		return 0;
	}
	if (!json_is_string(v))
		return ks_fail(err, "config key '%s' should be a string", key);
	*out = json_string_value(v);
	return 0;
}

int ks_cfg_ints(const json_t *cfg, const char *key, int n, const int64_t *def, int64_t *out, ks_err *err)
{
	const json_t *v = get(cfg, key);
	if (!v) {
		for (int i = 0; i < n; i++)
			out[i] = def ? def[i] : 0;
		return 0;
	}
	if (json_is_integer(v)) {
		for (int i = 0; i < n; i++)
			out[i] = json_integer_value(v);
		return 0;
	}
	if (!json_is_array(v) || (int)json_array_size(v) != n)
		return ks_fail(err, "config key '%s' should be an integer or a list of %d integers", key, n);
	for (int i = 0; i < n; i++) {
		const json_t *e = json_array_get(v, i);
		if (!json_is_integer(e))
			return ks_fail(err, "config key '%s' should hold integers", key);
		out[i] = json_integer_value(e);
	}
	return 0;
}

int ks_cfg_shape(const json_t *cfg, const char *key, int max, int64_t *out, int *rank, ks_err *err)
{
	const json_t *v = get(cfg, key);
	*rank = -1;
	if (!v)
		return 0;
	if (json_is_integer(v)) { /* input_dim-style scalar */
		if (max < 1)
			return ks_fail(err, "config key '%s' has too many dimensions", key);
		out[0] = json_integer_value(v);
		*rank = 1;
		return 0;
	}
	if (!json_is_array(v))
		return ks_fail(err, "config key '%s' should be a shape list", key);
	if ((int)json_array_size(v) > max)
		return ks_fail(err, "config key '%s' has %zu dimensions (at most %d supported)",
		               key, json_array_size(v), max);
	for (size_t i = 0; i < json_array_size(v); i++) {
		const json_t *e = json_array_get(v, i);
		if (json_is_null(e))
			out[i] = -1;
		else if (json_is_integer(e) && json_integer_value(e) >= 0)
			out[i] = json_integer_value(e);
		else
			return ks_fail(err, "config key '%s' holds a bad dimension", key);
	}
	*rank = (int)json_array_size(v);
	return 0;
}

const json_t *ks_cfg_get_any(const json_t *cfg, const char *const *keys)
{
	for (; *keys; keys++) {
		const json_t *v = get(cfg, *keys);
		if (v)
			return v;
	}
	return NULL;
}
