#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/idmap.h"
#include "sandbox/subid.h"
#include "util/fileio.h"

static bool is_own_id_only(const struct spec_idmap *m, size_t n, uint32_t own)
{
        return n == 1 && m[0].host_id == own && m[0].size == 1;
}

static int check_ranges(bool gid, const struct spec_idmap *m, size_t n, uint32_t own, const char *user,
                        struct herror *err)
{
        struct subid_ranges ranges = { 0 };
        int r = subid_load(gid, user, own, &ranges, err);
        if (r < 0)
                return r;
        const char *file = subid_path(gid);
        const char *kind = gid ? "gidMappings" : "uidMappings";
        for (size_t i = 0; i < n; i++) {
                if (m[i].host_id == own && m[i].size == 1)
                        continue;
                if (subid_ranges_cover(&ranges, m[i].host_id, m[i].size))
                        continue;
                if (ranges.n == 0)
                        r = herror_set(
                                err, EPERM,
                                ".linux.%s[%zu]: host IDs %u-%u need an entry for user %s (%u) in %s, and it has none "
                                "(fix: usermod --add-sub%cids START-END %s, or map only your own ID)",
                                kind, i, m[i].host_id, m[i].host_id + m[i].size - 1, user, own, file, gid ? 'g' : 'u',
                                user);
                else
                        r = herror_set(err, EPERM,
                                       ".linux.%s[%zu]: host IDs %u-%u are outside the ranges of user %s (%u) in %s",
                                       kind, i, m[i].host_id, m[i].host_id + m[i].size - 1, user, own, file);
                break;
        }
        subid_ranges_free(&ranges);
        return r;
}

static const char *user_name(uid_t uid, char *buf, size_t size)
{
        struct passwd pw, *pwp = NULL;
        char pwbuf[4096];
        if (getpwuid_r(uid, &pw, pwbuf, sizeof pwbuf, &pwp) == 0 && pwp) {
                snprintf(buf, size, "%s", pwp->pw_name);
                return buf;
        }
        snprintf(buf, size, "%u", uid);
        return buf;
}

int idmap_plan_ranges(const struct idmap_ranges *m, struct idmap_plan *ret, struct herror *err)
{
        struct idmap_plan plan = { 0 };
        uid_t uid = geteuid();
        gid_t gid = getegid();
        if (uid == 0) {
                *ret = plan;
                return 0;
        }
        if (is_own_id_only(m->uid, m->n_uid, uid) && is_own_id_only(m->gid, m->n_gid, gid)) {
                plan.deny_setgroups = true;
                *ret = plan;
                return 0;
        }
        char buf[256];
        const char *user = user_name(uid, buf, sizeof buf);
        int r = check_ranges(false, m->uid, m->n_uid, uid, user, err);
        if (r < 0)
                return r;
        r = check_ranges(true, m->gid, m->n_gid, gid, user, err);
        if (r < 0)
                return r;
        plan.use_helpers = true;
        *ret = plan;
        return 0;
}

static int format_map(const struct spec_idmap *m, size_t n, char *buf, size_t size)
{
        size_t off = 0;
        for (size_t i = 0; i < n; i++) {
                int k = snprintf(buf + off, size - off, "%u %u %u\n", m[i].container_id, m[i].host_id, m[i].size);
                if (k < 0 || (size_t) k >= size - off)
                        return -E2BIG;
                off += (size_t) k;
        }
        return (int) off;
}

