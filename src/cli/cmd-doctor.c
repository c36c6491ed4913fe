/* hutch doctor: the rootless pitfalls users of other runtimes keep hitting (NEEDS.md section 2), checked
 * on this machine for this user, each with the exact fix. Probes are tried where trying is cheap
 * (user namespaces, overlay) rather than guessed from versions. Exit 0 when a rootless run can work. */
#include <endian.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <pwd.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cli/cli.h"
#include "sandbox/cgroup.h"
#include "sandbox/fuse-overlay.h"
#include "sandbox/kernel.h"
#include "sandbox/subid.h"
#include "util/fileio.h"
#include "util/log.h"

#define WANT_IDS 65536u
#define FREE_RANGE_MIN 100000u /* shadow's SUB_UID_MIN default */

enum check_status { CHECK_OK, CHECK_WARN, CHECK_FAIL };

struct doctor {
        json_t *checks;
        bool json;
        bool failed;
        bool has_passwd;
        const char *user;
        const char *home;
        uid_t uid;
        gid_t gid;
};

static void report(struct doctor *d, enum check_status st, const char *name, const char *fix, const char *fmt, ...)
        _printf_(5, 6);
static void report(struct doctor *d, enum check_status st, const char *name, const char *fix, const char *fmt, ...)
{
        static const char *const text_labels[] = { "ok", "warn", "FAIL" };
        static const char *const json_labels[] = { "ok", "warn", "fail" };
        char finding[2048];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(finding, sizeof finding, fmt, ap);
        va_end(ap);
        if (st == CHECK_FAIL)
                d->failed = true;
        if (st == CHECK_OK)
                fix = NULL;
        if (d->json) {
                json_array_append_new(d->checks,
                                      json_pack("{s:s, s:s, s:s, s:s?}", "name", name, "status", json_labels[st],
                                                "finding", finding, "fix", fix));
                return;
        }
        printf("%-4s  %s: %s\n", text_labels[st], name, finding);
        if (fix)
                printf("      fix: %s\n", fix);
}

/* A small kernel file, in one read: /proc/sys handlers return nothing when read from an offset other
 * than 0, so a reader that starts with a short buffer and reads on (read_file_at on a file whose
 * st_size is 0) sees only the first bytes. These are kernel files, not user input: plain open. */
static bool read_kernel_file(const char *path, char *buf, size_t size)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return false;
        ssize_t n = read_all(fd, buf, size - 1);
        if (n < 0)
                return false;
        buf[n] = 0;
        return true;
}

/* The first line, without its newline. */
static bool read_line(const char *path, char *buf, size_t size)
{
        if (!read_kernel_file(path, buf, size))
                return false;
        buf[strcspn(buf, "\n")] = 0;
        return true;
}

/* "Seccomp: 2": a filter already applies to this process (a container runtime's, typically). */
static bool under_seccomp_filter(void)
{
        char status[8192];
        return read_kernel_file("/proc/self/status", status, sizeof status) && strstr(status, "\nSeccomp:\t2");
}

/* A sysctl's value as text, or "" when the kernel does not have it. */
static const char *sysctl_value(const char *proc_path, char *buf, size_t size)
{
        if (!read_line(proc_path, buf, size))
                buf[0] = 0;
        return buf;
}

/* ---- mode ---------------------------------------------------------------------------------------- */

static void check_mode(struct doctor *d)
{
        char map[128];
        bool nested = read_line("/proc/self/uid_map", map, sizeof map) && strspn(map, " ") < strlen(map) &&
                !strstr(map, "4294967295");
        const char *note = nested ? "; this process already runs inside a user namespace (nested: a container or a "
                                    "rootless session), so only the IDs mapped here can be used"
                                  : "";
        if (d->uid == 0)
                report(d, CHECK_OK, "mode", NULL, "running as root: rootful mode (subordinate ID checks are n/a)%s",
                       note);
        else
                report(d, CHECK_OK, "mode", NULL, "rootless, as user %s (uid %u, gid %u)%s", d->user, (unsigned) d->uid,
                       (unsigned) d->gid, note);
}

/* ---- user namespaces and overlay: tried in a child ----------------------------------------------- */

enum probe_stage {
        PROBE_UNSHARE,
        PROBE_SETGROUPS,
        PROBE_UID_MAP,
        PROBE_GID_MAP,
        PROBE_MOUNT,
        PROBE_OVERLAY,
        PROBE_DONE,
};

struct probe_result {
        int stage; /* the stage that failed, or PROBE_DONE */
        int err;   /* its errno */
};

static const char *probe_stage_text(int stage)
{
        switch (stage) {
        case PROBE_UNSHARE:
                return "create a user namespace";
        case PROBE_SETGROUPS:
                return "write /proc/self/setgroups";
        case PROBE_UID_MAP:
                return "write /proc/self/uid_map";
        case PROBE_GID_MAP:
                return "write /proc/self/gid_map";
        case PROBE_MOUNT:
                return "mount a tmpfs in a new mount namespace";
        case PROBE_OVERLAY:
                return "mount overlayfs with userxattr";
        default:
                return "finish";
        }
}

static int write_proc_self(const char *name, const char *text)
{
        char path[64];
        snprintf(path, sizeof path, "/proc/self/%s", name);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return write_all(fd, text, strlen(text));
}

/* Runs in the child: each step as the launcher does it, stopping at the first that fails. */
static struct probe_result probe_steps(uid_t uid, gid_t gid)
{
        char map[64];
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
                return (struct probe_result) { PROBE_UNSHARE, errno };
        int r = write_proc_self("setgroups", "deny");
        if (r < 0 && r != -ENOENT)
                return (struct probe_result) { PROBE_SETGROUPS, -r };
        snprintf(map, sizeof map, "0 %u 1", (unsigned) uid);
        if ((r = write_proc_self("uid_map", map)) < 0)
                return (struct probe_result) { PROBE_UID_MAP, -r };
        snprintf(map, sizeof map, "0 %u 1", (unsigned) gid);
        if ((r = write_proc_self("gid_map", map)) < 0)
                return (struct probe_result) { PROBE_GID_MAP, -r };
        /* private first, so nothing mounted here can reach the host's namespace */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") < 0)
                return (struct probe_result) { PROBE_MOUNT, errno };
        if (mkdir("/tmp/l", 0700) < 0 || mkdir("/tmp/u", 0700) < 0 || mkdir("/tmp/w", 0700) < 0 ||
            mkdir("/tmp/m", 0700) < 0)
                return (struct probe_result) { PROBE_MOUNT, errno };
        if (mount("overlay", "/tmp/m", "overlay", 0, "lowerdir=/tmp/l,upperdir=/tmp/u,workdir=/tmp/w,userxattr") < 0)
                return (struct probe_result) { PROBE_OVERLAY, errno };
        return (struct probe_result) { PROBE_DONE, 0 };
}

