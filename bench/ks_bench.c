/* ks_bench: times the forward pass of a Keras file (run by hand, never by
 * `make check`; see bench/README).
 *
 *   bench/ks_bench FILE [--repeat N] [--batch B] [--layers]
 *
 * Builds a plan (ks_plan.h) for batch B, feeds the deterministic input
 * x[i] = ((i * 7919) % 2001) / 1000 - 1 (torch_ref.py uses the same), runs it
 * once to warm up, then N times, and prints the best and median time per
 * inference and a checksum of output 0 to compare with torch_ref.py.
 * --layers also times every weighted layer on its own (op infer/load/run on
 * random input) with its GFLOP/s, for tuning the kernels.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ks_blas.h"
#include "ks_model.h"
#include "ks_ops.h"
#include "ks_plan.h"
#include "ks_util.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* CPU time of the process: less disturbed than wall time on a busy machine
 * (the runs are single-threaded). */
static double cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Multiply-adds of one layer call for one sample: conv/dense (kernel numel /
 * out-channels per output element) and recurrent layers (every 2-D weight
 * once per time step). 0 for other layers. */
static double layer_macs(const ks_plan_step *s, const ks_plan_step *prev)
{
	const ks_layer *l = s->layer;
	double outs = 1;
	const ks_shape *o = &s->out[0];

	if (!l || l->n_weights == 0 || s->n_out < 1)
		return 0;
	if (strstr(s->class_name, "LSTM") || strstr(s->class_name, "GRU") || strstr(s->class_name, "RNN")) {
		double per_step = 0;
		for (int w = 0; w < l->n_weights; w++)
			if (l->weights[w].rank == 2)
				per_step += (double)l->weights[w].shape[0] * (double)l->weights[w].shape[1];
		return prev && prev->out[0].rank == 3 ? per_step * (double)prev->out[0].d[1] : 0;
	}
	const ks_weight *k = &l->weights[0];
	double kn = 1;
	for (int i = 0; i < k->rank; i++)
		kn *= (double)k->shape[i];
	if (k->rank < 2)
		return 0;
	for (int i = 1; i < o->rank; i++)
		outs *= (double)o->d[i];
	return kn / (double)k->shape[k->rank - 1] * outs;
}

