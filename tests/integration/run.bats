#!/usr/bin/env bats
# `hutch run` (issue 6), as an unprivileged user with subordinate IDs: image from the store, trust
# policy, ephemeral overlay rootfs, options with podman's meanings, exit codes, signals, --timeout,
# --report, and that nothing is left behind.
load helpers

IMG=localhost/busybox:latest

setup() {
        requires rootless userns subuid newuidmap jq
        fixtures
        S="$BATS_TEST_TMPDIR/store"
        POLICY="$BATS_TEST_TMPDIR/accept.json"
        echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$POLICY"
        # no user policy may leak in from the test user's home
        export XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/config" XDG_STATE_HOME="$BATS_TEST_TMPDIR/state"
        run "$HUTCH" load -q --storage "$S" --name "$IMG" "$BUSYBOX_OCI:latest"
        [ "$status" -eq 0 ] || fail "hutch load: $output"
}

teardown() {
        # a test that failed midway must not leave a container (and bats waiting on its fds) behind
        local p
        for p in ${BG_PIDS:-}; do kill -KILL "$p" 2>/dev/null || true; done
        [ ! -S "${TMUX_SOCK:-/nonexistent}" ] || tmux -S "$TMUX_SOCK" kill-server 2>/dev/null || true
        remove_rootfs_caches
}

hrun() { "$HUTCH" run --storage "$S" --policy "$POLICY" "$@"; }

# hbg ARGS...: hutch run in the background with its stdout in $OUT; $! is hutch itself.
hbg() {
        "$HUTCH" run --storage "$S" --policy "$POLICY" "$@" >"$OUT" 3>&- &
        BG_PIDS="${BG_PIDS:-} $!"
}

@test "run --rm IMAGE echo hi prints hi; exit 0" {
        run hrun --rm "$IMG" echo hi
        [ "$status" -eq 0 ] || fail "$output"
        [ "$output" = hi ]
}

@test "--log-level debug: the per-phase breakdown of the launch (what bench/ reads)" {
        run hrun --rm "$IMG" true
        [ "$status" -eq 0 ] || fail "$output"
        [[ "$output" != *timing:* ]] || fail "timing printed without --log-level debug: $output"
        run "$HUTCH" --log-level debug run --storage "$S" --policy "$POLICY" --rm "$IMG" true
        [ "$status" -eq 0 ] || fail "$output"
        line=$(grep 'timing: hutch run:' <<<"$output") || fail "no breakdown: $output"
        for p in "image+trust+rootfs" spec "sandbox+start record" workload "end record"; do
                [[ "$line" == *"$p "[0-9]*.[0-9][0-9]" ms"* ]] || fail "phase '$p' missing: $line"
        done
        grep -q 'timing: launcher: .*namespaces + clone' <<<"$output" || fail "no launcher breakdown: $output"
}

@test "a launch without signatures to check never loads libcrypto; a signature check loads it" {
        # the first run unpacks the image (layer digests: libcrypto's SHA-256); the launch after it must not
        hrun --rm "$IMG" true
        run env LD_DEBUG=files "$HUTCH" run --storage "$S" --policy "$POLICY" --rm "$IMG" true
        [ "$status" -eq 0 ] || fail "$output"
        grep -q 'file=libc.so.6' <<<"$output" || fail "LD_DEBUG=files shows no loading at all: $output"
        ! grep -q 'file=libcrypto' <<<"$output" || fail "libcrypto loaded for an unsigned launch"
        export HUTCH_KEY_PASSWORD=test-pass
        "$HUTCH" key generate --output-key-prefix "$BATS_TEST_TMPDIR/k" >/dev/null
        "$HUTCH" sign --storage "$S" --key "$BATS_TEST_TMPDIR/k.key" "$IMG" >/dev/null
        local pol="$BATS_TEST_TMPDIR/signed.json"
        jq -n --arg k "$BATS_TEST_TMPDIR/k.pub" '{default: [{type: "reject"}], transports: {docker: {"localhost/busybox": [{type: "sigstoreSigned", keyPath: $k}]}}}' >"$pol"
        run env LD_DEBUG=files "$HUTCH" run --storage "$S" --policy "$pol" --rm "$IMG" echo signed-ok
        [ "$status" -eq 0 ] && [[ "$output" == *signed-ok* ]] || fail "$status $output"
        grep -q 'file=libcrypto' <<<"$output" || fail "the signature check did not load libcrypto: $output"
}

