/* Private: the contrastive triplet loss (paper eq. 11 with a temperature). */
#ifndef DGN_LIB_LOSS_H
#define DGN_LIB_LOSS_H

#include <stddef.h>

#include "pool.h"

/* f holds 3m rows of k features: anchors, positives, negatives. With
 * s_j = (⟨a_j, p_j⟩ − ⟨a_j, n_j⟩)/τ the loss is mean_j −log σ(s_j); df
 * (same shape as f) receives its gradient. Returns the loss. */
double dgn_triplet_loss(float *df, const float *f, size_t m, size_t k, double tau);
/* The same on pool's threads (NULL: the caller's), the terms kept in
 * terms [m] and added in order on the caller: the same bits. */
double dgn_triplet_loss_on(dgn_pool *pool, double *terms, float *df, const float *f, size_t m,
                           size_t k, double tau);

#endif
