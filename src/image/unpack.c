#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "image/archive-dl.h"
#include "image/unpack.h"
#include "image/unpack-stream.h"
#include "util/fileio.h"
#include "util/safepath.h"

#define WHITEOUT_PREFIX ".wh."
#define WHITEOUT_OPAQUE ".wh..wh..opq"

void unpack_options_init(struct unpack_options *opts)
{
        *opts = (struct unpack_options) {
                .limits = UNPACK_LIMITS_DEFAULT,
                .chown = geteuid() == 0,
        };
}

/* ---- the set of paths written by the current layer ----
 * Whiteouts hide lower layers only, and an opaque marker may come after siblings of its own layer
 * (layer.md), so the layer's own paths must be known: an open-addressing hash set of strings, one
 * per entry (plus its ancestors), bounded by limits.max_entries * limits.max_path_len. */

struct pathset {
        char **slots;
        size_t cap, n;
};

static uint64_t hash_str(const char *s)
{
        uint64_t h = 1469598103934665603ull; /* FNV-1a */
        for (; *s; s++)
                h = (h ^ (unsigned char) *s) * 1099511628211ull;
        return h;
}

static bool pathset_has(const struct pathset *set, const char *p)
{
        if (!set->cap)
                return false;
        for (size_t i = hash_str(p) & (set->cap - 1);; i = (i + 1) & (set->cap - 1)) {
                if (!set->slots[i])
                        return false;
                if (streq(set->slots[i], p))
                        return true;
        }
}

static int pathset_insert_owned(struct pathset *set, char *p)
{
        if ((set->n + 1) * 2 > set->cap) {
                size_t ncap = set->cap ? set->cap * 2 : 1024;
                char **ns = calloc(ncap, sizeof *ns);
                if (!ns)
                        return -ENOMEM;
                for (size_t k = 0; k < set->cap; k++) {
                        if (!set->slots[k])
                                continue;
                        size_t i = hash_str(set->slots[k]) & (ncap - 1);
                        while (ns[i])
                                i = (i + 1) & (ncap - 1);
                        ns[i] = set->slots[k];
                }
                free(set->slots);
                set->slots = ns;
                set->cap = ncap;
        }
        size_t i = hash_str(p) & (set->cap - 1);
        while (set->slots[i])
                i = (i + 1) & (set->cap - 1);
        set->slots[i] = p;
        set->n++;
        return 0;
}

/* Add p and every ancestor of it: an ancestor of a path this layer wrote is part of this layer's view,
 * so an opaque marker further up must keep it (and prune only inside it). */
static int pathset_add(struct pathset *set, const char *p)
{
        char buf[PATH_MAX];
        size_t len = strlen(p);
        if (len >= sizeof buf)
                return -ENAMETOOLONG;
        memcpy(buf, p, len + 1);
        for (;;) {
                if (!buf[0] || pathset_has(set, buf))
                        return 0;
                char *copy = strdup(buf);
                if (!copy)
                        return -ENOMEM;
                int r = pathset_insert_owned(set, copy);
                if (r < 0) {
                        free(copy);
                        return r;
                }
                char *slash = strrchr(buf, '/');
                if (!slash)
                        return 0;
                *slash = 0;
        }
}

static void pathset_done(struct pathset *set)
{
        for (size_t k = 0; k < set->cap; k++)
                free(set->slots[k]);
        free(set->slots);
        *set = (struct pathset) { 0 };
}

/* ---- context ---- */

struct unpack_ctx {
        int layerfd;
        int rootfd;
        const struct unpack_options *opts;
        struct layer_stream *stream; /* the uncompressed, hashed stream (unpack-stream.h) */
        struct archive *tar;         /* tar parsing of that stream */
        char *pathbuf;               /* normalised entry path */
        char *linkbuf;               /* normalised hardlink target */
        struct pathset set;
        struct unpack_stats stats;
        struct herror *err;
        bool failed; /* err was set inside a libarchive callback */
        bool is_root;
};

