/* dgn_model: whole-network gradients, agreement with a plain loop,
 * determinism, no allocation in forward/backward, config validation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>


#include "dgn.h"
#include "gradcheck.h"
#include "model_internal.h"
#include "testutil.h"

#include "alloc_count.h"

/* ---- helpers ------------------------------------------------------------- */

enum { NC = 5, BATCH = 6 };
/* Whole-network difference step; see check_whole_network. */
#define NET_STEP 1e-2f


static dgn_model_config small_config(int interaction, float dropout)
{
    dgn_model_config cfg;
    ck_assert_int_eq(dgn_model_config_init(&cfg, DGN_MODEL_CONFIG_VERSION), DGN_OK);
    cfg.n_components = NC;
    cfg.embed_dim = 6;
    cfg.rank = 3;
    cfg.hidden = 10;
    cfg.out_dim = 4;
    cfg.max_batch = 16;
    cfg.dropout = dropout;
    cfg.interaction = interaction;
    cfg.seed = 99;
    return cfg;
}

static dgn_model *create(const dgn_model_config *cfg)
{
    dgn_model *m = NULL;
    ck_assert_msg(dgn_model_create(&m, cfg) == DGN_OK, "%s", dgn_last_error());
    return m;
}

typedef struct net_ctx {
    dgn_model *m;
    float x[BATCH * NC], f[BATCH * 64], w[BATCH * 64];
    size_t k;
} net_ctx;

static double net_loss(void *arg)
{
    net_ctx *c = arg;
    ck_assert_int_eq(dgn_model_forward(c->m, c->f, sizeof c->f / sizeof *c->f, c->x, BATCH), DGN_OK);
    double l = 0;
    for (size_t i = 0; i < BATCH * c->k; i++)
        l += (double)c->w[i] * c->f[i];
    return l;
}

/* folded: 1 requires the folded training pass (lib/folded.h), 0 turns
 * it off, so that both networks are checked. */
static void check_whole_network(int interaction, int training, int folded)
{
    dgn_model_config cfg = small_config(interaction, 0.0f);
    net_ctx *c = calloc(1, sizeof *c);
    c->m = create(&cfg);
    if (folded)
        ck_assert_msg(dgn_model_folds(c->m), "the small config should fold");
    else
        ck_assert_int_eq(dgn_model_set_fold(c->m, 0), DGN_OK);
    c->k = cfg.out_dim;
    unsigned st = 4242;
    fill_uniform(c->x, BATCH * NC, &st, 1.5f);
    fill_uniform(c->w, BATCH * c->k, &st, 1.0f);
    /* ReLU kinks make difference quotients meaningless wherever a step
     * crosses one. In training mode |x̂| <= sqrt(BATCH − 1) < 2.3, so a
     * BatchNorm bias of 3 keeps every ReLU input positive and the network
     * smooth; the ReLU's own gradient, both sides, is checked in
     * test_layers. */
    for (size_t t = 0; t < dgn_model_n_tensors(c->m); t++) {
        const char *name;
        float *v;
        size_t n;
        dgn_model_tensor(c->m, t, &name, &v, NULL, &n);
        if (strcmp(name, "projection.batchnorm.bias") == 0)
            for (size_t j = 0; j < n; j++)
                v[j] = 3.0f;
    }
    if (!training) {
        /* Let the running statistics settle (momentum 0.1), so that the
         * evaluation-mode activations have unit scale, not sit at 0. */
        for (int i = 0; i < 60; i++)
            net_loss(c);
        dgn_model_set_training(c->m, 0);
    }
    net_loss(c);
    float dx[BATCH * NC];
    ck_assert_int_eq(dgn_model_zero_grad(c->m), DGN_OK);
    ck_assert_int_eq(dgn_model_backward(c->m, dx, BATCH * NC, c->w, BATCH), DGN_OK);

    gc_result r = gradcheck(net_loss, c, c->x, dx, BATCH * NC, 100, NET_STEP);
    ck_assert_msg(gradcheck_ok(r), "input: %zu of %zu failed, %zu skipped",
                  r.failed, r.checked, r.skipped);
    for (size_t t = 0; t < dgn_model_n_tensors(c->m); t++) {
        const char *name;
        float *v, *g;
        size_t n;
        ck_assert_int_eq(dgn_model_tensor(c->m, t, &name, &v, &g, &n), DGN_OK);
        r = gradcheck(net_loss, c, v, g, n, 60, NET_STEP);
        ck_assert_msg(gradcheck_ok(r), "%s: %zu of %zu failed, %zu skipped, worst %.3g",
                      name, r.failed, r.checked, r.skipped, r.worst);
    }
    dgn_model_destroy(c->m);
    free(c);
}

