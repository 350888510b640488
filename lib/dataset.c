/* The dataset: reads its tables (table.c), splits the main one
 * (split.c), lays the rows out by part, labels them and checks the
 * classes, fits the z-scores (normalise.c) and hands the training rows to
 * the triplet sampler (triplets.c). */
#include "dgn/dataset.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "dataset_config.h"
#include "dataset_internal.h"
#include "error.h"
#include "normalise.h"
#include "rng.h"
#include "split.h"
#include "table.h"
#include "triplets.h"

struct dgn_dataset {
    size_t n_comp;
    char **names;   /* [n_comp], as written in the header */
    char *property;
    double lo, hi;
    dgn_units units;

    /* Training rows come first (0 .. n_train), then validation rows
     * (n_valid), then test rows (the rest), each in input order. */
    size_t n_rows, n_train, n_valid;
    double *x;      /* [n_rows][n_comp] fractions */
    double *y;      /* [n_rows] property */
    int32_t *label; /* [n_rows] */
    size_t n_pos_train, n_pos_valid, n_pos_test;
    size_t n_dropped, n_skipped;

    double *mean, *std; /* [n_comp], training rows only */
    dgn_triplets *triplets; /* over the training rows */
    /* A batch drawn ahead (dataset_internal.h): where it began, and its
     * ticket while it is pending. */
    dgn_triplets_mark ahead_from;
    uint64_t ahead_ticket, tickets;
    int ahead_pending;
};

/* ------------------------------------------------------------------ */
/* Assembly                                                             */

void dgn_dataset_destroy(dgn_dataset *ds)
{
    if (!ds)
        return;
    if (ds->names)
        for (size_t i = 0; i < ds->n_comp; i++)
            free(ds->names[i]);
    DGN_FREE_ALL(ds->names, ds->property, ds->x, ds->y, ds->label, ds->mean, ds->std);
    dgn_triplets_destroy(ds->triplets);
    free(ds);
}

static dgn_status check_classes(const dgn_dataset *ds, size_t n, size_t n_pos,
                                const char *which)
{
    if (n_pos == 0)
        return dgn_fail(DGN_E_DATA, "%sno row has %s in [%g, %g]: the target "
                        "class is empty", which, ds->property, ds->lo, ds->hi);
    if (n_pos == n)
        return dgn_fail(DGN_E_DATA, "%severy row has %s in [%g, %g]: the other "
                        "class is empty", which, ds->property, ds->lo, ds->hi);
    return DGN_OK;
}

/* A new dataset holding a's names and room for all rows. */
static dgn_status create(dgn_dataset **out, dgn_table *a, const dgn_table *vt,
                         const dgn_table *tt, const dgn_dataset_config *cfg)
{
    size_t c = a->n_comp;
    dgn_dataset *ds = calloc(1, sizeof *ds);
    if (!ds)
        return dgn_fail_nomem("dataset");
    ds->n_comp = c;
    ds->names = a->comp_name;
    ds->property = a->property_name;
    a->comp_name = NULL;
    a->property_name = NULL;
    ds->lo = cfg->lo;
    ds->hi = cfg->hi;
    ds->units = a->units;
    ds->n_dropped = a->n_dropped + (vt ? vt->n_dropped : 0) + (tt ? tt->n_dropped : 0);
    ds->n_skipped = a->n_skipped + (vt ? vt->n_skipped : 0) + (tt ? tt->n_skipped : 0);
    size_t n = a->n + (vt ? vt->n : 0) + (tt ? tt->n : 0);
    ds->n_rows = n;
    ds->x = malloc((n ? n : 1) * c * sizeof *ds->x);
    ds->y = malloc((n ? n : 1) * sizeof *ds->y);
    ds->label = malloc((n ? n : 1) * sizeof *ds->label);
    ds->mean = calloc(c, sizeof *ds->mean);
    ds->std = calloc(c, sizeof *ds->std);
    *out = ds;
    if (!ds->x || !ds->y || !ds->label || !ds->mean || !ds->std)
        return dgn_fail_nomem("dataset rows");
    return DGN_OK;
}

