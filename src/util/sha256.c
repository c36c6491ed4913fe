/* The low-level SHA256_* API is deprecated in OpenSSL 3 in favour of EVP; util/sha256.h says why it is
 * used here. It stays in OpenSSL 3.x. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <string.h>

#include "util/sha256.h"

_Static_assert(sizeof(SHA256_CTX) <= sizeof(((struct sha256 *) 0)->state), "struct sha256 too small for SHA256_CTX");
_Static_assert(_Alignof(SHA256_CTX) <= 8, "struct sha256 under-aligned for SHA256_CTX");

void sha256_init(struct sha256 *h)
{
        SHA256_Init((SHA256_CTX *) h->state);
}

void sha256_update(struct sha256 *h, const void *data, size_t len)
{
        if (len > 0)
                SHA256_Update((SHA256_CTX *) h->state, data, len);
}

void sha256_final(struct sha256 *h, uint8_t out[static SHA256_DIGEST_SIZE])
{
        SHA256_Final(out, (SHA256_CTX *) h->state);
        explicit_bzero(h->state, sizeof h->state);
}

void sha256_buffer(const void *data, size_t len, uint8_t out[static SHA256_DIGEST_SIZE])
{
        struct sha256 h;
        sha256_init(&h);
        sha256_update(&h, data, len);
        sha256_final(&h, out);
}

void sha256_to_hex(const uint8_t md[static SHA256_DIGEST_SIZE], char out[static SHA256_HEX_SIZE])
{
        static const char hex[] = "0123456789abcdef";
        for (size_t i = 0; i < SHA256_DIGEST_SIZE; i++) {
                out[2 * i] = hex[md[i] >> 4];
                out[2 * i + 1] = hex[md[i] & 15];
        }
        out[2 * SHA256_DIGEST_SIZE] = 0;
}

void sha256_hex(const void *data, size_t len, char out[static SHA256_HEX_SIZE])
{
        uint8_t md[SHA256_DIGEST_SIZE];
        sha256_buffer(data, len, md);
        sha256_to_hex(md, out);
}
