#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/archive-dl.h"
#include "image/layout.h"
#include "image/save.h"
#include "util/fileio.h"
#include "util/json.h"

#define SAVE_BUF_SIZE (64u * 1024)

struct extra_blob {
        struct digest digest;
        const void *data;
        size_t len;
};

struct saver {
        struct image_store *s;
        struct archive *a;
        struct extra_blob *extra;
        size_t n_extra;
        struct digest *written;
        size_t n_written;
        char *buf;
};

static const struct extra_blob *find_extra(const struct saver *sv, const struct digest *d)
{
        for (size_t i = 0; i < sv->n_extra; i++)
                if (digest_equal(&sv->extra[i].digest, d))
                        return &sv->extra[i];
        return NULL;
}

static int archive_fail(struct saver *sv, const char *what, struct herror *err)
{
        const char *m = archive_error_string(sv->a);
        int e = archive_errno(sv->a);
        return herror_set(err, e > 0 ? e : EIO, "write %s: %s", what, m ? m : "libarchive error");
}

static int write_header(struct saver *sv, const char *path, bool dir, uint64_t size, struct herror *err)
{
        struct archive_entry *e = archive_entry_new();
        if (!e)
                return herror_set(err, ENOMEM, "out of memory");
        archive_entry_set_pathname(e, path);
        archive_entry_set_filetype(e, dir ? AE_IFDIR : AE_IFREG);
        archive_entry_set_perm(e, dir ? 0755 : 0644);
        archive_entry_set_size(e, dir ? 0 : (int64_t) size);
        archive_entry_set_mtime(e, 0, 0);
        archive_entry_set_uid(e, 0);
        archive_entry_set_gid(e, 0);
        int r = archive_write_header(sv->a, e) == ARCHIVE_OK ? 0 : archive_fail(sv, path, err);
        archive_entry_free(e);
        return r;
}

static int write_data(struct saver *sv, const char *path, const void *data, size_t len, struct herror *err)
{
        if (len && archive_write_data(sv->a, data, len) != (la_ssize_t) len)
                return archive_fail(sv, path, err);
        return 0;
}

static int write_file(struct saver *sv, const char *path, const void *data, size_t len, struct herror *err)
{
        int r = write_header(sv, path, false, len, err);
        return r < 0 ? r : write_data(sv, path, data, len, err);
}

static bool already_written(struct saver *sv, const struct digest *d)
{
        for (size_t i = 0; i < sv->n_written; i++)
                if (digest_equal(&sv->written[i], d))
                        return true;
        return false;
}

/* One blob of exactly size bytes (the descriptor's), hashed on the way out. */
static int write_blob(struct saver *sv, const struct digest *d, uint64_t size, struct herror *err)
{
        char path[sizeof "blobs/sha256/" + DIGEST_HEX_LEN], ds[DIGEST_STRING_MAX];
        if (already_written(sv, d))
                return 0;
        snprintf(path, sizeof path, "blobs/sha256/%s", d->hex);
        digest_to_string(d, ds);
        const struct extra_blob *x = find_extra(sv, d);
        int r;
        if (x) {
                if (x->len != size)
                        return herror_set(err, EBADMSG, "blob %s: %zu bytes, the descriptor says %llu", ds, x->len,
                                          (unsigned long long) size);
                r = write_file(sv, path, x->data, x->len, err);
        } else {
                uint64_t have;
                _cleanup_close_ int fd = store_open_blob(sv->s, d, &have, err);
                if (fd < 0)
                        return fd;
                if (have != size)
                        return herror_set(err, EBADMSG,
                                          "image store %s: blob %s has %llu bytes, the descriptor says %llu",
                                          sv->s->path, ds, (unsigned long long) have, (unsigned long long) size);
                r = write_header(sv, path, false, size, err);
                _cleanup_sha256_ struct sha256_stream h = { 0 };
                if (r == 0)
                        r = sha256_stream_init(&h, err);
                while (r == 0) {
                        ssize_t n = read_all(fd, sv->buf, SAVE_BUF_SIZE);
                        if (n < 0) {
                                r = herror_sys(err, (int) -n, "image store %s: read blob %s", sv->s->path, ds);
                                break;
                        }
                        if (n == 0)
                                break;
                        if (h.bytes + (uint64_t) n > size) {
                                r = herror_set(err, EBADMSG, "image store %s: blob %s grew while it was read",
                                               sv->s->path, ds);
                                break;
                        }
                        if ((r = sha256_stream_update(&h, sv->buf, (size_t) n, err)) == 0)
                                r = write_data(sv, path, sv->buf, (size_t) n, err);
                }
                struct digest got;
                if (r == 0 && h.bytes != size)
                        r = herror_set(err, EBADMSG, "image store %s: blob %s shrank while it was read", sv->s->path,
                                       ds);
                if (r == 0)
                        r = sha256_stream_final(&h, &got, err);
                if (r == 0 && !digest_equal(&got, d))
                        r = herror_set(err, EBADMSG,
                                       "image store %s: blob %s does not match its digest (corrupt store)", sv->s->path,
                                       ds);
        }
        if (r < 0)
                return r;
        struct digest *nw = realloc(sv->written, (sv->n_written + 1) * sizeof *nw);
        if (!nw)
                return herror_set(err, ENOMEM, "out of memory");
        sv->written = nw;
        sv->written[sv->n_written++] = *d;
        return 0;
}

