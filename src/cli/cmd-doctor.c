/* hutch doctor: each rootless pitfall users of peers hit (NEEDS.md section 2), checked on this machine
 * for this user, with the exact fix. Exit 0 when a rootless run can work. */
#include <fcntl.h>
#include <stdarg.h>
#include <getopt.h>
#include <linux/magic.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cli/cli.h"
#include "sandbox/kernel.h"
#include "sandbox/subid.h"
#include "util/log.h"

#ifndef NFS_SUPER_MAGIC
#define NFS_SUPER_MAGIC 0x6969
#endif

enum check_status { CHECK_OK, CHECK_WARN, CHECK_FAIL };

struct doctor {
        json_t *checks;
        bool json;
        bool failed;
        const char *user;
        uid_t uid;
        gid_t gid;
};

static void report(struct doctor *d, enum check_status st, const char *name, const char *fix, const char *fmt, ...) _printf_(5, 6);
static void report(struct doctor *d, enum check_status st, const char *name, const char *fix, const char *fmt, ...)
{
        static const char *const labels[] = { "ok", "warn", "FAIL" };
        char finding[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(finding, sizeof finding, fmt, ap);
        va_end(ap);
        if (st == CHECK_FAIL)
                d->failed = true;
        if (d->json) {
                json_array_append_new(d->checks, json_pack("{s:s,s:s,s:s,s:s?}", "name", name, "status",
                                                           st == CHECK_OK ? "ok" : st == CHECK_WARN ? "warn" : "fail",
                                                           "finding", finding, "fix", st == CHECK_OK ? NULL : fix));
                return;
        }
        printf("%-4s  %s: %s\n", labels[st], name, finding);
        if (st != CHECK_OK && fix)
                printf("      fix: %s\n", fix);
}

static bool read_line(const char *path, char *buf, size_t size)
{
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        if (!f || !fgets(buf, (int) size, f))
                return false;
        buf[strcspn(buf, "\n")] = 0;
        return true;
}

static void check_userns(struct doctor *d)
{
        char v[64];
        if (kernel_can_unshare_userns()) {
                report(d, CHECK_OK, "user namespaces", NULL, "an unprivileged user namespace can be created");
                return;
        }
        if (read_line("/proc/sys/kernel/unprivileged_userns_clone", v, sizeof v) && streq(v, "0"))
                report(d, CHECK_FAIL, "user namespaces", "sysctl -w kernel.unprivileged_userns_clone=1 (as root; persist it in /etc/sysctl.d/)",
                       "disabled by kernel.unprivileged_userns_clone=0");
        else if (read_line("/proc/sys/user/max_user_namespaces", v, sizeof v) && streq(v, "0"))
                report(d, CHECK_FAIL, "user namespaces", "sysctl -w user.max_user_namespaces=15000 (as root)",
                       "disabled by user.max_user_namespaces=0");
        else if (read_line("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", v, sizeof v) && streq(v, "1"))
                report(d, CHECK_FAIL, "user namespaces",
                       "load an AppArmor profile allowing userns for hutch, or sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 (as root)",
                       "refused by AppArmor (kernel.apparmor_restrict_unprivileged_userns=1, Ubuntu 23.10+)");
        else
                report(d, CHECK_FAIL, "user namespaces", "check seccomp or LSM policy of the environment hutch runs in (a container?)",
                       "unshare(CLONE_NEWUSER) is refused and no sysctl explains why");
}

/* The first free 65536-ID range above 100000 in both files, for the usermod fix line. */
static uint32_t free_range_start(void)
{
        uint32_t start = 100000;
        for (int gid = 0; gid < 2; gid++) {
                _cleanup_fclose_ FILE *f = fopen(subid_path(gid), "re");
                char line[512];
                while (f && fgets(line, sizeof line, f)) {
                        unsigned long s, c;
                        char *p = strchr(line, ':');
                        if (p && sscanf(p + 1, "%lu:%lu", &s, &c) == 2 && s + c > start && s < (unsigned long) start + 65536)
                                start = (uint32_t) (s + c);
                }
        }
        return start;
}

static void check_subids(struct doctor *d)
{
        if (d->uid == 0) {
                report(d, CHECK_OK, "subordinate IDs", NULL, "running as root (rootful mode): /etc/subuid and /etc/subgid are not used");
                return;
        }
        for (int gid = 0; gid < 2; gid++) {
                const char *name = gid ? "subordinate GIDs" : "subordinate UIDs";
                struct subid_ranges r = { 0 };
                _cleanup_herror_ struct herror err = HERROR_INIT;
                char fix[256];
                uint32_t s = free_range_start();
                snprintf(fix, sizeof fix, "usermod --add-sub%cids %u-%u %s (as root)", gid ? 'g' : 'u', s, s + 65535, d->user);
                if (subid_load(gid, d->user, d->uid, &r, &err) < 0) {
                        report(d, CHECK_FAIL, name, fix, "%s", herror_msg(&err));
                        continue;
                }
                uint64_t total = subid_ranges_total(&r);
                if (total == 0)
                        report(d, CHECK_WARN, name, fix,
                               "user %s (%u) has no entry in %s: only a single-ID mapping works, and images with files owned "
                               "by other IDs will not unpack correctly", d->user, (unsigned) d->uid, subid_path(gid));
                else if (total < 65536)
                        report(d, CHECK_WARN, name, fix, "user %s has only %llu IDs in %s; many images need 65536",
                               d->user, (unsigned long long) total, subid_path(gid));
                else
                        report(d, CHECK_OK, name, NULL, "user %s has %llu IDs in %s", d->user, (unsigned long long) total, subid_path(gid));
                subid_ranges_free(&r);
        }
}

static void check_helper(struct doctor *d, const char *name, const char *cap)
{
        static const char *const dirs[] = { "/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/" };
        char path[64];
        struct stat st;
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                snprintf(path, sizeof path, "%s%s", dirs[i], name);
                if (stat(path, &st) < 0)
                        continue;
                bool setuid_root = (st.st_mode & S_ISUID) && st.st_uid == 0;
                bool has_caps = getxattr(path, "security.capability", NULL, 0) > 0;
                if (setuid_root || has_caps)
                        report(d, CHECK_OK, name, NULL, "%s is %s", path, setuid_root ? "setuid root" : "given file capabilities");
                else
                        report(d, CHECK_WARN, name, "apt-get install --reinstall uidmap (as root), or setcap cap_setuid,cap_setgid+ep on it",
                               "%s is neither setuid root nor given %s: multi-range mappings will fail", path, cap);
                return;
        }
        report(d, CHECK_WARN, name, "apt-get install uidmap (as root)", "not installed: only single-ID mappings will work");
}

