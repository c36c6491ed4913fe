/* containers-policy.json parsing and evaluation; see policy.h. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "image/digest.h"
#include "trust/keys.h"
#include "trust/policy.h"
#include "util/fileio.h"
#include "util/json.h"

/* policy/default.json, embedded by scripts/embed-file.py (src/meson.build). */
extern const char hutch_default_policy_json[];
extern const unsigned long hutch_default_policy_json_len;

#define REASON_SIGNATURES_LISTED 3

enum req_type {
        REQ_INSECURE_ACCEPT_ANYTHING,
        REQ_REJECT,
        REQ_SIGNED_BY,
        REQ_SIGNED_BASE_LAYER,
        REQ_SIGSTORE_SIGNED,
        _REQ_TYPE_MAX,
        _REQ_TYPE_INVALID = -EINVAL,
};

static const char *const req_type_names[_REQ_TYPE_MAX] = {
        [REQ_INSECURE_ACCEPT_ANYTHING] = "insecureAcceptAnything",
        [REQ_REJECT] = "reject",
        [REQ_SIGNED_BY] = "signedBy",
        [REQ_SIGNED_BASE_LAYER] = "signedBaseLayer",
        [REQ_SIGSTORE_SIGNED] = "sigstoreSigned",
};

static const char *req_type_name(enum req_type t)
{
        return t >= 0 && t < _REQ_TYPE_MAX ? req_type_names[t] : "unknown";
}

enum identity_type {
        ID_MATCH_REPO_DIGEST_OR_EXACT,
        ID_MATCH_REPOSITORY,
        ID_MATCH_EXACT,
        ID_EXACT_REFERENCE,
        ID_EXACT_REPOSITORY,
        ID_REMAP_IDENTITY,
        _ID_TYPE_MAX,
        _ID_TYPE_INVALID = -EINVAL,
};

static const char *const identity_type_names[_ID_TYPE_MAX] = {
        [ID_MATCH_REPO_DIGEST_OR_EXACT] = "matchRepoDigestOrExact",
        [ID_MATCH_REPOSITORY] = "matchRepository",
        [ID_MATCH_EXACT] = "matchExact",
        [ID_EXACT_REFERENCE] = "exactReference",
        [ID_EXACT_REPOSITORY] = "exactRepository",
        [ID_REMAP_IDENTITY] = "remapIdentity",
};

struct signed_identity {
        enum identity_type type;
        struct image_ref ref; /* exactReference / exactRepository */
        char *prefix;         /* remapIdentity */
        char *signed_prefix;
};

struct requirement {
        enum req_type type;
        struct signed_identity identity;
        char **key_paths;        /* sigstoreSigned keyPath/keyPaths: read at evaluation */
        struct trust_key **keys; /* sigstoreSigned keyData/keyDatas: parsed at load */
        size_t n_keys;
        const char *unsupported; /* set: this requirement always rejects, with this reason */
};

struct requirement_list {
        struct requirement *v;
        size_t n;
};

struct scope {
        char *name;
        struct requirement_list reqs;
};

struct transport {
        char *name;
        struct scope *scopes;
        size_t n_scopes;
};

struct policy {
        char *source;
        char sha256[DIGEST_STRING_MAX]; /* of the exact bytes parsed, for audit records */
        struct requirement_list def;
        struct transport *transports;
        size_t n_transports;
};

/* ---- freeing ---- */

static void identity_done(struct signed_identity *id)
{
        ref_done(&id->ref);
        free(id->prefix);
        free(id->signed_prefix);
        *id = (struct signed_identity) { 0 };
}

static void requirement_done(struct requirement *r)
{
        identity_done(&r->identity);
        strv_free(r->key_paths);
        for (size_t i = 0; i < r->n_keys; i++)
                trust_key_free(r->keys[i]);
        free(r->keys);
        *r = (struct requirement) { 0 };
}

static void requirement_list_done(struct requirement_list *l)
{
        for (size_t i = 0; i < l->n; i++)
                requirement_done(&l->v[i]);
        free(l->v);
        *l = (struct requirement_list) { 0 };
}

static void transport_done(struct transport *t)
{
        for (size_t i = 0; i < t->n_scopes; i++) {
                free(t->scopes[i].name);
                requirement_list_done(&t->scopes[i].reqs);
        }
        free(t->scopes);
        free(t->name);
        *t = (struct transport) { 0 };
}

void policy_free(struct policy *p)
{
        if (!p)
                return;
        requirement_list_done(&p->def);
        for (size_t i = 0; i < p->n_transports; i++)
                transport_done(&p->transports[i]);
        free(p->transports);
        free(p->source);
        free(p);
}

const char *policy_sha256(const struct policy *p)
{
        return p->sha256;
}

const char *policy_source(const struct policy *p)
{
        return p->source;
}

const char *policy_transport_name(enum policy_transport t)
{
        switch (t) {
        case POLICY_TRANSPORT_DOCKER:
                return "docker";
        case POLICY_TRANSPORT_OCI:
                return "oci";
        case _POLICY_TRANSPORT_MAX:
        default:
                return NULL;
        }
}

void policy_verdict_done(struct policy_verdict *v)
{
        if (!v)
                return;
        free(v->transport);
        free(v->scope);
        free(v->reason);
        free(v->key_id);
        free(v->signed_reference);
        for (size_t i = 0; i < v->n_requirements; i++) {
                free(v->requirements[i].reason);
                free(v->requirements[i].key_id);
                free(v->requirements[i].signed_reference);
        }
        free(v->requirements);
        *v = (struct policy_verdict) { 0 };
}

/* ---- parsing helpers ---- */

static int dispatch_json_ref(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        *(json_t **) dst = v;
        return 0;
}

static int lookup_name(const char *const *names, int n, const char *s)
{
        for (int i = 0; i < n; i++)
                if (streq(names[i], s))
                        return i;
        return -EINVAL;
}

/* The "type" member every requirement and signedIdentity object starts from. */
static int object_type(json_t *v, const char *jpath, const char **ret, struct herror *err)
{
        if (!json_is_object(v))
                return herror_set(err, EINVAL, "%s: expected an object", jpath);
        json_t *t = json_object_get(v, "type");
        if (!t)
                return herror_set(err, EINVAL, "%s.type: required property missing", jpath);
        if (!json_is_string(t))
                return herror_set(err, EINVAL, "%s.type: expected a string", jpath);
        *ret = json_string_value(t);
        return 0;
}

static bool is_canonical_absolute_path(const char *s)
{
        if (s[0] != '/' || streq(s, "/"))
                return false;
        for (const char *c = s; *c;) {
                const char *e = strchrnul(c + 1, '/');
                size_t n = (size_t) (e - c - 1); /* component after the '/' at c */
                if (n == 0 || (n == 1 && c[1] == '.') || (n == 2 && c[1] == '.' && c[2] == '.'))
                        return false;
                c = e;
        }
        return true;
}

