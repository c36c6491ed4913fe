/* /etc/subuid and /etc/subgid: the subordinate ID ranges a user may map.
 * HUTCH_SUBUID_FILE / HUTCH_SUBGID_FILE override the paths for tests and diagnosis only: the setuid
 * newuidmap/newgidmap enforce the real files, so an override can never widen what the kernel grants. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

struct subid_range {
        uint32_t start;
        uint32_t count;
};

struct subid_ranges {
        struct subid_range *v;
        size_t n;
};

void subid_ranges_free(struct subid_ranges *r);
/* Ranges of the entries for user_name or the decimal uid. A malformed line for this user is an error
 * naming FILE:LINE; other users' lines are not our business. A missing file gives no ranges. */
int subid_load(bool gid, const char *user_name, uid_t uid, struct subid_ranges *ret, struct herror *err);
int subid_parse(const char *data, size_t len, const char *file, const char *user_name, uid_t uid,
                struct subid_ranges *ret, struct herror *err);
const char *subid_path(bool gid);
/* [start, start+count) lies inside the union of the ranges. */
bool subid_ranges_cover(const struct subid_ranges *r, uint32_t start, uint32_t count);
uint64_t subid_ranges_total(const struct subid_ranges *r);
