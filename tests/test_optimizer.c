/* Adam with L2 decay: steps worked by hand, the general formula, the bias
 * correction, the decay added to the gradient (not AdamW's decoupled
 * shrink), no allocation in a step. */
#include <math.h>

#include "alloc_count.h"
#include "gradcheck.h"
#include "optimizer.h"
#include "testutil.h"

/* lr 0.01, β 0.9/0.999, ε 1e-8, p = 1, gradients 0.5 then 1.0:
 *   t=1: m = 0.05, v = 2.5e-4; m̂ = 0.5, v̂ = 0.25; p = 1 − 0.01·0.5/0.5
 *        = 0.99 (less 2e-10 for ε)
 *   t=2: m = 0.145, v = 1.24975e-3; m̂ = 0.145/0.19 = 0.7631579,
 *        v̂ = 1.24975e-3/1.999e-3 = 0.6251876; p = 0.99 − 0.01·0.7631579/
 *        0.7906881 = 0.9803482
 * The update runs in float with β in float (1 − 0.999f is 4.7e-5 off in
 * relative terms), hence tolerances of 1e-4 relative, well inside what a
 * missing correction or a wrong moment would change. */
START_TEST(two_steps_by_hand)
{
    dgn_adam a;
    ck_assert_int_eq(dgn_adam_init(&a, 1, 0.01, 0.9, 0.999, 1e-8, 0), DGN_OK);
    float p = 1, g = 0.5f;
    dgn_adam_step(&a, &p, &g);
    ck_assert_uint_eq(a.t, 1);
    ck_assert_float_eq_tol(a.m[0], 0.05f, 1e-7f);
    ck_assert_float_eq_tol(a.v[0], 2.5e-4f, 2.5e-8f);
    ck_assert_float_eq_tol(p, 0.99f, 1e-6f);
    g = 1.0f;
    dgn_adam_step(&a, &p, &g);
    ck_assert_uint_eq(a.t, 2);
    ck_assert_float_eq_tol(a.m[0], 0.145f, 2e-7f);
    ck_assert_float_eq_tol(a.v[0], 1.24975e-3f, 1.25e-7f);
    ck_assert_float_eq_tol(p, 0.9803482f, 1e-6f);
    dgn_adam_free(&a);
}
END_TEST

/* Five steps with decay against the formula in double. */
START_TEST(steps_match_formula)
{
    dgn_adam a;
    ck_assert_int_eq(dgn_adam_init(&a, 2, 0.01, 0.9, 0.999, 1e-8, 0.1), DGN_OK);
    float p[2] = {1.0f, -2.0f};
    double m[2] = {0}, v[2] = {0}, q[2] = {1.0, -2.0};
    for (int t = 1; t <= 5; t++) {
        float g[2] = {0.5f * (float)t, -0.25f};
        dgn_adam_step(&a, p, g);
        for (int i = 0; i < 2; i++) {
            double gi = g[i] + 0.1 * q[i];
            m[i] = 0.9 * m[i] + 0.1 * gi;
            v[i] = 0.999 * v[i] + 0.001 * gi * gi;
            double mh = m[i] / (1 - pow(0.9, t)), vh = v[i] / (1 - pow(0.999, t));
            q[i] -= 0.01 * mh / (sqrt(vh) + 1e-8);
            ck_assert_double_eq_tol(p[i], q[i], 1e-6);
        }
    }
    dgn_adam_free(&a);
}
END_TEST

/* Corrected, the first step is lr·g/(|g| + ε) whatever the gradient's
 * size; uncorrected it would be lr·0.1/√0.001 ≈ 3.16·lr. */
