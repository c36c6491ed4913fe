/* hutch sign: a cosign-compatible signature for a stored image, kept beside it in the store (and, on
 * request, written out as DER + payload files that `openssl dgst -sha256 -verify` checks alone); or
 * an externally made signature attached as it is (like `cosign attach signature`). Signatures are
 * only stored here: `hutch verify` and `hutch run` verify them under the policy. See hutch-trust(1). */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/image-trust.h"
#include "cli/trust-cli.h"
#include "image/store-sigs.h"
#include "trust/signer.h"
#include "trust/sigstore.h"
#include "util/fileio.h"
#include "util/log.h"

#define SIGN_ORIGIN "hutch sign"
#define ATTACH_ORIGIN "hutch sign --signature"
#define SIGNATURE_FILE_MAX (64u * 1024)

struct sign_opts {
        const char *key;
        const char *storage;
        const char *identity;
        const char *output_signature;
        const char *output_payload;
        const char *signature;
        const char *payload;
        const char *image;
};

static int sign_usage(void)
{
        printf("Usage: hutch sign --key PRIVATE-KEY [OPTIONS] IMAGE\n"
               "       hutch sign --signature SIGNATURE --payload PAYLOAD [--storage DIR] IMAGE\n\n"
               "Sign a stored image the way cosign does: a simple-signing payload naming the image's manifest\n"
               "digest and its name (critical.identity.docker-reference), signed with the private key from\n"
               "'hutch key generate' (ECDSA SHA-256, DER), kept beside the image in the store. The passphrase comes\n"
               "from $%s, else it is asked on the terminal. The second form attaches a signature made elsewhere\n"
               "(base64 as cosign writes it, or raw DER bytes) over the exact PAYLOAD bytes; nothing is checked\n"
               "then: 'hutch verify' and 'hutch run' verify every signature under the policy. See hutch-trust(1).\n\n"
               "  --key FILE               the private key (PKCS#8 PEM, encrypted or not)\n"
               "  --identity REF           sign this reference instead of the image's stored name\n"
               "  --output-signature FILE  also write the signature (DER) to FILE\n"
               "  --output-payload FILE    also write the signed payload to FILE\n"
               "  --signature FILE         attach this signature (base64 or DER) ...\n"
               "  --payload FILE           ... made over this payload\n"
               "  --storage DIR            the image store (default: $HUTCH_STORAGE, else the per-user store)\n"
               "  -h, --help               show this help\n",
               PASSPHRASE_ENV);
        return 0;
}

/* --identity as the payload must carry it: the normalised reference ("busybox" ->
 * "docker.io/library/busybox"; a name without a tag stays without one, as cosign signs). */
static int normalise_identity(const char *s, char **ret, struct herror *err)
{
        _cleanup_ref_ struct image_ref ref = { 0 };
        int r = ref_parse_normalized(s, &ref, err);
        if (r < 0)
                return herror_wrap(err, "--identity");
        if (!(*ret = ref_format_full(&ref)))
                return herror_set(err, ENOMEM, "out of memory");
        return 0;
}

/* Write an output file; the name may include directories. */
static int write_output(const char *path, const void *data, size_t len, struct herror *err)
{
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return herror_set(err, ENOMEM, "out of memory");
        char *slash = strrchr(copy, '/');
        const char *dir = ".", *name = copy;
        if (slash) {
                *slash = 0;
                dir = slash == copy ? "/" : copy;
                name = slash + 1;
        }
        if (!name[0])
                return herror_set(err, EINVAL, "%s: expected a file name", path);
        _cleanup_close_ int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return herror_sys(err, errno, "%s: cannot open directory %s", path, dir);
        int r = atomic_write_at(dirfd, name, data, len, 0644, err);
        return r < 0 ? herror_wrap(err, "%s", path) : 0;
}

