#!/usr/bin/env bats
# hutch doctor reports this machine truthfully and gives the exact fix. Runs as hutch-test, which has
# subordinate IDs (as a normal user: as that user, with `requires` deciding).
load helpers

# The python check that a usermod line's range is free in both real files and well-formed.
_range_is_free() { # FIRST-LAST
        python3 - "$1" <<'PY'
import sys
first, last = map(int, sys.argv[1].split("-"))
assert last - first + 1 == 65536 and first >= 100000, sys.argv[1]
for path in ("/etc/subuid", "/etc/subgid"):
    try:
        lines = open(path).read().splitlines()
    except FileNotFoundError:
        continue
    for line in lines:
        f = line.split(":")
        if len(f) != 3 or line.startswith("#") or not f[1].isdigit() or not f[2].isdigit():
            continue
        s, c = int(f[1]), int(f[2])
        assert s + c <= first or s > last, f"{sys.argv[1]} overlaps {line} in {path}"
PY
}

@test "doctor: exit 0 when rootless can work; text and json agree" {
        requires rootless userns
        run "$HUTCH" doctor
        [ "$status" -eq 0 ] || fail "$output"
        [[ "$output" == *"ok    mode: rootless, as user $(id -un) (uid $(id -u), gid $(id -g))"* ]] || fail "$output"
        [[ "$output" == *"ok    user namespaces: created, ID-mapped and mounted in"* ]] || fail "$output"
        [[ "$output" != *"FAIL  "* ]] || fail "$output"
        local text=$output
        run "$HUTCH" doctor --format json
        [ "$status" -eq 0 ]
        printf '%s\n' "$output" | python3 -m json.tool >/dev/null || fail "not JSON: $output"
        # every check: the four keys, a known status, a fix exactly when not ok; same checks as the text
        printf '%s\n' "$output" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["ok"] is True and d["mode"] == "rootless", d
text = [l for l in open(sys.argv[1]).read().splitlines() if l[:6] in ("ok    ", "warn  ", "FAIL  ")]
assert len(text) == len(d["checks"]) >= 14, (len(text), len(d["checks"]))
for c, l in zip(d["checks"], text):
    assert set(c) == {"name", "status", "finding", "fix"}, c
    assert c["status"] in ("ok", "warn", "fail"), c
    assert (c["fix"] is None) == (c["status"] == "ok"), c
    assert l == "%-4s  %s: %s" % ({"fail": "FAIL"}.get(c["status"], c["status"]), c["name"], c["finding"]), (l, c)
' <(printf '%s\n' "$text") || fail "json: $output"
}

@test "doctor: landlock ABI, apparmor and selinux are what the kernel says" {
        run "$HUTCH" doctor --format json
        local abi want
        abi=$("$HUTCH_PAYLOAD" landlock-abi)
        want="ABI $abi"
        [ "$abi" = 0 ] && want="not available"
        printf '%s\n' "$output" | python3 -c '
import json, sys, os
d = {c["name"]: c for c in json.load(sys.stdin)["checks"]}
want = sys.argv[1]
if want.startswith("ABI"):
    assert d["landlock"]["finding"] == want and d["landlock"]["status"] == "ok", d["landlock"]
else:
    assert d["landlock"]["status"] == "warn", d["landlock"]
p = "/sys/module/apparmor/parameters/enabled"
aa = os.path.exists(p) and open(p).read().strip() == "Y"
se = os.path.exists("/sys/fs/selinux/enforce")
assert d["apparmor"]["finding"].startswith("active" if aa else "not active"), d["apparmor"]
assert d["selinux"]["finding"].startswith("active" if se else "not active"), d["selinux"]
' "$want" || fail "$output"
}

@test "doctor: a user with subordinate IDs gets ok lines naming the ranges" {
        requires subuid
        run "$HUTCH" doctor
        local u first count
        u=$(id -un)
        IFS=: read -r _ first count < <(grep -m1 -e "^$u:" -e "^$(id -u):" /etc/subuid)
        [[ "$output" == *"ok    subordinate UIDs: user $u ($(id -u)) has "*" IDs in /etc/subuid: $first-$((first + count - 1))"* ]] \
                || fail "$output"
        [[ "$output" == *"ok    subordinate GIDs: user $u ($(id -u)) has "*" IDs in /etc/subgid"* ]] || fail "$output"
}

