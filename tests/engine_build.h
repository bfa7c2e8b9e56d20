/* engine_build: small in-memory Keras models for the engine tests.
 *
 * Builds a ks_model by hand (functional form: explicit InputLayers, one
 * node per call, refs [layer, node, tensor]) with configs parsed from JSON
 * text and weights held in memory (ks_weight.mem), so kernel and planner
 * tests need no files. Everything is owned by the model (ks_model_free).
 *
 *     ks_model *m = eb_new("2.13.1");
 *     int in = eb_input(m, "x", "[null, 3]");
 *     int d = eb_layer(m, "Dense", "d", "{\"units\": 2, \"activation\": \"relu\"}");
 *     eb_weight(m, d, "kernel", 2, (int64_t[]){3, 2}, k);
 *     eb_call1(m, d, in);
 *     eb_io(m, 1, (int[]){in}, d);
 */
#ifndef ENGINE_BUILD_H
#define ENGINE_BUILD_H

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ks_model.h"
#include "ks_plan.h"
#include "ks_util.h"

static inline ks_model *eb_new(const char *keras_version)
{
	ks_model *m = ks_xcalloc(1, sizeof *m);
	m->format = KS_FMT_LEGACY_H5;
	m->file = H5I_INVALID_HID;
	m->path = ks_xstrdup("test-model");
	m->keras_version = keras_version ? ks_xstrdup(keras_version) : NULL;
	m->owned_json = json_array();
	return m;
}

static inline int eb_layer(ks_model *m, const char *cls, const char *name, const char *config)
{
	json_error_t je;
	json_t *cfg = json_loads(config ? config : "{}", 0, &je);
	if (!cfg) {
		fprintf(stderr, "engine_build: bad config for %s: %s\n", name, je.text);
		abort();
	}
	json_array_append_new(m->owned_json, cfg);
	/* grow by doubling (capacity is the next power of two), so that chains
	 * of many thousands of layers build in linear time */
	int n = m->n_layers;
	if (n == 0 || (n & (n - 1)) == 0)
		m->layers = ks_xrealloc(m->layers, sizeof(ks_layer) * (size_t)(n ? 2 * n : 1));
	ks_layer *L = &m->layers[m->n_layers];
	memset(L, 0, sizeof *L);
	L->name = ks_xstrdup(name);
	L->class_name = ks_xstrdup(cls);
	L->config = cfg;
	L->trainable = true;
	return m->n_layers++;
}

/* An InputLayer with batch_input_shape given as JSON text ("[null, 3]"). */
static inline int eb_input(ks_model *m, const char *name, const char *batch_shape)
{
	char cfg[256];
	snprintf(cfg, sizeof cfg, "{\"batch_input_shape\": %s, \"name\": \"%s\"}", batch_shape, name);
	return eb_layer(m, "InputLayer", name, cfg);
}

static inline void eb_weight(ks_model *m, int li, const char *name, int rank, const int64_t *shape,
                             const float *vals)
{
	ks_layer *L = &m->layers[li];
	int64_t n;
	L->weights = ks_xrealloc(L->weights, sizeof(ks_weight) * (size_t)(L->n_weights + 1));
	ks_weight *w = &L->weights[L->n_weights++];
	memset(w, 0, sizeof *w);
	w->name = ks_xstrdup(name);
	w->stored_name = ks_xasprintf("%s/%s:0", L->name, name);
	w->rank = rank;
	memcpy(w->shape, shape, sizeof(int64_t) * (size_t)rank);
	w->dtype = KS_DT_F32;
	w->trainable = true;
	ks_numel(shape, rank, &n);
	w->mem = ks_xmalloc(sizeof(float) * (size_t)(n ? n : 1));
	if (n)
		memcpy(w->mem, vals, sizeof(float) * (size_t)n);
	L->params += n;
}

/* Adds a call of layer li consuming the given refs. */
static inline void eb_call(ks_model *m, int li, int n, const ks_ref *refs)
{
	ks_layer *L = &m->layers[li];
	L->nodes = ks_xrealloc(L->nodes, sizeof(ks_node) * (size_t)(L->n_nodes + 1));
	ks_node *nd = &L->nodes[L->n_nodes++];
	memset(nd, 0, sizeof *nd);
	nd->in = ks_xmalloc(sizeof(ks_ref) * (size_t)(n ? n : 1));
	memcpy(nd->in, refs, sizeof(ks_ref) * (size_t)n);
	nd->n_in = n;
}

static inline void eb_call1(ks_model *m, int li, int src)
{
	ks_ref r = {src, 0, 0};
	eb_call(m, li, 1, &r);
}

static inline void eb_calln(ks_model *m, int li, int n, const int *srcs)
{
	ks_ref r[16];
	for (int i = 0; i < n; i++)
		r[i] = (ks_ref){srcs[i], 0, 0};
	eb_call(m, li, n, r);
}

/* Model inputs (InputLayer indices) and one output: layer out, call 0, tensor 0. */
static inline void eb_io(ks_model *m, int n_in, const int *ins, int out)
{
	m->inputs = ks_xmalloc(sizeof(ks_ref) * (size_t)n_in);
	m->n_inputs = n_in;
	for (int i = 0; i < n_in; i++)
		m->inputs[i] = (ks_ref){ins[i], 0, 0};
	m->outputs = ks_xmalloc(sizeof(ks_ref));
	m->outputs[0] = (ks_ref){out, 0, 0};
	m->n_outputs = 1;
}

/* Plans and runs m on the given inputs (shapes with batch); copies output 0
 * into out (capacity cap floats) and its shape into *os. Returns 0, or -1
 * with err set when planning fails. */
static inline int eb_run(ks_model *m, int n_in, const ks_shape *shapes, const float *const *in,
                         float *out, size_t cap, ks_shape *os, ks_err *err)
{
	ks_plan_opts po = {.input_shapes = shapes, .n_input_shapes = n_in};
	ks_plan *p = ks_plan_build(m, &po, err);
	if (!p)
		return -1;
	ks_plan_run(p, in);
	const ks_shape *s = ks_plan_output_shape(p, 0);
	int64_t n = ks_shape_numel(s);
	if (os)
		*os = *s;
	if ((size_t)n <= cap)
		memcpy(out, ks_plan_output(p, 0), sizeof(float) * (size_t)n);
	ks_plan_free(p);
	return 0;
}

/* One layer on one input: builds input -> layer, runs, frees. */
static inline int eb_run1(const char *cls, const char *config, const ks_shape *in_shape,
                          const float *x, float *out, size_t cap, ks_shape *os, ks_err *err,
                          void (*add_weights)(ks_model *, int))
{
	char bs[256];
	size_t u = (size_t)snprintf(bs, sizeof bs, "[null");
	for (int k = 1; k < in_shape->rank; k++)
		u += (size_t)snprintf(bs + u, sizeof bs - u, ", %lld", (long long)in_shape->d[k]);
	snprintf(bs + u, sizeof bs - u, "]");
	ks_model *m = eb_new("2.13.1");
	int i = eb_input(m, "x", bs);
	int l = eb_layer(m, cls, "layer", config);
	if (add_weights)
		add_weights(m, l);
	eb_call1(m, l, i);
	eb_io(m, 1, &i, l);
	const float *in[1] = {x};
	int rc = eb_run(m, 1, in_shape, in, out, cap, os, err);
	ks_model_free(m);
	return rc;
}

#endif
