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

/* Parse with JSON_REJECT_DUPLICATES; the top level must be an object or an array. Refused before jansson
 * sees the bytes: more than max_size bytes (EFBIG), a NUL byte, nesting deeper than max_depth (a scan that
 * honours strings and escapes, so a megabyte of '[' cannot exhaust the stack). Trailing data is refused by
 * jansson. Every error starts with source: "config.json: line 3 column 5: duplicate object key". */
int json_parse_limited(const char *data, size_t len, const char *source, size_t max_size, unsigned max_depth,
                       json_t **ret, struct herror *err);
/* Read a regular file relative to dirfd (AT_FDCWD allowed; O_NOFOLLOW, O_CLOEXEC; at most max_size bytes)
 * and parse it as above with JSON_MAX_DEPTH_DEFAULT; path names the errors. (Not "json_load_file":
 * jansson already declares that name.) */
int json_read_file(int dirfd, const char *path, size_t max_size, json_t **ret, struct herror *err);

typedef int (*json_dispatch_fn)(const char *jpath, json_t *v, void *dst, struct herror *err);

enum {
        JF_MANDATORY = 1u << 0,   /* missing: "JPATH.name: required property missing" */
        JF_UNSUPPORTED = 1u << 1, /* present and not null: "JPATH.name: not supported by hutch" */
        JF_NULLABLE = 1u << 2,    /* null accepted and skipped */
};

struct json_field {
        const char *name;
        json_type type;            /* checked before dispatch: JSON_TRUE means boolean; (json_type) -1 means any */
        json_dispatch_fn dispatch; /* NULL: the field is only type-checked (or refused, JF_UNSUPPORTED) */
        size_t offset;             /* dispatch gets (char *) base + offset */
        unsigned flags;            /* JF_* */
};

enum { JD_REJECT_UNKNOWN = 1u << 0 }; /* unknown keys are errors (our own formats); else ignored */

/* Walk obj (else "JPATH: expected an object") through table (ended by a { NULL } row), calling each present
 * field's dispatcher on base + offset with the child path "JPATH.name"; jpath "" is the root and gives
 * ".name". Stops at the first error; fields already dispatched stay filled in for the caller to free. */
int json_dispatch(json_t *obj, const char *jpath, const struct json_field *table, void *base, unsigned flags,
                  struct herror *err);

/* Standard dispatchers. Each checks the type itself (usable directly) and names jpath in its errors. */
#define JSON_STRING_MAX (64u * 1024)
#define JSON_STRV_MAX 65536u
/* dst: char ** (a strdup'd copy; the old value is freed). No NUL byte, at most JSON_STRING_MAX bytes. */
int json_dispatch_string(const char *jpath, json_t *v, void *dst, struct herror *err);
int json_dispatch_bool(const char *jpath, json_t *v, void *dst, struct herror *err);   /* bool * */
int json_dispatch_uint32(const char *jpath, json_t *v, void *dst, struct herror *err); /* uint32_t * */
int json_dispatch_int32(const char *jpath, json_t *v, void *dst, struct herror *err);  /* int32_t * */
int json_dispatch_int64(const char *jpath, json_t *v, void *dst, struct herror *err);  /* int64_t * */
/* uint64_t *; jansson integers are signed 64-bit, so values above INT64_MAX already fail at parse time. */
int json_dispatch_uint64(const char *jpath, json_t *v, void *dst, struct herror *err);
/* dst: char *** (NULL-terminated; the old value is freed). At most JSON_STRV_MAX strings, each as
 * json_dispatch_string; errors name the item: "jpath[3]". */
int json_dispatch_strv(const char *jpath, json_t *v, void *dst, struct herror *err);

/* Child paths "jpath[3]" and "jpath.name" into buf, truncated (and NUL-terminated) to size. */
void json_path_index(char *buf, size_t size, const char *jpath, size_t index);
void json_path_key(char *buf, size_t size, const char *jpath, const char *key);
