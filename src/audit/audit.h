/* The audit trail (issue #8, docs/audit.md): one record at each container start, one at its end and one
 * for every refusal, written to every configured sink: a hash-chained JSON-lines file (optionally HMAC'd
 * or Ed25519-signed per record), journald, syslog and the kernel audit subsystem.
 *
 * The invoking user (uids, gids, name, login uid, session id), host, time and hutch version are filled
 * in by audit_emit itself, so a caller cannot forget or misstate them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

#define AUDIT_SCHEMA_VERSION 1
#define AUDIT_SCHEMA_VERSION_STR "1" /* the same, for the record head verify.c reads by hand */

enum audit_event {
        AUDIT_EVENT_START,
        AUDIT_EVENT_END,
        AUDIT_EVENT_REFUSAL,
        _AUDIT_EVENT_MAX,
        _AUDIT_EVENT_INVALID = -EINVAL
};

struct audit_idmap {
        uint32_t container, host, count;
};

struct audit_record { /* every pointer may be NULL / every count 0 = not applicable */
        enum audit_event event;
        const char *entry; /* "run" | "runtime" */
        const char *container_id, *container_name;
        const char *image_ref, *image_digest;
        const char *trust_verdict; /* "accepted" | "rejected" | "not-evaluated" */
        const char *trust_transport, *trust_scope, *trust_key_id, *trust_signed_reference, *trust_reason;
        const char *policy_path;
        const char *policy_sha256;
        const char *seccomp_profile;
        const char *seccomp_sha256;
        const char *apparmor_profile, *selinux_label;
        const char *landlock; /* e.g. "best-effort abi 7", "off" */
        const char *const *unavailable;
        size_t n_unavailable; /* "LAYER: why" for each default layer the host lacks */
        const char *const *caps;
        size_t n_caps;
        const char *const *namespaces;
        size_t n_namespaces;
        const struct audit_idmap *uid_map;
        size_t n_uid_map;
        const struct audit_idmap *gid_map;
        size_t n_gid_map;
        const char *const *volumes;
        size_t n_volumes;
        const char *const *argv;
        size_t n_argv;
        pid_t pid; /* 0 = none */
        bool has_exit;
        int exit_status;
        int exit_signal; /* signal 0 = exited normally */
        bool timed_out;
        int64_t duration_ns; /* -1 = unknown; 0 is taken as unknown too (a zero-filled record) */
        const char *reason;  /* refusal: one line */
};

const char *audit_event_to_string(enum audit_event e);

enum audit_mode {
        AUDIT_MODE_OFF,
        AUDIT_MODE_BEST_EFFORT,
        AUDIT_MODE_REQUIRED,
        _AUDIT_MODE_MAX,
        _AUDIT_MODE_INVALID = -EINVAL
};

struct audit_config; /* sinks and mode; from /etc/hutch/hutch.conf, the user's config and flags */
struct audit;        /* open sinks */

#define AUDIT_SYSTEM_CONFIG "/etc/hutch/hutch.conf"

/* Read AUDIT_SYSTEM_CONFIG (the administrator's; may be absent), then explicit_path if given, else the
 * user's $XDG_CONFIG_HOME/hutch/hutch.conf (~/.config/hutch/hutch.conf; may be absent). Errors name
 * FILE:LINE. */
int audit_config_load(const char *explicit_path, struct audit_config **ret, struct herror *err);
/* The same with the system file named: for tests and for tools that audit another tree. NULL = none. */
int audit_config_load_files(const char *system_path, const char *user_path, struct audit_config **ret,
                            struct herror *err);
/* A config with the defaults only (no files read). */
int audit_config_new(struct audit_config **ret, struct herror *err);
/* Set one key as a flag would ("audit" = "required", "audit_log" = FILE, ...). Keys the administrator's
 * file set while it made audit required cannot be changed here (EPERM, naming the file and line). */
int audit_config_set(struct audit_config *c, const char *key, const char *value, struct herror *err);
enum audit_mode audit_config_mode(const struct audit_config *c);
/* hutch.conf's allow_privileged: whether `hutch run --privileged` may run (administrator's file only). */
bool audit_config_allow_privileged(const struct audit_config *c);
/* The file sink's path after defaults ($XDG_STATE_HOME/hutch/audit.log, ~/.local/state/hutch/audit.log,
 * root: /var/log/hutch/audit.log); NULL when the file sink is off. Caller frees. */
int audit_config_log_path(const struct audit_config *c, char **ret, struct herror *err);
void audit_config_free(struct audit_config *c);
static inline void audit_config_freep(struct audit_config **c)
{
        audit_config_free(*c);
}
#define _cleanup_audit_config_ _cleanup_(audit_config_freep)

/* Open the configured sinks (keys loaded, journald/kernel availability probed). With mode off this
 * succeeds and every emit is a no-op. In required mode a sink that cannot be opened is an error; in
 * best-effort mode it is dropped with a warning. */
int audit_open(const struct audit_config *c, struct audit **ret, struct herror *err);
/* Write to every configured sink. In required mode any sink failure returns < 0 (the caller then refuses
 * to launch / reports); in best-effort mode failures are logged as warnings and 0 is returned. */
int audit_emit(struct audit *a, const struct audit_record *rec, struct herror *err);
void audit_close(struct audit *a);
static inline void audit_closep(struct audit **a)
{
        audit_close(*a);
}
#define _cleanup_audit_ _cleanup_(audit_closep)

/* ---- reading the file log (hutch audit verify / show, hutch events) ------------------------------ */

struct audit_verify_opts {
        const char *hmac_key_path; /* check every record's "hmac" with this key */
        const char *pubkey_path;   /* check every record's "sig" with this Ed25519 public key (PEM) */
};

struct audit_verify_result {
        uint64_t records;
        uint64_t first_seq, last_seq;
        char last_hash[65]; /* sha256 hex of the last line: compare with an external anchor */
        size_t files;
        bool macs_checked;         /* a key was given and every record carried a valid MAC/signature */
        uint64_t unsigned_records; /* records with a MAC/signature that no key was given for */
};

/* Verify a log as a whole: paths oldest first (rotated files then the live one). The first record must
 * be seq 1 with an all-zero prev, every next one seq+1 with prev = sha256 of the previous line, every
 * line complete, and with a key every record must carry a valid MAC/signature. The first break fails
 * with -EBADMSG and err = "FILE:LINE (seq N): why". I/O errors return their errno. */
int audit_verify(const char *const *paths, size_t n_paths, const struct audit_verify_opts *o,
                 struct audit_verify_result *ret, struct herror *err);
/* Create the log's missing parent directories (0700), as its first writer would: lets a reader that watches
 * the directory (hutch events --follow) wait for the first record instead of failing. */
int audit_log_make_parents(const char *path, struct herror *err);
/* The rotated series of a log, oldest first: PATH.N ... PATH.1 PATH (those that exist; PATH always). */
int audit_log_series(const char *path, char ***ret_paths, size_t *ret_n, struct herror *err);
