/* Sigstore signature verification with public keys; see sigstore.h for the order of the steps. */
#include <string.h>

#include "image/digest.h"
#include "trust/internal.h"
#include "trust/reference.h"
#include "trust/sigstore.h"
#include "util/crypto-dl.h"
#include "util/json.h"

void sigstore_signature_done(struct sigstore_signature *s)
{
        if (!s)
                return;
        free(s->payload);
        free(s->signature_b64);
        free(s->origin);
        *s = (struct sigstore_signature) { 0 };
}

void sigstore_signatures_free(struct sigstore_signature *s, size_t n)
{
        if (!s)
                return;
        for (size_t i = 0; i < n; i++)
                sigstore_signature_done(&s[i]);
        free(s);
}

void sigstore_payload_done(struct sigstore_payload *p)
{
        if (!p)
                return;
        free(p->docker_reference);
        free(p->manifest_digest);
        free(p->creator);
        *p = (struct sigstore_payload) { 0 };
}

/* ---- base64 ---- */

static int b64_value(char c)
{
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+')
                return 62;
        if (c == '/')
                return 63;
        return -1;
}

int base64_decode_strict(const char *s, size_t len, unsigned char **ret, size_t *ret_len, struct herror *err)
{
        if (len == 0)
                return herror_set(err, EBADMSG, "base64: empty");
        if (len % 4 != 0)
                return herror_set(err, EBADMSG, "base64: length %zu is not a multiple of 4 (truncated or unpadded)",
                                  len);
        size_t pad = 0;
        while (pad < 2 && s[len - 1 - pad] == '=')
                pad++;
        _cleanup_free_ unsigned char *out = malloc(len / 4 * 3);
        if (!out)
                return -ENOMEM;
        size_t o = 0;
        for (size_t q = 0; q < len; q += 4) {
                int v[4];
                for (size_t i = 0; i < 4; i++) {
                        bool padding_slot = q + 4 == len && i >= 4 - pad;
                        if (padding_slot) {
                                v[i] = 0;
                                continue;
                        }
                        v[i] = b64_value(s[q + i]);
                        if (v[i] < 0)
                                return herror_set(err, EBADMSG, "base64: invalid character at offset %zu", q + i);
                }
                uint32_t triple =
                        (uint32_t) v[0] << 18 | (uint32_t) v[1] << 12 | (uint32_t) v[2] << 6 | (uint32_t) v[3];
                out[o++] = (unsigned char) (triple >> 16);
                if (q + 4 < len || pad < 2)
                        out[o++] = (unsigned char) (triple >> 8);
                if (q + 4 < len || pad < 1)
                        out[o++] = (unsigned char) triple;
        }
        /* Canonical form: the bits the padding leaves unused must be zero, or several strings would
         * decode to the same bytes. */
        if ((pad == 1 && (b64_value(s[len - 2]) & 0x3)) || (pad == 2 && (b64_value(s[len - 3]) & 0xf)))
                return herror_set(err, EBADMSG, "base64: non-canonical encoding (unused bits set)");
        *ret = TAKE_PTR(out);
        *ret_len = o;
        return 0;
}

/* ---- signatures ---- */

static void ecdsa_sig_freep(ECDSA_SIG **s)
{
        ECDSA_SIG_free(*s);
}

enum rsa_scheme { RSA_SCHEME_NONE, RSA_SCHEME_PKCS1, RSA_SCHEME_PSS };

/* 1 = valid, 0 = not valid (including malformed signatures), -ENOMEM. md NULL for Ed25519. */
static int evp_verify(EVP_PKEY *pkey, const EVP_MD *md, enum rsa_scheme rsa, const void *data, size_t len,
                      const unsigned char *sig, size_t sig_len)
{
        _cleanup_(md_ctx_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        if (!ctx)
                return -ENOMEM;
        EVP_PKEY_CTX *pctx = NULL;
        int ok = EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pkey) == 1;
        if (ok && rsa == RSA_SCHEME_PKCS1)
                ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0;
        if (ok && rsa == RSA_SCHEME_PSS)
                ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
                        EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) > 0 &&
                        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) > 0;
        if (ok)
                ok = EVP_DigestVerify(ctx, sig, sig_len, data, len) == 1;
        ERR_clear_error();
        return ok ? 1 : 0;
}

