/* Seccomp profiles from files: hutch's own (OCI linux.seccomp form) and the Docker / containers-common
 * form users already have (/usr/share/containers/seccomp.json): archMap, and rules gated by includes /
 * excludes on capabilities, architectures and minimum kernel. The Docker form is rewritten here, at the
 * edge, into the OCI form for the capabilities and host at hand, then read by the same parser. */
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/utsname.h>

#include "spec/spec.h"
#include "util/json.h"

#define PROFILE_MAX_SIZE (1u << 20)

/* Docker's architecture names for the host, as includes/excludes "arches" spell them. */
static const char *docker_arch(void)
{
#if defined(__x86_64__)
        return "amd64";
#elif defined(__aarch64__)
        return "arm64";
#elif defined(__i386__)
        return "x86";
#elif defined(__arm__)
        return "arm";
#elif defined(__s390x__)
        return "s390x";
#elif defined(__powerpc64__)
        return "ppc64le";
#else
        return "unknown";
#endif
}

static const char *scmp_native(void)
{
#if defined(__x86_64__)
        return "SCMP_ARCH_X86_64";
#elif defined(__aarch64__)
        return "SCMP_ARCH_AARCH64";
#elif defined(__i386__)
        return "SCMP_ARCH_X86";
#elif defined(__arm__)
        return "SCMP_ARCH_ARM";
#elif defined(__s390x__)
        return "SCMP_ARCH_S390X";
#elif defined(__powerpc64__)
        return "SCMP_ARCH_PPC64LE";
#else
        return "";
#endif
}

static bool string_in(json_t *array, const char *s)
{
        size_t i;
        json_t *e;
        json_array_foreach (array, i, e)
                if (json_is_string(e) && streq(json_string_value(e), s))
                        return true;
        return false;
}

static int kernel_at_least(const char *want)
{
        struct utsname u;
        unsigned a = 0, b = 0, x = 0, y = 0;
        if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &a, &b) < 1 || sscanf(want, "%u.%u", &x, &y) < 1)
                return -EINVAL;
        return a > x || (a == x && b >= y);
}

static bool caps_hold(json_t *caps, uint64_t have, bool all)
{
        size_t i;
        json_t *e;
        json_array_foreach (caps, i, e) {
                cap_value_t c;
                const char *n = json_string_value(e);
                char lower[64];
                size_t k;
                for (k = 0; n && n[k] && k < sizeof lower - 1; k++)
                        lower[k] = (char) (n[k] >= 'A' && n[k] <= 'Z' ? n[k] + 32 : n[k]);
                lower[k] = 0;
                bool held = n && cap_from_name(lower, &c) == 0 && c < 64 && (have & (UINT64_C(1) << c));
                if (all && !held)
                        return false;
                if (!all && held)
                        return true;
        }
        return all;
}

/* includes: every condition must hold; excludes: any condition that holds excludes the rule. */
static int rule_applies(json_t *rule, uint64_t caps, const char *jpath, struct herror *err)
{
        json_t *inc = json_object_get(rule, "includes"), *exc = json_object_get(rule, "excludes");
        if (json_is_object(inc)) {
                json_t *c = json_object_get(inc, "caps"), *a = json_object_get(inc, "arches");
                json_t *k = json_object_get(inc, "minKernel");
                if (json_is_array(c) && json_array_size(c) && !caps_hold(c, caps, true))
                        return 0;
                if (json_is_array(a) && json_array_size(a) && !string_in(a, docker_arch()))
                        return 0;
                if (json_is_string(k)) {
                        int r = kernel_at_least(json_string_value(k));
                        if (r < 0)
                                return herror_set(err, EINVAL, "%s.includes.minKernel: \"%s\" is not a kernel version",
                                                  jpath, json_string_value(k));
                        if (!r)
                                return 0;
                }
        }
        if (json_is_object(exc)) {
                json_t *c = json_object_get(exc, "caps"), *a = json_object_get(exc, "arches");
                if (json_is_array(c) && json_array_size(c) && caps_hold(c, caps, false))
                        return 0;
                if (json_is_array(a) && string_in(a, docker_arch()))
                        return 0;
        }
        return 1;
}

