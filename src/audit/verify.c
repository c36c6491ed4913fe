/* hutch audit verify's engine: walk the series of files line by line in constant memory and stop at the
 * first record that does not follow from the one before it. Each finding names the file and line and
 * says which kind of tampering it points to. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit-internal.h"
#include "util/crypto-dl.h"

struct walk {
        const struct audit_keys *keys;
        struct audit_verify_result *res;
        const char *path;
        uint64_t lineno;
        bool started;
        uint64_t seq;                  /* of the previous record */
        char hash[AUDIT_HASH_HEX + 1]; /* of the previous line */
        const char *prev_path;         /* where the previous record is: named in messages only */
        uint64_t prev_lineno;
        char prev_where[4200]; /* "FILE:LINE", formatted when a message needs it */
};

static const char *prev_where(struct walk *w)
{
        snprintf(w->prev_where, sizeof w->prev_where, "%s:%llu", w->prev_path, (unsigned long long) w->prev_lineno);
        return w->prev_where;
}

static int bad(struct walk *w, struct herror *err, const char *fmt, ...) _printf_(3, 4);
static int bad(struct walk *w, struct herror *err, const char *fmt, ...)
{
        char why[8192];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, sizeof why, fmt, ap);
        va_end(ap);
        return herror_set(err, EBADMSG, "%s:%llu: %s", w->path, (unsigned long long) w->lineno, why);
}

static int check_seq(struct walk *w, int64_t seq, struct herror *err)
{
        if (!w->started) {
                if (seq != 1)
                        return bad(w, err,
                                   "the log starts at seq %lld: records 1 to %lld are missing (removed from the "
                                   "start, or older rotated files were not given)",
                                   (long long) seq, (long long) seq - 1);
                return 0;
        }
        if ((uint64_t) seq == w->seq + 1)
                return 0;
        if ((uint64_t) seq > w->seq + 1)
                return bad(w, err, "seq %lld follows seq %llu (%s): %llu record(s) missing before this one",
                           (long long) seq, (unsigned long long) w->seq, prev_where(w),
                           (unsigned long long) ((uint64_t) seq - w->seq - 1));
        return bad(w, err, "seq %lld follows seq %llu (%s): records reordered, repeated or spliced from another log",
                   (long long) seq, (unsigned long long) w->seq, prev_where(w));
}

static int check_prev(struct walk *w, const char *prev, struct herror *err)
{
        const char *want = w->started ? w->hash : audit_zero_hash;
        if (memcmp(prev, want, AUDIT_HASH_HEX) == 0)
                return 0;
        if (!w->started)
                return bad(w, err, "the first record's prev is not all zeros: the start of the log is missing");
        return bad(w, err,
                   "prev is not the sha256 of the record before it (%s): that record was changed, or this one "
                   "was taken from another log",
                   prev_where(w));
}

static int check_seal(struct walk *w, const char *line, size_t len, struct herror *err)
{
        _cleanup_herror_ struct herror e = HERROR_INIT;
        int r = audit_check_seal(w->keys, line, len, &e);
        if (r == 2)
                w->res->unsigned_records++;
        if (r == 0 && (w->keys->hmac_key || w->keys->sign_key))
                return bad(w, err,
                           "carries no %s, but a key was given: the record was added or rewritten without the key",
                           w->keys->hmac_key ? "HMAC" : "signature");
        if (r < 0)
                return bad(w, err, "%s", herror_msg(&e));
        return 0;
}

/* A table rather than two range tests: hash digits are random, so the branchy test mispredicted about every
 * other character and was a fifth of verify's time. */
