/* The audit trail: record form, the chain and what breaks it, MACs and signatures, configuration,
 * rotation, concurrent writers and the journald wire format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit/audit-internal.h"
#include "util/fileio.h"

static char dir[64];
static char logpath[128];

static int setup(void **state)
{
        snprintf(dir, sizeof dir, "/tmp/hutch-audit-XXXXXX");
        if (!mkdtemp(dir))
                return -1;
        snprintf(logpath, sizeof logpath, "%s/state/hutch/audit.log", dir);
        return 0;
}

static int teardown(void **state)
{
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : -1;
}

static struct audit_config *config(const char *const *kv)
{
        struct audit_config *c = NULL;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        assert_int_equal(audit_config_new(&c, &err), 0);
        assert_int_equal(audit_config_set(c, "audit_log", logpath, &err), 0);
        assert_int_equal(audit_config_set(c, "audit_journald", "off", &err), 0);
        assert_int_equal(audit_config_set(c, "audit_kernel", "off", &err), 0);
        assert_int_equal(audit_config_set(c, "audit", "required", &err), 0);
        for (; kv && kv[0]; kv += 2)
                if (audit_config_set(c, kv[0], kv[1], &err) < 0)
                        fail_msg("%s", herror_msg(&err));
        return c;
}

static const char *const args[] = { "/bin/sh", "-c", "echo hi" };

static void emit_n(const char *const *kv, unsigned n)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        _cleanup_audit_config_ struct audit_config *c = config(kv);
        _cleanup_audit_ struct audit *a = NULL;
        if (audit_open(c, &a, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        for (unsigned i = 0; i < n; i++) {
                char id[32];
                snprintf(id, sizeof id, "c%u", i);
                struct audit_record r = { .event = i % 2 ? AUDIT_EVENT_END : AUDIT_EVENT_START,
                                          .entry = "runtime",
                                          .container_id = id,
                                          .argv = args,
                                          .n_argv = 3,
                                          .pid = 100 + (pid_t) i,
                                          .has_exit = i % 2,
                                          .duration_ns = -1 };
                if (audit_emit(a, &r, &err) < 0)
                        fail_msg("%s", herror_msg(&err));
        }
}

/* verify PATH (and its rotated series); returns the result and puts the message in msg */
static int verify_with(const char *hmac, const char *pub, char *msg, size_t size, struct audit_verify_result *res)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        char **paths = NULL;
        size_t n = 0;
        assert_int_equal(audit_log_series(logpath, &paths, &n, &err), 0);
        struct audit_verify_opts o = { .hmac_key_path = hmac, .pubkey_path = pub };
        struct audit_verify_result tmp;
        int r = audit_verify((const char *const *) paths, n, &o, res ? res : &tmp, &err);
        snprintf(msg, size, "%s", r < 0 ? herror_msg(&err) : "");
        strv_free(paths);
        return r;
}

static int verify(char *msg, size_t size)
{
        return verify_with(NULL, NULL, msg, size, NULL);
}

static char *slurp(const char *path, size_t *len)
{
        char *data = NULL;
        if (read_file_at(AT_FDCWD, path, 64u << 20, &data, len, NULL) < 0)
                fail_msg("cannot read %s", path);
        return data;
}

static void spew(const char *path, const char *data, size_t len)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(write_all(fd, data, len), 0);
}

/* Lines of the log as separate strings (with their newlines). */
struct lines {
        char *v[64];
        size_t n;
};

static void split(const char *data, struct lines *ret)
{
        ret->n = 0;
        for (const char *p = data; *p && ret->n < ELEMENTSOF(ret->v);) {
                const char *nl = strchr(p, '\n');
                size_t l = nl ? (size_t) (nl - p) + 1 : strlen(p);
                ret->v[ret->n++] = strndup(p, l);
                p += l;
        }
}

static void join_write(struct lines *l, const size_t *order, size_t n)
{
        char buf[65536];
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
                size_t len = strlen(l->v[order[i]]);
                memcpy(buf + k, l->v[order[i]], len);
                k += len;
        }
        spew(logpath, buf, k);
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i]);
}

static void read_lines(struct lines *l)
{
        size_t len;
        _cleanup_free_ char *data = slurp(logpath, &len);
        split(data, l);
}

/* ---- the record ----------------------------------------------------------------------------------- */

