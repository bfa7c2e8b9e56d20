/* ks_cmp: tolerance rules, difference statistics, column permutations and
 * top-1 agreement against hand-computed values (stated in comments). */
#include "config.h"

#include <float.h>
#include <math.h>

#include "ks_test.h"
#include "ks_cmp.h"

static const ks_tol exact = {KS_TOL_EXACT, 0};

static void test_tol_exact(void **state)
{
	(void)state;
	assert_false(ks_tol_differs(&exact, 1.5f, 1.5f));
	assert_true(ks_tol_differs(&exact, 1.5f, nextafterf(1.5f, 2)));
	assert_false(ks_tol_differs(&exact, 0.0f, -0.0f));
	/* NaN == NaN; NaN against a number differs either way round. */
	assert_false(ks_tol_differs(&exact, NAN, NAN));
	assert_true(ks_tol_differs(&exact, NAN, 0));
	assert_true(ks_tol_differs(&exact, 0, NAN));
	assert_false(ks_tol_differs(&exact, INFINITY, INFINITY));
	assert_true(ks_tol_differs(&exact, INFINITY, -INFINITY));
	assert_true(ks_tol_differs(&exact, INFINITY, NAN));
}

static void test_tol_abs(void **state)
{
	(void)state;
	ks_tol t = {KS_TOL_ABS, 0.5};
	/* |1 - 1.5| = 0.5 is not > 0.5 (strict); |1 - 1.5000001| is. */
	assert_false(ks_tol_differs(&t, 1.0f, 1.5f));
	assert_true(ks_tol_differs(&t, 1.0f, nextafterf(1.5f, 2)));
	assert_false(ks_tol_differs(&t, -0.25f, 0.25f));
	assert_true(ks_tol_differs(&t, 1e30f, INFINITY));
	assert_false(ks_tol_differs(&t, NAN, NAN));
	assert_true(ks_tol_differs(&t, NAN, 1.0f));
	/* The difference is taken in double: float32 0.1 - 0.0 is 0.10000000149. */
	ks_tol d = {KS_TOL_ABS, 0.1};
	assert_true(ks_tol_differs(&d, 0.0f, 0.1f));
}

static void test_tol_rel_and_epsilon(void **state)
{
	(void)state;
	ks_tol p = {KS_TOL_REL, 0.1};
	/* |10 - 11| = 1 is not > 0.1*10; |10 - 11.5| = 1.5 is. */
	assert_false(ks_tol_differs(&p, 10.0f, 11.0f));
	assert_true(ks_tol_differs(&p, 10.0f, 11.5f));
	/* Relative to a, not b: |-2 - (-2.25)| = 0.25 > 0.2. */
	assert_true(ks_tol_differs(&p, -2.0f, -2.25f));
	/* a == 0: any non-zero b differs, zero does not. */
	assert_true(ks_tol_differs(&p, 0.0f, 1e-30f));
	assert_false(ks_tol_differs(&p, 0.0f, -0.0f));
	assert_true(ks_tol_differs(&p, INFINITY, 5.0f));
	ks_tol e = {KS_TOL_EPSILON, 0};
	assert_false(ks_tol_differs(&e, 1.0f, 1.0f + FLT_EPSILON));   /* == epsilon */
	assert_true(ks_tol_differs(&e, 1.0f, 1.0f + 2 * FLT_EPSILON));
	assert_false(ks_tol_differs(&e, NAN, NAN));
}

static void test_tol_str(void **state)
{
	(void)state;
	char buf[64];
	ks_tol d = {KS_TOL_ABS, 0.001}, p = {KS_TOL_REL, 0.25}, e = {KS_TOL_EPSILON, 0};
	assert_string_equal(ks_tol_str(&exact, buf, sizeof buf), "exact");
	assert_string_equal(ks_tol_str(&d, buf, sizeof buf), "|a-b| > 0.001");
	assert_string_equal(ks_tol_str(&p, buf, sizeof buf), "|a-b| > 0.25*|a|");
	assert_string_equal(ks_tol_str(&e, buf, sizeof buf), "|a-b| > FLT_EPSILON");
}

