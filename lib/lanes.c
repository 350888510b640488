#include "lanes.h"

#include <math.h>

#include "isa.h"

#ifdef DGN_HAVE_ISA_DISPATCH
#include <immintrin.h>
#endif

/* The same sums in every build: each element of a mix starts from 0 and
 * takes one fused multiply-add per l, in order; each lane sum of an outer
 * product takes one per sample, in order. The vector builds are written
 * with intrinsics because GCC keeps the accumulators of the portable
 * loops in memory, and stores then bound them. */

static void mix_portable(float *restrict out, size_t ldo, const float *restrict A,
                         const float *restrict in, size_t ldi, size_t n, size_t cols)
{
    for (size_t c = 0; c < cols; c += LANES)
        for (size_t i = 0; i < n; i++) {
            float acc[LANES] = {0};
            for (size_t l = 0; l < n; l++)
                for (size_t v = 0; v < LANES; v++)
                    acc[v] = fmaf(A[i * n + l], in[l * ldi + c + v], acc[v]);
            for (size_t v = 0; v < LANES; v++)
                out[i * ldo + c + v] = acc[v];
        }
}

static void outer_portable(float *restrict acc, const float *restrict A, size_t lda,
                           const float *restrict B, size_t ldb, size_t n, size_t L)
{
    size_t nr = dgn_mix_rows(n);
    for (size_t j = 0; j < n; j++)
        for (size_t m = 0; m < n; m++) {
            float *a = acc + (j * nr + m) * LANES;
            for (size_t b = 0; b < L; b += LANES)
                for (size_t v = 0; v < LANES; v++)
                    a[v] = fmaf(A[j * lda + b + v], B[m * ldb + b + v], a[v]);
        }
}

#ifdef DGN_HAVE_ISA_DISPATCH
/* Rows past n of a 4-row block repeat row n - 1: their sums land in the
 * padding of acc, and no row outside the operands is read. */
static size_t clamp_row(size_t r, size_t n)
{
    return r < n ? r : n - 1;
}

/* Blocks of 4 rows by 32 columns: 8 independent accumulator chains cover
 * the FMA latency at two FMAs per cycle. */
__attribute__((target("avx512f"))) static void
mix_avx512(float *restrict out, size_t ldo, const float *restrict A, const float *restrict in,
           size_t ldi, size_t n, size_t cols)
{
    size_t c = 0;
    for (; c + 32 <= cols; c += 32)
        for (size_t i0 = 0; i0 < n; i0 += 4) {
            const float *A0 = A + i0 * n, *src = in + c;
            __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
            __m512 b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            for (size_t l = 0; l < n; l++, src += ldi) {
                __m512 s = _mm512_loadu_ps(src), t = _mm512_loadu_ps(src + 16);
                __m512 m0 = _mm512_set1_ps(A0[l]), m1 = _mm512_set1_ps(A0[n + l]);
                __m512 m2 = _mm512_set1_ps(A0[2 * n + l]), m3 = _mm512_set1_ps(A0[3 * n + l]);
                a0 = _mm512_fmadd_ps(m0, s, a0);
                b0 = _mm512_fmadd_ps(m0, t, b0);
                a1 = _mm512_fmadd_ps(m1, s, a1);
                b1 = _mm512_fmadd_ps(m1, t, b1);
                a2 = _mm512_fmadd_ps(m2, s, a2);
                b2 = _mm512_fmadd_ps(m2, t, b2);
                a3 = _mm512_fmadd_ps(m3, s, a3);
                b3 = _mm512_fmadd_ps(m3, t, b3);
            }
            float *o = out + i0 * ldo + c;
            size_t rows = n - i0;
            _mm512_storeu_ps(o, a0);
            _mm512_storeu_ps(o + 16, b0);
            if (rows > 1) {
                _mm512_storeu_ps(o + ldo, a1);
                _mm512_storeu_ps(o + ldo + 16, b1);
            }
            if (rows > 2) {
                _mm512_storeu_ps(o + 2 * ldo, a2);
                _mm512_storeu_ps(o + 2 * ldo + 16, b2);
            }
            if (rows > 3) {
                _mm512_storeu_ps(o + 3 * ldo, a3);
                _mm512_storeu_ps(o + 3 * ldo + 16, b3);
            }
        }
    for (; c < cols; c += 16)
        for (size_t i0 = 0; i0 < n; i0 += 4) {
            const float *A0 = A + i0 * n, *src = in + c;
            __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
            for (size_t l = 0; l < n; l++, src += ldi) {
                __m512 s = _mm512_loadu_ps(src);
                a0 = _mm512_fmadd_ps(_mm512_set1_ps(A0[l]), s, a0);
                a1 = _mm512_fmadd_ps(_mm512_set1_ps(A0[n + l]), s, a1);
                a2 = _mm512_fmadd_ps(_mm512_set1_ps(A0[2 * n + l]), s, a2);
                a3 = _mm512_fmadd_ps(_mm512_set1_ps(A0[3 * n + l]), s, a3);
            }
            float *o = out + i0 * ldo + c;
            size_t rows = n - i0;
            _mm512_storeu_ps(o, a0);
            if (rows > 1)
                _mm512_storeu_ps(o + ldo, a1);
            if (rows > 2)
                _mm512_storeu_ps(o + 2 * ldo, a2);
            if (rows > 3)
                _mm512_storeu_ps(o + 3 * ldo, a3);
        }
}

