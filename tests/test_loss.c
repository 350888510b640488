/* The triplet loss: values against a hand computation, the gradient
 * against central differences, the temperature's role, extreme margins. */
#include <math.h>
#include <string.h>

#include "gradcheck.h"
#include "loss.h"
#include "testutil.h"

/* −log σ(s), written out. */
static double nls(double s)
{
    return log(1 + exp(-s));
}

/* Two triplets of k = 2, τ = 0.5, worked by hand:
 *   a0 = (1, 2), p0 = (0.5, 0), n0 = (0, 1): s0 = (0.5 − 2)/0.5 = −3
 *   a1 = (−1, 1), p1 = (0, 2), n1 = (1, 0):  s1 = (2 + 1)/0.5 = 6
 * loss = (nls(−3) + nls(6))/2; dL/da_j = −σ(−s_j)/(τ·m) · (p_j − n_j),
 * dL/dp_j = −σ(−s_j)/(τ·m) · a_j, dL/dn_j = +σ(−s_j)/(τ·m) · a_j. */
START_TEST(value_and_gradient_by_hand)
{
    const float f[] = {1, 2, -1, 1, /* anchors */ 0.5f, 0, 0, 2, /* positives */
                       0, 1, 1, 0 /* negatives */};
    float df[12];
    double l = dgn_triplet_loss(df, f, 2, 2, 0.5);
    ck_assert_double_eq_tol(l, (nls(-3) + nls(6)) / 2, 1e-12);
    double g0 = -1 / (1 + exp(-3.0)) / 0.5 / 2, g1 = -1 / (1 + exp(6.0)) / 0.5 / 2;
    const double expect[12] = {g0 * 0.5, g0 * -1, g1 * -1, g1 * 2, /* da */
                               g0 * 1,   g0 * 2,  g1 * -1, g1 * 1, /* dp */
                               -g0 * 1,  -g0 * 2, -g1 * -1, -g1 * 1 /* dn */};
    for (int i = 0; i < 12; i++)
        ck_assert_msg(fabs(df[i] - expect[i]) < 1e-6, "df[%d] = %g, by hand %g", i, df[i],
                      expect[i]);
}
END_TEST

typedef struct loss_ctx {
    float f[3 * 6 * 7], df[3 * 6 * 7];
    size_t m, k;
    double tau;
} loss_ctx;

static double loss_of(void *arg)
{
    loss_ctx *c = arg;
    float scratch[3 * 6 * 7];
    return dgn_triplet_loss(scratch, c->f, c->m, c->k, c->tau);
}

/* Against central differences at temperatures from sharp to flat, every
 * element checked. */
START_TEST(gradient_matches_differences)
{
    static const double taus[] = {0.05, 0.1, 1, 10};
    for (size_t t = 0; t < sizeof taus / sizeof *taus; t++) {
        loss_ctx c = {.m = 6, .k = 7, .tau = taus[t]};
        unsigned st = 11 + (unsigned)t;
        fill_uniform(c.f, 3 * c.m * c.k, &st, 0.5f);
        dgn_triplet_loss(c.df, c.f, c.m, c.k, c.tau);
        gc_result r = gradcheck(loss_of, &c, c.f, c.df, 3 * c.m * c.k, 3 * c.m * c.k, 1e-3f);
        ck_assert_msg(gradcheck_ok(r), "tau %g: %zu of %zu failed (worst %.3g)", c.tau,
                      r.failed, r.checked, r.worst);
        ck_assert_uint_eq(r.checked, 3 * c.m * c.k);
    }
}
END_TEST

/* τ divides the margins: scaling every feature by c scales s by c², so
 * L(f, τ) = L(c·f, c²·τ), and the gradient scales by 1/c. */
