/* An image config's run defaults (Entrypoint, Cmd, Env, WorkingDir, User, StopSignal), the part of an
 * image `hutch run` turns into the container's process. What the parser accepts must be well-formed
 * C strings: NULL-terminated vectors without embedded NULs. */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "image/config.h"

static void check_strv(char **v)
{
        for (size_t i = 0; v && v[i]; i++)
                if (strlen(v[i]) > 64 * 1024)
                        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > FUZZ_MAX_INPUT)
                return 0;
        struct herror err = HERROR_INIT;
        struct image_run_config c = { 0 };
        if (image_config_parse((const char *) data, size, "config", &c, &err) == 0) {
                check_strv(c.entrypoint);
                check_strv(c.cmd);
                check_strv(c.env);
                image_run_config_done(&c);
        } else if (!herror_msg(&err)[0]) {
                abort(); /* every refusal says why */
        }
        herror_clear(&err);
        return 0;
}
