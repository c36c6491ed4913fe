/* hutch save: one stored image as an oci-archive, with the signatures kept for it as a cosign
 * "sha256-<hex>.sig" artifact in the same layout, so that `hutch load` of the file gets them back.
 * The file appears only complete: written to a temp file beside it, synced, renamed over it. */
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/image-common.h"
#include "image/save.h"
#include "image/store-sigs.h"
#include "trust/cosign-layout.h"
#include "util/fileio.h"
#include "util/log.h"

static int save_usage(void)
{
        printf("Usage: hutch save [OPTIONS] -o FILE IMAGE\n\n"
               "Write a stored image as an oci-archive (a tar of an OCI image layout). The index.json\n"
               "entry is named after IMAGE's full name; the signatures kept for the image go along as a\n"
               "cosign signature artifact (ref.name sha256-<hex>.sig), so 'hutch load FILE' keeps them.\n"
               "The manifest is copied byte for byte: its digest, which signatures bind, is unchanged.\n"
               "Every blob is re-hashed on the way out. FILE appears only when complete.\n\n"
               "Options:\n"
               "  -o, --output FILE   the archive to write (replaced if it exists); '-': standard output\n"
               "                      (a stream, not written atomically; refused on a terminal)\n"
               "  --storage DIR       the image store (default: $HUTCH_STORAGE, else the user's store)\n"
               "  -h, --help          show this help\n");
        return 0;
}

/* A temp file ".NAME.XXXXXX" in FILE's directory. The user chose FILE: plain path calls. */
static int open_temp_beside(const char *file, char **ret_tmp, struct herror *err)
{
        _cleanup_free_ char *copy1 = strdup(file), *copy2 = strdup(file);
        if (!copy1 || !copy2)
                return herror_set(err, ENOMEM, "out of memory");
        const char *dir = dirname(copy1), *base = basename(copy2);
        for (int attempt = 0; attempt < 100; attempt++) {
                uint32_t rnd;
                if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd)
                        rnd = (uint32_t) getpid() ^ (uint32_t) attempt;
                char *tmp = NULL;
                if (asprintf(&tmp, "%s/.%s.%08x", dir, base, rnd) < 0)
                        return herror_set(err, ENOMEM, "out of memory");
                int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
                if (fd >= 0) {
                        *ret_tmp = tmp;
                        return fd;
                }
                int e = errno;
                free(tmp);
                if (e != EEXIST)
                        return herror_sys(err, e, "%s: create a temporary file beside it", file);
        }
        return herror_set(err, EEXIST, "%s: no free temporary name", file);
}

static int save_image(struct image_store *s, const char *user, const char *out, struct herror *err)
{
        struct digest md;
        _cleanup_free_ char *name = NULL;
        int r = image_cli_resolve(s, user, &md, &name, err);
        if (r < 0)
                return r;
        if (!name) { /* named by digest: the image's one name, if it has exactly one */
                _cleanup_strv_ char **names = NULL;
                if ((r = image_cli_names_of(s, &md, &names, err)) < 0)
                        return r;
                if (names[0] && !names[1])
                        name = TAKE_PTR(names[0]);
        }
        struct store_signature *stored = NULL;
        size_t n = 0;
        if ((r = store_sigs_list(s, &md, &stored, &n, err)) < 0)
                return r;
        char ds[DIGEST_STRING_MAX];
        digest_to_string(&md, ds);
        struct save_entry entries[2] = { { .manifest = md, .ref_name = name } };
        size_t n_entries = 1, n_extra = 0;
        _cleanup_free_ char *sig_manifest = NULL, *sig_config = NULL, *sig_tag = NULL;
        struct save_blob *extra = calloc(n + 2, sizeof *extra);
        struct sigstore_signature *sigs = calloc(n ? n : 1, sizeof *sigs);
        if (!extra || !sigs)
                r = herror_set(err, ENOMEM, "out of memory");
        if (r == 0 && n > 0) {
                for (size_t i = 0; i < n; i++) {
                        sigs[i] = (struct sigstore_signature) { .payload = stored[i].payload,
                                                                .payload_len = stored[i].payload_len,
                                                                .signature_b64 = stored[i].signature_b64,
                                                                .origin = stored[i].origin };
                        extra[n_extra++] = (struct save_blob) { stored[i].payload, stored[i].payload_len };
                }
                r = cosign_signature_artifact(ds, sigs, n, &sig_manifest, &sig_config, &sig_tag, err);
                if (r == 0) {
                        extra[n_extra++] = (struct save_blob) { sig_config, strlen(sig_config) };
                        extra[n_extra++] = (struct save_blob) { sig_manifest, strlen(sig_manifest) };
                        r = digest_buffer(sig_manifest, strlen(sig_manifest), &entries[1].manifest, err);
                        entries[1].ref_name = sig_tag;
                        n_entries = 2;
                }
        }
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;
        bool to_stdout = streq(out, "-");
        if (r == 0 && !to_stdout && (fd = open_temp_beside(out, &tmp, err)) < 0)
                r = fd;
        /* Under the writers' lock: a prune cannot take blobs away halfway. */
        if (r == 0 && (r = store_lock(s, err)) == 0) {
                r = store_save_oci_archive(s, entries, n_entries, extra, n_extra, to_stdout ? STDOUT_FILENO : fd, err);
                store_unlock(s);
        }
        if (to_stdout) {
                /* a stream: what a reader got before an error is a truncated tar, and the exit status says so */
                if (r < 0)
                        herror_wrap(err, "standard output (the archive written there is incomplete)");
        } else if (r == 0 && fsync(fd) < 0)
                r = herror_sys(err, errno, "%s: fsync", tmp);
        if (r == 0 && !to_stdout && rename(tmp, out) < 0)
                r = herror_sys(err, errno, "%s: rename into place", out);
        if (r == 0 && !to_stdout) {
                _cleanup_free_ char *copy = strdup(out);
                if (copy)
                        (void) fsync_dir_at(AT_FDCWD, dirname(copy));
        } else if (tmp)
                unlink(tmp);
        free(extra);
        free(sigs);
        store_signatures_free(stored, n);
        return r;
}

int cmd_save(int argc, char **argv)
{
        static const struct option opts[] = {
                { "output", required_argument, NULL, 'o' },
                { "storage", required_argument, NULL, 's' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *out = NULL, *storage = NULL;
        int c;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
                switch (c) {
                case 'o':
                        out = optarg;
                        break;
                case 's':
                        storage = optarg;
                        break;
                case 'h':
                        return save_usage();
                default:
                        return cli_bad_option("hutch save", argc, argv);
                }
        }
        if (!out)
                return cli_usage_error("hutch save", "needs -o FILE");
        if (streq(out, "-") && isatty(STDOUT_FILENO))
                return cli_usage_error("hutch save",
                                       "-o -: standard output is a terminal; redirect it to a file or a pipe");
        if (optind != argc - 1)
                return cli_usage_error("hutch save", "needs exactly one IMAGE");
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct image_store s = IMAGE_STORE_INIT;
        if (image_cli_open_store(storage, &s, &err) < 0)
                return cli_fail(&err);
        int r = save_image(&s, argv[optind], out, &err);
        store_close(&s);
        if (r < 0) {
                herror_wrap(&err, "save %s", argv[optind]);
                return cli_fail(&err);
        }
        return 0;
}
