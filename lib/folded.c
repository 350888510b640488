#include "folded.h"

#include <math.h>
#include <string.h>

#include "exp.h"
#include "gemm.h"
#include "lanes.h"
#include "layers.h"

#define GEMM dgn_gemm
#define N_ DGN_NOTRANS
#define T_ DGN_TRANS

void dgn_fold_mixing(float *Mp, float *Mt, float *Vn, float *vnorm, const float *V,
                     size_t n, size_t f)
{
    dgn_graph_mix(Mp, Vn, vnorm, V, n, f); /* its first n rows */
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            Mt[j * n + i] = Mp[i * n + j];
}

/* The fold's per-component products are the tasks of a pool: task i
 * forms Wf_(i,·) (forward) or dW1_i and its share of dEv (backward). */
typedef struct fold_job {
    float *Wf, *dW1, *dEvl;
    const float *Ev, *W1, *dWf;
    size_t n, d, h;
} fold_job;

static void fold_weights_task(void *arg, size_t i)
{
    const fold_job *j = arg;
    size_t n = j->n, d = j->d, h = j->h;
    GEMM(N_, N_, n, h, d, 1.0f, j->Ev, d, j->W1 + i * d * h, h, 0.0f, j->Wf + i * n * h, h);
}

void dgn_fold_weights_on(dgn_pool *pool, float *G, float *Wf, float *Eq, float *Ek,
                         float *Ev, const float *E, const float *Wq, const float *Wk,
                         const float *Wv, const float *W1, size_t n, size_t d, size_t h)
{
    GEMM(N_, N_, n, d, d, 1.0f, E, d, Wq, d, 0.0f, Eq, d);
    GEMM(N_, N_, n, d, d, 1.0f, E, d, Wk, d, 0.0f, Ek, d);
    GEMM(N_, N_, n, d, d, 1.0f, E, d, Wv, d, 0.0f, Ev, d);
    /* The same scale the attention applies to Q·Kᵀ. */
    GEMM(N_, T_, n, n, d, 1.0f / sqrtf((float)d), Eq, d, Ek, d, 0.0f, G, n);
    /* Rows (i, ·) of Wf are Ev·W1_i, W1_i the d rows of W1 that component
     * i's attention output meets. */
    fold_job j = {.Wf = Wf, .Ev = Ev, .W1 = W1, .n = n, .d = d, .h = h};
    dgn_pool_run(pool, fold_weights_task, &j, n);
}

void dgn_fold_weights(float *G, float *Wf, float *Eq, float *Ek, float *Ev,
                      const float *E, const float *Wq, const float *Wk, const float *Wv,
                      const float *W1, size_t n, size_t d, size_t h)
{
    dgn_fold_weights_on(NULL, G, Wf, Eq, Ek, Ev, E, Wq, Wk, Wv, W1, n, d, h);
}

void dgn_fold_weights_plain(float *Wf, const float *E, const float *W1, size_t n, size_t d,
                            size_t h)
{
    /* Without the attention, component i's embedding meets only the d
     * rows W1_i. */
    for (size_t i = 0; i < n; i++)
        GEMM(N_, N_, 1, h, d, 1.0f, E + i * d, d, W1 + i * d * h, h, 0.0f, Wf + i * h, h);
}

static void fold_backward_task(void *arg, size_t i)
{
    const fold_job *j = arg;
    size_t n = j->n, d = j->d, h = j->h;
    const float *dWfi = j->dWf + i * n * h, *W1i = j->W1 + i * d * h;
    GEMM(T_, N_, d, h, n, 1.0f, j->Ev, d, dWfi, h, 1.0f, j->dW1 + i * d * h, h);
    GEMM(N_, T_, n, d, h, 1.0f, dWfi, h, W1i, h, 0.0f, j->dEvl + i * n * d, d);
}

