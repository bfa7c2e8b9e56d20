#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli_progress.h"

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

static double since(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + 1e-9 * (double)(b->tv_nsec - a->tv_nsec);
}

void cli_progress_start(cli_progress *p, const char *what, bool show)
{
	struct sigaction sa;

	memset(p, 0, sizeof *p);
	p->what = what;
	p->tty = show && isatty(STDERR_FILENO);
	clock_gettime(CLOCK_MONOTONIC, &p->start);
	interrupted = 0;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &p->old);
}

int cli_progress_update(cli_progress *p, int64_t done, int64_t total)
{
	struct timespec now;

	if (interrupted)
		return 1;
	if (!p->tty)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (since(&p->start, &now) < 0.5 || (p->shown && since(&p->last, &now) < 0.1))
		return 0;
	p->last = now;
	p->shown = true;
	fprintf(stderr, "\r%s: %5.1f%%", p->what,
	        total ? 100.0 * (double)done / (double)total : 100.0);
	fflush(stderr);
	return 0;
}

void cli_progress_clear(cli_progress *p)
{
	if (p->shown)
		fprintf(stderr, "\r%60s\r", "");
	p->shown = false;
	p->tty = false;
}

void cli_progress_end(cli_progress *p)
{
	cli_progress_clear(p);
	sigaction(SIGINT, &p->old, NULL);
}

bool cli_progress_interrupted(void)
{
	return interrupted != 0;
}
