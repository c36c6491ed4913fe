#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>

#include "spec/build.h"
#include "util/json.h"

static const char *const default_caps[] = {
        "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FOWNER",  "CAP_FSETID", "CAP_KILL",       "CAP_NET_BIND_SERVICE",
        "CAP_SETFCAP", "CAP_SETGID",       "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT",
};

static const char *const masked_paths[] = {
        "/proc/acpi",
        "/proc/asound",
        "/proc/kcore",
        "/proc/keys",
        "/proc/latency_stats",
        "/proc/timer_list",
        "/proc/timer_stats",
        "/proc/sched_debug",
        "/sys/firmware",
        "/proc/scsi",
        "/sys/devices/virtual/powercap",
};

static const char *const readonly_paths[] = {
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static json_t *strings(const char *const *v, size_t n)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
                json_array_append_new(a, json_string(v[i]));
        return a;
}

static json_t *build_mounts(void)
{
        return json_pack("[{s:s,s:s,s:s}, {s:s,s:s,s:s,s:[s,s,s,s]}, {s:s,s:s,s:s,s:[s,s,s,s,s]},"
                         " {s:s,s:s,s:s,s:[s,s,s,s,s]}, {s:s,s:s,s:s,s:[s,s,s]}, {s:s,s:s,s:s,s:[s,s,s,s]}]",
                         "destination", "/proc", "type", "proc", "source", "proc", "destination", "/dev", "type",
                         "tmpfs", "source", "tmpfs", "options", "nosuid", "strictatime", "mode=755", "size=65536k",
                         "destination", "/dev/pts", "type", "devpts", "source", "devpts", "options", "nosuid", "noexec",
                         "newinstance", "ptmxmode=0666", "mode=0620", "destination", "/dev/shm", "type", "tmpfs",
                         "source", "shm", "options", "nosuid", "noexec", "nodev", "mode=1777", "size=65536k",
                         "destination", "/dev/mqueue", "type", "mqueue", "source", "mqueue", "options", "nosuid",
                         "noexec", "nodev", "destination", "/sys", "type", "sysfs", "source", "sysfs", "options",
                         "nosuid", "noexec", "nodev", "ro");
}

static json_t *build_namespaces(bool rootless)
{
        static const char *const types[] = { "pid", "network", "ipc", "uts", "mount", "cgroup", "user" };
        json_t *a = json_array();
        for (size_t i = 0; a && i < ELEMENTSOF(types); i++) {
                if (!rootless && streq(types[i], "user"))
                        continue;
                json_array_append_new(a, json_pack("{s:s}", "type", types[i]));
        }
        return a;
}

static json_t *build_process(void)
{
        json_t *caps = strings(default_caps, ELEMENTSOF(default_caps));
        return json_pack("{s:b, s:{s:i,s:i}, s:[s], s:[s,s], s:s, s:{s:O,s:O,s:o,s:[],s:[]}, s:[{s:s,s:i,s:i}], s:b}",
                         "terminal", 1, "user", "uid", 0, "gid", 0, "args", "sh", "env",
                         "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", "cwd", "/",
                         "capabilities", "bounding", caps, "effective", caps, "permitted", caps, "inheritable",
                         "ambient", "rlimits", "type", "RLIMIT_NOFILE", "hard", 1024, "soft", 1024, "noNewPrivileges",
                         1);
}

/* with_seccomp false: no linux.seccomp (hutch run takes the profile from spec_default_seccomp_table) */
static int build_default(bool rootless, uid_t uid, gid_t gid, bool with_seccomp, json_t **ret, struct herror *err)
{
        _cleanup_json_ json_t *seccomp = NULL;
        if (with_seccomp) {
                int r = json_parse_limited(spec_default_seccomp_json, spec_default_seccomp_json_len,
                                           "profiles/seccomp/default.json", JSON_MAX_SIZE_DEFAULT,
                                           JSON_MAX_DEPTH_DEFAULT, &seccomp, err);
                if (r < 0)
                        return r;
                json_object_del(seccomp, "comment");
        }
        _cleanup_json_ json_t *linux_ = json_pack("{s:o, s:o, s:o}", "namespaces", build_namespaces(rootless),
                                                  "maskedPaths", strings(masked_paths, ELEMENTSOF(masked_paths)),
                                                  "readonlyPaths", strings(readonly_paths, ELEMENTSOF(readonly_paths)));
        if (!linux_ || (seccomp && json_object_set(linux_, "seccomp", seccomp) < 0))
                return herror_set(err, ENOMEM, "build the default spec");
        if (rootless) {
                json_object_set_new(
                        linux_, "uidMappings",
                        json_pack("[{s:i,s:I,s:i}]", "containerID", 0, "hostID", (json_int_t) uid, "size", 1));
                json_object_set_new(
                        linux_, "gidMappings",
                        json_pack("[{s:i,s:I,s:i}]", "containerID", 0, "hostID", (json_int_t) gid, "size", 1));
        }
        json_t *spec = json_pack("{s:s, s:o, s:{s:s,s:b}, s:s, s:o, s:O}", "ociVersion", "1.2.0", "process",
                                 build_process(), "root", "path", "rootfs", "readonly", 1, "hostname", "hutch",
                                 "mounts", build_mounts(), "linux", linux_);
        if (!spec)
                return herror_set(err, ENOMEM, "build the default spec");
        *ret = spec;
        return 0;
}