void dgn_fold_weights_backward(dgn_pool *pool, float *dE, float *dWq, float *dWk, float *dWv,
                               float *dW1, const float *dG, const float *dWf, const float *E,
                               const float *Wq, const float *Wk, const float *Wv,
                               const float *W1, const float *Eq, const float *Ek,
                               const float *Ev, size_t n, size_t d, size_t h,
                               float *dEq, float *dEk, float *dEv, float *dEvl)
{
    float scale = 1.0f / sqrtf((float)d);
    /* G = Eq·Ekᵀ·scale */
    GEMM(N_, N_, n, d, n, scale, dG, n, Ek, d, 0.0f, dEq, d);
    GEMM(T_, N_, n, d, n, scale, dG, n, Eq, d, 0.0f, dEk, d);
    /* Wf_(i,·) = Ev·W1_i; dEv's shares added in i order, the sums one
     * product with beta = 1 after another would give. */
    fold_job j = {.dW1 = dW1, .dEvl = dEvl, .Ev = Ev, .W1 = W1, .dWf = dWf, .n = n, .d = d,
                  .h = h};
    dgn_pool_run(pool, fold_backward_task, &j, n);
    memcpy(dEv, dEvl, n * d * sizeof *dEv);
    for (size_t i = 1; i < n; i++)
        for (size_t e = 0; e < n * d; e++)
            dEv[e] += dEvl[i * n * d + e];
    /* E* = E·W* */
    GEMM(T_, N_, d, d, n, 1.0f, E, d, dEq, d, 1.0f, dWq, d);
    GEMM(T_, N_, d, d, n, 1.0f, E, d, dEk, d, 1.0f, dWk, d);
    GEMM(T_, N_, d, d, n, 1.0f, E, d, dEv, d, 1.0f, dWv, d);
    GEMM(N_, T_, n, d, d, 1.0f, dEq, d, Wq, d, 1.0f, dE, d);
    GEMM(N_, T_, n, d, d, 1.0f, dEk, d, Wk, d, 1.0f, dE, d);
    GEMM(N_, T_, n, d, d, 1.0f, dEv, d, Wv, d, 1.0f, dE, d);
}

/* Softmax over j of P[j][b] (n rows, ld apart) for lanes b < W; acc [W]. */
static DGN_ALWAYS_INLINE void lane_softmax(float *P, float *acc, size_t n, size_t W,
                                           size_t ld)
{
    for (size_t b = 0; b < W; b++)
        acc[b] = P[b];
    for (size_t j = 1; j < n; j++)
        for (size_t b = 0; b < W; b++)
            acc[b] = P[j * ld + b] > acc[b] ? P[j * ld + b] : acc[b];
    for (size_t j = 0; j < n; j++)
        for (size_t b = 0; b < W; b++)
            P[j * ld + b] -= acc[b];
    for (size_t j = 0; j < n; j++)
        dgn_exp_nonpositive_inline(P + j * ld, W);
    for (size_t b = 0; b < W; b++)
        acc[b] = P[b];
    for (size_t j = 1; j < n; j++)
        for (size_t b = 0; b < W; b++)
            acc[b] += P[j * ld + b];
    /* one division per sample, not per element */
    for (size_t b = 0; b < W; b++)
        acc[b] = 1.0f / acc[b];
    for (size_t j = 0; j < n; j++)
        for (size_t b = 0; b < W; b++)
            P[j * ld + b] *= acc[b];
}

/* Lanes are taken BLOCK at a time through every stage, so that a block's
 * slices of the planes stay in cache from one stage to the next. Every
 * lane is computed alone, so no split changes a bit. */
#define BLOCK 32

/* Rcol[l][b] = R_lm for lanes b in [c, c + W): the backward pass forms
 * it again rather than keep the plane R, n times the size, in memory. */
static DGN_ALWAYS_INLINE void r_column(float *Rcol, const float *xt, const float *G, size_t L,
                                       size_t n, size_t m, size_t c, size_t W)
{
    const float *xm = xt + m * L + c;
    for (size_t l = 0; l < n; l++) {
        float g = G[l * n + m], *r = Rcol + l * L + c;
        const float *xl = xt + l * L + c;
        for (size_t b = 0; b < W; b++)
            r[b] = xl[b] * g * xm[b];
    }
}

/* Lanes [c, c + W) of the forward pass, xt's transposition included; acc
 * is scratch [W]. */
