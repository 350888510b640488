#include "dgn/trainer.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dgn/metrics.h"
#include "dgn/scoring.h"
#include "dataset_internal.h"
#include "error.h"
#include "fileio.h"
#include "loss.h"
#include "model_internal.h"
#include "optimizer.h"
#include "pool.h"

struct dgn_trainer {
    dgn_trainer_config cfg;
    dgn_model *model;
    dgn_dataset *data;
    dgn_adam adam;
    size_t epoch;

    float *x, *f, *df;           /* one step: [3·batch][c], [3·batch][k] x 2 */
    /* The next batch, drawn on a worker during this step (draw_ahead):
     * [3·batch][c], its anchors, status and ticket. */
    float *x_ahead;
    size_t n_ahead;
    dgn_status st_ahead;
    uint64_t ticket;
    double *terms;               /* the step's loss per triplet, [batch] */
    float *centre, *best_centre; /* [k] */
    float *best_state; /* dgn_model_snapshot of the best epoch */
    dgn_epoch_report best;
    size_t since_best;
    size_t steps, budget; /* steps taken; steps the schedule spans */
};

/* Bytes of a config of the given version: a version-1 struct ends after
 * progress_user. */
static size_t config_size(unsigned int version)
{
    return version >= 2 ? sizeof(dgn_trainer_config)
                        : offsetof(dgn_trainer_config, progress_user) + sizeof(void *);
}

/* The defaults of include/dgn/trainer.h; static, so that padding is zero.
 * Sized in steps, so that a small table trains as long as a large one
 * (docs/training.md, "Steps, not epochs"); epochs only caps. */
static const dgn_trainer_config DEFAULTS = {
    .batch = 128,
    .epochs = 1000,
    .lr = 2e-3,
    .beta1 = 0.9,
    .beta2 = 0.999,
    .eps = 1e-8,
    .weight_decay = 0,
    .tau = 0.1,
    .select = DGN_METRIC_AUC,
    .k = 100,
    .patience = 8,
    .max_steps = 10000,
    .min_steps = 3000,
    .schedule = DGN_LR_CONSTANT,
    .warmup_steps = 0,
    .score = DGN_SCORE_CONTRAST,
};

dgn_status dgn_trainer_config_init(dgn_trainer_config *cfg, unsigned int version)
{
    /* Only the caller's version's bytes: a version-1 struct is smaller. */
    dgn_status st = dgn_config_init(cfg, version, DGN_TRAINER_CONFIG_VERSION,
                                    "dgn_trainer_config_init", &DEFAULTS, config_size(version));
    if (st == DGN_OK && version < 2)
        cfg->epochs = 60; /* version 1 counted in epochs alone */
    return st;
}

#define BAD_FIELD(...) dgn_fail(DGN_E_INVALID, "trainer config: " __VA_ARGS__)

dgn_status dgn_trainer_config_validate(const dgn_trainer_config *c)
{
    dgn_status st = dgn_check_config_version(c, DGN_TRAINER_CONFIG_VERSION, "trainer", 0);
    if (st != DGN_OK)
        return st;
    if (c->batch < 1)
        return BAD_FIELD("batch: must be at least 1");
    if (c->epochs < 1)
        return BAD_FIELD("epochs: must be at least 1");
    if (!(c->lr > 0) || !isfinite(c->lr))
        return BAD_FIELD("lr: %g is not a positive finite value", c->lr);
    if (!(c->beta1 >= 0 && c->beta1 < 1))
        return BAD_FIELD("beta1: %g is outside [0, 1)", c->beta1);
    if (!(c->beta2 >= 0 && c->beta2 < 1))
        return BAD_FIELD("beta2: %g is outside [0, 1)", c->beta2);
    if (!(c->eps > 0) || !isfinite(c->eps))
        return BAD_FIELD("eps: %g is not a positive finite value", c->eps);
    if (!(c->weight_decay >= 0) || !isfinite(c->weight_decay))
        return BAD_FIELD("weight_decay: %g is not a finite value >= 0", c->weight_decay);
    if (!(c->tau > 0) || !isfinite(c->tau))
        return BAD_FIELD("tau: %g is not a positive finite value", c->tau);
    if (c->select != DGN_METRIC_AUC && c->select != DGN_METRIC_PRECISION_AT_K)
        return BAD_FIELD("select: %d is not a dgn_metric value", (int)c->select);
    if (c->k < 1)
        return BAD_FIELD("k: must be at least 1");
    if (c->version < 2)
        return DGN_OK;
    if (c->schedule != DGN_LR_CONSTANT && c->schedule != DGN_LR_COSINE)
        return BAD_FIELD("schedule: %d is not a dgn_lr_schedule value", (int)c->schedule);
    if (c->score != DGN_SCORE_CENTRE && c->score != DGN_SCORE_CONTRAST)
        return BAD_FIELD("score: %d is not a dgn_score value", (int)c->score);
    if (c->max_steps && c->min_steps > c->max_steps)
        return BAD_FIELD("min_steps: %zu is above max_steps %zu", c->min_steps, c->max_steps);
    return DGN_OK;
}

