/* Private: kernels over planes that keep the sample index innermost.
 *
 * The per-sample n x n products of the folded network are too thin for
 * BLAS (n = 19 by default), so they are laid out [n][n][L], L samples to a
 * row, and vectorised across samples. The two products below choose
 * their build per call (AVX-512, AVX2 with FMA, portable) and agree bit
 * for bit.
 */
#ifndef DGN_LIB_LANES_H
#define DGN_LIB_LANES_H

#include <stddef.h>

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
 * of LANES; rows of out lie ldo and rows of in ldi apart, and A has
 * dgn_mix_rows(n) rows (those past n are read, as zeros). Each sum is a
 * chain of fused multiply-adds in l order, the same in every build
 * (lib/lanes.c). */
void dgn_mix(float *restrict out, size_t ldo, const float *restrict A,
             const float *restrict in, size_t ldi, size_t n, size_t cols);

/* acc[j][m][v] += Σ_b A[j][b]·B[m][b] over the lanes b ≡ v (mod LANES),
 * b < L (a multiple of LANES), in b order by fused multiply-adds: a sum
 * over samples of n x n outer products, the same in every build. Rows of
 * A and B lie lda and ldb apart; acc is [dgn_mix_rows(n)]² [LANES],
 * dgn_lane_outer_size(n) floats. */
static inline size_t dgn_lane_outer_size(size_t n)
{
    return dgn_mix_rows(n) * dgn_mix_rows(n) * LANES;
}
void dgn_lane_outer(float *restrict acc, const float *restrict A, size_t lda,
                    const float *restrict B, size_t ldb, size_t n, size_t L);
/* out [n][n] += the lane sums of acc, in a fixed tree (acc is overwritten). */
void dgn_lane_outer_reduce(float *out, float *acc, size_t n);

/* The builds of the two kernels above, for the tests that hold them to
 * the same bits. dgn_lanes_build maps DGN_LANES_BEST to the build the
 * calls above run, and a build this CPU cannot run to -1. */
enum { DGN_LANES_PORTABLE, DGN_LANES_AVX2, DGN_LANES_AVX512, DGN_LANES_BEST };
int dgn_lanes_build(int build);
void dgn_mix_with(int build, float *restrict out, size_t ldo, const float *restrict A,
                  const float *restrict in, size_t ldi, size_t n, size_t cols);
void dgn_lane_outer_with(int build, float *restrict acc, const float *restrict A, size_t lda,
                         const float *restrict B, size_t ldb, size_t n, size_t L);

#endif
