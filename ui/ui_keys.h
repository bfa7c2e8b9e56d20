/* ui_keys: the ONE table of interactive requests and prompt commands.
 *
 * Every key binding is a row of UI_REQ_INFO: the request it sends, a short
 * name, the description shown in the help overlay and the man page, and up
 * to three default key codes. Every prompt command is a row of UI_CMD_INFO.
 * The help overlay, readline completion and the man page section are all
 * generated from these two lists (tig's REQ_INFO), so they cannot drift
 * apart: tests/ui/man-test checks that kerascope.1 mentions every entry.
 */
#ifndef UI_KEYS_H
#define UI_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "ui_curses.h"

#define UI_CTRL(c) ((c) & 0x1f)
#define UI_KEY_ESC 27
/* Pseudo key codes for the mouse rows of the table (never read from curses). */
#define UI_KEY_CLICK (KEY_MAX + 1)
#define UI_KEY_WHEEL (KEY_MAX + 2)

/* G(group title) starts a help section; R(id, name, help, key1, key2, key3). */
#define UI_REQ_INFO(G, R) \
	G("Moving") \
	R(MOVE_UP, "move-up", "Move the selection up", KEY_UP, 'k', 0) \
	R(MOVE_DOWN, "move-down", "Move the selection down", KEY_DOWN, 'j', 0) \
	R(MOVE_LEFT, "move-left", "Collapse a nested model; scroll the tensor grid left", KEY_LEFT, 'h', 0) \
	R(MOVE_RIGHT, "move-right", "Expand a nested model; scroll the tensor grid right", KEY_RIGHT, 'l', 0) \
	R(PAGE_UP, "page-up", "Move one page up", KEY_PPAGE, UI_CTRL('b'), 0) \
	R(PAGE_DOWN, "page-down", "Move one page down", KEY_NPAGE, UI_CTRL('f'), ' ') \
	R(FIRST, "first", "Go to the first line", KEY_HOME, 'g', 0) \
	R(LAST, "last", "Go to the last line", KEY_END, 'G', 0) \
	R(CLICK, "click", "Mouse: a click selects the row under the pointer", UI_KEY_CLICK, 0, 0) \
	R(WHEEL, "wheel", "Mouse: the wheel scrolls the pane under the pointer", UI_KEY_WHEEL, 0, 0) \
	G("Views") \
	R(ENTER, "enter", "Open the selected layer, weight, activation or dataset", KEY_ENTER, '\r', '\n') \
	R(SWITCH_PANE, "switch-pane", "Switch between the layer pane and the detail pane", '\t', 0, 0) \
	R(BACK, "back", "Close the current view (leave the command pane)", UI_KEY_ESC, KEY_BACKSPACE, 0) \
	R(QUIT, "quit", "Close the current view; quit from the browser", 'q', 0, 0) \
	R(QUIT_NOW, "quit-now", "Quit kerascope at once", 'Q', 0, 0) \
	R(FILE_VIEW, "file", "File view: format, versions, backend, training config, optimizer", 'i', 0, 0) \
	R(TREE_VIEW, "tree", "Raw HDF5 tree of the file", 't', 0, 0) \
	R(DOCTOR_VIEW, "doctor", "Doctor: why a reloaded model behaves differently (diff mode: the pair too)", 'D', 0, 0) \
	R(HELP, "help", "Show this help", '?', KEY_F(1), 0) \
	G("Tensor view") \
	R(CYCLE_MODE, "mode", "Cycle values grid, heatmap and histogram", 'v', 0, 0) \
	R(CELL_STAT, "cell-stat", "Heatmap: per cell the mean, the largest |x| or the std", 'c', 0, 0) \
	R(SLICE, "slice", "Choose the 2-D slice shown (:slice [0,:,:,3])", 's', 0, 0) \
	R(JUMP, "goto", "Jump to an index (:goto 3,4)", 'J', 0, 0) \
	R(RANGE, "highlight", "Highlight values in a range (:highlight LO HI)", 'r', 0, 0) \
	R(EXPORT, "export", "Export to .npy or .csv (:export FILE)", 'e', 0, 0) \
	R(DIFF_SIDE, "diff-side", "Diff mode: show a, b or a-b (then n/N: next/previous changed element)", 'd', 0, 0) \
	G("Commands and search") \
	R(PROMPT, "prompt", "Focus the command pane (Esc leaves it)", ':', 0, 0) \
	R(SEARCH, "search", "Search forward (names, text, or =VALUE >X <X nan in a tensor)", '/', 0, 0) \
	R(FIND_NEXT, "next", "Next match", 'n', 0, 0) \
	R(FIND_PREV, "previous", "Previous match", 'N', 0, 0) \
	R(PREDICT, "predict", "Run the model (:predict --input X); then Enter shows each activation", 'p', 0, 0) \
	G("Terminal") \
	R(REDRAW, "redraw", "Redraw the screen", UI_CTRL('l'), 0, 0) \
	R(CANCEL, "cancel", "Cancel long work; clear the command line", UI_CTRL('c'), 0, 0) \
	R(SUSPEND, "suspend", "Suspend kerascope (resume with fg)", UI_CTRL('z'), 0, 0)

