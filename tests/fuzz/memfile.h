/* The fuzz input as a file path the loaders can open, without touching
 * the disk: a memfd, reached through /proc/self/fd. */
#ifndef DGN_FUZZ_MEMFILE_H
#define DGN_FUZZ_MEMFILE_H

#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

/* Returns the descriptor (close it after use) or -1; path gets its name. */
static inline int memfile(const uint8_t *data, size_t size, char *path, size_t cap)
{
    int fd = memfd_create("fuzz", 0);
    if (fd < 0)
        return -1;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return -1;
    }
    snprintf(path, cap, "/proc/self/fd/%d", fd);
    return fd;
}

#endif
