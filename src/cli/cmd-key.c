/* hutch key generate: an ECDSA P-256 key pair for `hutch sign`, as `cosign generate-key-pair` makes one
 * (but the private key in standard encrypted PKCS#8, which openssl reads too). See hutch-trust(1). */
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/trust-cli.h"
#include "trust/keys.h"
#include "trust/signer.h"
#include "util/fileio.h"
#include "util/log.h"

#define KEY_PREFIX_DEFAULT "hutch"
#define KEY_PREFIX_MAX 4000

static int key_usage(void)
{
        printf("Usage: hutch key generate [--output-key-prefix PREFIX] [--no-password]\n\n"
               "Generate an ECDSA P-256 key pair for 'hutch sign': PREFIX.key, the private key as encrypted\n"
               "PKCS#8 PEM (mode 0600), and PREFIX.pub, the public key as PEM SubjectPublicKeyInfo (mode 0644),\n"
               "which a policy's keyPath names. Existing files are never overwritten. The passphrase comes from\n"
               "$%s, else it is asked twice on the terminal. See hutch-trust(1).\n\n"
               "  --output-key-prefix PREFIX  file name prefix, may include a directory (default '%s')\n"
               "  --no-password               write the private key unencrypted (not recommended)\n"
               "  -h, --help                  show this help\n",
               PASSPHRASE_ENV, KEY_PREFIX_DEFAULT);
        return 0;
}

struct key_files {
        int dirfd;
        const char *dir;
        char key_name[NAME_MAX + 1];
        char pub_name[NAME_MAX + 1];
        char key_path[PATH_MAX];
        char pub_path[PATH_MAX];
};

static int key_files_init(const char *prefix, struct key_files *f, struct herror *err)
{
        if (!prefix[0] || strlen(prefix) > KEY_PREFIX_MAX || prefix[strlen(prefix) - 1] == '/')
                return herror_set(err, EINVAL, "--output-key-prefix '%s': expected a file name prefix", prefix);
        _cleanup_free_ char *d = strdup(prefix), *b = strdup(prefix);
        if (!d || !b)
                return herror_set(err, ENOMEM, "out of memory");
        const char *base = basename(b);
        if (strlen(base) + 5 > NAME_MAX)
                return herror_set(err, ENAMETOOLONG, "--output-key-prefix '%s': name too long", prefix);
        snprintf(f->key_name, sizeof f->key_name, "%s.key", base);
        snprintf(f->pub_name, sizeof f->pub_name, "%s.pub", base);
        snprintf(f->key_path, sizeof f->key_path, "%s.key", prefix);
        snprintf(f->pub_path, sizeof f->pub_path, "%s.pub", prefix);
        const char *dir = dirname(d);
        f->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (f->dirfd < 0)
                return herror_sys(err, errno, "%s: cannot open the directory for the keys", dir);
        return 0;
}

static int check_absent(int dirfd, const char *name, const char *path, struct herror *err)
{
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                return herror_set(err, EEXIST,
                                  "%s: already exists; not overwritten (remove it or pick another "
                                  "--output-key-prefix)",
                                  path);
        if (errno != ENOENT)
                return herror_sys(err, errno, "%s", path);
        return 0;
}

static int key_generate(const char *prefix, bool no_password, struct herror *err)
{
        struct key_files f = { .dirfd = -1 };
        int r = key_files_init(prefix, &f, err);
        _cleanup_close_ int dirfd = f.dirfd;
        if (r < 0)
                return r;
        if ((r = check_absent(dirfd, f.key_name, f.key_path, err)) < 0 ||
            (r = check_absent(dirfd, f.pub_name, f.pub_path, err)) < 0)
                return r;
        _cleanup_passphrase_ char *pass = NULL;
        if (!no_password) {
                if ((r = passphrase_get("Enter a passphrase for the private key: ", true, &pass, err)) < 0)
                        return r;
                if (!pass[0])
                        return herror_set(err, EINVAL,
                                          "refusing an empty passphrase: give one (or $%s), or "
                                          "--no-password to write the private key unencrypted",
                                          PASSPHRASE_ENV);
        }
        _cleanup_free_ char *priv = NULL, *pub = NULL;
        if ((r = trust_keypair_generate(pass, &priv, &pub, err)) < 0)
                return r;
        _cleanup_trust_key_ struct trust_key *k = NULL;
        if ((r = trust_key_from_pem(pub, strlen(pub), f.pub_path, &k, err)) < 0)
                return r;
        r = atomic_create_at(dirfd, f.key_name, priv, strlen(priv), 0600, err);
        explicit_bzero(priv, strlen(priv));
        if (r < 0)
                return herror_wrap(err, "%s", f.key_path);
        if ((r = atomic_create_at(dirfd, f.pub_name, pub, strlen(pub), 0644, err)) < 0) {
                /* Never leave half a key pair. */
                unlinkat(dirfd, f.key_name, 0);
                return herror_wrap(err, "%s", f.pub_path);
        }
        if (no_password)
                log_warn("%s is NOT encrypted: anyone who can read it can sign images as you", f.key_path);
        printf("Private key written to %s\nPublic key written to %s\nKey fingerprint: %s\n", f.key_path, f.pub_path,
               trust_key_id(k));
        return 0;
}

int cmd_key(int argc, char **argv)
{
        static const struct option opts[] = { { "output-key-prefix", required_argument, NULL, 'o' },
                                              { "no-password", no_argument, NULL, 'n' },
                                              { "help", no_argument, NULL, 'h' },
                                              {} };
        if (argc < 2)
                return cli_usage_error("hutch key", "expected a subcommand: generate");
        if (streq(argv[1], "--help") || streq(argv[1], "-h"))
                return key_usage();
        if (!streq(argv[1], "generate"))
                return cli_usage_error("hutch key", "unknown subcommand '%s' (expected generate)", argv[1]);
        argc--;
        argv++;
        const char *prefix = KEY_PREFIX_DEFAULT;
        bool no_password = false;
        int c;
        opterr = 0;
        optind = 0;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (c) {
                case 'o':
                        prefix = optarg;
                        break;
                case 'n':
                        no_password = true;
                        break;
                case 'h':
                        return key_usage();
                default:
                        return cli_bad_option("hutch key", argc, argv);
                }
        }
        if (optind < argc)
                return cli_usage_error("hutch key", "generate takes no arguments, got '%s'", argv[optind]);
        _cleanup_herror_ struct herror err = HERROR_INIT;
        if (key_generate(prefix, no_password, &err) < 0)
                return cli_fail(&err);
        return 0;
}
