/* Every diff case of the shared diagnosis fixtures
 * ($KERASCOPE_FIXTURES/diagnosis/<case>/case.json with "kind": "diff"),
 * run generically: each key of "expect" is checked against ks_diff, and no
 * case, layer or tensor name appears in this file. Expected numbers come
 * from h5py/NumPy (see the fixtures' README): max_abs to 1e-12, outputs
 * within 1e-5 + 1e-5*|expected|.
 *
 * Keys that describe things diff does not decide (how b was initialised,
 * whether it looks untrained: the doctor's findings; the format captions)
 * are listed in `informational` and only reported. An unknown key fails,
 * so a new kind of expectation cannot pass unnoticed. */
#include "config.h"

#include <dirent.h>
#include <math.h>

#include "ks_test.h"
#include "ks_diff.h"
#include "ks_npy.h"
#include "ks_util.h"

static const char *const informational[] = {
	"looks_untrained", "b_init", "formats", "mapping_rule", "threshold_rule", "notes", NULL,
};

typedef struct dcase {
	char dir[1024];
	json_t *doc;
} dcase;

static const char *case_path(const dcase *c, const char *file, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s", c->dir, file);
	return buf;
}

static ks_diff *open_pair(const dcase *c, const char *fa, const char *fb, const ks_tol *tol,
                          int64_t elem_max)
{
	char pa[1200], pb[1200];
	ks_err err;
	ks_diff_opts o = {.elem_max = elem_max};
	if (tol)
		o.tol = *tol;
	ks_diff *d = ks_diff_open(case_path(c, fa, pa, sizeof pa), case_path(c, fb, pb, sizeof pb), &o, &err);
	if (!d)
		fail_msg("%s: %s", c->dir, err.msg);
	if (ks_diff_compare(d, &err) < 0)
		fail_msg("%s: %s", c->dir, err.msg);
	return d;
}

static const ks_diff_tensor *tensor_named(const ks_diff *d, const char *name)
{
	for (int i = 0; i < d->n_tensors; i++)
		if (d->tensors[i].name_a && !strcmp(d->tensors[i].name_a, name))
			return &d->tensors[i];
	for (int i = 0; i < d->n_tensors; i++)
		if (!d->tensors[i].name_a && d->tensors[i].name_b && !strcmp(d->tensors[i].name_b, name))
			return &d->tensors[i];
	return NULL;
}

static const ks_diff_layer *layer_named(const ks_diff *d, const char *name)
{
	for (int i = 0; i < d->n_layers; i++)
		if (d->layers[i].name_a && !strcmp(d->layers[i].name_a, name))
			return &d->layers[i];
	return NULL;
}

static void check_shape(const char *what, const json_t *want, const ks_weight *w)
{
	assert_non_null(w);
	if (json_array_size(want) != (size_t)w->rank)
		fail_msg("%s: rank %d, expected %zu", what, w->rank, json_array_size(want));
	for (int i = 0; i < w->rank; i++)
		if (json_integer_value(json_array_get(want, (size_t)i)) != w->shape[i])
			fail_msg("%s: dimension %d is %lld", what, i, (long long)w->shape[i]);
}

