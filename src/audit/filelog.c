/* The file sink: one JSON line per record, appended under an exclusive flock on the log itself. Under the
 * lock a writer reads the last line to learn the next seq and prev, so concurrent launches serialize into
 * one chain; the write is a single O_APPEND write followed by fdatasync, so a record that was reported
 * written is on disk. Rotation renames PATH to PATH.1 (PATH.1 to PATH.2, ...) and the next record, the
 * first of the new PATH, chains to the last line of PATH.1. */
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit-internal.h"
#include "util/fileio.h"

#define TAIL_CHUNK 65536u
#define MAX_ROTATED 100000u

struct tail {
        uint64_t seq; /* 0: empty chain */
        char hash[AUDIT_HASH_HEX + 1];
};

/* mkdir -p of path's parent; directories we create are 0700 (others need not know who ran what). */
int audit_log_make_parents(const char *path, struct herror *err)
{
        char dir[PATH_MAX];
        if (snprintf(dir, sizeof dir, "%s", path) >= (int) sizeof dir)
                return herror_set(err, ENAMETOOLONG, "audit log %s: path too long", path);
        char *slash = strrchr(dir, '/');
        if (!slash || slash == dir)
                return 0;
        *slash = 0;
        int r = mkdir_p(dir, 0700, err);
        return r < 0 ? herror_wrap(err, "audit log directory") : 0;
}

/* The last complete line of fd (size bytes), into a malloc'd buffer. 0 and *ret NULL for an empty file. */
static int read_last_line(int fd, off_t size, const char *path, char **ret, size_t *ret_len, struct herror *err)
{
        *ret = NULL;
        if (size == 0)
                return 0;
        char last;
        if (pread(fd, &last, 1, size - 1) != 1)
                return herror_sys(err, errno ? errno : EIO, "audit log %s: read", path);
        if (last != '\n')
                return herror_set(err, EBADMSG,
                                  "audit log %s: the last record is incomplete (a crash during a write?); "
                                  "check it with 'hutch audit verify' and move the file aside",
                                  path);
        size_t want = 0;
        _cleanup_free_ char *buf = NULL;
        for (;;) {
                want = want ? want * 2 : TAIL_CHUNK;
                if (want > (size_t) size)
                        want = (size_t) size;
                free(buf);
                if (!(buf = malloc(want)))
                        return herror_set(err, ENOMEM, "out of memory");
                ssize_t n = pread(fd, buf, want, size - (off_t) want);
                if (n != (ssize_t) want)
                        return herror_sys(err, n < 0 ? errno : EIO, "audit log %s: read", path);
                char *nl = want > 1 ? memrchr(buf, '\n', want - 1) : NULL;
                if (nl || want == (size_t) size) {
                        size_t start = nl ? (size_t) (nl - buf) + 1 : 0;
                        *ret_len = want - 1 - start;
                        *ret = strndup(buf + start, *ret_len);
                        return *ret ? 0 : herror_set(err, ENOMEM, "out of memory");
                }
                if (want > AUDIT_RECORD_MAX + 1)
                        return herror_set(err, EBADMSG, "audit log %s: the last line is longer than %u bytes", path,
                                          AUDIT_RECORD_MAX);
        }
}

static int tail_of_line(const char *line, size_t len, const char *path, struct tail *ret, struct herror *err)
{
        json_error_t je;
        _cleanup_json_ json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
        json_t *seq = o ? json_object_get(o, "seq") : NULL;
        if (!json_is_integer(seq) || json_integer_value(seq) < 1)
                return herror_set(err, EBADMSG,
                                  "audit log %s: the last record has no valid seq; check it with "
                                  "'hutch audit verify'",
                                  path);
        ret->seq = (uint64_t) json_integer_value(seq);
        audit_sha256_hex(line, len, ret->hash);
        return 0;
}

