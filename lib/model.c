#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "folded.h"
#include "lanes.h"
#include "layers.h"
#include "model_impl.h"

#define BN_MOMENTUM 0.1f

/* Caps that keep every size computation, and BLAS's int dimensions, far
 * from overflow; a model file claiming more is rejected by validation. */
#define MAX_DIM ((size_t)1 << 16)
#define MAX_BATCH ((size_t)1 << 20)
#define MAX_FLOATS ((size_t)1 << 28)

/* The defaults of include/dgn/model.h. Version 1 is the whole struct so
 * far; a later version copies only the older prefix for older callers. */
static const dgn_model_config DEFAULTS = {
    .embed_dim = 32, .rank = 5, .heads = 1, .hidden = 256, .out_dim = 64,
    .dropout = 0.1f, .interaction = 1, .max_batch = 384, .seed = 2024,
};

dgn_status dgn_model_config_init(dgn_model_config *cfg, unsigned int version)
{
    return dgn_config_init(cfg, version, DGN_MODEL_CONFIG_VERSION, "dgn_model_config_init",
                           &DEFAULTS, sizeof DEFAULTS);
}

#define BAD_FIELD(...) dgn_fail(DGN_E_INVALID, "model config: " __VA_ARGS__)

/* a·b, or SIZE_MAX on overflow. */
static size_t mul(size_t a, size_t b)
{
    return a && b > SIZE_MAX / a ? SIZE_MAX : a * b;
}

static size_t add(size_t a, size_t b)
{
    return b > SIZE_MAX - a ? SIZE_MAX : a + b;
}

int dgn_fold_pays(const dgn_model_config *c)
{
    double n = (double)c->n_components, d = (double)c->embed_dim, h = (double)c->hidden;
    if (!c->interaction)
        return 1; /* n·h against n·d + n·d·h */
    return n * n * h + 3 * n * n * n < n * d * h + 3 * n * d * d + 3 * n * n * d;
}

int dgn_fold_fits(size_t rows, size_t max_batch, size_t h)
{
    return mul(rows, dgn_round_lanes(max_batch)) <= DGN_FOLD_MAX_FLOATS &&
           mul(rows, h) <= DGN_FOLD_MAX_FLOATS;
}

static int folds(const dgn_model_config *c)
{
    return c->interaction && dgn_fold_pays(c) &&
           dgn_fold_fits(mul(c->n_components, c->n_components), c->max_batch, c->hidden);
}

/* Each work buffer starts on a 64-byte line: the vector kernels' loads
 * then never split across two lines, which costs about a fifth of their
 * speed. */
#define LINE_FLOATS 16

/* One work buffer: the model's field that points to it and its floats. */
typedef struct work_buffer {
    size_t field; /* offsetof(dgn_model, ...) */
    size_t floats;
} work_buffer;

enum { WORK_BUFFERS_MAX = 64 }; /* far above the 59 of work_buffers */

#define BUF(name, size) (b[nb++] = (work_buffer){offsetof(dgn_model, name), (size)})

/* The work buffers of a config, in layout order, and their count: the one
 * list that both sizes the block and hands it out. Sizes saturate at
 * SIZE_MAX, so that validation can refuse a config that overflows.
 * forward_only leaves out what only backward and the folded (training)
 * pass use: an evaluation copy's buffers. */
static size_t work_buffers(work_buffer *b, const dgn_model_config *c, int forward_only)
{
    size_t Bm = c->max_batch, n = c->n_components, d = c->embed_dim, f = c->rank,
           h = c->hidden, k = c->out_dim, nb = 0;
    size_t act = mul(mul(n, Bm), d), Bh = mul(Bm, h), Bk = mul(Bm, k), nn = mul(n, n);
    BUF(xin, mul(Bm, n));
    BUF(U, act);
    if (c->interaction)
        BUF(H, act), BUF(Z, act), BUF(Q, act), BUF(K, act), BUF(Va, act);
    BUF(P, mul(mul(Bm, n), n));
    BUF(Y1, Bh), BUF(xhat, Bh), BUF(N, Bh), BUF(A, Bh), BUF(mask, Bh);
    BUF(bmean, h), BUF(binv, h), BUF(bsums, mul(2, h));
    BUF(Y2, Bk), BUF(F, Bk);
    BUF(rnorm, Bm);
    BUF(M, nn), BUF(Vn, mul(n, f)), BUF(vnorm, n);
    if (forward_only)
        return nb;
    BUF(dU, act);
    if (c->interaction)
        BUF(dZ, act), BUF(dH, act), BUF(dQ, act), BUF(dK, act), BUF(dVa, act);
    BUF(dA, Bh), BUF(dN, Bh), BUF(dY1, Bh), BUF(dY2, Bk);
    BUF(dS, mul(dgn_attention_chunks(Bm), nn)), BUF(dM, nn), BUF(dVn, mul(n, f));
    if (folds(c)) { /* sizes already bounded by folds */
        size_t L = dgn_round_lanes(Bm), plane = n * n * L;
        BUF(fb.M, dgn_mix_rows(n) * n); /* calloc: rows past n stay 0 */
        BUF(fb.Mt, dgn_mix_rows(n) * n);
        BUF(fb.G, nn), BUF(fb.dG, nn);
        BUF(fb.Eq, n * d), BUF(fb.Ek, n * d), BUF(fb.Ev, n * d);
        BUF(fb.dEq, n * d), BUF(fb.dEk, n * d), BUF(fb.dEv, n * d), BUF(fb.dEvl, nn * d);
        BUF(fb.Wf, nn * h), BUF(fb.dWf, nn * h);
        BUF(fb.xt, n * L), BUF(fb.dxt, n * L), BUF(fb.acc, L), BUF(fb.Rcol, 2 * n * L);
        BUF(fb.dMl, dgn_fold_chunks(Bm) * dgn_lane_outer_size(n));
        BUF(fb.dGl, dgn_fold_chunks(Bm) * nn);
        BUF(fb.S, plane), BUF(fb.P, plane);
        BUF(fb.T, plane), BUF(fb.dT, plane);
    }
    return nb;
}

