/* The fold (lib/folded.h) on its own: the folded weights against plain
 * loops, the folded projection against a plain reference and central
 * differences, and its threaded GEMM against the caller's thread. The
 * folded network as a whole (attention included) is checked against the
 * layers in test_model; here, the attention's and the fold's threaded
 * calls against the caller's thread. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "folded.h"
#include "gradcheck.h"
#include "lanes.h"
#include "pool.h"
#include "testutil.h"

/* Small sizes that are not multiples of anything: n components, d the
 * embedding, h the projection's width, B rows in a 16-lane padded plane. */
enum { N = 5, D = 3, H = 4 };
static const size_t BS[] = {1, 7, 16, 19};

static float *randoms(size_t n, unsigned *state)
{
    float *v = malloc((n ? n : 1) * sizeof *v);
    ck_assert_ptr_nonnull(v);
    fill_uniform(v, n, state, 1.0f);
    return v;
}

static void ck_close(const float *got, const double *want, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(fabs(got[i] - want[i]) <= 1e-5 * (1 + fabs(want[i])),
                      "%s[%zu]: %.9g, expected %.9g", what, i, (double)got[i], want[i]);
}

/* ---- the folded weights ------------------------------------------------- */

/* a [r][k] · b [k][c] in double. */
static void matmul(double *out, const float *a, const float *b, size_t r, size_t k, size_t c)
{
    for (size_t i = 0; i < r; i++)
        for (size_t j = 0; j < c; j++) {
            double s = 0;
            for (size_t e = 0; e < k; e++)
                s += (double)a[i * k + e] * b[e * c + j];
            out[i * c + j] = s;
        }
}

START_TEST(fold_weights_match_plain_loops)
{
    unsigned st = 11;
    float *E = randoms(N * D, &st), *Wq = randoms(D * D, &st), *Wk = randoms(D * D, &st),
          *Wv = randoms(D * D, &st), *W1 = randoms(N * D * H, &st);
    float G[N * N], Wf[N * N * H], Eq[N * D], Ek[N * D], Ev[N * D];
    dgn_fold_weights(G, Wf, Eq, Ek, Ev, E, Wq, Wk, Wv, W1, N, D, H);

    double q[N * D], k[N * D], v[N * D], g[N * N], wf[N * N * H];
    matmul(q, E, Wq, N, D, D);
    matmul(k, E, Wk, N, D, D);
    matmul(v, E, Wv, N, D, D);
    ck_close(Eq, q, N * D, "Eq");
    ck_close(Ek, k, N * D, "Ek");
    ck_close(Ev, v, N * D, "Ev");
    /* G = Eq·Ekᵀ/√d; Wf_(i,m) = Ev_m·W1_i, W1_i the d rows of component i. */
    for (size_t l = 0; l < N; l++)
        for (size_t m = 0; m < N; m++) {
            double s = 0;
            for (size_t e = 0; e < D; e++)
                s += q[l * D + e] * k[m * D + e];
            g[l * N + m] = s / sqrt((double)D);
        }
    for (size_t i = 0; i < N; i++)
        for (size_t m = 0; m < N; m++)
            for (size_t j = 0; j < H; j++) {
                double s = 0;
                for (size_t e = 0; e < D; e++)
                    s += v[m * D + e] * W1[(i * D + e) * H + j];
                wf[(i * N + m) * H + j] = s;
            }
    ck_close(G, g, N * N, "G");
    ck_close(Wf, wf, N * N * H, "Wf");

    /* Without interaction: row i is E_i·W1_i. */
    float Wp[N * H];
    double wp[N * H];
    dgn_fold_weights_plain(Wp, E, W1, N, D, H);
    for (size_t i = 0; i < N; i++)
        matmul(wp + i * H, E + i * D, W1 + i * D * H, 1, D, H);
    ck_close(Wp, wp, N * H, "plain Wf");
    free(E), free(Wq), free(Wk), free(Wv), free(W1);
}
END_TEST

/* L = Σ G⊙CG + Σ Wf⊙CW, as a function of the weights. */
typedef struct fold_ctx {
    float *E, *Wq, *Wk, *Wv, *W1, *CG, *CW;
} fold_ctx;

static double fold_loss(void *p)
{
    fold_ctx *c = p;
    float G[N * N], Wf[N * N * H], Eq[N * D], Ek[N * D], Ev[N * D];
    dgn_fold_weights(G, Wf, Eq, Ek, Ev, c->E, c->Wq, c->Wk, c->Wv, c->W1, N, D, H);
    double s = 0;
    for (size_t i = 0; i < N * N; i++)
        s += (double)G[i] * c->CG[i];
    for (size_t i = 0; i < N * N * H; i++)
        s += (double)Wf[i] * c->CW[i];
    return s;
}

