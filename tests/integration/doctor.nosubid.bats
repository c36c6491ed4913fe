#!/usr/bin/env bats
# A real user without /etc/subuid entries (created by the runner): doctor catches it.
load helpers

@test "doctor names the user without subordinate IDs and the fix" {
        requires nosubid
        run "$HUTCH" doctor
        [ "$status" -eq 0 ] || fail "single-ID mode still works, so doctor should pass: $output"
        [[ "$output" == *"warn  subordinate UIDs: user $(id -un) ($(id -u)) has no entry in /etc/subuid"* ]] || fail "$output"
        [[ "$output" == *"fix: usermod --add-subuids "*" $(id -un) (as root)"* ]] || fail "$output"
        [[ "$output" == *"warn  subordinate GIDs:"* ]] || fail "$output"
}
