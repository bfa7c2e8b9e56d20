/* ks_plan: graph resolution, validation, arena sizing and execution.
 *
 * The graph is resolved pull-style from the wanted tensors (frugally-deep's
 * get_output with an output cache), but the result is an explicit list of
 * steps in execution order, built once. A "scope" is one instantiation of a
 * model: the top model, or a nested model at one of its call sites, whose
 * InputLayers are bound to the caller's tensors. Each (scope, layer, call)
 * is resolved once (memo), so shared layers and diamonds are computed once
 * per call site.
 *
 * A "value" is one tensor in the arena. Identity ops (Dropout at inference)
 * produce no new value: their output is the input's value. Values are placed
 * in one arena by a first-fit allocator that frees a value after its last
 * reader; plan outputs and (with keep_all) every value stay alive.
 *
 * Lenient mode (shape inference for display) runs the same resolution with
 * batch -1, never loads weights, and marks a call unknown instead of failing.
 */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ks_act.h"
#include "ks_cfg.h"
#include "ks_plan.h"
#include "ks_util.h"

/* Resolution recursion guard: deeper graphs are refused rather than risking
 * the C stack (real models are a few hundred layers deep). */
#define MAX_DEPTH 65536
/* Activations are float32; allocations are aligned to 16 floats (64 bytes). */
#define ALIGN_FLOATS 16
/* Refuse plans needing more activation memory than this (hostile configs),
 * or than the machine has (ks_mem_budget), whichever is lower: checked
 * before anything is allocated. */
#define MAX_ARENA_BYTES ((uint64_t)64 << 30)

static uint64_t mem_limit(void)
{
	uint64_t b = ks_mem_budget();
	return b < MAX_ARENA_BYTES ? b : MAX_ARENA_BYTES;
}

/* "layer conv (Conv2D): output (1, 30000, 30000, 8) needs 28.8 GB, more than
 * the 8.2 GB this machine allows" (one tensor alone over the limit). */
static int too_big(ks_err *err, const char *layer, const char *cls, const char *what,
                   const ks_shape *sh)
{
	char b[160];
	int64_t n;
	double gb = ks_numel(sh->d, sh->rank, &n) ? (double)n * sizeof(float) / 1e9 : INFINITY;

	return ks_fail(err, "layer %s (%s): %s %s needs %.3g GB, more than the %.1f GB this "
	               "machine allows", layer, cls ? cls : "?", what,
	               ks_shape_str(sh->d, sh->rank, b, sizeof b), gb, (double)mem_limit() / 1e9);
}

typedef struct value {
	ks_shape shape;
	size_t n;            /* floats */
	size_t off;          /* offset in the arena, in floats */
	int producer;        /* step that writes it */
	int last_use;        /* last step reading it (-1: none) */
	bool pinned;         /* never freed (plan output) */
} value;

typedef struct step {
	ks_plan_step info;
	char *name;          /* owned; info.name points here */
	const ks_op *op;     /* NULL for InputLayer steps */
	ks_op_call call;
	bool have_call;      /* call.priv may need op->free */
	bool shared_priv;    /* call.priv belongs to an earlier call of the same layer */
	int in_v[KS_MAX_IO];
	int out_v[KS_MAX_IO];
	bool identity;       /* out_v == in_v, nothing to run */
	bool has_act;
	ks_act act;
	int input_index;     /* InputLayer of the top model: which plan input, else -1 */
} step;

/* The outputs of one (scope, layer, call). n = -1: unknown (lenient mode). */
typedef struct result {
	int n;
	int v[KS_MAX_IO];
	int step;            /* producing step, -1 for model calls */
	int child_scope;     /* for nested-model calls */
} result;

typedef struct scope {
	const ks_model *m;
	int parent;
	char *prefix;        /* "outer/" for nested scopes, "" for the top (owned) */
	int top_layer;       /* layer index in the top model containing this scope, -1 for top */
	int *bound;          /* nested: value bound to m->inputs[i] */
	int **memo;          /* per layer, per call: result index; -1 unresolved, -2 in progress */
	int *node_shift;     /* per layer: 1 when refs count the nested model's own node 0 */
} scope;

struct ks_plan {
	const ks_model *m;
	int keras_major;
	bool theano;
	bool lenient;
	bool keep_all;
	int64_t batch;
	const ks_plan_opts *opts;

	step *steps;
	int n_steps, cap_steps;
	value *vals;
	int n_vals, cap_vals;
	result *res;
	int n_res, cap_res;
	scope *scopes;
	int n_scopes, cap_scopes;

	int n_inputs;
	int in_v[KS_MAX_IO * 8];
	ks_shape in_shape[KS_MAX_IO * 8];
	const char *in_name[KS_MAX_IO * 8];
	int n_outputs;
	int *out_v;
	const char **out_name;

	float *arena;
	size_t arena_floats;
	float *scratch;
	size_t scratch_floats;
	const float *const *cur_inputs;
	int depth;
	char **notes;
	int n_notes;
	int want_layer, want_node, want_ri; /* ks_infer_call_shapes' target */
};

#define MAX_INPUTS (KS_MAX_IO * 8)

/* ---- small growable arrays ---- */

static void *grow(void *p, int *cap, int need, size_t elem)
{
	if (need <= *cap)
		return p;
	int c = *cap ? *cap : 16;
	while (c < need)
		c *= 2;
	p = ks_xrealloc(p, (size_t)c * elem);
	*cap = c;
	return p;
}

static int new_value(ks_plan *p, const ks_shape *s, int producer)
{
	p->vals = grow(p->vals, &p->cap_vals, p->n_vals + 1, sizeof *p->vals);
	value *v = &p->vals[p->n_vals];
	memset(v, 0, sizeof *v);
	v->shape = *s;
	v->producer = producer;
	v->last_use = -1;
	return p->n_vals++;
}

static int new_result(ks_plan *p)
{
	p->res = grow(p->res, &p->cap_res, p->n_res + 1, sizeof *p->res);
	result *r = &p->res[p->n_res];
	memset(r, 0, sizeof *r);
	r->n = -1;
	r->step = -1;
	r->child_scope = -1;
	return p->n_res++;
}

static int new_step(ks_plan *p)
{
	p->steps = grow(p->steps, &p->cap_steps, p->n_steps + 1, sizeof *p->steps);
	step *s = &p->steps[p->n_steps];
	memset(s, 0, sizeof *s);
	s->input_index = -1;
	return p->n_steps++;
}

/* ---- model facts ---- */

int ks_model_keras_major(const ks_model *m)
{
	while (m && m->parent)
		m = m->parent;
	if (!m)
		return 2;
	if (m->keras_version && m->keras_version[0] >= '1' && m->keras_version[0] <= '3' &&
	    (m->keras_version[1] == '.' || m->keras_version[1] == '\0'))
		return m->keras_version[0] - '0';
	if (m->format == KS_FMT_KERAS3 || m->format == KS_FMT_KERAS3_WEIGHTS)
		return 3;
	return 2;
}

