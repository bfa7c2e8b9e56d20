/* Shape kernels (ks_layers_shape.c): Flatten (channels_first is made
 * channels_last first, as Keras 2.1+ does), Reshape with -1, Permute,
 * RepeatVector, ZeroPadding/Cropping/UpSampling in their Keras 1-3
 * spellings, bilinear upsampling, all with hand-computed expectations, plus
 * shape inference with unknown dims and the error messages. */
#include "config.h"

#include "ks_optest.h"

#define TOL 1e-6

static float *ramp(int n)
{
	float *x = ks_xmalloc(sizeof(float) * (size_t)n + 1);
	for (int i = 0; i < n; i++)
		x[i] = (float)i;
	return x;
}

static void run_case(const char *cls, const char *cfg, int rank, const int64_t *ishape, const float *x,
                     int orank, const int64_t *oshape, const double *want)
{
	tlayer t;
	run_result r;
	ks_err err;
	int64_t n = 1;

	tl_init(&t, cls, cfg);
	if (run_op(&t, NULL, mkshape(rank, ishape), x, &r, &err) < 0) {
		fprintf(stderr, "%s: %s\n", cls, err.msg);
		fail();
	}
	assert_shape(&r.shape, orank, oshape);
	for (int i = 0; i < orank; i++)
		n *= oshape[i];
	assert_close(r.out, want, (size_t)n, TOL);
	free(r.out);
	tl_free(&t);
}

static void expect_error(const char *cls, const char *cfg, int rank, const int64_t *ishape, const char *msg)
{
	tlayer t;
	ks_err err;
	ks_shape out;
	tl_init(&t, cls, cfg);
	assert_int_equal(infer_op(&t, mkshape(rank, ishape), &out, &err), -1);
	if (!strstr(err.msg, msg)) {
		fprintf(stderr, "got '%s', expected it to contain '%s'\n", err.msg, msg);
		fail();
	}
	tl_free(&t);
}

static void test_flatten(void **state)
{
	(void)state;
	float *x = ramp(12);
	/* (1, 2, 3, 2) channels_last: flattened as stored */
	double id[12];
	for (int i = 0; i < 12; i++)
		id[i] = i;
	run_case("Flatten", "{\"data_format\": \"channels_last\"}", 4, (const int64_t[]){1, 2, 3, 2}, x, 2,
	         (const int64_t[]){1, 12}, id);
	/* Keras 1 (no data_format): as stored, even for channels_first models */
	run_case("Flatten", "{}", 4, (const int64_t[]){1, 2, 3, 2}, x, 2, (const int64_t[]){1, 12}, id);
	/* channels_first (1, C=2, H=3, W=2): x[c][h][w] = c*6 + h*2 + w, read as
	 * (h, w, c): 0,6, 1,7, 2,8, 3,9, 4,10, 5,11 */
	run_case("Flatten", "{\"data_format\": \"channels_first\"}", 4, (const int64_t[]){1, 2, 3, 2}, x, 2,
	         (const int64_t[]){1, 12}, (const double[]){0, 6, 1, 7, 2, 8, 3, 9, 4, 10, 5, 11});
	/* channels_first on a 3-D input: (1, C=3, L=4) -> (L, C) */
	run_case("Flatten", "{\"data_format\": \"channels_first\"}", 3, (const int64_t[]){1, 3, 4}, x, 2,
	         (const int64_t[]){1, 12}, (const double[]){0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11});
	free(x);

	tlayer t;
	ks_err err;
	ks_shape out;
	tl_init(&t, "Flatten", "{}");
	assert_int_equal(infer_op(&t, mkshape(4, (const int64_t[]){-1, 7, -1, 3}), &out, &err), 0);
	assert_shape(&out, 2, (const int64_t[]){-1, -1});
	assert_int_equal(infer_op(&t, mkshape(4, (const int64_t[]){-1, 7, 5, 3}), &out, &err), 0);
	assert_shape(&out, 2, (const int64_t[]){-1, 105});
	tl_free(&t);
}

