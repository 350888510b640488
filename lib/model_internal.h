/* Private: what other modules of lib/ and the tests reach of a model
 * beyond the public API, always through these calls. The struct itself
 * (model_impl.h) belongs to the model's own files, model.c and
 * serialize.c; lib/model_context.c, the context the model stores in its
 * metadata, uses these calls too.
 *
 * Ownership: pointers returned here are borrowed from the model and stay
 * valid until it is destroyed (metadata: until its name is set again).
 */
#ifndef DGN_LIB_MODEL_INTERNAL_H
#define DGN_LIB_MODEL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "dgn/model.h"

/* BatchNorm's epsilon, shared by the model and the screen evaluator. */
#define DGN_BN_EPS 1e-5f

/* Largest model file read or written: the biggest valid config has 2^28
 * parameters (1 GiB); metadata gets as much again. */
#define DGN_MODEL_MAX_FILE ((uint64_t)1 << 31)

/* The model's config, read in place (dgn_model_get_config copies it). */
const dgn_model_config *dgn_model_cfg(const dgn_model *m);

/* The weights and BatchNorm running statistics, read-only, for the fold
 * of the screen evaluator and for the tests' reference pass. V is the
 * interaction factors [n][rank] (NULL, as are Wq, Wk, Wv, without
 * interaction). */
typedef struct dgn_model_weights {
    const float *E, *V, *Wq, *Wk, *Wv, *W1, *gamma, *beta, *W2, *b2;
    const float *run_mean, *run_var;
} dgn_model_weights;
void dgn_model_weights_of(const dgn_model *m, dgn_model_weights *w);

/* All trainable parameters and their gradients, each one block of
 * dgn_model_n_params floats in dgn_model_tensor order, for an optimizer. */
float *dgn_model_params(dgn_model *m);
float *dgn_model_grads(dgn_model *m);

/* The model's worker threads (NULL: one thread), for the trainer's
 * optimizer step; valid until the next dgn_model_set_threads. */
struct dgn_pool *dgn_model_pool(dgn_model *m);

/* The model's state: parameters, then the BatchNorm running mean and
 * variance. Snapshot and restore copy exactly what a model file holds
 * besides the config and metadata (the trainer's keep-best). */
size_t dgn_model_state_floats(const dgn_model *m);
void dgn_model_snapshot(const dgn_model *m, float *state);
void dgn_model_restore(dgn_model *m, const float *state);

/* A new model with src's config and state, in evaluation mode, without
 * its metadata or threads. */
dgn_status dgn_model_clone(dgn_model **out, const dgn_model *src);

/* Features f [n][out_dim] of any number of rows x [n][n_components], in
 * batches of max_batch. In evaluation mode, on a model with threads, the
 * batches run side by side, each on an evaluation copy of the model made
 * by dgn_model_set_threads (up to DGN_EVAL_WAYS at once), with the bits
 * of the serial loop; backward then has no forward pass to use. Arguments
 * are the caller's to check (f holds n·out_dim floats); messages name the
 * caller fn and a bad row by its index plus row0 (the chunk's first row in
 * the caller's). Allocates nothing. */
dgn_status dgn_model_forward_rows(dgn_model *m, float *f, const float *x, size_t n,
                                  size_t row0, const char *fn);
/* Rows one dgn_model_forward_rows call can use all its ways on: a chunk
 * of this many rows bounds a caller's feature buffer. */
size_t dgn_model_rows_chunk(const dgn_model *m);

/* Metadata entry `name`: 1 and its bytes, or 0 when absent (no error is
 * recorded). dgn_model_meta is this plus the error. */
int dgn_model_meta_lookup(const dgn_model *m, const char *name, const unsigned char **data,
                          size_t *size);
/* Name of the i-th entry in the order they were first set (and saved),
 * NULL past the last. */
const char *dgn_model_meta_name(const dgn_model *m, size_t i);

/* Whether the folded network needs fewer FLOPs than the layers, per row:
 * when n is small next to d (19 components and d = 32 by default). */
int dgn_fold_pays(const dgn_model_config *cfg);

/* Floats of one plane of a folded pass [rows][lanes], or of its folded
 * projection [rows][h], above which neither training nor the screen
 * evaluator folds: the fold is not worth that much memory. rows is n·n
 * (n without interaction). */
#define DGN_FOLD_MAX_FLOATS ((size_t)1 << 24)
int dgn_fold_fits(size_t rows, size_t max_batch, size_t h);

/* Whether training mode runs the folded network. Test hook: off runs the
 * layers in training mode too; on fails (DGN_E_INVALID) for a model that
 * did not size the folded buffers at create time. */
int dgn_model_folds(const dgn_model *m);
dgn_status dgn_model_set_fold(dgn_model *m, int on);

/* DGN_E_FORMAT or DGN_E_NONFINITE, naming `where` (a path, or a
 * function) and the entry, when a dgn.* context entry present in the
 * metadata has the wrong size or an impossible value (std <= 0, lo > hi,
 * not one name per component ...); lib/model_context.c. */
dgn_status dgn_model_check_context(const dgn_model *m, const char *where);

/* CRC-32 (IEEE 802.3) of the model file image. */
uint32_t dgn_crc32(const unsigned char *p, size_t n);

/* A model file's bytes in memory (lib/serialize.c), for files that hold
 * several models. dgn_model_image runs dgn_model_save's checks (messages
 * name `where`, and `path` for the size limit) and returns a malloc'd
 * image the caller frees; dgn_model_parse_image runs every check of
 * dgn_model_load, its messages naming `path`. */
dgn_status dgn_model_image(const dgn_model *m, const char *where, const char *path,
                           unsigned char **buf, size_t *len);
dgn_status dgn_model_parse_image(dgn_model **out, const char *path, const unsigned char *buf,
                                 size_t len);

#endif
