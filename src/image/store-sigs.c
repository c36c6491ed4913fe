#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/store-sigs.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/json.h"
#include "util/safepath.h"

#define SIGS_DIR "sigs"
#define SIGS_FILE_MAX (1u << 20)

void store_signatures_free(struct store_signature *sigs, size_t n)
{
        for (size_t i = 0; sigs && i < n; i++) {
                free(sigs[i].payload);
                free(sigs[i].signature_b64);
                free(sigs[i].origin);
        }
        free(sigs);
}

static void sigs_name(const struct digest *manifest, char buf[static sizeof SIGS_DIR "/" + DIGEST_HEX_LEN + 5])
{
        snprintf(buf, sizeof SIGS_DIR "/" + DIGEST_HEX_LEN + 5, SIGS_DIR "/%s.json", manifest->hex);
}

/* The list as stored: an array of {payload, signature, origin}, each entry checked. A missing file is an
 * empty list. */
static int sigs_load(struct image_store *s, const struct digest *manifest, json_t **ret, struct herror *err)
{
        char name[sizeof SIGS_DIR "/" + DIGEST_HEX_LEN + 5];
        sigs_name(manifest, name);
        _cleanup_json_ json_t *root = NULL;
        int r = json_read_file(s->rootfd, name, SIGS_FILE_MAX, &root, err);
        if (r == -ENOENT) {
                herror_clear(err);
                *ret = json_array();
                return *ret ? 0 : herror_set(err, ENOMEM, "out of memory");
        }
        if (r < 0) {
                herror_wrap(err, "image store %s", s->path);
                return r;
        }
        json_t *arr = json_is_object(root) ? json_object_get(root, "signatures") : NULL;
        if (!json_is_array(arr) || json_array_size(arr) > STORE_SIGS_MAX)
                return herror_set(err, EINVAL, "image store %s: %s: \"signatures\" must be an array of at most %u",
                                  s->path, name, STORE_SIGS_MAX);
        size_t i;
        json_t *e;
        json_array_foreach (arr, i, e) {
                json_t *p = json_object_get(e, "payload"), *sig = json_object_get(e, "signature");
                json_t *o = json_object_get(e, "origin");
                if (!json_is_string(p) || !digest_is_valid(json_string_value(p)) || !json_is_string(sig) ||
                    json_string_length(sig) > STORE_SIG_B64_MAX || (o && !json_is_string(o)))
                        return herror_set(err, EINVAL, "image store %s: %s: bad entry %zu", s->path, name, i);
        }
        *ret = json_incref(arr);
        return 0;
}

static int sigs_save(struct image_store *s, const struct digest *manifest, json_t *arr, struct herror *err)
{
        _cleanup_close_ int dir = -1;
        if (mkdirat(s->rootfd, SIGS_DIR, 0700) < 0 && errno != EEXIST)
                return herror_sys(err, errno, "image store %s: create %s", s->path, SIGS_DIR);
        dir = safe_openat(s->rootfd, SIGS_DIR, O_RDONLY | O_DIRECTORY, 0, SAFE_BENEATH | SAFE_NO_SYMLINKS, err);
        if (dir < 0)
                return dir;
        _cleanup_json_ json_t *root = json_pack("{sO}", "signatures", arr);
        if (!root)
                return herror_set(err, ENOMEM, "out of memory");
        _cleanup_free_ char *text = json_dumps(root, JSON_INDENT(2));
        if (!text)
                return herror_set(err, ENOMEM, "out of memory");
        char name[DIGEST_HEX_LEN + 6];
        snprintf(name, sizeof name, "%s.json", manifest->hex);
        int r = atomic_write_at(dir, name, text, strlen(text), 0600, err);
        if (r < 0)
                herror_wrap(err, "image store %s", s->path);
        return r;
}

static bool sigs_contain(json_t *arr, const char *payload_digest, const char *signature)
{
        size_t i;
        json_t *e;
        json_array_foreach (arr, i, e) {
                if (streq(json_string_value(json_object_get(e, "payload")), payload_digest) &&
                    streq(json_string_value(json_object_get(e, "signature")), signature))
                        return true;
        }
        return false;
}