START_TEST(fold_weights_backward_matches_central_differences)
{
    unsigned st = 23;
    fold_ctx c = {randoms(N * D, &st), randoms(D * D, &st), randoms(D * D, &st),
                  randoms(D * D, &st), randoms(N * D * H, &st), randoms(N * N, &st),
                  randoms(N * N * H, &st)};
    float G[N * N], Wf[N * N * H], Eq[N * D], Ek[N * D], Ev[N * D];
    dgn_fold_weights(G, Wf, Eq, Ek, Ev, c.E, c.Wq, c.Wk, c.Wv, c.W1, N, D, H);
    /* The gradients accumulate: start them from a non-zero value. */
    float dE[N * D], dWq[D * D], dWk[D * D], dWv[D * D], dW1[N * D * H];
    float dEq[N * D], dEk[N * D], dEv[N * D], dEvl[N * N * D];
    float *grads[] = {dE, dWq, dWk, dWv, dW1};
    size_t sizes[] = {N * D, D * D, D * D, D * D, N * D * H};
    for (int t = 0; t < 5; t++)
        for (size_t i = 0; i < sizes[t]; i++)
            grads[t][i] = 0.25f;
    dgn_fold_weights_backward(NULL, dE, dWq, dWk, dWv, dW1, c.CG, c.CW, c.E, c.Wq, c.Wk,
                              c.Wv, c.W1, Eq, Ek, Ev, N, D, H, dEq, dEk, dEv, dEvl);
    float *params[] = {c.E, c.Wq, c.Wk, c.Wv, c.W1};
    const char *names[] = {"E", "Wq", "Wk", "Wv", "W1"};
    for (int t = 0; t < 5; t++) {
        for (size_t i = 0; i < sizes[t]; i++)
            grads[t][i] -= 0.25f;
        gc_result r = gradcheck(fold_loss, &c, params[t], grads[t], sizes[t], 200, 1e-2f);
        ck_assert_msg(gradcheck_ok(r), "d%s: %zu of %zu wrong (worst %.3g)", names[t],
                      r.failed, r.checked, r.worst);
    }
    free(c.E), free(c.Wq), free(c.Wk), free(c.Wv), free(c.W1), free(c.CG), free(c.CW);
}
END_TEST

/* ---- the folded projection ---------------------------------------------- */

/* Y1 [B][h] = Tᵀ·Wf over the first B lanes, T [n·n][L]. */
static void projection_reference(double *Y, const float *T, const float *Wf, size_t B,
                                 size_t L)
{
    for (size_t b = 0; b < B; b++)
        for (size_t j = 0; j < H; j++) {
            double s = 0;
            for (size_t r = 0; r < N * N; r++)
                s += (double)T[r * L + b] * Wf[r * H + j];
            Y[b * H + j] = s;
        }
}

START_TEST(projection_forward_matches_a_plain_loop_on_any_pool)
{
    size_t B = BS[_i], L = dgn_round_lanes(B);
    unsigned st = 31 + (unsigned)_i;
    float *T = randoms(N * N * L, &st), *Wf = randoms(N * N * H, &st);
    /* The padding lanes hold garbage: they must not reach Y1. */
    for (size_t r = 0; r < N * N; r++)
        for (size_t b = B; b < L; b++)
            T[r * L + b] = 1e30f;
    float *Y = malloc(B * H * sizeof *Y), *Yp = malloc(B * H * sizeof *Yp);
    double *want = malloc(B * H * sizeof *want);
    ck_assert(Y && Yp && want);
    dgn_folded_projection_forward(Y, T, Wf, B, N, H, NULL);
    projection_reference(want, T, Wf, B, L);
    ck_close(Y, want, B * H, "Y1");

    dgn_pool *pool = NULL;
    ck_assert_int_eq(dgn_pool_create(&pool, 2), DGN_OK);
    dgn_folded_projection_forward(Yp, T, Wf, B, N, H, pool);
    ck_assert_msg(memcmp(Y, Yp, B * H * sizeof *Y) == 0, "threads changed the bits");
    dgn_pool_destroy(pool);
    free(T), free(Wf), free(Y), free(Yp), free(want);
}
END_TEST

/* L = Σ Y1⊙C, as a function of T or Wf. */
typedef struct proj_ctx {
    float *T, *Wf, *C, *Y;
    size_t B;
} proj_ctx;

static double projection_loss(void *p)
{
    proj_ctx *c = p;
    dgn_folded_projection_forward(c->Y, c->T, c->Wf, c->B, N, H, NULL);
    double s = 0;
    for (size_t i = 0; i < c->B * H; i++)
        s += (double)c->Y[i] * c->C[i];
    return s;
}

