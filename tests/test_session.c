/* test_session: SHA-256 known answers, the model digests, the session
 * writer/reader round trip, hostile session files, append, and the
 * sample-matched comparison (ks_digest, ks_session, ks_replay). Every file
 * is built here with the HDF5 C API; nothing comes from the fixtures. */
#include "config.h"

#include "ks_test.h"

#include <hdf5.h>

#include "engine_build.h"
#include "h5_build.h"
#include "ks_digest.h"
#include "ks_replay.h"
#include "ks_session.h"
#include "ks_util.h"

static char *tmp_path(const char *name)
{
	char *p = ks_xasprintf("%s/%s", ks_test_tmpdir(), name);
	unlink(p);
	return p;
}

static void sha_text(const void *data, size_t n, char out[KS_DIGEST_HEX])
{
	ks_sha256 s;
	ks_sha256_init(&s);
	ks_sha256_update(&s, data, n);
	ks_sha256_text(&s, out);
}

/* FIPS 180-2 appendix B examples and the empty message. */
static void test_sha256_known(void **state)
{
	char d[KS_DIGEST_HEX];
	(void)state;
	sha_text("", 0, d);
	assert_string_equal(d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha_text("abc", 3, d);
	assert_string_equal(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *m2 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	sha_text(m2, strlen(m2), d);
	assert_string_equal(d, "sha256:248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	/* one million 'a', fed in uneven pieces across block boundaries */
	ks_sha256 s;
	char chunk[997];
	memset(chunk, 'a', sizeof chunk);
	ks_sha256_init(&s);
	size_t left = 1000000;
	for (size_t k = 1; left; k = k % 997 + 1) {
		size_t n = k < left ? k : left;
		ks_sha256_update(&s, chunk, n);
		left -= n;
	}
	ks_sha256_text(&s, d);
	assert_string_equal(d, "sha256:cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_sha256_floats_le(void **state)
{
	/* 1.0f is 00 00 80 3f little-endian */
	const unsigned char le[8] = {0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0};
	const float v[2] = {1.0f, -2.0f};
	char a[KS_DIGEST_HEX], b[KS_DIGEST_HEX];
	(void)state;
	sha_text(le, sizeof le, a);
	ks_digest_floats(v, 2, b);
	assert_string_equal(a, b);
}

/* A two-layer MLP whose names and weights can be varied. */
static ks_model *mlp(const char *hidden, const char *out, float bump, int units)
{
	ks_model *m = eb_new("2.13.1");
	float k1[4 * 8], b1[8] = {0}, k2[8 * 3], b2[3] = {0.1f, -0.1f, 0.0f};
	char cfg[128];
	for (int i = 0; i < 4 * units; i++)
		k1[i] = 0.05f * (float)(i % 7) - 0.1f;
	for (int i = 0; i < units * 3; i++)
		k2[i] = 0.03f * (float)(i % 5) - 0.05f + (i % 3 == 0 ? bump : 0); /* softmax ignores a uniform shift */
	int in = eb_input(m, "x", "[null, 4]");
	snprintf(cfg, sizeof cfg, "{\"name\": \"%s\", \"units\": %d, \"activation\": \"relu\"}", hidden, units);
	int h = eb_layer(m, "Dense", hidden, cfg);
	eb_weight(m, h, "kernel", 2, (int64_t[]){4, units}, k1);
	eb_weight(m, h, "bias", 1, (int64_t[]){units}, b1);
	eb_call1(m, h, in);
	snprintf(cfg, sizeof cfg, "{\"name\": \"%s\", \"units\": 3, \"activation\": \"softmax\"}", out);
	int o = eb_layer(m, "Dense", out, cfg);
	eb_weight(m, o, "kernel", 2, (int64_t[]){units, 3}, k2);
	eb_weight(m, o, "bias", 1, (int64_t[]){3}, b2);
	eb_call1(m, o, h);
	eb_io(m, 1, (int[]){in}, o);
	return m;
}

static void test_model_digests(void **state)
{
	ks_model *a = mlp("dense", "dense_1", 0, 8), *renamed = mlp("hidden", "output", 0, 8);
	ks_model *other = mlp("dense", "dense_1", 0.5f, 8), *wider = mlp("dense", "dense_1", 0, 6);
	char wa[KS_DIGEST_HEX], wr[KS_DIGEST_HEX], wo[KS_DIGEST_HEX], aa[KS_DIGEST_HEX], ar[KS_DIGEST_HEX],
	        ao[KS_DIGEST_HEX], aw[KS_DIGEST_HEX];
	ks_err err;
	(void)state;
	assert_int_equal(ks_digest_weights(a, wa, &err), 0);
	assert_int_equal(ks_digest_weights(renamed, wr, &err), 0);
	assert_int_equal(ks_digest_weights(other, wo, &err), 0);
	ks_digest_architecture(a, aa);
	ks_digest_architecture(renamed, ar);
	ks_digest_architecture(other, ao);
	ks_digest_architecture(wider, aw);
	assert_string_equal(wa, wr);     /* names are not hashed */
	assert_string_not_equal(wa, wo); /* values are */
	assert_string_equal(aa, ar);
	assert_string_equal(aa, ao);     /* same architecture, other weights */
	assert_string_not_equal(aa, aw);
	assert_true(ks_str_startswith(wa, "sha256:") && strlen(wa) == 71);
	ks_model_free(a);
	ks_model_free(renamed);
	ks_model_free(other);
	ks_model_free(wider);
}

/* A session recorded from a run of mlp(), written and read back. */
static ks_session *record_mlp(ks_model *m, bool acts, int64_t batch)
{
	ks_err err;
	ks_shape sh = {2, {batch, 4}};
	ks_plan_opts po = {.input_shapes = &sh, .n_input_shapes = 1, .keep_all = acts};
	ks_plan *p = ks_plan_build(m, &po, &err);
	assert_non_null(p);
	ks_array x = {.rank = 2, .shape = {batch, 4}, .src_dtype = KS_DT_F64};
	x.data = ks_xmalloc(sizeof(float) * (size_t)(batch * 4));
	for (int64_t i = 0; i < batch * 4; i++)
		x.data[i] = 0.25f * (float)(i % 9) - 1.0f;
	const float *in[1] = {x.data};
	ks_plan_run(p, in);
	ks_session *s = ks_session_new("mem");
	assert_int_equal(ks_session_identify(s, m, &err), 0);
	const char *src[1] = {"npy:x.npy"};
	ks_replay_capture(s, p, &x, src, NULL, acts);
	s->created = ks_xstrdup("2026-01-01T00:00:00Z");
	s->kerascope_version = ks_xstrdup("test");
	ks_plan_free(p);
	ks_array_free(&x);
	return s;
}

static void test_roundtrip(void **state)
{
	ks_model *m = mlp("dense", "dense_1", 0, 8);
	ks_session *s = record_mlp(m, true, 5);
	char *path = tmp_path("rt.h5");
	ks_err err;
	(void)state;
	s->labels = ks_xcalloc(2, sizeof *s->labels);
	s->labels[0] = ks_xstrdup("cat");
	s->labels[1] = ks_xstrdup("dog");
	s->n_labels = 2;
	assert_int_equal(ks_session_write(s, path, &err), 0);
	/* never over an existing file */
	assert_int_equal(ks_session_write(s, path, &err), -1);
	assert_non_null(strstr(err.msg, "already exists"));

	assert_true(ks_session_is(path));
	ks_session *r = ks_session_open(path, &err);
	assert_non_null(r);
	assert_int_equal(r->n_runs, 1);
	assert_int_equal(r->runs[0].n_inputs, 1);
	assert_int_equal(r->runs[0].n_outputs, 1);
	assert_int_equal(r->runs[0].n_acts, 2); /* two Dense layers; the InputLayer is not recorded */
	assert_string_equal(r->runs[0].inputs[0].source, "npy:x.npy");
	assert_string_equal(r->runs[0].inputs[0].dtype, "float64");
	assert_string_equal(r->runs[0].acts[0].name, "dense");
	assert_string_equal(r->model.weights_digest, s->model.weights_digest);
	assert_string_equal(r->model.architecture_digest, s->model.architecture_digest);
	assert_int_equal(r->n_labels, 2);
	assert_string_equal(r->labels[1], "dog");
	assert_string_equal(r->created, "2026-01-01T00:00:00Z");
	float got[15];
	assert_int_equal(ks_session_read(r, &r->runs[0].outputs[0], got, &err), 0);
	assert_memory_equal(got, s->runs[0].outputs[0].mem, sizeof got);

	/* replaying on the same model: identical, same weights, exact */
	ks_session *now = ks_replay(r, m, &err);
	assert_non_null(now);
	ks_compare *c = ks_compare_sessions(r, now, NULL, &err);
	assert_non_null(c);
	if (!c->identical)
		ks_compare_print(stderr, c, false);
	assert_true(c->identical);
	assert_true(c->same_inputs);
	assert_int_equal(c->same_weights, 1);
	assert_int_equal(c->tol.kind, KS_TOL_EXACT);
	assert_null(c->first_divergence);
	assert_int_equal(c->acts_compared, 2);
	ks_compare_free(c);
	ks_session_free(now);

	/* other weights: different, first divergence at the layer that changed */
	ks_model *o = mlp("dense", "dense_1", 0.5f, 8);
	now = ks_replay(r, o, &err);
	assert_non_null(now);
	c = ks_compare_sessions(r, now, NULL, &err);
	assert_false(c->identical);
	assert_int_equal(c->same_weights, 0);
	assert_int_equal(c->same_architecture, 1);
	assert_int_equal(c->tol.kind, KS_TOL_REL);
	assert_non_null(c->first_divergence);
	assert_string_equal(c->first_divergence, "dense_1");
	assert_true(c->out[0].cmp.n_changed > 0);
	ks_compare_free(c);
	ks_session_free(now);
	ks_model_free(o);

	ks_session_free(r);
	ks_session_free(s);
	ks_model_free(m);
	free(path);
}

/* Outputs with two classes swapped are recognised as a permutation. */
static void test_permutation_and_partial(void **state)
{
	ks_session *a = ks_session_new("a"), *b = ks_session_new("b");
	ks_err err;
	float x[4 * 2] = {1, 2, 3, 4, 5, 6, 7, 8};
	float ya[4 * 3] = {0.7f, 0.2f, 0.1f, 0.1f, 0.8f, 0.1f, 0.3f, 0.3f, 0.4f, 0.5f, 0.25f, 0.25f};
	float yb[4 * 3];
	(void)state;
	for (int r = 0; r < 4; r++) {
		yb[r * 3 + 0] = ya[r * 3 + 2];
		yb[r * 3 + 1] = ya[r * 3 + 1];
		yb[r * 3 + 2] = ya[r * 3 + 0];
	}
	ks_session_run *ra = ks_session_add_run(a), *rb = ks_session_add_run(b);
	ks_session_add_tensor(&ra->inputs, &ra->n_inputs, "x", x, (int64_t[]){4, 2}, 2);
	ks_session_add_tensor(&ra->outputs, &ra->n_outputs, "y", ya, (int64_t[]){4, 3}, 2);
	ks_session_add_tensor(&rb->inputs, &rb->n_inputs, "x", x, (int64_t[]){4, 2}, 2);
	ks_session_add_tensor(&rb->outputs, &rb->n_outputs, "y", yb, (int64_t[]){4, 3}, 2);
	ks_compare *c = ks_compare_sessions(a, b, NULL, &err);
	assert_non_null(c);
	assert_false(c->identical);
	assert_int_equal(c->same_weights, -1);
	assert_non_null(c->out[0].perm);
	assert_int_equal(c->out[0].perm[0], 2);
	assert_int_equal(c->out[0].perm[1], 1);
	assert_int_equal(c->out[0].perm[2], 0);
	assert_true(c->out[0].top1 < 1.0);
	ks_compare_free(c);

	/* b holds samples 2, 3 (reordered) and one a never saw: 2 shared */
	ks_session *p = ks_session_new("p");
	ks_session_run *rp = ks_session_add_run(p);
	float xp[3 * 2] = {7, 8, 9, 9, 5, 6};
	float yp[3 * 3] = {0.5f, 0.25f, 0.25f, 0, 0, 1, 0.3f, 0.3f, 0.4f};
	ks_session_add_tensor(&rp->inputs, &rp->n_inputs, "x", xp, (int64_t[]){3, 2}, 2);
	ks_session_add_tensor(&rp->outputs, &rp->n_outputs, "y", yp, (int64_t[]){3, 3}, 2);
	c = ks_compare_sessions(a, p, NULL, &err);
	assert_non_null(c);
	assert_int_equal(c->shared, 2);
	assert_false(c->same_inputs);
	assert_true(c->identical); /* the shared samples agree */
	assert_int_equal(c->out[0].rows, 2);
	ks_compare_free(c);
	ks_session_free(p);
	ks_session_free(a);
	ks_session_free(b);
}

/* ---- hostile files ---- */

static hid_t start(const char *path, int version)
{
	hid_t f = hb_create(path);
	hid_t sp = H5Screate(H5S_SCALAR);
	hid_t a = H5Acreate2(f, "kerascope_session", H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
	long long v = version;
	H5Awrite(a, H5T_NATIVE_LLONG, &v);
	H5Aclose(a);
	H5Sclose(sp);
	return f;
}

static void dset(hid_t f, const char *path, int rank, const hsize_t *dims)
{
	int64_t n = 1;
	for (int k = 0; k < rank; k++)
		n *= (int64_t)dims[k];
	float *v = ks_xcalloc((size_t)(n ? n : 1), sizeof *v);
	hb_dset_f32(f, path, rank, dims, v);
	free(v);
}

static void expect_refused(const char *path, const char *needle)
{
	ks_err err;
	ks_session *s = ks_session_open(path, &err);
	if (s || !strstr(err.msg, needle) || strchr(err.msg, '\n') || !strstr(err.msg, path))
		fprintf(stderr, "session %s: got '%s', wanted '%s'\n", path, s ? "(opened)" : err.msg, needle);
	assert_null(s);
	assert_non_null(strstr(err.msg, needle));
	assert_null(strchr(err.msg, '\n'));
	assert_non_null(strstr(err.msg, path)); /* names the file */
}

static void test_hostile(void **state)
{
	(void)state;
	char *p = tmp_path("h_noattr.h5");
	hid_t f = hb_create(p);
	dset(f, "inputs/0", 2, (hsize_t[]){2, 3});
	H5Fclose(f);
	expect_refused(p, "not a kerascope session");
	assert_false(ks_session_is(p));
	free(p);

	p = tmp_path("h_version.h5");
	H5Fclose(start(p, 99));
	expect_refused(p, "format version 99");
	free(p);

	p = tmp_path("h_noinputs.h5");
	f = start(p, 1);
	dset(f, "outputs/0", 2, (hsize_t[]){2, 3});
	H5Fclose(f);
	expect_refused(p, "records no inputs");
	free(p);

	p = tmp_path("h_gap.h5");
	f = start(p, 1);
	dset(f, "inputs/0", 2, (hsize_t[]){2, 3});
	dset(f, "inputs/2", 2, (hsize_t[]){2, 3});
	dset(f, "outputs/0", 2, (hsize_t[]){2, 1});
	H5Fclose(f);
	expect_refused(p, "named 0, 1, 2");
	free(p);

	p = tmp_path("h_batch.h5");
	f = start(p, 1);
	dset(f, "inputs/0", 2, (hsize_t[]){2, 3});
	dset(f, "outputs/0", 2, (hsize_t[]){5, 1});
	H5Fclose(f);
	expect_refused(p, "another batch size");
	free(p);

	p = tmp_path("h_scalar.h5");
	f = start(p, 1);
	dset(f, "inputs/0", 0, NULL);
	dset(f, "outputs/0", 1, (hsize_t[]){1});
	H5Fclose(f);
	expect_refused(p, "batch axis");
	free(p);

	/* absurd size: a chunked dataset claiming 2^40 values, no data */
	p = tmp_path("h_huge.h5");
	f = start(p, 1);
	{
		hsize_t dims[2] = {(hsize_t)1 << 20, (hsize_t)1 << 20}, ch[2] = {1, 16};
		hid_t g = hb_group(f, "inputs");
		hid_t sp = H5Screate_simple(2, dims, NULL), pl = H5Pcreate(H5P_DATASET_CREATE);
		H5Pset_chunk(pl, 2, ch);
		hid_t d = H5Dcreate2(g, "0", H5T_IEEE_F32LE, sp, H5P_DEFAULT, pl, H5P_DEFAULT);
		H5Dclose(d);
		H5Pclose(pl);
		H5Sclose(sp);
		H5Gclose(g);
	}
	dset(f, "outputs/0", 2, (hsize_t[]){1, 1});
	H5Fclose(f);
	expect_refused(p, "more than the");
	free(p);

	/* strings where numbers belong */
	p = tmp_path("h_str.h5");
	f = start(p, 1);
	{
		hid_t g = hb_group(f, "inputs");
		hid_t t = H5Tcopy(H5T_C_S1);
		H5Tset_size(t, 4);
		hsize_t d1 = 2;
		hid_t sp = H5Screate_simple(1, &d1, NULL);
		hid_t d = H5Dcreate2(g, "0", t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
		H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, "abcdefgh");
		H5Dclose(d);
		H5Sclose(sp);
		H5Tclose(t);
		H5Gclose(g);
	}
	dset(f, "outputs/0", 2, (hsize_t[]){2, 1});
	H5Fclose(f);
	expect_refused(p, "strings");
	free(p);

	/* truncated: a valid session cut in half */
	ks_model *m = mlp("dense", "dense_1", 0, 8);
	ks_session *s = record_mlp(m, false, 64);
	ks_err err;
	p = tmp_path("h_trunc.h5");
	assert_int_equal(ks_session_write(s, p, &err), 0);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(truncate(p, st.st_size / 2), 0);
	ks_session *t = ks_session_open(p, &err);
	assert_null(t);
	assert_non_null(strstr(err.msg, p));
	assert_null(strchr(err.msg, '\n'));
	free(p);
	ks_session_free(s);
	ks_model_free(m);
}

/* Inputs that contradict the model fail the replay with one line. */
static void test_replay_contradiction(void **state)
{
	ks_session *s = ks_session_new("bad.h5");
	ks_model *m = mlp("dense", "dense_1", 0, 8);
	ks_err err;
	float x[2 * 5] = {0};
	float y[2 * 3] = {0};
	(void)state;
	ks_session_run *r = ks_session_add_run(s);
	ks_session_add_tensor(&r->inputs, &r->n_inputs, "x", x, (int64_t[]){2, 5}, 2);
	ks_session_add_tensor(&r->outputs, &r->n_outputs, "y", y, (int64_t[]){2, 3}, 2);
	assert_null(ks_replay(s, m, &err));
	assert_non_null(strstr(err.msg, "bad.h5"));
	assert_non_null(strstr(err.msg, "(None, 4)"));
	ks_session_add_tensor(&r->inputs, &r->n_inputs, "x2", x, (int64_t[]){2, 5}, 2);
	assert_null(ks_replay(s, m, &err));
	assert_non_null(strstr(err.msg, "2 inputs but the model takes 1"));
	ks_session_free(s);
	ks_model_free(m);
}

/* :record appends runs: the first creates the file, later ones add /runs/N. */
static void test_append(void **state)
{
	ks_model *m = mlp("dense", "dense_1", 0, 8);
	ks_session *s1 = record_mlp(m, false, 3), *s2 = record_mlp(m, true, 2);
	char *a = tmp_path("ap1.h5"), *b = tmp_path("ap2.h5"), *to = tmp_path("ap.h5");
	ks_err err;
	(void)state;
	assert_int_equal(ks_session_write(s1, a, &err), 0);
	assert_int_equal(ks_session_write(s2, b, &err), 0);
	assert_int_equal(ks_session_append(to, a, &err), 0);
	assert_int_equal(ks_session_append(to, b, &err), 0);
	ks_session *r = ks_session_open(to, &err);
	assert_non_null(r);
	assert_int_equal(r->n_runs, 2);
	assert_int_equal(r->runs[0].inputs[0].shape[0], 3);
	assert_int_equal(r->runs[1].inputs[0].shape[0], 2);
	assert_int_equal(r->runs[1].n_acts, 2);
	assert_string_equal(r->model.weights_digest, s1->model.weights_digest);
	char *d = ks_session_describe(r);
	assert_non_null(strstr(d, "5 samples, 2 runs"));
	free(d);
	/* replaying a two-run session */
	ks_session *now = ks_replay(r, m, &err);
	assert_non_null(now);
	ks_compare *c = ks_compare_sessions(r, now, NULL, &err);
	assert_true(c->identical);
	assert_int_equal(c->shared, 5);
	ks_compare_free(c);
	ks_session_free(now);
	ks_session_free(r);
	/* never appends to a file that is not a session */
	char *plain = tmp_path("plain.h5");
	H5Fclose(hb_create(plain));
	assert_int_equal(ks_session_append(plain, a, &err), -1);
	assert_non_null(strstr(err.msg, "not a session"));
	free(plain);
	ks_session_free(s1);
	ks_session_free(s2);
	ks_model_free(m);
	free(a);
	free(b);
	free(to);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_known),
		cmocka_unit_test(test_sha256_floats_le),
		cmocka_unit_test(test_model_digests),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_permutation_and_partial),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_replay_contradiction),
		cmocka_unit_test(test_append),
	};
	ks_quiet_hdf5();
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
