/* SHA-256 for content digests, audit chains and cache keys.
 *
 * Why not EVP: OpenSSL 3's EVP initialises its provider store on first use (and reads openssl.cnf),
 * measured at 0.9 ms per process: a launch would pay that to hash a few kilobytes. OpenSSL's
 * SHA256_* functions run the same implementation (SHA-NI / AVX2 assembly) without the provider layer.
 *
 * Why a portable implementation as well: a launch hashes a few kilobytes (config, seccomp profile,
 * audit record) and would otherwise load libcrypto for it (0.7 ms, util/crypto-dl.h). A hash started
 * after libcrypto is loaded uses OpenSSL's; bulk hashing (layers, blobs, audit verify) loads it first
 * (crypto_dl_load) for its speed. Both give the same digest; the unit tests hold them to it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32
#define SHA256_HEX_SIZE (2 * SHA256_DIGEST_SIZE + 1)

struct sha256_portable {
        uint32_t h[8];
        uint64_t bytes;
        uint8_t buf[64];
        size_t fill;
};

struct sha256 {
        bool ossl; /* OpenSSL's context below, else the portable one */
        union {
                /* OpenSSL's SHA256_CTX, kept opaque so callers need no OpenSSL header */
                _Alignas(8) unsigned char ossl[112];
                struct sha256_portable portable;
        } u;
};

void sha256_init(struct sha256 *h);
void sha256_update(struct sha256 *h, const void *data, size_t len);
void sha256_final(struct sha256 *h, uint8_t out[static SHA256_DIGEST_SIZE]);
void sha256_buffer(const void *data, size_t len, uint8_t out[static SHA256_DIGEST_SIZE]);
/* lowercase hex, NUL-terminated */
void sha256_to_hex(const uint8_t md[static SHA256_DIGEST_SIZE], char out[static SHA256_HEX_SIZE]);
void sha256_hex(const void *data, size_t len, char out[static SHA256_HEX_SIZE]);
