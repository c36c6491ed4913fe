#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "trust/reference.h"

#define HEX64 "43d4055be4be7a0f4a4651189c6225ce2009280c855f0694c00290d51c253946"

static void expect_full(const char *in, const char *want)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        _cleanup_ref_ struct image_ref r = { 0 };
        if (ref_parse(in, &r, &err) < 0)
                fail_msg("%s: %s", in, herror_msg(&err));
        _cleanup_free_ char *full = ref_format_full(&r);
        if (!streq(full, want))
                fail_msg("%s: got %s, want %s", in, full, want);
        /* What ref_parse prints parses back to itself. */
        _cleanup_ref_ struct image_ref again = { 0 };
        assert_int_equal(ref_parse_canonical(full, &again, &err), 0);
        assert_true(ref_equal(&r, &again));
}

static void normalisation(void **state)
{
        expect_full("alpine", "docker.io/library/alpine:latest");
        expect_full("alpine:3.19", "docker.io/library/alpine:3.19");
        expect_full("library/alpine", "docker.io/library/alpine:latest");
        expect_full("docker.io/alpine", "docker.io/library/alpine:latest");
        expect_full("index.docker.io/library/alpine:edge", "docker.io/library/alpine:edge");
        expect_full("user/repo", "docker.io/user/repo:latest");
        expect_full("user/repo/deeper:v1", "docker.io/user/repo/deeper:v1");
        expect_full("localhost/foo", "localhost/foo:latest");
        expect_full("localhost:5000/foo/bar:v1", "localhost:5000/foo/bar:v1");
        expect_full("registry.example/sandbox/tiny:v2", "registry.example/sandbox/tiny:v2");
        expect_full("127.0.0.1:5577/sandbox/tiny:evil", "127.0.0.1:5577/sandbox/tiny:evil");
        expect_full("[::1]:5000/foo:bar", "[::1]:5000/foo:bar");
        expect_full("Example.COM/foo", "Example.COM/foo:latest"); /* uppercase first component: a domain */
        expect_full("a__b/c--d/e.f_g", "docker.io/a__b/c--d/e.f_g:latest");
        expect_full("alpine@sha256:" HEX64, "docker.io/library/alpine@sha256:" HEX64);
        /* podman drops the tag of a tag+digest reference */
        expect_full("alpine:3@sha256:" HEX64, "docker.io/library/alpine@sha256:" HEX64);
        expect_full("localhost", "docker.io/library/localhost:latest");
        expect_full("localhost:5000", "docker.io/library/localhost:5000");
}

static void parts(void **state)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        _cleanup_ref_ struct image_ref r = { 0 };
        assert_int_equal(ref_parse("registry.example:5000/ns/app:v2", &r, &err), 0);
        assert_string_equal(r.domain, "registry.example:5000");
        assert_string_equal(r.path, "ns/app");
        assert_string_equal(r.tag, "v2");
        assert_null(r.digest);
        _cleanup_free_ char *name = ref_format_name(&r);
        assert_string_equal(name, "registry.example:5000/ns/app");

        /* Normalised without defaults: name-only and tag+digest are kept as written. */
        _cleanup_ref_ struct image_ref n = { 0 };
        assert_int_equal(ref_parse_normalized("registry.example/sandbox/tiny", &n, &err), 0);
        assert_true(ref_is_name_only(&n));
        _cleanup_ref_ struct image_ref both = { 0 };
        assert_int_equal(ref_parse_normalized("busybox:1@sha256:" HEX64, &both, &err), 0);
        assert_string_equal(both.tag, "1");
        assert_string_equal(both.digest, "sha256:" HEX64);
        _cleanup_free_ char *bf = ref_format_full(&both);
        assert_string_equal(bf, "docker.io/library/busybox:1@sha256:" HEX64);
}

static void expect_invalid(const char *in)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct image_ref r = { 0 };
        if (ref_parse(in, &r, &err) == 0) {
                _cleanup_free_ char *full = ref_format_full(&r);
                ref_done(&r);
                fail_msg("accepted invalid reference \"%s\" as %s", in, full);
        }
        assert_non_null(err.msg);
        assert_null(r.domain);
}