int spec_build_default(bool rootless, uid_t uid, gid_t gid, json_t **ret, struct herror *err)
{
        return build_default(rootless, uid, gid, true, ret, err);
}

static char **strv_from_table(const char *const *v)
{
        size_t n = 0;
        while (v[n])
                n++;
        char **r = calloc(n + 1, sizeof *r);
        for (size_t i = 0; r && i < n; i++)
                if (!(r[i] = strdup(v[i]))) {
                        strv_free(r);
                        return NULL;
                }
        return r;
}

static int rule_from_table(const struct spec_seccomp_table_rule *t, struct spec_seccomp_rule *r)
{
        *r = (struct spec_seccomp_rule) {
                .action = t->action, .has_errno_ret = t->has_errno_ret, .errno_ret = t->errno_ret, .n_args = t->n_args
        };
        r->names = strv_from_table(t->names);
        if (t->n_args && (r->args = calloc(t->n_args, sizeof *r->args)))
                memcpy(r->args, t->args, t->n_args * sizeof *r->args);
        return !r->names || (t->n_args && !r->args) ? -ENOMEM : 0;
}

int spec_seccomp_from_table(const struct spec_seccomp_table *t, struct spec_seccomp **ret)
{
        struct spec_seccomp *sc = calloc(1, sizeof *sc);
        if (!sc)
                return -ENOMEM;
        sc->default_action = t->default_action;
        sc->has_default_errno_ret = t->has_default_errno_ret;
        sc->default_errno_ret = t->default_errno_ret;
        int r = (t->architectures && !(sc->architectures = strv_from_table(t->architectures))) ||
                        !(sc->rules = calloc(t->n_rules ? t->n_rules : 1, sizeof *sc->rules))
                ? -ENOMEM
                : 0;
        for (size_t i = 0; r == 0 && i < t->n_rules; i++) {
                sc->n_rules = i + 1;
                r = rule_from_table(&t->rules[i], &sc->rules[i]);
        }
        if (r < 0) {
                spec_seccomp_free(sc);
                return r;
        }
        *ret = sc;
        return 0;
}

/* ---- hutch run ---- */

