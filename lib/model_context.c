/* The context a model carries in its metadata (include/dgn/scoring.h):
 * component names, units, z-score statistics, property and range, class
 * centre and settings, with the checks that saving and loading apply. */
#include "dgn/scoring.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "centre.h"
#include "endian.h"
#include "error.h"
#include "model_internal.h"

/* Metadata names of the context. Binary values are little-endian. */
#define META_COMPONENTS "dgn.components" /* names, each NUL-terminated */
#define META_PROPERTY "dgn.property"     /* NUL-terminated */
#define META_RANGE "dgn.range"           /* f64 lo, f64 hi */
#define META_ZSCORE "dgn.zscore"         /* f64 mean[n], f64 std[n] */
#define META_CENTRE "dgn.centre"         /* f32 centre[out_dim] */
#define META_UNITS "dgn.units"           /* u32 dgn_units */
#define META_SETTINGS "dgn.settings"     /* text, NUL-terminated */

dgn_status dgn_model_attach_context(dgn_model *m, const dgn_dataset *ds, const float *centre,
                                    const char *settings)
{
    dgn_status st = dgn_check_model_data(m, ds, "dgn_model_attach_context");
    if (st != DGN_OK)
        return st;
    if (!centre)
        return dgn_fail(DGN_E_INVALID, "dgn_model_attach_context: centre is NULL");
    size_t c = dgn_model_cfg(m)->n_components, k = dgn_model_cfg(m)->out_dim, names_len = 0;
    for (size_t i = 0; i < c; i++)
        names_len += strlen(dgn_dataset_component_name(ds, i)) + 1;
    unsigned char *buf = malloc(names_len + 16 * c + 4 * k + 32);
    if (!buf)
        return dgn_fail_nomem("model context");

    unsigned char *p = buf;
    for (size_t i = 0; i < c; i++) {
        size_t len = strlen(dgn_dataset_component_name(ds, i)) + 1;
        memcpy(p, dgn_dataset_component_name(ds, i), len);
        p += len;
    }
    st = dgn_model_set_meta(m, META_COMPONENTS, buf, names_len);
    const char *prop = dgn_dataset_property_name(ds);
    if (st == DGN_OK)
        st = dgn_model_set_meta(m, META_PROPERTY, prop, strlen(prop) + 1);

    double *mean = malloc(2 * c * sizeof *mean);
    if (st == DGN_OK && !mean)
        st = dgn_fail_nomem("model context");
    if (st == DGN_OK)
        st = dgn_dataset_zscore_stats(ds, mean, mean + c, c);
    if (st == DGN_OK) {
        for (size_t i = 0; i < 2 * c; i++)
            dgn_put_f64le(buf + 8 * i, mean[i]);
        st = dgn_model_set_meta(m, META_ZSCORE, buf, 16 * c);
    }
    free(mean);
    if (st == DGN_OK) {
        for (size_t j = 0; j < k; j++)
            dgn_put_f32le(buf + 4 * j, centre[j]);
        st = dgn_model_set_meta(m, META_CENTRE, buf, 4 * k);
    }
    if (st == DGN_OK) {
        /* The labels' range, recovered from the dataset's config. */
        dgn_put_f64le(buf, dgn_dataset_target_lo(ds));
        dgn_put_f64le(buf + 8, dgn_dataset_target_hi(ds));
        st = dgn_model_set_meta(m, META_RANGE, buf, 16);
    }
    if (st == DGN_OK) {
        dgn_put_u32le(buf, (uint32_t)dgn_dataset_units(ds));
        st = dgn_model_set_meta(m, META_UNITS, buf, 4);
    }
    if (st == DGN_OK && settings)
        st = dgn_model_set_meta(m, META_SETTINGS, settings, strlen(settings) + 1);
    free(buf);
    return st;
}

/* The blob `name` when it has exactly `size` bytes (or any size when
 * size is 0); NULL otherwise. */
static const unsigned char *blob(const dgn_model *m, const char *name, size_t size,
                                 size_t *got)
{
    const unsigned char *b;
    size_t n;
    if (!dgn_model_meta_lookup(m, name, &b, &n) || (size && n != size))
        return NULL;
    if (got)
        *got = n;
    return b;
}

/* ---- checks of the stored context -------------------------------------- */

static const char *nonfinite_name(double v)
{
    return isnan(v) ? "NaN" : v > 0 ? "inf" : "-inf";
}

/* A present entry of the wrong size; NULL and DGN_OK when absent. */
static dgn_status sized(const unsigned char **b, const dgn_model *m, const char *name,
                        size_t size, const char *what, const char *where)
{
    const unsigned char *data;
    size_t got;
    *b = NULL;
    if (!dgn_model_meta_lookup(m, name, &data, &got))
        return DGN_OK;
    if (got != size)
        return dgn_fail(DGN_E_FORMAT, "%s: %s (metadata %s) holds %zu bytes, expected %zu",
                        where, what, name, got, size);
    *b = data;
    return DGN_OK;
}

