#include <grp.h>
#include <linux/capability.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "sandbox/caps.h"

static int drop_bounding(uint64_t keep)
{
        int last = (int) cap_max_bits() - 1;
        for (int c = 0; c <= last && c < 64; c++) {
                if (keep & (UINT64_C(1) << c))
                        continue;
                if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
                        return -errno;
        }
        return 0;
}

static int switch_user(const struct spec_process *p, bool setgroups_allowed)
{
        if (setgroups_allowed) {
                /* uint32_t and gid_t are the same width on Linux; no copy needed. */
                _Static_assert(sizeof(gid_t) == sizeof(uint32_t), "gid_t is 32 bits");
                if (setgroups(p->n_additional_gids, (const gid_t *) p->additional_gids) < 0)
                        return -errno;
        }
        if (setresgid(p->gid, p->gid, p->gid) < 0)
                return -errno;
        if (setresuid(p->uid, p->uid, p->uid) < 0)
                return -errno;
        return 0;
}

static int set_sets(const struct spec_process *p)
{
        struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
        struct __user_cap_data_struct data[2] = { 0 };
        for (int i = 0; i < 2; i++) {
                data[i].effective = (uint32_t) (p->caps[CAPSET_EFFECTIVE] >> (32 * i));
                data[i].permitted = (uint32_t) (p->caps[CAPSET_PERMITTED] >> (32 * i));
                data[i].inheritable = (uint32_t) (p->caps[CAPSET_INHERITABLE] >> (32 * i));
        }
        if (capset(&hdr, data) < 0)
                return -errno;
        return 0;
}

static int set_ambient(uint64_t ambient)
{
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return -errno;
        for (int c = 0; c < 64; c++)
                if ((ambient & (UINT64_C(1) << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
                        return -errno;
        return 0;
}

int caps_apply(const struct spec_process *p, bool setgroups_allowed, const char **ret_step)
{
        int r;
        *ret_step = "drop the capability bounding set";
        if ((r = drop_bounding(p->caps[CAPSET_BOUNDING])) < 0)
                return r;
        /* KEEPCAPS so the permitted set survives leaving uid 0; it is cleared again right after. */
        *ret_step = "set keepcaps";
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                return -errno;
        *ret_step = "switch to process.user";
        if ((r = switch_user(p, setgroups_allowed)) < 0)
                return r;
        if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
                return -errno;
        *ret_step = "set capabilities";
        if ((r = set_sets(p)) < 0)
                return r;
        *ret_step = "raise ambient capabilities";
        return set_ambient(p->caps[CAPSET_AMBIENT]);
}
