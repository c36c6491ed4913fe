/* hutch load: import an image from an OCI image layout directory, an oci-archive (tar, tar.gz, tar.zst)
 * or a docker-archive (`docker save` / `podman save`) into the store, verifying every blob, keeping
 * the cosign signatures an OCI layout carries for it, and naming it by its normalised reference. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/image-common.h"
#include "image/store-sigs.h"
#include "trust/cosign-layout.h"
#include "trust/reference.h"
#include "util/log.h"

struct load {
        struct image_store store;
        const char *path;
        bool quiet;
        struct image_cli_progress progress;
        /* per image, from keep_signatures() */
        size_t sigs_kept;
        size_t sigs_without_signature;
};

/* cosign signs the digest a tag resolves to, so a multi-platform image (cosign save: kind imageIndex)
 * carries signatures of its index, not of the platform manifest hutch stores and verifies. They are not
 * kept (FORMATS.md 3.1: the manifest would have to be trusted through the signed index, which hutch does
 * not do); say so, or the user is left wondering where the signatures went. */
static void warn_index_signatures(const struct load *l, int layoutfd, const struct store_import *imp)
{
        if (digest_equal(&imp->selected, &imp->manifest))
                return;
        _cleanup_herror_ struct herror why = HERROR_INIT;
        char ds[DIGEST_STRING_MAX];
        struct sigstore_signature *found = NULL;
        size_t n = 0;
        if (cosign_layout_find_signatures(layoutfd, digest_to_string(&imp->selected, ds), &found, &n, &why) < 0)
                log_warn("%s: signatures of the image index %s not read: %s", l->path, ds, herror_msg(&why));
        else if (n)
                log_warn("%s: %zu signature(s) in the layout sign the image index %s, not the platform manifest: "
                         "hutch verifies signatures of the manifest it runs only, so they are not kept",
                         l->path, n, ds);
        sigstore_signatures_free(found, n);
}

/* store_layout_fn: the cosign signatures the layout holds for the imported manifest, kept beside it.
 * Artifacts that cannot be read fail the load (cosign-layout.h); a layer without a signature
 * annotation is no signature at all and is skipped. */
static int keep_signatures(int layoutfd, const struct store_import *imp, void *userdata, struct herror *err)
{
        struct load *l = userdata;
        char ds[DIGEST_STRING_MAX];
        struct sigstore_signature *found = NULL;
        size_t n = 0;
        l->sigs_kept = l->sigs_without_signature = 0;
        int r = cosign_layout_find_signatures(layoutfd, digest_to_string(&imp->manifest, ds), &found, &n, err);
        if (r < 0)
                return herror_wrap(err, "signatures for %s", ds);
        struct store_signature *keep = calloc(n ? n : 1, sizeof *keep);
        if (!keep) {
                sigstore_signatures_free(found, n);
                return herror_set(err, ENOMEM, "out of memory");
        }
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
                if (!found[i].signature_b64) {
                        l->sigs_without_signature++;
                        continue;
                }
                /* Borrowed: same fields, the store copies what it keeps. */
                keep[k++] = (struct store_signature) { .payload = found[i].payload,
                                                       .payload_len = found[i].payload_len,
                                                       .signature_b64 = found[i].signature_b64,
                                                       .origin = found[i].origin };
        }
        if (k)
                r = store_sigs_add(&l->store, &imp->manifest, keep, k, err);
        free(keep);
        sigstore_signatures_free(found, n);
        if (r < 0)
                return r;
        l->sigs_kept = k;
        warn_index_signatures(l, layoutfd, imp);
        return 0;
}

/* The names one imported image gets (normalised, NULL-terminated, possibly empty). */
/* The layout's canonical path, so a policy's "oci" transport section can apply to the image. */
static int keep_origin(struct load *l, const struct store_import *imp, struct herror *err)
{
        _cleanup_free_ char *real = realpath(l->path, NULL);
        if (!real)
                return herror_sys(err, errno, "%s", l->path);
        return store_origin_set(&l->store, &imp->manifest, real, err);
}

