/* ui_argv: shell-style splitting of command lines (see ui_argv.c). */
#ifndef UI_ARGV_H
#define UI_ARGV_H

#include "ks_status.h"

/* Splits line into *argc words (*argv NULL-terminated, owned: ui_argv_free).
 * An unterminated quote is an error naming the line. */
int ui_argv_split(const char *line, char ***argv, int *argc, ks_err *err);
void ui_argv_free(char **argv, int argc);

#endif