static int sigs_append(struct image_store *s, json_t *arr, const struct store_signature *sig, struct herror *err)
{
        if (!sig->signature_b64 || strlen(sig->signature_b64) > STORE_SIG_B64_MAX ||
            sig->payload_len > STORE_SIG_PAYLOAD_MAX)
                return herror_set(err, EINVAL, "signature%s%s: missing or too large", sig->origin ? " from " : "",
                                  sig->origin ?: "");
        struct digest d;
        int r = digest_buffer(sig->payload, sig->payload_len, &d, err);
        if (r < 0)
                return r;
        char ds[DIGEST_STRING_MAX];
        digest_to_string(&d, ds);
        if (sigs_contain(arr, ds, sig->signature_b64))
                return 0;
        if (json_array_size(arr) >= STORE_SIGS_MAX)
                return herror_set(err, E2BIG, "image store %s: more than %u signatures for one image", s->path,
                                  STORE_SIGS_MAX);
        if ((r = store_put_blob_data(s, sig->payload, sig->payload_len, &d, err)) < 0)
                return r;
        json_t *e = json_pack("{ssss}", "payload", ds, "signature", sig->signature_b64);
        if (!e || (sig->origin && json_object_set_new(e, "origin", json_string(sig->origin)) < 0) ||
            json_array_append_new(arr, e) < 0)
                return herror_set(err, ENOMEM, "out of memory");
        return 0;
}

int store_sigs_add(struct image_store *s, const struct digest *manifest, const struct store_signature *sigs, size_t n,
                   struct herror *err)
{
        if (n == 0)
                return 0;
        int r = store_lock(s, err);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *arr = NULL;
        r = sigs_load(s, manifest, &arr, err);
        for (size_t i = 0; r == 0 && i < n; i++)
                r = sigs_append(s, arr, &sigs[i], err);
        if (r == 0)
                r = sigs_save(s, manifest, arr, err);
        store_unlock(s);
        return r;
}

static int sig_from_json(struct image_store *s, json_t *e, struct store_signature *ret, struct herror *err)
{
        struct digest d;
        int r = digest_parse(json_string_value(json_object_get(e, "payload")), &d, err);
        if (r < 0)
                return r;
        /* store_read_blob re-hashes, so a payload swapped on disk is an error, not a different signature. */
        if ((r = store_read_blob(s, &d, STORE_SIG_PAYLOAD_MAX, &ret->payload, &ret->payload_len, err)) < 0)
                return r;
        const char *o = json_string_value(json_object_get(e, "origin"));
        ret->signature_b64 = strdup(json_string_value(json_object_get(e, "signature")));
        ret->origin = o ? strdup(o) : NULL;
        if (!ret->signature_b64 || (o && !ret->origin))
                return herror_set(err, ENOMEM, "out of memory");
        return 0;
}

int store_sigs_list(struct image_store *s, const struct digest *manifest, struct store_signature **ret, size_t *ret_n,
                    struct herror *err)
{
        _cleanup_json_ json_t *arr = NULL;
        int r = sigs_load(s, manifest, &arr, err);
        if (r < 0)
                return r;
        size_t n = json_array_size(arr);
        struct store_signature *sigs = calloc(n ? n : 1, sizeof *sigs);
        if (!sigs)
                return herror_set(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                if ((r = sig_from_json(s, json_array_get(arr, i), &sigs[i], err)) < 0) {
                        store_signatures_free(sigs, n);
                        return r;
                }
        }
        *ret = sigs;
        *ret_n = n;
        return 0;
}

#define ORIGIN_SUFFIX ".origin"
#define ORIGIN_MAX 4096

static void origin_name(const struct digest *manifest, char buf[static sizeof SIGS_DIR "/" + DIGEST_HEX_LEN + 8])
{
        snprintf(buf, sizeof SIGS_DIR "/" + DIGEST_HEX_LEN + 8, SIGS_DIR "/%s" ORIGIN_SUFFIX, manifest->hex);
}

int store_sigs_remove(struct image_store *s, const struct digest *manifest, struct herror *err)
{
        char name[sizeof SIGS_DIR "/" + DIGEST_HEX_LEN + 8];
        sigs_name(manifest, name);
        if (unlinkat(s->rootfd, name, 0) < 0 && errno != ENOENT)
                return herror_sys(err, errno, "image store %s: remove %s", s->path, name);
        origin_name(manifest, name);
        if (unlinkat(s->rootfd, name, 0) < 0 && errno != ENOENT)
                return herror_sys(err, errno, "image store %s: remove %s", s->path, name);
        return 0;
}

