#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/layout.h"
#include "util/fileio.h"
#include "util/json.h"
#include "util/safepath.h"

static const struct {
        const char *media_type;
        enum oci_kind kind;
        enum layer_compression compression;
} media_types[] = {
        { OCI_MEDIA_TYPE_INDEX, OCI_KIND_INDEX, LAYER_COMPRESSION_NONE },
        { DOCKER_MEDIA_TYPE_LIST, OCI_KIND_INDEX, LAYER_COMPRESSION_NONE },
        { OCI_MEDIA_TYPE_MANIFEST, OCI_KIND_MANIFEST, LAYER_COMPRESSION_NONE },
        { DOCKER_MEDIA_TYPE_MANIFEST, OCI_KIND_MANIFEST, LAYER_COMPRESSION_NONE },
        { OCI_MEDIA_TYPE_CONFIG, OCI_KIND_CONFIG, LAYER_COMPRESSION_NONE },
        { DOCKER_MEDIA_TYPE_CONFIG, OCI_KIND_CONFIG, LAYER_COMPRESSION_NONE },
        { "application/vnd.oci.image.layer.v1.tar", OCI_KIND_LAYER, LAYER_COMPRESSION_NONE },
        { "application/vnd.oci.image.layer.v1.tar+gzip", OCI_KIND_LAYER, LAYER_COMPRESSION_GZIP },
        { "application/vnd.oci.image.layer.v1.tar+zstd", OCI_KIND_LAYER, LAYER_COMPRESSION_ZSTD },
        /* Deprecated, but image-spec says they must still be accepted. */
        { "application/vnd.oci.image.layer.nondistributable.v1.tar", OCI_KIND_LAYER, LAYER_COMPRESSION_NONE },
        { "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", OCI_KIND_LAYER, LAYER_COMPRESSION_GZIP },
        { "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", OCI_KIND_LAYER, LAYER_COMPRESSION_ZSTD },
        { "application/vnd.docker.image.rootfs.diff.tar.gzip", OCI_KIND_LAYER, LAYER_COMPRESSION_GZIP },
        { "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", OCI_KIND_LAYER, LAYER_COMPRESSION_GZIP },
};

enum oci_kind oci_media_type_kind(const char *media_type, enum layer_compression *ret_compression)
{
        if (!media_type)
                return OCI_KIND_UNKNOWN;
        for (size_t i = 0; i < ELEMENTSOF(media_types); i++)
                if (streq(media_types[i].media_type, media_type)) {
                        if (ret_compression)
                                *ret_compression = media_types[i].compression;
                        return media_types[i].kind;
                }
        return OCI_KIND_UNKNOWN;
}

/* ---- platforms ---- */

void oci_platform_host(struct oci_platform *ret)
{
        *ret = (struct oci_platform) { .os = "linux" };
        const char *arch = "unknown", *variant = "";
#if defined(__x86_64__)
        arch = "amd64";
#elif defined(__aarch64__)
        arch = "arm64";
        variant = "v8";
#elif defined(__arm__) && defined(__ARM_ARCH) && __ARM_ARCH >= 7
        arch = "arm";
        variant = "v7";
#elif defined(__arm__)
        arch = "arm";
        variant = "v6";
#elif defined(__i386__)
        arch = "386";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        arch = "ppc64le";
#elif defined(__s390x__)
        arch = "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
        arch = "riscv64";
#elif defined(__loongarch64)
        arch = "loong64";
#endif
        snprintf(ret->architecture, sizeof ret->architecture, "%s", arch);
        snprintf(ret->variant, sizeof ret->variant, "%s", variant);
}

static bool platform_word_ok(const char *s, size_t len, size_t max)
{
        if (len == 0 || len >= max)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' ||
                      s[i] == '-'))
                        return false;
        return true;
}

