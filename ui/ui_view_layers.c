/* ui_view_layers: the layer pane, the model as a tree in Keras order.
 *
 * One row per layer of model.layers; nested models (a Functional or
 * Sequential used as a layer) carry a marker and expand in place. Each row
 * shows class, output shape (ks_infer_layer_shapes: configs only, no weight
 * values) and parameter count; shared layers (several call sites) are marked
 * "xN", and for functional models the inbound layers follow an arrow.
 * Non-Keras HDF5 files show their HDF5 tree here instead (ui_view_tree.c).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks_guess.h"
#include "ks_loadorder.h"
#include "ks_plan.h"
#include "ks_report.h"
#include "ks_util.h"
#include "ui.h"
#include "ui_display.h"

#define TAG_LAYER 1

typedef struct lrow {
	const ks_model *m;
	int li;              /* index in m->layers */
	int depth;
	char path[512];      /* "outer/inner" for nested layers */
	char prefix[128];    /* tree glyphs */
	ks_shape shape;
} lrow;

typedef struct lstate {
	int core_width;          /* columns up to the Params column (no inbound) */
	const ks_model **open;   /* expanded nested models */
	int n_open;
	lrow *rows;
	int n_rows, cap_rows;
} lstate;

static lstate *state(ui *u)
{
	if (!u->expanded)
		u->expanded = ks_xcalloc(1, sizeof(lstate));
	return u->expanded;
}

static bool is_open(lstate *s, const ks_model *m)
{
	for (int i = 0; i < s->n_open; i++)
		if (s->open[i] == m)
			return true;
	return false;
}

static void set_open(lstate *s, const ks_model *m, bool open)
{
	for (int i = 0; i < s->n_open; i++)
		if (s->open[i] == m) {
			if (!open)
				s->open[i] = s->open[--s->n_open];
			return;
		}
	if (open) {
		s->open = ks_xrealloc(s->open, (size_t)(s->n_open + 1) * sizeof *s->open);
		s->open[s->n_open++] = m;
	}
}

static bool is_sequential(const ks_model *m)
{
	return m->class_name && strcmp(m->class_name, "Sequential") == 0;
}

static bool order_differs(const ui *u, const lrow *r)
{
	const ks_lo_pair *p = r->depth == 0 ? ks_loadmap_find(u->model->loadmap,
	                                                      r->m->layers[r->li].name) : NULL;
	return p && p->differs;
}

static void add_rows(ui *u, lstate *s, const ks_model *m, int depth, const char *parent,
                     const char *prefix, const ks_shape *known)
{
	ks_shape *shapes = NULL;
	if (known) {
		shapes = (ks_shape *)known;
	} else {
		shapes = ks_xcalloc((size_t)(m->n_layers ? m->n_layers : 1), sizeof *shapes);
		ks_infer_layer_shapes(m, shapes);
	}
	const ui_glyphs *g = ui_glyph();
	for (int i = 0; i < m->n_layers; i++) {
		if (s->n_rows == s->cap_rows) {
			s->cap_rows = s->cap_rows ? s->cap_rows * 2 : 64;
			s->rows = ks_xrealloc(s->rows, (size_t)s->cap_rows * sizeof *s->rows);
		}
		lrow *r = &s->rows[s->n_rows++];
		memset(r, 0, sizeof *r);
		r->m = m;
		r->li = i;
		r->depth = depth;
		r->shape = shapes[i];
		const ks_layer *L = &m->layers[i];
		if (parent)
			snprintf(r->path, sizeof r->path, "%s/%s", parent, L->name);
		else
			snprintf(r->path, sizeof r->path, "%s", L->name);
		bool last = i == m->n_layers - 1;
		if (depth > 0)
			snprintf(r->prefix, sizeof r->prefix, "%s%s", prefix, last ? g->ell : g->tee);
		if (L->inner && is_open(s, L->inner)) {
			char sub[128];
			snprintf(sub, sizeof sub, "%s%s", depth > 0 ? prefix : "",
			         depth > 0 ? (last ? g->space : g->vline) : "");
			char path[512];
			snprintf(path, sizeof path, "%s", r->path);
			add_rows(u, s, L->inner, depth + 1, path, sub, NULL);
		}
	}
	if (!known)
		free(shapes);
}

