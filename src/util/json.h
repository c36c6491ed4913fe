/* JSON at the edges: parsed with limits (size, depth, duplicates, NUL bytes, trailing data) and read
 * into typed structs through dispatch tables (systemd nspawn-oci style). Errors carry the JSON path. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#define JSON_MAX_DEPTH_DEFAULT 64
#define JSON_MAX_SIZE_DEFAULT (4u << 20)

/* Parse with JSON_REJECT_DUPLICATES; the top level must be an object or an array. max_depth is checked
 * by a scan of the bytes before jansson sees them, so deep nesting cannot exhaust the stack. Errors
 * start with source: "config.json: line 3 column 5: duplicate object key". */
int json_parse_limited(const char *data, size_t len, const char *source, size_t max_size, unsigned max_depth,
                       json_t **ret, struct herror *err);
int json_read_file(int dirfd, const char *path, size_t max_size, json_t **ret, struct herror *err);

typedef int (*json_dispatch_fn)(const char *jpath, json_t *v, void *dst, struct herror *err);

enum {
        JF_MANDATORY = 1u << 0,   /* missing: "JPATH.name: required property missing" */
        JF_UNSUPPORTED = 1u << 1, /* present and not null: "JPATH.name: not supported by hutch" */
        JF_NULLABLE = 1u << 2,    /* null accepted and skipped */
};

struct json_field {
        const char *name;
        json_type type;           /* JSON_TRUE means boolean; (json_type) -1 means any */
        json_dispatch_fn dispatch;
        size_t offset;
        unsigned flags;
};

enum { JD_REJECT_UNKNOWN = 1u << 0 };

int json_dispatch(json_t *obj, const char *jpath, const struct json_field *table, void *base, unsigned flags,
                  struct herror *err);
int json_dispatch_string(const char *jpath, json_t *v, void *dst, struct herror *err);
int json_dispatch_bool(const char *jpath, json_t *v, void *dst, struct herror *err);
int json_dispatch_uint32(const char *jpath, json_t *v, void *dst, struct herror *err);
int json_dispatch_int32(const char *jpath, json_t *v, void *dst, struct herror *err);
int json_dispatch_int64(const char *jpath, json_t *v, void *dst, struct herror *err);
int json_dispatch_uint64(const char *jpath, json_t *v, void *dst, struct herror *err);
int json_dispatch_strv(const char *jpath, json_t *v, void *dst, struct herror *err);
void json_path_index(char *buf, size_t size, const char *jpath, size_t index);
void json_path_key(char *buf, size_t size, const char *jpath, const char *key);
