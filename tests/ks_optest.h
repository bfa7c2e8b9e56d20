/* ks_optest: drive one layer op in memory (no file, no planner) for the
 * layer kernel tests: build a ks_layer from a JSON config and in-memory
 * weights, then infer + load + run through ks_op_find.
 *
 * A test file may define, before including this header, OPTEST_SEED (the
 * random generator's start) and OPTEST_RAND_LO / OPTEST_RAND_SPAN (frand()
 * is uniform in [LO, LO + SPAN); default [-1, 1)). */
#ifndef KS_OPTEST_H
#define KS_OPTEST_H

#include <math.h>

#include <jansson.h>

#include "ks_test.h"
#include "ks_ops.h"
#include "ks_util.h"

static ks_model optest_model = {.file = H5I_INVALID_HID};

typedef struct tlayer {
	ks_layer l;
	json_t *cfg;
	json_t *kwargs; /* call kwargs passed to the op (borrowed); NULL: none */
	const ks_model *model; /* the model of the call (borrowed); NULL: an empty one */
	ks_weight w[32];
} tlayer;

#ifndef OPTEST_SEED
#define OPTEST_SEED 0x9E3779B97F4A7C15ull
#endif
#ifndef OPTEST_RAND_LO
#define OPTEST_RAND_LO (-1.0)
#define OPTEST_RAND_SPAN 2.0
#endif

static uint64_t optest_rng = OPTEST_SEED;

/* Uniform in [OPTEST_RAND_LO, OPTEST_RAND_LO + OPTEST_RAND_SPAN), fixed
 * seed: reproducible runs. */
static inline float frand(void)
{
	optest_rng ^= optest_rng << 13;
	optest_rng ^= optest_rng >> 7;
	optest_rng ^= optest_rng << 17;
	return (float)((double)(optest_rng >> 11) / 9007199254740992.0 * OPTEST_RAND_SPAN + OPTEST_RAND_LO);
}

static inline float *rand_buf(size_t n)
{
	float *p = ks_xmalloc(n * sizeof(float) + 1);
	for (size_t i = 0; i < n; i++)
		p[i] = frand();
	return p;
}

static inline void tl_init(tlayer *t, const char *cls, const char *cfg_json)
{
	json_error_t je;
	memset(t, 0, sizeof *t);
	t->cfg = json_loads(cfg_json, 0, &je);
	if (!t->cfg)
		fprintf(stderr, "bad test json: %s: %s\n", cfg_json, je.text);
	assert_non_null(t->cfg);
	t->l.name = (char *)"layer";
	t->l.class_name = (char *)cls;
	t->l.config = t->cfg;
	t->l.weights = t->w;
}

/* Adds a weight (values copied). */
static inline void tl_add(tlayer *t, const char *name, const float *v, int rank, const int64_t *shape)
{
	ks_weight *w = &t->w[t->l.n_weights++];
	int64_t n = 1;
	w->name = (char *)name;
	w->rank = rank;
	for (int i = 0; i < rank; i++) {
		w->shape[i] = shape[i];
		n *= shape[i];
	}
	w->dtype = KS_DT_F32;
	w->mem = ks_xmalloc(sizeof(float) * (size_t)n + 1);
	memcpy(w->mem, v, sizeof(float) * (size_t)n);
}

/* tl_add for rank <= 2 with the dims spelled out (trailing ones unused). */
static inline void tl_add2(tlayer *t, const char *name, const float *v, int rank, int64_t d0, int64_t d1)
{
	const int64_t d[2] = {d0, d1};
	tl_add(t, name, v, rank, d);
}

static inline void tl_free(tlayer *t)
{
	for (int i = 0; i < t->l.n_weights; i++)
		free(t->w[i].mem);
	json_decref(t->cfg);
}

static inline ks_shape mkshape(int rank, const int64_t *d)
{
	ks_shape s;
	memset(&s, 0, sizeof s);
	s.rank = rank;
	for (int i = 0; i < rank; i++)
		s.d[i] = d[i];
	return s;
}

static inline ks_shape shape3(int64_t a, int64_t b, int64_t c)
{
	ks_shape s = {.rank = 3, .d = {a, b, c}};
	return s;
}

typedef struct run_result {
	ks_shape shape;
	float *out;
	size_t n;
} run_result;

typedef struct run_opts {
	int keras_major;
	bool theano;
} run_opts;

/* Infers only (shape display); returns 0/-1 and the output shape. */
static inline int infer_op(tlayer *t, ks_shape in, ks_shape *out, ks_err *err)
{
	const ks_op *op = ks_op_find(t->l.class_name);
	ks_op_call c;
	int rc;
	assert_non_null(op);
	memset(&c, 0, sizeof c);
	c.model = &optest_model;
	c.layer = &t->l;
	c.config = t->cfg;
	c.keras_major = 2;
	c.n_in = 1;
	c.in[0] = in;
	rc = op->infer(&c, err);
	if (rc == 0 && out)
		*out = c.out[0];
	if (op->free)
		op->free(&c);
	return rc;
}

