#!/usr/bin/env bats
# AppArmor enforcement, proven where AppArmor is active: a throw-away VM (tests/vm/run-in-vm, README.md
# there) boots Debian's kernel, which has AppArmor on, on this host's files. tests/vm/apparmor-guest.sh
# loads profiles/apparmor/hutch-default as an administrator would and drives hutch as hutch-test before
# and after; the guest boots once for this file and each test checks what it recorded. This host has no
# active AppArmor, so here only the refusals can be shown (confine.bats, test-lsm).
load helpers

VM=$BATS_FILE_TMPDIR/vm
R=$BATS_FILE_TMPDIR/vm/apparmor

_hutch_feature_vm() {
        [ -s "$BATS_FILE_TMPDIR/vm.skip" ] || return 0
        echo "no VM here: $(cat "$BATS_FILE_TMPDIR/vm.skip")"
        return 1
}

setup_file() {
        local rc=0
        mkdir -p "$VM"
        if [ ! -x "$HUTCH_SOURCE_DIR/tests/vm/run-in-vm" ]; then
                echo "the VM harness tests/vm/run-in-vm is not in this tree" >"$BATS_FILE_TMPDIR/vm.skip"
                return 0
        fi
        if [ ! -d "$HUTCH_FIXTURES/busybox-oci" ] || [ ! -d "$HUTCH_FIXTURES/busybox-rootfs" ]; then
                echo "the test images are missing in $HUTCH_FIXTURES (umoci, busybox-static)" >"$BATS_FILE_TMPDIR/vm.skip"
                return 0
        fi
        "$HUTCH_SOURCE_DIR/tests/vm/run-in-vm" --packages "apparmor jq" --results "$VM" \
                "$HUTCH_SOURCE_DIR/tests/vm/apparmor-guest.sh" hutch-test 2>"$BATS_FILE_TMPDIR/vm.log" || rc=$?
        echo "$rc" >"$BATS_FILE_TMPDIR/vm.rc"
        if [ "$rc" = 77 ]; then
                sed -n 's/^run-in-vm: SKIP: //p' "$BATS_FILE_TMPDIR/vm.log" >"$BATS_FILE_TMPDIR/vm.skip"
        fi
}

setup() {
        requires root vm jq
}

out() { cat "$R/$1.out"; }
rc() { cat "$R/$1.rc"; }

@test "the guest booted with AppArmor active, and the profile loads with apparmor_parser -r" {
        local rc
        rc=$(cat "$BATS_FILE_TMPDIR/vm.rc")
        [ "$rc" = 0 ] || fail "the guest failed ($rc): $(tail -n 40 "$BATS_FILE_TMPDIR/vm.log")"
        [[ "$(out env)" == *$'\nY\n'*apparmor* ]] || fail "AppArmor is not active in the guest: $(out env)"
        [ "$(rc load)" = 0 ] || fail "hutch load: $(out load)"
        [ "$(rc parser)" = 0 ] || fail "apparmor_parser -r: $(out parser)"
        [ "$(out profiles)" = "hutch-default (enforce)" ] || fail "$(out profiles)"
}

@test "before the profile is loaded: nothing by default (reported), require=apparmor and apparmor=hutch-default refuse" {
        [ "$(rc before)" = 0 ] && [ "$(out before)" = unconfined ] || fail "$(out before)"
        jq -e '.enforced.apparmor == null and (.enforced.layers.unavailable | index("apparmor: AppArmor is active, but the profile hutch-default is not loaded"))' \
                "$R/before.json" >/dev/null || fail "$(cat "$R/before.json")"
        [ "$(rc require-before)" = 125 ] && [[ "$(out require-before)" == *"require=apparmor: AppArmor is active, but the profile hutch-default is not loaded"* ]] \
                || fail "$(out require-before)"
        [ "$(rc asked-before)" = 125 ] && [[ "$(out asked-before)" == *"is not loaded (as root: apparmor_parser -r"* ]] || fail "$(out asked-before)"
}

@test "once loaded, hutch-default is every container's profile, and the report and require=apparmor agree" {
        [ "$(rc default)" = 0 ] && [ "$(out default)" = "hutch-default (enforce)" ] || fail "$(out default)"
        jq -e '.enforced.apparmor == "hutch-default" and ([.enforced.layers.unavailable[] | startswith("apparmor")] | any | not)' \
                "$R/default.json" >/dev/null || fail "$(cat "$R/default.json")"
        [ "$(rc require-after)" = 0 ] && [ "$(out require-after)" = "hutch-default (enforce)" ] || fail "$(out require-after)"
}

@test "hutch-default denies a mount that seccomp, Landlock and capabilities let through; apparmor=unconfined shows it would work" {
        [ "$(rc mount-unconfined)" = 0 ] && [[ "$(out mount-unconfined)" == *mounted* ]] || fail "unconfined: $(out mount-unconfined)"
        [ "$(rc mount-confined)" != 0 ] && [[ "$(out mount-confined)" == *"Permission denied"* ]] || fail "hutch-default: $(out mount-confined)"
}

@test "ptrace inside a container stays possible under hutch-default (with seccomp=ci)" {
        [ "$(rc ptrace-inside)" = 0 ] && [ "$(out ptrace-inside)" = OK ] || fail "$(out ptrace-inside)"
}

@test "a profile that is not loaded is refused before the clone; hutch-runtime applies process.apparmorProfile" {
        [ "$(rc unknown)" = 125 ] && [[ "$(out unknown)" == *'"hutch-no-such-profile" is not loaded'* ]] || fail "$(out unknown)"
        [ "$(rc runtime)" = 0 ] && [ "$(out runtime)" = "hutch-default (enforce)" ] || fail "$(rc runtime): $(out runtime)"
}
