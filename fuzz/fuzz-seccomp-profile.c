/* Seccomp profile files in both forms (OCI, Docker/containers-common), then compiled. */
#include <string.h>
#include "fuzz/fuzz.h"
#include "sandbox/seccomp.h"
#include "spec/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > FUZZ_MAX_INPUT || size < 8)
                return 0;
        uint64_t caps;
        memcpy(&caps, data, sizeof caps);
        struct spec_seccomp *sc = NULL;
        struct herror err = HERROR_INIT;
        if (spec_parse_seccomp_profile((const char *) data + 8, size - 8, "profile.json", caps, &sc, &err) == 0) {
                struct seccomp_program p = { 0 };
                if (seccomp_compile(sc, &p, &err) == 0)
                        seccomp_program_free(&p);
                spec_seccomp_free(sc);
        }
        herror_clear(&err);
        return 0;
}
