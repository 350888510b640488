/* Private: the dataset config's version-2 fields, read only when the
 * caller's struct has them (a version-1 struct ends before them). */
#ifndef DGN_LIB_DATASET_CONFIG_H
#define DGN_LIB_DATASET_CONFIG_H

#include "dgn/dataset.h"

static inline double dgn_dataset_test_fraction(const dgn_dataset_config *cfg)
{
    return cfg->version >= 2 ? cfg->test_fraction : 0;
}

static inline const char *dgn_dataset_test_path(const dgn_dataset_config *cfg)
{
    return cfg->version >= 2 ? cfg->test_path : NULL;
}

#endif
