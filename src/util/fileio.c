#include "util/fileio.h"
#include "util/cleanup.h"
#include "util/sandbox.h"

#include <errno.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int gsm_read_file_at(int dirfd, const char *path, size_t max_bytes, char **ret_buf, size_t *ret_len) {
    _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
    if (fd < 0 && errno == EACCES)
        gsm_sandbox_note_refused(dirfd, path);   /* named when it is our Landlock domain's */
    if (fd < 0)
        return -errno;
    return gsm_read_fd(fd, max_bytes, ret_buf, ret_len);
}

int gsm_read_fd(int fd, size_t max_bytes, char **ret_buf, size_t *ret_len) {
    /* procfs reports st_size 0, so the size is only a hint: start at 4 KiB and double. */
    size_t cap = 4096, len = 0;
    _cleanup_free_ char *buf = malloc(cap);
    if (!buf)
        return -ENOMEM;
    for (;;) {
        if (cap - len < 2) {
            if (cap >= max_bytes + 1)
                return -EFBIG;
            size_t ncap = cap * 2 > max_bytes + 1 ? max_bytes + 1 : cap * 2;
            char *nbuf = realloc(buf, ncap);
            if (!nbuf)
                return -ENOMEM;
            buf = nbuf;
            cap = ncap;
        }
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > max_bytes)
            return -EFBIG;
    }
    buf[len] = '\0';
    *ret_buf = TAKE_PTR(buf);
    if (ret_len)
        *ret_len = len;
    return 0;
}

int gsm_write_file_atomic(const char *path, const void *data, size_t len) {
    char tmp[PATH_MAX];
    const char *slash = strrchr(path, '/');
    int r;
    if (slash)
        r = snprintf(tmp, sizeof tmp, "%.*s/.%s.tmp.%ld", (int)(slash - path), path, slash + 1, (long)getpid());
    else
        r = snprintf(tmp, sizeof tmp, ".%s.tmp.%ld", path, (long)getpid());
    if (r < 0 || (size_t)r >= sizeof tmp)
        return -ENAMETOOLONG;

    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            r = -errno;
            goto fail;
        }
        p += n;
        left -= (size_t)n;
    }
    if (fsync(fd) < 0 || close(fd) < 0) {
        r = -errno;
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) < 0) {
        r = -errno;
        goto fail;
    }
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return r;
}

int gsm_opendir_at(int dirfd, const char *path, DIR **ret) {
    int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == EACCES)
        gsm_sandbox_note_refused(dirfd, path);
    if (fd < 0)
        return -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        int r = -errno;
        close(fd);
        return r;
    }
    *ret = d;
    return 0;
}
