/* trust/signer.c: key pairs (encryption round trip), private key loading, the canonical payload, and
 * that what hutch signs verifies with sigstore_verify() and with the public key alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "trust/keys.h"
#include "trust/signer.h"
#include "trust/sigstore.h"
#include "trust-helpers.h"

#define DIGEST_A "sha256:43d4055be4be7a0f4a4651189c6225ce2009280c855f0694c00290d51c253946"
#define DIGEST_B "sha256:ec2bb9d891c201bff6cda995de5e42d081c761a9f8b7ec3fd4d893009647be74"
#define IDENTITY "registry.example/sandbox/tiny:v2"

static struct trust_signer *load_signer(const char *pem, const char *pass)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct trust_signer *s = NULL;
        if (trust_signer_from_pem(pem, strlen(pem), "test key", pass, &s, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        return s;
}

static void keypair_encrypted_round_trip(void **state)
{
        (void) state;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        _cleanup_free_ char *priv = NULL, *pub = NULL;
        assert_int_equal(trust_keypair_generate("correct horse", &priv, &pub, &err), 0);
        assert_non_null(strstr(priv, "-----BEGIN ENCRYPTED PRIVATE KEY-----"));
        assert_null(strstr(priv, "-----BEGIN PRIVATE KEY-----"));
        assert_true(trust_private_key_is_encrypted(priv, strlen(priv)));
        assert_non_null(strstr(pub, "-----BEGIN PUBLIC KEY-----"));

        _cleanup_trust_key_ struct trust_key *k = NULL;
        assert_int_equal(trust_key_from_pem(pub, strlen(pub), "pub", &k, &err), 0);
        assert_int_equal(trust_key_type(k), TRUST_KEY_ECDSA_P256);

        /* The right passphrase gives back the same key pair. */
        _cleanup_trust_signer_ struct trust_signer *s = load_signer(priv, "correct horse");
        _cleanup_trust_key_ struct trust_key *derived = NULL;
        assert_int_equal(trust_signer_public_key(s, &derived, &err), 0);
        assert_string_equal(trust_key_id(derived), trust_key_id(k));

        /* Wrong, missing and empty passphrases are refused. */
        struct trust_signer *bad = NULL;
        assert_int_equal(trust_signer_from_pem(priv, strlen(priv), "test key", "wrong horse", &bad, &err),
                         -EKEYREJECTED);
        assert_non_null(strstr(herror_msg(&err), "wrong passphrase"));
        assert_int_equal(trust_signer_from_pem(priv, strlen(priv), "test key", NULL, &bad, &err), -EKEYREJECTED);
        assert_int_equal(trust_signer_from_pem(priv, strlen(priv), "test key", "", &bad, &err), -EKEYREJECTED);
        assert_null(bad);

        /* Two generations never give the same key. */
        _cleanup_free_ char *priv2 = NULL, *pub2 = NULL;
        assert_int_equal(trust_keypair_generate("correct horse", &priv2, &pub2, &err), 0);
        assert_string_not_equal(pub, pub2);
}

static void keypair_unencrypted_and_refusals(void **state)
{
        (void) state;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        _cleanup_free_ char *priv = NULL, *pub = NULL;
        assert_int_equal(trust_keypair_generate(NULL, &priv, &pub, &err), 0);
        assert_non_null(strstr(priv, "-----BEGIN PRIVATE KEY-----"));
        assert_false(trust_private_key_is_encrypted(priv, strlen(priv)));
        _cleanup_trust_signer_ struct trust_signer *s = load_signer(priv, NULL);
        assert_non_null(s);

        char *p = NULL, *q = NULL;
        assert_int_equal(trust_keypair_generate("", &p, &q, &err), -EINVAL);
        assert_null(p);

        struct trust_signer *bad = NULL;
        assert_int_equal(trust_signer_from_pem(pub, strlen(pub), "k.pub", NULL, &bad, &err), -EINVAL);
        assert_non_null(strstr(herror_msg(&err), "public key"));
        static const char cosign[] = "-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----\neyJrZGYiOnt9fQ==\n"
                                     "-----END ENCRYPTED COSIGN PRIVATE KEY-----\n";
        assert_int_equal(trust_signer_from_pem(cosign, strlen(cosign), "cosign.key", "x", &bad, &err), -EOPNOTSUPP);
        assert_non_null(strstr(herror_msg(&err), "cosign.key"));
        assert_int_equal(trust_signer_from_pem("junk", 4, "junk.key", NULL, &bad, &err), -EINVAL);
        /* A corrupted encrypted key fails as a rejection, never as a key. */
        _cleanup_free_ char *epriv = NULL, *epub = NULL;
        assert_int_equal(trust_keypair_generate("pw", &epriv, &epub, &err), 0);
        char *mid = epriv + strlen("-----BEGIN ENCRYPTED PRIVATE KEY-----\n") + 100;
        *mid = *mid == 'A' ? 'B' : 'A';
        assert_true(trust_signer_from_pem(epriv, strlen(epriv), "bad.key", "pw", &bad, &err) < 0);
        assert_null(bad);
}

