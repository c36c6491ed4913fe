#!/bin/bash
# cgroup-guest.sh USER: run inside a run-in-vm guest as root, with `--delegate USER` (tests/vm/README.md).
# Drives hutch as USER from its delegated cgroup and records, for tests/integration/cgroup-vm.root.bats
# to check, each step's output in $VM_RESULTS/cgroup/NAME.out and its exit status in NAME.rc.
# shellcheck disable=SC2317 # the step functions are called through record
set -u
user=$1
R=$VM_RESULTS/cgroup
mkdir -p "$R"
: "${HUTCH:?}" "${HUTCH_RUNTIME:?}" "${HUTCH_FIXTURES:?}"
IMG=localhost/busybox:latest
home=$(getent passwd "$user" | cut -d: -f6)
uid=$(id -u "$user")
parent=$(dirname "$VM_CGROUP") # where hutch makes the containers' cgroups: beside its own
work=$home/cgroup-test

as_user() { "$VM_AS" "$user" "$@"; }
# record NAME CMD...: CMD's output and status, for the bats file
record() {
        local name=$1 t0=$EPOCHREALTIME
        shift
        "$@" >"$R/$name.out" 2>&1
        echo $? >"$R/$name.rc"
        awk -v n="$name" -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%s: %.2f s\n", n, b - a }' >>"$R/times"
}
leaves() { find "$parent" -mindepth 1 -maxdepth 1 -type d -name 'hutch-*' -printf '%f\n' | sort; }

as_user mkdir -p "$work"
cat >"$work/accept.json" <<'EOF'
{"default":[{"type":"insecureAcceptAnything"}]}
EOF
chown "$user:" "$work/accept.json"
hrun() { as_user "$HUTCH" run --storage "$work/store" --policy "$work/accept.json" "$@"; }
record env as_user sh -c "echo cgroup: \$(cat /proc/self/cgroup); echo parent: $parent; cat $parent/cgroup.subtree_control; uname -r"
record doctor as_user "$HUTCH" doctor
record load as_user "$HUTCH" load -q --storage "$work/store" --name "$IMG" "$HUTCH_FIXTURES/busybox-oci:latest"

# ---- hutch run ----

# The limits while the container runs: its cgroup beside hutch's, with memory.max, pids.max and
# cpu.max written and the container's processes in it; gone once the container ends.
limits_while_running() {
        local in=$work/in out=$work/out line leaf pid
        as_user mkfifo "$in" "$out"
        hrun --rm -i --memory 32m --pids-limit 20 --cpus 0.5 "$IMG" sh -c 'cat /proc/self/cgroup; read x || true' <"$in" >"$out" 2>&1 &
        pid=$!
        exec 5>"$in" 6<"$out"
        read -r -t 120 line <&6
        echo "inside: $line"
        for leaf in $(leaves); do
                echo "leaf: $leaf"
                echo "memory.max: $(cat "$parent/$leaf/memory.max")"
                echo "pids.max: $(cat "$parent/$leaf/pids.max")"
                echo "cpu.max: $(cat "$parent/$leaf/cpu.max")"
                echo "procs: $(grep -c . "$parent/$leaf/cgroup.procs")"
                echo "owner: $(stat -c %U "$parent/$leaf")"
        done
        exec 5>&-
        wait "$pid"
        echo "status: $?"
        exec 6<&-
        echo "left: $(leaves | tr '\n' ' ')"
}
record limits limits_while_running

record oom hrun --rm --memory 32m --report "$work/oom.json" "$IMG" /payload alloc 256
cp "$work/oom.json" "$R/oom.json" 2>/dev/null
record no-oom hrun --rm --memory 64m --report "$work/no-oom.json" "$IMG" /payload alloc 8
cp "$work/no-oom.json" "$R/no-oom.json" 2>/dev/null
record forks hrun --rm --pids-limit 20 "$IMG" /payload forks 200
record forks-unlimited hrun --rm "$IMG" /payload forks 200
record cpu hrun --rm --cpus 0.5 "$IMG" true
record leaves-after-run leaves

# hutch killed with SIGKILL: its container dies with it (parent-death signal), the cgroup stays until
# the next run, which removes it with the dead run's directory
killed_hutch() {
        local out=$work/out2 line pid
        as_user mkfifo "$out"
        # vm-as, setpriv and env all exec: $! is hutch itself
        "$VM_AS" "$user" "$HUTCH" run --storage "$work/store" --policy "$work/accept.json" --rm --memory 32m "$IMG" \
                sh -c 'echo ready; exec sleep 1000' >"$out" 2>&1 &
        pid=$!
        exec 7<"$out"
        read -r -t 120 line <&7
        echo "ready: $line"
        kill -KILL "$pid"
        { wait "$pid"; } 2>/dev/null
        exec 7<&-
        echo "after kill: $(leaves | grep -c .)"
        hrun --rm --memory 32m "$IMG" true
        echo "after the next run: $(leaves | grep -c .)"
}
record killed-hutch killed_hutch

