/* Semantic checks of a parsed spec, one function per area (runc's validator layout), all before
 * any fork or unshare so that a bad bundle never leaves anything half set up. */
#include <inttypes.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "spec/spec.h"

bool spec_path_has_dotdot(const char *p)
{
        for (const char *c = p; (c = strstr(c, "..")); c += 2) {
                bool start = c == p || c[-1] == '/';
                bool end = c[2] == 0 || c[2] == '/';
                if (start && end)
                        return true;
        }
        return false;
}

static int validate_version(const struct spec *s, struct herror *err)
{
        const char *v = s->oci_version;
        if (!v || strncmp(v, "1.", 2) != 0)
                return herror_set(err, EINVAL, "ociVersion \"%s\": only runtime-spec 1.x is supported", v ? v : "");
        return 0;
}

static int validate_root(const struct spec *s, struct herror *err)
{
        if (!s->root_path || !s->root_path[0])
                return herror_set(err, EINVAL, ".root.path: must not be empty");
        return 0;
}

static int validate_process(const struct spec *s, struct herror *err)
{
        const struct spec_process *p = &s->process;
        if (!p->args || !p->args[0] || !p->args[0][0])
                return herror_set(err, EINVAL, ".process.args: must name the program to run");
        if (!p->cwd || p->cwd[0] != '/' || spec_path_has_dotdot(p->cwd))
                return herror_set(err, EINVAL, ".process.cwd: must be an absolute path without \"..\"");
        for (size_t i = 0; p->env && p->env[i]; i++)
                if (!strchr(p->env[i], '=') || p->env[i][0] == '=')
                        return herror_set(err, EINVAL, ".process.env[%zu]: \"%s\" is not NAME=VALUE", i, p->env[i]);
        /* Ambient capabilities must also be permitted and inheritable (capabilities(7)). */
        uint64_t amb = p->caps[CAPSET_AMBIENT];
        if (amb & ~(p->caps[CAPSET_PERMITTED] & p->caps[CAPSET_INHERITABLE]))
                return herror_set(
                        err, EINVAL,
                        ".process.capabilities.ambient: every ambient capability must also be permitted and inheritable");
        if (p->caps[CAPSET_EFFECTIVE] & ~p->caps[CAPSET_PERMITTED])
                return herror_set(err, EINVAL,
                                  ".process.capabilities.effective: every effective capability must also be permitted");
        return 0;
}

static int validate_idmap_list(const struct spec_idmap *m, size_t n, const char *what, struct herror *err)
{
        for (size_t i = 0; i < n; i++) {
                if (m[i].size == 0)
                        return herror_set(err, EINVAL, ".linux.%s[%zu].size: must not be 0", what, i);
                if ((uint64_t) m[i].container_id + m[i].size > UINT32_MAX ||
                    (uint64_t) m[i].host_id + m[i].size > UINT32_MAX)
                        return herror_set(err, EINVAL, ".linux.%s[%zu]: range overflows 32 bits", what, i);
                for (size_t k = 0; k < i; k++) {
                        bool c_overlap = m[i].container_id < m[k].container_id + m[k].size &&
                                m[k].container_id < m[i].container_id + m[i].size;
                        bool h_overlap =
                                m[i].host_id < m[k].host_id + m[k].size && m[k].host_id < m[i].host_id + m[i].size;
                        if (c_overlap || h_overlap)
                                return herror_set(err, EINVAL, ".linux.%s[%zu]: overlaps entry %zu", what, i, k);
                }
        }
        return 0;
}

static bool id_is_mapped(const struct spec_idmap *m, size_t n, uint32_t id)
{
        for (size_t i = 0; i < n; i++)
                if (id >= m[i].container_id && id - m[i].container_id < m[i].size)
                        return true;
        return false;
}

