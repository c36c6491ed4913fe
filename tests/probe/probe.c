/* hutch-probe: the escape probe. Run as a container's workload (it is static, so any rootfs will do), it
 * tries every operation an escape would start from and prints one line for each:
 *
 *     NAME VERDICT DETAIL
 *
 *   blocked  the sandbox, or the kernel because of how the sandbox set things up, refused it
 *   reached  a syscall probe (syscalls.c) got past the sandbox to the kernel, which answered DETAIL for
 *            the probe's harmless arguments: the call itself is allowed, what it could do depends on
 *            the kernel's own checks
 *   ALLOWED  it worked: the workload can do this
 *   n/a      it cannot be tried here (the kernel lacks the interface, there is no terminal, ...);
 *            DETAIL says why
 *
 * Usage: hutch-probe [--host-path PATH]... [CHECK...]   (no CHECK: all of them, in order)
 *        hutch-probe list
 * --host-path names a path that exists on the host (a sentinel the caller made): seeing it is ALLOWED.
 * Exit status 0 (the verdicts are the answer), 2 on a usage error.
 *
 * Safety: the probe changes nothing lasting even when run as root outside any sandbox. The syscall
 * probes use harmless arguments (syscalls.c); /proc/sysrq-trigger is opened but never written; the
 * sysctl is written back with the value it had; the device node and the chowned file live in a
 * temporary directory the probe removes; io_uring's ring is closed unused; ptrace seizes pid 1 without
 * stopping it and detaches at once; TIOCSTI pushes one space into the terminal's input queue. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/magic.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "syscalls.h"

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_HOST_PATHS 16

static const char *host_paths[MAX_HOST_PATHS];
static size_t n_host_paths;

static void verdict(const char *name, const char *v, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void verdict(const char *name, const char *v, const char *fmt, ...)
{
        char detail[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, sizeof detail, fmt, ap);
        va_end(ap);
        printf("%-20s %-8s %s\n", name, v, detail);
        fflush(stdout);
}

/* Refusals a sandbox gives (seccomp, missing capability, read-only or masked mount) rather than a
 * kernel's answer to the arguments. */
static bool is_refusal(int e)
{
        return e == EPERM || e == EACCES || e == ENOSYS || e == EROFS;
}

/* ---- syscall probes ---- */

static void check_syscall(const struct syscall_probe *p)
{
        int killed_by;
        long r = syscall_probe_run(p, &killed_by);
        int e = errno;
        if (killed_by)
                verdict(p->name, "blocked", "killed by signal %d", killed_by);
        else if (r >= 0)
                verdict(p->name, "ALLOWED", "OK");
        else if (is_refusal(e))
                verdict(p->name, "blocked", "%s", syscall_errno_name(e));
        else
                verdict(p->name, "reached", "%s", syscall_errno_name(e));
}

/* ---- /proc ---- */

/* Write a non-namespaced sysctl: the value it holds, so nothing changes even when the write works. */
static void check_proc_sys_write(const char *name)
{
        static const char path[] = "/proc/sys/vm/swappiness";
        char value[64] = "";
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, value, sizeof value - 1) : -1;
        if (fd >= 0)
                close(fd);
        if (n <= 0) {
                verdict(name, "n/a", "%s cannot be read", path);
                return;
        }
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0) {
                verdict(name, "blocked", "open %s for writing: %s", path, syscall_errno_name(errno));
                return;
        }
        ssize_t w = write(fd, value, (size_t) n);
        int e = errno;
        close(fd);
        if (w < 0)
                verdict(name, "blocked", "write %s: %s", path, syscall_errno_name(e));
        else
                verdict(name, "ALLOWED", "wrote %s (its own value back)", path);
}

