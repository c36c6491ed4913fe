/* Landlock rules files (hutch run --security-opt landlock=FILE): a small JSON format of hutch's own,
 * documented in profiles/landlock/README.md. Read here, at the edge, into struct spec_landlock_rules;
 * unknown keys are errors, as in every format hutch defines. */
#include <stdlib.h>
#include <string.h>

#include "spec/spec.h"
#include "util/cleanup.h"
#include "util/json.h"

#define RULES_MAX_SIZE (64u * 1024)

void spec_landlock_rules_free(struct spec_landlock_rules *r)
{
        if (!r)
                return;
        for (size_t i = 0; i < r->n_paths; i++)
                free(r->paths[i].path);
        free(r->paths);
        free(r->tcp_bind);
        free(r->tcp_connect);
        free(r);
}

static void rules_freep(struct spec_landlock_rules **r)
{
        spec_landlock_rules_free(*r);
}

static int dispatch_extends(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        const char *s = json_string_value(v);
        if (streq(s, "default"))
                *(bool *) dst = true;
        else if (streq(s, "none"))
                *(bool *) dst = false;
        else
                return herror_set(err, EINVAL, "%s: \"%s\" is neither \"default\" nor \"none\"", jpath, s);
        return 0;
}

static int dispatch_access(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        static const struct {
                const char *name;
                unsigned bit;
        } words[] = {
                { "read", SPEC_LANDLOCK_READ },
                { "write", SPEC_LANDLOCK_WRITE },
                { "execute", SPEC_LANDLOCK_EXECUTE },
        };
        unsigned access = 0;
        size_t i;
        json_t *e;
        json_array_foreach (v, i, e) {
                const char *w = json_string_value(e);
                size_t k = 0;
                while (k < ELEMENTSOF(words) && !(w && streq(w, words[k].name)))
                        k++;
                if (k == ELEMENTSOF(words))
                        return herror_set(err, EINVAL, "%s[%zu]: expected \"read\", \"write\" or \"execute\"", jpath,
                                          i);
                access |= words[k].bit;
        }
        if (!access)
                return herror_set(err, EINVAL, "%s: grants nothing (an empty list)", jpath);
        *(unsigned *) dst = access;
        return 0;
}

static int dispatch_path_rule(const char *jpath, json_t *v, struct spec_landlock_path *out, struct herror *err)
{
        static const struct json_field fields[] = {
                { "path", JSON_STRING, json_dispatch_string, offsetof(struct spec_landlock_path, path), JF_MANDATORY },
                { "access", JSON_ARRAY, dispatch_access, offsetof(struct spec_landlock_path, access), JF_MANDATORY },
                { "comment", JSON_STRING, NULL, 0, 0 },
                {},
        };
        int r = json_dispatch(v, jpath, fields, out, JD_REJECT_UNKNOWN, err);
        if (r < 0)
                return r;
        if (out->path[0] != '/' || spec_path_has_dotdot(out->path) || strlen(out->path) >= 4096)
                return herror_set(err, EINVAL,
                                  "%s.path: \"%s\" must be an absolute path inside the container, without \"..\"",
                                  jpath, out->path);
        return 0;
}

static int dispatch_paths(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        struct spec_landlock_rules *rules = dst;
        size_t n = json_array_size(v);
        if (n > SPEC_LANDLOCK_MAX_PATHS)
                return herror_set(err, E2BIG, "%s: more than %u rules", jpath, SPEC_LANDLOCK_MAX_PATHS);
        rules->paths = calloc(n ? n : 1, sizeof *rules->paths);
        if (!rules->paths)
                return herror_set(err, ENOMEM, "%s: out of memory", jpath);
        for (size_t i = 0; i < n; i++) {
                char p[128];
                json_path_index(p, sizeof p, jpath, i);
                rules->n_paths = i + 1; /* so a half-read rule is freed too */
                int r = dispatch_path_rule(p, json_array_get(v, i), &rules->paths[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int read_ports(const char *jpath, json_t *v, uint16_t **ret, size_t *ret_n, struct herror *err)
{
        size_t n = json_array_size(v);
        if (n > SPEC_LANDLOCK_MAX_PORTS)
                return herror_set(err, E2BIG, "%s: more than %u ports", jpath, SPEC_LANDLOCK_MAX_PORTS);
        _cleanup_free_ uint16_t *ports = calloc(n ? n : 1, sizeof *ports);
        if (!ports)
                return herror_set(err, ENOMEM, "%s: out of memory", jpath);
        for (size_t i = 0; i < n; i++) {
                json_t *e = json_array_get(v, i);
                json_int_t p = json_integer_value(e);
                if (!json_is_integer(e) || p < 1 || p > 65535)
                        return herror_set(err, EINVAL, "%s[%zu]: expected a TCP port, 1 to 65535", jpath, i);
                ports[i] = (uint16_t) p;
        }
        *ret = TAKE_PTR(ports);
        *ret_n = n;
        return 0;
}

static int dispatch_bind(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        struct spec_landlock_rules *rules = dst;
        return read_ports(jpath, v, &rules->tcp_bind, &rules->n_tcp_bind, err);
}

static int dispatch_connect(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        struct spec_landlock_rules *rules = dst;
        return read_ports(jpath, v, &rules->tcp_connect, &rules->n_tcp_connect, err);
}

static int dispatch_tcp(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        static const struct json_field fields[] = {
                { "bind", JSON_ARRAY, dispatch_bind, 0, 0 },
                { "connect", JSON_ARRAY, dispatch_connect, 0, 0 },
                {},
        };
        return json_dispatch(v, jpath, fields, dst, JD_REJECT_UNKNOWN, err);
}

static int rules_from_json(json_t *j, const char *source, struct spec_landlock_rules **ret, struct herror *err)
{
        static const struct json_field fields[] = {
                { "extends", JSON_STRING, dispatch_extends, offsetof(struct spec_landlock_rules, extends_default),
                  JF_MANDATORY },
                { "paths", JSON_ARRAY, dispatch_paths, 0, 0 },
                { "tcp", JSON_OBJECT, dispatch_tcp, 0, 0 },
                { "comment", JSON_STRING, NULL, 0, 0 },
                {},
        };
        _cleanup_(rules_freep) struct spec_landlock_rules *rules = calloc(1, sizeof *rules);
        if (!rules)
                return herror_set(err, ENOMEM, "out of memory");
        int r = json_dispatch(j, "", fields, rules, JD_REJECT_UNKNOWN, err);
        if (r < 0)
                return herror_wrap(err, "%s", source);
        *ret = TAKE_PTR(rules);
        return 0;
}

int spec_parse_landlock_rules(const char *data, size_t len, const char *source, struct spec_landlock_rules **ret,
                              struct herror *err)
{
        _cleanup_json_ json_t *j = NULL;
        int r = json_parse_limited(data, len, source, RULES_MAX_SIZE, JSON_MAX_DEPTH_DEFAULT, &j, err);
        return r < 0 ? r : rules_from_json(j, source, ret, err);
}

int spec_load_landlock_rules(int dirfd, const char *path, struct spec_landlock_rules **ret, struct herror *err)
{
        _cleanup_json_ json_t *j = NULL;
        int r = json_read_file(dirfd, path, RULES_MAX_SIZE, &j, err);
        return r < 0 ? r : rules_from_json(j, path, ret, err);
}