@test "the compiled seccomp filter is cached per user, also when XDG_CACHE_HOME does not exist yet" {
        export XDG_CACHE_HOME="$BATS_TEST_TMPDIR/no/such/cache"
        mkdir -p "$BATS_TEST_TMPDIR/no/such"
        run "$HUTCH" --log-level debug run --storage "$S" --policy "$POLICY" --rm "$IMG" true
        [ "$status" -eq 0 ] || fail "$output"
        grep -q 'seccomp (compiled)' <<<"$output" || fail "first run did not compile: $output"
        [ "$(stat -c %a "$XDG_CACHE_HOME")" = 700 ] || fail "XDG_CACHE_HOME not created 0700"
        [ "$(stat -c %a "$XDG_CACHE_HOME/hutch/seccomp")" = 700 ] || fail "cache directory not 0700"
        ls "$XDG_CACHE_HOME"/hutch/seccomp/*.bpf >/dev/null || fail "no cached program"
        run "$HUTCH" --log-level debug run --storage "$S" --policy "$POLICY" --rm "$IMG" true
        [ "$status" -eq 0 ] || fail "$output"
        grep -q 'seccomp (from cache)' <<<"$output" || fail "second run did not use the cache: $output"
}

@test "the image's Cmd runs when no command is given; --entrypoint replaces it" {
        run hrun "$IMG" </dev/null
        [ "$status" -eq 0 ] || fail "image Cmd /bin/sh with no stdin: $output"
        run hrun --entrypoint /bin/echo "$IMG" a b
        [ "$output" = "a b" ] || fail "--entrypoint: $output"
}

@test "exit codes: the command's, 125, 126, 127, 128+signal" {
        run hrun "$IMG" sh -c 'exit 3'
        [ "$status" -eq 3 ] || fail "exit 3: $status $output"
        run -127 hrun "$IMG" /no/such/command
        [ "$status" -eq 127 ] || fail "not found: $status $output"
        run hrun "$IMG" /etc/passwd
        [ "$status" -eq 126 ] || fail "not executable: $status $output"
        run hrun --no-such-option "$IMG" true
        [ "$status" -eq 125 ] && [[ "$output" == *"--no-such-option"* ]] || fail "bad option: $status $output"
        run hrun localhost/not-loaded true
        [ "$status" -eq 125 ] && [[ "$output" == *"not in the store"* ]] || fail "missing image: $status $output"
        run hrun --privileged "$IMG" true
        [ "$status" -eq 125 ] && [[ "$output" == *"--privileged"* ]] || fail "--privileged: $status $output"
}

@test "a container killed by a signal: 128 + the signal" {
        OUT="$BATS_TEST_TMPDIR/fifo"
        mkfifo "$OUT"
        hbg "$IMG" sh -c 'echo ready; exec sleep 60'
        local pid=$! line= st=0 child
        exec 4<"$OUT"
        read -r -t 10 line <&4 || fail "no ready line"
        child=$(pgrep -P "$pid")
        [ -n "$child" ] || fail "no container process under hutch $pid"
        # the container is hutch's only child: no user-namespace holder or first init stage is left over
        [ "$(wc -l <<<"$child")" -eq 1 ] || fail "hutch $pid has more children than the container: $(ps -o pid,stat,args --ppid "$pid")"
        kill -KILL "$child"
        wait "$pid" || st=$?
        exec 4<&-
        [ "$st" -eq 137 ] || fail "status $st"
}

@test "stdin only with -i; stdout and stderr pass through unbuffered and apart" {
        run bash -c 'echo data | "$0" run --storage "$1" --policy "$2" -i "$3" cat' "$HUTCH" "$S" "$POLICY" "$IMG"
        [ "$output" = data ] || fail "-i: $output"
        run bash -c 'echo data | "$0" run --storage "$1" --policy "$2" "$3" cat' "$HUTCH" "$S" "$POLICY" "$IMG"
        [ "$status" -eq 0 ] && [ -z "$output" ] || fail "without -i the container must not read our stdin: $output"
        run bash -c '"$0" run --storage "$1" --policy "$2" "$3" sh -c "echo out; echo err >&2" 2>/dev/null' "$HUTCH" "$S" "$POLICY" "$IMG"
        [ "$output" = out ] || fail "stdout: $output"
        run bash -c '"$0" run --storage "$1" --policy "$2" "$3" sh -c "echo out; echo err >&2" 2>&1 >/dev/null' "$HUTCH" "$S" "$POLICY" "$IMG"
        [ "$output" = err ] || fail "stderr: $output"
        # unbuffered: the first line arrives while the container still runs
        OUT="$BATS_TEST_TMPDIR/fifo"
        mkfifo "$OUT"
        hbg "$IMG" sh -c 'echo first; exec sleep 30'
        local pid=$! line=
        exec 4<"$OUT"
        read -r -t 10 line <&4 || true
        kill -KILL "$pid"
        wait "$pid" || true
        exec 4<&-
        [ "$line" = first ] || fail "first line did not arrive while the container ran: '$line'"
}

@test "-v rw and ro; files written as root inside belong to the user outside" {
        mkdir "$BATS_TEST_TMPDIR/rw" "$BATS_TEST_TMPDIR/ro"
        echo x >"$BATS_TEST_TMPDIR/ro/f"
        run hrun -v "$BATS_TEST_TMPDIR/rw:/rw" -v "$BATS_TEST_TMPDIR/ro:/ro:ro" "$IMG" sh -c 'echo y >/rw/new && cat /ro/f && echo z >/ro/f'
        [ "$status" -ne 0 ] || fail "write to a ro volume succeeded"
        [[ "$output" == x*"Read-only file system"* ]] || fail "$output"
        [ "$(cat "$BATS_TEST_TMPDIR/rw/new")" = y ]
        [ "$(stat -c %u "$BATS_TEST_TMPDIR/rw/new")" = "$(id -u)" ]
        [ "$(cat "$BATS_TEST_TMPDIR/ro/f")" = x ]
        run hrun -v ../relative:/x "$IMG" true
        [ "$status" -eq 125 ] && [[ "$output" == *"neither an absolute host path nor a volume name"* ]] || fail "relative source: $output"
        run hrun -v "$BATS_TEST_TMPDIR/rw:/x:bogus" "$IMG" true
        [ "$status" -eq 125 ] && [[ "$output" == *"bogus"* ]] || fail "bad option: $output"
}

@test "--mount and --tmpfs; --read-only with and without --read-only-tmpfs" {
        mkdir "$BATS_TEST_TMPDIR/m"
        run hrun --mount "type=bind,source=$BATS_TEST_TMPDIR/m,destination=/m,ro" --tmpfs /scratch:size=1m "$IMG" \
                sh -c 'touch /scratch/a && ! touch /m/a 2>/dev/null && grep " /scratch " /proc/mounts'
        [ "$status" -eq 0 ] && [[ "$output" == *tmpfs* ]] || fail "$output"
        run hrun --read-only "$IMG" touch /x
        [ "$status" -ne 0 ] && [[ "$output" == *"Read-only file system"* ]] || fail "--read-only: $status $output"
        run hrun --read-only "$IMG" touch /tmp/x
        [ "$status" -ne 0 ] || fail "/tmp writable without --read-only-tmpfs"
        run hrun --read-only --read-only-tmpfs "$IMG" sh -c 'touch /tmp/x /var/tmp/y /run/z && ! touch /x 2>/dev/null'
        [ "$status" -eq 0 ] || fail "--read-only-tmpfs: $output"
        run hrun --read-only-tmpfs "$IMG" true
        [ "$status" -eq 125 ] || fail "--read-only-tmpfs alone must be refused"
}

@test "writes go to the container's own layer: the image and the next container never see them" {
        run hrun "$IMG" sh -c 'echo changed >/etc/motd; rm /bin/ls; cat /etc/motd'
        [ "$output" = changed ] || fail "$output"
        run hrun "$IMG" sh -c 'test -e /etc/motd || echo clean; test -e /bin/ls && echo ls-there'
        [ "$output" = "clean"$'\n'"ls-there" ] || fail "second container saw the first one's writes: $output"
}

@test "-e, --env-file, --env-host, -w, -h" {
        printf '%s\n' '# comment' 'FROMFILE=1' 'OVER=file' >"$BATS_TEST_TMPDIR/env"
        run env HOSTVAR=h "$HUTCH" run --storage "$S" --policy "$POLICY" --env-file "$BATS_TEST_TMPDIR/env" -e OVER=cli -e HOSTVAR \
                -w /tmp -h box "$IMG" sh -c 'echo $FROMFILE $OVER $HOSTVAR $container $(pwd) $(hostname)'
        [ "$output" = "1 cli h hutch /tmp box" ] || fail "$output"
        run hrun -e '=x' "$IMG" true
        [ "$status" -eq 125 ] || fail "bad -e accepted"
        run hrun --env-file /nonexistent "$IMG" true
        [ "$status" -eq 125 ] && [[ "$output" == *"/nonexistent"* ]] || fail "$output"
}

@test "-u numbers and names; --userns=keep-id keeps the user's uid inside and on files outside" {
        run hrun -u 1000:1000 "$IMG" id
        [[ "$output" == "uid=1000 gid=1000"* ]] || fail "-u 1000:1000: $output"
        run hrun -u nobody "$IMG" id -u
        [ "$output" = 65534 ] || fail "-u nobody: $output"
        run hrun -u nosuchuser "$IMG" id
        [ "$status" -eq 125 ] && [[ "$output" == *"nosuchuser"*"/etc/passwd"* ]] || fail "$output"
        mkdir "$BATS_TEST_TMPDIR/v"
        run hrun --userns=keep-id -v "$BATS_TEST_TMPDIR/v:/v" "$IMG" sh -c 'id -u; touch /v/f'
        [ "$output" = "$(id -u)" ] || fail "keep-id inside: $output"
        [ "$(stat -c %u "$BATS_TEST_TMPDIR/v/f")" = "$(id -u)" ]
}

@test "--cap-drop=all empties every set; --cap-add adds one; --network none has only lo, and it is up" {
        run hrun --cap-drop=all "$IMG" grep -E '^Cap(Eff|Prm|Bnd):' /proc/self/status
        [ "$(echo "$output" | awk '{print $2}' | sort -u)" = 0000000000000000 ] || fail "$output"
        run hrun --cap-drop=all --cap-add=net_raw "$IMG" grep CapBnd /proc/self/status
        [ "$(echo "$output" | awk '{print $2}')" = 0000000000002000 ] || fail "$output"
        run hrun "$IMG" sh -c 'ls /sys/class/net; cat /sys/class/net/lo/flags'
        [ "$output" = "lo"$'\n'"0x9" ] || fail "network none: $output"
}

@test "--timeout: the stop signal after the time, SIGKILL after the grace; the report says so" {
        # The command is pid 1 of its namespace: the kernel drops signals it has no handler for, so a
        # plain `sleep` would only end by SIGKILL (as with podman without --init).
        local t0=$SECONDS
        run hrun --timeout 1 --report "$BATS_TEST_TMPDIR/r1.json" "$IMG" sh -c 'trap "exit 42" TERM; sleep 60 & wait'
        [ "$status" -eq 42 ] || fail "status $status: $output"
        [ $((SECONDS - t0)) -lt 8 ] || fail "took $((SECONDS - t0)) s"
        [ "$(jq -r '.exit.timed_out' "$BATS_TEST_TMPDIR/r1.json")" = true ]
        [ "$(jq -r '.exit.status' "$BATS_TEST_TMPDIR/r1.json")" = 42 ]
        run hrun --timeout 1 --stop-signal KILL --report "$BATS_TEST_TMPDIR/r3.json" "$IMG" sleep 60
        [ "$status" -eq 137 ] || fail "--stop-signal KILL: status $status: $output"
        run hrun --timeout 0.5 --stop-timeout 1 --report "$BATS_TEST_TMPDIR/r2.json" "$IMG" sh -c 'trap "" TERM; while :; do sleep 1; done'
        [ "$status" -eq 137 ] || fail "status $status: $output"
        [ "$(jq -r '.exit.signal' "$BATS_TEST_TMPDIR/r2.json")" = 9 ]
}

@test "--report: exit, times, memory and what was enforced" {
        run hrun --cap-drop all --report "$BATS_TEST_TMPDIR/r.json" "$IMG" sh -c 'exit 4'
        [ "$status" -eq 4 ]
        local r="$BATS_TEST_TMPDIR/r.json"
        jq -e '.exit.status == 4 and .exit.signal == null and .exit.timed_out == false' "$r" >/dev/null || fail "$(cat "$r")"
        jq -e '.exit.wall_ms >= 0 and .exit.peak_rss_kb > 0 and (.enforced.capabilities | length) == 0' "$r" >/dev/null || fail "$(cat "$r")"
        jq -e '.enforced.seccomp.profile == "default" and (.enforced.seccomp.sha256 | startswith("sha256:"))' "$r" >/dev/null || fail "$(cat "$r")"
        # the digest of the profile's bytes as shipped (computed when hutch was built)
        [ "$(jq -r .enforced.seccomp.sha256 "$r")" = "sha256:$(sha256sum <"$HUTCH_SOURCE_DIR/profiles/seccomp/default.json" | cut -c1-64)" ] || fail "$(cat "$r")"
        jq -e '.enforced.no_new_privileges and .enforced.network == "none" and (.enforced.uid_map | length) >= 2' "$r" >/dev/null || fail "$(cat "$r")"
        jq -e '.trust.verdict == "accepted" and (.image_digest | startswith("sha256:"))' "$r" >/dev/null || fail "$(cat "$r")"
}

@test "--init: a read-only reaper is pid 1, the command its child; it reaps orphans; TERM ends a command without a handler" {
        run hrun --rm --init "$IMG" sh -c 'echo $$; tr "\0" " " </proc/1/cmdline'
        [ "$status" -eq 0 ] || fail "$output"
        [ "${lines[0]}" = 2 ] || fail "the command should be pid 2: $output"
        [[ "${lines[1]}" == "/dev/init -- sh -c "* ]] || fail "pid 1 is not the reaper: $output"
        run hrun --rm --init "$IMG" sh -c 'echo x >/dev/init'
        [ "$status" -ne 0 ] && [[ "$output" == *"Read-only"* ]] || fail "/dev/init writable: $status $output"
        # an orphan (its parent exits at once) is reparented to pid 1 and must not stay a zombie
        run hrun --rm --init "$IMG" sh -c 'sh -c "sleep 0.2 & exit 0"; sleep 1; grep -l "^State:.*zombie" /proc/[0-9]*/status | wc -l'
        [ "$status" -eq 0 ] && [ "${lines[-1]}" = 0 ] || fail "zombies left: $output"
        # without a handler, pid 1 would ignore TERM; with --init the reaper passes it on: 128+15
        OUT="$BATS_TEST_TMPDIR/fifo"
        mkfifo "$OUT"
        hbg --init "$IMG" sh -c 'echo ready; exec sleep 60'
        local pid=$! line= st=0
        exec 4<"$OUT"
        read -r -t 10 line <&4 || fail "no ready line"
        kill -TERM "$pid"
        wait "$pid" || st=$?
        exec 4<&-
        [ "$st" -eq 143 ] || fail "status $st, want 143"
        run hrun --rm --init --init-path /nonexistent "$IMG" true
        [ "$status" -eq 125 ] && [[ "$output" == *"--init-path /nonexistent"* ]] || fail "$status $output"
        run hrun --rm --init-path /bin/true "$IMG" true
        [ "$status" -eq 125 ] && [[ "$output" == *"needs --init"* ]] || fail "$status $output"
}

