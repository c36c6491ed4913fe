#!/usr/bin/env bash
# bench/startup.sh: start-to-exit of /bin/true, rootless, interleaved in one run (bench/timer.py):
#   hutch-runtime run vs runc run vs crun run on the same bundle, single-ID map and multi-range map (0 ->
#   the caller, 1..65536 -> its subordinate IDs through newuidmap/newgidmap), without seccomp and with
#   hutch's default profile (hutch loads its cached BPF; runc and crun compile it on every start);
#   bwrap on the same rootfs; the host's own fork/exec of /bin/true as the floor.
# crun 1.8 refuses to start on a hybrid cgroup v1+v2 host ("cgroups in hybrid mode not supported") unless
# /sys/fs/cgroup/unified is absent from its mount namespace: scripts/bench runs this script (as the
# unprivileged user) in a private mount namespace without it. Elsewhere crun's rows are left out with a note.
# Output: $BENCH_OUT/startup.json.
# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"
need runc

make_bundle "$work/plain"
make_bundle "$work/seccomp" seccomp
multi=$(multi_range_filter)
[ -n "$multi" ] && bundle_variant "$work/plain" "$work/multi" "$multi"
[ -n "$multi" ] || note "$(id -un) has no 65536 subordinate IDs: the multi-range rows are left out"

rows=(-n "host /bin/true" "/bin/true")
add_runtime() { # label, command prefix taking "BUNDLE ID"
        rows+=(-n "$1 1-id" "$2 --bundle $work/plain b1"
               -n "$1 1-id + hutch's seccomp" "$2 --bundle $work/seccomp b1")
        [ -z "$multi" ] || rows+=(-n "$1 multi-range" "$2 --bundle $work/multi b1")
}
add_runtime "hutch-runtime" "$runtime --root $work/h run"
add_runtime "runc" "runc --root $work/r run"
crun_runs "$work/plain" && add_runtime "crun" "crun --root $work/c run"
add_bwrap "$work/plain/rootfs"

timer --runs "$runs" --warmup 3 --out "$out/startup.json" --note "$(mount_note)" "${rows[@]}"
python3 "$bench_dir/summarize.py" --show "$out/startup.json"
