/* ui_input: where key events come from, the terminal or a script.
 *
 * KERASCOPE_SCRIPT=FILE feeds the inspector with events before (or, when
 * headless, instead of) the keyboard, tig-style. The bytes of typed commands
 * go through the real readline path. Script syntax, one item per line:
 *
 *   # comment                    (blank lines too)
 *   :command args                types ':' then the text then Enter
 *   :partial text<NoEnter>       the same without the final Enter
 *   jjl<Enter>                   any other line: keys, with <Name> escapes
 *   @save-display FILE           a directive, run between keys (not typed)
 *   @resize COLSxROWS            resizes the virtual screen, then KEY_RESIZE
 *
 * Key names: <Up> <Down> <Left> <Right> <PgUp> <PgDn> <Home> <End> <Enter>
 * <Tab> <Esc> <BS> <Del> <Space> <lt> (a literal '<'), <F1>..<F12>, <C-x>
 * (Ctrl-x), and the mouse: <Click:X,Y> <WheelUp:X,Y> <WheelDown:X,Y>.
 */
#ifndef UI_INPUT_H
#define UI_INPUT_H

#include <stdbool.h>

#include "ks_status.h"

typedef struct ui_event {
	int key;             /* curses key code or byte; KEY_MOUSE; 0 for a directive */
	int mx, my;          /* KEY_MOUSE: cell */
	int button;          /* KEY_MOUSE: 1 click, 4 wheel up, 5 wheel down */
	const char *directive; /* "save-display FILE" (borrowed until the next call) */
} ui_event;

/* Loads and parses the script; errors name the line. */
int ui_input_open_script(const char *path, ks_err *err);
void ui_input_close(void);

/* Next event. Returns 1 with *ev filled, 0 when timeout_ms passed without
 * input (timeout_ms < 0 waits), -1 at the end of a script in headless mode. */
int ui_input_next(ui_event *ev, int timeout_ms, bool headless);

/* True when Ctrl-C is waiting (consumed); other pending keys stay queued.
 * Used by long work between blocks. */
bool ui_input_poll_cancel(void);

#endif
