#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/ec.h>
#include <openssl/x509.h>

#include "trust/keys.h"
#include "trust/sigstore.h"
#include "trust-helpers.h"

#define V2_DIGEST "sha256:43d4055be4be7a0f4a4651189c6225ce2009280c855f0694c00290d51c253946"
#define EVIL_DIGEST "sha256:ec2bb9d891c201bff6cda995de5e42d081c761a9f8b7ec3fd4d893009647be74"

static struct trust_key *vector_key(const char *name)
{
        char path[4096];
        snprintf(path, sizeof path, "%s/keys/%s", vectors_dir(), name);
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct trust_key *k = NULL;
        if (trust_key_load_file(path, &k, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        return k;
}

/* ---- base64 ---- */

static void expect_b64(const char *in, const char *want, size_t want_len)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        _cleanup_free_ unsigned char *out = NULL;
        size_t len = 0;
        if (base64_decode_strict(in, strlen(in), &out, &len, &err) < 0)
                fail_msg("\"%s\": %s", in, herror_msg(&err));
        assert_int_equal(len, want_len);
        assert_memory_equal(out, want, want_len);
}

static void expect_b64_invalid(const char *in)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        unsigned char *out = NULL;
        size_t len = 0;
        if (base64_decode_strict(in, strlen(in), &out, &len, &err) == 0) {
                free(out);
                fail_msg("accepted invalid base64 \"%s\"", in);
        }
        assert_int_equal(err.errnum, EBADMSG);
        assert_null(out);
}

static void base64_strict(void **state)
{
        expect_b64("QQ==", "A", 1);
        expect_b64("QUI=", "AB", 2);
        expect_b64("QUJD", "ABC", 3);
        expect_b64("+/+/", "\xfb\xff\xbf", 3);
        expect_b64_invalid("");
        expect_b64_invalid("QQ");       /* unpadded */
        expect_b64_invalid("QUJ");      /* truncated */
        expect_b64_invalid("QR==");     /* non-zero unused bits: non-canonical */
        expect_b64_invalid("QUJ=");     /* the same with one '=' (canonical: QUI=) */
        expect_b64_invalid("QUJ=QUJD"); /* padding in the middle */
        expect_b64_invalid("Q===");
        expect_b64_invalid("====");
        expect_b64_invalid("QU JD");
        expect_b64_invalid("QUJD\n");
        expect_b64_invalid("QUJD\r\nQUJD");
        expect_b64_invalid("QU-_"); /* URL alphabet */
        expect_b64_invalid("QUJD====");

        /* The vector annotation decodes to exactly the DER file. */
        size_t der_len, b64_len;
        _cleanup_free_ char *der = vector_file("sigstore/tiny-v2.sig.der", &der_len);
        _cleanup_free_ char *b = vector_file("sigstore/tiny-v2.sig.b64", &b64_len);
        while (b64_len > 0 && b[b64_len - 1] == '\n')
                b[--b64_len] = 0;
        expect_b64(b, der, der_len);
}

/* ---- keys ---- */

static void keys_vectors(void **state)
{
        struct trust_key *k = vector_key("sigstore-p256.pub");
        assert_int_equal(trust_key_type(k), TRUST_KEY_ECDSA_P256);
        assert_string_equal(trust_key_type_name(trust_key_type(k)), "ECDSA P-256");
        assert_int_equal(trust_key_bits(k), 256);

        /* The id is sha256 over the DER SubjectPublicKeyInfo, computed here independently. */
        size_t len;
        _cleanup_free_ char *pem = vector_file("keys/sigstore-p256.pub", &len);
        BIO *bio = BIO_new_mem_buf(pem, (int) len);
        EVP_PKEY *pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
        BIO_free(bio);
        assert_non_null(pk);
        unsigned char *der = NULL;
        int dlen = i2d_PUBKEY(pk, &der);
        unsigned char md[32];
        unsigned mdlen;
        assert_int_equal(EVP_Digest(der, (size_t) dlen, md, &mdlen, EVP_sha256(), NULL), 1);
        char want[80] = "sha256:";
        for (int i = 0; i < 32; i++)
                sprintf(want + 7 + 2 * i, "%02x", md[i]);
        assert_string_equal(trust_key_id(k), want);
        OPENSSL_free(der);
        EVP_PKEY_free(pk);

        struct trust_key *other = vector_key("other-p256.pub");
        assert_string_not_equal(trust_key_id(k), trust_key_id(other));
        trust_key_free(k);
        trust_key_free(other);
}