static struct probe_result probe_userns(void)
{
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return (struct probe_result) { PROBE_UNSHARE, errno };
        uid_t uid = geteuid();
        gid_t gid = getegid();
        pid_t pid = fork();
        if (pid < 0) {
                int e = errno;
                close(p[0]);
                close(p[1]);
                return (struct probe_result) { PROBE_UNSHARE, e };
        }
        if (pid == 0) {
                close(p[0]);
                struct probe_result res = probe_steps(uid, gid);
                _exit(write_all(p[1], &res, sizeof res) < 0 ? 1 : 0);
        }
        close(p[1]);
        struct probe_result res = { PROBE_UNSHARE, EIO };
        if (read_all(p[0], &res, sizeof res) != (ssize_t) sizeof res)
                res = (struct probe_result) { PROBE_UNSHARE, EIO };
        close(p[0]);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
        return res;
}

/* Whether id is mapped in this process's user namespace ("inside outside count" lines): the kernel
 * refuses to create a child user namespace for a process whose uid or gid is unmapped. */
static bool id_is_mapped(const char *map_file, unsigned id)
{
        char map[4096];
        if (!read_kernel_file(map_file, map, sizeof map))
                return true; /* cannot tell: do not blame it */
        for (char *line = map; *line;) {
                unsigned long inside, outside, count;
                if (sscanf(line, "%lu %lu %lu", &inside, &outside, &count) == 3 && id >= inside && id - inside < count)
                        return true;
                char *nl = strchr(line, '\n');
                if (!nl)
                        break;
                line = nl + 1;
        }
        return false;
}

/* Why unshare(CLONE_NEWUSER) or the first steps after it fail, from the sysctls that can cause it. */
static void explain_userns_failure(struct doctor *d, const struct probe_result *probe, enum check_status st)
{
        /* kernel_can_unshare_userns() said no while the probe got through: blame the unshare */
        static const struct probe_result refused = { PROBE_UNSHARE, EPERM };
        const struct probe_result *p = probe->stage >= PROBE_OVERLAY ? &refused : probe;
        char v[64], fix[1024], exe[512];
        if (streq(sysctl_value("/proc/sys/kernel/unprivileged_userns_clone", v, sizeof v), "0")) {
                report(d, st, "user namespaces",
                       "sysctl -w kernel.unprivileged_userns_clone=1 (as root), and persist it: "
                       "echo kernel.unprivileged_userns_clone=1 > /etc/sysctl.d/90-hutch-userns.conf",
                       "unprivileged user namespaces are disabled by kernel.unprivileged_userns_clone=0");
                return;
        }
        if (streq(sysctl_value("/proc/sys/user/max_user_namespaces", v, sizeof v), "0") ||
            (p->stage == PROBE_UNSHARE && p->err == ENOSPC)) {
                report(d, st, "user namespaces",
                       "sysctl -w user.max_user_namespaces=15000 (as root), and persist it: "
                       "echo user.max_user_namespaces=15000 > /etc/sysctl.d/90-hutch-userns.conf",
                       "user namespaces are limited by user.max_user_namespaces=%s%s", v,
                       streq(v, "0") ? "" : " and the limit is reached");
                return;
        }
        if (streq(sysctl_value("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", v, sizeof v), "1")) {
                ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
                exe[n > 0 ? n : 0] = 0;
                snprintf(fix, sizeof fix,
                         "give hutch an AppArmor profile that allows userns (as root): "
                         "printf 'abi <abi/4.0>,\\n"
                         "include <tunables/global>\\nprofile hutch %s flags=(unconfined) {\\n  userns,\\n}\\n' > "
                         "/etc/apparmor.d/hutch && apparmor_parser -r /etc/apparmor.d/hutch; or for every program: "
                         "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0",
                         exe[0] ? exe : "/usr/bin/hutch");
                report(d, st, "user namespaces", fix,
                       "AppArmor restricts unprivileged user namespaces "
                       "(kernel.apparmor_restrict_unprivileged_userns=1, Ubuntu 23.10+): %s failed: %s",
                       probe_stage_text(p->stage), strerror(p->err));
                return;
        }
        bool uid_mapped = id_is_mapped("/proc/self/uid_map", (unsigned) geteuid());
        bool gid_mapped = id_is_mapped("/proc/self/gid_map", (unsigned) getegid());
        if (p->stage == PROBE_UNSHARE && (!uid_mapped || !gid_mapped)) {
                report(d, st, "user namespaces",
                       "map your own uid and gid in the outer user namespace (unshare: "
                       "--map-user and --map-group; podman: --userns=keep-id)",
                       "this process runs in a user namespace "
                       "where its %s not mapped, and the kernel refuses a nested user namespace then (%s)",
                       !uid_mapped && !gid_mapped ? "uid and gid are"
                               : !uid_mapped      ? "uid is"
                                                  : "gid is",
                       strerror(p->err));
                return;
        }
        char status[1024];
        bool filtered = under_seccomp_filter();
        snprintf(status, sizeof status, "%s failed: %s, and no sysctl explains it%s", probe_stage_text(p->stage),
                 strerror(p->err),
                 filtered ? "; this process runs under a seccomp filter (Seccomp: 2 in "
                            "/proc/self/status), which commonly refuses unshare in containers"
                          : "");
        report(d, st, "user namespaces",
               p->err == EINVAL && p->stage == PROBE_UNSHARE
                       ? "use a kernel built with CONFIG_USER_NS=y"
                       : "if hutch runs inside a container, start that container with a seccomp profile that allows "
                         "unshare(CLONE_NEWUSER) and mount (docker/podman: --security-opt seccomp=unconfined)",
               "%s", status);
}

