/* ui_view_detail: the detail pane for the layer selected in the layer pane.
 *
 * Sections: the layer (class, trainable, calls), after a predict its
 * activation, inbound connections, weights (shape, dtype, statistics for
 * weights small enough to read at once), config (values that differ from the
 * usual Keras defaults first, the defaults after, dimmed), and where each
 * weight lives in the file (HDF5 path, dtype, layout, filters, bytes).
 * Enter on a weight or activation row opens the tensor view.
 *
 * Default detection is a table of config keys whose usual Keras default is
 * known; it is a presentation aid only (a wrong guess moves a line, nothing
 * else).
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ks_file.h"
#include "ks_guess.h"
#include "ks_loadorder.h"
#include "ks_stats.h"
#include "ks_util.h"
#include "ui.h"
#include "ui_display.h"

#define TAG_WEIGHT 1
#define TAG_ACT 2

/* Weights up to this many values get statistics as soon as they are shown. */
#define AUTO_STATS_MAX (1 << 18)

static const struct { const char *key, *json; } defaults[] = {
	{"trainable", "true"}, {"dtype", "\"float32\""}, {"activation", "\"linear\""},
	{"use_bias", "true"}, {"kernel_initializer", "glorotuniform"},
	{"bias_initializer", "zeros"}, {"padding", "\"valid\""}, {"strides", "1"},
	{"data_format", "\"channels_last\""}, {"dilation_rate", "1"}, {"groups", "1"},
	{"momentum", "0.99"}, {"epsilon", "0.001"}, {"center", "true"}, {"scale", "true"},
	{"beta_initializer", "zeros"}, {"gamma_initializer", "ones"},
	{"moving_mean_initializer", "zeros"}, {"moving_variance_initializer", "ones"},
	{"axis", "-1"}, {"recurrent_initializer", "orthogonal"},
	{"recurrent_activation", "\"sigmoid\""}, {"unit_forget_bias", "true"},
	{"return_sequences", "false"}, {"return_state", "false"}, {"go_backwards", "false"},
	{"stateful", "false"}, {"unroll", "false"}, {"dropout", "0.0"},
	{"recurrent_dropout", "0.0"}, {"depth_multiplier", "1"}, {"reset_after", "true"},
	{"time_major", "false"}, {"sparse", "false"}, {"ragged", "false"},
	{"synchronized", "false"}, {"implementation", "2"}, {"depthwise_initializer", "glorotuniform"},
	{"pointwise_initializer", "glorotuniform"}, {"embeddings_initializer", "uniform"},
	{"mask_zero", "false"}, {"renorm", "false"}, {"fused", "null"},
};

/* "GlorotUniform" / "glorot_uniform" / {"class_name": "GlorotUniform"} -> "glorotuniform". */
static void norm_name(const json_t *v, char *buf, size_t size)
{
	const char *s = NULL;
	if (json_is_string(v))
		s = json_string_value(v);
	else if (json_is_object(v) && json_is_string(json_object_get(v, "class_name")))
		s = json_string_value(json_object_get(v, "class_name"));
	size_t k = 0;
	for (; s && *s && k + 1 < size; s++)
		if (*s != '_')
			buf[k++] = (char)tolower((unsigned char)*s);
	buf[k] = '\0';
}

static bool is_default(const char *key, const json_t *v)
{
	if (json_is_null(v))
		return true;
	if (ks_str_endswith(key, "_regularizer") || ks_str_endswith(key, "_constraint"))
		return json_is_null(v);
	if (strcmp(key, "dtype") == 0 && json_is_object(v)) {
		/* Keras 3 DTypePolicy {"config": {"name": "float32"}} */
		const json_t *c = json_object_get(v, "config");
		const json_t *n = c ? json_object_get(c, "name") : NULL;
		return json_is_string(n) && strcmp(json_string_value(n), "float32") == 0;
	}
	for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
		if (strcmp(defaults[i].key, key) != 0)
			continue;
		const char *d = defaults[i].json;
		if (d[0] != '"' && isalpha((unsigned char)d[0]) && strcmp(d, "true") && strcmp(d, "false") &&
		    strcmp(d, "null")) {
			char n[64];
			norm_name(v, n, sizeof n);
			return strcmp(n, d) == 0;
		}
		/* Lists of equal ints read as the scalar ([1, 1] == 1). */
		if (json_is_array(v) && json_array_size(v) > 0) {
			size_t j;
			json_t *e, *first = json_array_get(v, 0);
			json_array_foreach(v, j, e)
				if (!json_equal(e, first))
					return false;
			v = first;
		}
		char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		bool eq = s && strcmp(s, d) == 0;
		if (s && !eq && json_is_real(v)) {
			double dv = atof(d);
			eq = json_real_value(v) == dv;
		}
		free(s);
		return eq;
	}
	return false;
}