static int descriptor_of(json_t *desc, const char *what, struct digest *ret_d, uint64_t *ret_size, struct herror *err)
{
        json_t *size = json_object_get(desc, "size");
        if (!json_is_object(desc) || !json_is_integer(size) || json_integer_value(size) < 0)
                return herror_set(err, EBADMSG, "%s: not a descriptor with a size", what);
        *ret_size = (uint64_t) json_integer_value(size);
        return digest_parse(json_string_value(json_object_get(desc, "digest")) ?: "", ret_d, err);
}

/* The manifest's bytes, its blobs, and its index.json descriptor appended to manifests. */
static int save_one(struct saver *sv, const struct save_entry *e, json_t *manifests, struct herror *err)
{
        char ds[DIGEST_STRING_MAX], what[DIGEST_STRING_MAX + 16];
        digest_to_string(&e->manifest, ds);
        _cleanup_free_ char *owned = NULL;
        const char *data;
        size_t len = 0;
        const struct extra_blob *x = find_extra(sv, &e->manifest);
        if (x) {
                data = x->data;
                len = x->len;
        } else {
                int r = store_read_blob(sv->s, &e->manifest, OCI_DOCUMENT_MAX_SIZE, &owned, &len, err);
                if (r < 0)
                        return r;
                data = owned;
        }
        _cleanup_json_ json_t *m = NULL;
        snprintf(what, sizeof what, "manifest %s", ds);
        int r = json_parse_limited(data, len, what, OCI_DOCUMENT_MAX_SIZE, JSON_MAX_DEPTH_DEFAULT, &m, err);
        if (r < 0)
                return r;
        const char *mt = json_string_value(json_object_get(m, "mediaType")) ?: OCI_MEDIA_TYPE_MANIFEST;
        json_t *layers = json_object_get(m, "layers");
        if (!json_is_array(layers) || json_array_size(layers) > OCI_MAX_LAYERS)
                return herror_set(err, EBADMSG, "%s: no \"layers\" array of at most %d entries", what, OCI_MAX_LAYERS);
        struct digest d;
        uint64_t size;
        if ((r = descriptor_of(json_object_get(m, "config"), what, &d, &size, err)) < 0 ||
            (r = write_blob(sv, &d, size, err)) < 0)
                return r;
        for (size_t i = 0; i < json_array_size(layers); i++)
                if ((r = descriptor_of(json_array_get(layers, i), what, &d, &size, err)) < 0 ||
                    (r = write_blob(sv, &d, size, err)) < 0)
                        return r;
        if (!already_written(sv, &e->manifest)) {
                if (x)
                        r = write_blob(sv, &e->manifest, len, err);
                else {
                        char path[sizeof "blobs/sha256/" + DIGEST_HEX_LEN];
                        snprintf(path, sizeof path, "blobs/sha256/%s", e->manifest.hex);
                        r = write_file(sv, path, data, len, err); /* store_read_blob re-checked the digest */
                        struct digest *nw = r == 0 ? realloc(sv->written, (sv->n_written + 1) * sizeof *nw) : NULL;
                        if (r == 0 && !nw)
                                r = herror_set(err, ENOMEM, "out of memory");
                        if (r == 0) {
                                sv->written = nw;
                                sv->written[sv->n_written++] = e->manifest;
                        }
                }
                if (r < 0)
                        return r;
        }
        json_t *desc = json_pack("{s:s,s:s,s:I}", "mediaType", mt, "digest", ds, "size", (json_int_t) len);
        if (desc && e->ref_name &&
            json_object_set_new(desc, "annotations", json_pack("{s:s}", OCI_REF_NAME_ANNOTATION, e->ref_name)) < 0) {
                json_decref(desc);
                desc = NULL;
        }
        if (!desc || json_array_append_new(manifests, desc) < 0)
                return herror_set(err, ENOMEM, "out of memory");
        return 0;
}

