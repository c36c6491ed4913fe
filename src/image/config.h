/* What an image config says about running it (image-spec config.md, "config" object): the process
 * defaults `hutch run` merges with its command line. Parsed strictly on types (a wrong type is an error
 * naming the field); unknown fields are ignored, as OCI documents are extensible. */
#pragma once
#include <stddef.h>

#include "image/digest.h"
#include "image/store.h"
#include "util/error.h"

struct image_run_config {
        char **entrypoint;   /* NULL-terminated, or NULL */
        char **cmd;
        char **env;          /* "KEY=VALUE" entries */
        char *working_dir;
        char *user;          /* "uid", "name", "uid:gid", "name:group", or NULL */
        char *stop_signal;   /* "SIGTERM", "15", ... or NULL */
};

void image_run_config_done(struct image_run_config *c);
/* Parse a config blob's bytes. source names it in errors. */
int image_config_parse(const char *data, size_t len, const char *source, struct image_run_config *ret,
                       struct herror *err);
/* Read the stored image's config (digest checked) and parse it. */
int store_read_run_config(struct image_store *s, const struct digest *manifest, struct image_run_config *ret,
                          struct herror *err);
