#!/usr/bin/env bats
# The fuse-overlayfs fallback where the kernel really refuses native overlayfs: the image store lies on an
# overlayfs that is itself on an overlayfs, so a container overlay over the cache would be a third level,
# past the kernel's FILESYSTEM_MAX_STACK_DEPTH (2): "overlayfs: maximum fs stacking depth exceeded".
# Mounting those overlays needs root, hence a root test. (The rootless fuse path itself, its upper, its
# daemon and its errors: overlay-fuse.bats.)
# shellcheck shell=bash
load helpers

setup() {
        requires root busybox fuse_overlayfs
        fixtures
        local t=$BATS_TEST_TMPDIR
        mkdir -p "$t"/{l1,u1,w1,a,u2,w2,b}
        mount -t overlay overlay -o "lowerdir=$t/l1,upperdir=$t/u1,workdir=$t/w1" "$t/a"
        mount -t overlay overlay -o "lowerdir=$t/a,upperdir=$t/u2,workdir=$t/w2" "$t/b"
        S=$t/b/store
        POLICY=$t/accept.json
        echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$POLICY"
        export XDG_CONFIG_HOME="$t/config" XDG_STATE_HOME="$t/state"
        "$HUTCH" load -q --storage "$S" --name localhost/bb "$BUSYBOX_OCI" >/dev/null
}

teardown() {
        umount "$BATS_TEST_TMPDIR/b" 2>/dev/null || true
        umount "$BATS_TEST_TMPDIR/a" 2>/dev/null || true
}

@test "native overlayfs refused (stacking depth): auto falls back to fuse-overlayfs, native alone fails" {
        run "$HUTCH" --log-level=info run --storage "$S" --policy "$POLICY" --rm localhost/bb \
                sh -c 'grep " / " /proc/self/mountinfo; echo written >/f; cat /f'
        [ "$status" -eq 0 ] || fail "run: $output"
        [[ "$output" == *"rootfs: fuse-overlayfs (native overlayfs was refused: "* ]] || fail "no fallback notice: $output"
        [[ "$output" == *" - fuse.fuse-overlayfs "* ]] && [[ "$output" == *written* ]] || fail "$output"
        [ ! -e "$S/rootfs/"*/f ] || fail "the cache was written"
        HUTCH_OVERLAY=native run "$HUTCH" run --storage "$S" --policy "$POLICY" --rm localhost/bb true
        [ "$status" -eq 125 ] && [ "${#lines[@]}" -eq 1 ] && [[ "$output" == *"overlay rootfs"* ]] || fail "native: $output"
        [ -z "$(pgrep -x fuse-overlayfs -P $$ || true)" ]
}