static void check_runtime_dir(struct doctor *d)
{
        const char *x = getenv("XDG_RUNTIME_DIR");
        struct stat st;
        char fix[256];
        snprintf(fix, sizeof fix, "log in through a session manager (pam_systemd), or: mkdir -m 0700 /run/user/%u && chown %s /run/user/%u "
                 "(as root), then export XDG_RUNTIME_DIR=/run/user/%u", (unsigned) d->uid, d->user, (unsigned) d->uid, (unsigned) d->uid);
        if (d->uid == 0)
                report(d, CHECK_OK, "XDG_RUNTIME_DIR", NULL, "root keeps runtime state in /run/hutch");
        else if (!x || !*x)
                report(d, CHECK_WARN, "XDG_RUNTIME_DIR", fix, "not set (common under su, sudo and cron): hutch-runtime needs it or --root");
        else if (stat(x, &st) < 0)
                report(d, CHECK_WARN, "XDG_RUNTIME_DIR", fix, "%s does not exist", x);
        else if (st.st_uid != d->uid || (st.st_mode & 077))
                report(d, CHECK_WARN, "XDG_RUNTIME_DIR", fix, "%s is not owned by %s with mode 0700", x, d->user);
        else
                report(d, CHECK_OK, "XDG_RUNTIME_DIR", NULL, "%s", x);
}

