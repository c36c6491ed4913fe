/* Building OCI configs: the default spec (`hutch-runtime spec`), and later the one `hutch run`
 * builds from an image config and the command line. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "util/error.h"

extern const char spec_default_seccomp_json[];
extern const unsigned long spec_default_seccomp_json_len;

/* runc's `spec` shape, hardened: user/mount/pid/ipc/uts/network/cgroup namespaces, podman's default
 * capabilities with empty inheritable and ambient sets, no_new_privs, a read-only root, masked and
 * read-only paths, and hutch's default seccomp profile. rootless maps 0 to uid/gid (single ID). */
int spec_build_default(bool rootless, uid_t uid, gid_t gid, json_t **ret, struct herror *err);
