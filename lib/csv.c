#include "csv.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "fileio.h"

static dgn_status init_common(dgn_csv *r, const char *name)
{
    r->pos = 0;
    r->line = 1;
    r->record_line = 0;
    r->field = NULL;
    r->n_field = r->cap_field = 0;
    r->name = strdup(name);
    r->c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (!r->name || r->c_locale == (locale_t)0)
        return dgn_fail_nomem("CSV reader");

    /* A NUL byte would silently cut a field short: reject it up front. */
    const char *nul = memchr(r->buf, '\0', r->len);
    if (nul) {
        size_t line = 1;
        for (const char *p = r->buf; p < nul; p++)
            line += *p == '\n' || (*p == '\r' && p[1] != '\n');
        return dgn_fail(DGN_E_FORMAT, "%s:%zu: NUL byte in text file", name, line);
    }
    if (r->len >= 3 && memcmp(r->buf, "\xEF\xBB\xBF", 3) == 0)
        r->pos = 3;
    return DGN_OK;
}

static void zero(dgn_csv *r)
{
    memset(r, 0, sizeof *r);
    r->c_locale = (locale_t)0;
}

dgn_status dgn_csv_open_file(dgn_csv *r, const char *path)
{
    return dgn_csv_open_file_capped(r, path, DGN_CSV_MAX_BYTES);
}

dgn_status dgn_csv_open_file_capped(dgn_csv *r, const char *path, size_t max_bytes)
{
    zero(r);
    dgn_status st = dgn_read_file(path, max_bytes, "table", &r->buf, &r->len);
    return st == DGN_OK ? init_common(r, path) : st;
}

dgn_status dgn_csv_open_buffer(dgn_csv *r, const char *name,
                               const char *data, size_t len)
{
    zero(r);
    r->buf = malloc(len + 1);
    if (!r->buf)
        return dgn_fail_nomem("CSV buffer");
    if (len)
        memcpy(r->buf, data, len);
    r->buf[len] = '\0';
    r->len = len;
    return init_common(r, name);
}

void dgn_csv_close(dgn_csv *r)
{
    if (!r)
        return;
    DGN_FREE_ALL(r->buf, r->name, r->field);
    if (r->c_locale != (locale_t)0)
        freelocale(r->c_locale);
    zero(r);
}

static dgn_status push_field(dgn_csv *r, char *text)
{
    if (r->n_field == r->cap_field) {
        size_t cap = r->cap_field ? r->cap_field * 2 : 32;
        char **f = realloc(r->field, cap * sizeof *f);
        if (!f)
            return dgn_fail_nomem("CSV fields");
        r->field = f;
        r->cap_field = cap;
    }
    r->field[r->n_field++] = text;
    return DGN_OK;
}

/* Length of the line end at p: 1 for LF, 2 for CRLF, 1 for a lone CR (old
 * Mac files), 0 otherwise. */
static size_t eol_len(const dgn_csv *r, size_t p)
{
    if (p >= r->len)
        return 0;
    if (r->buf[p] == '\n')
        return 1;
    if (r->buf[p] == '\r')
        return p + 1 < r->len && r->buf[p + 1] == '\n' ? 2 : 1;
    return 0;
}

static const char BOM[] = "\xEF\xBB\xBF";

dgn_status dgn_csv_next(dgn_csv *r, int *got)
{
    *got = 0;
    r->n_field = 0;

    size_t e;
    while (r->pos < r->len && (e = eol_len(r, r->pos)) != 0) {
        r->pos += e;
        r->line++;
    }
    if (r->pos >= r->len)
        return DGN_OK;

    r->record_line = r->line;
    for (;;) {
        char *start = r->buf + r->pos;
        size_t column = r->n_field + 1;
        dgn_status st;
        if (*start == '"') {
            char *w = start;
            size_t open_line = r->line;
            r->pos++;
            for (;;) {
                if (r->pos >= r->len)
                    return dgn_fail(DGN_E_FORMAT,
                                    "%s:%zu: column %zu: quoted field is never closed",
                                    r->name, open_line, column);
                char c = r->buf[r->pos];
                if (c == '"') {
                    if (r->pos + 1 < r->len && r->buf[r->pos + 1] == '"') {
                        *w++ = '"';
                        r->pos += 2;
                        continue;
                    }
                    r->pos++;
                    break;
                }
                if (c == '\n' || (c == '\r' && r->buf[r->pos + 1] != '\n'))
                    r->line++;
                *w++ = c;
                r->pos++;
            }
            if (r->pos < r->len && r->buf[r->pos] != ',' && eol_len(r, r->pos) == 0)
                return dgn_fail(DGN_E_FORMAT,
                                "%s:%zu: column %zu: unexpected '%c' after a closing quote",
                                r->name, r->line, column, r->buf[r->pos]);
            /* Unescaping drops at least the two quotes, so w stays short
             * of the delimiter at r->pos. */
            *w = '\0';
        } else {
            while (r->pos < r->len && r->buf[r->pos] != ',' && eol_len(r, r->pos) == 0)
                r->pos++;
        }
        if ((st = push_field(r, start)) != DGN_OK)
            return st;

        if (r->pos >= r->len) {
            r->buf[r->pos] = '\0';
            break;
        }
        if (r->buf[r->pos] == ',') {
            r->buf[r->pos++] = '\0';
            continue;
        }
        e = eol_len(r, r->pos);
        r->buf[r->pos] = '\0';
        r->pos += e;
        r->line++;
        break;
    }
    /* Invisible in every message that would quote the field: name it. */
    for (size_t i = 0; i < r->n_field; i++)
        if (strstr(r->field[i], BOM))
            return dgn_fail(DGN_E_FORMAT, "%s:%zu: column %zu: U+FEFF byte-order mark "
                            "inside the file (it may only start the file; were two "
                            "files joined?)", r->name, r->record_line, i + 1);
    *got = 1;
    return DGN_OK;
}

