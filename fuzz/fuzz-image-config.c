/* An image config's run defaults (Entrypoint, Cmd, Env, WorkingDir, User, StopSignal) and declarations
 * (Volumes, ExposedPorts, Labels), the part of an image `hutch run` turns into the container's process.
 * What the parser accepts must be well-formed C strings: NULL-terminated vectors without embedded NULs,
 * key sets and labels sorted with unique keys. */
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

static void check_sorted_set(char **v)
{
        check_strv(v);
        if (v && !v[0])
                abort(); /* an empty set is NULL */
        for (size_t i = 1; v && v[i]; i++)
                if (strcmp(v[i - 1], v[i]) >= 0)
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
                check_sorted_set(c.volumes);
                check_sorted_set(c.exposed_ports);
                if (!c.labels != !c.n_labels)
                        abort();
                for (size_t i = 0; i < c.n_labels; i++) {
                        if (!c.labels[i].key || !c.labels[i].value || strlen(c.labels[i].value) > 64 * 1024)
                                abort();
                        if (i && strcmp(c.labels[i - 1].key, c.labels[i].key) >= 0)
                                abort();
                        if (image_run_config_label(&c, c.labels[i].key) != c.labels[i].value)
                                abort();
                }
                image_run_config_done(&c);
        } else if (!herror_msg(&err)[0]) {
                abort(); /* every refusal says why */
        }
        herror_clear(&err);
        return 0;
}
