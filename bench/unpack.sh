#!/usr/bin/env bash
# bench/unpack.sh: unpack of a debootstrap minbase image (Debian bookworm, about 200 MB, one gzip layer made
# by umoci), side by side:
#   tar -xzf LAYER                     the floor: GNU tar and a gzip process, no checks
#   umoci unpack --rootless            a peer that does the same job as hutch
#   hutch unpack (image-tool unpack)   the store's unpacker in one process: safe resolver for every entry,
#                                      whiteouts, limits, diff_id hashed while the stream is read; gzip
#                                      decoded by ISA-L where installed, and once more by libarchive's zlib
#   hutch rootfs, cold                 what the first `hutch run` of an image pays: the isolated child (own
#                                      user namespace with the subordinate IDs, pivot, seccomp), owners
#                                      kept, syncfs before the tree is renamed into the cache
#   hutch run --rm IMAGE true, cold    the whole first run (trust, unpack, overlay, start)
#   hutch run --rm IMAGE true, warm    the second run: the cache is there, no unpack at all
# Every cold run starts after `sync` (in --prepare, not timed) and writes a tree that never existed before: a
# fresh output directory, or a store of its own with no rootfs cache; trees are removed after all runs.
# The machine this runs on may be shared: BENCH_RUNS runs each (default 10), medians and minimums are
# reported, and user+system CPU time (less sensitive to other load than wall time).
#
# The image: $BENCH_CACHE/minbase-bookworm.tar, made once with
#   debootstrap --variant=minbase bookworm DIR http://deb.debian.org/debian
# (needs root and the network: scripts/bench does it as root before it runs this as hutch-test), then
# turned into an OCI layout with umoci (~/.cache/hutch-bench/minbase-oci), also kept. BENCH_TARGET: where the
# trees are written (default: a directory under /var/tmp, i.e. the disk; a tmpfs takes the disk out).
# Needs: hyperfine, umoci, jq; a built hutch ($HUTCH) and, for the in-process row, image-tool ($IMAGE_TOOL).
# Output: $BENCH_OUT/unpack.md (table) and unpack.json (hyperfine's), summary on stdout.
set -euo pipefail
cd "$(dirname "$0")"
: "${HUTCH:=../build-release/hutch}" "${IMAGE_TOOL:=../build-release/tests/integration/image-tool}"
: "${BENCH_RUNS:=10}" "${BENCH_OUT:=results}" "${BENCH_CACHE:=/var/tmp/hutch-bench-cache}"
for c in hyperfine umoci jq; do command -v "$c" >/dev/null || { echo "unpack.sh: $c is not installed" >&2; exit 1; }; done
[ -x "$HUTCH" ] || { echo "unpack.sh: build first (HUTCH=$HUTCH)" >&2; exit 1; }
HUTCH=$(realpath "$HUTCH")
[ -x "$IMAGE_TOOL" ] && IMAGE_TOOL=$(realpath "$IMAGE_TOOL") || IMAGE_TOOL=
mkdir -p "$BENCH_OUT"

# ---- the cached image ----
tarball=$BENCH_CACHE/minbase-bookworm.tar
if [ ! -f "$tarball" ]; then
        if [ "$(id -u)" != 0 ]; then
                echo "unpack.sh: $tarball is missing; make it once as root (scripts/bench does), e.g." >&2
                echo "  BENCH_CACHE=$BENCH_CACHE bash bench/unpack.sh --prepare-cache" >&2
                exit 1
        fi
        command -v debootstrap >/dev/null || { echo "unpack.sh: debootstrap is not installed" >&2; exit 1; }
        mkdir -p "$BENCH_CACHE"
        tmp=$(mktemp -d "$BENCH_CACHE/minbase.XXXXXX")
        debootstrap --variant=minbase bookworm "$tmp/root" http://deb.debian.org/debian >"$tmp/log" 2>&1 ||
                { tail -20 "$tmp/log" >&2; exit 1; }
        tar --numeric-owner -C "$tmp/root" -cf "$tmp/minbase.tar" .
        mv "$tmp/minbase.tar" "$tarball"
        rm -rf "$tmp"
        chmod 0755 "$BENCH_CACHE"
        chmod 0644 "$tarball"
fi
[ "${1:-}" = --prepare-cache ] && exit 0
layout=${XDG_CACHE_HOME:-$HOME/.cache}/hutch-bench/minbase-oci
if [ ! -f "$layout/index.json" ] || [ "$layout/index.json" -ot "$tarball" ]; then
        mkdir -p "$(dirname "$layout")"
        rm -rf "$layout"
        rm -rf "$layout.tmp"
        umoci init --layout "$layout.tmp" >/dev/null
        umoci new --image "$layout.tmp:minbase"
        umoci raw add-layer --image "$layout.tmp:minbase" "$tarball"
        umoci config --image "$layout.tmp:minbase" --config.cmd /bin/true
        mv "$layout.tmp" "$layout"
fi
manifest=$(jq -r '.manifests[0].digest' "$layout/index.json" | cut -c8-)
layer=$layout/blobs/sha256/$(jq -r '.layers[-1].digest' "$layout/blobs/sha256/$manifest" | cut -c8-)

