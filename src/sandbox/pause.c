#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/container.h"
#include "sandbox/kernel.h"
#include "sandbox/pause.h"
#include "util/fileio.h"

#define PID_FILE "pause.pid"
#define LOCK_FILE "pause.lock"

bool sandbox_pause_enabled(void)
{
        const char *e = getenv("HUTCH_USERNS_PAUSE");
        return !e || !(streq(e, "off") || streq(e, "0") || streq(e, "no") || streq(e, "false"));
}

/* /tmp is shared: a directory someone else made there, or one others can write, is not used. */
static int open_pause_dir(struct herror *err)
{
        char path[PATH_MAX];
        const char *x = getenv("XDG_RUNTIME_DIR");
        uid_t uid = getuid();
        int n = x && x[0] == '/' ? snprintf(path, sizeof path, "%s/hutch-pause", x)
                                 : snprintf(path, sizeof path, "/tmp/hutch-pause-%u", (unsigned) uid);
        if (n < 0 || (size_t) n >= sizeof path)
                return herror_set(err, ENAMETOOLONG, "the pause directory's path is too long");
        /* made once: every later launch finds it with the open alone */
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT && (mkdir(path, 0700) == 0 || errno == EEXIST))
                fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return herror_sys(err, errno, "open %s", path);
        struct stat st;
        if (fstat(fd, &st) < 0 || st.st_uid != uid || (st.st_mode & 077)) {
                close(fd);
                return herror_set(err, EPERM, "%s is not a private directory of uid %u", path, (unsigned) uid);
        }
        return fd;
}

static bool has_range(const struct spec_idmap *m, size_t n, unsigned c, unsigned h, unsigned s)
{
        for (size_t i = 0; i < n; i++)
                if (m[i].container_id == c && m[i].host_id == h && m[i].size == s)
                        return true;
        return false;
}

/* The kernel sorts maps of more than five ranges, so they are compared as sets. */
static bool proc_map_is(pid_t pid, const char *name, const struct spec_idmap *m, size_t n)
{
        char path[64], buf[4096];
        snprintf(path, sizeof path, "/proc/%d/%s", (int) pid, name);
        if (read_text_at(AT_FDCWD, path, buf, sizeof buf) < 0)
                return false;
        size_t seen = 0;
        char *save = NULL;
        for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save), seen++) {
                unsigned c, h, s;
                if (sscanf(line, "%u %u %u", &c, &h, &s) != 3 || !has_range(m, n, c, h, s))
                        return false;
        }
        return seen == n;
}

/* The namespace of the process the pid file names, if it still runs with maps m; -ESRCH otherwise.
 * The pidfd pins the process, its start time tells it from a later process given the same pid, and
 * it is asked to be alive after the namespace was opened, so the fd is that process's namespace. */
static int find_pause(int dirfd, const struct idmap_ranges *m)
{
        char buf[64];
        int pid;
        unsigned long long start;
        if (read_text_at(dirfd, PID_FILE, buf, sizeof buf) < 0 || sscanf(buf, "%d %llu", &pid, &start) != 2 || pid <= 0)
                return -ESRCH;
        _cleanup_close_ int pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        if (pidfd < 0 || !sandbox_process_alive(pid, start))
                return -ESRCH;
        if (!proc_map_is(pid, "uid_map", m->uid, m->n_uid) || !proc_map_is(pid, "gid_map", m->gid, m->n_gid)) {
                /* ours, mapped from an older /etc/subuid or /etc/subgid: retired, a new one is made */
                syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
                return -ESRCH;
        }
        int nsfd = kernel_open_ns(pid, pidfd, "user");
        return nsfd < 0 ? -ESRCH : nsfd;
}

/* Its own session, so no terminal's hangup or Ctrl-C reaches it; "/" as its directory, so it pins no
 * mount; /dev/null for 0-2 and no other descriptor of the launcher's (a copy of the store's lock, a
 * pipe someone reads to EOF). It execs only once its maps are written and its pid file is in place. */
static _noreturn_ void pause_child(int go)
{
        int null = open("/dev/null", O_RDWR);
        if (setsid() < 0 || chdir("/") < 0 || null < 0)
                _exit(EXIT_FAILURE);
        for (int i = 0; i < 3; i++)
                if (dup2(null, i) < 0)
                        _exit(EXIT_FAILURE);
        if (go > 3)
                syscall(SYS_close_range, 3U, (unsigned) go - 1, 0U);
        syscall(SYS_close_range, (unsigned) go + 1, ~0U, 0U);
        char c;
        if (read(go, &c, 1) != 1)
                _exit(EXIT_FAILURE);
        /* a fresh image: no copy of the launcher's memory or of its argv (/proc/PID/cmdline is public) */
        char *argv[] = { (char *) SANDBOX_PAUSE_ARGV0, NULL }, *envp[] = { NULL };
        execve("/proc/self/exe", argv, envp);
        _exit(127);
}

