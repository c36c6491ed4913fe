/* `hutch run`: the launcher users type. cmd-run.c orchestrates (image -> trust -> spec -> sandbox ->
 * audit); run-options.c reads the command line; run-config.c merges it with the image config;
 * run-io.c waits for the container, forwarding signals, a terminal and a timeout. */
#pragma once
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>

#include "sandbox/lsm.h"
#include "spec/build.h"
#include "util/error.h"

enum run_userns { RUN_USERNS_AUTO, RUN_USERNS_KEEP_ID };

struct run_options {
        bool rm, interactive, tty, quiet, read_only, read_only_tmpfs, privileged, env_host, network_host;
        bool no_new_privileges_given;
        bool init; /* --init; init_path: --init-path, else the first catatonit found */
        const char *init_path;
        const char *name, *workdir, *user, *hostname, *entrypoint, *policy, *storage, *report;
        bool entrypoint_given;
        enum run_userns userns;
        char **env; /* -e, in order */
        char **env_files;
        char **volumes; /* -v SRC:DST[:OPTS] */
        char **mounts;  /* --mount type=...,... */
        char **tmpfs;   /* --tmpfs DST[:OPTS] */
        char **cap_add, **cap_drop;
        char **ulimits;
        char **attach;
        char **audit_settings;       /* "key=value" for audit_config_set */
        const char *seccomp_profile; /* a built-in name (default, ci) or a path; NULL = default */
        bool seccomp_unconfined;
        const char *apparmor; /* profile name or "unconfined"; NULL = the default (hutch-default where loaded) */
        struct lsm_selinux_opts selinux; /* label= options */
        const char *landlock;            /* off, default, required; NULL = default */
        const char *landlock_rules;      /* landlock=FILE */
        unsigned require;                /* CONFINE_BITs from require= (and landlock=required) */
        int64_t pids_limit, memory;      /* 0 = none */
        int64_t cpu_quota;               /* --cpus: microseconds per cpu_period; 0 = none */
        uint64_t cpu_period;
        int64_t timeout_ms; /* 0 = none */
        int64_t stop_timeout_ms;
        int stop_signal; /* 0 = the image's, else SIGTERM */
        const char *image;
        char **command; /* after IMAGE; NULL-terminated, may be empty */
};

void run_options_done(struct run_options *o);
/* 0: run; 1: --help was printed; < 0: a usage error was reported (exit 125). */
int run_parse_options(int argc, char **argv, struct run_options *o);
void run_usage(FILE *out);

/* -v / --mount / --tmpfs parsed: bind sources canonical, named volumes still "volume" with the name as source. */
void run_mounts_free(struct spec_run_mount *m, size_t n);
int run_parse_mounts(const struct run_options *o, struct spec_run_mount **ret, size_t *ret_n, struct herror *err);
