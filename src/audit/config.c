/* Audit configuration: "key = value" lines, '#' starts a comment line (docs/audit.md). The administrator's
 * file is read first; when it makes audit required, every key it sets is fixed: the user's file and flags
 * may repeat the value but not change it, so a user cannot switch off or redirect what the administrator
 * asked to be recorded. */
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit-internal.h"
#include "util/fileio.h"

static const char *const key_names[_AK_MAX] = {
        [AK_MODE] = "audit",
        [AK_LOG] = "audit_log",
        [AK_JOURNALD] = "audit_journald",
        [AK_JOURNALD_SOCKET] = "audit_journald_socket",
        [AK_SYSLOG] = "audit_syslog",
        [AK_KERNEL] = "audit_kernel",
        [AK_HMAC_KEY] = "audit_hmac_key",
        [AK_SIGN_KEY] = "audit_sign_key",
        [AK_ROTATE_SIZE] = "audit_rotate_size",
        [AK_SYSLOG_SOCKET] = "audit_syslog_socket",
        /* not an audit key: hutch.conf's one launch-policy key lives here so the file has one parser and one
         * set of administrator rules */
        [AK_ALLOW_PRIVILEGED] = "allow_privileged",
};

int audit_config_new(struct audit_config **ret, struct herror *err)
{
        struct audit_config *c = calloc(1, sizeof *c);
        if (!c)
                return herror_set(err, ENOMEM, "out of memory");
        c->mode = AUDIT_MODE_BEST_EFFORT;
        c->journald = AUDIT_SWITCH_AUTO;
        c->kernel = AUDIT_SWITCH_AUTO;
        c->rotate_size = AUDIT_ROTATE_DEFAULT;
        *ret = c;
        return 0;
}

void audit_config_free(struct audit_config *c)
{
        if (!c)
                return;
        free(c->log_path);
        free(c->journald_socket);
        free(c->syslog_socket);
        free(c->hmac_key_path);
        free(c->sign_key_path);
        for (size_t i = 0; i < _AK_MAX; i++)
                free(c->origin[i].where);
        free(c);
}

enum audit_mode audit_config_mode(const struct audit_config *c)
{
        return c->mode;
}

bool audit_config_allow_privileged(const struct audit_config *c)
{
        return c->allow_privileged;
}

static int parse_switch(const char *v, bool with_auto, enum audit_switch *ret)
{
        if (with_auto && streq(v, "auto"))
                *ret = AUDIT_SWITCH_AUTO;
        else if (streq(v, "on") || streq(v, "yes") || streq(v, "true"))
                *ret = AUDIT_SWITCH_ON;
        else if (streq(v, "off") || streq(v, "no") || streq(v, "false"))
                *ret = AUDIT_SWITCH_OFF;
        else
                return -EINVAL;
        return 0;
}

static int parse_mode(const char *v, enum audit_mode *ret)
{
        if (streq(v, "required"))
                *ret = AUDIT_MODE_REQUIRED;
        else if (streq(v, "best-effort"))
                *ret = AUDIT_MODE_BEST_EFFORT;
        else if (streq(v, "off"))
                *ret = AUDIT_MODE_OFF;
        else
                return -EINVAL;
        return 0;
}

/* BYTES with an optional K, M or G suffix (powers of 1024); 0 = never rotate. */
static int parse_size(const char *v, uint64_t *ret)
{
        char *end;
        if (*v < '0' || *v > '9')
                return -EINVAL;
        errno = 0;
        unsigned long long n = strtoull(v, &end, 10);
        unsigned shift = 0;
        if (errno)
                return -EINVAL;
        if (*end == 'K' || *end == 'k')
                shift = 10, end++;
        else if (*end == 'M' || *end == 'm')
                shift = 20, end++;
        else if (*end == 'G' || *end == 'g')
                shift = 30, end++;
        if (*end || n > (UINT64_MAX >> shift))
                return -EINVAL;
        *ret = (uint64_t) n << shift;
        return 0;
}

/* An absolute path, or NULL for "none"/"off". */
static int parse_path(const char *v, bool none_ok, char **ret, bool *ret_none)
{
        *ret_none = false;
        if (none_ok && (streq(v, "none") || streq(v, "off"))) {
                *ret_none = true;
                *ret = NULL;
                return 0;
        }
        if (v[0] != '/')
                return -EINVAL;
        *ret = strdup(v);
        return *ret ? 0 : -ENOMEM;
}

static int key_from_name(const char *name)
{
        char k[64];
        if (snprintf(k, sizeof k, "%s", name) >= (int) sizeof k)
                return -ENOENT;
        for (char *p = k; *p; p++)
                if (*p == '-')
                        *p = '_';
        for (int i = 0; i < _AK_MAX; i++)
                if (streq(k, key_names[i]))
                        return i;
        return -ENOENT;
}

