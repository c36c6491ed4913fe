/* sandbox_create and friends: the clone, the parent/child sync protocol and the child's setup
 * sequence. The order in the child follows runc's standard init: namespaces, rootfs, hostname and
 * sysctl, terminal, rlimits, (seccomp when no_new_privs is off), credentials and capabilities,
 * no_new_privs, cwd, descriptors, start gate, (seccomp when no_new_privs is on), execve. */
#include <fcntl.h>
#include <net/if.h>
#include <grp.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/caps.h"
#include "sandbox/container.h"
#include "sandbox/idmap.h"
#include "sandbox/kernel.h"
#include "sandbox/lsm.h"
#include "sandbox/mounts.h"
#include "sandbox/seccomp.h"
#include "sandbox/userns.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/safepath.h"

enum sync_type {
        SYNC_MAPS_DONE = 1,
        SYNC_READY,
        SYNC_ERROR,
        SYNC_EXEC_ERROR,
        SYNC_FUSE_START,
        SYNC_FUSE_STARTED,
        SYNC_PID1, /* errnum: the pid 1 forked after joining a user namespace, with its pidfd */
};

/* Monotonic milliseconds, for the per-phase breakdown behind --log-level=debug. */
static double now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

struct sync_msg {
        int32_t type;
        int32_t errnum;
        char msg[1016];
};

struct child_args {
        const struct spec *spec;
        enum landlock_mode landlock;
        const struct sandbox_opts *opts;
        const struct seccomp_program *seccomp;
        struct sandbox_userns *userns; /* prepared user namespace (joined as nsfds[NS_USER]): maps to wait for */
        bool deny_setgroups;           /* the user namespace has setgroups denied: keep the groups as they are */
        int syncfd;
        int gatefd;              /* exec.fifo opened for reading, or -1 */
        int nsfds[_NS_TYPE_MAX]; /* namespaces to join, or -1 */
        int new_ns_flags;        /* created by clone (or unshare after joining a user ns) */
        bool wait_cgroup;        /* no CLONE_INTO_CGROUP: the parent moves the init into its cgroup first */
        bool late_cgroupns;      /* the cgroup namespace is unshared once in the container's cgroup */
        bool exec_failed;        /* child side: setup failed only because the command cannot be run */
};

static _noreturn_ void child_fail_as(int syncfd, enum sync_type type, const struct herror *err)
{
        struct sync_msg m = { .type = type, .errnum = err->errnum ? err->errnum : EINVAL };
        snprintf(m.msg, sizeof m.msg, "%s", herror_msg(err));
        (void) !write(syncfd, &m, sizeof m);
        _exit(EXIT_FAILURE);
}

static _noreturn_ void child_fail(int syncfd, const struct herror *err)
{
        child_fail_as(syncfd, SYNC_ERROR, err);
}

/* SYNC_MAPS_DONE: the parent moved the init into its cgroup, or its user namespace has its ID maps. */
static int child_wait_maps(int syncfd, struct herror *err)
{
        struct sync_msg m;
        ssize_t n = read(syncfd, &m, sizeof m);
        if (n != sizeof m || m.type != SYNC_MAPS_DONE)
                return herror_set(err, EPIPE, "the launcher went away before the ID maps were written");
        return 0;
}

static bool new_userns(const struct spec *s)
{
        return s->namespaces[NS_USER].enabled && !s->namespaces[NS_USER].path;
}

static bool setgroups_denied(pid_t pid)
{
        char path[64], buf[16];
        snprintf(path, sizeof path, "/proc/%d/setgroups", (int) pid);
        return read_text_at(AT_FDCWD, path, buf, sizeof buf) == 0 && strncmp(buf, "deny", 4) == 0;
}

/* len bytes, with a descriptor (SCM_RIGHTS) when fd >= 0, as one message; 0 or -errno. */
static int send_with_fd(int sock, const void *data, size_t len, int fd)
{
        struct iovec iov = { .iov_base = (void *) data, .iov_len = len };
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        memset(&u, 0, sizeof u);
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
        if (fd >= 0) {
                msg.msg_control = u.buf;
                msg.msg_controllen = sizeof u.buf;
                struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
                *c = (struct cmsghdr) { .cmsg_level = SOL_SOCKET,
                                        .cmsg_type = SCM_RIGHTS,
                                        .cmsg_len = CMSG_LEN(sizeof(int)) };
                memcpy(CMSG_DATA(c), &fd, sizeof fd);
        }
        ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
        return n == (ssize_t) len ? 0 : n < 0 ? -errno : -EPIPE;
}

/* unshare(CLONE_NEWPID) moves only the caller's children into the new pid namespace, so after joining a
 * user namespace the container's pid 1 is forked here, as the launcher's own child (CLONE_PARENT); this
 * process reports it and goes. The pid 1 returns. */
