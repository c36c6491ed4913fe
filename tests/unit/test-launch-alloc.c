/* The container init allocates nothing on its success path (issue 10: it runs after clone on a copy of
 * the launcher's heap, and a launch should cost only syscalls). This test binary replaces malloc, calloc
 * and realloc: in any process but the test's own they end that process with status 97, so an init that
 * allocates never reaches exec and the launch fails; a forked child that allocates shows the trap works.
 * Not built with sanitizers nor run under valgrind, which replace malloc themselves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/container.h"
#include "spec/build.h"
#include "util/json.h"

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);

static pid_t test_pid;

static void trap_other_process(void)
{
        if (test_pid && (pid_t) syscall(SYS_getpid) != test_pid)
                _exit(97);
}

void *malloc(size_t n)
{
        trap_other_process();
        return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
        trap_other_process();
        return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
        trap_other_process();
        return __libc_realloc(p, n);
}

static char dir[64];

static int setup(void **state)
{
        (void) state;
        snprintf(dir, sizeof dir, "/tmp/hutch-alloc-XXXXXX");
        if (!mkdtemp(dir))
                return -1;
        char cmd[1024];
        /* a rootfs with a static /bin/true, readable by the unprivileged user the test may run as */
        snprintf(cmd, sizeof cmd,
                 "chmod 0755 %s && mkdir -p %s/rootfs/bin %s/rootfs/proc %s/rootfs/dev %s/rootfs/sys "
                 "%s/rootfs/tmp && cp /bin/busybox %s/rootfs/bin/busybox && ln -s busybox %s/rootfs/bin/true",
                 dir, dir, dir, dir, dir, dir, dir, dir);
        return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
        (void) state;
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : -1;
}

static struct spec *default_spec(void)
{
        bool rootless = geteuid() != 0;
        _cleanup_json_ json_t *j = NULL;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        if (spec_build_default(rootless, getuid(), getgid(), &j, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        json_object_set_new(json_object_get(j, "process"), "terminal", json_false());
        json_object_set_new(json_object_get(j, "process"), "args", json_pack("[s]", "/bin/true"));
        _cleanup_free_ char *text = json_dumps(j, JSON_COMPACT);
        struct spec *s = NULL;
        if (spec_parse(text, strlen(text), "test", &s, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        return s;
}

/* Runs /bin/true; returns its status, or -errno when the launch failed. */
static int launch(void)
{
        struct spec *s = default_spec();
        _cleanup_close_ int bundlefd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(bundlefd >= 0);
        struct sandbox_opts o = { .bundle_dirfd = bundlefd,
                                  .bundle_path = dir,
                                  .state_dirfd = -1,
                                  .console_socket_fd = -1,
                                  .container_id = "alloc",
                                  .die_with_parent = true };
        struct sandbox sb = SANDBOX_INIT;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        test_pid = (pid_t) syscall(SYS_getpid);
        int r = sandbox_create(s, &o, &sb, &err);
        test_pid = 0;
        int status = -1;
        if (r == 0 && sandbox_wait(&sb, &status, &err) < 0)
                status = -1;
        if (r < 0)
                print_message("# launch failed: %s\n", herror_msg(&err));
        sandbox_release(&sb);
        spec_free(s);
        return r < 0 ? r : status;
}

static void init_does_not_allocate(void **state)
{
        (void) state;
        assert_int_equal(launch(), 0);
}

/* The trap itself: a fork that allocates must die with 97 (else the test above proves nothing). */
static void trap_catches_an_allocation(void **state)
{
        (void) state;
        test_pid = (pid_t) syscall(SYS_getpid);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                void *volatile p = malloc(16);
                (void) p;
                _exit(0);
        }
        test_pid = 0;
        int st = 0;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 97);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(trap_catches_an_allocation),
                cmocka_unit_test_setup_teardown(init_does_not_allocate, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
