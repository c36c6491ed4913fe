/* sandbox_isolated_call: a probe function runs inside and records what it can reach; the parent then
 * checks that the child's root was the target directory, that the dangerous calls were refused, that
 * only the kept descriptors were open, and that owners set inside land where the ID map says. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <dirent.h>
#include <pthread.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "sandbox/isolate.h"
#include "image-helpers.h"

struct probe {
        int root_entries;   /* names in "/" other than . and .. */
        int dotdot_is_root; /* ".." of "/" is "/" */
        int open_fds;       /* descriptors 0..255 open besides root, channel and the kept one */
        int kept_fd_ok;
        uint32_t uid;
        uint64_t cap_eff;
        int e_socket, e_mount, e_ptrace, e_unshare, e_keyctl, e_bpf, e_uring, e_execve, e_proc, e_chroot;
        int e_thread; /* pthread_create's answer: threads are allowed */
        int thread_ran;
        int e_fork, e_clone_ns; /* a new process, and a thread with a namespace flag, are not */
};

static void *thread_fn(void *arg)
{
        *(int *) arg = 1;
        return NULL;
}

static int err_of(long r)
{
        return r < 0 ? errno : 0;
}

static int count_entries(int rootfd)
{
        int n = 0;
        DIR *d = fdopendir(fcntl(rootfd, F_DUPFD_CLOEXEC, 3));
        struct dirent *de;
        while (d && (de = readdir(d)))
                n += !streq(de->d_name, ".") && !streq(de->d_name, "..");
        if (d)
                closedir(d);
        return n;
}

