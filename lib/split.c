#include "split.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

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

/* The first n_valid rows of a shuffle validate, the next n_test test. */
static dgn_status split_by_row(size_t n, size_t n_valid, size_t n_test, dgn_rng *rng,
                               unsigned char *part)
{
    size_t *order = malloc(n * sizeof *order);
    if (!order)
        return dgn_fail_nomem("split");
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    dgn_rng_shuffle(rng, order, n);
    for (size_t i = 0; i < n_valid + n_test; i++)
        part[order[i]] = i < n_valid ? DGN_PART_VALID : DGN_PART_TEST;
    free(order);
    return DGN_OK;
}

/* Whole groups, in shuffled order, until each target is reached. */
static dgn_status split_by_group(const dgn_table *t, size_t n_valid, size_t n_test,
                                 dgn_rng *rng, unsigned char *part)
{
    size_t n = t->n, n_groups = 0;
    size_t *order = malloc(n * sizeof *order);
    size_t *group = malloc(n * sizeof *group);
    dgn_status st = order && group ? group_rows(t, group, &n_groups)
                                   : dgn_fail_nomem("split");
    size_t *size = st == DGN_OK ? calloc(n_groups, sizeof *size) : NULL;
    unsigned char *take = st == DGN_OK ? calloc(n_groups, 1) : NULL;
    if (st == DGN_OK && (!size || !take))
        st = dgn_fail_nomem("split");
    if (st == DGN_OK) {
        for (size_t i = 0; i < n; i++)
            size[group[i]]++;
        for (size_t k = 0; k < n_groups; k++)
            order[k] = k;
        dgn_rng_shuffle(rng, order, n_groups);
        size_t k = 0, taken = 0;
        for (; k < n_groups && taken < n_valid; k++) {
            take[order[k]] = DGN_PART_VALID;
            taken += size[order[k]];
        }
        for (taken = 0; k < n_groups && taken < n_test; k++) {
            take[order[k]] = DGN_PART_TEST;
            taken += size[order[k]];
        }
        for (size_t i = 0; i < n; i++)
            part[i] = take[group[i]];
    }
    free(size);
    free(take);
    free(order);
    free(group);
    return st;
}

dgn_status dgn_split_rows(const dgn_table *t, double valid_fraction, double test_fraction,
                          int group_split, dgn_rng *rng, unsigned char *part)
{
    size_t n = t->n;
    memset(part, DGN_PART_TRAIN, n);
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
    return group_split ? split_by_group(t, n_valid, n_test, rng, part)
                       : split_by_row(n, n_valid, n_test, rng, part);
}
