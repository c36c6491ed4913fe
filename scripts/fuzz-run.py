#!/usr/bin/env python3
"""fuzz-run.py FUZZER CORPUS CRASHERS SECONDS: run a libFuzzer binary on a scratch copy of CORPUS (the
checked-in corpus is never modified) for SECONDS; a finding is copied to CRASHERS and fails the run."""
import os
import shutil
import subprocess
import sys
import tempfile

fuzzer, corpus, crashers, seconds = sys.argv[1:5]
with tempfile.TemporaryDirectory(prefix='hutch-fuzz-') as tmp:
    work = os.path.join(tmp, 'corpus')
    shutil.copytree(corpus, work)
    artifacts = os.path.join(tmp, 'artifacts') + '/'
    os.mkdir(artifacts)
    # UBSan only reports and carries on unless told to halt, and libFuzzer only saves what kills the run.
    env = dict(os.environ)
    env.setdefault('UBSAN_OPTIONS', 'halt_on_error=1:print_stacktrace=1')
    r = subprocess.run([fuzzer, work, '-max_total_time=' + seconds, '-artifact_prefix=' + artifacts,
                        '-max_len=65536', '-print_final_stats=1'], stderr=subprocess.PIPE, text=True, env=env)
    tail = r.stderr.strip().splitlines()[-12:]
    print('\n'.join(tail))
    found = os.listdir(artifacts)
    if found:
        os.makedirs(crashers, exist_ok=True)
        for f in found:
            shutil.copy(os.path.join(artifacts, f), crashers)
        print('findings kept in', crashers, ':', ', '.join(found))
    sys.exit(1 if (found or r.returncode != 0) else 0)
