/* The resolver against a crafted tree; every test runs twice, with openat2 and with the forced
 * userspace walk, so the fallback is never a path nobody runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/safepath.h"

struct tree {
        char base[256];    /* mkdtemp dir */
        char root[300];    /* base/root: the untrusted tree */
        char outside[300]; /* base/outside: must never be touched */
        int rootfd;
        bool fallback;
};

static void mk(const char *dir, const char *name, const char *content)
{
        char p[600];
        snprintf(p, sizeof p, "%s/%s", dir, name);
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        fputs(content, f);
        fclose(f);
}

static void ln(const char *target, const char *dir, const char *name)
{
        char p[600];
        snprintf(p, sizeof p, "%s/%s", dir, name);
        assert_int_equal(symlink(target, p), 0);
}

static int setup_tree(void **state, bool fallback)
{
        struct tree *t = calloc(1, sizeof *t);
        snprintf(t->base, sizeof t->base, "/tmp/hutch-safepath-XXXXXX");
        if (!mkdtemp(t->base))
                return -1;
        snprintf(t->root, sizeof t->root, "%s/root", t->base);
        snprintf(t->outside, sizeof t->outside, "%s/outside", t->base);
        mkdir(t->root, 0755);
        mkdir(t->outside, 0755);
        char p[600];
        snprintf(p, sizeof p, "%s/etc", t->root);
        mkdir(p, 0755);
        snprintf(p, sizeof p, "%s/a", t->root);
        mkdir(p, 0755);
        snprintf(p, sizeof p, "%s/a/b", t->root);
        mkdir(p, 0755);
        mk(t->root, "etc/marker", "inside");
        mk(t->outside, "secret", "outside");
        ln("/etc", t->root, "abs-etc");                    /* absolute: must mean root/etc */
        ln("../../../../../../outside", t->root, "climb"); /* relative climb: clamped at root */
        ln(t->outside, t->root, "hostdir");                /* absolute host path: means root/<that path> */
        ln("chain2", t->root, "chain1");
        ln("chain3", t->root, "chain2");
        ln("etc", t->root, "chain3");
        ln("loop2", t->root, "loop1");
        ln("loop1", t->root, "loop2");
        ln("/proc/self/root", t->root, "magic"); /* a magic link through procfs */
        ln("/nonexistent-target", t->root, "dangling");
        ln("a", t->root, "rel-a");
        t->rootfd = open(t->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        t->fallback = fallback;
        safepath_force_fallback(fallback);
        *state = t;
        return t->rootfd < 0 ? -1 : 0;
}

static int setup_openat2(void **state)
{
        return setup_tree(state, false);
}
static int setup_fallback(void **state)
{
        return setup_tree(state, true);
}

static int teardown_tree(void **state)
{
        struct tree *t = *state;
        char cmd[700];
        close(t->rootfd);
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->base);
        if (system(cmd) != 0)
                return -1;
        free(t);
        return 0;
}

static void read_fd(int fd, char *buf, size_t size)
{
        ssize_t n = read(fd, buf, size - 1);
        assert_true(n >= 0);
        buf[n] = 0;
}

static void uses_the_forced_mode(void **state)
{
        struct tree *t = *state;
        assert_int_equal(safepath_using_fallback(), t->fallback);
}

static void absolute_symlink_stays_inside(void **state)
{
        struct tree *t = *state;
        char buf[64];
        _cleanup_herror_ struct herror err = HERROR_INIT;
        _cleanup_close_ int fd = safe_openat(t->rootfd, "/abs-etc/marker", O_RDONLY, 0, 0, &err);
        assert_true(fd >= 0);
        read_fd(fd, buf, sizeof buf);
        assert_string_equal(buf, "inside");
}

static void dotdot_is_clamped_at_root(void **state)
{
        struct tree *t = *state;
        char buf[64];
        _cleanup_close_ int fd = safe_openat(t->rootfd, "../../../../etc/marker", O_RDONLY, 0, 0, NULL);
        assert_true(fd >= 0);
        read_fd(fd, buf, sizeof buf);
        assert_string_equal(buf, "inside");
        /* a climbing symlink lands inside the root, where there is no "outside" */
        _cleanup_close_ int fd2 = safe_openat(t->rootfd, "climb/secret", O_RDONLY, 0, 0, NULL);
        assert_int_equal(fd2, -ENOENT);
        _cleanup_close_ int fd3 = safe_openat(t->rootfd, "hostdir/secret", O_RDONLY, 0, 0, NULL);
        assert_int_equal(fd3, -ENOENT);
}

static void beneath_refuses_instead_of_clamping(void **state)
{
        struct tree *t = *state;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        int fd = safe_openat(t->rootfd, "a/../../etc/marker", O_RDONLY, 0, SAFE_BENEATH, &err);
        assert_int_equal(fd, -EXDEV);
        assert_non_null(strstr(herror_msg(&err), "leaves the root"));
        fd = safe_openat(t->rootfd, "abs-etc/marker", O_RDONLY, 0, SAFE_BENEATH, NULL);
        assert_int_equal(fd, -EXDEV);
        _cleanup_close_ int ok = safe_openat(t->rootfd, "a/b/../../etc/marker", O_RDONLY, 0, SAFE_BENEATH, NULL);
        assert_true(ok >= 0);
}

