/* ks_replay: capture, replay and comparison of sessions (ks_replay.h). */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ks_digest.h"
#include "ks_input.h"
#include "ks_replay.h"
#include "ks_report.h"
#include "ks_util.h"

/* ---- capture and replay ------------------------------------------------------ */

ks_session_run *ks_replay_capture(ks_session *s, const ks_plan *p, const ks_array *inputs,
                                  const char *const *sources, const char *until, bool acts)
{
	ks_session_run *r = ks_session_add_run(s);

	r->until = until ? ks_xstrdup(until) : NULL;
	for (int i = 0; i < ks_plan_n_inputs(p); i++) {
		ks_session_tensor *t = ks_session_add_tensor(&r->inputs, &r->n_inputs, ks_plan_input_name(p, i),
		                                             inputs[i].data, inputs[i].shape, inputs[i].rank);
		t->source = sources && sources[i] ? ks_xstrdup(sources[i]) : NULL;
		t->dtype = ks_xstrdup(ks_dtype_name(inputs[i].src_dtype ? inputs[i].src_dtype : KS_DT_F32));
	}
	for (int o = 0; o < ks_plan_n_outputs(p); o++) {
		const ks_shape *sh = ks_plan_output_shape(p, o);
		ks_session_add_tensor(&r->outputs, &r->n_outputs, ks_plan_output_name(p, o), ks_plan_output(p, o),
		                      sh->d, sh->rank);
	}
	for (int i = 0; acts && i < ks_plan_n_steps(p); i++) {
		const ks_plan_step *st = ks_plan_step_info(p, i);
		if (strcmp(st->class_name, "InputLayer") == 0)
			continue; /* the inputs themselves */
		for (int k = 0; k < st->n_out; k++) {
			const float *x = ks_plan_step_output(p, i, k);
			if (x)
				ks_session_add_tensor(&r->acts, &r->n_acts, st->name, x, st->out[k].d, st->out[k].rank)
				        ->output = k;
		}
	}
	return r;
}

static int replay_run(const ks_session *rec, int ri, const ks_model *m, ks_session *out, ks_err *err)
{
	const ks_session_run *r = &rec->runs[ri];
	ks_array arr[KS_MAX_IO * 8];
	ks_shape shapes[KS_MAX_IO * 8];
	const float *in[KS_MAX_IO * 8];
	const char *src[KS_MAX_IO * 8];
	ks_plan *p = NULL;
	int rc = -1, n = 0;

	if (r->n_inputs != m->n_inputs)
		return ks_fail(err, "run %d records %d input%s but the model takes %d", ri, r->n_inputs,
		               r->n_inputs == 1 ? "" : "s", m->n_inputs);
	if (m->n_inputs > KS_MAX_IO * 8)
		return ks_fail(err, "the model has too many inputs (%d)", m->n_inputs);
	for (n = 0; n < r->n_inputs; n++) {
		ks_shape want;
		const char *name = r->inputs[n].name ? r->inputs[n].name : "?";
		if (ks_session_read_array(rec, &r->inputs[n], &arr[n], err) < 0)
			goto done;
		if (ks_model_input_shape(m, n, &want, NULL) == 0 &&
		    ks_input_fit(&arr[n], &want, false, name, err) < 0) {
			n++;
			goto done;
		}
		shapes[n].rank = arr[n].rank;
		memcpy(shapes[n].d, arr[n].shape, sizeof shapes[n].d);
		in[n] = arr[n].data;
		src[n] = r->inputs[n].source;
	}
	ks_plan_opts po = {
		.batch = arr[0].shape[0],
		.input_shapes = shapes,
		.n_input_shapes = r->n_inputs,
		.until = r->until,
		.keep_all = r->n_acts > 0,
	};
	p = ks_plan_build(m, &po, err);
	if (!p)
		goto done;
	ks_plan_run(p, in);
	ks_session_run *nr = ks_replay_capture(out, p, arr, src, r->until, r->n_acts > 0);
	for (int i = 0; i < nr->n_inputs && i < r->n_inputs; i++) {
		free(nr->inputs[i].dtype);
		nr->inputs[i].dtype = r->inputs[i].dtype ? ks_xstrdup(r->inputs[i].dtype) : NULL;
	}
	rc = 0;
done:
	for (int i = 0; i < n; i++)
		ks_array_free(&arr[i]);
	ks_plan_free(p);
	return rc;
}

