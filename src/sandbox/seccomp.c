#include <linux/seccomp.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sandbox/seccomp.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/sha256.h"

static void seccomp_releasep(scmp_filter_ctx *c)
{
        if (*c)
                seccomp_release(*c);
}

static int action_to_scmp(enum spec_seccomp_action a, bool has_errno, uint32_t errno_ret, uint32_t *ret)
{
        switch (a) {
        case SECCOMP_ACT_KILL_THREAD:
                *ret = SCMP_ACT_KILL_THREAD;
                return 0;
        case SECCOMP_ACT_KILL_PROCESS:
                *ret = SCMP_ACT_KILL_PROCESS;
                return 0;
        case SECCOMP_ACT_TRAP:
                *ret = SCMP_ACT_TRAP;
                return 0;
        case SECCOMP_ACT_ERRNO:
                *ret = SCMP_ACT_ERRNO(has_errno ? errno_ret : EPERM);
                return 0;
        case SECCOMP_ACT_TRACE:
                *ret = SCMP_ACT_TRACE(has_errno ? errno_ret : EPERM);
                return 0;
        case SECCOMP_ACT_ALLOW:
                *ret = SCMP_ACT_ALLOW;
                return 0;
        case SECCOMP_ACT_LOG:
                *ret = SCMP_ACT_LOG;
                return 0;
        case SECCOMP_ACT_NOTIFY:
        case _SECCOMP_ACT_MAX:
        case _SECCOMP_ACT_INVALID:
        default:
                return -EOPNOTSUPP;
        }
}

static enum scmp_compare op_to_scmp(enum spec_seccomp_op op)
{
        switch (op) {
        case SECCOMP_OP_NE:
                return SCMP_CMP_NE;
        case SECCOMP_OP_LT:
                return SCMP_CMP_LT;
        case SECCOMP_OP_LE:
                return SCMP_CMP_LE;
        case SECCOMP_OP_EQ:
                return SCMP_CMP_EQ;
        case SECCOMP_OP_GE:
                return SCMP_CMP_GE;
        case SECCOMP_OP_GT:
                return SCMP_CMP_GT;
        case SECCOMP_OP_MASKED_EQ:
                return SCMP_CMP_MASKED_EQ;
        case _SECCOMP_OP_MAX:
        case _SECCOMP_OP_INVALID:
        default:
                return _SCMP_CMP_MIN;
        }
}

static bool arch_runs_here(uint32_t token)
{
        uint32_t native = seccomp_arch_native();
        if (token == native)
                return true;
        switch (native) {
        case SCMP_ARCH_X86_64:
                return token == SCMP_ARCH_X86 || token == SCMP_ARCH_X32;
        case SCMP_ARCH_AARCH64:
                return token == SCMP_ARCH_ARM;
        case SCMP_ARCH_PPC64:
                return token == SCMP_ARCH_PPC;
        case SCMP_ARCH_S390X:
                return token == SCMP_ARCH_S390;
        default:
                return false;
        }
}

static int add_arches(scmp_filter_ctx ctx, char **arches, struct herror *err)
{
        for (size_t i = 0; arches && arches[i]; i++) {
                const char *a = arches[i];
                if (strncmp(a, "SCMP_ARCH_", 10) != 0)
                        return herror_set(err, EINVAL, ".linux.seccomp.architectures[%zu]: unknown architecture \"%s\"",
                                          i, a);
                char lower[32];
                size_t k;
                for (k = 0; a[10 + k] && k < sizeof lower - 1; k++)
                        lower[k] = (char) (a[10 + k] >= 'A' && a[10 + k] <= 'Z' ? a[10 + k] + 32 : a[10 + k]);
                lower[k] = 0;
                uint32_t token = seccomp_arch_resolve_name(lower);
                if (!token)
                        return herror_set(err, EINVAL, ".linux.seccomp.architectures[%zu]: unknown architecture \"%s\"",
                                          i, a);
                /* A profile lists arches for every host; only those this kernel can execute matter here, and
                 * each one compiled in costs start-up time on every launch. */
                if (!arch_runs_here(token))
                        continue;
                int r = seccomp_arch_add(ctx, token);
                if (r < 0 && r != -EEXIST)
                        return herror_set(err, -r, ".linux.seccomp.architectures[%zu]: cannot add \"%s\"", i, a);
        }
        return 0;
}

/* libseccomp refuses two conditions on the same argument in one rule; like runc, such a rule
 * becomes one rule per condition. */
static bool args_share_index(const struct spec_seccomp_rule *rule)
{
        for (size_t i = 0; i < rule->n_args; i++)
                for (size_t k = 0; k < i; k++)
                        if (rule->args[i].index == rule->args[k].index)
                                return true;
        return false;
}