static json_t *strv_json(char *const *v)
{
        json_t *a = json_array();
        for (size_t i = 0; a && v && v[i]; i++)
                if (json_array_append_new(a, json_string(v[i])) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

/* "net_raw", "NET_RAW", "cap_net_raw" -> "CAP_NET_RAW" */
static int cap_canonical(const char *opt, const char *name, char *buf, size_t size, struct herror *err)
{
        size_t n = strlen(name);
        bool prefixed = n > 4 && strncasecmp(name, "cap_", 4) == 0;
        if (n == 0 || n + 5 > size)
                return herror_set(err, EINVAL, "%s: bad capability name \"%.64s\"", opt, name);
        snprintf(buf, size, "%s%s", prefixed ? "" : "CAP_", name);
        for (char *p = buf; *p; p++) {
                if (!isalnum((unsigned char) *p) && *p != '_')
                        return herror_set(err, EINVAL, "%s: bad capability name \"%.64s\"", opt, name);
                *p = (char) toupper((unsigned char) *p);
        }
        return 0;
}

static bool is_all(const char *s)
{
        return strcasecmp(s, "all") == 0;
}

static int caps_json(const struct spec_run_options *o, json_t **ret, struct herror *err)
{
        _cleanup_json_ json_t *set = json_array();
        bool drop_all = false;
        for (size_t i = 0; o->cap_drop && o->cap_drop[i]; i++)
                drop_all |= is_all(o->cap_drop[i]);
        for (size_t i = 0; !drop_all && i < ELEMENTSOF(default_caps); i++)
                json_array_append_new(set, json_string(default_caps[i]));
        for (size_t i = 0; o->cap_add && o->cap_add[i]; i++) {
                char name[64];
                if (is_all(o->cap_add[i])) {
                        for (int c = 0; c <= (int) cap_max_bits() - 1 && c < 64; c++) {
                                char *n = cap_to_name(c);
                                if (!n)
                                        return herror_set(err, ENOMEM, "out of memory");
                                int r = cap_canonical("--cap-add", n, name, sizeof name, err);
                                cap_free(n);
                                if (r < 0)
                                        return r;
                                json_array_append_new(set, json_string(name));
                        }
                        continue;
                }
                int r = cap_canonical("--cap-add", o->cap_add[i], name, sizeof name, err);
                if (r < 0)
                        return r;
                json_array_append_new(set, json_string(name));
        }
        for (size_t i = 0; !drop_all && o->cap_drop && o->cap_drop[i]; i++) {
                char name[64];
                int r = cap_canonical("--cap-drop", o->cap_drop[i], name, sizeof name, err);
                if (r < 0)
                        return r;
                size_t j;
                json_t *v;
                json_array_foreach (set, j, v) {
                        if (streq(json_string_value(v), name)) {
                                json_array_remove(set, j);
                                j--;
                        }
                }
        }
        *ret = json_pack("{s:O,s:O,s:O,s:[],s:[]}", "bounding", set, "effective", set, "permitted", set, "inheritable",
                         "ambient");
        return *ret ? 0 : herror_set(err, ENOMEM, "out of memory");
}

static int ulimit_json(const char *u, json_t **ret, struct herror *err)
{
        const char *eq = strchr(u, '=');
        char type[32] = "RLIMIT_";
        if (!eq || eq == u || (size_t) (eq - u) + 8 > sizeof type)
                return herror_set(err, EINVAL, "--ulimit %s: expected NAME=SOFT[:HARD]", u);
        for (const char *p = u; p < eq; p++)
                type[7 + (p - u)] = (char) toupper((unsigned char) *p);
        char *end;
        errno = 0;
        long long soft = strtoll(eq + 1, &end, 10), hard = soft;
        if (errno || end == eq + 1 || (*end && *end != ':') || soft < 0)
                return herror_set(err, EINVAL, "--ulimit %s: bad soft limit", u);
        if (*end == ':') {
                const char *h = end + 1;
                hard = strtoll(h, &end, 10);
                if (errno || end == h || *end || hard < 0)
                        return herror_set(err, EINVAL, "--ulimit %s: bad hard limit", u);
        }
        /* podman's -1 ("unlimited") is refused above: a JSON integer cannot carry RLIM_INFINITY. */
        *ret = json_pack("{s:s,s:I,s:I}", "type", type, "soft", (json_int_t) soft, "hard", (json_int_t) hard);
        return *ret ? 0 : herror_set(err, ENOMEM, "out of memory");
}

static json_t *mount_json(const struct spec_run_mount *m)
{
        json_t *opts = json_array();
        bool bind = streq(m->type, "bind");
        if (bind)
                json_array_append_new(opts, json_string("rbind"));
        json_array_append_new(opts, json_string(m->readonly ? "ro" : "rw"));
        json_array_append_new(opts, json_string("nosuid"));
        json_array_append_new(opts, json_string("nodev"));
        if (!bind && !(m->options && strstr(m->options, "mode=")))
                json_array_append_new(opts, json_string("mode=1777"));
        _cleanup_free_ char *copy = m->options ? strdup(m->options) : NULL;
        char *save = NULL;
        for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save))
                json_array_append_new(opts, json_string(t));
        return json_pack("{s:s,s:s,s:s,s:o}", "destination", m->destination, "type", bind ? "bind" : "tmpfs", "source",
                         bind ? m->source : "tmpfs", "options", opts);
}

static json_t *idmaps_json(const struct spec_idmap *m, size_t n)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
                json_array_append_new(a,
                                      json_pack("{s:I,s:I,s:I}", "containerID", (json_int_t) m[i].container_id,
                                                "hostID", (json_int_t) m[i].host_id, "size", (json_int_t) m[i].size));
        return a;
}

