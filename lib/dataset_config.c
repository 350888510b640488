#include "dataset_config.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "dgn/dataset.h"
#include "error.h"
#include "table.h"

/* Bytes of a config of the given version: a caller built against
 * version 1 passes a struct that ends where test_fraction starts. */
static size_t config_size(unsigned int version)
{
    return version >= 2 ? sizeof(dgn_dataset_config)
                        : offsetof(dgn_dataset_config, test_fraction);
}

/* Static, so its padding is zero too, as the memset used to make it.
 * Version 2: test_fraction 0 and test_path NULL. */
static const dgn_dataset_config defaults = {
    .lo = NAN,
    .hi = NAN,
    .units = DGN_UNITS_AUTO,
    .sum_min = DGN_SUM_WINDOW_LO,
    .sum_max = DGN_SUM_WINDOW_HI,
    .valid_fraction = 0.2,
    .sigma = 0.05,
    .seed = 2024,
    .balance_anchors = DGN_BALANCE_AUTO,
};

dgn_status dgn_dataset_config_init(dgn_dataset_config *cfg, unsigned int version)
{
    return dgn_config_init(cfg, version, DGN_DATASET_CONFIG_VERSION,
                           "dgn_dataset_config_init", &defaults, config_size(version));
}

#define BAD_FIELD(...) dgn_fail(DGN_E_INVALID, "dataset config: " __VA_ARGS__)

/* The fields of version 1. */
static dgn_status check_version_1(const dgn_dataset_config *cfg)
{
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
    return DGN_OK;
}

/* The fields version 2 added, and how they combine with the others. */
static dgn_status check_version_2(const dgn_dataset_config *cfg)
{
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

dgn_status dgn_dataset_config_validate(const dgn_dataset_config *cfg)
{
    dgn_status st = dgn_check_config_version(cfg, DGN_DATASET_CONFIG_VERSION, "dataset", 1);
    if (st == DGN_OK)
        st = check_version_1(cfg);
    if (st == DGN_OK && cfg->version >= 2)
        st = check_version_2(cfg);
    return st;
}
