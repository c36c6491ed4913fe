#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/archive-dl.h"
#include "image/unpack-stream.h"

#define READ_SIZE (256u * 1024)

struct layer_stream {
        int fd;
        const struct unpack_options *opts;
        struct archive *raw; /* format "raw": decompression only */
        char *inbuf;
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

static ssize_t raw_read_cb(struct archive *a, void *userdata, const void **ret_buf)
{
        struct layer_stream *s = userdata;
        ssize_t n;
        do
                n = read(s->fd, s->inbuf, READ_SIZE);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
                archive_set_error(a, errno, "read the layer blob: %s", strerror(errno));
                return -1;
        }
        s->compressed += (uint64_t) n;
        if (s->opts->progress)
                s->opts->progress(s->compressed, s->opts->compressed_size, s->opts->progress_userdata);
        *ret_buf = s->inbuf;
        return n;
}

/* Decompress one block into buf, hash it, watch the ratio. Bytes, 0 at the end, -1 with s->perr set. */
static ssize_t produce(struct layer_stream *s, char *buf)
{
        la_ssize_t n = archive_read_data(s->raw, buf, STREAM_BLOCK_SIZE);
        if (n < 0) {
                herror_set(&s->perr, EBADMSG, "layer: decompression failed: %s",
                           archive_error_string(s->raw) ? archive_error_string(s->raw) : "unknown error");
                return -1;
        }
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
        if (r == 0)
                r = open_raw(s, err);
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
        sha256_stream_done(&s->hash);
        for (size_t i = 0; i < STREAM_BLOCKS; i++)
                free(s->block[i]);
        free(s->inbuf);
        herror_clear(&s->perr);
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->cond);
        free(s);
}