dgn_csv_number dgn_csv_parse_number(const dgn_csv *r, const char *text, double *value)
{
    while (*text == ' ' || *text == '\t')
        text++;
    if (*text == '\0')
        return DGN_CSV_EMPTY;
    char *end;
    errno = 0;
    double v = strtod_l(text, &end, r->c_locale);
    if (end == text)
        return DGN_CSV_NOT_NUMBER;
    while (*end == ' ' || *end == '\t')
        end++;
    if (*end != '\0')
        return DGN_CSV_NOT_NUMBER;
    *value = v;
    /* strtod flags underflow with ERANGE too; only overflow is non-finite. */
    if (!isfinite(v))
        return DGN_CSV_NONFINITE;
    return DGN_CSV_NUMBER;
}

/* A name without the white space around it, as (start, length). */
typedef struct span {
    const char *p;
    size_t n;
} span;

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static span trimmed(const char *s)
{
    while (is_ws(*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && is_ws(s[n - 1]))
        n--;
    return (span){s, n};
}

static int span_eq(span a, span b)
{
    return a.n == b.n && memcmp(a.p, b.p, a.n) == 0;
}

/* The last space-separated word of a trimmed name. */
static span short_name(span s)
{
    for (size_t i = s.n; i-- > 0;)
        if (s.p[i] == ' ')
            return (span){s.p + i + 1, s.n - i - 1};
    return s;
}

static uint64_t span_hash(span s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < s.n; i++)
        h = (h ^ (unsigned char)s.p[i]) * 0x100000001b3ULL;
    return h;
}

dgn_status dgn_csv_check_header(const dgn_csv *r, size_t first, int allow_empty)
{
    size_t n = r->n_field, size = 16;
    while (size < 2 * n)
        size *= 2;
    size_t *slot = calloc(size, sizeof *slot); /* column + 1, 0 = empty */
    if (!slot)
        return dgn_fail_nomem("CSV header check");
    dgn_status st = DGN_OK;
    for (size_t i = first; st == DGN_OK && i < n; i++) {
        span name = trimmed(r->field[i]);
        if (name.n == 0) {
            if (!allow_empty)
                st = dgn_fail(DGN_E_FORMAT, "%s:%zu: column %zu has an empty name",
                              r->name, r->record_line, i + 1);
            continue;
        }
        size_t h = (size_t)span_hash(name) & (size - 1);
        while (slot[h] && !span_eq(trimmed(r->field[slot[h] - 1]), name))
            h = (h + 1) & (size - 1);
        if (!slot[h]) {
            slot[h] = i + 1;
            continue;
        }
        size_t j = slot[h] - 1;
        if (strcmp(r->field[i], r->field[j]) == 0)
            st = dgn_fail(DGN_E_FORMAT, "%s:%zu: columns %zu and %zu are both named \"%s\"",
                          r->name, r->record_line, j + 1, i + 1, r->field[i]);
        else
            st = dgn_fail(DGN_E_FORMAT, "%s:%zu: columns %zu (\"%s\") and %zu (\"%s\") are "
                          "both named \"%.*s\" (white space around a name is ignored)",
                          r->name, r->record_line, j + 1, r->field[j], i + 1, r->field[i],
                          (int)name.n, name.p);
    }
    free(slot);
    return st;
}

