/* A user namespace made ahead of the container's init. newuidmap and newgidmap cost about a millisecond
 * each (two setuid execs): written into a namespace that exists before the init does, they run while
 * the launcher still builds the spec and while the init creates its other namespaces, instead of
 * after the clone with the init waiting. A holder process sits in the namespace until its maps are
 * written; the init joins it with setns() and the namespace lives on through the fd. Cheaper still, when
 * the caller names the user's pause namespace (sandbox/pause.h), the holder's namespace is made inside
 * it and mapped with plain writes: no setuid exec on the launch path at all. */
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
        int net_ready;            /* the holder reports its network namespace made here; -1: none asked */
        int netfd;                /* that namespace once reported, -1 before */
        bool with_net;
        pid_t maker;   /* making the namespace inside the pause namespace; 0: done or not used */
        int maker_res; /* its report */
};

#define SANDBOX_USERNS_INIT                                                                                  \
        {                                                                                                    \
                .fd = -1, .holder = 0, .holder_pidfd = -1, .holder_pipe = -1, .pending = IDMAP_PENDING_INIT, \
                .net_ready = -1, .netfd = -1, .maker = 0, .maker_res = -1                                    \
        }

/* Check the ranges (idmap_plan_ranges), create the namespace and start writing its maps. m's arrays
 * are kept by reference until sandbox_userns_release. via, when not NULL, is the map of the user's pause
 * namespace (sandbox/pause.h), covering every host ID of m: the namespace is then made inside that one,
 * with no setuid helper at all, unless HUTCH_USERNS_PAUSE=off or the pause namespace cannot be had (then
 * newuidmap and newgidmap, as without via). with_net: the holder also makes the container's network
 * namespace (lo up) in the new user namespace, while the caller goes on (sandbox_userns_netns). */
int sandbox_userns_prepare(const struct idmap_ranges *m, const struct idmap_ranges *via, bool with_net,
                           struct sandbox_userns *ret, struct herror *err);
/* The network namespace asked for with with_net, once the holder made it (waits for that); the fd
 * stays u's. -ENOENT without with_net. */
int sandbox_userns_netns(struct sandbox_userns *u, struct herror *err);
/* Bring up lo in the current network namespace; on failure -errno and *ret_step names what failed. */
int sandbox_loopback_up(const char **ret_step);
/* true once prepare succeeded (the namespace may still be in the making) */
bool sandbox_userns_prepared(const struct sandbox_userns *u);
/* Wait until the namespace exists (fd set); its maps may still be in the writing (see finish). A failure
 * inside the pause namespace falls back to newuidmap and newgidmap here. */
int sandbox_userns_made(struct sandbox_userns *u, struct herror *err);
/* Wait until the maps are written (at once when they were written directly, or already waited for);
 * the holder goes. */
int sandbox_userns_finish(struct sandbox_userns *u, struct herror *err);
/* true when the namespace was prepared with exactly the spec's uid and gid mappings. */
bool sandbox_userns_matches(const struct sandbox_userns *u, const struct spec *s);
/* Reap the holder and any helper still running; close the namespace. Safe on SANDBOX_USERNS_INIT. */
void sandbox_userns_release(struct sandbox_userns *u);