@test "doctor: HUTCH_SUBUID_FILE=/dev/null warns with a usermod fix for a free range" {
        requires rootless
        HUTCH_SUBUID_FILE=/dev/null run "$HUTCH" doctor
        [ "$status" -eq 0 ] || fail "a missing subuid entry is a warning, not a failure: $output"
        [[ "$output" == *"warn  subordinate UIDs: user $(id -un) ($(id -u)) has no entry in /dev/null (by name or by uid)"* ]] \
                || fail "$output"
        local fix
        fix=$(grep -A1 'subordinate UIDs' <<<"$output" | sed -n 's/^ *fix: //p')
        [[ "$fix" =~ ^usermod\ --add-subuids\ ([0-9]+-[0-9]+)\ $(id -un)\ \(as\ root\)$ ]] || fail "fix: $fix"
        _range_is_free "${BASH_REMATCH[1]}" || fail "$fix"
}

@test "doctor: a malformed, a short and an overlapping entry are each caught" {
        requires rootless
        local u f
        u=$(id -un)
        f=$BATS_TEST_TMPDIR/subuid
        printf '# c\nother:1:1\n%s:100000\n' "$u" >"$f"
        HUTCH_SUBUID_FILE=$f run "$HUTCH" doctor
        [[ "$output" == *"warn  subordinate UIDs: $f:3: malformed entry"* ]] || fail "$output"
        [[ "$output" == *"fix: as root, correct that line"* ]] || fail "$output"
        printf '%s:300000:1000\n' "$u" >"$f"
        HUTCH_SUBUID_FILE=$f run "$HUTCH" doctor
        [[ "$output" == *"warn  subordinate UIDs: user $u ($(id -u)) has only 1000 IDs in $f (300000-300999)"* ]] || fail "$output"
        printf 'someone:300000:65536\n%s:310000:65536\n' "$(id -u)" >"$f"
        HUTCH_SUBUID_FILE=$f run "$HUTCH" doctor
        [[ "$output" == *"warn  subordinate UIDs: user $u's range 310000-375535 in $f overlaps the entry of 'someone' (300000-365535)"* ]] \
                || fail "$output"
        [ "$status" -eq 0 ]
}

@test "doctor: XDG_RUNTIME_DIR unset or wrong gives the fix" {
        requires rootless
        env -u XDG_RUNTIME_DIR "$HUTCH" doctor >"$BATS_TEST_TMPDIR/out"
        grep -q '^warn  XDG_RUNTIME_DIR: not set' "$BATS_TEST_TMPDIR/out" || fail "$(cat "$BATS_TEST_TMPDIR/out")"
        grep -A1 '^warn  XDG_RUNTIME_DIR' "$BATS_TEST_TMPDIR/out" | grep -q "fix: .*XDG_RUNTIME_DIR=/run/user/$(id -u)" \
                || fail "$(cat "$BATS_TEST_TMPDIR/out")"
        mkdir -m 0755 "$BATS_TEST_TMPDIR/rt"
        XDG_RUNTIME_DIR=$BATS_TEST_TMPDIR/rt run "$HUTCH" doctor
        [[ "$output" == *"warn  XDG_RUNTIME_DIR: $BATS_TEST_TMPDIR/rt is owned by uid $(id -u) with mode 0755"* ]] || fail "$output"
        chmod 0700 "$BATS_TEST_TMPDIR/rt"
        XDG_RUNTIME_DIR=$BATS_TEST_TMPDIR/rt run "$HUTCH" doctor
        [[ "$output" == *"ok    XDG_RUNTIME_DIR: $BATS_TEST_TMPDIR/rt (owned by $(id -un), mode 0700)"* ]] || fail "$output"
}

@test "doctor: cgroup finding matches the host's hierarchy" {
        run "$HUTCH" doctor
        case $(stat -f -c %T /sys/fs/cgroup) in
        cgroup2fs) [[ "$output" == *"cgroups: cgroup v2, "* ]] || fail "$output" ;;
        tmpfs)
                if [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
                        [[ "$output" == *"warn  cgroups: hybrid hierarchy"*"resource limits (--memory, --pids-limit, --cpus) unavailable"* ]] \
                                || fail "$output"
                else
                        [[ "$output" == *"warn  cgroups: cgroup v1 only"* ]] || fail "$output"
                fi
                ;;
        *) [[ "$output" == *"warn  cgroups:"* ]] || fail "$output" ;;
        esac
}

@test "doctor: bad usage is refused with one line" {
        run "$HUTCH" doctor --format yaml
        [ "$status" -ne 0 ] && [ "$status" -ne 1 ]
        [[ "$output" == *"--format must be text or json, not 'yaml'"* ]] || fail "$output"
        run "$HUTCH" doctor extra
        [ "$status" -ne 0 ]
        [[ "$output" == *"takes no arguments"* ]] || fail "$output"
        run "$HUTCH" doctor --help
        [ "$status" -eq 0 ]
        [[ "$output" == "Usage: hutch doctor"* ]] || fail "$output"
}