@test "signals sent to hutch reach the container" {
        OUT="$BATS_TEST_TMPDIR/fifo"
        mkfifo "$OUT"
        hbg "$IMG" sh -c 'trap "echo got-usr1; exit 7" USR1; echo ready; sleep 60 & wait'
        local pid=$! line= st=0
        exec 4<"$OUT"
        read -r -t 10 line <&4 || fail "no ready line"
        kill -USR1 "$pid"
        read -r -t 10 line <&4 || true
        wait "$pid" || st=$?
        exec 4<&-
        [ "$st" -eq 7 ] && [ "$line" = got-usr1 ] || fail "status $st, line '$line'"
}

@test "nothing is left behind: normal end, killed container, and hutch killed with SIGKILL" {
        hrun --rm "$IMG" true
        hrun --rm "$IMG" sh -c 'kill -KILL $$' || true
        [ -z "$(ls -A "$S/containers")" ] || fail "left: $(ls -A "$S/containers")"
        ! grep -q "$S" /proc/self/mountinfo || fail "mounts left on the host"

        OUT="$BATS_TEST_TMPDIR/fifo"
        mkfifo "$OUT"
        hbg --rm "$IMG" sh -c 'echo ready; exec sleep 100'
        local pid=$! line= child
        exec 4<"$OUT"
        read -r -t 10 line <&4 || fail "no ready line"
        child=$(pgrep -P "$pid" | head -1)
        kill -KILL "$pid"
        wait "$pid" || true
        exec 4<&-
        # the container dies with hutch (parent-death signal): wait for it without polling
        [ -z "$child" ] || timeout 10 tail --pid="$child" -f /dev/null || fail "container $child outlived hutch"
        [ -n "$(ls -A "$S/containers")" ] || fail "expected the dead run's directory before the next command"
        hrun --rm "$IMG" true
        [ -z "$(ls -A "$S/containers")" ] || fail "the next run did not clean up: $(ls -A "$S/containers")"
}

