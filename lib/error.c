#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Thread-local, so concurrent handles never see each other's messages.
 * Large enough for a full path and a value; longer messages are shortened
 * in the middle (see shorten), since the bad value is usually at the end. */
static _Thread_local char last_error[DGN_ERROR_CAP];

/* Quoted values longer than this keep their first and last QUOTE_KEEP
 * bytes around an ellipsis. */
#define QUOTE_LONG 512
#define QUOTE_KEEP 160

static const char ellipsis[] = "\xe2\x80\xa6"; /* U+2026, 3 bytes */

/* Move a cut point off UTF-8 continuation bytes so no character is split. */
static size_t back_to_char(const char *s, size_t i)
{
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
        i--;
    return i;
}

static size_t fwd_to_char(const char *s, size_t i, size_t len)
{
    while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
        i++;
    return i;
}

/* Append len bytes of s to out (capacity cap, *n used), never past cap - 1. */
static void put(char *out, size_t cap, size_t *n, const char *s, size_t len)
{
    if (*n + len > cap - 1)
        len = cap - 1 - *n;
    memcpy(out + *n, s, len);
    *n += len;
}

/* Write msg (len bytes) into out[cap]: every quoted value over QUOTE_LONG
 * bytes keeps its start and end around "…"; if that is still too long,
 * the middle of the whole message goes, so the location at the start and
 * the value at the end both survive. */
static void shorten(char *out, size_t cap, char *msg, size_t len)
{
    size_t w = 0;
    for (size_t r = 0; r < len;) {
        const char *close = msg[r] == '"' ? memchr(msg + r + 1, '"', len - r - 1) : NULL;
        size_t inner = close ? (size_t)(close - msg) - r - 1 : 0;
        if (close && inner > QUOTE_LONG) {
            size_t a = back_to_char(msg, r + 1 + QUOTE_KEEP);
            size_t b = fwd_to_char(msg, (size_t)(close - msg) - QUOTE_KEEP, len);
            memmove(msg + w, msg + r, a - r);
            w += a - r;
            memcpy(msg + w, ellipsis, 3);
            w += 3;
            r = b; /* copy on through the closing quote */
            size_t end = (size_t)(close - msg) + 1;
            memmove(msg + w, msg + r, end - r);
            w += end - r;
            r = end;
        } else {
            size_t end = close ? (size_t)(close - msg) + 1 : r + 1;
            memmove(msg + w, msg + r, end - r);
            w += end - r;
            r = end;
        }
    }
    len = w;
    size_t n = 0;
    if (len < cap) {
        put(out, cap, &n, msg, len);
    } else {
        size_t keep = cap - 1 - 3, head = back_to_char(msg, keep / 3);
        size_t tail = fwd_to_char(msg, len - (keep - head), len);
        put(out, cap, &n, msg, head);
        put(out, cap, &n, ellipsis, 3);
        put(out, cap, &n, msg + tail, len - tail);
    }
    out[n] = '\0';
}

dgn_status dgn_fail(dgn_status status, const char *fmt, ...)
{
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    int len = vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    if (len >= (int)sizeof last_error) {
        /* Rare and on an error path: format whole, then shorten. Without
         * memory the message keeps its start, marked as cut. */
        char *full = malloc((size_t)len + 1);
        if (full) {
            vsnprintf(full, (size_t)len + 1, fmt, again);
            shorten(last_error, sizeof last_error, full, (size_t)len);
            free(full);
        } else {
            size_t cut = back_to_char(last_error, sizeof last_error - 4);
            memcpy(last_error + cut, ellipsis, 4);
        }
    }
    va_end(again);
    return status;
}

dgn_status dgn_fail_nomem(const char *what)
{
    return dgn_fail(DGN_E_NOMEM, "out of memory allocating %s", what);
}

const char *dgn_last_error(void)
{
    return last_error;
}

const char *dgn_status_str(dgn_status status)
{
    switch (status) {
    case DGN_OK: return "DGN_OK";
    case DGN_E_GENERIC: return "DGN_E_GENERIC";
    case DGN_E_INVALID: return "DGN_E_INVALID";
    case DGN_E_NOMEM: return "DGN_E_NOMEM";
    case DGN_E_IO: return "DGN_E_IO";
    case DGN_E_FORMAT: return "DGN_E_FORMAT";
    case DGN_E_SHAPE: return "DGN_E_SHAPE";
    case DGN_E_NONFINITE: return "DGN_E_NONFINITE";
    case DGN_E_DATA: return "DGN_E_DATA";
    }
    return "DGN_E_UNKNOWN";
}

dgn_status dgn_config_init(void *cfg, unsigned int version, unsigned int known,
                           const char *fn, const void *defaults, size_t size)
{
    if (!cfg)
        return dgn_fail(DGN_E_INVALID, "%s: cfg is NULL", fn);
    /* docs/api.md: a newer library keeps accepting older versions. */
    if (version == 0 || version > known)
        return dgn_fail(DGN_E_INVALID, "%s: version %u is not supported (this library "
                        "knows versions 1 to %u)", fn, version, known);
    memcpy(cfg, defaults, size); /* padding included: configs compare with memcmp */
    *(unsigned int *)cfg = version;
    return DGN_OK;
}

dgn_status dgn_check_config_version(const void *cfg, unsigned int known, const char *what,
                                    int hint)
{
    if (!cfg)
        return dgn_fail(DGN_E_INVALID, "%s config is NULL", what);
    /* Every config's first member is its version. */
    unsigned int version = *(const unsigned int *)cfg;
    if (version != 0 && version <= known)
        return DGN_OK;
    if (!hint)
        return dgn_fail(DGN_E_INVALID, "%s config: version: %u is not a known version", what,
                        version);
    char upper[32];
    size_t i = 0;
    for (; what[i] && i + 1 < sizeof upper; i++)
        upper[i] = (char)(what[i] >= 'a' && what[i] <= 'z' ? what[i] - 'a' + 'A' : what[i]);
    upper[i] = '\0';
    return dgn_fail(DGN_E_INVALID, "%s config: version: %u is not a known version (use "
                    "dgn_%s_config_init with DGN_%s_CONFIG_VERSION)", what, version, what,
                    upper);
}

void dgn_free_each(void *const *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(p[i]);
}
