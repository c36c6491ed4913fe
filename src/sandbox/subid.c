#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sandbox/subid.h"
#include "util/fileio.h"

const char *subid_path(bool gid)
{
        const char *e = getenv(gid ? "HUTCH_SUBGID_FILE" : "HUTCH_SUBUID_FILE");
        if (e && e[0])
                return e;
        return gid ? "/etc/subgid" : "/etc/subuid";
}

void subid_ranges_free(struct subid_ranges *r)
{
        free(r->v);
        r->v = NULL;
        r->n = 0;
}

static bool parse_u32(const char *s, size_t len, uint32_t *ret)
{
        if (len == 0 || len > 10)
                return false;
        uint64_t v = 0;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (uint64_t) (s[i] - '0');
        }
        if (v > UINT32_MAX)
                return false;
        *ret = (uint32_t) v;
        return true;
}

static bool owner_matches(const char *owner, size_t len, const char *user_name, uid_t uid)
{
        if (user_name && user_name[0] && strlen(user_name) == len && memcmp(owner, user_name, len) == 0)
                return true;
        uint32_t n;
        return parse_u32(owner, len, &n) && n == uid;
}

/* "START:COUNT" exactly: two decimal fields, nothing else (no spaces, no third field, no CR). */
static bool parse_range(const char *s, size_t len, struct subid_range *ret)
{
        const char *colon = memchr(s, ':', len);
        if (!colon)
                return false;
        size_t sl = (size_t) (colon - s);
        return parse_u32(s, sl, &ret->start) && parse_u32(colon + 1, len - sl - 1, &ret->count);
}

static int append_range(struct subid_ranges *r, size_t *cap, struct subid_range range)
{
        if (r->n == *cap) {
                size_t ncap = *cap ? *cap * 2 : 4;
                struct subid_range *nv = realloc(r->v, ncap * sizeof *nv);
                if (!nv)
                        return -ENOMEM;
                r->v = nv;
                *cap = ncap;
        }
        r->v[r->n++] = range;
        return 0;
}

static int parse_entry(const char *line, size_t ll, const char *file, size_t lineno, const char *user_name, uid_t uid,
                       struct subid_ranges *r, size_t *cap, struct herror *err)
{
        const char *c1 = memchr(line, ':', ll);
        if (!c1 || !owner_matches(line, (size_t) (c1 - line), user_name, uid))
                return 0; /* another user's entry, or not an entry at all: not ours to judge */
        struct subid_range range;
        size_t rest = ll - (size_t) (c1 + 1 - line);
        if (!parse_range(c1 + 1, rest, &range))
                return herror_set(err, EINVAL, "%s:%zu: malformed entry \"%.*s\" (expected NAME:START:COUNT)", file,
                                  lineno, (int) (ll > 80 ? 80 : ll), line);
        if (range.count == 0)
                return herror_set(err, EINVAL, "%s:%zu: range %u:%u is empty", file, lineno, range.start, range.count);
        if ((uint64_t) range.start + range.count > (uint64_t) UINT32_MAX + 1)
                return herror_set(err, ERANGE, "%s:%zu: range %u:%u goes beyond ID 4294967295", file, lineno,
                                  range.start, range.count);
        if (r->n >= SUBID_MAX_RANGES)
                return herror_set(err, E2BIG, "%s:%zu: more than %d ranges for one user", file, lineno,
                                  SUBID_MAX_RANGES);
        if (append_range(r, cap, range) < 0)
                return herror_set(err, ENOMEM, "%s: out of memory", file);
        return 0;
}

int subid_parse(const char *data, size_t len, const char *file_for_errors, const char *user_name, uid_t uid,
                struct subid_ranges *ret, struct herror *err)
{
        struct subid_ranges r = { 0 };
        size_t cap = 0, lineno = 0;
        for (size_t off = 0; off < len;) {
                const char *line = data + off;
                const char *nl = memchr(line, '\n', len - off);
                size_t ll = nl ? (size_t) (nl - line) : len - off;
                off += ll + (nl ? 1 : 0);
                lineno++;
                if (ll == 0 || line[0] == '#')
                        continue;
                int rv = parse_entry(line, ll, file_for_errors, lineno, user_name, uid, &r, &cap, err);
                if (rv < 0) {
                        subid_ranges_free(&r);
                        return rv;
                }
        }
        *ret = r;
        return 0;
}

