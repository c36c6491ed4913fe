/* hutch volume create|ls|rm|inspect: named volumes, as podman's. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/image-common.h"
#include "cli/volume.h"
#include "util/cleanup.h"
#include "util/json.h"

static int volume_usage(FILE *out)
{
        fprintf(out,
                "Usage: hutch volume COMMAND [OPTIONS] [NAME...]\n\n"
                "Named volumes: directories in the image store (<store>/volumes/NAME/_data) that outlive\n"
                "containers. `hutch run -v NAME:/dst` creates one on first use.\n\n"
                "Commands:\n"
                "  create NAME...           create volumes (an existing one is an error)\n"
                "  ls [--format json] [-q]  list volumes\n"
                "  inspect NAME...          show name and mountpoint as JSON\n"
                "  rm [-f] NAME...          remove volumes and their contents (-f: a missing one is fine)\n\n"
                "Options:\n"
                "  --storage DIR            the store (default: $HUTCH_STORAGE, else the user's store)\n"
                "  -h, --help               show this help\n");
        return out == stdout ? 0 : EXIT_HUTCH_ERROR;
}

struct volume_args {
        const char *storage;
        bool json, quiet, force;
};

static int parse(int argc, char **argv, struct volume_args *a)
{
        enum { OPT_STORAGE = 256, OPT_FORMAT };
        static const struct option opts[] = {
                { "storage", required_argument, NULL, OPT_STORAGE },
                { "format", required_argument, NULL, OPT_FORMAT },
                { "quiet", no_argument, NULL, 'q' },
                { "force", no_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "qfh", opts, NULL)) != -1) {
                switch (c) {
                case OPT_STORAGE:
                        a->storage = optarg;
                        break;
                case OPT_FORMAT:
                        if (cli_parse_format(optarg, &a->json) < 0)
                                return cli_usage_error("hutch volume", "--format takes json or table, not '%s'",
                                                       optarg),
                                       -1;
                        break;
                case 'q':
                        a->quiet = true;
                        break;
                case 'f':
                        a->force = true;
                        break;
                case 'h':
                        return 1;
                default:
                        return cli_bad_option("hutch volume", argc, argv), -1;
                }
        }
        return 0;
}

static int do_ls(struct image_store *s, const struct volume_args *a, struct herror *err)
{
        char **names = NULL;
        size_t n = 0;
        if (volume_list(s, &names, &n, err) < 0)
                return cli_fail(err);
        _cleanup_json_ json_t *arr = a->json ? json_array() : NULL;
        if (!a->json && !a->quiet)
                printf("%-40s %s\n", "VOLUME NAME", "MOUNTPOINT");
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *p = NULL;
                if (volume_path(s, names[i], &p, err) < 0)
                        continue;
                if (a->json)
                        json_array_append_new(arr, json_pack("{s:s,s:s}", "Name", names[i], "Mountpoint", p));
                else if (a->quiet)
                        printf("%s\n", names[i]);
                else
                        printf("%-40s %s\n", names[i], p);
        }
        strv_free(names);
        if (a->json) {
                _cleanup_free_ char *t = json_dumps(arr, JSON_INDENT(2));
                printf("%s\n", t ? t : "[]");
        }
        return 0;
}

static int do_inspect(struct image_store *s, char **names, int n, struct herror *err)
{
        _cleanup_json_ json_t *arr = json_array();
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *p = NULL;
                if (volume_path(s, names[i], &p, err) < 0)
                        return cli_fail(err);
                json_array_append_new(arr, json_pack("{s:s,s:s}", "Name", names[i], "Mountpoint", p));
        }
        _cleanup_free_ char *t = json_dumps(arr, JSON_INDENT(2));
        printf("%s\n", t ? t : "[]");
        return 0;
}

int cmd_volume(int argc, char **argv)
{
        if (argc < 2)
                return volume_usage(stderr);
        const char *sub = argv[1];
        if (streq(sub, "-h") || streq(sub, "--help"))
                return volume_usage(stdout);
        struct volume_args a = { 0 };
        int p = parse(argc - 1, argv + 1, &a);
        if (p == 1)
                return volume_usage(stdout);
        if (p < 0)
                return EXIT_HUTCH_ERROR;
        char **names = argv + 1 + optind;
        int n = argc - 1 - optind;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct image_store s = IMAGE_STORE_INIT;
        if (image_cli_open_store(a.storage, &s, &err) < 0)
                return cli_fail(&err);
        int r = 0;
        if (streq(sub, "ls") || streq(sub, "list")) {
                r = n ? cli_usage_error("hutch volume ls", "takes no names") : do_ls(&s, &a, &err);
        } else if (streq(sub, "inspect")) {
                r = n ? do_inspect(&s, names, n, &err) : cli_usage_error("hutch volume inspect", "needs a NAME");
        } else if (streq(sub, "create")) {
                if (!n)
                        r = cli_usage_error("hutch volume create", "needs a NAME");
                for (int i = 0; r == 0 && i < n; i++)
                        r = volume_create(&s, names[i], false, NULL, &err) < 0 ? cli_fail(&err)
                                                                               : (printf("%s\n", names[i]), 0);
        } else if (streq(sub, "rm") || streq(sub, "remove")) {
                if (!n)
                        r = cli_usage_error("hutch volume rm", "needs a NAME");
                for (int i = 0; r == 0 && i < n; i++) {
                        int e = volume_remove(&s, names[i], &err);
                        if (e == -ENOENT && a.force)
                                herror_clear(&err);
                        else if (e < 0)
                                r = cli_fail(&err);
                        else
                                printf("%s\n", names[i]);
                }
        } else {
                r = cli_usage_error("hutch volume", "unknown command '%s'", sub);
        }
        store_close(&s);
        return r;
}
