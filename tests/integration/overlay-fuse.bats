#!/usr/bin/env bats
# The fuse-overlayfs fallback of the container rootfs (src/sandbox/fuse-overlay.c), forced with
# HUTCH_OVERLAY=fuse, as an unprivileged user with subordinate IDs: what the container writes lands in the
# upper directory (on the container's tmpfs, seen here through the daemon's own view of the mount tree),
# the image's rootfs cache is never written, the daemon lives outside the container's pid namespace and
# is gone when the container ends, also when hutch run is killed. The fallback from a native overlay the
# kernel refuses is in overlay-fuse.root.bats.
# shellcheck shell=bash
load helpers

setup() {
        requires rootless userns subuid newuidmap busybox fuse_overlayfs python3
        fixtures
        S=$BATS_TEST_TMPDIR/store
        POLICY=$BATS_TEST_TMPDIR/accept.json
        echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$POLICY"
        export XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/config" XDG_STATE_HOME="$BATS_TEST_TMPDIR/state"
        D=$("$HUTCH" load -q --storage "$S" --name localhost/bb "$BUSYBOX_OCI" | sed -n 's/^Manifest digest: sha256://p')
        CTL=$BATS_TEST_TMPDIR/ctl
        mkdir "$CTL"
        mkfifo "$CTL/up" "$CTL/go"
}

teardown() {
        remove_rootfs_caches
}

hrun() { "$HUTCH" run --storage "$S" --policy "$POLICY" --rm "$@"; }

# wait_gone PID: wait (on a pidfd, at most 20 s) until PID has exited.
wait_gone() {
        python3 - "$1" <<'PY'
import os, select, sys
try:
    fd = os.pidfd_open(int(sys.argv[1]))
except ProcessLookupError:
    sys.exit(0)
sys.exit(0 if select.select([fd], [], [], 20)[0] else 1)
PY
}

# start_container: HUTCH_OVERLAY=fuse hutch run in the background; the container changes its root, says
# "up" on a fifo and waits for "go". Sets PID (hutch run) and DAEMON (its fuse-overlayfs child).
start_container() {
        HUTCH_OVERLAY=fuse "$HUTCH" run --storage "$S" --policy "$POLICY" --rm -v "$CTL:/ctl" localhost/bb sh -c '
                grep " / " /proc/self/mountinfo >/ctl/mountinfo
                echo new >/newfile
                echo "extra:x:7:7::/:/bin/sh" >>/etc/passwd
                rm /bin/true
                echo up >/ctl/up
                read -r _ </ctl/go
                cat /newfile' >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
        PID=$!
        read -r _ <"$CTL/up"
        DAEMON=$(ps -o pid=,comm= --ppid "$PID" | awk '$2 == "fuse-overlayfs" { print $1 }')
}

@test "HUTCH_OVERLAY=fuse: writes land in the upper, the cache is unchanged, the daemon is outside and gone after" {
        start_container
        [ -n "$DAEMON" ] || { echo go >"$CTL/go"; fail "no fuse-overlayfs child of hutch run: $(ps -o pid=,comm= --ppid "$PID")"; }
        grep -q ' / .* - fuse.fuse-overlayfs ' "$CTL/mountinfo" || fail "the root is not fuse-overlayfs: $(cat "$CTL/mountinfo")"
        # not in the container's pid namespace: one pid, the host's (the container's init has two)
        grep -Eqx "NSpid:[[:space:]]+$DAEMON" /proc/"$DAEMON"/status || fail "daemon: $(grep NSpid /proc/"$DAEMON"/status)"
        # the upper directory, through the daemon's private copy of the container's mount tree
        local upper cache=$S/rootfs/$D
        upper=$(echo /proc/"$DAEMON"/root"$S"/containers/*/upper)
        [ "$(cat "$upper/newfile")" = new ] || fail "newfile not in the upper ($upper): $(ls -la "$upper" 2>&1)"
        tail -1 "$upper/etc/passwd" | grep -qx 'extra:x:7:7::/:/bin/sh' || fail "passwd not copied up"
        # a whiteout for the removed file (a 0/0 character device, or fuse-overlayfs' own marker)
        [ -c "$upper/bin/true" ] || [ -e "$upper/bin/.wh.true" ] || fail "no whiteout for /bin/true: $(ls -la "$upper/bin" 2>&1)"
        # the shared cache never saw any of it
        [ ! -e "$cache/newfile" ] && [ -e "$cache/bin/true" ] || fail "the cache was written"
        cmp "$cache/etc/passwd" "$BUSYBOX_ROOTFS/etc/passwd" || fail "the cache's /etc/passwd changed"
        echo go >"$CTL/go"
        wait "$PID" || fail "run: $(cat "$BATS_TEST_TMPDIR/out")"
        [ "$(cat "$BATS_TEST_TMPDIR/out")" = new ] || fail "$(cat "$BATS_TEST_TMPDIR/out")"
        # hutch run reaped it before it returned: no orphan
        [ ! -e /proc/"$DAEMON" ] || fail "fuse-overlayfs $DAEMON outlived the container: $(cat /proc/"$DAEMON"/status)"
        [ ! -e "$cache/newfile" ] && [ -z "$(ls -A "$S/containers")" ]
}

@test "HUTCH_OVERLAY=fuse: a killed hutch run takes fuse-overlayfs with it" {
        start_container
        [ -n "$DAEMON" ] || { echo go >"$CTL/go"; fail "no fuse-overlayfs child of hutch run"; }
        kill -9 "$PID"
        wait "$PID" || true
        wait_gone "$DAEMON" || fail "fuse-overlayfs $DAEMON survived hutch run: $(cat /proc/"$DAEMON"/status)"
}

@test "fuse-overlayfs that fails, or is missing, is one line with exit 125 and leaves nothing running" {
        local fake=$BATS_TEST_TMPDIR/fake-fuse-overlayfs
        printf '#!/bin/sh\necho "fake: cannot serve" >&2\nexit 3\n' >"$fake"
        chmod 755 "$fake"
        HUTCH_OVERLAY=fuse HUTCH_FUSE_OVERLAYFS=$fake run hrun localhost/bb true
        [ "$status" -eq 125 ] && [ "${#lines[@]}" -eq 1 ] || fail "status $status: $output"
        [[ "$output" == *"fuse-overlayfs exited with status 3: fake: cannot serve"* ]] || fail "$output"
        HUTCH_OVERLAY=fuse HUTCH_FUSE_OVERLAYFS=/nonexistent run hrun localhost/bb true
        [ "$status" -eq 125 ] && [ "${#lines[@]}" -eq 1 ] && [[ "$output" == *"HUTCH_FUSE_OVERLAYFS=/nonexistent"* ]] || fail "$output"
        run env HUTCH_OVERLAY=fuse PATH=/nonexistent "$HUTCH" run --storage "$S" --policy "$POLICY" --rm localhost/bb true
        [ "$status" -eq 125 ] && [[ "$output" == *"fuse-overlayfs is not installed"* ]] || fail "$output"
        HUTCH_OVERLAY=sideways run hrun localhost/bb true
        [ "$status" -eq 125 ] && [ "${#lines[@]}" -eq 1 ] && [[ "$output" == *"HUTCH_OVERLAY=sideways"* ]] || fail "$output"
        # nothing of these runs is left
        [ -z "$(ls -A "$S/containers")" ]
        # native, as asked, still works here
        HUTCH_OVERLAY=native run hrun localhost/bb sh -c 'grep " / " /proc/self/mountinfo'
        [ "$status" -eq 0 ] && [[ "$output" == *" - overlay "* ]] || fail "$output"
}
