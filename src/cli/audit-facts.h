/* What an audit record says about a container's confinement, read from its typed spec: used by both
 * faces (hutch run and hutch-runtime), so their records describe confinement the same way. */
#pragma once
#include "audit/audit.h"
#include "spec/spec.h"

/* "CAP_CHOWN" for 0, ...; NULL for numbers libcap does not name. Static storage. */
const char *cli_cap_name(int cap);

/* The arrays a record borrows; freed by audit_facts_done. */
struct audit_facts {
        char landlock[64];
        const char *caps[64];
        const char *ns[_NS_TYPE_MAX];
        struct audit_idmap *uid_map, *gid_map;
        const char **volumes;
};

/* Effective capabilities, namespaces, ID maps, bind-mount sources, argv, LSM labels and the Landlock mode
 * (from the spec's annotation) with the ABI the init applied (0: none). */
void audit_facts_fill(struct audit_facts *f, const struct spec *s, int landlock_abi, struct audit_record *r);
void audit_facts_done(struct audit_facts *f);
