#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/rootfs.h"
#include "util/safepath.h"

#define TMP_SUFFIX ".tmp-"

void rootfs_options_init(struct rootfs_options *opts)
{
        *opts = (struct rootfs_options) { .limits = UNPACK_LIMITS_DEFAULT, .chown = geteuid() == 0 };
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
                int r = image_remove_tree_at(dirfd, de->d_name, err);
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
                      const struct rootfs_options *opts, struct herror *err)
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
                        .chown = opts->chown,
                        .progress = opts->progress,
                        .progress_userdata = opts->userdata,
                };
                int r = unpack_layer(fd, targetfd, &uo, NULL, err);
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
        r = unpack_all(s, &m, &c, tfd, opts, err);
        /* Durable before it is visible: a crash must not leave a complete-looking, partial tree. */
        if (r == 0 && syncfs(tfd) < 0)
                r = herror_sys(err, errno, "rootfs: sync");
        if (r == 0 && renameat(dirfd, tmp, dirfd, manifest->hex) < 0)
                r = herror_sys(err, errno, "rootfs: rename %s into place", tmp);
        if (r < 0) {
                (void) image_remove_tree_at(dirfd, tmp, NULL);
                goto out;
        }
        (void) fsync(dirfd);
out:
        oci_manifest_done(&m);
        oci_config_done(&c);
        return r;
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
        int fd = open_existing(dirfd, manifest);
        bool created = false;
        if (fd == -ENOENT) {
                int r = store_lock(s, err);
                if (r < 0)
                        return r;
                fd = open_existing(dirfd, manifest); /* someone may have finished while we waited */
                if (fd == -ENOENT) {
                        r = remove_stale(dirfd, manifest, err);
                        if (r == 0)
                                r = create_rootfs(s, dirfd, manifest, opts, err);
                        fd = r < 0 ? r : open_existing(dirfd, manifest);
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
                r = image_remove_tree_at(dirfd, tmp, err);
        store_unlock(s);
        return r;
}
