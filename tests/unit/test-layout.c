#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "image/layout.h"
#include "image-helpers.h"

/* OCI layouts assembled in a temp dir: blobs written by hand, so every way of lying is available. */

struct lay {
        char *dir;
        int fd;
};

struct img {
        struct digest manifest, config, layer, diff_id;
        uint64_t manifest_size;
};

static int setup(void **state)
{
        struct lay *l = calloc(1, sizeof *l);
        l->dir = th_mkdtemp("layout");
        l->fd = open(l->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(l->fd >= 0);
        th_put_file_at(l->fd, "oci-layout", "{\"imageLayoutVersion\": \"1.0.0\"}");
        *state = l;
        return 0;
}

static int teardown(void **state)
{
        struct lay *l = *state;
        close(l->fd);
        th_rm_rf(l->dir);
        free(l->dir);
        free(l);
        return 0;
}

static char *hex_str(const struct digest *d)
{
        static char bufs[8][DIGEST_STRING_MAX];
        static int i;
        return digest_to_string(d, bufs[i++ % 8]);
}

static uint64_t put_text(struct lay *l, const char *text, struct digest *ret)
{
        th_put_blob(l->fd, text, strlen(text), ret);
        return strlen(text);
}

/* An image: one gzip layer, a config for os/arch, a manifest; config_extra and layer_mt let tests
 * break them. */
static void make_image_full(struct lay *l, const char *arch, const char *layer_mt, const char *config_mt,
                            int n_diff_ids, struct img *ret)
{
        const struct tent e[] = { { 'f', "hello", "world" } };
        int fd = th_layer(e, 1, TH_GZIP, &ret->diff_id);
        uint64_t lsize;
        th_put_blob_fd(l->fd, fd, &ret->layer, &lsize);
        close(fd);
        char ids[400] = "";
        for (int k = 0; k < n_diff_ids; k++)
                snprintf(ids + strlen(ids), sizeof ids - strlen(ids), "%s\"%s\"", k ? "," : "", hex_str(&ret->diff_id));
        char *config = NULL;
        assert_true(asprintf(&config,
                             "{\"architecture\":\"%s\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/bin/sh\"]},"
                             "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[%s]},\"unknown\":{\"x\":1}}",
                             arch, ids) > 0);
        uint64_t csize = put_text(l, config, &ret->config);
        free(config);
        char *manifest = NULL;
        assert_true(asprintf(&manifest,
                             "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MEDIA_TYPE_MANIFEST "\","
                             "\"config\":{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%llu},"
                             "\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%llu}],"
                             "\"annotations\":{\"a\":\"b\"}}",
                             config_mt, hex_str(&ret->config), (unsigned long long) csize, layer_mt,
                             hex_str(&ret->layer), (unsigned long long) lsize) > 0);
        ret->manifest_size = put_text(l, manifest, &ret->manifest);
        free(manifest);
}

static void make_image(struct lay *l, const char *arch, struct img *ret)
{
        make_image_full(l, arch, "application/vnd.oci.image.layer.v1.tar+gzip", OCI_MEDIA_TYPE_CONFIG, 1, ret);
}

static const char *host_arch(void)
{
        static struct oci_platform p;
        oci_platform_host(&p);
        return p.architecture;
}

/* An arch that is not the host's. */
static const char *other_arch(void)
{
        return streq(host_arch(), "arm64") ? "amd64" : "arm64";
}

static char *manifest_desc(const struct img *i, const char *ref, const char *platform_json)
{
        char *s = NULL;
        assert_true(asprintf(&s,
                             "{\"mediaType\":\"" OCI_MEDIA_TYPE_MANIFEST
                             "\",\"digest\":\"%s\",\"size\":%llu%s%s%s%s%s}",
                             hex_str(&i->manifest), (unsigned long long) i->manifest_size,
                             ref ? ",\"annotations\":{\"" OCI_REF_NAME_ANNOTATION "\":\"" : "", ref ? ref : "",
                             ref ? "\"}" : "", platform_json ? ",\"platform\":" : "",
                             platform_json ? platform_json : "") > 0);
        return s;
}

static void write_index(struct lay *l, const char *entries)
{
        char *s = NULL;
        assert_true(asprintf(&s, "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MEDIA_TYPE_INDEX "\",\"manifests\":[%s]}",
                             entries) > 0);
        th_put_file_at(l->fd, "index.json", s);
        free(s);
}

static int resolve(struct lay *l, const char *ref, const char *platform, struct oci_image *ret, struct herror *err)
{
        struct oci_platform p;
        if (platform)
                assert_int_equal(oci_platform_parse(platform, &p, NULL), 0);
        return oci_layout_resolve(l->fd, ref, platform ? &p : NULL, ret, err);
}

static void assert_fails(struct lay *l, const char *ref, int want, const char *msg_part)
{
        struct oci_image img = { 0 };
        _cleanup_herror_ struct herror err = HERROR_INIT;
        int r = resolve(l, ref, NULL, &img, &err);
        if (r != -want)
                fail_msg("got %d (%s), want -%d", r, herror_msg(&err), want);
        if (msg_part && !strstr(herror_msg(&err), msg_part))
                fail_msg("message \"%s\" does not mention \"%s\"", herror_msg(&err), msg_part);
        assert_null(img.manifest_data); /* untouched on failure */
}

/* ---- tests ---- */

static void resolves_single_image(void **state)
{
        struct lay *l = *state;
        struct img i;
        make_image(l, host_arch(), &i);
        char *d = manifest_desc(&i, "latest", NULL);
        write_index(l, d);
        free(d);
        const char *refs[] = { NULL, "latest", "@0" };
        for (size_t k = 0; k < ELEMENTSOF(refs); k++) {
                struct oci_image img = { 0 };
                _cleanup_herror_ struct herror err = HERROR_INIT;
                if (resolve(l, refs[k], NULL, &img, &err) < 0)
                        fail_msg("%s: %s", refs[k] ? refs[k] : "(none)", herror_msg(&err));
                assert_true(digest_equal(&img.manifest_desc.digest, &i.manifest));
                assert_true(digest_equal(&img.selected, &i.manifest));
                assert_string_equal(img.ref_name, "latest");
                assert_int_equal(img.manifest.n_layers, 1);
                assert_int_equal(img.manifest.layers[0].compression, LAYER_COMPRESSION_GZIP);
                assert_true(digest_equal(&img.manifest.layers[0].digest, &i.layer));
                assert_true(digest_equal(&img.manifest.config.digest, &i.config));
                assert_string_equal(img.config.os, "linux");
                assert_string_equal(img.config.architecture, host_arch());
                assert_int_equal(img.config.n_diff_ids, 1);
                assert_true(digest_equal(&img.config.diff_ids[0], &i.diff_id));
                assert_false(img.platform_mismatch);
                struct digest md;
                assert_int_equal(digest_buffer(img.manifest_data, img.manifest_len, &md, NULL), 0);
                assert_true(digest_equal(&md, &i.manifest));
                oci_image_done(&img);
        }
        assert_fails(l, "nope", ENOENT, "nope");
        assert_fails(l, "@1", ENOENT, "@1");
}

static void skips_unknown_media_types(void **state)
{
        struct lay *l = *state;
        struct img i;
        make_image(l, host_arch(), &i);
        char *d = manifest_desc(&i, NULL, NULL);
        char *entries = NULL;
        /* unknown media type, with a digest that would be a path traversal: never looked at */
        assert_true(asprintf(&entries,
                             "{\"mediaType\":\"application/vnd.example.thing\",\"digest\":\"sha256:../x\","
                             "\"size\":1},%s",
                             d) > 0);
        write_index(l, entries);
        free(entries);
        free(d);
        struct oci_image img = { 0 };
        _cleanup_herror_ struct herror err = HERROR_INIT;
        if (resolve(l, NULL, NULL, &img, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        assert_true(digest_equal(&img.manifest_desc.digest, &i.manifest));
        oci_image_done(&img);
        assert_fails(l, "@0", EOPNOTSUPP, "not an image");
}

static void picks_among_several(void **state)
{
        struct lay *l = *state;
        struct img a, b;
        make_image(l, host_arch(), &a);
        make_image_full(l, host_arch(), "application/vnd.oci.image.layer.v1.tar+gzip", DOCKER_MEDIA_TYPE_CONFIG, 1, &b);
        char *da = manifest_desc(&a, "one", NULL), *db = manifest_desc(&b, "two", NULL);
        char *entries = NULL;
        assert_true(asprintf(&entries, "%s,%s", da, db) > 0);
        write_index(l, entries);
        free(entries);
        assert_fails(l, NULL, EINVAL, "more than one image");
        struct oci_image img = { 0 };
        assert_int_equal(resolve(l, "two", NULL, &img, NULL), 0);
        assert_true(digest_equal(&img.manifest_desc.digest, &b.manifest));
        oci_image_done(&img);
        assert_int_equal(resolve(l, "@0", NULL, &img, NULL), 0);
        assert_true(digest_equal(&img.manifest_desc.digest, &a.manifest));
        oci_image_done(&img);
        /* one name for two different images is ambiguous */
        free(db);
        db = manifest_desc(&b, "one", NULL);
        assert_true(asprintf(&entries, "%s,%s", da, db) > 0);
        write_index(l, entries);
        free(entries);
        assert_fails(l, "one", EINVAL, "more than one image");
        /* the same image twice under one name is fine */
        assert_true(asprintf(&entries, "%s,%s", da, da) > 0);
        write_index(l, entries);
        free(entries);
        assert_int_equal(resolve(l, "one", NULL, &img, NULL), 0);
        oci_image_done(&img);
        free(da);
        free(db);
}

static void selects_platform(void **state)
{
        struct lay *l = *state;
        struct img arm, host, s390;
        make_image(l, "arm64", &arm);
        make_image(l, host_arch(), &host);
        make_image(l, "s390x", &s390);
        char plat[128];
        snprintf(plat, sizeof plat, "{\"os\":\"linux\",\"architecture\":\"%s\"}", host_arch());
        char *d1 = manifest_desc(&arm, NULL, "{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}");
        char *d2 = manifest_desc(&host, NULL, plat);
        char *d3 = manifest_desc(&s390, NULL, "{\"os\":\"linux\",\"architecture\":\"s390x\"}");
        char *inner = NULL;
        /* an attestation-like entry first: unknown platform, must not be picked */
        assert_true(asprintf(&inner,
                             "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MEDIA_TYPE_INDEX "\",\"manifests\":["
                             "%s,%s,%s]}",
                             d1, d2, d3) > 0);
        struct digest inner_d;
        uint64_t inner_size = put_text(l, inner, &inner_d);
        /* nest it once more: index.json -> index -> index -> manifests */
        char *outer = NULL;
        assert_true(
                asprintf(&outer,
                         "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" OCI_MEDIA_TYPE_INDEX
                         "\",\"digest\":\"%s\",\"size\":%llu,\"platform\":{\"os\":\"linux\",\"architecture\":\"%s\"}},"
                         "{\"mediaType\":\"" OCI_MEDIA_TYPE_INDEX "\",\"digest\":\"%s\",\"size\":%llu,"
                         "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}},"
                         "{\"mediaType\":\"" OCI_MEDIA_TYPE_INDEX "\",\"digest\":\"%s\",\"size\":%llu,"
                         "\"platform\":{\"os\":\"linux\",\"architecture\":\"s390x\"}}]}",
                         hex_str(&inner_d), (unsigned long long) inner_size, host_arch(), hex_str(&inner_d),
                         (unsigned long long) inner_size, hex_str(&inner_d), (unsigned long long) inner_size) > 0);
        struct digest outer_d;
        uint64_t outer_size = put_text(l, outer, &outer_d);
        char *top = NULL;
        assert_true(asprintf(&top,
                             "{\"mediaType\":\"" OCI_MEDIA_TYPE_INDEX "\",\"digest\":\"%s\",\"size\":%llu,"
                             "\"annotations\":{\"" OCI_REF_NAME_ANNOTATION "\":\"multi\"}}",
                             hex_str(&outer_d), (unsigned long long) outer_size) > 0);
        write_index(l, top);
        struct oci_image img = { 0 };
        _cleanup_herror_ struct herror err = HERROR_INIT;
        if (resolve(l, NULL, NULL, &img, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        assert_true(digest_equal(&img.manifest_desc.digest, &host.manifest));
        assert_true(digest_equal(&img.selected, &outer_d));
        assert_false(img.platform_mismatch);
        oci_image_done(&img);
        assert_int_equal(resolve(l, "multi", "linux/arm64/v8", &img, NULL), 0);
        assert_true(digest_equal(&img.manifest_desc.digest, &arm.manifest));
        oci_image_done(&img);
        assert_int_equal(resolve(l, "multi", "linux/s390x", &img, NULL), 0);
        assert_true(digest_equal(&img.manifest_desc.digest, &s390.manifest));
        oci_image_done(&img);
        assert_int_equal(resolve(l, "multi", "linux/mips64le", &img, &err), -ENOENT);
        assert_non_null(strstr(herror_msg(&err), "linux/mips64le"));
        /* an index that lists itself loops until the depth limit */
        char *self = NULL;
        assert_true(
                asprintf(
                        &self,
                        "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" OCI_MEDIA_TYPE_INDEX
                        "\",\"digest\":\"%s\",\"size\":%llu,\"platform\":{\"os\":\"linux\",\"architecture\":\"%s\"}}]}",
                        hex_str(&outer_d), (unsigned long long) outer_size, host_arch()) > 0);
        struct digest self_d;
        uint64_t self_size = put_text(l, self, &self_d);
        char *deep = NULL;
        assert_true(asprintf(&deep, "{\"mediaType\":\"" OCI_MEDIA_TYPE_INDEX "\",\"digest\":\"%s\",\"size\":%llu}",
                             hex_str(&self_d), (unsigned long long) self_size) > 0);
        write_index(l, deep);
        assert_int_equal(resolve(l, NULL, NULL, &img, NULL), 0); /* 3 levels: allowed */
        oci_image_done(&img);
        free(d1), free(d2), free(d3), free(inner), free(outer), free(top), free(self), free(deep);
}

static void flags_platform_mismatch(void **state)
{
        struct lay *l = *state;
        struct img i;
        make_image(l, other_arch(), &i);
        char *d = manifest_desc(&i, NULL, NULL);
        write_index(l, d);
        free(d);
        struct oci_image img = { 0 };
        assert_int_equal(resolve(l, NULL, NULL, &img, NULL), 0);
        assert_true(img.platform_mismatch);
        oci_image_done(&img);
}

static void rejects_traversal_digests(void **state)
{
        struct lay *l = *state;
        write_index(l,
                    "{\"mediaType\":\"" OCI_MEDIA_TYPE_MANIFEST
                    "\",\"digest\":\"sha256:../../../../etc/passwd\",\"size\":1}");
        assert_fails(l, NULL, EINVAL, "sha256:../../../../etc/passwd");
        write_index(l, "{\"mediaType\":\"" OCI_MEDIA_TYPE_MANIFEST "\",\"digest\":\"sha256:../x\",\"size\":1}");
        assert_fails(l, NULL, EINVAL, "sha256:../x");
        write_index(l, "{\"mediaType\":\"" OCI_MEDIA_TYPE_MANIFEST "\",\"digest\":\"sha512:aa\",\"size\":1}");
        assert_fails(l, NULL, EOPNOTSUPP, "sha512");
        /* in a manifest's layer list */
        struct img i;
        make_image(l, host_arch(), &i);
        char *m = NULL;
        assert_true(
                asprintf(&m,
                         "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" OCI_MEDIA_TYPE_CONFIG
                         "\",\"digest\":\"%s\",\"size\":1},\"layers\":[{\"mediaType\":"
                         "\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:/etc/shadow\",\"size\":1}]}",
                         hex_str(&i.config)) > 0);
        struct oci_manifest man;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        assert_int_equal(oci_manifest_parse(m, strlen(m), "m", &man, &err), -EINVAL);
        assert_non_null(strstr(herror_msg(&err), "layers[0].digest"));
        free(m);
}

static void rejects_missing_and_tampered_blobs(void **state)
{
        struct lay *l = *state;
        struct img i;
        make_image(l, host_arch(), &i);
        char *d = manifest_desc(&i, NULL, NULL);
        write_index(l, d);
        free(d);
        /* wrong size in the descriptor */
        char *e = NULL;
        assert_true(asprintf(&e, "{\"mediaType\":\"" OCI_MEDIA_TYPE_MANIFEST "\",\"digest\":\"%s\",\"size\":%llu}",
                             hex_str(&i.manifest), (unsigned long long) i.manifest_size + 1) > 0);
        write_index(l, e);
        free(e);
        assert_fails(l, NULL, EBADMSG, "size");
        d = manifest_desc(&i, NULL, NULL);
        write_index(l, d);
        free(d);
        /* same size, other content: the config blob */
        char path[128];
        snprintf(path, sizeof path, "blobs/sha256/%s", i.config.hex);
        char *cfg = NULL;
        size_t clen;
        assert_int_equal(read_file_at(l->fd, path, 1 << 20, &cfg, &clen, NULL), 0);
        cfg[clen - 2] = cfg[clen - 2] == '1' ? '2' : '1';
        th_put_file_at(l->fd, path, cfg);
        free(cfg);
        assert_fails(l, NULL, EBADMSG, "digest did not match");
        /* missing config blob */
        assert_int_equal(unlinkat(l->fd, path, 0), 0);
        assert_fails(l, NULL, ENOENT, "missing");
        /* index pointing at a missing manifest */
        snprintf(path, sizeof path, "blobs/sha256/%s", i.manifest.hex);
        assert_int_equal(unlinkat(l->fd, path, 0), 0);
        assert_fails(l, NULL, ENOENT, i.manifest.hex);
}

static void rejects_symlinked_blob(void **state)
{
        struct lay *l = *state;
        struct img i;
        make_image(l, host_arch(), &i);
        char *d = manifest_desc(&i, NULL, NULL);
        write_index(l, d);
        free(d);
        char path[128], moved[128];
        snprintf(path, sizeof path, "blobs/sha256/%s", i.manifest.hex);
        snprintf(moved, sizeof moved, "%s/elsewhere", l->dir);
        char full[1024];
        snprintf(full, sizeof full, "%s/%s", l->dir, path);
        assert_int_equal(rename(full, moved), 0);
        assert_int_equal(symlink(moved, full), 0);
        assert_fails(l, NULL, ELOOP, "symlink");
}

static void rejects_unrunnable(void **state)
{
        struct lay *l = *state;
        struct img i;
        make_image_full(l, host_arch(), "application/vnd.example.layer", OCI_MEDIA_TYPE_CONFIG, 1, &i);
        char *d = manifest_desc(&i, NULL, NULL);
        write_index(l, d);
        free(d);
        assert_fails(l, NULL, EOPNOTSUPP, "application/vnd.example.layer");
        make_image_full(l, host_arch(), "application/vnd.oci.image.layer.v1.tar+gzip",
                        "application/vnd.oci.empty.v1+json", 1, &i);
        d = manifest_desc(&i, NULL, NULL);
        write_index(l, d);
        free(d);
        assert_fails(l, NULL, EOPNOTSUPP, "not a runnable image");
        make_image_full(l, host_arch(), "application/vnd.oci.image.layer.v1.tar+zstd", OCI_MEDIA_TYPE_CONFIG, 0, &i);
        d = manifest_desc(&i, NULL, NULL);
        write_index(l, d);
        free(d);
        assert_fails(l, NULL, EBADMSG, "diff_ids");
        make_image_full(l, host_arch(), "application/vnd.docker.image.rootfs.diff.tar.gzip", OCI_MEDIA_TYPE_CONFIG, 2,
                        &i);
        d = manifest_desc(&i, NULL, NULL);
        write_index(l, d);
        free(d);
        assert_fails(l, NULL, EBADMSG, "2 rootfs.diff_ids for 1 layers");
}

static void rejects_confused_documents(void **state)
{
        struct lay *l = *state;
        /* the descriptor says manifest; the blob is an index */
        struct digest d;
        uint64_t size =
                put_text(l, "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MEDIA_TYPE_INDEX "\",\"manifests\":[]}", &d);
        char *e = NULL;
        assert_true(asprintf(&e, "{\"mediaType\":\"" OCI_MEDIA_TYPE_MANIFEST "\",\"digest\":\"%s\",\"size\":%llu}",
                             hex_str(&d), (unsigned long long) size) > 0);
        write_index(l, e);
        free(e);
        assert_fails(l, NULL, EINVAL, "is not an image manifest");
        size = put_text(l, "{\"schemaVersion\":2,\"manifests\":[],\"config\":{},\"layers\":[]}", &d);
        assert_true(asprintf(&e, "{\"mediaType\":\"" OCI_MEDIA_TYPE_MANIFEST "\",\"digest\":\"%s\",\"size\":%llu}",
                             hex_str(&d), (unsigned long long) size) > 0);
        write_index(l, e);
        free(e);
        assert_fails(l, NULL, EINVAL, "\"manifests\"");
        struct oci_index idx;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        const char *v1 = "{\"schemaVersion\":1,\"manifests\":[]}";
        assert_int_equal(oci_index_parse(v1, strlen(v1), "x", &idx, &err), -EOPNOTSUPP);
        const char *dup = "{\"schemaVersion\":2,\"manifests\":[],\"manifests\":[]}";
        assert_int_equal(oci_index_parse(dup, strlen(dup), "x", &idx, &err), -EINVAL);
        const char *neg =
                "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" OCI_MEDIA_TYPE_MANIFEST
                "\",\"digest\":\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\",\"size\":-1}]}";
        assert_int_equal(oci_index_parse(neg, strlen(neg), "x", &idx, &err), -ERANGE);
        assert_int_equal(oci_index_parse("[]", 2, "x", &idx, &err), -EINVAL);
}

static void checks_layout_file(void **state)
{
        struct lay *l = *state;
        write_index(l, "");
        assert_int_equal(oci_layout_check(l->fd, NULL), 0);
        th_put_file_at(l->fd, "oci-layout", "{\"imageLayoutVersion\": \"2.0.0\"}");
        assert_fails(l, NULL, EOPNOTSUPP, "imageLayoutVersion");
        assert_int_equal(unlinkat(l->fd, "oci-layout", 0), 0);
        assert_fails(l, NULL, ENOENT, "oci-layout");
        th_put_file_at(l->fd, "oci-layout", "{\"imageLayoutVersion\": \"1.0.0\"}");
        assert_fails(l, NULL, ENOENT, "no image");
}

static void parses_platforms(void **state)
{
        struct oci_platform p;
        assert_int_equal(oci_platform_parse("linux/arm64/v8", &p, NULL), 0);
        assert_string_equal(p.os, "linux");
        assert_string_equal(p.architecture, "arm64");
        assert_string_equal(p.variant, "v8");
        assert_int_equal(oci_platform_parse("linux/amd64", &p, NULL), 0);
        assert_string_equal(p.variant, "");
        const char *bad[] = { "linux",          "linux/",      "/amd64",      "linux/amd64/",
                              "linux/arm/v7/x", "Linux/amd64", "linux/a md64" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (oci_platform_parse(bad[i], &p, NULL) != -EINVAL)
                        fail_msg("\"%s\" accepted", bad[i]);
        struct oci_platform a = { "linux", "arm64", "v8" }, b = { "linux", "arm64", "" }, c = { "linux", "arm", "v7" },
                            d = { "linux", "arm", "v6" };
        assert_true(oci_platform_matches(&a, &b));
        assert_true(oci_platform_matches(&b, &a));
        assert_false(oci_platform_matches(&c, &d));
        assert_false(oci_platform_matches(&a, &c));
        struct oci_platform host;
        oci_platform_host(&host);
        assert_string_equal(host.os, "linux");
        assert_string_not_equal(host.architecture, "unknown");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
        const struct CMUnitTest tests[] = {
                T(resolves_single_image),
                T(skips_unknown_media_types),
                T(picks_among_several),
                T(selects_platform),
                T(flags_platform_mismatch),
                T(rejects_traversal_digests),
                T(rejects_missing_and_tampered_blobs),
                T(rejects_symlinked_blob),
                T(rejects_unrunnable),
                T(rejects_confused_documents),
                T(checks_layout_file),
                cmocka_unit_test(parses_platforms),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
