/* The syscall probes shared by the test payload (`payload syscall NAME`) and the escape probe
 * (tests/probe/probe.c): one call each of the syscalls a container's default seccomp profile should
 * refuse.
 *
 * Safety: every probe uses arguments that make the call fail harmlessly or do nothing lasting
 * (nonexistent paths, invalid fds, invalid magic numbers, read-only queries), so running them as root on
 * a host without any sandbox changes nothing. Keep it that way when adding probes. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/quota.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "syscalls.h"

/* A path that does not exist anywhere: path-taking probes fail with ENOENT when the call is let through. */
#define NOPATH "/.hutch-payload-nonexistent/x"

#define NO_SYSCALL() (errno = ENOSYS, -1L)

/* A probe's result that is a new fd: closed at once (errno kept), so that nothing stays open. */
static long closed(long fd)
{
        int e = errno;
        if (fd >= 0)
                close((int) fd);
        errno = e;
        return fd;
}

const char *syscall_errno_name(int e)
{
        static char buf[32];
        const char *n = strerrorname_np(e);
        if (n)
                return n;
        snprintf(buf, sizeof buf, "E%d", e);
        return buf;
}

static long probe_mount(void)
{
        return mount("none", NOPATH, "tmpfs", 0, NULL);
}
static long probe_umount2(void)
{
        return umount2(NOPATH, 0);
}

static long probe_keyctl(void)
{
        /* KEYCTL_GET_KEYRING_ID (0) of the thread keyring (-1), create=0: a lookup that creates nothing. */
        return syscall(SYS_keyctl, 0, -1, 0, 0, 0);
}

static long probe_add_key(void)
{
        /* No such key type: nothing can be added. */
        return syscall(SYS_add_key, "hutchpayloadnotatype", "d", "x", 1, -2 /* KEY_SPEC_PROCESS_KEYRING */);
}

static long probe_request_key(void)
{
        return syscall(SYS_request_key, "hutchpayloadnotatype", "d", NULL, 0);
}

static long probe_unshare_user(void)
{
        return unshare(CLONE_NEWUSER);
}
static long probe_unshare_mnt(void)
{
        return unshare(CLONE_NEWNS);
}
static long probe_setns(void)
{
        return setns(-1, 0);
}

static long probe_bpf(void)
{
        /* BPF_MAP_CREATE (0) with map_type 0 (BPF_MAP_TYPE_UNSPEC): invalid, creates nothing. */
        uint64_t attr[16] = { 0 };
#ifdef SYS_bpf
        return syscall(SYS_bpf, 0, attr, sizeof attr);
#else
        (void) attr;
        return NO_SYSCALL();
#endif
}

static long probe_perf_event_open(void)
{
        /* struct perf_event_attr with size PERF_ATTR_SIZE_VER0 (64) and an unknown type. */
        uint32_t attr[32] = { 0 };
        attr[0] = 0x7fffffff; /* type */
        attr[1] = 64;         /* size */
        return closed(syscall(SYS_perf_event_open, attr, 0, -1, -1, 0));
}

static long probe_userfaultfd(void)
{
#ifdef SYS_userfaultfd
        return closed(syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK));
#else
        return NO_SYSCALL();
#endif
}

static long probe_io_uring_setup(void)
{
        /* 0 entries is invalid: no ring is ever created. */
        uint32_t params[30] = { 0 };
#ifdef SYS_io_uring_setup
        return syscall(SYS_io_uring_setup, 0, params);
#else
        (void) params;
        return NO_SYSCALL();
#endif
}

static long probe_open_by_handle_at(void)
{
        /* handle_bytes 0 is invalid (EINVAL once past the CAP_DAC_READ_SEARCH check). */
        struct file_handle fh = { .handle_bytes = 0, .handle_type = 0 };
        return open_by_handle_at(AT_FDCWD, &fh, O_RDONLY | O_CLOEXEC);
}

static long probe_name_to_handle_at(void)
{
        char buf[sizeof(struct file_handle) + MAX_HANDLE_SZ];
        struct file_handle *fh = (struct file_handle *) buf;
        int mount_id;
        fh->handle_bytes = MAX_HANDLE_SZ;
        return name_to_handle_at(AT_FDCWD, "/", fh, &mount_id, 0);
}

static long probe_kexec_load(void)
{
        /* Too many segments, unknown flag bits and a foreign architecture: EINVAL three times over,
         * never a load (and nr_segments != 0 so it can never mean "unload" either). */
#ifdef SYS_kexec_load
        return syscall(SYS_kexec_load, 0UL, 0xffffUL, NULL, 0xffff8000UL);
#else
        return NO_SYSCALL();
#endif
}

static long probe_init_module(void)
{
        /* A zero-length image is not an ELF module: ENOEXEC/EINVAL once past CAP_SYS_MODULE. */
        static const char empty[1];
        return syscall(SYS_init_module, empty, 0UL, "");
}

static long probe_finit_module(void)
{
        return syscall(SYS_finit_module, -1, "", 0);
}