/* Untrusted names in messages: control characters replaced, shortened. */
static const char *q(const char *s, char buf[static 204])
{
        size_t i = 0;
        for (; s && s[i] && i < 200; i++)
                buf[i] = ((unsigned char) s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
        if (s && s[i]) {
                memcpy(buf + i, "...", 3);
                i += 3;
        }
        buf[i] = 0;
        return buf;
}

static ssize_t tar_read_cb(struct archive *a, void *userdata, const void **ret_buf)
{
        struct unpack_ctx *c = userdata;
        ssize_t n = layer_stream_next(c->stream, ret_buf, c->err);
        if (n < 0) {
                c->failed = true;
                archive_set_error(a, EIO, "%s", herror_msg(c->err));
                return -1;
        }
        return n;
}

static int open_archives(struct unpack_ctx *c)
{
        int r = layer_stream_open(c->layerfd, c->opts, &c->stream, c->err);
        if (r < 0)
                return r;
        c->tar = archive_read_new();
        if (!c->tar)
                return herror_set(c->err, ENOMEM, "layer: out of memory");
        /* Tar only, no filters: a tar inside the decompressed stream is not decompressed again. */
        if (archive_read_support_format_tar(c->tar) != ARCHIVE_OK ||
            archive_read_open2(c->tar, c, NULL, tar_read_cb, NULL, NULL) != ARCHIVE_OK) {
                if (c->failed)
                        return -c->err->errnum;
                return herror_set(c->err, EBADMSG, "layer: %s",
                                  archive_error_string(c->tar) ? archive_error_string(c->tar) : "not a tar archive");
        }
        return 0;
}

/* ---- paths ---- */

/* Normalise an entry path into out ("a/b/c"; "" for the root): "." and empty components dropped,
 * absolute paths and ".." refused, lengths bounded. what names the role in messages. */
static int normalize_path(struct unpack_ctx *c, const char *in, const char *what, const char *entry, char *out)
{
        char qb[204], qe[204];
        size_t max = c->opts->limits.max_path_len;
        if (!in)
                return herror_set(c->err, EINVAL, "layer entry \"%s\": %s missing", q(entry, qe), what);
        if (strlen(in) > max)
                return herror_set(c->err, ENAMETOOLONG, "layer entry \"%s\": %s longer than %zu bytes; layer refused",
                                  q(entry, qe), what, max);
        if (in[0] == '/')
                return herror_set(c->err, EPERM, "layer entry \"%s\": %s \"%s\" is absolute; layer refused",
                                  q(entry, qe), what, q(in, qb));
        size_t o = 0;
        for (const char *p = in; *p;) {
                size_t len = strcspn(p, "/");
                if (len == 2 && p[0] == '.' && p[1] == '.')
                        return herror_set(c->err, EPERM, "layer entry \"%s\": %s \"%s\" contains \"..\"; layer refused",
                                          q(entry, qe), what, q(in, qb));
                if (len > NAME_MAX)
                        return herror_set(c->err, ENAMETOOLONG,
                                          "layer entry \"%s\": a component is longer than %d bytes", q(entry, qe),
                                          NAME_MAX);
                if (len > 0 && !(len == 1 && p[0] == '.')) {
                        if (o)
                                out[o++] = '/';
                        memcpy(out + o, p, len);
                        o += len;
                }
                p += len;
                while (*p == '/')
                        p++;
        }
        out[o] = 0;
        return 0;
}

/* Split "a/b/c" into parent "a/b" (written into buf) and name "c". */
static const char *split_parent(const char *path, char *buf, size_t size)
{
        const char *slash = strrchr(path, '/');
        if (!slash) {
                snprintf(buf, size, ".");
                return path;
        }
        snprintf(buf, size, "%.*s", (int) (slash - path), path);
        return slash + 1;
}

static int parent_error(struct unpack_ctx *c, int r, const char *entry, const char *parent)
{
        char qe[204], qp[204];
        if (r == -ELOOP)
                return herror_set(c->err, ELOOP,
                                  "layer entry \"%s\": \"%s\" is or passes through a symlink; writing through it is "
                                  "refused",
                                  q(entry, qe), q(parent, qp));
        if (r == -ENOTDIR)
                return herror_set(c->err, ENOTDIR, "layer entry \"%s\": \"%s\" is not a directory", q(entry, qe),
                                  q(parent, qp));
        if (r == -EXDEV)
                return herror_set(c->err, EXDEV, "layer entry \"%s\": \"%s\" leaves the root; refused", q(entry, qe),
                                  q(parent, qp));
        return herror_sys(c->err, -r, "layer entry \"%s\": open \"%s\"", q(entry, qe), q(parent, qp));
}

/* Create the missing directories of parent one component at a time: mkdirat, then an O_NOFOLLOW
 * open, so an existing symlink or file on the way is an error, never followed. */
static int create_parents(struct unpack_ctx *c, const char *entry, const char *parent)
{
        _cleanup_close_ int cur = openat(c->rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (cur < 0)
                return herror_sys(c->err, errno, "layer: open the target root");
        char sofar[PATH_MAX];
        size_t off = 0;
        for (const char *p = parent; *p;) {
                size_t len = strcspn(p, "/");
                char name[NAME_MAX + 1];
                snprintf(name, sizeof name, "%.*s", (int) len, p);
                off += (size_t) snprintf(sofar + off, sizeof sofar - off, "%s%s", off ? "/" : "", name);
                if (mkdirat(cur, name, 0755) == 0) {
                        int r = pathset_add(&c->set, sofar);
                        if (r < 0)
                                return herror_sys(c->err, -r, "layer: remember \"%s\"", sofar);
                } else if (errno != EEXIST)
                        return parent_error(c, -errno, entry, sofar);
                int fd = openat(cur, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0) {
                        int e = errno;
                        struct stat st;
                        if (fstatat(cur, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
                                e = ELOOP;
                        return parent_error(c, e == ENOENT ? -ENOTDIR : -e, entry, sofar);
                }
                closep(&cur);
                cur = fd;
                p += len;
                while (*p == '/')
                        p++;
        }
        return 0;
}

/* An O_PATH fd of the parent directory of path, created (0755) when create is set. No symlink is
 * followed anywhere on the way, and the walk cannot leave rootfd. */
static int open_parent(struct unpack_ctx *c, const char *path, bool create, const char **ret_name)
{
        char parent[PATH_MAX];
        *ret_name = split_parent(path, parent, sizeof parent);
        int fd = safe_openat(c->rootfd, parent, O_PATH | O_DIRECTORY, 0, SAFE_BENEATH | SAFE_NO_SYMLINKS, NULL);
        if (fd == -ENOENT && create) {
                int r = create_parents(c, path, parent);
                if (r < 0)
                        return r;
                fd = safe_openat(c->rootfd, parent, O_PATH | O_DIRECTORY, 0, SAFE_BENEATH | SAFE_NO_SYMLINKS, NULL);
        }
        if (fd < 0)
                return fd == -ENOENT && !create ? -ENOENT : parent_error(c, fd, path, parent);
        return fd;
}

/* ---- removal ---- */

static int remove_children(int dirfd, int depth, struct herror *err);

static int remove_tree(int dirfd, const char *name, int depth, struct herror *err)
{
        if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
                return 0;
        if (errno != EISDIR && errno != EPERM)
                return herror_sys(err, errno, "remove \"%s\"", name);
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : herror_sys(err, errno, "remove \"%s\"", name);
        if (!S_ISDIR(st.st_mode))
                return herror_sys(err, EPERM, "remove \"%s\"", name);
        if (depth > PATH_MAX / 2)
                return herror_set(err, ELOOP, "remove \"%s\": directories nested too deep", name);
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == EACCES) {
                /* Our own directory with mode 0000 (a layer may ship one): make it readable. It is a
                 * directory (checked above) and nothing else writes this tree. */
                if (fchmodat(dirfd, name, 0700, 0) == 0)
                        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                else
                        errno = EACCES;
        }
        if (fd < 0)
                return herror_sys(err, errno, "remove \"%s\": open", name);
        int r = remove_children(fd, depth + 1, err);
        close(fd);
        if (r < 0)
                return r;
        if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return herror_sys(err, errno, "remove directory \"%s\"", name);
        return 0;
}

static int remove_children(int dirfd, int depth, struct herror *err)
{
        struct stat st;
        if (fstat(dirfd, &st) == 0 && (st.st_mode & 0700) != 0700)
                (void) fchmod(dirfd, (st.st_mode & 07777) | 0700);
        int dup_fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        if (dup_fd < 0)
                return herror_sys(err, errno, "remove: dup");
        _cleanup_closedir_ DIR *d = fdopendir(dup_fd);
        if (!d) {
                close(dup_fd);
                return herror_sys(err, errno, "remove: opendir");
        }
        /* Removing while reading is fine on Linux, but unspecified by POSIX: read again until a pass
         * finds nothing. */
        for (bool again = true; again;) {
                again = false;
                rewinddir(d);
                struct dirent *de;
                while ((errno = 0, de = readdir(d))) {
                        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                                continue;
                        int r = remove_tree(dirfd, de->d_name, depth, err);
                        if (r < 0)
                                return r;
                        again = true;
                }
                if (errno)
                        return herror_sys(err, errno, "remove: readdir");
        }
        return 0;
}

int image_remove_tree_at(int dirfd, const char *name, struct herror *err)
{
        return remove_tree(dirfd, name, 0, err);
}

/* ---- whiteouts ---- */

/* Inside an opaque directory keep exactly what this layer wrote: remove every child whose path is not
 * in the set; descend into directories that are. path holds the directory's path (len bytes). */
static int prune_opaque(struct unpack_ctx *c, int dirfd, char *path, size_t len, int depth)
{
        if (depth > PATH_MAX / 2)
                return herror_set(c->err, ELOOP, "layer: opaque directory nested too deep");
        int dup_fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        if (dup_fd < 0)
                return herror_sys(c->err, errno, "layer: dup");
        _cleanup_closedir_ DIR *d = fdopendir(dup_fd);
        if (!d) {
                close(dup_fd);
                return herror_sys(c->err, errno, "layer: opendir \"%s\"", path);
        }
        struct dirent *de;
        while ((errno = 0, de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                size_t nlen = strlen(de->d_name);
                if (len + 1 + nlen >= PATH_MAX)
                        return herror_set(c->err, ENAMETOOLONG, "layer: path under \"%s\" too long", path);
                size_t clen = len ? len + 1 + nlen : nlen;
                if (len)
                        path[len] = '/';
                memcpy(path + (len ? len + 1 : 0), de->d_name, nlen + 1);
                int r = 0;
                if (!pathset_has(&c->set, path))
                        r = remove_tree(dirfd, de->d_name, 0, c->err);
                else {
                        int fd = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (fd >= 0) {
                                r = prune_opaque(c, fd, path, clen, depth + 1);
                                close(fd);
                        } else if (errno != ENOTDIR && errno != ELOOP)
                                r = herror_sys(c->err, errno, "layer: open \"%s\"", path);
                }
                path[len] = 0;
                if (r < 0)
                        return r;
        }
        if (errno)
                return herror_sys(c->err, errno, "layer: readdir \"%s\"", path);
        return 0;
}

static int apply_opaque(struct unpack_ctx *c, const char *entry, const char *dirpath)
{
        char qe[204];
        _cleanup_close_ int dirfd = -1;
        int r;
        if (!dirpath[0]) {
                dirfd = openat(c->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dirfd < 0)
                        return herror_sys(c->err, errno, "layer: open the target root");
        } else {
                /* The directory itself is part of this layer: create it if a lower layer lacks it. */
                r = create_parents(c, entry, dirpath);
                if (r < 0)
                        return r;
                dirfd = safe_openat(c->rootfd, dirpath, O_RDONLY | O_DIRECTORY, 0, SAFE_BENEATH | SAFE_NO_SYMLINKS,
                                    NULL);
                if (dirfd < 0)
                        return parent_error(c, dirfd, entry, dirpath);
        }
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s", dirpath);
        r = prune_opaque(c, dirfd, path, strlen(path), 0);
        if (r < 0) {
                herror_wrap(c->err, "layer entry \"%s\": opaque whiteout", q(entry, qe));
                return r;
        }
        r = pathset_add(&c->set, dirpath);
        if (r < 0)
                return herror_sys(c->err, -r, "layer entry \"%s\": remember", q(entry, qe));
        c->stats.opaque_dirs++;
        return 0;
}

static int apply_whiteout(struct unpack_ctx *c, const char *entry, const char *path, const char *name)
{
        char qe[204];
        const char *target = name + strlen(WHITEOUT_PREFIX);
        /* The name left after ".wh." must be a plain name; "/" cannot occur (path is split), so "",
         * "." and ".." are what is left to refuse. */
        if (!target[0] || streq(target, ".") || streq(target, ".."))
                return herror_set(c->err, EPERM, "layer entry \"%s\": whiteout of \"%s\" is invalid; layer refused",
                                  q(entry, qe), target);
        char parent[PATH_MAX], victim[PATH_MAX];
        split_parent(path, parent, sizeof parent);
        bool top = streq(parent, ".");
        if (snprintf(victim, sizeof victim, "%s%s%s", top ? "" : parent, top ? "" : "/", target) >= (int) sizeof victim)
                return herror_set(c->err, ENAMETOOLONG, "layer entry \"%s\": path too long", q(entry, qe));
        c->stats.whiteouts++;
        if (pathset_has(&c->set, victim))
                return 0; /* whiteouts never hide entries of their own layer */
        const char *ignored;
        _cleanup_close_ int pfd = open_parent(c, path, false, &ignored);
        if (pfd == -ENOENT)
                return 0; /* nothing below to hide */
        if (pfd < 0)
                return pfd;
        int r = remove_tree(pfd, target, 0, c->err);
        if (r < 0)
                herror_wrap(c->err, "layer entry \"%s\": whiteout", q(entry, qe));
        return r;
}

/* ---- attributes ---- */

/* user.* xattrs are data for the container (e.g. file tags); security.capability is how images ship
 * file capabilities (ping): in a user namespace the kernel stores them relative to its root, so they
 * grant nothing on the host. Everything else (trusted.*, security.selinux, ACLs, system.*) would
 * need privilege or carry host policy and is dropped. So are the user.* names an overlay reads as its
 * own metadata, because this tree becomes an overlay's lower layer: user.overlay.* (overlayfs with
 * userxattr: whiteouts, opaque markers, redirects), user.fuseoverlayfs.* and user.containers.*
 * (fuse-overlayfs: opaque markers, origins, an owner and mode override). */
static bool xattr_allowed(const char *name)
{
        static const char *const reserved[] = { "user.overlay.", "user.fuseoverlayfs.", "user.containers." };
        if (strncmp(name, "user.", 5) != 0)
                return streq(name, "security.capability");
        for (size_t i = 0; i < ELEMENTSOF(reserved); i++)
                if (strncmp(name, reserved[i], strlen(reserved[i])) == 0)
                        return false;
        return true;
}

static void apply_xattrs(struct unpack_ctx *c, struct archive_entry *e, int fd)
{
        const char *name;
        const void *value;
        size_t size;
        archive_entry_xattr_reset(e);
        while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
                if (fd < 0 || !name || !xattr_allowed(name) || fsetxattr(fd, name, value, size, 0) < 0)
                        c->stats.xattrs_skipped++;
        }
}

static struct timespec entry_mtime(struct archive_entry *e)
{
        if (!archive_entry_mtime_is_set(e))
                return (struct timespec) { .tv_nsec = UTIME_OMIT };
        return (struct timespec) { .tv_sec = archive_entry_mtime(e), .tv_nsec = archive_entry_mtime_nsec(e) };
}

static int apply_owner_mode(struct unpack_ctx *c, const char *path, int fd, struct archive_entry *e, mode_t mode)
{
        char qe[204];
        /* chown first: it clears setuid/setgid and file capabilities, which chmod and the xattrs
         * then set. */
        if (c->opts->chown && fchown(fd, (uid_t) archive_entry_uid(e), (gid_t) archive_entry_gid(e)) < 0) {
                if (errno == EINVAL)
                        return herror_set(
                                c->err, EINVAL,
                                "layer entry \"%s\": uid %lld or gid %lld is not mapped in this user namespace",
                                q(path, qe), (long long) archive_entry_uid(e), (long long) archive_entry_gid(e));
                return herror_sys(c->err, errno, "layer entry \"%s\": chown", q(path, qe));
        }
        /* setuid/setgid are kept (podman and umoci keep them; images rely on su, ping, ...). Rootless,
         * the files belong to the user or their subordinate ids, so the bits can grant no id the user
         * lacks; the store root is 0700, so no other host user can even reach them. */
        if (fchmod(fd, mode) < 0)
                return herror_sys(c->err, errno, "layer entry \"%s\": chmod", q(path, qe));
        apply_xattrs(c, e, fd);
        struct timespec ts[2] = { entry_mtime(e), entry_mtime(e) };
        if (archive_entry_atime_is_set(e))
                ts[0] = (struct timespec) { .tv_sec = archive_entry_atime(e), .tv_nsec = archive_entry_atime_nsec(e) };
        (void) futimens(fd, ts); /* best effort: times are not a security property */
        return 0;
}

/* Make room for a new entry at pfd/name: a directory over a directory is kept (only its attributes
 * change, layer.md); anything else is removed first. Returns 1 when a directory was kept. */
static int clear_target(struct unpack_ctx *c, int pfd, const char *name, const char *path, bool want_dir)
{
        char qe[204];
        struct stat st;
        if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT)
                        return 0;
                return herror_sys(c->err, errno, "layer entry \"%s\": stat", q(path, qe));
        }
        if (want_dir && S_ISDIR(st.st_mode))
                return 1;
        int r = remove_tree(pfd, name, 0, c->err);
        if (r < 0)
                herror_wrap(c->err, "layer entry \"%s\": replace", q(path, qe));
        return r;
}

/* ---- entries ---- */

static int write_file_data(struct unpack_ctx *c, const char *path, int fd, int64_t size)
{
        char qe[204];
        for (;;) {
                const void *buf;
                size_t len;
                la_int64_t off;
                int r = archive_read_data_block(c->tar, &buf, &len, &off);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN) {
                        if (c->failed)
                                return -c->err->errnum;
                        return herror_set(c->err, EBADMSG, "layer entry \"%s\": %s", q(path, qe),
                                          archive_error_string(c->tar) ? archive_error_string(c->tar) : "read error");
                }
                /* Sparse entries arrive as blocks at offsets; holes stay holes. Nothing past the
                 * declared size, which is what the byte limit counted. */
                if (off < 0 || (uint64_t) off + len > (uint64_t) size)
                        return herror_set(c->err, EBADMSG, "layer entry \"%s\": data beyond the declared size",
                                          q(path, qe));
                const char *p = buf;
                while (len > 0) {
                        ssize_t n = pwrite(fd, p, len, off);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0)
                                return herror_sys(c->err, n < 0 ? errno : EIO, "layer entry \"%s\": write",
                                                  q(path, qe));
                        p += n;
                        off += n;
                        len -= (size_t) n;
                }
        }
        if (ftruncate(fd, size) < 0)
                return herror_sys(c->err, errno, "layer entry \"%s\": truncate", q(path, qe));
        return 0;
}

