/* The fuse-overlayfs fallback of the container rootfs (mounts.h), for where native overlayfs is refused
 * in the user namespace (an old kernel, or a filesystem under the image cache that overlayfs will not
 * take as a lower layer).
 *
 * The container's init opens /dev/fuse and creates the FUSE mount itself (detached, in its own user and
 * mount namespaces, with allow_other and default_permissions so the kernel checks permissions), then
 * passes the /dev/fuse descriptor to the launcher, which starts fuse-overlayfs on it ("/dev/fd/3" as the
 * mountpoint: libfuse serves an already mounted connection). The daemon:
 *   - joins the container's user and mount namespaces (as the namespace's root it may read the cache and
 *     write the upper directory, on the container's tmpfs, for every ID the map covers), then takes a
 *     private copy of that mount namespace made before the FUSE mount is attached and before pivot_root,
 *     so it never serves a path through its own mount and sees the host tree the paths name;
 *   - is not in the container's pid namespace: the container cannot signal or trace it;
 *   - is the launcher's child, dies with it (PDEATHSIG), and exits by itself when the container's mount
 *     namespace goes (the kernel aborts the connection); the launcher reaps it after the init.
 * Its output goes to a memory file the launcher reads for error messages. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "util/error.h"

struct fuse_daemon {
        pid_t pid; /* 0: none */
        int pidfd;
        int logfd; /* its stdout and stderr (a memfd) */
};

#define FUSE_DAEMON_INIT                           \
        {                                          \
                .pid = 0, .pidfd = -1, .logfd = -1 \
        }

/* The program: $HUTCH_FUSE_OVERLAYFS (absolute), else fuse-overlayfs found on $PATH. */
int fuse_overlay_find(char *buf, size_t size, struct herror *err);

/* Start the daemon for the container whose init is nspidfd (a pidfd), joining the namespaces in nsflags
 * (CLONE_NEWUSER and/or CLONE_NEWNS), serving fusefd with lowerdir=lower, upperdir=top/upper,
 * workdir=top/work. Returns once the program is executing (or with the step that failed). */
int fuse_overlay_start(int nspidfd, int nsflags, int fusefd, const char *lower, const char *top,
                       struct fuse_daemon *ret, struct herror *err);

/* After the container ended: SIGTERM (the connection is gone or going anyway), then reap. */
void fuse_overlay_stop(struct fuse_daemon *d);

/* For an error message: whether the daemon ended (and how) and the last line it wrote; "" when there is
 * nothing to say. wait_ms: how long to wait for it to end first (an aborted connection, ENOTCONN in the
 * container, means it is exiting: its status is worth the wait). */
void fuse_overlay_describe(const struct fuse_daemon *d, int wait_ms, char *buf, size_t size);