static int validate_namespaces(const struct spec *s, bool rootless, struct herror *err)
{
        const struct spec_namespace *user = &s->namespaces[NS_USER];
        if (rootless && !user->enabled)
                return herror_set(err, EPERM, ".linux.namespaces: running without root needs a user namespace");
        if (!user->enabled && (s->n_uid_mappings || s->n_gid_mappings))
                return herror_set(err, EINVAL, ".linux.uidMappings: mappings given without a user namespace");
        if (user->enabled && !user->path) {
                if (!s->n_uid_mappings || !s->n_gid_mappings)
                        return herror_set(err, EINVAL,
                                          ".linux.uidMappings: a new user namespace needs uidMappings and gidMappings");
                int r = validate_idmap_list(s->uid_mappings, s->n_uid_mappings, "uidMappings", err);
                if (r < 0)
                        return r;
                r = validate_idmap_list(s->gid_mappings, s->n_gid_mappings, "gidMappings", err);
                if (r < 0)
                        return r;
                if (!id_is_mapped(s->uid_mappings, s->n_uid_mappings, s->process.uid))
                        return herror_set(err, EINVAL, ".process.user.uid: %u is not mapped in .linux.uidMappings",
                                          s->process.uid);
                if (!id_is_mapped(s->gid_mappings, s->n_gid_mappings, s->process.gid))
                        return herror_set(err, EINVAL, ".process.user.gid: %u is not mapped in .linux.gidMappings",
                                          s->process.gid);
                for (size_t i = 0; i < s->process.n_additional_gids; i++)
                        if (!id_is_mapped(s->gid_mappings, s->n_gid_mappings, s->process.additional_gids[i]))
                                return herror_set(err, EINVAL, ".process.user.additionalGids[%zu]: %u is not mapped", i,
                                                  s->process.additional_gids[i]);
        }
        if (s->namespaces[NS_PID].path)
                return herror_set(err, EOPNOTSUPP,
                                  ".linux.namespaces: joining a pid namespace by path is not supported by hutch");
        if (s->namespaces[NS_TIME].path)
                return herror_set(err, EOPNOTSUPP,
                                  ".linux.namespaces: joining a time namespace by path is not supported by hutch");
        if (rootless && !s->namespaces[NS_MOUNT].enabled)
                return herror_set(err, EPERM, ".linux.namespaces: a mount namespace is required");
        if (!s->namespaces[NS_MOUNT].enabled)
                return herror_set(err, EINVAL, ".linux.namespaces: hutch needs a mount namespace to set up the rootfs");
        for (int t = 0; t < _NS_TYPE_MAX; t++)
                if (s->namespaces[t].path && s->namespaces[t].path[0] != '/')
                        return herror_set(err, EINVAL, ".linux.namespaces: %s namespace path must be absolute",
                                          spec_ns_type_to_string(t));
        return 0;
}

static int validate_hostname(const struct spec *s, struct herror *err)
{
        bool own_uts = s->namespaces[NS_UTS].enabled && !s->namespaces[NS_UTS].path;
        if ((s->hostname && s->hostname[0]) && !own_uts)
                return herror_set(err, EINVAL, ".hostname: setting a hostname needs a new uts namespace");
        if ((s->domainname && s->domainname[0]) && !own_uts)
                return herror_set(err, EINVAL, ".domainname: setting a domain name needs a new uts namespace");
        if (s->hostname && strlen(s->hostname) > 64)
                return herror_set(err, EINVAL, ".hostname: longer than 64 bytes");
        if (s->domainname && strlen(s->domainname) > 64)
                return herror_set(err, EINVAL, ".domainname: longer than 64 bytes");
        return 0;
}