int oci_platform_parse(const char *s, struct oci_platform *ret, struct herror *err)
{
        struct oci_platform p = { 0 };
        const char *a = strchr(s, '/');
        const char *v = a ? strchr(a + 1, '/') : NULL;
        size_t os_len = a ? (size_t) (a - s) : 0;
        size_t arch_len = a ? (v ? (size_t) (v - a - 1) : strlen(a + 1)) : 0;
        if (!a || !platform_word_ok(s, os_len, sizeof p.os) ||
            !platform_word_ok(a + 1, arch_len, sizeof p.architecture) ||
            (v && !platform_word_ok(v + 1, strlen(v + 1), sizeof p.variant)))
                return herror_set(err, EINVAL, "platform \"%.64s\": expected OS/ARCH[/VARIANT], e.g. linux/arm64/v8",
                                  s);
        memcpy(p.os, s, os_len);
        memcpy(p.architecture, a + 1, arch_len);
        if (v)
                snprintf(p.variant, sizeof p.variant, "%s", v + 1);
        *ret = p;
        return 0;
}

/* A variant on only one side matches: arm64 images rarely say "v8", and "linux/amd64" asks for any. */
bool oci_platform_matches(const struct oci_platform *have, const struct oci_platform *want)
{
        if (!streq(have->os, want->os) || !streq(have->architecture, want->architecture))
                return false;
        return !have->variant[0] || !want->variant[0] || streq(have->variant, want->variant);
}

/* ---- documents ---- */

static int get_string(json_t *obj, const char *key, const char *jpath, bool required, char **ret, struct herror *err)
{
        char path[512];
        json_path_key(path, sizeof path, jpath, key);
        json_t *v = json_object_get(obj, key);
        if (!v || json_is_null(v)) {
                if (required)
                        return herror_set(err, EINVAL, "%s: required property missing", path);
                return 0;
        }
        return json_dispatch_string(path, v, ret, err);
}

static int copy_platform_word(json_t *obj, const char *key, const char *jpath, bool required, char *buf, size_t size,
                              struct herror *err)
{
        _cleanup_free_ char *s = NULL;
        int r = get_string(obj, key, jpath, required, &s, err);
        if (r < 0)
                return r;
        if (s && strlen(s) >= size)
                return herror_set(err, EINVAL, "%s.%s: longer than %zu bytes", jpath, key, size - 1);
        snprintf(buf, size, "%s", s ? s : "");
        return 0;
}

static int parse_platform(json_t *v, const char *jpath, struct oci_platform *ret, struct herror *err)
{
        if (!json_is_object(v))
                return herror_set(err, EINVAL, "%s: expected an object", jpath);
        struct oci_platform p = { 0 };
        int r = copy_platform_word(v, "os", jpath, true, p.os, sizeof p.os, err);
        if (r == 0)
                r = copy_platform_word(v, "architecture", jpath, true, p.architecture, sizeof p.architecture, err);
        if (r == 0)
                r = copy_platform_word(v, "variant", jpath, false, p.variant, sizeof p.variant, err);
        if (r == 0)
                *ret = p;
        return r;
}

/* strict: the media type must be known (config and layer descriptors). In an index an unknown media
 * type is kept as OCI_KIND_UNKNOWN and its digest is not looked at. */
static int parse_descriptor(json_t *v, const char *jpath, bool strict, struct oci_descriptor *ret, struct herror *err)
{
        char path[512];
        if (!json_is_object(v))
                return herror_set(err, EINVAL, "%s: expected an object", jpath);
        struct oci_descriptor d = { 0 };
        int r = get_string(v, "mediaType", jpath, strict, &d.media_type, err);
        if (r < 0)
                goto fail;
        d.kind = oci_media_type_kind(d.media_type, &d.compression);
        if (d.kind == OCI_KIND_UNKNOWN) {
                if (strict) {
                        r = herror_set(err, EOPNOTSUPP, "%s.mediaType: unsupported media type \"%.128s\"", jpath,
                                       d.media_type);
                        goto fail;
                }
                *ret = d;
                return 0;
        }
        json_path_key(path, sizeof path, jpath, "digest");
        json_t *dg = json_object_get(v, "digest");
        if (!dg || !json_is_string(dg)) {
                r = herror_set(err, EINVAL, "%s: required string missing", path);
                goto fail;
        }
        r = digest_parse(json_string_value(dg), &d.digest, err);
        if (r < 0) {
                herror_wrap(err, "%s", path);
                goto fail;
        }
        json_path_key(path, sizeof path, jpath, "size");
        json_t *sz = json_object_get(v, "size");
        if (!sz) {
                r = herror_set(err, EINVAL, "%s: required property missing", path);
                goto fail;
        }
        r = json_dispatch_uint64(path, sz, &d.size, err);
        if (r < 0)
                goto fail;
        json_t *ann = json_object_get(v, "annotations");
        if (ann && !json_is_null(ann)) {
                json_path_key(path, sizeof path, jpath, "annotations");
                if (!json_is_object(ann)) {
                        r = herror_set(err, EINVAL, "%s: expected an object", path);
                        goto fail;
                }
                r = get_string(ann, OCI_REF_NAME_ANNOTATION, path, false, &d.ref_name, err);
                if (r == 0)
                        r = get_string(ann, COSIGN_KIND_ANNOTATION, path, false, &d.cosign_kind, err);
                if (r < 0)
                        goto fail;
        }
        json_t *plat = json_object_get(v, "platform");
        if (plat && !json_is_null(plat)) {
                json_path_key(path, sizeof path, jpath, "platform");
                r = parse_platform(plat, path, &d.platform, err);
                if (r < 0)
                        goto fail;
                d.has_platform = true;
        }
        *ret = d;
        return 0;
fail:
        oci_descriptor_done(&d);
        return r;
}

