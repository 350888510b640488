/* Private: the model's layout, shared by model.c and serialize.c. */
#ifndef DGN_LIB_MODEL_IMPL_H
#define DGN_LIB_MODEL_IMPL_H

#include <stdint.h>

#include "dgn/model.h"
#include "pool.h"
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

/* Metadata entries a model holds at most, in memory and in a file: far
 * above what libdgn writes (seven), low enough that a hostile count is
 * refused before anything is allocated for it. */
#define DGN_MODEL_MAX_META ((size_t)1 << 20)

/* Largest model file read or written: the biggest valid config has 2^28
 * parameters (1 GiB); metadata gets as much again. */
#define DGN_MODEL_MAX_FILE ((uint64_t)1 << 31)

struct dgn_model {
    dgn_model_config cfg;
    int training;
    dgn_rng rng;
    dgn_pool *pool; /* NULL: one thread (dgn_model_set_threads) */

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

/* Whether the folded network needs fewer FLOPs than the layers, per row:
 * when n is small next to d (19 components and d = 32 by default). */
int dgn_fold_pays(const dgn_model_config *cfg);

/* Trainable floats of a (valid) config. */
size_t dgn_model_param_floats(const dgn_model_config *cfg);

/* src for a one-line message: control bytes and DEL as \xNN, cut to fit
 * cap (names read from a file may hold anything). */
static inline const char *dgn_printable(char *dst, size_t cap, const char *src)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)src; *p && o + 5 <= cap; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            dst[o++] = '\\';
            dst[o++] = 'x';
            dst[o++] = hex[*p >> 4];
            dst[o++] = hex[*p & 15];
        } else {
            dst[o++] = (char)*p;
        }
    }
    dst[o] = '\0';
    return dst;
}

/* The metadata entry named `name`, or NULL; constant time. */
const dgn_meta *dgn_model_find_meta(const dgn_model *m, const char *name);

/* DGN_E_NONFINITE or DGN_E_FORMAT, naming `where` (a path, or a function)
 * and the field, when a parameter is NaN or infinite or a BatchNorm
 * running statistic is impossible (non-finite mean, negative or
 * non-finite variance). */
dgn_status dgn_model_check_values(const dgn_model *m, const char *where);

/* The same for the context libdgn stores in metadata (lib/scoring.c):
 * every dgn.* entry present must have its size and finite, possible
 * values (std > 0, lo <= hi, one name per component ...). */
dgn_status dgn_model_check_context(const dgn_model *m, const char *where);

/* CRC-32 (IEEE 802.3) of the model file image. */
uint32_t dgn_crc32(const unsigned char *p, size_t n);

#endif
