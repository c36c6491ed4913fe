/* Which AppArmor profile and SELinux labels a container gets, decided before any fork from what was
 * asked for and what the host offers (struct lsm_host): pure functions, so every branch is unit-tested
 * on a host that has neither LSM. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "sandbox/lsm.h"
#include "util/cleanup.h"

static const char *const layer_names[_CONFINE_MAX] = {
        [CONFINE_SECCOMP] = "seccomp",
        [CONFINE_LANDLOCK] = "landlock",
        [CONFINE_APPARMOR] = "apparmor",
        [CONFINE_SELINUX] = "selinux",
};

const char *confine_layer_to_string(enum confine_layer l)
{
        return l >= 0 && l < _CONFINE_MAX ? layer_names[l] : NULL;
}

int confine_parse_require(const char *list, unsigned *ret, struct herror *err)
{
        unsigned bits = 0;
        const char *p = list;
        for (;;) {
                size_t len = strcspn(p, ",");
                int found = -1;
                for (int l = 0; l < _CONFINE_MAX && found < 0; l++)
                        if (strlen(layer_names[l]) == len && strncmp(p, layer_names[l], len) == 0)
                                found = l;
                if (found < 0)
                        return herror_set(err, EINVAL,
                                          "require=%s: \"%.*s\" is not one of landlock, apparmor, selinux, seccomp",
                                          list, (int) len, p);
                bits |= CONFINE_BIT(found);
                if (!p[len])
                        break;
                p += len + 1;
        }
        *ret |= bits;
        return 0;
}

/* ---- AppArmor ---- */

static int set_profile(const char *name, char **ret_profile, struct herror *err)
{
        if (!(*ret_profile = strdup(name)))
                return herror_set(err, ENOMEM, "out of memory");
        return 0;
}

int lsm_apparmor_select(const struct lsm_host *h, const char *asked, bool required, char **ret_profile,
                        const char **ret_unavailable, struct herror *err)
{
        *ret_profile = NULL;
        *ret_unavailable = NULL;
        if (asked && streq(asked, "unconfined")) {
                if (required)
                        return herror_set(err, EINVAL, "require=apparmor contradicts apparmor=unconfined");
                return 0;
        }
        if (asked) {
                if (!asked[0] || strlen(asked) >= 4096 || strchr(asked, '\n'))
                        return herror_set(err, EINVAL, "apparmor=\"%s\" is not a profile name", asked);
                if (!h->apparmor)
                        return herror_set(err, EOPNOTSUPP,
                                          "AppArmor profile \"%s\" asked for, but AppArmor is not active on this host",
                                          asked);
                if (streq(asked, LSM_APPARMOR_DEFAULT) && !h->apparmor_default_loaded)
                        return herror_set(err, EOPNOTSUPP,
                                          "AppArmor profile \"%s\" is not loaded (as root: apparmor_parser -r "
                                          "/etc/apparmor.d/%s)",
                                          asked, asked);
                return set_profile(asked, ret_profile, err);
        }
        if (h->apparmor && h->apparmor_default_loaded)
                return set_profile(LSM_APPARMOR_DEFAULT, ret_profile, err);
        *ret_unavailable = !h->apparmor ? "AppArmor is not active on this host"
                                        : "AppArmor is active, but the profile " LSM_APPARMOR_DEFAULT " is not loaded";
        if (required)
                return herror_set(err, EOPNOTSUPP, "require=apparmor: %s", *ret_unavailable);
        return 0;
}

/* ---- SELinux ---- */

void lsm_selinux_opts_done(struct lsm_selinux_opts *o)
{
        free(o->user);
        free(o->role);
        free(o->type);
        free(o->level);
        free(o->filetype);
        *o = (struct lsm_selinux_opts) { 0 };
}

bool lsm_selinux_opts_any(const struct lsm_selinux_opts *o)
{
        return o->user || o->role || o->type || o->level || o->filetype;
}

static char **opt_slot(struct lsm_selinux_opts *o, const char *piece, size_t *ret_keylen)
{
        static const char *const keys[] = { "user:", "role:", "type:", "level:", "filetype:" };
        char **slots[] = { &o->user, &o->role, &o->type, &o->level, &o->filetype };
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (strncmp(piece, keys[i], strlen(keys[i])) == 0) {
                        *ret_keylen = strlen(keys[i]);
                        return slots[i];
                }
        return NULL;
}

/* A label part holds no whitespace and nothing a context cannot: refuse it here with the option named. */
static bool part_valid(const char *v)
{
        if (!v[0] || strlen(v) >= LSM_LABEL_MAX)
                return false;
        for (const char *c = v; *c; c++)
                if (*c <= ' ' || *c == '"' || *c == '\\' || *c == 0x7f)
                        return false;
        return true;
}