static void check_tensors(const ks_diff *d, const json_t *list, const char *label)
{
	size_t i;
	json_t *e;
	if ((size_t)d->n_tensors != json_array_size(list))
		fail_msg("%s: %d tensors, expected %zu", label, d->n_tensors, json_array_size(list));
	json_array_foreach(list, i, e) {
		const char *name = json_string_value(json_object_get(e, "name"));
		const char *status = json_string_value(json_object_get(e, "status"));
		const ks_diff_tensor *t = tensor_named(d, name);
		if (!t)
			fail_msg("%s: no tensor %s", label, name);
		if (strcmp(ks_diff_status_name(t->status), status) != 0)
			fail_msg("%s: %s is %s, expected %s", label, name, ks_diff_status_name(t->status), status);
		const json_t *bn = json_object_get(e, "b_name");
		if (bn && (!t->name_b || strcmp(t->name_b, json_string_value(bn)) != 0))
			fail_msg("%s: %s paired with %s, expected %s", label, name, t->name_b ? t->name_b : "nothing",
			         json_string_value(bn));
		if (json_object_get(e, "size") && json_integer_value(json_object_get(e, "size")) != t->size)
			fail_msg("%s: %s has %lld elements", label, name, (long long)t->size);
		if (json_object_get(e, "shape"))
			check_shape(name, json_object_get(e, "shape"), t->wa ? t->wa : t->wb);
		if (json_object_get(e, "shape_a"))
			check_shape(name, json_object_get(e, "shape_a"), t->wa);
		if (json_object_get(e, "shape_b"))
			check_shape(name, json_object_get(e, "shape_b"), t->wb);
		const json_t *ma = json_object_get(e, "max_abs"), *nc = json_object_get(e, "n_changed");
		if (ma || nc) {
			if (!t->compared)
				fail_msg("%s: %s was not compared", label, name);
			if (ma && fabs(t->cmp.max_abs - json_number_value(ma)) > 1e-12)
				fail_msg("%s: %s max_abs %.17g, expected %.17g", label, name, t->cmp.max_abs,
				         json_number_value(ma));
			if (nc && t->cmp.n_changed != json_integer_value(nc))
				fail_msg("%s: %s n_changed %lld, expected %lld", label, name, (long long)t->cmp.n_changed,
				         (long long)json_integer_value(nc));
		}
	}
}

/* The tensors with a status are exactly those listed. */
static void check_status_list(const ks_diff *d, const char *status, const json_t *list, const char *label)
{
	size_t i;
	json_t *e;
	int n = 0;
	json_array_foreach(list, i, e) {
		const ks_diff_tensor *t = tensor_named(d, json_string_value(e));
		if (!t || strcmp(ks_diff_status_name(t->status), status) != 0)
			fail_msg("%s: %s should be %s", label, json_string_value(e), status);
	}
	for (int k = 0; k < d->n_tensors; k++)
		n += !strcmp(ks_diff_status_name(d->tensors[k].status), status);
	if ((size_t)n != json_array_size(list))
		fail_msg("%s: %d tensors %s, expected %zu", label, n, status, json_array_size(list));
}

static bool json_values_equal(const json_t *a, const json_t *b)
{
	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b);
	return a && b ? json_equal((json_t *)a, (json_t *)b) : a == b;
}

static void check_changes(const ks_diff_change *got, int n, const json_t *want, const char *label)
{
	size_t i;
	json_t *e;
	if ((size_t)n != json_array_size(want))
		fail_msg("%s: %d changes, expected %zu", label, n, json_array_size(want));
	json_array_foreach(want, i, e) {
		const char *key = json_string_value(json_object_get(e, "key"));
		int k = 0;
		for (; k < n; k++)
			if (!strcmp(got[k].key, key))
				break;
		if (k == n)
			fail_msg("%s: no change of %s", label, key);
		if (!json_values_equal(got[k].a, json_object_get(e, "a")) ||
		    !json_values_equal(got[k].b, json_object_get(e, "b")))
			fail_msg("%s: %s values differ from the expected ones", label, key);
	}
}

static void check_config_changes(const ks_diff *d, const json_t *want)
{
	int total = 0;
	size_t i;
	json_t *e;
	for (int k = 0; k < d->n_layers; k++)
		if (d->layers[k].la && d->layers[k].lb)
			total += d->layers[k].n_changes;
	if ((size_t)total != json_array_size(want))
		fail_msg("config_changes: %d, expected %zu", total, json_array_size(want));
	json_array_foreach(want, i, e) {
		const char *layer = json_string_value(json_object_get(e, "layer"));
		const ks_diff_layer *L = layer_named(d, layer);
		json_t *one = json_array();
		if (!L)
			fail_msg("config_changes: no layer %s", layer);
		json_array_append(one, e);
		/* the layer holds exactly the listed changes of its own */
		json_t *mine = json_array();
		size_t j;
		json_t *x;
		json_array_foreach(want, j, x)
			if (!strcmp(json_string_value(json_object_get(x, "layer")), layer))
				json_array_append(mine, x);
		check_changes(L->changes, L->n_changes, mine, layer);
		json_decref(mine);
		json_decref(one);
	}
}

