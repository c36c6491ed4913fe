/* Writing stored images out as an oci-archive: a tar of an OCI image layout (oci-layout, index.json,
 * blobs/sha256/<hex>) that `hutch load`, skopeo (oci-archive:) and podman load read. Every blob is
 * re-hashed while it is copied out, so a store corrupted on disk is never exported as if it were
 * intact. The manifests are copied byte for byte: their digests, which signatures bind, do not change. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "image/store.h"
#include "util/error.h"

/* An index.json entry. */
struct save_entry {
        struct digest manifest; /* a manifest in the store or among the extra blobs */
        const char *ref_name;   /* its org.opencontainers.image.ref.name, or NULL */
};

/* A blob that is not in the store (e.g. a signature artifact made for the export). Its digest is
 * computed by store_save_oci_archive(), not trusted. */
struct save_blob {
        const void *data;
        size_t len;
};

/* Write the layout as an uncompressed tar to outfd (from its offset). Each entry's manifest is read
 * from extra (first) or the store, parsed only as far as descriptors go (config and layers, any media
 * type: a signature artifact's layers are not image layers), and every blob it names is written once. */
int store_save_oci_archive(struct image_store *s, const struct save_entry *entries, size_t n_entries,
                           const struct save_blob *extra, size_t n_extra, int outfd, struct herror *err);
