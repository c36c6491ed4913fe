/* libselinux and libapparmor, loaded with dlopen() on hosts where that LSM is active, instead of linked.
 *
 * Why: on a host without SELinux or AppArmor (most of the hosts hutch runs on) every start mapped and
 * relocated libselinux, libpcre2 and libapparmor for nothing: 0.76 MB of the launcher's peak RSS (issue 10's
 * goal is 4 MiB) and ~0.2 ms. lsm.c asks the kernel first (/sys/fs/selinux, the apparmor module
 * parameter) and loads the library only then; a host where the LSM is active but the library cannot be
 * loaded reports that LSM as unavailable (require= then refuses).
 *
 * As in image/archive-dl.h, call sites keep the libraries' names: each is a macro for a pointer that the
 * load fills, and a symbol used but missing here fails to link. */
#pragma once

#include <stdbool.h>

#if HAVE_SELINUX
#include <selinux/selinux.h>

#define SELINUX_DL_SYMBOLS(X)        \
        X(is_selinux_enabled)        \
        X(lsetfilecon)               \
        X(security_check_context)    \
        X(security_getenforce)       \
        X(selinux_lxc_contexts_path) \
        X(setfilecon)

#define LSM_DL_DECLARE(name) extern __typeof__(name) *dl_##name;
SELINUX_DL_SYMBOLS(LSM_DL_DECLARE)
#undef LSM_DL_DECLARE

#ifndef LSM_DL_IMPLEMENTATION
#define is_selinux_enabled dl_is_selinux_enabled
#define lsetfilecon dl_lsetfilecon
#define security_check_context dl_security_check_context
#define security_getenforce dl_security_getenforce
#define selinux_lxc_contexts_path dl_selinux_lxc_contexts_path
#define setfilecon dl_setfilecon
#endif
#endif

#if HAVE_APPARMOR
#include <sys/apparmor.h>

#define APPARMOR_DL_SYMBOLS(X) X(aa_is_enabled)

#define LSM_DL_DECLARE(name) extern __typeof__(name) *dl_##name;
APPARMOR_DL_SYMBOLS(LSM_DL_DECLARE)
#undef LSM_DL_DECLARE

#ifndef LSM_DL_IMPLEMENTATION
#define aa_is_enabled dl_aa_is_enabled
#endif
#endif

/* true once the library is loaded and every symbol resolved; false when hutch was built without it or
 * it cannot be loaded (the reason goes to the debug log). Cheap after the first call. */
bool lsm_dl_selinux(void);
bool lsm_dl_apparmor(void);
