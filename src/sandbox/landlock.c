#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/kernel.h"
#include "sandbox/landlock.h"
#include "util/safepath.h"

/* Newer than Debian 12's <linux/landlock.h> (ABI 2); values from the kernel's uapi. */
#define LL_FS_EXECUTE (1ULL << 0)
#define LL_FS_WRITE_FILE (1ULL << 1)
#define LL_FS_READ_FILE (1ULL << 2)
#define LL_FS_READ_DIR (1ULL << 3)
#define LL_FS_ABI1_ALL ((1ULL << 13) - 1)
#define LL_FS_REFER (1ULL << 13)
#define LL_FS_TRUNCATE (1ULL << 14)
#define LL_FS_IOCTL_DEV (1ULL << 15)
#define LL_NET_BIND_TCP (1ULL << 0)
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LL_SCOPE_SIGNAL (1ULL << 1)
#define LL_RULE_PATH_BENEATH 1
#define LL_RULE_NET_PORT 2

#define LL_FS_READ_EXEC (LL_FS_EXECUTE | LL_FS_READ_FILE | LL_FS_READ_DIR)
#define LL_FS_FILE_RIGHTS (LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE | LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)

struct ll_ruleset_attr {
        uint64_t handled_access_fs;
        uint64_t handled_access_net;
        uint64_t scoped;
};

struct ll_path_beneath_attr {
        uint64_t allowed_access;
        int32_t parent_fd;
} __attribute__((packed));

struct ll_net_port_attr {
        uint64_t allowed_access;
        uint64_t port;
};

int landlock_mode_from_string(const char *s)
{
        if (streq(s, "off"))
                return LANDLOCK_OFF;
        if (streq(s, "default") || streq(s, "best-effort"))
                return LANDLOCK_BEST_EFFORT;
        if (streq(s, "required"))
                return LANDLOCK_REQUIRED;
        return _LANDLOCK_MODE_INVALID;
}

int landlock_mode_from_spec(const struct spec *s, enum landlock_mode fallback, struct herror *err)
{
        const char *v = spec_annotation(s, LANDLOCK_ANNOTATION);
        if (!v)
                return (int) fallback;
        int m = landlock_mode_from_string(v);
        if (m < 0)
                return herror_set(err, EINVAL, ".annotations.%s: \"%s\" is not one of off, default, required",
                                  LANDLOCK_ANNOTATION, v);
        return m;
}

/* The fall-through of samples/landlock/sandboxer.c: each ABI adds rights to what the older knew. */
static uint64_t fs_rights(int abi)
{
        uint64_t r = LL_FS_ABI1_ALL;
        if (abi >= 2)
                r |= LL_FS_REFER;
        if (abi >= 3)
                r |= LL_FS_TRUNCATE;
        if (abi >= 5)
                r |= LL_FS_IOCTL_DEV;
        return r;
}

static size_t attr_size(int abi)
{
        if (abi >= 6)
                return sizeof(struct ll_ruleset_attr);
        if (abi >= 4)
                return offsetof(struct ll_ruleset_attr, scoped);
        return offsetof(struct ll_ruleset_attr, handled_access_net);
}

/* The rights a rules file's words stand for, within what this ABI handles. */
static uint64_t rights_for(unsigned access, uint64_t handled)
{
        uint64_t r = 0;
        if (access & SPEC_LANDLOCK_READ)
                r |= LL_FS_READ_FILE | LL_FS_READ_DIR;
        if (access & SPEC_LANDLOCK_EXECUTE)
                r |= LL_FS_EXECUTE;
        if (access & SPEC_LANDLOCK_WRITE)
                r |= handled & ~LL_FS_READ_EXEC;
        return r & handled;
}

/* Rule paths are looked up inside the container's root without magic links, so a symlink in the image
 * pointing at /proc/self/fd/N cannot turn a rule into a grant on one of hutch's own descriptors. */
static int add_path(int rootfd, int ruleset, const char *path, uint64_t access, uint64_t handled, struct herror *err)
{
        _cleanup_herror_ struct herror inner = HERROR_INIT;
        _cleanup_close_ int fd = safe_openat(rootfd, path, O_PATH, 0, 0, &inner);
        if (fd < 0) {
                if (fd == -ENOENT)
                        return 0; /* nothing there to allow */
                return herror_set(err, -fd, "landlock: %s", herror_msg(&inner));
        }
        struct stat st;
        if (fstat(fd, &st) < 0)
                return herror_sys(err, errno, "landlock: stat %s", path);
        struct ll_path_beneath_attr pb = { .allowed_access = access & handled, .parent_fd = fd };
        if (!S_ISDIR(st.st_mode))
                pb.allowed_access &= LL_FS_FILE_RIGHTS;
        if (!pb.allowed_access)
                return 0;
        if (syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &pb, 0) < 0)
                return herror_sys(err, errno, "landlock: allow %s", path);
        return 0;
}

/* Kernel interfaces (proc, sysfs, cgroupfs) are read-only to Landlock even when mounted writable: what a
 * workload may write lives in its own files, not in the kernel's. */
static bool mount_is_writable(const struct spec_mount *m)
{
        if (m->flags & MS_RDONLY)
                return false;
        return !m->type ||
                (!streq(m->type, "sysfs") && !streq(m->type, "cgroup") && !streq(m->type, "cgroup2") &&
                 !streq(m->type, "proc"));
}

