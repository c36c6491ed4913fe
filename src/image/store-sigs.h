/* Signatures kept beside an image in the store, so that every launch can verify them again (the trust
 * policy may change between load and run; a verdict is never cached). The store does not interpret
 * them: it keeps the exact payload bytes as a blob (content addressed, so `prune` sees them referenced)
 * and the base64 signature as given, in
 *   <root>/sigs/<manifest-hex>.json  {"signatures": [{"payload": "sha256:<hex>", "signature": "<b64>",
 *                                                    "origin": "..."}]}
 * replaced atomically under the writers' lock. trust/ verifies them (sigstore.h); its
 * struct sigstore_signature has the same fields. */
#pragma once
#include <stddef.h>
#include "image/digest.h"
#include "image/store.h"
#include "util/error.h"

#define STORE_SIGS_MAX 64                  /* per image, as COSIGN_MAX_SIGNATURES */
#define STORE_SIG_PAYLOAD_MAX (256u << 10) /* as SIGSTORE_PAYLOAD_MAX; cosign writes a few hundred bytes */
#define STORE_SIG_B64_MAX (16u << 10)      /* an RSA-8192 signature is 1.4 KiB of base64 */

struct store_signature {
        char *payload; /* exact bytes, not NUL-terminated for the verifier's sake */
        size_t payload_len;
        char *signature_b64;
        char *origin; /* where it came from ("layout sha256-<hex>.sig layer 0", "hutch sign"); may be NULL */
};

void store_signatures_free(struct store_signature *sigs, size_t n);

/* Add signatures for a stored manifest; one already there (same payload and signature) is not added
 * twice. Refuses to go beyond STORE_SIGS_MAX. */
int store_sigs_add(struct image_store *s, const struct digest *manifest, const struct store_signature *sigs, size_t n,
                   struct herror *err);
/* Every signature kept for manifest (0 with *ret_n = 0 when none); each payload's digest is re-checked. */
int store_sigs_list(struct image_store *s, const struct digest *manifest, struct store_signature **ret, size_t *ret_n,
                    struct herror *err);
/* Forget them (the payload blobs stay until prune); none is success. */
int store_sigs_remove(struct image_store *s, const struct digest *manifest, struct herror *err);
/* The payload blob digests referenced by every sigs file, for prune (appended to *ret, realloc'd). */
int store_sigs_payload_digests(struct image_store *s, struct digest **ret, size_t *ret_n, struct herror *err);

/* Where the image was loaded from, when that was an OCI layout directory (its canonical path): the trust
 * policy's "oci" transport section can then apply to it (src/cli/image-trust.c). The last load wins.
 * store_origin_get: *ret NULL when none was recorded. store_sigs_remove() forgets it too. */
int store_origin_set(struct image_store *s, const struct digest *manifest, const char *layout_path, struct herror *err);
int store_origin_get(struct image_store *s, const struct digest *manifest, char **ret, struct herror *err);
