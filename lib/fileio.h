/* Private: files the library reads and writes. */
#ifndef DGN_LIB_FILEIO_H
#define DGN_LIB_FILEIO_H

#include <locale.h>
#include <stddef.h>
#include <sys/types.h>

#include "dgn/common.h"

/* dgn_write_file (include/dgn/files.h), under the name the modules use. */
dgn_status dgn_write_file_atomic(const char *path, const void *buf, size_t len);

/* The same with a choice of temporary file, so that the tests reach the
 * fallback: AUTO tries an unnamed O_TMPFILE first, NAMED goes straight to
 * mkostemp's NAME.tmp-XXXXXX. */
typedef enum dgn_temp_kind { DGN_TEMP_AUTO, DGN_TEMP_NAMED } dgn_temp_kind;
dgn_status dgn_write_file_with(const char *path, const void *buf, size_t len,
                               dgn_temp_kind kind);

/* "a directory", "a FIFO", "a character device", …: what a path that is
 * not a regular file is, for messages. */
const char *dgn_file_kind(mode_t mode);

/* The whole of a regular file, at most max_bytes, into *buf (malloc'd,
 * NUL-terminated; *len excludes the NUL). Opened without blocking, so a
 * FIFO is refused at once instead of waiting for a writer; anything but a
 * regular file is refused, and so is a file over max_bytes, by its size
 * and again while reading (it may grow). what names the kind of file in
 * messages ("table", "model file"). DGN_E_IO on every refusal. */
dgn_status dgn_read_file(const char *path, size_t max_bytes, const char *what, char **buf,
                         size_t *len);

/* Format numbers in the C locale (a '.' decimal point) between begin and
 * end, whatever the program's locale: files the library writes must read
 * back anywhere. Per thread (uselocale); begin returns what end needs. */
typedef struct dgn_c_numbers {
    locale_t c, saved;
} dgn_c_numbers;
dgn_c_numbers dgn_c_numbers_begin(void);
void dgn_c_numbers_end(dgn_c_numbers scope);

#endif
