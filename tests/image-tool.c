/* image-tool: a small driver over src/image for the integration tests (tests/integration/image-unpack.bats),
 * until the CLI has image commands.
 *   image-tool import LAYOUT[:REF] STORE [NAME]   verify + copy one image; prints the manifest digest.
 *                                                 The ref recorded is NAME, else REF, else the entry's
 *                                                 org.opencontainers.image.ref.name (none if absent).
 *   image-tool import-oci-archive FILE[:REF] STORE [NAME]      the same from an oci-archive tar
 *   image-tool import-docker-archive FILE[:TAG] STORE [NAME]   from `docker save` output (TAG: a RepoTag
 *                                                 or @N; the ref recorded defaults to TAG, else the
 *                                                 image's first RepoTag)
 *   image-tool unpack STORE NAME|DIGEST DIR       apply every layer, in order, to DIR (created; must not
 *                                                 exist); prints per-layer counts to stderr
 *   image-tool rootfs STORE NAME|DIGEST           the cached rootfs: prints "created PATH" or "cached PATH"
 * Options (before the command): --platform OS/ARCH[/VARIANT], --max-ratio N.
 * Exit 0 on success, 1 with "image-tool: MESSAGE" on stderr on failure, 2 on usage errors. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/layout.h"
#include "image/rootfs.h"
#include "image/store.h"
#include "image/unpack.h"

static struct oci_platform platform;
static bool have_platform;
static uint64_t max_ratio;

static int usage(void)
{
        fprintf(stderr,
                "usage: image-tool [--platform OS/ARCH[/VARIANT]] [--max-ratio N] import LAYOUT[:REF] STORE [NAME]\n"
                "       image-tool import-oci-archive FILE[:REF] STORE [NAME]\n"
                "       image-tool import-docker-archive FILE[:TAG] STORE [NAME]\n"
                "       image-tool unpack STORE NAME|DIGEST DIR\n"
                "       image-tool rootfs STORE NAME|DIGEST\n");
        return 2;
}

static int fail(const struct herror *err)
{
        fprintf(stderr, "image-tool: %s\n", herror_msg(err));
        return 1;
}

enum source { SOURCE_LAYOUT, SOURCE_OCI_ARCHIVE, SOURCE_DOCKER_ARCHIVE };

static int cmd_import(char **argv, int argc, enum source source)
{
        if (argc < 2 || argc > 3)
                return usage();
        _cleanup_free_ char *layout = strdup(argv[0]);
        if (!layout)
                return 1;
        /* containers/image's oci: syntax: the path ends at the first ':' */
        char *ref = strchr(layout, ':');
        if (ref)
                *ref++ = 0;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        _cleanup_close_ int lfd = open(layout, O_RDONLY | O_CLOEXEC | (source == SOURCE_LAYOUT ? O_DIRECTORY : 0));
        if (lfd < 0) {
                herror_sys(&err, errno, "%s", layout);
                return fail(&err);
        }
        struct image_store s = IMAGE_STORE_INIT;
        if (store_open(argv[1], &s, &err) < 0)
                return fail(&err);
        struct store_import imp;
        const char *want = ref && *ref ? ref : NULL;
        const struct oci_platform *p = have_platform ? &platform : NULL;
        int r = source == SOURCE_LAYOUT        ? store_import_oci(&s, lfd, want, p, NULL, &imp, &err)
                : source == SOURCE_OCI_ARCHIVE ? store_import_oci_archive(&s, lfd, want, p, NULL, &imp, &err)
                                               : store_import_docker_archive(&s, lfd, want, p, NULL, &imp, &err);
        if (r == 0) {
                const char *name = argc == 3 ? argv[2] : ref && *ref ? ref : imp.ref_name;
                if (name)
                        r = store_ref_set(&s, name, &imp.manifest, &err);
                char ds[DIGEST_STRING_MAX];
                if (r == 0)
                        printf("%s\n", digest_to_string(&imp.manifest, ds));
                if (r == 0 && imp.platform_mismatch)
                        fprintf(stderr, "image-tool: warning: the image is for another platform\n");
                store_import_done(&imp);
        }
        store_close(&s);
        return r < 0 ? fail(&err) : 0;
}

