/* ks_zip: read-only access to the members of a zip archive (libzip), for the
 * .keras formats.
 *
 * A member is read whole into memory, with every size the archive declares
 * checked before anything is allocated: a member can never claim more bytes
 * than the archive could produce (the file size for STORED members, the
 * deflate expansion bound for DEFLATED ones), nor more than the caller's
 * limit, and reading must yield exactly the declared size with a matching
 * CRC. A lying or damaged archive is an error line, never a huge malloc.
 *
 * Errors name the archive and the member ("m.keras: member config.json: ...").
 */
#ifndef KS_ZIP_H
#define KS_ZIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ks_status.h"

typedef struct ks_zip ks_zip;

/* Opens path read-only (ZIP_RDONLY). NULL with a message on failure. */
ks_zip *ks_zip_open(const char *path, ks_err *err);
void ks_zip_close(ks_zip *z);

/* True when the archive has a member of exactly this name. */
bool ks_zip_has(const ks_zip *z, const char *name);

/* Number of members, and the name of member i (borrowed, valid until close). */
int ks_zip_count(const ks_zip *z);
const char *ks_zip_name(const ks_zip *z, int i);

/* Reads member `name` into a new malloc'd buffer (*out, owned by the caller)
 * of *size bytes, followed by one extra NUL byte (not counted) so text
 * members can be parsed directly. Fails when the member is absent, larger
 * than max_size, inconsistent, compressed with a method other than
 * STORED/DEFLATED, encrypted, or unreadable. */
int ks_zip_read(ks_zip *z, const char *name, uint64_t max_size, void **out, size_t *size,
                ks_err *err);

/* Where the bytes of a STORED member sit in the archive file, so that it
 * can be used in place (mapped) instead of copied: *offset and *size.
 * Returns 0, or -1 (no message) when the member is compressed or encrypted,
 * or its headers cannot be followed with certainty: the caller then uses
 * ks_zip_read. The span is checked to lie inside the file and its first
 * bytes to equal what libzip reads for the member. The member's CRC is not
 * verified (that would mean reading it all, which is what this avoids). */
int ks_zip_member_span(ks_zip *z, const char *name, uint64_t *offset, uint64_t *size);

#endif