/* ---- signedIdentity ---- */

struct identity_raw {
        char *docker_reference;
        char *docker_repository;
        char *prefix;
        char *signed_prefix;
};

static void identity_raw_done(struct identity_raw *r)
{
        free(r->docker_reference);
        free(r->docker_repository);
        free(r->prefix);
        free(r->signed_prefix);
}

static int parse_identity(json_t *v, const char *jpath, struct signed_identity *ret, struct herror *err)
{
        static const struct json_field plain[] = {
                { "type", JSON_STRING, NULL, 0, JF_MANDATORY },
                { NULL },
        };
        static const struct json_field exact_reference[] = {
                { "type", JSON_STRING, NULL, 0, JF_MANDATORY },
                { "dockerReference", JSON_STRING, json_dispatch_string, offsetof(struct identity_raw, docker_reference),
                  JF_MANDATORY },
                { NULL },
        };
        static const struct json_field exact_repository[] = {
                { "type", JSON_STRING, NULL, 0, JF_MANDATORY },
                { "dockerRepository", JSON_STRING, json_dispatch_string,
                  offsetof(struct identity_raw, docker_repository), JF_MANDATORY },
                { NULL },
        };
        static const struct json_field remap[] = {
                { "type", JSON_STRING, NULL, 0, JF_MANDATORY },
                { "prefix", JSON_STRING, json_dispatch_string, offsetof(struct identity_raw, prefix), JF_MANDATORY },
                { "signedPrefix", JSON_STRING, json_dispatch_string, offsetof(struct identity_raw, signed_prefix),
                  JF_MANDATORY },
                { NULL },
        };
        char q[84];
        const char *tname;
        int r = object_type(v, jpath, &tname, err);
        if (r < 0)
                return r;
        int t = lookup_name(identity_type_names, _ID_TYPE_MAX, tname);
        if (t < 0)
                return herror_set(err, EINVAL, "%s.type: unknown signedIdentity type \"%s\"", jpath,
                                  trust_quote(tname, q));
        const struct json_field *table = t == ID_EXACT_REFERENCE ? exact_reference
                : t == ID_EXACT_REPOSITORY                       ? exact_repository
                : t == ID_REMAP_IDENTITY                         ? remap
                                                                 : plain;
        struct identity_raw raw = { 0 };
        struct signed_identity id = { .type = (enum identity_type) t };
        r = json_dispatch(v, jpath, table, &raw, JD_REJECT_UNKNOWN, err);
        if (r >= 0 && t == ID_EXACT_REFERENCE) {
                r = ref_parse_normalized(raw.docker_reference, &id.ref, err);
                if (r >= 0 && ref_is_name_only(&id.ref))
                        r = herror_set(err, EINVAL, "%s.dockerReference: \"%s\" has neither a tag nor a digest", jpath,
                                       trust_quote(raw.docker_reference, q));
                else if (r < 0 && r != -ENOMEM)
                        r = herror_wrap(err, "%s.dockerReference", jpath);
        }
        if (r >= 0 && t == ID_EXACT_REPOSITORY) {
                r = ref_parse_normalized(raw.docker_repository, &id.ref, err);
                if (r < 0 && r != -ENOMEM)
                        r = herror_wrap(err, "%s.dockerRepository", jpath);
        }
        if (r >= 0 && t == ID_REMAP_IDENTITY) {
                r = ref_validate_remap_prefix(raw.prefix, err);
                if (r >= 0)
                        r = ref_validate_remap_prefix(raw.signed_prefix, err);
                if (r < 0)
                        r = herror_wrap(err, "%s", jpath);
                id.prefix = TAKE_PTR(raw.prefix);
                id.signed_prefix = TAKE_PTR(raw.signed_prefix);
        }
        identity_raw_done(&raw);
        if (r < 0) {
                identity_done(&id);
                return r;
        }
        *ret = id;
        return 0;
}

/* Absent: the default, matchRepoDigestOrExact. */
static int parse_optional_identity(json_t *v, const char *jpath, struct signed_identity *ret, struct herror *err)
{
        if (!v) {
                *ret = (struct signed_identity) { .type = ID_MATCH_REPO_DIGEST_OR_EXACT };
                return 0;
        }
        char path[512];
        json_path_key(path, sizeof path, jpath, "signedIdentity");
        return parse_identity(v, path, ret, err);
}

/* ---- requirements ---- */

static int decode_key_data(const char *b64, const char *jpath, struct requirement *req, struct herror *err)
{
        if (req->n_keys >= POLICY_MAX_KEYS)
                return herror_set(err, E2BIG, "%s: more than %d keys", jpath, POLICY_MAX_KEYS);
        _cleanup_free_ unsigned char *pem = NULL;
        size_t len = 0;
        int r = base64_decode_strict(b64, strlen(b64), &pem, &len, err);
        if (r < 0)
                return r == -ENOMEM ? r : herror_wrap(err, "%s", jpath);
        struct trust_key *k = NULL;
        r = trust_key_from_pem(pem, len, jpath, &k, err);
        if (r < 0)
                return r;
        struct trust_key **nv = realloc(req->keys, (req->n_keys + 1) * sizeof(struct trust_key *));
        if (!nv) {
                trust_key_free(k);
                return -ENOMEM;
        }
        req->keys = nv;
        req->keys[req->n_keys++] = k;
        return 0;
}

static int check_key_path(const char *path, const char *jpath, struct herror *err)
{
        char q[84];
        if (path[0] != '/')
                return herror_set(err, EINVAL, "%s: \"%s\" is not an absolute path", jpath, trust_quote(path, q));
        return 0;
}

/* keyPaths / keyDatas / rekorPublicKeyPaths / ...: present lists must not be empty. */
static int check_list(char **v, const char *jpath, const char *name, struct herror *err)
{
        if (v && !v[0])
                return herror_set(err, EINVAL, "%s.%s: contains no entries", jpath, name);
        if (v) {
                size_t n = 0;
                while (v[n])
                        n++;
                if (n > POLICY_MAX_KEYS)
                        return herror_set(err, E2BIG, "%s.%s: more than %d entries", jpath, name, POLICY_MAX_KEYS);
        }
        return 0;
}

struct sigstore_raw {
        char *key_path;
        char **key_paths;
        char *key_data;
        char **key_datas;
        json_t *fulcio;
        json_t *pki;
        char *rekor_path;
        char **rekor_paths;
        char *rekor_data;
        char **rekor_datas;
        json_t *signed_identity;
};

static void sigstore_raw_done(struct sigstore_raw *r)
{
        free(r->key_path);
        strv_free(r->key_paths);
        free(r->key_data);
        strv_free(r->key_datas);
        free(r->rekor_path);
        strv_free(r->rekor_paths);
        free(r->rekor_data);
        strv_free(r->rekor_datas);
}

struct keyless_raw {
        char *a, *b, *c, *d, *e, *f;
};

