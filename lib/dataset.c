#include "dgn/dataset.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "error.h"
#include "rng.h"
#include "table.h"

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

    double sigma;
    int balance;
    dgn_rng rng;
    size_t *order;          /* [n_train] anchor order of this epoch */
    size_t cursor;
    size_t *by_class[2];    /* training rows with label 0 / 1 */
    size_t n_class[2];
};

/* ------------------------------------------------------------------ */
/* Config                                                               */

/* Bytes of a config of the given version: a caller built against
 * version 1 passes a struct that ends where test_fraction starts. */
static size_t config_size(unsigned int version)
{
    return version >= 2 ? sizeof(dgn_dataset_config)
                        : offsetof(dgn_dataset_config, test_fraction);
}

/* The version-2 fields, or their defaults for an older struct. */
static double test_fraction_of(const dgn_dataset_config *cfg)
{
    return cfg->version >= 2 ? cfg->test_fraction : 0;
}

static const char *test_path_of(const dgn_dataset_config *cfg)
{
    return cfg->version >= 2 ? cfg->test_path : NULL;
}

dgn_status dgn_dataset_config_init(dgn_dataset_config *cfg, unsigned int version)
{
    if (!cfg)
        return dgn_fail(DGN_E_INVALID, "dgn_dataset_config_init: cfg is NULL");
    if (version == 0 || version > DGN_DATASET_CONFIG_VERSION)
        return dgn_fail(DGN_E_INVALID, "dgn_dataset_config_init: version %u is not "
                        "supported (this library knows versions 1 to %u)", version,
                        DGN_DATASET_CONFIG_VERSION);
    memset(cfg, 0, config_size(version));
    cfg->version = version;
    cfg->lo = NAN;
    cfg->hi = NAN;
    cfg->units = DGN_UNITS_AUTO;
    cfg->sum_min = DGN_SUM_WINDOW_LO;
    cfg->sum_max = DGN_SUM_WINDOW_HI;
    cfg->valid_fraction = 0.2;
    cfg->sigma = 0.05;
    cfg->seed = 2024;
    cfg->balance_anchors = DGN_BALANCE_AUTO;
    /* Version 2: test_fraction 0 and test_path NULL, zeroed above. */
    return DGN_OK;
}

#define BAD_FIELD(...) dgn_fail(DGN_E_INVALID, "dataset config: " __VA_ARGS__)

dgn_status dgn_dataset_config_validate(const dgn_dataset_config *cfg)
{
    if (!cfg)
        return dgn_fail(DGN_E_INVALID, "dataset config is NULL");
    if (cfg->version == 0 || cfg->version > DGN_DATASET_CONFIG_VERSION)
        return BAD_FIELD("version: %u is not a known version (use "
                         "dgn_dataset_config_init with DGN_DATASET_CONFIG_VERSION)",
                         cfg->version);
    if (!isfinite(cfg->lo) || !isfinite(cfg->hi))
        return BAD_FIELD("lo and hi: the target range must be set to finite "
                         "values (got %g, %g)", cfg->lo, cfg->hi);
    if (cfg->lo > cfg->hi)
        return BAD_FIELD("lo: %g is above hi %g", cfg->lo, cfg->hi);
    if (cfg->units != DGN_UNITS_AUTO && cfg->units != DGN_UNITS_FRACTION &&
        cfg->units != DGN_UNITS_PERCENT)
        return BAD_FIELD("units: %d is not a dgn_units value", (int)cfg->units);
    if (!(cfg->sum_min >= 0) || !isfinite(cfg->sum_max) || !(cfg->sum_min < cfg->sum_max))
        return BAD_FIELD("sum_min, sum_max: need 0 <= sum_min < sum_max "
                         "(got %g, %g)", cfg->sum_min, cfg->sum_max);
    if (cfg->skip_bad_rows != 0 && cfg->skip_bad_rows != 1)
        return BAD_FIELD("skip_bad_rows: must be 0 or 1 (got %d)", cfg->skip_bad_rows);
    if (cfg->balance_anchors != 0 && cfg->balance_anchors != 1 &&
        cfg->balance_anchors != DGN_BALANCE_AUTO)
        return BAD_FIELD("balance_anchors: must be 0, 1 or DGN_BALANCE_AUTO (got %d)",
                         cfg->balance_anchors);
    if (cfg->group_split != 0 && cfg->group_split != 1)
        return BAD_FIELD("group_split: must be 0 or 1 (got %d)", cfg->group_split);
    if (!(cfg->valid_fraction >= 0 && cfg->valid_fraction < 1))
        return BAD_FIELD("valid_fraction: %g is outside [0, 1)", cfg->valid_fraction);
    if (!(cfg->sigma >= 0) || !isfinite(cfg->sigma))
        return BAD_FIELD("sigma: %g is not a finite value >= 0", cfg->sigma);
    if (cfg->n_components > 0 && !cfg->components)
        return BAD_FIELD("components: NULL with n_components = %zu", cfg->n_components);
    for (size_t i = 0; i < cfg->n_components; i++)
        if (!cfg->components[i] || !cfg->components[i][0])
            return BAD_FIELD("components[%zu]: empty name", i);
    if (cfg->property && !cfg->property[0])
        return BAD_FIELD("property: empty name (use NULL for the last column)");
    if (cfg->version < 2)
        return DGN_OK;
    if (!(cfg->test_fraction >= 0 && cfg->test_fraction < 1))
        return BAD_FIELD("test_fraction: %g is outside [0, 1)", cfg->test_fraction);
    if (cfg->test_path && cfg->test_fraction > 0)
        return BAD_FIELD("test_path and test_fraction: give one, not both (test_path "
                         "\"%s\", test_fraction %g)", cfg->test_path, cfg->test_fraction);
    if (cfg->test_path && !cfg->test_path[0])
        return BAD_FIELD("test_path: empty file name (use NULL for no test file)");
    /* With valid_path, valid_fraction is not used and does not count. */
    if (!cfg->valid_path && !(cfg->valid_fraction + cfg->test_fraction < 1))
        return BAD_FIELD("valid_fraction + test_fraction: %g + %g leaves no training "
                         "rows; the sum must be below 1", cfg->valid_fraction,
                         cfg->test_fraction);
    return DGN_OK;
}