START_TEST(gradients_training_mode_folded) { check_whole_network(1, 1, 1); }
END_TEST
START_TEST(gradients_training_mode_layers) { check_whole_network(1, 1, 0); }
END_TEST
START_TEST(gradients_evaluation_mode) { check_whole_network(1, 0, 1); }
END_TEST
START_TEST(gradients_without_interaction) { check_whole_network(0, 1, 0); }
END_TEST

/* The folded training pass computes the same function and gradients as
 * the layers, to rounding: at the default widths, over several lane
 * groups with padding, through dx, and (B = 230) over two lane chunks
 * of the attention's backward, on _i threads. */
START_TEST(folded_training_matches_layers)
{
    dgn_model_config cfg;
    dgn_model_config_init(&cfg, DGN_MODEL_CONFIG_VERSION);
    cfg.n_components = 19;
    cfg.hidden = 64;
    cfg.max_batch = 240;
    cfg.dropout = 0.0f;
    size_t B = _i == 1 ? 37 : 230;
    dgn_model *m = create(&cfg);
    ck_assert(dgn_model_folds(m));
    ck_assert_int_eq(dgn_model_set_threads(m, (size_t)_i), DGN_OK);
    size_t nx = B * 19, nf = B * cfg.out_dim, np = dgn_model_n_params(m);
    float *x = malloc(nx * sizeof *x), *df = malloc(nf * sizeof *df);
    float *f[2], *dx[2], *g[2];
    unsigned st = 31;
    fill_uniform(x, nx, &st, 1.5f);
    fill_uniform(df, nf, &st, 1.0f);
    for (int folded = 0; folded < 2; folded++) {
        f[folded] = malloc(nf * sizeof **f);
        dx[folded] = malloc(nx * sizeof **dx);
        g[folded] = malloc(np * sizeof **g);
        ck_assert_int_eq(dgn_model_set_fold(m, folded), DGN_OK);
        dgn_model_zero_grad(m);
        ck_assert_int_eq(dgn_model_forward(m, f[folded], nf, x, B), DGN_OK);
        ck_assert_int_eq(dgn_model_backward(m, dx[folded], nx, df, B), DGN_OK);
        memcpy(g[folded], dgn_model_grads(m), np * sizeof **g);
    }
    double worst_f = 0, worst_dx = 0, scale_dx = 0;
    for (size_t i = 0; i < nf; i++)
        worst_f = fmax(worst_f, fabs(f[0][i] - f[1][i]));
    for (size_t i = 0; i < nx; i++) {
        worst_dx = fmax(worst_dx, fabs(dx[0][i] - dx[1][i]));
        scale_dx = fmax(scale_dx, fabs(dx[0][i]));
    }
    ck_assert_double_lt(worst_f, 1e-5);
    ck_assert_double_lt(worst_dx, 1e-4 * scale_dx);
    /* Each tensor's gradient, relative to its largest element. */
    for (size_t t = 0; t < dgn_model_n_tensors(m); t++) {
        const char *name;
        float *v, *gt;
        size_t n;
        dgn_model_tensor(m, t, &name, &v, &gt, &n);
        size_t off = (size_t)(gt - dgn_model_grads(m));
        double scale = 0, worst = 0;
        for (size_t i = 0; i < n; i++) {
            scale = fmax(scale, fabs(g[0][off + i]));
            worst = fmax(worst, fabs(g[0][off + i] - g[1][off + i]));
        }
        ck_assert_msg(scale > 0 && worst < 1e-4 * scale, "%s: %g apart at scale %g", name,
                      worst, scale);
    }
    for (int i = 0; i < 2; i++) {
        free(f[i]);
        free(dx[i]);
        free(g[i]);
    }
    free(x);
    free(df);
    dgn_model_destroy(m);
}
END_TEST