static void time_layers(const ks_model *m, ks_plan *plan)
{
	int n = ks_plan_n_steps(plan);
	double total = 0;

	printf("%-22s %-16s %10s %9s\n", "layer", "class", "cpu ms", "GFLOP/s");
	for (int i = 0; i < n; i++) {
		const ks_plan_step *s = ks_plan_step_info(plan, i);
		const ks_op *op = ks_op_find(s->class_name);
		const ks_plan_step *prev = i > 0 ? ks_plan_step_info(plan, i - 1) : NULL;
		ks_op_call c;
		ks_err err;
		float *x, *y, *scratch;
		int64_t nin, nout;
		double best = 1e30;

		if (!op || !prev || strcmp(s->class_name, "InputLayer") == 0)
			continue;
		memset(&c, 0, sizeof c);
		c.model = m;
		c.layer = s->layer;
		c.config = s->layer->config;
		c.keras_major = ks_model_keras_major(m);
		c.n_in = 1;
		c.in[0] = prev->out[0]; /* sequential models: input = previous step's output */
		if (op->infer(&c, &err) < 0 || (op->load && op->load(&c, &err) < 0)) {
			printf("%-22s %s\n", s->name, err.msg);
			if (op->free)
				op->free(&c);
			continue;
		}
		nin = ks_shape_numel(&c.in[0]);
		nout = ks_shape_numel(&c.out[0]);
		x = ks_xmalloc(sizeof(float) * (size_t)nin + 1);
		y = ks_xmalloc(sizeof(float) * (size_t)nout + 1);
		scratch = ks_xmalloc(sizeof(float) * c.scratch_floats + 1);
		for (int64_t j = 0; j < nin; j++)
			x[j] = (float)((j * 7919) % 2001) / 1000.0f - 1.0f;
		for (int r = 0; r < 3; r++) {
			const float *ins[1] = {x};
			float *outs[1] = {y};
			double t0 = cpu_ms();
			op->run(&c, ins, outs, scratch);
			double t = cpu_ms() - t0;
			if (t < best)
				best = t;
		}
		double macs = layer_macs(s, prev) * (double)c.in[0].d[0];
		total += best;
		printf("%-22s %-16s %10.2f %9.1f\n", s->name, s->class_name, best,
		       macs > 0 ? 2 * macs / best / 1e6 : 0.0);
		free(x);
		free(y);
		free(scratch);
		if (op->free)
			op->free(&c);
	}
	printf("%-22s %-16s %10.2f\n", "sum", "", total);
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	int repeat = 10, layers = 0;
	int64_t batch = 1;
	ks_err err;

	ks_blas_restart_if_slower(argv); /* the kernels kerascope itself would use */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
			repeat = atoi(argv[++i]);
		else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
			batch = atoll(argv[++i]);
		else if (strcmp(argv[i], "--layers") == 0)
			layers = 1;
		else if (!path)
			path = argv[i];
		else {
			fprintf(stderr, "usage: ks_bench FILE [--repeat N] [--batch B] [--layers]\n");
			return 2;
		}
	}
	if (!path || repeat < 1 || batch < 1) {
		fprintf(stderr, "usage: ks_bench FILE [--repeat N] [--batch B] [--layers]\n");
		return 2;
	}
	ks_quiet_hdf5();
	double t0 = now_ms();
	ks_model *m = ks_model_open(path, NULL, &err);
	if (!m) {
		fprintf(stderr, "ks_bench: %s\n", err.msg);
		return 2;
	}
	double t1 = now_ms();
	ks_plan_opts o = {.batch = batch};
	ks_plan *plan = ks_plan_build(m, &o, &err);
	if (!plan) {
		fprintf(stderr, "ks_bench: %s\n", err.msg);
		ks_model_free(m);
		return 2;
	}
	double t2 = now_ms();
	int nin = ks_plan_n_inputs(plan);
	float **inputs = ks_xcalloc((size_t)nin, sizeof *inputs);
	for (int i = 0; i < nin; i++) {
		int64_t n = ks_shape_numel(ks_plan_input_shape(plan, i));
		inputs[i] = ks_xmalloc(sizeof(float) * (size_t)n + 1);
		for (int64_t j = 0; j < n; j++)
			inputs[i][j] = (float)((j * 7919) % 2001) / 1000.0f - 1.0f;
	}
	double macs = 0;
	for (int i = 0; i < ks_plan_n_steps(plan); i++)
		macs += layer_macs(ks_plan_step_info(plan, i), i ? ks_plan_step_info(plan, i - 1) : NULL);
	ks_plan_run(plan, (const float *const *)inputs); /* warm-up */
	double *times = ks_xmalloc(sizeof(double) * (size_t)repeat);
	double *cpu = ks_xmalloc(sizeof(double) * (size_t)repeat);
	for (int r = 0; r < repeat; r++) {
		double a = now_ms(), ca = cpu_ms();
		ks_plan_run(plan, (const float *const *)inputs);
		times[r] = now_ms() - a;
		cpu[r] = cpu_ms() - ca;
	}
	qsort(times, (size_t)repeat, sizeof *times, cmp_double);
	qsort(cpu, (size_t)repeat, sizeof *cpu, cmp_double);
	const float *y = ks_plan_output(plan, 0);
	int64_t ny = ks_shape_numel(ks_plan_output_shape(plan, 0));
	double sum = 0, asum = 0;
	for (int64_t j = 0; j < ny; j++) {
		sum += y[j];
		asum += y[j] < 0 ? -y[j] : y[j];
	}
	printf("file %s\nopen %.1f ms, plan+load %.1f ms, arena %.1f MB; OpenBLAS kernels %s\n", path,
	       t1 - t0, t2 - t1, (double)ks_plan_arena_bytes(plan) / 1e6, ks_blas_core());
	printf("batch %lld: best %.2f ms, median %.2f ms per run (%d runs); %.2f GFLOP per sample, "
	       "%.1f GFLOP/s\n", (long long)batch, times[0], times[repeat / 2], repeat, 2 * macs / 1e9,
	       2 * macs * (double)batch / times[0] / 1e6);
	printf("cpu time: best %.2f ms, median %.2f ms\n", cpu[0], cpu[repeat / 2]);
	printf("output[0] sum %.6g abs-sum %.6g first %.6g %.6g %.6g\n", sum, asum, (double)y[0],
	       ny > 1 ? (double)y[1] : 0.0, ny > 2 ? (double)y[2] : 0.0);
	if (layers)
		time_layers(m, plan);
	for (int i = 0; i < nin; i++)
		free(inputs[i]);
	free(inputs);
	free(times);
	free(cpu);
	ks_plan_free(plan);
	ks_model_free(m);
	return 0;
}
