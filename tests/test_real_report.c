/* Every real Keras file in $KERASCOPE_FIXTURES/real (listed in EXPECTED.json):
 * `kerascope summary`, `ls` and `attrs` (the built binary) exit 0, and the
 * summary's JSON total_params equals the parameter count EXPECTED.json gives
 * (computed with h5py from the files, independently of this project). */
#include "config.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <jansson.h>

#include "ks_test.h"
#include "ks_model.h"
#include "ks_report.h"

extern char **environ;

/* Runs kerascope with args, output discarded; returns its exit status. */
static int run_binary(const char *bin, const char *cmd, const char *file, const char *cfg)
{
	const char *argv[] = {bin, cmd, file, cfg ? "--config" : NULL, cfg, NULL};
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawn(&pid, bin, &fa, NULL, (char *const *)argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static void test_every_real_file(void **state)
{
	(void)state;
	const char *fx = ks_test_fixtures();
	assert_non_null(fx);
	const char *top = getenv("abs_top_builddir");
	char bin[4096], path[4096];
	snprintf(bin, sizeof bin, "%s/kerascope", top ? top : ".");
	assert_int_equal(access(bin, X_OK), 0);

	snprintf(path, sizeof path, "%s/real/EXPECTED.json", fx);
	json_error_t je;
	json_t *exp = json_load_file(path, 0, &je);
	if (!exp)
		fail_msg("%s: %s", path, je.text);
	assert_true(json_object_size(exp) >= 60);

	const char *rel;
	json_t *e;
	int failures = 0, n = 0;
	json_object_foreach(exp, rel, e) {
		snprintf(path, sizeof path, "%s/real/%s", fx, rel);
		n++;
		for (int c = 0; c < 3; c++) {
			static const char *const cmds[] = {"summary", "ls", "attrs"};
			int rc = run_binary(bin, cmds[c], path, NULL);
			if (rc != 0) {
				fprintf(stderr, "FAIL: kerascope %s %s exited %d\n", cmds[c], rel, rc);
				failures++;
			}
		}
		ks_err err;
		ks_model *m = ks_model_open(path, NULL, &err);
		if (!m) {
			fprintf(stderr, "FAIL: %s: %s\n", rel, err.msg);
			failures++;
			continue;
		}
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		int rc = ks_report_summary(f, m, true, &err);
		fclose(f);
		json_t *j = rc == 0 ? json_loads(buf, 0, NULL) : NULL;
		json_int_t got = j ? json_integer_value(json_object_get(j, "total_params")) : -1;
		json_int_t want = json_integer_value(json_object_get(e, "params"));
		if (got != want) {
			fprintf(stderr, "FAIL: %s: summary total_params %lld, EXPECTED.json %lld%s%s\n", rel,
			        (long long)got, (long long)want, rc ? ": " : "", rc ? err.msg : "");
			failures++;
		}
		json_decref(j);
		free(buf);
		ks_model_free(m);
	}
	json_decref(exp);
	fprintf(stderr, "%d real files checked, %d failures\n", n, failures);
	assert_int_equal(failures, 0);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_every_real_file),
};
KS_TEST_MAIN(tests)