static void expect_key_refused(const char *pem, const char *msg_part)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct trust_key *k = NULL;
        if (trust_key_from_pem(pem, strlen(pem), "test.pub", &k, &err) == 0) {
                trust_key_free(k);
                fail_msg("accepted a key that must be refused (%s)", msg_part);
        }
        if (!strstr(err.msg, msg_part))
                fail_msg("message \"%s\" does not say \"%s\"", err.msg, msg_part);
        assert_non_null(strstr(err.msg, "test.pub"));
}

static void keys_refused(void **state)
{
        expect_key_refused("-----BEGIN PUBLIC KEY-----\n"
                           "MEMwBQYDK2VxAzoAYoC5EURdIrn/m86D/TxFa2vSRmEmDDlyAEyS9WBd8U9dD+fb\n"
                           "ItOuSlnBDrPsny4r/lyUd/2ulYyA\n"
                           "-----END PUBLIC KEY-----\n",
                           "ED448 keys are not supported");
        expect_key_refused("-----BEGIN PUBLIC KEY-----\n"
                           "MIGbMBAGByqGSM49AgEGBSuBBAAjA4GGAAQBL8UDdSOjsgp5iTsU/I++oUB8XKPP\n"
                           "gfMD4Fk69eAlDTjSSugDogilqhwB/KS510qO4lx2Qkky7N1TZgiyqv9ltKEAMKTL\n"
                           "M5YYrmt8FeLctlXSZzMNVhjcGqN51lisg/LTRyigr1UVi/E+r+sgV44nynTda50Z\n"
                           "DOOxj9Sb1hdid522Vuw=\n"
                           "-----END PUBLIC KEY-----\n",
                           "curve secp521r1 is not supported");
        expect_key_refused("-----BEGIN RSA PUBLIC KEY-----\n"
                           "MIGJAoGBAL8Ac+ZjdCpq0yUQdFFudWk6GUBqyGo+4T67f+LbYSLqp8Jb30MDes0B\n"
                           "/qWezCbqHO4Yqbcp+cGLMjfARZpMoSsY78brGtfomarzxfXplKmo0RB2x87om5IO\n"
                           "f70PFS47BhdFMhT3qUH0L8tvddL/AZJqlTer65+IIYLps3fU9///AgMBAAE=\n"
                           "-----END RSA PUBLIC KEY-----\n",
                           "RSA PUBLIC KEY\" is not supported");
        expect_key_refused("-----BEGIN PUBLIC KEY-----\n"
                           "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC9NlZxTxvz1X0V3MwIzdZrcNE0\n"
                           "0fArzVXR6KoJI5jIsmzEEhKHVRkTHREx1Bhlpvg34U4RVEHyrhCYERN7uxsVJWpf\n"
                           "rNUH/jfRCLexvIbsXso8N0f/D0ZH2kNznBTp8VpanFUc9jFzuijWLveCttKxJ7j6\n"
                           "WuECuNu6cw431vxKKwIDAQAB\n"
                           "-----END PUBLIC KEY-----\n",
                           "RSA key of 1024 bits is not supported");
        expect_key_refused("-----BEGIN PUBLIC KEY-----\n"
                           "MIIBIDALBgkqhkiG9w0BAQoDggEPADCCAQoCggEBAJ53SD8viDeFSxxn5nIo40eD\n"
                           "0hsa79EkFLGakA8CA+A8OFHdhoM9bAGICZ36I+AdKlbV2ZmLKII3cmJq4C/5UQhV\n"
                           "9McUaAqQp4tx5VTwqZzK/VZck+NWoFu1SfLeRl7NQ2jSgXomz5SDIFg81QC4BK/t\n"
                           "f9tfDjQ0mmmiwIkHVmqyHXgz8TctKh2ETOT5jewh9Xb/ffYJgaEL983n2piL5r1j\n"
                           "unHCz4WqgMD982gzm6Q5akEaxlF8y/rh4TauUv7o1A3uaSfvdsSAi1k75ZJUfprx\n"
                           "vTsMGOdc/BOzoolcxeQTvhlsGS7kRDPNEBa8MOLIQuETTyXAsm62AxgZgLGg7IkC\n"
                           "AwEAAQ==\n"
                           "-----END PUBLIC KEY-----\n",
                           "RSA-PSS-restricted");
        /* P-256 written with explicit curve parameters instead of the named curve */
        expect_key_refused("-----BEGIN PUBLIC KEY-----\n"
                           "MIIBSzCCAQMGByqGSM49AgEwgfcCAQEwLAYHKoZIzj0BAQIhAP////8AAAABAAAA\n"
                           "AAAAAAAAAAAA////////////////MFsEIP////8AAAABAAAAAAAAAAAAAAAA////\n"
                           "///////////8BCBaxjXYqjqT57PrvVV2mIa8ZR0GsMxTsPY7zjw+J9JgSwMVAMSd\n"
                           "NgiG5wSTamZ44ROdJreBn36QBEEEaxfR8uEsQkf4vOblY6RA8ncDfYEt6zOg9KE5\n"
                           "RdiYwpZP40Li/hp/m47n60p8D54WK84zV2sxXs7LtkBoN79R9QIhAP////8AAAAA\n"
                           "//////////+85vqtpxeehPO5ysL8YyVRAgEBA0IABJ6GySGQaMsUfRy0TDg8+R2O\n"
                           "FRuQwcO5gMlLLLqLQ0jZHGSetWq0NBsVimUkogyIbiHVQto6rH3x8WDPjZsbxxs=\n"
                           "-----END PUBLIC KEY-----\n",
                           "explicit curve parameters");
        expect_key_refused(
                "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
                "-----END PRIVATE KEY-----\n",
                "is a private key");
        expect_key_refused("not a key at all\n", "no PEM block");
        expect_key_refused("", "no PEM block");
        expect_key_refused("-----BEGIN PUBLIC KEY-----\nMFkwEw==\n-----END PUBLIC KEY-----\n",
                           "not a valid SubjectPublicKeyInfo");

        /* Two keys in one block of text: use keyPaths/keyDatas instead. */
        size_t l1, l2;
        _cleanup_free_ char *a = vector_file("keys/sigstore-p256.pub", &l1);
        _cleanup_free_ char *b = vector_file("keys/other-p256.pub", &l2);
        _cleanup_free_ char *both = NULL;
        assert_true(asprintf(&both, "%s%s", a, b) > 0);
        expect_key_refused(both, "more than one PEM block");

        /* Explanatory text around the block is allowed (RFC 7468). */
        _cleanup_free_ char *texted = NULL;
        assert_true(asprintf(&texted, "my signing key\n%sthe end\n", a) > 0);
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct trust_key *k = NULL;
        assert_int_equal(trust_key_from_pem(texted, strlen(texted), "texted", &k, &err), 0);
        trust_key_free(k);

        /* A missing file names the path. */
        assert_true(trust_key_load_file("/nonexistent/key.pub", &k, &err) < 0);
        assert_non_null(strstr(err.msg, "/nonexistent/key.pub"));
        assert_int_equal(trust_key_load_file("/", &k, &err), -EINVAL);
}

