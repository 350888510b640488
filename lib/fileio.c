#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"

dgn_status dgn_write_file_atomic(const char *path, const void *data, size_t len)
{
    const unsigned char *buf = data;
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp)
        return dgn_fail_nomem("temporary file name");
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp-XXXXXX", 12);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        dgn_status st = dgn_fail(DGN_E_IO, "%s: cannot create a temporary file "
                                 "beside it: %s", path, strerror(errno));
        free(tmp);
        return st;
    }
    const char *what = NULL;
    size_t done = 0;
    while (done < len && !what) {
        ssize_t n = write(fd, buf + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            what = "write";
        else
            done += (size_t)n;
    }
    if (!what && fsync(fd) != 0)
        what = "sync";
    int saved = errno;
    if (close(fd) != 0 && !what) {
        what = "close";
        saved = errno;
    }
    if (!what && rename(tmp, path) != 0) {
        what = "rename";
        saved = errno;
    }
    if (what) {
        unlink(tmp);
        free(tmp);
        return dgn_fail(DGN_E_IO, "%s: cannot save (%s failed: %s); any previous "
                        "file there is unchanged", path, what,
                        saved ? strerror(saved) : "short write");
    }
    /* Make the rename itself durable; failure here loses nothing. */
    char *dir = strdup(path);
    if (dir) {
        int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        free(dir);
    }
    free(tmp);
    return DGN_OK;
}

dgn_c_numbers dgn_c_numbers_begin(void)
{
    dgn_c_numbers scope;
    scope.c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    /* Without a locale object, fall back to whatever is current. */
    scope.saved = scope.c != (locale_t)0 ? uselocale(scope.c) : (locale_t)0;
    return scope;
}

void dgn_c_numbers_end(dgn_c_numbers scope)
{
    if (scope.c != (locale_t)0) {
        uselocale(scope.saved);
        freelocale(scope.c);
    }
}
