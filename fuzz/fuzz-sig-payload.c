/* Signature material from an image: the payload parser, the strict base64 decoder, and ECDSA signature
 * bytes (DER or raw r||s) checked against a fixed key and payload (the shared test vectors' public key). */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "trust/keys.h"
#include "trust/sigstore.h"

static const char vector_key[] = "-----BEGIN PUBLIC KEY-----\n"
                                 "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE3lPcmNW9plWqWBbofIWIGHXd5xsL\n"
                                 "pJCNNqM8emG6V8t9D9MHTuIGOGYBlmB+0Jd6sbtzzz/9IfCdN3a11spnpQ==\n"
                                 "-----END PUBLIC KEY-----\n";

static const char vector_payload[] =
        "{\"critical\":{\"identity\":{\"docker-reference\":\"registry.example/sandbox/tiny:v2\"},\"image\":"
        "{\"docker-manifest-digest\":\"sha256:43d4055be4be7a0f4a4651189c6225ce2009280c855f0694c00290d51c253946\"},"
        "\"type\":\"cosign container image signature\"},\"optional\":{\"creator\":\"containers/image 5.34.2\","
        "\"timestamp\":1795400802}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static struct trust_key *key;
        if (size > FUZZ_MAX_INPUT)
                return 0;
        if (!key && trust_key_from_pem(vector_key, sizeof vector_key - 1, "vector key", &key, NULL) < 0)
                abort();
        struct herror err = HERROR_INIT;
        struct sigstore_payload p = { 0 };
        if (sigstore_payload_parse((const char *) data, size, &p, &err) == 0) {
                if (!p.docker_reference || !p.manifest_digest)
                        abort();
                sigstore_payload_done(&p);
        }
        unsigned char *raw = NULL;
        size_t raw_len = 0;
        if (base64_decode_strict((const char *) data, size, &raw, &raw_len, &err) == 0) {
                if (raw_len > size)
                        abort();
                free(raw);
        }
        /* The input as signature bytes: DER is at most 72 bytes for P-256, raw r||s exactly 64. */
        if (sigstore_verify_raw(key, vector_payload, sizeof vector_payload - 1, data, size, &err) == 0 && size > 72)
                abort();
        herror_clear(&err);
        return 0;
}
