#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "sandbox/kernel.h"

static const char *yes_no(bool b)
{
        return b ? "yes" : "no";
}

int cmd_version(int argc, char **argv)
{
        static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, {} };
        int c;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                if (c == 'h') {
                        printf("Usage: hutch version\n\nPrint the version, compiled-in features and what the running kernel offers.\n");
                        return 0;
                }
                return cli_bad_option("hutch version", argc, argv);
        }
        struct kernel_features k;
        kernel_probe(&k);
        printf("hutch version %s\n", HUTCH_VERSION);
        printf("features: +SECCOMP +CAP +LANDLOCK +OPENSSL +LIBARCHIVE %cAPPARMOR %cSELINUX\n",
               HAVE_APPARMOR ? '+' : '-', HAVE_SELINUX ? '+' : '-');
        printf("kernel: user-namespaces=%s landlock-abi=%d seccomp=%s openat2=%s\n", yes_no(k.userns), k.landlock_abi,
               yes_no(k.seccomp_filter), yes_no(k.openat2));
        printf("lsm: %s%s (apparmor %s, selinux %s)\n", k.lsms,
               k.lsms_inferred ? " (inferred: securityfs not mounted)" : "",
               k.apparmor_enabled ? "active" : "not active", k.selinux_enabled ? "active" : "not active");
        return 0;
}
