#include <string.h>

#include "image/digest.h"
#include "util/crypto-dl.h"
#include "util/fileio.h"

#define HASH_BUF_SIZE (64u * 1024)

/* Shortened copy of untrusted input for messages: at most 80 bytes, control characters replaced. */
static const char *quote(const char *s, char buf[static 84])
{
        size_t i = 0;
        for (; i < 80 && s[i]; i++)
                buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
        if (s[i]) {
                memcpy(buf + i, "...", 3);
                i += 3;
        }
        buf[i] = 0;
        return buf;
}

static bool is_lower_hex(char c)
{
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* The descriptor grammar (descriptor.md): algorithm = [a-z0-9]+ ([+._-][a-z0-9]+)*,
 * encoded = [a-zA-Z0-9=_-]+. Used only to tell "another algorithm" from "garbage". */
static bool is_digest_grammar(const char *s)
{
        const char *colon = strchr(s, ':');
        if (!colon || colon == s)
                return false;
        bool need_alnum = true;
        for (const char *p = s; p < colon; p++) {
                bool alnum = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9');
                if (alnum)
                        need_alnum = false;
                else if (strchr("+._-", *p) && !need_alnum)
                        need_alnum = true;
                else
                        return false;
        }
        if (need_alnum || !colon[1])
                return false;
        for (const char *p = colon + 1; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      strchr("=_-", *p)))
                        return false;
        return true;
}

int digest_parse(const char *s, struct digest *ret, struct herror *err)
{
        char q[84];
        if (!s)
                return herror_set(err, EINVAL, "missing digest");
        if (strncmp(s, "sha256:", 7) != 0) {
                if (is_digest_grammar(s))
                        return herror_set(err, EOPNOTSUPP, "digest \"%s\": unsupported algorithm (only sha256)",
                                          quote(s, q));
                return herror_set(err, EINVAL, "digest \"%s\": not of the form sha256:<64 hex digits>", quote(s, q));
        }
        const char *hex = s + 7;
        size_t n = 0;
        while (n <= DIGEST_HEX_LEN && hex[n] && is_lower_hex(hex[n]))
                n++;
        if (n != DIGEST_HEX_LEN || hex[n])
                return herror_set(err, EINVAL, "digest \"%s\": a sha256 digest is 64 lowercase hex digits",
                                  quote(s, q));
        memcpy(ret->hex, hex, DIGEST_HEX_LEN + 1);
        return 0;
}

bool digest_is_valid(const char *s)
{
        struct digest d;
        return digest_parse(s, &d, NULL) == 0;
}

char *digest_to_string(const struct digest *d, char buf[static DIGEST_STRING_MAX])
{
        snprintf(buf, DIGEST_STRING_MAX, "sha256:%s", d->hex);
        return buf;
}

bool digest_equal(const struct digest *a, const struct digest *b)
{
        return memcmp(a->hex, b->hex, DIGEST_HEX_LEN) == 0;
}

int sha256_stream_init(struct sha256_stream *s, struct herror *err)
{
        /* streams hash blobs and layers: OpenSSL's SHA-256 is several times the portable one's speed */
        int r = crypto_dl_load(err);
        if (r < 0)
                return r;
        sha256_init(&s->h);
        s->active = true;
        s->bytes = 0;
        return 0;
}

int sha256_stream_update(struct sha256_stream *s, const void *buf, size_t len, struct herror *err)
{
        if (!s->active)
                return herror_set(err, EINVAL, "sha256: stream not initialised");
        sha256_update(&s->h, buf, len);
        s->bytes += len;
        return 0;
}

int sha256_stream_final(struct sha256_stream *s, struct digest *ret, struct herror *err)
{
        if (!s->active)
                return herror_set(err, EINVAL, "sha256: stream not initialised");
        uint8_t md[SHA256_DIGEST_SIZE];
        sha256_final(&s->h, md);
        s->active = false;
        sha256_to_hex(md, ret->hex);
        return 0;
}

void sha256_stream_done(struct sha256_stream *s)
{
        if (s->active)
                explicit_bzero(&s->h, sizeof s->h);
        s->active = false;
}

/* In memory, so small: no reason to load libcrypto for it (a launch digests its config and profile). */
int digest_buffer(const void *buf, size_t len, struct digest *ret, struct herror *err)
{
        (void) err; /* cannot fail; the signature stays for callers */
        sha256_hex(buf, len, ret->hex);
        return 0;
}

int digest_fd(int fd, const char *name, uint64_t max_size, struct digest *ret, uint64_t *ret_size, struct herror *err)
{
        _cleanup_sha256_ struct sha256_stream s = { 0 };
        _cleanup_free_ char *buf = malloc(HASH_BUF_SIZE);
        if (!buf)
                return herror_set(err, ENOMEM, "%s: out of memory", name);
        int r = sha256_stream_init(&s, err);
        if (r < 0)
                return r;
        for (;;) {
                ssize_t n = read_all(fd, buf, HASH_BUF_SIZE);
                if (n < 0)
                        return herror_sys(err, (int) -n, "%s: read", name);
                if (n == 0)
                        break;
                if (s.bytes + (uint64_t) n > max_size)
                        return herror_set(err, EFBIG, "%s: larger than the limit of %llu bytes", name,
                                          (unsigned long long) max_size);
                r = sha256_stream_update(&s, buf, (size_t) n, err);
                if (r < 0)
                        return r;
        }
        uint64_t size = s.bytes;
        r = sha256_stream_final(&s, ret, err);
        if (r < 0)
                return r;
        if (ret_size)
                *ret_size = size;
        return 0;
}