/* The rows of `a` by part (training, validation, test), with all of `vt`
 * (a validation file) after a's validation rows and all of `tt` (a test
 * file) after a's test rows; then their labels. */
static void lay_out(dgn_dataset *ds, const dgn_table *a, const unsigned char *part,
                    const dgn_table *vt, const dgn_table *tt)
{
    size_t c = ds->n_comp, k = 0, start[3] = {0, 0, 0};
    for (int p = DGN_PART_TRAIN; p <= DGN_PART_TEST; p++) {
        start[p] = k;
        for (size_t i = 0; i < a->n; i++) {
            if (part[i] != p)
                continue;
            memcpy(ds->x + k * c, a->x + i * c, c * sizeof *ds->x);
            ds->y[k++] = a->y[i];
        }
        const dgn_table *extra = p == DGN_PART_VALID ? vt : p == DGN_PART_TEST ? tt : NULL;
        for (size_t i = 0; extra && i < extra->n; i++) {
            memcpy(ds->x + k * c, extra->x + i * c, c * sizeof *ds->x);
            ds->y[k++] = extra->y[i];
        }
    }
    ds->n_train = start[DGN_PART_VALID];
    ds->n_valid = start[DGN_PART_TEST] - start[DGN_PART_VALID];
    for (size_t i = 0; i < ds->n_rows; i++) {
        ds->label[i] = ds->y[i] >= ds->lo && ds->y[i] <= ds->hi;
        if (ds->label[i])
            *(i < start[DGN_PART_VALID]  ? &ds->n_pos_train
              : i < start[DGN_PART_TEST] ? &ds->n_pos_valid
                                         : &ds->n_pos_test) += 1;
    }
}

/* Every split the trainer uses must hold both classes; a test split that
 * was asked for (want_test) must not be empty. */
static dgn_status check_splits(const dgn_dataset *ds, const dgn_table *a,
                               const dgn_table *tt, int want_test,
                               const dgn_dataset_config *cfg)
{
    size_t n_test = ds->n_rows - ds->n_train - ds->n_valid;
    if (ds->n_train == 0)
        return dgn_fail(DGN_E_DATA, "no rows left to train on (%zu dropped for "
                        "proportions summing outside [%g, %g], %zu skipped)",
                        ds->n_dropped, cfg->sum_min, cfg->sum_max, ds->n_skipped);
    dgn_status st = check_classes(ds, ds->n_rows,
                                  ds->n_pos_train + ds->n_pos_valid + ds->n_pos_test, "");
    if (st == DGN_OK)
        st = check_classes(ds, ds->n_train, ds->n_pos_train, "training split: ");
    /* The trainer could not score such a split (dgn_auc needs both
     * classes): say so here, by name, rather than at the first epoch. */
    if (st == DGN_OK && ds->n_valid > 0)
        st = check_classes(ds, ds->n_valid, ds->n_pos_valid, "validation split: ");
    if (st != DGN_OK || !want_test)
        return st;
    if (n_test == 0 && tt)
        return dgn_fail(DGN_E_DATA, "test split: %s has no rows left (%zu dropped "
                        "for proportions summing outside [%g, %g], %zu skipped)",
                        tt->source, tt->n_dropped, cfg->sum_min, cfg->sum_max,
                        tt->n_skipped);
    if (n_test == 0)
        return dgn_fail(DGN_E_DATA, "test split: no rows (test_fraction %g of %zu "
                        "rows%s)", dgn_dataset_test_fraction(cfg), a->n,
                        cfg->group_split ? ", whole compositions, after validation" : "");
    return check_classes(ds, n_test, ds->n_pos_test, "test split: ");
}

/* The dataset from cleaned tables and the main table's split; takes a's
 * names. `want_test`: a test split was asked for. */
