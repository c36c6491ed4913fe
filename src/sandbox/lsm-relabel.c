/* -v SRC:DST:z / :Z: give a volume the container's file label so an SELinux-confined container may use
 * it, as podman does: shared (:z, level s0) or private (:Z, the container's own MCS level). The tree is
 * walked by file descriptor, each entry labelled through /proc/self/fd/<dir>/<name> without following
 * it, so a symlink swapped in during the walk cannot send a label outside the volume. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox/lsm-dl.h"
#include "sandbox/lsm.h"
#include "util/cleanup.h"

#define RELABEL_MAX_DEPTH 256

bool lsm_relabel_refused(const char *path, const char *home)
{
        /* the system's own directories, relabelled once, would stop the host's services from reading them */
        static const char *const exact[] = {
                "/",       "/bin",   "/boot", "/dev", "/etc",     "/home",    "/lib",     "/lib32",     "/lib64",
                "/libx32", "/media", "/mnt",  "/opt", "/proc",    "/root",    "/run",     "/sbin",      "/srv",
                "/sys",    "/tmp",   "/usr",  "/var", "/var/lib", "/var/log", "/var/tmp", "/var/spool", "/var/cache",
        };
        static const char *const trees[] = { "/boot/", "/dev/", "/etc/", "/proc/", "/sys/", "/usr/" };
        for (size_t i = 0; i < ELEMENTSOF(exact); i++)
                if (streq(path, exact[i]))
                        return true;
        for (size_t i = 0; i < ELEMENTSOF(trees); i++)
                if (strncmp(path, trees[i], strlen(trees[i])) == 0)
                        return true;
        return home && home[0] && streq(path, home);
}

#if HAVE_SELINUX
static int label_at(int dirfd, const char *name, const char *label, const char *shown, struct herror *err)
{
        char p[64 + 256];
        if (name)
                snprintf(p, sizeof p, "/proc/self/fd/%d/%s", dirfd, name);
        else
                snprintf(p, sizeof p, "/proc/self/fd/%d", dirfd);
        /* name: lsetfilecon labels the entry itself, never what it links to; no name: the magic link is
         * followed to the directory the fd holds */
        int r = name ? lsetfilecon(p, label) : setfilecon(p, label);
        if (r < 0)
                return herror_sys(err, errno, "relabel %s as %s", shown, label);
        return 0;
}

static int relabel_dir(int dirfd, dev_t dev, const char *label, const char *top, unsigned depth, struct herror *err)
{
        if (depth > RELABEL_MAX_DEPTH)
                return herror_set(err, ELOOP, "relabel %s: deeper than %d directories", top, RELABEL_MAX_DEPTH);
        int dup_fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
        if (!d) {
                if (dup_fd >= 0)
                        close(dup_fd);
                return herror_sys(err, errno, "relabel %s: read a directory", top);
        }
        int r = 0;
        struct dirent *de;
        while (r == 0 && (de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                struct stat st;
                if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = herror_sys(err, errno, "relabel %s: stat %s", top, de->d_name);
                        break;
                }
                if (st.st_dev != dev)
                        continue; /* another filesystem mounted inside: not the volume's */
                r = label_at(dirfd, de->d_name, label, de->d_name, err);
                if (r == 0 && S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int sub =
                                openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        r = sub < 0 ? herror_sys(err, errno, "relabel %s: open %s", top, de->d_name)
                                    : relabel_dir(sub, dev, label, top, depth + 1, err);
                }
        }
        closedir(d);
        return r;
}
#endif

int lsm_relabel_walk(const char *path, const char *label, struct herror *err)
{
#if HAVE_SELINUX
        if (!lsm_dl_selinux())
                return herror_set(err, EOPNOTSUPP, "relabel %s: libselinux cannot be loaded", path);
        _cleanup_close_ int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
                return herror_sys(err, errno, "relabel %s", path);
        int r = label_at(fd, NULL, label, path, err);
        if (r < 0 || !S_ISDIR(st.st_mode))
                return r;
        _cleanup_close_ int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return dfd < 0 ? herror_sys(err, errno, "relabel %s", path) : relabel_dir(dfd, st.st_dev, label, path, 0, err);
#else
        return herror_set(err, EOPNOTSUPP, "relabel %s: hutch was built without libselinux", path);
#endif
}

int lsm_relabel_tree(const struct lsm_host *h, const char *path, const char *label, struct herror *err)
{
        if (!h->selinux || !HAVE_SELINUX || !label)
                return 0; /* podman: :z and :Z mean nothing where SELinux is off */
        if (lsm_relabel_refused(path, getenv("HOME")))
                return herror_set(err, EPERM,
                                  "refusing to relabel %s: a system directory or your home (relabel a "
                                  "directory below it instead)",
                                  path);
        return lsm_relabel_walk(path, label, err);
}
