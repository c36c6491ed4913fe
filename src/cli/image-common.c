#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/image-common.h"
#include "trust/reference.h"
#include "util/json.h"
#include "util/cleanup.h"

int image_cli_open_store(const char *storage, struct image_store *ret, struct herror *err)
{
        _cleanup_free_ char *abs = NULL;
        if (storage && storage[0] != '/') {
                char cwd[PATH_MAX];
                if (!getcwd(cwd, sizeof cwd))
                        return herror_sys(err, errno, "--storage %s: current directory", storage);
                if (asprintf(&abs, "%s/%s", cwd, storage) < 0)
                        return herror_set(err, ENOMEM, "out of memory");
                storage = abs;
        }
        return store_open(storage, ret, err);
}

int image_cli_normalise_name(const char *user_name, char **ret, struct herror *err)
{
        _cleanup_ref_ struct image_ref ref = { 0 };
        int r = ref_parse(user_name, &ref, err);
        if (r < 0)
                return r;
        char *full = ref_format_full(&ref);
        if (!full)
                return herror_set(err, ENOMEM, "out of memory");
        if ((r = store_ref_validate(full, err)) < 0) {
                free(full);
                return r;
        }
        *ret = full;
        return 0;
}

bool image_cli_is_registry_name(const char *s)
{
        if (!s)
                return false;
        const char *slash = strchr(s, '/');
        if (!slash)
                return false;
        size_t first = (size_t) (slash - s);
        bool domain = memchr(s, '.', first) || memchr(s, ':', first) || (first == 9 && strncmp(s, "localhost", 9) == 0);
        if (!domain)
                return false;
        _cleanup_ref_ struct image_ref ref = { 0 };
        return ref_parse(s, &ref, NULL) == 0;
}

static bool is_hex(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return true;
}

/* Not an image anyone listed: one whose last name went (rmi keeps the blobs until prune, and a name may be
 * given back), or from a store older than the unnamed record. Counts the matching blobs. */
static size_t prefix_among_blobs(struct image_store *s, const char *hex, struct digest *ret)
{
        size_t found = 0;
        struct dirent *de;
        int dfd = openat(s->rootfd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
        if (!d && dfd >= 0)
                close(dfd);
        while (d && (de = readdir(d)))
                if (strlen(de->d_name) == DIGEST_HEX_LEN && strncmp(de->d_name, hex, strlen(hex)) == 0) {
                        memcpy(ret->hex, de->d_name, DIGEST_HEX_LEN + 1); /* length checked above */
                        found++;
                }
        if (d)
                closedir(d);
        return found;
}

/* A short digest: unique among the stored images, named or not (else among the blobs). */
static int resolve_prefix(struct image_store *s, const char *hex, struct digest *ret, struct herror *err)
{
        struct store_ref *refs = NULL;
        struct digest *unnamed = NULL;
        size_t n = 0, nu = 0, found = 0, len = strlen(hex);
        int r = store_ref_list(s, &refs, &n, err);
        if (r == 0)
                r = store_unnamed_list(s, &unnamed, &nu, err);
        for (size_t i = 0; r == 0 && i < n + nu; i++) {
                const struct digest *d = i < n ? &refs[i].digest : &unnamed[i - n];
                if (strncmp(d->hex, hex, len) == 0 && (found == 0 || !digest_equal(ret, d))) {
                        *ret = *d;
                        found++;
                }
        }
        store_ref_list_free(refs, n);
        free(unnamed);
        if (r == 0 && found == 0)
                found = prefix_among_blobs(s, hex, ret);
        if (r < 0 || found == 1)
                return r;
        return herror_set(err, found ? EINVAL : ENOENT, "image store %s: %s image ID %s", s->path,
                          found ? "ambiguous" : "no image with", hex);
}

bool image_cli_is_id(const char *user)
{
        if (strncmp(user, "sha256:", 7) == 0)
                return true;
        size_t len = strlen(user);
        return len >= 12 && len <= DIGEST_HEX_LEN && is_hex(user, len);
}

int image_cli_resolve(struct image_store *s, const char *user, struct digest *ret, char **ret_name, struct herror *err)
{
        if (ret_name)
                *ret_name = NULL;
        const char *hex = strncmp(user, "sha256:", 7) == 0 ? user + 7 : user;
        size_t len = strlen(hex);
        if (len == DIGEST_HEX_LEN && is_hex(hex, len)) {
                char full[DIGEST_STRING_MAX];
                snprintf(full, sizeof full, "sha256:%s", hex);
                return store_resolve(s, full, ret, err);
        }
        if (len >= 12 && len < DIGEST_HEX_LEN && is_hex(hex, len))
                return resolve_prefix(s, hex, ret, err);
        if (hex != user)
                return herror_set(err, EINVAL, "\"%.80s\": not a sha256 digest", user);
        _cleanup_free_ char *name = NULL;
        int r = image_cli_normalise_name(user, &name, err);
        if (r < 0)
                return r;
        r = store_ref_get(s, name, ret, err);
        if (r == -ENOENT)
                return herror_set(err, ENOENT, "image %s is not in the store %s", name, s->path);
        if (r < 0)
                return r;
        if (ret_name)
                *ret_name = TAKE_PTR(name);
        return 0;
}

void image_cli_make_printable(char *s)
{
        for (unsigned char *p = (unsigned char *) s; *p; p++) {
                if (*p < 0x20 || *p == 0x7f)
                        *p = '?';
                else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
                        p[0] = p[1] = '?';
                        p++;
                }
        }
}