static long probe_delete_module(void)
{
        return syscall(SYS_delete_module, "hutch_payload_no_such_module", O_NONBLOCK);
}

static long probe_pivot_root(void)
{
        return syscall(SYS_pivot_root, NOPATH, NOPATH);
}
static long probe_chroot(void)
{
        return chroot(NOPATH);
}
static long probe_swapon(void)
{
        return syscall(SYS_swapon, NOPATH, 0);
}
static long probe_swapoff(void)
{
        return syscall(SYS_swapoff, NOPATH);
}

static long probe_reboot(void)
{
        /* Wrong magic and an unknown command: EINVAL once past CAP_SYS_BOOT, never a reboot. */
        return syscall(SYS_reboot, 0x12345678, 0x1234, 0x7fedcba9, NULL);
}

static long probe_clock_settime(void)
{
        /* CLOCK_MONOTONIC cannot be set: EINVAL when let through, nothing changes. */
        struct timespec ts = { 0 };
        return syscall(SYS_clock_settime, CLOCK_MONOTONIC, &ts);
}

static long probe_settimeofday(void)
{
        /* Neither a time nor a zone: a no-op that still goes through the CAP_SYS_TIME check. */
        return syscall(SYS_settimeofday, NULL, NULL);
}

static long probe_iopl(void)
{
#ifdef SYS_iopl
        return syscall(SYS_iopl, 0); /* level 0 only ever lowers the I/O privilege */
#else
        return NO_SYSCALL();
#endif
}

static long probe_ioperm(void)
{
#ifdef SYS_ioperm
        return syscall(SYS_ioperm, 0xffffUL, 2UL, 0); /* past the 65536 ports, and turn_on=0 */
#else
        return NO_SYSCALL();
#endif
}

static long probe_quotactl(void)
{
        char buf[256];
        return quotactl(QCMD(Q_GETQUOTA, USRQUOTA), NOPATH, 0, buf);
}

static long probe_personality(void)
{
        long old = personality(0xffffffff);
        if (old < 0)
                return old;
        long r = personality((unsigned long) old | READ_IMPLIES_EXEC);
        int e = errno;
        personality((unsigned long) old);
        errno = e;
        return r;
}

static long probe_ptrace(void)
{
        /* Above PID_MAX_LIMIT: no such process (ESRCH) when let through; nothing is ever stopped. */
        return ptrace(PTRACE_ATTACH, (pid_t) 0x3fffffff, NULL, NULL);
}

struct clone_args_v0 {
        uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

static long probe_clone3_newuser(void)
{
#ifdef SYS_clone3
        struct clone_args_v0 args = { .flags = CLONE_NEWUSER, .exit_signal = SIGCHLD };
        long pid = syscall(SYS_clone3, &args, sizeof args);
        if (pid == 0)
                syscall(SYS_exit, 0);
        if (pid > 0)
                waitpid((pid_t) pid, NULL, 0);
        return pid;
#else
        return NO_SYSCALL();
#endif
}

static long probe_clone_newuser(void)
{
        /* Classic clone (flags in a register, visible to seccomp), fork-like: no new stack. */
        long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, NULL, NULL, 0);
        if (pid == 0)
                syscall(SYS_exit, 0);
        if (pid > 0)
                waitpid((pid_t) pid, NULL, 0);
        return pid;
}

static long probe_mknod(void)
{
        return mknod(NOPATH, S_IFCHR | 0600, makedev(1, 3));
}

static long probe_fsopen(void)
{
#ifdef SYS_fsopen
        return syscall(SYS_fsopen, "hutchpayloadnotafs", 1 /* FSOPEN_CLOEXEC */);
#else
        return NO_SYSCALL();
#endif
}

static long probe_fsmount(void)
{
#ifdef SYS_fsmount
        return syscall(SYS_fsmount, -1, 1 /* FSMOUNT_CLOEXEC */, 0);
#else
        return NO_SYSCALL();
#endif
}

static long probe_fsconfig(void)
{
#ifdef SYS_fsconfig
        return syscall(SYS_fsconfig, -1, 6 /* FSCONFIG_CMD_CREATE */, NULL, NULL, 0);
#else
        return NO_SYSCALL();
#endif
}

static long probe_fspick(void)
{
#ifdef SYS_fspick
        return syscall(SYS_fspick, -1, "", 0x1 | 0x8 /* FSPICK_CLOEXEC | FSPICK_EMPTY_PATH */);
#else
        return NO_SYSCALL();
#endif
}

static long probe_move_mount(void)
{
#ifdef SYS_move_mount
        return syscall(SYS_move_mount, -1, "", -1, "", 0x4 | 0x40 /* MOVE_MOUNT_F_EMPTY_PATH | T_EMPTY_PATH */);
#else
        return NO_SYSCALL();
#endif
}

static long probe_open_tree(void)
{
#ifdef SYS_open_tree
        return closed(syscall(SYS_open_tree, AT_FDCWD, NOPATH, 1 /* OPEN_TREE_CLONE */ | O_CLOEXEC));
#else
        return NO_SYSCALL();
#endif
}