static int names_for(struct load *l, const struct store_import *imp, enum store_archive_kind kind, const char *name_opt,
                     char ***ret, struct herror *err)
{
        _cleanup_strv_ char **names = NULL;
        size_t n = 0, max = imp->repo_tags ? 0 : 1;
        for (char **t = imp->repo_tags; t && *t; t++)
                max++;
        if (!(names = calloc(max + 2, sizeof *names)))
                return herror_set(err, ENOMEM, "out of memory");
        char ds[DIGEST_STRING_MAX];
        digest_to_string(&imp->manifest, ds);
        if (name_opt) {
                if (!(names[n++] = strdup(name_opt)))
                        return herror_set(err, ENOMEM, "out of memory");
        } else if (kind == STORE_ARCHIVE_DOCKER) {
                for (char **t = imp->repo_tags; t && *t; t++) {
                        _cleanup_herror_ struct herror why = HERROR_INIT;
                        char *full = NULL;
                        if (image_cli_normalise_name(*t, &full, &why) < 0) {
                                char q[84];
                                log_warn("%s: RepoTag \"%s\" is not a valid name, ignored: %s", l->path,
                                         trust_quote(*t, q), herror_msg(&why));
                                continue;
                        }
                        names[n++] = full;
                }
                if (n == 0)
                        log_warn(
                                "%s: image %s has no RepoTags: stored by digest only; name it with 'hutch tag %s NAME' "
                                "(or load it with --name) before 'hutch run' can use it",
                                l->path, ds, ds);
        } else if (image_cli_is_registry_name(imp->ref_name)) {
                int r = image_cli_normalise_name(imp->ref_name, &names[n], err);
                if (r < 0)
                        return r;
                n++;
        } else {
                char q[84];
                if (imp->ref_name)
                        log_warn("%s: the image's ref.name \"%s\" is a tag, not a name: stored by digest only; name it "
                                 "with 'hutch tag %s NAME' (or load it with --name) before 'hutch run' can use it",
                                 l->path, trust_quote(imp->ref_name, q), ds);
                else
                        log_warn("%s: the image has no name: stored by digest only; name it with 'hutch tag %s NAME' "
                                 "(or load it with --name) before 'hutch run' can use it",
                                 l->path, ds);
        }
        *ret = TAKE_PTR(names);
        return 0;
}

static int load_usage(void)
{
        printf("Usage: hutch load [OPTIONS] [PATH[:REF]]\n\n"
               "Import an image into the store from an OCI image layout directory, an oci-archive\n"
               "(tar, tar.gz or tar.zst of a layout) or a docker-archive ('docker save', 'podman save').\n"
               "Without PATH (or with '-') the archive is read from standard input, as podman load does:\n"
               "  podman save IMAGE | hutch load\n"
               "Every blob is checked against its digest and size; cosign signatures found in an OCI\n"
               "layout for the image are kept beside it. REF picks a layout entry (its ref.name, or @N)\n"
               "or a docker-archive RepoTag; without it a layout must hold one image, and every image\n"
               "of a docker-archive is loaded. When PATH as given does not exist, it is split at the\n"
               "last ':' that leaves an existing PATH.\n\n"
               "Names are stored normalised (alpine -> docker.io/library/alpine:latest): --name, else the\n"
               "layout entry's ref.name when it is a full name with a registry, else the docker-archive's\n"
               "RepoTags. An image without a name is stored by digest only: 'hutch images' lists it as\n"
               "<none>, 'hutch tag' names it, 'hutch prune' removes it while no container uses it.\n\n"
               "Options:\n"
               "  -i, --input PATH[:REF]   read this instead of PATH ('-': standard input)\n"
               "  --name REF               store the image under this name\n"
               "  --platform OS/ARCH[/VAR] pick this platform: from a multi-platform image (default: the\n"
               "                           host), or the docker-archive images built for it (none: error)\n"
               "  --storage DIR            the image store (default: $HUTCH_STORAGE, else the user's store)\n"
               "  -q, --quiet              no progress line and no summary on stderr\n"
               "  -h, --help               show this help\n\n"
               "Prints 'Loaded image: NAME' for each name given (or 'Loaded image: sha256:DIGEST' for an image\n"
               "without a name), then 'Manifest digest: sha256:DIGEST' for each image.\n");
        return 0;
}

/* PATH[:REF]: the whole argument when it exists, else split at the last ':' that leaves an existing
 * PATH (a docker-archive's RepoTag has a ':' of its own: FILE:busybox:latest). Returns REF or NULL. */
static char *split_ref(char *path)
{
        struct stat st;
        if (stat(path, &st) == 0)
                return NULL;
        for (char *colon = strrchr(path, ':'); colon && colon != path;) {
                *colon = 0;
                if (stat(path, &st) == 0)
                        return colon[1] ? colon + 1 : NULL;
                char *prev = colon;
                *colon = ':';
                colon = NULL;
                for (char *p = prev - 1; p > path; p--)
                        if (*p == ':') {
                                colon = p;
                                break;
                        }
        }
        return NULL;
}

/* The input as an fd: the user's path (theirs to name; what is inside is untrusted and read only
 * through the layout reader and the archive extractor), or standard input. */