static int make_regular(struct unpack_ctx *c, struct archive_entry *e, const char *path, int pfd, const char *name)
{
        char qe[204];
        int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
        if (size < 0)
                return herror_set(c->err, EBADMSG, "layer entry \"%s\": negative size", q(path, qe));
        if ((uint64_t) size > c->opts->limits.max_bytes - c->stats.bytes_written)
                return herror_set(c->err, EFBIG, "layer entry \"%s\": the layer writes more than %llu bytes; refused",
                                  q(path, qe), (unsigned long long) c->opts->limits.max_bytes);
        c->stats.bytes_written += (uint64_t) size;
        int r = clear_target(c, pfd, name, path, false);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return herror_sys(c->err, errno, "layer entry \"%s\": create", q(path, qe));
        r = write_file_data(c, path, fd, size);
        if (r < 0)
                return r;
        c->stats.files++;
        return apply_owner_mode(c, path, fd, e, archive_entry_perm(e) & 07777);
}

static int make_directory(struct unpack_ctx *c, struct archive_entry *e, const char *path, int pfd, const char *name)
{
        char qe[204];
        int r = clear_target(c, pfd, name, path, true);
        if (r < 0)
                return r;
        if (r == 0 && mkdirat(pfd, name, 0700) < 0)
                return herror_sys(c->err, errno, "layer entry \"%s\": mkdir", q(path, qe));
        _cleanup_close_ int fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return herror_sys(c->err, errno, "layer entry \"%s\": open directory", q(path, qe));
        mode_t mode = archive_entry_perm(e) & 07777;
        /* Without CAP_DAC_OVERRIDE (a plain rootless unpack) a directory without u+w could not take
         * the next entries or layers, nor be removed: the owner keeps rwx. */
        if (!c->opts->chown)
                mode |= S_IRWXU;
        c->stats.dirs++;
        return apply_owner_mode(c, path, fd, e, mode);
}

