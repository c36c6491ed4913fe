/* The command line of `hutch run`, with podman's option names and meanings. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/run.h"
#include "cli/runtime.h"
#include "cli/volume.h"
#include "util/cleanup.h"
#include "util/log.h"

#define CMD "hutch run"

void run_usage(FILE *out)
{
        fprintf(out,
                "Usage: hutch run [OPTIONS] IMAGE [COMMAND [ARG...]]\n\n"
                "Run a command in a new, ephemeral container from a loaded image, rootless, after checking the image's\n"
                "signatures against the trust policy. The container is hutch's child; whatever it writes outside its\n"
                "volumes lives in memory in its own mount namespace and is gone when it ends.\n\n"
                "Image and trust:\n"
                "      --policy FILE            trust policy (default: ~/.config/hutch/policy.json, /etc/hutch/policy.json,\n"
                "                               then the built-in policy, which rejects everything)\n"
                "      --storage DIR            image store (default: $HUTCH_STORAGE, ~/.local/share/hutch)\n"
                "      --entrypoint CMD         override the image's Entrypoint (\"\" clears it)\n"
                "Process:\n"
                "  -e, --env KEY[=VALUE]        set a variable (KEY alone: take it from hutch's environment)\n"
                "      --env-file FILE          read KEY=VALUE lines\n"
                "      --env-host               pass hutch's whole environment\n"
                "  -w, --workdir DIR            working directory inside\n"
                "  -u, --user USER[:GROUP]      user inside (name from the image's /etc/passwd, or number)\n"
                "  -i, --interactive            keep stdin attached\n"
                "  -t, --tty                    allocate a terminal (raw mode, window size, signals)\n"
                "  -a, --attach STREAM          stdin, stdout or stderr (accepted; all are attached)\n"
                "      --ulimit NAME=SOFT[:HARD]\n"
                "      --timeout SECONDS        stop the container after this long (stop signal, then SIGKILL)\n"
                "      --stop-signal SIGNAL     signal for --timeout (default: the image's, else SIGTERM)\n"
                "      --stop-timeout SECONDS   grace before SIGKILL (default 10)\n"
                "      --init                   run a reaper as pid 1 (catatonit, read-only at /dev/init) that\n"
                "                               forwards signals and reaps orphans (docs/pid1.md)\n"
                "      --init-path PATH         the static init binary for --init (default: catatonit)\n"
                "Filesystem:\n"
                "  -v, --volume SRC:DST[:OPTS]  bind a host directory (OPTS: ro, rw, z, Z)\n"
                "      --mount type=bind|tmpfs,...  (source=, destination=/target=, ro, tmpfs-size=, tmpfs-mode=)\n"
                "      --tmpfs DST[:OPTS]       a tmpfs (OPTS: size=, mode=)\n"
                "      --read-only              the root filesystem is read-only\n"
                "      --read-only-tmpfs        with --read-only: tmpfs on /tmp, /var/tmp and /run\n"
                "Isolation:\n"
                "      --userns MODE            \"\" (default: root inside is you) or keep-id (you keep your uid)\n"
                "      --network none|host      default none: a network namespace with only lo\n"
                "  -h, --hostname NAME\n"
                "      --cap-add CAP, --cap-drop CAP   (\"all\" allowed)\n"
                "      --security-opt OPT       seccomp=default|ci|FILE|unconfined, apparmor=PROFILE|unconfined,\n"
                "                               label=type:T|level:L|user:U|role:R|filetype:T|disable,\n"
                "                               landlock=off|default|required|FILE, no-new-privileges,\n"
                "                               require=landlock,apparmor,selinux,seccomp (absent: exit 125)\n"
                "      --privileged             every capability (in the user namespace), no seccomp, no Landlock,\n"
                "                               no masked paths; refused unless hutch.conf has allow_privileged = on\n"
                "Limits (through a delegated cgroup v2; refused with exit 125 where there is none):\n"
                "  -m, --memory SIZE            memory.max: 512m, 1g, bytes (-1: none)\n"
                "      --pids-limit N           pids.max (-1: none)\n"
                "      --cpus N                 cpu.max: N CPUs' worth of time, e.g. 0.5 (0: none)\n"
                "Other:\n"
                "      --name NAME              name in the audit record and report\n"
                "      --rm                     accepted: containers are always removed when they end\n"
                "      --report FILE            write a JSON exit report (status, times, what was enforced)\n"
                "      --audit MODE             required, best-effort or off (an administrator's 'required' wins)\n"
                "      --audit-log FILE         the audit log file\n"
                "  -q, --quiet                  no progress output\n"
                "      --help                   show this help\n\n"
                "Exit status: the command's; 125 hutch's own error (also: image rejected by policy), 126 the command\n"
                "cannot be run, 127 it was not found, 128+N killed by signal N.\n");
}

void run_options_done(struct run_options *o)
{
        strv_free(o->env);
        strv_free(o->env_files);
        strv_free(o->volumes);
        strv_free(o->mounts);
        strv_free(o->tmpfs);
        strv_free(o->cap_add);
        strv_free(o->cap_drop);
        strv_free(o->ulimits);
        strv_free(o->attach);
        strv_free(o->audit_settings);
        lsm_selinux_opts_done(&o->selinux);
        *o = (struct run_options) { 0 };
}

/* "1.5" seconds -> ms; refuses negatives, junk and absurd values. */
static int parse_seconds(const char *opt, const char *s, int64_t *ret)
{
        char *end;
        errno = 0;
        double d = strtod(s, &end);
        if (errno || end == s || *end || !isfinite(d) || d < 0 || d > 1e9)
                return cli_usage_error(CMD, "%s needs a number of seconds, not '%s'", opt, s), -EINVAL;
        *ret = (int64_t) (d * 1000.0 + 0.5);
        return 0;
}

