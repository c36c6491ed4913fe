/* sandbox/cgroup.c around the kernel: /proc/self/cgroup and mountinfo parsing, controller lists, where
 * the leaf goes, and the decisions and messages of cgroup_create_at over a fake cgroup tree (plain
 * directories and files laid out like cgroupfs). What only the kernel can show (limits enforced, the
 * no-internal-processes rule, CLONE_INTO_CGROUP) is proven in a VM: tests/integration/cgroup-vm.root.bats. */
#include <fcntl.h>
#include <grp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "sandbox/cgroup.h"
#include "util/fileio.h"

#define assert_contains(hay, needle)                                                 \
        do {                                                                         \
                if (!strstr((hay), (needle)))                                        \
                        fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle)); \
        } while (0)

/* ---- /proc/self/cgroup ---- */

static void parses_proc_cgroup(void **state)
{
        char buf[256];
        /* this hybrid host's shape: v1 lines, then the v2 one */
        assert_int_equal(cgroup_parse_proc_cgroup("9:name=systemd:/\n4:memory:/x\n1:cpu:/\n0::/\n", buf, sizeof buf),
                         0);
        assert_string_equal(buf, "/");
        assert_int_equal(cgroup_parse_proc_cgroup("0::/user.slice/user-1000.slice/session-2.scope\n", buf, sizeof buf),
                         0);
        assert_string_equal(buf, "/user.slice/user-1000.slice/session-2.scope");
        assert_int_equal(cgroup_parse_proc_cgroup("0::/a b/c", buf, sizeof buf), 0); /* no newline at the end */
        assert_string_equal(buf, "/a b/c");
        assert_int_equal(cgroup_parse_proc_cgroup("4:memory:/x\n1:cpu:/\n", buf, sizeof buf), -ENOENT); /* v1 only */
        assert_int_equal(cgroup_parse_proc_cgroup("", buf, sizeof buf), -ENOENT);
        assert_int_equal(cgroup_parse_proc_cgroup("0::\n", buf, sizeof buf), -EINVAL);
        assert_int_equal(cgroup_parse_proc_cgroup("0::relative\n", buf, sizeof buf), -EINVAL);
        assert_int_equal(cgroup_parse_proc_cgroup("10::/x\n", buf, sizeof buf), -ENOENT); /* not hierarchy 0 */
        char small[4];
        assert_int_equal(cgroup_parse_proc_cgroup("0::/abcdef\n", small, sizeof small), -ENAMETOOLONG);
}

/* ---- mountinfo ---- */

#define HYBRID_MOUNTINFO                                                                  \
        "24 30 0:21 / /sys rw,nosuid shared:7 - sysfs sysfs rw\n"                         \
        "25 24 0:22 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"             \
        "26 25 0:23 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw\n" \
        "27 25 0:24 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"

#define UNIFIED_MOUNTINFO                                         \
        "24 30 0:21 / /sys rw,nosuid shared:7 - sysfs sysfs rw\n" \
        "25 24 0:22 / /sys/fs/cgroup rw,nosuid,nodev shared:4 master:1 - cgroup2 cgroup2 rw,nsdelegate\n"

