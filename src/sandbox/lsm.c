#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/lsm.h"
#include "util/cleanup.h"
#include "util/fileio.h"

#if HAVE_APPARMOR
#include <sys/apparmor.h>
#endif
#if HAVE_SELINUX
#include <selinux/selinux.h>
#endif

#define APPARMOR_PROFILES "/sys/kernel/security/apparmor/profiles"

static bool first_line_is(const char *path, const char *want)
{
        char buf[64];
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
        if (n <= 0)
                return false;
        buf[n] = 0;
        buf[strcspn(buf, "\n")] = 0;
        return streq(buf, want);
}

bool lsm_apparmor_profiles_has(const char *text, const char *name)
{
        size_t len = strlen(name);
        for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
                if (strncmp(line, name, len) == 0 && strncmp(line + len, " (", 2) == 0)
                        return true;
        return false;
}

static void probe_apparmor(struct lsm_host *h)
{
#if HAVE_APPARMOR
        h->apparmor = first_line_is("/sys/module/apparmor/parameters/enabled", "Y") && aa_is_enabled() > 0;
#else
        h->apparmor = first_line_is("/sys/module/apparmor/parameters/enabled", "Y") && access(APPARMOR_PROFILES, F_OK) == 0;
#endif
        if (!h->apparmor)
                return;
        _cleanup_free_ char *list = NULL;
        size_t len;
        if (read_file_at(AT_FDCWD, APPARMOR_PROFILES, 4u << 20, &list, &len, NULL) == 0)
                h->apparmor_default_loaded = lsm_apparmor_profiles_has(list, LSM_APPARMOR_DEFAULT);
}

#if HAVE_SELINUX
/* lxc_contexts lines: process = "system_u:system_r:container_t:s0" */
static void read_container_contexts(struct lsm_host *h)
{
        const char *path = selinux_lxc_contexts_path();
        _cleanup_fclose_ FILE *f = path ? fopen(path, "re") : NULL;
        char line[512], key[32], value[LSM_LABEL_MAX];
        while (f && fgets(line, sizeof line, f))
                if (sscanf(line, " %31[a-z_] = \"%255[^\"]\"", key, value) == 2) {
                        if (streq(key, "process"))
                                snprintf(h->selinux_process_base, sizeof h->selinux_process_base, "%s", value);
                        else if (streq(key, "file"))
                                snprintf(h->selinux_file_base, sizeof h->selinux_file_base, "%s", value);
                }
}
#endif

static void probe_selinux(struct lsm_host *h)
{
        snprintf(h->selinux_process_base, sizeof h->selinux_process_base, "%s", LSM_SELINUX_PROCESS_BASE);
        snprintf(h->selinux_file_base, sizeof h->selinux_file_base, "%s", LSM_SELINUX_FILE_BASE);
#if HAVE_SELINUX
        h->selinux = is_selinux_enabled() > 0;
        if (!h->selinux)
                return;
        h->selinux_enforcing = security_getenforce() == 1;
        read_container_contexts(h);
        h->selinux_container_type = security_check_context(h->selinux_process_base) == 0;
#else
        h->selinux = access("/sys/fs/selinux/enforce", F_OK) == 0;
        h->selinux_enforcing = first_line_is("/sys/fs/selinux/enforce", "1");
#endif
}

void lsm_probe(struct lsm_host *ret)
{
        *ret = (struct lsm_host) { 0 };
        probe_apparmor(ret);
        probe_selinux(ret);
}

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
