/* What the audit sources share and nothing outside src/audit (and its unit tests) should use. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "audit/audit.h"

#define AUDIT_RECORD_MAX (1u << 20) /* one line; a record longer than this is refused (E2BIG) */
#define AUDIT_CONFIG_MAX (64u * 1024)
#define AUDIT_KEY_MAX (16u * 1024)
#define AUDIT_HMAC_KEY_MIN 16 /* bytes: shorter keys are guessable */
#define AUDIT_ROTATE_DEFAULT (64ull << 20)
#define AUDIT_HASH_HEX 64
#define AUDIT_JOURNALD_SOCKET "/run/systemd/journal/socket"
#define AUDIT_SYSLOG_SOCKET "/dev/log" /* _PATH_LOG */

enum audit_switch { AUDIT_SWITCH_AUTO, AUDIT_SWITCH_ON, AUDIT_SWITCH_OFF };

/* Where a key's value came from: "FILE:LINE", "flag", or "" (default). */
struct audit_origin {
        char *where;
        bool locked; /* set by the administrator's file while audit = required */
};

enum audit_key {
        AK_MODE,
        AK_LOG,
        AK_JOURNALD,
        AK_JOURNALD_SOCKET,
        AK_SYSLOG,
        AK_KERNEL,
        AK_HMAC_KEY,
        AK_SIGN_KEY,
        AK_ROTATE_SIZE,
        AK_SYSLOG_SOCKET,
        AK_ALLOW_PRIVILEGED,
        _AK_MAX,
};

struct audit_config {
        enum audit_mode mode;
        char *log_path;             /* NULL = default path */
        bool log_off;               /* audit_log = none */
        enum audit_switch journald; /* auto: when the socket exists */
        char *journald_socket;
        bool syslog;
        char *syslog_socket;      /* NULL = AUDIT_SYSLOG_SOCKET */
        enum audit_switch kernel; /* auto: when CAP_AUDIT_WRITE is effective */
        char *hmac_key_path;
        char *sign_key_path;
        uint64_t rotate_size;  /* 0 = never */
        bool allow_privileged; /* hutch run --privileged; only an administrator's file sets it */
        bool reading_admin;    /* while an administrator's file is parsed */
        struct audit_origin origin[_AK_MAX];
};

/* ---- record.c: the invoking process's identity and the JSON form --------------------------------- */

struct audit_identity {
        uid_t uid, euid;
        gid_t gid, egid;
        char user[256]; /* "" when NSS has no entry */
        bool has_loginuid, has_sessionid;
        uint32_t loginuid, sessionid;
        char host[256];
        pid_t hutch_pid;
};

void audit_identity_get(struct audit_identity *ret);
void audit_now_rfc3339(char *buf, size_t size);
/* The record as a JSON object (schema AUDIT_SCHEMA_VERSION) without seq/prev/mac; fields in schema order. */
int audit_record_to_json(const struct audit_record *rec, const struct audit_identity *id, const char *time,
                         json_t **ret, struct herror *err);
/* A JSON string from bytes that may not be UTF-8: each invalid byte becomes the text "\xNN". */
json_t *audit_json_string(const char *s);

/* ---- chain.c: hashes, MACs and signatures over lines ---------------------------------------------- */

struct audit_keys {
        unsigned char *hmac_key;
        size_t hmac_key_len;
        void *sign_key; /* EVP_PKEY: Ed25519 private key, or public key when verifying */
};

extern const char audit_zero_hash[AUDIT_HASH_HEX + 1];
void audit_sha256_hex(const void *data, size_t len, char out[static AUDIT_HASH_HEX + 1]);
int audit_keys_load(struct audit_keys *k, const char *hmac_path, const char *sign_path, bool sign_is_public,
                    struct herror *err);
void audit_keys_done(struct audit_keys *k);
/* Serialize body (seq and prev already set) and append the MAC/signature as the last member:
 * '{...,"hmac":"HEX"}' or '{...,"sig":"BASE64"}' over the bytes of '{...}'. Returns a malloc'd line
 * without the newline. */
int audit_seal(const struct audit_keys *k, json_t *body, char **ret, size_t *ret_len, struct herror *err);
/* Check a line's MAC/signature. 1 = valid, 0 = the line carries none, 2 = it carries one but k holds no key,
 * -EBADMSG = invalid (err says why). */
int audit_check_seal(const struct audit_keys *k, const char *line, size_t len, struct herror *err);

/* ---- sinks ---------------------------------------------------------------------------------------- */

struct audit_file_sink {
        char *path;
        uint64_t rotate_size;
};

/* Append one record (seq/prev assigned under the lock). Creates the directory (0700) and the file (0600).
 * ret_seq/ret_hash (may be NULL) get what was written, for the other sinks to carry as anchors. */
int audit_file_append(const struct audit_file_sink *s, const struct audit_keys *k, json_t *body, uint64_t *ret_seq,
                      char ret_hash[static AUDIT_HASH_HEX + 1], struct herror *err);

struct audit_fields; /* flat KEY=VALUE list for journald, syslog and the kernel */
int audit_journald_send(const char *socket_path, const struct audit_record *rec, const json_t *body,
                        struct herror *err);
int audit_syslog_send(const char *socket_path, const json_t *body, struct herror *err);
/* 1 = sent, 0 = not possible here (no CAP_AUDIT_WRITE, no audit in this kernel/namespace), < 0 error. */
int audit_kernel_send(const struct audit_record *rec, const struct audit_identity *id, struct herror *err);
bool audit_kernel_available(void);