static void record_form(void **state)
{
        const char *caps[] = { "CAP_CHOWN", "CAP_KILL" }, *ns[] = { "user", "mount" }, *vols[] = { "/home/u/data" };
        const char *bad_argv[] = { "printf", "\xff\xfe ok \xc3\xa9" };
        struct audit_idmap um[] = { { 0, 1000, 1 }, { 1, 200000, 65536 } };
        struct audit_record r = {
                .event = AUDIT_EVENT_END,
                .entry = "run",
                .container_id = "abc",
                .container_name = "web",
                .image_ref = "docker.io/library/busybox:latest",
                .image_digest = "sha256:00ff",
                .trust_verdict = "accepted",
                .trust_scope = "docker.io/library",
                .trust_key_id = "SHA256:xyz",
                .policy_path = "/etc/containers/policy.json",
                .policy_sha256 = "aa",
                .seccomp_profile = "default",
                .seccomp_sha256 = "bb",
                .landlock = "best-effort abi 7",
                .caps = caps,
                .n_caps = 2,
                .namespaces = ns,
                .n_namespaces = 2,
                .uid_map = um,
                .n_uid_map = 2,
                .volumes = vols,
                .n_volumes = 1,
                .argv = bad_argv,
                .n_argv = 2,
                .pid = 4242,
                .has_exit = true,
                .exit_status = 137,
                .exit_signal = 9,
                .duration_ns = 1234567,
        };
        struct audit_identity id = { .uid = 1000,
                                     .euid = 1000,
                                     .gid = 1000,
                                     .egid = 1000,
                                     .user = "alice",
                                     .has_loginuid = true,
                                     .loginuid = 1000,
                                     .host = "h",
                                     .hutch_pid = 7 };
        _cleanup_herror_ struct herror err = HERROR_INIT;
        _cleanup_json_ json_t *o = NULL;
        assert_int_equal(audit_record_to_json(&r, &id, "2026-01-02T03:04:05.000000006Z", &o, &err), 0);
        _cleanup_free_ char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        assert_string_equal(
                text,
                "{\"v\":1,\"seq\":null,\"prev\":null,\"time\":\"2026-01-02T03:04:05.000000006Z\",\"event\":\"end\",\"host\":\"h\","
                "\"hutch_version\":\"" HUTCH_VERSION
                "\",\"hutch_pid\":7,\"user\":{\"uid\":1000,\"euid\":1000,\"gid\":1000,"
                "\"egid\":1000,\"name\":\"alice\",\"loginuid\":1000,\"sessionid\":null},\"entry\":\"run\","
                "\"container\":{\"id\":\"abc\",\"name\":\"web\"},\"image\":{\"ref\":\"docker.io/library/busybox:latest\","
                "\"digest\":\"sha256:00ff\"},\"trust\":{\"verdict\":\"accepted\",\"scope\":\"docker.io/library\","
                "\"key_id\":\"SHA256:xyz\"},\"policy\":{\"path\":\"/etc/containers/policy.json\",\"sha256\":\"aa\"},"
                "\"seccomp\":{\"profile\":\"default\",\"sha256\":\"bb\"},\"landlock\":\"best-effort abi 7\","
                "\"capabilities\":[\"CAP_CHOWN\",\"CAP_KILL\"],\"namespaces\":[\"user\",\"mount\"],"
                "\"uid_map\":[[0,1000,1],[1,200000,65536]],\"volumes\":[\"/home/u/data\"],"
                "\"argv\":[\"printf\",\"\\\\xff\\\\xfe ok \xc3\xa9\"],\"pid\":4242,"
                "\"exit\":{\"status\":137,\"signal\":9,\"timed_out\":false},\"duration_ns\":1234567}");
        struct audit_record bad = { .event = (enum audit_event) 7 };
        assert_int_equal(audit_record_to_json(&bad, &id, "t", &o, &err), -EINVAL);
}

static void identity_is_the_callers(void **state)
{
        struct audit_identity id;
        audit_identity_get(&id);
        assert_int_equal(id.uid, getuid());
        assert_int_equal(id.euid, geteuid());
        assert_int_equal(id.hutch_pid, getpid());
        char buf[32] = "";
        _cleanup_close_ int fd = open("/proc/self/loginuid", O_RDONLY | O_CLOEXEC);
        if (fd >= 0 && read(fd, buf, sizeof buf - 1) > 0)
                assert_int_equal(id.has_loginuid, strtoul(buf, NULL, 10) != 4294967295UL);
}

/* ---- the chain ------------------------------------------------------------------------------------ */

