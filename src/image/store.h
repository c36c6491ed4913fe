/* The local image store, content-addressed:
 *   <root>/blobs/sha256/<hex>   verified blobs (manifests, configs, layers), written temp + fsync +
 *                               rename only after size and digest matched while streaming
 *   <root>/refs.json            {"refs": {"NAME": "sha256:<hex>"}, "unnamed": ["sha256:<hex>"]}: name ->
 *                               manifest digest, and the images loaded without a name (podman's <none>),
 *                               replaced atomically under flock(<root>/refs.lock)
 *   <root>/rootfs/<hex>         unpacked images, by manifest digest (rootfs.h)
 *   <root>/lock                 flock()ed exclusively by writers (import, rootfs creation)
 * Root: $HUTCH_STORAGE, else /var/lib/hutch for uid 0, else $XDG_DATA_HOME/hutch, else
 * ~/.local/share/hutch. The root is kept mode 0700: unpacked trees keep setuid bits (unpack.h), and
 * no other host user may reach them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/digest.h"
#include "image/layout.h"
#include "util/error.h"

/* Called while a blob is copied into the store: bytes copied so far of total (the declared size). */
typedef void (*store_progress_fn)(const struct digest *blob, uint64_t done, uint64_t total, void *userdata);

struct image_store {
        int rootfd; /* O_DIRECTORY fd of the root */
        int lockfd; /* <root>/lock while held, else -1 */
        unsigned lock_depth;
        char *path;
        store_progress_fn progress; /* NULL: none; set by the caller after store_open() */
        void *progress_userdata;
};

#define IMAGE_STORE_INIT                   \
        {                                  \
                .rootfd = -1, .lockfd = -1 \
        }
#define STORE_REF_MAX_LEN 255

struct store_ref {
        char *name;
        struct digest digest;
};

/* The import's result; store_import_done() frees it. */
struct store_import {
        struct digest manifest; /* what the image is stored under */
        struct digest selected; /* the index.json entry (an index for multi-platform images) */
        char *ref_name;         /* that entry's org.opencontainers.image.ref.name, or NULL */
        bool platform_mismatch; /* the image's config names another platform than was asked for */
        size_t n_layers;
        char **repo_tags; /* docker-archive: the image's RepoTags as written (NULL-terminated), or NULL */
};

int store_default_path(char **ret, struct herror *err);
/* Open (creating as needed) the store at path, or at the default path when path is NULL. */
int store_open(const char *path, struct image_store *ret, struct herror *err);
void store_close(struct image_store *s);
/* The writers' lock, exclusive, blocking; nests (counted) within one image_store. */
int store_lock(struct image_store *s, struct herror *err);
void store_unlock(struct image_store *s);

bool store_has_blob(struct image_store *s, const struct digest *d);
/* O_RDONLY fd of a stored blob; its size in *ret_size (may be NULL). */
int store_open_blob(struct image_store *s, const struct digest *d, uint64_t *ret_size, struct herror *err);
/* Read a stored blob of at most max_size bytes, re-checking its digest. */
int store_read_blob(struct image_store *s, const struct digest *d, size_t max_size, char **ret, size_t *ret_len,
                    struct herror *err);
/* Copy srcfd (from its offset) into the store as blob d of exactly size bytes, in constant memory.
 * Too many or too few bytes, or another digest: nothing is stored (EBADMSG). A blob already present
 * is kept and srcfd is not read. */
int store_put_blob_fd(struct image_store *s, int srcfd, const struct digest *d, uint64_t size, struct herror *err);
int store_put_blob_data(struct image_store *s, const void *data, size_t len, const struct digest *d,
                        struct herror *err);

/* Names: 1..255 of [A-Za-z0-9._:@/+-], starting with a letter or digit, and not a digest. */
int store_ref_validate(const char *name, struct herror *err);
int store_ref_set(struct image_store *s, const char *name, const struct digest *manifest, struct herror *err);
/* -ENOENT (with a message) when the name is not there. */
int store_ref_get(struct image_store *s, const char *name, struct digest *ret, struct herror *err);
int store_ref_remove(struct image_store *s, const char *name, struct herror *err);
/* Images stored without a name ("dangling" in podman's words): hutch load records one it could not
 * name; naming it (store_ref_set) takes it off the list; rmi and prune remove it. Adding a manifest some
 * name points at does nothing. */
int store_unnamed_add(struct image_store *s, const struct digest *manifest, struct herror *err);
int store_unnamed_remove(struct image_store *s, const struct digest *manifest, struct herror *err);
int store_unnamed_list(struct image_store *s, struct digest **ret, size_t *ret_n, struct herror *err);
/* All refs, sorted by name. */
int store_ref_list(struct image_store *s, struct store_ref **ret, size_t *ret_n, struct herror *err);
void store_ref_list_free(struct store_ref *refs, size_t n);
/* "sha256:<hex>" (must be a stored manifest) or a ref name -> manifest digest. */
int store_resolve(struct image_store *s, const char *name_or_digest, struct digest *ret, struct herror *err);

/* Read, verify and parse a stored image's manifest and config (diff_ids count checked). */
int store_read_image(struct image_store *s, const struct digest *manifest, struct oci_manifest *ret_manifest,
                     struct oci_config *ret_config, struct herror *err);

