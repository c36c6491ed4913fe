#!/usr/bin/env bats
# A real user without /etc/subuid and /etc/subgid entries (hutch-nosubid under the root runner): doctor
# names the user, says the single-ID fallback still works (exit 0), and gives a usermod line whose
# range is free in both files.
load helpers

@test "doctor names the user without subordinate IDs and the fix" {
        requires nosubid
        run "$HUTCH" doctor
        [ "$status" -eq 0 ] || fail "single-ID mode still works, so doctor should pass: $output"
        local u
        u=$(id -un)
        [[ "$output" == *"warn  subordinate UIDs: user $u ($(id -u)) has no entry in /etc/subuid (by name or by uid)"* ]] || fail "$output"
        [[ "$output" == *"warn  subordinate GIDs: user $u ($(id -u)) has no entry in /etc/subgid (by name or by uid)"* ]] || fail "$output"
        local fix
        fix=$(grep -A1 '^warn  subordinate UIDs' <<<"$output" | sed -n 's/^ *fix: //p')
        [[ "$fix" =~ ^usermod\ --add-subuids\ ([0-9]+)-([0-9]+)\ --add-subgids\ ([0-9]+)-([0-9]+)\ $u\ \(as\ root\)$ ]] || fail "fix: $fix"
        local first=${BASH_REMATCH[1]} last=${BASH_REMATCH[2]}
        [ "${BASH_REMATCH[3]}-${BASH_REMATCH[4]}" = "$first-$last" ] || fail "$fix"
        [ $((last - first + 1)) -eq 65536 ] || fail "$fix"
        # free in both files: no entry starts before LAST and ends after FIRST
        awk -F: -v a="$first" -v b="$last" '!/^#/ && NF == 3 && $2 <= b && $2 + $3 > a { print FILENAME": "$0; bad = 1 }
                END { exit bad }' /etc/subuid /etc/subgid || fail "range $first-$last is taken: $fix"
        run "$HUTCH" doctor --format json
        printf '%s\n' "$output" | python3 -c '
import json, sys
d = {c["name"]: c for c in json.load(sys.stdin)["checks"]}
assert d["subordinate UIDs"]["status"] == "warn" and d["subordinate UIDs"]["fix"].startswith("usermod --add-subuids "), d
' || fail "$output"
}
