/* dgn_ensemble: K networks trained apart (different seeds) that score a
 * composition together, by the mean of their scores; the spread of their
 * scores (population standard deviation over the members) says how much
 * they disagree, an uncertainty of the rank.
 *
 * Members share one context (dgn/scoring.h): the same component names in
 * the same order, units, property name and range, and z-score statistics,
 * so that one z-scored row means the same to each. dgn_ensemble_add checks
 * this and names what differs. Each member keeps its own stored centre and
 * may have its own config (sizes, interaction).
 *
 * Ensemble files: with K = 1, dgn_ensemble_save writes a plain model file,
 * byte for byte what dgn_model_save writes, and dgn_ensemble_load reads any
 * model file as K = 1. With K >= 2 the file is "DGNENSEM", a format
 * version, its length, K, then each member's whole model file image (its
 * own magic, version and CRC-32), and a CRC-32 over everything; loading
 * checks all of it, each member as dgn_model_load would, and names the
 * member in its message (docs/model.md, "Ensemble files"). dgn_model_load
 * refuses an ensemble file, saying to use dgn_ensemble_load.
 *
 * Ownership: dgn_ensemble_add copies the member (parameters, statistics
 * and metadata; not its threads), so the caller's model may be destroyed
 * after the call. dgn_ensemble_member returns a borrowed pointer, valid
 * until the ensemble is destroyed. dgn_ensemble_destroy(NULL) does nothing.
 *
 * Threads: scoring runs the members, so one ensemble is used by one thread
 * at a time; distinct ensembles are independent.
 */
#ifndef DGN_ENSEMBLE_H
#define DGN_ENSEMBLE_H

#include "dgn/common.h"
#include "dgn/model.h"

DGN_BEGIN_DECLS

typedef struct dgn_ensemble dgn_ensemble;

/* Most members an ensemble holds. */
#define DGN_ENSEMBLE_MAX_MEMBERS 1024

/* An empty ensemble (K = 0: add members before scoring or saving). */
DGN_API dgn_status dgn_ensemble_create(dgn_ensemble **out);
DGN_API void dgn_ensemble_destroy(dgn_ensemble *ensemble);

/* Append a copy of member, which must carry its context (a trained or
 * loaded model does) and, past the first, share the first member's. */
DGN_API dgn_status dgn_ensemble_add(dgn_ensemble *ensemble, const dgn_model *member);

/* K (0 for NULL), and member i, in evaluation mode (NULL past the last). */
DGN_API size_t dgn_ensemble_size(const dgn_ensemble *ensemble);
DGN_API dgn_model *dgn_ensemble_member(const dgn_ensemble *ensemble, size_t i);

/* mean [n] = the members' mean score and, when spread is not NULL, spread
 * [n] = their population standard deviation (0 for K = 1), for z-scored
 * rows x [n][n_components], as dgn_model_scores takes them; each member
 * scores by its own stored centre. With K = 1, mean is dgn_model_scores'
 * result bit for bit. Allocates K x n floats of scores for the call. */
DGN_API dgn_status dgn_ensemble_scores(float *mean, size_t mean_cap, float *spread,
                                       size_t spread_cap, dgn_ensemble *ensemble,
                                       const float *x, size_t n);

/* Files: see above; saving follows the rules of dgn/files.h. A loaded
 * ensemble's members are in evaluation mode. */
DGN_API dgn_status dgn_ensemble_save(const dgn_ensemble *ensemble, const char *path);
DGN_API dgn_status dgn_ensemble_load(dgn_ensemble **out, const char *path);

DGN_END_DECLS

#endif