START_TEST(bias_correction_makes_the_first_step_lr)
{
    static const float grads[] = {1e-3f, -1.0f, 1e3f};
    for (size_t k = 0; k < sizeof grads / sizeof *grads; k++) {
        dgn_adam a;
        ck_assert_int_eq(dgn_adam_init(&a, 1, 0.01, 0.9, 0.999, 1e-8, 0), DGN_OK);
        float p = 0, g = grads[k];
        dgn_adam_step(&a, &p, &g);
        double expect = -0.01 * g / (fabs(g) + 1e-8);
        ck_assert_msg(fabs(p - expect) < 1e-6, "g %g: step %g, expected %g", g, p, expect);
        dgn_adam_free(&a);
    }
    /* Below ε the step shrinks: g = ε/10 moves lr/11. */
    dgn_adam a;
    ck_assert_int_eq(dgn_adam_init(&a, 1, 0.01, 0.9, 0.999, 1e-8, 0), DGN_OK);
    float p = 0, g = 1e-9f;
    dgn_adam_step(&a, &p, &g);
    ck_assert_float_eq_tol(p, -0.01f / 11, 1e-7f); /* lr/11 = 9.1e-4 */
    dgn_adam_free(&a);
    /* A constant gradient keeps m̂ = g and v̂ = g² at every t, so every step
     * is lr: the corrections follow t. */
    ck_assert_int_eq(dgn_adam_init(&a, 1, 0.01, 0.9, 0.999, 1e-8, 0), DGN_OK);
    p = 0;
    for (int t = 1; t <= 50; t++) {
        float before = p, two = 2.0f;
        dgn_adam_step(&a, &p, &two);
        ck_assert_msg(fabsf(before - p - 0.01f) < 1e-6f, "step %d: %g", t, before - p);
    }
    dgn_adam_free(&a);
}
END_TEST

/* Decay is wd·p added to the gradient, so a zero gradient still takes a
 * full step of lr against p's sign (AdamW would move lr·wd·p), and a run
 * with decay equals one without it fed g + wd·p. */
START_TEST(weight_decay_joins_the_gradient)
{
    dgn_adam a, b;
    ck_assert_int_eq(dgn_adam_init(&a, 2, 0.01, 0.9, 0.999, 1e-8, 0.1), DGN_OK);
    ck_assert_int_eq(dgn_adam_init(&b, 2, 0.01, 0.9, 0.999, 1e-8, 0), DGN_OK);
    float p[2] = {2.0f, -3.0f}, q[2] = {2.0f, -3.0f}, zero[2] = {0, 0};
    dgn_adam_step(&a, p, zero);
    ck_assert_float_eq_tol(p[0], 2.0f - 0.01f, 1e-6f);
    ck_assert_float_eq_tol(p[1], -3.0f + 0.01f, 1e-6f);
    float q0[2] = {0.1f * q[0], 0.1f * q[1]};
    dgn_adam_step(&b, q, q0);
    for (int t = 0; t < 20; t++) {
        float g[2] = {0.3f - 0.05f * (float)t, 0.2f};
        float h[2] = {g[0] + 0.1f * q[0], g[1] + 0.1f * q[1]};
        dgn_adam_step(&a, p, g);
        dgn_adam_step(&b, q, h);
        ck_assert_float_eq_tol(p[0], q[0], 1e-6f);
        ck_assert_float_eq_tol(p[1], q[1], 1e-6f);
    }
    dgn_adam_free(&a);
    dgn_adam_free(&b);
}
END_TEST

/* State starts at zero, each weight is updated on its own (odd sizes
 * reach the vector loops' tails), and a step never allocates. */
START_TEST(lr_schedule_shape)
{
    ck_assert_double_eq(dgn_lr_at(0, 0.01, 10, 100, 57), 0.01);
    /* Warm-up: linear up to lr at the last warm-up step. */
    ck_assert_double_eq_tol(dgn_lr_at(1, 0.01, 10, 110, 0), 0.001, 1e-15);
    ck_assert_double_eq_tol(dgn_lr_at(1, 0.01, 10, 110, 4), 0.005, 1e-15);
    ck_assert_double_eq_tol(dgn_lr_at(1, 0.01, 10, 110, 9), 0.01, 1e-15);
    /* Cosine: lr at its start, half way down at the middle, 0 at the end. */
    ck_assert_double_eq_tol(dgn_lr_at(1, 0.01, 10, 110, 10), 0.01, 1e-15);
    ck_assert_double_eq_tol(dgn_lr_at(1, 0.01, 10, 110, 60), 0.005, 1e-15);
    ck_assert_double_lt(dgn_lr_at(1, 0.01, 10, 110, 109), 1e-5);
    ck_assert_double_gt(dgn_lr_at(1, 0.01, 10, 110, 109), 0);
    ck_assert_double_eq(dgn_lr_at(1, 0.01, 10, 110, 110), 0);
    ck_assert_double_eq(dgn_lr_at(1, 0.01, 10, 110, 500), 0);
    for (size_t s = 11; s < 110; s++)
        ck_assert_double_lt(dgn_lr_at(1, 0.01, 10, 110, s), dgn_lr_at(1, 0.01, 10, 110, s - 1));
    /* No room for a decay: lr after the warm-up. */
    ck_assert_double_eq(dgn_lr_at(1, 0.01, 10, 5, 20), 0.01);
}
END_TEST

