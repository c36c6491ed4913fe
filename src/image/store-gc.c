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
#include "image/store-gc.h"
#include "image/store-sigs.h"
#include "image/unpack.h"
#include "util/safepath.h"

struct digest_set {
        struct digest *v;
        size_t n;
};

static int set_add(struct digest_set *set, const struct digest *d, struct herror *err)
{
        struct digest *nv = realloc(set->v, (set->n + 1) * sizeof *nv);
        if (!nv)
                return herror_set(err, ENOMEM, "out of memory");
        set->v = nv;
        set->v[set->n++] = *d;
        return 0;
}

static int cmp_digest(const void *a, const void *b)
{
        return strcmp(((const struct digest *) a)->hex, ((const struct digest *) b)->hex);
}

static bool set_has_hex(const struct digest_set *set, const char *hex)
{
        struct digest key;
        snprintf(key.hex, sizeof key.hex, "%s", hex);
        return set->n && bsearch(&key, set->v, set->n, sizeof *set->v, cmp_digest);
}

static bool is_hex64(const char *s)
{
        if (strlen(s) != DIGEST_HEX_LEN)
                return false;
        for (const char *c = s; *c; c++)
                if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
                        return false;
        return true;
}

static int sort_unique(struct digest_set *set)
{
        if (set->n)
                qsort(set->v, set->n, sizeof *set->v, cmp_digest);
        size_t k = 0;
        for (size_t i = 0; i < set->n; i++)
                if (k == 0 || !digest_equal(&set->v[i], &set->v[k - 1]))
                        set->v[k++] = set->v[i];
        set->n = k;
        return 0;
}

/* Whether a container uses the image's rootfs cache (rootfs.h): such an image is not unused. */
static bool image_in_use(int rootfsdirfd, const struct digest *d)
{
        _cleanup_herror_ struct herror why = HERROR_INIT;
        int fd = -1;
        int r = rootfsdirfd < 0 ? 0 : rootfs_lock_for_removal(rootfsdirfd, d->hex, &fd, &why);
        closep(&fd);
        return r == -EBUSY;
}

/* The unnamed images (podman's dangling ones) go, unless a container uses one: that one is kept whole,
 * like a named image. Their record goes first (not in a dry run), so that an image is never listed with
 * blobs missing. */
static int collect_unnamed(struct image_store *s, struct digest_set *kept, bool dry_run, struct store_prune_stats *st,
                           struct herror *err)
{
        struct digest *unnamed = NULL;
        struct digest_set busy = { 0 }; /* added to kept after the loop, which searches it sorted */
        size_t n = 0;
        int r = store_unnamed_list(s, &unnamed, &n, err);
        if (r < 0)
                return r;
        _cleanup_close_ int rootfsdirfd =
                safe_openat(s->rootfd, "rootfs", O_RDONLY | O_DIRECTORY, 0, SAFE_BENEATH | SAFE_NO_SYMLINKS, NULL);
        for (size_t i = 0; r == 0 && i < n; i++) {
                if (set_has_hex(kept, unnamed[i].hex))
                        continue; /* named meanwhile (store_ref_set takes it off the list) */
                if (image_in_use(rootfsdirfd, &unnamed[i])) {
                        st->images_busy++;
                        r = set_add(&busy, &unnamed[i], err);
                        continue;
                }
                if (!dry_run)
                        r = store_unnamed_remove(s, &unnamed[i], err);
                st->images_removed++;
        }
        for (size_t i = 0; r == 0 && i < busy.n; i++)
                r = set_add(kept, &busy.v[i], err);
        free(unnamed);
        free(busy.v);
        return r < 0 ? r : sort_unique(kept);
}

/* The kept images: named ones, then (collect_unnamed) unnamed ones in use. */
static int collect_named(struct image_store *s, struct digest_set *named, struct herror *err)
{
        struct store_ref *refs = NULL;
        size_t n = 0;
        int r = store_ref_list(s, &refs, &n, err);
        if (r < 0)
                return r;
        for (size_t i = 0; r == 0 && i < n; i++)
                r = set_add(named, &refs[i].digest, err);
        store_ref_list_free(refs, n);
        return r < 0 ? r : sort_unique(named);
}

/* Everything the kept images reference. A kept image that cannot be read stops the prune. */
static int collect_referenced(struct image_store *s, const struct digest_set *kept, struct digest_set *keep,
                              struct herror *err)
{
        int r = 0;
        for (size_t i = 0; r == 0 && i < kept->n; i++) {
                struct oci_manifest m = { 0 };
                struct oci_config c = { 0 };
                char ds[DIGEST_STRING_MAX];
                r = store_read_image(s, &kept->v[i], &m, &c, err);
                if (r < 0) {
                        herror_wrap(err, "image %s", digest_to_string(&kept->v[i], ds));
                        break;
                }
                r = set_add(keep, &kept->v[i], err);
                if (r == 0)
                        r = set_add(keep, &m.config.digest, err);
                for (size_t k = 0; r == 0 && k < m.n_layers; k++)
                        r = set_add(keep, &m.layers[k].digest, err);
                oci_manifest_done(&m);
                oci_config_done(&c);
        }
        return r;
}

