/* Records: who is asking (taken from the kernel here, never from the caller) and the JSON form of
 * schema version 1 (docs/audit.md). Members appear in a fixed order and absent ones are left out, so the
 * same record always serializes to the same bytes. */
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit-internal.h"
#include "util/fileio.h"

const char *audit_event_to_string(enum audit_event e)
{
        switch (e) {
        case AUDIT_EVENT_START:
                return "start";
        case AUDIT_EVENT_END:
                return "end";
        case AUDIT_EVENT_REFUSAL:
                return "refusal";
        case _AUDIT_EVENT_MAX:
        case _AUDIT_EVENT_INVALID:
        default:
                return NULL;
        }
}

/* /proc/self/loginuid and sessionid: set once by pam_loginuid at login and kept across su and sudo,
 * which is why they name the person behind a session. (uint32_t)-1 means unset. */
static bool read_proc_u32(const char *path, uint32_t *ret)
{
        char buf[32];
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return false;
        ssize_t n = read_all(fd, buf, sizeof buf - 1);
        if (n <= 0)
                return false;
        buf[n] = 0;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(buf, &end, 10);
        if (errno || end == buf || (*end && *end != '\n') || v >= UINT32_MAX)
                return false;
        *ret = (uint32_t) v;
        return true;
}

static void user_name(uid_t uid, char *buf, size_t size)
{
        struct passwd pw, *res = NULL;
        char tmp[4096];
        buf[0] = 0;
        if (getpwuid_r(uid, &pw, tmp, sizeof tmp, &res) == 0 && res)
                snprintf(buf, size, "%s", res->pw_name);
}

void audit_identity_get(struct audit_identity *ret)
{
        *ret = (struct audit_identity) {
                .uid = getuid(), .euid = geteuid(), .gid = getgid(), .egid = getegid(), .hutch_pid = getpid()
        };
        user_name(ret->uid, ret->user, sizeof ret->user);
        ret->has_loginuid = read_proc_u32("/proc/self/loginuid", &ret->loginuid);
        ret->has_sessionid = read_proc_u32("/proc/self/sessionid", &ret->sessionid);
        if (gethostname(ret->host, sizeof ret->host - 1) < 0)
                ret->host[0] = 0;
        ret->host[sizeof ret->host - 1] = 0;
}

void audit_now_rfc3339(char *buf, size_t size)
{
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        char base[32];
        strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf, size, "%s.%09ldZ", base, ts.tv_nsec);
}

/* Length of the valid UTF-8 sequence at s (jansson's rules: no overlongs, no surrogates, <= U+10FFFF),
 * 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t left)
{
        unsigned c = s[0];
        size_t n;
        uint32_t cp;
        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf)
                n = 2, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
                n = 3, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
                n = 4, cp = c & 0x07;
        else
                return 0;
        if (n > left)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return n;
}

/* argv and paths are bytes, JSON strings are UTF-8: an invalid byte is kept visible as "\xNN" rather
 * than dropped, so the record still shows that something odd was there. */
json_t *audit_json_string(const char *s)
{
        size_t len = strlen(s), k = 0;
        _cleanup_free_ char *out = malloc(len * 4 + 1);
        if (!out)
                return NULL;
        const unsigned char *u = (const unsigned char *) s;
        for (size_t i = 0; i < len;) {
                size_t n = utf8_seq(u + i, len - i);
                if (n == 0) {
                        k += (size_t) sprintf(out + k, "\\x%02x", u[i]);
                        i++;
                        continue;
                }
                memcpy(out + k, u + i, n);
                k += n;
                i += n;
        }
        return json_stringn(out, k);
}

/* Each helper returns false on allocation failure only. */
static bool set_str(json_t *o, const char *key, const char *v)
{
        if (!v)
                return true;
        json_t *s = audit_json_string(v);
        return s && json_object_set_new(o, key, s) == 0;
}

static bool set_strv(json_t *o, const char *key, const char *const *v, size_t n)
{
        if (n == 0)
                return true;
        json_t *a = json_array();
        if (!a || json_object_set_new(o, key, a) < 0)
                return false;
        for (size_t i = 0; i < n; i++) {
                json_t *s = audit_json_string(v[i] ? v[i] : "");
                if (!s || json_array_append_new(a, s) < 0)
                        return false;
        }
        return true;
}

