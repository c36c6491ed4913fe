#!/usr/bin/env bats
# `hutch run` without Landlock (issue 7), forced: the payload's `deny landlock` makes Landlock's calls
# answer ENOSYS for hutch and everything it starts. That filter sets no_new_privs, under which the setuid
# newuidmap cannot map subordinate IDs, so this runs as a user without any (one ID mapped, no newuidmap).
load helpers

IMG=localhost/busybox:latest

setup() {
        requires nosubid userns jq
        fixtures
        S="$BATS_TEST_TMPDIR/store"
        POLICY="$BATS_TEST_TMPDIR/accept.json"
        echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$POLICY"
        export XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/config" XDG_STATE_HOME="$BATS_TEST_TMPDIR/state"
        run "$HUTCH" load -q --storage "$S" --name "$IMG" "$BUSYBOX_OCI:latest"
        [ "$status" -eq 0 ] || fail "hutch load: $output"
}

teardown() {
        remove_rootfs_caches
}

# hutch run with Landlock's calls answering ENOSYS; extra hutch options before "run" go in $PRE
hrun_no_landlock() { "$HUTCH_PAYLOAD" deny landlock -- "$HUTCH" ${PRE:-} run --storage "$S" --policy "$POLICY" "$@"; }

@test "landlock unavailable (forced): one line at info, none at the default level; require=landlock refuses" {
        requires landlock
        run "$HUTCH" run --storage "$S" --policy "$POLICY" "$IMG" /payload id
        [ "$status" -eq 0 ] && [[ "$output" != *andlock* ]] || fail "with Landlock: $status $output"
        PRE="--log-level info" run hrun_no_landlock --report "$BATS_TEST_TMPDIR/r.json" "$IMG" /payload id
        [ "$status" -eq 0 ] && [[ "$output" == *uid=0* ]] || fail "$status $output"
        [ "$(grep -ci landlock <<<"$output")" -eq 1 ] || fail "not exactly one line about Landlock: $output"
        [[ "$output" == *"not applied, unavailable on this host: landlock: this kernel does not offer Landlock"* ]] || fail "$output"
        jq -e '.enforced.landlock.abi == 0 and ([.enforced.layers.unavailable[] | startswith("landlock: ")] | any)' \
                "$BATS_TEST_TMPDIR/r.json" >/dev/null || fail "$(cat "$BATS_TEST_TMPDIR/r.json")"
        run hrun_no_landlock "$IMG" /payload id
        [ "$status" -eq 0 ] && [[ "$output" != *andlock* ]] || fail "default log level: $output"
        run hrun_no_landlock --security-opt require=landlock "$IMG" /payload id
        [ "$status" -eq 125 ] && [[ "$output" == *"require=landlock: this kernel does not offer Landlock"* ]] || fail "$status $output"
        [[ "$output" != *uid=* ]] || fail "the command ran"
        run hrun_no_landlock --security-opt landlock=required "$IMG" /payload id
        [ "$status" -eq 125 ] || fail "landlock=required: $status $output"
        run hrun_no_landlock --security-opt "landlock=$HUTCH_SOURCE_DIR/profiles/landlock/proc-writable.json" "$IMG" /payload id
        [ "$status" -eq 125 ] && [[ "$output" == *proc-writable.json* ]] || fail "a rules file without Landlock: $status $output"
}