static bool key_is(const char *s, size_t klen, const char *key)
{
        return strlen(key) == klen && strncmp(s, key, klen) == 0;
}

static int parse_landlock_opt(struct run_options *o, const char *v)
{
        if (streq(v, "off") || streq(v, "default") || streq(v, "required")) {
                o->landlock = v;
                o->landlock_rules = NULL;
                return 0;
        }
        /* anything else names a rules file (./off for a file called "off") */
        o->landlock = NULL;
        o->landlock_rules = v;
        return 0;
}

static int parse_security_opt(struct run_options *o, const char *s)
{
        const char *eq = strchr(s, '=');
        size_t klen = eq ? (size_t) (eq - s) : strlen(s);
        const char *v = eq ? eq + 1 : "";
        if (key_is(s, klen, "no-new-privileges")) {
                if (eq && !streq(v, "true"))
                        return cli_usage_error(CMD, "--security-opt no-new-privileges cannot be turned off in hutch"),
                               -EINVAL;
                o->no_new_privileges_given = true;
                return 0;
        }
        if (!eq || !*v)
                return cli_usage_error(CMD, "--security-opt '%s' needs a value", s), -EINVAL;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        int r = 0;
        if (key_is(s, klen, "seccomp")) {
                o->seccomp_unconfined = streq(v, "unconfined");
                o->seccomp_profile = o->seccomp_unconfined ? NULL : v;
        } else if (key_is(s, klen, "apparmor")) {
                o->apparmor = v;
        } else if (key_is(s, klen, "label")) {
                r = lsm_selinux_opts_add(&o->selinux, v, &err);
        } else if (key_is(s, klen, "landlock")) {
                r = parse_landlock_opt(o, v);
        } else if (key_is(s, klen, "require")) {
                r = confine_parse_require(v, &o->require, &err);
        } else {
                return cli_usage_error(CMD,
                                       "unknown --security-opt '%s' (seccomp=, apparmor=, label=, landlock=, require=, "
                                       "no-new-privileges)",
                                       s),
                       -EINVAL;
        }
        if (r < 0)
                return cli_usage_error(CMD, "--security-opt %s", herror_msg(&err)), r == -ENOMEM ? r : -EINVAL;
        return 0;
}