static void invalid(void **state)
{
        expect_invalid("");
        expect_invalid("ALPINE");
        expect_invalid("docker.io/Library/alpine");
        expect_invalid("alpine:");
        expect_invalid("alpine@");
        expect_invalid("alpine@sha256:abc");
        expect_invalid("alpine@sha256:" HEX64 "00");
        expect_invalid("alpine@sha256:43D4055BE4BE7A0F4A4651189C6225CE2009280C855F0694C00290D51C253946");
        expect_invalid("alpine@md5:d41d8cd98f00b204e9800998ecf8427e");
        expect_invalid("a//b");
        expect_invalid("/a");
        expect_invalid("a/");
        expect_invalid("-a");
        expect_invalid("a-");
        expect_invalid("a..b");
        expect_invalid("a___b");
        expect_invalid("a.-b");
        expect_invalid("a:b:c");
        expect_invalid("foo:bar/baz"); /* port not numeric */
        expect_invalid("host:/foo");
        expect_invalid("[zz]:5/x");
        expect_invalid("[]/x");
        expect_invalid("-bad.example/x");
        expect_invalid("bad-.example/x");
        expect_invalid("exa mple.com/x");
        expect_invalid("alpine:tag with space");
        expect_invalid("alpine:.tag");
        expect_invalid("alpine\n");
        expect_invalid(HEX64); /* an image ID, not a name */

        char tag[160] = "alpine:";
        memset(tag + 7, 'a', 129);
        expect_invalid(tag);
        tag[7 + 128] = 0;
        expect_full(tag,
                    "docker.io/library/alpine:"
                    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");

        /* name length: domain + "/" + path at most 255 */
        char name[300] = "example.com/";
        memset(name + 12, 'a', 243);
        name[255] = 0;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        _cleanup_ref_ struct image_ref ok = { 0 };
        assert_int_equal(ref_parse(name, &ok, &err), 0);
        name[255] = 'a';
        name[256] = 0;
        expect_invalid(name);
}

static void canonical(void **state)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct image_ref r = { 0 };
        assert_int_equal(ref_parse_canonical("docker.io/library/busybox", &r, &err), 0);
        ref_done(&r);
        assert_int_equal(ref_parse_canonical("busybox", &r, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "docker.io/library/busybox"));
        assert_int_equal(ref_parse_canonical("docker.io/busybox", &r, &err), -EINVAL);
}

static void expect_scopes(const char *in, const char *const *want)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        _cleanup_ref_ struct image_ref r = { 0 };
        assert_int_equal(ref_parse(in, &r, &err), 0);
        _cleanup_strv_ char **got = NULL;
        assert_int_equal(ref_policy_scopes(&r, &got, &err), 0);
        size_t i = 0;
        for (; want[i]; i++) {
                if (!got[i])
                        fail_msg("%s: missing scope %zu %s", in, i, want[i]);
                if (!streq(got[i], want[i]))
                        fail_msg("%s: scope %zu is %s, want %s", in, i, got[i], want[i]);
        }
        if (got[i])
                fail_msg("%s: extra scope %s", in, got[i]);
}