static void check_layer_set(const ks_diff *d, ks_diff_status st, const json_t *want, const char *label)
{
	int n = 0;
	size_t i;
	json_t *e;
	for (int k = 0; k < d->n_layers; k++)
		n += d->layers[k].status == st;
	if ((size_t)n != json_array_size(want))
		fail_msg("%s: %d layers, expected %zu", label, n, json_array_size(want));
	json_array_foreach(want, i, e) {
		bool found = false;
		for (int k = 0; k < d->n_layers; k++) {
			const char *nm = st == KS_DS_ADDED ? d->layers[k].name_b : d->layers[k].name_a;
			found |= d->layers[k].status == st && nm && !strcmp(nm, json_string_value(e));
		}
		if (!found)
			fail_msg("%s: %s missing", label, json_string_value(e));
	}
}

static void check_output_file(const dcase *c, const char *file, const float *got, int64_t n)
{
	char p[1200];
	ks_array x;
	ks_err err;
	if (ks_npy_read(case_path(c, file, p, sizeof p), &x, &err) < 0)
		fail_msg("%s", err.msg);
	if (ks_array_numel(&x) != n)
		fail_msg("%s: %lld values, the model gave %lld", file, (long long)ks_array_numel(&x), (long long)n);
	for (int64_t i = 0; i < n; i++) {
		double e = x.data[i];
		if (!(fabs(got[i] - e) <= 1e-5 + 1e-5 * fabs(e)))
			fail_msg("%s[%lld]: got %.9g, expected %.9g", file, (long long)i, (double)got[i], e);
	}
	ks_array_free(&x);
}

static void run_outputs(const dcase *c, ks_diff *d, const json_t *ex)
{
	const json_t *inputs = json_object_get(c->doc, "inputs");
	ks_array arr[8];
	size_t n = json_array_size(inputs), i;
	json_t *e;
	ks_err err;
	assert_true(n >= 1 && n <= 8);
	json_array_foreach(inputs, i, e) {
		char p[1200];
		if (ks_npy_read(case_path(c, json_string_value(json_object_get(e, "file")), p, sizeof p), &arr[i], &err) < 0)
			fail_msg("%s", err.msg);
	}
	if (ks_diff_run_outputs(d, arr, (int)n, &err) < 0)
		fail_msg("%s: %s", c->dir, err.msg);
	for (i = 0; i < n; i++)
		ks_array_free(&arr[i]);
	assert_true(d->outputs.ran);
	if (d->outputs.stopped)
		fail_msg("%s: the output comparison stopped: %s", c->dir, d->outputs.stopped);
	const json_t *outs = json_object_get(ex, "outputs");
	if (outs) {
		const json_t *fa = json_object_get(outs, "a"), *fb = json_object_get(outs, "b");
		assert_int_equal(json_array_size(fa), d->outputs.n_outs);
		for (int k = 0; k < d->outputs.n_outs; k++) {
			const ks_diff_model_out *m = &d->outputs.outs[k];
			assert_non_null(m->va);
			check_output_file(c, json_string_value(json_array_get(fa, (size_t)k)), m->va, m->rows * m->cols);
			check_output_file(c, json_string_value(json_array_get(fb, (size_t)k)), m->vb, m->rows * m->cols);
		}
	}
	const json_t *fd = json_object_get(ex, "first_divergence");
	if (fd) {
		int f = d->outputs.first_divergence;
		if (json_is_null(fd))
			assert_int_equal(f, -1);
		else if (f < 0 || strcmp(d->outputs.layers[f].name_a, json_string_value(fd)) != 0)
			fail_msg("first_divergence %s, expected %s", f < 0 ? "none" : d->outputs.layers[f].name_a,
			         json_string_value(fd));
	}
	/* the compared layers follow the model order given */
	const json_t *order = json_object_get(ex, "layer_order");
	if (order) {
		size_t at = 0;
		for (int k = 0; k < d->outputs.n_layers && at < json_array_size(order); k++)
			if (!strcmp(d->outputs.layers[k].name_a, json_string_value(json_array_get(order, at))))
				at++;
		assert_int_equal(at, json_array_size(order));
	}
	/* a permutation of the model's classes shows in its outputs too */
	const json_t *map = json_object_get(ex, "mapping");
	if (map && d->outputs.n_outs) {
		const ks_diff_model_out *m = &d->outputs.outs[d->outputs.n_outs - 1];
		assert_non_null(m->mapping);
		for (int k = 0; k < m->n_mapping; k++)
			assert_int_equal(m->mapping[k], json_integer_value(json_array_get(map, (size_t)k)));
	}
}

