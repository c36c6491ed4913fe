/* File I/O for everything hutch reads and writes: size limits on reads, atomic replacement on writes. */
#pragma once

#include <sys/types.h>

#include "util/error.h"

/* Read a whole regular file (O_NOFOLLOW: the last component must not be a symlink) relative to dirfd
 * (AT_FDCWD allowed), refusing anything larger than max_size (EFBIG). NUL-terminated; *ret_len excludes
 * the NUL. */
int read_file_at(int dirfd, const char *path, size_t max_size, char **ret, size_t *ret_len, struct herror *err);
/* A small file into buf (at most size - 1 bytes, NUL-terminated; O_NOFOLLOW): for /proc and cgroup
 * files, whose size stat() does not tell. buf is "" after a failure, never stale bytes. -errno. */
int read_text_at(int dirfd, const char *name, char *buf, size_t size);
/* The same from an open fd, from its current offset. */
int read_fd_limited(int fd, const char *name_for_errors, size_t max_size, char **ret, size_t *ret_len,
                    struct herror *err);
/* Write a temp file ".NAME.XXXXXX" beside NAME, fsync it, rename it over NAME, fsync the directory.
 * On failure the temp file is removed and NAME is untouched. */
int atomic_write_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode, struct herror *err);
/* The same, but NAME must not exist (renameat2 RENAME_NOREPLACE, else linkat): EEXIST with
 * "NAME: already exists (not overwritten)", and NAME is never replaced, even by a racing writer. */
int atomic_create_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode, struct herror *err);
int fsync_dir_at(int dirfd, const char *path);
/* mkdir -p for hutch's own, user-configured paths (store, audit log, caches; never a path from an image):
 * the directories it creates get mode. One mkdir() when path exists, as it does on every launch but the
 * first; the parents are only looked at when it does not. err names the directory that could not be made. */
int mkdir_p(const char *path, mode_t mode, struct herror *err);
int write_all(int fd, const void *buf, size_t len);
/* Bytes read (fewer than len only at EOF) or -errno. */
ssize_t read_all(int fd, void *buf, size_t len);
