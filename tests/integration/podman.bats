#!/usr/bin/env bats
# Real podman (Debian 12's 4.3) drives hutch-runtime, as an unprivileged user (issue 3).
load helpers

setup_file() {
        export PODMAN_HOME="$BATS_FILE_TMPDIR/podman"
        mkdir -p "$PODMAN_HOME/storage" "$PODMAN_HOME/run"
        # This host: cgroupfs (PID 1 is not systemd), file events, no /dev/net/tun for rootless networks.
        cat >"$PODMAN_HOME/containers.conf" <<CONF
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "hutch"

[engine.runtimes]
hutch = ["$HUTCH_RUNTIME"]
CONF
        cat >"$PODMAN_HOME/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$PODMAN_HOME/storage"
runroot = "$PODMAN_HOME/run"
CONF
}

teardown_file() {
        # podman's --rm runs `podman container cleanup` asynchronously through conmon's exit command; one
        # still running when its storage disappears waits on a lock forever, so end them first.
        pkill -KILL -u "$(id -u)" -f -- "--root $PODMAN_HOME/storage" 2>/dev/null || true
        # the image layers belong to subordinate IDs: remove them from inside podman's user namespace
        podman unshare rm -rf "$PODMAN_HOME" 2>/dev/null || true
}

setup() {
        requires rootless podman subuid newuidmap
        fixtures
        export CONTAINERS_CONF="$PODMAN_HOME/containers.conf" CONTAINERS_STORAGE_CONF="$PODMAN_HOME/storage.conf"
        IMAGE="oci:$BUSYBOX_OCI:latest"
}

pm() { podman --root "$PODMAN_HOME/storage" --runroot "$PODMAN_HOME/run" --storage-driver overlay --cgroup-manager cgroupfs "$@"; }

@test "podman run --rm with hutch-runtime: the workload runs as root of a multi-range user namespace" {
        run pm run --rm --network none "$IMAGE" /payload id
        [ "$status" -eq 0 ] || fail "$output"
        [[ "${lines[-1]}" == "uid=0 gid=0 "* ]] || fail "$output"
        run pm run --rm --network none "$IMAGE" /payload uid_map
        [[ "${lines[-1]}" == "0 $(id -u) 1;1 "*" 65536" ]] || fail "uid_map: $output"
}

@test "podman passes the container's exit status through" {
        run pm run --rm --network none "$IMAGE" /payload exit 3
        [ "$status" -eq 3 ] || fail "status $status: $output"
}

@test "podman run -d, exec, stop and kill" {
        local id
        id=$(pm run -d --network none "$IMAGE" /payload signal-wait)
        [ -n "$id" ]
        run pm exec "$id" /payload id
        [ "$status" -eq 0 ] || fail "exec: $output"
        [[ "${lines[-1]}" == "uid=0 gid=0 "* ]] || fail "exec: $output"
        run pm exec "$id" /payload status NoNewPrivs Seccomp
        [[ "${lines[-1]}" == *"Seccomp=2"* ]] || fail "exec confinement: $output"
        run pm stop -t 5 "$id"
        [ "$status" -eq 0 ] || fail "stop: $output"
        run pm logs "$id"
        [[ "$output" == *SIGTERM* ]] || fail "the workload did not see SIGTERM: $output"
        pm rm "$id" >/dev/null

        id=$(pm run -d --network none "$IMAGE" /payload sleep-forever)
        run pm kill "$id"
        [ "$status" -eq 0 ] || fail "kill: $output"
        run pm wait "$id"
        [ "${lines[-1]}" = 137 ] || fail "wait: $output"
        pm rm -f "$id" >/dev/null
}

@test "podman run -it under tmux gives a working terminal" {
        requires tty
        local sock="$BATS_TEST_TMPDIR/tmux.sock" out
        tmux -S "$sock" new-session -d -x 100 -y 30 \
                "env CONTAINERS_CONF=$CONTAINERS_CONF podman --root $PODMAN_HOME/storage --runroot $PODMAN_HOME/run --storage-driver overlay --cgroup-manager cgroupfs run --rm -it --network none $IMAGE /bin/sh; sleep 30"
        for _ in $(seq 100); do
                out=$(tmux -S "$sock" capture-pane -p)
                [[ "$out" == *"#"* ]] && break
                sleep 0.2
        done
        tmux -S "$sock" send-keys '/payload tty' Enter
        for _ in $(seq 50); do
                out=$(tmux -S "$sock" capture-pane -p)
                [[ "$out" == *"stdin=1 stdout=1 stderr=1"* ]] && break
                sleep 0.2
        done
        tmux -S "$sock" send-keys 'exit' Enter
        tmux -S "$sock" kill-server 2>/dev/null || true
        [[ "$out" == *"stdin=1 stdout=1 stderr=1"* ]] || fail "terminal: $out"
}
