/* Private: the model's layout, for the model's own files only (model.c,
 * serialize.c); every other module uses the calls of model_internal.h. */
#ifndef DGN_LIB_MODEL_IMPL_H
#define DGN_LIB_MODEL_IMPL_H

#include <stdint.h>

#include "dgn/model.h"
#include "model_internal.h"
#include "pool.h"
#include "rng.h"

enum { DGN_MAX_TENSORS = 10 };

/* Batches dgn_model_forward_rows runs side by side at most. */
enum { DGN_EVAL_WAYS = 8 };

typedef struct dgn_tensor {
    const char *name;
    float *value, *grad;
    size_t size;
} dgn_tensor;

/* Work of the folded training pass; L = dgn_round_lanes(max_batch). */
typedef struct dgn_fold_buffers {
    float *M, *Mt;                 /* M and Mᵀ, dgn_mix_rows(n) rows, zero past n */
    float *G, *Eq, *Ek, *Ev;       /* [n][n], [n][d] x 3 */
    float *Wf, *dWf;               /* [n·n][h] */
    float *dG, *dEq, *dEk, *dEv;   /* [n][n], [n][d] x 3 */
    float *dEvl;                   /* dEv's share of each component, [n][n][d] */
    float *xt, *dxt, *acc;         /* [n][L], [n][L], [L] */
    float *Rcol;                   /* [2n][L]: columns of R and dR, rows of dP */
    float *dMl, *dGl;              /* per lane chunk (dgn_fold_chunks): dM's lane
                                      sums, dgn_lane_outer_size(n), and dG [n][n] */
    float *S, *P, *T, *dT;         /* planes [n·n][L] */
} dgn_fold_buffers;

typedef struct dgn_meta {
    char *name;
    unsigned char *data;
    size_t size;
} dgn_meta;

/* Metadata entries a model holds at most, in memory and in a file: far
 * above what libdgn writes (seven), low enough that a hostile count is
 * refused before anything is allocated for it. */
#define DGN_MODEL_MAX_META ((size_t)1 << 20)

struct dgn_model {
    dgn_model_config cfg;
    int training;
    dgn_rng rng;
    dgn_pool *pool; /* NULL: one thread (dgn_model_set_threads) */
    /* Evaluation-mode copies for dgn_model_forward_rows, one per thread
     * past the caller's, up to DGN_EVAL_WAYS in all; each has work buffers
     * for the forward pass only and takes the weights at every call. */
    struct dgn_model *eval_copy[DGN_EVAL_WAYS - 1];
    size_t n_eval_copies;
    int forward_only; /* an eval copy: no gradient or folded buffers */

    /* Trainable parameters and their gradients, each one block. */
    float *params, *grads;
    size_t n_params;
    dgn_tensor tensor[DGN_MAX_TENSORS];
    size_t n_tensors;
    /* V: the interaction factors (A = V·Vᵀ); the attention's values are
     * the work buffer Va. */
    float *E, *V, *Wq, *Wk, *Wv, *W1, *gamma, *beta, *W2, *b2;
    float *dE, *dV, *dWq, *dWk, *dWv, *dW1, *dgamma, *dbeta, *dW2, *db2;

    /* BatchNorm running statistics: saved, not trained. */
    float *run_mean, *run_var;

    /* Work buffers sized by max_batch, one block. */
    float *work;
    float *xin, *H, *Z, *Q, *K, *Va, *P, *U, *Y1, *xhat, *bmean, *binv, *bsums, *N, *A,
          *mask, *Y2, *F, *rnorm, *M, *Vn, *vnorm;
    float *dY2, *dA, *dN, *dY1, *dU, *dZ, *dH, *dQ, *dK, *dVa, *dS, *dM, *dVn;

    size_t last_n;      /* rows of the last forward, 0 before any or after a
                           failed call: backward then refuses */
    int last_training, last_folded;
    char last_failure[256]; /* why last_n is 0 after a failed call, or "" */

    /* Training mode runs the folded network (lib/folded.h) when fold is
     * set: with interaction, when dgn_fold_pays and the planes fit. */
    int fold;
    dgn_fold_buffers fb;

    dgn_meta *meta;
    size_t n_meta, meta_cap;
    /* Open-addressing index of meta by name: slot holds index + 1, 0 is
     * free; n_slots is a power of two, at least twice n_meta. */
    size_t *meta_slot;
    size_t n_slots;
};

/* Floats in the running-statistics block (mean then variance). */
static inline size_t dgn_model_n_buffers(const dgn_model *m)
{
    return 2 * m->cfg.hidden;
}

/* Trainable floats of a (valid) config. */
size_t dgn_model_param_floats(const dgn_model_config *cfg);

/* The metadata entry named `name`, or NULL; constant time. */
const dgn_meta *dgn_model_find_meta(const dgn_model *m, const char *name);

/* DGN_E_NONFINITE or DGN_E_FORMAT, naming `where` (a path, or a function)
 * and the field, when a parameter is NaN or infinite or a BatchNorm
 * running statistic is impossible (non-finite mean, negative or
 * non-finite variance). */
dgn_status dgn_model_check_values(const dgn_model *m, const char *where);

#endif
