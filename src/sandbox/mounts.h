/* The container's filesystem view, built in the child inside its own mount namespace. Every target
 * is resolved inside the rootfs with the safe resolver and mounted by file descriptor (new mount API),
 * so a symlink planted in the image can never redirect a mount to the host. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "spec/spec.h"
#include "util/error.h"

struct rootfs_state {
        int rootfd;    /* the container root (a mount of its own), valid before and after pivot_root */
        int devnullfd; /* the host's /dev/null, taken before anything in the image is looked at */
        int procfd;    /* a private procfs mount (detached) of the container's pid namespace, or -1 */
};

#define ROOTFS_STATE_INIT                                   \
        {                                                   \
                .rootfd = -1, .devnullfd = -1, .procfd = -1 \
        }

/* An ephemeral container root (hutch run): the image's cached rootfs as the read-only lower layer of an
 * overlayfs whose upper and work directories live on a tmpfs mounted inside the container's own mount
 * namespace, on root.path (an empty directory). Whatever the container writes exists only in that
 * namespace: when its last process ends the kernel frees it, so nothing is left on disk even when
 * hutch itself is killed, and the shared image cache is never written. */
enum overlay_mode {
        OVERLAY_AUTO,   /* native overlayfs, and fuse-overlayfs where the kernel refuses it */
        OVERLAY_NATIVE, /* native only: its refusal is the error */
        OVERLAY_FUSE,   /* fuse-overlayfs only (HUTCH_OVERLAY=fuse: tests, or a kernel whose overlay misbehaves) */
        _OVERLAY_MODE_MAX,
        _OVERLAY_MODE_INVALID = -EINVAL,
};

/* "auto", "native", "fuse" (HUTCH_OVERLAY); NULL or "" is auto. */
int overlay_mode_from_string(const char *s);

struct rootfs_overlay {
        const char *lower;   /* absolute path of the image's rootfs cache */
        uint64_t tmpfs_size; /* bytes; 0 = the kernel's default (half of RAM) */
        bool userxattr;      /* in a user namespace: overlay keeps its metadata in user.* xattrs */
        enum overlay_mode mode;
};

/* The fuse-overlayfs fallback (sandbox/fuse-overlay.h): called in the child with the /dev/fuse descriptor of
 * a FUSE mount made but not yet attached, and why native overlayfs is not used; returns once the launcher
 * runs fuse-overlayfs on it. */
struct rootfs_fuse_hook {
        int (*start)(int fusefd, const char *why, void *userdata, struct herror *err);
        void *userdata;
};

/* Everything up to and including pivot_root: propagation, rootfs (bind, or overlay when ov is not
 * NULL; fuse NULL: no fuse-overlayfs fallback), mounts, /dev, masked and read-only paths, read-only root. */
int rootfs_setup(const struct spec *s, int bundle_dirfd, const struct rootfs_overlay *ov,
                 const struct rootfs_fuse_hook *fuse, struct rootfs_state *st, struct herror *err);
/* Write linux.sysctl through the private procfs (never through a path the container controls). */
int rootfs_apply_sysctl(const struct spec *s, const struct rootfs_state *st, struct herror *err);
void rootfs_state_release(struct rootfs_state *st);
/* The SELinux context= a mount of this type gets from linux.mountLabel (tmpfs and mqueue), or NULL. */
const char *rootfs_mount_context(const struct spec *s, const char *type);
/* A new procfs instance of the caller's pid namespace, mounted detached: a /proc the container cannot
 * reach or replace. */
int rootfs_private_proc(struct herror *err);
