/* Helpers shared by the image unit tests: tar layers written with libarchive's writer into memfds,
 * compression, OCI layouts assembled in a temp dir, scratch directories. Include after cmocka.h. */
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <ftw.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "image/digest.h"
#include "util/fileio.h"

#define _th_unused_ __attribute__((unused))

enum { TH_NONE, TH_GZIP, TH_ZSTD };

/* One tar entry. type: 'f' file (data), 'z' file of `zeros` zero bytes, 'd' dir, 'l' symlink (data =
 * target), 'h' hardlink (data = target), 'p' fifo, 'c' char device (rdev 1,3). */
struct tent {
        char type;
        const char *path;
        const char *data;
        mode_t mode;
        uint64_t zeros;
        const char *xattr_name;
        const char *xattr_value;
};

static _th_unused_ int th_memfd(void)
{
        int fd = memfd_create("hutch-test", MFD_CLOEXEC);
        assert_true(fd >= 0);
        return fd;
}

static _th_unused_ int th_build_tar(const struct tent *ents, size_t n)
{
        /* Names are UTF-8, as Go's archive/tar writes them into pax headers; the reader is then used
         * in the "C" locale the tests (and the sandboxed unpacker) run in. */
        assert_non_null(setlocale(LC_CTYPE, "C.UTF-8"));
        int fd = th_memfd();
        struct archive *a = archive_write_new();
        assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
        assert_int_equal(archive_write_open_fd(a, fd), ARCHIVE_OK);
        static char zeros[65536];
        for (size_t i = 0; i < n; i++) {
                const struct tent *t = &ents[i];
                struct archive_entry *e = archive_entry_new();
                archive_entry_set_pathname(e, t->path);
                archive_entry_set_mtime(e, 1000000000, 0);
                archive_entry_set_uid(e, 0);
                archive_entry_set_gid(e, 0);
                mode_t mode = t->mode ? t->mode : (t->type == 'd' ? 0755 : 0644);
                int64_t size = 0;
                switch (t->type) {
                case 'f':
                        archive_entry_set_filetype(e, AE_IFREG);
                        size = (int64_t) strlen(t->data ? t->data : "");
                        break;
                case 'z':
                        archive_entry_set_filetype(e, AE_IFREG);
                        size = (int64_t) t->zeros;
                        break;
                case 'd':
                        archive_entry_set_filetype(e, AE_IFDIR);
                        break;
                case 'l':
                        archive_entry_set_filetype(e, AE_IFLNK);
                        archive_entry_set_symlink(e, t->data);
                        mode = 0777;
                        break;
                case 'h':
                        archive_entry_set_filetype(e, AE_IFREG);
                        archive_entry_set_hardlink(e, t->data);
                        break;
                case 'p':
                        archive_entry_set_filetype(e, AE_IFIFO);
                        break;
                case 'c':
                        archive_entry_set_filetype(e, AE_IFCHR);
                        archive_entry_set_rdev(e, makedev(1, 3));
                        break;
                default:
                        fail_msg("bad tent type %c", t->type);
                }
                archive_entry_set_perm(e, mode);
                archive_entry_set_size(e, size);
                if (t->xattr_name)
                        archive_entry_xattr_add_entry(e, t->xattr_name, t->xattr_value, strlen(t->xattr_value));
                assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
                if (t->type == 'f' && size)
                        assert_int_equal(archive_write_data(a, t->data, (size_t) size), size);
                for (uint64_t left = t->type == 'z' ? t->zeros : 0; left > 0;) {
                        size_t chunk = left > sizeof zeros ? sizeof zeros : (size_t) left;
                        assert_int_equal(archive_write_data(a, zeros, chunk), (la_ssize_t) chunk);
                        left -= chunk;
                }
                archive_entry_free(e);
        }
        assert_int_equal(archive_write_close(a), ARCHIVE_OK);
        archive_write_free(a);
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        assert_non_null(setlocale(LC_CTYPE, "C"));
        return fd;
}