static void chain_and_permissions(void **state)
{
        char msg[8192];
        struct audit_verify_result res;
        emit_n(NULL, 5);
        assert_int_equal(verify_with(NULL, NULL, msg, sizeof msg, &res), 0);
        assert_int_equal(res.records, 5);
        assert_int_equal(res.first_seq, 1);
        assert_int_equal(res.last_seq, 5);
        struct stat st;
        assert_int_equal(stat(logpath, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        char d[160];
        snprintf(d, sizeof d, "%s/state/hutch", dir);
        assert_int_equal(stat(d, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700);
        /* the chain continues in a new process */
        emit_n(NULL, 2);
        assert_int_equal(verify_with(NULL, NULL, msg, sizeof msg, &res), 0);
        assert_int_equal(res.last_seq, 7);
}

static void expect_break(const char *what, const char *needle1, const char *needle2)
{
        char msg[8192];
        assert_int_equal(verify(msg, sizeof msg), -EBADMSG);
        if (!strstr(msg, needle1) || (needle2 && !strstr(msg, needle2)))
                fail_msg("%s: '%s' lacks '%s' / '%s'", what, msg, needle1, needle2 ? needle2 : "");
}

static void verify_finds_deletion(void **state)
{
        struct lines l;
        emit_n(NULL, 5);
        read_lines(&l);
        join_write(&l, (size_t[]) { 0, 1, 3, 4 }, 4);
        expect_break("deletion", "audit.log:3: seq 4 follows seq 2", "1 record(s) missing");
}

static void verify_finds_edit(void **state)
{
        struct lines l;
        emit_n(NULL, 5);
        read_lines(&l);
        char *p = strstr(l.v[1], "\"c1\"");
        assert_non_null(p);
        p[2] = '9'; /* container c1 -> c9 */
        join_write(&l, (size_t[]) { 0, 1, 2, 3, 4 }, 5);
        expect_break("edit", "audit.log:3: prev is not the sha256", "audit.log:2)");
}

static void verify_finds_reorder(void **state)
{
        struct lines l;
        emit_n(NULL, 5);
        read_lines(&l);
        join_write(&l, (size_t[]) { 0, 2, 1, 3, 4 }, 5);
        expect_break("reorder", "audit.log:2: seq 3 follows seq 1", NULL);
}

static void verify_finds_truncation(void **state)
{
        size_t len;
        emit_n(NULL, 3);
        _cleanup_free_ char *data = slurp(logpath, &len);
        spew(logpath, data, len - 10);
        expect_break("truncation", "audit.log:3: the last record is cut off", NULL);
        /* the writer refuses to continue a torn log rather than hide the damage */
        _cleanup_herror_ struct herror err = HERROR_INIT;
        _cleanup_audit_config_ struct audit_config *c = config(NULL);
        _cleanup_audit_ struct audit *a = NULL;
        assert_int_equal(audit_open(c, &a, &err), 0);
        struct audit_record r = { .event = AUDIT_EVENT_START };
        assert_int_equal(audit_emit(a, &r, &err), -EBADMSG);
        assert_non_null(strstr(herror_msg(&err), "incomplete"));
}

static void verify_finds_head_removed(void **state)
{
        struct lines l;
        emit_n(NULL, 4);
        read_lines(&l);
        join_write(&l, (size_t[]) { 2, 3 }, 2);
        expect_break("head", "audit.log:1: the log starts at seq 3", NULL);
}

static void verify_finds_splice(void **state)
{
        /* two logs, each valid; the first two records of one followed by the last two of the other */
        struct lines a, b;
        emit_n(NULL, 4);
        read_lines(&a);
        unlink(logpath);
        emit_n(NULL, 4);
        read_lines(&b);
        for (size_t i = 2; i < 4; i++) {
                free(a.v[i]);
                a.v[i] = strdup(b.v[i]);
        }
        for (size_t i = 0; i < b.n; i++)
                free(b.v[i]);
        join_write(&a, (size_t[]) { 0, 1, 2, 3 }, 4);
        expect_break("splice", "audit.log:3: prev is not the sha256", "taken from another log");
}

static void verify_names_garbage(void **state)
{
        emit_n(NULL, 2);
        _cleanup_close_ int fd = open(logpath, O_WRONLY | O_APPEND | O_CLOEXEC);
        assert_int_equal(write_all(fd, "hello\n", 6), 0);
        expect_break("garbage", "audit.log:3: not a JSON record", NULL);
}

/* line = t with "Z" replaced by 64 zeros (the first record's prev) */
static void expand_zero_hash(const char *t, char *line, size_t size)
{
        static const char zero[] = "0000000000000000000000000000000000000000000000000000000000000000";
        size_t n = 0;
        for (; *t && n + sizeof zero < size; t++) {
                if (*t == 'Z') {
                        memcpy(line + n, zero, sizeof zero - 1);
                        n += sizeof zero - 1;
                } else {
                        line[n++] = *t;
                }
        }
        line[n] = 0;
}

/* verify reads each record's head by hand ({"v":1,"seq":N,"prev":"<hex>", ... }): exactly that form passes */
static void verify_reads_heads_strictly(void **state)
{
        (void) state;
        static const char *const bad_heads[] = {
                "{\"v\":2,\"seq\":1,\"prev\":\"Z\"}\n",  /* another schema */
                "{\"v\":1,\"seq\":01,\"prev\":\"Z\"}\n", /* leading zero */
                "{\"v\":1,\"seq\":0,\"prev\":\"Z\"}\n",  /* seq starts at 1 */
                "{\"v\":1,\"seq\":-1,\"prev\":\"Z\"}\n",
                "{\"v\":1,\"seq\":1234567890123456789,\"prev\":\"Z\"}\n", /* 19 digits */
                "{\"v\":1, \"seq\":1,\"prev\":\"Z\"}\n",                  /* not the writer's layout */
                "{\"seq\":1,\"v\":1,\"prev\":\"Z\"}\n",
                "{\"v\":1,\"seq\":1,\"prev\":\"Z\"\n",   /* no closing brace */
                "{\"v\":1,\"seq\":1,\"prev\":\"Za\"}\n", /* 65 hex digits */
                "{\"v\":1,\"seq\":1,\"prev\":\"Z\"x}\n",
                "{\"v\":1,\"seq\":1,\"prev\":\"AZ\"}\n", /* uppercase */
                "{\"v\":1,\"seq\":1}\n",
                "\n",
        };
        char msg[8192], line[256];
        emit_n(NULL, 1); /* creates the log's directories */
        _cleanup_close_ int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        expand_zero_hash("{\"v\":1,\"seq\":1,\"prev\":\"Z\",\"event\":\"start\"}\n", line, sizeof line);
        assert_int_equal(write_all(fd, line, strlen(line)), 0);
        assert_int_equal(verify(msg, sizeof msg), 0);
        for (size_t i = 0; i < ELEMENTSOF(bad_heads); i++) {
                assert_int_equal(ftruncate(fd, 0), 0);
                expand_zero_hash(bad_heads[i], line, sizeof line);
                assert_int_equal(pwrite(fd, line, strlen(line), 0), (ssize_t) strlen(line));
                char what[32];
                snprintf(what, sizeof what, "head %zu", i);
                expect_break(what, "audit.log:1: not a JSON record", NULL);
        }
}

/* ---- MACs and signatures -------------------------------------------------------------------------- */

static void write_key(const char *path, const char *data, size_t len, mode_t mode)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        assert_true(fd >= 0);
        assert_int_equal(write_all(fd, data, len), 0);
        assert_int_equal(fchmod(fd, mode), 0);
}

static void tamper_last_keeping_chain(void)
{
        /* change the last record (nothing follows it, so only a MAC can tell) */
        struct lines l;
        read_lines(&l);
        char *p = strstr(l.v[l.n - 1], "\"runtime\"");
        assert_non_null(p);
        memcpy(p + 1, "RUNTIME", 7);
        size_t order[64];
        for (size_t i = 0; i < l.n; i++)
                order[i] = i;
        join_write(&l, order, l.n);
}

/* A chain written here, not by the writer, so it can be several read buffers long: records of odd sizes,
 * one close to the size limit, straddle verify's buffer boundaries anywhere. */
static size_t write_long_chain(unsigned n, size_t big_at, size_t pad_spread)
{
        emit_n(NULL, 1); /* creates the log's directories */
        _cleanup_fclose_ FILE *f = fopen(logpath, "we");
        assert_non_null(f);
        char prev[AUDIT_HASH_HEX + 1];
        memcpy(prev, audit_zero_hash, sizeof prev);
        _cleanup_free_ char *pad = malloc(AUDIT_RECORD_MAX), *line = malloc(AUDIT_RECORD_MAX + 1);
        assert_true(pad && line);
        size_t total = 0;
        for (unsigned seq = 1; seq <= n; seq++) {
                size_t pad_len = seq == big_at ? AUDIT_RECORD_MAX - 200 : 100 + (seq * 7919u) % pad_spread;
                memset(pad, 'x', pad_len);
                pad[pad_len] = 0;
                int len = snprintf(line, AUDIT_RECORD_MAX + 1, "{\"v\":1,\"seq\":%u,\"prev\":\"%s\",\"pad\":\"%s\"}",
                                   seq, prev, pad);
                assert_true(len > 0 && (size_t) len <= AUDIT_RECORD_MAX);
                audit_sha256_hex(line, (size_t) len, prev);
                assert_int_equal(fprintf(f, "%s\n", line), len + 1);
                total += (size_t) len + 1;
        }
        return total;
}

static void verify_across_read_buffers(void **state)
{
        char msg[8192];
        struct audit_verify_result res;
        size_t size = write_long_chain(8000, 3000, 1900);
        assert_true(size > (9u << 20)); /* more than two of verify's 4 MiB buffers */
        assert_int_equal(verify_with(NULL, NULL, msg, sizeof msg, &res), 0);
        assert_int_equal(res.records, 8000);
        assert_int_equal(res.last_seq, 8000);
        /* a change far past the first buffer is found, on the right line */
        _cleanup_free_ char *data = NULL;
        assert_int_equal(read_file_at(AT_FDCWD, logpath, 64u << 20, &data, &size, NULL), 0);
        char *rec = strstr(data, "\"seq\":7000,");
        assert_non_null(rec);
        rec[strlen("\"seq\":7000,\"prev\":\"") + AUDIT_HASH_HEX + 12] = 'y';
        spew(logpath, data, size);
        expect_break("edit past the first buffer", "audit.log:7001: prev is not the sha256", "audit.log:7000)");
}

/* Many short records: more in one read than verify hashes in one batch (4096), so batches end inside a
 * buffer as well as at its end. */
static void verify_across_hash_batches(void **state)
{
        char msg[8192];
        struct audit_verify_result res;
        write_long_chain(12000, 0, 50);
        assert_int_equal(verify_with(NULL, NULL, msg, sizeof msg, &res), 0);
        assert_int_equal(res.records, 12000);
        size_t size;
        _cleanup_free_ char *data = NULL;
        assert_int_equal(read_file_at(AT_FDCWD, logpath, 64u << 20, &data, &size, NULL), 0);
        assert_true(size < (4u << 20)); /* one read */
        for (const char *const *seq = (const char *const[]) { "4096", "4097", "8193", NULL }; *seq; seq++) {
                char key[32], want[64], before[64];
                snprintf(key, sizeof key, "\"seq\":%s,", *seq);
                char *rec = strstr(data, key);
                assert_non_null(rec);
                size_t at = (size_t) (rec - data) + strlen(key) + strlen("\"prev\":\"") + AUDIT_HASH_HEX + 12;
                data[at] ^= 1; /* a pad byte: this record changed, the next one's prev no longer matches */
                spew(logpath, data, size);
                snprintf(want, sizeof want, "audit.log:%d: prev is not the sha256", atoi(*seq) + 1);
                snprintf(before, sizeof before, "audit.log:%s)", *seq);
                expect_break("edit near a batch boundary", want, before);
                data[at] ^= 1;
        }
}

static void verify_refuses_overlong_lines(void **state)
{
        char msg[8192];
        emit_n(NULL, 1);
        size_t len;
        _cleanup_free_ char *first = slurp(logpath, &len);
        /* one record, then a line past the limit: with a newline, and cut off without one */
        for (int newline = 1; newline >= 0; newline--) {
                _cleanup_free_ char *data = malloc(len + AUDIT_RECORD_MAX + 2);
                assert_non_null(data);
                memcpy(data, first, len);
                memset(data + len, 'x', AUDIT_RECORD_MAX + 1);
                if (newline)
                        data[len + AUDIT_RECORD_MAX + 1] = '\n';
                spew(logpath, data, len + AUDIT_RECORD_MAX + 1 + (size_t) newline);
                assert_int_equal(verify(msg, sizeof msg), -EBADMSG);
                if (!strstr(msg, "audit.log:2: longer than 1048576 bytes"))
                        fail_msg("newline %d: %s", newline, msg);
        }
}

static void hmac_records(void **state)
{
        char key[160], other[160], msg[8192];
        struct audit_verify_result res;
        snprintf(key, sizeof key, "%s/hmac.key", dir);
        snprintf(other, sizeof other, "%s/other.key", dir);
        write_key(key, "0123456789abcdef0123456789abcdef", 32, 0600);
        write_key(other, "fedcba9876543210fedcba9876543210", 32, 0600);
        emit_n((const char *[]) { "audit_hmac_key", key, NULL }, 3);
        assert_int_equal(verify_with(key, NULL, msg, sizeof msg, &res), 0);
        assert_true(res.macs_checked);
        /* without the key the chain still verifies; the MACs are counted as unchecked */
        assert_int_equal(verify_with(NULL, NULL, msg, sizeof msg, &res), 0);
        assert_int_equal(res.unsigned_records, 3);
        assert_int_equal(verify_with(other, NULL, msg, sizeof msg, NULL), -EBADMSG);
        assert_non_null(strstr(msg, "audit.log:1: HMAC does not match"));
        tamper_last_keeping_chain();
        assert_int_equal(verify_with(key, NULL, msg, sizeof msg, NULL), -EBADMSG);
        assert_non_null(strstr(msg, "audit.log:3: HMAC does not match"));
        /* a record appended without the key */
        unlink(logpath);
        emit_n((const char *[]) { "audit_hmac_key", key, NULL }, 2);
        emit_n(NULL, 1);
        assert_int_equal(verify_with(key, NULL, msg, sizeof msg, NULL), -EBADMSG);
        assert_non_null(strstr(msg, "audit.log:3: carries no HMAC"));
        /* keys others can read, or too short, are refused */
        write_key(key, "0123456789abcdef0123456789abcdef", 32, 0644);
        assert_int_equal(verify_with(key, NULL, msg, sizeof msg, NULL), -EPERM);
        assert_non_null(strstr(msg, "readable by group or others"));
        write_key(key, "short", 5, 0600);
        assert_int_equal(verify_with(key, NULL, msg, sizeof msg, NULL), -EINVAL);
}

static void write_pem(EVP_PKEY *k, const char *path, bool pub)
{
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        assert_int_equal(pub ? PEM_write_PUBKEY(f, k) : PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
        fclose(f);
        chmod(path, 0600);
}

static void ed25519_records(void **state)
{
        char priv[160], pub[160], pub2[160], msg[8192];
        struct audit_verify_result res;
        snprintf(priv, sizeof priv, "%s/sign.pem", dir);
        snprintf(pub, sizeof pub, "%s/sign.pub", dir);
        snprintf(pub2, sizeof pub2, "%s/other.pub", dir);
        EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), *k2 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        assert_non_null(k);
        assert_non_null(k2);
        write_pem(k, priv, false);
        write_pem(k, pub, true);
        write_pem(k2, pub2, true);
        EVP_PKEY_free(k);
        EVP_PKEY_free(k2);
        emit_n((const char *[]) { "audit_sign_key", priv, NULL }, 3);
        assert_int_equal(verify_with(NULL, pub, msg, sizeof msg, &res), 0);
        assert_true(res.macs_checked);
        assert_int_equal(verify_with(NULL, pub2, msg, sizeof msg, NULL), -EBADMSG);
        assert_non_null(strstr(msg, "audit.log:1: Ed25519 signature does not verify"));
        tamper_last_keeping_chain();
        assert_int_equal(verify_with(NULL, pub, msg, sizeof msg, NULL), -EBADMSG);
        assert_non_null(strstr(msg, "audit.log:3: Ed25519 signature does not verify"));
        /* an HMAC key where a signature was made */
        assert_int_equal(verify_with(priv, pub, msg, sizeof msg, NULL), -EINVAL);
        /* a private key others can read signs nothing; the public one may be world-readable */
        chmod(priv, 0644);
        _cleanup_audit_config_ struct audit_config *c = config((const char *[]) { "audit_sign_key", priv, NULL });
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct audit *a = NULL;
        assert_int_equal(audit_open(c, &a, &err), -EPERM);
        assert_non_null(strstr(herror_msg(&err), "sign.pem: readable by group or others (mode 0644)"));
        chmod(pub, 0644);
        assert_int_equal(verify_with(NULL, pub, msg, sizeof msg, NULL),
                         -EBADMSG); /* the key loads; line 3 is still bad */
        assert_non_null(strstr(msg, "audit.log:3: Ed25519 signature does not verify"));
}

/* ---- configuration -------------------------------------------------------------------------------- */

static void write_text(const char *path, const char *text)
{
        write_key(path, text, strlen(text), 0644);
}

static int load(const char *sys, const char *user, char *msg, size_t size, struct audit_config **ret)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct audit_config *c = NULL;
        int r = audit_config_load_files(sys, user, &c, &err);
        snprintf(msg, size, "%s", r < 0 ? herror_msg(&err) : "");
        if (ret)
                *ret = c;
        else
                audit_config_free(c);
        return r;
}

static void config_errors_name_the_line(void **state)
{
        char user[160], msg[8192];
        snprintf(user, sizeof user, "%s/user.conf", dir);
        static const struct {
                const char *text, *needle;
        } cases[] = {
                { "# c\naudit = required\nbogus = 1\n", "user.conf:3: unknown key 'bogus'" },
                { "audit = sometimes\n", "user.conf:1: audit: expected required, best-effort or off, not 'sometimes'" },
                { "\n\naudit_log = relative/path\n", "user.conf:3: audit_log: expected an absolute path or none" },
                { "audit_rotate_size = 10X\n", "user.conf:1: audit_rotate_size: expected a size" },
                { "audit_syslog\n", "user.conf:1: expected 'key = value'" },
                { "audit_journald =\n", "user.conf:1: audit_journald: empty value" },
                { "audit-log = /x\n", "user.conf:1: unknown key 'audit-log'" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                write_text(user, cases[i].text);
                assert_int_equal(load(NULL, user, msg, sizeof msg, NULL), -EINVAL);
                if (!strstr(msg, cases[i].needle))
                        fail_msg("case %zu: '%s' lacks '%s'", i, msg, cases[i].needle);
        }
        struct audit_config *c;
        write_text(user, "  audit = off  \n# audit = required\naudit_rotate_size = 2M\naudit_log = none\n");
        assert_int_equal(load(NULL, user, msg, sizeof msg, &c), 0);
        assert_int_equal(audit_config_mode(c), AUDIT_MODE_OFF);
        assert_int_equal(c->rotate_size, 2u << 20);
        char *path = (char *) 1;
        assert_int_equal(audit_config_log_path(c, &path, NULL), 0);
        assert_null(path);
        audit_config_free(c);
        /* a missing user file is no error; defaults apply */
        assert_int_equal(load(NULL, "/nonexistent/hutch.conf", msg, sizeof msg, &c), 0);
        assert_int_equal(audit_config_mode(c), AUDIT_MODE_BEST_EFFORT);
        audit_config_free(c);
}

static void admin_required_cannot_be_weakened(void **state)
{
        char sys[160], user[160], msg[8192];
        snprintf(sys, sizeof sys, "%s/system.conf", dir);
        snprintf(user, sizeof user, "%s/user.conf", dir);
        write_text(sys, "audit = required\naudit_log = /var/log/hutch/audit.log\n");
        if (geteuid() != 0) {
                /* a system file the user owns gives no protection: refused */
                assert_int_equal(load(sys, NULL, msg, sizeof msg, NULL), -EPERM);
                assert_non_null(strstr(msg, "must be owned by root"));
                return;
        }
        write_text(user, "audit = best-effort\n");
        assert_int_equal(load(sys, user, msg, sizeof msg, NULL), -EPERM);
        assert_non_null(strstr(msg, "user.conf:1: audit is fixed by the administrator"));
        assert_non_null(strstr(msg, "system.conf:1"));
        write_text(user, "audit_log = /tmp/mine.log\n");
        assert_int_equal(load(sys, user, msg, sizeof msg, NULL), -EPERM);
        assert_non_null(strstr(msg, "user.conf:1: audit_log is fixed"));
        /* repeating the administrator's value, or setting what the administrator left open, is fine */
        write_text(user, "audit = required\naudit_syslog = on\n");
        struct audit_config *c;
        assert_int_equal(load(sys, user, msg, sizeof msg, &c), 0);
        _cleanup_herror_ struct herror err = HERROR_INIT;
        assert_int_equal(audit_config_set(c, "audit", "off", &err), -EPERM);
        assert_non_null(strstr(herror_msg(&err), "option --audit: audit is fixed"));
        assert_int_equal(audit_config_set(c, "audit-log", "none", &err), -EPERM);
        assert_int_equal(audit_config_set(c, "audit", "required", &err), 0);
        audit_config_free(c);
        /* without required the administrator's values are defaults the user may change */
        write_text(sys, "audit = best-effort\naudit_log = /var/log/hutch/audit.log\n");
        write_text(user, "audit = off\naudit_log = /tmp/x.log\n");
        assert_int_equal(load(sys, user, msg, sizeof msg, NULL), 0);
        /* others may not write the administrator's file */
        write_key(sys, "audit = required\n", 17, 0666);
        assert_int_equal(load(sys, NULL, msg, sizeof msg, NULL), -EPERM);
}

/* HUTCH_CONFIG adds a second administrator file after /etc/hutch/hutch.conf; it never replaces /etc, so
 * the user's environment cannot lift the administrator's locks. */
static void hutch_config_env(void **state)
{
        char sys[160], user[160], msg[8192];
        snprintf(sys, sizeof sys, "%s/admin2.conf", dir);
        snprintf(user, sizeof user, "%s/user.conf", dir);
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct audit_config *c = NULL;
        setenv("HUTCH_CONFIG", "relative.conf", 1);
        assert_int_equal(audit_config_load(user, &c, &err), -EINVAL);
        assert_non_null(strstr(herror_msg(&err), "HUTCH_CONFIG=relative.conf: not an absolute path"));
        herror_clear(&err);
        setenv("HUTCH_CONFIG", sys, 1);
        write_text(user, "audit = off\n");
        /* named by HUTCH_CONFIG, so it must exist */
        assert_int_equal(audit_config_load(user, &c, &err), -ENOENT);
        assert_non_null(strstr(herror_msg(&err), "admin2.conf"));
        herror_clear(&err);
        write_text(sys, "audit = required\n");
        if (geteuid() != 0) {
                assert_int_equal(audit_config_load(user, &c, &err), -EPERM);
                assert_non_null(strstr(herror_msg(&err), "must be owned by root"));
                unsetenv("HUTCH_CONFIG");
                return;
        }
        assert_int_equal(audit_config_load(user, &c, &err), -EPERM);
        assert_non_null(strstr(herror_msg(&err), "user.conf:1: audit is fixed by the administrator"));
        assert_non_null(strstr(herror_msg(&err), "admin2.conf:1"));
        herror_clear(&err);
        write_text(user, "audit_syslog = off\n");
        assert_int_equal(audit_config_load(user, &c, &err), 0);
        assert_int_equal(audit_config_mode(c), AUDIT_MODE_REQUIRED);
        assert_int_equal(audit_config_set(c, "audit", "best-effort", &err), -EPERM);
        audit_config_free(c);
        unsetenv("HUTCH_CONFIG");
        (void) msg;
}

static void default_log_path(void **state)
{
        _cleanup_audit_config_ struct audit_config *c = NULL;
        assert_int_equal(audit_config_new(&c, NULL), 0);
        setenv("XDG_STATE_HOME", "/xdg/state", 1);
        _cleanup_free_ char *p = NULL;
        assert_int_equal(audit_config_log_path(c, &p, NULL), 0);
        bool root = false;
        char map[128] = "";
        _cleanup_close_ int fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
        if (fd >= 0 && read(fd, map, sizeof map - 1) > 0)
                root = geteuid() == 0 && strstr(map, "4294967295");
        assert_string_equal(p, root ? "/var/log/hutch/audit.log" : "/xdg/state/hutch/audit.log");
        unsetenv("XDG_STATE_HOME");
}

/* ---- the file sink -------------------------------------------------------------------------------- */

static void rotation_keeps_the_chain(void **state)
{
        char msg[8192], rotated[200];
        struct audit_verify_result res;
        emit_n((const char *[]) { "audit_rotate_size", "1500", NULL }, 12);
        snprintf(rotated, sizeof rotated, "%s.2", logpath);
        assert_int_equal(access(rotated, F_OK), 0);
        assert_int_equal(verify_with(NULL, NULL, msg, sizeof msg, &res), 0);
        assert_int_equal(res.records, 12);
        assert_true(res.files >= 3);
        /* the live file alone starts mid-chain: verify says so */
        _cleanup_herror_ struct herror err = HERROR_INIT;
        const char *live[] = { logpath };
        assert_int_equal(audit_verify(live, 1, NULL, &res, &err), -EBADMSG);
        assert_non_null(strstr(herror_msg(&err), "the log starts at seq"));
        /* a rotated file removed from the middle of the series breaks it */
        snprintf(rotated, sizeof rotated, "%s.1", logpath);
        char older[200];
        snprintf(older, sizeof older, "%s.2", logpath);
        const char *gap[] = { older, logpath };
        assert_int_equal(audit_verify(gap, 2, NULL, &res, &err), -EBADMSG);
        assert_non_null(strstr(herror_msg(&err), "missing"));
}

static size_t count(const char *hay, const char *needle)
{
        size_t n = 0;
        for (const char *p = hay; (p = strstr(p, needle)); p++)
                n++;
        return n;
}

static void concurrent_writers(void **state)
{
        enum { WRITERS = 100 };
        pid_t pids[WRITERS];
        /* one record in the file first, so every writer races on a non-empty log */
        emit_n(NULL, 1);
        for (int i = 0; i < WRITERS; i++) {
                pids[i] = fork();
                assert_true(pids[i] >= 0);
                if (pids[i] == 0) {
                        _cleanup_herror_ struct herror err = HERROR_INIT;
                        struct audit_config *c = config(NULL);
                        struct audit *a = NULL;
                        struct audit_record r = { .event = AUDIT_EVENT_START, .pid = getpid() };
                        int ok = audit_open(c, &a, &err) == 0 && audit_emit(a, &r, &err) == 0;
                        audit_close(a);
                        audit_config_free(c);
                        _exit(ok ? 0 : 1);
                }
        }
        for (int i = 0; i < WRITERS; i++) {
                int st;
                assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
                assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        }
        char msg[8192];
        struct audit_verify_result res;
        if (verify_with(NULL, NULL, msg, sizeof msg, &res) < 0)
                fail_msg("%s", msg);
        assert_int_equal(res.records, WRITERS + 1);
        assert_int_equal(res.last_seq, WRITERS + 1);
        /* every writer's record is there exactly once */
        size_t len;
        _cleanup_free_ char *data = slurp(logpath, &len);
        for (int i = 0; i < WRITERS; i++) {
                char needle[48];
                snprintf(needle, sizeof needle, "\"pid\":%d}", (int) pids[i]);
                assert_int_equal(count(data, needle), 1);
        }
}

static void required_fails_best_effort_warns(void **state)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct audit_record r = { .event = AUDIT_EVENT_REFUSAL, .reason = "bad config" };
        /* a log below a regular file can never be created */
        char file[160], bad[200];
        snprintf(file, sizeof file, "%s/plain", dir);
        write_text(file, "x");
        snprintf(bad, sizeof bad, "%s/audit.log", file);
        for (int required = 0; required < 2; required++) {
                _cleanup_audit_config_ struct audit_config *c = config(
                        (const char *[]) { "audit_log", bad, "audit", required ? "required" : "best-effort", NULL });
                _cleanup_audit_ struct audit *a = NULL;
                assert_int_equal(audit_open(c, &a, &err), 0);
                int rr = audit_emit(a, &r, &err);
                if (required) {
                        assert_int_equal(rr, -ENOTDIR);
                        if (!strstr(herror_msg(&err), "audit (required): audit log "))
                                fail_msg("%s", herror_msg(&err));
                } else {
                        assert_int_equal(rr, 0);
                }
        }
        /* off writes nothing at all */
        _cleanup_audit_config_ struct audit_config *c = config((const char *[]) { "audit", "off", NULL });
        _cleanup_audit_ struct audit *a = NULL;
        assert_int_equal(audit_open(c, &a, &err), 0);
        assert_int_equal(audit_emit(a, &r, &err), 0);
        assert_int_equal(access(logpath, F_OK), -1);
}

static void log_symlink_refused(void **state)
{
        char target[160], d[160];
        snprintf(d, sizeof d, "%s/state/hutch", dir);
        snprintf(target, sizeof target, "%s/elsewhere", dir);
        assert_int_equal(mkdir(target, 0700) < 0 ? -1 : 0, 0);
        snprintf(target, sizeof target, "%s/elsewhere/log", dir);
        write_text(target, "");
        assert_int_equal(system("true"), 0);
        char cmd[512];
        snprintf(cmd, sizeof cmd, "mkdir -p '%s' && ln -s '%s' '%s'", d, target, logpath);
        assert_int_equal(system(cmd), 0);
        _cleanup_herror_ struct herror err = HERROR_INIT;
        _cleanup_audit_config_ struct audit_config *c = config(NULL);
        _cleanup_audit_ struct audit *a = NULL;
        assert_int_equal(audit_open(c, &a, &err), 0);
        struct audit_record r = { .event = AUDIT_EVENT_START };
        assert_int_equal(audit_emit(a, &r, &err), -ELOOP);
        struct stat st;
        assert_int_equal(stat(target, &st), 0);
        assert_int_equal(st.st_size, 0);
}

/* ---- journald wire format ------------------------------------------------------------------------- */

static int bind_dgram(const char *path)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        assert_true(strlen(path) < sizeof sa.sun_path);
        memcpy(sa.sun_path, path, strlen(path) + 1);
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof sa), 0);
        int big = 8 << 20;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
        return fd;
}

