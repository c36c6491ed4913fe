/* hutch images: the named images in the store. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/image-common.h"
#include "image/store-sigs.h"
#include "trust/reference.h"
#include "util/log.h"

static int images_usage(void)
{
        printf("Usage: hutch images [OPTIONS]\n\n"
               "List the images in the store: one row per name (REPOSITORY, TAG), the image ID (the\n"
               "first 12 hex digits of the manifest digest, which every command accepts), the creation\n"
               "time from the image config and the stored size (config and layers, compressed).\n"
               "Images stored by digest only follow as <none> <none> (name them with 'hutch tag';\n"
               "'hutch prune' removes them while no container uses them).\n\n"
               "Options:\n"
               "  --format table|json   output format (default table); json: one object per image\n"
               "                        {Id, Digest, Names, Created, Size, Os, Architecture, Layers, Signatures}\n"
               "  --digests             show the manifest digest\n"
               "  -q, --quiet           only image IDs, once per image\n"
               "  --storage DIR         the image store (default: $HUTCH_STORAGE, else the user's store)\n"
               "  -h, --help            show this help\n");
        return 0;
}

/* "docker.io/library/alpine:3" -> "docker.io/library/alpine", "3". */
static void split_name(const char *name, char *repo, size_t repo_size, char *tag, size_t tag_size)
{
        _cleanup_ref_ struct image_ref ref = { 0 };
        _cleanup_free_ char *n = NULL;
        if (ref_parse(name, &ref, NULL) == 0 && (n = ref_format_name(&ref))) {
                snprintf(repo, repo_size, "%s", n);
                snprintf(tag, tag_size, "%s", ref.tag ? ref.tag : "<none>");
                return;
        }
        snprintf(repo, repo_size, "%s", name);
        snprintf(tag, tag_size, "<none>");
}

static void created_short(const char *created, char *buf, size_t size)
{
        if (!created || strlen(created) < 16) {
                snprintf(buf, size, "%s", created ? created : "-");
                image_cli_make_printable(buf);
                return;
        }
        snprintf(buf, size, "%.10s %.5s", created, created + 11);
        image_cli_make_printable(buf);
}

struct images_out {
        struct image_store *s;
        bool json, digests, quiet;
        json_t *out;
        int ret;
};

/* One row: name NULL for an image without one (podman's <none> <none>). names: every name of the image,
 * for its JSON object, which only the first row of an image (first) makes. */
static void show_image(struct images_out *o, const char *name, const struct digest *d, bool first, json_t *names)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct image_info info;
        char ds[DIGEST_STRING_MAX];
        digest_to_string(d, ds);
        if (image_cli_info(o->s, d, &info, &err) < 0) {
                herror_wrap(&err, "image %s (%s)", name ? name : "<none>", ds);
                o->ret = cli_fail(&err);
                return;
        }
        if (o->json && first) {
                struct store_signature *sigs = NULL;
                size_t ns = 0;
                if (store_sigs_list(o->s, d, &sigs, &ns, &err) < 0) {
                        o->ret = cli_fail(&err);
                        herror_clear(&err);
                }
                store_signatures_free(sigs, ns);
                json_array_append_new(o->out,
                                      json_pack("{s:s%,s:s,s:O,s:s?,s:I,s:s,s:s,s:I,s:I}", "Id", d->hex, (size_t) 12,
                                                "Digest", ds, "Names", names, "Created", info.created, "Size",
                                                (json_int_t) info.size, "Os", info.c.os, "Architecture",
                                                info.c.architecture, "Layers", (json_int_t) info.m.n_layers,
                                                "Signatures", (json_int_t) ns));
        } else if (o->quiet && first)
                printf("%.12s\n", d->hex);
        else if (!o->json && !o->quiet) {
                char repo[256] = "<none>", tag[160] = "<none>", created[32], size[32];
                if (name)
                        split_name(name, repo, sizeof repo, tag, sizeof tag);
                created_short(info.created, created, sizeof created);
                image_cli_format_size(info.size, size, sizeof size);
                if (o->digests)
                        printf("%-40s %-16s %-71s %-12.12s %-16s %s\n", repo, tag, ds, d->hex, created, size);
                else
                        printf("%-40s %-16s %-12.12s %-16s %s\n", repo, tag, d->hex, created, size);
        }
        image_info_done(&info);
}