static void check_userns(struct doctor *d, const struct kernel_features *k, const struct probe_result *p)
{
        char v[64];
        /* Root can run rootful without a user namespace, so for root a refusal is a warning. */
        enum check_status bad = d->uid == 0 ? CHECK_WARN : CHECK_FAIL;
        /* k->userns is kernel_can_unshare_userns(); the probe goes on to map IDs and mount, which
         * Ubuntu's AppArmor restriction refuses after a successful unshare. */
        if (!k->userns || p->stage < PROBE_OVERLAY) {
                explain_userns_failure(d, p, bad);
                return;
        }
        sysctl_value("/proc/sys/user/max_user_namespaces", v, sizeof v);
        report(d, CHECK_OK, "user namespaces", NULL, "created, ID-mapped and mounted in by this user%s%s%s",
               v[0] ? " (user.max_user_namespaces=" : "", v, v[0] ? ": at most that many at once for each user)" : "");
}

static void check_overlay(struct doctor *d, const struct probe_result *p)
{
        if (p->stage == PROBE_DONE)
                report(d, CHECK_OK, "overlay", NULL, "native overlayfs (userxattr) mounts in a user namespace");
        else if (p->stage < PROBE_OVERLAY)
                report(d, CHECK_WARN, "overlay", "fix the user namespace check first",
                       "not tried: the user namespace probe stopped at: %s", probe_stage_text(p->stage));
        else {
                char prog[4096];
                bool fuse = fuse_overlay_find(prog, sizeof prog, NULL) == 0 && access("/dev/fuse", R_OK | W_OK) == 0;
                report(d, CHECK_WARN, "overlay",
                       fuse ? "use Linux >= 5.11 built with CONFIG_OVERLAY_FS for the faster native overlay"
                            : "install fuse-overlayfs (and make /dev/fuse usable), or use Linux >= 5.11 with CONFIG_OVERLAY_FS",
                       "native overlayfs is refused in a user namespace (%s): %s%s", strerror(p->err),
                       fuse ? "hutch run falls back to fuse-overlayfs, "
                            : "and the fuse-overlayfs fallback is not usable: "
                              "hutch run cannot build a container root",
                       fuse ? prog : "");
        }
}

/* ---- subordinate IDs ------------------------------------------------------------------------------ */

struct subid_entry {
        const char *owner;
        size_t owner_len;
        uint32_t start, count;
};

struct subid_file {
        char *data;
        struct subid_entry *v; /* every well-formed entry, of every user */
        size_t n;
        bool missing;
};

static void subid_file_done(struct subid_file *f)
{
        free(f->data);
        free(f->v);
}

static bool parse_num(const char *s, size_t len, uint32_t *ret)
{
        uint64_t v = 0;
        if (len == 0 || len > 10)
                return false;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (uint64_t) (s[i] - '0');
        }
        *ret = (uint32_t) v;
        return v <= UINT32_MAX;
}

/* "OWNER:START:COUNT" with a non-empty range inside the 32-bit ID space, else false. */
static bool parse_any_entry(const char *line, size_t ll, struct subid_entry *ret)
{
        const char *c1 = memchr(line, ':', ll);
        const char *c2 = c1 ? memchr(c1 + 1, ':', ll - (size_t) (c1 + 1 - line)) : NULL;
        if (!c2 || line[0] == '#')
                return false;
        *ret = (struct subid_entry) { .owner = line, .owner_len = (size_t) (c1 - line) };
        return parse_num(c1 + 1, (size_t) (c2 - c1 - 1), &ret->start) &&
                parse_num(c2 + 1, ll - (size_t) (c2 + 1 - line), &ret->count) && ret->count > 0 &&
                (uint64_t) ret->start + ret->count <= (uint64_t) UINT32_MAX + 1;
}

static int subid_file_load(const char *path, struct subid_file *ret, struct herror *err)
{
        struct subid_file f = { 0 };
        size_t len = 0, cap = 0;
        int r = subid_read_path(path, &f.data, &len, err);
        if (r == -ENOENT) {
                *ret = (struct subid_file) { .missing = true };
                return 0;
        }
        if (r < 0)
                return r;
        for (size_t off = 0; off < len;) {
                const char *line = f.data + off;
                const char *nl = memchr(line, '\n', len - off);
                size_t ll = nl ? (size_t) (nl - line) : len - off;
                off += ll + (nl ? 1 : 0);
                struct subid_entry e;
                if (!parse_any_entry(line, ll, &e))
                        continue;
                if (f.n == cap) {
                        cap = cap ? cap * 2 : 16;
                        struct subid_entry *nv = realloc(f.v, cap * sizeof *nv);
                        if (!nv) {
                                subid_file_done(&f);
                                return herror_set(err, ENOMEM, "out of memory");
                        }
                        f.v = nv;
                }
                f.v[f.n++] = e;
        }
        *ret = f;
        return 0;
}

static bool owner_is(const struct subid_entry *e, const char *user, uid_t uid)
{
        char num[16];
        snprintf(num, sizeof num, "%u", (unsigned) uid);
        return (strlen(user) == e->owner_len && memcmp(e->owner, user, e->owner_len) == 0) ||
                (strlen(num) == e->owner_len && memcmp(e->owner, num, e->owner_len) == 0);
}

static int entry_cmp(const void *a, const void *b)
{
        const struct subid_entry *x = a, *y = b;
        return x->start < y->start ? -1 : x->start > y->start;
}