@test "50 runs started at once on one store all run, and leave nothing behind (twice)" {
        # a run's fresh directory must not look like a dead run's to another run sweeping the store
        hrun --rm "$IMG" true
        local i round pids failed
        for round in 1 2; do
                pids=() failed=0
                for i in $(seq 50); do
                        hrun --rm "$IMG" sh -c "echo ok-$i" >"$BATS_TEST_TMPDIR/out.$i" 2>&1 &
                        pids+=($!)
                done
                for i in "${!pids[@]}"; do
                        wait "${pids[$i]}" || { failed=$((failed + 1)); echo "run $((i + 1)): $(cat "$BATS_TEST_TMPDIR/out.$((i + 1))")" >&3; }
                done
                [ "$failed" -eq 0 ] || fail "round $round: $failed of 50 concurrent runs failed"
                for i in $(seq 50); do
                        [ "$(cat "$BATS_TEST_TMPDIR/out.$i")" = "ok-$i" ] || fail "round $round, run $i: $(cat "$BATS_TEST_TMPDIR/out.$i")"
                done
                [ -z "$(ls -A "$S/containers")" ] || fail "left: $(ls -A "$S/containers")"
        done
}

@test "an image rejected by policy never runs: exit 125 with the reason, nothing unpacked" {
        local reject="$BATS_TEST_TMPDIR/reject.json"
        echo '{"default":[{"type":"reject"}]}' >"$reject"
        local S2="$BATS_TEST_TMPDIR/store2"
        "$HUTCH" load -q --storage "$S2" --name "$IMG" "$BUSYBOX_OCI:latest"
        run "$HUTCH" run --storage "$S2" --policy "$reject" "$IMG" touch /tmp/ran
        [ "$status" -eq 125 ] && [[ "$output" == *"rejected by the trust policy"*"$reject"* ]] || fail "$status $output"
        [ -z "$(ls -A "$S2/rootfs")" ] || fail "the image was unpacked: $(ls -A "$S2/rootfs")"
        # no --policy and no policy file: the built-in default rejects
        run "$HUTCH" run --storage "$S2" "$IMG" true
        [ "$status" -eq 125 ] && [[ "$output" == *"built-in default policy"* ]] || fail "$status $output"
        run "$HUTCH" run --storage "$S2" --policy "$BATS_TEST_TMPDIR/missing.json" "$IMG" true
        [ "$status" -eq 125 ] && [[ "$output" == *"missing.json"* ]] || fail "$status $output"
}