/* Blocks of 4 rows of A by 4 of B: 16 accumulators, 8 loads per 16 FMAs;
 * the lanes in chunks whose rows of A and B stay in L1 across blocks. */
#define OUTER_CHUNK 128

__attribute__((target("avx512f"))) static void
outer_avx512(float *restrict acc, const float *restrict A, size_t lda,
             const float *restrict B, size_t ldb, size_t n, size_t L)
{
    size_t nr = dgn_mix_rows(n);
    for (size_t c = 0; c < L; c += OUTER_CHUNK) {
        size_t end = L - c < OUTER_CHUNK ? L : c + OUTER_CHUNK;
        for (size_t j0 = 0; j0 < n; j0 += 4)
            for (size_t m0 = 0; m0 < n; m0 += 4) {
                const float *a[4], *bb[4];
                __m512 s[4][4];
                for (size_t u = 0; u < 4; u++) {
                    a[u] = A + clamp_row(j0 + u, n) * lda;
                    bb[u] = B + clamp_row(m0 + u, n) * ldb;
                    for (size_t w = 0; w < 4; w++)
                        s[u][w] = _mm512_loadu_ps(acc + ((j0 + u) * nr + m0 + w) * LANES);
                }
                for (size_t b = c; b < end; b += LANES) {
                    __m512 x0 = _mm512_loadu_ps(a[0] + b), x1 = _mm512_loadu_ps(a[1] + b);
                    __m512 x2 = _mm512_loadu_ps(a[2] + b), x3 = _mm512_loadu_ps(a[3] + b);
                    for (size_t w = 0; w < 4; w++) {
                        __m512 y = _mm512_loadu_ps(bb[w] + b);
                        s[0][w] = _mm512_fmadd_ps(x0, y, s[0][w]);
                        s[1][w] = _mm512_fmadd_ps(x1, y, s[1][w]);
                        s[2][w] = _mm512_fmadd_ps(x2, y, s[2][w]);
                        s[3][w] = _mm512_fmadd_ps(x3, y, s[3][w]);
                    }
                }
                for (size_t u = 0; u < 4; u++)
                    for (size_t w = 0; w < 4; w++)
                        _mm512_storeu_ps(acc + ((j0 + u) * nr + m0 + w) * LANES, s[u][w]);
            }
    }
}

/* Blocks of 4 rows by 16 columns: 8 chains in 16 registers. */
__attribute__((target("avx2,fma"))) static void
mix_avx2(float *restrict out, size_t ldo, const float *restrict A, const float *restrict in,
         size_t ldi, size_t n, size_t cols)
{
    for (size_t c = 0; c < cols; c += 16)
        for (size_t i0 = 0; i0 < n; i0 += 4) {
            const float *A0 = A + i0 * n, *src = in + c;
            __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
            __m256 b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            for (size_t l = 0; l < n; l++, src += ldi) {
                __m256 s = _mm256_loadu_ps(src), t = _mm256_loadu_ps(src + 8);
                __m256 m0 = _mm256_broadcast_ss(A0 + l), m1 = _mm256_broadcast_ss(A0 + n + l);
                __m256 m2 = _mm256_broadcast_ss(A0 + 2 * n + l);
                __m256 m3 = _mm256_broadcast_ss(A0 + 3 * n + l);
                a0 = _mm256_fmadd_ps(m0, s, a0);
                b0 = _mm256_fmadd_ps(m0, t, b0);
                a1 = _mm256_fmadd_ps(m1, s, a1);
                b1 = _mm256_fmadd_ps(m1, t, b1);
                a2 = _mm256_fmadd_ps(m2, s, a2);
                b2 = _mm256_fmadd_ps(m2, t, b2);
                a3 = _mm256_fmadd_ps(m3, s, a3);
                b3 = _mm256_fmadd_ps(m3, t, b3);
            }
            float *o = out + i0 * ldo + c;
            size_t rows = n - i0;
            _mm256_storeu_ps(o, a0);
            _mm256_storeu_ps(o + 8, b0);
            if (rows > 1) {
                _mm256_storeu_ps(o + ldo, a1);
                _mm256_storeu_ps(o + ldo + 8, b1);
            }
            if (rows > 2) {
                _mm256_storeu_ps(o + 2 * ldo, a2);
                _mm256_storeu_ps(o + 2 * ldo + 8, b2);
            }
            if (rows > 3) {
                _mm256_storeu_ps(o + 3 * ldo, a3);
                _mm256_storeu_ps(o + 3 * ldo + 8, b3);
            }
        }
}

/* Blocks of 2 rows of A by 3 of B, each lane group of 16 as two halves:
 * 12 accumulators in 16 registers. Rows of A come in pairs and acc has
 * a multiple of 4 rows, so only a block's columns can pass its end. */
