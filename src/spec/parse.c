/* config.json -> struct spec. Unknown properties are ignored (the runtime spec requires it); a known
 * property hutch cannot enforce is an error when set, never silently skipped (FORMATS.md 6). */
#include <ctype.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sched.h>

#include "spec/spec.h"
#include "util/fileio.h"
#include "util/json.h"

#define OFF(type, field) offsetof(type, field)
#define JANY ((json_type) -1)

static int jerr(struct herror *err, const char *jpath, const char *fmt, const char *what)
{
        return herror_set(err, EINVAL, "%s: %s%s", jpath, fmt, what ? what : "");
}

/* ---- process ---- */

static int dispatch_console_size(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        static const struct json_field t[] = {
                { "height", JSON_INTEGER, json_dispatch_uint32, OFF(struct spec_process, console_height),
                  JF_MANDATORY },
                { "width", JSON_INTEGER, json_dispatch_uint32, OFF(struct spec_process, console_width), JF_MANDATORY },
                { NULL },
        };
        return json_dispatch(v, jpath, t, dst, 0, err);
}

static int dispatch_u32_array(const char *jpath, json_t *v, uint32_t **ret, size_t *ret_n, size_t max,
                              struct herror *err)
{
        if (!json_is_array(v))
                return jerr(err, jpath, "expected an array", NULL);
        size_t n = json_array_size(v);
        if (n > max)
                return herror_set(err, E2BIG, "%s: more than %zu entries", jpath, max);
        _cleanup_free_ uint32_t *a = calloc(n ? n : 1, sizeof *a);
        if (!a)
                return herror_set(err, ENOMEM, "%s: out of memory", jpath);
        for (size_t i = 0; i < n; i++) {
                char p[256];
                json_path_index(p, sizeof p, jpath, i);
                int r = json_dispatch_uint32(p, json_array_get(v, i), &a[i], err);
                if (r < 0)
                        return r;
        }
        free(*ret);
        *ret = TAKE_PTR(a);
        *ret_n = n;
        return 0;
}

static int dispatch_additional_gids(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        struct spec_process *p = dst;
        return dispatch_u32_array(jpath, v, &p->additional_gids, &p->n_additional_gids, 65536, err);
}

static int dispatch_umask(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        struct spec_process *p = dst;
        int r = json_dispatch_uint32(jpath, v, &p->umask, err);
        if (r < 0)
                return r;
        if (p->umask > 0777)
                return jerr(err, jpath, "umask out of range (0 to 0777)", NULL);
        p->has_umask = true;
        return 0;
}

static int dispatch_user(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        static const struct json_field t[] = {
                { "uid", JSON_INTEGER, json_dispatch_uint32, OFF(struct spec_process, uid), JF_MANDATORY },
                { "gid", JSON_INTEGER, json_dispatch_uint32, OFF(struct spec_process, gid), JF_MANDATORY },
                { "umask", JSON_INTEGER, dispatch_umask, 0, JF_NULLABLE },
                { "additionalGids", JSON_ARRAY, dispatch_additional_gids, 0, JF_NULLABLE },
                { "username", JSON_STRING, NULL, 0, JF_UNSUPPORTED }, /* Windows only */
                { NULL },
        };
        return json_dispatch(v, jpath, t, dst, 0, err);
}

static int dispatch_cap_set(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        uint64_t *mask = dst;
        if (!json_is_array(v))
                return jerr(err, jpath, "expected an array of capability names", NULL);
        uint64_t m = 0;
        size_t i;
        json_t *e;
        json_array_foreach (v, i, e) {
                char p[256];
                json_path_index(p, sizeof p, jpath, i);
                if (!json_is_string(e))
                        return jerr(err, p, "expected a string", NULL);
                const char *name = json_string_value(e);
                char lower[64];
                size_t len = strlen(name);
                if (len == 0 || len >= sizeof lower || len != json_string_length(e))
                        return herror_set(err, EINVAL, "%s: unknown capability \"%s\"", p, name);
                for (size_t k = 0; k <= len; k++)
                        lower[k] = (char) tolower((unsigned char) name[k]);
                cap_value_t c;
                if (strncmp(lower, "cap_", 4) != 0 || cap_from_name(lower, &c) < 0 || c < 0 || c > 63)
                        return herror_set(err, EINVAL, "%s: unknown capability \"%s\"", p, name);
                m |= UINT64_C(1) << c;
        }
        *mask = m;
        return 0;
}

static int dispatch_capabilities(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        struct spec_process *p = dst;
        static const struct json_field t[] = {
                { "bounding", JSON_ARRAY, dispatch_cap_set, OFF(struct spec_process, caps[CAPSET_BOUNDING]),
                  JF_NULLABLE },
                { "effective", JSON_ARRAY, dispatch_cap_set, OFF(struct spec_process, caps[CAPSET_EFFECTIVE]),
                  JF_NULLABLE },
                { "inheritable", JSON_ARRAY, dispatch_cap_set, OFF(struct spec_process, caps[CAPSET_INHERITABLE]),
                  JF_NULLABLE },
                { "permitted", JSON_ARRAY, dispatch_cap_set, OFF(struct spec_process, caps[CAPSET_PERMITTED]),
                  JF_NULLABLE },
                { "ambient", JSON_ARRAY, dispatch_cap_set, OFF(struct spec_process, caps[CAPSET_AMBIENT]),
                  JF_NULLABLE },
                { NULL },
        };
        p->has_caps = true;
        return json_dispatch(v, jpath, t, dst, 0, err);
}