@test "-it under tmux: a working shell, window size, Ctrl-C reaches the container" {
        requires tty
        local sock="$BATS_TEST_TMPDIR/tmux.sock" out="$BATS_TEST_TMPDIR/tty-out"
        TMUX_SOCK=$sock
        tmux -S "$sock" new-session -d -x 100 -y 30 \
                "$(printf '%q ' "$HUTCH" run --storage "$S" --policy "$POLICY" -it "$IMG" sh); echo EXIT=\$? >$out; sleep 30" 3>&-
        local i
        wait_pane() {
                for i in $(seq 100); do tmux -S "$sock" capture-pane -p | grep -q "$1" && return 0; sleep 0.1; done
                fail "pane never showed '$1': $(tmux -S "$sock" capture-pane -p)"
        }
        wait_pane '#'
        tmux -S "$sock" send-keys 'stty size' Enter
        wait_pane '30 100'
        tmux -S "$sock" resize-window -x 90 -y 25 2>/dev/null || tmux -S "$sock" resize-pane -x 90 -y 25
        tmux -S "$sock" send-keys 'stty size' Enter
        wait_pane '25 90'
        # Ctrl-C once sleep runs (the shell prints the marker only after executing the line)
        tmux -S "$sock" send-keys 'echo st$((1+1))rt; sleep 100' Enter
        wait_pane 'st2rt'
        tmux -S "$sock" send-keys C-c
        tmux -S "$sock" send-keys 'echo after-$((6*7))' Enter
        wait_pane 'after-42'
        tmux -S "$sock" send-keys 'exit 5' Enter
        for i in $(seq 100); do [ -s "$out" ] && break; sleep 0.1; done
        tmux -S "$sock" kill-server || true
        [ "$(cat "$out")" = EXIT=5 ] || fail "exit: $(cat "$out")"
}

