/* Credentials and capabilities of the container process, applied in the child. */
#pragma once

#include "spec/spec.h"

/* Drop the bounding set, switch to process.user (groups, gid, uid) keeping capabilities across the
 * switch, then set effective/permitted/inheritable exactly and raise ambient. Inheritable and
 * ambient stay empty unless the spec names them (CVE-2022-27650). setgroups_allowed is false when
 * the gid map was written with setgroups denied. Returns -errno; *ret_step names the failing step. */
int caps_apply(const struct spec_process *p, bool setgroups_allowed, const char **ret_step);
