/* The ensemble handle (include/dgn/ensemble.h): members sharing one
 * context, their combined scores, and ensemble files.
 *
 * Ensemble file layout (K >= 2), every value little-endian:
 *   "DGNENSEM"            8-byte magic
 *   u32 format version    DGN_ENSEMBLE_FORMAT
 *   u64 file length       including the trailing CRC
 *   u32 K                 members, 2 .. DGN_ENSEMBLE_MAX_MEMBERS
 *   K x (u64 n, n bytes)  each member's model file image (lib/serialize.c)
 *   u32 CRC-32            (IEEE) of everything before it
 * K = 1 is saved as a plain model file, so that every reader of model
 * files reads it.
 */
#include "ensemble.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dgn/scoring.h"
#include "endian.h"
#include "error.h"
#include "fileio.h"
#include "model_internal.h"

#define DGN_ENSEMBLE_FORMAT 1u
/* Members' images are each below DGN_MODEL_MAX_FILE; the file as a whole
 * gets four times that. */
#define DGN_ENSEMBLE_MAX_FILE (4 * DGN_MODEL_MAX_FILE)
enum { HEADER = 8 + 4 + 8 + 4, CRC = 4 };

struct dgn_ensemble {
    dgn_model **m;
    size_t n;
};

dgn_status dgn_ensemble_create(dgn_ensemble **out)
{
    if (!out)
        return dgn_fail(DGN_E_INVALID, "dgn_ensemble_create: NULL argument");
    *out = calloc(1, sizeof **out);
    if (!*out)
        return dgn_fail_nomem("ensemble");
    (*out)->m = calloc(DGN_ENSEMBLE_MAX_MEMBERS, sizeof *(*out)->m);
    if (!(*out)->m) {
        free(*out);
        *out = NULL;
        return dgn_fail_nomem("ensemble");
    }
    return DGN_OK;
}

void dgn_ensemble_destroy(dgn_ensemble *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n; i++)
        dgn_model_destroy(e->m[i]);
    DGN_FREE_ALL(e->m, e);
}

size_t dgn_ensemble_size(const dgn_ensemble *e)
{
    return e ? e->n : 0;
}

dgn_model *dgn_ensemble_member(const dgn_ensemble *e, size_t i)
{
    return e && i < e->n ? e->m[i] : NULL;
}

/* ---- the shared context ---------------------------------------------- */

/* The context a member needs to score alone: names, property, range,
 * z-scores and centre. The reason names `who`. */
static dgn_status has_context(const dgn_model *m, const char *who)
{
    const dgn_model_config *c = dgn_model_cfg(m);
    double lo, hi, *st = malloc(2 * c->n_components * sizeof *st);
    float *centre = malloc(c->out_dim * sizeof *centre);
    dgn_status r = st && centre ? DGN_OK : dgn_fail_nomem("ensemble context");
    const char *what = NULL;
    if (r == DGN_OK && !dgn_model_component_name(m, 0))
        what = "component names";
    else if (r == DGN_OK && !dgn_model_property_name(m))
        what = "property name";
    else if (r == DGN_OK && (dgn_model_target_range(m, &lo, &hi) != DGN_OK ||
                             dgn_model_zscore_stats(m, st, st + c->n_components,
                                                    c->n_components) != DGN_OK ||
                             dgn_model_class_centre(m, centre, c->out_dim) != DGN_OK))
        what = "range, z-score statistics or centre";
    if (what)
        r = dgn_fail(DGN_E_DATA, "%s carries no %s: an ensemble member needs its context "
                     "(train it with dgn_trainer_fit or call dgn_model_attach_context)",
                     who, what);
    DGN_FREE_ALL(st, centre);
    return r;
}

/* What differs between the context of m and of member 0 a, into why; 0
 * when they agree. */
