#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ks_graph.h"
#include "ks_util.h"

bool ks_graph_is_model_class(const char *c)
{
	return c && (strcmp(c, "Functional") == 0 || strcmp(c, "Model") == 0 ||
	             strcmp(c, "Sequential") == 0);
}

static const char *jstr(const json_t *o, const char *key)
{
	const json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The layers list of a model config, or NULL when it is not a model. */
static const json_t *model_layers(const json_t *cfg)
{
	if (json_is_array(cfg))
		return cfg;
	if (json_is_object(cfg)) {
		const json_t *l = json_object_get(cfg, "layers");
		if (json_is_array(l))
			return l;
	}
	return NULL;
}

static bool is_input_layer(const char *cls)
{
	return cls && strcmp(cls, "InputLayer") == 0;
}

/* Working state for one model. */
typedef struct gctx {
	ks_model *m;
	ks_err *err;
	int depth;
	const json_t **ljson;   /* per layer: its JSON entry (NULL when synthesised) */
	int *node_offset;       /* per layer: file node index - offset = our index */
} gctx;

static int gfail(gctx *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int gfail(gctx *g, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ks_vfail(g->err, fmt, ap);
	va_end(ap);
	if (g->m->path)
		ks_err_prefix(g->err, "%s", g->m->path);
	return -1;
}

static json_t *empty_obj(ks_model *m)
{
	return ks_model_keep_json(m, json_object());
}

/* ---- layer creation ---------------------------------------------------- */

static int build_inner(gctx *g, ks_layer *L, const json_t *lj);
static int build_depth(ks_model *m, const json_t *mc, int depth, ks_err *err);

static int add_layer(gctx *g, const json_t *lj, int idx)
{
	ks_model *m = g->m;
	ks_layer *L = &m->layers[idx];
	const char *cls, *name;
	json_t *cfg;
	const json_t *tr;

	if (!json_is_object(lj))
		return gfail(g, "layer %d: not a JSON object", idx);
	cls = jstr(lj, "class_name");
	cfg = json_object_get(lj, "config");
	name = jstr(lj, "name");
	if (!name)
		name = jstr(cfg, "name");
	if (!cls)
		return gfail(g, "layer %d: no class_name", idx);
	L->class_name = ks_xstrdup(cls);
	L->name = name ? ks_xstrdup(name) : ks_xasprintf("%s_%d", cls, idx);
	if (!name)
		ks_model_warn(m, "layer %d (%s) has no name; called %s", idx, cls, L->name);
	{
		/* n_layers counts this layer already: a duplicate finds the first. */
		int first = ks_model_layer_index(m, L->name);
		if (first >= 0 && first < idx)
			return gfail(g, "layer name '%s' appears twice", L->name);
	}
	L->config = json_is_object(cfg) ? cfg : empty_obj(m);
	tr = json_object_get(L->config, "trainable");
	L->trainable = json_is_boolean(tr) ? json_is_true(tr) : true;
	g->ljson[idx] = lj;
	/* A model used as a layer: its config has its own layer list. Keras 1's
	 * Merge also lists "layers" (the branches it merges) but is no model. */
	if (model_layers(cfg) && strcmp(cls, "Merge") != 0 &&
	    (ks_graph_is_model_class(cls) || json_is_object(json_array_get(model_layers(cfg), 0))))
		return build_inner(g, L, lj);
	return 0;
}

static int build_inner(gctx *g, ks_layer *L, const json_t *lj)
{
	ks_model *in;
	ks_err sub;

	if (g->depth + 1 >= KS_GRAPH_MAX_NESTING)
		return gfail(g, "layer %s: models nested more than %d deep", L->name,
		             KS_GRAPH_MAX_NESTING);
	in = ks_model_new(NULL);
	in->parent = g->m;
	in->format = g->m->format;
	in->file = g->m->file;
	in->owns_file = false;
	in->keras_version = g->m->keras_version ? ks_xstrdup(g->m->keras_version) : NULL;
	in->backend = g->m->backend ? ks_xstrdup(g->m->backend) : NULL;
	L->inner = in;
	if (build_depth(in, lj, g->depth + 1, &sub) < 0)
		return gfail(g, "in nested model %s: %s", L->name, sub.msg);
	return 0;
}

/* ---- Sequential --------------------------------------------------------- */

/* The JSON shape list to give a synthesised InputLayer, or NULL. New ref. */
static json_t *seq_input_shape(const json_t *first_cfg, const char *first_cls,
                               const json_t *model_cfg, const json_t *whole)
{
	const json_t *v;
	json_t *shape;

	v = json_object_get(first_cfg, "batch_input_shape");
	if (json_is_array(v))
		return json_deep_copy(v);
	v = json_object_get(first_cfg, "batch_shape");
	if (json_is_array(v))
		return json_deep_copy(v);
	v = json_object_get(first_cfg, "input_shape");
	if (json_is_array(v)) {
		shape = json_array();
		json_array_append_new(shape, json_null());
		json_array_extend(shape, (json_t *)v);
		return shape;
	}
	/* Keras 1: input_dim (+ input_length for recurrent layers); Embedding's
	 * input_dim is its vocabulary, so it only has input_length. */
	v = json_object_get(first_cfg, "input_dim");
	if (json_is_integer(v) || json_is_integer(json_object_get(first_cfg, "input_length"))) {
		const json_t *len = json_object_get(first_cfg, "input_length");
		bool emb = first_cls && strcmp(first_cls, "Embedding") == 0;
		shape = json_array();
		json_array_append_new(shape, json_null());
		if (emb) {
			json_array_append_new(shape, json_is_integer(len) ? json_copy((json_t *)len)
			                                                 : json_null());
			return shape;
		}
		if (json_object_get(first_cfg, "input_length"))
			json_array_append_new(shape, json_is_integer(len) ? json_copy((json_t *)len)
			                                                 : json_null());
		if (json_is_integer(v)) {
			json_array_append_new(shape, json_copy((json_t *)v));
			return shape;
		}
		json_decref(shape);
	}
	v = json_is_object(model_cfg) ? json_object_get(model_cfg, "build_input_shape") : NULL;
	if (json_is_array(v))
		return json_deep_copy(v);
	/* Keras 3 keeps it beside the config: {"build_config": {"input_shape"}} */
	v = json_object_get(json_object_get(whole, "build_config"), "input_shape");
	if (json_is_array(v))
		return json_deep_copy(v);
	return NULL;
}

static bool list_has_name(const json_t *list, const char *name)
{
	size_t i;
	json_t *l;

	json_array_foreach(list, i, l) {
		const char *n = jstr(l, "name");
		if (!n)
			n = jstr(json_object_get(l, "config"), "name");
		if (n && strcmp(n, name) == 0)
			return true;
	}
	return false;
}

static void set_one_ref(ks_ref **refs, int *n, int layer)
{
	*refs = ks_xcalloc(1, sizeof **refs);
	(*refs)[0].layer = layer;
	(*refs)[0].node = 0;
	(*refs)[0].tensor = 0;
	*n = 1;
}

static int build_sequential(gctx *g, const json_t *list, const json_t *model_cfg,
                            const json_t *whole)
{
	ks_model *m = g->m;
	size_t nl = json_array_size(list);
	const json_t *first = json_array_get(list, 0);
	const char *first_cls = jstr(first, "class_name");
	bool synth = nl > 0 && !is_input_layer(first_cls);
	int n = (int)nl + (synth ? 1 : 0), base = synth ? 1 : 0;

	if (nl > (size_t)1 << 20)
		return gfail(g, "unreasonable number of layers (%zu)", nl);
	m->layers = ks_xcalloc((size_t)n + 1, sizeof *m->layers);
	g->ljson = ks_xcalloc((size_t)n + 1, sizeof *g->ljson);
	g->node_offset = ks_xcalloc((size_t)n + 1, sizeof *g->node_offset);
	if (synth) {
		const json_t *fcfg = json_object_get(first, "config");
		const char *fname = jstr(fcfg, "name");
		const char *dt = jstr(fcfg, "dtype");
		json_t *cfg = empty_obj(m);
		json_t *shape = seq_input_shape(fcfg, first_cls, model_cfg, whole);
		ks_layer *L = &m->layers[0];
		L->name = fname ? ks_xasprintf("%s_input", fname) : ks_xstrdup("input_1");
		/* Never collide with a configured layer of the same name. */
		for (int k = 1; list_has_name(list, L->name) && k < 1000; k++) {
			free(L->name);
			L->name = fname ? ks_xasprintf("%s_input_%d", fname, k) : ks_xasprintf("input_%d", k + 1);
		}
		L->class_name = ks_xstrdup("InputLayer");
		L->trainable = true;
		if (shape)
			json_object_set_new(cfg, "batch_input_shape", shape);
		else
			ks_model_warn(m, "Sequential model %s has no input shape",
			              m->name ? m->name : "(unnamed)");
		json_object_set_new(cfg, "dtype", json_string(dt ? dt : "float32"));
		json_object_set_new(cfg, "sparse", json_false());
		json_object_set_new(cfg, "name", json_string(L->name));
		L->config = cfg;
		m->n_layers = 1;
	}
	for (size_t i = 0; i < nl; i++) {
		int idx = (int)i + base;
		m->n_layers = idx + 1;
		if (add_layer(g, json_array_get(list, i), idx) < 0)
			return -1;
	}
	/* Chain: every layer after the first consumes the previous one's output. */
	for (int i = 1; i < n; i++) {
		ks_layer *L = &m->layers[i];
		if (is_input_layer(L->class_name))
			return gfail(g, "Sequential model has an InputLayer (%s) after its start", L->name);
		L->nodes = ks_xcalloc(1, sizeof *L->nodes);
		L->n_nodes = 1;
		set_one_ref(&L->nodes[0].in, &L->nodes[0].n_in, i - 1);
	}
	if (n > 0) {
		set_one_ref(&m->inputs, &m->n_inputs, 0);
		set_one_ref(&m->outputs, &m->n_outputs, n - 1);
	}
	return 0;
}

/* ---- Functional ---------------------------------------------------------- */

/* One raw reference before node-index translation. */
typedef struct rawref {
	int layer;
	int64_t node, tensor;
} rawref;

typedef struct refvec {
	rawref *v;
	int n, cap;
} refvec;

static void rv_push(refvec *rv, int layer, int64_t node, int64_t tensor)
{
	if (rv->n == rv->cap) {
		rv->cap = rv->cap ? rv->cap * 2 : 4;
		rv->v = ks_xrealloc(rv->v, (size_t)rv->cap * sizeof *rv->v);
	}
	rv->v[rv->n].layer = layer;
	rv->v[rv->n].node = node;
	rv->v[rv->n].tensor = tensor;
	rv->n++;
}

/* [name, node, tensor(, kwargs)] -> reference; 0 ok, -1 error. */
static int parse_triple(gctx *g, const json_t *t, const char *where, refvec *rv)
{
	const char *name;
	const json_t *jn, *jt;
	int li;

	if (!json_is_array(t) || json_array_size(t) < 1 || !json_is_string(json_array_get(t, 0)))
		return gfail(g, "%s: malformed tensor reference", where);
	name = json_string_value(json_array_get(t, 0));
	jn = json_array_get(t, 1);
	jt = json_array_get(t, 2);
	li = ks_model_layer_index(g->m, name);
	if (li < 0)
		return gfail(g, "%s: refers to unknown layer '%s'", where, name);
	if ((jn && !json_is_integer(jn)) || (jt && !json_is_integer(jt)))
		return gfail(g, "%s: malformed reference to '%s'", where, name);
	rv_push(rv, li, jn ? json_integer_value(jn) : 0, jt ? json_integer_value(jt) : 0);
	return 0;
}

/* Collects every __keras_tensor__ in a Keras 3 args/kwargs value, in order. */
static int collect_k3(gctx *g, const json_t *v, const char *where, refvec *rv, int depth)
{
	if (depth > 16)
		return 0;
	if (json_is_object(v)) {
		const char *cls = jstr(v, "class_name");
		const char *key;
		json_t *x;
		if (cls && strcmp(cls, "__keras_tensor__") == 0) {
			const json_t *h = json_object_get(json_object_get(v, "config"), "keras_history");
			return parse_triple(g, h, where, rv);
		}
		json_object_foreach((json_t *)v, key, x) {
			if (collect_k3(g, x, where, rv, depth + 1) < 0)
				return -1;
		}
	} else if (json_is_array(v)) {
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x) {
			if (collect_k3(g, x, where, rv, depth + 1) < 0)
				return -1;
		}
	}
	return 0;
}

/* tf.keras writes a first call argument that is no Keras tensor (`2.0 - x`
 * saved as a TFOpLambda) as ["_CONSTANT_VALUE", -1, value, kwargs]
 * (tf_keras/engine/node.py); the tensor then travels in the kwargs. */
static bool constant_arg(const json_t *t)
{
	const json_t *n = json_array_get(t, 0);
	return json_is_string(n) && strcmp(json_string_value(n), "_CONSTANT_VALUE") == 0;
}

/* The call's kwargs with the constant first argument added as "x" (the
 * name TensorFlow's element-wise functions give it), owned by the model. */
static int constant_kwargs(gctx *g, const json_t *t, const char *where, json_t **kwargs)
{
	const json_t *kw = json_array_get(t, 3), *v = json_array_get(t, 2);
	json_t *all;

	if (!v || (kw && !json_is_object(kw)) || json_object_get(kw, "x") || *kwargs)
		return gfail(g, "%s: malformed constant argument", where);
	all = ks_model_keep_json(g->m, kw ? json_copy((json_t *)kw) : json_object());
	json_object_set(all, "x", (json_t *)v);
	*kwargs = all;
	return 0;
}

/* Parses one inbound node into raw refs; *kwargs receives the call kwargs. */
static int parse_node(gctx *g, const json_t *node, const char *where, refvec *rv,
                      json_t **kwargs)
{
	size_t i;
	json_t *e;

	*kwargs = NULL;
	if (json_is_object(node)) { /* Keras 3 */
		json_t *kw = json_object_get(node, "kwargs");
		if (collect_k3(g, json_object_get(node, "args"), where, rv, 0) < 0)
			return -1;
		if (json_is_object(kw)) {
			if (collect_k3(g, kw, where, rv, 0) < 0)
				return -1;
			if (json_object_size(kw) > 0)
				*kwargs = kw;
		}
		return 0;
	}
	if (!json_is_array(node))
		return gfail(g, "%s: malformed inbound node", where);
	/* Keras 1/2: a list of [name, node, tensor, kwargs]. Some writers put a
	 * single triple directly instead of a list of them. */
	if (json_array_size(node) > 0 && json_is_string(json_array_get(node, 0))) {
		json_t *kw = json_array_get(node, 3);
		if (constant_arg(node))
			return constant_kwargs(g, node, where, kwargs);
		if (json_is_object(kw) && json_object_size(kw) > 0)
			*kwargs = kw;
		return parse_triple(g, node, where, rv);
	}
	json_array_foreach(node, i, e) {
		json_t *kw = json_array_get(e, 3);
		if (constant_arg(e)) {
			if (constant_kwargs(g, e, where, kwargs) < 0)
				return -1;
			continue;
		}
		if (parse_triple(g, e, where, rv) < 0)
			return -1;
		if (!*kwargs && json_is_object(kw) && json_object_size(kw) > 0)
			*kwargs = kw;
	}
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* input_layers / output_layers: one [l, n, t], a list of them, or (Keras 3
 * dict inputs/outputs) an object of them, flattened in sorted key order as
 * Keras' tree.flatten does. */
static int parse_io_depth(gctx *g, const json_t *v, const char *what, refvec *rv, int depth)
{
	size_t i;
	json_t *e;

	if (!v || json_is_null(v))
		return 0;
	if (depth > 16)
		return gfail(g, "%s: nested too deeply", what);
	if (json_is_array(v)) {
		if (json_array_size(v) > 0 && json_is_string(json_array_get(v, 0)))
			return parse_triple(g, v, what, rv);
		json_array_foreach(v, i, e)
			if (parse_io_depth(g, e, what, rv, depth + 1) < 0)
				return -1;
		return 0;
	}
	if (json_is_object(v)) {
		const char *cls = jstr(v, "class_name"), *key;
		const char **keys;
		size_t n = 0;
		int rc = 0;
		if (cls && strcmp(cls, "__keras_tensor__") == 0)
			return collect_k3(g, v, what, rv, 0);
		keys = ks_xcalloc(json_object_size(v) + 1, sizeof *keys);
		json_object_foreach((json_t *)v, key, e)
			keys[n++] = key;
		ks_qsort(keys, n, sizeof *keys, key_cmp);
		for (i = 0; i < n && rc == 0; i++)
			rc = parse_io_depth(g, json_object_get(v, keys[i]), what, rv, depth + 1);
		free(keys);
		return rc;
	}
	return gfail(g, "%s: not a list", what);
}

static int parse_io(gctx *g, const json_t *v, const char *what, refvec *rv)
{
	return parse_io_depth(g, v, what, rv, 0);
}

/* Translates a file node index into an index into nodes[], checking ranges. */
static int fix_ref(gctx *g, const rawref *r, ks_ref *out, const char *where)
{
	const ks_layer *P = &g->m->layers[r->layer];
	int64_t node = r->node;

	if (is_input_layer(P->class_name) && P->n_nodes == 0) {
		node = 0;
	} else {
		node -= g->node_offset[r->layer];
		if (node < 0 || node >= P->n_nodes)
			return gfail(g, "%s: refers to call %lld of layer '%s', which has %d",
			             where, (long long)r->node, P->name, P->n_nodes);
	}
	if (r->tensor < 0 || r->tensor > 1 << 20)
		return gfail(g, "%s: bad tensor index %lld of layer '%s'", where,
		             (long long)r->tensor, P->name);
	out->layer = r->layer;
	out->node = (int)node;
	out->tensor = (int)r->tensor;
	return 0;
}

static void node_range(const rawref *r, int64_t *lo, int64_t *hi)
{
	if (r->node < lo[r->layer])
		lo[r->layer] = r->node;
	if (r->node > hi[r->layer])
		hi[r->layer] = r->node;
}

static int build_functional(gctx *g, const json_t *cfg)
{
	ks_model *m = g->m;
	const json_t *list = json_object_get(cfg, "layers");
	size_t nl = json_array_size(list);
	refvec **raw = NULL;        /* raw[layer][node] */
	int *raw_n = NULL;
	refvec ins = {0}, outs = {0};
	int64_t *lo = NULL, *hi = NULL; /* per layer: node numbers referred to */
	int rc = -1;

	if (nl > (size_t)1 << 20)
		return gfail(g, "unreasonable number of layers (%zu)", nl);
	m->layers = ks_xcalloc(nl + 1, sizeof *m->layers);
	g->ljson = ks_xcalloc(nl + 1, sizeof *g->ljson);
	g->node_offset = ks_xcalloc(nl + 1, sizeof *g->node_offset);
	for (size_t i = 0; i < nl; i++) {
		m->n_layers = (int)i + 1;
		if (add_layer(g, json_array_get(list, i), (int)i) < 0)
			return -1;
	}
	/* Parse all nodes first: references may point forward in the list. */
	raw = ks_xcalloc(nl + 1, sizeof *raw);
	raw_n = ks_xcalloc(nl + 1, sizeof *raw_n);
	for (size_t i = 0; i < nl; i++) {
		ks_layer *L = &m->layers[i];
		const json_t *nodes = json_object_get(g->ljson[i], "inbound_nodes");
		size_t nn = json_array_size(nodes);
		char *where;
		if (nodes && !json_is_array(nodes) && !json_is_null(nodes)) {
			gfail(g, "layer %s: inbound_nodes is not a list", L->name);
			goto done;
		}
		if (nn > 1 << 16) {
			gfail(g, "layer %s: unreasonable number of calls", L->name);
			goto done;
		}
		L->nodes = ks_xcalloc(nn + 1, sizeof *L->nodes);
		L->n_nodes = (int)nn;
		raw_n[i] = (int)nn;
		raw[i] = ks_xcalloc(nn + 1, sizeof **raw);
		where = ks_xasprintf("layer %s", L->name);
		for (size_t k = 0; k < nn; k++) {
			refvec *rv = &raw[i][k];
			json_t *kw;
			if (parse_node(g, json_array_get(nodes, k), where, rv, &kw) < 0) {
				free(where);
				goto done;
			}
			L->nodes[k].kwargs = kw;
		}
		free(where);
	}
	if (parse_io(g, json_object_get(cfg, "input_layers"), "input_layers", &ins) < 0 ||
	    parse_io(g, json_object_get(cfg, "output_layers"), "output_layers", &outs) < 0)
		goto done;

	/* Node offsets of nested models: Keras numbers their calls from 1 (node 0
	 * is the construction node) except Keras 3 Sequential. Decide from the
	 * references themselves, falling back on the class. One pass over all
	 * references gathers each layer's lowest and highest node referred to. */
	lo = ks_xmalloc((nl + 1) * sizeof *lo);
	hi = ks_xmalloc((nl + 1) * sizeof *hi);
	for (size_t i = 0; i < nl; i++) {
		lo[i] = INT64_MAX;
		hi[i] = -1;
	}
	for (size_t j = 0; j < nl; j++)
		for (int k = 0; k < raw_n[j]; k++)
			for (int q = 0; q < raw[j][k].n; q++)
				node_range(&raw[j][k].v[q], lo, hi);
	for (int q = 0; q < outs.n; q++)
		node_range(&outs.v[q], lo, hi);
	for (size_t i = 0; i < nl; i++) {
		ks_layer *P = &m->layers[i];
		if (!P->inner)
			continue;
		if (hi[i] >= 0 && hi[i] == P->n_nodes && lo[i] >= 1)
			g->node_offset[i] = 1;
		else if (hi[i] >= 0 && lo[i] == 0)
			g->node_offset[i] = 0;
		else
			g->node_offset[i] = strcmp(P->class_name, "Sequential") == 0 &&
			                    m->keras_version && m->keras_version[0] >= '3' ? 0 : 1;
	}

	for (size_t i = 0; i < nl; i++) {
		ks_layer *L = &m->layers[i];
		char *where = ks_xasprintf("layer %s", L->name);
		for (int k = 0; k < L->n_nodes; k++) {
			refvec *rv = &raw[i][k];
			L->nodes[k].in = ks_xcalloc((size_t)rv->n + 1, sizeof *L->nodes[k].in);
			L->nodes[k].n_in = rv->n;
			for (int q = 0; q < rv->n; q++)
				if (fix_ref(g, &rv->v[q], &L->nodes[k].in[q], where) < 0) {
					free(where);
					goto done;
				}
		}
		free(where);
	}
	if (!json_object_get(cfg, "input_layers")) {
		/* Keras 1 configs written by hand or custom classes: every InputLayer. */
		for (size_t i = 0; i < nl; i++)
			if (is_input_layer(m->layers[i].class_name))
				rv_push(&ins, (int)i, 0, 0);
	}
	if (!json_object_get(cfg, "output_layers")) {
		/* Layers nobody consumes are the outputs. */
		bool *used = ks_xcalloc(nl + 1, sizeof *used);
		for (size_t j = 0; j < nl; j++)
			for (int k = 0; k < m->layers[j].n_nodes; k++)
				for (int q = 0; q < m->layers[j].nodes[k].n_in; q++)
					used[m->layers[j].nodes[k].in[q].layer] = true;
		for (size_t i = 0; i < nl; i++)
			if (!used[i] && m->layers[i].n_nodes > 0)
				rv_push(&outs, (int)i, m->layers[i].n_nodes - 1 + g->node_offset[i], 0);
		free(used);
		if (nl > 0)
			ks_model_warn(m, "model config has no output_layers; using unconsumed layers");
	}
	m->inputs = ks_xcalloc((size_t)ins.n + 1, sizeof *m->inputs);
	m->outputs = ks_xcalloc((size_t)outs.n + 1, sizeof *m->outputs);
	for (int q = 0; q < ins.n; q++) {
		if (fix_ref(g, &ins.v[q], &m->inputs[q], "input_layers") < 0)
			goto done;
		m->n_inputs = q + 1;
	}
	for (int q = 0; q < outs.n; q++) {
		if (fix_ref(g, &outs.v[q], &m->outputs[q], "output_layers") < 0)
			goto done;
		m->n_outputs = q + 1;
	}
	rc = 0;
done:
	if (raw) {
		for (size_t i = 0; i < nl; i++) {
			for (int k = 0; raw[i] && k < raw_n[i]; k++)
				free(raw[i][k].v);
			free(raw[i]);
		}
	}
	free(raw);
	free(raw_n);
	free(lo);
	free(hi);
	free(ins.v);
	free(outs.v);
	return rc;
}

/* ---- entry --------------------------------------------------------------- */

static int build_depth(ks_model *m, const json_t *mc, int depth, ks_err *err)
{
	gctx g = {.m = m, .err = err, .depth = depth};
	const char *cls = jstr(mc, "class_name");
	const json_t *cfg = json_object_get(mc, "config");
	const json_t *list;
	bool functional;
	int rc;

	if (!json_is_object(mc))
		return gfail(&g, "model config is not a JSON object");
	if (m->n_layers)
		return gfail(&g, "internal: graph built twice");
	if (!m->model_config)
		m->model_config = json_incref((json_t *)mc);
	free(m->class_name);
	m->class_name = cls ? ks_xstrdup(cls) : NULL;
	if (json_is_object(cfg) && jstr(cfg, "name")) {
		free(m->name);
		m->name = ks_xstrdup(jstr(cfg, "name"));
	}
	list = model_layers(cfg);
	if (!list) {
		if (cfg && !json_is_object(cfg) && !json_is_null(cfg))
			return gfail(&g, "model config of class %s: \"config\" is neither a list nor an object",
			             cls ? cls : "?");
		/* Subclassed models save an empty config: no graph to show. */
		if (!ks_graph_is_model_class(cls) || json_object_size(cfg) > 0)
			ks_model_warn(m, "model class %s has no layer list in its config", cls ? cls : "?");
		return 0;
	}
	functional = json_is_object(cfg) &&
	             (json_object_get(cfg, "input_layers") || json_object_get(cfg, "output_layers"));
	if (!functional && json_is_object(cfg)) {
		size_t i;
		json_t *l;
		json_array_foreach(list, i, l)
			if (json_array_size(json_object_get(l, "inbound_nodes")) > 0)
				functional = true;
	}
	if (cls && strcmp(cls, "Sequential") == 0)
		functional = false;
	rc = functional ? build_functional(&g, cfg) : build_sequential(&g, list, cfg, mc);
	free(g.ljson);
	free(g.node_offset);
	return rc;
}

int ks_graph_build(ks_model *m, const json_t *model_config, ks_err *err)
{
	return build_depth(m, model_config, 0, err);
}
