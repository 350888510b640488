/* Private: the screen evaluator, the screener's evaluation-mode network
 * folded into fewer, larger products. (Not lib/centre.c, the public
 * encode / centre / evaluate calls that run the model as it is.)
 *
 * The graph convolution, attention and first projection multiply out as
 * in lib/folded.h (dgn_fold_weights, the same fold training runs), whose
 * n x n stages and projection GEMM the evaluator runs; with fixed weights
 * BatchNorm's running statistics also fold, into the columns of Wf and a
 * bias. A candidate then costs about 2n²h + 6n³ + 2hk FLOPs rather than
 * 2ndh + 6nd² + 6n²d + 2hk, about half at the default sizes. Without
 * interaction the network is Y1 = x·Wf with Wf_i = E_i·W1_i [n][h].
 *
 * Scores agree with dgn_model_forward in evaluation mode to rounding
 * (tests/test_screen_eval.c), not bit for bit.
 */
#ifndef DGN_LIB_SCREEN_EVAL_H
#define DGN_LIB_SCREEN_EVAL_H

#include <stddef.h>

#include "dgn/model.h"

/* The fold pays when n is small next to d (19 components and d = 32 by
 * default); otherwise the evaluator runs the model itself. */
typedef enum {
    DGN_SCREEN_EVAL_AUTO,
    DGN_SCREEN_EVAL_FOLDED,
    DGN_SCREEN_EVAL_PLAIN
} dgn_screen_eval_path;

typedef struct dgn_screen_eval {
    size_t n, h, k, max_batch;
    int interaction, folded;
    float *M, *Mt, *G; /* [n][n], Mt = Mᵀ, rows of both padded to a multiple
                        * of 4 with zeros; with interaction only */
    float *Wf;        /* [n·n][h], or [n][h] without interaction; columns
                       * scaled by BatchNorm */
    float *bias;      /* [h]: BatchNorm folded */
    float *W2, *b2;   /* [h][k], [k] */
    float *centre;    /* [k] */
    dgn_model *model; /* unfolded: an evaluation-mode copy to clone */
    float *block;     /* the arrays above, one allocation */
} dgn_screen_eval;

/* Per-thread state for up to max_batch rows. */
typedef struct dgn_screen_eval_work {
    float *R, *S, *xt, *acc; /* folded: [n][n][lanes] twice, [n][lanes], [lanes] */
    float *Y1, *Y2;         /* folded: [max_batch][h], [max_batch][k] */
    dgn_model *model;       /* unfolded: this thread's copy */
    float *f;               /* unfolded: features [max_batch][k] */
    float *block;           /* the arrays above, one allocation */
} dgn_screen_eval_work;

/* Fold the weights of m (in evaluation mode) and the class centre [k];
 * AUTO folds when that needs fewer FLOPs. */
dgn_status dgn_screen_eval_init(dgn_screen_eval *s, const dgn_model *m, const float *centre,
                           size_t max_batch, dgn_screen_eval_path path);
void dgn_screen_eval_free(dgn_screen_eval *s);

dgn_status dgn_screen_eval_work_init(dgn_screen_eval_work *w, const dgn_screen_eval *s);
void dgn_screen_eval_work_free(dgn_screen_eval_work *w);

/* scores [B] = ⟨centre, f(x_b)⟩ for finite z-scored rows x [B][n],
 * 1 <= B <= max_batch. The evaluator is only read, so threads may share it,
 * each with its own work. Does not allocate. */
dgn_status dgn_screen_eval_run(const dgn_screen_eval *s, dgn_screen_eval_work *w, float *scores,
                          const float *x, size_t B);

#endif