static int child_fork_pid1(const struct child_args *a, struct herror *err)
{
        int pidfd = -1;
        pid_t pid = kernel_clone_pidfd(CLONE_PARENT, 0, -1, &pidfd);
        if (pid < 0)
                return herror_sys(err, errno, "fork the container's pid 1");
        if (pid == 0) {
                /* its parent is the launcher now: the death signal follows the launcher */
                if (a->opts->die_with_parent)
                        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
                return 0;
        }
        struct sync_msg m = { .type = SYNC_PID1, .errnum = pid };
        _exit(send_with_fd(a->syncfd, &m, sizeof m, pidfd) < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
}

static int child_join_namespaces(struct child_args *a, bool user, struct herror *err)
{
        for (int t = 0; t < _NS_TYPE_MAX; t++) {
                if (a->nsfds[t] < 0 || (t == NS_USER) != user)
                        continue;
                if (setns(a->nsfds[t], spec_ns_clone_flag(t)) < 0)
                        return herror_sys(err, errno, "join the %s namespace %s", spec_ns_type_to_string(t),
                                          a->spec->namespaces[t].path ? a->spec->namespaces[t].path
                                                                      : "made with the user namespace");
                closep(&a->nsfds[t]);
        }
        return 0;
}

static int child_set_hostname(const struct spec *s, struct herror *err)
{
        if (s->hostname && s->hostname[0] && sethostname(s->hostname, strlen(s->hostname)) < 0)
                return herror_sys(err, errno, "sethostname");
        if (s->domainname && s->domainname[0] && setdomainname(s->domainname, strlen(s->domainname)) < 0)
                return herror_sys(err, errno, "setdomainname");
        return 0;
}

/* The fuse-overlayfs fallback (fuse-overlay.h): the /dev/fuse descriptor goes to the launcher, which starts
 * the daemon outside the container and answers once it runs. */
static int child_fuse_start(int fusefd, const char *why, void *userdata, struct herror *err)
{
        const struct child_args *a = userdata;
        struct sync_msg m = { .type = SYNC_FUSE_START };
        snprintf(m.msg, sizeof m.msg, "%s", why);
        int r = send_with_fd(a->syncfd, &m, sizeof m, fusefd);
        if (r < 0)
                return herror_sys(err, -r, "ask the launcher for fuse-overlayfs");
        ssize_t n;
        while ((n = read(a->syncfd, &m, sizeof m)) < 0 && errno == EINTR)
                ;
        if (n != sizeof m)
                return herror_set(err, EPIPE, "the launcher went away while starting fuse-overlayfs");
        if (m.type != SYNC_FUSE_STARTED) {
                m.msg[sizeof m.msg - 1] = 0;
                return herror_set(err, m.errnum ? m.errnum : EIO, "%s", m.msg);
        }
        return 0;
}

/* The pty comes from the container's own devpts; its master goes to the console socket (runc's
 * docs/terminals.md protocol), its slave becomes stdio and the controlling terminal. */
static int child_setup_terminal(const struct spec *s, const struct sandbox_opts *o, int rootfd, struct herror *err)
{
        /* Without a pty of its own the workload must not keep the caller's terminal as its controlling
         * terminal either: TIOCSTI on it would type into the caller's shell (CVE-2017-5226). */
        if (!s->process.terminal)
                return setsid() < 0 ? herror_sys(err, errno, "setsid") : 0;
        if (o->console_socket_fd < 0)
                return herror_set(err, EINVAL, ".process.terminal: a terminal needs --console-socket");
        _cleanup_close_ int master = safe_openat(rootfd, "/dev/pts/ptmx", O_RDWR | O_NOCTTY, 0, SAFE_NOFOLLOW, err);
        if (master < 0)
                return herror_wrap(err, "open the container's /dev/pts/ptmx");
        int unlock = 0;
        if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
                return herror_sys(err, errno, "unlock the pty");
        _cleanup_close_ int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                return herror_sys(err, errno, "open the pty peer");
        if (s->process.console_height || s->process.console_width) {
                struct winsize ws = { .ws_row = (unsigned short) s->process.console_height,
                                      .ws_col = (unsigned short) s->process.console_width };
                if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
                        return herror_sys(err, errno, "set the console size");
        }
        /* runc's protocol: one byte of data with the descriptor */
        int r = send_with_fd(o->console_socket_fd, "T", 1, master);
        if (r < 0)
                return herror_sys(err, -r, "send the pty master to the console socket");
        if (setsid() < 0)
                return herror_sys(err, errno, "setsid");
        if (ioctl(slave, TIOCSCTTY, 0) < 0)
                return herror_sys(err, errno, "make the pty the controlling terminal");
        for (int fd = 0; fd < 3; fd++)
                if (dup2(slave, fd) < 0)
                        return herror_sys(err, errno, "dup the pty onto fd %d", fd);
        return 0;
}

static int child_set_rlimits(const struct spec_process *p, struct herror *err)
{
        for (size_t i = 0; i < p->n_rlimits; i++) {
                struct rlimit rl = { .rlim_cur = p->rlimits[i].soft, .rlim_max = p->rlimits[i].hard };
                if (setrlimit(p->rlimits[i].resource, &rl) < 0)
                        return herror_sys(err, errno, ".process.rlimits[%zu]: setrlimit", i);
        }
        return 0;
}

static int child_set_oom_score_adj(const struct spec_process *p, int procfd, struct herror *err)
{
        if (!p->has_oom_score_adj)
                return 0;
        _cleanup_close_ int fd = procfd >= 0 ? openat(procfd, "self/oom_score_adj", O_WRONLY | O_CLOEXEC)
                                             : open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return herror_sys(err, errno, ".process.oomScoreAdj: open oom_score_adj");
        char buf[16];
        int n = snprintf(buf, sizeof buf, "%d", p->oom_score_adj);
        if (write(fd, buf, (size_t) n) != n)
                return herror_sys(err, errno, ".process.oomScoreAdj: write %d", p->oom_score_adj);
        return 0;
}

/* cwd is resolved inside the new root without magic links: a cwd of /proc/self/fd/N (N an fd the
 * launcher still holds) cannot land on the host (CVE-2024-21626). */
static int child_chdir(const struct spec_process *p, int rootfd, struct herror *err)
{
        _cleanup_close_ int fd = safe_openat(rootfd, p->cwd, O_PATH | O_DIRECTORY, 0, 0, err);
        if (fd < 0)
                return herror_wrap(err, ".process.cwd %s", p->cwd);
        if (fchdir(fd) < 0)
                return herror_sys(err, errno, ".process.cwd: chdir %s", p->cwd);
        char buf[4096];
        if (!getcwd(buf, sizeof buf) || buf[0] != '/')
                return herror_set(err, EPERM, ".process.cwd: %s is outside the container's root", p->cwd);
        return 0;
}

static const char *env_get(char **env, const char *name)
{
        size_t len = strlen(name);
        for (size_t i = 0; env && env[i]; i++)
                if (strncmp(env[i], name, len) == 0 && env[i][len] == '=')
                        return env[i] + len + 1;
        return NULL;
}

static bool is_executable(const char *path, int *ret_errno)
{
        struct stat st;
        if (stat(path, &st) < 0) {
                *ret_errno = errno;
                return false;
        }
        if (!S_ISREG(st.st_mode) || access(path, X_OK) < 0) {
                *ret_errno = S_ISDIR(st.st_mode) ? EISDIR : EACCES;
                return false;
        }
        return true;
}

/* execvp's lookup, done before the start gate so that "not found" is a create error (as in runc),
 * with the container's own PATH. */
static int child_find_executable(const struct spec_process *p, char *ret, size_t size, struct herror *err)
{
        const char *arg0 = p->args[0];
        int e = ENOENT;
        if (strchr(arg0, '/')) {
                snprintf(ret, size, "%s", arg0);
                if (is_executable(ret, &e))
                        return 0;
                return herror_sys(err, e, "exec \"%s\"", arg0);
        }
        const char *path = env_get(p->env, "PATH");
        if (!path)
                path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        int first_err = ENOENT;
        while (*path) {
                size_t len = strcspn(path, ":");
                snprintf(ret, size, "%.*s%s%s", (int) len, path, len ? "/" : "", arg0);
                if (is_executable(ret, &e))
                        return 0;
                if (e != ENOENT && e != ENOTDIR && first_err == ENOENT)
                        first_err = e;
                path += len + (path[len] == ':');
        }
        if (first_err == ENOENT)
                return herror_set(err, ENOENT, "exec: \"%s\": executable file not found in $PATH", arg0);
        return herror_sys(err, first_err, "exec \"%s\"", arg0);
}

/* Everything above the preserved range is closed at exec; preserved fds lose CLOEXEC. */
static int child_prepare_fds(unsigned preserve, struct herror *err)
{
        unsigned listen = 0;
        const char *lf = getenv("LISTEN_FDS");
        if (lf)
                listen = (unsigned) strtoul(lf, NULL, 10);
        unsigned keep = preserve + listen;
        for (unsigned fd = 3; fd < 3 + keep; fd++) {
                int fl = fcntl((int) fd, F_GETFD);
                if (fl >= 0 && fcntl((int) fd, F_SETFD, fl & ~FD_CLOEXEC) < 0)
                        return herror_sys(err, errno, "keep fd %u", fd);
        }
        if (syscall(SYS_close_range, 3 + keep, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
                return herror_sys(err, errno, "close_range");
        return 0;
}

static void reset_signals(void)
{
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        signal(sig, SIG_DFL);
}

static int child_wait_gate(int gatefd, struct herror *err)
{
        if (gatefd < 0)
                return 0;
        /* A FIFO reader that never had a writer sees no POLLHUP: poll blocks until `start` writes. */
        struct pollfd p = { .fd = gatefd, .events = POLLIN };
        for (;;) {
                int n = poll(&p, 1, -1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return herror_sys(err, errno, "wait at the start gate");
                char c;
                ssize_t k = read(gatefd, &c, 1);
                if (k == 1)
                        return 0;
                if (k < 0 && (errno == EAGAIN || errno == EINTR))
                        continue;
                return herror_set(err, EPIPE, "the start gate closed without a start");
        }
}

static _noreturn_ void child_exec(const struct child_args *a, const char *exe)
{
        const struct spec_process *p = &a->spec->process;
        char *empty[] = { NULL };
        execve(exe, p->args, p->env ? p->env : empty);
        int e = errno;
        dprintf(STDERR_FILENO, "hutch: exec %s: %s\n", p->args[0], strerror(e));
        _exit(e == ENOENT ? 127 : 126);
}

/* fds opened by the launcher point into its mount namespace, which open_tree() refuses to clone from;
 * re-open the bundle here and make sure it is still the directory the launcher validated. */
static int child_reopen_bundle(const struct sandbox_opts *o, struct herror *err)
{
        int fd = open(o->bundle_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return herror_sys(err, errno, "open the bundle %s", o->bundle_path);
        struct stat a, b;
        if (fstat(fd, &a) < 0 || fstat(o->bundle_dirfd, &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
                close(fd);
                return herror_set(err, ESTALE, "the bundle %s was replaced during setup", o->bundle_path);
        }
        return fd;
}

/* A new network namespace starts with lo down; podman's --network none brings it up, and programs
 * that talk to themselves over 127.0.0.1 expect it. */
static int child_loopback_up(struct herror *err)
{
        const char *step = NULL;
        int r = sandbox_loopback_up(&step);
        return r < 0 ? herror_sys(err, -r, "%s", step) : 0;
}

static int child_setup(struct child_args *a, struct rootfs_state *st, char *exe, size_t exe_size, int *ret_landlock_abi,
                       char *timing, size_t timing_size, struct herror *err)
{
        const struct spec *s = a->spec;
        int r;
        double t0 = now_ms(), t_maps, t_rootfs, t_landlock, t_end;
        /* Nothing may run outside the container's cgroup: wait until the parent has moved us. */
        if (a->wait_cgroup && (r = child_wait_maps(a->syncfd, err)) < 0)
                return r;
        if (a->nsfds[NS_USER] >= 0) {
                /* the other namespaces are made here, owned by the joined one */
                if ((r = child_join_namespaces(a, true, err)) < 0)
                        return r;
                if (s->namespaces[NS_USER].path)
                        a->deny_setgroups = setgroups_denied(getpid());
                if (a->new_ns_flags && unshare(a->new_ns_flags) < 0)
                        return herror_sys(err, errno, "unshare namespaces");
                if ((a->new_ns_flags & CLONE_NEWPID) && (r = child_fork_pid1(a, err)) < 0)
                        return r;
        }
        if ((r = child_join_namespaces(a, false, err)) < 0)
                return r;
        /* clone makes the cgroup namespace before CLONE_INTO_CGROUP moves the child: unshared here, it is
         * rooted at the container's own cgroup, which is all the container sees of the hierarchy */
        if (a->late_cgroupns && unshare(CLONE_NEWCGROUP) < 0)
                return herror_sys(err, errno, "unshare the cgroup namespace");
        _cleanup_close_ int bundlefd = child_reopen_bundle(a->opts, err);
        if (bundlefd < 0)
                return bundlefd;
        if (a->new_ns_flags & CLONE_NEWNET && (r = child_loopback_up(err)) < 0)
                return r;
        /* Only now: everything above needs no ID maps, so it ran while newuidmap and newgidmap wrote
         * them; the rootfs does (its tmpfs takes no file from an unmapped owner). */
        if (a->userns && (r = child_wait_maps(a->syncfd, err)) < 0)
                return r;
        t_maps = now_ms();
        struct rootfs_fuse_hook fuse = { .start = child_fuse_start, .userdata = a };
        r = rootfs_setup(s, bundlefd, a->opts->overlay, &fuse, st, err);
        t_rootfs = now_ms();
        if (r < 0 || (r = child_set_hostname(s, err)) < 0 || (r = rootfs_apply_sysctl(s, st, err)) < 0 ||
            (r = child_setup_terminal(s, a->opts, st->rootfd, err)) < 0 ||
            (r = child_set_rlimits(&s->process, err)) < 0 ||
            (r = child_set_oom_score_adj(&s->process, st->procfd, err)) < 0)
                return r;
        /* The exec labels first: their attr files are on the private procfs, outside every Landlock rule, and
         * (as runc orders it) before no_new_privs. */
        if ((r = lsm_apply_exec_labels(&s->process, st->procfd, err)) < 0)
                return r;
        /* Before capabilities go: without no_new_privs, restricting needs CAP_SYS_ADMIN in the namespace. */
        double t_other = now_ms();
        if ((r = landlock_apply_spec(s, a->landlock, ret_landlock_abi, err)) < 0)
                return r;
        t_landlock = now_ms();
        if (a->seccomp && !s->process.no_new_privileges && (r = seccomp_program_load(a->seccomp)) < 0)
                return herror_sys(err, -r, "load the seccomp filter");
        const char *step = NULL;
        if ((r = caps_apply(&s->process, !a->deny_setgroups, &step)) < 0)
                return herror_sys(err, -r, "%s", step);
        /* The kernel clears the parent-death signal when the effective IDs change: arm it again. */
        if (a->opts->die_with_parent && prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
                return herror_sys(err, errno, "set the parent-death signal");
        if (s->process.has_umask)
                umask((mode_t) s->process.umask);
        if (s->process.no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return herror_sys(err, errno, "set no_new_privs");
        if ((r = child_chdir(&s->process, st->rootfd, err)) < 0)
                return r;
        if ((r = child_find_executable(&s->process, exe, exe_size, err)) < 0) {
                a->exec_failed = true;
                return r;
        }
        if ((r = child_prepare_fds(a->opts->preserve_fds, err)) < 0)
                return r;
        t_end = now_ms();
        snprintf(timing, timing_size,
                 "namespaces and maps %.2f ms, rootfs and mounts %.2f ms, hostname/sysctl/terminal/rlimits %.2f ms, "
                 "landlock %.2f ms, credentials/caps/exec lookup %.2f ms",
                 t_maps - t0, t_rootfs - t_maps, t_other - t_rootfs, t_landlock - t_other, t_end - t_landlock);
        return 0;
}

static _noreturn_ void child_main(struct child_args *a)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct rootfs_state st = ROOTFS_STATE_INIT;
        char exe[4096];
        int landlock_abi = 0;
        reset_signals();
        if (a->opts->die_with_parent)
                prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        struct sync_msg ready = { .type = SYNC_READY };
        if (child_setup(a, &st, exe, sizeof exe, &landlock_abi, ready.msg, sizeof ready.msg, &err) < 0)
                child_fail_as(a->syncfd, a->exec_failed ? SYNC_EXEC_ERROR : SYNC_ERROR, &err);
        rootfs_state_release(&st);
        ready.errnum = landlock_abi;
        if (write(a->syncfd, &ready, sizeof ready) != sizeof ready)
                _exit(EXIT_FAILURE);
        close(a->syncfd);
        if (child_wait_gate(a->gatefd, &err) < 0) {
                dprintf(STDERR_FILENO, "hutch: %s\n", herror_msg(&err));
                _exit(EXIT_FAILURE);
        }
        closep(&a->gatefd);
        /* Last, so nothing hutch does itself is filtered; execve must be allowed by the profile. */
        if (a->seccomp && a->spec->process.no_new_privileges) {
                int r = seccomp_program_load(a->seccomp);
                if (r < 0) {
                        dprintf(STDERR_FILENO, "hutch: load the seccomp filter: %s\n", strerror(-r));
                        _exit(EXIT_FAILURE);
                }
        }
        child_exec(a, exe);
}

/* ---- parent side ---- */

static int open_namespaces(const struct spec *s, struct child_args *a, struct herror *err)
{
        for (int t = 0; t < _NS_TYPE_MAX; t++) {
                if (!s->namespaces[t].enabled)
                        continue;
                if (!s->namespaces[t].path) {
                        a->new_ns_flags |= spec_ns_clone_flag(t);
                        continue;
                }
                a->nsfds[t] = open(s->namespaces[t].path, O_RDONLY | O_CLOEXEC);
                if (a->nsfds[t] < 0)
                        return herror_sys(err, errno, ".linux.namespaces: open %s namespace %s",
                                          spec_ns_type_to_string(t), s->namespaces[t].path);
        }
        return 0;
}

static void close_namespaces(struct child_args *a)
{
        for (int t = 0; t < _NS_TYPE_MAX; t++)
                closep(&a->nsfds[t]);
}

static int create_gate(int state_dirfd, struct herror *err)
{
        if (state_dirfd < 0)
                return -1;
        if (mkfifoat(state_dirfd, SANDBOX_EXEC_FIFO, 0600) < 0)
                return herror_sys(err, errno, "create %s", SANDBOX_EXEC_FIFO);
        /* Opened for reading without blocking; the init keeps it and waits for `start` to write. */
        int fd = openat(state_dirfd, SANDBOX_EXEC_FIFO, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return herror_sys(err, errno, "open %s", SANDBOX_EXEC_FIFO);
        return fd;
}

/* Clone without CLONE_INTO_CGROUP (ENOSYS: no clone3, or a seccomp filter hiding it; E2BIG, EINVAL:
 * a kernel before 5.7): the init then waits until the parent has moved it. */
static pid_t clone_init_in_cgroup(int flags, const struct cgroup_leaf *cg, struct child_args *a, int *ret_pidfd)
{
        /* cg->fd >= 0: straight into that cgroup (CLONE_INTO_CGROUP, Linux 5.7), so not one instruction
         * of the init runs outside its limits */
        pid_t pid = kernel_clone_pidfd((uint64_t) flags, SIGCHLD, cg->fd, ret_pidfd);
        if (pid < 0 && cg->fd >= 0 && (errno == ENOSYS || errno == E2BIG || errno == EINVAL)) {
                log_debug("clone3 with CLONE_INTO_CGROUP failed (%s): the launcher moves the init into %s",
                          strerror(errno), cg->path);
                a->wait_cgroup = true;
                pid = kernel_clone_pidfd((uint64_t) flags, SIGCHLD, -1, ret_pidfd);
        }
        return pid;
}

/* What landlock_apply_spec will report in the init: the same kernel answers both. */
static int expected_landlock_abi(enum landlock_mode mode)
{
        int abi = mode == LANDLOCK_OFF ? 0 : kernel_landlock_abi();
        return abi > 0 ? abi : 0;
}

/* One message, and the descriptor it may carry (-1 when none). */
static ssize_t recv_msg_fd(int sock, struct sync_msg *m, int *ret_fd)
{
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        struct iovec iov = { .iov_base = m, .iov_len = sizeof *m };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
        *ret_fd = -1;
        ssize_t n;
        while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
                ;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); n >= 0 && c; c = CMSG_NXTHDR(&msg, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
                        memcpy(ret_fd, CMSG_DATA(c), sizeof(int));
        return n;
}

/* The init asked for the fuse-overlayfs fallback: start it in the init's namespaces, answer. */
static int parent_start_fuse(int syncfd, int fusefd, const struct child_args *a, int pidfd, struct fuse_daemon *fuse,
                             struct herror *err)
{
        _cleanup_herror_ struct herror why = HERROR_INIT;
        int r = -EINVAL;
        if (fusefd < 0 || !a->opts->overlay || fuse->pid)
                herror_set(&why, EPROTO, "unexpected request for fuse-overlayfs");
        else {
                int nsflags = CLONE_NEWNS | (a->spec->namespaces[NS_USER].enabled ? CLONE_NEWUSER : 0);
                r = fuse_overlay_start(pidfd, nsflags, fusefd, a->opts->overlay->lower, a->spec->root_path, fuse, &why);
        }
        struct sync_msg m = { .type = r < 0 ? SYNC_ERROR : SYNC_FUSE_STARTED, .errnum = r < 0 ? why.errnum : 0 };
        if (r < 0)
                snprintf(m.msg, sizeof m.msg, "%s", herror_msg(&why));
        if (write(syncfd, &m, sizeof m) != sizeof m)
                return herror_sys(err, errno, "answer the container init");
        return 0;
}

static int send_go(int syncfd, struct herror *err)
{
        struct sync_msg go = { .type = SYNC_MAPS_DONE };
        if (write(syncfd, &go, sizeof go) != sizeof go)
                return herror_sys(err, errno, "signal the container init");
        return 0;
}

/* An error the init reported, or its end without a word. */
static int init_failed(const struct sync_msg *m, ssize_t n, struct sandbox *sb, struct herror *err)
{
        if (n != sizeof *m || (m->type != SYNC_ERROR && m->type != SYNC_EXEC_ERROR))
                return herror_set(err, EPIPE, "the container init exited during setup");
        sb->exec_failed = m->type == SYNC_EXEC_ERROR;
        char said[320];
        fuse_overlay_describe(&sb->fuse, m->errnum == ENOTCONN ? 2000 : 0, said, sizeof said);
        return herror_set(err, m->errnum, "%.*s%s%s%s", (int) sizeof m->msg, m->msg, said[0] ? " (" : "", said,
                          said[0] ? ")" : "");
}

/* The first process made the container's pid 1 and goes (child_fork_pid1): from here on the launcher
 * deals with the pid 1, its own child too. The first one is left in *first, to reap. */
static int parent_take_pid1(int syncfd, pid_t *pid, int *pidfd, pid_t *first, struct sandbox *sb, struct herror *err)
{
        struct sync_msg m;
        int fd;
        ssize_t n = recv_msg_fd(syncfd, &m, &fd);
        *first = *pid;
        closep(pidfd);
        *pid = 0;
        if (n != sizeof m || m.type != SYNC_PID1 || m.errnum <= 0) {
                closep(&fd);
                return init_failed(&m, n, sb, err);
        }
        *pid = (pid_t) m.errnum;
        *pidfd = fd >= 0 ? fd : (int) syscall(SYS_pidfd_open, *pid, 0);
        return 0;
}

static int parent_sync(int syncfd, const struct child_args *a, const struct cgroup_leaf *cg, pid_t *pid, int *pidfd,
                       pid_t *first, struct sandbox *sb, struct herror *err)
{
        const struct sandbox_opts *o = a->opts;
        int r;
        if (a->wait_cgroup && ((r = cgroup_enter(cg, *pid, err)) < 0 || (r = send_go(syncfd, err)) < 0))
                return r;
        if (a->nsfds[NS_USER] >= 0 && (a->new_ns_flags & CLONE_NEWPID) &&
            (r = parent_take_pid1(syncfd, pid, pidfd, first, sb, err)) < 0)
                return r;
        sb->pid = *pid;
        if (a->userns && ((r = sandbox_userns_finish(a->userns, err)) < 0 || (r = send_go(syncfd, err)) < 0))
                return r;
        if (o->during_setup && (r = o->during_setup(sb, o->userdata, err)) < 0)
                return r;
        for (;;) {
                struct sync_msg m;
                int fd;
                ssize_t n = recv_msg_fd(syncfd, &m, &fd);
                if (n == sizeof m && m.type == SYNC_FUSE_START) {
                        m.msg[sizeof m.msg - 1] = 0;
                        log_info("rootfs: fuse-overlayfs (%s)", m.msg);
                        r = parent_start_fuse(syncfd, fd, a, *pidfd, &sb->fuse, err);
                        closep(&fd);
                        if (r < 0)
                                return r;
                        continue;
                }
                closep(&fd);
                if (n == sizeof m && m.type == SYNC_READY) {
                        m.msg[sizeof m.msg - 1] = 0;
                        log_debug("timing: init: %s%s", m.msg, sb->fuse.pid ? " (rootfs: fuse-overlayfs)" : "");
                        /* during_setup was told this ABI (an audit record may already say so): hold the init to it */
                        if (m.errnum != sb->landlock_abi)
                                return herror_set(err, EPROTO, "the init applied Landlock ABI %d, not the announced %d",
                                                  (int) m.errnum, sb->landlock_abi);
                        return 0;
                }
                return init_failed(&m, n, sb, err);
        }
}

/* The user namespace the init joins: the caller's prepared one (sandbox_opts.userns), checked against
 * the spec, or one prepared here, whose helpers then still overlap the init's namespace setup. */
static int use_userns(const struct spec *s, const struct sandbox_opts *o, struct sandbox_userns *own,
                      struct sandbox_userns **ret, struct herror *err)
{
        if (o->userns && sandbox_userns_prepared(o->userns)) {
                int r = sandbox_userns_made(o->userns, err);
                if (r < 0)
                        return r;
                if (!sandbox_userns_matches(o->userns, s))
                        return herror_set(err, EINVAL,
                                          "the prepared user namespace does not have the spec's ID mappings");
                *ret = o->userns;
        } else {
                struct idmap_ranges m = { .uid = s->uid_mappings,
                                          .gid = s->gid_mappings,
                                          .n_uid = s->n_uid_mappings,
                                          .n_gid = s->n_gid_mappings };
                bool new_net = s->namespaces[NS_NET].enabled && !s->namespaces[NS_NET].path;
                int r = sandbox_userns_prepare(&m, NULL, new_net, own, err);
                if (r < 0)
                        return r;
                *ret = own;
        }
        if ((*ret)->plan.deny_setgroups && s->process.n_additional_gids > 0)
                return herror_set(err, EPERM,
                                  ".process.user.additionalGids: supplementary groups need a multi-range gid mapping "
                                  "(setgroups is denied with a single-ID map)");
        return 0;
}

/* The network namespace the user namespace's holder made, if it made one (lo is already up in it): the
 * init joins it rather than making its own. */
static int use_prepared_netns(struct child_args *a, struct herror *err)
{
        if (!a->userns || !a->userns->with_net || !(a->new_ns_flags & CLONE_NEWNET))
                return 0;
        int fd = sandbox_userns_netns(a->userns, err);
        if (fd < 0)
                return fd;
        a->nsfds[NS_NET] = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (a->nsfds[NS_NET] < 0)
                return herror_sys(err, errno, "duplicate the network namespace descriptor");
        a->new_ns_flags &= ~CLONE_NEWNET;
        return 0;
}

int sandbox_create(const struct spec *s, const struct sandbox_opts *o, struct sandbox *ret, struct herror *err)
{
        struct seccomp_program prog = { 0 };
        struct sandbox_userns own = SANDBOX_USERNS_INIT;
        /* every descriptor -1 from the start: each failure below goes through out */
        struct child_args a = {
                .spec = s, .opts = o, .syncfd = -1, .gatefd = -1, .nsfds = { [0 ... _NS_TYPE_MAX - 1] = -1 }
        };
        struct cgroup_leaf cg = CGROUP_LEAF_INIT;
        int sv[2] = { -1, -1 }, pidfd = -1, r;
        pid_t pid = -1, first = 0;
        double t0 = now_ms();
        if (!o->bundle_path || o->bundle_path[0] != '/') {
                r = herror_set(err, EINVAL, "the bundle path must be absolute");
                goto out;
        }
        if ((r = lsm_check_host(s, err)) < 0 || (new_userns(s) && (r = use_userns(s, o, &own, &a.userns, err)) < 0))
                goto out;
        a.deny_setgroups = a.userns && a.userns->plan.deny_setgroups;
        bool cached = false;
        if (s->seccomp && (r = seccomp_compile_cached(s->seccomp, &prog, &cached, err)) < 0)
                goto out;
        a.seccomp = s->seccomp ? &prog : NULL;
        double t_seccomp = now_ms();
        if ((r = open_namespaces(s, &a, err)) < 0)
                goto out;
        if (a.userns) {
                a.nsfds[NS_USER] = fcntl(a.userns->fd, F_DUPFD_CLOEXEC, 3);
                if (a.nsfds[NS_USER] < 0) {
                        r = herror_sys(err, errno, "duplicate the user namespace descriptor");
                        goto out;
                }
                a.new_ns_flags &= ~CLONE_NEWUSER;
        }
        if ((r = use_prepared_netns(&a, err)) < 0)
                goto out;
        if ((r = landlock_mode_from_spec(s, o->landlock, err)) < 0)
                goto out;
        a.landlock = (enum landlock_mode) r;
        /* only with limits: a container without them costs no cgroup work and runs on any host */
        if (s->resources.any_limit && (r = cgroup_create(s, o->container_id, o->systemd_cgroup, &cg, err)) < 0)
                goto out;
        if ((a.gatefd = create_gate(o->state_dirfd, err)) < -1) {
                r = a.gatefd;
                goto out;
        }
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
                r = herror_sys(err, errno, "socketpair");
                goto out;
        }
        a.syncfd = sv[1];
        /* joining a user namespace, the init makes the others itself, owned by it */
        int clone_flags = a.nsfds[NS_USER] >= 0 ? 0 : a.new_ns_flags;
        if (cg.fd >= 0 && (clone_flags & CLONE_NEWCGROUP)) {
                clone_flags &= ~CLONE_NEWCGROUP;
                a.late_cgroupns = true;
        }
        pid = clone_init_in_cgroup(clone_flags, &cg, &a, &pidfd);
        if (pid < 0) {
                r = cg.fd >= 0 ? herror_sys(err, errno, "clone the container init into its cgroup %s", cg.path)
                               : herror_sys(err, errno, "clone the container init");
                goto out;
        }
        if (pid == 0) {
                close(sv[0]);
                child_main(&a);
        }
        closep(&sv[1]);
        double t_clone = now_ms();
        ret->exec_failed = false;
        ret->landlock_abi = expected_landlock_abi(a.landlock);
        r = parent_sync(sv[0], &a, &cg, &pid, &pidfd, &first, ret, err);
        log_debug(
                "timing: launcher: id-map check + seccomp (%s) %.2f ms, namespaces + clone %.2f ms, id maps + init setup %.2f ms",
                cached ? "from cache" : (s->seccomp ? "compiled" : "none"), t_seccomp - t0, t_clone - t_seccomp,
                now_ms() - t_clone);
        if (r < 0) {
                kernel_kill_and_reap(pid, pidfd);
                closep(&pidfd);
                ret->pid = 0;
                fuse_overlay_stop(&ret->fuse);
                goto out;
        }
        ret->pidfd = TAKE_FD(pidfd);
        ret->start_time = sandbox_process_start_time(pid);
        ret->cgroup = cg;
        cg = (struct cgroup_leaf) CGROUP_LEAF_INIT;
out:
        if (r < 0 && o->state_dirfd >= 0 && a.gatefd != -1)
                unlinkat(o->state_dirfd, SANDBOX_EXEC_FIFO, 0);
        if (r < 0)
                cgroup_remove(&cg, NULL);
        closep(&a.gatefd);
        closep(&sv[0]);
        closep(&sv[1]);
        close_namespaces(&a);
        seccomp_program_free(&prog);
        /* used up: a holder would otherwise stay a zombie child next to the container */
        if (o->userns)
                sandbox_userns_release(o->userns);
        sandbox_userns_release(&own);
        while (first > 0 && waitpid(first, NULL, 0) < 0 && errno == EINTR)
                ;
        return r < 0 ? r : 0;
}

int sandbox_start(int state_dirfd, struct herror *err)
{
        _cleanup_close_ int fd = openat(state_dirfd, SANDBOX_EXEC_FIFO, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENXIO)
                        return herror_set(err, ESRCH, "the container's init is not waiting to start (it has exited)");
                return herror_sys(err, errno, "open %s", SANDBOX_EXEC_FIFO);
        }
        if (write(fd, "1", 1) != 1)
                return herror_sys(err, errno, "open the start gate");
        if (unlinkat(state_dirfd, SANDBOX_EXEC_FIFO, 0) < 0 && errno != ENOENT)
                return herror_sys(err, errno, "remove %s", SANDBOX_EXEC_FIFO);
        return 0;
}

int sandbox_wait(struct sandbox *s, int *ret_status, struct herror *err)
{
        siginfo_t info = { 0 };
        for (;;) {
                int r = s->pidfd >= 0 ? waitid((idtype_t) P_PIDFD, (id_t) s->pidfd, &info, WEXITED)
                                      : waitid(P_PID, (id_t) s->pid, &info, WEXITED);
                if (r == 0)
                        break;
                if (errno != EINTR)
                        return herror_sys(err, errno, "wait for the container");
        }
        *ret_status = info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
        /* The container's mount namespace is gone with its last process: so is the daemon's connection. */
        fuse_overlay_stop(&s->fuse);
        return 0;
}

unsigned long long sandbox_process_start_time(pid_t pid)
{
        char path[64], buf[1024];
        snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        if (n <= 0)
                return 0;
        buf[n] = 0;
        /* comm may contain spaces and parentheses: fields restart after the last ')'. */
        char *p = strrchr(buf, ')');
        if (!p)
                return 0;
        p += 2; /* field 3: state */
        if (*p == 'Z' || *p == 'X')
                return 0;
        for (int field = 3; field < 22 && p; field++) {
                p = strchr(p, ' ');
                if (p)
                        p++;
        }
        return p ? strtoull(p, NULL, 10) : 0;
}

bool sandbox_process_alive(pid_t pid, unsigned long long start_time)
{
        if (pid <= 0)
                return false;
        unsigned long long now = sandbox_process_start_time(pid);
        return now != 0 && now == start_time;
}

static int pidns_inode(pid_t pid, ino_t *ret)
{
        char path[64];
        struct stat st;
        snprintf(path, sizeof path, "/proc/%d/ns/pid", (int) pid);
        if (stat(path, &st) < 0)
                return -errno;
        *ret = st.st_ino;
        return 0;
}

static int signal_pid(pid_t pid, unsigned long long start_time, int sig)
{
        _cleanup_close_ int pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        if (pidfd < 0)
                return -errno;
        /* Checked after taking the pidfd: from here on the pid cannot be reused under us. */
        if (start_time && !sandbox_process_alive(pid, start_time))
                return -ESRCH;
        if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
                return -errno;
        return 0;
}

static int signal_all(pid_t init, int sig)
{
        ino_t ns = 0;
        int r = pidns_inode(init, &ns);
        if (r < 0)
                return r;
        _cleanup_closedir_ DIR *d = opendir("/proc");
        if (!d)
                return -errno;
        struct dirent *de;
        while ((de = readdir(d))) {
                char *end;
                long pid = strtol(de->d_name, &end, 10);
                ino_t other = 0;
                if (*end || pid <= 0 || pid == init || pidns_inode((pid_t) pid, &other) < 0 || other != ns)
                        continue;
                signal_pid((pid_t) pid, 0, sig);
        }
        return 0;
}

int sandbox_kill(pid_t pid, unsigned long long start_time, int sig, bool all, struct herror *err)
{
        if (!sandbox_process_alive(pid, start_time))
                return herror_set(err, ESRCH, "container not running");
        if (all) {
                int r = signal_all(pid, sig);
                if (r < 0)
                        return herror_sys(err, -r, "signal the container's processes");
        }
        int r = signal_pid(pid, start_time, sig);
        if (r < 0)
                return herror_sys(err, -r, "signal the container init (pid %d)", (int) pid);
        return 0;
}

void sandbox_release(struct sandbox *s)
{
        fuse_overlay_stop(&s->fuse);
        closep(&s->pidfd);
        s->pidfd = -1;
        cgroup_leaf_close(&s->cgroup);
}

/* ---- exec into a running container ---- */

struct exec_args {
        const struct spec *spec;
        enum landlock_mode landlock;
        const struct spec_process *proc;
        const struct sandbox_exec_opts *opts;
        const struct seccomp_program *seccomp;
        bool setgroups_allowed;
        int pidfd;
        int ns_flags;
        int syncfd;
};

static int exec_child_setup(const struct exec_args *a, char *exe, size_t exe_size, struct herror *err)
{
        const struct spec_process *p = a->proc;
        _cleanup_close_ int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return herror_sys(err, errno, "open the container's root");
        struct sandbox_opts term = { .console_socket_fd = a->opts->console_socket_fd };
        struct spec tmp = { .process = *p };
        int r;
        if ((r = child_setup_terminal(&tmp, &term, rootfd, err)) < 0 || (r = child_set_rlimits(p, err)) < 0)
                return r;
        /* Labels before Landlock, capabilities and no_new_privs, as in the init (mounting the private procfs
         * needs CAP_SYS_ADMIN in the container's user namespace). */
        if ((p->apparmor_profile && p->apparmor_profile[0]) || (p->selinux_label && p->selinux_label[0])) {
                _cleanup_close_ int procfd = rootfs_private_proc(err);
                if (procfd < 0 || (r = lsm_apply_exec_labels(p, procfd, err)) < 0)
                        return procfd < 0 ? procfd : r;
        }
        int abi;
        if ((r = landlock_apply_spec(a->spec, a->landlock, &abi, err)) < 0)
                return r;
        if (a->seccomp && !p->no_new_privileges && (r = seccomp_program_load(a->seccomp)) < 0)
                return herror_sys(err, -r, "load the seccomp filter");
        const char *step = NULL;
        if ((r = caps_apply(p, a->setgroups_allowed, &step)) < 0)
                return herror_sys(err, -r, "%s", step);
        if (a->opts->die_with_parent && prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
                return herror_sys(err, errno, "set the parent-death signal");
        if (p->has_umask)
                umask((mode_t) p->umask);
        if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return herror_sys(err, errno, "set no_new_privs");
        if ((r = child_chdir(p, rootfd, err)) < 0 || (r = child_find_executable(p, exe, exe_size, err)) < 0)
                return r;
        return child_prepare_fds(a->opts->preserve_fds, err);
}

static _noreturn_ void exec_grandchild(const struct exec_args *a)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        char exe[4096];
        reset_signals();
        if (a->opts->die_with_parent)
                prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        if (exec_child_setup(a, exe, sizeof exe, &err) < 0)
                child_fail(a->syncfd, &err);
        struct sync_msg ready = { .type = SYNC_READY };
        if (write(a->syncfd, &ready, sizeof ready) != sizeof ready)
                _exit(EXIT_FAILURE);
        if (a->seccomp && a->proc->no_new_privileges) {
                int r = seccomp_program_load(a->seccomp);
                if (r < 0) {
                        dprintf(STDERR_FILENO, "hutch: load the seccomp filter: %s\n", strerror(-r));
                        _exit(EXIT_FAILURE);
                }
        }
        struct child_args ca = { .spec = &(struct spec) { .process = *a->proc } };
        child_exec(&ca, exe);
}

/* The joining child: setns moves it into every namespace but the pid one only applies to its
 * children, so it clones once more with CLONE_PARENT (the new process stays hutch's child) and
 * reports that pid. */
static _noreturn_ void exec_joiner(const struct exec_args *a)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        /* into the container's cgroup first: what it starts is under the same limits */
        if (a->opts->cgroup_fd >= 0) {
                struct cgroup_leaf l = { .fd = a->opts->cgroup_fd, .parent_fd = -1 };
                snprintf(l.path, sizeof l.path, "the container's cgroup");
                if (cgroup_enter(&l, 0, &err) < 0)
                        child_fail(a->syncfd, &err);
        }
        if (setns(a->pidfd, a->ns_flags) < 0) {
                herror_sys(&err, errno, "join the container's namespaces");
                child_fail(a->syncfd, &err);
        }
        pid_t pid = (pid_t) syscall(SYS_clone, (unsigned long) CLONE_PARENT, NULL, NULL, NULL, NULL);
        if (pid < 0) {
                herror_sys(&err, errno, "clone inside the container");
                child_fail(a->syncfd, &err);
        }
        if (pid == 0)
                exec_grandchild(a);
        struct sync_msg m = { .type = SYNC_MAPS_DONE, .errnum = pid };
        _exit(write(a->syncfd, &m, sizeof m) == sizeof m ? 0 : 1);
}

/* Two messages arrive in either order: the joiner's "pid of the new process" and the new process's
 * READY or ERROR. */
static int exec_receive(int syncfd, pid_t *ret_pid, struct herror *err)
{
        struct sync_msg m;
        bool have_final = false;
        int r = 0;
        *ret_pid = 0;
        while (!have_final || *ret_pid == 0) {
                ssize_t n = read(syncfd, &m, sizeof m);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n != sizeof m)
                        return have_final ? r : herror_set(err, EPIPE, "the exec process exited during setup");
                if (m.type == SYNC_MAPS_DONE) {
                        *ret_pid = m.errnum;
                        continue;
                }
                have_final = true;
                if (m.type == SYNC_ERROR) {
                        m.msg[sizeof m.msg - 1] = 0;
                        r = herror_set(err, m.errnum, "%s", m.msg);
                }
        }
        return r;
}

int sandbox_exec(pid_t pid, unsigned long long start_time, const struct spec *s, const struct spec_process *proc,
                 const struct sandbox_exec_opts *o, struct sandbox *ret, struct herror *err)
{
        _cleanup_close_ int pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        if (pidfd < 0 || !sandbox_process_alive(pid, start_time))
                return herror_set(err, ESRCH, "container not running");
        struct seccomp_program prog = { 0 };
        int r = landlock_mode_from_spec(s, LANDLOCK_BEST_EFFORT, err);
        if (r < 0 || (r = lsm_check_host(&(struct spec) { .process = *proc }, err)) < 0)
                return r;
        enum landlock_mode landlock = (enum landlock_mode) r;
        bool cached = false;
        if (s->seccomp && (r = seccomp_compile_cached(s->seccomp, &prog, &cached, err)) < 0)
                return r;
        struct exec_args a = { .landlock = landlock,
                               .spec = s,
                               .proc = proc,
                               .opts = o,
                               .seccomp = s->seccomp ? &prog : NULL,
                               .setgroups_allowed = !setgroups_denied(pid),
                               .pidfd = pidfd };
        for (int t = 0; t < _NS_TYPE_MAX; t++)
                if (s->namespaces[t].enabled)
                        a.ns_flags |= spec_ns_clone_flag(t);
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
                seccomp_program_free(&prog);
                return herror_sys(err, errno, "socketpair");
        }
        a.syncfd = sv[1];
        pid_t joiner = fork();
        if (joiner == 0) {
                close(sv[0]);
                exec_joiner(&a);
        }
        close(sv[1]);
        seccomp_program_free(&prog);
        if (joiner < 0) {
                close(sv[0]);
                return herror_sys(err, errno, "fork");
        }
        pid_t child = 0;
        r = exec_receive(sv[0], &child, err);
        close(sv[0]);
        while (waitpid(joiner, NULL, 0) < 0 && errno == EINTR)
                ;
        if (r < 0) {
                if (child > 0)
                        kernel_kill_and_reap(child, -1);
                return r;
        }
        ret->pid = child;
        ret->pidfd = (int) syscall(SYS_pidfd_open, child, 0);
        ret->start_time = sandbox_process_start_time(child);
        return 0;
}