static void payload_canonical(void **state)
{
        (void) state;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        _cleanup_free_ char *p = NULL;
        size_t len = 0;
        assert_int_equal(sigstore_payload_build(IDENTITY, DIGEST_A, "hutch 1.0", &p, &len, &err), 0);
        /* Go's json.Marshal of the struct containers/image and cosign sign: sorted, compact. */
        assert_string_equal(p,
                            "{\"critical\":{\"identity\":{\"docker-reference\":\"" IDENTITY "\"},\"image\":"
                            "{\"docker-manifest-digest\":\"" DIGEST_A "\"},\"type\":"
                            "\"cosign container image signature\"},\"optional\":{\"creator\":\"hutch 1.0\"}}");
        assert_int_equal(len, strlen(p));
        /* Canonical: re-serialising the parsed JSON compactly with sorted keys gives the same bytes. */
        json_error_t je;
        json_t *j = json_loadb(p, len, JSON_REJECT_DUPLICATES, &je);
        assert_non_null(j);
        char *again = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        assert_string_equal(again, p);
        free(again);
        json_decref(j);

        struct sigstore_payload parsed = { 0 };
        assert_int_equal(sigstore_payload_parse(p, len, &parsed, &err), 0);
        assert_string_equal(parsed.docker_reference, IDENTITY);
        assert_string_equal(parsed.manifest_digest, DIGEST_A);
        assert_string_equal(parsed.creator, "hutch 1.0");
        assert_false(parsed.has_timestamp);
        sigstore_payload_done(&parsed);

        _cleanup_free_ char *n = NULL;
        assert_int_equal(sigstore_payload_build("registry.example/sandbox/tiny", DIGEST_A, NULL, &n, &len, &err), 0);
        assert_non_null(strstr(n, "\"optional\":null}"));
        assert_int_equal(sigstore_payload_parse(n, len, &parsed, &err), 0);
        assert_null(parsed.creator);
        sigstore_payload_done(&parsed);

        /* Refused: unnormalised or malformed references, bad digests, creators needing escapes. */
        char *x = NULL;
        assert_true(sigstore_payload_build("busybox", DIGEST_A, NULL, &x, &len, &err) < 0);
        assert_true(sigstore_payload_build("registry.example/a\"b", DIGEST_A, NULL, &x, &len, &err) < 0);
        assert_true(sigstore_payload_build(IDENTITY, "sha256:abc", NULL, &x, &len, &err) < 0);
        assert_true(sigstore_payload_build(IDENTITY,
                                           "sha256:43D4055BE4BE7A0F4A4651189C6225CE2009280C855F0694C00290D51C253946",
                                           NULL, &x, &len, &err) < 0);
        assert_true(sigstore_payload_build(IDENTITY, DIGEST_A, "a<b", &x, &len, &err) < 0);
        assert_true(sigstore_payload_build(IDENTITY, DIGEST_A, "a\"b", &x, &len, &err) < 0);
        assert_null(x);
}