static int add_rule(scmp_filter_ctx ctx, uint32_t default_action, const struct spec_seccomp_rule *rule, size_t idx,
                    struct herror *err)
{
        uint32_t action;
        if (action_to_scmp(rule->action, rule->has_errno_ret, rule->errno_ret, &action) < 0)
                return herror_set(err, EOPNOTSUPP, ".linux.seccomp.syscalls[%zu].action: not supported", idx);
        if (action == default_action)
                return 0;
        struct scmp_arg_cmp cmps[6];
        for (size_t i = 0; i < rule->n_args; i++) {
                cmps[i] = (struct scmp_arg_cmp) {
                        .arg = rule->args[i].index,
                        .op = op_to_scmp(rule->args[i].op),
                        .datum_a = rule->args[i].value,
                        .datum_b = rule->args[i].value_two,
                };
        }
        bool split = args_share_index(rule);
        for (size_t n = 0; rule->names && rule->names[n]; n++) {
                int nr = seccomp_syscall_resolve_name(rule->names[n]);
                if (nr == __NR_SCMP_ERROR) {
                        /* Unknown to this libseccomp (a newer kernel's call): as runc and crun do, skip it;
                         * the default action covers it. */
                        log_debug("seccomp: syscall \"%s\" unknown to libseccomp, skipped", rule->names[n]);
                        continue;
                }
                int r = 0;
                if (!split)
                        r = seccomp_rule_add_array(ctx, action, nr, (unsigned) rule->n_args, cmps);
                else
                        for (size_t i = 0; i < rule->n_args && r == 0; i++)
                                r = seccomp_rule_add_array(ctx, action, nr, 1, &cmps[i]);
                if (r < 0)
                        return herror_set(err, -r, ".linux.seccomp.syscalls[%zu]: cannot add rule for \"%s\": %s", idx,
                                          rule->names[n], strerror(-r));
        }
        return 0;
}

int seccomp_export_program(void *ctx, struct seccomp_program *ret, struct herror *err)
{
        _cleanup_close_ int fd = memfd_create("hutch-seccomp", MFD_CLOEXEC);
        if (fd < 0)
                return herror_sys(err, errno, "memfd_create");
        int r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return herror_set(err, -r, "seccomp: cannot export the filter: %s", strerror(-r));
        struct stat st;
        if (fstat(fd, &st) < 0)
                return herror_sys(err, errno, "fstat");
        if (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) ||
            st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS)
                return herror_set(err, E2BIG, "seccomp: the compiled filter has %lld bytes, more than the kernel takes",
                                  (long long) st.st_size);
        struct sock_filter *insns = malloc((size_t) st.st_size);
        if (!insns)
                return herror_set(err, ENOMEM, "seccomp: out of memory");
        if (pread(fd, insns, (size_t) st.st_size, 0) != st.st_size) {
                free(insns);
                return herror_sys(err, errno, "seccomp: read back the filter");
        }
        ret->insns = insns;
        ret->len = (unsigned short) (st.st_size / sizeof(struct sock_filter));
        return 0;
}

static unsigned program_flags(const struct spec_seccomp *sc);

int seccomp_compile(const struct spec_seccomp *sc, struct seccomp_program *ret, struct herror *err)
{
        uint32_t def;
        if (action_to_scmp(sc->default_action, sc->has_default_errno_ret, sc->default_errno_ret, &def) < 0)
                return herror_set(err, EOPNOTSUPP, ".linux.seccomp.defaultAction: not supported");
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = seccomp_init(def);
        if (!ctx)
                return herror_set(err, ENOMEM, "seccomp_init failed");
        /* no_new_privs is hutch's decision (process.noNewPrivileges), not libseccomp's. */
        seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        /* A binary tree over syscall numbers instead of one comparison per rule: the default profile's
         * program shrinks and the kernel's load (verify + JIT, paid by every launch) and each filtered
         * syscall get cheaper. Best effort: an older libseccomp keeps the linear program. */
        seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
        int r = add_arches(ctx, sc->architectures, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < sc->n_rules; i++)
                if ((r = add_rule(ctx, def, &sc->rules[i], i, err)) < 0)
                        return r;
        struct seccomp_program p = { 0 };
        if ((r = seccomp_export_program(ctx, &p, err)) < 0)
                return r;
        p.flags = program_flags(sc);
        *ret = p;
        return 0;
}

int seccomp_program_load(const struct seccomp_program *p)
{
        struct sock_fprog prog = { .len = p->len, .filter = p->insns };
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p->flags, &prog) < 0)
                return -errno;
        return 0;
}

void seccomp_program_free(struct seccomp_program *p)
{
        free(p->insns);
        p->insns = NULL;
        p->len = 0;
}

/* ---- the cache ---- */

static void hash_bytes(struct sha256 *h, const void *p, size_t n)
{
        sha256_update(h, p, n);
}

static void hash_str(struct sha256 *h, const char *s)
{
        uint32_t n = s ? (uint32_t) strlen(s) : UINT32_MAX;
        hash_bytes(h, &n, sizeof n);
        if (s)
                hash_bytes(h, s, n);
}

