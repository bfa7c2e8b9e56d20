/* ui_prompt: GNU readline inside curses through the callback interface
 * (STYLE §10.8; rlncurses, gdb's TUI, tig's prompt.c).
 *
 * The main loop owns input: while the command pane has the focus each key is
 * handed to ui_prompt_key(), which stores it and calls rl_callback_read_char();
 * readline reads it back through our getc hook. readline never touches the
 * terminal: its terminal preparation, signal and SIGWINCH handling are off,
 * its output stream is /dev/null, and its redisplay, completion listing and
 * prompt are drawn by us in the last screen line. Curses KEY_* codes are
 * translated into the ANSI sequences readline binds (ui_key_translate).
 *
 * History lives in $XDG_DATA_HOME/kerascope/history (default
 * ~/.local/share/kerascope/history), deduplicated when written.
 * rl_readline_name is "kerascope", so `$if kerascope` works in ~/.inputrc.
 * Known limitation: multibyte input inside reverse-i-search (byte feeding).
 */
#ifndef UI_PROMPT_H
#define UI_PROMPT_H

#include <stddef.h>

#include "ui.h"

void ui_prompt_init(ui *u);
/* Writes the history and releases readline. */
void ui_prompt_done(void);

/* Focuses the command pane: kind ':' for commands, '/' for search; prefill
 * (may be NULL) is typed in already. */
void ui_prompt_begin(ui *u, int kind, const char *prefill);
/* Leaves the command pane, discarding the line. */
void ui_prompt_cancel(ui *u);
/* Feeds one curses key to readline. */
void ui_prompt_key(ui *u, int key);
/* Draws the command line (the prompt and the edited text, scrolled so the
 * cursor shows) in row y and leaves the cursor there. */
void ui_prompt_draw(ui *u, int y, int w);
void ui_prompt_resize(int rows, int cols);

/* Called with each accepted line (ui_tui.c). */
void ui_on_prompt_line(ui *u, int kind, const char *line);

#endif
