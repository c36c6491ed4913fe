/* Image references: parsing, normalisation, policy scopes and scope/prefix validation. Oracles: what
 * ref_parse() accepts prints in canonical form and parses back to the same reference, and every scope
 * candidate it yields is a scope the policy parser accepts. */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "trust/reference.h"

static void check_parsed(const struct image_ref *r)
{
        char *full = ref_format_full(r);
        if (!full)
                return;
        struct image_ref again = { 0 };
        if (ref_parse_canonical(full, &again, NULL) < 0 || !ref_equal(r, &again))
                abort();
        ref_done(&again);
        char **scopes = NULL;
        if (ref_policy_scopes(r, &scopes, NULL) == 0) {
                if (!scopes[0] || !streq(scopes[0], full))
                        abort();
                for (char **s = scopes; *s; s++)
                        if (ref_validate_docker_scope(*s, NULL) < 0)
                                abort();
                strv_free(scopes);
        }
        free(full);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > FUZZ_MAX_INPUT)
                return 0;
        char *s = strndup((const char *) data, size);
        if (!s)
                return 0;
        struct herror err = HERROR_INIT;
        struct image_ref r = { 0 };
        if (ref_parse(s, &r, &err) == 0) {
                if (!!r.tag == !!r.digest)
                        abort();
                check_parsed(&r);
                ref_done(&r);
        }
        if (ref_parse_normalized(s, &r, &err) == 0) {
                char *name = ref_format_name(&r);
                free(name);
                ref_done(&r);
        }
        ref_validate_docker_scope(s, &err);
        ref_validate_remap_prefix(s, &err);
        herror_clear(&err);
        free(s);
        return 0;
}
