#include "error.h"

#include <stdarg.h>
#include <stdio.h>

/* Thread-local, so concurrent handles never see each other's messages. */
static _Thread_local char last_error[1024];

dgn_status dgn_fail(dgn_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
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

dgn_status dgn_check_config_init(const void *cfg, unsigned int version, unsigned int known,
                                 const char *fn)
{
    if (!cfg)
        return dgn_fail(DGN_E_INVALID, "%s: cfg is NULL", fn);
    if (version != known)
        return dgn_fail(DGN_E_INVALID, "%s: version %u is not supported (this library "
                        "knows version %u)", fn, version, known);
    return DGN_OK;
}