#undef BUF

static size_t line_round(size_t floats)
{
    return add(floats, LINE_FLOATS - 1) / LINE_FLOATS * LINE_FLOATS;
}

/* Floats of the work block, line alignment included; SIZE_MAX on
 * overflow. */
static size_t work_floats(const dgn_model_config *c, int forward_only)
{
    work_buffer b[WORK_BUFFERS_MAX];
    size_t nb = work_buffers(b, c, forward_only), s = LINE_FLOATS;
    for (size_t i = 0; i < nb; i++)
        s = add(s, line_round(b[i].floats));
    return s;
}

/* Point every work buffer into the block. */
static void carve_work(dgn_model *m)
{
    work_buffer b[WORK_BUFFERS_MAX];
    size_t nb = work_buffers(b, &m->cfg, m->forward_only);
    float *c = m->work + (64 - (uintptr_t)m->work % 64) % 64 / sizeof(float);
    for (size_t i = 0; i < nb; i++) {
        *(float **)((char *)m + b[i].field) = c;
        c += line_round(b[i].floats);
    }
}

size_t dgn_model_param_floats(const dgn_model_config *c)
{
    size_t n = c->n_components, d = c->embed_dim, h = c->hidden, k = c->out_dim;
    size_t s = mul(n, d);                                 /* E */
    if (c->interaction)
        s = add(add(s, mul(n, c->rank)), mul(3, mul(d, d))); /* V, Wq Wk Wv */
    s = add(s, mul(mul(n, d), h));                        /* W1 */
    s = add(s, mul(2, h));                                /* gamma beta */
    s = add(s, add(mul(h, k), k));                        /* W2 b2 */
    return s;
}

dgn_status dgn_model_config_validate(const dgn_model_config *cfg)
{
    dgn_status st = dgn_check_config_version(cfg, DGN_MODEL_CONFIG_VERSION, "model", 1);
    if (st != DGN_OK)
        return st;
    if (cfg->n_components < 1 || cfg->n_components > MAX_DIM)
        return BAD_FIELD("n_components: %zu is outside [1, %zu]", cfg->n_components, MAX_DIM);
    if (cfg->interaction != 0 && cfg->interaction != 1)
        return BAD_FIELD("interaction: must be 0 or 1 (got %d)", cfg->interaction);
    if (cfg->interaction && cfg->n_components < 2)
        return BAD_FIELD("n_components: the graph convolution needs at least 2 "
                         "components (got %zu); set interaction = 0", cfg->n_components);
    if (cfg->embed_dim < 1 || cfg->embed_dim > MAX_DIM)
        return BAD_FIELD("embed_dim: %zu is outside [1, %zu]", cfg->embed_dim, MAX_DIM);
    if (cfg->interaction && (cfg->rank < 1 || cfg->rank > MAX_DIM))
        return BAD_FIELD("rank: %zu is outside [1, %zu]", cfg->rank, MAX_DIM);
    if (cfg->heads != 1)
        return BAD_FIELD("heads: %zu is not supported (only 1, as in the paper)", cfg->heads);
    if (cfg->hidden < 1 || cfg->hidden > MAX_DIM)
        return BAD_FIELD("hidden: %zu is outside [1, %zu]", cfg->hidden, MAX_DIM);
    if (cfg->out_dim < 1 || cfg->out_dim > MAX_DIM)
        return BAD_FIELD("out_dim: %zu is outside [1, %zu]", cfg->out_dim, MAX_DIM);
    if (!(cfg->dropout >= 0 && cfg->dropout < 1))
        return BAD_FIELD("dropout: %g is outside [0, 1)", (double)cfg->dropout);
    if (cfg->max_batch < 1 || cfg->max_batch > MAX_BATCH)
        return BAD_FIELD("max_batch: %zu is outside [1, %zu]", cfg->max_batch, MAX_BATCH);
    size_t w = work_floats(cfg, 0), p = dgn_model_param_floats(cfg);
    if (w > MAX_FLOATS || p > MAX_FLOATS ||
        mul(mul(cfg->n_components, cfg->max_batch), cfg->embed_dim) > INT32_MAX)
        return BAD_FIELD("sizes: %zu components x %zu embedding x %zu hidden at "
                         "max_batch %zu need too much memory", cfg->n_components,
                         cfg->embed_dim, cfg->hidden, cfg->max_batch);
    return DGN_OK;
}

static void drop_eval_copies(dgn_model *m)
{
    for (size_t i = 0; i < m->n_eval_copies; i++)
        dgn_model_destroy(m->eval_copy[i]);
    m->n_eval_copies = 0;
}

