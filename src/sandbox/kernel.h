/* What the running kernel offers; read-only probes used by --version, doctor and the launcher. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct kernel_features {
        bool userns;         /* an unprivileged user namespace can be created (tried) */
        int landlock_abi;    /* 0 = unavailable */
        bool seccomp_filter; /* SECCOMP_MODE_FILTER usable */
        bool apparmor_enabled;
        bool selinux_enabled;
        char lsms[256];     /* /sys/kernel/security/lsm, or inferred */
        bool lsms_inferred; /* securityfs not mounted: list built from other probes */
        bool openat2;
};

void kernel_probe(struct kernel_features *ret);
int kernel_landlock_abi(void);
/* 0 when Landlock is usable, else why not: ENOSYS = not built into this kernel, EOPNOTSUPP = built but
 * not enabled at boot (missing from lsm=). */
int kernel_landlock_errno(void);
bool kernel_has_openat2(void);
bool kernel_has_seccomp_filter(void);
bool kernel_can_unshare_userns(void);
/* clone3 with CLONE_PIDFD (and CLONE_INTO_CGROUP when cgroup_fd >= 0); without clone3 (ENOSYS) and
 * without a cgroup, clone and pidfd_open. Returns as fork does; exit_signal 0 with CLONE_PARENT.
 * ret_pidfd NULL: no pidfd. */
pid_t kernel_clone_pidfd(uint64_t flags, int exit_signal, int cgroup_fd, int *ret_pidfd);
/* /proc/PID/ns/TYPE, O_CLOEXEC; with a pidfd (>= 0), -ESRCH unless the process is still alive once the
 * namespace is open, so the fd is that process's namespace and not one of a later process given the pid. */
int kernel_open_ns(pid_t pid, int pidfd, const char *type);
/* SIGKILL (through the pidfd when there is one, pid <= 0: nothing to do) and wait for the child. */
void kernel_kill_and_reap(pid_t pid, int pidfd);
