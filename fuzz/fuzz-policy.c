/* containers-policy.json: the strict parser, then scope lookup and evaluation of the parsed policy for
 * a registry-named image (by tag and by digest) and an OCI layout image, without signatures and with the
 * shared vectors' signature of tiny:v2 (so keyData keys, payload checks and every signedIdentity type are
 * reached). Policies naming key files are evaluated only without signatures: key files are read only
 * when there is a signature to check, and a fuzzer must not open arbitrary paths. */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "trust/policy.h"

#define V2_DIGEST "sha256:43d4055be4be7a0f4a4651189c6225ce2009280c855f0694c00290d51c253946"

static const char vector_payload[] =
        "{\"critical\":{\"identity\":{\"docker-reference\":\"registry.example/sandbox/tiny:v2\"},\"image\":"
        "{\"docker-manifest-digest\":\"" V2_DIGEST "\"},"
        "\"type\":\"cosign container image signature\"},\"optional\":{\"creator\":\"containers/image 5.34.2\","
        "\"timestamp\":1795400802}}";
static const char vector_signature[] =
        "MEYCIQC8BzxvajMBvCND263CRkTXHeQ77Fm5Z3RO+KySZx4ZoAIhANYf2iPYzs3666YnH0yHIazj3fi3D5rN8K76dZ4Zeo1x";

/* Whether any object in the document has a keyPath or keyPaths member (after JSON unescaping). */
static bool names_key_files(json_t *j)
{
        const char *k;
        json_t *v;
        size_t i;
        if (json_is_object(j)) {
                json_object_foreach (j, k, v)
                        if (streq(k, "keyPath") || streq(k, "keyPaths") || names_key_files(v))
                                return true;
        } else if (json_is_array(j)) {
                json_array_foreach (j, i, v)
                        if (names_key_files(v))
                                return true;
        }
        return false;
}

static void evaluate(const struct policy *p, const struct policy_image *img)
{
        struct policy_verdict v = { 0 };
        const char *t, *s;
        policy_lookup(p, img, &t, &s, NULL);
        if (policy_evaluate(p, img, &v, NULL) == 0) {
                if (!v.reason || strchr(v.reason, '\n') || (v.accepted && v.key_id && !v.signed_reference))
                        abort();
                policy_verdict_done(&v);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > FUZZ_MAX_INPUT)
                return 0;
        struct policy *p = NULL;
        struct herror err = HERROR_INIT;
        if (policy_parse((const char *) data, size, "fuzz.json", &p, &err) < 0) {
                if (!err.msg)
                        abort();
                herror_clear(&err);
                return 0;
        }
        json_t *j = json_loadb((const char *) data, size, 0, NULL);
        bool key_files = !j || names_key_files(j);
        json_decref(j);

        static const char *const names[] = { "registry.example/sandbox/tiny:v2", "127.0.0.1:5577/sandbox/tiny:v2",
                                             ("registry.example/sandbox/tiny@" V2_DIGEST), "busybox" };
        struct sigstore_signature sig = { .payload = (char *) vector_payload,
                                          .payload_len = sizeof vector_payload - 1,
                                          .signature_b64 = (char *) vector_signature,
                                          .origin = (char *) "vector" };
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                struct image_ref ref = { 0 };
                if (ref_parse(names[i], &ref, NULL) < 0)
                        abort();
                struct policy_image img = { .transport = POLICY_TRANSPORT_DOCKER,
                                            .ref = &ref,
                                            .manifest_digest = V2_DIGEST };
                evaluate(p, &img);
                if (!key_files) {
                        img.signatures = &sig;
                        img.n_signatures = 1;
                        evaluate(p, &img);
                }
                ref_done(&ref);
        }
        struct policy_image oci = { .transport = POLICY_TRANSPORT_OCI,
                                    .layout_path = "/srv/images/tiny",
                                    .manifest_digest = V2_DIGEST };
        evaluate(p, &oci);
        if (!key_files) {
                oci.signatures = &sig;
                oci.n_signatures = 1;
                evaluate(p, &oci);
        }
        policy_free(p);
        return 0;
}
