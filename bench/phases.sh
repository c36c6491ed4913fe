#!/usr/bin/env bash
# bench/phases.sh: where one `hutch run --rm IMAGE true` spends its time. Runs
# `hutch --log-level debug run --rm IMAGE true` BENCH_PHASE_RUNS times (default 30; BENCH_QUICK=1: 3) and
# takes the median of every phase of its three timing lines (monotonic clock, in the processes themselves):
#   timing: hutch run: ...   the CLI's phases, from option parsing to cleanup
#   timing: launcher: ...    inside "sandbox+start record": seccomp, clone, id maps + the init's setup
#   timing: init: ...        the container init's own steps before exec
# Output: $BENCH_OUT/phases.json.
# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"
if [ "${BENCH_QUICK:-0}" = 1 ]; then
        phase_runs=3
else
        phase_runs=${BENCH_PHASE_RUNS:-30}
fi

hutch_store
for _ in $(seq "$phase_runs"); do
        "$hutch" --log-level debug run --storage "$store" --policy "$policy" --rm "$image" true 2>&1 >/dev/null |
                grep 'timing: ' >>"$work/timing.log" || die "hutch printed no timing lines (is it built from this tree?)"
done

python3 - "$work/timing.log" "$out/phases.json" "$phase_runs" <<'EOF'
import json, re, sys
phases = {}
for line in open(sys.argv[1]):
    m = re.search(r'timing: (hutch run|launcher|init): (.*)$', line)
    if not m:
        continue
    for part in m.group(2).split(', '):
        p = re.fullmatch(r'(.*?) (?:\((.*)\) )?([0-9.]+) ms', part.strip())
        if not p:
            sys.exit('phases.sh: cannot read %r in: %s' % (part, line))
        name = p.group(1)
        entry = phases.setdefault(m.group(1), {}).setdefault(name, {'ms': [], 'kinds': {}})
        entry['ms'].append(float(p.group(3)))
        if p.group(2):
            entry['kinds'][p.group(2)] = entry['kinds'].get(p.group(2), 0) + 1
json.dump({'runs': int(sys.argv[3]), 'phases': phases}, open(sys.argv[2], 'w'), indent=1)
EOF
python3 "$bench_dir/summarize.py" --show "$out/phases.json"
