/* Private: recording the thread's last error. */
#ifndef DGN_LIB_ERROR_H
#define DGN_LIB_ERROR_H

#include <stddef.h>

#include "dgn/common.h"

#if defined(__GNUC__) || defined(__clang__)
#  define DGN_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#  define DGN_PRINTF(f, a)
#endif

/* Capacity of the message, terminating NUL included. */
#define DGN_ERROR_CAP 4096

/* Record a formatted message for this thread and return status, so that
 * failures read `return dgn_fail(DGN_E_IO, "%s: %s", path, why);`.
 * A message over DGN_ERROR_CAP - 1 bytes is shortened in the middle, not
 * cut at the end: quoted values over 512 bytes keep their first and last
 * 160 bytes around "…", then, if needed, the middle of the message goes. */
dgn_status dgn_fail(dgn_status status, const char *fmt, ...) DGN_PRINTF(2, 3);

/* Out-of-memory shorthand naming what was being allocated. */
dgn_status dgn_fail_nomem(const char *what);

/* The common start of every dgn_xxx_config_init: cfg not NULL, version
 * from 1 to `known` (older versions stay accepted). The caller then fills
 * only that version's fields: a struct of an older version is smaller.
 * `fn` names the caller in the message. */
dgn_status dgn_check_config_init(const void *cfg, unsigned int version, unsigned int known,
                                 const char *fn);

/* src for a one-line message: control bytes and DEL as \xNN, cut to fit
 * cap (names read from a file may hold anything). */
static inline const char *dgn_printable(char *dst, size_t cap, const char *src)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)src; *p && o + 5 <= cap; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            dst[o++] = '\\';
            dst[o++] = 'x';
            dst[o++] = hex[*p >> 4];
            dst[o++] = hex[*p & 15];
        } else {
            dst[o++] = (char)*p;
        }
    }
    dst[o] = '\0';
    return dst;
}

#endif
