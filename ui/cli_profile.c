/* cli_profile: the per-step profile of `predict --profile` (cli_profile.h). */
#include "config.h"

#include <string.h>

#include "cli_profile.h"
#include "ks_cost.h"
#include "ks_esc.h"

void cli_profile_keep_best(ks_step_time *best, const ks_step_time *t, int n, int run)
{
	for (int i = 0; i < n; i++) {
		if (run == 0 || t[i].wall_ms < best[i].wall_ms)
			best[i].wall_ms = t[i].wall_ms;
		if (run == 0 || t[i].cpu_ms < best[i].cpu_ms)
			best[i].cpu_ms = t[i].cpu_ms;
	}
}

static double rate(double flops, double ms)
{
	return flops > 0 && ms > 0 ? flops / ms / 1e6 : 0;
}

void cli_profile_text(FILE *f, const ks_plan *p, const ks_step_time *best, int runs, int threads)
{
	int n = ks_plan_n_steps(p), wname = 5, wcls = 5;
	double wall = 0, cpu = 0, flops = 0, bytes = 0;
	ks_esc_pool pool = {0};

	for (int i = 0; i < n; i++) {
		const ks_plan_step *s = ks_plan_step_info(p, i);
		int a = (int)strlen(ks_esc_s(&pool, s->name)), b = (int)strlen(ks_esc_s(&pool, s->class_name));
		wname = a > wname ? a : wname;
		wcls = b > wcls ? b : wcls;
		wall += best[i].wall_ms;
		cpu += best[i].cpu_ms;
	}
	fprintf(f, "profile: best of %d run%s per layer, %d thread%s; ms = wall time, cpu = process CPU time\n",
	        runs, runs == 1 ? "" : "s", threads, threads == 1 ? "" : "s");
	fprintf(f, "%4s  %-*s  %-*s  %10s  %10s  %6s  %10s  %8s  %10s\n", "#", wname, "layer", wcls, "class",
	        "ms", "cpu ms", "%", "MFLOP", "GFLOP/s", "MB");
	for (int i = 0; i < n; i++) {
		const ks_plan_step *s = ks_plan_step_info(p, i);
		double fl = ks_plan_step_flops(s), by = ks_plan_step_bytes(s);
		flops += fl;
		bytes += by;
		fprintf(f, "%4d  %-*s  %-*s  %10.3f  %10.3f  %6.1f  ", i, wname, ks_esc_s(&pool, s->name), wcls,
		        ks_esc_s(&pool, s->class_name), best[i].wall_ms, best[i].cpu_ms,
		        wall > 0 ? 100 * best[i].wall_ms / wall : 0.0);
		if (fl > 0)
			fprintf(f, "%10.3f  %8.1f", fl / 1e6, rate(fl, best[i].wall_ms));
		else
			fprintf(f, "%10s  %8s", "-", "-");
		fprintf(f, "  %10.3f\n", by / 1e6);
	}
	fprintf(f, "%4s  %-*s  %-*s  %10.3f  %10.3f  %6.1f  %10.3f  %8.1f  %10.3f\n", "", wname, "total", wcls, "",
	        wall, cpu, 100.0, flops / 1e6, rate(flops, wall), bytes / 1e6);
	ks_esc_pool_free(&pool);
}

json_t *cli_profile_json(const ks_plan *p, const ks_step_time *best, int runs, int threads)
{
	json_t *steps = json_array();
	double wall = 0, cpu = 0, flops = 0, bytes = 0;

	for (int i = 0; i < ks_plan_n_steps(p); i++) {
		const ks_plan_step *s = ks_plan_step_info(p, i);
		double fl = ks_plan_step_flops(s), by = ks_plan_step_bytes(s);
		wall += best[i].wall_ms;
		cpu += best[i].cpu_ms;
		flops += fl;
		bytes += by;
		json_array_append_new(steps, json_pack("{s:s, s:s, s:i, s:f, s:f, s:I, s:f, s:I}", "layer", s->name,
		                                       "class", s->class_name, "node", s->node, "ms",
		                                       best[i].wall_ms, "cpu_ms", best[i].cpu_ms, "flops",
		                                       (json_int_t)fl, "gflops_per_s", rate(fl, best[i].wall_ms),
		                                       "bytes", (json_int_t)by));
	}
	return json_pack("{s:i, s:i, s:o, s:{s:f, s:f, s:I, s:f, s:I}}", "runs", runs, "threads", threads,
	                 "steps", steps, "total", "ms", wall, "cpu_ms", cpu, "flops", (json_int_t)flops,
	                 "gflops_per_s", rate(flops, wall), "bytes", (json_int_t)bytes);
}