static DIR *open_dir_at(struct image_store *s, const char *name, struct herror *err)
{
        int fd = safe_openat(s->rootfd, name, O_RDONLY | O_DIRECTORY, 0, SAFE_BENEATH | SAFE_NO_SYMLINKS, err);
        if (fd == -ENOENT) {
                herror_clear(err);
                errno = ENOENT;
                return NULL;
        }
        if (fd < 0) {
                errno = -fd;
                return NULL;
        }
        DIR *d = fdopendir(fd);
        if (!d) {
                int e = errno;
                close(fd);
                herror_sys(err, e, "image store %s: %s", s->path, name);
                errno = e;
        }
        return d;
}

/* Sigs files of manifests without a name. */
static int prune_sigs(struct image_store *s, const struct digest_set *named, bool dry_run, struct store_prune_stats *st,
                      struct herror *err)
{
        DIR *d = open_dir_at(s, "sigs", err);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        int r = 0;
        struct dirent *de;
        while (r == 0 && (errno = 0, de = readdir(d))) {
                char hex[DIGEST_HEX_LEN + 1];
                size_t len = strlen(de->d_name);
                /* <hex>.json (signatures) and <hex>.origin (the layout it came from), see store-sigs.h */
                bool ours = (len == DIGEST_HEX_LEN + 5 && streq(de->d_name + DIGEST_HEX_LEN, ".json")) ||
                        (len == DIGEST_HEX_LEN + 7 && streq(de->d_name + DIGEST_HEX_LEN, ".origin"));
                if (!ours)
                        continue;
                snprintf(hex, sizeof hex, "%.*s", DIGEST_HEX_LEN, de->d_name);
                if (!is_hex64(hex) || set_has_hex(named, hex))
                        continue;
                struct digest m;
                snprintf(m.hex, sizeof m.hex, "%s", hex);
                if (!dry_run)
                        r = store_sigs_remove(s, &m, err);
                st->sigs_removed++;
        }
        if (r == 0 && errno)
                r = herror_sys(err, errno, "image store %s: read sigs", s->path);
        closedir(d);
        return r;
}

static int prune_blobs(struct image_store *s, const struct digest_set *keep, bool dry_run, struct store_prune_stats *st,
                       struct herror *err)
{
        DIR *d = open_dir_at(s, "blobs/sha256", err);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        int dfd = dirfd(d), r = 0;
        struct dirent *de;
        while (r == 0 && (errno = 0, de = readdir(d))) {
                bool temp = strncmp(de->d_name, ".tmp-", 5) == 0;
                if (!temp && (!is_hex64(de->d_name) || set_has_hex(keep, de->d_name)))
                        continue;
                struct stat sb;
                if (fstatat(dfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(sb.st_mode))
                        continue;
                if (!dry_run && unlinkat(dfd, de->d_name, 0) < 0 && errno != ENOENT) {
                        r = herror_sys(err, errno, "image store %s: remove blob %s", s->path, de->d_name);
                        break;
                }
                if (temp)
                        st->leftovers_removed++;
                else {
                        st->blobs_removed++;
                        st->bytes_freed += (uint64_t) sb.st_size;
                }
        }
        if (r == 0 && errno)
                r = herror_sys(err, errno, "image store %s: read blobs", s->path);
        if (r == 0 && !dry_run && fsync(dfd) < 0)
                r = herror_sys(err, errno, "image store %s: sync blobs", s->path);
        closedir(d);
        return r;
}

/* A complete rootfs goes out of sight by one rename before it is removed (as rootfs_remove does), and
 * not while a container uses it: 1 then (kept), with nothing in err. dry_run: only that check. */
static int remove_rootfs_entry(struct image_store *s, int dfd, const char *name, bool complete, bool dry_run,
                               struct herror *err)
{
        char tmp[DIGEST_HEX_LEN + 32];
        _cleanup_close_ int pinfd = -1;
        if (complete) {
                _cleanup_herror_ struct herror why = HERROR_INIT;
                int r = rootfs_lock_for_removal(dfd, name, &pinfd, &why);
                if (r == -EBUSY)
                        return 1;
                if (r < 0)
                        return herror_set(err, why.errnum, "image store %s: %s", s->path, herror_msg(&why));
        }
        if (dry_run)
                return 0;
        if (complete) {
                uint32_t rnd;
                if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd)
                        rnd = (uint32_t) getpid();
                snprintf(tmp, sizeof tmp, "%s.tmp-rm-%08x", name, rnd);
                if (renameat(dfd, name, dfd, tmp) < 0)
                        return errno == ENOENT
                                ? 0
                                : herror_sys(err, errno, "image store %s: rootfs/%s: rename", s->path, name);
                name = tmp;
        }
        return rootfs_remove_tree_at(dfd, name, err);
}

