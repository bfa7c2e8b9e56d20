/* ks_modelstats: every tensor's statistics, layer and model totals, the
 * optimizer apart, nested layers inside their outer layer, stopping. */
#include "config.h"

#include <math.h>

#include "ks_test.h"
#include "engine_build.h"
#include "ks_modelstats.h"

/* dense (kernel 2x3 = 1..6, bias 3 = {0, NaN, -1}); outer model holding
 * inner/dense_2 (kernel 1x1 = {10}). */
static ks_model *build(void)
{
	static const float k[6] = {1, 2, 3, 4, 5, 6}, b[3] = {0, NAN, -1}, k2[1] = {10};
	static const int64_t sk[2] = {2, 3}, sb[1] = {3}, s1[2] = {1, 1};
	ks_model *m = eb_new("2.13.1");
	int in = eb_input(m, "x", "[null, 2]");
	int d = eb_layer(m, "Dense", "dense", "{\"units\": 3}");
	eb_weight(m, d, "kernel", 2, sk, k);
	eb_weight(m, d, "bias", 1, sb, b);
	int outer = eb_layer(m, "Functional", "outer", "{}");
	ks_model *inner = eb_new(NULL);
	int d2 = eb_layer(inner, "Dense", "dense_2", "{\"units\": 1}");
	eb_weight(inner, d2, "kernel", 2, s1, k2);
	inner->parent = m;
	m->layers[outer].inner = inner;
	m->layers[outer].params = 1;
	(void)in;
	return m;
}

static void test_tensors_layers_total(void **state)
{
	(void)state;
	ks_model *m = build();
	ks_model_stats s;
	ks_err err;
	assert_int_equal(ks_model_stats_compute(m, NULL, &s, &err), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.t[0].name, "dense/kernel");
	assert_string_equal(s.t[1].name, "dense/bias");
	assert_string_equal(s.t[2].name, "outer/dense_2/kernel");
	assert_int_equal(s.n_groups, 2);
	assert_string_equal(s.groups[1].name, "outer");
	/* kernel: mean 3.5, population variance 35/12 */
	assert_float_equal(s.t[0].st.mean, 3.5, 1e-12);
	assert_float_equal(ks_stats_std(&s.t[0].st), sqrt(35.0 / 12), 1e-12);
	assert_int_equal(s.t[1].st.nans, 1);
	assert_int_equal(s.t[1].st.zeros, 1);
	/* layer dense: 1..6, 0, -1 (NaN apart): 8 finite values, mean 20/8 */
	assert_int_equal(s.groups[0].st.count, 9);
	assert_int_equal(s.groups[0].st.finite, 8);
	assert_float_equal(s.groups[0].st.mean, 2.5, 1e-12);
	assert_float_equal(s.groups[0].st.min, -1, 0);
	/* whole model adds the nested 10: 9 finite, sum 30, mean 10/3; the
	 * variance as a naive loop would give it */
	const double v[9] = {1, 2, 3, 4, 5, 6, 0, -1, 10};
	double m2 = 0;
	for (int i = 0; i < 9; i++)
		m2 += (v[i] - 30.0 / 9) * (v[i] - 30.0 / 9);
	assert_int_equal(s.total.finite, 9);
	assert_int_equal(s.total.nans, 1);
	assert_float_equal(s.total.mean, 30.0 / 9, 1e-12);
	assert_float_equal(ks_stats_std(&s.total), sqrt(m2 / 9), 1e-12);
	assert_float_equal(s.total.max, 10, 0);
	assert_int_equal(s.bytes, 40);
	assert_false(s.stopped);
	ks_model_stats_free(&s);
	ks_model_free(m);
}

static int stop_at_once(void *ctx, int64_t done, int64_t total)
{
	(void)ctx;
	(void)total;
	return done > 0;
}

static void test_stop(void **state)
{
	(void)state;
	ks_model *m = build();
	ks_model_stats s;
	ks_err err;
	ks_model_stats_opts o = {false, stop_at_once, NULL};
	assert_int_equal(ks_model_stats_compute(m, &o, &s, &err), 0);
	assert_true(s.stopped);
	assert_int_equal(s.total.count, 0);   /* the first tensor was not finished */
	ks_model_stats_free(&s);
	ks_model_free(m);
}

static void test_print(void **state)
{
	(void)state;
	ks_model *m = build();
	ks_model_stats s;
	ks_err err;
	char *buf = NULL;
	size_t len = 0;
	assert_int_equal(ks_model_stats_compute(m, NULL, &s, &err), 0);
	FILE *f = open_memstream(&buf, &len);
	ks_model_stats_print(f, m, &s, false);
	fclose(f);
	assert_non_null(strstr(buf, "dense/bias"));
	assert_non_null(strstr(buf, "NaN 1, +Inf 0, -Inf 0"));
	assert_non_null(strstr(buf, "  dense (all)"));
	assert_non_null(strstr(buf, "all weights"));
	free(buf);
	buf = NULL;
	f = open_memstream(&buf, &len);
	ks_model_stats_print(f, m, &s, true);
	fclose(f);
	json_error_t je;
	json_t *j = json_loads(buf, 0, &je);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "tensors")), 3);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "total"), "nan")), 1);
	assert_true(json_is_null(json_object_get(j, "optimizer")));
	json_decref(j);
	free(buf);
	ks_model_stats_free(&s);
	ks_model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tensors_layers_total),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_print),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