static int write_proc_file(int piddirfd, const char *name, const char *data, size_t len, struct herror *err)
{
        _cleanup_close_ int fd = openat(piddirfd, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return herror_sys(err, errno, "open /proc/PID/%s", name);
        if (write(fd, data, len) != (ssize_t) len)
                return herror_sys(err, errno, "write /proc/PID/%s", name);
        return 0;
}

static int write_maps_direct(pid_t pid, const struct idmap_ranges *m, const struct idmap_plan *plan, struct herror *err)
{
        char path[64], buf[SPEC_MAX_IDMAPS * 36];
        snprintf(path, sizeof path, "/proc/%d", (int) pid);
        _cleanup_close_ int dfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return herror_sys(err, errno, "open %s", path);
        int r;
        if (plan->deny_setgroups && (r = write_proc_file(dfd, "setgroups", "deny", 4, err)) < 0)
                return r;
        int n = format_map(m->uid, m->n_uid, buf, sizeof buf);
        if (n < 0 || (r = write_proc_file(dfd, "uid_map", buf, (size_t) n, err)) < 0)
                return n < 0 ? herror_set(err, E2BIG, "uid map too long") : r;
        n = format_map(m->gid, m->n_gid, buf, sizeof buf);
        if (n < 0 || (r = write_proc_file(dfd, "gid_map", buf, (size_t) n, err)) < 0)
                return n < 0 ? herror_set(err, E2BIG, "gid map too long") : r;
        return 0;
}

static const char *find_helper(const char *name)
{
        static const char *const dirs[] = { "/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/" };
        static char found[64];
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                snprintf(found, sizeof found, "%s%s", dirs[i], name);
                if (access(found, X_OK) == 0)
                        return found;
        }
        return NULL;
}

/* Fixed argv, empty environment, no shell: "newuidmap PID c h s ...". */
static int spawn_helper(const char *name, pid_t target, const struct spec_idmap *m, size_t n, struct helper_run *ret,
                        struct herror *err)
{
        const char *path = find_helper(name);
        if (!path)
                return herror_set(err, ENOENT,
                                  "%s not found (install the uidmap package), needed to map the "
                                  "subordinate ID ranges",
                                  name);
        char exe[64];
        snprintf(exe, sizeof exe, "%s", path);
        char *argv[3 + SPEC_MAX_IDMAPS * 3 + 1];
        char nums[1 + SPEC_MAX_IDMAPS * 3][12];
        size_t a = 0;
        argv[a++] = (char *) name;
        snprintf(nums[0], sizeof nums[0], "%d", (int) target);
        argv[a++] = nums[0];
        for (size_t i = 0; i < n; i++) {
                uint32_t v[3] = { m[i].container_id, m[i].host_id, m[i].size };
                for (int k = 0; k < 3; k++) {
                        snprintf(nums[1 + i * 3 + k], sizeof nums[0], "%u", v[k]);
                        argv[a++] = nums[1 + i * 3 + k];
                }
        }
        argv[a] = NULL;
        int pfd[2];
        if (pipe2(pfd, O_CLOEXEC) < 0)
                return herror_sys(err, errno, "pipe");
        /* posix_spawn (clone with CLONE_VM|CLONE_VFORK in glibc): no copy of our page tables for a
         * child that only execs; the helper runs on its own while we spawn the second one. */
        posix_spawn_file_actions_t fa;
        pid_t pid = -1;
        int r = posix_spawn_file_actions_init(&fa);
        if (r == 0) {
                if ((r = posix_spawn_file_actions_adddup2(&fa, pfd[1], STDERR_FILENO)) == 0 &&
                    (r = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0)) == 0 &&
                    (r = posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0)) == 0) {
                        char *envp[] = { NULL };
                        r = posix_spawn(&pid, exe, &fa, NULL, argv, envp);
                }
                posix_spawn_file_actions_destroy(&fa);
        }
        if (r != 0) {
                close(pfd[0]);
                close(pfd[1]);
                return herror_sys(err, r, "run %s", exe);
        }
        close(pfd[1]);
        ret->pid = pid;
        ret->errfd = pfd[0];
        snprintf(ret->name, sizeof ret->name, "%s", name);
        return 0;
}

