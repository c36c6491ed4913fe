/* Image trust policy: containers-policy.json(5) read as strictly as containers/image reads it
 * (signature/policy_config*.go; FORMATS.md 4), and evaluated for one image before it runs.
 *
 * File: {"default": [req...], "transports": {"<transport>": {"<scope>": [req...]}}}. "default" is
 * mandatory; every requirement list is non-empty; unknown or duplicate keys, wrong types and unknown
 * requirement or signedIdentity types reject the whole file. Scope keys are validated for the
 * transports that define a scope syntax (docker: see ref_validate_docker_scope(); oci, oci-archive, dir:
 * absolute canonical paths other than "/"; docker-archive: only ""); other transport sections are
 * parsed (their requirements strictly) but never evaluated.
 *
 * Which transport hutch evaluates:
 *   POLICY_TRANSPORT_DOCKER  an image known by a registry-style name ("registry.example/ns/app:v2",
 *                            normalised like podman): the "docker" scopes are searched for that name.
 *   POLICY_TRANSPORT_OCI     an image taken from an OCI layout directory: the "oci" scopes are searched
 *                            for the layout's canonical path (the image's tag is not part of the
 *                            identity, as in containers/image) and the image has NO docker reference,
 *                            so only exactReference/exactRepository identities can pass there.
 * Scope lookup (policy_eval.go requirementsForImageRef): in the transport's section the identity, then
 * each namespace, most specific first, then ""; only the first match is used, never merged; if the
 * transport has no section or nothing matched, the global "default".
 *
 * Requirements (every one in the selected list must accept):
 *   insecureAcceptAnything   accepts
 *   reject                   rejects
 *   sigstoreSigned           keyPath | keyPaths | keyData | keyDatas (exactly one; any listed key may sign)
 *                            + optional signedIdentity (default matchRepoDigestOrExact). At least one of
 *                            the image's signatures must verify with a key, name the image's manifest
 *                            digest, and carry an accepted identity (sigstore.h).
 *                            keyPath(s) must be absolute (a relative path would depend on the caller's
 *                            working directory); the files are read at evaluation, only for the list
 *                            that applies. keyData(s) is base64 (strict) of a PEM file, parsed when the
 *                            policy is loaded.
 *   signedBy (GPG), signedBaseLayer, and sigstoreSigned with fulcio, pki or rekorPublicKey*: parsed and
 *                            validated, but REJECT at evaluation with a "not supported by hutch" reason.
 *                            They are not refused at load time so that a policy shared with podman still
 *                            works for the scopes hutch can evaluate.
 * signedIdentity: matchRepoDigestOrExact, matchRepository, matchExact, exactReference{dockerReference},
 * exactRepository{dockerRepository}, remapIdentity{prefix, signedPrefix} (policy_reference_match.go).
 *
 * Policy file lookup (policy_locate): the explicit path if given (it must exist); else
 * $XDG_CONFIG_HOME/hutch/policy.json (XDG_CONFIG_HOME only if absolute, else ~/.config/hutch/policy.json);
 * else /etc/hutch/policy.json; else the built-in default, policy/default.json embedded at build time
 * (it rejects everything). A file that exists is used even if it is broken: loading then fails, and a
 * caller must treat that as rejection; the search never falls through to a more permissive file. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "trust/reference.h"
#include "trust/sigstore.h"
#include "util/error.h"

#define POLICY_FILE_MAX (1u << 20)
#define POLICY_SYSTEM_PATH "/etc/hutch/policy.json"
#define POLICY_BUILTIN_SOURCE "built-in default policy"
#define POLICY_MAX_REQUIREMENTS 64 /* per list */
#define POLICY_MAX_SCOPES 4096     /* per transport */
#define POLICY_MAX_TRANSPORTS 64
#define POLICY_MAX_KEYS 64 /* per requirement */

struct policy; /* opaque */

/* Parse a policy (source names it in messages and in policy_source()). */
int policy_parse(const char *data, size_t len, const char *source, struct policy **ret, struct herror *err);
/* The built-in default (policy/default.json). */
int policy_load_builtin(struct policy **ret, struct herror *err);
/* Read and parse a policy file (a regular file of at most POLICY_FILE_MAX bytes). */
int policy_load_file(const char *path, struct policy **ret, struct herror *err);
/* The bytes of the built-in default (policy/default.json), for editors starting from it. */
void policy_builtin_text(const char **ret, size_t *ret_len);
/* The user's policy file: $XDG_CONFIG_HOME/hutch/policy.json (XDG_CONFIG_HOME only if absolute), else
 * $HOME/.config/hutch/policy.json; *ret NULL when neither variable is usable. -ENOMEM only. */