/* ---- raw signatures ---- */

static void der_to_p1363(const unsigned char *der, size_t len, unsigned char out[64])
{
        const unsigned char *p = der;
        ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long) len);
        assert_non_null(s);
        assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(s), out, 32), 32);
        assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(s), out + 32, 32), 32);
        ECDSA_SIG_free(s);
}

static void vector_der_and_p1363(void **state)
{
        size_t plen, dlen;
        _cleanup_free_ char *payload = vector_file("sigstore/tiny-v2.payload.json", &plen);
        _cleanup_free_ char *der = vector_file("sigstore/tiny-v2.sig.der", &dlen);
        struct trust_key *k = vector_key("sigstore-p256.pub");
        struct trust_key *other = vector_key("other-p256.pub");
        _cleanup_herror_ struct herror err = HERROR_INIT;
        const unsigned char *sig = (const unsigned char *) der;

        assert_int_equal(sigstore_verify_raw(k, payload, plen, sig, dlen, &err), 0);
        /* wrong key */
        assert_int_equal(sigstore_verify_raw(other, payload, plen, sig, dlen, &err), -EKEYREJECTED);
        assert_non_null(strstr(err.msg, trust_key_id(other)));
        /* tampered payload: one byte */
        payload[10] ^= 1;
        assert_int_equal(sigstore_verify_raw(k, payload, plen, sig, dlen, &err), -EKEYREJECTED);
        payload[10] ^= 1;
        /* truncated DER, DER with trailing data, non-canonical DER (long-form length) */
        assert_int_equal(sigstore_verify_raw(k, payload, plen, sig, dlen - 1, &err), -EKEYREJECTED);
        unsigned char longer[128];
        memcpy(longer, der, dlen);
        longer[dlen] = 0;
        assert_int_equal(sigstore_verify_raw(k, payload, plen, longer, dlen + 1, &err), -EKEYREJECTED);
        unsigned char longform[130];
        longform[0] = 0x30;
        longform[1] = 0x81;
        longform[2] = (unsigned char) (dlen - 2);
        memcpy(longform + 3, der + 2, dlen - 2);
        assert_int_equal(sigstore_verify_raw(k, payload, plen, longform, dlen + 1, &err), -EKEYREJECTED);

        /* The same signature as raw r||s (IEEE P1363) verifies too; a cut one does not. */
        unsigned char raw[64];
        der_to_p1363(sig, dlen, raw);
        assert_int_equal(sigstore_verify_raw(k, payload, plen, raw, 64, &err), 0);
        assert_int_equal(sigstore_verify_raw(other, payload, plen, raw, 64, &err), -EKEYREJECTED);
        assert_int_equal(sigstore_verify_raw(k, payload, plen, raw, 63, &err), -EKEYREJECTED);
        assert_non_null(strstr(err.msg, "neither DER nor raw"));
        raw[40] ^= 0x80;
        assert_int_equal(sigstore_verify_raw(k, payload, plen, raw, 64, &err), -EKEYREJECTED);
        trust_key_free(k);
        trust_key_free(other);
}

