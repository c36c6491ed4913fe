/* Replays fuzz inputs (files or directories of files) through a harness as an ordinary test, one TAP
 * line per input: the corpus and every crasher ever found run in every build. A crash fails the run. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz/fuzz.h"
#include "util/fileio.h"

static int count;

static void replay_file(const char *path)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        if (read_file_at(AT_FDCWD, path, 16u << 20, &data, &len, NULL) < 0) {
                printf("not ok %d - %s (unreadable)\n", ++count, path);
                return;
        }
        LLVMFuzzerTestOneInput((const uint8_t *) data, len);
        printf("ok %d - %s\n", ++count, path);
        fflush(stdout);
}

static void replay(const char *path)
{
        struct stat st;
        if (stat(path, &st) < 0)
                return; /* an optional directory (crashers/NAME) that does not exist yet */
        if (!S_ISDIR(st.st_mode)) {
                replay_file(path);
                return;
        }
        struct dirent **names;
        int n = scandir(path, &names, NULL, alphasort);
        for (int i = 0; i < n; i++) {
                if (names[i]->d_name[0] != '.') {
                        char p[4096];
                        snprintf(p, sizeof p, "%s/%s", path, names[i]->d_name);
                        replay(p);
                }
                free(names[i]);
        }
        free(names);
}

int main(int argc, char **argv)
{
        for (int i = 1; i < argc; i++)
                replay(argv[i]);
        printf("1..%d\n", count);
        return 0;
}
