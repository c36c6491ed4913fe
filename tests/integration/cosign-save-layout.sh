#!/usr/bin/env bash
# cosign-save-layout.sh SRC REF DEST KEY IDENTITY [DIGEST | @PAYLOAD-FILE]
# Write DEST, an OCI image layout in the shape `cosign save --dir DEST IMAGE` gives it, for the image
# (or image index) whose ref.name is REF in the OCI layout SRC: its signature made with the private key
# KEY (PEM, ECDSA P-256 with SHA-256, cosign's default scheme) by the openssl CLI, plus an attestation.
# Prints the digest of the image (or index).
#
# cosign is not packaged for Debian 12, so the tests cannot run it; this follows its source (sigstore/cosign
# main, v3.x), read for the purpose and not copied:
#   cmd/cosign/cli/save.go    `cosign save` calls layout.WriteSignedImage (WriteSignedImageIndex for an index)
#   pkg/oci/layout/write.go   a fresh layout (go-containerregistry layout.Write of an empty index), then one
#                             index.json entry per object written: the object's descriptor with the single
#                             annotation "kind"; the image first, then its signatures manifest, then its
#                             attestations manifest (each only when there are any). No ref.name anywhere,
#                             and the sigs entry does not name the image it signs.
#   pkg/oci/layout/index.go   the kinds: dev.cosignproject.cosign/{image,imageIndex,sigs,atts}
#   pkg/oci/empty/empty.go    signature and attestation manifests are OCI manifests with an OCI config
#   pkg/oci/static/signature.go, specs/SIGNATURE_SPEC.md   each signature is one layer of media type
#                             application/vnd.dev.cosign.simplesigning.v1+json, its base64 signature in the
#                             annotation dev.cosignproject.cosign/signature; an attestation is a layer of
#                             media type application/vnd.dsse.envelope.v1+json whose signature annotation is
#                             empty (the signature is inside the DSSE envelope)
# The payload is cosign's simple signing JSON (Go json.Marshal order), and IDENTITY its docker-reference:
# cosign writes the repository only (no tag). DIGEST, default the image's digest, is the digest the
# payload names: another one makes "a signature claiming another image"; @PAYLOAD-FILE signs those bytes
# instead (for payloads that are not what cosign writes).
set -euo pipefail

[ $# -eq 5 ] || [ $# -eq 6 ] || { echo "usage: cosign-save-layout.sh SRC REF DEST KEY IDENTITY [DIGEST|@PAYLOAD]" >&2; exit 2; }
src=$1 ref=$2 dest=$3 key=$4 identity=$5
for tool in jq openssl; do
        command -v "$tool" >/dev/null || { echo "cosign-save-layout.sh: needs $tool" >&2; exit 1; }
done

OCI_MANIFEST=application/vnd.oci.image.manifest.v1+json
OCI_CONFIG=application/vnd.oci.image.config.v1+json

mkdir -p "$dest/blobs/sha256"
printf '{"imageLayoutVersion":"1.0.0"}' >"$dest/oci-layout"

# put FILE: store FILE as a blob of DEST; prints "DIGEST SIZE"
put() {
        local hex
        hex=$(sha256sum "$1" | cut -d' ' -f1)
        cp "$1" "$dest/blobs/sha256/$hex"
        echo "sha256:$hex $(stat -c %s "$1")"
}

# descriptor MEDIATYPE "DIGEST SIZE" KIND: an index.json entry as write.go appends it
descriptor() {
        local d s
        read -r d s <<<"$2"
        jq -cn --arg m "$1" --arg d "$d" --argjson s "$s" --arg k "$3" \
                '{mediaType: $m, size: $s, digest: $d, annotations: {kind: $k}}'
}

# manifest CONFIG-FILE LAYERS-JSON: an OCI manifest over the config blob and the given layer descriptors
manifest() {
        local c cs
        read -r c cs <<<"$(put "$1")"
        jq -cn --arg m "$OCI_MANIFEST" --arg cm "$OCI_CONFIG" --arg c "$c" --argjson cs "$cs" --argjson l "$2" \
                '{schemaVersion: 2, mediaType: $m, config: {mediaType: $cm, size: $cs, digest: $c}, layers: $l}'
}

# copy_image DIGEST: a manifest and every blob it names, or an index, its manifests and theirs, byte for byte
copy_image() {
        local f=$src/blobs/sha256/${1#sha256:} b
        cp "$f" "$dest/blobs/sha256/"
        if jq -e 'has("manifests")' "$f" >/dev/null; then
                for b in $(jq -r '.manifests[].digest' "$f"); do copy_image "$b"; done
        else
                for b in $(jq -r '.config.digest, .layers[].digest' "$f"); do cp "$src/blobs/sha256/${b#sha256:}" "$dest/blobs/sha256/"; done
        fi
}

# the image itself: WriteSignedImage's kind "image", or WriteSignedImageIndex's "imageIndex"
entry=$(jq -ec --arg r "$ref" '[.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $r)] | first' \
        "$src/index.json") || { echo "cosign-save-layout.sh: $src has no image named $ref" >&2; exit 1; }
image_digest=$(jq -r .digest <<<"$entry")
image_mt=$(jq -r .mediaType <<<"$entry")
copy_image "$image_digest"
kind=dev.cosignproject.cosign/image
[ "$image_mt" != application/vnd.oci.image.index.v1+json ] || kind=dev.cosignproject.cosign/imageIndex
image_entry=$(descriptor "$image_mt" "$image_digest $(jq -r .size <<<"$entry")" "$kind")

tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT

# the signature: the payload's bytes signed, then base64 (standard alphabet, padded) into the annotation
case ${6:-} in
@*) cp -- "${6#@}" "$tmp/payload" ;;
*) printf '{"critical":{"identity":{"docker-reference":"%s"},"image":{"docker-manifest-digest":"%s"},"type":"cosign container image signature"},"optional":null}' \
        "$identity" "${6:-$image_digest}" >"$tmp/payload" ;;
