#include "csv.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

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
            line += *p == '\n';
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
    zero(r);
    FILE *f = fopen(path, "rb");
    if (!f)
        return dgn_fail(DGN_E_IO, "%s: cannot open: %s", path, strerror(errno));

    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    dgn_status st = DGN_OK;
    while (buf) {
        if (len + 1 >= cap) {
            char *bigger = cap < SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - 1 - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f))
                st = dgn_fail(DGN_E_IO, "%s: read error: %s", path, strerror(errno));
            break;
        }
    }
    fclose(f);
    if (!buf)
        return dgn_fail_nomem("CSV file contents");
    if (st != DGN_OK) {
        free(buf);
        return st;
    }
    buf[len] = '\0';
    r->buf = buf;
    r->len = len;
    return init_common(r, path);
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
    free(r->buf);
    free(r->name);
    free(r->field);
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

/* Length of the line end at p: 1 for LF, 2 for CRLF, 1 for a CR that ends
 * the input, 0 otherwise. */
static size_t eol_len(const dgn_csv *r, size_t p)
{
    if (p >= r->len)
        return 0;
    if (r->buf[p] == '\n')
        return 1;
    if (r->buf[p] == '\r') {
        if (p + 1 < r->len && r->buf[p + 1] == '\n')
            return 2;
        if (p + 1 == r->len)
            return 1;
    }
    return 0;
}

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
                if (c == '\n')
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

static const char *short_name(const char *name)
{
    const char *sp = strrchr(name, ' ');
    return sp ? sp + 1 : name;
}

dgn_status dgn_find_name(const char *const *names, size_t first, size_t n,
                         const char *name, const char *where, const char *role,
                         const char *kind, size_t *idx)
{
    for (size_t i = first; i < n; i++)
        if (strcmp(names[i], name) == 0) {
            *idx = i;
            return DGN_OK;
        }
    size_t found = SIZE_MAX;
    const char *wanted = short_name(name);
    for (size_t i = first; i < n; i++) {
        if (strcmp(short_name(names[i]), wanted) != 0)
            continue;
        if (found != SIZE_MAX)
            return dgn_fail(DGN_E_INVALID,
                            "%s: %s name \"%s\" is ambiguous: %ss %zu (\"%s\") "
                            "and %zu (\"%s\") both match", where, role, name, kind,
                            found + 1, names[found], i + 1, names[i]);
        found = i;
    }
    if (found == SIZE_MAX) {
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
    *idx = found;
    return DGN_OK;
}

dgn_status dgn_csv_find_column(const dgn_csv *r, size_t first, const char *name,
                               const char *role, size_t *col)
{
    return dgn_find_name((const char *const *)r->field, first, r->n_field, name, r->name,
                         role, "column", col);
}
