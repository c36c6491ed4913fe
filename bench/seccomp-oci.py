#!/usr/bin/env python3
"""bench/seccomp-oci.py PROFILE.json CONFIG.json: print CONFIG.json with linux.seccomp set to PROFILE
(the Docker/containers-common format, e.g. /usr/share/containers/seccomp.json) resolved the way podman
resolves it for that container: the native architecture and its sub-architectures from archMap, and only
the rules whose includes/excludes (caps, arches, minKernel) hold for the container's bounding capabilities,
this machine's architecture and kernel. runc, crun and hutch-runtime then all get the same OCI section."""
import json
import os
import sys

GO_ARCH = {'x86_64': 'amd64', 'aarch64': 'arm64', 'armv7l': 'arm', 'ppc64le': 'ppc64le', 's390x': 's390x',
           'riscv64': 'riscv64', 'i686': '386'}
SCMP_ARCH = {'amd64': 'SCMP_ARCH_X86_64', 'arm64': 'SCMP_ARCH_AARCH64', 'arm': 'SCMP_ARCH_ARM',
             'ppc64le': 'SCMP_ARCH_PPC64LE', 's390x': 'SCMP_ARCH_S390X', 'riscv64': 'SCMP_ARCH_RISCV64',
             '386': 'SCMP_ARCH_X86'}


def kernel_at_least(want):
    have = [int(x) for x in os.uname().release.split('-')[0].split('.')[:2]]
    return have >= [int(x) for x in want.split('.')[:2]]


def applies(rule, caps, arch):
    inc, exc = rule.get('includes') or {}, rule.get('excludes') or {}
    if inc.get('caps') and not all(c in caps for c in inc['caps']):
        return False
    if inc.get('arches') and arch not in inc['arches']:
        return False
    if inc.get('minKernel') and not kernel_at_least(inc['minKernel']):
        return False
    if exc.get('caps') and any(c in caps for c in exc['caps']):
        return False
    if exc.get('arches') and arch in exc['arches']:
        return False
    return True


def convert(profile, caps, arch):
    native = SCMP_ARCH[arch]
    arches = [native]
    for m in profile.get('archMap') or []:
        if m['architecture'] == native:
            arches += m.get('subArchitectures') or []
    out = {'defaultAction': profile['defaultAction'], 'architectures': arches, 'syscalls': []}
    if 'defaultErrnoRet' in profile:
        out['defaultErrnoRet'] = profile['defaultErrnoRet']
    for rule in profile.get('syscalls') or []:
        if not applies(rule, caps, arch):
            continue
        names = rule.get('names') or ([rule['name']] if rule.get('name') else [])
        r = {'names': names, 'action': rule['action']}
        for k in ('errnoRet', 'args'):
            if rule.get(k) is not None:
                r[k] = rule[k]
        out['syscalls'].append(r)
    return out


def main():
    profile = json.load(open(sys.argv[1]))
    config = json.load(open(sys.argv[2]))
    arch = GO_ARCH.get(os.uname().machine)
    if arch not in SCMP_ARCH:
        sys.exit('seccomp-oci.py: architecture %s is not known here' % os.uname().machine)
    caps = set(config.get('process', {}).get('capabilities', {}).get('bounding') or [])
    config.setdefault('linux', {})['seccomp'] = convert(profile, caps, arch)
    json.dump(config, sys.stdout, indent=1)


if __name__ == '__main__':
    main()
