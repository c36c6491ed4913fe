#!/usr/bin/env python3
"""Print a hyperfine JSON export as a table of medians (min-max) and ratios to the other rows."""
import json
import statistics
import sys

results = json.load(open(sys.argv[1]))['results']
rows = [(r['command'], statistics.median(r['times']) * 1000, min(r['times']) * 1000, max(r['times']) * 1000)
        for r in results]
med = {name: m for name, m, _, _ in rows}
print(f"{'command':34} {'median ms':>10} {'min-max ms':>15}")
for name, m, lo, hi in rows:
    print(f"{name:34} {m:10.2f} {lo:7.2f}-{hi:<7.2f}")
pairs = [('hutch 1-id', 'runc 1-id'), ('hutch 1-id + default seccomp', 'runc 1-id + hutch\'s seccomp'),
         ('hutch multi-range', 'runc multi-range'), ('hutch 1-id + default seccomp', 'runc 1-id'),
         ('hutch 1-id', 'bwrap'), ('hutch 1-id + default seccomp', 'bwrap')]
print()
for a, b in pairs:
    if a in med and b in med:
        print(f"{a} / {b}: {med[a] / med[b]:.2f}")