/* Appends s padded with spaces to width columns (cut if longer). */
static void pad(char *dst, size_t size, const char *s, int width)
{
	size_t len = strlen(dst);
	size_t fit = ui_strfit(s, width);
	int w = 0;
	if (len + fit + 1 < size) {
		memcpy(dst + len, s, fit);
		len += fit;
		dst[len] = '\0';
	}
	char tmp[512];
	snprintf(tmp, sizeof tmp, "%.*s", (int)fit, s);
	w = ui_strwidth(tmp);
	while (w++ < width && len + 2 < size)
		dst[len++] = ' ';
	dst[len] = '\0';
}

static void inbound_text(const ks_model *m, const ks_layer *L, char *buf, size_t size)
{
	buf[0] = '\0';
	size_t len = 0;
	for (int n = 0; n < L->n_nodes; n++)
		for (int k = 0; k < L->nodes[n].n_in; k++) {
			const ks_ref *r = &L->nodes[n].in[k];
			const char *name = r->layer >= 0 && r->layer < m->n_layers
			                       ? m->layers[r->layer].name : "?";
			/* A shared producer is named once. */
			bool seen = false;
			for (int n2 = 0; n2 <= n && !seen; n2++)
				for (int k2 = 0; k2 < (n2 < n ? L->nodes[n2].n_in : k); k2++)
					if (L->nodes[n2].in[k2].layer == r->layer) {
						seen = true;
						break;
					}
			if (seen)
				continue;
			int w = snprintf(buf + len, size - len, "%s%s", len ? ", " : "", name);
			if (w < 0 || (size_t)w >= size - len)
				return;
			len += (size_t)w;
		}
}

