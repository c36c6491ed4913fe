#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/lsm-dl.h"
#include "sandbox/lsm.h"
#include "util/cleanup.h"
#include "util/fileio.h"

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

/* The kernel's profile list (securityfs apparmor/profiles) is readable by root only; asking for the
 * profile at the next exec is what any user may do, and what hutch does later in the container's init.
 * A child asks and exits, so nothing of it stays. Through this process's own /proc, never a container's. */
int lsm_apparmor_profile_check(const char *name)
{
        char cmd[4200];
        if (snprintf(cmd, sizeof cmd, "exec %s", name) >= (int) sizeof cmd)
                return -ENAMETOOLONG;
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int fd = open("/proc/thread-self/attr/apparmor/exec", O_WRONLY | O_CLOEXEC);
                if (fd < 0)
                        fd = open("/proc/thread-self/attr/exec", O_WRONLY | O_CLOEXEC);
                if (fd < 0)
                        _exit(errno & 0xff);
                _exit(write(fd, cmd, strlen(cmd)) < 0 ? errno & 0xff : 0);
        }
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return WIFEXITED(status) ? -WEXITSTATUS(status) : -EIO;
}

static void probe_apparmor(struct lsm_host *h)
{
        /* the kernel first: the library is loaded only where AppArmor is on (lsm-dl.h says why) */
        h->apparmor = first_line_is("/sys/module/apparmor/parameters/enabled", "Y");
#if HAVE_APPARMOR
        if (h->apparmor && lsm_dl_apparmor())
                h->apparmor = aa_is_enabled() > 0;
        else
#endif
                h->apparmor = h->apparmor && access("/sys/kernel/security/apparmor", F_OK) == 0;
        h->apparmor_default_loaded = h->apparmor && lsm_apparmor_profile_check(LSM_APPARMOR_DEFAULT) == 0;
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
        /* selinuxfs mounted: SELinux is on, and only then is libselinux loaded (lsm-dl.h); a host where it
         * cannot be loaded has SELinux reported unavailable */
        h->selinux = access("/sys/fs/selinux", F_OK) == 0 && lsm_dl_selinux() && is_selinux_enabled() > 0;
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
                return herror_set(err, EOPNOTSUPP,
                                  "LSM labels need a pid namespace of the container's own (hutch writes "
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

/* Whether AppArmor is active and the profile loaded was checked before the clone (lsm_check_host): the
 * container's own mounts cannot tell, so here the kernel's answer to the write is the check. */
static int apply_apparmor(const char *profile, int procfd, struct herror *err)
{
        if (!profile || !profile[0] || streq(profile, "unconfined"))
                return 0;
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "exec %s", profile);
        /* the per-LSM directory since Linux 5.8; the shared attr file before it */
        _cleanup_herror_ struct herror first = HERROR_INIT;
        if (write_attr(procfd, "apparmor/exec", cmd, &first) == 0)
                return 0;
        int r = write_attr(procfd, "exec", cmd, err);
        return r < 0 ? herror_wrap(err, "AppArmor profile \"%s\"", profile) : 0;
}

static int apply_selinux(const char *label, int procfd, struct herror *err)
{
        if (!label || !label[0])
                return 0;
#if HAVE_SELINUX
        /* SELinux being enabled and the label valid were checked before the clone (lsm_check_host), where
         * libselinux still sees the host's selinuxfs */
        int r = write_attr(procfd, "exec", label, err);
        return r < 0 ? herror_wrap(err, "SELinux label \"%s\"", label) : 0;
#else
        return herror_set(err, EOPNOTSUPP, "SELinux label \"%s\" asked for, but hutch was built without SELinux",
                          label);
#endif
}

int lsm_check_host(const struct spec *s, struct herror *err)
{
        const char *aa = s->process.apparmor_profile, *se = s->process.selinux_label;
        bool want_aa = aa && aa[0] && !streq(aa, "unconfined"), want_se = se && se[0];
        bool want_mount = s->mount_label && s->mount_label[0];
        if (!want_aa && !want_se && !want_mount)
                return 0;
        struct lsm_host h;
        lsm_probe(&h);
        if (want_aa && !h.apparmor)
                return herror_set(err, EOPNOTSUPP,
                                  "AppArmor profile \"%s\" asked for, but AppArmor is not active on this host", aa);
        int r = want_aa ? lsm_apparmor_profile_check(aa) : 0;
        if (r == -ENOENT)
                return herror_set(err, ENOENT,
                                  "AppArmor profile \"%s\" is not loaded (as root: apparmor_parser -r "
                                  "/etc/apparmor.d/%s)",
                                  aa, aa);
        if (r < 0)
                return herror_sys(err, -r, "AppArmor profile \"%s\" cannot be set for exec", aa);
        if ((want_se || want_mount) && (!h.selinux || !HAVE_SELINUX))
                return herror_set(err, EOPNOTSUPP, "SELinux %s \"%s\" asked for, but %s",
                                  want_se ? "label" : "mount label", want_se ? se : s->mount_label,
                                  !h.selinux ? "SELinux is not active on this host"
                                             : "hutch was built without libselinux");
#if HAVE_SELINUX
        if (want_se && security_check_context(se) < 0)
                return herror_set(err, EINVAL, "SELinux label \"%s\" is not a valid context in the loaded policy", se);
        if (want_mount && security_check_context(s->mount_label) < 0)
                return herror_set(err, EINVAL, "SELinux mount label \"%s\" is not a valid context in the loaded policy",
                                  s->mount_label);
#endif
        return 0;
}

int lsm_apply_exec_labels(const struct spec_process *p, int procfd, struct herror *err)
{
        int r = apply_apparmor(p->apparmor_profile, procfd, err);
        return r < 0 ? r : apply_selinux(p->selinux_label, procfd, err);
}
