/* ui_view_doctor: the findings view (D, :doctor). Runs the core doctor
 * (ks_doctor.h) on the open file and lists its findings, most serious first,
 * each with its summary, evidence, explanation and fix; Enter jumps to the
 * tensor or layer a finding cites. The layers cited are remembered in
 * u->marks so that the layer pane flags them. The view owns its ks_doctor.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks_diff.h"
#include "ks_doctor.h"
#include "ks_util.h"
#include "ui.h"
#include "ui_display.h"

/* Text is wrapped to this many columns (the list scrolls sideways beyond). */
#define WRAP 94

enum { TAG_FINDING = 1, TAG_TEXT = 2 };

typedef struct dview {
	ks_doctor d;
	bool have;
} dview;

static void dview_done(ui_view *v)
{
	dview *p = v->priv;
	if (p->have)
		ks_doctor_free(&p->d);
}

/* Adds "label text" wrapped at WRAP columns, continuation lines indented. */
static void add_wrapped(ui_list *l, int idx, const char *label, const char *text)
{
	char line[WRAP + 64];
	size_t lab = strlen(label), n = strlen(text), i = 0;
	bool first = true;
	while (i < n) {
		size_t room = WRAP - (first ? 4 + lab : 6), take = n - i;
		if (take > room) {
			take = room;
			while (take > 0 && text[i + take] != ' ')
				take--;
			if (take == 0)
				take = room;
		}
		snprintf(line, sizeof line, "%s%s%.*s", first ? "    " : "      ", first ? label : "",
		         (int)take, text + i);
		ui_list_add(l, first ? UI_R_NORMAL : UI_R_NORMAL, TAG_TEXT, idx, NULL, "%s", line);
		i += take;
		while (i < n && text[i] == ' ')
			i++;
		first = false;
	}
}

static size_t first_sentence(const char *s)
{
	for (size_t i = 0; s[i]; i++)
		if (s[i] == '.' && (s[i + 1] == ' ' || !s[i + 1]) && i > 20)
			return i + 1;
	return strlen(s);
}

static bool dview_request(ui *u, ui_view *v, enum ui_request req)
{
	dview *p = v->priv;
	ui_list *l = &v->list;
	if (req != UI_REQ_ENTER)
		return ui_list_request(l, req);
	if (l->sel < 0 || l->sel >= l->n || !l->v[l->sel].tag)
		return true;
	const ks_finding *f = &p->d.findings[l->v[l->sel].idx];
	if (f->tensor) {
		const ks_layer *owner = NULL;
		const ks_weight *w = ks_model_find_weight(u->model, f->tensor, &owner);
		if (w) {
			ui_tsrc src;
			ui_tsrc_weight(&src, u->model, owner, w);
			ui_tensor_open(u, &src);
			return true;
		}
	}
	if (f->layer && ui_layers_select(u, f->layer)) {
		/* popping frees this view and its findings: keep the message first */
		char msg[256];
		snprintf(msg, sizeof msg, "%s: %s", f->id, f->layer);
		while (ui_view_pop(u))
			;
		u->focus = 0;
		ui_detail_build(u);
		ui_msg(u, "%s", msg);
		return true;
	}
	ui_msg(u, "%s concerns the whole model (no layer or tensor to open)", f->id);
	return true;
}

static const struct ui_view_ops doctor_ops = {
	.name = "doctor",
	.private_size = sizeof(dview),
	.request = dview_request,
	.done = dview_done,
};

void ui_marks_free(ui *u)
{
	for (int i = 0; i < u->n_marks; i++)
		free(u->marks[i]);
	free(u->marks);
	u->marks = NULL;
	u->n_marks = 0;
}

const char *ui_mark_of(const ui *u, const char *path)
{
	for (int i = 0; i < u->n_marks; i++) {
		size_t n = strcspn(u->marks[i], "\t");
		if (strlen(path) == n && !strncmp(u->marks[i], path, n))
			return u->marks[i] + n + 1;
	}
	return NULL;
}

void ui_doctor_open(ui *u)
{
	ks_err err;
	if (u->plain) {
		ui_error(u, "doctor: %s is a plain HDF5 file (no Keras model to check)", u->path);
		return;
	}
	ui_view *v = ui_view_push(u, &doctor_ops, "Doctor");
	if (!v)
		return;
	dview *p = v->priv;
	/* In diff mode the pair checks run too, against the other file as the
	 * diff opened it. */
	ks_doctor_in in = {.a = u->model, .b = u->diff ? u->diff->b : NULL, .n_labels = -1};
	ui_progress_begin(u, "doctor: reading the weights");
	int rc = ks_doctor_run(&in, &p->d, &err);
	ui_progress_end(u);
	if (rc < 0) {
		ui_view_pop(u);
		ui_error(u, "doctor: %s", err.msg);
		return;
	}
	p->have = true;
	ui_marks_free(u);
	ui_list *l = &v->list;
	int problems = 0;
	for (int i = 0; i < p->d.n_findings; i++)
		problems += p->d.findings[i].severity >= KS_SEV_WARNING;
	ui_list_add(l, UI_R_HEADER, 0, 0, NULL, "%d finding%s, %d warning%s or error%s (Enter opens "
	            "the layer or tensor cited)", p->d.n_findings, p->d.n_findings == 1 ? "" : "s",
	            problems, problems == 1 ? "" : "s", problems == 1 ? "" : "s");
	for (int i = 0; i < p->d.n_findings; i++) {
		const ks_finding *f = &p->d.findings[i];
		const char *where = f->tensor ? f->tensor : f->layer ? f->layer : "";
		int role = f->severity == KS_SEV_ERROR ? UI_R_ERROR
		         : f->severity == KS_SEV_WARNING ? UI_R_MATCH : UI_R_DIM;
		ui_list_add(l, UI_R_NORMAL, 0, 0, NULL, "%s", "");
		ui_list_add(l, role, TAG_FINDING, i, f, "%-7s  %-24s %s", ks_severity_name(f->severity), f->id, where);
		if (f->summary)
			add_wrapped(l, i, "", f->summary);
		if (f->evidence)
			add_wrapped(l, i, "evidence: ", f->evidence);
		if (f->explanation && f->explanation[0]) {
			char *e = ks_xstrndup(f->explanation, first_sentence(f->explanation));
			add_wrapped(l, i, "why: ", e);
			free(e);
		}
		if (f->fix)
			add_wrapped(l, i, "fix: ", f->fix);
		if (f->layer && f->severity >= KS_SEV_WARNING && !ui_mark_of(u, f->layer)) {
			u->marks = ks_xrealloc(u->marks, (size_t)(u->n_marks + 1) * sizeof *u->marks);
			u->marks[u->n_marks++] = ks_xasprintf("%s\t%s", f->layer, f->id);
		}
	}
	ui_list_add(l, UI_R_NORMAL, 0, 0, NULL, "%s", "");
	for (int i = 0; i < p->d.n_checks; i++)
		if (!p->d.checks[i].ran)
			ui_list_add(l, UI_R_DIM, 0, 0, NULL, "not checked: %-24s %s", p->d.checks[i].id,
			            p->d.checks[i].why_not ? p->d.checks[i].why_not : "");
	ui_list_select(l, p->d.n_findings ? 2 : 0);
	ui_layers_build(u);  /* flag the layers cited */
	ui_msg(u, "doctor: %d finding%s", p->d.n_findings, p->d.n_findings == 1 ? "" : "s");
}
