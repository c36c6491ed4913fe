/* Helpers shared by the image commands (load, images, inspect, tag, rmi, save, prune). */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "image/rootfs.h"
#include "image/store.h"
#include "util/error.h"

/* The --storage option and HUTCH_STORAGE: store_open() with path (NULL: the default, which honours
 * HUTCH_STORAGE). A relative --storage is made absolute against the working directory. */
int image_cli_open_store(const char *storage, struct image_store *ret, struct herror *err);

/* A name as the user typed it -> the normalised reference every stored name is
 * ("alpine" -> "docker.io/library/alpine:latest"; image_target_resolve() looks names up that way). */
int image_cli_normalise_name(const char *user_name, char **ret, struct herror *err);

/* Whether a ref.name annotation or RepoTag names an image, rather than being a bare tag: it must parse
 * as a reference whose first component is a registry ("registry.example/x:v2", "localhost/x",
 * "host:5000/x"). "latest", "v2" and even "alpine:3" are not: the first two are tags (skopeo and
 * umoci write tags there), and taking the third as docker.io/library/alpine would invent a registry. */
bool image_cli_is_registry_name(const char *s);

/* A stored image by what the user typed: "sha256:<hex>" or a prefix of at least 12 hex digits of a
 * stored manifest digest (with or without "sha256:"), else a name (normalised). ret_name (may be
 * NULL) gets the normalised name when one was given. */
int image_cli_resolve(struct image_store *s, const char *user, struct digest *ret, char **ret_name, struct herror *err);
/* Whether image_cli_resolve() takes user as an image ID or digest rather than as a name. */
bool image_cli_is_id(const char *user);

/* Strings from an image (config values, label keys, "created") printed as text: C0 and C1 control
 * characters (also C1 in UTF-8, 0xC2 0x80..0x9F) are written as '?', so that an image cannot move the
 * cursor or rewrite the user's terminal. (JSON output is escaped by the encoder instead.) */
void image_cli_put_printable(const char *s, FILE *f);
/* The same in place. */
void image_cli_make_printable(char *s);

/* Human sizes: "12.3 MB" (SI units, as podman prints). buf of at least 16 bytes. */
const char *image_cli_format_size(uint64_t bytes, char *buf, size_t size);

/* Every name that points at manifest, sorted (NULL-terminated strv, possibly empty). */
int image_cli_names_of(struct image_store *s, const struct digest *manifest, char ***ret, struct herror *err);

/* What images and inspect show of one stored image: manifest and config read and verified
 * (store_read_image), the raw documents kept as JSON for the fields hutch does not model. */
struct image_info {
        struct digest manifest;
        struct oci_manifest m;
        struct oci_config c;
        json_t *manifest_json;
        json_t *config_json;
        uint64_t manifest_size;
        uint64_t size;       /* config + layers as stored (compressed) */
        const char *created; /* config "created", borrowed from config_json; NULL if absent */
};
int image_cli_info(struct image_store *s, const struct digest *manifest, struct image_info *ret, struct herror *err);
void image_info_done(struct image_info *info);

/* The progress line of the image commands, on stderr: one line rewritten in place ("\r\033[K"), drawn
 * only when stderr is a terminal and the command is not quiet, at most every 100 ms, and only for
 * items (blobs, layers) of at least 4 MB. Clear it before printing anything else to stderr.
 *   Copying blob 1a2b3c4d5e6f  12.3 MB / 104 MB  11%
 *   Unpacking layer 2/5 1a2b3c4d5e6f  12.3 MB / 104 MB  11%
 * Hooks: image_cli_progress_store() for blob copies into the store (hutch load),
 * image_cli_progress_rootfs() for a rootfs unpack (rootfs_ensure(), e.g. the first hutch run of an
 * image). Both make p the callbacks' userdata: p must outlive their use. */
struct image_cli_progress {
        bool on;
        bool drawn; /* a line is on the screen */
        uint64_t last_ns;
        char what[64]; /* "Copying blob 1a2b3c4d5e6f" */
};
void image_cli_progress_init(struct image_cli_progress *p, bool quiet);
void image_cli_progress_update(struct image_cli_progress *p, uint64_t done, uint64_t total);
void image_cli_progress_clear(struct image_cli_progress *p);
void image_cli_progress_store(struct image_cli_progress *p, struct image_store *s);
void image_cli_progress_rootfs(struct image_cli_progress *p, struct rootfs_options *opts);