static void check_type(const char *type, const char *param, const EVP_MD *sign_md, bool pss, enum trust_key_type want)
{
        static const char msg[] = "{\"critical\":{}}";
        EVP_PKEY *pk = gen_key(type, param);
        EVP_PKEY *wrong = gen_key("EC", "P-256");
        struct trust_key *k = trust_key_of(pk);
        struct trust_key *wk = trust_key_of(wrong);
        assert_int_equal(trust_key_type(k), want);
        size_t n;
        unsigned char *sig = sign_data(pk, sign_md, pss, msg, sizeof msg - 1, &n);
        _cleanup_herror_ struct herror err = HERROR_INIT;
        if (sigstore_verify_raw(k, msg, sizeof msg - 1, sig, n, &err) < 0)
                fail_msg("%s/%s: %s", type, param ? param : "", herror_msg(&err));
        /* another message; a key of another type; a signature of this type checked with a P-256 key */
        assert_int_equal(sigstore_verify_raw(k, msg, sizeof msg - 2, sig, n, &err), -EKEYREJECTED);
        assert_int_equal(sigstore_verify_raw(wk, msg, sizeof msg - 1, sig, n, &err), -EKEYREJECTED);
        size_t wn;
        unsigned char *wsig = sign_data(wrong, EVP_sha256(), false, msg, sizeof msg - 1, &wn);
        assert_int_equal(sigstore_verify_raw(k, msg, sizeof msg - 1, wsig, wn, &err), -EKEYREJECTED);
        free(wsig);
        free(sig);
        trust_key_free(k);
        trust_key_free(wk);
        EVP_PKEY_free(pk);
        EVP_PKEY_free(wrong);
}

