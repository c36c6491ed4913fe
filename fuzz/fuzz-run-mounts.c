/* hutch run's -v SRC:DST[:OPTS], --mount k=v,... and --tmpfs DST[:OPTS] strings, then the spec built from
 * what they yield (the tmpfs options reach spec_parse's mount option parser there). The input is one
 * option per line, its first byte saying which ('v', 'm' or 't'). Bind sources are resolved on the host
 * (realpath only: nothing is created or changed there). Accepted mounts must be bind, tmpfs or volume,
 * with an absolute destination without a ".." component, and tmpfs options that are exactly those given
 * (translated from tmpfs-size= and tmpfs-mode=), never silently cut. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/run.h"
#include "cli/volume.h"
#include "fuzz/fuzz.h"
#include "spec/spec.h"

#define MAX_OPTIONS 16

static bool has_dotdot(const char *p)
{
        for (const char *c = p; *c;) {
                size_t len = strcspn(c, "/");
                if (len == 2 && c[0] == '.' && c[1] == '.')
                        return true;
                c += len + (c[len] == '/');
        }
        return false;
}

/* Append t to buf as one more comma-separated option; false when it does not fit. */
static bool add_option(char *buf, size_t size, const char *t)
{
        size_t l = strlen(buf);
        return (size_t) snprintf(buf + l, size - l, "%s%s", l ? "," : "", t) < size - l;
}

/* The tmpfs options an accepted --mount or --tmpfs spec must have produced, from the spec itself. */
static void expected_tmpfs_options(char kind, const char *spec, char *buf, size_t size)
{
        char *copy = strdup(spec), *save = NULL;
        if (!copy)
                fuzz_die("out of memory");
        char *opts = kind == 't' ? strchr(copy, ':') : copy;
        buf[0] = 0;
        for (char *t = opts ? strtok_r(opts + (kind == 't'), ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save)) {
                const char *o = NULL;
                if (kind == 'm' && (strncmp(t, "tmpfs-size=", 11) == 0 || strncmp(t, "tmpfs-mode=", 11) == 0))
                        o = t + 6;
                else if (kind == 't' && !streq(t, "ro") && !streq(t, "rw"))
                        o = t;
                if (o && !add_option(buf, size, o))
                        break;
        }
        free(copy);
}

static void check_mount(const struct spec_run_mount *m, char kind, const char *spec)
{
        if (!m->type || !m->destination || m->destination[0] != '/' || has_dotdot(m->destination))
                fuzz_die("a mount without a type or with a bad destination was accepted");
        if (streq(m->type, "bind")) {
                if (!m->source || m->source[0] != '/' || m->options)
                        fuzz_die("a bind mount without an absolute source, or with options");
        } else if (streq(m->type, "volume")) {
                if (!m->source || !volume_name_valid(m->source))
                        fuzz_die("a volume mount with a bad name");
        } else if (streq(m->type, "tmpfs")) {
                char want[8192];
                expected_tmpfs_options(kind, spec, want, sizeof want);
                if (!streq(m->options ? m->options : "", want))
                        fuzz_die("tmpfs options differ from those given");
        } else {
                fuzz_die("an unknown mount type was accepted");
        }
}

/* The spec hutch run would build from these mounts (volumes as binds of /tmp). */
static void build_spec(struct spec_run_mount *m, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (streq(m[i].type, "volume")) {
                        free(m[i].type);
                        free(m[i].source);
                        m[i].type = strdup("bind");
                        m[i].source = strdup("/tmp");
                        if (!m[i].type || !m[i].source)
                                fuzz_die("out of memory");
                }
        static const struct spec_idmap map[] = { { 0, 1000, 1 }, { 1, 100000, 65536 } };
        char *args[] = { (char *) "/bin/sh", NULL }, *env[] = { NULL };
        struct spec_run_options o = {
                .rootless = true,
                .root_path = "/store/containers/x",
                .args = args,
                .env = env,
                .cwd = "/",
                .uid_map = map,
                .n_uid_map = 2,
                .gid_map = map,
                .n_gid_map = 2,
                .mounts = m,
                .n_mounts = n,
        };
        struct spec *s = NULL;
        struct herror err = HERROR_INIT;
        if (spec_build_run(&o, &s, &err) == 0) {
                (void) spec_validate(s, true, &err);
                spec_free(s);
        }
        herror_clear(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > FUZZ_MAX_INPUT)
                return 0;
        char *text = strndup((const char *) data, size);
        if (!text)
                fuzz_die("out of memory");
        char *v[MAX_OPTIONS + 1] = { 0 }, *mo[MAX_OPTIONS + 1] = { 0 }, *t[MAX_OPTIONS + 1] = { 0 };
        size_t nv = 0, nm = 0, nt = 0;
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (line[0] == 'v' && nv < MAX_OPTIONS)
                        v[nv++] = line + 1;
                else if (line[0] == 'm' && nm < MAX_OPTIONS)
                        mo[nm++] = line + 1;
                else if (line[0] == 't' && nt < MAX_OPTIONS)
                        t[nt++] = line + 1;
        }
        struct run_options o = { .volumes = nv ? v : NULL, .mounts = nm ? mo : NULL, .tmpfs = nt ? t : NULL };
        struct spec_run_mount *m = NULL;
        size_t n = 0;
        struct herror err = HERROR_INIT;
        if (run_parse_mounts(&o, &m, &n, &err) == 0) {
                if (n != nv + nm + nt)
                        fuzz_die("a mount was lost");
                /* run_parse_mounts keeps the order: every -v, then every --mount, then every --tmpfs */
                for (size_t i = 0; i < n; i++)
                        check_mount(&m[i],
                                    i < nv                ? 'v'
                                            : i < nv + nm ? 'm'
                                                          : 't',
                                    i < nv                ? v[i]
                                            : i < nv + nm ? mo[i - nv]
                                                          : t[i - nv - nm]);
                build_spec(m, n);
                run_mounts_free(m, n);
        } else if (!herror_msg(&err)[0]) {
                fuzz_die("a refusal without a message");
        }
        herror_clear(&err);
        free(text);
        return 0;
}