static void keyless_raw_done(struct keyless_raw *r)
{
        free(r->a);
        free(r->b);
        free(r->c);
        free(r->d);
        free(r->e);
        free(r->f);
}

/* fulcio and pki are validated like containers/image does, so a policy that podman refuses is refused
 * here too, even though hutch cannot evaluate them. */
static int check_fulcio(json_t *v, const char *jpath, struct herror *err)
{
        static const struct json_field t[] = {
                { "caPath", JSON_STRING, json_dispatch_string, offsetof(struct keyless_raw, a), 0 },
                { "caData", JSON_STRING, json_dispatch_string, offsetof(struct keyless_raw, b), 0 },
                { "oidcIssuer", JSON_STRING, json_dispatch_string, offsetof(struct keyless_raw, c), 0 },
                { "subjectEmail", JSON_STRING, json_dispatch_string, offsetof(struct keyless_raw, d), 0 },
                { NULL },
        };
        struct keyless_raw raw = { 0 };
        int r = json_dispatch(v, jpath, t, &raw, JD_REJECT_UNKNOWN, err);
        if (r >= 0 && !!raw.a == !!raw.b)
                r = herror_set(err, EINVAL, "%s: exactly one of caPath and caData must be specified", jpath);
        if (r >= 0 && (!raw.c || !raw.c[0]))
                r = herror_set(err, EINVAL, "%s.oidcIssuer: not specified", jpath);
        if (r >= 0 && (!raw.d || !raw.d[0]))
                r = herror_set(err, EINVAL, "%s.subjectEmail: not specified", jpath);
        keyless_raw_done(&raw);
        return r;
}

static int check_pki(json_t *v, const char *jpath, struct herror *err)
{
        static const struct json_field t[] = {
                { "caRootsPath", JSON_STRING, json_dispatch_string, offsetof(struct keyless_raw, a), 0 },
                { "caRootsData", JSON_STRING, json_dispatch_string, offsetof(struct keyless_raw, b), 0 },
                { "caIntermediatesPath", JSON_STRING, json_dispatch_string, offsetof(struct keyless_raw, c), 0 },
                { "caIntermediatesData", JSON_STRING, json_dispatch_string, offsetof(struct keyless_raw, d), 0 },
                { "subjectEmail", JSON_STRING, json_dispatch_string, offsetof(struct keyless_raw, e), 0 },
                { "subjectHostname", JSON_STRING, json_dispatch_string, offsetof(struct keyless_raw, f), 0 },
                { NULL },
        };
        struct keyless_raw raw = { 0 };
        int r = json_dispatch(v, jpath, t, &raw, JD_REJECT_UNKNOWN, err);
        if (r >= 0 && !!raw.a == !!raw.b)
                r = herror_set(err, EINVAL, "%s: exactly one of caRootsPath and caRootsData must be specified", jpath);
        if (r >= 0 && raw.c && raw.d)
                r = herror_set(err, EINVAL, "%s: caIntermediatesPath and caIntermediatesData cannot be used together",
                               jpath);
        if (r >= 0 && !raw.e && !raw.f)
                r = herror_set(err, EINVAL, "%s: at least one of subjectEmail and subjectHostname must be specified",
                               jpath);
        keyless_raw_done(&raw);
        return r;
}

static int parse_sigstore_signed(json_t *v, const char *jpath, struct requirement *req, struct herror *err)
{
        static const struct json_field t[] = {
                { "type", JSON_STRING, NULL, 0, JF_MANDATORY },
                { "keyPath", JSON_STRING, json_dispatch_string, offsetof(struct sigstore_raw, key_path), 0 },
                { "keyPaths", JSON_ARRAY, json_dispatch_strv, offsetof(struct sigstore_raw, key_paths), 0 },
                { "keyData", JSON_STRING, json_dispatch_string, offsetof(struct sigstore_raw, key_data), 0 },
                { "keyDatas", JSON_ARRAY, json_dispatch_strv, offsetof(struct sigstore_raw, key_datas), 0 },
                { "fulcio", JSON_OBJECT, dispatch_json_ref, offsetof(struct sigstore_raw, fulcio), 0 },
                { "pki", JSON_OBJECT, dispatch_json_ref, offsetof(struct sigstore_raw, pki), 0 },
                { "rekorPublicKeyPath", JSON_STRING, json_dispatch_string, offsetof(struct sigstore_raw, rekor_path),
                  0 },
                { "rekorPublicKeyPaths", JSON_ARRAY, json_dispatch_strv, offsetof(struct sigstore_raw, rekor_paths),
                  0 },
                { "rekorPublicKeyData", JSON_STRING, json_dispatch_string, offsetof(struct sigstore_raw, rekor_data),
                  0 },
                { "rekorPublicKeyDatas", JSON_ARRAY, json_dispatch_strv, offsetof(struct sigstore_raw, rekor_datas),
                  0 },
                { "signedIdentity", JSON_OBJECT, dispatch_json_ref, offsetof(struct sigstore_raw, signed_identity), 0 },
                { NULL },
        };
        _cleanup_(sigstore_raw_done) struct sigstore_raw raw = { 0 };
        char path[512];
        int r = json_dispatch(v, jpath, t, &raw, JD_REJECT_UNKNOWN, err);
        if (r < 0)
                return r;
        int sources = !!raw.key_path + !!raw.key_paths + !!raw.key_data + !!raw.key_datas + !!raw.fulcio + !!raw.pki;
        if (sources != 1)
                return herror_set(err, EINVAL,
                                  "%s: exactly one of keyPath, keyPaths, keyData, keyDatas, fulcio and pki must be "
                                  "specified",
                                  jpath);
        int rekor = !!raw.rekor_path + !!raw.rekor_paths + !!raw.rekor_data + !!raw.rekor_datas;
        if (rekor > 1)
                return herror_set(err, EINVAL,
                                  "%s: at most one of rekorPublicKeyPath, rekorPublicKeyPaths, "
                                  "rekorPublicKeyData and rekorPublicKeyDatas can be used",
                                  jpath);
        if (raw.fulcio && rekor == 0)
                return herror_set(err, EINVAL, "%s: fulcio needs one of rekorPublicKeyPath(s)/rekorPublicKeyData(s)",
                                  jpath);
        if ((r = check_list(raw.key_paths, jpath, "keyPaths", err)) < 0 ||
            (r = check_list(raw.key_datas, jpath, "keyDatas", err)) < 0 ||
            (r = check_list(raw.rekor_paths, jpath, "rekorPublicKeyPaths", err)) < 0 ||
            (r = check_list(raw.rekor_datas, jpath, "rekorPublicKeyDatas", err)) < 0)
                return r;
        if (raw.fulcio) {
                json_path_key(path, sizeof path, jpath, "fulcio");
                if ((r = check_fulcio(raw.fulcio, path, err)) < 0)
                        return r;
                req->unsupported = "sigstoreSigned with fulcio (keyless, certificate-based) signatures is not "
                                   "supported by hutch; use keyPath, keyPaths, keyData or keyDatas";
        }
        if (raw.pki) {
                json_path_key(path, sizeof path, jpath, "pki");
                if ((r = check_pki(raw.pki, path, err)) < 0)
                        return r;
                req->unsupported = "sigstoreSigned with pki (X.509 certificate) signatures is not supported by "
                                   "hutch; use keyPath, keyPaths, keyData or keyDatas";
        }
        if (rekor > 0 && !req->unsupported)
                req->unsupported = "rekorPublicKey* (Rekor transparency-log checks) is not supported by hutch; "
                                   "remove it to verify with the keys alone";

        if (raw.key_path) {
                json_path_key(path, sizeof path, jpath, "keyPath");
                if ((r = check_key_path(raw.key_path, path, err)) < 0)
                        return r;
                req->key_paths = calloc(2, sizeof(char *));
                if (!req->key_paths)
                        return -ENOMEM;
                req->key_paths[0] = TAKE_PTR(raw.key_path);
        }
        if (raw.key_paths) {
                for (size_t i = 0; raw.key_paths[i]; i++) {
                        char kp[512];
                        json_path_key(path, sizeof path, jpath, "keyPaths");
                        json_path_index(kp, sizeof kp, path, i);
                        if ((r = check_key_path(raw.key_paths[i], kp, err)) < 0)
                                return r;
                }
                req->key_paths = TAKE_PTR(raw.key_paths);
        }
        if (raw.key_data) {
                json_path_key(path, sizeof path, jpath, "keyData");
                if ((r = decode_key_data(raw.key_data, path, req, err)) < 0)
                        return r;
        }
        for (size_t i = 0; raw.key_datas && raw.key_datas[i]; i++) {
                char kp[512];
                json_path_key(path, sizeof path, jpath, "keyDatas");
                json_path_index(kp, sizeof kp, path, i);
                if ((r = decode_key_data(raw.key_datas[i], kp, req, err)) < 0)
                        return r;
        }
        return parse_optional_identity(raw.signed_identity, jpath, &req->identity, err);
}