static void generated_keys(void **state)
{
        check_type("EC", "P-256", EVP_sha256(), false, TRUST_KEY_ECDSA_P256);
        check_type("EC", "P-384", EVP_sha384(), false, TRUST_KEY_ECDSA_P384); /* cosign */
        check_type("EC", "P-384", EVP_sha256(), false, TRUST_KEY_ECDSA_P384); /* containers/image */
        check_type("ED25519", NULL, NULL, false, TRUST_KEY_ED25519);
        check_type("RSA", "2048", EVP_sha256(), false, TRUST_KEY_RSA);
        check_type("RSA", "2048", EVP_sha256(), true, TRUST_KEY_RSA);

        /* P-256 only with SHA-256; RSA only with SHA-256. */
        static const char msg[] = "payload";
        _cleanup_herror_ struct herror err = HERROR_INIT;
        EVP_PKEY *ec = gen_key("EC", "P-256");
        struct trust_key *eck = trust_key_of(ec);
        size_t n;
        unsigned char *sig = sign_data(ec, EVP_sha512(), false, msg, sizeof msg, &n);
        assert_int_equal(sigstore_verify_raw(eck, msg, sizeof msg, sig, n, &err), -EKEYREJECTED);
        free(sig);
        EVP_PKEY *rsa = gen_key("RSA", "2048");
        struct trust_key *rk = trust_key_of(rsa);
        sig = sign_data(rsa, EVP_sha512(), false, msg, sizeof msg, &n);
        assert_int_equal(sigstore_verify_raw(rk, msg, sizeof msg, sig, n, &err), -EKEYREJECTED);
        free(sig);
        trust_key_free(eck);
        trust_key_free(rk);
        EVP_PKEY_free(ec);
        EVP_PKEY_free(rsa);
}

/* ---- payload parsing ---- */

static void expect_payload_invalid(const char *p, const char *msg_part)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct sigstore_payload out = { 0 };
        if (sigstore_payload_parse(p, strlen(p), &out, &err) == 0) {
                sigstore_payload_done(&out);
                fail_msg("accepted invalid payload %s", p);
        }
        assert_int_equal(err.errnum, EBADMSG);
        if (!strstr(err.msg, msg_part))
                fail_msg("message \"%s\" does not say \"%s\"", err.msg, msg_part);
        assert_null(out.docker_reference);
}

#define CRIT_OK                                                                                        \
        "\"identity\":{\"docker-reference\":\"a.example/b:c\"},\"image\":{\"docker-manifest-digest\":" \
        "\"" V2_DIGEST "\"},\"type\":\"cosign container image signature\""

