#!/usr/bin/env python3
"""Count test results from meson testlog.json files.

A TAP test contributes one result per 'ok' / 'not ok' line (skips counted apart); a TAP test that
meson marked failed without any failing line (a crash, a bad plan) adds one failure; any other test
counts once by its result. With --final STATUS, a non-zero STATUS (a build that failed) adds one
failure; skips get a line of their own ('N skipped') and the last line printed is exactly
'N passed, N failed', as CI reads it."""
import json
import re
import sys

TAP = re.compile(r'^(not ok|ok)\b(.*)$')
PLAN = re.compile(r'^1\.\.(\d+)')

def count(paths):
    passed = failed = skipped = 0
    failures = []
    for path in paths:
        try:
            lines = open(path, encoding='utf-8', errors='replace').read().splitlines()
        except OSError:
            failed += 1
            failures.append(f'{path}: missing test log')
            continue
        for line in lines:
            t = json.loads(line)
            res = t.get('result')
            tap = [TAP.match(l) for l in (t.get('stdout') or '').splitlines()]
            tap = [m for m in tap if m]
            if tap:
                bad = 0
                for m in tap:
                    directive = m.group(2).lower()
                    if '# skip' in directive:
                        skipped += 1
                    elif m.group(1) == 'ok':
                        passed += 1
                    elif '# todo' in directive:
                        skipped += 1
                    else:
                        failed += 1
                        bad += 1
                        failures.append(f"{t['name']}: {m.group(0)}")
                # cmocka prints skips as "not ok N # SKIP", which meson calls a failure although TAP
                # calls it a skip; so judge by the lines, and count a run that ended early (fewer
                # results than its plan) or crashed without a failing line as one failure.
                plans = [int(m.group(1)) for m in (PLAN.match(l) for l in (t.get('stdout') or '').splitlines()) if m]
                short = bool(plans) and len(tap) < sum(plans)
                exited_badly = t.get('returncode') not in (0, None) and res != 'SKIP'
                if bad == 0 and (short or exited_badly):
                    failed += 1
                    failures.append(f"{t['name']}: {res} (exit {t.get('returncode')})")
            elif res == 'OK':
                passed += 1
            elif res == 'SKIP':
                skipped += 1
            else:
                failed += 1
                failures.append(f"{t['name']}: {res} (exit {t.get('returncode')})")
    return passed, failed, skipped, failures

def main(argv):
    final = None
    if len(argv) > 1 and argv[1] == '--final':
        final = int(argv[2])
        argv = argv[2:]
    passed, failed, skipped, failures = count(argv[1:])
    if final is None:
        return 0
    for f in failures:
        print('FAILED:', f)
    if final != 0:
        failed += 1
    print(f'{skipped} skipped')
    print(f'{passed} passed, {failed} failed')
    return 1 if failed else 0

if __name__ == '__main__':
    sys.exit(main(sys.argv))