static void signature_verifies(void **state)
{
        (void) state;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        _cleanup_free_ char *priv = NULL, *pub = NULL, *payload = NULL;
        size_t len = 0;
        assert_int_equal(trust_keypair_generate("pw", &priv, &pub, &err), 0);
        assert_int_equal(sigstore_payload_build(IDENTITY, DIGEST_A, "hutch test", &payload, &len, &err), 0);
        _cleanup_trust_signer_ struct trust_signer *s = load_signer(priv, "pw");
        _cleanup_free_ unsigned char *sig = NULL;
        size_t sig_len = 0;
        assert_int_equal(trust_signer_sign(s, payload, len, &sig, &sig_len, &err), 0);
        /* DER SEQUENCE{r, s} of a P-256 signature: 0x30, 8..72 bytes. */
        assert_int_equal(sig[0], 0x30);
        assert_true(sig_len >= 8 && sig_len <= 72);

        _cleanup_trust_key_ struct trust_key *k = NULL;
        assert_int_equal(trust_key_from_pem(pub, strlen(pub), "pub", &k, &err), 0);
        assert_int_equal(sigstore_verify_raw(k, payload, len, sig, sig_len, &err), 0);

        _cleanup_free_ char *b64s = base64_encode(sig, sig_len);
        struct sigstore_signature ss = { .payload = payload, .payload_len = len, .signature_b64 = b64s };
        const struct trust_key *keys[] = { k };
        struct sigstore_payload out = { 0 };
        size_t idx = 99;
        assert_int_equal(sigstore_verify(keys, 1, &ss, DIGEST_A, &out, &idx, &err), 0);
        assert_int_equal(idx, 0);
        assert_string_equal(out.docker_reference, IDENTITY);
        sigstore_payload_done(&out);
        /* Another manifest digest, a flipped payload byte, another key: rejected. */
        assert_int_equal(sigstore_verify(keys, 1, &ss, DIGEST_B, &out, &idx, &err), -EPERM);
        payload[10] ^= 1;
        assert_int_equal(sigstore_verify(keys, 1, &ss, DIGEST_A, &out, &idx, &err), -EKEYREJECTED);
        payload[10] ^= 1;
        _cleanup_free_ char *priv2 = NULL, *pub2 = NULL;
        assert_int_equal(trust_keypair_generate(NULL, &priv2, &pub2, &err), 0);
        _cleanup_trust_key_ struct trust_key *k2 = NULL;
        assert_int_equal(trust_key_from_pem(pub2, strlen(pub2), "pub2", &k2, &err), 0);
        const struct trust_key *other[] = { k2 };
        assert_int_equal(sigstore_verify(other, 1, &ss, DIGEST_A, &out, &idx, &err), -EKEYREJECTED);
}

/* Keys of the other types keys.h verifies sign with the scheme sigstore.c checks. */
static void other_key_types_sign(void **state)
{
        (void) state;
        static const char *const types[][2] = { { "EC", "P-384" }, { "ED25519", NULL }, { "RSA", "2048" } };
        for (size_t i = 0; i < ELEMENTSOF(types); i++) {
                EVP_PKEY *pk = gen_key(types[i][0], types[i][1]);
                BIO *b = BIO_new(BIO_s_mem());
                assert_int_equal(PEM_write_bio_PKCS8PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL), 1);
                char *pem;
                long n = BIO_get_mem_data(b, &pem);
                _cleanup_free_ char *copy = strndup(pem, (size_t) n);
                BIO_free(b);
                _cleanup_trust_signer_ struct trust_signer *s = load_signer(copy, NULL);
                _cleanup_herror_ struct herror err = HERROR_INIT;
                _cleanup_free_ unsigned char *sig = NULL;
                size_t sig_len = 0;
                assert_int_equal(trust_signer_sign(s, "data", 4, &sig, &sig_len, &err), 0);
                _cleanup_trust_key_ struct trust_key *k = trust_key_of(pk);
                if (sigstore_verify_raw(k, "data", 4, sig, sig_len, &err) < 0)
                        fail_msg("%s: %s", types[i][0], herror_msg(&err));
                EVP_PKEY_free(pk);
        }
}

static void base64_encoding(void **state)
{
        (void) state;
        static const char *const cases[][2] = {
                { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" }, { "foobar", "Zm9vYmFy" }
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *e = base64_encode(cases[i][0], strlen(cases[i][0]));
                assert_string_equal(e, cases[i][1]);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(keypair_encrypted_round_trip),
                cmocka_unit_test(keypair_unencrypted_and_refusals),
                cmocka_unit_test(payload_canonical),
                cmocka_unit_test(signature_verifies),
                cmocka_unit_test(other_key_types_sign),
                cmocka_unit_test(base64_encoding),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