static void payload_parsing(void **state)
{
        size_t plen;
        _cleanup_free_ char *payload = vector_file("sigstore/tiny-v2.payload.json", &plen);
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct sigstore_payload p = { 0 };
        assert_int_equal(sigstore_payload_parse(payload, plen, &p, &err), 0);
        assert_string_equal(p.docker_reference, "registry.example/sandbox/tiny:v2");
        assert_string_equal(p.manifest_digest, V2_DIGEST);
        assert_string_equal(p.creator, "containers/image 5.34.2");
        assert_true(p.has_timestamp);
        assert_int_equal(p.timestamp, 1795400802);
        sigstore_payload_done(&p);

        /* Accepted variations: optional null (cosign), unknown optional members, an integral real. */
        static const char *const ok[] = {
                "{\"critical\":{" CRIT_OK "},\"optional\":null}",
                "{\"optional\":{\"foo\":[1,{\"x\":null}],\"timestamp\":1.7e9},\"critical\":{" CRIT_OK "}}",
                "{\"critical\":{" CRIT_OK "},\"optional\":{}}",
        };
        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                if (sigstore_payload_parse(ok[i], strlen(ok[i]), &p, &err) < 0)
                        fail_msg("%s: %s", ok[i], herror_msg(&err));
                assert_string_equal(p.docker_reference, "a.example/b:c");
                sigstore_payload_done(&p);
        }

        expect_payload_invalid("{\"critical\":{" CRIT_OK "},\"critical\":{" CRIT_OK "},\"optional\":null}",
                               "duplicate");
        expect_payload_invalid("{\"critical\":{" CRIT_OK ",\"type\":\"cosign container image signature\"},"
                               "\"optional\":null}",
                               "duplicate");
        expect_payload_invalid("{\"critical\":{" CRIT_OK ",\"extra\":1},\"optional\":null}",
                               ".critical.extra: unknown property");
        expect_payload_invalid("{\"critical\":{\"identity\":{\"docker-reference\":\"a.example/b:c\",\"x\":1},"
                               "\"image\":{\"docker-manifest-digest\":\"" V2_DIGEST "\"},"
                               "\"type\":\"cosign container image signature\"},\"optional\":null}",
                               ".critical.identity.x: unknown property");
        expect_payload_invalid("{\"critical\":{\"identity\":{\"docker-reference\":\"a.example/b:c\"},"
                               "\"image\":{\"docker-manifest-digest\":\"" V2_DIGEST "\",\"more\":\"\"},"
                               "\"type\":\"cosign container image signature\"},\"optional\":null}",
                               ".critical.image.more: unknown property");
        expect_payload_invalid("{\"critical\":{" CRIT_OK "},\"optional\":null,\"top\":1}", ".top: unknown property");
        expect_payload_invalid("{\"critical\":{" CRIT_OK "},\"optional\":null} x", "payload");
        expect_payload_invalid("{\"critical\":{" CRIT_OK "},\"optional\":null}{}", "payload");
        expect_payload_invalid("{\"critical\":{" CRIT_OK "}}", ".optional: required property missing");
        expect_payload_invalid("{\"optional\":null}", ".critical: required property missing");
        expect_payload_invalid("{\"critical\":{\"identity\":{\"docker-reference\":\"a.example/b:c\"},"
                               "\"type\":\"cosign container image signature\"},\"optional\":null}",
                               ".critical.image: required property missing");
        expect_payload_invalid("{\"critical\":{\"identity\":{},\"image\":{\"docker-manifest-digest\":\"" V2_DIGEST
                               "\"},\"type\":\"cosign container image signature\"},\"optional\":null}",
                               "docker-reference: required property missing");
        expect_payload_invalid("{\"critical\":{\"identity\":{\"docker-reference\":7},\"image\":"
                               "{\"docker-manifest-digest\":\"" V2_DIGEST "\"},"
                               "\"type\":\"cosign container image signature\"},\"optional\":null}",
                               "docker-reference: expected a string");
        expect_payload_invalid("{\"critical\":{\"identity\":\"a.example/b:c\",\"image\":"
                               "{\"docker-manifest-digest\":\"" V2_DIGEST "\"},"
                               "\"type\":\"cosign container image signature\"},\"optional\":null}",
                               ".critical.identity: expected an object");
        expect_payload_invalid("{\"critical\":{\"identity\":{\"docker-reference\":\"a.example/b:c\"},\"image\":"
                               "{\"docker-manifest-digest\":\"" V2_DIGEST "\"},"
                               "\"type\":\"atomic container signature\"},\"optional\":null}",
                               ".critical.type");
        expect_payload_invalid("{\"critical\":{" CRIT_OK "},\"optional\":\"x\"}", ".optional: expected an object");
        expect_payload_invalid("{\"critical\":{" CRIT_OK "},\"optional\":{\"creator\":1}}", ".optional.creator");
        expect_payload_invalid("{\"critical\":{" CRIT_OK "},\"optional\":{\"timestamp\":1.5}}", ".optional.timestamp");
        expect_payload_invalid("{\"critical\":{" CRIT_OK "},\"optional\":{\"timestamp\":\"1\"}}",
                               ".optional.timestamp");
        expect_payload_invalid("[]", ".: expected an object");
        expect_payload_invalid("{\"critical\":{\"identity\":{\"docker-reference\":\"a\\u0000b\"},\"image\":"
                               "{\"docker-manifest-digest\":\"" V2_DIGEST "\"},"
                               "\"type\":\"cosign container image signature\"},\"optional\":null}",
                               "payload");
}

