/* hutch inspect IMAGE: what the store knows of one image, as JSON (podman-style keys) or text. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/image-common.h"
#include "image/store-sigs.h"
#include "util/log.h"

/* The config fields a user of the image cares about, copied as the image wrote them. */
static const char *const config_keys[] = { "Entrypoint",   "Cmd",     "Env",        "WorkingDir", "User",
                                           "ExposedPorts", "Volumes", "StopSignal", "Labels" };

static int inspect_usage(void)
{
        printf("Usage: hutch inspect [OPTIONS] IMAGE\n\n"
               "Show a stored image (by name, sha256:DIGEST or an ID prefix of 12+ hex digits): its\n"
               "manifest digest and names, platform, creation time, the runtime fields of its config\n"
               "(Entrypoint, Cmd, Env, WorkingDir, User, ExposedPorts, Volumes, StopSignal, Labels, as the\n"
               "image wrote them), its layers with sizes and diff IDs, its history, and the signatures kept\n"
               "beside it (number and where each came from; 'hutch verify' judges them).\n\n"
               "Options:\n"
               "  --format json|text  output format (default json)\n"
               "  --storage DIR       the image store (default: $HUTCH_STORAGE, else the user's store)\n"
               "  -h, --help          show this help\n");
        return 0;
}

static int build(struct image_store *s, const struct digest *md, json_t **ret, struct herror *err)
{
        struct image_info info;
        int r = image_cli_info(s, md, &info, err);
        if (r < 0)
                return r;
        _cleanup_strv_ char **names = NULL;
        struct store_signature *sigs = NULL;
        size_t ns = 0;
        if ((r = image_cli_names_of(s, md, &names, err)) < 0 || (r = store_sigs_list(s, md, &sigs, &ns, err)) < 0) {
                image_info_done(&info);
                return r;
        }
        char ds[DIGEST_STRING_MAX], cs[DIGEST_STRING_MAX];
        json_t *jn = json_array(), *layers = json_array(), *origins = json_array(), *config = json_object();
        for (char **n = names; jn && *n; n++)
                json_array_append_new(jn, json_string(*n));
        for (size_t i = 0; layers && i < info.m.n_layers; i++) {
                char ls[DIGEST_STRING_MAX], dis[DIGEST_STRING_MAX];
                json_array_append_new(
                        layers,
                        json_pack("{s:s,s:I,s:s,s:s}", "Digest", digest_to_string(&info.m.layers[i].digest, ls), "Size",
                                  (json_int_t) info.m.layers[i].size, "MediaType", info.m.layers[i].media_type,
                                  "DiffId", digest_to_string(&info.c.diff_ids[i], dis)));
        }
        for (size_t i = 0; origins && i < ns; i++)
                json_array_append_new(origins, sigs[i].origin ? json_string(sigs[i].origin) : json_null());
        json_t *cc = json_object_get(info.config_json, "config");
        for (size_t i = 0; config && json_is_object(cc) && i < ELEMENTSOF(config_keys); i++) {
                json_t *v = json_object_get(cc, config_keys[i]);
                if (v)
                        json_object_set(config, config_keys[i], v);
        }
        json_t *history = json_object_get(info.config_json, "history");
        char rootfs[sizeof "rootfs/" + DIGEST_HEX_LEN];
        snprintf(rootfs, sizeof rootfs, "rootfs/%s", md->hex);
        struct stat st;
        bool cached = fstatat(s->rootfd, rootfs, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
        json_t *o = json_pack(
                "{s:s%,s:s,s:o,s:s,s:I,s:s,s:s?,s:s?,s:s,s:s,s:s?,s:o,s:o,s:I,s:O?,s:{s:I,s:o},s:b}", "Id", md->hex,
                (size_t) 12, "Digest", digest_to_string(md, ds), "Names", jn, "ManifestMediaType",
                json_string_value(json_object_get(info.manifest_json, "mediaType")) ?: OCI_MEDIA_TYPE_MANIFEST,
                "ManifestSize", (json_int_t) info.manifest_size, "ConfigDigest",
                digest_to_string(&info.m.config.digest, cs), "Created", info.created, "Author",
                json_string_value(json_object_get(info.config_json, "author")), "Os", info.c.os, "Architecture",
                info.c.architecture, "Variant", info.c.variant, "Config", config, "Layers", layers, "Size",
                (json_int_t) info.size, "History", json_is_array(history) ? history : NULL, "Signatures", "Count",
                (json_int_t) ns, "Origins", origins, "RootfsCached", cached);
        store_signatures_free(sigs, ns);
        image_info_done(&info);
        if (!o)
                return herror_set(err, ENOMEM, "out of memory");
        *ret = o;
        return 0;
}

/* Every string below is the image's (or derived from it): printed with control characters made harmless. */
static void put(const char *s)
{
        image_cli_put_printable(s ? s : "?", stdout);
}

static void print_strv_field(const char *label, json_t *v)
{
        if (!v || json_is_null(v))
                return;
        printf("%-13s", label);
        if (json_is_array(v)) {
                size_t i;
                json_t *e;
                json_array_foreach (v, i, e) {
                        putchar(' ');
                        put(json_string_value(e));
                }
        } else {
                putchar(' ');
                put(json_string_value(v));
        }
        putchar('\n');
}

/* Volumes and ExposedPorts are sets written as objects ({"/data": {}}): their keys. */
static void print_keys_field(const char *label, json_t *v)
{
        if (!json_is_object(v) || json_object_size(v) == 0)
                return;
        printf("%-13s", label);
        const char *k;
        json_t *e;
        json_object_foreach (v, k, e) {
                putchar(' ');
                put(k);
        }
        putchar('\n');
}

static void print_labels(json_t *v)
{
        if (!json_is_object(v))
                return;
        bool first = true;
        const char *k;
        json_t *e;
        json_object_foreach (v, k, e) {
                printf("%-13s ", first ? "Labels:" : "");
                put(k);
                putchar('=');
                put(json_string_value(e));
                putchar('\n');
                first = false;
        }
}

static void print_text(json_t *o)
{
        json_t *cfg = json_object_get(o, "Config");
        printf("%-13s %s\n", "Digest:", json_string_value(json_object_get(o, "Digest")));
        print_strv_field("Names:", json_object_get(o, "Names"));
        printf("%-13s ", "Platform:");
        put(json_string_value(json_object_get(o, "Os")));
        putchar('/');
        put(json_string_value(json_object_get(o, "Architecture")));
        if (json_is_string(json_object_get(o, "Variant"))) {
                putchar('/');
                put(json_string_value(json_object_get(o, "Variant")));
        }
        putchar('\n');
        print_strv_field("Created:", json_object_get(o, "Created"));
        print_strv_field("Entrypoint:", json_object_get(cfg, "Entrypoint"));
        print_strv_field("Cmd:", json_object_get(cfg, "Cmd"));
        print_strv_field("WorkingDir:", json_object_get(cfg, "WorkingDir"));
        print_strv_field("User:", json_object_get(cfg, "User"));
        print_strv_field("Env:", json_object_get(cfg, "Env"));
        print_keys_field("Volumes:", json_object_get(cfg, "Volumes"));
        print_keys_field("Ports:", json_object_get(cfg, "ExposedPorts"));
        print_strv_field("StopSignal:", json_object_get(cfg, "StopSignal"));
        print_labels(json_object_get(cfg, "Labels"));
        size_t i;
        json_t *l;
        json_array_foreach (json_object_get(o, "Layers"), i, l) {
                char size[32];
                printf("%-13s %s %s\n", i ? "" : "Layers:", json_string_value(json_object_get(l, "Digest")),
                       image_cli_format_size((uint64_t) json_integer_value(json_object_get(l, "Size")), size,
                                             sizeof size));
        }
        json_t *sigs = json_object_get(o, "Signatures");
        printf("%-13s %lld\n", "Signatures:", (long long) json_integer_value(json_object_get(sigs, "Count")));
        json_array_foreach (json_object_get(sigs, "Origins"), i, l) {
                printf("%-13s from ", "");
                put(json_string_value(l) ?: "(unknown)");
                putchar('\n');
        }
}

int cmd_inspect(int argc, char **argv)
{
        static const struct option opts[] = {
                { "format", required_argument, NULL, 'f' },
                { "storage", required_argument, NULL, 's' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *storage = NULL;
        bool json = true;
        int c;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (c) {
                case 'f':
                        if (cli_parse_format(optarg, &json) < 0)
                                return cli_usage_error("hutch inspect", "--format must be json or text, not '%s'",
                                                       optarg);
                        break;
                case 's':
                        storage = optarg;
                        break;
                case 'h':
                        return inspect_usage();
                default:
                        return cli_bad_option("hutch inspect", argc, argv);
                }
        }
        if (optind != argc - 1)
                return cli_usage_error("hutch inspect", "needs exactly one IMAGE");
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct image_store s = IMAGE_STORE_INIT;
        if (image_cli_open_store(storage, &s, &err) < 0)
                return cli_fail(&err);
        struct digest md;
        _cleanup_json_ json_t *o = NULL;
        int r = image_cli_resolve(&s, argv[optind], &md, NULL, &err);
        if (r == 0)
                r = build(&s, &md, &o, &err);
        store_close(&s);
        if (r < 0) {
                herror_wrap(&err, "inspect %s", argv[optind]);
                return cli_fail(&err);
        }
        if (json) {
                _cleanup_free_ char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                if (!text)
                        return cli_fail(&(struct herror) { ENOMEM, (char *) "out of memory" });
                printf("%s\n", text);
        } else
                print_text(o);
        return 0;
}
