#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/fuse-overlay.h"

static bool is_program(const char *p)
{
        struct stat st;
        return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

int fuse_overlay_find(char *buf, size_t size, struct herror *err)
{
        const char *env = secure_getenv("HUTCH_FUSE_OVERLAYFS");
        if (env && env[0]) {
                if (env[0] != '/' || !is_program(env))
                        return herror_set(err, ENOENT, "HUTCH_FUSE_OVERLAYFS=%s: not an absolute path of a program",
                                          env);
                snprintf(buf, size, "%s", env);
                return 0;
        }
        const char *path = getenv("PATH");
        char dirs[4096];
        snprintf(dirs, sizeof dirs, "%s", path ? path : "/usr/local/bin:/usr/bin:/bin");
        for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                if (d[0] != '/')
                        continue; /* a relative PATH entry would depend on the working directory */
                if (snprintf(buf, size, "%s/fuse-overlayfs", d) < (int) size && is_program(buf))
                        return 0;
        }
        return herror_set(err, ENOENT,
                          "fuse-overlayfs is not installed (Debian: apt install fuse-overlayfs; or set "
                          "HUTCH_FUSE_OVERLAYFS)");
}

/* fuse-overlayfs splits lowerdir on ':' and libfuse splits -o on ','; neither has an escape we can rely on. */
static int check_path(const char *what, const char *p, struct herror *err)
{
        if (p[0] != '/' || strpbrk(p, ",:\\"))
                return herror_set(err, EINVAL,
                                  "fuse-overlayfs cannot take the %s path %s (absolute, without ',', ':' or '\\')",
                                  what, p);
        return 0;
}

struct daemon_args {
        int nspidfd, nsflags, fusefd, logfd, nullfd, errfd;
        const char *program;
        char *const *argv;
};

static _noreturn_ void daemon_fail(int errfd, const char *step)
{
        char msg[160];
        int e = errno;
        int n = snprintf(msg, sizeof msg, "%s: %s", step, strerror(e));
        (void) !write(errfd, msg, (size_t) n);
        _exit(127);
}

