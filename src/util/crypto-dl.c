#define CRYPTO_DL_IMPLEMENTATION
#include "util/crypto-dl.h"

#include <dlfcn.h>
#include <stdio.h>
#include <unistd.h>

#define CRYPTO_DL_DEFINE(name) __typeof__(name) *dl_##name;
CRYPTO_DL_SYMBOLS(CRYPTO_DL_DEFINE)
#undef CRYPTO_DL_DEFINE

/* The soname of the ABI the headers describe (OpenSSL 3.x keeps it). */
#define LIBCRYPTO_SONAME "libcrypto.so.3"

bool crypto_dl_loaded;

int crypto_dl_load(struct herror *err)
{
        if (crypto_dl_loaded)
                return 0;
        /* RTLD_NODELETE: the pointers stay valid for the life of the process */
        void *h = dlopen(LIBCRYPTO_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
        if (!h)
                return herror_set(err, ELIBACC, "cannot load %s (package libssl3): %s", LIBCRYPTO_SONAME, dlerror());
#define CRYPTO_DL_RESOLVE(name)                                  \
        if (!(dl_##name = (__typeof__(name) *) dlsym(h, #name))) \
                return herror_set(err, ELIBBAD, "%s has no symbol %s: too old?", LIBCRYPTO_SONAME, #name);
        CRYPTO_DL_SYMBOLS(CRYPTO_DL_RESOLVE)
#undef CRYPTO_DL_RESOLVE
        crypto_dl_loaded = true;
        return 0;
}

void crypto_dl_need_slow(void)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        if (crypto_dl_load(&err) == 0)
                return;
        /* a caller inside a cryptographic check cannot be told "no": nothing continues unchecked */
        dprintf(STDERR_FILENO, "hutch: %s\n", herror_msg(&err));
        _exit(125);
}
