#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sandbox/subid.h"

static int parse(const char *text, const char *user, uid_t uid, struct subid_ranges *r, char *msg, size_t size)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        int rv = subid_parse(text, strlen(text), "subuid", user, uid, r, &err);
        snprintf(msg, size, "%s", herror_msg(&err));
        return rv;
}

static void matches_name_and_uid(void **state)
{
        struct subid_ranges r = { 0 };
        char msg[256];
        assert_int_equal(parse("# comment\n\nbob:1:2\nalice:100000:65536\n1000:300000:10\n", "alice", 1000, &r, msg, sizeof msg), 0);
        assert_int_equal(r.n, 2);
        assert_int_equal(r.v[0].start, 100000);
        assert_int_equal(r.v[1].count, 10);
        assert_true(subid_ranges_total(&r) == 65546);
        subid_ranges_free(&r);
}

static void malformed_lines_of_others_are_ignored(void **state)
{
        struct subid_ranges r = { 0 };
        char msg[256];
        assert_int_equal(parse("bob:x:y\nalice:5:5\n", "alice", 1000, &r, msg, sizeof msg), 0);
        assert_int_equal(r.n, 1);
        subid_ranges_free(&r);
}

static void malformed_own_line_names_file_and_line(void **state)
{
        struct subid_ranges r = { 0 };
        char msg[256];
        assert_true(parse("bob:1:1\nalice:100000\n", "alice", 1000, &r, msg, sizeof msg) < 0);
        assert_non_null(strstr(msg, "subuid:2"));
        assert_true(parse("alice:1:0\n", "alice", 1000, &r, msg, sizeof msg) < 0);
        assert_true(parse("alice:4294967295:2\n", "alice", 1000, &r, msg, sizeof msg) < 0);
        assert_true(parse("alice:99999999999:1\n", "alice", 1000, &r, msg, sizeof msg) < 0);
        assert_int_equal(parse("alice:4294967295:1\n", "alice", 1000, &r, msg, sizeof msg), 0);
        subid_ranges_free(&r);
}

static void coverage_across_adjacent_ranges(void **state)
{
        struct subid_ranges r = { 0 };
        char msg[256];
        assert_int_equal(parse("alice:100:10\nalice:110:10\nalice:200:5\n", "alice", 1, &r, msg, sizeof msg), 0);
        assert_true(subid_ranges_cover(&r, 100, 20));
        assert_true(subid_ranges_cover(&r, 105, 10));
        assert_false(subid_ranges_cover(&r, 100, 21));
        assert_false(subid_ranges_cover(&r, 99, 2));
        assert_false(subid_ranges_cover(&r, 150, 1));
        assert_true(subid_ranges_cover(&r, 200, 5));
        subid_ranges_free(&r);
}

static void too_many_ranges(void **state)
{
        size_t n = 4097;
        char *text = malloc(n * 24);
        size_t off = 0;
        for (size_t i = 0; i < n; i++)
                off += (size_t) sprintf(text + off, "alice:%zu:1\n", i * 2);
        struct subid_ranges r = { 0 };
        char msg[256];
        assert_true(parse(text, "alice", 1, &r, msg, sizeof msg) < 0);
        assert_non_null(strstr(msg, "more than"));
        free(text);
}

static void missing_file_gives_no_ranges(void **state)
{
        setenv("HUTCH_SUBUID_FILE", "/nonexistent/subuid", 1);
        struct subid_ranges r = { 0 };
        assert_int_equal(subid_load(false, "alice", 1, &r, NULL), 0);
        assert_int_equal(r.n, 0);
        assert_string_equal(subid_path(false), "/nonexistent/subuid");
        unsetenv("HUTCH_SUBUID_FILE");
        assert_string_equal(subid_path(false), "/etc/subuid");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(matches_name_and_uid), cmocka_unit_test(malformed_lines_of_others_are_ignored),
                cmocka_unit_test(malformed_own_line_names_file_and_line), cmocka_unit_test(coverage_across_adjacent_ranges),
                cmocka_unit_test(too_many_ranges), cmocka_unit_test(missing_file_gives_no_ranges),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
