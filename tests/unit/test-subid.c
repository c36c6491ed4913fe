#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "sandbox/subid.h"

static int parse(const char *text, const char *user, uid_t uid, struct subid_ranges *r, char *msg, size_t size)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        int rv = subid_parse(text, strlen(text), "subuid", user, uid, r, &err);
        snprintf(msg, size, "%s", herror_msg(&err) ? herror_msg(&err) : "");
        return rv;
}

static void matches_name_and_uid(void **state)
{
        struct subid_ranges r = { 0 };
        char msg[256];
        assert_int_equal(parse("# comment\n\nbob:1:2\nalice:100000:65536\n1000:300000:10\n1001:5:5\n", "alice", 1000,
                               &r, msg, sizeof msg),
                         0);
        assert_int_equal(r.n, 2);
        assert_int_equal(r.v[0].start, 100000);
        assert_int_equal(r.v[0].count, 65536);
        assert_int_equal(r.v[1].start, 300000);
        assert_int_equal(r.v[1].count, 10);
        assert_true(subid_ranges_total(&r) == 65546);
        subid_ranges_free(&r);
        assert_null(r.v);
        assert_int_equal(r.n, 0);
}

static void uid_only_and_last_line_without_newline(void **state)
{
        struct subid_ranges r = { 0 };
        char msg[256];
        /* no passwd name: only the uid form can match; "alice" must not */
        assert_int_equal(parse("alice:1:1\n1000:7:3", NULL, 1000, &r, msg, sizeof msg), 0);
        assert_int_equal(r.n, 1);
        assert_int_equal(r.v[0].start, 7);
        assert_int_equal(r.v[0].count, 3);
        subid_ranges_free(&r);
        /* a name that is a prefix of another's does not match it */
        assert_int_equal(parse("alicex:1:1\nalic:2:2\n", "alice", 1000, &r, msg, sizeof msg), 0);
        assert_int_equal(r.n, 0);
        subid_ranges_free(&r);
        assert_int_equal(parse("", "alice", 1000, &r, msg, sizeof msg), 0);
        assert_int_equal(r.n, 0);
}

static void malformed_lines_of_others_are_ignored(void **state)
{
        struct subid_ranges r = { 0 };
        char msg[256];
        assert_int_equal(
                parse("bob:x:y\nbob\ncarol:1\ndave:1:0\n:5:5\nalice:5:5\n", "alice", 1000, &r, msg, sizeof msg), 0);
        assert_int_equal(r.n, 1);
        assert_int_equal(r.v[0].start, 5);
        subid_ranges_free(&r);
}

static void malformed_own_line_names_file_and_line(void **state)
{
        static const char *const bad[] = {
                "alice:100000\n", "alice:1:2:3\n", "alice:1:2\r\n", "alice: 1:2\n", "alice:-1:2\n",
                "alice:0x10:2\n", "alice::2\n",    "alice:1:\n",    "1000:abc:1\n",
        };
        struct subid_ranges r = { 0 };
        char msg[256], text[64];
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                snprintf(text, sizeof text, "bob:1:1\n%s", bad[i]);
                assert_int_equal(parse(text, "alice", 1000, &r, msg, sizeof msg), -EINVAL);
                assert_non_null(strstr(msg, "subuid:2:"));
                assert_null(r.v);
        }
}

static void empty_and_overflowing_ranges(void **state)
{
        struct subid_ranges r = { 0 };
        char msg[256];
        assert_true(parse("alice:1:0\n", "alice", 1000, &r, msg, sizeof msg) < 0);
        assert_non_null(strstr(msg, "subuid:1:"));
        assert_non_null(strstr(msg, "empty"));
        assert_true(parse("alice:4294967295:2\n", "alice", 1000, &r, msg, sizeof msg) < 0);
        assert_non_null(strstr(msg, "subuid:1:"));
        assert_true(parse("alice:99999999999:1\n", "alice", 1000, &r, msg, sizeof msg) < 0);
        assert_true(parse("alice:1:4294967296\n", "alice", 1000, &r, msg, sizeof msg) < 0);
        /* the last ID and the whole space are both exactly in range */
        assert_int_equal(parse("alice:4294967295:1\nalice:0:4294967295\n", "alice", 1000, &r, msg, sizeof msg), 0);
        assert_int_equal(r.n, 2);
        assert_true(subid_ranges_total(&r) == 4294967296ull);
        subid_ranges_free(&r);
}

static void coverage_across_adjacent_ranges(void **state)
{
        struct subid_ranges r = { 0 };
        char msg[256];
        /* out of order on purpose: coverage must not depend on the file's order */
        assert_int_equal(parse("alice:110:10\nalice:200:5\nalice:100:10\n", "alice", 1, &r, msg, sizeof msg), 0);
        assert_true(subid_ranges_cover(&r, 100, 20));
        assert_true(subid_ranges_cover(&r, 105, 10));
        assert_true(subid_ranges_cover(&r, 119, 1));
        assert_false(subid_ranges_cover(&r, 100, 21));
        assert_false(subid_ranges_cover(&r, 99, 2));
        assert_false(subid_ranges_cover(&r, 150, 1));
        assert_false(subid_ranges_cover(&r, 110, 95)); /* spans the gap 120-199 */
        assert_true(subid_ranges_cover(&r, 200, 5));
        assert_false(subid_ranges_cover(&r, 204, 2));
        assert_false(subid_ranges_cover(&r, 100, 0));
        subid_ranges_free(&r);
}

