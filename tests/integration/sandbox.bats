#!/usr/bin/env bats
# The sandbox core (issue 3): ID maps, confinement of the default rootless spec, descriptors, exit
# statuses and hostile bundles, through `hutch-runtime run`.
load helpers

setup() {
        requires rootless userns
        B="$BATS_TEST_TMPDIR/bundle"
        STATE="$BATS_TEST_TMPDIR/state"
}

rt() { "$HUTCH_RUNTIME" --root "$STATE" "$@"; }
run_bundle() { rt run --bundle "$B" "c-$BATS_TEST_NUMBER-$RANDOM"; }

# first subordinate range of the current user: "START COUNT"
subrange() {
        awk -F: -v u="$(id -un)" -v i="$(id -u)" '($1==u || $1==i) {print $2, $3; exit}' "/etc/sub$1"
}

multi_range_maps() {
        local us gs
        read -r us _ < <(subrange uid)
        read -r gs _ < <(subrange gid)
        update_config "$B" '.linux.uidMappings = [{"containerID":0,"hostID":($u|tonumber),"size":1},{"containerID":1,"hostID":($s|tonumber),"size":65536}]
                | .linux.gidMappings = [{"containerID":0,"hostID":($g|tonumber),"size":1},{"containerID":1,"hostID":($t|tonumber),"size":65536}]' \
                --arg u "$(id -u)" --arg s "$us" --arg g "$(id -g)" --arg t "$gs"
}

@test "multi-range mapping: both ranges visible inside, id 0, chown lands on subuid+999 outside" {
        requires subuid newuidmap
        make_bundle "$B" /payload uid_map
        multi_range_maps
        local us
        read -r us _ < <(subrange uid)
        run run_bundle
        [ "$status" -eq 0 ] || fail "run failed: $output"
        [ "$output" = "0 $(id -u) 1;1 $us 65536" ] || fail "uid_map inside: $output"

        update_config "$B" '.process.args = ["/payload","id"]'
        run run_bundle
        [[ "$output" == "uid=0 gid=0 "* ]] || fail "id inside: $output"

        mkdir "$BATS_TEST_TMPDIR/vol"
        update_config "$B" '.mounts += [{"destination":"/vol","source":$v,"options":["rbind","rw"]}]
                | .process.args = ["/bin/sh","-c","touch /vol/f && chown 1000:1000 /vol/f"]' --arg v "$BATS_TEST_TMPDIR/vol"
        run run_bundle
        [ "$status" -eq 0 ] || fail "chown inside failed: $output"
        [ "$(stat -c %u "$BATS_TEST_TMPDIR/vol/f")" = "$((us + 999))" ] || fail "owner outside: $(stat -c %u "$BATS_TEST_TMPDIR/vol/f")"
}

@test "single-ID mapping works without newuidmap" {
        make_bundle "$B" /payload uid_map
        run run_bundle
        [ "$status" -eq 0 ] || fail "$output"
        [ "$output" = "0 $(id -u) 1" ]
}

@test "a mapping outside the subordinate ranges is refused naming /etc/subuid and the user" {
        make_bundle "$B" /payload id
        update_config "$B" '.linux.uidMappings += [{"containerID":1,"hostID":4000000000,"size":10}]'
        run run_bundle
        [ "$status" -ne 0 ]
        [[ "$output" == *"/etc/subuid"* && "$output" == *"$(id -un)"* ]] || fail "message: $output"
}

@test "default rootless spec: capabilities, no_new_privs and seccomp as configured" {
        make_bundle "$B" /payload status CapInh CapPrm CapEff CapBnd CapAmb NoNewPrivs Seccomp
        run run_bundle
        [ "$status" -eq 0 ] || fail "$output"
        # podman's default set: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE SYS_CHROOT SETFCAP
        [ "$output" = "CapInh=0000000000000000 CapPrm=00000000800405fb CapEff=00000000800405fb CapBnd=00000000800405fb CapAmb=0000000000000000 NoNewPrivs=1 Seccomp=2" ] \
                || fail "status: $output"
}

@test "default seccomp profile blocks the dangerous calls" {
        make_bundle "$B" /payload syscall mount
        local call
        for call in mount keyctl unshare-user bpf perf_event_open io_uring_setup open_by_handle_at clone3-newuser \
                fsopen move_mount open_tree kexec_load init_module setns pivot_root; do
                update_config "$B" '.process.args = ["/payload","syscall",$c]' --arg c "$call"
                run run_bundle
                [ "$status" -eq 0 ] || fail "$call: $output"
                [[ "$output" == EPERM || "$output" == ENOSYS ]] || fail "$call was not blocked: $output"
        done
}

@test "the same probe succeeds without the filter (the test can tell blocked from allowed)" {
        make_bundle "$B" /payload syscall unshare-user
        update_config "$B" 'del(.linux.seccomp)'
        run run_bundle
        [ "$output" = OK ] || fail "unshare(CLONE_NEWUSER) without seccomp: $output"
}

