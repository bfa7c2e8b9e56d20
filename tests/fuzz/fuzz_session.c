/* fuzz_session: libFuzzer target for reading a session file (ks_session.h).
 *
 * The input goes into a memfd and is opened by its /proc path, as replay and
 * `diff S1 S2` open a session on disk: the crash probe, the layout checks of
 * ks_session_open, the description, and the values of every tensor read as
 * float32 (the sizes were checked on open, but a tensor above 1 Mi values is
 * skipped so that one input stays fast). Built with --enable-fuzz. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ks_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fd = -1;
static char path[64];

static void read_all(const ks_session *s, const ks_session_tensor *t, int n)
{
	for (int i = 0; i < n; i++) {
		int64_t numel = ks_session_numel(&t[i]);
		ks_err err;
		if (numel <= 0 || numel > ((int64_t)1 << 20))
			continue;
		float *v = malloc((size_t)numel * sizeof *v);
		if (!v)
			abort();
		ks_session_read(s, &t[i], v, &err);
		free(v);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ks_err err;
	ks_session *s;

	if (fd < 0) {
		fd = memfd_create("kerascope-fuzz-session", MFD_CLOEXEC);
		if (fd < 0)
			abort();
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	s = ks_session_open(path, &err);
	if (!s)
		return 0;
	free(ks_session_describe(s));
	for (int r = 0; r < s->n_runs; r++) {
		const ks_session_run *run = &s->runs[r];
		read_all(s, run->inputs, run->n_inputs);
		read_all(s, run->outputs, run->n_outputs);
		read_all(s, run->acts, run->n_acts);
	}
	ks_session_free(s);
	return 0;
}
