/* Where cosign/skopeo signatures sit in an OCI layout (FORMATS.md 3.3, 3.4), in two forms:
 *  - `skopeo copy` of a registry's "sha256-<hex>.sig" tag into a layout leaves an index.json entry with
 *    that ref.name;
 *  - `cosign save --dir` (sigstore/cosign pkg/oci/layout/write.go, index.go) writes one image per layout:
 *    index.json entries without a ref.name, each annotated "kind": dev.cosignproject.cosign/image (or
 *    .../imageIndex) for the image, .../sigs for its signatures, .../atts for its attestations. The
 *    sigs entry names no digest: it signs the image of the image/imageIndex entry.
 * Either way the entry points at an OCI manifest whose layers of media type
 * application/vnd.dev.cosign.simplesigning.v1+json are the signed payloads, each with its base64
 * signature in the annotation dev.cosignproject.cosign/signature. Attestations (in-toto statements in
 * DSSE envelopes) and kinds cosign does not define are not signatures and are never read.
 * index.json is not authenticated, and neither is this lookup: each blob is checked against its
 * descriptor's digest and size, and each signature binds the manifest digest it names, which
 * sigstore_verify() compares after verifying the payload bytes. OCI 1.1 referrers are not searched. */
#pragma once

#include <stddef.h>

#include "trust/sigstore.h"
#include "util/error.h"

#define COSIGN_MAX_SIGNATURES 64
#define COSIGN_MAX_ARTIFACTS 16 /* distinct signature manifests for one image */

/* All signatures found for manifest_digest ("sha256:<hex>"; an image index's digest finds the
 * signatures of the index) in the layout at layoutfd, in both forms: 0 with *ret_n = 0 when there are
 * none. An artifact listed twice is read once. Unreadable or inconsistent signature artifacts, and
 * cosign-save sigs whose image is ambiguous (two different image entries), are errors (the caller
 * rejects). Free with sigstore_signatures_free(*ret, *ret_n). */
int cosign_layout_find_signatures(int layoutfd, const char *manifest_digest, struct sigstore_signature **ret,
                                  size_t *ret_n, struct herror *err);

/* The other direction, for `hutch save`: the signature artifact cosign and skopeo would attach, so that
 * a layout written with it carries the signatures (index.json entry ref.name = the returned tag,
 * "sha256-<hex>.sig"). ret_manifest and ret_config are the exact bytes of the artifact's manifest and
 * config blobs (the payloads are blobs too: the caller writes sigs[i].payload as well). Signatures
 * without a signature_b64 are skipped. All three strings are malloc'd. */
int cosign_signature_artifact(const char *manifest_digest, const struct sigstore_signature *sigs, size_t n,
                              char **ret_manifest, char **ret_config, char **ret_tag, struct herror *err);