static DGN_ALWAYS_INLINE void attention_forward_body(float *T, float *P, float *S, float *Rcol,
                                                     float *xt, float *acc, const float *x,
                                                     const float *Mp, const float *Mt,
                                                     const float *G, size_t B, size_t n,
                                                     size_t c)
{
    size_t L = dgn_round_lanes(B), plane = n * L;
    size_t W = L - c < BLOCK ? L - c : BLOCK, real = B > c ? (B - c < W ? B - c : W) : 0;
    for (size_t l = 0; l < n; l++) {
        for (size_t b = 0; b < real; b++)
            xt[l * L + c + b] = x[(c + b) * n + l];
        for (size_t b = real; b < W; b++)
            xt[l * L + c + b] = 0.0f;
    }
    /* Column m of R[l][m][b] = x_bl·G_lm·x_bm into Rcol, then column m of
     * S = M·R (over l). */
    for (size_t m = 0; m < n; m++) {
        r_column(Rcol, xt, G, L, n, m, c, W);
        dgn_mix(S + m * L + c, plane, Mp, Rcol + c, L, n, W);
    }
    /* Row i: the logits S_i·Mᵀ (out[j] = Σ_m M_jm·S_i[m]) into P_i, their
     * softmax, and T_im = (P·M)_im·x_m. */
    for (size_t i = 0; i < n; i++) {
        float *Pi = P + i * plane + c, *Ti = T + i * plane + c;
        dgn_mix(Pi, L, Mp, S + i * plane + c, L, n, W);
        lane_softmax(Pi, acc, n, W, L);
        dgn_mix(Ti, L, Mt, Pi, L, n, W);
        for (size_t m = 0; m < n; m++)
            for (size_t b = 0; b < W; b++)
                Ti[m * L + b] *= xt[m * L + c + b];
    }
}

DGN_ISA_BUILDS(attention_forward,
               (float *T, float *P, float *S, float *Rcol, float *xt, float *acc,
                const float *x, const float *Mp, const float *Mt, const float *G, size_t B,
                size_t n, size_t c),
               (T, P, S, Rcol, xt, acc, x, Mp, Mt, G, B, n, c))

typedef struct forward_job {
    float *T, *P, *S, *Rcol, *xt, *acc;
    const float *x, *Mp, *Mt, *G;
    size_t B, n;
    int shared_acc; /* every block uses acc[0, BLOCK): one thread only */
} forward_job;

/* A task is a block of BLOCK lanes. The pool gives each thread a run of
 * consecutive blocks, at 2 threads and the default batch exactly the
 * backward pass's chunks (DGN_FOLD_CHUNK), so the thread that runs a chunk
 * back mostly finds its planes in its own cache; and a thread done early
 * takes the other's last blocks, which whole chunks would not allow. */
static void attention_forward_task(void *arg, size_t t)
{
    const forward_job *j = arg;
    size_t c = t * BLOCK;
    float *acc = j->shared_acc ? j->acc : j->acc + c;
    DGN_ISA_CALL(attention_forward, (j->T, j->P, j->S, j->Rcol, j->xt, acc, j->x, j->Mp, j->Mt,
                                     j->G, j->B, j->n, c));
}

static size_t forward_blocks(size_t B)
{
    return (dgn_round_lanes(B) + BLOCK - 1) / BLOCK;
}

void dgn_folded_attention_forward(float *T, float *P, float *S, float *Rcol, float *xt,
                                  float *acc, const float *x, const float *Mp,
                                  const float *Mt, const float *G, size_t B, size_t n)
{
    forward_job j = {T, P, S, Rcol, xt, acc, x, Mp, Mt, G, B, n, 1};
    dgn_pool_run(NULL, attention_forward_task, &j, forward_blocks(B));
}

void dgn_folded_attention_forward_on(dgn_pool *pool, float *T, float *P, float *S, float *Rcol,
                                     float *xt, float *acc, const float *x, const float *Mp,
                                     const float *Mt, const float *G, size_t B, size_t n)
{
    forward_job j = {T, P, S, Rcol, xt, acc, x, Mp, Mt, G, B, n, 0};
    dgn_pool_run(pool, attention_forward_task, &j, forward_blocks(B));
}

/* Σ_b a[b]·c[b]·e[b] over L lanes, in LANES partial sums: a single chain
 * of dependent additions would not vectorise. */
static DGN_ALWAYS_INLINE float lane_dot3(const float *a, const float *c, const float *e,
                                         size_t L)
{
    float s[LANES] = {0};
    for (size_t b = 0; b < L; b += LANES)
        for (size_t v = 0; v < LANES; v++)
            s[v] += a[b + v] * c[b + v] * e[b + v];
    for (size_t w = LANES / 2; w > 0; w /= 2)
        for (size_t v = 0; v < w; v++)
            s[v] += s[v + w];
    return s[0];
}

