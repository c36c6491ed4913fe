#!/usr/bin/env bash
# bench/run.sh: `hutch run --rm IMAGE true` (image in the store, policy check, overlay, audit) side by side
# with bwrap on the same unpacked rootfs and rootless `podman run --rm` (runc) of the same image, in one
# hyperfine run (medians). Goal (issue 6): at most 1.5x bwrap and at most 0.2x podman.
# Run as an unprivileged user with subuid ranges (scripts/bench does that for root).
set -eu
cd "$(dirname "$0")/.."
runs=${BENCH_RUNS:-30}
hutch=${HUTCH:-$PWD/build-release/hutch}
# lowercase: podman derives an image name from the oci: path, and names must be lowercase
work=/tmp/hutch-bench-run.$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
mkdir -m 0700 "$work"
cleanup() {
        command -v podman >/dev/null && podman unshare rm -rf "$work" 2>/dev/null
        rm -rf "$work"
}
trap cleanup EXIT
out=${BENCH_OUT:-$PWD/bench/results}
mkdir -p "$out"

# the image: static busybox, built offline with umoci
layout="$work/layout"
umoci init --layout "$layout" >/dev/null
umoci new --image "$layout:latest" >/dev/null
umoci unpack --rootless --image "$layout:latest" "$work/bundle" >/dev/null
mkdir -p "$work/bundle/rootfs"/{bin,proc,sys,dev,tmp,etc}
cp /bin/busybox "$work/bundle/rootfs/bin/busybox"
for a in sh true; do ln -s busybox "$work/bundle/rootfs/bin/$a"; done
echo 'root:x:0:0:root:/:/bin/sh' >"$work/bundle/rootfs/etc/passwd"
umoci repack --image "$layout:latest" "$work/bundle" >/dev/null
umoci config --image "$layout:latest" --config.cmd=/bin/true >/dev/null

store="$work/store"
echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$work/policy.json"
export XDG_STATE_HOME="$work/state"
"$hutch" load -q --storage "$store" --name localhost/bench/busybox:latest "$layout:latest" >/dev/null
hrun="$hutch run --storage $store --policy $work/policy.json --rm localhost/bench/busybox:latest true"
$hrun # unpacks the rootfs cache once; every measured run starts from it
cache=$(ls -d "$store"/rootfs/*/ | head -1)

cmds=(-n "hutch run --rm" "$hrun"
      -n "hutch run --rm --audit off" "$hrun --audit off"
      -n "hutch run --rm --read-only" "$hutch run --storage $store --policy $work/policy.json --rm --read-only localhost/bench/busybox:latest true")
command -v bwrap >/dev/null &&
        cmds+=(-n "bwrap" "bwrap --unshare-all --uid 0 --gid 0 --ro-bind $cache / --proc /proc --dev /dev --tmpfs /tmp /bin/true")
if command -v podman >/dev/null; then
        mkdir -p "$work/podman"
        cat >"$work/podman/containers.conf" <<CONF
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
        export CONTAINERS_CONF="$work/podman/containers.conf"
        pm="podman --root $work/podman/storage --runroot $work/podman/run --storage-driver overlay"
        $pm pull -q "oci:$layout:latest" >/dev/null
        id=$($pm images -q | head -1)
        cmds+=(-n "podman run --rm" "$pm run --rm --network none $id /bin/true")
fi

hyperfine -N --warmup 3 --runs "$runs" --export-json "$out/run.json" "${cmds[@]}" >"$out/run.txt" 2>&1 ||
        { cat "$out/run.txt"; exit 1; }
python3 - "$out/run.json" <<'PY'
import json, statistics, sys
res = json.load(open(sys.argv[1]))['results']
med = {r['command']: statistics.median(r['times']) * 1000 for r in res}
for name, m in med.items():
    print(f"{name:32} {m:8.2f} ms")
h = med['hutch run --rm']
for other in ('bwrap', 'podman run --rm'):
    if other in med:
        print(f"hutch run --rm / {other}: {h / med[other]:.2f}")
PY
