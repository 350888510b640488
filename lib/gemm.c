#include "gemm.h"

#include <math.h>
#include <string.h>

#include "isa.h"
#include "lanes.h"
#include "pool.h"

#ifdef DGN_HAVE_ISA_DISPATCH
#include <immintrin.h>
#endif

/* Bᵀ is packed KC deep, and the old C of a group of at most GROUP rows is
 * kept aside while a sum deeper than KC passes through C: 24 KiB of stack
 * at most, so any thread can call this. */
#define KC 128
#define GROUP 64

/* Rows of Aᵀ (A transposed: MR floats per step of p) lie lda floats
 * apart, a new page every few steps, and when half of Aᵀ was just written
 * by the other core the hardware prefetchers fall behind. Asking for the
 * rows DGN_GEMM_A_AHEAD steps ahead speeds up the products that read Aᵀ
 * (the folded projection's forward, W2's gradient) on 2 threads
 * (`build/bench/products`, which runs the best build the CPU has: the
 * AVX2 build does the same, measured on AVX-512 only). No arithmetic
 * changes. */
#ifndef DGN_GEMM_A_AHEAD /* bench/products builds this file again with 0 */
#define DGN_GEMM_A_AHEAD 16
#endif

/* The one order, written plainly: the reference every build must match. */
static void gemm_portable(dgn_trans ta, dgn_trans tb, size_t M, size_t N, size_t K,
                          float alpha, const float *A, size_t lda, const float *B, size_t ldb,
                          float beta, float *C, size_t ldc)
{
    size_t ars = ta ? 1 : lda, acs = ta ? lda : 1, bcs = tb ? ldb : 1, brs = tb ? 1 : ldb;
    for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < N; j++) {
            float s = 0;
            for (size_t p = 0; p < K; p++)
                s = fmaf(A[i * ars + p * acs], B[p * brs + j * bcs], s);
            float v = alpha * s;
            if (beta != 0)
                v = beta * C[i * ldc + j] + v;
            C[i * ldc + j] = v;
        }
}

#ifdef DGN_HAVE_ISA_DISPATCH
/* A tile of MR rows by NV vectors of C. a(r, p) is a[r·ars + p·acs], row
 * p of op(B) is b + p·ldb. init: the sums start from C's raw partial sums
 * (an earlier chunk of p) instead of 0; fin: C gets beta·old + alpha·s,
 * old read from o (o = C unless C holds partial sums), else the raw s. */
typedef struct tile_args {
    const float *a;
    size_t ars, acs;
    const float *b;
    size_t ldb, K;
    float *c;
    size_t ldc;
    const float *o;
    size_t ldo;
    float alpha, beta;
    int init, fin;
} tile_args;

/* The rows of the next AVX-512 tile: 12 while 24 or more are left, then
 * the rest in one tile or two halves. A tile keeps 2 sums a row in
 * flight, and one of 1 or 2 rows keeps too few to hide the FMA latency:
 * the fold's 19-row products (lib/folded.c) ran 1.2-1.3x as long split
 * 12, 4, 2, 1 as split 10, 9. (The AVX2 build's 6, 6, 6, 1 measured no
 * slower than 6, 6, 4, 3, and stays.) */
static size_t tile_height(size_t left)
{
    if (left >= 24 || left == 12)
        return 12;
    return left > 12 ? (left + 1) / 2 : left;
}

/* AVX-512: 12 rows by 32 columns, 24 accumulators of the 32 registers;
 * tails by masks. The accumulators are named, not an array: GCC keeps an
 * array of vectors this large in memory, and the stores then bound the
 * loop. */
#define ROWS12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

__attribute__((target("avx512f"))) static DGN_ALWAYS_INLINE __m512
finish_avx512(__m512 y, const tile_args *t, size_t r, size_t v, const int FULL, __mmask16 m)
{
    if (!t->fin)
        return y;
    y = _mm512_mul_ps(_mm512_set1_ps(t->alpha), y);
    if (t->beta != 0) {
        const float *o = t->o + r * t->ldo + 16 * v;
        __m512 old = FULL ? _mm512_loadu_ps(o) : _mm512_maskz_loadu_ps(m, o);
        y = _mm512_add_ps(_mm512_mul_ps(_mm512_set1_ps(t->beta), old), y);
    }
    return y;
}

