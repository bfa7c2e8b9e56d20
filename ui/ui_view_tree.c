/* ui_view_tree: the raw HDF5 tree of the file (ks_file_visit: groups before
 * their children, natural name order). It is the layer pane of non-Keras
 * files and a view of its own ('t') for Keras files. Enter on a numeric
 * dataset opens it in the tensor view. Only metadata is read. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks_file.h"
#include "ks_util.h"
#include "ui.h"
#include "ui_display.h"

#define TAG_GROUP 11 /* distinct from the layer pane's tags: the lists may share code */
#define TAG_DATASET 12

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
		/* Groups carry their path too (for the detail pane's attributes). */
		ks_weight *g = ks_xcalloc(1, sizeof *g);
		g->name = ks_xstrdup(it->path);
		g->h5_path = ks_xstrdup(it->path);
		g->rank = -1;
		ui_list_add(c->l, UI_R_NORMAL, TAG_GROUP, it->depth, g, "%s%s/%s", ind, it->name, attrs);
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

int ui_tree_fill(ui *u, ui_list *l, ks_err *err)
{
	ui_tree_clear(l);
	if (!ks_file_has_h5(u->model))
		return ks_fail(err, "%s: no HDF5 file to show", u->path);
	ui_list_add(l, UI_R_HEADER, 0, 0, NULL, "HDF5 tree of %s", u->path);
	ks_weight *root = ks_xcalloc(1, sizeof *root);
	root->name = ks_xstrdup("/");
	root->h5_path = ks_xstrdup("/");
	root->rank = -1;
	ui_list_add(l, UI_R_NORMAL, TAG_GROUP, -1, root, "/");
	fill_ctx c = {l, 0};
	if (ks_file_visit(u->model, "/", on_item, &c, err) < 0 && c.rows <= TREE_MAX_ROWS)
		return -1;
	if (l->n > 1)
		ui_list_select(l, 1);
	return 0;
}

void ui_tree_clear(ui_list *l)
{
	for (int i = 0; i < l->n; i++)
		if ((l->v[i].tag == TAG_DATASET || l->v[i].tag == TAG_GROUP) && l->v[i].ptr) {
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

void ui_tree_detail(ui *u, const ui_list *tree, ui_list *out)
{
	if (tree->sel < 0 || tree->sel >= tree->n || !tree->v[tree->sel].ptr) {
		ui_list_add(out, UI_R_DIM, 0, 0, NULL, "(select an object)");
		return;
	}
	const ui_line *ln = &tree->v[tree->sel];
	const ks_weight *w = ln->ptr;
	ui_list_add(out, UI_R_HEADER, 0, 0, NULL, "%s", w->h5_path);
	if (ln->tag == TAG_DATASET) {
		char sh[128];
		ks_shape_str(w->shape, w->rank, sh, sizeof sh);
		ui_list_add(out, UI_R_NORMAL, 0, 0, NULL, "  dataset %s %s (Enter opens)", sh,
		            ks_dtype_name(w->dtype));
	} else {
		ui_list_add(out, UI_R_NORMAL, 0, 0, NULL, "  group");
	}
	char **names = NULL;
	int n = 0;
	ks_err err;
	if (ks_file_attr_names(u->model, w->h5_path, &names, &n, &err) < 0) {
		ui_list_add(out, UI_R_ERROR, 0, 0, NULL, "  attributes unreadable");
		return;
	}
	ui_list_add(out, UI_R_HEADER, 0, 0, NULL, "Attributes (%d)", n);
	for (int i = 0; i < n; i++) {
		char *text = NULL;
		if (ks_file_attr_text(u->model, w->h5_path, names[i], 300, &text, &err) == 0) {
			ui_list_add(out, UI_R_NORMAL, 0, 0, NULL, "  %s = %s", names[i], text);
			free(text);
		} else {
			ui_list_add(out, UI_R_DIM, 0, 0, NULL, "  %s (unreadable)", names[i]);
		}
	}
	ks_h5_strv_free(names, n);
}
