/* test_doctor_real: the doctor over every model file of
 * $KERASCOPE_FIXTURES/real (EXPECTED.json lists them). Real files are saved
 * by Keras itself, so each finding of the kinds that must not be false
 * alarms (untrained-weights, lambda-layer, custom-object, nan-inf,
 * layer-order, bn-stats-default) is re-checked here by an independent route:
 *   untrained-weights  every bias/beta tensor of the model (or of the cited
 *                      layer) is exactly 0, or 1 on an LSTM forget gate: a
 *                      trained model's are not
 *   lambda-layer       the cited layer's class is Lambda
 *   custom-object      every name it lists occurs in the file's configs
 *   nan-inf            ks_weight_stats counts NaN/Inf in the cited tensor
 *   layer-order        the loader's own topological-order warning agrees
 *   bn-stats-default   the layer's moving mean is all 0 and variance all 1,
 *                      while some bias elsewhere is not all zero
 * and the doctor must run (no error) on every file.
 */
#include "config.h"

#include "ks_test.h"

#include <jansson.h>

#include "ks_doctor.h"
#include "ks_stats.h"
#include "ks_util.h"

static int n_fail;

static bool all_equal(const ks_model *m, const ks_weight *w, double v)
{
	ks_stats st;
	ks_err e;
	if (ks_weight_stats(m, w, NULL, NULL, &st, NULL, 0, &e) < 0)
		return false;
	return st.count > 0 && st.finite == st.count && st.min == v && st.max == v;
}

static const char *base(const char *n)
{
	const char *s = strrchr(n, '/');
	return s ? s + 1 : n;
}

static int count01(const float *v, size_t n, void *ctx, ks_err *err)
{
	(void)err;
	for (size_t i = 0; i < n; i++)
		*(int64_t *)ctx += v[i] == 0.0f || v[i] == 1.0f;
	return 0;
}

/* A bias as Keras initialises it: zeros, and ones on an LSTM's forget gate. */
static bool at_bias_init(const ks_model *m, const ks_weight *w)
{
	int64_t n = 0, total;
	ks_err e;
	ks_numel(w->shape, w->rank, &total);
	if (ks_weight_walk(m, w, NULL, NULL, 0, count01, &n, &e) < 0)
		return false;
	return total > 0 && n == total;
}

/* bias-like tensors (zero-initialised in Keras) of m, or of one layer: how
 * many, and how many are exactly as initialised */
static void biases(const ks_model *m, const char *only, int *n, int *zero)
{
	for (int i = 0; i < m->n_layers; i++) {
		const ks_layer *L = &m->layers[i];
		if (L->inner)
			biases(L->inner, only, n, zero);
		if (only && strcmp(only, L->name) != 0 && !ks_str_endswith(only, L->name))
			continue;
		for (int k = 0; k < L->n_weights; k++) {
			const char *b = base(L->weights[k].name);
			if (strcmp(b, "bias") && strcmp(b, "beta") && strcmp(b, "b"))
				continue;
			(*n)++;
			*zero += at_bias_init(m, &L->weights[k]);
		}
	}
}

