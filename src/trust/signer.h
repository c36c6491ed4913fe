/* The signing side of sigstore ("cosign") signatures, for `hutch key generate` and `hutch sign`:
 * ECDSA P-256 key pairs, the simple-signing payload in the exact form cosign and containers/image write
 * (Go json.Marshal: sorted keys, compact), and ECDSA SHA-256 signatures in ASN.1 DER, which is what
 * `openssl dgst -sha256 -verify` and every sigstore verifier accept (FORMATS.md 3.1, 3.2).
 *
 * Private keys are PEM PKCS#8: "ENCRYPTED PRIVATE KEY" (PBES2: scrypt + AES-256-CBC, OpenSSL's
 * defaults for PEM_write_bio_PKCS8PrivateKey with a cipher) or, only when asked for, the unencrypted
 * "PRIVATE KEY". cosign's own "ENCRYPTED COSIGN PRIVATE KEY" (nacl/secretbox) format is refused with a
 * message saying so. OpenSSL stays inside src/trust/. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "trust/keys.h"
#include "util/error.h"

#define TRUST_PRIVATE_KEY_FILE_MAX (64u * 1024)
#define TRUST_PASSPHRASE_MAX 1024

struct trust_signer; /* opaque: a private key */

/* A new ECDSA P-256 key pair as PEM text (NUL-terminated, malloc'd): the private key as PKCS#8,
 * encrypted with passphrase (non-empty), or unencrypted when passphrase is NULL; the public key as
 * "PUBLIC KEY" (SubjectPublicKeyInfo), which trust_key_from_pem() reads. */
int trust_keypair_generate(const char *passphrase, char **ret_private_pem, char **ret_public_pem, struct herror *err);

/* Whether PEM text holds an encrypted private key (so a caller knows to ask for a passphrase). */
bool trust_private_key_is_encrypted(const void *pem, size_t len);

/* Parse exactly one PEM private key (PKCS#8, encrypted or not; passphrase NULL for an unencrypted one).
 * A wrong passphrase is -EKEYREJECTED with a message naming source. Only key types keys.h verifies are
 * accepted; the signature scheme is the one sigstore_verify_raw() checks for that type. */
int trust_signer_from_pem(const void *pem, size_t len, const char *source, const char *passphrase,
                          struct trust_signer **ret, struct herror *err);
void trust_signer_free(struct trust_signer *s);
static inline void trust_signer_freep(struct trust_signer **s)
{
        trust_signer_free(*s);
}
#define _cleanup_trust_signer_ _cleanup_(trust_signer_freep)

/* The matching public key (for its fingerprint, and to check a signature just made). */
int trust_signer_public_key(const struct trust_signer *s, struct trust_key **ret, struct herror *err);
/* Sign data: ECDSA -> DER SEQUENCE{r,s} over SHA-256 (SHA-384 for P-384), Ed25519 -> 64 bytes,
 * RSA -> PKCS#1 v1.5 SHA-256. *ret is malloc'd. */
int trust_signer_sign(const struct trust_signer *s, const void *data, size_t len, unsigned char **ret, size_t *ret_len,
                      struct herror *err);

/* The payload cosign signs, byte for byte as Go's json.Marshal writes it:
 * {"critical":{"identity":{"docker-reference":REF},"image":{"docker-manifest-digest":DIGEST},
 *  "type":"cosign container image signature"},"optional":{"creator":CREATOR}}
 * ("optional" is null when creator is NULL). docker_reference must parse as a normalised reference and
 * manifest_digest as "sha256:<64 hex>"; the result parses with sigstore_payload_parse(). */
int sigstore_payload_build(const char *docker_reference, const char *manifest_digest, const char *creator, char **ret,
                           size_t *ret_len, struct herror *err);

/* Standard base64 with padding, no newlines (base64.StdEncoding, as the cosign annotation holds it). */
char *base64_encode(const void *data, size_t len);
