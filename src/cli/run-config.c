/* What the container runs, as podman decides it: the image config (Entrypoint, Cmd, Env, WorkingDir,
 * User) overridden by the command line. Names in -u are looked up in the image's own /etc/passwd and
 * /etc/group, read through the safe resolver inside the rootfs (an image's symlink cannot point us at
 * the host's files). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/run-config.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/safepath.h"

#define ACCOUNT_FILE_MAX (4u << 20)
#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

void run_process_done(struct run_process *p)
{
        strv_free(p->args);
        strv_free(p->env);
        free(p->cwd);
        free(p->additional_gids);
        free(p->home);
        *p = (struct run_process) { 0 };
}

static int parse_id(const char *s, uint32_t *ret)
{
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (!*s || *end || errno || v > UINT32_MAX - 1 || s[0] == '-')
                return -EINVAL;
        *ret = (uint32_t) v;
        return 0;
}

/* Read the image's /etc/passwd or /etc/group: missing is an empty file. */
static int read_account_file(int rootfd, const char *path, char **ret, struct herror *err)
{
        size_t len;
        int fd = safe_openat(rootfd, path, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0, SAFE_BENEATH, NULL);
        if (fd == -ENOENT) {
                *ret = strdup("");
                return *ret ? 0 : herror_set(err, ENOMEM, "out of memory");
        }
        if (fd < 0)
                return herror_sys(err, -fd, "the image's %s", path);
        int r = read_fd_limited(fd, path, ACCOUNT_FILE_MAX, ret, &len, err);
        close(fd);
        return r;
}

/* Find the line whose field 0 (name) or field 2 (id) equals key; fields split into f[0..nf). */
static bool find_entry(char *data, const char *key, bool by_id, char **f, size_t nf)
{
        char *save = NULL;
        for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                size_t i = 0;
                char *p = line;
                for (; i < nf; i++) {
                        f[i] = p;
                        p = strchr(p, ':');
                        if (!p)
                                break;
                        *p++ = 0;
                }
                if (i + 1 < nf)
                        continue;
                if (streq(by_id ? f[2] : f[0], key))
                        return true;
        }
        return false;
}

static int lookup_user(int rootfd, const char *user, struct run_process *p, bool *ret_has_group, struct herror *err)
{
        _cleanup_free_ char *pw = NULL;
        int r = read_account_file(rootfd, "/etc/passwd", &pw, err);
        if (r < 0)
                return r;
        uint32_t id;
        bool numeric = parse_id(user, &id) == 0;
        char *f[7];
        if (!find_entry(pw, user, numeric, f, 7)) {
                if (!numeric)
                        return herror_set(err, ENOENT, "user %s is not in the image's /etc/passwd", user);
                p->uid = id;
                return 0; /* a uid without an entry: gid stays as given or 0, as podman does */
        }
        uint32_t gid;
        if (parse_id(f[2], &p->uid) < 0 || parse_id(f[3], &gid) < 0)
                return herror_set(err, EINVAL, "the image's /etc/passwd: bad entry for %s", user);
        p->gid = gid;
        *ret_has_group = true;
        if (!(p->home = strdup(f[5])))
                return herror_set(err, ENOMEM, "out of memory");
        return 0;
}

static int lookup_group(int rootfd, const char *group, uint32_t *ret, struct herror *err)
{
        if (parse_id(group, ret) == 0)
                return 0;
        _cleanup_free_ char *gr = NULL;
        int r = read_account_file(rootfd, "/etc/group", &gr, err);
        if (r < 0)
                return r;
        char *f[4];
        if (!find_entry(gr, group, false, f, 4) || parse_id(f[2], ret) < 0)
                return herror_set(err, ENOENT, "group %s is not in the image's /etc/group", group);
        return 0;
}

