/* Content digests as OCI descriptors carry them ("sha256:<64 lowercase hex>"), checked against the
 * grammar BEFORE any use: the hex part becomes a file name (blobs/sha256/<hex>), so a digest that
 * passed digest_parse() can never name another path (FORMATS.md 1.5, CVE-2024-3727). Only sha256
 * is implemented: it is the one algorithm the image spec makes mandatory. Hashing streams through
 * OpenSSL EVP in constant memory. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"
#include "util/sha256.h"

#define DIGEST_HEX_LEN 64
#define DIGEST_STRING_MAX (sizeof "sha256:" - 1 + DIGEST_HEX_LEN + 1)

struct digest {
        char hex[DIGEST_HEX_LEN + 1]; /* 64 lowercase hex digits, NUL-terminated */
};

/* Parse "sha256:<64 lowercase hex>". A string that is a well-formed digest of another algorithm
 * (sha512:..., blake3:...) is EOPNOTSUPP; anything else EINVAL. The message quotes the input
 * (shortened) so the user can find it. */
int digest_parse(const char *s, struct digest *ret, struct herror *err);
bool digest_is_valid(const char *s);
/* "sha256:<hex>" into buf (DIGEST_STRING_MAX bytes); returns buf. */
char *digest_to_string(const struct digest *d, char buf[static DIGEST_STRING_MAX]);
bool digest_equal(const struct digest *a, const struct digest *b);

/* Streaming sha256. init/update/final return 0 or -errno; the context is freed by final and by
 * sha256_stream_done (safe to call twice, or after final). */
struct sha256_stream {
        struct sha256 h;
        bool active;
        uint64_t bytes;
};
int sha256_stream_init(struct sha256_stream *s, struct herror *err);
int sha256_stream_update(struct sha256_stream *s, const void *buf, size_t len, struct herror *err);
int sha256_stream_final(struct sha256_stream *s, struct digest *ret, struct herror *err);
void sha256_stream_done(struct sha256_stream *s);
static inline void sha256_stream_donep(struct sha256_stream *s)
{
        sha256_stream_done(s);
}
#define _cleanup_sha256_ _cleanup_(sha256_stream_donep)

int digest_buffer(const void *buf, size_t len, struct digest *ret, struct herror *err);
/* Hash an fd from its current offset to EOF, refusing more than max_size bytes (EFBIG). */
int digest_fd(int fd, const char *name_for_errors, uint64_t max_size, struct digest *ret, uint64_t *ret_size,
              struct herror *err);