static void hash_strv(struct sha256 *h, char **v)
{
        uint32_t n = 0;
        while (v && v[n])
                n++;
        hash_bytes(h, &n, sizeof n);
        for (uint32_t i = 0; i < n; i++)
                hash_str(h, v[i]);
}

/* Every field that changes the program, in a fixed order, with lengths: no two profiles collide. */
static int cache_key(const struct spec_seccomp *sc, char ret[65])
{
        struct sha256 hs, *h = &hs;
        sha256_init(h);
        const struct scmp_version *v = seccomp_version();
        uint32_t head[6] = { 2 /* key format; 2: binary-tree programs */,
                             v->major,
                             v->minor,
                             v->micro,
                             seccomp_arch_native(),
                             (uint32_t) sc->n_rules };
        hash_bytes(h, head, sizeof head);
        int32_t def[4] = { sc->default_action, sc->has_default_errno_ret, (int32_t) sc->default_errno_ret,
                           (int32_t) sc->flags };
        hash_bytes(h, def, sizeof def);
        hash_strv(h, sc->architectures);
        for (size_t i = 0; i < sc->n_rules; i++) {
                const struct spec_seccomp_rule *r = &sc->rules[i];
                hash_strv(h, r->names);
                int32_t a[4] = { r->action, r->has_errno_ret, (int32_t) r->errno_ret, (int32_t) r->n_args };
                hash_bytes(h, a, sizeof a);
                for (size_t k = 0; k < r->n_args; k++) {
                        uint64_t arg[4] = { r->args[k].index, r->args[k].value, r->args[k].value_two,
                                            (uint64_t) r->args[k].op };
                        hash_bytes(h, arg, sizeof arg);
                }
        }
        uint8_t md[SHA256_DIGEST_SIZE];
        sha256_final(h, md);
        sha256_to_hex(md, ret);
        return 0;
}

/* The cache directory, created 0700; refused unless it is ours and private. */
static int open_cache_dir(void)
{
        const char *e = getenv("HUTCH_SECCOMP_CACHE");
        if (e && streq(e, "0"))
                return -ENOENT;
        char path[4096];
        const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
        if (e && e[0] == '/')
                snprintf(path, sizeof path, "%s/seccomp", e);
        else if (geteuid() == 0)
                snprintf(path, sizeof path, "/var/cache/hutch/seccomp");
        else if (xdg && xdg[0] == '/')
                snprintf(path, sizeof path, "%s/hutch/seccomp", xdg);
        else if (home && home[0] == '/') /* XDG's default */
                snprintf(path, sizeof path, "%s/.cache/hutch/seccomp", home);
        else
                return -ENOENT;
        /* a fresh account may have no cache directory yet: without it the cache would stay off */
        if (mkdir_p(path, 0700, NULL) < 0)
                return -ENOENT;
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 077)) {
                close(fd);
                return -EPERM;
        }
        return fd;
}

static int cache_load(int dirfd, const char *name, struct seccomp_program *ret)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        if (read_file_at(dirfd, name, BPF_MAXINSNS * sizeof(struct sock_filter), &data, &len, NULL) < 0)
                return -ENOENT;
        if (len == 0 || len % sizeof(struct sock_filter))
                return -EINVAL;
        ret->insns = (struct sock_filter *) TAKE_PTR(data);
        ret->len = (unsigned short) (len / sizeof(struct sock_filter));
        return 0;
}

static unsigned program_flags(const struct spec_seccomp *sc)
{
        unsigned f = 0;
        if (sc->flags & SPEC_SECCOMP_FLAG_TSYNC)
                f |= SECCOMP_FILTER_FLAG_TSYNC;
        if (sc->flags & SPEC_SECCOMP_FLAG_LOG)
                f |= SECCOMP_FILTER_FLAG_LOG;
        if (sc->flags & SPEC_SECCOMP_FLAG_SPEC_ALLOW)
                f |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
        if (sc->flags & SPEC_SECCOMP_FLAG_WAIT_KILLABLE_RECV)
                f |= SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
        return f;
}

int seccomp_compile_cached(const struct spec_seccomp *sc, struct seccomp_program *ret, bool *ret_cached,
                           struct herror *err)
{
        char key[65], name[80];
        *ret_cached = false;
        _cleanup_close_ int dirfd = cache_key(sc, key) == 0 ? open_cache_dir() : -1;
        if (dirfd >= 0) {
                snprintf(name, sizeof name, "%s.bpf", key);
                if (cache_load(dirfd, name, ret) == 0) {
                        ret->flags = program_flags(sc);
                        *ret_cached = true;
                        return 0;
                }
        }
        int r = seccomp_compile(sc, ret, err);
        if (r < 0 || dirfd < 0)
                return r;
        /* best effort: a cache we cannot write only costs the next launch a compile */
        atomic_write_at(dirfd, name, ret->insns, ret->len * sizeof(struct sock_filter), 0600, NULL);
        return 0;
}