void dgn_trainer_destroy(dgn_trainer *t)
{
    if (!t)
        return;
    dgn_adam_free(&t->adam);
    free(t->x);
    free(t->x_ahead);
    free(t->f);
    free(t->df);
    free(t->terms);
    free(t->centre);
    free(t->best_centre);
    free(t->best_state);
    free(t);
}

dgn_status dgn_trainer_create(dgn_trainer **out, dgn_model *model, dgn_dataset *data,
                              const dgn_trainer_config *cfg)
{
    if (!out || !model || !data)
        return dgn_fail(DGN_E_INVALID, "dgn_trainer_create: NULL argument");
    *out = NULL;
    dgn_status st = dgn_trainer_config_validate(cfg);
    if (st != DGN_OK)
        return st;
    const dgn_model_config *mc = dgn_model_cfg(model);
    size_t c = mc->n_components, k = mc->out_dim;
    if (dgn_dataset_n_components(data) != c)
        return dgn_fail(DGN_E_SHAPE, "dgn_trainer_create: the dataset has %zu components, "
                        "the model %zu", dgn_dataset_n_components(data), c);
    if (cfg->batch > mc->max_batch / 3)
        return dgn_fail(DGN_E_SHAPE, "dgn_trainer_create: batch %zu needs 3 x %zu rows, "
                        "above the model's max_batch %zu", cfg->batch, cfg->batch,
                        mc->max_batch);

    dgn_trainer *t = calloc(1, sizeof *t);
    if (!t)
        return dgn_fail_nomem("trainer");
    memcpy(&t->cfg, cfg, config_size(cfg->version)); /* older: the zeros are v1's */
    t->model = model;
    size_t per_epoch = (dgn_dataset_n_rows(data, DGN_SPLIT_TRAIN) + cfg->batch - 1) / cfg->batch;
    t->budget = per_epoch > SIZE_MAX / cfg->epochs ? SIZE_MAX : per_epoch * cfg->epochs;
    if (t->cfg.max_steps && t->cfg.max_steps < t->budget)
        t->budget = t->cfg.max_steps;
    t->data = data;
    size_t rows = 3 * cfg->batch;
    t->x = malloc(rows * c * sizeof *t->x);
    t->x_ahead = malloc(rows * c * sizeof *t->x_ahead);
    t->f = malloc(rows * k * sizeof *t->f);
    t->df = malloc(rows * k * sizeof *t->df);
    t->terms = malloc(cfg->batch * sizeof *t->terms);
    t->centre = calloc(k, sizeof *t->centre);
    t->best_centre = calloc(k, sizeof *t->best_centre);
    t->best_state = malloc(dgn_model_state_floats(model) * sizeof *t->best_state);
    st = dgn_adam_init(&t->adam, dgn_model_n_params(model), cfg->lr, cfg->beta1, cfg->beta2,
                       cfg->eps, cfg->weight_decay);
    if (st == DGN_OK && (!t->x || !t->x_ahead || !t->f || !t->df || !t->terms || !t->centre ||
                         !t->best_centre || !t->best_state))
        st = dgn_fail_nomem("trainer buffers");
    if (st != DGN_OK) {
        dgn_trainer_destroy(t);
        return st;
    }
    t->best.epoch = 0;
    *out = t;
    return DGN_OK;
}

/* On a worker, while the caller trains on this step's batch: the next. */
static void draw_ahead(void *arg)
{
    dgn_trainer *t = arg;
    size_t b = t->cfg.batch, c = dgn_model_cfg(t->model)->n_components;
    t->st_ahead = dgn_dataset_draw_ahead(t->data, t->x_ahead, 3 * b * c, b, &t->n_ahead,
                                         &t->ticket);
}

