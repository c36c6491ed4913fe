#!/usr/bin/env bats
# The user's pause namespace (src/sandbox/pause.h): `hutch run` maps the user's IDs once, into a user
# namespace a sleeping process keeps, and makes each container's own user namespace inside it with no
# setuid helper. Each test has its own XDG_RUNTIME_DIR, so its own pause process, killed in teardown.
load helpers

IMG=localhost/busybox:latest

setup() {
        requires rootless userns subuid newuidmap
        fixtures
        S="$BATS_TEST_TMPDIR/store"
        POLICY="$BATS_TEST_TMPDIR/accept.json"
        echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$POLICY"
        export XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/config" XDG_STATE_HOME="$BATS_TEST_TMPDIR/state"
        export XDG_RUNTIME_DIR="$BATS_TEST_TMPDIR/xdg"
        mkdir -m 0700 "$XDG_RUNTIME_DIR"
        PD="$XDG_RUNTIME_DIR/hutch-pause"
        run "$HUTCH" load -q --storage "$S" --name "$IMG" "$BUSYBOX_OCI:latest"
        [ "$status" -eq 0 ] || fail "hutch load: $output"
        SUB=$(awk -F: -v u="$(id -un)" -v n="$(id -u)" '$1 == u || $1 == n { print $2 " " $3; exit }' /etc/subuid)
}

teardown() {
        local p
        for p in ${KILL_PIDS:-}; do kill -KILL "$p" 2>/dev/null || true; done
        [ ! -f "${PD:-/nonexistent}/pause.pid" ] || kill -KILL "$(cut -d' ' -f1 "$PD/pause.pid")" 2>/dev/null || true
        remove_rootfs_caches
}

hrun() { timeout 60 "$HUTCH" run --storage "$S" --policy "$POLICY" --rm "$IMG" "$@"; }

pause_pid() { cut -d' ' -f1 "$PD/pause.pid"; }

