#!/usr/bin/env bats
# Resource limits on a host without a usable cgroup v2 (this hybrid v1/v2 one, where crun refuses to
# start any container): asking for a limit is refused with exit 125 and a one-line reason, nothing is
# left behind, and containers without limits run as usual. The limits themselves are proven in a VM
# with a delegated cgroup v2: cgroup-vm.root.bats.
load helpers

IMG=localhost/busybox:latest

_hutch_feature_hybrid_cgroup() {
        [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" != cgroup2fs ] && return 0
        echo "/sys/fs/cgroup is a unified cgroup v2 hierarchy here: the hybrid-host refusals are shown on hybrid hosts"
        return 2
}

setup() {
        requires rootless userns subuid newuidmap jq
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

hrun() { "$HUTCH" run --storage "$S" --policy "$POLICY" "$@"; }

# Every cgroup below the cgroup v2 mount(s), to compare before and after.
cgroups_now() {
        find /sys/fs/cgroup -mindepth 1 -type d 2>/dev/null | sort
}

@test "no limits asked: the container runs, with no cgroup work" {
        run hrun --rm --report "$BATS_TEST_TMPDIR/r.json" "$IMG" echo hi
        [ "$status" -eq 0 ] && [ "$output" = hi ] || fail "$status $output"
        # no memory cgroup: an OOM kill cannot be told, and the report says so
        jq -e '.exit.oom_killed == null and .enforced.limits == null' "$BATS_TEST_TMPDIR/r.json" >/dev/null ||
                fail "$(cat "$BATS_TEST_TMPDIR/r.json")"
        # -1 and 0 mean "no limit", as with podman
        run hrun --rm --memory -1 --pids-limit -1 --cpus 0 "$IMG" echo unlimited
        [ "$status" -eq 0 ] && [ "$output" = unlimited ] || fail "$status $output"
        run hrun --rm --pids-limit 0 --memory 0 "$IMG" true
        [ "$status" -eq 0 ] || fail "$status $output"
}

@test "hybrid host: each limit is refused with exit 125 and the reason, nothing left behind" {
        requires hybrid_cgroup
        local before opt
        before=$(cgroups_now)
        for opt in "--memory 32m" "--pids-limit 20" "--cpus 0.5" "-m 1g --pids-limit 100 --cpus 2"; do
                # shellcheck disable=SC2086 # the option and its value are two words
                run hrun --rm $opt "$IMG" echo must-not-run
                [ "$status" -eq 125 ] || fail "$opt: status $status: $output"
                [[ "$output" != *must-not-run* ]] || fail "$opt: the container ran: $output"
                [[ "$output" == *"cannot apply the resource limits ("* ]] || fail "$opt: $output"
                [[ "$output" == *"the cgroup v2 hierarchy at /sys/fs/cgroup/unified has no "*" controller (a hybrid cgroup v1/v2 host"* ]] ||
                        fail "$opt: $output"
                [ "$(printf '%s\n' "$output" | grep -c .)" -eq 1 ] || fail "$opt: not one line: $output"
        done
        run hrun --rm --memory 32m "$IMG" true
        [[ "$output" == *"resource limits (memory)"* ]] || fail "$output"
        run hrun --rm --cpus 0.5 --pids-limit 5 "$IMG" true
        [[ "$output" == *"resource limits (cpu, pids)"* ]] || fail "$output"
        [ -z "$(ls -A "$S/containers")" ] || fail "left: $(ls -A "$S/containers")"
        ! grep -q "$S" /proc/self/mountinfo || fail "mounts left on the host"
        [ "$(cgroups_now)" = "$before" ] || fail "cgroups changed: $(diff <(echo "$before") <(cgroups_now))"
}

@test "podman's syntax for --memory, --pids-limit and --cpus; bad values are usage errors" {
        local bad
        for bad in "--memory 12x" "--memory m" "--memory -5" "--pids-limit abc" "--pids-limit -2" "--cpus 0.001" \
                "--cpus -1" "--cpus x"; do
                # shellcheck disable=SC2086
                run hrun --rm $bad "$IMG" true
                [ "$status" -eq 125 ] || fail "$bad accepted: $status $output"
                [[ "$output" == *"${bad%% *}"* ]] || fail "$bad: the message does not name the option: $output"
        done
}

@test "hutch-runtime: linux.resources on this host is refused, the state and cgroups left as they were" {
        requires hybrid_cgroup
        local B=$BATS_TEST_TMPDIR/b before
        make_bundle "$B" /payload id
        update_config "$B" '.linux.resources = {"memory": {"limit": 33554432}, "pids": {"limit": 20}}'
        export XDG_RUNTIME_DIR=$BATS_TEST_TMPDIR/xdg
        mkdir -p "$XDG_RUNTIME_DIR"
        before=$(cgroups_now)
        run "$HUTCH_RUNTIME" run --bundle "$B" lim1
        [ "$status" -ne 0 ] || fail "ran: $output"
        [[ "$output" == *"cannot apply the resource limits (memory, pids)"*"hybrid cgroup v1/v2 host"* ]] || fail "$output"
        [ -z "$(ls -A "$XDG_RUNTIME_DIR/hutch" 2>/dev/null)" ] || fail "state left: $(ls -A "$XDG_RUNTIME_DIR/hutch")"
        [ "$(cgroups_now)" = "$before" ] || fail "cgroups changed"
        # -1: no limit, and then it runs
        update_config "$B" '.linux.resources = {"memory": {"limit": -1}, "pids": {"limit": -1}, "cpu": {"quota": -1, "period": 100000}}'
        run "$HUTCH_RUNTIME" run --bundle "$B" lim2
        [ "$status" -eq 0 ] && [[ "$output" == uid=0* ]] || fail "$status $output"
}
