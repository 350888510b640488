/* Private: DeepGlassNet's layers as batched kernels on caller buffers.
 *
 * Matrices are row-major. Row-vector convention: Y = X·W with W [in][out].
 * Per-component activations (H, Z, Q, K, Va) are stored component-major,
 * [n][B][d], so that the graph convolution is a single GEMM over all
 * samples; the attention output U is stored sample-major, [B][n][d], which
 * is already the flattened [B][n·d] input of the projection head.
 * Backward calls accumulate (+=) into parameter gradients and overwrite
 * input gradients. None of them allocates.
 */
#ifndef DGN_LIB_LAYERS_H
#define DGN_LIB_LAYERS_H

#include <stddef.h>

#include "pool.h"

#include "isa.h"
#include "rng.h"

/* h_i = x_i·e_i. H is [n][B][d] (batch_major = 0) or [B][n][d] (1). The
 * forward calls of this file that take a pool run on its threads (NULL:
 * the caller's), with the same bits at any thread count. */
void dgn_embed_forward(float *H, const float *X, const float *E, size_t B, size_t n, size_t d,
                       int batch_major, dgn_pool *pool);
/* dE += Σ_b x_bi·dH_bi; dX (may be NULL) = ⟨e_i, dH_bi⟩. */
void dgn_embed_backward(float *dE, float *dX, const float *dH, const float *X, const float *E,
                        size_t B, size_t n, size_t d, int batch_major, dgn_pool *pool);

/* Mixing matrix of the graph convolution from the factors V [n][f]:
 * Vn = rows of V at unit length (norms in vnorm [n]), A = Vn·Vnᵀ and
 * M = I + (A − I)/(n − 1), so that Z = M·H is eq. 6. Needs n >= 2. */
void dgn_graph_mix(float *M, float *Vn, float *vnorm, const float *V, size_t n, size_t f);
/* Z = M·H over cols = B·d columns. */
void dgn_graph_forward(float *Z, const float *M, const float *H, size_t n, size_t cols,
                       dgn_pool *pool);
/* dH = M·dZ (M is symmetric); dV += ∂/∂V through dM = dZ·Hᵀ.
 * Scratch: dM [n][n], dVn [n][f]. */
void dgn_graph_backward(float *dV, float *dH, const float *dZ, const float *H,
                        const float *M, const float *Vn, const float *vnorm,
                        size_t n, size_t f, size_t cols, float *dM, float *dVn,
                        dgn_pool *pool);

/* dV += ∂/∂V from dA [n][n], the gradient of A = Vn·Vnᵀ off the diagonal
 * (the diagonal is ignored and set to 0). Scratch: dVn [n][f]. */
void dgn_graph_mix_backward(float *dV, float *dA, const float *Vn, const float *vnorm,
                            size_t n, size_t f, float *dVn);

/* e^x in place for x <= 0, within a few ulp; vectorisable (the softmax's). */
void dgn_exp_nonpositive(float *x, size_t count);

/* Softmax of each of `rows` rows of n, in place, with dgn_exp_nonpositive. */
void dgn_softmax_rows(float *P, size_t rows, size_t n);

/* Single-head self-attention over the n components of each sample:
 * Q = Z·Wq, K = Z·Wk, Va = Z·Wv ([n·B][d] each), P_b = softmax(Q_b·K_bᵀ/√d)
 * ([B][n][n]) and U_b = P_b·Va_b written sample-major. The softmax's exp
 * is dgn_exp_nonpositive, in training too: IEEE operations only, so the
 * weights a seed produces do not depend on the libm version. */
void dgn_attention_forward(float *U, float *Q, float *K, float *Va, float *P,
                           const float *Z, const float *Wq, const float *Wk,
                           const float *Wv, size_t B, size_t n, size_t d, dgn_pool *pool);