static void check_case(const dcase *c, const char *fb, bool with_outputs)
{
	const json_t *ex = json_object_get(c->doc, "expect"), *files = json_object_get(c->doc, "files");
	char label[1200];
	snprintf(label, sizeof label, "%s (a vs %s)", c->dir, fb);
	ks_diff *d = open_pair(c, json_string_value(json_object_get(files, "a")), fb, NULL, 0);
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)ex, key, v) {
		if (!strcmp(key, "tensors"))
			check_tensors(d, v, label);
		else if (!strcmp(key, "same") || !strcmp(key, "changed") || !strcmp(key, "reshaped") ||
		         !strcmp(key, "added") || !strcmp(key, "removed"))
			check_status_list(d, key, v, label);
		else if (!strcmp(key, "identical"))
			assert_int_equal(ks_diff_identical(d), json_is_true(v));
		else if (!strcmp(key, "pairing")) {
			const char *ka;
			json_t *vb;
			json_object_foreach(v, ka, vb) {
				const ks_diff_layer *L = layer_named(d, ka);
				if (!L || !L->lb || strcmp(L->lb->name, json_string_value(vb)) != 0)
					fail_msg("%s: %s paired with %s, expected %s", label, ka, L && L->lb ? L->lb->name : "nothing",
					         json_string_value(vb));
				assert_non_null(ks_pair_how_name(L->pairing));
			}
		} else if (!strcmp(key, "layer")) {
			const ks_diff_layer *L = layer_named(d, json_string_value(v));
			const json_t *map = json_object_get(ex, "mapping");
			assert_non_null(L);
			assert_non_null(map);
			if (!L->mapping)
				fail_msg("%s: no class permutation found in %s", label, json_string_value(v));
			assert_int_equal(L->n_mapping, json_array_size(map));
			for (int k = 0; k < L->n_mapping; k++)
				assert_int_equal(L->mapping[k], json_integer_value(json_array_get(map, (size_t)k)));
		} else if (!strcmp(key, "mapping")) {
			assert_non_null(json_object_get(ex, "layer"));   /* checked with "layer" */
		} else if (!strcmp(key, "config_changes"))
			check_config_changes(d, v);
		else if (!strcmp(key, "added_layers"))
			check_layer_set(d, KS_DS_ADDED, v, label);
		else if (!strcmp(key, "removed_layers"))
			check_layer_set(d, KS_DS_REMOVED, v, label);
		else if (!strcmp(key, "training_config_changes"))
			check_changes(d->training_changes, d->n_training_changes, v, "training");
		else if (!strcmp(key, "training_config")) {
			assert_int_equal(d->training_a, json_is_true(json_object_get(v, "a")));
			assert_int_equal(d->training_b, json_is_true(json_object_get(v, "b")));
		} else if (!strcmp(key, "optimizer_state")) {
			assert_int_equal(d->opt_a.present, json_is_true(json_object_get(v, "a")));
			assert_int_equal(d->opt_b.present, json_is_true(json_object_get(v, "b")));
		} else if (!strcmp(key, "b_optimizer_weights")) {
			size_t i;
			json_t *e;
			assert_int_equal(d->b->n_opt_weights, json_array_size(v));
			json_array_foreach(v, i, e) {
				bool found = false;
				for (int k = 0; k < d->b->n_opt_weights; k++)
					found |= !strcmp(d->b->opt_weights[k].stored_name, json_string_value(e)) ||
					         ks_str_endswith(d->b->opt_weights[k].h5_path, json_string_value(e));
				if (!found)
					fail_msg("%s: optimizer weight %s not found in b", label, json_string_value(e));
			}
		} else if (!strcmp(key, "b_has_config")) {
			assert_int_equal(d->b->model_config != NULL, json_is_true(v));
		} else if (!strcmp(key, "config_from")) {
			assert_non_null(d->config_from_b);
			assert_string_equal(d->config_from_b, json_string_value(v));
		} else if (!strcmp(key, "model_config_identical")) {
			int n = 0;
			for (int k = 0; k < d->n_layers; k++)
				n += d->layers[k].n_changes + (d->layers[k].status == KS_DS_ADDED) +
				     (d->layers[k].status == KS_DS_REMOVED);
			for (int k = 0; k < d->n_model_changes; k++)
				n += !d->model_changes[k].info;
			assert_int_equal(n == 0, json_is_true(v));
		} else if (!strcmp(key, "loss")) {
			bool same = json_values_equal(json_object_get(v, "a"), json_object_get(v, "b"));
			bool listed = false;
			for (int k = 0; k < d->n_training_changes; k++)
				listed |= !strcmp(d->training_changes[k].key, "loss");
			assert_int_equal(listed, !same);
		} else if (!strcmp(key, "trainable")) {
			size_t i;
			json_t *e;
			json_array_foreach(v, i, e) {
				const ks_diff_tensor *t = tensor_named(d, json_string_value(e));
				assert_non_null(t);
				assert_int_equal(t->status, KS_DS_CHANGED);
			}
		} else if (!strcmp(key, "head_layers")) {
			for (int k = 0; k < d->n_layers; k++) {
				const ks_diff_layer *L = &d->layers[k];
				bool head = false;
				size_t i;
				json_t *e;
				json_array_foreach(v, i, e)
					head |= L->name_a && !strcmp(L->name_a, json_string_value(e));
				if (L->n_tensors)
					assert_int_equal(L->status, head ? KS_DS_CHANGED : KS_DS_SAME);
			}
		} else if (!strcmp(key, "shifted_tensor")) {
			const ks_diff_tensor *t = tensor_named(d, json_string_value(v));
			double shift = json_number_value(json_object_get(ex, "shift"));
			assert_non_null(t);
			assert_int_equal(t->cmp.n_changed, t->size);
			/* a float32 value plus the shift, rounded to float32 */
			assert_true(fabs(t->cmp.max_abs - shift) < 1e-6 * (1 + fabs(shift)) + 1e-6);
		} else if (!strcmp(key, "shift")) {
			assert_non_null(json_object_get(ex, "shifted_tensor"));
		} else if (!strcmp(key, "tensor") || !strcmp(key, "max_abs")) {
			/* the one changed tensor and its maximum difference */
			const ks_diff_tensor *t = tensor_named(d, json_string_value(json_object_get(ex, "tensor")));
			assert_non_null(t);
			if (!strcmp(key, "max_abs"))
				assert_true(fabs(t->cmp.max_abs - json_number_value(v)) <= 1e-12);
		} else if (!strcmp(key, "n_changed_at")) {
			const ks_diff_tensor *t0 = tensor_named(d, json_string_value(json_object_get(ex, "tensor")));
			const char *th;
			json_t *cnt;
			assert_non_null(t0);
			json_object_foreach(v, th, cnt) {
				ks_tol tol = {KS_TOL_ABS, strtod(th, NULL)};
				ks_diff *d2 = open_pair(c, json_string_value(json_object_get(files, "a")), fb, &tol, 0);
				const ks_diff_tensor *t = tensor_named(d2, t0->name_a);
				if (t->cmp.n_changed != json_integer_value(cnt))
					fail_msg("%s: -d %s: %lld changed, expected %lld", label, th, (long long)t->cmp.n_changed,
					         (long long)json_integer_value(cnt));
				ks_diff_free(d2);
			}
		} else if (!strcmp(key, "edits")) {
			/* -r lists exactly the edited elements, with their values */
			ks_diff *d2 = open_pair(c, json_string_value(json_object_get(files, "a")), fb, NULL, 1000);
			size_t i;
			json_t *e;
			assert_int_equal(d2->n_elems, json_array_size(v));
			json_array_foreach(v, i, e) {
				const ks_diff_elem *el = &d2->elems[i];
				assert_int_equal(el->flat, json_integer_value(json_object_get(e, "flat_index")));
				assert_true(el->a == (float)json_number_value(json_object_get(e, "a")));
				assert_true(el->b == (float)json_number_value(json_object_get(e, "b")));
				assert_true(fabs(fabs((double)el->a - el->b) - json_number_value(json_object_get(e, "abs_diff"))) <= 1e-12);
			}
			ks_diff_free(d2);
		} else if (!strcmp(key, "outputs") || !strcmp(key, "first_divergence") || !strcmp(key, "layer_order")) {
			/* checked on the forward pass below */
		} else {
			bool info = false;
			for (int k = 0; informational[k]; k++)
				info |= !strcmp(key, informational[k]);
			if (!info)
				fail_msg("%s: unknown expect key '%s': teach this test what it means", label, key);
			print_message("%s: '%s' is informational for diff (not checked)\n", label, key);
		}
	}
	if (with_outputs && json_array_size(json_object_get(c->doc, "inputs")))
		run_outputs(c, d, ex);
	ks_diff_free(d);
}

