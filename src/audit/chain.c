/* The integrity of the file log. A line's hash is the sha256 of its bytes (without the newline); the next
 * record's "prev" carries it, so removing, changing or reordering a line breaks the chain at the next one.
 * A chain alone can be rebuilt by anyone who can write the file, so a record may also carry an HMAC-SHA256
 * or an Ed25519 signature made with a key the writer holds and the log's owner need not: the MAC covers
 * the line as it would read without the MAC member, which is always the last one. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "audit/audit-internal.h"
#include "util/crypto-dl.h"
#include "util/fileio.h"
#include "util/sha256.h"

#define HMAC_MEMBER ",\"hmac\":\""
#define SIG_MEMBER ",\"sig\":\""
#define ED25519_SIG_LEN 64
#define ED25519_SIG_B64 88 /* 4 * ceil(64 / 3) */

const char audit_zero_hash[AUDIT_HASH_HEX + 1] = "0000000000000000000000000000000000000000000000000000000000000000";

static void to_hex(const unsigned char *in, size_t n, char *out)
{
        static const char hex[] = "0123456789abcdef";
        for (size_t i = 0; i < n; i++) {
                out[2 * i] = hex[in[i] >> 4];
                out[2 * i + 1] = hex[in[i] & 15];
        }
        out[2 * n] = 0;
}

void audit_sha256_hex(const void *data, size_t len, char out[static AUDIT_HASH_HEX + 1])
{
        _Static_assert(AUDIT_HASH_HEX + 1 == SHA256_HEX_SIZE, "audit hashes are sha256");
        sha256_hex(data, len, out);
}

static int open_key(const char *path, const char *what, struct herror *err)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return herror_sys(err, errno, "%s %s", what, path);
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                close(fd);
                return herror_set(err, EINVAL, "%s %s: not a regular file", what, path);
        }
        return fd;
}

/* A secret that group or others can read protects nothing: refused, naming the fix. */
static int check_secret(int fd, const char *path, const char *what, struct herror *err)
{
        struct stat st;
        if (fstat(fd, &st) < 0)
                return herror_sys(err, errno, "%s %s", what, path);
        if (st.st_mode & 0077)
                return herror_set(err, EPERM, "%s %s: readable by group or others (mode %04o); chmod 600 it", what,
                                  path, (unsigned) (st.st_mode & 07777));
        return 0;
}

static int load_hmac_key(struct audit_keys *k, const char *path, struct herror *err)
{
        _cleanup_close_ int fd = open_key(path, "HMAC key", err);
        if (fd < 0)
                return fd;
        int r = check_secret(fd, path, "HMAC key", err);
        if (r < 0)
                return r;
        char *data = NULL;
        size_t len = 0;
        if ((r = read_fd_limited(fd, path, AUDIT_KEY_MAX, &data, &len, err)) < 0)
                return r;
        if (len < AUDIT_HMAC_KEY_MIN) {
                free(data);
                return herror_set(err, EINVAL, "HMAC key %s: %zu bytes, at least %d needed", path, len,
                                  AUDIT_HMAC_KEY_MIN);
        }
        k->hmac_key = (unsigned char *) data;
        k->hmac_key_len = len;
        return 0;
}

static int load_ed25519(struct audit_keys *k, const char *path, bool is_public, struct herror *err)
{
        _cleanup_close_ int fd = open_key(path, is_public ? "public key" : "signing key", err);
        if (fd < 0)
                return fd;
        int r = is_public ? 0 : check_secret(fd, path, "signing key", err);
        if (r < 0)
                return r;
        _cleanup_free_ char *pem = NULL;
        size_t len = 0;
        r = read_fd_limited(fd, path, AUDIT_KEY_MAX, &pem, &len, err);
        if (r < 0)
                return r;
        BIO *bio = BIO_new_mem_buf(pem, (int) len);
        if (!bio)
                return herror_set(err, ENOMEM, "out of memory");
        EVP_PKEY *key =
                is_public ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
        BIO_free(bio);
        if (!key)
                return herror_set(err, EINVAL, "%s: not a PEM %s key", path, is_public ? "public" : "private");
        if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
                EVP_PKEY_free(key);
                return herror_set(err, EINVAL, "%s: not an Ed25519 key", path);
        }
        k->sign_key = key;
        return 0;
}

int audit_keys_load(struct audit_keys *k, const char *hmac_path, const char *sign_path, bool sign_is_public,
                    struct herror *err)
{
        *k = (struct audit_keys) { 0 };
        if (hmac_path && sign_path)
                return herror_set(err, EINVAL, "an HMAC key and an Ed25519 key were both given: use one");
        if (hmac_path)
                return load_hmac_key(k, hmac_path, err);
        if (sign_path)
                return load_ed25519(k, sign_path, sign_is_public, err);
        return 0;
}

void audit_keys_done(struct audit_keys *k)
{
        if (k->hmac_key)
                explicit_bzero(k->hmac_key, k->hmac_key_len);
        free(k->hmac_key);
        EVP_PKEY_free(k->sign_key);
        *k = (struct audit_keys) { 0 };
}