ks_session *ks_replay(const ks_session *rec, const ks_model *m, ks_err *err)
{
	ks_session *out = ks_session_new(m->path);

	if (ks_session_identify(out, m, err) < 0)
		goto fail;
	for (int r = 0; r < rec->n_runs; r++)
		if (replay_run(rec, r, m, out, err) < 0) {
			ks_err_prefix(err, "%s", rec->path);
			goto fail;
		}
	return out;
fail:
	ks_session_free(out);
	return NULL;
}

/* ---- sample index ------------------------------------------------------------------ */

typedef struct sample {
	int run;
	int64_t row;
	int64_t order;          /* position in the session */
	char dig[KS_DIGEST_HEX];
	bool used;
} sample;

/* One entry per sample of every run: the digest of its rows of every input
 * (and of the run's until, so that only like runs pair up). */
static sample *index_samples(const ks_session *s, int64_t *n, ks_err *err)
{
	sample *v = NULL;
	int64_t cnt = 0;

	for (int r = 0; r < s->n_runs; r++) {
		const ks_session_run *run = &s->runs[r];
		int64_t batch = run->inputs[0].shape[0];
		ks_array *arr = ks_xcalloc((size_t)run->n_inputs, sizeof *arr);
		int rc = 0;
		for (int i = 0; i < run->n_inputs && rc == 0; i++)
			rc = ks_session_read_array(s, &run->inputs[i], &arr[i], err);
		if (rc == 0) {
			v = ks_xrealloc(v, sizeof *v * (size_t)(cnt + batch + 1));
			for (int64_t b = 0; b < batch; b++) {
				ks_sha256 h;
				ks_sha256_init(&h);
				if (run->until)
					ks_sha256_update(&h, run->until, strlen(run->until) + 1);
				for (int i = 0; i < run->n_inputs; i++) {
					int64_t rs = batch ? ks_array_numel(&arr[i]) / batch : 0;
					unsigned char sep[8];
					for (int k = 0; k < 8; k++)
						sep[k] = (unsigned char)((uint64_t)rs >> (8 * k));
					ks_sha256_update(&h, sep, sizeof sep);
					ks_sha256_floats(&h, arr[i].data + b * rs, (size_t)rs);
				}
				sample *e = &v[cnt];
				e->run = r;
				e->row = b;
				e->order = cnt++;
				e->used = false;
				ks_sha256_text(&h, e->dig);
			}
		}
		for (int i = 0; i < run->n_inputs; i++)
			ks_array_free(&arr[i]);
		free(arr);
		if (rc < 0) {
			free(v);
			return NULL;
		}
	}
	*n = cnt;
	return v ? v : ks_xcalloc(1, sizeof *v);
}

static int cmp_sample(const void *x, const void *y)
{
	const sample *a = x, *b = y;
	int c = strcmp(a->dig, b->dig);
	return c ? c : (a->order > b->order) - (a->order < b->order);
}

typedef struct pair {
	int ra, rb;
	int64_t rowa, rowb;
} pair;

