#!/usr/bin/env bats
# Real cgroup v2 limits, proven where they can be had: a throw-away VM (tests/vm/run-in-vm) boots
# Debian's kernel on this host's files with a pure cgroup v2 hierarchy and hands hutch-test a delegated
# subtree the way systemd's Delegate=yes does. tests/vm/cgroup-guest.sh drives hutch there as
# hutch-test; the guest boots once for this file and each test checks what it recorded. This host is
# hybrid v1/v2, so here only the refusals can be shown (cgroup.bats).
load helpers

VM=$BATS_FILE_TMPDIR/vm
R=$BATS_FILE_TMPDIR/vm/cgroup

_hutch_feature_vm() {
        [ -s "$BATS_FILE_TMPDIR/vm.skip" ] || return 0
        echo "no VM here: $(cat "$BATS_FILE_TMPDIR/vm.skip")"
        return 1
}

setup_file() {
        local rc=0
        mkdir -p "$VM"
        if [ ! -d "$HUTCH_FIXTURES/busybox-oci" ] || [ ! -d "$HUTCH_FIXTURES/busybox-rootfs" ]; then
                echo "the test images are missing in $HUTCH_FIXTURES (umoci, busybox-static)" >"$BATS_FILE_TMPDIR/vm.skip"
                return 0
        fi
        "$HUTCH_SOURCE_DIR/tests/vm/run-in-vm" --delegate hutch-test --results "$VM" \
                "$HUTCH_SOURCE_DIR/tests/vm/cgroup-guest.sh" hutch-test 2>"$BATS_FILE_TMPDIR/vm.log" || rc=$?
        echo "$rc" >"$BATS_FILE_TMPDIR/vm.rc"
        if [ "$rc" = 77 ]; then
                sed -n 's/^run-in-vm: SKIP: //p' "$BATS_FILE_TMPDIR/vm.log" >"$BATS_FILE_TMPDIR/vm.skip"
        fi
}

setup() {
        requires root vm jq
}

# out NAME: what the guest recorded for NAME; rc NAME: its exit status
out() { cat "$R/$1.out"; }
rc() { cat "$R/$1.rc"; }

@test "the guest booted with a pure cgroup v2 and a delegated subtree, and ran the checks" {
        local rc
        rc=$(cat "$BATS_FILE_TMPDIR/vm.rc")
        sed -n 's/^run-in-vm: guest/# guest/p' "$BATS_FILE_TMPDIR/vm.log" >&3
        [ "$rc" = 0 ] || fail "the guest failed ($rc): $(tail -n 40 "$BATS_FILE_TMPDIR/vm.log")"
        [[ "$(out env)" == *"cgroup: 0::/user.slice/user-"*"/app.slice/vm-test.scope"* ]] || fail "$(out env)"
        [[ "$(out env)" == *"cpu memory pids"* ]] || fail "controllers not delegated: $(out env)"
        [ "$(rc load)" = 0 ] || fail "hutch load: $(out load)"
}

@test "hutch run --memory 32m --pids-limit 20 --cpus 0.5: the limits are set in the container's own cgroup while it runs" {
        [ "$(rc limits)" = 0 ] || fail "$(out limits)"
        local o
        o=$(out limits)
        # the container's cgroup namespace is rooted at its own cgroup
        [[ "$o" == *"inside: 0::/"$'\n'* ]] || fail "$o"
        [[ "$o" == *"leaf: hutch-"* ]] || fail "no cgroup beside hutch's: $o"
        [[ "$o" == *"memory.max: 33554432"* ]] || fail "$o"
        [[ "$o" == *"pids.max: 20"* ]] || fail "$o"
        [[ "$o" == *"cpu.max: 50000 100000"* ]] || fail "$o"
        [[ "$o" == *"procs: "[1-9]* ]] || fail "the container is not in it: $o"
        [[ "$o" == *"owner: hutch-test"* ]] || fail "$o"
        [[ "$o" == *"status: 0"* ]] || fail "$o"
        [[ "$o" == *"left: "$'\n'* || "$o" == *"left: " ]] || fail "the cgroup outlived the container: $o"
        [ "$(rc cpu)" = 0 ] || fail "--cpus 0.5: $(out cpu)"
}

@test "a memory hog under --memory 32m is OOM-killed: exit 137, the report says oom_killed" {
        [ "$(rc oom)" = 137 ] || fail "status $(rc oom): $(out oom)"
        [[ "$(out oom)" != *allocated* ]] || fail "it allocated 256 MiB under a 32 MiB limit: $(out oom)"
        jq -e '.exit.status == 137 and .exit.signal == 9 and .exit.oom_killed == true' "$R/oom.json" >/dev/null ||
                fail "$(cat "$R/oom.json")"
        jq -e '.enforced.limits == {"memory_max": 33554432, "pids_max": null, "cpu_max": null}' "$R/oom.json" >/dev/null ||
                fail "$(cat "$R/oom.json")"
        # the same program within its limit: no kill, and the report says so
        [ "$(rc no-oom)" = 0 ] && [ "$(out no-oom)" = "allocated 8" ] || fail "$(out no-oom)"
        jq -e '.exit.status == 0 and .exit.oom_killed == false' "$R/no-oom.json" >/dev/null || fail "$(cat "$R/no-oom.json")"
}