/* Forward, loss, backward and Adam on the n triplets in t->x. */
static dgn_status train_on(dgn_trainer *t, size_t n, double *loss)
{
    dgn_model *m = t->model;
    size_t k = dgn_model_cfg(m)->out_dim, b = t->cfg.batch;
    dgn_model_set_training(m, 1);
    dgn_status st = dgn_model_forward(m, t->f, 3 * b * k, t->x, 3 * n);
    if (st != DGN_OK)
        return st;
    *loss = dgn_triplet_loss_on(dgn_model_pool(m), t->terms, t->df, t->f, n, k, t->cfg.tau);
    dgn_model_zero_grad(m);
    if ((st = dgn_model_backward(m, NULL, 0, t->df, 3 * n)) != DGN_OK)
        return st;
    t->adam.lr = dgn_lr_at(t->cfg.schedule == DGN_LR_COSINE, t->cfg.lr, t->cfg.warmup_steps,
                           t->budget, t->steps);
    dgn_adam_step_on(&t->adam, dgn_model_params(m), dgn_model_grads(m), dgn_model_pool(m));
    return DGN_OK;
}

dgn_status dgn_trainer_step(dgn_trainer *t, double *loss, size_t *n_triplets)
{
    if (!t || !loss || !n_triplets)
        return dgn_fail(DGN_E_INVALID, "dgn_trainer_step: NULL argument");
    size_t c = dgn_model_cfg(t->model)->n_components, b = t->cfg.batch, n;
    *loss = 0;
    *n_triplets = 0;
    if (t->cfg.max_steps && t->steps >= t->cfg.max_steps)
        return DGN_OK; /* the budget is spent: the epoch ends here */
    dgn_status st = DGN_OK;
    if (t->ticket && dgn_dataset_take_ahead(t->data, t->ticket)) {
        float *x = t->x;
        t->x = t->x_ahead;
        t->x_ahead = x;
        n = t->n_ahead;
    } else {
        st = dgn_dataset_next_triplets(t->data, t->x, 3 * b * c, NULL, 0, b, &n);
    }
    t->ticket = 0;
    *n_triplets = n;
    if (st != DGN_OK || n == 0)
        return st;
    /* The sampler is serial (one generator, drawn in order): with a
     * worker to spare, the next batch is drawn beside this step's stages,
     * whose tasks the caller takes meanwhile, instead of before the next
     * step while the workers wait. */
    dgn_pool *pool = dgn_model_pool(t->model);
    int ahead = (!t->cfg.max_steps || t->steps + 1 < t->cfg.max_steps) &&
                dgn_pool_post(pool, draw_ahead, t);
    st = train_on(t, n, loss);
    if (ahead) {
        dgn_pool_wait_posted(pool);
        if (t->st_ahead != DGN_OK)
            t->ticket = 0;
    }
    if (st != DGN_OK)
        return st;
    t->steps++;
    return DGN_OK;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void keep_best(dgn_trainer *t)
{
    dgn_model *m = t->model;
    dgn_model_snapshot(m, t->best_state);
    memcpy(t->best_centre, t->centre, dgn_model_cfg(m)->out_dim * sizeof *t->centre);
}

dgn_status dgn_trainer_epoch(dgn_trainer *t, dgn_epoch_report *report)
{
    if (!t || !report)
        return dgn_fail(DGN_E_INVALID, "dgn_trainer_epoch: NULL argument");
    double start = now(), sum = 0;
    size_t triplets = 0, n;
    dgn_status st = dgn_dataset_shuffle(t->data);
    for (;;) {
        double l;
        if (st != DGN_OK || (st = dgn_trainer_step(t, &l, &n)) != DGN_OK || n == 0)
            break;
        sum += l * (double)n;
        triplets += n;
    }
    if (st != DGN_OK)
        return st;
    if (triplets == 0)
        return dgn_fail(DGN_E_INVALID, "dgn_trainer_epoch: the step budget (max_steps %zu) "
                        "is spent", t->cfg.max_steps);
    t->epoch++;

    memset(report, 0, sizeof *report);
    report->epoch = t->epoch;
    report->loss = triplets ? sum / (double)triplets : NAN;
    report->k = t->cfg.k;
    report->auc = report->precision_at_k = NAN;
    size_t k = dgn_model_cfg(t->model)->out_dim;
    st = t->cfg.score == DGN_SCORE_CONTRAST
             ? dgn_contrast_centre(t->centre, k, t->model, t->data)
             : dgn_class_centre(t->centre, k, t->model, t->data);
    if (st == DGN_OK && dgn_dataset_n_rows(t->data, DGN_SPLIT_VALID) > 0)
        st = dgn_evaluate_split(&report->auc, &report->precision_at_k, t->cfg.k, t->model,
                                t->centre, t->data, DGN_SPLIT_VALID);
    if (st != DGN_OK)
        return st;

    /* The chosen metric decides, the other breaks its ties (Precision@k
     * moves in steps of 1/k). Without validation rows the latest epoch is
     * kept. */
    int by_auc = t->cfg.select == DGN_METRIC_AUC;
    double first = by_auc ? report->auc : report->precision_at_k,
           second = by_auc ? report->precision_at_k : report->auc,
           best_first = by_auc ? t->best.auc : t->best.precision_at_k,
           best_second = by_auc ? t->best.precision_at_k : t->best.auc;
    if (t->best.epoch == 0 || isnan(first) || first > best_first ||
        (first == best_first && second > best_second)) {
        keep_best(t);
        report->best = 1;
        t->best = *report;
        t->since_best = 0;
    } else {
        t->since_best++;
    }
    report->seconds = now() - start;
    if (report->best)
        t->best.seconds = report->seconds;
    return DGN_OK;
}

dgn_status dgn_trainer_fit(dgn_trainer *t, dgn_epoch_report *best)
{
    if (!t)
        return dgn_fail(DGN_E_INVALID, "dgn_trainer_fit: trainer is NULL");
    dgn_status st = DGN_OK;
    for (size_t e = 0; e < t->cfg.epochs; e++) {
        dgn_epoch_report r;
        if ((st = dgn_trainer_epoch(t, &r)) != DGN_OK)
            return st;
        if (t->cfg.progress && t->cfg.progress(&r, t->cfg.progress_user))
            break;
        if (t->cfg.patience && t->since_best >= t->cfg.patience &&
            t->steps >= t->cfg.min_steps)
            break;
        if (t->cfg.max_steps && t->steps >= t->cfg.max_steps)
            break;
    }
    dgn_model *m = t->model;
    dgn_model_restore(m, t->best_state);
    memcpy(t->centre, t->best_centre, dgn_model_cfg(m)->out_dim * sizeof *t->centre);
    dgn_model_set_training(m, 0);

    char settings[512];
    dgn_c_numbers scope = dgn_c_numbers_begin();
    snprintf(settings, sizeof settings,
             "best_epoch=%zu\nepochs_run=%zu\nbatch=%zu\nlr=%g\nweight_decay=%g\n"
             "tau=%g\nselect=%s\nk=%zu\npatience=%zu\nsteps_run=%zu\nmax_steps=%zu\n"
             "min_steps=%zu\nschedule=%s\nwarmup_steps=%zu\nscore=%s\nvalid_auc=%.6f\n"
             "valid_precision_at_k=%.6f\n",
             t->best.epoch, t->epoch, t->cfg.batch, t->cfg.lr, t->cfg.weight_decay,
             t->cfg.tau, t->cfg.select == DGN_METRIC_AUC ? "auc" : "precision_at_k",
             t->cfg.k, t->cfg.patience, t->steps, t->cfg.max_steps, t->cfg.min_steps,
             t->cfg.schedule == DGN_LR_COSINE ? "cosine" : "constant", t->cfg.warmup_steps,
             t->cfg.score == DGN_SCORE_CONTRAST ? "contrast" : "centre", t->best.auc,
             t->best.precision_at_k);
    dgn_c_numbers_end(scope);
    st = dgn_model_attach_context(m, t->data, t->centre, settings);
    if (st == DGN_OK && best)
        *best = t->best;
    return st;
}

dgn_status dgn_trainer_centre(const dgn_trainer *t, float *centre, size_t cap)
{
    if (!t || !centre)
        return dgn_fail(DGN_E_INVALID, "dgn_trainer_centre: NULL argument");
    size_t k = dgn_model_cfg(t->model)->out_dim;
    if (cap < k)
        return dgn_fail(DGN_E_SHAPE, "dgn_trainer_centre: capacity %zu < %zu", cap, k);
    memcpy(centre, t->centre, k * sizeof *centre);
    return DGN_OK;
}
