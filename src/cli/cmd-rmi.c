/* hutch rmi: remove names; an image left without any name also loses its rootfs cache and its kept
 * signatures at once. Its blobs stay until `hutch prune` (a name added back in between still works). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/image-common.h"
#include "image/rootfs.h"
#include "image/store-sigs.h"
#include "util/log.h"

static int rmi_usage(void)
{
        printf("Usage: hutch rmi [OPTIONS] IMAGE...\n\n"
               "Remove image names. IMAGE is a name (normalised: alpine = docker.io/library/alpine:latest),\n"
               "sha256:DIGEST or an ID prefix of 12+ hex digits. By name, that name goes; by digest or ID,\n"
               "every name of the image goes (which needs -f when there are several). When no name is\n"
               "left, the image's rootfs cache and kept signatures are removed as well (a rootfs cache a\n"
               "running container uses stays until it ends, with a warning); its blobs are removed by\n"
               "'hutch prune'.\n\n"
               "Options:\n"
               "  -f, --force      by digest or ID, remove all of the image's names\n"
               "  --storage DIR    the image store (default: $HUTCH_STORAGE, else the user's store)\n"
               "  -h, --help       show this help\n");
        return 0;
}

static int rmi_one(struct image_store *s, const char *user, bool force, struct herror *err)
{
        struct digest md;
        _cleanup_free_ char *name = NULL;
        _cleanup_strv_ char **names = NULL;
        char ds[DIGEST_STRING_MAX];
        int r = image_cli_resolve(s, user, &md, &name, err);
        if (r < 0)
                return r;
        digest_to_string(&md, ds);
        if (!name) {
                if ((r = image_cli_names_of(s, &md, &names, err)) < 0)
                        return r;
                if (names[0] && names[1] && !force)
                        return herror_set(err, EBUSY,
                                          "image %s has several names (%s, %s%s): remove them by name, or use -f", ds,
                                          names[0], names[1], names[2] ? ", ..." : "");
        }
        for (char **n = name ? (char *[]) { name, NULL } : names; *n; n++) {
                if ((r = store_ref_remove(s, *n, err)) < 0)
                        return r;
                printf("Untagged: %s\n", *n);
        }
        _cleanup_strv_ char **left = NULL;
        if ((r = image_cli_names_of(s, &md, &left, err)) < 0)
                return r;
        if (left[0])
                return 0;
        /* A running container's root is built on the cache: it stays until no container uses it (then
         * `hutch prune` removes it); the image is gone all the same. */
        _cleanup_herror_ struct herror busy = HERROR_INIT;
        r = rootfs_remove(s, &md, &busy);
        if (r == -EBUSY)
                log_warn("%s: kept until the container ends ('hutch prune' removes it then)", herror_msg(&busy));
        else if (r < 0)
                return herror_set(err, busy.errnum, "%s", herror_msg(&busy));
        if ((r = store_sigs_remove(s, &md, err)) < 0 || (r = store_unnamed_remove(s, &md, err)) < 0)
                return r;
        printf("Deleted: %s\n", ds);
        return 0;
}

int cmd_rmi(int argc, char **argv)
{
        static const struct option opts[] = {
                { "force", no_argument, NULL, 'f' },
                { "storage", required_argument, NULL, 's' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *storage = NULL;
        bool force = false;
        int c;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
                switch (c) {
                case 'f':
                        force = true;
                        break;
                case 's':
                        storage = optarg;
                        break;
                case 'h':
                        return rmi_usage();
                default:
                        return cli_bad_option("hutch rmi", argc, argv);
                }
        }
        if (optind >= argc)
                return cli_usage_error("hutch rmi", "needs at least one IMAGE");
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct image_store s = IMAGE_STORE_INIT;
        if (image_cli_open_store(storage, &s, &err) < 0)
                return cli_fail(&err);
        int ret = 0;
        for (int i = optind; i < argc; i++) {
                /* Under the writers' lock: a load naming the same image waits, so "no name left" holds. */
                int r = store_lock(&s, &err);
                if (r == 0) {
                        r = rmi_one(&s, argv[i], force, &err);
                        store_unlock(&s);
                }
                if (r < 0) {
                        herror_wrap(&err, "rmi %s", argv[i]);
                        ret = cli_fail(&err);
                        herror_clear(&err);
                }
        }
        store_close(&s);
        return ret;
}
