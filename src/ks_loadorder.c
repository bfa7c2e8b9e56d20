#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks_loadorder.h"
#include "ks_util.h"
#include "ks_varnames.h"

const char *ks_load_order_name(ks_load_order o)
{
	switch (o) {
	case KS_LOAD_BY_NAME: return "by-name";
	case KS_LOAD_TOPOLOGICAL: return "topological";
	case KS_LOAD_DEFAULT: break;
	}
	return "default";
}

/* Variables of L once built (a nested model: all of its layers'), -1 when
 * a class is not known. */
static int expected_count(const ks_layer *L)
{
	int sum = 0;

	if (!L->inner)
		return ks_varnames_count(L->class_name, L->config);
	for (int i = 0; i < L->inner->n_layers; i++) {
		int k = expected_count(&L->inner->layers[i]);
		if (k < 0)
			return -1;
		sum += k;
	}
	return sum;
}

static bool inner_bearing(const ks_model *in)
{
	for (int i = 0; in && i < in->n_layers; i++) {
		const ks_layer *L = &in->layers[i];
		if (ks_varnames_count(L->class_name, L->config) > 0 || inner_bearing(L->inner))
			return true;
	}
	return false;
}

static const ks_lo_group *group_named(const ks_lo_group *g, int n, const char *name, int *index)
{
	for (int i = 0; i < n; i++)
		if (strcmp(g[i].name, name) == 0) {
			if (index)
				*index = i;
			return &g[i];
		}
	return NULL;
}