/* Short text of a config value: initializers as Name(k=v), others as JSON. */
static char *value_text(const json_t *v)
{
	if (json_is_object(v) && json_is_string(json_object_get(v, "class_name"))) {
		const json_t *cfg = json_object_get(v, "config");
		char *inner = cfg && json_object_size(cfg)
		                  ? json_dumps(cfg, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
		char *s = ks_xasprintf("%s%s%s%s", json_string_value(json_object_get(v, "class_name")),
		                       inner ? "(" : "", inner ? inner : "", inner ? ")" : "");
		free(inner);
		return s;
	}
	/* 10 digits: 0.99 rather than 0.98999999999999999. */
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(10));
	return s ? s : ks_xstrdup("?");
}

static void add_config(ui_list *l, const json_t *cfg)
{
	if (!json_is_object(cfg)) {
		ui_list_add(l, UI_R_DIM, 0, 0, NULL, "  (no config)");
		return;
	}
	const char *key;
	json_t *v;
	int shown = 0;
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1 && shown < (int)json_object_size(cfg) - 1)
			ui_list_add(l, UI_R_DIM, 0, 0, NULL, "  defaults:");
		json_object_foreach((json_t *)cfg, key, v) {
			if (strcmp(key, "name") == 0)
				continue;
			bool def = is_default(key, v);
			if (def != (pass == 1))
				continue;
			/* A nested model's layer list is the tree itself: count only. */
			if (strcmp(key, "layers") == 0 && json_is_array(v)) {
				ui_list_add(l, UI_R_NORMAL, 0, 0, NULL, "  layers: %zu (shown in the layer pane)",
				            json_array_size(v));
				shown++;
				continue;
			}
			char *t = value_text(v);
			if (strlen(t) > 300)
				strcpy(t + 297, "...");
			ui_list_add(l, def ? UI_R_DIM : UI_R_NORMAL, 0, 0, NULL, "  %s: %s", key, t);
			free(t);
			shown++;
		}
	}
}

static void add_storage(ui_list *l, const ks_model *m, const ks_weight *w)
{
	ks_storage st;
	ks_err err;
	char info[512];
	int k;

	ui_list_add(l, UI_R_NORMAL, 0, 0, NULL, "  %s: %s", w->name, w->h5_path ? w->h5_path : "?");
	if (w->mem) {
		ui_list_add(l, UI_R_DIM, 0, 0, NULL, "      held in memory (not from the file)");
		return;
	}
	if (!ks_file_has_h5(m) || !w->h5_path)
		return;
	if (ks_file_storage(m, w, &st, &err) < 0) {
		ui_list_add(l, UI_R_ERROR, 0, 0, NULL, "      cannot open the dataset");
		return;
	}
	k = snprintf(info, sizeof info, "      %s, %s", ks_dtype_name(w->dtype), ks_layout_name(st.layout));
	if (st.layout == KS_LAYOUT_CHUNKED) {
		k += snprintf(info + k, sizeof info - (size_t)k, " (");
		for (int i = 0; i < st.chunk_rank; i++)
			k += snprintf(info + k, sizeof info - (size_t)k, "%s%lld", i ? ", " : "",
			              (long long)st.chunk[i]);
		k += snprintf(info + k, sizeof info - (size_t)k, ")");
	}
	for (int i = 0; i < st.n_filters; i++)
		k += snprintf(info + k, sizeof info - (size_t)k, ", %s", st.filters[i]);
	snprintf(info + k, sizeof info - (size_t)k, ", %lld bytes stored", (long long)st.stored_bytes);
	ui_list_add(l, UI_R_DIM, 0, 0, NULL, "%s", info);
}

