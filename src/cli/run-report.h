/* `hutch run --report FILE`: what happened and what was actually enforced, as JSON. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>

#include "cli/run-confine.h"
#include "spec/build.h"
#include "spec/spec.h"
#include "util/error.h"

struct run_result {
        int status; /* the exit status hutch returns */
        int signal; /* killed by this signal, else 0 */
        bool timed_out;
        int oom_killed; /* -1: unknown (no memory limit, so no cgroup to ask), else 0 or 1 */
        int64_t wall_ns;
        struct rusage rusage; /* of the reaped container (RUSAGE_CHILDREN) */
};

struct run_report {
        const char *container_id, *name, *image, *image_digest;
        const char *verdict, *verdict_reason, *scope, *key_id, *policy, *policy_sha256;
        const struct spec *spec;
        const char *seccomp_profile, *seccomp_sha256;
        int landlock_abi;
        const char *landlock_mode;
        const char *landlock_rules;        /* the rules file, or NULL */
        const struct run_confine *confine; /* required layers, what was unavailable */
        const struct spec_idmap *uid_map, *gid_map;
        size_t n_uid_map, n_gid_map;
        bool network_host, read_only;
        const struct run_result *result;
};

/* Written temp-then-rename next to path. */
int run_write_report(const char *path, const struct run_report *rep, struct herror *err);
