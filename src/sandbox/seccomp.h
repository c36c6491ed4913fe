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
        unsigned int flags;       /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
};

int seccomp_compile(const struct spec_seccomp *sc, struct seccomp_program *ret, struct herror *err);
/* In the child: seccomp(SECCOMP_SET_MODE_FILTER). Returns -errno. */
int seccomp_program_load(const struct seccomp_program *p);
void seccomp_program_free(struct seccomp_program *p);
