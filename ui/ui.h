/* ui: the interactive inspector's shared state and the contracts between its
 * modules. Nothing outside ui/ includes this.
 *
 * Shape of the program (ncdu's immediate mode, tig's views):
 *   - ui_tui.c owns the main loop: it reads one event (ui_input.c: keys from
 *     the terminal or from a KERASCOPE_SCRIPT), maps it to a request through
 *     the one key table (ui_keys.h), offers it to the top view, falls back to
 *     generic handling, then redraws the whole screen from state.
 *   - The base screen is the browser: the layer pane (ui_view_layers.c; the
 *     HDF5 tree for non-Keras files) and the detail pane (ui_view_detail.c).
 *     Other views (tensor, file, help, command output, HDF5 tree) are pushed
 *     on a stack and popped with q/Esc.
 *   - Most views are lists of text lines (ui_list.c) with a selection, scroll
 *     and search; the tensor view draws itself.
 *   - ui_display.c owns curses: set-up/teardown, headless newterm, signals,
 *     stderr capture, clipped UTF-8 drawing, save-display.
 *   - ui_prompt.c runs GNU readline's callback interface in the last line.
 *   - ui_cmd.c executes command lines, the same text as on the command line.
 *
 * Memory: every view owns its private state (allocated by ui_view_push from
 * ops->private_size, released after ops->done) and its lines. Model objects
 * are borrowed from u->model, which outlives every view.
 */
#ifndef UI_H
#define UI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ks_model.h"
#include "ks_ops.h"
#include "ks_status.h"
#include "ui_argv.h"
#include "ui_keys.h"

typedef struct ui ui;
typedef struct ui_view ui_view;

/* Drawing roles; ui_display maps them to colours or mono attributes. */
enum ui_role {
	UI_R_NORMAL = 0,
	UI_R_TITLE,    /* top bar */
	UI_R_STATUS,   /* status line */
	UI_R_HEADER,   /* section headings */
	UI_R_DIM,      /* secondary text: defaults, hints */
	UI_R_CURSOR,   /* the selected row in the focused pane */
	UI_R_CURSOR_UNFOCUSED,
	UI_R_ERROR,
	UI_R_MATCH,    /* highlighted tensor values, search hits */
	UI_R_CLASS,    /* layer class names */
	UI_R_NUMBER,
	UI_R_HEAT0,    /* heatmap levels HEAT0..HEAT0+UI_HEAT_LEVELS-1 */
};
#define UI_HEAT_LEVELS 8

/* ---- text lists ------------------------------------------------------- */

typedef struct ui_line {
	char *text;        /* owned, UTF-8 */
	int role;          /* enum ui_role for the whole line */
	int tag;           /* view-specific kind of row (0: plain text, not selectable) */
	int idx;           /* view-specific index */
	const void *ptr;   /* borrowed object of the row */
} ui_line;

typedef struct ui_list {
	ui_line *v;
	int n, cap;
	int sel, top;      /* selected line, first visible line */
	int left;          /* columns scrolled off to the left (h/l in text views) */
	int height;        /* rows at the last draw (for paging) */
} ui_list;

