/* Docker image references ("names") as podman and containers/image read them (distribution/reference
 * grammar and normalisation): `alpine` is docker.io/library/alpine, `localhost:5000/x` names a registry,
 * `index.docker.io` is docker.io. Every part is checked against the grammar, because references come
 * from users, from policy files and from signature payloads (untrusted until the signature verified,
 * and even then only as strong as the signer's care).
 *
 * Grammar (distribution/reference regexp.go):
 *   reference := name [ ":" tag ] [ "@" digest ]
 *   name      := [ domain "/" ] component ( "/" component )*       at most 255 bytes after normalisation
 *   domain    := host [ ":" port ]       host := label ( "." label )* | "[" ipv6 hex and colons "]"
 *   label     := [A-Za-z0-9] | [A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]
 *   component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
 *   tag       := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 *   digest    := sha256:<64 hex> | sha384:<96 hex> | sha512:<128 hex>   (lowercase hex)
 * The first component is a domain when it contains '.' or ':', is "localhost", or has an uppercase
 * letter; otherwise the name is on docker.io, and a single component gets "library/". */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

#define REF_NAME_MAX 255
#define REF_TAG_MAX 128
#define REF_DEFAULT_DOMAIN "docker.io"
#define REF_DEFAULT_TAG "latest"

struct image_ref {
        char *domain; /* "docker.io", "registry.example:5000", "[::1]:5000" */
        char *path;   /* repository path without the domain: "library/alpine" */
        char *tag;    /* NULL when absent */
        char *digest; /* "sha256:<hex>", NULL when absent */
};

/* A reference as a user names an image, normalised the way podman does: no tag and no digest means
 * ":latest"; a tag AND a digest keeps only the digest (c/common libimage drops the tag, and the docker
 * transport refuses the pair). On return exactly one of tag and digest is set.
 * A 64-hex-digit string alone is refused (it would be an image ID, not a name). */
int ref_parse(const char *s, struct image_ref *ret, struct herror *err);
/* reference.ParseNormalizedNamed: normalised, but nothing added or dropped: name-only references
 * (cosign signs "registry/repo" without a tag) and tag+digest pairs are kept as written. Used for
 * signature identities and policy dockerReference/dockerRepository values. */
int ref_parse_normalized(const char *s, struct image_ref *ret, struct herror *err);
/* reference.ParseNamed: as ref_parse_normalized, and s must already be in its normalised form
 * ("docker.io/library/alpine", not "alpine"). */
int ref_parse_canonical(const char *s, struct image_ref *ret, struct herror *err);
void ref_done(struct image_ref *ref);
static inline void ref_donep(struct image_ref *ref)
{
        ref_done(ref);
}
#define _cleanup_ref_ _cleanup_(ref_donep)
int ref_copy(const struct image_ref *src, struct image_ref *ret);

/* Neither tag nor digest (reference.IsNameOnly). */
bool ref_is_name_only(const struct image_ref *ref);
/* "domain/path" (reference.Named.Name()); malloc'd, NULL on ENOMEM. */
char *ref_format_name(const struct image_ref *ref);
/* "domain/path[:tag][@digest]" (reference.Named.String()); malloc'd, NULL on ENOMEM. */
char *ref_format_full(const struct image_ref *ref);
bool ref_same_name(const struct image_ref *a, const struct image_ref *b);
bool ref_equal(const struct image_ref *a, const struct image_ref *b); /* name, tag and digest */

/* Scope candidates of the docker transport for policy lookup, most specific first
 * (containers/image docker/policyconfiguration/naming.go):
 *   "domain/path:tag" or "domain/path@digest"    (the identity; the ref needs exactly one of the two)
 *   "domain/path", then each parent namespace "domain/a/b", "domain/a", then "domain"
 *   "*.b.example.com", "*.example.com", "*.com"   (wildcards: the host without its port, each time one
 *                                                  more leading label removed; never the whole host)
 * NULL-terminated strv, freed with strv_free. */
int ref_policy_scopes(const struct image_ref *ref, char ***ret, struct herror *err);
/* Whether s is a meaningful docker-transport scope: a full identity, a repository, a namespace, a
 * domain, or "*.suffix" (labels only, no port). Refused: anything that could never match because it
 * is not normalised ("alpine", "library/alpine"), bad characters, empty components. */
int ref_validate_docker_scope(const char *s, struct herror *err);

/* A remapIdentity prefix or signedPrefix (containers/image validateIdentityRemappingPrefix): a domain
 * ("host[:port]") alone, or "domain/component[/component...]" without tag or digest. */
int ref_validate_remap_prefix(const char *s, struct herror *err);

/* A shortened, printable copy of untrusted text for error messages: at most 80 bytes, control and
 * non-ASCII bytes as '?', "..." when cut. Returns buf. */
const char *trust_quote(const char *s, char buf[static 84]);