void image_cli_put_printable(const char *s, FILE *f)
{
        char buf[256];
        size_t len = strlen(s);
        while (len) {
                /* never split a 0xC2 0x8N pair between two chunks */
                size_t n = len < sizeof buf - 2 ? len : sizeof buf - 2;
                if (n < len && (unsigned char) s[n - 1] == 0xc2)
                        n++; /* buf has room for the pair's second byte */
                memcpy(buf, s, n);
                buf[n] = 0;
                image_cli_make_printable(buf);
                fputs(buf, f);
                s += n;
                len -= n;
        }
}

const char *image_cli_format_size(uint64_t bytes, char *buf, size_t size)
{
        static const char *const units[] = { "B", "kB", "MB", "GB", "TB" };
        double v = (double) bytes;
        size_t u = 0;
        while (v >= 1000 && u + 1 < ELEMENTSOF(units)) {
                v /= 1000;
                u++;
        }
        if (u == 0)
                snprintf(buf, size, "%llu B", (unsigned long long) bytes);
        else
                snprintf(buf, size, "%.3g %s", v, units[u]);
        return buf;
}

int image_cli_names_of(struct image_store *s, const struct digest *manifest, char ***ret, struct herror *err)
{
        struct store_ref *refs = NULL;
        size_t n = 0, k = 0;
        int r = store_ref_list(s, &refs, &n, err);
        if (r < 0)
                return r;
        char **v = calloc(n + 1, sizeof *v);
        if (!v)
                r = herror_set(err, ENOMEM, "out of memory");
        for (size_t i = 0; r == 0 && i < n; i++)
                if (digest_equal(&refs[i].digest, manifest) && !(v[k++] = strdup(refs[i].name)))
                        r = herror_set(err, ENOMEM, "out of memory");
        store_ref_list_free(refs, n);
        if (r < 0) {
                strv_free(v);
                return r;
        }
        *ret = v;
        return 0;
}

void image_info_done(struct image_info *info)
{
        oci_manifest_done(&info->m);
        oci_config_done(&info->c);
        json_decref(info->manifest_json);
        json_decref(info->config_json);
        *info = (struct image_info) { 0 };
}

