/* Private: recording the thread's last error, and the checks and the
 * clean-up that every handle's config, create and destroy calls share. */
#ifndef DGN_LIB_ERROR_H
#define DGN_LIB_ERROR_H

#include <stddef.h>

#include "dgn/common.h"

#if defined(__GNUC__) || defined(__clang__)
#  define DGN_PRINTF(f, a) __attribute__((format(printf, f, a), nonnull(f)))
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

/* The whole of every dgn_xxx_config_init: cfg not NULL, version from 1
 * to `known` (older versions stay accepted), then the first `size` bytes
 * of `defaults` (a static struct, so its padding is zero), which must be
 * only that version's fields: a struct of an older version is smaller.
 * cfg's first member, its version, is then set. `fn` names the caller in
 * the message. */
dgn_status dgn_config_init(void *cfg, unsigned int version, unsigned int known,
                           const char *fn, const void *defaults, size_t size);

/* The common start of every dgn_xxx_config_validate: "<what> config is
 * NULL", or "<what> config: version: N is not a known version" unless
 * 1 <= N <= known, with hint followed by " (use dgn_<what>_config_init
 * with DGN_<WHAT>_CONFIG_VERSION)". cfg's first member is its version. */
dgn_status dgn_check_config_version(const void *cfg, unsigned int known, const char *what,
                                    int hint);

/* The common start of every create call, as one status: DGN_E_INVALID
 * with the message msg when out is NULL or args_ok is false; otherwise
 * *out = NULL (what the caller gets back on any failure) and then the
 * status of validate, an expression evaluated only then. */
#define DGN_CREATE_CHECKS(out, args_ok, msg, validate)                        \
    (!(out) || !(args_ok) ? dgn_fail(DGN_E_INVALID, "%s", (msg))              \
                          : (*(out) = NULL, (validate)))

/* free() each of the n pointers; DGN_FREE_ALL(a, b, c) lists them. */
void dgn_free_each(void *const *p, size_t n);
#define DGN_FREE_ALL(...)                                                     \
    dgn_free_each((void *const[]){__VA_ARGS__},                               \
                  sizeof((void *const[]){__VA_ARGS__}) / sizeof(void *))

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
