#!/usr/bin/env bats
# hutch's own CLI, the test payload and the fixtures, on the host (no container).

load helpers

@test "hutch --version prints the version, compiled-in features and kernel facts" {
        run "$HUTCH" --version
        [ "$status" -eq 0 ]
        [[ "${lines[0]}" =~ ^hutch\ version\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
        [[ "${lines[1]}" =~ ^features:\ .*\+SECCOMP.*\+CAP.*\+LANDLOCK ]]
        [[ "${lines[2]}" =~ ^kernel:\ user-namespaces=(yes|no)\ landlock-abi=([0-9]+)\ seccomp=(yes|no)\ openat2=(yes|no)$ ]]
        local userns=${BASH_REMATCH[1]} abi=${BASH_REMATCH[2]}
        [[ "${lines[3]}" =~ ^lsm:\  ]]
        # The kernel facts agree with independent probes.
        [ "$abi" = "$("$HUTCH_PAYLOAD" landlock-abi)" ]
        if unshare --user true 2>/dev/null; then
                [ "$userns" = yes ]
        else
                [ "$userns" = no ]
        fi
        # `hutch version` is the same command.
        local long=$output
        run "$HUTCH" version
        [ "$status" -eq 0 ]
        [ "$output" = "$long" ]
}

@test "hutch --help and hutch version --help exit 0 with usage" {
        run "$HUTCH" --help
        [ "$status" -eq 0 ]
        [[ "${lines[0]}" == "Usage: hutch "* ]]
        [[ "$output" == *"version"* ]]
        run "$HUTCH" version --help
        [ "$status" -eq 0 ]
        [[ "${lines[0]}" == "Usage: hutch version"* ]]
}

@test "an unknown command or option exits 125 with a one-line error" {
        run "$HUTCH" frobnicate
        [ "$status" -eq 125 ]
        [ "${#lines[@]}" -eq 1 ]
        [[ "$output" == *"unknown command 'frobnicate'"* ]]
        run "$HUTCH" version --frobnicate
        [ "$status" -eq 125 ]
        run "$HUTCH"
        [ "$status" -eq 125 ]
}

@test "hutch-runtime (the same binary under another name) answers as the OCI runtime" {
        [ "$(readlink -f "$HUTCH_RUNTIME")" = "$(readlink -f "$HUTCH")" ]
        run "$HUTCH_RUNTIME" --help
        [ "$status" -eq 0 ]
        [[ "${lines[0]}" == "Usage: hutch-runtime "* ]]
        run "$HUTCH_RUNTIME" --version
        [ "$status" -eq 0 ]
        [[ "${lines[0]}" =~ ^hutch-runtime\ version\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
        run "$HUTCH_RUNTIME" frobnicate
        [ "$status" -ne 0 ]
        [[ "$output" == *"unknown command 'frobnicate'"* ]]
}

@test "payload: id, cwd, uid_map, gid_map and status match the host" {
        run "$HUTCH_PAYLOAD" id
        [ "$status" -eq 0 ]
        [[ "$output" =~ ^uid=$(id -ru)\ gid=$(id -rg)\ euid=$(id -u)\ egid=$(id -g)\ groups=([0-9,]*)$ ]]
        local g
        for g in ${BASH_REMATCH[1]//,/ }; do
                [[ " $(id -G) " == *" $g "* ]]
        done

        cd "$BATS_TEST_TMPDIR"
        run "$HUTCH_PAYLOAD" cwd
        [ "$output" = "$(pwd -P)" ]

        local want
        want=$(awk '{ printf "%s%s %s %s", (NR > 1 ? ";" : ""), $1, $2, $3 } END { print "" }' /proc/self/uid_map)
        run "$HUTCH_PAYLOAD" uid_map
        [ "$output" = "$want" ]
        want=$(awk '{ printf "%s%s %s %s", (NR > 1 ? ";" : ""), $1, $2, $3 } END { print "" }' /proc/self/gid_map)
        run "$HUTCH_PAYLOAD" gid_map
        [ "$output" = "$want" ]

        want=$(awk '$1 == "CapEff:" { print $2 }' /proc/self/status)
        run "$HUTCH_PAYLOAD" status CapEff NoNewPrivs Seccomp CapAmb
        [ "$status" -eq 0 ]
        [[ "$output" =~ ^CapEff=$want\ NoNewPrivs=[01]\ Seccomp=[0-2]\ CapAmb=[0-9a-f]{16}$ ]]
        run "$HUTCH_PAYLOAD" status CapEff NoSuchField
        [ "$status" -eq 1 ]
        [ "$output" = "CapEff=$want NoSuchField=?" ]
}

@test "payload: write, cat and errno names" {
        local f=$BATS_TEST_TMPDIR/f
        run "$HUTCH_PAYLOAD" write "$f" "hello world"
        [ "$status" -eq 0 ]
        [ "$output" = OK ]
        [ "$(cat "$f")" = "hello world" ]
        run "$HUTCH_PAYLOAD" cat "$f"
        [ "$status" -eq 0 ]
        [ "$output" = "hello world" ]
        run "$HUTCH_PAYLOAD" cat "$BATS_TEST_TMPDIR/missing"
        [ "$status" -eq 1 ]
        [ "$output" = ENOENT ]
        run "$HUTCH_PAYLOAD" write "$BATS_TEST_TMPDIR/missing/f" x
        [ "$status" -eq 1 ]
        [ "$output" = ENOENT ]
        run "$HUTCH_PAYLOAD" write "$BATS_TEST_TMPDIR" x
        [ "$status" -eq 1 ]
        [ "$output" = EISDIR ]
        if [ "$(id -u)" != 0 ]; then # root passes permission checks
                mkdir "$BATS_TEST_TMPDIR/ro"
                chmod 0500 "$BATS_TEST_TMPDIR/ro"
                run "$HUTCH_PAYLOAD" write "$BATS_TEST_TMPDIR/ro/f" x
                [ "$status" -eq 1 ]
                [ "$output" = EACCES ]
        fi
}

@test "payload: fds lists exactly the open descriptors" {
        # Close everything above 2 that bats left open, then add fd 7.
        run bash -c 'for fd in /proc/$$/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
                     exec "$1" fds' _ "$HUTCH_PAYLOAD"
        [ "$status" -eq 0 ]
        [ "$output" = "0 1 2" ]
        run bash -c 'for fd in /proc/$$/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
                     exec 7</dev/null; exec "$1" fds' _ "$HUTCH_PAYLOAD"
        [ "$output" = "0 1 2 7" ]
}

@test "payload: exit, kill-self and signal-wait" {
        run "$HUTCH_PAYLOAD" exit 42
        [ "$status" -eq 42 ]
        run "$HUTCH_PAYLOAD" kill-self TERM
        [ "$status" -eq $((128 + 15)) ]
        run "$HUTCH_PAYLOAD" kill-self SIGKILL
        [ "$status" -eq $((128 + 9)) ]

        local ready=$BATS_TEST_TMPDIR/ready out=$BATS_TEST_TMPDIR/out pid i
        "$HUTCH_PAYLOAD" signal-wait "$ready" >"$out" 3>&- &
        pid=$!
        for ((i = 0; i < 100; i++)); do
                [ -e "$ready" ] && break
                sleep 0.05
        done
        [ -e "$ready" ]
        kill -INT "$pid"
        wait "$pid"
        [ "$(cat "$out")" = SIGINT ]
}

@test "payload: tty reports no terminal on pipes" {
        run "$HUTCH_PAYLOAD" tty </dev/null
        [ "$status" -eq 0 ]
        [ "$output" = "stdin=0 stdout=0 stderr=0 rows=- cols=-" ]
}

@test "payload: tty sees a terminal and its size under tmux" {
        requires tty
        local sock=$BATS_TEST_TMPDIR/tmux.sock out=$BATS_TEST_TMPDIR/out i
        TERM=xterm tmux -S "$sock" new-session -d -x 100 -y 30 \
                "'$HUTCH_PAYLOAD' tty 2>&1 >'$out.tmp'; mv '$out.tmp' '$out'" 3>&-
        for ((i = 0; i < 100; i++)); do
                [ -e "$out" ] && break
                sleep 0.05
        done
        tmux -S "$sock" kill-server 2>/dev/null || true
        [ "$(cat "$out")" = "stdin=1 stdout=0 stderr=1 rows=30 cols=100" ]
}

@test "payload: syscall probes report errno names on the host" {
        run "$HUTCH_PAYLOAD" syscall list
        [ "$status" -eq 0 ]
        [[ " $output " == *" mount "* && " $output " == *" clone3-newuser "* && " $output " == *" tiocsti "* ]]
        run "$HUTCH_PAYLOAD" syscall tiocsti # fd -1
        [ "$output" = EBADF ]
        run "$HUTCH_PAYLOAD" syscall mount # nonexistent target
        [ "$output" = ENOENT ]
        run "$HUTCH_PAYLOAD" syscall ptrace # pid above PID_MAX_LIMIT
        [ "$output" = ESRCH ]
        run "$HUTCH_PAYLOAD" syscall reboot # bad magic
        if [ "$(id -u)" = 0 ]; then
                [ "$output" = EINVAL ]
        else
                [ "$output" = EPERM ]
        fi
        run "$HUTCH_PAYLOAD" syscall no-such-probe
        [ "$status" -eq 2 ]
}

@test "fixtures: busybox-oci is an OCI layout whose image runs /bin/sh as root-owned files" {
        requires jq
        fixtures
        run umoci ls --layout "$BUSYBOX_OCI"
        [ "$status" -eq 0 ]
        [ "$output" = latest ]
        local manifest config layer
        manifest=$(jq -r '.manifests[0].digest' "$BUSYBOX_OCI/index.json")
        config=$(jq -r '.config.digest' "$BUSYBOX_OCI/blobs/${manifest/://}")
        layer=$(jq -r '.layers[0].digest' "$BUSYBOX_OCI/blobs/${manifest/://}")
        [ "$(jq -c '.config.Cmd' "$BUSYBOX_OCI/blobs/${config/://}")" = '["/bin/sh"]' ]
        run tar -tvzf "$BUSYBOX_OCI/blobs/${layer/://}"
        [ "$status" -eq 0 ]
        [[ "$output" == *" 0/0 "*" bin/sh -> busybox"* ]]
        [[ "$output" == *" 0/0 "*" payload"* ]]
        [[ "$output" =~ drwxrwxrwt\ 0/0\ .*\ tmp/ ]]
        # Nothing in the layer belongs to the user who built it.
        [ -z "$(grep -v ' 0/0 ' <<<"$output")" ]
}

@test "fixtures: busybox-rootfs runs busybox and the payload on the host" {
        fixtures
        "$BUSYBOX_ROOTFS/bin/busybox" true
        [ "$("$BUSYBOX_ROOTFS/bin/sh" -c 'echo hi')" = hi ]
        [ "$(readlink "$BUSYBOX_ROOTFS/usr/bin/env")" = ../../bin/busybox ]
        [ "$(readlink "$BUSYBOX_ROOTFS/bin/ls")" = busybox ]
        cmp "$BUSYBOX_ROOTFS/payload" "$HUTCH_PAYLOAD"
        [ "$(stat -c %a "$BUSYBOX_ROOTFS/tmp")" = 1777 ]
        grep -qx 'root:x:0:0:root:/root:/bin/sh' "$BUSYBOX_ROOTFS/etc/passwd"
        grep -q '^nobody:x:65534:65534:' "$BUSYBOX_ROOTFS/etc/passwd"
        grep -qx 'nobody:x:65534:' "$BUSYBOX_ROOTFS/etc/group"
        [ -d "$BUSYBOX_ROOTFS/proc" ]
        [ -d "$BUSYBOX_ROOTFS/sys" ]
        [ -d "$BUSYBOX_ROOTFS/dev" ]
}

@test "make_bundle copies the rootfs and edits what 'hutch-runtime spec' wrote" {
        # A stand-in runtime, so this checks make_bundle itself whatever state the real spec is in.
        local fake=$BATS_TEST_TMPDIR/fake-runtime b=$BATS_TEST_TMPDIR/bundle
        cat >"$fake" <<EOF
#!/bin/sh
[ "\$1 \$2" = "spec --help" ] && exit 0
echo "\$*" >"$BATS_TEST_TMPDIR/spec-args"
echo '{"ociVersion":"1.2.0","process":{"terminal":true,"args":["sh"]},"root":{"path":"rootfs"}}' >config.json
EOF
        chmod +x "$fake"
        HUTCH_RUNTIME=$fake make_bundle "$b" /payload write /tmp/x "a b"
        [ "$(jq -c .process.args "$b/config.json")" = '["/payload","write","/tmp/x","a b"]' ]
        [ "$(jq .process.terminal "$b/config.json")" = false ]
        cmp "$b/rootfs/payload" "$HUTCH_PAYLOAD"
        [ -L "$b/rootfs/bin/sh" ]
        if [ "$(id -u)" = 0 ]; then
                [ "$(cat "$BATS_TEST_TMPDIR/spec-args")" = spec ]
        else
                [ "$(cat "$BATS_TEST_TMPDIR/spec-args")" = "spec --rootless" ]
        fi
}

@test "make_bundle with the real hutch-runtime spec" {
        make_bundle "$BATS_TEST_TMPDIR/bundle" /payload id
        [ "$(jq -r .root.path "$BATS_TEST_TMPDIR/bundle/config.json")" = rootfs ]
        [ "$(jq -c .process.args "$BATS_TEST_TMPDIR/bundle/config.json")" = '["/payload","id"]' ]
}

@test "the root runner ran these tests as hutch-test, with subordinate ids and a runtime dir" {
        if [ "$HUTCH_RUNNER_UID" != 0 ] || [ -n "${HUTCH_TEST_AS_ROOT:-}" ]; then
                skip "the runner did not start as root"
        fi
        [ "$(id -u)" != 0 ]
        [ "$(id -un)" = hutch-test ]
        [ "$HUTCH_RUN_AS" = hutch-test ]
        [ "$(grep -c "^hutch-test:[0-9]*:65536$" /etc/subuid)" = 1 ]
        [ "$(grep -c "^hutch-test:[0-9]*:65536$" /etc/subgid)" = 1 ]
        [ "$XDG_RUNTIME_DIR" = "/run/user/$(id -u)" ]
        [ "$(stat -c '%u %a' "$XDG_RUNTIME_DIR")" = "$(id -u) 700" ]
        [ -w "$HOME" ]
        # Capabilities are gone, not just the uid.
        [ "$("$HUTCH_PAYLOAD" status CapEff CapPrm)" = "CapEff=0000000000000000 CapPrm=0000000000000000" ]
}