/* Whether fd is a file of the real procfs (a masked path is /dev/null or an empty tmpfs instead). */
static bool is_procfs_file(int fd)
{
        struct statfs sf;
        struct stat st;
        return fstatfs(fd, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

static void check_sysrq(const char *name)
{
        int fd = open("/proc/sysrq-trigger", O_WRONLY | O_CLOEXEC);
        if (fd < 0) {
                verdict(name, errno == ENOENT ? "n/a" : "blocked", "open for writing: %s", syscall_errno_name(errno));
                return;
        }
        bool real = is_procfs_file(fd);
        close(fd); /* never written: one byte would act on the host */
        if (real)
                verdict(name, "ALLOWED", "opened for writing (nothing written)");
        else
                verdict(name, "blocked", "masked (not procfs)");
}

static void check_kcore(const char *name)
{
        int fd = open("/proc/kcore", O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                verdict(name, errno == ENOENT ? "n/a" : "blocked", "open: %s", syscall_errno_name(errno));
                return;
        }
        char c;
        ssize_t n = read(fd, &c, 1);
        int e = errno;
        bool real = is_procfs_file(fd);
        close(fd);
        if (n < 0)
                verdict(name, "blocked", "read: %s", syscall_errno_name(e));
        else if (n == 0 || !real)
                verdict(name, "blocked", "masked (%s)", n == 0 ? "reads empty" : "not procfs");
        else
                verdict(name, "ALLOWED", "read kernel memory");
}

/* ---- files ---- */

/* A fresh directory the workload can write to, or NULL. */
static const char *scratch_dir(char *buf, size_t size)
{
        static const char *const candidates[] = { "/tmp", "/dev/shm", "/run", "/var/tmp", "/dev", "" };
        for (size_t i = 0; i < ELEMENTSOF(candidates); i++) {
                snprintf(buf, size, "%s/hutch-probe-XXXXXX", candidates[i]);
                if (mkdtemp(buf))
                        return buf;
        }
        return NULL;
}

/* A file name in a fresh writable directory, removed again by scratch_done(). */
struct scratch {
        char dir[64], path[96];
};

static bool scratch_begin(struct scratch *s, const char *check, const char *file)
{
        if (!scratch_dir(s->dir, sizeof s->dir)) {
                verdict(check, "n/a", "no writable directory");
                return false;
        }
        snprintf(s->path, sizeof s->path, "%s/%s", s->dir, file);
        return true;
}

static void scratch_done(struct scratch *s)
{
        unlink(s->path);
        rmdir(s->dir);
}

static void check_mknod(const char *name)
{
        struct scratch s;
        if (!scratch_begin(&s, name, "mem"))
                return;
        /* 1:1 is /dev/mem: a node of it would reach physical memory */
        int r = mknod(s.path, S_IFCHR | 0600, makedev(1, 1));
        int e = errno;
        scratch_done(&s);
        if (r < 0)
                verdict(name, "blocked", "mknod c 1 1 in %s: %s", s.dir, syscall_errno_name(e));
        else
                verdict(name, "ALLOWED", "created a /dev/mem node in %s (removed)", s.dir);
}

static bool uid_mapped(uint32_t uid)
{
        FILE *f = fopen("/proc/self/uid_map", "re");
        unsigned long in, out, count;
        bool mapped = !f;
        while (f && !mapped && fscanf(f, "%lu %lu %lu", &in, &out, &count) == 3)
                mapped = uid >= in && uid - in < count;
        if (f)
                fclose(f);
        return mapped;
}

/* An id no line of /proc/self/uid_map covers (inside ids), or (uid_t) -1 when every id is mapped. */
static uint32_t unmapped_uid(void)
{
        static const uint32_t candidates[] = { 4000000000u, 3000000000u, 2000000000u, 1000000u, 4242u, 1u };
        for (size_t i = 0; i < ELEMENTSOF(candidates); i++)
                if (!uid_mapped(candidates[i]))
                        return candidates[i];
        return UINT32_MAX;
}

static void check_chown_unmapped(const char *name)
{
        struct scratch s;
        if (!scratch_begin(&s, name, "file"))
                return;
        int fd = open(s.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        uint32_t uid = unmapped_uid();
        if (fd < 0 || uid == UINT32_MAX) {
                verdict(name, "n/a", "%s", fd < 0 ? "cannot create a file" : "every uid is mapped (no user namespace)");
                if (fd >= 0)
                        close(fd);
                scratch_done(&s);
                return;
        }
        close(fd);
        int r = chown(s.path, uid, (gid_t) -1);
        int e = errno;
        scratch_done(&s);
        if (r < 0)
                verdict(name, "blocked", "chown to uid %u: %s", uid, syscall_errno_name(e));
        else
                verdict(name, "ALLOWED", "chowned a file to the unmapped uid %u", uid);
}

/* ---- terminal ---- */

static void check_tiocsti(const char *name)
{
        int fd = -1;
        for (int i = 0; i <= 2 && fd < 0; i++)
                if (isatty(i))
                        fd = i;
        bool opened = false;
        if (fd < 0) {
                fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
                opened = fd >= 0;
        }
        if (fd < 0) {
                verdict(name, "n/a", "no terminal (fds 0-2 are not ttys, /dev/tty: %s)", syscall_errno_name(errno));
                return;
        }
        char c = ' ';
        int r = ioctl(fd, TIOCSTI, &c);
        int e = errno;
        if (opened)
                close(fd);
        if (r < 0)
                verdict(name, "blocked", "TIOCSTI on the terminal: %s", syscall_errno_name(e));
        else
                verdict(name, "ALLOWED", "pushed a byte into the terminal's input (one space)");
}

/* ---- netlink ---- */

static int netlink_socket(int protocol)
{
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
        if (fd < 0)
                return -errno;
        struct timeval tv = { .tv_sec = 2 };
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        return fd;
}

/* Send a request of type with payload; 0 or -errno. */
static int netlink_send(int fd, uint16_t type, uint16_t flags, const void *payload, size_t len)
{
        struct {
                struct nlmsghdr h;
                char body[64];
        } req = { .h = { .nlmsg_len = (uint32_t) NLMSG_LENGTH(len),
                         .nlmsg_type = type,
                         .nlmsg_flags = flags,
                         .nlmsg_seq = 1 } };
        memcpy(req.body, payload, len);
        struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
        return sendto(fd, &req, req.h.nlmsg_len, 0, (struct sockaddr *) &kernel, sizeof kernel) < 0 ? -errno : 0;
}

static void check_netlink_audit(const char *name)
{
        int fd = netlink_socket(NETLINK_AUDIT);
        if (fd < 0) {
                verdict(name, "blocked", "socket: %s", syscall_errno_name(-fd));
                return;
        }
        int r = netlink_send(fd, AUDIT_GET, NLM_F_REQUEST | NLM_F_ACK, "", 0);
        char buf[8192];
        ssize_t n = r < 0 ? r : recv(fd, buf, sizeof buf, 0);
        int e = n < 0 ? (r < 0 ? -r : errno) : 0;
        close(fd);
        if (n < 0) {
                verdict(name, "blocked", "socket OK, AUDIT_GET: %s", syscall_errno_name(e));
                return;
        }
        const struct nlmsghdr *h = (const struct nlmsghdr *) buf;
        if (n >= (ssize_t) sizeof *h && h->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *err = NLMSG_DATA(h);
                if (err->error < 0) {
                        verdict(name, "blocked", "socket OK, AUDIT_GET: %s", syscall_errno_name(-err->error));
                        return;
                }
        }
        verdict(name, "ALLOWED", "the kernel audit status is readable (AUDIT_GET answered)");
}

/* The interface names RTM_GETLINK lists, comma separated, into names. */
static int route_links(int fd, char *names, size_t size)
{
        struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
        int r = netlink_send(fd, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, &ifi, sizeof ifi);
        if (r < 0)
                return r;
        names[0] = 0;
        int count = 0;
        char buf[16384];
        for (;;) {
                ssize_t n = recv(fd, buf, sizeof buf, 0);
                if (n < 0)
                        return -errno;
                for (struct nlmsghdr *h = (struct nlmsghdr *) buf; NLMSG_OK(h, (size_t) n); h = NLMSG_NEXT(h, n)) {
                        if (h->nlmsg_type == NLMSG_DONE)
                                return count;
                        if (h->nlmsg_type == NLMSG_ERROR)
                                return ((struct nlmsgerr *) NLMSG_DATA(h))->error;
                        if (h->nlmsg_type != RTM_NEWLINK)
                                continue;
                        struct ifinfomsg *m = NLMSG_DATA(h);
                        int len = (int) IFLA_PAYLOAD(h);
                        for (struct rtattr *a = IFLA_RTA(m); RTA_OK(a, len); a = RTA_NEXT(a, len))
                                if (a->rta_type == IFLA_IFNAME) {
                                        size_t l = strlen(names);
                                        snprintf(names + l, size - l, "%s%s", l ? "," : "", (char *) RTA_DATA(a));
                                }
                        count++;
                }
        }
}

static void check_netlink_route(const char *name)
{
        int fd = netlink_socket(NETLINK_ROUTE);
        if (fd < 0) {
                verdict(name, "blocked", "socket: %s", syscall_errno_name(-fd));
                return;
        }
        char names[256];
        int n = route_links(fd, names, sizeof names);
        close(fd);
        if (n < 0)
                verdict(name, "blocked", "socket OK, RTM_GETLINK: %s", syscall_errno_name(-n));
        else if (n == 0 || (n == 1 && strcmp(names, "lo") == 0))
                verdict(name, "blocked", "socket OK, own network namespace (links: %s)", n ? names : "none");
        else
                verdict(name, "ALLOWED", "socket OK, %d links visible: %s", n, names);
}

/* ---- kernel interfaces ---- */

static void check_io_uring(const char *name)
{
#ifdef SYS_io_uring_setup
        uint32_t params[30] = { 0 }; /* struct io_uring_params */
        long fd = syscall(SYS_io_uring_setup, 4, params);
        if (fd < 0) {
                verdict(name, "blocked", "io_uring_setup(4): %s", syscall_errno_name(errno));
                return;
        }
        close((int) fd);
        verdict(name, "ALLOWED", "a 4-entry ring was created (closed unused)");
#else
        verdict(name, "n/a", "no io_uring on this architecture");
#endif
}

/* ---- descriptors and binaries ---- */

static void check_inherited_fds(const char *name)
{
        DIR *d = opendir("/proc/self/fd");
        if (!d) {
                verdict(name, "n/a", "/proc/self/fd: %s", syscall_errno_name(errno));
                return;
        }
        char list[400] = "";
        int extra = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                int fd = atoi(de->d_name);
                if (de->d_name[0] == '.' || fd <= 2 || fd == dirfd(d))
                        continue;
                char link[64], target[PATH_MAX] = "?";
                snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
                ssize_t n = readlink(link, target, sizeof target - 1);
                target[n > 0 ? n : 1] = 0;
                size_t l = strlen(list);
                snprintf(list + l, sizeof list - l, "%s%d->%s", extra++ ? " " : "", fd, target);
        }
        closedir(d);
        if (extra)
                verdict(name, "ALLOWED", "%s", list);
        else
                verdict(name, "blocked", "only 0 1 2");
}

static void check_exe_write(const char *name, const char *exe)
{
        char target[PATH_MAX] = "?";
        ssize_t n = readlink(exe, target, sizeof target - 1);
        target[n > 0 ? n : 1] = 0;
        int fd = open(exe, O_WRONLY | O_CLOEXEC);
        if (fd < 0) {
                verdict(name, "blocked", "open %s (%s) for writing: %s", exe, target, syscall_errno_name(errno));
                return;
        }
        close(fd); /* nothing written */
        verdict(name, "ALLOWED", "opened %s (%s) for writing", exe, target);
}

static void check_self_exe_write(const char *name)
{
        check_exe_write(name, "/proc/self/exe");
}

static void check_pid1_exe_write(const char *name)
{
        if (getpid() == 1) {
                verdict(name, "n/a", "the probe is pid 1 (see self-exe-write)");
                return;
        }
        check_exe_write(name, "/proc/1/exe");
}

static void check_host_paths(const char *name)
{
        static const char *const known[] = { "/etc/shadow",        "/etc/subuid",          "/etc/subgid",
                                             "/usr/bin/newuidmap", "/var/lib/dpkg/status", "/proc/1/root/etc/shadow" };
        char seen[400] = "";
        size_t checked = 0;
        struct stat st;
        for (size_t i = 0; i < ELEMENTSOF(known) + n_host_paths; i++) {
                const char *p = i < ELEMENTSOF(known) ? known[i] : host_paths[i - ELEMENTSOF(known)];
                checked++;
                if (lstat(p, &st) == 0) {
                        size_t l = strlen(seen);
                        snprintf(seen + l, sizeof seen - l, "%s%s", l ? " " : "", p);
                }
        }
        if (seen[0])
                verdict(name, "ALLOWED", "visible: %s", seen);
        else
                verdict(name, "blocked", "none of %zu host paths visible", checked);
}

/* ---- processes and privileges ---- */

static void check_ptrace_pid1(const char *name)
{
        pid_t pid = fork();
        if (pid < 0) {
                verdict(name, "n/a", "fork: %s", syscall_errno_name(errno));
                return;
        }
        if (pid == 0) {
                /* SEIZE does not stop the tracee; detach again at once */
                if (ptrace(PTRACE_SEIZE, 1, NULL, NULL) < 0)
                        _exit(errno > 0 && errno < 256 ? errno : 255);
                ptrace(PTRACE_DETACH, 1, NULL, NULL);
                _exit(0);
        }
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        break;
        if (WIFSIGNALED(status))
                verdict(name, "blocked", "killed by signal %d", WTERMSIG(status));
        else if (WEXITSTATUS(status))
                verdict(name, "blocked", "PTRACE_SEIZE of pid 1: %s", syscall_errno_name(WEXITSTATUS(status)));
        else
                verdict(name, "ALLOWED", "seized pid 1 (detached again)");
}

/* FIELD's value from /proc/self/status, or "" */
static const char *status_field(const char *field, char *buf, size_t size)
{
        FILE *f = fopen("/proc/self/status", "re");
        char line[256];
        size_t len = strlen(field);
        buf[0] = 0;
        while (f && fgets(line, sizeof line, f))
                if (strncmp(line, field, len) == 0 && line[len] == ':') {
                        const char *v = line + len + 1 + strspn(line + len + 1, " \t");
                        snprintf(buf, size, "%.*s", (int) strcspn(v, "\n"), v);
                        break;
                }
        if (f)
                fclose(f);
        return buf;
}

static const char *const cap_names[] = {
        "chown",
        "dac_override",
        "dac_read_search",
        "fowner",
        "fsetid",
        "kill",
        "setgid",
        "setuid",
        "setpcap",
        "linux_immutable",
        "net_bind_service",
        "net_broadcast",
        "net_admin",
        "net_raw",
        "ipc_lock",
        "ipc_owner",
        "sys_module",
        "sys_rawio",
        "sys_chroot",
        "sys_ptrace",
        "sys_pacct",
        "sys_admin",
        "sys_boot",
        "sys_nice",
        "sys_resource",
        "sys_time",
        "sys_tty_config",
        "mknod",
        "lease",
        "audit_write",
        "audit_control",
        "setfcap",
        "mac_override",
        "mac_admin",
        "syslog",
        "wake_alarm",
        "block_suspend",
        "audit_read",
        "perfmon",
        "bpf",
        "checkpoint_restore",
};

/* Capabilities that reach past a user namespace's own objects, or into the kernel's. */
static const int dangerous_caps[] = { 2, 12, 16, 17, 19, 21, 22, 25, 30, 32, 33, 34, 38, 39 };

static void check_caps(const char *name)
{
        char eff[32], prm[32], amb[32], bnd[32];
        status_field("CapEff", eff, sizeof eff);
        status_field("CapPrm", prm, sizeof prm);
        status_field("CapAmb", amb, sizeof amb);
        status_field("CapBnd", bnd, sizeof bnd);
        if (!eff[0]) {
                verdict(name, "n/a", "no CapEff in /proc/self/status");
                return;
        }
        uint64_t held = strtoull(eff, NULL, 16) | strtoull(prm, NULL, 16) | strtoull(amb, NULL, 16);
        char list[400] = "", bad[200] = "";
        int count = 0;
        for (size_t c = 0; c < ELEMENTSOF(cap_names); c++) {
                if (!(held >> c & 1))
                        continue;
                size_t l = strlen(list);
                snprintf(list + l, sizeof list - l, "%s%s", count++ ? "," : "", cap_names[c]);
                for (size_t d = 0; d < ELEMENTSOF(dangerous_caps); d++)
                        if (dangerous_caps[d] == (int) c) {
                                l = strlen(bad);
                                snprintf(bad + l, sizeof bad - l, "%s%s", l ? "," : "", cap_names[c]);
                        }
        }
        if (bad[0])
                verdict(name, "ALLOWED", "%s held (all %d: %s; bounding %s)", bad, count, list, bnd);
        else
                verdict(name, "blocked", "%d held, none dangerous%s%s (bounding %s)", count, count ? ": " : "", list,
                        bnd);
}

static void check_no_new_privs(const char *name)
{
        char v[16];
        status_field("NoNewPrivs", v, sizeof v);
        if (strcmp(v, "1") == 0)
                verdict(name, "blocked", "NoNewPrivs=1");
        else
                verdict(name, "ALLOWED", "NoNewPrivs=%s: setuid and file capabilities can raise privileges",
                        v[0] ? v : "?");
}

static void check_seccomp_mode(const char *name)
{
        char mode[16], filters[16];
        status_field("Seccomp", mode, sizeof mode);
        status_field("Seccomp_filters", filters, sizeof filters);
        if (strcmp(mode, "2") == 0)
                verdict(name, "blocked", "Seccomp=2 (filter; %s loaded)", filters[0] ? filters : "?");
        else if (strcmp(mode, "1") == 0)
                verdict(name, "blocked", "Seccomp=1 (strict)");
        else
                verdict(name, "ALLOWED", "Seccomp=%s: no syscall filter", mode[0] ? mode : "?");
}

static const struct {
        const char *name;
        void (*check)(const char *name);
} checks[] = {
        { "proc-sys-write", check_proc_sys_write },
        { "sysrq-trigger", check_sysrq },
        { "kcore-read", check_kcore },
        { "mknod-device", check_mknod },
        { "chown-unmapped", check_chown_unmapped },
        { "tiocsti-tty", check_tiocsti },
        { "netlink-audit", check_netlink_audit },
        { "netlink-route", check_netlink_route },
        { "io_uring", check_io_uring },
        { "inherited-fds", check_inherited_fds },
        { "self-exe-write", check_self_exe_write },
        { "pid1-exe-write", check_pid1_exe_write },
        { "host-paths", check_host_paths },
        { "ptrace-pid1", check_ptrace_pid1 },
        { "caps", check_caps },
        { "no-new-privs", check_no_new_privs },
        { "seccomp-mode", check_seccomp_mode },
};

static bool run_check(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(checks); i++)
                if (strcmp(checks[i].name, name) == 0) {
                        checks[i].check(name);
                        return true;
                }
        const struct syscall_probe *p = syscall_probe_find(name);
        if (p)
                check_syscall(p);
        return p != NULL;
}

static void list(void)
{
        for (size_t i = 0; i < n_syscall_probes; i++)
                puts(syscall_probes[i].name);
        for (size_t i = 0; i < ELEMENTSOF(checks); i++)
                puts(checks[i].name);
}

int main(int argc, char **argv)
{
        setvbuf(stdout, NULL, _IOLBF, 0);
        int i = 1;
        for (; i + 1 < argc && strcmp(argv[i], "--host-path") == 0; i += 2)
                if (n_host_paths < MAX_HOST_PATHS)
                        host_paths[n_host_paths++] = argv[i + 1];
        if (i < argc && strcmp(argv[i], "list") == 0) {
                list();
                return 0;
        }
        if (i == argc) {
                for (size_t k = 0; k < n_syscall_probes; k++)
                        check_syscall(&syscall_probes[k]);
                for (size_t k = 0; k < ELEMENTSOF(checks); k++)
                        run_check(checks[k].name);
                return 0;
        }
        for (; i < argc; i++)
                if (!run_check(argv[i])) {
                        fprintf(stderr, "hutch-probe: unknown check '%s' (see 'hutch-probe list')\n", argv[i]);
                        return 2;
                }
        return 0;
}
