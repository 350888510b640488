/* Private: files the library writes. */
#ifndef DGN_LIB_FILEIO_H
#define DGN_LIB_FILEIO_H

#include <locale.h>
#include <stddef.h>

#include "dgn/common.h"

/* Write len bytes to path through a temporary file beside it, synced and
 * renamed into place: path holds either its old content or all of the new
 * one, never a part. The error names path and the step that failed. */
dgn_status dgn_write_file_atomic(const char *path, const void *buf, size_t len);

/* Format numbers in the C locale (a '.' decimal point) between begin and
 * end, whatever the program's locale: files the library writes must read
 * back anywhere. Per thread (uselocale); begin returns what end needs. */
typedef struct dgn_c_numbers {
    locale_t c, saved;
} dgn_c_numbers;
dgn_c_numbers dgn_c_numbers_begin(void);
void dgn_c_numbers_end(dgn_c_numbers scope);

#endif