enum {
        OPT_RM = 256,
        OPT_NAME,
        OPT_ENV_FILE,
        OPT_ENV_HOST,
        OPT_MOUNT,
        OPT_TMPFS,
        OPT_USERNS,
        OPT_READ_ONLY,
        OPT_READ_ONLY_TMPFS,
        OPT_NETWORK,
        OPT_CAP_ADD,
        OPT_CAP_DROP,
        OPT_PRIVILEGED,
        OPT_SECURITY_OPT,
        OPT_ULIMIT,
        OPT_PIDS_LIMIT,
        OPT_CPUS,
        OPT_INIT,
        OPT_INIT_PATH,
        OPT_TIMEOUT,
        OPT_STOP_TIMEOUT,
        OPT_STOP_SIGNAL,
        OPT_ENTRYPOINT,
        OPT_POLICY,
        OPT_STORAGE,
        OPT_REPORT,
        OPT_AUDIT,
        OPT_AUDIT_LOG,
        OPT_HELP,
};

static const struct option run_opts[] = {
        { "rm", no_argument, NULL, OPT_RM },
        { "name", required_argument, NULL, OPT_NAME },
        { "env", required_argument, NULL, 'e' },
        { "env-file", required_argument, NULL, OPT_ENV_FILE },
        { "env-host", no_argument, NULL, OPT_ENV_HOST },
        { "volume", required_argument, NULL, 'v' },
        { "mount", required_argument, NULL, OPT_MOUNT },
        { "tmpfs", required_argument, NULL, OPT_TMPFS },
        { "workdir", required_argument, NULL, 'w' },
        { "user", required_argument, NULL, 'u' },
        { "userns", required_argument, NULL, OPT_USERNS },
        { "read-only", no_argument, NULL, OPT_READ_ONLY },
        { "read-only-tmpfs", no_argument, NULL, OPT_READ_ONLY_TMPFS },
        { "hostname", required_argument, NULL, 'h' },
        { "network", required_argument, NULL, OPT_NETWORK },
        { "net", required_argument, NULL, OPT_NETWORK },
        { "cap-add", required_argument, NULL, OPT_CAP_ADD },
        { "cap-drop", required_argument, NULL, OPT_CAP_DROP },
        { "privileged", no_argument, NULL, OPT_PRIVILEGED },
        { "security-opt", required_argument, NULL, OPT_SECURITY_OPT },
        { "ulimit", required_argument, NULL, OPT_ULIMIT },
        { "pids-limit", required_argument, NULL, OPT_PIDS_LIMIT },
        { "memory", required_argument, NULL, 'm' },
        { "cpus", required_argument, NULL, OPT_CPUS },
        { "init", no_argument, NULL, OPT_INIT },
        { "init-path", required_argument, NULL, OPT_INIT_PATH },
        { "interactive", no_argument, NULL, 'i' },
        { "tty", no_argument, NULL, 't' },
        { "attach", required_argument, NULL, 'a' },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT },
        { "stop-signal", required_argument, NULL, OPT_STOP_SIGNAL },
        { "entrypoint", required_argument, NULL, OPT_ENTRYPOINT },
        { "policy", required_argument, NULL, OPT_POLICY },
        { "storage", required_argument, NULL, OPT_STORAGE },
        { "report", required_argument, NULL, OPT_REPORT },
        { "audit", required_argument, NULL, OPT_AUDIT },
        { "audit-log", required_argument, NULL, OPT_AUDIT_LOG },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, OPT_HELP },
        {},
};

