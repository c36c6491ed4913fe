/* hutch prune: remove what no named image needs (image/store-gc.h says exactly what). */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "cli/image-common.h"
#include "image/store-gc.h"

static int prune_usage(void)
{
        printf("Usage: hutch prune [OPTIONS]\n\n"
               "Remove the images without a name ('<none>' in 'hutch images', loaded by digest only) that no\n"
               "running container uses, as 'podman image prune' removes dangling images; then every blob no\n"
               "remaining image needs (an image keeps its manifest, config, layers and the payloads of its\n"
               "kept signatures), the signatures and rootfs caches of removed images (except caches running\n"
               "containers use), and what killed hutch processes left behind.\n"
               "To keep an image loaded by digest only, name it first with 'hutch tag'.\n"
               "Runs under the store's writers' lock: concurrent loads wait.\n\n"
               "Options:\n"
               "  --dry-run        count what would be removed, remove nothing\n"
               "  --storage DIR    the image store (default: $HUTCH_STORAGE, else the user's store)\n"
               "  -h, --help       show this help\n");
        return 0;
}

int cmd_prune(int argc, char **argv)
{
        static const struct option opts[] = {
                { "dry-run", no_argument, NULL, 'n' },
                { "storage", required_argument, NULL, 's' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *storage = NULL;
        bool dry_run = false;
        int c;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (c) {
                case 'n':
                        dry_run = true;
                        break;
                case 's':
                        storage = optarg;
                        break;
                case 'h':
                        return prune_usage();
                default:
                        return cli_bad_option("hutch prune", argc, argv);
                }
        }
        if (optind != argc)
                return cli_usage_error("hutch prune", "takes no arguments, got '%s'", argv[optind]);
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct image_store s = IMAGE_STORE_INIT;
        if (image_cli_open_store(storage, &s, &err) < 0)
                return cli_fail(&err);
        struct store_prune_stats st;
        int r = store_prune(&s, dry_run, &st, &err);
        store_close(&s);
        if (r < 0)
                return cli_fail(&err);
        char size[32];
        printf("%s %zu blobs (%s), %zu rootfs caches, %zu signature files, %zu leftovers, %zu images without a name\n",
               dry_run ? "Would remove" : "Removed", st.blobs_removed,
               image_cli_format_size(st.bytes_freed, size, sizeof size), st.rootfs_removed, st.sigs_removed,
               st.leftovers_removed, st.images_removed);
        if (st.images_busy)
                printf("Kept %zu images without a name: running containers use them\n", st.images_busy);
        if (st.rootfs_busy)
                printf("Kept %zu rootfs caches of removed images: running containers use them\n", st.rootfs_busy);
        return 0;
}
