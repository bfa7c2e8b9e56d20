/* ui_cmd: runs one command line typed in the command pane or a script.
 *
 * The command-line subcommands (summary, ls, dump, attrs, diff, doctor, and
 * predict's text) run exactly as `kerascope CMD FILE ARGS...` would, in a
 * forked child whose stdout and stderr go to a temporary file that is then
 * shown in the output view. The child keeps a crash or an exit() of a
 * command away from the inspector, and Ctrl-C cancels it by killing the
 * child. The UI commands (open, show, slice, ...) act on the views.
 *
 * predict also runs in process with ks_plan (keep_all) so that every layer's
 * activation stays available to the detail pane and the tensor view. Inputs
 * are .npy files, one per model input (float32/float64/int, C order); with
 * none, zeros of the declared shape and batch 1 are used.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "ks_input.h"
#include "ks_plan.h"
#include "ks_util.h"
#include "ui.h"
#include "ui_display.h"
#include "ui_input.h"

/* Output of a command shown in the pane is cut beyond this (bytes). */
#define OUTPUT_MAX (16u << 20)

struct ui_acts {
	ks_plan *plan;
};

/* ---- subcommands in a child ------------------------------------------- */

static const cli_command *find_cli(const char *name)
{
	for (const cli_command *c = cli_commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Runs `kerascope NAME FILE ARGS...`; returns its output (malloc'd) or NULL. */
static char *run_cli(ui *u, const cli_command *c, int argc, char **argv, int *status)
{
	FILE *tmp = tmpfile();
	if (!tmp) {
		ui_error(u, "%s: cannot create a temporary file: %s", c->name, strerror(errno));
		return NULL;
	}
	int n = argc + 1;
	char **args = ks_xcalloc((size_t)n + 1, sizeof *args);
	args[0] = argv[0];
	args[1] = (char *)u->path;
	for (int i = 1; i < argc; i++)
		args[i + 1] = argv[i];
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		free(args);
		fclose(tmp);
		ui_error(u, "%s: cannot fork: %s", c->name, strerror(errno));
		return NULL;
	}
	if (pid == 0) {
		dup2(fileno(tmp), STDOUT_FILENO);
		dup2(fileno(tmp), STDERR_FILENO);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		optind = 1;
		int rc = c->run(n, args);
		fflush(stdout);
		fflush(stderr);
		_exit(rc & 0xff);
	}
	free(args);
	ui_progress_begin(u, c->name);
	int st = 0;
	bool cancelled = false;
	double t0 = now_s();
	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid || (r < 0 && errno != EINTR))
			break;
		if (ui_progress(u, -1.0)) {
			kill(pid, SIGTERM);
			waitpid(pid, &st, 0);
			cancelled = true;
			break;
		}
		struct timespec d = {0, now_s() - t0 < 0.05 ? 2000000 : 20000000};
		nanosleep(&d, NULL);
	}
	ui_progress_end(u);
	if (cancelled) {
		fclose(tmp);
		ui_msg(u, "%s cancelled", c->name);
		return NULL;
	}
	long size = ftell(tmp);
	if (size < 0)
		size = 0;
	if ((unsigned long)size > OUTPUT_MAX)
		size = OUTPUT_MAX;
	char *out = ks_xmalloc((size_t)size + 1);
	rewind(tmp);
	size_t got = fread(out, 1, (size_t)size, tmp);
	out[got] = '\0';
	fclose(tmp);
	if (WIFSIGNALED(st)) {
		ui_error(u, "%s crashed (signal %d)", c->name, WTERMSIG(st));
		*status = 128 + WTERMSIG(st);
	} else {
		*status = WEXITSTATUS(st);
	}
	return out;
}

/* ---- predict in process ----------------------------------------------- */

void ui_acts_free(ui_acts *a)
{
	if (!a)
		return;
	ks_plan_free(a->plan);
	free(a);
}