struct signed_by_raw {
        char *key_type;
        char *key_path;
        char **key_paths;
        char *key_data;
        json_t *signed_identity;
};

static int parse_signed_by(json_t *v, const char *jpath, struct requirement *req, struct herror *err)
{
        static const struct json_field t[] = {
                { "type", JSON_STRING, NULL, 0, JF_MANDATORY },
                { "keyType", JSON_STRING, json_dispatch_string, offsetof(struct signed_by_raw, key_type),
                  JF_MANDATORY },
                { "keyPath", JSON_STRING, json_dispatch_string, offsetof(struct signed_by_raw, key_path), 0 },
                { "keyPaths", JSON_ARRAY, json_dispatch_strv, offsetof(struct signed_by_raw, key_paths), 0 },
                { "keyData", JSON_STRING, json_dispatch_string, offsetof(struct signed_by_raw, key_data), 0 },
                { "signedIdentity", JSON_OBJECT, dispatch_json_ref, offsetof(struct signed_by_raw, signed_identity),
                  0 },
                { NULL },
        };
        static const char *const key_types[] = { "GPGKeys", "signedByGPGKeys", "X509Certificates", "signedByX509CAs" };
        char q[84];
        struct signed_by_raw raw = { 0 };
        int r = json_dispatch(v, jpath, t, &raw, JD_REJECT_UNKNOWN, err);
        if (r >= 0 && lookup_name(key_types, (int) ELEMENTSOF(key_types), raw.key_type) < 0)
                r = herror_set(err, EINVAL, "%s.keyType: unrecognised value \"%s\"", jpath,
                               trust_quote(raw.key_type, q));
        if (r >= 0 && !!raw.key_path + !!raw.key_paths + !!raw.key_data != 1)
                r = herror_set(err, EINVAL, "%s: exactly one of keyPath, keyPaths and keyData must be specified",
                               jpath);
        if (r >= 0 && raw.key_data) {
                /* GPG keyrings are not parsed, but the base64 must still be well-formed. */
                _cleanup_free_ unsigned char *bytes = NULL;
                size_t len;
                r = base64_decode_strict(raw.key_data, strlen(raw.key_data), &bytes, &len, err);
                if (r < 0 && r != -ENOMEM)
                        r = herror_wrap(err, "%s.keyData", jpath);
        }
        if (r >= 0)
                r = parse_optional_identity(raw.signed_identity, jpath, &req->identity, err);
        free(raw.key_type);
        free(raw.key_path);
        strv_free(raw.key_paths);
        free(raw.key_data);
        req->unsupported = "signedBy (GPG simple signing) is not supported by hutch; sign with sigstore (cosign or "
                           "skopeo --sign-by-sigstore-private-key) and use sigstoreSigned";
        return r;
}

static int parse_signed_base_layer(json_t *v, const char *jpath, struct requirement *req, struct herror *err)
{
        static const struct json_field t[] = {
                { "type", JSON_STRING, NULL, 0, JF_MANDATORY },
                { "baseLayerIdentity", JSON_OBJECT, dispatch_json_ref, 0, JF_MANDATORY },
                { NULL },
        };
        json_t *bli = NULL;
        int r = json_dispatch(v, jpath, t, &bli, JD_REJECT_UNKNOWN, err);
        if (r < 0)
                return r;
        char path[512];
        json_path_key(path, sizeof path, jpath, "baseLayerIdentity");
        req->unsupported = "signedBaseLayer is not supported by hutch (nor implemented by containers/image)";
        return parse_identity(bli, path, &req->identity, err);
}

static int parse_requirement(json_t *v, const char *jpath, struct requirement *ret, struct herror *err)
{
        static const struct json_field type_only[] = {
                { "type", JSON_STRING, NULL, 0, JF_MANDATORY },
                { NULL },
        };
        char q[84];
        const char *tname;
        int r = object_type(v, jpath, &tname, err);
        if (r < 0)
                return r;
        int t = lookup_name(req_type_names, _REQ_TYPE_MAX, tname);
        if (t < 0)
                return herror_set(err, EINVAL, "%s.type: unknown policy requirement type \"%s\"", jpath,
                                  trust_quote(tname, q));
        struct requirement req = { .type = (enum req_type) t };
        switch (req.type) {
        case REQ_INSECURE_ACCEPT_ANYTHING:
        case REQ_REJECT:
                r = json_dispatch(v, jpath, type_only, NULL, JD_REJECT_UNKNOWN, err);
                break;
        case REQ_SIGNED_BY:
                r = parse_signed_by(v, jpath, &req, err);
                break;
        case REQ_SIGNED_BASE_LAYER:
                r = parse_signed_base_layer(v, jpath, &req, err);
                break;
        case REQ_SIGSTORE_SIGNED:
                r = parse_sigstore_signed(v, jpath, &req, err);
                break;
        case _REQ_TYPE_MAX:
        case _REQ_TYPE_INVALID:
        default:
                r = -EINVAL;
                break;
        }
        if (r < 0) {
                requirement_done(&req);
                return r;
        }
        *ret = req;
        return 0;
}

