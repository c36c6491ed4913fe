#!/usr/bin/env bats
# The OCI runtime CLI: spec, features, the create/start/state/kill/delete lifecycle, side by side with
# runc driven the same way.
load helpers

setup() {
        requires rootless userns
        B="$BATS_TEST_TMPDIR/bundle"
        STATE="$BATS_TEST_TMPDIR/state"
}

rt() { "$HUTCH_RUNTIME" --root "$STATE" "$@"; }
status_of() { "$@" 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["status"], d["pid"])'; }

@test "spec --rootless: hardened defaults, and it refuses to overwrite" {
        requires jq
        cd "$BATS_TEST_TMPDIR"
        run "$HUTCH_RUNTIME" spec --rootless
        [ "$status" -eq 0 ] || fail "$output"
        [ "$(jq -c '.linux.uidMappings' config.json)" = "[{\"containerID\":0,\"hostID\":$(id -u),\"size\":1}]" ]
        [ "$(jq -c '.process.capabilities.inheritable, .process.capabilities.ambient' config.json | tr -d '\n')" = "[][]" ]
        [ "$(jq '.process.noNewPrivileges' config.json)" = true ]
        [ "$(jq -r '.linux.seccomp.defaultAction' config.json)" = SCMP_ACT_ERRNO ]
        [ "$(jq '.root.readonly' config.json)" = true ]
        jq -e '.linux.namespaces | map(.type) | index("user") and index("network") and index("pid")' config.json >/dev/null
        run "$HUTCH_RUNTIME" spec --rootless
        [ "$status" -ne 0 ] && [[ "$output" == *"config.json exists"* ]] || fail "$output"
}

@test "features: JSON with seccomp and the Landlock annotation" {
        run "$HUTCH_RUNTIME" features
        [ "$status" -eq 0 ]
        echo "$output" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["linux"]["seccomp"]["enabled"]; assert "user" in d["linux"]["namespaces"]; assert "io.github.hutch.landlock" in d["annotations"]'
}

@test "state of an unknown container fails; delete --force of one succeeds; invalid IDs are refused" {
        run rt state nosuch
        [ "$status" -eq 1 ] && [[ "$output" == *"container does not exist"* ]] || fail "$output"
        run rt delete --force nosuch
        [ "$status" -eq 0 ]
        make_bundle "$B" /payload id
        run rt create --bundle "$B" ../escape
        [ "$status" -ne 0 ] && [[ "$output" == *"invalid container ID"* ]] || fail "$output"
        [ ! -e "$BATS_TEST_TMPDIR/escape" ]
}

# One lifecycle, driven by the runtime given as arguments; prints one line per step.
lifecycle() {
        local id=life$RANDOM pidfile="$BATS_TEST_TMPDIR/pid.$RANDOM"
        "$@" create --bundle "$B" --pid-file "$pidfile" "$id" || return 1
        if [ "$(tail -c 1 "$pidfile" | od -An -tx1 | tr -d ' ')" = 0a ]; then echo "pid file ends in a newline"; else echo "pid file without newline"; fi
        echo "created $(status_of "$@" state "$id" | cut -d' ' -f1)"
        [ "$(status_of "$@" state "$id" | cut -d' ' -f2)" = "$(cat "$pidfile")" ] && echo "pid matches"
        "$@" start "$id"
        echo "started $(status_of "$@" state "$id" | cut -d' ' -f1)"
        "$@" delete "$id" >/dev/null 2>&1 || echo "delete-running refused"
        "$@" kill "$id" KILL
        local i
        for i in $(seq 100); do
                [ "$(status_of "$@" state "$id" | cut -d' ' -f1)" = stopped ] && break
                sleep 0.05
        done
        echo "killed $(status_of "$@" state "$id")"
        "$@" kill "$id" KILL >/dev/null 2>&1 || echo "kill-stopped refused"
        "$@" delete "$id" && echo deleted
        "$@" state "$id" >/dev/null 2>&1 || echo "gone"
}

@test "create/start/state/kill/delete: the same sequence as runc" {
        requires runc
        make_bundle "$B" /payload sleep-forever
        # runc 1.1 knows neither the newest syscalls nor a read-only root with the rootless /dev/pts: give it
        # a plain copy of the same bundle without hutch's seccomp section
        run lifecycle "$HUTCH_RUNTIME" --root "$STATE"
        local ours="$output"
        [ "$status" -eq 0 ] || fail "hutch: $output"
        cp -a "$B" "$BATS_TEST_TMPDIR/runc-bundle"
        B="$BATS_TEST_TMPDIR/runc-bundle"
        update_config "$B" 'del(.linux.seccomp) | .linux.namespaces |= map(select(.type != "cgroup"))'
        run lifecycle runc --root "$BATS_TEST_TMPDIR/runc-state"
        [ "$status" -eq 0 ] || fail "runc: $output"
        [ "$ours" = "$output" ] || fail "hutch:
$ours
runc:
$output"
        [[ "$ours" == *"pid file without newline"* ]] || fail "the pid file ends in a newline: $ours"
        [[ "$ours" == *"killed stopped 0"* ]] || fail "$ours"
}

