/* Private: a composition table, read from a CSV file or from caller
 * arrays, with one set of rules for both of its users: the dataset
 * (training, validation and test files) and the screener (candidate
 * files).
 *
 * The rules: a leading column with an empty header is an index and is
 * skipped; columns are found by name (dgn_names: exact, else by last
 * words); cells are parsed in the C locale and a component must be a
 * finite number >= 0; the units are decided from every row's sum (near 1:
 * fractions, near 100: percents; a table with both is refused, naming the
 * first row of each); a row is kept when its proportions, as fractions,
 * sum within the window (dgn_sum_in_window). Messages name the file and
 * line, or the row of the arrays.
 *
 * Ownership: a table owns its rows and names; `source` is borrowed and
 * must outlive the table. dgn_table_free releases everything and leaves
 * a zeroed table; freeing a zeroed table does nothing.
 */
#ifndef DGN_LIB_TABLE_H
#define DGN_LIB_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "dgn/common.h"
#include "dgn/dataset.h"

/* The proportion-sum window of a row, the same for training rows and
 * candidates (dgn_table_clean): a row is kept when its proportions, as
 * fractions of the whole, sum within [lo − tol, hi + tol]. The tolerance
 * absorbs decimal rounding (30.1 + 64.9 is 94.99999999999999 in doubles),
 * so rows written exactly at the edge (95 %, 105 %) are kept, while
 * 94.99 % is still dropped. Sums are computed in double. */
#define DGN_SUM_WINDOW_LO 0.95
#define DGN_SUM_WINDOW_HI 1.05
#define DGN_SUM_TOLERANCE 1e-9

static inline int dgn_sum_in_window(double sum, double lo, double hi)
{
    return sum >= lo - DGN_SUM_TOLERANCE && sum <= hi + DGN_SUM_TOLERANCE;
}

typedef struct dgn_table {
    const char *source;   /* file name, or NULL for caller arrays */
    size_t n_comp, n, cap;
    double *x;            /* [n][n_comp] as read, until dgn_table_convert */
    double *y;            /* [n] property; unused without a property column */
    size_t *where;        /* line in the file, or row number for arrays */
    uint64_t *record;     /* data row in the input from 0, skipped and
                             dropped rows counted */
    char **comp_name;     /* [n_comp] as written in the header */
    char *property_name;  /* NULL without a property column */
    size_t n_skipped;     /* bad rows left out under skip_bad_rows */
    size_t n_dropped;     /* rows whose sum fell outside the window */
    size_t first_dropped; /* where[] of the first dropped row */
    double first_dropped_sum; /* its sum, as a fraction */
    dgn_units units;      /* of the input, decided by dgn_table_clean */
} dgn_table;

/* Which columns to read and how strictly. */
typedef struct dgn_table_spec {
    /* Property column: its name, or NULL for the last column; ignored
     * with no_property (candidates carry no property). */
    const char *property;
    int no_property;
    /* Component columns by name, or NULL for every other column (only
     * with a property). */
    const char *const *components;
    size_t n_components;
    /* 1: unnamed columns besides the index are allowed (and not read). */
    int allow_unnamed;
    /* 1: a row with a bad cell or the wrong number of fields is left out
     * and counted in n_skipped; 0: it fails the read. */
    int skip_bad_rows;
} dgn_table_spec;

void dgn_table_free(dgn_table *t);

dgn_status dgn_table_read_csv(dgn_table *t, const char *path, const dgn_table_spec *spec);

/* Rows from caller arrays x [n_rows][n_comp] and y [n_rows] (copied);
 * names default to c1, c2 ... and "property". A negative component is
 * DGN_E_INVALID here (the caller's argument is wrong) where a file gives
 * DGN_E_FORMAT (the file is wrong); a non-finite value is DGN_E_NONFINITE
 * from both. */
dgn_status dgn_table_from_arrays(dgn_table *t, const double *x, const double *y,
                                 size_t n_rows, size_t n_comp,
                                 const char *const *comp_names,
                                 const char *property_name, int skip_bad_rows);

/* Decide the units (DGN_UNITS_AUTO) from every row, or take the given
 * ones, then drop the rows whose sum as fractions falls outside
 * [sum_min, sum_max] (with DGN_SUM_TOLERANCE). Values stay as read. */
dgn_status dgn_table_clean(dgn_table *t, dgn_units units, double sum_min, double sum_max);

/* Rewrite the values, read in t->units, in the given units (once: t->units
 * keeps naming the input's); -0.0 becomes 0.0 so that identical rows
 * compare equal. */
void dgn_table_convert(dgn_table *t, dgn_units to);

/* Reorder the components by name (by the last word, the oxide, then the
 * whole name), moving their columns with them: a table's component order
 * then does not depend on the order of its file's columns. Messages
 * about cells come from reading, before this, so they still name the
 * file's columns. */
dgn_status dgn_table_sort_components(dgn_table *t);

/* "data.csv:12" or "row 12", for messages. */
const char *dgn_table_where(const dgn_table *t, size_t i, char *buf, size_t size);

#endif
