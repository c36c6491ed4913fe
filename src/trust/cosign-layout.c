/* Signature artifacts in an OCI layout; see cosign-layout.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/layout.h"
#include "trust/cosign-layout.h"
#include "trust/reference.h"
#include "util/json.h"

struct sig_list {
        struct sigstore_signature *v;
        size_t n;
};

static void sig_list_done(struct sig_list *l)
{
        sigstore_signatures_free(l->v, l->n);
        *l = (struct sig_list) { 0 };
}

/* One layer of a signature manifest: its payload (digest and size checked) and annotation. */
static int read_signature_layer(int layoutfd, json_t *layer, const char *origin, struct sig_list *out,
                                struct herror *err)
{
        json_t *mt = json_object_get(layer, "mediaType");
        if (!json_is_string(mt) || !streq(json_string_value(mt), SIGSTORE_PAYLOAD_MEDIA_TYPE))
                return 0; /* not a signature: containers/image skips such layers too */
        if (out->n >= COSIGN_MAX_SIGNATURES)
                return herror_set(err, E2BIG, "%s: more than %d signatures", origin, COSIGN_MAX_SIGNATURES);
        json_t *dg = json_object_get(layer, "digest");
        json_t *sz = json_object_get(layer, "size");
        struct oci_descriptor d = { 0 };
        if (!json_is_string(dg) || digest_parse(json_string_value(dg), &d.digest, err) < 0)
                return herror_set(err, EBADMSG, "%s: layer without a valid sha256 digest", origin);
        if (!json_is_integer(sz) || json_integer_value(sz) < 0)
                return herror_set(err, EBADMSG, "%s: layer without a valid size", origin);
        d.size = (uint64_t) json_integer_value(sz);
        if (d.size > SIGSTORE_PAYLOAD_MAX)
                return herror_set(err, EFBIG, "%s: payload of %llu bytes is over the limit of %u", origin,
                                  (unsigned long long) d.size, SIGSTORE_PAYLOAD_MAX);
        json_t *ann = json_object_get(layer, "annotations");
        json_t *sig = json_is_object(ann) ? json_object_get(ann, SIGSTORE_SIGNATURE_ANNOTATION) : NULL;
        if (sig && !json_is_string(sig))
                return herror_set(err, EBADMSG, "%s: annotation %s is not a string", origin,
                                  SIGSTORE_SIGNATURE_ANNOTATION);

        struct sigstore_signature s = { 0 };
        int r = oci_layout_read_blob(layoutfd, &d, SIGSTORE_PAYLOAD_MAX, &s.payload, &s.payload_len, err);
        if (r < 0)
                return herror_wrap(err, "%s", origin);
        s.signature_b64 = sig ? strdup(json_string_value(sig)) : NULL;
        s.origin = strdup(origin);
        struct sigstore_signature *nv = realloc(out->v, (out->n + 1) * sizeof *nv);
        if (!s.origin || (sig && !s.signature_b64) || !nv) {
                if (nv)
                        out->v = nv;
                sigstore_signature_done(&s);
                return -ENOMEM;
        }
        out->v = nv;
        out->v[out->n++] = s;
        return 0;
}

