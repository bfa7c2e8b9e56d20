/* test_npy: .npy reading (versions, dtypes, byte orders, hostile headers)
 * and float32 writing, on byte images built here by hand. */
#include "config.h"

#include "ks_test.h"

#include <math.h>

#include "ks_npy.h"

/* Builds a .npy image: magic, version, header text padded to 64, data. */
static size_t make_npy(unsigned char *buf, int major, const char *dict, const void *data, size_t nbytes)
{
	size_t pre = major == 1 ? 10 : 12;
	size_t dl = strlen(dict);
	size_t hl = dl + 1;
	hl += (64 - (pre + hl) % 64) % 64;
	memcpy(buf, "\x93NUMPY", 6);
	buf[6] = (unsigned char)major;
	buf[7] = 0;
	if (major == 1) {
		buf[8] = (unsigned char)(hl & 0xff);
		buf[9] = (unsigned char)(hl >> 8);
	} else {
		buf[8] = (unsigned char)(hl & 0xff);
		buf[9] = (unsigned char)(hl >> 8);
		buf[10] = buf[11] = 0;
	}
	memcpy(buf + pre, dict, dl);
	memset(buf + pre + dl, ' ', hl - dl - 1);
	buf[pre + hl - 1] = '\n';
	memcpy(buf + pre + hl, data, nbytes);
	return pre + hl + nbytes;
}