@test "audit: start and end records name the user, the image digest and the verdict; a refusal is recorded" {
        local log="$BATS_TEST_TMPDIR/audit.log"
        run hrun --audit-log "$log" --name job1 "$IMG" sh -c 'exit 6'
        [ "$status" -eq 6 ]
        run jq -sc '[.[] | {event, uid: .user.uid, name: .user.name, entry, image: .image.ref, digest: .image.digest, verdict: .trust.verdict, exit: .exit.status, cname: .container.name}]' "$log"
        [[ "$output" == *'"event":"start","uid":'"$(id -u)"',"name":"'"$(id -un)"'","entry":"run","image":"'"$IMG"'"'* ]] || fail "$output"
        [[ "$output" == *'"event":"end"'*'"exit":6,"cname":"job1"'* ]] || fail "$output"
        [ "$(jq -r 'select(.event=="start") | .image.digest' "$log")" = "$(jq -r 'select(.event=="end") | .image.digest' "$log")" ]
        [[ "$(jq -r 'select(.event=="start") | .image.digest' "$log")" == sha256:* ]]
        run "$HUTCH" audit verify "$log"
        [ "$status" -eq 0 ] || fail "verify: $output"

        echo '{"default":[{"type":"reject"}]}' >"$BATS_TEST_TMPDIR/reject.json"
        run "$HUTCH" run --storage "$S" --policy "$BATS_TEST_TMPDIR/reject.json" --audit-log "$log" "$IMG" true
        [ "$status" -eq 125 ]
        [ "$(jq -r 'select(.event=="refusal") | .trust.verdict' "$log")" = rejected ] || fail "$(tail -1 "$log")"
        [[ "$(jq -r 'select(.event=="refusal") | .reason' "$log")" == *"rejected by the trust policy"* ]]
        run "$HUTCH" run --storage "$S" --policy "$POLICY" --audit-log "$log" -v ../relative:/x "$IMG" true
        [ "$status" -eq 125 ]
        [[ "$(tail -1 "$log" | jq -r '.event + " " + .reason')" == "refusal "*"volume name"* ]] || fail "$(tail -1 "$log")"
        run "$HUTCH" audit verify "$log"
        [ "$status" -eq 0 ] || fail "verify: $output"
}

