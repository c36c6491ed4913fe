/* hutch audit verify | show: check the file log's chain and MACs, and read it (docs/hutch-audit.1). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "cli/audit-view.h"
#include "cli/cli.h"
#include "util/log.h"

static void audit_usage(FILE *out)
{
        fprintf(out,
                "Usage: hutch audit COMMAND [OPTIONS] [FILE]\n\n"
                "Check and read the audit log (default: the one hutch.conf names).\n\n"
                "Commands:\n"
                "  verify  check sequence, hash chain and MACs/signatures; exit 1 at the first break\n"
                "  show    list records, optionally filtered\n\n"
                "Run 'hutch audit COMMAND --help' for its options.\n");
}

static void verify_usage(FILE *out)
{
        fprintf(out,
                "Usage: hutch audit verify [--hmac-key FILE | --pubkey FILE] [FILE...]\n\n"
                "Check the audit log: every record's seq follows the one before it, its prev is the sha256 of the\n"
                "line before it, the log starts at seq 1, no line is cut off, and with a key every record carries a\n"
                "valid HMAC-SHA256 or Ed25519 signature. One FILE is checked together with its rotated files\n"
                "(FILE.N ... FILE.1 FILE); several FILEs are taken as the whole series, oldest first.\n"
                "Exit 0 when intact, 1 at the first break (named as FILE:LINE and why), 125 on other errors.\n\n"
                "  --hmac-key FILE  the HMAC key the log was written with (audit_hmac_key)\n"
                "  --pubkey FILE    the Ed25519 public key (PEM) of audit_sign_key\n"
                "  -h, --help       show this help\n");
}

static int run_verify(char *const *files, size_t n_files, const struct audit_verify_opts *o)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        _cleanup_strv_ char **paths = NULL;
        size_t n = 0;
        if (n_files <= 1) {
                _cleanup_free_ char *path = NULL;
                if (audit_view_log_path(n_files ? files[0] : NULL, &path, &err) < 0 ||
                    audit_log_series(path, &paths, &n, &err) < 0)
                        return cli_fail(&err);
        } else {
                if (!(paths = calloc(n_files + 1, sizeof *paths)))
                        return log_error("out of memory"), EXIT_HUTCH_ERROR;
                for (n = 0; n < n_files; n++)
                        if (!(paths[n] = strdup(files[n])))
                                return log_error("out of memory"), EXIT_HUTCH_ERROR;
        }
        struct audit_verify_result res;
        int r = audit_verify((const char *const *) paths, n, o, &res, &err);
        if (r == -EBADMSG) {
                log_error("audit log broken: %s", herror_msg(&err));
                return 1;
        }
        if (r < 0)
                return cli_fail(&err);
        printf("%s: intact: %llu records (seq %llu to %llu) in %zu file(s); last record sha256 %s\n", paths[n - 1],
               (unsigned long long) res.records, (unsigned long long) res.first_seq, (unsigned long long) res.last_seq,
               res.files, res.last_hash);
        if (res.macs_checked)
                printf("every record's %s verified\n", o->hmac_key_path ? "HMAC" : "Ed25519 signature");
        else if (res.unsigned_records)
                printf("note: %llu records carry an HMAC or signature that was not checked (give --hmac-key or --pubkey)\n",
                       (unsigned long long) res.unsigned_records);
        return 0;
}

static int cmd_audit_verify(int argc, char **argv)
{
        enum { OPT_HMAC = 256, OPT_PUBKEY };
        static const struct option opts[] = {
                { "hmac-key", required_argument, NULL, OPT_HMAC },
                { "pubkey", required_argument, NULL, OPT_PUBKEY },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct audit_verify_opts o = { 0 };
        int c;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (c) {
                case OPT_HMAC:
                        o.hmac_key_path = optarg;
                        break;
                case OPT_PUBKEY:
                        o.pubkey_path = optarg;
                        break;
                case 'h':
                        verify_usage(stdout);
                        return 0;
                default:
                        return cli_bad_option("hutch audit verify", argc, argv);
                }
        }
        if (o.hmac_key_path && o.pubkey_path)
                return cli_usage_error("hutch audit verify", "give --hmac-key or --pubkey, not both");
        return run_verify(argv + optind, (size_t) (argc - optind), &o);
}

static void show_usage(FILE *out)
{
        fprintf(out,
                "Usage: hutch audit show [--since T] [--user U] [--image I] [--format table|json] [FILE]\n\n"
                "List the audit records of the log and its rotated files, oldest first.\n\n"
                "  --since T       only records at or after T: YYYY-MM-DD[THH:MM:SS[.N]Z] (UTC) or 30m, 2h, 7d ago\n"
                "  --user U        only records of this user (name or uid)\n"
                "  --image I       only records whose image reference contains I or whose digest starts with I\n"
                "  --format FMT    table (default) or json (the records as they are, one per line)\n"
                "  -h, --help      show this help\n");
}

/* missing_ok: the live log, absent until the first record (as hutch events sees it); a rotated file that
 * vanished while we read is an error. */
