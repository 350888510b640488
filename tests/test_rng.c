/* The handle's generator: the published algorithm from a seed, streams that
 * do not interact, the moments of each distribution within five standard
 * errors (the seeds are fixed, so a pass is repeatable, and a wrong
 * distribution is far outside), the ranges of the draws. */
#include <math.h>
#include <string.h>

#include "rng.h"
#include "testutil.h"

enum { N = 200000 };

/* splitmix64 then xoshiro256**, computed independently (in Python from
 * Vigna's reference code): the stream the seed-2024 runs depend on. */
START_TEST(seed_gives_the_reference_stream)
{
    static const struct {
        uint64_t seed, s0, out[4];
    } ref[] = {
        {0, 0xe220a8397b1dcdafULL,
         {0x99ec5f36cb75f2b4ULL, 0xbf6e1f784956452aULL, 0x1a5f849d4933e6e0ULL,
          0x6aa594f1262d2d2cULL}},
        {2024, 0x9f6d8fecf88eecd5ULL,
         {0x0e48715a13d7772eULL, 0xc837f3ee8a7a1065ULL, 0x1272314b15ee5001ULL,
          0x28e323a6abe2a46bULL}},
    };
    for (size_t k = 0; k < sizeof ref / sizeof *ref; k++) {
        dgn_rng r;
        dgn_rng_seed(&r, ref[k].seed);
        ck_assert_uint_eq(r.s[0], ref[k].s0);
        for (int i = 0; i < 4; i++)
            ck_assert_msg(dgn_rng_next(&r) == ref[k].out[i], "seed %llu, draw %d",
                          (unsigned long long)ref[k].seed, i);
    }
}
END_TEST

/* Reseeding restarts every distribution, the normal's kept spare included. */
START_TEST(same_seed_same_draws)
{
    dgn_rng a, b;
    memset(&a, 0, sizeof a); /* no stale spare to hide a reseed that keeps one */
    memset(&b, 0, sizeof b);
    dgn_rng_seed(&a, 7);
    (void)dgn_rng_normal(&a); /* leaves a spare behind */
    dgn_rng_seed(&a, 7);
    dgn_rng_seed(&b, 7);
    for (int i = 0; i < 1000; i++) {
        double za = dgn_rng_normal(&a), zb = dgn_rng_normal(&b);
        ck_assert(memcmp(&za, &zb, sizeof za) == 0);
        ck_assert(dgn_rng_uniform(&a) == dgn_rng_uniform(&b));
        ck_assert_uint_eq(dgn_rng_below(&a, 1000 + (uint64_t)i),
                          dgn_rng_below(&b, 1000 + (uint64_t)i));
    }
    size_t ia[40], ib[40];
    for (size_t i = 0; i < 40; i++)
        ia[i] = ib[i] = i;
    dgn_rng_shuffle(&a, ia, 40);
    dgn_rng_shuffle(&b, ib, 40);
    ck_assert(memcmp(ia, ib, sizeof ia) == 0);
}
END_TEST

/* Drawing from one handle leaves another's stream as it was, and the
 * streams of neighbouring seeds are uncorrelated. */
START_TEST(streams_are_independent)
{
    dgn_rng a, b, alone;
    dgn_rng_seed(&a, 1);
    dgn_rng_seed(&b, 2);
    dgn_rng_seed(&alone, 2);
    double sab = 0, sa = 0, sb = 0, saa = 0, sbb = 0;
    for (int i = 0; i < N; i++) {
        double u = dgn_rng_uniform(&a);
        (void)dgn_rng_normal(&a);
        double v = dgn_rng_uniform(&b);
        ck_assert(v == dgn_rng_uniform(&alone));
        sa += u;
        sb += v;
        sab += u * v;
        saa += u * u;
        sbb += v * v;
    }
    double cov = sab / N - (sa / N) * (sb / N);
    double corr = cov / sqrt((saa / N - (sa / N) * (sa / N)) * (sbb / N - (sb / N) * (sb / N)));
    /* The standard error of a correlation near 0 is 1/√N. */
    ck_assert_double_lt(fabs(corr), 5 / sqrt(N));
    /* Seeds 1 and 2 share no draws. */
    dgn_rng_seed(&a, 1);
    dgn_rng_seed(&b, 2);
    for (int i = 0; i < 1000; i++)
        ck_assert_uint_ne(dgn_rng_next(&a), dgn_rng_next(&b));
}
END_TEST

