/* hutch verify: the trust policy's verdict for a stored image, exactly as `hutch run` reaches it
 * (image_trust_evaluate: the policy file and key files read again, every stored signature verified
 * again). Exit 0 only when accepted, 1 when rejected, 125 when no verdict could be formed (usage, store).
 * See hutch-trust(1). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/image-trust.h"
#include "cli/trust-cli.h"
#include "util/log.h"

#define EXIT_REJECTED 1

static int verify_usage(void)
{
        printf("Usage: hutch verify [--policy FILE] [--storage DIR] [--format text|json] IMAGE\n\n"
               "Decide whether the stored IMAGE may run under the trust policy, the way 'hutch run' decides: the\n"
               "image's stored name picks the policy scope (docker transport), and every signature kept beside it\n"
               "is verified again. Prints the verdict, the scope, the reason, what each requirement of the scope\n"
               "said, the key and signed identity that satisfied it, and the policy file with its sha256. Exit\n"
               "status 0 when accepted, 1 when rejected, 125 on usage or store errors. See hutch-trust(1).\n\n"
               "  --policy FILE        the policy (default: $XDG_CONFIG_HOME/hutch/policy.json, else\n"
               "                       /etc/hutch/policy.json, else the built-in default that rejects everything)\n"
               "  --storage DIR        the image store (default: $HUTCH_STORAGE, else the per-user store)\n"
               "  --format text|json   output format (default text)\n"
               "  -h, --help           show this help\n");
        return 0;
}

/* What each requirement of the scope said, in policy order. */
static json_t *requirements_json(const struct policy_verdict *v)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < v->n_requirements; i++) {
                const struct policy_requirement_result *q = &v->requirements[i];
                json_t *o = json_pack("{s:I, s:s, s:b, s:s, s:s?, s:s?}", "index", (json_int_t) i, "type", q->type,
                                      "accepted", q->accepted, "reason", q->reason, "key_id", q->key_id,
                                      "signed_identity", q->signed_reference);
                if (!o || json_array_append_new(a, o) < 0) {
                        json_decref(a);
                        return NULL;
                }
        }
        return a;
}

static int print_json(const struct image_target *t, const struct image_trust *tr)
{
        const struct policy_verdict *v = &tr->verdict;
        char ds[DIGEST_STRING_MAX];
        json_t *reqs = requirements_json(v);
        _cleanup_json_ json_t *o = !reqs
                ? NULL
                : json_pack("{s:s, s:s, s:b, s:s, s:s?, s:s?, s:s?, s:i, s:s?, s:s?, s:o, s:{s:s?, s:s?}, s:I}",
                            "image", t->name, "manifest_digest", digest_to_string(&t->manifest, ds), "accepted",
                            v->accepted, "verdict", v->accepted ? "accepted" : "rejected", "transport", v->transport,
                            "scope", v->scope, "reason", v->reason, "requirement_index", v->requirement_index, "key_id",
                            v->key_id, "signed_identity", v->signed_reference, "requirements", reqs, "policy", "source",
                            tr->policy_source, "sha256", tr->policy_sha256[0] ? tr->policy_sha256 : NULL, "signatures",
                            (json_int_t) tr->n_signatures);
        _cleanup_free_ char *text = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        if (!text) {
                log_error("out of memory");
                return EXIT_HUTCH_ERROR;
        }
        printf("%s\n", text);
        return 0;
}

static void print_text(const struct image_target *t, const struct image_trust *tr)
{
        const struct policy_verdict *v = &tr->verdict;
        char ds[DIGEST_STRING_MAX];
        printf("%s (%s): %s\n", t->name, digest_to_string(&t->manifest, ds), v->accepted ? "accepted" : "REJECTED");
        printf("  transport:  %s\n", v->transport ?: "(none: the global default applies)");
        printf("  scope:      %s\n", v->scope ? (v->scope[0] ? v->scope : "\"\" (the transport's default)") : "-");
        printf("  reason:     %s\n", v->reason ?: "-");
        for (size_t i = 0; i < v->n_requirements; i++)
                printf("  requirement %zu (%s): %s: %s\n", i, v->requirements[i].type,
                       v->requirements[i].accepted ? "accepted" : "rejected", v->requirements[i].reason);
        printf("  key:        %s\n", v->key_id ?: "-");
        printf("  identity:   %s\n", v->signed_reference ?: "-");
        if (tr->policy_source)
                printf("  policy:     %s (%s)\n", tr->policy_source, tr->policy_sha256);
        else
                printf("  policy:     (none could be loaded)\n");
        printf("  signatures: %zu found\n", tr->n_signatures);
}

int cmd_verify(int argc, char **argv)
{
        static const struct option opts[] = { { "policy", required_argument, NULL, 'p' },
                                              { "storage", required_argument, NULL, 's' },
                                              { "format", required_argument, NULL, 'f' },
                                              { "help", no_argument, NULL, 'h' },
                                              {} };
        const char *policy = NULL, *storage = NULL;
        bool json = false;
        int c;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (c) {
                case 'p':
                        policy = optarg;
                        break;
                case 's':
                        storage = optarg;
                        break;
                case 'f':
                        if (cli_parse_format(optarg, &json) < 0)
                                return cli_usage_error("hutch verify", "--format must be text or json, not '%s'",
                                                       optarg);
                        break;
                case 'h':
                        return verify_usage();
                default:
                        return cli_bad_option("hutch verify", argc, argv);
                }
        }
        if (optind + 1 != argc)
                return cli_usage_error("hutch verify", "expected exactly one IMAGE");
        if (policy && !policy[0])
                return cli_usage_error("hutch verify", "--policy needs a file name");

        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct image_store store = IMAGE_STORE_INIT;
        struct image_target t = { 0 };
        struct image_trust tr = { 0 };
        int ret;
        int r = trust_cli_store_open(storage, &store, &err);
        if (r >= 0)
                r = image_target_resolve(&store, argv[optind], &t, &err);
        if (r >= 0)
                r = image_trust_evaluate(&store, &t, policy, &tr, &err);
        if (r < 0) {
                ret = cli_fail(&err);
        } else {
                if (json)
                        ret = print_json(&t, &tr);
                else {
                        print_text(&t, &tr);
                        ret = 0;
                }
                if (ret == 0 && !tr.verdict.accepted) {
                        /* The one line a script's log keeps. */
                        log_error("%s rejected: %s", t.name, tr.verdict.reason ?: "(no reason)");
                        ret = EXIT_REJECTED;
                }
        }
        image_trust_done(&tr);
        image_target_done(&t);
        store_close(&store);
        return ret;
}