static int show_file(const char *path, bool missing_ok, const struct audit_filter *f, bool json, struct herror *err)
{
        _cleanup_fclose_ FILE *in = fopen(path, "re");
        if (!in && errno == ENOENT && missing_ok)
                return 0;
        if (!in)
                return herror_sys(err, errno, "%s", path);
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        while ((n = getline(&line, &cap, in)) > 0) {
                if (line[n - 1] == '\n')
                        line[--n] = 0;
                _cleanup_json_ json_t *rec = audit_view_parse(line, (size_t) n);
                if (rec && audit_filter_match(f, rec))
                        audit_view_print(stdout, rec, line, json);
        }
        return ferror(in) ? herror_sys(err, EIO, "%s: read", path) : 0;
}

static int cmd_audit_show(int argc, char **argv)
{
        static const struct option opts[] = {
                { "since", required_argument, NULL, 's' }, { "user", required_argument, NULL, 'u' },
                { "image", required_argument, NULL, 'i' }, { "format", required_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },        {},
        };
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct audit_filter f = { 0 };
        bool json = false;
        int c;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (c) {
                case 's':
                        if (audit_filter_set_since(&f, optarg, &err) < 0)
                                return cli_usage_error("hutch audit show", "%s", herror_msg(&err));
                        break;
                case 'u':
                        f.user = optarg;
                        break;
                case 'i':
                        f.image = optarg;
                        break;
                case 'f':
                        if (cli_parse_format(optarg, &json) < 0)
                                return cli_usage_error("hutch audit show", "unknown format '%s'", optarg);
                        break;
                case 'h':
                        show_usage(stdout);
                        return 0;
                default:
                        return cli_bad_option("hutch audit show", argc, argv);
                }
        }
        if (argc - optind > 1)
                return cli_usage_error("hutch audit show", "at most one FILE");
        _cleanup_free_ char *path = NULL;
        _cleanup_strv_ char **paths = NULL;
        size_t n = 0;
        if (audit_view_log_path(optind < argc ? argv[optind] : NULL, &path, &err) < 0 ||
            audit_log_series(path, &paths, &n, &err) < 0)
                return cli_fail(&err);
        if (!json)
                audit_view_print_header(stdout);
        for (size_t i = 0; i < n; i++)
                if (show_file(paths[i], i == n - 1, &f, json, &err) < 0)
                        return cli_fail(&err);
        return 0;
}

int cmd_audit(int argc, char **argv)
{
        if (argc < 2) {
                audit_usage(stderr);
                return EXIT_HUTCH_ERROR;
        }
        if (streq(argv[1], "-h") || streq(argv[1], "--help")) {
                audit_usage(stdout);
                return 0;
        }
        optind = 0;
        if (streq(argv[1], "verify"))
                return cmd_audit_verify(argc - 1, argv + 1);
        if (streq(argv[1], "show"))
                return cmd_audit_show(argc - 1, argv + 1);
        return cli_usage_error("hutch audit", "unknown command '%s'", argv[1]);
}
