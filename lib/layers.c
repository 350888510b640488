#include "layers.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "exp.h"
#include "gemm.h"

/* ---- proportion-modulated embedding --------------------------------- */

static size_t act_row(size_t b, size_t i, size_t B, size_t n, int batch_major)
{
    return batch_major ? b * n + i : i * B + b;
}

typedef struct embed_job {
    float *H, *dE, *dX;
    const float *X, *E, *dH;
    size_t B, n, d;
    int batch_major;
} embed_job;

/* Component i of every row. */
static void embed_forward_task(void *arg, size_t i)
{
    const embed_job *j = arg;
    const float *e = j->E + i * j->d;
    for (size_t b = 0; b < j->B; b++) {
        float x = j->X[b * j->n + i];
        float *h = j->H + act_row(b, i, j->B, j->n, j->batch_major) * j->d;
        for (size_t c = 0; c < j->d; c++)
            h[c] = x * e[c];
    }
}

void dgn_embed_forward(float *H, const float *X, const float *E, size_t B, size_t n, size_t d,
                       int batch_major, dgn_pool *pool)
{
    embed_job j = {.H = H, .X = X, .E = E, .B = B, .n = n, .d = d, .batch_major = batch_major};
    dgn_pool_run(pool, embed_forward_task, &j, n);
}

/* Component i of every row: dE_i sums over the rows in order. */
static void embed_backward_task(void *arg, size_t i)
{
    const embed_job *j = arg;
    const float *e = j->E + i * j->d;
    float *de = j->dE + i * j->d;
    for (size_t b = 0; b < j->B; b++) {
        float x = j->X[b * j->n + i], dot = 0;
        const float *g = j->dH + act_row(b, i, j->B, j->n, j->batch_major) * j->d;
        for (size_t c = 0; c < j->d; c++) {
            de[c] += x * g[c];
            dot += e[c] * g[c];
        }
        if (j->dX)
            j->dX[b * j->n + i] = dot;
    }
}

void dgn_embed_backward(float *dE, float *dX, const float *dH, const float *X, const float *E,
                        size_t B, size_t n, size_t d, int batch_major, dgn_pool *pool)
{
    embed_job j = {.X = X, .E = E, .B = B, .n = n, .d = d, .batch_major = batch_major,
                   .dE = dE, .dX = dX, .dH = dH};
    dgn_pool_run(pool, embed_backward_task, &j, n);
}

/* ---- graph convolution ------------------------------------------------ */

void dgn_graph_mix(float *M, float *Vn, float *vnorm, const float *V, size_t n, size_t f)
{
    dgn_l2norm_forward(Vn, vnorm, V, n, f, NULL);
    /* A = Vn·Vnᵀ, then scale the off-diagonal by 1/(n−1); a_ii = 1. */
    dgn_gemm(DGN_NOTRANS, DGN_TRANS, n, n, f,
                1.0f / (float)(n - 1), Vn, f, Vn, f, 0.0f, M, n);
    for (size_t i = 0; i < n; i++)
        M[i * n + i] = 1.0f;
}

void dgn_graph_forward(float *Z, const float *M, const float *H, size_t n, size_t cols,
                       dgn_pool *pool)
{
    /* Z = M·H */
    dgn_gemm_on(pool, DGN_NOTRANS, DGN_NOTRANS, n, cols, n, 1.0f, M, n, H, cols, 0.0f, Z,
                cols);
}

void dgn_graph_backward(float *dV, float *dH, const float *dZ, const float *H,
                        const float *M, const float *Vn, const float *vnorm,
                        size_t n, size_t f, size_t cols, float *dM, float *dVn,
                        dgn_pool *pool)
{
    /* dH = Mᵀ·dZ = M·dZ */
    dgn_gemm_on(pool, DGN_NOTRANS, DGN_NOTRANS, n, cols, n, 1.0f, M, n, dZ, cols, 0.0f, dH,
                cols);
    /* dM = dZ·Hᵀ; the diagonal is fixed at 1, and dA = dM/(n−1) off it. */
    dgn_gemm(DGN_NOTRANS, DGN_TRANS, n, n, cols,
                1.0f / (float)(n - 1), dZ, cols, H, cols, 0.0f, dM, n);
    dgn_graph_mix_backward(dV, dM, Vn, vnorm, n, f, dVn);
}

