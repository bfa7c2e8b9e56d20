/* test_doctor_cases: every case under $KERASCOPE_FIXTURES/diagnosis/ whose
 * case.json says "kind": "doctor", run generically.
 *
 * Files by role: "model" (one file), "arch" + "weights" (a weights-only file
 * with the architecture JSON), "a" + "b" (the doctor gets both), "keras" (a
 * second form of the same model, checked on its own with the same
 * expectations). When the case ships inputs, the first one is given as
 * --input would be. Each id in expect.findings must be reported and none in
 * expect.absent. The other keys of expect are compared with the details of
 * the first expected finding wherever that finding has the same key (or
 * layer/tensor), so cases never seen before are checked the same way:
 * strings and integers exactly, reals to 1e-6 relative, string lists as
 * sets, lists of objects matched by "name", python_version as a range.
 * Nothing here knows a case by name.
 */
#include "config.h"

#include "ks_test.h"

#include <dirent.h>
#include <math.h>

#include <jansson.h>

#include "ks_doctor.h"
#include "ks_npy.h"
#include "ks_util.h"

static int n_fail, n_pass;

static void verdict(const char *cs, const char *form, bool ok, const char *what)
{
	printf("  %-28s %-14s %s %s\n", cs, form, ok ? "PASS" : "FAIL", what);
	if (ok)
		n_pass++;
	else
		n_fail++;
}

static const ks_finding *find(const ks_doctor *d, const char *id)
{
	for (int i = 0; i < d->n_findings; i++)
		if (!strcmp(d->findings[i].id, id))
			return &d->findings[i];
	return NULL;
}

static bool str_in(const json_t *arr, const char *s)
{
	size_t i;
	const json_t *v;
	json_array_foreach(arr, i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), s))
			return true;
	return false;
}

/* expected value e against ours g; writes a reason on mismatch */
static bool same(const json_t *e, const json_t *g, char *why, size_t n, const char *key)
{
	if (json_is_number(e) && json_is_number(g)) {
		double a = json_number_value(e), b = json_number_value(g);
		if (fabs(a - b) <= 1e-6 * fmax(1.0, fabs(a)))
			return true;
		snprintf(why, n, "%s: expected %.9g, got %.9g", key, a, b);
		return false;
	}
	if (json_is_string(e) && json_is_string(g)) {
		if (!strcmp(json_string_value(e), json_string_value(g)))
			return true;
		snprintf(why, n, "%s: expected '%s', got '%s'", key, json_string_value(e), json_string_value(g));
		return false;
	}
	if (json_is_array(e) && json_is_array(g)) {
		size_t i;
		const json_t *v;
		bool strings = json_array_size(e) > 0 && json_is_string(json_array_get(e, 0));
		bool objects = json_array_size(e) > 0 && json_is_object(json_array_get(e, 0));
		if (json_array_size(e) != json_array_size(g)) {
			snprintf(why, n, "%s: expected %zu entries, got %zu", key, json_array_size(e), json_array_size(g));
			return false;
		}
		json_array_foreach(e, i, v) {
			if (strings) {
				if (!str_in(g, json_string_value(v))) {
					snprintf(why, n, "%s: '%s' missing", key, json_string_value(v));
					return false;
				}
			} else if (objects && json_object_get(v, "name")) {
				const json_t *match = NULL, *w;
				size_t k;
				json_array_foreach(g, k, w)
					if (json_equal(json_object_get(w, "name"), json_object_get(v, "name")))
						match = w;
				if (!match) {
					snprintf(why, n, "%s: entry %s missing", key, json_string_value(json_object_get(v, "name")));
					return false;
				}
				if (!same(v, match, why, n, key))
					return false;
			} else if (!same(v, json_array_get(g, i), why, n, key)) {
				return false;
			}
		}
		return true;
	}
	if (json_is_object(e) && json_is_object(g)) {
		const char *k;
		const json_t *v;
		json_object_foreach((json_t *)e, k, v) {
			const json_t *w = json_object_get(g, k);
			if (w && !same(v, w, why, n, k))
				return false;
		}
		return true;
	}
	if (json_is_boolean(e) && json_is_boolean(g) && json_equal(e, g))
		return true;
	snprintf(why, n, "%s: different kinds of value", key);
	return false;
}

