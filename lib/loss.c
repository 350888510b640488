#include "loss.h"

#include <math.h>

/* −log σ(s) = log(1 + e^(−s)), without overflow for large |s|. */
static double softplus_neg(double s)
{
    return s > 0 ? log1p(exp(-s)) : -s + log1p(exp(s));
}

/* Triplet j's loss term, and its gradient into df. */
static double triplet_term(float *df, const float *f, size_t m, size_t k, double tau, size_t j)
{
    const float *a = f + j * k, *p = f + (m + j) * k, *q = f + (2 * m + j) * k;
    float *da = df + j * k, *dp = df + (m + j) * k, *dq = df + (2 * m + j) * k;
    double ap = 0, aq = 0;
    for (size_t i = 0; i < k; i++) {
        ap += (double)a[i] * p[i];
        aq += (double)a[i] * q[i];
    }
    double s = (ap - aq) / tau;
    /* dL/ds = −σ(−s), averaged over the m triplets. */
    double g = -1.0 / (1.0 + exp(s)) / tau / (double)m;
    for (size_t i = 0; i < k; i++) {
        da[i] = (float)(g * ((double)p[i] - q[i]));
        dp[i] = (float)(g * a[i]);
        dq[i] = (float)(-g * a[i]);
    }
    return softplus_neg(s);
}

double dgn_triplet_loss(float *df, const float *f, size_t m, size_t k, double tau)
{
    double total = 0;
    for (size_t j = 0; j < m; j++)
        total += triplet_term(df, f, m, k, tau, j);
    return total / (double)m;
}

/* Blocks of LOSS_BLOCK triplets are the tasks of a pool. */
#define LOSS_BLOCK 32

typedef struct loss_job {
    float *df;
    double *terms;
    const float *f;
    size_t m, k;
    double tau;
} loss_job;

static void loss_task(void *arg, size_t t)
{
    const loss_job *l = arg;
    size_t end = (t + 1) * LOSS_BLOCK < l->m ? (t + 1) * LOSS_BLOCK : l->m;
    for (size_t j = t * LOSS_BLOCK; j < end; j++)
        l->terms[j] = triplet_term(l->df, l->f, l->m, l->k, l->tau, j);
}

double dgn_triplet_loss_on(dgn_pool *pool, double *terms, float *df, const float *f, size_t m,
                           size_t k, double tau)
{
    loss_job l = {df, terms, f, m, k, tau};
    dgn_pool_run(pool, loss_task, &l, (m + LOSS_BLOCK - 1) / LOSS_BLOCK);
    double total = 0;
    for (size_t j = 0; j < m; j++)
        total += terms[j];
    return total / (double)m;
}