static int open_input(const char *path, bool from_stdin, struct stat *st, struct herror *err)
{
        _cleanup_close_ int fd = -1;
        if (from_stdin) {
                if (isatty(STDIN_FILENO))
                        return herror_set(err, EINVAL,
                                          "no input: give PATH or -i PATH, or pipe an archive to standard "
                                          "input (it is a terminal)");
                fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
        } else
                fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return herror_sys(err, errno, "%s", path);
        if (fstat(fd, st) < 0)
                return herror_sys(err, errno, "%s: stat", path);
        if (from_stdin ? !(S_ISREG(st->st_mode) || S_ISFIFO(st->st_mode) || S_ISSOCK(st->st_mode))
                       : !(S_ISDIR(st->st_mode) || S_ISREG(st->st_mode)))
                return herror_set(err, EINVAL,
                                  from_stdin ? "%s: not a file, pipe or socket"
                                             : "%s: neither a directory (OCI layout) nor a regular file (archive)",
                                  path);
        /* Archives are read with blocking reads (a pipe from `podman save` included). */
        int flags = S_ISDIR(st->st_mode) ? -1 : fcntl(fd, F_GETFL);
        if (flags >= 0 && (flags & O_NONBLOCK))
                (void) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
        return TAKE_FD(fd);
}

/* An OCI layout directory: imported in place, under the writers' lock. */
static int import_layout(struct load *l, int fd, const char *ref, const struct oci_platform *want,
                         struct store_import **ret, size_t *ret_n, struct herror *err)
{
        struct stat s2;
        if (fstatat(fd, "oci-layout", &s2, AT_SYMLINK_NOFOLLOW) < 0 &&
            fstatat(fd, "manifest.json", &s2, AT_SYMLINK_NOFOLLOW) == 0)
                return herror_set(err, EOPNOTSUPP,
                                  "a docker-archive must be loaded as the tar file 'docker save' wrote, not unpacked");
        struct store_import *imp = calloc(1, sizeof *imp);
        if (!imp)
                return herror_set(err, ENOMEM, "out of memory");
        int r = store_import_oci(&l->store, fd, ref, want, NULL, imp, err);
        if (r == 0)
                r = keep_signatures(fd, imp, l, err);
        if (r == 0)
                r = keep_origin(l, imp, err);
        if (r < 0) {
                store_imports_free(imp, 1);
                return r;
        }
        *ret = imp;
        *ret_n = 1;
        return 0;
}

/* Names last, under the writers' lock: a name never points at an image whose blobs or signatures are not
 * all stored. An image that gets no name is recorded as unnamed. */
static int name_images(struct load *l, struct store_import *imps, size_t n, enum store_archive_kind kind,
                       const char *name, bool have_platform, char ***loaded, struct herror *err)
{
        int r = 0;
        for (size_t i = 0; r == 0 && i < n; i++) {
                _cleanup_strv_ char **names = NULL;
                bool named_elsewhere = false; /* the same image listed again with RepoTags */
                for (size_t j = 0; !name && !imps[i].repo_tags && j < n; j++)
                        named_elsewhere |=
                                j != i && imps[j].repo_tags && digest_equal(&imps[j].manifest, &imps[i].manifest);
                if (named_elsewhere)
                        continue;
                r = names_for(l, &imps[i], kind, name, &names, err);
                for (size_t k = 0; r == 0 && names[k]; k++) {
                        r = store_ref_set(&l->store, names[k], &imps[i].manifest, err);
                        if (r == 0 && strv_push(loaded, names[k]) < 0)
                                r = herror_set(err, ENOMEM, "out of memory");
                }
                char ds[DIGEST_STRING_MAX];
                if (r == 0 && !names[0]) {
                        r = store_unnamed_add(&l->store, &imps[i].manifest, err);
                        if (r == 0 && strv_push(loaded, digest_to_string(&imps[i].manifest, ds)) < 0)
                                r = herror_set(err, ENOMEM, "out of memory");
                }
                if (r == 0 && imps[i].platform_mismatch)
                        log_warn("%s: image %s is built for another platform than %s", l->path,
                                 digest_to_string(&imps[i].manifest, ds),
                                 have_platform ? "the one asked for" : "this machine");
        }
        return r;
}

static void print_loaded(char **loaded, const struct store_import *imps, size_t n)
{
        for (size_t i = 0; loaded && loaded[i]; i++)
                printf("Loaded image: %s\n", loaded[i]);
        for (size_t i = 0; i < n; i++) {
                char ds[DIGEST_STRING_MAX];
                bool seen = false;
                for (size_t j = 0; j < i; j++)
                        seen |= digest_equal(&imps[j].manifest, &imps[i].manifest);
                if (!seen)
                        printf("Manifest digest: %s\n", digest_to_string(&imps[i].manifest, ds));
        }
}

