/* hutch-runtime: the OCI runtime CLI face (runc-compatible), what podman/conmon, containerd and
 * CRI-O call. Global flags follow runc's; see docs/hutch-runtime.1. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/runtime.h"
#include "util/log.h"

struct runtime_globals runtime_globals;

static const struct cli_command runtime_commands[] = {
        { "create", "create a container from a bundle; it waits for start", runtime_cmd_create },
        { "delete", "remove a stopped container (--force kills it first)", runtime_cmd_delete },
        { "exec", "run a process in a running container", runtime_cmd_exec },
        { "features", "print supported features as JSON", runtime_cmd_features },
        { "kill", "send a signal to a container", runtime_cmd_kill },
        { "list", "list containers", runtime_cmd_list },
        { "ps", "list the processes of a container", runtime_cmd_ps },
        { "run", "create and start a container, and wait for it", runtime_cmd_run },
        { "spec", "write a default config.json", runtime_cmd_spec },
        { "start", "start a created container", runtime_cmd_start },
        { "state", "print the state of a container", runtime_cmd_state },
        { "version", "print the version", NULL },
};

static void runtime_usage(FILE *out)
{
        fprintf(out,
                "Usage: hutch-runtime [GLOBAL OPTIONS] COMMAND [OPTIONS] [ID]\n\n"
                "The OCI runtime interface of hutch (runc-compatible).\n\nCommands:\n");
        for (size_t i = 0; i < ELEMENTSOF(runtime_commands); i++)
                fprintf(out, "  %-10s %s\n", runtime_commands[i].name, runtime_commands[i].summary);
        fprintf(out,
                "\nGlobal options:\n"
                "  --root DIR              state directory (default $XDG_RUNTIME_DIR/hutch, root: /run/hutch)\n"
                "  --log FILE              also write log records to FILE\n"
                "  --log-format text|json  format of log records (default text)\n"
                "  --log-level LEVEL       error, warning, info or debug\n"
                "  --debug                 same as --log-level debug\n"
                "  --systemd-cgroup        accepted for compatibility; cgroupfs is used\n"
                "  --rootless true|false|auto  accepted for compatibility\n"
                "  --audit MODE            required, best-effort or off (default: hutch.conf, else best-effort)\n"
                "  --audit-log FILE        the audit log (default: hutch.conf, else $XDG_STATE_HOME/hutch/audit.log)\n"
                "  -h, --help              show this help\n"
                "  -v, --version           show the version\n");
}

int runtime_main(int argc, char **argv)
{
        enum {
                OPT_ROOT = 256,
                OPT_LOG,
                OPT_LOG_FORMAT,
                OPT_LOG_LEVEL,
                OPT_DEBUG,
                OPT_SYSTEMD_CGROUP,
                OPT_ROOTLESS,
                OPT_CGROUP_MANAGER,
                OPT_AUDIT,
                OPT_AUDIT_LOG
        };
        static const struct option opts[] = {
                { "root", required_argument, NULL, OPT_ROOT },
                { "log", required_argument, NULL, OPT_LOG },
                { "log-format", required_argument, NULL, OPT_LOG_FORMAT },
                { "log-level", required_argument, NULL, OPT_LOG_LEVEL },
                { "debug", no_argument, NULL, OPT_DEBUG },
                { "systemd-cgroup", no_argument, NULL, OPT_SYSTEMD_CGROUP },
                { "rootless", required_argument, NULL, OPT_ROOTLESS },
                { "cgroup-manager", required_argument, NULL, OPT_CGROUP_MANAGER },
                { "audit", required_argument, NULL, OPT_AUDIT },
                { "audit-log", required_argument, NULL, OPT_AUDIT_LOG },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'v' },
                {},
        };
        int c;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+hv", opts, NULL)) != -1) {
                switch (c) {
                case OPT_ROOT:
                        runtime_globals.root = optarg;
                        break;
                case OPT_LOG: {
                        int r = log_open_file(optarg);
                        if (r < 0) {
                                log_error("cannot open log file %s: %s", optarg, strerror(-r));
                                return 1;
                        }
                        break;
                }
                case OPT_LOG_FORMAT: {
                        int f = log_format_from_string(optarg);
                        if (f < 0)
                                return cli_usage_error("hutch-runtime", "unknown log format '%s'", optarg);
                        log_set_format(f);
                        break;
                }
                case OPT_LOG_LEVEL: {
                        int l = log_level_from_string(optarg);
                        if (l < 0)
                                return cli_usage_error("hutch-runtime", "unknown log level '%s'", optarg);
                        log_set_level(l);
                        break;
                }
                case OPT_DEBUG:
                        log_set_level(LOG_LEVEL_DEBUG);
                        break;
                case OPT_SYSTEMD_CGROUP:
                        runtime_globals.systemd_cgroup = true;
                        break;
                case OPT_ROOTLESS:
                case OPT_CGROUP_MANAGER:
                        break;
                case OPT_AUDIT:
                        runtime_globals.audit_mode = optarg;
                        break;
                case OPT_AUDIT_LOG:
                        runtime_globals.audit_log = optarg;
                        break;
                case 'h':
                        runtime_usage(stdout);
                        return 0;
                case 'v':
                        printf("hutch-runtime version %s\nspec: 1.2.0\n", HUTCH_VERSION);
                        return 0;
                default:
                        cli_bad_option("hutch-runtime", argc, argv);
                        return 1;
                }
        }
        if (optind >= argc) {
                runtime_usage(stderr);
                return 1;
        }
        const char *name = argv[optind];
        for (size_t i = 0; i < ELEMENTSOF(runtime_commands); i++) {
                if (streq(runtime_commands[i].name, name)) {
                        int sub_argc = argc - optind;
                        char **sub_argv = argv + optind;
                        optind = 0;
                        if (!runtime_commands[i].run) {
                                printf("hutch-runtime version %s\nspec: 1.2.0\n", HUTCH_VERSION);
                                return 0;
                        }
                        return runtime_commands[i].run(sub_argc, sub_argv);
                }
        }
        log_error("unknown command '%s' (see 'hutch-runtime --help')", name);
        return 1;
}
