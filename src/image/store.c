#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/rootfs.h"
#include "image/store.h"
#include "image/unpack-confined.h"
#include "util/log.h"
#include "util/fileio.h"
#include "util/json.h"
#include "util/safepath.h"

#define COPY_BUF_SIZE (64u * 1024)
#define REFS_FILE "refs.json"
#define REFS_LOCK "refs.lock"
#define REFS_MAX_SIZE (16u << 20)
#define BLOB_DIR "blobs/sha256"

/* ---- opening ---- */

static int path_join(char **ret, const char *a, const char *b, struct herror *err)
{
        if (asprintf(ret, "%s/%s", a, b) < 0)
                return herror_set(err, ENOMEM, "out of memory");
        return 0;
}

int store_default_path(char **ret, struct herror *err)
{
        const char *e = secure_getenv("HUTCH_STORAGE");
        if (e && *e) {
                if (e[0] != '/')
                        return herror_set(err, EINVAL, "HUTCH_STORAGE=%s: must be an absolute path", e);
                *ret = strdup(e);
                return *ret ? 0 : herror_set(err, ENOMEM, "out of memory");
        }
        if (geteuid() == 0) {
                *ret = strdup("/var/lib/hutch");
                return *ret ? 0 : herror_set(err, ENOMEM, "out of memory");
        }
        e = secure_getenv("XDG_DATA_HOME");
        if (e && e[0] == '/') /* the XDG spec: a relative value is invalid and ignored */
                return path_join(ret, e, "hutch", err);
        e = secure_getenv("HOME");
        if (!e || e[0] != '/') {
                struct passwd *pw = getpwuid(geteuid());
                e = pw ? pw->pw_dir : NULL;
        }
        if (!e || e[0] != '/')
                return herror_set(err, ENOENT, "no home directory: set HUTCH_STORAGE");
        return path_join(ret, e, ".local/share/hutch", err);
}

static int open_subdir(int dirfd, const char *name, const char *root, struct herror *err)
{
        if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
                return herror_sys(err, errno, "%s/%s: create directory", root, name);
        int fd = safe_openat(dirfd, name, O_RDONLY | O_DIRECTORY, 0, SAFE_BENEATH | SAFE_NO_SYMLINKS, err);
        if (fd < 0)
                herror_wrap(err, "image store %s", root);
        return fd;
}

int store_open(const char *path, struct image_store *ret, struct herror *err)
{
        _cleanup_free_ char *def = NULL;
        if (!path) {
                int r = store_default_path(&def, err);
                if (r < 0)
                        return r;
                path = def;
        }
        if (path[0] != '/')
                return herror_set(err, EINVAL, "image store %s: must be an absolute path", path);
        /* directories we create are 0700 */
        int r = mkdir_p(path, 0700, err);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return herror_sys(err, errno, "image store %s", path);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return herror_sys(err, errno, "image store %s: stat", path);
        if (st.st_uid != geteuid())
                return herror_set(err, EPERM, "image store %s: owned by uid %u, not by us (uid %u)", path,
                                  (unsigned) st.st_uid, (unsigned) geteuid());
        /* Unpacked trees keep setuid bits and file capabilities: only the owner may reach them. */
        if ((st.st_mode & 077) && fchmod(fd, st.st_mode & 07700) < 0)
                return herror_sys(err, errno, "image store %s: chmod 0700", path);
        _cleanup_close_ int blobs = open_subdir(fd, "blobs", path, err);
        if (blobs < 0)
                return blobs;
        _cleanup_close_ int sha = open_subdir(blobs, "sha256", path, err);
        if (sha < 0)
                return sha;
        _cleanup_close_ int rootfs = open_subdir(fd, "rootfs", path, err);
        if (rootfs < 0)
                return rootfs;
        char *p = strdup(path);
        if (!p)
                return herror_set(err, ENOMEM, "out of memory");
        *ret = (struct image_store) { .rootfd = TAKE_FD(fd), .lockfd = -1, .path = p };
        return 0;
}

void store_close(struct image_store *s)
{
        closep(&s->rootfd);
        closep(&s->lockfd);
        free(s->path);
        *s = (struct image_store) IMAGE_STORE_INIT;
}

static int lock_file(int dirfd, const char *name, int op, const char *root, struct herror *err)
{
        int fd = openat(dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return herror_sys(err, errno, "%s/%s: open lock file", root, name);
        while (flock(fd, op) < 0) {
                if (errno == EINTR)
                        continue;
                int e = errno;
                close(fd);
                return herror_sys(err, e, "%s/%s: lock", root, name);
        }
        return fd;
}

int store_lock(struct image_store *s, struct herror *err)
{
        if (s->lock_depth == 0) {
                int fd = lock_file(s->rootfd, "lock", LOCK_EX, s->path, err);
                if (fd < 0)
                        return fd;
                s->lockfd = fd;
        }
        s->lock_depth++;
        return 0;
}

void store_unlock(struct image_store *s)
{
        if (s->lock_depth == 0)
                return;
        if (--s->lock_depth == 0) {
                close(s->lockfd); /* closing the last fd drops the flock */
                s->lockfd = -1;
        }
}

/* ---- blobs ---- */

static void blob_path(const struct digest *d, char buf[static sizeof BLOB_DIR "/" + DIGEST_HEX_LEN])
{
        snprintf(buf, sizeof BLOB_DIR "/" + DIGEST_HEX_LEN, BLOB_DIR "/%s", d->hex);
}

int store_open_blob(struct image_store *s, const struct digest *d, uint64_t *ret_size, struct herror *err)
{
        char path[sizeof BLOB_DIR "/" + DIGEST_HEX_LEN];
        blob_path(d, path);
        _cleanup_close_ int fd = safe_openat(s->rootfd, path, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0,
                                             SAFE_BENEATH | SAFE_NO_SYMLINKS, NULL);
        if (fd < 0) {
                char ds[DIGEST_STRING_MAX];
                if (fd == -ENOENT)
                        return herror_set(err, ENOENT, "image store %s: no blob %s", s->path, digest_to_string(d, ds));
                return herror_sys(err, -fd, "image store %s: %s", s->path, path);
        }
        struct stat st;
        if (fstat(fd, &st) < 0)
                return herror_sys(err, errno, "image store %s: %s: stat", s->path, path);
        if (!S_ISREG(st.st_mode))
                return herror_set(err, EINVAL, "image store %s: %s: not a regular file", s->path, path);
        if (ret_size)
                *ret_size = (uint64_t) st.st_size;
        return TAKE_FD(fd);
}

bool store_has_blob(struct image_store *s, const struct digest *d)
{
        _cleanup_close_ int fd = store_open_blob(s, d, NULL, NULL);
        return fd >= 0;
}

int store_read_blob(struct image_store *s, const struct digest *d, size_t max_size, char **ret, size_t *ret_len,
                    struct herror *err)
{
        char path[sizeof BLOB_DIR "/" + DIGEST_HEX_LEN];
        blob_path(d, path);
        _cleanup_close_ int fd = store_open_blob(s, d, NULL, err);
        if (fd < 0)
                return fd;
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r = read_fd_limited(fd, path, max_size, &data, &len, err);
        if (r < 0)
                return r;
        struct digest got;
        r = digest_buffer(data, len, &got, err);
        if (r < 0)
                return r;
        /* Verified when stored; checked again because it is cheap and the bytes are about to be parsed. */
        if (!digest_equal(&got, d))
                return herror_set(err, EBADMSG, "image store %s: %s: content does not match its digest (corrupt store)",
                                  s->path, path);
        *ret = TAKE_PTR(data);
        if (ret_len)
                *ret_len = len;
        return 0;
}

/* A new file ".tmp-<hex>-<random>" in the blob directory. */
static int open_blob_temp(int dirfd, const struct digest *d, char *name, size_t size)
{
        for (int attempt = 0; attempt < 100; attempt++) {
                uint32_t rnd;
                if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd)
                        rnd = (uint32_t) getpid() ^ (uint32_t) attempt;
                snprintf(name, size, ".tmp-%s-%08x", d->hex, rnd);
                int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd >= 0 || errno != EEXIST)
                        return fd < 0 ? -errno : fd;
        }
        return -EEXIST;
}

