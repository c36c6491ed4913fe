#!/usr/bin/env bash
# bench/seccomp.sh: what a seccomp profile costs a start, compiled every time vs loaded from hutch's cache
# of compiled BPF ($XDG_CACHE_HOME/hutch/seccomp; HUTCH_SECCOMP_CACHE=0 turns it off), interleaved:
#   hutch-runtime run without seccomp; with hutch's default profile and with podman's (containers-common,
#   /usr/share/containers/seccomp.json, resolved into the OCI section by seccomp-oci.py), each cached and
#   compiled; runc and crun with podman's profile (both compile on every start);
#   hutch run --rm with its default profile and with --security-opt seccomp=PODMAN-PROFILE (hutch reads the
#   Docker format itself), cached and compiled.
# Every hutch row runs under env(1), cached or not, so each pays the same extra exec.
# Output: $BENCH_OUT/seccomp.json.
# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"
need runc
podman_profile=${BENCH_PODMAN_SECCOMP:-/usr/share/containers/seccomp.json}
[ -r "$podman_profile" ] || die "$podman_profile is missing (Debian package golang-github-containers-common)"

make_bundle "$work/none"
make_bundle "$work/default" seccomp
mkdir -p "$work/podman-profile"
cp -al "$work/none/rootfs" "$work/podman-profile/rootfs"
python3 "$bench_dir/seccomp-oci.py" "$podman_profile" "$work/none/config.json" >"$work/podman-profile/config.json"
hutch_store
cache=$work/cache
mkdir -p "$cache"
cached="env XDG_CACHE_HOME=$cache" compiled="env HUTCH_SECCOMP_CACHE=0"
rt() { echo "$runtime --root $work/h run --bundle $work/$1 b1"; }

rows=(-n "hutch-runtime run, no seccomp" "$cached $(rt none)"
      -n "hutch-runtime run, default profile, cached" "$cached $(rt default)"
      -n "hutch-runtime run, default profile, compiled" "$compiled $(rt default)"
      -n "hutch-runtime run, podman's profile, cached" "$cached $(rt podman-profile)"
      -n "hutch-runtime run, podman's profile, compiled" "$compiled $(rt podman-profile)"
      -n "runc run, no seccomp" "runc --root $work/r run --bundle $work/none b1"
      -n "runc run, podman's profile" "runc --root $work/r run --bundle $work/podman-profile b1")
crun_runs "$work/none" &&
        rows+=(-n "crun run, no seccomp" "crun --root $work/c run --bundle $work/none b1"
               -n "crun run, podman's profile" "crun --root $work/c run --bundle $work/podman-profile b1")
rows+=(-n "hutch run --rm, default profile, cached" "$cached $hrun $image true"
       -n "hutch run --rm, default profile, compiled" "$compiled $hrun $image true"
       -n "hutch run --rm, podman's profile, cached" "$cached $hrun --security-opt seccomp=$podman_profile $image true"
       -n "hutch run --rm, podman's profile, compiled" "$compiled $hrun --security-opt seccomp=$podman_profile $image true")

timer --runs "$runs" --warmup 3 --out "$out/seccomp.json" --note "$(mount_note)" "${rows[@]}"
python3 "$bench_dir/summarize.py" --show "$out/seccomp.json"
