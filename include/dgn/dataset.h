/* dgn_dataset: a labelled composition table, cleaned, split, normalised and
 * served as augmented training triplets.
 *
 * Pipeline, in order:
 *   1. load: a CSV file (header row, comma separated) or caller arrays;
 *   2. units: proportions given as fractions or percents, detected from the
 *      row sums unless forced, stored as fractions;
 *   3. cleaning: rows whose proportions sum outside [sum_min, sum_max] are
 *      dropped and counted;
 *   4. labels: 1 when lo <= property <= hi, else 0;
 *   5. split: training, validation and (optionally) test rows, chosen
 *      by fraction with one seeded shuffle, optionally keeping identical
 *      compositions in one part, or read from separate files. The test
 *      split is for reporting only: nothing in the library (statistics,
 *      triplets, the trainer's epoch selection) looks at it;
 *   6. z-scores from the training rows only;
 *   7. triplets: anchor, same-class positive, other-class negative, each
 *      augmented as x_i * (1 + eps), eps ~ N(0, sigma), then z-scored.
 *
 * Ownership: the dataset copies everything it is given; the config and
 * arrays may be freed once the create call returns. Strings returned by
 * accessors belong to the dataset and live until dgn_dataset_destroy().
 *
 * Threads: accessors that take a const handle may run concurrently.
 * dgn_dataset_shuffle() and dgn_dataset_next_triplets() advance the
 * handle's random generator and must not run concurrently with anything
 * else on the same handle.
 */
#ifndef DGN_DATASET_H
#define DGN_DATASET_H

#include "dgn/common.h"

DGN_BEGIN_DECLS

typedef struct dgn_dataset dgn_dataset;

typedef enum dgn_units {
    DGN_UNITS_AUTO = 0,     /* detect: row sums near 1 or near 100 */
    DGN_UNITS_FRACTION = 1, /* proportions sum to 1 */
    DGN_UNITS_PERCENT = 2   /* proportions sum to 100 */
} dgn_units;

/* Rows are laid out training, then validation, then test. Append-only. */
typedef enum dgn_split {
    DGN_SPLIT_ALL = 0,   /* every row of every split */
    DGN_SPLIT_TRAIN = 1,
    DGN_SPLIT_VALID = 2, /* validation rows only: early stopping, choices */
    DGN_SPLIT_TEST = 3   /* test rows only: reported, never chosen on */
} dgn_split;

typedef enum dgn_view {
    DGN_VIEW_FRACTION = 0, /* proportions as fractions of 1 */
    DGN_VIEW_ZSCORE = 1    /* (x - mean) / std with training statistics */
} dgn_view;

#define DGN_DATASET_CONFIG_VERSION 2

#define DGN_BALANCE_AUTO (-1)

/* Grows only at the end; fill with dgn_dataset_config_init(). Version 1
 * ends after balance_anchors; version 2 adds test_fraction and test_path,
 * which the library reads only when version >= 2. */
typedef struct dgn_dataset_config {
    unsigned int version;

    /* CSV columns. property: the property column's name (NULL: the last
     * column). components: the component columns (NULL: every column but
     * the property and a leading unnamed index column). A name matches a
     * column written exactly so, or else by last space-separated words:
     * "SiO2" selects "W% SiO2". Without a list the components are put
     * in a fixed order (by last word, then name), so that the file's
     * column order changes nothing; a list keeps its order. */
    const char *property;
    const char *const *components;
    size_t n_components;

    /* Target range, inclusive. No default: both must be set. */
    double lo, hi;

    dgn_units units;          /* DGN_UNITS_AUTO */
    double sum_min, sum_max;  /* as fractions; 0.95 and 1.05 */

    /* 0: a missing, non-numeric, non-finite or negative cell, or a row with
     * the wrong number of fields, fails the load. 1: such rows are skipped
     * and counted (dgn_dataset_n_skipped). */
    int skip_bad_rows;

    double valid_fraction;   /* 0.2; in [0, 1) */
    int group_split;         /* 1: identical compositions share a part
                                (train, validation, test); 0 */
    const char *valid_path;  /* CSV used as the validation split instead of
                                valid_fraction; NULL */

    double sigma;            /* augmentation noise; 0 turns it off; 0.05 */
    uint64_t seed;           /* all randomness derives from it; 2024 */

    /* 1: an epoch's anchors alternate between the classes, drawn at random
     * within each, so a rare class pulls together as strongly as the rest;
     * 0: every training row anchors once per epoch (the paper);
     * DGN_BALANCE_AUTO: 1 when the smaller class is under 20 % of the
     * training rows (see docs/training.md). DGN_BALANCE_AUTO */
    int balance_anchors;

    /* Version 2. */

    /* Fraction of the main table's cleaned rows held out as the test
     * split, drawn by the same shuffle as the validation rows (which come
     * first). 0: no test split, and the split and triplets are bit for bit
     * those of version 1. In [0, 1), with valid_fraction + test_fraction
     * < 1 when valid_fraction is used (no valid_path). 0 */
    double test_fraction;
    /* CSV used as the test split, columns matched by name as for
     * valid_path; exclusive with test_fraction. NULL */
    const char *test_path;
} dgn_dataset_config;

/* Fill *cfg with the defaults above for the given struct version
 * (pass DGN_DATASET_CONFIG_VERSION). Versions 1 and 2 are accepted; only
 * the fields of that version are written, so a version-1 struct (which is
 * smaller) is safe to pass. */