static const char *expected(enum audit_key k)
{
        switch (k) {
        case AK_MODE:
                return "required, best-effort or off";
        case AK_LOG:
                return "an absolute path or none";
        case AK_JOURNALD:
        case AK_KERNEL:
                return "auto, on or off";
        case AK_JOURNALD_SOCKET:
        case AK_SYSLOG_SOCKET:
                return "an absolute path";
        case AK_SYSLOG:
        case AK_ALLOW_PRIVILEGED:
                return "on or off";
        case AK_HMAC_KEY:
        case AK_SIGN_KEY:
                return "an absolute path or none";
        case AK_ROTATE_SIZE:
                return "a size in bytes (K, M, G suffixes; 0 = never)";
        case _AK_MAX:
        default:
                return "?";
        }
}

static void replace(char **slot, char *v)
{
        free(*slot);
        *slot = v;
}

/* Parse value for key into c. -EINVAL for a bad value. */
static int apply(struct audit_config *c, enum audit_key k, const char *v)
{
        char *path = NULL;
        bool none = false;
        enum audit_switch sw;
        int r = 0;
        switch (k) {
        case AK_MODE:
                return parse_mode(v, &c->mode);
        case AK_LOG:
                if ((r = parse_path(v, true, &path, &none)) < 0)
                        return r;
                replace(&c->log_path, path);
                c->log_off = none;
                return 0;
        case AK_JOURNALD:
                return parse_switch(v, true, &c->journald);
        case AK_KERNEL:
                return parse_switch(v, true, &c->kernel);
        case AK_SYSLOG:
                if ((r = parse_switch(v, false, &sw)) < 0)
                        return r;
                c->syslog = sw == AUDIT_SWITCH_ON;
                return 0;
        case AK_JOURNALD_SOCKET:
                if ((r = parse_path(v, false, &path, &none)) < 0)
                        return r;
                replace(&c->journald_socket, path);
                return 0;
        case AK_SYSLOG_SOCKET:
                if ((r = parse_path(v, false, &path, &none)) < 0)
                        return r;
                replace(&c->syslog_socket, path);
                return 0;
        case AK_HMAC_KEY:
        case AK_SIGN_KEY:
                if ((r = parse_path(v, true, &path, &none)) < 0)
                        return r;
                replace(k == AK_HMAC_KEY ? &c->hmac_key_path : &c->sign_key_path, path);
                return 0;
        case AK_ROTATE_SIZE:
                return parse_size(v, &c->rotate_size);
        case AK_ALLOW_PRIVILEGED:
                if ((r = parse_switch(v, false, &sw)) < 0)
                        return r;
                c->allow_privileged = sw == AUDIT_SWITCH_ON;
                return 0;
        case _AK_MAX:
        default:
                return -EINVAL;
        }
}

/* key's value in c as canonical text, to tell whether a fixed key is being changed. */
static void value_text(const struct audit_config *c, enum audit_key k, char *buf, size_t size)
{
        static const char *const modes[] = { "off", "best-effort", "required" };
        static const char *const switches[] = { "auto", "on", "off" };
        switch (k) {
        case AK_MODE:
                snprintf(buf, size, "%s", modes[c->mode]);
                return;
        case AK_LOG:
                snprintf(buf, size, "%s", c->log_off ? "none" : c->log_path ? c->log_path : "");
                return;
        case AK_JOURNALD:
                snprintf(buf, size, "%s", switches[c->journald]);
                return;
        case AK_KERNEL:
                snprintf(buf, size, "%s", switches[c->kernel]);
                return;
        case AK_SYSLOG:
                snprintf(buf, size, "%d", c->syslog);
                return;
        case AK_JOURNALD_SOCKET:
                snprintf(buf, size, "%s", c->journald_socket ? c->journald_socket : "");
                return;
        case AK_HMAC_KEY:
                snprintf(buf, size, "%s", c->hmac_key_path ? c->hmac_key_path : "");
                return;
        case AK_SIGN_KEY:
                snprintf(buf, size, "%s", c->sign_key_path ? c->sign_key_path : "");
                return;
        case AK_ROTATE_SIZE:
                snprintf(buf, size, "%llu", (unsigned long long) c->rotate_size);
                return;
        case AK_SYSLOG_SOCKET:
                snprintf(buf, size, "%s", c->syslog_socket ? c->syslog_socket : "");
                return;
        case AK_ALLOW_PRIVILEGED:
                snprintf(buf, size, "%s", c->allow_privileged ? "on" : "off");
                return;
        case _AK_MAX:
        default:
                buf[0] = 0;
                return;
        }
}

