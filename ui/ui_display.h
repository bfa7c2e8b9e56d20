/* ui_display: curses set-up and teardown, and everything that must be right
 * for the terminal to survive (htop CRT.c, tig display.c).
 *
 *   - Real mode: newterm() on a private dup of stdout, so that commands run
 *     from the prompt may redirect fd 1 without disturbing curses.
 *   - Headless mode (KERASCOPE_NO_DISPLAY, or a script without a terminal):
 *     newterm() writing to /dev/null; the virtual screen is still complete,
 *     and save-display reads it back. Size from LINES/COLUMNS.
 *   - stderr is redirected into a temporary file while curses owns the
 *     terminal and replayed after endwin under a banner (htop redirectStderr):
 *     nothing a library prints can garble the screen.
 *   - Fatal signals restore the terminal, then re-raise (htop); SIGTERM and
 *     SIGHUP only set a flag that the main loop polls.
 *   - UTF-8 is used when the locale's codeset is UTF-8, else ASCII glyphs;
 *     colour only when the terminal has it and NO_COLOR is unset or empty.
 */
#ifndef UI_DISPLAY_H
#define UI_DISPLAY_H

#include <stdbool.h>

#include "ks_status.h"

int ui_display_init(bool headless, ks_err *err);
/* Restores the terminal and replays captured stderr. Idempotent. */
void ui_display_done(void);

bool ui_display_headless(void);
bool ui_display_utf8(void);
bool ui_display_color(void);
/* True once SIGTERM/SIGHUP arrived. */
bool ui_display_terminated(void);

/* Curses attributes for a role (enum ui_role). */
int ui_attr(int role);

/* Draws s at (y, x) in at most w columns (display width, UTF-8 aware;
 * control bytes, invalid sequences and hidden characters show escaped as
 * ks_esc.h says ("\e", "\x9b"); non-ASCII becomes '?'
 * in a non-UTF-8 locale). Returns the columns used. */
int ui_put(int y, int x, int w, int role, const char *s);
/* Fills w columns with spaces in role. */
void ui_fill(int y, int x, int w, int role);
/* Display width of s (same rules as ui_put). */
int ui_strwidth(const char *s);
/* Byte length of the longest prefix of s that fits in w columns. */
size_t ui_strfit(const char *s, int w);

/* Glyphs with an ASCII fallback. */
typedef struct ui_glyphs {
	const char *tee, *ell, *vline, *space; /* tree: "├─ ", "└─ ", "│  ", "   " */
	const char *sep;                       /* pane separator "│" */
	const char *shade[5];                  /* heatmap without colour: light to full */
	const char *bar;                       /* histogram bar "█" */
	const char *expanded, *collapsed;      /* nested model markers */
	const char *arrow;                     /* inbound arrow "←" */
} ui_glyphs;
const ui_glyphs *ui_glyph(void);

/* Writes the screen as text, one line per row, trailing spaces removed. */
int ui_display_save(const char *path, ks_err *err);

/* Ctrl-Z: leaves curses, stops the process, and restores the screen on resume. */
void ui_display_suspend(void);
/* Resizes the virtual screen (headless scripts: @resize). */
void ui_display_resize(int rows, int cols);

#endif