void oci_descriptor_done(struct oci_descriptor *d)
{
        free(d->media_type);
        free(d->ref_name);
        free(d->cosign_kind);
        *d = (struct oci_descriptor) { 0 };
}

static int check_schema_version(json_t *root, const char *source, struct herror *err)
{
        json_t *v = json_object_get(root, "schemaVersion");
        if (!v)
                return herror_set(err, EINVAL, "%s: schemaVersion: required property missing", source);
        if (!json_is_integer(v) || json_integer_value(v) != 2)
                return herror_set(err, EOPNOTSUPP, "%s: schemaVersion: only version 2 is supported", source);
        return 0;
}

/* The mediaType inside a document, when present, must be the expected one: this is what stops a
 * manifest from being read as an index or the other way round (image-spec "Guidance"). */
static int check_media_type(json_t *root, const char *source, enum oci_kind want, struct herror *err)
{
        json_t *v = json_object_get(root, "mediaType");
        if (v && !json_is_null(v)) {
                if (!json_is_string(v))
                        return herror_set(err, EINVAL, "%s: mediaType: expected a string", source);
                if (oci_media_type_kind(json_string_value(v), NULL) != want)
                        return herror_set(err, EINVAL, "%s: mediaType \"%.128s\" is not an %s", source,
                                          json_string_value(v),
                                          want == OCI_KIND_INDEX ? "image index" : "image manifest");
        }
        const char *foreign = want == OCI_KIND_INDEX ? "layers" : "manifests";
        if (json_object_get(root, foreign))
                return herror_set(err, EINVAL, "%s: has \"%s\", which does not belong in an %s", source, foreign,
                                  want == OCI_KIND_INDEX ? "image index" : "image manifest");
        return 0;
}

static int parse_document(const char *data, size_t len, const char *source, json_t **ret, struct herror *err)
{
        json_t *root = NULL;
        int r = json_parse_limited(data, len, source, OCI_DOCUMENT_MAX_SIZE, JSON_MAX_DEPTH_DEFAULT, &root, err);
        if (r < 0)
                return r;
        if (!json_is_object(root)) {
                json_decref(root);
                return herror_set(err, EINVAL, "%s: expected a JSON object", source);
        }
        *ret = root;
        return 0;
}

static int parse_descriptor_array(json_t *arr, const char *jpath, bool strict, size_t max, struct oci_descriptor **ret,
                                  size_t *ret_n, struct herror *err)
{
        if (!json_is_array(arr))
                return herror_set(err, EINVAL, "%s: expected an array", jpath);
        size_t n = json_array_size(arr);
        if (n > max)
                return herror_set(err, E2BIG, "%s: more than %zu entries", jpath, max);
        struct oci_descriptor *d = calloc(n ? n : 1, sizeof *d);
        if (!d)
                return herror_set(err, ENOMEM, "%s: out of memory", jpath);
        for (size_t i = 0; i < n; i++) {
                char path[512];
                json_path_index(path, sizeof path, jpath, i);
                int r = parse_descriptor(json_array_get(arr, i), path, strict, &d[i], err);
                if (r < 0) {
                        for (size_t j = 0; j < i; j++)
                                oci_descriptor_done(&d[j]);
                        free(d);
                        return r;
                }
        }
        *ret = d;
        *ret_n = n;
        return 0;
}