/* Outputs of one run; each out[i] is owned by the caller (rr_free). */
typedef struct run_io {
	int n_out;
	ks_shape shape[KS_MAX_IO];
	float *out[KS_MAX_IO];
} run_io;

static inline void rr_free(run_io *r)
{
	for (int i = 0; i < r->n_out; i++)
		free(r->out[i]);
}

/* n_in inputs, any number of outputs, t->kwargs as the call kwargs. Fails
 * (-1, err) at infer or load. Outputs start as NaN: every element must be
 * written. */
static inline int optest_run(tlayer *t, const run_opts *o, int n_in, const ks_shape *in_shapes,
                             const float *const *in, run_io *r, ks_err *err)
{
	const ks_op *op = ks_op_find(t->l.class_name);
	ks_op_call c;
	float *scratch;

	memset(r, 0, sizeof *r);
	assert_non_null(op);
	memset(&c, 0, sizeof c);
	c.model = t->model ? t->model : &optest_model;
	c.layer = &t->l;
	c.config = t->cfg;
	c.kwargs = t->kwargs;
	c.keras_major = o ? o->keras_major : 2;
	c.theano = o ? o->theano : false;
	c.n_in = n_in;
	for (int i = 0; i < n_in; i++)
		c.in[i] = in_shapes[i];
	/* like the planner, free after a failed infer too */
	if (op->infer(&c, err) < 0 || (op->load && op->load(&c, err) < 0)) {
		if (op->free)
			op->free(&c);
		return -1;
	}
	r->n_out = c.n_out;
	for (int i = 0; i < c.n_out; i++) {
		size_t n = (size_t)ks_shape_numel(&c.out[i]);
		r->shape[i] = c.out[i];
		r->out[i] = ks_xmalloc(sizeof(float) * n + 1);
		for (size_t j = 0; j < n; j++)
			r->out[i][j] = NAN;
	}
	scratch = ks_xmalloc(sizeof(float) * c.scratch_floats + 1);
	op->run(&c, in, r->out, scratch);
	free(scratch);
	if (op->free)
		op->free(&c);
	return 0;
}

/* Several inputs and outputs, Keras major version keras_major. */
static inline int run_op_io(tlayer *t, int keras_major, int n_in, const ks_shape *in_shapes,
                            const float *const *in, run_io *r, ks_err *err)
{
	run_opts o = {.keras_major = keras_major};
	return optest_run(t, &o, n_in, in_shapes, in, r, err);
}

/* One input, one output (o NULL: Keras 2). Fails (-1, err) at infer or load. */
static inline int run_op(tlayer *t, const run_opts *o, ks_shape in, const float *x, run_result *r, ks_err *err)
{
	const float *ins[1] = {x};
	run_io io;

	memset(r, 0, sizeof *r);
	if (optest_run(t, o, 1, &in, ins, &io, err) < 0)
		return -1;
	assert_int_equal(io.n_out, 1);
	r->shape = io.shape[0];
	r->n = (size_t)ks_shape_numel(&io.shape[0]);
	r->out = io.out[0];
	return 0;
}

/* Element-wise |got - want| <= tol * (1 + |want|); a tolerance of 1e-5 is
 * what the conformance cases use. NaN never passes. Reports the worst
 * element. */
static inline void assert_close(const float *got, const double *want, size_t n, double tol)
{
	double worst = 0;
	size_t at = 0;
	for (size_t i = 0; i < n; i++) {
		double d = fabs((double)got[i] - want[i]);
		if (!(d <= tol * (1 + fabs(want[i]))) && !(d <= worst)) {
			worst = isnan(d) ? INFINITY : d;
			at = i;
		}
	}
	if (worst > 0) {
		print_error("element %zu: got %.8g want %.8g (|diff| %.3g > tol %.1g)\n", at, (double)got[at],
		            want[at], worst, tol);
		fail();
	}
}

/* Tighter check for sums: |got - want| <= 1e-6 * (1 + mag) where mag is the
 * sum of |terms| (float32 rounding of long dot products is ~1e-7 of it). */
static inline void assert_close_mag(const float *got, const double *want, const double *mag, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		double d = fabs((double)got[i] - want[i]);
		if (!(d <= 1e-6 * (1 + mag[i]))) {
			fprintf(stderr, "mismatch at %zu: got %.8g want %.8g (|terms| %.4g)\n", i,
			        (double)got[i], want[i], mag[i]);
			fail();
		}
	}
}

static inline void assert_shape(const ks_shape *s, int rank, const int64_t *d)
{
	char a[128], b[128];
	bool ok = s->rank == rank;
	for (int i = 0; ok && i < rank; i++)
		ok = s->d[i] == d[i];
	if (!ok) {
		fprintf(stderr, "shape %s, expected %s\n", ks_shape_str(s->d, s->rank, a, sizeof a),
		        ks_shape_str(d, rank, b, sizeof b));
		fail();
	}
}

#endif
