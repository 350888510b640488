/* Every layer's backward pass against central differences, on its own. */
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "layers.h"
#include "testutil.h"

enum { B = 5, NC = 4, D = 6, F = 3, IN = 9, OUT = 7 };
#define MAXN 1024

typedef enum { EMBED, EMBED_BM, GRAPH, ATTENTION, LINEAR, BN_TRAIN,
               BN_EVAL, RELU_DROPOUT, L2NORM } layer;

typedef struct ctx {
    layer kind;
    float x[MAXN], dx[MAXN];        /* layer input and its gradient */
    float p[4][MAXN], dp[4][MAXN];  /* parameters and gradients */
    float out[MAXN], w[MAXN];       /* output and the loss weights */
    size_t n_x, n_out, n_p[4];
    float s[12][MAXN];              /* saved activations and scratch */
} ctx;

static void forward(ctx *c)
{
    switch (c->kind) {
    case EMBED:
    case EMBED_BM:
        dgn_embed_forward(c->out, c->x, c->p[0], B, NC, D, c->kind == EMBED_BM, NULL);
        break;
    case GRAPH:
        dgn_graph_mix(c->s[0], c->s[1], c->s[2], c->p[0], NC, F);
        dgn_graph_forward(c->out, c->s[0], c->x, NC, B * D, NULL);
        break;
    case ATTENTION:
        dgn_attention_forward(c->out, c->s[0], c->s[1], c->s[2], c->s[3], c->x,
                              c->p[0], c->p[1], c->p[2], B, NC, D, NULL);
        break;
    case LINEAR:
        dgn_linear_forward(c->out, c->x, c->p[0], c->p[1], B, IN, OUT, NULL);
        break;
    case BN_TRAIN:
        dgn_batchnorm_forward_train(c->out, c->s[0], c->s[1], c->s[2], c->s[3], c->s[4],
                                    c->x, c->p[0], c->p[1], B, OUT, 0.1f, 1e-5f, NULL);
        break;
    case BN_EVAL:
        dgn_batchnorm_forward_eval(c->out, c->s[0], c->s[2], c->x, c->p[0], c->p[1], c->s[3],
                                   c->s[4], B, OUT, 1e-5f, NULL);
        break;
    case RELU_DROPOUT: {
        /* A fixed mask: replay it rather than draw a new one. */
        for (size_t i = 0; i < c->n_x; i++)
            c->out[i] = c->x[i] > 0 ? c->x[i] * c->s[0][i] : 0;
        break;
    }
    case L2NORM:
        dgn_l2norm_forward(c->out, c->s[0], c->x, B, OUT, NULL);
        break;
    }
}

static void backward(ctx *c)
{
    for (int k = 0; k < 4; k++)
        memset(c->dp[k], 0, sizeof c->dp[k]);
    switch (c->kind) {
    case EMBED:
    case EMBED_BM:
        dgn_embed_backward(c->dp[0], c->dx, c->w, c->x, c->p[0], B, NC, D,
                           c->kind == EMBED_BM, NULL);
        break;
    case GRAPH:
        dgn_graph_backward(c->dp[0], c->dx, c->w, c->x, c->s[0], c->s[1], c->s[2],
                           NC, F, B * D, c->s[5], c->s[6], NULL);
        break;
    case ATTENTION:
        dgn_attention_backward(c->dp[0], c->dp[1], c->dp[2], c->dx, c->w, c->x,
                               c->s[0], c->s[1], c->s[2], c->s[3], c->p[0], c->p[1],
                               c->p[2], B, NC, D, c->s[5], c->s[6], c->s[7], c->s[8], NULL);
        break;
    case LINEAR:
        dgn_linear_backward(c->dp[0], c->dp[1], c->dx, c->w, c->x, c->p[0], B, IN, OUT, NULL);
        break;
    case BN_TRAIN:
        dgn_batchnorm_backward_train(c->dp[0], c->dp[1], c->dx, c->w, c->s[0], c->s[2],
                                     c->p[0], B, OUT, c->s[5], NULL);
        break;
    case BN_EVAL:
        dgn_batchnorm_backward_eval(c->dp[0], c->dp[1], c->dx, c->w, c->s[0], c->p[0],
                                    c->s[4], B, OUT, 1e-5f);
        break;
    case RELU_DROPOUT:
        dgn_relu_dropout_backward(c->dx, c->w, c->x, c->s[0], 1, c->n_x, NULL);
        break;
    case L2NORM:
        dgn_l2norm_backward(c->dx, c->w, c->out, c->s[0], B, OUT, NULL);
        break;
    }
}

