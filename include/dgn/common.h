/* libdgn conventions shared by every module.
 *
 * Status and errors: every call that can fail returns a dgn_status. On
 * failure it also records a message for the calling thread, read back with
 * dgn_last_error(). The message names what was wrong as precisely as the
 * library knows it, e.g.
 *   data.csv:412: column 8 ("W% SiO2"): "1,2" is not a number
 *
 * Handles: opaque, created through an out-parameter and released with the
 * matching _destroy(), which accepts NULL. The library never frees memory
 * it did not allocate, and never keeps a caller's pointer past the call
 * unless the header says so.
 *
 * Buffers: each output buffer travels with its capacity, counted in
 * elements. A buffer that is too small is a DGN_E_SHAPE error, never an
 * overrun.
 *
 * Threads: the library has no global mutable state. Distinct handles may
 * be used from distinct threads at the same time; one handle must not be
 * used from two threads at once unless its header says so. The error
 * message is kept per thread.
 */
#ifndef DGN_COMMON_H
#define DGN_COMMON_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32) && defined(DGN_BUILDING)
#  define DGN_API __declspec(dllexport)
#elif defined(_WIN32) && !defined(DGN_STATIC)
#  define DGN_API __declspec(dllimport)
#elif defined(__GNUC__) || defined(__clang__)
#  define DGN_API __attribute__((visibility("default")))
#else
#  define DGN_API
#endif

#ifdef __cplusplus
#  define DGN_BEGIN_DECLS extern "C" {
#  define DGN_END_DECLS }
#else
#  define DGN_BEGIN_DECLS
#  define DGN_END_DECLS
#endif

DGN_BEGIN_DECLS

/* Append-only: codes keep their values forever. */
typedef enum dgn_status {
    DGN_OK = 0,
    DGN_E_GENERIC = 1,   /* failure that fits no other code */
    DGN_E_INVALID = 2,   /* invalid argument or configuration field */
    DGN_E_NOMEM = 3,     /* allocation failed */
    DGN_E_IO = 4,        /* file could not be opened, read or written */
    DGN_E_FORMAT = 5,    /* malformed input: CSV, model file, grid spec */
    DGN_E_SHAPE = 6,     /* dimensions disagree or a buffer is too small */
    DGN_E_NONFINITE = 7, /* NaN or infinity where a finite number is needed */
    DGN_E_DATA = 8       /* well-formed data that cannot serve the request,
                            e.g. a class with no rows */
} dgn_status;

/* Message describing the last failure on the calling thread. Never NULL;
 * "" when nothing has failed yet. A successful call leaves it unchanged.
 * The text is owned by the library and stays valid, for this thread, until
 * the next failing libdgn call on it. */
DGN_API const char *dgn_last_error(void);

/* Static name of a status code, e.g. "DGN_E_FORMAT". Never NULL. */
DGN_API const char *dgn_status_str(dgn_status status);

DGN_END_DECLS

#endif
