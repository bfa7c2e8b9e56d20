/* ks_test: shared helpers for the cmocka tests.
 *
 * Fixtures from ../shared are reached only through $KERASCOPE_FIXTURES.
 * ks_test_fixtures() returns that folder, or prints a loud banner and returns
 * NULL when it is missing: a test that needs it then fails (never silently
 * passes). Tests that must always run build their own files with the HDF5 C
 * API in a private temporary directory (ks_test_tmpdir()).
 */
#ifndef KS_TEST_H
#define KS_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

static inline const char *ks_test_fixtures(void)
{
	const char *d = getenv("KERASCOPE_FIXTURES");
	struct stat st;
	if (!d || stat(d, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr,
		        "\n********************************************************\n"
		        "* KERASCOPE_FIXTURES is not set or missing: '%s'\n"
		        "* The shared fixtures (../shared/fixtures) are needed.\n"
		        "********************************************************\n\n",
		        d ? d : "(unset)");
		return NULL;
	}
	return d;
}

/* A fresh directory under $TMPDIR, created once per process; never in srcdir
 * (distcheck makes the source tree read-only). */
static inline const char *ks_test_tmpdir(void)
{
	static char dir[256];
	if (!dir[0]) {
		const char *t = getenv("TMPDIR");
		snprintf(dir, sizeof dir, "%s/kstest.XXXXXX", t ? t : "/tmp");
		if (!mkdtemp(dir)) {
			perror("mkdtemp");
			abort();
		}
	}
	return dir;
}

/* cmocka returns the number of failures; 77 failures must not read as SKIP. */
#define KS_TEST_MAIN(tests) \
	int main(void) { return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0; }

#endif