static bool model_theano(const ks_model *m)
{
	while (m && m->parent)
		m = m->parent;
	return m && m->backend && strcmp(m->backend, "theano") == 0;
}

static int layer_input_shape(const ks_layer *L, ks_shape *out, ks_err *err)
{
	static const char *const batch_keys[] = {"batch_shape", "batch_input_shape", NULL};
	static const char *const plain_keys[] = {"input_shape", "shape", NULL};
	int64_t d[KS_MAX_RANK];
	int rank = -1;

	for (int k = 0; batch_keys[k] && rank < 0; k++)
		if (ks_cfg_shape(L->config, batch_keys[k], KS_MAX_RANK, d, &rank, err) < 0)
			return ks_err_prefix(err, "input layer %s", L->name);
	if (rank >= 0) {
		if (rank < 1)
			return ks_fail(err, "input layer %s: its shape has no batch axis", L->name);
		out->rank = rank;
		memcpy(out->d, d, sizeof(int64_t) * rank);
		return 0;
	}
	for (int k = 0; plain_keys[k] && rank < 0; k++)
		if (ks_cfg_shape(L->config, plain_keys[k], KS_MAX_RANK - 1, d, &rank, err) < 0)
			return ks_err_prefix(err, "input layer %s", L->name);
	if (rank < 0)
		return ks_fail(err, "input layer %s: its config gives no input shape", L->name);
	out->rank = rank + 1;
	out->d[0] = -1;
	memcpy(out->d + 1, d, sizeof(int64_t) * rank);
	return 0;
}

int ks_model_input_shape(const ks_model *m, int input, ks_shape *out, ks_err *err)
{
	out->rank = -1;
	if (input < 0 || input >= m->n_inputs)
		return ks_fail(err, "the model has no input %d", input);
	int li = m->inputs[input].layer;
	if (li < 0 || li >= m->n_layers)
		return ks_fail(err, "model input %d refers to no layer", input);
	return layer_input_shape(&m->layers[li], out, err);
}

static bool is_input_layer(const ks_layer *L)
{
	return L->class_name && strcmp(L->class_name, "InputLayer") == 0;
}

/* ---- scopes ---- */

/* Keras 2 counts a nested Functional's own construction node in references
 * to it (so its first call is node 1) while its inbound_nodes list omits it.
 * Detect that per layer: some reference to it is exactly one past its calls. */
static void compute_node_shift(scope *sc)
{
	const ks_model *m = sc->m;
	sc->node_shift = ks_xcalloc((size_t)m->n_layers + 1, sizeof(int));
	for (int i = 0; i < m->n_layers; i++)
		for (int n = 0; n < m->layers[i].n_nodes; n++)
			for (int k = 0; k < m->layers[i].nodes[n].n_in; k++) {
				const ks_ref *r = &m->layers[i].nodes[n].in[k];
				if (r->layer >= 0 && r->layer < m->n_layers && m->layers[r->layer].inner &&
				    r->node == m->layers[r->layer].n_nodes)
					sc->node_shift[r->layer] = 1;
			}
	for (int k = 0; k < m->n_outputs; k++) {
		const ks_ref *r = &m->outputs[k];
		if (r->layer >= 0 && r->layer < m->n_layers && m->layers[r->layer].inner &&
		    r->node == m->layers[r->layer].n_nodes)
			sc->node_shift[r->layer] = 1;
	}
}

static int new_scope(ks_plan *p, const ks_model *m, int parent, const char *prefix, int top_layer)
{
	p->scopes = grow(p->scopes, &p->cap_scopes, p->n_scopes + 1, sizeof *p->scopes);
	scope *sc = &p->scopes[p->n_scopes];
	memset(sc, 0, sizeof *sc);
	sc->m = m;
	sc->parent = parent;
	sc->prefix = ks_xstrdup(prefix);
	sc->top_layer = top_layer;
	sc->bound = ks_xcalloc((size_t)m->n_inputs + 1, sizeof(int));
	for (int i = 0; i < m->n_inputs; i++)
		sc->bound[i] = -1;
	sc->memo = ks_xcalloc((size_t)m->n_layers + 1, sizeof(int *));
	for (int i = 0; i < m->n_layers; i++) {
		int n = m->layers[i].n_nodes > 0 ? m->layers[i].n_nodes : 1;
		sc->memo[i] = ks_xmalloc(sizeof(int) * (size_t)n);
		for (int k = 0; k < n; k++)
			sc->memo[i][k] = -1;
	}
	compute_node_shift(sc);
	return p->n_scopes++;
}

static void free_scope(scope *sc)
{
	for (int i = 0; i < sc->m->n_layers; i++)
		free(sc->memo[i]);
	free(sc->memo);
	free(sc->bound);
	free(sc->prefix);
	free(sc->node_shift);
}

/* ---- resolution ---- */

static int resolve(ks_plan *p, int s, int li, int node, ks_err *err);

static const char *lname(const ks_plan *p, int s, const ks_layer *L, char *buf, size_t n)
{
	snprintf(buf, n, "%s%s", p->scopes[s].prefix, L->name);
	return buf;
}

static __attribute__((noinline)) int fail_tensor(ks_plan *p, int s, const ks_ref *r, int ri, ks_err *err)
{
	char b[512];
	return ks_fail(err, "a connection uses output %d of layer %s, which has %d output%s", r->tensor,
	               lname(p, s, &p->scopes[s].m->layers[r->layer], b, sizeof b), p->res[ri].n,
	               p->res[ri].n == 1 ? "" : "s");
}

/* Value of one reference in scope s; -1 on error, -2 when unknown (lenient). */
static int ref_value(ks_plan *p, int s, const ks_ref *r, ks_err *err)
{
	const ks_model *m = p->scopes[s].m;
	int node, ri;

	if (r->layer < 0 || r->layer >= m->n_layers)
		return ks_fail(err, "a connection refers to a layer that does not exist");
	node = r->node - p->scopes[s].node_shift[r->layer];
	if (node < 0)
		node = 0;
	ri = resolve(p, s, r->layer, node, err);
	if (ri < 0)
		return -1;
	/* p->res may have moved during resolve: index again. */
	if (p->res[ri].n < 0)
		return -2;
	if (r->tensor < 0 || r->tensor >= p->res[ri].n)
		return fail_tensor(p, s, r, ri, err);
	return p->res[ri].v[r->tensor];
}