/* Whether sig is an ECDSA-Sig-Value in DER, exactly (re-encoding gives the same bytes). */
static bool is_canonical_der(const unsigned char *sig, size_t len)
{
        const unsigned char *p = sig;
        _cleanup_(ecdsa_sig_freep) ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long) len);
        ERR_clear_error();
        if (!s || p != sig + len)
                return false;
        unsigned char *der = NULL;
        int dlen = i2d_ECDSA_SIG(s, &der);
        bool same = dlen > 0 && (size_t) dlen == len && memcmp(der, sig, len) == 0;
        OPENSSL_free(der);
        return same;
}

/* r||s (IEEE P1363) of exactly 2 * field_bytes into DER. */
static int p1363_to_der(const unsigned char *sig, size_t len, size_t field_bytes, unsigned char **ret, size_t *ret_len)
{
        if (len != 2 * field_bytes)
                return -EINVAL;
        _cleanup_(ecdsa_sig_freep) ECDSA_SIG *s = ECDSA_SIG_new();
        BIGNUM *r = BN_bin2bn(sig, (int) field_bytes, NULL);
        BIGNUM *sv = BN_bin2bn(sig + field_bytes, (int) field_bytes, NULL);
        if (!s || !r || !sv || !ECDSA_SIG_set0(s, r, sv)) {
                BN_free(r);
                BN_free(sv);
                return -ENOMEM;
        }
        unsigned char *der = NULL;
        int dlen = i2d_ECDSA_SIG(s, &der);
        if (dlen <= 0)
                return -ENOMEM;
        *ret = der;
        *ret_len = (size_t) dlen;
        return 0;
}

static int verify_ecdsa(EVP_PKEY *pkey, size_t field_bytes, const EVP_MD *const *mds, size_t n_mds, const void *data,
                        size_t len, const unsigned char *sig, size_t sig_len, const char **why)
{
        unsigned char *der = NULL;
        size_t der_len = 0;
        const unsigned char *use = sig;
        size_t use_len = sig_len;
        if (!is_canonical_der(sig, sig_len)) {
                if (sig_len != 2 * field_bytes) {
                        *why = "neither DER nor raw r||s of the key's size";
                        return 0;
                }
                int r = p1363_to_der(sig, sig_len, field_bytes, &der, &der_len);
                if (r < 0)
                        return r;
                use = der;
                use_len = der_len;
        }
        int ok = 0;
        for (size_t i = 0; i < n_mds && ok == 0; i++)
                ok = evp_verify(pkey, mds[i], RSA_SCHEME_NONE, data, len, use, use_len);
        OPENSSL_free(der);
        if (ok == 0)
                *why = "signature does not verify";
        return ok;
}

int sigstore_verify_raw(const struct trust_key *key, const void *data, size_t len, const unsigned char *sig,
                        size_t sig_len, struct herror *err)
{
        EVP_PKEY *pkey = trust_key_evp(key);
        const char *why = "signature does not verify";
        int ok;
        switch (trust_key_type(key)) {
        case TRUST_KEY_ECDSA_P256: {
                const EVP_MD *mds[] = { EVP_sha256() };
                ok = verify_ecdsa(pkey, 32, mds, ELEMENTSOF(mds), data, len, sig, sig_len, &why);
                break;
        }
        case TRUST_KEY_ECDSA_P384: {
                /* cosign signs P-384 with SHA-384; containers/image (sigstore.LoadVerifier(pub, SHA256))
                 * with SHA-256. Both are sound; the signature scheme is not recorded anywhere. */
                const EVP_MD *mds[] = { EVP_sha384(), EVP_sha256() };
                ok = verify_ecdsa(pkey, 48, mds, ELEMENTSOF(mds), data, len, sig, sig_len, &why);
                break;
        }
        case TRUST_KEY_ED25519:
                if (sig_len != 64) {
                        why = "an Ed25519 signature is 64 bytes";
                        ok = 0;
                        break;
                }
                ok = evp_verify(pkey, NULL, RSA_SCHEME_NONE, data, len, sig, sig_len);
                break;
        case TRUST_KEY_RSA:
                if (sig_len != (trust_key_bits(key) + 7) / 8) {
                        why = "an RSA signature is as long as the modulus";
                        ok = 0;
                        break;
                }
                ok = evp_verify(pkey, EVP_sha256(), RSA_SCHEME_PKCS1, data, len, sig, sig_len);
                if (ok == 0)
                        ok = evp_verify(pkey, EVP_sha256(), RSA_SCHEME_PSS, data, len, sig, sig_len);
                break;
        case _TRUST_KEY_TYPE_MAX:
        default:
                return herror_set(err, EINVAL, "%s: unsupported key type", trust_key_source(key));
        }
        if (ok < 0)
                return herror_set(err, -ok, "verifying with %s key %s failed", trust_key_type_name(trust_key_type(key)),
                                  trust_key_id(key));
        if (ok == 0)
                return herror_set(err, EKEYREJECTED, "%s key %s: %s", trust_key_type_name(trust_key_type(key)),
                                  trust_key_id(key), why);
        return 0;
}

