#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/wait.h>

#include "image/config.h"
#include "image/rootfs.h"
#include "image/save.h"
#include "image/store-gc.h"
#include "image/store.h"
#include "image/store-sigs.h"
#include "image-helpers.h"

struct fx {
        char *base; /* BASE/store, BASE/layout */
        char store_path[512];
        char layout_path[512];
        int layoutfd;
        struct image_store s;
};

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof *f);
        f->base = th_mkdtemp("store");
        snprintf(f->store_path, sizeof f->store_path, "%s/store", f->base);
        snprintf(f->layout_path, sizeof f->layout_path, "%s/layout", f->base);
        assert_int_equal(mkdir(f->layout_path, 0755), 0);
        f->layoutfd = open(f->layout_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        th_put_file_at(f->layoutfd, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
        f->s = (struct image_store) IMAGE_STORE_INIT;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        if (store_open(f->store_path, &f->s, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        store_close(&f->s);
        close(f->layoutfd);
        th_rm_rf(f->base);
        free(f->base);
        free(f);
        return 0;
}

/* Layers given as tar entries; config diff_ids computed (or one made wrong on purpose); index.json
 * with the manifest under ref. */
struct layer_spec {
        const struct tent *e;
        size_t n;
        int filter;
};

static void make_layout(struct fx *f, const struct layer_spec *layers, size_t n, const char *ref, bool bad_diff_id,
                        struct digest *ret_manifest)
{
        char lay[4096] = "", ids[4096] = "";
        struct oci_platform host;
        oci_platform_host(&host);
        for (size_t i = 0; i < n; i++) {
                struct digest diff, blob;
                uint64_t size;
                int fd = th_layer(layers[i].e, layers[i].n, layers[i].filter, &diff);
                th_put_blob_fd(f->layoutfd, fd, &blob, &size);
                close(fd);
                if (bad_diff_id && i == n - 1)
                        assert_int_equal(digest_buffer("wrong", 5, &diff, NULL), 0);
                char bs[DIGEST_STRING_MAX], dsb[DIGEST_STRING_MAX];
                const char *mt = layers[i].filter == TH_GZIP ? "application/vnd.oci.image.layer.v1.tar+gzip"
                        : layers[i].filter == TH_ZSTD        ? "application/vnd.oci.image.layer.v1.tar+zstd"
                                                             : "application/vnd.oci.image.layer.v1.tar";
                snprintf(lay + strlen(lay), sizeof lay - strlen(lay),
                         "%s{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%llu}", i ? "," : "", mt,
                         digest_to_string(&blob, bs), (unsigned long long) size);
                snprintf(ids + strlen(ids), sizeof ids - strlen(ids), "%s\"%s\"", i ? "," : "",
                         digest_to_string(&diff, dsb));
        }
        char *config = NULL, *manifest = NULL, *index = NULL;
        assert_true(asprintf(&config,
                             "{\"architecture\":\"%s\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/bin/true\"],"
                             "\"WorkingDir\":\"/w\"},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[%s]}}",
                             host.architecture, ids) > 0);
        struct digest cd, md;
        th_put_blob(f->layoutfd, config, strlen(config), &cd);
        char cs[DIGEST_STRING_MAX], ms[DIGEST_STRING_MAX];
        assert_true(asprintf(&manifest,
                             "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\","
                             "\"digest\":\"%s\",\"size\":%zu},\"layers\":[%s]}",
                             OCI_MEDIA_TYPE_MANIFEST, OCI_MEDIA_TYPE_CONFIG, digest_to_string(&cd, cs), strlen(config),
                             lay) > 0);
        th_put_blob(f->layoutfd, manifest, strlen(manifest), &md);
        assert_true(asprintf(&index,
                             "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu,"
                             "\"annotations\":{\"org.opencontainers.image.ref.name\":\"%s\"}}]}",
                             OCI_MEDIA_TYPE_MANIFEST, digest_to_string(&md, ms), strlen(manifest), ref) > 0);
        th_put_file_at(f->layoutfd, "index.json", index);
        free(config), free(manifest), free(index);
        if (ret_manifest)
                *ret_manifest = md;
}

static size_t count_entries(const char *dir, const char *prefix)
{
        DIR *d = opendir(dir);
        assert_non_null(d);
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d)))
                if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
                        n++;
        closedir(d);
        return n;
}

/* ---- tests ---- */