/* In the forked daemon: namespaces, a private copy of the mount tree, the descriptors, exec. */
static _noreturn_ void daemon_main(const struct daemon_args *a)
{
        if (setns(a->nspidfd, a->nsflags) < 0)
                daemon_fail(a->errfd, "join the container's namespaces");
        /* Before pivot_root in the container (it would move our root too) and before the FUSE mount is
         * attached there (we must never look up a path through the mount we serve). */
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                daemon_fail(a->errfd, "make a private mount namespace");
        /* Cleared by the credential change of setns: armed again. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
                daemon_fail(a->errfd, "set the parent-death signal");
        /* Out of the way first: any of them may sit on 0..4 (and dup2 onto itself would keep CLOEXEC). */
        int null = fcntl(a->nullfd, F_DUPFD_CLOEXEC, 10), log = fcntl(a->logfd, F_DUPFD_CLOEXEC, 10);
        int fuse = fcntl(a->fusefd, F_DUPFD_CLOEXEC, 10), errfd = fcntl(a->errfd, F_DUPFD_CLOEXEC, 10);
        if (null < 0 || log < 0 || fuse < 0 || errfd < 0)
                daemon_fail(a->errfd, "set up descriptors");
        if (dup2(null, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0 || dup2(fuse, 3) < 0 ||
            dup3(errfd, 4, O_CLOEXEC) < 0)
                daemon_fail(errfd, "set up descriptors");
        if (syscall(SYS_close_range, 5, ~0U, 0) < 0)
                daemon_fail(4, "close descriptors");
        char *env[] = { (char *) "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
        execve(a->program, a->argv, env);
        daemon_fail(4, "exec");
}

static pid_t clone_daemon(int *ret_pidfd)
{
        struct clone_args ca = { .flags = CLONE_PIDFD,
                                 .pidfd = (uint64_t) (uintptr_t) ret_pidfd,
                                 .exit_signal = SIGCHLD };
        return (pid_t) syscall(SYS_clone3, &ca, sizeof ca);
}

static void reap(struct fuse_daemon *d, int sig)
{
        if (d->pidfd < 0)
                return;
        siginfo_t info;
        if (sig)
                syscall(SYS_pidfd_send_signal, d->pidfd, sig, NULL, 0);
        while (waitid((idtype_t) P_PIDFD, (id_t) d->pidfd, &info, WEXITED) < 0 && errno == EINTR)
                ;
        closep(&d->pidfd);
        d->pid = 0;
}

int fuse_overlay_start(int nspidfd, int nsflags, int fusefd, const char *lower, const char *top,
                       struct fuse_daemon *ret, struct herror *err)
{
        char program[4096], opts[3 * 4096 + 64];
        int r = fuse_overlay_find(program, sizeof program, err);
        if (r < 0 || (r = check_path("image cache", lower, err)) < 0 || (r = check_path("container", top, err)) < 0)
                return r;
        if (snprintf(opts, sizeof opts, "lowerdir=%s,upperdir=%s/upper,workdir=%s/work", lower, top, top) >=
            (int) sizeof opts)
                return herror_set(err, ENAMETOOLONG, "fuse-overlayfs: paths too long");
        char *argv[] = { (char *) "fuse-overlayfs", (char *) "-f", (char *) "-o", opts, (char *) "/dev/fd/3", NULL };
        struct fuse_daemon d = FUSE_DAEMON_INIT;
        _cleanup_close_ int nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
        d.logfd = memfd_create("fuse-overlayfs-output", MFD_CLOEXEC);
        int ep[2] = { -1, -1 };
        if (nullfd < 0 || d.logfd < 0 || pipe2(ep, O_CLOEXEC) < 0) {
                r = herror_sys(err, errno, "fuse-overlayfs: prepare descriptors");
                goto fail;
        }
        struct daemon_args a = { .nspidfd = nspidfd,
                                 .nsflags = nsflags,
                                 .fusefd = fusefd,
                                 .logfd = d.logfd,
                                 .nullfd = nullfd,
                                 .errfd = ep[1],
                                 .program = program,
                                 .argv = argv };
        d.pid = clone_daemon(&d.pidfd);
        if (d.pid == 0) {
                close(ep[0]);
                daemon_main(&a);
        }
        closep(&ep[1]);
        if (d.pid < 0) {
                d.pid = 0;
                r = herror_sys(err, errno, "fuse-overlayfs: clone");
                goto fail;
        }
        /* EOF: the exec happened (the pipe is close-on-exec); text: the step that failed. */
        char msg[200];
        ssize_t n;
        while ((n = read(ep[0], msg, sizeof msg - 1)) < 0 && errno == EINTR)
                ;
        if (n != 0) {
                msg[n > 0 ? n : 0] = 0;
                r = herror_set(err, EIO, "fuse-overlayfs (%s): %s", program, n > 0 ? msg : strerror(errno));
                goto fail;
        }
        closep(&ep[0]);
        *ret = d;
        return 0;
fail:
        closep(&ep[0]);
        closep(&ep[1]);
        reap(&d, SIGKILL);
        closep(&d.logfd);
        return r;
}

void fuse_overlay_stop(struct fuse_daemon *d)
{
        if (d->pid == 0)
                return; /* none (a zeroed struct too): nothing is owned */
        reap(d, SIGTERM);
        closep(&d->logfd);
        *d = (struct fuse_daemon) FUSE_DAEMON_INIT;
}

/* The last line of its output. */
static void last_line(const struct fuse_daemon *d, char *buf, size_t size)
{
        buf[0] = 0;
        if (d->logfd < 0 || size < 2)
                return;
        char tail[512];
        off_t end = lseek(d->logfd, 0, SEEK_END);
        off_t from = end > (off_t) sizeof tail - 1 ? end - (off_t) sizeof tail + 1 : 0;
        ssize_t n = end > 0 ? pread(d->logfd, tail, (size_t) (end - from), from) : 0;
        if (n <= 0)
                return;
        tail[n] = 0;
        while (n > 0 && (tail[n - 1] == '\n' || tail[n - 1] == '\r'))
                tail[--n] = 0;
        const char *last = strrchr(tail, '\n');
        last = last ? last + 1 : tail;
        size_t len = strlen(last) < size - 1 ? strlen(last) : size - 1;
        memcpy(buf, last, len);
        buf[len] = 0;
        for (char *p = buf; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        *p = '?';
}

void fuse_overlay_describe(const struct fuse_daemon *d, int wait_ms, char *buf, size_t size)
{
        buf[0] = 0;
        if (d->pid == 0 || size < 2)
                return;
        struct pollfd p = { .fd = d->pidfd, .events = POLLIN };
        while (wait_ms > 0 && poll(&p, 1, wait_ms) < 0 && errno == EINTR)
                ;
        char said[256];
        last_line(d, said, sizeof said);
        siginfo_t info = { 0 };
        /* WNOWAIT: only a look; fuse_overlay_stop() reaps */
        bool ended =
                waitid((idtype_t) P_PIDFD, (id_t) d->pidfd, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid;
        if (ended && info.si_code == CLD_EXITED)
                snprintf(buf, size, "fuse-overlayfs exited with status %d%s%s", info.si_status, said[0] ? ": " : "",
                         said);
        else if (ended)
                snprintf(buf, size, "fuse-overlayfs was killed by signal %d%s%s", info.si_status, said[0] ? ": " : "",
                         said);
        else if (said[0])
                snprintf(buf, size, "fuse-overlayfs: %s", said);
}