START_TEST(projection_backward_matches_reference_and_central_differences)
{
    size_t B = BS[_i], L = dgn_round_lanes(B);
    unsigned st = 47 + (unsigned)_i;
    proj_ctx c = {randoms(N * N * L, &st), randoms(N * N * H, &st), randoms(B * H, &st),
                  malloc(B * H * sizeof(float)), B};
    float *dWf = malloc(N * N * H * sizeof *dWf), *dT = malloc(N * N * L * sizeof *dT);
    double *want = malloc(N * N * (H > L ? H : L) * sizeof *want);
    ck_assert(c.Y && dWf && dT && want);
    for (size_t r = 0; r < N * N; r++)
        for (size_t b = B; b < L; b++)
            c.T[r * L + b] = 0.0f; /* as the attention leaves them */
    for (size_t i = 0; i < N * N * L; i++)
        dT[i] = NAN; /* every element must be written */
    dgn_folded_projection_backward(dWf, dT, c.C, c.T, c.Wf, B, N, H, NULL);

    /* dWf = T·dY1, dT = Wf·dY1ᵀ and 0 in the padding lanes. */
    for (size_t r = 0; r < N * N; r++)
        for (size_t j = 0; j < H; j++) {
            double s = 0;
            for (size_t b = 0; b < B; b++)
                s += (double)c.T[r * L + b] * c.C[b * H + j];
            want[r * H + j] = s;
        }
    ck_close(dWf, want, N * N * H, "dWf");
    for (size_t r = 0; r < N * N; r++)
        for (size_t b = 0; b < L; b++) {
            double s = 0;
            for (size_t j = 0; b < B && j < H; j++)
                s += (double)c.Wf[r * H + j] * c.C[b * H + j];
            want[r * L + b] = s;
        }
    ck_close(dT, want, N * N * L, "dT");

    gc_result r = gradcheck(projection_loss, &c, c.Wf, dWf, N * N * H, 200, 1e-2f);
    ck_assert_msg(gradcheck_ok(r), "dWf: %zu of %zu wrong", r.failed, r.checked);
    r = gradcheck(projection_loss, &c, c.T, dT, N * N * L, 200, 1e-2f);
    ck_assert_msg(gradcheck_ok(r), "dT: %zu of %zu wrong", r.failed, r.checked);
    free(c.T), free(c.Wf), free(c.C), free(c.Y), free(dWf), free(dT), free(want);
}
END_TEST

/* The attention's stages on a pool of 1, 2 or 3 threads give the bits of
 * the caller's thread: blocks of lanes forward, fixed chunks of lanes
 * backward (several, the last partial, at B = 200 and 385), and the
 * fold's per-component products. */
static const size_t POOL_BS[] = {7, 200, 385};

static void attention_pass(float *out[5], dgn_pool *pool, size_t B, const float *x,
                           const float *Mp, const float *Mt, const float *G, const float *dT0)
{
    size_t L = dgn_round_lanes(B), plane = N * N * L, chunks = dgn_fold_chunks(B);
    float *T = malloc(plane * sizeof *T), *P = malloc(plane * sizeof *P);
    float *S = malloc(plane * sizeof *S), *Rcol = malloc(2 * N * L * sizeof *Rcol);
    float *dT = malloc(plane * sizeof *dT);
    float *xt = malloc(N * L * sizeof *xt), *dxt = malloc(N * L * sizeof *dxt);
    float *acc = malloc(L * sizeof *acc);
    float *dMl = malloc(chunks * dgn_lane_outer_size(N) * sizeof *dMl);
    float *dGl = malloc(chunks * N * N * sizeof *dGl);
    ck_assert(T && P && S && Rcol && dT && xt && dxt && acc && dMl && dGl);
    if (pool)
        dgn_folded_attention_forward_on(pool, T, P, S, Rcol, xt, acc, x, Mp, Mt, G, B, N);
    else
        dgn_folded_attention_forward(T, P, S, Rcol, xt, acc, x, Mp, Mt, G, B, N);
    memcpy(out[0], T, plane * sizeof *T);
    memcpy(dT, dT0, plane * sizeof *dT);
    for (size_t i = 0; i < N * N; i++)
        out[1][i] = out[2][i] = 0.25f; /* dG and dM accumulate */
    dgn_folded_attention_backward(pool, out[1], out[2], out[3], dT, dxt, acc, dMl, dGl, P,
                                  S, Rcol, xt, Mp, Mt, G, B, N);
    memcpy(out[4], dT, plane * sizeof *dT);
    free(T), free(P), free(S), free(Rcol), free(dT), free(xt), free(dxt), free(acc);
    free(dMl), free(dGl);
}

