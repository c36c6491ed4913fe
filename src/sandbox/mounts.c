#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/mounts.h"
#include "util/fileio.h"
#include "util/safepath.h"

static uint64_t ms_to_attr(unsigned long ms)
{
        uint64_t a = 0;
        if (ms & MS_RDONLY)
                a |= MOUNT_ATTR_RDONLY;
        if (ms & MS_NOSUID)
                a |= MOUNT_ATTR_NOSUID;
        if (ms & MS_NODEV)
                a |= MOUNT_ATTR_NODEV;
        if (ms & MS_NOEXEC)
                a |= MOUNT_ATTR_NOEXEC;
        if (ms & MS_NOSYMFOLLOW)
                a |= MOUNT_ATTR_NOSYMFOLLOW;
        return a;
}

static uint64_t ms_to_atime_attr(unsigned long ms)
{
        if (ms & MS_NOATIME)
                return MOUNT_ATTR_NOATIME;
        if (ms & MS_STRICTATIME)
                return MOUNT_ATTR_STRICTATIME;
        if (ms & MS_RELATIME)
                return MOUNT_ATTR_RELATIME;
        return 0;
}

static int attach(int mntfd, int targetfd, const char *what, struct herror *err)
{
        if (move_mount(mntfd, "", targetfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return herror_sys(err, errno, "attach the mount on %s", what);
        return 0;
}

static int set_attrs(int mntfd, uint64_t set, unsigned long propagation, bool recursive, const char *what,
                     struct herror *err)
{
        if (!set && !propagation)
                return 0;
        struct mount_attr attr = { .attr_set = set };
        if (propagation)
                attr.propagation = propagation & ~MS_REC;
        unsigned flags = AT_EMPTY_PATH | (recursive || (propagation & MS_REC) ? AT_RECURSIVE : 0);
        if (mount_setattr(mntfd, "", flags, &attr, sizeof attr) < 0)
                return herror_sys(err, errno, "set mount attributes of %s", what);
        return 0;
}

/* The kernel explains fsconfig failures in the fs context; that text beats a bare EINVAL. */
static int fs_error(int fsfd, int errnum, const char *what, const char *step, struct herror *err)
{
        char buf[256];
        ssize_t n = read(fsfd, buf, sizeof buf - 1);
        if (n > 2) {
                buf[n] = 0;
                buf[strcspn(buf, "\n")] = 0;
                return herror_set(err, errnum, "%s %s: %s (%s)", step, what, strerror(errnum), buf + 2);
        }
        return herror_sys(err, errnum, "%s %s", step, what);
}

static int fs_configure(int fsfd, const char *source, const char *data, const char *what, struct herror *err)
{
        if (source && fsconfig(fsfd, FSCONFIG_SET_STRING, "source", source, 0) < 0)
                return fs_error(fsfd, errno, what, "set source of", err);
        if (!data)
                return 0;
        /* on the stack: the init does no dynamic allocation on its success path (it runs after clone,
         * where a copy of the launcher's heap is all it has) */
        char copy[4096];
        if (strlen(data) >= sizeof copy)
                return herror_set(err, E2BIG, "%s: mount options longer than %zu bytes", what, sizeof copy - 1);
        strcpy(copy, data);
        char *save = NULL;
        for (char *opt = strtok_r(copy, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
                char *eq = strchr(opt, '=');
                int r;
                if (eq) {
                        *eq = 0;
                        r = fsconfig(fsfd, FSCONFIG_SET_STRING, opt, eq + 1, 0);
                } else {
                        r = fsconfig(fsfd, FSCONFIG_SET_FLAG, opt, NULL, 0);
                        /* devpts instances are always private since Linux 4.7; the flag is history. */
                        if (r < 0 && streq(opt, "newinstance"))
                                r = 0;
                }
                if (r < 0)
                        return fs_error(fsfd, errno, what, eq ? "set option of" : "set flag of", err);
        }
        return 0;
}

/* A detached mount of a new filesystem instance; context: its SELinux label (context=), or NULL. Set by
 * itself, never through the comma-split data: an MCS level holds a comma. */
static int fs_mount_detached_labeled(const char *type, const char *source, const char *data, const char *context,
                                     unsigned long ms, const char *what, struct herror *err)
{
        _cleanup_close_ int fsfd = fsopen(type, FSOPEN_CLOEXEC);
        if (fsfd < 0)
                return herror_sys(err, errno, "fsopen %s for %s", type, what);
        int r = fs_configure(fsfd, source, data, what, err);
        if (r < 0)
                return r;
        if (context && fsconfig(fsfd, FSCONFIG_SET_STRING, "context", context, 0) < 0)
                return fs_error(fsfd, errno, what, "set the SELinux context of", err);
        if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return fs_error(fsfd, errno, what, "create", err);
        int mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, (unsigned) (ms_to_attr(ms) | ms_to_atime_attr(ms)));
        if (mfd < 0)
                return fs_error(fsfd, errno, what, "mount", err);
        return mfd;
}

static int fs_mount_detached(const char *type, const char *source, const char *data, unsigned long ms, const char *what,
                             struct herror *err)
{
        return fs_mount_detached_labeled(type, source, data, NULL, ms, what, err);
}

/* linux.mountLabel goes on the filesystems the container creates that hold files (tmpfs, mqueue), as
 * runc and podman label them. */
const char *rootfs_mount_context(const struct spec *s, const char *type)
{
        if (!s->mount_label || !s->mount_label[0] || !type)
                return NULL;
        return streq(type, "tmpfs") || streq(type, "mqueue") ? s->mount_label : NULL;
}

static int bind_tree(int dirfd, const char *path, bool recursive, const char *what, struct herror *err)
{
        unsigned flags =
                OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0) | (path[0] ? 0 : AT_EMPTY_PATH);
        int mfd = open_tree(dirfd, path, flags);
        if (mfd < 0)
                return herror_sys(err, errno, "bind source %s for %s", path[0] ? path : "(fd)", what);
        return mfd;
}

static int mount_bind(const struct spec_mount *m, int bundle_dirfd, int targetfd, struct herror *err)
{
        _cleanup_close_ int mfd = bind_tree(bundle_dirfd, m->source, m->recursive, m->destination, err);
        if (mfd < 0)
                return mfd;
        int r = attach(mfd, targetfd, m->destination, err);
        if (r < 0)
                return r;
        /* Flags apply to the top mount only, as runc's bind remount does; locked submount flags stay. */
        return set_attrs(mfd, ms_to_attr(m->flags), m->propagation, false, m->destination, err);
}

/* Rootless without its own network namespace cannot mount sysfs; bind the host's read-only instead
 * (what runc does in that case). */
static int mount_sysfs_fallback(int targetfd, const char *what, struct herror *err)
{
        _cleanup_close_ int mfd = bind_tree(AT_FDCWD, "/sys", true, what, err);
        if (mfd < 0)
                return mfd;
        int r = set_attrs(mfd, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, 0, true,
                          what, err);
        return r < 0 ? r : attach(mfd, targetfd, what, err);
}

static int mount_fs(const struct spec *s, const struct spec_mount *m, int targetfd, struct herror *err)
{
        const char *type = m->type;
        /* cgroup v1 hierarchies are never mounted (CVE-2022-0492, release_agent): cgroup2 instead. */
        if (streq(type, "cgroup"))
                type = "cgroup2";
        _cleanup_herror_ struct herror inner = HERROR_INIT;
        int mfd = fs_mount_detached_labeled(type, m->source, m->data, rootfs_mount_context(s, type), m->flags,
                                            m->destination, &inner);
        if (mfd == -EPERM && streq(type, "sysfs"))
                return mount_sysfs_fallback(targetfd, m->destination, err);
        if (mfd < 0 && streq(type, "cgroup2")) {
                /* No cgroup namespace of our own to mount: show the host hierarchy read-only. */
                _cleanup_close_ int b = bind_tree(AT_FDCWD, "/sys/fs/cgroup", true, m->destination, err);
                if (b < 0)
                        return b;
                int r = set_attrs(b, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, 0,
                                  true, m->destination, err);
                return r < 0 ? r : attach(b, targetfd, m->destination, err);
        }
        if (mfd < 0)
                return herror_set(err, inner.errnum, "%s", herror_msg(&inner));
        _cleanup_close_ int fd = mfd;
        int r = attach(fd, targetfd, m->destination, err);
        if (r < 0)
                return r;
        return set_attrs(fd, 0, m->propagation, false, m->destination, err);
}

static bool bind_source_is_dir(const struct spec_mount *m, int bundle_dirfd)
{
        struct stat st;
        if (fstatat(bundle_dirfd, m->source, &st, 0) < 0)
                return true; /* let the bind report the real error */
        return S_ISDIR(st.st_mode);
}

static int setup_mount(const struct spec *s, const struct spec_mount *m, int bundle_dirfd, int rootfd, size_t idx,
                       struct herror *err)
{
        bool is_dir = !m->bind || bind_source_is_dir(m, bundle_dirfd);
        _cleanup_close_ int targetfd = safe_create_target(rootfd, m->destination, is_dir, err);
        if (targetfd < 0)
                return herror_wrap(err, ".mounts[%zu]", idx);
        int r = m->bind ? mount_bind(m, bundle_dirfd, targetfd, err) : mount_fs(s, m, targetfd, err);
        return r < 0 ? herror_wrap(err, ".mounts[%zu]", idx) : 0;
}

static bool has_mount_at(const struct spec *s, const char *dest)
{
        for (size_t i = 0; i < s->n_mounts; i++)
                if (streq(s->mounts[i].destination, dest))
                        return true;
        return false;
}

static bool dev_is_bind(const struct spec *s)
{
        for (size_t i = 0; i < s->n_mounts; i++)
                if (streq(s->mounts[i].destination, "/dev") && s->mounts[i].bind)
                        return true;
        return false;
}

/* Rootless cannot mknod: every device is a bind of the host node (OCI's default set plus
 * linux.devices). */
static int bind_device(int rootfd, const char *path, const char *host, struct herror *err)
{
        _cleanup_close_ int target = safe_create_target(rootfd, path, false, err);
        if (target < 0)
                return target;
        _cleanup_close_ int mfd = bind_tree(AT_FDCWD, host, false, path, err);
        if (mfd < 0)
                return mfd;
        return attach(mfd, target, path, err);
}

static int setup_dev(const struct spec *s, int rootfd, struct herror *err)
{
        static const char *const defaults[] = { "/dev/null",   "/dev/zero",    "/dev/full",
                                                "/dev/random", "/dev/urandom", "/dev/tty" };
        static const struct {
                const char *name, *target;
        } links[] = {
                { "fd", "/proc/self/fd" },       { "stdin", "/proc/self/fd/0" }, { "stdout", "/proc/self/fd/1" },
                { "stderr", "/proc/self/fd/2" }, { "ptmx", "pts/ptmx" },
        };
        if (dev_is_bind(s))
                return 0;
        int r;
        for (size_t i = 0; i < ELEMENTSOF(defaults); i++)
                if ((r = bind_device(rootfd, defaults[i], defaults[i], err)) < 0)
                        return r;
        for (size_t i = 0; i < s->n_devices; i++) {
                const char *p = s->devices[i].path;
                if ((r = bind_device(rootfd, p, p, err)) < 0)
                        return herror_wrap(err, ".linux.devices[%zu]", i);
        }
        _cleanup_close_ int devfd = safe_openat(rootfd, "/dev", O_PATH | O_DIRECTORY, 0, SAFE_NOFOLLOW, err);
        if (devfd < 0)
                return devfd;
        for (size_t i = 0; i < ELEMENTSOF(links); i++) {
                if (streq(links[i].name, "ptmx") && !has_mount_at(s, "/dev/pts"))
                        continue;
                if (symlinkat(links[i].target, devfd, links[i].name) < 0 && errno != EEXIST)
                        return herror_sys(err, errno, "create /dev/%s", links[i].name);
        }
        return 0;
}

/* Masked and read-only paths name what may not exist in this image: absent is fine, 0 with *ret_fd -1. */
static int open_if_present(int rootfd, const char *path, int *ret_fd, struct herror *err)
{
        /* no message unless it is an error: formatting one allocates, and the init allocates nothing on its
         * success path (most images lack some of these paths) */
        int fd = safe_openat(rootfd, path, O_PATH, 0, SAFE_NOFOLLOW, NULL);
        *ret_fd = -1;
        if (fd == -ENOENT || fd == -ENOTDIR)
                return 0;
        if (fd < 0)
                return herror_sys(err, -fd, "open %s in the rootfs", path);
        *ret_fd = fd;
        return 0;
}

static int mask_path(int rootfd, int devnullfd, const char *path, struct herror *err)
{
        _cleanup_close_ int fd = -1;
        int r = open_if_present(rootfd, path, &fd, err);
        if (r < 0 || fd < 0)
                return r;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return herror_sys(err, errno, "stat %s", path);
        if (S_ISDIR(st.st_mode)) {
                _cleanup_close_ int mfd = fs_mount_detached("tmpfs", "tmpfs", "size=0,mode=0500",
                                                            MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, path, err);
                return mfd < 0 ? mfd : attach(mfd, fd, path, err);
        }
        /* Always the host's /dev/null held by fd: a /dev/null the container replaced with a symlink
         * cannot redirect this (CVE-2025-31133). */
        _cleanup_close_ int mfd = bind_tree(devnullfd, "", false, path, err);
        return mfd < 0 ? mfd : attach(mfd, fd, path, err);
}

static int readonly_path(int rootfd, const char *path, struct herror *err)
{
        _cleanup_close_ int fd = -1;
        int r = open_if_present(rootfd, path, &fd, err);
        if (r < 0 || fd < 0)
                return r;
        _cleanup_close_ int mfd = bind_tree(fd, "", true, path, err);
        if (mfd < 0)
                return mfd;
        r = set_attrs(mfd, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, 0, true, path,
                      err);
        return r < 0 ? r : attach(mfd, fd, path, err);
}

static int open_rootfs(const struct spec *s, int bundle_dirfd, struct herror *err)
{
        const char *p = s->root_path;
        int fd;
        /* O_PATH|O_DIRECTORY|O_NOFOLLOW: a rootfs that is a symlink fails with ENOTDIR. */
        if (p[0] == '/') {
                fd = open(p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        fd = -errno;
        } else {
                fd = safe_openat(bundle_dirfd, p, O_PATH | O_DIRECTORY, 0, SAFE_NO_SYMLINKS | SAFE_BENEATH, NULL);
        }
        if (fd < 0) {
                if (fd == -ENOTDIR || fd == -ELOOP)
                        return herror_set(err, -fd, ".root.path: %s is not a directory (a symlinked rootfs is refused)",
                                          p);
                return herror_sys(err, -fd, ".root.path: open %s", p);
        }
        return fd;
}

/* The rootfs becomes a mount of its own so pivot_root can take it; the returned fd is that mount. */
static int bind_rootfs(int dirfd, struct herror *err)
{
        int mfd = bind_tree(dirfd, "", true, "the rootfs", err);
        if (mfd < 0)
                return mfd;
        int r = attach(mfd, dirfd, "the rootfs", err);
        if (r < 0) {
                close(mfd);
                return r;
        }
        return mfd;
}

/* overlayfs splits lowerdir on ':' and takes '\\' as an escape. */
static int overlay_escape(const char *path, char *buf, size_t size, struct herror *err)
{
        size_t j = 0;
        for (size_t i = 0; path[i]; i++) {
                if (j + 3 > size)
                        return herror_set(err, ENAMETOOLONG, "overlay layer path %s is too long", path);
                if (path[i] == ':' || path[i] == '\\')
                        buf[j++] = '\\';
                buf[j++] = path[i];
        }
        buf[j] = 0;
        return 0;
}

/* context: linux.mountLabel, so every file of the rootfs carries the container's file label (podman labels
 * its storage for the same reason). */
static int overlay_mount(const struct rootfs_overlay *ov, const char *top, const char *context, struct herror *err)
{
        char lower[PATH_MAX], upper[PATH_MAX], work[PATH_MAX];
        int r = overlay_escape(ov->lower, lower, sizeof lower, err);
        if (r < 0)
                return r;
        if (snprintf(upper, sizeof upper, "%s/upper", top) >= (int) sizeof upper ||
            snprintf(work, sizeof work, "%s/work", top) >= (int) sizeof work)
                return herror_set(err, ENAMETOOLONG, "the container directory %s is too long", top);
        _cleanup_close_ int fsfd = fsopen("overlay", FSOPEN_CLOEXEC);
        if (fsfd < 0)
                return herror_sys(err, errno, "fsopen overlay (native overlayfs needs Linux 5.11 in a user namespace)");
        if (fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir", lower, 0) < 0 ||
            fsconfig(fsfd, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0 ||
            fsconfig(fsfd, FSCONFIG_SET_STRING, "workdir", work, 0) < 0 ||
            (ov->userxattr && fsconfig(fsfd, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0) ||
            (context && fsconfig(fsfd, FSCONFIG_SET_STRING, "context", context, 0) < 0))
                return fs_error(fsfd, errno, "the overlay rootfs", "configure", err);
        if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return fs_error(fsfd, errno, "the overlay rootfs", "create", err);
        int mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, 0);
        if (mfd < 0)
                return fs_error(fsfd, errno, "the overlay rootfs", "mount", err);
        return mfd;
}

int overlay_mode_from_string(const char *s)
{
        if (!s || !s[0] || streq(s, "auto"))
                return OVERLAY_AUTO;
        if (streq(s, "native"))
                return OVERLAY_NATIVE;
        if (streq(s, "fuse"))
                return OVERLAY_FUSE;
        return -EINVAL;
}

/* A FUSE connection mounted by us (in this user namespace, so that the kernel accepts it), detached, with
 * the kernel checking permissions and every ID of the namespace allowed in. *ret_fusefd: its /dev/fuse. */
static int fuse_mount(int *ret_fusefd, struct herror *err)
{
        _cleanup_close_ int fusefd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
        if (fusefd < 0)
                return herror_sys(err, errno, "open /dev/fuse");
        _cleanup_close_ int fsfd = fsopen("fuse", FSOPEN_CLOEXEC);
        if (fsfd < 0)
                return herror_sys(err, errno, "fsopen fuse (FUSE in a user namespace needs Linux 4.18)");
        char fdstr[16];
        snprintf(fdstr, sizeof fdstr, "%d", fusefd);
        static const char *const strings[][2] = {
                { "source", "fuse-overlayfs" },
                { "subtype", "fuse-overlayfs" },
                { "rootmode", "40000" },
                { "user_id", "0" },
                { "group_id", "0" },
        };
        for (size_t i = 0; i < ELEMENTSOF(strings); i++)
                if (fsconfig(fsfd, FSCONFIG_SET_STRING, strings[i][0], strings[i][1], 0) < 0)
                        return fs_error(fsfd, errno, "the FUSE rootfs", "configure", err);
        if (fsconfig(fsfd, FSCONFIG_SET_STRING, "fd", fdstr, 0) < 0 ||
            fsconfig(fsfd, FSCONFIG_SET_FLAG, "allow_other", NULL, 0) < 0 ||
            fsconfig(fsfd, FSCONFIG_SET_FLAG, "default_permissions", NULL, 0) < 0)
                return fs_error(fsfd, errno, "the FUSE rootfs", "configure", err);
        if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return fs_error(fsfd, errno, "the FUSE rootfs", "create", err);
        int mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, 0);
        if (mfd < 0)
                return fs_error(fsfd, errno, "the FUSE rootfs", "mount", err);
        *ret_fusefd = TAKE_FD(fusefd);
        return mfd;
}

/* The launcher starts the daemon before the mount is attached anywhere (fuse-overlay.h says why). */
static int fuse_overlay_mount(const struct rootfs_fuse_hook *fuse, const char *why, struct herror *err)
{
        if (!fuse)
                return herror_set(err, EOPNOTSUPP, "no fuse-overlayfs fallback here");
        int fusefd = -1;
        _cleanup_close_ int mfd = fuse_mount(&fusefd, err);
        if (mfd < 0)
                return mfd;
        int r = fuse->start(fusefd, why, fuse->userdata, err);
        close(fusefd); /* the daemon holds the connection now: if it dies, access fails rather than hangs */
        return r < 0 ? r : TAKE_FD(mfd);
}

/* Native overlayfs, or (by mode) fuse-overlayfs; in auto mode a refusal of the first is said in the error of
 * the second. */
static int overlay_choose(const struct rootfs_overlay *ov, const char *top, const char *context,
                          const struct rootfs_fuse_hook *fuse, struct herror *err)
{
        if (ov->mode == OVERLAY_FUSE)
                return fuse_overlay_mount(fuse, "HUTCH_OVERLAY=fuse", err);
        _cleanup_herror_ struct herror native = HERROR_INIT;
        int mfd = overlay_mount(ov, top, context, &native);
        if (mfd >= 0 || ov->mode == OVERLAY_NATIVE || !fuse) {
                if (mfd < 0)
                        herror_set(err, native.errnum, "%s", herror_msg(&native));
                return mfd;
        }
        char why[256];
        snprintf(why, sizeof why, "native overlayfs was refused: %s", herror_msg(&native));
        mfd = fuse_overlay_mount(fuse, why, err);
        if (mfd < 0)
                herror_wrap(err, "native overlayfs was refused (%s), and the fuse-overlayfs fallback failed",
                            herror_msg(&native));
        return mfd;
}

/* The tmpfs goes on root.path (in this mount namespace only), the overlay on its "merged". */
static int overlay_rootfs(const struct spec *s, int dirfd, const struct rootfs_overlay *ov,
                          const struct rootfs_fuse_hook *fuse, struct herror *err)
{
        if (s->root_path[0] != '/')
                return herror_set(err, EINVAL, ".root.path: an overlay rootfs needs an absolute path");
        char data[64] = "mode=0700";
        if (ov->tmpfs_size)
                snprintf(data, sizeof data, "mode=0700,size=%llu", (unsigned long long) ov->tmpfs_size);
        const char *context = rootfs_mount_context(s, "tmpfs");
        _cleanup_close_ int tmp = fs_mount_detached_labeled("tmpfs", "tmpfs", data, context, MS_NOSUID | MS_NODEV,
                                                            "the container's writable layer", err);
        if (tmp < 0)
                return tmp;
        if (mkdirat(tmp, "upper", 0755) < 0 || mkdirat(tmp, "work", 0700) < 0 || mkdirat(tmp, "merged", 0755) < 0)
                return herror_sys(err, errno, "create the overlay directories");
        int r = attach(tmp, dirfd, s->root_path, err);
        if (r < 0)
                return r;
        _cleanup_close_ int mfd = overlay_choose(ov, s->root_path, context, fuse, err);
        if (mfd < 0)
                return mfd;
        _cleanup_close_ int merged = openat(tmp, "merged", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (merged < 0)
                return herror_sys(err, errno, "open the overlay mount point");
        if ((r = attach(mfd, merged, "the overlay rootfs", err)) < 0)
                return r;
        return TAKE_FD(mfd);
}

static int pivot_into(int rootfd, struct herror *err)
{
        if (fchdir(rootfd) < 0)
                return herror_sys(err, errno, "chdir into the rootfs");
        /* pivot_root(".", ".") stacks the old root under the new one; detaching "." then drops it
         * without needing a directory for it in the image (runc's trick). */
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return herror_sys(err, errno, "pivot_root");
        if (umount2(".", MNT_DETACH) < 0)
                return herror_sys(err, errno, "detach the old root");
        if (chdir("/") < 0)
                return herror_sys(err, errno, "chdir /");
        return 0;
}

int rootfs_setup(const struct spec *s, int bundle_dirfd, const struct rootfs_overlay *ov,
                 const struct rootfs_fuse_hook *fuse, struct rootfs_state *st, struct herror *err)
{
        unsigned long prop = s->rootfs_propagation ? s->rootfs_propagation : (MS_REC | MS_PRIVATE);
        if (mount(NULL, "/", NULL, prop | MS_REC, NULL) < 0)
                return herror_sys(err, errno, "make / %s", (prop & MS_SHARED) ? "shared" : "private");
        st->devnullfd = open("/dev/null", O_PATH | O_CLOEXEC);
        if (st->devnullfd < 0)
                return herror_sys(err, errno, "open the host /dev/null");
        _cleanup_close_ int dirfd = open_rootfs(s, bundle_dirfd, err);
        if (dirfd < 0)
                return dirfd;
        st->rootfd = ov ? overlay_rootfs(s, dirfd, ov, fuse, err) : bind_rootfs(dirfd, err);
        if (st->rootfd < 0)
                return st->rootfd;
        int r;
        for (size_t i = 0; i < s->n_mounts; i++)
                if ((r = setup_mount(s, &s->mounts[i], bundle_dirfd, st->rootfd, i, err)) < 0)
                        return r;
        if ((r = setup_dev(s, st->rootfd, err)) < 0)
                return r;
        for (size_t i = 0; s->masked_paths && s->masked_paths[i]; i++)
                if ((r = mask_path(st->rootfd, st->devnullfd, s->masked_paths[i], err)) < 0)
                        return herror_wrap(err, ".linux.maskedPaths[%zu]", i);
        for (size_t i = 0; s->readonly_paths && s->readonly_paths[i]; i++)
                if ((r = readonly_path(st->rootfd, s->readonly_paths[i], err)) < 0)
                        return herror_wrap(err, ".linux.readonlyPaths[%zu]", i);
        if (s->namespaces[NS_PID].enabled) {
                int pfd = rootfs_private_proc(err);
                if (pfd < 0)
                        return pfd;
                st->procfd = pfd;
        }
        if (s->root_readonly && (r = set_attrs(st->rootfd, MOUNT_ATTR_RDONLY, 0, false, "/", err)) < 0)
                return r;
        return pivot_into(st->rootfd, err);
}

int rootfs_apply_sysctl(const struct spec *s, const struct rootfs_state *st, struct herror *err)
{
        if (s->n_sysctl == 0)
                return 0;
        if (st->procfd < 0)
                return herror_set(err, EOPNOTSUPP, ".linux.sysctl: needs a pid namespace of the container's own");
        for (size_t i = 0; i < s->n_sysctl; i++) {
                char path[512] = "sys/";
                size_t off = 4;
                for (const char *k = s->sysctl[i].key; *k && off < sizeof path - 1; k++)
                        path[off++] = *k == '.' ? '/' : *k;
                path[off] = 0;
                struct open_how how = {
                        .flags = O_WRONLY | O_CLOEXEC | O_TRUNC,
                        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS,
                };
                _cleanup_close_ int fd = (int) syscall(SYS_openat2, st->procfd, path, &how, sizeof how);
                if (fd < 0)
                        return herror_sys(err, errno, ".linux.sysctl.%s: open /proc/%s", s->sysctl[i].key, path);
                const char *v = s->sysctl[i].value;
                if (write_all(fd, v, strlen(v)) < 0)
                        return herror_sys(err, errno, ".linux.sysctl.%s: write", s->sysctl[i].key);
        }
        return 0;
}

int rootfs_private_proc(struct herror *err)
{
        return fs_mount_detached("proc", "proc", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC, "a private /proc", err);
}

void rootfs_state_release(struct rootfs_state *st)
{
        closep(&st->rootfd);
        closep(&st->devnullfd);
        closep(&st->procfd);
        st->rootfd = st->devnullfd = st->procfd = -1;
}