static void check_storage(struct doctor *d)
{
        char path[4096];
        const char *env = getenv("HUTCH_STORAGE"), *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
        if (env && *env)
                snprintf(path, sizeof path, "%s", env);
        else if (d->uid == 0)
                snprintf(path, sizeof path, "/var/lib/hutch");
        else if (xdg && *xdg)
                snprintf(path, sizeof path, "%s/hutch", xdg);
        else
                snprintf(path, sizeof path, "%s/.local/share/hutch", home ? home : "/");
        /* the store may not exist yet: judge the nearest existing parent */
        struct statfs sf;
        char probe[4096];
        snprintf(probe, sizeof probe, "%s", path);
        while (statfs(probe, &sf) < 0) {
                char *slash = strrchr(probe, '/');
                if (!slash || slash == probe) {
                        snprintf(probe, sizeof probe, "/");
                        statfs(probe, &sf);
                        break;
                }
                *slash = 0;
        }
        if (sf.f_type == NFS_SUPER_MAGIC)
                report(d, CHECK_WARN, "storage", "set HUTCH_STORAGE to a local filesystem",
                       "%s is on NFS: ownership by subordinate IDs and overlay upper dirs do not work there", path);
        else
                report(d, CHECK_OK, "storage", NULL, "%s (filesystem type 0x%lx)", path, (unsigned long) sf.f_type);
}

