#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ks_esc.h"
#include "ks_modelstats.h"
#include "ks_report.h"
#include "ks_util.h"

/* ---- collecting the tensors ---- */

static int add_group(ks_model_stats *s, const char *name, const char *cls)
{
	s->groups = ks_xrealloc(s->groups, sizeof *s->groups * (size_t)(s->n_groups + 1));
	ks_stats_group *g = &s->groups[s->n_groups];
	memset(g, 0, sizeof *g);
	g->name = ks_xstrdup(name);
	g->class_name = cls;
	ks_stats_init(&g->st);
	return s->n_groups++;
}

static void add_tensor(ks_model_stats *s, int group, char *name, const ks_weight *w)
{
	s->t = ks_xrealloc(s->t, sizeof *s->t * (size_t)(s->n + 1));
	ks_tensor_stats *t = &s->t[s->n++];
	t->name = name;
	t->w = w;
	t->group = group;
	ks_stats_init(&t->st);
}

/* A layer's weights, then those of the layers nested in it, all in the
 * group of the top-level layer. */
static void collect_layer(ks_model_stats *s, int group, const ks_layer *L, const char *prefix,
                          int depth)
{
	for (int k = 0; k < L->n_weights; k++)
		add_tensor(s, group, ks_xasprintf("%s/%s", prefix, L->weights[k].name), &L->weights[k]);
	for (int i = 0; L->inner && depth < 64 && i < L->inner->n_layers; i++) {
		char *p = ks_xasprintf("%s/%s", prefix, L->inner->layers[i].name);
		collect_layer(s, group, &L->inner->layers[i], p, depth + 1);
		free(p);
	}
}

static int64_t tensor_bytes(const ks_weight *w)
{
	int64_t n;
	size_t es = ks_dtype_size(w->dtype);
	if (!ks_numel(w->shape, w->rank, &n))
		return 0;
	return n * (int64_t)(es ? es : 4);
}

/* ---- one pass ---- */

typedef struct walk_ctx {
	ks_stats *st;
	const ks_model_stats_opts *o;
	int64_t done, total;
	bool stopped;
} walk_ctx;

static int on_block(const float *v, size_t n, void *ctx, ks_err *err)
{
	walk_ctx *c = ctx;
	ks_stats_add(c->st, v, n);
	c->done += (int64_t)n * 4;
	if (c->o->progress && c->o->progress(c->o->progress_ctx, c->done, c->total)) {
		c->stopped = true;
		return ks_fail(err, "stopped");
	}
	return 0;
}

static bool numeric(const ks_weight *w)
{
	return w->dtype != KS_DT_STRING && w->dtype != KS_DT_OTHER && w->dtype != KS_DT_UNKNOWN;
}

int ks_model_stats_compute(const ks_model *m, const ks_model_stats_opts *opts, ks_model_stats *s,
                           ks_err *err)
{
	static const ks_model_stats_opts none = {0};
	const ks_model_stats_opts *o = opts ? opts : &none;
	int opt_group = -1;

	memset(s, 0, sizeof *s);
	ks_stats_init(&s->total);
	ks_stats_init(&s->optimizer);
	for (int i = 0; i < m->n_layers; i++) {
		const ks_layer *L = &m->layers[i];
		if (!L->params && !L->n_weights)
			continue;
		collect_layer(s, add_group(s, L->name, L->class_name), L, L->name, 0);
	}
	if (o->optimizer && m->n_opt_weights) {
		opt_group = add_group(s, "(optimizer)", NULL);
		for (int i = 0; i < m->n_opt_weights; i++)
			add_tensor(s, opt_group, ks_xstrdup(m->opt_weights[i].stored_name
			                                        ? m->opt_weights[i].stored_name
			                                        : m->opt_weights[i].name),
			           &m->opt_weights[i]);
	}
	/* progress counts float32 values read, 4 bytes each whatever the dtype */
	walk_ctx c = {NULL, o, 0, 0, false};
	for (int i = 0; i < s->n; i++) {
		int64_t n;
		if (numeric(s->t[i].w) && ks_numel(s->t[i].w->shape, s->t[i].w->rank, &n))
			c.total += 4 * n;
	}
	for (int i = 0; i < s->n; i++) {
		ks_tensor_stats *t = &s->t[i];
		ks_stats_group *g = &s->groups[t->group];
		g->bytes += tensor_bytes(t->w);
		if (!numeric(t->w))
			continue;
		c.st = &t->st;
		if (ks_weight_walk(m, t->w, NULL, NULL, 0, on_block, &c, err) < 0) {
			if (c.stopped) {
				s->stopped = true;
				ks_err_clear(err);
				return 0;
			}
			ks_err_prefix(err, "%s", t->name);
			return -1;
		}
		s->bytes += tensor_bytes(t->w);
		ks_stats_merge(&g->st, &t->st);
		ks_stats_merge(t->group == opt_group ? &s->optimizer : &s->total, &t->st);
	}
	return 0;
}

void ks_model_stats_free(ks_model_stats *s)
{
	for (int i = 0; i < s->n; i++)
		free(s->t[i].name);
	for (int i = 0; i < s->n_groups; i++)
		free(s->groups[i].name);
	free(s->t);
	free(s->groups);
	memset(s, 0, sizeof *s);
}

/* ---- printing ---- */