static int run_process(json_t *proc, const struct spec_run_options *o, struct herror *err)
{
        json_t *gids = json_array();
        for (size_t i = 0; gids && i < o->n_additional_gids; i++)
                json_array_append_new(gids, json_integer(o->additional_gids[i]));
        _cleanup_json_ json_t *caps = NULL;
        int r = caps_json(o, &caps, err);
        if (r < 0) {
                json_decref(gids);
                return r;
        }
        json_t *rl = json_array();
        for (size_t i = 0; o->ulimits && o->ulimits[i]; i++) {
                json_t *u = NULL;
                if ((r = ulimit_json(o->ulimits[i], &u, err)) < 0) {
                        json_decref(rl);
                        json_decref(gids);
                        return r;
                }
                json_array_append_new(rl, u);
        }
        json_t *args = strv_json(o->args);
        if (args && o->init_path) {
                /* the reaper is pid 1 and runs the command as its child: "/dev/init -- CMD ARGS" */
                json_array_insert_new(args, 0, json_string("--"));
                json_array_insert_new(args, 0, json_string(SPEC_INIT_DEST));
        }
        if (json_object_set_new(proc, "args", args) < 0 || json_object_set_new(proc, "env", strv_json(o->env)) < 0 ||
            json_object_set_new(proc, "cwd", json_string(o->cwd ? o->cwd : "/")) < 0 ||
            json_object_set_new(proc, "terminal", json_boolean(o->terminal)) < 0 ||
            json_object_set_new(proc, "user",
                                json_pack("{s:I,s:I,s:o}", "uid", (json_int_t) o->uid, "gid", (json_int_t) o->gid,
                                          "additionalGids", gids)) < 0 ||
            json_object_set(proc, "capabilities", caps) < 0)
                return herror_set(err, ENOMEM, "out of memory");
        /* podman's ulimits replace the defaults of the same type only */
        json_t *def = json_object_get(proc, "rlimits");
        size_t i;
        json_t *d;
        json_array_foreach (def, i, d) {
                bool replaced = false;
                size_t j;
                json_t *u;
                json_array_foreach (rl, j, u)
                        replaced |= json_equal(json_object_get(u, "type"), json_object_get(d, "type"));
                if (!replaced)
                        json_array_append(rl, d);
        }
        json_object_set_new(proc, "rlimits", rl);
        if (o->apparmor_profile)
                json_object_set_new(proc, "apparmorProfile", json_string(o->apparmor_profile));
        if (o->selinux_label)
                json_object_set_new(proc, "selinuxLabel", json_string(o->selinux_label));
        return 0;
}

static int run_linux(json_t *lx, const struct spec_run_options *o, struct herror *err)
{
        if (o->privileged) {
                json_object_set_new(lx, "maskedPaths", json_array());
                json_object_set_new(lx, "readonlyPaths", json_array());
        }
        if (o->rootless) {
                json_object_set_new(lx, "uidMappings", idmaps_json(o->uid_map, o->n_uid_map));
                json_object_set_new(lx, "gidMappings", idmaps_json(o->gid_map, o->n_gid_map));
        }
        if (o->network_host) {
                json_t *ns = json_object_get(lx, "namespaces");
                size_t i;
                json_t *n;
                json_array_foreach (ns, i, n) {
                        if (streq(json_string_value(json_object_get(n, "type")), "network")) {
                                json_array_remove(ns, i);
                                break;
                        }
                }
        }
        if (o->mount_label)
                json_object_set_new(lx, "mountLabel", json_string(o->mount_label));
        if (o->pids_limit || o->memory_limit || o->cpu_quota) {
                json_t *res = json_object();
                if (o->pids_limit)
                        json_object_set_new(res, "pids", json_pack("{s:I}", "limit", (json_int_t) o->pids_limit));
                if (o->memory_limit)
                        json_object_set_new(res, "memory", json_pack("{s:I}", "limit", (json_int_t) o->memory_limit));
                if (o->cpu_quota)
                        json_object_set_new(res, "cpu",
                                            json_pack("{s:I,s:I}", "quota", (json_int_t) o->cpu_quota, "period",
                                                      (json_int_t) (o->cpu_period ? o->cpu_period : 100000)));
                json_object_set_new(lx, "resources", res);
        }
        (void) err;
        return 0;
}