/* The lowest WANT_IDS-long range at or above FREE_RANGE_MIN that no entry of either file touches. */
static bool free_range(const struct subid_file *const *files, size_t n_files, uint32_t *ret)
{
        size_t n = 0, k = 0;
        for (size_t i = 0; i < n_files; i++)
                n += files[i]->n;
        _cleanup_free_ struct subid_entry *all = malloc((n ? n : 1) * sizeof *all);
        if (!all)
                return false;
        for (size_t i = 0; i < n_files; i++)
                for (size_t j = 0; j < files[i]->n; j++)
                        all[k++] = files[i]->v[j];
        qsort(all, n, sizeof *all, entry_cmp);
        uint64_t start = FREE_RANGE_MIN;
        for (size_t i = 0; i < n; i++) {
                uint64_t s = all[i].start, e = s + all[i].count;
                if (s >= start + WANT_IDS)
                        break; /* sorted by start: the gap before this entry is wide enough */
                if (e > start)
                        start = e;
        }
        if (start + WANT_IDS > (uint64_t) UINT32_MAX + 1)
                return false;
        *ret = (uint32_t) start;
        return true;
}

/* Another user's entry sharing IDs with this user's: both users' containers could reach the same files. */
static const struct subid_entry *find_overlap(const struct subid_file *f, const struct subid_ranges *own,
                                              const char *user, uid_t uid, const struct subid_range **ret_own)
{
        for (size_t i = 0; i < own->n; i++) {
                uint64_t s = own->v[i].start, e = s + own->v[i].count;
                for (size_t k = 0; k < f->n; k++) {
                        uint64_t os = f->v[k].start, oe = os + f->v[k].count;
                        if (!owner_is(&f->v[k], user, uid) && os < e && s < oe) {
                                *ret_own = &own->v[i];
                                return &f->v[k];
                        }
                }
        }
        return NULL;
}

static void format_ranges(const struct subid_ranges *r, char *buf, size_t size)
{
        size_t off = 0;
        buf[0] = 0;
        for (size_t i = 0; i < r->n && off + 32 < size; i++) {
                if (i == 6) {
                        snprintf(buf + off, size - off, ", ...");
                        break;
                }
                off += (size_t) snprintf(buf + off, size - off, "%s%u-%u", i ? ", " : "", r->v[i].start,
                                         (unsigned) ((uint64_t) r->v[i].start + r->v[i].count - 1));
        }
}

struct subid_state {
        struct subid_file file;  /* every entry of subid_path(gid) */
        struct subid_ranges own; /* this user's, parsed strictly as the launcher does */
        struct herror err;
        bool read_failed, parse_failed;
};

static void subid_state_done(struct subid_state *s)
{
        subid_file_done(&s->file);
        subid_ranges_free(&s->own);
        herror_clear(&s->err);
}

static void subid_state_load(struct doctor *d, bool gid, struct subid_state *s)
{
        *s = (struct subid_state) { .err = HERROR_INIT };
        if (subid_file_load(subid_path(gid), &s->file, &s->err) < 0)
                s->read_failed = true;
        else if (subid_load(gid, d->has_passwd ? d->user : NULL, d->uid, &s->own, &s->err) < 0)
                s->parse_failed = true;
}

static bool subids_short(const struct subid_state *s)
{
        return s->read_failed || s->parse_failed || subid_ranges_total(&s->own) < WANT_IDS;
}

static void report_subids(struct doctor *d, bool gid, struct subid_state *st, const char *usermod)
{
        const char *name = gid ? "subordinate GIDs" : "subordinate UIDs";
        const char *path = subid_path(gid);
        char ranges[256], fix[1024];
        snprintf(fix, sizeof fix, "%s (as root)", usermod);
        if (st->read_failed) {
                snprintf(fix, sizeof fix, "as root, make %s a regular file readable by everyone (root:root, mode 0644)",
                         path);
                report(d, CHECK_WARN, name, fix, "%s: mappings beyond your own ID will be refused",
                       herror_msg(&st->err));
                return;
        }
        if (st->parse_failed) {
                snprintf(fix, sizeof fix,
                         "as root, correct that line (NAME:START:COUNT, COUNT > 0, START+COUNT <= "
                         "4294967296), or delete it and run: %s",
                         usermod);
                report(d, CHECK_WARN, name, fix, "%s: mappings beyond your own ID will be refused",
                       herror_msg(&st->err));
                return;
        }
        uint64_t total = subid_ranges_total(&st->own);
        if (total == 0) {
                report(d, CHECK_WARN, name, fix,
                       "user %s (%u) has no entry in %s%s (by name or by uid): the single-ID fallback works (your own ID "
                       "as root in the container), but images with files owned by other IDs break",
                       d->user, (unsigned) d->uid, path, st->file.missing ? ", which does not exist" : "");
                return;
        }
        format_ranges(&st->own, ranges, sizeof ranges);
        const struct subid_range *mine = NULL;
        const struct subid_entry *other = find_overlap(&st->file, &st->own, d->user, d->uid, &mine);
        if (other) {
                snprintf(fix, sizeof fix,
                         "as root, give each user a range of its own in %s (usermod --del-sub%cids / "
                         "--add-sub%cids)",
                         path, gid ? 'g' : 'u', gid ? 'g' : 'u');
                report(d, CHECK_WARN, name, fix,
                       "user %s's range %u-%u in %s overlaps the entry of '%.*s' (%u-%u): "
                       "containers of the two users can reach each other's files",
                       d->user, mine->start, (unsigned) ((uint64_t) mine->start + mine->count - 1), path,
                       (int) other->owner_len, other->owner, other->start,
                       (unsigned) ((uint64_t) other->start + other->count - 1));
        } else if (total < WANT_IDS)
                report(d, CHECK_WARN, name, fix,
                       "user %s (%u) has only %llu IDs in %s (%s); images commonly use "
                       "IDs up to 65535, and unpacking them fails with 'invalid argument' from lchown",
                       d->user, (unsigned) d->uid, (unsigned long long) total, path, ranges);
        else
                report(d, CHECK_OK, name, NULL, "user %s (%u) has %llu IDs in %s: %s", d->user, (unsigned) d->uid,
                       (unsigned long long) total, path, ranges);
}

/* The range for the usermod line must be free in the files usermod edits (/etc/subuid, /etc/subgid)
 * as well as in the files hutch was pointed at. */