static int hmac_hex(const struct audit_keys *k, const void *data, size_t len, char out[static AUDIT_HASH_HEX + 1])
{
        unsigned char md[32];
        unsigned int n = 0;
        if (!HMAC(EVP_sha256(), k->hmac_key, (int) k->hmac_key_len, data, len, md, &n) || n != sizeof md)
                return -EIO;
        to_hex(md, sizeof md, out);
        return 0;
}

static int ed25519_sign_b64(const struct audit_keys *k, const void *data, size_t len,
                            char out[static ED25519_SIG_B64 + 1])
{
        unsigned char sig[ED25519_SIG_LEN];
        size_t n = sizeof sig;
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        int ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->sign_key) == 1 &&
                EVP_DigestSign(ctx, sig, &n, data, len) == 1 && n == sizeof sig;
        EVP_MD_CTX_free(ctx);
        if (!ok)
                return -EIO;
        EVP_EncodeBlock((unsigned char *) out, sig, sizeof sig);
        return 0;
}

int audit_seal(const struct audit_keys *k, json_t *body, char **ret, size_t *ret_len, struct herror *err)
{
        _cleanup_free_ char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!text)
                return herror_set(err, ENOMEM, "audit record: cannot serialize");
        size_t len = strlen(text);
        char mac[ED25519_SIG_B64 + 1];
        const char *member = NULL;
        if (k && k->hmac_key) {
                if (hmac_hex(k, text, len, mac) < 0)
                        return herror_set(err, EIO, "audit record: HMAC failed");
                member = HMAC_MEMBER;
        } else if (k && k->sign_key) {
                if (ed25519_sign_b64(k, text, len, mac) < 0)
                        return herror_set(err, EIO, "audit record: Ed25519 signing failed");
                member = SIG_MEMBER;
        }
        if (member) {
                /* '{...}' becomes '{...,"hmac":"MAC"}' */
                char *line = NULL;
                int n = asprintf(&line, "%.*s%s%s\"}", (int) (len - 1), text, member, mac);
                if (n < 0)
                        return herror_set(err, ENOMEM, "out of memory");
                free(text);
                text = line;
                len = (size_t) n;
        }
        if (len > AUDIT_RECORD_MAX)
                return herror_set(err, E2BIG, "audit record: %zu bytes, more than the limit of %u", len,
                                  AUDIT_RECORD_MAX);
        *ret_len = len;
        *ret = TAKE_PTR(text);
        return 0;
}

/* The MAC member at the end of line, if any: its kind, where it starts and its value. */
static bool find_seal(const char *line, size_t len, const char **ret_member, size_t *ret_at, size_t *ret_mac_len)
{
        static const struct {
                const char *member;
                size_t mac_len;
        } kinds[] = {
                { HMAC_MEMBER, AUDIT_HASH_HEX },
                { SIG_MEMBER, ED25519_SIG_B64 },
        };
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
                size_t ml = strlen(kinds[i].member), total = ml + kinds[i].mac_len + 2;
                if (len <= total || memcmp(line + len - 2, "\"}", 2) != 0 ||
                    memcmp(line + len - total, kinds[i].member, ml) != 0)
                        continue;
                *ret_member = kinds[i].member;
                *ret_at = len - total;
                *ret_mac_len = kinds[i].mac_len;
                return true;
        }
        return false;
}

static bool ed25519_verify(const struct audit_keys *k, const void *data, size_t len, const char *b64)
{
        unsigned char sig[ED25519_SIG_B64]; /* EVP_DecodeBlock writes 3 bytes per 4, padding included */
        if (EVP_DecodeBlock(sig, (const unsigned char *) b64, ED25519_SIG_B64) != 66)
                return false;
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        bool ok = ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->sign_key) == 1 &&
                EVP_DigestVerify(ctx, sig, ED25519_SIG_LEN, data, len) == 1;
        EVP_MD_CTX_free(ctx);
        return ok;
}

int audit_check_seal(const struct audit_keys *k, const char *line, size_t len, struct herror *err)
{
        const char *member;
        size_t at, mac_len;
        if (!find_seal(line, len, &member, &at, &mac_len))
                return 0;
        bool is_hmac = member[2] == 'h';
        if (!k->hmac_key && !k->sign_key)
                return 2;
        if ((is_hmac && !k->hmac_key) || (!is_hmac && !k->sign_key))
                return herror_set(err, EBADMSG, "carries %s, but the key given is %s",
                                  is_hmac ? "an HMAC" : "an Ed25519 signature",
                                  is_hmac ? "an Ed25519 key" : "an HMAC key");
        _cleanup_free_ char *signed_part = malloc(at + 2);
        if (!signed_part)
                return herror_set(err, ENOMEM, "out of memory");
        memcpy(signed_part, line, at);
        memcpy(signed_part + at, "}", 2);
        const char *mac = line + at + strlen(member);
        if (is_hmac) {
                char want[AUDIT_HASH_HEX + 1];
                if (hmac_hex(k, signed_part, at + 1, want) < 0)
                        return herror_set(err, EIO, "HMAC failed");
                if (CRYPTO_memcmp(want, mac, AUDIT_HASH_HEX) != 0)
                        return herror_set(err, EBADMSG,
                                          "HMAC does not match: the record was changed or made without the key");
                return 1;
        }
        if (!ed25519_verify(k, signed_part, at + 1, mac))
                return herror_set(err, EBADMSG,
                                  "Ed25519 signature does not verify: the record was changed or made without the key");
        return 1;
}
