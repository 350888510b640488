/* Private: the evaluation-mode network folded into fewer, larger products,
 * for screening.
 *
 * The graph convolution, attention and first projection multiply out as
 * in lib/folded.h, whose n x n stages and projection GEMM the scorer runs;
 * with fixed weights BatchNorm's running statistics also fold, into the
 * columns of T (the scorer's Wf, formed in double) and a bias. A
 * candidate then costs about 2n²h + 6n³ + 2hk FLOPs rather than
 * 2ndh + 6nd² + 6n²d + 2hk, about half at the default sizes. Without
 * interaction the network is Y1 = x·T with T_i = E_i·W1_i [n][h].
 *
 * Scores agree with dgn_model_forward in evaluation mode to rounding
 * (tests/test_scorer.c), not bit for bit.
 */
#ifndef DGN_LIB_SCORER_H
#define DGN_LIB_SCORER_H

#include <stddef.h>

#include "dgn/model.h"

/* The fold pays when n is small next to d (19 components and d = 32 by
 * default); otherwise the scorer runs the model itself. */
typedef enum { DGN_SCORER_AUTO, DGN_SCORER_FOLDED, DGN_SCORER_PLAIN } dgn_scorer_path;

typedef struct dgn_scorer {
    size_t n, h, k, max_batch;
    int interaction, folded;
    float *M, *Mt, *G; /* [n][n], Mt = Mᵀ, rows of both padded to a multiple
                        * of 4 with zeros; with interaction only */
    float *T;         /* [n·n][h], or [n][h] without interaction */
    float *bias;      /* [h]: BatchNorm folded */
    float *W2, *b2;   /* [h][k], [k] */
    float *centre;    /* [k] */
    dgn_model *model; /* unfolded: an evaluation-mode copy to clone */
} dgn_scorer;

/* Per-thread state for up to max_batch rows. */
typedef struct dgn_scorer_work {
    float *R, *S, *xt, *acc; /* folded: [n][n][lanes] twice, [n][lanes], [lanes] */
    float *Y1, *Y2;         /* folded: [max_batch][h], [max_batch][k] */
    dgn_model *model;       /* unfolded: this thread's copy */
    float *f;               /* unfolded: features [max_batch][k] */
} dgn_scorer_work;

/* scores [B] = ⟨centre, f_b⟩ for features f [B][k], summed in double: the
 * score of the forward pass, shared with dgn_model_scores. */
void dgn_centre_scores(float *scores, const float *centre, const float *f, size_t B,
                       size_t k);

/* Fold the weights of m (in evaluation mode) and the class centre [k];
 * AUTO folds when that needs fewer FLOPs. */
dgn_status dgn_scorer_init(dgn_scorer *s, const dgn_model *m, const float *centre,
                           size_t max_batch, dgn_scorer_path path);
void dgn_scorer_free(dgn_scorer *s);

dgn_status dgn_scorer_work_init(dgn_scorer_work *w, const dgn_scorer *s);
void dgn_scorer_work_free(dgn_scorer_work *w);

/* scores [B] = ⟨centre, f(x_b)⟩ for finite z-scored rows x [B][n],
 * 1 <= B <= max_batch. The scorer is only read, so threads may share it,
 * each with its own work. Does not allocate. */
dgn_status dgn_scorer_run(const dgn_scorer *s, dgn_scorer_work *w, float *scores,
                          const float *x, size_t B);

#endif
