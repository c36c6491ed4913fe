/* config.json from a bundle: parse, validate, and compile its seccomp section. */
#include "fuzz/fuzz.h"
#include "sandbox/seccomp.h"
#include "spec/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > FUZZ_MAX_INPUT)
                return 0;
        struct spec *s = NULL;
        struct herror err = HERROR_INIT;
        if (spec_parse((const char *) data, size, "config.json", &s, &err) == 0) {
                spec_validate(s, true, &err);
                struct seccomp_program p = { 0 };
                if (s->seccomp && seccomp_compile(s->seccomp, &p, &err) == 0)
                        seccomp_program_free(&p);
                spec_free(s);
        }
        herror_clear(&err);
        return 0;
}
