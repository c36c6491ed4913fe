#!/usr/bin/env bats
# hutch run where root must set the stage: --privileged, which only the administrator's hutch.conf can
# allow (a root-owned file; HUTCH_CONFIG names a second one, read after /etc/hutch/hutch.conf).
load helpers

TEST_USER=hutch-test
IMG=localhost/busybox:latest

setup() {
        requires root userns jq
        getent passwd "$TEST_USER" >/dev/null || skip "user $TEST_USER does not exist (run-bats creates it)"
        fixtures
        D=$(mktemp -d /tmp/hutch-run-root.XXXXXX)
        chown "$TEST_USER:" "$D"
        chmod 0755 "$D"
        echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$D/accept.json"
        chmod 0644 "$D/accept.json"
        as_user "'$HUTCH' load -q --storage '$D/s' --name $IMG '$BUSYBOX_OCI:latest'" >/dev/null || fail "load"
}

teardown() {
        as_user "'$HUTCH' rmi --storage '$D/s' $IMG" >/dev/null 2>&1 || true
        rm -rf "$D"
}

as_user() {
        su - "$TEST_USER" -c "export XDG_STATE_HOME='$D/state' XDG_CONFIG_HOME='$D/config' XDG_RUNTIME_DIR=/run/user/$(id -u "$TEST_USER"); $1"
}

# hrun ENV-PREFIX ARGS: hutch run as the test user
hrun() {
        as_user "$1 '$HUTCH' run --storage '$D/s' --policy '$D/accept.json' --rm $2"
}

PROBE="sh -c 'grep -E \"^(CapEff|Seccomp):\" /proc/self/status; grep -cE \" /proc/(kcore|sys) \" /proc/self/mountinfo || true'"

@test "--privileged: refused unless the administrator's hutch.conf allows it; then all caps, no seccomp, no masks" {
        run hrun "" "$IMG $PROBE"
        [ "$status" -eq 0 ] || fail "$output"
        [[ "$output" == *"Seccomp:"*2* ]] && [ "${lines[-1]}" -ge 1 ] || fail "default run not confined as expected: $output"
        run hrun "" "--privileged $IMG true"
        [ "$status" -eq 125 ] && [[ "$output" == *"allow_privileged = on"* ]] || fail "$status $output"
        # the user's own hutch.conf cannot allow it
        as_user "mkdir -p '$D/config/hutch' && echo 'allow_privileged = on' >'$D/config/hutch/hutch.conf'"
        run hrun "" "--privileged $IMG true"
        [ "$status" -eq 125 ] && [[ "$output" == *"allow_privileged may only be set in the administrator's"* ]] || fail "$status $output"
        as_user "rm '$D/config/hutch/hutch.conf'"
        # nor a file the user could write that claims to be the administrator's
        printf 'allow_privileged = on\n' >"$D/admin.conf"
        chown "$TEST_USER:" "$D/admin.conf"
        run hrun "export HUTCH_CONFIG='$D/admin.conf';" "--privileged $IMG true"
        [ "$status" -eq 125 ] && [[ "$output" == *"must be owned by root"* ]] || fail "$status $output"
        chown root: "$D/admin.conf"
        chmod 0644 "$D/admin.conf"
        run hrun "export HUTCH_CONFIG='$D/admin.conf';" "--privileged $IMG $PROBE"
        [ "$status" -eq 0 ] || fail "$output"
        [[ "$output" == *"Seccomp:"*0* ]] || fail "seccomp still on: $output"
        capeff=$(grep CapEff <<<"$output" | awk '{print $2}')
        [ "$((16#$capeff))" -eq "$(( (1 << ($(cat /proc/sys/kernel/cap_last_cap) + 1)) - 1 ))" ] || fail "not every capability: $output"
        [ "${lines[-1]}" -eq 0 ] || fail "masked or read-only paths left: $output"
        # allowed, --privileged is still a user's choice per run: without it the defaults hold
        run hrun "export HUTCH_CONFIG='$D/admin.conf';" "$IMG $PROBE"
        [[ "$output" == *"Seccomp:"*2* ]] || fail "$output"
}