/* ---- the whole check ---- */

static void full_verification(void **state)
{
        size_t plen, blen;
        _cleanup_free_ char *payload = vector_file("sigstore/tiny-v2.payload.json", &plen);
        _cleanup_free_ char *b = vector_file("sigstore/tiny-v2.sig.b64", &blen);
        while (blen > 0 && b[blen - 1] == '\n')
                b[--blen] = 0;
        struct trust_key *right = vector_key("sigstore-p256.pub");
        struct trust_key *wrong = vector_key("other-p256.pub");
        const struct trust_key *both[] = { wrong, right };
        struct sigstore_signature sig = {
                .payload = payload, .payload_len = plen, .signature_b64 = b, .origin = (char *) "test sig"
        };
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct sigstore_payload p = { 0 };
        size_t idx = 99;

        assert_int_equal(sigstore_verify(both, 2, &sig, V2_DIGEST, &p, &idx, &err), 0);
        assert_int_equal(idx, 1);
        assert_string_equal(p.docker_reference, "registry.example/sandbox/tiny:v2");
        sigstore_payload_done(&p);

        /* a signature over another digest: the evil image's */
        assert_int_equal(sigstore_verify(both, 2, &sig, EVIL_DIGEST, &p, &idx, &err), -EPERM);
        assert_non_null(strstr(err.msg, "signed for manifest " V2_DIGEST));
        /* wrong key only */
        assert_int_equal(sigstore_verify(both, 1, &sig, V2_DIGEST, &p, &idx, &err), -EKEYREJECTED);
        assert_non_null(strstr(err.msg, "test sig"));
        /* tampered payload: re-serialised with a space, same content */
        _cleanup_free_ char *spaced = NULL;
        assert_true(asprintf(&spaced, "%s ", payload) > 0);
        struct sigstore_signature tampered = sig;
        tampered.payload = spaced;
        tampered.payload_len = plen + 1;
        assert_int_equal(sigstore_verify(both, 2, &tampered, V2_DIGEST, &p, &idx, &err), -EKEYREJECTED);
        /* missing annotation, truncated and non-canonical base64 */
        struct sigstore_signature none = sig;
        none.signature_b64 = NULL;
        assert_int_equal(sigstore_verify(both, 2, &none, V2_DIGEST, &p, &idx, &err), -ENOENT);
        struct sigstore_signature cut = sig;
        _cleanup_free_ char *cutb = strndup(b, blen - 4);
        cut.signature_b64 = cutb;
        assert_int_equal(sigstore_verify(both, 2, &cut, V2_DIGEST, &p, &idx, &err), -EKEYREJECTED);
        cutb[blen - 5] = 0;
        assert_int_equal(sigstore_verify(both, 2, &cut, V2_DIGEST, &p, &idx, &err), -EBADMSG);
        /* non-canonical base64 (unused bits set), whitespace inside */
        _cleanup_free_ char *noncanon = strdup("QR==");
        struct sigstore_signature nc = sig;
        nc.signature_b64 = noncanon;
        assert_int_equal(sigstore_verify(both, 2, &nc, V2_DIGEST, &p, &idx, &err), -EBADMSG);
        _cleanup_free_ char *ws = NULL;
        assert_true(asprintf(&ws, "%.20s\n%s", b, b + 20) > 0);
        nc.signature_b64 = ws;
        assert_int_equal(sigstore_verify(both, 2, &nc, V2_DIGEST, &p, &idx, &err), -EBADMSG);
        /* no keys */
        assert_int_equal(sigstore_verify(both, 0, &sig, V2_DIGEST, &p, &idx, &err), -EINVAL);
        trust_key_free(right);
        trust_key_free(wrong);
}

