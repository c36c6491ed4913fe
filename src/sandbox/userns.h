/* A user namespace made ahead of the container's init. newuidmap and newgidmap cost about a millisecond
 * each (two setuid execs): written into a namespace that exists before the init does, they run while
 * the launcher still builds the spec and while the init creates its other namespaces, instead of
 * after the clone with the init waiting. A holder process sits in the namespace until its maps are
 * written; the init joins it with setns() and the namespace lives on through the fd. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "sandbox/idmap.h"
#include "spec/spec.h"
#include "util/error.h"

struct sandbox_userns {
        int fd;                 /* the namespace (/proc/HOLDER/ns/user), -1: none */
        pid_t holder;           /* 0 once reaped */
        int holder_pidfd;       /* -1 once reaped */
        int holder_pipe;        /* write end; the holder exits at its EOF */
        struct idmap_plan plan; /* how the maps were written; the init needs deny_setgroups */
        struct idmap_pending pending;
        struct idmap_ranges maps; /* the caller's, which must outlive the namespace */
};

#define SANDBOX_USERNS_INIT                                                                                 \
        {                                                                                                   \
                .fd = -1, .holder = 0, .holder_pidfd = -1, .holder_pipe = -1, .pending = IDMAP_PENDING_INIT \
        }

/* Check the ranges (idmap_plan_ranges), create the namespace and start writing its maps. m's arrays
 * are kept by reference until sandbox_userns_release. */
int sandbox_userns_prepare(const struct idmap_ranges *m, struct sandbox_userns *ret, struct herror *err);
/* Wait until the maps are written (at once when they were written directly, or already waited for);
 * the holder goes. */
int sandbox_userns_finish(struct sandbox_userns *u, struct herror *err);
/* true when the namespace was prepared with exactly the spec's uid and gid mappings. */
bool sandbox_userns_matches(const struct sandbox_userns *u, const struct spec *s);
/* Reap the holder and any helper still running; close the namespace. Safe on SANDBOX_USERNS_INIT. */
void sandbox_userns_release(struct sandbox_userns *u);