/* Keras keeps the layers whose built weights are not empty. */
static bool bearing(const ks_layer *L, int expected, const ks_lo_group *g, int n)
{
	const ks_lo_group *same;

	if (expected > 0)
		return true;
	if (expected == 0)
		return false;
	if (L->inner && inner_bearing(L->inner))
		return true;
	same = group_named(g, n, L->name, NULL);
	return same && same->n_weights > 0;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

ks_loadmap *ks_loadmap_build(const ks_model *m, const ks_lo_group *groups, int n_groups,
                             bool keras1, ks_load_order used)
{
	ks_loadmap *lm = ks_xcalloc(1, sizeof *lm);
	int *expected = ks_xcalloc((size_t)(m->n_layers ? m->n_layers : 1), sizeof *expected);
	int *fidx = ks_xcalloc((size_t)(n_groups ? n_groups : 1), sizeof *fidx);

	lm->keras_default = KS_LOAD_TOPOLOGICAL;
	lm->used = used == KS_LOAD_DEFAULT ? lm->keras_default : used;
	lm->file_groups = ks_xcalloc((size_t)(n_groups ? n_groups : 1), sizeof *lm->file_groups);
	for (int i = 0; i < n_groups; i++)
		if (groups[i].n_weights > 0) {
			fidx[lm->n_file] = i;
			lm->file_groups[lm->n_file++] = ks_xstrdup(groups[i].name);
		}
	lm->pairs = ks_xcalloc((size_t)(m->n_layers ? m->n_layers : 1), sizeof *lm->pairs);
	for (int i = 0; i < m->n_layers; i++) {
		const ks_layer *L = &m->layers[i];
		ks_lo_pair *p;
		const ks_lo_group *same;
		int gi = -1;
		expected[i] = expected_count(L);
		if (!bearing(L, expected[i], groups, n_groups))
			continue;
		p = &lm->pairs[lm->n_pairs++];
		p->layer = ks_xstrdup(L->name);
		p->n_expected = keras1 ? -1 : expected[i];
		same = group_named(groups, n_groups, L->name, &gi);
		if (same) {
			p->by_name = ks_xstrdup(same->name);
			if (!lm->by_name_error && p->n_expected >= 0 && same->n_weights != p->n_expected)
				lm->by_name_error = ks_xasprintf(
					"Weight count mismatch for layer #%d (named %s). Layer expects %d "
					"weight(s). Received %d saved weight(s)", gi, L->name, p->n_expected,
					same->n_weights);
		}
		if (lm->n_model < lm->n_file) {
			const ks_lo_group *g = &groups[fidx[lm->n_model]];
			p->topological = ks_xstrdup(g->name);
			if (!lm->topological_error && p->n_expected >= 0 && g->n_weights != p->n_expected)
				lm->topological_error = ks_xasprintf(
					"Weight count mismatch for layer #%d (named %s in the current model, %s "
					"in the save file). Layer expects %d weight(s). Received %d saved "
					"weight(s)", lm->n_model, L->name, g->name, p->n_expected, g->n_weights);
		}
		lm->n_model++;
	}
	if (lm->n_model != lm->n_file) {
		/* Keras checks the counts before anything else. */
		free(lm->topological_error);
		lm->topological_error = ks_xasprintf(
			"Layer count mismatch when loading weights from file. Model expected %d layers, "
			"found %d saved layers.", lm->n_model, lm->n_file);
		for (int i = 0; i < lm->n_pairs; i++) {
			free(lm->pairs[i].topological);
			lm->pairs[i].topological = NULL;
		}
	}
	for (int i = 0; i < lm->n_pairs; i++) {
		ks_lo_pair *p = &lm->pairs[i];
		p->differs = !same_str(p->by_name, p->topological);
		lm->n_differ += p->differs;
	}
	free(expected);
	free(fidx);
	return lm;
}

void ks_loadmap_free(ks_loadmap *lm)
{
	if (!lm)
		return;
	for (int i = 0; i < lm->n_pairs; i++) {
		free(lm->pairs[i].layer);
		free(lm->pairs[i].by_name);
		free(lm->pairs[i].topological);
	}
	free(lm->pairs);
	for (int i = 0; i < lm->n_file; i++)
		free(lm->file_groups[i]);
	free(lm->file_groups);
	free(lm->topological_error);
	free(lm->by_name_error);
	free(lm);
}

const ks_lo_pair *ks_loadmap_find(const ks_loadmap *lm, const char *layer)
{
	for (int i = 0; lm && i < lm->n_pairs; i++)
		if (strcmp(lm->pairs[i].layer, layer) == 0)
			return &lm->pairs[i];
	return NULL;
}

const char *ks_loadmap_source(const ks_loadmap *lm, const char *layer)
{
	const ks_lo_pair *p = ks_loadmap_find(lm, layer);

	if (!p)
		return NULL;
	return lm->used == KS_LOAD_BY_NAME ? p->by_name : p->topological;
}

char *ks_loadmap_note(const ks_loadmap *lm, const char *path)
{
	char buf[512];
	size_t k = 0;
	int shown = 0;

	if (!lm || lm->n_differ == 0)
		return NULL;
	buf[0] = '\0';
	for (int i = 0; i < lm->n_pairs && k < sizeof buf; i++) {
		const ks_lo_pair *p = &lm->pairs[i];
		if (!p->differs)
			continue;
		if (shown == 3) {
			k += (size_t)snprintf(buf + k, sizeof buf - k, ", ...");
			break;
		}
		k += (size_t)snprintf(buf + k, sizeof buf - k, "%s%s <- %s (by name: %s)",
		                      shown ? ", " : "", p->layer,
		                      p->topological ? p->topological : "nothing",
		                      p->by_name ? p->by_name : "nothing");
		shown++;
	}
	if (lm->topological_error)
		return ks_xasprintf("%s: the load order matters: Keras' default topological "
		                    "load_weights fails (%s); loaded %s", path, lm->topological_error,
		                    ks_load_order_name(lm->used));
	return ks_xasprintf("%s: the load order matters for %d layer%s: topologically %s; loaded %s "
	                    "(Keras' load_weights default: topological; --load-order chooses)", path,
	                    lm->n_differ, lm->n_differ == 1 ? "" : "s", buf,
	                    ks_load_order_name(lm->used));
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *ks_loadmap_json(const ks_loadmap *lm)
{
	json_t *o, *pairs, *groups;

	if (!lm)
		return json_null();
	pairs = json_array();
	for (int i = 0; i < lm->n_pairs; i++) {
		const ks_lo_pair *p = &lm->pairs[i];
		json_array_append_new(pairs, json_pack("{s:s, s:o, s:o, s:b}", "layer", p->layer,
		                                       "by_name", str_or_null(p->by_name), "topological",
		                                       str_or_null(p->topological), "differs", p->differs));
	}
	groups = json_array();
	for (int i = 0; i < lm->n_file; i++)
		json_array_append_new(groups, json_string(lm->file_groups[i]));
	o = json_pack("{s:s, s:s, s:i, s:o, s:o, s:o, s:o}", "used", ks_load_order_name(lm->used),
	              "keras_default", ks_load_order_name(lm->keras_default), "n_differ", lm->n_differ,
	              "topological_error", str_or_null(lm->topological_error), "by_name_error",
	              str_or_null(lm->by_name_error), "file_groups", groups, "pairs", pairs);
	return o;
}
