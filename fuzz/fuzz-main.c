/* Replays fuzz inputs (files or directories of files) through a harness as an ordinary test, one TAP
 * line per input: the corpus and every crasher ever found run in every build, with gcc or clang. A crash
 * kills the run (the input being replayed is named on stderr first). Arguments after "--optional" may be
 * missing (crashers/NAME exists only once something was found); a missing required one, or no input at
 * all, fails so that a mistyped corpus path cannot pass by replaying nothing. */
#include <dirent.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz/fuzz.h"
#include "util/fileio.h"

#define REPLAY_MAX_FILE (16u << 20)

static int count, failed;

static void report(bool ok, const char *path, const char *why)
{
        printf("%s %d - %s%s%s\n", ok ? "ok" : "not ok", ++count, path, why ? " # " : "", why ? why : "");
        fflush(stdout);
        if (!ok)
                failed++;
}

static void replay_file(const char *path)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        if (read_file_at(AT_FDCWD, path, REPLAY_MAX_FILE, &data, &len, &err) < 0) {
                report(false, path, herror_msg(&err));
                return;
        }
        fprintf(stderr, "replaying %s (%zu bytes)\n", path, len);
        LLVMFuzzerTestOneInput((const uint8_t *) data, len);
        report(true, path, NULL);
}

static void replay(const char *path, bool optional)
{
        struct stat st;
        if (stat(path, &st) < 0) {
                if (!optional)
                        report(false, path, "missing");
                return;
        }
        if (!S_ISDIR(st.st_mode)) {
                replay_file(path);
                return;
        }
        struct dirent **names = NULL;
        int n = scandir(path, &names, NULL, alphasort);
        if (n < 0) {
                report(false, path, "cannot list the directory");
                return;
        }
        for (int i = 0; i < n; i++) {
                if (names[i]->d_name[0] != '.') {
                        char p[4096];
                        snprintf(p, sizeof p, "%s/%s", path, names[i]->d_name);
                        replay(p, false);
                }
                free(names[i]);
        }
        free(names);
}

int main(int argc, char **argv)
{
        bool optional = false;
        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "--optional"))
                        optional = true;
                else
                        replay(argv[i], optional);
        }
        if (count == 0)
                report(false, "no inputs to replay", NULL);
        printf("1..%d\n", count);
        return failed ? 1 : 0;
}
