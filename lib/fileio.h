/* Private: files the library writes. */
#ifndef DGN_LIB_FILEIO_H
#define DGN_LIB_FILEIO_H

#include <stddef.h>

#include "dgn/common.h"

/* Write len bytes to path through a temporary file beside it, synced and
 * renamed into place: path holds either its old content or all of the new
 * one, never a part. The error names path and the step that failed. */
dgn_status dgn_write_file_atomic(const char *path, const void *buf, size_t len);

#endif
