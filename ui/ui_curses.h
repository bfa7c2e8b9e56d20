/* ui_curses: the one place that includes curses (htop's ProvideCurses.h).
 * ncursesw's pkg-config flags (-D_XOPEN_SOURCE=600) expose the wide-char API
 * that UTF-8 drawing and save-display rely on. */
#ifndef UI_CURSES_H
#define UI_CURSES_H

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <curses.h>

#endif
