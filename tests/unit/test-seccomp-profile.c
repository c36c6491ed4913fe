/* Profile files: hutch's own (OCI form) and the Docker / containers-common form, loaded, compiled and
 * enforced for real in a child. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/seccomp.h"
#include "spec/spec.h"

#define PODMAN_CAPS                                                                                           \
        ((1ULL << CAP_CHOWN) | (1ULL << CAP_DAC_OVERRIDE) | (1ULL << CAP_FOWNER) | (1ULL << CAP_FSETID) |     \
         (1ULL << CAP_KILL) | (1ULL << CAP_NET_BIND_SERVICE) | (1ULL << CAP_SETFCAP) | (1ULL << CAP_SETGID) | \
         (1ULL << CAP_SETPCAP) | (1ULL << CAP_SETUID) | (1ULL << CAP_SYS_CHROOT))

static int run_filtered(const struct spec_seccomp *sc, long nr)
{
        struct seccomp_program p = { 0 };
        _cleanup_herror_ struct herror err = HERROR_INIT;
        if (seccomp_compile(sc, &p, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        pid_t pid = fork();
        if (pid == 0) {
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_program_load(&p) < 0)
                        _exit(200);
                long r = syscall(nr, 0, 0, 0, 0);
                _exit(r < 0 ? errno : 0);
        }
        int status;
        waitpid(pid, &status, 0);
        seccomp_program_free(&p);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void hutch_default_profile(void **state)
{
        const char *src = getenv("HUTCH_SOURCE_DIR");
        char path[4096];
        snprintf(path, sizeof path, "%s/profiles/seccomp/default.json", src ? src : "..");
        struct spec_seccomp *sc = NULL;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        if (spec_load_seccomp_profile(AT_FDCWD, path, PODMAN_CAPS, &sc, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        assert_int_equal(run_filtered(sc, SYS_getppid), 0);
        assert_int_equal(run_filtered(sc, SYS_keyctl), EPERM);
        assert_int_equal(run_filtered(sc, SYS_io_uring_setup), EPERM);
        assert_int_equal(run_filtered(sc, 1000 /* no such syscall */), ENOSYS);
        spec_seccomp_free(sc);
}

static bool has_errno_rule_for(const struct spec_seccomp *sc, const char *name)
{
        for (size_t i = 0; i < sc->n_rules; i++)
                for (size_t k = 0; sc->rules[i].action == SECCOMP_ACT_ERRNO && sc->rules[i].names[k]; k++)
                        if (streq(sc->rules[i].names[k], name))
                                return true;
        return false;
}

static void containers_common_profile(void **state)
{
        const char *path = "/usr/share/containers/seccomp.json";
        if (access(path, R_OK) < 0) {
                if (getenv("HUTCH_MUST_WORK"))
                        fail_msg("required in CI: %s (package golang-github-containers-common)", path);
                skip();
        }
        struct spec_seccomp *sc = NULL;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        if (spec_load_seccomp_profile(AT_FDCWD, path, PODMAN_CAPS, &sc, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        /* what podman allows works, what it denies fails as podman's profile says */
        assert_int_equal(run_filtered(sc, SYS_getppid), 0);
        assert_int_equal(run_filtered(sc, SYS_io_uring_setup), ENOSYS); /* not in the profile: its default */
        assert_int_equal(run_filtered(sc, SYS_kexec_load), EPERM);      /* an explicit EPERM rule */
        struct spec_seccomp *admin = NULL;
        assert_int_equal(spec_load_seccomp_profile(AT_FDCWD, path, PODMAN_CAPS | (1ULL << CAP_SYS_ADMIN), &admin, &err),
                         0);
        /* the profile's EPERM rule for bpf is excluded when CAP_SYS_ADMIN is held */
        assert_true(has_errno_rule_for(sc, "bpf"));
        assert_false(has_errno_rule_for(admin, "bpf"));
        spec_seccomp_free(admin);
        spec_seccomp_free(sc);
}

static int load_inline(const char *json, uint64_t caps, struct spec_seccomp **ret, char *msg, size_t size)
{
        char path[] = "/tmp/hutch-profile-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, json, strlen(json)), (ssize_t) strlen(json));
        close(fd);
        _cleanup_herror_ struct herror err = HERROR_INIT;
        int r = spec_load_seccomp_profile(AT_FDCWD, path, caps, ret, &err);
        snprintf(msg, size, "%s", herror_msg(&err));
        unlink(path);
        return r;
}

static void includes_and_excludes(void **state)
{
        const char *p =
                "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,"
                "\"archMap\":[{\"architecture\":\"SCMP_ARCH_X86_64\",\"subArchitectures\":[\"SCMP_ARCH_X86\"]},"
                "{\"architecture\":\"SCMP_ARCH_AARCH64\",\"subArchitectures\":[\"SCMP_ARCH_ARM\"]}],"
                "\"syscalls\":["
                "{\"names\":[\"getpid\"],\"action\":\"SCMP_ACT_ALLOW\",\"comment\":\"always\"},"
                "{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":[\"CAP_SYS_ADMIN\"]}},"
                "{\"names\":[\"gettid\"],\"action\":\"SCMP_ACT_ALLOW\",\"excludes\":{\"caps\":[\"CAP_KILL\"]}},"
                "{\"names\":[\"getuid\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"minKernel\":\"99.0\"}},"
                "{\"names\":[\"getgid\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"arches\":[\"s390x\"]}}]}";
        struct spec_seccomp *sc = NULL;
        char msg[512];
        assert_int_equal(load_inline(p, 1ULL << CAP_KILL, &sc, msg, sizeof msg), 0);
        assert_int_equal(sc->n_rules, 1); /* only the unconditional rule */
        spec_seccomp_free(sc);
        assert_int_equal(load_inline(p, 1ULL << CAP_SYS_ADMIN, &sc, msg, sizeof msg), 0);
        assert_int_equal(sc->n_rules, 3); /* + getppid (includes SYS_ADMIN) + gettid (no KILL to exclude it) */
        assert_string_equal(sc->architectures[0], "SCMP_ARCH_X86_64");
        assert_string_equal(sc->architectures[1], "SCMP_ARCH_X86");
        assert_null(sc->architectures[2]);
        spec_seccomp_free(sc);
        assert_true(
                load_inline(
                        "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"x\"],\"action\":\"SCMP_ACT_ALLOW\","
                        "\"includes\":{\"minKernel\":\"abc\"}}]}",
                        0, &sc, msg, sizeof msg) < 0);
        assert_non_null(strstr(msg, "minKernel"));
        assert_true(load_inline("{\"defaultAction\":\"SCMP_ACT_BOGUS\"}", 0, &sc, msg, sizeof msg) < 0);
        assert_non_null(strstr(msg, "/tmp/hutch-profile-"));
        assert_non_null(strstr(msg, "defaultAction"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(hutch_default_profile),
                cmocka_unit_test(containers_common_profile),
                cmocka_unit_test(includes_and_excludes),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
