/* exec: a new process in a running container, confined like the container (runc exec). */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/run-io.h"
#include "cli/runtime.h"
#include "sandbox/container.h"
#include "spec/spec.h"
#include "util/fileio.h"
#include "util/log.h"

struct exec_opts {
        const char *process_file, *console_socket, *pid_file, *cwd, *user;
        char *env[256];
        size_t n_env;
        bool tty, detach;
        unsigned preserve_fds;
};

/* A process.json is the "process" object of a config: parse it through the spec parser. */
static int load_process_file(const char *path, struct spec **ret, struct herror *err)
{
        _cleanup_free_ char *data = NULL;
        size_t len;
        int r = read_file_at(AT_FDCWD, path, SPEC_MAX_CONFIG_SIZE, &data, &len, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *wrapped = NULL;
        if (asprintf(&wrapped, "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"-\"},\"process\":%s}", data) < 0)
                return herror_set(err, ENOMEM, "out of memory");
        return spec_parse(wrapped, strlen(wrapped), path, ret, err);
}

static int apply_overrides(struct spec_process *p, const struct exec_opts *o, char **args, struct herror *err)
{
        if (args && args[0]) {
                strv_free(p->args);
                size_t n = 0;
                while (args[n])
                        n++;
                p->args = calloc(n + 1, sizeof(char *));
                for (size_t i = 0; p->args && i < n; i++)
                        p->args[i] = strdup(args[i]);
        }
        if (o->cwd) {
                free(p->cwd);
                p->cwd = strdup(o->cwd);
        }
        if (o->user) {
                char *end;
                p->uid = (uint32_t) strtoul(o->user, &end, 10);
                if (end == o->user || (*end && *end != ':'))
                        return herror_set(err, EINVAL, "--user takes UID[:GID], not \"%s\"", o->user);
                if (*end == ':')
                        p->gid = (uint32_t) strtoul(end + 1, NULL, 10);
        }
        if (o->n_env) {
                size_t n = 0;
                while (p->env && p->env[n])
                        n++;
                char **env = realloc(p->env, (n + o->n_env + 1) * sizeof(char *));
                if (!env)
                        return herror_set(err, ENOMEM, "out of memory");
                for (size_t i = 0; i < o->n_env; i++)
                        env[n + i] = strdup(o->env[i]);
                env[n + o->n_env] = NULL;
                p->env = env;
        }
        if (o->tty)
                p->terminal = true;
        if (!p->args || !p->args[0])
                return herror_set(err, EINVAL, "exec needs a command (arguments or --process)");
        return 0;
}

static int parse_exec_opts(int argc, char **argv, struct exec_opts *o)
{
        enum { OPT_PROCESS = 256, OPT_CONSOLE, OPT_PID_FILE, OPT_CWD, OPT_PRESERVE, OPT_CAP };
        static const struct option opts[] = {
                { "process", required_argument, NULL, 'p' },
                { "console-socket", required_argument, NULL, OPT_CONSOLE },
                { "pid-file", required_argument, NULL, OPT_PID_FILE },
                { "cwd", required_argument, NULL, OPT_CWD },
                { "env", required_argument, NULL, 'e' },
                { "user", required_argument, NULL, 'u' },
                { "tty", no_argument, NULL, 't' },
                { "detach", no_argument, NULL, 'd' },
                { "preserve-fds", required_argument, NULL, OPT_PRESERVE },
                { "cap", required_argument, NULL, OPT_CAP },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+p:e:u:tdh", opts, NULL)) != -1) {
                switch (c) {
                case 'p':
                        o->process_file = optarg;
                        break;
                case OPT_CONSOLE:
                        o->console_socket = optarg;
                        break;
                case OPT_PID_FILE:
                        o->pid_file = optarg;
                        break;
                case OPT_CWD:
                        o->cwd = optarg;
                        break;
                case 'e':
                        if (o->n_env >= ELEMENTSOF(o->env) - 1 || !strchr(optarg, '='))
                                return cli_usage_error("hutch-runtime exec", "--env takes NAME=VALUE"), -1;
                        o->env[o->n_env++] = optarg;
                        break;
                case 'u':
                        o->user = optarg;
                        break;
                case 't':
                        o->tty = true;
                        break;
                case 'd':
                        o->detach = true;
                        break;
                case OPT_PRESERVE:
                        o->preserve_fds = (unsigned) strtoul(optarg, NULL, 10);
                        break;
                case OPT_CAP:
                        return cli_usage_error("hutch-runtime exec",
                                               "--cap is refused: an exec gets the container's capabilities"),
                               -1;
                case 'h':
                        printf("Usage: hutch-runtime exec [OPTIONS] ID [COMMAND [ARG...]]\n\n"
                               "Run a process in a running container, with the container's confinement.\n\n"
                               "  -p, --process FILE        process.json (the \"process\" object of a config)\n"
                               "  -t, --tty                 allocate a terminal (needs --console-socket)\n"
                               "      --console-socket SOCK send the pty master to this AF_UNIX socket\n"
                               "  -d, --detach              do not wait for the process\n"
                               "      --pid-file FILE       write its pid (no newline) to FILE\n"
                               "      --cwd DIR             working directory\n"
                               "  -e, --env NAME=VALUE      add to the environment\n"
                               "  -u, --user UID[:GID]      run as this user\n"
                               "      --preserve-fds N      pass N more fds\n");
                        return 1;
                default:
                        return cli_bad_option("hutch-runtime exec", argc, argv), -1;
                }
        }
        if (optind >= argc)
                return cli_usage_error("hutch-runtime exec", "needs a container ID"), -1;
        return 0;
}

static int exec_in(const char *id, const struct exec_opts *o, char **args, struct herror *err)
{
        _cleanup_close_ int rootfd = runtime_open_root(false, err);
        if (rootfd < 0)
                return rootfd;
        _cleanup_close_ int dirfd = runtime_open_container(rootfd, id, err);
        if (dirfd < 0)
                return dirfd;
        struct container_state st = { 0 };
        int r = runtime_read_state(dirfd, &st, err);
        if (r < 0)
                return r;
        _cleanup_spec_ struct spec *cs = NULL, *ps = NULL;
        _cleanup_close_ int bfd = open(st.bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (bfd < 0)
                r = herror_sys(err, errno, "bundle %s", st.bundle);
        if (r == 0 && runtime_status(dirfd, &st) != STATUS_RUNNING)
                r = herror_set(err, ESRCH, "container %s is not running", id);
        if (r == 0)
                r = spec_load(bfd, "config.json", &cs, err);
        if (r == 0 && o->process_file)
                r = load_process_file(o->process_file, &ps, err);
        struct spec_process *proc = NULL;
        if (r == 0) {
                proc = ps ? &ps->process : &cs->process;
                r = apply_overrides(proc, o, o->process_file ? NULL : args, err);
        }
        _cleanup_close_ int consolefd = -1;
        if (r == 0 && o->console_socket && (consolefd = runtime_connect_console(o->console_socket, err)) < 0)
                r = consolefd;
        struct sandbox sb = SANDBOX_INIT;
        struct cgroup_leaf cg = CGROUP_LEAF_INIT;
        if (r == 0 && st.cgroup)
                r = cgroup_open_rel(st.cgroup, &cg, err);
        struct sandbox_exec_opts eo = { .console_socket_fd = consolefd,
                                        .cgroup_fd = cg.fd,
                                        .preserve_fds = o->preserve_fds,
                                        .die_with_parent = !o->detach };
        sigset_t mask;
        sigemptyset(&mask);
        if (!o->detach)
                run_block_signals(&mask);
        if (r == 0)
                r = sandbox_exec(st.pid, st.start_time, cs, proc, &eo, &sb, err);
        if (r == 0 && o->pid_file)
                r = runtime_write_pid_file(o->pid_file, sb.pid, err);
        cgroup_leaf_close(&cg);
        container_state_clear(&st);
        if (r < 0)
                return r;
        if (o->detach) {
                sandbox_release(&sb);
                return 0;
        }
        runtime_wait_forwarding(sb.pidfd, &mask);
        int status = 1;
        r = sandbox_wait(&sb, &status, err);
        sandbox_release(&sb);
        return r < 0 ? r : status;
}

int runtime_cmd_exec(int argc, char **argv)
{
        struct exec_opts o = { 0 };
        int p = parse_exec_opts(argc, argv, &o);
        if (p)
                return p > 0 ? 0 : 1;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        int r = exec_in(argv[optind], &o, argv + optind + 1, &err);
        if (r < 0) {
                log_error("%s", herror_msg(&err));
                return 1;
        }
        return r;
}
