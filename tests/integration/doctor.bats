#!/usr/bin/env bats
# hutch doctor reports this machine truthfully and explains fixes.
load helpers

@test "doctor: runs, exit 0 when rootless can work, json parses" {
        requires rootless userns
        run "$HUTCH" doctor
        [ "$status" -eq 0 ] || fail "$output"
        run "$HUTCH" doctor --format json
        [ "$status" -eq 0 ]
        echo "$output" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["ok"] is True; assert any(c["name"]=="landlock" for c in d["checks"])' \
                || fail "json: $output"
}

@test "doctor: landlock ABI, apparmor and selinux are what the kernel says" {
        run "$HUTCH" doctor --format json
        local abi
        abi=$("$HUTCH_PAYLOAD" landlock-abi)
        local want="ABI $abi"
        [ "$abi" = 0 ] && want="not available"
        echo "$output" | python3 -c '
import json, sys, os
d = {c["name"]: c for c in json.load(sys.stdin)["checks"]}
want = sys.argv[1]
assert want in d["landlock"]["finding"], d["landlock"]
aa = open("/sys/module/apparmor/parameters/enabled").read().strip() == "Y" if os.path.exists("/sys/module/apparmor/parameters/enabled") else False
se = os.path.exists("/sys/fs/selinux/enforce")
assert d["apparmor"]["finding"].startswith("active" if aa else "not active"), d["apparmor"]
assert d["selinux"]["finding"].startswith("active" if se else "not active"), d["selinux"]
' "$want" || fail "$output"
}

@test "doctor: a user with subordinate IDs gets ok lines" {
        requires subuid
        run "$HUTCH" doctor
        [[ "$output" == *"ok    subordinate UIDs: user $(id -un) has"* ]] || fail "$output"
}

@test "doctor: an empty subuid file is caught with the usermod fix" {
        requires rootless
        : >"$BATS_TEST_TMPDIR/subuid"
        HUTCH_SUBUID_FILE="$BATS_TEST_TMPDIR/subuid" run "$HUTCH" doctor
        [[ "$output" == *"warn  subordinate UIDs: user $(id -un) ($(id -u)) has no entry in $BATS_TEST_TMPDIR/subuid"* ]] || fail "$output"
        [[ "$output" == *"fix: usermod --add-subuids"*"$(id -un)"* ]] || fail "$output"
}

@test "doctor: cgroup finding matches the host's hierarchy" {
        run "$HUTCH" doctor
        if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
                [[ "$output" == *"cgroups: cgroup v2"* ]] || fail "$output"
        else
                [[ "$output" == *"warn  cgroups:"*"unavailable"* ]] || fail "$output"
        fi
}