void dgn_model_destroy(dgn_model *m)
{
    if (!m)
        return;
    dgn_pool_destroy(m->pool);
    drop_eval_copies(m);
    for (size_t i = 0; i < m->n_meta; i++)
        DGN_FREE_ALL(m->meta[i].name, m->meta[i].data);
    DGN_FREE_ALL(m->params, m->grads, m->run_mean, m->work, m->meta, m->meta_slot, m);
}

/* Carve a tensor of `size` floats out of params/grads at *off. */
static float *take_param(dgn_model *m, size_t *off, size_t size, const char *name,
                         float **grad)
{
    dgn_tensor *t = &m->tensor[m->n_tensors++];
    t->name = name;
    t->value = m->params + *off;
    t->grad = m->grads + *off;
    t->size = size;
    *grad = t->grad;
    *off += size;
    return t->value;
}

static void init_uniform(dgn_rng *r, float *w, size_t size, double bound)
{
    for (size_t i = 0; i < size; i++)
        w[i] = (float)((2 * dgn_rng_uniform(r) - 1) * bound);
}

/* Carve the tensors out of params and grads, in dgn_model_tensor order. */
static void carve_params(dgn_model *m)
{
    const dgn_model_config *cfg = &m->cfg;
    size_t n = cfg->n_components, d = cfg->embed_dim, f = cfg->rank, h = cfg->hidden,
           k = cfg->out_dim, off = 0;
    m->E = take_param(m, &off, n * d, "embedding", &m->dE);
    if (cfg->interaction) {
        m->V = take_param(m, &off, n * f, "interaction", &m->dV);
        m->Wq = take_param(m, &off, d * d, "attention.query", &m->dWq);
        m->Wk = take_param(m, &off, d * d, "attention.key", &m->dWk);
        m->Wv = take_param(m, &off, d * d, "attention.value", &m->dWv);
    }
    m->W1 = take_param(m, &off, n * d * h, "projection.linear1.weight", &m->dW1);
    m->gamma = take_param(m, &off, h, "projection.batchnorm.weight", &m->dgamma);
    m->beta = take_param(m, &off, h, "projection.batchnorm.bias", &m->dbeta);
    m->W2 = take_param(m, &off, h * k, "projection.linear2.weight", &m->dW2);
    m->b2 = take_param(m, &off, k, "projection.linear2.bias", &m->db2);
    m->run_var = m->run_mean + h;
}

/* Xavier-uniform for the embedding, the factors and the attention;
 * PyTorch's Linear default (±1/√fan_in) for the projection head. */
static void init_weights(dgn_model *m)
{
    const dgn_model_config *cfg = &m->cfg;
    size_t n = cfg->n_components, d = cfg->embed_dim, f = cfg->rank, h = cfg->hidden,
           k = cfg->out_dim;
    dgn_rng_seed(&m->rng, cfg->seed);
    init_uniform(&m->rng, m->E, n * d, sqrt(6.0 / (double)(n + d)));
    if (cfg->interaction) {
        init_uniform(&m->rng, m->V, n * f, sqrt(6.0 / (double)(n + f)));
        init_uniform(&m->rng, m->Wq, d * d, sqrt(3.0 / (double)d));
        init_uniform(&m->rng, m->Wk, d * d, sqrt(3.0 / (double)d));
        init_uniform(&m->rng, m->Wv, d * d, sqrt(3.0 / (double)d));
    }
    init_uniform(&m->rng, m->W1, n * d * h, 1.0 / sqrt((double)(n * d)));
    for (size_t j = 0; j < h; j++) {
        m->gamma[j] = 1;
        m->beta[j] = 0;
        m->run_mean[j] = 0;
        m->run_var[j] = 1;
    }
    init_uniform(&m->rng, m->W2, h * k, 1.0 / sqrt((double)h));
    init_uniform(&m->rng, m->b2, k, 1.0 / sqrt((double)h));
}

/* The struct and its three allocations, for a valid config; forward_only
 * for an evaluation copy (eval_copy). */
static dgn_status alloc_model(dgn_model **out, const dgn_model_config *cfg,
                              int forward_only)
{
    dgn_model *m = calloc(1, sizeof *m);
    if (!m)
        return dgn_fail_nomem("model");
    m->cfg = *cfg;
    m->training = !forward_only;
    m->forward_only = forward_only;
    m->n_params = dgn_model_param_floats(cfg);
    m->params = malloc(m->n_params * sizeof(float));
    m->grads = calloc(m->n_params, sizeof(float));
    m->run_mean = malloc(dgn_model_n_buffers(m) * sizeof(float));
    m->work = calloc(work_floats(cfg, forward_only), sizeof(float));
    if (!m->params || !m->grads || !m->run_mean || !m->work) {
        dgn_model_destroy(m);
        return dgn_fail_nomem("model parameters and work buffers");
    }
    *out = m;
    return DGN_OK;
}

dgn_status dgn_model_create(dgn_model **out, const dgn_model_config *cfg)
{
    dgn_status st = DGN_CREATE_CHECKS(out, 1, "dgn_model_create: out is NULL",
                                      dgn_model_config_validate(cfg));
    dgn_model *m = NULL;
    if (st == DGN_OK)
        st = alloc_model(&m, cfg, 0);
    if (st != DGN_OK)
        return st;
    carve_params(m);
    m->fold = folds(cfg);
    carve_work(m);
    init_weights(m);
    *out = m;
    return DGN_OK;
}

