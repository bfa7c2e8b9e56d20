/* ui_tui: the interactive inspector, `kerascope FILE` on a terminal.
 *
 * Environment:
 *   KERASCOPE_SCRIPT=FILE   feed keys and :commands from FILE (ui_input.h)
 *   KERASCOPE_NO_DISPLAY=1  headless: curses draws into /dev/null, size from
 *                           LINES/COLUMNS; also implied by a script without a
 *                           terminal. The program ends with the script.
 *   NO_COLOR (non-empty)    no colour; ASCII glyphs unless the locale is UTF-8
 */
#ifndef UI_TUI_H
#define UI_TUI_H

#include <stdbool.h>

#include "ks_model.h"

/* Opens path with opts (may be NULL: --config, --load-order; kept for
 * the commands run from the inspector and for :config) and runs the
 * inspector until quit. Returns the exit status: 0, or 2 with one line on
 * stderr when the file cannot be opened, the script is bad or the terminal
 * cannot be used. */
int ui_tui_run(const char *path, const ks_open_opts *opts);

/* The same, running the command line `first` (as typed after ':') once the
 * model is shown: `kerascope A B` opens A with `:diff B`. */
int ui_tui_run_with(const char *path, const ks_open_opts *opts, const char *first);

/* True when `kerascope FILE` should open the inspector rather than print
 * the summary: KERASCOPE_SCRIPT is set, or stdin and stdout are terminals
 * that can move the cursor (for TERM=dumb it prints a note and says no). */
bool ui_tui_wanted(void);

#endif
