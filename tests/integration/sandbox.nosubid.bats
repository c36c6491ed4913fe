#!/usr/bin/env bats
# A user without /etc/subuid entries: single-ID containers work, multi-range ones fail clearly.
load helpers

setup() {
        requires nosubid userns
        B="$BATS_TEST_TMPDIR/bundle"
}

run_bundle() { "$HUTCH_RUNTIME" --root "$BATS_TEST_TMPDIR/state" run --bundle "$B" "n$RANDOM"; }

@test "single-ID container runs without subordinate IDs" {
        make_bundle "$B" /payload id
        run run_bundle
        [ "$status" -eq 0 ] || fail "$output"
        [[ "$output" == "uid=0 gid=0 "* ]]
}

@test "a multi-range mapping fails naming /etc/subuid and the user" {
        make_bundle "$B" /payload id
        update_config "$B" '.linux.uidMappings += [{"containerID":1,"hostID":300000,"size":65536}]'
        run run_bundle
        [ "$status" -ne 0 ]
        [[ "$output" == *"/etc/subuid"* && "$output" == *"$(id -un)"* ]] || fail "$output"
}
