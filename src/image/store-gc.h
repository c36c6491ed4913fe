/* Garbage collection of the image store (`hutch prune`). Under the writers' lock, so no import, rootfs
 * creation or signature write is halfway through (each holds that lock while it writes):
 *   kept       = every image a name points at, and every unnamed image (loaded by digest only, listed
 *                as <none>) whose rootfs cache a running container uses (rootfs.h);
 *   referenced = the kept images' manifests, configs and layers, and the payload blob of every
 *                signature kept for one of them;
 *   removed    = every other unnamed image (its record in refs.json, then what follows), every other
 *                blob, the sigs file of every manifest not kept, every rootfs cache of a manifest not
 *                kept that no container uses (one in use stays for a later prune: rootfs_busy), and
 *                leftovers of killed processes (.tmp-* blobs, <hex>.tmp-* rootfs trees, tmp/import-*
 *                extractions no live load holds).
 * That is podman's `image prune`: dangling images go unless a container uses them; to keep an image
 * loaded by digest only, name it (`hutch tag`). A kept image that cannot be read stops the prune before
 * anything is removed (never delete on a guess). */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "image/store.h"
#include "util/error.h"

struct store_prune_stats {
        size_t images_removed; /* unnamed images */
        size_t images_busy;    /* unnamed images kept: a container uses them */
        size_t blobs_removed;
        uint64_t bytes_freed;     /* blob bytes */
        size_t rootfs_removed;    /* rootfs caches (complete ones) */
        size_t rootfs_busy;       /* rootfs caches of unnamed images kept: a container uses them (rootfs.h) */
        size_t sigs_removed;      /* sigs files */
        size_t leftovers_removed; /* temp blobs, temp rootfs trees, stale import dirs */
};

/* ret may be NULL. dry_run: count what would go, remove nothing. */
int store_prune(struct image_store *s, bool dry_run, struct store_prune_stats *ret, struct herror *err);