static void coverage_with_overlaps_and_the_top_of_the_id_space(void **state)
{
        struct subid_ranges r = { 0 };
        char msg[256];
        assert_int_equal(parse("a:100:50\na:120:10\na:140:20\na:4294967290:6\n", "a", 1, &r, msg, sizeof msg), 0);
        assert_true(subid_ranges_cover(&r, 100, 60));
        assert_false(subid_ranges_cover(&r, 100, 61));
        assert_true(subid_ranges_cover(&r, 4294967290u, 6));
        assert_false(subid_ranges_cover(&r, 4294967295u, 2));
        assert_false(subid_ranges_cover(&r, 4294967289u, 2));
        subid_ranges_free(&r);
        struct subid_ranges none = { 0 };
        assert_false(subid_ranges_cover(&none, 0, 1));
        assert_true(subid_ranges_total(&none) == 0);
}

static char *many_ranges(size_t n)
{
        char *text = malloc(n * 24 + 1);
        size_t off = 0;
        text[0] = 0;
        for (size_t i = 0; i < n; i++)
                off += (size_t) sprintf(text + off, "alice:%zu:1\n", i * 2);
        return text;
}

static void too_many_ranges(void **state)
{
        struct subid_ranges r = { 0 };
        char msg[256];
        char *text = many_ranges(SUBID_MAX_RANGES);
        assert_int_equal(parse(text, "alice", 1, &r, msg, sizeof msg), 0);
        assert_int_equal(r.n, SUBID_MAX_RANGES);
        assert_true(subid_ranges_cover(&r, 2 * (SUBID_MAX_RANGES - 1), 1));
        assert_false(subid_ranges_cover(&r, 1, 1));
        subid_ranges_free(&r);
        free(text);
        text = many_ranges(SUBID_MAX_RANGES + 1);
        assert_int_equal(parse(text, "alice", 1, &r, msg, sizeof msg), -E2BIG);
        assert_non_null(strstr(msg, "more than 4096"));
        free(text);
}

static void write_text(const char *path, const char *text)
{
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        fputs(text, f);
        assert_int_equal(fclose(f), 0);
}

static void load_missing_devnull_real_symlink_dir_and_big(void **state)
{
        char dir[] = "/tmp/test-subid-XXXXXX", path[128], link[128], big[128];
        assert_non_null(mkdtemp(dir));
        struct subid_ranges r = { 0 };
        _cleanup_herror_ struct herror err = HERROR_INIT;

        setenv("HUTCH_SUBUID_FILE", "/nonexistent/subuid", 1);
        r.n = 99;
        assert_int_equal(subid_load(false, "alice", 1, &r, &err), 0);
        assert_int_equal(r.n, 0);
        assert_int_equal(err.errnum, 0); /* a missing file is not an error */
        assert_string_equal(subid_path(false), "/nonexistent/subuid");

        setenv("HUTCH_SUBUID_FILE", "/dev/null", 1);
        assert_int_equal(subid_load(false, "alice", 1, &r, &err), 0);
        assert_int_equal(r.n, 0);

        snprintf(path, sizeof path, "%s/subgid", dir);
        write_text(path, "bob:1:1\nalice:500:100\n1:700:10\n");
        setenv("HUTCH_SUBGID_FILE", path, 1);
        assert_int_equal(subid_load(true, "alice", 1, &r, &err), 0);
        assert_int_equal(r.n, 2);
        assert_true(subid_ranges_cover(&r, 500, 100));
        subid_ranges_free(&r);
        /* the gid file is not the uid file */
        assert_int_equal(subid_load(false, "alice", 1, &r, &err), 0);
        assert_int_equal(r.n, 0);

        snprintf(link, sizeof link, "%s/link", dir);
        assert_int_equal(symlink(path, link), 0);
        setenv("HUTCH_SUBGID_FILE", link, 1);
        assert_int_equal(subid_load(true, "alice", 1, &r, &err), 0);
        assert_int_equal(r.n, 2);
        subid_ranges_free(&r);

        write_text(path, "alice:500\n");
        setenv("HUTCH_SUBGID_FILE", path, 1);
        assert_int_equal(subid_load(true, "alice", 1, &r, &err), -EINVAL);
        char want[160];
        snprintf(want, sizeof want, "%s:1:", path);
        assert_non_null(strstr(herror_msg(&err), want));
        herror_clear(&err);

        setenv("HUTCH_SUBGID_FILE", dir, 1);
        assert_true(subid_load(true, "alice", 1, &r, &err) < 0);
        assert_non_null(strstr(herror_msg(&err), dir));
        herror_clear(&err);

        snprintf(big, sizeof big, "%s/big", dir);
        FILE *f = fopen(big, "we");
        assert_non_null(f);
        assert_int_equal(ftruncate(fileno(f), SUBID_MAX_FILE + 1), 0);
        fclose(f);
        setenv("HUTCH_SUBGID_FILE", big, 1);
        assert_int_equal(subid_load(true, "alice", 1, &r, &err), -EFBIG);
        herror_clear(&err);

        unsetenv("HUTCH_SUBUID_FILE");
        unsetenv("HUTCH_SUBGID_FILE");
        assert_string_equal(subid_path(false), "/etc/subuid");
        assert_string_equal(subid_path(true), "/etc/subgid");
        unlink(big);
        unlink(link);
        unlink(path);
        assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(matches_name_and_uid),
                cmocka_unit_test(uid_only_and_last_line_without_newline),
                cmocka_unit_test(malformed_lines_of_others_are_ignored),
                cmocka_unit_test(malformed_own_line_names_file_and_line),
                cmocka_unit_test(empty_and_overflowing_ranges),
                cmocka_unit_test(coverage_across_adjacent_ranges),
                cmocka_unit_test(coverage_with_overlaps_and_the_top_of_the_id_space),
                cmocka_unit_test(too_many_ranges),
                cmocka_unit_test(load_missing_devnull_real_symlink_dir_and_big),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