/* A child that exits at once, so the pause process is nobody's child but init's (or a subreaper's). */
static _noreturn_ void pause_parent(int go, int res)
{
        pid_t p = kernel_clone_pidfd(CLONE_NEWUSER, SIGCHLD, -1, NULL);
        if (p == 0) {
                close(res);
                pause_child(go);
        }
        int v = p > 0 ? p : -errno;
        _exit(write(res, &v, sizeof v) == (ssize_t) sizeof v ? EXIT_SUCCESS : EXIT_FAILURE);
}

static int start_pause_process(pid_t *ret, int *ret_go, struct herror *err)
{
        int go[2], res[2];
        if (pipe2(go, O_CLOEXEC) < 0)
                return herror_sys(err, errno, "pipe for the pause process");
        if (pipe2(res, O_CLOEXEC) < 0) {
                int e = errno;
                close(go[0]);
                close(go[1]);
                return herror_sys(err, e, "pipe for the pause process");
        }
        pid_t i = kernel_clone_pidfd(0, SIGCHLD, -1, NULL);
        if (i == 0) {
                close(go[1]);
                close(res[0]);
                pause_parent(go[0], res[1]);
        }
        int e = errno;
        close(go[0]);
        close(res[1]);
        int v = -EIO;
        ssize_t n = i < 0 ? -e : read_all(res[0], &v, sizeof v);
        close(res[0]);
        while (i > 0 && waitpid(i, NULL, 0) < 0 && errno == EINTR)
                ;
        if (n != (ssize_t) sizeof v || v <= 0) {
                close(go[1]);
                return herror_sys(err, i < 0 ? e : v < 0 ? -v : EIO, "start the pause process");
        }
        *ret = v;
        *ret_go = go[1];
        return 0;
}

/* newuidmap and newgidmap write the maps, as they would for a container; the pid file names the
 * process by pid and start time; then it may exec. Any failure closes go and the process exits. */
static int make_pause(int dirfd, const struct idmap_ranges *m, struct herror *err)
{
        pid_t pid;
        _cleanup_close_ int go = -1;
        int r = start_pause_process(&pid, &go, err);
        if (r < 0)
                return r;
        struct idmap_plan plan = { .use_helpers = true };
        if ((r = idmap_write_ranges(pid, m, &plan, err)) < 0)
                return herror_wrap(err, "map the pause namespace");
        unsigned long long start = sandbox_process_start_time(pid);
        if (start == 0)
                return herror_set(err, ESRCH, "the pause process %d went away", (int) pid);
        char line[64];
        int len = snprintf(line, sizeof line, "%d %llu\n", (int) pid, start);
        if ((r = atomic_write_at(dirfd, PID_FILE, line, (size_t) len, 0600, err)) < 0)
                return r;
        int nsfd = kernel_open_ns(pid, -1, "user");
        if (nsfd < 0)
                return herror_sys(err, -nsfd, "open /proc/%d/ns/user", (int) pid);
        if (write(go, "g", 1) != 1) {
                close(nsfd);
                return herror_sys(err, errno, "start the pause process");
        }
        return nsfd;
}

int sandbox_pause_userns(const struct idmap_ranges *m, int *ret_fd, struct herror *err)
{
        _cleanup_close_ int dirfd = open_pause_dir(err);
        if (dirfd < 0)
                return dirfd;
        int fd = find_pause(dirfd, m);
        if (fd < 0) {
                /* one maker at a time, or two first launches would each leave a pause process behind */
                _cleanup_close_ int lock = openat(dirfd, LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (lock < 0)
                        return herror_sys(err, errno, "open %s", LOCK_FILE);
                while (flock(lock, LOCK_EX) < 0)
                        if (errno != EINTR)
                                return herror_sys(err, errno, "lock %s", LOCK_FILE);
                fd = find_pause(dirfd, m);
                if (fd < 0 && (fd = make_pause(dirfd, m, err)) < 0)
                        return fd;
        }
        *ret_fd = fd;
        return 0;
}

void sandbox_pause_main(void)
{
        prctl(PR_SET_NAME, SANDBOX_PAUSE_ARGV0, 0, 0, 0);
        sigset_t s;
        sigfillset(&s);
        sigdelset(&s, SIGTERM);
        signal(SIGTERM, SIG_DFL);
        sigprocmask(SIG_SETMASK, &s, NULL);
        for (;;)
                pause();
}