static int unsupported(const ks_plan *p, const ks_layer *L, const char *full, ks_err *err)
{
	const char *c = L->class_name ? L->class_name : "?";
	if (strcmp(c, "?") == 0)
		return ks_fail(err, "layer %s: the file has no architecture (weights only); "
		               "give one with --config ARCH.json", full);
	if (strcmp(c, "Lambda") == 0)
		return ks_fail(err, "layer %s (Lambda) blocks prediction: it holds Python code, "
		               "which kerascope never runs (--until LAYER runs up to an earlier layer)", full);
	if (strcmp(c, "TensorFlowOpLayer") == 0)
		return ks_fail(err, "layer %s (%s) blocks prediction: it wraps a TensorFlow graph "
		               "operation, which kerascope does not run (--until LAYER runs up to an earlier layer)",
		               full, c);
	return ks_fail(err, "layer %s: class '%s' is not supported (a custom layer, or not yet "
	               "implemented); it blocks prediction (--until LAYER runs up to an earlier layer)",
	               full, c);
}

static int finish_call_result(ks_plan *p, int ri, int si)
{
	step *st = &p->steps[si];
	p->res[ri].step = si;
	p->res[ri].n = st->call.n_out;
	for (int k = 0; k < st->call.n_out; k++)
		p->res[ri].v[k] = st->out_v[k];
	return ri;
}

/* The top model's InputLayer: a plan input whose shape comes from opts or config. */
static int input_step(ks_plan *p, int s, int li, int ri, ks_err *err)
{
	const ks_model *m = p->scopes[s].m;
	const ks_layer *L = &m->layers[li];
	ks_shape sh;
	int idx = -1, si;
	char want[160], got[160];

	for (int i = 0; i < m->n_inputs; i++)
		if (m->inputs[i].layer == li)
			idx = i;
	if (idx < 0)
		return ks_fail(err, "input layer %s is not one of the model's inputs", L->name);
	if (idx >= MAX_INPUTS)
		return ks_fail(err, "the model has more than %d inputs", MAX_INPUTS);
	if (layer_input_shape(L, &sh, err) < 0) {
		/* no declared shape (some Keras 3 configs): the given data decides */
		bool given = !p->lenient && p->opts && p->opts->input_shapes && idx < p->opts->n_input_shapes &&
		             p->opts->input_shapes[idx].rank >= 1;
		if (!given) {
			if (!p->lenient)
				return -1;
			p->res[ri].n = -1;
			return ri;
		}
		sh = p->opts->input_shapes[idx];
		for (int k = 0; k < sh.rank; k++)
			sh.d[k] = -1;
	}
	if (!p->lenient) {
		if (p->opts && p->opts->input_shapes && idx < p->opts->n_input_shapes) {
			const ks_shape *g = &p->opts->input_shapes[idx];
			bool ok = g->rank == sh.rank;
			for (int k = 1; ok && k < sh.rank; k++)
				if (sh.d[k] >= 0 && g->d[k] != sh.d[k])
					ok = false;
			if (!ok)
				return ks_fail(err, "input %d (%s) should have shape %s but has %s", idx, L->name,
				               ks_shape_str(sh.d, sh.rank, want, sizeof want),
				               ks_shape_str(g->d, g->rank, got, sizeof got));
			sh = *g;
		} else {
			sh.d[0] = p->batch;
		}
		for (int k = 0; k < sh.rank; k++)
			if (sh.d[k] < 0)
				return ks_fail(err, "input %d (%s) has an unknown dimension in %s: "
				               "give an input to fix it", idx, L->name,
				               ks_shape_str(sh.d, sh.rank, want, sizeof want));
		int64_t n;
		if (!ks_numel(sh.d, sh.rank, &n) || (uint64_t)n > mem_limit() / sizeof(float))
			return too_big(err, L->name, L->class_name, "input", &sh);
	} else {
		sh.d[0] = -1;
	}
	si = new_step(p);
	step *st = &p->steps[si];
	st->name = ks_xasprintf("%s%s", p->scopes[s].prefix, L->name);
	st->info.name = st->name;
	st->info.class_name = L->class_name;
	st->info.layer = L;
	st->info.node = 0;
	st->info.top_layer = p->scopes[s].top_layer >= 0 ? p->scopes[s].top_layer : li;
	st->info.n_out = 1;
	st->info.out[0] = sh;
	st->call.n_out = 1;
	st->call.out[0] = sh;
	st->input_index = idx;
	st->out_v[0] = new_value(p, &sh, si);
	if (idx >= p->n_inputs)
		p->n_inputs = idx + 1;
	p->in_v[idx] = st->out_v[0];
	p->in_shape[idx] = sh;
	p->in_name[idx] = L->name;
	return finish_call_result(p, ri, si);
}

/* A nested model's InputLayer: the caller's tensor. */
static int bound_input(ks_plan *p, int s, int li, int ri, ks_err *err)
{
	const ks_model *m = p->scopes[s].m;
	for (int i = 0; i < m->n_inputs; i++)
		if (m->inputs[i].layer == li) {
			int v = p->scopes[s].bound[i];
			p->res[ri].n = v == -2 ? -1 : 1;
			p->res[ri].v[0] = v;
			return ri;
		}
	return ks_fail(err, "input layer %s%s is not one of the nested model's inputs",
	               p->scopes[s].prefix, m->layers[li].name);
}

static int child_scope(ks_plan *p, int s, int li, const int *in_v, int n_in, ks_err *err)
{
	const ks_layer *L = &p->scopes[s].m->layers[li];
	const ks_model *inner = L->inner;
	char *prefix = ks_xasprintf("%s%s/", p->scopes[s].prefix, L->name);
	int top = p->scopes[s].top_layer >= 0 ? p->scopes[s].top_layer : li;
	int c;

	if (n_in != inner->n_inputs) {
		free(prefix);
		return ks_fail(err, "nested model %s%s takes %d input%s but is called with %d",
		               p->scopes[s].prefix, L->name, inner->n_inputs,
		               inner->n_inputs == 1 ? "" : "s", n_in);
	}
	c = new_scope(p, inner, s, prefix, top);
	free(prefix);
	for (int i = 0; i < n_in; i++)
		p->scopes[c].bound[i] = in_v[i];
	return c;
}

static int model_call(ks_plan *p, int s, int li, int node, int ri, const int *in_v, int n_in,
                      ks_err *err)
{
	int c = child_scope(p, s, li, in_v, n_in, err);
	if (c < 0)
		return -1;
	p->res[ri].child_scope = c;
	const ks_model *inner = p->scopes[c].m;
	if (inner->n_outputs > KS_MAX_IO)
		return ks_fail(err, "nested model %s%s has more than %d outputs", p->scopes[s].prefix,
		               p->scopes[s].m->layers[li].name, KS_MAX_IO);
	int vals[KS_MAX_IO];
	bool unknown = false;
	for (int k = 0; k < inner->n_outputs; k++) {
		int v = ref_value(p, c, &inner->outputs[k], err);
		if (v == -1)
			return -1;
		if (v == -2)
			unknown = true;
		vals[k] = v;
	}
	p->res[ri].n = unknown ? -1 : inner->n_outputs;
	memcpy(p->res[ri].v, vals, sizeof(int) * (size_t)inner->n_outputs);
	return ri;
}

