/* Hostile and damaged inputs for the HDF5 side of the loader: every one must
 * fail with one line naming the file (never crash, never hang), and leave
 * the file exactly as it was. Run under ASan too. */
#include "config.h"

#include <fcntl.h>
#include <time.h>

#include "ks_test.h"
#include "h5_build.h"
#include "ks_legacy.h"
#include "ks_model.h"
#include "ks_util.h"

/* libhdf5 1.10 itself leaks small blocks on some error paths of damaged
 * files (no frame of ours in the report). Keep LeakSanitizer quiet about
 * those in this test only; leaks through our code still show. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libhdf5_serial.so\nleak:libhdf5.so\n";
}

typedef struct snap {
	struct stat st;
	unsigned char *bytes;
	size_t n;
} snap;

static void take(const char *p, snap *s)
{
	FILE *fp = fopen(p, "rb");
	assert_int_equal(stat(p, &s->st), 0);
	assert_non_null(fp);
	s->n = (size_t)s->st.st_size;
	s->bytes = malloc(s->n + 1);
	assert_int_equal(fread(s->bytes, 1, s->n, fp), s->n);
	fclose(fp);
}

static void same(const char *p, snap *before)
{
	snap after;
	take(p, &after);
	assert_int_equal(after.n, before->n);
	assert_int_equal(after.st.st_mtim.tv_sec, before->st.st_mtim.tv_sec);
	assert_int_equal(after.st.st_mtim.tv_nsec, before->st.st_mtim.tv_nsec);
	assert_memory_equal(after.bytes, before->bytes, after.n);
	free(after.bytes);
	free(before->bytes);
}

/* Opens p, expecting failure whose message names p and contains `want`
 * (NULL: any). The file must be unchanged. */
static void expect_fail(const char *p, const ks_open_opts *o, const char *want)
{
	snap s;
	ks_err err;
	ks_model *m;

	take(p, &s);
	err.msg[0] = '\0';
	m = ks_model_open(p, o, &err);
	if (m)
		fprintf(stderr, "unexpectedly opened %s\n", p);
	assert_null(m);
	if (!strstr(err.msg, p) || (want && !strstr(err.msg, want)))
		fprintf(stderr, "message: '%s' (wanted '%s')\n", err.msg, want ? want : "");
	assert_non_null(strstr(err.msg, p));
	if (want)
		assert_non_null(strstr(err.msg, want));
	assert_null(strchr(err.msg, '\n'));
	same(p, &s);
}

static char *tmp(const char *name)
{
	return ks_xasprintf("%s/%s", ks_test_tmpdir(), name);
}

static void write_bytes(const char *p, const void *b, size_t n)
{
	FILE *fp = fopen(p, "wb");
	assert_non_null(fp);
	if (n)
		assert_int_equal(fwrite(b, 1, n, fp), n);
	fclose(fp);
}

static void test_empty_and_random(void **state)
{
	char *e = tmp("empty.h5"), *r = tmp("random.h5"), *sig = tmp("sigonly.h5");
	unsigned char buf[4096];
	uint32_t x = 12345;

	(void)state;
	write_bytes(e, "", 0);
	expect_fail(e, NULL, "empty");
	for (size_t i = 0; i < sizeof buf; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (unsigned char)(x >> 16);
	}
	write_bytes(r, buf, sizeof buf);
	expect_fail(r, NULL, "not a Keras model file");
	/* a valid signature followed by garbage */
	memcpy(buf, "\x89HDF\r\n\x1a\n", 8);
	write_bytes(sig, buf, sizeof buf);
	expect_fail(sig, NULL, "HDF5");
	{
		char *dir = ks_xstrdup(ks_test_tmpdir());
		ks_err err;
		assert_null(ks_model_open(dir, NULL, &err));
		assert_non_null(strstr(err.msg, dir));
		assert_null(ks_model_open("/nonexistent/x.h5", NULL, &err));
		assert_non_null(strstr(err.msg, "/nonexistent/x.h5"));
		free(dir);
	}
	free(e);
	free(r);
	free(sig);
}

