#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/archive-dl.h"
#include "image/isal-dl.h"
#include "image/unpack-stream.h"
#include "util/cleanup.h"

#define READ_SIZE (256u * 1024)

struct layer_stream {
        int fd;
        const struct unpack_options *opts;
        struct archive *raw;  /* format "raw": decompression only (or NULL: gz below) */
        struct isal_gzip *gz; /* ISA-L's inflate for gzip, where it is loaded */
        char *inbuf;
        size_t pending; /* bytes read into inbuf while detecting the compression, not yet given */
        struct sha256_stream hash;
        uint64_t compressed, uncompressed;
        struct herror perr; /* the producer's error */

        pthread_mutex_t lock;
        pthread_cond_t cond; /* any change below; broadcast */
        char *block[STREAM_BLOCKS];
        size_t len[STREAM_BLOCKS];
        uint64_t head, tail; /* blocks [head, tail) are filled, tail - head <= STREAM_BLOCKS */
        bool held;           /* block head is with the reader */
        bool eof, failed, cancel;
        bool threaded;
        pthread_t thread;
};

/* Every read of the blob: counted for the ratio limit and the progress line. -1 with errno set. */
static ssize_t read_blob(struct layer_stream *s, char *buf, size_t size)
{
        ssize_t n;
        do
                n = read(s->fd, buf, size);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -1;
        s->compressed += (uint64_t) n;
        if (s->opts->progress)
                s->opts->progress(s->compressed, s->opts->compressed_size, s->opts->progress_userdata);
        return n;
}

static ssize_t raw_read_cb(struct archive *a, void *userdata, const void **ret_buf)
{
        struct layer_stream *s = userdata;
        *ret_buf = s->inbuf;
        if (s->pending) {
                ssize_t n = (ssize_t) s->pending;
                s->pending = 0;
                return n;
        }
        ssize_t n = read_blob(s, s->inbuf, READ_SIZE);
        if (n < 0)
                archive_set_error(a, errno, "read the layer blob: %s", strerror(errno));
        return n;
}

#define GZIP_HEADER_MIN 10 /* magic, method, flags, mtime, xfl, os */

/* The start of a gzip member as libarchive's decoder recognises one: magic, deflate, and no reserved flag
 * bit (RFC 1952 says to refuse those; ISA-L would ignore them). Where this says no, libarchive decodes
 * (the first member) or the stream ends (a later one) exactly as without ISA-L, so that both decoders give
 * the same bytes for every blob: no layer reads one way here and another way in a scanner. */
static bool is_gzip(const void *p, size_t len)
{
        const unsigned char *b = p;
        return len >= 4 && b[0] == 0x1f && b[1] == 0x8b && b[2] == 8 && (b[3] & 0xe0) == 0;
}

#if HAVE_ISAL
struct isal_gzip {
        struct inflate_state st;
        bool done; /* the last member has ended; what follows it is not read */
};

static const char *isal_error(int ret)
{
        switch (ret) {
        case ISAL_INVALID_BLOCK:
                return "invalid deflate block";
        case ISAL_INVALID_SYMBOL:
                return "invalid deflate symbol";
        case ISAL_INVALID_LOOKBACK:
                return "invalid back-reference distance";
        case ISAL_INVALID_WRAPPER:
                return "invalid gzip header";
        case ISAL_UNSUPPORTED_METHOD:
                return "not deflate";
        case ISAL_INCORRECT_CHECKSUM:
                return "CRC or length mismatch";
        default:
                return "inflate error";
        }
}

/* Read more of the blob behind the bytes inflate has not consumed yet. Bytes read, 0 at the end, -1. */
static ssize_t gz_fill(struct layer_stream *s)
{
        struct inflate_state *st = &s->gz->st;
        size_t left = st->avail_in;
        if (left == READ_SIZE)
                return herror_set(&s->perr, EBADMSG, "layer: decompression failed: gzip: inflate stalled"), -1;
        memmove(s->inbuf, st->next_in, left);
        ssize_t n = read_blob(s, s->inbuf + left, READ_SIZE - left);
        if (n < 0)
                return herror_sys(&s->perr, errno, "layer: read the blob"), -1;
        st->next_in = (uint8_t *) s->inbuf;
        st->avail_in = (uint32_t) (left + (size_t) n);
        return n;
}

