/* LSM exec labels, applied in the child just before exec. Landlock is in landlock.c. */
#pragma once

#include "spec/spec.h"
#include "util/error.h"

/* Arrange for process.apparmorProfile / process.selinuxLabel to take effect at execve. The label is
 * written through procfd, a procfs instance hutch mounted itself and never attached where the container
 * can reach it, never through the container's /proc (CVE-2019-16884, CVE-2025-52881). Fails closed: a
 * label asked for that cannot be applied, or no procfd, is an error. */
int lsm_apply_exec_labels(const struct spec_process *p, int procfd, struct herror *err);
