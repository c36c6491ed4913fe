/* /etc/subuid and /etc/subgid: the subordinate ID ranges a user may map through newuidmap/newgidmap.
 *
 * Format, one entry a line: "NAME_OR_UID:START:COUNT". '#' comment lines and blank lines are allowed.
 * An entry belongs to a user when its first field is the user's name OR the user's decimal uid (shadow's
 * newuidmap accepts both), so both forms are collected. Parsing is strict only where it matters to us:
 * a malformed entry of THIS user is an error naming "FILE:LINE"; malformed entries of other users are
 * skipped, as shadow skips them. COUNT 0, START+COUNT beyond 2^32, or more than SUBID_MAX_RANGES entries
 * for the user are errors. Files larger than SUBID_MAX_FILE are refused.
 *
 * The paths are /etc/subuid and /etc/subgid unless HUTCH_SUBUID_FILE / HUTCH_SUBGID_FILE name another
 * file. The override exists for tests and diagnosis only, and it is not a privilege boundary: the
 * setuid newuidmap/newgidmap check the real files themselves, so pointing hutch at a wider file can
 * only make hutch ask for a mapping that the kernel (through the helper) then refuses. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

#define SUBID_MAX_FILE (4u << 20)
#define SUBID_MAX_RANGES 4096

struct subid_range {
        uint32_t start;
        uint32_t count;
};

struct subid_ranges {
        struct subid_range *v;
        size_t n;
};

void subid_ranges_free(struct subid_ranges *r);
/* Read subid_path(gid) and parse it for user_name (may be NULL: match by uid only) or uid. A missing
 * file returns 0 with no ranges: whether that is fatal is the caller's decision. */
int subid_load(bool gid, const char *user_name, uid_t uid, struct subid_ranges *ret, struct herror *err);
/* Parse data[0..len) (need not be NUL-terminated); file_for_errors names it in messages. */
int subid_parse(const char *data, size_t len, const char *file_for_errors, const char *user_name, uid_t uid,
                struct subid_ranges *ret, struct herror *err);
/* Read a whole subid file (up to SUBID_MAX_FILE; symlinks are followed, and character devices and
 * pipes are read as streams, so /dev/null or <(...) work as an override). Missing: -ENOENT without
 * touching err. NUL-terminated; *ret_len excludes the NUL. For callers that look at every user's
 * entries (doctor); subid_load() reads subid_path(gid) with it. */
int subid_read_path(const char *path, char **ret, size_t *ret_len, struct herror *err);
const char *subid_path(bool gid);
/* [start, start+count) is covered by the union of the ranges (adjacent or overlapping ranges join).
 * An empty span (count 0) is never covered: no valid mapping has size 0. */
bool subid_ranges_cover(const struct subid_ranges *r, uint32_t start, uint32_t count);
/* Sum of the counts (overlapping ranges are counted twice). */
uint64_t subid_ranges_total(const struct subid_ranges *r);
