/* Reading an OCI image layout (image-layout.md) given a directory fd: index.json, then index and
 * manifest and config blobs, each checked against its descriptor's digest and size before its bytes
 * are parsed (FORMATS.md 1.5: fail closed at each step). index.json itself is not authenticated by
 * anything; everything below it is bound by digest. Unknown fields are ignored (OCI documents are
 * extensible); unknown media types in an index are skipped, a manifest with an unknown config or
 * layer media type is refused as not runnable. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/digest.h"
#include "util/error.h"

#define OCI_MEDIA_TYPE_INDEX "application/vnd.oci.image.index.v1+json"
#define OCI_MEDIA_TYPE_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define OCI_MEDIA_TYPE_CONFIG "application/vnd.oci.image.config.v1+json"
#define DOCKER_MEDIA_TYPE_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define DOCKER_MEDIA_TYPE_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define DOCKER_MEDIA_TYPE_CONFIG "application/vnd.docker.container.image.v1+json"
#define OCI_REF_NAME_ANNOTATION "org.opencontainers.image.ref.name"
/* `cosign save` marks each index.json entry with the annotation "kind" (sigstore/cosign
 * pkg/oci/layout/index.go): the image (or image index) it saved, its signatures, its attestations. */
#define COSIGN_KIND_ANNOTATION "kind"
#define COSIGN_KIND_PREFIX "dev.cosignproject.cosign/"
#define COSIGN_KIND_IMAGE COSIGN_KIND_PREFIX "image"
#define COSIGN_KIND_IMAGE_INDEX COSIGN_KIND_PREFIX "imageIndex"
#define COSIGN_KIND_SIGS COSIGN_KIND_PREFIX "sigs"
#define COSIGN_KIND_ATTS COSIGN_KIND_PREFIX "atts"

/* Index, manifest and config documents larger than this are refused before they are read. */
#define OCI_DOCUMENT_MAX_SIZE (4u << 20)
#define OCI_MAX_LAYERS 1024
#define OCI_MAX_INDEX_ENTRIES 65536
#define OCI_MAX_INDEX_DEPTH 4

enum oci_kind {
        OCI_KIND_UNKNOWN,  /* a media type we do not know: skipped in indexes */
        OCI_KIND_INDEX,    /* OCI image index or Docker manifest list */
        OCI_KIND_MANIFEST, /* OCI image manifest or Docker schema 2 manifest */
        OCI_KIND_CONFIG,   /* OCI or Docker image config */
        OCI_KIND_LAYER,    /* a layer media type we can unpack */
        _OCI_KIND_MAX,
};

enum layer_compression {
        LAYER_COMPRESSION_NONE,
        LAYER_COMPRESSION_GZIP,
        LAYER_COMPRESSION_ZSTD,
        _LAYER_COMPRESSION_MAX,
};

struct oci_platform {
        char os[32];
        char architecture[32];
        char variant[16]; /* "" = any */
};

struct oci_descriptor {
        char *media_type;
        enum oci_kind kind;
        enum layer_compression compression; /* layers only */
        struct digest digest;               /* valid unless kind == OCI_KIND_UNKNOWN */
        uint64_t size;
        char *ref_name;    /* annotation org.opencontainers.image.ref.name, or NULL */
        char *cosign_kind; /* annotation "kind" (COSIGN_KIND_*), or NULL */
        bool has_platform;
        struct oci_platform platform;
};

struct oci_index {
        struct oci_descriptor *manifests;
        size_t n_manifests;
};

struct oci_manifest {
        struct oci_descriptor config;
        struct oci_descriptor *layers;
        size_t n_layers;
};

struct oci_config {
        char *os;
        char *architecture;
        char *variant;
        struct digest *diff_ids;
        size_t n_diff_ids;
};

/* What oci_layout_resolve() picked and verified. */
struct oci_image {
        struct digest selected; /* digest of the index.json entry used (a manifest or an index) */
        char *ref_name;         /* its ref.name annotation, or NULL */
        struct oci_descriptor manifest_desc;
        char *manifest_data; /* the exact manifest bytes; their sha256 is manifest_desc.digest */
        size_t manifest_len;
        struct oci_manifest manifest;
        char *config_data;
        size_t config_len;
        struct oci_config config;
        bool platform_mismatch; /* the config's os/architecture differ from the wanted platform */
};

enum oci_kind oci_media_type_kind(const char *media_type, enum layer_compression *ret_compression);

/* The platform this binary runs on (os "linux", architecture in GOARCH spelling, arm variant). */
void oci_platform_host(struct oci_platform *ret);
/* "os/arch[/variant]", e.g. "linux/arm64/v8". */
int oci_platform_parse(const char *s, struct oci_platform *ret, struct herror *err);
bool oci_platform_matches(const struct oci_platform *have, const struct oci_platform *want);

/* Parse documents from bytes (source names them in errors). Results are freed by the *_done()
 * functions, which accept zeroed structs. */
int oci_index_parse(const char *data, size_t len, const char *source, struct oci_index *ret, struct herror *err);
int oci_manifest_parse(const char *data, size_t len, const char *source, struct oci_manifest *ret, struct herror *err);
int oci_config_parse(const char *data, size_t len, const char *source, struct oci_config *ret, struct herror *err);
void oci_descriptor_done(struct oci_descriptor *d);
void oci_index_done(struct oci_index *i);
void oci_manifest_done(struct oci_manifest *m);
void oci_config_done(struct oci_config *c);
void oci_image_done(struct oci_image *img);

/* The "oci-layout" file must exist with imageLayoutVersion 1.x. */
int oci_layout_check(int layoutfd, struct herror *err);
int oci_layout_read_index(int layoutfd, struct oci_index *ret, struct herror *err);
/* Open blobs/sha256/<hex> (no symlinks anywhere, never outside layoutfd), a regular file whose size
 * is expected_size. Returns an O_RDONLY fd at offset 0; the content is NOT hashed here. */
int oci_layout_open_blob(int layoutfd, const struct digest *d, uint64_t expected_size, struct herror *err);
/* Read a whole blob of at most max_size bytes and check its size and sha256 against d. */
int oci_layout_read_blob(int layoutfd, const struct oci_descriptor *d, size_t max_size, char **ret, size_t *ret_len,
                         struct herror *err);
/* A cosign signature, attestation or SBOM artifact rather than an image anyone means to run: an entry
 * whose ref.name is a cosign artifact tag "sha256-<hex>.sig|.att|.sbom" (skopeo copy of those tags), or
 * whose "kind" is in cosign's namespace but is neither the image nor the image index (cosign save). */
bool oci_descriptor_is_cosign_artifact(const struct oci_descriptor *d);
/* Pick an image and verify index -> manifest -> config. ref: NULL (index.json must list exactly one
 * image, not counting cosign artifacts, oci_descriptor_is_cosign_artifact()),
 * a ref.name, or "@N" (the Nth index.json entry, from 0). platform: NULL = the host; used for
 * image indexes (first matching entry wins) and to set platform_mismatch. Then checks the config's
 * rootfs.diff_ids count against the layers. */
int oci_layout_resolve(int layoutfd, const char *ref, const struct oci_platform *platform, struct oci_image *ret,
                       struct herror *err);