static int list_images(struct images_out *o, struct herror *err)
{
        struct store_ref *refs = NULL;
        struct digest *unnamed = NULL;
        size_t n = 0, nu = 0;
        if (store_ref_list(o->s, &refs, &n, err) < 0 || store_unnamed_list(o->s, &unnamed, &nu, err) < 0) {
                store_ref_list_free(refs, n);
                return -1;
        }
        for (size_t i = 0; i < n; i++) {
                bool first = true; /* the first name of this manifest: the JSON object and -q line */
                for (size_t j = 0; j < i; j++)
                        first &= !digest_equal(&refs[j].digest, &refs[i].digest);
                _cleanup_json_ json_t *names = json_array();
                for (size_t k = i; first && k < n; k++)
                        if (digest_equal(&refs[k].digest, &refs[i].digest))
                                json_array_append_new(names, json_string(refs[k].name));
                show_image(o, refs[i].name, &refs[i].digest, first, names);
        }
        for (size_t i = 0; i < nu; i++) {
                bool named = false; /* refs.json edited by hand: the name wins */
                for (size_t j = 0; j < n; j++)
                        named |= digest_equal(&refs[j].digest, &unnamed[i]);
                _cleanup_json_ json_t *none = json_array();
                if (!named)
                        show_image(o, NULL, &unnamed[i], true, none);
        }
        store_ref_list_free(refs, n);
        free(unnamed);
        return 0;
}

int cmd_images(int argc, char **argv)
{
        static const struct option opts[] = {
                { "format", required_argument, NULL, 'f' }, { "digests", no_argument, NULL, 'd' },
                { "quiet", no_argument, NULL, 'q' },        { "storage", required_argument, NULL, 's' },
                { "help", no_argument, NULL, 'h' },         {},
        };
        const char *storage = NULL;
        struct images_out o = { 0 };
        int c;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
                switch (c) {
                case 'f':
                        if (cli_parse_format(optarg, &o.json) < 0)
                                return cli_usage_error("hutch images", "--format must be table or json, not '%s'",
                                                       optarg);
                        break;
                case 'd':
                        o.digests = true;
                        break;
                case 'q':
                        o.quiet = true;
                        break;
                case 's':
                        storage = optarg;
                        break;
                case 'h':
                        return images_usage();
                default:
                        return cli_bad_option("hutch images", argc, argv);
                }
        }
        if (optind != argc)
                return cli_usage_error("hutch images", "takes no arguments, got '%s'", argv[optind]);
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct image_store s = IMAGE_STORE_INIT;
        if (image_cli_open_store(storage, &s, &err) < 0)
                return cli_fail(&err);
        _cleanup_json_ json_t *out = json_array();
        if (!out) {
                store_close(&s);
                return cli_fail(&(struct herror) { ENOMEM, (char *) "out of memory" });
        }
        o.s = &s;
        o.out = out;
        if (!o.json && !o.quiet)
                printf(o.digests ? "%-40s %-16s %-71s %-12s %-16s %s\n" : "%-40s %-16s %s%-12s %-16s %s\n",
                       "REPOSITORY", "TAG", o.digests ? "DIGEST" : "", "IMAGE ID", "CREATED", "SIZE");
        if (list_images(&o, &err) < 0)
                o.ret = cli_fail(&err);
        if (o.json) {
                _cleanup_free_ char *text = json_dumps(out, JSON_INDENT(2));
                if (text)
                        printf("%s\n", text);
        }
        store_close(&s);
        return o.ret;
}
