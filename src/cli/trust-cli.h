/* What the trust commands (key, sign, verify, trust) share: passphrases, reading the user's files, opening
 * the image store named by --storage. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include "image/store.h"
#include "util/error.h"

/* Passphrases for private keys (hutch key generate, hutch sign): $HUTCH_KEY_PASSWORD when set,
 * else asked on /dev/tty with echo off; never read from stdin, which may carry data. */

#define PASSPHRASE_ENV "HUTCH_KEY_PASSWORD"

/* *ret is malloc'd (free it with passphrase_free). confirm: ask twice (tty only) and refuse a mismatch.
 * An empty passphrase is returned as "" for the caller to judge. Fails with a message naming
 * PASSPHRASE_ENV when there is no terminal. */
int passphrase_get(const char *prompt, bool confirm, char **ret, struct herror *err);
/* Zero and free. */
void passphrase_free(char *p);
static inline void passphrase_freep(char **p)
{
        passphrase_free(*p);
}
#define _cleanup_passphrase_ _cleanup_(passphrase_freep)

/* A file the user named on the command line (symlinks followed: it is the user's own configuration):
 * a regular file of at most max bytes, NUL-terminated; errors name path. */
int trust_cli_read_file(const char *path, size_t max, char **ret, size_t *ret_len, struct herror *err);
/* store_open() with a relative --storage made absolute (NULL: the default store). */
int trust_cli_store_open(const char *storage, struct image_store *ret, struct herror *err);