static dgn_status ambiguous(const char *const *names, const char *name, const char *where,
                           const char *role, const char *kind, size_t a, size_t b)
{
    return dgn_fail(DGN_E_INVALID, "%s: %s name \"%s\" is ambiguous: %ss %zu (\"%s\") "
                    "and %zu (\"%s\") both match", where, role, name, kind, a + 1, names[a],
                    b + 1, names[b]);
}

static dgn_status not_found(const char *const *names, size_t first, size_t n,
                            const char *name, const char *where, const char *role,
                            const char *kind)
{
    char list[256];
    size_t used = 0;
    list[0] = '\0';
    for (size_t i = first; i < n && used + 1 < sizeof list; i++) {
        int w = snprintf(list + used, sizeof list - used, "%s\"%s\"",
                         i > first ? ", " : "", names[i]);
        if (w < 0 || (size_t)w >= sizeof list - used) {
            snprintf(list + (sizeof list - 5), 5, "...");
            break;
        }
        used += (size_t)w;
    }
    return dgn_fail(DGN_E_INVALID, "%s: no %s named \"%s\" for the %s (%ss: %s)",
                    where, kind, name, role, kind, list);
}

dgn_status dgn_find_name(const char *const *names, size_t first, size_t n,
                         const char *name, const char *where, const char *role,
                         const char *kind, size_t *idx)
{
    span full = trimmed(name);
    for (size_t i = first; i < n; i++)
        if (span_eq(trimmed(names[i]), full)) {
            *idx = i;
            return DGN_OK;
        }
    size_t found = SIZE_MAX;
    span wanted = short_name(full);
    for (size_t i = first; i < n; i++) {
        if (!span_eq(short_name(trimmed(names[i])), wanted))
            continue;
        if (found != SIZE_MAX)
            return ambiguous(names, name, where, role, kind, found, i);
        found = i;
    }
    if (found == SIZE_MAX)
        return not_found(names, first, n, name, where, role, kind);
    *idx = found;
    return DGN_OK;
}

void dgn_names_free(dgn_names *ix)
{
    if (!ix)
        return;
    free(ix->slot);
    memset(ix, 0, sizeof *ix);
}

/* Slot of key in a table keyed by trimmed names (by_word: last words). */
static size_t probe(const dgn_names *ix, const size_t *table, span key, int by_word)
{
    size_t h = (size_t)span_hash(key) & (ix->size - 1);
    while (table[h]) {
        span have = trimmed(ix->names[table[h] - 1]);
        if (span_eq(by_word ? short_name(have) : have, key))
            break;
        h = (h + 1) & (ix->size - 1);
    }
    return h;
}

dgn_status dgn_names_build(dgn_names *ix, const char *const *names, size_t first, size_t n)
{
    memset(ix, 0, sizeof *ix);
    ix->names = names;
    ix->first = first;
    ix->n = n;
    ix->size = 16;
    while (ix->size < 2 * n)
        ix->size *= 2;
    ix->slot = calloc(3 * ix->size, sizeof *ix->slot);
    if (!ix->slot)
        return dgn_fail_nomem("name index");
    size_t *full = ix->slot, *word = full + ix->size, *word2 = word + ix->size;
    for (size_t i = first; i < n; i++) {
        span name = trimmed(names[i]);
        size_t h = probe(ix, full, name, 0);
        if (!full[h])
            full[h] = i + 1;
        h = probe(ix, word, short_name(name), 1);
        if (!word[h])
            word[h] = i + 1;
        else if (!word2[h])
            word2[h] = i + 1;
    }
    return DGN_OK;
}

dgn_status dgn_names_find(const dgn_names *ix, const char *name, const char *where,
                          const char *role, const char *kind, size_t *idx)
{
    const size_t *full = ix->slot, *word = full + ix->size, *word2 = word + ix->size;
    span key = trimmed(name);
    size_t h = probe(ix, full, key, 0);
    if (full[h]) {
        *idx = full[h] - 1;
        return DGN_OK;
    }
    h = probe(ix, word, short_name(key), 1);
    if (!word[h])
        return not_found(ix->names, ix->first, ix->n, name, where, role, kind);
    if (word2[h])
        return ambiguous(ix->names, name, where, role, kind, word[h] - 1, word2[h] - 1);
    *idx = word[h] - 1;
    return DGN_OK;
}

dgn_status dgn_csv_find_column(const dgn_csv *r, size_t first, const char *name,
                               const char *role, size_t *col)
{
    return dgn_find_name((const char *const *)r->field, first, r->n_field, name, r->name,
                         role, "column", col);
}