static void usermod_command(struct doctor *d, const struct subid_state st[2], char *buf, size_t size)
{
        struct subid_file real[2] = { 0 };
        const struct subid_file *files[4];
        size_t n = 0;
        for (int gid = 0; gid < 2; gid++) {
                files[n++] = &st[gid].file;
                const char *etc = gid ? "/etc/subgid" : "/etc/subuid";
                if (!streq(subid_path(gid), etc) && subid_file_load(etc, &real[gid], NULL) == 0)
                        files[n++] = &real[gid];
        }
        bool short_u = subids_short(&st[0]), short_g = subids_short(&st[1]);
        char ids[32];
        uint32_t s;
        if (free_range(files, n, &s)) {
                snprintf(ids, sizeof ids, "%u-%u", s, (unsigned) (s + WANT_IDS - 1));
                snprintf(buf, size, "usermod%s%s%s%s %s", short_u ? " --add-subuids " : "", short_u ? ids : "",
                         short_g ? " --add-subgids " : "", short_g ? ids : "", d->user);
        } else
                snprintf(buf, size,
                         "usermod --add-subuids FIRST-LAST --add-subgids FIRST-LAST %s, after freeing 65536 "
                         "IDs in /etc/subuid and /etc/subgid",
                         d->user);
        if (!d->has_passwd)
                snprintf(buf + strlen(buf), size - strlen(buf),
                         "; uid %u also needs a passwd entry (newuidmap refuses "
                         "users it cannot name)",
                         (unsigned) d->uid);
        subid_file_done(&real[0]);
        subid_file_done(&real[1]);
}

static void check_subids(struct doctor *d)
{
        if (d->uid == 0) {
                report(d, CHECK_OK, "subordinate UIDs", NULL, "n/a: root maps IDs itself (rootful mode)");
                report(d, CHECK_OK, "subordinate GIDs", NULL, "n/a: root maps IDs itself (rootful mode)");
                return;
        }
        struct subid_state st[2];
        char usermod[512];
        subid_state_load(d, false, &st[0]);
        subid_state_load(d, true, &st[1]);
        usermod_command(d, st, usermod, sizeof usermod);
        report_subids(d, false, &st[0], usermod);
        report_subids(d, true, &st[1], usermod);
        subid_state_done(&st[0]);
        subid_state_done(&st[1]);
}

/* ---- newuidmap / newgidmap ----------------------------------------------------------------------- */

/* security.capability grants `cap` in the permitted set (v3 entries only when scoped to our root). */
static bool file_caps_grant(const char *path, int cap)
{
        struct vfs_ns_cap_data data = { 0 };
        ssize_t n = getxattr(path, "security.capability", &data, sizeof data);
        if (n < (ssize_t) XATTR_CAPS_SZ_1)
                return false;
        uint32_t rev = le32toh(data.magic_etc) & VFS_CAP_REVISION_MASK;
        if (rev == VFS_CAP_REVISION_3 && (n < (ssize_t) XATTR_CAPS_SZ_3 || le32toh(data.rootid) != 0))
                return false;
        if (rev != VFS_CAP_REVISION_1 && rev != VFS_CAP_REVISION_2 && rev != VFS_CAP_REVISION_3)
                return false;
        return le32toh(data.data[CAP_TO_INDEX(cap)].permitted) & CAP_TO_MASK(cap);
}

/* Where hutch's launcher looks (idmap.c): fixed system directories, never PATH. */
static const char *const helper_dirs[] = { "/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/" };

static bool find_in_path(const char *name, char *buf, size_t size)
{
        const char *path = getenv("PATH");
        while (path && *path) {
                size_t len = strcspn(path, ":");
                if (len > 0 && (size_t) snprintf(buf, size, "%.*s/%s", (int) len, path, name) < size &&
                    access(buf, X_OK) == 0)
                        return true;
                path += len + (path[len] == ':');
        }
        return false;
}

static void check_helper(struct doctor *d, const char *name, int cap, const char *cap_name)
{
        char path[PATH_MAX], other[PATH_MAX];
        bool found = false;
        for (size_t i = 0; i < ELEMENTSOF(helper_dirs) && !found; i++) {
                snprintf(path, sizeof path, "%s%s", helper_dirs[i], name);
                found = access(path, X_OK) == 0;
        }
        if (!found) {
                if (find_in_path(name, other, sizeof other))
                        report(d, CHECK_WARN, name, "apt-get install uidmap (as root)",
                               "%s is in PATH, but hutch runs it only from /usr/bin, /bin, /usr/sbin or /sbin: only "
                               "single-ID mappings will work",
                               other);
                else
                        report(d, CHECK_WARN, name, "apt-get install uidmap (as root)",
                               "not installed: only single-ID mappings will work");
                return;
        }
        if (d->uid == 0) {
                report(d, CHECK_OK, name, NULL, "n/a: root writes ID maps itself (%s is installed)", path);
                return;
        }
        struct stat st;
        struct statvfs vfs;
        bool setuid_root = stat(path, &st) == 0 && (st.st_mode & S_ISUID) && st.st_uid == 0;
        bool caps = file_caps_grant(path, cap);
        char fix[PATH_MAX + 128];
        snprintf(fix, sizeof fix, "as root: apt-get install --reinstall uidmap, or setcap %s+ep %s", cap_name, path);
        if (statvfs(path, &vfs) == 0 && (vfs.f_flag & ST_NOSUID) && (setuid_root || caps))
                report(d, CHECK_WARN, name, "as root, remount the filesystem holding it without nosuid",
                       "%s is on a nosuid mount, which ignores its %s: multi-ID mappings will fail", path,
                       setuid_root ? "setuid bit" : "file capabilities");
        else if (setuid_root)
                report(d, CHECK_OK, name, NULL, "%s is setuid root", path);
        else if (caps)
                report(d, CHECK_OK, name, NULL, "%s has %s in its file capabilities", path, cap_name);
        else
                report(d, CHECK_WARN, name, fix,
                       "%s is neither setuid root nor given %s as a file capability (stripped by "
                       "an image build or a copy?): multi-ID mappings will fail",
                       path, cap_name);
}

/* ---- XDG_RUNTIME_DIR ----------------------------------------------------------------------------- */