/* Set key from `where` ("FILE:LINE" or "option --audit-log"), honouring the administrator's locks: a fixed
 * key may be given its current value again, nothing else. */
static int set_from(struct audit_config *c, const char *where, const char *name, const char *value, struct herror *err)
{
        int k = key_from_name(name);
        if (k < 0)
                return herror_set(err, EINVAL, "%s: unknown key '%s'", where, name);
        if (k == AK_ALLOW_PRIVILEGED && !c->reading_admin)
                return herror_set(err, EPERM, "%s: allow_privileged may only be set in the administrator's %s", where,
                                  AUDIT_SYSTEM_CONFIG);
        _cleanup_audit_config_ struct audit_config *probe = NULL;
        int r = audit_config_new(&probe, err);
        if (r < 0)
                return r;
        r = apply(probe, (enum audit_key) k, value);
        if (r == -ENOMEM)
                return herror_set(err, ENOMEM, "out of memory");
        if (r < 0)
                return herror_set(err, EINVAL, "%s: %s: expected %s, not '%s'", where, name, expected(k), value);
        if (c->origin[k].locked) {
                char want[4200], have[4200];
                value_text(probe, (enum audit_key) k, want, sizeof want);
                value_text(c, (enum audit_key) k, have, sizeof have);
                if (!streq(want, have))
                        return herror_set(err, EPERM,
                                          "%s: %s is fixed by the administrator (%s, with audit = required)", where,
                                          key_names[k], c->origin[k].where);
                return 0;
        }
        char *w = strdup(where);
        if (!w || apply(c, (enum audit_key) k, value) < 0) {
                free(w);
                return herror_set(err, ENOMEM, "out of memory");
        }
        replace(&c->origin[k].where, w);
        return 0;
}

int audit_config_set(struct audit_config *c, const char *key, const char *value, struct herror *err)
{
        char where[96];
        snprintf(where, sizeof where, "option --%s", key);
        for (char *p = where; *p; p++)
                if (*p == '_')
                        *p = '-';
        return set_from(c, where, key, value, err);
}

static char *trim(char *s)
{
        while (*s == ' ' || *s == '\t')
                s++;
        size_t n = strlen(s);
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
                s[--n] = 0;
        return s;
}

static int parse_line(struct audit_config *c, const char *path, unsigned lineno, char *line, struct herror *err)
{
        char where[4200];
        snprintf(where, sizeof where, "%s:%u", path, lineno);
        line = trim(line);
        if (!*line || *line == '#')
                return 0;
        char *eq = strchr(line, '=');
        if (!eq)
                return herror_set(err, EINVAL, "%s: expected 'key = value'", where);
        *eq = 0;
        char *key = trim(line), *value = trim(eq + 1);
        if (!*value)
                return herror_set(err, EINVAL, "%s: %s: empty value", where, key);
        if (strchr(key, '-'))
                return herror_set(err, EINVAL, "%s: unknown key '%s' (keys use '_')", where, key);
        return set_from(c, where, key, value, err);
}

static int parse_text(struct audit_config *c, const char *path, char *data, struct herror *err)
{
        unsigned lineno = 0;
        for (char *line = data; line;) {
                char *nl = strchr(line, '\n');
                if (nl)
                        *nl = 0;
                lineno++;
                int r = parse_line(c, path, lineno, line, err);
                if (r < 0)
                        return r;
                line = nl ? nl + 1 : NULL;
        }
        return 0;
}

/* A file that is not there is no error; one that is there must be readable and, for the administrator's,
 * writable by root only (else its locks would be the user's to rewrite). */
static int read_config_file(struct audit_config *c, const char *path, bool system, bool must_exist, struct herror *err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 && errno == ENOENT && !must_exist)
                return 0;
        if (fd < 0)
                return herror_sys(err, errno, "%s", path);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return herror_sys(err, errno, "%s", path);
        if (system && (st.st_uid != 0 || (st.st_mode & 0022)))
                return herror_set(err, EPERM,
                                  "%s: must be owned by root and writable by root only (owner %u, mode %04o)", path,
                                  (unsigned) st.st_uid, (unsigned) (st.st_mode & 07777));
        _cleanup_free_ char *data = NULL;
        size_t len;
        int r = read_fd_limited(fd, path, AUDIT_CONFIG_MAX, &data, &len, err);
        if (r < 0)
                return r;
        if (memchr(data, 0, len))
                return herror_set(err, EINVAL, "%s: contains a NUL byte", path);
        c->reading_admin = system;
        r = parse_text(c, path, data, err);
        c->reading_admin = false;
        return r;
}