void dgn_graph_mix_backward(float *dV, float *dA, const float *Vn, const float *vnorm,
                            size_t n, size_t f, float *dVn)
{
    float *dM = dA;
    for (size_t i = 0; i < n; i++)
        dM[i * n + i] = 0.0f;
    /* dVn = (dA + dAᵀ)·Vn */
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < f; k++) {
            float s = 0;
            for (size_t j = 0; j < n; j++)
                s += (dA[i * n + j] + dA[j * n + i]) * Vn[j * f + k];
            dVn[i * f + k] = s;
        }
    /* Through the row normalisation: dV_i = (dVn_i − Vn_i⟨Vn_i, dVn_i⟩)/‖V_i‖. */
    for (size_t i = 0; i < n; i++) {
        float dot = 0;
        for (size_t k = 0; k < f; k++)
            dot += Vn[i * f + k] * dVn[i * f + k];
        for (size_t k = 0; k < f; k++)
            dV[i * f + k] += (dVn[i * f + k] - Vn[i * f + k] * dot) / vnorm[i];
    }
}

/* ---- self-attention ----------------------------------------------------- */

static DGN_ALWAYS_INLINE void exp_nonpositive_body(float *x, size_t count)
{
    dgn_exp_nonpositive_inline(x, count);
}

DGN_ISA_BUILDS(exp_nonpositive, (float *x, size_t count), (x, count))

void dgn_exp_nonpositive(float *x, size_t count)
{
    DGN_ISA_CALL(exp_nonpositive, (x, count));
}

static DGN_ALWAYS_INLINE void softmax_rows_body(float *P, size_t rows, size_t n)
{
    for (size_t i = 0; i < rows; i++) {
        float *row = P + i * n, mx = row[0];
        for (size_t j = 1; j < n; j++)
            mx = row[j] > mx ? row[j] : mx;
        for (size_t j = 0; j < n; j++)
            row[j] -= mx;
    }
    dgn_exp_nonpositive(P, rows * n);
    for (size_t i = 0; i < rows; i++) {
        float *row = P + i * n, sum = 0;
        for (size_t j = 0; j < n; j++)
            sum += row[j];
        for (size_t j = 0; j < n; j++)
            row[j] /= sum;
    }
}

DGN_ISA_BUILDS(softmax_rows, (float *P, size_t rows, size_t n), (P, rows, n))

void dgn_softmax_rows(float *P, size_t rows, size_t n)
{
    DGN_ISA_CALL(softmax_rows, (P, rows, n));
}

typedef struct attention_job {
    float *U, *P;
    const float *Q, *K, *Va;
    size_t B, n, d;
} attention_job;

/* Samples per task of the attention's per-sample products. */
#define ATTENTION_SAMPLES 16

static void attention_forward_task(void *arg, size_t t)
{
    const attention_job *j = arg;
    size_t n = j->n, d = j->d, ld = j->B * d, b1 = (t + 1) * ATTENTION_SAMPLES;
    float scale = 1.0f / sqrtf((float)d);
    for (size_t b = t * ATTENTION_SAMPLES; b < b1 && b < j->B; b++) {
        float *Pb = j->P + b * n * n;
        /* S_b = Q_b·K_bᵀ/√d; sample b's rows sit B·d floats apart. */
        dgn_gemm(DGN_NOTRANS, DGN_TRANS, n, n, d, scale, j->Q + b * d, ld, j->K + b * d, ld,
                 0.0f, Pb, n);
        dgn_softmax_rows(Pb, n, n);
        /* U_b = P_b·Va_b */
        dgn_gemm(DGN_NOTRANS, DGN_NOTRANS, n, d, n, 1.0f, Pb, n, j->Va + b * d, ld, 0.0f,
                 j->U + b * n * d, d);
    }
}

void dgn_attention_forward(float *U, float *Q, float *K, float *Va, float *P,
                           const float *Z, const float *Wq, const float *Wk,
                           const float *Wv, size_t B, size_t n, size_t d, dgn_pool *pool)
{
    /* Q = Z·Wq, K = Z·Wk, Va = Z·Wv: one GEMM each over every (component,
     * sample) row. */
    const float *W[3] = {Wq, Wk, Wv};
    float *out[3] = {Q, K, Va};
    for (int t = 0; t < 3; t++)
        dgn_gemm_on(pool, DGN_NOTRANS, DGN_NOTRANS, n * B, d, d, 1.0f, Z, d, W[t], d, 0.0f,
                    out[t], d);
    attention_job j = {U, P, Q, K, Va, B, n, d};
    dgn_pool_run(pool, attention_forward_task, &j, dgn_attention_chunks(B));
}