/* Native overlay inside a user namespace (Linux >= 5.11 with userxattr): tried, not guessed. */
static bool try_overlay(void)
{
        char dir[] = "/tmp/hutch-doctor-XXXXXX";
        if (!mkdtemp(dir))
                return false;
        pid_t pid = fork();
        if (pid == 0) {
                uid_t uid = getuid();
                gid_t gid = getgid();
                if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
                        _exit(1);
                char map[64];
                int fd = open("/proc/self/setgroups", O_WRONLY | O_CLOEXEC);
                if (fd >= 0) {
                        (void) !write(fd, "deny", 4);
                        close(fd);
                }
                snprintf(map, sizeof map, "0 %u 1", (unsigned) uid);
                fd = open("/proc/self/uid_map", O_WRONLY | O_CLOEXEC);
                if (fd < 0 || write(fd, map, strlen(map)) < 0)
                        _exit(1);
                close(fd);
                snprintf(map, sizeof map, "0 %u 1", (unsigned) gid);
                fd = open("/proc/self/gid_map", O_WRONLY | O_CLOEXEC);
                if (fd < 0 || write(fd, map, strlen(map)) < 0)
                        _exit(1);
                close(fd);
                if (mount("tmpfs", dir, "tmpfs", 0, NULL) < 0 || chdir(dir) < 0)
                        _exit(1);
                if (mkdir("l", 0755) < 0 || mkdir("u", 0755) < 0 || mkdir("w", 0755) < 0 || mkdir("m", 0755) < 0)
                        _exit(1);
                _exit(mount("overlay", "m", "overlay", 0, "lowerdir=l,upperdir=u,workdir=w,userxattr") == 0 ? 0 : 1);
        }
        int status = 1;
        if (pid > 0)
                waitpid(pid, &status, 0);
        rmdir(dir);
        return pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void check_overlay(struct doctor *d)
{
        if (try_overlay())
                report(d, CHECK_OK, "overlay", NULL, "native overlayfs works in a user namespace");
        else
                report(d, CHECK_WARN, "overlay", "use Linux >= 5.11, or install fuse-overlayfs",
                       "native overlayfs is refused in a user namespace: containers will use a slower copy");
}

static void check_cgroups(struct doctor *d)
{
        struct statfs sf;
        bool v2_only = statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
        bool hybrid = !v2_only && statfs("/sys/fs/cgroup/unified", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
        const char *fix = "boot with systemd.unified_cgroup_hierarchy=1 and delegate controllers to the user "
                          "(systemd: Delegate=yes in user@.service)";
        if (!v2_only) {
                report(d, CHECK_WARN, "cgroups", fix, "%s: resource limits (--memory, --pids-limit, --cpus) are unavailable; "
                       "containers run without them", hybrid ? "hybrid cgroup v1+v2 hierarchy without delegation" : "cgroup v1 only");
                return;
        }
        char line[4096], path[4200], controllers[256] = "";
        _cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
        if (!f || !fgets(line, sizeof line, f) || strncmp(line, "0::", 3) != 0) {
                report(d, CHECK_WARN, "cgroups", fix, "cannot find this process's cgroup");
                return;
        }
        line[strcspn(line, "\n")] = 0;
        snprintf(path, sizeof path, "/sys/fs/cgroup%s/cgroup.controllers", line + 3);
        read_line(path, controllers, sizeof controllers);
        snprintf(path, sizeof path, "/sys/fs/cgroup%s", line + 3);
        if (access(path, W_OK) < 0)
                report(d, CHECK_WARN, "cgroups", fix, "cgroup v2, but %s is not writable by %s: no delegation", path, d->user);
        else
                report(d, CHECK_OK, "cgroups", NULL, "cgroup v2, %s delegated (controllers: %s)", path, controllers[0] ? controllers : "none");
}

static void check_kernel(struct doctor *d, const struct kernel_features *k)
{
        if (k->landlock_abi > 0)
                report(d, CHECK_OK, "landlock", NULL, "ABI %d", k->landlock_abi);
        else
                report(d, CHECK_WARN, "landlock", "use Linux >= 5.13 with CONFIG_SECURITY_LANDLOCK=y and landlock in lsm=",
                       "not available: containers run without the Landlock layer");
        if (k->seccomp_filter)
                report(d, CHECK_OK, "seccomp", NULL, "filter mode available");
        else
                report(d, CHECK_FAIL, "seccomp", "use a kernel with CONFIG_SECCOMP_FILTER=y", "seccomp filters are unavailable");
        report(d, CHECK_OK, "apparmor", NULL, "%s", k->apparmor_enabled ? "active" : "not active (profiles cannot be applied here)");
        report(d, CHECK_OK, "selinux", NULL, "%s", k->selinux_enabled ? "active" : "not active (labels cannot be applied here)");
        report(d, CHECK_OK, "lsm", NULL, "%s%s", k->lsms, k->lsms_inferred ? " (inferred: securityfs is not mounted)" : "");
}

int cmd_doctor(int argc, char **argv)
{
        static const struct option opts[] = { { "format", required_argument, NULL, 'f' }, { "help", no_argument, NULL, 'h' }, {} };
        struct doctor d = { .uid = getuid(), .gid = getgid() };
        int c;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
                if (c == 'f' && cli_parse_format(optarg, &d.json) == 0)
                        continue;
                if (c == 'h') {
                        printf("Usage: hutch doctor [--format text|json]\n\n"
                               "Check that this machine and user can run rootless containers, and say how to fix what is\n"
                               "missing. Exit status 0 when a rootless run can work, 1 otherwise.\n");
                        return 0;
                }
                return cli_bad_option("hutch doctor", argc, argv);
        }
        struct passwd *pw = getpwuid(d.uid);
        char uidbuf[32];
        snprintf(uidbuf, sizeof uidbuf, "%u", (unsigned) d.uid);
        d.user = pw ? pw->pw_name : uidbuf;
        d.checks = json_array();
        struct kernel_features k;
        kernel_probe(&k);
        check_userns(&d);
        check_subids(&d);
        check_helper(&d, "newuidmap", "cap_setuid");
        check_helper(&d, "newgidmap", "cap_setgid");
        check_runtime_dir(&d);
        check_storage(&d);
        check_overlay(&d);
        check_cgroups(&d);
        check_kernel(&d, &k);
        if (d.json) {
                _cleanup_json_ json_t *o = json_pack("{s:o, s:b, s:s}", "checks", d.checks, "ok", !d.failed, "user", d.user);
                _cleanup_free_ char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                printf("%s\n", text);
        } else {
                json_decref(d.checks);
                printf("\n%s\n", d.failed ? "rootless containers cannot run here until the FAIL lines are fixed"
                                          : "rootless containers can run here");
        }
        return d.failed ? 1 : 0;
}