static void chains_resolve_and_loops_fail(void **state)
{
        struct tree *t = *state;
        char buf[64];
        _cleanup_close_ int fd = safe_openat(t->rootfd, "chain1/marker", O_RDONLY, 0, 0, NULL);
        assert_true(fd >= 0);
        read_fd(fd, buf, sizeof buf);
        assert_string_equal(buf, "inside");
        assert_int_equal(safe_openat(t->rootfd, "loop1/x", O_RDONLY, 0, 0, NULL), -ELOOP);
}

static void magic_links_are_refused(void **state)
{
        struct tree *t = *state;
        int fd = safe_openat(t->rootfd, "magic/etc/passwd", O_RDONLY, 0, 0, NULL);
        /* /proc/self/root resolved inside the root does not exist there; and procfs magic links, when
         * reached, are refused: either way the host's /etc/passwd is never opened. */
        assert_true(fd < 0);
        /* a real magic link reached through a root that contains procfs */
        _cleanup_close_ int procroot = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
        int m = safe_openat(procroot, "self/root/etc/passwd", O_RDONLY, 0, 0, NULL);
        assert_true(m < 0);
        assert_int_equal(m, -ELOOP);
}

static void no_symlinks_flag(void **state)
{
        struct tree *t = *state;
        assert_int_equal(safe_openat(t->rootfd, "rel-a/b", O_PATH, 0, SAFE_NO_SYMLINKS, NULL), -ELOOP);
        _cleanup_close_ int fd = safe_openat(t->rootfd, "a/b", O_PATH, 0, SAFE_NO_SYMLINKS, NULL);
        assert_true(fd >= 0);
}

static void nofollow_refuses_final_symlink(void **state)
{
        struct tree *t = *state;
        assert_int_equal(safe_openat(t->rootfd, "rel-a", O_PATH, 0, SAFE_NOFOLLOW, NULL), -ELOOP);
        _cleanup_close_ int fd = safe_openat(t->rootfd, "rel-a", O_PATH | O_DIRECTORY, 0, 0, NULL);
        assert_true(fd >= 0);
}

static void creat_through_dangling_symlink_stays_inside(void **state)
{
        struct tree *t = *state;
        _cleanup_close_ int fd = safe_openat(t->rootfd, "dangling", O_WRONLY | O_CREAT, 0644, 0, NULL);
        struct stat st;
        assert_int_equal(stat("/nonexistent-target", &st), -1); /* nothing on the host */
        if (fd >= 0) {
                char p[600];
                snprintf(p, sizeof p, "%s/nonexistent-target", t->root);
                assert_int_equal(stat(p, &st), 0); /* created inside, if at all */
        }
}

static void mkdir_p_through_outside_symlink_creates_nothing_outside(void **state)
{
        struct tree *t = *state;
        _cleanup_close_ int fd = safe_mkdir_p(t->rootfd, "climb/x/y", 0755, NULL);
        char p[600];
        struct stat st;
        snprintf(p, sizeof p, "%s/x", t->outside);
        assert_int_equal(stat(p, &st), -1);
        /* the climbing link is clamped: the directories land at the root */
        if (fd >= 0) {
                snprintf(p, sizeof p, "%s/outside/x/y", t->root);
                assert_int_equal(stat(p, &st), 0);
        }
        _cleanup_close_ int fd2 = safe_create_target(t->rootfd, "/a/new/file", false, NULL);
        assert_true(fd2 >= 0);
        snprintf(p, sizeof p, "%s/a/new/file", t->root);
        assert_int_equal(stat(p, &st), 0);
        assert_true(S_ISREG(st.st_mode));
}

/* every test twice: "fn" with openat2, "fallback:fn" with the userspace walk */
#define BOTH(fn)                                                           \
        cmocka_unit_test_setup_teardown(fn, setup_openat2, teardown_tree), \
        {                                                                  \
                "fallback:" #fn, fn, setup_fallback, teardown_tree, NULL   \
        }

int main(void)
{
        const struct CMUnitTest tests[] = {
                BOTH(uses_the_forced_mode),
                BOTH(absolute_symlink_stays_inside),
                BOTH(dotdot_is_clamped_at_root),
                BOTH(beneath_refuses_instead_of_clamping),
                BOTH(chains_resolve_and_loops_fail),
                BOTH(magic_links_are_refused),
                BOTH(no_symlinks_flag),
                BOTH(nofollow_refuses_final_symlink),
                BOTH(creat_through_dangling_symlink_stays_inside),
                BOTH(mkdir_p_through_outside_symlink_creates_nothing_outside),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