static void lock_admin_keys(struct audit_config *c)
{
        if (c->mode != AUDIT_MODE_REQUIRED)
                return;
        for (size_t i = 0; i < _AK_MAX; i++)
                if (c->origin[i].where)
                        c->origin[i].locked = true;
}

static int user_config_path(char **ret)
{
        const char *xdg = secure_getenv("XDG_CONFIG_HOME");
        const char *home = secure_getenv("HOME");
        *ret = NULL;
        if (xdg && xdg[0] == '/')
                return asprintf(ret, "%s/hutch/hutch.conf", xdg) < 0 ? -ENOMEM : 0;
        if (home && home[0] == '/')
                return asprintf(ret, "%s/.config/hutch/hutch.conf", home) < 0 ? -ENOMEM : 0;
        return 0;
}

/* The administrator's files in order, each root-owned; a file read later is bound by the locks of the ones
 * before it, then the user's file (optional, or must_exist when named on the command line). */
static int load_layers(const char *const *admin, size_t n_admin, const char *user_path, bool user_must_exist,
                       struct audit_config **ret, struct herror *err)
{
        struct audit_config *c;
        int r = audit_config_new(&c, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_admin; i++) {
                if (admin[i] && (r = read_config_file(c, admin[i], true, i > 0, err)) < 0)
                        goto fail;
                lock_admin_keys(c);
        }
        if (user_path && (r = read_config_file(c, user_path, false, user_must_exist, err)) < 0)
                goto fail;
        *ret = c;
        return 0;
fail:
        audit_config_free(c);
        return r;
}

int audit_config_load_files(const char *system_path, const char *user_path, struct audit_config **ret,
                            struct herror *err)
{
        return load_layers(&system_path, 1, user_path, false, ret, err);
}

/* HUTCH_CONFIG names a second administrator file (tests, staged rollouts). It is read after
 * /etc/hutch/hutch.conf rather than instead of it: the environment is the user's, and must not let them
 * switch off what /etc made required. */
static int env_admin_path(const char **ret, struct herror *err)
{
        const char *p = secure_getenv("HUTCH_CONFIG");
        *ret = NULL;
        if (!p || !*p)
                return 0;
        if (p[0] != '/')
                return herror_set(err, EINVAL, "HUTCH_CONFIG=%s: not an absolute path", p);
        *ret = p;
        return 0;
}

int audit_config_load(const char *explicit_path, struct audit_config **ret, struct herror *err)
{
        const char *admin[2] = { AUDIT_SYSTEM_CONFIG, NULL };
        _cleanup_free_ char *user = NULL;
        int r = env_admin_path(&admin[1], err);
        if (r < 0)
                return r;
        if (!explicit_path && user_config_path(&user) < 0)
                return herror_set(err, ENOMEM, "out of memory");
        /* a file named on the command line must be there; the user's usual one may be absent */
        return load_layers(admin, 2, explicit_path ? explicit_path : user, explicit_path != NULL, ret, err);
}

/* uid 0 inside a rootless user namespace (podman runs its runtime so) is not root: only the initial
 * namespace's full identity map says /var/log is ours. */
static bool host_root(void)
{
        char map[128];
        _cleanup_close_ int fd = geteuid() == 0 ? open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC) : -1;
        ssize_t n = fd >= 0 ? read_all(fd, map, sizeof map - 1) : -1;
        if (n <= 0)
                return false;
        map[n] = 0;
        unsigned long inside, outside, count;
        return sscanf(map, "%lu %lu %lu", &inside, &outside, &count) == 3 && inside == 0 && outside == 0 &&
                count == 4294967295UL;
}

int audit_config_log_path(const struct audit_config *c, char **ret, struct herror *err)
{
        *ret = NULL;
        if (c->log_off)
                return 0;
        if (c->log_path)
                return (*ret = strdup(c->log_path)) ? 0 : herror_set(err, ENOMEM, "out of memory");
        if (host_root())
                return (*ret = strdup("/var/log/hutch/audit.log")) ? 0 : herror_set(err, ENOMEM, "out of memory");
        const char *xdg = secure_getenv("XDG_STATE_HOME");
        const char *home = secure_getenv("HOME");
        int r;
        if (xdg && xdg[0] == '/')
                r = asprintf(ret, "%s/hutch/audit.log", xdg);
        else if (home && home[0] == '/')
                r = asprintf(ret, "%s/.local/state/hutch/audit.log", home);
        else
                return herror_set(err, ENOENT,
                                  "audit log: neither XDG_STATE_HOME nor HOME is set (or absolute); "
                                  "set audit_log in hutch.conf or pass --audit-log FILE");
        if (r < 0) {
                *ret = NULL;
                return herror_set(err, ENOMEM, "out of memory");
        }
        return 0;
}