static int add_default_rules(int rootfd, int ruleset, const struct spec *s, uint64_t all, struct herror *err)
{
        static const char *const devices[] = { "/dev/null",   "/dev/zero",    "/dev/full",
                                               "/dev/random", "/dev/urandom", "/dev/tty" };
        int r = add_path(rootfd, ruleset, "/", s->root_readonly ? LL_FS_READ_EXEC : all, all, err);
        for (size_t i = 0; r == 0 && i < s->n_mounts; i++)
                if (mount_is_writable(&s->mounts[i]))
                        r = add_path(rootfd, ruleset, s->mounts[i].destination, all, all, err);
        for (size_t i = 0; r == 0 && i < ELEMENTSOF(devices); i++)
                r = add_path(rootfd, ruleset, devices[i], all, all, err);
        for (size_t i = 0; r == 0 && i < s->n_devices; i++)
                r = add_path(rootfd, ruleset, s->devices[i].path, all, all, err);
        return r;
}

static int add_ports(int ruleset, const uint16_t *ports, size_t n, uint64_t access, struct herror *err)
{
        for (size_t i = 0; i < n; i++) {
                struct ll_net_port_attr np = { .allowed_access = access, .port = ports[i] };
                if (syscall(SYS_landlock_add_rule, ruleset, LL_RULE_NET_PORT, &np, 0) < 0)
                        return herror_sys(err, errno, "landlock: allow TCP port %u", (unsigned) ports[i]);
        }
        return 0;
}

static int add_file_rules(int rootfd, int ruleset, const struct spec_landlock_rules *rules,
                          const struct ll_ruleset_attr *attr, struct herror *err)
{
        int r = 0;
        for (size_t i = 0; r == 0 && i < rules->n_paths; i++)
                r = add_path(rootfd, ruleset, rules->paths[i].path,
                             rights_for(rules->paths[i].access, attr->handled_access_fs), attr->handled_access_fs, err);
        if (r < 0 || !attr->handled_access_net)
                return r; /* TCP is not fenced here (a shared network, or an ABI before 4): nothing to open */
        r = add_ports(ruleset, rules->tcp_bind, rules->n_tcp_bind, LL_NET_BIND_TCP, err);
        return r < 0 ? r : add_ports(ruleset, rules->tcp_connect, rules->n_tcp_connect, LL_NET_CONNECT_TCP, err);
}

int landlock_restrict_at_abi(const struct spec *s, int abi, struct herror *err)
{
        struct ll_ruleset_attr attr = { .handled_access_fs = fs_rights(abi) };
        /* A network namespace of its own has only loopback (--network none): no TCP there either. */
        if (abi >= 4 && s->namespaces[NS_NET].enabled && !s->namespaces[NS_NET].path)
                attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
        if (abi >= 6)
                attr.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;
        _cleanup_close_ int ruleset = (int) syscall(SYS_landlock_create_ruleset, &attr, attr_size(abi), 0);
        if (ruleset < 0)
                return herror_sys(err, errno, "landlock: create ruleset (ABI %d)", abi);
        _cleanup_close_ int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return herror_sys(err, errno, "landlock: open /");
        const struct spec_landlock_rules *rules = s->landlock_rules;
        int r = 0;
        if (!rules || rules->extends_default)
                r = add_default_rules(rootfd, ruleset, s, attr.handled_access_fs, err);
        if (r == 0 && rules)
                r = add_file_rules(rootfd, ruleset, rules, &attr, err);
        if (r < 0)
                return r;
        if (syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
                return herror_sys(err, errno, "landlock: restrict");
        return 0;
}

int landlock_apply_spec(const struct spec *s, enum landlock_mode mode, int *ret_abi, struct herror *err)
{
        *ret_abi = 0;
        if (mode == LANDLOCK_OFF)
                return 0;
        int abi = kernel_landlock_abi();
        if (abi <= 0) {
                if (mode == LANDLOCK_REQUIRED)
                        return herror_set(err, EOPNOTSUPP, "landlock is required, but this kernel does not offer it");
                return 0;
        }
        int r = landlock_restrict_at_abi(s, abi, err);
        if (r < 0)
                return r;
        *ret_abi = abi;
        return 0;
}

void landlock_abi_hint(int abi, char *buf, size_t size)
{
        static const struct {
                int abi;
                const char *what;
        } newer[] = {
                { 2, "renaming and linking across directories (refer)" },
                { 3, "truncate" },
                { 4, "TCP bind and connect" },
                { 5, "ioctl on devices" },
                { 6, "abstract unix sockets and signals to processes outside" },
        };
        buf[0] = 0;
        if (abi <= 0 || abi >= LANDLOCK_ABI_NEWEST)
                return;
        size_t len = (size_t) snprintf(buf, size,
                                       "hint: this kernel's Landlock ABI is %d (hutch uses up to %d); not fenced:", abi,
                                       LANDLOCK_ABI_NEWEST);
        for (size_t i = 0; i < ELEMENTSOF(newer) && len < size; i++)
                if (newer[i].abi > abi)
                        len += (size_t) snprintf(buf + len, size - len, " %s%s", newer[i].what,
                                                 newer[i].abi < LANDLOCK_ABI_NEWEST ? "," : "; update the kernel");
}