START_TEST(gradients_accumulate_until_zeroed)
{
    dgn_model_config cfg = small_config(1, 0.0f);
    dgn_model *m = create(&cfg);
    float x[BATCH * NC], f[BATCH * 4], df[BATCH * 4];
    unsigned st = 5;
    fill_uniform(x, BATCH * NC, &st, 1.0f);
    fill_uniform(df, BATCH * 4, &st, 1.0f);
    float *g;
    size_t n;
    ck_assert_int_eq(dgn_model_tensor(m, 0, NULL, NULL, &g, &n), DGN_OK);
    ck_assert_int_eq(dgn_model_forward(m, f, BATCH * 4, x, BATCH), DGN_OK);
    ck_assert_int_eq(dgn_model_backward(m, NULL, 0, df, BATCH), DGN_OK);
    float once = g[1];
    ck_assert_int_eq(dgn_model_backward(m, NULL, 0, df, BATCH), DGN_OK);
    ck_assert_float_eq_tol(g[1], 2 * once, 1e-6f * (1 + fabsf(once)));
    dgn_model_zero_grad(m);
    ck_assert_float_eq(g[1], 0.0f);
    dgn_model_destroy(m);
}
END_TEST

/* ---- the plain per-sample reference ------------------------------------- */

/* Eq. 3-10 for one sample, in double, straight from the equations. */
static void reference_forward(const dgn_model *m, const float *x, double *f)
{
    const dgn_model_config *c = dgn_model_cfg(m);
    dgn_model_weights w;
    dgn_model_weights_of(m, &w);
    size_t n = c->n_components, d = c->embed_dim, r = c->rank, h = c->hidden, k = c->out_dim;
    double H[NC][8], Z[NC][8], Q[NC][8], K[NC][8], V[NC][8], U[NC][8], a[NC][NC];
    double y1[16], y2[16];
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            H[i][j] = x[i] * w.E[i * d + j];
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double dot = 0, ni = 0, nj = 0;
            for (size_t q = 0; q < r; q++) {
                dot += w.V[i * r + q] * w.V[j * r + q];
                ni += w.V[i * r + q] * w.V[i * r + q];
                nj += w.V[j * r + q] * w.V[j * r + q];
            }
            a[i][j] = dot / sqrt(ni * nj);
        }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) {
            double s = 0;
            for (size_t q = 0; q < n; q++)
                if (q != i)
                    s += a[i][q] * H[q][j];
            Z[i][j] = H[i][j] + s / (double)(n - 1);
        }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) {
            Q[i][j] = K[i][j] = V[i][j] = 0;
            for (size_t q = 0; q < d; q++) {
                Q[i][j] += Z[i][q] * w.Wq[q * d + j];
                K[i][j] += Z[i][q] * w.Wk[q * d + j];
                V[i][j] += Z[i][q] * w.Wv[q * d + j];
            }
        }
    for (size_t i = 0; i < n; i++) {
        double s[NC], mx = -1e300, sum = 0;
        for (size_t j = 0; j < n; j++) {
            s[j] = 0;
            for (size_t q = 0; q < d; q++)
                s[j] += Q[i][q] * K[j][q];
            s[j] /= sqrt((double)d);
            mx = fmax(mx, s[j]);
        }
        for (size_t j = 0; j < n; j++)
            sum += s[j] = exp(s[j] - mx);
        for (size_t q = 0; q < d; q++) {
            U[i][q] = 0;
            for (size_t j = 0; j < n; j++)
                U[i][q] += s[j] / sum * V[j][q];
        }
    }
    for (size_t o = 0; o < h; o++) {
        double s = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < d; j++)
                s += U[i][j] * w.W1[(i * d + j) * h + o];
        s = (s - w.run_mean[o]) / sqrt(w.run_var[o] + 1e-5) * w.gamma[o] + w.beta[o];
        y1[o] = s > 0 ? s : 0;
    }
    double norm = 0;
    for (size_t o = 0; o < k; o++) {
        y2[o] = w.b2[o];
        for (size_t j = 0; j < h; j++)
            y2[o] += y1[j] * w.W2[j * k + o];
        norm += y2[o] * y2[o];
    }
    for (size_t o = 0; o < k; o++)
        f[o] = y2[o] / sqrt(norm);
}