int oci_index_parse(const char *data, size_t len, const char *source, struct oci_index *ret, struct herror *err)
{
        _cleanup_json_ json_t *root = NULL;
        int r = parse_document(data, len, source, &root, err);
        if (r < 0)
                return r;
        if ((r = check_schema_version(root, source, err)) < 0 ||
            (r = check_media_type(root, source, OCI_KIND_INDEX, err)) < 0)
                return r;
        json_t *m = json_object_get(root, "manifests");
        if (!m)
                return herror_set(err, EINVAL, "%s: manifests: required property missing", source);
        char path[512];
        json_path_key(path, sizeof path, source, "manifests");
        struct oci_index idx = { 0 };
        r = parse_descriptor_array(m, path, false, OCI_MAX_INDEX_ENTRIES, &idx.manifests, &idx.n_manifests, err);
        if (r < 0)
                return r;
        *ret = idx;
        return 0;
}

void oci_index_done(struct oci_index *i)
{
        for (size_t k = 0; k < i->n_manifests; k++)
                oci_descriptor_done(&i->manifests[k]);
        free(i->manifests);
        *i = (struct oci_index) { 0 };
}

int oci_manifest_parse(const char *data, size_t len, const char *source, struct oci_manifest *ret, struct herror *err)
{
        _cleanup_json_ json_t *root = NULL;
        int r = parse_document(data, len, source, &root, err);
        if (r < 0)
                return r;
        if ((r = check_schema_version(root, source, err)) < 0 ||
            (r = check_media_type(root, source, OCI_KIND_MANIFEST, err)) < 0)
                return r;
        char path[512];
        struct oci_manifest m = { 0 };
        json_t *c = json_object_get(root, "config");
        json_path_key(path, sizeof path, source, "config");
        if (!c) {
                r = herror_set(err, EINVAL, "%s: required property missing", path);
                goto fail;
        }
        /* A config we cannot parse means an artifact (signature, SBOM, ...) rather than a runnable
         * image: config.md says to treat it as opaque, so such a manifest is refused here. */
        r = parse_descriptor(c, path, false, &m.config, err);
        if (r == 0 && m.config.kind != OCI_KIND_CONFIG)
                r = herror_set(err, EOPNOTSUPP, "%s.mediaType: \"%.128s\" is not an image config: not a runnable image",
                               path, m.config.media_type ? m.config.media_type : "(none)");
        if (r < 0)
                goto fail;
        json_t *l = json_object_get(root, "layers");
        json_path_key(path, sizeof path, source, "layers");
        if (!l) {
                r = herror_set(err, EINVAL, "%s: required property missing", path);
                goto fail;
        }
        r = parse_descriptor_array(l, path, true, OCI_MAX_LAYERS, &m.layers, &m.n_layers, err);
        if (r < 0)
                goto fail;
        for (size_t i = 0; i < m.n_layers; i++)
                if (m.layers[i].kind != OCI_KIND_LAYER) {
                        r = herror_set(err, EOPNOTSUPP, "%s[%zu].mediaType: \"%.128s\" is not a layer type", path, i,
                                       m.layers[i].media_type);
                        goto fail;
                }
        *ret = m;
        return 0;
fail:
        oci_manifest_done(&m);
        return r;
}

void oci_manifest_done(struct oci_manifest *m)
{
        oci_descriptor_done(&m->config);
        for (size_t k = 0; k < m->n_layers; k++)
                oci_descriptor_done(&m->layers[k]);
        free(m->layers);
        *m = (struct oci_manifest) { 0 };
}