@test "delete of a created container (at its start gate) works without --force, like runc" {
        make_bundle "$B" /payload sleep-forever
        rt create --bundle "$B" c1
        local pid
        pid=$(status_of rt state c1 | cut -d' ' -f2)
        rt delete c1
        run rt state c1
        [ "$status" -ne 0 ]
        [ ! -e "/proc/$pid" ] || [ "$(cut -d' ' -f3 "/proc/$pid/stat")" = Z ] || fail "the init $pid survived"
}

@test "create: a duplicate ID is refused; delete --force removes a running container" {
        make_bundle "$B" /payload sleep-forever
        rt create --bundle "$B" dup
        run rt create --bundle "$B" dup
        [ "$status" -ne 0 ] && [[ "$output" == *"already exists"* ]] || fail "$output"
        rt start dup
        run rt delete --force dup
        [ "$status" -eq 0 ] || fail "$output"
        run rt state dup
        [ "$status" -ne 0 ]
        [ -z "$(ls -A "$STATE")" ] || fail "state left: $(ls -A "$STATE")"
}

@test "run: exit status, --detach, list and ps" {
        make_bundle "$B" /payload exit 7
        run rt run --bundle "$B" r1
        [ "$status" -eq 7 ]
        run rt state r1
        [ "$status" -ne 0 ] || fail "run without --keep should remove the state"
        update_config "$B" '.process.args = ["/payload","sleep-forever"]'
        rt run -d --bundle "$B" r2
        run rt list --format json
        echo "$output" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert [c["id"] for c in d] == ["r2"] and d[0]["status"] == "running"' || fail "$output"
        run rt ps --format json r2
        [[ "$output" == "[$(status_of rt state r2 | cut -d' ' -f2)]" ]] || fail "ps: $output"
        rt delete --force r2
        run rt list --format json
        [ "$output" = null ]
}

@test "exec joins the container with the same confinement" {
        make_bundle "$B" /payload sleep-forever
        rt run -d --bundle "$B" e1
        run rt exec e1 /payload status NoNewPrivs Seccomp CapInh CapAmb
        [ "$output" = "NoNewPrivs=1 Seccomp=2 CapInh=0000000000000000 CapAmb=0000000000000000" ] || fail "$output"
        run rt exec e1 /payload exit 4
        [ "$status" -eq 4 ]
        run rt exec e1 /bin/cat /proc/1/cmdline
        [[ "$output" == /payload* ]] || fail "not in the container's pid namespace: $output"
        run rt exec e1 /payload syscall unshare-user
        [ "$output" = EPERM ] || fail "seccomp not applied to exec: $output"
        rt delete --force e1
}

@test "delete --force cleans the remains of a create that died before writing its state" {
        mkdir -p "$STATE/crashed"
        : >"$STATE/crashed/lock"
        run rt state crashed
        [ "$status" -ne 0 ]
        run rt delete --force crashed
        [ "$status" -eq 0 ] || fail "$output"
        [ ! -e "$STATE/crashed" ] || fail "left behind"
}

@test "run: joins a user namespace by path, with a new pid namespace (its pid 1 is the launcher's child)" {
        requires jq
        make_bundle "$B" sh -c 'echo "pid $$"; cat /proc/self/uid_map'
        # a user namespace of our own that maps our uid to root (no helper needed), held by a process that
        # says when it is in it
        coproc HOLDER { exec unshare --user --map-root-user sh -c 'echo in; exec sleep 60'; }
        local holder=$HOLDER_PID line=
        read -r -t 10 -u "${HOLDER[0]}" line || fail "the holder never entered its user namespace"
        update_config "$B" '.linux.namespaces |= map(if .type == "user" then .path = $p else . end)
                | del(.linux.uidMappings, .linux.gidMappings)' --arg p "/proc/$holder/ns/user"
        run rt run --bundle "$B" c-join
        kill "$holder"
        [ "$status" -eq 0 ] || fail "$output"
        [[ "$output" == *"pid 1"* ]] || fail "not pid 1 of its own pid namespace: $output"
        [[ "$(tr -s ' ' <<<"$output")" == *" 0 $(id -u) 1"* ]] || fail "not in the joined user namespace: $output"
}