START_TEST(blas_forward_matches_plain_loop)
{
    dgn_model_config cfg = small_config(1, 0.1f);
    dgn_model *m = create(&cfg);
    enum { NB = 9 };
    float x[NB * NC], f[NB * 4];
    unsigned st = 77;
    fill_uniform(x, NB * NC, &st, 2.0f);
    /* Train-mode passes give the running statistics real values. */
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(dgn_model_forward(m, f, NB * 4, x, NB), DGN_OK);
    dgn_model_set_training(m, 0);
    ck_assert_int_eq(dgn_model_forward(m, f, NB * 4, x, NB), DGN_OK);
    double worst = 0;
    for (int b = 0; b < NB; b++) {
        double ref[4];
        reference_forward(m, x + b * NC, ref);
        for (int o = 0; o < 4; o++)
            worst = fmax(worst, fabs(ref[o] - f[b * 4 + o]));
    }
    ck_assert_double_lt(worst, 1e-5);
    dgn_model_destroy(m);
}
END_TEST

/* ---- determinism ------------------------------------------------------------ */

START_TEST(same_seed_same_weights)
{
    dgn_model_config cfg = small_config(1, 0.1f);
    dgn_model *a = create(&cfg), *b = create(&cfg);
    cfg.seed = 100;
    dgn_model *c = create(&cfg);
    ck_assert_uint_eq(dgn_model_n_params(a), dgn_model_n_params(b));
    size_t bytes = dgn_model_n_params(a) * sizeof(float);
    ck_assert_int_eq(memcmp(dgn_model_params(a), dgn_model_params(b), bytes), 0);
    ck_assert_int_ne(memcmp(dgn_model_params(a), dgn_model_params(c), bytes), 0);
    dgn_model_destroy(a);
    dgn_model_destroy(b);
    dgn_model_destroy(c);
}
END_TEST

/* lib/model_internal.h: restore puts back exactly what snapshot took, a
 * clone scores as the original, and the fold hook refuses a model that
 * has no folded buffers. */
START_TEST(snapshot_restore_and_clone)
{
    dgn_model_config cfg = small_config(1, 0.0f);
    dgn_model *m = create(&cfg);
    size_t ns = dgn_model_state_floats(m);
    ck_assert_uint_eq(ns, dgn_model_n_params(m) + 2 * cfg.hidden);
    float *a = malloc(ns * sizeof *a), *b = malloc(ns * sizeof *b);
    float x[BATCH * NC], f[BATCH * 4], g[BATCH * 4];
    unsigned st = 12;
    fill_uniform(x, BATCH * NC, &st, 1.0f);
    dgn_model_snapshot(m, a);
    /* A training pass moves the running statistics; a changed weight the
     * parameters. */
    ck_assert_int_eq(dgn_model_forward(m, f, BATCH * 4, x, BATCH), DGN_OK);
    dgn_model_params(m)[3] += 1.0f;
    dgn_model_snapshot(m, b);
    ck_assert_int_ne(memcmp(a, b, ns * sizeof *a), 0);
    dgn_model_restore(m, a);
    dgn_model_snapshot(m, b);
    ck_assert_int_eq(memcmp(a, b, ns * sizeof *a), 0);

    dgn_model *c = NULL;
    ck_assert_int_eq(dgn_model_clone(&c, m), DGN_OK);
    ck_assert_int_eq(dgn_model_training(c), 0);
    dgn_model_set_training(m, 0);
    ck_assert_int_eq(dgn_model_forward(m, f, BATCH * 4, x, BATCH), DGN_OK);
    ck_assert_int_eq(dgn_model_forward(c, g, BATCH * 4, x, BATCH), DGN_OK);
    ck_assert_int_eq(memcmp(f, g, sizeof f), 0);
    dgn_model_destroy(c);
    dgn_model_destroy(m);

    cfg = small_config(0, 0.0f);
    m = create(&cfg);
    ck_assert_int_eq(dgn_model_folds(m), 0);
    ck_assert_int_eq(dgn_model_set_fold(m, 1), DGN_E_INVALID);
    ck_assert_int_eq(dgn_model_set_fold(m, 0), DGN_OK);
    dgn_model_destroy(m);
    free(a);
    free(b);
}
END_TEST