static long probe_mount_setattr(void)
{
#ifdef SYS_mount_setattr
        return syscall(SYS_mount_setattr, -1, "", 0x1000 /* AT_EMPTY_PATH */, NULL, 0);
#else
        return NO_SYSCALL();
#endif
}

static long probe_lookup_dcookie(void)
{
#ifdef SYS_lookup_dcookie
        return syscall(SYS_lookup_dcookie, 0ULL, NULL, 0UL);
#else
        return NO_SYSCALL();
#endif
}

static long probe_acct(void)
{
        return acct(NOPATH);
} /* the file cannot be opened: accounting unchanged */

static long probe_syslog(void)
{
        return syscall(SYS_syslog, 10 /* SYSLOG_ACTION_SIZE_BUFFER: a read-only query */, NULL, 0);
}

static long probe_vhangup(void)
{
        /* A new session has no controlling terminal, so even an allowed vhangup() hangs nothing up.
         * (Probes run in a forked child, which is never a process group leader: setsid() works.) */
        if (setsid() < 0)
                return -1;
        return vhangup();
}

static long probe_nfsservctl(void)
{
#ifdef SYS_nfsservctl
        return syscall(SYS_nfsservctl, 0, NULL, NULL);
#else
        return NO_SYSCALL();
#endif
}

static long probe_sethostname(void)
{
        /* 65 bytes is over __NEW_UTS_LEN: EINVAL once past CAP_SYS_ADMIN, the name never changes. */
        static const char name[80] = "hutch-payload";
        return sethostname(name, 65);
}

static long probe_tiocsti(void)
{
        /* The classic terminal-injection ioctl (CVE-2017-5226), on fd -1: EBADF when let through. */
        char c = 'x';
        return ioctl(-1, TIOCSTI, &c);
}

const struct syscall_probe syscall_probes[] = {
        { "mount", probe_mount },
        { "umount2", probe_umount2 },
        { "keyctl", probe_keyctl },
        { "add_key", probe_add_key },
        { "request_key", probe_request_key },
        { "unshare-user", probe_unshare_user },
        { "unshare-mnt", probe_unshare_mnt },
        { "setns", probe_setns },
        { "bpf", probe_bpf },
        { "perf_event_open", probe_perf_event_open },
        { "userfaultfd", probe_userfaultfd },
        { "io_uring_setup", probe_io_uring_setup },
        { "open_by_handle_at", probe_open_by_handle_at },
        { "name_to_handle_at", probe_name_to_handle_at },
        { "kexec_load", probe_kexec_load },
        { "init_module", probe_init_module },
        { "finit_module", probe_finit_module },
        { "delete_module", probe_delete_module },
        { "pivot_root", probe_pivot_root },
        { "chroot", probe_chroot },
        { "swapon", probe_swapon },
        { "swapoff", probe_swapoff },
        { "reboot", probe_reboot },
        { "clock_settime", probe_clock_settime },
        { "settimeofday", probe_settimeofday },
        { "iopl", probe_iopl },
        { "ioperm", probe_ioperm },
        { "quotactl", probe_quotactl },
        { "personality", probe_personality },
        { "ptrace", probe_ptrace },
        { "clone3-newuser", probe_clone3_newuser },
        { "clone-newuser", probe_clone_newuser },
        { "mknod", probe_mknod },
        { "fsopen", probe_fsopen },
        { "fsmount", probe_fsmount },
        { "fsconfig", probe_fsconfig },
        { "fspick", probe_fspick },
        { "move_mount", probe_move_mount },
        { "open_tree", probe_open_tree },
        { "mount_setattr", probe_mount_setattr },
        { "lookup_dcookie", probe_lookup_dcookie },
        { "acct", probe_acct },
        { "syslog", probe_syslog },
        { "vhangup", probe_vhangup },
        { "nfsservctl", probe_nfsservctl },
        { "sethostname", probe_sethostname },
        { "tiocsti", probe_tiocsti },
};

const size_t n_syscall_probes = sizeof syscall_probes / sizeof syscall_probes[0];

/* Run the probe in a child: a seccomp kill action then shows as a signal instead of killing the caller,
 * and whatever the probe changes (namespaces, personality, session) dies with the child. The child's
 * exit status carries 0 or the errno. */
long syscall_probe_run(const struct syscall_probe *p, int *ret_killed_by)
{
        *ret_killed_by = 0;
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                errno = 0;
                long r = p->probe();
                _exit(r >= 0 ? 0 : errno > 0 && errno < 256 ? errno : 255);
        }
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -1;
        if (WIFSIGNALED(status)) {
                *ret_killed_by = WTERMSIG(status);
                return -1;
        }
        errno = WEXITSTATUS(status);
        return errno ? -1 : 0;
}

const struct syscall_probe *syscall_probe_find(const char *name)
{
        for (size_t i = 0; i < n_syscall_probes; i++)
                if (strcmp(syscall_probes[i].name, name) == 0)
                        return &syscall_probes[i];
        return NULL;
}
