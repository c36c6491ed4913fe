/* What an image config says about running it (image-spec config.md, "config" object): the process
 * defaults `hutch run` merges with its command line, and the declarations (volumes, ports, labels) it may
 * report or act on. Parsed strictly on types (a wrong type is an error naming the field); unknown fields
 * are ignored, as OCI documents are extensible. Values are kept as the image wrote them: what they mean
 * (is a volume path absolute, is a port "80/tcp") is for the consumer to check. */
#pragma once
#include <stddef.h>

#include "image/digest.h"
#include "image/store.h"
#include "util/error.h"

struct image_run_config {
        char **entrypoint; /* NULL-terminated, or NULL */
        char **cmd;
        char **env; /* "KEY=VALUE" entries */
        char *working_dir;
        char *user;        /* "uid", "name", "uid:gid", "name:group", or NULL */
        char *stop_signal; /* "SIGTERM", "15", ... or NULL */
        /* The keys of the "Volumes" and "ExposedPorts" objects ({"/data": {}}, {"80/tcp": {}}), sorted
         * (bytewise), NULL-terminated, or NULL when absent, null or empty. Each value must be an object
         * (Docker writes {}) or null. */
        char **volumes;
        char **exposed_ports;
        /* "Labels": string -> string, sorted by key; n_labels 0 and labels NULL when absent or null. */
        struct image_label {
                char *key;
                char *value;
        } * labels;
        size_t n_labels;
};

/* The value of label key, or NULL. */
const char *image_run_config_label(const struct image_run_config *c, const char *key);

void image_run_config_done(struct image_run_config *c);
/* Parse a config blob's bytes. source names it in errors. */
int image_config_parse(const char *data, size_t len, const char *source, struct image_run_config *ret,
                       struct herror *err);
/* Read the stored image's config (digest checked) and parse it. */
int store_read_run_config(struct image_store *s, const struct digest *manifest, struct image_run_config *ret,
                          struct herror *err);
