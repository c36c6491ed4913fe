#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image/config.h"
#include "image/layout.h"
#include "util/cleanup.h"
#include "util/json.h"

void image_run_config_done(struct image_run_config *c)
{
        strv_free(c->entrypoint);
        strv_free(c->cmd);
        strv_free(c->env);
        free(c->working_dir);
        free(c->user);
        free(c->stop_signal);
        *c = (struct image_run_config) { 0 };
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
        struct oci_manifest m = { 0 };
        struct oci_config oc = { 0 };
        int r = store_read_image(s, manifest, &m, &oc, err);
        if (r < 0)
                return r;
        struct digest cd = m.config.digest;
        oci_manifest_done(&m);
        oci_config_done(&oc);
        _cleanup_free_ char *data = NULL;
        size_t len;
        if ((r = store_read_blob(s, &cd, OCI_DOCUMENT_MAX_SIZE, &data, &len, err)) < 0)
                return r;
        char source[DIGEST_STRING_MAX + 16];
        char ds[DIGEST_STRING_MAX];
        snprintf(source, sizeof source, "image config %s", digest_to_string(&cd, ds));
        return image_config_parse(data, len, source, ret, err);
}