/* " (\"W% SiO2\")" for component i when the model names it, else "". */
static const char *component_label(const dgn_model *m, size_t i, char *buf, size_t cap)
{
    const char *nm = dgn_model_component_name(m, i);
    char shown[256];
    if (nm)
        snprintf(buf, cap, " (\"%s\")", dgn_printable(shown, sizeof shown, nm));
    else
        buf[0] = '\0';
    return buf;
}

static dgn_status check_zscore(const dgn_model *m, const char *where)
{
    size_t c = dgn_model_cfg(m)->n_components;
    const unsigned char *b;
    dgn_status st = sized(&b, m, META_ZSCORE, 16 * c, "z-score statistics", where);
    char label[300];
    for (size_t i = 0; b && st == DGN_OK && i < c; i++) {
        double mean = dgn_get_f64le(b + 8 * i), sd = dgn_get_f64le(b + 8 * (c + i));
        if (!isfinite(mean))
            return dgn_fail(DGN_E_NONFINITE, "%s: z-score mean[%zu]%s (metadata %s) is %s",
                            where, i, component_label(m, i, label, sizeof label),
                            META_ZSCORE, nonfinite_name(mean));
        if (!isfinite(sd))
            return dgn_fail(DGN_E_NONFINITE, "%s: z-score std[%zu]%s (metadata %s) is %s",
                            where, i, component_label(m, i, label, sizeof label),
                            META_ZSCORE, nonfinite_name(sd));
        if (!(sd > 0))
            return dgn_fail(DGN_E_FORMAT, "%s: z-score std[%zu]%s (metadata %s) is %g; a "
                            "standard deviation must be positive", where, i,
                            component_label(m, i, label, sizeof label), META_ZSCORE, sd);
    }
    return st;
}

static dgn_status check_centre(const dgn_model *m, const char *where)
{
    size_t k = dgn_model_cfg(m)->out_dim;
    const unsigned char *b;
    dgn_status st = sized(&b, m, META_CENTRE, 4 * k, "class centre", where);
    for (size_t j = 0; b && st == DGN_OK && j < k; j++) {
        float v = dgn_get_f32le(b + 4 * j);
        if (!isfinite(v))
            return dgn_fail(DGN_E_NONFINITE, "%s: class centre[%zu] (metadata %s) is %s",
                            where, j, META_CENTRE, nonfinite_name(v));
    }
    return st;
}

static dgn_status check_range(const dgn_model *m, const char *where)
{
    const unsigned char *b;
    dgn_status st = sized(&b, m, META_RANGE, 16, "target range", where);
    if (!b || st != DGN_OK)
        return st;
    double lo = dgn_get_f64le(b), hi = dgn_get_f64le(b + 8);
    if (!isfinite(lo) || !isfinite(hi))
        return dgn_fail(DGN_E_NONFINITE, "%s: target range (metadata %s) is [%g, %g]; "
                        "both ends must be finite", where, META_RANGE, lo, hi);
    if (lo > hi)
        return dgn_fail(DGN_E_FORMAT, "%s: target range (metadata %s): lo %g is above "
                        "hi %g", where, META_RANGE, lo, hi);
    return DGN_OK;
}

/* A NUL-terminated text entry, with no NUL before its end. */
static dgn_status check_text(const dgn_model *m, const char *name, const char *what,
                             size_t min_len, const char *where)
{
    const unsigned char *b;
    size_t n;
    if (dgn_model_meta_lookup(m, name, &b, &n) &&
        (n < min_len + 1 || memchr(b, '\0', n) != b + n - 1))
        return dgn_fail(DGN_E_FORMAT, "%s: %s (metadata %s) is not one NUL-terminated%s "
                        "text", where, what, name, min_len ? ", non-empty" : "");
    return DGN_OK;
}

static dgn_status check_components(const dgn_model *m, const char *where)
{
    const unsigned char *b;
    size_t size;
    if (!dgn_model_meta_lookup(m, META_COMPONENTS, &b, &size))
        return DGN_OK;
    size_t names = 0, c = dgn_model_cfg(m)->n_components;
    int empty = 0;
    for (size_t i = 0, start = 0; i < size; i++)
        if (b[i] == '\0') {
            empty |= i == start;
            names++;
            start = i + 1;
        }
    if (size == 0 || b[size - 1] != '\0' || names != c || empty)
        return dgn_fail(DGN_E_FORMAT, "%s: component names (metadata %s): need %zu "
                        "non-empty, NUL-terminated names, found %zu%s", where,
                        META_COMPONENTS, c, names,
                        empty ? " (some empty)"
                        : size && b[size - 1] ? " and unterminated text" : "");
    return DGN_OK;
}