static int read_json_blob(struct image_store *s, const struct digest *d, json_t **ret, size_t *ret_len,
                          struct herror *err)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        char ds[DIGEST_STRING_MAX];
        int r = store_read_blob(s, d, OCI_DOCUMENT_MAX_SIZE, &data, &len, err);
        if (r < 0)
                return r;
        if (ret_len)
                *ret_len = len;
        return json_parse_limited(data, len, digest_to_string(d, ds), OCI_DOCUMENT_MAX_SIZE, JSON_MAX_DEPTH_DEFAULT,
                                  ret, err);
}

int image_cli_info(struct image_store *s, const struct digest *manifest, struct image_info *ret, struct herror *err)
{
        struct image_info info = { .manifest = *manifest };
        size_t mlen = 0, clen = 0;
        int r = store_read_image(s, manifest, &info.m, &info.c, err);
        if (r == 0)
                r = read_json_blob(s, manifest, &info.manifest_json, &mlen, err);
        if (r == 0)
                r = read_json_blob(s, &info.m.config.digest, &info.config_json, &clen, err);
        if (r < 0) {
                image_info_done(&info);
                return r;
        }
        info.manifest_size = mlen;
        info.size = clen;
        for (size_t i = 0; i < info.m.n_layers; i++)
                info.size += info.m.layers[i].size;
        info.created = json_string_value(json_object_get(info.config_json, "created"));
        *ret = info;
        return 0;
}

/* ---- progress line ---- */

#define PROGRESS_MIN_SIZE (4u << 20)
#define PROGRESS_INTERVAL_NS 100000000ull

static uint64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

void image_cli_progress_init(struct image_cli_progress *p, bool quiet)
{
        *p = (struct image_cli_progress) { .on = !quiet && isatty(STDERR_FILENO) };
}

void image_cli_progress_update(struct image_cli_progress *p, uint64_t done, uint64_t total)
{
        if (!p->on || total < PROGRESS_MIN_SIZE)
                return;
        uint64_t t = now_ns();
        /* the last update (done == total) is always drawn, so the line ends at 100% */
        if (done < total && p->drawn && t - p->last_ns < PROGRESS_INTERVAL_NS)
                return;
        p->last_ns = t;
        char a[32], b[32];
        fprintf(stderr, "\r\033[K%s  %s / %s  %3u%%", p->what, image_cli_format_size(done, a, sizeof a),
                image_cli_format_size(total, b, sizeof b), (unsigned) (done >= total ? 100 : done * 100 / total));
        fflush(stderr);
        p->drawn = true;
}

void image_cli_progress_clear(struct image_cli_progress *p)
{
        if (p->drawn) {
                fputs("\r\033[K", stderr);
                fflush(stderr);
                p->drawn = false;
        }
}

static void store_progress(const struct digest *blob, uint64_t done, uint64_t total, void *userdata)
{
        struct image_cli_progress *p = userdata;
        snprintf(p->what, sizeof p->what, "Copying blob %.12s", blob->hex);
        image_cli_progress_update(p, done, total);
}

void image_cli_progress_store(struct image_cli_progress *p, struct image_store *s)
{
        if (!p->on)
                return;
        s->progress = store_progress;
        s->progress_userdata = p;
}

static void rootfs_layer_started(size_t index, size_t count, const struct oci_descriptor *layer, void *userdata)
{
        struct image_cli_progress *p = userdata;
        snprintf(p->what, sizeof p->what, "Unpacking layer %zu/%zu %.12s", index + 1, count, layer->digest.hex);
}

static void rootfs_progress(uint64_t done, uint64_t total, void *userdata)
{
        image_cli_progress_update(userdata, done, total);
}

void image_cli_progress_rootfs(struct image_cli_progress *p, struct rootfs_options *opts)
{
        if (!p->on)
                return;
        opts->layer_started = rootfs_layer_started;
        opts->progress = rootfs_progress;
        opts->userdata = p;
}