# dead (a zombie counts: its parent, init or a subreaper, reaps it when it gets to it), within 10 s
dead() {
        local i
        for i in $(seq 200); do
                [ -e "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null || return 0
                sleep 0.05
        done
        return 1
}

# the map as the kernel prints it, one "inside outside count" per line, single spaces
norm_map() { awk '{ print $1, $2, $3 }' "$1"; }

@test "made on first use with the user's IDs; a sleeping process holding nothing of the launcher's" {
        # command substitution reads to EOF: a pause process holding hutch's stdout would hang it
        out=$(timeout 60 "$HUTCH" run --storage "$S" --policy "$POLICY" --rm "$IMG" echo hi) || fail "status $?: $out"
        [ "$out" = hi ]
        [ "$(stat -c %a "$PD")" = 700 ]
        p=$(pause_pid)
        [ "$(cat "/proc/$p/comm")" = hutch-pause ]
        [ "$(tr '\0' ' ' <"/proc/$p/cmdline")" = "hutch-pause " ] || fail "cmdline: $(tr '\0' ' ' <"/proc/$p/cmdline")"
        [ "$(stat -c %U "/proc/$p")" = "$(id -un)" ]
        [ "$(readlink "/proc/$p/cwd")" = / ]
        [ "$(ps -o sid= -p "$p" | tr -d ' ')" = "$p" ] || fail "not a session leader"
        for fd in "/proc/$p/fd/"*; do
                [ "$(readlink "$fd")" = /dev/null ] || fail "pause keeps $fd -> $(readlink "$fd")"
        done
        [ "$(ls "/proc/$p/fd" | wc -l)" -eq 3 ]
        [ ! -s "/proc/$p/environ" ] || fail "environment: $(tr '\0' ' ' <"/proc/$p/environ")"
        read -r start len <<<"$SUB"
        [ "$(norm_map "/proc/$p/uid_map")" = "$(printf '0 %s 1\n1 %s %s' "$(id -u)" "$start" "$len")" ] ||
                fail "pause uid_map: $(cat "/proc/$p/uid_map")"
        [ "$(readlink "/proc/$p/ns/user")" != "$(readlink /proc/self/ns/user)" ]
}

@test "each container gets its own user namespace inside the pause namespace, with the same host IDs" {
        run hrun sh -c 'cat /proc/self/uid_map; readlink /proc/self/ns/user'
        [ "$status" -eq 0 ] || fail "$output"
        # the container's map, written from inside the pause namespace, is in that namespace's IDs
        [ "$(awk 'NR <= 2 { print $1, $2, $3 }' <<<"$output")" = "$(printf '0 0 1\n1 1 %s' "$(cut -d' ' -f2 <<<"$SUB")")" ] ||
                fail "container uid_map: $output"
        p=$(pause_pid)
        [ "${lines[2]}" != "$(readlink "/proc/$p/ns/user")" ] || fail "the container runs in the pause namespace itself"
        # host IDs: root inside owns files as the user outside, keep-id keeps the user's uid
        mkdir "$BATS_TEST_TMPDIR/vol"
        run timeout 60 "$HUTCH" run --storage "$S" --policy "$POLICY" --rm -v "$BATS_TEST_TMPDIR/vol:/vol" "$IMG" \
                sh -c 'touch /vol/root /vol/one && chown 1 /vol/one'
        [ "$status" -eq 0 ] || fail "$output"
        [ "$(stat -c %u "$BATS_TEST_TMPDIR/vol/root")" = "$(id -u)" ]
        [ "$(stat -c %u "$BATS_TEST_TMPDIR/vol/one")" = "$(cut -d' ' -f1 <<<"$SUB")" ]
        run timeout 60 "$HUTCH" run --storage "$S" --policy "$POLICY" --rm --userns=keep-id "$IMG" id -u
        [ "$status" -eq 0 ] || fail "$output"
        [ "$output" = "$(id -u)" ]
        [ "$(pause_pid)" = "$p" ] || fail "the pause process was replaced"
}

@test "reused while it lives; a killed one is replaced; an unrelated process named by the pid file is left alone" {
        run hrun true
        [ "$status" -eq 0 ] || fail "$output"
        p=$(pause_pid)
        run hrun true
        [ "$(pause_pid)" = "$p" ]
        kill -KILL "$p"
        dead "$p" || fail "$p did not die"
        run hrun echo again
        [ "$status" -eq 0 ] && [ "$output" = again ] || fail "$output"
        q=$(pause_pid)
        [ "$q" != "$p" ] && [ "$(cat "/proc/$q/comm")" = hutch-pause ]
        # the pid file names a process of the user's that is not the pause process (start time differs)
        sleep 1000 3>&- &
        KILL_PIDS=$!
        echo "$! 1" >"$PD/pause.pid"
        run hrun echo ok
        [ "$status" -eq 0 ] && [ "$output" = ok ] || fail "$output"
        kill -0 "$KILL_PIDS" || fail "hutch killed a process that was not its pause process"
        [ "$(pause_pid)" != "$KILL_PIDS" ]
        kill -KILL "$q"
}

@test "a pause namespace mapped from an older /etc/subuid is retired and replaced" {
        run hrun true
        [ "$status" -eq 0 ] || fail "$output"
        p=$(pause_pid)
        # the user's range shrinks (still inside the real one, which newuidmap checks)
        read -r start _ <<<"$SUB"
        f="$BATS_TEST_TMPDIR/subuid"
        echo "$(id -un):$start:1000" >"$f"
        HUTCH_SUBUID_FILE=$f run hrun sh -c 'tail -1 /proc/self/uid_map'
        [ "$status" -eq 0 ] || fail "$output"
        [ "$(awk '{ print $3 }' <<<"$output")" = 1000 ] || fail "uid_map: $output"
        q=$(pause_pid)
        [ "$q" != "$p" ]
        dead "$p" || fail "the old pause process still runs"
        [ "$(norm_map "/proc/$q/uid_map" | tail -1)" = "1 $start 1000" ]
}

@test "concurrent first launches make one pause process" {
        # a range of this run's own, so its pause processes are told from any other of the user's
        read -r start _ <<<"$SUB"
        len=$((1000 + RANDOM % 60000))
        export HUTCH_SUBUID_FILE="$BATS_TEST_TMPDIR/subuid"
        echo "$(id -un):$start:$len" >"$HUTCH_SUBUID_FILE"
        pids=
        for i in 1 2 3 4 5 6; do
                hrun true 3>&- &
                pids="$pids $!"
        done
        for p in $pids; do wait "$p" || fail "a run failed"; done
        n=0
        for q in $(pgrep -u "$(id -u)" -x hutch-pause); do
                [ "$(norm_map "/proc/$q/uid_map" | tail -1)" = "1 $start $len" ] && n=$((n + 1))
        done
        [ "$n" -eq 1 ] || fail "$n pause processes"
}

@test "HUTCH_USERNS_PAUSE=off, or a pause directory others can read: newuidmap on every launch, as before" {
        HUTCH_USERNS_PAUSE=off run hrun sh -c 'head -1 /proc/self/uid_map'
        [ "$status" -eq 0 ] || fail "$output"
        [ "$(awk '{ print $1, $2, $3 }' <<<"$output")" = "0 $(id -u) 1" ] || fail "uid_map: $output"
        [ ! -e "$PD" ] || fail "a pause directory was made"
        mkdir -m 0755 "$PD"
        run timeout 60 "$HUTCH" --log-level debug run --storage "$S" --policy "$POLICY" --rm "$IMG" head -1 /proc/self/uid_map
        [ "$status" -eq 0 ] || fail "$output"
        [[ "$output" == *"is not a private directory"* ]] || fail "no reason given: $output"
        [ "$(grep -E '^ *0 +[0-9]+ +1 *$' <<<"$output" | awk '{ print $1, $2, $3 }')" = "0 $(id -u) 1" ] ||
                fail "uid_map: $output"
        [ ! -e "$PD/pause.pid" ]
}