@test "--audit required: a log that cannot be written stops the run before the command" {
        mkdir "$BATS_TEST_TMPDIR/ro" && chmod 0500 "$BATS_TEST_TMPDIR/ro"
        run hrun --audit required --audit-log "$BATS_TEST_TMPDIR/ro/sub/audit.log" "$IMG" touch /tmp/ran
        [ "$status" -eq 125 ] || fail "$status $output"
        run hrun --audit best-effort --audit-log "$BATS_TEST_TMPDIR/ro/sub/audit.log" "$IMG" echo ran
        [ "$status" -eq 0 ] && [[ "$output" == *ran* ]] || fail "best-effort: $status $output"
}

@test "a signed image runs under a sigstoreSigned policy; the same bytes under another name do not" {
        export HUTCH_KEY_PASSWORD=test-pass
        "$HUTCH" key generate --output-key-prefix "$BATS_TEST_TMPDIR/k" >/dev/null
        "$HUTCH" sign --storage "$S" --key "$BATS_TEST_TMPDIR/k.key" "$IMG" >/dev/null
        "$HUTCH" tag --storage "$S" "$IMG" localhost/other:latest
        local pol="$BATS_TEST_TMPDIR/signed.json"
        jq -n --arg k "$BATS_TEST_TMPDIR/k.pub" '{default: [{type: "reject"}], transports: {docker: {"localhost/busybox": [{type: "sigstoreSigned", keyPath: $k}]}}}' >"$pol"
        local log="$BATS_TEST_TMPDIR/audit.log"
        run "$HUTCH" run --storage "$S" --policy "$pol" --audit-log "$log" "$IMG" echo signed-ok
        [ "$status" -eq 0 ] && [ "$output" = signed-ok ] || fail "$status $output"
        [[ "$(jq -r 'select(.event=="start") | .trust.key_id' "$log")" == sha256:* ]] || fail "$(head -1 "$log")"
        run "$HUTCH" run --storage "$S" --policy "$pol" localhost/busybox true
        [ "$status" -eq 0 ] || fail "$output"
        run "$HUTCH" run --storage "$S" --policy "$pol" localhost/other:latest true
        [ "$status" -eq 125 ] && [[ "$output" == *rejected* ]] || fail "other name: $status $output"
        # a key dropped from the policy stops the very next run: nothing is cached
        jq -n '{default: [{type: "reject"}]}' >"$pol"
        run "$HUTCH" run --storage "$S" --policy "$pol" "$IMG" true
        [ "$status" -eq 125 ] || fail "$status $output"
}

