/* ks_arch: where a model's architecture comes from.
 *
 * A weights-only file (model.save_weights("w.h5"), a Keras 3 .weights.h5)
 * holds no architecture; the user supplies one. Every form a user is likely
 * to have at hand is accepted, told apart by its bytes, never its name:
 *
 *  - a JSON document: model.to_json() ({"class_name", "config",
 *    "keras_version", "backend"}), a Keras 3 config.json ({"module",
 *    "class_name", "config", "build_config", "compile_config", ...});
 *  - the same wrapped in a JSON *string* (json.dump(model.to_json(), f),
 *    common in 2017-era code): unwrapped, up to KS_ARCH_MAX_WRAP times;
 *  - a model file kerascope reads: a legacy full .h5 (its model_config
 *    attribute) or a .keras archive (its config.json member, Keras 3 or
 *    Keras 2.14).
 *
 * An architecture is a JSON object with a string "class_name"; everything
 * else in the document (compile_config, keras_version, ...) is kept for the
 * loaders. Files are opened read-only and non-blocking (a FIFO is refused,
 * never waited on); a JSON file larger than KS_ARCH_MAX_BYTES is refused
 * before it is read.
 *
 * Errors are one line naming the source ("arch.json: not a Keras model
 * architecture (a JSON array, no class_name)").
 */
#ifndef KS_ARCH_H
#define KS_ARCH_H

#include <stddef.h>

#include <jansson.h>

#include "ks_model.h"
#include "ks_status.h"

#define KS_ARCH_MAX_BYTES ((size_t)256 << 20)
#define KS_ARCH_MAX_WRAP 4

/* Checks and unwraps a parsed document: a string is parsed as JSON (again,
 * up to KS_ARCH_MAX_WRAP levels); the result must be an object with a string
 * class_name. what names the source in messages. Returns a new reference
 * (doc itself, increfed, when nothing was unwrapped) or NULL. doc is borrowed. */
json_t *ks_arch_check(const json_t *doc, const char *what, ks_err *err);

/* The architecture text exactly as stored at path: the whole JSON file, the
 * model_config attribute of a legacy .h5, or the config.json member of a
 * .keras archive. *text is malloc'd (owned by the caller), NUL-terminated,
 * *len bytes. A model file without an architecture (weights only, plain
 * HDF5) is an error. Nothing is unwrapped or checked here. */
int ks_arch_read_text(const char *path, char **text, size_t *len, ks_err *err);

/* Parses an architecture text (as ks_arch_read_text gives it) and checks it
 * (ks_arch_check). Returns a new reference or NULL. */
json_t *ks_arch_parse(const char *text, size_t len, const char *what, ks_err *err);

/* The architecture at path, parsed and checked. Returns a new reference or
 * NULL. */
json_t *ks_arch_read(const char *path, ks_err *err);

/* The architecture text indented by two spaces per level, as Python's
 * json.dumps(indent=2) lays it out, with every string and number kept byte
 * for byte (re-serialising would turn 0.1 into 0.10000000000000001). A
 * text that is a JSON string wrapping the architecture is unwrapped first.
 * Returns a malloc'd NUL-terminated text (owned by the caller), or NULL
 * when text is not an architecture (err set). */
char *ks_arch_pretty(const char *text, size_t len, const char *what, ks_err *err);

/* The architecture ks_open_opts asks for: opts->config when set (checked),
 * else the file opts->config_path, else none. Returns 0 with *out a new
 * reference or NULL (none asked for), or -1 with err set. opts may be NULL. */
int ks_arch_from_opts(const ks_open_opts *opts, json_t **out, ks_err *err);

/* How messages name the architecture opts give: the config_path, or "the
 * given architecture" for an in-memory one. Borrowed. */
const char *ks_arch_source_name(const ks_open_opts *opts);

#endif
