/* Public key loading and fingerprints; see keys.h. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "trust/internal.h"
#include "trust/keys.h"
#include "trust/reference.h"
#include "util/crypto-dl.h"
#include "util/fileio.h"
#include "util/sha256.h"

struct trust_key {
        EVP_PKEY *pkey;
        enum trust_key_type type;
        unsigned bits;
        char id[TRUST_KEY_ID_SIZE];
        char *source;
};

void trust_key_free(struct trust_key *k)
{
        if (!k)
                return;
        EVP_PKEY_free(k->pkey);
        free(k->source);
        free(k);
}

const char *trust_key_type_name(enum trust_key_type t)
{
        switch (t) {
        case TRUST_KEY_ECDSA_P256:
                return "ECDSA P-256";
        case TRUST_KEY_ECDSA_P384:
                return "ECDSA P-384";
        case TRUST_KEY_ED25519:
                return "Ed25519";
        case TRUST_KEY_RSA:
                return "RSA";
        case _TRUST_KEY_TYPE_MAX:
        default:
                return "unknown";
        }
}

enum trust_key_type trust_key_type(const struct trust_key *k)
{
        return k->type;
}

const char *trust_key_id(const struct trust_key *k)
{
        return k->id;
}

const char *trust_key_source(const struct trust_key *k)
{
        return k->source;
}

unsigned trust_key_bits(const struct trust_key *k)
{
        return k->bits;
}

struct evp_pkey_st *trust_key_evp(const struct trust_key *k)
{
        return k->pkey;
}

/* Which of the supported types pkey is, or a message saying why it is not. */
static int classify(EVP_PKEY *pkey, const char *source, enum trust_key_type *ret, struct herror *err)
{
        int id = EVP_PKEY_get_base_id(pkey);
        int bits = EVP_PKEY_get_bits(pkey);
        switch (id) {
        case EVP_PKEY_EC: {
                char group[64] = "", encoding[32] = "";
                size_t glen = 0;
                /* OpenSSL maps explicit parameters that equal a named curve to that curve; Go's x509 (cosign,
                 * containers/image) refuses them, and so do we: the encoding is part of the key's identity. */
                if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_EC_ENCODING, encoding, sizeof encoding,
                                                    &glen) ||
                    !streq(encoding, OSSL_PKEY_EC_ENCODING_GROUP) ||
                    !EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &glen))
                        return herror_set(
                                err, EOPNOTSUPP,
                                "%s: EC key with explicit curve parameters is not supported (use a named curve)",
                                source);
                if (streq(group, "prime256v1") || streq(group, "P-256"))
                        *ret = TRUST_KEY_ECDSA_P256;
                else if (streq(group, "secp384r1") || streq(group, "P-384"))
                        *ret = TRUST_KEY_ECDSA_P384;
                else
                        return herror_set(err, EOPNOTSUPP,
                                          "%s: EC key on curve %s is not supported (P-256 and P-384 are)", source,
                                          group);
                return 0;
        }
        case EVP_PKEY_ED25519:
                *ret = TRUST_KEY_ED25519;
                return 0;
        case EVP_PKEY_RSA:
                if (bits < TRUST_RSA_MIN_BITS || bits > TRUST_RSA_MAX_BITS)
                        return herror_set(err, EOPNOTSUPP,
                                          "%s: RSA key of %d bits is not supported (%d to %d bits are)", source, bits,
                                          TRUST_RSA_MIN_BITS, TRUST_RSA_MAX_BITS);
                *ret = TRUST_KEY_RSA;
                return 0;
        case EVP_PKEY_RSA_PSS:
                return herror_set(err, EOPNOTSUPP,
                                  "%s: RSA-PSS-restricted keys (OID rsassaPss) are not supported; export the key as "
                                  "rsaEncryption",
                                  source);
        default: {
                const char *name = OBJ_nid2sn(id);
                return herror_set(err, EOPNOTSUPP,
                                  "%s: %s keys are not supported (ECDSA P-256/P-384, Ed25519 and RSA are)", source,
                                  name ? name : "this type of");
        }
        }
}

static int fingerprint(EVP_PKEY *pkey, char id[static TRUST_KEY_ID_SIZE])
{
        unsigned char *der = NULL;
        int len = i2d_PUBKEY(pkey, &der);
        if (len <= 0)
                return -EINVAL;
        _Static_assert(TRUST_KEY_ID_SIZE >= 7 + SHA256_HEX_SIZE, "key ids are sha256:<hex>");
        memcpy(id, "sha256:", 7);
        sha256_hex(der, (size_t) len, id + 7);
        OPENSSL_free(der);
        return 0;
}

