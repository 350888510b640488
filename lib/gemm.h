/* Private: the matrix products of the network, with one summation order.
 *
 * C = alpha·op(A)·op(B) + beta·C, row-major, as cblas_sgemm, except that
 * every element's sum is fixed: s = 0, then s = fma(a_ip, b_pj, s) for
 * p = 0 … K−1 in order, then C_ij = alpha·s (beta = 0: C is not read) or
 * beta·C_ij + alpha·s, each product and the sum rounded once. Every
 * build (AVX-512, AVX2 with FMA, portable) and every blocking performs
 * exactly these operations, and nothing runs on other threads, so the
 * result does not depend on the CPU, the thread count or a BLAS library's
 * choice of kernel: this is what makes a seed's weights and a screen's
 * scores the same everywhere (docs/api.md, "Reproducibility").
 *
 * Nothing is allocated; op(B) = Bᵀ is packed in 24 KiB of stack.
 */
#ifndef DGN_LIB_GEMM_H
#define DGN_LIB_GEMM_H

#include <stddef.h>

typedef enum dgn_trans { DGN_NOTRANS = 0, DGN_TRANS = 1 } dgn_trans;

void dgn_gemm(dgn_trans ta, dgn_trans tb, size_t M, size_t N, size_t K, float alpha,
              const float *A, size_t lda, const float *B, size_t ldb, float beta, float *C,
              size_t ldc);

/* The same product with its columns (or, when it has at most 64, its
 * rows) shared among a pool's threads (pool.h; NULL or one thread:
 * dgn_gemm). Each element is computed as above, so the
 * result does not depend on the thread count. */
typedef struct dgn_pool dgn_pool;
void dgn_gemm_on(dgn_pool *pool, dgn_trans ta, dgn_trans tb, size_t M, size_t N, size_t K,
                 float alpha, const float *A, size_t lda, const float *B, size_t ldb,
                 float beta, float *C, size_t ldc);

/* The same product by one build (DGN_LANES_* of lanes.h), for the tests
 * that hold every build to the same bits; a build this CPU cannot run
 * does nothing and returns -1. */
int dgn_gemm_with(int build, dgn_trans ta, dgn_trans tb, size_t M, size_t N, size_t K,
                  float alpha, const float *A, size_t lda, const float *B, size_t ldb,
                  float beta, float *C, size_t ldc);

#endif
