/* ks_digest: SHA-256 and the model/data digests built on it (ks_digest.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ks_digest.h"
#include "ks_plan.h"
#include "ks_stats.h"
#include "ks_util.h"

/* ---- SHA-256 (FIPS 180-4) --------------------------------------------- */

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, int n)
{
	return (x >> n) | (x << (32 - n));
}

static void block(ks_sha256 *s, const unsigned char *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, h;

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 |
		       p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3];
	e = s->h[4], f = s->h[5], g = s->h[6], h = s->h[7];
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
		uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		h = g, g = f, f = e, e = d + t1;
		d = c, c = b, b = a, a = t1 + t2;
	}
	s->h[0] += a, s->h[1] += b, s->h[2] += c, s->h[3] += d;
	s->h[4] += e, s->h[5] += f, s->h[6] += g, s->h[7] += h;
}

void ks_sha256_init(ks_sha256 *s)
{
	static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	                               0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	memcpy(s->h, iv, sizeof iv);
	s->len = 0;
	s->nbuf = 0;
}

void ks_sha256_update(ks_sha256 *s, const void *data, size_t n)
{
	const unsigned char *p = data;

	s->len += n;
	if (s->nbuf) {
		size_t take = 64 - s->nbuf < n ? 64 - s->nbuf : n;
		memcpy(s->buf + s->nbuf, p, take);
		s->nbuf += take, p += take, n -= take;
		if (s->nbuf < 64)
			return;
		block(s, s->buf);
		s->nbuf = 0;
	}
	for (; n >= 64; p += 64, n -= 64)
		block(s, p);
	memcpy(s->buf, p, n);
	s->nbuf = n;
}

void ks_sha256_final(ks_sha256 *s, unsigned char out[32])
{
	uint64_t bits = s->len * 8;
	unsigned char pad[72] = {0x80};
	size_t np = (s->nbuf < 56 ? 56 : 120) - s->nbuf;

	for (int i = 0; i < 8; i++)
		pad[np + (size_t)i] = (unsigned char)(bits >> (56 - 8 * i));
	ks_sha256_update(s, pad, np + 8);
	for (int i = 0; i < 8; i++)
		for (int k = 0; k < 4; k++)
			out[4 * i + k] = (unsigned char)(s->h[i] >> (24 - 8 * k));
}

void ks_sha256_text(ks_sha256 *s, char out[KS_DIGEST_HEX])
{
	unsigned char d[32];
	ks_sha256_final(s, d);
	memcpy(out, "sha256:", 7);
	for (int i = 0; i < 32; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", d[i]);
}

void ks_sha256_floats(ks_sha256 *s, const float *v, size_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* already the bytes hashed: no copy */
	ks_sha256_update(s, v, n * sizeof *v);
#else
	unsigned char le[1024];
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t u;
		memcpy(&u, &v[i], 4);
		le[k++] = (unsigned char)u;
		le[k++] = (unsigned char)(u >> 8);
		le[k++] = (unsigned char)(u >> 16);
		le[k++] = (unsigned char)(u >> 24);
		if (k == sizeof le) {
			ks_sha256_update(s, le, k);
			k = 0;
		}
	}
	ks_sha256_update(s, le, k);
#endif
}

static void put_u32(ks_sha256 *s, uint32_t v)
{
	unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
	                      (unsigned char)(v >> 24)};
	ks_sha256_update(s, b, 4);
}

static void put_i64(ks_sha256 *s, int64_t x)
{
	uint64_t v = (uint64_t)x;
	unsigned char b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	ks_sha256_update(s, b, 8);
}

void ks_digest_floats(const float *v, size_t n, char out[KS_DIGEST_HEX])
{
	ks_sha256 s;
	ks_sha256_init(&s);
	ks_sha256_floats(&s, v, n);
	ks_sha256_text(&s, out);
}

/* ---- weights ------------------------------------------------------------ */

static int feed_block(const float *v, size_t n, void *ctx, ks_err *err)
{
	(void)err;
	ks_sha256_floats(ctx, v, n);
	return 0;
}

static int hash_weights(const ks_model *m, const ks_model *top, ks_sha256 *s, ks_err *err)
{
	for (int i = 0; i < m->n_layers; i++) {
		const ks_layer *L = &m->layers[i];
		for (int k = 0; k < L->n_weights; k++) {
			const ks_weight *w = &L->weights[k];
			int64_t start[KS_MAX_RANK] = {0};
			put_u32(s, (uint32_t)w->rank);
			for (int d = 0; d < w->rank; d++)
				put_i64(s, w->shape[d]);
			/* nested models share the top model's file */
			if (ks_weight_walk(top, w, start, w->shape, 0, feed_block, s, err) < 0)
				return ks_err_prefix(err, "layer %s, weight %s", L->name, w->name);
		}
		if (L->inner && hash_weights(L->inner, top, s, err) < 0)
			return -1;
	}
	return 0;
}