static int open_blob_dir(struct image_store *s, struct herror *err)
{
        int fd = safe_openat(s->rootfd, BLOB_DIR, O_RDONLY | O_DIRECTORY, 0, SAFE_BENEATH | SAFE_NO_SYMLINKS, err);
        if (fd < 0)
                herror_wrap(err, "image store %s", s->path);
        return fd;
}

typedef ssize_t (*blob_source_fn)(void *userdata, void *buf, size_t len);

/* Stream from src into a temp file, hashing and counting; rename into place only when both match. */
static int put_blob(struct image_store *s, blob_source_fn src, void *userdata, const struct digest *d, uint64_t size,
                    struct herror *err)
{
        char ds[DIGEST_STRING_MAX];
        digest_to_string(d, ds);
        uint64_t have;
        _cleanup_close_ int existing = store_open_blob(s, d, &have, NULL);
        if (existing >= 0 && have == size)
                return 0; /* stored earlier, verified then; same digest, same bytes */
        _cleanup_close_ int dirfd = open_blob_dir(s, err);
        if (dirfd < 0)
                return dirfd;
        char tmp[128];
        _cleanup_close_ int fd = open_blob_temp(dirfd, d, tmp, sizeof tmp);
        if (fd < 0)
                return herror_sys(err, -fd, "image store %s: create a temporary blob", s->path);
        _cleanup_free_ char *buf = malloc(COPY_BUF_SIZE);
        _cleanup_sha256_ struct sha256_stream h = { 0 };
        struct digest got;
        int r = buf ? sha256_stream_init(&h, err) : herror_set(err, ENOMEM, "out of memory");
        while (r == 0) {
                ssize_t n = src(userdata, buf, COPY_BUF_SIZE);
                if (n < 0) {
                        r = herror_sys(err, (int) -n, "blob %s: read", ds);
                        break;
                }
                if (n == 0)
                        break;
                /* Stop at the first byte past the declared size: a blob cannot fill the disk. */
                if (h.bytes + (uint64_t) n > size) {
                        r = herror_set(err, EBADMSG, "blob %s: larger than the descriptor's %llu bytes", ds,
                                       (unsigned long long) size);
                        break;
                }
                if ((r = sha256_stream_update(&h, buf, (size_t) n, err)) < 0)
                        break;
                if ((r = write_all(fd, buf, (size_t) n)) < 0)
                        r = herror_sys(err, -r, "image store %s: write blob %s", s->path, ds);
                if (r == 0 && s->progress)
                        s->progress(d, h.bytes, size, s->progress_userdata);
        }
        if (r == 0 && h.bytes != size)
                r = herror_set(err, EBADMSG, "blob %s: %llu bytes, the descriptor says %llu", ds,
                               (unsigned long long) h.bytes, (unsigned long long) size);
        if (r == 0)
                r = sha256_stream_final(&h, &got, err);
        if (r == 0 && !digest_equal(&got, d)) {
                char gs[DIGEST_STRING_MAX];
                r = herror_set(err, EBADMSG, "blob: digest did not match, expected %s, got %s", ds,
                               digest_to_string(&got, gs));
        }
        if (r == 0 && fsync(fd) < 0)
                r = herror_sys(err, errno, "image store %s: fsync blob %s", s->path, ds);
        if (r == 0 && renameat(dirfd, tmp, dirfd, d->hex) < 0)
                r = herror_sys(err, errno, "image store %s: rename blob %s into place", s->path, ds);
        if (r < 0) {
                unlinkat(dirfd, tmp, 0);
                return r;
        }
        if (fsync(dirfd) < 0)
                return herror_sys(err, errno, "image store %s: sync %s", s->path, BLOB_DIR);
        return 0;
}

static ssize_t fd_source(void *userdata, void *buf, size_t len)
{
        return read_all(*(int *) userdata, buf, len);
}

int store_put_blob_fd(struct image_store *s, int srcfd, const struct digest *d, uint64_t size, struct herror *err)
{
        return put_blob(s, fd_source, &srcfd, d, size, err);
}

struct mem_source {
        const char *data;
        size_t len, off;
};

static ssize_t mem_source(void *userdata, void *buf, size_t len)
{
        struct mem_source *m = userdata;
        size_t n = m->len - m->off < len ? m->len - m->off : len;
        memcpy(buf, m->data + m->off, n);
        m->off += n;
        return (ssize_t) n;
}

int store_put_blob_data(struct image_store *s, const void *data, size_t len, const struct digest *d, struct herror *err)
{
        struct mem_source m = { .data = data, .len = len };
        return put_blob(s, mem_source, &m, d, len, err);
}

/* ---- refs ---- */

