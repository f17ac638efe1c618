/*
 * map.c - the two small file helpers of the format library: map a whole
 * file read-only for tlf_seg_open_mem, and a sink writing to a file
 * descriptor. The choice of I/O path beyond these belongs to the engine.
 * Invariants: an empty file maps to (NULL, 0); the sink writes every byte
 * or fails with TL_EIO (short writes and EINTR are retried).
 * Path trust: tlf_map_file opens the path as given, following symlinks: it
 * is for a file a user names (tl_segment_open, the CLI's inspect and dump).
 * Data files of a table are never opened through it: the engine opens them
 * beneath the table root (tl_io_open_beneath: openat2 RESOLVE_BENEATH, no
 * symlink out of the table) and hands the mapping to tlf_seg_open_mem
 * (tests/engine/hostile_test.c checks scan, reader, optimize, verify and
 * validate against symlinked files and partition directories).
 */
#include "tl_format.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int tlf_map_file(const char *path, const uint8_t **base, uint64_t *size,
                 tl_error *err)
{
    *base = NULL;
    *size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT) {
            tl_error_set(err, TL_ENOTFOUND, "%s: no such file", path);
            if (err)
                err->sys_errno = e;
            return TL_ENOTFOUND;
        }
        return tl_error_sys(err, e, "%s: open", path);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return tl_error_sys(err, e, "%s: fstat", path);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return tl_error_set(err, TL_EIO, "%s: not a regular file", path);
    }
    if (st.st_size == 0) {
        close(fd);
        return TL_OK;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (p == MAP_FAILED)
        return tl_error_sys(err, e, "%s: mmap of %lld bytes", path,
                            (long long)st.st_size);
    *base = p;
    *size = (uint64_t)st.st_size;
    return TL_OK;
}

void tlf_unmap_file(const uint8_t *base, uint64_t size)
{
    if (base && size)
        munmap((void *)base, (size_t)size);
}

int tlf_sink_fd_write(void *ctx, const void *buf, size_t len, tl_error *err)
{
    int fd = *(const int *)ctx;
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return tl_error_sys(err, errno, "write of %zu bytes to fd %d", len, fd);
        }
        if (n == 0)
            return tl_error_set(err, TL_EIO, "write to fd %d wrote 0 of %zu bytes",
                                fd, len);
        p += n;
        len -= (size_t)n;
    }
    return TL_OK;
}
