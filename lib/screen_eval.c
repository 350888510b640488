#include "screen_eval.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "centre.h"
#include "error.h"
#include "folded.h"
#include "gemm.h"
#include "lanes.h"
#include "layers.h"
#include "model_internal.h"

/* Each buffer on its own 64-byte line, as the model's work buffers. */
#define LINE_FLOATS 16

static size_t line_round(size_t floats)
{
    return (floats + LINE_FLOATS - 1) / LINE_FLOATS * LINE_FLOATS;
}

/* One zeroed block for n buffers of size[i] floats: *buf[i] points into
 * it. NULL when out of memory. */
static float *alloc_block(size_t n, const size_t *size, float **const *buf)
{
    size_t total = LINE_FLOATS;
    for (size_t i = 0; i < n; i++)
        total += line_round(size[i]);
    float *block = calloc(total, sizeof *block);
    if (!block)
        return NULL;
    float *c = block + (64 - (uintptr_t)block % 64) % 64 / sizeof(float);
    for (size_t i = 0; i < n; i++) {
        *buf[i] = c;
        c += line_round(size[i]);
    }
    return block;
}

/* Both the evaluator and a thread's work own a block and, unfolded, a
 * model copy; freed, the struct reads as never initialised. */
static void free_owned(void *s, size_t size, float *block, dgn_model *model)
{
    free(block);
    dgn_model_destroy(model);
    memset(s, 0, size);
}

void dgn_screen_eval_free(dgn_screen_eval *s)
{
    if (s)
        free_owned(s, sizeof *s, s->block, s->model);
}

/* The folded weights: M, Mᵀ and G (with interaction), Wf with its columns
 * scaled by BatchNorm's running statistics, the bias, W2 and b2, in the
 * block with the centre. The fold is training's (dgn_fold_weights), so
 * both run the same products. */
static dgn_status fold(dgn_screen_eval *s, const dgn_model_config *c, const dgn_model_weights *w)
{
    size_t n = c->n_components, d = c->embed_dim, h = c->hidden, k = c->out_dim;
    size_t rows = c->interaction ? n * n : n, mix = c->interaction ? dgn_mix_rows(n) * n : 0;
    /* M and Mt have dgn_mix_rows(n) rows, zero past n. */
    size_t size[] = {k, rows * h, h, h * k, k, mix, mix, c->interaction ? n * n : 0};
    float **buf[] = {&s->centre, &s->Wf, &s->bias, &s->W2, &s->b2, &s->M, &s->Mt, &s->G};
    if (!(s->block = alloc_block(8, size, buf)))
        return dgn_fail_nomem("screen evaluator");
    /* Scratch: E·Wq, E·Wk, E·Wv [n][d] each, Vn [n][f] and its norms [n]. */
    float *Eq = malloc((3 * n * d + n * c->rank + n) * sizeof *Eq);
    if (!Eq)
        return dgn_fail_nomem("screen evaluator");
    float *Ek = Eq + n * d, *Ev = Ek + n * d, *Vn = Ev + n * d;
    if (c->interaction) {
        dgn_fold_mixing(s->M, s->Mt, Vn, Vn + n * c->rank, w->V, n, c->rank);
        dgn_fold_weights(s->G, s->Wf, Eq, Ek, Ev, w->E, w->Wq, w->Wk, w->Wv, w->W1, n, d, h);
    } else {
        dgn_fold_weights_plain(s->Wf, w->E, w->W1, n, d, h);
    }
    free(Eq);
    /* BatchNorm with running statistics is y·scale + bias per feature:
     * scale goes into the columns of Wf. */
    for (size_t j = 0; j < h; j++) {
        float inv = 1.0f / sqrtf(w->run_var[j] + DGN_BN_EPS);
        double scale = (double)w->gamma[j] * inv;
        s->bias[j] = (float)(w->beta[j] - scale * w->run_mean[j]);
        for (size_t r = 0; r < rows; r++)
            s->Wf[r * h + j] = (float)(s->Wf[r * h + j] * scale);
    }
    memcpy(s->W2, w->W2, h * k * sizeof *s->W2);
    memcpy(s->b2, w->b2, k * sizeof *s->b2);
    return DGN_OK;
}

dgn_status dgn_screen_eval_init(dgn_screen_eval *s, const dgn_model *m, const float *centre,
                           size_t max_batch, dgn_screen_eval_path path)
{
    memset(s, 0, sizeof *s);
    if (!m || !centre || max_batch < 1)
        return dgn_fail(DGN_E_INVALID, "dgn_screen_eval_init: NULL model or centre, or no rows");
    const dgn_model_config *c = dgn_model_cfg(m);
    size_t n = c->n_components, h = c->hidden, k = c->out_dim;
    int fits = dgn_fold_fits(c->interaction ? n * n : n, max_batch, h);
    if (path == DGN_SCREEN_EVAL_FOLDED && !fits)
        return dgn_fail(DGN_E_INVALID, "dgn_screen_eval_init: %zu components at %zu rows are "
                        "too many to fold", n, max_batch);
    s->n = n;
    s->h = h;
    s->k = k;
    s->max_batch = max_batch;
    s->interaction = c->interaction;
    s->folded = path == DGN_SCREEN_EVAL_FOLDED ||
                (path == DGN_SCREEN_EVAL_AUTO && fits && dgn_fold_pays(c));
    dgn_status st;
    if (s->folded) {
        dgn_model_weights w;
        dgn_model_weights_of(m, &w);
        st = fold(s, c, &w);
    } else {
        float **buf[] = {&s->centre};
        s->block = alloc_block(1, &k, buf);
        st = s->block ? dgn_model_clone(&s->model, m) : dgn_fail_nomem("screen evaluator");
    }
    if (st == DGN_OK)
        memcpy(s->centre, centre, k * sizeof *centre);
    else
        dgn_screen_eval_free(s);
    return st;
}