static int parse_requirement_list(json_t *v, const char *jpath, struct requirement_list *ret, struct herror *err)
{
        if (!json_is_array(v))
                return herror_set(err, EINVAL, "%s: expected an array of requirements", jpath);
        size_t n = json_array_size(v);
        if (n == 0)
                return herror_set(err, EINVAL, "%s: the list of requirements must not be empty", jpath);
        if (n > POLICY_MAX_REQUIREMENTS)
                return herror_set(err, E2BIG, "%s: more than %d requirements", jpath, POLICY_MAX_REQUIREMENTS);
        struct requirement_list l = { .v = calloc(n, sizeof(struct requirement)) };
        if (!l.v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                char path[512];
                json_path_index(path, sizeof path, jpath, i);
                int r = parse_requirement(json_array_get(v, i), path, &l.v[l.n], err);
                if (r < 0) {
                        requirement_list_done(&l);
                        return r;
                }
                l.n++;
        }
        *ret = l;
        return 0;
}

/* ---- transports and scopes ---- */

static int validate_scope(const char *transport, const char *scope, const char *jpath, struct herror *err)
{
        char q[84];
        if (!scope[0])
                return 0;
        if (streq(transport, "docker")) {
                int r = ref_validate_docker_scope(scope, err);
                return r < 0 ? herror_wrap(err, "%s", jpath) : 0;
        }
        if (streq(transport, "oci") || streq(transport, "oci-archive") || streq(transport, "dir")) {
                if (!is_canonical_absolute_path(scope))
                        return herror_set(err, EINVAL,
                                          "%s: scope \"%s\" must be an absolute, canonical path other than \"/\"",
                                          jpath, trust_quote(scope, q));
                return 0;
        }
        if (streq(transport, "docker-archive"))
                return herror_set(err, EINVAL, "%s: docker-archive supports no scopes except \"\"", jpath);
        return 0; /* a transport hutch never evaluates: its scopes are opaque here */
}

static int parse_transport(const char *name, json_t *v, const char *jpath, struct transport *ret, struct herror *err)
{
        if (!json_is_object(v))
                return herror_set(err, EINVAL, "%s: expected an object of scopes", jpath);
        size_t n = json_object_size(v);
        if (n > POLICY_MAX_SCOPES)
                return herror_set(err, E2BIG, "%s: more than %d scopes", jpath, POLICY_MAX_SCOPES);
        struct transport t = { .name = strdup(name), .scopes = calloc(n ? n : 1, sizeof(struct scope)) };
        if (!t.name || !t.scopes) {
                transport_done(&t);
                return -ENOMEM;
        }
        const char *key;
        json_t *list;
        int r = 0;
        json_object_foreach (v, key, list) {
                char path[640];
                char q[84];
                snprintf(path, sizeof path, "%.500s[\"%s\"]", jpath, trust_quote(key, q));
                r = validate_scope(name, key, path, err);
                if (r < 0)
                        break;
                struct scope *s = &t.scopes[t.n_scopes];
                s->name = strdup(key);
                if (!s->name) {
                        r = -ENOMEM;
                        break;
                }
                t.n_scopes++;
                r = parse_requirement_list(list, path, &s->reqs, err);
                if (r < 0)
                        break;
        }
        if (r < 0) {
                transport_done(&t);
                return r;
        }
        *ret = t;
        return 0;
}

static int parse_transports(json_t *v, struct policy *p, struct herror *err)
{
        size_t n = json_object_size(v);
        if (n > POLICY_MAX_TRANSPORTS)
                return herror_set(err, E2BIG, ".transports: more than %d transports", POLICY_MAX_TRANSPORTS);
        p->transports = calloc(n ? n : 1, sizeof(struct transport));
        if (!p->transports)
                return -ENOMEM;
        const char *key;
        json_t *scopes;
        json_object_foreach (v, key, scopes) {
                char path[512];
                json_path_key(path, sizeof path, ".transports", key);
                int r = parse_transport(key, scopes, path, &p->transports[p->n_transports], err);
                if (r < 0)
                        return r;
                p->n_transports++;
        }
        return 0;
}

struct policy_top {
        json_t *def;
        json_t *transports;
};

int policy_parse(const char *data, size_t len, const char *source, struct policy **ret, struct herror *err)
{
        static const struct json_field top_fields[] = {
                { "default", JSON_ARRAY, dispatch_json_ref, offsetof(struct policy_top, def), JF_MANDATORY },
                { "transports", JSON_OBJECT, dispatch_json_ref, offsetof(struct policy_top, transports), 0 },
                { NULL },
        };
        if (!source)
                source = "policy";
        _cleanup_json_ json_t *j = NULL;
        int r = json_parse_limited(data, len, source, POLICY_FILE_MAX, JSON_MAX_DEPTH_DEFAULT, &j, err);
        if (r < 0)
                return r;
        struct policy_top top = { 0 };
        struct policy *p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        p->source = strdup(source);
        if (!p->source)
                r = -ENOMEM;
        struct digest d;
        if (r >= 0 && (r = digest_buffer(data, len, &d, err)) >= 0)
                digest_to_string(&d, p->sha256);
        if (r >= 0)
                r = json_dispatch(j, "", top_fields, &top, JD_REJECT_UNKNOWN, err);
        if (r >= 0)
                r = parse_requirement_list(top.def, ".default", &p->def, err);
        if (r >= 0 && top.transports)
                r = parse_transports(top.transports, p, err);
        if (r < 0) {
                policy_free(p);
                return r == -ENOMEM ? r : herror_wrap(err, "%s", source);
        }
        *ret = p;
        return 0;
}

void policy_builtin_text(const char **ret, size_t *ret_len)
{
        *ret = hutch_default_policy_json;
        *ret_len = hutch_default_policy_json_len;
}

int policy_load_builtin(struct policy **ret, struct herror *err)
{
        return policy_parse(hutch_default_policy_json, hutch_default_policy_json_len, POLICY_BUILTIN_SOURCE, ret, err);
}

int policy_load_file(const char *path, struct policy **ret, struct herror *err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return herror_sys(err, errno, "%s: cannot open policy file", path);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return herror_sys(err, errno, "%s: cannot stat policy file", path);
        if (!S_ISREG(st.st_mode))
                return herror_set(err, EINVAL, "%s: policy file is not a regular file", path);
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r = read_fd_limited(fd, path, POLICY_FILE_MAX, &data, &len, err);
        if (r < 0)
                return r;
        return policy_parse(data, len, path, ret, err);
}

/* 1 = exists (of any type: a directory there is an error for the reader, not a reason to go on),
 * 0 = does not exist, negative = cannot tell (fail closed). */