START_TEST(tau_divides_the_margin)
{
    enum { M = 5, K = 4 };
    float f[3 * M * K], g[3 * M * K], df[3 * M * K], dg[3 * M * K];
    unsigned st = 3;
    fill_uniform(f, 3 * M * K, &st, 1.0f);
    const float c = 2.0f; /* a power of two: the scaled floats are exact */
    for (int i = 0; i < 3 * M * K; i++)
        g[i] = c * f[i];
    double lf = dgn_triplet_loss(df, f, M, K, 0.3);
    double lg = dgn_triplet_loss(dg, g, M, K, 0.3 * c * c);
    ck_assert_double_eq_tol(lf, lg, 1e-12);
    for (int i = 0; i < 3 * M * K; i++)
        ck_assert_float_eq_tol(dg[i], df[i] / c, 1e-6f);
    /* A lower temperature sharpens: a right-ordered triplet costs less. */
    const float h[] = {1, 0, 1, 0, 0.5f, 0};
    float dh[6];
    ck_assert_double_lt(dgn_triplet_loss(dh, h, 1, 2, 0.1), dgn_triplet_loss(dh, h, 1, 2, 1));
    ck_assert_double_eq_tol(dgn_triplet_loss(dh, h, 1, 2, 0.1), nls(5), 1e-12);
}
END_TEST

/* Equal margins give log 2 and a gradient of −1/(2τm)(p − n) on a. */
START_TEST(zero_margin)
{
    const float f[] = {1, 1, 2, 0, 0, 2};
    float df[6];
    ck_assert_double_eq_tol(dgn_triplet_loss(df, f, 1, 2, 1.0), log(2.0), 1e-12);
    ck_assert_float_eq_tol(df[0], -0.5f * 2, 1e-7f);
    ck_assert_float_eq_tol(df[1], -0.5f * -2, 1e-7f);
}
END_TEST

START_TEST(extreme_margins_stay_finite)
{
    /* One triplet: s = (⟨a,p⟩ − ⟨a,n⟩)/τ = (1 − 0)/1; loss = log(1 + e^−1). */
    float f[] = {1, 0, 1, 0, 0, 1}, df[6];
    ck_assert_double_eq_tol(dgn_triplet_loss(df, f, 1, 2, 1.0), log1p(exp(-1.0)), 1e-12);
    /* Extreme margins neither overflow nor lose the gradient's sign. */
    float g[] = {1, 0, 1, 0, -1, 0};
    double l = dgn_triplet_loss(df, g, 1, 2, 1e-3);
    ck_assert(isfinite(l) && l >= 0 && l < 1e-300);
    float h[] = {1, 0, -1, 0, 1, 0};
    l = dgn_triplet_loss(df, h, 1, 2, 1e-3);
    ck_assert_double_eq_tol(l, 2000, 1e-9);
    /* Saturated: dL/da = −(p − n)/τ exactly, not NaN. */
    ck_assert_float_eq_tol(df[0], 2000.0f, 1e-3f);
}
END_TEST

/* On a pool of 1, 2 or 3 threads, over several blocks of triplets: the
 * value and the gradient of the caller's thread, bit for bit. */
START_TEST(loss_on_any_pool_matches_one_thread)
{
    enum { M = 100, K = 8 };
    static float f[3 * M * K], want[3 * M * K], got[3 * M * K];
    static double terms[M];
    unsigned st = 3;
    fill_uniform(f, 3 * M * K, &st, 1.0f);
    double l = dgn_triplet_loss(want, f, M, K, 0.1);
    for (size_t threads = 0; threads <= 3; threads++) {
        dgn_pool *pool = NULL;
        if (threads)
            ck_assert_int_eq(dgn_pool_create(&pool, threads), DGN_OK);
        memset(got, 0, sizeof got);
        double lp = dgn_triplet_loss_on(pool, terms, got, f, M, K, 0.1);
        ck_assert_msg(memcmp(&l, &lp, sizeof l) == 0 && memcmp(want, got, sizeof got) == 0,
                      "%zu threads changed the bits", threads);
        dgn_pool_destroy(pool);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("loss");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, value_and_gradient_by_hand);
    tcase_add_test(tc, gradient_matches_differences);
    tcase_add_test(tc, tau_divides_the_margin);
    tcase_add_test(tc, zero_margin);
    tcase_add_test(tc, extreme_margins_stay_finite);
    tcase_add_test(tc, loss_on_any_pool_matches_one_thread);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
