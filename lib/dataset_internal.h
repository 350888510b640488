/* Private: what the trainer reaches of a dataset beyond the public API.
 *
 * A batch drawn ahead: the trainer draws its next batch on a worker
 * thread while it runs a step (dgn_dataset_draw_ahead), and claims it at
 * the next step (dgn_dataset_take_ahead). Until then nothing else sees it:
 * any other call that draws (dgn_dataset_shuffle,
 * dgn_dataset_next_triplets, another draw ahead) first rewinds the
 * generator to where the batch began, so that it draws the same numbers
 * as if the batch had never been drawn. A seed's batches, and so its
 * weights, are then the same whether batches are drawn ahead or not.
 */
#ifndef DGN_LIB_DATASET_INTERNAL_H
#define DGN_LIB_DATASET_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "dgn/dataset.h"

/* As dgn_dataset_next_triplets (without rows), and *ticket names the
 * batch for dgn_dataset_take_ahead. */
dgn_status dgn_dataset_draw_ahead(dgn_dataset *ds, float *x, size_t x_cap,
                                  size_t max_anchors, size_t *n_anchors, uint64_t *ticket);

/* 1 when the batch drawn under ticket is still the dataset's next: it is
 * then drawn for good; 0 when something else drew first (the batch was
 * rewound and must be drawn again). */
int dgn_dataset_take_ahead(dgn_dataset *ds, uint64_t ticket);

#endif
