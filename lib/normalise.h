/* Private: the z-scores of a dataset's features, fitted on its training
 * rows. */
#ifndef DGN_LIB_NORMALISE_H
#define DGN_LIB_NORMALISE_H

#include <stddef.h>

/* Population mean and standard deviation of each column of x [n][c]
 * (n > 0), as the reference code computes them; a column that does not
 * vary (std <= 1e-12) gets std 1, so its z-score is 0. */
void dgn_zscore_fit(const double *x, size_t n, size_t c, double *mean, double *std);

/* out [n][c] = (x − mean) / std as floats; with mean NULL, x as floats. */
void dgn_zscore_rows(float *out, const double *x, size_t n, size_t c,
                     const double *mean, const double *std);

#endif