static void finds_the_cgroup2_mount(void **state)
{
        char mount[256], rel[256];
        assert_int_equal(cgroup_find_mount(HYBRID_MOUNTINFO, "/", mount, sizeof mount, rel, sizeof rel), 0);
        assert_string_equal(mount, "/sys/fs/cgroup/unified");
        assert_string_equal(rel, "");
        assert_int_equal(
                cgroup_find_mount(UNIFIED_MOUNTINFO, "/user.slice/u.service", mount, sizeof mount, rel, sizeof rel), 0);
        assert_string_equal(mount, "/sys/fs/cgroup");
        assert_string_equal(rel, "user.slice/u.service");
        /* /sys/fs/cgroup is preferred over any other cgroup2 mount, whatever the order */
        assert_int_equal(cgroup_find_mount("40 1 0:50 / /mnt/cg rw - cgroup2 none rw\n" UNIFIED_MOUNTINFO, "/x", mount,
                                           sizeof mount, rel, sizeof rel),
                         0);
        assert_string_equal(mount, "/sys/fs/cgroup");
        /* a mount point with an escaped space; a mount of a subtree (its root is not "/") */
        assert_int_equal(cgroup_find_mount("40 1 0:50 /box /mnt/my\\040cg rw - cgroup2 none rw\n", "/box/inner", mount,
                                           sizeof mount, rel, sizeof rel),
                         0);
        assert_string_equal(mount, "/mnt/my cg");
        assert_string_equal(rel, "inner");
        assert_int_equal(cgroup_find_mount("40 1 0:50 /box /mnt/cg rw - cgroup2 none rw\n", "/box", mount, sizeof mount,
                                           rel, sizeof rel),
                         0);
        assert_string_equal(rel, "");
        /* own outside that subtree ("/boxer" is not below "/box") */
        assert_int_equal(cgroup_find_mount("40 1 0:50 /box /mnt/cg rw - cgroup2 none rw\n", "/boxer", mount,
                                           sizeof mount, rel, sizeof rel),
                         -EXDEV);
        /* no cgroup2 at all; a "cgroup2" word elsewhere in the line does not count */
        assert_int_equal(cgroup_find_mount("27 25 0:24 / /cgroup2 rw - cgroup cgroup2 rw\n", "/", mount, sizeof mount,
                                           rel, sizeof rel),
                         -ENOENT);
        assert_int_equal(cgroup_find_mount("", "/", mount, sizeof mount, rel, sizeof rel), -ENOENT);
        /* malformed lines are skipped */
        assert_int_equal(
                cgroup_find_mount("garbage\n1 2\n" UNIFIED_MOUNTINFO, "/", mount, sizeof mount, rel, sizeof rel), 0);
        assert_string_equal(mount, "/sys/fs/cgroup");
        /* own NULL: any cgroup2 mount (hutch-runtime delete knows the leaf's path below it) */
        assert_int_equal(cgroup_find_mount(HYBRID_MOUNTINFO, NULL, mount, sizeof mount, NULL, 0), 0);
        assert_string_equal(mount, "/sys/fs/cgroup/unified");
}

/* ---- controllers, limits, memory.events ---- */

static void controller_lists(void **state)
{
        char names[64];
        assert_int_equal(cgroup_parse_controllers("cpuset cpu io memory hugetlb pids rdma misc\n"),
                         CGROUP_CPU | CGROUP_MEMORY | CGROUP_PIDS);
        assert_int_equal(cgroup_parse_controllers("hugetlb\n"), 0); /* this hybrid host's v2 tree */
        assert_int_equal(cgroup_parse_controllers(""), 0);
        assert_int_equal(cgroup_parse_controllers("cpuset memoryx pid"), 0); /* whole words only */
        assert_int_equal(cgroup_parse_controllers("  pids\tmemory  "), CGROUP_MEMORY | CGROUP_PIDS);
        cgroup_controller_names(CGROUP_MEMORY | CGROUP_PIDS | CGROUP_CPU, names, sizeof names);
        assert_string_equal(names, "cpu, memory, pids");
        cgroup_controller_names(CGROUP_PIDS, names, sizeof names);
        assert_string_equal(names, "pids");
        cgroup_controller_names(0, names, sizeof names);
        assert_string_equal(names, "");
}

