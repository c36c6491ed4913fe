#include <string.h>

#include "sandbox/lsm.h"

#if HAVE_APPARMOR
#include <sys/apparmor.h>
#endif
#if HAVE_SELINUX
#include <selinux/selinux.h>
#endif

static int apply_apparmor(const char *profile, struct herror *err)
{
        if (!profile || !profile[0])
                return 0;
#if HAVE_APPARMOR
        if (!aa_is_enabled()) {
                if (streq(profile, "unconfined"))
                        return 0;
                return herror_set(err, EOPNOTSUPP, "AppArmor profile \"%s\" asked for, but AppArmor is not active", profile);
        }
        /* libapparmor writes /proc/thread-self/attr/apparmor/exec of our own procfs. */
        if (aa_change_onexec(profile) < 0)
                return herror_sys(err, errno, "AppArmor: change_onexec to \"%s\"", profile);
        return 0;
#else
        if (streq(profile, "unconfined"))
                return 0;
        return herror_set(err, EOPNOTSUPP, "AppArmor profile \"%s\" asked for, but hutch was built without AppArmor", profile);
#endif
}

static int apply_selinux(const char *label, struct herror *err)
{
        if (!label || !label[0])
                return 0;
#if HAVE_SELINUX
        if (is_selinux_enabled() <= 0)
                return herror_set(err, EOPNOTSUPP, "SELinux label \"%s\" asked for, but SELinux is not active", label);
        if (setexeccon(label) < 0)
                return herror_sys(err, errno, "SELinux: setexeccon \"%s\"", label);
        return 0;
#else
        return herror_set(err, EOPNOTSUPP, "SELinux label \"%s\" asked for, but hutch was built without SELinux", label);
#endif
}

int lsm_apply_exec_labels(const struct spec_process *p, struct herror *err)
{
        int r = apply_apparmor(p->apparmor_profile, err);
        return r < 0 ? r : apply_selinux(p->selinux_label, err);
}
