/* Public keys that may sign images: PEM "PUBLIC KEY" (SubjectPublicKeyInfo), as cosign and skopeo
 * (`generate-sigstore-key`, `cosign generate-key-pair`) write them. Supported, with what sigstore.c
 * verifies for each (FORMATS.md 3.2):
 *   ECDSA P-256  SHA-256                          (cosign's default; DER or raw r||s signatures)
 *   ECDSA P-384  SHA-384, or SHA-256 as containers/image's verifier uses for every ECDSA key
 *   Ed25519      pure Ed25519 over the payload
 *   RSA 2048..8192 bits: PKCS#1 v1.5 or PSS, SHA-256
 * Anything else (other curves, explicit EC parameters, DSA, RSA-PSS-restricted keys, PKCS#1 "RSA PUBLIC
 * KEY" blocks, private keys, certificates) is refused with a message naming the file and the type.
 * A key is named by its fingerprint: "sha256:" + hex of sha256(DER SubjectPublicKeyInfo), so audit
 * records name keys independently of where the policy stored them. OpenSSL stays inside keys.c and
 * sigstore.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

#define TRUST_KEY_FILE_MAX (64u * 1024)
#define TRUST_KEY_ID_SIZE (sizeof "sha256:" - 1 + 64 + 1)
#define TRUST_RSA_MIN_BITS 2048
#define TRUST_RSA_MAX_BITS 8192

enum trust_key_type {
        TRUST_KEY_ECDSA_P256,
        TRUST_KEY_ECDSA_P384,
        TRUST_KEY_ED25519,
        TRUST_KEY_RSA,
        _TRUST_KEY_TYPE_MAX,
};

struct trust_key; /* opaque */
struct evp_pkey_st;

/* Parse exactly one PEM "PUBLIC KEY" block (text around it is ignored, a second PEM block is refused:
 * use keyPaths/keyDatas for several keys). source names the key in messages and is kept. */
int trust_key_from_pem(const void *pem, size_t len, const char *source, struct trust_key **ret, struct herror *err);
/* Read a key file (regular file, at most TRUST_KEY_FILE_MAX bytes) and parse it as above. */
int trust_key_load_file(const char *path, struct trust_key **ret, struct herror *err);
void trust_key_free(struct trust_key *k);
static inline void trust_key_freep(struct trust_key **k)
{
        trust_key_free(*k);
}
#define _cleanup_trust_key_ _cleanup_(trust_key_freep)

enum trust_key_type trust_key_type(const struct trust_key *k);
const char *trust_key_type_name(enum trust_key_type t); /* "ECDSA P-256", ... */
const char *trust_key_id(const struct trust_key *k);    /* "sha256:<64 hex>" */
const char *trust_key_source(const struct trust_key *k);
unsigned trust_key_bits(const struct trust_key *k);
/* The OpenSSL key (EVP_PKEY), for sigstore.c. */
struct evp_pkey_st *trust_key_evp(const struct trust_key *k);