static void test_case(void **state)
{
	const dcase *c = *state;
	const json_t *files = json_object_get(c->doc, "files");
	check_case(c, json_string_value(json_object_get(files, "b")), true);
	/* b's weights saved alone (save_weights) must compare as b does */
	const char *role;
	json_t *f;
	json_object_foreach((json_t *)files, role, f)
		if (ks_str_startswith(role, "b_"))
			check_case(c, json_string_value(f), true);
}

static int cmp_names(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

int main(void)
{
	const char *fx = ks_test_fixtures();
	if (!fx)
		return 1;
	char root[1024];
	snprintf(root, sizeof root, "%s/diagnosis", fx);
	DIR *dir = opendir(root);
	if (!dir) {
		fprintf(stderr, "%s: cannot open\n", root);
		return 1;
	}
	char *names[512];
	int n = 0;
	struct dirent *de;
	while ((de = readdir(dir)) && n < 512)
		if (de->d_name[0] != '.')
			names[n++] = ks_xstrdup(de->d_name);
	closedir(dir);
	qsort(names, (size_t)n, sizeof *names, cmp_names);

	struct CMUnitTest *tests = ks_xcalloc((size_t)n + 1, sizeof *tests);
	dcase *cases = ks_xcalloc((size_t)n + 1, sizeof *cases);
	int nt = 0;
	for (int i = 0; i < n; i++) {
		char p[1200];
		json_error_t je;
		snprintf(p, sizeof p, "%s/%s/case.json", root, names[i]);
		json_t *doc = json_load_file(p, 0, &je);
		if (!doc)
			continue;
		if (!json_is_string(json_object_get(doc, "kind")) ||
		    strcmp(json_string_value(json_object_get(doc, "kind")), "diff") != 0) {
			json_decref(doc);
			continue;
		}
		snprintf(cases[nt].dir, sizeof cases[nt].dir, "%s/%s", root, names[i]);
		cases[nt].doc = doc;
		tests[nt].name = names[i];
		tests[nt].test_func = test_case;
		tests[nt].initial_state = &cases[nt];
		nt++;
	}
	if (nt == 0) {
		fprintf(stderr, "%s: no diff cases found\n", root);
		return 1;
	}
	int failed = _cmocka_run_group_tests("diff cases", tests, (size_t)nt, NULL, NULL);
	for (int i = 0; i < nt; i++)
		json_decref(cases[i].doc);
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(tests);
	free(cases);
	return failed ? 1 : 0;
}