/* Row i of the backward pass over lanes [c, c + W): back through
 * T_i = (P_i·M)·X, the softmax and the logits S_i·Mᵀ; dS_i overwrites
 * dT_i, and gcol [n][L] holds dP_i and then d(logits)_i. */
static DGN_ALWAYS_INLINE void backward_row(float *dMl, float *dxt, float *dT, float *gcol,
                                           float *acc, const float *P, const float *S,
                                           const float *xt, const float *Mp,
                                           const float *Mt, size_t L, size_t n, size_t i,
                                           size_t c, size_t W)
{
    size_t plane = n * L;
    const float *Pi = P + i * plane + c;
    float *dTi = dT + i * plane + c, *gi = gcol + c;
    if (dxt) { /* x's share through X needs P_i·M again */
        dgn_mix(gi, L, Mt, Pi, L, n, W);
        for (size_t m = 0; m < n; m++)
            for (size_t b = 0; b < W; b++)
                dxt[m * L + c + b] += dTi[m * L + b] * gi[m * L + b];
    }
    for (size_t m = 0; m < n; m++)
        for (size_t b = 0; b < W; b++)
            dTi[m * L + b] *= xt[m * L + c + b];
    /* d(P_i·M): dM_jm += Σ_b P_i[j][b]·dTi[m][b]; dP_i = M·dTi. */
    dgn_lane_outer(dMl, Pi, L, dTi, L, n, W);
    dgn_mix(gi, L, Mp, dTi, L, n, W);
    /* Softmax: d(logits) = P ⊙ (dP − Σ_j P·dP). */
    for (size_t b = 0; b < W; b++)
        acc[b] = Pi[b] * gi[b];
    for (size_t j = 1; j < n; j++)
        for (size_t b = 0; b < W; b++)
            acc[b] += Pi[j * L + b] * gi[j * L + b];
    for (size_t j = 0; j < n; j++)
        for (size_t b = 0; b < W; b++)
            gi[j * L + b] = Pi[j * L + b] * (gi[j * L + b] - acc[b]);
    /* logits_i[j] = Σ_m M_jm·S_i[m]: dM_jm += Σ_b dlogits[j][b]·S_i[m][b],
     * dS_i = Mᵀ·dlogits. */
    dgn_lane_outer(dMl, gi, L, S + i * plane + c, L, n, W);
    dgn_mix(dTi, L, Mt, gi, L, n, W);
}

/* The backward pass over the chunk of lanes [c, c + W): dG_c = this
 * chunk's ∂/∂G, dMl its lane sums of ∂/∂M (both overwritten), dx its
 * rows when dxt is not NULL. */
static DGN_ALWAYS_INLINE void attention_backward_body(float *dGc, float *dx, float *dT,
                                                      float *dxt, float *acc,
                                                      float *dMl, const float *P,
                                                      const float *S, float *Rcol,
                                                      const float *xt, const float *Mp,
                                                      const float *Mt, const float *G,
                                                      size_t B, size_t n, size_t c)
{
    size_t L = dgn_round_lanes(B), plane = n * L;
    size_t W = L - c < DGN_FOLD_CHUNK ? L - c : DGN_FOLD_CHUNK;
    if (dxt)
        for (size_t m = 0; m < n; m++)
            memset(dxt + m * L + c, 0, W * sizeof *dxt);
    memset(dMl, 0, dgn_lane_outer_size(n) * sizeof *dMl);
    for (size_t i = 0; i < n; i++)
        backward_row(dMl, dxt, dT, Rcol, acc, P, S, xt, Mp, Mt, L, n, i, c, W);
    /* S = M·R, a column m at a time: dM += dS·Rᵀ, dR = Mᵀ·dS (R's and
     * dR's columns in Rcol, free again), and R_lm = x_l·G_lm·x_m. */
    float *dRcol = Rcol + n * L;
    for (size_t m = 0; m < n; m++) {
        r_column(Rcol, xt, G, L, n, m, c, W);
        dgn_lane_outer(dMl, dT + m * L + c, plane, Rcol + c, L, n, W);
        dgn_mix(dRcol + c, L, Mt, dT + m * L + c, plane, n, W);
        const float *xm = xt + m * L + c;
        for (size_t l = 0; l < n; l++) {
            const float *dR = dRcol + l * L + c, *xl = xt + l * L + c;
            dGc[l * n + m] = lane_dot3(dR, xl, xm, W);
            if (dxt) {
                float g = G[l * n + m], *dl = dxt + l * L + c, *dm = dxt + m * L + c;
                for (size_t b = 0; b < W; b++) {
                    dl[b] += dR[b] * g * xm[b];
                    dm[b] += dR[b] * g * xl[b];
                }
            }
        }
    }
    if (dxt)
        for (size_t b = c; b < B && b < c + W; b++)
            for (size_t l = 0; l < n; l++)
                dx[b * n + l] = dxt[l * L + b];
}