/* After a member: gzip allows members to follow each other. As in libarchive's decoder, bytes that do
 * not start one end the stream and are not read (the diff_id covers what was decompressed). 1 when a
 * member starts, 0 at the end, -1. */
static int gz_next_member(struct layer_stream *s)
{
        struct inflate_state *st = &s->gz->st;
        while (st->avail_in < GZIP_HEADER_MIN) {
                ssize_t n = gz_fill(s);
                if (n <= 0) {
                        if (n < 0)
                                return -1;
                        break;
                }
        }
        if (st->avail_in < GZIP_HEADER_MIN || !is_gzip(st->next_in, st->avail_in))
                return 0;
        uint8_t *in = st->next_in;
        uint32_t avail = st->avail_in;
        dl_isal_inflate_reset(st);
        st->crc_flag = ISAL_GZIP;
        st->next_in = in;
        st->avail_in = avail;
        return 1;
}

static ssize_t gz_decompress(struct layer_stream *s, char *buf)
{
        struct inflate_state *st = &s->gz->st;
        st->next_out = (uint8_t *) buf;
        st->avail_out = STREAM_BLOCK_SIZE;
        while (st->avail_out > 0 && !s->gz->done) {
                if (st->block_state == ISAL_BLOCK_FINISH) {
                        int r = gz_next_member(s);
                        if (r < 0)
                                return -1;
                        if (r == 0) {
                                s->gz->done = true;
                                break;
                        }
                }
                uint32_t in0 = st->avail_in, out0 = st->avail_out;
                int ret = in0 ? dl_isal_inflate(st) : ISAL_DECOMP_OK;
                if (ret != ISAL_DECOMP_OK && ret != ISAL_END_INPUT)
                        return herror_set(&s->perr, EBADMSG, "layer: decompression failed: gzip: %s", isal_error(ret)),
                               -1;
                if (st->block_state == ISAL_BLOCK_FINISH || st->avail_out < out0 || st->avail_in < in0)
                        continue;
                /* no progress: inflate needs more input */
                ssize_t n = gz_fill(s);
                if (n < 0)
                        return -1;
                if (n == 0)
                        return herror_set(&s->perr, EBADMSG, "layer: decompression failed: gzip stream cut off"), -1;
        }
        return (ssize_t) (STREAM_BLOCK_SIZE - st->avail_out);
}

static int gz_open(struct layer_stream *s, struct herror *err)
{
        s->gz = malloc(sizeof *s->gz);
        if (!s->gz)
                return herror_set(err, ENOMEM, "layer: out of memory");
        s->gz->done = false;
        dl_isal_inflate_init(&s->gz->st);
        s->gz->st.crc_flag = ISAL_GZIP;
        s->gz->st.next_in = (uint8_t *) s->inbuf;
        s->gz->st.avail_in = (uint32_t) s->pending;
        s->pending = 0;
        return 0;
}
#else
struct isal_gzip {
        char unused;
};

static ssize_t gz_decompress(struct layer_stream *s, char *buf)
{
        (void) buf;
        return herror_set(&s->perr, EOPNOTSUPP, "layer: built without ISA-L"), -1;
}

static int gz_open(struct layer_stream *s, struct herror *err)
{
        (void) s;
        return herror_set(err, EOPNOTSUPP, "layer: built without ISA-L");
}
#endif

static ssize_t decompress(struct layer_stream *s, char *buf)
{
        if (s->gz)
                return gz_decompress(s, buf);
        la_ssize_t n = archive_read_data(s->raw, buf, STREAM_BLOCK_SIZE);
        if (n < 0)
                herror_set(&s->perr, EBADMSG, "layer: decompression failed: %s",
                           archive_error_string(s->raw) ? archive_error_string(s->raw) : "unknown error");
        return n;
}

