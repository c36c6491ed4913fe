#!/usr/bin/env bats
# The *.root.bats convention: run-bats runs this file as root (and skips it as a normal user).

load helpers

@test "a *.root.bats file runs as root with the staged binaries" {
        requires root
        [ "$(id -u)" = 0 ]
        [ "$HUTCH_RUN_AS" = root ]
        run "$HUTCH" --version
        [ "$status" -eq 0 ]
        [[ "${lines[0]}" == "hutch version "* ]]
        run "$HUTCH_PAYLOAD" id
        [[ "$output" == "uid=0 gid=0 euid=0 egid=0 "* ]]
}

@test "root can use the fixtures" {
        requires root
        fixtures
        run "$BUSYBOX_ROOTFS/payload" id
        [[ "$output" == "uid=0 gid=0 "* ]]
        run umoci ls --layout "$BUSYBOX_OCI"
        [ "$output" = latest ]
}