void ui_layers_build(ui *u)
{
	ui_list *l = &u->layers.list;
	int old_sel = l->sel, old_top = l->top;
	const ks_layer *old = NULL;
	lstate *s = state(u);
	if (old_sel >= 0 && old_sel < l->n && l->v[old_sel].tag == TAG_LAYER)
		old = l->v[old_sel].ptr;
	if (u->plain)
		ui_tree_clear(l);
	else
		ui_list_clear(l);
	s->n_rows = 0;
	if (u->plain) {
		ks_err err;
		if (ui_tree_fill(u, l, &err) < 0)
			ui_error(u, "%s", err.msg);
		ui_list_select(l, old_sel > 0 ? old_sel : 1);
		return;
	}
	add_rows(u, s, u->model, 0, NULL, "", u->shapes);

	/* Column widths over the visible rows. */
	int wname = 5, wclass = 5, wshape = 12;
	const ui_glyphs *g = ui_glyph();
	for (int i = 0; i < s->n_rows; i++) {
		lrow *r = &s->rows[i];
		const ks_layer *L = &r->m->layers[r->li];
		int w = ui_strwidth(r->prefix) + ui_strwidth(L->name) + 2 + (L->n_nodes > 1 ? 4 : 0) +
		        (order_differs(u, r) ? 2 : 0);
		if (w > wname)
			wname = w;
		char cls[160];
		w = ui_strwidth(ks_layer_class_label(L, cls, sizeof cls));
		if (w > wclass)
			wclass = w;
		char sh[128];
		if (r->shape.rank >= 0) {
			ks_shape_str(r->shape.d, r->shape.rank, sh, sizeof sh);
			w = ui_strwidth(sh);
			if (w > wshape)
				wshape = w;
		}
	}
	if (wname > 32)
		wname = 32;
	if (wclass > 20)
		wclass = 20;
	if (wshape > 22)
		wshape = 22;

	char line[1024];
	line[0] = '\0';
	pad(line, sizeof line, "Layer", wname + 1);
	pad(line, sizeof line, "Class", wclass + 1);
	pad(line, sizeof line, "Output shape", wshape + 1);
	int wpar = 10;
	for (int i = 0; i < s->n_rows; i++) {
		char pr[32];
		ks_report_count(s->rows[i].m->layers[s->rows[i].li].params, pr, sizeof pr);
		if ((int)strlen(pr) > wpar)
			wpar = (int)strlen(pr);
	}
	ui_list_add(l, UI_R_HEADER, 0, 0, NULL, "%s%*s", line, wpar, "Params");
	s->core_width = ui_strwidth(line) + wpar;
	bool functional_any = false;
	for (int i = 0; i < s->n_rows; i++) {
		lrow *r = &s->rows[i];
		const ks_layer *L = &r->m->layers[r->li];
		char name[300], sh[128], pr[32], in[256], shared[16] = "", cls[160];
		if (L->n_nodes > 1)
			snprintf(shared, sizeof shared, " x%d", L->n_nodes);
		if (order_differs(u, r)) /* its weights depend on the load order */
			snprintf(shared + strlen(shared), sizeof shared - strlen(shared), " *");
		snprintf(name, sizeof name, "%s%s%s%s", r->prefix,
		         L->inner ? (is_open(s, L->inner) ? g->expanded : g->collapsed) : "",
		         L->name, shared);
		if (L->inner) /* marker glyph plus a space */
			snprintf(name, sizeof name, "%s%s %s%s", r->prefix,
			         is_open(s, L->inner) ? g->expanded : g->collapsed, L->name, shared);
		if (r->shape.rank >= 0)
			ks_shape_str(r->shape.d, r->shape.rank, sh, sizeof sh);
		else
			snprintf(sh, sizeof sh, "?");
		ks_report_count(L->params, pr, sizeof pr);
		line[0] = '\0';
		pad(line, sizeof line, name, wname + 1);
		pad(line, sizeof line, ks_layer_class_label(L, cls, sizeof cls), wclass + 1);
		pad(line, sizeof line, sh, wshape + 1);
		in[0] = '\0';
		if (!is_sequential(r->m) && strcmp(L->class_name ? L->class_name : "", "InputLayer") != 0) {
			inbound_text(r->m, L, in, sizeof in);
			functional_any = true;
		}
		const char *mark = ui_mark_of(u, r->path);
		ui_list_add(l, mark ? UI_R_ERROR : UI_R_NORMAL, TAG_LAYER, i, L, "%s%*s%s%s%s%s%s", line, wpar,
		            pr, in[0] ? "  " : "", in[0] ? g->arrow : "", in, mark ? "  ! " : "",
		            mark ? mark : "");
	}
	(void)functional_any;
	if (s->n_rows == 0)
		ui_list_add(l, UI_R_DIM, 0, 0, NULL, "(no layers: a weights file without architecture?)");
	l->top = old_top;
	int sel = 1;
	if (old) {
		for (int i = 0; i < l->n; i++)
			if (l->v[i].ptr == old) {
				sel = i;
				break;
			}
	} else if (old_sel > 0) {
		sel = old_sel;
	}
	ui_list_select(l, sel);
}

static lrow *sel_row(ui *u)
{
	ui_list *l = &u->layers.list;
	lstate *s = state(u);
	if (u->plain || l->sel < 0 || l->sel >= l->n || l->v[l->sel].tag != TAG_LAYER)
		return NULL;
	int i = l->v[l->sel].idx;
	return i >= 0 && i < s->n_rows ? &s->rows[i] : NULL;
}

const ks_layer *ui_layers_selected(ui *u, const ks_model **owner)
{
	lrow *r = sel_row(u);
	if (!r)
		return NULL;
	if (owner)
		*owner = r->m;
	return &r->m->layers[r->li];
}