static int push_audit(struct run_options *o, const char *key, const char *value)
{
        _cleanup_free_ char *kv = NULL;
        if (asprintf(&kv, "%s=%s", key, value) < 0)
                return -ENOMEM;
        return strv_push(&o->audit_settings, kv);
}

/* One option; 1 for --help. */
static int parse_one(struct run_options *o, int c, int argc, char **argv)
{
        switch (c) {
        case OPT_RM:
                o->rm = true;
                return 0;
        case OPT_NAME:
                o->name = optarg;
                return 0;
        case 'e':
                return strv_push(&o->env, optarg);
        case OPT_ENV_FILE:
                return strv_push(&o->env_files, optarg);
        case OPT_ENV_HOST:
                o->env_host = true;
                return 0;
        case 'v':
                return strv_push(&o->volumes, optarg);
        case OPT_MOUNT:
                return strv_push(&o->mounts, optarg);
        case OPT_TMPFS:
                return strv_push(&o->tmpfs, optarg);
        case 'w':
                o->workdir = optarg;
                return 0;
        case 'u':
                o->user = optarg;
                return 0;
        case OPT_USERNS:
                if (streq(optarg, "keep-id"))
                        o->userns = RUN_USERNS_KEEP_ID;
                else if (streq(optarg, "") || streq(optarg, "auto"))
                        o->userns = RUN_USERNS_AUTO;
                else
                        return cli_usage_error(CMD, "--userns '%s' is not supported (\"\" or keep-id)", optarg),
                               -EINVAL;
                return 0;
        case OPT_READ_ONLY:
                o->read_only = true;
                return 0;
        case OPT_READ_ONLY_TMPFS:
                o->read_only_tmpfs = true;
                return 0;
        case 'h':
                o->hostname = optarg;
                return 0;
        case OPT_NETWORK:
                if (streq(optarg, "host"))
                        o->network_host = true;
                else if (streq(optarg, "none"))
                        o->network_host = false;
                else
                        return cli_usage_error(CMD, "--network '%s' is not supported (none or host)", optarg), -EINVAL;
                return 0;
        case OPT_CAP_ADD:
                return strv_push(&o->cap_add, optarg);
        case OPT_CAP_DROP:
                return strv_push(&o->cap_drop, optarg);
        case OPT_PRIVILEGED:
                o->privileged = true;
                return 0;
        case OPT_SECURITY_OPT:
                return parse_security_opt(o, optarg);
        case OPT_ULIMIT:
                return strv_push(&o->ulimits, optarg);
        case OPT_PIDS_LIMIT:
                if (spec_parse_pids_option(optarg, &o->pids_limit) < 0)
                        return cli_usage_error(CMD, "--pids-limit needs a number (-1: no limit), not '%s'", optarg),
                               -EINVAL;
                return 0;
        case 'm':
                if (spec_parse_memory_option(optarg, &o->memory) < 0)
                        return cli_usage_error(CMD, "--memory needs a size like 512m or 1g (-1: no limit), not '%s'",
                                               optarg),
                               -EINVAL;
                return 0;
        case OPT_CPUS:
                if (spec_parse_cpus_option(optarg, &o->cpu_quota, &o->cpu_period) < 0)
                        return cli_usage_error(
                                       CMD,
                                       "--cpus needs a number of CPUs of at least 0.01 like 0.5 or 2 (0: no limit), "
                                       "not '%s'",
                                       optarg),
                               -EINVAL;
                return 0;
        case OPT_INIT:
                o->init = true;
                return 0;
        case OPT_INIT_PATH:
                o->init_path = optarg;
                return 0;
        case 'i':
                o->interactive = true;
                return 0;
        case 't':
                o->tty = true;
                return 0;
        case 'a':
                if (!streq(optarg, "stdin") && !streq(optarg, "stdout") && !streq(optarg, "stderr"))
                        return cli_usage_error(CMD, "--attach takes stdin, stdout or stderr, not '%s'", optarg),
                               -EINVAL;
                return strv_push(&o->attach, optarg);
        case OPT_TIMEOUT:
                return parse_seconds("--timeout", optarg, &o->timeout_ms);
        case OPT_STOP_TIMEOUT:
                return parse_seconds("--stop-timeout", optarg, &o->stop_timeout_ms);
        case OPT_STOP_SIGNAL:
                if ((o->stop_signal = runtime_parse_signal(optarg)) < 0)
                        return cli_usage_error(CMD, "--stop-signal: unknown signal '%s'", optarg), -EINVAL;
                return 0;
        case OPT_ENTRYPOINT:
                o->entrypoint = optarg;
                o->entrypoint_given = true;
                return 0;
        case OPT_POLICY:
                o->policy = optarg;
                return 0;
        case OPT_STORAGE:
                o->storage = optarg;
                return 0;
        case OPT_REPORT:
                o->report = optarg;
                return 0;
        case OPT_AUDIT:
                return push_audit(o, "audit", optarg);
        case OPT_AUDIT_LOG:
                return push_audit(o, "audit_log", optarg);
        case 'q':
                o->quiet = true;
                return 0;
        case OPT_HELP:
                return 1;
        default:
                return cli_bad_option(CMD, argc, argv), -EINVAL;
        }
}