START_TEST(evaluation_mode_is_deterministic_and_dropout_trains_only)
{
    dgn_model_config cfg = small_config(1, 0.5f);
    dgn_model *m = create(&cfg);
    float x[BATCH * NC], f1[BATCH * 4], f2[BATCH * 4];
    unsigned st = 8;
    fill_uniform(x, BATCH * NC, &st, 1.0f);
    ck_assert_int_eq(dgn_model_forward(m, f1, BATCH * 4, x, BATCH), DGN_OK);
    ck_assert_int_eq(dgn_model_forward(m, f2, BATCH * 4, x, BATCH), DGN_OK);
    ck_assert_int_ne(memcmp(f1, f2, sizeof f1), 0); /* fresh dropout masks */
    dgn_model_set_training(m, 0);
    ck_assert_int_eq(dgn_model_training(m), 0);
    ck_assert_int_eq(dgn_model_forward(m, f1, BATCH * 4, x, BATCH), DGN_OK);
    ck_assert_int_eq(dgn_model_forward(m, f2, BATCH * 4, x, BATCH), DGN_OK);
    ck_assert_int_eq(memcmp(f1, f2, sizeof f1), 0);
    /* A row's feature does not depend on the rest of the batch. */
    float one[4];
    ck_assert_int_eq(dgn_model_forward(m, one, 4, x + 2 * NC, 1), DGN_OK);
    for (int o = 0; o < 4; o++)
        ck_assert_float_eq_tol(one[o], f1[2 * 4 + o], 1e-6f);
    /* Features are unit vectors. */
    double norm = 0;
    for (int o = 0; o < 4; o++)
        norm += (double)one[o] * one[o];
    ck_assert_double_eq_tol(norm, 1.0, 1e-6);
    dgn_model_destroy(m);
}
END_TEST

/* The same bits at 1, 2 and 3 threads, forward and backward, in each of the
 * model's paths (_i): evaluation mode, the folded training pass, the
 * training pass layer by layer, and without interaction in both modes. At
 * the default widths and 200 rows, so that every product and per-row stage
 * is large enough to be shared. */
START_TEST(same_bits_at_any_thread_count)
{
    int training = _i != 0 && _i != 4, interaction = _i < 3, fold = _i == 1;
    size_t B = 200;
    dgn_model_config cfg;
    dgn_model_config_init(&cfg, DGN_MODEL_CONFIG_VERSION);
    cfg.n_components = 19;
    cfg.max_batch = B;
    cfg.interaction = interaction;
    size_t nx = B * 19, nf = B * cfg.out_dim;
    float *x = malloc(nx * sizeof *x), *df = malloc(nf * sizeof *df);
    unsigned st = 17;
    fill_uniform(x, nx, &st, 1.5f);
    fill_uniform(df, nf, &st, 1.0f);
    float *f[3], *dx[3], *g[3];
    size_t np = 0;
    for (int t = 0; t < 3; t++) {
        dgn_model *m = create(&cfg);
        ck_assert_int_eq(dgn_model_set_threads(m, (size_t)t + 1), DGN_OK);
        if (interaction)
            ck_assert_int_eq(dgn_model_set_fold(m, fold), DGN_OK);
        dgn_model_set_training(m, training);
        np = dgn_model_n_params(m);
        f[t] = malloc(nf * sizeof **f);
        dx[t] = malloc(nx * sizeof **dx);
        g[t] = malloc(np * sizeof **g);
        dgn_model_zero_grad(m);
        ck_assert_int_eq(dgn_model_forward(m, f[t], nf, x, B), DGN_OK);
        ck_assert_int_eq(dgn_model_backward(m, dx[t], nx, df, B), DGN_OK);
        memcpy(g[t], dgn_model_grads(m), np * sizeof **g);
        dgn_model_destroy(m);
    }
    for (int t = 1; t < 3; t++) {
        ck_assert_msg(!memcmp(f[0], f[t], nf * sizeof **f), "features differ at %d threads",
                      t + 1);
        ck_assert_msg(!memcmp(dx[0], dx[t], nx * sizeof **dx), "dx differs at %d threads",
                      t + 1);
        ck_assert_msg(!memcmp(g[0], g[t], np * sizeof **g), "gradients differ at %d threads",
                      t + 1);
    }
    for (int t = 0; t < 3; t++) {
        free(f[t]);
        free(dx[t]);
        free(g[t]);
    }
    free(x);
    free(df);
}
END_TEST