int ks_digest_weights(const ks_model *m, char out[KS_DIGEST_HEX], ks_err *err)
{
	ks_sha256 s;
	ks_sha256_init(&s);
	out[0] = '\0';
	if (hash_weights(m, m, &s, err) < 0)
		return -1;
	ks_sha256_text(&s, out);
	return 0;
}

/* ---- architecture --------------------------------------------------------- */

static bool dropped_key(const char *k, bool top)
{
	static const char *const names[] = {
		"name", "trainable", "build_config", "batch_input_shape", "batch_shape", "input_shape",
		"seed", NULL,
	};
	if (strcmp(k, "module") == 0 || strcmp(k, "registered_name") == 0)
		return true;
	if (!top)
		return false;
	for (int i = 0; names[i]; i++)
		if (strcmp(k, names[i]) == 0)
			return true;
	return ks_str_endswith(k, "_initializer") || ks_str_endswith(k, "_regularizer") ||
	       ks_str_endswith(k, "_constraint");
}

/* A copy of v without the dropped keys; a Keras 3 DTypePolicy object
 * becomes its name so that it equals the plain string Keras 2 wrote. */
static json_t *canon(const json_t *v, bool top)
{
	if (json_is_object(v)) {
		const json_t *cls = json_object_get(v, "class_name");
		if (json_is_string(cls) && strstr(json_string_value(cls), "DTypePolicy")) {
			const json_t *nm = json_object_get(json_object_get(v, "config"), "name");
			if (json_is_string(nm))
				return json_string(json_string_value(nm));
		}
		json_t *o = json_object();
		const char *k;
		json_t *x;
		json_object_foreach((json_t *)v, k, x)
			if (!dropped_key(k, top))
				json_object_set_new(o, k, canon(x, false));
		return o;
	}
	if (json_is_array(v)) {
		json_t *a = json_array();
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x)
			json_array_append_new(a, canon(x, false));
		return a;
	}
	return json_deep_copy(v);
}

static json_t *arch_layers(const ks_model *m)
{
	json_t *a = json_array();
	for (int i = 0; i < m->n_layers; i++) {
		const ks_layer *L = &m->layers[i];
		json_t *o = json_object(), *nodes = json_array(), *ws = json_array();
		json_object_set_new(o, "class", json_string(L->class_name ? L->class_name : "?"));
		for (int n = 0; n < L->n_nodes; n++) {
			json_t *call = json_array();
			for (int k = 0; k < L->nodes[n].n_in; k++) {
				const ks_ref *r = &L->nodes[n].in[k];
				json_array_append_new(call, json_pack("[i,i,i]", r->layer, r->node, r->tensor));
			}
			json_array_append_new(nodes, call);
		}
		json_object_set_new(o, "calls", nodes);
		for (int k = 0; k < L->n_weights; k++) {
			json_t *sh = json_array();
			for (int d = 0; d < L->weights[k].rank; d++)
				json_array_append_new(sh, json_integer(L->weights[k].shape[d]));
			json_array_append_new(ws, sh);
		}
		json_object_set_new(o, "weights", ws);
		if (L->class_name && strcmp(L->class_name, "InputLayer") == 0) {
			/* its shape is in "inputs"; only the dtype is left */
			json_t *c = json_object();
			const json_t *dt = json_object_get(L->config, "dtype");
			if (dt)
				json_object_set_new(c, "dtype", canon(dt, false));
			json_object_set_new(o, "config", c);
		} else if (L->inner) {
			json_object_set_new(o, "model", arch_layers(L->inner));
		} else {
			json_object_set_new(o, "config", L->config ? canon(L->config, true) : json_null());
		}
		json_array_append_new(a, o);
	}
	return a;
}

void ks_digest_architecture(const ks_model *m, char out[KS_DIGEST_HEX])
{
	json_t *doc = json_object(), *ins = json_array();
	for (int i = 0; i < m->n_inputs; i++) {
		ks_shape s;
		json_t *sh = json_array();
		if (ks_model_input_shape(m, i, &s, NULL) == 0)
			for (int d = 0; d < s.rank; d++)
				json_array_append_new(sh, d == 0 || s.d[d] < 0 ? json_null() : json_integer(s.d[d]));
		json_array_append_new(ins, sh);
	}
	json_object_set_new(doc, "inputs", ins);
	json_object_set_new(doc, "layers", arch_layers(m));
	json_t *outs = json_array();
	for (int i = 0; i < m->n_outputs; i++)
		json_array_append_new(outs, json_pack("[i,i,i]", m->outputs[i].layer, m->outputs[i].node,
		                                      m->outputs[i].tensor));
	json_object_set_new(doc, "outputs", outs);
	char *text = json_dumps(doc, JSON_SORT_KEYS | JSON_COMPACT | JSON_REAL_PRECISION(17));
	ks_sha256 s;
	ks_sha256_init(&s);
	if (text)
		ks_sha256_update(&s, text, strlen(text));
	ks_sha256_text(&s, out);
	free(text);
	json_decref(doc);
}