static void scopes(void **state)
{
        expect_scopes("busybox",
                      (const char *const[]) { "docker.io/library/busybox:latest", "docker.io/library/busybox",
                                              "docker.io/library", "docker.io", "*.io", NULL });
        expect_scopes("a.b.example.com:8443/ns/repo@sha256:" HEX64,
                      (const char *const[]) { "a.b.example.com:8443/ns/repo@sha256:" HEX64,
                                              "a.b.example.com:8443/ns/repo", "a.b.example.com:8443/ns",
                                              "a.b.example.com:8443", "*.b.example.com", "*.example.com", "*.com",
                                              NULL });
        expect_scopes("127.0.0.1:5577/sandbox/tiny:evil",
                      (const char *const[]) { "127.0.0.1:5577/sandbox/tiny:evil", "127.0.0.1:5577/sandbox/tiny",
                                              "127.0.0.1:5577/sandbox", "127.0.0.1:5577", "*.0.0.1", "*.0.1", "*.1",
                                              NULL });
        expect_scopes("localhost/foo:latest",
                      (const char *const[]) { "localhost/foo:latest", "localhost/foo", "localhost", NULL });
        expect_scopes("[::1]:5000/foo:bar",
                      (const char *const[]) { "[::1]:5000/foo:bar", "[::1]:5000/foo", "[::1]:5000", NULL });

        /* The identity needs exactly one of tag and digest. */
        _cleanup_herror_ struct herror err = HERROR_INIT;
        _cleanup_ref_ struct image_ref n = { 0 };
        char **v = NULL;
        assert_int_equal(ref_parse_normalized("example.com/a", &n, &err), 0);
        assert_int_equal(ref_policy_scopes(&n, &v, &err), -EINVAL);
        _cleanup_ref_ struct image_ref both = { 0 };
        assert_int_equal(ref_parse_normalized("example.com/a:1@sha256:" HEX64, &both, &err), 0);
        assert_int_equal(ref_policy_scopes(&both, &v, &err), -EINVAL);
        assert_null(v);
}

static void docker_scope_validation(void **state)
{
        static const char *const good[] = {
                "",
                "docker.io",
                "docker.io/library",
                "docker.io/library/busybox",
                "docker.io/library/busybox:latest",
                "docker.io/openshift",
                "*.temporary-project.example.com",
                "*.com",
                "127.0.0.1:5577",
                "127.0.0.1:5577/sandbox/tiny:evil",
                "hostname:5000/myns/official",
                "localhost",
                "localhost/x",
                ("registry.example/sandbox/tiny@sha256:" HEX64),
                "[::1]:5000/x",
        };
        static const char *const bad[] = {
                "alpine",
                "library/alpine",
                "docker.io/alpine:latest",
                "*.",
                "*",
                "*.example.com:5000",
                "*example.com",
                "example*.*.com",
                "index.docker.io/library/x",
                "docker.io//x",
                "docker.io/X",
                ("docker.io/library/busybox:latest@sha256:" HEX64),
                "docker.io/library/busybox:",
                "docker.io/",
                "myregistry",
                "https://docker.io/x",
        };
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                _cleanup_herror_ struct herror err = HERROR_INIT;
                if (ref_validate_docker_scope(good[i], &err) < 0)
                        fail_msg("refused valid scope \"%s\": %s", good[i], herror_msg(&err));
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_herror_ struct herror err = HERROR_INIT;
                if (ref_validate_docker_scope(bad[i], &err) == 0)
                        fail_msg("accepted invalid scope \"%s\"", bad[i]);
                assert_non_null(strstr(err.msg, "scope"));
        }
}

static void remap_prefixes(void **state)
{
        static const char *const good[] = {
                "private-mirror:5000/vendor-mirror", "vendor.example.com", "docker.io", "docker.io/library",
                "docker.io/library/busybox",         "localhost:5000"
        };
        static const char *const bad[] = {
                "", "docker.io/library/busybox:latest", ("x/y@sha256:" HEX64), "a//b", "docker.io/", "*.example.com"
        };
        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                assert_int_equal(ref_validate_remap_prefix(good[i], NULL), 0);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (ref_validate_remap_prefix(bad[i], NULL) == 0)
                        fail_msg("accepted invalid prefix \"%s\"", bad[i]);
}

static void quoting(void **state)
{
        char q[84];
        assert_string_equal(trust_quote("a\nb\x80", q), "a?b?");
        char longs[200];
        memset(longs, 'x', sizeof longs - 1);
        longs[sizeof longs - 1] = 0;
        trust_quote(longs, q);
        assert_int_equal(strlen(q), 83);
        assert_string_equal(q + 80, "...");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(normalisation),  cmocka_unit_test(parts),   cmocka_unit_test(invalid),
                cmocka_unit_test(canonical),      cmocka_unit_test(scopes),  cmocka_unit_test(docker_scope_validation),
                cmocka_unit_test(remap_prefixes), cmocka_unit_test(quoting),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
