/* sandbox_isolated_call: see isolate.h for what the child is allowed. The protocol over the channel
 * (SOCK_SEQPACKET, so every message arrives whole): parent -> child GO once the ID maps are written;
 * child -> parent any number of PROGRESS, then one DONE carrying fn's errno, message and result. */
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <pwd.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/isolate.h"
#include "sandbox/subid.h"

enum isolate_msg_type { MSG_GO = 1, MSG_PROGRESS, MSG_DONE };

struct isolate_msg {
        int32_t type;
        int32_t errnum;
        uint64_t done, total;
        char msg[512];
        unsigned char result[ISOLATE_RESULT_MAX];
};

/* ---- the plan ---- */

/* What unpacking and removal need, nothing more: the file system, memory, and the channel. */
static const char *const allowed_calls[] = {
        "read",
        "write",
        "readv",
        "writev",
        "pread64",
        "pwrite64",
        "lseek",
        "close",
        "close_range",
        "open",
        "openat",
        "openat2",
        "stat",
        "lstat",
        "fstat",
        "newfstatat",
        "statx",
        "fstatfs",
        "statfs",
        "getdents",
        "getdents64",
        "mkdir",
        "mkdirat",
        "mknod",
        "mknodat",
        "symlink",
        "symlinkat",
        "link",
        "linkat",
        "unlink",
        "unlinkat",
        "rmdir",
        "rename",
        "renameat",
        "renameat2",
        "readlink",
        "readlinkat",
        "chmod",
        "fchmod",
        "fchmodat",
        "fchmodat2",
        "chown",
        "lchown",
        "fchown",
        "fchownat",
        "utimensat",
        "access",
        "faccessat",
        "faccessat2",
        "setxattr",
        "lsetxattr",
        "fsetxattr",
        "getxattr",
        "lgetxattr",
        "fgetxattr",
        "listxattr",
        "llistxattr",
        "flistxattr",
        "removexattr",
        "lremovexattr",
        "fremovexattr",
        "ftruncate",
        "fallocate",
        "fsync",
        "fdatasync",
        "syncfs",
        "fcntl",
        "dup",
        "dup2",
        "dup3",
        "umask",
        "chdir",
        "fchdir",
        "getcwd",
        "brk",
        "mmap",
        "munmap",
        "mremap",
        "mprotect",
        "madvise",
        "futex",
        "sched_yield",
        "sched_getaffinity",
        "getrandom",
        "clock_gettime",
        "gettimeofday",
        "time",
        "getpid",
        "gettid",
        "getppid",
        "getuid",
        "geteuid",
        "getgid",
        "getegid",
        "getresuid",
        "getresgid",
        "getgroups",
        "rt_sigreturn",
        "rt_sigprocmask",
        "rt_sigaction",
        "sigaltstack",
        "prlimit64",
        "getrlimit",
        "uname",
        "capget",
        "exit",
        "exit_group",
        "set_robust_list",
        "rseq",
};

/* Named so that a probe sees a plain refusal rather than "not implemented". */
static const char *const refused_calls[] = {
        "socket",
        "socketpair",
        "connect",
        "bind",
        "listen",
        "accept",
        "accept4",
        "sendto",
        "recvfrom",
        "ptrace",
        "process_vm_readv",
        "process_vm_writev",
        "mount",
        "umount2",
        "pivot_root",
        "chroot",
        "fsopen",
        "fsconfig",
        "fsmount",
        "fspick",
        "move_mount",
        "open_tree",
        "mount_setattr",
        "unshare",
        "setns",
        "fork",
        "vfork",
        "execve",
        "execveat",
        "keyctl",
        "add_key",
        "request_key",
        "bpf",
        "io_uring_setup",
        "io_uring_enter",
        "io_uring_register",
        "perf_event_open",
        "userfaultfd",
        "open_by_handle_at",
        "name_to_handle_at",
        "kexec_load",
        "kexec_file_load",
        "init_module",
        "finit_module",
        "delete_module",
        "kcmp",
        "pidfd_open",
        "pidfd_getfd",
        "pidfd_send_signal",
        "kill",
        "ioctl",
        "prctl",
        "setuid",
        "setgid",
        "setresuid",
        "setresgid",
        "setgroups",
        "capset",
};