typedef struct attention_backward_job {
    float *dQ, *dK, *dVa, *dS;
    const float *dU, *Q, *K, *Va, *P;
    size_t B, n, d;
} attention_backward_job;

/* The per-sample products of ATTENTION_SAMPLES samples, with chunk t's own
 * dS [n][n]. */
static void attention_backward_task(void *arg, size_t t)
{
    const attention_backward_job *j = arg;
    size_t n = j->n, d = j->d, ld = j->B * d, b1 = (t + 1) * ATTENTION_SAMPLES;
    float scale = 1.0f / sqrtf((float)d), *dS = j->dS + t * n * n;
    for (size_t b = t * ATTENTION_SAMPLES; b < b1 && b < j->B; b++) {
        const float *Pb = j->P + b * n * n, *dUb = j->dU + b * n * d;
        /* dP_b = dU_b·V_bᵀ */
        dgn_gemm(DGN_NOTRANS, DGN_TRANS, n, n, d, 1.0f, dUb, d, j->Va + b * d, ld, 0.0f, dS,
                 n);
        /* dV_b = P_bᵀ·dU_b */
        dgn_gemm(DGN_TRANS, DGN_NOTRANS, n, d, n, 1.0f, Pb, n, dUb, d, 0.0f, j->dVa + b * d,
                 ld);
        /* Softmax: dS = P ⊙ (dP − Σ_j dP_j P_j), times the 1/√d scale. */
        for (size_t i = 0; i < n; i++) {
            float *g = dS + i * n, dot = 0;
            const float *p = Pb + i * n;
            for (size_t c = 0; c < n; c++)
                dot += g[c] * p[c];
            for (size_t c = 0; c < n; c++)
                g[c] = p[c] * (g[c] - dot) * scale;
        }
        /* dQ_b = dS·K_b, dK_b = dSᵀ·Q_b */
        dgn_gemm(DGN_NOTRANS, DGN_NOTRANS, n, d, n, 1.0f, dS, n, j->K + b * d, ld, 0.0f,
                 j->dQ + b * d, ld);
        dgn_gemm(DGN_TRANS, DGN_NOTRANS, n, d, n, 1.0f, dS, n, j->Q + b * d, ld, 0.0f,
                 j->dK + b * d, ld);
    }
}

size_t dgn_attention_chunks(size_t B)
{
    return (B + ATTENTION_SAMPLES - 1) / ATTENTION_SAMPLES;
}

void dgn_attention_backward(float *dWq, float *dWk, float *dWv, float *dZ,
                            const float *dU, const float *Z, const float *Q,
                            const float *K, const float *Va, const float *P,
                            const float *Wq, const float *Wk, const float *Wv,
                            size_t B, size_t n, size_t d,
                            float *dQ, float *dK, float *dVa, float *dS, dgn_pool *pool)
{
    size_t rows = n * B;
    attention_backward_job j = {dQ, dK, dVa, dS, dU, Q, K, Va, P, B, n, d};
    dgn_pool_run(pool, attention_backward_task, &j, dgn_attention_chunks(B));
    /* dW* += Zᵀ·d* */
    const float *W[3] = {Wq, Wk, Wv}, *dOut[3] = {dQ, dK, dVa};
    float *dW[3] = {dWq, dWk, dWv};
    for (int t = 0; t < 3; t++)
        dgn_gemm_on(pool, DGN_TRANS, DGN_NOTRANS, d, d, rows, 1.0f, Z, d, dOut[t], d, 1.0f,
                    dW[t], d);
    /* dZ = dQ·Wqᵀ + dK·Wkᵀ + dVa·Wvᵀ */
    for (int t = 0; t < 3; t++)
        dgn_gemm_on(pool, DGN_NOTRANS, DGN_TRANS, rows, d, d, 1.0f, dOut[t], d, W[t], d,
                    t ? 1.0f : 0.0f, dZ, d);
}

/* ---- linear --------------------------------------------------------------- */

