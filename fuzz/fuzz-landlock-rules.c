/* Landlock rules files (hutch run --security-opt landlock=FILE). */
#include "fuzz/fuzz.h"
#include "spec/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > FUZZ_MAX_INPUT)
                return 0;
        struct spec_landlock_rules *r = NULL;
        struct herror err = HERROR_INIT;
        if (spec_parse_landlock_rules((const char *) data, size, "rules.json", &r, &err) == 0)
                spec_landlock_rules_free(r);
        herror_clear(&err);
        return 0;
}