static bool dir_is_private_to(const char *path, uid_t uid)
{
        struct stat st;
        return stat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == uid && (st.st_mode & 07777) == 0700;
}

static void check_runtime_dir(struct doctor *d)
{
        const char *x = getenv("XDG_RUNTIME_DIR");
        char fix[512], run_user[64];
        struct stat st;
        if (d->uid == 0) {
                report(d, CHECK_OK, "XDG_RUNTIME_DIR", NULL, "n/a: root keeps runtime state in /run/hutch");
                return;
        }
        snprintf(run_user, sizeof run_user, "/run/user/%u", (unsigned) d->uid);
        if (dir_is_private_to(run_user, d->uid))
                snprintf(fix, sizeof fix,
                         "export XDG_RUNTIME_DIR=%s (su, sudo and cron do not set it; a login through "
                         "pam_systemd or 'machinectl shell %s@' does)",
                         run_user, d->user);
        else if (access("/run/systemd/system", F_OK) == 0)
                snprintf(fix, sizeof fix,
                         "loginctl enable-linger %s (as root) creates %s, owned by %s with mode 0700; then "
                         "export XDG_RUNTIME_DIR=%s",
                         d->user, run_user, d->user, run_user);
        else /* no systemd to create it at login */
                snprintf(fix, sizeof fix,
                         "mkdir -p -m 0700 %s && chown %s: %s (as root, after each boot: /run is a tmpfs); "
                         "then export XDG_RUNTIME_DIR=%s",
                         run_user, d->user, run_user, run_user);
        if (!x || !*x)
                report(d, CHECK_WARN, "XDG_RUNTIME_DIR", fix,
                       "not set (common under su, sudo and cron): hutch-runtime "
                       "needs it for its state, or --root DIR");
        else if (x[0] != '/')
                report(d, CHECK_WARN, "XDG_RUNTIME_DIR", fix, "'%s' is not an absolute path", x);
        else if (stat(x, &st) < 0)
                report(d, CHECK_WARN, "XDG_RUNTIME_DIR", fix, "%s: %s", x, strerror(errno));
        else if (!S_ISDIR(st.st_mode))
                report(d, CHECK_WARN, "XDG_RUNTIME_DIR", fix, "%s is not a directory", x);
        else if (st.st_uid != d->uid || (st.st_mode & 07777) != 0700) {
                snprintf(fix, sizeof fix, "chown %s %s && chmod 0700 %s (as root)", d->user, x, x);
                report(d, CHECK_WARN, "XDG_RUNTIME_DIR", fix,
                       "%s is owned by uid %u with mode %04o; it must be %s's with "
                       "mode 0700",
                       x, (unsigned) st.st_uid, (unsigned) (st.st_mode & 07777), d->user);
        } else
                report(d, CHECK_OK, "XDG_RUNTIME_DIR", NULL, "%s (owned by %s, mode 0700)", x, d->user);
}

/* ---- storage ------------------------------------------------------------------------------------- */

struct fs_kind {
        unsigned long magic;
        const char *name;
        bool bad; /* breaks files owned by subordinate IDs, xattrs or overlay upper dirs */
};

static const struct fs_kind fs_kinds[] = {
        { 0x6969, "nfs", true },           { 0xFF534D42, "cifs", true },       { 0xFE534D42, "smb2", true },
        { 0x517B, "smb", true },           { 0x65735546, "fuse", true },       { 0xF15F, "ecryptfs", true },
        { 0x5346414F, "afs", true },       { 0x6B414653, "kafs", true },       { 0x0BD00BD0, "lustre", true },
        { 0x47504653, "gpfs", true },      { 0x19830326, "beegfs", true },     { 0x01021997, "9p", true },
        { 0x786F4256, "vboxsf", true },    { 0xEF53, "ext2/3/4", false },      { 0x58465342, "xfs", false },
        { 0x9123683E, "btrfs", false },    { 0x01021994, "tmpfs", false },     { 0x2FC12FC1, "zfs", false },
        { 0xF2F52010, "f2fs", false },     { 0x794C7630, "overlayfs", false }, { 0x858458F6, "ramfs", false },
        { 0x73717368, "squashfs", false }, { 0x6A656A63, "fakeowner", false }, { 0x62656572, "sysfs", false },
};

static const struct fs_kind *fs_kind_of(unsigned long magic)
{
        for (size_t i = 0; i < ELEMENTSOF(fs_kinds); i++)
                if (fs_kinds[i].magic == magic)
                        return &fs_kinds[i];
        return NULL;
}

static void storage_path(const struct doctor *d, char *buf, size_t size)
{
        const char *env = getenv("HUTCH_STORAGE"), *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
        if (env && *env)
                snprintf(buf, size, "%s", env);
        else if (d->uid == 0)
                snprintf(buf, size, "/var/lib/hutch");
        else if (xdg && *xdg)
                snprintf(buf, size, "%s/hutch", xdg);
        else
                snprintf(buf, size, "%s/.local/share/hutch", home && *home ? home : d->home);
}