/* Character devices and pipes have no size to check up front: read until EOF, at most max_size. */
static int read_stream(int fd, const char *path, char **ret, size_t *ret_len, struct herror *err)
{
        size_t cap = 4096, len = 0;
        _cleanup_free_ char *buf = malloc(cap + 1);
        if (!buf)
                return herror_set(err, ENOMEM, "%s: out of memory", path);
        for (;;) {
                if (len == cap) {
                        if (cap > SUBID_MAX_FILE)
                                return herror_set(err, EFBIG, "%s: larger than the limit of %u bytes", path,
                                                  SUBID_MAX_FILE);
                        size_t ncap = cap * 2 > SUBID_MAX_FILE + 1 ? SUBID_MAX_FILE + 1 : cap * 2;
                        char *nb = realloc(buf, ncap + 1);
                        if (!nb)
                                return herror_set(err, ENOMEM, "%s: out of memory", path);
                        buf = nb;
                        cap = ncap;
                }
                ssize_t n = read_all(fd, buf + len, cap - len);
                if (n < 0)
                        return herror_sys(err, (int) -n, "%s: read", path);
                len += (size_t) n;
                if (len < cap)
                        break;
        }
        if (len > SUBID_MAX_FILE)
                return herror_set(err, EFBIG, "%s: larger than the limit of %u bytes", path, SUBID_MAX_FILE);
        buf[len] = 0;
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

int subid_read_path(const char *path, char **ret, size_t *ret_len, struct herror *err)
{
        /* Symlinks are followed: /etc is root's, and the override is the caller's own file. */
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return errno == ENOENT ? -ENOENT : herror_sys(err, errno, "%s", path);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return herror_sys(err, errno, "%s: stat", path);
        if (S_ISREG(st.st_mode))
                return read_fd_limited(fd, path, SUBID_MAX_FILE, ret, ret_len, err);
        if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))
                return read_stream(fd, path, ret, ret_len, err);
        return herror_set(err, EINVAL, "%s: not a regular file", path);
}

int subid_load(bool gid, const char *user_name, uid_t uid, struct subid_ranges *ret, struct herror *err)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r = subid_read_path(subid_path(gid), &data, &len, err);
        if (r == -ENOENT) {
                *ret = (struct subid_ranges) { 0 };
                return 0;
        }
        if (r < 0)
                return r;
        return subid_parse(data, len, subid_path(gid), user_name, uid, ret, err);
}

static int range_cmp(const void *a, const void *b)
{
        const struct subid_range *x = a, *y = b;
        return x->start < y->start ? -1 : x->start > y->start;
}

/* Sort a copy by start, then sweep: the covered prefix grows while the next range touches it. */
bool subid_ranges_cover(const struct subid_ranges *r, uint32_t start, uint32_t count)
{
        if (count == 0 || r->n == 0)
                return false;
        _cleanup_free_ struct subid_range *v = malloc(r->n * sizeof *v);
        if (!v)
                return false;
        memcpy(v, r->v, r->n * sizeof *v);
        qsort(v, r->n, sizeof *v, range_cmp);
        uint64_t pos = start, end = (uint64_t) start + count;
        for (size_t i = 0; i < r->n && pos < end; i++) {
                uint64_t s = v[i].start, e = s + v[i].count;
                if (s > pos)
                        break; /* sorted: nothing later can start at or before pos */
                if (e > pos)
                        pos = e;
        }
        return pos >= end;
}

uint64_t subid_ranges_total(const struct subid_ranges *r)
{
        uint64_t t = 0;
        for (size_t i = 0; i < r->n; i++)
                t += r->v[i].count;
        return t;
}
