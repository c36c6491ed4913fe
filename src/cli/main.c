#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "sandbox/pause.h"
#include "util/log.h"

static const struct cli_command commands[] = {
        { "audit", "verify and show the audit log", cmd_audit },
        { "doctor", "check that this machine and user can run rootless containers", cmd_doctor },
        { "events", "print container events from the audit log (--follow to stream)", cmd_events },
        { "images", "list the named images in the store", cmd_images },
        { "inspect", "show an image's digest, config, layers, history and kept signatures", cmd_inspect },
        { "key", "generate a key pair for signing images", cmd_key },
        { "load", "import an image from an OCI layout, an oci-archive or a docker-archive", cmd_load },
        { "prune", "remove blobs, rootfs caches and leftovers no named image needs", cmd_prune },
        { "rmi", "remove image names (and the caches of images left without one)", cmd_rmi },
        { "run", "run a command in a new container from a signed image", cmd_run },
        { "save", "write an image and its signatures as an oci-archive", cmd_save },
        { "sign", "sign a stored image (cosign-compatible), or attach a signature", cmd_sign },
        { "tag", "give a stored image another name", cmd_tag },
        { "trust", "show and edit the image trust policy", cmd_trust },
        { "verify", "decide whether a stored image may run under the trust policy", cmd_verify },
        { "volume", "create, list, inspect and remove named volumes", cmd_volume },
        { "version", "print version, compiled-in features and kernel support", cmd_version },
};

static void usage(FILE *out)
{
        fprintf(out,
                "Usage: hutch [--log-level LEVEL] COMMAND [OPTIONS]\n\n"
                "A security-hardened, rootless, daemonless sandbox launcher for OCI containers.\n\n"
                "Commands:\n");
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
        fprintf(out,
                "\nGlobal options:\n"
                "  --log-level LEVEL  error, warning, info or debug (default: warning)\n"
                "  -h, --help         show this help\n"
                "  -v, --version      show version and features\n\n"
                "Run 'hutch COMMAND --help' for a command's options. The OCI runtime interface is\n"
                "'hutch-runtime' (see hutch-runtime(1)).\n");
}

static int hutch_main(int argc, char **argv)
{
        static const struct option opts[] = {
                { "log-level", required_argument, NULL, 'l' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'v' },
                {},
        };
        int c;
        opterr = 0;
        /* '+': stop at the command name; its options belong to it. */
        while ((c = getopt_long(argc, argv, "+hv", opts, NULL)) != -1) {
                switch (c) {
                case 'l': {
                        int l = log_level_from_string(optarg);
                        if (l < 0)
                                return cli_usage_error("hutch", "unknown log level '%s'", optarg);
                        log_set_level(l);
                        break;
                }
                case 'h':
                        usage(stdout);
                        return 0;
                case 'v':
                        optind = 0;
                        return cmd_version(1, (char *[]) { (char *) "version", NULL });
                default:
                        return cli_bad_option("hutch", argc, argv);
                }
        }
        if (optind >= argc) {
                usage(stderr);
                return EXIT_HUTCH_ERROR;
        }
        const char *name = argv[optind];
        for (size_t i = 0; i < ELEMENTSOF(commands); i++) {
                if (streq(commands[i].name, name)) {
                        int sub_argc = argc - optind;
                        char **sub_argv = argv + optind;
                        optind = 0; /* reset getopt for the command's own parse */
                        return commands[i].run(sub_argc, sub_argv);
                }
        }
        return cli_usage_error("hutch", "unknown command '%s'", name);
}

int main(int argc, char **argv)
{
        if (argc == 1 && streq(argv[0], SANDBOX_PAUSE_ARGV0))
                sandbox_pause_main();
        char *base = strrchr(argv[0], '/');
        base = base ? base + 1 : argv[0];
        if (streq(base, "hutch-runtime")) {
                log_set_prefix("hutch-runtime");
                return runtime_main(argc, argv);
        }
        return hutch_main(argc, argv);
}
