/* ISA-L's inflate (libisal.so.2), loaded with dlopen() when a layer is unpacked, if it is installed.
 *
 * Why: gzip decoding bounds the unpack of a layer (zlib, through libarchive, decodes a 95 MB debootstrap
 * layer in about 1 s of CPU here; ISA-L's igzip in about 0.2 s). It is optional: without it, or with
 * HUTCH_INFLATE=libarchive, layers are decoded by libarchive as before, with the same results.
 * Like libarchive it is loaded rather than linked, so a container launch never maps it, and loaded in
 * the parent of the isolated unpacker, which cannot open files outside its new root. */
#pragma once

#include <stdbool.h>

#include "util/error.h"

#if HAVE_ISAL
#include <isa-l/igzip_lib.h>

#define ISAL_DL_SYMBOLS(X)    \
        X(isal_inflate_init)  \
        X(isal_inflate_reset) \
        X(isal_inflate)

#define ISAL_DL_DECLARE(name) extern __typeof__(name) *dl_##name;
ISAL_DL_SYMBOLS(ISAL_DL_DECLARE)
#undef ISAL_DL_DECLARE
#endif

/* Tries once to load libisal.so.2; later calls give the first answer. False (with the reason in err,
 * when given) if hutch was built without ISA-L's headers or the library is not installed. */
bool isal_dl_load(struct herror *err);
