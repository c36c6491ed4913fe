#include <fcntl.h>
#include <stdint.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/safepath.h"

#define MAX_SYMLINKS 40

static int fallback_state = -1; /* -1 unknown, 0 openat2, 1 userspace walk */

void safepath_force_fallback(bool on)
{
        fallback_state = on ? 1 : 0;
}

bool safepath_using_fallback(void)
{
        if (fallback_state < 0) {
                const char *e = getenv("HUTCH_NO_OPENAT2");
                if (e && streq(e, "1"))
                        fallback_state = 1;
                else {
                        struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT };
                        long fd = syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof how);
                        fallback_state = fd < 0 && errno == ENOSYS;
                        if (fd >= 0)
                                close((int) fd);
                }
        }
        return fallback_state == 1;
}

static int openat2_resolve(int rootfd, const char *path, int open_flags, mode_t mode, unsigned flags)
{
        struct open_how how = {
                .flags = (uint64_t) open_flags | O_CLOEXEC | ((flags & SAFE_NOFOLLOW) ? O_NOFOLLOW : 0),
                .mode = (open_flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
                .resolve = RESOLVE_NO_MAGICLINKS | ((flags & SAFE_BENEATH) ? RESOLVE_BENEATH : RESOLVE_IN_ROOT) |
                        ((flags & SAFE_NO_SYMLINKS) ? RESOLVE_NO_SYMLINKS : 0),
        };
        /* Under RESOLVE_BENEATH an absolute path is EXDEV; here every path is taken inside the root. */
        while ((flags & SAFE_BENEATH) && *path == '/')
                path++;
        if (!*path)
                path = ".";
        long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof how);
        return fd < 0 ? -errno : (int) fd;
}

/* ---- userspace walk ---- */

