#include "config.h"

#include <stdio.h>
#include <string.h>

#include <hdf5.h>

#include "ks_esc.h"
#include "ks_status.h"

/* Messages carry names and values from files: escaped here, once, so that
 * no control character from a file reaches a terminal through an error line
 * (stderr, the inspector's message bar), whoever prints it. Escaping is
 * idempotent: a message built from other messages is not escaped twice. */
int ks_vfail(ks_err *err, const char *fmt, va_list ap)
{
	char raw[KS_ERR_MAX];

	if (err) {
		vsnprintf(raw, sizeof raw, fmt, ap);
		ks_esc_into(err->msg, sizeof err->msg, raw);
	}
	return -1;
}

int ks_fail(ks_err *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ks_vfail(err, fmt, ap);
	va_end(ap);
	return -1;
}

int ks_err_prefix(ks_err *err, const char *fmt, ...)
{
	char prefix[KS_ERR_MAX], old[KS_ERR_MAX];
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(old, sizeof old, fmt, ap);
	va_end(ap);
	ks_esc_into(prefix, sizeof prefix, old);
	memcpy(old, err->msg, sizeof old);
	snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old);
	return -1;
}

void ks_err_clear(ks_err *err)
{
	if (err)
		err->msg[0] = '\0';
}

static H5E_auto2_t error_hook;

void ks_quiet_hdf5(void)
{
	H5Eset_auto2(H5E_DEFAULT, error_hook, NULL);
}

void ks_hdf5_error_hook(H5E_auto2_t fn)
{
	error_hook = fn;
	ks_quiet_hdf5();
}