/* Decompress one block into buf, hash it, watch the ratio. Bytes, 0 at the end, -1 with s->perr set. */
static ssize_t produce(struct layer_stream *s, char *buf)
{
        ssize_t n = decompress(s, buf);
        if (n < 0)
                return -1;
        if (sha256_stream_update(&s->hash, buf, (size_t) n, &s->perr) < 0)
                return -1;
        s->uncompressed += (uint64_t) n;
        const struct unpack_limits *l = &s->opts->limits;
        /* The check runs on every block, so a bomb is stopped after at most grace + one ratio's worth
         * of output, however well it compresses. */
        if (l->max_ratio && s->uncompressed > l->ratio_grace && s->uncompressed / l->max_ratio > s->compressed) {
                herror_set(&s->perr, EFBIG,
                           "layer: expands more than %llu times (%llu bytes from %llu compressed): refused as a "
                           "decompression bomb",
                           (unsigned long long) l->max_ratio, (unsigned long long) s->uncompressed,
                           (unsigned long long) s->compressed);
                return -1;
        }
        return n;
}

/* Fill the free block at tail (the lock is not held while decompressing: only this thread writes there). */
static bool produce_next(struct layer_stream *s)
{
        char *buf = s->block[s->tail % STREAM_BLOCKS];
        ssize_t n = produce(s, buf);
        pthread_mutex_lock(&s->lock);
        if (n > 0) {
                s->len[s->tail % STREAM_BLOCKS] = (size_t) n;
                s->tail++;
        } else if (n == 0)
                s->eof = true;
        else
                s->failed = true;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        return n > 0;
}

static void *producer_main(void *arg)
{
        struct layer_stream *s = arg;
        for (;;) {
                pthread_mutex_lock(&s->lock);
                while (s->tail - s->head == STREAM_BLOCKS && !s->cancel)
                        pthread_cond_wait(&s->cond, &s->lock);
                bool stop = s->cancel;
                pthread_mutex_unlock(&s->lock);
                if (stop || !produce_next(s))
                        return NULL;
        }
}

static int open_raw(struct layer_stream *s, struct herror *err)
{
        s->raw = archive_read_new();
        if (!s->raw)
                return herror_set(err, ENOMEM, "layer: out of memory");
        /* Only built-in decoders: an external gzip/zstd program (ARCHIVE_WARN) would need exec, which
         * the sandboxed unpacker does not have. Compression is detected from the bytes, as c/image does;
         * the blob digest already binds the content to the manifest. */
        if (archive_read_support_filter_gzip(s->raw) != ARCHIVE_OK ||
            archive_read_support_filter_zstd(s->raw) != ARCHIVE_OK)
                return herror_set(err, EOPNOTSUPP, "layer: libarchive has no built-in gzip and zstd support");
        if (archive_read_support_format_raw(s->raw) != ARCHIVE_OK ||
            archive_read_open2(s->raw, s, NULL, raw_read_cb, NULL, NULL) != ARCHIVE_OK)
                return herror_set(err, EBADMSG, "layer: %s",
                                  archive_error_string(s->raw) ? archive_error_string(s->raw) : "cannot be read");
        struct archive_entry *e;
        int r = archive_read_next_header(s->raw, &e);
        if (r == ARCHIVE_EOF)
                return herror_set(err, EBADMSG, "layer: empty blob");
        if (r < ARCHIVE_WARN)
                return herror_set(err, EBADMSG, "layer: %s",
                                  archive_error_string(s->raw) ? archive_error_string(s->raw) : "cannot be read");
        return 0;
}

/* The first bytes of the blob, to tell gzip from the rest; they are given to the decoder first. */
static int peek_blob(struct layer_stream *s, struct herror *err)
{
        while (s->pending < GZIP_HEADER_MIN) {
                ssize_t n = read_blob(s, s->inbuf + s->pending, READ_SIZE - s->pending);
                if (n < 0)
                        return herror_sys(err, errno, "layer: read the blob");
                if (n == 0)
                        break;
                s->pending += (size_t) n;
        }
        return 0;
}

/* HUTCH_INFLATE=auto (default: ISA-L for gzip where it loads, else libarchive), isal (refuse without
 * it), libarchive (never ISA-L): the last two let tests and bench/ compare both decoders. */
static int choose_decoder(struct layer_stream *s, bool *ret_isal, struct herror *err)
{
        const char *want = secure_getenv("HUTCH_INFLATE");
        if (want && !*want)
                want = NULL;
        if (want && !streq(want, "auto") && !streq(want, "isal") && !streq(want, "libarchive"))
                return herror_set(err, EINVAL, "HUTCH_INFLATE=%s: expected auto, isal or libarchive", want);
        *ret_isal = false;
        if (!is_gzip(s->inbuf, s->pending) || (want && streq(want, "libarchive")))
                return 0;
        _cleanup_herror_ struct herror why = HERROR_INIT;
        if (isal_dl_load(&why))
                *ret_isal = true;
        else if (want && streq(want, "isal"))
                return herror_set(err, EOPNOTSUPP, "HUTCH_INFLATE=isal: %s", herror_msg(&why));
        return 0;
}

