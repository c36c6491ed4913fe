/* cgroup v2 leaf cgroups and limits for containers (see cgroup.h for where the leaf goes and why). */
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/cgroup.h"
#include "util/fileio.h"

#define PROC_TEXT_MAX (4u << 20) /* /proc/self/mountinfo of a host with very many mounts */
#define CGROUP_FILE_MAX 4096
#define REMOVE_WAIT_MS 10000 /* for the last processes of a killed leaf to be gone */

static const struct {
        unsigned bit;
        const char *name;
        const char *limit_file;
} controllers[] = {
        { CGROUP_CPU, "cpu", "cpu.max" },
        { CGROUP_MEMORY, "memory", "memory.max" },
        { CGROUP_PIDS, "pids", "pids.max" },
};

/* ---- pure helpers ---- */

unsigned cgroup_wanted(const struct spec_resources *r)
{
        return (r->has_memory_limit ? CGROUP_MEMORY : 0) | (r->has_pids_limit ? CGROUP_PIDS : 0) |
                (r->has_cpu_quota ? CGROUP_CPU : 0);
}

unsigned cgroup_parse_controllers(const char *text)
{
        unsigned mask = 0;
        const char *p = text;
        while (*p) {
                size_t skip = strspn(p, " \t\n"), len;
                p += skip;
                len = strcspn(p, " \t\n");
                for (size_t i = 0; len && i < ELEMENTSOF(controllers); i++)
                        if (strlen(controllers[i].name) == len && strncmp(p, controllers[i].name, len) == 0)
                                mask |= controllers[i].bit;
                p += len;
        }
        return mask;
}

void cgroup_controller_names(unsigned mask, char *buf, size_t size)
{
        size_t used = 0;
        buf[0] = 0;
        for (size_t i = 0; i < ELEMENTSOF(controllers); i++) {
                if (!(mask & controllers[i].bit))
                        continue;
                int n = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", controllers[i].name);
                if (n < 0 || (size_t) n >= size - used)
                        return;
                used += (size_t) n;
        }
}

static int copy_string(char *buf, size_t size, const char *s, size_t len)
{
        if (len >= size)
                return -ENAMETOOLONG;
        memcpy(buf, s, len);
        buf[len] = 0;
        return 0;
}