static void opens_and_creates_layout(void **state)
{
        struct fx *f = *state;
        struct stat st;
        assert_int_equal(stat(f->store_path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0700);
        char p[1024];
        snprintf(p, sizeof p, "%s/blobs/sha256", f->store_path);
        assert_int_equal(stat(p, &st), 0);
        snprintf(p, sizeof p, "%s/rootfs", f->store_path);
        assert_int_equal(stat(p, &st), 0);
        /* a loose existing root is tightened */
        store_close(&f->s);
        assert_int_equal(chmod(f->store_path, 0755), 0);
        assert_int_equal(store_open(f->store_path, &f->s, NULL), 0);
        assert_int_equal(stat(f->store_path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0700);
        struct image_store other = IMAGE_STORE_INIT;
        assert_int_equal(store_open("relative/path", &other, NULL), -EINVAL);
}

static void default_paths(void **state)
{
        char *p = NULL;
        setenv("HUTCH_STORAGE", "/srv/hutch-store", 1);
        assert_int_equal(store_default_path(&p, NULL), 0);
        assert_string_equal(p, "/srv/hutch-store");
        free(p);
        setenv("HUTCH_STORAGE", "relative", 1);
        assert_int_equal(store_default_path(&p, NULL), -EINVAL);
        unsetenv("HUTCH_STORAGE");
        /* the per-user defaults, checked in a child running as nobody when we are root */
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                if (geteuid() == 0) {
                        assert_int_equal(store_default_path(&p, NULL), 0);
                        if (!streq(p, "/var/lib/hutch"))
                                _exit(10);
                        free(p);
                        if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
                                _exit(11);
                }
                setenv("XDG_DATA_HOME", "/xdg/data", 1);
                if (store_default_path(&p, NULL) < 0 || !streq(p, "/xdg/data/hutch"))
                        _exit(12);
                free(p);
                setenv("XDG_DATA_HOME", "not/absolute", 1);
                setenv("HOME", "/home/someone", 1);
                if (store_default_path(&p, NULL) < 0 || !streq(p, "/home/someone/.local/share/hutch"))
                        _exit(13);
                free(p);
                _exit(0);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

static void stores_blobs_verified(void **state)
{
        struct fx *f = *state;
        const char *data = "hello blob";
        struct digest d, other;
        assert_int_equal(digest_buffer(data, strlen(data), &d, NULL), 0);
        assert_int_equal(digest_buffer("x", 1, &other, NULL), 0);
        int fd = th_memfd();
        assert_int_equal(write_all(fd, data, strlen(data)), 0);
        /* wrong digest, short, long: nothing stored, no temp file left */
        _cleanup_herror_ struct herror err = HERROR_INIT;
        lseek(fd, 0, SEEK_SET);
        assert_int_equal(store_put_blob_fd(&f->s, fd, &other, strlen(data), &err), -EBADMSG);
        assert_non_null(strstr(herror_msg(&err), "digest did not match"));
        lseek(fd, 0, SEEK_SET);
        assert_int_equal(store_put_blob_fd(&f->s, fd, &d, strlen(data) + 1, &err), -EBADMSG);
        lseek(fd, 0, SEEK_SET);
        assert_int_equal(store_put_blob_fd(&f->s, fd, &d, strlen(data) - 1, &err), -EBADMSG);
        assert_non_null(strstr(herror_msg(&err), "larger than"));
        assert_false(store_has_blob(&f->s, &d));
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/blobs/sha256", f->store_path);
        assert_int_equal(count_entries(dir, ""), 2); /* "." and ".." */
        lseek(fd, 0, SEEK_SET);
        assert_int_equal(store_put_blob_fd(&f->s, fd, &d, strlen(data), &err), 0);
        close(fd);
        assert_true(store_has_blob(&f->s, &d));
        char *back = NULL;
        size_t len;
        assert_int_equal(store_read_blob(&f->s, &d, 100, &back, &len, NULL), 0);
        assert_int_equal(len, strlen(data));
        assert_memory_equal(back, data, len);
        free(back);
        /* tampering is noticed on read */
        char p[1200];
        snprintf(p, sizeof p, "%s/%s", dir, d.hex);
        th_write_file(dir, d.hex, "hello blub");
        assert_int_equal(store_read_blob(&f->s, &d, 100, &back, &len, &err), -EBADMSG);
        assert_int_equal(store_put_blob_data(&f->s, "abc", 3, &other, NULL), -EBADMSG);
        assert_int_equal(store_open_blob(&f->s, &other, NULL, &err), -ENOENT);
}

static void manages_refs(void **state)
{
        struct fx *f = *state;
        struct digest a, b, got;
        assert_int_equal(digest_buffer("a", 1, &a, NULL), 0);
        assert_int_equal(digest_buffer("b", 1, &b, NULL), 0);
        _cleanup_herror_ struct herror err = HERROR_INIT;
        assert_int_equal(store_ref_get(&f->s, "busybox", &got, &err), -ENOENT);
        assert_int_equal(store_ref_set(&f->s, "docker.io/library/busybox:latest", &a, NULL), 0);
        assert_int_equal(store_ref_set(&f->s, "alpine", &b, NULL), 0);
        assert_int_equal(store_ref_set(&f->s, "alpine", &a, NULL), 0); /* replaced */
        assert_int_equal(store_ref_get(&f->s, "alpine", &got, NULL), 0);
        assert_true(digest_equal(&got, &a));
        struct store_ref *refs;
        size_t n;
        assert_int_equal(store_ref_list(&f->s, &refs, &n, NULL), 0);
        assert_int_equal(n, 2);
        assert_string_equal(refs[0].name, "alpine");
        assert_string_equal(refs[1].name, "docker.io/library/busybox:latest");
        store_ref_list_free(refs, n);
        assert_int_equal(store_ref_remove(&f->s, "alpine", NULL), 0);
        assert_int_equal(store_ref_remove(&f->s, "alpine", NULL), -ENOENT);
        const char *bad[] = { "", "-x", "/abs", "a b", "a\nb", "sha256:abc", "x\"y" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (store_ref_set(&f->s, bad[i], &a, NULL) != -EINVAL)
                        fail_msg("ref name \"%s\" accepted", bad[i]);
        char longname[300];
        memset(longname, 'a', sizeof longname - 1);
        longname[sizeof longname - 1] = 0;
        assert_int_equal(store_ref_set(&f->s, longname, &a, NULL), -EINVAL);
        /* a name that carries a digest names only the image with that digest */
        char ds[DIGEST_STRING_MAX], dn[DIGEST_STRING_MAX + 32];
        snprintf(dn, sizeof dn, "localhost/x@%s", digest_to_string(&a, ds));
        assert_int_equal(store_ref_set(&f->s, dn, &b, &err), -EINVAL);
        assert_non_null(strstr(herror_msg(&err), "carries a digest that is not the image's"));
        herror_clear(&err);
        assert_int_equal(store_ref_get(&f->s, dn, &got, NULL), -ENOENT);
        assert_int_equal(store_ref_set(&f->s, dn, &a, NULL), 0);
        assert_int_equal(store_ref_get(&f->s, dn, &got, NULL), 0);
        assert_true(digest_equal(&got, &a));
        assert_int_equal(store_ref_set(&f->s, "localhost/x@sha256:abc", &a, NULL), -EINVAL);
        assert_int_equal(store_ref_remove(&f->s, dn, NULL), 0);
        /* resolve: by name, by digest (must be present) */
        assert_int_equal(store_resolve(&f->s, "docker.io/library/busybox:latest", &got, NULL), 0);
        assert_int_equal(store_resolve(&f->s, digest_to_string(&a, ds), &got, NULL), -ENOENT);
        assert_int_equal(store_resolve(&f->s, "sha256:../x", &got, NULL), -EINVAL);
        /* images without a name: recorded once, off the list when named, never listed when named */
        struct digest *un = NULL;
        size_t nu = 0;
        assert_int_equal(store_unnamed_add(&f->s, &b, NULL), 0);
        assert_int_equal(store_unnamed_add(&f->s, &b, NULL), 0);
        assert_int_equal(store_unnamed_add(&f->s, &a, NULL), 0); /* "docker.io/library/busybox:latest" names it */
        assert_int_equal(store_unnamed_list(&f->s, &un, &nu, NULL), 0);
        assert_int_equal(nu, 1);
        assert_true(digest_equal(&un[0], &b));
        free(un);
        assert_int_equal(store_ref_set(&f->s, "localhost/b", &b, NULL), 0);
        assert_int_equal(store_unnamed_list(&f->s, &un, &nu, NULL), 0);
        assert_int_equal(nu, 0);
        free(un);
        assert_int_equal(store_ref_remove(&f->s, "localhost/b", NULL), 0);
        assert_int_equal(store_unnamed_add(&f->s, &b, NULL), 0);
        assert_int_equal(store_unnamed_remove(&f->s, &b, NULL), 0);
        assert_int_equal(store_unnamed_remove(&f->s, &b, NULL), 0); /* not there: nothing to do */
        assert_int_equal(store_unnamed_list(&f->s, &un, &nu, NULL), 0);
        assert_int_equal(nu, 0);
        free(un);
        /* a corrupt refs.json is an error, not an empty store */
        int rfd = open(f->store_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        th_put_file_at(rfd, "refs.json", "{\"refs\":{},\"unnamed\":[\"sha256:../../etc\"]}");
        assert_int_equal(store_unnamed_list(&f->s, &un, &nu, &err), -EINVAL);
        herror_clear(&err);
        th_put_file_at(rfd, "refs.json", "{\"refs\":{\"x\":\"sha256:../../etc\"}}");
        assert_int_equal(store_ref_get(&f->s, "x", &got, &err), -EINVAL);
        /* a refs.json (written by hand, or by an older hutch) whose digested name points elsewhere */
        char doc[512];
        snprintf(doc, sizeof doc, "{\"refs\":{\"%s\":\"%s\"}}", dn, digest_to_string(&b, ds));
        th_put_file_at(rfd, "refs.json", doc);
        close(rfd);
        herror_clear(&err);
        assert_int_equal(store_ref_get(&f->s, dn, &got, &err), -EBADMSG);
        assert_non_null(strstr(herror_msg(&err), "not at its own digest"));
}

static void concurrent_ref_writers(void **state)
{
        struct fx *f = *state;
        enum { WRITERS = 6, EACH = 15 };
        for (int w = 0; w < WRITERS; w++) {
                pid_t pid = fork();
                assert_true(pid >= 0);
                if (pid == 0) {
                        struct image_store s = IMAGE_STORE_INIT;
                        if (store_open(f->store_path, &s, NULL) < 0)
                                _exit(1);
                        for (int i = 0; i < EACH; i++) {
                                char name[32];
                                struct digest d;
                                snprintf(name, sizeof name, "w%d-%d", w, i);
                                digest_buffer(name, strlen(name), &d, NULL);
                                if (store_ref_set(&s, name, &d, NULL) < 0)
                                        _exit(2);
                        }
                        store_close(&s);
                        _exit(0);
                }
        }
        for (int w = 0; w < WRITERS; w++) {
                int status;
                assert_true(wait(&status) > 0);
                assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        struct store_ref *refs;
        size_t n;
        assert_int_equal(store_ref_list(&f->s, &refs, &n, NULL), 0);
        assert_int_equal(n, WRITERS * EACH); /* no lost update */
        store_ref_list_free(refs, n);
}

static const struct tent base_layer[] = {
        { 'd', "etc", NULL, 0755 },
        { 'f', "etc/os-release", "ID=test\n" },
        { 'f', "data/gone", "g" },
        { 'f', "data/sub/old", "o" },
};
static const struct tent top_layer[] = {
        { 'f', "data/.wh.gone", "" },
        { 'f', "data/sub/.wh..wh..opq", "" },
        { 'f', "data/sub/new", "n" },
};

static void imports_and_unpacks(void **state)
{
        struct fx *f = *state;
        const struct layer_spec layers[] = { { base_layer, ELEMENTSOF(base_layer), TH_GZIP },
                                             { top_layer, ELEMENTSOF(top_layer), TH_ZSTD } };
        struct digest md;
        make_layout(f, layers, 2, "v1", false, &md);
        struct store_import imp;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        if (store_import_oci(&f->s, f->layoutfd, "v1", NULL, "test:v1", &imp, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        assert_true(digest_equal(&imp.manifest, &md));
        assert_string_equal(imp.ref_name, "v1");
        assert_int_equal(imp.n_layers, 2);
        store_import_done(&imp);
        struct digest got;
        assert_int_equal(store_resolve(&f->s, "test:v1", &got, NULL), 0);
        assert_true(digest_equal(&got, &md));
        struct image_run_config rc;
        if (store_read_run_config(&f->s, &md, &rc, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        assert_string_equal(rc.cmd[0], "/bin/true");
        assert_null(rc.cmd[1]);
        assert_string_equal(rc.working_dir, "/w");
        assert_null(rc.entrypoint);
        image_run_config_done(&rc);
        /* the layout can go away: the store has everything */
        th_rm_rf(f->layout_path);
        int fd = -1;
        bool created = false;
        if (rootfs_ensure(&f->s, &md, NULL, &fd, &created, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        assert_true(created);
        char *s = NULL;
        assert_int_equal(read_file_at(fd, "etc/os-release", 100, &s, NULL, NULL), 0);
        assert_string_equal(s, "ID=test\n");
        free(s);
        assert_int_equal(read_file_at(fd, "data/sub/new", 100, &s, NULL, NULL), 0);
        free(s);
        struct stat st1, st2;
        assert_int_equal(fstatat(fd, "data/gone", &st1, AT_SYMLINK_NOFOLLOW), -1);
        assert_int_equal(fstatat(fd, "data/sub/old", &st1, AT_SYMLINK_NOFOLLOW), -1);
        assert_int_equal(fstat(fd, &st1), 0);
        close(fd);
        /* a second call finds it */
        assert_int_equal(rootfs_ensure(&f->s, &md, NULL, &fd, &created, NULL), 0);
        assert_false(created);
        assert_int_equal(fstat(fd, &st2), 0);
        assert_int_equal(st1.st_ino, st2.st_ino);
        close(fd);
        char dir[1024], *path = NULL;
        snprintf(dir, sizeof dir, "%s/rootfs", f->store_path);
        assert_int_equal(count_entries(dir, md.hex), 1); /* no temp dir left */
        assert_int_equal(rootfs_path(&f->s, &md, &path, NULL), 0);
        assert_int_equal(stat(path, &st2), 0);
        assert_int_equal(rootfs_remove(&f->s, &md, NULL), 0);
        assert_int_equal(stat(path, &st2), -1);
        free(path);
}

static void import_refuses_tampered_layer(void **state)
{
        struct fx *f = *state;
        const struct layer_spec layers[] = { { base_layer, ELEMENTSOF(base_layer), TH_GZIP } };
        struct digest md;
        make_layout(f, layers, 1, "v1", false, &md);
        /* flip one byte of the layer blob, same size */
        struct oci_image img = { 0 };
        assert_int_equal(oci_layout_resolve(f->layoutfd, NULL, NULL, &img, NULL), 0);
        char p[128];
        snprintf(p, sizeof p, "blobs/sha256/%s", img.manifest.layers[0].digest.hex);
        struct digest layer = img.manifest.layers[0].digest;
        oci_image_done(&img);
        int fd = openat(f->layoutfd, p, O_RDWR | O_CLOEXEC);
        assert_true(fd >= 0);
        char ch;
        assert_int_equal(pread(fd, &ch, 1, 20), 1);
        ch ^= 1;
        assert_int_equal(pwrite(fd, &ch, 1, 20), 1);
        close(fd);
        _cleanup_herror_ struct herror err = HERROR_INIT;
        assert_int_equal(store_import_oci(&f->s, f->layoutfd, NULL, NULL, "bad", NULL, &err), -EBADMSG);
        assert_non_null(strstr(herror_msg(&err), "digest did not match"));
        assert_false(store_has_blob(&f->s, &layer));
        assert_false(store_has_blob(&f->s, &md));
        struct digest got;
        assert_int_equal(store_ref_get(&f->s, "bad", &got, NULL), -ENOENT);
        /* grown by a byte: the size check catches it before hashing */
        fd = openat(f->layoutfd, p, O_WRONLY | O_APPEND | O_CLOEXEC);
        assert_int_equal(write(fd, "x", 1), 1);
        close(fd);
        assert_int_equal(store_import_oci(&f->s, f->layoutfd, NULL, NULL, "bad", NULL, &err), -EBADMSG);
        assert_non_null(strstr(herror_msg(&err), "size"));
        assert_int_equal(store_import_oci(&f->s, f->layoutfd, NULL, NULL, "bad name", NULL, &err), -EINVAL);
}

static void rootfs_discarded_on_bad_diff_id(void **state)
{
        struct fx *f = *state;
        const struct layer_spec layers[] = { { base_layer, ELEMENTSOF(base_layer), TH_GZIP },
                                             { top_layer, ELEMENTSOF(top_layer), TH_NONE } };
        struct digest md;
        make_layout(f, layers, 2, "v1", true, &md);
        assert_int_equal(store_import_oci(&f->s, f->layoutfd, NULL, NULL, "x", NULL, NULL), 0);
        _cleanup_herror_ struct herror err = HERROR_INIT;
        int fd = -1;
        assert_int_equal(rootfs_ensure(&f->s, &md, NULL, &fd, NULL, &err), -EBADMSG);
        assert_non_null(strstr(herror_msg(&err), "layer 1"));
        assert_non_null(strstr(herror_msg(&err), "diff_id"));
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/rootfs", f->store_path);
        assert_int_equal(count_entries(dir, md.hex), 0); /* neither the rootfs nor a temp dir */
        /* a stale temp dir from a dead process is cleaned up by the next attempt */
        char stale[1200];
        snprintf(stale, sizeof stale, "%s/%s.tmp-deadbeef", dir, md.hex);
        assert_int_equal(mkdir(stale, 0700), 0);
        assert_int_equal(rootfs_ensure(&f->s, &md, NULL, &fd, NULL, &err), -EBADMSG);
        assert_int_equal(count_entries(dir, md.hex), 0);
}

static void lock_nests(void **state)
{
        struct fx *f = *state;
        assert_int_equal(store_lock(&f->s, NULL), 0);
        assert_int_equal(store_lock(&f->s, NULL), 0);
        int fd = f->s.lockfd;
        store_unlock(&f->s);
        assert_int_equal(f->s.lockfd, fd);
        /* another open file description cannot take it */
        char p[1024];
        snprintf(p, sizeof p, "%s/lock", f->store_path);
        int other = open(p, O_RDWR | O_CLOEXEC);
        assert_true(other >= 0);
        assert_int_equal(flock(other, LOCK_EX | LOCK_NB), -1);
        store_unlock(&f->s);
        assert_int_equal(f->s.lockfd, -1);
        assert_int_equal(flock(other, LOCK_EX | LOCK_NB), 0);
        close(other);
}

static int open_archive(struct fx *f, const char *dir, const char *flags)
{
        char cmd[2048], out[1024];
        snprintf(out, sizeof out, "%s/archive.tar", f->base);
        snprintf(cmd, sizeof cmd, "tar %s -C '%s' -f '%s' . 2>/dev/null", flags, dir, out);
        assert_int_equal(system(cmd), 0);
        int fd = open(out, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        return fd;
}

static void assert_tmp_empty(struct fx *f)
{
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/tmp", f->store_path);
        assert_int_equal(count_entries(dir, "import-"), 0);
}

static void imports_oci_archives(void **state)
{
        struct fx *f = *state;
        const struct layer_spec layers[] = { { base_layer, ELEMENTSOF(base_layer), TH_GZIP },
                                             { top_layer, ELEMENTSOF(top_layer), TH_NONE } };
        struct digest md, got;
        make_layout(f, layers, 2, "v1", false, &md);
        /* a leftover from an import that died is removed by the next one */
        char stale[1024];
        snprintf(stale, sizeof stale, "%s/tmp", f->store_path);
        assert_int_equal(mkdir(stale, 0700), 0);
        snprintf(stale, sizeof stale, "%s/tmp/import-dead0000", f->store_path);
        assert_int_equal(mkdir(stale, 0700), 0);
        const char *flags[] = { "-c", "-cz" };
        for (size_t i = 0; i < ELEMENTSOF(flags); i++) {
                int fd = open_archive(f, f->layout_path, flags[i]);
                struct store_import imp;
                _cleanup_herror_ struct herror err = HERROR_INIT;
                if (store_import_oci_archive(&f->s, fd, "v1", NULL, "arch", &imp, &err) < 0)
                        fail_msg("%s", herror_msg(&err));
                close(fd);
                assert_true(digest_equal(&imp.manifest, &md));
                store_import_done(&imp);
                assert_tmp_empty(f);
        }
        assert_int_equal(store_ref_get(&f->s, "arch", &got, NULL), 0);
        assert_true(digest_equal(&got, &md));
        int rfd;
        assert_int_equal(rootfs_ensure(&f->s, &md, NULL, &rfd, NULL, NULL), 0);
        struct stat st;
        assert_int_equal(fstatat(rfd, "data/sub/new", &st, 0), 0);
        close(rfd);
        /* an archive that is not a layout, and one with a hostile entry */
        char junk[1024];
        snprintf(junk, sizeof junk, "%s/junk", f->base);
        assert_int_equal(mkdir(junk, 0755), 0);
        th_write_file(junk, "hello", "x");
        int fd = open_archive(f, junk, "-c");
        _cleanup_herror_ struct herror err = HERROR_INIT;
        assert_int_equal(store_import_oci_archive(&f->s, fd, NULL, NULL, NULL, NULL, &err), -ENOENT);
        assert_non_null(strstr(herror_msg(&err), "oci-layout"));
        close(fd);
        const struct tent evil[] = { { 'f', "../outside", "x" } };
        fd = th_layer(evil, 1, TH_NONE, NULL);
        assert_int_equal(store_import_oci_archive(&f->s, fd, NULL, NULL, NULL, NULL, &err), -EPERM);
        assert_non_null(strstr(herror_msg(&err), "archive"));
        close(fd);
        assert_tmp_empty(f);
}

/* A docker save tree in dir: config, layers (the first as a legacy <id>/layer.tar symlink), and a
 * manifest.json whose Layers/Config can be overridden. */
static void make_docker_dir(struct fx *f, const char *dir, const char *layers_json, bool bad_diff_id)
{
        assert_int_equal(mkdir(dir, 0755), 0);
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct digest d1, d2;
        int l1 = th_layer(base_layer, ELEMENTSOF(base_layer), TH_NONE, &d1);
        int l2 = th_layer(top_layer, ELEMENTSOF(top_layer), TH_GZIP, &d2);
        size_t len;
        char *data = th_fd_contents(l1, &len);
        char name[128];
        snprintf(name, sizeof name, "%s.tar", d1.hex);
        int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_int_equal(write_all(fd, data, len), 0);
        close(fd);
        free(data);
        assert_int_equal(mkdirat(dfd, "legacy", 0755), 0);
        char target[200];
        snprintf(target, sizeof target, "../%s", name);
        assert_int_equal(symlinkat(target, dfd, "legacy/layer.tar"), 0);
        data = th_fd_contents(l2, &len);
        fd = openat(dfd, "top.tar.gz", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_int_equal(write_all(fd, data, len), 0);
        close(fd);
        free(data);
        close(l1);
        close(l2);
        if (bad_diff_id)
                assert_int_equal(digest_buffer("x", 1, &d1, NULL), 0);
        struct oci_platform host;
        oci_platform_host(&host);
        char *config = NULL, ds1[DIGEST_STRING_MAX], ds2[DIGEST_STRING_MAX];
        assert_true(asprintf(&config,
                             "{\"architecture\":\"%s\",\"os\":\"linux\",\"config\":{},\"rootfs\":{\"type\":\"layers\","
                             "\"diff_ids\":[\"%s\",\"%s\"]}}",
                             host.architecture, digest_to_string(&d1, ds1), digest_to_string(&d2, ds2)) > 0);
        th_put_file_at(dfd, "config.json", config);
        free(config);
        char *manifest = NULL;
        assert_true(asprintf(&manifest,
                             "[{\"Config\":\"config.json\",\"RepoTags\":[\"test:v1\",\"other:tag\"],\"Layers\":%s}]",
                             layers_json ? layers_json : "[\"legacy/layer.tar\",\"top.tar.gz\"]") > 0);
        th_put_file_at(dfd, "manifest.json", manifest);
        free(manifest);
        close(dfd);
}

static void imports_docker_archives(void **state)
{
        struct fx *f = *state;
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/docker", f->base);
        make_docker_dir(f, dir, NULL, false);
        int fd = open_archive(f, dir, "-c");
        struct store_import imp;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        if (store_import_docker_archive(&f->s, fd, "other:tag", NULL, "dock", &imp, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        close(fd);
        assert_string_equal(imp.ref_name, "test:v1");
        assert_int_equal(imp.n_layers, 2);
        assert_false(imp.platform_mismatch);
        struct digest md = imp.manifest, got;
        store_import_done(&imp);
        assert_tmp_empty(f);
        assert_int_equal(store_ref_get(&f->s, "dock", &got, NULL), 0);
        assert_true(digest_equal(&got, &md));
        int rfd;
        if (rootfs_ensure(&f->s, &md, NULL, &rfd, NULL, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        struct stat st;
        assert_int_equal(fstatat(rfd, "etc/os-release", &st, 0), 0);
        assert_int_equal(fstatat(rfd, "data/sub/new", &st, 0), 0);
        assert_int_equal(fstatat(rfd, "data/gone", &st, 0), -1);
        close(rfd);
        fd = open_archive(f, dir, "-c");
        assert_int_equal(store_import_docker_archive(&f->s, fd, "nope:tag", NULL, NULL, NULL, &err), -ENOENT);
        close(fd);
        /* the image is for the host: a --platform for another is refused, the host's own is fine */
        struct oci_platform other = { .os = "linux", .architecture = "s390x" }, host;
        oci_platform_host(&host);
        fd = open_archive(f, dir, "-c");
        herror_clear(&err);
        assert_int_equal(store_import_docker_archive(&f->s, fd, NULL, &other, NULL, NULL, &err), -ENOENT);
        assert_non_null(strstr(herror_msg(&err), "not for the platform asked for (linux/s390x)"));
        close(fd);
        assert_tmp_empty(f);
        fd = open_archive(f, dir, "-c");
        assert_int_equal(store_import_docker_archive(&f->s, fd, NULL, &host, NULL, NULL, NULL), 0);
        close(fd);
        /* every image of the archive, filtered: none for s390x */
        struct store_import *imps = NULL;
        size_t n = 99;
        fd = open_archive(f, dir, "-c");
        herror_clear(&err);
        assert_int_equal(store_import_archive(&f->s, fd, NULL, &other, NULL, NULL, NULL, &imps, &n, &err), -ENOENT);
        assert_non_null(strstr(herror_msg(&err), "none of its 1 images is for platform linux/s390x"));
        close(fd);
}

static void refuses_hostile_docker_archives(void **state)
{
        struct fx *f = *state;
        static const struct {
                const char *layers;
                int err;
                const char *msg;
        } cases[] = {
                { "[\"../../etc/passwd\",\"top.tar.gz\"]", EPERM, "\"..\"" },
                { "[\"/etc/passwd\",\"top.tar.gz\"]", EPERM, "absolute" },
                { "[\"abs-link\",\"top.tar.gz\"]", EXDEV, "leaves the root" },
                { "[\"rel-link\",\"top.tar.gz\"]", EXDEV, "leaves the root" },
                { "[\"legacy\",\"top.tar.gz\"]", EINVAL, "not a regular file" },
                { "[\"top.tar.gz\"]", EBADMSG, "diff_ids" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char dir[1024];
                snprintf(dir, sizeof dir, "%s/docker%zu", f->base, i);
                make_docker_dir(f, dir, cases[i].layers, false);
                char p[1100];
                snprintf(p, sizeof p, "%s/abs-link", dir);
                assert_int_equal(symlink("/etc/passwd", p), 0);
                snprintf(p, sizeof p, "%s/rel-link", dir);
                assert_int_equal(symlink("../../../../../../../../etc/passwd", p), 0);
                int fd = open_archive(f, dir, "-c");
                _cleanup_herror_ struct herror err = HERROR_INIT;
                int r = store_import_docker_archive(&f->s, fd, NULL, NULL, "x", NULL, &err);
                close(fd);
                if (r != -cases[i].err || !strstr(herror_msg(&err), cases[i].msg))
                        fail_msg("case %zu: %d %s", i, r, herror_msg(&err));
                assert_tmp_empty(f);
        }
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/docker-bad-diff", f->base);
        make_docker_dir(f, dir, NULL, true);
        int fd = open_archive(f, dir, "-c");
        _cleanup_herror_ struct herror err = HERROR_INIT;
        assert_int_equal(store_import_docker_archive(&f->s, fd, NULL, NULL, "x", NULL, &err), -EBADMSG);
        assert_non_null(strstr(herror_msg(&err), "diff_id"));
        close(fd);
        struct digest got;
        assert_int_equal(store_ref_get(&f->s, "x", &got, NULL), -ENOENT);
}

static void keeps_signatures(void **state)
{
        struct fx *f = *state;
        struct digest m;
        assert_int_equal(digest_buffer("manifest", 8, &m, NULL), 0);
        struct store_signature *got = NULL;
        size_t n = 99;
        assert_int_equal(store_sigs_list(&f->s, &m, &got, &n, NULL), 0);
        assert_int_equal(n, 0);
        store_signatures_free(got, n);

        struct store_signature in[] = {
                { .payload = (char *) "{\"a\":1}",
                  .payload_len = 7,
                  .signature_b64 = (char *) "c2ln",
                  .origin = (char *) "test" },
                { .payload = (char *) "{\"b\":2}", .payload_len = 7, .signature_b64 = (char *) "c2lnMg==" },
        };
        _cleanup_herror_ struct herror err = HERROR_INIT;
        if (store_sigs_add(&f->s, &m, in, 2, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        /* the same signature again is not a second one */
        assert_int_equal(store_sigs_add(&f->s, &m, in, 1, NULL), 0);
        assert_int_equal(store_sigs_list(&f->s, &m, &got, &n, NULL), 0);
        assert_int_equal(n, 2);
        assert_int_equal(got[0].payload_len, 7);
        assert_memory_equal(got[0].payload, "{\"a\":1}", 7);
        assert_string_equal(got[0].signature_b64, "c2ln");
        assert_string_equal(got[0].origin, "test");
        assert_null(got[1].origin);
        store_signatures_free(got, n);

        struct digest *pd = NULL;
        size_t npd = 0;
        assert_int_equal(store_sigs_payload_digests(&f->s, &pd, &npd, NULL), 0);
        assert_int_equal(npd, 2);
        free(pd);

        /* a payload blob changed on disk is an error, never a different signature */
        char p[1024];
        struct digest d0;
        assert_int_equal(digest_buffer("{\"a\":1}", 7, &d0, NULL), 0);
        snprintf(p, sizeof p, "%s/blobs/sha256/%s", f->store_path, d0.hex);
        assert_int_equal(chmod(p, 0600), 0);
        FILE *fp = fopen(p, "w");
        assert_non_null(fp);
        fputs("{\"a\":2}", fp);
        fclose(fp);
        herror_clear(&err);
        assert_true(store_sigs_list(&f->s, &m, &got, &n, &err) < 0);

        assert_int_equal(store_sigs_remove(&f->s, &m, NULL), 0);
        assert_int_equal(store_sigs_list(&f->s, &m, &got, &n, NULL), 0);
        assert_int_equal(n, 0);
        store_signatures_free(got, n);
}

struct cb_seen {
        int calls;
        bool had_index;
        int fail_with;
};

static int layout_seen(int layoutfd, const struct store_import *imp, void *userdata, struct herror *err)
{
        struct cb_seen *seen = userdata;
        struct stat st;
        seen->calls++;
        seen->had_index = fstatat(layoutfd, "index.json", &st, 0) == 0 && imp->n_layers == 2;
        return seen->fail_with ? herror_set(err, seen->fail_with, "callback refused") : 0;
}

static void imports_any_archive(void **state)
{
        struct fx *f = *state;
        const struct layer_spec layers[] = { { base_layer, ELEMENTSOF(base_layer), TH_GZIP },
                                             { top_layer, ELEMENTSOF(top_layer), TH_NONE } };
        struct digest md;
        make_layout(f, layers, 2, "v1", false, &md);
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct store_import *imps = NULL;
        size_t n = 0;
        enum store_archive_kind kind = _STORE_ARCHIVE_KIND_INVALID;
        struct cb_seen seen = { 0 };
        /* an oci-archive: one image, the callback sees the extracted layout before it goes */
        int fd = open_archive(f, f->layout_path, "-cz");
        if (store_import_archive(&f->s, fd, NULL, NULL, layout_seen, &seen, &kind, &imps, &n, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        close(fd);
        assert_int_equal(kind, STORE_ARCHIVE_OCI);
        assert_int_equal(n, 1);
        assert_true(digest_equal(&imps[0].manifest, &md));
        assert_int_equal(seen.calls, 1);
        assert_true(seen.had_index);
        store_imports_free(imps, n);
        struct digest got;
        assert_int_equal(store_ref_get(&f->s, "v1", &got, NULL), -ENOENT); /* names are the caller's */
        assert_tmp_empty(f);
        /* a failing callback fails the import, and still cleans up */
        seen = (struct cb_seen) { .fail_with = EBADMSG };
        fd = open_archive(f, f->layout_path, "-c");
        assert_int_equal(store_import_archive(&f->s, fd, NULL, NULL, layout_seen, &seen, &kind, &imps, &n, &err),
                         -EBADMSG);
        close(fd);
        assert_tmp_empty(f);

        /* a docker-archive with two images: both imported, each with its RepoTags */
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/docker", f->base);
        make_docker_dir(f, dir, NULL, false);
        th_write_file(
                dir, "manifest.json",
                "[{\"Config\":\"config.json\",\"RepoTags\":[\"a:1\",\"b:2\"],\"Layers\":[\"legacy/layer.tar\",\"top.tar.gz\"]},"
                "{\"Config\":\"config.json\",\"RepoTags\":null,\"Layers\":[\"legacy/layer.tar\",\"top.tar.gz\"]}]");
        seen = (struct cb_seen) { 0 };
        fd = open_archive(f, dir, "-c");
        herror_clear(&err);
        if (store_import_archive(&f->s, fd, NULL, NULL, layout_seen, &seen, &kind, &imps, &n, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        close(fd);
        assert_int_equal(kind, STORE_ARCHIVE_DOCKER);
        assert_int_equal(seen.calls, 0);
        assert_int_equal(n, 2);
        assert_string_equal(imps[0].repo_tags[0], "a:1");
        assert_string_equal(imps[0].repo_tags[1], "b:2");
        assert_null(imps[0].repo_tags[2]);
        assert_null(imps[1].repo_tags);
        assert_true(digest_equal(&imps[0].manifest, &imps[1].manifest));
        store_imports_free(imps, n);
        /* one picked by RepoTag */
        fd = open_archive(f, dir, "-c");
        assert_int_equal(store_import_archive(&f->s, fd, "b:2", NULL, NULL, NULL, &kind, &imps, &n, &err), 0);
        close(fd);
        assert_int_equal(n, 1);
        store_imports_free(imps, n);
        /* neither kind */
        char junk[1024];
        snprintf(junk, sizeof junk, "%s/junk", f->base);
        assert_int_equal(mkdir(junk, 0755), 0);
        th_write_file(junk, "hello", "x");
        fd = open_archive(f, junk, "-c");
        assert_int_equal(store_import_archive(&f->s, fd, NULL, NULL, NULL, NULL, &kind, &imps, &n, &err), -EINVAL);
        assert_non_null(strstr(herror_msg(&err), "docker-archive"));
        close(fd);
        assert_tmp_empty(f);
}

static bool blob_exists(struct fx *f, const struct digest *d)
{
        return store_has_blob(&f->s, d);
}

static void prunes_what_no_name_needs(void **state)
{
        struct fx *f = *state;
        const struct layer_spec one[] = { { base_layer, ELEMENTSOF(base_layer), TH_NONE } };
        const struct layer_spec two[] = { { top_layer, ELEMENTSOF(top_layer), TH_GZIP } };
        struct digest keep, drop;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        make_layout(f, one, 1, "keep", false, &keep);
        assert_int_equal(store_import_oci(&f->s, f->layoutfd, "keep", NULL, "keep", NULL, &err), 0);
        make_layout(f, two, 1, "drop", false, &drop);
        struct store_import imp;
        assert_int_equal(store_import_oci(&f->s, f->layoutfd, "drop", NULL, NULL, &imp, &err), 0);
        assert_int_equal(store_unnamed_add(&f->s, &drop, NULL), 0); /* as hutch load records it */
        struct digest drop_layer = { 0 }, keep_layer = { 0 };
        struct oci_manifest m = { 0 };
        struct oci_config c = { 0 };
        assert_int_equal(store_read_image(&f->s, &drop, &m, &c, NULL), 0);
        drop_layer = m.layers[0].digest;
        oci_manifest_done(&m), oci_config_done(&c);
        assert_int_equal(store_read_image(&f->s, &keep, &m, &c, NULL), 0);
        keep_layer = m.layers[0].digest;
        oci_manifest_done(&m), oci_config_done(&c);
        store_import_done(&imp);
        struct store_signature ks = { .payload = (char *) "{\"k\":1}",
                                      .payload_len = 7,
                                      .signature_b64 = (char *) "aw==" };
        struct store_signature ds_ = { .payload = (char *) "{\"d\":1}",
                                       .payload_len = 7,
                                       .signature_b64 = (char *) "ZA==" };
        assert_int_equal(store_sigs_add(&f->s, &keep, &ks, 1, NULL), 0);
        assert_int_equal(store_sigs_add(&f->s, &drop, &ds_, 1, NULL), 0);
        struct digest kp, dp;
        assert_int_equal(digest_buffer(ks.payload, 7, &kp, NULL), 0);
        assert_int_equal(digest_buffer(ds_.payload, 7, &dp, NULL), 0);
        int rfd;
        assert_int_equal(rootfs_ensure(&f->s, &drop, NULL, &rfd, NULL, NULL), 0);
        close(rfd);
        char p[1024];
        snprintf(p, sizeof p, "%s/blobs/sha256/.tmp-%s-0badf00d", f->store_path, drop.hex);
        assert_int_equal(close(open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)), 0);
        snprintf(p, sizeof p, "%s/rootfs/%s.tmp-deadbeef", f->store_path, keep.hex);
        assert_int_equal(mkdir(p, 0700), 0);

        struct store_prune_stats st;
        assert_int_equal(store_prune(&f->s, true, &st, &err), 0);
        assert_int_equal(st.blobs_removed, 4); /* drop's manifest, config, layer, signature payload */
        assert_int_equal(st.rootfs_removed, 1);
        assert_int_equal(st.sigs_removed, 1);
        assert_int_equal(st.leftovers_removed, 2);
        assert_int_equal(st.images_removed, 1);
        assert_true(blob_exists(f, &drop) && blob_exists(f, &dp)); /* a dry run removes nothing */
        struct digest *un = NULL;
        size_t nu = 0;
        assert_int_equal(store_unnamed_list(&f->s, &un, &nu, NULL), 0);
        assert_int_equal(nu, 1);
        free(un);

        if (store_prune(&f->s, false, &st, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        assert_int_equal(st.blobs_removed, 4);
        assert_int_equal(st.images_removed, 1);
        assert_int_equal(store_unnamed_list(&f->s, &un, &nu, NULL), 0);
        assert_int_equal(nu, 0);
        free(un);
        assert_false(blob_exists(f, &drop) || blob_exists(f, &drop_layer) || blob_exists(f, &dp));
        assert_true(blob_exists(f, &keep) && blob_exists(f, &keep_layer) && blob_exists(f, &kp));
        snprintf(p, sizeof p, "%s/blobs/sha256", f->store_path);
        assert_int_equal(count_entries(p, ".tmp-"), 0);
        snprintf(p, sizeof p, "%s/rootfs", f->store_path);
        assert_int_equal(count_entries(p, ""), 2); /* . and .. */
        struct store_signature *sigs = NULL;
        size_t n = 0;
        assert_int_equal(store_sigs_list(&f->s, &keep, &sigs, &n, NULL), 0);
        assert_int_equal(n, 1);
        store_signatures_free(sigs, n);
        assert_int_equal(store_sigs_list(&f->s, &drop, &sigs, &n, NULL), 0);
        assert_int_equal(n, 0);
        store_signatures_free(sigs, n);
        /* nothing more to do */
        assert_int_equal(store_prune(&f->s, false, &st, NULL), 0);
        assert_int_equal(st.blobs_removed + st.rootfs_removed + st.sigs_removed + st.leftovers_removed, 0);
        /* an unnamed image a container uses (its rootfs pinned) is kept whole, then goes once unused */
        assert_int_equal(store_import_oci(&f->s, f->layoutfd, "drop", NULL, NULL, NULL, &err), 0);
        assert_int_equal(store_unnamed_add(&f->s, &drop, NULL), 0);
        assert_int_equal(rootfs_ensure(&f->s, &drop, NULL, &rfd, NULL, NULL), 0);
        assert_int_equal(store_prune(&f->s, false, &st, NULL), 0);
        assert_int_equal(st.images_busy, 1);
        assert_int_equal(st.images_removed + st.blobs_removed + st.rootfs_removed, 0);
        assert_true(blob_exists(f, &drop) && blob_exists(f, &drop_layer));
        close(rfd);
        assert_int_equal(store_prune(&f->s, false, &st, NULL), 0);
        assert_int_equal(st.images_removed, 1);
        assert_int_equal(st.rootfs_removed, 1);
        assert_false(blob_exists(f, &drop) || blob_exists(f, &drop_layer));
        /* a named image that cannot be read stops the prune before anything goes */
        assert_int_equal(store_ref_set(&f->s, "broken", &drop, NULL), 0);
        assert_true(store_prune(&f->s, false, &st, &err) < 0);
        assert_true(blob_exists(f, &keep));
        assert_int_equal(f->s.lock_depth, 0);
}

/* A rootfs cache a container uses (an fd from rootfs_ensure() open) is not removed by rootfs_remove() or
 * store_prune(); once the fd is closed, it is. */
static void rootfs_in_use_is_kept(void **state)
{
        struct fx *f = *state;
        const struct layer_spec one[] = { { base_layer, ELEMENTSOF(base_layer), TH_NONE } };
        struct digest md;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        make_layout(f, one, 1, "v1", false, &md);
        assert_int_equal(store_import_oci(&f->s, f->layoutfd, "v1", NULL, "busy", NULL, &err), 0);
        int fd1 = -1, fd2 = -1;
        bool created;
        if (rootfs_ensure(&f->s, &md, NULL, &fd1, &created, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        assert_true(created);
        /* a second container of the same image shares it */
        assert_int_equal(rootfs_ensure(&f->s, &md, NULL, &fd2, &created, NULL), 0);
        assert_false(created);
        char path[1024];
        struct stat st;
        snprintf(path, sizeof path, "%s/rootfs/%s", f->store_path, md.hex);
        assert_int_equal(rootfs_remove(&f->s, &md, &err), -EBUSY);
        assert_non_null(strstr(herror_msg(&err), "in use by a running container"));
        herror_clear(&err);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(f->s.lock_depth, 0);
        /* unnamed now: prune keeps the tree while it is used, and says so */
        assert_int_equal(store_ref_remove(&f->s, "busy", NULL), 0);
        struct store_prune_stats ps;
        assert_int_equal(store_prune(&f->s, true, &ps, NULL), 0);
        assert_int_equal(ps.rootfs_removed, 0);
        assert_int_equal(ps.rootfs_busy, 1);
        if (store_prune(&f->s, false, &ps, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        assert_int_equal(ps.rootfs_busy, 1);
        assert_int_equal(ps.blobs_removed, 3);
        assert_int_equal(stat(path, &st), 0);
        char *s = NULL;
        assert_int_equal(read_file_at(fd1, "etc/os-release", 100, &s, NULL, NULL), 0);
        assert_string_equal(s, "ID=test\n");
        free(s);
        /* one user left is still a user */
        close(fd1);
        assert_int_equal(store_prune(&f->s, false, &ps, NULL), 0);
        assert_int_equal(ps.rootfs_busy, 1);
        close(fd2);
        if (store_prune(&f->s, false, &ps, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        assert_int_equal(ps.rootfs_busy, 0);
        assert_int_equal(ps.rootfs_removed, 1);
        assert_int_equal(stat(path, &st), -1);

        /* rootfs_remove() of a tree no one uses still works, and a later ensure unpacks again */
        make_layout(f, one, 1, "v1", false, &md);
        assert_int_equal(store_import_oci(&f->s, f->layoutfd, "v1", NULL, "again", NULL, &err), 0);
        assert_int_equal(rootfs_ensure(&f->s, &md, NULL, &fd1, &created, NULL), 0);
        close(fd1);
        assert_int_equal(rootfs_remove(&f->s, &md, NULL), 0);
        assert_int_equal(stat(path, &st), -1);
        assert_int_equal(rootfs_ensure(&f->s, &md, NULL, &fd1, &created, NULL), 0);
        assert_true(created);
        close(fd1);
        assert_int_equal(f->s.lock_depth, 0);
}

static void saves_archives(void **state)
{
        struct fx *f = *state;
        const struct layer_spec layers[] = { { base_layer, ELEMENTSOF(base_layer), TH_GZIP },
                                             { top_layer, ELEMENTSOF(top_layer), TH_NONE } };
        struct digest md;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        make_layout(f, layers, 2, "v1", false, &md);
        assert_int_equal(store_import_oci(&f->s, f->layoutfd, "v1", NULL, "v1", NULL, &err), 0);
        /* an extra artifact manifest whose "layers" are not image layers, saved beside the image */
        static const char cfg[] = "{}";
        struct digest cd;
        assert_int_equal(digest_buffer(cfg, 2, &cd, NULL), 0);
        char extra_manifest[512], cs[DIGEST_STRING_MAX];
        snprintf(extra_manifest, sizeof extra_manifest,
                 "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x/y\",\"digest\":\"%s\",\"size\":2},\"layers\":[]}",
                 digest_to_string(&cd, cs));
        struct save_blob extra[] = { { cfg, 2 }, { extra_manifest, strlen(extra_manifest) } };
        struct save_entry entries[2] = { { .manifest = md, .ref_name = "example.com/x:1" }, { .ref_name = "art" } };
        assert_int_equal(digest_buffer(extra_manifest, strlen(extra_manifest), &entries[1].manifest, NULL), 0);
        int out = th_memfd();
        if (store_save_oci_archive(&f->s, entries, 2, extra, 2, out, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        /* read back into another store: same manifest digest, and the artifact is in the layout */
        assert_int_equal(lseek(out, 0, SEEK_SET), 0);
        struct image_store s2 = IMAGE_STORE_INIT;
        char p[1024];
        snprintf(p, sizeof p, "%s/store2", f->base);
        assert_int_equal(store_open(p, &s2, NULL), 0);
        struct store_import imp;
        if (store_import_oci_archive(&s2, out, "example.com/x:1", NULL, NULL, &imp, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        assert_true(digest_equal(&imp.manifest, &md));
        store_import_done(&imp);
        assert_int_equal(lseek(out, 0, SEEK_SET), 0);
        assert_int_equal(store_import_oci_archive(&s2, out, "art", NULL, NULL, &imp, &err),
                         -EOPNOTSUPP); /* not runnable */
        store_close(&s2);
        close(out);
        /* a blob changed on disk is not exported */
        struct oci_manifest m = { 0 };
        struct oci_config c = { 0 };
        assert_int_equal(store_read_image(&f->s, &md, &m, &c, NULL), 0);
        snprintf(p, sizeof p, "%s/blobs/sha256/%s", f->store_path, m.layers[1].digest.hex);
        oci_manifest_done(&m), oci_config_done(&c);
        assert_int_equal(chmod(p, 0600), 0);
        int fd = open(p, O_WRONLY | O_CLOEXEC);
        assert_int_equal(pwrite(fd, "X", 1, 600), 1);
        close(fd);
        out = th_memfd();
        herror_clear(&err);
        assert_int_equal(store_save_oci_archive(&f->s, entries, 1, NULL, 0, out, &err), -EBADMSG);
        assert_non_null(strstr(herror_msg(&err), "does not match its digest"));
        close(out);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
        const struct CMUnitTest tests[] = {
                T(opens_and_creates_layout),
                cmocka_unit_test(default_paths),
                T(stores_blobs_verified),
                T(manages_refs),
                T(concurrent_ref_writers),
                T(imports_and_unpacks),
                T(import_refuses_tampered_layer),
                T(rootfs_discarded_on_bad_diff_id),
                T(lock_nests),
                T(imports_oci_archives),
                T(imports_docker_archives),
                T(refuses_hostile_docker_archives),
                T(keeps_signatures),
                T(imports_any_archive),
                T(prunes_what_no_name_needs),
                T(rootfs_in_use_is_kept),
                T(saves_archives),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
