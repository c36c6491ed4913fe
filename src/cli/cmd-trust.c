/* hutch trust show|set|reset: the trust policy (containers-policy.json(5), policy.h) in the spirit of
 * `podman image trust`. Edits go to the user's policy file ($XDG_CONFIG_HOME/hutch/policy.json, else
 * ~/.config/hutch/policy.json) or --policy FILE: read, changed as JSON, checked with policy_parse(), then
 * replaced atomically (temp + rename) under a lock on its directory. With no file yet, the edit starts
 * from the built-in default, which rejects everything. See hutch-trust(1). */
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/trust-cli.h"
#include "trust/keys.h"
#include "trust/policy.h"
#include "trust/reference.h"
#include "util/fileio.h"
#include "util/json.h"
#include "util/log.h"

#define TRUST_MAX_KEYS POLICY_MAX_KEYS

static int trust_usage(void)
{
        printf("Usage: hutch trust show [--policy FILE] [--format text|json]\n"
               "       hutch trust set --type accept|reject|sigstoreSigned [--pubkeysfile KEY]... [--policy FILE] SCOPE\n"
               "       hutch trust reset [--policy FILE] SCOPE\n\n"
               "Show or edit the image trust policy (containers-policy.json(5)). 'show' prints the policy in effect\n"
               "(--policy FILE, else $XDG_CONFIG_HOME/hutch/policy.json, else /etc/hutch/policy.json, else the\n"
               "built-in default that rejects everything). 'set' and 'reset' edit the user's policy file\n"
               "($XDG_CONFIG_HOME/hutch/policy.json, else ~/.config/hutch/policy.json) or --policy FILE, atomically;\n"
               "without one they start from the built-in default. SCOPE is 'default' (the global default) or a\n"
               "docker-transport scope: registry.example/ns/repo:tag, registry.example/ns/repo, registry.example/ns,\n"
               "registry.example, *.example (images are matched by the name they are stored under, e.g. 'busybox' is\n"
               "docker.io/library/busybox:latest). See hutch-trust(1).\n\n"
               "  --type TYPE          accept (insecureAcceptAnything), reject, or sigstoreSigned\n"
               "  --pubkeysfile KEY    a PEM public key that may sign (sigstoreSigned; repeatable; stored absolute)\n"
               "  --policy FILE        the policy file to show or edit\n"
               "  --format text|json   output format of 'show' (default text)\n"
               "  -h, --help           show this help\n");
        return 0;
}

/* ---- reading ------------------------------------------------------------------------------------ */

/* The policy's bytes (the file, or the built-in default when path is NULL), checked with policy_parse()
 * and parsed as JSON. */
static int policy_read(const char *path, json_t **ret_json, struct policy **ret_policy, struct herror *err)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        const char *text;
        int r;
        if (path) {
                if ((r = trust_cli_read_file(path, POLICY_FILE_MAX, &data, &len, err)) < 0)
                        return herror_wrap(err, "policy file");
                text = data;
        } else {
                policy_builtin_text(&text, &len);
        }
        const char *source = path ?: POLICY_BUILTIN_SOURCE;
        _cleanup_policy_ struct policy *p = NULL;
        if ((r = policy_parse(text, len, source, &p, err)) < 0)
                return r;
        if ((r = json_parse_limited(text, len, source, POLICY_FILE_MAX, JSON_MAX_DEPTH_DEFAULT, ret_json, err)) < 0)
                return r;
        if (ret_policy)
                *ret_policy = TAKE_PTR(p);
        return 0;
}

/* ---- show --------------------------------------------------------------------------------------- */