/* The bytes of fd compressed with gzip or zstd (libarchive's "raw" format: just the filter). */
static _th_unused_ int th_compress(int fd, int filter)
{
        if (filter == TH_NONE)
                return fcntl(fd, F_DUPFD_CLOEXEC, 3);
        int out = th_memfd();
        struct archive *a = archive_write_new();
        assert_int_equal(archive_write_set_format_raw(a), ARCHIVE_OK);
        if (filter == TH_GZIP)
                assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
        else
                assert_int_equal(archive_write_add_filter_zstd(a), ARCHIVE_OK);
        assert_int_equal(archive_write_open_fd(a, out), ARCHIVE_OK);
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, "data");
        archive_entry_set_filetype(e, AE_IFREG);
        assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
        archive_entry_free(e);
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        static char buf[65536];
        ssize_t n;
        while ((n = read(fd, buf, sizeof buf)) > 0)
                assert_int_equal(archive_write_data(a, buf, (size_t) n), n);
        assert_int_equal(archive_write_close(a), ARCHIVE_OK);
        archive_write_free(a);
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        assert_int_equal(lseek(out, 0, SEEK_SET), 0);
        return out;
}

static _th_unused_ int th_layer(const struct tent *ents, size_t n, int filter, struct digest *ret_diff_id)
{
        int tar = th_build_tar(ents, n);
        if (ret_diff_id) {
                assert_int_equal(digest_fd(tar, "tar", UINT64_MAX, ret_diff_id, NULL, NULL), 0);
                assert_int_equal(lseek(tar, 0, SEEK_SET), 0);
        }
        int out = th_compress(tar, filter);
        close(tar);
        return out;
}

static _th_unused_ char *th_fd_contents(int fd, size_t *ret_len)
{
        char *data = NULL;
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        assert_int_equal(read_fd_limited(fd, "fd", 1u << 30, &data, ret_len, NULL), 0);
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        return data;
}

static _th_unused_ char *th_mkdtemp(const char *tag)
{
        char *p = NULL;
        assert_true(asprintf(&p, "/tmp/hutch-%s-XXXXXX", tag) > 0);
        assert_non_null(mkdtemp(p));
        return p;
}

static int th_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void) ftw;
        (void) st;
        if (flag == FTW_DP || flag == FTW_D)
                rmdir(path);
        else
                unlink(path);
        return 0;
}

static _th_unused_ void th_rm_rf(const char *path)
{
        /* Directories a test made unwritable must be opened up first. */
        char cmd[4200];
        assert_true(snprintf(cmd, sizeof cmd, "chmod -R u+rwx '%s' 2>/dev/null", path) < (int) sizeof cmd);
        if (system(cmd) < 0) {
                /* best effort */
        }
        nftw(path, th_rm_one, 64, FTW_DEPTH | FTW_PHYS);
}

static _th_unused_ void th_write_file(const char *dir, const char *name, const char *data)
{
        char p[4200];
        assert_true(snprintf(p, sizeof p, "%s/%s", dir, name) < (int) sizeof p);
        FILE *f = fopen(p, "we");
        assert_non_null(f);
        fputs(data, f);
        assert_int_equal(fclose(f), 0);
}

/* Store bytes as blobs/sha256/<hex> of the layout at layoutfd. */
static _th_unused_ void th_put_blob(int layoutfd, const void *data, size_t len, struct digest *ret)
{
        assert_int_equal(digest_buffer(data, len, ret, NULL), 0);
        mkdirat(layoutfd, "blobs", 0755);
        mkdirat(layoutfd, "blobs/sha256", 0755);
        char p[128];
        snprintf(p, sizeof p, "blobs/sha256/%s", ret->hex);
        int fd = openat(layoutfd, p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write_all(fd, data, len), 0);
        close(fd);
}

static _th_unused_ void th_put_blob_fd(int layoutfd, int fd, struct digest *ret, uint64_t *ret_size)
{
        size_t len;
        char *data = th_fd_contents(fd, &len);
        th_put_blob(layoutfd, data, len, ret);
        if (ret_size)
                *ret_size = len;
        free(data);
}

static _th_unused_ void th_put_file_at(int dirfd, const char *name, const char *text)
{
        int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write_all(fd, text, strlen(text)), 0);
        close(fd);
}
