/* Private: kernels over planes that keep the sample index innermost.
 *
 * The per-sample n x n products of the folded network are too thin for
 * BLAS (n = 19 by default), so they are laid out [n][n][L], L samples to a
 * row, and vectorised across samples. Include only from files whose
 * callers are built per ISA (DGN_ISA_BUILDS), so that these inline into
 * each build.
 */
#ifndef DGN_LIB_LANES_H
#define DGN_LIB_LANES_H

#include <math.h>
#include <stddef.h>

#include "layers.h"

/* Samples are processed in groups of LANES, one vector register of floats
 * at AVX-512; the tail of the last group is padding. */
#define LANES 16

static inline size_t dgn_round_lanes(size_t B)
{
    return (B + LANES - 1) / LANES * LANES;
}

/* Rows of a left factor for dgn_mix: n rounded up to a multiple of 4. */
static inline size_t dgn_mix_rows(size_t n)
{
    return (n + 3) / 4 * 4;
}

/* out[i][c] = Σ_l A[i][l]·in[l][c] for i < n, c < W: one block of 4 rows
 * by W columns held in registers (written without arrays whose address
 * is taken, so that the compiler keeps them there). Fused multiply-adds
 * (lib/isa.h): without them the adds and multiplies compete for the same
 * two ports. */
static DGN_ALWAYS_INLINE void dgn_mix_block(float *restrict o, const float *restrict A0,
                                            const float *restrict in, size_t n,
                                            size_t rows, size_t ld, size_t W)
{
    float a0[2 * LANES] = {0}, a1[2 * LANES] = {0}, a2[2 * LANES] = {0},
          a3[2 * LANES] = {0};
    for (size_t l = 0; l < n; l++) {
        const float *src = in + l * ld;
        float m0 = A0[l], m1 = A0[n + l], m2 = A0[2 * n + l], m3 = A0[3 * n + l];
        for (size_t v = 0; v < W; v++) {
            a0[v] = fmaf(m0, src[v], a0[v]);
            a1[v] = fmaf(m1, src[v], a1[v]);
            a2[v] = fmaf(m2, src[v], a2[v]);
            a3[v] = fmaf(m3, src[v], a3[v]);
        }
    }
    for (size_t v = 0; v < W; v++)
        o[v] = a0[v];
    if (rows > 1)
        for (size_t v = 0; v < W; v++)
            o[ld + v] = a1[v];
    if (rows > 2)
        for (size_t v = 0; v < W; v++)
            o[2 * ld + v] = a2[v];
    if (rows > 3)
        for (size_t v = 0; v < W; v++)
            o[3 * ld + v] = a3[v];
}

/* out[i][c] = Σ_l A[i][l]·in[l][c] for i, l < n and c < cols, a multiple
 * of LANES; rows of in and out lie ld apart, and A has dgn_mix_rows(n)
 * rows, zero past n. Blocks of 4 rows by LANES columns, or by 2·LANES
 * with AVX-512: 8 independent accumulator chains cover the FMA latency
 * at two FMAs per cycle there, while AVX2 would run out of registers.
 * The blocking does not change any element's sum. */
static DGN_ALWAYS_INLINE void dgn_mix(float *restrict out, const float *restrict A,
                                      const float *restrict in, size_t n, size_t cols,
                                      size_t ld)
{
    size_t c = 0;
    if (DGN_ISA_AVX512())
        for (; c + 2 * LANES <= cols; c += 2 * LANES)
            for (size_t i0 = 0; i0 < n; i0 += 4)
                dgn_mix_block(out + i0 * ld + c, A + i0 * n, in + c, n, n - i0, ld,
                              2 * LANES);
    for (; c < cols; c += LANES)
        for (size_t i0 = 0; i0 < n; i0 += 4)
            dgn_mix_block(out + i0 * ld + c, A + i0 * n, in + c, n, n - i0, ld, LANES);
}

#endif