/* ---- the calls of model_internal.h ----------------------------------- */

const dgn_model_config *dgn_model_cfg(const dgn_model *m)
{
    return &m->cfg;
}

void dgn_model_weights_of(const dgn_model *m, dgn_model_weights *w)
{
    *w = (dgn_model_weights){m->E, m->V, m->Wq, m->Wk, m->Wv, m->W1, m->gamma, m->beta,
                             m->W2, m->b2, m->run_mean, m->run_var};
}

float *dgn_model_params(dgn_model *m)
{
    return m->params;
}

float *dgn_model_grads(dgn_model *m)
{
    return m->grads;
}

dgn_pool *dgn_model_pool(dgn_model *m)
{
    return m->pool;
}

size_t dgn_model_state_floats(const dgn_model *m)
{
    return m->n_params + dgn_model_n_buffers(m);
}

void dgn_model_snapshot(const dgn_model *m, float *state)
{
    memcpy(state, m->params, m->n_params * sizeof *state);
    memcpy(state + m->n_params, m->run_mean, dgn_model_n_buffers(m) * sizeof *state);
}

static void set_state(dgn_model *m, const float *params, const float *stats)
{
    memcpy(m->params, params, m->n_params * sizeof *params);
    memcpy(m->run_mean, stats, dgn_model_n_buffers(m) * sizeof *stats);
}

void dgn_model_restore(dgn_model *m, const float *state)
{
    set_state(m, state, state + m->n_params);
}

dgn_status dgn_model_clone(dgn_model **out, const dgn_model *src)
{
    dgn_status st = dgn_model_create(out, &src->cfg);
    if (st != DGN_OK)
        return st;
    set_state(*out, src->params, src->run_mean);
    (*out)->training = 0;
    return DGN_OK;
}

int dgn_model_folds(const dgn_model *m)
{
    return m->fold;
}

dgn_status dgn_model_set_fold(dgn_model *m, int on)
{
    if (on && !folds(&m->cfg))
        return dgn_fail(DGN_E_INVALID, "dgn_model_set_fold: the model has no folded "
                        "buffers");
    m->fold = on != 0;
    return DGN_OK;
}

dgn_status dgn_model_get_config(const dgn_model *m, dgn_model_config *cfg)
{
    if (!m || !cfg)
        return dgn_fail(DGN_E_INVALID, "dgn_model_get_config: NULL argument");
    *cfg = m->cfg;
    return DGN_OK;
}

#define MAX_THREADS 1024

/* An evaluation copy of m's config: weights are set by each
 * dgn_model_forward_rows call. */
static dgn_status eval_copy(dgn_model **out, const dgn_model *m)
{
    dgn_status st = alloc_model(out, &m->cfg, 1);
    if (st == DGN_OK) {
        carve_params(*out);
        carve_work(*out);
    }
    return st;
}

dgn_status dgn_model_set_threads(dgn_model *m, size_t threads)
{
    if (!m)
        return dgn_fail(DGN_E_INVALID, "dgn_model_set_threads: NULL model");
    if (threads < 1 || threads > MAX_THREADS)
        return dgn_fail(DGN_E_INVALID, "dgn_model_set_threads: %zu threads is outside "
                        "[1, %d]", threads, MAX_THREADS);
    if (dgn_pool_threads(m->pool) == threads)
        return DGN_OK;
    size_t ways = threads < DGN_EVAL_WAYS ? threads : DGN_EVAL_WAYS;
    dgn_model *copy[DGN_EVAL_WAYS - 1] = {NULL};
    dgn_pool *p = NULL;
    dgn_status st = threads > 1 ? dgn_pool_create(&p, threads) : DGN_OK;
    for (size_t i = 0; st == DGN_OK && i + 1 < ways; i++)
        st = eval_copy(&copy[i], m);
    if (st != DGN_OK) {
        for (size_t i = 0; i + 1 < ways; i++)
            dgn_model_destroy(copy[i]);
        dgn_pool_destroy(p);
        return st;
    }
    dgn_pool_destroy(m->pool);
    drop_eval_copies(m);
    m->pool = p;
    memcpy(m->eval_copy, copy, sizeof copy);
    m->n_eval_copies = ways - 1;
    return DGN_OK;
}

size_t dgn_model_threads(const dgn_model *m)
{
    return m ? dgn_pool_threads(m->pool) : 0;
}

dgn_status dgn_model_set_training(dgn_model *m, int training)
{
    if (!m)
        return dgn_fail(DGN_E_INVALID, "dgn_model_set_training: model is NULL");
    m->training = training != 0;
    return DGN_OK;
}

int dgn_model_training(const dgn_model *m)
{
    return m ? m->training : 0;
}

/* DGN_E_NONFINITE naming the first non-finite v[i][j] of [rows][cols],
 * its row counted from row0. */
static dgn_status check_rows_finite(const char *fn, const char *name, const float *v,
                                    size_t rows, size_t cols, size_t row0)
{
    for (size_t i = 0; i < rows * cols; i++)
        if (!isfinite(v[i]))
            return dgn_fail(DGN_E_NONFINITE, "%s: %s[%zu][%zu] is %g", fn, name,
                            row0 + i / cols, i % cols, (double)v[i]);
    return DGN_OK;
}

