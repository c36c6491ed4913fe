#!/usr/bin/env bats
# The audit trail written by hutch-runtime (issue #8): start/end/refusal records naming the invoking user,
# `hutch audit verify` over them, `hutch events`. Each test has its own log (XDG_STATE_HOME, hutch.conf).
load helpers

setup() {
        requires rootless userns jq
        B="$BATS_TEST_TMPDIR/bundle"
        STATE="$BATS_TEST_TMPDIR/state"
        export XDG_STATE_HOME="$BATS_TEST_TMPDIR/xdg-state"
        export XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/xdg-config"
        LOG="$XDG_STATE_HOME/hutch/audit.log"
}

rt() { "$HUTCH_RUNTIME" --root "$STATE" "$@"; }
# the Nth record (1-based) of the log, through jq
rec() { sed -n "${1}p" "$LOG" | jq -r "$2"; }

my_loginuid() {
        local l
        l=$(cat /proc/self/loginuid)
        [ "$l" = 4294967295 ] && echo null || echo "$l"
}

@test "run: start and end records name the invoking user, the container and its confinement; verify passes" {
        make_bundle "$B" /payload exit 3
        run rt run --bundle "$B" aud1
        [ "$status" -eq 3 ] || fail "$output"
        [ "$(wc -l <"$LOG")" -eq 2 ]
        [ "$(stat -c %a "$LOG")" = 600 ] && [ "$(stat -c %a "$(dirname "$LOG")")" = 700 ]
        [ "$(rec 1 '.event + " " + .entry + " " + .container.id')" = "start runtime aud1" ]
        [ "$(rec 2 '.event + " " + .container.id')" = "end aud1" ]
        for n in 1 2; do
                [ "$(rec $n .user.uid)" = "$(id -u)" ] && [ "$(rec $n .user.euid)" = "$(id -u)" ]
                [ "$(rec $n .user.gid)" = "$(id -g)" ]
                [ "$(rec $n .user.name)" = "$(id -un)" ]
                [ "$(rec $n .user.loginuid)" = "$(my_loginuid)" ]
                [ "$(rec $n .host)" = "$(hostname)" ]
                [ "$(rec $n .seq)" = "$n" ]
        done
        [ "$(rec 1 .pid)" -gt 1 ] && [ "$(rec 1 .pid)" = "$(rec 2 .pid)" ]
        [ "$(rec 1 '.argv | join(" ")')" = "/payload exit 3" ]
        [ "$(rec 1 '.namespaces | index("user") != null')" = true ]
        [ "$(rec 1 '.uid_map[0] | join(" ")')" = "0 $(id -u) 1" ]
        [ "$(rec 1 .seccomp.sha256)" = "sha256:$(sha256sum <"$B/config.json" | cut -d' ' -f1)" ]
        [ "$(rec 1 .trust.verdict)" = not-evaluated ]
        [ "$(rec 2 '.exit.status, .exit.signal' | tr '\n' ' ')" = "3 0 " ]
        [ "$(rec 2 .duration_ns)" -gt 0 ]
        [ "$(rec 2 .prev)" = "$(sed -n 1p "$LOG" | tr -d '\n' | sha256sum | cut -d' ' -f1)" ]
        run "$HUTCH" audit verify
        [ "$status" -eq 0 ] && [[ "$output" == *"intact: 2 records (seq 1 to 2)"* ]] || fail "$output"
}

@test "a container killed by a signal: the end record has the signal" {
        make_bundle "$B" /payload sleep-forever
        rt run --bundle "$B" aud-sig 3>&- &
        pid=$!
        for _ in $(seq 200); do
                [ "$(rt state aud-sig 2>/dev/null | jq -r .status)" = running ] && break
                sleep 0.05
        done
        rt kill aud-sig KILL
        st=0
        wait "$pid" || st=$?
        [ "$st" -eq 137 ] || fail "run exited $st"
        [ "$(rec 2 '.exit.status, .exit.signal' | tr '\n' ' ')" = "137 9 " ]
}

@test "editing, deleting or reordering a record makes verify fail naming it" {
        make_bundle "$B" /payload exit 0
        for i in 1 2 3; do rt run --bundle "$B" "aud-e$i"; done
        [ "$(wc -l <"$LOG")" -eq 6 ]
        cp "$LOG" "$BATS_TEST_TMPDIR/good"
        sed -i '3s/"aud-e2"/"aud-eX"/' "$LOG"
        run "$HUTCH" audit verify
        [ "$status" -eq 1 ] && [[ "$output" == *"audit.log:4: prev is not the sha256 of the record before it ("*"audit.log:3)"* ]] || fail "$output"
        cp "$BATS_TEST_TMPDIR/good" "$LOG" && sed -i '4d' "$LOG"
        run "$HUTCH" audit verify "$LOG"
        [ "$status" -eq 1 ] && [[ "$output" == *"audit.log:4: seq 5 follows seq 3"*"missing"* ]] || fail "$output"
        g="$BATS_TEST_TMPDIR/good"
        { sed -n 1,2p "$g"; sed -n 4p "$g"; sed -n 3p "$g"; sed -n 5,6p "$g"; } >"$LOG"
        run "$HUTCH" audit verify "$LOG"
        [ "$status" -eq 1 ] && [[ "$output" == *"audit.log:3: seq 4 follows seq 2"* ]] || fail "$output"
        cp "$BATS_TEST_TMPDIR/good" "$LOG" && truncate -s -20 "$LOG"
        run "$HUTCH" audit verify "$LOG"
        [ "$status" -eq 1 ] && [[ "$output" == *"audit.log:6: the last record is cut off"* ]] || fail "$output"
}