void dgn_linear_forward(float *Y, const float *X, const float *W, const float *b,
                        size_t B, size_t in, size_t out, dgn_pool *pool)
{
    /* Y = X·W */
    dgn_gemm_on(pool, DGN_NOTRANS, DGN_NOTRANS, B, out, in,
                1.0f, X, in, W, out, 0.0f, Y, out);
    if (b)
        for (size_t r = 0; r < B; r++)
            for (size_t j = 0; j < out; j++)
                Y[r * out + j] += b[j];
}

void dgn_linear_backward(float *dW, float *db, float *dX, const float *dY,
                         const float *X, const float *W, size_t B, size_t in, size_t out,
                         dgn_pool *pool)
{
    /* dW += Xᵀ·dY */
    dgn_gemm_on(pool, DGN_TRANS, DGN_NOTRANS, in, out, B,
                1.0f, X, in, dY, out, 1.0f, dW, out);
    if (db)
        for (size_t r = 0; r < B; r++)
            for (size_t j = 0; j < out; j++)
                db[j] += dY[r * out + j];
    /* dX = dY·Wᵀ */
    if (dX)
        dgn_gemm_on(pool, DGN_NOTRANS, DGN_TRANS, B, in, out,
                    1.0f, dY, out, W, out, 0.0f, dX, in);
}

/* ---- batch normalisation -------------------------------------------------- */

/* The training-mode passes run on the pool's threads in blocks of
 * BN_COLS features: every feature's sums run over the rows in order
 * within one task, so the bits do not depend on the split. */
#define BN_COLS 128

static size_t col_blocks(size_t h)
{
    return (h + BN_COLS - 1) / BN_COLS;
}

/* Features [0, w) of rows ld apart; the pointers start at the block's
 * first feature. restrict: without it GCC leaves the normalising pass
 * scalar. */
static DGN_ALWAYS_INLINE void batchnorm_forward_train_body(
    float *restrict Y, float *restrict xhat, float *restrict mean, float *restrict inv_std,
    float *restrict run_mean, float *restrict run_var, const float *restrict X,
    const float *restrict gamma, const float *restrict beta, size_t B, size_t w, size_t ld,
    float momentum, float eps)
{
    for (size_t j = 0; j < w; j++) {
        mean[j] = 0;
        inv_std[j] = 0;
    }
    for (size_t r = 0; r < B; r++)
        for (size_t j = 0; j < w; j++)
            mean[j] += X[r * ld + j];
    for (size_t j = 0; j < w; j++)
        mean[j] /= (float)B;
    for (size_t r = 0; r < B; r++)
        for (size_t j = 0; j < w; j++) {
            float c = X[r * ld + j] - mean[j];
            inv_std[j] += c * c; /* sum of squares for now */
        }
    for (size_t j = 0; j < w; j++) {
        float var = inv_std[j] / (float)B;
        float unbiased = B > 1 ? inv_std[j] / (float)(B - 1) : var;
        inv_std[j] = 1.0f / sqrtf(var + eps);
        run_mean[j] = (1 - momentum) * run_mean[j] + momentum * mean[j];
        run_var[j] = (1 - momentum) * run_var[j] + momentum * unbiased;
    }
    for (size_t r = 0; r < B; r++)
        for (size_t j = 0; j < w; j++) {
            float xh = (X[r * ld + j] - mean[j]) * inv_std[j];
            xhat[r * ld + j] = xh;
            Y[r * ld + j] = gamma[j] * xh + beta[j];
        }
}

DGN_ISA_BUILDS(batchnorm_forward_train,
               (float *Y, float *xhat, float *mean, float *inv_std, float *run_mean,
                float *run_var, const float *X, const float *gamma, const float *beta,
                size_t B, size_t w, size_t ld, float momentum, float eps),
               (Y, xhat, mean, inv_std, run_mean, run_var, X, gamma, beta, B, w, ld,
                momentum, eps))

typedef struct bn_job {
    float *Y, *xhat, *mean, *inv_std, *run_mean, *run_var, *dgamma, *dbeta, *sums;
    const float *X, *gamma, *beta, *dY;
    size_t B, h;
    float momentum, eps;
} bn_job;