bool ui_acts_have(const ui *u)
{
	return u->acts && u->acts->plan;
}

bool ui_acts_source(ui *u, const char *layer, ui_tsrc *out)
{
	if (!ui_acts_have(u))
		return false;
	ks_plan *p = u->acts->plan;
	int n = ks_plan_n_steps(p);
	for (int i = 0; i < n; i++) {
		const ks_plan_step *s = ks_plan_step_info(p, i);
		const char *base = strrchr(s->name, '/');
		if (strcmp(s->name, layer) != 0 && !(base && strcmp(base + 1, layer) == 0 && !strchr(layer, '/')))
			continue;
		const float *v = ks_plan_step_output(p, i, 0);
		if (!v || s->n_out < 1)
			return false;
		memset(out, 0, sizeof *out);
		out->mem = v;
		out->rank = s->out[0].rank;
		memcpy(out->shape, s->out[0].d, sizeof out->shape);
		snprintf(out->name, sizeof out->name, "activation of %s", s->name);
		snprintf(out->where, sizeof out->where, "output of %s (%s), last predict", s->name,
		         s->class_name);
		out->dtype = "float32";
		return true;
	}
	return false;
}

/* Inputs as `kerascope predict` builds them from the same options (ks_input). */
typedef struct pin {
	const char *inputs[KS_MAX_IO];
	int n_inputs;
	bool random, zeros;
	long long seed, batch;
} pin;

static int parse_predict(int argc, char **argv, pin *o, ks_err *err)
{
	memset(o, 0, sizeof *o);
	o->batch = 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
		const char *eq = strchr(a, '=');
		char name[64];
		snprintf(name, sizeof name, "%.*s", eq ? (int)(eq - a) : (int)strlen(a), a);
		bool takes = strcmp(name, "--input") == 0 || strcmp(name, "--random") == 0 ||
		             strcmp(name, "--batch") == 0 || strcmp(name, "-o") == 0 ||
		             strcmp(name, "--output") == 0 || strcmp(name, "--save-activations") == 0 ||
		             strcmp(name, "--until") == 0 || strcmp(name, "--top") == 0 ||
		             strcmp(name, "--labels") == 0 || strcmp(name, "--repeat") == 0 ||
		             strcmp(name, "--threads") == 0 || strcmp(name, "--config") == 0;
		if (takes) {
			if (eq)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else
				return ks_fail(err, "predict: %s needs a value", name);
		}
		if (strcmp(name, "--input") == 0) {
			if (o->n_inputs == KS_MAX_IO)
				return ks_fail(err, "predict: at most %d inputs", KS_MAX_IO);
			o->inputs[o->n_inputs++] = val;
		} else if (strcmp(name, "--random") == 0) {
			o->random = true;
			o->seed = atoll(val);
		} else if (strcmp(name, "--zeros") == 0) {
			o->zeros = true;
		} else if (strcmp(name, "--batch") == 0) {
			o->batch = atoll(val);
			if (o->batch < 1)
				return ks_fail(err, "predict: --batch needs a positive integer, not '%s'", val);
		} else if (a[0] != '-') {
			return ks_fail(err, "predict: unexpected '%s' (inputs go after --input)", a);
		}
	}
	return 0;
}

static int make_inputs(const ks_model *m, const pin *o, ks_array *arr, ks_err *err)
{
	if (o->n_inputs && o->n_inputs != m->n_inputs)
		return ks_fail(err, "predict: the model takes %d inputs but %d --input given",
		               m->n_inputs, o->n_inputs);
	for (int i = 0; i < m->n_inputs; i++) {
		ks_shape want;
		int li = m->inputs[i].layer;
		const char *name = li >= 0 && li < m->n_layers ? m->layers[li].name : "input";
		if (ks_model_input_shape(m, i, &want, err) < 0)
			return -1;
		if (o->n_inputs) {
			ks_input_kind kind;
			if (ks_input_load(o->inputs[i], &arr[i], &kind, err) < 0 ||
			    ks_input_fit(&arr[i], &want, kind == KS_INPUT_CSV, name, err) < 0)
				return -1;
		} else if (ks_input_generate(&want, o->batch, o->random, (uint64_t)o->seed + (uint64_t)i,
		                             -1.0f, 1.0f, false, name, &arr[i], err) < 0) {
			return -1;
		}
	}
	return 0;
}