/* Payloads that only fail after the signature verified: they are signed here with a fresh key. */
static void signed_but_malformed(void **state)
{
        EVP_PKEY *pk = gen_key("EC", "P-256");
        struct trust_key *k = trust_key_of(pk);
        const struct trust_key *keys[] = { k };
        static const char *const bad[] = {
                "{\"critical\":{" CRIT_OK "},\"critical\":{" CRIT_OK "},\"optional\":null}",
                "{\"critical\":{" CRIT_OK ",\"x\":1},\"optional\":null}",
                "{\"critical\":{" CRIT_OK "},\"optional\":null}trailing",
                "{\"critical\":{\"identity\":{\"docker-reference\":\"a.example/b:c\"},\"image\":"
                "{\"docker-manifest-digest\":\"sha512:00\"},\"type\":\"cosign container image signature\"},"
                "\"optional\":null}",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                size_t n;
                unsigned char *raw = sign_data(pk, EVP_sha256(), false, bad[i], strlen(bad[i]), &n);
                _cleanup_free_ char *sb = b64(raw, n);
                free(raw);
                struct sigstore_signature sig = { .payload = (char *) bad[i],
                                                  .payload_len = strlen(bad[i]),
                                                  .signature_b64 = sb };
                _cleanup_herror_ struct herror err = HERROR_INIT;
                struct sigstore_payload p = { 0 };
                size_t idx;
                int r = sigstore_verify(keys, 1, &sig, V2_DIGEST, &p, &idx, &err);
                if (r != -EBADMSG)
                        fail_msg("payload %zu: got %d (%s), want EBADMSG", i, r, herror_msg(&err));
        }
        /* and a good one made the same way verifies */
        _cleanup_free_ char *good = make_payload("a.example/b:c", V2_DIGEST);
        size_t n;
        unsigned char *raw = sign_data(pk, EVP_sha256(), false, good, strlen(good), &n);
        _cleanup_free_ char *sb = b64(raw, n);
        free(raw);
        struct sigstore_signature sig = { .payload = good, .payload_len = strlen(good), .signature_b64 = sb };
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct sigstore_payload p = { 0 };
        size_t idx;
        assert_int_equal(sigstore_verify(keys, 1, &sig, V2_DIGEST, &p, &idx, &err), 0);
        assert_string_equal(p.docker_reference, "a.example/b:c");
        sigstore_payload_done(&p);
        trust_key_free(k);
        EVP_PKEY_free(pk);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(base64_strict),     cmocka_unit_test(keys_vectors),
                cmocka_unit_test(keys_refused),      cmocka_unit_test(vector_der_and_p1363),
                cmocka_unit_test(generated_keys),    cmocka_unit_test(payload_parsing),
                cmocka_unit_test(full_verification), cmocka_unit_test(signed_but_malformed),
        };
        const struct CMUnitTest without_vectors[] = {
                cmocka_unit_test(generated_keys),
                cmocka_unit_test(signed_but_malformed),
        };
        if (!vectors_present())
                return cmocka_run_group_tests(without_vectors, NULL, NULL);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
