#include "grid.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "error.h"

/* The finest step the counting table allows: 100 % in 100,000 steps. */
#define MAX_STEPS 100000
/* The counting table's size, checked before it is allocated: 2^24 entries
 * (128 MiB): at most 166 named components at the finest step. */
#define MAX_TABLE ((size_t)1 << 24)

void dgn_grid_free(dgn_grid *g)
{
    if (!g)
        return;
    free(g->comp);
    free(g->lo); /* hi and max_rest share its block */
    free(g->ways);
    memset(g, 0, sizeof *g);
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

/* A percentage as a whole number of steps; "what" names it in errors. */
static dgn_status to_steps(const char *text, double step, const char *what, int64_t *out)
{
    char *end;
    double v = strtod(text, &end);
    if (end == text || *trim(end) != '\0' || !isfinite(v))
        return dgn_fail(DGN_E_FORMAT, "grid spec: %s: \"%s\" is not a number", what, text);
    if (v < 0 || v > 100)
        return dgn_fail(DGN_E_FORMAT, "grid spec: %s: %g is outside 0..100 %%", what, v);
    double q = v / step, r = nearbyint(q);
    if (fabs(q - r) > 1e-9 * fmax(1, fabs(q)))
        return dgn_fail(DGN_E_FORMAT, "grid spec: %s: %g is not a multiple of the step %g",
                        what, v, step);
    *out = (int64_t)r;
    return DGN_OK;
}

/* Count completions for every (component, remaining sum): exact modulo
 * 2^64 in `ways`, and approximately in doubles to detect a count that
 * does not fit. Every entry unranking reads is at most the total count, so
 * when that fits in 64 bits the modular entries it reads are exact. */
static dgn_status count(dgn_grid *g)
{
    size_t m = g->n_sel, T = (size_t)g->total, w = T + 1;
    if (m + 1 > MAX_TABLE / w)
        return dgn_fail(DGN_E_INVALID, "grid spec: %zu components at step %g need a "
                        "counting table of %zu x %zu entries, more than %zu; use a "
                        "coarser step or name fewer components", m, g->step, m + 1, w,
                        MAX_TABLE);
    g->ways = calloc((m + 1) * w, sizeof *g->ways);
    double *approx = calloc(2 * w, sizeof *approx);
    uint64_t *prefix = malloc((w + 1) * sizeof *prefix);
    double *dprefix = malloc((w + 1) * sizeof *dprefix);
    if (!g->ways || !approx || !prefix || !dprefix) {
        free(approx);
        free(prefix);
        free(dprefix);
        return dgn_fail_nomem("grid counting table");
    }
    double *next = approx, *cur = approx + w;
    g->ways[m * w + 0] = 1;
    next[0] = 1;
    for (size_t i = m; i-- > 0;) {
        const uint64_t *after = g->ways + (i + 1) * w;
        prefix[0] = 0;
        dprefix[0] = 0;
        for (size_t s = 0; s < w; s++) {
            prefix[s + 1] = prefix[s] + after[s];
            dprefix[s + 1] = dprefix[s] + next[s];
        }
        /* ways[i][s] = Σ_{a = lo..hi, a <= s} ways[i+1][s − a] */
        for (size_t s = 0; s < w; s++) {
            int64_t top = (int64_t)s - g->lo[i], bottom = (int64_t)s - g->hi[i];
            if (top < 0) {
                g->ways[i * w + s] = 0;
                cur[s] = 0;
                continue;
            }
            if (bottom < 0)
                bottom = 0;
            g->ways[i * w + s] = prefix[top + 1] - prefix[bottom];
            cur[s] = dprefix[top + 1] - dprefix[bottom];
        }
        double *t = next;
        next = cur;
        cur = t;
    }
    double estimate = next[T];
    free(approx);
    free(prefix);
    free(dprefix);
    if (estimate > 1.8e19)
        return dgn_fail(DGN_E_INVALID, "grid spec: about %.3g candidates, more than a "
                        "64-bit count holds; use a coarser step or tighter bounds", estimate);
    g->count = g->ways[T];
    if (g->count == 0)
        return dgn_fail(DGN_E_INVALID, "grid spec: no candidate sums to 100 %% within "
                        "these bounds");
    return DGN_OK;
}

/* The step=S item, which the bounds are measured in; its slot in items
 * becomes NULL. */
static dgn_status parse_step(dgn_grid *g, char **items, size_t n_items)
{
    for (size_t i = 0; i < n_items; i++) {
        if (strncmp(items[i], "step=", 5) != 0)
            continue;
        if (g->step > 0)
            return dgn_fail(DGN_E_FORMAT, "grid spec: step is given twice");
        char *end;
        g->step = strtod(items[i] + 5, &end);
        if (end == items[i] + 5 || *trim(end) || !isfinite(g->step) || g->step <= 0)
            return dgn_fail(DGN_E_FORMAT, "grid spec: step: \"%s\" is not a positive "
                            "number", items[i] + 5);
        if (100 / g->step > MAX_STEPS)
            return dgn_fail(DGN_E_INVALID, "grid spec: step %g is finer than 100/%d %%",
                            g->step, MAX_STEPS);
        if (to_steps("100", g->step, "step", &g->total) != DGN_OK)
            return dgn_fail(DGN_E_FORMAT, "grid spec: step %g does not divide 100 %%",
                            g->step);
        items[i] = NULL;
    }
    if (!(g->step > 0))
        return dgn_fail(DGN_E_FORMAT, "grid spec: no step=S item (the lattice step in %%)");
    return DGN_OK;
}

/* "MIN:MAX" in steps. */
static dgn_status parse_range(const dgn_grid *g, const char *name, char *range,
                              int64_t *lo, int64_t *hi)
{
    char *colon = strchr(range, ':');
    if (!colon)
        return dgn_fail(DGN_E_FORMAT, "grid spec: %s=%s: expected MIN:MAX", name, range);
    *colon = '\0';
    dgn_status st;
    if ((st = to_steps(trim(range), g->step, name, lo)) != DGN_OK ||
        (st = to_steps(trim(colon + 1), g->step, name, hi)) != DGN_OK)
        return st;
    if (*lo > *hi)
        return dgn_fail(DGN_E_FORMAT, "grid spec: %s: minimum %g is above maximum %g",
                        name, (double)*lo * g->step, (double)*hi * g->step);
    return DGN_OK;
}

/* Item i, "NAME" or "NAME=MIN:MAX", as the next selected component;
 * named[c] counts the items naming component c. */
static dgn_status parse_item(dgn_grid *g, const dgn_names *ix, const char *const *names,
                             unsigned char *named, char *item, size_t i)
{
    char *name = item, *range = strchr(name, '=');
    if (range)
        *range++ = '\0';
    name = trim(name);
    if (!*name)
        return dgn_fail(DGN_E_FORMAT, "grid spec: item %zu has no component name", i + 1);
    size_t c;
    dgn_status st = dgn_names_find(ix, name, "grid spec", "grid", "component", &c);
    if (st != DGN_OK)
        return st;
    if (named[c]++)
        return dgn_fail(DGN_E_FORMAT, "grid spec: component \"%s\" is named twice",
                        names[c]);
    int64_t lo = 0, hi = g->total;
    if (range && (st = parse_range(g, name, range, &lo, &hi)) != DGN_OK)
        return st;
    g->comp[g->n_sel] = c;
    g->lo[g->n_sel] = lo;
    g->hi[g->n_sel] = hi;
    g->n_sel++;
    return DGN_OK;
}

/* The bounds must admit a sum of 100 %; then the lattice is counted. */
static dgn_status check_and_count(dgn_grid *g)
{
    if (g->n_sel == 0)
        return dgn_fail(DGN_E_FORMAT, "grid spec: names no component");
    int64_t min_sum = 0, max_sum = 0;
    for (size_t i = 0; i < g->n_sel; i++) {
        min_sum += g->lo[i];
        max_sum += g->hi[i];
    }
    if (min_sum > g->total || max_sum < g->total)
        return dgn_fail(DGN_E_INVALID, "grid spec: the bounds cannot sum to 100 %% "
                        "(minimums sum to %g %%, maximums to %g %%)",
                        (double)min_sum * g->step, (double)max_sum * g->step);
    g->max_rest[g->n_sel] = 0;
    for (size_t i = g->n_sel; i-- > 0;)
        g->max_rest[i] = g->max_rest[i + 1] + g->hi[i];
    return count(g);
}

dgn_status dgn_grid_parse(dgn_grid *g, const char *spec, const char *const *names,
                          size_t n_comp)
{
    memset(g, 0, sizeof *g);
    if (!spec || !names || n_comp == 0)
        return dgn_fail(DGN_E_INVALID, "grid spec: NULL argument");
    char *copy = strdup(spec);
    g->n_comp = n_comp;
    g->comp = calloc(n_comp, sizeof *g->comp);
    /* The bounds in one block: lo, hi [n_comp] each, max_rest [n_comp + 1]. */
    g->lo = calloc(3 * n_comp + 1, sizeof *g->lo);
    g->hi = g->lo ? g->lo + n_comp : NULL;
    g->max_rest = g->lo ? g->lo + 2 * n_comp : NULL;
    char **items = calloc(strlen(spec) / 2 + 2, sizeof *items);
    unsigned char *named = calloc(n_comp, 1);
    dgn_names ix = {0};
    dgn_status st = DGN_OK;
    if (!copy || !g->comp || !g->lo || !items || !named)
        st = dgn_fail_nomem("grid");
    /* Indexed, so a spec naming all of a large model's components is linear. */
    if (st == DGN_OK)
        st = dgn_names_build(&ix, names, 0, n_comp);
    size_t n_items = 0;
    /* strtok_r: strtok's position is one for the whole process, and
     * screeners on other threads parse their specs at the same time. */
    char *pos = NULL;
    for (char *tok = copy ? strtok_r(copy, ",", &pos) : NULL; st == DGN_OK && tok;
         tok = strtok_r(NULL, ",", &pos))
        items[n_items++] = trim(tok);
    if (st == DGN_OK)
        st = parse_step(g, items, n_items);
    for (size_t i = 0; st == DGN_OK && i < n_items; i++)
        if (items[i])
            st = parse_item(g, &ix, names, named, items[i], i);
    if (st == DGN_OK)
        st = check_and_count(g);
    free(items);
    free(named);
    dgn_names_free(&ix);
    free(copy);
    if (st != DGN_OK)
        dgn_grid_free(g);
    return st;
}

void dgn_grid_unrank(const dgn_grid *g, uint64_t index, int64_t *units)
{
    size_t w = (size_t)g->total + 1;
    int64_t rest = g->total;
    for (size_t i = 0; i + 1 < g->n_sel; i++) {
        int64_t a = g->lo[i];
        for (; a <= g->hi[i] && a <= rest; a++) {
            uint64_t n = g->ways[(i + 1) * w + (size_t)(rest - a)];
            if (index < n)
                break;
            index -= n;
        }
        units[i] = a;
        rest -= a;
    }
    units[g->n_sel - 1] = rest;
}

int dgn_grid_next(const dgn_grid *g, int64_t *units)
{
    size_t m = g->n_sel;
    if (m < 2)
        return 0;
    int64_t prefix = 0;
    for (size_t i = 0; i + 1 < m; i++)
        prefix += units[i];
    /* The rightmost free component that can grow with the rest still
     * completable; then the smallest completion after it. */
    for (size_t i = m - 1; i-- > 0;) {
        prefix -= units[i];
        int64_t a = units[i] + 1, rest = g->total - prefix - a;
        if (a > g->hi[i] || rest < 0 ||
            g->ways[(i + 1) * ((size_t)g->total + 1) + (size_t)rest] == 0)
            continue;
        units[i] = a;
        for (size_t j = i + 1; j + 1 < m; j++) {
            int64_t need = rest - g->max_rest[j + 1];
            units[j] = need > g->lo[j] ? need : g->lo[j];
            rest -= units[j];
        }
        units[m - 1] = rest;
        return 1;
    }
    return 0;
}

void dgn_grid_percent(const dgn_grid *g, const int64_t *units, double *percent)
{
    memset(percent, 0, g->n_comp * sizeof *percent);
    for (size_t i = 0; i < g->n_sel; i++)
        percent[g->comp[i]] = (double)units[i] * g->step;
}
