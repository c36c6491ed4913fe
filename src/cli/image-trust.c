#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/image-common.h"
#include "cli/image-trust.h"
#include "image/store-sigs.h"
#include "util/cleanup.h"

void image_target_done(struct image_target *t)
{
        free(t->name);
        ref_done(&t->ref);
        *t = (struct image_target) { 0 };
}

/* The one name a stored manifest is known by: the policy judges names. */
static int name_of_digest(struct image_store *s, const struct digest *d, char **ret, struct herror *err)
{
        _cleanup_strv_ char **names = NULL;
        int r = image_cli_names_of(s, d, &names, err);
        if (r < 0)
                return r;
        char ds[DIGEST_STRING_MAX];
        digest_to_string(d, ds);
        if (!names[0])
                return herror_set(err, ENOENT,
                                  "image %s has no name: name it with 'hutch tag %.19s NAME' (the trust "
                                  "policy judges names)",
                                  ds, ds);
        if (names[1])
                return herror_set(err, EINVAL,
                                  "image %s has several names (%s, %s%s): run it by one of them (the trust "
                                  "policy judges names)",
                                  ds, names[0], names[1], names[2] ? ", ..." : "");
        *ret = TAKE_PTR(names[0]);
        return 0;
}

/* "repo@sha256:X" that is not stored under exactly that name: the image X, when one of its stored names is
 * in the same repository (as podman finds a digested reference among an image's names). */
static int resolve_digested(struct image_store *s, const struct image_target *t, struct digest *ret, struct herror *err)
{
        struct digest d;
        _cleanup_strv_ char **names = NULL;
        int r = digest_parse(t->ref.digest, &d, err);
        if (r < 0 || (r = image_cli_names_of(s, &d, &names, err)) < 0)
                return r;
        for (char **n = names; *n; n++) {
                _cleanup_ref_ struct image_ref other = { 0 };
                if (ref_parse(*n, &other, NULL) == 0 && ref_same_name(&other, &t->ref)) {
                        *ret = d;
                        return 0;
                }
        }
        return herror_set(err, ENOENT,
                          "image %s is not in the store %s (no image %s has a name in that repository; "
                          "load it with 'hutch load')",
                          t->name, s->path, t->ref.digest);
}

int image_target_resolve(struct image_store *s, const char *user_name, struct image_target *ret, struct herror *err)
{
        struct image_target t = { 0 };
        int r;
        if (image_cli_is_id(user_name)) {
                if ((r = image_cli_resolve(s, user_name, &t.manifest, NULL, err)) < 0 ||
                    (r = name_of_digest(s, &t.manifest, &t.name, err)) < 0)
                        goto fail;
                if ((r = ref_parse(t.name, &t.ref, err)) < 0)
                        goto fail;
        } else {
                if ((r = ref_parse(user_name, &t.ref, err)) < 0)
                        goto fail;
                if (!(t.name = ref_format_full(&t.ref))) {
                        r = herror_set(err, ENOMEM, "out of memory");
                        goto fail;
                }
                r = store_ref_get(s, t.name, &t.manifest, err);
                if (r == -ENOENT && t.ref.digest)
                        r = resolve_digested(s, &t, &t.manifest, err);
                else if (r == -ENOENT)
                        herror_set(err, ENOENT, "image %s is not in the store %s (load it with 'hutch load')", t.name,
                                   s->path);
                if (r < 0)
                        goto fail;
        }
        *ret = t;
        return 0;
fail:
        image_target_done(&t);
        return r;
}

void image_trust_done(struct image_trust *t)
{
        policy_verdict_done(&t->verdict);
        free(t->policy_source);
        *t = (struct image_trust) { 0 };
}

/* A decision made before the policy could speak: always a rejection. */
static int reject(struct image_trust *ret, const struct herror *why)
{
        ret->verdict = (struct policy_verdict) { .accepted = false, .requirement_index = -1 };
        ret->verdict.reason = strdup(herror_msg(why));
        return ret->verdict.reason ? 0 : -ENOMEM;
}

/* An image loaded from an OCI layout is judged as containers/image judges an oci: source when the policy
 * has an "oci" scope for that layout (a scope of the layout path, a parent, or ""); otherwise by its name
 * under "docker". Only a policy's own oci section can select this, so it never widens what a policy without
 * one accepts. */
static bool oci_section_applies(const struct policy *p, const struct policy_image *docker_img, const char *layout)
{
        struct policy_image oci = *docker_img;
        oci.transport = POLICY_TRANSPORT_OCI;
        oci.layout_path = layout;
        const char *transport = NULL, *scope = NULL;
        return policy_lookup(p, &oci, &transport, &scope, NULL) == 0 && transport && streq(transport, "oci");
}

int image_trust_evaluate(struct image_store *s, const struct image_target *t, const char *policy_path,
                         struct image_trust *ret, struct herror *err)
{
        *ret = (struct image_trust) { 0 };
        _cleanup_herror_ struct herror why = HERROR_INIT;
        _cleanup_policy_ struct policy *p = NULL;
        if (policy_load(policy_path, &p, &why) < 0)
                return reject(ret, &why);
        if (!(ret->policy_source = strdup(policy_source(p))))
                return herror_set(err, ENOMEM, "out of memory");
        snprintf(ret->policy_sha256, sizeof ret->policy_sha256, "%s", policy_sha256(p));

        struct store_signature *stored = NULL;
        size_t n = 0;
        if (store_sigs_list(s, &t->manifest, &stored, &n, &why) < 0)
                return reject(ret, &why);
        ret->n_signatures = n;
        /* Same fields, borrowed: sigstore_signature's owner rules allow pointing at our memory. */
        struct sigstore_signature *sigs = calloc(n ? n : 1, sizeof *sigs);
        if (!sigs) {
                store_signatures_free(stored, n);
                return herror_set(err, ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < n; i++)
                sigs[i] = (struct sigstore_signature) { .payload = stored[i].payload,
                                                        .payload_len = stored[i].payload_len,
                                                        .signature_b64 = stored[i].signature_b64,
                                                        .origin = stored[i].origin };
        char ds[DIGEST_STRING_MAX];
        struct policy_image img = {
                .transport = POLICY_TRANSPORT_DOCKER,
                .ref = &t->ref,
                .manifest_digest = digest_to_string(&t->manifest, ds),
                .signatures = sigs,
                .n_signatures = n,
        };
        _cleanup_free_ char *origin = NULL;
        int r = store_origin_get(s, &t->manifest, &origin, &why);
        if (r < 0) {
                free(sigs);
                store_signatures_free(stored, n);
                return reject(ret, &why);
        }
        if (origin && oci_section_applies(p, &img, origin)) {
                img.transport = POLICY_TRANSPORT_OCI;
                img.layout_path = origin;
        }
        r = policy_evaluate(p, &img, &ret->verdict, err);
        free(sigs);
        store_signatures_free(stored, n);
        return r;
}
