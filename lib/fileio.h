/* Private: files the library writes. */
#ifndef DGN_LIB_FILEIO_H
#define DGN_LIB_FILEIO_H

#include <locale.h>
#include <stddef.h>

#include "dgn/common.h"

/* dgn_write_file (include/dgn/files.h), under the name the modules use. */
dgn_status dgn_write_file_atomic(const char *path, const void *buf, size_t len);

/* The same with a choice of temporary file, so that the tests reach the
 * fallback: AUTO tries an unnamed O_TMPFILE first, NAMED goes straight to
 * mkostemp's NAME.tmp-XXXXXX. */
typedef enum dgn_temp_kind { DGN_TEMP_AUTO, DGN_TEMP_NAMED } dgn_temp_kind;
dgn_status dgn_write_file_with(const char *path, const void *buf, size_t len,
                               dgn_temp_kind kind);

/* Format numbers in the C locale (a '.' decimal point) between begin and
 * end, whatever the program's locale: files the library writes must read
 * back anywhere. Per thread (uselocale); begin returns what end needs. */
typedef struct dgn_c_numbers {
    locale_t c, saved;
} dgn_c_numbers;
dgn_c_numbers dgn_c_numbers_begin(void);
void dgn_c_numbers_end(dgn_c_numbers scope);

#endif