static int parse_rootfs(json_t *root, const char *source, struct oci_config *c, struct herror *err)
{
        char path[512], ipath[512];
        json_path_key(path, sizeof path, source, "rootfs");
        json_t *rfs = json_object_get(root, "rootfs");
        if (!rfs)
                return herror_set(err, EINVAL, "%s: required property missing", path);
        if (!json_is_object(rfs))
                return herror_set(err, EINVAL, "%s: expected an object", path);
        _cleanup_free_ char *type = NULL;
        int r = get_string(rfs, "type", path, true, &type, err);
        if (r < 0)
                return r;
        if (!streq(type, "layers")) /* config.md: an unknown rootfs.type MUST be an error */
                return herror_set(err, EOPNOTSUPP, "%s.type: \"%.64s\" is not supported (only \"layers\")", path, type);
        json_t *ids = json_object_get(rfs, "diff_ids");
        json_path_key(ipath, sizeof ipath, path, "diff_ids");
        if (!ids)
                return herror_set(err, EINVAL, "%s: required property missing", ipath);
        if (!json_is_array(ids))
                return herror_set(err, EINVAL, "%s: expected an array", ipath);
        size_t n = json_array_size(ids);
        if (n > OCI_MAX_LAYERS)
                return herror_set(err, E2BIG, "%s: more than %d entries", ipath, OCI_MAX_LAYERS);
        c->diff_ids = calloc(n ? n : 1, sizeof *c->diff_ids);
        if (!c->diff_ids)
                return herror_set(err, ENOMEM, "%s: out of memory", ipath);
        for (size_t i = 0; i < n; i++) {
                json_t *v = json_array_get(ids, i);
                if (!json_is_string(v))
                        return herror_set(err, EINVAL, "%s[%zu]: expected a string", ipath, i);
                r = digest_parse(json_string_value(v), &c->diff_ids[i], err);
                if (r < 0) {
                        herror_wrap(err, "%s[%zu]", ipath, i);
                        return r;
                }
        }
        c->n_diff_ids = n;
        return 0;
}

int oci_config_parse(const char *data, size_t len, const char *source, struct oci_config *ret, struct herror *err)
{
        _cleanup_json_ json_t *root = NULL;
        int r = parse_document(data, len, source, &root, err);
        if (r < 0)
                return r;
        struct oci_config c = { 0 };
        if ((r = get_string(root, "os", source, true, &c.os, err)) < 0 ||
            (r = get_string(root, "architecture", source, true, &c.architecture, err)) < 0 ||
            (r = get_string(root, "variant", source, false, &c.variant, err)) < 0 ||
            (r = parse_rootfs(root, source, &c, err)) < 0) {
                oci_config_done(&c);
                return r;
        }
        *ret = c;
        return 0;
}

void oci_config_done(struct oci_config *c)
{
        free(c->os);
        free(c->architecture);
        free(c->variant);
        free(c->diff_ids);
        *c = (struct oci_config) { 0 };
}

void oci_image_done(struct oci_image *img)
{
        free(img->ref_name);
        oci_descriptor_done(&img->manifest_desc);
        free(img->manifest_data);
        oci_manifest_done(&img->manifest);
        free(img->config_data);
        oci_config_done(&img->config);
        *img = (struct oci_image) { 0 };
}

/* ---- the layout directory ---- */

int oci_layout_check(int layoutfd, struct herror *err)
{
        _cleanup_json_ json_t *root = NULL;
        int r = json_read_file(layoutfd, "oci-layout", 64 * 1024, &root, err);
        if (r < 0) {
                herror_wrap(err, "not an OCI image layout");
                return r;
        }
        json_t *v = json_is_object(root) ? json_object_get(root, "imageLayoutVersion") : NULL;
        if (!v || !json_is_string(v))
                return herror_set(err, EINVAL, "oci-layout: imageLayoutVersion: required string missing");
        if (strncmp(json_string_value(v), "1.", 2) != 0)
                return herror_set(err, EOPNOTSUPP, "oci-layout: imageLayoutVersion \"%.32s\" is not supported (1.x)",
                                  json_string_value(v));
        return 0;
}

int oci_layout_read_index(int layoutfd, struct oci_index *ret, struct herror *err)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r = read_file_at(layoutfd, "index.json", OCI_DOCUMENT_MAX_SIZE, &data, &len, err);
        if (r < 0)
                return r;
        return oci_index_parse(data, len, "index.json", ret, err);
}