static dgn_status check_finite(const char *fn, const char *name, const float *v, size_t rows,
                               size_t cols)
{
    return check_rows_finite(fn, name, v, rows, cols, 0);
}

/* Forget the last forward pass after a failed call `fn` and keep why, for
 * the message of the backward call that would have used it. */
static dgn_status failed(dgn_model *m, const char *fn, dgn_status st)
{
    m->last_n = 0;
    snprintf(m->last_failure, sizeof m->last_failure, "the last %s call failed (%s)", fn,
             dgn_last_error());
    return st;
}

/* Why dgn_model_forward cannot run on these arguments, or DGN_OK. */
static dgn_status forward_checks(const dgn_model *m, const float *f, size_t f_cap,
                                 const float *x, size_t n)
{
    const dgn_model_config *c = &m->cfg;
    if (!f || !x)
        return dgn_fail(DGN_E_INVALID, "dgn_model_forward: NULL argument");
    if (n < 1 || n > c->max_batch)
        return dgn_fail(DGN_E_SHAPE, "dgn_model_forward: %zu rows is outside "
                        "[1, max_batch = %zu]", n, c->max_batch);
    if (m->training && n < 2)
        return dgn_fail(DGN_E_SHAPE, "dgn_model_forward: training mode needs at "
                        "least 2 rows for the batch statistics");
    if (f_cap < n * c->out_dim)
        return dgn_fail(DGN_E_SHAPE, "dgn_model_forward: f capacity %zu < %zu rows "
                        "x %zu features", f_cap, n, c->out_dim);
    return check_finite("dgn_model_forward", "x", x, n, c->n_components);
}

/* The same for dgn_model_backward, once a forward pass is there. */
static dgn_status backward_checks(const dgn_model *m, const float *dx, size_t dx_cap,
                                  const float *df, size_t n)
{
    size_t nc = m->cfg.n_components;
    if (!df)
        return dgn_fail(DGN_E_INVALID, "dgn_model_backward: NULL argument");
    if (n != m->last_n)
        return dgn_fail(DGN_E_INVALID, "dgn_model_backward: %zu rows, but the "
                        "forward pass had %zu", n, m->last_n);
    if (m->training != m->last_training)
        return dgn_fail(DGN_E_INVALID, "dgn_model_backward: the forward pass ran "
                        "in %s mode, the model is now in %s mode",
                        m->last_training ? "training" : "evaluation",
                        m->training ? "training" : "evaluation");
    if (dx && dx_cap < n * nc)
        return dgn_fail(DGN_E_SHAPE, "dgn_model_backward: dx capacity %zu < %zu "
                        "rows x %zu components", dx_cap, n, nc);
    return check_finite("dgn_model_backward", "df", df, n, m->cfg.out_dim);
}

dgn_status dgn_model_forward(dgn_model *m, float *f, size_t f_cap,
                             const float *x, size_t n)
{
    if (!m)
        return dgn_fail(DGN_E_INVALID, "dgn_model_forward: NULL argument");
    /* From here on the previous batch is gone, whatever happens: a backward
     * after a failed forward must not run on stale activations. */
    m->last_n = 0;
    m->last_failure[0] = '\0';
    dgn_status st = forward_checks(m, f, f_cap, x, n);
    if (st != DGN_OK)
        return failed(m, "dgn_model_forward", st);
    const dgn_model_config *c = &m->cfg;
    size_t nc = c->n_components, d = c->embed_dim, h = c->hidden, k = c->out_dim;
    memcpy(m->xin, x, n * nc * sizeof *x);

    int folded = m->fold && m->training;
    if (folded) {
        dgn_fold_buffers *fb = &m->fb;
        dgn_fold_mixing(fb->M, fb->Mt, m->Vn, m->vnorm, m->V, nc, c->rank);
        dgn_fold_weights_on(m->pool, fb->G, fb->Wf, fb->Eq, fb->Ek, fb->Ev, m->E, m->Wq,
                            m->Wk, m->Wv, m->W1, nc, d, h);
        dgn_folded_attention_forward_on(m->pool, fb->T, fb->P, fb->S, fb->Rcol, fb->xt, fb->acc,
                                        m->xin, fb->M, fb->Mt, fb->G, n, nc);
        dgn_folded_projection_forward(m->Y1, fb->T, fb->Wf, n, nc, h, m->pool);
    } else if (c->interaction) {
        dgn_graph_mix(m->M, m->Vn, m->vnorm, m->V, nc, c->rank);
        dgn_embed_forward(m->H, m->xin, m->E, n, nc, d, 0, m->pool);
        dgn_graph_forward(m->Z, m->M, m->H, nc, n * d, m->pool);
        dgn_attention_forward(m->U, m->Q, m->K, m->Va, m->P, m->Z, m->Wq, m->Wk,
                              m->Wv, n, nc, d, m->pool);
    } else {
        dgn_embed_forward(m->U, m->xin, m->E, n, nc, d, 1, m->pool);
    }
    if (!folded)
        dgn_linear_forward(m->Y1, m->U, m->W1, NULL, n, nc * d, h, m->pool);
    if (m->training)
        dgn_batchnorm_forward_train(m->N, m->xhat, m->bmean, m->binv, m->run_mean,
                                    m->run_var, m->Y1, m->gamma, m->beta, n, h,
                                    BN_MOMENTUM, DGN_BN_EPS, m->pool);
    else
        dgn_batchnorm_forward_eval(m->N, m->xhat, m->binv, m->Y1, m->gamma, m->beta,
                                   m->run_mean, m->run_var, n, h, DGN_BN_EPS, m->pool);
    dgn_relu_dropout_forward(m->A, m->mask, m->N, n, h, c->dropout,
                             m->training ? &m->rng : NULL, m->pool);
    dgn_linear_forward(m->Y2, m->A, m->W2, m->b2, n, h, k, m->pool);
    dgn_l2norm_forward(m->F, m->rnorm, m->Y2, n, k, m->pool);
    memcpy(f, m->F, n * k * sizeof *f);
    m->last_n = n;
    m->last_training = m->training;
    m->last_folded = folded;
    return DGN_OK;
}

