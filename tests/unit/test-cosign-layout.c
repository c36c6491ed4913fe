/* Signatures in OCI layouts written by `cosign save` (src/trust/cosign-layout.c): index.json entries
 * annotated "kind" (dev.cosignproject.cosign/image, .../imageIndex, .../sigs, .../atts) as
 * sigstore/cosign pkg/oci/layout/write.go and index.go write them, with no ref.name; the sigs entry names
 * no digest and signs the image entry's image. Layouts are assembled here in a temp dir and signed with
 * a key made by OpenSSL in the test; the skopeo form is tested against real vectors in test-policy.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "image/layout.h"
#include "trust/cosign-layout.h"
#include "trust/sigstore.h"
#include "image-helpers.h"
#include "trust-helpers.h"

struct blob {
        struct digest d;
        size_t size;
};

struct fx {
        char *dir;
        int fd;
        EVP_PKEY *key;
        struct trust_key *tk;
        struct blob a, b;   /* two images (manifests) */
        struct blob sigs_a; /* a signature manifest: one signature of image a by key */
};

static char *dstr(const struct blob *b)
{
        static char s[4][DIGEST_STRING_MAX];
        static int next;
        next = (next + 1) % 4;
        return digest_to_string(&b->d, s[next]);
}

static struct blob put(struct fx *f, const char *text)
{
        struct blob b = { .size = strlen(text) };
        th_put_blob(f->fd, text, b.size, &b.d);
        return b;
}

static struct blob make_image(struct fx *f, const char *arch)
{
        char *config = NULL, *manifest = NULL;
        assert_true(asprintf(&config,
                             "{\"architecture\":\"%s\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
                             "\"diff_ids\":[]}}",
                             arch) > 0);
        struct blob c = put(f, config);
        assert_true(asprintf(&manifest,
                             "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MEDIA_TYPE_MANIFEST "\","
                             "\"config\":{\"mediaType\":\"" OCI_MEDIA_TYPE_CONFIG "\",\"digest\":\"%s\","
                             "\"size\":%zu},\"layers\":[]}",
                             dstr(&c), c.size) > 0);
        struct blob m = put(f, manifest);
        free(config);
        free(manifest);
        return m;
}

/* A cosign signature manifest (pkg/oci/empty + static): one simple-signing layer per payload, each with
 * its base64 signature by key in the annotation. layer_mt: the layers' media type. */
static struct blob make_sig_manifest(struct fx *f, EVP_PKEY *key, const char *layer_mt, const char *const *payloads,
                                     size_t n)
{
        char layers[8192] = "";
        for (size_t i = 0; i < n; i++) {
                struct blob p = put(f, payloads[i]);
                size_t slen;
                _cleanup_free_ unsigned char *sig = sign_data(key, EVP_sha256(), false, payloads[i], p.size, &slen);
                _cleanup_free_ char *s64 = b64(sig, slen);
                snprintf(layers + strlen(layers), sizeof layers - strlen(layers),
                         "%s{\"mediaType\":\"%s\",\"size\":%zu,\"digest\":\"%s\",\"annotations\":{\"%s\":\"%s\"}}",
                         i ? "," : "", layer_mt, p.size, dstr(&p), SIGSTORE_SIGNATURE_ANNOTATION, s64);
        }
        struct blob c = put(f,
                            "{\"architecture\":\"\",\"os\":\"\",\"config\":{},\"rootfs\":{\"type\":\"layers\","
                            "\"diff_ids\":[]}}");
        char *m = NULL;
        assert_true(asprintf(&m,
                             "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MEDIA_TYPE_MANIFEST "\","
                             "\"config\":{\"mediaType\":\"" OCI_MEDIA_TYPE_CONFIG "\",\"size\":%zu,"
                             "\"digest\":\"%s\"},\"layers\":[%s]}",
                             c.size, dstr(&c), layers) > 0);
        struct blob b = put(f, m);
        free(m);
        return b;
}

static struct blob sign_image(struct fx *f, const struct blob *img)
{
        _cleanup_free_ char *p = make_payload("registry.example/sandbox/app", dstr(img));
        const char *payloads[] = { p };
        return make_sig_manifest(f, f->key, SIGSTORE_PAYLOAD_MEDIA_TYPE, payloads, 1);
}

/* An index.json entry as write.go appends it: the descriptor plus "kind" (NULL: none); ref: a ref.name
 * as well (NULL: none). Returned in a rotating static buffer. */