int store_save_oci_archive(struct image_store *s, const struct save_entry *entries, size_t n_entries,
                           const struct save_blob *extra, size_t n_extra, int outfd, struct herror *err)
{
        struct saver sv = { .s = s };
        int r = 0;
        if (!(sv.buf = malloc(SAVE_BUF_SIZE)) || !(sv.extra = calloc(n_extra ? n_extra : 1, sizeof *sv.extra)))
                r = herror_set(err, ENOMEM, "out of memory");
        for (size_t i = 0; r == 0 && i < n_extra; i++) {
                sv.extra[i] = (struct extra_blob) { .data = extra[i].data, .len = extra[i].len };
                r = digest_buffer(extra[i].data, extra[i].len, &sv.extra[i].digest, err);
        }
        sv.n_extra = n_extra;
        _cleanup_json_ json_t *manifests = json_array();
        if (r == 0 && !manifests)
                r = herror_set(err, ENOMEM, "out of memory");
        if (r == 0)
                r = archive_dl_load(err);
        if (r == 0 && !(sv.a = archive_write_new()))
                r = herror_set(err, ENOMEM, "out of memory");
        if (r == 0 &&
            (archive_write_set_format_pax_restricted(sv.a) != ARCHIVE_OK ||
             archive_write_set_bytes_in_last_block(sv.a, 1) != ARCHIVE_OK ||
             archive_write_open_fd(sv.a, outfd) != ARCHIVE_OK))
                r = archive_fail(&sv, "archive", err);
        static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
        if (r == 0)
                r = write_file(&sv, "oci-layout", layout, sizeof layout - 1, err);
        if (r == 0)
                r = write_header(&sv, "blobs", true, 0, err);
        if (r == 0)
                r = write_header(&sv, "blobs/sha256", true, 0, err);
        for (size_t i = 0; r == 0 && i < n_entries; i++)
                r = save_one(&sv, &entries[i], manifests, err);
        _cleanup_json_ json_t *index = NULL;
        _cleanup_free_ char *text = NULL;
        if (r == 0) {
                index = json_pack("{s:i,s:s,s:O}", "schemaVersion", 2, "mediaType", OCI_MEDIA_TYPE_INDEX, "manifests",
                                  manifests);
                text = index ? json_dumps(index, JSON_COMPACT) : NULL;
                r = text ? write_file(&sv, "index.json", text, strlen(text), err)
                         : herror_set(err, ENOMEM, "out of memory");
        }
        if (r == 0 && archive_write_close(sv.a) != ARCHIVE_OK)
                r = archive_fail(&sv, "archive", err);
        if (sv.a)
                archive_write_free(sv.a);
        free(sv.buf);
        free(sv.extra);
        free(sv.written);
        return r;
}
