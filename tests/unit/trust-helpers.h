/* Shared by test-sigstore.c and test-policy.c: the vectors directory (tests left out when absent, unless
 * HUTCH_MUST_WORK=1), and signing with keys made by OpenSSL in the test itself. Include after cmocka.h. */
#pragma once

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trust/keys.h"
#include "util/fileio.h"

/* Whether the tests that read the shared vectors run: they need HUTCH_VECTORS/README.md, and with
 * HUTCH_MUST_WORK=1 (CI) they run anyway and fail. (Not cmocka's skip(): it prints "not ok # SKIP",
 * which meson's TAP reader counts as a failure; main() leaves those tests out instead.) */
static inline bool vectors_present(void)
{
        const char *v = getenv("HUTCH_VECTORS");
        const char *must = getenv("HUTCH_MUST_WORK");
        char probe[4096];
        snprintf(probe, sizeof probe, "%s/README.md", v ? v : "");
        if ((v && access(probe, R_OK) == 0) || (must && streq(must, "1")))
                return true;
        fprintf(stderr, "# test vectors missing at %s (HUTCH_VECTORS): tests that need them are left out\n",
                v ? v : "(unset)");
        return false;
}

static inline const char *vectors_dir(void)
{
        const char *v = getenv("HUTCH_VECTORS");
        char probe[4096];
        snprintf(probe, sizeof probe, "%s/README.md", v ? v : "");
        if (!v || access(probe, R_OK) < 0)
                fail_msg("test vectors missing at %s (HUTCH_VECTORS)", v ? v : "(unset)");
        return v;
}

/* A vectors file, NUL-terminated; fails the test when unreadable. */
static inline char *vector_file(const char *name, size_t *ret_len)
{
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", vectors_dir(), name);
        char *data = NULL;
        size_t len = 0;
        struct herror err = HERROR_INIT;
        if (read_file_at(AT_FDCWD, path, 1u << 20, &data, &len, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        if (ret_len)
                *ret_len = len;
        return data;
}

static inline EVP_PKEY *gen_key(const char *type, const char *param)
{
        EVP_PKEY *k;
        if (streq(type, "RSA"))
                k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) strtoul(param, NULL, 10));
        else if (param)
                k = EVP_PKEY_Q_keygen(NULL, NULL, type, param);
        else
                k = EVP_PKEY_Q_keygen(NULL, NULL, type);
        assert_non_null(k);
        return k;
}

/* PEM "PUBLIC KEY" of a key pair, malloc'd. */
static inline char *public_pem(EVP_PKEY *k)
{
        BIO *b = BIO_new(BIO_s_mem());
        assert_non_null(b);
        assert_int_equal(PEM_write_bio_PUBKEY(b, k), 1);
        char *p;
        long n = BIO_get_mem_data(b, &p);
        char *copy = strndup(p, (size_t) n);
        BIO_free(b);
        return copy;
}

static inline struct trust_key *trust_key_of(EVP_PKEY *k)
{
        char *pem = public_pem(k);
        struct trust_key *tk = NULL;
        struct herror err = HERROR_INIT;
        if (trust_key_from_pem(pem, strlen(pem), "generated", &tk, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        free(pem);
        return tk;
}

/* Sign data; md NULL for Ed25519; pss for RSA-PSS. Returns malloc'd signature bytes. */
static inline unsigned char *sign_data(EVP_PKEY *k, const EVP_MD *md, bool pss, const void *data, size_t len,
                                       size_t *ret_len)
{
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        EVP_PKEY_CTX *pctx = NULL;
        assert_int_equal(EVP_DigestSignInit(ctx, &pctx, md, NULL, k), 1);
        if (pss) {
                assert_true(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0);
                assert_true(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) > 0);
        }
        size_t n = 0;
        assert_int_equal(EVP_DigestSign(ctx, NULL, &n, data, len), 1);
        unsigned char *sig = malloc(n);
        assert_int_equal(EVP_DigestSign(ctx, sig, &n, data, len), 1);
        EVP_MD_CTX_free(ctx);
        *ret_len = n;
        return sig;
}

/* Standard base64 with padding, no newlines (what cosign writes), malloc'd. */
static inline char *b64(const void *data, size_t len)
{
        char *out = malloc(4 * ((len + 2) / 3) + 1);
        EVP_EncodeBlock((unsigned char *) out, data, (int) len);
        return out;
}

/* base64(PEM public key), as a policy's keyData holds it. */
static inline char *key_data_of(EVP_PKEY *k)
{
        char *pem = public_pem(k);
        char *d = b64(pem, strlen(pem));
        free(pem);
        return d;
}

/* A signed payload in the format containers/image writes. */
static inline char *make_payload(const char *identity, const char *digest)
{
        char *p;
        assert_true(asprintf(&p,
                             "{\"critical\":{\"identity\":{\"docker-reference\":\"%s\"},\"image\":"
                             "{\"docker-manifest-digest\":\"%s\"},\"type\":\"cosign container image signature\"},"
                             "\"optional\":{\"creator\":\"hutch test\",\"timestamp\":1700000000}}",
                             identity, digest) > 0);
        return p;
}
