/* User-namespace ID maps: checked against the caller's subordinate ranges before any fork, then
 * written by the parent, directly (own ID only, or as root) or through newuidmap/newgidmap. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "sandbox/subid.h"
#include "spec/spec.h"
#include "util/error.h"

struct idmap_plan {
        bool use_helpers;    /* newuidmap/newgidmap needed */
        bool deny_setgroups; /* direct gid_map write by an unprivileged user */
};

/* Plain ranges, for callers without a spec (sandbox/isolate.c). */
struct idmap_ranges {
        const struct spec_idmap *uid, *gid;
        size_t n_uid, n_gid;
};

/* Decide how the maps can be written and check that every range is allowed for the caller
 * (root: anything; otherwise own ID or inside /etc/subuid and /etc/subgid, matched by name or uid).
 * A single-ID map denies setgroups (plan.deny_setgroups): no supplementary groups then. */
int idmap_plan_ranges(const struct idmap_ranges *m, struct idmap_plan *ret, struct herror *err);
/* Write /proc/PID/{setgroups,uid_map,gid_map}; newuidmap and newgidmap run in parallel. */
int idmap_write_ranges(pid_t pid, const struct idmap_ranges *m, const struct idmap_plan *plan, struct herror *err);

/* idmap_write_ranges in two halves, so the helpers run while the caller does other work: start writes
 * the maps directly, or starts newuidmap and newgidmap; finish waits for them (and reaps them also when
 * err is NULL). The target must live until finish returns. */
struct helper_run {
        pid_t pid;
        int errfd; /* read end of the helper's stderr */
        char name[16];
};
struct idmap_pending {
        struct helper_run u, g; /* pid 0: not running */
};
#define IDMAP_PENDING_INIT                                                    \
        {                                                                     \
                .u = { .pid = 0, .errfd = -1 }, .g = {.pid = 0, .errfd = -1 } \
        }
int idmap_write_start(pid_t pid, const struct idmap_ranges *m, const struct idmap_plan *plan, struct idmap_pending *ret,
                      struct herror *err);
int idmap_write_finish(struct idmap_pending *p, struct herror *err);
/* Express host-side ranges (container ID -> host ID) as ranges onto the IDs of a user namespace whose
 * own map is parent (its ID -> host ID), so a process in that namespace can write them for a child
 * namespace: each range is split where it crosses from one parent range to the next, as the kernel
 * wants every written range inside one range of the parent's map. Returns how many were written to
 * out (at most max), or -ERANGE when a host ID is outside parent, -E2BIG when out is too small. */
int idmap_translate(const struct spec_idmap *m, size_t n, const struct spec_idmap *parent, size_t n_parent,
                    struct spec_idmap *out, size_t max);
/* The user's own ID (own) at `self` inside, the subordinate ranges everywhere else from 0 up, in file
 * order (hutch run's map with self 0, and the isolated unpacker's: both must agree, or the cache's
 * owners would appear shifted inside containers). At most max entries; returns how many. */
#define IDMAP_USER_MAP_MAX 34
size_t idmap_build_user_map(struct spec_idmap *m, size_t max, uint32_t own, uint32_t self,
                            const struct subid_ranges *sub);