/* The keys a requirement names, as text. */
static json_t *requirement_keys(json_t *req)
{
        json_t *keys = json_array();
        if (!keys)
                return NULL;
        json_t *v;
        if ((v = json_object_get(req, "keyPath")))
                json_array_append(keys, v);
        if ((v = json_object_get(req, "keyPaths")))
                json_array_extend(keys, v);
        if (json_object_get(req, "keyData"))
                json_array_append_new(keys, json_string("(keyData: an inline key)"));
        if ((v = json_object_get(req, "keyDatas")))
                json_array_append_new(keys, json_sprintf("(keyDatas: %zu inline keys)", json_array_size(v)));
        if (json_object_get(req, "fulcio"))
                json_array_append_new(keys, json_string("(fulcio: not supported by hutch, rejects)"));
        return keys;
}

static int add_rows(json_t *rows, const char *transport, const char *scope, json_t *reqs)
{
        size_t i;
        json_t *req;
        json_array_foreach (reqs, i, req) {
                json_t *keys = requirement_keys(req);
                json_t *identity = json_object_get(req, "signedIdentity");
                json_t *row = keys
                        ? json_pack("{s:s, s:s, s:O, s:o, s:O*}", "transport", transport, "scope", scope, "type",
                                    json_object_get(req, "type"), "keys", keys, "signedIdentity", identity)
                        : NULL;
                if (!row || json_array_append_new(rows, row) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int trust_show(const char *explicit, bool json, struct herror *err)
{
        _cleanup_free_ char *path = NULL;
        int r = policy_locate(explicit, &path, err);
        if (r < 0)
                return r == -ENOMEM ? herror_set(err, ENOMEM, "out of memory") : r;
        _cleanup_json_ json_t *doc = NULL;
        _cleanup_policy_ struct policy *p = NULL;
        if ((r = policy_read(path, &doc, &p, err)) < 0)
                return r;
        _cleanup_json_ json_t *rows = json_array();
        if (!rows || add_rows(rows, "", "default", json_object_get(doc, "default")) < 0)
                return herror_set(err, ENOMEM, "out of memory");
        const char *tname, *sname;
        json_t *scopes, *reqs;
        json_object_foreach (json_object_get(doc, "transports"), tname, scopes) {
                json_object_foreach (scopes, sname, reqs) {
                        if (add_rows(rows, tname, sname, reqs) < 0)
                                return herror_set(err, ENOMEM, "out of memory");
                }
        }
        if (json) {
                _cleanup_json_ json_t *o = json_pack("{s:s, s:s, s:O}", "policy", policy_source(p), "sha256",
                                                     policy_sha256(p), "entries", rows);
                _cleanup_free_ char *text = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
                if (!text)
                        return herror_set(err, ENOMEM, "out of memory");
                printf("%s\n", text);
                return 0;
        }
        printf("policy: %s (%s)\n", policy_source(p), policy_sha256(p));
        printf("%-10s %-40s %-22s %s\n", "TRANSPORT", "SCOPE", "TYPE", "KEYS");
        size_t i;
        json_t *row;
        json_array_foreach (rows, i, row) {
                const char *t = json_string_value(json_object_get(row, "transport"));
                const char *s = json_string_value(json_object_get(row, "scope"));
                printf("%-10s %-40s %-22s", t[0] ? t : "all", s[0] ? s : "\"\"",
                       json_string_value(json_object_get(row, "type")));
                size_t k;
                json_t *key;
                json_array_foreach (json_object_get(row, "keys"), k, key)
                        printf("%s%s", k ? ", " : " ", json_string_value(key));
                printf("\n");
        }
        return 0;
}

/* ---- set / reset -------------------------------------------------------------------------------- */

struct edit {
        char *path;       /* the file edited */
        int dirfd;        /* its directory, flock()ed while editing */
        const char *name; /* its name in dirfd */
        json_t *doc;
};

static void edit_done(struct edit *e)
{
        free(e->path);
        closep(&e->dirfd);
        json_decref(e->doc);
}

/* mkdir for the user's own config directory (0700); the parent must exist. */
static int mkdir_own(const char *dir, struct herror *err)
{
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return herror_sys(err, errno, "%s: create directory", dir);
        return 0;
}

static int edit_begin(const char *explicit, struct edit *e, struct herror *err)
{
        *e = (struct edit) { .dirfd = -1 };
        int r;
        if (explicit) {
                e->path = strdup(explicit);
        } else {
                if (policy_user_path(&e->path) < 0)
                        return herror_set(err, ENOMEM, "out of memory");
                if (!e->path)
                        return herror_set(err, ENOENT,
                                          "no user policy file: set XDG_CONFIG_HOME or HOME (absolute), "
                                          "or use --policy FILE");
        }
        if (!e->path)
                return herror_set(err, ENOMEM, "out of memory");
        /* A symlinked policy (dotfiles) is edited where it points, not replaced by a plain file. */
        struct stat lst;
        if (lstat(e->path, &lst) == 0 && S_ISLNK(lst.st_mode)) {
                char *real = realpath(e->path, NULL);
                if (!real)
                        return herror_sys(err, errno, "%s: cannot resolve the symbolic link", e->path);
                free(e->path);
                e->path = real;
        }
        char *slash = strrchr(e->path, '/');
        e->name = slash ? slash + 1 : e->path;
        if (!e->name[0])
                return herror_set(err, EINVAL, "%s: expected a file name", e->path);
        char dir[PATH_MAX];
        if (!slash)
                snprintf(dir, sizeof dir, ".");
        else if (snprintf(dir, sizeof dir, "%.*s", (int) (slash - e->path), e->path) >= (int) sizeof dir)
                return herror_set(err, ENAMETOOLONG, "%s: path too long", e->path);
        if (slash == e->path)
                snprintf(dir, sizeof dir, "/");
        if (!explicit) {
                /* $XDG_CONFIG_HOME/hutch or ~/.config/hutch, and $XDG_CONFIG_HOME or ~/.config itself. */
                char parent[PATH_MAX];
                snprintf(parent, sizeof parent, "%s", dir);
                char *ps = strrchr(parent, '/');
                if (ps && ps != parent) {
                        *ps = 0;
                        if ((r = mkdir_own(parent, err)) < 0)
                                return r;
                }
                if ((r = mkdir_own(dir, err)) < 0)
                        return r;
        }
        e->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (e->dirfd < 0)
                return herror_sys(err, errno, "%s: cannot open the policy's directory %s", e->path, dir);
        /* Two editors at once must not lose each other's change. */
        if (flock(e->dirfd, LOCK_EX) < 0)
                return herror_sys(err, errno, "%s: lock", dir);
        struct stat st;
        bool exists = fstatat(e->dirfd, e->name, &st, 0) == 0;
        if (!exists && errno != ENOENT)
                return herror_sys(err, errno, "%s", e->path);
        r = policy_read(exists ? e->path : NULL, &e->doc, NULL, err);
        if (r < 0)
                return exists ? herror_wrap(err, "refusing to edit an invalid policy (fix or remove it)") : r;
        return 0;
}

static int edit_commit(struct edit *e, struct herror *err)
{
        _cleanup_free_ char *text = json_dumps(e->doc, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
        if (!text)
                return herror_set(err, ENOMEM, "out of memory");
        size_t len = strlen(text);
        char *t2 = realloc(text, len + 2);
        if (!t2)
                return herror_set(err, ENOMEM, "out of memory");
        text = t2;
        text[len++] = '\n';
        text[len] = 0;
        /* What is written must load, exactly as every launch will read it. */
        _cleanup_policy_ struct policy *p = NULL;
        int r = policy_parse(text, len, e->path, &p, err);
        if (r < 0)
                return herror_wrap(err, "the edited policy would be invalid, not written");
        r = atomic_write_at(e->dirfd, e->name, text, len, 0644, err);
        if (r < 0)
                return herror_wrap(err, "%s", e->path);
        printf("%s updated (%s)\n", e->path, policy_sha256(p));
        return 0;
}

static int check_scope(const char *scope, struct herror *err)
{
        if (streq(scope, "default"))
                return 0;
        int r = ref_validate_docker_scope(scope, err);
        return r < 0 ? herror_wrap(err, "scope '%s' (docker transport)", scope) : 0;
}

/* transports.docker, created when create is set; NULL when absent or on ENOMEM. */
static json_t *docker_scopes(json_t *doc, bool create)
{
        json_t *transports = json_object_get(doc, "transports");
        if (!transports && create) {
                if (json_object_set_new(doc, "transports", json_object()) < 0)
                        return NULL;
                transports = json_object_get(doc, "transports");
        }
        json_t *docker = json_object_get(transports, "docker");
        if (!docker && create) {
                if (json_object_set_new(transports, "docker", json_object()) < 0)
                        return NULL;
                docker = json_object_get(transports, "docker");
        }
        return docker;
}

static int build_requirement(const char *type, char **keyfiles, size_t n_keys, json_t **ret, struct herror *err)
{
        const char *ptype;
        if (streq(type, "accept"))
                ptype = "insecureAcceptAnything";
        else if (streq(type, "reject"))
                ptype = "reject";
        else if (streq(type, "sigstoreSigned"))
                ptype = "sigstoreSigned";
        else
                return herror_set(err, EINVAL, "--type must be accept, reject or sigstoreSigned, not '%s'", type);
        bool signed_type = streq(ptype, "sigstoreSigned");
        if (signed_type && n_keys == 0)
                return herror_set(err, EINVAL, "--type sigstoreSigned needs at least one --pubkeysfile");
        if (!signed_type && n_keys > 0)
                return herror_set(err, EINVAL, "--pubkeysfile only goes with --type sigstoreSigned");
        _cleanup_json_ json_t *req = json_pack("{s:s}", "type", ptype);
        _cleanup_json_ json_t *paths = json_array();
        if (!req || !paths)
                return herror_set(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < n_keys; i++) {
                char abs[PATH_MAX];
                if (!realpath(keyfiles[i], abs))
                        return herror_sys(err, errno, "--pubkeysfile %s", keyfiles[i]);
                /* A key every launch would fail to load is refused now, not discovered later. */
                _cleanup_trust_key_ struct trust_key *k = NULL;
                int r = trust_key_load_file(abs, &k, err);
                if (r < 0)
                        return herror_wrap(err, "--pubkeysfile");
                if (json_array_append_new(paths, json_string(abs)) < 0)
                        return herror_set(err, ENOMEM, "out of memory");
        }
        if (signed_type && json_object_set(req, "keyPaths", paths) < 0)
                return herror_set(err, ENOMEM, "out of memory");
        *ret = TAKE_PTR(req);
        return 0;
}

static int trust_set(const char *explicit, const char *type, char **keyfiles, size_t n_keys, const char *scope,
                     struct herror *err)
{
        int r = check_scope(scope, err);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *req = NULL;
        if ((r = build_requirement(type, keyfiles, n_keys, &req, err)) < 0)
                return r;
        _cleanup_json_ json_t *list = json_array();
        if (!list || json_array_append(list, req) < 0)
                return herror_set(err, ENOMEM, "out of memory");
        _cleanup_(edit_done) struct edit e = { .dirfd = -1 };
        if ((r = edit_begin(explicit, &e, err)) < 0)
                return r;
        json_t *target = streq(scope, "default") ? e.doc : docker_scopes(e.doc, true);
        if (!target || json_object_set(target, streq(scope, "default") ? "default" : scope, list) < 0)
                return herror_set(err, ENOMEM, "out of memory");
        return edit_commit(&e, err);
}

static int trust_reset(const char *explicit, const char *scope, struct herror *err)
{
        int r = check_scope(scope, err);
        if (r < 0)
                return r;
        _cleanup_(edit_done) struct edit e = { .dirfd = -1 };
        if ((r = edit_begin(explicit, &e, err)) < 0)
                return r;
        if (streq(scope, "default")) {
                _cleanup_json_ json_t *builtin = NULL;
                if ((r = policy_read(NULL, &builtin, NULL, err)) < 0)
                        return r;
                if (json_object_set(e.doc, "default", json_object_get(builtin, "default")) < 0)
                        return herror_set(err, ENOMEM, "out of memory");
                return edit_commit(&e, err);
        }
        json_t *docker = docker_scopes(e.doc, false);
        if (!json_object_get(docker, scope))
                return herror_set(err, ENOENT, "%s: has no docker scope '%s' to reset", e.path, scope);
        json_object_del(docker, scope);
        if (json_object_size(docker) == 0) {
                json_t *transports = json_object_get(e.doc, "transports");
                json_object_del(transports, "docker");
                if (json_object_size(transports) == 0)
                        json_object_del(e.doc, "transports");
        }
        return edit_commit(&e, err);
}

int cmd_trust(int argc, char **argv)
{
        static const struct option opts[] = {
                { "type", required_argument, NULL, 't' },   { "pubkeysfile", required_argument, NULL, 'k' },
                { "policy", required_argument, NULL, 'p' }, { "format", required_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },         {}
        };
        if (argc < 2)
                return cli_usage_error("hutch trust", "expected a subcommand: show, set or reset");
        if (streq(argv[1], "--help") || streq(argv[1], "-h"))
                return trust_usage();
        const char *sub = argv[1];
        if (!streq(sub, "show") && !streq(sub, "set") && !streq(sub, "reset"))
                return cli_usage_error("hutch trust", "unknown subcommand '%s' (expected show, set or reset)", sub);
        argc--;
        argv++;
        const char *type = NULL, *policy = NULL;
        char *keys[TRUST_MAX_KEYS];
        size_t n_keys = 0;
        bool json = false, format_given = false;
        int c;
        opterr = 0;
        optind = 0;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (c) {
                case 't':
                        type = optarg;
                        break;
                case 'k':
                        if (n_keys == TRUST_MAX_KEYS)
                                return cli_usage_error("hutch trust", "at most %u --pubkeysfile", TRUST_MAX_KEYS);
                        keys[n_keys++] = optarg;
                        break;
                case 'p':
                        if (!optarg[0])
                                return cli_usage_error("hutch trust", "--policy needs a file name");
                        policy = optarg;
                        break;
                case 'f':
                        if (cli_parse_format(optarg, &json) < 0)
                                return cli_usage_error("hutch trust", "--format must be text or json, not '%s'",
                                                       optarg);
                        format_given = true;
                        break;
                case 'h':
                        return trust_usage();
                default:
                        return cli_bad_option("hutch trust", argc, argv);
                }
        }
        _cleanup_herror_ struct herror err = HERROR_INIT;
        int r;
        if (streq(sub, "show")) {
                if (type || n_keys || optind < argc)
                        return cli_usage_error("hutch trust", "show takes only --policy and --format");
                r = trust_show(policy, json, &err);
        } else {
                if (format_given)
                        return cli_usage_error("hutch trust", "--format goes with show only");
                if (optind + 1 != argc)
                        return cli_usage_error("hutch trust",
                                               "%s expects exactly one SCOPE ('default' or a docker scope)", sub);
                if (streq(sub, "set")) {
                        if (!type)
                                return cli_usage_error("hutch trust", "set needs --type accept|reject|sigstoreSigned");
                        r = trust_set(policy, type, keys, n_keys, argv[optind], &err);
                } else {
                        if (type || n_keys)
                                return cli_usage_error("hutch trust", "reset takes only --policy and SCOPE");
                        r = trust_reset(policy, argv[optind], &err);
                }
        }
        return r < 0 ? cli_fail(&err) : 0;
}
