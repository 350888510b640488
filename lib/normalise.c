#include "normalise.h"

#include <math.h>

void dgn_zscore_fit(const double *x, size_t n, size_t c, double *mean, double *std)
{
    for (size_t j = 0; j < c; j++)
        mean[j] = std[j] = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < c; j++)
            mean[j] += x[i * c + j];
    for (size_t j = 0; j < c; j++)
        mean[j] /= (double)n;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < c; j++) {
            double d = x[i * c + j] - mean[j];
            std[j] += d * d;
        }
    for (size_t j = 0; j < c; j++) {
        double sd = sqrt(std[j] / (double)n);
        std[j] = sd > 1e-12 ? sd : 1.0;
    }
}

void dgn_zscore_rows(float *out, const double *x, size_t n, size_t c,
                     const double *mean, const double *std)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < c; j++) {
            double v = x[i * c + j];
            if (mean)
                v = (v - mean[j]) / std[j];
            out[i * c + j] = (float)v;
        }
}