static int path_exists(const char *path, struct herror *err)
{
        struct stat st;
        if (stat(path, &st) == 0)
                return 1;
        if (errno == ENOENT || errno == ENOTDIR)
                return 0;
        return herror_sys(err, errno, "%s: cannot check for a policy file", path);
}

int policy_user_path(char **ret)
{
        const char *xdg = secure_getenv("XDG_CONFIG_HOME");
        const char *home = secure_getenv("HOME");
        *ret = NULL;
        if (xdg && xdg[0] == '/')
                return asprintf(ret, "%s/hutch/policy.json", xdg) < 0 ? -ENOMEM : 0;
        if (home && home[0] == '/')
                return asprintf(ret, "%s/.config/hutch/policy.json", home) < 0 ? -ENOMEM : 0;
        return 0;
}

int policy_locate(const char *explicit_path, char **ret_path, struct herror *err)
{
        if (explicit_path) {
                char *p = strdup(explicit_path);
                if (!p)
                        return -ENOMEM;
                *ret_path = p;
                return 0;
        }
        _cleanup_free_ char *user = NULL;
        int r = policy_user_path(&user);
        if (r < 0)
                return r;
        if (user) {
                r = path_exists(user, err);
                if (r < 0)
                        return r;
                if (r > 0) {
                        *ret_path = TAKE_PTR(user);
                        return 0;
                }
        }
        r = path_exists(POLICY_SYSTEM_PATH, err);
        if (r < 0)
                return r;
        if (r > 0) {
                char *p = strdup(POLICY_SYSTEM_PATH);
                if (!p)
                        return -ENOMEM;
                *ret_path = p;
                return 0;
        }
        *ret_path = NULL;
        return 0;
}

int policy_load(const char *explicit_path, struct policy **ret, struct herror *err)
{
        _cleanup_free_ char *path = NULL;
        int r = policy_locate(explicit_path, &path, err);
        if (r < 0)
                return r;
        return path ? policy_load_file(path, ret, err) : policy_load_builtin(ret, err);
}

/* ---- scope lookup ---- */

static const struct transport *find_transport(const struct policy *p, const char *name)
{
        for (size_t i = 0; i < p->n_transports; i++)
                if (streq(p->transports[i].name, name))
                        return &p->transports[i];
        return NULL;
}

static const struct scope *find_scope(const struct transport *t, const char *name)
{
        for (size_t i = 0; i < t->n_scopes; i++)
                if (streq(t->scopes[i].name, name))
                        return &t->scopes[i];
        return NULL;
}

/* The layout path, then each parent directory except "/" (oci transport, layout/oci_transport.go). */
static int oci_scopes(const char *layout_path, char ***ret, struct herror *err)
{
        char q[84];
        if (!layout_path || !is_canonical_absolute_path(layout_path))
                return herror_set(err, EINVAL, "OCI layout path \"%s\" is not absolute and canonical",
                                  trust_quote(layout_path, q));
        size_t n = 1;
        for (const char *c = layout_path + 1; *c; c++)
                n += *c == '/';
        _cleanup_strv_ char **v = calloc(n + 1, sizeof(char *));
        if (!v)
                return -ENOMEM;
        _cleanup_free_ char *path = strdup(layout_path);
        if (!path)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                v[i] = strdup(path);
                if (!v[i])
                        return -ENOMEM;
                char *slash = strrchr(path, '/');
                *slash = 0;
        }
        *ret = TAKE_PTR(v);
        return 0;
}

static int image_scopes(const struct policy_image *img, char ***ret, struct herror *err)
{
        switch (img->transport) {
        case POLICY_TRANSPORT_DOCKER:
                if (!img->ref)
                        return herror_set(err, EINVAL, "docker transport: the image has no reference");
                return ref_policy_scopes(img->ref, ret, err);
        case POLICY_TRANSPORT_OCI:
                return oci_scopes(img->layout_path, ret, err);
        case _POLICY_TRANSPORT_MAX:
        default:
                return herror_set(err, EINVAL, "unknown transport %d", (int) img->transport);
        }
}

static int lookup(const struct policy *p, const struct policy_image *img, const struct transport **ret_t,
                  const struct scope **ret_s, struct herror *err)
{
        const char *tname = policy_transport_name(img->transport);
        if (!tname)
                return herror_set(err, EINVAL, "unknown transport %d", (int) img->transport);
        _cleanup_strv_ char **candidates = NULL;
        int r = image_scopes(img, &candidates, err);
        if (r < 0)
                return r;
        const struct transport *t = find_transport(p, tname);
        const struct scope *s = NULL;
        for (char **c = candidates; t && *c && !s; c++)
                s = find_scope(t, *c);
        if (t && !s)
                s = find_scope(t, "");
        *ret_t = s ? t : NULL;
        *ret_s = s;
        return 0;
}

int policy_lookup(const struct policy *p, const struct policy_image *img, const char **ret_transport,
                  const char **ret_scope, struct herror *err)
{
        const struct transport *t;
        const struct scope *s;
        int r = lookup(p, img, &t, &s, err);
        if (r < 0)
                return r;
        *ret_transport = t ? t->name : NULL;
        *ret_scope = s ? s->name : "default";
        return 0;
}

/* ---- identity matching (policy_reference_match.go) ---- */

/* matchRepoDigestOrExact: a tagged image needs the exact reference signed; an image by digest only its
 * repository (the digest itself is bound by the signature's manifest digest). */
static bool match_repo_digest_or_exact(const struct image_ref *intended, const struct image_ref *signed_ref)
{
        if (ref_is_name_only(signed_ref))
                return false;
        if (intended->tag)
                return ref_equal(intended, signed_ref);
        if (intended->digest)
                return ref_same_name(intended, signed_ref);
        return false;
}

static int remap(const struct signed_identity *id, const struct image_ref *intended, struct image_ref *ret,
                 struct herror *err)
{
        _cleanup_free_ char *name = ref_format_name(intended);
        _cleanup_free_ char *full = ref_format_full(intended);
        if (!name || !full)
                return -ENOMEM;
        size_t pl = strlen(id->prefix);
        bool matches = streq(name, id->prefix) || (strncmp(name, id->prefix, pl) == 0 && name[pl] == '/');
        if (!matches)
                return ref_copy(intended, ret);
        _cleanup_free_ char *rewritten = NULL;
        if (asprintf(&rewritten, "%s%s", id->signed_prefix, full + pl) < 0)
                return -ENOMEM;
        int r = ref_parse_canonical(rewritten, ret, err);
        if (r < 0 && r != -ENOMEM)
                return herror_wrap(err, "remapIdentity: rewriting %s", full);
        return r;
}

