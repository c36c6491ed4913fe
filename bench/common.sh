# bench/common.sh: sourced by the bench/*.sh scripts. Settings, a scratch directory that is always removed,
# the busybox rootfs, bundle and image every script measures, and the rootless podman setup.
#   BENCH_RUNS   measured rounds per figure (default 20); BENCH_QUICK=1: 3 (to test the scripts)
#   BENCH_OUT    where results go (default bench/results)
#   HUTCH        the hutch binary (default build-release/hutch); hutch-runtime is the symlink beside it
# shellcheck shell=bash
set -euo pipefail
bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034 # runs, out, note(): for the scripts that source this
if [ "${BENCH_QUICK:-0}" = 1 ]; then
        runs=3
else
        runs=${BENCH_RUNS:-20}
fi
out=${BENCH_OUT:-$bench_dir/results}
hutch=${HUTCH:-$bench_dir/../build-release/hutch}
hutch=$(realpath "$hutch")
runtime=${HUTCH_RUNTIME:-$(dirname "$hutch")/hutch-runtime}
mkdir -p "$out"

die() { echo "bench/$(basename "$0"): $*" >&2; exit 1; }
note() { echo "bench/$(basename "$0"): $*" >&2; }

need() { # command... : fail with the Debian package to install
        local c
        for c in "$@"; do
                command -v "$c" >/dev/null || die "$c is not installed (scripts/bench installs what it needs as root)"
        done
}
need jq umoci python3 busybox
[ -x "$hutch" ] || die "no hutch binary at $hutch (build it: ninja -C build-release, or set HUTCH)"
[ -x "$runtime" ] || die "no hutch-runtime beside $hutch"

timer() { python3 "$bench_dir/timer.py" "$@"; }

# mount_note: says so when this runs on a hybrid cgroup host in a mount namespace without the cgroup2
# mount (what scripts/bench sets up so that crun can run); recorded with the figures.
mount_note() {
        if [ "$(findmnt -n -o FSTYPE /sys/fs/cgroup 2>/dev/null)" = tmpfs ] && [ -d /sys/fs/cgroup/unified ] &&
                ! findmnt -n /sys/fs/cgroup/unified >/dev/null; then
                echo "in a private mount namespace without /sys/fs/cgroup/unified (for crun)"
        fi
}

# Scratch space, lowercase only (podman derives image names from oci: paths). Cleanup hooks run first.
work=${TMPDIR:-/tmp}/hb.$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
mkdir -m 0700 "$work"
cleanup_hooks=()
on_exit() { cleanup_hooks+=("$1"); }
bench_cleanup() {
        local h
        for h in "${cleanup_hooks[@]}"; do eval "$h" || true; done
        chmod -R u+rwX "$work" 2>/dev/null || true
        rm -rf "$work"
}
trap bench_cleanup EXIT

# make_rootfs DIR: a static busybox with true and sh, and the mount points runtimes expect.
make_rootfs() {
        mkdir -p "$1"/{bin,proc,sys,dev,tmp,etc}
        cp /bin/busybox "$1/bin/busybox"
        ln -sf busybox "$1/bin/true"
        ln -sf busybox "$1/bin/sh"
        echo 'root:x:0:0:root:/:/bin/sh' >"$1/etc/passwd"
}

# make_bundle DIR [seccomp]: hutch-runtime's rootless spec running /bin/true. ociVersion 1.1.0: crun 1.8
# refuses 1.2.0 ("unknown version specified"); nothing in this spec is newer. Without "seccomp" the
# linux.seccomp section (hutch's default profile) is dropped.
make_bundle() {
        make_rootfs "$1/rootfs"
        (cd "$1" && "$runtime" spec --rootless)
        local filter='.ociVersion="1.1.0" | .process.terminal=false | .process.args=["/bin/true"]'
        [ "${2:-}" = seccomp ] || filter+=' | del(.linux.seccomp)'
        jq "$filter" "$1/config.json" >"$1/config.json.new" && mv "$1/config.json.new" "$1/config.json"
}

# bundle_variant SRC DST JQ-FILTER: the same rootfs (a hard-linked copy) with an edited config.json.
bundle_variant() {
        mkdir -p "$2"
        cp -al "$1/rootfs" "$2/rootfs"
        jq "$3" "$1/config.json" >"$2/config.json"
}