static void bn_forward_task(void *arg, size_t t)
{
    const bn_job *b = arg;
    size_t j = t * BN_COLS, w = b->h - j < BN_COLS ? b->h - j : BN_COLS;
    DGN_ISA_CALL(batchnorm_forward_train,
                 (b->Y + j, b->xhat + j, b->mean + j, b->inv_std + j, b->run_mean + j,
                  b->run_var + j, b->X + j, b->gamma + j, b->beta + j, b->B, w, b->h,
                  b->momentum, b->eps));
}

void dgn_batchnorm_forward_train(float *Y, float *xhat, float *mean, float *inv_std,
                                 float *run_mean, float *run_var, const float *X,
                                 const float *gamma, const float *beta,
                                 size_t B, size_t h, float momentum, float eps,
                                 dgn_pool *pool)
{
    bn_job b = {.Y = Y, .xhat = xhat, .mean = mean, .inv_std = inv_std,
                .run_mean = run_mean, .run_var = run_var, .X = X, .gamma = gamma,
                .beta = beta, .B = B, .h = h, .momentum = momentum, .eps = eps};
    dgn_pool_run(pool, bn_forward_task, &b, col_blocks(h));
}

/* Rows per task of the evaluation-mode BatchNorm. */
#define BN_EVAL_ROWS 32

typedef struct bn_eval_job {
    float *Y, *xhat;
    const float *X, *gamma, *beta, *run_mean, *inv_std;
    size_t B, h;
} bn_eval_job;

static void bn_forward_eval_task(void *arg, size_t t)
{
    const bn_eval_job *b = arg;
    size_t h = b->h, r1 = (t + 1) * BN_EVAL_ROWS;
    for (size_t r = t * BN_EVAL_ROWS; r < r1 && r < b->B; r++) {
        float *y = b->Y + r * h, *xh = b->xhat + r * h;
        const float *x = b->X + r * h;
        for (size_t j = 0; j < h; j++) {
            xh[j] = (x[j] - b->run_mean[j]) * b->inv_std[j];
            y[j] = b->gamma[j] * xh[j] + b->beta[j];
        }
    }
}

void dgn_batchnorm_forward_eval(float *Y, float *xhat, float *inv_std, const float *X,
                                const float *gamma, const float *beta,
                                const float *run_mean, const float *run_var,
                                size_t B, size_t h, float eps, dgn_pool *pool)
{
    /* One square root per feature, then row-major passes that vectorise. */
    for (size_t j = 0; j < h; j++)
        inv_std[j] = 1.0f / sqrtf(run_var[j] + eps);
    bn_eval_job b = {Y, xhat, X, gamma, beta, run_mean, inv_std, B, h};
    dgn_pool_run(pool, bn_forward_eval_task, &b, (B + BN_EVAL_ROWS - 1) / BN_EVAL_ROWS);
}

static DGN_ALWAYS_INLINE void batchnorm_backward_train_body(
    float *dgamma, float *dbeta, float *dX, const float *dY, const float *xhat,
    const float *inv_std, const float *gamma, size_t B, size_t w, size_t ld, float *s,
    float *sx)
{
    /* dX = γ/(Bσ) · (B·dY − Σ dY − x̂·Σ dY·x̂), per feature; row by row, so
     * that the features fill the vector lanes. */
    for (size_t j = 0; j < w; j++)
        s[j] = sx[j] = 0;
    for (size_t r = 0; r < B; r++)
        for (size_t j = 0; j < w; j++) {
            s[j] += dY[r * ld + j];
            sx[j] += dY[r * ld + j] * xhat[r * ld + j];
        }
    for (size_t j = 0; j < w; j++) {
        dgamma[j] += sx[j];
        dbeta[j] += s[j];
    }
    for (size_t r = 0; r < B; r++)
        for (size_t j = 0; j < w; j++) {
            float k = gamma[j] * inv_std[j] / (float)B;
            dX[r * ld + j] = k * ((float)B * dY[r * ld + j] - s[j] - xhat[r * ld + j] * sx[j]);
        }
}

DGN_ISA_BUILDS(batchnorm_backward_train,
               (float *dgamma, float *dbeta, float *dX, const float *dY, const float *xhat,
                const float *inv_std, const float *gamma, size_t B, size_t w, size_t ld,
                float *s, float *sx),
               (dgamma, dbeta, dX, dY, xhat, inv_std, gamma, B, w, ld, s, sx))

