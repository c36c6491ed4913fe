#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <linux/landlock.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/seccomp.h>

#include "sandbox/kernel.h"
#include "util/cleanup.h"

int kernel_landlock_abi(void)
{
        long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
        return abi < 0 ? 0 : (int) abi;
}

int kernel_landlock_errno(void)
{
        long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
        return abi < 0 ? errno : 0;
}

bool kernel_has_seccomp_filter(void)
{
        return prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0 && access("/proc/sys/kernel/seccomp/actions_avail", R_OK) == 0;
}

bool kernel_has_openat2(void)
{
        struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT };
        long fd = syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof how);
        if (fd < 0)
                return errno != ENOSYS;
        close((int) fd);
        return true;
}

/* Try it rather than read sysctls: Ubuntu's AppArmor restriction and container seccomp both
 * refuse without any sysctl saying so. */
bool kernel_can_unshare_userns(void)
{
        pid_t pid = fork();
        if (pid < 0)
                return false;
        if (pid == 0)
                _exit(unshare(CLONE_NEWUSER) == 0 ? 0 : 1);
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static bool read_first_line(const char *path, char *buf, size_t size)
{
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        if (!f || !fgets(buf, (int) size, f))
                return false;
        buf[strcspn(buf, "\n")] = 0;
        return true;
}

void kernel_probe(struct kernel_features *ret)
{
        char buf[256];
        memset(ret, 0, sizeof *ret);
        ret->userns = kernel_can_unshare_userns();
        ret->landlock_abi = kernel_landlock_abi();
        ret->seccomp_filter = kernel_has_seccomp_filter();
        ret->apparmor_enabled =
                read_first_line("/sys/module/apparmor/parameters/enabled", buf, sizeof buf) && buf[0] == 'Y';
        ret->selinux_enabled = access("/sys/fs/selinux/enforce", F_OK) == 0;
        ret->openat2 = kernel_has_openat2();
        if (read_first_line("/sys/kernel/security/lsm", ret->lsms, sizeof ret->lsms))
                return;
        /* securityfs is not mounted here: say what the other probes show, and that it was inferred. */
        ret->lsms_inferred = true;
        snprintf(ret->lsms, sizeof ret->lsms, "capability%s%s%s", ret->landlock_abi > 0 ? ",landlock" : "",
                 ret->apparmor_enabled ? ",apparmor" : "", ret->selinux_enabled ? ",selinux" : "");
}

int kernel_open_ns(pid_t pid, int pidfd, const char *type)
{
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/ns/%s", (int) pid, type);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (pidfd >= 0 && syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0) {
                close(fd);
                return -ESRCH;
        }
        return fd;
}

void kernel_kill_and_reap(pid_t pid, int pidfd)
{
        if (pid <= 0)
                return;
        if (pidfd >= 0)
                syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
        else
                kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
}

pid_t kernel_clone_pidfd(uint64_t flags, int exit_signal, int cgroup_fd, int *ret_pidfd)
{
        struct clone_args ca = {
                .flags = flags | (ret_pidfd ? CLONE_PIDFD : 0) | (cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0),
                .pidfd = (uint64_t) (uintptr_t) ret_pidfd,
                .exit_signal = (uint64_t) exit_signal,
                .cgroup = cgroup_fd >= 0 ? (uint64_t) cgroup_fd : 0,
        };
        pid_t pid = (pid_t) syscall(SYS_clone3, &ca, sizeof ca);
        if (pid < 0 && errno == ENOSYS && cgroup_fd < 0) {
                pid = (pid_t) syscall(SYS_clone, (unsigned long) flags | (unsigned long) exit_signal, NULL, NULL, NULL,
                                      NULL);
                if (pid > 0 && ret_pidfd)
                        *ret_pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        }
        return pid;
}
