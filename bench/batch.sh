#!/usr/bin/env bash
# bench/batch.sh: many containers, rootless /bin/true, as a CI sandbox would start them:
#   100 one after the other (total wall time; per container = total / 100) and
#   50 started at once (wall time until the last one exited),
# for hutch-runtime run, hutch run --rm, runc run and bwrap, interleaved; podman run --rm only one after
# the other and in fewer rounds (about 0.3 s a container: 100 take half a minute).
#   BENCH_BATCH_RUNS         rounds (default 5; BENCH_QUICK=1: 1)
#   BENCH_PODMAN_BATCH_RUNS  podman's rounds (default 3; BENCH_QUICK=1: 1)
# Output: $BENCH_OUT/batch-sequential.json, batch-concurrent.json, batch-podman.json.
# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"
need runc
if [ "${BENCH_QUICK:-0}" = 1 ]; then
        batch_runs=1 podman_runs=1
else
        batch_runs=${BENCH_BATCH_RUNS:-5} podman_runs=${BENCH_PODMAN_BATCH_RUNS:-3}
fi

make_bundle "$work/plain" seccomp
hutch_store
rows=(-n "hutch-runtime run" "$runtime --root $work/h run --bundle $work/plain b{i}"
      -n "hutch run --rm" "$hrun $image true"
      -n "runc run" "runc --root $work/r run --bundle $work/plain b{i}")
add_bwrap "$work/plain/rootfs"

timer --mode sequential --count 100 --runs "$batch_runs" --warmup 1 --out "$out/batch-sequential.json" \
        --note "$(mount_note)" "${rows[@]}"
python3 "$bench_dir/summarize.py" --show "$out/batch-sequential.json"
# --keep-going: a launcher that fails when many start at once is a result to show, not a reason to stop
timer --mode concurrent --count 50 --runs "$batch_runs" --warmup 1 --keep-going --out "$out/batch-concurrent.json" \
        --note "$(mount_note)" "${rows[@]}"
python3 "$bench_dir/summarize.py" --show "$out/batch-concurrent.json"
if podman_setup; then
        timer --mode sequential --count 100 --runs "$podman_runs" --warmup 1 --out "$out/batch-podman.json" \
                --note "$(mount_note)" -n "podman run --rm" "$pm run --rm --network none $pm_image /bin/true"
        python3 "$bench_dir/summarize.py" --show "$out/batch-podman.json"
fi
