/* cgroup v2 resource limits (linux.resources: memory, pids, cpu) for one container.
 *
 * Nothing here runs unless a limit was asked for: a container without limits never touches cgroups,
 * so a host without a usable cgroup v2 (a hybrid v1/v2 one, no delegation) still runs containers.
 * With limits, hutch finds the cgroup2 mount and its own cgroup, checks that the controllers are
 * delegated to the caller, makes a leaf cgroup for the container, writes the limits there, and the
 * init is cloned straight into it (clone3 CLONE_INTO_CGROUP). Anything missing is an error naming the
 * cgroup, the controller and the user: limits are never silently dropped.
 *
 * Where the leaf goes (runc's fs2 rule for relative paths, and crun's fallback): the caller's own
 * cgroup normally holds processes (at least hutch), and cgroup v2 lets a non-root cgroup either hold
 * processes or enable controllers for children, never both. So the leaf is made beside the caller's
 * cgroup, in its parent, which holds none: with systemd's Delegate=yes that parent is the user's
 * delegated slice. linux.cgroupsPath "/a/b" is taken from the mount's root, "a/b" from that parent. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec/spec.h"
#include "util/error.h"

enum {
        CGROUP_CPU = 1u << 0,
        CGROUP_MEMORY = 1u << 1,
        CGROUP_PIDS = 1u << 2,
};

#define CGROUP_MAX_DEPTH 32 /* components of a cgroupsPath hutch will create */

struct cgroup_leaf {
        int fd;                  /* the container's cgroup directory; -1 = none */
        int parent_fd;           /* the cgroup it was made in */
        char name[NAME_MAX + 1]; /* its name there */
        char rel[PATH_MAX];      /* its path below the cgroup2 mount, e.g. "user.slice/.../hutch-ID" */
        char path[PATH_MAX];     /* the same with the mount point, for messages */
        unsigned controllers;    /* CGROUP_* limits written */
};

#define CGROUP_LEAF_INIT                  \
        {                                 \
                .fd = -1, .parent_fd = -1 \
        }

/* ---- pure helpers (tests/unit/test-cgroup.c) ---- */

/* The controllers the resources need (CGROUP_*); 0 = no cgroup work at all. */
unsigned cgroup_wanted(const struct spec_resources *r);
/* "memory pids" from a cgroup.controllers or cgroup.subtree_control text; unknown names are ignored. */
unsigned cgroup_parse_controllers(const char *text);
/* "memory, pids" for messages. */
void cgroup_controller_names(unsigned mask, char *buf, size_t size);
/* The cgroup v2 path of the "0::PATH" line of a /proc/PID/cgroup text. -ENOENT: no such line (a
 * cgroup v1-only host), -EINVAL: malformed, -ENAMETOOLONG: does not fit. */
int cgroup_parse_proc_cgroup(const char *text, char *buf, size_t size);
/* The cgroup2 mount of a /proc/self/mountinfo text that holds the cgroup `own`, preferring
 * /sys/fs/cgroup, then /sys/fs/cgroup/unified (a hybrid host): its mount point, and own's path below
 * it ("" for the mount's root). -ENOENT: no cgroup2 mount; -EXDEV: own is outside every cgroup2 mount. */
int cgroup_find_mount(const char *mountinfo, const char *own, char *ret_mount, size_t mount_size, char *ret_rel,
                      size_t rel_size);
/* Where the container's leaf goes, below the mount: *ret_base (an existing cgroup, "" = the root) and
 * then ret_create ("a/b/leaf", made one component at a time). own_rel: the caller's cgroup below the
 * mount; cgroups_path: linux.cgroupsPath or NULL; ignore_path: --systemd-cgroup ("slice:prefix:name"
 * is systemd's, and hutch does not talk to systemd). -EINVAL: a bad cgroupsPath; -ENAMETOOLONG. */
int cgroup_placement(const char *own_rel, const char *cgroups_path, bool ignore_path, const char *id, char *ret_base,
                     size_t base_size, char *ret_create, size_t create_size);
/* The longest common cgroup of two paths below the mount ("" = the root): moving a process between
 * them needs write access to its cgroup.procs. */
void cgroup_common_ancestor(const char *a, const char *b, char *buf, size_t size);
/* "oom_kill N" of a memory.events text. */
int cgroup_parse_oom_kill(const char *events, uint64_t *ret);
/* The text written to memory.max, pids.max and cpu.max; false when that limit is not asked for. */
bool cgroup_limit_text(const struct spec_resources *r, unsigned controller, char *buf, size_t size);

/* ---- the kernel side ---- */

/* Make the container's leaf cgroup with the limits of s written, at the place cgroup_placement gives,
 * below the cgroup2 mount found in /proc/self/mountinfo. id names the leaf ("hutch-ID"). On failure
 * nothing is left behind and err says why in one line (no cgroup v2 mount, controller X not delegated
 * to user U in DIR, ...). */
int cgroup_create(const struct spec *s, const char *id, bool ignore_path, struct cgroup_leaf *ret, struct herror *err);
/* The same below an open cgroup2 directory (or, in tests, any directory laid out like one): mount_fd,
 * mount (its path, for messages) and own_rel (the caller's cgroup below it). */
int cgroup_create_at(int mount_fd, const char *mount, const char *own_rel, const struct spec *s, const char *id,
                     bool ignore_path, struct cgroup_leaf *ret, struct herror *err);
/* Whether cgroup_create could make a container's cgroup with cpu, memory and pids here, without making
 * anything (hutch doctor): 0 with *ret_base, the cgroup the leaf would go in, or the reason it would
 * give in err. */
int cgroup_check(char *ret_base, size_t base_size, struct herror *err);
/* Move pid into the leaf (for kernels without CLONE_INTO_CGROUP); pid 0: the caller. */
int cgroup_enter(const struct cgroup_leaf *l, pid_t pid, struct herror *err);
/* Open a leaf known by its path below the cgroup2 mount (from state.json). -ENOENT: it is gone. */
int cgroup_open_rel(const char *rel, struct cgroup_leaf *ret, struct herror *err);
/* true when the kernel OOM-killed a process of the leaf (memory.events oom_kill > 0). */
int cgroup_oom_killed(const struct cgroup_leaf *l, bool *ret, struct herror *err);
/* Kill whatever is left in the leaf, wait for it to empty (cgroup.events, no polling) and remove it;
 * closes the fds. A leaf that is already gone is not an error. */
int cgroup_remove(struct cgroup_leaf *l, struct herror *err);
/* The same for a leaf known by its path below the cgroup2 mount (hutch-runtime delete). */
int cgroup_remove_rel(const char *rel, struct herror *err);
void cgroup_leaf_close(struct cgroup_leaf *l);