static dgn_status assemble(dgn_dataset **out, dgn_table *a, const unsigned char *part,
                           const dgn_table *vt, const dgn_table *tt, int want_test,
                           const dgn_dataset_config *cfg, const dgn_rng *rng)
{
    dgn_dataset *ds = NULL;
    dgn_status st = create(&ds, a, vt, tt, cfg);
    if (st == DGN_OK) {
        lay_out(ds, a, part, vt, tt);
        st = check_splits(ds, a, tt, want_test, cfg);
    }
    if (st == DGN_OK) {
        /* Population statistics, as the z-scores of the reference code. */
        dgn_zscore_fit(ds->x, ds->n_train, ds->n_comp, ds->mean, ds->std);
        st = dgn_triplets_create(&ds->triplets, ds->x, ds->label, ds->n_train, ds->n_comp,
                                 ds->mean, ds->std, cfg->sigma, cfg->balance_anchors, rng);
    }
    if (st != DGN_OK) {
        dgn_dataset_destroy(ds);
        return st;
    }
    *out = ds;
    return DGN_OK;
}

/* ------------------------------------------------------------------ */
/* Loading                                                              */

/* Units decided or applied, rows outside the sum window dropped, values
 * stored as fractions: the same for every table of a dataset. */
static dgn_status clean(dgn_table *t, const dgn_dataset_config *cfg)
{
    dgn_status st = dgn_table_clean(t, cfg->units, cfg->sum_min, cfg->sum_max);
    if (st != DGN_OK)
        return st;
    dgn_table_convert(t, DGN_UNITS_FRACTION);
    /* To float, as the network reads them: 30 % and 0.3 written as text
     * differ in the last bit of a double, not of a float, so the
     * statistics, the groups and every z-score then agree bit for bit
     * between a table in percents and the same in fractions. */
    for (size_t k = 0; k < t->n * t->n_comp; k++)
        t->x[k] = (double)(float)t->x[k];
    return DGN_OK;
}

/* Read a CSV and clean it. With `match`, columns are found by its names
 * (a validation or test file must carry the training file's columns);
 * otherwise they come from cfg. */
static dgn_status read_clean(dgn_table *t, const char *path, const dgn_dataset_config *cfg,
                             const dgn_table *match)
{
    dgn_table_spec spec = {
        .property = match ? match->property_name : cfg->property,
        .components = match ? (const char *const *)match->comp_name : cfg->components,
        .n_components = match ? match->n_comp : cfg->components ? cfg->n_components : 0,
        .skip_bad_rows = cfg->skip_bad_rows,
    };
    dgn_status st = dgn_table_read_csv(t, path, &spec);
    /* Components the file's header chose come in a fixed order, so that
     * reordering a table's columns changes nothing downstream: the split,
     * the initial weights and the augmentation see the same columns. A
     * caller who names them keeps its own order. */
    if (st == DGN_OK && !spec.components)
        st = dgn_table_sort_components(t);
    return st == DGN_OK ? clean(t, cfg) : st;
}

/* The tail both loaders share, from cleaned tables: the main table's
 * split (validation rows unless a file gives them, test rows when
 * test_fraction asks), then the dataset. The split runs after the files
 * are read but consumes the generator the same way whatever they hold. */
static dgn_status finish(dgn_dataset **out, dgn_table *a, const dgn_table *vt,
                         const dgn_table *tt, const dgn_dataset_config *cfg)
{
    dgn_rng rng;
    dgn_rng_seed(&rng, cfg->seed);
    unsigned char *part = malloc(a->n ? a->n : 1);
    double test_fraction = dgn_dataset_test_fraction(cfg);
    dgn_status st = part ? dgn_split_rows(a, cfg->valid_path ? 0 : cfg->valid_fraction,
                                          test_fraction, cfg->group_split, &rng, part)
                         : dgn_fail_nomem("split");
    if (st == DGN_OK)
        st = assemble(out, a, part, vt, tt, tt || test_fraction > 0, cfg, &rng);
    free(part);
    return st;
}