static void test_reshape_permute_repeat(void **state)
{
	(void)state;
	float *x = ramp(24);
	double id[24];
	for (int i = 0; i < 24; i++)
		id[i] = i;
	run_case("Reshape", "{\"target_shape\": [3, -1]}", 3, (const int64_t[]){2, 2, 3}, x, 3,
	         (const int64_t[]){2, 3, 2}, id);
	run_case("Reshape", "{\"target_shape\": [2, 3, 2]}", 2, (const int64_t[]){2, 12}, x, 4,
	         (const int64_t[]){2, 2, 3, 2}, id);
	expect_error("Reshape", "{\"target_shape\": [5, -1]}", 2, (const int64_t[]){1, 12}, "cannot reshape");
	expect_error("Reshape", "{\"target_shape\": [5, 2]}", 2, (const int64_t[]){1, 12}, "cannot reshape");
	expect_error("Reshape", "{\"target_shape\": [-1, -1]}", 2, (const int64_t[]){1, 12}, "more than one -1");
	expect_error("Reshape", "{}", 2, (const int64_t[]){1, 12}, "target_shape");

	/* Permute (2, 1) of (1, 2, 3): transpose */
	run_case("Permute", "{\"dims\": [2, 1]}", 3, (const int64_t[]){1, 2, 3}, x, 3,
	         (const int64_t[]){1, 3, 2}, (const double[]){0, 3, 1, 4, 2, 5});
	/* Permute (3, 1, 2) of (1, 2, 3, 4): out[k][i][j] = x[i][j][k] */
	double want[24];
	for (int k = 0; k < 4; k++)
		for (int i = 0; i < 2; i++)
			for (int j = 0; j < 3; j++)
				want[(k * 2 + i) * 3 + j] = (i * 3 + j) * 4 + k;
	run_case("Permute", "{\"dims\": [3, 1, 2]}", 4, (const int64_t[]){1, 2, 3, 4}, x, 4,
	         (const int64_t[]){1, 4, 2, 3}, want);
	expect_error("Permute", "{\"dims\": [1, 1]}", 3, (const int64_t[]){1, 2, 3}, "not a permutation");
	expect_error("Permute", "{\"dims\": [1]}", 3, (const int64_t[]){1, 2, 3}, "dims should list");

	run_case("RepeatVector", "{\"n\": 3}", 2, (const int64_t[]){2, 2}, x, 3, (const int64_t[]){2, 3, 2},
	         (const double[]){0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3});
	expect_error("RepeatVector", "{\"n\": 3}", 3, (const int64_t[]){2, 2, 2}, "2-D input");
	free(x);
}

