# helpers.bash: loaded by every bats file with `load helpers`. Conventions: README.md in this directory.
# shellcheck shell=bash

_hutch_helpers_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Set by run-bats; a bats file run by hand outside meson gets the build-dir defaults below.
: "${HUTCH:?HUTCH is not set: run the tests with 'meson test --suite integration'}"
: "${HUTCH_RUNTIME:?HUTCH_RUNTIME is not set}"
: "${HUTCH_PAYLOAD:?HUTCH_PAYLOAD is not set}"
: "${HUTCH_STAGE:=${HUTCH_BUILD_DIR:?HUTCH_BUILD_DIR is not set}/itest}"
: "${HUTCH_FIXTURES:=$HUTCH_STAGE/fixtures}"
: "${HUTCH_RUNNER_UID:=$(id -u)}"
: "${HUTCH_RUN_AS:=$(id -un)}"
export HUTCH HUTCH_RUNTIME HUTCH_PAYLOAD HUTCH_STAGE HUTCH_FIXTURES HUTCH_RUNNER_UID HUTCH_RUN_AS
FIXTURES=$HUTCH_FIXTURES
BUSYBOX_OCI=$FIXTURES/busybox-oci
BUSYBOX_ROOTFS=$FIXTURES/busybox-rootfs
export FIXTURES BUSYBOX_OCI BUSYBOX_ROOTFS

hutch_must_work() { [ "${HUTCH_MUST_WORK:-}" = 1 ]; }

# Fail the current test with a message (bats-core has no `fail` of its own).
fail() {
        printf '%s\n' "$*" >&2
        return 1
}

# ---- requires FEATURE... ------------------------------------------------------------------------
# Each _hutch_feature_NAME returns 0 when the feature is there; otherwise it prints the reason and
# returns 1 (missing from this machine: skip, or fail under HUTCH_MUST_WORK=1) or 2 (can never hold
# for this kind of run, e.g. `root` as the test user: always skip). Add features the same way.

_hutch_has_subids() { # user uid: both /etc/subuid and /etc/subgid have an entry
        local f
        for f in /etc/subuid /etc/subgid; do
                awk -F: -v n="$1" -v u="$2" '$1 == n || $1 == u { found = 1 } END { exit !found }' "$f" \
                        2>/dev/null || return 1
        done
}

_hutch_feature_root() {
        [ "$(id -u)" = 0 ] && return 0
        echo "needs root (this run is uid $(id -u))"
        return 2
}

_hutch_feature_rootless() {
        [ "$(id -u)" != 0 ] && return 0
        echo "needs an unprivileged user (this run is root)"
        return 2
}

_hutch_feature_userns() {
        unshare --user true 2>/dev/null && return 0
        echo "cannot create a user namespace here (unshare --user failed)"
        return 1
}

_hutch_feature_subuid() {
        if [ "$(id -u)" = 0 ]; then
                echo "needs an unprivileged user with subordinate ids (this run is root)"
                return 2
        fi
        if [ "$(id -un)" = hutch-nosubid ]; then
                echo "needs subordinate ids (hutch-nosubid has none by design)"
                return 2
        fi
        _hutch_has_subids "$(id -un)" "$(id -u)" && return 0
        echo "$(id -un) has no /etc/subuid and /etc/subgid entries"
        return 1
}

_hutch_feature_nosubid() {
        if [ "$(id -u)" = 0 ] || _hutch_has_subids "$(id -un)" "$(id -u)"; then
                echo "needs an unprivileged user without subordinate ids (run as root: *.nosubid.bats runs as hutch-nosubid)"
                return 2
        fi
        return 0
}

_hutch_feature_newuidmap() {
        local p path
        for p in newuidmap newgidmap; do
                if ! path=$(command -v "$p"); then
                        echo "$p is not installed (package uidmap)"
                        return 1
                fi
                [ -u "$path" ] && continue
                getcap "$path" 2>/dev/null | grep -q 'cap_set[ug]id' && continue
                echo "$path is neither setuid nor has file capabilities"
                return 1
        done
}

_hutch_feature_landlock() {
        local abi
        abi=$("$HUTCH_PAYLOAD" landlock-abi 2>/dev/null) || abi=0
        [ "${abi:-0}" -gt 0 ] && return 0
        echo "the kernel offers no Landlock (landlock_create_ruleset ABI query failed)"
        return 1
}

_hutch_feature_landlock_net() { # TCP fencing: Landlock ABI 4 or later
        local abi
        abi=$("$HUTCH_PAYLOAD" landlock-abi 2>/dev/null) || abi=0
        [ "${abi:-0}" -ge 4 ] && return 0
        echo "the kernel's Landlock ABI is ${abi:-0}; TCP fencing needs 4"
        return 1
}

_hutch_need_command() { # command package
        command -v "$1" >/dev/null && return 0
        echo "$1 is not installed (package $2)"
        return 1
}

_hutch_feature_podman() { _hutch_need_command podman podman; }
_hutch_feature_runc() { _hutch_need_command runc runc; }
_hutch_feature_umoci() { _hutch_need_command umoci umoci; }
_hutch_feature_jq() { _hutch_need_command jq jq; }
_hutch_feature_openssl() { _hutch_need_command openssl openssl; }
_hutch_feature_xxd() { _hutch_need_command xxd xxd; }
_hutch_feature_python3() { _hutch_need_command python3 python3; }
_hutch_feature_tty() { _hutch_need_command tmux tmux; }
_hutch_feature_apparmor_parser() { _hutch_need_command apparmor_parser apparmor; }
_hutch_feature_script() { _hutch_need_command script bsdutils; }