static int differs(char *why, size_t cap, const dgn_model *a, const dgn_model *m)
{
    size_t c = dgn_model_cfg(a)->n_components;
    char s1[256], s2[256];
    if (dgn_model_cfg(m)->n_components != c)
        return snprintf(why, cap, "%zu components, member 0 has %zu",
                        dgn_model_cfg(m)->n_components, c), 1;
    for (size_t j = 0; j < c; j++)
        if (strcmp(dgn_model_component_name(a, j), dgn_model_component_name(m, j)))
            return snprintf(why, cap, "component %zu is \"%s\", member 0's is \"%s\"", j,
                            dgn_printable(s1, sizeof s1, dgn_model_component_name(m, j)),
                            dgn_printable(s2, sizeof s2, dgn_model_component_name(a, j))), 1;
    if (dgn_model_units(a) != dgn_model_units(m))
        return snprintf(why, cap, "units %d, member 0's are %d", (int)dgn_model_units(m),
                        (int)dgn_model_units(a)), 1;
    if (strcmp(dgn_model_property_name(a), dgn_model_property_name(m)))
        return snprintf(why, cap, "property \"%s\", member 0's is \"%s\"",
                        dgn_printable(s1, sizeof s1, dgn_model_property_name(m)),
                        dgn_printable(s2, sizeof s2, dgn_model_property_name(a))), 1;
    double lo0, hi0, lo, hi;
    dgn_model_target_range(a, &lo0, &hi0);
    dgn_model_target_range(m, &lo, &hi);
    if (lo != lo0 || hi != hi0)
        return snprintf(why, cap, "range [%.17g, %.17g], member 0's is [%.17g, %.17g]", lo,
                        hi, lo0, hi0), 1;
    return 0;
}

/* The z-score statistics, which must agree bit for bit: the screener
 * z-scores a candidate once for every member. */
static dgn_status same_zscores(char *why, size_t cap, const dgn_model *a, const dgn_model *m)
{
    size_t c = dgn_model_cfg(a)->n_components;
    double *s = malloc(4 * c * sizeof *s);
    if (!s)
        return dgn_fail_nomem("ensemble context");
    dgn_model_zscore_stats(a, s, s + c, c);
    dgn_model_zscore_stats(m, s + 2 * c, s + 3 * c, c);
    why[0] = '\0';
    for (size_t j = 0; j < 2 * c && !why[0]; j++)
        if (s[j] != s[2 * c + j])
            snprintf(why, cap, "z-score %s of component %zu is %.17g, member 0's is %.17g",
                     j < c ? "mean" : "std", j % c, s[2 * c + j], s[j]);
    free(s);
    return DGN_OK;
}

/* Append m (owned from now on) after checking its context; status is the
 * code for a mismatch, `who` names the member in the message. On failure
 * m is destroyed. */
static dgn_status append(dgn_ensemble *e, dgn_model *m, const char *who, dgn_status status)
{
    char why[1024];
    dgn_status st = e->n < DGN_ENSEMBLE_MAX_MEMBERS ? DGN_OK
                    : dgn_fail(DGN_E_INVALID, "%s: the ensemble already holds %d members, "
                               "the most it can", who, DGN_ENSEMBLE_MAX_MEMBERS);
    if (st == DGN_OK)
        st = has_context(m, who);
    if (st == DGN_E_DATA && status != DGN_E_DATA)
        st = dgn_fail(status, "%s", dgn_last_error());
    if (st == DGN_OK && e->n > 0) {
        if (!differs(why, sizeof why, e->m[0], m))
            st = same_zscores(why, sizeof why, e->m[0], m);
        if (st == DGN_OK && why[0])
            st = dgn_fail(status, "%s does not share member 0's context: %s", who, why);
    }
    if (st != DGN_OK) {
        dgn_model_destroy(m);
        return st;
    }
    e->m[e->n++] = m;
    return DGN_OK;
}

/* A copy of src with its metadata, in evaluation mode, without threads. */
static dgn_status copy_member(dgn_model **out, const dgn_model *src)
{
    dgn_status st = dgn_model_clone(out, src);
    const char *name;
    for (size_t i = 0; st == DGN_OK && (name = dgn_model_meta_name(src, i)); i++) {
        const unsigned char *data;
        size_t size;
        dgn_model_meta_lookup(src, name, &data, &size);
        st = dgn_model_set_meta(*out, name, data, size);
    }
    if (st != DGN_OK) {
        dgn_model_destroy(*out);
        *out = NULL;
    }
    return st;
}

dgn_status dgn_ensemble_add(dgn_ensemble *e, const dgn_model *member)
{
    if (!e || !member)
        return dgn_fail(DGN_E_INVALID, "dgn_ensemble_add: NULL argument");
    char who[64];
    snprintf(who, sizeof who, "dgn_ensemble_add: member %zu", e->n);
    dgn_model *m;
    dgn_status st = copy_member(&m, member);
    return st == DGN_OK ? append(e, m, who, DGN_E_DATA) : st;
}

/* ---- scores ------------------------------------------------------------ */

void dgn_ensemble_combine(float *mean, float *spread, const float *s, size_t k,
                          size_t stride, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (k == 1) {
            mean[i] = s[i];
            if (spread)
                spread[i] = 0;
            continue;
        }
        double sum = 0, ss = 0;
        for (size_t j = 0; j < k; j++)
            sum += s[j * stride + i];
        double mu = sum / (double)k;
        mean[i] = (float)mu;
        if (!spread)
            continue;
        for (size_t j = 0; j < k; j++) {
            double d = s[j * stride + i] - mu;
            ss += d * d;
        }
        spread[i] = (float)sqrt(ss / (double)k);
    }
}