/* Adds "layer NAME (Class): " unless the op's message already names a layer. */
static int layer_prefix(ks_err *err, const char *full, const char *cls)
{
	if (err && strncmp(err->msg, "layer ", 6) == 0)
		return -1;
	return ks_err_prefix(err, "layer %s (%s)", full, cls);
}

/* One layer call as a step: infer (validate) now, load later. */
static int layer_step(ks_plan *p, int s, int li, int node, int ri, const int *in_v, int n_in,
                      ks_err *err)
{
	const ks_model *m = p->scopes[s].m;
	const ks_layer *L = &m->layers[li];
	const ks_op *op = ks_op_find(L->class_name);
	char full[512];
	int si;

	lname(p, s, L, full, sizeof full);
	if (!op)
		return unsupported(p, L, full, err);
	si = new_step(p);
	step *st = &p->steps[si];
	st->name = ks_xstrdup(full);
	st->op = op;
	st->call.model = m;
	st->call.layer = L;
	st->call.config = L->config;
	st->call.kwargs = node < L->n_nodes ? L->nodes[node].kwargs : NULL;
	st->call.keras_major = p->keras_major;
	st->call.theano = p->theano;
	st->call.n_in = n_in;
	for (int k = 0; k < n_in; k++) {
		st->in_v[k] = in_v[k];
		st->call.in[k] = p->vals[in_v[k]].shape;
	}
	st->have_call = true;
	if (op->infer(&st->call, err) < 0)
		return layer_prefix(err, full, L->class_name);
	if (st->call.n_out < 1 || st->call.n_out > KS_MAX_IO)
		return ks_fail(err, "layer %s (%s): internal error: %d outputs", full, L->class_name,
		               st->call.n_out);
	if ((op->flags & KS_OP_POST_ACTIVATION) && L->config) {
		if (ks_act_parse(json_object_get(L->config, "activation"), p->keras_major, &st->act,
		                 err) < 0 ||
		    ks_act_check_rank(&st->act, st->call.out[0].rank, err) < 0)
			return layer_prefix(err, full, L->class_name);
		st->has_act = !ks_act_is_linear(&st->act);
	}
	st->info.name = st->name;
	st->info.class_name = L->class_name;
	st->info.layer = L;
	st->info.node = node;
	st->info.top_layer = p->scopes[s].top_layer >= 0 ? p->scopes[s].top_layer : li;
	st->info.n_in = st->call.n_in;
	memcpy(st->info.in, st->call.in, sizeof st->call.in);
	st->info.n_out = st->call.n_out;
	memcpy(st->info.out, st->call.out, sizeof st->call.out);
	if ((op->flags & KS_OP_IDENTITY) && n_in == st->call.n_out) {
		st->identity = true;
		for (int k = 0; k < n_in; k++)
			st->out_v[k] = in_v[k];
	} else {
		for (int k = 0; k < st->call.n_out; k++) {
			if (!p->lenient) {
				int64_t n;
				if (!ks_numel(st->call.out[k].d, st->call.out[k].rank, &n) ||
				    (uint64_t)n > mem_limit() / sizeof(float))
					return too_big(err, full, L->class_name, "output", &st->call.out[k]);
			}
			st->out_v[k] = new_value(p, &st->call.out[k], si);
		}
	}
	return finish_call_result(p, ri, si);
}

/* The tensors a call consumes: its inbound refs, then tensors that Keras 2
 * passed as keyword arguments. tf.keras serialises those inside the kwargs
 * dict as [layer, node, tensor] lists (MultiHeadAttention's value= and key=,
 * a TFOpLambda's y=), which the graph keeps as kwargs; they follow the first
 * argument in this fixed order. Keras 3 nodes already list them as refs. */
static int call_refs(const ks_model *m, const ks_node *nd, ks_ref *refs)
{
	static const char *const keys[] = {"value", "key", "y", NULL};
	int n = nd->n_in;

	memcpy(refs, nd->in, sizeof(ks_ref) * (size_t)n);
	if (!json_is_object(nd->kwargs))
		return n;
	for (int k = 0; keys[k] && n < KS_MAX_IO; k++) {
		const json_t *t = json_object_get(nd->kwargs, keys[k]);
		if (!json_is_array(t) || json_array_size(t) < 3 || !json_is_string(json_array_get(t, 0)) ||
		    !json_is_integer(json_array_get(t, 1)) || !json_is_integer(json_array_get(t, 2)))
			continue;
		int i = ks_model_layer_index(m, json_string_value(json_array_get(t, 0)));
		if (i >= 0) {
			refs[n].layer = i;
			refs[n].node = (int)json_integer_value(json_array_get(t, 1));
			refs[n].tensor = (int)json_integer_value(json_array_get(t, 2));
			n++;
		}
	}
	return n;
}

/* Error messages that name a layer live in their own frames (noinline) so
 * that resolve()'s recursive frame stays small. */
static __attribute__((noinline)) int fail_calls(ks_plan *p, int s, const ks_layer *L, int node, ks_err *err)
{
	char full[512];
	return ks_fail(err, "a connection uses call %d of layer %s, which is called %d time%s", node,
	               lname(p, s, L, full, sizeof full), L->n_nodes, L->n_nodes == 1 ? "" : "s");
}

static __attribute__((noinline)) int fail_cycle(ks_plan *p, int s, const ks_layer *L, ks_err *err)
{
	char full[512];
	return ks_fail(err, "the graph has a cycle through layer %s", lname(p, s, L, full, sizeof full));
}

static __attribute__((noinline)) int fail_inputs(ks_plan *p, int s, const ks_layer *L, int n, ks_err *err)
{
	char full[512];
	return ks_fail(err, "layer %s takes %d inputs; at most %d are supported",
	               lname(p, s, L, full, sizeof full), n, KS_MAX_IO);
}

