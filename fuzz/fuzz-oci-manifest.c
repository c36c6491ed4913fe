/* OCI image documents from a layout (index.json, index, manifest and config blobs): each parser on the
 * same bytes, digest and platform strings on them too. What a parser accepts must hold its promises:
 * known kinds only where strict, digests that re-parse, diff_ids that re-parse. */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "image/digest.h"
#include "image/layout.h"

static void check_descriptor(const struct oci_descriptor *d)
{
        char s[DIGEST_STRING_MAX];
        if (d->kind == OCI_KIND_UNKNOWN)
                return;
        if (!d->media_type || oci_media_type_kind(d->media_type, NULL) != d->kind)
                abort();
        if (!digest_is_valid(digest_to_string(&d->digest, s)) || strlen(d->digest.hex) != DIGEST_HEX_LEN)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > FUZZ_MAX_INPUT)
                return 0;
        const char *text = (const char *) data;
        struct herror err = HERROR_INIT;

        struct oci_index idx = { 0 };
        if (oci_index_parse(text, size, "index.json", &idx, &err) == 0) {
                for (size_t i = 0; i < idx.n_manifests; i++)
                        check_descriptor(&idx.manifests[i]);
                oci_index_done(&idx);
        }
        herror_clear(&err);

        struct oci_manifest m = { 0 };
        if (oci_manifest_parse(text, size, "manifest", &m, &err) == 0) {
                if (m.config.kind != OCI_KIND_CONFIG || m.n_layers > OCI_MAX_LAYERS)
                        abort();
                check_descriptor(&m.config);
                for (size_t i = 0; i < m.n_layers; i++) {
                        if (m.layers[i].kind != OCI_KIND_LAYER || m.layers[i].compression >= _LAYER_COMPRESSION_MAX)
                                abort();
                        check_descriptor(&m.layers[i]);
                }
                oci_manifest_done(&m);
        }
        herror_clear(&err);

        struct oci_config c = { 0 };
        if (oci_config_parse(text, size, "config", &c, &err) == 0) {
                char s[DIGEST_STRING_MAX];
                if (!c.os || !c.architecture)
                        abort();
                for (size_t i = 0; i < c.n_diff_ids; i++)
                        if (!digest_is_valid(digest_to_string(&c.diff_ids[i], s)))
                                abort();
                oci_config_done(&c);
        }
        herror_clear(&err);

        /* The same bytes as a digest string and as a platform string. */
        char *str = strndup(text, size < 256 ? size : 256);
        if (str) {
                struct digest d;
                if (digest_parse(str, &d, &err) == 0) {
                        char s[DIGEST_STRING_MAX];
                        if (strcmp(digest_to_string(&d, s), str) != 0)
                                abort();
                }
                herror_clear(&err);
                struct oci_platform p;
                if (oci_platform_parse(str, &p, &err) == 0 && (!p.os[0] || !p.architecture[0]))
                        abort();
                herror_clear(&err);
                free(str);
        }
        return 0;
}