static int add_calls(scmp_filter_ctx ctx, uint32_t action, const char *const *names, size_t n, struct herror *err)
{
        for (size_t i = 0; i < n; i++) {
                int nr = seccomp_syscall_resolve_name(names[i]);
                if (nr == __NR_SCMP_ERROR)
                        continue; /* not a call of this architecture (open on aarch64, ...) */
                int r = seccomp_rule_add(ctx, action, nr, 0);
                if (r < 0)
                        return herror_set(err, -r, "isolation filter: cannot add %s: %s", names[i], strerror(-r));
        }
        return 0;
}

/* Threads, and nothing else clone can make: the layer stream decompresses in a thread of its own
 * (image/unpack-stream.h). clone3 answers ENOSYS so that glibc falls back to clone, whose flags a filter
 * can see; a clone without CLONE_THREAD (a new process) is refused, one with a namespace flag is not
 * listed (ENOSYS). On s390 clone's flags are its second argument: no threads there (the stream then runs
 * in the unpacker's own thread). */
static int add_thread_calls(scmp_filter_ctx ctx, struct herror *err)
{
        int r = 0; /* clone3 stays unlisted: ENOSYS, the filter's default */
#if !defined(__s390__)
        const uint64_t thread = CLONE_THREAD | CLONE_VM | CLONE_SIGHAND;
        const uint64_t ns = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
                CLONE_NEWNET;
        if (r == 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                                     SCMP_A0(SCMP_CMP_MASKED_EQ, thread | ns, thread));
        if (r == 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                                     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0));
#else
        if (r == 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 0);
#endif
        return r < 0 ? herror_set(err, -r, "isolation filter: cannot add the clone rules: %s", strerror(-r)) : 0;
}

static int build_filter(struct seccomp_program *ret, struct herror *err)
{
        /* ENOSYS for the unlisted: libraries fall back from calls they believe missing. Foreign
         * architectures (the x32 and i386 entry points) kill, libseccomp's default. */
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(ENOSYS));
        if (!ctx)
                return herror_set(err, ENOMEM, "isolation filter: seccomp_init failed");
        seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0); /* set by the child itself */
        int r = add_calls(ctx, SCMP_ACT_ALLOW, allowed_calls, ELEMENTSOF(allowed_calls), err);
        if (r == 0)
                r = add_calls(ctx, SCMP_ACT_ERRNO(EPERM), refused_calls, ELEMENTSOF(refused_calls), err);
        if (r == 0)
                r = add_thread_calls(ctx, err);
        if (r == 0)
                r = seccomp_export_program(ctx, ret, err);
        seccomp_release(ctx);
        return r;
}

/* Root: the identity map (owners kept, capabilities only in the namespace). Rootless: hutch run's
 * map when both subordinate files name the user, else the own ID alone. */
static int plan_maps(struct isolate_plan *p, struct herror *err)
{
        uid_t uid = geteuid();
        gid_t gid = getegid();
        if (uid == 0) {
                p->uid[0] = p->gid[0] = (struct spec_idmap) { .container_id = 0, .host_id = 0, .size = UINT32_MAX };
                p->n_uid = p->n_gid = 1;
                p->keeps_owners = true;
                return idmap_plan_ranges(&(struct idmap_ranges) { p->uid, p->gid, 1, 1 }, &p->how, err);
        }
        struct passwd *pw = getpwuid(uid);
        struct subid_ranges su = { 0 }, sg = { 0 };
        int r = subid_load(false, pw ? pw->pw_name : NULL, uid, &su, err);
        if (r == 0)
                r = subid_load(true, pw ? pw->pw_name : NULL, uid, &sg, err);
        bool both = r == 0 && su.n > 0 && sg.n > 0;
        struct subid_ranges none = { 0 };
        if (r == 0) {
                p->n_uid = idmap_build_user_map(p->uid, IDMAP_USER_MAP_MAX, uid, 0, both ? &su : &none);
                p->n_gid = idmap_build_user_map(p->gid, IDMAP_USER_MAP_MAX, gid, 0, both ? &sg : &none);
                p->keeps_owners = both;
                r = idmap_plan_ranges(&(struct idmap_ranges) { p->uid, p->gid, p->n_uid, p->n_gid }, &p->how, err);
        }
        subid_ranges_free(&su);
        subid_ranges_free(&sg);
        return r;
}

