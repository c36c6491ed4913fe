/* Seccomp: the OCI section is compiled to BPF in the launcher, before the clone, so the container
 * init only has to load a ready program (no libseccomp, no allocation in the child). */
#pragma once

#include <linux/filter.h>
#include <stdbool.h>

#include "spec/spec.h"
#include "util/error.h"

struct seccomp_program {
        struct sock_filter *insns;
        unsigned short len;
        unsigned int flags; /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
};

int seccomp_compile(const struct spec_seccomp *sc, struct seccomp_program *ret, struct herror *err);
/* The same, through a per-user cache of compiled programs ($XDG_CACHE_HOME/hutch/seccomp, root:
 * /var/cache/hutch/seccomp) keyed by the sha256 of the profile, libseccomp's version and the native
 * arch, so a launch does not pay libseccomp's compile time. HUTCH_SECCOMP_CACHE=0 turns it off;
 * HUTCH_SECCOMP_CACHE=/abs/dir puts it there.
 * *ret_cached says whether the cache answered. A cache that cannot be read or written is skipped. */
int seccomp_compile_cached(const struct spec_seccomp *sc, struct seccomp_program *ret, bool *ret_cached,
                           struct herror *err);
/* A libseccomp filter built elsewhere in code (a scmp_filter_ctx) as a ready program; flags 0. */
int seccomp_export_program(void *ctx, struct seccomp_program *ret, struct herror *err);
/* In the child: seccomp(SECCOMP_SET_MODE_FILTER). Returns -errno. */
int seccomp_program_load(const struct seccomp_program *p);
void seccomp_program_free(struct seccomp_program *p);
