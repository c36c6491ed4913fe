/* LSM confinement applied in the child just before exec. Landlock comes with the confinement issue;
 * AppArmor and SELinux are here so the OCI fields are enforced, never ignored. */
#pragma once

#include "spec/spec.h"
#include "util/error.h"

/* Arrange for process.apparmorProfile / process.selinuxLabel to take effect at execve.
 * Fails closed: a profile asked for that cannot be applied is an error. */
int lsm_apply_exec_labels(const struct spec_process *p, struct herror *err);
