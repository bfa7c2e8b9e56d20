/* Both models on the same input: every paired layer's output compared in
 * a's graph order, the first that diverges, then the model outputs (max
 * difference, top-1 agreement, equality up to a class permutation).
 *
 * A side without an architecture runs with the other side's. When a layer
 * cannot run (Lambda, custom, unsupported), the comparison covers the
 * layers before it: the largest prefix of a's top-level layers that both
 * models can plan is found by bisection over ks_plan_opts.until. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ks_diff_priv.h"
#include "ks_plan.h"
#include "ks_util.h"

void ks_diff_free_outputs(ks_diff_outputs *o)
{
	for (int i = 0; i < o->n_layers; i++) {
		free(o->layers[i].name_a);
		free(o->layers[i].name_b);
	}
	free(o->layers);
	for (int i = 0; i < o->n_outs; i++) {
		free(o->outs[i].name_a);
		free(o->outs[i].name_b);
		free(o->outs[i].mapping);
		free(o->outs[i].va);
		free(o->outs[i].vb);
	}
	free(o->outs);
	free(o->stopped);
	memset(o, 0, sizeof *o);
	o->first_divergence = -1;
}

const ks_model *ks_diff_model_a(const ks_diff *d)
{
	return ks_diff_no_arch(d->a) && !ks_diff_no_arch(d->b) ? d->b : d->a;
}

/* The model that runs as side s: the file itself, or the file opened again
 * with the other side's architecture. *owned receives a model to free. */
static const ks_model *runnable(ks_diff *d, int s, ks_model **owned, ks_err *err)
{
	const ks_model *m = s ? d->b : d->a, *other = s ? d->a : d->b;
	*owned = NULL;
	if (!ks_diff_no_arch(m))
		return m;
	if (ks_diff_no_arch(other)) {
		ks_fail(err, "%s: weights only, and %s has no architecture either: give --config ARCH",
		        m->path, other->path);
		return NULL;
	}
	*owned = ks_diff_open_with(d, m->path, other->model_config, NULL, err);
	return *owned;
}

/* b's step name for a's step name, through the layer pairing. */
static const char *b_step_name(const ks_diff *d, const char *name_a)
{
	for (int i = 0; i < d->n_layers; i++)
		if (d->layers[i].name_a && d->layers[i].name_b && !strcmp(d->layers[i].name_a, name_a))
			return d->layers[i].name_b;
	return NULL;
}

static bool shapes_equal(const ks_shape *x, const ks_shape *y)
{
	if (x->rank != y->rank)
		return false;
	for (int i = 0; i < x->rank; i++)
		if (x->d[i] != y->d[i])
			return false;
	return true;
}

static int64_t shape_numel(const ks_shape *s)
{
	int64_t n = 1;
	for (int i = 0; i < s->rank; i++)
		n *= s->d[i];
	return n;
}

typedef struct pair_plans {
	ks_plan *pa, *pb;
	bool same_names;   /* one side runs the other's architecture: its steps
	                    * carry the other side's names */
} pair_plans;

/* b's step name for a's step name. */
static const char *b_name(const ks_diff *d, const pair_plans *pp, const char *name_a)
{
	return pp->same_names ? name_a : b_step_name(d, name_a);
}

static int build_both(const ks_diff *d, const ks_model *ma, const ks_model *mb, const ks_shape *shapes,
                      int n, const char *until_a, pair_plans *pp, ks_err *err)
{
	ks_plan_opts oa = {.input_shapes = shapes, .n_input_shapes = n, .until = until_a, .keep_all = true};
	ks_plan_opts ob = oa;
	pp->pa = pp->pb = NULL;
	if (until_a) {
		ob.until = b_name(d, pp, until_a);
		if (!ob.until)
			return ks_fail(err, "layer %s has no partner in %s", until_a, mb->path);
	}
	if (!(pp->pa = ks_plan_build(ma, &oa, err)))
		return -1;
	if (!(pp->pb = ks_plan_build(mb, &ob, err))) {
		ks_plan_free(pp->pa);
		pp->pa = NULL;
		return -1;
	}
	return 0;
}

