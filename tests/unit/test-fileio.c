#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fileio.h"

static char dir[64];
static int dfd = -1;

static int setup(void **state)
{
        snprintf(dir, sizeof dir, "/tmp/hutch-fileio-XXXXXX");
        if (!mkdtemp(dir))
                return -1;
        dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        return dfd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        close(dfd);
        return system(cmd) == 0 ? 0 : -1;
}

static size_t entries(void)
{
        DIR *d = opendir(dir);
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d)))
                n += de->d_name[0] != '.' || (de->d_name[1] && de->d_name[1] != '.') ? 1 : 0;
        closedir(d);
        return n;
}

static void atomic_write_then_read(void **state)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        assert_int_equal(atomic_write_at(dfd, "f", "hello", 5, 0600, &err), 0);
        assert_int_equal(atomic_write_at(dfd, "f", "bye", 3, 0600, &err), 0);
        _cleanup_free_ char *data = NULL;
        size_t len;
        assert_int_equal(read_file_at(dfd, "f", 100, &data, &len, &err), 0);
        assert_int_equal(len, 3);
        assert_string_equal(data, "bye");
        assert_int_equal(entries(), 1); /* no temp file left */
}

static void failed_rename_leaves_nothing(void **state)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        assert_int_equal(mkdirat(dfd, "d", 0755), 0);
        mkdirat(dfd, "d/inner", 0755);
        char p[128];
        snprintf(p, sizeof p, "%s/d/inner", dir);
        mkdir(p, 0755); /* a non-empty directory cannot be replaced by rename */
        assert_true(atomic_write_at(dfd, "d", "x", 1, 0600, &err) < 0);
        assert_non_null(strstr(herror_msg(&err), "d: write"));
        assert_int_equal(entries(), 1); /* only d itself */
}

static void atomic_create_never_replaces(void **state)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        assert_int_equal(atomic_create_at(dfd, "k", "first", 5, 0644, &err), 0);
        struct stat st;
        assert_int_equal(fstatat(dfd, "k", &st, 0), 0);
        assert_int_equal(st.st_mode & 07777, 0644); /* exact, whatever the umask */
        assert_int_equal(atomic_create_at(dfd, "k", "second", 6, 0600, &err), -EEXIST);
        assert_non_null(strstr(herror_msg(&err), "k: already exists"));
        _cleanup_free_ char *data = NULL;
        size_t len;
        assert_int_equal(read_file_at(dfd, "k", 100, &data, &len, &err), 0);
        assert_string_equal(data, "first");
        /* A dangling symlink is an existing name too: never followed, never replaced. */
        assert_int_equal(symlinkat("nowhere", dfd, "link"), 0);
        assert_int_equal(atomic_create_at(dfd, "link", "x", 1, 0600, &err), -EEXIST);
        assert_int_equal(fstatat(dfd, "nowhere", &st, 0), -1);
        assert_int_equal(entries(), 2); /* k and link, no temp file left */
}

static void read_limits(void **state)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        assert_int_equal(atomic_write_at(dfd, "big", "0123456789", 10, 0600, &err), 0);
        _cleanup_free_ char *data = NULL;
        size_t len;
        assert_int_equal(read_file_at(dfd, "big", 9, &data, &len, &err), -EFBIG);
        assert_non_null(strstr(herror_msg(&err), "big: larger than the limit of 9 bytes"));
        assert_int_equal(read_file_at(dfd, "big", 10, &data, &len, &err), 0);
        free(TAKE_PTR(data));
        assert_int_equal(symlinkat("big", dfd, "link"), 0);
        assert_int_equal(read_file_at(dfd, "link", 100, &data, &len, &err), -ELOOP);
        assert_int_equal(read_file_at(dfd, ".", 100, &data, &len, &err), -EINVAL);
        assert_non_null(strstr(herror_msg(&err), "not a regular file"));
        assert_int_equal(read_file_at(AT_FDCWD, "/proc/self/status", 100, &data, &len, &err), -EFBIG);
        /* procfs reports size 0 and gives nothing at a later offset: the whole value must arrive */
        assert_int_equal(read_file_at(AT_FDCWD, "/proc/sys/kernel/pid_max", 100, &data, &len, &err), 0);
        assert_true(len >= 2 && data[len - 1] == '\n');
        free(TAKE_PTR(data));
}

static void plain_names_only(void **state)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        assert_true(atomic_write_at(dfd, "a/b", "x", 1, 0600, &err) < 0);
}

/* mkdir -p: every missing directory made with the mode given, an existing one fine, a file in the way
 * named in the error. */
static void mkdir_p_makes_missing_parents(void **state)
{
        char path[256], file[160];
        snprintf(path, sizeof path, "%s/a/b/c", dir);
        assert_int_equal(mkdir_p(path, 0700, NULL), 0);
        assert_int_equal(mkdir_p(path, 0700, NULL), 0);
        struct stat st;
        for (const char *rel = "a"; rel; rel = streq(rel, "a") ? "a/b" : streq(rel, "a/b") ? "a/b/c" : NULL) {
                assert_int_equal(fstatat(dfd, rel, &st, 0), 0);
                assert_true(S_ISDIR(st.st_mode));
                assert_int_equal(st.st_mode & 07777, 0700);
        }
        snprintf(file, sizeof file, "%s/f", dir);
        int fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        close(fd);
        snprintf(path, sizeof path, "%s/f/x/y", dir);
        struct herror err = HERROR_INIT;
        assert_int_equal(mkdir_p(path, 0700, &err), -ENOTDIR);
        char want[200];
        snprintf(want, sizeof want, "%s/f/x/y: create directory: Not a directory", dir);
        if (!strstr(herror_msg(&err), want))
                fail_msg("%s", herror_msg(&err));
        herror_clear(&err);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(atomic_write_then_read, setup, teardown),
                cmocka_unit_test_setup_teardown(failed_rename_leaves_nothing, setup, teardown),
                cmocka_unit_test_setup_teardown(atomic_create_never_replaces, setup, teardown),
                cmocka_unit_test_setup_teardown(read_limits, setup, teardown),
                cmocka_unit_test_setup_teardown(plain_names_only, setup, teardown),
                cmocka_unit_test_setup_teardown(mkdir_p_makes_missing_parents, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
