/* ui_view_text: the list-of-text views: help overlay (generated from the key
 * table), file view, and command output. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ks_util.h"
#include "ui.h"
#include "ui_display.h"

static const struct ui_view_ops output_ops = {.name = "output"};
/* Enter on an optimizer slot opens it in the tensor view. */
static bool file_request(ui *u, ui_view *v, enum ui_request req)
{
	ui_list *l = &v->list;
	if (req != UI_REQ_ENTER)
		return ui_list_request(l, req);
	if (l->sel >= 0 && l->sel < l->n && l->v[l->sel].tag == 1) {
		ui_tsrc src;
		ui_tsrc_weight(&src, u->model, NULL, l->v[l->sel].ptr);
		ui_tensor_open(u, &src);
	}
	return true;
}

static const struct ui_view_ops file_ops = {.name = "file", .request = file_request};
static const struct ui_view_ops help_ops = {.name = "help", .overlay = true};

void ui_help_open(ui *u)
{
	ui_view *top = ui_view_top(u);
	if (top && top->ops == &help_ops)
		return;
	ui_view *v = ui_view_push(u, &help_ops, "Help");
	if (!v)
		return;
	ui_list *l = &v->list;
	ui_list_add(l, UI_R_HEADER, 0, 0, NULL, "kerascope %s: keys (q or Esc closes this help)",
	            PACKAGE_VERSION);
	for (const ui_req_info *r = ui_req_table; r->name || r->group; r++) {
		if (r->group) {
			ui_list_add(l, UI_R_NORMAL, 0, 0, NULL, "%s", "");
			ui_list_add(l, UI_R_HEADER, 0, 0, NULL, "%s", r->group);
			continue;
		}
		ui_list_add(l, UI_R_NORMAL, 1, (int)r->req, r, "  %-20s %s", ui_req_keys(r), r->help);
	}
	ui_list_add(l, UI_R_NORMAL, 0, 0, NULL, "%s", "");
	ui_list_add(l, UI_R_HEADER, 0, 0, NULL, "Commands (: focuses the command pane; Tab completes)");
	for (const ui_cmd_info *c = ui_cmd_table; c->name; c++) {
		char syn[64];
		snprintf(syn, sizeof syn, "%s %s", c->name, c->args);
		/* at least two spaces before the help, also after a long synopsis
		 * (tests/ui/man-keys.sh splits the columns there) */
		int len = (int)strlen(syn), gap = len < 25 ? 27 - len : 2;
		ui_list_add(l, UI_R_NORMAL, 2, (int)c->cmd, c, "  :%s%*s%s", syn, gap, "", c->help);
	}
}

void ui_output_open(ui *u, const char *title, const char *text)
{
	ui_view *v = ui_view_push(u, &output_ops, title);
	if (!v)
		return;
	ui_list_add_text(&v->list, UI_R_NORMAL, text);
	if (v->list.n == 0)
		ui_list_add(&v->list, UI_R_DIM, 0, 0, NULL, "(no output)");
}

static void add_json(ui_list *l, const char *title, const json_t *j)
{
	ui_list_add(l, UI_R_HEADER, 0, 0, NULL, "%s", title);
	if (!j) {
		ui_list_add(l, UI_R_DIM, 0, 0, NULL, "  (none in this file)");
		return;
	}
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
	if (!s)
		return;
	/* Indent by two so that it sits under its heading. */
	char *p = s;
	while (p && *p) {
		char *nl = strchr(p, '\n');
		ui_list_add(l, UI_R_NORMAL, 0, 0, NULL, "  %.*s", nl ? (int)(nl - p) : (int)strlen(p), p);
		p = nl ? nl + 1 : NULL;
	}
	free(s);
}

static void kv(ui_list *l, const char *k, const char *v)
{
	ui_list_add(l, UI_R_NORMAL, 0, 0, NULL, "  %-22s %s", k, v ? v : "(not recorded)");
}

void ui_file_open(ui *u)
{
	ui_view *v = ui_view_push(u, &file_ops, "File");
	if (!v)
		return;
	const ks_model *m = u->model;
	ui_list *l = &v->list;
	char buf[256];
	ui_list_add(l, UI_R_HEADER, 0, 0, NULL, "File");
	kv(l, "path", u->path);
	kv(l, "format", ks_format_name(m->format));
	kv(l, "keras version", m->keras_version);
	kv(l, "backend", m->backend);
	if (m->date_saved)
		kv(l, "date saved", m->date_saved);
	kv(l, "model class", m->class_name);
	kv(l, "model name", m->name);
	snprintf(buf, sizeof buf, "%d (top level)", m->n_layers);
	kv(l, "layers", buf);
	snprintf(buf, sizeof buf, "%lld (trainable %lld, non-trainable %lld)",
	         (long long)m->total_params, (long long)m->trainable_params,
	         (long long)m->non_trainable_params);
	kv(l, "parameters", buf);
	snprintf(buf, sizeof buf, "%lld", (long long)m->weight_bytes);
	kv(l, "weight bytes", buf);
	ui_list_add(l, UI_R_HEADER, 0, 0, NULL, "Optimizer state");
	if (m->n_opt_weights == 0) {
		ui_list_add(l, UI_R_DIM, 0, 0, NULL, "  (none saved)");
	} else {
		snprintf(buf, sizeof buf, "%s, %d tensors, %lld values",
		         m->opt_class ? m->opt_class : "optimizer", m->n_opt_weights,
		         (long long)m->opt_params);
		kv(l, "optimizer", buf);
		ui_list_add(l, UI_R_DIM, 0, 0, NULL, "  (Enter on a slot opens it)");
		for (int i = 0; i < m->n_opt_weights; i++) {
			char sh[128];
			const ks_weight *w = &m->opt_weights[i];
			ks_shape_str(w->shape, w->rank, sh, sizeof sh);
			ui_list_add(l, UI_R_NORMAL, 1, i, w, "  %-40s %-16s %s",
			            w->stored_name ? w->stored_name : w->name, sh, ks_dtype_name(w->dtype));
		}
	}
	add_json(l, "Training config", m->training_config);
	add_json(l, "Compile config", m->compile_config);
	if (m->metadata)
		add_json(l, "Metadata", m->metadata);
	if (m->n_warnings) {
		ui_list_add(l, UI_R_HEADER, 0, 0, NULL, "Loader notes");
		for (int i = 0; i < m->n_warnings; i++)
			ui_list_add(l, UI_R_NORMAL, 0, 0, NULL, "  %s", m->warnings[i]);
	}
}