static void test_dtypes(void **state)
{
	unsigned char buf[1024];
	ks_array a;
	ks_err err;
	size_t n;

	double f8[3] = {1.5, -2.25, 1e10};
	n = make_npy(buf, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", f8, sizeof f8);
	assert_int_equal(ks_npy_parse(buf, n, "t.npy", &a, &err), 0);
	assert_int_equal(a.rank, 1);
	assert_int_equal(a.shape[0], 3);
	assert_float_equal(a.data[1], -2.25f, 0);
	assert_float_equal(a.data[2], 1e10f, 1e3f);
	ks_array_free(&a);

	/* big-endian int32, version 2 header */
	unsigned char be[8] = {0, 0, 1, 2, 0xff, 0xff, 0xff, 0xfe}; /* 258, -2 */
	n = make_npy(buf, 2, "{'descr': '>i4', 'fortran_order': False, 'shape': (1, 2), }", be, sizeof be);
	assert_int_equal(ks_npy_parse(buf, n, "t.npy", &a, &err), 0);
	assert_int_equal(a.rank, 2);
	assert_float_equal(a.data[0], 258, 0);
	assert_float_equal(a.data[1], -2, 0);
	assert_int_equal(a.src_dtype, KS_DT_I32);
	ks_array_free(&a);

	/* float16: 1.0 = 0x3c00, -2.0 = 0xc000, 65504 = 0x7bff, 2^-24 = 0x0001 (subnormal) */
	uint16_t h[4] = {0x3c00, 0xc000, 0x7bff, 0x0001};
	n = make_npy(buf, 3, "{'descr': '<f2', 'fortran_order': False, 'shape': (2, 2), }", h, sizeof h);
	assert_int_equal(ks_npy_parse(buf, n, "t.npy", &a, &err), 0);
	assert_float_equal(a.data[0], 1.0f, 0);
	assert_float_equal(a.data[1], -2.0f, 0);
	assert_float_equal(a.data[2], 65504.0f, 0);
	assert_float_equal(a.data[3], ldexpf(1.0f, -24), 0);
	ks_array_free(&a);

	unsigned char b1[3] = {1, 0, 7};
	n = make_npy(buf, 1, "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", b1, 3);
	assert_int_equal(ks_npy_parse(buf, n, "t.npy", &a, &err), 0);
	assert_float_equal(a.data[0], 1, 0);
	assert_float_equal(a.data[1], 0, 0);
	assert_float_equal(a.data[2], 1, 0);
	ks_array_free(&a);

	unsigned char u1[2] = {255, 3};
	n = make_npy(buf, 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }", u1, 2);
	assert_int_equal(ks_npy_parse(buf, n, "t.npy", &a, &err), 0);
	assert_float_equal(a.data[0], 255, 0);
	ks_array_free(&a);

	int64_t i8[2] = {-7, 1 << 20};
	n = make_npy(buf, 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", i8, sizeof i8);
	assert_int_equal(ks_npy_parse(buf, n, "t.npy", &a, &err), 0);
	assert_float_equal(a.data[0], -7, 0);
	assert_float_equal(a.data[1], 1048576, 0);
	ks_array_free(&a);

	/* scalar, key order changed, Python 2 long */
	float one = 4.0f;
	n = make_npy(buf, 1, "{'fortran_order': False, 'shape': (), 'descr': '<f4'}", &one, 4);
	assert_int_equal(ks_npy_parse(buf, n, "t.npy", &a, &err), 0);
	assert_int_equal(a.rank, 0);
	assert_float_equal(a.data[0], 4.0f, 0);
	ks_array_free(&a);
	float two[2] = {1, 2};
	n = make_npy(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2L,), }", two, 8);
	assert_int_equal(ks_npy_parse(buf, n, "t.npy", &a, &err), 0);
	assert_int_equal(a.shape[0], 2);
	ks_array_free(&a);
}

static void test_hostile(void **state)
{
	unsigned char buf[1024];
	ks_array a;
	ks_err err;
	size_t n;
	float d[4] = {1, 2, 3, 4};

	n = make_npy(buf, 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", d, sizeof d);
	assert_int_equal(ks_npy_parse(buf, n, "f.npy", &a, &err), -1);
	assert_non_null(strstr(err.msg, "Fortran"));
	assert_non_null(strstr(err.msg, "f.npy"));

	/* data shorter than the header promises */
	n = make_npy(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", d, sizeof d);
	assert_int_equal(ks_npy_parse(buf, n, "t.npy", &a, &err), -1);
	assert_non_null(strstr(err.msg, "truncated"));
	assert_null(a.data);

	/* dimensions whose product overflows */
	n = make_npy(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }", d, 16);
	assert_int_equal(ks_npy_parse(buf, n, "t.npy", &a, &err), -1);
	n = make_npy(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }", d, 16);
	assert_int_equal(ks_npy_parse(buf, n, "t.npy", &a, &err), -1);
	/* too many dimensions */
	n = make_npy(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }", d, 4);
	assert_int_equal(ks_npy_parse(buf, n, "t.npy", &a, &err), -1);
	/* unsupported dtypes */
	n = make_npy(buf, 1, "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", d, 8);
	assert_int_equal(ks_npy_parse(buf, n, "t.npy", &a, &err), -1);
	assert_non_null(strstr(err.msg, "<c8"));
	n = make_npy(buf, 1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", d, 4);
	assert_int_equal(ks_npy_parse(buf, n, "t.npy", &a, &err), -1);
	/* malformed shapes and headers */
	n = make_npy(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", d, 8);
	assert_int_equal(ks_npy_parse(buf, n, "t.npy", &a, &err), -1);
	n = make_npy(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, ", d, 8);
	assert_int_equal(ks_npy_parse(buf, n, "t.npy", &a, &err), -1);
	n = make_npy(buf, 1, "{'descr': '<f4', 'shape': (1,), }", d, 4);
	assert_int_equal(ks_npy_parse(buf, n, "t.npy", &a, &err), -1);
	/* header length beyond the file */
	n = make_npy(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", d, 4);
	buf[9] = 0x7f;
	assert_int_equal(ks_npy_parse(buf, n, "t.npy", &a, &err), -1);
	/* not npy at all, and a future version */
	assert_int_equal(ks_npy_parse("hello world", 11, "t.npy", &a, &err), -1);
	n = make_npy(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", d, 4);
	buf[6] = 9;
	assert_int_equal(ks_npy_parse(buf, n, "t.npy", &a, &err), -1);
	assert_int_equal(ks_npy_parse(buf, 7, "t.npy", &a, &err), -1);

	/* fuzz_input finding: a key at the very end of the header, its value
	 * (and the quote read after it) beyond the buffer. Exact-size heap
	 * copies, so that ASan sees any read past the end. */
	static const char *const ends[] = {"{'descr':", "{'descr': '", "{'descr': '<f4', 'fortran_order':"};
	for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++) {
		size_t hl = strlen(ends[i]);
		unsigned char *exact = malloc(10 + hl);
		memcpy(exact, "\x93NUMPY\x01\x00", 8);
		exact[8] = (unsigned char)hl;
		exact[9] = 0;
		memcpy(exact + 10, ends[i], hl);
		assert_int_equal(ks_npy_parse(exact, 10 + hl, "end.npy", &a, &err), -1);
		assert_non_null(strstr(err.msg, "end.npy"));
		free(exact);
	}
}

static void test_roundtrip(void **state)
{
	char path[512];
	ks_array a;
	ks_err err;
	float d[6] = {1, -2, 3.5f, NAN, INFINITY, 0};
	int64_t shape[2] = {2, 3};

	snprintf(path, sizeof path, "%s/rt.npy", ks_test_tmpdir());
	assert_int_equal(ks_npy_write(path, d, shape, 2, &err), 0);
	assert_int_equal(ks_npy_read(path, &a, &err), 0);
	assert_int_equal(a.rank, 2);
	assert_int_equal(a.shape[1], 3);
	assert_float_equal(a.data[2], 3.5f, 0);
	assert_true(isnan(a.data[3]));
	assert_true(isinf(a.data[4]));
	ks_array_free(&a);
	/* header is padded so that the data starts at a multiple of 64 */
	FILE *f = fopen(path, "rb");
	fseek(f, 0, SEEK_END);
	assert_int_equal(ftell(f) - 24, 64 * ((ftell(f) - 24) / 64));
	fclose(f);
	/* rank 1 writes "(3,)" */
	int64_t s1[1] = {3};
	assert_int_equal(ks_npy_write(path, d, s1, 1, &err), 0);
	assert_int_equal(ks_npy_read(path, &a, &err), 0);
	assert_int_equal(a.rank, 1);
	ks_array_free(&a);
	assert_int_equal(ks_npy_read("/nonexistent/x.npy", &a, &err), -1);
	assert_non_null(strstr(err.msg, "/nonexistent/x.npy"));
	assert_int_equal(ks_npy_write("/nonexistent/x.npy", d, s1, 1, &err), -1);
}

static void test_fixture_files(void **state)
{
	const char *fx = ks_test_fixtures();
	char path[1024];
	ks_array a;
	ks_err err;
	assert_non_null(fx);
	/* a float32 input written by NumPy (case.json: shape [3, 6]) */
	snprintf(path, sizeof path, "%s/conformance/dense_relu/input_0.npy", fx);
	assert_int_equal(ks_npy_read(path, &a, &err), 0);
	assert_int_equal(a.rank, 2);
	assert_int_equal(a.shape[0], 3);
	assert_int_equal(a.shape[1], 6);
	for (int i = 0; i < 18; i++)
		assert_true(a.data[i] >= -1.0f && a.data[i] <= 1.0f);
	ks_array_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dtypes),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_fixture_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