static void test_pad_crop_upsample(void **state)
{
	(void)state;
	float *x = ramp(24);
	/* ZeroPadding2D ((1, 0), (0, 2)) on (1, 2, 2, 1) = [[0, 1], [2, 3]] */
	run_case("ZeroPadding2D", "{\"padding\": [[1, 0], [0, 2]]}", 4, (const int64_t[]){1, 2, 2, 1}, x, 4,
	         (const int64_t[]){1, 3, 4, 1}, (const double[]){0, 0, 0, 0, 0, 1, 0, 0, 2, 3, 0, 0});
	/* int padding, channels_first, 2 channels */
	double zp[2 * 16] = {0};
	for (int c = 0; c < 2; c++)
		for (int i = 0; i < 2; i++)
			for (int j = 0; j < 2; j++)
				zp[c * 16 + (i + 1) * 4 + (j + 1)] = c * 4 + i * 2 + j;
	run_case("ZeroPadding2D", "{\"padding\": 1, \"data_format\": \"channels_first\"}", 4,
	         (const int64_t[]){1, 2, 2, 2}, x, 4, (const int64_t[]){1, 2, 4, 4}, zp);
	/* Keras 1 ZeroPadding2D as (top, bottom, left, right) and as a dict */
	run_case("ZeroPadding2D", "{\"padding\": [1, 0, 0, 2], \"dim_ordering\": \"tf\"}", 4,
	         (const int64_t[]){1, 2, 2, 1}, x, 4, (const int64_t[]){1, 3, 4, 1},
	         (const double[]){0, 0, 0, 0, 0, 1, 0, 0, 2, 3, 0, 0});
	run_case("ZeroPadding1D", "{\"padding\": {\"left_pad\": 2, \"right_pad\": 1}}", 3,
	         (const int64_t[]){1, 2, 2}, x, 3, (const int64_t[]){1, 5, 2},
	         (const double[]){0, 0, 0, 0, 0, 1, 2, 3, 0, 0});
	run_case("ZeroPadding1D", "{\"padding\": [0, 1]}", 3, (const int64_t[]){1, 2, 1}, x, 3,
	         (const int64_t[]){1, 3, 1}, (const double[]){0, 1, 0});
	/* Cropping2D ((1, 0), (1, 1)) on a 3x4 ramp */
	run_case("Cropping2D", "{\"cropping\": [[1, 0], [1, 1]]}", 4, (const int64_t[]){1, 3, 4, 1}, x, 4,
	         (const int64_t[]){1, 2, 2, 1}, (const double[]){5, 6, 9, 10});
	run_case("Cropping1D", "{\"cropping\": [1, 2]}", 3, (const int64_t[]){1, 6, 1}, x, 3,
	         (const int64_t[]){1, 3, 1}, (const double[]){1, 2, 3});
	/* Cropping3D 1 everywhere on (1, 3, 3, 3, 1): the centre, 13 */
	run_case("Cropping3D", "{\"cropping\": 1}", 5, (const int64_t[]){1, 3, 3, 3, 1}, x, 5,
	         (const int64_t[]){1, 1, 1, 1, 1}, (const double[]){13});
	expect_error("Cropping2D", "{\"cropping\": [[2, 1], [0, 0]]}", 4, (const int64_t[]){1, 3, 4, 1},
	             "leaves nothing");
	/* UpSampling */
	run_case("UpSampling1D", "{\"size\": 3}", 3, (const int64_t[]){1, 2, 1}, x, 3,
	         (const int64_t[]){1, 6, 1}, (const double[]){0, 0, 0, 1, 1, 1});
	run_case("UpSampling1D", "{\"length\": 2}", 3, (const int64_t[]){1, 2, 1}, x, 3,
	         (const int64_t[]){1, 4, 1}, (const double[]){0, 0, 1, 1});
	run_case("UpSampling2D", "{\"size\": [2, 1]}", 4, (const int64_t[]){1, 2, 2, 1}, x, 4,
	         (const int64_t[]){1, 4, 2, 1}, (const double[]){0, 1, 0, 1, 2, 3, 2, 3});
	run_case("UpSampling2D", "{\"size\": [1, 2], \"data_format\": \"channels_first\"}", 4,
	         (const int64_t[]){1, 2, 1, 2}, x, 4, (const int64_t[]){1, 2, 1, 4},
	         (const double[]){0, 0, 1, 1, 2, 2, 3, 3});
	run_case("UpSampling3D", "{\"size\": 2}", 5, (const int64_t[]){1, 1, 1, 1, 2}, x, 5,
	         (const int64_t[]){1, 2, 2, 2, 2}, (const double[]){0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1});
	/* bilinear, TF2 half-pixel centres: a row (0, 1) doubled samples at
	 * -0.25 -> 0 (clamped), 0.25, 0.75, 1.25 -> 1 (clamped) */
	run_case("UpSampling2D", "{\"size\": [1, 2], \"interpolation\": \"bilinear\"}", 4,
	         (const int64_t[]){1, 1, 2, 1}, x, 4, (const int64_t[]){1, 1, 4, 1},
	         (const double[]){0, 0.25, 0.75, 1});
	expect_error("UpSampling2D", "{\"size\": [1048576, 1048576]}", 4, (const int64_t[]){1, 4096, 4096, 8},
	             "too large");
	expect_error("ZeroPadding2D", "{\"padding\": -1}", 4, (const int64_t[]){1, 4, 4, 1}, "non-negative");
	expect_error("UpSampling2D", "{\"size\": 2, \"interpolation\": \"lanczos5\"}", 4,
	             (const int64_t[]){1, 2, 2, 1}, "not supported");
	free(x);

	/* unknown spatial dims stay unknown */
	tlayer t;
	ks_err err;
	ks_shape out;
	tl_init(&t, "ZeroPadding2D", "{\"padding\": 2}");
	assert_int_equal(infer_op(&t, mkshape(4, (const int64_t[]){-1, -1, 5, 3}), &out, &err), 0);
	assert_shape(&out, 4, (const int64_t[]){-1, -1, 9, 3});
	tl_free(&t);
}


