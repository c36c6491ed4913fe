/* Syscall probes (syscalls.c): each makes one call with harmless arguments and returns its raw result,
 * errno set on failure. */
#pragma once
#include <stddef.h>

struct syscall_probe {
        const char *name;
        long (*probe)(void);
};

extern const struct syscall_probe syscall_probes[];
extern const size_t n_syscall_probes;

/* Run p in a forked child: its result (0, or -1 with errno set), and in *ret_killed_by the signal that
 * killed the child (a seccomp kill action), else 0. */
long syscall_probe_run(const struct syscall_probe *p, int *ret_killed_by);
/* "EPERM" for EPERM, "E<n>" for a number without a name. */
const char *syscall_errno_name(int e);
/* The probe called name, or NULL. */
const struct syscall_probe *syscall_probe_find(const char *name);