@test "named volumes: created on first use, kept across containers, listed, inspected, removed" {
        # a file of another uid inside is a subordinate id's outside: rm must still remove it
        run hrun -v data:/data "$IMG" sh -c 'echo kept >/data/f && mkdir /data/d && touch /data/d/x && chown -R 1000:1000 /data/d'
        [ "$status" -eq 0 ] || fail "$output"
        run hrun --mount type=volume,source=data,destination=/d,ro "$IMG" sh -c 'cat /d/f; ! touch /d/g 2>/dev/null'
        [ "$status" -eq 0 ] && [ "$output" = kept ] || fail "second container: $status $output"
        run "$HUTCH" volume ls --storage "$S" -q
        [ "$output" = data ] || fail "ls: $output"
        local mp
        mp=$("$HUTCH" volume inspect --storage "$S" data | jq -r '.[0].Mountpoint')
        [ "$(cat "$mp/f")" = kept ] && [ "$(stat -c %u "$mp/f")" = "$(id -u)" ] || fail "mountpoint $mp"
        run "$HUTCH" volume create --storage "$S" data
        [ "$status" -eq 125 ] && [[ "$output" == *"already exists"* ]] || fail "create twice: $output"
        run "$HUTCH" volume create --storage "$S" ../evil
        [ "$status" -eq 125 ] && [[ "$output" == *"volume name"* ]] || fail "bad name: $output"
        run "$HUTCH" volume rm --storage "$S" data
        [ "$status" -eq 0 ] || fail "rm: $output"
        [ ! -e "$mp" ] && [ -z "$("$HUTCH" volume ls --storage "$S" -q)" ] || fail "not removed"
        run "$HUTCH" volume rm --storage "$S" data
        [ "$status" -eq 125 ] || fail "rm of a missing volume succeeded"
        run "$HUTCH" volume rm -f --storage "$S" data
        [ "$status" -eq 0 ] || fail "rm -f: $output"
}