static void test_truncated_real_file(void **state)
{
	const char *fx = ks_test_fixtures();
	char *src, *dst = tmp("cut.h5");
	FILE *fp;
	unsigned char *all;
	long n;
	ks_err err;
	ks_model *m;

	(void)state;
	assert_non_null(fx);
	src = ks_xasprintf("%s/real/dl4j-test-resources/examples/simple_lstm/simple_lstm_tf_keras_2_model.h5", fx);
	fp = fopen(src, "rb");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	all = malloc((size_t)n);
	assert_int_equal(fread(all, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	/* the untouched copy opens */
	write_bytes(dst, all, (size_t)n);
	m = ks_model_open(dst, NULL, &err);
	assert_non_null(m);
	ks_model_free(m);
	{
		long cuts[] = {8, 100, 512, 2048, n / 3, n / 2, n - 4096, n - 1};
		for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
			if (cuts[i] <= 0 || cuts[i] >= n)
				continue;
			write_bytes(dst, all, (size_t)cuts[i]);
			expect_fail(dst, NULL, NULL);
		}
	}
	free(all);
	free(src);
	free(dst);
}

/* A legacy full model whose pieces can be spoiled one at a time. */
enum spoil { SP_NONE, SP_BAD_JSON, SP_DEEP_JSON, SP_MISSING_DSET, SP_MISSING_GROUP,
             SP_ABSURD_DIMS, SP_RANK, SP_NOT_OBJECT, SP_NONSTRING_NAMES, SP_BAD_REF, SP_HUGE_UNWRITTEN };

static char *spoiled(enum spoil sp)
{
	char name[64];
	char *p;
	hid_t f, wg, g;
	const char *ln[] = {"dense"};
	const char *wn[] = {"dense/kernel:0", "dense/bias:0"};
	const char *good = "{\"class_name\": \"Sequential\", \"config\": {\"name\": \"s\", \"layers\": ["
	                   "{\"class_name\": \"Dense\", \"config\": {\"name\": \"dense\", \"units\": 2, "
	                   "\"batch_input_shape\": [null, 3]}}]}}";
	const char *badref = "{\"class_name\": \"Functional\", \"config\": {\"name\": \"f\", \"layers\": ["
	                     "{\"class_name\": \"Dense\", \"name\": \"dense\", \"config\": {\"name\": \"dense\"},"
	                     " \"inbound_nodes\": [[[\"nobody\", 0, 0, {}]]]}], \"input_layers\": [],"
	                     " \"output_layers\": [[\"dense\", 0, 0]]}}";
	char *cfg = NULL;

	snprintf(name, sizeof name, "spoil_%d.h5", (int)sp);
	p = tmp(name);
	f = hb_create(p);
	hb_attr_str(f, "keras_version", "2.13.1", true, 0, H5T_STR_NULLTERM);
	switch (sp) {
	case SP_BAD_JSON:
		cfg = ks_xstrdup("{\"class_name\": \"Sequential\", \"config\": {\"name\": ");
		break;
	case SP_DEEP_JSON:
		cfg = malloc(100001);
		memset(cfg, '[', 100000);
		cfg[100000] = '\0';
		break;
	case SP_NOT_OBJECT:
		cfg = ks_xstrdup("[1, 2, 3]");
		break;
	case SP_BAD_REF:
		cfg = ks_xstrdup(badref);
		break;
	default:
		cfg = ks_xstrdup(good);
		break;
	}
	hb_attr_str(f, "model_config", cfg, false, 0, H5T_STR_NULLTERM);
	free(cfg);
	wg = hb_group(f, "model_weights");
	if (sp == SP_NONSTRING_NAMES) {
		hsize_t d = 2;
		int v[2] = {1, 2};
		hid_t s = H5Screate_simple(1, &d, NULL);
		hid_t a = H5Acreate2(wg, "layer_names", H5T_STD_I32LE, s, H5P_DEFAULT, H5P_DEFAULT);
		H5Awrite(a, H5T_NATIVE_INT, v);
		H5Aclose(a);
		H5Sclose(s);
	} else {
		const char *ln2[] = {"dense", "ghost"};
		hb_attr_strv(wg, "layer_names", sp == SP_MISSING_GROUP ? ln2 : ln,
		             sp == SP_MISSING_GROUP ? 2 : 1, true);
	}
	g = hb_group(wg, "dense");
	hb_attr_strv(g, "weight_names", wn, 2, true);
	if (sp == SP_HUGE_UNWRITTEN) {
		/* 2^20 x 2^20 floats (4 TB) that were never written: valid HDF5 */
		hsize_t d[2] = {(hsize_t)1 << 20, (hsize_t)1 << 20}, c[2] = {64, 64};
		hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE), l = hb_lcpl();
		hid_t s = H5Screate_simple(2, d, NULL), ds;
		H5Pset_chunk(dcpl, 2, c);
		ds = H5Dcreate2(g, wn[0], H5T_IEEE_F32LE, s, l, dcpl, H5P_DEFAULT);
		HB_CHECK(ds);
		H5Dclose(ds);
		H5Sclose(s);
		H5Pclose(dcpl);
		H5Pclose(l);
	} else if (sp == SP_ABSURD_DIMS) {
		/* 2^40 x 2^40 x 2^40: creatable (chunked, never written), not loadable */
		hsize_t d[3] = {(hsize_t)1 << 40, (hsize_t)1 << 40, (hsize_t)1 << 40}, c[3] = {1, 1, 1};
		hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE), l = hb_lcpl();
		hid_t s = H5Screate_simple(3, d, NULL), ds;
		H5Pset_chunk(dcpl, 3, c);
		ds = H5Dcreate2(g, wn[0], H5T_IEEE_F32LE, s, l, dcpl, H5P_DEFAULT);
		HB_CHECK(ds);
		H5Dclose(ds);
		H5Sclose(s);
		H5Pclose(dcpl);
		H5Pclose(l);
	} else if (sp == SP_RANK) {
		hsize_t d[12] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2};
		hb_dset_f32(g, wn[0], 12, d, NULL);
	} else {
		hb_dset_f32(g, wn[0], 2, (hsize_t[]){3, 2}, NULL);
	}
	if (sp != SP_MISSING_DSET)
		hb_dset_f32(g, wn[1], 1, (hsize_t[]){2}, NULL);
	H5Gclose(g);
	H5Gclose(wg);
	H5Fclose(f);
	return p;
}