/* 1 = the signed identity is accepted, 0 = not (why says so), negative = -ENOMEM. */
static int identity_matches(const struct signed_identity *id, const struct policy_image *img, const char *signed_s,
                            char **why)
{
        char q[84];
        _cleanup_herror_ struct herror e = HERROR_INIT;
        _cleanup_ref_ struct image_ref signed_ref = { 0 };
        const char *tname = identity_type_names[id->type];
        int r = ref_parse_normalized(signed_s, &signed_ref, &e);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return asprintf(why, "the signed identity is not a valid reference: %s", herror_msg(&e)) < 0 ? -ENOMEM
                                                                                                             : 0;
        const struct image_ref *intended = img->transport == POLICY_TRANSPORT_DOCKER ? img->ref : NULL;
        bool ok = false;
        switch (id->type) {
        case ID_EXACT_REFERENCE:
                ok = !ref_is_name_only(&signed_ref) && ref_equal(&id->ref, &signed_ref);
                break;
        case ID_EXACT_REPOSITORY:
                ok = ref_same_name(&id->ref, &signed_ref);
                break;
        case ID_MATCH_REPO_DIGEST_OR_EXACT:
        case ID_MATCH_REPOSITORY:
        case ID_MATCH_EXACT:
        case ID_REMAP_IDENTITY:
                if (!intended)
                        return asprintf(why,
                                        "signedIdentity %s needs the image's docker reference, and an image "
                                        "from an OCI layout has none (use exactReference or exactRepository)",
                                        tname) < 0
                                ? -ENOMEM
                                : 0;
                if (id->type == ID_MATCH_REPOSITORY)
                        ok = ref_same_name(intended, &signed_ref);
                else if (id->type == ID_MATCH_EXACT)
                        ok = !ref_is_name_only(intended) && !ref_is_name_only(&signed_ref) &&
                                ref_equal(intended, &signed_ref);
                else if (id->type == ID_MATCH_REPO_DIGEST_OR_EXACT)
                        ok = match_repo_digest_or_exact(intended, &signed_ref);
                else {
                        _cleanup_ref_ struct image_ref mapped = { 0 };
                        r = remap(id, intended, &mapped, &e);
                        if (r == -ENOMEM)
                                return r;
                        if (r < 0)
                                return asprintf(why, "%s", herror_msg(&e)) < 0 ? -ENOMEM : 0;
                        ok = match_repo_digest_or_exact(&mapped, &signed_ref);
                }
                break;
        case _ID_TYPE_MAX:
        case _ID_TYPE_INVALID:
        default:
                break;
        }
        if (ok)
                return 1;
        _cleanup_free_ char *image_s = intended ? ref_format_full(intended) : NULL;
        if (asprintf(why, "signature for identity \"%s\" is not accepted by signedIdentity %s%s%s%s",
                     trust_quote(signed_s, q), tname, image_s ? " (image " : "", image_s ? image_s : "",
                     image_s ? ")" : "") < 0)
                return -ENOMEM;
        return 0;
}

/* ---- evaluation ---- */

/* The outcome of one requirement. */
struct req_result {
        bool accepted;
        char *reason; /* rejected: why */
        char *key_id; /* accepted by a signature */
        char *signed_reference;
};

static void req_result_done(struct req_result *r)
{
        free(r->reason);
        free(r->key_id);
        free(r->signed_reference);
        *r = (struct req_result) { 0 };
}

static int set_reason(struct req_result *res, const char *fmt, ...) _printf_(2, 3);
static int set_reason(struct req_result *res, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        free(res->reason);
        int n = vasprintf(&res->reason, fmt, ap);
        va_end(ap);
        if (n < 0) {
                res->reason = NULL;
                return -ENOMEM;
        }
        res->accepted = false;
        return 0;
}

struct key_set {
        struct trust_key **loaded; /* from key files, owned */
        size_t n_loaded;
        const struct trust_key **all;
        size_t n;
};

static void key_set_done(struct key_set *k)
{
        for (size_t i = 0; i < k->n_loaded; i++)
                trust_key_free(k->loaded[i]);
        free(k->loaded);
        free(k->all);
        *k = (struct key_set) { 0 };
}

static int load_keys(const struct requirement *req, struct key_set *ks, struct herror *err)
{
        size_t n_paths = 0;
        while (req->key_paths && req->key_paths[n_paths])
                n_paths++;
        ks->loaded = calloc(n_paths ? n_paths : 1, sizeof(struct trust_key *));
        ks->all = calloc(n_paths + req->n_keys + 1, sizeof(struct trust_key *));
        if (!ks->loaded || !ks->all)
                return -ENOMEM;
        for (size_t i = 0; i < req->n_keys; i++)
                ks->all[ks->n++] = req->keys[i];
        for (size_t i = 0; i < n_paths; i++) {
                int r = trust_key_load_file(req->key_paths[i], &ks->loaded[ks->n_loaded], err);
                if (r < 0)
                        return r;
                ks->all[ks->n++] = ks->loaded[ks->n_loaded++];
        }
        return 0;
}

/* Append "; [i] why" to a summary of rejected signatures, listing only the first few. */
static int add_rejection(char **summary, size_t index, size_t listed, const char *why)
{
        if (listed >= REASON_SIGNATURES_LISTED)
                return 0;
        char *n;
        if (asprintf(&n, "%s%s[%zu] %s", *summary ? *summary : "", *summary ? "; " : "", index + 1, why) < 0)
                return -ENOMEM;
        free(*summary);
        *summary = n;
        return 0;
}

static int eval_sigstore(const struct requirement *req, const struct policy_image *img, struct req_result *res)
{
        if (img->n_signatures == 0)
                return set_reason(res, "A signature was required, but no signature exists");
        _cleanup_herror_ struct herror e = HERROR_INIT;
        _cleanup_(key_set_done) struct key_set ks = { 0 };
        int r = load_keys(req, &ks, &e);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return set_reason(res, "cannot load a trusted key: %s", herror_msg(&e));

        _cleanup_free_ char *summary = NULL;
        _cleanup_free_ char *single = NULL;
        size_t listed = 0;
        for (size_t i = 0; i < img->n_signatures; i++) {
                struct sigstore_payload payload = { 0 };
                size_t key_index = 0;
                herror_clear(&e);
                r = sigstore_verify(ks.all, ks.n, &img->signatures[i], img->manifest_digest, &payload, &key_index, &e);
                if (r == -ENOMEM)
                        return r;
                _cleanup_free_ char *why = NULL;
                if (r >= 0) {
                        r = identity_matches(&req->identity, img, payload.docker_reference, &why);
                        if (r > 0) {
                                res->accepted = true;
                                res->key_id = strdup(trust_key_id(ks.all[key_index]));
                                res->signed_reference = TAKE_PTR(payload.docker_reference);
                                sigstore_payload_done(&payload);
                                return res->key_id ? 0 : -ENOMEM;
                        }
                        sigstore_payload_done(&payload);
                        if (r < 0)
                                return r;
                } else if (!(why = strdup(herror_msg(&e))))
                        return -ENOMEM;
                free(single);
                single = strdup(why);
                if (!single || add_rejection(&summary, i, listed++, why) < 0)
                        return -ENOMEM;
        }
        if (img->n_signatures == 1)
                return set_reason(res, "%s", single);
        if (img->n_signatures > REASON_SIGNATURES_LISTED)
                return set_reason(res, "None of the %zu signatures were accepted: %s; and %zu more", img->n_signatures,
                                  summary, img->n_signatures - REASON_SIGNATURES_LISTED);
        return set_reason(res, "None of the %zu signatures were accepted: %s", img->n_signatures, summary);
}

