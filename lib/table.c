#include "table.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "error.h"

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}

void dgn_table_free(dgn_table *t)
{
    free(t->x);
    free(t->y);
    free(t->where);
    free(t->record);
    free_names(t->comp_name, t->n_comp);
    free(t->property_name);
    memset(t, 0, sizeof *t);
}

static dgn_status reserve(dgn_table *t, size_t want)
{
    if (want <= t->cap)
        return DGN_OK;
    size_t cap = t->cap ? t->cap : 1024;
    while (cap < want)
        cap *= 2;
    if (t->n_comp && cap > SIZE_MAX / sizeof(double) / t->n_comp)
        return dgn_fail_nomem("table rows");
    double *x = realloc(t->x, cap * t->n_comp * sizeof *x);
    if (x)
        t->x = x;
    double *y = realloc(t->y, cap * sizeof *y);
    if (y)
        t->y = y;
    size_t *w = realloc(t->where, cap * sizeof *w);
    if (w)
        t->where = w;
    uint64_t *r = realloc(t->record, cap * sizeof *r);
    if (r)
        t->record = r;
    if (!x || !y || !w || !r)
        return dgn_fail_nomem("table rows");
    t->cap = cap;
    return DGN_OK;
}

const char *dgn_table_where(const dgn_table *t, size_t i, char *buf, size_t size)
{
    if (t->source)
        snprintf(buf, size, "%s:%zu", t->source, t->where[i]);
    else
        snprintf(buf, size, "row %zu", t->where[i]);
    return buf;
}

/* ------------------------------------------------------------------ */
/* Units and the sum window                                             */

/* The units a row's sum suggests: near 1, fractions; near 100, percents;
 * 0 for neither. */
static int units_of_sum(double s)
{
    return s >= 0.5 && s <= 2 ? DGN_UNITS_FRACTION : s >= 50 && s <= 200 ? DGN_UNITS_PERCENT : 0;
}

static double row_sum(const dgn_table *t, size_t i)
{
    double s = 0;
    for (size_t j = 0; j < t->n_comp; j++)
        s += t->x[i * t->n_comp + j];
    return s;
}

static dgn_status detect_units(const dgn_table *t, dgn_units *units)
{
    char a[512], b[512];
    const char *name = t->source ? t->source : "the data";
    size_t first[3] = {0}, count[3] = {0};
    double sum_of[3] = {0};
    for (size_t i = 0; i < t->n; i++) {
        double s = row_sum(t, i);
        int kind = units_of_sum(s);
        if (kind && count[kind]++ == 0) {
            first[kind] = i;
            sum_of[kind] = s;
        }
    }
    if (count[DGN_UNITS_FRACTION] && count[DGN_UNITS_PERCENT])
        return dgn_fail(DGN_E_FORMAT, "%s mixes fractions and percents: %s sums to %g, "
                        "%s sums to %g", name,
                        dgn_table_where(t, first[DGN_UNITS_FRACTION], a, sizeof a),
                        sum_of[DGN_UNITS_FRACTION],
                        dgn_table_where(t, first[DGN_UNITS_PERCENT], b, sizeof b),
                        sum_of[DGN_UNITS_PERCENT]);
    if (count[DGN_UNITS_FRACTION] || !t->n)
        *units = DGN_UNITS_FRACTION;
    else if (count[DGN_UNITS_PERCENT])
        *units = DGN_UNITS_PERCENT;
    else
        return dgn_fail(DGN_E_DATA, "%s: cannot tell the units: no row's proportions sum "
                        "to near 1 or near 100 (%s sums to %g)", name,
                        dgn_table_where(t, 0, a, sizeof a), row_sum(t, 0));
    return DGN_OK;
}

static double scale_to(dgn_units from, dgn_units to)
{
    if (from == to)
        return 1.0;
    return to == DGN_UNITS_PERCENT ? 100.0 : 0.01;
}

dgn_status dgn_table_clean(dgn_table *t, dgn_units units, double sum_min, double sum_max)
{
    if (units == DGN_UNITS_AUTO) {
        dgn_status st = detect_units(t, &units);
        if (st != DGN_OK)
            return st;
    }
    t->units = units;
    double scale = scale_to(units, DGN_UNITS_FRACTION);
    size_t kept = 0, c = t->n_comp;
    for (size_t i = 0; i < t->n; i++) {
        /* The sum of the values as dgn_table_convert writes them. */
        double s = 0;
        for (size_t j = 0; j < c; j++)
            s += t->x[i * c + j] * scale + 0.0;
        if (!dgn_sum_in_window(s, sum_min, sum_max)) {
            if (t->n_dropped++ == 0) {
                t->first_dropped = t->where[i];
                t->first_dropped_sum = s;
            }
            continue;
        }
        if (kept != i) {
            memmove(t->x + kept * c, t->x + i * c, c * sizeof *t->x);
            t->y[kept] = t->y[i];
            t->where[kept] = t->where[i];
            t->record[kept] = t->record[i];
        }
        kept++;
    }
    t->n = kept;
    return DGN_OK;
}