/* ------------------------------------------------------------------ */
/* Split                                                                */

static int rows_equal(const double *a, const double *b, size_t c)
{
    return memcmp(a, b, c * sizeof *a) == 0;
}

static uint64_t row_hash(const double *row, size_t c)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    const unsigned char *p = (const unsigned char *)row;
    for (size_t i = 0; i < c * sizeof *row; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

/* group[i]: id of the distinct composition of row i, 0 .. *n_groups. */
static dgn_status group_rows(const dgn_table *t, size_t *group, size_t *n_groups)
{
    size_t size = 16;
    while (size < 2 * t->n)
        size *= 2;
    size_t *slot = malloc(size * sizeof *slot); /* row index + 1, 0 = empty */
    if (!slot)
        return dgn_fail_nomem("duplicate table");
    memset(slot, 0, size * sizeof *slot);
    size_t c = t->n_comp, g = 0;
    for (size_t i = 0; i < t->n; i++) {
        const double *row = t->x + i * c;
        size_t h = (size_t)row_hash(row, c) & (size - 1);
        while (slot[h] && !rows_equal(t->x + (slot[h] - 1) * c, row, c))
            h = (h + 1) & (size - 1);
        if (slot[h]) {
            group[i] = group[slot[h] - 1];
        } else {
            slot[h] = i + 1;
            group[i] = g++;
        }
    }
    free(slot);
    *n_groups = g;
    return DGN_OK;
}

/* Which part of the dataset a row of the main table goes to. */
enum { PART_TRAIN = 0, PART_VALID = 1, PART_TEST = 2 };

/* part[i] for each row of t. One seeded shuffle, of rows or with
 * group_split of whole compositions, decides all three parts: its first
 * rows go to validation, the next to test, the rest to training. With no
 * test rows this draws exactly what the two-way split always drew, and
 * with no held-out rows at all it draws nothing. */
static dgn_status split_rows(const dgn_table *t, double valid_fraction, double test_fraction,
                             int group_split, dgn_rng *rng, unsigned char *part)
{
    size_t n = t->n;
    memset(part, PART_TRAIN, n);
    if (n == 0)
        return DGN_OK;
    size_t n_valid = (size_t)llround(valid_fraction * (double)n);
    if (n_valid >= n)
        n_valid = n - 1;
    size_t n_test = (size_t)llround(test_fraction * (double)n);
    if (n_test > n - 1 - n_valid)
        n_test = n - 1 - n_valid;
    if (n_valid + n_test == 0)
        return DGN_OK;

    size_t *order = malloc(n * sizeof *order);
    size_t *group = group_split ? malloc(n * sizeof *group) : NULL;
    if (!order || (group_split && !group)) {
        free(order);
        free(group);
        return dgn_fail_nomem("split");
    }
    if (!group_split) {
        for (size_t i = 0; i < n; i++)
            order[i] = i;
        dgn_rng_shuffle(rng, order, n);
        for (size_t i = 0; i < n_valid + n_test; i++)
            part[order[i]] = i < n_valid ? PART_VALID : PART_TEST;
    } else {
        size_t n_groups = 0;
        dgn_status st = group_rows(t, group, &n_groups);
        if (st != DGN_OK) {
            free(order);
            free(group);
            return st;
        }
        /* Whole groups, in shuffled order, until each target is reached. */
        size_t *size = calloc(n_groups, sizeof *size);
        unsigned char *take = calloc(n_groups, 1);
        if (!size || !take) {
            free(size);
            free(take);
            free(order);
            free(group);
            return dgn_fail_nomem("split");
        }
        for (size_t i = 0; i < n; i++)
            size[group[i]]++;
        for (size_t k = 0; k < n_groups; k++)
            order[k] = k;
        dgn_rng_shuffle(rng, order, n_groups);
        size_t k = 0, taken = 0;
        for (; k < n_groups && taken < n_valid; k++) {
            take[order[k]] = PART_VALID;
            taken += size[order[k]];
        }
        for (taken = 0; k < n_groups && taken < n_test; k++) {
            take[order[k]] = PART_TEST;
            taken += size[order[k]];
        }
        for (size_t i = 0; i < n; i++)
            part[i] = take[group[i]];
        free(size);
        free(take);
    }
    free(order);
    free(group);
    return DGN_OK;
}

/* ------------------------------------------------------------------ */
/* Assembly                                                             */

void dgn_dataset_destroy(dgn_dataset *ds)
{
    if (!ds)
        return;
    if (ds->names)
        for (size_t i = 0; i < ds->n_comp; i++)
            free(ds->names[i]);
    free(ds->names);
    free(ds->property);
    free(ds->x);
    free(ds->y);
    free(ds->label);
    free(ds->mean);
    free(ds->std);
    free(ds->order);
    free(ds->by_class[0]);
    free(ds->by_class[1]);
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

/* Lay out the rows of `a` by part (training, validation, test), with all
 * of `vt` (a validation file) after a's validation rows and all of `tt`
 * (a test file) after a's test rows; label them and check the classes.
 * `want_test`: a test split was asked for, so it must not be empty.
 * Takes a's names. */
static dgn_status assemble(dgn_dataset **out, dgn_table *a,
                           const unsigned char *part, const dgn_table *vt, const dgn_table *tt,
                           int want_test, const dgn_dataset_config *cfg, dgn_rng *rng)
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
    ds->sigma = cfg->sigma;
    ds->rng = *rng;
    ds->n_dropped = a->n_dropped + (vt ? vt->n_dropped : 0) + (tt ? tt->n_dropped : 0);
    ds->n_skipped = a->n_skipped + (vt ? vt->n_skipped : 0) + (tt ? tt->n_skipped : 0);

    size_t n = a->n + (vt ? vt->n : 0) + (tt ? tt->n : 0);
    ds->n_rows = n;
    ds->x = malloc((n ? n : 1) * c * sizeof *ds->x);
    ds->y = malloc((n ? n : 1) * sizeof *ds->y);
    ds->label = malloc((n ? n : 1) * sizeof *ds->label);
    ds->mean = calloc(c, sizeof *ds->mean);
    ds->std = calloc(c, sizeof *ds->std);
    if (!ds->x || !ds->y || !ds->label || !ds->mean || !ds->std) {
        dgn_dataset_destroy(ds);
        return dgn_fail_nomem("dataset rows");
    }

    size_t k = 0, start[3] = {0, 0, 0};
    for (int p = PART_TRAIN; p <= PART_TEST; p++) {
        start[p] = k;
        for (size_t i = 0; i < a->n; i++) {
            if ((part ? part[i] : PART_TRAIN) != p)
                continue;
            memcpy(ds->x + k * c, a->x + i * c, c * sizeof *ds->x);
            ds->y[k++] = a->y[i];
        }
        const dgn_table *extra = p == PART_VALID ? vt : p == PART_TEST ? tt : NULL;
        for (size_t i = 0; extra && i < extra->n; i++) {
            memcpy(ds->x + k * c, extra->x + i * c, c * sizeof *ds->x);
            ds->y[k++] = extra->y[i];
        }
    }
    ds->n_train = start[PART_VALID];
    ds->n_valid = start[PART_TEST] - start[PART_VALID];
    size_t n_test = n - start[PART_TEST];
    for (size_t i = 0; i < n; i++) {
        ds->label[i] = ds->y[i] >= cfg->lo && ds->y[i] <= cfg->hi;
        if (ds->label[i])
            *(i < start[PART_VALID]  ? &ds->n_pos_train
              : i < start[PART_TEST] ? &ds->n_pos_valid
                                     : &ds->n_pos_test) += 1;
    }

    dgn_status st = DGN_OK;
    if (ds->n_train == 0)
        st = dgn_fail(DGN_E_DATA, "no rows left to train on (%zu dropped for "
                      "proportions summing outside [%g, %g], %zu skipped)",
                      ds->n_dropped, cfg->sum_min, cfg->sum_max, ds->n_skipped);
    if (st == DGN_OK)
        st = check_classes(ds, n, ds->n_pos_train + ds->n_pos_valid + ds->n_pos_test, "");
    if (st == DGN_OK)
        st = check_classes(ds, ds->n_train, ds->n_pos_train, "training split: ");
    /* The trainer could not score such a split (dgn_auc needs both
     * classes): say so here, by name, rather than at the first epoch. */
    if (st == DGN_OK && ds->n_valid > 0)
        st = check_classes(ds, ds->n_valid, ds->n_pos_valid, "validation split: ");
    if (st == DGN_OK && want_test && n_test == 0) {
        if (tt)
            st = dgn_fail(DGN_E_DATA, "test split: %s has no rows left (%zu dropped "
                          "for proportions summing outside [%g, %g], %zu skipped)",
                          tt->source, tt->n_dropped, cfg->sum_min, cfg->sum_max,
                          tt->n_skipped);
        else
            st = dgn_fail(DGN_E_DATA, "test split: no rows (test_fraction %g of %zu "
                          "rows%s)", test_fraction_of(cfg), a->n,
                          cfg->group_split ? ", whole compositions, after validation"
                                           : "");
    }
    if (st == DGN_OK && want_test)
        st = check_classes(ds, n_test, ds->n_pos_test, "test split: ");
    if (st != DGN_OK) {
        dgn_dataset_destroy(ds);
        return st;
    }

    /* Population statistics, as the z-scores of the reference code. */
    for (size_t i = 0; i < ds->n_train; i++)
        for (size_t j = 0; j < c; j++)
            ds->mean[j] += ds->x[i * c + j];
    for (size_t j = 0; j < c; j++)
        ds->mean[j] /= (double)ds->n_train;
    for (size_t i = 0; i < ds->n_train; i++)
        for (size_t j = 0; j < c; j++) {
            double d = ds->x[i * c + j] - ds->mean[j];
            ds->std[j] += d * d;
        }
    for (size_t j = 0; j < c; j++) {
        double sd = sqrt(ds->std[j] / (double)ds->n_train);
        ds->std[j] = sd > 1e-12 ? sd : 1.0;
    }

    ds->order = malloc(ds->n_train * sizeof *ds->order);
    ds->n_class[1] = ds->n_pos_train;
    ds->n_class[0] = ds->n_train - ds->n_pos_train;
    ds->by_class[0] = malloc(ds->n_class[0] * sizeof(size_t));
    ds->by_class[1] = malloc(ds->n_class[1] * sizeof(size_t));
    if (!ds->order || !ds->by_class[0] || !ds->by_class[1]) {
        dgn_dataset_destroy(ds);
        return dgn_fail_nomem("triplet index");
    }
    /* A rare class between two others is where the plain epoch fails:
     * its features stay diffuse and the class centre points at the
     * majority (docs/training.md). */
    size_t minority = ds->n_class[0] < ds->n_class[1] ? ds->n_class[0] : ds->n_class[1];
    ds->balance = cfg->balance_anchors == DGN_BALANCE_AUTO
                      ? minority * 5 < ds->n_train
                      : cfg->balance_anchors;
    size_t fill[2] = {0, 0};
    for (size_t i = 0; i < ds->n_train; i++) {
        ds->order[i] = i;
        ds->by_class[ds->label[i]][fill[ds->label[i]]++] = i;
    }
    dgn_dataset_shuffle(ds);
    *out = ds;
    return DGN_OK;
}

/* Units decided or applied, rows outside the sum window dropped, values
 * stored as fractions: the same for every table of a dataset. */
static dgn_status clean(dgn_table *t, const dgn_dataset_config *cfg)
{
    dgn_status st = dgn_table_clean(t, cfg->units, cfg->sum_min, cfg->sum_max);
    if (st == DGN_OK)
        dgn_table_convert(t, DGN_UNITS_FRACTION);
    return st;
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
    dgn_status st = part ? split_rows(a, cfg->valid_path ? 0 : cfg->valid_fraction,
                                      test_fraction_of(cfg), cfg->group_split, &rng, part)
                         : dgn_fail_nomem("split");
    if (st == DGN_OK)
        st = assemble(out, a, part, vt, tt, tt || test_fraction_of(cfg) > 0, cfg, &rng);
    free(part);
    return st;
}

dgn_status dgn_dataset_load_csv(dgn_dataset **out, const char *path,
                                const dgn_dataset_config *cfg)
{
    if (!out || !path)
        return dgn_fail(DGN_E_INVALID, "dgn_dataset_load_csv: out and path must not be NULL");
    *out = NULL;
    dgn_status st = dgn_dataset_config_validate(cfg);
    if (st != DGN_OK)
        return st;

    dgn_table a = {0}, vt = {0}, tt = {0};
    const char *test_path = test_path_of(cfg);
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
    if (!out)
        return dgn_fail(DGN_E_INVALID, "dgn_dataset_from_arrays: out is NULL");
    *out = NULL;
    dgn_status st = dgn_dataset_config_validate(cfg);
    if (st != DGN_OK)
        return st;
    if (cfg->property || cfg->components || cfg->valid_path || test_path_of(cfg))
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
    return ds ? ds->balance : 0;
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
    size_t c = ds->n_comp;
    for (size_t i = b; i < e; i++)
        for (size_t j = 0; j < c; j++) {
            double v = ds->x[i * c + j];
            if (mean)
                v = (v - mean[j]) / std[j];
            x[(i - b) * c + j] = (float)v;
        }
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

dgn_status dgn_dataset_shuffle(dgn_dataset *ds)
{
    if (!ds)
        return dgn_fail(DGN_E_INVALID, "dgn_dataset_shuffle: ds is NULL");
    if (ds->balance) {
        /* Alternate classes from a random start; rows drawn with replacement. */
        size_t first = (size_t)dgn_rng_below(&ds->rng, 2);
        for (size_t k = 0; k < ds->n_train; k++) {
            int cls = (int)((k + first) % 2);
            ds->order[k] = ds->by_class[cls][dgn_rng_below(&ds->rng, ds->n_class[cls])];
        }
    } else {
        dgn_rng_shuffle(&ds->rng, ds->order, ds->n_train);
    }
    ds->cursor = 0;
    return DGN_OK;
}

/* Row i augmented (fresh noise per component) and z-scored into out.
 * Noise cannot move an absent component, so none is drawn for it: most
 * of a glass's components are absent, and the draws are the cost. */
static void augment_row(dgn_dataset *ds, size_t i, float *out)
{
    size_t c = ds->n_comp;
    for (size_t j = 0; j < c; j++) {
        double v = ds->x[i * c + j];
        if (ds->sigma > 0 && v != 0)
            v *= 1.0 + ds->sigma * dgn_rng_normal(&ds->rng);
        out[j] = (float)((v - ds->mean[j]) / ds->std[j]);
    }
}

/* A random training row of class `cls`, other than `avoid` when the class
 * has another row to offer. */
static size_t draw(dgn_dataset *ds, int cls, size_t avoid)
{
    size_t n = ds->n_class[cls];
    const size_t *rows = ds->by_class[cls];
    if (n < 2 || ds->label[avoid] != cls)
        return rows[dgn_rng_below(&ds->rng, n)];
    size_t k = (size_t)dgn_rng_below(&ds->rng, n - 1);
    return rows[k] == avoid ? rows[n - 1] : rows[k];
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
    size_t c = ds->n_comp;
    if (max_anchors > SIZE_MAX / 3 / c || x_cap < 3 * max_anchors * c)
        return dgn_fail(DGN_E_SHAPE, "dgn_dataset_next_triplets: x capacity %zu < "
                        "3 x %zu anchors x %zu components", x_cap, max_anchors, c);
    if (rows && rows_cap < 3 * max_anchors)
        return dgn_fail(DGN_E_SHAPE, "dgn_dataset_next_triplets: rows capacity %zu "
                        "< 3 x %zu anchors", rows_cap, max_anchors);

    size_t m = ds->n_train - ds->cursor;
    if (m > max_anchors)
        m = max_anchors;
    for (size_t k = 0; k < m; k++) {
        size_t a = ds->order[ds->cursor + k];
        int cls = ds->label[a];
        size_t p = draw(ds, cls, a);
        size_t q = draw(ds, !cls, a);
        augment_row(ds, a, x + k * c);
        augment_row(ds, p, x + (m + k) * c);
        augment_row(ds, q, x + (2 * m + k) * c);
        if (rows) {
            rows[k] = a;
            rows[m + k] = p;
            rows[2 * m + k] = q;
        }
    }
    ds->cursor += m;
    *n_anchors = m;
    return DGN_OK;
}