@test "masked paths are unreadable and read-only paths are read-only" {
        # A masked file reads empty (the host's /dev/null bound over it); /etc/passwd surely has content.
        make_bundle "$B" /payload cat /etc/passwd
        run run_bundle
        [ -n "$output" ] || fail "/etc/passwd is empty even unmasked: the test would prove nothing"
        update_config "$B" '.linux.maskedPaths += ["/etc/passwd"]'
        run run_bundle
        [ "$status" -eq 0 ] && [ -z "$output" ] || fail "masked /etc/passwd: status $status: $output"
        update_config "$B" '.process.args = ["/bin/ls","-A","/proc/acpi"]'
        run run_bundle
        [ "$status" -eq 0 ] && [ -z "$output" ] || fail "/proc/acpi: $output"
        update_config "$B" '.process.args = ["/payload","write","/proc/sys/kernel/hostname","x"]'
        run run_bundle
        [ "$output" = EROFS ] || fail "/proc/sys write: $output"
}

@test "only fds 0-2 reach the container; --preserve-fds passes more" {
        make_bundle "$B" /payload fds
        run run_bundle
        [ "$output" = "0 1 2" ] || fail "fds: $output"
        run bash -c '"$0" --root "$1" run --preserve-fds 1 --bundle "$2" "p$RANDOM" 3</dev/null' "$HUTCH_RUNTIME" "$STATE" "$B"
        [ "$output" = "0 1 2 3" ] || fail "fds with --preserve-fds 1: $output"
}

@test "exit statuses and signals propagate" {
        make_bundle "$B" /payload exit 3
        run run_bundle
        [ "$status" -eq 3 ]
        # The kernel ignores a SIGKILL that PID 1 sends itself from inside its namespace, so the
        # signal comes from outside, as podman's stop would send it.
        update_config "$B" '.process.args = ["/payload","sleep-forever"]'
        rt run --bundle "$B" sig1 3>&- &
        local bg=$! i
        for i in $(seq 200); do
                rt state sig1 2>/dev/null | grep -q '"running"' && break
                sleep 0.05
        done
        rt kill sig1 KILL
        local rc=0
        wait "$bg" || rc=$?
        [ "$rc" -eq 137 ] || fail "status after SIGKILL: $rc"
}

@test "root filesystem is read-only, hostname is set, network has only lo" {
        make_bundle "$B" /payload write /newfile x
        run run_bundle
        [ "$output" = EROFS ] || fail "write to /: $output"
        update_config "$B" '.process.args = ["/bin/hostname"]'
        run run_bundle
        [ "$output" = hutch ] || fail "hostname: $output"
        update_config "$B" '.process.args = ["/bin/ls","/sys/class/net"]'
        run run_bundle
        [ "$output" = lo ] || fail "interfaces: $output"
}

@test "a missing executable is a create error; a non-executable one too" {
        make_bundle "$B" /no/such/program
        run run_bundle
        [ "$status" -ne 0 ]
        [[ "$output" == *"/no/such/program"* ]] || fail "$output"
        make_bundle "$B" nosuchcommand
        run run_bundle
        [[ "$output" == *"executable file not found in \$PATH"* ]] || fail "$output"
}

@test "hostile bundle: bad JSON, duplicate keys, wrong types are refused naming config.json" {
        make_bundle "$B" /payload id
        cp "$B/config.json" "$BATS_TEST_TMPDIR/good.json"
        printf '{"ociVersion": ' >"$B/config.json"
        run run_bundle
        [ "$status" -ne 0 ] && [[ "$output" == *config.json* ]] || fail "truncated: $output"
        printf '{"ociVersion":"1.0.2","ociVersion":"1.0.2"}' >"$B/config.json"
        run run_bundle
        [ "$status" -ne 0 ] && [[ "$output" == *config.json* && "$output" == *uplicate* ]] || fail "duplicate: $output"
        cp "$BATS_TEST_TMPDIR/good.json" "$B/config.json"
        update_config "$B" '.process.user.uid = "0"'
        run run_bundle
        [ "$status" -ne 0 ] && [[ "$output" == *".process.user.uid"* ]] || fail "type: $output"
}

@test "hostile bundle: mount destinations cannot escape the rootfs" {
        make_bundle "$B" /payload id
        local outside="$BATS_TEST_TMPDIR/outside"
        mkdir "$outside"
        # an absolute symlink to a host directory: resolved inside the rootfs, where it dangles -> refused
        ln -s "$outside" "$B/rootfs/evil"
        update_config "$B" '.mounts += [{"destination":"/evil/sub","type":"tmpfs","source":"tmpfs"}]'
        run run_bundle
        [ "$status" -ne 0 ] && [[ "$output" == *".mounts["* ]] || fail "dangling symlink destination: $output"
        [ -z "$(ls -A "$outside")" ] || fail "something was created outside: $(ls -A "$outside")"
        # a relative symlink climbing far above the root is clamped at the root: /up/x is the rootfs's /x
        make_bundle "$B" /bin/ls -d /x
        ln -s ../../../../../../../../.. "$B/rootfs/up"
        update_config "$B" '.mounts += [{"destination":"/up/x","type":"tmpfs","source":"tmpfs"}]'
        run run_bundle
        [ "$status" -eq 0 ] && [ "$output" = /x ] || fail "clamped symlink: $output"
        [ -d "$B/rootfs/x" ] || fail "the mount target was not created inside the rootfs"
        [ ! -e /x ] || fail "/x exists on the host"
        update_config "$B" '.mounts += [{"destination":"/a/../../../etc","type":"tmpfs","source":"tmpfs"}]'
        run run_bundle
        [ "$status" -ne 0 ] && [[ "$output" == *".mounts["* ]] || fail "dotdot: $output"
}