# ---- the workspace ----
# Every timed run writes a tree into a directory that has never existed and nothing is deleted until all
# runs are done: on this VM's ext4 (no journal), removing a tree just before creating the next one made
# file creation several times slower, which measured the deletion, not the unpacker.
work=$(mktemp -d "${BENCH_TARGET:-/var/tmp}/hutch-bench-unpack.XXXXXX")
stores=()
remove_work() {
        for s in "${stores[@]}"; do "$HUTCH" rmi --storage "$s" localhost/minbase >/dev/null 2>&1 || true; done
        chmod -R u+rwX "$work" 2>/dev/null
        rm -rf "$work"
}
# the rootfs caches hold files of subordinate IDs: `hutch rmi` removes them first
trap remove_work EXIT
echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$work/policy.json"
export XDG_STATE_HOME=$work/state XDG_CONFIG_HOME=$work/config
# one store per cold run (two cold commands), loaded before any timing: a cold run finds no cache and
# unpacks into a fresh store, so no run pays for the removal of the one before
for i in $(seq 0 $((2 * BENCH_RUNS))); do
        stores+=("$work/store.$i")
        "$HUTCH" load -q --storage "$work/store.$i" --name localhost/minbase "$layout:minbase" >/dev/null
done
store=$work/store.0
echo 0 >"$work/n"
# hyperfine's --prepare: the next store or output name, and the disk quiet (sync, untimed)
next="echo \$((\$(cat '$work/n') + 1)) >'$work/n.tmp' && mv '$work/n.tmp' '$work/n' && sync"
out="'$work/out.'\$(cat '$work/n')"
hrun_cold="'$HUTCH' run --storage '$work/store.'\$(cat '$work/n') --policy '$work/policy.json' --rm localhost/minbase /bin/true"
hrun="'$HUTCH' run --storage '$store' --policy '$work/policy.json' --rm localhost/minbase /bin/true"

cmds=(-n "tar -xzf" "mkdir $out && tar -xzf '$layer' -C $out 2>/dev/null; true")
cmds+=(-n "umoci unpack --rootless" "umoci unpack --rootless --image '$layout:minbase' $out >/dev/null")
[ -z "$IMAGE_TOOL" ] || cmds+=(-n "hutch unpack (one process)" "'$IMAGE_TOOL' unpack '$store' localhost/minbase:latest $out 2>/dev/null")
# the same with libarchive's gzip decoder (zlib) instead of ISA-L's: what the faster inflater buys
[ -z "$IMAGE_TOOL" ] || cmds+=(-n "hutch unpack (one process), libarchive inflate" "HUTCH_INFLATE=libarchive '$IMAGE_TOOL' unpack '$store' localhost/minbase:latest $out 2>/dev/null")
# (tar -xzf as a user cannot create the image's device nodes and exits 2; the rest is extracted, as
# hutch and umoci skip them)
hyperfine --runs "$BENCH_RUNS" --prepare "$next" --export-json "$work/cold.json" "${cmds[@]}" >&2
echo 0 >"$work/n"
cold=(--prepare "$next")
[ -z "$IMAGE_TOOL" ] || cold+=(-n "hutch rootfs, cold (isolated, owners kept, syncfs)" "'$IMAGE_TOOL' rootfs '$work/store.'\$(cat '$work/n') localhost/minbase:latest >/dev/null")
cold+=(-n "hutch run --rm IMAGE true, cold" "$hrun_cold")
hyperfine --runs "$BENCH_RUNS" --export-json "$work/rootfs.json" "${cold[@]}" >&2
sh -c "$hrun"
hyperfine --runs "$BENCH_RUNS" --warmup 1 --export-json "$work/warm.json" -n "hutch run --rm IMAGE true, warm (cached)" "$hrun" >&2

size_gz=$(stat -c %s "$layer")
size_tar=$(stat -c %s "$tarball")
size_tar=$((size_tar / 1000000))
entries=$(tar -tf "$tarball" | wc -l)
jq -s -r --arg gz "$((size_gz / 1000000))" --arg tarmb "$size_tar" --arg n "$entries" --arg runs "$BENCH_RUNS" '
        [.[].results[]] as $r
        | ($r[] | select(.command == "tar -xzf") | .median) as $tar
        | ($r[] | select(.command == "umoci unpack --rootless") | .median) as $umoci
        | "layer: debootstrap --variant=minbase bookworm, \($gz) MB gzip, \($tarmb) MB tar, \($n) entries; \($runs) runs each",
          "",
          "| command | median [s] | min [s] | user+sys [s] | x tar | umoci / x |",
          "|:---|---:|---:|---:|---:|---:|",
          ($r[] | "| `\(.command)` | \(.median * 1000 | round / 1000) | \(.min * 1000 | round / 1000) | \((.user + .system) * 1000 | round / 1000) | \(.median / $tar * 100 | round / 100) | \($umoci / .median * 100 | round / 100) |")
' "$work/cold.json" "$work/rootfs.json" "$work/warm.json" | tee "$BENCH_OUT/unpack.md"
printf '\n(target filesystem: %s; x tar: median / median of tar -xzf; umoci / x: how many times faster than umoci)\n' \
        "$(df -T "$work" | awk 'NR == 2 { print $2 " on " $7 }')" | tee -a "$BENCH_OUT/unpack.md"
jq -s '[.[].results[]]' "$work/cold.json" "$work/rootfs.json" "$work/warm.json" >"$BENCH_OUT/unpack.json"
