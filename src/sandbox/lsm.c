#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/lsm.h"
#include "util/fileio.h"

#if HAVE_APPARMOR
#include <sys/apparmor.h>
#endif
#if HAVE_SELINUX
#include <selinux/selinux.h>
#endif

/* procfd/<pid>/task/<tid>/attr/<leaf>, with no symlink (not even "self") and no mount crossing. */
static int write_attr(int procfd, const char *leaf, const char *value, struct herror *err)
{
        if (procfd < 0)
                return herror_set(err, EOPNOTSUPP, "LSM labels need a pid namespace of the container's own (hutch writes "
                                                   "them through a procfs instance it mounted itself)");
        char path[128];
        snprintf(path, sizeof path, "%d/task/%d/attr/%s", (int) getpid(), (int) gettid(), leaf);
        struct open_how how = {
                .flags = O_WRONLY | O_CLOEXEC,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS,
        };
        _cleanup_close_ int fd = (int) syscall(SYS_openat2, procfd, path, &how, sizeof how);
        if (fd < 0)
                return herror_sys(err, errno, "open /proc/%s of hutch's own procfs", path);
        if (write_all(fd, value, strlen(value)) < 0)
                return herror_sys(err, errno, "write %s to attr/%s", value, leaf);
        return 0;
}

static int apply_apparmor(const char *profile, int procfd, struct herror *err)
{
        if (!profile || !profile[0])
                return 0;
#if HAVE_APPARMOR
        if (!aa_is_enabled()) {
                if (streq(profile, "unconfined"))
                        return 0;
                return herror_set(err, EOPNOTSUPP, "AppArmor profile \"%s\" asked for, but AppArmor is not active", profile);
        }
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "exec %s", profile);
        /* the per-LSM directory since Linux 5.8; the shared attr file before it */
        _cleanup_herror_ struct herror first = HERROR_INIT;
        if (write_attr(procfd, "apparmor/exec", cmd, &first) == 0)
                return 0;
        return write_attr(procfd, "exec", cmd, err);
#else
        if (streq(profile, "unconfined"))
                return 0;
        return herror_set(err, EOPNOTSUPP, "AppArmor profile \"%s\" asked for, but hutch was built without AppArmor", profile);
#endif
}

static int apply_selinux(const char *label, int procfd, struct herror *err)
{
        if (!label || !label[0])
                return 0;
#if HAVE_SELINUX
        if (is_selinux_enabled() <= 0)
                return herror_set(err, EOPNOTSUPP, "SELinux label \"%s\" asked for, but SELinux is not active", label);
        if (security_check_context(label) < 0)
                return herror_set(err, EINVAL, "SELinux label \"%s\" is not a valid context", label);
        return write_attr(procfd, "exec", label, err);
#else
        return herror_set(err, EOPNOTSUPP, "SELinux label \"%s\" asked for, but hutch was built without SELinux", label);
#endif
}

int lsm_apply_exec_labels(const struct spec_process *p, int procfd, struct herror *err)
{
        int r = apply_apparmor(p->apparmor_profile, procfd, err);
        return r < 0 ? r : apply_selinux(p->selinux_label, procfd, err);
}
