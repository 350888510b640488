#include "loss.h"

#include <math.h>

/* −log σ(s) = log(1 + e^(−s)), without overflow for large |s|. */
static double softplus_neg(double s)
{
    return s > 0 ? log1p(exp(-s)) : -s + log1p(exp(s));
}

double dgn_triplet_loss(float *df, const float *f, size_t m, size_t k, double tau)
{
    double total = 0;
    for (size_t j = 0; j < m; j++) {
        const float *a = f + j * k, *p = f + (m + j) * k, *q = f + (2 * m + j) * k;
        float *da = df + j * k, *dp = df + (m + j) * k, *dq = df + (2 * m + j) * k;
        double ap = 0, aq = 0;
        for (size_t i = 0; i < k; i++) {
            ap += (double)a[i] * p[i];
            aq += (double)a[i] * q[i];
        }
        double s = (ap - aq) / tau;
        total += softplus_neg(s);
        /* dL/ds = −σ(−s), averaged over the m triplets. */
        double g = -1.0 / (1.0 + exp(s)) / tau / (double)m;
        for (size_t i = 0; i < k; i++) {
            da[i] = (float)(g * ((double)p[i] - q[i]));
            dp[i] = (float)(g * a[i]);
            dq[i] = (float)(-g * a[i]);
        }
    }
    return total / (double)m;
}