int trust_pem_read_single(const void *pem, size_t len, size_t max, const char *source, const char *expected,
                          char **ret_name, unsigned char **ret_der, long *ret_der_len, struct herror *err)
{
        if (len > max)
                return herror_set(err, EFBIG, "%s: larger than %zu bytes", source, max);
        _cleanup_(bio_freep) BIO *bio = BIO_new_mem_buf(pem, (int) len);
        if (!bio)
                return -ENOMEM;
        _cleanup_(openssl_freep) char *name = NULL;
        _cleanup_(openssl_freep) char *header = NULL;
        _cleanup_(openssl_freep) unsigned char *der = NULL;
        long der_len = 0;
        ERR_clear_error();
        if (!PEM_read_bio(bio, &name, &header, &der, &der_len)) {
                unsigned long e = ERR_peek_last_error();
                ERR_clear_error();
                if (ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
                        return herror_set(err, EINVAL, "%s: no PEM block (expected -----BEGIN %s-----)", source,
                                          expected);
                return herror_set(err, EINVAL, "%s: malformed PEM block", source);
        }
        if (header && header[0])
                return herror_set(err, EINVAL, "%s: PEM headers (encrypted or annotated blocks) are not supported",
                                  source);
        _cleanup_(openssl_freep) char *name2 = NULL;
        _cleanup_(openssl_freep) char *header2 = NULL;
        _cleanup_(openssl_freep) unsigned char *der2 = NULL;
        long der2_len = 0;
        bool second = PEM_read_bio(bio, &name2, &header2, &der2, &der2_len);
        unsigned long e2 = ERR_peek_last_error();
        ERR_clear_error();
        if (second)
                return herror_set(err, EINVAL,
                                  "%s: more than one PEM block; list several keys with keyPaths or keyDatas", source);
        if (ERR_GET_REASON(e2) != PEM_R_NO_START_LINE)
                return herror_set(err, EINVAL, "%s: malformed second PEM block", source);
        *ret_name = TAKE_PTR(name);
        *ret_der = TAKE_PTR(der);
        *ret_der_len = der_len;
        return 0;
}

int trust_key_from_pem(const void *pem, size_t len, const char *source, struct trust_key **ret, struct herror *err)
{
        if (!source)
                source = "public key";
        _cleanup_(openssl_freep) char *name = NULL;
        _cleanup_(openssl_freep) unsigned char *der = NULL;
        long der_len = 0;
        int r = trust_pem_read_single(pem, len, TRUST_KEY_FILE_MAX, source, "PUBLIC KEY", &name, &der, &der_len, err);
        if (r < 0)
                return r;
        if (!streq(name, "PUBLIC KEY")) {
                char q[84];
                if (strstr(name, "PRIVATE KEY"))
                        return herror_set(err, EINVAL, "%s: is a private key (%s); the policy needs the public key",
                                          source, trust_quote(name, q));
                return herror_set(err, EOPNOTSUPP,
                                  "%s: PEM block \"%s\" is not supported (expected PUBLIC KEY, SubjectPublicKeyInfo)",
                                  source, trust_quote(name, q));
        }
        const unsigned char *p = der;
        ERR_clear_error();
        _cleanup_(pkey_freep) EVP_PKEY *pkey = d2i_PUBKEY(NULL, &p, der_len);
        ERR_clear_error();
        if (!pkey)
                return herror_set(err, EINVAL, "%s: not a valid SubjectPublicKeyInfo", source);
        if (p != der + der_len)
                return herror_set(err, EINVAL, "%s: trailing data after the SubjectPublicKeyInfo", source);
        enum trust_key_type type;
        r = classify(pkey, source, &type, err);
        if (r < 0)
                return r;
        struct trust_key *k = calloc(1, sizeof *k);
        if (!k)
                return -ENOMEM;
        k->source = strdup(source);
        if (!k->source || fingerprint(pkey, k->id) < 0) {
                trust_key_free(k);
                return -ENOMEM;
        }
        k->type = type;
        k->bits = (unsigned) EVP_PKEY_get_bits(pkey);
        k->pkey = TAKE_PTR(pkey);
        *ret = k;
        return 0;
}

int trust_key_load_file(const char *path, struct trust_key **ret, struct herror *err)
{
        /* Key files are the administrator's configuration, not image content: a symlink (as
         * /etc/pki/containers often has) is fine. */
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return herror_sys(err, errno, "%s: cannot open key file", path);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return herror_sys(err, errno, "%s: cannot stat key file", path);
        if (!S_ISREG(st.st_mode))
                return herror_set(err, EINVAL, "%s: key file is not a regular file", path);
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r = read_fd_limited(fd, path, TRUST_KEY_FILE_MAX, &data, &len, err);
        if (r < 0)
                return r;
        return trust_key_from_pem(data, len, path, ret, err);
}
