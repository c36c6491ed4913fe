/* Docker reference parsing and normalisation; see reference.h for the grammar. */
#include <ctype.h>
#include <string.h>

#include "trust/reference.h"

#define LEGACY_DEFAULT_DOMAIN "index.docker.io"
#define OFFICIAL_REPO_PREFIX "library/"
#define REF_INPUT_MAX 4096

const char *trust_quote(const char *s, char buf[static 84])
{
        size_t i = 0;
        if (!s)
                s = "(null)";
        for (; i < 80 && s[i]; i++)
                buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
        if (s[i]) {
                memcpy(buf + i, "...", 3);
                i += 3;
        }
        buf[i] = 0;
        return buf;
}

static bool is_lower_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
        return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_hex_lower(char c)
{
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* label := [A-Za-z0-9] | [A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9] */
static bool valid_label(const char *s, size_t n)
{
        if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!is_alnum(s[i]) && s[i] != '-')
                        return false;
        return true;
}

/* label ( "." label )* */
static bool valid_domain_name(const char *s, size_t n)
{
        size_t start = 0;
        for (size_t i = 0; i <= n; i++)
                if (i == n || s[i] == '.') {
                        if (!valid_label(s + start, i - start))
                                return false;
                        start = i + 1;
                }
        return true;
}

/* host [ ":" port ], host a domain name or "[" hex and colons "]" */
static bool valid_domain(const char *s, size_t n)
{
        size_t host_len = n;
        if (n > 0 && s[0] == '[') {
                const char *close = memchr(s, ']', n);
                if (!close || close == s + 1)
                        return false;
                for (const char *p = s + 1; p < close; p++)
                        if (!isxdigit((unsigned char) *p) && *p != ':')
                                return false;
                host_len = (size_t) (close - s) + 1;
        } else {
                const char *colon = memchr(s, ':', n);
                if (colon)
                        host_len = (size_t) (colon - s);
                if (!valid_domain_name(s, host_len))
                        return false;
        }
        if (host_len == n)
                return true;
        if (s[host_len] != ':' || host_len + 1 == n)
                return false;
        for (size_t i = host_len + 1; i < n; i++)
                if (s[i] < '0' || s[i] > '9')
                        return false;
        return true;
}

/* component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )* */
static bool valid_component(const char *s, size_t n)
{
        size_t i = 0;
        while (i < n) {
                size_t run = 0;
                while (i < n && is_lower_alnum(s[i]))
                        i++, run++;
                if (run == 0)
                        return false;
                if (i == n)
                        return true;
                size_t sep_start = i;
                if (s[i] == '.')
                        i++;
                else if (s[i] == '_')
                        i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
                else if (s[i] == '-')
                        while (i < n && s[i] == '-')
                                i++;
                else
                        return false;
                if (i == sep_start || i == n)
                        return false;
        }
        return n > 0;
}

static bool valid_path(const char *s, size_t n)
{
        size_t start = 0;
        for (size_t i = 0; i <= n; i++)
                if (i == n || s[i] == '/') {
                        if (!valid_component(s + start, i - start))
                                return false;
                        start = i + 1;
                }
        return true;
}

static bool valid_tag(const char *s)
{
        size_t n = strlen(s);
        if (n == 0 || n > REF_TAG_MAX || !(is_alnum(s[0]) || s[0] == '_'))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!is_alnum(s[i]) && !strchr("_.-", s[i]))
                        return false;
        return true;
}

/* The digests go-digest can verify; the hex part is lowercase and of the algorithm's length. */
static int check_digest(const char *s, const char *whole, struct herror *err)
{
        static const struct {
                const char *algo;
                size_t hex;
        } algos[] = {
                { "sha256:", 64 },
                { "sha384:", 96 },
                { "sha512:", 128 },
        };
        char q[84];
        for (size_t i = 0; i < ELEMENTSOF(algos); i++) {
                size_t l = strlen(algos[i].algo);
                if (strncmp(s, algos[i].algo, l) != 0)
                        continue;
                size_t n = 0;
                while (is_hex_lower(s[l + n]))
                        n++;
                if (n != algos[i].hex || s[l + n])
                        return herror_set(err, EINVAL, "reference \"%s\": invalid %.6s digest", trust_quote(whole, q),
                                          algos[i].algo);
                return 0;
        }
        return herror_set(err, EINVAL, "reference \"%s\": unsupported or malformed digest", trust_quote(whole, q));
}

