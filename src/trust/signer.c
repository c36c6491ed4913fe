/* Key pairs, private keys and signing; see signer.h. */
#include <stdio.h>
#include <string.h>

#include "trust/internal.h"
#include "trust/reference.h"
#include "trust/signer.h"
#include "trust/sigstore.h"
#include "util/crypto-dl.h"

/* scrypt for the PKCS#8 encryption, as `openssl pkcs8 -topk8 -scrypt` uses it: N = 16384, r = 8, p = 1
 * (16 MiB; OpenSSL refuses to decrypt above 32 MiB by default, so cosign's N = 65536 is not an option). */
#define KEY_SCRYPT_N 16384
#define KEY_SCRYPT_R 8
#define KEY_SCRYPT_P 1

/* A PEM block read from a private key file: the DER body of an unencrypted key is the key, so it is
 * wiped when freed. */
struct pem_block {
        char *name;
        unsigned char *der;
        long der_len;
};

static void pem_block_wipep(struct pem_block *b)
{
        OPENSSL_free(b->name);
        if (b->der)
                OPENSSL_clear_free(b->der, b->der_len > 0 ? (size_t) b->der_len : 0);
}

struct trust_signer {
        EVP_PKEY *pkey;
        enum trust_key_type type;
        char *source;
};

/* The contents of a memory BIO as a NUL-terminated malloc'd string. */
static char *bio_to_string(BIO *b)
{
        char *p = NULL;
        long n = BIO_get_mem_data(b, &p);
        if (n < 0)
                return NULL;
        return strndup(p, (size_t) n);
}

static int write_encrypted_pkcs8(BIO *b, EVP_PKEY *pkey, const char *passphrase)
{
        PKCS8_PRIV_KEY_INFO *p8inf = EVP_PKEY2PKCS8(pkey);
        if (!p8inf)
                return -ENOMEM;
        X509_ALGOR *pbe =
                PKCS5_pbe2_set_scrypt(EVP_aes_256_cbc(), NULL, 16, NULL, KEY_SCRYPT_N, KEY_SCRYPT_R, KEY_SCRYPT_P);
        X509_SIG *p8 = pbe ? PKCS8_set0_pbe(passphrase, (int) strlen(passphrase), p8inf, pbe) : NULL;
        if (!p8)
                X509_ALGOR_free(pbe);
        PKCS8_PRIV_KEY_INFO_free(p8inf);
        int ok = p8 && PEM_write_bio_PKCS8(b, p8) == 1;
        X509_SIG_free(p8);
        return ok ? 0 : -ENOMEM;
}

int trust_keypair_generate(const char *passphrase, char **ret_private_pem, char **ret_public_pem, struct herror *err)
{
        if (passphrase && !passphrase[0])
                return herror_set(err, EINVAL, "an empty passphrase does not protect a key");
        if (passphrase && strlen(passphrase) > TRUST_PASSPHRASE_MAX)
                return herror_set(err, EINVAL, "passphrase longer than %u bytes", TRUST_PASSPHRASE_MAX);
        ERR_clear_error();
        _cleanup_(pkey_freep) EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        _cleanup_(bio_freep) BIO *priv = BIO_new(BIO_s_mem());
        _cleanup_(bio_freep) BIO *pub = BIO_new(BIO_s_mem());
        if (!pkey || !priv || !pub) {
                ERR_clear_error();
                return herror_set(err, ENOMEM, "generating an ECDSA P-256 key failed");
        }
        int r = passphrase ? write_encrypted_pkcs8(priv, pkey, passphrase)
                           : (PEM_write_bio_PKCS8PrivateKey(priv, pkey, NULL, NULL, 0, NULL, NULL) == 1 ? 0 : -ENOMEM);
        if (r == 0 && PEM_write_bio_PUBKEY(pub, pkey) != 1)
                r = -ENOMEM;
        ERR_clear_error();
        if (r < 0)
                return herror_set(err, -r, "writing the new key pair as PEM failed");
        _cleanup_free_ char *priv_pem = bio_to_string(priv);
        _cleanup_free_ char *pub_pem = bio_to_string(pub);
        if (!priv_pem || !pub_pem)
                return herror_set(err, ENOMEM, "out of memory");
        *ret_private_pem = TAKE_PTR(priv_pem);
        *ret_public_pem = TAKE_PTR(pub_pem);
        return 0;
}

