/* Run one function of hutch's own code confined to a directory: the second layer of defence around
 * image unpacking (issue 4), so that even a bug in libarchive or a decompressor cannot reach outside
 * the tree being written.
 *
 * The function runs in a child cloned into new user, mount, pid, ipc and network namespaces:
 *   - ID map: rootless with subordinate IDs, 0 -> the caller's ID and 1.. -> the subordinate ranges
 *     (idmap_build_user_map, the same map `hutch run` uses, so owners survive and appear the same in
 *     containers); rootless without them, only the caller's own ID (owners cannot be kept); as real
 *     root the identity map of all 2^32-1 IDs, so owners are kept but capabilities only count inside
 *     the namespace (no device nodes: the kernel refuses mknod of devices outside the initial one);
 *   - the directory becomes the root by pivot_root (the old root is detached, /proc is not mounted),
 *     mounted nosuid, nodev, noexec;
 *   - every descriptor is closed except the ones named in the options and the result channel;
 *   - capabilities: only CHOWN, DAC_OVERRIDE, FOWNER, FSETID, SETFCAP (of the namespace), and no_new_privs;
 *   - a seccomp allowlist of file-system and memory calls, and threads (clone with CLONE_THREAD and no
 *     namespace flag); the network, ptrace, mount API, namespaces, keyctl, bpf, io_uring, exec, new
 *     processes and the like are refused (EPERM), anything not listed gets ENOSYS and foreign-arch calls
 *     kill the child;
 *   - the child dies with its parent (PR_SET_PDEATHSIG), and the parent waits on a pidfd.
 * Errors and results come back over a SOCK_SEQPACKET channel; a child that dies without answering
 * (killed, SIGSYS) is an error. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sandbox/idmap.h"
#include "sandbox/seccomp.h"
#include "util/error.h"

#define ISOLATE_RESULT_MAX 512

/* Decided once for several calls: the ID maps (subordinate IDs read once) and the compiled filter. */
struct isolate_plan {
        struct spec_idmap uid[IDMAP_USER_MAP_MAX], gid[IDMAP_USER_MAP_MAX];
        size_t n_uid, n_gid;
        struct idmap_plan how;
        bool keeps_owners; /* every ID a layer names up to the map's size can be chown'ed to */
        struct seccomp_program seccomp;
};

int isolate_plan_init(struct isolate_plan *ret, struct herror *err);
void isolate_plan_done(struct isolate_plan *p);

/* What the function gets inside. */
struct isolate_child {
        int rootfd;   /* "/" (the directory given), O_RDONLY|O_DIRECTORY */
        void *result; /* ISOLATE_RESULT_MAX bytes, copied to opts.result when fn returns 0 */
        int chan;     /* private */
};

typedef int (*isolate_fn)(struct isolate_child *c, void *arg, struct herror *err);

struct isolate_opts {
        int root_fd;         /* the directory that becomes "/" (O_PATH is enough) */
        const int *keep_fds; /* more descriptors the child keeps, under the same numbers */
        size_t n_keep_fds;
        void *result; /* NULL, or result_size bytes (<= ISOLATE_RESULT_MAX) */
        size_t result_size;
        /* Parent side, for every isolate_progress() of the child. */
        void (*progress)(uint64_t done, uint64_t total, void *userdata);
        void *userdata;
};

/* Run fn(child, arg, err) confined as above and wait for it. fn's error (errno and message) is
 * returned as this call's. */
int sandbox_isolated_call(const struct isolate_plan *p, const struct isolate_opts *o, isolate_fn fn, void *arg,
                          struct herror *err);
/* Child side: report progress to the parent's callback (one small message; call it sparingly). */
void isolate_progress(const struct isolate_child *c, uint64_t done, uint64_t total);