# multi_range_filter: the jq filter mapping 0 to the caller and 1..65536 to its subordinate range
# (newuidmap/newgidmap); empty when the caller has no range in /etc/subuid and /etc/subgid.
multi_range_filter() {
        local su sg
        su=$(awk -F: -v u="$(id -un)" -v i="$(id -u)" '($1==u||$1==i) && $3>=65536 {print $2; exit}' /etc/subuid 2>/dev/null)
        sg=$(awk -F: -v u="$(id -un)" -v i="$(id -u)" '($1==u||$1==i) && $3>=65536 {print $2; exit}' /etc/subgid 2>/dev/null)
        [ -n "$su" ] && [ -n "$sg" ] || return 0
        echo ".linux.uidMappings=[{\"containerID\":0,\"hostID\":$(id -u),\"size\":1},{\"containerID\":1,\"hostID\":$su,\"size\":65536}]
              | .linux.gidMappings=[{\"containerID\":0,\"hostID\":$(id -g),\"size\":1},{\"containerID\":1,\"hostID\":$sg,\"size\":65536}]"
}

# add_bwrap ROOTFS [OPTION...]: append bwrap's row to the array rows: the same sandbox in every script (all
# namespaces, uid and gid 0 inside, ROOTFS read-only as /, /proc and /dev).
add_bwrap() {
        command -v bwrap >/dev/null || { note "bwrap is not installed: its row is left out"; return 0; }
        local root=$1
        shift
        rows+=(-n "bwrap" "bwrap --unshare-all --uid 0 --gid 0 --ro-bind $root / --proc /proc --dev /dev $* /bin/true")
}

# crun_runs BUNDLE: whether crun starts BUNDLE here (on a hybrid cgroup host only in a mount namespace without
# /sys/fs/cgroup/unified, see startup.sh); says why not.
crun_runs() {
        command -v crun >/dev/null || { note "crun is not installed: its rows are left out"; return 1; }
        crun --root "$work/crun-probe" run --bundle "$1" probe 2>"$work/crun.err" && return 0
        note "crun cannot run here ($(head -1 "$work/crun.err")): its rows are left out"
        return 1
}

# make_image LAYOUT: an OCI layout LAYOUT:latest holding the busybox rootfs, cmd /bin/true (umoci, offline).
make_image() {
        umoci init --layout "$1" >/dev/null
        umoci new --image "$1:latest" >/dev/null
        umoci unpack --rootless --image "$1:latest" "$work/image-bundle" >/dev/null
        make_rootfs "$work/image-bundle/rootfs"
        umoci repack --image "$1:latest" "$work/image-bundle" >/dev/null
        umoci config --image "$1:latest" --config.cmd=/bin/true >/dev/null
        rm -rf "$work/image-bundle"
}

# hutch_store: the image loaded as localhost/bench/busybox:latest into $work/store, an accept-anything
# policy in $work/policy.json, and the rootfs cache filled once (every measured run starts from it).
# Sets: store, policy, image, hrun (the `hutch run` prefix up to the options).
hutch_store() {
        store=$work/store policy=$work/policy.json image=localhost/bench/busybox:latest
        make_image "$work/layout"
        echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$policy"
        export XDG_STATE_HOME="$work/state"
        "$hutch" load -q --storage "$store" --name "$image" "$work/layout:latest" >/dev/null
        hrun="$hutch run --storage $store --policy $policy --rm"
        $hrun "$image" true || die "hutch run of the bench image failed"
        # the cache holds files of subordinate IDs: hutch rmi removes it from inside a user namespace
        # shellcheck disable=SC2016 # expanded when the hook runs
        on_exit '"$hutch" rmi --storage "$store" "$image" >/dev/null 2>&1'
}

# rootfs_cache: the unpacked rootfs hutch run uses (bwrap runs on the same tree).
rootfs_cache() { find "$store/rootfs" -mindepth 1 -maxdepth 1 -type d | head -1; }

# podman_setup: rootless podman with its own storage, runtime dir and pause process under $work, the
# bench image pulled. Sets pm (the podman prefix) and pm_image. Returns 1 (with a note) without podman.
podman_setup() {
        command -v podman >/dev/null || { note "podman is not installed: its rows are left out"; return 1; }
        # podman refuses a runroot path longer than 50 characters
        local runroot=$work/pr
        [ ${#runroot} -le 50 ] || die "podman's runroot $runroot is longer than 50 characters: set a shorter TMPDIR"
        mkdir -p "$work/podman" "$work/podman-run"
        chmod 0700 "$work/podman-run"
        cat >"$work/podman/containers.conf" <<CONF
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
CONF
        # its own runtime dir: the pause process (which holds podman's user namespace) is ours to stop
        export CONTAINERS_CONF="$work/podman/containers.conf" XDG_RUNTIME_DIR="$work/podman-run"
        pm="podman --root $work/podman/storage --runroot $runroot --storage-driver overlay"
        on_exit 'podman_teardown'
        $pm pull -q "oci:$work/layout:latest" >/dev/null 2>"$work/podman.err" ||
                die "podman pull failed: $(cat "$work/podman.err")"
        pm_image=$($pm images -q | head -1)
        $pm run --rm --network none "$pm_image" /bin/true || die "podman run of the bench image failed"
}

podman_teardown() {
        $pm unshare rm -rf "$work/podman/storage" "$work/pr" 2>/dev/null || true
        local pidfile="$work/podman-run/libpod/tmp/pause.pid" pid
        if [ -r "$pidfile" ]; then
                pid=$(cat "$pidfile")
                kill "$pid" 2>/dev/null || true
        fi
}