bool trust_private_key_is_encrypted(const void *pem, size_t len)
{
        static const char label[] = "-----BEGIN ENCRYPTED PRIVATE KEY-----";
        return memmem(pem, len, label, sizeof label - 1) != NULL;
}

/* OpenSSL must never prompt on its own (its default callback reads the terminal): the passphrase, if
 * any, comes from the caller. */
static int passphrase_cb(char *buf, int size, int rwflag, void *u)
{
        (void) rwflag;
        const char *pass = u;
        if (!pass)
                return -1;
        size_t n = strlen(pass);
        if (n > (size_t) size)
                return -1;
        memcpy(buf, pass, n);
        return (int) n;
}

void trust_signer_free(struct trust_signer *s)
{
        if (!s)
                return;
        EVP_PKEY_free(s->pkey);
        free(s->source);
        free(s);
}

int trust_signer_public_key(const struct trust_signer *s, struct trust_key **ret, struct herror *err)
{
        _cleanup_(bio_freep) BIO *b = BIO_new(BIO_s_mem());
        if (!b || PEM_write_bio_PUBKEY(b, s->pkey) != 1) {
                ERR_clear_error();
                return herror_set(err, ENOMEM, "%s: cannot derive the public key", s->source);
        }
        char *p = NULL;
        long n = BIO_get_mem_data(b, &p);
        return trust_key_from_pem(p, (size_t) n, s->source, ret, err);
}

int trust_signer_from_pem(const void *pem, size_t len, const char *source, const char *passphrase,
                          struct trust_signer **ret, struct herror *err)
{
        if (!source)
                source = "private key";
        /* The label first, to say what is wrong with keys of other formats. */
        _cleanup_(pem_block_wipep) struct pem_block blk = { 0 };
        int r = trust_pem_read_single(pem, len, TRUST_PRIVATE_KEY_FILE_MAX, source, "ENCRYPTED PRIVATE KEY", &blk.name,
                                      &blk.der, &blk.der_len, err);
        if (r < 0)
                return r;
        const char *name = blk.name;
        bool encrypted = streq(name, "ENCRYPTED PRIVATE KEY");
        if (strstr(name, "COSIGN") || strstr(name, "SIGSTORE"))
                return herror_set(err, EOPNOTSUPP,
                                  "%s: cosign's \"%s\" format (nacl/secretbox) is not supported; use a PKCS#8 key "
                                  "from 'hutch key generate'",
                                  source, name);
        if (streq(name, "PUBLIC KEY"))
                return herror_set(err, EINVAL, "%s: is a public key; signing needs the private key", source);
        if (!encrypted && !streq(name, "PRIVATE KEY")) {
                char q[84];
                return herror_set(err, EOPNOTSUPP,
                                  "%s: PEM block \"%s\" is not a PKCS#8 private key (convert it with "
                                  "'openssl pkcs8 -topk8')",
                                  source, trust_quote(name, q));
        }
        if (encrypted && (!passphrase || !passphrase[0]))
                return herror_set(err, EKEYREJECTED, "%s: the key is encrypted and no passphrase was given", source);

        _cleanup_(bio_freep) BIO *b = BIO_new_mem_buf(pem, (int) len);
        if (!b)
                return -ENOMEM;
        ERR_clear_error();
        _cleanup_(pkey_freep) EVP_PKEY *pkey =
                PEM_read_bio_PrivateKey(b, NULL, passphrase_cb, encrypted ? (void *) passphrase : NULL);
        ERR_clear_error();
        if (!pkey)
                return encrypted ? herror_set(err, EKEYREJECTED, "%s: wrong passphrase (or a corrupt key)", source)
                                 : herror_set(err, EINVAL, "%s: not a valid PKCS#8 private key", source);
        struct trust_signer *s = calloc(1, sizeof *s);
        if (!s || !(s->source = strdup(source))) {
                free(s);
                return herror_set(err, ENOMEM, "out of memory");
        }
        s->pkey = TAKE_PTR(pkey);
        /* Classify through the public half, so the signer accepts exactly the key types keys.c does. */
        _cleanup_trust_key_ struct trust_key *pub = NULL;
        r = trust_signer_public_key(s, &pub, err);
        if (r < 0) {
                trust_signer_free(s);
                return r;
        }
        s->type = trust_key_type(pub);
        *ret = s;
        return 0;
}