/* Import one image from an OCI layout (oci_layout_resolve() picks and verifies index, manifest and
 * config): every layer is copied with its digest and size verified while streaming, then the config,
 * then the manifest, all under the writers' lock; then, when name is not NULL, the ref is set, so a
 * ref never names an incomplete image. */
int store_import_oci(struct image_store *s, int layoutfd, const char *ref, const struct oci_platform *platform,
                     const char *name, struct store_import *ret, struct herror *err);
void store_import_done(struct store_import *imp);

/* An archive being imported, extracted into <root>/tmp/import-XXXXXXXX: by unpack_layer() (normalised
 * paths, no symlink followed, limits, no ownership) inside an isolated child (image/unpack-confined.h) whose
 * root is that directory, so that even a bug in libarchive or a decompressor cannot write elsewhere. The
 * directory is flock()ed while in use; one nobody holds is a dead process's and is removed by the next
 * extraction or prune. Nothing in it is trusted: the import reads it through the layout and
 * docker-archive readers, which check every digest. */
struct store_extracted {
        int tmpdirfd;  /* <root>/tmp */
        int fd;        /* the extracted tree (O_DIRECTORY), holding the flock */
        char name[32]; /* its name in tmp/ */
};
#define STORE_EXTRACTED_INIT             \
        {                                \
                .tmpdirfd = -1, .fd = -1 \
        }

/* Extract archivefd (read from its offset: a file or a pipe) without holding the writers' lock (it is
 * taken only to create the directory): a slow producer on a pipe does not stop other writers. */
int store_archive_extract(struct image_store *s, int archivefd, struct store_extracted *ret, struct herror *err);
/* Remove the tree and drop the lock. */
void store_extracted_done(struct store_extracted *x);
/* tmpdirfd/name when no live import holds it: 0 removed (or gone), 1 in use. */
int store_remove_stale_import(int tmpdirfd, const char *name, struct herror *err);

/* An oci-archive (a tar, possibly gzip- or zstd-compressed, of an OCI layout): extracted as above,
 * imported as by store_import_oci, then removed. */
int store_import_oci_archive(struct image_store *s, int archivefd, const char *ref, const struct oci_platform *platform,
                             const char *name, struct store_import *ret, struct herror *err);
enum store_archive_kind {
        STORE_ARCHIVE_OCI,    /* oci-archive: a tar of an OCI layout */
        STORE_ARCHIVE_DOCKER, /* docker-archive: manifest.json at the top (FORMATS.md 2) */
        _STORE_ARCHIVE_KIND_MAX,
        _STORE_ARCHIVE_KIND_INVALID = -EINVAL,
};

/* For an oci-archive: called with the extracted layout (an O_DIRECTORY fd) once the image's blobs are
 * stored and before the layout is removed, under the writers' lock, so that the caller can take what
 * else the layout holds (signatures: image/ does not interpret them). A negative return fails the
 * import with that error. */
typedef int (*store_layout_fn)(int layoutfd, const struct store_import *imp, void *userdata, struct herror *err);

/* Any archive, told apart by content after one extraction: a top-level manifest.json makes it a
 * docker-archive (Docker >= 25 archives are also OCI layouts, but only manifest.json carries their
 * RepoTags, and their OCI manifest is generated at save time anyway), else it must be an OCI layout.
 * ref: as for store_import_oci_archive (one image) or store_import_docker_archive, except that NULL on a
 * docker-archive imports every image it lists. platform (NULL: any, a mismatch with the host is only
 * flagged): an OCI index resolves to it; a docker-archive image is built for one platform, so with ref
 * NULL the images of other platforms are skipped (none left: ENOENT), and the one ref picks must match.
 * No name is set here: the caller names the images (after
 * it stored their signatures). *ret is an array of *ret_n imports, freed by store_imports_free(). */
int store_import_archive(struct image_store *s, int archivefd, const char *ref, const struct oci_platform *platform,
                         store_layout_fn layout_cb, void *userdata, enum store_archive_kind *ret_kind,
                         struct store_import **ret, size_t *ret_n, struct herror *err);
/* The same for a tree store_archive_extract() made; takes the writers' lock for the import. */
int store_import_extracted(struct image_store *s, const struct store_extracted *x, const char *ref,
                           const struct oci_platform *platform, store_layout_fn layout_cb, void *userdata,
                           enum store_archive_kind *ret_kind, struct store_import **ret, size_t *ret_n,
                           struct herror *err);
void store_imports_free(struct store_import *imps, size_t n);

/* `docker save` output: manifest.json (FORMATS.md 2) picks the image: ref NULL (exactly one), "@N", or
 * one of its RepoTags; with platform, its config must name that platform (ENOENT otherwise). Paths in manifest.json must be relative without ".."; a symlink among them (older
 * docker and containers/image write layer.tar symlinks) is followed only inside the archive. The config
 * blob is hashed here; uncompressed layers must hash to the config's diff_ids, compressed ones are
 * checked when unpacked. The OCI manifest is generated locally, so a docker-archive can never carry a
 * registry manifest digest (nor a signature over one): treat it as unsigned. */
int store_import_docker_archive(struct image_store *s, int archivefd, const char *ref,
                                const struct oci_platform *platform, const char *name, struct store_import *ret,
                                struct herror *err);