/* One datagram, or the memfd it carries. */
static char *receive(int fd, size_t *ret_len)
{
        static char data[1 << 20];
        union {
                struct cmsghdr h;
                char space[CMSG_SPACE(sizeof(int))];
        } control;
        struct iovec iov = { data, sizeof data };
        struct msghdr mh = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof control
        };
        ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        assert_true(n >= 0);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        if (n == 0 && cm && cm->cmsg_type == SCM_RIGHTS) {
                int mfd;
                memcpy(&mfd, CMSG_DATA(cm), sizeof mfd);
                char *out = NULL;
                /* the sender's writes left the shared offset at the end; journald maps it instead */
                assert_int_equal(lseek(mfd, 0, SEEK_SET), 0);
                assert_int_equal(read_fd_limited(mfd, "memfd", 64u << 20, &out, ret_len, NULL), 0);
                close(mfd);
                return out;
        }
        *ret_len = (size_t) n;
        char *out = malloc((size_t) n + 1);
        assert_non_null(out);
        memcpy(out, data, (size_t) n);
        return out;
}

static bool has_field(const char *data, size_t len, const char *kv)
{
        size_t l = strlen(kv);
        for (const char *p = data; p && p + l <= data + len;
             p = memchr(p, '\n', (size_t) (data + len - p)), p = p ? p + 1 : NULL)
                if (memcmp(p, kv, l) == 0 && (p + l == data + len || p[l] == '\n'))
                        return true;
        return false;
}

