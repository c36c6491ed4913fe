#!/usr/bin/env python3
"""bench/timer.py: time commands side by side, interleaved, and write the times as JSON.

    timer.py --out FILE.json [--mode single|sequential|concurrent|rss] [--count K] [--runs N] [--warmup W]
             -n NAME 'COMMAND LINE' [-n NAME 'COMMAND LINE']...

Every round runs each command once, in an order rotated by one per round, so a slow spell on a shared
machine hits every command alike and round k of A can be paired with round k of B (bench/summarize.py
takes ratios per round). One measurement is, by mode:
  single      one start-to-exit of the command (wall clock around posix_spawn + waitpid);
  sequential  COUNT starts one after the other, the total;
  concurrent  COUNT starts at once, until the last one exited;
  rss         one start under GNU time: its %M (peak RSS in KiB of the command and what it waited for).
Leading NAME=VALUE words of a command line set its environment, as in a shell.
'{i}' in a command line becomes the instance number (0..COUNT-1), for runtimes that need a unique
container id per concurrent start. Commands run with stdin and stdout on /dev/null; stderr goes to a
log that is shown when a command fails. The warm-up rounds (not recorded) fail early on a broken command.
A command that fails stops the whole run, unless --keep-going: then it is recorded with its error and left
out of the later rounds (for a known failure that should show in the summary rather than hide the rest).
On a shared machine, --idle-wait S waits up to S seconds before the first round for one second with at
least 90% of the CPUs idle (a sampled interval of /proc/stat, there is nothing to block on), and records
what it saw.
"""
import argparse
import json
import os
import shlex
import sys
import tempfile
import time

GNU_TIME = '/usr/bin/time'


class Failed(Exception):
    pass


class Command:
    def __init__(self, name, line, logdir):
        self.name = name
        self.line = line
        argv = shlex.split(line)
        # leading NAME=VALUE words set the command's environment, as in a shell (no env(1) exec to time)
        self.env = dict(os.environ)
        while argv and '=' in argv[0] and argv[0].split('=', 1)[0].isidentifier():
            k, v = argv.pop(0).split('=', 1)
            self.env[k] = v
        self.argv = argv
        self.times = []
        self.rss = []
        self.error = None
        self.log = os.path.join(logdir, '%d.log' % id(self))
        self.logfd = os.open(self.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)

    def argv_for(self, i):
        return [a.replace('{i}', str(i)) for a in self.argv]

    def spawn(self, argv):
        actions = [(os.POSIX_SPAWN_OPEN, 0, '/dev/null', os.O_RDONLY, 0),
                   (os.POSIX_SPAWN_OPEN, 1, '/dev/null', os.O_WRONLY, 0),
                   (os.POSIX_SPAWN_DUP2, self.logfd, 2)]
        try:
            return os.posix_spawnp(argv[0], argv, self.env, file_actions=actions)
        except OSError as e:
            raise Failed('%s: cannot start %s: %s' % (self.name, argv[0], e.strerror)) from e

    def reap(self, pid):
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            with open(self.log, errors='replace') as f:
                tail = f.read()[-2000:]
            raise Failed('%s: exit status %d\n  command: %s\n  stderr (last lines):\n%s' %
                         (self.name, code, self.line, tail))


def reap_all(cmd, pids):
    """Wait for every pid, then raise the first failure: no child is left behind."""
    first = None
    for pid in pids:
        try:
            cmd.reap(pid)
        except Failed as e:
            first = first or e
    if first:
        raise first


