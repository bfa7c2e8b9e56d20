/* ks_h5: string attributes in every encoding Keras files use, dataset
 * metadata, ordering, the tree visitor and in-memory images. Files are built
 * here with the HDF5 C API. */
#include "config.h"

#include "ks_test.h"
#include "h5_build.h"
#include "ks_h5.h"
#include "ks_model.h"
#include "ks_util.h"

static char *attrs_file(void)
{
	char *p = ks_xasprintf("%s/attrs.h5", ks_test_tmpdir());
	hid_t f = hb_create(p), g;
	const char *names[] = {"dense_1", "in", "lstm_sequences_0_st-True"};
	const char *vl[] = {"a", "bb", "ccc"};
	hsize_t d2[2] = {2, 3}, d1[1] = {4}, one[1] = {1};
	int ints[2] = {7, -3};
	int8_t i8[4] = {-128, -1, 0, 127};
	hid_t s, a, d;

	hb_attr_str(f, "vlen_ascii", "hello", false, 0, H5T_STR_NULLTERM);
	hb_attr_str(f, "vlen_utf8", "h\xc3\xa9llo", true, 0, H5T_STR_NULLTERM);
	hb_attr_str(f, "fixed_nullpad", "abc", false, 10, H5T_STR_NULLPAD);
	hb_attr_str(f, "fixed_nullterm", "abcde", false, 6, H5T_STR_NULLTERM);
	hb_attr_str(f, "fixed_spacepad", "ab", false, 8, H5T_STR_SPACEPAD);
	hb_attr_str(f, "fixed_utf8", "\xc3\xa9t\xc3\xa9", true, 5, H5T_STR_NULLPAD);
	hb_attr_strv(f, "arr_fixed", names, 3, false);
	hb_attr_strv(f, "arr_vlen", vl, 3, true);
	hb_attr_strv(f, "empty_f64", NULL, 0, false);
	s = H5Screate_simple(1, (hsize_t[]){2}, NULL);
	a = H5Acreate2(f, "ints", H5T_STD_I32LE, s, H5P_DEFAULT, H5P_DEFAULT);
	H5Awrite(a, H5T_NATIVE_INT, ints);
	H5Aclose(a);
	H5Sclose(s);

	g = hb_group(f, "g");
	hb_dset_f32(g, "w", 2, d2, NULL);
	hb_dset_f32(g, "10", 1, one, NULL);
	hb_dset_f32(g, "2", 1, one, NULL);
	hb_dset_f32(g, "sub/deeper/kernel:0", 1, d1, NULL);
	s = H5Screate_simple(1, d1, NULL);
	d = H5Dcreate2(g, "i8", H5T_STD_I8LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	H5Dwrite(d, H5T_NATIVE_INT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, i8);
	H5Dclose(d);
	H5Sclose(s);
	s = H5Screate(H5S_SCALAR);
	d = H5Dcreate2(g, "iteration:0", H5T_STD_I64LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	{
		int64_t it = 42;
		H5Dwrite(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, &it);
	}
	H5Dclose(d);
	H5Sclose(s);
	H5Gclose(g);
	H5Fclose(f);
	return p;
}

static void test_string_attrs_any_encoding(void **state)
{
	char *p = attrs_file(), *s;
	ks_err err;
	hid_t f;

	(void)state;
	f = ks_h5_open_path(p, &err);
	assert_true(f >= 0);
	assert_int_equal(ks_h5_attr_str(f, ".", "vlen_ascii", &s, &err), 0);
	assert_string_equal(s, "hello");
	free(s);
	assert_int_equal(ks_h5_attr_str(f, NULL, "vlen_utf8", &s, &err), 0);
	assert_string_equal(s, "h\xc3\xa9llo");
	free(s);
	assert_int_equal(ks_h5_attr_str(f, ".", "fixed_nullpad", &s, &err), 0);
	assert_string_equal(s, "abc");
	free(s);
	assert_int_equal(ks_h5_attr_str(f, ".", "fixed_nullterm", &s, &err), 0);
	assert_string_equal(s, "abcde");
	free(s);
	assert_int_equal(ks_h5_attr_str(f, ".", "fixed_spacepad", &s, &err), 0);
	assert_string_equal(s, "ab");
	free(s);
	assert_int_equal(ks_h5_attr_str(f, ".", "fixed_utf8", &s, &err), 0);
	assert_string_equal(s, "\xc3\xa9t\xc3\xa9");
	free(s);
	/* absent: 0 and NULL; wrong type: -1 naming the attribute */
	assert_int_equal(ks_h5_attr_str(f, ".", "nope", &s, &err), 0);
	assert_null(s);
	assert_int_equal(ks_h5_attr_str(f, ".", "ints", &s, &err), -1);
	assert_non_null(strstr(err.msg, "ints"));
	assert_int_equal(ks_h5_attr_str(f, "g/missing", "x", &s, &err), 0);
	assert_null(s);
	H5Fclose(f);
	free(p);
}

static void test_string_arrays(void **state)
{
	char *p = attrs_file();
	char **v;
	int n;
	ks_err err;
	hid_t f;

	(void)state;
	f = ks_h5_open_path(p, &err);
	assert_true(f >= 0);
	assert_int_equal(ks_h5_attr_strv(f, ".", "arr_fixed", &v, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0], "dense_1");
	assert_string_equal(v[1], "in"); /* NULL padding removed */
	assert_string_equal(v[2], "lstm_sequences_0_st-True");
	ks_h5_strv_free(v, n);
	assert_int_equal(ks_h5_attr_strv(f, ".", "arr_vlen", &v, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[2], "ccc");
	ks_h5_strv_free(v, n);
	/* h5py's empty list is float64 (0,): an empty list, not an error */
	assert_int_equal(ks_h5_attr_strv(f, ".", "empty_f64", &v, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_null(v);
	/* a scalar string reads as a one-element list */
	assert_int_equal(ks_h5_attr_strv(f, ".", "vlen_ascii", &v, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "hello");
	ks_h5_strv_free(v, n);
	/* non-empty numbers are not names */
	assert_int_equal(ks_h5_attr_strv(f, ".", "ints", &v, &n, &err), -1);
	assert_non_null(strstr(err.msg, "not a string array"));
	H5Fclose(f);
	free(p);
}

static void test_attr_text_and_names(void **state)
{
	char *p = attrs_file(), *s;
	char **v;
	int n;
	ks_err err;
	hid_t f;

	(void)state;
	f = ks_h5_open_path(p, &err);
	assert_int_equal(ks_h5_attr_text(f, ".", "ints", 0, &s, &err), 0);
	assert_string_equal(s, "[7 -3]");
	free(s);
	assert_int_equal(ks_h5_attr_text(f, ".", "arr_vlen", 0, &s, &err), 0);
	assert_string_equal(s, "[\"a\", \"bb\", \"ccc\"]");
	free(s);
	assert_int_equal(ks_h5_attr_text(f, ".", "arr_vlen", 6, &s, &err), 0);
	assert_string_equal(s, "[\"a\", ...");
	free(s);
	assert_int_equal(ks_h5_attr_names(f, ".", &v, &n, &err), 0);
	assert_int_equal(n, 10);
	assert_string_equal(v[0], "arr_fixed"); /* name order */
	ks_h5_strv_free(v, n);
	H5Fclose(f);
	free(p);
}

static void test_dataset_info_and_read(void **state)
{
	char *p = attrs_file();
	int rank;
	int64_t dims[KS_MAX_RANK];
	ks_dtype dt;
	float buf[8];
	ks_err err;
	hid_t f;

	(void)state;
	f = ks_h5_open_path(p, &err);
	assert_int_equal(ks_h5_dataset_info(f, "/g/w", &rank, dims, &dt, &err), 0);
	assert_int_equal(rank, 2);
	assert_int_equal(dims[0], 2);
	assert_int_equal(dims[1], 3);
	assert_int_equal(dt, KS_DT_F32);
	assert_int_equal(ks_h5_dataset_info(f, "g/i8", &rank, dims, &dt, &err), 0);
	assert_int_equal(dt, KS_DT_I8);
	assert_int_equal(ks_h5_read_f32(f, "g/i8", buf, 4, &err), 0);
	assert_true(buf[0] == -128.0f && buf[1] == -1.0f && buf[2] == 0.0f && buf[3] == 127.0f);
	assert_int_equal(ks_h5_dataset_info(f, "g/iteration:0", &rank, dims, &dt, &err), 0);
	assert_int_equal(rank, 0);
	assert_int_equal(dt, KS_DT_I64);
	assert_int_equal(ks_h5_read_f32(f, "g/iteration:0", buf, 1, &err), 0);
	assert_true(buf[0] == 42.0f);
	/* wrong element count, missing dataset, a group */
	assert_int_equal(ks_h5_read_f32(f, "g/w", buf, 5, &err), -1);
	assert_non_null(strstr(err.msg, "holds 6 values"));
	assert_int_equal(ks_h5_dataset_info(f, "g/nothere", &rank, dims, &dt, &err), -1);
	assert_int_equal(ks_h5_dataset_info(f, "g/sub", &rank, dims, &dt, &err), -1);
	assert_int_equal(ks_h5_kind_of(f, "g/sub/deeper/kernel:0"), KS_H5_DATASET);
	assert_int_equal(ks_h5_kind_of(f, "g/sub"), KS_H5_GROUP);
	assert_int_equal(ks_h5_kind_of(f, "g/w/below"), KS_H5_NONE);
	assert_false(ks_h5_has_link(f, "nope/deeper"));
	assert_true(ks_h5_has_link(f, "/g/sub/deeper"));
	H5Fclose(f);
	free(p);
}

static void test_links_natural_order(void **state)
{
	char *p = attrs_file();
	char **v;
	int n;
	ks_err err;
	hid_t f;

	(void)state;
	f = ks_h5_open_path(p, &err);
	assert_int_equal(ks_h5_links(f, "g", KS_H5_ORDER_NAME, &v, &n, &err), 0);
	assert_int_equal(n, 6);
	assert_string_equal(v[0], "10");
	assert_string_equal(v[1], "2");
	ks_h5_strv_free(v, n);
	assert_int_equal(ks_h5_links(f, "/g", KS_H5_ORDER_NATURAL, &v, &n, &err), 0);
	assert_string_equal(v[0], "2");
	assert_string_equal(v[1], "10");
	assert_string_equal(v[2], "i8");
	ks_h5_strv_free(v, n);
	assert_int_equal(ks_h5_links(f, "g/w", KS_H5_ORDER_NAME, &v, &n, &err), -1);
	H5Fclose(f);
	free(p);
}

typedef struct seen {
	int groups, datasets, max_depth, attrs_root_g;
	char last[256];
} seen;

static int count_cb(const ks_h5_item *it, void *ud, ks_err *err)
{
	seen *s = ud;
	(void)err;
	if (it->kind == KS_H5_GROUP)
		s->groups++;
	if (it->kind == KS_H5_DATASET)
		s->datasets++;
	if (it->depth > s->max_depth)
		s->max_depth = it->depth;
	if (strcmp(it->path, "/g/sub/deeper/kernel:0") == 0) {
		assert_int_equal(it->rank, 1);
		assert_int_equal(it->dims[0], 4);
		assert_int_equal(it->dtype, KS_DT_F32);
	}
	snprintf(s->last, sizeof s->last, "%s", it->path);
	return 0;
}

static void test_visit(void **state)
{
	char *p = attrs_file();
	seen s = {0};
	ks_err err;
	hid_t f;

	(void)state;
	f = ks_h5_open_path(p, &err);
	assert_int_equal(ks_h5_visit(f, "/", count_cb, &s, &err), 0);
	assert_int_equal(s.groups, 3);   /* g, g/sub, g/sub/deeper */
	assert_int_equal(s.datasets, 6);
	assert_int_equal(s.max_depth, 3);
	H5Fclose(f);
	free(p);
}

static void test_image_and_userblock(void **state)
{
	char *p = attrs_file(), *s;
	char *ub = ks_xasprintf("%s/userblock.h5", ks_test_tmpdir());
	FILE *fp;
	long size;
	void *img;
	ks_err err;
	hid_t f, fcpl;
	ks_model *m;

	(void)state;
	fp = fopen(p, "rb");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	rewind(fp);
	img = malloc((size_t)size);
	assert_int_equal(fread(img, 1, (size_t)size, fp), (size_t)size);
	fclose(fp);
	f = ks_h5_open_image(img, (size_t)size, "mem", &err);
	assert_true(f >= 0);
	assert_int_equal(ks_h5_attr_str(f, ".", "vlen_ascii", &s, &err), 0);
	assert_string_equal(s, "hello");
	free(s);
	{
		/* two images under one label stay two files */
		void *img2 = malloc((size_t)size);
		hid_t f2;
		memcpy(img2, img, (size_t)size);
		f2 = ks_h5_open_image(img2, (size_t)size, "mem", &err);
		assert_true(f2 >= 0);
		H5Fclose(f);
		assert_int_equal(ks_h5_attr_str(f2, ".", "fixed_nullpad", &s, &err), 0);
		assert_string_equal(s, "abc");
		free(s);
		H5Fclose(f2);
		free(img2);
	}
	assert_true(ks_h5_open_image(img, 7, "short", &err) < 0);
	assert_non_null(strstr(err.msg, "short"));
	free(img);

	fcpl = H5Pcreate(H5P_FILE_CREATE);
	H5Pset_userblock(fcpl, 512);
	f = H5Fcreate(ub, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
	H5Pclose(fcpl);
	hb_dset_f32(f, "x", 1, (hsize_t[]){3}, NULL);
	H5Fclose(f);
	assert_int_equal(ks_h5_sniff(ub), 512);
	assert_int_equal(ks_h5_sniff(p), 0);
	m = ks_model_open(ub, NULL, &err);
	assert_non_null(m);
	assert_int_equal(m->format, KS_FMT_PLAIN_H5);
	assert_int_equal(m->n_layers, 0);
	assert_string_equal(ks_format_name(m->format), "hdf5");
	ks_model_free(m);
	free(ub);
	free(p);
}

static void test_dtype_names(void **state)
{
	(void)state;
	assert_string_equal(ks_dtype_name(KS_DT_F32), "float32");
	assert_string_equal(ks_dtype_name(KS_DT_I64), "int64");
	assert_int_equal(ks_dtype_size(KS_DT_F16), 2);
	assert_int_equal(ks_dtype_size(KS_DT_U64), 8);
	assert_int_equal(ks_dtype_size(KS_DT_STRING), 0);
	assert_string_equal(ks_format_name(KS_FMT_LEGACY_H5), "legacy-h5");
	assert_string_equal(ks_format_name(KS_FMT_KERAS3_WEIGHTS), "keras3-weights");
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_string_attrs_any_encoding),
	cmocka_unit_test(test_string_arrays),
	cmocka_unit_test(test_attr_text_and_names),
	cmocka_unit_test(test_dataset_info_and_read),
	cmocka_unit_test(test_links_natural_order),
	cmocka_unit_test(test_visit),
	cmocka_unit_test(test_image_and_userblock),
	cmocka_unit_test(test_dtype_names),
};

KS_TEST_MAIN(tests)