static int prune_rootfs(struct image_store *s, const struct digest_set *named, bool dry_run,
                        struct store_prune_stats *st, struct herror *err)
{
        DIR *d = open_dir_at(s, "rootfs", err);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        int dfd = dirfd(d), r = 0;
        /* Collect first: renaming while readdir() walks the same directory may show an entry twice. */
        char **names = NULL;
        size_t n = 0;
        bool *complete = NULL;
        struct dirent *de;
        while ((errno = 0, de = readdir(d))) {
                bool whole = is_hex64(de->d_name);
                bool temp =
                        strlen(de->d_name) > DIGEST_HEX_LEN && strncmp(de->d_name + DIGEST_HEX_LEN, ".tmp-", 5) == 0;
                if (!temp && !(whole && !set_has_hex(named, de->d_name)))
                        continue;
                char **nn = realloc(names, (n + 1) * sizeof *nn);
                bool *nc = nn ? realloc(complete, (n + 1) * sizeof *nc) : NULL;
                if (nn)
                        names = nn;
                if (nc)
                        complete = nc;
                if (!nn || !nc || !(names[n] = strdup(de->d_name))) {
                        r = herror_set(err, ENOMEM, "out of memory");
                        break;
                }
                complete[n++] = whole;
        }
        if (r == 0 && errno)
                r = herror_sys(err, errno, "image store %s: read rootfs", s->path);
        for (size_t i = 0; r == 0 && i < n; i++) {
                r = remove_rootfs_entry(s, dfd, names[i], complete[i], dry_run, err);
                if (r == 1) {
                        st->rootfs_busy++;
                        r = 0;
                } else if (complete[i])
                        st->rootfs_removed++;
                else
                        st->leftovers_removed++;
        }
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        free(complete);
        closedir(d);
        return r;
}

static int prune_tmp(struct image_store *s, bool dry_run, struct store_prune_stats *st, struct herror *err)
{
        DIR *d = open_dir_at(s, "tmp", err);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        int r = 0;
        struct dirent *de;
        while (r == 0 && (errno = 0, de = readdir(d))) {
                if (strncmp(de->d_name, "import-", 7) != 0)
                        continue;
                /* A load extracting right now holds its directory's lock (store.h): not a leftover. */
                if (!dry_run)
                        r = store_remove_stale_import(dirfd(d), de->d_name, err);
                else {
                        _cleanup_close_ int fd =
                                openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        r = fd >= 0 && flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
                }
                if (r == 0)
                        st->leftovers_removed++;
                r = r < 0 ? r : 0;
        }
        if (r == 0 && errno)
                r = herror_sys(err, errno, "image store %s: read tmp", s->path);
        closedir(d);
        return r;
}

int store_prune(struct image_store *s, bool dry_run, struct store_prune_stats *ret, struct herror *err)
{
        struct store_prune_stats st = { 0 };
        struct digest_set named = { 0 }, keep = { 0 };
        int r = store_lock(s, err);
        if (r < 0)
                return r;
        /* Named images first: an image named while we look is kept either way. */
        r = collect_named(s, &named, err);
        if (r == 0)
                r = collect_unnamed(s, &named, dry_run, &st, err);
        if (r == 0)
                r = collect_referenced(s, &named, &keep, err);
        /* Signatures of unnamed manifests go first, so that their payloads are not counted as referenced. */
        if (r == 0)
                r = prune_sigs(s, &named, dry_run, &st, err);
        if (r == 0 && !dry_run)
                r = store_sigs_payload_digests(s, &keep.v, &keep.n, err);
        if (r == 0 && dry_run) {
                /* Nothing was removed: count only the payloads of named manifests' signatures. */
                for (size_t i = 0; r == 0 && i < named.n; i++) {
                        struct store_signature *sigs = NULL;
                        size_t ns = 0;
                        r = store_sigs_list(s, &named.v[i], &sigs, &ns, err);
                        for (size_t k = 0; r == 0 && k < ns; k++) {
                                struct digest pd;
                                r = digest_buffer(sigs[k].payload, sigs[k].payload_len, &pd, err);
                                if (r == 0)
                                        r = set_add(&keep, &pd, err);
                        }
                        store_signatures_free(sigs, ns);
                }
        }
        if (r == 0 && keep.n)
                qsort(keep.v, keep.n, sizeof *keep.v, cmp_digest);
        if (r == 0)
                r = prune_blobs(s, &keep, dry_run, &st, err);
        if (r == 0)
                r = prune_rootfs(s, &named, dry_run, &st, err);
        if (r == 0)
                r = prune_tmp(s, dry_run, &st, err);
        store_unlock(s);
        free(named.v);
        free(keep.v);
        if (r == 0 && ret)
                *ret = st;
        return r;
}