static const char *entry_mt(const char *media_type, const struct blob *b, const char *kind, const char *ref)
{
        static char s[8][512];
        static int next;
        next = (next + 1) % 8;
        char ann[256] = "";
        if (kind || ref)
                snprintf(ann, sizeof ann, ",\"annotations\":{%s%s%s%s%s%s%s}", kind ? "\"kind\":\"" : "",
                         kind ? kind : "", kind ? "\"" : "", kind && ref ? "," : "",
                         ref ? "\"" OCI_REF_NAME_ANNOTATION "\":\"" : "", ref ? ref : "", ref ? "\"" : "");
        snprintf(s[next], sizeof s[next], "{\"mediaType\":\"%s\",\"size\":%zu,\"digest\":\"%s\"%s}", media_type,
                 b->size, dstr(b), ann);
        return s[next];
}

static const char *entry(const struct blob *b, const char *kind)
{
        return entry_mt(OCI_MEDIA_TYPE_MANIFEST, b, kind, NULL);
}

static void write_index(struct fx *f, const char *const *entries, size_t n)
{
        char s[8192];
        int k = snprintf(s, sizeof s,
                         "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MEDIA_TYPE_INDEX "\",\"manifests\":[");
        for (size_t i = 0; i < n; i++)
                k += snprintf(s + k, sizeof s - (size_t) k, "%s%s", i ? "," : "", entries[i]);
        snprintf(s + k, sizeof s - (size_t) k, "]}");
        th_put_file_at(f->fd, "index.json", s);
}

#define INDEX(f, ...)                                     \
        do {                                              \
                const char *const _e[] = { __VA_ARGS__ }; \
                write_index(f, _e, ELEMENTSOF(_e));       \
        } while (0)

/* cosign_layout_find_signatures() for img; expects success and returns the count. */
static size_t find(struct fx *f, const struct blob *img, struct sigstore_signature **ret)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct sigstore_signature *sigs = NULL;
        size_t n = 0;
        if (cosign_layout_find_signatures(f->fd, dstr(img), &sigs, &n, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        if (ret)
                *ret = sigs;
        else
                sigstore_signatures_free(sigs, n);
        return n;
}

static void find_fails(struct fx *f, const struct blob *img, int want, const char *msg_part)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct sigstore_signature *sigs = NULL;
        size_t n = 0;
        int r = cosign_layout_find_signatures(f->fd, dstr(img), &sigs, &n, &err);
        if (r == 0) {
                sigstore_signatures_free(sigs, n);
                fail_msg("found %zu signatures, expected an error saying \"%s\"", n, msg_part);
        }
        if (r != -want || !strstr(herror_msg(&err), msg_part))
                fail_msg("got %d \"%s\", want -%d \"%s\"", r, herror_msg(&err), want, msg_part);
}

/* The manifest oci_layout_resolve() picks without a ref, or the error it gives. */
static int resolve_default(struct fx *f, struct digest *ret, struct herror *err)
{
        struct oci_image img = { 0 };
        int r = oci_layout_resolve(f->fd, NULL, NULL, &img, err);
        if (r == 0)
                *ret = img.manifest_desc.digest;
        oci_image_done(&img);
        return r;
}

static void expect_default_image(struct fx *f, const struct blob *want)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct digest got;
        if (resolve_default(f, &got, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        assert_true(digest_equal(&got, &want->d));
}

/* sigstore_verify() of sig for img with one key: the fixture's (own_key) or a fresh one. On success the
 * identity it was signed as goes to *ret_identity (malloc'd) when that is not NULL. */
static int verify_one(struct fx *f, bool own_key, const struct sigstore_signature *sig, const struct blob *img,
                      char **ret_identity, struct herror *err)
{
        EVP_PKEY *other = own_key ? NULL : gen_key("EC", "P-256");
        struct trust_key *tk = own_key ? f->tk : trust_key_of(other);
        const struct trust_key *keys[] = { tk };
        struct sigstore_payload p = { 0 };
        size_t ki = 99;
        int r = sigstore_verify(keys, 1, sig, dstr(img), &p, &ki, err);
        if (r == 0) {
                assert_int_equal(ki, 0);
                if (ret_identity)
                        *ret_identity = TAKE_PTR(p.docker_reference);
        }
        sigstore_payload_done(&p);
        if (!own_key) {
                trust_key_free(tk);
                EVP_PKEY_free(other);
        }
        return r;
}

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof *f);
        f->dir = th_mkdtemp("cosign-layout");
        f->fd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(f->fd >= 0);
        th_put_file_at(f->fd, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
        f->key = gen_key("EC", "P-256");
        f->tk = trust_key_of(f->key);
        struct oci_platform host;
        oci_platform_host(&host);
        f->a = make_image(f, host.architecture);
        f->b = make_image(f, streq(host.architecture, "arm64") ? "amd64" : "arm64");
        f->sigs_a = sign_image(f, &f->a);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        close(f->fd);
        th_rm_rf(f->dir);
        free(f->dir);
        EVP_PKEY_free(f->key);
        trust_key_free(f->tk);
        free(f);
        return 0;
}

