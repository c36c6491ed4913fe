/* hutch tag IMAGE NEWNAME: one more name for a stored image. */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "cli/image-common.h"

static int tag_usage(void)
{
        printf("Usage: hutch tag [OPTIONS] IMAGE NEWNAME\n\n"
               "Give a stored image (by name, sha256:DIGEST or an ID prefix of 12+ hex digits) another\n"
               "name. NEWNAME is normalised (alpine -> docker.io/library/alpine:latest); a name that\n"
               "pointed at another image is moved. The trust policy matches this name, and signatures\n"
               "must name it: tagging does not make an image trusted.\n\n"
               "Options:\n"
               "  --storage DIR    the image store (default: $HUTCH_STORAGE, else the user's store)\n"
               "  -h, --help       show this help\n");
        return 0;
}

int cmd_tag(int argc, char **argv)
{
        static const struct option opts[] = {
                { "storage", required_argument, NULL, 's' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *storage = NULL;
        int c;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (c) {
                case 's':
                        storage = optarg;
                        break;
                case 'h':
                        return tag_usage();
                default:
                        return cli_bad_option("hutch tag", argc, argv);
                }
        }
        if (optind != argc - 2)
                return cli_usage_error("hutch tag", "needs IMAGE and NEWNAME");
        _cleanup_herror_ struct herror err = HERROR_INIT;
        _cleanup_free_ char *name = NULL;
        if (image_cli_normalise_name(argv[optind + 1], &name, &err) < 0)
                return cli_usage_error("hutch tag", "%s", herror_msg(&err));
        struct image_store s = IMAGE_STORE_INIT;
        if (image_cli_open_store(storage, &s, &err) < 0)
                return cli_fail(&err);
        struct digest md;
        /* Under the writers' lock: a prune cannot remove the image between the lookup and the new name. */
        int r = store_lock(&s, &err);
        if (r == 0) {
                struct oci_manifest m = { 0 };
                struct oci_config cfg = { 0 };
                r = image_cli_resolve(&s, argv[optind], &md, NULL, &err);
                if (r == 0)
                        r = store_read_image(&s, &md, &m, &cfg, &err); /* a manifest, not just any blob */
                oci_manifest_done(&m);
                oci_config_done(&cfg);
                if (r == 0)
                        r = store_ref_set(&s, name, &md, &err);
                store_unlock(&s);
        }
        store_close(&s);
        if (r < 0) {
                herror_wrap(&err, "tag %s", argv[optind]);
                return cli_fail(&err);
        }
        return 0;
}