int isolate_plan_init(struct isolate_plan *ret, struct herror *err)
{
        *ret = (struct isolate_plan) { 0 };
        int r = plan_maps(ret, err);
        if (r == 0)
                r = build_filter(&ret->seccomp, err);
        if (r < 0)
                herror_wrap(err, "isolated unpacker");
        return r;
}

void isolate_plan_done(struct isolate_plan *p)
{
        seccomp_program_free(&p->seccomp);
}

/* ---- the child ---- */

struct child_ctx {
        const struct isolate_plan *plan;
        const struct isolate_opts *opts;
        const char *root_path;
        int chan;
        isolate_fn fn;
        void *arg;
};

static _noreturn_ void child_finish(int chan, int errnum, const char *msg, const void *result, size_t size)
{
        struct isolate_msg m = { .type = MSG_DONE, .errnum = errnum };
        snprintf(m.msg, sizeof m.msg, "%s", msg ? msg : "");
        if (result)
                memcpy(m.result, result, size);
        (void) !write(chan, &m, sizeof m);
        _exit(errnum ? EXIT_FAILURE : EXIT_SUCCESS);
}

static _noreturn_ void child_fail(int chan, const struct herror *err)
{
        child_finish(chan, err->errnum ? err->errnum : EINVAL, herror_msg(err), NULL, 0);
}

/* The launcher's fd points into its mount namespace, which open_tree() refuses to clone from:
 * reopen the path here and make sure it is the same directory. */