static json_t *num(double x)
{
	return isfinite(x) ? json_real(x) : json_null();
}

static json_t *stats_json(const ks_stats *st)
{
	json_t *o = json_object();
	json_object_set_new(o, "count", json_integer(st->count));
	json_object_set_new(o, "finite", json_integer(st->finite));
	json_object_set_new(o, "zeros", json_integer(st->zeros));
	json_object_set_new(o, "nan", json_integer(st->nans));
	json_object_set_new(o, "posinf", json_integer(st->pos_infs));
	json_object_set_new(o, "neginf", json_integer(st->neg_infs));
	json_object_set_new(o, "min", st->finite ? num(st->min) : json_null());
	json_object_set_new(o, "max", st->finite ? num(st->max) : json_null());
	json_object_set_new(o, "mean", st->finite ? num(st->mean) : json_null());
	json_object_set_new(o, "std", st->finite ? num(ks_stats_std(st)) : json_null());
	return o;
}

static void print_json(FILE *out, const ks_model *m, const ks_model_stats *s)
{
	json_t *root = json_object(), *ts = json_array(), *ls = json_array();
	json_object_set_new(root, "file", json_string(m->path ? m->path : ""));
	for (int i = 0; i < s->n; i++) {
		const ks_tensor_stats *t = &s->t[i];
		json_t *o = stats_json(&t->st), *sh = json_array();
		for (int k = 0; k < t->w->rank; k++)
			json_array_append_new(sh, json_integer(t->w->shape[k]));
		json_object_set_new(o, "name", json_string(t->name));
		json_object_set_new(o, "layer", json_string(s->groups[t->group].name));
		json_object_set_new(o, "shape", sh);
		json_object_set_new(o, "dtype", json_string(ks_dtype_name(t->w->dtype)));
		json_array_append_new(ts, o);
	}
	for (int i = 0; i < s->n_groups; i++) {
		const ks_stats_group *g = &s->groups[i];
		json_t *o = stats_json(&g->st);
		json_object_set_new(o, "name", json_string(g->name));
		json_object_set_new(o, "class_name", g->class_name ? json_string(g->class_name) : json_null());
		json_object_set_new(o, "bytes", json_integer(g->bytes));
		json_array_append_new(ls, o);
	}
	json_object_set_new(root, "tensors", ts);
	json_object_set_new(root, "layers", ls);
	json_object_set_new(root, "total", stats_json(&s->total));
	json_object_set_new(root, "optimizer", s->optimizer.count ? stats_json(&s->optimizer) : json_null());
	json_object_set_new(root, "complete", json_boolean(!s->stopped));
	json_dumpf(root, out, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
	fputc('\n', out);
	json_decref(root);
}

static void row(FILE *out, ks_esc_pool *pool, const char *name, int wname, const char *shape,
                const ks_stats *st)
{
	char cnt[40], z[40];
	fprintf(out, "%-*s %-18s %14s", wname, ks_esc_s(pool, name), shape,
	        ks_report_count(st->count, cnt, sizeof cnt));
	if (st->finite)
		fprintf(out, " %11.4g %11.4g %11.4g %11.4g", st->min, st->max, st->mean, ks_stats_std(st));
	else
		fprintf(out, " %11s %11s %11s %11s", "-", "-", "-", "-");
	fprintf(out, " %12s", ks_report_count(st->zeros, z, sizeof z));
	if (st->nans || st->pos_infs || st->neg_infs)
		fprintf(out, "  NaN %lld, +Inf %lld, -Inf %lld", (long long)st->nans,
		        (long long)st->pos_infs, (long long)st->neg_infs);
	fputc('\n', out);
}

static void print_text(FILE *out, const ks_model_stats *s)
{
	ks_esc_pool pool = {0};
	int wname = 20;
	char sh[160], b[32];

	for (int i = 0; i < s->n; i++)
		if ((int)strlen(s->t[i].name) + 2 > wname)
			wname = (int)strlen(s->t[i].name) + 2;
	if (wname > 60)
		wname = 60;
	fprintf(out, "%-*s %-18s %14s %11s %11s %11s %11s %12s\n", wname, "tensor", "shape", "values",
	        "min", "max", "mean", "std", "zeros");
	for (int g = 0; g < s->n_groups; g++) {
		int in_group = 0;
		for (int i = 0; i < s->n; i++) {
			const ks_tensor_stats *t = &s->t[i];
			if (t->group != g)
				continue;
			in_group++;
			row(out, &pool, t->name, wname, ks_shape_str(t->w->shape, t->w->rank, sh, sizeof sh),
			    &t->st);
		}
		if (in_group > 1) {
			char *label = ks_xasprintf("  %s (all)", s->groups[g].name);
			row(out, &pool, label, wname, "", &s->groups[g].st);
			free(label);
		}
	}
	fputc('\n', out);
	row(out, &pool, "all weights", wname, ks_report_bytes(s->bytes, b, sizeof b), &s->total);
	if (s->optimizer.count)
		row(out, &pool, "optimizer state", wname, "", &s->optimizer);
	if (s->stopped)
		fputs("(stopped before the end: the totals cover the tensors read)\n", out);
	ks_esc_pool_free(&pool);
}

void ks_model_stats_print(FILE *out, const ks_model *m, const ks_model_stats *s, bool json)
{
	if (json)
		print_json(out, m, s);
	else
		print_text(out, s);
}