int store_ref_validate(const char *name, struct herror *err)
{
        size_t len = strlen(name);
        if (len == 0 || len > STORE_REF_MAX_LEN)
                return herror_set(err, EINVAL, "image name \"%.64s\": must be 1 to %d characters", name,
                                  STORE_REF_MAX_LEN);
        for (size_t i = 0; i < len; i++) {
                char ch = name[i];
                bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
                if (!alnum && (i == 0 || !strchr("._:@/+-", ch)))
                        return herror_set(
                                err, EINVAL,
                                "image name \"%.64s\": only letters, digits and ._:@/+- allowed, starting with "
                                "a letter or digit",
                                name);
        }
        if (strncmp(name, "sha256:", 7) == 0)
                return herror_set(err, EINVAL, "image name \"%.64s\": looks like a digest", name);
        return 0;
}

/* refs.json: {"refs": {NAME: "sha256:<hex>"}, "unnamed": ["sha256:<hex>", ...]}, validated entry by entry.
 * Returns the whole document (both members present). */
static int refs_load(struct image_store *s, json_t **ret, struct herror *err)
{
        _cleanup_json_ json_t *root = NULL;
        int r = json_read_file(s->rootfd, REFS_FILE, REFS_MAX_SIZE, &root, err);
        if (r == -ENOENT) {
                herror_clear(err);
                root = json_pack("{s:{},s:[]}", "refs", "unnamed");
                if (!root)
                        return herror_set(err, ENOMEM, "out of memory");
                *ret = TAKE_PTR(root);
                return 0;
        }
        if (r < 0) {
                herror_wrap(err, "image store %s", s->path);
                return r;
        }
        json_t *refs = json_is_object(root) ? json_object_get(root, "refs") : NULL;
        if (!json_is_object(refs))
                return herror_set(err, EINVAL, "image store %s: %s: \"refs\" must be an object", s->path, REFS_FILE);
        const char *key;
        json_t *v;
        json_object_foreach (refs, key, v) {
                if (!json_is_string(v) || store_ref_validate(key, NULL) < 0 || !digest_is_valid(json_string_value(v)))
                        return herror_set(err, EINVAL, "image store %s: %s: bad entry \"%.64s\"", s->path, REFS_FILE,
                                          key);
        }
        json_t *unnamed = json_object_get(root, "unnamed");
        if (!unnamed && json_object_set_new(root, "unnamed", unnamed = json_array()) < 0)
                return herror_set(err, ENOMEM, "out of memory");
        if (!json_is_array(unnamed))
                return herror_set(err, EINVAL, "image store %s: %s: \"unnamed\" must be an array", s->path, REFS_FILE);
        size_t i;
        json_array_foreach (unnamed, i, v) {
                if (!json_is_string(v) || !digest_is_valid(json_string_value(v)))
                        return herror_set(err, EINVAL, "image store %s: %s: bad unnamed[%zu]", s->path, REFS_FILE, i);
        }
        *ret = TAKE_PTR(root);
        return 0;
}

static int refs_save(struct image_store *s, json_t *root, struct herror *err)
{
        _cleanup_free_ char *text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
        if (!text)
                return herror_set(err, ENOMEM, "out of memory");
        _cleanup_free_ char *withnl = NULL;
        if (asprintf(&withnl, "%s\n", text) < 0)
                return herror_set(err, ENOMEM, "out of memory");
        int r = atomic_write_at(s->rootfd, REFS_FILE, withnl, strlen(withnl), 0600, err);
        if (r < 0)
                herror_wrap(err, "image store %s", s->path);
        return r;
}

/* The index of d in root.unnamed, or -1. */
static ssize_t unnamed_find(json_t *root, const char *ds)
{
        json_t *v;
        size_t i;
        json_array_foreach (json_object_get(root, "unnamed"), i, v)
                if (streq(json_string_value(v), ds))
                        return (ssize_t) i;
        return -1;
}

/* A name that carries a digest ("repo@sha256:<hex>", as a digested reference is written) can only name
 * the image with that digest: anything else would be a name that lies about the bytes it runs. */
static int check_name_digest(const char *name, const struct digest *manifest, const char *store_path,
                             struct herror *err)
{
        const char *at = strrchr(name, '@');
        if (!at)
                return 0;
        struct digest nd;
        char ds[DIGEST_STRING_MAX];
        if (digest_parse(at + 1, &nd, NULL) == 0 && digest_equal(&nd, manifest))
                return 0;
        digest_to_string(manifest, ds);
        if (store_path)
                return herror_set(err, EBADMSG,
                                  "image store %s: the name \"%.255s\" points at %s, not at its own digest", store_path,
                                  name, ds);
        return herror_set(err, EINVAL, "the name \"%.255s\" carries a digest that is not the image's (%s)", name, ds);
}

int store_ref_set(struct image_store *s, const char *name, const struct digest *manifest, struct herror *err)
{
        int r = store_ref_validate(name, err);
        if (r < 0)
                return r;
        if ((r = check_name_digest(name, manifest, NULL, err)) < 0)
                return r;
        _cleanup_close_ int lk = lock_file(s->rootfd, REFS_LOCK, LOCK_EX, s->path, err);
        if (lk < 0)
                return lk;
        _cleanup_json_ json_t *root = NULL;
        if ((r = refs_load(s, &root, err)) < 0)
                return r;
        char ds[DIGEST_STRING_MAX];
        if (json_object_set_new(json_object_get(root, "refs"), name, json_string(digest_to_string(manifest, ds))) < 0)
                return herror_set(err, ENOMEM, "out of memory");
        /* named now */
        ssize_t i = unnamed_find(root, ds);
        if (i >= 0)
                json_array_remove(json_object_get(root, "unnamed"), (size_t) i);
        return refs_save(s, root, err);
}

int store_ref_get(struct image_store *s, const char *name, struct digest *ret, struct herror *err)
{
        _cleanup_close_ int lk = lock_file(s->rootfd, REFS_LOCK, LOCK_SH, s->path, err);
        if (lk < 0)
                return lk;
        _cleanup_json_ json_t *root = NULL;
        int r = refs_load(s, &root, err);
        if (r < 0)
                return r;
        json_t *v = json_object_get(json_object_get(root, "refs"), name);
        if (!v)
                return herror_set(err, ENOENT, "image store %s: no image named \"%.255s\"", s->path, name);
        struct digest d;
        if ((r = digest_parse(json_string_value(v), &d, err)) < 0)
                return r;
        /* refs.json written before names with digests were checked, or edited by hand */
        if ((r = check_name_digest(name, &d, s->path, err)) < 0)
                return r;
        *ret = d;
        return 0;
}