static void limits_and_oom_kill(void **state)
{
        struct spec_resources r = { .any_limit = true,
                                    .has_memory_limit = true,
                                    .memory_limit = 33554432,
                                    .has_cpu_quota = true,
                                    .cpu_quota = 50000,
                                    .cpu_period = 100000 };
        char buf[64];
        assert_int_equal(cgroup_wanted(&r), CGROUP_MEMORY | CGROUP_CPU);
        assert_true(cgroup_limit_text(&r, CGROUP_MEMORY, buf, sizeof buf));
        assert_string_equal(buf, "33554432");
        assert_true(cgroup_limit_text(&r, CGROUP_CPU, buf, sizeof buf));
        assert_string_equal(buf, "50000 100000");
        assert_false(cgroup_limit_text(&r, CGROUP_PIDS, buf, sizeof buf));
        r = (struct spec_resources) { .has_pids_limit = true, .pids_limit = 20 };
        assert_int_equal(cgroup_wanted(&r), CGROUP_PIDS);
        assert_true(cgroup_limit_text(&r, CGROUP_PIDS, buf, sizeof buf));
        assert_string_equal(buf, "20");
        r = (struct spec_resources) { 0 };
        assert_int_equal(cgroup_wanted(&r), 0);

        uint64_t n = 99;
        assert_int_equal(cgroup_parse_oom_kill("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n", &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(cgroup_parse_oom_kill("oom_group_kill 4\noom_kill 0", &n), 0);
        assert_int_equal(n, 0);
        assert_int_equal(cgroup_parse_oom_kill("low 0\n", &n), -ENOENT);
        assert_int_equal(cgroup_parse_oom_kill("oom_kill x\n", &n), -EINVAL);
}

/* ---- where the leaf goes ---- */

static void placement(void **state)
{
        char base[256], create[256];
        /* beside the caller's cgroup, in its parent (which holds no processes) */
        assert_int_equal(cgroup_placement("user.slice/u.service/app.slice/t.scope", NULL, false, "c1", base,
                                          sizeof base, create, sizeof create),
                         0);
        assert_string_equal(base, "user.slice/u.service/app.slice");
        assert_string_equal(create, "hutch-c1");
        assert_int_equal(cgroup_placement("t.scope", NULL, false, "c1", base, sizeof base, create, sizeof create), 0);
        assert_string_equal(base, "");
        /* the root cgroup: the leaf goes right below it (the root may hold processes and give controllers) */
        assert_int_equal(cgroup_placement("", "", false, "c1", base, sizeof base, create, sizeof create), 0);
        assert_string_equal(base, "");
        assert_string_equal(create, "hutch-c1");
        /* cgroupsPath: absolute from the mount's root, relative from the caller's parent */
        assert_int_equal(cgroup_placement("a/b", "/x//y/", false, "c1", base, sizeof base, create, sizeof create), 0);
        assert_string_equal(base, "");
        assert_string_equal(create, "x/y");
        assert_int_equal(cgroup_placement("a/b", "x/y", false, "c1", base, sizeof base, create, sizeof create), 0);
        assert_string_equal(base, "a");
        assert_string_equal(create, "x/y");
        /* --systemd-cgroup: "slice:prefix:name" is not a path, and hutch does not talk to systemd */
        assert_int_equal(
                cgroup_placement("a/b", "user.slice:libpod:abc", true, "c1", base, sizeof base, create, sizeof create),
                0);
        assert_string_equal(base, "a");
        assert_string_equal(create, "hutch-c1");
        /* refused */
        assert_int_equal(cgroup_placement("a/b", "/x/../y", false, "c1", base, sizeof base, create, sizeof create),
                         -EINVAL);
        assert_int_equal(cgroup_placement("a/b", "./x", false, "c1", base, sizeof base, create, sizeof create),
                         -EINVAL);
        assert_int_equal(cgroup_placement("a/b", "///", false, "c1", base, sizeof base, create, sizeof create),
                         -EINVAL);
        assert_int_equal(cgroup_placement("a/b", NULL, false, "x/y", base, sizeof base, create, sizeof create),
                         -EINVAL);
        assert_int_equal(cgroup_placement("a/b", NULL, false, "", base, sizeof base, create, sizeof create), -EINVAL);
        char long_id[300];
        memset(long_id, 'i', sizeof long_id - 1);
        long_id[sizeof long_id - 1] = 0;
        assert_int_equal(cgroup_placement("a/b", NULL, false, long_id, base, sizeof base, create, sizeof create),
                         -ENAMETOOLONG);
        char deep[200] = "";
        for (int i = 0; i < CGROUP_MAX_DEPTH + 1; i++)
                strcat(deep, "/d");
        assert_int_equal(cgroup_placement("a/b", deep, false, "c1", base, sizeof base, create, sizeof create), -EINVAL);
}

static void common_ancestor(void **state)
{
        static const struct {
                const char *a, *b, *want;
        } cases[] = {
                { "a/b/c", "a/b/d", "a/b" },
                { "a/b", "a/b/hutch-1", "a/b" },
                { "a/b/hutch-1", "a/b", "a/b" },
                { "a/bc", "a/bd", "a" },
                { "ab", "a", "" },
                { "a", "a", "a" },
                { "", "x", "" },
                { "x", "", "" },
                { "u/app.slice/t.scope", "u/app.slice/hutch-9", "u/app.slice" },
        };
        char buf[64];
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                cgroup_common_ancestor(cases[i].a, cases[i].b, buf, sizeof buf);
                if (!streq(buf, cases[i].want))
                        fail_msg("common(%s, %s) = \"%s\", want \"%s\"", cases[i].a, cases[i].b, buf, cases[i].want);
        }
}

/* ---- cgroup_create_at over a fake tree ---- */

struct tree {
        char dir[64];
        int fd;
};

static void put(int dirfd, const char *path, const char *text, mode_t mode)
{
        if (fchmodat(dirfd, path, 0644, 0) < 0 && errno != ENOENT) /* a read-only file of an earlier put */
                fail_msg("chmod %s: %s", path, strerror(errno));
        int fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        assert_true(fd >= 0);
        assert_int_equal(write_all(fd, text, strlen(text)), 0);
        close(fd);
        assert_int_equal(fchmodat(dirfd, path, mode, 0), 0);
}

/* A cgroup directory: its controllers, what it enables for children, its cgroup.procs. */
static void cg(int rootfd, const char *path, const char *controllers, const char *subtree)
{
        char p[256];
        if (*path)
                assert_int_equal(mkdirat(rootfd, path, 0755), 0);
        snprintf(p, sizeof p, "%s%scgroup.controllers", path, *path ? "/" : "");
        put(rootfd, p, controllers, 0444);
        snprintf(p, sizeof p, "%s%scgroup.subtree_control", path, *path ? "/" : "");
        put(rootfd, p, subtree, 0644);
        snprintf(p, sizeof p, "%s%scgroup.procs", path, *path ? "/" : "");
        put(rootfd, p, "", 0644);
}

static int tree_setup(void **state)
{
        static struct tree t;
        snprintf(t.dir, sizeof t.dir, "/tmp/hutch-test-cgroup.XXXXXX");
        assert_non_null(mkdtemp(t.dir));
        assert_int_equal(chmod(t.dir, 0755), 0); /* the unprivileged checks below run as nobody */
        t.fd = open(t.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(t.fd >= 0);
        /* root -> user.slice -> u.service (delegated) -> app.slice -> t.scope (hutch is here) */
        cg(t.fd, "", "cpuset cpu io memory pids", "cpu memory pids");
        cg(t.fd, "user.slice", "cpu memory pids", "cpu memory pids");
        cg(t.fd, "user.slice/u.service", "cpu memory pids", "");
        cg(t.fd, "user.slice/u.service/app.slice", "cpu memory pids", "memory");
        cg(t.fd, "user.slice/u.service/app.slice/t.scope", "memory", "");
        cg(t.fd, "user.slice/u.service/app.slice/t2.scope", "memory", "");
        /* a cgroup without the pids controller given to it, and one below it */
        cg(t.fd, "nopids", "cpu memory", "");
        cg(t.fd, "nopids/me", "", "");
        *state = &t;
        return 0;
}

static int tree_teardown(void **state)
{
        struct tree *t = *state;
        char cmd[128];
        close(t->fd);
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->dir);
        assert_int_equal(system(cmd), 0);
        return 0;
}

static const struct spec memory_pids = { .resources = { .any_limit = true,
                                                        .has_memory_limit = true,
                                                        .memory_limit = 1 << 25,
                                                        .has_pids_limit = true,
                                                        .pids_limit = 20 } };

/* cgroup_create_at's result and message. */
static int create(struct tree *t, const char *mount, const char *own, const struct spec *s, const char *id, char *msg,
                  size_t size, struct cgroup_leaf *leaf)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        int r = cgroup_create_at(t->fd, mount, own, s, id, false, leaf, &err);
        snprintf(msg, size, "%s", herror_msg(&err) ? herror_msg(&err) : "");
        return r;
}