/* Open the input, extract an archive (without the writers' lock: a slow pipe stops no one), then import
 * and name under the lock. */
static int load_run(struct load *l, int fd, const struct stat *st, const char *ref, const struct oci_platform *want,
                    const char *name, struct herror *err)
{
        struct store_import *imps = NULL;
        size_t n = 0;
        enum store_archive_kind kind = STORE_ARCHIVE_OCI;
        struct store_extracted x = STORE_EXTRACTED_INIT;
        _cleanup_strv_ char **loaded = NULL; /* what "Loaded image:" reports: the names, or the digest */
        int r = S_ISDIR(st->st_mode) ? 0 : store_archive_extract(&l->store, fd, &x, err);
        if (r == 0)
                r = store_lock(&l->store, err);
        if (r == 0) {
                if (S_ISDIR(st->st_mode))
                        r = import_layout(l, fd, ref, want, &imps, &n, err);
                else
                        r = store_import_extracted(&l->store, &x, ref, want, keep_signatures, l, &kind, &imps, &n, err);
                image_cli_progress_clear(&l->progress);
                if (r == 0 && name && n != 1)
                        r = herror_set(err, EINVAL,
                                       "--name names one image, but the archive holds %zu: pick one with PATH:TAG", n);
                if (r == 0)
                        r = name_images(l, imps, n, kind, name, want != NULL, &loaded, err);
                store_unlock(&l->store);
        }
        image_cli_progress_clear(&l->progress);
        store_extracted_done(&x);
        if (r == 0) {
                print_loaded(loaded, imps, n);
                if (!l->quiet && kind == STORE_ARCHIVE_OCI && n == 1)
                        fprintf(stderr, "Signatures kept: %zu%s\n", l->sigs_kept,
                                l->sigs_without_signature ? " (and signature layers without a signature skipped)" : "");
        }
        store_imports_free(imps, n);
        return r;
}

int cmd_load(int argc, char **argv)
{
        static const struct option opts[] = {
                { "input", required_argument, NULL, 'i' },
                { "name", required_argument, NULL, 'n' },
                { "platform", required_argument, NULL, 'p' },
                { "storage", required_argument, NULL, 's' },
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *name_arg = NULL, *storage = NULL, *input = NULL;
        struct oci_platform platform;
        bool have_platform = false;
        struct load l = { .store = IMAGE_STORE_INIT };
        _cleanup_herror_ struct herror err = HERROR_INIT;
        int c;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "i:qh", opts, NULL)) != -1) {
                switch (c) {
                case 'i':
                        input = optarg;
                        break;
                case 'n':
                        name_arg = optarg;
                        break;
                case 'p':
                        if (oci_platform_parse(optarg, &platform, &err) < 0)
                                return cli_usage_error("hutch load", "--platform: %s", herror_msg(&err));
                        have_platform = true;
                        break;
                case 's':
                        storage = optarg;
                        break;
                case 'q':
                        l.quiet = true;
                        break;
                case 'h':
                        return load_usage();
                default:
                        return cli_bad_option("hutch load", argc, argv);
                }
        }
        if (argc - optind > 1 || (input && optind < argc))
                return cli_usage_error("hutch load", "needs one input: PATH[:REF], -i PATH[:REF], or standard input");
        if (!input)
                input = optind < argc ? argv[optind] : "-";
        _cleanup_free_ char *name = NULL;
        if (name_arg && image_cli_normalise_name(name_arg, &name, &err) < 0)
                return cli_usage_error("hutch load", "--name: %s", herror_msg(&err));

        bool from_stdin = streq(input, "-");
        _cleanup_free_ char *path = strdup(from_stdin ? "stdin" : input);
        if (!path)
                return cli_fail(&(struct herror) { ENOMEM, (char *) "out of memory" });
        char *ref = from_stdin ? NULL : split_ref(path);
        l.path = path;
        struct stat st;
        _cleanup_close_ int fd = open_input(path, from_stdin, &st, &err);
        if (fd < 0)
                return cli_fail(&err);
        if (image_cli_open_store(storage, &l.store, &err) < 0)
                return cli_fail(&err);
        image_cli_progress_init(&l.progress, l.quiet);
        image_cli_progress_store(&l.progress, &l.store);
        int r = load_run(&l, fd, &st, ref, have_platform ? &platform : NULL, name, &err);
        store_close(&l.store);
        if (r < 0) {
                herror_wrap(&err, "%s", path);
                return cli_fail(&err);
        }
        return 0;
}
