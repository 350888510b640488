/* dgn_screener: rank candidate compositions by a trained model's score.
 *
 * Candidates come from a lattice spec (see docs/screening.md), enumerated
 * as a stream and never materialised, or from a CSV whose columns are
 * matched to the model's components by name. Each candidate has a fixed
 * index (its lattice rank, or its CSV data row from 0, counting rows
 * rejected for their sum). The top-k by score are
 * kept; equal scores rank by lower index, so the result is deterministic.
 *
 * Sharding: shard i of N covers a fixed, disjoint range of indices; N
 * shards together cover every candidate once, and merging their results
 * (by score, then index) gives exactly the single-process top-k. Scoring
 * uses `threads` worker threads; candidates are scored in fixed blocks, so
 * the results do not depend on the thread count, the sharding or the CPU.
 *
 * Scores: the screener scores with the model's weights multiplied out
 * once (docs/model.md, "Screening: the folded network"), which agrees
 * with dgn_model_scores to rounding (tests/test_screen_eval.c: within 1e-6),
 * not bit for bit.
 *
 * Ensembles: dgn_screener_create_ensemble screens with K networks at
 * once. Each member scores every candidate with its own folded network and
 * centre; candidates rank by the members' mean score, and each kept
 * result also carries the spread of the members' scores (their population
 * standard deviation, dgn/ensemble.h). With one model, or an ensemble of
 * one, the scores, the ranking and the CSV are exactly dgn_screener_create's.
 *
 * Ownership: the screener copies what it needs from the model (or every
 * member of the ensemble), which may be destroyed after create; its
 * threads share that copy.
 *
 * Threads: one screener is driven by one thread; run starts and joins its
 * own workers, and calls the progress callback from the calling thread.
 */
#ifndef DGN_SCREENER_H
#define DGN_SCREENER_H

#include "dgn/common.h"
#include "dgn/ensemble.h"
#include "dgn/model.h"

DGN_BEGIN_DECLS

typedef struct dgn_screener dgn_screener;

/* Candidates scored so far of this shard; non-zero stops the run. */
typedef int (*dgn_screen_progress_fn)(uint64_t done, uint64_t total, void *user);

#define DGN_SCREENER_CONFIG_VERSION 1

/* Grows only at the end; fill with dgn_screener_config_init(). */
typedef struct dgn_screener_config {
    unsigned int version;
    size_t top_k;            /* results kept: 100 */
    size_t threads;          /* worker threads: 1 */
    uint64_t shard_index;    /* this shard, 0 .. shard_count − 1: 0 */
    uint64_t shard_count;    /* 1 */
    dgn_screen_progress_fn progress; /* NULL: silent */
    void *progress_user;
} dgn_screener_config;

DGN_API dgn_status dgn_screener_config_init(dgn_screener_config *cfg, unsigned int version);
DGN_API dgn_status dgn_screener_config_validate(const dgn_screener_config *cfg);

/* The model must carry its context (component names, z-score statistics,
 * class centre), as a trained or loaded model does. */
DGN_API dgn_status dgn_screener_create(dgn_screener **out, const dgn_model *model,
                                       const dgn_screener_config *cfg);
/* The same with every member of an ensemble of K >= 1 (see above). */
DGN_API dgn_status dgn_screener_create_ensemble(dgn_screener **out,
                                                const dgn_ensemble *ensemble,
                                                const dgn_screener_config *cfg);
DGN_API void dgn_screener_destroy(dgn_screener *screener);

/* The networks the screener scores with: 1, or the ensemble's K (0 for
 * NULL). */
DGN_API size_t dgn_screener_n_members(const dgn_screener *screener);

/* Choose the candidates: a lattice spec such as
 * "step=5, SiO2=40:80, Al2O3=0:20, Na2O" (percent), or a CSV file. */
DGN_API dgn_status dgn_screener_set_grid(dgn_screener *screener, const char *spec);
DGN_API dgn_status dgn_screener_set_candidates(dgn_screener *screener, const char *path);

/* Candidate rows of the last dgn_screener_set_candidates left out because
 * their proportions do not sum to 0.95-1.05 of the whole (95-105 %, ± 1e-9
 * for rounding), the window training rows must meet; 0 for a grid. Their
 * data rows keep their numbers: result indices still count them. */
DGN_API uint64_t dgn_screener_n_rejected(const dgn_screener *screener);

/* Candidates in all, and in this shard; known before the run. */
DGN_API dgn_status dgn_screener_count(const dgn_screener *screener, uint64_t *total,
                                      uint64_t *in_shard);

DGN_API dgn_status dgn_screener_run(dgn_screener *screener);

/* Results of the last run, best first. percent [n_components] receives the
 * composition in percent (may be NULL). */
DGN_API size_t dgn_screener_n_results(const dgn_screener *screener);
DGN_API dgn_status dgn_screener_result(const dgn_screener *screener, size_t rank,
                                       uint64_t *index, float *score,
                                       double *percent, size_t cap);
/* The spread of the members' scores for result `rank` (0 with one
 * network). */
DGN_API dgn_status dgn_screener_result_spread(const dgn_screener *screener, size_t rank,
                                              float *spread);

/* Write the results as CSV (rank, index, score, then each component in
 * percent; with an ensemble of K >= 2, a spread column after score),
 * atomically under the rules of dgn/files.h: the file at path is
 * replaced whole or not at all. */
DGN_API dgn_status dgn_screener_write_csv(const dgn_screener *screener, const char *path);

DGN_END_DECLS

#endif
