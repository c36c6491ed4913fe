#!/usr/bin/env bash
# bench/audit.sh: the cost of the audit trail.
#   1. `hutch audit verify` over a log of N records (default 1,000,000), chained like the real writer's
#      (each record a real start record with its seq/prev/time changed).
#   2. One launch (`hutch-runtime run` of /bin/true, rootless) with audit off vs on (the file sink:
#      flock, tail read, sha256, one O_APPEND write, fdatasync), hyperfine medians.
# Run as an unprivileged user with user namespaces (scripts/bench does that for root).
#   HUTCH=build-release/hutch HUTCH_RUNTIME=build-release/hutch-runtime bench/audit.sh
set -eu
cd "$(dirname "$0")/.."
records=${BENCH_AUDIT_RECORDS:-1000000}
runs=${BENCH_RUNS:-40}
hutch=${HUTCH:-$PWD/build/hutch}
runtime=${HUTCH_RUNTIME:-$(dirname "$hutch")/hutch-runtime}
work=$(mktemp -d /tmp/hutch-bench-audit.XXXXXX)
trap 'rm -rf "$work"' EXIT
out=${BENCH_OUT:-$PWD/bench/results}
mkdir -p "$out"

# ---- a bundle and one real record as the template ------------------------------------------------
mkdir -p "$work/bundle/rootfs/bin" "$work/bundle/rootfs/proc" "$work/bundle/rootfs/dev" "$work/bundle/rootfs/sys"
cp /bin/busybox "$work/bundle/rootfs/bin/busybox"
ln -s busybox "$work/bundle/rootfs/bin/true"
(cd "$work/bundle" && "$runtime" spec --rootless)
jq '.process.terminal=false | .process.args=["/bin/true"]' "$work/bundle/config.json" >"$work/c"
mv "$work/c" "$work/bundle/config.json"
"$runtime" --root "$work/run" --audit-log "$work/template.log" run --bundle "$work/bundle" tmpl

# ---- 1. verify over N records --------------------------------------------------------------------
python3 - "$work/template.log" "$work/big.log" "$records" <<'EOF'
import hashlib, json, sys
tmpl = json.loads(open(sys.argv[1]).readline())
n = int(sys.argv[3])
prev = "0" * 64
with open(sys.argv[2], "w") as f:
    for seq in range(1, n + 1):
        tmpl["seq"] = seq
        tmpl["prev"] = prev
        tmpl["time"] = "2026-11-23T%02d:%02d:%02d.%09dZ" % (seq // 3600000 % 24, seq // 60000 % 60, seq // 1000 % 60, seq % 1000)
        line = json.dumps(tmpl, separators=(",", ":"), ensure_ascii=False)
        prev = hashlib.sha256(line.encode()).hexdigest()
        f.write(line + "\n")
EOF
size=$(stat -c %s "$work/big.log")
start=$(date +%s.%N)
"$hutch" audit verify "$work/big.log" >"$work/verify.out"
end=$(date +%s.%N)
verify_s=$(echo "$end - $start" | bc)
{
        echo "audit verify: $records records, $((size / 1048576)) MiB: ${verify_s} s"
        cat "$work/verify.out"
} | tee "$out/audit-verify.txt"

# ---- 2. one launch, audit off vs on ---------------------------------------------------------------
if command -v hyperfine >/dev/null; then
        hyperfine -N --warmup 3 --runs "$runs" --export-json "$out/audit-launch.json" \
                -n "audit off" "$runtime --root $work/h --audit off run --bundle $work/bundle b1" \
                -n "audit on (file sink)" "$runtime --root $work/h --audit best-effort --audit-log $work/launch.log run --bundle $work/bundle b1" \
                | tee "$out/audit-launch.txt"
        "$hutch" audit verify "$work/launch.log"
else
        echo "hyperfine is not installed: launch cost not measured" | tee "$out/audit-launch.txt"
fi
