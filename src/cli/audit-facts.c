#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>

#include "cli/audit-facts.h"
#include "util/cleanup.h"

const char *cli_cap_name(int cap)
{
        static char names[64][32];
        if (cap < 0 || cap >= 64)
                return NULL;
        if (!names[cap][0]) {
                char *n = cap_to_name((cap_value_t) cap);
                if (!n)
                        return NULL;
                /* libcap answers a bare number for capabilities newer than itself */
                bool named = !isdigit((unsigned char) n[0]);
                snprintf(names[cap], sizeof names[cap], "%s", n);
                cap_free(n);
                if (!named) {
                        names[cap][0] = 0;
                        return NULL;
                }
                for (char *p = names[cap]; *p; p++)
                        *p = (char) toupper((unsigned char) *p);
        }
        return names[cap];
}

void audit_facts_done(struct audit_facts *f)
{
        free(f->uid_map);
        free(f->gid_map);
        free(f->volumes);
        *f = (struct audit_facts) { 0 };
}

static struct audit_idmap *idmaps(const struct spec_idmap *m, size_t n)
{
        struct audit_idmap *v = calloc(n ? n : 1, sizeof *v);
        for (size_t i = 0; v && i < n; i++)
                v[i] = (struct audit_idmap) { m[i].container_id, m[i].host_id, m[i].size };
        return v;
}

void audit_facts_fill(struct audit_facts *f, const struct spec *s, int landlock_abi, struct audit_record *r)
{
        size_t nc = 0, nn = 0, nv = 0;
        for (int c = 0; c < 64; c++)
                if ((s->process.caps[CAPSET_EFFECTIVE] & (1ull << c)) && cli_cap_name(c))
                        f->caps[nc++] = cli_cap_name(c);
        r->caps = f->caps;
        r->n_caps = nc;
        for (int t = 0; t < _NS_TYPE_MAX; t++)
                if (s->namespaces[t].enabled)
                        f->ns[nn++] = spec_ns_type_to_string((enum spec_ns_type) t);
        r->namespaces = f->ns;
        r->n_namespaces = nn;
        if ((f->uid_map = idmaps(s->uid_mappings, s->n_uid_mappings)))
                r->uid_map = f->uid_map, r->n_uid_map = s->n_uid_mappings;
        if ((f->gid_map = idmaps(s->gid_mappings, s->n_gid_mappings)))
                r->gid_map = f->gid_map, r->n_gid_map = s->n_gid_mappings;
        if ((f->volumes = calloc(s->n_mounts + 1, sizeof *f->volumes)))
                for (size_t i = 0; i < s->n_mounts; i++)
                        if (s->mounts[i].bind && s->mounts[i].source)
                                f->volumes[nv++] = s->mounts[i].source;
        r->volumes = f->volumes;
        r->n_volumes = nv;
        r->argv = (const char *const *) s->process.args;
        r->n_argv = 0;
        for (char **a = s->process.args; a && *a; a++)
                r->n_argv++;
        r->apparmor_profile = s->process.apparmor_profile;
        r->selinux_label = s->process.selinux_label;
        const char *mode = spec_annotation(s, SPEC_ANNOTATION_LANDLOCK);
        if (landlock_abi > 0)
                snprintf(f->landlock, sizeof f->landlock, "%s abi %d",
                         mode && streq(mode, "required") ? "required" : "best-effort", landlock_abi);
        else
                snprintf(f->landlock, sizeof f->landlock, "off");
        r->landlock = f->landlock;
}
