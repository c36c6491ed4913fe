#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "util/error.h"

static void set_returns_negative_errno(void **state)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        assert_int_equal(herror_set(&err, ENOENT, "file %s", "x"), -ENOENT);
        assert_int_equal(err.errnum, ENOENT);
        assert_string_equal(herror_msg(&err), "file x");
}

static void nonpositive_errnum_is_einval(void **state)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        assert_int_equal(herror_set(&err, 0, "bad"), -EINVAL);
        assert_int_equal(err.errnum, EINVAL);
}

static void sys_appends_strerror(void **state)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        herror_sys(&err, EACCES, "open %s", "/a");
        assert_string_equal(herror_msg(&err), "open /a: Permission denied");
}

static void wrap_prefixes_and_keeps_errno(void **state)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        herror_set(&err, ENOSPC, "inner");
        assert_int_equal(herror_wrap(&err, "outer %d", 2), -ENOSPC);
        assert_string_equal(herror_msg(&err), "outer 2: inner");
        assert_int_equal(err.errnum, ENOSPC);
}

static void null_err_is_allowed(void **state)
{
        assert_int_equal(herror_set(NULL, EPERM, "x"), -EPERM);
        assert_string_equal(herror_msg(NULL), "no error");
}

static void take_ptr_moves_ownership(void **state)
{
        _cleanup_free_ char *a = strdup("x");
        char *b = TAKE_PTR(a);
        assert_null(a);
        assert_string_equal(b, "x");
        free(b);
        int fd = 5;
        assert_int_equal(TAKE_FD(fd), 5);
        assert_int_equal(fd, -1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(set_returns_negative_errno), cmocka_unit_test(nonpositive_errnum_is_einval),
                cmocka_unit_test(sys_appends_strerror),       cmocka_unit_test(wrap_prefixes_and_keeps_errno),
                cmocka_unit_test(null_err_is_allowed),        cmocka_unit_test(take_ptr_moves_ownership),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