/* Tolerance for "equal up to a permutation" of outputs: the user's, or
 * when exact, 1e-5 relative to the output's scale (a permuted softmax sums
 * its terms in another order, so exact equality is too strict). */
static ks_tol perm_tol(const ks_diff *d, const float *a, int64_t n)
{
	if (d->opts.tol.kind != KS_TOL_EXACT)
		return d->opts.tol;
	double m = 0;
	for (int64_t i = 0; i < n; i++)
		if (isfinite(a[i]) && fabs(a[i]) > m)
			m = fabs(a[i]);
	return (ks_tol){KS_TOL_ABS, 1e-5 * (m > 1 ? m : 1)};
}

static void compare_steps(ks_diff *d, const pair_plans *pp)
{
	ks_diff_outputs *o = &d->outputs;
	int na = ks_plan_n_steps(pp->pa), nb = ks_plan_n_steps(pp->pb);
	for (int i = 0; i < na; i++) {
		const ks_plan_step *sa = ks_plan_step_info(pp->pa, i);
		const char *want = b_name(d, pp, sa->name);
		if (!want)
			continue;
		int j = 0;
		const ks_plan_step *sb = NULL;
		for (; j < nb; j++) {
			sb = ks_plan_step_info(pp->pb, j);
			if (!strcmp(sb->name, want) && sb->node == sa->node)
				break;
		}
		if (j == nb)
			continue;
		o->layers = ks_xrealloc(o->layers, (size_t)(o->n_layers + 1) * sizeof *o->layers);
		ks_diff_out_layer *L = &o->layers[o->n_layers++];
		memset(L, 0, sizeof *L);
		L->name_a = ks_xstrdup(sa->name);
		L->name_b = ks_xstrdup(sb->name);
		ks_cmp_init(&L->cmp, &d->opts.tol);
		bool fits = sa->n_out == sb->n_out;
		for (int k = 0; fits && k < sa->n_out; k++)
			fits = shapes_equal(&sa->out[k], &sb->out[k]);
		if (!fits) {
			L->size = -1;   /* shapes differ */
			L->diverges = true;
		} else {
			for (int k = 0; k < sa->n_out; k++) {
				const float *x = ks_plan_step_output(pp->pa, i, k), *y = ks_plan_step_output(pp->pb, j, k);
				int64_t n = shape_numel(&sa->out[k]);
				if (x && y)
					ks_cmp_add(&L->cmp, x, y, (size_t)n);
				L->size += n;
			}
			L->diverges = L->cmp.n_changed > 0;
		}
		if (L->diverges && o->first_divergence < 0)
			o->first_divergence = o->n_layers - 1;
	}
}

static void compare_model_outputs(ks_diff *d, const pair_plans *pp)
{
	ks_diff_outputs *o = &d->outputs;
	int n = ks_plan_n_outputs(pp->pa);
	if (ks_plan_n_outputs(pp->pb) < n)
		n = ks_plan_n_outputs(pp->pb);
	o->outs = ks_xcalloc((size_t)n + 1, sizeof *o->outs);
	for (int i = 0; i < n; i++) {
		const ks_shape *sa = ks_plan_output_shape(pp->pa, i), *sb = ks_plan_output_shape(pp->pb, i);
		ks_diff_model_out *m = &o->outs[o->n_outs++];
		m->name_a = ks_xstrdup(ks_plan_output_name(pp->pa, i));
		m->name_b = ks_xstrdup(ks_plan_output_name(pp->pb, i));
		ks_cmp_init(&m->cmp, &d->opts.tol);
		m->top1 = NAN;
		if (!shapes_equal(sa, sb) || sa->rank < 1)
			continue;
		const float *x = ks_plan_output(pp->pa, i), *y = ks_plan_output(pp->pb, i);
		int64_t total = shape_numel(sa);
		m->rows = sa->d[0];
		m->cols = m->rows > 0 ? total / m->rows : 0;
		ks_cmp_add(&m->cmp, x, y, (size_t)total);
		m->va = ks_xmalloc((size_t)total * sizeof *m->va + 1);
		m->vb = ks_xmalloc((size_t)total * sizeof *m->vb + 1);
		memcpy(m->va, x, (size_t)total * sizeof *x);
		memcpy(m->vb, y, (size_t)total * sizeof *y);
		m->top1 = ks_cmp_top1_agreement(x, y, m->rows, m->cols);
		if (m->cmp.n_changed > 0 && m->cols >= 2) {
			ks_tol t = perm_tol(d, x, total);
			int *map = ks_xmalloc((size_t)m->cols * sizeof *map);
			if (ks_cmp_column_permutation(x, y, m->rows, m->cols, &t, map)) {
				m->mapping = map;
				m->n_mapping = (int)m->cols;
			} else {
				free(map);
			}
		}
	}
}

