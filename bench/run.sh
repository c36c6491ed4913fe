#!/usr/bin/env bash
# bench/run.sh: `hutch run --rm IMAGE true` (image in the store, policy check, rootfs cache, overlay,
# default seccomp, audit record) interleaved with: the same with --audit off (the audit trail's cost), with
# --read-only, without seccomp, and with a single-ID map (no subordinate IDs: root inside is the user and
# no newuidmap/newgidmap runs, as bwrap maps); `hutch --help` (what starting the hutch binary alone costs: exec, dynamic
# linking of its libraries, exit); bwrap on the same unpacked rootfs; rootless `podman run --rm --network
# none` (runc, cgroupfs, overlay) of the same image. Goal (issue 10): hutch run <= 1.5x bwrap, <= 0.1x podman.
# Output: $BENCH_OUT/run.json.
# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"

hutch_store
rows=(-n "hutch run --rm" "$hrun $image true"
      -n "hutch run --rm --audit off" "$hrun --audit off $image true"
      -n "hutch run --rm --read-only" "$hrun --read-only $image true"
      -n "hutch run --rm, seccomp=unconfined" "$hrun --security-opt seccomp=unconfined $image true"
      -n "hutch run --rm, single-ID map (as bwrap)" "HUTCH_SUBUID_FILE=/dev/null HUTCH_SUBGID_FILE=/dev/null $hrun $image true"
      -n "hutch --help (exec, linking, exit)" "$hutch --help")
add_bwrap "$(rootfs_cache)" --tmpfs /tmp
podman_setup && rows+=(-n "podman run --rm" "$pm run --rm --network none $pm_image /bin/true")

timer --runs "$runs" --warmup 3 --out "$out/run.json" --note "$(mount_note)" "${rows[@]}"
python3 "$bench_dir/summarize.py" --show "$out/run.json"