/* Only namespaced sysctls, and only when that namespace is the container's own (runc's rule). */
static int validate_sysctl(const struct spec *s, struct herror *err)
{
        static const char *const ipc_keys[] = { "kernel.msgmax", "kernel.msgmnb",         "kernel.msgmni",
                                                "kernel.sem",    "kernel.shmall",         "kernel.shmmax",
                                                "kernel.shmmni", "kernel.shm_rmid_forced" };
        for (size_t i = 0; i < s->n_sysctl; i++) {
                const char *k = s->sysctl[i].key;
                enum spec_ns_type need = _NS_TYPE_INVALID;
                if (strncmp(k, "net.", 4) == 0)
                        need = NS_NET;
                else if (strncmp(k, "fs.mqueue.", 10) == 0)
                        need = NS_IPC;
                else if (streq(k, "kernel.hostname") || streq(k, "kernel.domainname"))
                        need = NS_UTS;
                for (size_t j = 0; j < ELEMENTSOF(ipc_keys); j++)
                        if (streq(k, ipc_keys[j]))
                                need = NS_IPC;
                if (need == _NS_TYPE_INVALID)
                        return herror_set(err, EPERM, ".linux.sysctl.%s: not a namespaced sysctl; refused", k);
                if (!s->namespaces[need].enabled || s->namespaces[need].path)
                        return herror_set(err, EPERM, ".linux.sysctl.%s: needs the container's own %s namespace", k,
                                          spec_ns_type_to_string(need));
                if (strstr(k, "..") || strchr(k, '/'))
                        return herror_set(err, EINVAL, ".linux.sysctl.%s: malformed key", k);
        }
        return 0;
}

static int validate_mounts(const struct spec *s, struct herror *err)
{
        for (size_t i = 0; i < s->n_mounts; i++) {
                const struct spec_mount *m = &s->mounts[i];
                if (m->destination[0] != '/')
                        return herror_set(err, EINVAL, ".mounts[%zu].destination: \"%s\" must be absolute", i,
                                          m->destination);
                if (spec_path_has_dotdot(m->destination))
                        return herror_set(err, EINVAL, ".mounts[%zu].destination: \"%s\" contains \"..\"", i,
                                          m->destination);
                if (streq(m->destination, "/"))
                        return herror_set(err, EINVAL, ".mounts[%zu].destination: mounting over / is not allowed", i);
                if (m->bind && (!m->source || !m->source[0]))
                        return herror_set(err, EINVAL, ".mounts[%zu].source: a bind mount needs a source", i);
                if (!m->bind && (!m->type || !m->type[0]))
                        return herror_set(err, EINVAL, ".mounts[%zu].type: needed for a non-bind mount", i);
                if (m->flags & MS_REMOUNT)
                        return herror_set(err, EINVAL, ".mounts[%zu].options: \"remount\" is not allowed", i);
                if (m->type && streq(m->type, "mqueue") && !s->namespaces[NS_IPC].enabled)
                        return herror_set(err, EINVAL, ".mounts[%zu]: an mqueue mount needs an ipc namespace", i);
        }
        return 0;
}

static int validate_path_list(char **v, const char *what, struct herror *err)
{
        for (size_t i = 0; v && v[i]; i++)
                if (v[i][0] != '/' || spec_path_has_dotdot(v[i]))
                        return herror_set(err, EINVAL, ".linux.%s[%zu]: \"%s\" must be absolute without \"..\"", what,
                                          i, v[i]);
        return 0;
}

/* Types and ranges only: whether this host can apply the limits (a delegated cgroup v2) is decided by
 * the sandbox when the container is made, and a limit it cannot apply is an error there. */
