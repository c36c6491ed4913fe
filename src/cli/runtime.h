/* hutch-runtime: the OCI runtime CLI face. State lives in one directory per container under --root. */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

struct runtime_globals {
        const char *root;
        bool systemd_cgroup;
        const char *audit_mode; /* --audit MODE; NULL = hutch.conf */
        const char *audit_log;  /* --audit-log FILE */
};
extern struct runtime_globals runtime_globals;

/* What state.json records about a container (runc's state plus what hutch needs later). */
struct container_state {
        char *id;
        pid_t pid;
        unsigned long long start_time;
        char *bundle;
        char *rootfs;
        char *created; /* RFC 3339, UTC, nanoseconds */
        char *owner;
        int landlock_abi;
        char *cgroup; /* the container's cgroup below the cgroup2 mount (limits asked for), or NULL */
};

enum container_status { STATUS_CREATED, STATUS_RUNNING, STATUS_STOPPED, _STATUS_MAX, _STATUS_INVALID = -EINVAL };

void container_state_clear(struct container_state *s);
bool runtime_id_valid(const char *id);
/* Open (creating with 0700 when asked) the state root; err names the directory. */
int runtime_open_root(bool create, struct herror *err);
/* Create the directory for a new container; EEXIST -> "container ID already exists". */
int runtime_create_container_dir(int rootfd, const char *id, struct herror *err);
/* Open an existing container's directory; ENOENT -> "container does not exist". */
int runtime_open_container(int rootfd, const char *id, struct herror *err);
/* flock(LOCK_EX) on the container's lock file; returns the lock fd. */
int runtime_lock_container(int dirfd, struct herror *err);
int runtime_write_state(int dirfd, const struct container_state *s, struct herror *err);
int runtime_read_state(int dirfd, struct container_state *ret, struct herror *err);
enum container_status runtime_status(int dirfd, const struct container_state *s);
const char *runtime_status_name(enum container_status st);
int runtime_remove_container(int rootfd, const char *id, struct herror *err);
/* The OCI state JSON (runc's shape); caller frees. */
char *runtime_state_json(const struct container_state *s, enum container_status st, int dirfd);
int runtime_parse_signal(const char *s);
/* Forward TERM INT HUP QUIT USR1 USR2 WINCH (blocked with run_block_signals) to pidfd until it exits. */
int runtime_wait_forwarding(int pidfd, const sigset_t *mask);

void runtime_now_rfc3339(char *buf, size_t size);

/* runtime-audit.c: records of this face. start/end return < 0 only when audit is required and failed. */
int runtime_audit_start(const struct container_state *st, struct herror *err);
void runtime_audit_refusal(const char *id, const char *bundle, const struct herror *why);
int runtime_audit_end(const struct container_state *st, const siginfo_t *exit_info, int64_t duration_ns,
                      struct herror *err);
int64_t runtime_audit_now_ns(void);

int runtime_cmd_create(int argc, char **argv);
int runtime_cmd_start(int argc, char **argv);
int runtime_cmd_state(int argc, char **argv);
int runtime_cmd_kill(int argc, char **argv);
int runtime_cmd_delete(int argc, char **argv);
int runtime_cmd_run(int argc, char **argv);
int runtime_cmd_exec(int argc, char **argv);
int runtime_cmd_spec(int argc, char **argv);
int runtime_cmd_features(int argc, char **argv);
int runtime_cmd_list(int argc, char **argv);
int runtime_cmd_ps(int argc, char **argv);

struct spec;
/* Resolve the bundle to an absolute path, open it, load and validate config.json. */
int runtime_load_bundle(const char *bundle, char **ret_abs, int *ret_fd, struct spec **ret_spec, struct herror *err);
/* Write "PID" (no newline, like runc) atomically to path. */
int runtime_write_pid_file(const char *path, pid_t pid, struct herror *err);
/* Connect to the console socket given by the caller (runc's --console-socket). */
int runtime_connect_console(const char *path, struct herror *err);
/* Parse the standard options shared by create and run into these. */
struct runtime_create_opts {
        const char *bundle;
        const char *pid_file;
        const char *console_socket;
        unsigned preserve_fds;
        bool detach;
        bool keep;
        bool start_record; /* write the audit start record while the init sets up (run, not create) */
};
/* Create a container (state dir, sandbox), leaving it at the start gate when gated. */
int runtime_create_container(const char *id, const struct runtime_create_opts *o, bool gated, bool die_with_parent,
                             int *ret_rootfd, int *ret_dirfd, struct container_state *ret_state, int *ret_pidfd,
                             struct herror *err);