static void cmd_predict(ui *u, int argc, char **argv, const char *line)
{
	ks_err err;
	pin o;
	if (u->plain) {
		ui_error(u, "predict: %s is not a Keras model", u->path);
		return;
	}
	if (parse_predict(argc, argv, &o, &err) < 0) {
		ui_error(u, "%s", err.msg);
		return;
	}
	/* Without inputs, zeros (the command line insists on a choice). */
	char **args = ks_xcalloc((size_t)argc + 2, sizeof *args);
	memcpy(args, argv, (size_t)argc * sizeof *args);
	int nargs = argc;
	if (!o.n_inputs && !o.random && !o.zeros) {
		args[nargs++] = (char *)"--zeros";
		o.zeros = true;
	}
	/* The text, exactly as on the command line (cancellable: it is a child). */
	const cli_command *c = find_cli("predict");
	char *out = NULL;
	int st = 0;
	if (c) {
		out = run_cli(u, c, nargs, args, &st);
		free(args);
		if (!out)
			return;
		if (st != 0) {
			ui_output_open(u, line, out);
			ui_error(u, "predict failed (exit status %d): see the output", st);
			free(out);
			return;
		}
	} else {
		free(args);
	}
	/* Then every layer's activation, in process. */
	ks_array arr[KS_MAX_IO];
	memset(arr, 0, sizeof arr);
	ks_plan *p = NULL;
	int n = u->model->n_inputs;
	if (n > KS_MAX_IO) {
		ui_error(u, "predict: too many model inputs");
		free(out);
		return;
	}
	ui_progress_begin(u, "computing activations");
	ui_progress(u, -1);
	if (make_inputs(u->model, &o, arr, &err) == 0) {
		ks_shape shapes[KS_MAX_IO];
		for (int i = 0; i < n; i++) {
			shapes[i].rank = arr[i].rank;
			memcpy(shapes[i].d, arr[i].shape, sizeof shapes[i].d);
		}
		ks_plan_opts po = {.batch = 1, .input_shapes = shapes, .n_input_shapes = n,
		                   .keep_all = true};
		p = ks_plan_build(u->model, &po, &err);
		if (p) {
			const float *in[KS_MAX_IO];
			for (int i = 0; i < n; i++)
				in[i] = arr[i].data;
			ks_plan_run(p, in);
		}
	}
	ui_progress_end(u);
	for (int i = 0; i < n; i++)
		ks_array_free(&arr[i]);
	if (!p) {
		if (out)
			ui_output_open(u, line, out);
		ui_error(u, "predict: %s", err.msg);
		free(out);
		return;
	}
	ui_acts_free(u->acts);
	u->acts = ks_xcalloc(1, sizeof *u->acts);
	u->acts->plan = p;
	char *text = ks_xasprintf("%s\nEvery layer's activation is kept: close this view (q), select "
	                          "a layer, and Enter on 'output' in the detail pane (or :show LAYER).\n",
	                          out ? out : "");
	ui_output_open(u, line, text);
	free(text);
	free(out);
	ui_detail_build(u);
	ui_msg(u, "predict done: %d steps; activations kept", ks_plan_n_steps(p));
}

/* ---- dispatch --------------------------------------------------------- */

