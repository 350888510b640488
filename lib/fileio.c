#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dgn/files.h"
#include "error.h"

const char *dgn_file_kind(mode_t m)
{
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISCHR(m))
        return "a character device";
    if (S_ISBLK(m))
        return "a block device";
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISSOCK(m))
        return "a socket";
    return "not a regular file";
}

dgn_status dgn_read_file(const char *path, size_t max_bytes, const char *what, char **buf,
                         size_t *len)
{
    *buf = NULL;
    *len = 0;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return dgn_fail(DGN_E_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return dgn_fail(DGN_E_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return dgn_fail(DGN_E_IO, "%s: is %s, not a regular file (%ss are read only from "
                        "regular files)", path, dgn_file_kind(sb.st_mode), what);
    }
    if (sb.st_size < 0 || (uintmax_t)sb.st_size > max_bytes) {
        close(fd);
        return dgn_fail(DGN_E_IO, "%s: %jd bytes, above the %zu-byte limit for a %s", path,
                        (intmax_t)sb.st_size, max_bytes, what);
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0)
        fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);

    /* st_size is a hint (files in /proc report 0, a file may grow): read to
     * the end, but never past the cap. */
    size_t cap = (size_t)sb.st_size + 1 > 4096 ? (size_t)sb.st_size + 1 : 4096, n = 0;
    if (cap > max_bytes + 2)
        cap = max_bytes + 2;
    char *b = malloc(cap);
    dgn_status st = b ? DGN_OK : dgn_fail_nomem("file contents");
    while (st == DGN_OK) {
        if (n + 1 >= cap) {
            if (n > max_bytes)
                break;
            size_t bigger_cap = cap <= (max_bytes + 2) / 2 ? cap * 2 : max_bytes + 2;
            char *bigger = realloc(b, bigger_cap);
            if (!bigger) {
                st = dgn_fail_nomem("file contents");
                break;
            }
            b = bigger;
            cap = bigger_cap;
        }
        ssize_t got = read(fd, b + n, cap - 1 - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            st = dgn_fail(DGN_E_IO, "%s: read error: %s", path, strerror(errno));
            break;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    close(fd);
    if (st == DGN_OK && n > max_bytes)
        st = dgn_fail(DGN_E_IO, "%s: grew past the %zu-byte limit for a %s while being read",
                      path, max_bytes, what);
    if (st != DGN_OK) {
        free(b);
        return st;
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return DGN_OK;
}

/* Where the bytes for path go: the file itself, or for a symbolic link the
 * file it points to, so that the link survives. *exists says whether there
 * is a file; *st describes it. Nothing is opened (a FIFO would block). */
static dgn_status resolve(const char *path, char **target, int *exists, struct stat *st)
{
    struct stat lst;
    *target = NULL;
    *exists = 0;
    if (!*path)
        return dgn_fail(DGN_E_INVALID, "output path is empty");
    if (lstat(path, &lst) != 0) {
        if (errno != ENOENT)
            return dgn_fail(DGN_E_IO, "%s: cannot examine it: %s", path, strerror(errno));
        *target = strdup(path);
        return *target ? DGN_OK : dgn_fail_nomem("output path");
    }
    if (S_ISLNK(lst.st_mode)) {
        if (stat(path, st) != 0)
            return errno == ENOENT
                ? dgn_fail(DGN_E_INVALID, "%s: is a symbolic link to a missing file; "
                           "give the file itself or a new path", path)
                : dgn_fail(DGN_E_IO, "%s: cannot follow the link: %s", path, strerror(errno));
        *target = realpath(path, NULL);
        if (!*target)
            return dgn_fail(DGN_E_IO, "%s: cannot follow the link: %s", path, strerror(errno));
    } else {
        *st = lst;
        *target = strdup(path);
        if (!*target)
            return dgn_fail_nomem("output path");
    }
    *exists = 1;
    if (!S_ISREG(st->st_mode)) {
        free(*target);
        *target = NULL;
        return dgn_fail(DGN_E_INVALID, "%s: is %s, not a regular file; outputs are written "
                        "only to regular files or new paths", path, dgn_file_kind(st->st_mode));
    }
    return DGN_OK;
}

/* The directory that receives target, which must exist and take new files
 * (the temporary file, the rename). *dir is malloc'd. */
static dgn_status check_dir(const char *path, const char *target, char **dir)
{
    char *copy = strdup(target);
    if (!copy)
        return dgn_fail_nomem("output path");
    *dir = strdup(dirname(copy));
    free(copy);
    if (!*dir)
        return dgn_fail_nomem("output path");
    struct stat st;
    dgn_status s = DGN_OK;
    if (stat(*dir, &st) != 0)
        s = dgn_fail(DGN_E_IO, "%s: directory %s: %s", path, *dir, strerror(errno));
    else if (!S_ISDIR(st.st_mode))
        s = dgn_fail(DGN_E_IO, "%s: %s is not a directory", path, *dir);
    else if (faccessat(AT_FDCWD, *dir, W_OK | X_OK, AT_EACCESS) != 0)
        s = dgn_fail(DGN_E_IO, "%s: cannot create files in directory %s: %s", path, *dir,
                     strerror(errno));
    if (s != DGN_OK) {
        free(*dir);
        *dir = NULL;
    }
    return s;
}

/* The file path names (resolve) and its directory (check_dir), both for
 * the caller to free, or neither. */
static dgn_status locate(const char *path, char **target, char **dir, int *exists,
                         struct stat *st)
{
    dgn_status s = resolve(path, target, exists, st);
    if (s != DGN_OK)
        return s;
    s = check_dir(path, *target, dir);
    if (s != DGN_OK) {
        free(*target);
        *target = NULL;
    }
    return s;
}

dgn_status dgn_output_check(const char *path, const char *const *inputs, size_t n_inputs)
{
    if (!path || (n_inputs && !inputs))
        return dgn_fail(DGN_E_INVALID, "dgn_output_check: NULL argument");
    /* Only whether it exists, and as which file, matters here. */
    int exists;
    struct stat st;
    char *target, *dir;
    dgn_status s = locate(path, &target, &dir, &exists, &st);
    if (s == DGN_OK) {
        free(target);
        free(dir);
    }
    for (size_t i = 0; s == DGN_OK && exists && i < n_inputs; i++) {
        struct stat in;
        if (inputs[i] && stat(inputs[i], &in) == 0 && in.st_dev == st.st_dev
            && in.st_ino == st.st_ino)
            s = dgn_fail(DGN_E_INVALID, "%s: is the same file as the input %s; writing "
                         "it would destroy that input", path, inputs[i]);
    }
    return s;
}

/* The umask can only be read by setting it, and it is process-wide: a file
 * created by another thread between umask(x) and umask(old) would get mode
 * bits from x. Linux (4.7 on) shows it in /proc/self/status, so the two
 * calls are only the fallback. */
static mode_t current_umask(void)
{
    FILE *f = fopen("/proc/self/status", "re");
    if (f) {
        char line[256];
        unsigned int m;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "Umask: %o", &m) == 1) {
                fclose(f);
                return (mode_t)(m & 0777);
            }
        fclose(f);
    }
    mode_t m = umask(077);
    umask(m);
    return m;
}

/* Give the unnamed file fd a name beside target: target.tmp-XXXXXX. */
static int link_beside(int fd, const char *target, char *name, size_t cap)
{
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long seed = (unsigned long)ts.tv_nsec ^ ((unsigned long)getpid() << 12);
    for (int attempt = 0; attempt < 100; attempt++) {
        seed = seed * 6364136223846793005UL + 1442695040888963407UL;
        snprintf(name, cap, "%s.tmp-%06lx", target, (seed >> 40) & 0xffffff);
        if (linkat(AT_FDCWD, proc, AT_FDCWD, name, AT_SYMLINK_FOLLOW) == 0)
            return 0;
        /* Without /proc, AT_EMPTY_PATH (which needs CAP_DAC_READ_SEARCH). */
        if (errno == ENOENT && linkat(fd, "", AT_FDCWD, name, AT_EMPTY_PATH) == 0)
            return 0;
        if (errno != EEXIST)
            return -1;
    }
    errno = EEXIST;
    return -1;
}

/* A file being written: its descriptor, whether it has a temporary name
 * (which must go on failure), and the first step that failed. */
typedef struct pending {
    int fd, named;
    const char *what;   /* NULL until a step fails */
    int err;
} pending;

static void failed(pending *p, const char *what, int err)
{
    p->what = what;
    p->err = err;
}

/* An unnamed file in dir (O_TMPFILE) when kind allows, else a named one
 * beside the target. */
static dgn_status open_temp(pending *p, char *name, size_t cap, const char *path,
                            const char *target, const char *dir, dgn_temp_kind kind)
{
    p->fd = -1;
    if (kind == DGN_TEMP_AUTO)
        p->fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    if (p->fd >= 0)
        return DGN_OK;
    snprintf(name, cap, "%s.tmp-XXXXXX", target);
    p->fd = mkostemp(name, O_CLOEXEC);
    if (p->fd < 0)
        return dgn_fail(DGN_E_IO, "%s: cannot create a temporary file in %s: %s", path, dir,
                        strerror(errno));
    p->named = 1;
    return DGN_OK;
}

/* The data, the owner and mode of the file it replaces, on disk. */
static void fill(pending *p, const void *data, size_t len, int exists,
                 const struct stat *st, mode_t mode)
{
    const unsigned char *buf = data;
    for (size_t done = 0; done < len && !p->what;) {
        ssize_t n = write(p->fd, buf + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            failed(p, "write", n < 0 ? errno : 0);
        else
            done += (size_t)n;
    }
    /* Keep the owner where allowed (root, or a group the caller is in). */
    if (!p->what && exists && fchown(p->fd, st->st_uid, st->st_gid) != 0)
        (void)!fchown(p->fd, (uid_t)-1, st->st_gid);
    if (!p->what && fchmod(p->fd, mode) != 0)
        failed(p, "chmod", errno);
    if (!p->what && fsync(p->fd) != 0)
        failed(p, "sync", errno);
    if (p->named) {
        if (close(p->fd) != 0 && !p->what)
            failed(p, "close", errno);
        p->fd = -1;
    }
}

/* The file at target, whole: a new path is created by one link; if
 * something appeared there meanwhile, or for an existing file, a
 * temporary name and a rename over it. */
static void publish(pending *p, char *name, size_t cap, const char *target, int exists)
{
    if (!p->what && !p->named) {
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", p->fd);
        if (exists || linkat(AT_FDCWD, proc, AT_FDCWD, target, AT_SYMLINK_FOLLOW) != 0) {
            if (link_beside(p->fd, target, name, cap) == 0)
                p->named = 1;
            else
                failed(p, "link", errno);
        }
    }
    if (!p->what && p->named && rename(name, target) != 0)
        failed(p, "rename", errno);
}

dgn_status dgn_write_file_with(const char *path, const void *data, size_t len,
                               dgn_temp_kind kind)
{
    if (!path || (len && !data))
        return dgn_fail(DGN_E_INVALID, "dgn_write_file: NULL argument");
    char *target, *dir;
    int exists;
    struct stat st;
    dgn_status s = locate(path, &target, &dir, &exists, &st);
    if (s != DGN_OK)
        return s;
    size_t cap = strlen(target) + 16;
    char *name = malloc(cap);
    if (!name) {
        free(target);
        free(dir);
        return dgn_fail_nomem("temporary file name");
    }
    pending p = {.fd = -1};
    s = open_temp(&p, name, cap, path, target, dir, kind);
    if (s == DGN_OK) {
        fill(&p, data, len, exists, &st, exists ? st.st_mode & 0777 : 0666 & ~current_umask());
        publish(&p, name, cap, target, exists);
        if (p.fd >= 0)
            close(p.fd);
    }
    if (s == DGN_OK && p.what) {
        if (p.named)
            unlink(name);
        s = dgn_fail(DGN_E_IO, "%s: cannot save (%s failed: %s); any previous file there is "
                     "unchanged", path, p.what, p.err ? strerror(p.err) : "short write");
    } else if (s == DGN_OK) {
        /* Make the rename durable; failing here loses nothing. */
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    free(name);
    free(target);
    free(dir);
    return s;
}

dgn_status dgn_write_file(const char *path, const void *data, size_t len)
{
    return dgn_write_file_with(path, data, len, DGN_TEMP_AUTO);
}

dgn_status dgn_write_file_atomic(const char *path, const void *data, size_t len)
{
    return dgn_write_file_with(path, data, len, DGN_TEMP_AUTO);
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