/* ---- payload ---- */

static int dispatch_json_ref(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        *(json_t **) dst = v;
        return 0;
}

struct payload_top {
        json_t *critical;
        json_t *optional;
};

struct payload_critical {
        char *type;
        json_t *image;
        json_t *identity;
};

static int parse_optional(json_t *optional, struct sigstore_payload *p, struct herror *err)
{
        /* cosign writes null when there are no annotations; other members are the signer's business. */
        if (json_is_null(optional))
                return 0;
        if (!json_is_object(optional))
                return herror_set(err, EBADMSG, ".optional: expected an object or null");
        json_t *creator = json_object_get(optional, "creator");
        if (creator) {
                int r = json_dispatch_string(".optional.creator", creator, &p->creator, err);
                if (r < 0)
                        return r;
        }
        json_t *ts = json_object_get(optional, "timestamp");
        if (ts) {
                /* containers/image reads a float64 and refuses fractions; an integral real is therefore
                 * valid too. */
                if (json_is_integer(ts))
                        p->timestamp = json_integer_value(ts);
                else if (json_is_real(ts) && json_real_value(ts) >= -9.0e18 && json_real_value(ts) <= 9.0e18 &&
                         (double) (int64_t) json_real_value(ts) == json_real_value(ts))
                        p->timestamp = (int64_t) json_real_value(ts);
                else
                        return herror_set(err, EBADMSG, ".optional.timestamp: expected an integer");
                p->has_timestamp = true;
        }
        return 0;
}

int sigstore_payload_parse(const char *data, size_t len, struct sigstore_payload *ret, struct herror *err)
{
        static const struct json_field top_fields[] = {
                { "critical", JSON_OBJECT, dispatch_json_ref, offsetof(struct payload_top, critical), JF_MANDATORY },
                { "optional", (json_type) -1, dispatch_json_ref, offsetof(struct payload_top, optional), JF_MANDATORY },
                { NULL },
        };
        static const struct json_field critical_fields[] = {
                { "type", JSON_STRING, json_dispatch_string, offsetof(struct payload_critical, type), JF_MANDATORY },
                { "image", JSON_OBJECT, dispatch_json_ref, offsetof(struct payload_critical, image), JF_MANDATORY },
                { "identity", JSON_OBJECT, dispatch_json_ref, offsetof(struct payload_critical, identity),
                  JF_MANDATORY },
                { NULL },
        };
        static const struct json_field image_fields[] = {
                { "docker-manifest-digest", JSON_STRING, json_dispatch_string,
                  offsetof(struct sigstore_payload, manifest_digest), JF_MANDATORY },
                { NULL },
        };
        static const struct json_field identity_fields[] = {
                { "docker-reference", JSON_STRING, json_dispatch_string,
                  offsetof(struct sigstore_payload, docker_reference), JF_MANDATORY },
                { NULL },
        };
        char q[84];
        _cleanup_json_ json_t *j = NULL;
        int r = json_parse_limited(data, len, "payload", SIGSTORE_PAYLOAD_MAX, SIGSTORE_PAYLOAD_MAX_DEPTH, &j, err);
        if (r < 0)
                return herror_set(err, EBADMSG, "%s", herror_msg(err));
        struct payload_top top = { 0 };
        struct payload_critical crit = { 0 };
        struct sigstore_payload p = { 0 };
        r = json_dispatch(j, "", top_fields, &top, JD_REJECT_UNKNOWN, err);
        if (r >= 0)
                r = json_dispatch(top.critical, ".critical", critical_fields, &crit, JD_REJECT_UNKNOWN, err);
        if (r >= 0 && !streq(crit.type, SIGSTORE_SIGNATURE_TYPE))
                r = herror_set(err, EBADMSG, ".critical.type: \"%s\" is not \"%s\"", trust_quote(crit.type, q),
                               SIGSTORE_SIGNATURE_TYPE);
        if (r >= 0)
                r = json_dispatch(crit.image, ".critical.image", image_fields, &p, JD_REJECT_UNKNOWN, err);
        if (r >= 0)
                r = json_dispatch(crit.identity, ".critical.identity", identity_fields, &p, JD_REJECT_UNKNOWN, err);
        if (r >= 0)
                r = parse_optional(top.optional, &p, err);
        free(crit.type);
        if (r < 0) {
                sigstore_payload_done(&p);
                return r == -ENOMEM ? r : herror_set(err, EBADMSG, "payload: %s", herror_msg(err));
        }
        *ret = p;
        return 0;
}

