#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/kernel.h"
#include "sandbox/userns.h"
#include "util/cleanup.h"

/* The holder keeps nothing of the launcher but the pipe it waits on: a copied descriptor of a lock or
 * of the audit log would otherwise live as long as it does. */
static _noreturn_ void holder_main(int rd, pid_t launcher)
{
        sigset_t all;
        sigfillset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != launcher)
                _exit(EXIT_FAILURE);
        if (rd > 0)
                syscall(SYS_close_range, 0U, (unsigned) rd - 1, 0U);
        syscall(SYS_close_range, (unsigned) rd + 1, ~0U, 0U);
        char c;
        while (read(rd, &c, 1) < 0 && errno == EINTR)
                ;
        _exit(EXIT_SUCCESS);
}

static int start_holder(struct sandbox_userns *u, struct herror *err)
{
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return herror_sys(err, errno, "pipe for the user namespace holder");
        pid_t launcher = getpid();
        pid_t pid = kernel_clone_pidfd(CLONE_NEWUSER, SIGCHLD, -1, &u->holder_pidfd);
        if (pid == 0) {
                close(p[1]);
                holder_main(p[0], launcher);
        }
        close(p[0]);
        if (pid < 0) {
                close(p[1]);
                return herror_sys(err, errno, "create a user namespace");
        }
        u->holder = pid;
        u->holder_pipe = p[1];
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/ns/user", (int) pid);
        u->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (u->fd < 0)
                return herror_sys(err, errno, "open %s", path);
        /* the fd is the holder's namespace only if the holder is still the process behind the pid */
        if (u->holder_pidfd >= 0 && syscall(SYS_pidfd_send_signal, u->holder_pidfd, 0, NULL, 0) < 0)
                return herror_sys(err, errno, "the user namespace holder went away");
        return 0;
}

int sandbox_userns_prepare(const struct idmap_ranges *m, struct sandbox_userns *ret, struct herror *err)
{
        struct sandbox_userns *u = ret;
        *u = (struct sandbox_userns) SANDBOX_USERNS_INIT;
        u->maps = *m;
        int r = idmap_plan_ranges(m, &u->plan, err);
        if (r == 0)
                r = start_holder(u, err);
        if (r == 0)
                r = idmap_write_start(u->holder, m, &u->plan, &u->pending, err);
        if (r < 0)
                sandbox_userns_release(u);
        return r;
}

int sandbox_userns_finish(struct sandbox_userns *u, struct herror *err)
{
        if (u->fd < 0)
                return herror_set(err, EINVAL, "no user namespace was prepared");
        int r = idmap_write_finish(&u->pending, err);
        /* mapped or not, the holder's work is done: it exits at EOF and is reaped by release */
        closep(&u->holder_pipe);
        return r;
}

static bool same_maps(const struct spec_idmap *a, size_t na, const struct spec_idmap *b, size_t nb)
{
        if (na != nb)
                return false;
        for (size_t i = 0; i < na; i++)
                if (a[i].container_id != b[i].container_id || a[i].host_id != b[i].host_id || a[i].size != b[i].size)
                        return false;
        return true;
}

bool sandbox_userns_matches(const struct sandbox_userns *u, const struct spec *s)
{
        return same_maps(u->maps.uid, u->maps.n_uid, s->uid_mappings, s->n_uid_mappings) &&
                same_maps(u->maps.gid, u->maps.n_gid, s->gid_mappings, s->n_gid_mappings);
}

void sandbox_userns_release(struct sandbox_userns *u)
{
        idmap_write_finish(&u->pending, NULL);
        closep(&u->holder_pipe);
        if (u->holder > 0) {
                if (u->holder_pidfd >= 0)
                        syscall(SYS_pidfd_send_signal, u->holder_pidfd, SIGKILL, NULL, 0);
                else
                        kill(u->holder, SIGKILL);
                while (waitpid(u->holder, NULL, 0) < 0 && errno == EINTR)
                        ;
                u->holder = 0;
        }
        closep(&u->holder_pidfd);
        closep(&u->fd);
}