dgn_status dgn_dataset_load_csv(dgn_dataset **out, const char *path,
                                const dgn_dataset_config *cfg)
{
    dgn_status st = DGN_CREATE_CHECKS(out, path,
                                      "dgn_dataset_load_csv: out and path must not be NULL",
                                      dgn_dataset_config_validate(cfg));
    if (st != DGN_OK)
        return st;

    dgn_table a = {0}, vt = {0}, tt = {0};
    const char *test_path = dgn_dataset_test_path(cfg);
    st = read_clean(&a, path, cfg, NULL);
    if (st == DGN_OK && cfg->valid_path)
        st = read_clean(&vt, cfg->valid_path, cfg, &a);
    if (st == DGN_OK && test_path)
        st = read_clean(&tt, test_path, cfg, &a);
    if (st == DGN_OK)
        st = finish(out, &a, cfg->valid_path ? &vt : NULL, test_path ? &tt : NULL, cfg);
    dgn_table_free(&a);
    dgn_table_free(&vt);
    dgn_table_free(&tt);
    return st;
}

dgn_status dgn_dataset_from_arrays(dgn_dataset **out,
                                   const double *x, const double *property,
                                   size_t n_rows, size_t n_comp,
                                   const char *const *comp_names,
                                   const char *property_name,
                                   const dgn_dataset_config *cfg)
{
    dgn_status st = DGN_CREATE_CHECKS(out, 1, "dgn_dataset_from_arrays: out is NULL",
                                      dgn_dataset_config_validate(cfg));
    if (st != DGN_OK)
        return st;
    if (cfg->property || cfg->components || cfg->valid_path || dgn_dataset_test_path(cfg))
        return dgn_fail(DGN_E_INVALID, "dataset config: property, components, "
                        "valid_path and test_path select CSV columns and files; leave "
                        "them NULL with dgn_dataset_from_arrays");
    if (!x || !property || n_rows == 0 || n_comp == 0)
        return dgn_fail(DGN_E_INVALID, "dgn_dataset_from_arrays: need non-NULL x "
                        "and property with n_rows > 0 and n_comp > 0");
    if (n_rows > SIZE_MAX / sizeof(double) / n_comp)
        return dgn_fail(DGN_E_INVALID, "dgn_dataset_from_arrays: %zu x %zu values "
                        "overflow", n_rows, n_comp);

    dgn_table a = {0};
    st = dgn_table_from_arrays(&a, x, property, n_rows, n_comp, comp_names, property_name,
                               cfg->skip_bad_rows);
    if (st == DGN_OK)
        st = clean(&a, cfg);
    if (st == DGN_OK)
        st = finish(out, &a, NULL, NULL, cfg);
    dgn_table_free(&a);
    return st;
}

/* ------------------------------------------------------------------ */
/* Accessors                                                            */

size_t dgn_dataset_n_components(const dgn_dataset *ds)
{
    return ds ? ds->n_comp : 0;
}

/* Row range [*begin, *end) of a split. */
static int split_range(const dgn_dataset *ds, dgn_split split, size_t *begin, size_t *end)
{
    switch (split) {
    case DGN_SPLIT_ALL: *begin = 0; *end = ds->n_rows; return 1;
    case DGN_SPLIT_TRAIN: *begin = 0; *end = ds->n_train; return 1;
    case DGN_SPLIT_VALID: *begin = ds->n_train; *end = ds->n_train + ds->n_valid; return 1;
    case DGN_SPLIT_TEST: *begin = ds->n_train + ds->n_valid; *end = ds->n_rows; return 1;
    }
    return 0;
}

size_t dgn_dataset_n_rows(const dgn_dataset *ds, dgn_split split)
{
    size_t b = 0, e = 0;
    return ds && split_range(ds, split, &b, &e) ? e - b : 0;
}

size_t dgn_dataset_n_positive(const dgn_dataset *ds, dgn_split split)
{
    if (!ds)
        return 0;
    switch (split) {
    case DGN_SPLIT_ALL: return ds->n_pos_train + ds->n_pos_valid + ds->n_pos_test;
    case DGN_SPLIT_TRAIN: return ds->n_pos_train;
    case DGN_SPLIT_VALID: return ds->n_pos_valid;
    case DGN_SPLIT_TEST: return ds->n_pos_test;
    }
    return 0;
}

size_t dgn_dataset_n_dropped(const dgn_dataset *ds)
{
    return ds ? ds->n_dropped : 0;
}