static int validate_resources(const struct spec *s, struct herror *err)
{
        const struct spec_resources *r = &s->resources;
        /* the kernel's PID_MAX_LIMIT: pids.max refuses more */
        if (r->has_pids_limit && r->pids_limit > 4194304)
                return herror_set(err, ERANGE,
                                  ".linux.resources.pids.limit: %" PRId64 " is above the kernel's maximum 4194304 "
                                  "(-1: no limit)",
                                  r->pids_limit);
        if (r->has_cpu_quota && (r->cpu_period < 1000 || r->cpu_period > 1000000))
                return herror_set(err, ERANGE,
                                  ".linux.resources.cpu.period: %" PRIu64 " is outside the kernel's range "
                                  "1000-1000000 (microseconds)",
                                  r->cpu_period);
        if (r->has_cpu_quota && r->cpu_quota < 1000)
                return herror_set(err, ERANGE,
                                  ".linux.resources.cpu.quota: %" PRId64 " is below the kernel's minimum 1000 "
                                  "(microseconds; -1: no limit)",
                                  r->cpu_quota);
        const char *p = s->cgroups_path;
        if (p && (spec_path_has_dotdot(p) || strlen(p) >= 4096))
                return herror_set(err, EINVAL,
                                  ".linux.cgroupsPath: \"%.64s\" must not contain \"..\" and must be shorter "
                                  "than 4096 bytes",
                                  p);
        return 0;
}

static int validate_lsm(const struct spec *s, struct herror *err)
{
        const char *aa = s->process.apparmor_profile;
        if (aa && aa[0] && !streq(aa, "unconfined") && access("/sys/kernel/security/apparmor", F_OK) != 0 &&
            access("/sys/module/apparmor/parameters/enabled", F_OK) != 0)
                return herror_set(err, EOPNOTSUPP,
                                  ".process.apparmorProfile: \"%s\" asked for, but AppArmor is not active on this host",
                                  aa);
        const char *se = s->process.selinux_label;
        if (se && se[0] && access("/sys/fs/selinux/enforce", F_OK) != 0)
                return herror_set(err, EOPNOTSUPP,
                                  ".process.selinuxLabel: \"%s\" asked for, but SELinux is not active on this host",
                                  se);
        if (s->mount_label && s->mount_label[0] && access("/sys/fs/selinux/enforce", F_OK) != 0)
                return herror_set(err, EOPNOTSUPP,
                                  ".linux.mountLabel: asked for, but SELinux is not active on this host");
        return 0;
}

static int validate_seccomp(const struct spec *s, struct herror *err)
{
        const struct spec_seccomp *sc = s->seccomp;
        if (!sc)
                return 0;
        if (sc->default_action == SECCOMP_ACT_NOTIFY)
                return herror_set(err, EOPNOTSUPP,
                                  ".linux.seccomp.defaultAction: SCMP_ACT_NOTIFY is not supported by hutch");
        for (size_t i = 0; i < sc->n_rules; i++)
                if (sc->rules[i].action == SECCOMP_ACT_NOTIFY)
                        return herror_set(
                                err, EOPNOTSUPP,
                                ".linux.seccomp.syscalls[%zu].action: SCMP_ACT_NOTIFY is not supported by hutch", i);
        return 0;
}

static int validate_devices(const struct spec *s, struct herror *err)
{
        for (size_t i = 0; i < s->n_devices; i++) {
                const char *p = s->devices[i].path;
                if (strncmp(p, "/dev/", 5) != 0 || spec_path_has_dotdot(p))
                        return herror_set(err, EINVAL,
                                          ".linux.devices[%zu].path: \"%s\" must be under /dev without \"..\"", i, p);
        }
        return 0;
}

int spec_validate(const struct spec *s, bool rootless, struct herror *err)
{
        int r;
        if ((r = validate_version(s, err)) < 0 || (r = validate_root(s, err)) < 0 ||
            (r = validate_process(s, err)) < 0 || (r = validate_namespaces(s, rootless, err)) < 0 ||
            (r = validate_hostname(s, err)) < 0 || (r = validate_sysctl(s, err)) < 0 ||
            (r = validate_mounts(s, err)) < 0 || (r = validate_path_list(s->masked_paths, "maskedPaths", err)) < 0 ||
            (r = validate_path_list(s->readonly_paths, "readonlyPaths", err)) < 0 ||
            (r = validate_resources(s, err)) < 0 || (r = validate_lsm(s, err)) < 0 ||
            (r = validate_seccomp(s, err)) < 0 || (r = validate_devices(s, err)) < 0)
                return r;
        return 0;
}