/* Pairs the samples of a with those of b holding the same inputs. */
static pair *match(sample *sa, int64_t na, sample *sb, int64_t nb, int64_t *np, bool *same_order)
{
	pair *p = ks_xmalloc(sizeof *p * (size_t)(na ? na : 1));
	sample *sorted = ks_xmalloc(sizeof *sorted * (size_t)(nb ? nb : 1));
	int64_t k = 0;

	if (nb)
		memcpy(sorted, sb, sizeof *sorted * (size_t)nb);
	qsort(sorted, (size_t)nb, sizeof *sorted, cmp_sample);
	*same_order = na == nb;
	for (int64_t i = 0; i < na; i++) {
		int64_t lo = 0, hi = nb;
		while (lo < hi) {
			int64_t mid = (lo + hi) / 2;
			if (strcmp(sorted[mid].dig, sa[i].dig) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		while (lo < nb && strcmp(sorted[lo].dig, sa[i].dig) == 0 && sorted[lo].used)
			lo++;
		if (lo < nb && strcmp(sorted[lo].dig, sa[i].dig) == 0) {
			sorted[lo].used = true;
			p[k].ra = sa[i].run;
			p[k].rowa = sa[i].row;
			p[k].rb = sorted[lo].run;
			p[k].rowb = sorted[lo].row;
			if (sorted[lo].order != sa[i].order)
				*same_order = false;
			k++;
		} else {
			*same_order = false;
		}
	}
	free(sorted);
	*np = k;
	return p;
}

/* ---- comparison ---------------------------------------------------------------------- */

/* Loaded tensors of one list entry across the runs of a session. */
typedef struct loaded {
	ks_array *arr;   /* per run; rank 0 and NULL data when the run lacks it */
	int n;
} loaded;

static void loaded_free(loaded *l)
{
	for (int i = 0; i < l->n; i++)
		ks_array_free(&l->arr[i]);
	free(l->arr);
	l->arr = NULL;
	l->n = 0;
}

/* Output o of every run of s. */
static int load_outputs(const ks_session *s, int o, loaded *l, ks_err *err)
{
	l->n = s->n_runs;
	l->arr = ks_xcalloc((size_t)s->n_runs, sizeof *l->arr);
	for (int r = 0; r < s->n_runs; r++)
		if (o < s->runs[r].n_outputs &&
		    ks_session_read_array(s, &s->runs[r].outputs[o], &l->arr[r], err) < 0)
			return -1;
	return 0;
}

static int64_t row_size(const ks_array *a)
{
	if (!a->data || a->rank < 1 || a->shape[0] <= 0)
		return -1;
	return ks_array_numel(a) / a->shape[0];
}

/* Per-sample shape of a tensor: its shape without the batch axis. */
static bool same_sample_shape(const ks_array *a, const ks_array *b)
{
	if (a->rank != b->rank)
		return false;
	for (int k = 1; k < a->rank; k++)
		if (a->shape[k] != b->shape[k])
			return false;
	return true;
}

static void compare_output(const ks_session *a, const ks_session *b, int o, const pair *p, int64_t np,
                           const ks_tol *tol, ks_compare_output *co, ks_err *err, int *rc)
{
	loaded la = {0}, lb = {0};
	float *ma = NULL, *mb = NULL;

	co->index = o;
	co->top1 = -1;
	ks_cmp_init(&co->cmp, tol);
	const ks_session_tensor *ta = o < a->runs[0].n_outputs ? &a->runs[0].outputs[o] : NULL;
	const ks_session_tensor *tb = o < b->runs[0].n_outputs ? &b->runs[0].outputs[o] : NULL;
	co->name = ks_xstrdup(ta && ta->name ? ta->name : tb && tb->name ? tb->name : "?");
	co->until = a->runs[0].until;
	if (ta) {
		co->rank_a = ta->rank;
		memcpy(co->shape_a, ta->shape, sizeof co->shape_a);
	}
	if (tb) {
		co->rank_b = tb->rank;
		memcpy(co->shape_b, tb->shape, sizeof co->shape_b);
	}
	if (load_outputs(a, o, &la, err) < 0 || load_outputs(b, o, &lb, err) < 0) {
		*rc = -1;
		goto done;
	}
	co->row_size = -1;
	for (int64_t i = 0; i < np; i++) {
		const ks_array *xa = &la.arr[p[i].ra], *xb = &lb.arr[p[i].rb];
		int64_t rs = row_size(xa);
		if (rs < 0 || row_size(xb) != rs || !same_sample_shape(xa, xb) ||
		    p[i].rowa >= xa->shape[0] || p[i].rowb >= xb->shape[0]) {
			co->shape_differs = true;
			continue;
		}
		if (co->row_size < 0) {
			co->row_size = rs;
			ma = ks_xmalloc(sizeof(float) * (size_t)(rs * np + 1));
			mb = ks_xmalloc(sizeof(float) * (size_t)(rs * np + 1));
		} else if (rs != co->row_size) {
			co->shape_differs = true;
			continue;
		}
		const float *ra = xa->data + p[i].rowa * rs, *rb = xb->data + p[i].rowb * rs;
		ks_cmp_add(&co->cmp, ra, rb, (size_t)rs);
		memcpy(ma + co->rows * rs, ra, sizeof(float) * (size_t)rs);
		memcpy(mb + co->rows * rs, rb, sizeof(float) * (size_t)rs);
		co->rows++;
	}
	if (co->rows > 0 && co->rank_a == 2 && !co->until) {
		/* class scores: one row of row_size classes per sample (model outputs
		 * only: a layer stopped at with --until holds features, not classes) */
		co->top1 = ks_cmp_top1_agreement(ma, mb, co->rows, co->row_size);
		if (co->cmp.n_changed && co->row_size >= 2 && co->row_size <= 100000) {
			int *map = ks_xmalloc(sizeof(int) * (size_t)co->row_size);
			if (ks_cmp_column_permutation(ma, mb, co->rows, co->row_size, tol, map))
				co->perm = map;
			else
				free(map);
		}
	}
done:
	free(ma);
	free(mb);
	loaded_free(&la);
	loaded_free(&lb);
}

static const ks_session_tensor *find_act(const ks_session_run *r, const char *name, int output)
{
	for (int j = 0; j < r->n_acts; j++)
		if (r->acts[j].name && name && strcmp(r->acts[j].name, name) == 0 && r->acts[j].output == output)
			return &r->acts[j];
	return NULL;
}

/* The first activation of a (in its recorded order) that differs on a
 * shared sample. */
static int first_divergence(const ks_session *a, const ks_session *b, const pair *p, int64_t np,
                            const ks_tol *tol, ks_compare *c, ks_err *err)
{
	int best = -1;

	for (int ra = 0; ra < a->n_runs; ra++) {
		const ks_session_run *run = &a->runs[ra];
		for (int j = 0; j < run->n_acts && (best < 0 || j < best); j++) {
			const ks_session_tensor *t = &run->acts[j];
			ks_array xa = {0}, xb = {0};
			int xb_run = -1; /* the run of b whose activation xb holds */
			ks_cmp cm;
			bool any = false;
			ks_cmp_init(&cm, tol);
			for (int64_t i = 0; i < np; i++) {
				if (p[i].ra != ra)
					continue;
				const ks_session_tensor *u = find_act(&b->runs[p[i].rb], t->name, t->output);
				if (!u)
					continue;
				if (!xa.data && ks_session_read_array(a, t, &xa, err) < 0)
					return -1;
				if (xb_run != p[i].rb) {
					ks_array_free(&xb);
					xb_run = -1;
					if (ks_session_read_array(b, u, &xb, err) < 0) {
						ks_array_free(&xa);
						return -1;
					}
					xb_run = p[i].rb;
				}
				int64_t rs = row_size(&xa);
				if (rs >= 0 && row_size(&xb) == rs && same_sample_shape(&xa, &xb) &&
				    p[i].rowa < xa.shape[0] && p[i].rowb < xb.shape[0]) {
					ks_cmp_add(&cm, xa.data + p[i].rowa * rs, xb.data + p[i].rowb * rs, (size_t)rs);
					any = true;
				} else {
					cm.n_changed++; /* a different shape is a divergence */
					any = true;
				}
			}
			ks_array_free(&xa);
			ks_array_free(&xb);
			if (any && ra == 0)
				c->acts_compared++;
			if (any && cm.n_changed && (best < 0 || j < best)) {
				best = j;
				free(c->first_divergence);
				c->first_divergence = ks_xstrdup(t->name ? t->name : "?");
				c->first_divergence_output = t->output;
				c->first_divergence_cmp = cm;
			}
		}
	}
	return 0;
}

static int digest_eq(const char *x, const char *y)
{
	if (!x || !y)
		return -1;
	return strcmp(x, y) == 0;
}

static char *label_of(const ks_session *s)
{
	if (s->file >= 0)
		return ks_session_describe(s);
	return ks_xasprintf("%s", s->path);
}

ks_compare *ks_compare_sessions(const ks_session *a, const ks_session *b, const ks_tol *tol, ks_err *err)
{
	ks_compare *c = ks_xcalloc(1, sizeof *c);
	sample *sa = NULL, *sb = NULL;
	pair *p = NULL;
	int64_t np = 0;
	int rc = 0;

	c->same_weights = digest_eq(a->model.weights_digest, b->model.weights_digest);
	c->same_architecture = digest_eq(a->model.architecture_digest, b->model.architecture_digest);
	if (tol) {
		c->tol = *tol;
	} else {
		c->tol_default = true;
		c->tol.kind = c->same_weights == 1 ? KS_TOL_EXACT : KS_TOL_REL;
		c->tol.value = c->same_weights == 1 ? 0 : 1e-5;
	}
	c->label_a = label_of(a);
	c->label_b = label_of(b);
	sa = index_samples(a, &c->samples_a, err);
	sb = sa ? index_samples(b, &c->samples_b, err) : NULL;
	if (!sa || !sb) {
		rc = -1;
		goto done;
	}
	p = match(sa, c->samples_a, sb, c->samples_b, &np, &c->same_inputs);
	c->shared = np;
	c->outputs_a = a->runs[0].n_outputs;
	c->outputs_b = b->runs[0].n_outputs;
	c->n_out = c->outputs_a > c->outputs_b ? c->outputs_a : c->outputs_b;
	c->out = ks_xcalloc((size_t)c->n_out, sizeof *c->out);
	for (int o = 0; o < c->n_out && rc == 0; o++)
		compare_output(a, b, o, p, np, &c->tol, &c->out[o], err, &rc);
	if (rc == 0)
		rc = first_divergence(a, b, p, np, &c->tol, c, err);
	c->identical = np > 0 && c->outputs_a == c->outputs_b;
	for (int o = 0; o < c->n_out; o++)
		if (c->out[o].shape_differs || c->out[o].cmp.n_changed || c->out[o].rows == 0)
			c->identical = false;
done:
	free(sa);
	free(sb);
	free(p);
	if (rc < 0) {
		ks_compare_free(c);
		return NULL;
	}
	return c;
}

void ks_compare_free(ks_compare *c)
{
	if (!c)
		return;
	for (int o = 0; o < c->n_out; o++) {
		free(c->out[o].name);
		free(c->out[o].perm);
	}
	free(c->out);
	free(c->first_divergence);
	free(c->label_a);
	free(c->label_b);
	free(c);
}

/* ---- report --------------------------------------------------------------------------- */

static const char *tri(int v, const char *yes, const char *no, const char *unknown)
{
	return v == 1 ? yes : v == 0 ? no : unknown;
}

static json_t *jtri(int v)
{
	return v < 0 ? json_null() : json_boolean(v);
}

static json_t *jnum(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* Flat index i of a (rows x row_size) comparison as [sample, i, j...] text
 * using the per-sample shape of the first output. */
static void where_text(const ks_compare_output *co, int64_t at, char *buf, size_t n)
{
	int64_t smp = co->row_size > 0 ? at / co->row_size : 0, rest = co->row_size > 0 ? at % co->row_size : 0;
	int64_t idx[KS_MAX_RANK];
	size_t k = 0;
	for (int d = co->rank_a - 1; d >= 1; d--) {
		idx[d] = co->shape_a[d] > 0 ? rest % co->shape_a[d] : 0;
		rest = co->shape_a[d] > 0 ? rest / co->shape_a[d] : 0;
	}
	k += (size_t)snprintf(buf + k, n - k, "[sample %lld", (long long)smp);
	for (int d = 1; d < co->rank_a && k < n; d++)
		k += (size_t)snprintf(buf + k, n - k, ", %lld", (long long)idx[d]);
	if (k < n)
		snprintf(buf + k, n - k, "]");
}

static void print_cmp_line(FILE *f, const ks_cmp *m)
{
	fprintf(f, "%lld of %lld values differ, max abs %.6g, max rel %.6g", (long long)m->n_changed,
	        (long long)m->count, m->max_abs, m->max_rel);
	if (m->nonfinite_new || m->nonfinite_gone)
		fprintf(f, ", non-finite: %lld new, %lld gone", (long long)m->nonfinite_new,
		        (long long)m->nonfinite_gone);
}

static void print_text(FILE *f, const ks_compare *c)
{
	char tb[96], sh[160];

	fprintf(f, "recorded: %s\n", c->label_a);
	fprintf(f, "compared: %s\n", c->label_b);
	const char *w = tri(c->same_weights, "same weights", "different weights", "weights unknown");
	const char *ar = tri(c->same_architecture, "same architecture", "different architecture",
	                     "architecture unknown");
	fprintf(f, "model: %s, %s%s\n", w, ar,
	        c->same_weights < 0 || c->same_architecture < 0 ? " (a digest was not recorded)" : "");
	fprintf(f, "tolerance: %s%s\n", ks_tol_str(&c->tol, tb, sizeof tb),
	        !c->tol_default ? "" : c->same_weights == 1 ? " (same weights)" : " (the default unless the weights are the same)");
	if (c->same_inputs)
		fprintf(f, "inputs: the same %lld sample%s\n", (long long)c->shared, c->shared == 1 ? "" : "s");
	else
		fprintf(f, "inputs: %lld shared sample%s compared (%lld recorded, %lld in the other)\n",
		        (long long)c->shared, c->shared == 1 ? "" : "s", (long long)c->samples_a,
		        (long long)c->samples_b);
	if (c->outputs_a != c->outputs_b)
		fprintf(f, "outputs: %d recorded, %d in the other\n", c->outputs_a, c->outputs_b);
	for (int o = 0; o < c->n_out; o++) {
		const ks_compare_output *co = &c->out[o];
		fprintf(f, "output %d (%s%s%s):", o, co->name, co->until ? ", until " : "", co->until ? co->until : "");
		if (o >= c->outputs_a || o >= c->outputs_b) {
			fprintf(f, " only in the %s\n", o >= c->outputs_a ? "other" : "recorded session");
			continue;
		}
		if (co->shape_differs) {
			char s2[160];
			fprintf(f, " shape %s recorded, %s now\n", ks_shape_str(co->shape_a, co->rank_a, sh, sizeof sh),
			        ks_shape_str(co->shape_b, co->rank_b, s2, sizeof s2));
			continue;
		}
		if (co->rows == 0) {
			fprintf(f, " no shared sample\n");
			continue;
		}
		if (!co->cmp.n_changed) {
			fprintf(f, " identical%s (%lld values)\n", c->tol.kind == KS_TOL_EXACT ? "" : " within tolerance",
			        (long long)co->cmp.count);
		} else {
			char at[200] = "";
			fputc(' ', f);
			print_cmp_line(f, &co->cmp);
			if (co->cmp.max_abs_at >= 0) {
				where_text(co, co->cmp.max_abs_at, at, sizeof at);
				fprintf(f, " at %s (%.7g recorded, %.7g now)", at, (double)co->cmp.max_a,
				        (double)co->cmp.max_b);
			}
			fputc('\n', f);
		}
		if (co->top1 >= 0)
			fprintf(f, "  top-1 agreement: %lld of %lld samples (%.1f%%)\n",
			        (long long)llround(co->top1 * (double)co->rows), (long long)co->rows, 100 * co->top1);
		if (co->perm) {
			fprintf(f, "  equal up to a class permutation: recorded class -> class now:");
			for (int64_t j = 0; j < co->row_size; j++)
				if (co->perm[j] != j)
					fprintf(f, " %lld->%d", (long long)j, co->perm[j]);
			fputc('\n', f);
		}
	}
	if (c->first_divergence) {
		fprintf(f, "first diverging layer: %s", c->first_divergence);
		if (c->first_divergence_output)
			fprintf(f, " (output %d)", c->first_divergence_output);
		fputs(": ", f);
		print_cmp_line(f, &c->first_divergence_cmp);
		fputc('\n', f);
	} else if (c->acts_compared) {
		fprintf(f, "activations: %d layer output%s compared, none diverges\n", c->acts_compared,
		        c->acts_compared == 1 ? "" : "s");
	}
	if (c->identical)
		fprintf(f, "result: same results%s\n",
		        c->same_inputs ? "" : " on the shared samples");
	else
		fprintf(f, "result: different\n");
}

json_t *ks_compare_json(const ks_compare *c)
{
	json_t *d = json_object(), *det = json_array(), *perm = json_null();
	double max_abs = 0, max_rel = 0, top_sum = 0;
	int64_t top_rows = 0;
	char tb[96];

	for (int o = 0; o < c->n_out; o++) {
		const ks_compare_output *co = &c->out[o];
		json_t *e = json_object();
		json_object_set_new(e, "index", json_integer(o));
		json_object_set_new(e, "name", json_string(co->name));
		json_object_set_new(e, "until", co->until ? json_string(co->until) : json_null());
		json_object_set_new(e, "present", json_boolean(o < c->outputs_a && o < c->outputs_b));
		json_object_set_new(e, "shape_differs", json_boolean(co->shape_differs));
		json_object_set_new(e, "samples", json_integer(co->rows));
		json_object_set_new(e, "values", json_integer(co->cmp.count));
		json_object_set_new(e, "differing", json_integer(co->cmp.n_changed));
		json_object_set_new(e, "max_abs", jnum(co->cmp.max_abs));
		json_object_set_new(e, "max_rel", jnum(co->cmp.max_rel));
		json_object_set_new(e, "top1_agreement", co->top1 >= 0 ? jnum(co->top1) : json_null());
		json_t *pm = json_null();
		if (co->perm) {
			pm = json_array();
			for (int64_t j = 0; j < co->row_size; j++)
				json_array_append_new(pm, json_integer(co->perm[j]));
			if (json_is_null(perm))
				perm = json_deep_copy(pm);
		}
		json_object_set_new(e, "permutation", pm);
		json_array_append_new(det, e);
		if (co->cmp.max_abs > max_abs)
			max_abs = co->cmp.max_abs;
		if (co->cmp.max_rel > max_rel)
			max_rel = co->cmp.max_rel;
		if (co->top1 >= 0) {
			top_sum += co->top1 * (double)co->rows;
			top_rows += co->rows;
		}
	}
	json_object_set_new(d, "recorded", json_string(c->label_a));
	json_object_set_new(d, "compared", json_string(c->label_b));
	json_object_set_new(d, "same_inputs", json_boolean(c->same_inputs));
	json_object_set_new(d, "samples_recorded", json_integer(c->samples_a));
	json_object_set_new(d, "samples_compared_with", json_integer(c->samples_b));
	json_object_set_new(d, "samples_shared", json_integer(c->shared));
	json_object_set_new(d, "same_weights", jtri(c->same_weights));
	json_object_set_new(d, "same_architecture", jtri(c->same_architecture));
	json_object_set_new(d, "tolerance", json_string(ks_tol_str(&c->tol, tb, sizeof tb)));
	json_t *outs = json_object();
	json_object_set_new(outs, "max_abs", jnum(max_abs));
	json_object_set_new(outs, "max_rel", jnum(max_rel));
	json_object_set_new(outs, "top1_agreement", top_rows ? jnum(top_sum / (double)top_rows) : json_null());
	json_object_set_new(outs, "permutation", perm);
	json_object_set_new(d, "outputs", outs);
	json_object_set_new(d, "details", det);
	json_object_set_new(d, "first_divergence",
	                    c->first_divergence ? json_string(c->first_divergence) : json_null());
	json_object_set_new(d, "activations_compared", json_integer(c->acts_compared));
	json_object_set_new(d, "identical", json_boolean(c->identical));
	return d;
}

void ks_compare_print(FILE *out, const ks_compare *c, bool json)
{
	if (!json) {
		print_text(out, c);
		return;
	}
	json_t *d = ks_compare_json(c);
	json_dumpf(d, out, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
	fputc('\n', out);
	json_decref(d);
}