@test "hostile bundle: a symlinked rootfs and a cwd outside the rootfs are refused" {
        make_bundle "$B" /payload cwd
        mv "$B/rootfs" "$B/real"
        ln -s real "$B/rootfs"
        run run_bundle
        [ "$status" -ne 0 ] && [[ "$output" == *"root.path"* ]] || fail "symlinked rootfs: $output"
        rm "$B/rootfs" && mv "$B/real" "$B/rootfs"
        update_config "$B" '.process.cwd = "/proc/self/cwd"'
        run run_bundle
        [ "$status" -ne 0 ] && [[ "$output" == *"cwd"* ]] || fail "magic-link cwd: $output"
        update_config "$B" '.process.cwd = "/../../../.."'
        run run_bundle
        [ "$status" -ne 0 ] && [[ "$output" == *"cwd"* ]] || fail "dotdot cwd: $output"
}

@test "landlock: a host directory reached through an inherited fd cannot be written (and can, with landlock off)" {
        requires landlock
        make_bundle "$B" /payload write /proc/self/fd/3/planted x
        update_config "$B" '.root.readonly = false'
        local host="$BATS_TEST_TMPDIR/hostdir"
        mkdir "$host"
        run bash -c '"$0" --root "$1" run --preserve-fds 1 --bundle "$2" "l$RANDOM" 3<"$3"' "$HUTCH_RUNTIME" "$STATE" "$B" "$host"
        [ "$output" = EACCES ] || fail "with landlock: $output"
        [ ! -e "$host/planted" ] || fail "the file was written on the host"
        update_config "$B" '.annotations["io.github.hutch.landlock"] = "off"'
        run bash -c '"$0" --root "$1" run --preserve-fds 1 --bundle "$2" "l$RANDOM" 3<"$3"' "$HUTCH_RUNTIME" "$STATE" "$B" "$host"
        [ "$output" = OK ] && [ -e "$host/planted" ] || fail "without landlock the write should work (the test proves nothing otherwise): $output"
}

@test "landlock: a bad annotation value fails closed" {
        make_bundle "$B" /payload id
        update_config "$B" '.annotations["io.github.hutch.landlock"] = "bogus"'
        run run_bundle
        [ "$status" -ne 0 ] && [[ "$output" == *io.github.hutch.landlock* ]] || fail "$output"
}

@test "landlock unavailable (forced): the container runs with a hint; required refuses" {
        make_bundle "$B" /payload id
        run "$HUTCH_PAYLOAD" deny landlock -- "$HUTCH_RUNTIME" --log-level info --root "$STATE" run --bundle "$B" ll1
        [ "$status" -eq 0 ] || fail "$output"
        [[ "$output" == *"landlock is not available"* ]] || fail "no hint: $output"
        update_config "$B" '.annotations["io.github.hutch.landlock"] = "required"'
        run "$HUTCH_PAYLOAD" deny landlock -- "$HUTCH_RUNTIME" --root "$STATE" run --bundle "$B" ll2
        [ "$status" -ne 0 ] && [[ "$output" == *"landlock is required"* ]] || fail "$output"
        requires landlock
        run run_bundle
        [ "$status" -eq 0 ] || fail "required, with the kernel offering it: $output"
}

@test "openat2 unavailable (forced): the resolver's fallback keeps mount destinations inside the rootfs" {
        make_bundle "$B" /bin/ls -d /x
        local outside="$BATS_TEST_TMPDIR/outside"
        mkdir "$outside"
        ln -s ../../../../../../../../.. "$B/rootfs/up"
        update_config "$B" '.mounts += [{"destination":"/up/x","type":"tmpfs","source":"tmpfs"}]'
        run "$HUTCH_PAYLOAD" deny openat2 -- "$HUTCH_RUNTIME" --root "$STATE" run --bundle "$B" fb1
        [ "$status" -eq 0 ] && [ "$output" = /x ] || fail "clamped symlink without openat2: $output"
        [ -d "$B/rootfs/x" ] && [ ! -e /x ] || fail "the mount target was not created inside the rootfs"
        ln -s "$outside" "$B/rootfs/evil"
        update_config "$B" '.mounts += [{"destination":"/evil/sub","type":"tmpfs","source":"tmpfs"}]'
        run "$HUTCH_PAYLOAD" deny openat2 -- "$HUTCH_RUNTIME" --root "$STATE" run --bundle "$B" fb2
        [ "$status" -ne 0 ] || fail "dangling absolute symlink accepted without openat2: $output"
        [ -z "$(ls -A "$outside")" ] || fail "something was created outside: $(ls -A "$outside")"
}
