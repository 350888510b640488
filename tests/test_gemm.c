/* The matrix products against the one summation order, bit for bit, in
 * every build the CPU can run, at shapes that hit every block edge: the
 * promise that results do not depend on the CPU or the thread count
 * rests on this. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gemm.h"
#include "lanes.h"
#include "pool.h"
#include "testutil.h"

static float uniform(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return (float)(*s >> 8) / 16777216.0f * 2.0f - 1.0f;
}

/* s = 0, then one fused multiply-add per p in order; then alpha·s, plus
 * beta·C when beta is not 0. */
static void reference(int ta, int tb, size_t M, size_t N, size_t K, float alpha,
                      const float *A, size_t lda, const float *B, size_t ldb, float beta,
                      float *C, size_t ldc)
{
    for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < N; j++) {
            float s = 0;
            for (size_t p = 0; p < K; p++) {
                float a = ta ? A[p * lda + i] : A[i * lda + p];
                float b = tb ? B[j * ldb + p] : B[p * ldb + j];
                s = fmaf(a, b, s);
            }
            float v = alpha * s;
            if (beta != 0) {
                float u = beta * C[i * ldc + j];
                v = u + v;
            }
            C[i * ldc + j] = v;
        }
}

/* Every tile height (1 to 12; 13, 19, 23 and 25 end in two unequal
 * tiles) and past the 64-row group; columns past every panel (8, 16,
 * 32); depths past the 128-deep chunk. */
static const size_t MS[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 19, 23, 25, 70};
static const size_t NS[] = {1, 7, 9, 16, 17, 33, 70};
static const size_t KS[] = {0, 1, 3, 32, 64, 65, 130};

static void check_shape(int ta, int tb, size_t M, size_t N, size_t K, float alpha, float beta,
                        uint32_t *seed)
{
    size_t ar = ta ? K : M, ac = ta ? M : K, br = tb ? N : K, bc = tb ? K : N;
    size_t lda = ac + 3, ldb = bc + 5, ldc = N + 2;
    float *A = malloc((ar * lda + 1) * sizeof *A), *B = malloc((br * ldb + 1) * sizeof *B);
    float *C0 = malloc(M * ldc * sizeof *C0), *want = malloc(M * ldc * sizeof *want);
    float *got = malloc(M * ldc * sizeof *got);
    ck_assert(A && B && C0 && want && got);
    for (size_t i = 0; i < ar * lda + 1; i++)
        A[i] = uniform(seed);
    for (size_t i = 0; i < br * ldb + 1; i++)
        B[i] = uniform(seed);
    for (size_t i = 0; i < M * ldc; i++)
        /* beta = 0 must not read C: NaN there would show. The gaps
         * between rows must stay untouched. */
        C0[i] = beta == 0 ? NAN : (i % ldc >= N ? -7.0f : uniform(seed));
    memcpy(want, C0, M * ldc * sizeof *want);
    reference(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, want, ldc);
    for (int build = DGN_LANES_PORTABLE; build <= DGN_LANES_BEST; build++) {
        memcpy(got, C0, M * ldc * sizeof *got);
        if (dgn_gemm_with(build, (dgn_trans)ta, (dgn_trans)tb, M, N, K, alpha, A, lda, B, ldb,
                          beta, got, ldc) < 0)
            continue;
        ck_assert_msg(memcmp(want, got, M * ldc * sizeof *got) == 0,
                      "build %d, op %c%c, M %zu N %zu K %zu, alpha %g beta %g", build,
                      ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, (double)alpha, (double)beta);
    }
    free(A);
    free(B);
    free(C0);
    free(want);
    free(got);
}

START_TEST(every_build_sums_in_one_order)
{
    uint32_t seed = (uint32_t)_i + 1;
    int ta = _i & 1, tb = (_i >> 1) & 1;
    for (size_t im = 0; im < sizeof MS / sizeof *MS; im++)
        for (size_t in = 0; in < sizeof NS / sizeof *NS; in++)
            for (size_t ik = 0; ik < sizeof KS / sizeof *KS; ik++) {
                check_shape(ta, tb, MS[im], NS[in], KS[ik], 1.0f, 0.0f, &seed);
                check_shape(ta, tb, MS[im], NS[in], KS[ik], 0.37f, 1.0f, &seed);
            }
}
END_TEST

/* The network's own shapes: 19 components, 32-wide embeddings, a 256
 * hidden layer, batches of 3 x 384 rows. */