static void test_spoiled_legacy_files(void **state)
{
	struct { enum spoil sp; const char *want; } cases[] = {
		{SP_BAD_JSON, "model_config: not valid JSON"},
		{SP_DEEP_JSON, "nested deeper"},
		{SP_NOT_OBJECT, "model_config"},
		{SP_MISSING_DSET, "dense/bias:0"},
		{SP_MISSING_GROUP, "ghost"},
		{SP_ABSURD_DIMS, "overflow"},
		{SP_RANK, "rank 12"},
		{SP_NONSTRING_NAMES, "layer_names"},
		{SP_BAD_REF, "nobody"},
		{SP_HUGE_UNWRITTEN, "far more than"},
	};
	char *ok = spoiled(SP_NONE);
	ks_err err;
	ks_model *m;

	(void)state;
	/* the unspoiled variant opens: failures below are the spoils' doing */
	m = ks_model_open(ok, NULL, &err);
	if (!m)
		fprintf(stderr, "%s\n", err.msg);
	assert_non_null(m);
	assert_int_equal(m->total_params, 8);
	ks_model_free(m);
	free(ok);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *p = spoiled(cases[i].sp);
		expect_fail(p, NULL, cases[i].want);
		free(p);
	}
}

static void test_deep_json_direct(void **state)
{
	size_t n = 100000;
	char *s = malloc(2 * n + 1);
	ks_err err;
	json_t *j;

	(void)state;
	memset(s, '[', n);
	memset(s + n, ']', n);
	s[2 * n] = '\0';
	j = ks_json_parse(s, 2 * n, "deep.json", &err);
	assert_null(j);
	assert_non_null(strstr(err.msg, "deep.json"));
	/* 300 levels are fine */
	memset(s, '[', 300);
	memset(s + 300, ']', 300);
	j = ks_json_parse(s, 600, "ok.json", &err);
	assert_non_null(j);
	json_decref(j);
	/* brackets inside strings do not count */
	{
		const char *q = "{\"a\": \"[[[[[[[[[[[[[[[[[[[[[[[[[\"}";
		j = ks_json_parse(q, strlen(q), "q", &err);
		assert_non_null(j);
		json_decref(j);
	}
	free(s);
}

