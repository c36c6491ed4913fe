#!/usr/bin/env bats
# The audit trail where root is needed to set the stage: a login uid kept across `su -`, a real
# systemd-journald (its own namespace instance, so the host's journal is untouched) and the kernel sink.
load helpers

TEST_USER=hutch-test

setup() {
        requires root jq
        getent passwd "$TEST_USER" >/dev/null || skip "user $TEST_USER does not exist (run-bats creates it)"
        D=$(mktemp -d /tmp/hutch-audit-root.XXXXXX)
        chown "$TEST_USER:" "$D"
        chmod 0755 "$D"
}

teardown() {
        [ -z "${JOURNALD_PID:-}" ] || { kill "$JOURNALD_PID"; wait "$JOURNALD_PID" || true; }
        [ -z "${NS:-}" ] || rm -rf "/run/systemd/journal.$NS" /run/log/journal/*."$NS" /var/log/journal/*."$NS"
        rm -rf "$D"
}

# A rootless bundle owned by the test user, in $D/b.
user_bundle() {
        fixtures
        as_user "cp -a '$BUSYBOX_ROOTFS' '$D/b.rootfs' && mkdir '$D/b' && mv '$D/b.rootfs' '$D/b/rootfs' && cd '$D/b' && '$HUTCH_RUNTIME' spec --rootless"
        jq '.process.terminal = false | .process.args = ["/payload", "exit", "0"]' "$D/b/config.json" >"$D/b/c.json"
        mv "$D/b/c.json" "$D/b/config.json"
        chown "$TEST_USER:" "$D/b/config.json"
}

# A login shell of the test user (like an administrator's `su - user -c`), with this test's log.
as_user() {
        su - "$TEST_USER" -c "export XDG_STATE_HOME='$D/state' XDG_CONFIG_HOME='$D/config'; $1"
}

@test "su - from another login: the records keep the original login uid and name the user" {
        requires userns
        user_bundle
        other=$(id -u hutch-nosubid 2>/dev/null || echo 4242)
        # a login session of $other (what pam_loginuid sets at login), from which root runs su - hutch-test
        # shellcheck disable=SC2016
        bash -c 'echo "$1" >/proc/self/loginuid && exec su - "$2" -c "$3"' _ "$other" "$TEST_USER" \
                "export XDG_STATE_HOME='$D/state'; '$HUTCH_RUNTIME' --root '$D/run' run --bundle '$D/b' lu1" ||
                fail "the run failed"
        log="$D/state/hutch/audit.log"
        [ "$(wc -l <"$log")" -eq 2 ]
        [ "$(jq -r '.user.loginuid' "$log" | sort -u)" = "$other" ]
        [ "$(jq -r '.user.name' "$log" | sort -u)" = "$TEST_USER" ]
        [ "$(jq -r '.user.uid' "$log" | sort -u)" = "$(id -u "$TEST_USER")" ]
        as_user "'$HUTCH' audit verify"
}

@test "the administrator's audit = required (HUTCH_CONFIG) is not weakened by the user's config or flags" {
        requires userns
        user_bundle
        admin="$D/admin.conf"
        adminlog="$D/state/hutch/admin.log"
        printf '# the administrator says\naudit = required\naudit_log = %s\n' "$adminlog" >"$admin"
        chmod 0644 "$admin"
        env="export HUTCH_CONFIG='$admin';"
        run as_user "$env '$HUTCH_RUNTIME' --root '$D/run' --audit off run --bundle '$D/b' adm1"
        [ "$status" -ne 0 ] && [[ "$output" == *"option --audit: audit is fixed by the administrator ($admin:2, with audit = required)"* ]] || fail "$output"
        run as_user "$env '$HUTCH_RUNTIME' --root '$D/run' --audit-log '$D/mine.log' run --bundle '$D/b' adm2"
        [ "$status" -ne 0 ] && [[ "$output" == *"option --audit-log: audit_log is fixed by the administrator ($admin:3"* ]] || fail "$output"
        as_user "mkdir -p '$D/config/hutch' && echo 'audit = best-effort' >'$D/config/hutch/hutch.conf'"
        run as_user "$env '$HUTCH_RUNTIME' --root '$D/run' run --bundle '$D/b' adm3"
        [ "$status" -ne 0 ] && [[ "$output" == *"$D/config/hutch/hutch.conf:1: audit is fixed by the administrator"* ]] || fail "$output"
        [ ! -e "$adminlog" ] && [ ! -e "$D/mine.log" ]
        # repeating the administrator's value is allowed, and the records go where the administrator said
        as_user "echo 'audit = required' >'$D/config/hutch/hutch.conf'"
        as_user "$env '$HUTCH_RUNTIME' --root '$D/run' --audit required run --bundle '$D/b' adm4" || fail "the run failed"
        [ "$(jq -r .event "$adminlog" | tr '\n' ' ')" = "start end " ]
        # an "administrator's" file the user could write is no administrator's file
        cp "$admin" "$D/fake.conf"
        chown "$TEST_USER:" "$D/fake.conf"
        run as_user "export HUTCH_CONFIG='$D/fake.conf'; '$HUTCH_RUNTIME' --root '$D/run' run --bundle '$D/b' adm5"
        [ "$status" -ne 0 ] && [[ "$output" == *"$D/fake.conf: must be owned by root"* ]] || fail "$output"
}

@test "journald and syslog: a real systemd-journald gets the record with _UID and the HUTCH_ fields, and the syslog line" {
        requires userns
        jd=/lib/systemd/systemd-journald
        [ -x "$jd" ] || { hutch_must_work && fail "systemd-journald missing (package systemd)"; skip "no systemd-journald"; }
        NS="hutchtest$$"
        # a namespace instance: its own sockets in /run/systemd/journal.$NS, its own journal files
        "$jd" "$NS" >/dev/null 2>&1 3>&- &
        JOURNALD_PID=$!
        sock="/run/systemd/journal.$NS/socket"
        for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
        [ -S "$sock" ] || fail "journald did not create $sock"
        user_bundle
        # its syslog socket too: the syslog sink against a real consumer
        devlog="/run/systemd/journal.$NS/dev-log"
        [ -S "$devlog" ] || fail "journald did not create $devlog"
        as_user "mkdir -p '$D/config/hutch' && printf 'audit = required\naudit_journald = on\naudit_journald_socket = %s\naudit_syslog = on\naudit_syslog_socket = %s\n' '$sock' '$devlog' >'$D/config/hutch/hutch.conf'"
        as_user "'$HUTCH_RUNTIME' --root '$D/run' run --bundle '$D/b' jd1" || fail "the run failed"
        out=""
        for _ in $(seq 100); do
                out=$(journalctl --namespace="$NS" -o json MESSAGE_ID=93d0e0e18f2a4e2b9c3ec08a8d67a0e5 2>/dev/null || true)
                [ -n "$out" ] && break
                sleep 0.1
        done
        [ -n "$out" ] || fail "no start entry in journal namespace $NS"
        [ "$(echo "$out" | jq -r ._UID)" = "$(id -u "$TEST_USER")" ]
        [ "$(echo "$out" | jq -r .HUTCH_CONTAINER_ID)" = jd1 ]
        [ "$(echo "$out" | jq -r .HUTCH_EVENT)" = start ]
        [ "$(echo "$out" | jq -r .HUTCH_USER_NAME)" = "$TEST_USER" ]
        [ "$(echo "$out" | jq -r .HUTCH_SEQ)" = 1 ]
        # the file log's hash is in the journal: an anchor for the file's chain
        [ "$(echo "$out" | jq -r .HUTCH_HASH)" = "$(sed -n 1p "$D/state/hutch/audit.log" | tr -d '\n' | sha256sum | cut -d' ' -f1)" ]
        sl=$(journalctl --namespace="$NS" -o json _TRANSPORT=syslog SYSLOG_IDENTIFIER=hutch | head -1)
        [ "$(echo "$sl" | jq -r '.SYSLOG_FACILITY + " " + .PRIORITY + " " + ._UID')" = "10 6 $(id -u "$TEST_USER")" ] || fail "syslog: $sl"
        [ "$(echo "$sl" | jq -r .MESSAGE | sed 's/^audit //' | jq -r '.event + " " + .container.id + " " + (.seq|tostring)')" = "start jd1 1" ] || fail "syslog: $sl"
        end=$(journalctl --namespace="$NS" -o json MESSAGE_ID=05b3112233c740a49d51600b63740c2a)
        [ "$(echo "$end" | jq -r '.HUTCH_EXIT_STATUS + " " + .HUTCH_EXIT_SIGNAL + " " + ._UID')" = "0 0 $(id -u "$TEST_USER")" ]
}

@test "kernel audit: root with CAP_AUDIT_WRITE gets the kernel's acknowledgement; required mode passes" {
        grep -q '^CapEff:.*' /proc/self/status
        make_bundle "$D/rb" /payload exit 0
        export XDG_CONFIG_HOME="$D/rconfig"
        mkdir -p "$XDG_CONFIG_HOME/hutch"
        echo 'audit_kernel = on' >"$XDG_CONFIG_HOME/hutch/hutch.conf"
        run "$HUTCH_RUNTIME" --root "$D/rrun" --audit required --audit-log "$D/root.log" run --bundle "$D/rb" k1
        if [[ "$output" == *"kernel audit: not possible here"* ]]; then
                # a kernel without audit, or a container without the initial namespaces: said so, not hidden
                skip "this kernel/namespace has no audit: $output"
        fi
        [ "$status" -eq 0 ] || fail "$output"
        [ "$(wc -l <"$D/root.log")" -eq 2 ]
}
