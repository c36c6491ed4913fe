/* docker-archive manifest.json (`docker save`, `podman save --format docker-archive`): the input is the
 * manifest.json of an archive whose other members are fixed, and the archive is imported into a scratch
 * store the way `hutch load` does: extracted, then every image it lists when the input ends in a newline,
 * else the one "@1" names when it ends in a space, else the one tagged "busybox:latest". The archive holds:
 *   config.json, layer.tar, layer.tar.gz   a valid config (one diff_id, layer.tar's) and its layers
 *   sub/link.tar -> ../layer.tar            a symlink that stays inside the archive
 *   abs-config.json, up-config.json         symlinks (absolute, and climbing with ..) to a valid config
 *   abs-layer.tar.gz, up-layer.tar.gz       and a "compressed layer" that lie outside the archive
 * Whatever manifest.json says, the outside files must never reach the store: abort if their digests
 * appear there, or if an import that succeeded cannot be read back. */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz/fuzz.h"
#include "image/store.h"
#include "image/unpack.h"
#include "util/fileio.h"

static char outside[128];
static struct image_store store = IMAGE_STORE_INIT;
static char layer_tar[4096], config_json[512], outside_config[512];
static size_t layer_tar_len;
static const char outside_layer[] = "\x1f\x8b outside: never a blob";
static struct digest outside_config_digest, outside_layer_digest;

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
        char p[256];
        snprintf(p, sizeof p, "%s/%s", dir, name);
        int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || write_all(fd, data, len) < 0 || close(fd) < 0)
                fuzz_die(p);
}

static void add_member(struct archive *a, const char *name, mode_t type, const void *data, size_t len,
                       const char *target)
{
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, type);
        archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
        archive_entry_set_size(e, type == AE_IFREG ? (la_int64_t) len : 0);
        if (target)
                archive_entry_set_symlink(e, target);
        if (archive_write_header(a, e) != ARCHIVE_OK || (len && archive_write_data(a, data, len) != (la_ssize_t) len))
                fuzz_die(archive_error_string(a));
        archive_entry_free(e);
}

static void build_layer(void)
{
        struct archive *a = archive_write_new();
        if (!a || archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
            archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
            archive_write_open_memory(a, layer_tar, sizeof layer_tar, &layer_tar_len) != ARCHIVE_OK)
                fuzz_die("layer archive");
        add_member(a, "hello", AE_IFREG, "hello\n", 6, NULL);
        if (archive_write_close(a) != ARCHIVE_OK)
                fuzz_die("layer archive close");
        archive_write_free(a);
}

static void init_once(void)
{
        if (store.rootfd >= 0)
                return;
        const char *base = fuzz_scratch_dir("docker-archive");
        snprintf(outside, sizeof outside, "%s/outside", base);
        if (mkdir(outside, 0700) < 0)
                fuzz_die("mkdir outside");
        build_layer();
        struct digest d;
        char ds[DIGEST_STRING_MAX];
        if (digest_buffer(layer_tar, layer_tar_len, &d, NULL) < 0)
                fuzz_die("digest");
        static const char fmt[] = "{\"architecture\":\"amd64\",\"os\":\"linux\",%s\"rootfs\":{\"type\":\"layers\","
                                  "\"diff_ids\":[\"%s\"]}}";
        snprintf(config_json, sizeof config_json, fmt, "", digest_to_string(&d, ds));
        snprintf(outside_config, sizeof outside_config, fmt, "\"author\":\"outside\",", ds);
        if (digest_buffer(outside_config, strlen(outside_config), &outside_config_digest, NULL) < 0 ||
            digest_buffer(outside_layer, sizeof outside_layer - 1, &outside_layer_digest, NULL) < 0)
                fuzz_die("digest");
        write_file(outside, "config.json", outside_config, strlen(outside_config));
        write_file(outside, "layer.tar.gz", outside_layer, sizeof outside_layer - 1);
        char sp[128];
        snprintf(sp, sizeof sp, "%s/store", base);
        struct herror err = HERROR_INIT;
        if (store_open(sp, &store, &err) < 0)
                fuzz_die(herror_msg(&err));
}

