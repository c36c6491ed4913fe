/* /etc/subuid lines, matched by name and by uid, and the coverage check on what they yield. */
#include <string.h>
#include "fuzz/fuzz.h"
#include "sandbox/subid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > FUZZ_MAX_INPUT || size < 8)
                return 0;
        struct subid_ranges r = { 0 };
        struct herror err = HERROR_INIT;
        uint32_t start, count;
        memcpy(&start, data, 4);
        memcpy(&count, data + 4, 4);
        if (subid_parse((const char *) data + 8, size - 8, "subuid", "alice", 1000, &r, &err) == 0) {
                subid_ranges_cover(&r, start, count);
                subid_ranges_total(&r);
                subid_ranges_free(&r);
        }
        herror_clear(&err);
        return 0;
}
