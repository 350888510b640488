#include "normalise.h"

#include <math.h>

/* Column by column; each column's sums run over the rows in order, as
 * they always did, so the statistics are bit for bit the same. */
void dgn_zscore_fit(const double *x, size_t n, size_t c, double *mean, double *std)
{
    for (size_t j = 0; j < c; j++) {
        double sum = 0, squares = 0;
        for (size_t i = 0; i < n; i++)
            sum += x[i * c + j];
        mean[j] = sum / (double)n;
        for (size_t i = 0; i < n; i++) {
            double d = x[i * c + j] - mean[j];
            squares += d * d;
        }
        double sd = sqrt(squares / (double)n);
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
