/* Pooling kernels (ks_layers_pool.c): hand-computed windows (TF "same"
 * padding after, average over real elements only, max ignoring the padding),
 * random configurations against a naive reference written here, global
 * pooling with keepdims, Keras 1 spellings and error messages. */
#include "config.h"

#include "ks_optest.h"

#define TOL 1e-6

static void run_hand(const char *cls, const char *cfg, int rank, const int64_t *ishape, const float *x,
                     int orank, const int64_t *oshape, const double *want)
{
	tlayer t;
	run_result r;
	ks_err err;
	int64_t n = 1;

	tl_init(&t, cls, cfg);
	if (run_op(&t, NULL, mkshape(rank, ishape), x, &r, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		fail();
	}
	assert_shape(&r.shape, orank, oshape);
	for (int i = 0; i < orank; i++)
		n *= oshape[i];
	assert_close(r.out, want, (size_t)n, TOL);
	free(r.out);
	tl_free(&t);
}

static void test_hand(void **state)
{
	(void)state;
	float x16[16], x9[9], xn9[9];
	for (int i = 0; i < 16; i++)
		x16[i] = (float)i;
	for (int i = 0; i < 9; i++) {
		x9[i] = (float)(i + 1);
		xn9[i] = -(float)(i + 1);
	}
	/* 4x4 ramp, 2x2 windows: maxima at the bottom-right of each */
	run_hand("MaxPooling2D", "{\"pool_size\": [2, 2]}", 4, (const int64_t[]){1, 4, 4, 1}, x16, 4,
	         (const int64_t[]){1, 2, 2, 1}, (const double[]){5, 7, 13, 15});
	/* 3x3 = 1..9, pool 2 stride 2 same: pad 0 before, 1 after; averages over
	 * real elements: (1+2+4+5)/4, (3+6)/2, (7+8)/2, 9 */
	run_hand("AveragePooling2D", "{\"pool_size\": [2, 2], \"strides\": [2, 2], \"padding\": \"same\"}", 4,
	         (const int64_t[]){1, 3, 3, 1}, x9, 4, (const int64_t[]){1, 2, 2, 1},
	         (const double[]){3, 4.5, 7.5, 9});
	/* all negative: max pooling must not see the zero padding */
	run_hand("MaxPooling2D", "{\"pool_size\": 2, \"padding\": \"same\"}", 4, (const int64_t[]){1, 3, 3, 1},
	         xn9, 4, (const int64_t[]){1, 2, 2, 1}, (const double[]){-1, -3, -7, -9});
	/* Keras 1 MaxPooling1D: pool_length 3, stride 2 on 1..9 (steps, 1 channel) */
	run_hand("MaxPooling1D", "{\"pool_length\": 3, \"stride\": 2, \"border_mode\": \"valid\"}", 3,
	         (const int64_t[]){1, 9, 1}, x9, 3, (const int64_t[]){1, 4, 1}, (const double[]){3, 5, 7, 9});
	/* channels_first global average of 2 channels of 1..9 / -1..-9 */
	float both[18];
	memcpy(both, x9, sizeof x9);
	memcpy(both + 9, xn9, sizeof xn9);
	run_hand("GlobalAveragePooling2D", "{\"data_format\": \"channels_first\"}", 4,
	         (const int64_t[]){1, 2, 3, 3}, both, 2, (const int64_t[]){1, 2}, (const double[]){5, -5});
	run_hand("GlobalMaxPooling2D", "{\"data_format\": \"channels_first\", \"keepdims\": true}", 4,
	         (const int64_t[]){1, 2, 3, 3}, both, 4, (const int64_t[]){1, 2, 1, 1}, (const double[]){9, -1});
	/* channels_last 1-D global max over steps: (steps 3, channels 3) of 1..9 */
	run_hand("GlobalMaxPooling1D", "{}", 3, (const int64_t[]){1, 3, 3}, x9, 2, (const int64_t[]){1, 3},
	         (const double[]){7, 8, 9});
	run_hand("GlobalAveragePooling1D", "{\"keepdims\": true}", 3, (const int64_t[]){1, 3, 3}, x9, 3,
	         (const int64_t[]){1, 1, 3}, (const double[]){4, 5, 6});
}

/* ---- random vs naive ------------------------------------------------------ */

typedef struct pcase {
	int n;
	int64_t in[3], k[3], s[3];
	bool same, max, cf;
	int64_t ch;
} pcase;

static void check_pool(const pcase *pc)
{
	static const char *const maxc[] = {"", "MaxPooling1D", "MaxPooling2D", "MaxPooling3D"};
	static const char *const avgc[] = {"", "AveragePooling1D", "AveragePooling2D", "AveragePooling3D"};
	int64_t in[3] = {1, 1, 1}, k[3] = {1, 1, 1}, s[3] = {1, 1, 1}, out[3] = {1, 1, 1}, pb[3] = {0, 0, 0};
	int64_t B = 2, C = pc->ch, Pin = 1, Pout = 1, ishape[5], oshape[5];
	char cfg[512], a[64], b[64];
	size_t o;

	for (int i = 0; i < pc->n; i++) {
		in[i] = pc->in[i];
		k[i] = pc->k[i];
		s[i] = pc->s[i];
		if (pc->same) {
			out[i] = (in[i] + s[i] - 1) / s[i];
			int64_t tot = (out[i] - 1) * s[i] + k[i] - in[i];
			pb[i] = tot > 0 ? tot / 2 : 0;
		} else {
			out[i] = (in[i] - k[i]) / s[i] + 1;
		}
		Pin *= in[i];
		Pout *= out[i];
	}
	float *x = rand_buf((size_t)(B * Pin * C));
	double *want = calloc((size_t)(B * Pout * C), sizeof(double));
	/* reference on channels_last indexing; x is read through the layout */
	for (int64_t bb = 0; bb < B; bb++)
		for (int64_t o0 = 0; o0 < out[0]; o0++)
			for (int64_t o1 = 0; o1 < out[1]; o1++)
				for (int64_t o2 = 0; o2 < out[2]; o2++)
					for (int64_t c = 0; c < C; c++) {
						double acc = pc->max ? -INFINITY : 0;
						int cnt = 0;
						for (int64_t t0 = 0; t0 < k[0]; t0++)
							for (int64_t t1 = 0; t1 < k[1]; t1++)
								for (int64_t t2 = 0; t2 < k[2]; t2++) {
									int64_t i0 = o0 * s[0] + t0 - pb[0], i1 = o1 * s[1] + t1 - pb[1];
									int64_t i2 = o2 * s[2] + t2 - pb[2];
									if (i0 < 0 || i1 < 0 || i2 < 0 || i0 >= in[0] || i1 >= in[1] ||
									    i2 >= in[2])
										continue;
									int64_t pix = (i0 * in[1] + i1) * in[2] + i2;
									double v = pc->cf ? x[(bb * C + c) * Pin + pix] : x[(bb * Pin + pix) * C + c];
									if (pc->max)
										acc = v > acc ? v : acc;
									else
										acc += v;
									cnt++;
								}
						if (!pc->max)
							acc /= cnt;
						int64_t opix = (o0 * out[1] + o1) * out[2] + o2;
						want[pc->cf ? (bb * C + c) * Pout + opix : (bb * Pout + opix) * C + c] = acc;
					}
	ishape[0] = oshape[0] = B;
	for (int i = 0; i < pc->n; i++) {
		ishape[pc->cf ? 2 + i : 1 + i] = in[i];
		oshape[pc->cf ? 2 + i : 1 + i] = out[i];
	}
	ishape[pc->cf ? 1 : pc->n + 1] = oshape[pc->cf ? 1 : pc->n + 1] = C;
	o = (size_t)snprintf(a, sizeof a, "[");
	for (int i = 0; i < pc->n; i++)
		o += (size_t)snprintf(a + o, sizeof a - o, "%s%lld", i ? "," : "", (long long)k[i]);
	snprintf(a + o, sizeof a - o, "]");
	o = (size_t)snprintf(b, sizeof b, "[");
	for (int i = 0; i < pc->n; i++)
		o += (size_t)snprintf(b + o, sizeof b - o, "%s%lld", i ? "," : "", (long long)s[i]);
	snprintf(b + o, sizeof b - o, "]");
	snprintf(cfg, sizeof cfg, "{\"pool_size\": %s, \"strides\": %s, \"padding\": \"%s\", \"data_format\": \"%s\"}",
	         a, b, pc->same ? "same" : "valid", pc->cf ? "channels_first" : "channels_last");
	run_hand(pc->max ? maxc[pc->n] : avgc[pc->n], cfg, pc->n + 2, ishape, x, pc->n + 2, oshape, want);
	free(x);
	free(want);
}

static void test_random(void **state)
{
	(void)state;
	static const pcase cases[] = {
		{1, {11}, {3}, {2}, true, true, false, 3},
		{1, {11}, {3}, {2}, true, false, true, 3},
		{1, {10}, {2}, {3}, false, false, false, 2},
		{2, {9, 8}, {2, 2}, {2, 2}, false, true, false, 2},
		{2, {9, 8}, {3, 3}, {2, 2}, true, false, false, 4},
		{2, {7, 9}, {3, 2}, {1, 3}, true, true, true, 3},
		{2, {7, 9}, {3, 2}, {2, 1}, false, false, true, 3},
		{3, {5, 6, 7}, {2, 3, 2}, {2, 2, 1}, true, false, false, 2},
		{3, {5, 6, 7}, {2, 2, 2}, {2, 2, 2}, false, true, true, 2},
		/* 8-lane channel loops and their tails */
		{2, {7, 6}, {3, 2}, {2, 2}, true, true, false, 19},
		{2, {7, 6}, {3, 2}, {2, 1}, true, false, false, 19},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_pool(&cases[i]);
}

static void test_errors(void **state)
{
	(void)state;
	tlayer t;
	ks_err err;
	ks_shape out;

	tl_init(&t, "MaxPooling2D", "{\"pool_size\": [3, 3]}");
	assert_int_equal(infer_op(&t, mkshape(4, (const int64_t[]){-1, 2, 5, 4}), &out, &err), -1);
	assert_string_equal(err.msg, "layer layer (MaxPooling2D): input 2x5 is smaller than the 3x3 pool window");
	assert_int_equal(infer_op(&t, mkshape(3, (const int64_t[]){-1, 5, 4}), &out, &err), -1);
	assert_non_null(strstr(err.msg, "expects a 4-D input"));
	/* unknown batch and spatial sizes propagate */
	assert_int_equal(infer_op(&t, mkshape(4, (const int64_t[]){-1, -1, 7, 4}), &out, &err), 0);
	assert_shape(&out, 4, (const int64_t[]){-1, -1, 2, 4});
	tl_free(&t);

	tl_init(&t, "AveragePooling2D", "{\"pool_size\": [2, 2], \"padding\": \"full\"}");
	assert_int_equal(infer_op(&t, mkshape(4, (const int64_t[]){1, 4, 4, 1}), &out, &err), -1);
	assert_non_null(strstr(err.msg, "padding 'full' is not supported"));
	tl_free(&t);

	tl_init(&t, "MaxPooling2D", "{\"pool_size\": [0, 2]}");
	assert_int_equal(infer_op(&t, mkshape(4, (const int64_t[]){1, 4, 4, 1}), &out, &err), -1);
	tl_free(&t);

	/* absurd sizes are refused at infer, not allocated or looped over */
	tl_init(&t, "MaxPooling2D", "{\"pool_size\": 2}");
	assert_int_equal(infer_op(&t, mkshape(4, (const int64_t[]){1, 1 << 30, 1 << 30, 1 << 20}), &out, &err), -1);
	assert_non_null(strstr(err.msg, "too large"));
	tl_free(&t);

	tl_init(&t, "GlobalAveragePooling2D", "{\"data_format\": \"channels_middle\"}");
	assert_int_equal(infer_op(&t, mkshape(4, (const int64_t[]){1, 4, 4, 1}), &out, &err), -1);
	assert_non_null(strstr(err.msg, "unknown data_format"));
	tl_free(&t);
}


/* Embedding(mask_zero) -> Dropout -> GlobalAveragePooling1D: Keras averages
 * the unmasked steps only (the steps whose id is 0 read the embedding's row
 * 0). Built as an in-memory 3-layer model so the op can see its producers. */
static void test_gap1d_mask(void **state)
{
	(void)state;
	/* embedding rows: id 0 = (9, 9), id 1 = (1, 2), id 2 = (3, 5) */
	const float E[6] = {9, 9, 1, 2, 3, 5};
	/* batch 2, 4 steps, F = 2: ids (1, 2, 0, 0) and (0, 0, 0, 0) */
	const float x[16] = {1, 2, 3, 5, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9};
	ks_layer L[3];
	ks_node nodes[3];
	ks_ref refs[3];
	ks_weight w;
	ks_model m;
	json_error_t je;
	json_t *cfg_e = json_loads("{\"input_dim\": 3, \"output_dim\": 2, \"mask_zero\": true}", 0, &je);
	json_t *cfg_d = json_loads("{\"rate\": 0.5}", 0, &je);
	json_t *cfg_g = json_loads("{\"data_format\": \"channels_last\"}", 0, &je);

	memset(L, 0, sizeof L);
	memset(nodes, 0, sizeof nodes);
	memset(&w, 0, sizeof w);
	memset(&m, 0, sizeof m);
	m.file = H5I_INVALID_HID;
	m.layers = L;
	m.n_layers = 3;
	w.name = (char *)"embeddings";
	w.rank = 2;
	w.shape[0] = 3;
	w.shape[1] = 2;
	w.dtype = KS_DT_F32;
	w.mem = (float *)E;
	L[0] = (ks_layer){.name = (char *)"emb", .class_name = (char *)"Embedding", .config = cfg_e,
	                  .weights = &w, .n_weights = 1, .nodes = &nodes[0], .n_nodes = 1};
	refs[1] = (ks_ref){0, 0, 0};
	nodes[1] = (ks_node){.in = &refs[1], .n_in = 1};
	L[1] = (ks_layer){.name = (char *)"drop", .class_name = (char *)"Dropout", .config = cfg_d,
	                  .nodes = &nodes[1], .n_nodes = 1};
	refs[2] = (ks_ref){1, 0, 0};
	nodes[2] = (ks_node){.in = &refs[2], .n_in = 1};
	L[2] = (ks_layer){.name = (char *)"gap", .class_name = (char *)"GlobalAveragePooling1D", .config = cfg_g,
	                  .nodes = &nodes[2], .n_nodes = 1};

	const ks_op *op = ks_op_find("GlobalAveragePooling1D");
	ks_op_call c;
	ks_err err;
	float y[4];
	const float *ins[1] = {x};
	float *outs[1] = {y};
	memset(&c, 0, sizeof c);
	c.model = &m;
	c.layer = &L[2];
	c.config = cfg_g;
	c.keras_major = 2;
	c.n_in = 1;
	c.in[0] = mkshape(3, (const int64_t[]){2, 4, 2});
	assert_int_equal(op->infer(&c, &err), 0);
	assert_int_equal(op->load(&c, &err), 0);
	op->run(&c, ins, outs, NULL);
	op->free(&c);
	/* first sample: mean of (1, 2) and (3, 5); second: every step masked, 0/0 */
	assert_float_equal(y[0], 2.0f, 1e-6);
	assert_float_equal(y[1], 3.5f, 1e-6);
	assert_true(isnan(y[2]) && isnan(y[3]));

	/* without mask_zero the mean is over all 4 steps */
	json_object_set_new(cfg_e, "mask_zero", json_false());
	memset(&c, 0, sizeof c);
	c.model = &m;
	c.layer = &L[2];
	c.config = cfg_g;
	c.n_in = 1;
	c.in[0] = mkshape(3, (const int64_t[]){2, 4, 2});
	assert_int_equal(op->infer(&c, &err), 0);
	assert_int_equal(op->load(&c, &err), 0);
	op->run(&c, ins, outs, NULL);
	op->free(&c);
	assert_float_equal(y[0], (1 + 3 + 9 + 9) / 4.0f, 1e-6);
	assert_float_equal(y[2], 9.0f, 1e-6);
	json_decref(cfg_e);
	json_decref(cfg_d);
	json_decref(cfg_g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hand),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_gap1d_mask),
	};
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
