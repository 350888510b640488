/* Private: which part of a dataset (training, validation, test) each row
 * of a cleaned table goes to, decided by one seeded shuffle. */
#ifndef DGN_LIB_SPLIT_H
#define DGN_LIB_SPLIT_H

#include "dgn/common.h"
#include "rng.h"
#include "table.h"

/* Parts, in the order a dataset lays them out. */
enum { DGN_PART_TRAIN = 0, DGN_PART_VALID = 1, DGN_PART_TEST = 2 };

/* part[i] (t->n of them) for each row of t. One shuffle of rows, or with
 * group_split of whole compositions (identical rows), decides all three
 * parts: its first rows go to validation, the next to test, the rest to
 * training. With no test rows this draws exactly what the two-way split
 * always drew, and with no held-out rows at all it draws nothing. */
dgn_status dgn_split_rows(const dgn_table *t, double valid_fraction, double test_fraction,
                          int group_split, dgn_rng *rng, unsigned char *part);

#endif