esac
openssl dgst -sha256 -sign "$key" -out "$tmp/sig" "$tmp/payload"
read -r pd ps <<<"$(put "$tmp/payload")"
sig_layer=$(jq -cn --arg d "$pd" --argjson s "$ps" --arg sig "$(openssl base64 -A -in "$tmp/sig")" \
        '{mediaType: "application/vnd.dev.cosign.simplesigning.v1+json", size: $s, digest: $d,
          annotations: {"dev.cosignproject.cosign/signature": $sig}}')
# go-containerregistry's config of an image built from empty.Image by appending layers
jq -cn --arg d "$pd" '{architecture: "", created: "0001-01-01T00:00:00Z", history: [{created: "0001-01-01T00:00:00Z"}],
        os: "", rootfs: {type: "layers", diff_ids: [$d]}, config: {}}' >"$tmp/sig-config"
manifest "$tmp/sig-config" "[$sig_layer]" >"$tmp/sigs"
sigs_entry=$(descriptor "$OCI_MANIFEST" "$(put "$tmp/sigs")" dev.cosignproject.cosign/sigs)

# an attestation: an in-toto statement about the image in a DSSE envelope, signed over DSSE's PAE
statement=$(jq -cn --arg d "${image_digest#sha256:}" --arg n "$identity" \
        '{_type: "https://in-toto.io/Statement/v0.1", predicateType: "https://cosign.sigstore.dev/attestation/v1",
          subject: [{name: $n, digest: {sha256: $d}}], predicate: {Data: "hutch test", Timestamp: "2026-01-01T00:00:00Z"}}')
ptype=application/vnd.in-toto+json
printf 'DSSEv1 %d %s %d %s' "${#ptype}" "$ptype" "${#statement}" "$statement" >"$tmp/pae"
openssl dgst -sha256 -sign "$key" -out "$tmp/att-sig" "$tmp/pae"
jq -cn --arg t "$ptype" --arg p "$(printf '%s' "$statement" | openssl base64 -A)" \
        --arg s "$(openssl base64 -A -in "$tmp/att-sig")" \
        '{payloadType: $t, payload: $p, signatures: [{keyid: "", sig: $s}]}' >"$tmp/envelope"
read -r ed es <<<"$(put "$tmp/envelope")"
att_layer=$(jq -cn --arg d "$ed" --argjson s "$es" \
        '{mediaType: "application/vnd.dsse.envelope.v1+json", size: $s, digest: $d,
          annotations: {"dev.cosignproject.cosign/signature": "", predicateType: "https://cosign.sigstore.dev/attestation/v1"}}')
jq -cn --arg d "$ed" '{architecture: "", created: "0001-01-01T00:00:00Z", history: [{created: "0001-01-01T00:00:00Z"}],
        os: "", rootfs: {type: "layers", diff_ids: [$d]}, config: {}}' >"$tmp/att-config"
manifest "$tmp/att-config" "[$att_layer]" >"$tmp/atts"
atts_entry=$(descriptor "$OCI_MANIFEST" "$(put "$tmp/atts")" dev.cosignproject.cosign/atts)

jq -n --argjson i "$image_entry" --argjson s "$sigs_entry" --argjson a "$atts_entry" \
        '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [$i, $s, $a]}' >"$dest/index.json"
echo "$image_digest"