static double loss(void *arg)
{
    ctx *c = arg;
    forward(c);
    double l = 0;
    for (size_t i = 0; i < c->n_out; i++)
        l += (double)c->w[i] * c->out[i];
    return l;
}

static ctx *setup(layer kind)
{
    ctx *c = calloc(1, sizeof *c);
    ck_assert_ptr_nonnull(c);
    c->kind = kind;
    unsigned st = 12345u + (unsigned)kind;
    switch (kind) {
    case EMBED:
    case EMBED_BM:
        c->n_x = B * NC; c->n_p[0] = NC * D; c->n_out = B * NC * D;
        break;
    case GRAPH:
        c->n_x = NC * B * D; c->n_p[0] = NC * F; c->n_out = NC * B * D;
        break;
    case ATTENTION:
        c->n_x = NC * B * D; c->n_p[0] = c->n_p[1] = c->n_p[2] = D * D;
        c->n_out = B * NC * D;
        break;
    case LINEAR:
        c->n_x = B * IN; c->n_p[0] = IN * OUT; c->n_p[1] = OUT; c->n_out = B * OUT;
        break;
    case BN_TRAIN:
    case BN_EVAL:
        c->n_x = B * OUT; c->n_p[0] = c->n_p[1] = OUT; c->n_out = B * OUT;
        fill_uniform(c->s[3], OUT, &st, 0.5f);          /* running mean */
        for (int j = 0; j < OUT; j++)
            c->s[4][j] = 0.5f + (float)j / OUT;         /* running variance */
        break;
    case RELU_DROPOUT:
        c->n_x = c->n_out = B * OUT;
        for (size_t i = 0; i < c->n_x; i++)
            c->s[0][i] = i % 3 == 0 ? 0.0f : 1.25f;
        break;
    case L2NORM:
        c->n_x = c->n_out = B * OUT;
        break;
    }
    fill_uniform(c->x, c->n_x, &st, 1.0f);
    if (kind == RELU_DROPOUT) /* keep inputs off the kink at 0 */
        for (size_t i = 0; i < c->n_x; i++)
            c->x[i] += c->x[i] > 0 ? 0.1f : -0.1f;
    for (int k = 0; k < 4; k++)
        fill_uniform(c->p[k], c->n_p[k], &st, 0.8f);
    if (kind == BN_TRAIN || kind == BN_EVAL)
        for (int j = 0; j < OUT; j++)
            c->p[0][j] += 1.0f; /* gamma near 1 */
    fill_uniform(c->w, c->n_out, &st, 1.0f);
    return c;
}

/* Check the input gradient and every parameter tensor of one layer. */
static void check_layer(layer kind)
{
    ctx *c = setup(kind);
    forward(c);
    backward(c);
    float h = 1e-2f;
    gc_result r = gradcheck(loss, c, c->x, c->dx, c->n_x, 200, h);
    ck_assert_msg(gradcheck_ok(r), "layer %d input: %zu of %zu failed (%zu skipped), worst %.3g",
                  kind, r.failed, r.checked, r.skipped, r.worst);
    for (int k = 0; k < 4; k++) {
        if (!c->n_p[k])
            continue;
        r = gradcheck(loss, c, c->p[k], c->dp[k], c->n_p[k], 200, h);
        ck_assert_msg(gradcheck_ok(r), "layer %d param %d: %zu of %zu failed (%zu skipped), worst %.3g",
                      kind, k, r.failed, r.checked, r.skipped, r.worst);
    }
    free(c);
}

START_TEST(embedding) { check_layer(EMBED); check_layer(EMBED_BM); }
END_TEST
START_TEST(graph_convolution) { check_layer(GRAPH); }
END_TEST
START_TEST(attention) { check_layer(ATTENTION); }
END_TEST
START_TEST(linear) { check_layer(LINEAR); }
END_TEST
START_TEST(batchnorm_training) { check_layer(BN_TRAIN); }
END_TEST
START_TEST(batchnorm_evaluation) { check_layer(BN_EVAL); }
END_TEST
START_TEST(relu_dropout) { check_layer(RELU_DROPOUT); }
END_TEST
START_TEST(l2_normalisation) { check_layer(L2NORM); }
END_TEST

