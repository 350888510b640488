/* Private: Adam with L2 weight decay added to the gradient (as
 * torch.optim.Adam's weight_decay). State is allocated once; a step only
 * reads and writes it. */
#ifndef DGN_LIB_OPTIMIZER_H
#define DGN_LIB_OPTIMIZER_H

#include <stddef.h>
#include <stdint.h>

#include "dgn/common.h"
#include "pool.h"

typedef struct dgn_adam {
    float *m, *v; /* first and second moments, [n] each */
    size_t n;
    double lr, beta1, beta2, eps, weight_decay;
    uint64_t t;   /* steps taken */
} dgn_adam;

dgn_status dgn_adam_init(dgn_adam *a, size_t n, double lr, double beta1, double beta2,
                         double eps, double weight_decay);
void dgn_adam_free(dgn_adam *a);
/* One update of params[n] from grads[n]. */
void dgn_adam_step(dgn_adam *a, float *params, const float *grads);
/* The same on pool's threads (NULL: the caller's; the bits are the same). */
void dgn_adam_step_on(dgn_adam *a, float *params, const float *grads, dgn_pool *pool);

/* The learning rate of step `step` (0-based): lr when !cosine; else a
 * linear warm-up to lr over `warmup` steps, then a cosine decay reaching 0
 * at `budget` steps (and 0 after). */
double dgn_lr_at(int cosine, double lr, size_t warmup, size_t budget, size_t step);

#endif