/* dZ = dQ·Wqᵀ + dK·Wkᵀ + dVa·Wvᵀ; dW* += Zᵀ·d*. Scratch: dQ, dK, dVa
 * [n·B][d], dS [dgn_attention_chunks(B)][n][n], one per chunk of samples
 * so that the chunks may run on pool's threads. */
void dgn_attention_backward(float *dWq, float *dWk, float *dWv, float *dZ,
                            const float *dU, const float *Z, const float *Q,
                            const float *K, const float *Va, const float *P,
                            const float *Wq, const float *Wk, const float *Wv,
                            size_t B, size_t n, size_t d,
                            float *dQ, float *dK, float *dVa, float *dS, dgn_pool *pool);
size_t dgn_attention_chunks(size_t B);

/* Y = X·W (+ b when b is not NULL). X [B][in], W [in][out]. The products
 * run on pool's threads (NULL: the caller's; the bits are the same). */
void dgn_linear_forward(float *Y, const float *X, const float *W, const float *b,
                        size_t B, size_t in, size_t out, dgn_pool *pool);
/* dW += Xᵀ·dY; db (may be NULL) += Σ_b dY; dX (may be NULL) = dY·Wᵀ. */
void dgn_linear_backward(float *dW, float *db, float *dX, const float *dY,
                         const float *X, const float *W, size_t B, size_t in, size_t out,
                         dgn_pool *pool);

/* Batch normalisation over B rows of h features. Training mode uses the
 * batch's biased statistics (kept in mean, inv_std and xhat for backward)
 * and updates the running ones with the unbiased variance, as PyTorch. */
void dgn_batchnorm_forward_train(float *Y, float *xhat, float *mean, float *inv_std,
                                 float *run_mean, float *run_var, const float *X,
                                 const float *gamma, const float *beta,
                                 size_t B, size_t h, float momentum, float eps,
                                 dgn_pool *pool);
/* Running statistics; inv_std [h] is scratch. */
void dgn_batchnorm_forward_eval(float *Y, float *xhat, float *inv_std, const float *X,
                                const float *gamma, const float *beta,
                                const float *run_mean, const float *run_var,
                                size_t B, size_t h, float eps, dgn_pool *pool);
/* Gradient through the batch statistics. Scratch: sums [2h]. The
 * training-mode calls run on pool's threads in blocks of features (NULL:
 * the caller's; the bits are the same). */
void dgn_batchnorm_backward_train(float *dgamma, float *dbeta, float *dX, const float *dY,
                                  const float *xhat, const float *inv_std,
                                  const float *gamma, size_t B, size_t h, float *sums,
                                  dgn_pool *pool);
/* Statistics are constants in evaluation mode. */
void dgn_batchnorm_backward_eval(float *dgamma, float *dbeta, float *dX, const float *dY,
                                 const float *xhat, const float *gamma,
                                 const float *run_var, size_t B, size_t h, float eps);

/* A = ReLU(N) over rows x cols, then inverted dropout with probability p
 * when rng is not NULL (mask holds 0 or 1/(1 − p)); with rng NULL the
 * mask is not used. On pool's threads in blocks of features (NULL: the
 * caller's; the mask hashes each element's index, so the bits are the
 * same). */
void dgn_relu_dropout_forward(float *A, float *mask, const float *N, size_t rows, size_t cols,
                              float p, dgn_rng *rng, dgn_pool *pool);
void dgn_relu_dropout_backward(float *dN, const float *dA, const float *N,
                               const float *mask, size_t rows, size_t cols, dgn_pool *pool);

/* F = Y/‖Y‖ per row; norms kept in rnorm [B]. Both calls run on pool's
 * threads in blocks of rows (NULL: the caller's; the bits are the same). */
void dgn_l2norm_forward(float *F, float *rnorm, const float *Y, size_t B, size_t k,
                        dgn_pool *pool);
/* dY = (dF − F·⟨F, dF⟩)/‖Y‖. */
void dgn_l2norm_backward(float *dY, const float *dF, const float *F, const float *rnorm,
                         size_t B, size_t k, dgn_pool *pool);

#endif
