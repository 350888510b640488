#include "optimizer.h"

#include <math.h>
#include <stdlib.h>

#include "error.h"
#include "isa.h"

dgn_status dgn_adam_init(dgn_adam *a, size_t n, double lr, double beta1, double beta2,
                         double eps, double weight_decay)
{
    *a = (dgn_adam){.m = calloc(n ? n : 1, sizeof(float)),
                    .v = calloc(n ? n : 1, sizeof(float)),
                    .n = n, .lr = lr, .beta1 = beta1, .beta2 = beta2, .eps = eps,
                    .weight_decay = weight_decay};
    if (!a->m || !a->v) {
        dgn_adam_free(a);
        return dgn_fail_nomem("optimizer state");
    }
    return DGN_OK;
}

void dgn_adam_free(dgn_adam *a)
{
    free(a->m);
    free(a->v);
    a->m = a->v = NULL;
}

static DGN_ALWAYS_INLINE void adam_update_body(float *restrict params,
                                                const float *restrict grads,
                                                float *restrict m, float *restrict v,
                                                size_t n, float b1, float b2, float wd,
                                                float step, float eps)
{
    for (size_t i = 0; i < n; i++) {
        float g = grads[i] + wd * params[i];
        m[i] = b1 * m[i] + (1 - b1) * g;
        v[i] = b2 * v[i] + (1 - b2) * g * g;
        params[i] -= step * m[i] / (sqrtf(v[i]) + eps);
    }
}

DGN_ISA_BUILDS(adam_update,
               (float *restrict params, const float *restrict grads, float *restrict m,
                float *restrict v, size_t n, float b1, float b2, float wd, float step,
                float eps),
               (params, grads, m, v, n, b1, b2, wd, step, eps))

/* Blocks of ADAM_BLOCK weights are the tasks of a pool: every weight is
 * updated alone, so the split does not change a bit. */
#define ADAM_BLOCK 16384

typedef struct adam_job {
    float *params, *m, *v;
    const float *grads;
    size_t n;
    float b1, b2, wd, step, eps;
} adam_job;

static void adam_task(void *arg, size_t t)
{
    const adam_job *j = arg;
    size_t i = t * ADAM_BLOCK, w = j->n - i < ADAM_BLOCK ? j->n - i : ADAM_BLOCK;
    DGN_ISA_CALL(adam_update, (j->params + i, j->grads + i, j->m + i, j->v + i, w, j->b1,
                               j->b2, j->wd, j->step, j->eps));
}

void dgn_adam_step_on(dgn_adam *a, float *params, const float *grads, dgn_pool *pool)
{
    a->t++;
    /* Bias corrections folded into the step size and epsilon:
     * lr/c1 · m/(√v/√c2 + eps) = (lr·√c2/c1) · m/(√v + eps·√c2), one
     * division per weight instead of two. */
    double c1 = 1 - pow(a->beta1, (double)a->t);
    double root_c2 = sqrt(1 - pow(a->beta2, (double)a->t));
    adam_job j = {params, a->m, a->v, grads, a->n, (float)a->beta1, (float)a->beta2,
                  (float)a->weight_decay, (float)(a->lr * root_c2 / c1),
                  (float)(a->eps * root_c2)};
    dgn_pool_run(pool, adam_task, &j, (a->n + ADAM_BLOCK - 1) / ADAM_BLOCK);
}

void dgn_adam_step(dgn_adam *a, float *params, const float *grads)
{
    dgn_adam_step_on(a, params, grads, NULL);
}

double dgn_lr_at(int cosine, double lr, size_t warmup, size_t budget, size_t step)
{
    if (!cosine)
        return lr;
    if (step < warmup)
        return lr * (double)(step + 1) / (double)warmup;
    if (budget <= warmup)
        return lr;
    double done = (double)(step - warmup) / (double)(budget - warmup);
    return done >= 1 ? 0 : 0.5 * lr * (1 + cos(3.14159265358979323846 * done));
}
