/* Private: the model's layout, shared by model.c and serialize.c. */
#ifndef DGN_LIB_MODEL_IMPL_H
#define DGN_LIB_MODEL_IMPL_H

#include "dgn/model.h"
#include "rng.h"

enum { DGN_MAX_TENSORS = 10 };

/* BatchNorm's epsilon, shared by the model and the folded scorer. */
#define BN_EPS 1e-5f

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
    float *xt, *dxt, *acc;         /* [n][L], [n][L], [L] */
    float *dMl;                    /* dM's lane sums, dgn_lane_outer_size(n) */
    float *R, *S, *P, *T, *dT, *tmp; /* planes [n·n][L] */
} dgn_fold_buffers;

typedef struct dgn_meta {
    char *name;
    unsigned char *data;
    size_t size;
} dgn_meta;

struct dgn_model {
    dgn_model_config cfg;
    int training;
    dgn_rng rng;

    /* Trainable parameters and their gradients, each one block. */
    float *params, *grads;
    size_t n_params;
    dgn_tensor tensor[DGN_MAX_TENSORS];
    size_t n_tensors;
    float *E, *V, *Wq, *Wk, *Wv, *W1, *gamma, *beta, *W2, *b2;
    float *dE, *dV, *dWq, *dWk, *dWv, *dW1, *dgamma, *dbeta, *dW2, *db2;

    /* BatchNorm running statistics: saved, not trained. */
    float *run_mean, *run_var;

    /* Work buffers sized by max_batch, one block. */
    float *work;
    float *xin, *H, *Z, *Q, *K, *Vv, *P, *U, *Y1, *xhat, *bmean, *binv, *bsums, *N, *A,
          *mask, *Y2, *F, *rnorm, *M, *Vn, *vnorm;
    float *dY2, *dA, *dN, *dY1, *dU, *dZ, *dH, *dQ, *dK, *dVv, *dS, *dM, *dVn;

    size_t last_n;      /* rows of the last forward, 0 before any or after a
                           failed call: backward then refuses */
    int last_training, last_folded;
    char last_failure[256]; /* why last_n is 0 after a failed call, or "" */

    /* Training mode runs the folded network (lib/folded.h) when fold is
     * set: with interaction, when dgn_fold_pays and the planes fit. */
    int fold;
    dgn_fold_buffers fb;

    dgn_meta *meta;
    size_t n_meta;
};

/* Floats in the running-statistics block (mean then variance). */
static inline size_t dgn_model_n_buffers(const dgn_model *m)
{
    return 2 * m->cfg.hidden;
}

/* Whether the folded network needs fewer FLOPs than the layers, per row:
 * when n is small next to d (19 components and d = 32 by default). */
int dgn_fold_pays(const dgn_model_config *cfg);

/* Trainable floats of a (valid) config. */
size_t dgn_model_param_floats(const dgn_model_config *cfg);

/* CRC-32 (IEEE 802.3) of the model file image. */
uint32_t dgn_crc32(const unsigned char *p, size_t n);

#endif