enum ui_request {
	UI_REQ_NONE = 0,
#define UI_REQ_G_(title)
#define UI_REQ_R_(id, name, help, k1, k2, k3) UI_REQ_##id,
	UI_REQ_INFO(UI_REQ_G_, UI_REQ_R_)
#undef UI_REQ_G_
#undef UI_REQ_R_
	UI_REQ_COUNT
};

/* C(id, name, args, help). "cli" rows run the matching command-line
 * subcommand on the open file with the same arguments. */
#define UI_CMD_INFO(C) \
	C(SUMMARY, "summary", "[OPTIONS]", "Model summary, as `kerascope summary FILE`") \
	C(LS, "ls", "[OPTIONS]", "List layers and weights, as `kerascope ls FILE`") \
	C(DUMP, "dump", "WEIGHT [OPTIONS]", "Print weight values, as `kerascope dump FILE`") \
	C(ATTRS, "attrs", "[PATH] [OPTIONS]", "HDF5 attributes, as `kerascope attrs FILE`") \
	C(CONFIG, "config", "[ARCH|--none]", "Reopen with the architecture ARCH (JSON or model file); alone, show the file's own") \
	C(PREDICT, "predict", "[--input X ...] [OPTIONS]", "Run the model; keeps every layer's activation for the tensor view") \
	C(EVALUATE, "evaluate", "--input X --labels-from L [OPTIONS]", "Accuracy, loss and confusion table on labelled data, as `kerascope evaluate FILE`") \
	C(DIFF, "diff", "OTHER [OPTIONS]|--input X|off", "Diff mode: compare with OTHER (as `kerascope diff FILE OTHER`), changes marked in the panes; --input X or --random SEED runs both; off ends") \
	C(DOCTOR, "doctor", "[FILE2] [OPTIONS]", "Findings view (D); with arguments, as `kerascope doctor FILE ...`") \
	C(RECORD, "record", "FILE|off", "Record every predict in the new session FILE (see replay); off stops") \
	C(OPEN, "open", "LAYER", "Select LAYER (outer/inner for nested layers) in the layer pane") \
	C(SHOW, "show", "WEIGHT|LAYER", "Open a weight (layer/weight) or, after predict, a layer's activation") \
	C(SLICE, "slice", "SPEC", "Show another 2-D slice of the tensor: [0,:,:,3]") \
	C(GOTO, "goto", "INDEX", "Move the tensor cursor to an index: 3,4 or 0,1,2,3") \
	C(HIGHLIGHT, "highlight", "LO HI|off", "Highlight tensor values in [LO, HI]") \
	C(EXPORT, "export", "FILE", "Export the tensor to FILE.npy (whole) or FILE.csv (2-D slice)") \
	C(INFO, "info", "", "File view: format, versions, backend, training config, optimizer") \
	C(TREE, "tree", "", "Raw HDF5 tree of the file") \
	C(HELP, "help", "", "Help: keys and commands") \
	C(SAVE_DISPLAY, "save-display", "FILE", "Write the screen as text to FILE") \
	C(QUIT, "quit", "", "Quit kerascope")

enum ui_command {
	UI_CMD_NONE = 0,
#define UI_CMD_C_(id, name, args, help) UI_CMD_##id,
	UI_CMD_INFO(UI_CMD_C_)
#undef UI_CMD_C_
	UI_CMD_COUNT
};

typedef struct ui_req_info {
	const char *group;  /* non-NULL on a group title row */
	enum ui_request req;
	const char *name;
	const char *help;
	int keys[3];        /* 0 = unused */
} ui_req_info;

typedef struct ui_cmd_info {
	enum ui_command cmd;
	const char *name;
	const char *args;
	const char *help;
} ui_cmd_info;

/* The tables, group rows included, terminated by a row with name and group NULL. */
extern const ui_req_info ui_req_table[];
extern const ui_cmd_info ui_cmd_table[];

/* The request bound to key (UI_REQ_NONE if unbound). */
enum ui_request ui_key_request(int key);
/* "Up", "k", "Enter", "Ctrl-L", "F1", "Space", "Click", ... (static buffer). */
const char *ui_key_label(int key);
/* "Up, k" for a request row (static buffer). */
const char *ui_req_keys(const ui_req_info *r);
/* The bytes readline gets for a curses key (KEY_LEFT -> ESC [ D, KEY_BACKSPACE
 * -> DEL, ...) so that readline's own bindings apply; returns their count,
 * 0 for keys that mean nothing to readline. */
size_t ui_key_translate(int key, char *out, size_t size);
/* The command named name (exact), or NULL. */
const ui_cmd_info *ui_cmd_find(const char *name);

#endif
