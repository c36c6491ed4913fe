/* The image's /etc/passwd and /etc/group, as `hutch run` reads them to resolve the image's User (or -u)
 * to ids, a home directory and supplementary groups. The input is USER[:GROUP], NUL, the passwd file,
 * NUL, the group file (a missing part is an empty spec or an absent file). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/run-config.h"
#include "fuzz/fuzz.h"
#include "image/unpack.h"
#include "util/fileio.h"

static int rootfd = -1, etcfd = -1;

static void init_once(void)
{
        if (rootfd >= 0)
                return;
        rootfd = open(fuzz_scratch_dir("image-user"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0 || mkdirat(rootfd, "etc", 0755) < 0)
                fuzz_die("rootfs");
        etcfd = openat(rootfd, "etc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (etcfd < 0)
                fuzz_die("etc");
}

/* Write name with the bytes [p, end), or remove it when p is NULL. */
static void put_file(const char *name, const char *p, const char *end)
{
        if (unlinkat(etcfd, name, 0) < 0 && errno != ENOENT)
                fuzz_die("unlink");
        if (!p)
                return;
        int fd = openat(etcfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 || write_all(fd, p, (size_t) (end - p)) < 0 || close(fd) < 0)
                fuzz_die(name);
}

static void check(const struct run_process *p)
{
        if (p->n_additional_gids > 64 || (p->n_additional_gids && !p->additional_gids))
                fuzz_die("supplementary groups");
        for (size_t i = 0; i < p->n_additional_gids; i++)
                if (p->additional_gids[i] == p->gid)
                        fuzz_die("the primary group listed again as a supplementary one");
        if (p->uid == UINT32_MAX || p->gid == UINT32_MAX)
                fuzz_die("the overflow id (-1) was accepted");
        if (p->home && strchr(p->home, '\n'))
                fuzz_die("a home directory spanning lines");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > FUZZ_MAX_INPUT)
                return 0;
        init_once();
        const char *d = (const char *) data, *end = d + size;
        const char *nul1 = memchr(d, 0, size);
        const char *passwd = nul1 ? nul1 + 1 : NULL;
        const char *nul2 = passwd ? memchr(passwd, 0, (size_t) (end - passwd)) : NULL;
        const char *group = nul2 ? nul2 + 1 : NULL;
        put_file("passwd", passwd, nul2 ? nul2 : end);
        put_file("group", group, end);
        char *spec = strndup(d, nul1 ? (size_t) (nul1 - d) : size);
        if (!spec)
                fuzz_die("out of memory");
        struct run_process p = { 0 };
        struct herror err = HERROR_INIT;
        if (run_resolve_user(rootfd, spec, &p, &err) == 0)
                check(&p);
        else if (!herror_msg(&err)[0])
                fuzz_die("a refusal without a message");
        run_process_done(&p);
        herror_clear(&err);
        free(spec);
        return 0;
}
