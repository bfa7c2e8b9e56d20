/* test_real_outputs: the real Keras files in $KERASCOPE_FIXTURES/real that
 * ship inputs and the outputs Keras computed (real/README.md, "Expected
 * outputs" column) must be reproduced: max |got - keras| <= 1e-5 * max|keras|.
 *
 * The DL4J `*_inputs_and_outputs.h5` files hold /inputs/<name> (the model
 * input), /predictions/<layer> (Keras' predict output) and, for some,
 * /activations/<layer> (per-layer Keras outputs, checked with `until`).
 * /outputs/<layer> are training targets for the LSTM/RNN sets and are not
 * used. Each model is run as the full model file and as its weights-only
 * twin with the architecture (the shipped *_config.json, or model.h5's own).
 */
#include "config.h"

#include "ks_test.h"

#include <math.h>

#include <hdf5.h>
#include <jansson.h>

#include "ks_model.h"
#include "ks_plan.h"
#include "ks_status.h"
#include "ks_util.h"

#define REL_TOL 1e-5

typedef struct real_case {
	const char *dir;   /* under real/dl4j-test-resources/examples */
	const char *base;
	bool has_config;   /* <base>_config.json exists; else take model.h5's */
} real_case;

static const real_case cases[] = {
	{"simple_lstm", "simple_lstm_th_keras_1", true},
	{"simple_lstm", "simple_lstm_tf_keras_1", true},
	{"simple_rnn", "simple_rnn_tf_keras_2", true},
	{"activations", "LeakyReLU_0", true},
	{"simple_sparse_xent", "simple_sparse_xent_mlp_keras_2", true},
	{"conv1d", "conv1d_k2_s1_d2_cf_same", false},
	{"causal_conv1d", "causal_conv1d_k3_s1_d2_cl", false},
};

typedef struct darr {
	int rank;
	int64_t d[KS_MAX_RANK];
	float *v;
} darr;

/* Reads the idx-th dataset of a group (name order) as float32. */
static bool read_nth(hid_t f, const char *group, int idx, char *name, size_t nsz, darr *a)
{
	hid_t g = H5Gopen2(f, group, H5P_DEFAULT);
	bool ok = false;
	if (g < 0)
		return false;
	if (H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, (hsize_t)idx, name, nsz, H5P_DEFAULT) > 0) {
		hid_t ds = H5Dopen2(g, name, H5P_DEFAULT);
		if (ds >= 0) {
			hid_t sp = H5Dget_space(ds);
			hsize_t dims[KS_MAX_RANK];
			int r = H5Sget_simple_extent_ndims(sp);
			if (r > 0 && r <= KS_MAX_RANK) {
				H5Sget_simple_extent_dims(sp, dims, NULL);
				size_t n = 1;
				a->rank = r;
				for (int k = 0; k < r; k++) {
					a->d[k] = (int64_t)dims[k];
					n *= dims[k];
				}
				a->v = malloc(n * sizeof(float));
				ok = H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, a->v) >= 0;
			}
			H5Sclose(sp);
			H5Dclose(ds);
		}
	}
	H5Gclose(g);
	return ok;
}

static int count_members(hid_t f, const char *group)
{
	H5G_info_t info;
	if (!H5Lexists(f, group, H5P_DEFAULT))
		return 0;
	hid_t g = H5Gopen2(f, group, H5P_DEFAULT);
	if (g < 0)
		return 0;
	int n = H5Gget_info(g, &info) >= 0 ? (int)info.nlinks : 0;
	H5Gclose(g);
	return n;
}

/* Runs the model (until `until`, or to its output) and returns the max error
 * relative to the reference's scale, or -1 with msg set. */