/* Resolves (scope s, layer li, call node) to a result index; -1 on error. */
static int resolve(ks_plan *p, int s, int li, int node, ks_err *err)
{
	const ks_model *m = p->scopes[s].m;
	const ks_layer *L = &m->layers[li];
	int ri, rc;
	int in_v[KS_MAX_IO];
	bool unknown = false;

	if (is_input_layer(L))
		node = 0;
	if (node < 0 || (node >= L->n_nodes && !(node == 0 && is_input_layer(L))))
		return fail_calls(p, s, L, node, err);
	int memo = p->scopes[s].memo[li][node];
	if (memo == -2)
		return fail_cycle(p, s, L, err);
	if (memo >= 0)
		return memo;
	if (p->depth >= MAX_DEPTH)
		return ks_fail(err, "the graph is deeper than %d layers", MAX_DEPTH);
	p->depth++;
	p->scopes[s].memo[li][node] = -2;
	ri = new_result(p);

	if (is_input_layer(L)) {
		rc = p->scopes[s].parent < 0 ? input_step(p, s, li, ri, err) : bound_input(p, s, li, ri, err);
		goto done;
	}
	const ks_node *nd = &L->nodes[node];
	if (nd->n_in > KS_MAX_IO) {
		rc = fail_inputs(p, s, L, nd->n_in, err);
		goto done;
	}
	ks_ref refs[KS_MAX_IO];
	int n_in = call_refs(m, nd, refs);
	for (int k = 0; k < n_in; k++) {
		int v = ref_value(p, s, &refs[k], err);
		if (v == -1) {
			rc = -1;
			goto done;
		}
		if (v == -2)
			unknown = true;
		in_v[k] = v;
	}
	if (L->inner) {
		if (unknown) {
			for (int k = 0; k < n_in; k++)
				if (in_v[k] < 0)
					in_v[k] = -2;
		}
		rc = model_call(p, s, li, node, ri, in_v, n_in, err);
		goto done;
	}
	if (unknown) {
		p->res[ri].n = -1;
		rc = ri;
		goto done;
	}
	rc = layer_step(p, s, li, node, ri, in_v, n_in, err);
	if (rc < 0 && p->lenient) {
		p->res[ri].n = -1;
		rc = ri;
	}
done:
	p->depth--;
	if (rc < 0) {
		if (p->lenient && p->res) {
			p->scopes[s].memo[li][node] = ri;
			p->res[ri].n = -1;
			return ri;
		}
		p->scopes[s].memo[li][node] = -1;
		return -1;
	}
	p->scopes[s].memo[li][node] = ri;
	return ri;
}

/* ---- until ---- */

/* Finds the scope/layer for a name: "outer/inner" paths or a bare name
 * searched breadth-first through nested models (first call of each). */
static int find_until(ks_plan *p, const char *name, int *out_scope, int *out_layer, ks_err *err)
{
	int s = 0;
	const char *seg = name;

	/* Exact top-level name first (names never contain '/', but be safe). */
	if ((*out_layer = ks_model_layer_index(p->m, name)) >= 0) {
		*out_scope = 0;
		return 0;
	}
	/* Path form. */
	while (strchr(seg, '/')) {
		const char *slash = strchr(seg, '/');
		const ks_model *m = p->scopes[s].m;
		int li = -1;
		for (int i = 0; i < m->n_layers; i++)
			if (strlen(m->layers[i].name) == (size_t)(slash - seg) &&
			    strncmp(m->layers[i].name, seg, (size_t)(slash - seg)) == 0)
				li = i;
		if (li < 0 || !m->layers[li].inner || m->layers[li].n_nodes < 1)
			goto bare;
		int in_v[KS_MAX_IO];
		const ks_node *nd = &m->layers[li].nodes[0];
		if (nd->n_in > KS_MAX_IO)
			return ks_fail(err, "layer %.*s takes too many inputs", (int)(slash - seg), seg);
		for (int k = 0; k < nd->n_in; k++)
			if ((in_v[k] = ref_value(p, s, &nd->in[k], err)) < 0)
				return -1;
		if ((s = child_scope(p, s, li, in_v, nd->n_in, err)) < 0)
			return -1;
		seg = slash + 1;
	}
	{
		const ks_model *m = p->scopes[s].m;
		for (int i = 0; i < m->n_layers; i++)
			if (strcmp(m->layers[i].name, seg) == 0) {
				*out_scope = s;
				*out_layer = i;
				return 0;
			}
	}
bare:
	/* Bare name of a nested layer: depth-first through nested models. */
	{
		const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
		const ks_model *m = p->m;
		s = 0;
		for (;;) {
			int found = -1;
			for (int i = 0; i < m->n_layers && found < 0; i++)
				if (strcmp(m->layers[i].name, base) == 0) {
					*out_scope = s;
					*out_layer = i;
					return 0;
				}
			for (int i = 0; i < m->n_layers && found < 0; i++)
				if (m->layers[i].inner && m->layers[i].n_nodes > 0 &&
				    ks_model_find_layer(m->layers[i].inner, base, true))
					found = i;
			if (found < 0) {
				char near[512];
				if (ks_model_suggest_layer(m, name, near, sizeof near))
					return ks_fail(err, "no layer named '%s' (did you mean '%s'?)", name, near);
				return ks_fail(err, "no layer named '%s'", name);
			}
			const ks_node *nd = &m->layers[found].nodes[0];
			int in_v[KS_MAX_IO];
			if (nd->n_in > KS_MAX_IO)
				return ks_fail(err, "layer %s takes too many inputs", m->layers[found].name);
			for (int k = 0; k < nd->n_in; k++)
				if ((in_v[k] = ref_value(p, s, &nd->in[k], err)) < 0)
					return -1;
			if ((s = child_scope(p, s, found, in_v, nd->n_in, err)) < 0)
				return -1;
			m = m->layers[found].inner;
		}
	}
}

/* ---- memory ---- */

typedef struct block {
	size_t off, n;
	int v;
} block;

