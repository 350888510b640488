/* Output files: the rules every file libdgn writes follows (models,
 * screening results, and whatever a program passes to dgn_write_file),
 * and the check a program runs on an output path before it starts work.
 *
 * The rules, as implemented:
 *  - An output path names a regular file or a path that does not exist
 *    yet, in an existing directory the caller can create files in. A
 *    device, FIFO, socket or directory there is refused (DGN_E_INVALID)
 *    without opening it, so a FIFO never blocks. A symbolic link is
 *    followed: the file it points to is replaced and the link kept; a
 *    link to nothing is refused.
 *  - The new content goes to a temporary file in the target's directory:
 *    an unnamed one (Linux O_TMPFILE), so a killed process leaves nothing
 *    behind, or where the file system lacks that, NAME.tmp-XXXXXX beside
 *    the target. It is written whole, synced, then put in place by one
 *    rename (an existing file) or link (a new path), and the directory is
 *    synced. Any failure removes the temporary file and leaves the target
 *    as it was; the message names the path and the step that failed.
 *  - An existing file keeps its permission bits (and its owner and group
 *    where the caller may set them); a new file gets 0666 less the umask.
 *    Other hard links to a replaced file keep the old content.
 *
 * Paths are borrowed for the call only; nothing is kept. */
#ifndef DGN_FILES_H
#define DGN_FILES_H

#include "dgn/common.h"

DGN_BEGIN_DECLS

/* Check, without creating or changing anything, that path may receive an
 * output under the rules above and that it is not the same file (same
 * device and inode, so hard links and symbolic links are caught) as any
 * of the n_inputs paths in inputs; NULL entries and inputs that do not
 * exist are skipped. DGN_E_INVALID for a path that must not be written
 * (same file as an input, not a regular file), DGN_E_IO when it cannot
 * be (missing or unwritable directory). Writing can still fail later
 * (a full disk); the check only moves the predictable failures before
 * the work. */
DGN_API dgn_status dgn_output_check(const char *path, const char *const *inputs,
                                    size_t n_inputs);

/* Write len bytes of data to path under the rules above: path holds its
 * old content or all of the new one, never a part. */
DGN_API dgn_status dgn_write_file(const char *path, const void *data, size_t len);

DGN_END_DECLS

#endif