void dgn_table_convert(dgn_table *t, dgn_units to)
{
    double scale = scale_to(t->units, to);
    for (size_t k = 0; k < t->n * t->n_comp; k++)
        t->x[k] = t->x[k] * scale + 0.0;
}

/* ------------------------------------------------------------------ */
/* CSV columns                                                          */

#define NO_COLUMN ((size_t)-1)

/* Columns chosen from a header record. */
typedef struct columns {
    size_t n_fields;  /* fields every row must have */
    size_t first;     /* 1 when an unnamed index column leads, else 0 */
    size_t property;  /* NO_COLUMN without one */
    size_t *comp;     /* [n_comp] */
    size_t n_comp;
} columns;

/* The components by name, through an index: a file matched by thousands
 * of names stays linear. */
static dgn_status find_components(const dgn_csv *r, const dgn_table_spec *spec,
                                  columns *cols)
{
    size_t nf = r->n_field;
    dgn_names ix = {0};
    unsigned char *taken = calloc(nf, 1);
    dgn_status st = taken ? dgn_names_build(&ix, (const char *const *)r->field, cols->first, nf)
                          : dgn_fail_nomem("column list");
    for (size_t k = 0; st == DGN_OK && k < spec->n_components; k++) {
        size_t c;
        if ((st = dgn_names_find(&ix, spec->components[k], r->name, "component", "column",
                                 &c)))
            break;
        if (c == cols->property)
            st = dgn_fail(DGN_E_INVALID, "%s: column %zu (\"%s\") is the property "
                          "and cannot also be a component", r->name, c + 1, r->field[c]);
        else if (taken[c]++)
            st = dgn_fail(DGN_E_INVALID, "%s: column %zu (\"%s\") is listed "
                          "twice among the components", r->name, c + 1, r->field[c]);
        else
            cols->comp[cols->n_comp++] = c;
    }
    dgn_names_free(&ix);
    free(taken);
    return st;
}

static dgn_status pick_columns(const dgn_csv *r, const dgn_table_spec *spec, columns *cols)
{
    size_t nf = r->n_field;
    cols->n_fields = nf;
    cols->first = nf > 1 && r->field[0][0] == '\0';
    cols->property = NO_COLUMN;
    dgn_status st = dgn_csv_check_header(r, cols->first, spec->allow_unnamed);
    if (st != DGN_OK)
        return st;
    if (!spec->no_property) {
        if (nf - cols->first < 2)
            return dgn_fail(DGN_E_FORMAT, "%s:%zu: need at least one component column "
                            "and a property column, found %zu column(s)",
                            r->name, r->record_line, nf - cols->first);
        if (!spec->property)
            cols->property = nf - 1;
        else if ((st = dgn_csv_find_column(r, cols->first, spec->property, "property",
                                           &cols->property)))
            return st;
    } else if (!spec->components) {
        return dgn_fail(DGN_E_INVALID, "%s: a table without a property column needs "
                        "its components named", r->name);
    }
    size_t n = spec->components ? spec->n_components : nf - cols->first - 1;
    cols->comp = malloc((n ? n : 1) * sizeof *cols->comp);
    if (!cols->comp)
        return dgn_fail_nomem("column list");
    cols->n_comp = 0;
    if (spec->components)
        return find_components(r, spec, cols);
    for (size_t i = cols->first; i < nf; i++)
        if (i != cols->property)
            cols->comp[cols->n_comp++] = i;
    return DGN_OK;
}

/* The chosen columns' names, as written. */
static dgn_status keep_names(dgn_table *t, const dgn_csv *r, const columns *cols)
{
    t->comp_name = calloc(cols->n_comp ? cols->n_comp : 1, sizeof *t->comp_name);
    if (!t->comp_name)
        return dgn_fail_nomem("column names");
    t->n_comp = cols->n_comp;
    for (size_t j = 0; j < cols->n_comp; j++)
        if (!(t->comp_name[j] = strdup(r->field[cols->comp[j]])))
            return dgn_fail_nomem("column names");
    if (cols->property != NO_COLUMN && !(t->property_name = strdup(r->field[cols->property])))
        return dgn_fail_nomem("column names");
    return DGN_OK;
}