# ---- refusals with a reason ----

# hutch's own cgroup holds processes and its parent does too (this script's shell stays in
# vm-test.scope while hutch runs in a child of it): no controller can be given to a sibling.
busy_parent() {
        mkdir "$VM_CGROUP/inner" && chown "$user:" "$VM_CGROUP/inner" "$VM_CGROUP/inner/cgroup.procs"
        VM_AS_CGROUP=$VM_CGROUP/inner "$VM_AS" "$user" "$HUTCH" run --storage "$work/store" --policy "$work/accept.json" \
                --rm --memory 32m "$IMG" true
        local rc=$?
        rmdir "$VM_CGROUP/inner"
        return $rc
}
echo $$ >"$VM_CGROUP/cgroup.procs"
record busy-parent busy_parent
echo $$ >/sys/fs/cgroup/cgroup.procs

# A cgroup root made and did not delegate: its parent is root's.
not_delegated() {
        local other=/sys/fs/cgroup/user.slice/user-$uid.slice/other.scope
        mkdir "$other"
        VM_AS_CGROUP=$other "$VM_AS" "$user" "$HUTCH" run --storage "$work/store" --policy "$work/accept.json" \
                --rm --pids-limit 10 "$IMG" true
        local rc=$?
        VM_AS_CGROUP=$other "$VM_AS" "$user" "$HUTCH" doctor >"$R/doctor-not-delegated.out" 2>&1
        rmdir "$other"
        return $rc
}
record not-delegated not_delegated

# ---- hutch-runtime with linux.resources ----

bundle=$work/bundle
as_user mkdir -p "$bundle"
as_user cp -a "$HUTCH_FIXTURES/busybox-rootfs" "$bundle/rootfs"
(cd "$bundle" && as_user "$HUTCH_RUNTIME" spec --rootless)
# limits, and the container's own cgroup mounted at /sys/fs/cgroup (its cgroup namespace is rooted there)
as_user jq '.process.terminal = false
        | .process.args = ["sh", "-c", "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max /proc/self/cgroup"]
        | .linux.resources = {"memory": {"limit": 33554432}, "pids": {"limit": 20}, "cpu": {"quota": 50000, "period": 100000}}
        | .mounts += [{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "ro"]}]' \
        "$bundle/config.json" >"$work/config.json" && as_user cp "$work/config.json" "$bundle/config.json"
record runtime-run as_user "$HUTCH_RUNTIME" run --bundle "$bundle" rt1
record leaves-after-runtime-run leaves

# create: the cgroup exists with the init in it and is in state.json; exec puts its process in the same
# cgroup (inside the container's cgroup namespace it is the root); delete --force removes it
bundle2=$work/bundle2
as_user mkdir -p "$bundle2"
as_user jq --arg root "$bundle/rootfs" '.root.path = $root | .process.args = ["/payload", "sleep-forever"]' \
        "$bundle/config.json" >"$work/config2.json" && as_user cp "$work/config2.json" "$bundle2/config.json"
lifecycle() {
        as_user "$HUTCH_RUNTIME" create --bundle "$bundle2" rt2 || return 1
        local leaf
        leaf=$(leaves)
        echo "leaf: $leaf"
        echo "procs: $(grep -c . "$parent/$leaf/cgroup.procs")"
        echo "state cgroup: $(jq -r .cgroup "/run/user/$uid/hutch/rt2/state.json")"
        as_user "$HUTCH_RUNTIME" start rt2 || return 1
        echo "exec: $(as_user "$HUTCH_RUNTIME" exec rt2 cat /proc/self/cgroup)"
        as_user "$HUTCH_RUNTIME" delete --force rt2 || return 1
        echo "left: $(leaves | tr '\n' ' ')"
}
record runtime-lifecycle lifecycle

# no CLONE_INTO_CGROUP (clone3 hidden, as a seccomp filter or a kernel before 5.7 would): the launcher
# moves the init into the cgroup before it may run anything
record runtime-no-clone3 as_user "$HUTCH_PAYLOAD" deny clone3 -- "$HUTCH_RUNTIME" --debug run --bundle "$bundle" rt3
record leaves-at-end leaves
exit 0
