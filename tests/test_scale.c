/* Scale: work on a model stays near-linear in its layers (issue 13: a
 * 60,000-layer chain took 12 s to summarise, quadratic name lookups). The
 * chain is built here (tests/h5_build.h hb_chain_model); no timing is
 * asserted (bench/README has the numbers), but the quadratic version took
 * minutes under the sanitizers, which a CI time limit notices. */
#include "config.h"

#include "ks_test.h"
#include "h5_build.h"
#include "ks_model.h"
#include "ks_report.h"

#define CHAIN 60000

static void test_long_chain(void **state)
{
	char path[512], name[32];
	ks_err err;
	char *buf = NULL;
	size_t len = 0;
	(void)state;
	snprintf(path, sizeof path, "%s/chain.h5", ks_test_tmpdir());
	hb_chain_model(path, CHAIN);
	ks_model *m = ks_model_open(path, NULL, &err);
	if (!m)
		fail_msg("open: %s", err.msg);
	assert_int_equal(m->n_layers, CHAIN + 1);
	assert_int_equal(m->n_outputs, 1);
	assert_int_equal(m->outputs[0].layer, CHAIN);
	/* every layer consumes the one before it, found by name */
	for (int i = 1; i <= CHAIN; i++) {
		assert_int_equal(m->layers[i].n_nodes, 1);
		assert_int_equal(m->layers[i].nodes[0].in[0].layer, i - 1);
	}
	for (int i = 0; i < CHAIN; i += 997) {
		snprintf(name, sizeof name, "a%d", i);
		assert_int_equal(ks_model_layer_index(m, name), i + 1);
		assert_ptr_equal(ks_model_find_layer(m, name, true), &m->layers[i + 1]);
	}
	assert_int_equal(ks_model_layer_index(m, "a60000"), -1);

	FILE *out = open_memstream(&buf, &len);
	assert_int_equal(ks_report_summary(out, m, false, &err), 0);
	assert_int_equal(ks_report_ls(out, m, true, false, &err), 0);
	fclose(out);
	assert_non_null(strstr(buf, "a59999 (Activation)"));
	assert_non_null(strstr(buf, "(None, 4)"));
	free(buf);
	ks_model_free(m);
	unlink(path);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_long_chain),
};

KS_TEST_MAIN(tests)
