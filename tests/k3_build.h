/* k3_build: helpers shared by test_keras3 and test_hostile_zip to write the
 * small Keras 3 style files the tests need (HDF5 weights stores with the
 * HDF5 C API, zips with libzip). Test-only; static functions in a header so
 * each test program stays one translation unit. */
#ifndef K3_BUILD_H
#define K3_BUILD_H

#include <hdf5.h>
#include <zip.h>

/* Creates a new HDF5 file (truncating), as h5py does by default: no
 * creation-order tracking. */
__attribute__((unused)) static hid_t k3_h5_create(const char *path)
{
	hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
	assert_true(f >= 0);
	return f;
}

__attribute__((unused)) static hid_t k3_lcpl(void)
{
	hid_t p = H5Pcreate(H5P_LINK_CREATE);
	H5Pset_create_intermediate_group(p, 1);
	return p;
}

__attribute__((unused)) static void k3_group(hid_t f, const char *path)
{
	hid_t p = k3_lcpl();
	hid_t g = H5Gcreate2(f, path, p, H5P_DEFAULT, H5P_DEFAULT);
	assert_true(g >= 0);
	H5Gclose(g);
	H5Pclose(p);
}

/* Writes a float32 dataset filled with base + 0.001 * i. */
__attribute__((unused)) static void k3_put(hid_t f, const char *path, int rank, const hsize_t *dims, float base)
{
	hsize_t n = 1;
	hid_t p = k3_lcpl(), s, d;
	float *v;

	for (int i = 0; i < rank; i++)
		n *= dims[i];
	v = malloc((n ? n : 1) * sizeof *v);
	for (hsize_t i = 0; i < n; i++)
		v[i] = base + 0.001f * (float)i;
	s = rank ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR);
	d = H5Dcreate2(f, path, H5T_IEEE_F32LE, s, p, H5P_DEFAULT, H5P_DEFAULT);
	assert_true(d >= 0);
	assert_true(H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
	H5Dclose(d);
	H5Sclose(s);
	H5Pclose(p);
	free(v);
}

__attribute__((unused)) static void k3_put_i64(hid_t f, const char *path, int64_t val)
{
	hid_t p = k3_lcpl(), s = H5Screate(H5S_SCALAR), d;

	d = H5Dcreate2(f, path, H5T_STD_I64LE, s, p, H5P_DEFAULT, H5P_DEFAULT);
	assert_true(d >= 0);
	assert_true(H5Dwrite(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, &val) >= 0);
	H5Dclose(d);
	H5Sclose(s);
	H5Pclose(p);
}

/* Scalar vlen UTF-8 string attribute, as h5py writes a Python str. */
__attribute__((unused)) static void k3_attr_str(hid_t f, const char *obj, const char *name, const char *val)
{
	hid_t t = H5Tcopy(H5T_C_S1), s = H5Screate(H5S_SCALAR), a;

	H5Tset_size(t, H5T_VARIABLE);
	H5Tset_cset(t, H5T_CSET_UTF8);
	a = H5Acreate_by_name(f, obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	assert_true(a >= 0);
	assert_true(H5Awrite(a, t, &val) >= 0);
	H5Aclose(a);
	H5Sclose(s);
	H5Tclose(t);
}

__attribute__((unused)) static void *k3_slurp(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "rb");
	long sz;
	void *b;

	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	sz = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	b = malloc((size_t)sz + 1);
	assert_int_equal(fread(b, 1, (size_t)sz, fp), (size_t)sz);
	fclose(fp);
	*n = (size_t)sz;
	return b;
}

__attribute__((unused)) static void k3_spit(const char *path, const void *b, size_t n)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(b, 1, n, fp), n);
	fclose(fp);
}

typedef struct k3_member {
	const char *name;
	const void *data;   /* NULL: read from file `path` */
	size_t size;
	const char *path;
	bool deflate;
} k3_member;

/* Writes a zip with the members in order (STORED unless deflate). */
__attribute__((unused)) static void k3_zip(const char *zpath, const k3_member *mem, int n)
{
	int code = 0;
	zip_t *za = zip_open(zpath, ZIP_CREATE | ZIP_TRUNCATE, &code);
	void *bufs[16] = {0};

	assert_non_null(za);
	assert_true(n <= 16);
	for (int i = 0; i < n; i++) {
		const void *d = mem[i].data;
		size_t sz = mem[i].size;
		zip_source_t *src;
		zip_int64_t idx;
		if (!d) {
			bufs[i] = k3_slurp(mem[i].path, &sz);
			d = bufs[i];
		}
		src = zip_source_buffer(za, d, sz, 0);
		assert_non_null(src);
		idx = zip_file_add(za, mem[i].name, src, ZIP_FL_OVERWRITE);
		assert_true(idx >= 0);
		zip_set_file_compression(za, (zip_uint64_t)idx,
		                         mem[i].deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0);
	}
	assert_int_equal(zip_close(za), 0);
	for (int i = 0; i < n; i++)
		free(bufs[i]);
}

__attribute__((unused)) static char *k3_tmp(const char *name)
{
	static char buf[8][512];
	static int k;
	char *b = buf[k++ % 8];

	snprintf(b, 512, "%s/%s", ks_test_tmpdir(), name);
	return b;
}

#endif
