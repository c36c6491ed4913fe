/* The user's pause namespace, as rootless podman's pause process: one user namespace per user, mapped
 * once with newuidmap and newgidmap (two setuid execs, about a millisecond each) and kept by a process
 * that only sleeps. Each container still gets a user namespace of its own, made inside this one and
 * mapped by an ordinary write (the launcher has CAP_SETUID there), so containers share nothing with
 * each other that they did not share before: a container's capabilities reach its own namespace only,
 * never the pause namespace or a sibling's. The host IDs a container sees are the same either way.
 *
 * The process is found through a pid file in $XDG_RUNTIME_DIR/hutch-pause (else /tmp/hutch-pause-UID,
 * used only when it is a directory of the user's, mode 0700), checked by start time and by its maps
 * on every use, and replaced when the maps in /etc/subuid or /etc/subgid changed. HUTCH_USERNS_PAUSE=off
 * turns it off: every launch then runs newuidmap and newgidmap. */
#pragma once

#include <stdbool.h>

#include "sandbox/idmap.h"
#include "util/cleanup.h"
#include "util/error.h"

bool sandbox_pause_enabled(void);
/* An fd (O_CLOEXEC) of the pause namespace whose maps are exactly m, made when none runs with them. */
int sandbox_pause_userns(const struct idmap_ranges *m, int *ret_fd, struct herror *err);
/* The pause process, after the launcher exec'd itself as "hutch-pause": sleeps until killed. */
_noreturn_ void sandbox_pause_main(void);
#define SANDBOX_PAUSE_ARGV0 "hutch-pause"