static void test_stats_hand(void **state)
{
	(void)state;
	/* a = (1, 2, 0, -4), b = (1, 2.5, 0, -2): d = (0, .5, 0, 2)
	 * sum|d| = 2.5, mean 0.625; sum d^2 = 4.25, rms sqrt(4.25/4);
	 * max |d| = 2 at index 3; rel: .5/2 = .25, 2/4 = .5 -> .5;
	 * dot = 1 + 5 + 0 + 8 = 14; |a|^2 = 21, |b|^2 = 11.25;
	 * cosine 14/sqrt(21*11.25); rel norm sqrt(4.25/21). */
	const float a[] = {1, 2, 0, -4}, b[] = {1, 2.5f, 0, -2};
	ks_cmp c;
	ks_cmp_init(&c, &exact);
	ks_cmp_add(&c, a, b, 4);
	assert_int_equal(c.count, 4);
	assert_int_equal(c.n_changed, 2);
	assert_int_equal(c.n_finite, 4);
	assert_float_equal(c.max_abs, 2, 0);
	assert_int_equal(c.max_abs_at, 3);
	assert_float_equal(c.max_a, -4, 0);
	assert_float_equal(c.max_b, -2, 0);
	assert_float_equal(c.max_rel, 0.5, 0);
	assert_float_equal(ks_cmp_mean_abs(&c), 0.625, 1e-15);
	assert_float_equal(ks_cmp_rms(&c), sqrt(4.25 / 4), 1e-15);
	assert_float_equal(ks_cmp_cosine(&c), 14 / sqrt(21 * 11.25), 1e-15);
	assert_float_equal(ks_cmp_rel_norm(&c), sqrt(4.25 / 21), 1e-15);

	/* With -d 0.5: only |d| = 2 counts (0.5 is not > 0.5). */
	ks_tol d = {KS_TOL_ABS, 0.5};
	ks_cmp_init(&c, &d);
	ks_cmp_add(&c, a, b, 4);
	assert_int_equal(c.n_changed, 1);
}

static void test_stats_blocks_and_merge(void **state)
{
	(void)state;
	/* The same arrays fed in blocks 1+2+1 give the same totals and the
	 * maximum's flat index continues across blocks. */
	const float a[] = {1, 2, 0, -4}, b[] = {1, 2.5f, 0, -2};
	ks_cmp c, x, y;
	ks_cmp_init(&c, &exact);
	ks_cmp_add(&c, a, b, 1);
	ks_cmp_add(&c, a + 1, b + 1, 2);
	ks_cmp_add(&c, a + 3, b + 3, 1);
	assert_int_equal(c.count, 4);
	assert_int_equal(c.max_abs_at, 3);
	assert_float_equal(c.sum_sq, 4.25, 0);
	/* Merge: [a0 a1] then [a2 a3]; max at 1 + 2 = 3 again. */
	ks_cmp_init(&x, &exact);
	ks_cmp_init(&y, &exact);
	ks_cmp_add(&x, a, b, 2);
	ks_cmp_add(&y, a + 2, b + 2, 2);
	assert_int_equal(y.max_abs_at, 1);
	ks_cmp_merge(&x, &y);
	assert_int_equal(x.count, 4);
	assert_int_equal(x.max_abs_at, 3);
	assert_int_equal(x.n_changed, 2);
	assert_float_equal(x.dot, 14, 0);
	/* The first of equal maxima wins: d = (1, 1) -> index 0. */
	const float p[] = {0, 0}, q[] = {1, -1};
	ks_cmp_init(&c, &exact);
	ks_cmp_add(&c, p, q, 2);
	assert_int_equal(c.max_abs_at, 0);
	assert_float_equal(c.max_rel, 0, 0);   /* a == 0 everywhere */
}

