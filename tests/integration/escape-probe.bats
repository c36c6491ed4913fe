#!/usr/bin/env bats
# The escape probe (tests/probe/probe.c) as the workload of hutch-runtime's default rootless spec and of
# `hutch run`: every check must come out blocked. The probe runs under a pty that is the caller's
# controlling terminal, so TIOCSTI is tried on a real terminal. SECURITY.md has the same probe's table
# for hutch, bwrap and rootless runc (scripts/probe-table).
load helpers

setup() {
        requires rootless userns probe script
        B="$BATS_TEST_TMPDIR/bundle"
        STATE="$BATS_TEST_TMPDIR/state"
        # a file only the host has: seeing it from inside is an escape
        SENTINEL="$BATS_TEST_TMPDIR/host-sentinel"
        touch "$SENTINEL"
}

probe_bundle() {
        make_bundle "$B" /probe --host-path "$SENTINEL" "$@"
        cp "$HUTCH_PROBE" "$B/rootfs/probe"
}

# Fail on every line that is not "blocked", except the n/a a kernel can cause (no sysrq or kcore
# compiled in) or the probe's being pid 1, and the two syscall probes whose calls the default profile
# lets through on purpose: mknod (device nodes are refused by the kernel in a user namespace:
# mknod-device) and ioctl TIOCSTI on fd -1 (the terminal itself: tiocsti-tty).
check_all_blocked() { # output
        local line name verdict bad="" n=0
        while read -r name verdict _; do
                [ -n "$name" ] || continue
                n=$((n + 1))
                case "$name:$verdict" in
                *:blocked | sysrq-trigger:n/a | kcore-read:n/a | pid1-exe-write:n/a | mknod:reached | tiocsti:reached) ;;
                *) bad+="$name $verdict"$'\n' ;;
                esac
        done <<<"$1"
        [ -z "$bad" ] || fail "not blocked:
$bad
full output:
$1"
        [ "$n" -eq "$("$HUTCH_PROBE" list | wc -l)" ] || fail "$n lines for $("$HUTCH_PROBE" list | wc -l) checks:
$1"
}

@test "escape probe: everything is blocked under hutch-runtime's default rootless spec" {
        probe_bundle
        run under_pty "$HUTCH_RUNTIME" --root "$STATE" run --bundle "$B" "p$RANDOM"
        [ "$status" -eq 0 ] || fail "$output"
        check_all_blocked "$output"
        [[ "$output" == *"tiocsti-tty "*"blocked"*"TIOCSTI on the terminal"* ]] || fail "TIOCSTI was not tried on a terminal: $output"
}

@test "escape probe: the same checks see ALLOWED without seccomp, no_new_privs and namespaces (the probe can tell)" {
        probe_bundle
        update_config "$B" 'del(.linux.seccomp) | .process.noNewPrivileges = false
                | .linux.namespaces |= map(select(.type != "network"))'
        run under_pty "$HUTCH_RUNTIME" --root "$STATE" run --bundle "$B" "p$RANDOM"
        [ "$status" -eq 0 ] || fail "$output"
        local c
        for c in unshare-user io_uring seccomp-mode no-new-privs netlink-route; do
                grep -Eq "^$c +ALLOWED " <<<"$output" || fail "$c is not ALLOWED without the layer that blocks it: $output"
        done
        update_config "$B" '.process.args = ["/probe", "--host-path", "/probe"]'
        run under_pty "$HUTCH_RUNTIME" --root "$STATE" run --bundle "$B" "p$RANDOM"
        grep -Eq "^host-paths +ALLOWED .*/probe" <<<"$output" || fail "a visible path is not reported: $output"
}

@test "escape probe: everything is blocked under hutch run's defaults" {
        requires subuid newuidmap jq
        fixtures
        local S="$BATS_TEST_TMPDIR/store" policy="$BATS_TEST_TMPDIR/accept.json" pdir="$BATS_TEST_TMPDIR/probe-dir"
        echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$policy"
        export XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/config" XDG_STATE_HOME="$BATS_TEST_TMPDIR/state"
        mkdir "$pdir"
        cp "$HUTCH_PROBE" "$pdir/probe"
        run "$HUTCH" load -q --storage "$S" --name localhost/busybox:latest "$BUSYBOX_OCI:latest"
        [ "$status" -eq 0 ] || fail "hutch load: $output"
        run under_pty "$HUTCH" run --rm -q --storage "$S" --policy "$policy" -v "$pdir:/p:ro" localhost/busybox:latest \
                /p/probe --host-path "$SENTINEL"
        remove_rootfs_caches
        [ "$status" -eq 0 ] || fail "$output"
        check_all_blocked "$output"
}
