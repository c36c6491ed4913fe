/* The typed OCI runtime spec. config.json is parsed into this at the edge (spec/parse.c) and checked
 * (spec/validate.c) before any fork; the sandbox only ever sees this struct, never JSON. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

#define SPEC_MAX_CONFIG_SIZE (4u << 20)
#define SPEC_MAX_MOUNTS 1024
#define SPEC_MAX_IDMAPS 340 /* the kernel's uid_map limit */
#define SPEC_MAX_SECCOMP_RULES 4096
#define SPEC_MAX_ARGS 9000 /* bubblewrap's MAX_ARGS */
/* off | default | required: how hard Landlock confinement is asked for (sandbox/landlock.h) */
#define SPEC_ANNOTATION_LANDLOCK "io.github.hutch.landlock"

enum spec_cap_set {
        CAPSET_BOUNDING,
        CAPSET_EFFECTIVE,
        CAPSET_INHERITABLE,
        CAPSET_PERMITTED,
        CAPSET_AMBIENT,
        _CAPSET_MAX
};

struct spec_idmap {
        uint32_t container_id;
        uint32_t host_id;
        uint32_t size;
};

struct spec_rlimit {
        int resource; /* RLIMIT_* */
        uint64_t soft;
        uint64_t hard;
};

struct spec_process {
        bool terminal;
        uint32_t console_height, console_width;
        uint32_t uid, gid;
        bool has_umask;
        uint32_t umask;
        uint32_t *additional_gids;
        size_t n_additional_gids;
        char **args;
        char **env;
        char *cwd;
        bool has_caps;              /* "capabilities" present: else all sets empty */
        uint64_t caps[_CAPSET_MAX]; /* bit n = capability n */
        bool no_new_privileges;
        char *apparmor_profile;
        char *selinux_label;
        bool has_oom_score_adj;
        int32_t oom_score_adj;
        struct spec_rlimit *rlimits;
        size_t n_rlimits;
};

struct spec_mount {
        char *destination;
        char *source; /* may be NULL (e.g. tmpfs) */
        char *type;   /* may be NULL: "bind" implied by options */
        char **options;
        /* derived from options by the parser */
        unsigned long flags;       /* MS_* to set */
        unsigned long clear_flags; /* MS_* explicitly cleared (e.g. "rw", "suid") */
        unsigned long propagation; /* MS_PRIVATE/MS_SLAVE/MS_SHARED/MS_UNBINDABLE (| MS_REC) */
        bool bind;                 /* bind or rbind */
        bool recursive;            /* rbind */
        char *data;                /* the options that are not flags, comma-joined; may be NULL */
};

enum spec_ns_type {
        NS_USER,
        NS_MOUNT,
        NS_PID,
        NS_NET,
        NS_IPC,
        NS_UTS,
        NS_CGROUP,
        NS_TIME,
        _NS_TYPE_MAX,
        _NS_TYPE_INVALID = -EINVAL
};

struct spec_namespace {
        bool enabled; /* listed in linux.namespaces */
        char *path;   /* join this one; NULL = create */
};

/* Seccomp in its OCI form with names kept as strings; sandbox/seccomp.c compiles it. */
enum spec_seccomp_action {
        SECCOMP_ACT_KILL_THREAD,
        SECCOMP_ACT_KILL_PROCESS,
        SECCOMP_ACT_TRAP,
        SECCOMP_ACT_ERRNO,
        SECCOMP_ACT_TRACE,
        SECCOMP_ACT_ALLOW,
        SECCOMP_ACT_LOG,
        SECCOMP_ACT_NOTIFY,
        _SECCOMP_ACT_MAX,
        _SECCOMP_ACT_INVALID = -EINVAL,
};
enum spec_seccomp_op {
        SECCOMP_OP_NE,
        SECCOMP_OP_LT,
        SECCOMP_OP_LE,
        SECCOMP_OP_EQ,
        SECCOMP_OP_GE,
        SECCOMP_OP_GT,
        SECCOMP_OP_MASKED_EQ,
        _SECCOMP_OP_MAX,
        _SECCOMP_OP_INVALID = -EINVAL,
};
#define SPEC_SECCOMP_FLAG_TSYNC (1u << 0)
#define SPEC_SECCOMP_FLAG_LOG (1u << 1)
#define SPEC_SECCOMP_FLAG_SPEC_ALLOW (1u << 2)
#define SPEC_SECCOMP_FLAG_WAIT_KILLABLE_RECV (1u << 3)

struct spec_seccomp_arg {
        uint32_t index;
        uint64_t value;
        uint64_t value_two;
        enum spec_seccomp_op op;
};

struct spec_seccomp_rule {
        char **names;
        enum spec_seccomp_action action;
        bool has_errno_ret;
        uint32_t errno_ret;
        struct spec_seccomp_arg *args;
        size_t n_args;
};

struct spec_seccomp {
        enum spec_seccomp_action default_action;
        bool has_default_errno_ret;
        uint32_t default_errno_ret;
        char **architectures; /* "SCMP_ARCH_X86_64", ... */
        unsigned flags;       /* SPEC_SECCOMP_FLAG_* */
        bool has_flags;
        struct spec_seccomp_rule *rules;
        size_t n_rules;
};