__attribute__((target("avx2,fma"))) static void
outer_avx2(float *restrict acc, const float *restrict A, size_t lda,
           const float *restrict B, size_t ldb, size_t n, size_t L)
{
    size_t nr = dgn_mix_rows(n);
    for (size_t j0 = 0; j0 < n; j0 += 2)
        for (size_t m0 = 0; m0 < n; m0 += 3) {
            const float *a[2], *bb[3];
            __m256 s[2][3][2];
            for (size_t u = 0; u < 2; u++)
                a[u] = A + clamp_row(j0 + u, n) * lda;
            for (size_t w = 0; w < 3; w++)
                bb[w] = B + clamp_row(m0 + w, n) * ldb;
            for (size_t u = 0; u < 2; u++)
                for (size_t w = 0; w < 3; w++)
                    for (size_t hf = 0; hf < 2; hf++)
                        s[u][w][hf] = m0 + w < nr
                            ? _mm256_loadu_ps(acc + ((j0 + u) * nr + m0 + w) * LANES + 8 * hf)
                            : _mm256_setzero_ps();
            for (size_t b = 0; b < L; b += LANES)
                for (size_t hf = 0; hf < 2; hf++) {
                    __m256 x0 = _mm256_loadu_ps(a[0] + b + 8 * hf);
                    __m256 x1 = _mm256_loadu_ps(a[1] + b + 8 * hf);
                    for (size_t w = 0; w < 3; w++) {
                        __m256 y = _mm256_loadu_ps(bb[w] + b + 8 * hf);
                        s[0][w][hf] = _mm256_fmadd_ps(x0, y, s[0][w][hf]);
                        s[1][w][hf] = _mm256_fmadd_ps(x1, y, s[1][w][hf]);
                    }
                }
            for (size_t u = 0; u < 2; u++)
                for (size_t w = 0; w < 3; w++)
                    if (m0 + w < nr)
                        for (size_t hf = 0; hf < 2; hf++)
                            _mm256_storeu_ps(acc + ((j0 + u) * nr + m0 + w) * LANES + 8 * hf,
                                             s[u][w][hf]);
        }
}
#endif

int dgn_lanes_build(int build)
{
#ifdef DGN_HAVE_ISA_DISPATCH
    __builtin_cpu_init();
    int avx512 = __builtin_cpu_supports("avx512f");
    int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (build == DGN_LANES_BEST)
        return avx512 ? DGN_LANES_AVX512 : avx2 ? DGN_LANES_AVX2 : DGN_LANES_PORTABLE;
    if (build == DGN_LANES_AVX512)
        return avx512 ? build : -1;
    if (build == DGN_LANES_AVX2)
        return avx2 ? build : -1;
#else
    if (build == DGN_LANES_BEST)
        return DGN_LANES_PORTABLE;
#endif
    return build == DGN_LANES_PORTABLE ? build : -1;
}

void dgn_mix_with(int build, float *restrict out, size_t ldo, const float *restrict A,
                  const float *restrict in, size_t ldi, size_t n, size_t cols)
{
    switch (dgn_lanes_build(build)) {
#ifdef DGN_HAVE_ISA_DISPATCH
    case DGN_LANES_AVX512:
        mix_avx512(out, ldo, A, in, ldi, n, cols);
        return;
    case DGN_LANES_AVX2:
        mix_avx2(out, ldo, A, in, ldi, n, cols);
        return;
#endif
    case DGN_LANES_PORTABLE:
        mix_portable(out, ldo, A, in, ldi, n, cols);
        return;
    }
}

void dgn_mix(float *restrict out, size_t ldo, const float *restrict A,
             const float *restrict in, size_t ldi, size_t n, size_t cols)
{
    dgn_mix_with(DGN_LANES_BEST, out, ldo, A, in, ldi, n, cols);
}

void dgn_lane_outer_with(int build, float *restrict acc, const float *restrict A, size_t lda,
                         const float *restrict B, size_t ldb, size_t n, size_t L)
{
    switch (dgn_lanes_build(build)) {
#ifdef DGN_HAVE_ISA_DISPATCH
    case DGN_LANES_AVX512:
        outer_avx512(acc, A, lda, B, ldb, n, L);
        return;
    case DGN_LANES_AVX2:
        outer_avx2(acc, A, lda, B, ldb, n, L);
        return;
#endif
    case DGN_LANES_PORTABLE:
        outer_portable(acc, A, lda, B, ldb, n, L);
        return;
    }
}

void dgn_lane_outer(float *restrict acc, const float *restrict A, size_t lda,
                    const float *restrict B, size_t ldb, size_t n, size_t L)
{
    dgn_lane_outer_with(DGN_LANES_BEST, acc, A, lda, B, ldb, n, L);
}

void dgn_lane_outer_reduce(float *out, float *acc, size_t n)
{
    size_t nr = dgn_mix_rows(n);
    for (size_t j = 0; j < n; j++)
        for (size_t m = 0; m < n; m++) {
            float *a = acc + (j * nr + m) * LANES;
            for (size_t w = LANES / 2; w > 0; w /= 2)
                for (size_t v = 0; v < w; v++)
                    a[v] += a[v + w];
            out[j * n + m] += a[0];
        }
}