static size_t round_up(size_t n)
{
	return (n + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
}

/* First-fit placement over live blocks kept sorted by offset. */
static size_t place(block **live, int *n_live, int *cap, size_t n, int v, size_t *top)
{
	size_t at = 0;
	int pos = 0;
	for (; pos < *n_live; pos++) {
		if ((*live)[pos].off >= at + n)
			break;
		at = (*live)[pos].off + (*live)[pos].n;
	}
	*live = grow(*live, cap, *n_live + 1, sizeof **live);
	memmove(*live + pos + 1, *live + pos, sizeof **live * (size_t)(*n_live - pos));
	(*live)[pos] = (block){at, n, v};
	(*n_live)++;
	if (at + n > *top)
		*top = at + n;
	return at;
}

static void unplace(block *live, int *n_live, int v)
{
	for (int i = 0; i < *n_live; i++)
		if (live[i].v == v) {
			memmove(live + i, live + i + 1, sizeof *live * (size_t)(*n_live - i - 1));
			(*n_live)--;
			return;
		}
}

static int plan_memory(ks_plan *p, ks_err *err)
{
	block *live = NULL;
	int n_live = 0, cap = 0;
	size_t top = 0;
	int **frees = ks_xcalloc((size_t)p->n_steps + 1, sizeof(int *));
	int *n_frees = ks_xcalloc((size_t)p->n_steps + 1, sizeof(int));

	for (int i = 0; i < p->n_steps; i++) {
		const step *st = &p->steps[i];
		if (st->op && !st->identity)
			for (int k = 0; k < st->call.n_in; k++)
				if (p->vals[st->in_v[k]].last_use < i)
					p->vals[st->in_v[k]].last_use = i;
		if (st->identity)
			for (int k = 0; k < st->call.n_in; k++)
				if (p->vals[st->in_v[k]].last_use < i)
					p->vals[st->in_v[k]].last_use = i;
	}
	for (int k = 0; k < p->n_outputs; k++)
		p->vals[p->out_v[k]].pinned = true;
	for (int v = 0; v < p->n_vals; v++) {
		int64_t n;
		value *val = &p->vals[v];
		ks_numel(val->shape.d, val->shape.rank, &n);
		val->n = (size_t)n;
		int when = val->last_use > val->producer ? val->last_use : val->producer;
		if (val->pinned || p->keep_all)
			continue;
		frees[when] = ks_xrealloc(frees[when], sizeof(int) * (size_t)(n_frees[when] + 1));
		frees[when][n_frees[when]++] = v;
	}
	for (int i = 0; i < p->n_steps; i++) {
		const step *st = &p->steps[i];
		if (!st->identity)
			for (int k = 0; k < st->call.n_out; k++) {
				value *val = &p->vals[st->out_v[k]];
				val->off = place(&live, &n_live, &cap, round_up(val->n ? val->n : 1),
				                 st->out_v[k], &top);
			}
		for (int f = 0; f < n_frees[i]; f++)
			unplace(live, &n_live, frees[i][f]);
		free(frees[i]);
	}
	free(frees);
	free(n_frees);
	free(live);
	p->arena_floats = top;
	if (top > mem_limit() / sizeof(float) ||
	    p->scratch_floats > mem_limit() / sizeof(float) - top)
		return ks_fail(err, "prediction needs %.1f GB of activation memory, more than the "
		               "%.1f GB this machine allows", (double)(top + p->scratch_floats) *
		               sizeof(float) / 1e9, (double)mem_limit() / 1e9);
	p->arena = malloc((top ? top : 1) * sizeof(float));
	p->scratch = malloc((p->scratch_floats ? p->scratch_floats : 1) * sizeof(float));
	if (!p->arena || !p->scratch)
		return ks_fail(err, "out of memory for %.1f MB of activations",
		               (double)(top + p->scratch_floats) * sizeof(float) / 1e6);
	memset(p->arena, 0, (top ? top : 1) * sizeof(float));
	return 0;
}

/* ---- caveats ---- */

static bool class_in(const char *c, const char *const *list)
{
	for (int i = 0; list[i]; i++)
		if (c && strcmp(c, list[i]) == 0)
			return true;
	return false;
}

/* Keras propagates a mask from Masking or Embedding(mask_zero=True) to the
 * layers that use it (RNNs skip masked steps, pooling and attention ignore
 * them). The engine computes every step, so say where that matters. */
static void find_mask_notes(ks_plan *p)
{
	static const char *const users[] = {"SimpleRNN", "LSTM", "GRU", "Bidirectional", "CuDNNLSTM",
		"CuDNNGRU", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "GlobalAveragePooling1D",
		"GlobalMaxPooling1D", "Attention", "AdditiveAttention", "MultiHeadAttention",
		"TimeDistributed", NULL};
	/* The kernels of these classes honour a mask that reaches them straight
	 * from Masking/Embedding(mask_zero) or only through the identity layers
	 * below (they recover it from the zero padding); no note for those. */
	static const char *const honour[] = {"SimpleRNN", "LSTM", "GRU", "Bidirectional", "CuDNNLSTM",
		"CuDNNGRU", "GlobalAveragePooling1D", NULL};
	static const char *const identity[] = {"Dropout", "SpatialDropout1D", "GaussianNoise",
		"GaussianDropout", "AlphaDropout", "ActivityRegularization", NULL};
	bool *masked = ks_xcalloc((size_t)p->n_vals + 1, sizeof(bool));
	bool *direct = ks_xcalloc((size_t)p->n_vals + 1, sizeof(bool));
	const char **origin = ks_xcalloc((size_t)p->n_vals + 1, sizeof(char *));

	for (int i = 0; i < p->n_steps; i++) {
		const step *st = &p->steps[i];
		const char *cls = st->info.class_name;
		const char *from = NULL;
		bool producer = false;

		if (!st->op)
			continue;
		bool all_direct = true;
		for (int k = 0; k < st->call.n_in; k++)
			if (masked[st->in_v[k]]) {
				from = origin[st->in_v[k]];
				all_direct = all_direct && direct[st->in_v[k]];
			}
		if (cls && strcmp(cls, "Masking") == 0) {
			producer = true;
		} else if (cls && strcmp(cls, "Embedding") == 0) {
			bool mz = false;
			ks_cfg_bool(st->call.config, "mask_zero", false, &mz, NULL);
			producer = mz;
		}
		if (from && class_in(cls, users) && !(all_direct && class_in(cls, honour)) &&
		    p->n_notes < 16) {
			p->notes = ks_xrealloc(p->notes, sizeof(char *) * (size_t)(p->n_notes + 1));
			p->notes[p->n_notes++] = ks_xasprintf(
				"layer %s (%s) would use the mask made by %s; kerascope does not model masks, so "
				"samples with masked (padded) steps can differ from Keras", st->name, cls, from);
		}
		/* the mask travels on unless the user consumes the time axis */
		bool pass = from && (!class_in(cls, users) ||
		                     json_is_true(json_object_get(st->call.config, "return_sequences")));
		for (int k = 0; k < st->call.n_out; k++)
			if (producer || pass) {
				masked[st->out_v[k]] = true;
				origin[st->out_v[k]] = producer ? st->name : from;
				direct[st->out_v[k]] = producer || (all_direct && class_in(cls, identity));
			}
	}
	free(direct);
	free(masked);
	free(origin);
}

/* ---- build / free ---- */

static ks_plan *plan_new(const ks_model *m, bool lenient)
{
	ks_plan *p = ks_xcalloc(1, sizeof *p);
	p->m = m;
	p->lenient = lenient;
	p->keras_major = ks_model_keras_major(m);
	p->theano = model_theano(m);
	new_scope(p, m, -1, "", -1);
	return p;
}

void ks_plan_free(ks_plan *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->n_steps; i++) {
		step *st = &p->steps[i];
		if (st->op && st->have_call && !st->shared_priv && st->op->free)
			st->op->free(&st->call);
		free(st->name);
	}
	for (int i = 0; i < p->n_scopes; i++)
		free_scope(&p->scopes[i]);
	free(p->scopes);
	free(p->steps);
	free(p->vals);
	free(p->res);
	free(p->out_v);
	free(p->out_name);
	free(p->arena);
	free(p->scratch);
	for (int i = 0; i < p->n_notes; i++)
		free(p->notes[i]);
	free(p->notes);
	free(p);
}

static const char *value_name(const ks_plan *p, int v)
{
	int s = p->vals[v].producer;
	return s >= 0 ? p->steps[s].info.name : "?";
}

