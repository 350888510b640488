/* Private: what the screener and the model file reader share with the
 * ensemble (lib/ensemble.c). */
#ifndef DGN_LIB_ENSEMBLE_H
#define DGN_LIB_ENSEMBLE_H

#include <stddef.h>

#include "dgn/ensemble.h"

/* The first 8 bytes of an ensemble file (a model file starts "DGNMODEL"). */
#define DGN_ENSEMBLE_MAGIC "DGNENSEM"

/* mean [n] and, when not NULL, spread [n] (population standard deviation)
 * over k members' scores s [k][stride], summed in double in member order:
 * one formula for dgn_ensemble_scores and the screener. With k = 1 the
 * mean is the member's score, bit for bit, and the spread 0. */
void dgn_ensemble_combine(float *mean, float *spread, const float *s, size_t k,
                          size_t stride, size_t n);

#endif
