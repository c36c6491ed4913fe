#!/usr/bin/env bash
# bench/unpack.sh: unpack throughput of one large gzip layer, side by side:
#   tar -xzf LAYER                   (the floor: GNU tar, no checks)
#   hutch unpack (image-tool unpack) (the store's unpacker: safe resolver for every entry, whiteouts,
#                                     limits, diff_id hashed while it streams)
#   umoci unpack --rootless          (a peer that does the same job)
#   hutch rootfs, first time         (what `hutch run` does for a new image: every layer unpacked by the
#                                     isolated child, in a user namespace with the user's subordinate IDs,
#                                     then renamed into the cache)
#   hutch rootfs, second time        (the per-image cache: must do no unpack at all)
# The layer is a tar of real files (BENCH_TREE, default: parts of /usr, about 200 MB) made into an OCI
# image by umoci (which gzips it), loaded with `hutch load`. Run as an unprivileged user (nobody chowns).
# Needs: hyperfine, umoci, jq, a built hutch ($HUTCH) and image-tool ($IMAGE_TOOL).
# Output: bench/results/unpack.md (hyperfine markdown) and a summary on stdout.
set -euo pipefail
cd "$(dirname "$0")"
: "${HUTCH:=../build/hutch}" "${IMAGE_TOOL:=../build/tests/integration/image-tool}"
: "${BENCH_TREE:=/usr/lib/gcc /usr/lib/python3.11 /usr/share/perl}"
: "${BENCH_RUNS:=3}" "${BENCH_OUT:=results}"
for c in hyperfine umoci jq; do command -v "$c" >/dev/null || { echo "unpack.sh: $c is not installed" >&2; exit 1; }; done
[ -x "$HUTCH" ] && [ -x "$IMAGE_TOOL" ] || { echo "unpack.sh: build first (HUTCH=$HUTCH IMAGE_TOOL=$IMAGE_TOOL)" >&2; exit 1; }
HUTCH=$(realpath "$HUTCH") IMAGE_TOOL=$(realpath "$IMAGE_TOOL")
mkdir -p "$BENCH_OUT"
work=$(mktemp -d "${TMPDIR:-/var/tmp}/hutch-bench-unpack.XXXXXX")
# the rootfs cache holds files of subordinate IDs: `hutch rmi` removes it first
trap '"$HUTCH" rmi --storage "$work/store" localhost/bench >/dev/null 2>&1; chmod -R u+rwX "$work" 2>/dev/null; rm -rf "$work"' EXIT

# shellcheck disable=SC2086 # BENCH_TREE is a list of paths
tar -cf "$work/layer.tar" --ignore-failed-read $BENCH_TREE 2>/dev/null || true
layout=$work/oci
umoci init --layout "$layout"
umoci new --image "$layout:bench"
umoci raw add-layer --image "$layout:bench" "$work/layer.tar"
rm "$work/layer.tar"
manifest=$(jq -r '.manifests[0].digest' "$layout/index.json" | cut -c8-)
layer=$layout/blobs/sha256/$(jq -r '.layers[-1].digest' "$layout/blobs/sha256/$manifest" | cut -c8-)
store=$work/store
digest=$("$HUTCH" load -q --storage "$store" --name localhost/bench "$layout:bench" | sed -n 's/^Manifest digest: //p')
size_gz=$(stat -c %s "$layer")
size_tar=$(gzip -dc "$layer" | wc -c)
entries=$(gzip -dc "$layer" | tar -t | wc -l)

hyperfine --runs "$BENCH_RUNS" --warmup 1 --export-markdown "$BENCH_OUT/unpack.md" \
        --prepare "chmod -R u+rwX '$work/out' 2>/dev/null; rm -rf '$work/out'; mkdir '$work/out'" \
        -n "tar -xzf" "tar -xzf '$layer' -C '$work/out'" \
        -n "hutch unpack" "rmdir '$work/out' && '$IMAGE_TOOL' unpack '$store' localhost/bench:latest '$work/out' 2>/dev/null" \
        -n "umoci unpack --rootless" "rmdir '$work/out' && umoci unpack --rootless --image '$layout:bench' '$work/out' >/dev/null"
# The cache is dropped between runs by `hutch rmi` (which removes a tree of subordinate IDs from inside a
# user namespace) and the name put back with `hutch tag` (the blobs stay until a prune).
hyperfine --runs "$BENCH_RUNS" --warmup 1 --export-markdown "$BENCH_OUT/unpack-rootfs.md" \
        --prepare "'$HUTCH' rmi --storage '$store' localhost/bench >/dev/null && '$HUTCH' tag --storage '$store' '$digest' localhost/bench" \
        -n "hutch rootfs (first, isolated unpacker)" "'$IMAGE_TOOL' rootfs '$store' localhost/bench:latest >/dev/null"
"$IMAGE_TOOL" rootfs "$store" localhost/bench:latest >/dev/null
hyperfine --runs 10 --export-markdown "$BENCH_OUT/unpack-cached.md" -n "hutch rootfs (cached)" \
        "'$IMAGE_TOOL' rootfs '$store' localhost/bench:latest"
printf '\nlayer: %s MB gzip, %s MB tar, %s entries (from %s)\n' "$((size_gz / 1000000))" "$((size_tar / 1000000))" \
        "$entries" "$BENCH_TREE" | tee -a "$BENCH_OUT/unpack.md"
