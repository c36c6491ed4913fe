/* Shared inside src/trust/ only (OpenSSL does not leave this directory): scope-bound cleanup for the
 * OpenSSL objects used here (cleanup.h's conventions) and PEM reading. */
#pragma once

#include <stddef.h>

#include "util/cleanup.h"
#include "util/crypto-dl.h"
#include "util/error.h"

static inline void bio_freep(BIO **b)
{
        BIO_free(*b);
}
static inline void pkey_freep(EVP_PKEY **k)
{
        EVP_PKEY_free(*k);
}
static inline void md_ctx_freep(EVP_MD_CTX **c)
{
        EVP_MD_CTX_free(*c);
}
static inline void openssl_freep(void *p)
{
        OPENSSL_free(*(void **) p);
}

/* The single PEM block of pem (at most max bytes; text around it ignored, a second block refused): its
 * label and DER body, both OPENSSL_malloc'd. expected names the block wanted, for messages. */
int trust_pem_read_single(const void *pem, size_t len, size_t max, const char *source, const char *expected,
                          char **ret_name, unsigned char **ret_der, long *ret_der_len, struct herror *err);