int sigstore_verify(const struct trust_key *const *keys, size_t n_keys, const struct sigstore_signature *sig,
                    const char *manifest_digest, struct sigstore_payload *ret_payload, size_t *ret_key_index,
                    struct herror *err)
{
        char q[84];
        const char *origin = sig->origin ? sig->origin : "signature";
        if (!sig->signature_b64)
                return herror_set(err, ENOENT, "%s: no %s annotation", origin, SIGSTORE_SIGNATURE_ANNOTATION);
        if (n_keys == 0)
                return herror_set(err, EINVAL, "%s: no trusted keys to verify with", origin);
        if (sig->payload_len > SIGSTORE_PAYLOAD_MAX)
                return herror_set(err, EBADMSG, "%s: payload larger than %u bytes", origin, SIGSTORE_PAYLOAD_MAX);
        size_t b64_len = strnlen(sig->signature_b64, SIGSTORE_SIGNATURE_B64_MAX + 1);
        if (b64_len > SIGSTORE_SIGNATURE_B64_MAX)
                return herror_set(err, EBADMSG, "%s: signature annotation longer than %u bytes", origin,
                                  SIGSTORE_SIGNATURE_B64_MAX);
        _cleanup_free_ unsigned char *raw = NULL;
        size_t raw_len = 0;
        int r = base64_decode_strict(sig->signature_b64, b64_len, &raw, &raw_len, err);
        if (r < 0)
                return r == -ENOMEM ? r : herror_wrap(err, "%s: signature annotation", origin);

        size_t used = n_keys;
        for (size_t i = 0; i < n_keys && used == n_keys; i++) {
                r = sigstore_verify_raw(keys[i], sig->payload, sig->payload_len, raw, raw_len, err);
                if (r == 0)
                        used = i;
                else if (r != -EKEYREJECTED)
                        return herror_wrap(err, "%s", origin);
        }
        if (used == n_keys) {
                if (n_keys == 1)
                        return herror_wrap(err, "%s: cryptographic signature verification failed", origin);
                return herror_set(err, EKEYREJECTED,
                                  "%s: cryptographic signature verification failed with each of the %zu trusted keys",
                                  origin, n_keys);
        }

        /* Verified: the payload is now as trustworthy as the key, and only now parsed. */
        struct sigstore_payload p = { 0 };
        r = sigstore_payload_parse(sig->payload, sig->payload_len, &p, err);
        if (r < 0)
                return r == -ENOMEM ? r : herror_wrap(err, "%s", origin);
        struct digest signed_digest;
        if (digest_parse(p.manifest_digest, &signed_digest, NULL) < 0) {
                r = herror_set(err, EBADMSG,
                               "%s: payload: critical.image.docker-manifest-digest \"%s\" is not a "
                               "sha256 digest",
                               origin, trust_quote(p.manifest_digest, q));
                sigstore_payload_done(&p);
                return r;
        }
        if (!streq(p.manifest_digest, manifest_digest)) {
                r = herror_set(err, EPERM, "%s: signed for manifest %s, but the image's manifest is %s", origin,
                               p.manifest_digest, trust_quote(manifest_digest, q));
                sigstore_payload_done(&p);
                return r;
        }
        *ret_payload = p;
        *ret_key_index = used;
        return 0;
}