size_t dgn_dataset_n_skipped(const dgn_dataset *ds)
{
    return ds ? ds->n_skipped : 0;
}

int dgn_dataset_balanced(const dgn_dataset *ds)
{
    return ds ? dgn_triplets_balanced(ds->triplets) : 0;
}

dgn_units dgn_dataset_units(const dgn_dataset *ds)
{
    return ds ? ds->units : DGN_UNITS_AUTO;
}

const char *dgn_dataset_component_name(const dgn_dataset *ds, size_t i)
{
    return ds && i < ds->n_comp ? ds->names[i] : NULL;
}

const char *dgn_dataset_property_name(const dgn_dataset *ds)
{
    return ds ? ds->property : NULL;
}

double dgn_dataset_target_lo(const dgn_dataset *ds)
{
    return ds ? ds->lo : NAN;
}

double dgn_dataset_target_hi(const dgn_dataset *ds)
{
    return ds ? ds->hi : NAN;
}

dgn_status dgn_dataset_zscore_stats(const dgn_dataset *ds, double *mean,
                                    double *std, size_t cap)
{
    if (!ds || !mean || !std)
        return dgn_fail(DGN_E_INVALID, "dgn_dataset_zscore_stats: NULL argument");
    if (cap < ds->n_comp)
        return dgn_fail(DGN_E_SHAPE, "dgn_dataset_zscore_stats: capacity %zu < "
                        "%zu components", cap, ds->n_comp);
    memcpy(mean, ds->mean, ds->n_comp * sizeof *mean);
    memcpy(std, ds->std, ds->n_comp * sizeof *std);
    return DGN_OK;
}

/* Range of a split and a capacity check shared by the copy-out calls. */
static dgn_status prepare_copy(const dgn_dataset *ds, dgn_split split, const void *buf,
                               size_t cap, size_t per_row, const char *fn,
                               size_t *begin, size_t *end)
{
    if (!ds || !buf)
        return dgn_fail(DGN_E_INVALID, "%s: NULL argument", fn);
    if (!split_range(ds, split, begin, end))
        return dgn_fail(DGN_E_INVALID, "%s: %d is not a dgn_split value", fn, (int)split);
    size_t need = (*end - *begin) * per_row;
    if (cap < need)
        return dgn_fail(DGN_E_SHAPE, "%s: capacity %zu < %zu needed", fn, cap, need);
    return DGN_OK;
}

/* Rows of a split as floats: fractions, or z-scored with mean/std. */
static dgn_status copy_features(const dgn_dataset *ds, dgn_split split, const double *mean,
                                const double *std, float *x, size_t x_cap, const char *fn)
{
    size_t b = 0, e = 0;
    dgn_status st = prepare_copy(ds, split, x, x_cap, ds ? ds->n_comp : 0, fn, &b, &e);
    if (st != DGN_OK)
        return st;
    dgn_zscore_rows(x, ds->x + b * ds->n_comp, e - b, ds->n_comp, mean, std);
    return DGN_OK;
}

dgn_status dgn_dataset_features(const dgn_dataset *ds, dgn_split split,
                                dgn_view view, float *x, size_t x_cap)
{
    if (view != DGN_VIEW_FRACTION && view != DGN_VIEW_ZSCORE)
        return dgn_fail(DGN_E_INVALID, "dgn_dataset_features: %d is not a dgn_view "
                        "value", (int)view);
    int z = view == DGN_VIEW_ZSCORE && ds;
    return copy_features(ds, split, z ? ds->mean : NULL, z ? ds->std : NULL, x, x_cap,
                         "dgn_dataset_features");
}

dgn_status dgn_dataset_features_zscored(const dgn_dataset *ds, dgn_split split,
                                        const double *mean, const double *std,
                                        float *x, size_t x_cap)
{
    if (!mean || !std)
        return dgn_fail(DGN_E_INVALID, "dgn_dataset_features_zscored: NULL statistics");
    for (size_t j = 0; ds && j < ds->n_comp; j++)
        if (!isfinite(mean[j]) || !(std[j] > 0) || !isfinite(std[j]))
            return dgn_fail(DGN_E_INVALID, "dgn_dataset_features_zscored: component %zu: "
                            "mean %g, std %g", j, mean[j], std[j]);
    return copy_features(ds, split, mean, std, x, x_cap, "dgn_dataset_features_zscored");
}