dgn_status dgn_ensemble_scores(float *mean, size_t mean_cap, float *spread, size_t spread_cap,
                               dgn_ensemble *e, const float *x, size_t n)
{
    if (!mean || !e || !x)
        return dgn_fail(DGN_E_INVALID, "dgn_ensemble_scores: NULL argument");
    if (e->n == 0)
        return dgn_fail(DGN_E_INVALID, "dgn_ensemble_scores: the ensemble has no members");
    if (mean_cap < n || (spread && spread_cap < n))
        return dgn_fail(DGN_E_SHAPE, "dgn_ensemble_scores: %s capacity %zu < %zu rows",
                        mean_cap < n ? "mean" : "spread", mean_cap < n ? mean_cap : spread_cap,
                        n);
    if (n == 0)
        return DGN_OK;
    if (n > SIZE_MAX / sizeof(float) / e->n)
        return dgn_fail_nomem("ensemble scores");
    size_t kmax = 0;
    for (size_t j = 0; j < e->n; j++)
        if (dgn_model_cfg(e->m[j])->out_dim > kmax)
            kmax = dgn_model_cfg(e->m[j])->out_dim;
    float *s = malloc(e->n * n * sizeof *s), *centre = malloc(kmax * sizeof *centre);
    dgn_status st = s && centre ? DGN_OK : dgn_fail_nomem("ensemble scores");
    for (size_t j = 0; st == DGN_OK && j < e->n; j++) {
        size_t k = dgn_model_cfg(e->m[j])->out_dim;
        st = dgn_model_class_centre(e->m[j], centre, k);
        if (st == DGN_OK)
            st = dgn_model_scores(s + j * n, n, e->m[j], centre, x, n);
    }
    if (st == DGN_OK)
        dgn_ensemble_combine(mean, spread, s, e->n, n, n);
    DGN_FREE_ALL(s, centre);
    return st;
}

/* ---- files ------------------------------------------------------------- */

dgn_status dgn_ensemble_save(const dgn_ensemble *e, const char *path)
{
    if (!e || !path)
        return dgn_fail(DGN_E_INVALID, "dgn_ensemble_save: NULL argument");
    if (e->n == 0)
        return dgn_fail(DGN_E_INVALID, "dgn_ensemble_save: %s: the ensemble has no members",
                        path);
    if (e->n == 1)
        return dgn_model_save(e->m[0], path);
    unsigned char **img = calloc(e->n, sizeof *img);
    size_t *len = calloc(e->n, sizeof *len);
    dgn_status st = img && len ? DGN_OK : dgn_fail_nomem("ensemble file image");
    uint64_t total = HEADER + CRC;
    for (size_t j = 0; st == DGN_OK && j < e->n; j++) {
        char where[64];
        snprintf(where, sizeof where, "dgn_ensemble_save: member %zu", j);
        st = dgn_model_image(e->m[j], where, path, &img[j], &len[j]);
        total += 8 + (uint64_t)len[j];
    }
    if (st == DGN_OK && total > DGN_ENSEMBLE_MAX_FILE)
        st = dgn_fail(DGN_E_INVALID, "dgn_ensemble_save: %s: the ensemble would take %llu "
                      "bytes, above the ensemble file limit of %llu", path,
                      (unsigned long long)total, (unsigned long long)DGN_ENSEMBLE_MAX_FILE);
    unsigned char *buf = st == DGN_OK ? malloc((size_t)total) : NULL;
    if (st == DGN_OK && !buf)
        st = dgn_fail_nomem("ensemble file image");
    if (st == DGN_OK) {
        unsigned char *p = buf;
        memcpy(p, DGN_ENSEMBLE_MAGIC, 8);
        dgn_put_u32le(p + 8, DGN_ENSEMBLE_FORMAT);
        dgn_put_u64le(p + 12, total);
        dgn_put_u32le(p + 20, (uint32_t)e->n);
        p += HEADER;
        for (size_t j = 0; j < e->n; j++) {
            dgn_put_u64le(p, len[j]);
            memcpy(p + 8, img[j], len[j]);
            p += 8 + len[j];
        }
        dgn_put_u32le(p, dgn_crc32(buf, (size_t)total - CRC));
        st = dgn_write_file_atomic(path, buf, (size_t)total);
    }
    for (size_t j = 0; img && j < e->n; j++)
        free(img[j]);
    DGN_FREE_ALL(img, len, buf);
    return st;
}

