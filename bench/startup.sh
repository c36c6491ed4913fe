#!/usr/bin/env bash
# bench/startup.sh: start-to-exit of /bin/true, rootless, side by side in one run (hyperfine, medians).
#   hutch-runtime run vs runc run on the same bundle (single-ID map and multi-range map, with and without
#   hutch's default seccomp profile), bwrap on the same rootfs, and the host's own fork/exec as the floor.
# Run as an unprivileged user with subuid ranges (scripts/bench does that for root).
set -eu
cd "$(dirname "$0")/.."
runs=${BENCH_RUNS:-30}
hutch=${HUTCH_RUNTIME:-$PWD/build-release/hutch-runtime}
work=$(mktemp -d /tmp/hutch-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
out=${BENCH_OUT:-$PWD/bench/results}
mkdir -p "$out"

rootfs="$work/bundle/rootfs"
mkdir -p "$rootfs/bin" "$rootfs/proc" "$rootfs/sys" "$rootfs/dev" "$rootfs/tmp" "$rootfs/etc"
cp /bin/busybox "$rootfs/bin/busybox"
ln -s busybox "$rootfs/bin/true"
ln -s busybox "$rootfs/bin/sh"
(cd "$work/bundle" && "$hutch" spec --rootless)
jq '.process.terminal=false | .process.args=["/bin/true"]' "$work/bundle/config.json" >"$work/c" && mv "$work/c" "$work/bundle/config.json"
cp -a "$work/bundle" "$work/noseccomp"
jq 'del(.linux.seccomp)' "$work/bundle/config.json" >"$work/c" && mv "$work/c" "$work/noseccomp/config.json"
read -r sub _ < <(awk -F: -v u="$(id -un)" -v i="$(id -u)" '($1==u||$1==i){print $2, $3; exit}' /etc/subuid)
multi=()
if [ -n "${sub:-}" ]; then
        cp -a "$work/noseccomp" "$work/multi"
        jq --argjson u "$(id -u)" --argjson g "$(id -g)" --argjson s "$sub" \
                '.linux.uidMappings=[{"containerID":0,"hostID":$u,"size":1},{"containerID":1,"hostID":$s,"size":65536}]
                 | .linux.gidMappings=[{"containerID":0,"hostID":$g,"size":1},{"containerID":1,"hostID":$s,"size":65536}]' \
                "$work/noseccomp/config.json" >"$work/multi/config.json"
        multi=(-n "hutch multi-range" "$hutch --root $work/h run --bundle $work/multi bench1"
               -n "runc multi-range" "runc --root $work/r run --bundle $work/multi bench1")
fi
bwrap_cmd=()
command -v bwrap >/dev/null && bwrap_cmd=(-n "bwrap" "bwrap --unshare-all --uid 0 --ro-bind $rootfs / --proc /proc --dev /dev /bin/true")

hyperfine -N --warmup 3 --runs "$runs" --export-json "$out/startup.json" \
        -n "host /bin/true" "/bin/true" \
        -n "hutch 1-id" "$hutch --root $work/h run --bundle $work/noseccomp bench1" \
        -n "runc 1-id" "runc --root $work/r run --bundle $work/noseccomp bench1" \
        -n "hutch 1-id + default seccomp" "$hutch --root $work/h run --bundle $work/bundle bench1" \
        -n "runc 1-id + hutch's seccomp" "runc --root $work/r run --bundle $work/bundle bench1" \
        "${multi[@]}" "${bwrap_cmd[@]}" >"$out/startup.txt" 2>&1 || { cat "$out/startup.txt"; exit 1; }
python3 bench/summarize.py "$out/startup.json"