START_TEST(network_shapes_sum_in_one_order)
{
    uint32_t seed = 99;
    check_shape(1, 0, 1152, 256, 361, 1.0f, 0.0f, &seed); /* Y1 = Tᵀ·Wf */
    check_shape(0, 0, 361, 256, 1152, 1.0f, 0.0f, &seed); /* dWf = T·dY1 */
    check_shape(0, 1, 361, 1152, 256, 1.0f, 0.0f, &seed); /* dT = Wf·dY1ᵀ */
    check_shape(0, 1, 19, 32, 256, 1.0f, 1.0f, &seed);    /* dEv += dWf_i·W1_iᵀ */
    check_shape(1, 0, 256, 64, 1152, 1.0f, 1.0f, &seed);  /* dW2 += Y1ᵀ·dY2 */
}
END_TEST

/* What the promise is for: the same call gives the same bits whatever
 * else ran before it (no state, no threads). */
START_TEST(repeated_calls_agree)
{
    uint32_t seed = 5;
    size_t M = 37, N = 45, K = 150;
    float *A = malloc(M * K * sizeof *A), *B = malloc(N * K * sizeof *B);
    float *C1 = malloc(M * N * sizeof *C1), *C2 = malloc(M * N * sizeof *C2);
    ck_assert(A && B && C1 && C2);
    for (size_t i = 0; i < M * K; i++)
        A[i] = uniform(&seed);
    for (size_t i = 0; i < N * K; i++)
        B[i] = uniform(&seed);
    dgn_gemm(DGN_NOTRANS, DGN_TRANS, M, N, K, 1.0f, A, K, B, K, 0.0f, C1, N);
    for (int r = 0; r < 3; r++) {
        dgn_gemm(DGN_NOTRANS, DGN_TRANS, M, N, K, 1.0f, A, K, B, K, 0.0f, C2, N);
        ck_assert(memcmp(C1, C2, M * N * sizeof *C1) == 0);
    }
    free(A);
    free(B);
    free(C1);
    free(C2);
}
END_TEST

/* Columns (or, 64 wide and narrower, rows) shared among threads: the same
 * bits as one thread, for each operand layout, at widths that do and do
 * not split into whole panels. */
START_TEST(threads_give_the_same_bits)
{
    uint32_t seed = 11;
    static const size_t shapes[][3] = {{150, 256, 90}, {97, 1000, 33}, {361, 77, 130},
                                       {64, 64, 256}, {384, 64, 256}, {256, 64, 384}};
    for (size_t threads = 2; threads <= 3; threads++) {
        dgn_pool *pool = NULL;
        ck_assert_int_eq(dgn_pool_create(&pool, threads), DGN_OK);
        ck_assert_uint_eq(dgn_pool_threads(pool), threads);
        for (size_t sh = 0; sh < sizeof shapes / sizeof *shapes; sh++)
            for (int op = 0; op < 4; op++) {
                int ta = op & 1, tb = op >> 1;
                size_t M = shapes[sh][0], N = shapes[sh][1], K = shapes[sh][2];
                size_t lda = ta ? M : K, ldb = tb ? K : N;
                float *A = malloc(M * K * sizeof *A), *B = malloc(N * K * sizeof *B);
                float *one = malloc(M * N * sizeof *one), *many = malloc(M * N * sizeof *many);
                ck_assert(A && B && one && many);
                for (size_t i = 0; i < M * K; i++)
                    A[i] = uniform(&seed);
                for (size_t i = 0; i < N * K; i++)
                    B[i] = uniform(&seed);
                for (size_t i = 0; i < M * N; i++)
                    one[i] = many[i] = uniform(&seed);
                dgn_gemm((dgn_trans)ta, (dgn_trans)tb, M, N, K, 0.5f, A, lda, B, ldb, 1.0f,
                         one, N);
                dgn_gemm_on(pool, (dgn_trans)ta, (dgn_trans)tb, M, N, K, 0.5f, A, lda, B, ldb,
                            1.0f, many, N);
                ck_assert_msg(memcmp(one, many, M * N * sizeof *one) == 0,
                              "%zu threads, op %d, %zu x %zu x %zu", threads, op, M, N, K);
                free(A);
                free(B);
                free(one);
                free(many);
            }
        dgn_pool_destroy(pool);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gemm");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, every_build_sums_in_one_order, 0, 4);
    tcase_add_test(tc, network_shapes_sum_in_one_order);
    tcase_add_test(tc, repeated_calls_agree);
    tcase_add_test(tc, threads_give_the_same_bits);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
