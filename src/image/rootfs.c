#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/rootfs.h"
#include "image/unpack-confined.h"
#include "sandbox/isolate.h"
#include "util/log.h"
#include "util/safepath.h"

#define TMP_SUFFIX ".tmp-"

void rootfs_options_init(struct rootfs_options *opts)
{
        *opts = (struct rootfs_options) { .limits = UNPACK_LIMITS_DEFAULT,
                                          .chown = geteuid() == 0,
                                          .isolate = unpack_confinement_wanted() };
}

/* Removal inside the same kind of child: files the layers gave to subordinate IDs cannot be removed by
 * the user directly, only from the user namespace that maps them. Empties the tree at rootfd. */
static int empty_in_child(struct isolate_child *c, void *arg, struct herror *err)
{
        for (bool again = true; again;) {
                int dup_fd = fcntl(c->rootfd, F_DUPFD_CLOEXEC, 3);
                _cleanup_closedir_ DIR *d = dup_fd < 0 ? NULL : fdopendir(dup_fd);
                if (!d)
                        return herror_sys(err, errno, "open the tree");
                again = false;
                struct dirent *de;
                while ((errno = 0, de = readdir(d))) {
                        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                                continue;
                        int r = image_remove_tree_at(c->rootfd, de->d_name, err);
                        if (r < 0)
                                return r;
                        again = true;
                }
                if (errno)
                        return herror_sys(err, errno, "read the tree");
        }
        return 0;
}

static int remove_isolated(int dirfd, const char *name, struct herror *err)
{
        _cleanup_close_ int fd = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : herror_sys(err, errno, "open %s", name);
        struct isolate_plan plan;
        int r = isolate_plan_init(&plan, err);
        if (r < 0)
                return r;
        r = sandbox_isolated_call(&plan, &(struct isolate_opts) { .root_fd = fd }, empty_in_child, NULL, err);
        isolate_plan_done(&plan);
        if (r < 0)
                return herror_wrap(err, "remove %s", name);
        if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return herror_sys(err, errno, "remove %s", name);
        return 0;
}

int rootfs_remove_tree_at(int dirfd, const char *name, struct herror *err)
{
        _cleanup_herror_ struct herror direct = HERROR_INIT;
        int r = image_remove_tree_at(dirfd, name, &direct);
        if (r == -EACCES || r == -EPERM)
                return remove_isolated(dirfd, name, err);
        if (r < 0)
                return herror_set(err, direct.errnum, "%s", herror_msg(&direct));
        return 0;
}

int rootfs_path(const struct image_store *s, const struct digest *manifest, char **ret, struct herror *err)
{
        if (asprintf(ret, "%s/rootfs/%s", s->path, manifest->hex) < 0)
                return herror_set(err, ENOMEM, "out of memory");
        return 0;
}

static int open_rootfs_dir(struct image_store *s, struct herror *err)
{
        int fd = safe_openat(s->rootfd, "rootfs", O_RDONLY | O_DIRECTORY, 0, SAFE_BENEATH | SAFE_NO_SYMLINKS, err);
        if (fd < 0)
                herror_wrap(err, "image store %s", s->path);
        return fd;
}

