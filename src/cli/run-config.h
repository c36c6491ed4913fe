/* The container's process from the image config and the command line (podman's rules). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/run.h"
#include "util/error.h"

struct run_process {
        char **args, **env;
        char *cwd;
        uint32_t uid, gid;
        uint32_t *additional_gids;
        size_t n_additional_gids;
        char *home; /* from the image's /etc/passwd, or NULL */
};
void run_process_done(struct run_process *p);

/* USER[:GROUP] (names or numbers; "" = root) against the image's /etc/passwd and /etc/group in rootfd. */
int run_resolve_user(int rootfd, const char *spec, struct run_process *p, struct herror *err);
/* Entrypoint + Cmd, as podman combines them with --entrypoint and a command. */
int run_build_args(char *const *image_entrypoint, char *const *image_cmd, const char *entrypoint, bool entrypoint_given,
                   char *const *command, char ***ret, struct herror *err);
/* --env-host, the image's Env, PATH/TERM/HOME/container defaults, --env-file, -e: later wins. */
int run_build_env(char *const *image_env, const struct run_options *o, const struct run_process *p, char ***ret,
                  struct herror *err);
