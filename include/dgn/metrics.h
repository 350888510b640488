/* Ranking metrics for scores against 0/1 labels.
 *
 * Higher scores rank first; equal scores are ordered by row index, so
 * every ranking is deterministic. Scores must be finite (DGN_E_NONFINITE).
 * These functions allocate scratch memory proportional to n; they keep
 * no state and are safe to call from any thread.
 */
#ifndef DGN_METRICS_H
#define DGN_METRICS_H

#include "dgn/common.h"

DGN_BEGIN_DECLS

/* Area under the ROC curve: the probability that a positive outscores a
 * negative, ties counting 1/2 (eq. 13 of the paper with ties). O(n log n).
 * Both classes must be present (DGN_E_DATA otherwise). */
DGN_API dgn_status dgn_auc(double *auc, const float *scores, const int32_t *labels,
                           size_t n);

/* Fraction of positives among the k best-scored rows (eq. 14); k larger
 * than n counts all n. k must be at least 1. */
DGN_API dgn_status dgn_precision_at_k(double *precision, const float *scores,
                                      const int32_t *labels, size_t n, size_t k);

/* ROC curve: one point per distinct score threshold, from (0, 0) to
 * (1, 1). fpr and tpr need room for n + 1 points; *n_points tells how many
 * were written. */
DGN_API dgn_status dgn_roc_curve(float *fpr, float *tpr, size_t cap, size_t *n_points,
                                 const float *scores, const int32_t *labels, size_t n);

DGN_END_DECLS

#endif