START_TEST(uniform_range_and_moments)
{
    dgn_rng r;
    dgn_rng_seed(&r, 11);
    double s = 0, s2 = 0, lag = 0, prev = 0.5, lo = 1, hi = 0;
    for (int i = 0; i < N; i++) {
        double u = dgn_rng_uniform(&r);
        ck_assert(u >= 0 && u < 1);
        /* 53 random bits: u is a whole multiple of 2^-53. */
        double scaled = u * 0x1.0p53;
        ck_assert(scaled == floor(scaled));
        lo = fmin(lo, u);
        hi = fmax(hi, u);
        s += u - 0.5;
        s2 += (u - 0.5) * (u - 0.5);
        lag += (u - 0.5) * (prev - 0.5);
        prev = u;
    }
    /* Per draw: sd 1/√12 for u, sd √(1/80 − 1/144) for (u − ½)². */
    ck_assert_double_lt(fabs(s / N), 5 * sqrt(1.0 / 12 / N));
    ck_assert_double_lt(fabs(s2 / N - 1.0 / 12), 5 * sqrt((1.0 / 80 - 1.0 / 144) / N));
    ck_assert_double_lt(fabs(lag / N), 5 * (1.0 / 12) / sqrt(N));
    /* Both ends are reached: P(min > 20/N) ≈ e^-20. */
    ck_assert_double_lt(lo, 20.0 / N);
    ck_assert_double_gt(hi, 1 - 20.0 / N);
}
END_TEST

START_TEST(normal_moments)
{
    dgn_rng r;
    dgn_rng_seed(&r, 1);
    double m[5] = {0}, lag = 0, prev = 0;
    for (int i = 0; i < N; i++) {
        double z = dgn_rng_normal(&r);
        ck_assert(isfinite(z));
        double p = 1;
        for (int k = 1; k <= 4; k++)
            m[k] += (p *= z);
        lag += z * prev; /* calls pair up: one draw's two deviates */
        prev = z;
    }
    for (int k = 1; k <= 4; k++)
        m[k] /= N;
    /* E z^k = 0, 1, 0, 3; Var z^k = 1, 2, 15, 96. */
    ck_assert_double_lt(fabs(m[1]), 5 * sqrt(1.0 / N));
    ck_assert_double_lt(fabs(m[2] - 1), 5 * sqrt(2.0 / N));
    ck_assert_double_lt(fabs(m[3]), 5 * sqrt(15.0 / N));
    ck_assert_double_lt(fabs(m[4] - 3), 5 * sqrt(96.0 / N));
    ck_assert_double_lt(fabs(lag / N), 5 * sqrt(1.0 / N));
}
END_TEST

/* χ² with k − 1 degrees of freedom has mean k − 1 and sd √(2(k − 1)). */
static double chi2_bound(size_t k)
{
    return (double)(k - 1) + 5 * sqrt(2.0 * (double)(k - 1));
}

START_TEST(below_range_and_uniformity)
{
    dgn_rng r;
    dgn_rng_seed(&r, 5);
    for (int i = 0; i < 100; i++)
        ck_assert_uint_eq(dgn_rng_below(&r, 1), 0);
    /* n = 3·2^62: a quarter of the raw draws are rejected; without the
     * rejection, v mod n would put half the draws below n/3. */
    uint64_t big = 3ULL << 62;
    int low = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t v = dgn_rng_below(&r, big);
        ck_assert_uint_lt(v, big);
        low += v < big / 3;
    }
    /* Binomial(1000, 1/3): sd 15. */
    ck_assert_int_gt(low, 333 - 75);
    ck_assert_int_lt(low, 333 + 75);
    /* n = 7 does not divide 2^64: the rejection keeps it unbiased. */
    size_t hist[7] = {0};
    for (int i = 0; i < N; i++) {
        uint64_t v = dgn_rng_below(&r, 7);
        ck_assert_uint_lt(v, 7);
        hist[v]++;
    }
    double chi2 = 0, e = N / 7.0;
    for (int k = 0; k < 7; k++)
        chi2 += (hist[k] - e) * (hist[k] - e) / e;
    ck_assert_double_lt(chi2, chi2_bound(7));
}
END_TEST

/* Every one of the 24 orders of 4 items equally likely; 0 and 1 items
 * untouched. */
START_TEST(shuffle_is_a_uniform_permutation)
{
    dgn_rng r;
    dgn_rng_seed(&r, 3);
    size_t one = 9;
    dgn_rng_shuffle(&r, &one, 1);
    ck_assert_uint_eq(one, 9);
    dgn_rng_shuffle(&r, NULL, 0);
    enum { M = 48000 };
    size_t count[256] = {0};
    for (int t = 0; t < M; t++) {
        size_t idx[4] = {0, 1, 2, 3}, seen = 0, code = 0;
        dgn_rng_shuffle(&r, idx, 4);
        for (int i = 0; i < 4; i++) {
            seen |= (size_t)1 << idx[i];
            code = code * 4 + idx[i];
        }
        ck_assert_uint_eq(seen, 15);
        count[code]++;
    }
    double chi2 = 0, e = M / 24.0;
    size_t orders = 0;
    for (size_t c = 0; c < 256; c++)
        if (count[c]) {
            orders++;
            chi2 += (count[c] - e) * (count[c] - e) / e;
        }
    ck_assert_uint_eq(orders, 24);
    ck_assert_double_lt(chi2, chi2_bound(24));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rng");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, seed_gives_the_reference_stream);
    tcase_add_test(tc, same_seed_same_draws);
    tcase_add_test(tc, streams_are_independent);
    tcase_add_test(tc, uniform_range_and_moments);
    tcase_add_test(tc, normal_moments);
    tcase_add_test(tc, below_range_and_uniformity);
    tcase_add_test(tc, shuffle_is_a_uniform_permutation);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