dgn_status dgn_model_check_context(const dgn_model *m, const char *where)
{
    dgn_status st = check_components(m, where);
    if (st == DGN_OK)
        st = check_text(m, META_PROPERTY, "property name", 1, where);
    if (st == DGN_OK)
        st = check_text(m, META_SETTINGS, "settings", 0, where);
    if (st == DGN_OK)
        st = check_range(m, where);
    if (st == DGN_OK)
        st = check_zscore(m, where);
    if (st == DGN_OK)
        st = check_centre(m, where);
    const unsigned char *b;
    if (st == DGN_OK && (st = sized(&b, m, META_UNITS, 4, "units", where)) == DGN_OK && b) {
        uint32_t u = dgn_get_u32le(b);
        if (u != DGN_UNITS_AUTO && u != DGN_UNITS_FRACTION && u != DGN_UNITS_PERCENT)
            st = dgn_fail(DGN_E_FORMAT, "%s: units (metadata %s) is %u, not a dgn_units "
                          "value", where, META_UNITS, u);
    }
    return st;
}

static const char *text_blob(const dgn_model *m, const char *name)
{
    size_t n;
    const unsigned char *b = blob(m, name, 0, &n);
    return b && n && b[n - 1] == '\0' ? (const char *)b : NULL;
}

const char *dgn_model_component_name(const dgn_model *m, size_t i)
{
    size_t n;
    const unsigned char *b = blob(m, META_COMPONENTS, 0, &n);
    if (!b || i >= dgn_model_cfg(m)->n_components || n == 0 || b[n - 1] != '\0')
        return NULL;
    const char *p = (const char *)b, *end = p + n;
    while (i-- && p < end)
        p += strlen(p) + 1;
    return p < end ? p : NULL;
}

const char *dgn_model_property_name(const dgn_model *m)
{
    return text_blob(m, META_PROPERTY);
}

const char *dgn_model_settings(const dgn_model *m)
{
    return text_blob(m, META_SETTINGS);
}

static dgn_status missing(const char *what)
{
    return dgn_fail(DGN_E_DATA, "the model carries no %s (train it with dgn_trainer_fit "
                    "or call dgn_model_attach_context)", what);
}

/* n values of the entry `name` (`size` bytes once `check` accepts it),
 * from value `first` on: f64 into d, or f32 into f, for the call `fn`
 * whose buffer holds cap values. */
static dgn_status copy_out(double *d, float *f, size_t cap, const dgn_model *m,
                           const char *fn, dgn_status (*check)(const dgn_model *, const char *),
                           const char *name, size_t size, const char *what, size_t first,
                           size_t n)
{
    dgn_status st = check(m, fn);
    if (st != DGN_OK)
        return st;
    const unsigned char *b = blob(m, name, size, NULL);
    if (!b)
        return missing(what);
    if (cap < n)
        return dgn_fail(DGN_E_SHAPE, "%s: capacity %zu < %zu", fn, cap, n);
    for (size_t i = 0; i < n; i++) {
        if (d)
            d[i] = dgn_get_f64le(b + 8 * (first + i));
        else
            f[i] = dgn_get_f32le(b + 4 * (first + i));
    }
    return DGN_OK;
}

dgn_status dgn_model_target_range(const dgn_model *m, double *lo, double *hi)
{
    if (!m || !lo || !hi)
        return dgn_fail(DGN_E_INVALID, "dgn_model_target_range: NULL argument");
    double r[2] = {0, 0};
    dgn_status st = copy_out(r, NULL, 2, m, "dgn_model_target_range", check_range,
                             META_RANGE, 16, "target range", 0, 2);
    if (st == DGN_OK) {
        *lo = r[0];
        *hi = r[1];
    }
    return st;
}

/* The entry holds mean[n] then std[n]. */
dgn_status dgn_model_zscore_stats(const dgn_model *m, double *mean, double *std, size_t cap)
{
    if (!m || !mean || !std)
        return dgn_fail(DGN_E_INVALID, "dgn_model_zscore_stats: NULL argument");
    size_t c = dgn_model_cfg(m)->n_components;
    dgn_status st = copy_out(mean, NULL, cap, m, "dgn_model_zscore_stats", check_zscore,
                             META_ZSCORE, 16 * c, "z-score statistics", 0, c);
    return st != DGN_OK ? st
                        : copy_out(std, NULL, cap, m, "dgn_model_zscore_stats", check_zscore,
                                   META_ZSCORE, 16 * c, "z-score statistics", c, c);
}

dgn_status dgn_model_class_centre(const dgn_model *m, float *centre, size_t cap)
{
    if (!m || !centre)
        return dgn_fail(DGN_E_INVALID, "dgn_model_class_centre: NULL argument");
    size_t k = dgn_model_cfg(m)->out_dim;
    return copy_out(NULL, centre, cap, m, "dgn_model_class_centre", check_centre,
                    META_CENTRE, 4 * k, "class centre", 0, k);
}

dgn_units dgn_model_units(const dgn_model *m)
{
    const unsigned char *b = blob(m, META_UNITS, 4, NULL);
    return b ? (dgn_units)dgn_get_u32le(b) : DGN_UNITS_AUTO;
}
