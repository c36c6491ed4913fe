/* libcrypto (OpenSSL 3), loaded with dlopen() on first use instead of being linked.
 *
 * Why: a launch that checks no signature needs no cryptography except SHA-256 over a few kilobytes
 * (util/sha256.c has its own for that), yet linking libcrypto made every start of hutch map and relocate
 * it: measured 0.7 ms and 1.4 MB of resident pages per process. Signatures, keys, HMAC and bulk hashing
 * (layers, audit verify) load it when they first need it; it stays a shared object that distribution
 * security updates replace.
 *
 * Call sites keep OpenSSL's names: each name below is a macro that loads the library if needed, then
 * calls through a pointer; the *_free functions do nothing instead while it is not loaded (whatever
 * they could free came from it), so cleanup handlers do not load it. A load failure there ends the process with status 125 and one line: nothing
 * proceeds without the check it asked for. Code about to enter a sandbox that cannot open files calls
 * crypto_dl_load() first. Include this header instead of (or after) OpenSSL's; a function used but
 * missing from this list fails to link, so the list cannot fall behind. */
#pragma once

#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_*: see util/sha256.h */
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdbool.h>

#include "util/error.h"

#define CRYPTO_DL_SYMBOLS(X)                \
        X(BIO_ctrl)                         \
        X(BIO_free)                         \
        X(BIO_new)                          \
        X(BIO_new_mem_buf)                  \
        X(BIO_s_mem)                        \
        X(BN_bin2bn)                        \
        X(BN_free)                          \
        X(CRYPTO_clear_free)                \
        X(CRYPTO_free)                      \
        X(CRYPTO_memcmp)                    \
        X(ECDSA_SIG_free)                   \
        X(ECDSA_SIG_new)                    \
        X(ECDSA_SIG_set0)                   \
        X(ERR_clear_error)                  \
        X(ERR_peek_last_error)              \
        X(EVP_DecodeBlock)                  \
        X(EVP_DigestSign)                   \
        X(EVP_DigestSignInit)               \
        X(EVP_DigestVerify)                 \
        X(EVP_DigestVerifyInit)             \
        X(EVP_EncodeBlock)                  \
        X(EVP_MD_CTX_free)                  \
        X(EVP_MD_CTX_new)                   \
        X(EVP_PKEY2PKCS8)                   \
        X(EVP_PKEY_CTX_set_rsa_mgf1_md)     \
        X(EVP_PKEY_CTX_set_rsa_padding)     \
        X(EVP_PKEY_CTX_set_rsa_pss_saltlen) \
        X(EVP_PKEY_Q_keygen)                \
        X(EVP_PKEY_free)                    \
        X(EVP_PKEY_get_base_id)             \
        X(EVP_PKEY_get_bits)                \
        X(EVP_PKEY_get_id)                  \
        X(EVP_PKEY_get_utf8_string_param)   \
        X(EVP_aes_256_cbc)                  \
        X(EVP_sha256)                       \
        X(EVP_sha384)                       \
        X(HMAC)                             \
        X(OBJ_nid2sn)                       \
        X(PEM_read_bio)                     \
        X(PEM_read_bio_PUBKEY)              \
        X(PEM_read_bio_PrivateKey)          \
        X(PEM_write_bio_PKCS8)              \
        X(PEM_write_bio_PKCS8PrivateKey)    \
        X(PEM_write_bio_PUBKEY)             \
        X(PKCS5_pbe2_set_scrypt)            \
        X(PKCS8_PRIV_KEY_INFO_free)         \
        X(PKCS8_set0_pbe)                   \
        X(SHA256_Final)                     \
        X(SHA256_Init)                      \
        X(SHA256_Update)                    \
        X(X509_ALGOR_free)                  \
        X(X509_SIG_free)                    \
        X(d2i_ECDSA_SIG)                    \
        X(d2i_PUBKEY)                       \
        X(i2d_ECDSA_SIG)                    \
        X(i2d_PUBKEY)

#define CRYPTO_DL_DECLARE(name) extern __typeof__(name) *dl_##name;
CRYPTO_DL_SYMBOLS(CRYPTO_DL_DECLARE)
#undef CRYPTO_DL_DECLARE

extern bool crypto_dl_loaded;

/* Loads libcrypto and resolves every symbol above; 0 at once when already loaded. */
int crypto_dl_load(struct herror *err);
/* crypto_dl_load() or, failing, one line on stderr and _exit(125). */
void crypto_dl_need_slow(void);

static inline void crypto_dl_need(void)
{
        if (__builtin_expect(!crypto_dl_loaded, 0))
                crypto_dl_need_slow();
}

/* cppcheck reads calls through the pointers as calls that cannot write their out-parameters (the
 * i2d_* ones do): it analyses the plain OpenSSL calls instead. */
