#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fileio.h"

int write_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EIO;
                p += n;
                len -= (size_t) n;
        }
        return 0;
}

ssize_t read_all(int fd, void *buf, size_t len)
{
        char *p = buf;
        size_t done = 0;
        while (done < len) {
                ssize_t n = read(fd, p + done, len - done);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                done += (size_t) n;
        }
        return (ssize_t) done;
}

int read_fd_limited(int fd, const char *name, size_t max_size, char **ret, size_t *ret_len, struct herror *err)
{
        struct stat st;
        if (fstat(fd, &st) < 0)
                return herror_sys(err, errno, "%s: stat", name);
        if (!S_ISREG(st.st_mode))
                return herror_set(err, EINVAL, "%s: not a regular file", name);
        if ((uint64_t) st.st_size > max_size)
                return herror_set(err, EFBIG, "%s: larger than the limit of %zu bytes", name, max_size);
        /* The size can change under us: read up to the limit + 1 and judge by what arrived. procfs and
         * sysfs report size 0 and answer a read at a later offset with nothing, so ask for at least a page
         * in the first read. */
        size_t cap = (size_t) st.st_size + 1, len = 0;
        if (cap < 4096)
                cap = max_size + 1 < 4096 ? max_size + 1 : 4096;
        _cleanup_free_ char *buf = malloc(cap + 1);
        if (!buf)
                return herror_set(err, ENOMEM, "%s: out of memory", name);
        for (;;) {
                ssize_t n = read_all(fd, buf + len, cap - len);
                if (n < 0)
                        return herror_sys(err, (int) -n, "%s: read", name);
                len += (size_t) n;
                if (len < cap)
                        break;
                if (len > max_size)
                        return herror_set(err, EFBIG, "%s: larger than the limit of %zu bytes", name, max_size);
                size_t ncap = cap * 2 > max_size + 1 ? max_size + 1 : cap * 2;
                char *nb = realloc(buf, ncap + 1);
                if (!nb)
                        return herror_set(err, ENOMEM, "%s: out of memory", name);
                buf = nb;
                cap = ncap;
        }
        if (len > max_size)
                return herror_set(err, EFBIG, "%s: larger than the limit of %zu bytes", name, max_size);
        buf[len] = 0;
        *ret = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = len;
        return 0;
}

int read_file_at(int dirfd, const char *path, size_t max_size, char **ret, size_t *ret_len, struct herror *err)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0) {
                if (errno == ELOOP)
                        return herror_set(err, ELOOP, "%s: is a symlink; refused", path);
                return herror_sys(err, errno, "%s", path);
        }
        return read_fd_limited(fd, path, max_size, ret, ret_len, err);
}

static int mkdir_p_in(char *path, mode_t mode, struct herror *err)
{
        if (mkdir(path, mode) == 0 || errno == EEXIST)
                return 0;
        char *slash = strrchr(path, '/');
        if (errno != ENOENT || !slash || slash == path)
                return herror_sys(err, errno, "%s: create directory", path);
        *slash = 0;
        int r = mkdir_p_in(path, mode, err);
        *slash = '/';
        if (r < 0)
                return r;
        if (mkdir(path, mode) < 0 && errno != EEXIST)
                return herror_sys(err, errno, "%s: create directory", path);
        return 0;
}

int mkdir_p(const char *path, mode_t mode, struct herror *err)
{
        char buf[PATH_MAX];
        if (snprintf(buf, sizeof buf, "%s", path) >= (int) sizeof buf)
                return herror_set(err, ENAMETOOLONG, "%s: path too long", path);
        return mkdir_p_in(buf, mode, err);
}

int fsync_dir_at(int dirfd, const char *path)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return fsync(fd) < 0 ? -errno : 0;
}

static int open_temp(int dirfd, const char *name, mode_t mode, char *ret_name, size_t size)
{
        for (int attempt = 0; attempt < 100; attempt++) {
                uint32_t rnd;
                if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd)
                        rnd = (uint32_t) getpid() ^ (uint32_t) attempt;
                snprintf(ret_name, size, ".%s.%08x", name, rnd);
                int fd = openat(dirfd, ret_name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
                if (fd >= 0 || errno != EEXIST)
                        return fd < 0 ? -errno : fd;
        }
        return -EEXIST;
}

static int atomic_put_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode, bool replace,
                         struct herror *err)
{
        if (strchr(name, '/'))
                return herror_set(err, EINVAL, "%s: atomic writes take a plain file name", name);
        char tmp[512];
        _cleanup_close_ int fd = open_temp(dirfd, name, mode, tmp, sizeof tmp);
        if (fd < 0)
                return herror_sys(err, -fd, "%s: create a temporary file", name);
        int r = write_all(fd, data, len);
        if (r == 0 && fchmod(fd, mode) < 0)
                r = -errno;
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (r == 0 && replace && renameat(dirfd, tmp, dirfd, name) < 0)
                r = -errno;
        if (r == 0 && !replace && renameat2(dirfd, tmp, dirfd, name, RENAME_NOREPLACE) < 0) {
                r = -errno;
                /* A file system without RENAME_NOREPLACE: a hard link fails just as atomically on EEXIST.
                 * The temporary name goes either way (only here: after a rename it names nothing of ours). */
                if (r == -EINVAL) {
                        r = linkat(dirfd, tmp, dirfd, name, 0) < 0 ? -errno : 0;
                        unlinkat(dirfd, tmp, 0);
                }
        }
        if (r < 0) {
                unlinkat(dirfd, tmp, 0);
                if (r == -EEXIST)
                        return herror_set(err, EEXIST, "%s: already exists (not overwritten)", name);
                return herror_sys(err, -r, "%s: write", name);
        }
        r = fsync_dir_at(dirfd, ".");
        if (r < 0)
                return herror_sys(err, -r, "%s: sync the directory", name);
        return 0;
}

int read_text_at(int dirfd, const char *name, char *buf, size_t size)
{
        buf[0] = 0;
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        ssize_t n = read_all(fd, buf, size - 1);
        if (n < 0)
                return (int) n;
        buf[n] = 0;
        return 0;
}

int atomic_write_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode, struct herror *err)
{
        return atomic_put_at(dirfd, name, data, len, mode, true, err);
}

int atomic_create_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode, struct herror *err)
{
        return atomic_put_at(dirfd, name, data, len, mode, false, err);
}
