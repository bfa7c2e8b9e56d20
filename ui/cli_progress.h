/* cli_progress: the progress line long commands show on a terminal, and
 * Ctrl-C as a request to stop cleanly.
 *
 *     cli_progress pg;
 *     cli_progress_start(&pg, "reading", true); // installs the SIGINT handler
 *     ... core work calling cli_progress_update(&pg, done, total) ...
 *     cli_progress_end(&pg);                // clears the line, restores SIGINT
 *
 * The line goes to stderr only when stderr is a terminal, only once the work
 * has taken half a second, and is redrawn at most ten times a second.
 * cli_progress_update returns nonzero once Ctrl-C was pressed, which the
 * core's progress callbacks take as "stop". */
#ifndef CLI_PROGRESS_H
#define CLI_PROGRESS_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

typedef struct cli_progress {
	const char *what;
	bool tty, shown;
	struct timespec start, last;
	struct sigaction old;
} cli_progress;

/* show false keeps the line off (e.g. diff -q) but still catches Ctrl-C. */
void cli_progress_start(cli_progress *p, const char *what, bool show);
/* done of total (any unit); returns nonzero when the user asked to stop. */
int cli_progress_update(cli_progress *p, int64_t done, int64_t total);
/* Clears the line (before printing results); Ctrl-C stays caught. */
void cli_progress_clear(cli_progress *p);
/* Clears the line and restores the previous SIGINT handling. */
void cli_progress_end(cli_progress *p);
/* True once Ctrl-C was pressed since cli_progress_start. */
bool cli_progress_interrupted(void);

#endif