static bool genuine(const ks_model *m, const ks_finding *f, char *why, size_t wn)
{
	if (!strcmp(f->id, "untrained-weights")) {
		int n = 0, z = 0;
		biases(m, f->layer, &n, &z);
		snprintf(why, wn, "%d of %d bias tensors exactly as initialised (0, LSTM forget gate 1)", z, n);
		return n > 0 && z == n;
	}
	if (!strcmp(f->id, "lambda-layer")) {
		const ks_layer *L = f->layer ? ks_model_find_layer(m, base(f->layer), true) : NULL;
		snprintf(why, wn, "layer %s class %s", f->layer ? f->layer : "?", L ? L->class_name : "?");
		return L && !strcmp(L->class_name, "Lambda");
	}
	if (!strcmp(f->id, "custom-object")) {
		char *a = m->model_config ? json_dumps(m->model_config, JSON_COMPACT) : NULL;
		char *t = m->training_config ? json_dumps(m->training_config, JSON_COMPACT) : NULL;
		char *c = m->compile_config ? json_dumps(m->compile_config, JSON_COMPACT) : NULL;
		size_t i;
		const json_t *v;
		bool ok = json_array_size(json_object_get(f->details, "custom")) > 0;
		json_array_foreach(json_object_get(f->details, "custom"), i, v) {
			char q[256];
			const char *nm = json_string_value(v);
			snprintf(q, sizeof q, "\"%s\"", nm);
			if (!((a && strstr(a, q)) || (t && strstr(t, q)) || (c && strstr(c, q)))) {
				snprintf(why, wn, "%s is not in the configs", nm);
				ok = false;
			}
		}
		if (ok)
			snprintf(why, wn, "every listed name occurs in the configs");
		free(a);
		free(t);
		free(c);
		return ok;
	}
	if (!strcmp(f->id, "nan-inf")) {
		const ks_layer *L;
		const ks_weight *w = f->tensor ? ks_model_find_weight(m, f->tensor, &L) : NULL;
		ks_stats st;
		ks_err e;
		if (!w || ks_weight_stats(m, w, NULL, NULL, &st, NULL, 0, &e) < 0)
			return false;
		snprintf(why, wn, "%lld NaN, %lld Inf", (long long)st.nans, (long long)(st.pos_infs + st.neg_infs));
		return st.nans + st.pos_infs + st.neg_infs > 0;
	}
	if (!strcmp(f->id, "layer-order")) {
		for (int i = 0; i < m->n_warnings; i++)
			if (strstr(m->warnings[i], "topological")) {
				snprintf(why, wn, "loader: %s", m->warnings[i]);
				return true;
			}
		snprintf(why, wn, "the loader saw no order difference");
		return false;
	}
	if (!strcmp(f->id, "bn-stats-default")) {
		const ks_layer *L = f->layer ? ks_model_find_layer(m, base(f->layer), true) : NULL;
		int n = 0, z = 0;
		bool mm = false, mv = false;
		for (int k = 0; L && k < L->n_weights; k++) {
			if (!strcmp(L->weights[k].name, "moving_mean"))
				mm = all_equal(m, &L->weights[k], 0.0);
			if (!strcmp(L->weights[k].name, "moving_variance"))
				mv = all_equal(m, &L->weights[k], 1.0);
		}
		biases(m, NULL, &n, &z);
		snprintf(why, wn, "moving stats at init: %d; %d of %d biases at init", mm && mv, z, n);
		return mm && mv && z < n;
	}
	return true;
}

static void test_real_models(void **state)
{
	const char *fx = ks_test_fixtures();
	char path[4096];
	json_error_t je;
	const char *key;
	json_t *v, *exp;
	int files = 0, checked = 0;
	(void)state;
	assert_non_null(fx);
	snprintf(path, sizeof path, "%s/real/EXPECTED.json", fx);
	exp = json_load_file(path, 0, &je);
	assert_non_null(exp);
	json_object_foreach(exp, key, v) {
		ks_err e;
		ks_doctor d;
		snprintf(path, sizeof path, "%s/real/%s", fx, key);
		ks_model *m = ks_model_open(path, NULL, &e);
		files++;
		if (!m) {
			printf("  FAIL %s: %s\n", key, e.msg);
			n_fail++;
			continue;
		}
		ks_doctor_in in = {.a = m, .n_labels = -1};
		if (ks_doctor_run(&in, &d, &e) < 0) {
			printf("  FAIL %s: doctor: %s\n", key, e.msg);
			n_fail++;
			ks_model_free(m);
			continue;
		}
		for (int i = 0; i < d.n_findings; i++) {
			const ks_finding *f = &d.findings[i];
			char why[512] = "";
			if (strcmp(f->id, "untrained-weights") && strcmp(f->id, "lambda-layer") &&
			    strcmp(f->id, "custom-object") && strcmp(f->id, "nan-inf") &&
			    strcmp(f->id, "layer-order") && strcmp(f->id, "bn-stats-default"))
				continue;
			bool ok = genuine(m, f, why, sizeof why);
			checked++;
			printf("  %s %s: %s %s (%s)\n", ok ? "ok  " : "FAIL", key, f->id,
			       f->tensor ? f->tensor : f->layer ? f->layer : "", why);
			n_fail += !ok;
		}
		ks_doctor_free(&d);
		ks_model_free(m);
	}
	json_decref(exp);
	printf("%d real files, %d findings re-checked, %d failures\n", files, checked, n_fail);
	assert_true(files > 0);
	assert_int_equal(n_fail, 0);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_real_models),
};

KS_TEST_MAIN(tests)