void ui_list_clear(ui_list *l);
void ui_list_add(ui_list *l, int role, int tag, int idx, const void *ptr, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* Adds each line of text (split on '\n') as plain rows. */
void ui_list_add_text(ui_list *l, int role, const char *text);
/* Movement requests; true when consumed. */
bool ui_list_request(ui_list *l, enum ui_request req);
void ui_list_draw(ui *u, ui_list *l, int y, int x, int h, int w, bool focused);
/* Case-insensitive substring search from the selection in direction dir
 * (+1/-1), wrapping; selects and returns the line or -1. */
int ui_list_search(ui_list *l, const char *needle, int dir);
/* Selects line i (clamped) and scrolls it into view. */
void ui_list_select(ui_list *l, int i);
/* Maps a screen row of a list drawn at y to a line index, or -1. */
int ui_list_line_at(const ui_list *l, int row);

/* ---- views ------------------------------------------------------------ */

struct ui_view_ops {
	const char *name;      /* shown in the status line ("tensor", "file", ...) */
	size_t private_size;   /* bytes of zeroed private state ui_view_push allocates */
	bool overlay;          /* drawn over the view below (help) */
	/* Draws into the rectangle; NULL draws v->list. */
	void (*draw)(ui *u, ui_view *v, int y, int x, int h, int w);
	/* Offered every request first; returns true when consumed. NULL: list moves only. */
	bool (*request)(ui *u, ui_view *v, enum ui_request req);
	/* Finds the next match in direction dir; NULL searches v->list. */
	bool (*search)(ui *u, ui_view *v, const char *needle, int dir);
	/* Releases what priv points to (not priv itself). May be NULL. */
	void (*done)(ui_view *v);
};

struct ui_view {
	const struct ui_view_ops *ops;
	void *priv;
	ui_list list;
	char title[256];       /* view heading, shown in the status line */
	int y, x, h, w;        /* rectangle of the last draw (mouse hit tests) */
};

/* Pushes a new view (fresh private state) and returns it. */
ui_view *ui_view_push(ui *u, const struct ui_view_ops *ops, const char *title);
/* Pops and frees the top view; false when only the browser is left. */
bool ui_view_pop(ui *u);
ui_view *ui_view_top(ui *u);   /* NULL when the browser is on top */

/* ---- tensors ---------------------------------------------------------- */

/* What the tensor view shows: a stored weight (read lazily through the
 * loader), or an activation held in memory by the last predict. */
typedef struct ui_tsrc {
	const ks_model *m;     /* owner of w */
	const ks_weight *w;    /* stored weight, or NULL */
	const float *mem;      /* activation values (borrowed), or NULL */
	int rank;
	int64_t shape[KS_MAX_RANK];
	char name[256];        /* "dense_1/kernel", "activation of dense_1" */
	char where[512];       /* HDF5 path or "predict output" */
	const char *dtype;     /* "float32", ... */
} ui_tsrc;

void ui_tsrc_weight(ui_tsrc *s, const ks_model *m, const ks_layer *owner, const ks_weight *w);
/* Reads the hyperslab start/count as float32 into dst. */
int ui_tsrc_read(const ui_tsrc *s, const int64_t *start, const int64_t *count, float *dst,
                 ks_err *err);

/* Pushes a tensor view; false with u's message set on failure. */
bool ui_tensor_open(ui *u, const ui_tsrc *src);
/* Prompt commands that act on the tensor view on top (error message otherwise). */
int ui_tensor_command(ui *u, enum ui_command cmd, int argc, char **argv, ks_err *err);

/* ---- the inspector ---------------------------------------------------- */

#define UI_MAX_STACK 8
#define UI_MIN_ROWS 10
#define UI_MIN_COLS 40

/* Results of the last predict kept for the activation walk (ui_cmd.c). */
typedef struct ui_acts ui_acts;

struct ui {
	ks_model *model;          /* owned */
	const char *path;
	char *config_path;        /* --config / :config ARCH (owned), or NULL */
	ks_load_order load_order; /* --load-order */
	bool plain;               /* not a Keras model: the layer pane is the HDF5 tree */
	ks_shape *shapes;         /* output shape per top-level layer (owned), or NULL */

	ui_view layers;           /* left pane of the browser */
	ui_view detail;           /* right pane of the browser */
	int focus;                /* 0: layer pane, 1: detail pane */
	bool wide;                /* last layout had the panes side by side */
	ui_view *stack[UI_MAX_STACK];
	int depth;

	bool prompting;           /* the command pane has the focus */
	int prompt_kind;          /* ':' command or '/' search */
	char search[256];         /* last search text */

	char matches[512];        /* completion candidates, shown while prompting */
	char msg[512];            /* message line */
	bool msg_error;
	bool quit;

	ui_acts *acts;            /* last predict, or NULL */
	char *record;             /* :record FILE: the session each predict is added to, or NULL */
	int n_recorded;           /* predictions added to it */
	void *expanded;           /* layer pane: set of expanded nested models (ui_view_layers.c) */
	int n_expanded;
	char **marks;             /* "layer\tfinding-id" of layers the doctor cited (owned) */
	int n_marks;
};

/* Reopens u->path with the architecture config_path (NULL: none) and
 * u->load_order, replacing the model and resetting the views; on failure
 * the open model stays and err says why. (ui_tui.c) */
int ui_reopen(ui *u, const char *config_path, ks_err *err);

/* Message line. ui_error also sets the error role. */
void ui_msg(ui *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ui_error(ui *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Redraws everything now (used before long work). */
void ui_redraw(ui *u);

/* Progress for long work: draws "label NN% (Ctrl-C cancels)" at most every
 * 100 ms and returns true once the user pressed Ctrl-C. */
void ui_progress_begin(ui *u, const char *label);
bool ui_progress(ui *u, double fraction);
void ui_progress_end(ui *u);

/* Browser panes. */
void ui_layers_build(ui *u);                   /* (re)fills u->layers.list */
bool ui_layers_request(ui *u, enum ui_request req);
/* The layer selected in the layer pane (NULL for none) and its model. */
const ks_layer *ui_layers_selected(ui *u, const ks_model **owner);
/* Selects a layer by name ("inner" or "outer/inner"), expanding nested
 * models on the way; false when absent. */
bool ui_layers_select(ui *u, const char *name);
/* "outer/inner" path of the selected layer (plan step name), or NULL. */
const char *ui_layers_selected_path(ui *u);
void ui_layers_free(ui *u);
/* Columns the layer pane needs to show every row up to its Params column. */
int ui_layers_core_width(ui *u);
void ui_detail_build(ui *u);                   /* (re)fills u->detail.list */
bool ui_detail_request(ui *u, enum ui_request req);

/* Pushed views. */
void ui_help_open(ui *u);
void ui_file_open(ui *u);
void ui_output_open(ui *u, const char *title, const char *text);
bool ui_tree_open(ui *u);
/* Fills a list with the file's HDF5 tree (also the plain-file layer pane). */
int ui_tree_fill(ui *u, ui_list *l, ks_err *err);
/* Enter on a tree row of l: opens the dataset in the tensor view. */
bool ui_tree_enter(ui *u, ui_list *l);
void ui_tree_clear(ui_list *l);
/* The detail pane of a plain file: the selected object's kind and attributes. */
void ui_tree_detail(ui *u, const ui_list *tree, ui_list *out);

/* The doctor's findings view (ui_view_doctor.c); the layers it cited stay
 * flagged in the layer pane until the next run or exit. */
void ui_doctor_open(ui *u);
/* The finding id that flags layer path ("outer/inner"), or NULL. */
const char *ui_mark_of(const ui *u, const char *path);
void ui_marks_free(ui *u);

/* Commands (ui_cmd.c). Runs one command line; errors go to the message line. */
void ui_cmd_run(ui *u, const char *line);
/* Activation of a layer after predict ("name" as in the plan); false if none. */
bool ui_acts_source(ui *u, const char *layer, ui_tsrc *out);
bool ui_acts_have(const ui *u);
void ui_acts_free(ui_acts *a);

#endif