int layer_stream_open(int fd, const struct unpack_options *opts, struct layer_stream **ret, struct herror *err)
{
        struct layer_stream *s = calloc(1, sizeof *s);
        if (!s)
                return herror_set(err, ENOMEM, "layer: out of memory");
        *s = (struct layer_stream) { .fd = fd, .opts = opts, .perr = HERROR_INIT };
        pthread_mutex_init(&s->lock, NULL);
        pthread_cond_init(&s->cond, NULL);
        int r = sha256_stream_init(&s->hash, err);
        s->inbuf = malloc(READ_SIZE);
        for (size_t i = 0; i < STREAM_BLOCKS; i++)
                s->block[i] = malloc(STREAM_BLOCK_SIZE);
        for (size_t i = 0; r == 0 && i < STREAM_BLOCKS; i++)
                if (!s->block[i])
                        r = herror_set(err, ENOMEM, "layer: out of memory");
        if (r == 0 && !s->inbuf)
                r = herror_set(err, ENOMEM, "layer: out of memory");
        bool isal = false;
        if (r == 0)
                r = peek_blob(s, err);
        if (r == 0)
                r = choose_decoder(s, &isal, err);
        if (r == 0)
                r = isal ? gz_open(s, err) : open_raw(s, err);
        if (r < 0) {
                layer_stream_free(s);
                return r;
        }
        /* Without a thread (none allowed here, or none left) the reader produces each block itself. */
        s->threaded = pthread_create(&s->thread, NULL, producer_main, s) == 0;
        *ret = s;
        return 0;
}

ssize_t layer_stream_next(struct layer_stream *s, const void **ret_buf, struct herror *err)
{
        pthread_mutex_lock(&s->lock);
        if (s->held) {
                s->head++;
                s->held = false;
                pthread_cond_broadcast(&s->cond);
        }
        for (;;) {
                if (s->head < s->tail || s->eof || s->failed)
                        break;
                if (!s->threaded) {
                        pthread_mutex_unlock(&s->lock);
                        produce_next(s);
                        pthread_mutex_lock(&s->lock);
                        continue;
                }
                pthread_cond_wait(&s->cond, &s->lock);
        }
        ssize_t n = 0;
        if (s->head < s->tail) {
                *ret_buf = s->block[s->head % STREAM_BLOCKS];
                n = (ssize_t) s->len[s->head % STREAM_BLOCKS];
                s->held = true;
        } else if (s->failed)
                n = -1;
        pthread_mutex_unlock(&s->lock);
        if (n < 0)
                herror_set(err, s->perr.errnum, "%s", herror_msg(&s->perr));
        return n;
}

static void stop_thread(struct layer_stream *s)
{
        if (!s->threaded)
                return;
        pthread_mutex_lock(&s->lock);
        s->cancel = true;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->thread, NULL);
        s->threaded = false;
}

int layer_stream_finish(struct layer_stream *s, struct digest *ret_diff_id, uint64_t *ret_compressed,
                        uint64_t *ret_uncompressed, struct herror *err)
{
        const void *buf;
        ssize_t n;
        while ((n = layer_stream_next(s, &buf, err)) > 0)
                ;
        stop_thread(s);
        if (n < 0)
                return -err->errnum;
        *ret_compressed = s->compressed;
        *ret_uncompressed = s->uncompressed;
        return sha256_stream_final(&s->hash, ret_diff_id, err);
}

void layer_stream_free(struct layer_stream *s)
{
        if (!s)
                return;
        stop_thread(s);
        if (s->raw)
                archive_read_free(s->raw);
        free(s->gz);
        sha256_stream_done(&s->hash);
        for (size_t i = 0; i < STREAM_BLOCKS; i++)
                free(s->block[i]);
        free(s->inbuf);
        herror_clear(&s->perr);
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->cond);
        free(s);
}