static void check_storage(struct doctor *d)
{
        char path[PATH_MAX], probe[PATH_MAX], fix[PATH_MAX + 128];
        struct statfs sf;
        struct stat st;
        storage_path(d, path, sizeof path);
        /* The store may not exist yet: judge the nearest existing ancestor, where it would be created. */
        snprintf(probe, sizeof probe, "%s", path);
        while (statfs(probe, &sf) < 0) {
                char *slash = strrchr(probe, '/');
                if (!slash || slash == probe) {
                        snprintf(probe, sizeof probe, "/");
                        if (statfs(probe, &sf) < 0) {
                                report(d, CHECK_WARN, "storage", "check the filesystem holding it", "%s: %s", path,
                                       strerror(errno));
                                return;
                        }
                        break;
                }
                *slash = 0;
        }
        const struct fs_kind *k = fs_kind_of((unsigned long) sf.f_type);
        char kind[64];
        if (k)
                snprintf(kind, sizeof kind, "%s", k->name);
        else
                snprintf(kind, sizeof kind, "filesystem type 0x%lx", (unsigned long) sf.f_type);
        bool exists = streq(probe, path);
        snprintf(fix, sizeof fix,
                 "export HUTCH_STORAGE=/var/tmp/hutch-%s (or another directory on a local filesystem "
                 "such as ext4, xfs or btrfs)",
                 d->user);
        char where[PATH_MAX + 128];
        if (exists)
                snprintf(where, sizeof where, "on %s", kind);
        else
                snprintf(where, sizeof where, "not created yet; %s is on %s", probe, kind);
        if (k && k->bad)
                report(d, CHECK_WARN, "storage", fix,
                       "%s (%s): files owned by subordinate IDs, extended attributes and "
                       "overlay upper directories do not work reliably there",
                       path, where);
        else if (exists && stat(path, &st) == 0 && st.st_uid != d->uid) {
                snprintf(fix, sizeof fix, "chown %s %s (as root), or set HUTCH_STORAGE to a directory of your own",
                         d->user, path);
                report(d, CHECK_WARN, "storage", fix, "%s is owned by uid %u, not by %s", path, (unsigned) st.st_uid,
                       d->user);
        } else
                report(d, CHECK_OK, "storage", NULL, "%s (%s)", path, where);
}

/* ---- cgroups ------------------------------------------------------------------------------------- */

enum cgroup_mode { CGROUP_UNIFIED, CGROUP_HYBRID, CGROUP_LEGACY, CGROUP_NONE };