static bool all_lowercase_hex(const char *s, size_t n)
{
        static const bool is_hex[256] = {
                ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
                ['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
        };
        unsigned ok = 1;
        for (size_t i = 0; i < n; i++)
                ok &= is_hex[(unsigned char) s[i]];
        return ok;
}

/* Every record starts as the writer lays it out (record.c puts v, seq and prev first; filelog.c fills them):
 *   {"v":1,"seq":<1-19 digits>,"prev":"<64 lowercase hex>",  ...  }
 * The head is read by hand instead of parsing the whole line as JSON: that parse was nine tenths of
 * verify's time, and it proves nothing the chain does not (a changed body breaks the next record's prev;
 * the last record only a seal can vouch for, parsed or not). `hutch audit show` parses every record. */
static bool parse_head(const char *line, size_t len, uint64_t *ret_seq, const char **ret_prev)
{
        static const char v[] = "{\"v\":" AUDIT_SCHEMA_VERSION_STR ",\"seq\":", p[] = ",\"prev\":\"";
        size_t at = sizeof v - 1;
        if (len < at || memcmp(line, v, at) != 0 || line[len - 1] != '}')
                return false;
        uint64_t seq = 0;
        size_t digits = 0;
        for (; at < len && line[at] >= '0' && line[at] <= '9' && digits < 18; at++, digits++)
                seq = seq * 10 + (uint64_t) (line[at] - '0');
        if (digits == 0 || line[at - digits] == '0' || len - at < sizeof p - 1 + AUDIT_HASH_HEX + 2 ||
            memcmp(line + at, p, sizeof p - 1) != 0)
                return false;
        at += sizeof p - 1;
        if (!all_lowercase_hex(line + at, AUDIT_HASH_HEX))
                return false;
        if (line[at + AUDIT_HASH_HEX] != '"' ||
            (line[at + AUDIT_HASH_HEX + 1] != ',' && line[at + AUDIT_HASH_HEX + 1] != '}'))
                return false;
        *ret_seq = seq;
        *ret_prev = line + at;
        return true;
}

static int check_line(struct walk *w, const char *line, size_t len, const char *hash, struct herror *err)
{
        if (len > AUDIT_RECORD_MAX)
                return bad(w, err, "longer than %u bytes: not a record", AUDIT_RECORD_MAX);
        uint64_t seq;
        const char *prev;
        if (!parse_head(line, len, &seq, &prev))
                return bad(
                        w, err,
                        "not a JSON record of schema version %d (it must start {\"v\":%d,\"seq\":N,\"prev\":\"<sha256>\" "
                        "and end with }): the line was changed or cut",
                        AUDIT_SCHEMA_VERSION, AUDIT_SCHEMA_VERSION);
        int r = check_seq(w, (int64_t) seq, err);
        if (r == 0)
                r = check_prev(w, prev, err);
        if (r == 0)
                r = check_seal(w, line, len, err);
        if (r < 0)
                return r;
        if (!w->started)
                w->res->first_seq = seq;
        w->started = true;
        w->seq = seq;
        memcpy(w->hash, hash, sizeof w->hash);
        w->prev_path = w->path;
        w->prev_lineno = w->lineno;
        w->res->records++;
        return 0;
}

/* Big reads split on newlines rather than getline(): one copy out of the kernel and none per line. */
#define VERIFY_BUF_SIZE (4u << 20)
_Static_assert(VERIFY_BUF_SIZE > AUDIT_RECORD_MAX + 1, "a whole record must fit in the buffer");

/* Lines are hashed a batch at a time, on two cores: a record's hash does not depend on the others, only
 * the checks that use them run in order. Hashing is most of verify's CPU time. */
#define HASH_BATCH 4096
#define HASH_PARALLEL_MIN (256u << 10) /* bytes in a batch worth a second thread */

struct line {
        const char *p;
        size_t len;
};

struct batch {
        struct line line[HASH_BATCH];
        char hash[HASH_BATCH][AUDIT_HASH_HEX + 1];
        size_t n;
};

struct hash_job {
        struct batch *b;
        size_t from, to;
};

static void *hash_range(void *arg)
{
        struct hash_job *j = arg;
        for (size_t i = j->from; i < j->to; i++)
                audit_sha256_hex(j->b->line[i].p, j->b->line[i].len, j->b->hash[i]);
        return NULL;
}

static void hash_batch(struct batch *b)
{
        size_t bytes = 0, half = 0, acc = 0;
        for (size_t i = 0; i < b->n; i++)
                bytes += b->line[i].len;
        while (half < b->n && acc < bytes / 2)
                acc += b->line[half++].len;
        struct hash_job first = { b, 0, half }, second = { b, half, b->n };
        pthread_t t;
        bool threaded = bytes >= HASH_PARALLEL_MIN && pthread_create(&t, NULL, hash_range, &second) == 0;
        hash_range(&first);
        if (threaded)
                pthread_join(t, NULL);
        else
                hash_range(&second);
}

static int check_batch(struct walk *w, struct batch *b, struct herror *err)
{
        hash_batch(b);
        for (size_t i = 0; i < b->n; i++) {
                w->lineno++;
                int r = check_line(w, b->line[i].p, b->line[i].len, b->hash[i], err);
                if (r < 0)
                        return r;
        }
        b->n = 0;
        return 0;
}

static int check_lines(struct walk *w, struct batch *b, const char *buf, size_t have, size_t *ret_used,
                       struct herror *err)
{
        size_t start = 0;
        const char *nl;
        while ((nl = memchr(buf + start, '\n', have - start))) {
                size_t len = (size_t) (nl - buf) - start;
                b->line[b->n++] = (struct line) { buf + start, len };
                start += len + 1;
                int r = b->n == HASH_BATCH ? check_batch(w, b, err) : 0;
                if (r < 0)
                        return r;
        }
        int r = check_batch(w, b, err);
        if (r < 0)
                return r;
        *ret_used = start;
        if (have - start > AUDIT_RECORD_MAX) {
                w->lineno++;
                return bad(w, err, "longer than %u bytes: not a record", AUDIT_RECORD_MAX);
        }
        return 0;
}

static int walk_file(struct walk *w, const char *path, struct herror *err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return herror_sys(err, errno, "%s", path);
        (void) posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        _cleanup_free_ char *buf = malloc(VERIFY_BUF_SIZE);
        _cleanup_free_ struct batch *batch = malloc(sizeof *batch);
        if (!buf || !batch)
                return herror_set(err, ENOMEM, "%s: out of memory", path);
        batch->n = 0;
        w->path = path;
        w->lineno = 0;
        size_t have = 0;
        for (;;) {
                ssize_t n = read(fd, buf + have, VERIFY_BUF_SIZE - have);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return herror_sys(err, errno, "%s: read", path);
                if (n == 0)
                        break;
                have += (size_t) n;
                size_t used;
                int r = check_lines(w, batch, buf, have, &used, err);
                if (r < 0)
                        return r;
                memmove(buf, buf + used, have - used);
                have -= used;
        }
        if (have > 0) {
                w->lineno++;
                return bad(w, err,
                           "the last record is cut off (no newline): the file was truncated or a write did not "
                           "finish");
        }
        w->res->files++;
        return 0;
}

int audit_verify(const char *const *paths, size_t n_paths, const struct audit_verify_opts *o,
                 struct audit_verify_result *ret, struct herror *err)
{
        /* a hash per record: OpenSSL's SHA-256 (SHA-NI, AVX2) rather than the portable one */
        int r = crypto_dl_load(err);
        if (r < 0)
                return r;
        struct audit_keys keys;
        r = audit_keys_load(&keys, o ? o->hmac_key_path : NULL, o ? o->pubkey_path : NULL, true, err);
        if (r < 0)
                return r;
        struct audit_verify_result res = { 0 };
        struct walk w = { .keys = &keys, .res = &res };
        for (size_t i = 0; i < n_paths && r == 0; i++)
                r = walk_file(&w, paths[i], err);
        res.last_seq = w.seq;
        memcpy(res.last_hash, w.started ? w.hash : audit_zero_hash, sizeof res.last_hash);
        res.macs_checked = r == 0 && (keys.hmac_key || keys.sign_key) && res.records > 0;
        audit_keys_done(&keys);
        *ret = res;
        return r;
}

int audit_log_series(const char *path, char ***ret_paths, size_t *ret_n, struct herror *err)
{
        size_t n = 0;
        struct stat st;
        for (;; n++) {
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "%s.%zu", path, n + 1) < 0)
                        return herror_set(err, ENOMEM, "out of memory");
                if (stat(p, &st) < 0)
                        break;
        }
        char **v = calloc(n + 2, sizeof *v);
        if (!v)
                return herror_set(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++)
                if (asprintf(&v[i], "%s.%zu", path, n - i) < 0) {
                        v[i] = NULL;
                        strv_free(v);
                        return herror_set(err, ENOMEM, "out of memory");
                }
        if (!(v[n] = strdup(path))) {
                strv_free(v);
                return herror_set(err, ENOMEM, "out of memory");
        }
        *ret_paths = v;
        *ret_n = n + 1;
        return 0;
}