int cgroup_parse_proc_cgroup(const char *text, char *buf, size_t size)
{
        for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
                if (strncmp(line, "0::", 3) != 0)
                        continue;
                const char *path = line + 3;
                size_t len = strcspn(path, "\n");
                if (len == 0 || path[0] != '/')
                        return -EINVAL;
                return copy_string(buf, size, path, len);
        }
        return -ENOENT;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static int unescape_field(const char *s, size_t len, char *buf, size_t size)
{
        size_t o = 0;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                if (c == '\\' && i + 3 < len && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
                    s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
                        c = (char) ((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
                        i += 3;
                }
                if (o + 1 >= size)
                        return -ENAMETOOLONG;
                buf[o++] = c;
        }
        buf[o] = 0;
        return 0;
}

/* own's path below a mount whose root (in our cgroup namespace) is root; NULL when outside it. */
static const char *below_root(const char *own, const char *root)
{
        if (streq(root, "/"))
                return own + 1;
        size_t n = strlen(root);
        if (strncmp(own, root, n) != 0 || (own[n] != '/' && own[n] != 0))
                return NULL;
        return own[n] == '/' ? own + n + 1 : own + n;
}

static int mount_preference(const char *mount_point)
{
        if (streq(mount_point, "/sys/fs/cgroup"))
                return 3;
        if (streq(mount_point, "/sys/fs/cgroup/unified"))
                return 2;
        return 1;
}

struct mountinfo_line {
        char root[PATH_MAX];
        char mount_point[PATH_MAX];
        bool cgroup2;
};

/* Fields: ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS */
static int parse_mountinfo_line(const char *line, size_t len, struct mountinfo_line *ret)
{
        const char *f[6];
        size_t flen[6];
        const char *p = line, *end = line + len;
        for (int i = 0; i < 6; i++) {
                while (p < end && *p == ' ')
                        p++;
                f[i] = p;
                while (p < end && *p != ' ')
                        p++;
                flen[i] = (size_t) (p - f[i]);
                if (flen[i] == 0)
                        return -EINVAL;
        }
        const char *sep = NULL;
        for (const char *q = p; q + 2 < end; q++)
                if (q[0] == ' ' && q[1] == '-' && q[2] == ' ') {
                        sep = q + 3;
                        break;
                }
        if (!sep)
                return -EINVAL;
        size_t tlen = strcspn(sep, " \n");
        ret->cgroup2 = tlen == 7 && strncmp(sep, "cgroup2", 7) == 0;
        int r = unescape_field(f[3], flen[3], ret->root, sizeof ret->root);
        if (r < 0)
                return r;
        return unescape_field(f[4], flen[4], ret->mount_point, sizeof ret->mount_point);
}

int cgroup_find_mount(const char *mountinfo, const char *own, char *ret_mount, size_t mount_size, char *ret_rel,
                      size_t rel_size)
{
        struct mountinfo_line m;
        int best = 0, r;
        bool any = false;
        for (const char *line = mountinfo; line && *line;) {
                const char *nl = strchr(line, '\n');
                size_t len = nl ? (size_t) (nl - line) : strlen(line);
                if (parse_mountinfo_line(line, len, &m) == 0 && m.cgroup2) {
                        any = true;
                        const char *rel = own ? below_root(own, m.root) : "";
                        int pref = mount_preference(m.mount_point);
                        if (rel && pref > best) {
                                if ((r = copy_string(ret_mount, mount_size, m.mount_point, strlen(m.mount_point))) <
                                            0 ||
                                    (ret_rel && (r = copy_string(ret_rel, rel_size, rel, strlen(rel))) < 0))
                                        return r;
                                best = pref;
                        }
                }
                line = nl ? nl + 1 : NULL;
        }
        return best ? 0 : any ? -EXDEV : -ENOENT;
}

/* Splits a relative path into its components, refusing "." and ".." and more than max of them. */
static int split_components(char *path, char **ret, size_t max, size_t *ret_n)
{
        size_t n = 0;
        char *save = NULL;
        for (char *c = strtok_r(path, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                if (streq(c, ".") || streq(c, "..") || strlen(c) > NAME_MAX)
                        return -EINVAL;
                if (n == max)
                        return -E2BIG;
                ret[n++] = c;
        }
        *ret_n = n;
        return 0;
}

static void parent_path(const char *rel, char *buf, size_t size)
{
        const char *slash = strrchr(rel, '/');
        size_t len = slash ? (size_t) (slash - rel) : 0;
        snprintf(buf, size, "%.*s", (int) len, rel);
}

int cgroup_placement(const char *own_rel, const char *cgroups_path, bool ignore_path, const char *id, char *ret_base,
                     size_t base_size, char *ret_create, size_t create_size)
{
        char parent[PATH_MAX];
        parent_path(own_rel, parent, sizeof parent);
        if (cgroups_path && cgroups_path[0] && !ignore_path) {
                char copy[PATH_MAX], *parts[CGROUP_MAX_DEPTH];
                size_t n = 0, used = 0;
                if (strlen(cgroups_path) >= sizeof copy)
                        return -ENAMETOOLONG;
                strcpy(copy, cgroups_path);
                int r = split_components(copy, parts, ELEMENTSOF(parts), &n);
                if (r < 0 || n == 0)
                        return -EINVAL;
                for (size_t i = 0; i < n; i++) {
                        int k = snprintf(ret_create + used, create_size - used, "%s%s", i ? "/" : "", parts[i]);
                        if (k < 0 || (size_t) k >= create_size - used)
                                return -ENAMETOOLONG;
                        used += (size_t) k;
                }
                const char *base = cgroups_path[0] == '/' ? "" : parent;
                return copy_string(ret_base, base_size, base, strlen(base));
        }
        if (!id || !id[0] || strchr(id, '/') || streq(id, ".") || streq(id, ".."))
                return -EINVAL;
        int k = snprintf(ret_create, create_size, "hutch-%s", id);
        if (k < 0 || (size_t) k >= create_size || (size_t) k > NAME_MAX)
                return -ENAMETOOLONG;
        return copy_string(ret_base, base_size, parent, strlen(parent));
}

void cgroup_common_ancestor(const char *a, const char *b, char *buf, size_t size)
{
        size_t last = 0, i = 0;
        for (; a[i] && a[i] == b[i]; i++)
                if (a[i] == '/')
                        last = i;
        /* a whole component in common: "x/y" and "x/y/z", or equal paths */
        if ((a[i] == 0 && (b[i] == '/' || b[i] == 0)) || (b[i] == 0 && a[i] == '/'))
                last = i;
        snprintf(buf, size, "%.*s", (int) last, a);
}

int cgroup_parse_oom_kill(const char *events, uint64_t *ret)
{
        for (const char *line = events; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
                if (strncmp(line, "oom_kill ", 9) != 0)
                        continue;
                char *end;
                errno = 0;
                unsigned long long v = strtoull(line + 9, &end, 10);
                if (errno || end == line + 9 || (*end && *end != '\n'))
                        return -EINVAL;
                *ret = v;
                return 0;
        }
        return -ENOENT;
}

bool cgroup_limit_text(const struct spec_resources *r, unsigned controller, char *buf, size_t size)
{
        switch (controller) {
        case CGROUP_MEMORY:
                if (!r->has_memory_limit)
                        return false;
                snprintf(buf, size, "%" PRId64, r->memory_limit);
                return true;
        case CGROUP_PIDS:
                if (!r->has_pids_limit)
                        return false;
                snprintf(buf, size, "%" PRId64, r->pids_limit);
                return true;
        case CGROUP_CPU:
                if (!r->has_cpu_quota)
                        return false;
                snprintf(buf, size, "%" PRId64 " %" PRIu64, r->cpu_quota, r->cpu_period ? r->cpu_period : 100000);
                return true;
        default:
                return false;
        }
}

/* ---- files of one cgroup ---- */

/* cgroup files take one value per write(2). */
static int write_text_at(int dirfd, const char *name, const char *text)
{
        _cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        size_t len = strlen(text);
        ssize_t n = write(fd, text, len);
        if (n < 0)
                return -errno;
        return (size_t) n == len ? 0 : -EIO;
}

static int read_proc_text(const char *path, char **ret, struct herror *err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return herror_sys(err, errno, "open %s", path);
        size_t len;
        return read_fd_limited(fd, path, PROC_TEXT_MAX, ret, &len, err);
}

/* Open rel ("" = dirfd itself) below dirfd one component at a time, never following a symlink. */
static int open_below(int dirfd, const char *rel)
{
        char copy[PATH_MAX], *parts[256];
        size_t n = 0;
        if (strlen(rel) >= sizeof copy)
                return -ENAMETOOLONG;
        strcpy(copy, rel);
        int r = split_components(copy, parts, ELEMENTSOF(parts), &n);
        if (r < 0)
                return r;
        int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        for (size_t i = 0; fd >= 0 && i < n; i++) {
                int next = openat(fd, parts[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                int e = errno;
                close(fd);
                fd = next;
                errno = e;
        }
        return fd < 0 ? -errno : fd;
}

static void caller_name(char *buf, size_t size)
{
        uid_t uid = geteuid();
        struct passwd *pw = getpwuid(uid);
        if (pw)
                snprintf(buf, size, "%s", pw->pw_name);
        else
                snprintf(buf, size, "%u", (unsigned) uid);
}

/* For messages and state: a path that does not fit is cut (the kernel's limit is PATH_MAX anyway). */
static void join_path(char *buf, size_t size, const char *mount, const char *rel)
{
        if (snprintf(buf, size, "%s%s%s", mount, rel[0] ? "/" : "", rel) >= (int) size)
                buf[size - 1] = 0;
}

/* ---- making the leaf ---- */

struct walk {
        int mount_fd;
        const char *mount;
        unsigned wanted;
        char user[64];
        int fds[CGROUP_MAX_DEPTH + 1]; /* fds[0]: the base; fds[i]: after i components */
        char create[PATH_MAX];         /* the components to walk, split in place into parts */
        char *parts[CGROUP_MAX_DEPTH];
        size_t n_parts;
        bool made[CGROUP_MAX_DEPTH]; /* component i was created by this walk */
        char rel[PATH_MAX];          /* of the cgroup the walk is at */
};

/* On failure, the cgroups this walk made are removed again, deepest first. */
static void walk_close(struct walk *w, bool undo)
{
        for (size_t i = w->n_parts; undo && i-- > 0;)
                if (w->made[i] && w->fds[i] >= 0)
                        unlinkat(w->fds[i], w->parts[i], AT_REMOVEDIR);
        for (size_t i = 0; i < ELEMENTSOF(w->fds); i++)
                closep(&w->fds[i]);
}

/* The most basic reason first: the hierarchy lacks the controller altogether (on a hybrid host they
 * are bound to cgroup v1), whoever asks. */
static int check_hierarchy(const struct walk *w, struct herror *err)
{
        char root[CGROUP_FILE_MAX], names[64];
        int r = read_text_at(w->mount_fd, "cgroup.controllers", root, sizeof root);
        if (r < 0)
                return herror_sys(err, -r, "read %s/cgroup.controllers", w->mount);
        unsigned absent = w->wanted & ~cgroup_parse_controllers(root);
        if (!absent)
                return 0;
        cgroup_controller_names(absent, names, sizeof names);
        bool hybrid = !streq(w->mount, "/sys/fs/cgroup");
        return herror_set(
                err, EOPNOTSUPP, "the cgroup v2 hierarchy at %s has no %s controller%s", w->mount, names,
                hybrid ? " (a hybrid cgroup v1/v2 host: the controllers are on cgroup v1, which hutch does not "
                         "use for limits)"
                       : "");
}

static int missing_controllers(struct walk *w, unsigned missing, struct herror *err)
{
        char names[64], here[PATH_MAX + 64];
        cgroup_controller_names(missing, names, sizeof names);
        join_path(here, sizeof here, w->mount, w->rel);
        return herror_set(err, EACCES,
                          "controller %s not delegated to user %s in %s (missing from its cgroup.controllers: "
                          "the cgroup above does not enable it in cgroup.subtree_control)",
                          names, w->user, here);
}

/* The wanted controllers must be offered to the cgroup at fd (here, for messages); *ret_need: those of
 * them it does not enable for its children yet. */
static int controllers_needed(struct walk *w, int fd, const char *here, unsigned *ret_need, struct herror *err)
{
        char text[CGROUP_FILE_MAX];
        int r = read_text_at(fd, "cgroup.controllers", text, sizeof text);
        if (r < 0)
                return herror_sys(err, -r, "read %s/cgroup.controllers", here);
        unsigned missing = w->wanted & ~cgroup_parse_controllers(text);
        if (missing)
                return missing_controllers(w, missing, err);
        if ((r = read_text_at(fd, "cgroup.subtree_control", text, sizeof text)) < 0)
                return herror_sys(err, -r, "read %s/cgroup.subtree_control", here);
        *ret_need = w->wanted & ~cgroup_parse_controllers(text);
        return 0;
}

/* The controllers a child of the cgroup at fd needs, enabled in its cgroup.subtree_control. */
static int enable_controllers(struct walk *w, int fd, struct herror *err)
{
        char here[PATH_MAX + 64];
        unsigned need;
        join_path(here, sizeof here, w->mount, w->rel);
        int r = controllers_needed(w, fd, here, &need, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(controllers); i++) {
                if (!(need & controllers[i].bit))
                        continue;
                char op[32];
                snprintf(op, sizeof op, "+%s", controllers[i].name);
                r = write_text_at(fd, "cgroup.subtree_control", op);
                if (r == -EACCES || r == -EPERM)
                        return herror_set(err, EACCES,
                                          "controller %s not delegated to user %s in %s (its "
                                          "cgroup.subtree_control is not writable)",
                                          controllers[i].name, w->user, here);
                if (r == -EBUSY)
                        return herror_set(
                                err, EBUSY,
                                "cannot enable controller %s in %s: it holds processes (cgroup v2 "
                                "lets a cgroup either hold processes or give controllers to children); run hutch "
                                "from a cgroup whose parent holds none",
                                controllers[i].name, here);
                if (r < 0)
                        return herror_sys(err, -r, "enable controller %s in %s", controllers[i].name, here);
        }
        return 0;
}

static int walk_step(struct walk *w, size_t i, struct herror *err)
{
        int fd = w->fds[i], r;
        char here[PATH_MAX + 64];
        join_path(here, sizeof here, w->mount, w->rel);
        if ((r = enable_controllers(w, fd, err)) < 0)
                return r;
        bool last = i + 1 == w->n_parts;
        if (mkdirat(fd, w->parts[i], 0755) == 0) {
                w->made[i] = true;
        } else if (errno == EEXIST && last) {
                return herror_set(err, EEXIST, "the cgroup %s/%s already exists", here, w->parts[i]);
        } else if (errno == EACCES || errno == EPERM) {
                return herror_set(err, EACCES,
                                  "cannot create a cgroup in %s: not delegated to user %s (the directory is "
                                  "not writable)",
                                  here, w->user);
        } else if (errno != EEXIST) {
                return herror_sys(err, errno, "create the cgroup %s/%s", here, w->parts[i]);
        }
        w->fds[i + 1] = openat(fd, w->parts[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (w->fds[i + 1] < 0)
                return herror_sys(err, errno, "open the cgroup %s/%s", here, w->parts[i]);
        size_t len = strlen(w->rel);
        snprintf(w->rel + len, sizeof w->rel - len, "%s%s", len ? "/" : "", w->parts[i]);
        return 0;
}

static int write_limits(const struct walk *w, int leaf_fd, const struct spec_resources *res, struct herror *err)
{
        char here[PATH_MAX + 64];
        join_path(here, sizeof here, w->mount, w->rel);
        for (size_t i = 0; i < ELEMENTSOF(controllers); i++) {
                char value[64];
                if (!cgroup_limit_text(res, controllers[i].bit, value, sizeof value))
                        continue;
                int r = write_text_at(leaf_fd, controllers[i].limit_file, value);
                if (r < 0)
                        return herror_sys(err, -r, "write \"%s\" to %s/%s", value, here, controllers[i].limit_file);
        }
        return 0;
}

/* Moving the init from hutch's cgroup into the leaf needs write access to the cgroup.procs of their
 * common ancestor: checked first, for a message that says so rather than a bare EACCES from clone3. */
static int check_move_allowed(struct walk *w, const char *own_rel, const char *leaf_rel, struct herror *err)
{
        char common[PATH_MAX], here[PATH_MAX + 64];
        cgroup_common_ancestor(own_rel, leaf_rel, common, sizeof common);
        join_path(here, sizeof here, w->mount, common);
        _cleanup_close_ int fd = open_below(w->mount_fd, common);
        if (fd < 0)
                return herror_sys(err, -fd, "open the cgroup %s", here);
        if (faccessat(fd, "cgroup.procs", W_OK, AT_EACCESS) < 0)
                return herror_set(err, EACCES,
                                  "cannot move the container into its cgroup: %s/cgroup.procs is not "
                                  "writable by user %s (not delegated)",
                                  here, w->user);
        return 0;
}

static int placement_error(int r, const char *cgroups_path, struct herror *err)
{
        if (r == -EINVAL && cgroups_path && cgroups_path[0])
                return herror_set(err, EINVAL,
                                  ".linux.cgroupsPath \"%s\": not a usable cgroup path (empty, \".\" or "
                                  "\"..\" components, or deeper than %d)",
                                  cgroups_path, CGROUP_MAX_DEPTH);
        return herror_set(err, -r, "the container's cgroup name is too long or invalid");
}

static int create_walk(struct walk *w, const char *own_rel, const struct spec *s, const char *id, bool ignore_path,
                       struct cgroup_leaf *ret, struct herror *err)
{
        char base[PATH_MAX], leaf_rel[PATH_MAX * 2];
        int r = cgroup_placement(own_rel, s->cgroups_path, ignore_path, id, base, sizeof base, w->create,
                                 sizeof w->create);
        if (r < 0)
                return placement_error(r, s->cgroups_path, err);
        snprintf(leaf_rel, sizeof leaf_rel, "%s%s%s", base, base[0] ? "/" : "", w->create);
        if (strlen(leaf_rel) >= sizeof ret->rel)
                return herror_set(err, ENAMETOOLONG, "the container's cgroup path is too long");
        if ((r = check_hierarchy(w, err)) < 0 || (r = check_move_allowed(w, own_rel, leaf_rel, err)) < 0)
                return r;
        snprintf(w->rel, sizeof w->rel, "%s", base);
        if ((w->fds[0] = open_below(w->mount_fd, base)) < 0) {
                char here[PATH_MAX + 64];
                join_path(here, sizeof here, w->mount, base);
                return herror_sys(err, -w->fds[0], "open the cgroup %s", here);
        }
        if ((r = split_components(w->create, w->parts, ELEMENTSOF(w->parts), &w->n_parts)) < 0 || w->n_parts == 0)
                return placement_error(r < 0 ? r : -EINVAL, s->cgroups_path, err);
        for (size_t i = 0; i < w->n_parts; i++)
                if ((r = walk_step(w, i, err)) < 0)
                        return r;
        int leaf = w->fds[w->n_parts];
        if ((r = write_limits(w, leaf, &s->resources, err)) < 0)
                return r;
        *ret = (struct cgroup_leaf) { .fd = TAKE_FD(w->fds[w->n_parts]),
                                      .parent_fd = TAKE_FD(w->fds[w->n_parts - 1]),
                                      .controllers = w->wanted };
        /* both fit: parts are at most NAME_MAX, leaf_rel was checked against ret->rel above */
        copy_string(ret->name, sizeof ret->name, w->parts[w->n_parts - 1], strlen(w->parts[w->n_parts - 1]));
        copy_string(ret->rel, sizeof ret->rel, leaf_rel, strlen(leaf_rel));
        join_path(ret->path, sizeof ret->path, w->mount, leaf_rel);
        return 0;
}

static int wrap_limits(const struct spec *s, struct herror *err)
{
        char names[64];
        cgroup_controller_names(cgroup_wanted(&s->resources), names, sizeof names);
        return herror_wrap(err, "cannot apply the resource limits (%s)", names);
}

int cgroup_create_at(int mount_fd, const char *mount, const char *own_rel, const struct spec *s, const char *id,
                     bool ignore_path, struct cgroup_leaf *ret, struct herror *err)
{
        *ret = (struct cgroup_leaf) CGROUP_LEAF_INIT;
        struct walk w = { .mount_fd = mount_fd, .mount = mount, .wanted = cgroup_wanted(&s->resources) };
        for (size_t i = 0; i < ELEMENTSOF(w.fds); i++)
                w.fds[i] = -1;
        if (!w.wanted)
                return 0;
        caller_name(w.user, sizeof w.user);
        int r = create_walk(&w, own_rel, s, id, ignore_path, ret, err);
        walk_close(&w, r < 0);
        return r < 0 ? wrap_limits(s, err) : 0;
}

static int open_cgroup2_mount(const char *mount, struct herror *err)
{
        _cleanup_close_ int fd = open(mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return herror_sys(err, errno, "open the cgroup v2 mount %s", mount);
        struct statfs sf;
        if (fstatfs(fd, &sf) < 0)
                return herror_sys(err, errno, "statfs %s", mount);
        if (sf.f_type != CGROUP2_SUPER_MAGIC)
                return herror_set(err, EXDEV, "%s is not a cgroup v2 filesystem", mount);
        return TAKE_FD(fd);
}

/* The cgroup2 mount and hutch's own cgroup below it. own_rel may be NULL (any cgroup2 mount). */
static int find_hierarchy(char *mount, size_t mount_size, char *own_rel, size_t own_size, struct herror *err)
{
        _cleanup_free_ char *mountinfo = NULL, *self = NULL;
        char own[PATH_MAX] = "/";
        int r;
        if (own_rel) {
                if ((r = read_proc_text("/proc/self/cgroup", &self, err)) < 0)
                        return r;
                r = cgroup_parse_proc_cgroup(self, own, sizeof own);
                if (r == -ENOENT)
                        return herror_set(err, EOPNOTSUPP,
                                          "no cgroup v2 hierarchy: /proc/self/cgroup has no \"0::\" "
                                          "entry (a cgroup v1-only host)");
                if (r < 0)
                        return herror_set(err, -r, "/proc/self/cgroup: no usable \"0::\" entry");
        }
        if ((r = read_proc_text("/proc/self/mountinfo", &mountinfo, err)) < 0)
                return r;
        r = cgroup_find_mount(mountinfo, own_rel ? own : NULL, mount, mount_size, own_rel, own_size);
        if (r == -ENOENT)
                return herror_set(err, EOPNOTSUPP,
                                  "no cgroup v2 hierarchy is mounted (no cgroup2 in /proc/self/mountinfo)");
        if (r == -EXDEV)
                return herror_set(err, EXDEV, "hutch's cgroup %s is outside every cgroup2 mount", own);
        if (r < 0)
                return herror_set(err, -r, "/proc/self/mountinfo: a cgroup2 mount point does not fit");
        return 0;
}

int cgroup_create(const struct spec *s, const char *id, bool ignore_path, struct cgroup_leaf *ret, struct herror *err)
{
        char mount[PATH_MAX], own_rel[PATH_MAX];
        *ret = (struct cgroup_leaf) CGROUP_LEAF_INIT;
        if (!cgroup_wanted(&s->resources))
                return 0;
        int r = find_hierarchy(mount, sizeof mount, own_rel, sizeof own_rel, err);
        if (r < 0)
                return wrap_limits(s, err);
        _cleanup_close_ int mount_fd = open_cgroup2_mount(mount, err);
        if (mount_fd < 0)
                return wrap_limits(s, err);
        return cgroup_create_at(mount_fd, mount, own_rel, s, id, ignore_path, ret, err);
}

/* The steps of walk_step for the base, as checks: the controllers offered, the ones enabled for children
 * or the right to enable them (which needs the base empty of processes, unless it is the root), and the
 * right to make a cgroup there. */
static int check_base(struct walk *w, int fd, struct herror *err)
{
        char text[CGROUP_FILE_MAX], here[PATH_MAX + 64];
        unsigned need;
        join_path(here, sizeof here, w->mount, w->rel);
        int r = controllers_needed(w, fd, here, &need, err);
        if (r < 0)
                return r;
        if (need) {
                if (faccessat(fd, "cgroup.subtree_control", W_OK, AT_EACCESS) < 0)
                        return herror_set(err, EACCES,
                                          "controllers not delegated to user %s in %s (its "
                                          "cgroup.subtree_control is not writable)",
                                          w->user, here);
                if (w->rel[0] && (r = read_text_at(fd, "cgroup.procs", text, sizeof text)) == 0 && text[0])
                        return herror_set(err, EBUSY,
                                          "%s holds processes, so it cannot give controllers to a "
                                          "container's cgroup beside hutch's",
                                          here);
        }
        if (faccessat(fd, ".", W_OK, AT_EACCESS) < 0)
                return herror_set(err, EACCES,
                                  "cannot create a cgroup in %s: not delegated to user %s (the directory "
                                  "is not writable)",
                                  here, w->user);
        return 0;
}

int cgroup_check(char *ret_base, size_t base_size, struct herror *err)
{
        char mount[PATH_MAX], own_rel[PATH_MAX], leaf_rel[PATH_MAX * 2];
        struct walk w = { .wanted = CGROUP_CPU | CGROUP_MEMORY | CGROUP_PIDS, .mount = mount };
        int r = find_hierarchy(mount, sizeof mount, own_rel, sizeof own_rel, err);
        if (r < 0)
                return r;
        _cleanup_close_ int mount_fd = open_cgroup2_mount(mount, err);
        if (mount_fd < 0)
                return mount_fd;
        w.mount_fd = mount_fd;
        caller_name(w.user, sizeof w.user);
        if ((r = cgroup_placement(own_rel, NULL, false, "check", w.rel, sizeof w.rel, w.create, sizeof w.create)) < 0)
                return herror_set(err, -r, "no place for a container's cgroup");
        snprintf(leaf_rel, sizeof leaf_rel, "%s%s%s", w.rel, w.rel[0] ? "/" : "", w.create);
        if ((r = check_hierarchy(&w, err)) < 0 || (r = check_move_allowed(&w, own_rel, leaf_rel, err)) < 0)
                return r;
        _cleanup_close_ int fd = open_below(mount_fd, w.rel);
        if (fd < 0)
                return herror_sys(err, -fd, "open the cgroup %s/%s", mount, w.rel);
        if ((r = check_base(&w, fd, err)) < 0)
                return r;
        join_path(ret_base, base_size, mount, w.rel);
        return 0;
}

int cgroup_enter(const struct cgroup_leaf *l, pid_t pid, struct herror *err)
{
        char text[32];
        snprintf(text, sizeof text, "%d", (int) pid);
        int r = write_text_at(l->fd, "cgroup.procs", text);
        if (r < 0)
                return herror_sys(err, -r, "move the container init into %s", l->path);
        return 0;
}

int cgroup_oom_killed(const struct cgroup_leaf *l, bool *ret, struct herror *err)
{
        char text[CGROUP_FILE_MAX];
        uint64_t n = 0;
        int r = read_text_at(l->fd, "memory.events", text, sizeof text);
        if (r < 0)
                return herror_sys(err, -r, "read %s/memory.events", l->path);
        if ((r = cgroup_parse_oom_kill(text, &n)) < 0)
                return herror_set(err, EINVAL, "%s/memory.events: no oom_kill count", l->path);
        *ret = n > 0;
        return 0;
}

void cgroup_leaf_close(struct cgroup_leaf *l)
{
        closep(&l->fd);
        closep(&l->parent_fd);
        l->fd = l->parent_fd = -1;
}

static void kill_each(int leaf_fd)
{
        char text[CGROUP_FILE_MAX];
        if (read_text_at(leaf_fd, "cgroup.procs", text, sizeof text) < 0)
                return;
        for (char *p = text, *end; *p; p = end) {
                long pid = strtol(p, &end, 10);
                if (end == p)
                        break;
                int pidfd = (int) syscall(SYS_pidfd_open, (pid_t) pid, 0);
                if (pidfd >= 0) {
                        syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
                        close(pidfd);
                }
        }
}

static int64_t monotonic_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The kernel signals every change of cgroup.events with POLLPRI: wait for "populated 0". */
static int wait_empty(int leaf_fd)
{
        _cleanup_close_ int fd = openat(leaf_fd, "cgroup.events", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        int64_t deadline = monotonic_ms() + REMOVE_WAIT_MS;
        for (;;) {
                char text[256];
                ssize_t n = pread(fd, text, sizeof text - 1, 0);
                if (n < 0)
                        return -errno;
                text[n] = 0;
                if (strstr(text, "populated 0"))
                        return 0;
                int64_t left = deadline - monotonic_ms();
                struct pollfd p = { .fd = fd, .events = POLLPRI };
                if (left <= 0)
                        return -ETIMEDOUT;
                if (poll(&p, 1, (int) left) < 0 && errno != EINTR)
                        return -errno;
        }
}

static int remove_leaf(const struct cgroup_leaf *l)
{
        if (unlinkat(l->parent_fd, l->name, AT_REMOVEDIR) == 0 || errno == ENOENT)
                return 0;
        if (errno != EBUSY)
                return -errno;
        /* processes outlived the init (no pid namespace of its own, or still exiting): the container is over */
        if (write_text_at(l->fd, "cgroup.kill", "1") < 0)
                kill_each(l->fd);
        int r = wait_empty(l->fd);
        if (r < 0)
                return r;
        if (unlinkat(l->parent_fd, l->name, AT_REMOVEDIR) == 0 || errno == ENOENT)
                return 0;
        return -errno;
}

int cgroup_remove(struct cgroup_leaf *l, struct herror *err)
{
        if (l->fd < 0)
                return 0;
        int r = remove_leaf(l);
        if (r < 0)
                herror_sys(err, -r, "remove the container's cgroup %s", l->path);
        cgroup_leaf_close(l);
        return r;
}

int cgroup_open_rel(const char *rel, struct cgroup_leaf *ret, struct herror *err)
{
        char mount[PATH_MAX], parent[PATH_MAX];
        const char *name = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
        *ret = (struct cgroup_leaf) CGROUP_LEAF_INIT;
        if (!name[0] || streq(name, ".") || streq(name, ".."))
                return herror_set(err, EINVAL, "not a container cgroup: \"%s\"", rel);
        int r = find_hierarchy(mount, sizeof mount, NULL, 0, err);
        if (r < 0)
                return r;
        _cleanup_close_ int mount_fd = open_cgroup2_mount(mount, err);
        if (mount_fd < 0)
                return mount_fd;
        struct cgroup_leaf l = CGROUP_LEAF_INIT;
        parent_path(rel, parent, sizeof parent);
        join_path(l.path, sizeof l.path, mount, rel);
        if (copy_string(l.name, sizeof l.name, name, strlen(name)) < 0 ||
            copy_string(l.rel, sizeof l.rel, rel, strlen(rel)) < 0)
                return herror_set(err, ENAMETOOLONG, "not a container cgroup: \"%s\"", rel);
        if ((l.parent_fd = open_below(mount_fd, parent)) < 0)
                return herror_sys(err, -l.parent_fd, "open the cgroup above %s", l.path);
        l.fd = openat(l.parent_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (l.fd < 0) {
                int e = errno;
                cgroup_leaf_close(&l);
                return herror_sys(err, e, "open the cgroup %s", l.path);
        }
        *ret = l;
        return 0;
}

int cgroup_remove_rel(const char *rel, struct herror *err)
{
        struct cgroup_leaf l;
        _cleanup_herror_ struct herror open_err = HERROR_INIT;
        int r = cgroup_open_rel(rel, &l, &open_err);
        if (r == -ENOENT)
                return 0; /* already gone */
        if (r < 0) {
                herror_set(err, open_err.errnum, "%s", herror_msg(&open_err));
                return r;
        }
        return cgroup_remove(&l, err);
}