static int eval_requirement(const struct requirement *req, const struct policy_image *img, struct req_result *res)
{
        if (req->unsupported)
                return set_reason(res, "%s", req->unsupported);
        switch (req->type) {
        case REQ_INSECURE_ACCEPT_ANYTHING:
                res->accepted = true;
                return 0;
        case REQ_REJECT:
                return set_reason(res, "the policy rejects every image here");
        case REQ_SIGSTORE_SIGNED:
                return eval_sigstore(req, img, res);
        case REQ_SIGNED_BY:
        case REQ_SIGNED_BASE_LAYER:
        case _REQ_TYPE_MAX:
        case _REQ_TYPE_INVALID:
        default:
                return set_reason(res, "requirement type %d cannot be evaluated", (int) req->type);
        }
}

static char *describe_scope(const struct transport *t, const struct scope *s)
{
        char *d;
        if (!t || !s)
                return strdup("default");
        if (asprintf(&d, "transports.%s[\"%s\"]", t->name, s->name) < 0)
                return NULL;
        return d;
}

/* A rejection before any requirement ran (bad input, lookup failure). */
static int reject_early(struct policy_verdict *v, const char *what, const char *why)
{
        if (asprintf(&v->reason, "rejected: %s: %s", what, why) < 0) {
                v->reason = NULL;
                return -ENOMEM;
        }
        v->accepted = false;
        v->requirement_index = -1;
        return 0;
}

static int check_image(const struct policy_image *img, struct herror *err)
{
        if (!img->manifest_digest || !digest_is_valid(img->manifest_digest))
                return herror_set(err, EINVAL, "the image's manifest digest is not a sha256 digest");
        if (img->n_signatures > 0 && !img->signatures)
                return herror_set(err, EINVAL, "signatures missing");
        if (img->transport == POLICY_TRANSPORT_DOCKER && img->ref && !!img->ref->tag == !!img->ref->digest)
                return herror_set(err, EINVAL, "the image reference needs exactly one of a tag and a digest");
        return 0;
}

static int evaluate(const struct policy *p, const struct policy_image *img, struct policy_verdict *v)
{
        _cleanup_herror_ struct herror e = HERROR_INIT;
        const struct transport *t = NULL;
        const struct scope *s = NULL;
        int r = check_image(img, &e);
        if (r >= 0)
                r = lookup(p, img, &t, &s, &e);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return reject_early(v, "invalid image", herror_msg(&e));
        v->transport = t ? strdup(t->name) : NULL;
        v->scope = strdup(s ? s->name : "default");
        _cleanup_free_ char *where = describe_scope(t, s);
        if ((t && !v->transport) || !v->scope || !where)
                return -ENOMEM;
        const struct requirement_list *list = s ? &s->reqs : &p->def;
        v->requirement_index = -1;
        if (list->n == 0) /* policy_parse() refuses empty lists; never accept on none */
                return reject_early(v, where, "no requirements");
        v->requirements = calloc(list->n, sizeof *v->requirements);
        if (!v->requirements)
                return -ENOMEM;
        int first_rejected = -1;
        for (size_t i = 0; i < list->n; i++) {
                _cleanup_(req_result_done) struct req_result res = { 0 };
                r = eval_requirement(&list->v[i], img, &res);
                if (r < 0)
                        return r;
                struct policy_requirement_result *out = &v->requirements[v->n_requirements++];
                out->type = req_type_name(list->v[i].type);
                out->accepted = res.accepted;
                if (!res.accepted) {
                        out->reason = TAKE_PTR(res.reason);
                        if (first_rejected < 0)
                                first_rejected = (int) i;
                } else if (res.key_id) {
                        char q[84];
                        if (asprintf(&out->reason, "signed by key %s as \"%s\"", res.key_id,
                                     trust_quote(res.signed_reference, q)) < 0) {
                                out->reason = NULL;
                                return -ENOMEM;
                        }
                        out->key_id = TAKE_PTR(res.key_id);
                        out->signed_reference = TAKE_PTR(res.signed_reference);
                } else {
                        out->reason = strdup("accepts any image");
                }
                if (!out->reason)
                        return -ENOMEM;
        }
        if (first_rejected >= 0) {
                const struct policy_requirement_result *rej = &v->requirements[first_rejected];
                v->accepted = false;
                v->requirement_index = first_rejected;
                return asprintf(&v->reason, "rejected by %s, requirement %d (%s): %s", where, first_rejected, rej->type,
                                rej->reason) < 0
                        ? (v->reason = NULL, -ENOMEM)
                        : 0;
        }
        for (size_t i = 0; i < v->n_requirements; i++) {
                if (v->requirements[i].key_id) {
                        v->requirement_index = (int) i;
                        v->key_id = strdup(v->requirements[i].key_id);
                        v->signed_reference = strdup(v->requirements[i].signed_reference);
                        if (!v->key_id || !v->signed_reference)
                                return -ENOMEM;
                        break;
                }
        }
        v->accepted = true;
        char q[84];
        int n = v->key_id ? asprintf(&v->reason, "accepted by %s: signed by key %s as \"%s\"", where, v->key_id,
                                     trust_quote(v->signed_reference, q))
                          : asprintf(&v->reason, "accepted by %s: %s", where,
                                     list->n == 1 ? req_type_name(list->v[0].type) : "every requirement passed");
        if (n < 0) {
                v->reason = NULL;
                return -ENOMEM;
        }
        return 0;
}

static void printable(char *s)
{
        for (char *c = s; c && *c; c++)
                if ((unsigned char) *c < 0x20 || *c == 0x7f)
                        *c = '?';
}

int policy_evaluate(const struct policy *p, const struct policy_image *img, struct policy_verdict *ret,
                    struct herror *err)
{
        if (!p || !img || !ret)
                return herror_set(err, EINVAL, "policy_evaluate: missing argument");
        struct policy_verdict v = { .requirement_index = -1 };
        int r = evaluate(p, img, &v);
        if (r < 0) {
                policy_verdict_done(&v);
                return herror_set(err, -r, "evaluating the image policy failed");
        }
        /* One line, printable: parts of the reasons come from signatures and JSON error texts. */
        printable(v.reason);
        for (size_t i = 0; i < v.n_requirements; i++)
                printable(v.requirements[i].reason);
        *ret = v;
        return 0;
}
