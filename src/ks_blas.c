#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cblas.h>

#include "ks_blas.h"

/* Vector width a kernel family uses: 1 SSE, 2 AVX, 3 AVX2, 4 AVX-512. */
static int level_of(const char *core)
{
	static const struct { const char *name; int level; } cores[] = {
		{"sandybridge", 2}, {"bulldozer", 2}, {"piledriver", 2}, {"steamroller", 2},
		{"excavator", 2}, {"haswell", 3}, {"zen", 3}, {"skylakex", 4}, {"cooperlake", 4},
		{"sapphirerapids", 4},
	};
	char low[32];
	size_t i;

	for (i = 0; core[i] && i + 1 < sizeof low; i++)
		low[i] = (char)tolower((unsigned char)core[i]);
	low[i] = '\0';
	for (i = 0; i < sizeof cores / sizeof cores[0]; i++)
		if (strcmp(low, cores[i].name) == 0)
			return cores[i].level;
	return 1;
}

const char *ks_blas_core(void)
{
	const char *c = openblas_get_corename();
	return c ? c : "?";
}

const char *ks_blas_core_hint(void)
{
	const char *set = getenv("OPENBLAS_CORETYPE");
	int have = level_of(ks_blas_core());

	if (set && *set)
		return NULL;
	__builtin_cpu_init();
	if (have < 4 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
	    __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
	    __builtin_cpu_supports("avx512vl"))
		return "SkylakeX";
	if (have < 3 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		return "Haswell";
	return NULL;
}

void ks_blas_restart_if_slower(char **argv)
{
	const char *core = ks_blas_core_hint();
	if (!core || setenv("OPENBLAS_CORETYPE", core, 1) != 0)
		return;
	execv("/proc/self/exe", argv);
}