static int read_signature_manifest(int layoutfd, const struct oci_descriptor *d, const char *tag, struct sig_list *out,
                                   struct herror *err)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r = oci_layout_read_blob(layoutfd, d, OCI_DOCUMENT_MAX_SIZE, &data, &len, err);
        if (r < 0)
                return herror_wrap(err, "signature artifact %s", tag);
        _cleanup_json_ json_t *j = NULL;
        r = json_parse_limited(data, len, tag, OCI_DOCUMENT_MAX_SIZE, JSON_MAX_DEPTH_DEFAULT, &j, err);
        if (r < 0)
                return r;
        json_t *layers = json_is_object(j) ? json_object_get(j, "layers") : NULL;
        if (!json_is_array(layers))
                return herror_set(err, EBADMSG, "signature artifact %s: manifest has no layers array", tag);
        for (size_t i = 0; i < json_array_size(layers); i++) {
                json_t *layer = json_array_get(layers, i);
                if (!json_is_object(layer))
                        return herror_set(err, EBADMSG, "signature artifact %s: layer %zu is not an object", tag, i);
                char origin[128];
                snprintf(origin, sizeof origin, "%s layer %zu", tag, i);
                r = read_signature_layer(layoutfd, layer, origin, out, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* cosign save (sigstore/cosign pkg/oci/layout/write.go) writes one image per layout and gives the
 * "sigs" entry no digest of the image it signs: it belongs to the entry of kind image or imageIndex.
 * That entry's digest in *ret, or *ret_found false when the layout has no sigs entry or no such entry.
 * Two different image entries make the owner ambiguous, which is refused (only when there are sigs
 * entries to own: other layouts are none of this function's business). */
static int sigs_owner(const struct oci_index *idx, struct digest *ret, bool *ret_found, struct herror *err)
{
        const struct oci_descriptor *owner = NULL;
        bool any_sigs = false, ambiguous = false;
        *ret_found = false;
        for (size_t i = 0; i < idx->n_manifests; i++) {
                const struct oci_descriptor *d = &idx->manifests[i];
                if (!d->cosign_kind)
                        continue;
                any_sigs |= streq(d->cosign_kind, COSIGN_KIND_SIGS);
                if (!streq(d->cosign_kind, COSIGN_KIND_IMAGE) && !streq(d->cosign_kind, COSIGN_KIND_IMAGE_INDEX))
                        continue;
                ambiguous |= owner && !digest_equal(&owner->digest, &d->digest);
                owner = d;
        }
        if (!any_sigs || !owner)
                return 0;
        if (ambiguous)
                return herror_set(
                        err, EBADMSG,
                        "index.json: several different entries of kind %s or %s: cannot tell which one the %s "
                        "entries sign",
                        COSIGN_KIND_IMAGE, COSIGN_KIND_IMAGE_INDEX, COSIGN_KIND_SIGS);
        *ret = owner->digest;
        *ret_found = true;
        return 0;
}

int cosign_layout_find_signatures(int layoutfd, const char *manifest_digest, struct sigstore_signature **ret,
                                  size_t *ret_n, struct herror *err)
{
        struct digest md;
        int r = digest_parse(manifest_digest, &md, err);
        if (r < 0)
                return r;
        char tag[sizeof "sha256-" + DIGEST_HEX_LEN + sizeof ".sig"];
        snprintf(tag, sizeof tag, "sha256-%s.sig", md.hex);

        struct oci_index idx = { 0 };
        r = oci_layout_read_index(layoutfd, &idx, err);
        if (r < 0)
                return r;
        struct digest owner;
        bool has_owner = false;
        r = sigs_owner(&idx, &owner, &has_owner, err);
        bool owned = has_owner && digest_equal(&owner, &md);
        struct sig_list out = { 0 };
        struct digest read[COSIGN_MAX_ARTIFACTS];
        size_t n_read = 0;
        for (size_t i = 0; i < idx.n_manifests && r >= 0; i++) {
                const struct oci_descriptor *d = &idx.manifests[i];
                /* skopeo's form names the digest in the tag; cosign save's through the owner. Attestations
                 * ("atts") and unknown kinds are never read: their layers do not sign the image. */
                bool by_tag = d->ref_name && streq(d->ref_name, tag);
                bool by_kind = owned && d->cosign_kind && streq(d->cosign_kind, COSIGN_KIND_SIGS);
                if (!by_tag && !by_kind)
                        continue;
                char label[sizeof tag + 16];
                if (by_tag)
                        snprintf(label, sizeof label, "%s", tag);
                else
                        snprintf(label, sizeof label, "index.json entry %zu (kind sigs)", i);
                if (d->kind != OCI_KIND_MANIFEST) {
                        r = herror_set(err, EBADMSG, "index.json: %s is not an image manifest", label);
                        break;
                }
                /* The same artifact listed twice, or in both forms, would count its signatures twice. */
                bool seen = false;
                for (size_t k = 0; k < n_read && !seen; k++)
                        seen = digest_equal(&read[k], &d->digest);
                if (seen)
                        continue;
                if (n_read >= COSIGN_MAX_ARTIFACTS) {
                        r = herror_set(err, E2BIG, "index.json: more than %d signature artifacts for %s",
                                       COSIGN_MAX_ARTIFACTS, manifest_digest);
                        break;
                }
                read[n_read++] = d->digest;
                r = read_signature_manifest(layoutfd, d, label, &out, err);
        }
        oci_index_done(&idx);
        if (r < 0) {
                sig_list_done(&out);
                return r;
        }
        *ret = out.v;
        *ret_n = out.n;
        return 0;
}

int cosign_signature_artifact(const char *manifest_digest, const struct sigstore_signature *sigs, size_t n,
                              char **ret_manifest, char **ret_config, char **ret_tag, struct herror *err)
{
        struct digest md;
        int r = digest_parse(manifest_digest, &md, err);
        if (r < 0)
                return r;
        if (n > COSIGN_MAX_SIGNATURES)
                return herror_set(err, E2BIG, "more than %d signatures", COSIGN_MAX_SIGNATURES);
        _cleanup_json_ json_t *layers = json_array(), *diff_ids = json_array();
        if (!layers || !diff_ids)
                return herror_set(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                if (!sigs[i].signature_b64)
                        continue;
                struct digest pd;
                char ds[DIGEST_STRING_MAX];
                if ((r = digest_buffer(sigs[i].payload, sigs[i].payload_len, &pd, err)) < 0)
                        return r;
                digest_to_string(&pd, ds);
                json_t *l = json_pack("{s:s,s:s,s:I,s:{s:s}}", "mediaType", SIGSTORE_PAYLOAD_MEDIA_TYPE, "digest", ds,
                                      "size", (json_int_t) sigs[i].payload_len, "annotations",
                                      SIGSTORE_SIGNATURE_ANNOTATION, sigs[i].signature_b64);
                if (!l || json_array_append_new(layers, l) < 0 || json_array_append_new(diff_ids, json_string(ds)) < 0)
                        return herror_set(err, ENOMEM, "out of memory");
        }
        /* The config cosign writes: empty platform, the payload digests as diff_ids. */
        _cleanup_json_ json_t *config = json_pack("{s:s,s:s,s:{},s:{s:s,s:O}}", "architecture", "", "os", "", "config",
                                                  "rootfs", "type", "layers", "diff_ids", diff_ids);
        _cleanup_free_ char *ctext = config ? json_dumps(config, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        if (!ctext)
                return herror_set(err, ENOMEM, "out of memory");
        struct digest cd;
        char cds[DIGEST_STRING_MAX];
        if ((r = digest_buffer(ctext, strlen(ctext), &cd, err)) < 0)
                return r;
        _cleanup_json_ json_t *m =
                json_pack("{s:i,s:s,s:{s:s,s:s,s:I},s:O}", "schemaVersion", 2, "mediaType", OCI_MEDIA_TYPE_MANIFEST,
                          "config", "mediaType", OCI_MEDIA_TYPE_CONFIG, "digest", digest_to_string(&cd, cds), "size",
                          (json_int_t) strlen(ctext), "layers", layers);
        _cleanup_free_ char *mtext = m ? json_dumps(m, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        _cleanup_free_ char *tag = NULL;
        if (!mtext || asprintf(&tag, "sha256-%s.sig", md.hex) < 0)
                return herror_set(err, ENOMEM, "out of memory");
        *ret_manifest = TAKE_PTR(mtext);
        *ret_config = TAKE_PTR(ctext);
        *ret_tag = TAKE_PTR(tag);
        return 0;
}