static int run_mounts(json_t *spec, const struct spec_run_options *o, struct herror *err)
{
        json_t *mounts = json_object_get(spec, "mounts");
        static const char *const ro_tmpfs[] = { "/tmp", "/var/tmp", "/run" };
        for (size_t i = 0; o->root_readonly && o->read_only_tmpfs && i < ELEMENTSOF(ro_tmpfs); i++) {
                struct spec_run_mount m = { .type = (char *) "tmpfs", .destination = (char *) ro_tmpfs[i] };
                json_array_append_new(mounts, mount_json(&m));
        }
        for (size_t i = 0; i < o->n_mounts; i++) {
                const struct spec_run_mount *m = &o->mounts[i];
                if (!streq(m->type, "bind") && !streq(m->type, "tmpfs"))
                        return herror_set(err, EINVAL, "mount type %s is not supported (bind or tmpfs)", m->type);
                json_t *j = mount_json(m);
                if (!j || json_array_append_new(mounts, j) < 0)
                        return herror_set(err, ENOMEM, "out of memory");
        }
        if (o->init_path) {
                struct spec_run_mount m = { .type = (char *) "bind",
                                            .source = (char *) o->init_path,
                                            .destination = (char *) SPEC_INIT_DEST,
                                            .readonly = true };
                json_t *j = mount_json(&m);
                if (!j || json_array_append_new(mounts, j) < 0)
                        return herror_set(err, ENOMEM, "out of memory");
        }
        return 0;
}

int spec_build_run(const struct spec_run_options *o, struct spec **ret, struct herror *err)
{
        _cleanup_json_ json_t *spec = NULL;
        int r = build_default(o->rootless, o->uid, o->gid, false, &spec, err);
        if (r < 0)
                return r;
        json_object_set_new(spec, "root", json_pack("{s:s,s:b}", "path", o->root_path, "readonly", o->root_readonly));
        if (o->hostname)
                json_object_set_new(spec, "hostname", json_string(o->hostname));
        if (o->landlock)
                json_object_set_new(spec, "annotations", json_pack("{s:s}", SPEC_ANNOTATION_LANDLOCK, o->landlock));
        if ((r = run_process(json_object_get(spec, "process"), o, err)) < 0 ||
            (r = run_linux(json_object_get(spec, "linux"), o, err)) < 0 || (r = run_mounts(spec, o, err)) < 0)
                return r;
        _cleanup_free_ char *text = json_dumps(spec, JSON_COMPACT);
        if (!text)
                return herror_set(err, ENOMEM, "out of memory");
        if ((r = spec_parse(text, strlen(text), "hutch run", ret, err)) < 0)
                return r;
        /* the default profile from static data: parsing its 13 KB of JSON was half of this function's time */
        if ((r = spec_seccomp_from_table(&spec_default_seccomp_table, &(*ret)->seccomp)) < 0) {
                spec_free(*ret);
                *ret = NULL;
                return herror_set(err, -r, "out of memory");
        }
        return 0;
}

/* ---- podman's --memory, --pids-limit and --cpus ---- */

static uint64_t unit_shift(const char **p)
{
        static const char units[] = "bkmgtp";
        const char *u = strchr(units, tolower((unsigned char) **p));
        if (!**p || !u)
                return 0;
        (*p)++;
        return (uint64_t) (u - units) * 10;
}

int spec_parse_memory_option(const char *s, int64_t *ret)
{
        if (streq(s, "-1")) {
                *ret = 0;
                return 0;
        }
        if (!isdigit((unsigned char) s[0]))
                return -EINVAL;
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (errno || end == s)
                return -EINVAL;
        const char *p = end;
        if (*p == ' ')
                p++;
        uint64_t shift = unit_shift(&p);
        /* 512m, 512M, 512mb, 512MiB: binary multiples, as podman (go-units RAMInBytes) reads them */
        if (shift && (*p == 'i' || *p == 'I'))
                p++;
        if (shift && (*p == 'b' || *p == 'B'))
                p++;
        if (*p)
                return -EINVAL;
        double bytes = v * (double) (1ull << shift);
        if (!isfinite(bytes) || bytes >= 9.2e18)
                return -ERANGE;
        *ret = (int64_t) bytes;
        return 0;
}

int spec_parse_pids_option(const char *s, int64_t *ret)
{
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno || end == s || *end || v < -1)
                return -EINVAL;
        *ret = v > 0 ? v : 0;
        return 0;
}

int spec_parse_cpus_option(const char *s, int64_t *ret_quota, uint64_t *ret_period)
{
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (errno || end == s || *end || !isfinite(v) || v < 0 || !isdigit((unsigned char) s[0]))
                return -EINVAL;
        /* podman: quota = cpus x the default period of 100 ms */
        double quota = v * 100000.0 + 0.5;
        if (v > 0 && (quota < 1000 || quota > 1e12))
                return -ERANGE;
        *ret_quota = v > 0 ? (int64_t) quota : 0;
        *ret_period = 100000;
        return 0;
}
