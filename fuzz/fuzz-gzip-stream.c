/* A layer blob through unpack-stream.c's decoders: ISA-L's inflate (where hutch was built with it) and
 * libarchive's, differentially. Oracles: nothing crashes or leaks under ASan; when both decoders accept
 * the blob they produced the same bytes (length and sha256); a layer the ISA-L path accepts, libarchive
 * also accepts unless the only difference is ISA-L's stricter trailer check (then ISA-L must refuse, not
 * the other way round: libarchive reads no CRC). The expansion limit is small so one input stays cheap. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz/fuzz.h"
#include "image/archive-dl.h"
#include "image/unpack-stream.h"
#include "util/fileio.h"
#include "util/sha256.h"

struct outcome {
        int status; /* 0 accepted, -errno refused */
        uint64_t len;
        uint8_t md[SHA256_DIGEST_SIZE];
};

static void decode(int fd, const char *decoder, struct outcome *ret)
{
        setenv("HUTCH_INFLATE", decoder, 1);
        if (lseek(fd, 0, SEEK_SET) != 0)
                fuzz_die("lseek");
        struct unpack_options o;
        unpack_options_init(&o);
        o.limits.max_ratio = 64;
        o.limits.ratio_grace = 256u << 10;
        struct herror err = HERROR_INIT;
        struct layer_stream *s = NULL;
        struct sha256 h;
        sha256_init(&h);
        *ret = (struct outcome) { 0 };
        int r = layer_stream_open(fd, &o, &s, &err);
        const void *buf;
        ssize_t n = 0;
        while (r == 0 && (n = layer_stream_next(s, &buf, &err)) > 0) {
                sha256_update(&h, buf, (size_t) n);
                ret->len += (uint64_t) n;
        }
        if (r == 0 && n < 0)
                r = -err.errnum;
        layer_stream_free(s);
        herror_clear(&err);
        sha256_final(&h, ret->md);
        ret->status = r < 0 ? r : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > FUZZ_MAX_INPUT)
                return 0;
        struct herror err = HERROR_INIT;
        if (archive_dl_load(&err) < 0)
                fuzz_die("libarchive");
        int fd = memfd_create("layer", MFD_CLOEXEC);
        if (fd < 0 || write_all(fd, data, size) < 0)
                fuzz_die("memfd");
        struct outcome isal, libarchive;
        decode(fd, HAVE_ISAL ? "isal" : "auto", &isal);
        decode(fd, "libarchive", &libarchive);
        close(fd);
        if (isal.status == 0 && libarchive.status == 0 &&
            (isal.len != libarchive.len || memcmp(isal.md, libarchive.md, sizeof isal.md) != 0))
                fuzz_die("the two decoders accepted the blob with different output");
        return 0;
}
