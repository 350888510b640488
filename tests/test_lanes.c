/* The plane kernels against plain loops, bit for bit, in every build the
 * CPU can run: the builds must agree so that a seed's weights do not
 * depend on the machine. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lanes.h"
#include "testutil.h"

static float uniform(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return (float)(*s >> 8) / 16777216.0f * 2.0f - 1.0f;
}

static int same_bits(const float *a, const float *b, size_t n)
{
    return memcmp(a, b, n * sizeof *a) == 0;
}

/* Sizes that hit every edge: n below, at and past a block of 4 rows
 * (and of 3, in the AVX2 outer product), column counts with and without
 * a 16-lane tail after the 32-lane blocks, and past the AVX-512 outer
 * product's 128-lane chunk: 192 is a chunk of the attention's backward
 * (DGN_FOLD_CHUNK), 208 one with a 16-lane tail. */
static const size_t NS[] = {1, 2, 3, 4, 5, 7, 19};
static const size_t COLS[] = {16, 32, 48, 80, 192, 208};

START_TEST(mix_is_one_fma_chain_per_element)
{
    uint32_t seed = 1;
    for (size_t in_ = 0; in_ < sizeof NS / sizeof *NS; in_++)
        for (size_t ic = 0; ic < sizeof COLS / sizeof *COLS; ic++) {
            size_t n = NS[in_], cols = COLS[ic], ldi = cols + 16, ldo = cols + 48;
            size_t nr = dgn_mix_rows(n);
            float *A = calloc(nr * n, sizeof *A), *in = malloc(n * ldi * sizeof *in);
            float *want = malloc(n * ldo * sizeof *want), *got = malloc(n * ldo * sizeof *got);
            ck_assert(A && in && want && got);
            for (size_t i = 0; i < n * n; i++)
                A[i] = uniform(&seed);
            for (size_t i = 0; i < n * ldi; i++)
                in[i] = uniform(&seed);
            for (size_t i = 0; i < n * ldo; i++)
                want[i] = -7.0f; /* the gaps between rows stay untouched */
            for (size_t i = 0; i < n; i++)
                for (size_t c = 0; c < cols; c++) {
                    float s = 0;
                    for (size_t l = 0; l < n; l++)
                        s = fmaf(A[i * n + l], in[l * ldi + c], s);
                    want[i * ldo + c] = s;
                }
            for (int build = DGN_LANES_PORTABLE; build <= DGN_LANES_BEST; build++) {
                if (dgn_lanes_build(build) < 0)
                    continue;
                for (size_t i = 0; i < n * ldo; i++)
                    got[i] = -7.0f;
                dgn_mix_with(build, got, ldo, A, in, ldi, n, cols);
                ck_assert_msg(same_bits(want, got, n * ldo), "build %d, n %zu, cols %zu",
                              build, n, cols);
            }
            free(A);
            free(in);
            free(want);
            free(got);
        }
}
END_TEST

START_TEST(outer_sums_each_lane_in_sample_order)
{
    uint32_t seed = 2;
    for (size_t in_ = 0; in_ < sizeof NS / sizeof *NS; in_++)
        for (size_t ic = 0; ic < sizeof COLS / sizeof *COLS; ic++) {
            size_t n = NS[in_], L = COLS[ic], lda = L + 16, ldb = 2 * L, nr = dgn_mix_rows(n);
            size_t size = dgn_lane_outer_size(n);
            float *A = malloc(n * lda * sizeof *A), *Bm = malloc(n * ldb * sizeof *Bm);
            float *want = calloc(size, sizeof *want), *got = malloc(size * sizeof *got);
            float *out = malloc(n * n * sizeof *out);
            ck_assert(A && Bm && want && got && out);
            for (size_t i = 0; i < n * lda; i++)
                A[i] = uniform(&seed);
            for (size_t i = 0; i < n * ldb; i++)
                Bm[i] = uniform(&seed);
            /* Two calls accumulate, as the backward pass does. */
            for (int call = 0; call < 2; call++)
                for (size_t j = 0; j < n; j++)
                    for (size_t m = 0; m < n; m++)
                        for (size_t b = 0; b < L; b++) {
                            float *a = want + (j * nr + m) * LANES + b % LANES;
                            *a = fmaf(A[j * lda + b], Bm[m * ldb + b], *a);
                        }
            for (int build = DGN_LANES_PORTABLE; build <= DGN_LANES_BEST; build++) {
                if (dgn_lanes_build(build) < 0)
                    continue;
                memset(got, 0, size * sizeof *got);
                dgn_lane_outer_with(build, got, A, lda, Bm, ldb, n, L);
                dgn_lane_outer_with(build, got, A, lda, Bm, ldb, n, L);
                for (size_t j = 0; j < n; j++)
                    ck_assert_msg(same_bits(want + j * nr * LANES, got + j * nr * LANES,
                                            n * LANES),
                                  "build %d, n %zu, L %zu, row %zu", build, n, L, j);
            }
            /* The reduction adds each lane sum to out, in a fixed tree. */
            for (size_t i = 0; i < n * n; i++)
                out[i] = 0.5f;
            dgn_lane_outer_reduce(out, got, n);
            for (size_t j = 0; j < n; j++)
                for (size_t m = 0; m < n; m++) {
                    double exact = 0;
                    for (size_t b = 0; b < L; b++)
                        exact += 2.0 * A[j * lda + b] * Bm[m * ldb + b];
                    ck_assert_double_eq_tol(out[j * n + m], 0.5 + exact, 1e-4);
                }
            free(A);
            free(Bm);
            free(want);
            free(got);
            free(out);
        }
}
END_TEST

START_TEST(best_build_is_one_the_cpu_runs)
{
    int best = dgn_lanes_build(DGN_LANES_BEST);
    ck_assert_int_ge(best, DGN_LANES_PORTABLE);
    ck_assert_int_lt(best, DGN_LANES_BEST);
    ck_assert_int_eq(dgn_lanes_build(best), best);
    ck_assert_int_eq(dgn_lanes_build(DGN_LANES_PORTABLE), DGN_LANES_PORTABLE);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lanes");
    TCase *tc = tcase_create("kernels");
    tcase_add_test(tc, mix_is_one_fma_chain_per_element);
    tcase_add_test(tc, outer_sums_each_lane_in_sample_order);
    tcase_add_test(tc, best_build_is_one_the_cpu_runs);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
