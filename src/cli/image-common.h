/* Helpers shared by the image commands (load, images, inspect, tag, rmi, save, prune). */
#pragma once
#include <stdbool.h>

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
int image_cli_resolve(struct image_store *s, const char *user, struct digest *ret, char **ret_name,
                      struct herror *err);

/* Human sizes: "12.3 MB" (SI units, as podman prints). buf of at least 16 bytes. */
const char *image_cli_format_size(uint64_t bytes, char *buf, size_t size);
