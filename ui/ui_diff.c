/* ui_diff: diff mode, the open model against a second file.
 *
 * `:diff OTHER [OPTIONS]` (and `kerascope A B`) computes the comparison
 * once through the command line's own builder (cli_diff_build: the same
 * options, the same pairing and statistics), shows the report exactly as
 * `kerascope diff` prints it in the output pane, and keeps the result in
 * u->diff for the browser: the layer pane marks every paired layer, the
 * detail pane shows both configs and the per-weight statistics.
 * `:diff --input X` (or --random SEED) without a file runs both models of
 * the open diff and marks the first diverging layer; `:diff off` returns
 * to the single model.
 *
 * The ks_diff holds its own two models; the browser's rows (u->model)
 * find their entries by layer path ("outer/inner"), so nothing points
 * from one model into the other.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_diff.h"
#include "ks_diff.h"
#include "ks_diff_report.h"
#include "ks_loadorder.h"
#include "ks_session.h"
#include "ks_util.h"
#include "ui.h"
#include "ui_display.h"

/* Options of `kerascope diff` that take a value (the file argument is the
 * one word that is neither an option nor an option's value). */
static bool takes_value(const char *a)
{
	static const char *const with[] = {"-d", "-p", "--delta", "--relative", "--max", "--config",
	                                   "--config-a", "--config-b", "--load-order", "--input",
	                                   "--random"};
	if (strchr(a, '='))
		return false;
	for (size_t i = 0; i < sizeof with / sizeof *with; i++)
		if (strcmp(a, with[i]) == 0)
			return true;
	return false;
}

/* The position of the file argument in argv, or 0 when there is none. */
static int file_arg(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-' && argv[i][1]) {
			if (takes_value(argv[i]))
				i++;
			continue;
		}
		return i;
	}
	return 0;
}

/* Flags that only shape printed output: those runs stay the command line's. */
static bool cli_only(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0 || strcmp(a, "-q") == 0 ||
		    strcmp(a, "--quiet") == 0 || strcmp(a, "--json") == 0)
			return true;
		if (a[0] != '-' && ks_session_is(a))
			return true;
		if (a[0] == '-' && takes_value(a))
			i++;
	}
	return false;
}

static int on_progress(void *ctx, int64_t done, int64_t total)
{
	return ui_progress(ctx, total > 0 ? (double)done / (double)total : -1) ? 1 : 0;
}

void ui_diff_off(ui *u)
{
	ks_diff_free(u->diff);
	u->diff = NULL;
	free(u->diff_other);
	u->diff_other = NULL;
	free(u->diff_input);
	u->diff_input = NULL;
}

/* `diff A OTHER ARGS... [--config ARCH]`: A with the architecture the
 * inspector was opened with, as the other command-line twins get it. */
static char **full_args(ui *u, int argc, char **argv, const char *other, int *n_out)
{
	char **args = ks_xcalloc((size_t)argc + 8, sizeof *args);
	int n = 0;
	args[n++] = (char *)"diff";
	args[n++] = (char *)u->path;
	if (other)
		args[n++] = (char *)other;
	for (int i = 1; i < argc; i++)
		args[n++] = argv[i];
	if (u->config_path) {
		args[n++] = (char *)"--config-a";
		args[n++] = u->config_path;
		if (u->load_order != KS_LOAD_DEFAULT) {
			args[n++] = (char *)"--load-order";
			args[n++] = (char *)ks_load_order_name(u->load_order);
		}
	}
	*n_out = n;
	return args;
}

