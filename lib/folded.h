/* Private: the graph convolution, the attention and the first projection
 * with their weights multiplied out, for training and for the screen
 * evaluator (lib/screen_eval.h).
 *
 * With M the graph convolution's mixing matrix, X = diag(x), Eq = E·Wq,
 * Ek = E·Wk and Ev = E·Wv ([n][d] each), sample x's attention logits and
 * the projection's input are
 *   S·Mᵀ = M·R·Mᵀ,   R = X·G·X,   G = Eq·Ekᵀ/√d                 [n][n]
 *   Y1 = flatten(P·M·X·Ev)·W1 = Σ_{i,m} T_im·Wf_(i,m),
 *        T = P·M·X,   Wf_(i,m) = Ev_m·W1_i                      [n·n][h]
 * with P the row softmax of the logits. G and Wf depend on the weights
 * only, so they are formed once per batch, and a sample costs about
 * 2n²h + 6n³ FLOPs instead of 2ndh + 6nd² + 6n²d, half at the default
 * sizes; backward saves in proportion. The gradients of G and Wf chain
 * back to E, Wq, Wk, Wv and W1 once per batch.
 *
 * The n x n stages work on planes [n][n][L] that keep the sample index
 * innermost (lib/lanes.h), L = dgn_round_lanes(B); the padding lanes are
 * zero in x and stay finite.
 */
#ifndef DGN_LIB_FOLDED_H
#define DGN_LIB_FOLDED_H

#include <stddef.h>

#include "lanes.h"
#include "pool.h"

/* The graph convolution's mixing matrix from the factors V [n][f], as
 * the n x n stages take it: Mp = M and Mt = Mᵀ (exactly; the GEMM that
 * forms M is symmetric only to rounding), each with dgn_mix_rows(n) rows
 * whose rows past n the caller has zeroed. Scratch: Vn [n][f], vnorm [n],
 * kept for dgn_graph_mix_backward. */
void dgn_fold_mixing(float *Mp, float *Mt, float *Vn, float *vnorm, const float *V,
                     size_t n, size_t f);

/* Eq, Ek, Ev [n][d]; G [n][n]; Wf [n·n][h]. */
void dgn_fold_weights(float *G, float *Wf, float *Eq, float *Ek, float *Ev,
                      const float *E, const float *Wq, const float *Wk, const float *Wv,
                      const float *W1, size_t n, size_t d, size_t h);
/* The same with Wf's n products on pool's threads (NULL: the caller's;
 * the bits are the same). */
void dgn_fold_weights_on(dgn_pool *pool, float *G, float *Wf, float *Eq, float *Ek,
                         float *Ev, const float *E, const float *Wq, const float *Wk,
                         const float *Wv, const float *W1, size_t n, size_t d, size_t h);
/* Without interaction: Wf [n][h], row i = E_i·W1_i. */
void dgn_fold_weights_plain(float *Wf, const float *E, const float *W1, size_t n, size_t d,
                            size_t h);
/* dE, dWq, dWk, dWv, dW1 += the gradients that dG and dWf imply, the n
 * products of Wf on pool's threads (NULL: the caller's; the bits are the
 * same). Scratch: dEq, dEk, dEv [n][d], dEvl [n][n][d]. */
void dgn_fold_weights_backward(dgn_pool *pool, float *dE, float *dWq, float *dWk, float *dWv,
                               float *dW1, const float *dG, const float *dWf, const float *E,
                               const float *Wq, const float *Wk, const float *Wv,
                               const float *W1, const float *Eq, const float *Ek,
                               const float *Ev, size_t n, size_t d, size_t h,
                               float *dEq, float *dEk, float *dEv, float *dEvl);

/* For B rows x [B][n]: xt = xᵀ [n][L] (padding zero), S = M·R with
 * R = X·G·X, P = softmax of the rows of S·Mᵀ, and T = P·M·X, all planes.
 * Mp and Mt are M and Mᵀ with dgn_mix_rows(n) rows, zero past n; acc is
 * scratch [L] and Rcol scratch [n][L] (R a column at a time). T may be S
 * when only T is wanted, and Rcol may be P: a block of lanes is done
 * with its part of Rcol before it writes its part of P. */
void dgn_folded_attention_forward(float *T, float *P, float *S, float *Rcol, float *xt,
                                  float *acc, const float *x, const float *Mp,
                                  const float *Mt, const float *G, size_t B, size_t n);
/* The same on pool's threads (NULL: the caller's), in blocks of lanes
 * whose runs line up with the backward pass's chunks (DGN_FOLD_CHUNK,
 * below); every lane is computed alone, so the bits are those of the call
 * above. */
void dgn_folded_attention_forward_on(dgn_pool *pool, float *T, float *P, float *S, float *Rcol,
                                     float *xt, float *acc, const float *x, const float *Mp,
                                     const float *Mt, const float *G, size_t B, size_t n);

/* The backward pass splits the lanes into chunks of DGN_FOLD_CHUNK, a
 * fixed width: each chunk sums its own share of dG and dM, and the shares
 * are added in chunk order, so the result does not depend on the thread
 * count. */
#define DGN_FOLD_CHUNK 192
static inline size_t dgn_fold_chunks(size_t B)
{
    return (dgn_round_lanes(B) + DGN_FOLD_CHUNK - 1) / DGN_FOLD_CHUNK;
}

/* From dT (overwritten), with the forward's planes: dG += ∂/∂G,
 * dM += ∂/∂M, and dx [B][n] = ∂/∂x when dx is not NULL, on pool's
 * threads (NULL: the caller's; the bits are the same). Scratch: Rcol
 * [2n][L] (R and dR a column at a time, and a row's softmax gradient),
 * dxt [n][L] (with dx), acc [L], and per chunk (dgn_fold_chunks(B)) dMl
 * [dgn_lane_outer_size(n)] and dGl [n·n]. dT's padding lanes must be 0. */
void dgn_folded_attention_backward(dgn_pool *pool, float *dG, float *dM, float *dx,
                                   float *dT, float *dxt, float *acc,
                                   float *dMl, float *dGl, const float *P, const float *S,
                                   float *Rcol, const float *xt, const float *Mp,
                                   const float *Mt, const float *G, size_t B, size_t n);

/* Y1 [B][h] = Tᵀ·Wf over the first B lanes of T, on pool's threads
 * (NULL: the caller's; the bits are the same). */
void dgn_folded_projection_forward(float *Y1, const float *T, const float *Wf, size_t B,
                                   size_t n, size_t h, dgn_pool *pool);
/* dWf = T·dY1; dT = Wf·dY1ᵀ, zero in the padding lanes. */
void dgn_folded_projection_backward(float *dWf, float *dT, const float *dY1, const float *T,
                                    const float *Wf, size_t B, size_t n, size_t h,
                                    dgn_pool *pool);

#endif