START_TEST(state_and_no_allocation)
{
    enum { N = 37 };
    dgn_adam a, one;
    ck_assert_int_eq(dgn_adam_init(&a, N, 0.01, 0.9, 0.999, 1e-8, 0.01), DGN_OK);
    for (int i = 0; i < N; i++)
        ck_assert(a.m[i] == 0 && a.v[i] == 0);
    float p[N], g[N];
    unsigned st = 1;
    for (int i = 0; i < N; i++) {
        st = st * 1664525u + 1013904223u;
        p[i] = (float)(st >> 8) / 16777216.0f - 0.5f;
        g[i] = 0.1f * (float)(i - N / 2);
    }
    float p_all[N];
    for (int i = 0; i < N; i++)
        p_all[i] = p[i];
#if COUNT_ALLOCATIONS /* not under AddressSanitizer, which owns malloc */
    counting = 1;
    n_allocs = 0;
#endif
    for (int t = 0; t < 3; t++)
        dgn_adam_step(&a, p_all, g);
#if COUNT_ALLOCATIONS
    counting = 0;
    ck_assert_uint_eq(n_allocs, 0);
#endif
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(dgn_adam_init(&one, 1, 0.01, 0.9, 0.999, 1e-8, 0.01), DGN_OK);
        float pi = p[i];
        for (int t = 0; t < 3; t++)
            dgn_adam_step(&one, &pi, &g[i]);
        ck_assert_msg(pi == p_all[i], "weight %d: %a alone, %a in the vector", i, pi, p_all[i]);
        dgn_adam_free(&one);
    }
    dgn_adam_free(&a);
    /* Freeing twice is harmless; an empty state is allowed. */
    dgn_adam_free(&a);
    ck_assert_int_eq(dgn_adam_init(&a, 0, 0.01, 0.9, 0.999, 1e-8, 0), DGN_OK);
    dgn_adam_step(&a, NULL, NULL);
    dgn_adam_free(&a);
}
END_TEST

/* A step on a pool of 1, 2 or 3 threads gives the bits of the caller's
 * thread, over several blocks of weights, the last partial. */
START_TEST(step_on_any_pool_matches_one_thread)
{
    enum { NW = 40000 };
    static float p0[NW], g[NW], want[NW], got[NW];
    unsigned st = 11;
    fill_uniform(p0, NW, &st, 1.0f);
    fill_uniform(g, NW, &st, 1.0f);
    for (size_t threads = 0; threads <= 3; threads++) {
        dgn_pool *pool = NULL;
        if (threads)
            ck_assert_int_eq(dgn_pool_create(&pool, threads), DGN_OK);
        float *p = threads ? got : want;
        memcpy(p, p0, sizeof p0);
        dgn_adam a;
        ck_assert_int_eq(dgn_adam_init(&a, NW, 1e-2, 0.9, 0.999, 1e-8, 1e-4), DGN_OK);
        for (int s = 0; s < 3; s++)
            threads ? dgn_adam_step_on(&a, p, g, pool) : dgn_adam_step(&a, p, g);
        dgn_adam_free(&a);
        if (threads)
            ck_assert_msg(memcmp(want, got, sizeof got) == 0, "%zu threads changed the bits",
                          threads);
        dgn_pool_destroy(pool);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("optimizer");
    TCase *tc = tcase_create("adam");
    tcase_add_test(tc, two_steps_by_hand);
    tcase_add_test(tc, steps_match_formula);
    tcase_add_test(tc, bias_correction_makes_the_first_step_lr);
    tcase_add_test(tc, weight_decay_joins_the_gradient);
    tcase_add_test(tc, state_and_no_allocation);
    tcase_add_test(tc, lr_schedule_shape);
    tcase_add_test(tc, step_on_any_pool_matches_one_thread);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