static bool exists(struct tree *t, const char *path)
{
        return faccessat(t->fd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

static void no_limits_no_cgroup_work(void **state)
{
        struct tree *t = *state;
        struct cgroup_leaf leaf;
        char msg[512];
        struct spec none = { 0 };
        assert_int_equal(create(t, "/fake", "nonexistent/own", &none, "c0", msg, sizeof msg, &leaf), 0);
        assert_int_equal(leaf.fd, -1);
        assert_false(exists(t, "nonexistent"));
        assert_int_equal(cgroup_remove(&leaf, NULL), 0); /* nothing to remove */
}

static void enables_controllers_makes_the_leaf_and_undoes_on_failure(void **state)
{
        struct tree *t = *state;
        struct cgroup_leaf leaf;
        char msg[512], text[64];
        /* memory is already enabled in app.slice, pids gets enabled; the leaf is made beside t.scope.
         * Writing memory.max fails in a fake tree (cgroupfs would have made the file): the leaf must
         * be gone again, and the message names the file. */
        assert_true(create(t, "/fake", "user.slice/u.service/app.slice/t.scope", &memory_pids, "c1", msg, sizeof msg,
                           &leaf) < 0);
        assert_contains(msg, "cannot apply the resource limits (memory, pids)");
        assert_contains(msg, "/fake/user.slice/u.service/app.slice/hutch-c1/memory.max");
        assert_false(exists(t, "user.slice/u.service/app.slice/hutch-c1"));
        assert_int_equal(leaf.fd, -1);
        int fd = openat(t->fd, "user.slice/u.service/app.slice/cgroup.subtree_control", O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        ssize_t n = read(fd, text, sizeof text - 1);
        close(fd);
        assert_true(n > 0);
        text[n] = 0;
        /* only what was missing, one controller per write (cgroupfs takes each write whole; a plain file
         * keeps the tail of "memory" after the overwrite) */
        assert_true(strncmp(text, "+pids", 5) == 0 && !strstr(text, "+memory"));
        /* a cgroupsPath of several levels: each level is made in turn (here the fake's new "machine" has
         * no cgroup.controllers, where cgroupfs would have made one) and every level made is removed again */
        struct spec deep = memory_pids;
        deep.cgroups_path = (char *) "/machine/box/c2";
        assert_true(create(t, "/fake", "user.slice/u.service/app.slice/t.scope", &deep, "c2", msg, sizeof msg, &leaf) <
                    0);
        assert_contains(msg, "read /fake/machine/cgroup.controllers");
        assert_false(exists(t, "machine"));
        /* relative: below the caller's parent */
        deep.cgroups_path = (char *) "pod/c3";
        assert_true(create(t, "/fake", "user.slice/u.service/app.slice/t.scope", &deep, "c3", msg, sizeof msg, &leaf) <
                    0);
        assert_contains(msg, "read /fake/user.slice/u.service/app.slice/pod/cgroup.controllers");
        assert_false(exists(t, "user.slice/u.service/app.slice/pod"));
}

static void refusals_name_the_cgroup_and_controller(void **state)
{
        struct tree *t = *state;
        struct cgroup_leaf leaf;
        char msg[512];
        /* the parent was not given pids by the cgroup above it */
        assert_true(create(t, "/sys/fs/cgroup", "nopids/me", &memory_pids, "c4", msg, sizeof msg, &leaf) < 0);
        assert_contains(msg, "controller pids not delegated to user ");
        assert_contains(msg, "in /sys/fs/cgroup/nopids (missing from its cgroup.controllers");
        /* a hybrid host: the v2 root itself lacks the controller */
        struct spec rdma = memory_pids;
        rdma.resources.has_memory_limit = false;
        put(t->fd, "cgroup.controllers", "hugetlb", 0444);
        assert_true(create(t, "/sys/fs/cgroup/unified", "nopids/me", &rdma, "c5", msg, sizeof msg, &leaf) < 0);
        assert_contains(msg,
                        "cannot apply the resource limits (pids): the cgroup v2 hierarchy at /sys/fs/cgroup/unified "
                        "has no pids controller (a hybrid cgroup v1/v2 host");
        put(t->fd, "cgroup.controllers", "cpuset cpu io memory pids", 0444);
        /* the leaf must be new */
        assert_int_equal(mkdirat(t->fd, "user.slice/u.service/app.slice/hutch-c6", 0755), 0);
        assert_true(create(t, "/fake", "user.slice/u.service/app.slice/t.scope", &memory_pids, "c6", msg, sizeof msg,
                           &leaf) < 0);
        assert_contains(msg, "the cgroup /fake/user.slice/u.service/app.slice/hutch-c6 already exists");
        assert_true(exists(t, "user.slice/u.service/app.slice/hutch-c6")); /* not ours: left alone */
        /* a bad cgroupsPath */
        struct spec bad = memory_pids;
        bad.cgroups_path = (char *) "a/../../b";
        assert_true(create(t, "/fake", "user.slice/u.service/app.slice/t.scope", &bad, "c7", msg, sizeof msg, &leaf) <
                    0);
        assert_contains(msg, ".linux.cgroupsPath \"a/../../b\"");
}

/* The permission checks, as an unprivileged user: as root the test drops to nobody in a child. */
static int unprivileged(struct tree *t, const char *own, const struct spec *s, char *msg, size_t size)
{
        if (geteuid() != 0) {
                struct cgroup_leaf leaf;
                return create(t, "/fake", own, s, "c8", msg, size, &leaf);
        }
        int pipefd[2];
        assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct cgroup_leaf leaf;
                char m[512];
                if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
                        _exit(3);
                int r = create(t, "/fake", own, s, "c8", m, sizeof m, &leaf);
                (void) !write(pipefd[1], m, strlen(m));
                _exit(r < 0 ? 1 : 0);
        }
        close(pipefd[1]);
        ssize_t n = read(pipefd[0], msg, size - 1);
        close(pipefd[0]);
        msg[n > 0 ? n : 0] = 0;
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) != 3);
        return WEXITSTATUS(status) ? -1 : 0;
}

