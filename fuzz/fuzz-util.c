/* Helpers the harnesses share (fuzz.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz/fuzz.h"
#include "image/unpack.h"

static char scratch[128];

void fuzz_die(const char *what)
{
        fprintf(stderr, "%s: %s\n", program_invocation_short_name, what);
        abort();
}

static void remove_scratch(void)
{
        _cleanup_close_ int tmp = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (tmp >= 0)
                (void) image_remove_tree_at(tmp, scratch + strlen("/tmp/"), NULL);
}

const char *fuzz_scratch_dir(const char *name)
{
        if (scratch[0])
                fuzz_die("fuzz_scratch_dir called twice");
        snprintf(scratch, sizeof scratch, "/tmp/hutch-fuzz-%s-XXXXXX", name);
        if (!mkdtemp(scratch))
                fuzz_die("mkdtemp");
        atexit(remove_scratch);
        return scratch;
}