START_TEST(checker_rejects_a_wrong_gradient)
{
    /* The same check as above, on gradients broken in three ways. */
    for (int how = 0; how < 3; how++) {
        ctx *c = setup(ATTENTION);
        forward(c);
        backward(c);
        size_t big = 0;
        for (size_t i = 0; i < c->n_p[0]; i++)
            if (fabsf(c->dp[0][i]) > fabsf(c->dp[0][big]))
                big = i;
        if (how == 0)
            c->dp[0][big] *= 1.1f;                 /* 10 % off on one element */
        else if (how == 1)
            c->dp[0][big] = -c->dp[0][big];        /* a sign error */
        else
            for (size_t i = 0; i < c->n_p[0]; i++) /* a transposed gradient */
                if (i / D < i % D) {
                    float t = c->dp[0][i];
                    c->dp[0][i] = c->dp[0][(i % D) * D + i / D];
                    c->dp[0][(i % D) * D + i / D] = t;
                }
        gc_result r = gradcheck(loss, c, c->p[0], c->dp[0], c->n_p[0], 1000, 1e-2f);
        ck_assert_msg(!gradcheck_ok(r), "broken gradient %d passed the check", how);
        free(c);
    }
}
END_TEST

START_TEST(graph_mix_has_unit_diagonal_and_symmetry)
{
    float V[NC * F], M[NC * NC], Vn[NC * F], norm[NC];
    unsigned st = 7;
    fill_uniform(V, NC * F, &st, 2.0f);
    dgn_graph_mix(M, Vn, norm, V, NC, F);
    for (int i = 0; i < NC; i++) {
        ck_assert_float_eq(M[i * NC + i], 1.0f);
        double a = 0;
        for (int k = 0; k < F; k++)
            a += (double)Vn[i * F + k] * Vn[i * F + k];
        ck_assert_double_eq_tol(a, 1.0, 1e-6);
        for (int j = 0; j < NC; j++)
            ck_assert_float_eq_tol(M[i * NC + j], M[j * NC + i], 1e-7f);
    }
}
END_TEST

/* The hashed masks drop a fraction p, independently of the neighbour and
 * afresh per call; kept units are scaled by 1/(1 − p). */
START_TEST(dropout_masks_drop_p_independently)
{
    enum { N = 200000 };
    static float n[N], a[N], mask[N], first[N];
    for (int i = 0; i < N; i++)
        n[i] = 1.0f;
    dgn_rng rng;
    dgn_rng_seed(&rng, 7);
    const float ps[2] = {0.1f, 0.5f};
    for (int t = 0; t < 2; t++) {
        float p = ps[t];
        dgn_relu_dropout_forward(a, mask, n, 1, N, p, &rng, NULL);
        memcpy(first, mask, sizeof mask);
        dgn_relu_dropout_forward(a, mask, n, 1, N, p, &rng, NULL);
        size_t dropped = 0, both = 0, same = 0;
        for (int i = 0; i < N; i++) {
            ck_assert(mask[i] == 0.0f || mask[i] == 1.0f / (1.0f - p));
            ck_assert_float_eq(a[i], mask[i]);
            dropped += mask[i] == 0.0f;
            both += i > 0 && mask[i] == 0.0f && mask[i - 1] == 0.0f;
            same += mask[i] == first[i];
        }
        /* 6 standard deviations of a binomial count */
        double sd = sqrt(N * p * (1 - p)), sd2 = sqrt(N * p * p * (1 - p * p));
        ck_assert_double_lt(fabs((double)dropped - N * p), 6 * sd);
        ck_assert_double_lt(fabs((double)both - N * p * p), 6 * sd2);
        /* A fresh mask agrees with the last one at p² + (1 − p)², not always. */
        double agree = p * p + (1 - p) * (1 - p);
        ck_assert_double_lt(fabs((double)same - N * agree), 6 * sqrt(N * agree * (1 - agree)));
    }
}
END_TEST

START_TEST(softmax_exp_matches_libm)
{
    /* Every step of 1/1024 over [-100, 0], plus -0 and a huge negative. */
    enum { N = 102402 };
    static float x[N], in[N];
    for (int i = 0; i < N - 2; i++)
        in[i] = -(float)i / 1024.0f;
    in[N - 2] = -0.0f;
    in[N - 1] = -1e30f;
    memcpy(x, in, sizeof x);
    dgn_exp_nonpositive(x, N);
    /* Below -87.3 the result is clamped: no larger than e^-87.3, never negative. */
    float floor_value = expf(-87.3f) * (1 + 4e-7f);
    for (int i = 0; i < N; i++) {
        float ref = expf(in[i]);
        int ok = in[i] < -87.3f ? x[i] >= 0 && x[i] <= floor_value
                                : fabsf(x[i] - ref) <= 4e-7f * ref;
        ck_assert_msg(ok, "exp(%.9g) = %.9g, libm %.9g", (double)in[i], (double)x[i],
                      (double)ref);
    }
    /* Outside its domain: NaN stays NaN, a positive argument gives 1. */
    float odd[3] = {NAN, 5.0f, INFINITY};
    dgn_exp_nonpositive(odd, 3);
    ck_assert(isnan(odd[0]));
    ck_assert_float_eq(odd[1], 1.0f);
    ck_assert_float_eq(odd[2], 1.0f);
}
END_TEST