static int make_symlink(struct unpack_ctx *c, struct archive_entry *e, const char *path, int pfd, const char *name)
{
        char qe[204];
        const char *target = archive_entry_symlink(e);
        if (!target || !target[0])
                return herror_set(c->err, EINVAL, "layer entry \"%s\": symlink without a target", q(path, qe));
        if (strlen(target) > c->opts->limits.max_path_len)
                return herror_set(c->err, ENAMETOOLONG, "layer entry \"%s\": symlink target longer than %zu bytes",
                                  q(path, qe), c->opts->limits.max_path_len);
        /* The target is stored as it is (absolute and ".." targets are normal in images): it is only
         * ever resolved inside the container's root, and never by this code. */
        int r = clear_target(c, pfd, name, path, false);
        if (r < 0)
                return r;
        if (symlinkat(target, pfd, name) < 0)
                return herror_sys(c->err, errno, "layer entry \"%s\": symlink", q(path, qe));
        if (c->opts->chown &&
            fchownat(pfd, name, (uid_t) archive_entry_uid(e), (gid_t) archive_entry_gid(e), AT_SYMLINK_NOFOLLOW) < 0)
                return herror_sys(c->err, errno, "layer entry \"%s\": chown", q(path, qe));
        struct timespec ts[2] = { entry_mtime(e), entry_mtime(e) };
        (void) utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW);
        c->stats.symlinks++;
        return 0;
}