_hutch_feature_probe() {
        [ -n "${HUTCH_PROBE:-}" ] && [ -x "$HUTCH_PROBE" ] && return 0
        echo "the escape probe is not built (HUTCH_PROBE; tests/probe)"
        return 1
}

_hutch_feature_fuse_overlayfs() {
        _hutch_need_command fuse-overlayfs fuse-overlayfs || return 1
        [ -c /dev/fuse ] && [ -r /dev/fuse ] && [ -w /dev/fuse ] && return 0
        echo "/dev/fuse is missing or not read-writable by $(id -un)"
        return 1
}

_hutch_feature_busybox() {
        local path
        path=$(command -v busybox) || { echo "busybox is not installed (package busybox-static)"; return 1; }
        # A dynamic busybox would not run inside a bare rootfs.
        LC_ALL=C ldd "$path" 2>&1 | grep -Eq 'not a dynamic executable|statically linked' && return 0
        echo "$path is not statically linked (install busybox-static)"
        return 1
}

_hutch_feature_runtime_spec() {
        "$HUTCH_RUNTIME" spec --help >/dev/null 2>&1 && return 0
        echo "hutch-runtime has no working 'spec' command yet"
        return 1
}

# requires FEATURE...: skip the test (or fail it in CI) unless every FEATURE holds.
# Call it as a plain command in a test or in setup(), not inside `if` or `$(...)`.
requires() {
        local f reason rc
        for f in "$@"; do
                if ! declare -F "_hutch_feature_${f//-/_}" >/dev/null; then
                        fail "requires: unknown feature '$f'"
                        return 1
                fi
                if reason=$("_hutch_feature_${f//-/_}"); then
                        continue
                else
                        rc=$?
                fi
                if [ "$rc" = 1 ] && hutch_must_work; then
                        fail "required in CI: $reason"
                        return 1
                fi
                skip "$reason"
        done
}

# ---- fixtures -----------------------------------------------------------------------------------

# fixtures: make sure $BUSYBOX_OCI (OCI layout, tag "latest") and $BUSYBOX_ROOTFS exist; built once
# per staging directory by fixtures.sh (no network), under a lock.
fixtures() {
        requires umoci busybox
        mkdir -p "$FIXTURES" 2>/dev/null || true
        if ! bash "$_hutch_helpers_dir/fixtures.sh" "$FIXTURES" "$HUTCH_PAYLOAD" >&2; then
                fail "fixtures: building the test images in $FIXTURES failed (see above)"
                return 1
        fi
}

# update_config DIR JQ_FILTER [JQ_OPTIONS...]: edit DIR/config.json in place with jq, e.g.
#   update_config "$b" '.process.env += [$e]' --arg e FOO=bar
# Options go before the filter; `--args -- A B...` after them sets $ARGS.positional (see make_bundle).
update_config() {
        local dir=$1 filter=$2 tmp
        shift 2
        requires jq
        tmp=$(mktemp "$dir/config.json.XXXXXX")
        local opts=() rest=()
        while [ $# -gt 0 ] && [ "$1" != --args ]; do
                opts+=("$1")
                shift
        done
        rest=("$@")
        if ! jq "${opts[@]}" "$filter" "${rest[@]}" <"$dir/config.json" >"$tmp"; then
                rm -f "$tmp"
                fail "update_config: jq '$filter' failed on $dir/config.json"
                return 1
        fi
        mv -f "$tmp" "$dir/config.json"
}

# make_bundle DIR [ARGS...]: an OCI bundle in DIR: DIR/rootfs a copy of $BUSYBOX_ROOTFS (busybox,
# /payload), DIR/config.json from `hutch-runtime spec` (--rootless unless root), process.terminal
# false, and process.args set to ARGS when given.
make_bundle() {
        local dir=$1 spec_args=()
        shift
        requires runtime_spec jq
        fixtures
        [ "$(id -u)" = 0 ] || spec_args=(--rootless)
        mkdir -p "$dir"
        rm -rf "$dir/rootfs" "$dir/config.json"
        cp -a "$BUSYBOX_ROOTFS" "$dir/rootfs"
        if ! (cd "$dir" && "$HUTCH_RUNTIME" spec "${spec_args[@]}" >&2); then
                fail "make_bundle: '$HUTCH_RUNTIME spec ${spec_args[*]}' failed in $dir"
                return 1
        fi
        [ -f "$dir/config.json" ] || { fail "make_bundle: hutch-runtime spec wrote no $dir/config.json"; return 1; }
        update_config "$dir" '.process.terminal = false'
        if [ $# -gt 0 ]; then
                # shellcheck disable=SC2016 # $ARGS is jq's, not the shell's
                update_config "$dir" '.process.args = $ARGS.positional' --args -- "$@"
        fi
}

# under_pty COMMAND...: run COMMAND with a new pty as its stdio and controlling terminal (script(1)), as
# a user's interactive shell would run it; output without carriage returns.
under_pty() {
        (
                set -o pipefail
                script -qec "$(printf '%q ' "$@")" /dev/null </dev/null | tr -d '\r'
        )
}

# Rootfs caches unpacked by hutch hold files of the user's subordinate IDs (the isolated unpacker keeps
# owners), which the user alone cannot remove: remove every store's caches below the test's temporary
# directory from a user namespace with the same map, as `podman unshare rm -rf` would.
remove_rootfs_caches() {
        local d
        for d in "$BATS_TEST_TMPDIR"/*/rootfs "$BATS_TEST_TMPDIR"/rootfs; do
                [ -d "$d" ] || continue
                if [ "$(id -u)" = 0 ]; then
                        rm -rf "$d"
                else
                        unshare --map-root-user --map-users=auto --map-groups=auto rm -rf "$d" 2>/dev/null || true
                fi
        done
}