/* ---- no allocation --------------------------------------------------------- */

#if COUNT_ALLOCATIONS
START_TEST(no_allocation_in_forward_backward_zero_grad)
{
    dgn_model_config cfg;
    dgn_model_config_init(&cfg, DGN_MODEL_CONFIG_VERSION);
    cfg.n_components = 19;
    cfg.max_batch = 96;
    dgn_model *m = create(&cfg);
    /* _i threads: the workers start here and are reused, never made anew. */
    ck_assert_int_eq(dgn_model_set_threads(m, (size_t)_i), DGN_OK);
    size_t nx = 96 * 19, nf = 96 * cfg.out_dim;
    float *x = malloc(nx * sizeof *x), *f = malloc(nf * sizeof *f),
          *df = malloc(nf * sizeof *df), *dx = malloc(nx * sizeof *dx);
    unsigned st = 3;
    fill_uniform(x, nx, &st, 1.0f);
    fill_uniform(df, nf, &st, 1.0f);
    /* Warm up once: the first call may set up the ISA dispatch. */
    ck_assert_int_eq(dgn_model_forward(m, f, nf, x, 96), DGN_OK);
    ck_assert_int_eq(dgn_model_backward(m, dx, nx, df, 96), DGN_OK);

    n_allocs = 0;
    counting = 1;
    for (int mode = 1; mode >= 0; mode--) {
        dgn_model_set_training(m, mode);
        for (int rep = 0; rep < 3; rep++) {
            dgn_model_zero_grad(m);
            dgn_model_forward(m, f, nf, x, 96 - (size_t)rep * 7);
            dgn_model_backward(m, dx, nx, df, 96 - (size_t)rep * 7);
        }
    }
    counting = 0;
    ck_assert_uint_eq(n_allocs, 0);

    /* The interposer does see the library's allocations elsewhere. */
    counting = 1;
    dgn_model_set_meta(m, "probe", "x", 1);
    counting = 0;
    ck_assert_uint_gt(n_allocs, 0);
    free(x);
    free(f);
    free(df);
    free(dx);
    dgn_model_destroy(m);
}
END_TEST
#endif

/* ---- API errors and validation ------------------------------------------ */

START_TEST(batch_limits_and_buffers)
{
    dgn_model_config cfg = small_config(1, 0.1f);
    dgn_model *m = create(&cfg);
    float x[17 * NC] = {0}, f[17 * 4];
    ck_assert_int_eq(dgn_model_forward(m, f, 17 * 4, x, 17), DGN_E_SHAPE);
    ck_assert_error_has("max_batch = 16");
    ck_assert_int_eq(dgn_model_forward(m, f, 4 * 4 - 1, x, 4), DGN_E_SHAPE);
    ck_assert_int_eq(dgn_model_forward(m, f, 4, x, 1), DGN_E_SHAPE);
    ck_assert_error_has("training mode needs at least 2 rows");
    x[7] = NAN;
    ck_assert_int_eq(dgn_model_forward(m, f, 4 * 4, x, 4), DGN_E_NONFINITE);
    ck_assert_error_has("x[1][2]");
    x[7] = 0;
    float df[16] = {0}, dx[4 * NC];
    /* Each failed backward also forgets the forward pass (see
     * failed_calls_forget_the_forward_pass): forward again each time. */
    ck_assert_int_eq(dgn_model_forward(m, f, 16, x, 4), DGN_OK);
    ck_assert_int_eq(dgn_model_backward(m, dx, 4 * NC, df, 3), DGN_E_INVALID);
    ck_assert_error_has("3 rows, but the forward pass had 4");
    ck_assert_int_eq(dgn_model_forward(m, f, 16, x, 4), DGN_OK);
    ck_assert_int_eq(dgn_model_backward(m, dx, 4 * NC - 1, df, 4), DGN_E_SHAPE);
    ck_assert_int_eq(dgn_model_forward(m, f, 16, x, 4), DGN_OK);
    dgn_model_set_training(m, 0);
    ck_assert_int_eq(dgn_model_backward(m, dx, 4 * NC, df, 4), DGN_E_INVALID);
    ck_assert_error_has("training mode", "evaluation mode");
    ck_assert_int_eq(dgn_model_tensor(m, 99, NULL, NULL, NULL, NULL), DGN_E_INVALID);
    dgn_model_destroy(m);
    dgn_model_destroy(NULL);
}
END_TEST