static int open_existing(int dirfd, const struct digest *manifest)
{
        int fd = openat(dirfd, manifest->hex, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

/* Under the writers' lock no one else is unpacking: a leftover "<hex>.tmp-*" is from a process that
 * died, and goes. */
static int remove_stale(int dirfd, const struct digest *manifest, struct herror *err)
{
        int dup_fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        if (dup_fd < 0)
                return herror_sys(err, errno, "rootfs: dup");
        _cleanup_closedir_ DIR *d = fdopendir(dup_fd);
        if (!d) {
                close(dup_fd);
                return herror_sys(err, errno, "rootfs: opendir");
        }
        char prefix[DIGEST_HEX_LEN + sizeof TMP_SUFFIX];
        snprintf(prefix, sizeof prefix, "%s" TMP_SUFFIX, manifest->hex);
        struct dirent *de;
        while ((errno = 0, de = readdir(d))) {
                if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
                        continue;
                int r = rootfs_remove_tree_at(dirfd, de->d_name, err);
                if (r < 0)
                        return r;
        }
        return errno ? herror_sys(err, errno, "rootfs: readdir") : 0;
}

static int make_temp_dir(int dirfd, const struct digest *manifest, char *name, size_t size, struct herror *err)
{
        for (int attempt = 0; attempt < 100; attempt++) {
                uint32_t rnd;
                if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd)
                        rnd = (uint32_t) getpid() ^ (uint32_t) attempt;
                snprintf(name, size, "%s" TMP_SUFFIX "%08x", manifest->hex, rnd);
                if (mkdirat(dirfd, name, 0755) == 0)
                        break;
                if (errno != EEXIST)
                        return herror_sys(err, errno, "rootfs: create %s", name);
        }
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return herror_sys(err, errno, "rootfs: open %s", name);
        (void) fchmod(fd, 0755); /* the container's "/" */
        return fd;
}

static int unpack_all(struct image_store *s, const struct oci_manifest *m, const struct oci_config *c, int targetfd,
                      const struct rootfs_options *opts, const struct isolate_plan *plan, struct herror *err)
{
        char ds[DIGEST_STRING_MAX];
        for (size_t i = 0; i < m->n_layers; i++) {
                const struct oci_descriptor *l = &m->layers[i];
                if (opts->layer_started)
                        opts->layer_started(i, m->n_layers, l, opts->userdata);
                uint64_t size;
                _cleanup_close_ int fd = store_open_blob(s, &l->digest, &size, err);
                if (fd < 0)
                        return fd;
                if (size != l->size)
                        return herror_set(err, EBADMSG, "layer %zu (%s): stored size %llu, descriptor says %llu", i,
                                          digest_to_string(&l->digest, ds), (unsigned long long) size,
                                          (unsigned long long) l->size);
                struct unpack_options uo = {
                        .limits = opts->limits,
                        .diff_id = &c->diff_ids[i],
                        .compressed_size = l->size,
                        /* Isolated, owners are kept exactly when the child's map covers them. */
                        .chown = plan ? plan->keeps_owners : opts->chown,
                        .progress = opts->progress,
                        .progress_userdata = opts->userdata,
                };
                int r = unpack_layer_confined(plan, fd, targetfd, &uo, err);
                if (r < 0) {
                        herror_wrap(err, "layer %zu (%s)", i, digest_to_string(&l->digest, ds));
                        return r;
                }
        }
        return 0;
}

static int create_rootfs(struct image_store *s, int dirfd, const struct digest *manifest,
                         const struct rootfs_options *opts, struct herror *err)
{
        struct oci_manifest m = { 0 };
        struct oci_config c = { 0 };
        int r = store_read_image(s, manifest, &m, &c, err);
        if (r < 0)
                return r;
        char tmp[DIGEST_HEX_LEN + 32];
        _cleanup_close_ int tfd = make_temp_dir(dirfd, manifest, tmp, sizeof tmp, err);
        if (tfd < 0) {
                r = tfd;
                goto out;
        }
        struct isolate_plan plan;
        if (opts->isolate && (r = isolate_plan_init(&plan, err)) < 0)
                goto out;
        if (!opts->isolate)
                log_warn("unpacking %s without the isolated unpacker (HUTCH_UNPACK_SANDBOX=0): only the safe resolver "
                         "stands between a libarchive bug and your files",
                         manifest->hex);
        r = unpack_all(s, &m, &c, tfd, opts, opts->isolate ? &plan : NULL, err);
        if (opts->isolate)
                isolate_plan_done(&plan);
        /* Durable before it is visible: a crash must not leave a complete-looking, partial tree. */
        if (r == 0 && syncfs(tfd) < 0)
                r = herror_sys(err, errno, "rootfs: sync");
        if (r == 0 && renameat(dirfd, tmp, dirfd, manifest->hex) < 0)
                r = herror_sys(err, errno, "rootfs: rename %s into place", tmp);
        if (r < 0) {
                (void) rootfs_remove_tree_at(dirfd, tmp, NULL);
                goto out;
        }
        (void) fsync(dirfd);
out:
        oci_manifest_done(&m);
        oci_config_done(&c);
        return r;
}

/* The complete tree rootfs/<hex>, opened and pinned: a shared flock() on its fd tells removers
 * (rootfs_lock_for_removal) that a container uses it. A remover may have renamed the tree away between
 * our open and our lock (it holds LOCK_EX while it removes, so our lock waits for the end of that):
 * then the fd is no longer the tree under the name, and we look again. -ENOENT: no tree. */
static int pin_existing(int dirfd, const struct digest *manifest)
{
        for (int attempt = 0; attempt < 8; attempt++) {
                int fd = open_existing(dirfd, manifest);
                if (fd < 0)
                        return fd;
                struct stat a, b;
                if (flock(fd, LOCK_SH) < 0 || fstat(fd, &a) < 0) {
                        int e = -errno;
                        close(fd);
                        return e;
                }
                if (fstatat(dirfd, manifest->hex, &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_dev == b.st_dev &&
                    a.st_ino == b.st_ino)
                        return fd;
                close(fd);
        }
        return -ENOENT;
}

int rootfs_lock_for_removal(int rootfsdirfd, const char *name, int *ret_fd, struct herror *err)
{
        *ret_fd = -1;
        int fd = openat(rootfsdirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : herror_sys(err, errno, "rootfs/%s", name);
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                int e = errno;
                close(fd);
                if (e == EWOULDBLOCK)
                        return herror_set(err, EBUSY, "rootfs cache %.12s is in use by a running container", name);
                return herror_sys(err, e, "rootfs/%s: lock", name);
        }
        *ret_fd = fd;
        return 0;
}

int rootfs_ensure(struct image_store *s, const struct digest *manifest, const struct rootfs_options *opts, int *ret_fd,
                  bool *ret_created, struct herror *err)
{
        struct rootfs_options defaults;
        if (!opts) {
                rootfs_options_init(&defaults);
                opts = &defaults;
        }
        _cleanup_close_ int dirfd = open_rootfs_dir(s, err);
        if (dirfd < 0)
                return dirfd;
        int fd = pin_existing(dirfd, manifest);
        bool created = false;
        if (fd == -ENOENT) {
                int r = store_lock(s, err);
                if (r < 0)
                        return r;
                fd = pin_existing(dirfd, manifest); /* someone may have finished while we waited */
                if (fd == -ENOENT) {
                        r = remove_stale(dirfd, manifest, err);
                        if (r == 0)
                                r = create_rootfs(s, dirfd, manifest, opts, err);
                        fd = r < 0 ? r : pin_existing(dirfd, manifest);
                        created = r == 0;
                        if (r < 0) {
                                store_unlock(s);
                                return r;
                        }
                }
                store_unlock(s);
        }
        if (fd < 0)
                return herror_sys(err, -fd, "image store %s: rootfs/%s", s->path, manifest->hex);
        *ret_fd = fd;
        if (ret_created)
                *ret_created = created;
        return 0;
}

int rootfs_remove(struct image_store *s, const struct digest *manifest, struct herror *err)
{
        _cleanup_close_ int dirfd = open_rootfs_dir(s, err);
        if (dirfd < 0)
                return dirfd;
        int r = store_lock(s, err);
        if (r < 0)
                return r;
        /* Not while a container uses it (held until the tree is gone, so no one pins it meanwhile). */
        _cleanup_close_ int pinfd = -1;
        if ((r = rootfs_lock_for_removal(dirfd, manifest->hex, &pinfd, err)) < 0 || pinfd < 0) {
                store_unlock(s);
                return r;
        }
        /* Out of sight first, in one rename: removal killed halfway must not leave a partial tree under
         * the name rootfs_ensure() takes as complete. The temp name is one remove_stale() clears. */
        char tmp[DIGEST_HEX_LEN + 32];
        uint32_t rnd;
        if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd)
                rnd = (uint32_t) getpid();
        snprintf(tmp, sizeof tmp, "%s" TMP_SUFFIX "rm-%08x", manifest->hex, rnd);
        if (renameat(dirfd, manifest->hex, dirfd, tmp) < 0)
                r = errno == ENOENT ? 0 : herror_sys(err, errno, "rootfs: rename %s away", manifest->hex);
        else
                r = rootfs_remove_tree_at(dirfd, tmp, err);
        store_unlock(s);
        return r;
}
