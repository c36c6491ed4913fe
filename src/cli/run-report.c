#include <ctype.h>
#include <inttypes.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <unistd.h>

#include "cli/audit-facts.h"
#include "cli/run-report.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/json.h"

static json_t *maps_json(const struct spec_idmap *m, size_t n)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
                json_array_append_new(a,
                                      json_pack("{s:I,s:I,s:I}", "container", (json_int_t) m[i].container_id, "host",
                                                (json_int_t) m[i].host_id, "count", (json_int_t) m[i].size));
        return a;
}

static json_t *caps_json(uint64_t set)
{
        json_t *a = json_array();
        for (int i = 0; a && i < 64; i++)
                if ((set & (1ull << i)) && cli_cap_name(i))
                        json_array_append_new(a, json_string(cli_cap_name(i)));
        return a;
}

static json_t *mounts_json(const struct spec *s)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < s->n_mounts; i++) {
                const struct spec_mount *m = &s->mounts[i];
                json_array_append_new(a,
                                      json_pack("{s:s,s:s?,s:s?,s:b}", "destination", m->destination, "type", m->type,
                                                "source", m->source, "readonly", (m->flags & MS_RDONLY) != 0));
        }
        return a;
}

static json_t *str_or_null(const char *s)
{
        return s ? json_string(s) : json_null();
}

/* The limits written to the container's cgroup (null: none asked for, so no cgroup at all). */
static json_t *limits_json(const struct spec_resources *res)
{
        if (!res->any_limit)
                return json_null();
        char cpu[64];
        snprintf(cpu, sizeof cpu, "%" PRId64 " %" PRIu64, res->cpu_quota, res->cpu_period);
        return json_pack("{s:o,s:o,s:o}", "memory_max",
                         res->has_memory_limit ? json_integer(res->memory_limit) : json_null(), "pids_max",
                         res->has_pids_limit ? json_integer(res->pids_limit) : json_null(), "cpu_max",
                         res->has_cpu_quota ? json_string(cpu) : json_null());
}

static json_t *layers_json(const struct run_confine *c)
{
        json_t *req = json_array(), *unav = json_array();
        for (int l = 0; c && req && l < _CONFINE_MAX; l++)
                if (c->required & CONFINE_BIT(l))
                        json_array_append_new(req, json_string(confine_layer_to_string((enum confine_layer) l)));
        for (size_t i = 0; c && unav && i < c->n_unavailable; i++)
                json_array_append_new(unav, json_string(c->unavailable[i]));
        return json_pack("{s:o,s:o}", "required", req, "unavailable", unav);
}

static json_t *enforced_json(const struct run_report *r)
{
        const struct spec *s = r->spec;
        json_t *ns = json_array();
        for (int t = 0; ns && t < _NS_TYPE_MAX; t++)
                if (s->namespaces[t].enabled)
                        json_array_append_new(ns, json_string(spec_ns_type_to_string(t)));
        return json_pack(
                "{s:o,s:o,s:o,s:o,s:b,s:{s:o,s:o},s:{s:s,s:i,s:o},s:o,s:o,s:o,s:s,s:b,s:o,s:{s:I,s:I},s:o,s:o}",
                "uid_map", maps_json(r->uid_map, r->n_uid_map), "gid_map", maps_json(r->gid_map, r->n_gid_map),
                "capabilities", caps_json(s->process.caps[CAPSET_BOUNDING]), "namespaces", ns, "no_new_privileges",
                s->process.no_new_privileges, "seccomp", "profile", str_or_null(r->seccomp_profile), "sha256",
                str_or_null(r->seccomp_sha256), "landlock", "mode", r->landlock_mode ? r->landlock_mode : "default",
                "abi", r->landlock_abi, "rules", str_or_null(r->landlock_rules), "apparmor",
                str_or_null(s->process.apparmor_profile), "selinux", str_or_null(s->process.selinux_label),
                "selinux_mount", str_or_null(s->mount_label), "network", r->network_host ? "host" : "none",
                "read_only_root", r->read_only, "mounts", mounts_json(s), "user", "uid", (json_int_t) s->process.uid,
                "gid", (json_int_t) s->process.gid, "limits", limits_json(&s->resources), "layers",
                layers_json(r->confine));
}

int run_write_report(const char *path, const struct run_report *r, struct herror *err)
{
        const struct run_result *res = r->result;
        const struct rusage *ru = &res->rusage;
        _cleanup_json_ json_t *j = json_pack(
                "{s:i,s:s,s:s?,s:s,s:s,s:{s:s,s:o,s:o,s:o,s:o,s:o},"
                " s:{s:i,s:o,s:b,s:o,s:I,s:I,s:I,s:I},s:o}",
                "version", 1, "container_id", r->container_id, "name", r->name, "image", r->image, "image_digest",
                r->image_digest, "trust", "verdict", r->verdict, "reason", str_or_null(r->verdict_reason), "scope",
                str_or_null(r->scope), "key_id", str_or_null(r->key_id), "policy", str_or_null(r->policy),
                "policy_sha256", str_or_null(r->policy_sha256), "exit", "status", res->status, "signal",
                res->signal ? json_integer(res->signal) : json_null(), "timed_out", res->timed_out,
                /* only a memory cgroup of its own tells an OOM kill from another SIGKILL */
                "oom_killed", res->oom_killed < 0 ? json_null() : json_boolean(res->oom_killed), "wall_ms",
                (json_int_t) (res->wall_ns / 1000000), "cpu_user_ms",
                (json_int_t) (ru->ru_utime.tv_sec * 1000 + ru->ru_utime.tv_usec / 1000), "cpu_system_ms",
                (json_int_t) (ru->ru_stime.tv_sec * 1000 + ru->ru_stime.tv_usec / 1000), "peak_rss_kb",
                (json_int_t) ru->ru_maxrss, "enforced", enforced_json(r));
        if (!j)
                return herror_set(err, ENOMEM, "--report: build the report");
        _cleanup_free_ char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (!text)
                return herror_set(err, ENOMEM, "out of memory");
        size_t len = strlen(text);
        text[len] = '\n';
        _cleanup_free_ char *dcopy = strdup(path), *bcopy = strdup(path);
        if (!dcopy || !bcopy)
                return herror_set(err, ENOMEM, "out of memory");
        _cleanup_close_ int dfd = open(dirname(dcopy), O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return herror_sys(err, errno, "--report %s: its directory", path);
        int rr = atomic_write_at(dfd, basename(bcopy), text, len + 1, 0644, err);
        return rr < 0 ? herror_wrap(err, "--report %s", path) : 0;
}