static double run_cmp(ks_model *m, const darr *x, const darr *ref, const char *until, char *msg, size_t msz)
{
	ks_err err;
	ks_shape s;
	s.rank = x->rank;
	memcpy(s.d, x->d, sizeof s.d);
	ks_plan_opts po = {.input_shapes = &s, .n_input_shapes = 1, .until = until};
	ks_plan *p = ks_plan_build(m, &po, &err);
	if (!p) {
		snprintf(msg, msz, "%s", err.msg);
		return -1;
	}
	const float *in[1] = {x->v};
	ks_plan_run(p, in);
	const ks_shape *os = ks_plan_output_shape(p, 0);
	int64_t n = ks_shape_numel(os), rn = 1;
	for (int k = 0; k < ref->rank; k++)
		rn *= ref->d[k];
	if (n != rn) {
		char a[96], b[96];
		snprintf(msg, msz, "output shape %s, Keras %s", ks_shape_str(os->d, os->rank, a, sizeof a),
		         ks_shape_str(ref->d, ref->rank, b, sizeof b));
		ks_plan_free(p);
		return -1;
	}
	const float *y = ks_plan_output(p, 0);
	double scale = 0, worst = 0;
	for (int64_t i = 0; i < n; i++)
		if (fabs(ref->v[i]) > scale)
			scale = fabs(ref->v[i]);
	for (int64_t i = 0; i < n; i++) {
		double d = fabs((double)y[i] - ref->v[i]);
		if (!(d <= worst))
			worst = isnan(d) ? INFINITY : d;
	}
	ks_plan_free(p);
	snprintf(msg, msz, "max abs err %.3g (scale %.3g)", worst, scale);
	return scale > 0 ? worst / scale : worst;
}

static char *arch_of(const char *model_path, const char *tag)
{
	ks_err err;
	ks_model *m = ks_model_open(model_path, NULL, &err);
	if (!m || !m->model_config) {
		ks_model_free(m);
		return NULL;
	}
	char *path = ks_xasprintf("%s/arch_%s.json", ks_test_tmpdir(), tag);
	json_dump_file(m->model_config, path, 0);
	ks_model_free(m);
	return path;
}

static void test_real(void **state)
{
	const char *fx = ks_test_fixtures();
	int fails = 0, checks = 0;
	assert_non_null(fx);

	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		const real_case *rc = &cases[c];
		char *dir = ks_xasprintf("%s/real/dl4j-test-resources/examples/%s", fx, rc->dir);
		char *io = ks_xasprintf("%s/%s_inputs_and_outputs.h5", dir, rc->base);
		char *model = ks_xasprintf("%s/%s_model.h5", dir, rc->base);
		char *weights = ks_xasprintf("%s/%s_weights.h5", dir, rc->base);
		char *config = rc->has_config ? ks_xasprintf("%s/%s_config.json", dir, rc->base)
		                              : arch_of(model, rc->base);
		char iname[256], pname[256], msg[1200];
		darr x = {0}, ref = {0};
		hid_t f = H5Fopen(io, H5F_ACC_RDONLY, H5P_DEFAULT);

		if (f < 0 || !read_nth(f, "inputs", 0, iname, sizeof iname, &x) ||
		    !read_nth(f, "predictions", 0, pname, sizeof pname, &ref)) {
			printf("  %-34s FAIL cannot read %s\n", rc->base, io);
			fails++;
		} else {
			for (int form = 0; form < 2; form++) {
				ks_err err;
				ks_open_opts oo = {.config_path = form ? config : NULL};
				ks_model *m = ks_model_open(form ? weights : model, &oo, &err);
				const char *fname = form ? "weights+config" : "model";
				checks++;
				if (!m) {
					printf("  %-34s %-15s FAIL open: %s\n", rc->base, fname, err.msg);
					fails++;
					continue;
				}
				double r = run_cmp(m, &x, &ref, NULL, msg, sizeof msg);
				bool ok = r >= 0 && r <= REL_TOL;
				printf("  %-34s %-15s %s %s -> %s\n", rc->base, fname, ok ? "PASS" : "FAIL", msg, pname);
				fails += !ok;
				/* per-layer Keras activations, through --until */
				int na = form ? 0 : count_members(f, "activations");
				for (int a = 0; a < na; a++) {
					char lname[256];
					darr act = {0};
					if (!read_nth(f, "activations", a, lname, sizeof lname, &act))
						continue;
					if (ks_model_find_layer(m, lname, false)) {
						checks++;
						r = run_cmp(m, &x, &act, lname, msg, sizeof msg);
						ok = r >= 0 && r <= REL_TOL;
						printf("  %-34s %-15s %s %s (until %s)\n", rc->base, "activation", ok ? "PASS" : "FAIL",
						       msg, lname);
						fails += !ok;
					}
					free(act.v);
				}
				ks_model_free(m);
			}
		}
		if (f >= 0)
			H5Fclose(f);
		free(x.v);
		free(ref.v);
		free(dir);
		free(io);
		free(model);
		free(weights);
		free(config);
	}
	printf("real outputs: %d checks, %d failed\n", checks, fails);
	assert_int_equal(fails, 0);
	assert_true(checks >= 14);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real),
	};
	ks_quiet_hdf5();
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
