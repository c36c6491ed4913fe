/* libarchive, loaded with dlopen() on first use instead of being linked.
 *
 * Why: a container launch never decompresses anything, yet linking libarchive makes every start of
 * hutch map and relocate its whole dependency tree (libxml2, ICU, libstdc++, nettle, lzma, bz2, lz4,
 * acl): measured 1.5 ms of a 10 ms `hutch-runtime run`. Loading it only for unpack, load and save keeps
 * the launch path lean while the library stays a normal shared object that distribution security
 * updates replace (static linking would freeze libarchive's CVE fixes into hutch).
 *
 * Call sites keep libarchive's own names: each name below is a macro for a pointer filled by
 * archive_dl_load(). Every entry point that uses libarchive calls archive_dl_load() first; one that
 * forks an isolated child must call it in the parent, because the child cannot open files outside its
 * new root. A function used but missing from this list fails to link, so the list cannot fall behind. */
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include "util/error.h"

#define ARCHIVE_DL_SYMBOLS(X)                    \
        X(archive_entry_atime)                   \
        X(archive_entry_atime_is_set)            \
        X(archive_entry_atime_nsec)              \
        X(archive_entry_filetype)                \
        X(archive_entry_free)                    \
        X(archive_entry_gid)                     \
        X(archive_entry_hardlink)                \
        X(archive_entry_mtime)                   \
        X(archive_entry_mtime_is_set)            \
        X(archive_entry_mtime_nsec)              \
        X(archive_entry_new)                     \
        X(archive_entry_pathname)                \
        X(archive_entry_pathname_utf8)           \
        X(archive_entry_perm)                    \
        X(archive_entry_rdev)                    \
        X(archive_entry_set_filetype)            \
        X(archive_entry_set_gid)                 \
        X(archive_entry_set_mtime)               \
        X(archive_entry_set_pathname)            \
        X(archive_entry_set_perm)                \
        X(archive_entry_set_size)                \
        X(archive_entry_set_uid)                 \
        X(archive_entry_size)                    \
        X(archive_entry_size_is_set)             \
        X(archive_entry_symlink)                 \
        X(archive_entry_uid)                     \
        X(archive_entry_xattr_next)              \
        X(archive_entry_xattr_reset)             \
        X(archive_errno)                         \
        X(archive_error_string)                  \
        X(archive_read_data)                     \
        X(archive_read_data_block)               \
        X(archive_read_free)                     \
        X(archive_read_new)                      \
        X(archive_read_next_header)              \
        X(archive_read_open2)                    \
        X(archive_read_support_filter_gzip)      \
        X(archive_read_support_filter_zstd)      \
        X(archive_read_support_format_raw)       \
        X(archive_read_support_format_tar)       \
        X(archive_set_error)                     \
        X(archive_write_close)                   \
        X(archive_write_data)                    \
        X(archive_write_free)                    \
        X(archive_write_header)                  \
        X(archive_write_new)                     \
        X(archive_write_open_fd)                 \
        X(archive_write_set_bytes_in_last_block) \
        X(archive_write_set_format_pax_restricted)

#define ARCHIVE_DL_DECLARE(name) extern __typeof__(name) *dl_##name;
ARCHIVE_DL_SYMBOLS(ARCHIVE_DL_DECLARE)
#undef ARCHIVE_DL_DECLARE

/* Loads libarchive and resolves every symbol above; 0 at once when already loaded. */
int archive_dl_load(struct herror *err);

#ifndef ARCHIVE_DL_IMPLEMENTATION
#define archive_entry_atime dl_archive_entry_atime
#define archive_entry_atime_is_set dl_archive_entry_atime_is_set
#define archive_entry_atime_nsec dl_archive_entry_atime_nsec
#define archive_entry_filetype dl_archive_entry_filetype
#define archive_entry_free dl_archive_entry_free
#define archive_entry_gid dl_archive_entry_gid
#define archive_entry_hardlink dl_archive_entry_hardlink
#define archive_entry_mtime dl_archive_entry_mtime
#define archive_entry_mtime_is_set dl_archive_entry_mtime_is_set
#define archive_entry_mtime_nsec dl_archive_entry_mtime_nsec
#define archive_entry_new dl_archive_entry_new
#define archive_entry_pathname dl_archive_entry_pathname
#define archive_entry_pathname_utf8 dl_archive_entry_pathname_utf8
#define archive_entry_perm dl_archive_entry_perm
#define archive_entry_rdev dl_archive_entry_rdev
#define archive_entry_set_filetype dl_archive_entry_set_filetype
#define archive_entry_set_gid dl_archive_entry_set_gid
#define archive_entry_set_mtime dl_archive_entry_set_mtime
#define archive_entry_set_pathname dl_archive_entry_set_pathname
#define archive_entry_set_perm dl_archive_entry_set_perm
#define archive_entry_set_size dl_archive_entry_set_size
#define archive_entry_set_uid dl_archive_entry_set_uid
#define archive_entry_size dl_archive_entry_size
#define archive_entry_size_is_set dl_archive_entry_size_is_set
#define archive_entry_symlink dl_archive_entry_symlink
#define archive_entry_uid dl_archive_entry_uid
#define archive_entry_xattr_next dl_archive_entry_xattr_next
#define archive_entry_xattr_reset dl_archive_entry_xattr_reset
#define archive_errno dl_archive_errno
#define archive_error_string dl_archive_error_string
#define archive_read_data dl_archive_read_data
#define archive_read_data_block dl_archive_read_data_block
#define archive_read_free dl_archive_read_free
#define archive_read_new dl_archive_read_new
#define archive_read_next_header dl_archive_read_next_header
#define archive_read_open2 dl_archive_read_open2
#define archive_read_support_filter_gzip dl_archive_read_support_filter_gzip
#define archive_read_support_filter_zstd dl_archive_read_support_filter_zstd
#define archive_read_support_format_raw dl_archive_read_support_format_raw
#define archive_read_support_format_tar dl_archive_read_support_format_tar
#define archive_set_error dl_archive_set_error
#define archive_write_close dl_archive_write_close
#define archive_write_data dl_archive_write_data
#define archive_write_free dl_archive_write_free
#define archive_write_header dl_archive_write_header
#define archive_write_new dl_archive_write_new
#define archive_write_open_fd dl_archive_write_open_fd
#define archive_write_set_bytes_in_last_block dl_archive_write_set_bytes_in_last_block
#define archive_write_set_format_pax_restricted dl_archive_write_set_format_pax_restricted
#endif
