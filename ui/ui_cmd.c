/* ui_cmd: runs one command line typed in the command pane or a script.
 *
 * The command-line subcommands (summary, ls, dump, attrs, diff, doctor, and
 * predict's text) run exactly as `kerascope CMD FILE ARGS...` would, in a
 * forked child whose stdout and stderr go to a temporary file that is then
 * shown in the output view. The child keeps a crash or an exit() of a
 * command away from the inspector, and Ctrl-C cancels it by killing the
 * child. The UI commands (open, show, slice, ...) act on the views.
 *
 * predict runs the same way with --save-activations into a private
 * temporary folder, so that every layer's activation is then available to
 * the detail pane and the tensor view (read when first shown), Ctrl-C stops
 * a long prediction, and nothing is computed twice. Without --input,
 * --random or --zeros, zeros are used.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "ks_loadorder.h"
#include "ks_npy.h"
#include "ks_session.h"
#include "ks_util.h"
#include "ui.h"
#include "ui_display.h"
#include "ui_input.h"

/* Output of a command shown in the pane is cut beyond this (bytes). */
#define OUTPUT_MAX (16u << 20)

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
	char **args = ks_xcalloc((size_t)n + 5, sizeof *args);
	args[0] = argv[0];
	args[1] = (char *)u->path;
	for (int i = 1; i < argc; i++)
		args[i + 1] = argv[i];
	/* The architecture the inspector was opened with goes to the commands
	 * that read the file's layers (not to `config`, which shows the file's own). */
	if (u->config_path && strcmp(c->name, "config") != 0) {
		args[n++] = (char *)"--config";
		args[n++] = u->config_path;
		if (u->load_order != KS_LOAD_DEFAULT) {
			args[n++] = (char *)"--load-order";
			args[n++] = (char *)ks_load_order_name(u->load_order);
		}
	}
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
		/* The keyboard stays the inspector's. */
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
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

/* ---- predict and the activation walk ----------------------------------- */

/* The activations of the last predict: `kerascope predict ... --save-activations
 * DIR` writes one NNN_<layer>.npy per step (NNN = execution order, '/' of
 * nested names as '_', _K for output K of multi-output layers); they are read
 * when first shown and kept. */
struct ui_acts {
	char dir[4096];
	char **files;       /* names in dir, sorted (step order) */
	ks_array *arrays;   /* loaded lazily, parallel to files */
	bool *loaded;
	int n;
};

void ui_acts_free(ui_acts *a)
{
	if (!a)
		return;
	for (int i = 0; i < a->n; i++) {
		char *p = ks_xasprintf("%s/%s", a->dir, a->files[i]);
		unlink(p);
		free(p);
		if (a->loaded[i])
			ks_array_free(&a->arrays[i]);
		free(a->files[i]);
	}
	/* Files the scan did not list (none normally) keep the folder: harmless. */
	rmdir(a->dir);
	free(a->files);
	free(a->arrays);
	free(a->loaded);
	free(a);
}

bool ui_acts_have(const ui *u)
{
	return u->acts && u->acts->n > 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Index of the file holding the first output of the first call of layer. */
static int acts_find(const ui_acts *a, const char *layer)
{
	char *safe = ks_xstrdup(layer);
	for (char *p = safe; *p; p++)
		if (*p == '/' || *p == '\\' || *p == ' ')
			*p = '_';
	char *one = ks_xasprintf("%s.npy", safe), *first = ks_xasprintf("%s_0.npy", safe);
	int found = -1;
	for (int i = 0; i < a->n && found < 0; i++) {
		const char *us = strchr(a->files[i], '_');
		if (us && (strcmp(us + 1, one) == 0 || strcmp(us + 1, first) == 0))
			found = i;
	}
	free(safe);
	free(one);
	free(first);
	return found;
}

bool ui_acts_source(ui *u, const char *layer, ui_tsrc *out)
{
	ui_acts *a = u->acts;
	if (!ui_acts_have(u))
		return false;
	int i = acts_find(a, layer);
	if (i < 0)
		return false;
	if (!a->loaded[i]) {
		ks_err err;
		char *p = ks_xasprintf("%s/%s", a->dir, a->files[i]);
		int rc = ks_npy_read(p, &a->arrays[i], &err);
		free(p);
		if (rc < 0) {
			ui_error(u, "activation of %s: %s", layer, err.msg);
			return false;
		}
		a->loaded[i] = true;
	}
	memset(out, 0, sizeof *out);
	out->mem = a->arrays[i].data;
	out->rank = a->arrays[i].rank;
	memcpy(out->shape, a->arrays[i].shape, sizeof out->shape);
	snprintf(out->name, sizeof out->name, "activation of %s", layer);
	snprintf(out->where, sizeof out->where, "output of %s in the last predict", layer);
	out->dtype = "float32";
	return true;
}

static ui_acts *acts_scan(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return NULL;
	ui_acts *a = ks_xcalloc(1, sizeof *a);
	snprintf(a->dir, sizeof a->dir, "%s", dir);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!ks_str_endswith(e->d_name, ".npy"))
			continue;
		a->files = ks_xrealloc(a->files, (size_t)(a->n + 1) * sizeof *a->files);
		a->files[a->n++] = ks_xstrdup(e->d_name);
	}
	closedir(d);
	if (a->n)
		ks_qsort(a->files, (size_t)a->n, sizeof *a->files, cmp_str);
	a->arrays = ks_xcalloc((size_t)(a->n ? a->n : 1), sizeof *a->arrays);
	a->loaded = ks_xcalloc((size_t)(a->n ? a->n : 1), sizeof *a->loaded);
	return a;
}