static enum cgroup_mode cgroup_mode(void)
{
        struct statfs sf;
        if (statfs("/sys/fs/cgroup", &sf) < 0)
                return CGROUP_NONE;
        if (sf.f_type == CGROUP2_SUPER_MAGIC)
                return CGROUP_UNIFIED;
        if (statfs("/sys/fs/cgroup/unified", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
                return CGROUP_HYBRID;
        return CGROUP_LEGACY;
}

/* This process's cgroup v2 path from the "0::PATH" line of /proc/self/cgroup. */
static bool own_cgroup(char *buf, size_t size)
{
        char data[8192];
        if (!read_kernel_file("/proc/self/cgroup", data, sizeof data))
                return false;
        for (char *line = data; line && *line;) {
                char *nl = strchr(line, '\n');
                if (nl)
                        *nl = 0;
                if (strncmp(line, "0::", 3) == 0) {
                        snprintf(buf, size, "%s", line + 3);
                        return true;
                }
                line = nl ? nl + 1 : NULL;
        }
        return false;
}

static const char limits_lost[] = "resource limits (--memory, --pids-limit, --cpus) unavailable";

static void check_cgroups(struct doctor *d)
{
        enum cgroup_mode mode = cgroup_mode();
        const char *boot_fix =
                "as root, add systemd.unified_cgroup_hierarchy=1 to GRUB_CMDLINE_LINUX in /etc/default/grub, "
                "run update-grub and reboot";
        char cg[2048] = "", dir[PATH_MAX], file[PATH_MAX + 32], controllers[512] = "";
        bool have_cg = own_cgroup(cg, sizeof cg);
        if (mode == CGROUP_NONE || mode == CGROUP_LEGACY) {
                report(d, CHECK_WARN, "cgroups", boot_fix, "%s: %s",
                       mode == CGROUP_NONE ? "no cgroup filesystem at /sys/fs/cgroup" : "cgroup v1 only", limits_lost);
                return;
        }
        snprintf(dir, sizeof dir, "%s%s", mode == CGROUP_HYBRID ? "/sys/fs/cgroup/unified" : "/sys/fs/cgroup",
                 streq(cg, "/") ? "" : cg);
        snprintf(file, sizeof file, "%s/cgroup.controllers", dir);
        read_line(file, controllers, sizeof controllers);
        snprintf(file, sizeof file, "%s/cgroup.procs", dir);
        bool writable = have_cg && access(dir, W_OK) == 0 && access(file, W_OK) == 0;
        if (mode == CGROUP_HYBRID) {
                report(d, CHECK_WARN, "cgroups", boot_fix,
                       "hybrid hierarchy: the controllers are on cgroup v1, and "
                       "the v2 tree at /sys/fs/cgroup/unified has %s%s; this process's cgroup %s is %swritable by %s: %s",
                       controllers[0] ? "only: " : "none", controllers, have_cg ? cg : "(unknown)",
                       writable ? "" : "not ", d->user, limits_lost);
                return;
        }
        if (!have_cg) {
                report(d, CHECK_WARN, "cgroups", "check that /proc is mounted",
                       "cgroup v2, but this process's cgroup is not listed in /proc/self/cgroup: %s", limits_lost);
                return;
        }
        /* the sandbox's own decision, made without creating anything */
        _cleanup_herror_ struct herror why = HERROR_INIT;
        char base[PATH_MAX], fix[2 * PATH_MAX];
        if (cgroup_check(base, sizeof base, &why) == 0) {
                report(d, CHECK_OK, "cgroups", NULL,
                       "cgroup v2: containers' cgroups are made in %s (beside this "
                       "process's), with cpu, memory and pids delegated to %s",
                       base, d->user);
                return;
        }
        if (access("/run/systemd/system", F_OK) == 0) {
                snprintf(
                        fix, sizeof fix,
                        "start hutch in a delegated scope: systemd-run --user --scope -p Delegate=yes "
                        "hutch ... (needs a systemd user session: log in as %s, or run loginctl enable-linger %s as root; "
                        "systemd delegates cpu, memory and pids to user@.service when "
                        "/etc/systemd/system/user@.service.d/delegate.conf says Delegate=cpu cpuset io memory pids)",
                        d->user, d->user);
        } else {
                /* no systemd to delegate: hand a cgroup over by hand; the shell goes in a child of it, and
                 * hutch makes containers' cgroups beside the shell's */
                char g[300]; /* user names are at most 32 bytes (useradd), uids 10 */
                snprintf(g, sizeof g, "/sys/fs/cgroup/hutch-%s", d->user);
                snprintf(
                        fix, sizeof fix,
                        "as root: echo '+cpu +memory +pids' > /sys/fs/cgroup/cgroup.subtree_control && "
                        "mkdir %s && chown %s: %s %s/cgroup.procs %s/cgroup.threads %s/cgroup.subtree_control; then as "
                        "%s: mkdir %s/shell && echo $$ > %s/shell/cgroup.procs",
                        g, d->user, g, g, g, g, d->user, g, g);
        }
        report(d, CHECK_WARN, "cgroups", fix, "cgroup v2, but %s: %s", herror_msg(&why), limits_lost);
}

/* ---- kernel security features --------------------------------------------------------------------- */

static void check_landlock(struct doctor *d, const struct kernel_features *k)
{
        char fix[1024];
        if (k->landlock_abi > 0) {
                report(d, CHECK_OK, "landlock", NULL, "ABI %d", k->landlock_abi);
                return;
        }
        int e = kernel_landlock_errno();
        if (e == EOPNOTSUPP) {
                snprintf(fix, sizeof fix,
                         "as root, add landlock to the lsm= list on the kernel command line (now: %s), "
                         "e.g. lsm=landlock,%s in GRUB_CMDLINE_LINUX, run update-grub and reboot",
                         k->lsms, k->lsms);
                report(d, CHECK_WARN, "landlock", fix,
                       "built into this kernel but not enabled at boot: containers run "
                       "without the Landlock layer");
        } else
                report(d, CHECK_WARN, "landlock", "use Linux >= 5.13 built with CONFIG_SECURITY_LANDLOCK=y",
                       "not available (%s): containers run without the Landlock layer", strerror(e ? e : ENOSYS));
}

static void check_seccomp(struct doctor *d, const struct kernel_features *k)
{
        bool filtered = under_seccomp_filter();
        if (k->seccomp_filter)
                report(d, CHECK_OK, "seccomp", NULL, "filter mode available%s",
                       filtered ? " (this process already runs under a filter; hutch's is stacked on it)" : "");
        else
                report(d, CHECK_FAIL, "seccomp", "use a kernel built with CONFIG_SECCOMP_FILTER=y",
                       "seccomp filters are unavailable, and hutch does not run containers without its syscall filter");
}

static void check_lsms(struct doctor *d, const struct kernel_features *k)
{
        report(d, CHECK_OK, "apparmor", NULL, "%s",
               k->apparmor_enabled ? "active (containers may name an AppArmor profile)"
                                   : "not active (a config naming an AppArmor profile is refused here)");
        report(d, CHECK_OK, "selinux", NULL, "%s",
               k->selinux_enabled ? "active (containers may name an SELinux label)"
                                  : "not active (a config naming an SELinux label is refused here)");
        report(d, CHECK_OK, "lsm", NULL, "%s%s", k->lsms,
               k->lsms_inferred ? " (inferred: securityfs is not mounted)" : "");
}

/* ---- command ------------------------------------------------------------------------------------- */

static int doctor_usage(void)
{
        printf("Usage: hutch doctor [--format text|json]\n\n"
               "Check that this machine and user can run rootless containers, and print the exact fix for\n"
               "what is missing. Each check prints 'ok', 'warn' or 'FAIL', its name and what it found.\n"
               "Exit status 0 when a rootless run can work (no FAIL), 1 otherwise. See hutch-doctor(1).\n\n"
               "  --format text|json    output format (default text)\n"
               "  -h, --help            show this help\n");
        return 0;
}

static void doctor_run(struct doctor *d)
{
        struct kernel_features k;
        kernel_probe(&k);
        struct probe_result p = probe_userns();
        check_mode(d);
        check_userns(d, &k, &p);
        check_subids(d);
        check_helper(d, "newuidmap", CAP_SETUID, "cap_setuid");
        check_helper(d, "newgidmap", CAP_SETGID, "cap_setgid");
        check_runtime_dir(d);
        check_storage(d);
        check_overlay(d, &p);
        check_cgroups(d);
        check_landlock(d, &k);
        check_seccomp(d, &k);
        check_lsms(d, &k);
}

int cmd_doctor(int argc, char **argv)
{
        static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
                                              { "help", no_argument, NULL, 'h' },
                                              {} };
        struct doctor d = { .uid = getuid(), .gid = getgid() };
        int c;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
                switch (c) {
                case 'f':
                        if (cli_parse_format(optarg, &d.json) < 0)
                                return cli_usage_error("hutch doctor", "--format must be text or json, not '%s'",
                                                       optarg);
                        break;
                case 'h':
                        return doctor_usage();
                default:
                        return cli_bad_option("hutch doctor", argc, argv);
                }
        }
        if (optind < argc)
                return cli_usage_error("hutch doctor", "takes no arguments, got '%s'", argv[optind]);
        struct passwd *pw = getpwuid(d.uid);
        char uidbuf[32];
        snprintf(uidbuf, sizeof uidbuf, "%u", (unsigned) d.uid);
        _cleanup_free_ char *user = strdup(pw ? pw->pw_name : uidbuf);
        _cleanup_free_ char *home = strdup(pw && pw->pw_dir ? pw->pw_dir : "/");
        if (!user || !home) {
                log_error("out of memory");
                return EXIT_HUTCH_ERROR;
        }
        d.has_passwd = pw != NULL;
        d.user = user;
        d.home = home;
        d.checks = json_array();
        if (!d.checks) {
                log_error("out of memory");
                return EXIT_HUTCH_ERROR;
        }
        fflush(stdout);
        doctor_run(&d);
        if (d.json) {
                _cleanup_json_ json_t *o = json_pack("{s:o, s:b, s:s, s:s}", "checks", d.checks, "ok", !d.failed,
                                                     "user", d.user, "mode", d.uid == 0 ? "rootful" : "rootless");
                _cleanup_free_ char *text = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
                if (!text) {
                        log_error("out of memory");
                        return EXIT_HUTCH_ERROR;
                }
                printf("%s\n", text);
        } else {
                json_decref(d.checks);
                printf("\n%s\n",
                       d.failed             ? "rootless containers cannot run here until the FAIL lines are fixed"
                               : d.uid == 0 ? "containers can run here (rootful mode)"
                                            : "rootless containers can run here");
        }
        return d.failed ? 1 : 0;
}