static int load_signer(const char *path, struct trust_signer **ret, struct herror *err)
{
        _cleanup_free_ char *pem = NULL;
        size_t len = 0;
        int r = trust_cli_read_file(path, TRUST_PRIVATE_KEY_FILE_MAX, &pem, &len, err);
        if (r < 0)
                return r;
        _cleanup_passphrase_ char *pass = NULL;
        if (trust_private_key_is_encrypted(pem, len)) {
                char prompt[256];
                snprintf(prompt, sizeof prompt, "Enter the passphrase for %.200s: ", path);
                if ((r = passphrase_get(prompt, false, &pass, err)) < 0)
                        return r;
        }
        r = trust_signer_from_pem(pem, len, path, pass, ret, err);
        explicit_bzero(pem, len);
        return r;
}

static int sign_with_key(struct image_store *store, const struct image_target *t, const struct sign_opts *o,
                         struct herror *err)
{
        _cleanup_free_ char *identity = NULL;
        int r;
        if (o->identity && (r = normalise_identity(o->identity, &identity, err)) < 0)
                return r;
        char ds[DIGEST_STRING_MAX];
        digest_to_string(&t->manifest, ds);
        _cleanup_free_ char *payload = NULL;
        size_t payload_len = 0;
        if ((r = sigstore_payload_build(identity ?: t->name, ds, "hutch " HUTCH_VERSION, &payload, &payload_len, err)) <
            0)
                return r;
        _cleanup_trust_signer_ struct trust_signer *signer = NULL;
        if ((r = load_signer(o->key, &signer, err)) < 0)
                return r;
        _cleanup_free_ unsigned char *sig = NULL;
        size_t sig_len = 0;
        if ((r = trust_signer_sign(signer, payload, payload_len, &sig, &sig_len, err)) < 0)
                return r;
        /* Check what was made before anything keeps it. */
        _cleanup_trust_key_ struct trust_key *pub = NULL;
        if ((r = trust_signer_public_key(signer, &pub, err)) < 0 ||
            (r = sigstore_verify_raw(pub, payload, payload_len, sig, sig_len, err)) < 0)
                return herror_wrap(err, "the new signature does not verify");
        _cleanup_free_ char *b64 = base64_encode(sig, sig_len);
        if (!b64)
                return herror_set(err, ENOMEM, "out of memory");
        /* The files first: a command that fails has not changed the store. */
        if (o->output_signature && (r = write_output(o->output_signature, sig, sig_len, err)) < 0)
                return r;
        if (o->output_payload && (r = write_output(o->output_payload, payload, payload_len, err)) < 0)
                return r;
        struct store_signature s = {
                .payload = payload, .payload_len = payload_len, .signature_b64 = b64, .origin = (char *) SIGN_ORIGIN
        };
        if ((r = store_sigs_add(store, &t->manifest, &s, 1, err)) < 0)
                return r;
        printf("Signed %s (%s) as %s with %s key %s\n", t->name, ds, identity ?: t->name,
               trust_key_type_name(trust_key_type(pub)), trust_key_id(pub));
        return 0;
}

static bool is_base64_text(const char *s, size_t len)
{
        if (!len)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=", s[i]) || !s[i])
                        return false;
        return true;
}

/* The signature file as the base64 text the store keeps: base64 as given (one trailing newline
 * dropped; otherwise kept byte for byte, so that the verifier judges it), or binary bytes encoded. */
static int signature_b64_of_file(const char *path, char **ret, struct herror *err)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r = trust_cli_read_file(path, SIGNATURE_FILE_MAX, &data, &len, err);
        if (r < 0)
                return r;
        if (len == 0)
                return herror_set(err, EINVAL, "%s: empty signature file", path);
        size_t text_len = len;
        if (data[text_len - 1] == '\n')
                text_len--;
        if (text_len && data[text_len - 1] == '\r')
                text_len--;
        if (is_base64_text(data, text_len)) {
                if (text_len > STORE_SIG_B64_MAX)
                        return herror_set(err, EFBIG, "%s: longer than %u bytes of base64", path, STORE_SIG_B64_MAX);
                data[text_len] = 0;
                *ret = TAKE_PTR(data);
                return 0;
        }
        if (!(*ret = base64_encode(data, len)))
                return herror_set(err, ENOMEM, "out of memory");
        if (strlen(*ret) > STORE_SIG_B64_MAX) {
                free(TAKE_PTR(*ret));
                return herror_set(err, EFBIG, "%s: a signature larger than %u bytes", path, STORE_SIG_B64_MAX);
        }
        return 0;
}