/* A forward that fails (here on a NaN input) must not leave the previous
 * batch for the next backward, which would return OK on stale
 * activations; nor may any other failed call. */
START_TEST(failed_calls_forget_the_forward_pass)
{
    dgn_model_config cfg = small_config(1, 0.1f);
    dgn_model *m = create(&cfg);
    float x[4 * NC], f[16], df[16], dx[4 * NC];
    for (int i = 0; i < 4 * NC; i++)
        x[i] = (float)sin(i);
    for (int i = 0; i < 16; i++)
        df[i] = (float)cos(i);
    ck_assert_int_eq(dgn_model_forward(m, f, 16, x, 4), DGN_OK);
    x[NC + 1] = NAN;
    ck_assert_int_eq(dgn_model_forward(m, f, 16, x, 4), DGN_E_NONFINITE);
    ck_assert_int_eq(dgn_model_backward(m, dx, 4 * NC, df, 4), DGN_E_INVALID);
    ck_assert_error_has("no forward pass", "dgn_model_forward call failed", "x[1][1]");
    x[NC + 1] = 0;

    /* A forward refused for its shape forgets the last batch too. */
    ck_assert_int_eq(dgn_model_forward(m, f, 16, x, 4), DGN_OK);
    ck_assert_int_eq(dgn_model_forward(m, f, 15, x, 4), DGN_E_SHAPE);
    ck_assert_int_eq(dgn_model_backward(m, dx, 4 * NC, df, 4), DGN_E_INVALID);
    ck_assert_error_has("f capacity 15");

    /* So does a failed backward: a NaN gradient is refused, and the retry
     * is refused for want of a forward pass, not run on the same batch. */
    ck_assert_int_eq(dgn_model_forward(m, f, 16, x, 4), DGN_OK);
    df[3] = INFINITY;
    ck_assert_int_eq(dgn_model_backward(m, dx, 4 * NC, df, 4), DGN_E_NONFINITE);
    ck_assert_error_has("df[0][3]");
    df[3] = 0;
    ck_assert_int_eq(dgn_model_backward(m, dx, 4 * NC, df, 4), DGN_E_INVALID);
    ck_assert_error_has("dgn_model_backward call failed");

    /* And a good forward restores the pair. */
    ck_assert_int_eq(dgn_model_forward(m, f, 16, x, 4), DGN_OK);
    ck_assert_int_eq(dgn_model_backward(m, dx, 4 * NC, df, 4), DGN_OK);
    dgn_model_destroy(m);
}
END_TEST

START_TEST(parameter_walk)
{
    dgn_model_config cfg = small_config(1, 0.1f);
    dgn_model *m = create(&cfg);
    size_t total = 0;
    for (size_t t = 0; t < dgn_model_n_tensors(m); t++) {
        size_t n;
        ck_assert_int_eq(dgn_model_tensor(m, t, NULL, NULL, NULL, &n), DGN_OK);
        total += n;
    }
    /* E 5x6, V 5x3, 3 x 6x6, W1 30x10, gamma, beta 10, W2 10x4, b2 4. */
    ck_assert_uint_eq(total, 30 + 15 + 108 + 300 + 20 + 40 + 4);
    ck_assert_uint_eq(dgn_model_n_params(m), total);
    dgn_model_destroy(m);
    cfg.interaction = 0;
    m = create(&cfg);
    ck_assert_uint_eq(dgn_model_n_params(m), 30 + 300 + 20 + 40 + 4);
    ck_assert_uint_eq(dgn_model_n_tensors(m), 6);
    dgn_model_destroy(m);
}
END_TEST

