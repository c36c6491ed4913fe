/* The uncompressed tar stream of a layer blob, for the tar reader of unpack.c: the blob is read,
 * decompressed (gzip, zstd, or none, told from the bytes by libarchive's built-in decoders), hashed
 * (sha256, the diff_id) and checked against the expansion-ratio limit by a thread of its own, a few
 * blocks ahead of the reader, so that decompression overlaps with the writing of files (which, per entry,
 * is what a layer's unpack spends most of its time on). Where no thread can be started, the same work is
 * done in the caller's thread, block by block. Memory: STREAM_BLOCKS blocks of STREAM_BLOCK_SIZE. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "image/digest.h"
#include "image/unpack.h"
#include "util/error.h"

#define STREAM_BLOCKS 4
#define STREAM_BLOCK_SIZE (512u * 1024)

struct layer_stream;

/* Detects the compression from the first bytes of fd (read from its offset), then starts the thread. */
int layer_stream_open(int fd, const struct unpack_options *opts, struct layer_stream **ret, struct herror *err);
/* The next block: its length (0 at the end of the stream), valid until the next call; -1 with err set. */
ssize_t layer_stream_next(struct layer_stream *s, const void **ret_buf, struct herror *err);
/* Read what the tar reader left (the diff_id covers the whole stream, end-of-archive padding included),
 * wait for the thread and give the totals. */
int layer_stream_finish(struct layer_stream *s, struct digest *ret_diff_id, uint64_t *ret_compressed,
                        uint64_t *ret_uncompressed, struct herror *err);
/* Stops the thread if it still runs. NULL is fine. */
void layer_stream_free(struct layer_stream *s);
