/* Landlock: the LSM that works without root. Applied in the container init after pivot_root, before
 * capabilities are dropped and seccomp is loaded: read and execute on the rootfs, read-write only on
 * what the spec made writable. Rights are lowered to what the running kernel's ABI knows. */
#pragma once

#include <stdbool.h>

#include "spec/spec.h"
#include "util/error.h"

/* The zero value is the default: every launch gets Landlock where the kernel has it. */
enum landlock_mode {
        LANDLOCK_BEST_EFFORT, /* applied when the kernel has it; its absence is reported, not fatal */
        LANDLOCK_OFF,         /* not applied */
        LANDLOCK_REQUIRED,    /* absence is an error */
        _LANDLOCK_MODE_MAX,
        _LANDLOCK_MODE_INVALID = -EINVAL,
};

#define LANDLOCK_ANNOTATION SPEC_ANNOTATION_LANDLOCK

int landlock_mode_from_string(const char *s);
/* The mode asked for by the spec's annotation (off|default|required), else fallback. */
int landlock_mode_from_spec(const struct spec *s, enum landlock_mode fallback, struct herror *err);

/* The newest ABI whose rights hutch asks for (6: scoped signals and abstract unix sockets). */
#define LANDLOCK_ABI_NEWEST 6

/* Restrict the calling process; *ret_abi is the ABI applied (0 = none). Paths are the container's: the
 * default rules (read and execute on the root, everything on what is writable) unless s->landlock_rules
 * says "extends": "none", then the rules file's paths and ports. */
int landlock_apply_spec(const struct spec *s, enum landlock_mode mode, int *ret_abi, struct herror *err);
/* The same at a given ABI (at most the kernel's): rights newer than abi are left out, as on an older
 * kernel. For tests of the lowering. */
int landlock_restrict_at_abi(const struct spec *s, int abi, struct herror *err);
/* One line naming what abi cannot fence that LANDLOCK_ABI_NEWEST can; "" when nothing is missing. */
void landlock_abi_hint(int abi, char *buf, size_t size);