/* "CPython 3.11" within [python_min, python_max] */
static bool in_range(const char *want, const json_t *det)
{
	const char *lo = json_string_value(json_object_get(det, "python_min"));
	const char *hi = json_string_value(json_object_get(det, "python_max"));
	int wmaj, wmin, lmaj, lmin, hmaj = 99, hmin = 99;
	if (!lo || sscanf(want, "CPython %d.%d", &wmaj, &wmin) != 2 || sscanf(lo, "%d.%d", &lmaj, &lmin) != 2)
		return false;
	if (hi && hi[0])
		sscanf(hi, "%d.%d", &hmaj, &hmin);
	return wmaj * 100 + wmin >= lmaj * 100 + lmin && wmaj * 100 + wmin <= hmaj * 100 + hmin;
}

static void check_details(const char *cs, const char *form, const json_t *expect, const ks_finding *f)
{
	const char *key;
	const json_t *v;
	json_object_foreach((json_t *)expect, key, v) {
		char why[512] = "", what[600];
		bool ok = true, checked = true;
		if (!strcmp(key, "findings") || !strcmp(key, "absent") || !strcmp(key, "outputs"))
			continue;
		const json_t *g = json_object_get(f->details, !strcmp(key, "b_init") ? "init" : key);
		if (!strcmp(key, "layer") && json_is_string(v)) {
			const char *got = f->layer ? f->layer : json_string_value(g);
			ok = got && !strcmp(got, json_string_value(v));
			snprintf(why, sizeof why, "layer: expected %s, got %s", json_string_value(v), got ? got : "none");
		} else if (!strcmp(key, "tensor") && json_is_string(v)) {
			ok = f->tensor && !strcmp(f->tensor, json_string_value(v));
			snprintf(why, sizeof why, "tensor: expected %s, got %s", json_string_value(v), f->tensor ? f->tensor : "none");
		} else if (!strcmp(key, "python_version") && json_is_string(v)) {
			ok = in_range(json_string_value(v), f->details);
			snprintf(why, sizeof why, "python_version %s not within the reported range", json_string_value(v));
		} else if (g) {
			ok = same(v, g, why, sizeof why, key);
		} else {
			checked = false;
		}
		if (!checked)
			continue;
		snprintf(what, sizeof what, "%s.%s %s", f->id, key, ok ? "" : why);
		verdict(cs, form, ok, what);
	}
}

static ks_model *open_or_report(const char *cs, const char *form, const char *path, const char *config)
{
	/* as `kerascope doctor` opens: by name, so that a file whose topological
	 * load fails can still be studied */
	ks_open_opts o = {.config_path = config, .load_order = KS_LOAD_BY_NAME};
	ks_err e;
	ks_model *m = ks_model_open(path, &o, &e);
	if (!m)
		verdict(cs, form, false, e.msg);
	return m;
}