#if !defined(CRYPTO_DL_IMPLEMENTATION) && !defined(__CPPCHECK__)
#define BIO_ctrl (crypto_dl_need(), dl_BIO_ctrl)
#define BIO_free(...) (crypto_dl_loaded ? (void) dl_BIO_free(__VA_ARGS__) : (void) 0)
#define BIO_new (crypto_dl_need(), dl_BIO_new)
#define BIO_new_mem_buf (crypto_dl_need(), dl_BIO_new_mem_buf)
#define BIO_s_mem (crypto_dl_need(), dl_BIO_s_mem)
#define BN_bin2bn (crypto_dl_need(), dl_BN_bin2bn)
#define BN_free(...) (crypto_dl_loaded ? (void) dl_BN_free(__VA_ARGS__) : (void) 0)
#define CRYPTO_clear_free(...) (crypto_dl_loaded ? (void) dl_CRYPTO_clear_free(__VA_ARGS__) : (void) 0)
#define CRYPTO_free(...) (crypto_dl_loaded ? (void) dl_CRYPTO_free(__VA_ARGS__) : (void) 0)
#define CRYPTO_memcmp (crypto_dl_need(), dl_CRYPTO_memcmp)
#define ECDSA_SIG_free(...) (crypto_dl_loaded ? (void) dl_ECDSA_SIG_free(__VA_ARGS__) : (void) 0)
#define ECDSA_SIG_new (crypto_dl_need(), dl_ECDSA_SIG_new)
#define ECDSA_SIG_set0 (crypto_dl_need(), dl_ECDSA_SIG_set0)
#define ERR_clear_error (crypto_dl_need(), dl_ERR_clear_error)
#define ERR_peek_last_error (crypto_dl_need(), dl_ERR_peek_last_error)
#define EVP_DecodeBlock (crypto_dl_need(), dl_EVP_DecodeBlock)
#define EVP_DigestSign (crypto_dl_need(), dl_EVP_DigestSign)
#define EVP_DigestSignInit (crypto_dl_need(), dl_EVP_DigestSignInit)
#define EVP_DigestVerify (crypto_dl_need(), dl_EVP_DigestVerify)
#define EVP_DigestVerifyInit (crypto_dl_need(), dl_EVP_DigestVerifyInit)
#define EVP_EncodeBlock (crypto_dl_need(), dl_EVP_EncodeBlock)
#define EVP_MD_CTX_free(...) (crypto_dl_loaded ? (void) dl_EVP_MD_CTX_free(__VA_ARGS__) : (void) 0)
#define EVP_MD_CTX_new (crypto_dl_need(), dl_EVP_MD_CTX_new)
#define EVP_PKEY2PKCS8 (crypto_dl_need(), dl_EVP_PKEY2PKCS8)
#define EVP_PKEY_CTX_set_rsa_mgf1_md (crypto_dl_need(), dl_EVP_PKEY_CTX_set_rsa_mgf1_md)
#define EVP_PKEY_CTX_set_rsa_padding (crypto_dl_need(), dl_EVP_PKEY_CTX_set_rsa_padding)
#define EVP_PKEY_CTX_set_rsa_pss_saltlen (crypto_dl_need(), dl_EVP_PKEY_CTX_set_rsa_pss_saltlen)
#define EVP_PKEY_Q_keygen (crypto_dl_need(), dl_EVP_PKEY_Q_keygen)
#define EVP_PKEY_free(...) (crypto_dl_loaded ? (void) dl_EVP_PKEY_free(__VA_ARGS__) : (void) 0)
#define EVP_PKEY_get_base_id (crypto_dl_need(), dl_EVP_PKEY_get_base_id)
#define EVP_PKEY_get_bits (crypto_dl_need(), dl_EVP_PKEY_get_bits)
#define EVP_PKEY_get_id (crypto_dl_need(), dl_EVP_PKEY_get_id)
#define EVP_PKEY_get_utf8_string_param (crypto_dl_need(), dl_EVP_PKEY_get_utf8_string_param)
#define EVP_aes_256_cbc (crypto_dl_need(), dl_EVP_aes_256_cbc)
#define EVP_sha256 (crypto_dl_need(), dl_EVP_sha256)
#define EVP_sha384 (crypto_dl_need(), dl_EVP_sha384)
#define HMAC (crypto_dl_need(), dl_HMAC)
#define OBJ_nid2sn (crypto_dl_need(), dl_OBJ_nid2sn)
#define PEM_read_bio (crypto_dl_need(), dl_PEM_read_bio)
#define PEM_read_bio_PUBKEY (crypto_dl_need(), dl_PEM_read_bio_PUBKEY)
#define PEM_read_bio_PrivateKey (crypto_dl_need(), dl_PEM_read_bio_PrivateKey)
#define PEM_write_bio_PKCS8 (crypto_dl_need(), dl_PEM_write_bio_PKCS8)
#define PEM_write_bio_PKCS8PrivateKey (crypto_dl_need(), dl_PEM_write_bio_PKCS8PrivateKey)
#define PEM_write_bio_PUBKEY (crypto_dl_need(), dl_PEM_write_bio_PUBKEY)
#define PKCS5_pbe2_set_scrypt (crypto_dl_need(), dl_PKCS5_pbe2_set_scrypt)
#define PKCS8_PRIV_KEY_INFO_free(...) (crypto_dl_loaded ? (void) dl_PKCS8_PRIV_KEY_INFO_free(__VA_ARGS__) : (void) 0)
#define PKCS8_set0_pbe (crypto_dl_need(), dl_PKCS8_set0_pbe)
#define SHA256_Final (crypto_dl_need(), dl_SHA256_Final)
#define SHA256_Init (crypto_dl_need(), dl_SHA256_Init)
#define SHA256_Update (crypto_dl_need(), dl_SHA256_Update)
#define X509_ALGOR_free(...) (crypto_dl_loaded ? (void) dl_X509_ALGOR_free(__VA_ARGS__) : (void) 0)
#define X509_SIG_free(...) (crypto_dl_loaded ? (void) dl_X509_SIG_free(__VA_ARGS__) : (void) 0)
#define d2i_ECDSA_SIG (crypto_dl_need(), dl_d2i_ECDSA_SIG)
#define d2i_PUBKEY (crypto_dl_need(), dl_d2i_PUBKEY)
#define i2d_ECDSA_SIG (crypto_dl_need(), dl_i2d_ECDSA_SIG)
#define i2d_PUBKEY (crypto_dl_need(), dl_i2d_PUBKEY)
#endif
