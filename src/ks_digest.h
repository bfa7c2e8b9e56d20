/* ks_digest: content digests that recognise the same model, the same
 * architecture and the same data across files and formats.
 *
 * The primitive is SHA-256 (FIPS 180-4), written here because none of the
 * project's dependencies offers a hash; it is the one a user can recompute
 * with Python's hashlib, which is why it was chosen over a shorter hash.
 * Digests are printed as "sha256:" followed by 64 lower-case hex digits.
 *
 * Weights digest (ks_digest_weights): SHA-256 over every layer weight of the
 * model, layers in model order, a nested model's layers right after the
 * layer that holds it (after that layer's own weights), each layer's weights
 * in the order the file lists them (Keras' layer.weights order). Each weight
 * contributes
 *     uint32 LE rank, rank x int64 LE dims, then its values as float32 LE
 *     in C order (converted to float32 as ks_weight_read does).
 * Names are not hashed: the same tensors saved as legacy .h5 and as .keras,
 * or by a model whose layers were renamed, give the same digest. Optimizer
 * state is not part of it. Values are compared bit for bit (-0.0 and 0.0
 * differ), so equal digests mean "byte-for-byte the same weights".
 * Python (a model without nested models):
 *     h = hashlib.sha256()
 *     for layer in model.layers:
 *         for w in layer.weights:
 *             a = np.ascontiguousarray(w.numpy(), dtype="<f4")
 *             h.update(struct.pack("<I", a.ndim))
 *             h.update(np.asarray(a.shape, dtype="<i8").tobytes())
 *             h.update(a.tobytes())
 *     "sha256:" + h.hexdigest()
 *
 * Architecture digest (ks_digest_architecture): SHA-256 over a canonical
 * JSON text of what decides the model's computation: for every layer in the
 * same order, its class name, its inbound calls as [layer index, node,
 * tensor] triples, the shapes of its weights and its config with sorted keys
 * and without the keys that name things or only matter for training or
 * serialisation (name, trainable, module, registered_name, build_config,
 * batch_input_shape, batch_shape, input_shape, *_initializer,
 * *_regularizer, *_constraint, seed); a Keras 3 DTypePolicy reads as its
 * name ("float32"); an InputLayer keeps only its dtype and a nested model
 * is its own list of layers. The declared input shapes (batch axis None)
 * and the output references complete it. Layer names are not part of it,
 * so a renamed copy has the same architecture.
 *
 * Data digest (ks_digest_floats): SHA-256 over float32 LE values, used to
 * match session inputs sample by sample.
 */
#ifndef KS_DIGEST_H
#define KS_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "ks_model.h"
#include "ks_status.h"

typedef struct ks_sha256 {
	uint32_t h[8];
	uint64_t len;          /* bytes hashed so far */
	unsigned char buf[64]; /* pending partial block */
	size_t nbuf;
} ks_sha256;

#define KS_DIGEST_HEX 72  /* "sha256:" + 64 hex + NUL, rounded up */

void ks_sha256_init(ks_sha256 *s);
void ks_sha256_update(ks_sha256 *s, const void *data, size_t n);
void ks_sha256_final(ks_sha256 *s, unsigned char out[32]);
/* Finishes s and writes "sha256:<hex>" into out (KS_DIGEST_HEX bytes). */
void ks_sha256_text(ks_sha256 *s, char out[KS_DIGEST_HEX]);

/* Feeds n float32 values in little-endian byte order, whatever the host. */
void ks_sha256_floats(ks_sha256 *s, const float *v, size_t n);

/* The weights digest of m (see above), reading every weight once in bounded
 * blocks. -1 with err set when a weight cannot be read. */
int ks_digest_weights(const ks_model *m, char out[KS_DIGEST_HEX], ks_err *err);

/* The architecture digest of m (see above); metadata only, never fails for
 * a model with a config. A model without one (a weights-only file opened
 * without --config) gets the digest of its weight shapes alone. */
void ks_digest_architecture(const ks_model *m, char out[KS_DIGEST_HEX]);

/* Digest of n float32 values. */
void ks_digest_floats(const float *v, size_t n, char out[KS_DIGEST_HEX]);

#endif