/* BatchNorm's training passes, ReLU with dropout and the L2 norm on a
 * pool of 1, 2 or 3 threads give the bits of the caller's thread: 150
 * features are two blocks of BatchNorm, the last partial, 250 two of
 * ReLU, and 1250 rows twenty of the L2 norm. */
static void pooled_layers(float *out, dgn_pool *pool, const float *X, const float *dY,
                          const float *gamma, const float *beta, size_t rows, size_t h,
                          size_t count)
{
    float *Y = out, *xhat = Y + rows * h, *mean = xhat + rows * h, *inv = mean + h;
    float *rm = inv + h, *rv = rm + h, *dg = rv + h, *db = dg + h, *dX = db + h;
    float *A = dX + rows * h, *mask = A + count, *dN = mask + count, *sums = dN + count;
    for (size_t j = 0; j < h; j++)
        rm[j] = 0.0f, rv[j] = 1.0f, dg[j] = db[j] = 0.5f;
    dgn_batchnorm_forward_train(Y, xhat, mean, inv, rm, rv, X, gamma, beta, rows, h, 0.1f,
                                1e-5f, pool);
    dgn_batchnorm_backward_train(dg, db, dX, dY, xhat, inv, gamma, rows, h, sums, pool);
    dgn_rng rng;
    dgn_rng_seed(&rng, 9);
    /* ReLU and dropout over count / 250 rows of 250: two blocks of features. */
    dgn_relu_dropout_forward(A, mask, X, count / 250, 250, 0.3f, &rng, pool);
    dgn_relu_dropout_backward(dN, dY, X, mask, count / 250, 250, pool);
    /* The L2 norm over count / 16 rows of 16: several blocks of rows. */
    float *F = sums + 2 * h, *rnorm = F + count, *dF = rnorm + count / 16;
    dgn_l2norm_forward(F, rnorm, X, count / 16, 16, pool);
    dgn_l2norm_backward(dF, dY, F, rnorm, count / 16, 16, pool);
}

START_TEST(pooled_layers_match_one_thread)
{
    enum { ROWS = 9, H = 150, COUNT = 20000 };
    enum { OUT = 3 * ROWS * H + 6 * H + 3 * COUNT + 2 * H + 2 * COUNT + COUNT / 16 };
    static float X[COUNT], dY[COUNT], gamma[H], beta[H], want[OUT], got[OUT];
    unsigned st = 5;
    fill_uniform(X, COUNT, &st, 1.0f);
    fill_uniform(dY, COUNT, &st, 1.0f);
    fill_uniform(gamma, H, &st, 1.0f);
    fill_uniform(beta, H, &st, 1.0f);
    pooled_layers(want, NULL, X, dY, gamma, beta, ROWS, H, COUNT);
    for (size_t threads = 1; threads <= 3; threads++) {
        dgn_pool *pool = NULL;
        ck_assert_int_eq(dgn_pool_create(&pool, threads), DGN_OK);
        memset(got, 0, sizeof got);
        pooled_layers(got, pool, X, dY, gamma, beta, ROWS, H, COUNT);
        /* Only the sums' scratch may differ: compare what the calls return. */
        size_t scratch = OUT - 2 * H - 2 * COUNT - COUNT / 16;
        ck_assert_msg(memcmp(want, got, scratch * sizeof *got) == 0 &&
                          memcmp(want + scratch + 2 * H, got + scratch + 2 * H,
                                 (2 * COUNT + COUNT / 16) * sizeof *got) == 0,
                      "%zu threads changed the bits", threads);
        dgn_pool_destroy(pool);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("layers");
    TCase *tc = tcase_create("gradients");
    tcase_add_test(tc, embedding);
    tcase_add_test(tc, graph_convolution);
    tcase_add_test(tc, attention);
    tcase_add_test(tc, linear);
    tcase_add_test(tc, batchnorm_training);
    tcase_add_test(tc, batchnorm_evaluation);
    tcase_add_test(tc, relu_dropout);
    tcase_add_test(tc, dropout_masks_drop_p_independently);
    tcase_add_test(tc, l2_normalisation);
    tcase_add_test(tc, checker_rejects_a_wrong_gradient);
    tcase_add_test(tc, graph_mix_has_unit_diagonal_and_symmetry);
    tcase_add_test(tc, softmax_exp_matches_libm);
    tcase_add_test(tc, pooled_layers_match_one_thread);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