int oci_layout_open_blob(int layoutfd, const struct digest *d, uint64_t expected_size, struct herror *err)
{
        char path[sizeof "blobs/sha256/" + DIGEST_HEX_LEN];
        snprintf(path, sizeof path, "blobs/sha256/%s", d->hex);
        int fd = safe_openat(layoutfd, path, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0, SAFE_BENEATH | SAFE_NO_SYMLINKS, err);
        if (fd < 0) {
                if (fd == -ENOENT)
                        return herror_set(err, ENOENT, "%s: blob missing from the layout", path);
                return fd;
        }
        struct stat st;
        if (fstat(fd, &st) < 0) {
                int e = errno;
                close(fd);
                return herror_sys(err, e, "%s: stat", path);
        }
        if (!S_ISREG(st.st_mode)) {
                close(fd);
                return herror_set(err, EINVAL, "%s: not a regular file", path);
        }
        /* Size first (descriptor.md): content of the wrong length is not even hashed. */
        if ((uint64_t) st.st_size != expected_size) {
                close(fd);
                return herror_set(err, EBADMSG, "%s: size %llu does not match the descriptor's %llu", path,
                                  (unsigned long long) st.st_size, (unsigned long long) expected_size);
        }
        return fd;
}

int oci_layout_read_blob(int layoutfd, const struct oci_descriptor *d, size_t max_size, char **ret, size_t *ret_len,
                         struct herror *err)
{
        char name[sizeof "blobs/sha256/" + DIGEST_HEX_LEN];
        snprintf(name, sizeof name, "blobs/sha256/%s", d->digest.hex);
        if (d->size > max_size)
                return herror_set(err, EFBIG, "%s: descriptor size %llu is over the limit of %zu bytes", name,
                                  (unsigned long long) d->size, max_size);
        _cleanup_close_ int fd = oci_layout_open_blob(layoutfd, &d->digest, d->size, err);
        if (fd < 0)
                return fd;
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r = read_fd_limited(fd, name, d->size, &data, &len, err);
        if (r < 0)
                return r;
        if (len != d->size)
                return herror_set(err, EBADMSG, "%s: size %zu does not match the descriptor's %llu", name, len,
                                  (unsigned long long) d->size);
        struct digest got;
        r = digest_buffer(data, len, &got, err);
        if (r < 0)
                return r;
        if (!digest_equal(&got, &d->digest)) {
                char a[DIGEST_STRING_MAX], b[DIGEST_STRING_MAX];
                return herror_set(err, EBADMSG, "%s: digest did not match, expected %s, got %s", name,
                                  digest_to_string(&d->digest, a), digest_to_string(&got, b));
        }
        *ret = TAKE_PTR(data);
        *ret_len = len;
        return 0;
}

static bool is_image_entry(const struct oci_descriptor *d)
{
        return d->kind == OCI_KIND_INDEX || d->kind == OCI_KIND_MANIFEST;
}

/* "@N": the Nth index.json entry. */
static bool parse_position(const char *ref, size_t *ret)
{
        if (ref[0] != '@' || !ref[1] || strlen(ref) > 9 || strspn(ref + 1, "0123456789") != strlen(ref + 1))
                return false;
        *ret = strtoul(ref + 1, NULL, 10);
        return true;
}

/* "sha256-<hex>.sig" (and .att, .sbom): the tags cosign and skopeo give signature and attestation
 * artifacts of an image (FORMATS.md 3.4). They are manifests, but not images anyone means to run, so a
 * layout holding one image and its signature still "holds exactly one image". */
static bool is_cosign_artifact_tag(const char *name)
{
        if (!name || strncmp(name, "sha256-", 7) != 0 || strlen(name) < 7 + DIGEST_HEX_LEN)
                return false;
        for (size_t i = 7; i < 7 + DIGEST_HEX_LEN; i++)
                if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
                        return false;
        const char *ext = name + 7 + DIGEST_HEX_LEN;
        return streq(ext, ".sig") || streq(ext, ".att") || streq(ext, ".sbom");
}

/* An unknown kind in cosign's namespace (a newer cosign's attachments, or a hostile label) counts as an
 * artifact too: it is never picked as the image by default, and never read as signatures. */