dgn_status dgn_model_backward(dgn_model *m, float *dx, size_t dx_cap,
                              const float *df, size_t n)
{
    if (!m)
        return dgn_fail(DGN_E_INVALID, "dgn_model_backward: NULL argument");
    const dgn_model_config *c = &m->cfg;
    size_t nc = c->n_components, d = c->embed_dim, h = c->hidden, k = c->out_dim;
    if (m->last_n == 0 && m->last_failure[0])
        return dgn_fail(DGN_E_INVALID, "dgn_model_backward: no forward pass to go back "
                        "through: %s", m->last_failure);
    if (m->last_n == 0)
        return dgn_fail(DGN_E_INVALID, "dgn_model_backward: needs the forward pass "
                        "of the same %zu rows in the same mode first", n);
    /* Any failure below also forgets the forward pass, as a failed forward
     * does: the caller's step is broken and must start again. */
    dgn_status st = backward_checks(m, dx, dx_cap, df, n);
    if (st != DGN_OK)
        return failed(m, "dgn_model_backward", st);

    dgn_l2norm_backward(m->dY2, df, m->F, m->rnorm, n, k, m->pool);
    dgn_linear_backward(m->dW2, m->db2, m->dA, m->dY2, m->A, m->W2, n, h, k, m->pool);
    dgn_relu_dropout_backward(m->dN, m->dA, m->N,
                              m->training && c->dropout > 0 ? m->mask : NULL, n, h,
                              m->pool);
    if (m->training)
        dgn_batchnorm_backward_train(m->dgamma, m->dbeta, m->dY1, m->dN, m->xhat,
                                     m->binv, m->gamma, n, h, m->bsums, m->pool);
    else
        dgn_batchnorm_backward_eval(m->dgamma, m->dbeta, m->dY1, m->dN, m->xhat,
                                    m->gamma, m->run_var, n, h, DGN_BN_EPS);
    if (m->last_folded) {
        dgn_fold_buffers *fb = &m->fb;
        memset(fb->dG, 0, nc * nc * sizeof *fb->dG);
        memset(m->dM, 0, nc * nc * sizeof *m->dM);
        dgn_folded_projection_backward(fb->dWf, fb->dT, m->dY1, fb->T, fb->Wf, n, nc, h,
                                       m->pool);
        dgn_folded_attention_backward(m->pool, fb->dG, m->dM, dx, fb->dT, fb->dxt,
                                      fb->acc, fb->dMl, fb->dGl, fb->P, fb->S, fb->Rcol, fb->xt,
                                      fb->M, fb->Mt, fb->G, n, nc);
        dgn_fold_weights_backward(m->pool, m->dE, m->dWq, m->dWk, m->dWv, m->dW1, fb->dG,
                                  fb->dWf, m->E, m->Wq, m->Wk, m->Wv, m->W1, fb->Eq, fb->Ek,
                                  fb->Ev, nc, d, h, fb->dEq, fb->dEk, fb->dEv, fb->dEvl);
        /* M = I + (A − I)/(n − 1) */
        for (size_t i = 0; i < nc * nc; i++)
            m->dM[i] /= (float)(nc - 1);
        dgn_graph_mix_backward(m->dV, m->dM, m->Vn, m->vnorm, nc, c->rank, m->dVn);
        return DGN_OK;
    }
    dgn_linear_backward(m->dW1, NULL, m->dU, m->dY1, m->U, m->W1, n, nc * d, h, m->pool);
    if (c->interaction) {
        dgn_attention_backward(m->dWq, m->dWk, m->dWv, m->dZ, m->dU, m->Z, m->Q, m->K,
                               m->Va, m->P, m->Wq, m->Wk, m->Wv, n, nc, d,
                               m->dQ, m->dK, m->dVa, m->dS, m->pool);
        dgn_graph_backward(m->dV, m->dH, m->dZ, m->H, m->M, m->Vn, m->vnorm, nc,
                           c->rank, n * d, m->dM, m->dVn, m->pool);
        dgn_embed_backward(m->dE, dx, m->dH, m->xin, m->E, n, nc, d, 0, m->pool);
    } else {
        dgn_embed_backward(m->dE, dx, m->dU, m->xin, m->E, n, nc, d, 1, m->pool);
    }
    return DGN_OK;
}

/* ---- many rows in evaluation mode ----------------------------------- */