static int probe_fn(struct isolate_child *c, void *arg, struct herror *err)
{
        int kept = *(int *) arg;
        struct probe *p = c->result;
        p->root_entries = count_entries(c->rootfd);
        struct stat a, b;
        p->dotdot_is_root =
                stat("/..", &a) == 0 && fstat(c->rootfd, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
        for (int fd = 0; fd < 256; fd++)
                if (fd != c->rootfd && fd != c->chan && fd != kept && fcntl(fd, F_GETFD) >= 0)
                        p->open_fds++;
        char buf[8];
        p->kept_fd_ok = pread(kept, buf, 2, 0) == 2 && memcmp(buf, "ok", 2) == 0;
        p->uid = (uint32_t) getuid();
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct d[2] = { 0 };
        if (syscall(SYS_capget, &h, d) == 0)
                p->cap_eff = d[0].effective | ((uint64_t) d[1].effective << 32);
        p->e_socket = err_of(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        p->e_mount = err_of(mount("none", "/", "tmpfs", 0, NULL));
        p->e_ptrace = err_of(ptrace(PTRACE_TRACEME, 0, NULL, NULL));
        p->e_unshare = err_of(unshare(CLONE_NEWUSER));
        p->e_keyctl = err_of(syscall(SYS_keyctl, 0, 0, 0, 0, 0));
        p->e_bpf = err_of(syscall(SYS_bpf, 0, NULL, 0));
        p->e_uring = err_of(syscall(SYS_io_uring_setup, 1, NULL));
        char *argv[] = { "/sub/x", NULL };
        p->e_execve = err_of(execve("/sub/x", argv, argv + 1));
        p->e_proc = err_of(open("/proc/self/status", O_RDONLY | O_CLOEXEC));
        p->e_chroot = err_of(chroot("/sub"));
        pthread_t t;
        p->e_thread = pthread_create(&t, NULL, thread_fn, &p->thread_ran);
        if (p->e_thread == 0)
                pthread_join(t, NULL);
        p->e_fork = err_of(fork());
        if (p->e_fork == 0)
                _exit(0); /* a fork that worked must not run the rest of the probe */
        p->e_clone_ns =
                err_of(syscall(SYS_clone, CLONE_THREAD | CLONE_VM | CLONE_SIGHAND | CLONE_NEWNS, NULL, NULL, NULL, 0));
        /* Owners as the map has them: 1000 inside. */
        int fd = openat(c->rootfd, "owned", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 || fchown(fd, 1000, 1000) < 0)
                return herror_sys(err, errno, "probe: create and chown /owned");
        close(fd);
        isolate_progress(c, 1, 2);
        isolate_progress(c, 2, 2);
        return 0;
}

struct fixture {
        char *base;
        int rootfd;
        int keptfd;
        struct isolate_plan plan;
};

static int setup(void **state)
{
        struct fixture *fx = calloc(1, sizeof *fx);
        fx->base = th_mkdtemp("isolate");
        th_write_file(fx->base, "marker", "m");
        char p[1024];
        snprintf(p, sizeof p, "%s/sub", fx->base);
        assert_int_equal(mkdir(p, 0755), 0);
        th_write_file(p, "x", "#!/bin/sh\n");
        fx->rootfd = open(fx->base, O_PATH | O_DIRECTORY | O_CLOEXEC);
        snprintf(p, sizeof p, "%s.kept", fx->base);
        fx->keptfd = open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_int_equal(write(fx->keptfd, "ok", 2), 2);
        unlink(p);
        _cleanup_herror_ struct herror err = HERROR_INIT;
        if (isolate_plan_init(&fx->plan, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        *state = fx;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *fx = *state;
        isolate_plan_done(&fx->plan);
        close(fx->rootfd);
        close(fx->keptfd);
        th_rm_rf(fx->base);
        free(fx->base);
        free(fx);
        return 0;
}

static void count_progress(uint64_t done, uint64_t total, void *userdata)
{
        (*(int *) userdata)++;
        assert_int_equal(total, 2);
        assert_true(done == 1 || done == 2);
}

static void test_probe_is_confined(void **state)
{
        struct fixture *fx = *state;
        /* A descriptor the parent holds but does not pass must not reach the child. */
        int leaked = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(leaked >= 0);
        struct probe p = { 0 };
        int progress = 0;
        struct isolate_opts o = { .root_fd = fx->rootfd,
                                  .keep_fds = &fx->keptfd,
                                  .n_keep_fds = 1,
                                  .result = &p,
                                  .result_size = sizeof p,
                                  .progress = count_progress,
                                  .userdata = &progress };
        _cleanup_herror_ struct herror err = HERROR_INIT;
        int r = sandbox_isolated_call(&fx->plan, &o, probe_fn, &fx->keptfd, &err);
        close(leaked);
        if (r < 0)
                fail_msg("%s", herror_msg(&err));
        assert_int_equal(p.root_entries, 2); /* marker, sub */
        assert_true(p.dotdot_is_root);
        assert_int_equal(p.open_fds, 0);
        assert_true(p.kept_fd_ok);
        assert_int_equal(p.uid, 0);
        uint64_t want = (1ull << CAP_CHOWN) | (1ull << CAP_DAC_OVERRIDE) | (1ull << CAP_FOWNER) | (1ull << CAP_FSETID) |
                (1ull << CAP_SETFCAP);
        assert_int_equal(p.cap_eff, want);
        assert_int_equal(p.e_socket, EPERM);
        assert_int_equal(p.e_mount, EPERM);
        assert_int_equal(p.e_ptrace, EPERM);
        assert_int_equal(p.e_unshare, EPERM);
        assert_int_equal(p.e_keyctl, EPERM);
        assert_int_equal(p.e_bpf, EPERM);
        assert_int_equal(p.e_uring, EPERM);
        assert_int_equal(p.e_execve, EPERM);
        assert_int_equal(p.e_proc, ENOENT);
        assert_int_equal(p.e_chroot, EPERM);
        assert_int_equal(p.e_thread, 0);
        assert_int_equal(p.thread_ran, 1);
        assert_int_equal(p.e_fork, EPERM);
        assert_int_equal(p.e_clone_ns, ENOSYS);
        assert_int_equal(progress, 2);
        /* The owner set inside, seen from here: the map's host ID for 1000. */
        char path[1024];
        snprintf(path, sizeof path, "%s/owned", fx->base);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        uint32_t host = UINT32_MAX;
        for (size_t i = 0; i < fx->plan.n_uid; i++)
                if (1000 >= fx->plan.uid[i].container_id && 1000 - fx->plan.uid[i].container_id < fx->plan.uid[i].size)
                        host = fx->plan.uid[i].host_id + (1000 - fx->plan.uid[i].container_id);
        assert_int_equal(st.st_uid, host);
        if (geteuid() == 0)
                assert_int_equal(st.st_uid, 1000); /* the identity map */
}

static int failing_fn(struct isolate_child *c, void *arg, struct herror *err)
{
        return herror_set(err, EBADMSG, "layer 3 (sha256:abc): truncated gzip");
}

static void test_error_comes_back(void **state)
{
        struct fixture *fx = *state;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        assert_int_equal(sandbox_isolated_call(&fx->plan, &(struct isolate_opts) { .root_fd = fx->rootfd }, failing_fn,
                                               NULL, &err),
                         -EBADMSG);
        assert_string_equal(herror_msg(&err), "layer 3 (sha256:abc): truncated gzip");
}

static int crashing_fn(struct isolate_child *c, void *arg, struct herror *err)
{
        _exit(3); /* leave without an answer */
}

static void test_dead_child_is_an_error(void **state)
{
        struct fixture *fx = *state;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        int r = sandbox_isolated_call(&fx->plan, &(struct isolate_opts) { .root_fd = fx->rootfd }, crashing_fn, NULL,
                                      &err);
        assert_true(r < 0);
        assert_non_null(strstr(herror_msg(&err), "without an answer"));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
        const struct CMUnitTest tests[] = {
                T(test_probe_is_confined),
                T(test_error_comes_back),
                T(test_dead_child_is_an_error),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