def measure(cmd, mode, count):
    """One measurement of cmd: (seconds, peak RSS KiB or None)."""
    if mode == 'rss':
        with tempfile.NamedTemporaryFile('r') as f:
            argv = [GNU_TIME, '-f', '%M', '-o', f.name] + cmd.argv_for(0)
            t0 = time.perf_counter_ns()
            cmd.reap(cmd.spawn(argv))
            t = time.perf_counter_ns() - t0
            return t / 1e9, int(f.read().split()[-1])
    n = count if mode in ('sequential', 'concurrent') else 1
    t0 = time.perf_counter_ns()
    if mode == 'concurrent':
        pids = []
        try:
            for i in range(n):
                pids.append(cmd.spawn(cmd.argv_for(i)))
        finally:
            reap_all(cmd, pids)
    else:
        for i in range(n):
            cmd.reap(cmd.spawn(cmd.argv_for(i)))
    return (time.perf_counter_ns() - t0) / 1e9, None


def run_rounds(cmds, rounds, mode, count, record, keep_going):
    for r in range(rounds):
        order = cmds[r % len(cmds):] + cmds[:r % len(cmds)]
        for c in order:
            if c.error:
                continue
            try:
                t, rss = measure(c, mode, count)
            except Failed as e:
                if not keep_going:
                    raise
                c.error = str(e)
                print('timer.py: %s (left out of the later rounds)' % e, file=sys.stderr)
                continue
            if record:
                c.times.append(t)
                if rss is not None:
                    c.rss.append(rss)


def cpu_idle(seconds):
    """Share of CPU time idle over the next `seconds`, from /proc/stat."""
    def sample():
        with open('/proc/stat') as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return v[3] + v[4], sum(v[:8])
    i0, t0 = sample()
    time.sleep(seconds)
    i1, t1 = sample()
    return (i1 - i0) / max(t1 - t0, 1)


def wait_for_idle(limit):
    """Up to `limit` seconds for a 1-second interval with >= 90% idle; returns (idle share, seconds waited)."""
    start = time.monotonic()
    idle = cpu_idle(1.0)
    while idle < 0.9 and time.monotonic() - start < limit:
        idle = cpu_idle(1.0)
    return idle, time.monotonic() - start


def parse_args(argv):
    p = argparse.ArgumentParser(description='time commands side by side, interleaved')
    p.add_argument('--out', required=True)
    p.add_argument('--mode', default='single', choices=['single', 'sequential', 'concurrent', 'rss'])
    p.add_argument('--count', type=int, default=1)
    p.add_argument('--runs', type=int, default=20)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--note', default='')
    p.add_argument('--keep-going', action='store_true')
    p.add_argument('--idle-wait', type=float, default=float(os.environ.get('BENCH_IDLE_WAIT', '0')))
    p.add_argument('-n', nargs=2, action='append', metavar=('NAME', 'COMMAND'), required=True)
    a = p.parse_args(argv)
    if a.runs < 1 or a.count < 1:
        p.error('--runs and --count must be at least 1')
    if a.mode == 'rss' and not os.access(GNU_TIME, os.X_OK):
        p.error('%s is missing (Debian package time)' % GNU_TIME)
    return a


def main(argv):
    a = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix='hutch-timer.') as logdir:
        cmds = [Command(name, line, logdir) for name, line in a.n]
        idle = wait_for_idle(a.idle_wait) if a.idle_wait > 0 else None
        try:
            # one warm-up round at least: a broken command fails before anything is recorded
            run_rounds(cmds, max(a.warmup, 1), a.mode, min(a.count, 2), False, a.keep_going)
            run_rounds(cmds, a.runs, a.mode, a.count, True, a.keep_going)
        except Failed as e:
            print('timer.py: %s' % e, file=sys.stderr)
            return 1
    res = {'mode': a.mode, 'count': a.count, 'runs': a.runs, 'note': a.note,
           'results': [{'command': c.name, 'cmdline': c.line, 'times': c.times, **({'rss_kib': c.rss} if c.rss else {}),
                        **({'error': c.error} if c.error else {})}
                       for c in cmds]}
    if idle:
        res['idle_before'] = {'share': round(idle[0], 3), 'waited_s': round(idle[1], 1), 'limit_s': a.idle_wait}
    tmp = a.out + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(res, f, indent=1)
    os.rename(tmp, a.out)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