int store_origin_set(struct image_store *s, const struct digest *manifest, const char *layout_path, struct herror *err)
{
        size_t len = strlen(layout_path);
        if (layout_path[0] != '/' || len >= ORIGIN_MAX || memchr(layout_path, '\n', len))
                return herror_set(err, EINVAL, "image origin %.64s: not an absolute path", layout_path);
        if (mkdirat(s->rootfd, SIGS_DIR, 0700) < 0 && errno != EEXIST)
                return herror_sys(err, errno, "image store %s: create %s", s->path, SIGS_DIR);
        _cleanup_close_ int dir =
                safe_openat(s->rootfd, SIGS_DIR, O_RDONLY | O_DIRECTORY, 0, SAFE_BENEATH | SAFE_NO_SYMLINKS, err);
        if (dir < 0)
                return dir;
        char name[DIGEST_HEX_LEN + sizeof ORIGIN_SUFFIX];
        snprintf(name, sizeof name, "%s" ORIGIN_SUFFIX, manifest->hex);
        int r = atomic_write_at(dir, name, layout_path, len, 0600, err);
        return r < 0 ? herror_wrap(err, "image store %s", s->path) : 0;
}

int store_origin_get(struct image_store *s, const struct digest *manifest, char **ret, struct herror *err)
{
        char name[sizeof SIGS_DIR "/" + DIGEST_HEX_LEN + 8];
        origin_name(manifest, name);
        size_t len;
        char *data = NULL;
        int r = read_file_at(s->rootfd, name, ORIGIN_MAX, &data, &len, err);
        if (r == -ENOENT) {
                herror_clear(err);
                *ret = NULL;
                return 0;
        }
        if (r < 0)
                return herror_wrap(err, "image store %s", s->path);
        if (len == 0 || data[0] != '/' || memchr(data, 0, len)) {
                free(data);
                return herror_set(err, EINVAL, "image store %s: %s: not an absolute path", s->path, name);
        }
        *ret = data; /* read_file_at NUL-terminates */
        return 0;
}

static int add_payloads_of(struct image_store *s, const char *file, struct digest **ret, size_t *ret_n,
                           struct herror *err)
{
        struct digest m;
        char ds[DIGEST_STRING_MAX];
        size_t len = strlen(file);
        if (len != DIGEST_HEX_LEN + 5 || !streq(file + DIGEST_HEX_LEN, ".json"))
                return 0; /* a temp file of atomic_write_at, or foreign: not ours to read */
        snprintf(ds, sizeof ds, "sha256:%.*s", DIGEST_HEX_LEN, file);
        if (digest_parse(ds, &m, NULL) < 0)
                return 0;
        _cleanup_json_ json_t *arr = NULL;
        int r = sigs_load(s, &m, &arr, err);
        if (r < 0)
                return r;
        size_t i;
        json_t *e;
        json_array_foreach (arr, i, e) {
                struct digest *n = realloc(*ret, (*ret_n + 1) * sizeof **ret);
                if (!n)
                        return herror_set(err, ENOMEM, "out of memory");
                *ret = n;
                if ((r = digest_parse(json_string_value(json_object_get(e, "payload")), &n[*ret_n], err)) < 0)
                        return r;
                (*ret_n)++;
        }
        return 0;
}

int store_sigs_payload_digests(struct image_store *s, struct digest **ret, size_t *ret_n, struct herror *err)
{
        int fd = safe_openat(s->rootfd, SIGS_DIR, O_RDONLY | O_DIRECTORY, 0, SAFE_BENEATH | SAFE_NO_SYMLINKS, err);
        if (fd == -ENOENT) {
                herror_clear(err);
                return 0;
        }
        if (fd < 0)
                return fd;
        DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return herror_sys(err, errno, "image store %s: %s", s->path, SIGS_DIR);
        }
        int r = 0;
        struct dirent *de;
        while (r == 0 && (de = readdir(d)))
                r = add_payloads_of(s, de->d_name, ret, ret_n, err);
        closedir(d);
        return r;
}