typedef struct rows_job {
    dgn_model *way[DGN_EVAL_WAYS];
    float *f;
    const float *x;
    size_t n, ways;
    dgn_status st[DGN_EVAL_WAYS];
} rows_job;

/* Way t runs batches t, t + ways, ...: the serial loop's batches, each on
 * a model of its own, so the features are the serial loop's bits. */
static void rows_task(void *arg, size_t t)
{
    rows_job *j = arg;
    dgn_model *w = j->way[t];
    size_t step = w->cfg.max_batch, c = w->cfg.n_components, k = w->cfg.out_dim;
    for (size_t i = t * step; i < j->n && j->st[t] == DGN_OK; i += j->ways * step) {
        size_t b = j->n - i < step ? j->n - i : step;
        j->st[t] = dgn_model_forward(w, j->f + i * k, b * k, j->x + i * c, b);
    }
}

size_t dgn_model_rows_chunk(const dgn_model *m)
{
    return m->cfg.max_batch * (m->n_eval_copies + 1);
}

dgn_status dgn_model_forward_rows(dgn_model *m, float *f, const float *x, size_t n,
                                  size_t row0, const char *fn)
{
    size_t c = m->cfg.n_components, k = m->cfg.out_dim, step = m->cfg.max_batch;
    size_t batches = (n + step - 1) / step, ways = m->n_eval_copies + 1;
    if (ways > batches)
        ways = batches;
    /* Checked here, on the caller's thread, where the message is kept and
     * can name the row in the whole call; the batches then cannot fail. */
    dgn_status st = check_rows_finite(fn, "x", x, n, c, row0);
    if (st != DGN_OK)
        return failed(m, fn, st);
    if (m->training || ways < 2) {
        for (size_t i = 0; i < n && st == DGN_OK; i += step) {
            size_t b = n - i < step ? n - i : step;
            st = dgn_model_forward(m, f + i * k, b * k, x + i * c, b);
        }
        return st;
    }
    rows_job job = {.f = f, .x = x, .n = n, .ways = ways};
    job.way[0] = m;
    for (size_t t = 1; t < ways; t++) {
        job.way[t] = m->eval_copy[t - 1];
        set_state(job.way[t], m->params, m->run_mean);
    }
    dgn_pool *p = m->pool; /* way 0 is m: its own calls run on one thread */
    m->pool = NULL;
    dgn_pool_run(p, rows_task, &job, ways);
    m->pool = p;
    for (size_t t = 0; t < ways; t++)
        if (job.st[t] != DGN_OK)
            return failed(m, fn, dgn_fail(job.st[t], "%s: a batch failed on a worker "
                                          "thread", fn));
    /* m ran some of the batches, not one forward pass backward could use. */
    m->last_n = 0;
    snprintf(m->last_failure, sizeof m->last_failure, "the last forward pass was %s's "
             "batches on %zu threads", fn, ways);
    return DGN_OK;
}

/* Blocks of ZERO_BLOCK gradients, a task each on the model's threads. */
#define ZERO_BLOCK 16384

static void zero_task(void *arg, size_t t)
{
    dgn_model *m = arg;
    size_t i = t * ZERO_BLOCK, w = m->n_params - i < ZERO_BLOCK ? m->n_params - i : ZERO_BLOCK;
    memset(m->grads + i, 0, w * sizeof *m->grads);
}

dgn_status dgn_model_zero_grad(dgn_model *m)
{
    if (!m)
        return dgn_fail(DGN_E_INVALID, "dgn_model_zero_grad: model is NULL");
    dgn_pool_run(m->pool, zero_task, m, (m->n_params + ZERO_BLOCK - 1) / ZERO_BLOCK);
    return DGN_OK;
}

size_t dgn_model_n_params(const dgn_model *m)
{
    return m ? m->n_params : 0;
}

size_t dgn_model_n_tensors(const dgn_model *m)
{
    return m ? m->n_tensors : 0;
}

dgn_status dgn_model_tensor(dgn_model *m, size_t i, const char **name,
                            float **value, float **grad, size_t *size)
{
    if (!m || i >= m->n_tensors)
        return dgn_fail(DGN_E_INVALID, "dgn_model_tensor: no tensor %zu (the model "
                        "has %zu)", i, m ? m->n_tensors : 0);
    const dgn_tensor *t = &m->tensor[i];
    if (name)
        *name = t->name;
    if (value)
        *value = t->value;
    if (grad)
        *grad = t->grad;
    if (size)
        *size = t->size;
    return DGN_OK;
}

/* FNV-1a: names are short and chosen by the program, not an attacker who
 * gains from collisions; the probe stays linear in the worst case. */
static size_t name_hash(const char *name)
{
    uint64_t h = 14695981039346656037u;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 1099511628211u;
    return (size_t)(h ^ h >> 32);
}

/* The slot holding `name`, or the free slot where it would go. */
static size_t *meta_probe(const dgn_model *m, const char *name)
{
    size_t mask = m->n_slots - 1;
    for (size_t i = name_hash(name) & mask;; i = (i + 1) & mask) {
        size_t *slot = &m->meta_slot[i];
        if (*slot == 0 || strcmp(m->meta[*slot - 1].name, name) == 0)
            return slot;
    }
}

const dgn_meta *dgn_model_find_meta(const dgn_model *m, const char *name)
{
    if (!m || !name || m->n_slots == 0)
        return NULL;
    size_t slot = *meta_probe(m, name);
    return slot ? &m->meta[slot - 1] : NULL;
}

