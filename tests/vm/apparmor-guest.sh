#!/bin/bash
# apparmor-guest.sh USER: run inside a run-in-vm guest as root (tests/vm/README.md), where Debian's
# kernel has AppArmor active. Loads profiles/apparmor/hutch-default the way an administrator would and
# drives hutch as USER before and after; each step's output goes to $VM_RESULTS/apparmor/NAME.out and its
# exit status to NAME.rc, for tests/integration/apparmor-vm.root.bats to check.
set -u
user=$1
R=$VM_RESULTS/apparmor
mkdir -p "$R"
: "${HUTCH:?}" "${HUTCH_RUNTIME:?}" "${HUTCH_FIXTURES:?}" "${HUTCH_SOURCE_DIR:?}"
IMG=localhost/busybox:latest
home=$(getent passwd "$user" | cut -d: -f6)
work=$home/apparmor-test
profile=$HUTCH_SOURCE_DIR/profiles/apparmor/hutch-default

as_user() { "$VM_AS" "$user" "$@"; }
record() {
        local name=$1
        shift
        "$@" >"$R/$name.out" 2>&1
        echo $? >"$R/$name.rc"
}
hrun() { as_user "$HUTCH" run --storage "$work/store" --policy "$work/accept.json" "$@"; }

# apparmor_parser and hutch's probe read the kernel's state through securityfs
mountpoint -q /sys/kernel/security || mount -t securityfs securityfs /sys/kernel/security
as_user mkdir -p "$work"
echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$work/accept.json"
chown "$user:" "$work/accept.json"

record env sh -c 'uname -r; cat /sys/module/apparmor/parameters/enabled; cat /sys/kernel/security/lsm; echo'
record load as_user "$HUTCH" load -q --storage "$work/store" --name "$IMG" "$HUTCH_FIXTURES/busybox-oci:latest"

# AppArmor active, hutch-default not loaded yet: nothing applied by default, and said so; required refuses
record before hrun --report "$work/before.json" "$IMG" cat /proc/self/attr/current
cp "$work/before.json" "$R/before.json" 2>/dev/null
record require-before hrun --security-opt require=apparmor "$IMG" true
record asked-before hrun --security-opt apparmor=hutch-default "$IMG" true

# the administrator's step
record parser apparmor_parser -r -W "$profile"
record profiles grep '^hutch-default ' /sys/kernel/security/apparmor/profiles

# loaded: the default for every container
record default hrun --report "$work/default.json" "$IMG" cat /proc/self/attr/current
cp "$work/default.json" "$R/default.json" 2>/dev/null
record require-after hrun --security-opt require=apparmor "$IMG" cat /proc/self/attr/current
# what the profile forbids that nothing else does once the other layers step aside: with seccomp and
# Landlock off (Landlock forbids mounts too) and CAP_SYS_ADMIN in the container's user namespace, a tmpfs
# mount works unconfined, and hutch-default denies it
mount_as() { hrun --security-opt seccomp=unconfined --security-opt landlock=off --cap-add SYS_ADMIN "$@" "$IMG" \
                sh -c 'mount -t tmpfs none /tmp && echo mounted'; }
record mount-confined mount_as
record mount-unconfined mount_as --security-opt apparmor=unconfined
# ptrace stays possible inside (the profile's peer rule), with the ci seccomp profile
record ptrace-inside hrun --security-opt seccomp=ci "$IMG" /payload ptrace-child
# a profile that is not loaded: the exec label cannot be set, the run is refused
record unknown hrun --security-opt apparmor=hutch-no-such-profile "$IMG" true

# the OCI path: hutch-runtime with process.apparmorProfile
bundle=$work/bundle
as_user mkdir -p "$bundle"
as_user cp -a "$HUTCH_FIXTURES/busybox-rootfs" "$bundle/rootfs"
(cd "$bundle" && as_user "$HUTCH_RUNTIME" spec --rootless)
as_user sh -c "jq '.process.terminal = false | .process.args = [\"cat\", \"/proc/self/attr/current\"] | .process.apparmorProfile = \"hutch-default\"' \
        '$bundle/config.json' >'$bundle/c.json' && mv '$bundle/c.json' '$bundle/config.json'"
record runtime as_user "$HUTCH_RUNTIME" --root "$work/state" run --bundle "$bundle" aa1
exit 0