static int finish_helper(struct helper_run *h, struct herror *err)
{
        char msg[512];
        ssize_t len = read_all(h->errfd, msg, sizeof msg - 1);
        close(h->errfd);
        msg[len > 0 ? len : 0] = 0;
        msg[strcspn(msg, "\n")] = 0;
        int status;
        while (waitpid(h->pid, &status, 0) < 0)
                if (errno != EINTR)
                        return herror_sys(err, errno, "wait for %s", h->name);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        return herror_set(err, EPERM, "%s failed (status %d)%s%s", h->name,
                          WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), msg[0] ? ": " : "", msg);
}

int idmap_write_start(pid_t pid, const struct idmap_ranges *m, const struct idmap_plan *plan, struct idmap_pending *ret,
                      struct herror *err)
{
        *ret = (struct idmap_pending) IDMAP_PENDING_INIT;
        if (!plan->use_helpers)
                return write_maps_direct(pid, m, plan, err);
        int r = spawn_helper("newuidmap", pid, m->uid, m->n_uid, &ret->u, err);
        if (r == 0)
                r = spawn_helper("newgidmap", pid, m->gid, m->n_gid, &ret->g, err);
        if (r < 0)
                idmap_write_finish(ret, NULL);
        return r;
}

int idmap_write_finish(struct idmap_pending *p, struct herror *err)
{
        int ru = p->u.pid > 0 ? finish_helper(&p->u, err) : 0;
        int rg = p->g.pid > 0 ? finish_helper(&p->g, ru < 0 ? NULL : err) : 0;
        *p = (struct idmap_pending) IDMAP_PENDING_INIT;
        return ru < 0 ? ru : rg;
}

int idmap_write_ranges(pid_t pid, const struct idmap_ranges *m, const struct idmap_plan *plan, struct herror *err)
{
        struct idmap_pending p;
        int r = idmap_write_start(pid, m, plan, &p, err);
        return r < 0 ? r : idmap_write_finish(&p, err);
}

static const struct spec_idmap *parent_range_of(uint32_t host, const struct spec_idmap *parent, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (host >= parent[i].host_id && (uint64_t) host < (uint64_t) parent[i].host_id + parent[i].size)
                        return &parent[i];
        return NULL;
}

int idmap_translate(const struct spec_idmap *m, size_t n, const struct spec_idmap *parent, size_t n_parent,
                    struct spec_idmap *out, size_t max)
{
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
                uint64_t cid = m[i].container_id, host = m[i].host_id, left = m[i].size;
                while (left > 0) {
                        const struct spec_idmap *p =
                                host <= UINT32_MAX ? parent_range_of((uint32_t) host, parent, n_parent) : NULL;
                        if (!p)
                                return -ERANGE;
                        if (k == max)
                                return -E2BIG;
                        uint64_t chunk = (uint64_t) p->host_id + p->size - host;
                        if (chunk > left)
                                chunk = left;
                        out[k++] = (struct spec_idmap) { .container_id = (uint32_t) cid,
                                                         .host_id = (uint32_t) (p->container_id + (host - p->host_id)),
                                                         .size = (uint32_t) chunk };
                        cid += chunk;
                        host += chunk;
                        left -= chunk;
                }
        }
        return (int) k;
}

static size_t map_push(struct spec_idmap *m, size_t n, size_t max, uint32_t cid, uint32_t hid, uint32_t size)
{
        if (size && n < max)
                m[n++] = (struct spec_idmap) { .container_id = cid, .host_id = hid, .size = size };
        return n;
}

size_t idmap_build_user_map(struct spec_idmap *m, size_t max, uint32_t own, uint32_t self,
                            const struct subid_ranges *sub)
{
        size_t n = map_push(m, 0, max, self, own, 1);
        uint32_t next = 0;
        for (size_t i = 0; i < sub->n && n < max; i++) {
                uint32_t start = sub->v[i].start, count = sub->v[i].count;
                if (next < self && next + (uint64_t) count > self) {
                        uint32_t before = self - next;
                        n = map_push(m, n, max, next, start, before);
                        start += before;
                        count -= before;
                        next = self + 1;
                } else if (next == self) {
                        next++;
                }
                n = map_push(m, n, max, next, start, count);
                next += count;
        }
        return n;
}