@test "a bad config.json gives a refusal record with the reason" {
        make_bundle "$B" /payload exit 0
        update_config "$B" '.process.cwd = "relative"'
        run rt run --bundle "$B" aud-bad
        [ "$status" -ne 0 ]
        [ "$(wc -l <"$LOG")" -eq 1 ]
        [ "$(rec 1 '.event + " " + .container.id')" = "refusal aud-bad" ]
        [[ "$(rec 1 .reason)" == *config.json* ]] || fail "$(rec 1 .reason)"
        [ "$(rec 1 .user.uid)" = "$(id -u)" ]
        run rt create --bundle "$BATS_TEST_TMPDIR/nonexistent" aud-missing
        [ "$status" -ne 0 ]
        [ "$(rec 2 '.event + " " + .container.id')" = "refusal aud-missing" ]
        "$HUTCH" audit verify
}

@test "create/start/delete: start at start, end at delete" {
        make_bundle "$B" /payload exit 0
        rt create --bundle "$B" aud-cs
        [ ! -e "$LOG" ] || [ "$(wc -l <"$LOG")" -eq 0 ]
        rt start aud-cs
        [ "$(rec 1 '.event + " " + .container.id')" = "start aud-cs" ]
        for _ in $(seq 100); do
                [ "$(rt state aud-cs | jq -r .status)" = stopped ] && break
                sleep 0.05
        done
        rt delete aud-cs
        [ "$(rec 2 '.event + " " + .container.id')" = "end aud-cs" ]
        [ "$(rec 2 .exit)" = null ]
}

@test "audit required: a log that cannot be written stops the launch before the workload runs; best-effort only warns" {
        # the workload leaves a mark on a volume: it must not appear when the start cannot be recorded
        v="$BATS_TEST_TMPDIR/vol"
        mkdir -p "$v"
        make_bundle "$B" /payload write /vol/ran yes
        update_config "$B" '.mounts += [{"destination":"/vol","source":$v,"options":["rbind","rw"]}]' --arg v "$v"
        mkdir -p "$XDG_CONFIG_HOME/hutch"
        touch "$BATS_TEST_TMPDIR/plain"
        for mode in "" -d; do
                run rt --audit required --audit-log "$BATS_TEST_TMPDIR/plain/audit.log" run $mode --bundle "$B" aud-req
                [ "$status" -ne 0 ] && [[ "$output" == *"audit (required): audit log $BATS_TEST_TMPDIR/plain/audit.log"* ]] || fail "$output"
                [ -z "$(ls "$STATE")" ]
                [ ! -e "$v/ran" ] || fail "the workload ran (run $mode) although its start could not be recorded"
        done
        run rt --audit best-effort --audit-log "$BATS_TEST_TMPDIR/plain/audit.log" run --bundle "$B" aud-be
        [ "$status" -eq 0 ] && [[ "$output" == *"warning: audit:"* ]] || fail "$output"
        [ "$(cat "$v/ran")" = yes ]
        # the same through hutch.conf, with its errors naming file and line
        printf 'audit = required\naudit_log = %s\n' "$BATS_TEST_TMPDIR/plain/audit.log" >"$XDG_CONFIG_HOME/hutch/hutch.conf"
        run rt run --bundle "$B" aud-req2
        [ "$status" -ne 0 ] && [[ "$output" == *"audit (required)"* ]] || fail "$output"
        printf 'audit = sometimes\n' >"$XDG_CONFIG_HOME/hutch/hutch.conf"
        run rt run --bundle "$B" aud-conf
        [ "$status" -ne 0 ] && [[ "$output" == *"hutch.conf:1: audit: expected required, best-effort or off"* ]] || fail "$output"
}

@test "kernel audit: unavailable to an unprivileged user, silently in auto, an error when asked for" {
        make_bundle "$B" /payload exit 0
        mkdir -p "$XDG_CONFIG_HOME/hutch"
        echo 'audit_kernel = auto' >"$XDG_CONFIG_HOME/hutch/hutch.conf"
        run rt --audit required run --bundle "$B" aud-k1
        [ "$status" -eq 0 ] && [[ "$output" != *kernel* ]] || fail "$output"
        echo 'audit_kernel = on' >"$XDG_CONFIG_HOME/hutch/hutch.conf"
        run rt --audit required run --bundle "$B" aud-k2
        [ "$status" -ne 0 ] && [[ "$output" == *"kernel audit: not possible here"* ]] || fail "$output"
}

