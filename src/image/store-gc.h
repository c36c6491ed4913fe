/* Garbage collection of the image store (`hutch prune`). Under the writers' lock, so no import, rootfs
 * creation or signature write is halfway through (each holds that lock while it writes):
 *   referenced = every manifest a name points at, its config and layers, and the payload blob of every
 *   signature kept for a named manifest;
 *   removed    = every other blob, the sigs file of every manifest without a name, every rootfs cache
 *                of a manifest without a name that no container uses (one in use stays for a later
 *                prune: rootfs_busy), and leftovers of killed processes (.tmp-* blobs, <hex>.tmp-*
 *                rootfs trees, tmp/import-* extractions).
 * An image loaded by digest only (no name) is therefore removed: name it first (`hutch tag`). A named
 * manifest that cannot be read stops the prune before anything is removed (never delete on a guess). */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "image/store.h"
#include "util/error.h"

struct store_prune_stats {
        size_t blobs_removed;
        uint64_t bytes_freed;   /* blob bytes */
        size_t rootfs_removed;  /* rootfs caches (complete ones) */
        size_t rootfs_busy;     /* rootfs caches of unnamed images kept: a container uses them (rootfs.h) */
        size_t sigs_removed;    /* sigs files */
        size_t leftovers_removed; /* temp blobs, temp rootfs trees, stale import dirs */
};

/* ret may be NULL. dry_run: count what would go, remove nothing. */
int store_prune(struct image_store *s, bool dry_run, struct store_prune_stats *ret, struct herror *err);
