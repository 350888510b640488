/* dgn_trainer: contrastive training of a dgn_model on a dgn_dataset.
 *
 * A step draws a batch of triplets (anchor, same-class positive,
 * other-class negative), runs all 3·batch rows through the network as one
 * batch, so they share one BatchNorm statistic, and takes an Adam step on
 *   L = mean −log σ((⟨f, f⁺⟩ − ⟨f, f⁻⟩)/τ)
 * (the paper's eq. 11 is τ = 1). An epoch draws as many anchors as there
 * are training rows. Unbalanced, that is each training row once, in a
 * fresh shuffled order; balanced (dgn_dataset_balanced: balance_anchors,
 * or by default when the rarer class is under a fifth of the training
 * rows), anchors alternate between the classes and each is drawn with
 * replacement from its class, so rare-class rows recur and some
 * common-class rows are skipped. Positives (the anchor's class) and
 * negatives (the other) are always random draws. The epoch ends with an
 * evaluation on the validation split: the centre (by default the contrast
 * centre, dgn_contrast_centre; the paper's class centre with
 * DGN_SCORE_CENTRE) is recomputed and the rows scored by ⟨centre, f⟩ (AUC
 * and Precision@k). fit keeps the best epoch's state by the chosen metric,
 * stops early after `patience` epochs without improvement once min_steps
 * steps are taken, or when max_steps are, restores the best state and
 * attaches the context (names, statistics, range, centre) to the model.
 *
 * Ownership: the trainer borrows the model and the dataset; both must
 * outlive it, and nothing else may use them while it trains. step and
 * epoch's training part never allocate. On a model with threads
 * (dgn_model_set_threads), a step draws the next batch on a worker while
 * it trains on this one; a draw from the dataset between steps rewinds
 * that batch first, so it gets what it would get on one thread.
 *
 * Threads: one trainer per thread; the library prints nothing, progress
 * goes through the callback.
 */
#ifndef DGN_TRAINER_H
#define DGN_TRAINER_H

#include "dgn/common.h"
#include "dgn/dataset.h"
#include "dgn/model.h"

DGN_BEGIN_DECLS

typedef struct dgn_trainer dgn_trainer;

typedef enum dgn_metric {
    DGN_METRIC_AUC = 0,
    DGN_METRIC_PRECISION_AT_K = 1
} dgn_metric;

typedef struct dgn_epoch_report {
    size_t epoch;          /* 1-based */
    double loss;           /* mean training loss of the epoch */
    double auc;            /* validation AUC of the score; NaN without
                              validation rows */
    double precision_at_k; /* validation Precision@k; NaN likewise */
    size_t k;
    double seconds;        /* wall time of the epoch, evaluation included */
    int best;              /* 1 when this epoch is the best so far */
} dgn_epoch_report;

/* Called after every epoch; a non-zero return stops training. */
typedef int (*dgn_progress_fn)(const dgn_epoch_report *report, void *user);

/* The learning rate over the run. */
typedef enum dgn_lr_schedule {
    DGN_LR_CONSTANT = 0, /* lr throughout (version 1) */
    DGN_LR_COSINE = 1    /* linear warm-up over warmup_steps, then cosine decay to
                            0 at the step budget (max_steps, or epochs x the
                            steps of one epoch) */
} dgn_lr_schedule;

/* The centre that scores rows (⟨centre, f⟩) and that the model keeps. */
typedef enum dgn_score {
    DGN_SCORE_CENTRE = 0,  /* mean feature of the training targets: the paper's
                              (dgn_class_centre) */
    DGN_SCORE_CONTRAST = 1 /* that minus the other rows' mean feature
                              (dgn_contrast_centre) */
} dgn_score;

/* Version 2 adds max_steps, min_steps, schedule, warmup_steps and score,
 * and its defaults size training in steps (epochs 1000 only caps) and
 * score by the contrast centre. A version-1 struct ends at progress_user
 * and trains as version 1 did (60 epochs, the centre score). */
#define DGN_TRAINER_CONFIG_VERSION 2

/* Grows only at the end; fill with dgn_trainer_config_init(). */
typedef struct dgn_trainer_config {
    unsigned int version;
    size_t batch;          /* triplets per step: 128 */
    size_t epochs;         /* at most: 1000 (60 for a version-1 struct) */
    double lr;             /* Adam learning rate: 2e-3 */
    double beta1, beta2;   /* 0.9, 0.999 */
    double eps;            /* 1e-8 */
    double weight_decay;   /* L2 added to the gradient: 0 */
    double tau;            /* loss temperature: 0.1 (1 is the paper's form) */
    dgn_metric select;     /* the validation metric that picks the best epoch
                              (the other breaks ties): AUC */
    size_t k;              /* for Precision@k: 100 */
    size_t patience;       /* epochs without improvement before stopping;
                              0 never stops early: 8 */
    dgn_progress_fn progress; /* NULL: silent */
    void *progress_user;
    /* Version 2. */
    size_t max_steps;      /* optimiser steps at most, over all epochs; 0: only
                              epochs limit: 10000 */
    size_t min_steps;      /* patience cannot stop training before this many
                              steps, so a small table (few steps per epoch)
                              still trains long enough: 3000 */
    dgn_lr_schedule schedule; /* DGN_LR_CONSTANT */
    size_t warmup_steps;   /* with DGN_LR_COSINE: 0 */
    dgn_score score;       /* DGN_SCORE_CONTRAST */
} dgn_trainer_config;

DGN_API dgn_status dgn_trainer_config_init(dgn_trainer_config *cfg, unsigned int version);
DGN_API dgn_status dgn_trainer_config_validate(const dgn_trainer_config *cfg);

/* The model's max_batch must hold 3·batch rows and its n_components must
 * match the dataset's. */
DGN_API dgn_status dgn_trainer_create(dgn_trainer **out, dgn_model *model,
                                      dgn_dataset *data, const dgn_trainer_config *cfg);
DGN_API void dgn_trainer_destroy(dgn_trainer *trainer);

/* One optimisation step on the next batch of the current epoch. *n_triplets
 * is 0, and nothing is updated, once the epoch is exhausted. */
DGN_API dgn_status dgn_trainer_step(dgn_trainer *trainer, double *loss, size_t *n_triplets);

/* A whole epoch (reshuffled), then the validation evaluation; keeps the
 * best state. */
DGN_API dgn_status dgn_trainer_epoch(dgn_trainer *trainer, dgn_epoch_report *report);

/* Epochs until cfg.epochs, early stopping or the callback says stop; then
 * the best state is restored (evaluation mode) and the context attached.
 * *best reports the epoch kept. */
DGN_API dgn_status dgn_trainer_fit(dgn_trainer *trainer, dgn_epoch_report *best);

/* The trainer's centre [out_dim], by its score: of the best state (after
 * fit) or of the last evaluation. dgn_class_centre computes one for any model and
 * dataset, dgn_model_class_centre reads the one a model stores
 * (dgn/scoring.h). */
DGN_API dgn_status dgn_trainer_centre(const dgn_trainer *trainer, float *centre, size_t cap);

DGN_END_DECLS

#endif
