#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/kernel.h"
#include "sandbox/landlock.h"

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

static int add_path(int ruleset, const char *path, uint64_t access, uint64_t handled, struct herror *err)
{
        _cleanup_close_ int fd = open(path, O_PATH | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return 0; /* nothing there to allow */
                return herror_sys(err, errno, "landlock: open %s", path);
        }
        struct stat st;
        if (fstat(fd, &st) < 0)
                return herror_sys(err, errno, "landlock: stat %s", path);
        struct ll_path_beneath_attr pb = { .allowed_access = access & handled, .parent_fd = fd };
        if (!S_ISDIR(st.st_mode))
                pb.allowed_access &= LL_FS_FILE_RIGHTS;
        if (syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &pb, 0) < 0)
                return herror_sys(err, errno, "landlock: allow %s", path);
        return 0;
}

static bool mount_is_writable(const struct spec_mount *m)
{
        if (m->flags & MS_RDONLY)
                return false;
        return !m->type || (!streq(m->type, "sysfs") && !streq(m->type, "cgroup") && !streq(m->type, "cgroup2"));
}

static int add_spec_rules(int ruleset, const struct spec *s, uint64_t all, struct herror *err)
{
        static const char *const devices[] = { "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty" };
        int r = add_path(ruleset, "/", s->root_readonly ? LL_FS_READ_EXEC : all, all, err);
        for (size_t i = 0; r == 0 && i < s->n_mounts; i++)
                if (mount_is_writable(&s->mounts[i]))
                        r = add_path(ruleset, s->mounts[i].destination, all, all, err);
        for (size_t i = 0; r == 0 && i < ELEMENTSOF(devices); i++)
                r = add_path(ruleset, devices[i], all, all, err);
        for (size_t i = 0; r == 0 && i < s->n_devices; i++)
                r = add_path(ruleset, s->devices[i].path, all, all, err);
        return r;
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
        struct ll_ruleset_attr attr = { .handled_access_fs = fs_rights(abi) };
        /* A network namespace of its own has only loopback (--network none): no TCP there either. */
        if (abi >= 4 && s->namespaces[NS_NET].enabled && !s->namespaces[NS_NET].path)
                attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
        if (abi >= 6)
                attr.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;
        _cleanup_close_ int ruleset = (int) syscall(SYS_landlock_create_ruleset, &attr, attr_size(abi), 0);
        if (ruleset < 0)
                return herror_sys(err, errno, "landlock: create ruleset (ABI %d)", abi);
        int r = add_spec_rules(ruleset, s, attr.handled_access_fs, err);
        if (r < 0)
                return r;
        if (syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
                return herror_sys(err, errno, "landlock: restrict");
        *ret_abi = abi;
        return 0;
}
