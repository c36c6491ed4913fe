/* AppArmor and SELinux: what the host offers (lsm.c), which profile and labels a container gets
 * (lsm-label.c), volume relabelling (lsm-relabel.c), and the exec labels applied in the child just before
 * exec (lsm.c). Landlock is in landlock.c; the confinement layers as a whole (require=) are named here. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "spec/spec.h"
#include "util/error.h"

/* ---- the layers a launch can require (--security-opt require=landlock,apparmor,selinux,seccomp) ---- */

enum confine_layer {
        CONFINE_SECCOMP,
        CONFINE_LANDLOCK,
        CONFINE_APPARMOR,
        CONFINE_SELINUX,
        _CONFINE_MAX,
        _CONFINE_INVALID = -EINVAL
};
#define CONFINE_BIT(l) (1u << (l))

const char *confine_layer_to_string(enum confine_layer l);
/* A comma list of layer names into CONFINE_BITs ORed into *ret; unknown or empty names are errors. */
int confine_parse_require(const char *list, unsigned *ret, struct herror *err);

/* ---- the host ---- */

#define LSM_APPARMOR_DEFAULT "hutch-default"
#define LSM_SELINUX_PROCESS_BASE "system_u:system_r:container_t:s0"
#define LSM_SELINUX_FILE_BASE "system_u:object_r:container_file_t:s0"
#define LSM_LABEL_MAX 256

struct lsm_host {
        bool apparmor;                /* AppArmor is the active major LSM */
        bool apparmor_default_loaded; /* LSM_APPARMOR_DEFAULT is in the kernel's profile list */
        bool selinux;                 /* SELinux is enabled (a policy is loaded) */
        bool selinux_enforcing;
        bool selinux_container_type;              /* the process base context is valid in the loaded policy */
        char selinux_process_base[LSM_LABEL_MAX]; /* the policy's container contexts (lxc_contexts), else the */
        char selinux_file_base[LSM_LABEL_MAX];    /* LSM_SELINUX_*_BASE defaults */
};

/* Probes: module parameters, securityfs, selinuxfs (through libselinux where built with it), and whether
 * the AppArmor profile hutch-default can be had (lsm_apparmor_profile_check). */
void lsm_probe(struct lsm_host *ret);
/* 0 when AppArmor would run this process's next exec under profile name, -ENOENT when no such profile is
 * loaded, else -errno. Asked in a short-lived child (the profile list itself is root's to read). */
int lsm_apparmor_profile_check(const char *name);
/* Before the clone, in the launcher: the spec's AppArmor profile, SELinux label and mount label can be
 * applied on this host (active LSM, profile loaded, context valid), else an error naming them. The
 * container's init cannot tell (it sees the container's mounts), so this is where it is decided. */
int lsm_check_host(const struct spec *s, struct herror *err);

/* ---- AppArmor: which profile ---- */

/* asked: --security-opt apparmor= or OCI apparmorProfile (NULL: not asked). *ret_profile: the profile to
 * apply (strdup'd), NULL for none. Not asked: LSM_APPARMOR_DEFAULT when AppArmor is active and it is loaded,
 * else none and *ret_unavailable says why. Fails closed (EOPNOTSUPP): a profile asked for where AppArmor is
 * not active, a profile the kernel's list shows is not loaded, and required with no profile to apply. */
int lsm_apparmor_select(const struct lsm_host *h, const char *asked, bool required, char **ret_profile,
                        const char **ret_unavailable, struct herror *err);

/* ---- SELinux: which labels ---- */

/* podman's --security-opt label= options. */
struct lsm_selinux_opts {
        char *user, *role, *type, *level, *filetype;
        bool disable;
};
void lsm_selinux_opts_done(struct lsm_selinux_opts *o);
bool lsm_selinux_opts_any(const struct lsm_selinux_opts *o); /* a label part was given (not disable) */
/* One --security-opt label= value: "type:T", "level:L", "user:U", "role:R", "filetype:T", "disable", or
 * several joined by commas ("type:T,level:s0:c1,c2": a piece that names no key continues the level). */
int lsm_selinux_opts_add(struct lsm_selinux_opts *o, const char *value, struct herror *err);

/* base "user:role:type:level" with the given parts replaced (NULL: keep); the level may hold ':' and ','. */
int lsm_selinux_label_build(const char *base, const char *user, const char *role, const char *type, const char *level,
                            char *buf, size_t size, struct herror *err);
/* A random MCS level "s0:cA,cB", 0 <= A < B <= 1023 (never equal: a single category would be shared by
 * every container that drew it). */
int lsm_mcs_pick(char *buf, size_t size, struct herror *err);

/* Labels for a container: the process label (setexeccon) and the mount label (context= of its tmpfs and
 * mqueue mounts, and :Z volumes), both strdup'd or NULL. Asked for (opts with a part) where SELinux is not
 * enabled: EOPNOTSUPP. Not asked: container_t with a random MCS level when SELinux is enforcing and the
 * type exists, else none and *ret_unavailable says why. disable: none. required and none: EOPNOTSUPP. */
int lsm_selinux_select(const struct lsm_host *h, const struct lsm_selinux_opts *o, bool required, char **ret_process,
                       char **ret_mount, const char **ret_unavailable, struct herror *err);

/* ---- volumes (:z / :Z) ---- */

/* Directories never relabelled (podman refuses them too): the system's own trees and the user's home;
 * path is canonical. */
bool lsm_relabel_refused(const char *path, const char *home);
/* Set label on path and everything below it (not following symlinks, not crossing mounts). Refused paths:
 * EPERM naming the path. Without SELinux (the host's or hutch's build) nothing is done, as podman does. */
int lsm_relabel_tree(const struct lsm_host *h, const char *path, const char *label, struct herror *err);
/* The walk itself, whatever the host: for tests (as root, labels are stored as plain security.selinux
 * xattrs where SELinux is off). */
int lsm_relabel_walk(const char *path, const char *label, struct herror *err);

/* ---- in the child ---- */

/* Arrange for process.apparmorProfile / process.selinuxLabel to take effect at execve. The label is
 * written through procfd, a procfs instance hutch mounted itself and never attached where the container
 * can reach it, never through the container's /proc (CVE-2019-16884, CVE-2025-52881). Fails closed: a
 * label asked for that cannot be applied, or no procfd, is an error. */
int lsm_apply_exec_labels(const struct spec_process *p, int procfd, struct herror *err);