/* Supplementary groups: the image's /etc/group lines that list the user's name. */
static int lookup_supplementary(int rootfd, const char *name, struct run_process *p, struct herror *err)
{
        _cleanup_free_ char *gr = NULL;
        int r = read_account_file(rootfd, "/etc/group", &gr, err);
        if (r < 0)
                return r;
        char *save = NULL;
        for (char *line = strtok_r(gr, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *f[4], *q = line;
                size_t i = 0;
                for (; i < 4 && q; i++) {
                        f[i] = q;
                        q = strchr(q, ':');
                        if (q)
                                *q++ = 0;
                }
                uint32_t gid;
                if (i < 4 || parse_id(f[2], &gid) < 0 || gid == p->gid || p->n_additional_gids >= 64)
                        continue;
                char *msave = NULL;
                for (char *m = strtok_r(f[3], ",", &msave); m; m = strtok_r(NULL, ",", &msave)) {
                        if (!streq(m, name))
                                continue;
                        uint32_t *n = realloc(p->additional_gids, (p->n_additional_gids + 1) * sizeof *n);
                        if (!n)
                                return herror_set(err, ENOMEM, "out of memory");
                        p->additional_gids = n;
                        n[p->n_additional_gids++] = gid;
                        break;
                }
        }
        return 0;
}

int run_resolve_user(int rootfd, const char *spec, struct run_process *p, struct herror *err)
{
        p->uid = p->gid = 0;
        _cleanup_free_ char *copy = strdup(spec && *spec ? spec : "0");
        if (!copy)
                return herror_set(err, ENOMEM, "out of memory");
        char *group = strchr(copy, ':');
        if (group)
                *group++ = 0;
        bool has_group = false;
        int r = lookup_user(rootfd, copy, p, &has_group, err);
        if (r < 0)
                return herror_wrap(err, "--user %s", spec);
        if (group && (r = lookup_group(rootfd, group, &p->gid, err)) < 0)
                return herror_wrap(err, "--user %s", spec);
        uint32_t ignored;
        if (!group && parse_id(copy, &ignored) < 0 && (r = lookup_supplementary(rootfd, copy, p, err)) < 0)
                return r;
        return 0;
}

int run_build_args(char *const *image_entrypoint, char *const *image_cmd, const char *entrypoint, bool entrypoint_given,
                   char *const *command, char ***ret, struct herror *err)
{
        char **v = NULL;
        int r = 0;
        /* podman: --entrypoint replaces the image's Entrypoint and drops its Cmd; a command replaces Cmd. */
        if (entrypoint_given) {
                if (*entrypoint)
                        r = strv_push(&v, entrypoint);
        } else {
                for (size_t i = 0; r == 0 && image_entrypoint && image_entrypoint[i]; i++)
                        r = strv_push(&v, image_entrypoint[i]);
        }
        char *const *rest = command && command[0] ? command : entrypoint_given ? NULL : image_cmd;
        for (size_t i = 0; r == 0 && rest && rest[i]; i++)
                r = strv_push(&v, rest[i]);
        if (r < 0) {
                strv_free(v);
                return herror_set(err, ENOMEM, "out of memory");
        }
        if (!v) {
                return herror_set(err, EINVAL,
                                  "no command: the image has no Entrypoint or Cmd; give one after the image");
        }
        *ret = v;
        return 0;
}

/* Set KEY=VALUE in env, replacing an earlier KEY. */
static int env_set(char ***env, const char *kv)
{
        size_t klen = strcspn(kv, "=");
        for (size_t i = 0; *env && (*env)[i]; i++) {
                if (strncmp((*env)[i], kv, klen) == 0 && (*env)[i][klen] == '=') {
                        char *c = strdup(kv);
                        if (!c)
                                return -ENOMEM;
                        free((*env)[i]);
                        (*env)[i] = c;
                        return 0;
                }
        }
        return strv_push(env, kv);
}

static bool env_has(char **env, const char *key)
{
        size_t klen = strlen(key);
        for (size_t i = 0; env && env[i]; i++)
                if (strncmp(env[i], key, klen) == 0 && env[i][klen] == '=')
                        return true;
        return false;
}

/* -e KEY=VALUE, or -e KEY: hutch's own value, skipped when unset (podman). */
static int env_add_option(char ***env, const char *e, struct herror *err)
{
        if (!*e || *e == '=')
                return herror_set(err, EINVAL, "-e '%s': expected KEY=VALUE or KEY", e);
        if (strchr(e, '='))
                return env_set(env, e) < 0 ? herror_set(err, ENOMEM, "out of memory") : 0;
        const char *v = getenv(e);
        if (!v)
                return 0;
        _cleanup_free_ char *kv = NULL;
        if (asprintf(&kv, "%s=%s", e, v) < 0 || env_set(env, kv) < 0)
                return herror_set(err, ENOMEM, "out of memory");
        return 0;
}

static int env_add_file(char ***env, const char *path, struct herror *err)
{
        _cleanup_free_ char *data = NULL;
        size_t len;
        int r = read_file_at(AT_FDCWD, path, 1u << 20, &data, &len, err);
        if (r < 0)
                return herror_wrap(err, "--env-file");
        if (memchr(data, 0, len))
                return herror_set(err, EINVAL, "--env-file %s: contains a NUL byte", path);
        size_t lineno = 0;
        char *save = NULL;
        for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                lineno++;
                line[strcspn(line, "\r")] = 0;
                while (*line == ' ' || *line == '\t')
                        line++;
                if (!*line || *line == '#')
                        continue;
                if ((r = env_add_option(env, line, err)) < 0)
                        return herror_wrap(err, "--env-file %s:%zu", path, lineno);
        }
        return 0;
}

int run_build_env(char *const *image_env, const struct run_options *o, const struct run_process *p, char ***ret,
                  struct herror *err)
{
        char **env = NULL;
        int r = 0;
        extern char **environ;
        for (size_t i = 0; r == 0 && o->env_host && environ[i]; i++)
                r = strchr(environ[i], '=') ? env_set(&env, environ[i]) : 0;
        for (size_t i = 0; r == 0 && image_env && image_env[i]; i++)
                r = strchr(image_env[i], '=') ? env_set(&env, image_env[i]) : 0;
        if (r == 0 && !env_has(env, "PATH"))
                r = env_set(&env, DEFAULT_PATH);
        if (r == 0 && o->tty && !env_has(env, "TERM"))
                r = env_set(&env, "TERM=xterm");
        if (r == 0)
                r = env_set(&env, "container=hutch");
        if (r == 0 && !env_has(env, "HOME")) {
                _cleanup_free_ char *home = NULL;
                r = asprintf(&home, "HOME=%s", p->home && *p->home ? p->home : "/") < 0 ? -ENOMEM : env_set(&env, home);
        }
        if (r < 0) {
                strv_free(env);
                return herror_set(err, ENOMEM, "out of memory");
        }
        for (size_t i = 0; r == 0 && o->env_files && o->env_files[i]; i++)
                r = env_add_file(&env, o->env_files[i], err);
        for (size_t i = 0; r == 0 && o->env && o->env[i]; i++)
                r = env_add_option(&env, o->env[i], err);
        if (r < 0) {
                strv_free(env);
                return r;
        }
        *ret = env;
        return 0;
}