/* The chain's end as PATH (or, when PATH is empty, the newest rotated file) has it. */
static int read_tail(int fd, off_t size, const char *path, struct tail *ret, struct herror *err)
{
        _cleanup_free_ char *line = NULL, *rotated = NULL;
        size_t len = 0;
        int r = read_last_line(fd, size, path, &line, &len, err);
        if (r < 0)
                return r;
        if (line)
                return tail_of_line(line, len, path, ret, err);
        if (asprintf(&rotated, "%s.1", path) < 0)
                return herror_set(err, ENOMEM, "out of memory");
        _cleanup_close_ int rfd = open(rotated, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        struct stat st;
        if (rfd < 0 && errno == ENOENT) {
                *ret = (struct tail) { .seq = 0 };
                memcpy(ret->hash, audit_zero_hash, sizeof ret->hash);
                return 0;
        }
        if (rfd < 0 || fstat(rfd, &st) < 0)
                return herror_sys(err, errno, "audit log %s", rotated);
        if ((r = read_last_line(rfd, st.st_size, rotated, &line, &len, err)) < 0)
                return r;
        if (!line)
                return herror_set(err, EBADMSG, "audit log %s: empty, so the chain cannot continue from it", rotated);
        return tail_of_line(line, len, rotated, ret, err);
}

/* Open PATH and lock it, making sure the locked file is still the one at PATH (a rotation may have
 * renamed it while we waited). */
static int open_locked(const char *path, struct stat *ret_st, bool *ret_created, struct herror *err)
{
        for (;;) {
                int fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
                bool created = false;
                if (fd < 0 && errno == ENOENT) {
                        fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
                        created = fd >= 0;
                        if (fd < 0 && errno == EEXIST)
                                continue;
                }
                if (fd < 0)
                        return herror_sys(err, errno, "audit log %s", path);
                while (flock(fd, LOCK_EX) < 0) {
                        if (errno != EINTR) {
                                int e = errno;
                                close(fd);
                                return herror_sys(err, e, "audit log %s: lock", path);
                        }
                }
                struct stat st, now;
                if (fstat(fd, &st) < 0) {
                        int e = errno;
                        close(fd);
                        return herror_sys(err, e, "audit log %s", path);
                }
                if (lstat(path, &now) == 0 && now.st_dev == st.st_dev && now.st_ino == st.st_ino) {
                        *ret_st = st;
                        *ret_created = created;
                        return fd;
                }
                close(fd);
        }
}

static int check_file(const struct stat *st, const char *path, struct herror *err)
{
        if (!S_ISREG(st->st_mode))
                return herror_set(err, EINVAL, "audit log %s: not a regular file", path);
        /* a hard link would let whoever made it point our appends at another file */
        if (st->st_nlink != 1)
                return herror_set(err, EPERM, "audit log %s: has %ju hard links; refusing to write to it", path,
                                  (uintmax_t) st->st_nlink);
        return 0;
}

static int fsync_parent(const char *path)
{
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        return fsync_dir_at(AT_FDCWD, dirname(copy));
}

/* PATH.k -> PATH.k+1 from the oldest down, then PATH -> PATH.1. Called with PATH locked. */
static int rotate(const char *path, struct herror *err)
{
        char from[PATH_MAX], to[PATH_MAX];
        unsigned n = 0;
        struct stat st;
        while (n < MAX_ROTATED) {
                snprintf(from, sizeof from, "%s.%u", path, n + 1);
                if (lstat(from, &st) < 0)
                        break;
                n++;
        }
        for (unsigned k = n; k >= 1; k--) {
                snprintf(from, sizeof from, "%s.%u", path, k);
                snprintf(to, sizeof to, "%s.%u", path, k + 1);
                if (rename(from, to) < 0)
                        return herror_sys(err, errno, "audit log: rotate %s to %s", from, to);
        }
        snprintf(to, sizeof to, "%s.1", path);
        if (rename(path, to) < 0)
                return herror_sys(err, errno, "audit log: rotate %s to %s", path, to);
        fsync_parent(path);
        return 0;
}

/* One write of the whole line; a partial write (disk full) is cut off again so the log stays whole. */
static int append_line(int fd, off_t size, const char *line, size_t len, const char *path, struct herror *err)
{
        _cleanup_free_ char *buf = malloc(len + 1);
        if (!buf)
                return herror_set(err, ENOMEM, "out of memory");
        memcpy(buf, line, len);
        buf[len] = '\n';
        int r = write_all(fd, buf, len + 1);
        if (r < 0) {
                if (ftruncate(fd, size) < 0) {
                        /* nothing more we can do: verify will name the torn record */
                }
                return herror_sys(err, -r, "audit log %s: write", path);
        }
        if (fdatasync(fd) < 0)
                return herror_sys(err, errno, "audit log %s: fdatasync", path);
        return 0;
}

static int set_chain(json_t *body, const struct tail *t)
{
        if (json_object_set_new(body, "seq", json_integer((json_int_t) (t->seq + 1))) < 0 ||
            json_object_set_new(body, "prev", json_string(t->hash)) < 0)
                return -ENOMEM;
        return 0;
}

int audit_file_append(const struct audit_file_sink *s, const struct audit_keys *k, json_t *body, uint64_t *ret_seq,
                      char ret_hash[static AUDIT_HASH_HEX + 1], struct herror *err)
{
        int r = audit_log_make_parents(s->path, err);
        if (r < 0)
                return r;
        for (bool rotated = false;;) {
                struct stat st = { 0 };
                bool created = false;
                _cleanup_close_ int fd = open_locked(s->path, &st, &created, err);
                if (fd < 0)
                        return fd;
                if ((r = check_file(&st, s->path, err)) < 0)
                        return r;
                struct tail t;
                if ((r = read_tail(fd, st.st_size, s->path, &t, err)) < 0)
                        return r;
                if (set_chain(body, &t) < 0)
                        return herror_set(err, ENOMEM, "out of memory");
                _cleanup_free_ char *line = NULL;
                size_t len;
                if ((r = audit_seal(k, body, &line, &len, err)) < 0)
                        return r;
                if (!rotated && s->rotate_size && st.st_size > 0 && (uint64_t) st.st_size + len + 1 > s->rotate_size) {
                        if ((r = rotate(s->path, err)) < 0)
                                return r;
                        rotated = true;
                        continue; /* the next file starts empty and chains to PATH.1 */
                }
                if ((r = append_line(fd, st.st_size, line, len, s->path, err)) < 0)
                        return r;
                if (created)
                        fsync_parent(s->path);
                if (ret_seq)
                        *ret_seq = t.seq + 1;
                audit_sha256_hex(line, len, ret_hash);
                return 0;
        }
}
