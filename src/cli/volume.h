/* Named volumes (podman's `volume`): directories kept in the store, <store>/volumes/NAME/_data, owned by
 * the user (root inside a rootless container). They outlive containers; `hutch run -v NAME:/dst` creates
 * one on first use, as podman does. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "image/store.h"
#include "util/error.h"

#define VOLUME_NAME_MAX 128

/* [A-Za-z0-9][A-Za-z0-9_.-]*, at most VOLUME_NAME_MAX bytes: never a path. */
bool volume_name_valid(const char *name);
/* Create NAME (EEXIST when it exists, unless exist_ok). *ret_path (may be NULL): absolute path of _data. */
int volume_create(struct image_store *s, const char *name, bool exist_ok, char **ret_path, struct herror *err);
/* ENOENT when there is none. */
int volume_path(struct image_store *s, const char *name, char **ret_path, struct herror *err);
int volume_remove(struct image_store *s, const char *name, struct herror *err);
/* Sorted names; free with strv_free. */
int volume_list(struct image_store *s, char ***ret, size_t *ret_n, struct herror *err);
