/* AppArmor and SELinux labels fail closed where they cannot be applied (neither LSM is active on the
 * test machine: these are the paths it can exercise; enforcement itself is not verified here). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <unistd.h>

#include "sandbox/kernel.h"
#include "sandbox/lsm.h"

static void no_labels_is_a_no_op(void **state)
{
        struct spec_process p = { 0 };
        _cleanup_herror_ struct herror err = HERROR_INIT;
        assert_int_equal(lsm_apply_exec_labels(&p, -1, &err), 0);
        char empty[] = "";
        p.apparmor_profile = empty;
        p.selinux_label = empty;
        assert_int_equal(lsm_apply_exec_labels(&p, -1, &err), 0);
}

static void apparmor_profile_fails_closed_when_inactive(void **state)
{
        struct kernel_features k;
        kernel_probe(&k);
        if (k.apparmor_enabled)
                skip();
        char prof[] = "hutch-default", unconfined[] = "unconfined";
        struct spec_process p = { .apparmor_profile = prof };
        _cleanup_herror_ struct herror err = HERROR_INIT;
        assert_true(lsm_apply_exec_labels(&p, -1, &err) < 0);
        assert_non_null(strstr(herror_msg(&err), "hutch-default"));
        assert_int_equal(err.errnum, EOPNOTSUPP);
        p.apparmor_profile = unconfined; /* asking for no confinement where there is none is satisfied */
        herror_clear(&err);
        assert_int_equal(lsm_apply_exec_labels(&p, -1, &err), 0);
}

static void selinux_label_fails_closed_when_inactive(void **state)
{
        struct kernel_features k;
        kernel_probe(&k);
        if (k.selinux_enabled)
                skip();
        char label[] = "system_u:system_r:container_t:s0:c1,c2";
        struct spec_process p = { .selinux_label = label };
        _cleanup_herror_ struct herror err = HERROR_INIT;
        assert_true(lsm_apply_exec_labels(&p, -1, &err) < 0);
        assert_non_null(strstr(herror_msg(&err), "container_t"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(no_labels_is_a_no_op),
                cmocka_unit_test(apparmor_profile_fails_closed_when_inactive),
                cmocka_unit_test(selinux_label_fails_closed_when_inactive),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
