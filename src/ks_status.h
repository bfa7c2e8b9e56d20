/* ks_status: how the core reports failure.
 *
 * Every fallible core function takes a `ks_err *err` as its last argument and
 * returns 0 (or a valid pointer) on success, -1 (or NULL) on failure, having
 * written one human-readable line into err. Messages name the file and the
 * problem ("m.h5: weight dense/kernel has shape (3,4) but the config needs (4,3)")
 * and carry no trailing newline or "error:" prefix: the caller decides how
 * to show them (stderr line, TUI message bar). err may be NULL to discard.
 */
#ifndef KS_STATUS_H
#define KS_STATUS_H

#include <stdarg.h>

#include <hdf5.h>

#define KS_ERR_MAX 1024

typedef struct ks_err {
	char msg[KS_ERR_MAX];
} ks_err;

/* Writes the formatted message into err and returns -1, so that
 * `return ks_fail(err, "%s: not a Keras file", path);` reads naturally. */
int ks_fail(ks_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ks_vfail(ks_err *err, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Prefixes the existing message with "prefix: " (used to add the file name
 * or layer name as the error travels up). Returns -1. */
int ks_err_prefix(ks_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void ks_err_clear(ks_err *err);

/* Turns HDF5's automatic error printing off for the whole process: HDF5
 * must never write to stderr (it would garble the TUI and the one-line errors). */
void ks_quiet_hdf5(void);

/* Has HDF5 call fn (which must print nothing) on every failed API call from
 * now on, ks_quiet_hdf5 included: the crash probe watches for allocations
 * libhdf5 could not make. NULL restores silence. */
void ks_hdf5_error_hook(H5E_auto2_t fn);

#endif
