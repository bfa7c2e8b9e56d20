/* test_conformance: every case of $KERASCOPE_FIXTURES/conformance/suite.json,
 * in every file form the case ships, predicted by the engine and compared
 * with the reference outputs using the case's tolerance
 * (|got - expected| <= abs + rel * |expected|, NaN matching NaN).
 *
 * Forms: model.h5 (legacy full model), weights.h5 with the architecture of
 * model.h5, model.keras (Keras 3; expected_keras3_<j>.npy where Keras 3
 * computes something else), model.weights.h5 with the architecture of
 * model.keras. Pitfall cases follow their README semantics: Lambda and
 * custom layers must be refused with a message naming the layer;
 * pitfall_layer_order gives each of its outputs with the load order that
 * computes it (topological, Keras' default, or by name); before/after training
 * files give their own expected outputs.
 *
 * Every case/form prints one line; the test fails if any of them fails.
 */
#include "config.h"

#include "ks_test.h"

#include <math.h>

#include <jansson.h>

#include "ks_npy.h"
#include "ks_ops.h"
#include "ks_plan.h"
#include "ks_status.h"
#include "ks_util.h"

typedef struct tally {
	int pass, fail;
} tally;

static void report(tally *t, const char *cs, const char *form, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void report(tally *t, const char *cs, const char *form, bool ok, const char *fmt, ...)
{
	va_list ap;
	printf("  %-32s %-42s %s ", cs, form, ok ? "PASS" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (ok)
		t->pass++;
	else
		t->fail++;
}

/* Writes the architecture of model file `from` into a JSON file; returns its path. */
static char *extract_arch(const char *from, const char *tag, ks_err *err)
{
	ks_model *m = ks_model_open(from, NULL, err);
	char *path;
	if (!m)
		return NULL;
	if (!m->model_config) {
		ks_model_free(m);
		ks_fail(err, "%s has no architecture", from);
		return NULL;
	}
	path = malloc(512);
	snprintf(path, 512, "%s/arch_%s.json", ks_test_tmpdir(), tag);
	if (json_dump_file(m->model_config, path, 0) != 0) {
		ks_fail(err, "cannot write %s", path);
		free(path);
		path = NULL;
	}
	ks_model_free(m);
	return path;
}

static char *join(const char *dir, const char *file)
{
	size_t n = strlen(dir) + strlen(file) + 2;
	char *s = malloc(n);
	snprintf(s, n, "%s/%s", dir, file);
	return s;
}

/* Runs model (optionally with an architecture file) on the case inputs and
 * compares output j with expected[j]. Returns true on pass; msg says why. */
static bool run_form(const char *dir, const char *model_file, const char *arch, ks_load_order order,
                     const json_t *inputs,
                     const char *const *expected, int n_expected, double tabs, double trel,
                     char *msg, size_t msz)
{
	ks_err err;
	ks_open_opts oo = {.config_path = arch, .load_order = order};
	char *path = join(dir, model_file);
	ks_model *m = ks_model_open(path, &oo, &err);
	ks_plan *p = NULL;
	ks_array in[8];
	ks_shape shapes[8];
	const float *inp[8];
	bool ok = false;
	int n_in = (int)json_array_size(inputs);

	memset(in, 0, sizeof in);
	free(path);
	if (!m) {
		snprintf(msg, msz, "open: %s", err.msg);
		return false;
	}
	if (n_in > 8) {
		snprintf(msg, msz, "too many inputs");
		goto done;
	}
	for (int i = 0; i < n_in; i++) {
		const char *f = json_string_value(json_object_get(json_array_get(inputs, i), "file"));
		char *ip = join(dir, f ? f : "?");
		int rc = ks_npy_read(ip, &in[i], &err);
		free(ip);
		if (rc < 0) {
			snprintf(msg, msz, "input: %s", err.msg);
			goto done;
		}
		shapes[i].rank = in[i].rank;
		memcpy(shapes[i].d, in[i].shape, sizeof in[i].shape);
		inp[i] = in[i].data;
	}
	ks_plan_opts po = {.input_shapes = shapes, .n_input_shapes = n_in};
	p = ks_plan_build(m, &po, &err);
	if (!p) {
		snprintf(msg, msz, "plan: %s", err.msg);
		goto done;
	}
	ks_plan_run(p, inp);
	if (ks_plan_n_outputs(p) != n_expected) {
		snprintf(msg, msz, "%d outputs, expected %d", ks_plan_n_outputs(p), n_expected);
		goto done;
	}
	double worst = 0;
	for (int j = 0; j < n_expected; j++) {
		ks_array e;
		char *ep = join(dir, expected[j]);
		int rc = ks_npy_read(ep, &e, &err);
		free(ep);
		if (rc < 0) {
			snprintf(msg, msz, "expected: %s", err.msg);
			goto done;
		}
		const ks_shape *s = ks_plan_output_shape(p, j);
		const float *g = ks_plan_output(p, j);
		if (s->rank != e.rank || memcmp(s->d, e.shape, sizeof(int64_t) * (size_t)e.rank) != 0) {
			char a[96], b[96];
			snprintf(msg, msz, "output %d has shape %s, expected %s", j,
			         ks_shape_str(s->d, s->rank, a, sizeof a), ks_shape_str(e.shape, e.rank, b, sizeof b));
			ks_array_free(&e);
			goto done;
		}
		int64_t n = ks_array_numel(&e), bad = 0, first = -1;
		for (int64_t k = 0; k < n; k++) {
			double x = g[k], y = e.data[k];
			if (isnan(x) && isnan(y))
				continue;
			double d = fabs(x - y);
			if (!(d <= tabs + trel * fabs(y))) {
				if (first < 0)
					first = k;
				bad++;
			}
			if (d > worst || isnan(d))
				worst = isnan(d) ? INFINITY : d;
		}
		if (bad) {
			snprintf(msg, msz, "output %d: %lld of %lld values out of tolerance (first at %lld: got %.7g, expected %.7g)",
			         j, (long long)bad, (long long)n, (long long)first, g[first], e.data[first]);
			ks_array_free(&e);
			goto done;
		}
		ks_array_free(&e);
	}
	snprintf(msg, msz, "max abs err %.2g", worst);
	ok = true;
done:
	for (int i = 0; i < 8; i++)
		ks_array_free(&in[i]);
	ks_plan_free(p);
	ks_model_free(m);
	return ok;
}

/* The model must be refused at plan time with a message naming the layer
 * that cannot run. */
static bool expect_refusal(const char *dir, const char *model_file, const char *arch, char *msg, size_t msz)
{
	ks_err err;
	ks_open_opts oo = {.config_path = arch};
	char *path = join(dir, model_file);
	ks_model *m = ks_model_open(path, &oo, &err);
	bool ok = false;
	const char *culprit = NULL;

	free(path);
	if (!m) {
		snprintf(msg, msz, "open failed (it should open and then refuse to predict): %s", err.msg);
		return false;
	}
	for (int i = 0; i < m->n_layers && !culprit; i++)
		if (!ks_op_find(m->layers[i].class_name))
			culprit = m->layers[i].name;
	ks_plan_opts po = {.batch = 3};
	ks_plan *p = ks_plan_build(m, &po, &err);
	if (p) {
		snprintf(msg, msz, "planned a model that cannot be run");
		ks_plan_free(p);
	} else if (!culprit) {
		snprintf(msg, msz, "no unsupported layer found, yet refused: %s", err.msg);
	} else if (!strstr(err.msg, culprit)) {
		snprintf(msg, msz, "the message does not name layer %s: %s", culprit, err.msg);
	} else {
		snprintf(msg, msz, "refused: %s", err.msg);
		ok = true;
	}
	ks_model_free(m);
	return ok;
}

static const char *const *expected_names(const json_t *outputs, int *n)
{
	static const char *names[16];
	*n = 0;
	for (size_t i = 0; i < json_array_size(outputs) && i < 16; i++)
		names[(*n)++] = json_string_value(json_object_get(json_array_get(outputs, i), "file"));
	return names;
}

static bool exists(const char *dir, const char *f)
{
	char *p = join(dir, f);
	struct stat st;
	bool r = stat(p, &st) == 0;
	free(p);
	return r;
}

static void run_case(tally *t, const char *root, const char *name)
{
	char *dir = join(root, name);
	char *cj = join(dir, "case.json");
	json_error_t je;
	json_t *c = json_load_file(cj, 0, &je);
	char msg[1400];
	ks_err err;

	free(cj);
	if (!c) {
		report(t, name, "case.json", false, "%s", je.text);
		free(dir);
		return;
	}
	const json_t *files = json_object_get(c, "files");
	const json_t *inputs = json_object_get(c, "inputs");
	const json_t *tol = json_object_get(c, "tolerance");
	double tabs = 1e-5, trel = 1e-5;
	if (json_is_number(json_object_get(tol, "abs")))
		tabs = json_number_value(json_object_get(tol, "abs"));
	if (json_is_number(json_object_get(tol, "rel")))
		trel = json_number_value(json_object_get(tol, "rel"));
	int n_exp;
	const char *const *exp = expected_names(json_object_get(c, "outputs"), &n_exp);
	const char *exp_copy[16];
	memcpy(exp_copy, exp, sizeof exp_copy);

	if (json_is_true(json_object_get(c, "expect_unsupported"))) {
		const char *mh = json_string_value(json_object_get(files, "model_h5"));
		const char *wh = json_string_value(json_object_get(files, "weights_h5"));
		if (mh)
			report(t, name, mh, expect_refusal(dir, mh, NULL, msg, sizeof msg), "%s", msg);
		if (wh && mh) {
			char *mp = join(dir, mh);
			char *arch = extract_arch(mp, name, &err);
			free(mp);
			if (!arch)
				report(t, name, wh, false, "architecture: %s", err.msg);
			else
				report(t, name, wh, expect_refusal(dir, wh, arch, msg, sizeof msg), "%s", msg);
			free(arch);
		}
	} else if (json_object_get(files, "before")) {
		static const char *const phase[] = {"before", "after"};
		for (int ph = 0; ph < 2; ph++) {
			const json_t *list = json_object_get(files, phase[ph]);
			const char *model = json_string_value(json_array_get(list, 0));
			const char *weights = json_string_value(json_array_get(list, 1));
			int ne;
			const char *const *e = expected_names(
				json_object_get(c, ph == 0 ? "outputs" : "outputs_after"), &ne);
			const char *ec[16];
			memcpy(ec, e, sizeof ec);
			if (!model)
				continue;
			report(t, name, model, run_form(dir, model, NULL, KS_LOAD_DEFAULT, inputs, ec, ne, tabs, trel, msg, sizeof msg),
			       "%s", msg);
			if (weights) {
				char *mp = join(dir, model);
				char tag[160];
				snprintf(tag, sizeof tag, "%s_%s", name, phase[ph]);
				char *arch = extract_arch(mp, tag, &err);
				free(mp);
				char form[200];
				snprintf(form, sizeof form, "%s + arch", weights);
				if (!arch)
					report(t, name, form, false, "architecture: %s", err.msg);
				else
					report(t, name, form,
					       run_form(dir, weights, arch, KS_LOAD_DEFAULT, inputs, ec, ne, tabs, trel, msg, sizeof msg),
					       "%s", msg);
				free(arch);
			}
		}
	} else if (json_object_get(files, "a")) {
		/* pitfall_layer_order: the README's three outputs, each with the
		 * load order that gives it; Keras' default is topological. */
		char *ma = join(dir, "model_a.h5");
		char *arch = extract_arch(ma, name, &err);
		free(ma);
		const char *e0[] = {"expected_0.npy"};
		const char *er[] = {"expected_a_loads_a_reordered_topological_0.npy"};
		const char *eb[] = {"expected_a_loads_b_by_name_0.npy"};
		const char *et[] = {"expected_a_loads_b_topological_0.npy"};
		static const struct {
			const char *file, *form;
			ks_load_order order;
			int exp; /* 0: e0, 1: er, 2: eb, 3: et */
		} forms[] = {
			{"weights_a.h5", "weights_a.h5 + arch a (default)", KS_LOAD_DEFAULT, 0},
			{"weights_a.h5", "weights_a.h5 + arch a (by name)", KS_LOAD_BY_NAME, 0},
			{"weights_a_reordered.h5", "weights_a_reordered.h5 + arch a (by name)", KS_LOAD_BY_NAME, 0},
			{"weights_a_reordered.h5", "weights_a_reordered.h5 + arch a (topological)", KS_LOAD_TOPOLOGICAL, 1},
			{"weights_a_reordered.h5", "weights_a_reordered.h5 + arch a (default)", KS_LOAD_DEFAULT, 1},
			{"weights_b.h5", "weights_b.h5 + arch a (by name)", KS_LOAD_BY_NAME, 2},
			{"weights_b.h5", "weights_b.h5 + arch a (topological)", KS_LOAD_TOPOLOGICAL, 3},
		};
		const char *const *exps[] = {e0, er, eb, et};
		report(t, name, "model_a.h5", run_form(dir, "model_a.h5", NULL, KS_LOAD_DEFAULT, inputs, e0, 1, tabs, trel, msg, sizeof msg), "%s", msg);
		report(t, name, "model_b.h5", run_form(dir, "model_b.h5", NULL, KS_LOAD_DEFAULT, inputs, e0, 1, tabs, trel, msg, sizeof msg), "%s", msg);
		if (!arch) {
			report(t, name, "weights_* + arch of model_a", false, "architecture: %s", err.msg);
		} else {
			for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++)
				report(t, name, forms[f].form,
				       run_form(dir, forms[f].file, arch, forms[f].order, inputs, exps[forms[f].exp], 1,
				                tabs, trel, msg, sizeof msg),
				       "%s", msg);
		}
		free(arch);
	} else {
		const char *mh = json_string_value(json_object_get(files, "model_h5"));
		const char *wh = json_string_value(json_object_get(files, "weights_h5"));
		const char *mk = json_string_value(json_object_get(files, "keras"));
		const char *kw = json_string_value(json_object_get(files, "keras3_weights_h5"));
		if (mh)
			report(t, name, mh, run_form(dir, mh, NULL, KS_LOAD_DEFAULT, inputs, exp_copy, n_exp, tabs, trel, msg, sizeof msg),
			       "%s", msg);
		if (wh && mh) {
			char *mp = join(dir, mh);
			char *arch = extract_arch(mp, name, &err);
			char form[200];
			free(mp);
			snprintf(form, sizeof form, "%s + arch of %s", wh, mh);
			if (!arch)
				report(t, name, form, false, "architecture: %s", err.msg);
			else
				report(t, name, form, run_form(dir, wh, arch, KS_LOAD_DEFAULT, inputs, exp_copy, n_exp, tabs, trel, msg, sizeof msg),
				       "%s", msg);
			free(arch);
		}
		/* Keras 3 forms use expected_keras3_<j>.npy where it exists. */
		const char *e3[16];
		char e3buf[16][64];
		for (int j = 0; j < n_exp; j++) {
			snprintf(e3buf[j], sizeof e3buf[j], "expected_keras3_%d.npy", j);
			e3[j] = exists(dir, e3buf[j]) ? e3buf[j] : exp_copy[j];
		}
		if (mk)
			report(t, name, mk, run_form(dir, mk, NULL, KS_LOAD_DEFAULT, inputs, e3, n_exp, tabs, trel, msg, sizeof msg),
			       "%s", msg);
		if (kw && mk) {
			char *mp = join(dir, mk);
			char tag[160];
			snprintf(tag, sizeof tag, "%s_k3", name);
			char *arch = extract_arch(mp, tag, &err);
			char form[200];
			free(mp);
			snprintf(form, sizeof form, "%s + arch of %s", kw, mk);
			if (!arch)
				report(t, name, form, false, "architecture: %s", err.msg);
			else
				report(t, name, form, run_form(dir, kw, arch, KS_LOAD_DEFAULT, inputs, e3, n_exp, tabs, trel, msg, sizeof msg),
				       "%s", msg);
			free(arch);
		}
		if (!mh && !mk)
			report(t, name, "-", false, "case lists no model file");
	}
	json_decref(c);
	free(dir);
}

static void test_suite(void **state)
{
	const char *fx = ks_test_fixtures();
	assert_non_null(fx);
	char *root = join(fx, "conformance");
	char *sp = join(root, "suite.json");
	json_error_t je;
	json_t *suite = json_load_file(sp, 0, &je);
	tally t = {0, 0};

	free(sp);
	if (!suite)
		fail_msg("suite.json: %s", je.text);
	const json_t *cases = json_object_get(suite, "cases");
	assert_true(json_array_size(cases) > 0);
	printf("conformance: %zu cases\n", json_array_size(cases));
	for (size_t i = 0; i < json_array_size(cases); i++) {
		const char *name = json_string_value(json_object_get(json_array_get(cases, i), "name"));
		if (name)
			run_case(&t, root, name);
	}
	printf("conformance: %d passed, %d failed\n", t.pass, t.fail);
	json_decref(suite);
	free(root);
	assert_int_equal(t.fail, 0);
	assert_true(t.pass > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_suite),
	};
	ks_quiet_hdf5();
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