static bool set_idmap(json_t *o, const char *key, const struct audit_idmap *m, size_t n)
{
        if (n == 0)
                return true;
        json_t *a = json_array();
        if (!a || json_object_set_new(o, key, a) < 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (json_array_append_new(a,
                                          json_pack("[I,I,I]", (json_int_t) m[i].container, (json_int_t) m[i].host,
                                                    (json_int_t) m[i].count)) < 0)
                        return false;
        return true;
}

/* A sub-object holding only the given members; left out entirely when all are NULL. */
static bool set_group(json_t *o, const char *key, const char *const names[], const char *const values[], size_t n)
{
        json_t *g = NULL;
        for (size_t i = 0; i < n; i++) {
                if (!values[i])
                        continue;
                if (!g && (!(g = json_object()) || json_object_set_new(o, key, g) < 0))
                        return false;
                if (!set_str(g, names[i], values[i]))
                        return false;
        }
        return true;
}

static json_t *user_json(const struct audit_identity *id)
{
        json_t *u = json_pack("{s:I, s:I, s:I, s:I}", "uid", (json_int_t) id->uid, "euid", (json_int_t) id->euid, "gid",
                              (json_int_t) id->gid, "egid", (json_int_t) id->egid);
        if (!u)
                return NULL;
        if (json_object_set_new(u, "name", id->user[0] ? audit_json_string(id->user) : json_null()) < 0 ||
            json_object_set_new(u, "loginuid", id->has_loginuid ? json_integer(id->loginuid) : json_null()) < 0 ||
            json_object_set_new(u, "sessionid", id->has_sessionid ? json_integer(id->sessionid) : json_null()) < 0) {
                json_decref(u);
                return NULL;
        }
        return u;
}

static bool set_header(json_t *o, const struct audit_record *rec, const struct audit_identity *id, const char *time)
{
        /* seq and prev stay null unless the file sink assigns them (under its lock); they come first so a
         * reader sees the chain without scanning the line. */
        return json_object_set_new(o, "v", json_integer(AUDIT_SCHEMA_VERSION)) == 0 &&
                json_object_set_new(o, "seq", json_null()) == 0 && json_object_set_new(o, "prev", json_null()) == 0 &&
                set_str(o, "time", time) && set_str(o, "event", audit_event_to_string(rec->event)) &&
                set_str(o, "host", id->host) && set_str(o, "hutch_version", HUTCH_VERSION) &&
                json_object_set_new(o, "hutch_pid", json_integer(id->hutch_pid)) == 0 &&
                json_object_set_new(o, "user", user_json(id)) == 0 && set_str(o, "entry", rec->entry);
}

static bool set_what(json_t *o, const struct audit_record *r)
{
        const char *cn[] = { "id", "name" }, *cv[] = { r->container_id, r->container_name };
        const char *in[] = { "ref", "digest" }, *iv[] = { r->image_ref, r->image_digest };
        const char *tn[] = { "verdict", "transport", "scope", "key_id", "signed_reference", "reason" };
        const char *tv[] = { r->trust_verdict, r->trust_transport,        r->trust_scope,
                             r->trust_key_id,  r->trust_signed_reference, r->trust_reason };
        const char *pn[] = { "path", "sha256" }, *pv[] = { r->policy_path, r->policy_sha256 };
        return set_group(o, "container", cn, cv, 2) && set_group(o, "image", in, iv, 2) &&
                set_group(o, "trust", tn, tv, 6) && set_group(o, "policy", pn, pv, 2);
}

static bool set_confinement(json_t *o, const struct audit_record *r)
{
        const char *sn[] = { "profile", "sha256" }, *sv[] = { r->seccomp_profile, r->seccomp_sha256 };
        const char *ln[] = { "apparmor", "selinux" }, *lv[] = { r->apparmor_profile, r->selinux_label };
        return set_group(o, "seccomp", sn, sv, 2) && set_group(o, "lsm", ln, lv, 2) &&
                set_str(o, "landlock", r->landlock) && set_strv(o, "unavailable", r->unavailable, r->n_unavailable) &&
                set_strv(o, "capabilities", r->caps, r->n_caps) &&
                set_strv(o, "namespaces", r->namespaces, r->n_namespaces) &&
                set_idmap(o, "uid_map", r->uid_map, r->n_uid_map) &&
                set_idmap(o, "gid_map", r->gid_map, r->n_gid_map) && set_strv(o, "volumes", r->volumes, r->n_volumes) &&
                set_strv(o, "argv", r->argv, r->n_argv);
}

static bool set_outcome(json_t *o, const struct audit_record *r)
{
        if (r->pid > 0 && json_object_set_new(o, "pid", json_integer(r->pid)) < 0)
                return false;
        if (r->has_exit &&
            json_object_set_new(o, "exit",
                                json_pack("{s:i, s:i, s:b}", "status", r->exit_status, "signal", r->exit_signal,
                                          "timed_out", r->timed_out)) < 0)
                return false;
        if (r->duration_ns > 0 && json_object_set_new(o, "duration_ns", json_integer(r->duration_ns)) < 0)
                return false;
        return set_str(o, "reason", r->reason);
}

int audit_record_to_json(const struct audit_record *rec, const struct audit_identity *id, const char *time,
                         json_t **ret, struct herror *err)
{
        if (!audit_event_to_string(rec->event))
                return herror_set(err, EINVAL, "audit record: unknown event %d", (int) rec->event);
        _cleanup_json_ json_t *o = json_object();
        if (!o || !set_header(o, rec, id, time) || !set_what(o, rec) || !set_confinement(o, rec) ||
            !set_outcome(o, rec))
                return herror_set(err, ENOMEM, "audit record: out of memory");
        *ret = TAKE_PTR(o);
        return 0;
}