/* The sink "audit_KIND" switched on and pointed at a socket the test binds. */
struct sink_fixture {
        char sock[160];
        int fd;
        struct audit_config *c;
        struct audit *a;
};

static void sink_done(struct sink_fixture *f)
{
        audit_close(f->a);
        audit_config_free(f->c);
        if (f->fd >= 0)
                close(f->fd);
}

static void socket_sink(const char *kind, struct sink_fixture *f)
{
        char on[64], at[64];
        snprintf(f->sock, sizeof f->sock, "%s/%s.sock", dir, kind);
        snprintf(on, sizeof on, "audit_%s", kind);
        snprintf(at, sizeof at, "audit_%s_socket", kind);
        f->fd = bind_dgram(f->sock);
        f->c = config((const char *[]) { on, "on", at, f->sock, NULL });
        _cleanup_herror_ struct herror err = HERROR_INIT;
        if (audit_open(f->c, &f->a, &err) < 0)
                fail_msg("%s", herror_msg(&err));
}

static void journald_wire_format(void **state)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        _cleanup_(sink_done) struct sink_fixture f = { .fd = -1 };
        socket_sink("journald", &f);
        const char *multi[] = { "sh", "-c", "echo a\necho b" };
        struct audit_record r = { .event = AUDIT_EVENT_REFUSAL,
                                  .container_id = "jc",
                                  .container_name = "two\nlines",
                                  .reason = "bad config",
                                  .argv = multi,
                                  .n_argv = 3 };
        assert_int_equal(audit_emit(f.a, &r, &err), 0);
        size_t len;
        _cleanup_free_ char *d = receive(f.fd, &len);
        assert_true(has_field(d, len, "MESSAGE_ID=ec3c5d2357ac4299be7ed29f110972bf"));
        assert_true(has_field(d, len, "PRIORITY=4"));
        assert_true(has_field(d, len, "HUTCH_EVENT=refusal"));
        assert_true(has_field(d, len, "HUTCH_CONTAINER_ID=jc"));
        assert_true(has_field(d, len, "HUTCH_REASON=bad config"));
        assert_true(has_field(d, len, "HUTCH_SEQ=1"));
        char uid[64];
        snprintf(uid, sizeof uid, "HUTCH_USER_UID=%u", (unsigned) getuid());
        assert_true(has_field(d, len, uid));
        /* a value with a newline goes in the binary form: name, newline, le64 length, bytes */
        const char *bin = memmem(d, len, "\nHUTCH_CONTAINER_NAME\n", 22);
        assert_non_null(bin);
        uint64_t l;
        memcpy(&l, bin + 22, 8);
        assert_int_equal(le64toh(l), 9);
        assert_memory_equal(bin + 30, "two\nlines\n", 10);
        assert_true(has_field(d, len, "HUTCH_ARGV=[\"sh\",\"-c\",\"echo a\\necho b\"]"));
        /* too large for a datagram: the payload travels in a sealed memfd */
        static char huge[300000];
        memset(huge, 'x', sizeof huge - 1);
        const char *big[] = { huge };
        struct audit_record rb = { .event = AUDIT_EVENT_START, .argv = big, .n_argv = 1 };
        assert_int_equal(audit_emit(f.a, &rb, &err), 0);
        _cleanup_free_ char *d2 = receive(f.fd, &len);
        if (len <= sizeof huge)
                fail_msg("len %zu", len);
        assert_true(has_field(d2, len, "MESSAGE_ID=93d0e0e18f2a4e2b9c3ec08a8d67a0e5"));
        /* journald "on" with no socket: a failure in required mode */
        unlink(f.sock);
        _cleanup_audit_ struct audit *a2 = NULL;
        assert_int_equal(audit_open(f.c, &a2, &err), -ENOENT);
        assert_non_null(strstr(herror_msg(&err), "journald: no socket"));
}

