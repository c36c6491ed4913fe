/* Reading the audit log for people: shared by `hutch audit show` and `hutch events`. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "util/error.h"

struct audit_filter {
        char since[64];    /* RFC 3339 UTC; records with an earlier "time" are skipped; "" = all */
        const char *user;  /* name or uid */
        const char *image; /* substring of the reference, or a digest prefix */
};

/* The log to read: FILE when given, else the configured one (hutch.conf). Caller frees. */
int audit_view_log_path(const char *file, char **ret, struct herror *err);
/* "2026-11-23", "2026-11-23T07:00:00Z" (UTC) or a duration back from now: "90s", "10m", "2h", "7d". */
int audit_filter_set_since(struct audit_filter *f, const char *s, struct herror *err);
bool audit_filter_match(const struct audit_filter *f, json_t *rec);
/* One record: json = the line as it is; else a table row (TIME EVENT USER CONTAINER IMAGE DETAIL). */
void audit_view_print(FILE *out, json_t *rec, const char *line, bool json);
void audit_view_print_header(FILE *out);
/* Parse one line; NULL for a line that is not a record (the verifier's business, not the viewer's). */
json_t *audit_view_parse(const char *line, size_t len);
