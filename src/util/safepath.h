/* The one audited path resolver for untrusted trees (image layers, rootfs, bundles): a path is always
 * resolved inside a root directory fd and can never leave it, through '..', absolute symlinks or
 * /proc magic links. openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) where the kernel has it; a
 * userspace walk, component by component with O_NOFOLLOW, where it does not (tested by forcing it). */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "util/error.h"

#define SAFE_NOFOLLOW (1u << 0)    /* the last component must not be a symlink (ELOOP) */
#define SAFE_NO_SYMLINKS (1u << 1) /* no symlink anywhere in the path (ELOOP) */
#define SAFE_BENEATH (1u << 2)     /* leaving the root by '..' or an absolute symlink is EXDEV, not clamped */

/* Open path (absolute or relative, always taken inside rootfd) with open_flags (O_CLOEXEC is added;
 * O_CREAT creates only the last component). Returns an fd or -errno; err names the path. */
int safe_openat(int rootfd, const char *path, int open_flags, mode_t mode, unsigned flags, struct herror *err);
/* Create each missing directory of path inside rootfd; returns an O_PATH|O_DIRECTORY fd of the last. */
int safe_mkdir_p(int rootfd, const char *path, mode_t mode, struct herror *err);
/* Make sure path exists inside rootfd as a directory (is_dir) or an empty regular file (0644), its
 * parents created; returns an O_PATH fd of it. Used for mount targets. */
int safe_create_target(int rootfd, const char *path, bool is_dir, struct herror *err);
/* Force the userspace walk (tests, CI); HUTCH_NO_OPENAT2=1 in the environment does the same. */
void safepath_force_fallback(bool on);
bool safepath_using_fallback(void);