const char *ui_layers_selected_path(ui *u)
{
	lrow *r = sel_row(u);
	return r ? r->path : NULL;
}

bool ui_layers_request(ui *u, enum ui_request req)
{
	ui_list *l = &u->layers.list;
	if (u->plain) {
		if (req == UI_REQ_ENTER)
			return ui_tree_enter(u, l);
		return ui_list_request(l, req);
	}
	lrow *r = sel_row(u);
	lstate *s = state(u);
	const ks_layer *L = r ? &r->m->layers[r->li] : NULL;
	switch (req) {
	case UI_REQ_MOVE_RIGHT:
	case UI_REQ_ENTER:
		if (L && L->inner) {
			bool open = is_open(s, L->inner);
			if (req == UI_REQ_ENTER || !open) {
				set_open(s, L->inner, req == UI_REQ_ENTER ? !open : true);
				ui_layers_build(u);
				return true;
			}
		}
		if (req == UI_REQ_ENTER && L) {
			u->focus = 1;
			return true;
		}
		return req == UI_REQ_MOVE_RIGHT;
	case UI_REQ_MOVE_LEFT:
		if (L && L->inner && is_open(s, L->inner)) {
			set_open(s, L->inner, false);
			ui_layers_build(u);
		} else if (r && r->depth > 0) {
			/* Go to the parent row. */
			for (int i = l->sel - 1; i >= 1; i--) {
				int ri = l->v[i].idx;
				if (l->v[i].tag == TAG_LAYER && s->rows[ri].depth < r->depth) {
					ui_list_select(l, i);
					break;
				}
			}
		}
		return true;
	case UI_REQ_MOVE_UP:
		if (l->sel <= 1)
			return true;
		return ui_list_request(l, req);
	case UI_REQ_FIRST:
		ui_list_select(l, 1);
		return true;
	default:
		if (ui_list_request(l, req)) {
			if (l->sel < 1 && l->n > 1)
				ui_list_select(l, 1);
			return true;
		}
		return false;
	}
}

static bool select_in(ui *u, const ks_model *m, const char *name)
{
	lstate *s = state(u);
	const char *slash = strchr(name, '/');
	if (slash) {
		char outer[256];
		snprintf(outer, sizeof outer, "%.*s", (int)(slash - name), name);
		for (int i = 0; i < m->n_layers; i++)
			if (strcmp(m->layers[i].name, outer) == 0 && m->layers[i].inner) {
				set_open(s, m->layers[i].inner, true);
				return select_in(u, m->layers[i].inner, slash + 1);
			}
		return false;
	}
	const ks_layer *L = NULL;
	for (int i = 0; i < m->n_layers && !L; i++)
		if (strcmp(m->layers[i].name, name) == 0)
			L = &m->layers[i];
	if (!L) {
		/* Search nested models depth-first, opening the way. */
		for (int i = 0; i < m->n_layers; i++)
			if (m->layers[i].inner && ks_model_find_layer(m->layers[i].inner, name, true)) {
				set_open(s, m->layers[i].inner, true);
				return select_in(u, m->layers[i].inner, name);
			}
		return false;
	}
	ui_layers_build(u);
	ui_list *l = &u->layers.list;
	for (int i = 0; i < l->n; i++)
		if (l->v[i].ptr == L) {
			ui_list_select(l, i);
			return true;
		}
	return false;
}

bool ui_layers_select(ui *u, const char *name)
{
	if (u->plain || !u->model)
		return false;
	return select_in(u, u->model, name);
}

void ui_layers_free(ui *u)
{
	lstate *s = u->expanded;
	if (!s)
		return;
	free(s->open);
	free(s->rows);
	free(s);
	u->expanded = NULL;
}

int ui_layers_core_width(ui *u)
{
	lstate *s = u->expanded;
	return s && !u->plain ? s->core_width : 0;
}