/* ------------------------------------------------------------------ */
/* CSV cells and rows                                                   */

/* Quote at most 40 bytes of a cell for a message. */
static const char *excerpt(const char *text, char *buf, size_t size)
{
    size_t len = strlen(text);
    if (len > 40)
        snprintf(buf, size, "\"%.37s...\"", text);
    else
        snprintf(buf, size, "\"%s\"", text);
    return buf;
}

/* Parse one cell; components must also be >= 0. */
static dgn_status read_cell(const dgn_csv *r, size_t col, const char *header,
                            int component, double *v)
{
    const char *text = r->field[col];
    char ex[64];
    switch (dgn_csv_parse_number(r, text, v)) {
    case DGN_CSV_NUMBER:
        break;
    case DGN_CSV_EMPTY:
        return dgn_fail(DGN_E_FORMAT, "%s:%zu: column %zu (\"%s\"): empty cell",
                        r->name, r->record_line, col + 1, header);
    case DGN_CSV_NOT_NUMBER:
        return dgn_fail(DGN_E_FORMAT, "%s:%zu: column %zu (\"%s\"): %s is not a number",
                        r->name, r->record_line, col + 1, header,
                        excerpt(text, ex, sizeof ex));
    case DGN_CSV_NONFINITE:
        return dgn_fail(DGN_E_NONFINITE, "%s:%zu: column %zu (\"%s\"): %s is not finite",
                        r->name, r->record_line, col + 1, header,
                        excerpt(text, ex, sizeof ex));
    }
    if (component && *v < 0)
        return dgn_fail(DGN_E_FORMAT, "%s:%zu: column %zu (\"%s\"): %s is negative",
                        r->name, r->record_line, col + 1, header,
                        excerpt(text, ex, sizeof ex));
    return DGN_OK;
}

/* The current record as row t->n. */
static dgn_status read_row(dgn_table *t, const dgn_csv *r, const columns *cols)
{
    if (r->n_field != cols->n_fields)
        return dgn_fail(DGN_E_FORMAT, "%s:%zu: expected %zu fields, found %zu",
                        r->name, r->record_line, cols->n_fields, r->n_field);
    dgn_status st = reserve(t, t->n + 1);
    if (st != DGN_OK)
        return st;
    double *row = t->x + t->n * t->n_comp;
    for (size_t j = 0; st == DGN_OK && j < cols->n_comp; j++)
        st = read_cell(r, cols->comp[j], t->comp_name[j], 1, &row[j]);
    if (st == DGN_OK && cols->property != NO_COLUMN)
        st = read_cell(r, cols->property, t->property_name, 0, &t->y[t->n]);
    else if (st == DGN_OK)
        t->y[t->n] = 0;
    return st;
}

static dgn_status read_rows(dgn_table *t, dgn_csv *r, const columns *cols, int skip_bad_rows)
{
    size_t header_line = r->record_line;
    uint64_t record = 0;
    int got = 0;
    dgn_status st;
    while ((st = dgn_csv_next(r, &got)) == DGN_OK && got) {
        st = read_row(t, r, cols);
        if (st != DGN_OK && skip_bad_rows && st != DGN_E_NOMEM) {
            t->n_skipped++;
            st = DGN_OK;
        } else if (st == DGN_OK) {
            t->where[t->n] = r->record_line;
            t->record[t->n++] = record;
        }
        if (st != DGN_OK)
            return st;
        record++;
    }
    if (st == DGN_OK && t->n == 0 && t->n_skipped == 0)
        st = dgn_fail(DGN_E_FORMAT, "%s:%zu: header row but no data rows", r->name,
                      header_line);
    return st;
}

dgn_status dgn_table_read_csv(dgn_table *t, const char *path, const dgn_table_spec *spec)
{
    memset(t, 0, sizeof *t);
    t->source = path;
    dgn_csv r;
    columns cols = {0};
    /* A reader that failed to open may hold memory: closed either way. */
    dgn_status st = dgn_csv_open_file(&r, path);
    int got = 0;
    if (st == DGN_OK && (st = dgn_csv_next(&r, &got)) == DGN_OK && !got)
        st = dgn_fail(DGN_E_FORMAT, "%s: file is empty (expected a header row)", path);
    if (st == DGN_OK)
        st = pick_columns(&r, spec, &cols);
    if (st == DGN_OK)
        st = keep_names(t, &r, &cols);
    if (st == DGN_OK)
        st = read_rows(t, &r, &cols, spec->skip_bad_rows);
    free(cols.comp);
    dgn_csv_close(&r);
    if (st != DGN_OK)
        dgn_table_free(t);
    return st;
}

