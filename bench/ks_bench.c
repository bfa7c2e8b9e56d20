/* ks_bench: times the forward pass of a Keras file (run by hand, never by
 * `make check`; see bench/README).
 *
 *   bench/ks_bench FILE [--repeat N] [--batch B] [--layers] [--sgemm-peak]
 *   bench/ks_bench --sgemm-peak
 *
 * Builds a plan (ks_plan.h) for batch B, feeds the deterministic input
 * x[i] = ((i * 7919) % 2001) / 1000 - 1 (torch_ref.py uses the same), runs it
 * once to warm up, then N times, and prints the best and median time per
 * inference and a checksum of output 0 to compare with torch_ref.py.
 * --layers also times every weighted layer on its own (op infer/load/run on
 * random input) with its GFLOP/s, for tuning the kernels. --sgemm-peak
 * first measures what OpenBLAS' sgemm reaches on this machine (1024^3 and
 * the GEMM shapes of FILE's layers): the limit to compare those with.
 * FLOPs are counted as ks_cost.h does for `predict --profile`.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "ks_blas.h"
#include "ks_cost.h"
#include "ks_model.h"
#include "ks_ops.h"
#include "ks_plan.h"
#include "ks_util.h"
#include "ks_winograd.h"

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

/* GFLOP/s of C = A B (M x K times K x N, row-major, beta 0) through
 * OpenBLAS: the best of 5 rounds of enough calls for ~50 ms each, timed in
 * CPU time (wall time on a shared machine measures the neighbours). */
static double sgemm_gflops(int M, int N, int K)
{
	float *a = ks_xmalloc(sizeof(float) * (size_t)M * (size_t)K);
	float *b = ks_xmalloc(sizeof(float) * (size_t)K * (size_t)N);
	float *c = ks_xmalloc(sizeof(float) * (size_t)M * (size_t)N);
	double flop = 2.0 * M * N * K, best = 0;
	int calls = (int)(2e9 / flop) + 1; /* ~50 ms at 40 GFLOP/s */

	for (size_t i = 0; i < (size_t)M * (size_t)K; i++)
		a[i] = (float)((i * 7919) % 2001) / 1000.0f - 1.0f;
	for (size_t i = 0; i < (size_t)K * (size_t)N; i++)
		b[i] = (float)((i * 104729) % 2001) / 1000.0f - 1.0f;
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, a, K, b, N, 0.0f, c, N);
	for (int r = 0; r < 5; r++) {
		double t0 = cpu_ms();
		for (int j = 0; j < calls; j++)
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, a, K, b, N,
			            0.0f, c, N);
		double g = flop * calls / (cpu_ms() - t0) / 1e6;
		if (g > best)
			best = g;
	}
	free(a);
	free(b);
	free(c);
	return best;
}

/* --sgemm-peak: what OpenBLAS reaches on this machine, square and in the
 * shapes the model's layers would give a plain GEMM (im2col: positions x
 * filters x taps*cin; Dense: batch x units x inputs), and for 3x3 stride-1
 * Conv2D with >= 16 channels in and out also the shape of one Winograd
 * block GEMM (tiles x cout x cin), which is what kerascope runs there
 * (channels_last, as the benchmark models are). */
static void sgemm_peak(const ks_plan *plan)
{
	printf("sgemm (OpenBLAS %s kernels, CPU time, best of 5)\n", ks_blas_core());
	printf("%-22s %6s %6s %6s %9s\n", "shape", "M", "N", "K", "GFLOP/s");
	printf("%-22s %6d %6d %6d %9.1f\n", "square", 1024, 1024, 1024, sgemm_gflops(1024, 1024, 1024));
	for (int i = 0; plan && i < ks_plan_n_steps(plan); i++) {
		const ks_plan_step *s = ks_plan_step_info(plan, i);
		double flops = ks_plan_step_flops(s);
		const ks_shape *o = &s->out[0];
		const ks_weight *k = s->layer && s->layer->n_weights ? &s->layer->weights[0] : NULL;

		if (flops <= 0 || !k || o->rank < 2)
			continue;
		int64_t n = o->d[o->rank - 1], m = ks_shape_numel(o) / n;
		int64_t kk = (int64_t)(flops / 2 / (double)m / (double)n + 0.5);
		if (m * n * kk > ((int64_t)1 << 34) || strstr(s->class_name, "LSTM") ||
		    strstr(s->class_name, "GRU") || strstr(s->class_name, "RNN"))
			continue;
		printf("%-22s %6lld %6lld %6lld %9.1f\n", s->name, (long long)m, (long long)n,
		       (long long)kk, sgemm_gflops((int)m, (int)n, (int)kk));
		if (strcmp(s->class_name, "Conv2D") == 0 && k->rank == 4 && k->shape[0] == 3 &&
		    k->shape[1] == 3 && o->rank == 4 && k->shape[3] == n && k->shape[2] >= 16 && n >= 16) {
			int64_t tiles = (o->d[1] + 1) / 2 * ((o->d[2] + 1) / 2);
			int64_t tb = ks_wino_block(k->shape[2], n, tiles);
			printf("%-22s %6lld %6lld %6lld %9.1f\n", "  winograd block", (long long)tb,
			       (long long)n, (long long)k->shape[2],
			       sgemm_gflops((int)tb, (int)n, (int)k->shape[2]));
		}
	}
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
		double flops = ks_plan_step_flops(s);
		total += best;
		printf("%-22s %-16s %10.2f %9.1f\n", s->name, s->class_name, best,
		       flops > 0 ? flops / best / 1e6 : 0.0);
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
	int repeat = 10, layers = 0, peak = 0;
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
		else if (strcmp(argv[i], "--sgemm-peak") == 0)
			peak = 1;
		else if (!path)
			path = argv[i];
		else {
			fprintf(stderr, "usage: ks_bench FILE [--repeat N] [--batch B] [--layers] [--sgemm-peak]\n");
			return 2;
		}
	}
	if (peak && !path) {
		sgemm_peak(NULL);
		return 0;
	}
	if (!path || repeat < 1 || batch < 1) {
		fprintf(stderr, "usage: ks_bench FILE [--repeat N] [--batch B] [--layers] [--sgemm-peak]\n");
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
	double flops = 0;
	for (int i = 0; i < ks_plan_n_steps(plan); i++)
		flops += ks_plan_step_flops(ks_plan_step_info(plan, i));
	if (peak)
		sgemm_peak(plan);
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
	       "%.1f GFLOP/s\n", (long long)batch, times[0], times[repeat / 2], repeat, flops / (double)batch / 1e9,
	       flops / times[0] / 1e6);
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
