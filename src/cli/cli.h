/* The CLI layer: the only place that prints errors and picks exit codes. */
#pragma once

#include <stdbool.h>
#include "util/error.h"

/* podman's exit codes */
#define EXIT_HUTCH_ERROR 125
#define EXIT_CANNOT_INVOKE 126
#define EXIT_NOT_FOUND 127

struct cli_command {
        const char *name;
        const char *summary;
        int (*run)(int argc, char **argv);
};

/* Print "hutch: MESSAGE" for err and return EXIT_HUTCH_ERROR. */
int cli_fail(const struct herror *err);
int cli_usage_error(const char *cmd, const char *fmt, ...) _printf_(2, 3);
/* Parse "--format json|table"; returns true for json. */
int cli_parse_format(const char *s, bool *ret_json);
/* For getopt_long's '?' and ':' results (opterr is off): one line naming the offending option. */
int cli_bad_option(const char *cmd, int argc, char **argv);

int cmd_version(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_volume(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_images(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_tag(int argc, char **argv);
int cmd_rmi(int argc, char **argv);
int cmd_prune(int argc, char **argv);
int cmd_save(int argc, char **argv);
int cmd_key(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_trust(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_events(int argc, char **argv);
int runtime_main(int argc, char **argv);