/* syslog: RFC 3164 as syslog(3) writes it, authpriv.info (<86>), and a send that fails is a failure */
static void syslog_wire_format(void **state)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        _cleanup_(sink_done) struct sink_fixture f = { .fd = -1 };
        socket_sink("syslog", &f);
        struct audit_record r = { .event = AUDIT_EVENT_START, .container_id = "sc", .argv = args, .n_argv = 3 };
        assert_int_equal(audit_emit(f.a, &r, &err), 0);
        size_t len;
        char *d = receive(f.fd, &len);
        d[len] = 0;
        char head[64];
        snprintf(head, sizeof head, " hutch[%d]: audit {\"v\":1,\"seq\":1,", (int) getpid());
        assert_memory_equal(d, "<86>", 4);
        assert_non_null(strstr(d, head));
        assert_non_null(strstr(d, "\"event\":\"start\""));
        assert_non_null(strstr(d, "\"container\":{\"id\":\"sc\"}"));
        /* the file's hash rides along: the syslog copy anchors the file's chain */
        assert_non_null(strstr(d, "\"hash\":\""));
        free(d);
        /* nobody listening: required mode fails naming the socket */
        close(TAKE_FD(f.fd));
        unlink(f.sock);
        assert_int_equal(audit_emit(f.a, &r, &err), -ENOENT);
        assert_non_null(strstr(herror_msg(&err), "syslog: send to"));
        assert_non_null(strstr(herror_msg(&err), "no syslog daemon listening?"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(record_form),
                cmocka_unit_test(identity_is_the_callers),
                cmocka_unit_test_setup_teardown(chain_and_permissions, setup, teardown),
                cmocka_unit_test_setup_teardown(verify_finds_deletion, setup, teardown),
                cmocka_unit_test_setup_teardown(verify_finds_edit, setup, teardown),
                cmocka_unit_test_setup_teardown(verify_finds_reorder, setup, teardown),
                cmocka_unit_test_setup_teardown(verify_finds_truncation, setup, teardown),
                cmocka_unit_test_setup_teardown(verify_finds_head_removed, setup, teardown),
                cmocka_unit_test_setup_teardown(verify_finds_splice, setup, teardown),
                cmocka_unit_test_setup_teardown(verify_names_garbage, setup, teardown),
                cmocka_unit_test_setup_teardown(verify_reads_heads_strictly, setup, teardown),
                cmocka_unit_test_setup_teardown(verify_across_read_buffers, setup, teardown),
                cmocka_unit_test_setup_teardown(verify_across_hash_batches, setup, teardown),
                cmocka_unit_test_setup_teardown(verify_refuses_overlong_lines, setup, teardown),
                cmocka_unit_test_setup_teardown(hmac_records, setup, teardown),
                cmocka_unit_test_setup_teardown(ed25519_records, setup, teardown),
                cmocka_unit_test_setup_teardown(config_errors_name_the_line, setup, teardown),
                cmocka_unit_test_setup_teardown(admin_required_cannot_be_weakened, setup, teardown),
                cmocka_unit_test_setup_teardown(hutch_config_env, setup, teardown),
                cmocka_unit_test(default_log_path),
                cmocka_unit_test_setup_teardown(rotation_keeps_the_chain, setup, teardown),
                cmocka_unit_test_setup_teardown(concurrent_writers, setup, teardown),
                cmocka_unit_test_setup_teardown(required_fails_best_effort_warns, setup, teardown),
                cmocka_unit_test_setup_teardown(log_symlink_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(journald_wire_format, setup, teardown),
                cmocka_unit_test_setup_teardown(syslog_wire_format, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