START_TEST(config_validation_names_the_field)
{
    dgn_model_config cfg;
    dgn_model *m = (dgn_model *)1;
    ck_assert_int_eq(dgn_model_config_init(&cfg, 7), DGN_E_INVALID);
    ck_assert_error_has("versions 1 to");
    ck_assert_int_eq(dgn_model_config_init(&cfg, 0), DGN_E_INVALID);
    /* Every version this library knows is accepted, with the defaults. */
    for (unsigned v = 1; v <= DGN_MODEL_CONFIG_VERSION; v++) {
        memset(&cfg, 0xff, sizeof cfg);
        ck_assert_int_eq(dgn_model_config_init(&cfg, v), DGN_OK);
        ck_assert_uint_eq(cfg.version, v);
        ck_assert_uint_eq(cfg.embed_dim, 32);
        ck_assert_uint_eq(cfg.seed, 2024);
    }
    dgn_model_config_init(&cfg, DGN_MODEL_CONFIG_VERSION);
    ck_assert_int_eq(dgn_model_create(&m, &cfg), DGN_E_INVALID);
    ck_assert_ptr_null(m);
    ck_assert_error_has("n_components");

#define EXPECT_BAD(stmt, field)                                        \
    do {                                                               \
        cfg = small_config(1, 0.1f);                                   \
        stmt;                                                          \
        ck_assert_int_eq(dgn_model_config_validate(&cfg), DGN_E_INVALID); \
        ck_assert_error_has(field);                                    \
    } while (0)
    EXPECT_BAD(cfg.embed_dim = 0, "embed_dim");
    EXPECT_BAD(cfg.rank = 0, "rank");
    EXPECT_BAD(cfg.heads = 2, "heads");
    EXPECT_BAD(cfg.hidden = 0, "hidden");
    EXPECT_BAD(cfg.out_dim = 0, "out_dim");
    EXPECT_BAD(cfg.dropout = 1.0f, "dropout");
    EXPECT_BAD(cfg.dropout = NAN, "dropout");
    EXPECT_BAD(cfg.max_batch = 0, "max_batch");
    EXPECT_BAD(cfg.interaction = 2, "interaction");
    EXPECT_BAD(cfg.n_components = 1, "n_components");
    EXPECT_BAD(cfg.version = 0, "version");
    EXPECT_BAD((cfg.hidden = 60000, cfg.embed_dim = 60000, cfg.n_components = 60000), "sizes");
    cfg = small_config(0, 0.1f);
    cfg.n_components = 1;
    ck_assert_int_eq(dgn_model_config_validate(&cfg), DGN_OK);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("gradients");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, gradients_training_mode_folded);
    tcase_add_test(tc, gradients_training_mode_layers);
    tcase_add_loop_test(tc, folded_training_matches_layers, 1, 4);
    tcase_add_loop_test(tc, same_bits_at_any_thread_count, 0, 5);
    tcase_add_test(tc, gradients_evaluation_mode);
    tcase_add_test(tc, gradients_without_interaction);
    tcase_add_test(tc, gradients_accumulate_until_zeroed);
    suite_add_tcase(s, tc);
    tc = tcase_create("forward");
    tcase_add_test(tc, blas_forward_matches_plain_loop);
    tcase_add_test(tc, same_seed_same_weights);
    tcase_add_test(tc, snapshot_restore_and_clone);
    tcase_add_test(tc, evaluation_mode_is_deterministic_and_dropout_trains_only);
#if COUNT_ALLOCATIONS
    tcase_add_loop_test(tc, no_allocation_in_forward_backward_zero_grad, 1, 3);
#endif
    suite_add_tcase(s, tc);
    tc = tcase_create("api");
    tcase_add_test(tc, batch_limits_and_buffers);
    tcase_add_test(tc, failed_calls_forget_the_forward_pass);
    tcase_add_test(tc, parameter_walk);
    tcase_add_test(tc, config_validation_names_the_field);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