int ks_diff_run_outputs(ks_diff *d, const ks_array *inputs, int n_inputs, ks_err *err)
{
	ks_model *own_a = NULL, *own_b = NULL;
	ks_shape shapes[KS_MAX_IO];
	pair_plans pp = {NULL, NULL, false};
	const float *in[KS_MAX_IO];
	int rc = -1;

	ks_diff_free_outputs(&d->outputs);
	const ks_model *ma = runnable(d, 0, &own_a, err);
	const ks_model *mb = ma ? runnable(d, 1, &own_b, err) : NULL;
	if (!ma || !mb)
		goto done;
	pp.same_names = own_a || own_b;
	if (n_inputs > KS_MAX_IO || n_inputs != ma->n_inputs) {
		ks_fail(err, "%s: the model takes %d inputs but %d were given", ma->path, ma->n_inputs, n_inputs);
		goto done;
	}
	if (mb->n_inputs != ma->n_inputs) {
		ks_fail(err, "%s: takes %d inputs, %s takes %d: the outputs cannot be compared", mb->path,
		        mb->n_inputs, ma->path, ma->n_inputs);
		goto done;
	}
	for (int i = 0; i < n_inputs; i++) {
		shapes[i].rank = inputs[i].rank;
		for (int k = 0; k < inputs[i].rank; k++)
			shapes[i].d[k] = inputs[i].shape[k];
		in[i] = inputs[i].data;
	}
	ks_err why;
	if (build_both(d, ma, mb, shapes, n_inputs, NULL, &pp, &why) < 0) {
		/* Bisect for the longest prefix of a's layers both can run. */
		int lo = 0, hi = ma->n_layers - 1, best = -1;
		ks_err e2;
		while (lo <= hi) {
			int mid = (lo + hi) / 2;
			pair_plans t = {NULL, NULL, pp.same_names};
			if (build_both(d, ma, mb, shapes, n_inputs, ma->layers[mid].name, &t, &e2) == 0) {
				best = mid;
				ks_plan_free(t.pa);
				ks_plan_free(t.pb);
				lo = mid + 1;
			} else {
				hi = mid - 1;
			}
		}
		d->outputs.stopped = ks_xstrdup(why.msg);
		if (best < 0 || build_both(d, ma, mb, shapes, n_inputs, ma->layers[best].name, &pp, &e2) < 0) {
			/* nothing runs: the inputs themselves may not fit */
			d->outputs.ran = true;
			rc = 0;
			goto done;
		}
	}
	ks_plan_run(pp.pa, in);
	ks_plan_run(pp.pb, in);
	d->outputs.ran = true;
	compare_steps(d, &pp);
	if (!d->outputs.stopped)
		compare_model_outputs(d, &pp);
	rc = 0;
done:
	ks_plan_free(pp.pa);
	ks_plan_free(pp.pb);
	ks_model_free(own_a);
	ks_model_free(own_b);
	return rc;
}
