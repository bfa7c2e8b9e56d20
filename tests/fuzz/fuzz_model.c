/* fuzz_model: libFuzzer target for opening a model file, HDF5 or .keras zip,
 * and reading it as the report commands do.
 *
 * The input goes into a memfd and is opened by its /proc path through
 * ks_model_open, exactly as a file on disk: format sniffing, the zip
 * reader, the HDF5 image of the weights member, the loaders and the graph.
 * The crash probe stays in the loop on purpose: libhdf5 1.10 itself crashes
 * and loops on damaged metadata (known, and what the probe is for); with it
 * those inputs end as one error line, and every line of our own code still
 * runs here, in the fuzzed process, where coverage and sanitizers see it.
 * Then summary, ls and attrs are rendered (to /dev/null), the first
 * value of each weight is read, and each weight of at most 64 Ki values is
 * walked in blocks of 64 values (ks_weight_reader's plain-run check and
 * pread path, and its read-ahead thread) and given its statistics.
 * Built with --enable-fuzz (configure). */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ks_model.h"
#include "ks_report.h"
#include "ks_stats.h"
#include "ks_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fd = -1;
static char path[64];
static FILE *sink;

static int count_block(const float *v, size_t n, void *ctx, ks_err *err)
{
	(void)v;
	(void)err;
	*(size_t *)ctx += n;
	return 0;
}

static void walk_small(const ks_model *m, const ks_weight *w)
{
	int64_t n;
	size_t seen = 0;
	ks_stats st;
	ks_hist h;
	ks_err err;

	if (w->rank < 0 || w->rank > KS_MAX_RANK || !ks_numel(w->shape, w->rank, &n) || n > 65536)
		return;
	ks_weight_walk(m, w, NULL, NULL, 64, count_block, &seen, &err);
	if (ks_weight_stats(m, w, NULL, NULL, &st, &h, 10, &err) == 0)
		ks_hist_free(&h);
}

static void read_first_values(const ks_model *m)
{
	for (int i = 0; i < m->n_layers; i++) {
		const ks_layer *L = &m->layers[i];
		for (int k = 0; k < L->n_weights; k++) {
			const ks_weight *w = &L->weights[k];
			int64_t start[KS_MAX_RANK] = {0}, count[KS_MAX_RANK];
			float v;
			ks_err err;
			bool empty = false;
			for (int r = 0; r < w->rank; r++) {
				count[r] = 1;
				empty |= w->shape[r] <= 0;
			}
			if (!empty && w->rank <= KS_MAX_RANK)
				ks_weight_read_slab(m, w, start, count, &v, &err);
			walk_small(m, w);
		}
		if (L->inner)
			read_first_values(L->inner);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ks_err err;
	ks_model *m;

	if (fd < 0) {
		fd = memfd_create("kerascope-fuzz", MFD_CLOEXEC);
		if (fd < 0)
			abort();
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		sink = fopen("/dev/null", "w");
	}
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	m = ks_model_open(path, NULL, &err);
	if (!m)
		return 0;
	ks_report_summary(sink, m, false, &err);
	ks_report_ls(sink, m, true, false, &err);
	ks_report_attrs(sink, m, false, &err);
	read_first_values(m);
	ks_model_free(m);
	return 0;
}
