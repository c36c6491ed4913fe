#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <limits.h>
#include <sys/stat.h>

#include "image/layout.h"
#include "trust/cosign-layout.h"
#include "trust/policy.h"
#include "trust-helpers.h"

#define V2_DIGEST "sha256:43d4055be4be7a0f4a4651189c6225ce2009280c855f0694c00290d51c253946"
#define EVIL_DIGEST "sha256:ec2bb9d891c201bff6cda995de5e42d081c761a9f8b7ec3fd4d893009647be74"
#define SIG_TAG "sha256-43d4055be4be7a0f4a4651189c6225ce2009280c855f0694c00290d51c253946.sig"

/* ---- the vectors' OCI layout ---- */

struct vimage {
        char digest[DIGEST_STRING_MAX];
        struct sigstore_signature *sigs;
        size_t n_sigs;
};

static char layout_path[PATH_MAX];

static int layout_fd(void)
{
        char p[4096];
        snprintf(p, sizeof p, "%s/oci/tiny-signed", vectors_dir());
        assert_non_null(realpath(p, layout_path));
        int fd = open(layout_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        return fd;
}

/* The manifest digest index.json gives for a tag (the blob is checked against it) and the signatures
 * found for that digest. */
static void load_image(const char *tag, struct vimage *ret)
{
        _cleanup_close_ int fd = layout_fd();
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct oci_index idx = { 0 };
        assert_int_equal(oci_layout_read_index(fd, &idx, &err), 0);
        const struct oci_descriptor *d = NULL;
        for (size_t i = 0; i < idx.n_manifests && !d; i++)
                if (idx.manifests[i].ref_name && streq(idx.manifests[i].ref_name, tag))
                        d = &idx.manifests[i];
        assert_non_null(d);
        _cleanup_free_ char *manifest = NULL;
        size_t len;
        if (oci_layout_read_blob(fd, d, OCI_DOCUMENT_MAX_SIZE, &manifest, &len, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        digest_to_string(&d->digest, ret->digest);
        oci_index_done(&idx);
        if (cosign_layout_find_signatures(fd, ret->digest, &ret->sigs, &ret->n_sigs, &err) < 0)
                fail_msg("%s", herror_msg(&err));
}

static void vimage_done(struct vimage *v)
{
        sigstore_signatures_free(v->sigs, v->n_sigs);
        *v = (struct vimage) { 0 };
}

static struct policy *load_vector_policy(const char *name)
{
        char p[4096];
        snprintf(p, sizeof p, "%s/policies/%s.json", vectors_dir(), name);
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct policy *pol = NULL;
        if (policy_load_file(p, &pol, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        assert_string_equal(policy_source(pol), p);
        return pol;
}

static struct policy *parse_ok(const char *json)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct policy *p = NULL;
        if (policy_parse(json, strlen(json), "test.json", &p, &err) < 0)
                fail_msg("%s: %s", json, herror_msg(&err));
        /* the hash audit records carry is of exactly these bytes */
        struct digest d;
        char ds[DIGEST_STRING_MAX];
        assert_int_equal(digest_buffer(json, strlen(json), &d, NULL), 0);
        assert_string_equal(policy_sha256(p), digest_to_string(&d, ds));
        return p;
}

static void parse_fails(const char *json, const char *msg_part)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct policy *p = NULL;
        if (policy_parse(json, strlen(json), "test.json", &p, &err) == 0) {
                policy_free(p);
                fail_msg("accepted invalid policy %s", json);
        }
        assert_non_null(err.msg);
        if (!strstr(err.msg, msg_part))
                fail_msg("message \"%s\" does not say \"%s\"", err.msg, msg_part);
        assert_non_null(strstr(err.msg, "test.json"));
}

/* Evaluate, requiring that a verdict is produced. */
static void decide(const struct policy *p, const struct policy_image *img, struct policy_verdict *v)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        if (policy_evaluate(p, img, v, &err) < 0)
                fail_msg("no verdict: %s", herror_msg(&err));
        assert_non_null(v->reason);
        assert_null(strchr(v->reason, '\n'));
}

static void docker_image(struct policy_image *img, struct image_ref *ref, const char *name, const struct vimage *vi)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        if (ref_parse(name, ref, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        *img = (struct policy_image) { .transport = POLICY_TRANSPORT_DOCKER,
                                       .ref = ref,
                                       .manifest_digest = vi->digest,
                                       .signatures = vi->sigs,
                                       .n_signatures = vi->n_sigs };
}

static void oci_image(struct policy_image *img, const struct vimage *vi)
{
        *img = (struct policy_image) { .transport = POLICY_TRANSPORT_OCI,
                                       .layout_path = layout_path,
                                       .manifest_digest = vi->digest,
                                       .signatures = vi->sigs,
                                       .n_signatures = vi->n_sigs };
}

/* The registry copy the reg-* verdicts were measured on (vectors/README.md). */
static bool docker_verdict(const char *policy_name, const char *tag, struct policy_verdict *v)
{
        struct vimage vi = { 0 };
        load_image(tag, &vi);
        struct policy *p = load_vector_policy(policy_name);
        char name[128];
        snprintf(name, sizeof name, "127.0.0.1:5577/sandbox/tiny:%s", tag);
        _cleanup_ref_ struct image_ref ref = { 0 };
        struct policy_image img;
        docker_image(&img, &ref, name, &vi);
        decide(p, &img, v);
        policy_free(p);
        vimage_done(&vi);
        return v->accepted;
}

static bool oci_verdict(const char *policy_name, const char *tag, struct policy_verdict *v)
{
        struct vimage vi = { 0 };
        load_image(tag, &vi);
        struct policy *p = load_vector_policy(policy_name);
        struct policy_image img;
        oci_image(&img, &vi);
        decide(p, &img, v);
        policy_free(p);
        vimage_done(&vi);
        return v->accepted;
}

static char *vector_key_id(void)
{
        size_t len;
        _cleanup_free_ char *pem = vector_file("keys/sigstore-p256.pub", &len);
        struct trust_key *k = NULL;
        assert_int_equal(trust_key_from_pem(pem, len, "k", &k, NULL), 0);
        char *id = strdup(trust_key_id(k));
        trust_key_free(k);
        return id;
}

static void expect_reason(const struct policy_verdict *v, const char *part)
{
        if (!strstr(v->reason, part))
                fail_msg("reason \"%s\" does not say \"%s\"", v->reason, part);
}

/* ---- vectors/README.md, "Expected verdicts" ---- */

static void layout_signatures(void **state)
{
        struct vimage v2 = { 0 }, v1 = { 0 }, evil = { 0 };
        load_image("v2", &v2);
        load_image("v1", &v1);
        load_image("evil", &evil);
        assert_string_equal(v2.digest, V2_DIGEST);
        assert_string_equal(evil.digest, EVIL_DIGEST);
        assert_int_equal(v1.n_sigs, 0);
        assert_int_equal(v2.n_sigs, 1);
        assert_int_equal(evil.n_sigs, 1);
        /* exactly the bytes skopeo stored */
        size_t plen, blen;
        _cleanup_free_ char *payload = vector_file("sigstore/tiny-v2.payload.json", &plen);
        _cleanup_free_ char *b = vector_file("sigstore/tiny-v2.sig.b64", &blen);
        assert_int_equal(v2.sigs[0].payload_len, plen);
        assert_memory_equal(v2.sigs[0].payload, payload, plen);
        assert_memory_equal(v2.sigs[0].signature_b64, b, strlen(v2.sigs[0].signature_b64));
        assert_string_equal(v2.sigs[0].origin, SIG_TAG " layer 0");
        vimage_done(&v2);
        vimage_done(&v1);
        vimage_done(&evil);
}

/* hutch save writes the artifact back: from the kept signature, the same bytes skopeo stored. */
static void signature_artifact_roundtrip(void **state)
{
        struct vimage v2 = { 0 };
        load_image("v2", &v2);
        _cleanup_free_ char *manifest = NULL, *config = NULL, *tag = NULL;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        if (cosign_signature_artifact(v2.digest, v2.sigs, v2.n_sigs, &manifest, &config, &tag, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        assert_string_equal(tag, SIG_TAG);
        struct digest md;
        char ds[DIGEST_STRING_MAX];
        assert_int_equal(digest_buffer(manifest, strlen(manifest), &md, NULL), 0);
        assert_string_equal(digest_to_string(&md, ds),
                            "sha256:496858a8271d21406c266791d27727445d4c754cbb5b693a86fe19fdd77ee16c");
        size_t clen;
        _cleanup_free_ char *want = vector_file("oci/tiny-signed/blobs/sha256/"
                                                "2cb328f0ceb17c2e2c4800e8ad33b7be8cea4e7594f2b32cc242aeb343e620c7",
                                                &clen);
        assert_int_equal(strlen(config), clen);
        assert_memory_equal(config, want, clen);
        /* a digest that is not one is refused; a signature without its base64 is left out */
        _cleanup_free_ char *m2 = NULL, *c2 = NULL, *t2 = NULL;
        assert_int_equal(cosign_signature_artifact("sha256:../x", v2.sigs, 1, &m2, &c2, &t2, NULL), -EINVAL);
        struct sigstore_signature none = { .payload = v2.sigs[0].payload, .payload_len = v2.sigs[0].payload_len };
        assert_int_equal(cosign_signature_artifact(v2.digest, &none, 1, &m2, &c2, &t2, NULL), 0);
        assert_null(strstr(m2, "simplesigning"));
        vimage_done(&v2);
}

static void readme_verdicts(void **state)
{
        _cleanup_free_ char *key_id = vector_key_id();
        struct policy_verdict v = { 0 };

        /* v2: signature, digest and identity match */
        assert_true(docker_verdict("reg-tiny-exactrepository", "v2", &v));
        assert_string_equal(v.transport, "docker");
        assert_string_equal(v.scope, "127.0.0.1:5577/sandbox");
        assert_string_equal(v.key_id, key_id);
        assert_string_equal(v.signed_reference, "registry.example/sandbox/tiny:v2");
        assert_int_equal(v.requirement_index, 0);
        expect_reason(&v, key_id);
        policy_verdict_done(&v);
        assert_true(oci_verdict("launcher-oci-exactrepository", "v2", &v));
        assert_string_equal(v.transport, "oci");
        assert_string_equal(v.scope, "");
        assert_string_equal(v.key_id, key_id);
        policy_verdict_done(&v);
        assert_true(docker_verdict("reg-tiny-exactreference", "v2", &v));
        assert_string_equal(v.key_id, key_id);
        policy_verdict_done(&v);

        /* v1: no signature exists for its digest; evil: the payload names 43d4..., the manifest is ec2b... */
        static const char *const signed_policies[] = { "reg-tiny-exactrepository", "reg-tiny-exactreference" };
        for (size_t i = 0; i < ELEMENTSOF(signed_policies); i++) {
                assert_false(docker_verdict(signed_policies[i], "v1", &v));
                expect_reason(&v, "no signature exists");
                assert_int_equal(v.requirement_index, 0);
                assert_null(v.key_id);
                policy_verdict_done(&v);
                assert_false(docker_verdict(signed_policies[i], "evil", &v));
                expect_reason(&v, "signed for manifest " V2_DIGEST ", but the image's manifest is " EVIL_DIGEST);
                assert_null(v.key_id);
                policy_verdict_done(&v);
        }
        assert_false(oci_verdict("launcher-oci-exactrepository", "v1", &v));
        expect_reason(&v, "no signature exists");
        policy_verdict_done(&v);
        assert_false(oci_verdict("launcher-oci-exactrepository", "evil", &v));
        expect_reason(&v, "signed for manifest " V2_DIGEST);
        policy_verdict_done(&v);

        static const char *const tags[] = { "v1", "v2", "evil" };
        for (size_t i = 0; i < ELEMENTSOF(tags); i++) {
                assert_false(docker_verdict("reg-reject-all", tags[i], &v));
                assert_string_equal(v.scope, "default");
                assert_null(v.transport);
                expect_reason(&v, "(reject)");
                policy_verdict_done(&v);
                assert_false(oci_verdict("reg-reject-all", tags[i], &v));
                policy_verdict_done(&v);
                assert_true(docker_verdict("reg-accept-anything", tags[i], &v));
                assert_int_equal(v.requirement_index, -1);
                assert_null(v.key_id);
                policy_verdict_done(&v);
                assert_true(oci_verdict("reg-accept-anything", tags[i], &v));
                policy_verdict_done(&v);
                assert_true(oci_verdict("launcher-oci-insecure", tags[i], &v));
                assert_string_equal(v.transport, "oci");
                policy_verdict_done(&v);
                /* launcher-oci-insecure says nothing about the docker transport: its default rejects */
                assert_false(docker_verdict("launcher-oci-insecure", tags[i], &v));
                policy_verdict_done(&v);
        }

        /* the more specific .../tiny:evil scope wins over the host scope */
        assert_true(docker_verdict("reg-scope-specific-reject-wins", "v2", &v));
        assert_string_equal(v.scope, "127.0.0.1:5577");
        policy_verdict_done(&v);
        assert_false(docker_verdict("reg-scope-specific-reject-wins", "evil", &v));
        assert_string_equal(v.scope, "127.0.0.1:5577/sandbox/tiny:evil");
        policy_verdict_done(&v);
        assert_true(docker_verdict("reg-scope-specific-reject-wins", "v1", &v));
        policy_verdict_done(&v);
}

/* The reg-* policies name the registry copy (127.0.0.1:5577); the same image under its signed name
 * falls through to their "default": reject. */
static void registry_example_name(void **state)
{
        struct vimage vi = { 0 };
        load_image("v2", &vi);
        struct policy *p = load_vector_policy("reg-tiny-exactrepository");
        _cleanup_ref_ struct image_ref ref = { 0 };
        struct policy_image img;
        docker_image(&img, &ref, "registry.example/sandbox/tiny:v2", &vi);
        struct policy_verdict v = { 0 };
        decide(p, &img, &v);
        assert_false(v.accepted);
        assert_string_equal(v.scope, "default");
        policy_verdict_done(&v);
        policy_free(p);
        vimage_done(&vi);
}

/* ---- signedIdentity, each type accepting and rejecting the vector signature ---- */

static bool identity_verdict(const char *identity_json, const char *image_name, bool oci, struct policy_verdict *v)
{
        size_t len;
        _cleanup_free_ char *pem = vector_file("keys/sigstore-p256.pub", &len);
        _cleanup_free_ char *kd = b64(pem, len);
        _cleanup_free_ char *json = NULL;
        assert_true(asprintf(&json,
                             "{\"default\":[{\"type\":\"reject\"}],\"transports\":{"
                             "\"docker\":{\"\":[{\"type\":\"sigstoreSigned\",\"keyData\":\"%s\"%s%s}]},"
                             "\"oci\":{\"\":[{\"type\":\"sigstoreSigned\",\"keyData\":\"%s\"%s%s}]}}}",
                             kd, identity_json ? ",\"signedIdentity\":" : "", identity_json ? identity_json : "", kd,
                             identity_json ? ",\"signedIdentity\":" : "", identity_json ? identity_json : "") > 0);
        struct policy *p = parse_ok(json);
        struct vimage vi = { 0 };
        load_image("v2", &vi);
        _cleanup_ref_ struct image_ref ref = { 0 };
        struct policy_image img;
        if (oci)
                oci_image(&img, &vi);
        else
                docker_image(&img, &ref, image_name, &vi);
        decide(p, &img, v);
        policy_free(p);
        vimage_done(&vi);
        return v->accepted;
}

static void expect_identity(const char *identity_json, const char *image_name, bool want)
{
        struct policy_verdict v = { 0 };
        bool got = identity_verdict(identity_json, image_name, false, &v);
        if (got != want)
                fail_msg("identity %s, image %s: %s", identity_json ? identity_json : "(default)", image_name,
                         v.reason);
        if (!want && !strstr(v.reason, "is not accepted by signedIdentity"))
                fail_msg("reason does not name the identity check: %s", v.reason);
        policy_verdict_done(&v);
}

static void identities(void **state)
{
        /* the signature claims registry.example/sandbox/tiny:v2 */
        const char *by_digest = "registry.example/sandbox/tiny@" V2_DIGEST;

        /* matchRepoDigestOrExact (the default): exact for a tag, same repository for a digest */
        expect_identity(NULL, "registry.example/sandbox/tiny:v2", true);
        expect_identity(NULL, "registry.example/sandbox/tiny:v3", false);
        expect_identity(NULL, "127.0.0.1:5577/sandbox/tiny:v2", false);
        expect_identity(NULL, by_digest, true);
        expect_identity(NULL, "registry.example/sandbox/other@" V2_DIGEST, false);
        expect_identity("{\"type\":\"matchRepoDigestOrExact\"}", "registry.example/sandbox/tiny:v2", true);
        expect_identity("{\"type\":\"matchRepoDigestOrExact\"}", "registry.example/sandbox/tiny:latest", false);

        expect_identity("{\"type\":\"matchExact\"}", "registry.example/sandbox/tiny:v2", true);
        expect_identity("{\"type\":\"matchExact\"}", by_digest, false);
        expect_identity("{\"type\":\"matchExact\"}", "registry.example/sandbox/tiny:v3", false);

        expect_identity("{\"type\":\"matchRepository\"}", "registry.example/sandbox/tiny:v3", true);
        expect_identity("{\"type\":\"matchRepository\"}", by_digest, true);
        expect_identity("{\"type\":\"matchRepository\"}", "registry.example/sandbox/other:v2", false);
        expect_identity("{\"type\":\"matchRepository\"}", "registry.example:443/sandbox/tiny:v2", false);

        expect_identity("{\"type\":\"exactReference\",\"dockerReference\":\"registry.example/sandbox/tiny:v2\"}",
                        "anything.example/x:y", true);
        expect_identity("{\"type\":\"exactReference\",\"dockerReference\":\"registry.example/sandbox/tiny:v3\"}",
                        "registry.example/sandbox/tiny:v2", false);

        expect_identity("{\"type\":\"exactRepository\",\"dockerRepository\":\"registry.example/sandbox/tiny\"}",
                        "anything.example/x:y", true);
        expect_identity("{\"type\":\"exactRepository\",\"dockerRepository\":\"registry.example/sandbox/other\"}",
                        "registry.example/sandbox/tiny:v2", false);

        static const char remap[] =
                "{\"type\":\"remapIdentity\",\"prefix\":\"127.0.0.1:5577/sandbox\",\"signedPrefix\":\"registry.example/sandbox\"}";
        expect_identity(remap, "127.0.0.1:5577/sandbox/tiny:v2", true);
        expect_identity(remap, "127.0.0.1:5577/sandbox/tiny:v3", false);
        expect_identity(remap, "registry.example/sandbox/tiny:v2", true); /* not matching the prefix: unchanged */
        expect_identity("{\"type\":\"remapIdentity\",\"prefix\":\"127.0.0.1:5577/sandbo\","
                        "\"signedPrefix\":\"registry.example/sandbox\"}",
                        "127.0.0.1:5577/sandbox/tiny:v2", false);
        expect_identity("{\"type\":\"remapIdentity\",\"prefix\":\"127.0.0.1:5577\","
                        "\"signedPrefix\":\"registry.example/other\"}",
                        "127.0.0.1:5577/sandbox/tiny:v2", false);
        expect_identity("{\"type\":\"remapIdentity\",\"prefix\":\"127.0.0.1:5577\","
                        "\"signedPrefix\":\"registry.example\"}",
                        "127.0.0.1:5577/sandbox/tiny:v2", true);

        /* An OCI layout has no docker reference: only exactReference/exactRepository can pass. */
        struct policy_verdict v = { 0 };
        assert_false(identity_verdict("{\"type\":\"matchRepository\"}", NULL, true, &v));
        expect_reason(&v, "needs the image's docker reference");
        policy_verdict_done(&v);
        assert_false(identity_verdict(NULL, NULL, true, &v));
        policy_verdict_done(&v);
        assert_true(identity_verdict("{\"type\":\"exactReference\",\"dockerReference\":"
                                     "\"registry.example/sandbox/tiny:v2\"}",
                                     NULL, true, &v));
        policy_verdict_done(&v);
}

/* ---- signatures made here ---- */

struct made {
        EVP_PKEY *key;
        char *payload;
        char *sig_b64;
        struct sigstore_signature sig;
};

static void make_signature(struct made *m, const char *type, const char *param, const char *identity,
                           const char *digest)
{
        m->key = gen_key(type, param);
        m->payload = make_payload(identity, digest);
        size_t n;
        unsigned char *raw = sign_data(m->key, streq(type, "ED25519") ? NULL : EVP_sha256(), false, m->payload,
                                       strlen(m->payload), &n);
        m->sig_b64 = b64(raw, n);
        free(raw);
        m->sig = (struct sigstore_signature) { .payload = m->payload,
                                               .payload_len = strlen(m->payload),
                                               .signature_b64 = m->sig_b64,
                                               .origin = (char *) "made" };
}

static void made_done(struct made *m)
{
        EVP_PKEY_free(m->key);
        free(m->payload);
        free(m->sig_b64);
}

static char tmpdir[64];

static int setup_tmp(void **state)
{
        snprintf(tmpdir, sizeof tmpdir, "/tmp/hutch-policy-XXXXXX");
        return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmp(void **state)
{
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        return system(cmd) == 0 ? 0 : -1;
}

static char *write_tmp(const char *name, const char *content)
{
        char *p;
        assert_true(asprintf(&p, "%s/%s", tmpdir, name) > 0);
        _cleanup_free_ char *dir = strdup(p);
        *strrchr(dir, '/') = 0;
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);
        assert_int_equal(atomic_write_at(dfd, strrchr(p, '/') + 1, content, strlen(content), 0644, NULL), 0);
        return p;
}

static void eval_made(const char *policy_json, const struct made *const *sigs, size_t n, const char *name,
                      const char *digest, struct policy_verdict *v)
{
        struct policy *p = parse_ok(policy_json);
        struct sigstore_signature arr[8];
        for (size_t i = 0; i < n; i++)
                arr[i] = sigs[i]->sig;
        _cleanup_ref_ struct image_ref ref = { 0 };
        assert_int_equal(ref_parse(name, &ref, NULL), 0);
        struct policy_image img = { .transport = POLICY_TRANSPORT_DOCKER,
                                    .ref = &ref,
                                    .manifest_digest = digest,
                                    .signatures = arr,
                                    .n_signatures = n };
        decide(p, &img, v);
        policy_free(p);
}

static void generated_signatures(void **state)
{
        struct made ec = { 0 }, ed = { 0 };
        make_signature(&ec, "EC", "P-256", "example.com/app:1", V2_DIGEST);
        make_signature(&ed, "ED25519", NULL, "example.com/app:1", V2_DIGEST);
        _cleanup_free_ char *kd_ec = key_data_of(ec.key);
        _cleanup_free_ char *kd_ed = key_data_of(ed.key);
        struct trust_key *tk = trust_key_of(ec.key);
        _cleanup_free_ char *ec_id = strdup(trust_key_id(tk));
        trust_key_free(tk);
        tk = trust_key_of(ed.key);
        _cleanup_free_ char *ed_id = strdup(trust_key_id(tk));
        trust_key_free(tk);
        const struct made *only_ec[] = { &ec };
        const struct made *both[] = { &ed, &ec };
        struct policy_verdict v = { 0 };
        _cleanup_free_ char *json = NULL;

        /* keyData */
        assert_true(asprintf(&json, "{\"default\":[{\"type\":\"sigstoreSigned\",\"keyData\":\"%s\"}]}", kd_ec) > 0);
        eval_made(json, only_ec, 1, "example.com/app:1", V2_DIGEST, &v);
        assert_true(v.accepted);
        assert_string_equal(v.key_id, ec_id);
        policy_verdict_done(&v);
        /* another digest, another tag */
        eval_made(json, only_ec, 1, "example.com/app:1", EVIL_DIGEST, &v);
        assert_false(v.accepted);
        policy_verdict_done(&v);
        eval_made(json, only_ec, 1, "example.com/app:2", V2_DIGEST, &v);
        assert_false(v.accepted);
        policy_verdict_done(&v);
        /* Two signatures, one by an untrusted key: any accepted signature suffices. */
        eval_made(json, both, 2, "example.com/app:1", V2_DIGEST, &v);
        assert_true(v.accepted);
        assert_string_equal(v.key_id, ec_id);
        policy_verdict_done(&v);
        /* Both rejected: the reason lists each. */
        eval_made(json, both, 2, "example.com/app:2", V2_DIGEST, &v);
        assert_false(v.accepted);
        expect_reason(&v, "None of the 2 signatures were accepted: [1] made: cryptographic signature verification");
        expect_reason(&v, "[2] signature for identity \"example.com/app:1\" is not accepted");
        policy_verdict_done(&v);
        free(json);

        /* keyDatas: any listed key may sign; the verdict names the one that did */
        assert_true(asprintf(&json, "{\"default\":[{\"type\":\"sigstoreSigned\",\"keyDatas\":[\"%s\",\"%s\"]}]}", kd_ec,
                             kd_ed) > 0);
        const struct made *only_ed[] = { &ed };
        eval_made(json, only_ed, 1, "example.com/app:1", V2_DIGEST, &v);
        assert_true(v.accepted);
        assert_string_equal(v.key_id, ed_id);
        policy_verdict_done(&v);
        free(json);

        /* keyPath and keyPaths, read at evaluation */
        char *pem_ec = public_pem(ec.key), *pem_ed = public_pem(ed.key);
        _cleanup_free_ char *path_ec = write_tmp("ec.pub", pem_ec);
        _cleanup_free_ char *path_ed = write_tmp("ed.pub", pem_ed);
        free(pem_ec);
        free(pem_ed);
        assert_true(asprintf(&json, "{\"default\":[{\"type\":\"sigstoreSigned\",\"keyPath\":\"%s\"}]}", path_ec) > 0);
        eval_made(json, only_ec, 1, "example.com/app:1", V2_DIGEST, &v);
        assert_true(v.accepted);
        assert_string_equal(v.key_id, ec_id);
        policy_verdict_done(&v);
        eval_made(json, only_ed, 1, "example.com/app:1", V2_DIGEST, &v);
        assert_false(v.accepted);
        expect_reason(&v, "cryptographic signature verification failed");
        policy_verdict_done(&v);
        free(json);
        assert_true(asprintf(&json, "{\"default\":[{\"type\":\"sigstoreSigned\",\"keyPaths\":[\"%s\",\"%s\"]}]}",
                             path_ed, path_ec) > 0);
        eval_made(json, only_ec, 1, "example.com/app:1", V2_DIGEST, &v);
        assert_true(v.accepted);
        assert_string_equal(v.key_id, ec_id);
        policy_verdict_done(&v);
        free(json);

        /* A key file that is missing or not a key: rejected, naming the file. */
        _cleanup_free_ char *not_key = write_tmp("junk.pub", "junk\n");
        assert_true(asprintf(&json, "{\"default\":[{\"type\":\"sigstoreSigned\",\"keyPaths\":[\"%s\",\"%s/none\"]}]}",
                             path_ec, tmpdir) > 0);
        eval_made(json, only_ec, 1, "example.com/app:1", V2_DIGEST, &v);
        assert_false(v.accepted);
        expect_reason(&v, "cannot load a trusted key");
        expect_reason(&v, "/none");
        policy_verdict_done(&v);
        free(json);
        assert_true(asprintf(&json, "{\"default\":[{\"type\":\"sigstoreSigned\",\"keyPath\":\"%s\"}]}", not_key) > 0);
        eval_made(json, only_ec, 1, "example.com/app:1", V2_DIGEST, &v);
        assert_false(v.accepted);
        expect_reason(&v, "junk.pub");
        policy_verdict_done(&v);
        free(json);

        /* Every requirement must accept. */
        assert_true(asprintf(&json,
                             "{\"default\":[{\"type\":\"insecureAcceptAnything\"},"
                             "{\"type\":\"sigstoreSigned\",\"keyData\":\"%s\"}]}",
                             kd_ec) > 0);
        eval_made(json, only_ec, 1, "example.com/app:1", V2_DIGEST, &v);
        assert_true(v.accepted);
        assert_int_equal(v.requirement_index, 1);
        /* what each requirement said */
        assert_int_equal(v.n_requirements, 2);
        assert_string_equal(v.requirements[0].type, "insecureAcceptAnything");
        assert_true(v.requirements[0].accepted);
        assert_null(v.requirements[0].key_id);
        assert_string_equal(v.requirements[1].type, "sigstoreSigned");
        assert_true(v.requirements[1].accepted);
        assert_string_equal(v.requirements[1].key_id, ec_id);
        assert_string_equal(v.requirements[1].signed_reference, "example.com/app:1");
        assert_non_null(strstr(v.requirements[1].reason, ec_id));
        policy_verdict_done(&v);
        free(json);
        assert_true(asprintf(&json,
                             "{\"default\":[{\"type\":\"sigstoreSigned\",\"keyData\":\"%s\"},"
                             "{\"type\":\"reject\"}]}",
                             kd_ec) > 0);
        eval_made(json, only_ec, 1, "example.com/app:1", V2_DIGEST, &v);
        assert_false(v.accepted);
        assert_int_equal(v.requirement_index, 1);
        assert_null(v.key_id);
        /* the signature requirement still reports its key; the verdict does not (it was rejected) */
        assert_int_equal(v.n_requirements, 2);
        assert_true(v.requirements[0].accepted);
        assert_string_equal(v.requirements[0].key_id, ec_id);
        assert_false(v.requirements[1].accepted);
        assert_string_equal(v.requirements[1].type, "reject");
        expect_reason(&v, v.requirements[1].reason);
        policy_verdict_done(&v);
        free(json);
        /* every requirement is evaluated, also after the first rejection; the verdict names the first */
        assert_true(asprintf(&json,
                             "{\"default\":[{\"type\":\"reject\"},"
                             "{\"type\":\"sigstoreSigned\",\"keyData\":\"%s\"},"
                             "{\"type\":\"sigstoreSigned\",\"keyData\":\"%s\"}]}",
                             kd_ec, kd_ed) > 0);
        eval_made(json, only_ec, 1, "example.com/app:1", V2_DIGEST, &v);
        assert_false(v.accepted);
        assert_int_equal(v.requirement_index, 0);
        expect_reason(&v, "requirement 0 (reject)");
        assert_int_equal(v.n_requirements, 3);
        assert_false(v.requirements[0].accepted);
        assert_true(v.requirements[1].accepted);
        assert_string_equal(v.requirements[1].key_id, ec_id);
        assert_false(v.requirements[2].accepted);
        assert_null(v.requirements[2].key_id);
        assert_non_null(strstr(v.requirements[2].reason, "verification failed"));
        policy_verdict_done(&v);
        free(json);
        /* two signature requirements (two signers) */
        assert_true(asprintf(&json,
                             "{\"default\":[{\"type\":\"sigstoreSigned\",\"keyData\":\"%s\"},"
                             "{\"type\":\"sigstoreSigned\",\"keyData\":\"%s\"}]}",
                             kd_ec, kd_ed) > 0);
        eval_made(json, both, 2, "example.com/app:1", V2_DIGEST, &v);
        assert_true(v.accepted);
        assert_string_equal(v.key_id, ec_id);
        assert_int_equal(v.requirement_index, 0);
        policy_verdict_done(&v);
        eval_made(json, only_ec, 1, "example.com/app:1", V2_DIGEST, &v);
        assert_false(v.accepted);
        assert_int_equal(v.requirement_index, 1);
        policy_verdict_done(&v);
        free(json);
        json = NULL;

        made_done(&ec);
        made_done(&ed);
}

/* Requirements hutch parses but cannot evaluate: the file loads, the requirement rejects. */
static void unsupported_requirements(void **state)
{
        struct made ec = { 0 };
        make_signature(&ec, "EC", "P-256", "example.com/app:1", V2_DIGEST);
        _cleanup_free_ char *kd = key_data_of(ec.key);
        const struct made *s[] = { &ec };
        struct policy_verdict v = { 0 };
        char *json;

        eval_made("{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPath\":\"/etc/pki/k.gpg\"}]}", s,
                  1, "example.com/app:1", V2_DIGEST, &v);
        assert_false(v.accepted);
        expect_reason(&v, "signedBy (GPG simple signing) is not supported by hutch");
        policy_verdict_done(&v);
        eval_made("{\"default\":[{\"type\":\"signedBaseLayer\",\"baseLayerIdentity\":{\"type\":\"matchRepository\"}}]}",
                  s, 1, "example.com/app:1", V2_DIGEST, &v);
        assert_false(v.accepted);
        expect_reason(&v, "signedBaseLayer is not supported");
        policy_verdict_done(&v);
        eval_made("{\"default\":[{\"type\":\"sigstoreSigned\",\"fulcio\":{\"caPath\":\"/ca.pem\",\"oidcIssuer\":"
                  "\"https://issuer\",\"subjectEmail\":\"a@b\"},\"rekorPublicKeyPath\":\"/rekor.pub\"}]}",
                  s, 1, "example.com/app:1", V2_DIGEST, &v);
        assert_false(v.accepted);
        expect_reason(&v, "fulcio");
        policy_verdict_done(&v);
        eval_made("{\"default\":[{\"type\":\"sigstoreSigned\",\"pki\":{\"caRootsPath\":\"/ca.pem\","
                  "\"subjectHostname\":\"h\"}}]}",
                  s, 1, "example.com/app:1", V2_DIGEST, &v);
        assert_false(v.accepted);
        expect_reason(&v, "pki");
        policy_verdict_done(&v);
        assert_true(asprintf(&json,
                             "{\"default\":[{\"type\":\"sigstoreSigned\",\"keyData\":\"%s\","
                             "\"rekorPublicKeyData\":\"%s\"}]}",
                             kd, kd) > 0);
        eval_made(json, s, 1, "example.com/app:1", V2_DIGEST, &v);
        assert_false(v.accepted);
        expect_reason(&v, "Rekor");
        policy_verdict_done(&v);
        free(json);
        made_done(&ec);
}

static void invalid_policies(void **state)
{
        size_t len;
        _cleanup_free_ char *pem = vector_file("keys/sigstore-p256.pub", &len);
        _cleanup_free_ char *kd = b64(pem, len);
        _cleanup_free_ char *not_pem = b64("hello", 5);
        char *j;

        parse_fails("", "test.json");
        parse_fails("not json", "test.json");
        parse_fails("{}", ".default: required property missing");
        parse_fails("{\"default\":[]}", ".default: the list of requirements must not be empty");
        parse_fails("{\"default\":{}}", ".default: expected an array");
        parse_fails("{\"default\":[{\"type\":\"reject\"}],\"other\":1}", ".other: unknown property");
        parse_fails("{\"default\":[{\"type\":\"reject\"}],\"default\":[{\"type\":\"reject\"}]}", "duplicate");
        parse_fails("{\"default\":[{\"type\":\"reject\"}]} []", "test.json");
        parse_fails("{\"default\":[{\"type\":\"allow\"}]}", "unknown policy requirement type \"allow\"");
        parse_fails("{\"default\":[{}]}", ".default[0].type: required property missing");
        parse_fails("{\"default\":[{\"type\":1}]}", ".default[0].type: expected a string");
        parse_fails("{\"default\":[\"reject\"]}", ".default[0]: expected an object");
        parse_fails("{\"default\":[{\"type\":\"reject\",\"x\":1}]}", ".default[0].x: unknown property");
        parse_fails("{\"default\":[{\"type\":\"insecureAcceptAnything\",\"keyPath\":\"/k\"}]}",
                    ".default[0].keyPath: unknown property");
        parse_fails("{\"default\":[{\"type\":\"sigstoreSigned\"}]}", "exactly one of keyPath, keyPaths");
        parse_fails("{\"default\":[{\"type\":\"sigstoreSigned\",\"keyPath\":\"/a\",\"keyPaths\":[\"/b\"]}]}",
                    "exactly one of keyPath, keyPaths");
        parse_fails("{\"default\":[{\"type\":\"sigstoreSigned\",\"keyPath\":\"relative.pub\"}]}",
                    "is not an absolute path");
        parse_fails("{\"default\":[{\"type\":\"sigstoreSigned\",\"keyPaths\":[]}]}", "keyPaths: contains no entries");
        parse_fails("{\"default\":[{\"type\":\"sigstoreSigned\",\"keyPaths\":[\"/a\",\"b\"]}]}", "keyPaths[1]");
        parse_fails("{\"default\":[{\"type\":\"sigstoreSigned\",\"keyData\":\"!!!!\"}]}", ".default[0].keyData");
        parse_fails("{\"default\":[{\"type\":\"sigstoreSigned\",\"keyData\":\"QR==\"}]}", "non-canonical");
        assert_true(asprintf(&j, "{\"default\":[{\"type\":\"sigstoreSigned\",\"keyData\":\"%s\"}]}", not_pem) > 0);
        parse_fails(j, "no PEM block");
        free(j);
        assert_true(asprintf(&j, "{\"default\":[{\"type\":\"sigstoreSigned\",\"keyDatas\":[\"%s\",\"%s\"]}]}", kd,
                             not_pem) > 0);
        parse_fails(j, "keyDatas[1]");
        free(j);
        parse_fails("{\"default\":[{\"type\":\"sigstoreSigned\",\"fulcio\":{\"caPath\":\"/ca\",\"oidcIssuer\":\"i\","
                    "\"subjectEmail\":\"e\"}}]}",
                    "fulcio needs");
        parse_fails("{\"default\":[{\"type\":\"sigstoreSigned\",\"fulcio\":{\"caPath\":\"/ca\",\"oidcIssuer\":\"i\"},"
                    "\"rekorPublicKeyPath\":\"/r\"}]}",
                    "subjectEmail");
        parse_fails("{\"default\":[{\"type\":\"sigstoreSigned\",\"keyPath\":\"/k\",\"rekorPublicKeyPath\":\"/r\","
                    "\"rekorPublicKeyData\":\"QUJD\"}]}",
                    "at most one of rekorPublicKeyPath");
        parse_fails("{\"default\":[{\"type\":\"sigstoreSigned\",\"pki\":{\"caRootsPath\":\"/r\"}}]}", "subjectEmail");
        parse_fails("{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"PGP\",\"keyPath\":\"/k\"}]}", "keyType");
        parse_fails("{\"default\":[{\"type\":\"signedBy\",\"keyPath\":\"/k\"}]}", "keyType: required");

        /* signedIdentity */
        static const char *const bad_identities[][2] = {
                { "{\"type\":\"matchAnything\"}", "unknown signedIdentity type" },
                { "{\"type\":\"matchExact\",\"x\":1}", "signedIdentity.x: unknown property" },
                { "{\"type\":\"exactReference\"}", "dockerReference: required property missing" },
                { "{\"type\":\"exactReference\",\"dockerReference\":\"registry.example/sandbox/tiny\"}",
                  "has neither a tag nor a digest" },
                { "{\"type\":\"exactReference\",\"dockerReference\":\"Bad Ref\"}", "dockerReference" },
                { "{\"type\":\"exactRepository\",\"dockerRepository\":\"registry.example/UPPER\"}",
                  "dockerRepository" },
                { "{\"type\":\"remapIdentity\",\"prefix\":\"a.example/x\"}", "signedPrefix: required" },
                { "{\"type\":\"remapIdentity\",\"prefix\":\"a.example/x:tag\",\"signedPrefix\":\"b.example\"}",
                  "is not valid" },
                { "\"matchExact\"", "signedIdentity: expected an object" },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad_identities); i++) {
                assert_true(asprintf(&j,
                                     "{\"default\":[{\"type\":\"sigstoreSigned\",\"keyData\":\"%s\","
                                     "\"signedIdentity\":%s}]}",
                                     kd, bad_identities[i][0]) > 0);
                parse_fails(j, bad_identities[i][1]);
                free(j);
        }

        /* scopes */
        parse_fails("{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"docker\":{\"busybox\":"
                    "[{\"type\":\"reject\"}]}}}",
                    "never matches");
        parse_fails("{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"docker\":{\"docker.io/library/busybox\":"
                    "[]}}}",
                    "must not be empty");
        parse_fails("{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"oci\":{\"relative/dir\":"
                    "[{\"type\":\"reject\"}]}}}",
                    "absolute, canonical path");
        parse_fails("{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"oci\":{\"/\":"
                    "[{\"type\":\"reject\"}]}}}",
                    "absolute, canonical path");
        parse_fails("{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"dir\":{\"/a/../b\":"
                    "[{\"type\":\"reject\"}]}}}",
                    "absolute, canonical path");
        parse_fails("{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"oci\":{\"/a/\":"
                    "[{\"type\":\"reject\"}]}}}",
                    "absolute, canonical path");
        parse_fails("{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"docker-archive\":{\"/a\":"
                    "[{\"type\":\"reject\"}]}}}",
                    "docker-archive");
        parse_fails("{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"docker\":[]}}", "expected an object");
        /* requirements in transports hutch never evaluates are still parsed strictly */
        parse_fails("{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"containers-storage\":{\"x\":"
                    "[{\"type\":\"nope\"}]}}}",
                    "unknown policy requirement type");

        /* ... and valid ones load */
        struct policy *p =
                parse_ok("{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"containers-storage\":"
                         "{\"[overlay@/var/lib/containers/storage]\":[{\"type\":\"insecureAcceptAnything\"}]},"
                         "\"docker-daemon\":{\"\":[{\"type\":\"reject\"}]},"
                         "\"oci\":{\"/srv/images/x:v2\":[{\"type\":\"reject\"}]}}}");
        policy_free(p);
}

/* ---- most specific scope: the example of containers-policy.json(5), "A reasonably locked-down system" ---- */

static const char man_example[] =
        "{\"default\":[{\"type\":\"reject\"}],"
        " \"transports\":{"
        "  \"docker\":{"
        "   \"docker.io/openshift\":[{\"type\":\"insecureAcceptAnything\"}],"
        "   \"docker.io/library/busybox\":[{\"type\":\"insecureAcceptAnything\"}],"
        "   \"*.temporary-project.example.com\":[{\"type\":\"insecureAcceptAnything\"}],"
        "   \"hostname:5000/myns/sigstore-signed-with-full-references\":"
        "     [{\"type\":\"sigstoreSigned\",\"keyPath\":\"/path/to/sigstore-pubkey.pub\"}],"
        "   \"hostname:5000/myns/sigstore-signed-allows-malicious-tag-substitution\":"
        "     [{\"type\":\"sigstoreSigned\",\"keyPath\":\"/path/to/sigstore-pubkey.pub\","
        "       \"signedIdentity\":{\"type\":\"matchRepository\"}}]},"
        "  \"dir\":{\"\":[{\"type\":\"insecureAcceptAnything\"}]},"
        "  \"atomic\":{"
        "   \"hostname:5000/myns/official\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\","
        "     \"keyPath\":\"/path/to/official-pubkey.gpg\"}],"
        "   \"hostname:5000/vendor/product\":["
        "     {\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPath\":\"/path/to/vendor-pubkey.gpg\","
        "      \"signedIdentity\":{\"type\":\"exactRepository\",\"dockerRepository\":\"vendor-hostname/product/repository\"}},"
        "     {\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPath\":\"/path/to/reviewer-pubkey.gpg\"}],"
        "   \"private-mirror:5000/vendor-mirror\":["
        "     {\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPath\":\"/path/to/vendor-pubkey.gpg\","
        "      \"signedIdentity\":{\"type\":\"remapIdentity\",\"prefix\":\"private-mirror:5000/vendor-mirror\","
        "       \"signedPrefix\":\"vendor.example.com\"}}]}}}";

static void expect_scope(const struct policy *p, const char *name, const char *want_scope, bool want_accept)
{
        _cleanup_ref_ struct image_ref ref = { 0 };
        assert_int_equal(ref_parse(name, &ref, NULL), 0);
        struct policy_image img = { .transport = POLICY_TRANSPORT_DOCKER, .ref = &ref, .manifest_digest = V2_DIGEST };
        const char *t, *s;
        assert_int_equal(policy_lookup(p, &img, &t, &s, NULL), 0);
        if (!streq(s, want_scope))
                fail_msg("%s: scope \"%s\", want \"%s\"", name, s, want_scope);
        if (streq(want_scope, "default"))
                assert_null(t);
        else
                assert_string_equal(t, "docker");
        struct policy_verdict v = { 0 };
        decide(p, &img, &v);
        if (v.accepted != want_accept)
                fail_msg("%s: %s", name, v.reason);
        assert_string_equal(v.scope, want_scope);
        policy_verdict_done(&v);
}

static void most_specific_scope(void **state)
{
        struct policy *p = parse_ok(man_example);
        expect_scope(p, "openshift/hello-openshift", "docker.io/openshift", true);
        expect_scope(p, "docker.io/openshift/origin:v3", "docker.io/openshift", true);
        expect_scope(p, "busybox", "docker.io/library/busybox", true);
        expect_scope(p, "docker.io/library/busybox@" V2_DIGEST, "docker.io/library/busybox", true);
        expect_scope(p, "alpine", "default", false);
        expect_scope(p, "docker.io/openshiftx/y", "default",
                     false); /* a namespace is a path prefix, not a string one */
        expect_scope(p, "a.temporary-project.example.com/x:1", "*.temporary-project.example.com", true);
        expect_scope(p, "a.b.temporary-project.example.com:5000/x:1", "*.temporary-project.example.com", true);
        expect_scope(p, "temporary-project.example.com/x:1", "default", false); /* the wildcard needs a subdomain */
        expect_scope(p, "hostname:5000/myns/sigstore-signed-with-full-references:v1",
                     "hostname:5000/myns/sigstore-signed-with-full-references", false);
        expect_scope(p, "hostname:5000/myns/official:v1", "default", false); /* only an "atomic" scope */
        policy_free(p);

        /* The most specific match wins, even when broader scopes would accept (and the reverse). */
        p = parse_ok("{\"default\":[{\"type\":\"insecureAcceptAnything\"}],\"transports\":{\"docker\":{"
                     "\"\":[{\"type\":\"reject\"}],"
                     "\"*.example.com\":[{\"type\":\"insecureAcceptAnything\"}],"
                     "\"*.b.example.com\":[{\"type\":\"reject\"}],"
                     "\"a.b.example.com\":[{\"type\":\"insecureAcceptAnything\"}],"
                     "\"a.b.example.com/ns\":[{\"type\":\"reject\"}],"
                     "\"a.b.example.com/ns/app\":[{\"type\":\"insecureAcceptAnything\"}],"
                     "\"a.b.example.com/ns/app:bad\":[{\"type\":\"reject\"}],"
                     "\"a.b.example.com/ns/app@" V2_DIGEST "\":[{\"type\":\"reject\"}]}}}");
        expect_scope(p, "a.b.example.com/ns/app:good", "a.b.example.com/ns/app", true);
        expect_scope(p, "a.b.example.com/ns/app:bad", "a.b.example.com/ns/app:bad", false);
        expect_scope(p, "a.b.example.com/ns/app@" V2_DIGEST, "a.b.example.com/ns/app@" V2_DIGEST, false);
        expect_scope(p, "a.b.example.com/ns/other:1", "a.b.example.com/ns", false);
        expect_scope(p, "a.b.example.com/x:1", "a.b.example.com", true);
        expect_scope(p, "c.b.example.com/x:1", "*.b.example.com", false);
        expect_scope(p, "c.example.com/x:1", "*.example.com", true);
        expect_scope(p, "other.org/x:1", "", false); /* the transport's "" before the global default */
        policy_free(p);
}

/* OCI scopes: the layout directory and its parents, never the tag. */
static void oci_scopes(void **state)
{
        struct vimage vi = { 0 };
        load_image("v1", &vi);
        char parent[PATH_MAX];
        snprintf(parent, sizeof parent, "%s", layout_path);
        *strrchr(parent, '/') = 0;
        _cleanup_free_ char *json = NULL;
        assert_true(asprintf(&json,
                             "{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"oci\":{"
                             "\"%s\":[{\"type\":\"insecureAcceptAnything\"}],"
                             "\"%s:v1\":[{\"type\":\"reject\"}]}}}",
                             parent, layout_path) > 0);
        struct policy *p = parse_ok(json);
        struct policy_image img;
        oci_image(&img, &vi);
        struct policy_verdict v = { 0 };
        decide(p, &img, &v);
        assert_true(v.accepted);
        assert_string_equal(v.scope, parent);
        policy_verdict_done(&v);

        /* A layout path that is not canonical: rejected before any requirement. */
        char odd[PATH_MAX + 8];
        snprintf(odd, sizeof odd, "%s/.", layout_path);
        img.layout_path = odd;
        decide(p, &img, &v);
        assert_false(v.accepted);
        assert_int_equal(v.requirement_index, -1);
        expect_reason(&v, "not absolute and canonical");
        policy_verdict_done(&v);
        img.layout_path = "relative/x";
        decide(p, &img, &v);
        assert_false(v.accepted);
        policy_verdict_done(&v);
        policy_free(p);
        vimage_done(&vi);
}

/* Bad input is a rejection with a reason, never an acceptance. */
static void fail_closed(void **state)
{
        struct policy *p = parse_ok("{\"default\":[{\"type\":\"insecureAcceptAnything\"}]}");
        _cleanup_ref_ struct image_ref ref = { 0 };
        assert_int_equal(ref_parse("example.com/a:1", &ref, NULL), 0);
        struct policy_image img = { .transport = POLICY_TRANSPORT_DOCKER, .ref = &ref, .manifest_digest = "sha256:x" };
        struct policy_verdict v = { 0 };
        decide(p, &img, &v);
        assert_false(v.accepted);
        expect_reason(&v, "manifest digest");
        policy_verdict_done(&v);
        img.manifest_digest = V2_DIGEST;
        img.ref = NULL;
        decide(p, &img, &v);
        assert_false(v.accepted);
        policy_verdict_done(&v);
        _cleanup_ref_ struct image_ref name_only = { 0 };
        assert_int_equal(ref_parse_normalized("example.com/a", &name_only, NULL), 0);
        img.ref = &name_only;
        decide(p, &img, &v);
        assert_false(v.accepted);
        policy_verdict_done(&v);
        img.ref = &ref;
        img.transport = _POLICY_TRANSPORT_MAX;
        decide(p, &img, &v);
        assert_false(v.accepted);
        policy_verdict_done(&v);
        img.transport = POLICY_TRANSPORT_DOCKER;
        decide(p, &img, &v);
        assert_true(v.accepted);
        policy_verdict_done(&v);
        assert_int_equal(policy_evaluate(p, NULL, &v, NULL), -EINVAL);
        policy_free(p);
}

/* ---- where the policy comes from ---- */

static void builtin_default(void **state)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct policy *p = NULL;
        assert_int_equal(policy_load_builtin(&p, &err), 0);
        assert_string_equal(policy_source(p), POLICY_BUILTIN_SOURCE);
        _cleanup_ref_ struct image_ref ref = { 0 };
        assert_int_equal(ref_parse("docker.io/library/busybox:latest", &ref, NULL), 0);
        struct policy_image img = { .transport = POLICY_TRANSPORT_DOCKER, .ref = &ref, .manifest_digest = V2_DIGEST };
        struct policy_verdict v = { 0 };
        decide(p, &img, &v);
        assert_false(v.accepted);
        policy_verdict_done(&v);
        img = (struct policy_image) { .transport = POLICY_TRANSPORT_OCI,
                                      .layout_path = "/srv/x",
                                      .manifest_digest = V2_DIGEST };
        decide(p, &img, &v);
        assert_false(v.accepted);
        policy_verdict_done(&v);
        policy_free(p);

        /* the embedded bytes are policy/default.json */
        const char *src = getenv("HUTCH_SOURCE_DIR");
        if (src) {
                char path[4096];
                snprintf(path, sizeof path, "%s/policy/default.json", src);
                assert_int_equal(policy_load_file(path, &p, &err), 0);
                policy_free(p);
        }
}

static void file_lookup(void **state)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct policy *p = NULL;
        char *path = NULL;

        /* explicit: used as given, and it must exist and be valid */
        assert_int_equal(policy_locate("/x/explicit.json", &path, &err), 0);
        assert_string_equal(path, "/x/explicit.json");
        free(path);
        assert_true(policy_load("/nonexistent/policy.json", &p, &err) < 0);
        assert_non_null(strstr(err.msg, "/nonexistent/policy.json"));
        assert_true(policy_load(tmpdir, &p, &err) < 0); /* a directory */
        assert_non_null(strstr(err.msg, "not a regular file"));
        _cleanup_free_ char *broken = write_tmp("broken.json", "{\"default\":[{\"type\":\"reject\"}],}");
        assert_true(policy_load(broken, &p, &err) < 0);
        assert_non_null(strstr(err.msg, broken));
        char through_file[4096];
        snprintf(through_file, sizeof through_file, "%s/x", broken); /* ENOTDIR */
        assert_true(policy_load(through_file, &p, &err) < 0);

        /* $XDG_CONFIG_HOME/hutch/policy.json */
        char xdg[128], dir[160];
        snprintf(xdg, sizeof xdg, "%s/xdg", tmpdir);
        snprintf(dir, sizeof dir, "%s/hutch", xdg);
        assert_int_equal(mkdir(xdg, 0755), 0);
        assert_int_equal(mkdir(dir, 0755), 0);
        _cleanup_free_ char *user =
                write_tmp("xdg/hutch/policy.json", "{\"default\":[{\"type\":\"insecureAcceptAnything\"}]}");
        setenv("XDG_CONFIG_HOME", xdg, 1);
        assert_int_equal(policy_locate(NULL, &path, &err), 0);
        assert_string_equal(path, user);
        free(path);
        assert_int_equal(policy_load(NULL, &p, &err), 0);
        assert_string_equal(policy_source(p), user);
        policy_free(p);

        /* A user file that exists but is broken fails: no falling through to a more permissive one. */
        free(write_tmp("xdg/hutch/policy.json", "{\"default\":[]}"));
        assert_true(policy_load(NULL, &p, &err) < 0);
        assert_non_null(strstr(err.msg, user));

        /* ~/.config/hutch/policy.json when XDG_CONFIG_HOME is unset or relative */
        char home[128], cfg[160], hdir[192];
        snprintf(home, sizeof home, "%s/home", tmpdir);
        snprintf(cfg, sizeof cfg, "%s/.config", home);
        snprintf(hdir, sizeof hdir, "%s/hutch", cfg);
        assert_int_equal(mkdir(home, 0755), 0);
        assert_int_equal(mkdir(cfg, 0755), 0);
        assert_int_equal(mkdir(hdir, 0755), 0);
        _cleanup_free_ char *home_file =
                write_tmp("home/.config/hutch/policy.json", "{\"default\":[{\"type\":\"reject\"}]}");
        setenv("XDG_CONFIG_HOME", "relative/dir", 1);
        setenv("HOME", home, 1);
        assert_int_equal(policy_locate(NULL, &path, &err), 0);
        assert_string_equal(path, home_file);
        free(path);

        /* no user file: /etc/hutch/policy.json if this machine has one, else the built-in default */
        unsetenv("XDG_CONFIG_HOME");
        setenv("HOME", tmpdir, 1);
        assert_int_equal(policy_locate(NULL, &path, &err), 0);
        if (access(POLICY_SYSTEM_PATH, F_OK) == 0)
                assert_string_equal(path, POLICY_SYSTEM_PATH);
        else {
                assert_null(path);
                assert_int_equal(policy_load(NULL, &p, &err), 0);
                assert_string_equal(policy_source(p), POLICY_BUILTIN_SOURCE);
                policy_free(p);
        }
        free(path);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(layout_signatures),
                cmocka_unit_test(signature_artifact_roundtrip),
                cmocka_unit_test(readme_verdicts),
                cmocka_unit_test(registry_example_name),
                cmocka_unit_test(identities),
                cmocka_unit_test(generated_signatures),
                cmocka_unit_test(unsupported_requirements),
                cmocka_unit_test(invalid_policies),
                cmocka_unit_test(most_specific_scope),
                cmocka_unit_test(oci_scopes),
                cmocka_unit_test(fail_closed),
                cmocka_unit_test(builtin_default),
                cmocka_unit_test(file_lookup),
        };
        const struct CMUnitTest without_vectors[] = {
                cmocka_unit_test(generated_signatures), cmocka_unit_test(unsupported_requirements),
                cmocka_unit_test(most_specific_scope),  cmocka_unit_test(fail_closed),
                cmocka_unit_test(builtin_default),      cmocka_unit_test(file_lookup),
        };
        if (!vectors_present())
                return cmocka_run_group_tests(without_vectors, setup_tmp, teardown_tmp);
        return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