static int attach_signature(struct image_store *store, const struct image_target *t, const struct sign_opts *o,
                            struct herror *err)
{
        _cleanup_free_ char *b64 = NULL, *payload = NULL;
        size_t payload_len = 0;
        int r;
        if ((r = signature_b64_of_file(o->signature, &b64, err)) < 0 ||
            (r = trust_cli_read_file(o->payload, STORE_SIG_PAYLOAD_MAX, &payload, &payload_len, err)) < 0)
                return r;
        if (payload_len == 0)
                return herror_set(err, EINVAL, "%s: empty payload", o->payload);
        struct store_signature s = {
                .payload = payload, .payload_len = payload_len, .signature_b64 = b64, .origin = (char *) ATTACH_ORIGIN
        };
        if ((r = store_sigs_add(store, &t->manifest, &s, 1, err)) < 0)
                return r;
        char ds[DIGEST_STRING_MAX];
        printf("Attached the signature in %s over %s to %s (%s); it is verified under the policy by 'hutch verify' "
               "and 'hutch run'\n",
               o->signature, o->payload, t->name, digest_to_string(&t->manifest, ds));
        return 0;
}

int cmd_sign(int argc, char **argv)
{
        static const struct option opts[] = { { "key", required_argument, NULL, 'k' },
                                              { "storage", required_argument, NULL, 's' },
                                              { "identity", required_argument, NULL, 'i' },
                                              { "output-signature", required_argument, NULL, 'S' },
                                              { "output-payload", required_argument, NULL, 'P' },
                                              { "signature", required_argument, NULL, 'g' },
                                              { "payload", required_argument, NULL, 'p' },
                                              { "help", no_argument, NULL, 'h' },
                                              {} };
        struct sign_opts o = { 0 };
        int c;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (c) {
                case 'k':
                        o.key = optarg;
                        break;
                case 's':
                        o.storage = optarg;
                        break;
                case 'i':
                        o.identity = optarg;
                        break;
                case 'S':
                        o.output_signature = optarg;
                        break;
                case 'P':
                        o.output_payload = optarg;
                        break;
                case 'g':
                        o.signature = optarg;
                        break;
                case 'p':
                        o.payload = optarg;
                        break;
                case 'h':
                        return sign_usage();
                default:
                        return cli_bad_option("hutch sign", argc, argv);
                }
        }
        if (optind + 1 != argc)
                return cli_usage_error("hutch sign", "expected exactly one IMAGE");
        o.image = argv[optind];
        bool attach = o.signature || o.payload;
        if (attach && (!o.signature || !o.payload))
                return cli_usage_error("hutch sign", "--signature and --payload go together");
        if (attach && (o.key || o.identity || o.output_signature || o.output_payload))
                return cli_usage_error("hutch sign",
                                       "--signature/--payload attach a signature made elsewhere: "
                                       "--key, --identity and --output-* do not apply");
        if (!attach && !o.key)
                return cli_usage_error("hutch sign", "--key is required (or --signature with --payload)");

        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct image_store store = IMAGE_STORE_INIT;
        struct image_target t = { 0 };
        int r = trust_cli_store_open(o.storage, &store, &err);
        if (r >= 0)
                r = image_target_resolve(&store, o.image, &t, &err);
        if (r >= 0)
                r = attach ? attach_signature(&store, &t, &o, &err) : sign_with_key(&store, &t, &o, &err);
        image_target_done(&t);
        store_close(&store);
        return r < 0 ? cli_fail(&err) : 0;
}
