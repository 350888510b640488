/* Private: recording the thread's last error. */
#ifndef DGN_LIB_ERROR_H
#define DGN_LIB_ERROR_H

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
 * the one this library knows. `fn` names the caller in the message. */
dgn_status dgn_check_config_init(const void *cfg, unsigned int version, unsigned int known,
                                 const char *fn);

#endif