bool oci_descriptor_is_cosign_artifact(const struct oci_descriptor *d)
{
        if (is_cosign_artifact_tag(d->ref_name))
                return true;
        return d->cosign_kind && strncmp(d->cosign_kind, COSIGN_KIND_PREFIX, strlen(COSIGN_KIND_PREFIX)) == 0 &&
                !streq(d->cosign_kind, COSIGN_KIND_IMAGE) && !streq(d->cosign_kind, COSIGN_KIND_IMAGE_INDEX);
}

static int select_top(const struct oci_index *idx, const char *ref, const struct oci_descriptor **ret,
                      struct herror *err)
{
        const struct oci_descriptor *found = NULL;
        size_t pos, n_images = 0;
        if (ref && parse_position(ref, &pos)) {
                if (pos >= idx->n_manifests)
                        return herror_set(err, ENOENT, "index.json has no entry %s (%zu entries)", ref,
                                          idx->n_manifests);
                if (!is_image_entry(&idx->manifests[pos]))
                        return herror_set(err, EOPNOTSUPP,
                                          "index.json entry %s has media type \"%.128s\", not an image", ref,
                                          idx->manifests[pos].media_type ? idx->manifests[pos].media_type : "(none)");
                *ret = &idx->manifests[pos];
                return 0;
        }
        for (size_t i = 0; i < idx->n_manifests; i++) {
                const struct oci_descriptor *d = &idx->manifests[i];
                if (!is_image_entry(d))
                        continue; /* unknown media types MUST NOT cause an error (image-layout.md) */
                if (!ref && oci_descriptor_is_cosign_artifact(d))
                        continue;
                n_images++;
                if (ref && !(d->ref_name && streq(d->ref_name, ref)))
                        continue;
                /* Duplicate ref names are possible (annotations.md); the same image twice is harmless,
                 * two different images under one name are ambiguous and refused. */
                if (found && !digest_equal(&found->digest, &d->digest)) {
                        if (ref)
                                return herror_set(err, EINVAL, "index.json: \"%s\" names more than one image", ref);
                        return herror_set(err, EINVAL, "index.json lists more than one image; name one (LAYOUT:REF)");
                }
                if (!found)
                        found = d;
        }
        if (!found) {
                if (ref)
                        return herror_set(err, ENOENT, "index.json: no image named \"%s\"", ref);
                return herror_set(err, ENOENT, "index.json lists no image%s",
                                  n_images ? "" : " of a supported media type");
        }
        *ret = found;
        return 0;
}

static int select_platform(const struct oci_index *idx, const char *source, const struct oci_platform *want,
                           const struct oci_descriptor **ret, struct herror *err)
{
        for (size_t i = 0; i < idx->n_manifests; i++) {
                const struct oci_descriptor *d = &idx->manifests[i];
                /* image-index.md: when several entries match, the first SHOULD be used. */
                if (is_image_entry(d) && d->has_platform && oci_platform_matches(&d->platform, want)) {
                        *ret = d;
                        return 0;
                }
        }
        return herror_set(err, ENOENT, "%s: no image for platform %s/%s%s%s", source, want->os, want->architecture,
                          want->variant[0] ? "/" : "", want->variant);
}

