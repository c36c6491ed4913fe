/* Glue between the image store and the trust policy, for every command that decides whether an image
 * may run (run, verify): the name the user typed -> the stored image -> the policy's verdict over the
 * signatures kept beside it. Nothing is cached: the policy file and the key files are read again and
 * every signature verified again at each launch, so a key removed from the policy stops the next run.
 *
 * How a stored image maps to the policy (docs/hutch.1, TRUST): images are stored under their
 * normalised docker reference ("alpine" -> "docker.io/library/alpine:latest"), and that reference is
 * what the "docker" transport's scopes are matched against and what signatures must name. An image
 * loaded from an OCI layout directory is judged under the policy's "oci" transport instead when that
 * section has a scope for the layout's path (store_origin_get). */
#pragma once
#include "image/digest.h"
#include "image/store.h"
#include "trust/policy.h"
#include "trust/reference.h"
#include "util/error.h"

struct image_target {
        char *name; /* the reference it is stored under: "registry.example/sandbox/tiny:v2" */
        struct image_ref ref;
        struct digest manifest;
};

/* user_name: a reference as podman takes it; "repo@sha256:<hex>" also finds the image <hex> when one of
 * its stored names is in that repository (the target's name is then the digested reference, which the
 * policy judges); or an image ID as image_cli_resolve() takes it ("sha256:<hex>", 64 hex digits, or a
 * unique prefix of 12 or more) of an image that exactly one name points at (the policy needs a name). */
int image_target_resolve(struct image_store *s, const char *user_name, struct image_target *ret, struct herror *err);
void image_target_done(struct image_target *t);

struct image_trust {
        struct policy_verdict verdict;
        char *policy_source;                   /* the file, or POLICY_BUILTIN_SOURCE; NULL if none loaded */
        char policy_sha256[DIGEST_STRING_MAX]; /* "" if none loaded */
        size_t n_signatures;                   /* found beside the image */
};

/* Load the policy (policy_path, else the lookup in policy.h), gather the image's stored signatures and
 * decide. Returns 0 with ret->verdict filled for every decision: a policy that cannot be read or
 * parsed, or signatures that cannot be read, are rejections whose reason says so. < 0 only when no
 * verdict could be formed at all (out of memory); callers treat that as a rejection too. */
int image_trust_evaluate(struct image_store *s, const struct image_target *t, const char *policy_path,
                         struct image_trust *ret, struct herror *err);
void image_trust_done(struct image_trust *t);
