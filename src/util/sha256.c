/* SHA-256 (FIPS 180-4). Two implementations behind one API, chosen when a hash starts: OpenSSL's
 * SHA256_* (SHA-NI / AVX2 assembly) once libcrypto is loaded, and this file's portable one otherwise.
 * util/sha256.h says why; tests/unit/test-sha256.c holds both to the FIPS vectors and to each other. */
#include <string.h>

#include "util/crypto-dl.h"
#include "util/sha256.h"

_Static_assert(sizeof(SHA256_CTX) <= sizeof(((struct sha256 *) 0)->u.ossl), "struct sha256 too small for SHA256_CTX");
_Static_assert(_Alignof(SHA256_CTX) <= 8, "struct sha256 under-aligned for SHA256_CTX");

static const uint32_t K[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t ror(uint32_t x, unsigned n)
{
        return (x >> n) | (x << (32 - n));
}

static inline uint32_t load_be32(const uint8_t *p)
{
        return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static inline void store_be32(uint8_t *p, uint32_t v)
{
        p[0] = (uint8_t) (v >> 24);
        p[1] = (uint8_t) (v >> 16);
        p[2] = (uint8_t) (v >> 8);
        p[3] = (uint8_t) v;
}

static void compress(uint32_t h[8], const uint8_t block[64])
{
        uint32_t w[64];
        for (int i = 0; i < 16; i++)
                w[i] = load_be32(block + 4 * i);
        for (int i = 16; i < 64; i++) {
                uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
                uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
                w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
        for (int i = 0; i < 64; i++) {
                uint32_t t1 = k + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
                uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
                k = g;
                g = f;
                f = e;
                e = d + t1;
                d = c;
                c = b;
                b = a;
                a = t1 + t2;
        }
        h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += k;
        explicit_bzero(w, sizeof w);
}

static void portable_init(struct sha256_portable *p)
{
        static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
        memcpy(p->h, iv, sizeof iv);
        p->bytes = 0;
        p->fill = 0;
}

static void portable_update(struct sha256_portable *p, const uint8_t *data, size_t len)
{
        p->bytes += len;
        if (p->fill) {
                size_t n = sizeof p->buf - p->fill < len ? sizeof p->buf - p->fill : len;
                memcpy(p->buf + p->fill, data, n);
                p->fill += n, data += n, len -= n;
                if (p->fill < sizeof p->buf)
                        return;
                compress(p->h, p->buf);
                p->fill = 0;
        }
        for (; len >= 64; data += 64, len -= 64)
                compress(p->h, data);
        memcpy(p->buf, data, len);
        p->fill = len;
}

static void portable_final(struct sha256_portable *p, uint8_t out[static SHA256_DIGEST_SIZE])
{
        uint64_t bits = p->bytes * 8;
        uint8_t pad[72] = { 0x80 };
        size_t n = (p->fill < 56 ? 56 : 120) - p->fill;
        for (int i = 0; i < 8; i++)
                pad[n + i] = (uint8_t) (bits >> (56 - 8 * i));
        portable_update(p, pad, n + 8);
        for (int i = 0; i < 8; i++)
                store_be32(out + 4 * i, p->h[i]);
}

void sha256_init(struct sha256 *h)
{
        h->ossl = crypto_dl_loaded;
        if (h->ossl)
                SHA256_Init((SHA256_CTX *) h->u.ossl);
        else
                portable_init(&h->u.portable);
}

void sha256_update(struct sha256 *h, const void *data, size_t len)
{
        if (len == 0)
                return;
        if (h->ossl)
                SHA256_Update((SHA256_CTX *) h->u.ossl, data, len);
        else
                portable_update(&h->u.portable, data, len);
}

void sha256_final(struct sha256 *h, uint8_t out[static SHA256_DIGEST_SIZE])
{
        if (h->ossl)
                SHA256_Final(out, (SHA256_CTX *) h->u.ossl);
        else
                portable_final(&h->u.portable, out);
        explicit_bzero(h, sizeof *h);
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
