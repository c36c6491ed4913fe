/* Building OCI configs: the default spec (`hutch-runtime spec`), and later the one `hutch run`
 * builds from an image config and the command line. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "spec/spec.h"
#include "util/error.h"

/* the embedded profiles (scripts/embed-file.py), with their sha256 computed at build time */
extern const char spec_default_seccomp_json[];
extern const unsigned long spec_default_seccomp_json_len;
extern const char spec_default_seccomp_json_sha256[];
/* profiles/seccomp/ci.json: the default plus ptrace, process_vm_*, kcmp and any personality */
extern const char spec_ci_seccomp_json[];
extern const unsigned long spec_ci_seccomp_json_len;
extern const char spec_ci_seccomp_json_sha256[];

/* A seccomp profile as static data (scripts/seccomp-table.py), so hutch run does not parse the default
 * profile's JSON at every launch; spec_seccomp_from_table gives the same struct spec_parse_seccomp would. */
struct spec_seccomp_table_rule {
        const char *const *names; /* NULL-terminated */
        enum spec_seccomp_action action;
        bool has_errno_ret;
        uint32_t errno_ret;
        const struct spec_seccomp_arg *args;
        size_t n_args;
};
struct spec_seccomp_table {
        enum spec_seccomp_action default_action;
        bool has_default_errno_ret;
        uint32_t default_errno_ret;
        const char *const *architectures; /* NULL-terminated, or NULL */
        const struct spec_seccomp_table_rule *rules;
        size_t n_rules;
};
extern const struct spec_seccomp_table spec_default_seccomp_table;
int spec_seccomp_from_table(const struct spec_seccomp_table *t, struct spec_seccomp **ret);

/* runc's `spec` shape, hardened: user/mount/pid/ipc/uts/network/cgroup namespaces, podman's default
 * capabilities with empty inheritable and ambient sets, no_new_privs, a read-only root, masked and
 * read-only paths, and hutch's default seccomp profile. rootless maps 0 to uid/gid (single ID). */
int spec_build_default(bool rootless, uid_t uid, gid_t gid, json_t **ret, struct herror *err);

/* What `hutch run` asks for, already decided by the CLI (image config merged with the options). */
/* hutch run's CLI owns these strings (run_mounts_free); spec_build_run only reads them. */
struct spec_run_mount {
        char *type;        /* "bind" or "tmpfs" ("volume" before the CLI resolved it to a bind) */
        char *source;      /* bind: absolute host path */
        char *destination; /* absolute path inside */
        bool readonly;
        char *options; /* more comma-separated options ("size=64m,mode=1777"), or NULL */
        char relabel;  /* -v ...:z 'z' (shared), :Z 'Z' (private), 0: none; done by the CLI, not the spec */
};

struct spec_run_options {
        bool rootless;
        const char *root_path;
        bool root_readonly;
        bool read_only_tmpfs; /* with root_readonly: tmpfs on /tmp, /var/tmp, /run */
        char *const *args;    /* NULL-terminated */
        char *const *env;     /* NULL-terminated */
        const char *cwd;
        uint32_t uid, gid;
        const uint32_t *additional_gids;
        size_t n_additional_gids;
        bool terminal;
        const char *hostname;
        bool network_host;                          /* else a network namespace of its own with only lo */
        const struct spec_idmap *uid_map, *gid_map; /* rootless: required */
        size_t n_uid_map, n_gid_map;
        char *const *cap_add; /* names with or without CAP_, any case; "all" */
        char *const *cap_drop;
        const struct spec_run_mount *mounts;
        size_t n_mounts;
        char *const *ulimits;                                    /* "nofile=1024[:2048]" as podman takes them */
        const char *apparmor_profile, *selinux_label, *landlock; /* NULL = none (landlock: default) */
        const char *mount_label;                                 /* linux.mountLabel; NULL = none */
        int64_t pids_limit, memory_limit; /* 0 = none; applied through a delegated cgroup v2 (sandbox/cgroup.h) */
        int64_t cpu_quota;                /* microseconds per cpu_period; 0 = none */
        uint64_t cpu_period;
        const char *init_path; /* --init: this host file, read-only at SPEC_INIT_DEST, runs args */
        bool privileged;       /* --privileged: no masked or read-only paths (capabilities,
                                             * seccomp and Landlock are set by the caller's other fields) */
};

/* Where --init's reaper appears inside, as Docker puts docker-init: /dev is hutch's own tmpfs, so the
 * mount point exists also under --read-only. */
#define SPEC_INIT_DEST "/dev/init"

/* podman's syntax for limits, 0 meaning none: --memory "512m", "1.5g", "1048576", "512MiB", "0" or "-1";
 * --pids-limit "100", "0" or "-1"; --cpus "0.5" (-> quota 50000 of period 100000), "0". -EINVAL for
 * anything else, -ERANGE for a memory size over 2^63 or a cpus value below 0.01. */
int spec_parse_memory_option(const char *s, int64_t *ret);
int spec_parse_pids_option(const char *s, int64_t *ret);
int spec_parse_cpus_option(const char *s, int64_t *ret_quota, uint64_t *ret_period);

/* The default spec with o applied, parsed into the typed form (seccomp: the default profile; callers
 * may replace spec->seccomp). Bad names (capabilities, ulimits) are errors naming the option. */
int spec_build_run(const struct spec_run_options *o, struct spec **ret, struct herror *err);
