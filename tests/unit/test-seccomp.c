/* The OCI seccomp section compiled by hutch, loaded for real in a child, must do what it says. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <unistd.h>

#include "sandbox/seccomp.h"
#include "spec/spec.h"

static struct spec *load_spec_with_seccomp(const char *seccomp_json)
{
        char buf[8192];
        snprintf(buf, sizeof buf,
                 "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"r\"},\"process\":{\"user\":{\"uid\":0,\"gid\":0},"
                 "\"args\":[\"sh\"],\"cwd\":\"/\"},\"linux\":{\"seccomp\":%s}}",
                 seccomp_json);
        struct spec *s = NULL;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        if (spec_parse(buf, strlen(buf), "config.json", &s, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        return s;
}

/* Runs fn in a child after loading the program; returns the child's exit code. */
static int run_filtered(const struct seccomp_program *p, int (*fn)(void))
{
        pid_t pid = fork();
        if (pid == 0) {
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_program_load(p) < 0)
                        _exit(200);
                _exit(fn());
        }
        int status;
        waitpid(pid, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int try_getppid_errno(void)
{
        long r = syscall(SYS_getppid);
        return r < 0 ? errno : 0;
}

static int try_unshare_user(void)
{
        return unshare(CLONE_NEWUSER) < 0 ? errno : 0;
}

static int try_getpid(void)
{
        return syscall(SYS_getpid) > 0 ? 0 : 1;
}

static void errno_rule_returns_errno(void **state)
{
        _cleanup_spec_ struct spec *s = load_spec_with_seccomp(
                "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":42}]}");
        struct seccomp_program p = { 0 };
        _cleanup_herror_ struct herror err = HERROR_INIT;
        assert_int_equal(seccomp_compile(s->seccomp, &p, &err), 0);
        assert_true(p.len > 0);
        assert_int_equal(run_filtered(&p, try_getppid_errno), 42);
        assert_int_equal(run_filtered(&p, try_getpid), 0);
        seccomp_program_free(&p);
}

static void default_errno_applies_to_unlisted(void **state)
{
        _cleanup_spec_ struct spec *s = load_spec_with_seccomp(
                "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,\"syscalls\":[{\"names\":[\"getpid\",\"exit_group\",\"exit\","
                /* what a sanitizer runtime needs to live and to report */
                "\"read\",\"write\",\"mmap\",\"munmap\",\"mprotect\",\"madvise\",\"brk\",\"rt_sigaction\",\"rt_sigprocmask\","
                "\"sigaltstack\",\"futex\",\"gettid\",\"tgkill\",\"prctl\",\"sched_yield\",\"clock_gettime\",\"nanosleep\",\"openat\",\"close\",\"fstat\",\"newfstatat\"],"
                "\"action\":\"SCMP_ACT_ALLOW\"}]}");
        struct seccomp_program p = { 0 };
        _cleanup_herror_ struct herror err = HERROR_INIT;
        assert_int_equal(seccomp_compile(s->seccomp, &p, &err), 0);
        assert_int_equal(run_filtered(&p, try_getppid_errno), 38);
        assert_int_equal(run_filtered(&p, try_getpid), 0);
        seccomp_program_free(&p);
}

/* Namespace flags blocked by an argument filter, as the default profile does for clone. */
static void masked_eq_argument_filter(void **state)
{
        _cleanup_spec_ struct spec *s = load_spec_with_seccomp(
                "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"unshare\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1,"
                "\"args\":[{\"index\":0,\"value\":268435456,\"valueTwo\":268435456,\"op\":\"SCMP_CMP_MASKED_EQ\"}]}]}");
        struct seccomp_program p = { 0 };
        _cleanup_herror_ struct herror err = HERROR_INIT;
        assert_int_equal(seccomp_compile(s->seccomp, &p, &err), 0);
        assert_int_equal(run_filtered(&p, try_unshare_user), EPERM);
        seccomp_program_free(&p);
}

static void unknown_syscall_names_are_skipped(void **state)
{
        _cleanup_spec_ struct spec *s = load_spec_with_seccomp(
                "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"no_such_syscall_2099\",\"getppid\"],"
                "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":7}]}");
        struct seccomp_program p = { 0 };
        _cleanup_herror_ struct herror err = HERROR_INIT;
        assert_int_equal(seccomp_compile(s->seccomp, &p, &err), 0);
        assert_int_equal(run_filtered(&p, try_getppid_errno), 7);
        seccomp_program_free(&p);
}

static void unknown_architecture_is_an_error(void **state)
{
        _cleanup_spec_ struct spec *s = load_spec_with_seccomp(
                "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_PDP11\"]}");
        struct seccomp_program p = { 0 };
        _cleanup_herror_ struct herror err = HERROR_INIT;
        assert_true(seccomp_compile(s->seccomp, &p, &err) < 0);
        assert_non_null(strstr(herror_msg(&err), "SCMP_ARCH_PDP11"));
}

static void cache_hits_after_a_miss_and_keys_on_content(void **state)
{
        char dir[] = "/tmp/hutch-sccache-XXXXXX";
        assert_non_null(mkdtemp(dir));
        setenv("HUTCH_SECCOMP_CACHE", dir, 1);
        const char *profile =
                "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":42}]}";
        _cleanup_spec_ struct spec *s = load_spec_with_seccomp(profile);
        struct seccomp_program a = { 0 }, b = { 0 }, c = { 0 };
        bool cached = true;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        assert_int_equal(seccomp_compile_cached(s->seccomp, &a, &cached, &err), 0);
        assert_false(cached);
        assert_int_equal(seccomp_compile_cached(s->seccomp, &b, &cached, &err), 0);
        assert_true(cached);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.insns, b.insns, a.len * sizeof(struct sock_filter));
        assert_int_equal(run_filtered(&b, try_getppid_errno), 42);
        /* another errno is another program: a miss */
        s->seccomp->rules[0].errno_ret = 43;
        assert_int_equal(seccomp_compile_cached(s->seccomp, &c, &cached, &err), 0);
        assert_false(cached);
        assert_int_equal(run_filtered(&c, try_getppid_errno), 43);
        seccomp_program_free(&c);
        /* a corrupt entry is not used */
        char cmd[256];
        snprintf(cmd, sizeof cmd, "for f in %s/seccomp/*.bpf; do printf abc > $f; done", dir);
        assert_int_equal(system(cmd), 0);
        assert_int_equal(seccomp_compile_cached(s->seccomp, &c, &cached, &err), 0);
        assert_false(cached);
        assert_int_equal(run_filtered(&c, try_getppid_errno), 43);
        seccomp_program_free(&c);
        setenv("HUTCH_SECCOMP_CACHE", "0", 1);
        assert_int_equal(seccomp_compile_cached(s->seccomp, &c, &cached, &err), 0);
        assert_false(cached);
        seccomp_program_free(&a);
        seccomp_program_free(&b);
        seccomp_program_free(&c);
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        assert_int_equal(system(cmd), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(errno_rule_returns_errno),
                cmocka_unit_test(default_errno_applies_to_unlisted),
                cmocka_unit_test(masked_eq_argument_filter),
                cmocka_unit_test(unknown_syscall_names_are_skipped),
                cmocka_unit_test(unknown_architecture_is_an_error),
                cmocka_unit_test(cache_hits_after_a_miss_and_keys_on_content),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