static void test_stats_identical_and_zero(void **state)
{
	(void)state;
	const float z[] = {0, 0, 0}, v[] = {3, 0, -1};
	ks_cmp c;
	ks_cmp_init(&c, &exact);
	ks_cmp_add(&c, v, v, 3);
	assert_int_equal(c.n_changed, 0);
	assert_int_equal(c.max_abs_at, -1);
	assert_float_equal(c.max_abs, 0, 0);
	assert_float_equal(ks_cmp_cosine(&c), 1, 1e-15);
	assert_float_equal(ks_cmp_rel_norm(&c), 0, 0);
	ks_cmp_init(&c, &exact);
	ks_cmp_add(&c, z, z, 3);
	assert_float_equal(ks_cmp_cosine(&c), 1, 0);
	assert_float_equal(ks_cmp_rel_norm(&c), 0, 0);
	/* a all zero, b not: cosine 0, relative norm infinite. */
	ks_cmp_init(&c, &exact);
	ks_cmp_add(&c, z, v, 3);
	assert_float_equal(ks_cmp_cosine(&c), 0, 0);
	assert_true(isinf(ks_cmp_rel_norm(&c)));
	/* Opposite vectors: cosine -1. */
	const float w[] = {-3, 0, 1};
	ks_cmp_init(&c, &exact);
	ks_cmp_add(&c, v, w, 3);
	assert_float_equal(ks_cmp_cosine(&c), -1, 1e-15);
	ks_cmp_init(&c, &exact);
	ks_cmp_add(&c, v, v, 0);
	assert_int_equal(c.count, 0);
	assert_float_equal(ks_cmp_mean_abs(&c), 0, 0);
	assert_float_equal(ks_cmp_rms(&c), 0, 0);
}

static void test_stats_nonfinite(void **state)
{
	(void)state;
	/* pos 0: NaN/NaN equal; 1: 1 -> NaN appears; 2: Inf -> 2 disappears;
	 * 3: Inf/Inf equal; 4: 1 -> 3 finite (|d| = 2). */
	const float a[] = {NAN, 1, INFINITY, INFINITY, 1};
	const float b[] = {NAN, NAN, 2, INFINITY, 3};
	ks_cmp c;
	ks_cmp_init(&c, &exact);
	ks_cmp_add(&c, a, b, 5);
	assert_int_equal(c.count, 5);
	assert_int_equal(c.n_changed, 3);
	assert_int_equal(c.n_finite, 1);
	assert_int_equal(c.nan_a, 1);
	assert_int_equal(c.nan_b, 2);
	assert_int_equal(c.inf_a, 2);
	assert_int_equal(c.inf_b, 1);
	assert_int_equal(c.nonfinite_new, 1);
	assert_int_equal(c.nonfinite_gone, 1);
	assert_float_equal(c.max_abs, 2, 0);
	assert_int_equal(c.max_abs_at, 4);
	assert_float_equal(ks_cmp_mean_abs(&c), 2, 0);
}

static void test_permutation(void **state)
{
	(void)state;
	/* a is 3 x 4; b holds a's column j at mapping[j] = {2, 0, 3, 1}:
	 * b[:, 2] = a[:, 0], b[:, 0] = a[:, 1], b[:, 3] = a[:, 2], b[:, 1] = a[:, 3]. */
	const float a[] = {1, 2, 3, 4,
	                   5, 6, 7, 8,
	                   9, 10, 11, 12};
	const float b[] = {2, 4, 1, 3,
	                   6, 8, 5, 7,
	                   10, 12, 9, 11};
	int map[4];
	assert_true(ks_cmp_column_permutation(a, b, 3, 4, &exact, map));
	assert_int_equal(map[0], 2);
	assert_int_equal(map[1], 0);
	assert_int_equal(map[2], 3);
	assert_int_equal(map[3], 1);
	/* The identity is not a permutation. */
	assert_false(ks_cmp_column_permutation(a, a, 3, 4, &exact, map));
	/* One element off: no bijection exactly, one within -d 0.01. */
	float c[12];
	memcpy(c, b, sizeof c);
	c[5] += 0.005f;
	assert_false(ks_cmp_column_permutation(a, c, 3, 4, &exact, map));
	ks_tol d = {KS_TOL_ABS, 0.01};
	assert_true(ks_cmp_column_permutation(a, c, 3, 4, &d, map));
	assert_int_equal(map[3], 1);
	/* Too few columns or rows. */
	assert_false(ks_cmp_column_permutation(a, b, 12, 1, &exact, map));
	assert_false(ks_cmp_column_permutation(a, b, 0, 4, &exact, map));
}

