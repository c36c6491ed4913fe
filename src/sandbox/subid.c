#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/subid.h"
#include "util/fileio.h"

#define SUBID_MAX_FILE (4u << 20)
#define SUBID_MAX_RANGES 4096

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
        if (user_name && strlen(user_name) == len && memcmp(owner, user_name, len) == 0)
                return true;
        uint32_t n;
        return parse_u32(owner, len, &n) && n == uid;
}

int subid_parse(const char *data, size_t len, const char *file, const char *user_name, uid_t uid,
                struct subid_ranges *ret, struct herror *err)
{
        struct subid_ranges r = { 0 };
        size_t lineno = 0;
        for (size_t off = 0; off < len;) {
                const char *line = data + off;
                const char *nl = memchr(line, '\n', len - off);
                size_t ll = nl ? (size_t) (nl - line) : len - off;
                off += ll + (nl ? 1 : 0);
                lineno++;
                if (ll == 0 || line[0] == '#')
                        continue;
                const char *c1 = memchr(line, ':', ll);
                if (!c1 || !owner_matches(line, (size_t) (c1 - line), user_name, uid))
                        continue;
                const char *rest = c1 + 1;
                size_t rl = ll - (size_t) (rest - line);
                const char *c2 = memchr(rest, ':', rl);
                uint32_t start, count;
                if (!c2 || !parse_u32(rest, (size_t) (c2 - rest), &start) ||
                    !parse_u32(c2 + 1, rl - (size_t) (c2 + 1 - rest), &count)) {
                        subid_ranges_free(&r);
                        return herror_set(err, EINVAL, "%s:%zu: malformed entry (expected NAME:START:COUNT)", file, lineno);
                }
                if (count == 0 || (uint64_t) start + count > (uint64_t) UINT32_MAX + 1) {
                        subid_ranges_free(&r);
                        return herror_set(err, EINVAL, "%s:%zu: range %u:%u is empty or overflows", file, lineno, start, count);
                }
                if (r.n >= SUBID_MAX_RANGES) {
                        subid_ranges_free(&r);
                        return herror_set(err, E2BIG, "%s: more than %d ranges for one user", file, SUBID_MAX_RANGES);
                }
                struct subid_range *nv = realloc(r.v, (r.n + 1) * sizeof *nv);
                if (!nv) {
                        subid_ranges_free(&r);
                        return herror_set(err, ENOMEM, "%s: out of memory", file);
                }
                r.v = nv;
                r.v[r.n++] = (struct subid_range) { start, count };
        }
        *ret = r;
        return 0;
}

int subid_load(bool gid, const char *user_name, uid_t uid, struct subid_ranges *ret, struct herror *err)
{
        const char *path = subid_path(gid);
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        _cleanup_herror_ struct herror inner = HERROR_INIT;
        int r = read_file_at(AT_FDCWD, path, SUBID_MAX_FILE, &data, &len, &inner);
        if (r == -ENOENT) {
                *ret = (struct subid_ranges) { 0 };
                return 0;
        }
        if (r < 0)
                return herror_set(err, inner.errnum, "%s", herror_msg(&inner));
        return subid_parse(data, len, path, user_name, uid, ret, err);
}

/* Walks the ranges repeatedly, extending the covered prefix; n is small (at most 4096). */
bool subid_ranges_cover(const struct subid_ranges *r, uint32_t start, uint32_t count)
{
        uint64_t pos = start, end = (uint64_t) start + count;
        bool progress = true;
        while (pos < end && progress) {
                progress = false;
                for (size_t i = 0; i < r->n; i++) {
                        uint64_t s = r->v[i].start, e = s + r->v[i].count;
                        if (s <= pos && pos < e) {
                                pos = e;
                                progress = true;
                        }
                }
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