static void cmd_predict(ui *u, int argc, char **argv, const char *line)
{
	if (u->plain) {
		ui_error(u, "predict: %s is not a Keras model", u->path);
		return;
	}
	const cli_command *c = find_cli("predict");
	if (!c) {
		ui_error(u, "predict: not available in this build");
		return;
	}
	/* Without inputs, zeros (the command line insists on a choice). */
	bool given = false;
	for (int i = 1; i < argc; i++)
		if (ks_str_startswith(argv[i], "--input") || ks_str_startswith(argv[i], "--random") ||
		    strcmp(argv[i], "--zeros") == 0)
			given = true;
	const char *t = getenv("TMPDIR");
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/kerascope-acts.XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(dir)) {
		ui_error(u, "predict: cannot create a folder for the activations: %s", strerror(errno));
		return;
	}
	char **args = ks_xcalloc((size_t)argc + 7, sizeof *args);
	memcpy(args, argv, (size_t)argc * sizeof *args);
	int n = argc;
	if (!given)
		args[n++] = (char *)"--zeros";
	args[n++] = (char *)"--save-activations";
	args[n++] = dir;
	/* While recording, the child writes a one-run session beside the
	 * activations; the core then adds it to the recording. */
	char *rec = u->record ? ks_xasprintf("%s/run.session.h5", dir) : NULL;
	if (rec) {
		args[n++] = (char *)"--record";
		args[n++] = rec;
		args[n++] = (char *)"--record-activations";
	}
	/* Runs in a child: Ctrl-C stops it, a crash cannot take the inspector. */
	int st = 0;
	char *out = run_cli(u, c, n, args, &st);
	free(args);
	bool recorded = false;
	ks_err err;
	if (rec && out && st == 0) {
		if (ks_session_append(u->record, rec, &err) == 0)
			recorded = true;
		else
			ui_error(u, "record: %s", err.msg);
	}
	if (rec) {
		unlink(rec);
		free(rec);
	}
	if (recorded)
		u->n_recorded++;
	ui_acts *a = acts_scan(dir);
	if (!out || st != 0 || !a || a->n == 0) {
		ui_acts_free(a);
		rmdir(dir);
		if (out) {
			ui_output_open(u, line, out);
			ui_error(u, "predict failed (exit status %d): see the output", st);
		}
		free(out);
		return;
	}
	ui_acts_free(u->acts);
	u->acts = a;
	/* short lines: the output view does not wrap */
	char *text = ks_xasprintf("%s\nEvery layer's activation is kept: close this view (q), select a layer,\n"
	                          "and press Enter on 'output' in the detail pane (or :show LAYER).\n",
	                          out);
	ui_output_open(u, line, text);
	free(text);
	free(out);
	ui_detail_build(u);
	if (recorded)
		ui_msg(u, "predict done%s: %d activations kept; recorded in %s (%d prediction%s)",
		       given ? "" : " on zeros", a->n, u->record, u->n_recorded, u->n_recorded == 1 ? "" : "s");
	else if (!u->record)
		ui_msg(u, "predict done%s: %d activations kept", given ? "" : " on zeros", a->n);
}