int store_ref_remove(struct image_store *s, const char *name, struct herror *err)
{
        _cleanup_close_ int lk = lock_file(s->rootfd, REFS_LOCK, LOCK_EX, s->path, err);
        if (lk < 0)
                return lk;
        _cleanup_json_ json_t *root = NULL;
        int r = refs_load(s, &root, err);
        if (r < 0)
                return r;
        if (json_object_del(json_object_get(root, "refs"), name) < 0)
                return herror_set(err, ENOENT, "image store %s: no image named \"%.255s\"", s->path, name);
        return refs_save(s, root, err);
}

int store_unnamed_add(struct image_store *s, const struct digest *manifest, struct herror *err)
{
        _cleanup_close_ int lk = lock_file(s->rootfd, REFS_LOCK, LOCK_EX, s->path, err);
        if (lk < 0)
                return lk;
        _cleanup_json_ json_t *root = NULL;
        int r = refs_load(s, &root, err);
        if (r < 0)
                return r;
        char ds[DIGEST_STRING_MAX];
        digest_to_string(manifest, ds);
        const char *key;
        json_t *v;
        json_object_foreach (json_object_get(root, "refs"), key, v)
                if (streq(json_string_value(v), ds))
                        return 0; /* it has a name */
        if (unnamed_find(root, ds) >= 0)
                return 0;
        if (json_array_append_new(json_object_get(root, "unnamed"), json_string(ds)) < 0)
                return herror_set(err, ENOMEM, "out of memory");
        return refs_save(s, root, err);
}

int store_unnamed_remove(struct image_store *s, const struct digest *manifest, struct herror *err)
{
        _cleanup_close_ int lk = lock_file(s->rootfd, REFS_LOCK, LOCK_EX, s->path, err);
        if (lk < 0)
                return lk;
        _cleanup_json_ json_t *root = NULL;
        int r = refs_load(s, &root, err);
        if (r < 0)
                return r;
        char ds[DIGEST_STRING_MAX];
        ssize_t i = unnamed_find(root, digest_to_string(manifest, ds));
        if (i < 0)
                return 0;
        json_array_remove(json_object_get(root, "unnamed"), (size_t) i);
        return refs_save(s, root, err);
}

int store_unnamed_list(struct image_store *s, struct digest **ret, size_t *ret_n, struct herror *err)
{
        _cleanup_close_ int lk = lock_file(s->rootfd, REFS_LOCK, LOCK_SH, s->path, err);
        if (lk < 0)
                return lk;
        _cleanup_json_ json_t *root = NULL;
        int r = refs_load(s, &root, err);
        if (r < 0)
                return r;
        json_t *unnamed = json_object_get(root, "unnamed"), *v;
        size_t n = json_array_size(unnamed), i;
        struct digest *list = calloc(n ? n : 1, sizeof *list);
        if (!list)
                return herror_set(err, ENOMEM, "out of memory");
        json_array_foreach (unnamed, i, v)
                (void) digest_parse(json_string_value(v), &list[i], NULL); /* validated by refs_load */
        *ret = list;
        *ret_n = n;
        return 0;
}

static int cmp_ref(const void *a, const void *b)
{
        return strcmp(((const struct store_ref *) a)->name, ((const struct store_ref *) b)->name);
}

void store_ref_list_free(struct store_ref *refs, size_t n)
{
        for (size_t i = 0; refs && i < n; i++)
                free(refs[i].name);
        free(refs);
}

int store_ref_list(struct image_store *s, struct store_ref **ret, size_t *ret_n, struct herror *err)
{
        _cleanup_close_ int lk = lock_file(s->rootfd, REFS_LOCK, LOCK_SH, s->path, err);
        if (lk < 0)
                return lk;
        _cleanup_json_ json_t *root = NULL;
        int r = refs_load(s, &root, err);
        if (r < 0)
                return r;
        json_t *refs = json_object_get(root, "refs");
        size_t n = json_object_size(refs), i = 0;
        struct store_ref *list = calloc(n ? n : 1, sizeof *list);
        if (!list)
                return herror_set(err, ENOMEM, "out of memory");
        const char *key;
        json_t *v;
        json_object_foreach (refs, key, v) {
                list[i].name = strdup(key);
                if (!list[i].name || digest_parse(json_string_value(v), &list[i].digest, NULL) < 0) {
                        store_ref_list_free(list, i + 1);
                        return herror_set(err, ENOMEM, "out of memory");
                }
                i++;
        }
        qsort(list, n, sizeof *list, cmp_ref);
        *ret = list;
        *ret_n = n;
        return 0;
}

int store_resolve(struct image_store *s, const char *name_or_digest, struct digest *ret, struct herror *err)
{
        if (strncmp(name_or_digest, "sha256:", 7) == 0) {
                struct digest d;
                int r = digest_parse(name_or_digest, &d, err);
                if (r < 0)
                        return r;
                if (!store_has_blob(s, &d))
                        return herror_set(err, ENOENT, "image store %s: no image %s", s->path, name_or_digest);
                *ret = d;
                return 0;
        }
        return store_ref_get(s, name_or_digest, ret, err);
}

/* ---- images ---- */

int store_read_image(struct image_store *s, const struct digest *manifest, struct oci_manifest *ret_manifest,
                     struct oci_config *ret_config, struct herror *err)
{
        char src[sizeof BLOB_DIR "/" + DIGEST_HEX_LEN];
        _cleanup_free_ char *mdata = NULL, *cdata = NULL;
        size_t mlen = 0, clen = 0;
        int r = store_read_blob(s, manifest, OCI_DOCUMENT_MAX_SIZE, &mdata, &mlen, err);
        if (r < 0)
                return r;
        struct oci_manifest m = { 0 };
        struct oci_config c = { 0 };
        blob_path(manifest, src);
        r = oci_manifest_parse(mdata, mlen, src, &m, err);
        if (r < 0)
                return r;
        if (m.config.size > OCI_DOCUMENT_MAX_SIZE) {
                r = herror_set(err, EFBIG, "%s: config larger than %u bytes", src, OCI_DOCUMENT_MAX_SIZE);
                goto fail;
        }
        r = store_read_blob(s, &m.config.digest, OCI_DOCUMENT_MAX_SIZE, &cdata, &clen, err);
        if (r < 0)
                goto fail;
        blob_path(&m.config.digest, src);
        r = oci_config_parse(cdata, clen, src, &c, err);
        if (r < 0)
                goto fail;
        if (c.n_diff_ids != m.n_layers) {
                r = herror_set(err, EBADMSG, "%s: %zu rootfs.diff_ids for %zu layers", src, c.n_diff_ids, m.n_layers);
                goto fail;
        }
        *ret_manifest = m;
        *ret_config = c;
        return 0;
fail:
        oci_manifest_done(&m);
        oci_config_done(&c);
        return r;
}