@test "--pids-limit 20 stops a fork bomb; without it the same one runs to the end" {
        [ "$(rc forks)" = 0 ] || fail "$(out forks)"
        local o n
        o=$(out forks)
        [[ "$o" =~ ^forked\ ([0-9]+)\ EAGAIN$ ]] || fail "$o"
        n=${BASH_REMATCH[1]}
        [ "$n" -lt 20 ] || fail "forked $n children under pids.max 20"
        [ "$(out forks-unlimited)" = "forked 200" ] || fail "$(out forks-unlimited)"
}

@test "refused with exit 125 and the reason: a parent holding processes, a cgroup not delegated" {
        [ "$(rc busy-parent)" = 125 ] || fail "$(rc busy-parent): $(out busy-parent)"
        [[ "$(out busy-parent)" == *"cannot apply the resource limits (memory): cannot enable controller memory in /sys/fs/cgroup/"*"/vm-test.scope: it holds processes"* ]] ||
                fail "$(out busy-parent)"
        [ "$(rc not-delegated)" = 125 ] || fail "$(rc not-delegated): $(out not-delegated)"
        [[ "$(out not-delegated)" == *"cannot apply the resource limits (pids): cannot move the container into its cgroup: /sys/fs/cgroup/user.slice/user-"*".slice/cgroup.procs is not writable by user hutch-test (not delegated)"* ]] ||
                fail "$(out not-delegated)"
}

@test "hutch-runtime applies linux.resources from config.json, in create/delete too, and without clone3" {
        local want=$'33554432\n20\n50000 100000\n0::/'
        [ "$(rc runtime-run)" = 0 ] && [ "$(out runtime-run)" = "$want" ] || fail "$(out runtime-run)"
        [ "$(rc runtime-lifecycle)" = 0 ] || fail "$(out runtime-lifecycle)"
        [[ "$(out runtime-lifecycle)" == *"leaf: hutch-rt2"$'\n'"procs: 1"$'\n'"state cgroup: user.slice/"*"/app.slice/hutch-rt2"* ]] ||
                fail "$(out runtime-lifecycle)"
        # exec: in the container's cgroup, the root of its cgroup namespace (from hutch's cgroup it would
        # read "0::/../vm-test.scope")
        [[ "$(out runtime-lifecycle)" == *"exec: 0::/"$'\n'* ]] || fail "$(out runtime-lifecycle)"
        [[ "$(out runtime-lifecycle)" == *"left: " ]] || fail "delete left the cgroup: $(out runtime-lifecycle)"
        # clone3 hidden: the launcher moved the init itself, with the same result
        [ "$(rc runtime-no-clone3)" = 0 ] || fail "$(out runtime-no-clone3)"
        [[ "$(out runtime-no-clone3)" == *"clone3 with CLONE_INTO_CGROUP failed (Function not implemented): the launcher moves the init into"* ]] ||
                fail "$(out runtime-no-clone3)"
        [[ "$(grep -v '^hutch-runtime: ' "$R/runtime-no-clone3.out")" == "$want" ]] || fail "$(out runtime-no-clone3)"
}

@test "hutch doctor makes the same decision as the launcher" {
        grep -q "^ok    cgroups: cgroup v2: containers' cgroups are made in /sys/fs/cgroup/user.slice/user-[0-9]*.slice/user@[0-9]*.service/app.slice (beside this process's), with cpu, memory and pids delegated to hutch-test" "$R/doctor.out" ||
                fail "$(out doctor)"
        grep -q "^warn  cgroups: cgroup v2, but cannot move the container into its cgroup: /sys/fs/cgroup/user.slice/user-[0-9]*.slice/cgroup.procs is not writable by user hutch-test (not delegated)" "$R/doctor-not-delegated.out" ||
                fail "$(cat "$R/doctor-not-delegated.out")"
}

@test "hutch killed with SIGKILL: the next run removes the cgroup it left" {
        [[ "$(out killed-hutch)" == *"ready: ready"$'\n'"after kill: 1"$'\n'"after the next run: 0"* ]] || fail "$(out killed-hutch)"
}

@test "no container cgroup is left behind" {
        [ -z "$(out leaves-after-run)" ] || fail "after hutch run: $(out leaves-after-run)"
        [ -z "$(out leaves-after-runtime-run)" ] || fail "after hutch-runtime run: $(out leaves-after-runtime-run)"
        [ -z "$(out leaves-at-end)" ] || fail "at the end: $(out leaves-at-end)"
}