/* Room for one more entry: the array and the index grow by doubling, so n
 * insertions cost O(n) in all. */
static dgn_status meta_reserve(dgn_model *m)
{
    if (m->n_meta >= DGN_MODEL_MAX_META)
        return dgn_fail(DGN_E_INVALID, "dgn_model_set_meta: the model already holds "
                        "%zu metadata entries, the limit", m->n_meta);
    if (m->n_meta == m->meta_cap) {
        size_t cap = m->meta_cap ? 2 * m->meta_cap : 8;
        dgn_meta *grown = realloc(m->meta, cap * sizeof *grown);
        if (!grown)
            return dgn_fail_nomem("model metadata");
        m->meta = grown;
        m->meta_cap = cap;
    }
    if (2 * (m->n_meta + 1) > m->n_slots) {
        size_t n_slots = m->n_slots ? 2 * m->n_slots : 16;
        size_t *slot = calloc(n_slots, sizeof *slot);
        if (!slot)
            return dgn_fail_nomem("model metadata index");
        free(m->meta_slot);
        m->meta_slot = slot;
        m->n_slots = n_slots;
        for (size_t i = 0; i < m->n_meta; i++)
            *meta_probe(m, m->meta[i].name) = i + 1;
    }
    return DGN_OK;
}

dgn_status dgn_model_set_meta(dgn_model *m, const char *name, const void *data, size_t size)
{
    if (!m || !name || !name[0] || (!data && size))
        return dgn_fail(DGN_E_INVALID, "dgn_model_set_meta: need a model, a non-empty "
                        "name and data");
    if (strlen(name) > 255)
        return dgn_fail(DGN_E_INVALID, "dgn_model_set_meta: name longer than 255 bytes");
    if (size > DGN_MODEL_MAX_FILE)
        return dgn_fail(DGN_E_INVALID, "dgn_model_set_meta: \"%s\": %zu bytes is more "
                        "than a model file holds", name, size);
    unsigned char *copy = malloc(size ? size : 1);
    if (!copy)
        return dgn_fail_nomem("model metadata");
    if (size)
        memcpy(copy, data, size);
    if (m->n_slots) {
        size_t slot = *meta_probe(m, name);
        if (slot) {
            dgn_meta *e = &m->meta[slot - 1];
            free(e->data);
            e->data = copy;
            e->size = size;
            return DGN_OK;
        }
    }
    dgn_status st = meta_reserve(m);
    char *nm = st == DGN_OK ? strdup(name) : NULL;
    if (!nm) {
        free(copy);
        return st != DGN_OK ? st : dgn_fail_nomem("model metadata");
    }
    m->meta[m->n_meta] = (dgn_meta){nm, copy, size};
    *meta_probe(m, nm) = ++m->n_meta;
    return DGN_OK;
}

int dgn_model_meta_lookup(const dgn_model *m, const char *name, const unsigned char **data,
                          size_t *size)
{
    const dgn_meta *e = dgn_model_find_meta(m, name);
    if (!e)
        return 0;
    *data = e->data;
    *size = e->size;
    return 1;
}

const char *dgn_model_meta_name(const dgn_model *m, size_t i)
{
    return m && i < m->n_meta ? m->meta[i].name : NULL;
}

dgn_status dgn_model_meta(const dgn_model *m, const char *name, const void **data,
                          size_t *size)
{
    if (!m || !name || !data || !size)
        return dgn_fail(DGN_E_INVALID, "dgn_model_meta: NULL argument");
    const unsigned char *b;
    if (!dgn_model_meta_lookup(m, name, &b, size))
        return dgn_fail(DGN_E_DATA, "model has no metadata named \"%s\"", name);
    *data = b;
    return DGN_OK;
}

/* "NaN", "inf" or "-inf", for messages about non-finite values. */
static const char *nonfinite_name(double v)
{
    return isnan(v) ? "NaN" : v > 0 ? "inf" : "-inf";
}

dgn_status dgn_model_check_values(const dgn_model *m, const char *where)
{
    size_t first = 0;
    for (size_t t = 0; t < m->n_tensors; t++) {
        const dgn_tensor *tn = &m->tensor[t];
        for (size_t i = 0; i < tn->size; i++)
            if (!isfinite(tn->value[i]))
                return dgn_fail(DGN_E_NONFINITE, "%s: parameter %zu (%s[%zu]) is %s",
                                where, first + i, tn->name, i,
                                nonfinite_name(tn->value[i]));
        first += tn->size;
    }
    for (size_t j = 0; j < m->cfg.hidden; j++) {
        double mean = m->run_mean[j], var = m->run_var[j];
        if (!isfinite(mean))
            return dgn_fail(DGN_E_NONFINITE, "%s: BatchNorm running mean[%zu] is %s",
                            where, j, nonfinite_name(mean));
        if (!isfinite(var))
            return dgn_fail(DGN_E_NONFINITE, "%s: BatchNorm running variance[%zu] is %s",
                            where, j, nonfinite_name(var));
        if (var < 0)
            return dgn_fail(DGN_E_FORMAT, "%s: BatchNorm running variance[%zu] is %g; a "
                            "variance cannot be negative", where, j, var);
    }
    return DGN_OK;
}