static bool same_inode(int a, int b)
{
        struct stat sa, sb;
        return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Magic links live on procfs and read back as absolute paths or "type:[inode]"; plain procfs links
 * ("self" -> "1234", "mounts" -> "self/mounts") are relative. */
static bool is_magic_link(int dirfd, const char *target)
{
        struct statfs sf;
        if (fstatfs(dirfd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC)
                return false;
        return target[0] == '/' || strchr(target, ':') != NULL;
}

struct walk {
        int rootfd;
        int cur;                 /* O_PATH dir fd of where we are */
        char rest[PATH_MAX * 2]; /* what remains to resolve */
        int links;
        unsigned flags;
};

static int walk_reset_to_root(struct walk *w)
{
        int fd = openat(w->rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        closep(&w->cur);
        w->cur = fd;
        return 0;
}

static int walk_dotdot(struct walk *w)
{
        if (same_inode(w->cur, w->rootfd))
                return (w->flags & SAFE_BENEATH) ? -EXDEV : 0; /* clamped at the root, like RESOLVE_IN_ROOT */
        int fd = openat(w->cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        closep(&w->cur);
        w->cur = fd;
        return 0;
}

/* Replace the component just read with the link's target: rest = target + "/" + rest. */
static int walk_follow(struct walk *w, const char *name, const char *after)
{
        if (w->flags & SAFE_NO_SYMLINKS)
                return -ELOOP;
        if (++w->links > MAX_SYMLINKS)
                return -ELOOP;
        char target[PATH_MAX];
        ssize_t n = readlinkat(w->cur, name, target, sizeof target - 1);
        if (n < 0)
                return -errno;
        target[n] = 0;
        if (is_magic_link(w->cur, target))
                return -ELOOP;
        char next[sizeof w->rest];
        if (snprintf(next, sizeof next, "%s/%s", target, after) >= (int) sizeof next)
                return -ENAMETOOLONG;
        if (target[0] == '/') {
                if (w->flags & SAFE_BENEATH)
                        return -EXDEV;
                int r = walk_reset_to_root(w);
                if (r < 0)
                        return r;
        }
        memcpy(w->rest, next, sizeof next);
        return 0;
}

static int walk_last(struct walk *w, const char *name, int open_flags, mode_t mode)
{
        struct stat st;
        if (fstatat(w->cur, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
                if (w->flags & SAFE_NOFOLLOW)
                        return -ELOOP;
                return 1; /* follow it */
        }
        int fd = openat(w->cur, name, open_flags | O_NOFOLLOW | O_CLOEXEC, mode);
        return fd < 0 ? -errno : fd;
}

static int walk_resolve(int rootfd, const char *path, int open_flags, mode_t mode, unsigned flags)
{
        struct walk w = { .rootfd = rootfd, .cur = -1, .flags = flags };
        if (strlen(path) >= sizeof w.rest)
                return -ENAMETOOLONG;
        snprintf(w.rest, sizeof w.rest, "%s", path);
        int r = walk_reset_to_root(&w);
        if (r < 0)
                return r;
        for (;;) {
                char *p = w.rest;
                while (*p == '/')
                        p++;
                if (!*p) { /* the path named a directory we are in */
                        int fd = openat(w.cur, ".", (open_flags & ~(O_CREAT | O_EXCL)) | O_CLOEXEC);
                        r = fd < 0 ? -errno : fd;
                        break;
                }
                size_t len = strcspn(p, "/");
                char name[NAME_MAX + 1];
                if (len > NAME_MAX) {
                        r = -ENAMETOOLONG;
                        break;
                }
                memcpy(name, p, len);
                name[len] = 0;
                char *after = p + len;
                while (*after == '/')
                        after++;
                char after_copy[sizeof w.rest];
                snprintf(after_copy, sizeof after_copy, "%s", after);
                bool last = !*after_copy;
                if (streq(name, ".")) {
                        memmove(w.rest, after_copy, strlen(after_copy) + 1);
                        continue;
                }
                if (streq(name, "..")) {
                        if ((r = walk_dotdot(&w)) < 0)
                                break;
                        memmove(w.rest, after_copy, strlen(after_copy) + 1);
                        continue;
                }
                if (last) {
                        r = walk_last(&w, name, open_flags, mode);
                        if (r != 1)
                                break;
                        if ((r = walk_follow(&w, name, "")) < 0)
                                break;
                        continue;
                }
                int fd = openat(w.cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0) {
                        r = -errno;
                        break;
                }
                struct stat st;
                if (fstat(fd, &st) < 0) {
                        r = -errno;
                        close(fd);
                        break;
                }
                if (S_ISLNK(st.st_mode)) {
                        close(fd);
                        if ((r = walk_follow(&w, name, after_copy)) < 0)
                                break;
                        continue;
                }
                if (!S_ISDIR(st.st_mode)) {
                        close(fd);
                        r = -ENOTDIR;
                        break;
                }
                closep(&w.cur);
                w.cur = fd;
                memmove(w.rest, after_copy, strlen(after_copy) + 1);
        }
        closep(&w.cur);
        return r;
}

int safe_openat(int rootfd, const char *path, int open_flags, mode_t mode, unsigned flags, struct herror *err)
{
        int fd = safepath_using_fallback() ? walk_resolve(rootfd, path, open_flags, mode, flags)
                                           : openat2_resolve(rootfd, path, open_flags, mode, flags);
        if (fd == -ENOSYS && !safepath_using_fallback()) {
                fallback_state = 1;
                fd = walk_resolve(rootfd, path, open_flags, mode, flags);
        }
        /* O_PATH|O_NOFOLLOW hands back the symlink itself; SAFE_NOFOLLOW means "not a symlink". */
        struct stat st;
        if (fd >= 0 && (flags & SAFE_NOFOLLOW) && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode)) {
                close(fd);
                fd = -ELOOP;
        }
        if (fd < 0) {
                if (fd == -EXDEV)
                        return herror_set(err, EXDEV, "%s: leaves the root directory; refused", path);
                if (fd == -ELOOP)
                        return herror_set(err, ELOOP, "%s: symlink not allowed here (or too many levels); refused",
                                          path);
                return herror_sys(err, -fd, "%s", path);
        }
        return fd;
}

int safe_mkdir_p(int rootfd, const char *path, mode_t mode, struct herror *err)
{
        char prefix[PATH_MAX];
        if (strlen(path) >= sizeof prefix)
                return herror_set(err, ENAMETOOLONG, "%s: path too long", path);
        int parent = safe_openat(rootfd, "/", O_PATH | O_DIRECTORY, 0, 0, err);
        if (parent < 0)
                return parent;
        size_t off = 0;
        const char *p = path;
        for (;;) {
                while (*p == '/')
                        p++;
                if (!*p)
                        return parent;
                size_t len = strcspn(p, "/");
                if (off + len + 2 >= sizeof prefix) {
                        close(parent);
                        return herror_set(err, ENAMETOOLONG, "%s: path too long", path);
                }
                prefix[off++] = '/';
                memcpy(prefix + off, p, len);
                off += len;
                prefix[off] = 0;
                char name[NAME_MAX + 1];
                snprintf(name, sizeof name, "%.*s", (int) len, p);
                p += len;
                /* mkdirat never follows a symlink in its last component; the next open resolves the
                 * result inside the root again, so a planted symlink cannot lead outside. */
                if (!streq(name, ".") && !streq(name, "..") && mkdirat(parent, name, mode) < 0 && errno != EEXIST) {
                        int e = errno;
                        close(parent);
                        return herror_sys(err, e, "%s: create directory", prefix);
                }
                close(parent);
                parent = safe_openat(rootfd, prefix, O_PATH | O_DIRECTORY, 0, 0, err);
                if (parent < 0)
                        return parent;
        }
}

int safe_create_target(int rootfd, const char *path, bool is_dir, struct herror *err)
{
        if (is_dir)
                return safe_mkdir_p(rootfd, path, 0755, err);
        const char *slash = strrchr(path, '/');
        const char *base = slash ? slash + 1 : path;
        if (!*base || streq(base, ".") || streq(base, ".."))
                return herror_set(err, EINVAL, "%s: not a file name", path);
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%.*s", slash ? (int) (slash - path) : 0, path);
        _cleanup_close_ int parent = safe_mkdir_p(rootfd, dir[0] ? dir : "/", 0755, err);
        if (parent < 0)
                return parent;
        int fd = openat(parent, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd >= 0)
                close(fd);
        else if (errno != EEXIST)
                return herror_sys(err, errno, "%s: create", path);
        return safe_openat(rootfd, path, O_PATH, 0, 0, err);
}