static int check_conflicts(const struct run_options *o)
{
        if (o->init_path && !o->init)
                return cli_usage_error(CMD, "--init-path needs --init"), -EINVAL;
        if (o->read_only_tmpfs && !o->read_only)
                return cli_usage_error(CMD, "--read-only-tmpfs needs --read-only"), -EINVAL;
        if (o->tty && !isatty(STDIN_FILENO) && o->interactive)
                log_warn("-t: stdin is not a terminal");
        return 0;
}

int run_parse_options(int argc, char **argv, struct run_options *o)
{
        *o = (struct run_options) { .stop_timeout_ms = 10000 };
        int c;
        opterr = 0;
        /* '+': the image name ends hutch's options; what follows is the container's command. */
        while ((c = getopt_long(argc, argv, "+e:v:w:u:h:m:ita:q", run_opts, NULL)) != -1) {
                int r = parse_one(o, c, argc, argv);
                if (r == -ENOMEM)
                        return log_error("out of memory"), -ENOMEM;
                if (r != 0)
                        return r;
        }
        if (optind >= argc)
                return cli_usage_error(CMD, "needs an IMAGE"), -EINVAL;
        o->image = argv[optind];
        o->command = argv + optind + 1;
        return check_conflicts(o);
}

/* ---- -v, --mount, --tmpfs ---- */

void run_mounts_free(struct spec_run_mount *m, size_t n)
{
        for (size_t i = 0; m && i < n; i++) {
                free(m[i].type);
                free(m[i].source);
                free(m[i].destination);
                free(m[i].options);
        }
        free(m);
}

static int check_destination(const char *opt, const char *d, struct herror *err)
{
        if (d[0] != '/')
                return herror_set(err, EINVAL, "%s: the destination %s must be an absolute path", opt, d);
        if (strstr(d, "/../") || (strlen(d) >= 3 && streq(d + strlen(d) - 3, "/..")))
                return herror_set(err, EINVAL, "%s: the destination %s must not contain ..", opt, d);
        return 0;
}