/* FULL: a whole 32-column panel, read and written without masks (GCC
 * otherwise keeps the masks, and a B vector, on the stack). */
__attribute__((target("avx512f"))) static DGN_ALWAYS_INLINE void
tile_avx512(const size_t MR, const size_t NV, const int FULL, const tile_args *t, __mmask16 m0,
            __mmask16 m1)
{
#define LOAD(m, src) (FULL ? _mm512_loadu_ps(src) : _mm512_maskz_loadu_ps(m, src))
#define SAVE(m, dst, v) (FULL ? _mm512_storeu_ps(dst, v) : _mm512_mask_storeu_ps(dst, m, v))
#define DECL(r) __m512 a##r = _mm512_setzero_ps(), b##r = a##r;
    ROWS12(DECL)
#undef DECL
    if (t->init) {
#define INIT(r)                                                                        \
    if (MR > r) {                                                                      \
        a##r = LOAD(m0, t->c + r * t->ldc);                                            \
        if (NV > 1)                                                                    \
            b##r = LOAD(m1, t->c + r * t->ldc + 16);                                   \
    }
        ROWS12(INIT)
#undef INIT
    }
    const float *ap = t->a, *bp = t->b;
    size_t ars = t->ars, acs = t->acs, ldb = t->ldb;
    for (size_t p = 0; p < t->K; p++, ap += acs, bp += ldb) {
        if (DGN_GEMM_A_AHEAD && ars == 1 && p + DGN_GEMM_A_AHEAD < t->K) {
            _mm_prefetch((const char *)(ap + DGN_GEMM_A_AHEAD * acs), _MM_HINT_T0);
            _mm_prefetch((const char *)(ap + DGN_GEMM_A_AHEAD * acs + MR - 1), _MM_HINT_T0);
        }
        __m512 y0 = LOAD(m0, bp);
        __m512 y1 = NV > 1 ? LOAD(m1, bp + 16) : y0;
#define FMA(r)                                                                         \
    if (MR > r) {                                                                      \
        __m512 x = _mm512_set1_ps(ap[r * ars]);                                        \
        a##r = _mm512_fmadd_ps(x, y0, a##r);                                           \
        if (NV > 1)                                                                    \
            b##r = _mm512_fmadd_ps(x, y1, b##r);                                       \
    }
        ROWS12(FMA)
#undef FMA
    }
#define STORE(r)                                                                       \
    if (MR > r) {                                                                      \
        SAVE(m0, t->c + r * t->ldc, finish_avx512(a##r, t, r, 0, FULL, m0));           \
        if (NV > 1)                                                                    \
            SAVE(m1, t->c + r * t->ldc + 16, finish_avx512(b##r, t, r, 1, FULL, m1));  \
    }
    ROWS12(STORE)
#undef STORE
#undef LOAD
#undef SAVE
}

/* A tile of MR rows, MR a constant in each function so that the
 * accumulators stay in registers; one function per height, not one
 * inlined switch: clang with the sanitizers (the fuzzing build) took over
 * ten minutes to compile the twelve heights inlined into one function. */
#define TILE_OF_HEIGHT(MR)                                                             \
    __attribute__((target("avx512f"), noinline)) static void tile##MR##_avx512(          \
        const tile_args *t, size_t w, __mmask16 m0, __mmask16 m1)                      \
    {                                                                                  \
        if (w == 32)                                                                   \
            tile_avx512(MR, 2, 1, t, m0, m1);                                          \
        else if (w > 16)                                                               \
            tile_avx512(MR, 2, 0, t, m0, m1);                                          \
        else                                                                           \
            tile_avx512(MR, 1, 0, t, m0, m1);                                          \
    }
TILE_OF_HEIGHT(1)
TILE_OF_HEIGHT(2)
TILE_OF_HEIGHT(3)
TILE_OF_HEIGHT(4)
TILE_OF_HEIGHT(5)
TILE_OF_HEIGHT(6)
TILE_OF_HEIGHT(7)
TILE_OF_HEIGHT(8)
TILE_OF_HEIGHT(9)
TILE_OF_HEIGHT(10)
TILE_OF_HEIGHT(11)
TILE_OF_HEIGHT(12)
#undef TILE_OF_HEIGHT

typedef void (*tile_fn)(const tile_args *t, size_t w, __mmask16 m0, __mmask16 m1);
static const tile_fn tiles_avx512[13] = {
    NULL,          tile1_avx512, tile2_avx512, tile3_avx512,  tile4_avx512,
    tile5_avx512,  tile6_avx512, tile7_avx512, tile8_avx512,  tile9_avx512,
    tile10_avx512, tile11_avx512, tile12_avx512};

/* M rows of one panel of w <= 32 columns. */
__attribute__((target("avx512f"))) static void rows_avx512(tile_args t, size_t M, size_t w)
{
    __mmask16 m0 = (__mmask16)(w >= 16 ? 0xffff : (1u << w) - 1);
    __mmask16 m1 = (__mmask16)(w >= 32 ? 0xffff : w > 16 ? (1u << (w - 16)) - 1 : 0);
    for (size_t i = 0, MR; i < M; i += MR) {
        MR = tile_height(M - i);
        tiles_avx512[MR](&t, w, m0, m1);
        t.a += MR * t.ars;
        t.c += MR * t.ldc;
        t.o += MR * t.ldo;
    }
}

/* r[i], 16 floats of row i, become column i: r[q] holds element q of
 * every row. */
__attribute__((target("avx512f"))) static DGN_ALWAYS_INLINE void
transpose16_avx512(__m512 r[16])
{
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4)
        for (int k = 0; k < 2; k++) {
            __m512d x = _mm512_castps_pd(t[i + k]), y = _mm512_castps_pd(t[i + k + 2]);
            r[i + 2 * k] = _mm512_castpd_ps(_mm512_unpacklo_pd(x, y));
            r[i + 2 * k + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(x, y));
        }
    for (int h = 0; h < 16; h += 8)
        for (int k = 0; k < 4; k++) {
            t[h + k] = _mm512_shuffle_f32x4(r[h + k], r[h + k + 4], 0x88);
            t[h + k + 4] = _mm512_shuffle_f32x4(r[h + k], r[h + k + 4], 0xdd);
        }
    for (int k = 0; k < 8; k++) {
        r[k] = _mm512_shuffle_f32x4(t[k], t[k + 8], 0x88);
        r[k + 8] = _mm512_shuffle_f32x4(t[k], t[k + 8], 0xdd);
    }
}

/* pack[p·32 + j] = b[j·ldb + p] for j < w, 0 for w <= j < 32, p < kc:
 * a panel of Bᵀ in 16 × 16 register transposes, since element by element
 * the strided stores cost as much as a tenth of training's products. */
__attribute__((target("avx512f"))) static void pack_avx512(float *pack, const float *b,
                                                          size_t ldb, size_t w, size_t kc)
{
    for (size_t j0 = 0; j0 < 32; j0 += 16) {
        size_t rows = w > j0 ? (w - j0 < 16 ? w - j0 : 16) : 0;
        for (size_t p0 = 0; p0 < kc; p0 += 16) {
            size_t n = kc - p0 < 16 ? kc - p0 : 16;
            __mmask16 m = (__mmask16)(n == 16 ? 0xffff : (1u << n) - 1);
            __m512 r[16];
            for (size_t i = 0; i < 16; i++)
                r[i] = i < rows ? _mm512_maskz_loadu_ps(m, b + (j0 + i) * ldb + p0)
                                : _mm512_setzero_ps();
            transpose16_avx512(r);
            for (size_t q = 0; q < n; q++)
                _mm512_storeu_ps(pack + (p0 + q) * 32 + j0, r[q]);
        }
    }
}

/* AVX2: 6 rows by 16 columns, 12 accumulators; tails by masks. */
__attribute__((target("avx2,fma"))) static DGN_ALWAYS_INLINE void
tile_avx2(const size_t MR, const size_t NV, const tile_args *t, __m256i m0, __m256i m1)
{
    __m256 s[6][2];
    const __m256i mk[2] = {m0, m1};
    for (size_t r = 0; r < MR; r++)
        for (size_t v = 0; v < NV; v++)
            s[r][v] = t->init ? _mm256_maskload_ps(t->c + r * t->ldc + 8 * v, mk[v])
                              : _mm256_setzero_ps();
    const float *ap = t->a, *bp = t->b;
    for (size_t p = 0; p < t->K; p++, ap += t->acs, bp += t->ldb) {
        if (DGN_GEMM_A_AHEAD && t->ars == 1 && p + DGN_GEMM_A_AHEAD < t->K) {
            _mm_prefetch((const char *)(ap + DGN_GEMM_A_AHEAD * t->acs), _MM_HINT_T0);
            _mm_prefetch((const char *)(ap + DGN_GEMM_A_AHEAD * t->acs + MR - 1), _MM_HINT_T0);
        }
        __m256 b0 = _mm256_maskload_ps(bp, m0);
        __m256 b1 = NV > 1 ? _mm256_maskload_ps(bp + 8, m1) : b0;
        for (size_t r = 0; r < MR; r++) {
            __m256 x = _mm256_broadcast_ss(ap + r * t->ars);
            s[r][0] = _mm256_fmadd_ps(x, b0, s[r][0]);
            if (NV > 1)
                s[r][1] = _mm256_fmadd_ps(x, b1, s[r][1]);
        }
    }
    __m256 alpha = _mm256_set1_ps(t->alpha), beta = _mm256_set1_ps(t->beta);
    for (size_t r = 0; r < MR; r++)
        for (size_t v = 0; v < NV; v++) {
            __m256 y = s[r][v];
            if (t->fin) {
                y = _mm256_mul_ps(alpha, y);
                if (t->beta != 0) {
                    __m256 old = _mm256_maskload_ps(t->o + r * t->ldo + 8 * v, mk[v]);
                    y = _mm256_add_ps(_mm256_mul_ps(beta, old), y);
                }
            }
            _mm256_maskstore_ps(t->c + r * t->ldc + 8 * v, mk[v], y);
        }
}

__attribute__((target("avx2,fma"))) static __m256i lane_mask8(size_t w)
{
    static const int ramp[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    __m256i idx = _mm256_loadu_si256((const __m256i *)ramp);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(w > 8 ? 8 : w)), idx);
}

__attribute__((target("avx2,fma"))) static void rows_avx2(tile_args t, size_t M, size_t w)
{
    __m256i m0 = lane_mask8(w), m1 = lane_mask8(w > 8 ? w - 8 : 0);
    size_t i = 0;
#define STEP(MR)                                                                       \
    do {                                                                               \
        if (w > 8)                                                                     \
            tile_avx2(MR, 2, &t, m0, m1);                                              \
        else                                                                           \
            tile_avx2(MR, 1, &t, m0, m1);                                              \
        i += MR;                                                                       \
        t.a += MR * t.ars;                                                             \
        t.c += MR * t.ldc;                                                             \
        t.o += MR * t.ldo;                                                             \
    } while (0)
    while (M - i >= 6)
        STEP(6);
    if (M - i >= 4)
        STEP(4);
    if (M - i >= 2)
        STEP(2);
    if (M - i >= 1)
        STEP(1);
#undef STEP
}

/* As pack_avx512, 16 columns wide, in 8 × 8 transposes. */
__attribute__((target("avx2,fma"))) static void pack_avx2(float *pack, const float *b,
                                                         size_t ldb, size_t w, size_t kc)
{
    for (size_t j0 = 0; j0 < 16; j0 += 8) {
        size_t rows = w > j0 ? (w - j0 < 8 ? w - j0 : 8) : 0;
        for (size_t p0 = 0; p0 < kc; p0 += 8) {
            size_t n = kc - p0 < 8 ? kc - p0 : 8;
            __m256i m = lane_mask8(n);
            __m256 r[8], t[8];
            for (size_t i = 0; i < 8; i++)
                r[i] = i < rows ? _mm256_maskload_ps(b + (j0 + i) * ldb + p0, m)
                                : _mm256_setzero_ps();
            for (int i = 0; i < 8; i += 2) {
                t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
                t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
            }
            for (int i = 0; i < 8; i += 4)
                for (int k = 0; k < 2; k++) {
                    r[i + 2 * k] = _mm256_shuffle_ps(t[i + k], t[i + k + 2], 0x44);
                    r[i + 2 * k + 1] = _mm256_shuffle_ps(t[i + k], t[i + k + 2], 0xee);
                }
            for (int k = 0; k < 4; k++) {
                t[k] = _mm256_permute2f128_ps(r[k], r[k + 4], 0x20);
                t[k + 4] = _mm256_permute2f128_ps(r[k], r[k + 4], 0x31);
            }
            for (size_t q = 0; q < n; q++)
                _mm256_storeu_ps(pack + (p0 + q) * 16 + j0, t[q]);
        }
    }
}

typedef void (*pack_fn)(float *pack, const float *b, size_t ldb, size_t w, size_t kc);
typedef void (*rows_fn)(tile_args t, size_t M, size_t w);

/* Panels of NR columns. op(B) = B is read in place (packing it measured
 * no faster). Bᵀ is packed KC deep, contiguous, so that it stays in L1
 * while every tile reads it; one pack serves every row. Sums deeper than
 * KC rest in C between chunks; when beta needs the old C, it is kept
 * aside for GROUP rows at a time, each group packing afresh. */
static void gemm_blocked(rows_fn rows, pack_fn pack, size_t NR, dgn_trans ta, dgn_trans tb,
                         size_t M, size_t N, size_t K, float alpha, const float *A,
                         size_t lda, const float *B, size_t ldb, float beta, float *C,
                         size_t ldc)
{
    size_t ars = ta ? 1 : lda, acs = ta ? lda : 1;
    float packed[KC * 32], old[GROUP * 32];
    for (size_t j0 = 0; j0 < N; j0 += NR) {
        size_t w = N - j0 < NR ? N - j0 : NR;
        if (!tb) {
            tile_args t = {.a = A, .ars = ars, .acs = acs, .b = B + j0, .ldb = ldb, .K = K,
                           .c = C + j0, .ldc = ldc, .o = C + j0, .ldo = ldc,
                           .alpha = alpha, .beta = beta, .init = 0, .fin = 1};
            rows(t, M, w);
            continue;
        }
        /* Only old C needs the rows grouped. */
        int keep = K > KC && beta != 0;
        size_t group = keep ? GROUP : M;
        for (size_t i0 = 0; i0 < M; i0 += group) {
            size_t g = M - i0 < group ? M - i0 : group;
            float *c = C + i0 * ldc + j0;
            if (keep)
                for (size_t r = 0; r < g; r++)
                    memcpy(old + r * NR, c + r * ldc, w * sizeof *old);
            for (size_t p0 = 0; p0 == 0 || p0 < K; p0 += KC) {
                size_t kc = K - p0 < KC ? K - p0 : KC;
                pack(packed, B + j0 * ldb + p0, ldb, w, kc);
                tile_args t = {.a = A + i0 * ars + p0 * acs, .ars = ars, .acs = acs,
                               .b = packed, .ldb = NR, .K = kc, .c = c, .ldc = ldc,
                               .o = keep ? old : c, .ldo = keep ? NR : ldc,
                               .alpha = alpha, .beta = beta,
                               .init = p0 > 0, .fin = p0 + kc >= K};
                rows(t, g, w);
            }
        }
    }
}
#endif

int dgn_gemm_with(int build, dgn_trans ta, dgn_trans tb, size_t M, size_t N, size_t K,
                  float alpha, const float *A, size_t lda, const float *B, size_t ldb,
                  float beta, float *C, size_t ldc)
{
    if (M == 0 || N == 0)
        return dgn_lanes_build(build) < 0 ? -1 : 0;
    switch (dgn_lanes_build(build)) {
#ifdef DGN_HAVE_ISA_DISPATCH
    case DGN_LANES_AVX512:
        if (ta && tb)
            break;
        gemm_blocked(rows_avx512, pack_avx512, 32, ta, tb, M, N, K, alpha, A, lda, B, ldb,
                     beta, C, ldc);
        return 0;
    case DGN_LANES_AVX2:
        if (ta && tb)
            break;
        gemm_blocked(rows_avx2, pack_avx2, 16, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta,
                     C, ldc);
        return 0;
#endif
    case DGN_LANES_PORTABLE:
        break;
    default:
        return -1;
    }
    /* Aᵀ·Bᵀ, which the network never asks for, and CPUs without AVX2. */
    gemm_portable(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return 0;
}

void dgn_gemm(dgn_trans ta, dgn_trans tb, size_t M, size_t N, size_t K, float alpha,
              const float *A, size_t lda, const float *B, size_t ldb, float beta, float *C,
              size_t ldc)
{
    dgn_gemm_with(DGN_LANES_BEST, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

typedef struct gemm_job {
    dgn_trans ta, tb;
    size_t M, N, K, lda, ldb, ldc, per;
    float alpha, beta;
    const float *A, *B;
    float *C;
} gemm_job;

/* Columns [t·per, (t+1)·per) of C. */
static void gemm_cols_task(void *arg, size_t t)
{
    const gemm_job *g = arg;
    size_t j0 = t * g->per, j1 = j0 + g->per < g->N ? j0 + g->per : g->N;
    if (j0 >= j1)
        return;
    const float *B = g->tb ? g->B + j0 * g->ldb : g->B + j0;
    dgn_gemm(g->ta, g->tb, g->M, j1 - j0, g->K, g->alpha, g->A, g->lda, B, g->ldb, g->beta,
             g->C + j0, g->ldc);
}

/* Rows [t·per, (t+1)·per) of C: rows of A, or its columns when transposed. */
static void gemm_rows_task(void *arg, size_t t)
{
    const gemm_job *g = arg;
    size_t i0 = t * g->per, i1 = i0 + g->per < g->M ? i0 + g->per : g->M;
    if (i0 >= i1)
        return;
    const float *A = g->ta ? g->A + i0 : g->A + i0 * g->lda;
    dgn_gemm(g->ta, g->tb, i1 - i0, g->N, g->K, g->alpha, A, g->lda, g->B, g->ldb, g->beta,
             g->C + i0 * g->ldc, g->ldc);
}

void dgn_gemm_on(dgn_pool *pool, dgn_trans ta, dgn_trans tb, size_t M, size_t N, size_t K,
                 float alpha, const float *A, size_t lda, const float *B, size_t ldb,
                 float beta, float *C, size_t ldc)
{
    size_t threads = dgn_pool_threads(pool);
    /* Small products are not worth waking the workers for. */
    if (threads == 1 || (double)M * (double)N * (double)K < (double)(1 << 20) ||
        (N <= 64 && M < 8 * threads)) {
        dgn_gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    gemm_job g = {ta, tb, M, N, K, lda, ldb, ldc, 0, alpha, beta, A, B, C};
    if (N > 64) {
        /* A task per 32-column panel, not one share per thread: a thread
         * done with its run of panels (pool.h) takes the last of another's,
         * so a core the machine slows holds up one panel, not half. */
        g.per = 32;
        dgn_pool_run(pool, gemm_cols_task, &g, (N + 31) / 32);
    } else {
        /* Two panels or fewer: split the rows, so that each thread reads
         * only its rows of A (a product's A was mostly just written, half
         * by the other core), not all of it; bench/products: Y2 = A·W2
         * 0.70x, dW2 = Aᵀ·dY2 0.86x of the two-panel split at 2 threads. */
        g.per = ((M + threads - 1) / threads + 7) / 8 * 8;
        dgn_pool_run(pool, gemm_rows_task, &g, (M + g.per - 1) / g.per);
    }
}
