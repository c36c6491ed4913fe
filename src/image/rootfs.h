/* The per-image rootfs cache: all layers of an image unpacked once, in order, into
 * <store>/rootfs/<manifest-hex>.tmp-XXXXXXXX, which is renamed to <store>/rootfs/<manifest-hex> only
 * when every layer unpacked and matched its diff_id. A later call finds the directory and does
 * nothing. Runs under the store's writers' lock. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "image/layout.h"
#include "image/store.h"
#include "image/unpack.h"

struct rootfs_options {
        struct unpack_limits limits;
        bool chown;   /* unconfined only (see unpack_options.chown); the isolated unpacker
                                          * keeps owners exactly when its ID map covers them */
        bool isolate; /* unpack in sandbox_isolated_call(); off: HUTCH_UNPACK_SANDBOX=0 */
        /* Before each layer (index from 0, of count). */
        void (*layer_started)(size_t index, size_t count, const struct oci_descriptor *layer, void *userdata);
        unpack_progress_fn progress; /* within a layer: compressed bytes read / layer size */
        void *userdata;              /* passed to both callbacks */
};

/* UNPACK_LIMITS_DEFAULT, chown when uid 0, isolated unless HUTCH_UNPACK_SANDBOX=0, no callbacks. */
void rootfs_options_init(struct rootfs_options *opts);

/* Make sure the image's rootfs exists; returns an O_RDONLY|O_DIRECTORY fd of it. ret_created (may be
 * NULL) tells whether this call unpacked it. opts NULL = defaults. The fd holds a shared flock() on the
 * tree: while it (or a dup, or a forked copy) is open, rootfs_remove() and store_prune() leave the tree
 * alone (EBUSY), so keep it open for as long as a container's root is built on the tree. */
int rootfs_ensure(struct image_store *s, const struct digest *manifest, const struct rootfs_options *opts, int *ret_fd,
                  bool *ret_created, struct herror *err);
/* "<store>/rootfs/<hex>" (whether or not it exists). */
int rootfs_path(const struct image_store *s, const struct digest *manifest, char **ret, struct herror *err);
/* Remove an unpacked rootfs (under the writers' lock); missing is success; -EBUSY (with a message) when
 * a container uses it (an fd from rootfs_ensure() is open somewhere). */
int rootfs_remove(struct image_store *s, const struct digest *manifest, struct herror *err);
/* Remove dirfd/name (a rootfs tree); a tree holding files of subordinate IDs is emptied inside an
 * isolated child of the user's namespace (the user alone cannot), then removed. Missing is success. */
int rootfs_remove_tree_at(int dirfd, const char *name, struct herror *err);
/* For removers of the complete tree rootfsdirfd/name: an exclusive flock() on it, held in *ret_fd until
 * the caller closes it. *ret_fd -1 and 0 when there is no such tree; -EBUSY (with a message) when some
 * rootfs_ensure() fd pins it. */
int rootfs_lock_for_removal(int rootfsdirfd, const char *name, int *ret_fd, struct herror *err);