static void bn_backward_task(void *arg, size_t t)
{
    const bn_job *b = arg;
    size_t j = t * BN_COLS, w = b->h - j < BN_COLS ? b->h - j : BN_COLS;
    DGN_ISA_CALL(batchnorm_backward_train,
                 (b->dgamma + j, b->dbeta + j, b->Y + j, b->dY + j, b->X + j,
                  b->inv_std + j, b->gamma + j, b->B, w, b->h, b->sums + j,
                  b->sums + b->h + j));
}

void dgn_batchnorm_backward_train(float *dgamma, float *dbeta, float *dX, const float *dY,
                                  const float *xhat, const float *inv_std,
                                  const float *gamma, size_t B, size_t h, float *sums,
                                  dgn_pool *pool)
{
    /* Y is dX and X is xhat here. */
    bn_job b = {.Y = dX, .inv_std = (float *)inv_std, .dgamma = dgamma, .dbeta = dbeta,
                .sums = sums, .X = xhat, .gamma = gamma, .dY = dY, .B = B, .h = h};
    dgn_pool_run(pool, bn_backward_task, &b, col_blocks(h));
}

void dgn_batchnorm_backward_eval(float *dgamma, float *dbeta, float *dX, const float *dY,
                                 const float *xhat, const float *gamma,
                                 const float *run_var, size_t B, size_t h, float eps)
{
    for (size_t j = 0; j < h; j++) {
        float s = 0, sx = 0, k = gamma[j] / sqrtf(run_var[j] + eps);
        for (size_t r = 0; r < B; r++) {
            s += dY[r * h + j];
            sx += dY[r * h + j] * xhat[r * h + j];
            dX[r * h + j] = k * dY[r * h + j];
        }
        dgamma[j] += sx;
        dbeta[j] += s;
    }
}

/* ---- ReLU and dropout ------------------------------------------------------- */

/* out = in·mask where N > 0, else 0 (mask NULL: 1): the ReLU forward
 * (in = N) and backward (in = dA). Both operands are loaded whatever the
 * sign, so that the select has no branch and vectorises. */
static DGN_ALWAYS_INLINE void relu_gate_body(float *restrict out, const float *restrict in,
                                             const float *restrict N,
                                             const float *restrict mask, size_t count)
{
    if (mask)
        for (size_t i = 0; i < count; i++) {
            float v = in[i] * mask[i];
            out[i] = N[i] > 0 ? v : 0.0f;
        }
    else
        for (size_t i = 0; i < count; i++)
            out[i] = N[i] > 0 ? in[i] : 0.0f;
}

DGN_ISA_BUILDS(relu_gate,
               (float *restrict out, const float *restrict in, const float *restrict N,
                const float *restrict mask, size_t count),
               (out, in, N, mask, count))

/* mask[i] = 0 when a 32-bit hash of (key, i) falls below `below` (so p
 * is exact to 2⁻³²), else keep. One generator call per batch, then a
 * counter-based hash per element (Wellons' lowbias32, twice, the key
 * mixed in), which vectorises where a sequential generator cannot. */
static DGN_ALWAYS_INLINE void dropout_mask_body(float *mask, size_t count, uint32_t below,
                                                float keep, uint32_t key0, uint32_t key1,
                                                uint32_t first)
{
    for (size_t i = 0; i < count; i++) {
        uint32_t x = (first + (uint32_t)i) ^ key0;
        for (int round = 0; round < 2; round++) {
            x ^= x >> 16;
            x *= 0x7feb352du;
            x ^= x >> 15;
            x *= 0x846ca68bu;
            x ^= x >> 16;
            x += key1;
        }
        mask[i] = x < below ? 0.0f : keep;
    }
}

DGN_ISA_BUILDS(dropout_mask,
               (float *mask, size_t count, uint32_t below, float keep, uint32_t key0,
                uint32_t key1, uint32_t first),
               (mask, count, below, keep, key0, key1, first))

/* ReLU and dropout run on the pool's threads in blocks of RELU_COLS
 * features of every row, as BatchNorm's, so that a thread mostly meets
 * the features it has just normalised; the mask hashes the element's
 * index, so the split does not change a bit. */
#define RELU_COLS 128

typedef struct relu_job {
    float *out, *mask;
    const float *in, *N;
    size_t rows, cols;
    uint32_t below, key0, key1;
    float keep;
} relu_job;