/* Graph resolution recurses once per layer along the longest path. It runs
 * on a thread with a large stack (reserved, touched only as deep as the graph
 * goes) so that MAX_DEPTH layers fit even in sanitizer builds, whose frames
 * are several times larger. Falls back to the caller's stack if no thread
 * can be made. */
#define BIG_STACK ((size_t)256 << 20)

typedef struct job {
	int (*fn)(ks_plan *, ks_err *);
	ks_plan *p;
	ks_err *err;
	int rc;
} job;

static void *job_main(void *arg)
{
	job *j = arg;
	j->rc = j->fn(j->p, j->err);
	return NULL;
}

static int on_big_stack(int (*fn)(ks_plan *, ks_err *), ks_plan *p, ks_err *err)
{
	pthread_attr_t a;
	pthread_t t;
	job j = {fn, p, err, -1};

	if (pthread_attr_init(&a) != 0)
		return fn(p, err);
	if (pthread_attr_setstacksize(&a, BIG_STACK) == 0 && pthread_create(&t, &a, job_main, &j) == 0) {
		pthread_attr_destroy(&a);
		pthread_join(t, NULL);
		return j.rc;
	}
	pthread_attr_destroy(&a);
	return fn(p, err);
}

/* Resolves the wanted tensors (outputs, or the until layer) and every input. */
static int graph_phase(ks_plan *p, ks_err *err)
{
	const ks_model *m = p->m;
	const char *path = m->path ? m->path : "model";

	if (p->opts && p->opts->until) {
		int s = 0, li = 0;
		if (find_until(p, p->opts->until, &s, &li, err) < 0)
			return ks_err_prefix(err, "%s: --until", path);
		const ks_layer *U = &p->scopes[s].m->layers[li];
		if (U->n_nodes == 0 && !is_input_layer(U))
			return ks_fail(err, "%s: --until: layer %s is not connected in the model graph", path,
			               p->opts->until);
		int ri = resolve(p, s, li, 0, err);
		if (ri < 0)
			return ks_err_prefix(err, "%s", path);
		p->n_outputs = p->res[ri].n;
		p->out_v = ks_xmalloc(sizeof(int) * (size_t)(p->n_outputs + 1));
		memcpy(p->out_v, p->res[ri].v, sizeof(int) * (size_t)p->n_outputs);
	} else {
		p->n_outputs = m->n_outputs;
		p->out_v = ks_xmalloc(sizeof(int) * (size_t)(m->n_outputs + 1));
		for (int k = 0; k < m->n_outputs; k++) {
			int v = ref_value(p, 0, &m->outputs[k], err);
			if (v < 0)
				return ks_err_prefix(err, "%s", path);
			p->out_v[k] = v;
		}
	}
	/* Every declared input must be fed, even if no output depends on it. */
	for (int i = 0; i < m->n_inputs; i++) {
		if (m->inputs[i].layer < 0 || m->inputs[i].layer >= m->n_layers) {
			return ks_fail(err, "%s: model input %d refers to no layer", path, i);
		}
		if (resolve(p, 0, m->inputs[i].layer, 0, err) < 0)
			return ks_err_prefix(err, "%s", path);
	}
	return 0;
}

/* One call, tolerating failures (ks_infer_call_shapes). */
static int one_call_phase(ks_plan *p, ks_err *err)
{
	p->want_ri = resolve(p, 0, p->want_layer, p->want_node, NULL);
	return 0;
}

/* Every layer's first call, tolerating failures (display shapes). */
static int lenient_phase(ks_plan *p, ks_err *err)
{
	for (int i = 0; i < p->m->n_layers; i++) {
		const ks_layer *L = &p->m->layers[i];
		if (L->n_nodes > 0 || is_input_layer(L))
			resolve(p, 0, i, 0, NULL);
	}
	return 0;
}

ks_plan *ks_plan_build(const ks_model *m, const ks_plan_opts *opts, ks_err *err)
{
	ks_plan *p;
	const char *path = m->path ? m->path : "model";

	if (m->n_layers == 0 || m->n_outputs == 0) {
		ks_fail(err, "%s: the file holds no model architecture to run%s", path,
		        m->format == KS_FMT_WEIGHTS_H5 || m->format == KS_FMT_KERAS3_WEIGHTS
		                ? " (weights only: give --config ARCH.json)" : "");
		return NULL;
	}
	p = plan_new(m, false);
	p->opts = opts;
	if (opts && opts->keras_major >= 1 && opts->keras_major <= 3)
		p->keras_major = opts->keras_major;
	p->keep_all = opts && opts->keep_all;
	p->batch = opts && opts->batch > 0 ? opts->batch : 1;
	if (opts && opts->input_shapes && opts->n_input_shapes > 0 && opts->input_shapes[0].rank > 0)
		p->batch = opts->input_shapes[0].d[0];
	if (opts && opts->input_shapes && opts->n_input_shapes != m->n_inputs) {
		ks_fail(err, "%s: the model takes %d input%s but %d %s given", path, m->n_inputs,
		        m->n_inputs == 1 ? "" : "s", opts->n_input_shapes,
		        opts->n_input_shapes == 1 ? "was" : "were");
		goto fail;
	}
	if (m->n_inputs > MAX_INPUTS) {
		ks_fail(err, "%s: the model has more than %d inputs", path, MAX_INPUTS);
		goto fail;
	}

	if (on_big_stack(graph_phase, p, err) < 0)
		goto fail;
	p->out_name = ks_xmalloc(sizeof(char *) * (size_t)(p->n_outputs + 1));
	for (int k = 0; k < p->n_outputs; k++)
		p->out_name[k] = value_name(p, p->out_v[k]);

	/* Load weights once, now that every config and shape is known to fit.
	 * Earlier calls of the same layer are found through a hash of layer
	 * pointers and a chain per layer (prev_call), not by scanning every
	 * earlier step: linear in the steps, so a 60,000-layer chain plans in
	 * well under a second. */
	size_t hcap = 16;
	while (hcap < 2 * (size_t)p->n_steps)
		hcap *= 2;
	const ks_layer **hkey = ks_xcalloc(hcap, sizeof *hkey);
	int *hval = ks_xmalloc(hcap * sizeof *hval), *prev_call = ks_xmalloc(((size_t)p->n_steps + 1) * sizeof *prev_call);
	for (int i = 0; i < p->n_steps; i++) {
		const ks_layer *key = p->steps[i].call.layer;
		size_t h = ((uintptr_t)key >> 4) * 0x9E3779B97F4A7C15ull & (hcap - 1);
		while (hkey[h] && hkey[h] != key)
			h = (h + 1) & (hcap - 1);
		prev_call[i] = hkey[h] ? hval[h] : -1;
		hkey[h] = key;
		hval[h] = i;
	}
	free(hkey);
	free(hval);
	for (int i = 0; i < p->n_steps; i++) {
		step *st = &p->steps[i];
		if (st->call.scratch_floats > p->scratch_floats)
			p->scratch_floats = st->call.scratch_floats;
		/* A shared layer (or a layer of a nested model called more than once)
		 * called again with the same input shapes and kwargs reuses the first
		 * call's loaded state, so its weights are read and held once: the
		 * earliest matching call (the chain runs from the latest back). */
		int twin = -1;
		for (int j = prev_call[i]; j >= 0 && st->op && st->op->load; j = prev_call[j]) {
			const step *q = &p->steps[j];
			if (q->call.layer == st->call.layer && q->call.model == st->call.model &&
			    q->call.n_in == st->call.n_in && q->call.priv && !q->shared_priv &&
			    (q->call.kwargs == st->call.kwargs ||
			     (q->call.kwargs && st->call.kwargs && json_equal(q->call.kwargs, st->call.kwargs))) &&
			    memcmp(q->call.in, st->call.in, sizeof(ks_shape) * (size_t)st->call.n_in) == 0)
				twin = j;
		}
		if (twin >= 0) {
			st->call.priv = p->steps[twin].call.priv;
			st->shared_priv = true;
			continue;
		}
		if (st->op && st->op->load && st->op->load(&st->call, err) < 0) {
			layer_prefix(err, st->name, st->info.class_name);
			free(prev_call);
			goto err_prefix;
		}
	}
	free(prev_call);
	if (plan_memory(p, err) < 0)
		goto err_prefix;
	find_mask_notes(p);
	return p;
err_prefix:
	ks_err_prefix(err, "%s", path);
fail:
	ks_plan_free(p);
	return NULL;
}

