#include <stdarg.h>
#include <stdio.h>
#include <getopt.h>
#include <string.h>

#include "cli/cli.h"
#include "util/log.h"

int cli_fail(const struct herror *err)
{
        log_error("%s", herror_msg(err));
        return EXIT_HUTCH_ERROR;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
        char buf[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        /* The log prefix already names the program; repeat only the subcommand. */
        const char *sub = strchr(cmd, ' ');
        if (sub)
                log_error("%s: %s (see '%s --help')", sub + 1, buf, cmd);
        else
                log_error("%s (see '%s --help')", buf, cmd);
        return EXIT_HUTCH_ERROR;
}

int cli_parse_format(const char *s, bool *ret_json)
{
        if (streq(s, "json"))
                *ret_json = true;
        else if (streq(s, "table") || streq(s, "text"))
                *ret_json = false;
        else
                return -EINVAL;
        return 0;
}

int cli_bad_option(const char *cmd, int argc, char **argv)
{
        const char *arg = optind > 0 && optind - 1 < argc ? argv[optind - 1] : "";
        if (strncmp(arg, "--", 2) == 0)
                return cli_usage_error(cmd, "option '%s' is unknown or needs an argument", arg);
        return cli_usage_error(cmd, "option '-%c' is unknown or needs an argument", optopt ? optopt : '?');
}
