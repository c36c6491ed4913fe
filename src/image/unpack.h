/* Applying image layers (tar, tar+gzip, tar+zstd) to a directory. libarchive only READS the stream;
 * every file is written here with *at() calls relative to the target root fd:
 *   - entry paths are normalised and refused whole-layer when absolute or containing "..";
 *   - parent directories are resolved without following any symlink (a symlink planted by a layer is
 *     never followed by a later write), and never outside the root;
 *   - hardlinks may only name regular files already inside the root (resolved the same way);
 *   - OCI whiteouts (.wh.NAME, DIR/.wh..wh..opq) remove lower-layer content only;
 *   - limits bound entries, path lengths, bytes written and the expansion ratio (gzip/zstd bombs);
 *   - the uncompressed stream is hashed and compared with the config's diff_id.
 * unpack_layer() takes only fds and allocates in proportion to its limits, so it can run unchanged in
 * a sandboxed child (user namespace, chroot, seccomp) that only has the two fds.
 *
 * Decisions (see the comments in unpack.c for the reasons):
 *   setuid/setgid/sticky bits are kept, as podman and umoci keep them;
 *   xattrs: only user.* (but never user.overlay.*, user.fuseoverlayfs.*, user.containers.*) and
 *   security.capability are applied, best effort;
 *   device nodes are created only as root, otherwise skipped and counted (devices_skipped);
 *   ownership (uid/gid) is applied only when opts->chown is set; without it directories also get
 *   u+rwx so that later layers (and removal) can write into them. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "image/digest.h"
#include "util/error.h"

struct unpack_limits {
        uint64_t max_entries; /* tar entries in one layer */
        size_t max_path_len;  /* bytes in an entry path, hardlink or symlink target */
        uint64_t max_bytes;   /* regular-file bytes (apparent sizes) written by one layer */
        uint64_t max_ratio;   /* uncompressed stream bytes per compressed byte ... */
        uint64_t ratio_grace; /* ... checked once the uncompressed stream is past this many bytes */
};

#define UNPACK_LIMITS_DEFAULT               \
        ((struct unpack_limits) {           \
                .max_entries = 1000000,     \
                .max_path_len = 4095,       \
                .max_bytes = 64ull << 30,   \
                .max_ratio = 200,           \
                .ratio_grace = 64ull << 20, \
        })

/* Called after each read of the layer blob: bytes read so far, and opts->compressed_size. */
typedef void (*unpack_progress_fn)(uint64_t compressed_read, uint64_t compressed_total, void *userdata);

struct unpack_options {
        struct unpack_limits limits;
        const struct digest *diff_id; /* expected sha256 of the uncompressed tar; NULL: not checked */
        uint64_t compressed_size;     /* size of the blob, for progress; 0: unknown */
        bool chown;                   /* apply entries' uid/gid (needs CAP_CHOWN over them) */
        unpack_progress_fn progress;
        void *progress_userdata;
};

struct unpack_stats {
        uint64_t entries;
        uint64_t files, dirs, symlinks, hardlinks, fifos, devices;
        uint64_t whiteouts, opaque_dirs;
        uint64_t devices_skipped;    /* device nodes not created (not root, or mknod refused) */
        uint64_t xattrs_skipped;     /* xattrs not in the allowed set, or refused by the filesystem */
        uint64_t other_skipped;      /* sockets and unknown entry types */
        uint64_t bytes_written;      /* regular-file apparent sizes */
        uint64_t compressed_bytes;   /* bytes read from the blob */
        uint64_t uncompressed_bytes; /* size of the tar stream */
        struct digest diff_id;       /* sha256 of the tar stream, as computed */
};

/* Defaults: UNPACK_LIMITS_DEFAULT, chown when running as uid 0, nothing else. */
void unpack_options_init(struct unpack_options *opts);

/* Apply one layer read from layerfd (from its current offset) onto the tree at rootfd (a directory
 * fd; O_PATH is enough). On failure the tree may be partly written: apply layers to a scratch
 * directory and discard it on error (rootfs.c does). ret_stats may be NULL. */
int unpack_layer(int layerfd, int rootfd, const struct unpack_options *opts, struct unpack_stats *ret_stats,
                 struct herror *err);

/* Remove dirfd/name and everything below it without following symlinks; directories we own but
 * cannot write are made writable first. A missing name is success. */
int image_remove_tree_at(int dirfd, const char *name, struct herror *err);