void store_import_done(struct store_import *imp)
{
        free(imp->ref_name);
        strv_free(imp->repo_tags);
        *imp = (struct store_import) { 0 };
}

static int import_blobs(struct image_store *s, int layoutfd, const struct oci_image *img, struct herror *err)
{
        char ds[DIGEST_STRING_MAX];
        for (size_t i = 0; i < img->manifest.n_layers; i++) {
                const struct oci_descriptor *l = &img->manifest.layers[i];
                if (store_has_blob(s, &l->digest))
                        continue;
                _cleanup_close_ int fd = oci_layout_open_blob(layoutfd, &l->digest, l->size, err);
                int r = fd < 0 ? fd : store_put_blob_fd(s, fd, &l->digest, l->size, err);
                if (r < 0) {
                        herror_wrap(err, "layer %zu (%s)", i, digest_to_string(&l->digest, ds));
                        return r;
                }
        }
        int r = store_put_blob_data(s, img->config_data, img->config_len, &img->manifest.config.digest, err);
        if (r == 0)
                r = store_put_blob_data(s, img->manifest_data, img->manifest_len, &img->manifest_desc.digest, err);
        return r;
}

int store_import_oci(struct image_store *s, int layoutfd, const char *ref, const struct oci_platform *platform,
                     const char *name, struct store_import *ret, struct herror *err)
{
        if (name) {
                int r = store_ref_validate(name, err);
                if (r < 0)
                        return r;
        }
        struct oci_image img = { 0 };
        int r = oci_layout_resolve(layoutfd, ref, platform, &img, err);
        if (r < 0)
                return r;
        r = store_lock(s, err);
        if (r < 0)
                goto out;
        r = import_blobs(s, layoutfd, &img, err);
        if (r == 0 && name)
                r = store_ref_set(s, name, &img.manifest_desc.digest, err);
        store_unlock(s);
        if (r < 0)
                goto out;
        if (ret) {
                *ret = (struct store_import) {
                        .manifest = img.manifest_desc.digest,
                        .selected = img.selected,
                        .ref_name = TAKE_PTR(img.ref_name),
                        .platform_mismatch = img.platform_mismatch,
                        .n_layers = img.manifest.n_layers,
                };
        }
out:
        oci_image_done(&img);
        return r;
}

/* ---- archives ---- */

/* A tmp/import-* directory is live while its creator holds an exclusive flock() on it; any other is
 * left by a process that died. The caller holds the writers' lock, under which live ones are created
 * and locked, so an unlocked one cannot be about to be locked. */
static int remove_stale_imports(int tmpdirfd, struct herror *err)
{
        int dup_fd = fcntl(tmpdirfd, F_DUPFD_CLOEXEC, 3);
        if (dup_fd < 0)
                return herror_sys(err, errno, "image store: dup");
        _cleanup_closedir_ DIR *d = fdopendir(dup_fd);
        if (!d) {
                close(dup_fd);
                return herror_sys(err, errno, "image store: opendir tmp");
        }
        struct dirent *de;
        while ((errno = 0, de = readdir(d))) {
                if (strncmp(de->d_name, "import-", 7) != 0)
                        continue;
                int r = store_remove_stale_import(tmpdirfd, de->d_name, err);
                if (r < 0)
                        return r;
        }
        return errno ? herror_sys(err, errno, "image store: readdir tmp") : 0;
}

int store_remove_stale_import(int tmpdirfd, const char *name, struct herror *err)
{
        _cleanup_close_ int fd = openat(tmpdirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno != ENOTDIR)
                return errno == ENOENT ? 0 : herror_sys(err, errno, "image store: tmp/%s", name);
        if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? 1 : herror_sys(err, errno, "image store: lock tmp/%s", name);
        /* Extracted by an isolated child: what it wrote may belong to IDs only a user namespace can remove. */
        return rootfs_remove_tree_at(tmpdirfd, name, err);
}

void store_extracted_done(struct store_extracted *x)
{
        if (x->tmpdirfd >= 0 && x->name[0])
                (void) rootfs_remove_tree_at(x->tmpdirfd, x->name, NULL);
        closep(&x->fd); /* after the removal: the lock keeps stale-import removers away until then */
        closep(&x->tmpdirfd);
        *x = (struct store_extracted) STORE_EXTRACTED_INIT;
}

/* tmp/import-XXXXXXXX, created and locked under the writers' lock (see remove_stale_imports). */
static int make_import_dir(struct image_store *s, struct store_extracted *x, struct herror *err)
{
        int r = store_lock(s, err);
        if (r < 0)
                return r;
        if (mkdirat(s->rootfd, "tmp", 0700) < 0 && errno != EEXIST) {
                r = herror_sys(err, errno, "image store %s: create tmp", s->path);
                goto out;
        }
        x->tmpdirfd = safe_openat(s->rootfd, "tmp", O_RDONLY | O_DIRECTORY, 0, SAFE_BENEATH | SAFE_NO_SYMLINKS, err);
        if ((r = x->tmpdirfd) < 0 || (r = remove_stale_imports(x->tmpdirfd, err)) < 0)
                goto out;
        for (int attempt = 0; attempt < 100 && !x->name[0]; attempt++) {
                uint32_t rnd;
                if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd)
                        rnd = (uint32_t) getpid() ^ (uint32_t) attempt;
                snprintf(x->name, sizeof x->name, "import-%08x", rnd);
                if (mkdirat(x->tmpdirfd, x->name, 0700) < 0) {
                        int e = errno;
                        x->name[0] = 0;
                        if (e != EEXIST) {
                                r = herror_sys(err, e, "image store %s: create a temporary directory", s->path);
                                goto out;
                        }
                }
        }
        x->fd = openat(x->tmpdirfd, x->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (x->fd < 0 || flock(x->fd, LOCK_EX | LOCK_NB) < 0)
                r = herror_sys(err, errno, "image store %s: open the temporary directory", s->path);
out:
        store_unlock(s);
        return r < 0 ? r : 0;
}