/* ------------------------------------------------------------------ */
/* Caller arrays                                                        */

static dgn_status array_names(dgn_table *t, size_t n_comp, const char *const *comp_names,
                              const char *property_name)
{
    t->comp_name = calloc(n_comp, sizeof *t->comp_name);
    t->property_name = strdup(property_name ? property_name : "property");
    if (!t->comp_name || !t->property_name)
        return dgn_fail_nomem("names");
    t->n_comp = n_comp;
    for (size_t j = 0; j < n_comp; j++) {
        char def[32];
        snprintf(def, sizeof def, "c%zu", j + 1);
        if (!(t->comp_name[j] = strdup(comp_names && comp_names[j] ? comp_names[j] : def)))
            return dgn_fail_nomem("names");
    }
    return DGN_OK;
}

/* Row i of the arrays: finite components >= 0 and a finite property. */
static dgn_status check_array_row(const dgn_table *t, const double *x, double y, size_t i)
{
    for (size_t j = 0; j < t->n_comp; j++) {
        double v = x[j];
        if (!isfinite(v) || v < 0)
            return dgn_fail(isfinite(v) ? DGN_E_INVALID : DGN_E_NONFINITE,
                            "row %zu, component %zu (\"%s\"): %g is %s", i + 1, j + 1,
                            t->comp_name[j], v, isfinite(v) ? "negative" : "not finite");
    }
    if (!isfinite(y))
        return dgn_fail(DGN_E_NONFINITE, "row %zu, %s: %g is not finite", i + 1,
                        t->property_name, y);
    return DGN_OK;
}

dgn_status dgn_table_from_arrays(dgn_table *t, const double *x, const double *y,
                                 size_t n_rows, size_t n_comp,
                                 const char *const *comp_names,
                                 const char *property_name, int skip_bad_rows)
{
    memset(t, 0, sizeof *t);
    dgn_status st = array_names(t, n_comp, comp_names, property_name);
    if (st == DGN_OK)
        st = reserve(t, n_rows);
    for (size_t i = 0; st == DGN_OK && i < n_rows; i++) {
        st = check_array_row(t, x + i * n_comp, y[i], i);
        if (st != DGN_OK && skip_bad_rows) {
            t->n_skipped++;
            st = DGN_OK;
            continue;
        }
        if (st != DGN_OK)
            break;
        memcpy(t->x + t->n * n_comp, x + i * n_comp, n_comp * sizeof *x);
        t->y[t->n] = y[i];
        t->where[t->n] = i + 1;
        t->record[t->n++] = i;
    }
    if (st != DGN_OK)
        dgn_table_free(t);
    return st;
}

/* ---- canonical component order ----------------------------------------- */

static const char *last_word(const char *s)
{
    const char *w = s;
    for (const char *p = s; *p; p++)
        if ((*p == ' ' || *p == '\t') && p[1] && p[1] != ' ' && p[1] != '\t')
            w = p + 1;
    return w;
}

static int name_before(const char *a, const char *b)
{
    int c = strcmp(last_word(a), last_word(b));
    return c ? c < 0 : strcmp(a, b) < 0;
}

dgn_status dgn_table_sort_components(dgn_table *t)
{
    size_t c = t->n_comp;
    size_t *order = malloc((c ? c : 1) * sizeof *order);
    double *row = malloc((c ? c : 1) * sizeof *row);
    char **names = malloc((c ? c : 1) * sizeof *names);
    if (!order || !row || !names) {
        free(order);
        free(row);
        free(names);
        return dgn_fail_nomem("component order");
    }
    /* Insertion sort: tables have tens of components, and it is stable. */
    for (size_t j = 0; j < c; j++) {
        size_t i = j;
        for (; i > 0 && name_before(t->comp_name[j], t->comp_name[order[i - 1]]); i--)
            order[i] = order[i - 1];
        order[i] = j;
    }
    for (size_t j = 0; j < c; j++)
        names[j] = t->comp_name[order[j]];
    memcpy(t->comp_name, names, c * sizeof *names);
    for (size_t r = 0; r < t->n; r++) {
        double *x = t->x + r * c;
        for (size_t j = 0; j < c; j++)
            row[j] = x[order[j]];
        memcpy(x, row, c * sizeof *row);
    }
    free(order);
    free(row);
    free(names);
    return DGN_OK;
}
