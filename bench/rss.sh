#!/usr/bin/env bash
# bench/rss.sh: the launcher's peak RSS, GNU time %M (the largest resident set of the command and of any
# process it waited for; for podman that is podman itself, conmon double-forks away), interleaved rounds:
# hutch run --rm, hutch-runtime run (default seccomp from the cache, and compiled: HUTCH_SECCOMP_CACHE=0),
# runc run, crun run (where it runs, see startup.sh), bwrap, podman run --rm. Goal (issue 10): <= 4 MiB.
# Output: $BENCH_OUT/rss.json (rss_kib per round).
# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"
need runc
[ -x /usr/bin/time ] || die "/usr/bin/time is not installed (Debian package time)"

make_bundle "$work/b" seccomp
hutch_store
rows=(-n "host /bin/true" "/bin/true"
      -n "hutch run --rm" "$hrun $image true"
      -n "hutch-runtime run" "$runtime --root $work/h run --bundle $work/b b1"
      -n "hutch-runtime run, seccomp compiled" "env HUTCH_SECCOMP_CACHE=0 $runtime --root $work/h run --bundle $work/b b1"
      -n "runc run" "runc --root $work/r run --bundle $work/b b1")
crun_runs "$work/b" && rows+=(-n "crun run" "crun --root $work/c run --bundle $work/b b1")
add_bwrap "$work/b/rootfs"
podman_setup && rows+=(-n "podman run --rm" "$pm run --rm --network none $pm_image /bin/true")

timer --mode rss --runs "$runs" --warmup 1 --out "$out/rss.json" --note "$(mount_note)" "${rows[@]}"
python3 "$bench_dir/summarize.py" --show "$out/rss.json"