int trust_signer_sign(const struct trust_signer *s, const void *data, size_t len, unsigned char **ret, size_t *ret_len,
                      struct herror *err)
{
        const EVP_MD *md;
        switch (s->type) {
        case TRUST_KEY_ECDSA_P256:
        case TRUST_KEY_RSA:
                md = EVP_sha256();
                break;
        case TRUST_KEY_ECDSA_P384:
                md = EVP_sha384();
                break;
        case TRUST_KEY_ED25519:
                md = NULL;
                break;
        case _TRUST_KEY_TYPE_MAX:
        default:
                return herror_set(err, EINVAL, "%s: unsupported key type", s->source);
        }
        _cleanup_(md_ctx_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        if (!ctx)
                return herror_set(err, ENOMEM, "out of memory");
        EVP_PKEY_CTX *pctx = NULL;
        size_t n = 0;
        ERR_clear_error();
        int ok = EVP_DigestSignInit(ctx, &pctx, md, NULL, s->pkey) == 1;
        if (ok && s->type == TRUST_KEY_RSA)
                ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0;
        if (ok)
                ok = EVP_DigestSign(ctx, NULL, &n, data, len) == 1;
        _cleanup_free_ unsigned char *sig = ok ? malloc(n) : NULL;
        if (ok && sig)
                ok = EVP_DigestSign(ctx, sig, &n, data, len) == 1;
        ERR_clear_error();
        if (!ok || !sig)
                return herror_set(err, EIO, "%s: signing failed", s->source);
        *ret = TAKE_PTR(sig);
        *ret_len = n;
        return 0;
}

/* Text that Go's json.Marshal writes unchanged between quotes: printable ASCII without '"', '\\' and
 * the characters it escapes as \u003c, \u003e, \u0026. */
static bool go_json_plain(const char *s)
{
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if (*p < 0x20 || *p > 0x7e || strchr("\"\\<>&", *p))
                        return false;
        return true;
}

static bool is_sha256_digest(const char *s)
{
        if (strncmp(s, "sha256:", 7) != 0 || strlen(s) != 7 + 64)
                return false;
        for (const char *p = s + 7; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                        return false;
        return true;
}

int sigstore_payload_build(const char *docker_reference, const char *manifest_digest, const char *creator, char **ret,
                           size_t *ret_len, struct herror *err)
{
        _cleanup_ref_ struct image_ref ref = { 0 };
        int r = ref_parse_canonical(docker_reference, &ref, err);
        if (r < 0)
                return herror_wrap(err, "signed identity");
        if (!go_json_plain(docker_reference))
                return herror_set(err, EINVAL, "signed identity: unexpected characters");
        if (!is_sha256_digest(manifest_digest))
                return herror_set(err, EINVAL, "manifest digest must be sha256:<64 lowercase hex>");
        if (creator && (!go_json_plain(creator) || strlen(creator) > 256))
                return herror_set(err, EINVAL, "creator: at most 256 printable ASCII characters without \"\\<>&");
        char *p = NULL;
        int n;
        if (creator)
                n = asprintf(&p,
                             "{\"critical\":{\"identity\":{\"docker-reference\":\"%s\"},\"image\":"
                             "{\"docker-manifest-digest\":\"%s\"},\"type\":\"" SIGSTORE_SIGNATURE_TYPE "\"},"
                             "\"optional\":{\"creator\":\"%s\"}}",
                             docker_reference, manifest_digest, creator);
        else
                n = asprintf(&p,
                             "{\"critical\":{\"identity\":{\"docker-reference\":\"%s\"},\"image\":"
                             "{\"docker-manifest-digest\":\"%s\"},\"type\":\"" SIGSTORE_SIGNATURE_TYPE "\"},"
                             "\"optional\":null}",
                             docker_reference, manifest_digest);
        if (n < 0)
                return herror_set(err, ENOMEM, "out of memory");
        *ret = p;
        *ret_len = (size_t) n;
        return 0;
}

char *base64_encode(const void *data, size_t len)
{
        if (len > (1u << 30))
                return NULL;
        char *out = malloc(4 * ((len + 2) / 3) + 1);
        if (!out)
                return NULL;
        EVP_EncodeBlock((unsigned char *) out, data, (int) len);
        return out;
}