DGN_API dgn_status dgn_dataset_config_init(dgn_dataset_config *cfg,
                                           unsigned int version);

/* Check a config without loading anything; the error names the bad field. */
DGN_API dgn_status dgn_dataset_config_validate(const dgn_dataset_config *cfg);

/* Load, clean, label and split a CSV file. DGN_E_DATA when the training
 * split or a requested test split (test_fraction > 0 or test_path) has
 * no rows, or when it or a non-empty validation split has only one
 * class; the message names the split. */
DGN_API dgn_status dgn_dataset_load_csv(dgn_dataset **out, const char *path,
                                        const dgn_dataset_config *cfg);

/* The same from caller arrays, copied. x is [n_rows][n_comp] in the units
 * of cfg->units (AUTO detects), property is [n_rows]. names holds n_comp
 * component names, or is NULL for "c1", "c2", ...; property_name may be
 * NULL for "property". cfg->property, cfg->components, cfg->valid_path
 * and cfg->test_path select CSV columns and files and must be NULL here;
 * test_fraction works as for a file. Values are cleaned by the rules of a
 * file, but a negative component is DGN_E_INVALID here (a bad argument)
 * where a file gives DGN_E_FORMAT (a malformed file); see docs/dataset.md. */
DGN_API dgn_status dgn_dataset_from_arrays(dgn_dataset **out,
                                           const double *x, const double *property,
                                           size_t n_rows, size_t n_comp,
                                           const char *const *names,
                                           const char *property_name,
                                           const dgn_dataset_config *cfg);

DGN_API void dgn_dataset_destroy(dgn_dataset *ds);

/* Shape and bookkeeping. */
DGN_API size_t dgn_dataset_n_components(const dgn_dataset *ds);
DGN_API size_t dgn_dataset_n_rows(const dgn_dataset *ds, dgn_split split);
DGN_API size_t dgn_dataset_n_positive(const dgn_dataset *ds, dgn_split split);
/* Rows dropped because their proportions summed outside the window, over
 * every file read (main, validation, test). */
DGN_API size_t dgn_dataset_n_dropped(const dgn_dataset *ds);
/* Malformed rows skipped under skip_bad_rows, over every file read. */
DGN_API size_t dgn_dataset_n_skipped(const dgn_dataset *ds);
/* 1 when anchors are class-balanced (balance_anchors, AUTO resolved). */
DGN_API int dgn_dataset_balanced(const dgn_dataset *ds);
/* Units of the input (of the main file when a validation file is used). */
DGN_API dgn_units dgn_dataset_units(const dgn_dataset *ds);
/* Names as written in the header; NULL when i is out of range. */
DGN_API const char *dgn_dataset_component_name(const dgn_dataset *ds, size_t i);
DGN_API const char *dgn_dataset_property_name(const dgn_dataset *ds);
/* The target range [lo, hi] the labels were made with. */
DGN_API double dgn_dataset_target_lo(const dgn_dataset *ds);
DGN_API double dgn_dataset_target_hi(const dgn_dataset *ds);

/* Training statistics of the fractions, [n_comp] each. A component with
 * zero variance reports std 1, so that its z-score is 0, not a division
 * by zero. */
DGN_API dgn_status dgn_dataset_zscore_stats(const dgn_dataset *ds,
                                            double *mean, double *std,
                                            size_t cap);

/* Rows of a split in file order, without augmentation (DGN_SPLIT_ALL:
 * training rows, then validation, then test). x: [n][n_comp],
 * x_cap counted in floats. */
DGN_API dgn_status dgn_dataset_features(const dgn_dataset *ds, dgn_split split,
                                        dgn_view view, float *x, size_t x_cap);
/* The same rows z-scored with given statistics [n_comp] each, e.g. a
 * trained model's (dgn_model_zscore_stats), so that data seen after
 * training is normalised exactly as the training data was. */
DGN_API dgn_status dgn_dataset_features_zscored(const dgn_dataset *ds, dgn_split split,
                                                const double *mean, const double *std,
                                                float *x, size_t x_cap);
DGN_API dgn_status dgn_dataset_labels(const dgn_dataset *ds, dgn_split split,
                                      int32_t *labels, size_t cap);
DGN_API dgn_status dgn_dataset_property_values(const dgn_dataset *ds,
                                               dgn_split split,
                                               double *values, size_t cap);

/* Start a training epoch: reshuffle the anchor order. Loading starts the
 * first epoch, so calling this is needed only between epochs. */
DGN_API dgn_status dgn_dataset_shuffle(dgn_dataset *ds);

/* Next batch of up to max_anchors triplets of the current epoch, written
 * as one block of 3*n rows of n_comp z-scored floats: n anchors, then
 * their n positives, then their n negatives (row k, n+k, 2n+k form one
 * triplet). *n_anchors is 0 once the epoch is exhausted. rows, if not
 * NULL, receives the 3*n training-split row indices (see
 * dgn_dataset_features with DGN_SPLIT_TRAIN) in the same order. */
DGN_API dgn_status dgn_dataset_next_triplets(dgn_dataset *ds,
                                             float *x, size_t x_cap,
                                             size_t *rows, size_t rows_cap,
                                             size_t max_anchors,
                                             size_t *n_anchors);

DGN_END_DECLS

#endif
