/* Scoring compositions with a model, and the context a model carries.
 *
 * The paper scores a composition by the inner product of its feature with
 * the class centre, the mean feature of the training targets computed in
 * evaluation mode without augmentation (eq. 12); libdgn's trainer scores by
 * the contrast centre by default (that minus the other rows' mean feature,
 * dgn/trainer.h: dgn_score), and the model stores whichever it used, so
 * every caller below scores the same way. A model that will be used
 * later also needs its component names and order, the z-score statistics
 * and the property range: dgn_model_attach_context stores all of these as
 * model metadata (dgn_trainer_fit does it for you), so that a saved model
 * file is self-contained.
 *
 * Four calls give a centre [out_dim]:
 *   dgn_class_centre        computes it: runs the model over a dataset's
 *                           training targets;
 *   dgn_model_class_centre  reads the one stored in the model's context
 *                           (what a saved model is scored with);
 *   dgn_contrast_centre     computes the contrast centre: the targets'
 *                           centre minus the other training rows';
 *   dgn_trainer_centre      (dgn/trainer.h) the trainer's (by its score), of
 *                           its best or last epoch, before it is stored.
 *
 * dgn_model_encode allocates nothing. dgn_class_centre, dgn_contrast_centre
 * and dgn_evaluate_split copy the split's rows (z-scored)
 * and labels into scratch memory for the call; dgn_model_scores allocates
 * features for one batch per thread. They run the model, so one model is
 * used by one thread at a time; on a model with threads
 * (dgn_model_set_threads) their batches in evaluation mode run side by
 * side, with the bits of one thread.
 */
#ifndef DGN_SCORING_H
#define DGN_SCORING_H

#include "dgn/common.h"
#include "dgn/dataset.h"
#include "dgn/model.h"

DGN_BEGIN_DECLS

/* Features f [n][out_dim] of any number of rows x [n][n_components]
 * (z-scored), in chunks of max_batch, in the model's current mode. Those
 * chunks run side by side in evaluation mode on a model with threads, and
 * dgn_model_backward then has no forward pass to go back through. */
DGN_API dgn_status dgn_model_encode(dgn_model *model, float *f, size_t f_cap,
                                    const float *x, size_t n);

/* Computes the class centre: the mean feature [out_dim] of the dataset's
 * training targets, in evaluation mode (the model is left in evaluation
 * mode). */
DGN_API dgn_status dgn_class_centre(float *centre, size_t cap, dgn_model *model,
                                    const dgn_dataset *data);

/* The training targets' mean feature minus the other training rows' [out_dim],
 * in evaluation mode: scoring by it ranks rows by how much nearer they are
 * to the targets than to the rest (the trainer's DGN_SCORE_CONTRAST). It is
 * used wherever a centre is: dgn_model_scores, the screener, the model's
 * stored context. */
DGN_API dgn_status dgn_contrast_centre(float *w, size_t cap, dgn_model *model,
                                       const dgn_dataset *data);

/* scores [n] = ⟨centre, f(x_i)⟩ for z-scored rows x, in evaluation mode. */
DGN_API dgn_status dgn_model_scores(float *scores, size_t cap, dgn_model *model,
                                    const float *centre, const float *x, size_t n);

/* AUC and Precision@k of the centre score on a split of the dataset. */
DGN_API dgn_status dgn_evaluate_split(double *auc, double *precision_at_k, size_t k,
                                      dgn_model *model, const float *centre,
                                      const dgn_dataset *data, dgn_split split);

/* Store the dataset's component names, units, z-score statistics,
 * property name and range, the centre [out_dim] rows are scored with and a
 * free-form settings text (may be NULL) as the model's metadata. */
DGN_API dgn_status dgn_model_attach_context(dgn_model *model, const dgn_dataset *data,
                                            const float *centre, const char *settings);

/* Read the context back. Strings belong to the model and live until it is
 * destroyed or its context is attached again; NULL when absent.
 * dgn_model_class_centre reads the stored centre (it computes nothing). */
DGN_API const char *dgn_model_component_name(const dgn_model *model, size_t i);
DGN_API const char *dgn_model_property_name(const dgn_model *model);
DGN_API const char *dgn_model_settings(const dgn_model *model);
DGN_API dgn_status dgn_model_target_range(const dgn_model *model, double *lo, double *hi);
DGN_API dgn_status dgn_model_zscore_stats(const dgn_model *model, double *mean,
                                          double *std, size_t cap);
DGN_API dgn_status dgn_model_class_centre(const dgn_model *model, float *centre,
                                          size_t cap);
DGN_API dgn_units dgn_model_units(const dgn_model *model);

DGN_END_DECLS

#endif