static void stats_text(const ks_stats *st, char *buf, size_t size)
{
	if (st->finite == 0) {
		snprintf(buf, size, "no finite values");
		return;
	}
	int k = snprintf(buf, size, "min %.4g  max %.4g  mean %.4g  std %.4g", st->min, st->max,
	                 st->mean, ks_stats_std(st));
	if (st->nans || st->pos_infs || st->neg_infs)
		snprintf(buf + k, size - (size_t)k, "  nan %lld inf %lld", (long long)st->nans,
		         (long long)(st->pos_infs + st->neg_infs));
}

void ui_detail_build(ui *u)
{
	ui_list *l = &u->detail.list;
	ui_list_clear(l);
	if (u->plain) {
		ui_tree_detail(u, &u->layers.list, l);
		return;
	}
	const ks_model *m = NULL;
	const ks_layer *L = ui_layers_selected(u, &m);
	if (!L) {
		ui_list_add(l, UI_R_DIM, 0, 0, NULL, "(no layer selected)");
		return;
	}
	const char *path = ui_layers_selected_path(u);
	char cls[160];
	ks_guess g;
	ui_list_add(l, UI_R_HEADER, 0, 0, NULL, "%s (%s)", path ? path : L->name,
	            ks_layer_class_label(L, cls, sizeof cls));
	if (ks_guess_class(L, &g))
		ui_list_add(l, UI_R_DIM, 0, 0, NULL, "  class guessed from the weights (%s): no architecture",
		            g.why);
	const ks_lo_pair *lo = m == u->model ? ks_loadmap_find(m->loadmap, L->name) : NULL;
	if (lo) {
		const char *src = ks_loadmap_source(m->loadmap, L->name);
		ui_list_add(l, lo->differs ? UI_R_NORMAL : UI_R_DIM, 0, 0, NULL,
		            "  %sweights from file group %s (loaded %s)", lo->differs ? "* " : "",
		            src ? src : "none", ks_load_order_name(m->loadmap->used));
		if (lo->differs)
			ui_list_add(l, UI_R_NORMAL, 0, 0, NULL, "    topologically: %s; by name: %s",
			            lo->topological ? lo->topological : "none",
			            lo->by_name ? lo->by_name : "none");
	}
	ui_list_add(l, UI_R_NORMAL, 0, 0, NULL, "  params %lld   trainable %s   calls %d%s",
	            (long long)L->params, L->trainable ? "yes" : "no", L->n_nodes,
	            L->n_nodes > 1 ? " (shared)" : "");
	if (ui_acts_have(u)) {
		ui_tsrc src;
		ui_list_add(l, UI_R_HEADER, 0, 0, NULL, "Activation (last predict)");
		if (path && ui_acts_source(u, path, &src)) {
			char sh[128];
			ks_shape_str(src.shape, src.rank, sh, sizeof sh);
			ui_list_add(l, UI_R_NORMAL, TAG_ACT, 0, L, "  output %s (Enter opens)", sh);
		} else {
			ui_list_add(l, UI_R_DIM, 0, 0, NULL, "  not computed for this layer");
		}
	}
	if (L->inner)
		ui_list_add(l, UI_R_NORMAL, 0, 0, NULL, "  nested %s with %d layers (Enter expands)",
		            L->inner->class_name ? L->inner->class_name : "model", L->inner->n_layers);
	if (L->n_nodes > 0 && L->nodes[0].n_in > 0) {
		ui_list_add(l, UI_R_HEADER, 0, 0, NULL, "Inbound");
		for (int n = 0; n < L->n_nodes; n++) {
			char buf[512];
			size_t len = 0;
			buf[0] = '\0';
			for (int k = 0; k < L->nodes[n].n_in; k++) {
				const ks_ref *r = &L->nodes[n].in[k];
				int w = snprintf(buf + len, sizeof buf - len, "%s%s[%d][%d]", k ? ", " : "",
				                 r->layer >= 0 && r->layer < m->n_layers ? m->layers[r->layer].name
				                                                        : "?",
				                 r->node, r->tensor);
				if (w < 0 || (size_t)w >= sizeof buf - len)
					break;
				len += (size_t)w;
			}
			ui_list_add(l, UI_R_NORMAL, 0, 0, NULL, "  call %d: %s", n, buf);
		}
	}
	if (L->n_weights > 0) {
		ui_list_add(l, UI_R_HEADER, 0, 0, NULL, "Weights (Enter opens)");
		int wn = 4, ws = 4;
		for (int i = 0; i < L->n_weights; i++) {
			char sh[128];
			ks_shape_str(L->weights[i].shape, L->weights[i].rank, sh, sizeof sh);
			if ((int)strlen(L->weights[i].name) > wn)
				wn = (int)strlen(L->weights[i].name);
			if ((int)strlen(sh) > ws)
				ws = (int)strlen(sh);
		}
		for (int i = 0; i < L->n_weights; i++) {
			const ks_weight *w = &L->weights[i];
			char sh[128], st[200] = "";
			ks_shape_str(w->shape, w->rank, sh, sizeof sh);
			int64_t n = 0;
			if (ks_numel(w->shape, w->rank, &n) && n <= AUTO_STATS_MAX && n > 0) {
				ks_stats s;
				ks_err err;
				if (ks_weight_stats(m, w, NULL, NULL, &s, NULL, 0, &err) == 0)
					stats_text(&s, st, sizeof st);
				else
					snprintf(st, sizeof st, "unreadable: %s", err.msg);
			} else if (n > 0) {
				snprintf(st, sizeof st, "%lld values (Enter for statistics)", (long long)n);
			}
			ui_list_add(l, UI_R_NORMAL, TAG_WEIGHT, i, w, "  %-*s  %-*s  %s%s", wn, w->name, ws, sh,
			            ks_dtype_name(w->dtype), w->trainable ? "" : "  non-trainable");
			if (st[0])
				ui_list_add(l, UI_R_DIM, TAG_WEIGHT, i, w, "    %s", st);
		}
	}
	ui_list_add(l, UI_R_HEADER, 0, 0, NULL, "Config");
	add_config(l, L->config);
	if (L->n_weights > 0) {
		bool zip = u->model->format == KS_FMT_KERAS3 || u->model->format == KS_FMT_KERAS2_ZIP;
		ui_list_add(l, UI_R_HEADER, 0, 0, NULL, "Storage%s",
		            zip ? " (inside the archive's model.weights.h5)" : "");
		for (int i = 0; i < L->n_weights; i++)
			add_storage(l, m, &L->weights[i]);
	}
	/* Start on the first openable row when there is one. */
	for (int i = 0; i < l->n; i++)
		if (l->v[i].tag) {
			l->sel = i;
			break;
		}
}

bool ui_detail_request(ui *u, enum ui_request req)
{
	ui_list *l = &u->detail.list;
	if (req == UI_REQ_ENTER) {
		if (l->sel < 0 || l->sel >= l->n)
			return true;
		const ui_line *ln = &l->v[l->sel];
		const ks_model *m = NULL;
		const ks_layer *L = ui_layers_selected(u, &m);
		if (ln->tag == TAG_WEIGHT && L) {
			ui_tsrc src;
			ui_tsrc_weight(&src, m, L, ln->ptr);
			ui_tensor_open(u, &src);
		} else if (ln->tag == TAG_ACT && L) {
			ui_tsrc src;
			const char *path = ui_layers_selected_path(u);
			if (path && ui_acts_source(u, path, &src))
				ui_tensor_open(u, &src);
		}
		return true;
	}
	if (req == UI_REQ_MOVE_LEFT && l->left == 0) {
		u->focus = 0;
		return true;
	}
	return ui_list_request(l, req);
}
