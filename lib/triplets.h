/* Private: the training triplets of a dataset. An epoch's anchors (every
 * training row once in shuffled order, or with balancing the classes in
 * turn, drawn with replacement), each with a same-class positive and an
 * other-class negative drawn at random, augmented with multiplicative
 * noise and z-scored.
 *
 * Ownership: the sampler borrows the rows, labels and statistics given to
 * create (the dataset's own), which must outlive it; it owns its
 * generator, a copy of the one given. */
#ifndef DGN_LIB_TRIPLETS_H
#define DGN_LIB_TRIPLETS_H

#include <stddef.h>
#include <stdint.h>

#include "dgn/common.h"
#include "rng.h"

typedef struct dgn_triplets dgn_triplets;

/* x [n][c] and label [n] are the training rows, with both classes
 * present; mean and std [c] their z-score statistics. balance_anchors: 0,
 * 1 or DGN_BALANCE_AUTO (1 when the smaller class is under 20 % of the
 * rows). Shuffles the first epoch. */
dgn_status dgn_triplets_create(dgn_triplets **out, const double *x, const int32_t *label,
                               size_t n, size_t c, const double *mean, const double *std,
                               double sigma, int balance_anchors, const dgn_rng *rng);
void dgn_triplets_destroy(dgn_triplets *tr);

int dgn_triplets_balanced(const dgn_triplets *tr);

/* A new epoch: a fresh anchor order. */
void dgn_triplets_shuffle(dgn_triplets *tr);

/* Where the sampler stands in its epoch: dgn_triplets_rewind() goes back
 * there, so that the same batches are drawn again, provided no shuffle
 * came between. */
typedef struct dgn_triplets_mark {
    dgn_rng rng;
    size_t cursor;
} dgn_triplets_mark;
dgn_triplets_mark dgn_triplets_here(const dgn_triplets *tr);
void dgn_triplets_rewind(dgn_triplets *tr, const dgn_triplets_mark *mark);

/* Up to max_anchors more anchors of this epoch into x [3m][c] (anchors,
 * then positives, then negatives) and, when rows is not NULL, their rows
 * into rows [3m]; returns m, 0 at the end of the epoch. */
size_t dgn_triplets_next(dgn_triplets *tr, float *x, size_t *rows, size_t max_anchors);

#endif
