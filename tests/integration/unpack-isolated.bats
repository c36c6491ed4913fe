#!/usr/bin/env bats
# The isolated unpacker (src/sandbox/isolate.c, issue 4 "defence in depth"), as an unprivileged user
# with subordinate IDs. Its ID map is hutch run's (0 -> the user, 1.. -> the subordinate IDs): a layer's
# uid 1000 lands on subuid start + 999 on the host and shows as 1000 in a container, root's files belong
# to the user and show as root; rmi and prune can still remove such a tree, which the user alone cannot.
# The confinement itself (root, refused calls, fds, caps) is probed in tests/unit/test-isolate.c.
# shellcheck shell=bash
load helpers

IMG=localhost/owners:latest

setup() {
        requires rootless userns subuid newuidmap busybox umoci
        S=$BATS_TEST_TMPDIR/store
        POLICY=$BATS_TEST_TMPDIR/accept.json
        echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$POLICY"
        export XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/config" XDG_STATE_HOME="$BATS_TEST_TMPDIR/state"
}

teardown() {
        remove_rootfs_caches
}

hrun() { "$HUTCH" run --storage "$S" --policy "$POLICY" "$@"; }

# Two layers: a busybox /bin owned by 0:0, and /owned with a 0600 file, both owned by 1000:1000.
build_owners_image() {
        local t=$BATS_TEST_TMPDIR lay=$BATS_TEST_TMPDIR/lay
        if [ -d "$lay" ]; then # built already: load again
                "$HUTCH" load -q --storage "$S" --name "$IMG" "$lay:owners" >/dev/null
                return
        fi
        mkdir -p "$t/a/bin" "$t/b/owned"
        cp "$(command -v busybox)" "$t/a/bin/busybox"
        ln -s busybox "$t/a/bin/sh"
        ln -s busybox "$t/a/bin/stat"
        printf 'x\n' >"$t/b/owned/f"
        chmod 0600 "$t/b/owned/f"
        tar --numeric-owner --owner=0 --group=0 -C "$t/a" -cf "$t/l1.tar" bin
        tar --numeric-owner --owner=1000 --group=1000 -C "$t/b" -cf "$t/l2.tar" owned
        umoci init --layout "$lay"
        umoci new --image "$lay:owners"
        umoci raw add-layer --image "$lay:owners" "$t/l1.tar"
        umoci raw add-layer --image "$lay:owners" "$t/l2.tar"
        umoci config --image "$lay:owners" --config.env PATH=/bin
        "$HUTCH" load -q --storage "$S" --name "$IMG" "$lay:owners" >/dev/null
}

cache_dir() { ls -d "$S"/rootfs/* | head -1; }

@test "owners are kept through the subordinate IDs and appear as in the layer inside a container" {
        build_owners_image
        run hrun "$IMG" stat -c '%u:%g %n' /bin/busybox /owned /owned/f
        [ "$status" -eq 0 ] || fail "run: $output"
        [ "$output" = "0:0 /bin/busybox
1000:1000 /owned
1000:1000 /owned/f" ] || fail "owners inside: $output"
        local c sub
        c=$(cache_dir)
        sub=$(awk -F: -v u="$(id -un)" -v n="$(id -u)" '$1 == u || $1 == n { print $2; exit }' /etc/subuid)
        [ "$(stat -c %u "$c/owned/f")" = $((sub + 999)) ] || fail "host owner $(stat -c %u "$c/owned/f"), subuid start $sub"
        [ "$(stat -c %u "$c/bin/busybox")" = "$(id -u)" ] || fail "root's file on the host: $(stat -c %u "$c/bin/busybox")"
}

@test "rmi and prune remove a tree the user alone cannot" {
        build_owners_image
        run hrun "$IMG" sh -c :
        [ "$status" -eq 0 ] || fail "run: $output"
        local c
        c=$(cache_dir)
        run rm -rf "$c/owned"
        [ "$status" -ne 0 ] || fail "the user could remove a subordinate ID's directory: the test proves nothing"
        run "$HUTCH" rmi --storage "$S" "$IMG"
        [ "$status" -eq 0 ] || fail "rmi: $output"
        [ -z "$(ls -A "$S/rootfs")" ] || fail "left after rmi: $(ls -A "$S/rootfs")"
        # a stale temp tree, as an unpack killed before its rename leaves it, goes with prune
        build_owners_image
        run hrun "$IMG" sh -c :
        [ "$status" -eq 0 ] || fail "second run: $output"
        c=$(cache_dir)
        mv "$c" "$c.tmp-deadbeef"
        run "$HUTCH" prune --storage "$S"
        [ "$status" -eq 0 ] || fail "prune: $output"
        [ ! -e "$c.tmp-deadbeef" ] || fail "prune left the stale tree"
}

@test "HUTCH_UNPACK_SANDBOX=0 unpacks unconfined, with a warning, and owners are not kept" {
        build_owners_image
        HUTCH_UNPACK_SANDBOX=0 run hrun "$IMG" stat -c '%u %n' /owned/f
        [ "$status" -eq 0 ] || fail "run: $output"
        [[ "$output" == *"without the isolated unpacker"* ]] || fail "no warning: $output"
        [[ "$output" == *"0 /owned/f" ]] || fail "owner: $output"
}