bool ui_diff_command(ui *u, int argc, char **argv, const char *line)
{
	if (argc == 2 && strcmp(argv[1], "off") == 0) {
		if (!u->diff) {
			ui_error(u, "diff: no diff is open");
			return true;
		}
		ui_diff_off(u);
		ui_layers_build(u);
		ui_detail_build(u);
		ui_msg(u, "diff: off");
		return true;
	}
	if (u->plain || cli_only(argc, argv))
		return false;
	int fi = file_arg(argc, argv);
	const char *other = NULL;
	if (!fi) {
		/* `:diff --input X`: both models of the open diff, run. */
		if (!u->diff) {
			ui_error(u, "diff: give the OTHER file (no diff is open)");
			return true;
		}
		other = u->diff_other;
	}
	int n = 0;
	char **args = full_args(u, argc, argv, other, &n);
	char *keep_other = ks_xstrdup(fi ? argv[fi] : other);
	char src[1024];
	ks_err err;
	ui_progress_begin(u, "comparing");
	ks_diff *d = cli_diff_build(n, args, on_progress, u, src, sizeof src, &err);
	ui_progress_end(u);
	free(args);
	if (!d) {
		/* Ctrl-C or an error: the open diff (if any) stays */
		ui_error(u, "%s%s", ks_str_startswith(err.msg, "diff:") ? "" : "diff: ", err.msg);
		free(keep_other);
		return true;
	}
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (f) {
		ks_diff_print_text(f, d);
		fclose(f);
	}
	int st = ks_diff_any_difference(d) ? 1 : 0;
	ui_diff_off(u);
	u->diff = d;
	u->diff_other = keep_other;
	/* src ends here: the detail pane names the input from a copy */
	u->diff_input = d->outputs.input_source ? ks_xstrdup(d->outputs.input_source) : NULL;
	d->outputs.input_source = u->diff_input;
	ui_layers_build(u);
	if (d->outputs.ran && d->outputs.first_divergence >= 0) {
		const ks_diff_out_layer *o = &d->outputs.layers[d->outputs.first_divergence];
		if (o->name_a)
			ui_layers_select(u, o->name_a);
	}
	ui_detail_build(u);
	ui_output_open(u, line, text ? text : "");
	free(text);
	ui_msg(u, "diff: exit status %d (q returns to the layers, marked; :diff off ends)", st);
	return true;
}

const ks_diff_layer *ui_diff_layer_a(const ui *u, const char *path)
{
	if (!u->diff || !path)
		return NULL;
	for (int i = 0; i < u->diff->n_layers; i++) {
		const ks_diff_layer *dl = &u->diff->layers[i];
		if (dl->name_a && strcmp(dl->name_a, path) == 0)
			return dl;
	}
	return NULL;
}

bool ui_diff_diverges_at(const ui *u, const char *path)
{
	const ks_diff_outputs *o = u->diff ? &u->diff->outputs : NULL;
	if (!o || !o->ran || o->first_divergence < 0 || !path)
		return false;
	const char *n = o->layers[o->first_divergence].name_a;
	return n && strcmp(n, path) == 0;
}

const char *ui_diff_mark(const ks_diff_layer *dl)
{
	if (!dl)
		return "";
	switch (dl->status) {
	case KS_DS_ADDED: return "added";
	case KS_DS_REMOVED: return "removed";
	case KS_DS_RESHAPED: return "reshaped";
	default: break;
	}
	if (dl->n_mapping > 0)
		return "order";
	if (dl->status == KS_DS_CHANGED)
		return "changed";
	if (dl->n_changes > 0)
		return "config";
	if (dl->name_a && dl->name_b && strcmp(dl->name_a, dl->name_b) != 0)
		return "renamed";
	return "same";
}

int ui_diff_heat(const ks_diff_layer *dl)
{
	if (!dl || dl->roll.n_changed == 0)
		return 0;
	double rel = ks_cmp_rel_norm(&dl->roll);
	if (!(rel < INFINITY))
		return UI_HEAT_LEVELS - 1;
	/* one level per decade: 1e-6 and below is 1, 1 and above the top */
	int lvl = rel > 0 ? 1 + (int)floor(log10(rel) + 6.0) : 1;
	if (lvl < 1)
		lvl = 1;
	if (lvl > UI_HEAT_LEVELS - 1)
		lvl = UI_HEAT_LEVELS - 1;
	return lvl;
}