static int resolve_manifest(int layoutfd, const struct oci_descriptor *start, const struct oci_platform *want,
                            struct oci_descriptor *ret_desc, struct herror *err)
{
        struct oci_descriptor cur = { 0 };
        struct oci_index nested = { 0 };
        const struct oci_descriptor *d = start;
        int r;
        for (int depth = 0;; depth++) {
                if (d->kind == OCI_KIND_MANIFEST)
                        break;
                if (depth >= OCI_MAX_INDEX_DEPTH) {
                        r = herror_set(err, ELOOP, "image indexes nested deeper than %d levels", OCI_MAX_INDEX_DEPTH);
                        goto out;
                }
                char source[sizeof "blobs/sha256/" + DIGEST_HEX_LEN];
                snprintf(source, sizeof source, "blobs/sha256/%s", d->digest.hex);
                _cleanup_free_ char *data = NULL;
                size_t len = 0;
                r = oci_layout_read_blob(layoutfd, d, OCI_DOCUMENT_MAX_SIZE, &data, &len, err);
                if (r < 0)
                        goto out;
                struct oci_index next = { 0 };
                r = oci_index_parse(data, len, source, &next, err);
                if (r < 0)
                        goto out;
                oci_index_done(&nested);
                nested = next;
                r = select_platform(&nested, source, want, &d, err);
                if (r < 0)
                        goto out;
        }
        cur = *d;
        cur.media_type = strdup(d->media_type);
        cur.ref_name = d->ref_name ? strdup(d->ref_name) : NULL;
        cur.cosign_kind = d->cosign_kind ? strdup(d->cosign_kind) : NULL;
        if (!cur.media_type || (d->ref_name && !cur.ref_name) || (d->cosign_kind && !cur.cosign_kind)) {
                oci_descriptor_done(&cur);
                r = herror_set(err, ENOMEM, "out of memory");
                goto out;
        }
        *ret_desc = cur;
        r = 0;
out:
        oci_index_done(&nested);
        return r;
}

static int load_manifest_and_config(int layoutfd, struct oci_image *img, struct herror *err)
{
        char source[sizeof "blobs/sha256/" + DIGEST_HEX_LEN];
        snprintf(source, sizeof source, "blobs/sha256/%s", img->manifest_desc.digest.hex);
        int r = oci_layout_read_blob(layoutfd, &img->manifest_desc, OCI_DOCUMENT_MAX_SIZE, &img->manifest_data,
                                     &img->manifest_len, err);
        if (r < 0)
                return r;
        r = oci_manifest_parse(img->manifest_data, img->manifest_len, source, &img->manifest, err);
        if (r < 0)
                return r;
        snprintf(source, sizeof source, "blobs/sha256/%s", img->manifest.config.digest.hex);
        r = oci_layout_read_blob(layoutfd, &img->manifest.config, OCI_DOCUMENT_MAX_SIZE, &img->config_data,
                                 &img->config_len, err);
        if (r < 0) {
                herror_wrap(err, "image config");
                return r;
        }
        r = oci_config_parse(img->config_data, img->config_len, source, &img->config, err);
        if (r < 0)
                return r;
        /* config.md: diff_ids[i] is the uncompressed digest of layers[i]; a count mismatch means the
         * two documents do not describe the same image. */
        if (img->config.n_diff_ids != img->manifest.n_layers)
                return herror_set(err, EBADMSG, "%s: %zu rootfs.diff_ids for %zu layers in the manifest", source,
                                  img->config.n_diff_ids, img->manifest.n_layers);
        return 0;
}

int oci_layout_resolve(int layoutfd, const char *ref, const struct oci_platform *platform, struct oci_image *ret,
                       struct herror *err)
{
        struct oci_platform host;
        if (!platform) {
                oci_platform_host(&host);
                platform = &host;
        }
        int r = oci_layout_check(layoutfd, err);
        if (r < 0)
                return r;
        struct oci_index idx = { 0 };
        r = oci_layout_read_index(layoutfd, &idx, err);
        if (r < 0)
                return r;
        struct oci_image img = { 0 };
        const struct oci_descriptor *top = NULL;
        r = select_top(&idx, ref, &top, err);
        if (r < 0 || !top)
                goto out;
        img.selected = top->digest;
        if (top->ref_name && !(img.ref_name = strdup(top->ref_name))) {
                r = herror_set(err, ENOMEM, "out of memory");
                goto out;
        }
        r = resolve_manifest(layoutfd, top, platform, &img.manifest_desc, err);
        if (r < 0)
                goto out;
        r = load_manifest_and_config(layoutfd, &img, err);
        if (r < 0)
                goto out;
        struct oci_platform have = { 0 };
        snprintf(have.os, sizeof have.os, "%s", img.config.os);
        snprintf(have.architecture, sizeof have.architecture, "%s", img.config.architecture);
        snprintf(have.variant, sizeof have.variant, "%s", img.config.variant ? img.config.variant : "");
        img.platform_mismatch = !oci_platform_matches(&have, platform);
        *ret = img;
        img = (struct oci_image) { 0 };
out:
        oci_image_done(&img);
        oci_index_done(&idx);
        return r;
}
