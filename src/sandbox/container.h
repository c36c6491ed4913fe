/* Launching a container from a validated spec: the only entry into the dangerous code.
 *
 * Process model (runc-like, no daemon): the container init is the caller's direct child; it sets up
 * everything, then (create/start split) blocks opening exec.fifo for writing in the state directory
 * until `start` opens it for reading, then execs the workload directly. pid 1 of the container is the
 * workload itself (see docs/pid1.md). With a user namespace, a first process joins it (a prepared one,
 * see userns.h, or one named by path), makes the other namespaces and forks the pid 1 as the caller's
 * child (CLONE_PARENT), then exits: unshare(CLONE_NEWPID) only applies to children. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "sandbox/cgroup.h"
#include "sandbox/fuse-overlay.h"
#include "sandbox/landlock.h"
#include "sandbox/mounts.h"
#include "sandbox/userns.h"
#include "spec/spec.h"
#include "util/error.h"

#define SANDBOX_EXEC_FIFO "exec.fifo"

struct sandbox;

struct sandbox_opts {
        int bundle_dirfd;        /* root.path is resolved relative to this */
        const char *bundle_path; /* absolute; the init re-opens it in its own mount namespace */
        int state_dirfd;         /* holds exec.fifo (created by sandbox_create); -1: no start gate, exec at once */
        int console_socket_fd;   /* -1 = none; with process.terminal the pty master is sent here (SCM_RIGHTS) */
        unsigned preserve_fds;   /* fds 3 .. 3+N-1 are passed on (plus $LISTEN_FDS) */
        bool no_pivot; /* accepted for compatibility; hutch always pivots (error if asked otherwise? no: pivot anyway) */
        const char *container_id;             /* for messages */
        bool die_with_parent;                 /* PDEATHSIG: the container dies with the launcher (run, not create) */
        enum landlock_mode landlock;          /* default (0): best effort; the spec's annotation overrides */
        const struct rootfs_overlay *overlay; /* NULL: root.path is bind-mounted (the runtime CLI) */
        bool systemd_cgroup; /* --systemd-cgroup: cgroupsPath is systemd's "slice:prefix:name", not a path */
        /* Called in the launcher once the init has its ID maps and is setting up its rootfs, before the
         * launcher waits for it: slow work (a durable audit record) overlaps the setup instead of following
         * it. sb has pid and the Landlock ABI the init will apply (checked when it reports ready). An error
         * stops the launch. */
        int (*during_setup)(const struct sandbox *sb, void *userdata, struct herror *err);
        void *userdata;
        /* A new user namespace the caller prepared early (sandbox_userns_prepare, with the spec's
         * mappings), so its ID maps were written while the spec was built; NULL or none prepared
         * (fd -1): made here.
         * sandbox_create uses it up (released, whatever the outcome). */
        struct sandbox_userns *userns;
};

struct sandbox {
        pid_t pid;                     /* host pid of the container's init */
        int pidfd;                     /* owned; -1 after close */
        unsigned long long start_time; /* field 22 of /proc/PID/stat: tells this process from a reused pid */
        int landlock_abi;              /* the Landlock ABI the init applied, 0 = none */
        bool exec_failed;              /* set also when sandbox_create fails: everything was ready but the
                                       * command cannot be run (err->errnum ENOENT: not found, else not
                                       * executable), so a launcher can exit 127/126 as podman does */
        struct cgroup_leaf cgroup;     /* the container's cgroup when limits were asked for (fd -1: none);
                                       * the launcher removes it (cgroup_remove) when the container ends */
        struct fuse_daemon fuse;       /* the fuse-overlayfs serving the rootfs (overlay fallback), pid 0 if none;
                                       * stopped and reaped by sandbox_wait() and sandbox_release() */
};

#define SANDBOX_INIT                                                                                         \
        {                                                                                                    \
                .pid = 0, .pidfd = -1, .start_time = 0, .cgroup = CGROUP_LEAF_INIT, .fuse = FUSE_DAEMON_INIT \
        }

/* Clone the init into its namespaces (and, with linux.resources limits, into a new cgroup holding
 * them), map IDs (newuidmap/newgidmap when more than the caller's own ID is mapped), set up the rootfs
 * and mounts, and return once the init is waiting at the start gate (or, with state_dirfd == -1, once
 * it is about to exec). On failure nothing is left running or behind and err says what failed in which
 * step. */
int sandbox_create(const struct spec *spec, const struct sandbox_opts *opts, struct sandbox *ret, struct herror *err);

/* Open the start gate of a created container: the init execs the workload. */
int sandbox_start(int state_dirfd, struct herror *err);

/* Wait for the init to end (then for the fuse-overlayfs daemon, if any). *ret_status follows the
 * shell/podman convention: exit code, or 128 + signal number when killed by a signal. */
int sandbox_wait(struct sandbox *s, int *ret_status, struct herror *err);

/* Read field 22 (starttime) of /proc/PID/stat; 0 if the process is gone. */
unsigned long long sandbox_process_start_time(pid_t pid);
/* true when pid is alive, not a zombie, and still the process that had start_time. */
bool sandbox_process_alive(pid_t pid, unsigned long long start_time);
/* Signal the init (pidfd_send_signal on a pidfd checked against start_time). all = every process of
 * the container's pid namespace. */
int sandbox_kill(pid_t pid, unsigned long long start_time, int sig, bool all, struct herror *err);
/* Closes the pidfd and the cgroup fds (the cgroup itself stays: cgroup_remove removes it). */
void sandbox_release(struct sandbox *s);

struct sandbox_exec_opts {
        int console_socket_fd; /* -1 = none */
        int cgroup_fd;         /* the container's cgroup (its limits apply to the new process too); -1 = none */
        unsigned preserve_fds;
        bool die_with_parent;
};

/* Start proc inside the running container whose init is (pid, start_time): join all its namespaces
 * at once through its pidfd, then apply the same confinement the container got (the spec's
 * seccomp filter, credentials, capabilities, no_new_privs). The new process is the caller's child. */
int sandbox_exec(pid_t pid, unsigned long long start_time, const struct spec *container_spec,
                 const struct spec_process *proc, const struct sandbox_exec_opts *o, struct sandbox *ret,
                 struct herror *err);