/* :record FILE starts adding every predict to a new session; :record off stops. */
static void cmd_record(ui *u, int argc, char **argv)
{
	if (argc != 2) {
		ui_error(u, "record: give FILE (a new session file) or off");
		return;
	}
	if (strcmp(argv[1], "off") == 0) {
		if (!u->record) {
			ui_error(u, "record: not recording");
			return;
		}
		ui_msg(u, "recording stopped: %d prediction%s in %s", u->n_recorded, u->n_recorded == 1 ? "" : "s",
		       u->record);
		free(u->record);
		u->record = NULL;
		return;
	}
	if (u->plain) {
		ui_error(u, "record: %s is not a Keras model: nothing to predict", u->path);
		return;
	}
	if (u->record) {
		ui_error(u, "record: already recording to %s (:record off first)", u->record);
		return;
	}
	if (access(argv[1], F_OK) == 0) {
		ui_error(u, "record: %s already exists: a session is only ever written to a new file", argv[1]);
		return;
	}
	u->record = ks_xstrdup(argv[1]);
	u->n_recorded = 0;
	ui_msg(u, "recording every predict to %s (:record off stops)", u->record);
}

/* :config ARCH reopens the file with that architecture, :config --none
 * without one; :config alone shows the file's own architecture. */
static void cmd_config(ui *u, int argc, char **argv, const char *line)
{
	ks_err err;
	if (argc == 1) {
		const cli_command *c = find_cli("config");
		int st = 0;
		char *args[] = {argv[0], (char *)"--pretty"};
		char *out = c ? run_cli(u, c, 2, args, &st) : NULL;
		if (out) {
			ui_output_open(u, line, out);
			if (st != 0)
				ui_error(u, "config: %s holds no architecture of its own%s", u->path,
				         u->config_path ? "" : " (give :config ARCH)");
		}
		free(out);
		return;
	}
	if (argc != 2) {
		ui_error(u, "config: give one ARCH file (or --none)");
		return;
	}
	bool none = strcmp(argv[1], "--none") == 0;
	if (ui_reopen(u, none ? NULL : argv[1], &err) < 0) {
		ui_error(u, "config: %s", err.msg);
		return;
	}
	if (none)
		ui_msg(u, "reopened %s without an architecture", u->path);
	else if (u->model->format != KS_FMT_WEIGHTS_H5 && u->model->format != KS_FMT_KERAS3_WEIGHTS)
		ui_msg(u, "%s has its own architecture: %s is not used", u->path, argv[1]);
	else
		ui_msg(u, "reopened %s with the architecture of %s", u->path, argv[1]);
	char *note = ks_loadmap_note(u->model->loadmap, u->path);
	if (note)
		ui_msg(u, "%s", note);
	free(note);
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
	char near[512];
	if (!u->plain && ks_model_suggest_weight(u->model, spec, near, sizeof near))
		ui_error(u, "show: no weight or layer named '%s' (did you mean '%s'?)", spec, near);
	else if (!u->plain && ks_model_suggest_layer(u->model, spec, near, sizeof near))
		ui_error(u, "show: no weight or layer named '%s' (did you mean '%s'?)", spec, near);
	else
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
		const char *names[UI_CMD_COUNT];
		size_t n = 0;
		for (const ui_cmd_info *c = ui_cmd_table; c->name && n < UI_CMD_COUNT; c++)
			names[n++] = c->name;
		const char *near = ks_suggest(argv[0], names, n);
		if (near)
			ui_error(u, "unknown command '%s' (did you mean :%s? try :help)", argv[0], near);
		else
			ui_error(u, "unknown command '%s' (try :help)", argv[0]);
		ui_argv_free(argv, argc);
		return;
	}
	switch (ci->cmd) {
	case UI_CMD_DOCTOR:
		if (argc == 1) {
			ui_doctor_open(u);
			break;
		}
		/* with arguments: the command-line twin */
		/* fall through */
	case UI_CMD_SUMMARY:
	case UI_CMD_LS:
	case UI_CMD_DUMP:
	case UI_CMD_ATTRS:
	case UI_CMD_DIFF:
	case UI_CMD_EVALUATE: {
		const cli_command *c = find_cli(argv[0]);
		if (!c) {
			ui_error(u, "%s: not available in this build", argv[0]);
			break;
		}
		int st = 0;
		char *out = run_cli(u, c, argc, argv, &st);
		if (out) {
			ui_output_open(u, line, out);
			if (st == 0 || (st == 1 && (ci->cmd == UI_CMD_DIFF || ci->cmd == UI_CMD_DOCTOR)))
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
	case UI_CMD_RECORD:
		cmd_record(u, argc, argv);
		break;
	case UI_CMD_CONFIG:
		cmd_config(u, argc, argv, line);
		break;
	case UI_CMD_OPEN:
		if (argc != 2) {
			ui_error(u, "open: give one LAYER name");
			break;
		}
		if (u->plain || !ui_layers_select(u, argv[1])) {
			char near[512];
			if (!u->plain && ks_model_suggest_layer(u->model, argv[1], near, sizeof near))
				ui_error(u, "open: no layer named '%s' (did you mean '%s'?)", argv[1], near);
			else
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