static void test_permutation_repeated_columns(void **state)
{
	(void)state;
	/* a's columns: (1,1) (1,1) (2.8,2.8); b = (2,2) (1,1) (1,1). Under -d 1.5
	 * a's columns 0 and 1 match every column of b, a's column 2 only b's
	 * column 0 (|2.8-1| = 1.8). A first-fit gives b's column 0 to a's column
	 * 0 and strands a's column 2; the augmenting path moves it. */
	const float a[] = {1, 1, 2.8f,
	                   1, 1, 2.8f};
	const float b[] = {2, 1, 1,
	                   2, 1, 1};
	ks_tol d = {KS_TOL_ABS, 1.5};
	int map[3];
	assert_true(ks_cmp_column_permutation(a, b, 2, 3, &d, map));
	assert_int_equal(map[2], 0);
	assert_true((map[0] == 1 && map[1] == 2) || (map[0] == 2 && map[1] == 1));
	/* Exactly equal repeated columns against themselves: identity -> false. */
	assert_false(ks_cmp_column_permutation(a, a, 2, 3, &exact, map));
}

static void test_top1(void **state)
{
	(void)state;
	/* rows: argmax a = 2, 0, 1; argmax b = 2, 1, 1 -> 2/3 agree. */
	const float a[] = {0.1f, 0.2f, 0.7f, 0.9f, 0.05f, 0.05f, 0.3f, 0.4f, 0.3f};
	const float b[] = {0.0f, 0.1f, 0.9f, 0.4f, 0.5f, 0.1f, 0.2f, 0.6f, 0.2f};
	assert_float_equal(ks_cmp_top1_agreement(a, b, 3, 3), 2.0 / 3, 1e-15);
	/* Ties go to the first index, as numpy.argmax: (1, 1) vs (1, 0.5) agree. */
	const float t1[] = {1, 1}, t2[] = {1, 0.5f};
	assert_float_equal(ks_cmp_top1_agreement(t1, t2, 1, 2), 1, 0);
	/* One column: x > 0.5 per row: (0.6, 0.4, 0.5) vs (0.9, 0.6, 0.2) ->
	 * agree, disagree, agree (0.5 is not > 0.5). */
	const float s1[] = {0.6f, 0.4f, 0.5f}, s2[] = {0.9f, 0.6f, 0.2f};
	assert_float_equal(ks_cmp_top1_agreement(s1, s2, 3, 1), 2.0 / 3, 1e-15);
	/* A NaN is the maximum. */
	const float n1[] = {0, NAN, 1}, n2[] = {0, 2, 1};
	assert_float_equal(ks_cmp_top1_agreement(n1, n2, 1, 3), 1, 0);
	assert_float_equal(ks_cmp_top1_agreement(n1, n2, 0, 3), 1, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tol_exact),
		cmocka_unit_test(test_tol_abs),
		cmocka_unit_test(test_tol_rel_and_epsilon),
		cmocka_unit_test(test_tol_str),
		cmocka_unit_test(test_stats_hand),
		cmocka_unit_test(test_stats_blocks_and_merge),
		cmocka_unit_test(test_stats_identical_and_zero),
		cmocka_unit_test(test_stats_nonfinite),
		cmocka_unit_test(test_permutation),
		cmocka_unit_test(test_permutation_repeated_columns),
		cmocka_unit_test(test_top1),
	};
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
