/* ui_view_tree: the raw HDF5 tree of the file (ks_h5_visit: groups before
 * their children, natural name order). It is the layer pane of non-Keras
 * files and a view of its own ('t') for Keras files. Enter on a numeric
 * dataset opens it in the tensor view. Only metadata is read. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks_h5.h"
#include "ks_util.h"
#include "ui.h"
#include "ui_display.h"

#define TAG_GROUP 1
#define TAG_DATASET 2

/* Hard cap on rows so that a file with millions of objects stays usable. */
#define TREE_MAX_ROWS 100000

typedef struct fill_ctx {
	ui_list *l;
	int rows;
} fill_ctx;

static int on_item(const ks_h5_item *it, void *ud, ks_err *err)
{
	fill_ctx *c = ud;
	(void)err;
	if (++c->rows > TREE_MAX_ROWS) {
		ui_list_add(c->l, UI_R_DIM, 0, 0, NULL, "(more objects not shown)");
		return -1;
	}
	char ind[140];
	int d = it->depth < 64 ? it->depth : 64;
	memset(ind, ' ', (size_t)(2 * d));
	ind[2 * d] = '\0';
	char attrs[32] = "";
	if (it->n_attrs > 0)
		snprintf(attrs, sizeof attrs, "  @%d", it->n_attrs);
	if (it->kind == KS_H5_GROUP) {
		ui_list_add(c->l, UI_R_NORMAL, TAG_GROUP, it->depth, NULL, "%s%s/%s", ind, it->name, attrs);
	} else if (it->kind == KS_H5_DATASET) {
		ks_weight *w = ks_xcalloc(1, sizeof *w);
		w->name = ks_xstrdup(it->path);
		w->h5_path = ks_xstrdup(it->path);
		w->rank = it->rank;
		memcpy(w->shape, it->dims, sizeof w->shape);
		w->dtype = it->dtype;
		char sh[128];
		ks_shape_str(it->dims, it->rank, sh, sizeof sh);
		ui_list_add(c->l, UI_R_NORMAL, TAG_DATASET, it->depth, w, "%s%-24s %-14s %s%s", ind,
		            it->name, sh, ks_dtype_name(it->dtype), attrs);
	} else {
		ui_list_add(c->l, UI_R_DIM, 0, it->depth, NULL, "%s%s (%s)", ind, it->name,
		            it->is_link_only ? "link, not followed" : "other object");
	}
	return 0;
}

static hid_t file_of(const ks_model *m)
{
	for (; m; m = m->parent)
		if (m->file >= 0)
			return m->file;
	return H5I_INVALID_HID;
}

int ui_tree_fill(ui *u, ui_list *l, ks_err *err)
{
	ui_tree_clear(l);
	hid_t f = file_of(u->model);
	if (f < 0)
		return ks_fail(err, "%s: no HDF5 file to show", u->path);
	ui_list_add(l, UI_R_HEADER, 0, 0, NULL, "HDF5 tree of %s", u->path);
	fill_ctx c = {l, 0};
	if (ks_h5_visit(f, "/", on_item, &c, err) < 0 && c.rows <= TREE_MAX_ROWS)
		return -1;
	if (l->n > 1)
		ui_list_select(l, 1);
	return 0;
}

void ui_tree_clear(ui_list *l)
{
	for (int i = 0; i < l->n; i++)
		if (l->v[i].tag == TAG_DATASET) {
			ks_weight *w = (ks_weight *)l->v[i].ptr;
			free(w->name);
			free(w->h5_path);
			free(w);
		}
	ui_list_clear(l);
}

bool ui_tree_enter(ui *u, ui_list *l)
{
	if (l->sel < 0 || l->sel >= l->n)
		return true;
	const ui_line *ln = &l->v[l->sel];
	if (ln->tag == TAG_DATASET) {
		ui_tsrc src;
		ui_tsrc_weight(&src, u->model, NULL, ln->ptr);
		ui_tensor_open(u, &src);
	} else if (ln->tag == TAG_GROUP) {
		ui_msg(u, "a group: its members are listed below it");
	}
	return true;
}

static bool tree_request(ui *u, ui_view *v, enum ui_request req)
{
	if (req == UI_REQ_ENTER)
		return ui_tree_enter(u, &v->list);
	return ui_list_request(&v->list, req);
}

static void tree_done(ui_view *v)
{
	ui_tree_clear(&v->list);
}

static const struct ui_view_ops tree_ops = {
	.name = "tree",
	.request = tree_request,
	.done = tree_done,
};

bool ui_tree_open(ui *u)
{
	ui_view *v = ui_view_push(u, &tree_ops, "HDF5 tree");
	if (!v)
		return false;
	ks_err err;
	if (ui_tree_fill(u, &v->list, &err) < 0) {
		ui_view_pop(u);
		ui_error(u, "%s", err.msg);
		return false;
	}
	return true;
}
