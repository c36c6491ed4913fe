#!/usr/bin/env python3
"""seccomp-table.py INPUT OUTPUT SYMBOL: write a C file defining `const struct spec_seccomp_table SYMBOL`
(src/spec/build.h) from an OCI linux.seccomp profile, so a launch with hutch's default profile builds the
typed profile from static data instead of parsing 13 KB of JSON. Anything this script does not know
fails the build; tests/unit/test-spec.c checks that the table equals what spec_parse_seccomp makes of
the same file."""
import json
import sys

src, out, sym = sys.argv[1:4]
prof = json.load(open(src))

ACTIONS = {'SCMP_ACT_KILL': 'KILL_THREAD', 'SCMP_ACT_KILL_THREAD': 'KILL_THREAD',
           'SCMP_ACT_KILL_PROCESS': 'KILL_PROCESS', 'SCMP_ACT_TRAP': 'TRAP', 'SCMP_ACT_ERRNO': 'ERRNO',
           'SCMP_ACT_TRACE': 'TRACE', 'SCMP_ACT_ALLOW': 'ALLOW', 'SCMP_ACT_LOG': 'LOG'}
OPS = {'SCMP_CMP_' + o: o for o in ('NE', 'LT', 'LE', 'EQ', 'GE', 'GT', 'MASKED_EQ')}


def fail(msg):
    sys.exit('%s: %s' % (src, msg))


def only(obj, allowed, where):
    extra = set(obj) - set(allowed)
    if extra:
        fail('%s: %s not handled by scripts/seccomp-table.py' % (where, ', '.join(sorted(extra))))


def action(name, where):
    if name not in ACTIONS:
        fail('%s: action %s not handled by scripts/seccomp-table.py' % (where, name))
    return 'SECCOMP_ACT_' + ACTIONS[name]


def c_str(s):
    if not all(c.isalnum() or c in '_' for c in s):
        fail('unexpected characters in %r' % s)
    return '"%s"' % s


only(prof, ('comment', 'defaultAction', 'defaultErrnoRet', 'architectures', 'syscalls'), 'profile')
lines = ['/* generated from %s by scripts/seccomp-table.py */' % src.split('/')[-1], '#include "spec/build.h"', '']
rules = []
for i, r in enumerate(prof.get('syscalls') or []):
    where = 'syscalls[%d]' % i
    only(r, ('comment', 'names', 'action', 'errnoRet', 'args'), where)
    lines.append('static const char *const names_%d[] = { %s, NULL };'
                 % (i, ', '.join(c_str(n) for n in r['names'])))
    args = r.get('args') or []
    for k, a in enumerate(args):
        only(a, ('index', 'value', 'valueTwo', 'op'), '%s.args[%d]' % (where, k))
        if a['op'] not in OPS:
            fail('%s.args[%d]: op %s not handled' % (where, k, a['op']))
    if args:
        lines.append('static const struct spec_seccomp_arg args_%d[] = { %s };' % (i, ', '.join(
            '{ %d, UINT64_C(%d), UINT64_C(%d), SECCOMP_OP_%s }'
            % (a['index'], a.get('value', 0), a.get('valueTwo', 0), OPS[a['op']]) for a in args)))
    errno = r.get('errnoRet')
    rules.append('{ names_%d, %s, %s, %d, %s, %d }' % (
        i, action(r['action'], where), 'true' if errno is not None else 'false', errno or 0,
        'args_%d' % i if args else 'NULL', len(args)))
arches = prof.get('architectures') or []
lines.append('static const char *const architectures[] = { %s };'
             % ', '.join([c_str(a) for a in arches] + ['NULL']))
lines.append('static const struct spec_seccomp_table_rule rules[] = {\n  %s\n};' % ',\n  '.join(rules))
errno = prof.get('defaultErrnoRet')
lines.append('const struct spec_seccomp_table %s = { %s, %s, %d, %s, rules, %d };' % (
    sym, action(prof['defaultAction'], 'defaultAction'), 'true' if errno is not None else 'false', errno or 0,
    'architectures' if arches else 'NULL', len(rules)))
with open(out, 'w') as f:
    f.write('\n'.join(lines) + '\n')