int store_archive_extract(struct image_store *s, int archivefd, struct store_extracted *ret, struct herror *err)
{
        struct store_extracted x = STORE_EXTRACTED_INIT;
        int r = make_import_dir(s, &x, err);
        if (r < 0) {
                store_extracted_done(&x);
                return r;
        }
        /* The archive is untrusted like a layer, so it is extracted like one, without ownership, and in
         * the same isolated child: even a libarchive bug cannot write outside the import directory. */
        struct unpack_options o;
        unpack_options_init(&o);
        o.chown = false;
        struct isolate_plan plan;
        bool confined = unpack_confinement_wanted();
        if (confined && (r = isolate_plan_init(&plan, err)) < 0) {
                store_extracted_done(&x);
                return r;
        }
        if (!confined)
                log_warn("extracting the archive without the isolated unpacker (HUTCH_UNPACK_SANDBOX=0): only the safe "
                         "resolver stands between a libarchive bug and your files");
        r = unpack_layer_confined(confined ? &plan : NULL, archivefd, x.fd, &o, err);
        if (confined)
                isolate_plan_done(&plan);
        if (r < 0) {
                herror_wrap(err, "archive");
                store_extracted_done(&x);
                return r;
        }
        *ret = x;
        return 0;
}

int store_import_oci_archive(struct image_store *s, int archivefd, const char *ref, const struct oci_platform *platform,
                             const char *name, struct store_import *ret, struct herror *err)
{
        struct store_extracted x;
        int r = store_archive_extract(s, archivefd, &x, err);
        if (r < 0)
                return r;
        r = store_import_oci(s, x.fd, ref, platform, name, ret, err);
        store_extracted_done(&x);
        return r;
}

/* A path from manifest.json: relative, no "..", a sane length. */
static int docker_path_check(const char *what, const char *p, struct herror *err)
{
        if (!p || !p[0] || strlen(p) >= PATH_MAX)
                return herror_set(err, EINVAL, "manifest.json: %s: empty or too long path", what);
        if (p[0] == '/')
                return herror_set(err, EPERM, "manifest.json: %s \"%.200s\" is absolute; refused", what, p);
        for (const char *c = p; *c;) {
                size_t len = strcspn(c, "/");
                if (len == 2 && c[0] == '.' && c[1] == '.')
                        return herror_set(err, EPERM, "manifest.json: %s \"%.200s\" contains \"..\"; refused", what, p);
                c += len;
                while (*c == '/')
                        c++;
        }
        return 0;
}

/* Open a member of the extracted archive: symlinks are followed only inside it (EXDEV when one leads
 * out), and it must be a regular file. */
static int docker_open_member(int dirfd, const char *what, const char *path, uint64_t *ret_size, struct herror *err)
{
        int r = docker_path_check(what, path, err);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = safe_openat(dirfd, path, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0, SAFE_BENEATH, err);
        if (fd < 0) {
                herror_wrap(err, "docker-archive %s", what);
                return fd;
        }
        struct stat st;
        if (fstat(fd, &st) < 0)
                return herror_sys(err, errno, "docker-archive %s %s: stat", what, path);
        if (!S_ISREG(st.st_mode))
                return herror_set(err, EINVAL, "docker-archive %s %.200s: not a regular file", what, path);
        if (ret_size)
                *ret_size = (uint64_t) st.st_size;
        return TAKE_FD(fd);
}

static int docker_select(json_t *root, const char *ref, json_t **ret, char **ret_tag, struct herror *err)
{
        if (!json_is_array(root) || json_array_size(root) == 0)
                return herror_set(err, EINVAL, "manifest.json: expected a non-empty array");
        size_t n = json_array_size(root), pos;
        json_t *found = NULL;
        const char *tag = NULL;
        if (!ref) {
                if (n != 1)
                        return herror_set(err, EINVAL, "manifest.json lists %zu images; name one (ARCHIVE:TAG or :@N)",
                                          n);
                found = json_array_get(root, 0);
        } else if (ref[0] == '@' && ref[1] && strspn(ref + 1, "0123456789") == strlen(ref + 1) && strlen(ref) < 10) {
                pos = strtoul(ref + 1, NULL, 10);
                if (pos >= n)
                        return herror_set(err, ENOENT, "manifest.json has no image %s (%zu images)", ref, n);
                found = json_array_get(root, pos);
        } else
                for (size_t i = 0; i < n && !found; i++) {
                        json_t *tags = json_is_object(json_array_get(root, i))
                                ? json_object_get(json_array_get(root, i), "RepoTags")
                                : NULL;
                        for (size_t k = 0; json_is_array(tags) && k < json_array_size(tags) && !found; k++) {
                                const char *t = json_string_value(json_array_get(tags, k));
                                if (t && streq(t, ref))
                                        found = json_array_get(root, i);
                        }
                }
        if (!found)
                return herror_set(err, ENOENT, "manifest.json: no image tagged \"%.255s\"", ref);
        if (!json_is_object(found))
                return herror_set(err, EINVAL, "manifest.json: an entry is not an object");
        json_t *tags = json_object_get(found, "RepoTags");
        if (json_is_array(tags) && json_array_size(tags) > 0)
                tag = json_string_value(json_array_get(tags, 0));
        if (tag && !(*ret_tag = strdup(tag)))
                return herror_set(err, ENOMEM, "out of memory");
        *ret = found;
        return 0;
}

static enum layer_compression sniff_compression(int fd)
{
        unsigned char m[4] = { 0 };
        ssize_t n = pread(fd, m, sizeof m, 0);
        if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b)
                return LAYER_COMPRESSION_GZIP;
        if (n == 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
                return LAYER_COMPRESSION_ZSTD;
        return LAYER_COMPRESSION_NONE;
}

static const char *const layer_media_types[] = {
        [LAYER_COMPRESSION_NONE] = "application/vnd.oci.image.layer.v1.tar",
        [LAYER_COMPRESSION_GZIP] = "application/vnd.oci.image.layer.v1.tar+gzip",
        [LAYER_COMPRESSION_ZSTD] = "application/vnd.oci.image.layer.v1.tar+zstd",
};

static json_t *descriptor_json(const char *media_type, const struct digest *d, uint64_t size)
{
        char ds[DIGEST_STRING_MAX];
        return json_pack("{s:s,s:s,s:I}", "mediaType", media_type, "digest", digest_to_string(d, ds), "size",
                         (json_int_t) size);
}

