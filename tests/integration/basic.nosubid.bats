#!/usr/bin/env bats
# The *.nosubid.bats convention: run as root, run-bats runs this file as hutch-nosubid, a user with
# no /etc/subuid or /etc/subgid entries; run as a normal user, it runs as that user and each test
# needs `requires nosubid`.

load helpers

@test "a *.nosubid.bats file runs as a user without subordinate ids" {
        requires nosubid
        [ "$(id -u)" != 0 ]
        if [ "$HUTCH_RUNNER_UID" = 0 ]; then
                [ "$(id -un)" = hutch-nosubid ]
                [ "$HUTCH_RUN_AS" = hutch-nosubid ]
        fi
        run grep -c -e "^$(id -un):" -e "^$(id -u):" /etc/subgid
        [ "$output" = 0 ]
        run grep -c -e "^$(id -un):" -e "^$(id -u):" /etc/subuid
        [ "$output" = 0 ]
}

@test "hutch-nosubid runs hutch and reads the fixtures" {
        requires nosubid
        run "$HUTCH" --version
        [ "$status" -eq 0 ]
        fixtures
        run "$BUSYBOX_ROOTFS/payload" id
        [[ "$output" == "uid=$(id -u) "* ]]
        run umoci ls --layout "$BUSYBOX_OCI"
        [ "$output" = latest ]
}