static int reopen_root(const char *path, int fd, struct herror *err)
{
        int nfd = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (nfd < 0)
                return herror_sys(err, errno, "open %s", path);
        struct stat a, b;
        if (fstat(nfd, &a) < 0 || fstat(fd, &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
                close(nfd);
                return herror_set(err, ESTALE, "%s was replaced during setup", path);
        }
        return nfd;
}

/* The directory becomes a mount of its own and the root; nothing of the old root stays reachable. */
static int child_enter_root(const struct child_ctx *c, struct herror *err)
{
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return herror_sys(err, errno, "make / private");
        _cleanup_close_ int dfd = reopen_root(c->root_path, c->opts->root_fd, err);
        if (dfd < 0)
                return dfd;
        _cleanup_close_ int mfd =
                open_tree(dfd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
        if (mfd < 0)
                return herror_sys(err, errno, "bind %s", c->root_path);
        struct mount_attr attr = { .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC };
        if (mount_setattr(mfd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
                return herror_sys(err, errno, "make %s nosuid,nodev,noexec", c->root_path);
        if (move_mount(mfd, "", dfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return herror_sys(err, errno, "attach %s", c->root_path);
        if (fchdir(mfd) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
                return herror_sys(err, errno, "pivot_root into %s", c->root_path);
        return 0;
}

static bool is_kept(const struct child_ctx *c, int fd)
{
        if (fd == c->chan)
                return true;
        for (size_t i = 0; i < c->opts->n_keep_fds; i++)
                if (c->opts->keep_fds[i] == fd)
                        return true;
        return false;
}

/* Everything but the channel, the kept fds and the new root goes, stdio included: the child has
 * nothing to say but through the channel. The launcher's root fd goes too: it belongs to the old
 * mount tree, and ".." from it would climb out. */
static int child_close_fds(const struct child_ctx *c, int rootfd, struct herror *err)
{
        int hi = c->chan > rootfd ? c->chan : rootfd;
        for (size_t i = 0; i < c->opts->n_keep_fds; i++)
                hi = c->opts->keep_fds[i] > hi ? c->opts->keep_fds[i] : hi;
        int lo = 0;
        for (int fd = 0; fd <= hi; fd++) {
                if (!is_kept(c, fd) && fd != rootfd)
                        continue;
                if (fd > lo && syscall(SYS_close_range, lo, fd - 1, 0) < 0)
                        return herror_sys(err, errno, "close descriptors");
                lo = fd + 1;
        }
        if (syscall(SYS_close_range, lo, ~0U, 0) < 0)
                return herror_sys(err, errno, "close descriptors");
        return 0;
}

static const cap_value_t kept_caps[] = { CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID, CAP_SETFCAP };

static bool cap_kept(cap_value_t v)
{
        for (size_t i = 0; i < ELEMENTSOF(kept_caps); i++)
                if (kept_caps[i] == v)
                        return true;
        return false;
}

static int child_drop_caps(struct herror *err)
{
        /* Up to 63, past what this libcap knows: EINVAL marks the kernel's end. */
        for (cap_value_t v = 0; v < 64; v++)
                if (!cap_kept(v) && prctl(PR_CAPBSET_DROP, v, 0, 0, 0) < 0 && errno != EINVAL)
                        return herror_sys(err, errno, "drop capability %d from the bounding set", v);
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
                return herror_sys(err, errno, "clear the ambient capabilities");
        cap_t caps = cap_init();
        if (!caps)
                return herror_sys(err, errno, "cap_init");
        int r = 0;
        if (cap_set_flag(caps, CAP_EFFECTIVE, ELEMENTSOF(kept_caps), kept_caps, CAP_SET) < 0 ||
            cap_set_flag(caps, CAP_PERMITTED, ELEMENTSOF(kept_caps), kept_caps, CAP_SET) < 0 || cap_set_proc(caps) < 0)
                r = herror_sys(err, errno, "set capabilities");
        cap_free(caps);
        return r;
}

static int child_setup(const struct child_ctx *c, int *ret_rootfd, struct herror *err)
{
        /* A user with subordinate IDs keeps their host groups as "nobody" otherwise. */
        if (!c->plan->how.deny_setgroups && setgroups(0, NULL) < 0)
                return herror_sys(err, errno, "setgroups");
        int r = child_enter_root(c, err);
        if (r < 0)
                return r;
        _cleanup_close_ int rootfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return herror_sys(err, errno, "open the new root");
        if ((r = child_close_fds(c, rootfd, err)) < 0 || (r = child_drop_caps(err)) < 0)
                return r;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return herror_sys(err, errno, "set no_new_privs");
        /* Cleared by some credential changes: armed again after the last one. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
                return herror_sys(err, errno, "set the parent-death signal");
        if ((r = seccomp_program_load(&c->plan->seccomp)) < 0)
                return herror_sys(err, -r, "load the seccomp filter");
        *ret_rootfd = TAKE_FD(rootfd);
        return 0;
}

static _noreturn_ void child_main(const struct child_ctx *c)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        /* After the death signal is armed: a parent gone before that shows as EOF here. */
        struct isolate_msg go;
        if (read(c->chan, &go, sizeof go) != sizeof go || go.type != MSG_GO)
                _exit(EXIT_FAILURE);
        struct isolate_child child = { .rootfd = -1, .chan = c->chan };
        if (child_setup(c, &child.rootfd, &err) < 0)
                child_fail(c->chan, &err);
        unsigned char result[ISOLATE_RESULT_MAX] = { 0 };
        child.result = result;
        if (c->fn(&child, c->arg, &err) < 0)
                child_fail(c->chan, &err);
        child_finish(c->chan, 0, NULL, result, sizeof result);
}

void isolate_progress(const struct isolate_child *c, uint64_t done, uint64_t total)
{
        struct isolate_msg m = { .type = MSG_PROGRESS, .done = done, .total = total };
        (void) !write(c->chan, &m, sizeof m);
}

/* ---- the parent ---- */

#define ISOLATE_NS_FLAGS (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNET)

static pid_t clone_child(int *ret_pidfd)
{
        struct clone_args ca = {
                .flags = ISOLATE_NS_FLAGS | CLONE_PIDFD,
                .pidfd = (uint64_t) (uintptr_t) ret_pidfd,
                .exit_signal = SIGCHLD,
        };
        return (pid_t) syscall(SYS_clone3, &ca, sizeof ca);
}

static int clone_error(int e, struct herror *err)
{
        if (e == EPERM || e == ENOSPC || e == EINVAL || e == EUSERS)
                return herror_sys(err, e,
                                  "cannot create the user namespace that confines unpacking (user namespaces "
                                  "disabled? see 'hutch doctor'; HUTCH_UNPACK_SANDBOX=0 unpacks unconfined)");
        return herror_sys(err, e, "clone the isolated process");
}

static void kill_and_reap(int pidfd)
{
        siginfo_t info;
        syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
        while (waitid((idtype_t) P_PIDFD, (id_t) pidfd, &info, WEXITED) < 0 && errno == EINTR)
                ;
}

/* Messages until DONE or EOF; *ret_done tells which. */
static int parent_read(int chan, const struct isolate_opts *o, struct isolate_msg *done, bool *ret_done,
                       struct herror *err)
{
        for (;;) {
                ssize_t n = read(chan, done, sizeof *done);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return herror_sys(err, errno, "read from the isolated process");
                if (n != sizeof *done)
                        return 0; /* EOF: it died without answering */
                if (done->type == MSG_DONE) {
                        done->msg[sizeof done->msg - 1] = 0;
                        *ret_done = true;
                        return 0;
                }
                if (done->type == MSG_PROGRESS && o->progress)
                        o->progress(done->done, done->total, o->userdata);
        }
}

static int parent_wait(int pidfd, bool answered, struct herror *err)
{
        siginfo_t info = { 0 };
        while (waitid((idtype_t) P_PIDFD, (id_t) pidfd, &info, WEXITED) < 0)
                if (errno != EINTR)
                        return herror_sys(err, errno, "wait for the isolated process");
        if (info.si_code == CLD_EXITED && answered)
                return 0;
        if (info.si_code == CLD_EXITED)
                return herror_set(err, EPIPE, "the isolated process exited (status %d) without an answer",
                                  info.si_status);
        return herror_set(err, EINTR, "the isolated process was killed by signal %d%s", info.si_status,
                          info.si_status == SIGSYS ? " (a call outside its seccomp filter)" : "");
}

static int parent_run(pid_t pid, int pidfd, int chan, const struct isolate_plan *p, const struct isolate_opts *o,
                      struct herror *err)
{
        struct idmap_ranges maps = { p->uid, p->gid, p->n_uid, p->n_gid };
        int r = idmap_write_ranges(pid, &maps, &p->how, err);
        struct isolate_msg m = { .type = MSG_GO };
        if (r == 0 && write(chan, &m, sizeof m) != sizeof m)
                r = herror_sys(err, errno, "signal the isolated process");
        bool answered = false;
        if (r == 0)
                r = parent_read(chan, o, &m, &answered, err);
        if (r < 0) {
                kill_and_reap(pidfd);
                return r;
        }
        if ((r = parent_wait(pidfd, answered, err)) < 0)
                return r;
        if (m.errnum)
                return herror_set(err, m.errnum, "%s", m.msg);
        if (o->result)
                memcpy(o->result, m.result, o->result_size);
        return 0;
}

int sandbox_isolated_call(const struct isolate_plan *p, const struct isolate_opts *o, isolate_fn fn, void *arg,
                          struct herror *err)
{
        if (o->result_size > ISOLATE_RESULT_MAX)
                return herror_set(err, EINVAL, "isolated call: result of %zu bytes is too large", o->result_size);
        char link[64], path[4096];
        snprintf(link, sizeof link, "/proc/self/fd/%d", o->root_fd);
        ssize_t len = readlink(link, path, sizeof path - 1);
        if (len < 0 || path[0] != '/')
                return herror_sys(err, len < 0 ? errno : ENOENT, "isolated call: the path of the target directory");
        path[len] = 0;
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return herror_sys(err, errno, "socketpair");
        struct child_ctx c = { .plan = p, .opts = o, .root_path = path, .chan = sv[1], .fn = fn, .arg = arg };
        int pidfd = -1;
        pid_t pid = clone_child(&pidfd);
        if (pid == 0) {
                close(sv[0]);
                child_main(&c);
        }
        close(sv[1]);
        int r = pid < 0 ? clone_error(errno, err) : parent_run(pid, pidfd, sv[0], p, o, err);
        close(sv[0]);
        closep(&pidfd);
        return r;
}