/* The frame of an ensemble file: version, length, K and CRC; *k is K. */
static dgn_status check_frame(const char *path, const unsigned char *buf, size_t len,
                              uint32_t *k)
{
    if (len < HEADER + CRC)
        return dgn_fail(DGN_E_FORMAT, "%s: truncated ensemble file: %zu bytes, shorter "
                        "than its header", path, len);
    uint32_t format = dgn_get_u32le(buf + 8);
    uint64_t total = dgn_get_u64le(buf + 12);
    *k = dgn_get_u32le(buf + 20);
    if (format != DGN_ENSEMBLE_FORMAT)
        return dgn_fail(DGN_E_FORMAT, "%s: ensemble file format version %u; this library "
                        "reads version %u%s", path, format, DGN_ENSEMBLE_FORMAT,
                        format > DGN_ENSEMBLE_FORMAT ? " (written by a newer libdgn)" : "");
    if (total != len)
        return dgn_fail(DGN_E_FORMAT, "%s: %s ensemble file: %zu bytes, the header says "
                        "%llu", path, total > len ? "truncated" : "oversized", len,
                        (unsigned long long)total);
    if (dgn_get_u32le(buf + len - CRC) != dgn_crc32(buf, len - CRC))
        return dgn_fail(DGN_E_FORMAT, "%s: checksum mismatch: the ensemble file is "
                        "corrupted", path);
    if (*k < 2 || *k > DGN_ENSEMBLE_MAX_MEMBERS)
        return dgn_fail(DGN_E_FORMAT, "%s: corrupted ensemble file: %lu members, outside "
                        "[2, %d]", path, (unsigned long)*k, DGN_ENSEMBLE_MAX_MEMBERS);
    return DGN_OK;
}

static dgn_status parse(dgn_ensemble *e, const char *path, const unsigned char *buf,
                        size_t len)
{
    uint32_t k = 0;
    dgn_status st = check_frame(path, buf, len, &k);
    const unsigned char *p = buf + HEADER, *end = buf + len - CRC;
    for (uint32_t j = 0; st == DGN_OK && j < k; j++) {
        char who[4200];
        snprintf(who, sizeof who, "%s (member %lu of %lu)", path, (unsigned long)j,
                 (unsigned long)k);
        uint64_t n = end - p >= 8 ? dgn_get_u64le(p) : 0;
        if (end - p < 8 || n > (uint64_t)(end - p) - 8)
            return dgn_fail(DGN_E_FORMAT, "%s: corrupted ensemble file: the member's "
                            "length runs past the end", who);
        dgn_model *m;
        st = dgn_model_parse_image(&m, who, p + 8, (size_t)n);
        if (st == DGN_OK)
            st = append(e, m, who, DGN_E_FORMAT);
        p += 8 + n;
    }
    if (st == DGN_OK && p != end)
        st = dgn_fail(DGN_E_FORMAT, "%s: corrupted ensemble file: %zu bytes after the "
                      "last member", path, (size_t)(end - p));
    return st;
}

dgn_status dgn_ensemble_load(dgn_ensemble **out, const char *path)
{
    if (!out || !path)
        return dgn_fail(DGN_E_INVALID, "dgn_ensemble_load: NULL argument");
    *out = NULL;
    char *buf = NULL;
    size_t len = 0;
    dgn_status st = dgn_read_file(path, DGN_ENSEMBLE_MAX_FILE, "model file", &buf, &len);
    if (st != DGN_OK)
        return st;
    dgn_ensemble *e = NULL;
    const unsigned char *u = (const unsigned char *)buf;
    if (len == 0)
        st = dgn_fail(DGN_E_FORMAT, "%s: empty file, not a model", path);
    else
        st = dgn_ensemble_create(&e);
    if (st == DGN_OK && len >= 8 && !memcmp(u, DGN_ENSEMBLE_MAGIC, 8)) {
        st = parse(e, path, u, len);
    } else if (st == DGN_OK) {
        /* Anything else is read as one model: its own checks name what is
         * wrong, the magic number first. */
        dgn_model *m;
        st = len <= DGN_MODEL_MAX_FILE ? dgn_model_parse_image(&m, path, u, len)
             : dgn_fail(DGN_E_FORMAT, "%s: %zu bytes, above the model file limit of %llu",
                        path, len, (unsigned long long)DGN_MODEL_MAX_FILE);
        if (st == DGN_OK)
            st = append(e, m, path, DGN_E_DATA);
    }
    free(buf);
    if (st != DGN_OK) {
        dgn_ensemble_destroy(e);
        return st;
    }
    *out = e;
    return DGN_OK;
}