static bool is_hex64(const char *s)
{
        size_t n = 0;
        while (is_hex_lower(s[n]))
                n++;
        return n == 64 && !s[n];
}

static bool first_component_is_domain(const char *s, size_t n)
{
        if (memchr(s, '.', n) || memchr(s, ':', n) || (n == 9 && strncmp(s, "localhost", 9) == 0))
                return true;
        for (size_t i = 0; i < n; i++)
                if (s[i] >= 'A' && s[i] <= 'Z')
                        return true;
        return false;
}

void ref_done(struct image_ref *ref)
{
        if (!ref)
                return;
        free(ref->domain);
        free(ref->path);
        free(ref->tag);
        free(ref->digest);
        *ref = (struct image_ref) { 0 };
}

/* Split "name[:tag][@digest]" (the name already without its domain) and check every part. */
static int parse_remainder(const char *whole, const char *domain, const char *remainder, struct image_ref *ret,
                           struct herror *err)
{
        char q[84];
        _cleanup_free_ char *rem = strdup(remainder);
        if (!rem)
                return -ENOMEM;
        char *digest = strchr(rem, '@');
        if (digest) {
                *digest++ = 0;
                int r = check_digest(digest, whole, err);
                if (r < 0)
                        return r;
        }
        char *tag = NULL;
        char *last_slash = strrchr(rem, '/');
        char *colon = strchr(last_slash ? last_slash : rem, ':');
        if (colon) {
                *colon = 0;
                tag = colon + 1;
                if (!valid_tag(tag))
                        return herror_set(err, EINVAL, "reference \"%s\": invalid tag", trust_quote(whole, q));
        }
        for (const char *p = rem; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                        return herror_set(err, EINVAL, "reference \"%s\": repository name must be lowercase",
                                          trust_quote(whole, q));
        if (!valid_path(rem, strlen(rem)))
                return herror_set(err, EINVAL, "reference \"%s\": invalid repository name", trust_quote(whole, q));
        if (strlen(domain) + 1 + strlen(rem) > REF_NAME_MAX)
                return herror_set(err, EINVAL, "reference \"%s\": name longer than %d characters",
                                  trust_quote(whole, q), REF_NAME_MAX);
        struct image_ref r = {
                .domain = strdup(domain),
                .path = strdup(rem),
                .tag = tag ? strdup(tag) : NULL,
                .digest = digest ? strdup(digest) : NULL,
        };
        if (!r.domain || !r.path || (tag && !r.tag) || (digest && !r.digest)) {
                ref_done(&r);
                return -ENOMEM;
        }
        *ret = r;
        return 0;
}

int ref_parse_normalized(const char *s, struct image_ref *ret, struct herror *err)
{
        char q[84];
        if (!s || !*s)
                return herror_set(err, EINVAL, "empty image reference");
        size_t len = strnlen(s, REF_INPUT_MAX + 1);
        if (len > REF_INPUT_MAX)
                return herror_set(err, EINVAL, "reference \"%s\": too long", trust_quote(s, q));
        if (is_hex64(s))
                return herror_set(err, EINVAL,
                                  "reference \"%s\": a 64-digit hexadecimal string is an image ID, not a name",
                                  trust_quote(s, q));
        const char *slash = strchr(s, '/');
        _cleanup_free_ char *domain = NULL;
        const char *remainder;
        if (!slash || !first_component_is_domain(s, (size_t) (slash - s))) {
                domain = strdup(REF_DEFAULT_DOMAIN);
                remainder = s;
        } else {
                domain = strndup(s, (size_t) (slash - s));
                remainder = slash + 1;
                if (domain && !valid_domain(domain, strlen(domain)))
                        return herror_set(err, EINVAL, "reference \"%s\": invalid registry host", trust_quote(s, q));
        }
        if (!domain)
                return -ENOMEM;
        if (streq(domain, LEGACY_DEFAULT_DOMAIN)) {
                free(domain);
                domain = strdup(REF_DEFAULT_DOMAIN);
                if (!domain)
                        return -ENOMEM;
        }
        _cleanup_free_ char *prefixed = NULL;
        if (streq(domain, REF_DEFAULT_DOMAIN)) {
                /* Only the name part decides: "alpine@sha256:..." has no '/' in its name either. */
                size_t name_len = strcspn(remainder, ":@");
                if (!memchr(remainder, '/', name_len)) {
                        if (asprintf(&prefixed, "%s%s", OFFICIAL_REPO_PREFIX, remainder) < 0)
                                return -ENOMEM;
                        remainder = prefixed;
                }
        }
        return parse_remainder(s, domain, remainder, ret, err);
}

int ref_parse_canonical(const char *s, struct image_ref *ret, struct herror *err)
{
        char q[84];
        _cleanup_ref_ struct image_ref r = { 0 };
        int k = ref_parse_normalized(s, &r, err);
        if (k < 0)
                return k;
        _cleanup_free_ char *full = ref_format_full(&r);
        if (!full)
                return -ENOMEM;
        if (!streq(full, s))
                return herror_set(err, EINVAL, "reference \"%s\": not in canonical form (that is \"%s\")",
                                  trust_quote(s, q), full);
        *ret = r;
        r = (struct image_ref) { 0 };
        return 0;
}

int ref_parse(const char *s, struct image_ref *ret, struct herror *err)
{
        _cleanup_ref_ struct image_ref r = { 0 };
        int k = ref_parse_normalized(s, &r, err);
        if (k < 0)
                return k;
        if (r.digest && r.tag) {
                free(r.tag);
                r.tag = NULL;
        } else if (!r.digest && !r.tag) {
                r.tag = strdup(REF_DEFAULT_TAG);
                if (!r.tag)
                        return -ENOMEM;
        }
        *ret = r;
        r = (struct image_ref) { 0 };
        return 0;
}

int ref_copy(const struct image_ref *src, struct image_ref *ret)
{
        struct image_ref r = {
                .domain = strdup(src->domain),
                .path = strdup(src->path),
                .tag = src->tag ? strdup(src->tag) : NULL,
                .digest = src->digest ? strdup(src->digest) : NULL,
        };
        if (!r.domain || !r.path || (src->tag && !r.tag) || (src->digest && !r.digest)) {
                ref_done(&r);
                return -ENOMEM;
        }
        *ret = r;
        return 0;
}

bool ref_is_name_only(const struct image_ref *ref)
{
        return !ref->tag && !ref->digest;
}

char *ref_format_name(const struct image_ref *ref)
{
        char *s;
        if (asprintf(&s, "%s/%s", ref->domain, ref->path) < 0)
                return NULL;
        return s;
}

char *ref_format_full(const struct image_ref *ref)
{
        char *s;
        if (asprintf(&s, "%s/%s%s%s%s%s", ref->domain, ref->path, ref->tag ? ":" : "", ref->tag ? ref->tag : "",
                     ref->digest ? "@" : "", ref->digest ? ref->digest : "") < 0)
                return NULL;
        return s;
}

bool ref_same_name(const struct image_ref *a, const struct image_ref *b)
{
        return streq(a->domain, b->domain) && streq(a->path, b->path);
}

static bool opt_streq(const char *a, const char *b)
{
        return (!a && !b) || (a && b && streq(a, b));
}

bool ref_equal(const struct image_ref *a, const struct image_ref *b)
{
        return ref_same_name(a, b) && opt_streq(a->tag, b->tag) && opt_streq(a->digest, b->digest);
}

int ref_policy_scopes(const struct image_ref *ref, char ***ret, struct herror *err)
{
        char q[84];
        if (!!ref->tag == !!ref->digest) {
                _cleanup_free_ char *full = ref_format_full(ref);
                return herror_set(err, EINVAL,
                                  "reference \"%s\": policy lookup needs exactly one of a tag and a digest",
                                  trust_quote(full ? full : ref->path, q));
        }
        _cleanup_strv_ char **v = NULL;
        _cleanup_free_ char *identity = ref_format_full(ref);
        int r = identity ? strv_push(&v, identity) : -ENOMEM;
        if (r < 0)
                return r;
        /* The repository, then each parent namespace; the last one is the domain alone. */
        _cleanup_free_ char *name = ref_format_name(ref);
        if (!name)
                return -ENOMEM;
        for (;;) {
                r = strv_push(&v, name);
                if (r < 0)
                        return r;
                char *slash = strrchr(name, '/');
                if (!slash)
                        break;
                *slash = 0;
        }
        /* Wildcards from the host without its port: "*.b.example.com", "*.example.com", "*.com". An
         * IPv6 literal has no dots outside its brackets and yields none. */
        if (name[0] != '[') {
                char *colon = strchr(name, ':');
                if (colon)
                        *colon = 0;
                for (char *dot = strchr(name, '.'); dot; dot = strchr(dot + 1, '.')) {
                        _cleanup_free_ char *w = NULL;
                        if (asprintf(&w, "*.%s", dot + 1) < 0)
                                return -ENOMEM;
                        r = strv_push(&v, w);
                        if (r < 0)
                                return r;
                }
        }
        *ret = TAKE_PTR(v);
        return 0;
}

int ref_validate_docker_scope(const char *s, struct herror *err)
{
        char q[84];
        size_t n = strnlen(s, REF_INPUT_MAX + 1);
        if (n == 0)
                return 0; /* the transport-wide default */
        if (n > REF_INPUT_MAX)
                return herror_set(err, EINVAL, "scope \"%s\": too long", trust_quote(s, q));
        if (strncmp(s, "*.", 2) == 0) {
                if (!valid_domain_name(s + 2, n - 2))
                        return herror_set(err, EINVAL,
                                          "scope \"%s\": a wildcard scope is \"*.\" followed by DNS labels (no port)",
                                          trust_quote(s, q));
                return 0;
        }
        const char *slash = strchr(s, '/');
        size_t dlen = slash ? (size_t) (slash - s) : n;
        if (!valid_domain(s, dlen))
                return herror_set(err, EINVAL, "scope \"%s\": does not start with a valid registry host",
                                  trust_quote(s, q));
        if (!first_component_is_domain(s, dlen) ||
            (dlen == strlen(LEGACY_DEFAULT_DOMAIN) && strncmp(s, LEGACY_DEFAULT_DOMAIN, dlen) == 0))
                return herror_set(err, EINVAL,
                                  "scope \"%s\": never matches; scopes name fully expanded references such as "
                                  "docker.io/library/busybox",
                                  trust_quote(s, q));
        if (!slash)
                return 0;
        struct image_ref r = { 0 };
        int k = parse_remainder(s, "x", slash + 1, &r, err);
        if (k < 0)
                return k == -ENOMEM ? k : herror_wrap(err, "scope");
        bool exact = !ref_is_name_only(&r);
        bool both = r.tag && r.digest;
        ref_done(&r);
        if (both)
                return herror_set(err, EINVAL, "scope \"%s\": a tag and a digest never match together",
                                  trust_quote(s, q));
        if (exact) {
                /* An identity must be in the form ref_policy_scopes() produces ("docker.io/alpine:3"
                 * never matches: the image is docker.io/library/alpine:3). */
                k = ref_parse_canonical(s, &r, NULL);
                ref_done(&r);
                if (k < 0)
                        return herror_set(err, EINVAL,
                                          "scope \"%s\": never matches; scopes name fully expanded references such as "
                                          "docker.io/library/busybox:latest",
                                          trust_quote(s, q));
        }
        return 0;
}

int ref_validate_remap_prefix(const char *s, struct herror *err)
{
        char q[84];
        size_t n = strnlen(s, REF_INPUT_MAX + 1);
        const char *slash = memchr(s, '/', n);
        if (n > 0 && n <= REF_INPUT_MAX &&
            (slash ? valid_domain(s, (size_t) (slash - s)) && valid_path(slash + 1, n - (size_t) (slash + 1 - s))
                   : valid_domain(s, n)))
                return 0;
        return herror_set(err, EINVAL, "prefix \"%s\" is not valid (a registry host, or host/repository path)",
                          trust_quote(s, q));
}