/* Hash one layer, check an uncompressed one against its diff_id, copy it in; append its descriptor. */
static int docker_import_layer(struct image_store *s, int dirfd, const char *path, size_t i,
                               const struct digest *diff_id, json_t *layers, struct herror *err)
{
        char what[32], a[DIGEST_STRING_MAX], b[DIGEST_STRING_MAX];
        snprintf(what, sizeof what, "layer %zu", i);
        uint64_t size;
        _cleanup_close_ int fd = docker_open_member(dirfd, what, path, &size, err);
        if (fd < 0)
                return fd;
        enum layer_compression comp = sniff_compression(fd);
        struct digest d;
        int r = digest_fd(fd, path, UINT64_MAX, &d, &size, err);
        if (r < 0)
                return r;
        if (comp == LAYER_COMPRESSION_NONE && !digest_equal(&d, diff_id))
                return herror_set(err, EBADMSG, "docker-archive %s (%.200s): digest %s is not the config's diff_id %s",
                                  what, path, digest_to_string(&d, a), digest_to_string(diff_id, b));
        if (lseek(fd, 0, SEEK_SET) != 0)
                return herror_sys(err, errno, "docker-archive %s: seek", what);
        r = store_put_blob_fd(s, fd, &d, size, err);
        if (r < 0)
                return r;
        json_t *desc = descriptor_json(layer_media_types[comp], &d, size);
        if (!desc || json_array_append_new(layers, desc) < 0)
                return herror_set(err, ENOMEM, "out of memory");
        return 0;
}

static void config_platform(const struct oci_config *c, struct oci_platform *ret)
{
        *ret = (struct oci_platform) { 0 };
        snprintf(ret->os, sizeof ret->os, "%s", c->os);
        snprintf(ret->architecture, sizeof ret->architecture, "%s", c->architecture);
        snprintf(ret->variant, sizeof ret->variant, "%s", c->variant ? c->variant : "");
}

static const char *platform_string(const struct oci_platform *p, char buf[static 96])
{
        snprintf(buf, 96, "%s/%s%s%s", p->os, p->architecture, p->variant[0] ? "/" : "", p->variant);
        return buf;
}

/* A docker-archive image is built for one platform (its config says which): with want set, an image for
 * another is skipped (*ret_skipped) when skip is allowed, else refused. */
static int docker_check_platform(const struct oci_config *config, const struct oci_platform *want, bool skip,
                                 struct store_import *imp, bool *ret_skipped, struct herror *err)
{
        struct oci_platform have, host;
        config_platform(config, &have);
        *ret_skipped = false;
        if (!want) {
                oci_platform_host(&host);
                imp->platform_mismatch = !oci_platform_matches(&have, &host);
                return 0;
        }
        if (oci_platform_matches(&have, want))
                return 0;
        char a[96], b[96];
        if (skip) {
                *ret_skipped = true;
                return 0;
        }
        return herror_set(err, ENOENT, "docker-archive: the image is for %s, not for the platform asked for (%s)",
                          platform_string(&have, a), platform_string(want, b));
}

static int docker_import_item(struct image_store *s, int dirfd, json_t *item, const struct oci_platform *want,
                              bool skip_other_platforms, struct store_import *imp, bool *ret_skipped,
                              struct herror *err)
{
        json_t *cfg = json_object_get(item, "Config"), *lays = json_object_get(item, "Layers");
        if (!json_is_string(cfg) || !json_is_array(lays) || json_array_size(lays) > OCI_MAX_LAYERS)
                return herror_set(err, EINVAL,
                                  "manifest.json: an image needs \"Config\" (a string) and \"Layers\" (an array)");
        _cleanup_close_ int cfd = docker_open_member(dirfd, "config", json_string_value(cfg), NULL, err);
        if (cfd < 0)
                return cfd;
        _cleanup_free_ char *cdata = NULL;
        size_t clen = 0;
        struct digest cd;
        struct oci_config config = { 0 };
        int r = read_fd_limited(cfd, json_string_value(cfg), OCI_DOCUMENT_MAX_SIZE, &cdata, &clen, err);
        if (r == 0)
                r = digest_buffer(cdata, clen, &cd, err);
        if (r == 0)
                r = oci_config_parse(cdata, clen, json_string_value(cfg), &config, err);
        /* Before any layer is read: an image of another platform costs no copying. */
        if (r == 0)
                r = docker_check_platform(&config, want, skip_other_platforms, imp, ret_skipped, err);
        if (r < 0 || *ret_skipped) {
                oci_config_done(&config);
                return r;
        }
        _cleanup_json_ json_t *layers = json_array();
        if (!layers)
                r = herror_set(err, ENOMEM, "out of memory");
        else if (config.n_diff_ids != json_array_size(lays))
                r = herror_set(err, EBADMSG, "docker-archive: %zu rootfs.diff_ids for %zu layers", config.n_diff_ids,
                               json_array_size(lays));
        for (size_t i = 0; r == 0 && i < json_array_size(lays); i++)
                r = docker_import_layer(s, dirfd, json_string_value(json_array_get(lays, i)), i, &config.diff_ids[i],
                                        layers, err);
        imp->n_layers = config.n_diff_ids;
        oci_config_done(&config);
        if (r < 0)
                return r;
        /* The manifest is made here (as docker >= 25 does at save time); its digest names the image. */
        _cleanup_json_ json_t *m =
                json_pack("{s:i,s:s,s:o,s:O}", "schemaVersion", 2, "mediaType", OCI_MEDIA_TYPE_MANIFEST, "config",
                          descriptor_json(OCI_MEDIA_TYPE_CONFIG, &cd, clen), "layers", layers);
        _cleanup_free_ char *mtext = m ? json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        if (!mtext)
                return herror_set(err, ENOMEM, "out of memory");
        struct digest md;
        if ((r = digest_buffer(mtext, strlen(mtext), &md, err)) < 0 ||
            (r = store_put_blob_data(s, cdata, clen, &cd, err)) < 0 ||
            (r = store_put_blob_data(s, mtext, strlen(mtext), &md, err)) < 0)
                return r;
        imp->manifest = md;
        imp->selected = md;
        return 0;
}

int store_import_docker_archive(struct image_store *s, int archivefd, const char *ref,
                                const struct oci_platform *platform, const char *name, struct store_import *ret,
                                struct herror *err)
{
        if (name) {
                int r = store_ref_validate(name, err);
                if (r < 0)
                        return r;
        }
        struct store_extracted x;
        int r = store_archive_extract(s, archivefd, &x, err);
        if (r < 0)
                return r;
        if ((r = store_lock(s, err)) < 0) {
                store_extracted_done(&x);
                return r;
        }
        struct store_import imp = { 0 };
        _cleanup_json_ json_t *root = NULL;
        json_t *item = NULL;
        bool skipped = false;
        r = json_read_file(x.fd, "manifest.json", OCI_DOCUMENT_MAX_SIZE, &root, err);
        if (r < 0)
                herror_wrap(err, "not a docker-archive");
        if (r == 0)
                r = docker_select(root, ref, &item, &imp.ref_name, err);
        if (r == 0)
                r = docker_import_item(s, x.fd, item, platform, false, &imp, &skipped, err);
        if (r == 0 && name)
                r = store_ref_set(s, name, &imp.manifest, err);
        store_unlock(s);
        store_extracted_done(&x);
        if (r < 0 || !ret)
                store_import_done(&imp);
        else
                *ret = imp;
        return r;
}