DGN_ISA_BUILDS(attention_backward,
               (float *dGc, float *dx, float *dT, float *dxt, float *acc,
                float *dMl, const float *P, const float *S, float *Rcol, const float *xt,
                const float *Mp, const float *Mt, const float *G, size_t B, size_t n,
                size_t c),
               (dGc, dx, dT, dxt, acc, dMl, P, S, Rcol, xt, Mp, Mt, G, B, n, c))

typedef struct backward_job {
    float *dx, *dT, *dxt, *acc, *dMl, *dGl, *Rcol;
    const float *P, *S, *xt, *Mp, *Mt, *G;
    size_t B, n;
} backward_job;

static void attention_backward_task(void *arg, size_t t)
{
    const backward_job *j = arg;
    size_t c = t * DGN_FOLD_CHUNK, n = j->n;
    DGN_ISA_CALL(attention_backward,
                 (j->dGl + t * n * n, j->dx, j->dT, j->dx ? j->dxt : NULL,
                  j->acc + c, j->dMl + t * dgn_lane_outer_size(n), j->P, j->S, j->Rcol, j->xt,
                  j->Mp, j->Mt, j->G, j->B, n, c));
}

void dgn_folded_attention_backward(dgn_pool *pool, float *dG, float *dM, float *dx,
                                   float *dT, float *dxt, float *acc,
                                   float *dMl, float *dGl, const float *P, const float *S,
                                   float *Rcol, const float *xt, const float *Mp,
                                   const float *Mt, const float *G, size_t B, size_t n)
{
    backward_job j = {dx, dT, dxt, acc, dMl, dGl, Rcol, P, S, xt, Mp, Mt, G, B, n};
    size_t chunks = dgn_fold_chunks(B), outer = dgn_lane_outer_size(n);
    dgn_pool_run(pool, attention_backward_task, &j, chunks);
    /* The chunks' partial sums, added in chunk order. */
    for (size_t t = 1; t < chunks; t++) {
        const float *g = dGl + t * n * n, *a = dMl + t * outer;
        for (size_t i = 0; i < n * n; i++)
            dGl[i] += g[i];
        for (size_t i = 0; i < outer; i++)
            dMl[i] += a[i];
    }
    for (size_t i = 0; i < n * n; i++)
        dG[i] += dGl[i];
    dgn_lane_outer_reduce(dM, dMl, n);
}

void dgn_folded_projection_forward(float *Y1, const float *T, const float *Wf, size_t B,
                                   size_t n, size_t h, dgn_pool *pool)
{
    dgn_gemm_on(pool, T_, N_, B, h, n * n, 1.0f, T, dgn_round_lanes(B), Wf, h, 0.0f, Y1, h);
}

void dgn_folded_projection_backward(float *dWf, float *dT, const float *dY1, const float *T,
                                    const float *Wf, size_t B, size_t n, size_t h,
                                    dgn_pool *pool)
{
    size_t L = dgn_round_lanes(B);
    dgn_gemm_on(pool, N_, N_, n * n, h, B, 1.0f, T, L, dY1, h, 0.0f, dWf, h);
    dgn_gemm_on(pool, N_, T_, n * n, B, h, 1.0f, Wf, h, dY1, h, 0.0f, dT, L);
    for (size_t r = 0; r < n * n; r++)
        for (size_t b = B; b < L; b++)
            dT[r * L + b] = 0.0f;
}