static int unpack_into(struct image_store *s, const struct digest *md, int dirfd, struct herror *err)
{
        struct oci_manifest m = { 0 };
        struct oci_config c = { 0 };
        int r = store_read_image(s, md, &m, &c, err);
        for (size_t i = 0; r == 0 && i < m.n_layers; i++) {
                _cleanup_close_ int fd = store_open_blob(s, &m.layers[i].digest, NULL, err);
                if (fd < 0) {
                        r = fd;
                        break;
                }
                struct unpack_options o;
                unpack_options_init(&o);
                o.diff_id = &c.diff_ids[i];
                o.compressed_size = m.layers[i].size;
                if (max_ratio)
                        o.limits.max_ratio = max_ratio;
                struct unpack_stats st;
                r = unpack_layer(fd, dirfd, &o, &st, err);
                if (r < 0) {
                        herror_wrap(err, "layer %zu", i);
                        break;
                }
                fprintf(stderr,
                        "layer %zu: %llu entries, %llu files, %llu dirs, %llu symlinks, %llu hardlinks, %llu whiteouts, "
                        "%llu opaque, %llu devices skipped, %llu bytes\n",
                        i, (unsigned long long) st.entries, (unsigned long long) st.files, (unsigned long long) st.dirs,
                        (unsigned long long) st.symlinks, (unsigned long long) st.hardlinks,
                        (unsigned long long) st.whiteouts, (unsigned long long) st.opaque_dirs,
                        (unsigned long long) st.devices_skipped, (unsigned long long) st.bytes_written);
        }
        oci_manifest_done(&m);
        oci_config_done(&c);
        return r;
}

static int cmd_unpack(char **argv, int argc)
{
        if (argc != 3)
                return usage();
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct image_store s = IMAGE_STORE_INIT;
        if (store_open(argv[0], &s, &err) < 0)
                return fail(&err);
        struct digest md;
        int r = store_resolve(&s, argv[1], &md, &err);
        if (r == 0 && mkdir(argv[2], 0755) < 0)
                r = herror_sys(&err, errno, "%s", argv[2]);
        if (r == 0) {
                _cleanup_close_ int dirfd = open(argv[2], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                r = dirfd < 0 ? herror_sys(&err, errno, "%s", argv[2]) : unpack_into(&s, &md, dirfd, &err);
        }
        store_close(&s);
        return r < 0 ? fail(&err) : 0;
}

static int cmd_rootfs(char **argv, int argc)
{
        if (argc != 2)
                return usage();
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct image_store s = IMAGE_STORE_INIT;
        if (store_open(argv[0], &s, &err) < 0)
                return fail(&err);
        struct digest md;
        struct rootfs_options o;
        rootfs_options_init(&o);
        if (max_ratio)
                o.limits.max_ratio = max_ratio;
        int fd = -1;
        bool created = false;
        _cleanup_free_ char *path = NULL;
        int r = store_resolve(&s, argv[1], &md, &err);
        if (r == 0)
                r = rootfs_ensure(&s, &md, &o, &fd, &created, &err);
        if (r == 0)
                r = rootfs_path(&s, &md, &path, &err);
        if (r == 0)
                printf("%s %s\n", created ? "created" : "cached", path);
        if (fd >= 0)
                close(fd);
        store_close(&s);
        return r < 0 ? fail(&err) : 0;
}

int main(int argc, char **argv)
{
        int i = 1;
        for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
                _cleanup_herror_ struct herror err = HERROR_INIT;
                if (streq(argv[i], "--platform")) {
                        if (oci_platform_parse(argv[i + 1], &platform, &err) < 0)
                                return fail(&err);
                        have_platform = true;
                } else if (streq(argv[i], "--max-ratio"))
                        max_ratio = strtoull(argv[i + 1], NULL, 10);
                else
                        return usage();
        }
        if (i >= argc)
                return usage();
        const char *cmd = argv[i];
        char **rest = argv + i + 1;
        int n = argc - i - 1;
        if (streq(cmd, "import"))
                return cmd_import(rest, n, SOURCE_LAYOUT);
        if (streq(cmd, "import-oci-archive"))
                return cmd_import(rest, n, SOURCE_OCI_ARCHIVE);
        if (streq(cmd, "import-docker-archive"))
                return cmd_import(rest, n, SOURCE_DOCKER_ARCHIVE);
        if (streq(cmd, "unpack"))
                return cmd_unpack(rest, n);
        if (streq(cmd, "rootfs"))
                return cmd_rootfs(rest, n);
        return usage();
}