int lsm_selinux_opts_add(struct lsm_selinux_opts *o, const char *value, struct herror *err)
{
        _cleanup_free_ char *copy = strdup(value);
        if (!copy)
                return herror_set(err, ENOMEM, "out of memory");
        char **last = NULL, *save = NULL;
        for (char *piece = strtok_r(copy, ",", &save); piece; piece = strtok_r(NULL, ",", &save)) {
                size_t keylen = 0;
                char **slot = opt_slot(o, piece, &keylen);
                if (streq(piece, "disable")) {
                        o->disable = true;
                        last = NULL;
                        continue;
                }
                if (!slot && last && last == &o->level) {
                        /* "level:s0:c1,c2": the comma belongs to the level */
                        char *joined = NULL;
                        if (asprintf(&joined, "%s,%s", o->level, piece) < 0)
                                return herror_set(err, ENOMEM, "out of memory");
                        free(o->level);
                        o->level = joined;
                        if (!part_valid(o->level))
                                return herror_set(err, EINVAL, "label=%s: \"%s\" is not a valid level", value,
                                                  o->level);
                        continue;
                }
                if (!slot)
                        return herror_set(err, EINVAL,
                                          "label=%s: \"%s\" is not one of user:, role:, type:, level:, filetype:, "
                                          "disable",
                                          value, piece);
                if (!part_valid(piece + keylen))
                        return herror_set(err, EINVAL, "label=%s: \"%s\" has an empty or invalid value", value, piece);
                free(*slot);
                if (!(*slot = strdup(piece + keylen)))
                        return herror_set(err, ENOMEM, "out of memory");
                last = slot;
        }
        if (o->disable && lsm_selinux_opts_any(o))
                return herror_set(err, EINVAL, "label=disable cannot be combined with other label= options");
        return 0;
}

int lsm_selinux_label_build(const char *base, const char *user, const char *role, const char *type, const char *level,
                            char *buf, size_t size, struct herror *err)
{
        char b[LSM_LABEL_MAX];
        snprintf(b, sizeof b, "%s", base);
        /* user:role:type[:level...]; the level is the rest, colons included (s0:c1,c2 or s0-s0:c0.c1023) */
        char *u = b, *r = strchr(u, ':'), *t = r ? strchr(r + 1, ':') : NULL;
        if (!r || !t)
                return herror_set(err, EINVAL, "SELinux context \"%s\" is not user:role:type[:level]", base);
        *r++ = 0;
        *t++ = 0;
        char *l = strchr(t, ':');
        if (l)
                *l++ = 0;
        const char *lv = level ? level : l;
        int n = snprintf(buf, size, "%s:%s:%s%s%s", user ? user : u, role ? role : r, type ? type : t, lv ? ":" : "",
                         lv ? lv : "");
        if (n < 0 || (size_t) n >= size || !u[0] || !r[0] || !t[0])
                return herror_set(err, EINVAL, "SELinux context built from \"%s\" is empty in a part or too long",
                                  base);
        return 0;
}

int lsm_mcs_pick(char *buf, size_t size, struct herror *err)
{
        uint16_t r[2];
        do {
                if (getrandom(r, sizeof r, 0) != sizeof r)
                        return herror_sys(err, errno, "getrandom for an MCS level");
                r[0] %= 1024;
                r[1] %= 1024;
        } while (r[0] == r[1]);
        unsigned lo = r[0] < r[1] ? r[0] : r[1], hi = r[0] < r[1] ? r[1] : r[0];
        snprintf(buf, size, "s0:c%u,c%u", lo, hi);
        return 0;
}

static int build_pair(const struct lsm_host *h, const struct lsm_selinux_opts *o, char **ret_process, char **ret_mount,
                      struct herror *err)
{
        char mcs[32], proc[LSM_LABEL_MAX], file[LSM_LABEL_MAX];
        int r = o->level ? 0 : lsm_mcs_pick(mcs, sizeof mcs, err);
        const char *level = o->level ? o->level : mcs;
        if (r < 0 ||
            (r = lsm_selinux_label_build(h->selinux_process_base, o->user, o->role, o->type, level, proc, sizeof proc,
                                         err)) < 0 ||
            (r = lsm_selinux_label_build(h->selinux_file_base, NULL, NULL, o->filetype, level, file, sizeof file,
                                         err)) < 0)
                return r;
        *ret_process = strdup(proc);
        *ret_mount = strdup(file);
        if (!*ret_process || !*ret_mount) {
                free(*ret_process);
                free(*ret_mount);
                *ret_process = *ret_mount = NULL;
                return herror_set(err, ENOMEM, "out of memory");
        }
        return 0;
}

static const char *selinux_missing(const struct lsm_host *h)
{
        if (!h->selinux)
                return "SELinux is not enabled on this host";
        if (!HAVE_SELINUX)
                return "hutch was built without libselinux";
        if (!h->selinux_enforcing)
                return "SELinux is permissive on this host";
        if (!h->selinux_container_type)
                return "the loaded SELinux policy has no container type (container-selinux is not installed)";
        return NULL;
}

int lsm_selinux_select(const struct lsm_host *h, const struct lsm_selinux_opts *o, bool required, char **ret_process,
                       char **ret_mount, const char **ret_unavailable, struct herror *err)
{
        *ret_process = *ret_mount = NULL;
        *ret_unavailable = NULL;
        if (o->disable) {
                if (required)
                        return herror_set(err, EINVAL, "require=selinux contradicts label=disable");
                return 0;
        }
        if (lsm_selinux_opts_any(o)) {
                if (!h->selinux || !HAVE_SELINUX)
                        return herror_set(err, EOPNOTSUPP,
                                          "an SELinux label was asked for (--security-opt label=), but %s",
                                          !h->selinux ? "SELinux is not enabled on this host"
                                                      : "hutch was built without libselinux");
                return build_pair(h, o, ret_process, ret_mount, err);
        }
        const char *missing = selinux_missing(h);
        if (!missing)
                return build_pair(h, o, ret_process, ret_mount, err);
        *ret_unavailable = missing;
        if (required)
                return herror_set(err, EOPNOTSUPP, "require=selinux: %s", missing);
        return 0;
}