static void test_resizing_centercrop(void **state)
{
	(void)state;
	float *x = ramp(25);
	/* CenterCrop 4x5 -> 2x3 starts at int(2/2), int(2/2) */
	run_case("CenterCrop", "{\"height\": 2, \"width\": 3}", 4, (const int64_t[]){1, 4, 5, 1}, x, 4,
	         (const int64_t[]){1, 2, 3, 1}, (const double[]){6, 7, 8, 11, 12, 13});
	/* odd difference: 5x5 -> 2x2 starts at int(1.5) = 1 */
	run_case("CenterCrop", "{\"height\": 2, \"width\": 2, \"data_format\": \"channels_first\"}", 4,
	         (const int64_t[]){1, 1, 5, 5}, x, 4, (const int64_t[]){1, 1, 2, 2}, (const double[]){6, 7, 11, 12});
	/* nearest, half-pixel centres: floor((r + .5) / 2) */
	run_case("Resizing", "{\"height\": 1, \"width\": 4, \"interpolation\": \"nearest\"}", 4,
	         (const int64_t[]){1, 1, 2, 1}, x, 4, (const int64_t[]){1, 1, 4, 1}, (const double[]){0, 0, 1, 1});
	/* bilinear up and down */
	run_case("Resizing", "{\"height\": 1, \"width\": 4}", 4, (const int64_t[]){1, 1, 2, 1}, x, 4,
	         (const int64_t[]){1, 1, 4, 1}, (const double[]){0, 0.25, 0.75, 1});
	run_case("Resizing", "{\"height\": 1, \"width\": 2, \"interpolation\": \"bilinear\"}", 4,
	         (const int64_t[]){1, 1, 4, 1}, x, 4, (const int64_t[]){1, 1, 2, 1}, (const double[]){0.5, 2.5});
	/* crop_to_aspect_ratio: 2x4 -> 2x2 resamples the centred 2x2 window (cols 1, 2) */
	run_case("Resizing", "{\"height\": 2, \"width\": 2, \"crop_to_aspect_ratio\": true}", 4,
	         (const int64_t[]){1, 2, 4, 1}, x, 4, (const int64_t[]){1, 2, 2, 1}, (const double[]){1, 2, 5, 6});
	expect_error("Resizing", "{\"height\": 2, \"width\": 2, \"interpolation\": \"bicubic\"}", 4,
	             (const int64_t[]){1, 4, 4, 1}, "not supported");
	expect_error("Resizing", "{\"height\": 0, \"width\": 2}", 4, (const int64_t[]){1, 4, 4, 1}, "positive");
	free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flatten),
		cmocka_unit_test(test_reshape_permute_repeat),
		cmocka_unit_test(test_pad_crop_upsample),
		cmocka_unit_test(test_resizing_centercrop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