dgn_status dgn_dataset_labels(const dgn_dataset *ds, dgn_split split,
                              int32_t *labels, size_t cap)
{
    size_t b = 0, e = 0;
    dgn_status st = prepare_copy(ds, split, labels, cap, 1, "dgn_dataset_labels", &b, &e);
    if (st == DGN_OK)
        memcpy(labels, ds->label + b, (e - b) * sizeof *labels);
    return st;
}

dgn_status dgn_dataset_property_values(const dgn_dataset *ds, dgn_split split,
                                       double *values, size_t cap)
{
    size_t b = 0, e = 0;
    dgn_status st = prepare_copy(ds, split, values, cap, 1,
                                 "dgn_dataset_property_values", &b, &e);
    if (st == DGN_OK)
        memcpy(values, ds->y + b, (e - b) * sizeof *values);
    return st;
}

/* ------------------------------------------------------------------ */
/* Triplets                                                             */

/* A batch drawn ahead and not taken is drawn again by whoever draws
 * next. */
static void rewind_ahead(dgn_dataset *ds)
{
    if (ds->ahead_pending)
        dgn_triplets_rewind(ds->triplets, &ds->ahead_from);
    ds->ahead_pending = 0;
}

dgn_status dgn_dataset_shuffle(dgn_dataset *ds)
{
    if (!ds)
        return dgn_fail(DGN_E_INVALID, "dgn_dataset_shuffle: ds is NULL");
    rewind_ahead(ds);
    dgn_triplets_shuffle(ds->triplets);
    return DGN_OK;
}

dgn_status dgn_dataset_next_triplets(dgn_dataset *ds, float *x, size_t x_cap,
                                     size_t *rows, size_t rows_cap,
                                     size_t max_anchors, size_t *n_anchors)
{
    if (n_anchors)
        *n_anchors = 0;
    if (!ds || !x || !n_anchors || max_anchors == 0)
        return dgn_fail(DGN_E_INVALID, "dgn_dataset_next_triplets: need ds, x, "
                        "n_anchors and max_anchors > 0");
    rewind_ahead(ds);
    size_t c = ds->n_comp;
    if (max_anchors > SIZE_MAX / 3 / c || x_cap < 3 * max_anchors * c)
        return dgn_fail(DGN_E_SHAPE, "dgn_dataset_next_triplets: x capacity %zu < "
                        "3 x %zu anchors x %zu components", x_cap, max_anchors, c);
    if (rows && rows_cap < 3 * max_anchors)
        return dgn_fail(DGN_E_SHAPE, "dgn_dataset_next_triplets: rows capacity %zu "
                        "< 3 x %zu anchors", rows_cap, max_anchors);
    *n_anchors = dgn_triplets_next(ds->triplets, x, rows, max_anchors);
    return DGN_OK;
}

dgn_status dgn_dataset_draw_ahead(dgn_dataset *ds, float *x, size_t x_cap,
                                  size_t max_anchors, size_t *n_anchors, uint64_t *ticket)
{
    *ticket = 0;
    if (!ds)
        return dgn_fail(DGN_E_INVALID, "dgn_dataset_draw_ahead: ds is NULL");
    rewind_ahead(ds);
    dgn_triplets_mark from = dgn_triplets_here(ds->triplets);
    dgn_status st = dgn_dataset_next_triplets(ds, x, x_cap, NULL, 0, max_anchors, n_anchors);
    if (st == DGN_OK) {
        ds->ahead_from = from;
        ds->ahead_pending = 1;
        *ticket = ds->ahead_ticket = ++ds->tickets;
    }
    return st;
}

int dgn_dataset_take_ahead(dgn_dataset *ds, uint64_t ticket)
{
    if (!ds || !ds->ahead_pending || ticket == 0 || ds->ahead_ticket != ticket)
        return 0;
    ds->ahead_pending = 0;
    return 1;
}
