#!/usr/bin/env bash
# bench/audit.sh: the cost of the audit trail.
#   1. `hutch audit verify` over a log of N records (default 1,000,000; BENCH_QUICK=1: 100,000), chained
#      like the real writer's (each record a real start record with its seq/prev/time changed), timed in
#      BENCH_AUDIT_VERIFY_RUNS rounds (default 5). Goal (issue 10): >= 1M records/s.
#   2. One launch (`hutch-runtime run` of /bin/true, rootless) with audit off vs on (the file sink: flock,
#      tail read, sha256, one O_APPEND write, fdatasync), interleaved. bench/run.sh does the same for
#      `hutch run --rm`.
# Output: $BENCH_OUT/audit-verify.json, audit-launch.json.
# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"
if [ "${BENCH_QUICK:-0}" = 1 ]; then
        records=${BENCH_AUDIT_RECORDS:-100000} verify_runs=1
else
        records=${BENCH_AUDIT_RECORDS:-1000000} verify_runs=${BENCH_AUDIT_VERIFY_RUNS:-5}
fi

# ---- a bundle and one real record as the template ------------------------------------------------
make_bundle "$work/bundle" seccomp
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
"$hutch" audit verify "$work/big.log" >/dev/null || die "audit verify rejected the generated log"
timer --runs "$verify_runs" --warmup 1 --out "$out/audit-verify.json" \
        --note "records=$records bytes=$(stat -c %s "$work/big.log")" \
        -n "hutch audit verify" "$hutch audit verify $work/big.log"
rm -f "$work/big.log"

# ---- 2. one launch, audit off vs on ---------------------------------------------------------------
timer --runs "$runs" --warmup 3 --out "$out/audit-launch.json" --note "$(mount_note)" \
        -n "hutch-runtime run, audit off" "$runtime --root $work/h --audit off run --bundle $work/bundle b1" \
        -n "hutch-runtime run, audit on (file)" "$runtime --root $work/h --audit best-effort --audit-log $work/launch.log run --bundle $work/bundle b1"
"$hutch" audit verify "$work/launch.log" >/dev/null || die "audit verify rejected the launches' log"
python3 "$bench_dir/summarize.py" --show "$out/audit-verify.json" "$out/audit-launch.json"