/* RepoTags of a manifest.json item: strings only, at most OCI_MAX_LAYERS of them (NULL when none). */
static int docker_repo_tags(json_t *item, char ***ret, struct herror *err)
{
        json_t *tags = json_object_get(item, "RepoTags");
        *ret = NULL;
        if (!tags || json_is_null(tags))
                return 0;
        if (!json_is_array(tags) || json_array_size(tags) > OCI_MAX_LAYERS)
                return herror_set(err, EINVAL, "manifest.json: \"RepoTags\" must be an array of at most %d strings",
                                  OCI_MAX_LAYERS);
        size_t n = json_array_size(tags);
        if (n == 0)
                return 0;
        char **v = calloc(n + 1, sizeof *v);
        if (!v)
                return herror_set(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                const char *t = json_string_value(json_array_get(tags, i));
                if (!t || strlen(t) > STORE_REF_MAX_LEN) {
                        strv_free(v);
                        return herror_set(err, EINVAL, "manifest.json: RepoTags[%zu]: not a string of at most %d bytes",
                                          i, STORE_REF_MAX_LEN);
                }
                if (!(v[i] = strdup(t))) {
                        strv_free(v);
                        return herror_set(err, ENOMEM, "out of memory");
                }
        }
        *ret = v;
        return 0;
}

void store_imports_free(struct store_import *imps, size_t n)
{
        for (size_t i = 0; imps && i < n; i++)
                store_import_done(&imps[i]);
        free(imps);
}

/* Every image of the archive (ref NULL) or the one ref picks. With a platform, images of other platforms
 * are skipped when ref is NULL (and refused when ref picked one); none left is an error. */
static int import_extracted_docker(struct image_store *s, int dirfd, const char *ref,
                                   const struct oci_platform *platform, struct store_import **ret, size_t *ret_n,
                                   struct herror *err)
{
        _cleanup_json_ json_t *root = NULL;
        int r = json_read_file(dirfd, "manifest.json", OCI_DOCUMENT_MAX_SIZE, &root, err);
        if (r < 0)
                return herror_wrap(err, "docker-archive");
        json_t *one = NULL;
        _cleanup_free_ char *tag = NULL;
        if (ref && (r = docker_select(root, ref, &one, &tag, err)) < 0)
                return r;
        if (!ref && (!json_is_array(root) || json_array_size(root) == 0))
                return herror_set(err, EINVAL, "manifest.json: expected a non-empty array");
        size_t n = one ? 1 : json_array_size(root), k = 0;
        if (n > OCI_MAX_LAYERS)
                return herror_set(err, E2BIG, "manifest.json: more than %d images", OCI_MAX_LAYERS);
        struct store_import *imps = calloc(n, sizeof *imps);
        if (!imps)
                return herror_set(err, ENOMEM, "out of memory");
        for (size_t i = 0; r == 0 && i < n; i++) {
                json_t *item = one ? one : json_array_get(root, i);
                bool skipped = false;
                if (!json_is_object(item)) {
                        r = herror_set(err, EINVAL, "manifest.json: entry %zu is not an object", i);
                        break;
                }
                r = docker_repo_tags(item, &imps[k].repo_tags, err);
                if (r == 0)
                        r = docker_import_item(s, dirfd, item, platform, !one, &imps[k], &skipped, err);
                if (r < 0 && n > 1)
                        herror_wrap(err, "image %zu", i);
                if (r == 0 && skipped)
                        store_import_done(&imps[k]);
                else
                        k++;
        }
        char p[96];
        if (r == 0 && k == 0)
                r = herror_set(err, ENOENT, "docker-archive: none of its %zu images is for platform %s", n,
                               platform_string(platform, p));
        if (r < 0) {
                store_imports_free(imps, n); /* zeroed past k */
                return r;
        }
        *ret = imps;
        *ret_n = k;
        return 0;
}

int store_import_extracted(struct image_store *s, const struct store_extracted *x, const char *ref,
                           const struct oci_platform *platform, store_layout_fn layout_cb, void *userdata,
                           enum store_archive_kind *ret_kind, struct store_import **ret, size_t *ret_n,
                           struct herror *err)
{
        int r = store_lock(s, err);
        if (r < 0)
                return r;
        struct stat st;
        enum store_archive_kind kind = fstatat(x->fd, "manifest.json", &st, AT_SYMLINK_NOFOLLOW) == 0
                ? STORE_ARCHIVE_DOCKER
                : STORE_ARCHIVE_OCI;
        if (kind == STORE_ARCHIVE_DOCKER)
                r = import_extracted_docker(s, x->fd, ref, platform, ret, ret_n, err);
        else if (fstatat(x->fd, "oci-layout", &st, AT_SYMLINK_NOFOLLOW) < 0 &&
                 fstatat(x->fd, "index.json", &st, AT_SYMLINK_NOFOLLOW) < 0)
                r = herror_set(err, EINVAL,
                               "neither an oci-archive (no oci-layout, no index.json) nor a docker-archive "
                               "(no manifest.json)");
        else {
                struct store_import *imp = calloc(1, sizeof *imp);
                r = imp ? store_import_oci(s, x->fd, ref, platform, NULL, imp, err)
                        : herror_set(err, ENOMEM, "out of memory");
                if (r == 0 && layout_cb)
                        r = layout_cb(x->fd, imp, userdata, err);
                if (r < 0)
                        store_imports_free(imp, imp ? 1 : 0);
                else {
                        *ret = imp;
                        *ret_n = 1;
                }
        }
        store_unlock(s);
        if (r == 0 && ret_kind)
                *ret_kind = kind;
        return r;
}

int store_import_archive(struct image_store *s, int archivefd, const char *ref, const struct oci_platform *platform,
                         store_layout_fn layout_cb, void *userdata, enum store_archive_kind *ret_kind,
                         struct store_import **ret, size_t *ret_n, struct herror *err)
{
        struct store_extracted x;
        int r = store_archive_extract(s, archivefd, &x, err);
        if (r < 0)
                return r;
        r = store_import_extracted(s, &x, ref, platform, layout_cb, userdata, ret_kind, ret, ret_n, err);
        store_extracted_done(&x);
        return r;
}