@test "100 concurrent launches: exactly 200 records and an intact chain" {
        make_bundle "$B" /payload exit 0
        # shellcheck disable=SC2016
        seq 100 | xargs -P 25 -I{} sh -c '"$0" --root "$1" run --bundle "$2" "par-$3" >/dev/null' "$HUTCH_RUNTIME" "$STATE" "$B" {}
        [ "$(wc -l <"$LOG")" -eq 200 ]
        run "$HUTCH" audit verify
        [ "$status" -eq 0 ] && [[ "$output" == *"intact: 200 records (seq 1 to 200)"* ]] || fail "$output"
        [ "$(jq -r 'select(.event == "start") | .container.id' "$LOG" | sort -u | wc -l)" -eq 100 ]
        [ "$(jq -r 'select(.event == "end") | .container.id' "$LOG" | sort -u | wc -l)" -eq 100 ]
}

@test "audit show filters; events prints podman-style lines and JSON" {
        make_bundle "$B" /payload exit 0
        # nothing recorded yet: show and events list nothing; verify does not call a missing log intact
        run "$HUTCH" audit show
        [ "$status" -eq 0 ] && [ "${#lines[@]}" -eq 1 ] || fail "$output"
        run "$HUTCH" events
        [ "$status" -eq 0 ] && [ -z "$output" ] || fail "$output"
        run "$HUTCH" audit verify
        [ "$status" -eq 125 ] && [[ "$output" == *"$LOG: No such file or directory"* ]] || fail "$output"
        rt run --bundle "$B" aud-show1
        run "$HUTCH" audit show --user "$(id -un)"
        [ "$status" -eq 0 ] && [ "${#lines[@]}" -eq 3 ] && [[ "${lines[1]}" == *start*aud-show1* ]] || fail "$output"
        run "$HUTCH" audit show --user nosuchuser
        [ "${#lines[@]}" -eq 1 ]
        run "$HUTCH" audit show --since 1h --format json
        [ "${#lines[@]}" -eq 2 ] && [ "$(echo "${lines[1]}" | jq -r .event)" = end ]
        run "$HUTCH" audit show --since 2999-01-01
        [ "${#lines[@]}" -eq 1 ]
        run "$HUTCH" events
        [ "$status" -eq 0 ] && [[ "${lines[0]}" == *" container start aud-show1 (user=$(id -un)($(id -u)), pid="* ]] || fail "$output"
        [[ "${lines[1]}" == *" container end aud-show1 ("*"exit=0, signal=0)" ]] || fail "$output"
        run "$HUTCH" events --format json
        [ "$(echo "${lines[0]}" | jq -r .container.id)" = aud-show1 ]
}

@test "events --follow on a fresh account waits for the first record" {
        make_bundle "$B" /payload exit 0
        [ ! -e "$XDG_STATE_HOME" ]
        out="$BATS_TEST_TMPDIR/events"
        "$HUTCH" events --follow >"$out" 2>&1 3>&- &
        pid=$!
        for _ in $(seq 100); do [ -d "$XDG_STATE_HOME/hutch" ] && break; sleep 0.05; done
        [ "$(stat -c %a "$XDG_STATE_HOME/hutch")" = 700 ] || fail "$(cat "$out")"
        rt run --bundle "$B" aud-fresh
        for _ in $(seq 200); do
                [ "$(wc -l <"$out")" -ge 2 ] && break
                sleep 0.05
        done
        kill "$pid"
        [[ "$(sed -n 1p "$out")" == *" container start aud-fresh "* ]] && [[ "$(sed -n 2p "$out")" == *" container end aud-fresh "* ]] || fail "$(cat "$out")"
}

@test "events --follow: new records arrive, also across a rotation" {
        make_bundle "$B" /payload exit 0
        mkdir -p "$XDG_CONFIG_HOME/hutch"
        echo 'audit_rotate_size = 3000' >"$XDG_CONFIG_HOME/hutch/hutch.conf"
        rt run --bundle "$B" aud-f0
        out="$BATS_TEST_TMPDIR/events"
        "$HUTCH" events --follow --format json >"$out" 2>&1 3>&- &
        pid=$!
        for i in 1 2 3 4 5 6; do rt run --bundle "$B" "aud-f$i"; done
        [ -e "$LOG.1" ] || fail "no rotation happened"
        for _ in $(seq 200); do
                [ "$(wc -l <"$out")" -ge 14 ] && break
                sleep 0.05
        done
        kill "$pid"
        [ "$(wc -l <"$out")" -eq 14 ] || fail "$(cat "$out")"
        [ "$(jq -r .seq "$out" | tr '\n' ' ')" = "1 2 3 4 5 6 7 8 9 10 11 12 13 14 " ]
        run "$HUTCH" audit verify
        [ "$status" -eq 0 ] && [[ "$output" == *"intact: 14 records"* ]] || fail "$output"
}