START_TEST(attention_on_any_pool_matches_one_thread)
{
    size_t B = POOL_BS[_i], L = dgn_round_lanes(B), plane = N * N * L, nr = dgn_mix_rows(N);
    unsigned st = 41 + (unsigned)_i;
    float *x = randoms(B * N, &st), *G = randoms(N * N, &st), *dT0 = randoms(plane, &st);
    float *Mp = calloc(nr * N, sizeof *Mp), *Mt = calloc(nr * N, sizeof *Mt);
    ck_assert(Mp && Mt);
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < N; j++)
            Mp[i * N + j] = Mt[j * N + i] = (i == j ? 1.0f : 0.0f) + 0.1f * (float)(i + 2 * j);
    for (size_t r = 0; r < N * N; r++)
        for (size_t b = B; b < L; b++)
            dT0[r * L + b] = 0.0f;
    size_t sizes[5] = {plane, N * N, N * N, B * N, plane};
    float *want[5], *got[5];
    for (int k = 0; k < 5; k++) {
        want[k] = malloc(sizes[k] * sizeof **want);
        got[k] = malloc(sizes[k] * sizeof **got);
        ck_assert(want[k] && got[k]);
    }
    attention_pass(want, NULL, B, x, Mp, Mt, G, dT0);
    const char *names[5] = {"T", "dG", "dM", "dx", "dS"};
    for (size_t threads = 1; threads <= 3; threads++) {
        dgn_pool *pool = NULL;
        ck_assert_int_eq(dgn_pool_create(&pool, threads), DGN_OK);
        attention_pass(got, pool, B, x, Mp, Mt, G, dT0);
        for (int k = 0; k < 5; k++)
            ck_assert_msg(memcmp(want[k], got[k], sizes[k] * sizeof **got) == 0,
                          "%s at B = %zu changed on %zu threads", names[k], B, threads);
        dgn_pool_destroy(pool);
    }
    for (int k = 0; k < 5; k++)
        free(want[k]), free(got[k]);
    free(x), free(G), free(dT0), free(Mp), free(Mt);
}
END_TEST

START_TEST(fold_weights_on_any_pool_match_one_thread)
{
    unsigned st = 53;
    float *E = randoms(N * D, &st), *Wq = randoms(D * D, &st), *Wk = randoms(D * D, &st);
    float *Wv = randoms(D * D, &st), *W1 = randoms(N * D * H, &st);
    float *dG = randoms(N * N, &st), *dWf = randoms(N * N * H, &st);
    enum { NG = N * N + N * N * H + 3 * N * D, NB = N * D + 3 * D * D + N * D * H };
    float want[2][NG + NB], got[NG + NB];
    float dEq[N * D], dEk[N * D], dEv[N * D], dEvl[N * N * D];
    for (size_t threads = 0; threads <= 3; threads++) {
        dgn_pool *pool = NULL;
        if (threads)
            ck_assert_int_eq(dgn_pool_create(&pool, threads), DGN_OK);
        float *o = threads ? got : want[0];
        float *G = o, *Wf = G + N * N, *Eq = Wf + N * N * H, *Ek = Eq + N * D;
        float *Ev = Ek + N * D, *dE = Ev + N * D, *dWq = dE + N * D, *dWk = dWq + D * D;
        float *dWv = dWk + D * D, *dW1 = dWv + D * D;
        for (size_t i = 0; i < NB; i++)
            dE[i] = 0.5f;
        dgn_fold_weights_on(pool, G, Wf, Eq, Ek, Ev, E, Wq, Wk, Wv, W1, N, D, H);
        dgn_fold_weights_backward(pool, dE, dWq, dWk, dWv, dW1, dG, dWf, E, Wq, Wk, Wv, W1,
                                  Eq, Ek, Ev, N, D, H, dEq, dEk, dEv, dEvl);
        if (threads)
            ck_assert_msg(memcmp(want[0], got, sizeof got) == 0, "%zu threads changed the "
                          "bits", threads);
        dgn_pool_destroy(pool);
    }
    /* The pooled forward is the plain call's. */
    dgn_fold_weights(want[1], want[1] + N * N, want[1] + N * N + N * N * H,
                     want[1] + N * N + N * N * H + N * D,
                     want[1] + N * N + N * N * H + 2 * N * D, E, Wq, Wk, Wv, W1, N, D, H);
    ck_assert(memcmp(want[0], want[1], NG * sizeof **want) == 0);
    free(E), free(Wq), free(Wk), free(Wv), free(W1), free(dG), free(dWf);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("folded");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, fold_weights_match_plain_loops);
    tcase_add_test(tc, fold_weights_backward_matches_central_differences);
    tcase_add_loop_test(tc, projection_forward_matches_a_plain_loop_on_any_pool, 0,
                        (int)(sizeof BS / sizeof *BS));
    tcase_add_loop_test(tc, projection_backward_matches_reference_and_central_differences,
                        0, (int)(sizeof BS / sizeof *BS));
    tcase_add_loop_test(tc, attention_on_any_pool_matches_one_thread, 0,
                        (int)(sizeof POOL_BS / sizeof *POOL_BS));
    tcase_add_test(tc, fold_weights_on_any_pool_match_one_thread);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