/* The archive with data as its manifest.json, in a memfd. */
static int build_archive(const uint8_t *data, size_t size)
{
        int fd = memfd_create("docker-archive", MFD_CLOEXEC);
        struct archive *a = archive_write_new();
        if (fd < 0 || !a || archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
            archive_write_open_fd(a, fd) != ARCHIVE_OK)
                fuzz_die("archive");
        char abs_config[192], abs_layer[192];
        snprintf(abs_config, sizeof abs_config, "%s/config.json", outside);
        snprintf(abs_layer, sizeof abs_layer, "%s/layer.tar.gz", outside);
        add_member(a, "manifest.json", AE_IFREG, data, size, NULL);
        add_member(a, "config.json", AE_IFREG, config_json, strlen(config_json), NULL);
        add_member(a, "layer.tar", AE_IFREG, layer_tar, layer_tar_len, NULL);
        add_member(a, "layer.tar.gz", AE_IFREG, "\x1f\x8b inside", 9, NULL);
        add_member(a, "sub", AE_IFDIR, NULL, 0, NULL);
        add_member(a, "sub/link.tar", AE_IFLNK, NULL, 0, "../layer.tar");
        add_member(a, "abs-config.json", AE_IFLNK, NULL, 0, abs_config);
        add_member(a, "up-config.json", AE_IFLNK, NULL, 0, "../../../outside/config.json");
        add_member(a, "abs-layer.tar.gz", AE_IFLNK, NULL, 0, abs_layer);
        add_member(a, "up-layer.tar.gz", AE_IFLNK, NULL, 0, "../../../outside/layer.tar.gz");
        if (archive_write_close(a) != ARCHIVE_OK || lseek(fd, 0, SEEK_SET) != 0)
                fuzz_die("archive close");
        archive_write_free(a);
        return fd;
}

static void check_imports(const struct store_import *imps, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                struct oci_manifest m = { 0 };
                struct oci_config c = { 0 };
                struct herror err = HERROR_INIT;
                if (store_read_image(&store, &imps[i].manifest, &m, &c, &err) < 0)
                        fuzz_die(herror_msg(&err));
                if (m.n_layers != imps[i].n_layers || c.n_diff_ids != m.n_layers)
                        fuzz_die("layer count");
                oci_manifest_done(&m);
                oci_config_done(&c);
                for (size_t k = 0; imps[i].repo_tags && imps[i].repo_tags[k]; k++)
                        if (strlen(imps[i].repo_tags[k]) > STORE_REF_MAX_LEN)
                                fuzz_die("RepoTags entry too long");
        }
        if (store_has_blob(&store, &outside_config_digest) || store_has_blob(&store, &outside_layer_digest))
                fuzz_die("a file outside the archive reached the store");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > FUZZ_MAX_INPUT)
                return 0;
        init_once();
        int fd = build_archive(data, size);
        struct store_import *imps = NULL;
        size_t n = 0;
        enum store_archive_kind kind;
        struct herror err = HERROR_INIT;
        char last = size ? (char) data[size - 1] : 0;
        const char *ref = last == '\n' ? NULL : last == ' ' ? "@1" : "busybox:latest";
        int r = store_import_archive(&store, fd, ref, NULL, NULL, NULL, &kind, &imps, &n, &err);
        close(fd);
        if (r == 0) {
                if (kind != STORE_ARCHIVE_DOCKER || n == 0)
                        fuzz_die("imported, but not as one docker-archive image or more");
                check_imports(imps, n);
                store_imports_free(imps, n);
        } else if (!herror_msg(&err)[0]) {
                fuzz_die("a refusal without a message");
        }
        herror_clear(&err);
        return 0;
}
