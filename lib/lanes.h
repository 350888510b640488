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

/* out[i][c] = Σ_l A[i][l]·in[l][c] for i, l < n and c < cols, a multiple
 * of LANES; rows of in and out lie ld apart, and A has dgn_mix_rows(n)
 * rows, zero past n. LANES columns by 4 rows at a time, held in
 * registers: written without arrays whose address is taken, so that the
 * compiler keeps them there. Fused multiply-adds (lib/isa.h): without
 * them the adds and multiplies compete for the same two ports. */
static DGN_ALWAYS_INLINE void dgn_mix(float *restrict out, const float *restrict A,
                                      const float *restrict in, size_t n, size_t cols,
                                      size_t ld)
{
    for (size_t c = 0; c < cols; c += LANES)
        for (size_t i0 = 0; i0 < n; i0 += 4) {
            float a0[LANES] = {0}, a1[LANES] = {0}, a2[LANES] = {0}, a3[LANES] = {0};
            const float *A0 = A + i0 * n;
            for (size_t l = 0; l < n; l++) {
                const float *src = in + l * ld + c;
                float m0 = A0[l], m1 = A0[n + l], m2 = A0[2 * n + l], m3 = A0[3 * n + l];
                for (size_t v = 0; v < LANES; v++) {
                    a0[v] = fmaf(m0, src[v], a0[v]);
                    a1[v] = fmaf(m1, src[v], a1[v]);
                    a2[v] = fmaf(m2, src[v], a2[v]);
                    a3[v] = fmaf(m3, src[v], a3[v]);
                }
            }
            float *o = out + i0 * ld + c;
            for (size_t v = 0; v < LANES; v++)
                o[v] = a0[v];
            if (i0 + 1 < n)
                for (size_t v = 0; v < LANES; v++)
                    o[ld + v] = a1[v];
            if (i0 + 2 < n)
                for (size_t v = 0; v < LANES; v++)
                    o[2 * ld + v] = a2[v];
            if (i0 + 3 < n)
                for (size_t v = 0; v < LANES; v++)
                    o[3 * ld + v] = a3[v];
        }
}

#endif
