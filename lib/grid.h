/* Private: the candidate lattice of a screening run.
 *
 * A spec names the components that vary and a step, all in percent:
 *   "step=5, SiO2=40:80, Al2O3=0:20, B2O3, Na2O=0:25"
 * A bare name ranges over 0:100. Every candidate has its named components
 * on multiples of the step within their bounds, summing to exactly 100;
 * all other components are 0. Candidates are numbered 0 .. count−1 in
 * lexicographic order of the named components (the first varies slowest);
 * any index can be turned into its candidate (unrank) and a candidate into
 * the next one, so a range of the lattice streams without materialising it.
 */
#ifndef DGN_LIB_GRID_H
#define DGN_LIB_GRID_H

#include <stddef.h>
#include <stdint.h>

#include "dgn/common.h"

typedef struct dgn_grid {
    size_t n_comp;       /* components of the model */
    size_t n_sel;        /* named components */
    size_t *comp;        /* [n_sel] their model index */
    int64_t *lo, *hi;    /* [n_sel] bounds, in steps */
    int64_t *max_rest;   /* [n_sel + 1] Σ hi of components i..; lo, hi and
                            max_rest are one allocation, owned by lo */
    int64_t total;       /* 100 % in steps */
    double step;         /* percent */
    uint64_t count;
    uint64_t *ways;      /* [(n_sel + 1)][total + 1]: completions of components
                            i.. summing to s (exact where it matters; see grid.c) */
} dgn_grid;

/* Parse spec against the model's component names. */
dgn_status dgn_grid_parse(dgn_grid *g, const char *spec, const char *const *names,
                          size_t n_comp);
void dgn_grid_free(dgn_grid *g);

/* Candidate `index` (< count) as step counts of the named components. */
void dgn_grid_unrank(const dgn_grid *g, uint64_t index, int64_t *units);
/* Advance units to the next candidate; 0 when units was the last. */
int dgn_grid_next(const dgn_grid *g, int64_t *units);
/* Full composition in percent [n_comp] of a candidate. */
void dgn_grid_percent(const dgn_grid *g, const int64_t *units, double *percent);

#endif
