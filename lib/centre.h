/* Private: helpers of lib/centre.c shared with the screen evaluator and
 * the model's context. */
#ifndef DGN_LIB_CENTRE_H
#define DGN_LIB_CENTRE_H

#include <stddef.h>

#include "dgn/dataset.h"
#include "dgn/model.h"

/* scores [B] = ⟨centre, f_b⟩ for features f [B][k], summed in double: the
 * score of the forward pass (dgn_model_scores and the screen evaluator's
 * unfolded path). */
void dgn_centre_scores(float *scores, const float *centre, const float *f, size_t B,
                       size_t k);

/* DGN_E_INVALID for a NULL model or dataset, DGN_E_SHAPE when their
 * component counts differ; fn names the caller. */
dgn_status dgn_check_model_data(const dgn_model *m, const dgn_dataset *ds, const char *fn);

#endif