static int make_hardlink(struct unpack_ctx *c, struct archive_entry *e, const char *path, int pfd, const char *name)
{
        char qe[204], qt[204];
        int r = normalize_path(c, archive_entry_hardlink(e), "hardlink target", path, c->linkbuf);
        if (r < 0)
                return r;
        if (!c->linkbuf[0] || streq(c->linkbuf, path))
                return herror_set(c->err, EINVAL, "layer entry \"%s\": hardlink to itself or to the root", q(path, qe));
        const char *tname;
        _cleanup_close_ int tpfd = open_parent(c, c->linkbuf, false, &tname);
        if (tpfd < 0) {
                if (tpfd == -ENOENT)
                        return herror_set(c->err, ENOENT, "layer entry \"%s\": hardlink target \"%s\" does not exist",
                                          q(path, qe), q(c->linkbuf, qt));
                return tpfd;
        }
        struct stat st;
        if (fstatat(tpfd, tname, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return herror_sys(c->err, errno, "layer entry \"%s\": hardlink target \"%s\"", q(path, qe),
                                  q(c->linkbuf, qt));
        /* Only regular files: a link to a symlink, device or directory buys nothing an image needs. */
        if (!S_ISREG(st.st_mode))
                return herror_set(c->err, EPERM,
                                  "layer entry \"%s\": hardlink target \"%s\" is not a regular file; "
                                  "layer refused",
                                  q(path, qe), q(c->linkbuf, qt));
        r = clear_target(c, pfd, name, path, false);
        if (r < 0)
                return r;
        if (linkat(tpfd, tname, pfd, name, 0) < 0)
                return herror_sys(c->err, errno, "layer entry \"%s\": link to \"%s\"", q(path, qe), q(c->linkbuf, qt));
        c->stats.hardlinks++;
        return 0;
}

static int make_special(struct unpack_ctx *c, struct archive_entry *e, const char *path, int pfd, const char *name,
                        bool device)
{
        char qe[204];
        /* Device nodes need CAP_MKNOD in the initial namespace; rootless they are skipped and
         * counted (the runtime mounts its own /dev anyway). */
        if (device && !c->is_root) {
                c->stats.devices_skipped++;
                return 0;
        }
        int r = clear_target(c, pfd, name, path, false);
        if (r < 0)
                return r;
        mode_t type = device ? (archive_entry_filetype(e) == AE_IFBLK ? S_IFBLK : S_IFCHR) : S_IFIFO;
        if (mknodat(pfd, name, type | 0600, device ? archive_entry_rdev(e) : 0) < 0) {
                if (device && (errno == EPERM || errno == EACCES)) {
                        c->stats.devices_skipped++;
                        return 0;
                }
                return herror_sys(c->err, errno, "layer entry \"%s\": mknod", q(path, qe));
        }
        if (c->opts->chown &&
            fchownat(pfd, name, (uid_t) archive_entry_uid(e), (gid_t) archive_entry_gid(e), AT_SYMLINK_NOFOLLOW) < 0)
                return herror_sys(c->err, errno, "layer entry \"%s\": chown", q(path, qe));
        /* Just created by mknodat, so not a symlink: fchmodat cannot be redirected. */
        if (fchmodat(pfd, name, archive_entry_perm(e) & 07777, 0) < 0)
                return herror_sys(c->err, errno, "layer entry \"%s\": chmod", q(path, qe));
        struct timespec ts[2] = { entry_mtime(e), entry_mtime(e) };
        (void) utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW);
        if (device)
                c->stats.devices++;
        else
                c->stats.fifos++;
        return 0;
}

static int apply_entry(struct unpack_ctx *c, struct archive_entry *e)
{
        char qe[204];
        const char *raw = archive_entry_pathname(e);
        if (!raw)
                raw = archive_entry_pathname_utf8(e);
        int r = normalize_path(c, raw, "path", raw ? raw : "(no name)", c->pathbuf);
        if (r < 0)
                return r;
        const char *path = c->pathbuf;
        if (!path[0])
                return 0; /* "./": the root itself keeps the attributes its creator gave it */
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        /* ".wh." names cannot exist in an image (layer.md): as a directory on the way they are junk. */
        for (const char *p = path; p < base; p = strchr(p, '/') + 1)
                if (strncmp(p, WHITEOUT_PREFIX, strlen(WHITEOUT_PREFIX)) == 0)
                        return herror_set(c->err, EINVAL, "layer entry \"%s\": a directory named .wh.* is reserved",
                                          q(path, qe));
        if (streq(base, WHITEOUT_OPAQUE)) {
                char dir[PATH_MAX];
                split_parent(path, dir, sizeof dir);
                return apply_opaque(c, path, streq(dir, ".") ? "" : dir);
        }
        if (strncmp(base, WHITEOUT_PREFIX, strlen(WHITEOUT_PREFIX)) == 0)
                return apply_whiteout(c, path, path, base);

        const char *name;
        _cleanup_close_ int pfd = open_parent(c, path, true, &name);
        if (pfd < 0)
                return pfd;
        if (archive_entry_hardlink(e))
                r = make_hardlink(c, e, path, pfd, name);
        else
                switch (archive_entry_filetype(e)) {
                case AE_IFREG:
                        r = make_regular(c, e, path, pfd, name);
                        break;
                case AE_IFDIR:
                        r = make_directory(c, e, path, pfd, name);
                        break;
                case AE_IFLNK:
                        r = make_symlink(c, e, path, pfd, name);
                        break;
                case AE_IFCHR:
                case AE_IFBLK:
                        r = make_special(c, e, path, pfd, name, true);
                        break;
                case AE_IFIFO:
                        r = make_special(c, e, path, pfd, name, false);
                        break;
                default: /* sockets cannot be archived meaningfully; unknown types are skipped */
                        c->stats.other_skipped++;
                        return 0;
                }
        if (r < 0)
                return r;
        r = pathset_add(&c->set, path);
        if (r < 0)
                return herror_sys(c->err, -r, "layer entry \"%s\": remember", q(path, qe));
        return 0;
}

static int read_entries(struct unpack_ctx *c)
{
        for (;;) {
                struct archive_entry *e;
                int r = archive_read_next_header(c->tar, &e);
                if (c->failed)
                        return -c->err->errnum;
                if (r == ARCHIVE_EOF)
                        return 0;
                /* ARCHIVE_WARN is e.g. a name not convertible to the locale: the entry is usable. */
                if (r < ARCHIVE_WARN)
                        return herror_set(c->err, EBADMSG, "layer: %s",
                                          archive_error_string(c->tar) ? archive_error_string(c->tar)
                                                                       : "bad tar header");
                if (++c->stats.entries > c->opts->limits.max_entries)
                        return herror_set(c->err, E2BIG, "layer: more than %llu entries; refused",
                                          (unsigned long long) c->opts->limits.max_entries);
                r = apply_entry(c, e);
                if (r < 0)
                        return r;
        }
}

/* The diff_id covers the whole stream, end-of-archive padding included: layer_stream_finish() reads what
 * the tar reader left (hashing it, counting it against the ratio). */
static int verify_diff_id(struct unpack_ctx *c)
{
        int r = layer_stream_finish(c->stream, &c->stats.diff_id, &c->stats.compressed_bytes,
                                    &c->stats.uncompressed_bytes, c->err);
        if (r < 0)
                return r;
        if (c->opts->diff_id && !digest_equal(c->opts->diff_id, &c->stats.diff_id)) {
                char a[DIGEST_STRING_MAX], b[DIGEST_STRING_MAX];
                return herror_set(c->err, EBADMSG,
                                  "layer: uncompressed digest did not match, expected %s (diff_id), got %s",
                                  digest_to_string(c->opts->diff_id, a), digest_to_string(&c->stats.diff_id, b));
        }
        return 0;
}

static int unpack_run(struct unpack_ctx *c)
{
        int r;
        size_t pbuf = c->opts->limits.max_path_len + 1;
        if (pbuf > PATH_MAX) /* the *at() calls cannot take longer paths anyway */
                return herror_set(c->err, EINVAL, "layer: max_path_len above %d", PATH_MAX - 1);
        c->pathbuf = malloc(pbuf);
        c->linkbuf = malloc(pbuf);
        if (!c->pathbuf || !c->linkbuf)
                return herror_set(c->err, ENOMEM, "layer: out of memory");
        if ((r = open_archives(c)) < 0 || (r = read_entries(c)) < 0)
                return r;
        return verify_diff_id(c);
}

int unpack_layer(int layerfd, int rootfd, const struct unpack_options *opts, struct unpack_stats *ret_stats,
                 struct herror *err)
{
        struct unpack_options defaults;
        if (!opts) {
                unpack_options_init(&defaults);
                opts = &defaults;
        }
        int r = archive_dl_load(err);
        if (r < 0)
                return r;
        _cleanup_herror_ struct herror local = HERROR_INIT;
        struct unpack_ctx c = {
                .layerfd = layerfd,
                .rootfd = rootfd,
                .opts = opts,
                .err = &local,
                .is_root = geteuid() == 0,
        };
        r = unpack_run(&c);
        if (c.tar)
                archive_read_free(c.tar);
        layer_stream_free(c.stream);
        pathset_done(&c.set);
        free(c.pathbuf);
        free(c.linkbuf);
        if (r < 0)
                return herror_set(err, local.errnum ? local.errnum : -r, "%s", local.msg ? local.msg : strerror(-r));
        if (ret_stats)
                *ret_stats = c.stats;
        return 0;
}
