#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/run-confine.h"
#include "sandbox/kernel.h"
#include "sandbox/landlock.h"
#include "util/cleanup.h"
#include "util/log.h"

void run_confine_done(struct run_confine *c)
{
        spec_landlock_rules_free(c->landlock_rules);
        free(c->apparmor_profile);
        free(c->selinux_process);
        free(c->selinux_mount);
        for (size_t i = 0; i < c->n_unavailable; i++)
                free(c->unavailable[i]);
        *c = (struct run_confine) { 0 };
}

static int note_unavailable(struct run_confine *c, enum confine_layer l, const char *why)
{
        char *line = NULL;
        if (asprintf(&line, "%s: %s", confine_layer_to_string(l), why) < 0)
                return -ENOMEM;
        c->unavailable[c->n_unavailable++] = line;
        return 0;
}

static bool required(const struct run_confine *c, enum confine_layer l)
{
        return c->required & CONFINE_BIT(l);
}

static int decide_seccomp(const struct run_options *o, struct run_confine *c, struct herror *err)
{
        if (!required(c, CONFINE_SECCOMP))
                return 0;
        if (o->seccomp_unconfined)
                return herror_set(err, EINVAL, "--security-opt require=seccomp contradicts seccomp=unconfined");
        if (!kernel_has_seccomp_filter())
                return herror_set(err, EOPNOTSUPP,
                                  "--security-opt require=seccomp: this kernel has no seccomp filters");
        return 0;
}

static const char *landlock_missing(void)
{
        switch (kernel_landlock_errno()) {
        case ENOSYS:
                return "this kernel does not offer Landlock (not built in, or the call is filtered)";
        case EOPNOTSUPP:
                return "Landlock is built into this kernel but not enabled at boot (lsm=)";
        default:
                return "this kernel does not offer Landlock";
        }
}

static int decide_landlock(const struct run_options *o, struct run_confine *c, struct herror *err)
{
        bool off = o->landlock && streq(o->landlock, "off");
        if (off && required(c, CONFINE_LANDLOCK))
                return herror_set(err, EINVAL, "--security-opt require=landlock contradicts landlock=off");
        c->landlock_mode = off ? "off" : required(c, CONFINE_LANDLOCK) ? "required" : "default";
        if (o->landlock_rules) {
                int r = spec_load_landlock_rules(AT_FDCWD, o->landlock_rules, &c->landlock_rules, err);
                if (r < 0)
                        return herror_wrap(err, "--security-opt landlock");
        }
        if (off)
                return 0;
        int abi = kernel_landlock_abi();
        if (abi <= 0 && required(c, CONFINE_LANDLOCK))
                return herror_set(err, EOPNOTSUPP, "--security-opt require=landlock: %s", landlock_missing());
        if (abi <= 0 && o->landlock_rules)
                return herror_set(err, EOPNOTSUPP, "--security-opt landlock=%s: %s", o->landlock_rules,
                                  landlock_missing());
        if (abi <= 0)
                return note_unavailable(c, CONFINE_LANDLOCK, landlock_missing()) < 0
                        ? herror_set(err, ENOMEM, "out of memory")
                        : 0;
        landlock_abi_hint(abi, c->landlock_hint, sizeof c->landlock_hint);
        return 0;
}

static int decide_lsms(const struct run_options *o, struct run_confine *c, struct herror *err)
{
        const char *why = NULL;
        int r = lsm_apparmor_select(&c->host, o->apparmor, required(c, CONFINE_APPARMOR), &c->apparmor_profile, &why,
                                    err);
        if (r < 0)
                return herror_wrap(err, "--security-opt apparmor");
        if (why && note_unavailable(c, CONFINE_APPARMOR, why) < 0)
                return herror_set(err, ENOMEM, "out of memory");
        r = lsm_selinux_select(&c->host, &o->selinux, required(c, CONFINE_SELINUX), &c->selinux_process,
                               &c->selinux_mount, &why, err);
        if (r < 0)
                return herror_wrap(err, "--security-opt label");
        if (why && note_unavailable(c, CONFINE_SELINUX, why) < 0)
                return herror_set(err, ENOMEM, "out of memory");
        return 0;
}

int run_confine_decide(const struct run_options *o, struct run_confine *c, struct herror *err)
{
        *c = (struct run_confine) { .required = o->require };
        if (o->landlock && streq(o->landlock, "required"))
                c->required |= CONFINE_BIT(CONFINE_LANDLOCK);
        lsm_probe(&c->host);
        int r = decide_seccomp(o, c, err);
        if (r < 0 || (r = decide_landlock(o, c, err)) < 0)
                return r;
        return decide_lsms(o, c, err);
}

int run_confine_relabel(const struct run_confine *c, const struct spec_run_mount *m, size_t n, struct herror *err)
{
        char shared[LSM_LABEL_MAX];
        for (size_t i = 0; i < n; i++) {
                if (!m[i].relabel)
                        continue;
                if (!c->selinux_mount) {
                        log_debug("-v %s:%s:%c: no SELinux label for this container, nothing to relabel", m[i].source,
                                  m[i].destination, m[i].relabel);
                        continue;
                }
                const char *label = c->selinux_mount;
                /* :z: the file label at level s0, which every container's MCS range dominates */
                int r = m[i].relabel == 'z'
                        ? lsm_selinux_label_build(c->selinux_mount, NULL, NULL, NULL, "s0", shared, sizeof shared, err)
                        : 0;
                if (r < 0 ||
                    (r = lsm_relabel_tree(&c->host, m[i].source, m[i].relabel == 'z' ? shared : label, err)) < 0)
                        return herror_wrap(err, "-v %s:%s:%c", m[i].source, m[i].destination, m[i].relabel);
        }
        return 0;
}

void run_confine_log(const struct run_confine *c)
{
        if (c->n_unavailable) {
                char line[1024] = "";
                size_t len = 0;
                for (size_t i = 0; i < c->n_unavailable && len < sizeof line; i++)
                        len += (size_t) snprintf(line + len, sizeof line - len, "%s%s", i ? "; " : "",
                                                 c->unavailable[i]);
                log_info("not applied, unavailable on this host: %s", line);
        }
        if (c->landlock_hint[0])
                log_info("landlock: %s", c->landlock_hint);
}