static void run_case(const char *dir, const char *cs, const json_t *doc)
{
	const json_t *files = json_object_get(doc, "files"), *expect = json_object_get(doc, "expect");
	const char *forms[2][3] = {{NULL}};
	int nforms = 0;
	char p[2][4096], cfg[4096];
	const char *model = json_string_value(json_object_get(files, "model"));
	const char *keras = json_string_value(json_object_get(files, "keras"));
	const char *arch = json_string_value(json_object_get(files, "arch"));
	const char *wts = json_string_value(json_object_get(files, "weights"));
	const char *fa = json_string_value(json_object_get(files, "a"));
	const char *fb = json_string_value(json_object_get(files, "b"));

	if (model)
		forms[nforms++][0] = model;
	if (keras)
		forms[nforms++][0] = keras;
	if (arch && wts) {
		forms[nforms][0] = wts;
		forms[nforms++][2] = arch;
	}
	if (fa && fb) {
		forms[nforms][0] = fa;
		forms[nforms++][1] = fb;
	}
	if (!nforms) {
		verdict(cs, "-", false, "no file role this test knows");
		return;
	}
	for (int k = 0; k < nforms; k++) {
		const char *form = forms[k][0];
		ks_model *a, *b = NULL;
		ks_array in = {0};
		bool have_in = false;
		snprintf(p[0], sizeof p[0], "%s/%s/%s", dir, cs, forms[k][0]);
		if (forms[k][2])
			snprintf(cfg, sizeof cfg, "%s/%s/%s", dir, cs, forms[k][2]);
		a = open_or_report(cs, form, p[0], forms[k][2] ? cfg : NULL);
		if (!a)
			continue;
		if (forms[k][1]) {
			snprintf(p[1], sizeof p[1], "%s/%s/%s", dir, cs, forms[k][1]);
			if (!(b = open_or_report(cs, form, p[1], NULL))) {
				ks_model_free(a);
				continue;
			}
		}
		const char *inp = json_string_value(json_object_get(json_array_get(json_object_get(doc, "inputs"), 0), "file"));
		if (inp && a->n_inputs == 1) {
			char ip[4096];
			ks_err e;
			snprintf(ip, sizeof ip, "%s/%s/%s", dir, cs, inp);
			have_in = ks_npy_read(ip, &in, &e) == 0;
		}
		ks_doctor_in din = {.a = a, .b = b, .inputs = have_in ? &in : NULL, .n_inputs = have_in,
		                    .n_labels = -1};
		ks_doctor d;
		ks_err e;
		if (ks_doctor_run(&din, &d, &e) < 0) {
			verdict(cs, form, false, e.msg);
		} else {
			size_t i;
			const json_t *id;
			json_array_foreach(json_object_get(expect, "findings"), i, id) {
				char what[128];
				snprintf(what, sizeof what, "reports %s", json_string_value(id));
				verdict(cs, form, find(&d, json_string_value(id)) != NULL, what);
			}
			json_array_foreach(json_object_get(expect, "absent"), i, id) {
				char what[128];
				snprintf(what, sizeof what, "does not report %s", json_string_value(id));
				verdict(cs, form, find(&d, json_string_value(id)) == NULL, what);
			}
			const json_t *first = json_array_get(json_object_get(expect, "findings"), 0);
			const ks_finding *f = first ? find(&d, json_string_value(first)) : NULL;
			if (f)
				check_details(cs, form, expect, f);
			ks_doctor_free(&d);
		}
		if (have_in)
			ks_array_free(&in);
		ks_model_free(a);
		ks_model_free(b);
	}
}

static void test_all_doctor_cases(void **state)
{
	const char *fx = ks_test_fixtures();
	char dir[4096];
	struct dirent **ents;
	int n, cases = 0;
	(void)state;
	assert_non_null(fx);
	snprintf(dir, sizeof dir, "%s/diagnosis", fx);
	n = scandir(dir, &ents, NULL, alphasort);
	assert_true(n > 0);
	for (int i = 0; i < n; i++) {
		char cj[4096];
		json_error_t je;
		snprintf(cj, sizeof cj, "%s/%s/case.json", dir, ents[i]->d_name);
		json_t *doc = ents[i]->d_name[0] != '.' ? json_load_file(cj, 0, &je) : NULL;
		if (doc && json_is_string(json_object_get(doc, "kind")) &&
		    !strcmp(json_string_value(json_object_get(doc, "kind")), "doctor")) {
			cases++;
			run_case(dir, ents[i]->d_name, doc);
		}
		json_decref(doc);
		free(ents[i]);
	}
	free(ents);
	printf("%d doctor cases: %d checks passed, %d failed\n", cases, n_pass, n_fail);
	assert_true(cases > 0);
	assert_int_equal(n_fail, 0);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_all_doctor_cases),
};

KS_TEST_MAIN(tests)