static void test_bad_config_file_option(void **state)
{
	const char *fx = ks_test_fixtures();
	char *w, *bad = tmp("arch.json"), *notmodel = tmp("arch2.json");
	ks_open_opts o = {0};
	ks_err err;

	(void)state;
	assert_non_null(fx);
	w = ks_xasprintf("%s/real/dl4j-test-resources/examples/simple_lstm/simple_lstm_th_keras_1_weights.h5", fx);
	write_bytes(bad, "{\"class_name\": ", 15);
	write_bytes(notmodel, "[1, 2]", 6);
	o.config_path = bad;
	assert_null(ks_model_open(w, &o, &err));
	assert_non_null(strstr(err.msg, bad));
	o.config_path = notmodel;
	assert_null(ks_model_open(w, &o, &err));
	assert_non_null(strstr(err.msg, "class_name"));
	o.config_path = "/nonexistent/arch.json";
	assert_null(ks_model_open(w, &o, &err));
	assert_non_null(strstr(err.msg, "/nonexistent/arch.json"));
	free(w);
	free(bad);
	free(notmodel);
}

/* A dataset whose stored shape no longer matches what the model recorded
 * (e.g. a weight edited after loading) is refused, not read short. */
static void test_read_rejects_shape_mismatch(void **state)
{
	char *p = spoiled(SP_NONE);
	ks_err err;
	ks_model *m = ks_model_open(p, NULL, &err);
	ks_weight w;
	float buf[16];

	(void)state;
	assert_non_null(m);
	w = m->layers[1].weights[0];
	w.shape[0] = 2; /* claims (2, 2): file has (3, 2) */
	assert_int_equal(ks_weight_read(m, &w, buf, &err), -1);
	assert_non_null(strstr(err.msg, p));
	assert_non_null(strstr(err.msg, "(3, 2)"));
	ks_model_free(m);
	free(p);
}

/* Flipped bytes in a real file's metadata: libhdf5 1.10 crashes on some of
 * these by itself; ks_model_open must turn every one into either a model or
 * a one-line error naming the file, and reading the weights of whatever
 * opened must not crash either. Deterministic (fixed seed). */