static int add_mount(struct spec_run_mount **v, size_t *n, const char *type, const char *src, const char *dst, bool ro,
                     const char *options, const char *opt, struct herror *err)
{
        int r = check_destination(opt, dst, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *real = NULL;
        if (src && streq(type, "volume")) {
                if (!volume_name_valid(src))
                        return herror_set(err, EINVAL,
                                          "%s: \"%.64s\" is neither an absolute host path nor a volume name", opt, src);
                real = strdup(src); /* resolved (and created on first use) once the store is open */
        } else if (src && !(real = realpath(src, NULL))) {
                return herror_sys(err, errno, "%s: the host path %s", opt, src);
        }
        struct spec_run_mount *nv = realloc(*v, (*n + 1) * sizeof *nv);
        if (!nv)
                return herror_set(err, ENOMEM, "out of memory");
        *v = nv;
        nv[*n] = (struct spec_run_mount) { .type = strdup(type),
                                           .source = TAKE_PTR(real),
                                           .destination = strdup(dst),
                                           .readonly = ro,
                                           .options = options && *options ? strdup(options) : NULL };
        (*n)++;
        if (!nv[*n - 1].type || !nv[*n - 1].destination)
                return herror_set(err, ENOMEM, "out of memory");
        return 0;
}

/* SRC:DST[:OPTS]; OPTS a comma list of ro, rw, z, Z (SELinux relabelling: no effect where SELinux is off). */
static int parse_volume(const char *spec, struct spec_run_mount **v, size_t *n, struct herror *err)
{
        _cleanup_free_ char *copy = strdup(spec);
        if (!copy)
                return herror_set(err, ENOMEM, "out of memory");
        char *dst = strchr(copy, ':');
        if (!dst)
                return herror_set(err, EINVAL, "-v %s: expected SRC:DST[:OPTIONS]", spec);
        *dst++ = 0;
        char *opts = strchr(dst, ':');
        bool ro = false;
        char relabel = 0;
        if (opts) {
                *opts++ = 0;
                char *save = NULL;
                for (char *t = strtok_r(opts, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                        if (streq(t, "ro"))
                                ro = true;
                        else if (streq(t, "rw"))
                                ro = false;
                        else if (streq(t, "z") || streq(t, "Z"))
                                relabel = t[0];
                        else
                                return herror_set(err, EINVAL, "-v %s: unknown option '%s' (ro, rw, z, Z)", spec, t);
                }
        }
        int r = add_mount(v, n, copy[0] == '/' ? "bind" : "volume", copy, dst, ro, NULL, "-v", err);
        if (r == 0)
                (*v)[*n - 1].relabel = relabel;
        return r;
}

static int tmpfs_option(const char *opt, const char *spec, const char *t, char *buf, size_t size, struct herror *err)
{
        if (strncmp(t, "size=", 5) != 0 && strncmp(t, "mode=", 5) != 0 && strncmp(t, "nr_inodes=", 10) != 0 &&
            !streq(t, "noexec") && !streq(t, "exec") && !streq(t, "ro") && !streq(t, "rw"))
                return herror_set(err, EINVAL, "%s %s: unknown tmpfs option '%s'", opt, spec, t);
        if (streq(t, "ro") || streq(t, "rw"))
                return 0;
        size_t l = strlen(buf);
        if (snprintf(buf + l, size - l, "%s%s", l ? "," : "", t) >= (int) (size - l))
                return herror_set(err, EINVAL, "%s %s: options too long", opt, spec);
        return 0;
}

static int parse_tmpfs(const char *spec, struct spec_run_mount **v, size_t *n, struct herror *err)
{
        _cleanup_free_ char *copy = strdup(spec);
        if (!copy)
                return herror_set(err, ENOMEM, "out of memory");
        char *opts = strchr(copy, ':'), buf[256] = "";
        bool ro = false;
        if (opts) {
                *opts++ = 0;
                char *save = NULL;
                for (char *t = strtok_r(opts, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                        ro = streq(t, "ro") ? true : streq(t, "rw") ? false : ro;
                        int r = tmpfs_option("--tmpfs", spec, t, buf, sizeof buf, err);
                        if (r < 0)
                                return r;
                }
        }
        return add_mount(v, n, "tmpfs", NULL, copy, ro, buf, "--tmpfs", err);
}

/* ",KEY=VAL" onto buf; -E2BIG rather than a silently cut option (a truncated size= or mode= changes its meaning). */
static int append_option(char *buf, size_t size, const char *key, const char *val)
{
        size_t l = strlen(buf);
        int n = snprintf(buf + l, size - l, "%s%s=%s", l ? "," : "", key, val);
        return n < 0 || (size_t) n >= size - l ? -E2BIG : 0;
}

/* type=bind|tmpfs,source=,destination=|target=|dst=,ro|readonly[=true|false],tmpfs-size=,tmpfs-mode= */
static int parse_mount(const char *spec, struct spec_run_mount **v, size_t *n, struct herror *err)
{
        _cleanup_free_ char *copy = strdup(spec);
        if (!copy)
                return herror_set(err, ENOMEM, "out of memory");
        const char *type = NULL, *src = NULL, *dst = NULL;
        bool ro = false;
        char relabel = 0;
        char buf[256] = "";
        char *save = NULL;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                char *eq = strchr(t, '=');
                const char *val = eq ? eq + 1 : NULL;
                if (eq)
                        *eq = 0;
                int r = 0;
                if (streq(t, "type") && val)
                        type = val;
                else if ((streq(t, "source") || streq(t, "src")) && val)
                        src = val;
                else if ((streq(t, "destination") || streq(t, "target") || streq(t, "dst")) && val)
                        dst = val;
                else if ((streq(t, "ro") || streq(t, "readonly")) &&
                         (!val || streq(val, "true") || streq(val, "false")))
                        ro = !val || streq(val, "true");
                else if (streq(t, "tmpfs-size") && val)
                        r = append_option(buf, sizeof buf, "size", val);
                else if (streq(t, "tmpfs-mode") && val)
                        r = append_option(buf, sizeof buf, "mode", val);
                else if (streq(t, "relabel") && val && (streq(val, "shared") || streq(val, "private")))
                        relabel = streq(val, "shared") ? 'z' : 'Z';
                else if (!streq(t, "bind-propagation"))
                        return herror_set(err, EINVAL, "--mount %s: unknown or incomplete field '%s'", spec, t);
                if (r < 0)
                        return herror_set(err, EINVAL, "--mount %s: tmpfs options too long", spec);
        }
        if (!type || !dst)
                return herror_set(err, EINVAL, "--mount %s: needs type= and destination=", spec);
        if (streq(type, "bind")) {
                if (!src)
                        return herror_set(err, EINVAL, "--mount %s: a bind mount needs source=", spec);
                int r = add_mount(v, n, "bind", src, dst, ro, NULL, "--mount", err);
                if (r == 0)
                        (*v)[*n - 1].relabel = relabel;
                return r;
        }
        if (streq(type, "tmpfs"))
                return add_mount(v, n, "tmpfs", NULL, dst, ro, buf, "--mount", err);
        if (streq(type, "volume")) {
                if (!src)
                        return herror_set(err, EINVAL, "--mount %s: a volume mount needs source=NAME", spec);
                int r = add_mount(v, n, "volume", src, dst, ro, NULL, "--mount", err);
                if (r == 0)
                        (*v)[*n - 1].relabel = relabel;
                return r;
        }
        return herror_set(err, EINVAL, "--mount %s: type %s is not supported (bind, volume or tmpfs)", spec, type);
}

int run_parse_mounts(const struct run_options *o, struct spec_run_mount **ret, size_t *ret_n, struct herror *err)
{
        struct spec_run_mount *v = NULL;
        size_t n = 0;
        int r = 0;
        for (size_t i = 0; r == 0 && o->volumes && o->volumes[i]; i++)
                r = parse_volume(o->volumes[i], &v, &n, err);
        for (size_t i = 0; r == 0 && o->mounts && o->mounts[i]; i++)
                r = parse_mount(o->mounts[i], &v, &n, err);
        for (size_t i = 0; r == 0 && o->tmpfs && o->tmpfs[i]; i++)
                r = parse_tmpfs(o->tmpfs[i], &v, &n, err);
        if (r < 0) {
                run_mounts_free(v, n);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}