static const struct {
        const char *name;
        int resource;
} rlimit_names[] = {
        { "RLIMIT_AS", RLIMIT_AS },
        { "RLIMIT_CORE", RLIMIT_CORE },
        { "RLIMIT_CPU", RLIMIT_CPU },
        { "RLIMIT_DATA", RLIMIT_DATA },
        { "RLIMIT_FSIZE", RLIMIT_FSIZE },
        { "RLIMIT_LOCKS", RLIMIT_LOCKS },
        { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
        { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
        { "RLIMIT_NICE", RLIMIT_NICE },
        { "RLIMIT_NOFILE", RLIMIT_NOFILE },
        { "RLIMIT_NPROC", RLIMIT_NPROC },
        { "RLIMIT_RSS", RLIMIT_RSS },
        { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
        { "RLIMIT_RTTIME", RLIMIT_RTTIME },
        { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
        { "RLIMIT_STACK", RLIMIT_STACK },
};

struct rlimit_json {
        char *type;
        uint64_t soft, hard;
};

static int dispatch_rlimits(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        struct spec_process *p = dst;
        static const struct json_field t[] = {
                { "type", JSON_STRING, json_dispatch_string, OFF(struct rlimit_json, type), JF_MANDATORY },
                { "soft", JSON_INTEGER, json_dispatch_uint64, OFF(struct rlimit_json, soft), JF_MANDATORY },
                { "hard", JSON_INTEGER, json_dispatch_uint64, OFF(struct rlimit_json, hard), JF_MANDATORY },
                { NULL },
        };
        if (!json_is_array(v))
                return jerr(err, jpath, "expected an array", NULL);
        size_t n = json_array_size(v);
        if (n > ELEMENTSOF(rlimit_names))
                return jerr(err, jpath, "too many entries", NULL);
        _cleanup_free_ struct spec_rlimit *a = calloc(n ? n : 1, sizeof *a);
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                char pth[256];
                json_path_index(pth, sizeof pth, jpath, i);
                struct rlimit_json rj = { 0 };
                int r = json_dispatch(json_array_get(v, i), pth, t, &rj, 0, err);
                if (r < 0) {
                        free(rj.type);
                        return r;
                }
                _cleanup_free_ char *type = rj.type;
                a[i].resource = -1;
                for (size_t k = 0; k < ELEMENTSOF(rlimit_names); k++)
                        if (streq(type, rlimit_names[k].name))
                                a[i].resource = rlimit_names[k].resource;
                if (a[i].resource < 0)
                        return herror_set(err, EINVAL, "%s.type: unknown rlimit \"%s\"", pth, type);
                for (size_t k = 0; k < i; k++)
                        if (a[k].resource == a[i].resource)
                                return herror_set(err, EINVAL, "%s.type: rlimit \"%s\" given twice", pth, type);
                if (rj.soft > rj.hard)
                        return herror_set(err, EINVAL, "%s: soft limit is above the hard limit", pth);
                a[i].soft = rj.soft;
                a[i].hard = rj.hard;
        }
        free(p->rlimits);
        p->rlimits = TAKE_PTR(a);
        p->n_rlimits = n;
        return 0;
}

static int dispatch_oom_score_adj(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        struct spec_process *p = dst;
        int r = json_dispatch_int32(jpath, v, &p->oom_score_adj, err);
        if (r < 0)
                return r;
        if (p->oom_score_adj < -1000 || p->oom_score_adj > 1000)
                return jerr(err, jpath, "out of range (-1000 to 1000)", NULL);
        p->has_oom_score_adj = true;
        return 0;
}

static int dispatch_args(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        int r = json_dispatch_strv(jpath, v, dst, err);
        if (r < 0)
                return r;
        if (json_array_size(v) > SPEC_MAX_ARGS)
                return herror_set(err, E2BIG, "%s: more than %d arguments", jpath, SPEC_MAX_ARGS);
        return 0;
}

static int dispatch_process(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        static const struct json_field t[] = {
                { "terminal", JSON_TRUE, json_dispatch_bool, OFF(struct spec_process, terminal), JF_NULLABLE },
                { "consoleSize", JSON_OBJECT, dispatch_console_size, 0, JF_NULLABLE },
                { "user", JSON_OBJECT, dispatch_user, 0, JF_MANDATORY },
                { "args", JSON_ARRAY, dispatch_args, OFF(struct spec_process, args), JF_NULLABLE },
                { "env", JSON_ARRAY, json_dispatch_strv, OFF(struct spec_process, env), JF_NULLABLE },
                { "cwd", JSON_STRING, json_dispatch_string, OFF(struct spec_process, cwd), JF_MANDATORY },
                { "capabilities", JSON_OBJECT, dispatch_capabilities, 0, JF_NULLABLE },
                { "rlimits", JSON_ARRAY, dispatch_rlimits, 0, JF_NULLABLE },
                { "noNewPrivileges", JSON_TRUE, json_dispatch_bool, OFF(struct spec_process, no_new_privileges),
                  JF_NULLABLE },
                { "apparmorProfile", JSON_STRING, json_dispatch_string, OFF(struct spec_process, apparmor_profile),
                  JF_NULLABLE },
                { "selinuxLabel", JSON_STRING, json_dispatch_string, OFF(struct spec_process, selinux_label),
                  JF_NULLABLE },
                { "oomScoreAdj", JSON_INTEGER, dispatch_oom_score_adj, 0, JF_NULLABLE },
                { "scheduler", JSON_OBJECT, NULL, 0, JF_UNSUPPORTED },
                { "ioPriority", JSON_OBJECT, NULL, 0, JF_UNSUPPORTED },
                { "execCPUAffinity", JSON_OBJECT, NULL, 0, JF_UNSUPPORTED },
                { "commandLine", JSON_STRING, NULL, 0, JF_UNSUPPORTED },
                { NULL },
        };
        return json_dispatch(v, jpath, t, dst, 0, err);
}

/* ---- root ---- */

static int dispatch_root(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        static const struct json_field t[] = {
                { "path", JSON_STRING, json_dispatch_string, OFF(struct spec, root_path), JF_MANDATORY },
                { "readonly", JSON_TRUE, json_dispatch_bool, OFF(struct spec, root_readonly), JF_NULLABLE },
                { NULL },
        };
        return json_dispatch(v, jpath, t, dst, 0, err);
}

/* ---- mounts ---- */

static const struct {
        const char *name;
        unsigned long set;
        unsigned long clear;
} mount_flag_names[] = {
        { "defaults", 0, 0 },
        { "ro", MS_RDONLY, 0 },
        { "rw", 0, MS_RDONLY },
        { "nosuid", MS_NOSUID, 0 },
        { "suid", 0, MS_NOSUID },
        { "nodev", MS_NODEV, 0 },
        { "dev", 0, MS_NODEV },
        { "noexec", MS_NOEXEC, 0 },
        { "exec", 0, MS_NOEXEC },
        { "sync", MS_SYNCHRONOUS, 0 },
        { "async", 0, MS_SYNCHRONOUS },
        { "dirsync", MS_DIRSYNC, 0 },
        { "remount", MS_REMOUNT, 0 },
        { "mand", MS_MANDLOCK, 0 },
        { "nomand", 0, MS_MANDLOCK },
        { "atime", 0, MS_NOATIME },
        { "noatime", MS_NOATIME, 0 },
        { "diratime", 0, MS_NODIRATIME },
        { "nodiratime", MS_NODIRATIME, 0 },
        { "relatime", MS_RELATIME, 0 },
        { "norelatime", 0, MS_RELATIME },
        { "strictatime", MS_STRICTATIME, 0 },
        { "nostrictatime", 0, MS_STRICTATIME },
        { "lazytime", MS_LAZYTIME, 0 },
        { "nolazytime", 0, MS_LAZYTIME },
        { "silent", MS_SILENT, 0 },
        { "loud", 0, MS_SILENT },
        { "iversion", MS_I_VERSION, 0 },
        { "noiversion", 0, MS_I_VERSION },
        { "nosymfollow", MS_NOSYMFOLLOW, 0 },
};

static const struct {
        const char *name;
        unsigned long flags;
} propagation_names[] = {
        { "private", MS_PRIVATE },       { "rprivate", MS_PRIVATE | MS_REC },
        { "shared", MS_SHARED },         { "rshared", MS_SHARED | MS_REC },
        { "slave", MS_SLAVE },           { "rslave", MS_SLAVE | MS_REC },
        { "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
};

static int propagation_from_string(const char *s, unsigned long *ret)
{
        for (size_t i = 0; i < ELEMENTSOF(propagation_names); i++)
                if (streq(s, propagation_names[i].name)) {
                        *ret = propagation_names[i].flags;
                        return 0;
                }
        return -EINVAL;
}

static int append_data(char **data, const char *opt)
{
        char *n = NULL;
        if (asprintf(&n, "%s%s%s", *data ? *data : "", *data ? "," : "", opt) < 0)
                return -ENOMEM;
        free(*data);
        *data = n;
        return 0;
}

static int mount_options_parse(struct spec_mount *m, const char *jpath, struct herror *err)
{
        for (size_t i = 0; m->options && m->options[i]; i++) {
                const char *o = m->options[i];
                bool known = false;
                if (streq(o, "bind") || streq(o, "rbind")) {
                        m->bind = true;
                        m->recursive = m->recursive || streq(o, "rbind");
                        continue;
                }
                if (propagation_from_string(o, &m->propagation) == 0)
                        continue;
                for (size_t k = 0; k < ELEMENTSOF(mount_flag_names); k++) {
                        if (streq(o, mount_flag_names[k].name)) {
                                m->flags = (m->flags & ~mount_flag_names[k].clear) | mount_flag_names[k].set;
                                m->clear_flags =
                                        (m->clear_flags & ~mount_flag_names[k].set) | mount_flag_names[k].clear;
                                known = true;
                                break;
                        }
                }
                if (known)
                        continue;
                /* Recursive attributes (rro, rnosuid, ...) and idmap need mount_setattr; refused, not ignored. */
                if ((o[0] == 'r' && strlen(o) > 2 && !strchr(o, '=')) || streq(o, "idmap") || streq(o, "ridmap")) {
                        char p[256];
                        json_path_index(p, sizeof p, jpath, i);
                        return herror_set(err, EOPNOTSUPP, "%s: mount option \"%s\" is not supported by hutch", p, o);
                }
                if (append_data(&m->data, o) < 0)
                        return -ENOMEM;
        }
        if (m->type && streq(m->type, "bind"))
                m->bind = true;
        return 0;
}

static int dispatch_mount(const char *jpath, json_t *v, struct spec_mount *m, struct herror *err)
{
        static const struct json_field t[] = {
                { "destination", JSON_STRING, json_dispatch_string, OFF(struct spec_mount, destination), JF_MANDATORY },
                { "source", JSON_STRING, json_dispatch_string, OFF(struct spec_mount, source), JF_NULLABLE },
                { "type", JSON_STRING, json_dispatch_string, OFF(struct spec_mount, type), JF_NULLABLE },
                { "options", JSON_ARRAY, json_dispatch_strv, OFF(struct spec_mount, options), JF_NULLABLE },
                { "uidMappings", JSON_ARRAY, NULL, 0, JF_UNSUPPORTED },
                { "gidMappings", JSON_ARRAY, NULL, 0, JF_UNSUPPORTED },
                { NULL },
        };
        int r = json_dispatch(v, jpath, t, m, 0, err);
        if (r < 0)
                return r;
        char p[256];
        json_path_key(p, sizeof p, jpath, "options");
        return mount_options_parse(m, p, err);
}

static int dispatch_mounts(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        struct spec *s = dst;
        if (!json_is_array(v))
                return jerr(err, jpath, "expected an array", NULL);
        size_t n = json_array_size(v);
        if (n > SPEC_MAX_MOUNTS)
                return herror_set(err, E2BIG, "%s: more than %d mounts", jpath, SPEC_MAX_MOUNTS);
        s->mounts = calloc(n ? n : 1, sizeof *s->mounts);
        if (!s->mounts)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                char p[256];
                json_path_index(p, sizeof p, jpath, i);
                s->n_mounts = i + 1; /* so spec_free releases a half-parsed entry */
                int r = dispatch_mount(p, json_array_get(v, i), &s->mounts[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- hooks: not implemented, so any hook is refused rather than skipped ---- */

static int dispatch_hooks(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        const char *key;
        json_t *val;
        json_object_foreach (v, key, val) {
                if (json_is_array(val) && json_array_size(val) == 0)
                        continue;
                if (json_is_null(val))
                        continue;
                return herror_set(err, EOPNOTSUPP, "%s.%s: hooks are not supported by hutch", jpath, key);
        }
        return 0;
}

/* ---- linux ---- */

static const char *const ns_names[_NS_TYPE_MAX] = {
        [NS_USER] = "user", [NS_MOUNT] = "mount", [NS_PID] = "pid",       [NS_NET] = "network",
        [NS_IPC] = "ipc",   [NS_UTS] = "uts",     [NS_CGROUP] = "cgroup", [NS_TIME] = "time",
};

const char *spec_annotation(const struct spec *s, const char *key)
{
        for (size_t i = 0; i < s->n_annotations; i++)
                if (streq(s->annotations[i].key, key))
                        return s->annotations[i].value;
        return NULL;
}

const char *spec_ns_type_to_string(enum spec_ns_type t)
{
        return t >= 0 && t < _NS_TYPE_MAX ? ns_names[t] : NULL;
}

int spec_ns_clone_flag(enum spec_ns_type t)
{
        switch (t) {
        case NS_USER:
                return CLONE_NEWUSER;
        case NS_MOUNT:
                return CLONE_NEWNS;
        case NS_PID:
                return CLONE_NEWPID;
        case NS_NET:
                return CLONE_NEWNET;
        case NS_IPC:
                return CLONE_NEWIPC;
        case NS_UTS:
                return CLONE_NEWUTS;
        case NS_CGROUP:
                return CLONE_NEWCGROUP;
        case NS_TIME:
                return CLONE_NEWTIME;
        case _NS_TYPE_MAX:
        case _NS_TYPE_INVALID:
        default:
                return 0;
        }
}

struct ns_json {
        char *type;
        char *path;
};

static int dispatch_namespaces(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        struct spec *s = dst;
        static const struct json_field t[] = {
                { "type", JSON_STRING, json_dispatch_string, OFF(struct ns_json, type), JF_MANDATORY },
                { "path", JSON_STRING, json_dispatch_string, OFF(struct ns_json, path), JF_NULLABLE },
                { NULL },
        };
        if (!json_is_array(v))
                return jerr(err, jpath, "expected an array", NULL);
        size_t i;
        json_t *e;
        json_array_foreach (v, i, e) {
                char p[256];
                json_path_index(p, sizeof p, jpath, i);
                struct ns_json nj = { 0 };
                int r = json_dispatch(e, p, t, &nj, 0, err);
                _cleanup_free_ char *type = nj.type;
                _cleanup_free_ char *path = nj.path;
                if (r < 0)
                        return r;
                int k;
                for (k = 0; k < _NS_TYPE_MAX; k++)
                        if (streq(type, ns_names[k]))
                                break;
                if (k == _NS_TYPE_MAX)
                        return herror_set(err, EINVAL, "%s.type: unknown namespace type \"%s\"", p, type);
                if (s->namespaces[k].enabled)
                        return herror_set(err, EINVAL, "%s.type: namespace \"%s\" listed twice", p, type);
                s->namespaces[k].enabled = true;
                if (path && path[0])
                        s->namespaces[k].path = TAKE_PTR(path);
        }
        return 0;
}

static int dispatch_idmaps(const char *jpath, json_t *v, struct spec_idmap **ret, size_t *ret_n, struct herror *err)
{
        static const struct json_field t[] = {
                { "containerID", JSON_INTEGER, json_dispatch_uint32, OFF(struct spec_idmap, container_id),
                  JF_MANDATORY },
                { "hostID", JSON_INTEGER, json_dispatch_uint32, OFF(struct spec_idmap, host_id), JF_MANDATORY },
                { "size", JSON_INTEGER, json_dispatch_uint32, OFF(struct spec_idmap, size), JF_MANDATORY },
                { NULL },
        };
        if (!json_is_array(v))
                return jerr(err, jpath, "expected an array", NULL);
        size_t n = json_array_size(v);
        if (n > SPEC_MAX_IDMAPS)
                return herror_set(err, E2BIG, "%s: more than %d mappings", jpath, SPEC_MAX_IDMAPS);
        _cleanup_free_ struct spec_idmap *a = calloc(n ? n : 1, sizeof *a);
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                char p[256];
                json_path_index(p, sizeof p, jpath, i);
                int r = json_dispatch(json_array_get(v, i), p, t, &a[i], 0, err);
                if (r < 0)
                        return r;
        }
        free(*ret);
        *ret = TAKE_PTR(a);
        *ret_n = n;
        return 0;
}

static int dispatch_uid_mappings(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        struct spec *s = dst;
        return dispatch_idmaps(jpath, v, &s->uid_mappings, &s->n_uid_mappings, err);
}

static int dispatch_gid_mappings(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        struct spec *s = dst;
        return dispatch_idmaps(jpath, v, &s->gid_mappings, &s->n_gid_mappings, err);
}

static int dispatch_kv_object(const char *jpath, json_t *v, struct spec_kv **ret, size_t *ret_n, struct herror *err)
{
        if (!json_is_object(v))
                return jerr(err, jpath, "expected an object", NULL);
        size_t n = json_object_size(v);
        if (n > 4096)
                return jerr(err, jpath, "too many entries", NULL);
        struct spec_kv *a = calloc(n ? n : 1, sizeof *a);
        if (!a)
                return -ENOMEM;
        *ret = a;
        *ret_n = 0;
        const char *key;
        json_t *val;
        json_object_foreach (v, key, val) {
                char p[512];
                json_path_key(p, sizeof p, jpath, key);
                char *value = NULL;
                int r = json_dispatch_string(p, val, &value, err);
                if (r < 0)
                        return r;
                a[*ret_n].key = strdup(key);
                a[*ret_n].value = value;
                (*ret_n)++;
                if (!a[*ret_n - 1].key)
                        return -ENOMEM;
        }
        return 0;
}

static int dispatch_sysctl(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        struct spec *s = dst;
        return dispatch_kv_object(jpath, v, &s->sysctl, &s->n_sysctl, err);
}

static int dispatch_annotations(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        struct spec *s = dst;
        return dispatch_kv_object(jpath, v, &s->annotations, &s->n_annotations, err);
}

static int dispatch_rootfs_propagation(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        struct spec *s = dst;
        const char *str = json_string_value(v);
        if (!str || propagation_from_string(str, &s->rootfs_propagation) < 0)
                return herror_set(err, EINVAL, "%s: unknown propagation \"%s\"", jpath, str ? str : "");
        return 0;
}

/* Memory, pids and cpu limits (-1 or 0: none); whether the host can apply them is decided when the
 * container is made (sandbox/cgroup.c), not here. */
static int dispatch_resources(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        struct spec_resources *r = &((struct spec *) dst)->resources;
        json_t *mem = json_object_get(v, "memory");
        json_t *pids = json_object_get(v, "pids");
        json_t *cpu = json_object_get(v, "cpu");
        char p[256];
        if (json_is_object(mem) && json_object_get(mem, "limit")) {
                json_path_key(p, sizeof p, jpath, "memory.limit");
                int k = json_dispatch_int64(p, json_object_get(mem, "limit"), &r->memory_limit, err);
                if (k < 0)
                        return k;
                r->has_memory_limit = r->memory_limit > 0;
        }
        if (json_is_object(pids) && json_object_get(pids, "limit")) {
                json_path_key(p, sizeof p, jpath, "pids.limit");
                int k = json_dispatch_int64(p, json_object_get(pids, "limit"), &r->pids_limit, err);
                if (k < 0)
                        return k;
                r->has_pids_limit = r->pids_limit > 0;
        }
        if (json_is_object(cpu) && json_object_get(cpu, "quota")) {
                json_path_key(p, sizeof p, jpath, "cpu.quota");
                int k = json_dispatch_int64(p, json_object_get(cpu, "quota"), &r->cpu_quota, err);
                if (k < 0)
                        return k;
                r->has_cpu_quota = r->cpu_quota > 0;
                json_t *period = json_object_get(cpu, "period");
                r->cpu_period = 100000; /* the kernel's default period, in microseconds */
                if (period && !json_is_null(period)) {
                        json_path_key(p, sizeof p, jpath, "cpu.period");
                        k = json_dispatch_uint64(p, period, &r->cpu_period, err);
                        if (k < 0)
                                return k;
                }
        }
        /* Every other controller setting asks for a cgroup too; device rules are handled apart. */
        static const char *const others[] = { "blockIO", "hugepageLimits", "network", "rdma", "unified" };
        for (size_t i = 0; i < ELEMENTSOF(others); i++) {
                json_t *o = json_object_get(v, others[i]);
                if (o && !json_is_null(o) &&
                    !((json_is_object(o) && json_object_size(o) == 0) || (json_is_array(o) && json_array_size(o) == 0)))
                        return herror_set(err, EOPNOTSUPP, "%s.%s: not supported by hutch", jpath, others[i]);
        }
        if (json_is_object(mem)) {
                static const char *const mem_other[] = { "reservation", "swap", "kernel", "kernelTCP", "swappiness" };
                for (size_t i = 0; i < ELEMENTSOF(mem_other); i++) {
                        json_t *o = json_object_get(mem, mem_other[i]);
                        if (o && !json_is_null(o) &&
                            !(json_is_integer(o) && json_integer_value(o) <= 0 && !streq(mem_other[i], "swappiness")))
                                return herror_set(err, EOPNOTSUPP, "%s.memory.%s: not supported by hutch", jpath,
                                                  mem_other[i]);
                }
        }
        if (json_is_object(cpu)) {
                /* set and not applied would be a silent failure: shares, cpusets and realtime are refused */
                static const char *const cpu_other[] = { "shares", "realtimeRuntime", "realtimePeriod", "cpus", "mems",
                                                         "idle" };
                for (size_t i = 0; i < ELEMENTSOF(cpu_other); i++) {
                        json_t *o = json_object_get(cpu, cpu_other[i]);
                        bool unset = !o || json_is_null(o) || (json_is_integer(o) && json_integer_value(o) == 0) ||
                                (json_is_string(o) && json_string_value(o)[0] == 0);
                        if (!unset)
                                return herror_set(err, EOPNOTSUPP, "%s.cpu.%s: not supported by hutch", jpath,
                                                  cpu_other[i]);
                }
        }
        r->any_limit = r->has_memory_limit || r->has_pids_limit || r->has_cpu_quota;
        return 0;
}

static int dispatch_device(const char *jpath, json_t *v, struct spec_device *d, struct herror *err)
{
        static const struct json_field t[] = {
                { "path", JSON_STRING, json_dispatch_string, OFF(struct spec_device, path), JF_MANDATORY },
                { "major", JSON_INTEGER, json_dispatch_int64, OFF(struct spec_device, major), JF_NULLABLE },
                { "minor", JSON_INTEGER, json_dispatch_int64, OFF(struct spec_device, minor), JF_NULLABLE },
                { "fileMode", JSON_INTEGER, json_dispatch_uint32, OFF(struct spec_device, mode), JF_NULLABLE },
                { "uid", JSON_INTEGER, json_dispatch_uint32, OFF(struct spec_device, uid), JF_NULLABLE },
                { "gid", JSON_INTEGER, json_dispatch_uint32, OFF(struct spec_device, gid), JF_NULLABLE },
                { NULL },
        };
        int r = json_dispatch(v, jpath, t, d, 0, err);
        if (r < 0)
                return r;
        json_t *jt = json_object_get(v, "type");
        const char *ts = json_string_value(jt);
        if (!ts || strlen(ts) != 1 || !strchr("cbup", ts[0]))
                return herror_set(err, EINVAL, "%s.type: expected one of \"c\", \"b\", \"u\", \"p\"", jpath);
        d->type = ts[0];
        d->has_mode = json_object_get(v, "fileMode") != NULL;
        d->has_uid = json_object_get(v, "uid") != NULL;
        d->has_gid = json_object_get(v, "gid") != NULL;
        return 0;
}

static int dispatch_devices(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        struct spec *s = dst;
        if (!json_is_array(v))
                return jerr(err, jpath, "expected an array", NULL);
        size_t n = json_array_size(v);
        if (n > 1024)
                return jerr(err, jpath, "too many devices", NULL);
        s->devices = calloc(n ? n : 1, sizeof *s->devices);
        if (!s->devices)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                char p[256];
                json_path_index(p, sizeof p, jpath, i);
                s->n_devices = i + 1;
                int r = dispatch_device(p, json_array_get(v, i), &s->devices[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int dispatch_seccomp_json(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        struct spec *s = dst;
        return spec_parse_seccomp(v, jpath, &s->seccomp, err);
}

static int dispatch_linux(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        static const struct json_field t[] = {
                { "namespaces", JSON_ARRAY, dispatch_namespaces, 0, JF_NULLABLE },
                { "uidMappings", JSON_ARRAY, dispatch_uid_mappings, 0, JF_NULLABLE },
                { "gidMappings", JSON_ARRAY, dispatch_gid_mappings, 0, JF_NULLABLE },
                { "sysctl", JSON_OBJECT, dispatch_sysctl, 0, JF_NULLABLE },
                { "seccomp", JSON_OBJECT, dispatch_seccomp_json, 0, JF_NULLABLE },
                { "maskedPaths", JSON_ARRAY, json_dispatch_strv, OFF(struct spec, masked_paths), JF_NULLABLE },
                { "readonlyPaths", JSON_ARRAY, json_dispatch_strv, OFF(struct spec, readonly_paths), JF_NULLABLE },
                { "rootfsPropagation", JSON_STRING, dispatch_rootfs_propagation, 0, JF_NULLABLE },
                { "resources", JSON_OBJECT, dispatch_resources, 0, JF_NULLABLE },
                { "devices", JSON_ARRAY, dispatch_devices, 0, JF_NULLABLE },
                { "mountLabel", JSON_STRING, json_dispatch_string, OFF(struct spec, mount_label), JF_NULLABLE },
                { "cgroupsPath", JSON_STRING, json_dispatch_string, OFF(struct spec, cgroups_path), JF_NULLABLE },
                { "personality", JSON_OBJECT, NULL, 0, JF_UNSUPPORTED },
                { "intelRdt", JSON_OBJECT, NULL, 0, JF_UNSUPPORTED },
                { "timeOffsets", JSON_OBJECT, NULL, 0, JF_UNSUPPORTED },
                { "memoryPolicy", JSON_OBJECT, NULL, 0, JF_UNSUPPORTED },
                { "netDevices", JSON_OBJECT, NULL, 0, JF_UNSUPPORTED },
                { NULL },
        };
        return json_dispatch(v, jpath, t, dst, 0, err);
}

/* ---- seccomp ---- */

static const char *const seccomp_action_names[_SECCOMP_ACT_MAX] = {
        [SECCOMP_ACT_KILL_THREAD] = "SCMP_ACT_KILL_THREAD",
        [SECCOMP_ACT_KILL_PROCESS] = "SCMP_ACT_KILL_PROCESS",
        [SECCOMP_ACT_TRAP] = "SCMP_ACT_TRAP",
        [SECCOMP_ACT_ERRNO] = "SCMP_ACT_ERRNO",
        [SECCOMP_ACT_TRACE] = "SCMP_ACT_TRACE",
        [SECCOMP_ACT_ALLOW] = "SCMP_ACT_ALLOW",
        [SECCOMP_ACT_LOG] = "SCMP_ACT_LOG",
        [SECCOMP_ACT_NOTIFY] = "SCMP_ACT_NOTIFY",
};

static const char *const seccomp_op_names[_SECCOMP_OP_MAX] = {
        [SECCOMP_OP_NE] = "SCMP_CMP_NE",
        [SECCOMP_OP_LT] = "SCMP_CMP_LT",
        [SECCOMP_OP_LE] = "SCMP_CMP_LE",
        [SECCOMP_OP_EQ] = "SCMP_CMP_EQ",
        [SECCOMP_OP_GE] = "SCMP_CMP_GE",
        [SECCOMP_OP_GT] = "SCMP_CMP_GT",
        [SECCOMP_OP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

static int dispatch_seccomp_action(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        enum spec_seccomp_action *a = dst;
        const char *s = json_string_value(v);
        if (s) {
                if (streq(s, "SCMP_ACT_KILL")) { /* the spec's older name for KILL_THREAD */
                        *a = SECCOMP_ACT_KILL_THREAD;
                        return 0;
                }
                for (int i = 0; i < _SECCOMP_ACT_MAX; i++)
                        if (streq(s, seccomp_action_names[i])) {
                                *a = i;
                                return 0;
                        }
        }
        return herror_set(err, EINVAL, "%s: unknown seccomp action \"%s\"", jpath, s ? s : "");
}

static int dispatch_seccomp_op(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        enum spec_seccomp_op *o = dst;
        const char *s = json_string_value(v);
        for (int i = 0; s && i < _SECCOMP_OP_MAX; i++)
                if (streq(s, seccomp_op_names[i])) {
                        *o = i;
                        return 0;
                }
        return herror_set(err, EINVAL, "%s: unknown seccomp operator \"%s\"", jpath, s ? s : "");
}

static int dispatch_seccomp_flags(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        struct spec_seccomp *sc = dst;
        static const struct {
                const char *name;
                unsigned flag;
        } names[] = {
                { "SECCOMP_FILTER_FLAG_TSYNC", SPEC_SECCOMP_FLAG_TSYNC },
                { "SECCOMP_FILTER_FLAG_LOG", SPEC_SECCOMP_FLAG_LOG },
                { "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SPEC_SECCOMP_FLAG_SPEC_ALLOW },
                { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SPEC_SECCOMP_FLAG_WAIT_KILLABLE_RECV },
        };
        if (!json_is_array(v))
                return jerr(err, jpath, "expected an array", NULL);
        size_t i;
        json_t *e;
        sc->has_flags = true;
        json_array_foreach (v, i, e) {
                const char *s = json_string_value(e);
                bool found = false;
                for (size_t k = 0; s && k < ELEMENTSOF(names); k++)
                        if (streq(s, names[k].name)) {
                                sc->flags |= names[k].flag;
                                found = true;
                        }
                if (!found) {
                        char p[256];
                        json_path_index(p, sizeof p, jpath, i);
                        return herror_set(err, EINVAL, "%s: unknown seccomp flag \"%s\"", p, s ? s : "");
                }
        }
        return 0;
}

static int dispatch_seccomp_args(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        struct spec_seccomp_rule *rule = dst;
        static const struct json_field t[] = {
                { "index", JSON_INTEGER, json_dispatch_uint32, OFF(struct spec_seccomp_arg, index), JF_MANDATORY },
                { "value", JSON_INTEGER, json_dispatch_uint64, OFF(struct spec_seccomp_arg, value), JF_MANDATORY },
                { "valueTwo", JSON_INTEGER, json_dispatch_uint64, OFF(struct spec_seccomp_arg, value_two),
                  JF_NULLABLE },
                { "op", JSON_STRING, dispatch_seccomp_op, OFF(struct spec_seccomp_arg, op), JF_MANDATORY },
                { NULL },
        };
        if (!json_is_array(v))
                return jerr(err, jpath, "expected an array", NULL);
        size_t n = json_array_size(v);
        if (n > 6)
                return jerr(err, jpath, "more than 6 argument conditions", NULL);
        rule->args = calloc(n ? n : 1, sizeof *rule->args);
        if (!rule->args)
                return -ENOMEM;
        rule->n_args = n;
        for (size_t i = 0; i < n; i++) {
                char p[256];
                json_path_index(p, sizeof p, jpath, i);
                int r = json_dispatch(json_array_get(v, i), p, t, &rule->args[i], 0, err);
                if (r < 0)
                        return r;
                if (rule->args[i].index > 5)
                        return herror_set(err, EINVAL, "%s.index: must be 0 to 5", p);
        }
        return 0;
}

static int dispatch_seccomp_errno(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        struct spec_seccomp_rule *rule = dst;
        int r = json_dispatch_uint32(jpath, v, &rule->errno_ret, err);
        if (r < 0)
                return r;
        if (rule->errno_ret > 4095)
                return jerr(err, jpath, "errno out of range (0 to 4095)", NULL);
        rule->has_errno_ret = true;
        return 0;
}

static int dispatch_seccomp_default_errno(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        struct spec_seccomp *sc = dst;
        int r = json_dispatch_uint32(jpath, v, &sc->default_errno_ret, err);
        if (r < 0)
                return r;
        if (sc->default_errno_ret > 4095)
                return jerr(err, jpath, "errno out of range (0 to 4095)", NULL);
        sc->has_default_errno_ret = true;
        return 0;
}

static int dispatch_seccomp_rules(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        struct spec_seccomp *sc = dst;
        static const struct json_field t[] = {
                { "names", JSON_ARRAY, json_dispatch_strv, OFF(struct spec_seccomp_rule, names), JF_MANDATORY },
                { "action", JSON_STRING, dispatch_seccomp_action, OFF(struct spec_seccomp_rule, action), JF_MANDATORY },
                { "errnoRet", JSON_INTEGER, dispatch_seccomp_errno, 0, JF_NULLABLE },
                { "args", JSON_ARRAY, dispatch_seccomp_args, 0, JF_NULLABLE },
                { NULL },
        };
        if (!json_is_array(v))
                return jerr(err, jpath, "expected an array", NULL);
        size_t n = json_array_size(v);
        if (n > SPEC_MAX_SECCOMP_RULES)
                return herror_set(err, E2BIG, "%s: more than %d rules", jpath, SPEC_MAX_SECCOMP_RULES);
        sc->rules = calloc(n ? n : 1, sizeof *sc->rules);
        if (!sc->rules)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                char p[256];
                json_path_index(p, sizeof p, jpath, i);
                sc->n_rules = i + 1;
                int r = json_dispatch(json_array_get(v, i), p, t, &sc->rules[i], 0, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int spec_parse_seccomp(void *json_obj, const char *jpath, struct spec_seccomp **ret, struct herror *err)
{
        static const struct json_field t[] = {
                { "defaultAction", JSON_STRING, dispatch_seccomp_action, OFF(struct spec_seccomp, default_action),
                  JF_MANDATORY },
                { "defaultErrnoRet", JSON_INTEGER, dispatch_seccomp_default_errno, 0, JF_NULLABLE },
                { "architectures", JSON_ARRAY, json_dispatch_strv, OFF(struct spec_seccomp, architectures),
                  JF_NULLABLE },
                { "flags", JSON_ARRAY, dispatch_seccomp_flags, 0, JF_NULLABLE },
                { "syscalls", JSON_ARRAY, dispatch_seccomp_rules, 0, JF_NULLABLE },
                { "listenerPath", JSON_STRING, NULL, 0, JF_UNSUPPORTED },
                { "listenerMetadata", JSON_STRING, NULL, 0, JF_UNSUPPORTED },
                { NULL },
        };
        struct spec_seccomp *sc = calloc(1, sizeof *sc);
        if (!sc)
                return -ENOMEM;
        int r = json_dispatch(json_obj, jpath, t, sc, 0, err);
        if (r < 0) {
                spec_seccomp_free(sc);
                return r;
        }
        spec_seccomp_free(*ret);
        *ret = sc;
        return 0;
}

/* ---- top level ---- */

static const struct json_field spec_fields[] = {
        { "ociVersion", JSON_STRING, json_dispatch_string, OFF(struct spec, oci_version), JF_MANDATORY },
        { "root", JSON_OBJECT, dispatch_root, 0, JF_MANDATORY },
        { "process", JSON_OBJECT, dispatch_process, OFF(struct spec, process), JF_MANDATORY },
        { "hostname", JSON_STRING, json_dispatch_string, OFF(struct spec, hostname), JF_NULLABLE },
        { "domainname", JSON_STRING, json_dispatch_string, OFF(struct spec, domainname), JF_NULLABLE },
        { "mounts", JSON_ARRAY, dispatch_mounts, 0, JF_NULLABLE },
        { "hooks", JSON_OBJECT, dispatch_hooks, 0, JF_NULLABLE },
        { "annotations", JSON_OBJECT, dispatch_annotations, 0, JF_NULLABLE },
        { "linux", JSON_OBJECT, dispatch_linux, 0, JF_NULLABLE },
        { "solaris", JANY, NULL, 0, JF_UNSUPPORTED },
        { "windows", JANY, NULL, 0, JF_UNSUPPORTED },
        { "vm", JANY, NULL, 0, JF_UNSUPPORTED },
        { "zos", JANY, NULL, 0, JF_UNSUPPORTED },
        { NULL },
};

int spec_parse(const char *data, size_t len, const char *source, struct spec **ret, struct herror *err)
{
        _cleanup_json_ json_t *root = NULL;
        int r = json_parse_limited(data, len, source, SPEC_MAX_CONFIG_SIZE, JSON_MAX_DEPTH_DEFAULT, &root, err);
        if (r < 0)
                return r;
        _cleanup_spec_ struct spec *s = calloc(1, sizeof *s);
        if (!s)
                return herror_set(err, ENOMEM, "%s: out of memory", source);
        r = json_dispatch(root, "", spec_fields, s, 0, err);
        if (r < 0)
                return herror_wrap(err, "%s", source);
        *ret = TAKE_PTR(s);
        return 0;
}

int spec_load(int bundle_dirfd, const char *name, struct spec **ret, struct herror *err)
{
        _cleanup_free_ char *data = NULL;
        size_t len;
        int r = read_file_at(bundle_dirfd, name, SPEC_MAX_CONFIG_SIZE, &data, &len, err);
        if (r < 0)
                return r;
        return spec_parse(data, len, name, ret, err);
}

/* ---- free ---- */

void spec_seccomp_free(struct spec_seccomp *sc)
{
        if (!sc)
                return;
        strv_free(sc->architectures);
        for (size_t i = 0; i < sc->n_rules; i++) {
                strv_free(sc->rules[i].names);
                free(sc->rules[i].args);
        }
        free(sc->rules);
        free(sc);
}

static void kv_free(struct spec_kv *kv, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(kv[i].key);
                free(kv[i].value);
        }
        free(kv);
}

void spec_free(struct spec *s)
{
        if (!s)
                return;
        free(s->oci_version);
        free(s->root_path);
        free(s->hostname);
        free(s->domainname);
        struct spec_process *p = &s->process;
        free(p->additional_gids);
        strv_free(p->args);
        strv_free(p->env);
        free(p->cwd);
        free(p->apparmor_profile);
        free(p->selinux_label);
        free(p->rlimits);
        for (size_t i = 0; i < s->n_mounts; i++) {
                free(s->mounts[i].destination);
                free(s->mounts[i].source);
                free(s->mounts[i].type);
                strv_free(s->mounts[i].options);
                free(s->mounts[i].data);
        }
        free(s->mounts);
        for (int i = 0; i < _NS_TYPE_MAX; i++)
                free(s->namespaces[i].path);
        free(s->uid_mappings);
        free(s->gid_mappings);
        kv_free(s->sysctl, s->n_sysctl);
        spec_seccomp_free(s->seccomp);
        strv_free(s->masked_paths);
        strv_free(s->readonly_paths);
        for (size_t i = 0; i < s->n_devices; i++)
                free(s->devices[i].path);
        free(s->devices);
        free(s->mount_label);
        free(s->cgroups_path);
        kv_free(s->annotations, s->n_annotations);
        spec_landlock_rules_free(s->landlock_rules);
        free(s);
}