static void test_flipped_bytes(void **state)
{
	const char *fx = ks_test_fixtures();
	char *src, *dst = tmp("flip.h5");
	unsigned char *orig, *buf;
	long n;
	FILE *fp;
	uint32_t x = 20240601;
	int opened = 0, refused = 0;

	(void)state;
	assert_non_null(fx);
	src = ks_xasprintf("%s/real/dl4j-test-resources/tfkeras/mlp_0.h5", fx);
	fp = fopen(src, "rb");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	orig = malloc((size_t)n);
	buf = malloc((size_t)n);
	assert_int_equal(fread(orig, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	for (int it = 0; it < 60; it++) {
		ks_err err;
		ks_model *m;
		memcpy(buf, orig, (size_t)n);
		for (int j = 0; j < 1 + it % 6; j++) {
			x = x * 1103515245u + 12345u;
			long pos = (long)((x >> 8) % (uint32_t)(n < 8192 ? n : 8192));
			x = x * 1103515245u + 12345u;
			buf[pos] = (unsigned char)(x >> 16);
		}
		write_bytes(dst, buf, (size_t)n);
		m = ks_model_open(dst, NULL, &err);
		if (!m) {
			assert_non_null(strstr(err.msg, dst));
			refused++;
			continue;
		}
		opened++;
		for (int i = 0; i < m->n_layers; i++)
			for (int k = 0; k < m->layers[i].n_weights; k++) {
				const ks_weight *w = &m->layers[i].weights[k];
				int64_t cnt;
				if (ks_numel(w->shape, w->rank, &cnt) && cnt < (1 << 24)) {
					float *v = malloc((size_t)cnt * sizeof *v + 4);
					if (ks_weight_read(m, w, v, &err) < 0)
						assert_non_null(strstr(err.msg, dst));
					free(v);
				}
			}
		ks_model_free(m);
	}
	fprintf(stderr, "flipped bytes: %d opened, %d refused\n", opened, refused);
	assert_true(refused > 0);
	free(orig);
	free(buf);
	free(src);
	free(dst);
}

/* These eight flipped bits in a conformance file leave metadata that HDF5
 * walks happily but that crashes it (free() of a bad pointer) when the file
 * is closed and its cache flushed: the probe must close the file too. */
static void test_crash_at_close(void **state)
{
	static const struct { long off; unsigned char val; } flips[] = {
		{2097, 040}, {7352, 02}, {10464, 0351}, {10778, 0163},
		{10815, 0275}, {11376, 02}, {11930, 010}, {21073, 0100},
	};
	const char *fx = ks_test_fixtures();
	char *src, *dst = tmp("close_crash.h5");
	unsigned char *buf;
	long n;
	FILE *fp;
	ks_err err;
	ks_model *m;

	(void)state;
	assert_non_null(fx);
	src = ks_xasprintf("%s/conformance/cnn_small/model.h5", fx);
	fp = fopen(src, "rb");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = malloc((size_t)n);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
		assert_true(flips[i].off < n);
		buf[flips[i].off] = flips[i].val;
	}
	write_bytes(dst, buf, (size_t)n);
	m = ks_model_open(dst, NULL, &err);
	if (m)
		ks_model_free(m); /* the crash, had the probe missed it */
	else
		assert_non_null(strstr(err.msg, dst));
	free(buf);
	free(src);
	free(dst);
}

/* Nothing may block: a FIFO given as the model or the architecture, and an
 * external link pointing at a FIFO inside the file (HDF5 would open it). */
static void test_fifos_and_external_links(void **state)
{
	char *fifo = tmp("pipe"), *p = tmp("extlink.h5");
	const char *ln[] = {"dense"};
	ks_open_opts o = {0};
	ks_err err;
	hid_t f, wg;

	(void)state;
	alarm(60); /* a regression would hang: turn it into a failure */
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_null(ks_model_open(fifo, NULL, &err));
	assert_non_null(strstr(err.msg, fifo));

	f = hb_create(p);
	hb_attr_str(f, "model_config",
	            "{\"class_name\": \"Sequential\", \"config\": {\"name\": \"s\", \"layers\": ["
	            "{\"class_name\": \"Dense\", \"config\": {\"name\": \"dense\", \"units\": 2, "
	            "\"batch_input_shape\": [null, 3]}}]}}", false, 0, H5T_STR_NULLTERM);
	wg = hb_group(f, "model_weights");
	hb_attr_strv(wg, "layer_names", ln, 1, true);
	HB_CHECK(H5Lcreate_external(fifo, "/", wg, "dense", H5P_DEFAULT, H5P_DEFAULT));
	H5Gclose(wg);
	H5Fclose(f);
	expect_fail(p, NULL, "dense");

	o.config_path = fifo;
	{
		const char *fx = ks_test_fixtures();
		char *w;
		assert_non_null(fx);
		w = ks_xasprintf("%s/real/dl4j-test-resources/examples/simple_lstm/simple_lstm_th_keras_1_weights.h5", fx);
		assert_null(ks_model_open(w, &o, &err));
		assert_non_null(strstr(err.msg, fifo));
		free(w);
	}
	alarm(0);
	unlink(fifo);
	free(fifo);
	free(p);
}

static const struct CMUnitTest tests[] = {
	/* first: it creates an external link, which the loader disables process-wide */
	cmocka_unit_test(test_fifos_and_external_links),
	cmocka_unit_test(test_empty_and_random),
	cmocka_unit_test(test_truncated_real_file),
	cmocka_unit_test(test_spoiled_legacy_files),
	cmocka_unit_test(test_deep_json_direct),
	cmocka_unit_test(test_bad_config_file_option),
	cmocka_unit_test(test_read_rejects_shape_mismatch),
	cmocka_unit_test(test_flipped_bytes),
	cmocka_unit_test(test_crash_at_close),
};

KS_TEST_MAIN(tests)