static json_t *native_architectures(json_t *arch_map)
{
        size_t i;
        json_t *e;
        json_array_foreach (arch_map, i, e) {
                json_t *a = json_object_get(e, "architecture");
                if (!json_is_string(a) || !streq(json_string_value(a), scmp_native()))
                        continue;
                json_t *out = json_array();
                json_array_append(out, a);
                json_t *subs = json_object_get(e, "subArchitectures");
                if (json_is_array(subs))
                        json_array_extend(out, subs);
                return out;
        }
        return json_pack("[s]", scmp_native());
}

static int docker_to_oci(json_t *in, uint64_t caps, const char *source, json_t **ret, struct herror *err)
{
        _cleanup_json_ json_t *out = json_object();
        json_t *def = json_object_get(in, "defaultAction");
        if (!json_is_string(def))
                return herror_set(err, EINVAL, "%s: .defaultAction: required property missing", source);
        json_object_set(out, "defaultAction", def);
        json_t *errno_ret = json_object_get(in, "defaultErrnoRet");
        if (errno_ret)
                json_object_set(out, "defaultErrnoRet", errno_ret);
        json_object_set_new(out, "architectures", native_architectures(json_object_get(in, "archMap")));
        json_t *rules = json_array(), *syscalls = json_object_get(in, "syscalls");
        json_object_set_new(out, "syscalls", rules);
        size_t i;
        json_t *rule;
        json_array_foreach (syscalls, i, rule) {
                char p[64];
                snprintf(p, sizeof p, ".syscalls[%zu]", i);
                int r = rule_applies(rule, caps, p, err);
                if (r < 0)
                        return herror_wrap(err, "%s", source);
                if (!r)
                        continue;
                json_t *copy = json_deep_copy(rule);
                json_object_del(copy, "includes");
                json_object_del(copy, "excludes");
                json_object_del(copy, "comment");
                json_array_append_new(rules, copy);
        }
        *ret = TAKE_PTR(out);
        return 0;
}

static int parse_profile_json(json_t *in, const char *source, uint64_t caps, struct spec_seccomp **ret,
                              struct herror *err)
{
        if (!json_is_object(in))
                return herror_set(err, EINVAL, "%s: a seccomp profile is a JSON object", source);
        _cleanup_json_ json_t *oci = NULL;
        bool docker = json_object_get(in, "archMap") || json_object_get(in, "defaultErrno");
        json_t *syscalls = json_object_get(in, "syscalls");
        size_t i;
        json_t *rule;
        json_array_foreach (syscalls, i, rule)
                docker = docker || json_object_get(rule, "includes") || json_object_get(rule, "excludes");
        int r;
        if (docker) {
                if ((r = docker_to_oci(in, caps, source, &oci, err)) < 0)
                        return r;
        } else {
                oci = json_incref(in);
                json_object_del(oci, "comment");
        }
        struct spec_seccomp *sc = NULL;
        r = spec_parse_seccomp(oci, "", &sc, err);
        if (r < 0)
                return herror_wrap(err, "%s", source);
        *ret = sc;
        return 0;
}

int spec_parse_seccomp_profile(const char *data, size_t len, const char *source, uint64_t caps,
                               struct spec_seccomp **ret, struct herror *err)
{
        _cleanup_json_ json_t *in = NULL;
        int r = json_parse_limited(data, len, source, PROFILE_MAX_SIZE, JSON_MAX_DEPTH_DEFAULT, &in, err);
        return r < 0 ? r : parse_profile_json(in, source, caps, ret, err);
}

int spec_load_seccomp_profile(int dirfd, const char *path, uint64_t caps, struct spec_seccomp **ret, struct herror *err)
{
        _cleanup_json_ json_t *in = NULL;
        int r = json_read_file(dirfd, path, PROFILE_MAX_SIZE, &in, err);
        return r < 0 ? r : parse_profile_json(in, path, caps, ret, err);
}
