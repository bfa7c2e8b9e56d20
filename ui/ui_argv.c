/* ui_argv: splits a command line into words, shell-style, so that the same
 * text works in the command pane, in a script and on the command line:
 * blanks separate words, '...' and "..." quote, a backslash escapes the next
 * character (outside single quotes). No variables, globs or substitutions. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ks_util.h"
#include "ui_argv.h"

int ui_argv_split(const char *line, char ***argv_out, int *argc_out, ks_err *err)
{
	char **argv = NULL;
	int argc = 0;
	size_t len = strlen(line);
	char *word = ks_xmalloc(len + 1);
	const char *p = line;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		size_t k = 0;
		char q = 0;
		while (*p && (q || (*p != ' ' && *p != '\t'))) {
			if (q && *p == q) {
				q = 0;
				p++;
			} else if (!q && (*p == '"' || *p == '\'')) {
				q = *p++;
			} else if (*p == '\\' && p[1] && q != '\'') {
				word[k++] = p[1];
				p += 2;
			} else {
				word[k++] = *p++;
			}
		}
		if (q) {
			free(word);
			ui_argv_free(argv, argc);
			return ks_fail(err, "unterminated quote in '%s'", line);
		}
		argv = ks_xrealloc(argv, (size_t)(argc + 2) * sizeof *argv);
		argv[argc++] = ks_xstrndup(word, k);
		argv[argc] = NULL;
	}
	free(word);
	*argv_out = argv;
	*argc_out = argc;
	return 0;
}

void ui_argv_free(char **argv, int argc)
{
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
}

