/* Sigstore ("cosign") image signatures with public keys, as containers/image verifies them
 * (signature/internal/sigstore.go, FORMATS.md 3): a signature is the exact payload bytes plus a
 * base64 signature over them (the layer annotation dev.cosignproject.cosign/signature). Order, as in
 * containers/image:
 *   1. base64 decoded strictly (standard alphabet, '=' padding required, no whitespace, unused bits 0);
 *   2. the signature verified over the EXACT payload bytes with each trusted key in turn;
 *   3. only then the payload parsed strictly (duplicate keys, trailing data, wrong types, missing or
 *      unknown members of "critical" all refused; "optional" must be present, an object or null, its
 *      members are ignored except that "creator" must be a string and "timestamp" an integer);
 *   4. critical.type must be "cosign container image signature" and
 *      critical.image.docker-manifest-digest must equal the image's manifest digest.
 * The identity (critical.identity.docker-reference) is returned for the policy's signedIdentity check.
 * The cosign bundle (Rekor SET) and certificate annotations are ignored: key-based verification only. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trust/keys.h"
#include "util/error.h"

#define SIGSTORE_SIGNATURE_ANNOTATION "dev.cosignproject.cosign/signature"
#define SIGSTORE_PAYLOAD_MEDIA_TYPE "application/vnd.dev.cosign.simplesigning.v1+json"
#define SIGSTORE_SIGNATURE_TYPE "cosign container image signature"
#define SIGSTORE_PAYLOAD_MAX (256u * 1024)
#define SIGSTORE_SIGNATURE_B64_MAX (16u * 1024)
#define SIGSTORE_PAYLOAD_MAX_DEPTH 32

/* One signature as found next to an image. Owned strings (cosign_layout_find_signatures() fills them);
 * callers building one by hand may point at their own memory and must not call sigstore_signature_done. */
struct sigstore_signature {
        char *payload; /* exact bytes, not necessarily NUL-terminated */
        size_t payload_len;
        char *signature_b64; /* the annotation value; NULL when the layer had none */
        char *origin;        /* where it was found, for messages ("sha256-....sig layer 0"); may be NULL */
};
void sigstore_signature_done(struct sigstore_signature *s);
void sigstore_signatures_free(struct sigstore_signature *s, size_t n);

/* What a verified payload says. */
struct sigstore_payload {
        char *docker_reference; /* critical.identity.docker-reference, as written (not yet parsed) */
        char *manifest_digest;  /* critical.image.docker-manifest-digest */
        char *creator;          /* optional.creator or NULL */
        bool has_timestamp;
        int64_t timestamp; /* optional.timestamp */
};
void sigstore_payload_done(struct sigstore_payload *p);

/* Strict standard base64 (RFC 4648 section 4): length a multiple of 4, padding only at the end, the
 * unused bits of the last symbol zero, no whitespace. An empty input is refused. */
int base64_decode_strict(const char *s, size_t len, unsigned char **ret, size_t *ret_len, struct herror *err);

/* Verify raw signature bytes over data with one key (see keys.h for the algorithms). ECDSA accepts
 * canonical DER, and, only when the bytes are not DER, the raw IEEE P1363 form r||s of exactly twice
 * the field size (sigstore/sigstore's verifier does the same). 0 = valid; -EKEYREJECTED = not a valid
 * signature by this key (err says why); other negative values are errors. */
int sigstore_verify_raw(const struct trust_key *key, const void *data, size_t len, const unsigned char *sig,
                        size_t sig_len, struct herror *err);

/* Parse a payload strictly (step 3 and the type check of step 4). Do not call this on bytes whose
 * signature has not been verified except to test the parser: the content is attacker-controlled. */
int sigstore_payload_parse(const char *data, size_t len, struct sigstore_payload *ret, struct herror *err);

/* Steps 1 to 4 for one signature against keys[0..n_keys) (any one may have signed) and the image's
 * manifest digest ("sha256:<hex>"). On success returns 0, the parsed payload and the index of the key
 * that verified. Failures: -EKEYREJECTED (no key verifies), -EBADMSG (malformed base64 or payload),
 * -EPERM (the payload names another manifest digest), -ENOENT (no signature annotation). */
int sigstore_verify(const struct trust_key *const *keys, size_t n_keys, const struct sigstore_signature *sig,
                    const char *manifest_digest, struct sigstore_payload *ret_payload, size_t *ret_key_index,
                    struct herror *err);