int policy_user_path(char **ret);
/* The file policy_load() reads: *ret_path is malloc'd, or NULL for the built-in default. */
int policy_locate(const char *explicit_path, char **ret_path, struct herror *err);
/* policy_locate() then policy_load_file() or policy_load_builtin(). */
int policy_load(const char *explicit_path, struct policy **ret, struct herror *err);
void policy_free(struct policy *p);
static inline void policy_freep(struct policy **p)
{
        policy_free(*p);
}
#define _cleanup_policy_ _cleanup_(policy_freep)
/* The file the policy came from, or POLICY_BUILTIN_SOURCE. */
const char *policy_source(const struct policy *p);
/* "sha256:<hex>" of the bytes the policy was parsed from (the built-in one too). */
const char *policy_sha256(const struct policy *p);

enum policy_transport {
        POLICY_TRANSPORT_DOCKER,
        POLICY_TRANSPORT_OCI,
        _POLICY_TRANSPORT_MAX,
};
const char *policy_transport_name(enum policy_transport t); /* "docker", "oci" */

/* The image to decide on. Nothing here is trusted by the policy except through signatures. */
struct policy_image {
        enum policy_transport transport;
        /* DOCKER: the name the image is known by, with exactly one of tag and digest (ref_parse() gives
         * that). A digest here is not compared with manifest_digest (it may name the image index of a
         * multi-platform image): the caller resolves the reference and must only pass a manifest the
         * reference names. OCI: ignored (an OCI layout has no docker reference). */
        const struct image_ref *ref;
        /* OCI: absolute, canonical (realpath) path of the layout directory. DOCKER: ignored. */
        const char *layout_path;
        /* "sha256:<hex>" of the image's manifest, the digest signatures name: for a multi-platform
         * image, the selected platform's manifest (FORMATS.md 3.1). */
        const char *manifest_digest;
        const struct sigstore_signature *signatures; /* every signature found for that digest */
        size_t n_signatures;
};

/* What one requirement of the selected list said. Every requirement is evaluated, also after one has
 * rejected (containers/image stops at the first rejection; the overall verdict is the same), so that a
 * user can see what each one would need. */
struct policy_requirement_result {
        const char *type; /* the requirement's "type" as in the policy file (static string) */
        bool accepted;
        char *reason;           /* one line, printable: what it said */
        char *key_id;           /* accepted by signature: "sha256:<hex>" of the key's SPKI DER; else NULL */
        char *signed_reference; /* accepted by signature: the identity the signature names; else NULL */
};

struct policy_verdict {
        bool accepted;
        char *transport;        /* the transport section used, or NULL when the global "default" applied */
        char *scope;            /* the scope key that matched ("" = the transport's default), or "default" */
        char *reason;           /* one line: why accepted or rejected */
        int requirement_index;  /* rejected: the requirement that failed (-1: before any, e.g. bad input);
                                 * accepted: the first signature requirement (whose key is key_id), or -1
                                 * when none was involved */
        char *key_id;           /* accepted by signature: "sha256:<hex>" of the key's SPKI DER; else NULL */
        char *signed_reference; /* accepted by signature: the identity the signature names; else NULL */
        /* One result per requirement of the list that applied, in policy order; none (NULL, 0) when the
         * image was rejected before the lookup (invalid input). The verdict is accepted exactly when
         * n_requirements > 0 and every result is accepted. */
        struct policy_requirement_result *requirements;
        size_t n_requirements;
};
void policy_verdict_done(struct policy_verdict *v);

/* The requirement list that applies to img: its transport (NULL = the global default) and scope. For
 * tests and for explaining a decision; policy_evaluate() calls it. */
int policy_lookup(const struct policy *p, const struct policy_image *img, const char **ret_transport,
                  const char **ret_scope, struct herror *err);

/* Decide. Returns 0 with *ret filled for every decision: any problem (invalid input, unreadable key file,
 * unsupported requirement, no or bad signatures) is a rejection with the reason in ret->reason. A
 * negative return (-ENOMEM, or -EINVAL for NULL arguments) leaves *ret untouched; the caller must treat
 * it as a rejection too. */
int policy_evaluate(const struct policy *p, const struct policy_image *img, struct policy_verdict *ret,
                    struct herror *err);