static void remove_blob(struct fx *f, const struct blob *b)
{
        char p[128];
        snprintf(p, sizeof p, "blobs/sha256/%s", b->d.hex);
        assert_int_equal(unlinkat(f->fd, p, 0), 0);
}

/* ---- the form cosign save writes ---- */

static void finds_and_verifies(void **state)
{
        struct fx *f = *state;
        INDEX(f, entry(&f->a, COSIGN_KIND_IMAGE), entry(&f->sigs_a, COSIGN_KIND_SIGS));
        struct sigstore_signature *sigs = NULL;
        assert_int_equal(find(f, &f->a, &sigs), 1);
        assert_string_equal(sigs[0].origin, "index.json entry 1 (kind sigs) layer 0");
        _cleanup_free_ char *want = make_payload("registry.example/sandbox/app", dstr(&f->a));
        assert_int_equal(sigs[0].payload_len, strlen(want));
        assert_memory_equal(sigs[0].payload, want, strlen(want));
        assert_non_null(sigs[0].signature_b64);

        /* verified like any other signature: the key that signed accepts, another key does not */
        _cleanup_herror_ struct herror err = HERROR_INIT;
        _cleanup_free_ char *identity = NULL;
        if (verify_one(f, true, &sigs[0], &f->a, &identity, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        assert_string_equal(identity, "registry.example/sandbox/app");
        assert_int_equal(verify_one(f, false, &sigs[0], &f->a, NULL, &err), -EKEYREJECTED);
        sigstore_signatures_free(sigs, 1);

        /* the sigs entry signs the image entry's image, no other: b is not its image */
        assert_int_equal(find(f, &f->b, NULL), 0);
}

/* The payload bytes are verified before they are parsed: a validly signed payload that is not JSON fails
 * as malformed under the signing key, and as unverified (never parsed) under another. */
static void verifies_before_parsing(void **state)
{
        struct fx *f = *state;
        const char *payloads[] = { "{\"critical\":" };
        struct blob s = make_sig_manifest(f, f->key, SIGSTORE_PAYLOAD_MEDIA_TYPE, payloads, 1);
        INDEX(f, entry(&f->a, COSIGN_KIND_IMAGE), entry(&s, COSIGN_KIND_SIGS));
        struct sigstore_signature *sigs = NULL;
        assert_int_equal(find(f, &f->a, &sigs), 1);
        _cleanup_herror_ struct herror err = HERROR_INIT;
        assert_int_equal(verify_one(f, true, &sigs[0], &f->a, NULL, &err), -EBADMSG);
        assert_non_null(strstr(herror_msg(&err), "payload"));
        herror_clear(&err);
        assert_int_equal(verify_one(f, false, &sigs[0], &f->a, NULL, &err), -EKEYREJECTED);
        assert_null(strstr(herror_msg(&err), "payload"));
        sigstore_signatures_free(sigs, 1);
}

/* cosign save's layout holds one image: the sigs and atts manifests are not images to pick. */
static void picks_the_image_entry(void **state)
{
        struct fx *f = *state;
        struct blob atts = sign_image(f, &f->a);
        INDEX(f, entry(&f->a, COSIGN_KIND_IMAGE), entry(&f->sigs_a, COSIGN_KIND_SIGS), entry(&atts, COSIGN_KIND_ATTS),
              entry(&f->b, COSIGN_KIND_PREFIX "sboms"));
        expect_default_image(f, &f->a);
        /* a "kind" outside cosign's namespace is someone else's label: that entry is an image like any other */
        INDEX(f, entry(&f->a, COSIGN_KIND_IMAGE), entry(&f->b, "sigs"));
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct digest got;
        assert_int_equal(resolve_default(f, &got, &err), -EINVAL);
        assert_non_null(strstr(herror_msg(&err), "more than one image"));
}

static void artifact_predicate(void **state)
{
        struct fx *f = *state;
        struct oci_descriptor d = { 0 };
        assert_false(oci_descriptor_is_cosign_artifact(&d));
        d.cosign_kind = (char *) COSIGN_KIND_IMAGE;
        assert_false(oci_descriptor_is_cosign_artifact(&d));
        d.cosign_kind = (char *) COSIGN_KIND_IMAGE_INDEX;
        assert_false(oci_descriptor_is_cosign_artifact(&d));
        d.cosign_kind = (char *) COSIGN_KIND_SIGS;
        assert_true(oci_descriptor_is_cosign_artifact(&d));
        d.cosign_kind = (char *) COSIGN_KIND_ATTS;
        assert_true(oci_descriptor_is_cosign_artifact(&d));
        d.cosign_kind = (char *) COSIGN_KIND_PREFIX "whatever";
        assert_true(oci_descriptor_is_cosign_artifact(&d));
        d.cosign_kind = (char *) "dev.cosignproject.cosign";
        assert_false(oci_descriptor_is_cosign_artifact(&d));
        d.cosign_kind = NULL;
        char tag[100];
        snprintf(tag, sizeof tag, "sha256-%s.att", f->a.d.hex);
        d.ref_name = tag;
        assert_true(oci_descriptor_is_cosign_artifact(&d));
        d.ref_name = (char *) "v1";
        assert_false(oci_descriptor_is_cosign_artifact(&d));
}

/* ---- hostile and odd layouts ---- */

/* Attestations and kinds cosign does not define are never read as signatures, even when their layers
 * look exactly like valid signatures of the image, and even when their blobs are missing. */
static void attestations_and_unknown_kinds_ignored(void **state)
{
        struct fx *f = *state;
        INDEX(f, entry(&f->a, COSIGN_KIND_IMAGE), entry(&f->sigs_a, COSIGN_KIND_ATTS));
        assert_int_equal(find(f, &f->a, NULL), 0);
        INDEX(f, entry(&f->a, COSIGN_KIND_IMAGE), entry(&f->sigs_a, COSIGN_KIND_PREFIX "signatures"));
        assert_int_equal(find(f, &f->a, NULL), 0);
        INDEX(f, entry(&f->a, COSIGN_KIND_IMAGE), entry(&f->sigs_a, "sigs"));
        assert_int_equal(find(f, &f->a, NULL), 0);
        /* a real attestation layer (DSSE envelope, empty signature annotation) in the sigs manifest is not a
         * signature either: only simple-signing layers are */
        const char *envelope[] = { "{\"payloadType\":\"application/vnd.in-toto+json\",\"payload\":\"e30=\","
                                   "\"signatures\":[]}" };
        struct blob dsse = make_sig_manifest(f, f->key, "application/vnd.dsse.envelope.v1+json", envelope, 1);
        INDEX(f, entry(&f->a, COSIGN_KIND_IMAGE), entry(&dsse, COSIGN_KIND_SIGS));
        assert_int_equal(find(f, &f->a, NULL), 0);
        /* an atts entry whose manifest is missing does not matter: it is not read */
        struct blob gone = sign_image(f, &f->a);
        remove_blob(f, &gone);
        INDEX(f, entry(&f->a, COSIGN_KIND_IMAGE), entry(&f->sigs_a, COSIGN_KIND_SIGS), entry(&gone, COSIGN_KIND_ATTS));
        assert_int_equal(find(f, &f->a, NULL), 1);
}

static void duplicates_counted_once(void **state)
{
        struct fx *f = *state;
        INDEX(f, entry(&f->a, COSIGN_KIND_IMAGE), entry(&f->sigs_a, COSIGN_KIND_SIGS),
              entry(&f->sigs_a, COSIGN_KIND_SIGS));
        assert_int_equal(find(f, &f->a, NULL), 1);
        /* the image listed twice is still one owner */
        INDEX(f, entry(&f->a, COSIGN_KIND_IMAGE), entry(&f->a, COSIGN_KIND_IMAGE), entry(&f->sigs_a, COSIGN_KIND_SIGS));
        assert_int_equal(find(f, &f->a, NULL), 1);
        /* the same manifest in both forms (cosign's kind and skopeo's tag) */
        char tag[100];
        snprintf(tag, sizeof tag, "sha256-%s.sig", f->a.d.hex);
        INDEX(f, entry(&f->a, COSIGN_KIND_IMAGE), entry(&f->sigs_a, COSIGN_KIND_SIGS),
              entry_mt(OCI_MEDIA_TYPE_MANIFEST, &f->sigs_a, NULL, tag));
        assert_int_equal(find(f, &f->a, NULL), 1);
        /* two different signature manifests: both read */
        struct blob second = sign_image(f, &f->a);
        assert_false(digest_equal(&second.d, &f->sigs_a.d)); /* ECDSA signatures are randomised */
        INDEX(f, entry(&f->a, COSIGN_KIND_IMAGE), entry(&f->sigs_a, COSIGN_KIND_SIGS),
              entry(&second, COSIGN_KIND_SIGS));
        assert_int_equal(find(f, &f->a, NULL), 2);
}

static void missing_blobs_refused(void **state)
{
        struct fx *f = *state;
        /* the sigs manifest itself */
        struct blob gone = sign_image(f, &f->a);
        remove_blob(f, &gone);
        INDEX(f, entry(&f->a, COSIGN_KIND_IMAGE), entry(&gone, COSIGN_KIND_SIGS));
        find_fails(f, &f->a, ENOENT, gone.d.hex);
        /* a payload it points at */
        _cleanup_free_ char *p = make_payload("registry.example/sandbox/app", dstr(&f->a));
        struct blob payload = put(f, p);
        struct blob s = sign_image(f, &f->a);
        remove_blob(f, &payload);
        INDEX(f, entry(&f->a, COSIGN_KIND_IMAGE), entry(&s, COSIGN_KIND_SIGS));
        find_fails(f, &f->a, ENOENT, "index.json entry 1 (kind sigs) layer 0");
}

static void malformed_entries_refused(void **state)
{
        struct fx *f = *state;
        /* a kind entry without a digest: index.json itself is refused */
        char e[512];
        snprintf(e, sizeof e,
                 "{\"mediaType\":\"" OCI_MEDIA_TYPE_MANIFEST "\",\"size\":%zu,\"annotations\":"
                 "{\"kind\":\"" COSIGN_KIND_SIGS "\"}}",
                 f->sigs_a.size);
        INDEX(f, entry(&f->a, COSIGN_KIND_IMAGE), e);
        find_fails(f, &f->a, EINVAL, "digest: required string missing");
        snprintf(e, sizeof e,
                 "{\"mediaType\":\"" OCI_MEDIA_TYPE_MANIFEST "\",\"size\":%zu,\"annotations\":"
                 "{\"kind\":\"" COSIGN_KIND_IMAGE "\"}}",
                 f->a.size);
        INDEX(f, e, entry(&f->sigs_a, COSIGN_KIND_SIGS));
        find_fails(f, &f->a, EINVAL, "digest: required string missing");
        /* a kind that is not a string */
        snprintf(e, sizeof e,
                 "{\"mediaType\":\"" OCI_MEDIA_TYPE_MANIFEST "\",\"size\":%zu,\"digest\":\"%s\","
                 "\"annotations\":{\"kind\":7}}",
                 f->sigs_a.size, dstr(&f->sigs_a));
        INDEX(f, entry(&f->a, COSIGN_KIND_IMAGE), e);
        find_fails(f, &f->a, EINVAL, "kind");
        /* a sigs entry that is an index, not a manifest */
        INDEX(f, entry(&f->a, COSIGN_KIND_IMAGE), entry_mt(OCI_MEDIA_TYPE_INDEX, &f->sigs_a, COSIGN_KIND_SIGS, NULL));
        find_fails(f, &f->a, EBADMSG, "index.json entry 1 (kind sigs) is not an image manifest");
        /* two different images both claim to be the one the sigs entry signs */
        INDEX(f, entry(&f->a, COSIGN_KIND_IMAGE), entry(&f->b, COSIGN_KIND_IMAGE), entry(&f->sigs_a, COSIGN_KIND_SIGS));
        find_fails(f, &f->a, EBADMSG, "cannot tell which one");
        find_fails(f, &f->b, EBADMSG, "cannot tell which one");
        /* ... which matters only when there is a sigs entry */
        INDEX(f, entry(&f->a, COSIGN_KIND_IMAGE), entry(&f->b, COSIGN_KIND_IMAGE_INDEX));
        assert_int_equal(find(f, &f->a, NULL), 0);
}

/* A signature that names another image's digest is kept for the image it was saved with, and then
 * refused by the verifier; the image it names does not get it. */
static void signature_claiming_another_image(void **state)
{
        struct fx *f = *state;
        struct blob s = sign_image(f, &f->b);
        INDEX(f, entry(&f->a, COSIGN_KIND_IMAGE), entry(&s, COSIGN_KIND_SIGS),
              entry_mt(OCI_MEDIA_TYPE_MANIFEST, &f->b, NULL, "b"));
        struct sigstore_signature *sigs = NULL;
        assert_int_equal(find(f, &f->a, &sigs), 1);
        _cleanup_herror_ struct herror err = HERROR_INIT;
        assert_int_equal(verify_one(f, true, &sigs[0], &f->a, NULL, &err), -EPERM);
        assert_non_null(strstr(herror_msg(&err), dstr(&f->b)));
        sigstore_signatures_free(sigs, 1);
        assert_int_equal(find(f, &f->b, NULL), 0);
}

/* No image entry: the sigs entry belongs to nothing and is not used. */
static void orphan_sigs_unused(void **state)
{
        struct fx *f = *state;
        INDEX(f, entry_mt(OCI_MEDIA_TYPE_MANIFEST, &f->a, NULL, "a"), entry(&f->sigs_a, COSIGN_KIND_SIGS));
        assert_int_equal(find(f, &f->a, NULL), 0);
        expect_default_image(f, &f->a);
}

/* cosign save of a multi-platform image: the sigs entry signs the index, so only the index's digest
 * finds them, never a platform manifest inside it. */
static void image_index_signatures(void **state)
{
        struct fx *f = *state;
        char *idx = NULL;
        struct oci_platform host;
        oci_platform_host(&host);
        assert_true(asprintf(&idx,
                             "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MEDIA_TYPE_INDEX "\",\"manifests\":[%.*s,"
                             "\"platform\":{\"os\":\"linux\",\"architecture\":\"%s\"}}]}",
                             (int) strlen(entry(&f->a, NULL)) - 1, entry(&f->a, NULL), host.architecture) > 0);
        struct blob i = put(f, idx);
        free(idx);
        struct blob s = sign_image(f, &i);
        INDEX(f, entry_mt(OCI_MEDIA_TYPE_INDEX, &i, COSIGN_KIND_IMAGE_INDEX, NULL), entry(&s, COSIGN_KIND_SIGS));
        assert_int_equal(find(f, &i, NULL), 1);
        assert_int_equal(find(f, &f->a, NULL), 0);
        expect_default_image(f, &f->a);
}

static void artifact_count_limited(void **state)
{
        struct fx *f = *state;
        const char *e[COSIGN_MAX_ARTIFACTS + 2];
        char image[512];
        snprintf(image, sizeof image, "%s", entry(&f->a, COSIGN_KIND_IMAGE));
        e[0] = image;
        static char bufs[COSIGN_MAX_ARTIFACTS + 1][512];
        for (int k = 0; k <= COSIGN_MAX_ARTIFACTS; k++) {
                struct blob s = sign_image(f, &f->a);
                snprintf(bufs[k], sizeof bufs[k], "%s", entry(&s, COSIGN_KIND_SIGS));
                e[k + 1] = bufs[k];
        }
        write_index(f, e, COSIGN_MAX_ARTIFACTS + 1);
        assert_int_equal(find(f, &f->a, NULL), COSIGN_MAX_ARTIFACTS);
        write_index(f, e, COSIGN_MAX_ARTIFACTS + 2);
        find_fails(f, &f->a, E2BIG, "signature artifacts");
}

#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

int main(void)
{
        const struct CMUnitTest tests[] = {
                T(finds_and_verifies),
                T(verifies_before_parsing),
                T(picks_the_image_entry),
                T(artifact_predicate),
                T(attestations_and_unknown_kinds_ignored),
                T(duplicates_counted_once),
                T(missing_blobs_refused),
                T(malformed_entries_refused),
                T(signature_claiming_another_image),
                T(orphan_sigs_unused),
                T(image_index_signatures),
                T(artifact_count_limited),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
