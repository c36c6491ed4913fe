/* A layer blob (tar, tar+gzip, tar+zstd) applied to a scratch tree that already holds a symlink to a
 * directory outside it ("escape" -> BASE/outside) and a symlink to a file outside ("victim" ->
 * BASE/outside/secret). Whatever the layer does, after every input BASE must still hold exactly root/
 * and outside/, and outside/ exactly the untouched secret; otherwise abort. Limits are small so that
 * one input stays cheap. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz/fuzz.h"
#include "image/unpack.h"
#include "util/fileio.h"

#define SECRET "do not touch"

static const char *base;
static char outside[128], secret_path[160];
static int basefd = -1, rootfd = -1;

static void init_once(void)
{
        if (basefd >= 0)
                return;
        base = fuzz_scratch_dir("unpack");
        snprintf(outside, sizeof outside, "%s/outside", base);
        snprintf(secret_path, sizeof secret_path, "%s/secret", outside);
        basefd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (basefd < 0 || mkdirat(basefd, "root", 0755) < 0 || mkdirat(basefd, "outside", 0755) < 0)
                fuzz_die("setup");
        int fd = openat(basefd, "outside/secret", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || write_all(fd, SECRET, strlen(SECRET)) < 0)
                fuzz_die("secret");
        close(fd);
        rootfd = openat(basefd, "root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                fuzz_die("root");
}

static void reset_root(void)
{
        DIR *d = fdopendir(fcntl(rootfd, F_DUPFD_CLOEXEC, 3));
        if (!d)
                fuzz_die("opendir root");
        rewinddir(d); /* the dup shares rootfd's offset with the previous pass */
        struct dirent *de;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..") &&
                    image_remove_tree_at(rootfd, de->d_name, NULL) < 0)
                        fuzz_die("clean root");
        closedir(d);
        if (symlinkat(outside, rootfd, "escape") < 0 || symlinkat(secret_path, rootfd, "victim") < 0 ||
            symlinkat("../outside", rootfd, "up") < 0)
                fuzz_die("symlinks");
}

static void check_outside(void)
{
        DIR *d = fdopendir(fcntl(basefd, F_DUPFD_CLOEXEC, 3));
        if (!d)
                fuzz_die("opendir base");
        rewinddir(d);
        struct dirent *de;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..") && !streq(de->d_name, "root") &&
                    !streq(de->d_name, "outside"))
                        fuzz_die("an entry appeared beside root/");
        closedir(d);
        d = opendir(outside);
        if (!d)
                fuzz_die("outside/ is gone");
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..") && !streq(de->d_name, "secret"))
                        fuzz_die("an entry appeared in outside/");
        closedir(d);
        struct stat st;
        char *data = NULL;
        if (lstat(secret_path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 || (st.st_mode & 07777) != 0600)
                fuzz_die("outside/secret was changed or linked");
        if (read_file_at(AT_FDCWD, secret_path, 100, &data, NULL, NULL) < 0 || !streq(data, SECRET))
                fuzz_die("outside/secret content changed");
        free(data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > FUZZ_MAX_INPUT)
                return 0;
        init_once();
        reset_root();
        int fd = memfd_create("layer", MFD_CLOEXEC);
        if (fd < 0 || write_all(fd, data, size) < 0 || lseek(fd, 0, SEEK_SET) != 0)
                fuzz_die("memfd");
        struct unpack_options o;
        unpack_options_init(&o);
        o.limits.max_entries = 256;
        o.limits.max_bytes = 1u << 20;
        o.limits.max_ratio = 100;
        o.limits.ratio_grace = 1u << 20;
        o.compressed_size = size;
        struct herror err = HERROR_INIT;
        struct unpack_stats st;
        int r = unpack_layer(fd, rootfd, &o, &st, &err);
        close(fd);
        if (r < 0 && (!err.msg || err.errnum <= 0))
                fuzz_die("failure without a message");
        if (r == 0 && st.bytes_written > o.limits.max_bytes)
                fuzz_die("byte limit exceeded");
        herror_clear(&err);
        check_outside();
        return 0;
}
