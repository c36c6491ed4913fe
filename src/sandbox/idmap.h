/* User-namespace ID maps: checked against the caller's subordinate ranges before any fork, then
 * written by the parent, directly (own ID only, or as root) or through newuidmap/newgidmap. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "spec/spec.h"
#include "util/error.h"

struct idmap_plan {
        bool use_helpers;       /* newuidmap/newgidmap needed */
        bool deny_setgroups;    /* direct gid_map write by an unprivileged user */
};

/* Decide how the maps can be written and check that every range is allowed for the caller
 * (root: anything; otherwise own ID or inside /etc/subuid and /etc/subgid, matched by name or uid). */
int idmap_plan(const struct spec *s, struct idmap_plan *ret, struct herror *err);
/* Write /proc/PID/{setgroups,uid_map,gid_map}; newuidmap and newgidmap run in parallel. */
int idmap_write(pid_t pid, const struct spec *s, const struct idmap_plan *plan, struct herror *err);