static void cmd_show(ui *u, const char *spec)
{
	const ks_layer *owner = NULL;
	const ks_weight *w = u->plain ? NULL : ks_model_find_weight(u->model, spec, &owner);
	ui_tsrc src;
	if (w) {
		/* Nested models share the top model's file, so it can read any weight. */
		ui_tsrc_weight(&src, u->model, owner, w);
		ui_tensor_open(u, &src);
		return;
	}
	if (ui_acts_source(u, spec, &src)) {
		ui_tensor_open(u, &src);
		return;
	}
	if (!u->plain && ks_model_find_layer(u->model, spec, true)) {
		ui_error(u, "show: %s is a layer: give LAYER/WEIGHT, or run :predict first to see its "
		         "activation", spec);
		return;
	}
	ui_error(u, "show: no weight or layer named '%s'", spec);
}

void ui_cmd_run(ui *u, const char *line)
{
	char **argv = NULL;
	int argc = 0;
	ks_err err;
	if (ui_argv_split(line, &argv, &argc, &err) < 0) {
		ui_error(u, "%s", err.msg);
		return;
	}
	if (argc == 0) {
		ui_argv_free(argv, argc);
		return;
	}
	const ui_cmd_info *ci = ui_cmd_find(argv[0]);
	if (!ci) {
		ui_error(u, "unknown command '%s' (try :help)", argv[0]);
		ui_argv_free(argv, argc);
		return;
	}
	switch (ci->cmd) {
	case UI_CMD_SUMMARY:
	case UI_CMD_LS:
	case UI_CMD_DUMP:
	case UI_CMD_ATTRS:
	case UI_CMD_DIFF:
	case UI_CMD_DOCTOR: {
		const cli_command *c = find_cli(argv[0]);
		if (!c) {
			ui_error(u, "%s: not available in this build", argv[0]);
			break;
		}
		int st = 0;
		char *out = run_cli(u, c, argc, argv, &st);
		if (out) {
			ui_output_open(u, line, out);
			if (st == 0 || (st == 1 && ci->cmd == UI_CMD_DIFF))
				ui_msg(u, "%s: exit status %d", argv[0], st);
			else
				ui_error(u, "%s failed (exit status %d): see the output", argv[0], st);
		}
		free(out);
		break;
	}
	case UI_CMD_PREDICT:
		cmd_predict(u, argc, argv, line);
		break;
	case UI_CMD_OPEN:
		if (argc != 2) {
			ui_error(u, "open: give one LAYER name");
			break;
		}
		if (u->plain || !ui_layers_select(u, argv[1])) {
			ui_error(u, "open: no layer named '%s'", argv[1]);
			break;
		}
		while (ui_view_pop(u))
			;
		u->focus = 0;
		ui_detail_build(u);
		break;
	case UI_CMD_SHOW:
		if (argc != 2)
			ui_error(u, "show: give one WEIGHT (layer/weight) or LAYER");
		else
			cmd_show(u, argv[1]);
		break;
	case UI_CMD_SLICE:
	case UI_CMD_GOTO:
	case UI_CMD_HIGHLIGHT:
	case UI_CMD_EXPORT:
		if (ui_tensor_command(u, ci->cmd, argc, argv, &err) < 0)
			ui_error(u, "%s", err.msg);
		break;
	case UI_CMD_INFO:
		if (u->plain)
			ui_error(u, "info: %s is a plain HDF5 file (no Keras metadata)", u->path);
		else
			ui_file_open(u);
		break;
	case UI_CMD_TREE:
		ui_tree_open(u);
		break;
	case UI_CMD_HELP:
		ui_help_open(u);
		break;
	case UI_CMD_SAVE_DISPLAY:
		if (argc != 2) {
			ui_error(u, "save-display: give one FILE");
			break;
		}
		ui_redraw(u);
		if (ui_display_save(argv[1], &err) < 0)
			ui_error(u, "save-display: %s", err.msg);
		break;
	case UI_CMD_QUIT:
		u->quit = true;
		break;
	default:
		ui_error(u, "%s: not implemented", argv[0]);
	}
	ui_argv_free(argv, argc);
}