static void relu_task(void *arg, size_t t)
{
    const relu_job *r = arg;
    size_t j = t * RELU_COLS, w = r->cols - j < RELU_COLS ? r->cols - j : RELU_COLS;
    for (size_t row = 0; row < r->rows; row++) {
        size_t i = row * r->cols + j;
        const float *mask = r->mask ? r->mask + i : NULL;
        if (r->keep > 0)
            DGN_ISA_CALL(dropout_mask, (r->mask + i, w, r->below, r->keep, r->key0, r->key1,
                                        (uint32_t)i));
        DGN_ISA_CALL(relu_gate, (r->out + i, r->in + i, r->N + i, mask, w));
    }
}

static void relu_run(relu_job *r, dgn_pool *pool)
{
    dgn_pool_run(pool, relu_task, r, (r->cols + RELU_COLS - 1) / RELU_COLS);
}

void dgn_relu_dropout_forward(float *A, float *mask, const float *N, size_t rows, size_t cols,
                              float p, dgn_rng *rng, dgn_pool *pool)
{
    relu_job r = {.out = A, .in = N, .N = N, .rows = rows, .cols = cols};
    if (rng && p > 0) {
        uint64_t key = dgn_rng_next(rng);
        r.mask = mask;
        r.below = (uint32_t)fmin((double)p * 4294967296.0, 4294967295.0);
        r.key0 = (uint32_t)key;
        r.key1 = (uint32_t)(key >> 32);
        r.keep = 1.0f / (1.0f - p);
    }
    relu_run(&r, pool);
}

void dgn_relu_dropout_backward(float *dN, const float *dA, const float *N,
                               const float *mask, size_t rows, size_t cols, dgn_pool *pool)
{
    relu_job r = {.out = dN, .mask = (float *)mask, .in = dA, .N = N, .rows = rows,
                  .cols = cols};
    relu_run(&r, pool);
}

/* ---- L2 normalisation -------------------------------------------------------- */

/* Blocks of L2_ROWS rows are the tasks of a pool; every row alone. */
#define L2_ROWS 64

typedef struct l2_job {
    float *out, *rnorm;
    const float *in, *dF;
    size_t B, k;
} l2_job;

static void l2_forward_task(void *arg, size_t t)
{
    const l2_job *j = arg;
    size_t k = j->k, end = (t + 1) * L2_ROWS < j->B ? (t + 1) * L2_ROWS : j->B;
    for (size_t r = t * L2_ROWS; r < end; r++) {
        const float *Y = j->in + r * k;
        float s = 0, *F = j->out + r * k;
        for (size_t i = 0; i < k; i++)
            s += Y[i] * Y[i];
        float norm = sqrtf(s);
        j->rnorm[r] = norm > 1e-12f ? norm : 1e-12f;
        for (size_t i = 0; i < k; i++)
            F[i] = Y[i] / j->rnorm[r];
    }
}

void dgn_l2norm_forward(float *F, float *rnorm, const float *Y, size_t B, size_t k,
                        dgn_pool *pool)
{
    l2_job j = {.out = F, .rnorm = rnorm, .in = Y, .B = B, .k = k};
    dgn_pool_run(pool, l2_forward_task, &j, (B + L2_ROWS - 1) / L2_ROWS);
}

static void l2_backward_task(void *arg, size_t t)
{
    const l2_job *j = arg;
    size_t k = j->k, end = (t + 1) * L2_ROWS < j->B ? (t + 1) * L2_ROWS : j->B;
    for (size_t r = t * L2_ROWS; r < end; r++) {
        const float *F = j->in + r * k, *dF = j->dF + r * k;
        float dot = 0, *dY = j->out + r * k;
        for (size_t i = 0; i < k; i++)
            dot += F[i] * dF[i];
        for (size_t i = 0; i < k; i++)
            dY[i] = (dF[i] - F[i] * dot) / j->rnorm[r];
    }
}

void dgn_l2norm_backward(float *dY, const float *dF, const float *F, const float *rnorm,
                         size_t B, size_t k, dgn_pool *pool)
{
    l2_job j = {.out = dY, .rnorm = (float *)rnorm, .in = F, .dF = dF, .B = B, .k = k};
    dgn_pool_run(pool, l2_backward_task, &j, (B + L2_ROWS - 1) / L2_ROWS);
}