static void not_delegated_to_the_caller(void **state)
{
        struct tree *t = *state;
        char msg[512];
        /* the files are root's (or the test user's, mode 0444/0755): nothing is writable for the caller */
        put(t->fd, "user.slice/u.service/app.slice/cgroup.procs", "", 0444);
        assert_true(unprivileged(t, "user.slice/u.service/app.slice/t.scope", &memory_pids, msg, sizeof msg) < 0);
        assert_contains(msg,
                        "cannot move the container into its cgroup: /fake/user.slice/u.service/app.slice/cgroup.procs "
                        "is not writable by user ");
        put(t->fd, "user.slice/u.service/app.slice/cgroup.procs", "", 0666);
        if (geteuid() == 0) {
                /* the directory is not writable: no leaf can be made there */
                put(t->fd, "user.slice/u.service/app.slice/cgroup.subtree_control", "memory pids", 0644);
                assert_true(unprivileged(t, "user.slice/u.service/app.slice/t.scope", &memory_pids, msg, sizeof msg) <
                            0);
                assert_contains(
                        msg, "cannot create a cgroup in /fake/user.slice/u.service/app.slice: not delegated to user ");
                /* cgroup.subtree_control is not writable */
                put(t->fd, "user.slice/u.service/app.slice/cgroup.subtree_control", "memory", 0644);
                assert_true(unprivileged(t, "user.slice/u.service/app.slice/t.scope", &memory_pids, msg, sizeof msg) <
                            0);
                assert_contains(msg,
                                "controller pids not delegated to user nobody in /fake/user.slice/u.service/app.slice "
                                "(its cgroup.subtree_control is not writable)");
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(parses_proc_cgroup),
                cmocka_unit_test(finds_the_cgroup2_mount),
                cmocka_unit_test(controller_lists),
                cmocka_unit_test(limits_and_oom_kill),
                cmocka_unit_test(placement),
                cmocka_unit_test(common_ancestor),
                cmocka_unit_test_setup_teardown(no_limits_no_cgroup_work, tree_setup, tree_teardown),
                cmocka_unit_test_setup_teardown(enables_controllers_makes_the_leaf_and_undoes_on_failure, tree_setup,
                                                tree_teardown),
                cmocka_unit_test_setup_teardown(refusals_name_the_cgroup_and_controller, tree_setup, tree_teardown),
                cmocka_unit_test_setup_teardown(not_delegated_to_the_caller, tree_setup, tree_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
