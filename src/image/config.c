#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image/config.h"
#include "image/layout.h"
#include "util/cleanup.h"
#include "util/json.h"

static void labels_free(struct image_label *labels, size_t n)
{
        for (size_t i = 0; labels && i < n; i++) {
                free(labels[i].key);
                free(labels[i].value);
        }
        free(labels);
}

void image_run_config_done(struct image_run_config *c)
{
        strv_free(c->entrypoint);
        strv_free(c->cmd);
        strv_free(c->env);
        free(c->working_dir);
        free(c->user);
        free(c->stop_signal);
        strv_free(c->volumes);
        strv_free(c->exposed_ports);
        labels_free(c->labels, c->n_labels);
        *c = (struct image_run_config) { 0 };
}

const char *image_run_config_label(const struct image_run_config *c, const char *key)
{
        for (size_t i = 0; i < c->n_labels; i++)
                if (strcmp(c->labels[i].key, key) == 0)
                        return c->labels[i].value;
        return NULL;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static int cmp_label(const void *a, const void *b)
{
        return strcmp(((const struct image_label *) a)->key, ((const struct image_label *) b)->key);
}

/* "jpath.KEY" for an error message: KEY is the image's, so control bytes become '?' (an error is one line). */
static void key_path(char *buf, size_t size, const char *jpath, const char *key)
{
        json_path_key(buf, size, jpath, key);
        for (unsigned char *p = (unsigned char *) buf; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                        *p = '?';
}

/* An object key as a string we keep: the same bounds json_dispatch_string puts on values (jansson
 * already refuses NUL bytes in keys). */
static int check_key(const char *jpath, const char *key, struct herror *err)
{
        if (strlen(key) > JSON_STRING_MAX)
                return herror_set(err, E2BIG, "%s: a key longer than %u bytes", jpath, JSON_STRING_MAX);
        return 0;
}

/* v must be an object of at most JSON_STRV_MAX members (what: "an object", "an object of strings"). */
static int object_members(const char *jpath, json_t *v, const char *what, size_t *ret, struct herror *err)
{
        if (!json_is_object(v))
                return herror_set(err, EINVAL, "%s: expected %s", jpath, what);
        *ret = json_object_size(v);
        if (*ret > JSON_STRV_MAX)
                return herror_set(err, E2BIG, "%s: more than %u entries", jpath, JSON_STRV_MAX);
        return 0;
}

/* {"KEY": {} | null, ...} -> the sorted keys (char ***); an empty object gives NULL. */
static int dispatch_key_set(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        size_t n, i = 0;
        if (object_members(jpath, v, "an object", &n, err) < 0)
                return -1;
        _cleanup_strv_ char **keys = calloc(n + 1, sizeof *keys);
        if (!keys)
                return herror_set(err, ENOMEM, "%s: out of memory", jpath);
        const char *key;
        json_t *val;
        json_object_foreach (v, key, val) {
                char p[512];
                key_path(p, sizeof p, jpath, key);
                if (check_key(jpath, key, err) < 0)
                        return -1;
                if (!json_is_object(val) && !json_is_null(val))
                        return herror_set(err, EINVAL, "%s: expected an object ({}) or null", p);
                if (!(keys[i++] = strdup(key)))
                        return herror_set(err, ENOMEM, "%s: out of memory", p);
        }
        qsort(keys, i, sizeof *keys, cmp_str);
        char ***out = dst;
        strv_free(*out);
        *out = i ? TAKE_PTR(keys) : NULL;
        return 0;
}

/* {"KEY": "VALUE", ...} -> labels (dst: struct image_run_config *). */
static int dispatch_labels(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        struct image_run_config *c = dst;
        size_t n, i = 0;
        if (object_members(jpath, v, "an object of strings", &n, err) < 0)
                return -1;
        struct image_label *labels = calloc(n ? n : 1, sizeof *labels);
        if (!labels)
                return herror_set(err, ENOMEM, "%s: out of memory", jpath);
        int r = 0;
        const char *key;
        json_t *val;
        json_object_foreach (v, key, val) {
                char p[512];
                key_path(p, sizeof p, jpath, key);
                if ((r = check_key(jpath, key, err)) < 0 ||
                    (r = json_dispatch_string(p, val, &labels[i].value, err)) < 0)
                        break;
                if (!(labels[i++].key = strdup(key))) {
                        r = herror_set(err, ENOMEM, "%s: out of memory", p);
                        break;
                }
        }
        if (r < 0) {
                labels_free(labels, n);
                return r;
        }
        qsort(labels, i, sizeof *labels, cmp_label);
        labels_free(c->labels, c->n_labels);
        if (!i) {
                free(labels);
                labels = NULL;
        }
        c->labels = labels;
        c->n_labels = i;
        return 0;
}

#define OFF(f) offsetof(struct image_run_config, f)

int image_config_parse(const char *data, size_t len, const char *source, struct image_run_config *ret,
                       struct herror *err)
{
        /* null is what Docker writes for an unset Entrypoint or Cmd */
        static const struct json_field fields[] = {
                { "Entrypoint", JSON_ARRAY, json_dispatch_strv, OFF(entrypoint), JF_NULLABLE },
                { "Cmd", JSON_ARRAY, json_dispatch_strv, OFF(cmd), JF_NULLABLE },
                { "Env", JSON_ARRAY, json_dispatch_strv, OFF(env), JF_NULLABLE },
                { "WorkingDir", JSON_STRING, json_dispatch_string, OFF(working_dir), 0 },
                { "User", JSON_STRING, json_dispatch_string, OFF(user), 0 },
                { "StopSignal", JSON_STRING, json_dispatch_string, OFF(stop_signal), 0 },
                /* Docker writes null for unset maps */
                { "Volumes", JSON_OBJECT, dispatch_key_set, OFF(volumes), JF_NULLABLE },
                { "ExposedPorts", JSON_OBJECT, dispatch_key_set, OFF(exposed_ports), JF_NULLABLE },
                { "Labels", JSON_OBJECT, dispatch_labels, 0, JF_NULLABLE },
                { NULL },
        };
        _cleanup_json_ json_t *root = NULL;
        int r = json_parse_limited(data, len, source, OCI_DOCUMENT_MAX_SIZE, JSON_MAX_DEPTH_DEFAULT, &root, err);
        if (r < 0)
                return r;
        if (!json_is_object(root))
                return herror_set(err, EINVAL, "%s: expected an object", source);
        struct image_run_config c = { 0 };
        json_t *cfg = json_object_get(root, "config");
        if (cfg && !json_is_null(cfg) && (r = json_dispatch(cfg, ".config", fields, &c, 0, err)) < 0) {
                image_run_config_done(&c);
                return herror_wrap(err, "%s", source);
        }
        *ret = c;
        return 0;
}

int store_read_run_config(struct image_store *s, const struct digest *manifest, struct image_run_config *ret,
                          struct herror *err)
{
        /* Only the manifest's config descriptor is needed: each blob is read (and its digest checked) once. */
        _cleanup_free_ char *mdata = NULL, *data = NULL;
        size_t mlen, len;
        char ds[DIGEST_STRING_MAX], source[DIGEST_STRING_MAX + 16];
        int r = store_read_blob(s, manifest, OCI_DOCUMENT_MAX_SIZE, &mdata, &mlen, err);
        if (r < 0)
                return r;
        struct oci_manifest m = { 0 };
        snprintf(source, sizeof source, "manifest %s", digest_to_string(manifest, ds));
        if ((r = oci_manifest_parse(mdata, mlen, source, &m, err)) < 0)
                return r;
        struct digest cd = m.config.digest;
        oci_manifest_done(&m);
        if ((r = store_read_blob(s, &cd, OCI_DOCUMENT_MAX_SIZE, &data, &len, err)) < 0)
                return r;
        snprintf(source, sizeof source, "image config %s", digest_to_string(&cd, ds));
        return image_config_parse(data, len, source, ret, err);
}