/* Landlock rules from a file (hutch run --security-opt landlock=FILE; format in profiles/landlock/README.md),
 * read at the CLI edge by spec_load_landlock_rules: the sandbox sees only this. */
#define SPEC_LANDLOCK_MAX_PATHS 256
#define SPEC_LANDLOCK_MAX_PORTS 64
enum {
        SPEC_LANDLOCK_READ = 1u << 0,    /* read files, list directories */
        SPEC_LANDLOCK_WRITE = 1u << 1,   /* write and truncate files; create, remove, rename and link entries */
        SPEC_LANDLOCK_EXECUTE = 1u << 2, /* execute files */
};

struct spec_landlock_path {
        char *path;      /* absolute, inside the container, without ".." */
        unsigned access; /* SPEC_LANDLOCK_*, never 0 */
};

struct spec_landlock_rules {
        bool extends_default; /* "extends": "default": hutch's rules plus these; "none": these alone */
        struct spec_landlock_path *paths;
        size_t n_paths;
        uint16_t *tcp_bind, *tcp_connect; /* ports allowed where TCP is fenced (--network none, ABI >= 4) */
        size_t n_tcp_bind, n_tcp_connect;
};

struct spec_kv {
        char *key;
        char *value;
};

struct spec_resources {
        bool any_limit; /* any resource that needs a cgroup was asked for */
        bool has_memory_limit;
        int64_t memory_limit;
        bool has_pids_limit;
        int64_t pids_limit;
        bool has_cpu_quota;
        int64_t cpu_quota;
        uint64_t cpu_period;
};

struct spec_device {
        char *path;
        char type; /* 'c', 'b', 'u', 'p' */
        int64_t major, minor;
        bool has_mode;
        uint32_t mode;
        bool has_uid, has_gid;
        uint32_t uid, gid;
};

struct spec {
        char *oci_version;
        char *root_path;
        bool root_readonly;
        char *hostname;
        char *domainname;
        struct spec_process process;
        struct spec_mount *mounts;
        size_t n_mounts;
        struct spec_namespace namespaces[_NS_TYPE_MAX];
        struct spec_idmap *uid_mappings;
        size_t n_uid_mappings;
        struct spec_idmap *gid_mappings;
        size_t n_gid_mappings;
        struct spec_kv *sysctl;
        size_t n_sysctl;
        struct spec_seccomp *seccomp; /* NULL = no filter */
        char **masked_paths;
        char **readonly_paths;
        unsigned long rootfs_propagation; /* 0 = default (MS_REC|MS_PRIVATE) */
        struct spec_resources resources;
        struct spec_device *devices;
        size_t n_devices;
        char *mount_label;
        char *cgroups_path;
        struct spec_kv *annotations;
        size_t n_annotations;
        /* hutch's own, never read from config.json: set by hutch run; NULL = the default rules */
        struct spec_landlock_rules *landlock_rules;
};

/* parse.c */
int spec_parse(const char *data, size_t len, const char *source, struct spec **ret, struct herror *err);
int spec_load(int bundle_dirfd, const char *name, struct spec **ret, struct herror *err);
int spec_parse_seccomp(void *json_obj, const char *jpath, struct spec_seccomp **ret, struct herror *err);
/* A seccomp profile file, in the OCI form or the Docker / containers-common form (archMap, includes and
 * excludes on caps, arches, minKernel), evaluated for the capabilities in caps (bit n = capability n)
 * and this host. */
int spec_load_seccomp_profile(int dirfd, const char *path, uint64_t caps, struct spec_seccomp **ret,
                              struct herror *err);
int spec_parse_seccomp_profile(const char *data, size_t len, const char *source, uint64_t caps,
                               struct spec_seccomp **ret, struct herror *err);
/* landlock-rules.c: a Landlock rules file (at most 64 KiB; unknown keys, bad paths and ports refused). */
int spec_parse_landlock_rules(const char *data, size_t len, const char *source, struct spec_landlock_rules **ret,
                              struct herror *err);
int spec_load_landlock_rules(int dirfd, const char *path, struct spec_landlock_rules **ret, struct herror *err);
void spec_landlock_rules_free(struct spec_landlock_rules *r);
void spec_free(struct spec *s);
static inline void spec_freep(struct spec **s)
{
        spec_free(*s);
}
#define _cleanup_spec_ _cleanup_(spec_freep)
void spec_seccomp_free(struct spec_seccomp *s);
/* The value of annotation key, or NULL. */
const char *spec_annotation(const struct spec *s, const char *key);
const char *spec_ns_type_to_string(enum spec_ns_type t);
int spec_ns_clone_flag(enum spec_ns_type t);

/* validate.c: a ".." component anywhere in p */
bool spec_path_has_dotdot(const char *p);
/* validate.c: semantic checks, one function per area, before any fork. `rootless` = not real root. */
int spec_validate(const struct spec *s, bool rootless, struct herror *err);
