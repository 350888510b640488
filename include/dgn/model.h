/* dgn_model: the DeepGlassNet encoder (paper, section II-E).
 *
 *   x [n_comp] (z-scored proportions)
 *   → h_i = x_i·e_i                          proportion-modulated embedding
 *   → z_i = h_i + 1/(n−1)·Σ_{j≠i} a_ij·h_j    graph convolution, A = V·Vᵀ,
 *                                             rows of V at unit length
 *   → U = softmax(Q·Kᵀ/√d)·V                  self-attention (Q = Z·Wq …)
 *   → flatten → Linear(hidden) → BatchNorm → ReLU → Dropout → Linear(out)
 *   → f/‖f‖                                   L2-normalised feature
 *
 * With interaction = 0 the graph convolution and the attention are left
 * out (the paper's "w/o Iter" ablation). The first Linear has no bias: the
 * BatchNorm after it would cancel one.
 *
 * Work buffers are sized by max_batch at create time: forward, backward
 * and zero_grad never allocate. All arithmetic is single precision, on
 * libdgn's own kernels, on the calling thread and, after
 * dgn_model_set_threads, the model's own: a seed gives the same bits on
 * any x86-64 CPU and at any thread count (docs/api.md, "Reproducibility").
 *
 * Ownership: the model copies its config and metadata. Pointers from
 * dgn_model_tensor and dgn_model_meta are borrowed and stay valid until
 * the model is destroyed (or, for metadata, the name is set again).
 *
 * Threads: one model is used by one thread at a time; distinct models are
 * independent.
 */
#ifndef DGN_MODEL_H
#define DGN_MODEL_H

#include "dgn/common.h"

DGN_BEGIN_DECLS

typedef struct dgn_model dgn_model;

#define DGN_MODEL_CONFIG_VERSION 1

/* Grows only at the end; fill with dgn_model_config_init(). */
typedef struct dgn_model_config {
    unsigned int version;
    size_t n_components; /* no default: set it (>= 2 with interaction) */
    size_t embed_dim;    /* d: 32 */
    size_t rank;         /* f, rank of the interaction factors V: 5 */
    size_t heads;        /* attention heads: 1 (the only value supported) */
    size_t hidden;       /* h, projection hidden size: 256 */
    size_t out_dim;      /* k, feature size: 64 */
    float dropout;       /* after the ReLU, training mode only: 0.1 */
    int interaction;     /* 1: graph convolution + attention; 0: ablation */
    size_t max_batch;    /* rows per forward call: 384 (3 x 128 triplets) */
    uint64_t seed;       /* initial weights and dropout masks: 2024 */
} dgn_model_config;

DGN_API dgn_status dgn_model_config_init(dgn_model_config *cfg, unsigned int version);
/* The error names the bad field. */
DGN_API dgn_status dgn_model_config_validate(const dgn_model_config *cfg);

DGN_API dgn_status dgn_model_create(dgn_model **out, const dgn_model_config *cfg);
DGN_API void dgn_model_destroy(dgn_model *model);

/* The config the model was created with (or loaded from a file). */
DGN_API dgn_status dgn_model_get_config(const dgn_model *model, dgn_model_config *cfg);

/* 1: training mode (batch statistics, dropout); 0: evaluation mode
 * (running statistics, no dropout; deterministic). A new model trains. */
DGN_API dgn_status dgn_model_set_training(dgn_model *model, int training);
DGN_API int dgn_model_training(const dgn_model *model);

/* Run the large matrix products of forward and backward on `threads`
 * threads, the caller's among them (1, the default: the caller's only);
 * the calls of dgn/scoring.h that run many rows in evaluation mode run
 * their batches side by side instead, on up to 8 threads, each past the
 * first on a copy of the model that this call makes (its parameters and
 * forward buffers, without the backward pass's). The results are the
 * same bits at any thread count (docs/api.md, "Reproducibility"). This
 * call starts or stops the threads, and allocates; forward, backward and
 * step then never do. Not saved with the model. dgn_model_threads
 * reports the count (0 for NULL). */
DGN_API dgn_status dgn_model_set_threads(dgn_model *model, size_t threads);
DGN_API size_t dgn_model_threads(const dgn_model *model);

/* f [n][out_dim] from x [n][n_components]; 1 <= n <= max_batch (n >= 2 in
 * training mode, for the batch statistics). f_cap counts floats. Training
 * mode runs the network with its weights multiplied out when that needs
 * fewer FLOPs, as at the defaults (docs/model.md, "Training: the same
 * fold"); it agrees with evaluation mode's layer-by-layer pass to
 * rounding, and a seed still gives the same weights on every run. */
DGN_API dgn_status dgn_model_forward(dgn_model *model, float *f, size_t f_cap,
                                     const float *x, size_t n);

/* Back-propagate df [n][out_dim] through the last forward call (same n,
 * same mode): parameter gradients are accumulated; dx [n][n_components]
 * receives the input gradient when not NULL. A failed forward or backward
 * call forgets the forward pass: backward then fails (DGN_E_INVALID),
 * saying which call failed and why, until a forward call succeeds. A
 * non-finite df is DGN_E_NONFINITE. */
DGN_API dgn_status dgn_model_backward(dgn_model *model, float *dx, size_t dx_cap,
                                      const float *df, size_t n);

DGN_API dgn_status dgn_model_zero_grad(dgn_model *model);

/* Trainable parameters: their total count, and a walk over the tensors
 * (name, values, gradients, element count) for an optimizer. */
DGN_API size_t dgn_model_n_params(const dgn_model *model);
DGN_API size_t dgn_model_n_tensors(const dgn_model *model);
DGN_API dgn_status dgn_model_tensor(dgn_model *model, size_t i, const char **name,
                                    float **value, float **grad, size_t *size);

/* Named metadata blobs, saved with the model. Setting a name again
 * replaces its value. dgn_model_meta returns DGN_E_DATA for an unknown
 * name. */
DGN_API dgn_status dgn_model_set_meta(dgn_model *model, const char *name,
                                      const void *data, size_t size);
DGN_API dgn_status dgn_model_meta(const dgn_model *model, const char *name,
                                  const void **data, size_t *size);

/* Model files: magic, format version, little-endian values, the config,
 * every parameter, the BatchNorm running statistics, the metadata and a
 * CRC-32. Saving follows the rules of dgn/files.h: a regular file or new
 * path only, written whole to a temporary file, synced, then put in place.
 * Loading rejects truncated, corrupted, foreign and future files, non-
 * regular files (without blocking on a FIFO), non-finite parameters and
 * impossible statistics or context, with a message naming the file and
 * the field (docs/model.md, "Model files"); saving refuses what loading
 * would. A loaded model is in evaluation mode. */
DGN_API dgn_status dgn_model_save(const dgn_model *model, const char *path);
DGN_API dgn_status dgn_model_load(dgn_model **out, const char *path);

DGN_END_DECLS

#endif