/* ---- shape inference for display ---- */

static ks_plan *lenient_plan(const ks_model *m)
{
	ks_plan *p = plan_new(m, true);
	p->batch = -1;
	on_big_stack(lenient_phase, p, NULL);
	return p;
}

void ks_infer_layer_shapes(const ks_model *m, ks_shape *shapes)
{
	ks_plan *p = lenient_plan(m);
	for (int i = 0; i < m->n_layers; i++) {
		int ri = p->scopes[0].memo[i][0];
		shapes[i].rank = -1;
		if (ri >= 0 && p->res[ri].n > 0 && p->res[ri].v[0] >= 0)
			shapes[i] = p->vals[p->res[ri].v[0]].shape;
	}
	ks_plan_free(p);
}

int ks_infer_call_shapes(const ks_model *m, int layer, int node, ks_shape *out)
{
	int n = -1;
	if (layer < 0 || layer >= m->n_layers)
		return -1;
	ks_plan *p = plan_new(m, true);
	p->batch = -1;
	p->want_layer = layer;
	p->want_node = node;
	on_big_stack(one_call_phase, p, NULL);
	int ri = p->want_ri;
	if (ri >= 0 && p->res[ri].n > 0) {
		n = p->res[ri].n;
		for (int k = 0; k < n; k++)
			out[k] = p->vals[p->res[ri].v[k]].shape;
	}
	ks_plan_free(p);
	return n;
}

/* ---- run ---- */

static double clock_ms(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void run_step(ks_plan *p, const step *st, const float *const *inputs)
{
	const float *in[KS_MAX_IO];
	float *out[KS_MAX_IO];

	if (st->input_index >= 0) {
		const value *v = &p->vals[st->out_v[0]];
		memcpy(p->arena + v->off, inputs[st->input_index], v->n * sizeof(float));
		return;
	}
	if (st->identity)
		return;
	for (int k = 0; k < st->call.n_in; k++)
		in[k] = p->arena + p->vals[st->in_v[k]].off;
	for (int k = 0; k < st->call.n_out; k++)
		out[k] = p->arena + p->vals[st->out_v[k]].off;
	st->op->run(&st->call, in, out, p->scratch);
	if (st->has_act)
		ks_act_apply_nd(&st->act, out[0], st->call.out[0].d, st->call.out[0].rank);
}

void ks_plan_run(ks_plan *p, const float *const *inputs)
{
	for (int i = 0; i < p->n_steps; i++)
		run_step(p, &p->steps[i], inputs);
}

void ks_plan_run_timed(ks_plan *p, const float *const *inputs, ks_step_time *t)
{
	double wall = clock_ms(CLOCK_MONOTONIC), cpu = clock_ms(CLOCK_PROCESS_CPUTIME_ID);

	for (int i = 0; i < p->n_steps; i++) {
		run_step(p, &p->steps[i], inputs);
		double w = clock_ms(CLOCK_MONOTONIC), c = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
		t[i].wall_ms = w - wall;
		t[i].cpu_ms = c - cpu;
		wall = w;
		cpu = c;
	}
}

/* ---- accessors ---- */

int ks_plan_n_inputs(const ks_plan *p) { return p->n_inputs; }

const ks_shape *ks_plan_input_shape(const ks_plan *p, int i)
{
	return i >= 0 && i < p->n_inputs ? &p->in_shape[i] : NULL;
}

const char *ks_plan_input_name(const ks_plan *p, int i)
{
	return i >= 0 && i < p->n_inputs ? p->in_name[i] : NULL;
}

int ks_plan_n_outputs(const ks_plan *p) { return p->n_outputs; }

const ks_shape *ks_plan_output_shape(const ks_plan *p, int i)
{
	return i >= 0 && i < p->n_outputs ? &p->vals[p->out_v[i]].shape : NULL;
}

const char *ks_plan_output_name(const ks_plan *p, int i)
{
	return i >= 0 && i < p->n_outputs ? p->out_name[i] : NULL;
}

const float *ks_plan_output(const ks_plan *p, int i)
{
	return i >= 0 && i < p->n_outputs ? p->arena + p->vals[p->out_v[i]].off : NULL;
}

int ks_plan_n_steps(const ks_plan *p) { return p->n_steps; }

const ks_plan_step *ks_plan_step_info(const ks_plan *p, int i)
{
	return i >= 0 && i < p->n_steps ? &p->steps[i].info : NULL;
}

const float *ks_plan_step_output(const ks_plan *p, int i, int k)
{
	if (i < 0 || i >= p->n_steps || k < 0 || k >= p->steps[i].info.n_out)
		return NULL;
	const value *v = &p->vals[p->steps[i].out_v[k]];
	if (!p->keep_all && !v->pinned)
		return NULL;
	return p->arena + v->off;
}

int ks_plan_n_notes(const ks_plan *p) { return p->n_notes; }

const char *ks_plan_note(const ks_plan *p, int i)
{
	return i >= 0 && i < p->n_notes ? p->notes[i] : NULL;
}

size_t ks_plan_arena_bytes(const ks_plan *p)
{
	return (p->arena_floats + p->scratch_floats) * sizeof(float);
}