dgn_status dgn_screen_eval_work_init(dgn_screen_eval_work *w, const dgn_screen_eval *s)
{
    memset(w, 0, sizeof *w);
    size_t B = s->max_batch;
    if (!s->folded) {
        dgn_status st = dgn_model_clone(&w->model, s->model);
        float **buf[] = {&w->f};
        size_t size = B * s->k;
        if (st == DGN_OK && !(w->block = alloc_block(1, &size, buf))) {
            dgn_screen_eval_work_free(w);
            st = dgn_fail_nomem("screen evaluator work");
        }
        return st;
    }
    size_t lanes = dgn_round_lanes(B), plane = s->interaction ? s->n * s->n * lanes : 1;
    size_t size[] = {plane, plane, s->interaction ? s->n * lanes : 1, lanes, B * s->h,
                     B * s->k};
    float **buf[] = {&w->R, &w->S, &w->xt, &w->acc, &w->Y1, &w->Y2};
    if (!(w->block = alloc_block(6, size, buf)))
        return dgn_fail_nomem("screen evaluator work");
    return DGN_OK;
}

void dgn_screen_eval_work_free(dgn_screen_eval_work *w)
{
    if (w)
        free_owned(w, sizeof *w, w->block, w->model);
}

/* ⟨centre, y⟩/‖y‖, with the norm clamped as dgn_l2norm_forward does. In
 * LANES partial sums: one chain of k dependent additions per candidate is
 * otherwise what this step waits on. */
static DGN_ALWAYS_INLINE float centre_score(const float *centre, const float *y, size_t k)
{
    float ss[LANES] = {0}, dot[LANES] = {0};
    size_t j = 0;
    for (; j + LANES <= k; j += LANES)
        for (size_t v = 0; v < LANES; v++) {
            ss[v] += y[j + v] * y[j + v];
            dot[v] += centre[j + v] * y[j + v];
        }
    for (; j < k; j++) {
        ss[0] += y[j] * y[j];
        dot[0] += centre[j] * y[j];
    }
    for (size_t w = LANES / 2; w > 0; w /= 2)
        for (size_t v = 0; v < w; v++) {
            ss[v] += ss[v + w];
            dot[v] += dot[v + w];
        }
    float norm = sqrtf(ss[0]);
    return dot[0] / (norm > 1e-12f ? norm : 1e-12f);
}

/* The folded network on B rows. */
static DGN_ALWAYS_INLINE void folded_scores_body(const dgn_screen_eval *s, dgn_screen_eval_work *w,
                                                 float *scores, const float *x, size_t B)
{
    size_t n = s->n, h = s->h, k = s->k;
    if (s->interaction) {
        /* P in R and T in S: only T is needed. */
        dgn_folded_attention_forward(w->S, w->R, w->S, w->R, w->xt, w->acc, x, s->M, s->Mt,
                                     s->G, B, n);
        dgn_folded_projection_forward(w->Y1, w->S, s->Wf, B, n, h, NULL);
    } else {
        dgn_gemm(DGN_NOTRANS, DGN_NOTRANS, B, h, n, 1.0f, x, n, s->Wf, h, 0.0f, w->Y1, h);
    }
    for (size_t b = 0; b < B; b++) {
        float *y = w->Y1 + b * h;
        for (size_t j = 0; j < h; j++) {
            float v = y[j] + s->bias[j];
            y[j] = v > 0 ? v : 0;
        }
    }
    dgn_linear_forward(w->Y2, w->Y1, s->W2, s->b2, B, h, k, NULL);
    for (size_t b = 0; b < B; b++)
        scores[b] = centre_score(s->centre, w->Y2 + b * k, k);
}

DGN_ISA_BUILDS(folded_scores,
               (const dgn_screen_eval *s, dgn_screen_eval_work *w, float *scores, const float *x,
                size_t B),
               (s, w, scores, x, B))

dgn_status dgn_screen_eval_run(const dgn_screen_eval *s, dgn_screen_eval_work *w, float *scores,
                          const float *x, size_t B)
{
    if (B < 1 || B > s->max_batch)
        return dgn_fail(DGN_E_SHAPE, "dgn_screen_eval_run: %zu rows is outside [1, %zu]", B,
                        s->max_batch);
    if (s->folded) {
        DGN_ISA_CALL(folded_scores, (s, w, scores, x, B));
        return DGN_OK;
    }
    dgn_status st = dgn_model_forward(w->model, w->f, s->max_batch * s->k, x, B);
    if (st == DGN_OK)
        dgn_centre_scores(scores, s->centre, w->f, B, s->k);
    return st;
}
