#include <stdlib.h>
#include <string.h>

#include "image/archive-dl.h"
#include "image/isal-dl.h"
#include "image/unpack-confined.h"
#include "util/crypto-dl.h"

bool unpack_confinement_wanted(void)
{
        const char *env = secure_getenv("HUTCH_UNPACK_SANDBOX");
        return !(env && streq(env, "0"));
}

struct layer_call {
        int srcfd;
        struct unpack_options uo;
        const struct isolate_child *child;
        uint64_t last_sent;
};

/* In the child: one message per percent of the stream (or per MiB when its size is unknown). */
static void child_progress(uint64_t done, uint64_t total, void *userdata)
{
        struct layer_call *lc = userdata;
        uint64_t step = total >= 100 ? total / 100 : (total ? 1 : 1u << 20);
        if (done - lc->last_sent < step && done != total)
                return;
        lc->last_sent = done;
        isolate_progress(lc->child, done, total);
}

static int unpack_in_child(struct isolate_child *c, void *arg, struct herror *err)
{
        struct layer_call *lc = arg;
        lc->child = c;
        if (lc->uo.progress) {
                lc->uo.progress = child_progress;
                lc->uo.progress_userdata = lc;
        }
        return unpack_layer(lc->srcfd, c->rootfd, &lc->uo, NULL, err);
}

int unpack_layer_confined(const struct isolate_plan *plan, int srcfd, int targetfd, struct unpack_options *uo,
                          struct herror *err)
{
        if (!plan)
                return unpack_layer(srcfd, targetfd, uo, NULL, err);
        /* the child, once pivoted into the target, can no longer open the libraries (libcrypto: the
         * layer's digest is computed as it streams) */
        int r = archive_dl_load(err);
        if (r < 0 || (r = crypto_dl_load(err)) < 0)
                return r;
        (void) isal_dl_load(NULL); /* optional: libarchive decodes gzip without it */
        struct layer_call lc = { .srcfd = srcfd, .uo = *uo };
        struct isolate_opts io = { .root_fd = targetfd,
                                   .keep_fds = &srcfd,
                                   .n_keep_fds = 1,
                                   .progress = uo->progress,
                                   .userdata = uo->progress_userdata };
        return sandbox_isolated_call(plan, &io, unpack_in_child, &lc, err);
}
